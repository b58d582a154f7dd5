/*
 * dispatch - from a plugin to the adapter operation that serves it, in one
 * place for every command (smelt run, invoke, test, ...):
 *
 *   1. claim: the loaded adapter that claims the plugin (its explicit
 *      `adapter:` key, else its namespace, else its plugin type);
 *   2. init: the adapter's init() once, with the host-service table and a
 *      host context the caller provides (struct dispatch_host);
 *   3. request: the struct smelt_request of the operation;
 *   4. call: the operation that serves the request's kind.
 *
 * The caller (run/runtime.c) owns the loader, the service table and the
 * host contexts; nothing here keeps state of its own.  Not thread-safe
 * (like the loader).
 */
#ifndef SMELT_ADAPTERS_DISPATCH_H
#define SMELT_ADAPTERS_DISPATCH_H

#include "adapters/loader.h"

#include <smelt/sdk.h>
#include <stddef.h>

struct plugin;

/* What init() needs from the caller. */
struct dispatch_host {
	const struct smelt_host_api *api; /* lent to every adapter (borrowed) */
	/* A new host context for adapter a, owned by owner (freed when owner ends). */
	void *(*new_hctx)(void *owner, struct loaded_adapter *a);
	void *owner;
};

/*
 * The adapter that claims pl, whose namespace is ns (plugin_namespace()).
 * NULL with err filled (SMELT_ERR_NOTFOUND) when none does: "no adapter
 * claims plugin 'x' (extractor, namespace 'y'); see 'smelt adapters list'",
 * or "plugin 'x' names adapter 'y', which is not loaded ..." for an
 * explicit `adapter:`.  Borrowed from l.
 */
struct loaded_adapter *dispatch_claim(struct loader *l, const struct plugin *pl, const char *ns, char *err,
                                      size_t errlen);

/*
 * init() a (once: nothing when already initialised) with h's service table
 * and a new host context.  0, or the adapter's negative status with err =
 * "adapter 'x': init: <its message>".
 */
int dispatch_init(struct loaded_adapter *a, const struct dispatch_host *h, char *err, size_t errlen);

/* dispatch_claim() then dispatch_init(): the adapter ready to serve pl, or NULL with err filled. */
struct loaded_adapter *dispatch_adapter_for(struct loader *l, const struct dispatch_host *h, const struct plugin *pl,
                                            const char *ns, char *err, size_t errlen);

/*
 * A request of kind for plugins[0..n) (one plugin, or an EL block's
 * extractor, mappers and loader), every other field zero: the caller sets
 * what the kind takes (command, args, state_id, flags, ...).  The request
 * borrows plugins.
 */
struct smelt_request dispatch_request(enum smelt_request_kind kind, struct plugin *const *plugins, size_t n);

/*
 * The operation of a that serves kind: run_block (EL, COMMAND), invoke
 * (INVOKE, DUMP), test (TEST), export_schedules (EXPORT), select (SELECT,
 * ABI 1.2); 1 when a has it, 0 when not (the adapter
 * does not implement it yet) or for another kind.
 */
int dispatch_has_op(const struct loaded_adapter *a, enum smelt_request_kind kind);

/*
 * 0 when a has the operation that serves kind; else SMELT_ERR_UNSUPPORTED
 * with err = "adapter 'x': <op>: not implemented yet".
 */
int dispatch_check_op(const struct loaded_adapter *a, enum smelt_request_kind kind, char *err, size_t errlen);

/*
 * Call the operation of a that serves req->kind.  *tool_code (may be NULL)
 * receives the tool's exit code of an invoke (0 otherwise).  Returns the
 * adapter's status (err filled by it); SMELT_ERR_UNSUPPORTED with err =
 * "adapter 'x': <op>: not implemented yet" when a lacks the operation.
 */
int dispatch_call(struct loaded_adapter *a, const struct smelt_request *req, int *tool_code, char *err,
                  size_t errlen);

/*
 * Call the operation of a that answers req->kind with a JSON reply (select):
 * *reply is the adapter's text, allocated with the host's alloc (free()),
 * NULL on failure.  Statuses as dispatch_call().
 */
int dispatch_call_reply(struct loaded_adapter *a, const struct smelt_request *req, char **reply, char *err,
                        size_t errlen);

#endif

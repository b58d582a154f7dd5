/* dispatch: from a plugin to its adapter's operation; see dispatch.h. */
#include "adapters/dispatch.h"
#include "project/project.h"
#include "util/log.h"

struct loaded_adapter *dispatch_claim(struct loader *l, const struct plugin *pl, const char *ns, char *err,
                                      size_t errlen)
{
	uint32_t bit = loader_type_bit(plugin_type_plural(pl->type));
	struct loaded_adapter *a = loader_claim(l, pl->adapter, ns, bit);
	if (a)
		return a;
	if (pl->adapter)
		fail(err, errlen, SMELT_ERR_NOTFOUND,
		     "plugin '%s' names adapter '%s', which is not loaded (see 'smelt adapters list')", pl->name,
		     pl->adapter);
	else
		fail(err, errlen, SMELT_ERR_NOTFOUND,
		     "no adapter claims plugin '%s' (%s, namespace '%s'); see 'smelt adapters list'", pl->name,
		     plugin_type_singular(pl->type), ns);
	return NULL;
}

int dispatch_init(struct loaded_adapter *a, const struct dispatch_host *h, char *err, size_t errlen)
{
	if (a->initialised)
		return SMELT_OK;
	void *hctx = h->new_hctx(h->owner, a);
	char aerr[SMELT_ERRBUF_SIZE] = "";
	int rc = a->desc->init(h->api, hctx, &a->state, aerr, sizeof aerr);
	if (rc != SMELT_OK)
		return fail(err, errlen, rc, "adapter '%s': init: %s", a->desc->name, aerr[0] ? aerr : smelt_strerror(rc));
	a->initialised = 1;
	a->hctx = hctx;
	return SMELT_OK;
}

struct loaded_adapter *dispatch_adapter_for(struct loader *l, const struct dispatch_host *h, const struct plugin *pl,
                                            const char *ns, char *err, size_t errlen)
{
	struct loaded_adapter *a = dispatch_claim(l, pl, ns, err, errlen);
	return a && dispatch_init(a, h, err, errlen) == SMELT_OK ? a : NULL;
}

struct smelt_request dispatch_request(enum smelt_request_kind kind, struct plugin *const *plugins, size_t n)
{
	return (struct smelt_request){
		.struct_size = sizeof(struct smelt_request),
		.kind = kind,
		.plugins = (const struct smelt_plugin *const *)plugins,
		.nplugins = n,
	};
}

int dispatch_has_op(const struct loaded_adapter *a, enum smelt_request_kind kind)
{
	switch (kind) {
	case SMELT_REQ_EL:
	case SMELT_REQ_COMMAND: return a->desc->run_block != NULL;
	case SMELT_REQ_INVOKE:
	case SMELT_REQ_DUMP: return a->desc->invoke != NULL;
	case SMELT_REQ_TEST: return a->desc->test != NULL;
	case SMELT_REQ_EXPORT: return a->desc->export_schedules != NULL;
	case SMELT_REQ_SELECT: return SMELT_HAS(a->desc, struct smelt_adapter, select) && a->desc->select != NULL;
	default: return 0;
	}
}

static const char *op_name(enum smelt_request_kind kind)
{
	switch (kind) {
	case SMELT_REQ_EL:
	case SMELT_REQ_COMMAND: return "run_block";
	case SMELT_REQ_INVOKE:
	case SMELT_REQ_DUMP: return "invoke";
	case SMELT_REQ_TEST: return "test";
	case SMELT_REQ_SYNC: return "sync";
	case SMELT_REQ_EXPORT: return "export_schedules";
	case SMELT_REQ_SELECT: return "select";
	}
	return "?";
}

int dispatch_check_op(const struct loaded_adapter *a, enum smelt_request_kind kind, char *err, size_t errlen)
{
	if (dispatch_has_op(a, kind))
		return SMELT_OK;
	return fail(err, errlen, SMELT_ERR_UNSUPPORTED, "adapter '%s': %s: not implemented yet", a->desc->name,
	            op_name(kind));
}

int dispatch_call(struct loaded_adapter *a, const struct smelt_request *req, int *tool_code, char *err,
                  size_t errlen)
{
	int code = 0;
	if (tool_code)
		*tool_code = 0;
	int rc = dispatch_check_op(a, req->kind, err, errlen);
	if (rc)
		return rc;
	switch (req->kind) {
	case SMELT_REQ_EL:
	case SMELT_REQ_COMMAND: return a->desc->run_block(a->state, req, err, errlen);
	case SMELT_REQ_INVOKE:
	case SMELT_REQ_DUMP: {
		rc = a->desc->invoke(a->state, req, &code, err, errlen);
		if (tool_code)
			*tool_code = code;
		return rc;
	}
	case SMELT_REQ_TEST: return a->desc->test(a->state, req, err, errlen);
	case SMELT_REQ_EXPORT: return a->desc->export_schedules(a->state, req, err, errlen);
	default: return SMELT_ERR_UNSUPPORTED; /* not reached, or an operation with a reply: dispatch_call_reply() */
	}
}

int dispatch_call_reply(struct loaded_adapter *a, const struct smelt_request *req, char **reply, char *err,
                        size_t errlen)
{
	*reply = NULL;
	int rc = dispatch_check_op(a, req->kind, err, errlen);
	if (rc)
		return rc;
	if (req->kind == SMELT_REQ_SELECT)
		return a->desc->select(a->state, req, reply, err, errlen);
	return fail(err, errlen, SMELT_ERR_UNSUPPORTED, "adapter '%s': %s: has no reply", a->desc->name,
	            op_name(req->kind));
}

/*
 * smelt serve: the project's HTTP API (serve/serve.h), until SIGINT or
 * SIGTERM.
 */
#include "cli/commands.h"
#include "project/project.h"
#include "serve/serve.h"
#include "settings/system_db.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <stdlib.h>
#include <string.h>

enum serve_opt { SERVE_LISTEN, SERVE_UNSAFE, SERVE_CERT, SERVE_KEY, SERVE_INSECURE, SERVE_NICE, SERVE_SCHED, SERVE_BUSY_CPU };

static const struct cli_option serve_options[] = {
	{ SERVE_LISTEN, "--listen", 0, "HOST:PORT", "address to listen on (default 127.0.0.1:5000)", 0, NULL },
	{ SERVE_UNSAFE, "--allow-unsafe", 0, NULL, "let callers see sensitive values with ?unsafe=true", 0, NULL },
	{ SERVE_CERT, "--tls-cert", 0, "FILE", "PEM certificate: serve HTTPS (with --tls-key)", 0, NULL },
	{ SERVE_KEY, "--tls-key", 0, "FILE", "PEM private key", 0, NULL },
	{ SERVE_INSECURE, "--insecure", 0, NULL, "allow plain HTTP on a non-loopback address", 0, NULL },
	{ SERVE_NICE, "--nice", 0, "N", "priority of requests below runs (nice 0-19, default 10)", 0, NULL },
	{ SERVE_BUSY_CPU, "--busy-cpu", 0, "PCT", "while its runs go, requests take at most PCT% of a CPU (default 5)",
	  0, NULL },
	{ SERVE_SCHED, "--sched", 0, "POLICY", "requests' policy: idle (default: CPU the runs leave) or normal", 0,
	  NULL },
	{ 0 },
};

const struct cli_spec serve_spec = {
	.name = "serve",
	.usage = "smelt serve [--listen HOST:PORT] [--allow-unsafe] [--insecure] [--tls-cert FILE --tls-key FILE]\n"
	         "            [--nice N] [--sched idle|normal] [--busy-cpu PCT]",
	.text = "Serves the project's HTTP API under /api/v1 (the OpenAPI document is at\n"
	        "/api/v1/openapi.json), the web UI at /, and GET /health.  Every API request\n"
	        "needs 'Authorization: Bearer TOKEN': $SMELT_SERVE_TOKEN, else the token in\n"
	        ".smelt/serve.token (made on first start, mode 0600).\n",
	.options = serve_options,
	.notes = "Runs started through the API are 'smelt run' processes in their own process\n"
	         "group, recorded like any run (smelt runs list).  Stopping the server leaves\n"
	         "them running to their end; they record their own result.  The server answers\n"
	         "requests at a lower priority than its runs (--nice, and --sched idle: only on\n"
	         "CPU time the runs leave) and, while runs it started go, within --busy-cpu\n"
	         "percent of one CPU (requests wait their turn), so clients slow it, not them.\n",
	.examples = "  smelt serve                            the API on 127.0.0.1:5000\n"
	            "  smelt serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem\n",
};

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	struct serve_opts o = { .nice = 10, .idle = 1, .busy_cpu = 5 };
	int r;
	for (int i = 1; i < argc; i++) {
		const char *v;
		switch (cli_opt_next(&serve_spec, NULL, argc, argv, &i, &v)) {
		case SERVE_LISTEN: o.listen = v; break;
		case SERVE_UNSAFE: o.allow_unsafe = 1; break;
		case SERVE_CERT: o.tls_cert = v; break;
		case SERVE_KEY: o.tls_key = v; break;
		case SERVE_INSECURE: o.insecure = 1; break;
		case SERVE_NICE: {
			char *end;
			long n = strtol(v, &end, 10);
			if (!*v || *end || n < 0 || n > 19)
				return cli_usage("serve", "--nice must be a whole number from 0 to 19, not '%s'", v);
			o.nice = (int)n;
			break;
		}
		case SERVE_SCHED:
			if (strcmp(v, "idle") && strcmp(v, "normal"))
				return cli_usage("serve", "--sched must be idle or normal, not '%s'", v);
			o.idle = !strcmp(v, "idle");
			break;
		case SERVE_BUSY_CPU: {
			char *end;
			long n = strtol(v, &end, 10);
			if (!*v || *end || n < 1 || n > 100)
				return cli_usage("serve", "--busy-cpu must be a whole number from 1 to 100, not '%s'", v);
			o.busy_cpu = (int)n;
			break;
		}
		case CLI_OPT_HELP: cli_help_print(stdout, &serve_spec); return EXIT_OK;
		case CLI_OPT_ERROR: return EXIT_USAGE;
		case CLI_OPT_ARG: return cli_usage("serve", "smelt serve takes no arguments, not '%s'", argv[i]);
		default: return cli_opt_unknown(&serve_spec, NULL, argv[i]);
		}
	}
	struct project *p;
	if ((r = project_open_cli(cli, ENV_DEFAULT_OR_NONE, &p)) != 0)
		return r;
	char *pg_uri = NULL, uerr[SMELT_ERRBUF_SIZE];
	if (settings_system_db_uri(p, &pg_uri, uerr, sizeof uerr)) { /* a shared history when it names PostgreSQL */
		project_free(p);
		return cli_fail("%s", uerr);
	}
	char *bindir = path_dirname(cli->paths.exe);
	char *data = xasprintf("%s/../share/smelt", bindir);
	char *real = realpath(data, NULL);
	o.exe = cli->paths.exe;
	o.root = p->root;
	o.file = p->file;
	o.env_file = cli->env_file;
	o.environment = cli->environment;
	o.no_environment = cli->no_environment;
	o.sys_dir = p->sys_dir;
	o.database_uri = pg_uri;
	o.data_dir = real ? real : data;
	char err[SMELT_ERRBUF_SIZE * 2];
	int rc = serve_run(&o, err, sizeof err);
	free(real);
	free(data);
	free(bindir);
	free(pg_uri);
	project_free(p);
	if (rc)
		return rc == SMELT_ERR_CONFIG ? cli_usage("serve", "%s", err) : cli_fail("%s", err);
	return EXIT_OK;
}

/*
 * smelt serve: the project's HTTP API (serve/serve.h), until SIGINT or
 * SIGTERM.
 */
#include "cli/commands.h"
#include "project/project.h"
#include "serve/serve.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <smelt/sdk.h>
#include <stdlib.h>
#include <string.h>

static const char serve_usage[] =
	"usage: smelt serve [--listen HOST:PORT] [--allow-unsafe] [--insecure]\n"
	"                   [--tls-cert FILE --tls-key FILE]\n\n"
	"Serves the project's HTTP API under /api/v1 (the OpenAPI document is at\n"
	"/api/v1/openapi.json) and GET /health.  Every request but /health needs\n"
	"'Authorization: Bearer TOKEN': $SMELT_SERVE_TOKEN, else the token in\n"
	".smelt/serve.token (made on first start, mode 0600).\n\n"
	"Options:\n"
	"  --listen HOST:PORT   address to listen on (default 127.0.0.1:5000)\n"
	"  --allow-unsafe       let callers see sensitive values with ?unsafe=true\n"
	"  --tls-cert FILE      PEM certificate: serve HTTPS (with --tls-key)\n"
	"  --tls-key FILE       PEM private key\n"
	"  --insecure           allow plain HTTP on a non-loopback address\n\n"
	"Runs started through the API are 'smelt run' processes in their own process\n"
	"group, recorded like any run (smelt runs list).  Stopping the server leaves\n"
	"them running to their end; they record their own result.\n";

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	struct serve_opts o = { 0 };
	int r;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(serve_usage, stdout);
			return EXIT_OK;
		}
		if (cli_opt_flag(argv[i], "--allow-unsafe"))
			o.allow_unsafe = 1;
		else if (cli_opt_flag(argv[i], "--insecure"))
			o.insecure = 1;
		else if ((r = cli_opt_value(argc, argv, &i, "--listen", &o.listen)) != 0 ||
		         (r = cli_opt_value(argc, argv, &i, "--tls-cert", &o.tls_cert)) != 0 ||
		         (r = cli_opt_value(argc, argv, &i, "--tls-key", &o.tls_key)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
		} else if (argv[i][0] == '-') {
			return cli_unknown_option("serve", argv[i]);
		} else {
			return cli_usage("serve", "smelt serve takes no arguments, not '%s'", argv[i]);
		}
	}
	struct project *p;
	if ((r = project_open_cli(cli, ENV_DEFAULT_OR_NONE, &p)) != 0)
		return r;
	char *bindir = path_dirname(cli->exe);
	char *data = xasprintf("%s/../share/smelt", bindir);
	char *real = realpath(data, NULL);
	o.exe = cli->exe;
	o.root = p->root;
	o.file = p->file;
	o.env_file = cli->env_file;
	o.environment = cli->environment;
	o.no_environment = cli->no_environment;
	o.sys_dir = p->sys_dir;
	o.data_dir = real ? real : data;
	char err[SMELT_ERRBUF_SIZE * 2];
	int rc = serve_run(&o, err, sizeof err);
	free(real);
	free(data);
	free(bindir);
	project_free(p);
	if (rc)
		return rc == SMELT_ERR_CONFIG ? cli_usage("serve", "%s", err) : cli_fail("%s", err);
	return EXIT_OK;
}

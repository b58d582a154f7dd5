/* meltano_venv: see meltano_venv.h. */
#include "install/meltano_venv.h"
#include "install/install.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *meltano_venv_find(const char *project_root, const char *type_plural, const char *venv_name,
                        const char *pip_url, const char *python)
{
	if (!pip_url || !*pip_url || strchr(pip_url, '$') || (python && *python))
		return NULL;
	const char *sys = getenv("MELTANO_SYS_DIR_ROOT");
	char *sys_dir = path_join(project_root, sys && *sys ? sys : ".meltano");
	char *dir = xasprintf("%s/%s/%s", sys_dir, type_plural, venv_name);
	char *venv = path_join(dir, "venv");
	char *fp_path = path_join(venv, ".meltano_plugin_fingerprint"); /* Meltano keeps it inside the venv */
	char *py = path_join(venv, "bin/python");
	struct strbuf have = STRBUF_INIT;
	int match = 0;
	if (read_file(fp_path, &have) == 0 && access(py, X_OK) == 0) {
		char *want = install_fingerprint(pip_url, NULL);
		strbuf_trim(&have);
		match = !strcmp(have.buf, want);
		free(want);
	}
	strbuf_release(&have);
	free(py);
	free(fp_path);
	free(dir);
	free(sys_dir);
	if (!match) {
		free(venv);
		return NULL;
	}
	return venv;
}

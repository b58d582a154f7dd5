/*
 * meltano_venv - reusing the virtualenvs Meltano already installed
 * (`.meltano/<type>/<name>/venv` holding `.meltano_plugin_fingerprint`,
 * MELTANO.md section 11), so switching to smelt does not reinstall every
 * plugin (which fails offline).
 */
#ifndef SMELT_INSTALL_MELTANO_VENV_H
#define SMELT_INSTALL_MELTANO_VENV_H

/*
 * Meltano's venv folder for a plugin (<root>/<MELTANO_SYS_DIR_ROOT or
 * .meltano>/<type_plural>/<venv_name>/venv) when Meltano's fingerprint file
 * inside it equals install_fingerprint(pip_url, NULL) and the venv has an
 * executable bin/python; else NULL.  A pip_url with a '$' (expanded at
 * install time) or a plugin with its own python is never matched.
 * Caller frees.
 */
char *meltano_venv_find(const char *project_root, const char *type_plural, const char *venv_name,
                        const char *pip_url, const char *python);

#endif

/* project/edit: comment-preserving edits of the project files and saving them; see project.h. */
#include "project/project.h"
#include "project/yaml_doc.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/names.h"
#include "util/strbuf.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>


/* ---- edits ------------------------------------------------------------------------ */

struct project_file *project_file_of(struct project *p, const struct src_pos *pos)
{
	return pos && pos->file ? pos->file : p->files[0];
}

int project_edit_set(struct project *p, struct project_file *f, const char *const *path, size_t n,
                     const cJSON *value, char *err, size_t errlen)
{
	if (!f)
		f = p->files[0];
	int rc = yedit_set(f->text, f->rel, path, n, value, err, errlen);
	if (rc == 0)
		f->dirty = 1;
	return rc;
}

int project_edit_unset(struct project *p, struct project_file *f, const char *const *path, size_t n, char *err,
                       size_t errlen)
{
	if (!f)
		f = p->files[0];
	int rc = yedit_unset(f->text, f->rel, path, n, err, errlen);
	if (rc == 0)
		f->dirty = 1;
	return rc;
}

int project_edit_append(struct project *p, struct project_file *f, const char *const *path, size_t n,
                        const cJSON *value, char *err, size_t errlen)
{
	if (!f)
		f = p->files[0];
	int rc = yedit_append(f->text, f->rel, path, n, value, err, errlen);
	if (rc == 0)
		f->dirty = 1;
	return rc;
}

int project_save(struct project *p, char *err, size_t errlen)
{
	/* the model is rebuilt from the edited texts first: a file that does not load (or a lack of
	 * memory while reading it) fails the edit before anything is written */
	int rc = project_reload(p, err, errlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < p->nfiles; i++) {
		struct project_file *f = p->files[i];
		struct stat st;
		if (!f->dirty)
			continue;
		mode_t mode = stat(f->path, &st) == 0 ? (st.st_mode & 07777) : 0644;
		if (write_file_atomic(f->path, f->text->buf, f->text->len, mode) < 0)
			return fail(err, errlen, SMELT_ERR, "cannot write '%s': %s", f->path, strerror(errno));
		f->dirty = 0;
	}
	return 0;
}

int project_add_plugin(struct project *p, enum plugin_type type, const cJSON *entry, char *err, size_t errlen)
{
	const char *path[] = { "plugins", plugin_type_plural(type) };
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "name");
	if (!cJSON_IsString(name))
		return fail(err, errlen, SMELT_ERR, "a plugin entry needs a name");
	if (project_find_plugin(p, (int)type, name->valuestring))
		return fail(err, errlen, SMELT_ERR_CONFIG, "%s '%s' is already in %s", plugin_type_singular(type),
		            name->valuestring, p->file_name);
	return project_edit_append(p, p->files[0], path, 2, entry, err, errlen);
}

int project_remove_plugin(struct project *p, struct plugin *pl, char *err, size_t errlen)
{
	char *sel = xasprintf("[name=%s]", pl->name);
	const char *path[] = { "plugins", plugin_type_plural(pl->type), sel };
	int rc = project_edit_unset(p, project_file_of(p, &pl->pos), path, 3, err, errlen);
	free(sel);
	if (rc == 1)
		rc = fail(err, errlen, SMELT_ERR, "%s '%s' not found in its file", plugin_type_singular(pl->type), pl->name);
	return rc;
}

/*
 * smelt config: list, print, set, unset or reset a plugin's settings (or
 * the project's: plugin name `smelt` or `meltano`), as Meltano v4 does
 * (MELTANO.md §3-§4).  `smelt config SUB PLUGIN` and, for convenience,
 * `smelt config PLUGIN SUB`; `smelt config PLUGIN` prints.  Values are
 * shown as JSON, the form `config set` takes back (not Meltano's Python
 * reprs); `list` groups the required settings first.
 */
#include "cli/commands.h"
#include "hub/hub.h"
#include "hub/project_hub.h"
#include "project/project.h"
#include "settings/required.h"
#include "settings/settings.h"
#include "util/suggest.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REDACTED_LIST "(redacted)"
#define REDACTED_PRINT "*****"

static const char *const subcommands[] = { "list", "print", "set", "unset", "reset", "test", NULL };

static int is_sub(const char *s)
{
	for (int i = 0; subcommands[i]; i++)
		if (!strcmp(s, subcommands[i]))
			return 1;
	return 0;
}

enum config_opt {
	CONFIG_FORMAT, CONFIG_STORE, CONFIG_UNSAFE, CONFIG_SAFE, CONFIG_EXTRAS, CONFIG_TYPE, CONFIG_FROM_FILE,
	CONFIG_YES, CONFIG_ALL, CONFIG_INTERACTIVE,
};

static const struct cli_option config_options[] = {
	{ CONFIG_FORMAT, "--format", 0, "text|json|env", "output format (list: text, print: json)", 0, NULL },
	{ CONFIG_STORE, "--store", 0, "auto|yml|meltano_yml|dotenv|db", "where set/unset/reset write (default auto)", 0,
	  NULL },
	{ CONFIG_UNSAFE, "--unsafe", 0, NULL, "show sensitive values (default: redacted)", 0, NULL },
	{ CONFIG_SAFE, "--safe", 0, NULL, "redact sensitive values (the default)", 0, NULL },
	{ CONFIG_EXTRAS, "--extras", 0, NULL, "show only the extras (_select, ...)", 0, NULL },
	{ CONFIG_TYPE, "--plugin-type", 0, "TYPE", "when a name is used by plugins of several types", 0, NULL },
	{ CONFIG_FROM_FILE, "--from-file", 0, "FILE|-", "set: read the value from a file or stdin", 0, NULL },
	{ CONFIG_YES, "--yes", 'y', NULL, "reset: do not ask", 0, NULL },
	{ CONFIG_ALL, "--all", 0, NULL, "list every setting (Meltano's; smelt always does)", 0, NULL },
	{ CONFIG_INTERACTIVE, "--interactive", 0, NULL, "not supported: give NAME and VALUE", CLI_OPT_HIDDEN, NULL },
	{ 0 },
};

const struct cli_spec config_spec = {
	.name = "config",
	.usage = "smelt config [OPTIONS] list|print|set|unset|reset PLUGIN [ARGS]\n"
	         "smelt config PLUGIN [list|print|set|unset|reset] [ARGS]",
	.text = "PLUGIN 'smelt' (or 'meltano') means the project's own settings.\n\n"
	        "  list                     each setting: env var names, value and where it comes from\n"
	        "  print                    the resolved configuration (--format json|env)\n"
	        "  set NAME... VALUE        several NAME words or one dotted NAME = nested; _NAME = an extra\n"
	        "  unset NAME...            remove a setting (from every store, or --store)\n"
	        "  reset                    remove all settings and extras (needs --yes)\n",
	.options = config_options,
	.notes = "A value of set may start with '-' once PLUGIN and NAME are given; after '--'\n"
	         "every word is a NAME or the VALUE.\n",
	.examples = "  smelt config list tap-csv              settings, where each value comes from\n"
	            "  smelt config set tap-csv files '[{\"entity\": \"orders\", \"path\": \"data/orders.csv\", \"keys\": [\"id\"]}]'\n"
	            "  smelt config set target-postgres password --from-file -   a secret from stdin, into .env\n"
	            "  smelt config print tap-csv --format env\n",
};

struct opts {
	int format;        /* -1: the subcommand's default */
	int store;
	int unsafe;
	int extras;
	int yes;
	int type;          /* -1: any */
	const char *from_file;
};

/* Should this setting be shown under the --extras rule (only extras with it, none without)? */
static int shown(const struct opts *o, const struct resolved_setting *rs)
{
	return o->extras ? rs->extra : !rs->extra;
}

static const char *plugin_label(const struct plugin *pl)
{
	return pl ? plugin_type_singular(pl->type) : "project";
}

/* A value as config set takes it: JSON, compact (a string keeps its quotes). */
static void json_value(struct strbuf *sb, const cJSON *v)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;
	strbuf_addstr(sb, text ? text : "null");
	free(text);
}

/* One line of the text listing (and its description). */
static void list_line(struct project *p, struct plugin *pl, const struct resolved_setting *rs, const struct opts *o,
                      struct strbuf *sb)
{
	strbuf_reset(sb);
	strbuf_addstr(sb, rs->name);
	strbuf_addstr(sb, " [env: ");
	for (size_t k = 0; k < rs->nenv; k++)
		strbuf_addf(sb, "%s%s", k ? ", " : "", rs->env[k]);
	strbuf_addch(sb, ']');
	if (rs->source != SOURCE_DEFAULT && rs->def->value) {
		strbuf_addstr(sb, " (default: ");
		json_value(sb, rs->def->value);
		strbuf_addch(sb, ')');
	}
	strbuf_addstr(sb, " current value: ");
	int redact = rs->sensitive && !o->unsafe && !cJSON_IsNull(rs->value);
	if (rs->unexpanded && !redact) {
		json_value(sb, rs->unexpanded);
		strbuf_addstr(sb, " (expanded: ");
		json_value(sb, rs->value);
		strbuf_addch(sb, ')');
	} else if (redact) {
		strbuf_addstr(sb, REDACTED_LIST);
	} else {
		json_value(sb, rs->value);
	}
	if (rs->source == SOURCE_DEFAULT)
		strbuf_addstr(sb, " (default)");
	else if (rs->source == SOURCE_INHERITED)
		strbuf_addf(sb, " (inherited from '%s')", pl && pl->parent ? pl->parent->name : "?");
	else
		strbuf_addf(sb, " (from %s)", setting_source_label(rs->source, p));
	printf("%s\n", sb->buf);
	if (rs->def->description)
		printf("\t%s\n", rs->def->description);
}

static int do_list(struct project *p, struct plugin *pl, const struct settings *s, const struct opts *o)
{
	struct strbuf sb = STRBUF_INIT;
	char derr[256];
	const struct definition *def = pl ? project_plugin_def(p, pl, derr, sizeof derr) : NULL;
	int groups = def && cJSON_GetArraySize(def->settings_group_validation) > 0;
	if (o->format == FORMAT_JSON) {
		cJSON *root = cJSON_CreateObject();
		cJSON *arr = cJSON_AddArrayToObject(root, "settings");
		for (size_t i = 0; i < s->n; i++) {
			const struct resolved_setting *rs = &s->items[i];
			if (!shown(o, rs))
				continue;
			cJSON *it = cJSON_CreateObject();
			cJSON_AddStringToObject(it, "name", rs->name);
			if (rs->sensitive && !o->unsafe && !cJSON_IsNull(rs->value))
				cJSON_AddStringToObject(it, "value", REDACTED_LIST);
			else
				cJSON_AddItemToObject(it, "value", cJSON_Duplicate(rs->value, 1));
			cJSON_AddStringToObject(it, "source", setting_source_name(rs->source));
			cJSON *env = cJSON_AddArrayToObject(it, "env");
			for (size_t k = 0; k < rs->nenv; k++)
				cJSON_AddItemToArray(env, cJSON_CreateString(rs->env[k]));
			cJSON_AddBoolToObject(it, "sensitive", rs->sensitive);
			cJSON_AddStringToObject(it, "kind", setting_kind_name(rs->kind));
			cJSON_AddBoolToObject(it, "required", !rs->custom && required_has(def, rs->name));
			cJSON_AddItemToArray(arr, it);
		}
		json_dump(&sb, root, -2);
		cJSON_Delete(root);
		printf("%s\n", sb.buf);
		strbuf_release(&sb);
		return EXIT_OK;
	}
	/*
	 * Groups, as Meltano lists them: the settings its definition requires
	 * (settings_group_validation) first, then the others, then the custom
	 * ones the project made up.
	 */
	for (int group = groups ? 0 : 1; group < 3; group++) {
		int heading = 0;
		for (size_t i = 0; i < s->n; i++) {
			const struct resolved_setting *rs = &s->items[i];
			int g = rs->custom ? 2 : required_has(def, rs->name) ? 0 : 1;
			if (!shown(o, rs) || g != group)
				continue;
			if (!heading && (group == 2 || groups)) {
				static const char *const titles[] = { "Required settings:", "Optional settings:",
				                                      "Custom, possibly unsupported by the plugin:" };
				printf("%s%s%s\n", group ? "\n" : "", titles[group],
				       group == 0 && cJSON_GetArraySize(def->settings_group_validation) > 1
				           ? " (one of its groups must be set in full)" : "");
			}
			heading = 1;
			list_line(p, pl, rs, o, &sb);
		}
	}
	strbuf_release(&sb);
	return EXIT_OK;
}

static void env_quote(struct strbuf *sb, const char *v)
{
	strbuf_addch(sb, '\'');
	for (const char *c = v; *c; c++) {
		if (*c == '\'' || *c == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *c);
	}
	strbuf_addch(sb, '\'');
}

struct env_lines {
	const struct opts *o;
	struct strbuf *sb;
};

static void env_line(void *arg, const struct resolved_setting *rs, const char *name, const char *value)
{
	struct env_lines *l = arg;
	if (!shown(l->o, rs))
		return;
	strbuf_addf(l->sb, "%s=", name);
	env_quote(l->sb, rs->sensitive && !l->o->unsafe ? REDACTED_PRINT : value);
	strbuf_addch(l->sb, '\n');
}

static int do_print(struct project *p, struct plugin *pl, const struct settings *s, const struct opts *o)
{
	struct strbuf sb = STRBUF_INIT;
	if (o->format == FORMAT_ENV) { /* the names Meltano writes (MELTANO_EXTRACT_* too), in its order */
		struct env_lines lines = { o, &sb };
		settings_each_env(p, pl, s, env_line, &lines);
		fputs(sb.buf, stdout);
		putchar('\n'); /* Meltano echoes its dotenv text, which ends with a newline, with one more */
		strbuf_release(&sb);
		return EXIT_OK;
	}
	/* json: only the shown kind (plain settings, or extras with --extras), shaped as Meltano's */
	unsigned flags = (o->unsafe ? 0 : SETTINGS_REDACT) | (o->extras ? SETTINGS_EXTRAS : 0);
	cJSON *cfg = settings_print_json(s, settings_style_of(p, pl), flags);
	json_dump(&sb, cfg, 2);
	cJSON_Delete(cfg);
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
	return EXIT_OK;
}

static int read_value_file(const char *path, struct strbuf *sb)
{
	if (!strcmp(path, "-")) {
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
			strbuf_add(sb, buf, n);
		return 0;
	}
	return read_file(path, sb);
}

static int file_exists_lock(struct project *p, struct plugin *pl)
{
	char *path = project_lock_path(p, pl);
	int ok = file_exists(path);
	free(path);
	return ok;
}

static int find_target(struct project *p, const char *name, int type, struct plugin **pl)
{
	*pl = NULL;
	if (!strcmp(name, "smelt") || !strcmp(name, "meltano"))
		return 0;
	*pl = project_find_plugin(p, type, name);
	if (!*pl)
		return cli_fail("plugin '%s' is not in %s%s%s%s", name, p->file_name, type >= 0 ? " as " : "",
		                type >= 0 ? plugin_type_singular(type) : "", cli_plugin_hint(p, name));
	return 0;
}

/* The words config set takes for a boolean (Meltano's truthy and falsy words). */
static int boolean_word(const char *v)
{
	static const char *const words[] = { "true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n",
	                                     NULL };
	for (int i = 0; words[i]; i++)
		if (!strcasecmp(v, words[i]))
			return 1;
	return 0;
}

/*
 * Before config set writes: a setting the plugin does not define is
 * stored as a custom one, with a warning (and the closest defined name);
 * a boolean setting takes only a boolean word.  Returns 0 or the exit
 * code of a refusal.
 */
static int check_set(struct project *p, struct plugin *pl, const char *name, const char *value)
{
	char err[1024];
	struct settings s;
	if (name[0] == '_' || settings_resolve(p, pl, NULL, 0, &s, err, sizeof err) != 0)
		return 0; /* extras are the plugin type's; a resolve error is reported by the write */
	const struct resolved_setting *rs = settings_find(&s, name);
	int rc = 0;
	if (!rs || rs->custom) {
		/* "a.b" of a defined object setting "a" is that setting's nested key */
		const char *dot = strchr(name, '.');
		char *head = dot ? xstrndup(name, (size_t)(dot - name)) : NULL;
		const struct resolved_setting *parent = head ? settings_find(&s, head) : NULL;
		free(head);
		if (!parent || parent->custom) {
			const char **names = xcalloc(s.n + 1, sizeof *names);
			size_t n = 0;
			for (size_t i = 0; i < s.n; i++)
				if (!s.items[i].custom && !s.items[i].extra)
					names[n++] = s.items[i].name;
			const char *guess = suggest_closest(name, names, n);
			log_warn("setting '%s' is not defined by %s '%s'; it is stored as a custom setting, which the "
			         "plugin may not support%s%s%s",
			         name, plugin_label(pl), pl ? pl->name : "smelt", guess ? " (did you mean '" : "",
			         guess ? guess : "", guess ? "'?)" : "");
			free(names);
		}
	} else if (rs->kind == KIND_BOOLEAN && !boolean_word(value)) {
		rc = cli_fail("setting '%s' is a boolean: use true or false, not '%s'", name, value);
	}
	settings_release(&s);
	return rc;
}

static int do_set(struct project *p, struct plugin *pl, char **words, int nwords, const struct opts *o)
{
	char err[1024];
	struct strbuf name = STRBUF_INIT, val = STRBUF_INIT;
	const char *where = NULL;
	int nnames = o->from_file ? nwords : nwords - 1, rc;
	if (nnames < 1)
		return cli_usage("config", "config set needs a setting name and a value");
	for (int i = 0; i < nnames; i++) {
		if (i)
			strbuf_addch(&name, '.');
		strbuf_addstr(&name, words[i]);
	}
	if (o->from_file) {
		if (read_value_file(o->from_file, &val) < 0) {
			strbuf_release(&name);
			return cli_fail("cannot read '%s'", o->from_file);
		}
		while (val.len && (val.buf[val.len - 1] == '\n' || val.buf[val.len - 1] == '\r'))
			strbuf_setlen(&val, val.len - 1);
	} else {
		strbuf_addstr(&val, words[nwords - 1]);
	}
	/* "\"text\"" as config list prints a string: its JSON form is taken back as the string */
	cJSON *quoted = val.len >= 2 && val.buf[0] == '"' ? cJSON_Parse(val.buf) : NULL;
	if (cJSON_IsString(quoted)) {
		char *text = xstrdup(quoted->valuestring);
		strbuf_reset(&val);
		strbuf_addstr(&val, text);
		free(text);
	}
	cJSON_Delete(quoted);
	if ((rc = check_set(p, pl, name.buf, val.buf)) != 0) {
		strbuf_release(&name);
		strbuf_release(&val);
		return rc;
	}
	char *plname = pl ? xstrdup(pl->name) : NULL;
	int type = pl ? (int)pl->type : -1;
	cJSON *v = xnonnull(cJSON_CreateString(val.buf));
	rc = settings_set(p, pl, name.buf, v, o->store, &where, err, sizeof err);
	cJSON_Delete(v);
	if (rc < 0) {
		free(plname);
		strbuf_release(&name);
		strbuf_release(&val);
		return cli_fail("%s", err);
	}
	xalloc_committed("the setting was saved"); /* nothing below may turn the saved edit into a failure */
	pl = plname ? project_find_plugin(p, type, plname) : NULL;
	/* report the stored value, and the effective one when another source wins */
	struct settings s = { 0 };
	int rrc = settings_resolve(p, pl, NULL, 0, &s, err, sizeof err);
	const struct resolved_setting *rs = rrc == 0 ? settings_find(&s, name.buf) : NULL;
	struct strbuf out = STRBUF_INIT;
	if (pl)
		strbuf_addf(&out, "%c%s '%s' setting '%s' was set in %s: ", plugin_label(pl)[0] - 32, plugin_label(pl) + 1,
		            pl->name, name.buf, where ? where : "the project");
	else
		strbuf_addf(&out, "Project setting '%s' was set in %s: ", name.buf, where ? where : "the project");
	if (rs && rs->sensitive && !o->unsafe) {
		strbuf_addstr(&out, REDACTED_LIST);
	} else {
		cJSON *shown_v = xnonnull(cJSON_CreateString(val.buf));
		json_value(&out, rs ? rs->value : shown_v);
		cJSON_Delete(shown_v);
	}
	printf("%s\n", out.buf);
	if (rs && where && strcmp(where, setting_source_label(rs->source, p)) && rs->source < SOURCE_PROJECT) {
		strbuf_reset(&out);
		strbuf_addstr(&out, "Current value is still: ");
		if (rs->sensitive && !o->unsafe)
			strbuf_addstr(&out, REDACTED_LIST);
		else
			json_value(&out, rs->value);
		strbuf_addf(&out, " (from %s)", setting_source_label(rs->source, p));
		printf("%s\n", out.buf);
	}
	strbuf_release(&out);
	settings_release(&s);
	free(plname);
	strbuf_release(&name);
	strbuf_release(&val);
	return EXIT_OK;
}

static int do_unset(struct project *p, struct plugin *pl, char **words, int nwords, const struct opts *o)
{
	char err[1024];
	struct strbuf name = STRBUF_INIT;
	if (nwords < 1)
		return cli_usage("config", "config unset needs a setting name");
	for (int i = 0; i < nwords; i++) {
		if (i)
			strbuf_addch(&name, '.');
		strbuf_addstr(&name, words[i]);
	}
	char *plname = pl ? xstrdup(pl->name) : NULL;
	const char *label = pl ? plugin_label(pl) : "project";
	int rc = settings_unset(p, pl, name.buf, o->store, err, sizeof err);
	if (rc < 0) {
		free(plname);
		strbuf_release(&name);
		return cli_fail("%s", err);
	}
	if (o->store == STORE_AUTO)
		printf("%c%s%s%s%s setting '%s' was unset\n", label[0] - 32, label + 1, plname ? " '" : "",
		       plname ? plname : "", plname ? "'" : "", name.buf);
	else
		printf("%c%s%s%s%s setting '%s' was unset in %s\n", label[0] - 32, label + 1, plname ? " '" : "",
		       plname ? plname : "", plname ? "'" : "", name.buf,
		       settings_store_label(o->store, p, o->store == STORE_YML && p->active && p->active_explicit));
	free(plname);
	strbuf_release(&name);
	return EXIT_OK;
}

static int do_reset(struct project *p, struct plugin *pl, const struct opts *o)
{
	char err[1024];
	if (!o->yes) {
		if (!isatty(STDIN_FILENO))
			return cli_fail("config reset removes every setting of '%s'; pass --yes to confirm",
			                pl ? pl->name : "the project");
		fprintf(stderr, "Reset the configuration of '%s'? [y/N] ", pl ? pl->name : "the project");
		char line[16] = { 0 };
		if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y'))
			return cli_fail("aborted");
	}
	char *plname = pl ? xstrdup(pl->name) : NULL;
	const char *label = pl ? plugin_label(pl) : "project";
	int rc = settings_reset(p, pl, o->store, err, sizeof err);
	if (rc < 0) {
		free(plname);
		return cli_fail("%s", err);
	}
	printf("%c%s%s%s%s settings were reset\n", label[0] - 32, label + 1, plname ? " '" : "", plname ? plname : "",
	       plname ? "'" : "");
	free(plname);
	return EXIT_OK;
}

/*
 * cmd_config in steps: parse_args() reads the options and the words,
 * pick_subcommand() tells the subcommand from the plugin in either order,
 * check_words() checks the words the subcommand takes and sets its
 * default format, open_target() opens the project and finds the plugin
 * (locking its definition when it has no lock file), and run_subcommand()
 * does the work.  Each returns EXIT_OK to go on, else the exit code.
 */

/*
 * The options into *o and the other words into pos[*npos] (argv's
 * pointers).  Words up to the third are the subcommand, the plugin and
 * the first NAME; after them a word starting with '-' that is no option
 * of the table is a word too (a negative number as a set value), and '--'
 * makes every later word one.  -1 after printing --help.
 */
static int parse_args(int argc, char **argv, struct opts *o, char **pos, int *npos)
{
	const char *v;
	for (int i = 1; i < argc; i++) {
		if (*npos >= 2 && !strcmp(argv[i], "--")) { /* the rest are words (values starting with '-') */
			while (++i < argc)
				pos[(*npos)++] = argv[i];
			break;
		}
		/* once the name is known, only "--..." and -h may be options: "-5" is a value */
		if (*npos >= 3 && argv[i][0] == '-' && argv[i][1] != '-' && strcmp(argv[i], "-h")) {
			pos[(*npos)++] = argv[i];
			continue;
		}
		switch (cli_opt_next(&config_spec, NULL, argc, argv, &i, &v)) {
		case CLI_OPT_HELP:
			cli_help_print(stdout, &config_spec);
			return -1;
		case CLI_OPT_ARG:
			pos[(*npos)++] = argv[i];
			break;
		case CONFIG_FORMAT:
			if ((o->format = cli_parse_format(v, 7)) < 0)
				return cli_usage("config", "unknown format '%s' (text, json, env)", v);
			break;
		case CONFIG_STORE:
			if ((o->store = settings_store_parse(v)) < 0)
				return cli_usage("config", "unknown store '%s' (auto, yml, meltano_yml, dotenv, db)", v);
			break;
		case CONFIG_TYPE:
			if ((o->type = plugin_type_parse(v)) < 0)
				return cli_usage("config", "unknown plugin type '%s'", v);
			break;
		case CONFIG_FROM_FILE:
			o->from_file = v;
			break;
		case CONFIG_UNSAFE:
			o->unsafe = 1;
			break;
		case CONFIG_SAFE:
			o->unsafe = 0;
			break;
		case CONFIG_EXTRAS:
			o->extras = 1;
			break;
		case CONFIG_YES:
			o->yes = 1;
			break;
		case CONFIG_ALL: /* Meltano [main]: list every setting; Smelt always does */
			break;
		case CONFIG_INTERACTIVE:
			return cli_usage("config", "--interactive is not supported; give NAME and VALUE");
		case CLI_OPT_ERROR:
			return EXIT_USAGE;
		default: /* unknown: a word starting with '-' as a set value, once the name is known */
			if (*npos >= 3) {
				pos[(*npos)++] = argv[i];
				break;
			}
			return cli_opt_unknown(&config_spec, NULL, argv[i]);
		}
	}
	return EXIT_OK;
}

/* `config SUB PLUGIN ...` or `config PLUGIN [SUB] ...` (print without SUB): *sub and *target from pos. */
static int pick_subcommand(char **pos, int npos, const char **sub, const char **target)
{
	if (npos == 0) {
		cli_help_print(stderr, &config_spec);
		return EXIT_USAGE;
	}
	if (is_sub(pos[0])) {
		*sub = pos[0];
		if (npos < 2)
			return cli_usage("config", "config %s needs a plugin name (or 'smelt' for the project)", *sub);
		*target = pos[1];
		return EXIT_OK;
	}
	*target = pos[0];
	*sub = npos >= 2 ? pos[1] : "print";
	if (!is_sub(*sub)) {
		size_t n = sizeof subcommands / sizeof subcommands[0] - 1;
		/* `config tap-x lst`, or `config lst tap-x`: the word nearer a subcommand is the misspelt one */
		const char *g_sub = cli_suggest(*sub, subcommands, n), *g_first = cli_suggest(pos[0], subcommands, n);
		const char *typo = g_first && (!g_sub || suggest_distance(pos[0], g_first) < suggest_distance(*sub, g_sub))
		                   ? pos[0] : *sub;
		return cli_unknown_subcommand("config", typo, subcommands, n);
	}
	return EXIT_OK;
}

/* list, print and reset take no words; list defaults to text, print to json (and takes no text). */
static int check_words(const char *sub, char **words, int nwords, struct opts *o)
{
	if (!strcmp(sub, "test"))
		return cli_not_implemented("smelt config test");
	if ((!strcmp(sub, "list") || !strcmp(sub, "print") || !strcmp(sub, "reset")) && nwords > 0)
		return cli_usage("config", "unexpected argument '%s'", words[0]);
	if (!strcmp(sub, "list") && o->format < 0)
		o->format = FORMAT_TEXT;
	if (!strcmp(sub, "print")) {
		if (o->format < 0)
			o->format = FORMAT_JSON;
		if (o->format == FORMAT_TEXT)
			return cli_usage("config", "config print takes --format json or env");
	}
	return EXIT_OK;
}

/*
 * Open the project (*p, the caller frees it also on failure) and find the
 * plugin target (*pl NULL for the project's own settings); a lockable
 * plugin without a lock file gets one, or a warning.
 */
static int open_target(struct cli *cli, const char *target, int type, struct project **p, struct plugin **pl)
{
	int rc = project_open_cli(cli, ENV_IGNORE_DEFAULT, p);
	if (rc) {
		*p = NULL;
		return rc;
	}
	if ((rc = find_target(*p, target, type, pl)) != 0)
		return rc;
	if (*pl && hub_plugin_lockable(*pl) && !file_exists_lock(*p, *pl)) {
		char err[1024];
		rc = hub_autolock(*p, pl, 1, err, sizeof err);
		if (rc == HUB_UNKNOWN_VARIANT) /* as Meltano: an error, not an empty config (issue 16) */
			return cli_fail("%s", strstr(err, ": ") ? strstr(err, ": ") + 2 : err);
		if (rc < 0)
			log_warn("%s: no lock file and none could be fetched: %s", (*pl)->name, err);
	}
	return EXIT_OK;
}

/* set, unset and reset write; list and print show the resolved settings. */
static int run_subcommand(struct project *p, struct plugin *pl, const char *sub, char **words, int nwords,
                          const struct opts *o)
{
	if (!strcmp(sub, "set"))
		return do_set(p, pl, words, nwords, o);
	if (!strcmp(sub, "unset"))
		return do_unset(p, pl, words, nwords, o);
	if (!strcmp(sub, "reset"))
		return do_reset(p, pl, o);
	struct settings s = { 0 };
	char err[1024];
	int rc;
	if (settings_resolve(p, pl, NULL, 0, &s, err, sizeof err) < 0)
		rc = cli_fail("%s", err);
	else
		rc = !strcmp(sub, "list") && o->format != FORMAT_ENV ? do_list(p, pl, &s, o) : do_print(p, pl, &s, o);
	settings_release(&s);
	return rc;
}

int cmd_config(struct cli *cli, int argc, char **argv)
{
	struct opts o = { -1, STORE_AUTO, 0, 0, 0, -1, NULL };
	char **pos = calloc((size_t)argc + 1, sizeof *pos);
	int npos = 0, rc;
	const char *sub = NULL, *target = NULL;
	struct project *p = NULL;
	struct plugin *pl = NULL;
	if (!pos)
		return cli_fail("out of memory");
	if ((rc = parse_args(argc, argv, &o, pos, &npos)) != EXIT_OK)
		rc = rc < 0 ? EXIT_OK : rc;
	else if ((rc = pick_subcommand(pos, npos, &sub, &target)) == EXIT_OK &&
	         (rc = check_words(sub, pos + 2, npos - 2, &o)) == EXIT_OK &&
	         (rc = open_target(cli, target, o.type, &p, &pl)) == EXIT_OK)
		rc = run_subcommand(p, pl, sub, pos + 2, npos - 2, &o);
	project_free(p);
	free(pos);
	return rc;
}

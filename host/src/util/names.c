/* names: see names.h. */
#include "util/names.h"
#include "util/log.h"

#include <smelt/sdk.h>
#include <stdio.h>
#include <string.h>

#define QUOTE_MAX 64 /* bytes of a name shown in a message */

char *name_quote(const char *value, char *out, size_t outlen)
{
	size_t o = 0, i = 0;
	if (!outlen)
		return out;
	for (; value[i] && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)value[i];
		char piece[8];
		if (c < 0x20 || c == 0x7f || c == '\\')
			snprintf(piece, sizeof piece, "\\x%02x", c);
		else
			piece[0] = (char)c, piece[1] = '\0';
		size_t n = strlen(piece);
		if (o + n + 4 > outlen) /* room for "..." and the NUL */
			break;
		memcpy(out + o, piece, n);
		o += n;
	}
	if (value[i] && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

int name_check(const char *what, const char *value, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	if (!value || !*value)
		return fail(err, errlen, SMELT_ERR_CONFIG, "%s name is empty", what);
	name_quote(value, q, sizeof q);
	size_t len = strlen(value);
	if (len > NAME_MAX_LEN)
		return fail(err, errlen, SMELT_ERR_CONFIG, "%s name '%s' is longer than %d bytes", what, q, NAME_MAX_LEN);
	if (!strcmp(value, ".") || !strcmp(value, ".."))
		return fail(err, errlen, SMELT_ERR_CONFIG, "%s name '%s' is not a usable name", what, q);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c == '/' || c == '\\')
			return fail(err, errlen, SMELT_ERR_CONFIG, "%s name '%s' may not contain '%c'", what, q, c);
		if (c < 0x20 || c == 0x7f)
			return fail(err, errlen, SMELT_ERR_CONFIG, "%s name '%s' may not contain control characters",
			            what, q);
	}
	return SMELT_OK;
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int name_check_run_id(const char *value, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	static const char form[] = "a run id is a UUID, or up to 64 letters, digits, '.', '_' and '-' "
	                           "starting with a letter or a digit";
	if (!value || !*value)
		return fail(err, errlen, SMELT_ERR_CONFIG, "run id is empty; %s", form);
	name_quote(value, q, sizeof q);
	size_t len = strlen(value);
	if (len > RUN_ID_MAX_LEN)
		return fail(err, errlen, SMELT_ERR_CONFIG, "run id '%s' is %zu bytes long; %s", q, len, form);
	if (!is_alnum((unsigned char)value[0]))
		return fail(err, errlen, SMELT_ERR_CONFIG, "run id '%s' does not start with a letter or a digit; %s", q,
		            form);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (!is_alnum(c) && c != '.' && c != '_' && c != '-') {
			char cq[8];
			if (c > 0x20 && c < 0x7f && c != '\\')
				snprintf(cq, sizeof cq, "%c", c);
			else
				snprintf(cq, sizeof cq, "\\x%02x", c);
			return fail(err, errlen, SMELT_ERR_CONFIG, "run id '%s' may not contain '%s'; %s", q, cq, form);
		}
	}
	return SMELT_OK;
}

/*
 * libFuzzer harness for the function target-sqlite and target-jsonl use to
 * parse and validate each input line: conn_reader_feed()
 * (plugins/singer/connectors/singer_reader.c).  The input is split into
 * lines and fed in order, so SCHEMA/RECORD sequences are exercised; every
 * accepted value is decoded or compacted as the targets do.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "singer_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch_value(const struct conn_json *j, size_t t, char *scratch)
{
	long long iv;

	switch (j->tok[t].type) {
	case CONN_J_STRING:
		(void)conn_json_unescape(j, t, scratch);
		break;
	case CONN_J_NUMBER:
		(void)conn_json_int(j, t, &iv);
		(void)conn_json_double(j, t);
		break;
	case CONN_J_OBJECT:
	case CONN_J_ARRAY:
		(void)conn_json_compact(j, t, scratch);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn_reader r;
	struct conn_msg m;
	char err[512];
	char *copy = malloc(size + 1), *scratch = malloc(size + 1);
	size_t start = 0;

	if (!copy || !scratch) {
		free(copy);
		free(scratch);
		return 0;
	}
	memcpy(copy, data, size);
	copy[size] = '\0';
	conn_reader_init(&r);
	while (start <= size) {
		char *nl = memchr(copy + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (copy + start)) : size - start;

		if (conn_reader_feed(&r, copy + start, len, &m, err, sizeof(err)) == 0) {
			if (m.type == CONN_MSG_RECORD) {
				for (size_t i = 0; i < m.stream->ncols; i++)
					if (m.stream->slot[i] != CONN_JNONE)
						touch_value(&r.json, m.stream->slot[i], scratch);
				touch_value(&r.json, m.record, scratch);
			} else if (m.type == CONN_MSG_STATE) {
				touch_value(&r.json, m.value, scratch);
			}
		}
		if (!nl)
			break;
		start += len + 1;
	}
	conn_reader_release(&r);
	free(copy);
	free(scratch);
	return 0;
}

/*
 * libFuzzer harness for the native connectors' CSV reader and the value
 * classifiers (plugins/singer/connectors/csv.c).  The first byte picks the
 * delimiter/quote pair and whether a field count is enforced; each field is
 * classified and escaped as tap-csv does.
 */
#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = {',', ';', '\t', '|'};
	static const char quotes[] = {'"', '\''};
	struct csv_parser p;
	struct conn_buf out = CONN_BUF_INIT;
	uint8_t mode = size ? data[0] : 0;
	int rc, rows = 0;

	if (size) {
		data++;
		size--;
	}
	if (csv_init_mem(&p, (const char *)data, size, delims[mode & 3], quotes[(mode >> 2) & 1]) < 0)
		return 0;
	while ((rc = csv_next(&p)) != CSV_EOF && rc != CSV_ERR_NOMEM && rows++ < 100000) {
		if (rc == CSV_ERR)
			continue;
		if (rows == 1 && (mode & 8))
			p.expect_fields = p.nfields;
		for (size_t i = 0; i < p.nfields; i++) {
			size_t n;
			const char *f = csv_field(&p, i, &n);

			(void)csv_value_fits(CSV_T_INTEGER, f, n);
			(void)csv_value_fits(CSV_T_NUMBER, f, n);
			(void)csv_value_fits(CSV_T_DATETIME, f, n);
			conn_buf_reset(&out);
			(void)conn_json_escape(&out, f, n);
		}
	}
	conn_buf_release(&out);
	csv_release(&p);
	return 0;
}

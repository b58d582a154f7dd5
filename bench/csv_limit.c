/*
 * csv_limit - the physical limit of "CSV into SQLite" on this machine, for
 * bench/peers.py: read a CSV file, split each line on commas (the benchmark's
 * input has no quoted fields), and insert every row with one prepared
 * statement in one transaction, with the same pragmas and the same table shape
 * (TEXT columns, the first column the primary key) as Smelt's target-sqlite.
 * Nothing is validated, typed or logged: no loader can do less work.
 *
 *   csv-limit FILE.csv DATABASE TABLE
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "csv-limit: %s: %s\n", what, db ? sqlite3_errmsg(db) : "error");
	exit(1);
}

/* Split line (modified in place) on commas into at most MAX_COLS fields. */
static int split(char *line, char **field)
{
	int n = 0;
	field[n++] = line;
	for (char *p = line; *p; p++) {
		if (*p == ',' && n < MAX_COLS) {
			*p = '\0';
			field[n++] = p + 1;
		}
	}
	return n;
}

/* CREATE TABLE and the INSERT statement for the header's columns. */
static void build_sql(const char *table, char **col, int ncol, char *create, size_t clen, char *insert,
                      size_t ilen)
{
	size_t c = (size_t)snprintf(create, clen, "CREATE TABLE \"%s\" (", table);
	size_t i = (size_t)snprintf(insert, ilen, "INSERT INTO \"%s\" VALUES (", table);
	for (int k = 0; k < ncol; k++) {
		c += (size_t)snprintf(create + c, clen - c, "%s\"%s\" TEXT%s", k ? ", " : "", col[k],
		                      k ? "" : " PRIMARY KEY");
		i += (size_t)snprintf(insert + i, ilen - i, "%s?", k ? ", " : "");
	}
	snprintf(create + c, clen - c, ")");
	snprintf(insert + i, ilen - i, ")");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: csv-limit FILE.csv DATABASE TABLE\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "r");
	if (!in) {
		perror(argv[1]);
		return 1;
	}
	sqlite3 *db;
	if (sqlite3_open(argv[2], &db) != SQLITE_OK)
		die(db, "open");
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		die(db, "pragma");

	char *line = NULL;
	size_t cap = 0;
	ssize_t len = getline(&line, &cap, in);
	if (len <= 0)
		die(NULL, "empty input");
	line[strcspn(line, "\r\n")] = '\0';
	char *field[MAX_COLS];
	int ncol = split(line, field);
	static char create[8192], insert[8192];
	build_sql(argv[3], field, ncol, create, sizeof create, insert, sizeof insert);
	if (sqlite3_exec(db, create, NULL, NULL, NULL) != SQLITE_OK)
		die(db, "create");

	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, insert, -1, &st, NULL) != SQLITE_OK)
		die(db, "prepare");
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		die(db, "begin");
	long rows = 0;
	while ((len = getline(&line, &cap, in)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		int n = split(line, field);
		for (int k = 0; k < ncol; k++)
			sqlite3_bind_text(st, k + 1, k < n ? field[k] : "", -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die(db, "insert");
		sqlite3_reset(st);
		rows++;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die(db, "commit");
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(line);
	fclose(in);
	fprintf(stderr, "csv-limit: %ld rows\n", rows);
	return 0;
}

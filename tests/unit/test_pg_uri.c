/*
 * Check suite for host/src/store/pg_uri (PostgreSQL database_uri parsing
 * and redaction) and the connection errors of store_pg: what a message may
 * show (host:port, a redacted URI) and what it never shows (the password).
 */
#include "store/pg_uri.h"
#include "store/store.h"

#include <smelt/sdk.h>
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char err[SMELT_ERRBUF_SIZE * 2];

START_TEST(schemes)
{
	ck_assert_int_eq(pg_uri_is_pg("postgresql://h/db"), 1);
	ck_assert_int_eq(pg_uri_is_pg("postgres://h/db"), 1);
	ck_assert_int_eq(pg_uri_is_pg("postgresql+psycopg://h/db"), 1);
	ck_assert_int_eq(pg_uri_is_pg("postgresql+psycopg2://h/db"), 1);
	ck_assert_int_eq(pg_uri_is_pg("PostgreSQL://h/db"), 1);
	ck_assert_int_eq(pg_uri_is_pg("postgresql+://h/db"), 0);
	ck_assert_int_eq(pg_uri_is_pg("postgresqlx://h/db"), 0);
	ck_assert_int_eq(pg_uri_is_pg("sqlite:///x.db"), 0);
	ck_assert_int_eq(pg_uri_is_pg("mysql://h/db"), 0);
	ck_assert_int_eq(pg_uri_is_pg(NULL), 0);
	struct pg_uri u;
	ck_assert_int_eq(pg_uri_parse("sqlite:///x.db", &u, err, sizeof err), SMELT_ERR_CONFIG);
	pg_uri_release(&u);
}
END_TEST

START_TEST(parses_and_redacts)
{
	struct pg_uri u;
	ck_assert_int_eq(pg_uri_parse("postgresql+psycopg://meltano:s3cr%40t@db.example:6543/meltano?sslmode=require",
	                              &u, err, sizeof err),
	                 SMELT_OK);
	ck_assert_str_eq(u.conninfo, "postgresql://meltano:s3cr%40t@db.example:6543/meltano?sslmode=require");
	ck_assert_str_eq(u.host_port, "db.example:6543");
	ck_assert_str_eq(u.password, "s3cr@t");
	ck_assert_str_eq(u.redacted, "postgresql+psycopg://meltano:***@db.example:6543/meltano?sslmode=require");
	pg_uri_release(&u);

	/* no port: libpq's default; no password */
	ck_assert_int_eq(pg_uri_parse("postgres://me@db/x", &u, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(u.host_port, "db:5432");
	ck_assert_ptr_null(u.password);
	ck_assert_str_eq(u.redacted, "postgres://me@db/x");
	pg_uri_release(&u);

	/* a password parameter, an encoded '@' and a '?' inside the password, IPv6 */
	ck_assert_int_eq(pg_uri_parse("postgresql://u:p%40s?s@[::1]/d?password=other&application_name=a", &u, err,
	                              sizeof err),
	                 SMELT_OK);
	ck_assert_str_eq(u.host_port, "[::1]:5432");
	ck_assert_str_eq(u.password, "p@s?s");
	ck_assert_str_eq(u.password_raw, "p%40s?s"); /* as libpq quotes it when it cannot decode it */
	ck_assert_str_eq(u.redacted, "postgresql://u:***@[::1]/d?password=***&application_name=a");
	pg_uri_release(&u);
	/* '@' or '/' unencoded in a password: libpq would show part of it as a host or database name */
	ck_assert_int_eq(pg_uri_parse("postgresql://u:p@ss@h/d", &u, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_msg(strstr(err, "percent-encode") && !strstr(err, "ss@h"), "%s", err);
	pg_uri_release(&u);
	ck_assert_int_eq(pg_uri_parse("postgres://u:pa/ss@h/d", &u, err, sizeof err), SMELT_ERR_CONFIG);
	ck_assert_msg(!strstr(err, "pa/ss"), "%s", err);
	pg_uri_release(&u);
	ck_assert_int_eq(pg_uri_parse("postgresql:///d?host=/run/pg&password=pw123", &u, err, sizeof err), SMELT_OK);
	ck_assert_str_eq(u.host_port, "localhost:5432");
	ck_assert_str_eq(u.password, "pw123");
	ck_assert_str_eq(u.password_raw, "pw123");
	ck_assert_str_eq(u.redacted, "postgresql:///d?host=/run/pg&password=***");
	pg_uri_release(&u);

	ck_assert_int_eq(pg_uri_has_password("postgresql+psycopg://u:pw@h/d"), 1);
	ck_assert_int_eq(pg_uri_has_password("postgresql://h/d?password=pw"), 1);
	ck_assert_int_eq(pg_uri_has_password("postgresql://u@h/d"), 0);
	ck_assert_int_eq(pg_uri_has_password("sqlite:///u:pw@x.db"), 0);
	ck_assert_int_eq(pg_uri_has_password(NULL), 0);
	ck_assert_int_eq(pg_uri_has_password("postgresql://u:p@ss@h/d"), 1);

	char *s = pg_scrub("FATAL: password pw123 for pw123x", "pw123");
	ck_assert_str_eq(s, "FATAL: password *** for ***x");
	free(s);
	s = pg_scrub("plain", NULL);
	ck_assert_str_eq(s, "plain");
	free(s);
}
END_TEST

/* A 127.0.0.1 port nothing listens on. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

START_TEST(connection_errors_never_show_the_password)
{
	struct store *st;
	ck_assert_int_eq(store_open(":memory:", &st, err, sizeof err), SMELT_OK);
	int port = closed_port();
	char uri[256], want[128];
	snprintf(uri, sizeof uri, "postgresql+psycopg://smelt:Hunter2Secret@127.0.0.1:%d/smelt", port);
	ck_assert_int_eq(store_use_postgres(st, uri, err, sizeof err), SMELT_ERR);
	snprintf(want, sizeof want, "cannot connect to the system database (database_uri) at 127.0.0.1:%d: ", port);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	ck_assert_msg(strstr(err, "Hunter2Secret") == NULL, "%s", err);
	ck_assert_str_eq(store_label(st), "SQLite"); /* still the SQLite store */
	store_close(st);
}
END_TEST

START_TEST(missing_libpq_is_a_clear_error)
{
	struct store *st;
	setenv("SMELT_LIBPQ", "/nonexistent/libpq.so.5", 1);
	ck_assert_int_eq(store_open(":memory:", &st, err, sizeof err), SMELT_OK);
	ck_assert_int_eq(store_use_postgres(st, "postgresql://u:Hunter2Secret@db.example/x", err, sizeof err), SMELT_ERR);
	ck_assert_msg(strstr(err, "database_uri names PostgreSQL at db.example:5432: cannot load libpq") != NULL, "%s",
	              err);
	ck_assert_msg(strstr(err, "Hunter2Secret") == NULL, "%s", err);
	store_close(st);
	unsetenv("SMELT_LIBPQ");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pg_uri");
	TCase *tc = tcase_create("pg_uri");
	tcase_add_test(tc, schemes);
	tcase_add_test(tc, parses_and_redacts);
	tcase_add_test(tc, connection_errors_never_show_the_password);
	tcase_add_test(tc, missing_libpq_is_a_clear_error);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

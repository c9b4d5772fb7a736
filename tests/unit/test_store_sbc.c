/**
 * @file test_store_sbc.c  Store unit tests for issue 4: the SBC's
 *                         security settings, allow-list and deny-list
 *                         (SQLite backend, migration 003)
 *
 * Each test gets its own directory made with mkdtemp() under /tmp and
 * removes it afterwards. The file is also opened through the sqlite3 API
 * to build a database as a schema-2 relaisd left it.
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <re.h>
#include "core/core.h"
#include "store/store_int.h"
#include "testdir.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
};

/* What an iteration visited, as "a,b,c" */
struct collect {
	char buf[1024];
	unsigned n;
	unsigned stop_after; /* 0: never stop */
};


static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;

	re_snprintf(f->dir, sizeof(f->dir), "/tmp/relais-sbc-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}

	re_snprintf(f->path, sizeof(f->path), "%s/relais.db", f->dir);
	*state = f;

	return 0;
}


static int setup_open(void **state)
{
	struct fixture *f;

	if (setup(state))
		return -1;

	f = *state;

	return store_open(&f->st, f->path) ? -1 : 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	f->st = mem_deref(f->st);
	testdir_remove(f->dir);
	free(f);

	return 0;
}


static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int64_t v = -1;

	assert_int_equal(SQLITE_OK, sqlite3_open(path, &db));
	assert_int_equal(SQLITE_OK,
			 sqlite3_prepare_v2(db, sql, -1, &stmt, NULL));
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);

	sqlite3_finalize(stmt);
	sqlite3_close(db);

	return v;
}


static void collect_add(struct collect *col, const char *s)
{
	size_t len = strlen(col->buf);

	re_snprintf(col->buf + len, sizeof(col->buf) - len, "%s%s",
		    len ? "," : "", s);
	++col->n;
}


static int text_collect(const char *text, void *arg)
{
	struct collect *col = arg;

	collect_add(col, text);

	return (col->stop_after && col->n >= col->stop_after) ? 42 : 0;
}


static int deny_collect(const struct store_sbcdeny *d, void *arg)
{
	struct collect *col = arg;
	char item[256];

	re_snprintf(item, sizeof(item), "%s/%s/%s/%lld/%lld", d->addr,
		    d->reason, d->detail, (long long)d->since,
		    (long long)d->until);
	collect_add(col, item);

	return (col->stop_after && col->n >= col->stop_after) ? 42 : 0;
}


static void sec_fill(struct store_sbcsec *s, const char *level)
{
	memset(s, 0, sizeof(*s));
	str_ncpy(s->level, level, sizeof(s->level));
	s->dos_threshold = 200;
	s->dos_window = 5;
	s->dos_period = 3600;
	s->ddos_threshold = 2000;
	s->ddos_window = 5;
	s->bf_failures = 10;
	s->bf_window = 60;
	s->bf_period = 0;
	s->deny_max = 1000;
}


static void deny_fill(struct store_sbcdeny *d, const char *addr,
		      const char *reason, int64_t since, int64_t until)
{
	memset(d, 0, sizeof(*d));
	str_ncpy(d->addr, addr, sizeof(d->addr));
	str_ncpy(d->reason, reason, sizeof(d->reason));
	re_snprintf(d->detail, sizeof(d->detail), "%s from %s", reason, addr);
	d->since = since;
	d->until = until;
}


static void test_schema_tables(void **state)
{
	struct fixture *f = *state;
	uint32_t version = 0;

	assert_int_equal(0, store_schema_version(f->st, &version));
	assert_true(version >= 3);
	assert_int_equal(3,
			 raw_int(f->path, "SELECT COUNT(*) FROM sqlite_master"
					  " WHERE type = 'table' AND name IN"
					  " ('sbc_security', 'sbc_allow',"
					  " 'sbc_deny')"));
	assert_int_equal(1,
			 raw_int(f->path,
				 "SELECT COUNT(*) FROM schema_migrations"
				 " WHERE version = 3 AND name = '003_sbc'"));
}


static void test_sbcsec(void **state)
{
	struct fixture *f = *state;
	struct store_sbcsec s, got;

	memset(&got, 0xa5, sizeof(got));
	assert_int_equal(ENOENT, store_sbcsec_get(f->st, &got));

	sec_fill(&s, "auto");
	assert_int_equal(0, store_sbcsec_set(f->st, &s));
	assert_int_equal(0, store_sbcsec_get(f->st, &got));
	assert_memory_equal(&s, &got, sizeof(s));

	/* a second set replaces: still one row */
	sec_fill(&s, "allowlist");
	s.dos_threshold = 5000;
	s.dos_window = 10;
	s.dos_period = 604800;
	s.deny_max = 100000;
	s.bf_period = 86400;
	assert_int_equal(0, store_sbcsec_set(f->st, &s));
	assert_int_equal(0, store_sbcsec_get(f->st, &got));
	assert_string_equal("allowlist", got.level);
	assert_int_equal(5000, got.dos_threshold);
	assert_int_equal(10, got.dos_window);
	assert_int_equal(604800, got.dos_period);
	assert_int_equal(2000, got.ddos_threshold);
	assert_int_equal(5, got.ddos_window);
	assert_int_equal(10, got.bf_failures);
	assert_int_equal(60, got.bf_window);
	assert_int_equal(86400, got.bf_period);
	assert_int_equal(100000, got.deny_max);
	assert_int_equal(1, raw_int(f->path,
				    "SELECT COUNT(*) FROM sbc_security"));

	/* kept across a reopen */
	f->st = mem_deref(f->st);
	assert_int_equal(0, store_open(&f->st, f->path));
	memset(&got, 0, sizeof(got));
	assert_int_equal(0, store_sbcsec_get(f->st, &got));
	assert_memory_equal(&s, &got, sizeof(s));

	/* argument checks */
	sec_fill(&s, "");
	assert_int_equal(EINVAL, store_sbcsec_set(f->st, &s));
	assert_int_equal(EINVAL, store_sbcsec_set(f->st, NULL));
	assert_int_equal(EINVAL, store_sbcsec_set(NULL, &got));
	assert_int_equal(EINVAL, store_sbcsec_get(f->st, NULL));
	assert_int_equal(EINVAL, store_sbcsec_get(NULL, &got));
	assert_int_equal(0, store_sbcsec_get(f->st, &got));
	assert_string_equal("allowlist", got.level);
}


static void test_sbcallow(void **state)
{
	struct fixture *f = *state;
	struct collect col;
	char big[STORE_ADDR_MAX + 1];

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcallow_foreach(f->st, text_collect, &col));
	assert_int_equal(0, col.n);

	assert_int_equal(0, store_sbcallow_add(f->st, "198.51.100.0/24"));
	assert_int_equal(0, store_sbcallow_add(f->st, "192.0.2.10"));
	assert_int_equal(0, store_sbcallow_add(f->st, "2001:db8::/32"));
	assert_int_equal(EEXIST, store_sbcallow_add(f->st, "192.0.2.10"));

	/* in the order they were added */
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcallow_foreach(f->st, text_collect, &col));
	assert_string_equal("198.51.100.0/24,192.0.2.10,2001:db8::/32",
			    col.buf);

	/* a non-zero handler return stops and comes back */
	memset(&col, 0, sizeof(col));
	col.stop_after = 2;
	assert_int_equal(42,
			 store_sbcallow_foreach(f->st, text_collect, &col));
	assert_string_equal("198.51.100.0/24,192.0.2.10", col.buf);

	assert_int_equal(0, store_sbcallow_remove(f->st, "192.0.2.10"));
	assert_int_equal(ENOENT, store_sbcallow_remove(f->st, "192.0.2.10"));
	assert_int_equal(ENOENT, store_sbcallow_remove(f->st, "192.0.2.99"));

	/* re-added: it goes last */
	assert_int_equal(0, store_sbcallow_add(f->st, "192.0.2.10"));
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcallow_foreach(f->st, text_collect, &col));
	assert_string_equal("198.51.100.0/24,2001:db8::/32,192.0.2.10",
			    col.buf);

	/* argument checks */
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(EINVAL, store_sbcallow_add(f->st, big));
	assert_int_equal(EINVAL, store_sbcallow_add(f->st, ""));
	assert_int_equal(EINVAL, store_sbcallow_add(f->st, NULL));
	assert_int_equal(EINVAL, store_sbcallow_add(NULL, "192.0.2.1"));
	assert_int_equal(EINVAL, store_sbcallow_remove(f->st, ""));
	assert_int_equal(EINVAL, store_sbcallow_remove(NULL, "192.0.2.1"));
	assert_int_equal(EINVAL, store_sbcallow_foreach(f->st, NULL, NULL));
	assert_int_equal(EINVAL,
			 store_sbcallow_foreach(NULL, text_collect, &col));
	assert_int_equal(3,
			 raw_int(f->path, "SELECT COUNT(*) FROM sbc_allow"));
}


static void test_sbcdeny(void **state)
{
	struct fixture *f = *state;
	struct store_sbcdeny d;
	struct collect col;

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcdeny_foreach(f->st, deny_collect, &col));
	assert_int_equal(0, col.n);
	assert_int_equal(ENOENT, store_sbcdeny_remove(f->st, "192.0.2.1"));

	deny_fill(&d, "192.0.2.1", "dos", 1000, 4600);
	assert_int_equal(0, store_sbcdeny_put(f->st, &d));
	deny_fill(&d, "2001:db8::5", "brute-force", 900, 0);
	assert_int_equal(0, store_sbcdeny_put(f->st, &d));
	deny_fill(&d, "192.0.2.7", "malicious", 1000, 1030);
	assert_int_equal(0, store_sbcdeny_put(f->st, &d));

	/* oldest first, then by address */
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcdeny_foreach(f->st, deny_collect, &col));
	assert_string_equal("2001:db8::5/brute-force/brute-force from "
			    "2001:db8::5/900/0,"
			    "192.0.2.1/dos/dos from 192.0.2.1/1000/4600,"
			    "192.0.2.7/malicious/malicious from "
			    "192.0.2.7/1000/1030",
			    col.buf);

	/* put on a listed address replaces its entry (upsert) */
	deny_fill(&d, "2001:db8::5", "dos", 2000, 2030);
	str_ncpy(d.detail, "", sizeof(d.detail));
	assert_int_equal(0, store_sbcdeny_put(f->st, &d));
	assert_int_equal(3, raw_int(f->path, "SELECT COUNT(*) FROM sbc_deny"));
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcdeny_foreach(f->st, deny_collect, &col));
	assert_string_equal("192.0.2.1/dos/dos from 192.0.2.1/1000/4600,"
			    "192.0.2.7/malicious/malicious from "
			    "192.0.2.7/1000/1030,"
			    "2001:db8::5/dos//2000/2030",
			    col.buf);

	memset(&col, 0, sizeof(col));
	col.stop_after = 1;
	assert_int_equal(42, store_sbcdeny_foreach(f->st, deny_collect, &col));
	assert_int_equal(1, col.n);

	assert_int_equal(0, store_sbcdeny_remove(f->st, "192.0.2.7"));
	assert_int_equal(ENOENT, store_sbcdeny_remove(f->st, "192.0.2.7"));
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcdeny_foreach(f->st, deny_collect, &col));
	assert_int_equal(2, col.n);
	assert_null(strstr(col.buf, "192.0.2.7"));

	/* kept across a reopen */
	f->st = mem_deref(f->st);
	assert_int_equal(0, store_open(&f->st, f->path));
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcdeny_foreach(f->st, deny_collect, &col));
	assert_int_equal(2, col.n);

	assert_int_equal(0, store_sbcdeny_clear(f->st));
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcdeny_foreach(f->st, deny_collect, &col));
	assert_int_equal(0, col.n);
	assert_int_equal(0, store_sbcdeny_clear(f->st)); /* empty: fine */

	/* argument checks */
	deny_fill(&d, "", "dos", 1, 2);
	assert_int_equal(EINVAL, store_sbcdeny_put(f->st, &d));
	deny_fill(&d, "192.0.2.1", "", 1, 2);
	assert_int_equal(EINVAL, store_sbcdeny_put(f->st, &d));
	assert_int_equal(EINVAL, store_sbcdeny_put(f->st, NULL));
	assert_int_equal(EINVAL, store_sbcdeny_put(NULL, &d));
	assert_int_equal(EINVAL, store_sbcdeny_remove(f->st, NULL));
	assert_int_equal(EINVAL, store_sbcdeny_remove(NULL, "192.0.2.1"));
	assert_int_equal(EINVAL, store_sbcdeny_clear(NULL));
	assert_int_equal(EINVAL, store_sbcdeny_foreach(f->st, NULL, NULL));
	assert_int_equal(EINVAL,
			 store_sbcdeny_foreach(NULL, deny_collect, &col));
}


/* Each list lives in its own table: clearing one leaves the others */
static void test_lists_independent(void **state)
{
	struct fixture *f = *state;
	struct store_sbcdeny d;
	struct store_sbcsec s, got;
	struct collect col;

	sec_fill(&s, "none");
	assert_int_equal(0, store_sbcsec_set(f->st, &s));
	assert_int_equal(0, store_sbcallow_add(f->st, "192.0.2.1"));
	deny_fill(&d, "192.0.2.1", "dos", 10, 20);
	assert_int_equal(0, store_sbcdeny_put(f->st, &d));

	assert_int_equal(0, store_sbcdeny_clear(f->st));

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcallow_foreach(f->st, text_collect, &col));
	assert_string_equal("192.0.2.1", col.buf);
	assert_int_equal(0, store_sbcsec_get(f->st, &got));
	assert_string_equal("none", got.level);
}


/* A file as a schema-2 relaisd left it: upgraded in place, data kept */
static void test_migrate_from_v2(void **state)
{
	struct fixture *f = *state;
	struct store_sbcsec s;
	struct store_trunk t;
	struct collect col;
	uint32_t version = 0;
	sqlite3 *db = NULL;

	assert_true(store_migrationc >= 3);
	assert_int_equal(1, store_migrations[0].version);
	assert_int_equal(2, store_migrations[1].version);
	assert_int_equal(3, store_migrations[2].version);

	assert_int_equal(SQLITE_OK, sqlite3_open(f->path, &db));
	assert_int_equal(SQLITE_OK,
			 sqlite3_exec(db,
				      "CREATE TABLE schema_migrations ("
				      " version INTEGER PRIMARY KEY,"
				      " name TEXT, applied_at INTEGER);"
				      " INSERT INTO schema_migrations VALUES"
				      " (1, '001_init', 12345),"
				      " (2, '002_trunks', 23456);",
				      NULL, NULL, NULL));
	assert_int_equal(SQLITE_OK, sqlite3_exec(db, store_migrations[0].sql,
						 NULL, NULL, NULL));
	assert_int_equal(SQLITE_OK, sqlite3_exec(db, store_migrations[1].sql,
						 NULL, NULL, NULL));
	assert_int_equal(SQLITE_OK,
			 sqlite3_exec(db,
				      "INSERT INTO trunks (name, host)"
				      " VALUES ('orange', '192.0.2.50')",
				      NULL, NULL, NULL));
	sqlite3_close(db);

	assert_int_equal(0, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " sqlite_master WHERE name ="
					     " 'sbc_deny'"));

	assert_int_equal(0, store_open(&f->st, f->path));
	assert_int_equal(0, store_schema_version(f->st, &version));
	assert_int_equal(store_migrations[store_migrationc - 1].version,
			 version);

	/* versions 1 and 2 were not re-applied, their data is there */
	assert_int_equal(0, store_trunk_get(f->st, "orange", &t));
	assert_string_equal("192.0.2.50", t.host);
	assert_int_equal(1, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " schema_migrations WHERE"
					     " version = 2 AND"
					     " applied_at = 23456"));
	assert_int_equal(1, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " schema_migrations WHERE"
					     " version = 3"));

	/* the new tables work and start empty */
	assert_int_equal(ENOENT, store_sbcsec_get(f->st, &s));
	assert_int_equal(0, store_sbcallow_add(f->st, "192.0.2.0/24"));
	f->st = mem_deref(f->st);

	/* a second open changes nothing */
	assert_int_equal(0, store_open(&f->st, f->path));
	assert_int_equal(0, store_schema_version(f->st, &version));
	assert_int_equal(store_migrations[store_migrationc - 1].version,
			 version);
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_sbcallow_foreach(f->st, text_collect, &col));
	assert_string_equal("192.0.2.0/24", col.buf);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_tables, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_sbcsec, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_sbcallow, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_sbcdeny, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_lists_independent,
						setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v2, setup,
						teardown),
	};

	log_setup(LOG_LVL_ERROR, LOG_TARGET_STDERR);

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/**
 * @file test_store.c  Store (SQLite backend) unit tests
 *
 * Each test gets its own directory made with mkdtemp() under /tmp and
 * removes it afterwards. The database is also inspected and tampered with
 * through the sqlite3 API directly, to check what the store wrote.
 */

#include <dirent.h>
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


static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;

	re_snprintf(f->dir, sizeof(f->dir), "/tmp/relais-store-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}

	re_snprintf(f->path, sizeof(f->path), "%s/relais.db", f->dir);
	*state = f;

	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	f->st = mem_deref(f->st);
	testdir_remove(f->dir);
	free(f);

	return 0;
}


static uint32_t highest_migration(void)
{
	uint32_t v = 0;

	for (size_t i = 0; i < store_migrationc; i++) {
		if (store_migrations[i].version > v)
			v = store_migrations[i].version;
	}

	return v;
}


/* Runs one query of one integer column straight on the file */
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


static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(SQLITE_OK, sqlite3_open(path, &db));
	assert_int_equal(SQLITE_OK, sqlite3_exec(db, sql, NULL, NULL, NULL));
	sqlite3_close(db);
}


static void ext_fill(struct store_ext *ext, const char *number,
		     const char *name)
{
	memset(ext, 0, sizeof(*ext));
	str_ncpy(ext->number, number, sizeof(ext->number));
	str_ncpy(ext->name, name, sizeof(ext->name));
	str_ncpy(ext->ha1_md5, "0123456789abcdef0123456789abcdef",
		 sizeof(ext->ha1_md5));
	ext->created = 1700000000;
}


static void contact_fill(struct store_contact *c, const char *ext,
			 const char *uri, int64_t expires)
{
	memset(c, 0, sizeof(*c));
	str_ncpy(c->ext, ext, sizeof(c->ext));
	str_ncpy(c->uri, uri, sizeof(c->uri));
	str_ncpy(c->received, "127.0.0.1:5070", sizeof(c->received));
	str_ncpy(c->transport, "udp", sizeof(c->transport));
	str_ncpy(c->user_agent, "test-phone/1.0", sizeof(c->user_agent));
	str_ncpy(c->callid, "reg-callid", sizeof(c->callid));
	c->cseq = 1;
	c->expires = expires;
	c->updated = expires - 3600;
}


static void add_ext(struct store *st, const char *number)
{
	struct store_ext ext;

	ext_fill(&ext, number, "Someone");
	assert_int_equal(0, store_ext_add(st, &ext));
}


/* Collects what an iteration visited, as "a,b,c" */
struct collect {
	char buf[512];
	unsigned n;
	unsigned stop_after; /* 0: never stop */
	struct store *st;
};


static void collect_add(struct collect *col, const char *s)
{
	size_t len = strlen(col->buf);

	re_snprintf(col->buf + len, sizeof(col->buf) - len, "%s%s",
		    len ? "," : "", s);
	++col->n;
}


static int collect_stop(struct collect *col)
{
	return (col->stop_after && col->n >= col->stop_after) ? 42 : 0;
}


static int ext_collect(const struct store_ext *ext, void *arg)
{
	struct collect *col = arg;

	collect_add(col, ext->number);

	return collect_stop(col);
}


static int contact_collect(const struct store_contact *c, void *arg)
{
	struct collect *col = arg;
	char s[128];

	re_snprintf(s, sizeof(s), "%s/%s", c->ext, c->uri);
	collect_add(col, s);

	return collect_stop(col);
}


static int cdr_collect(const struct store_cdr *cdr, void *arg)
{
	struct collect *col = arg;

	collect_add(col, cdr->callid);

	return collect_stop(col);
}


static void test_open_creates_schema(void **state)
{
	struct fixture *f = *state;
	uint32_t version = 0;

	assert_true(store_migrationc >= 1);
	assert_int_equal(0, store_open(&f->st, f->path));
	assert_non_null(f->st);

	assert_int_equal(0, store_schema_version(f->st, &version));
	assert_int_equal(highest_migration(), version);
	assert_true(version >= 1);

	assert_int_equal((int64_t)store_migrationc,
			 raw_int(f->path,
				 "SELECT COUNT(*) FROM schema_migrations"));
	assert_int_equal(1,
			 raw_int(f->path, "SELECT COUNT(*) FROM sqlite_master"
					  " WHERE name = 'cdr_start_ms'"));
	assert_int_equal(3, raw_int(f->path,
				    "SELECT COUNT(*) FROM sqlite_master"
				    " WHERE type = 'table' AND name IN"
				    " ('extensions', 'contacts', 'cdr')"));

	/* WAL is persistent in the file */
	assert_int_equal(0, store_flush(f->st));
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *stmt = NULL;

		assert_int_equal(SQLITE_OK, sqlite3_open(f->path, &db));
		assert_int_equal(SQLITE_OK,
				 sqlite3_prepare_v2(db, "PRAGMA journal_mode",
						    -1, &stmt, NULL));
		assert_int_equal(SQLITE_ROW, sqlite3_step(stmt));
		assert_string_equal("wal", sqlite3_column_text(stmt, 0));
		sqlite3_finalize(stmt);
		sqlite3_close(db);
	}
}


static void test_sqlite_prefix(void **state)
{
	struct fixture *f = *state;
	char loc[160];
	uint32_t version = 0;

	re_snprintf(loc, sizeof(loc), "sqlite:%s", f->path);
	assert_int_equal(0, store_open(&f->st, loc));
	assert_int_equal(0, store_schema_version(f->st, &version));
	assert_int_equal(highest_migration(), version);

	/* the prefix is not part of the file name */
	assert_int_equal(0, access(f->path, F_OK));
}


static void test_reopen_keeps_migrations(void **state)
{
	struct fixture *f = *state;
	struct store_ext ext;
	uint32_t version = 0;

	assert_int_equal(0, store_open(&f->st, f->path));
	add_ext(f->st, "100");
	f->st = mem_deref(f->st);

	/* a re-run would rewrite applied_at and fail on CREATE TABLE */
	raw_exec(f->path, "UPDATE schema_migrations SET applied_at = 12345");

	assert_int_equal(0, store_open(&f->st, f->path));
	assert_int_equal(0, store_schema_version(f->st, &version));
	assert_int_equal(highest_migration(), version);
	assert_int_equal(0, store_ext_get(f->st, "100", &ext));
	assert_string_equal("Someone", ext.name);

	assert_int_equal((int64_t)store_migrationc,
			 raw_int(f->path,
				 "SELECT COUNT(*) FROM schema_migrations"));
	assert_int_equal((int64_t)store_migrationc,
			 raw_int(f->path,
				 "SELECT COUNT(*) FROM schema_migrations"
				 " WHERE applied_at = 12345"));
}


static void test_ext_crud(void **state)
{
	struct fixture *f = *state;
	struct store_ext ext, got;

	assert_int_equal(0, store_open(&f->st, f->path));

	ext_fill(&ext, "200", "Alice");
	str_ncpy(ext.ha1_sha256,
		 "00112233445566778899aabbccddeeff"
		 "00112233445566778899aabbccddeeff",
		 sizeof(ext.ha1_sha256));
	assert_int_equal(0, store_ext_add(f->st, &ext));

	memset(&got, 0xa5, sizeof(got));
	assert_int_equal(0, store_ext_get(f->st, "200", &got));
	assert_string_equal("200", got.number);
	assert_string_equal("Alice", got.name);
	assert_string_equal(ext.ha1_md5, got.ha1_md5);
	assert_string_equal(ext.ha1_sha256, got.ha1_sha256);
	assert_int_equal(1700000000, got.created);

	/* duplicate number */
	ext_fill(&ext, "200", "Mallory");
	assert_int_equal(EEXIST, store_ext_add(f->st, &ext));
	assert_int_equal(0, store_ext_get(f->st, "200", &got));
	assert_string_equal("Alice", got.name);

	assert_int_equal(0, store_ext_update_ha1(f->st, "200", "aa", "bb"));
	assert_int_equal(0, store_ext_get(f->st, "200", &got));
	assert_string_equal("aa", got.ha1_md5);
	assert_string_equal("bb", got.ha1_sha256);
	assert_string_equal("Alice", got.name);

	assert_int_equal(ENOENT,
			 store_ext_update_ha1(f->st, "999", "aa", "bb"));
	assert_int_equal(ENOENT, store_ext_get(f->st, "999", &got));

	assert_int_equal(0, store_ext_remove(f->st, "200"));
	assert_int_equal(ENOENT, store_ext_get(f->st, "200", &got));
	assert_int_equal(ENOENT, store_ext_remove(f->st, "200"));

	/* created 0 means now */
	ext_fill(&ext, "201", "Bob");
	ext.created = 0;
	assert_int_equal(0, store_ext_add(f->st, &ext));
	assert_int_equal(0, store_ext_get(f->st, "201", &got));
	assert_true(got.created >= 1700000000);
}


static void test_ext_truncate(void **state)
{
	struct fixture *f = *state;
	struct store_ext ext, got;
	char longname[400];

	assert_int_equal(0, store_open(&f->st, f->path));
	add_ext(f->st, "300");

	/* a row written by something else with an over-long name */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	{
		char sql[512];

		re_snprintf(sql, sizeof(sql),
			    "UPDATE extensions SET name = '%s'"
			    " WHERE number = '300'",
			    longname);
		raw_exec(f->path, sql);
	}

	memset(&got, 0, sizeof(got));
	assert_int_equal(0, store_ext_get(f->st, "300", &got));
	assert_int_equal(STORE_NAME_MAX - 1, strlen(got.name));

	/* a struct field without NUL is stored up to its size */
	ext_fill(&ext, "301", "");
	memset(ext.name, 'y', sizeof(ext.name));
	assert_int_equal(0, store_ext_add(f->st, &ext));
	assert_int_equal(STORE_NAME_MAX,
			 raw_int(f->path, "SELECT length(name) FROM extensions"
					  " WHERE number = '301'"));
	assert_int_equal(0, store_ext_get(f->st, "301", &got));
	assert_int_equal(STORE_NAME_MAX - 1, strlen(got.name));
}


static int ext_nested(const struct store_ext *ext, void *arg)
{
	struct collect *col = arg;
	struct collect inner;
	struct store_ext got;

	memset(&inner, 0, sizeof(inner));
	assert_int_equal(0, store_ext_foreach(col->st, ext_collect, &inner));
	assert_int_equal(3, inner.n);
	assert_int_equal(0, store_ext_get(col->st, ext->number, &got));
	collect_add(col, got.number);

	return 0;
}


static void test_ext_foreach(void **state)
{
	struct fixture *f = *state;
	struct collect col;

	assert_int_equal(0, store_open(&f->st, f->path));

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_ext_foreach(f->st, ext_collect, &col));
	assert_int_equal(0, col.n);

	add_ext(f->st, "300");
	add_ext(f->st, "100");
	add_ext(f->st, "200");

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_ext_foreach(f->st, ext_collect, &col));
	assert_string_equal("100,200,300", col.buf);

	/* early stop returns the handler's value */
	memset(&col, 0, sizeof(col));
	col.stop_after = 2;
	assert_int_equal(42, store_ext_foreach(f->st, ext_collect, &col));
	assert_string_equal("100,200", col.buf);

	/* the iteration can start again after an early stop */
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_ext_foreach(f->st, ext_collect, &col));
	assert_string_equal("100,200,300", col.buf);

	/* a handler may call back into the store */
	memset(&col, 0, sizeof(col));
	col.st = f->st;
	assert_int_equal(0, store_ext_foreach(f->st, ext_nested, &col));
	assert_string_equal("100,200,300", col.buf);
}


static void test_contact_upsert(void **state)
{
	struct fixture *f = *state;
	struct store_contact c;
	struct collect col;

	assert_int_equal(0, store_open(&f->st, f->path));
	add_ext(f->st, "100");

	contact_fill(&c, "100", "sip:100@10.0.0.1:5060", 1000);
	assert_int_equal(0, store_contact_put(f->st, &c));

	c.cseq = 7;
	c.expires = 5000;
	str_ncpy(c.user_agent, "test-phone/2.0", sizeof(c.user_agent));
	assert_int_equal(0, store_contact_put(f->st, &c));

	assert_int_equal(1, raw_int(f->path, "SELECT COUNT(*) FROM contacts"));
	assert_int_equal(7, raw_int(f->path, "SELECT cseq FROM contacts"));
	assert_int_equal(5000,
			 raw_int(f->path, "SELECT expires FROM contacts"));
	assert_int_equal(1,
			 raw_int(f->path, "SELECT COUNT(*) FROM contacts WHERE"
					  " user_agent = 'test-phone/2.0'"));

	/* a contact for an unknown extension */
	contact_fill(&c, "555", "sip:555@10.0.0.9", 1000);
	assert_int_equal(ENOENT, store_contact_put(f->st, &c));

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_contact_foreach(f->st, NULL, contact_collect,
						  &col));
	assert_string_equal("100/sip:100@10.0.0.1:5060", col.buf);
}


static int contact_check(const struct store_contact *c, void *arg)
{
	struct store_contact *want = arg;

	assert_string_equal(want->ext, c->ext);
	assert_string_equal(want->uri, c->uri);
	assert_string_equal(want->received, c->received);
	assert_string_equal(want->transport, c->transport);
	assert_string_equal(want->user_agent, c->user_agent);
	assert_string_equal(want->callid, c->callid);
	assert_int_equal(want->cseq, c->cseq);
	assert_int_equal(want->expires, c->expires);
	assert_int_equal(want->updated, c->updated);

	return 1;
}


static void test_contact_foreach(void **state)
{
	struct fixture *f = *state;
	struct store_contact c;
	struct collect col;

	assert_int_equal(0, store_open(&f->st, f->path));
	add_ext(f->st, "100");
	add_ext(f->st, "200");

	contact_fill(&c, "200", "sip:b@h", 1000);
	assert_int_equal(0, store_contact_put(f->st, &c));
	contact_fill(&c, "100", "sip:z@h", 1000);
	assert_int_equal(0, store_contact_put(f->st, &c));
	contact_fill(&c, "200", "sip:a@h", 1000);
	assert_int_equal(0, store_contact_put(f->st, &c));
	contact_fill(&c, "100", "sip:y@h", 1000);
	c.cseq = UINT32_MAX;
	str_ncpy(c.transport, "tls", sizeof(c.transport));
	assert_int_equal(0, store_contact_put(f->st, &c));

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_contact_foreach(f->st, NULL, contact_collect,
						  &col));
	assert_string_equal("100/sip:y@h,100/sip:z@h,200/sip:a@h,200/sip:b@h",
			    col.buf);

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_contact_foreach(f->st, "200",
						  contact_collect, &col));
	assert_string_equal("200/sip:a@h,200/sip:b@h", col.buf);

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_contact_foreach(f->st, "300",
						  contact_collect, &col));
	assert_int_equal(0, col.n);

	memset(&col, 0, sizeof(col));
	col.stop_after = 3;
	assert_int_equal(42, store_contact_foreach(f->st, NULL,
						   contact_collect, &col));
	assert_int_equal(3, col.n);

	/* every field comes back as written */
	assert_int_equal(1, store_contact_foreach(f->st, "100", contact_check,
						  &c));

	assert_int_equal(0, store_contact_remove(f->st, "100", "sip:y@h"));
	assert_int_equal(ENOENT,
			 store_contact_remove(f->st, "100", "sip:y@h"));
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_contact_foreach(f->st, "100",
						  contact_collect, &col));
	assert_string_equal("100/sip:z@h", col.buf);

	assert_int_equal(0, store_contact_remove_ext(f->st, "200"));
	assert_int_equal(0, store_contact_remove_ext(f->st, "200"));
	assert_int_equal(ENOENT, store_contact_remove_ext(f->st, "999"));
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_contact_foreach(f->st, NULL, contact_collect,
						  &col));
	assert_string_equal("100/sip:z@h", col.buf);
}


static void test_contact_purge(void **state)
{
	struct fixture *f = *state;
	struct store_contact c;
	struct collect col;

	assert_int_equal(0, store_open(&f->st, f->path));
	add_ext(f->st, "100");

	contact_fill(&c, "100", "sip:a@h", 1000);
	assert_int_equal(0, store_contact_put(f->st, &c));
	contact_fill(&c, "100", "sip:b@h", 2000);
	assert_int_equal(0, store_contact_put(f->st, &c));
	contact_fill(&c, "100", "sip:c@h", 3000);
	assert_int_equal(0, store_contact_put(f->st, &c));

	assert_int_equal(0, store_contact_purge(f->st, 999));
	assert_int_equal(3, raw_int(f->path, "SELECT COUNT(*) FROM contacts"));

	/* expires <= now goes */
	assert_int_equal(0, store_contact_purge(f->st, 2000));
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_contact_foreach(f->st, NULL, contact_collect,
						  &col));
	assert_string_equal("100/sip:c@h", col.buf);

	assert_int_equal(0, store_contact_purge(f->st, 1000000));
	assert_int_equal(0, raw_int(f->path, "SELECT COUNT(*) FROM contacts"));
}


static void test_contact_cascade(void **state)
{
	struct fixture *f = *state;
	struct store_contact c;
	struct collect col;

	assert_int_equal(0, store_open(&f->st, f->path));
	add_ext(f->st, "100");
	add_ext(f->st, "200");

	contact_fill(&c, "100", "sip:a@h", 1000);
	assert_int_equal(0, store_contact_put(f->st, &c));
	contact_fill(&c, "100", "sip:b@h", 1000);
	assert_int_equal(0, store_contact_put(f->st, &c));
	contact_fill(&c, "200", "sip:c@h", 1000);
	assert_int_equal(0, store_contact_put(f->st, &c));

	assert_int_equal(0, store_ext_remove(f->st, "100"));

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_contact_foreach(f->st, NULL, contact_collect,
						  &col));
	assert_string_equal("200/sip:c@h", col.buf);
	assert_int_equal(1, raw_int(f->path, "SELECT COUNT(*) FROM contacts"));
}


static void cdr_fill(struct store_cdr *cdr, const char *callid,
		     int64_t start_ms)
{
	memset(cdr, 0, sizeof(*cdr));
	str_ncpy(cdr->callid, callid, sizeof(cdr->callid));
	str_ncpy(cdr->caller, "100", sizeof(cdr->caller));
	str_ncpy(cdr->callee, "200", sizeof(cdr->callee));
	cdr->start_ms = start_ms;
	cdr->answer_ms = start_ms + 2000;
	cdr->end_ms = start_ms + 62000;
	str_ncpy(cdr->disposition, "ANSWERED", sizeof(cdr->disposition));
	str_ncpy(cdr->cause, "caller-bye", sizeof(cdr->cause));
	cdr->duration_s = 60;
}


static int cdr_check(const struct store_cdr *cdr, void *arg)
{
	const struct store_cdr *want = arg;

	assert_int_equal(want->id, cdr->id);
	assert_string_equal(want->callid, cdr->callid);
	assert_string_equal(want->caller, cdr->caller);
	assert_string_equal(want->callee, cdr->callee);
	assert_int_equal(want->start_ms, cdr->start_ms);
	assert_int_equal(want->answer_ms, cdr->answer_ms);
	assert_int_equal(want->end_ms, cdr->end_ms);
	assert_string_equal(want->disposition, cdr->disposition);
	assert_string_equal(want->cause, cdr->cause);
	assert_int_equal(want->duration_s, cdr->duration_s);

	return 7;
}


static void test_cdr(void **state)
{
	struct fixture *f = *state;
	struct store_cdr cdr, last;
	struct collect col;
	int64_t prev = 0;
	char callid[16];

	assert_int_equal(0, store_open(&f->st, f->path));

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_cdr_foreach(f->st, 0, cdr_collect, &col));
	assert_int_equal(0, col.n);

	for (int i = 1; i <= 5; i++) {
		re_snprintf(callid, sizeof(callid), "c%d", i);
		cdr_fill(&cdr, callid, 1700000000000LL + i * 1000);
		cdr.id = -1;
		assert_int_equal(0, store_cdr_add(f->st, &cdr));
		assert_true(cdr.id > prev);
		prev = cdr.id;
	}
	last = cdr;

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_cdr_foreach(f->st, 0, cdr_collect, &col));
	assert_string_equal("c5,c4,c3,c2,c1", col.buf);

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_cdr_foreach(f->st, 3, cdr_collect, &col));
	assert_string_equal("c5,c4,c3", col.buf);

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_cdr_foreach(f->st, 50, cdr_collect, &col));
	assert_int_equal(5, col.n);

	memset(&col, 0, sizeof(col));
	col.stop_after = 2;
	assert_int_equal(42, store_cdr_foreach(f->st, 0, cdr_collect, &col));
	assert_string_equal("c5,c4", col.buf);

	/* every field comes back as written */
	assert_int_equal(7, store_cdr_foreach(f->st, 1, cdr_check, &last));
}


static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;

	raw_exec(f->path, "CREATE TABLE schema_migrations (version INTEGER"
			  " PRIMARY KEY, name TEXT, applied_at INTEGER);"
			  " INSERT INTO schema_migrations VALUES"
			  " (999, '999_future', 0);");

	assert_int_equal(EPROTO, store_open(&f->st, f->path));
	assert_null(f->st);

	/* nothing was changed in the file */
	assert_int_equal(0, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " sqlite_master WHERE name ="
					     " 'extensions'"));
}


static void test_failed_migration_rolls_back(void **state)
{
	struct fixture *f = *state;

	/* a table in the way makes migration 1 fail half-way */
	raw_exec(f->path, "CREATE TABLE cdr (x INTEGER);");

	assert_int_equal(EIO, store_open(&f->st, f->path));
	assert_null(f->st);

	assert_int_equal(0, raw_int(f->path,
				    "SELECT COUNT(*) FROM schema_migrations"));
	assert_int_equal(0, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " sqlite_master WHERE name ="
					     " 'extensions'"));
}


static void test_bad_paths(void **state)
{
	struct fixture *f = *state;
	char path[192];
	FILE *fp;

	/* parent directory missing: not created, a clear error */
	re_snprintf(path, sizeof(path), "%s/missing/relais.db", f->dir);
	assert_int_equal(ENOENT, store_open(&f->st, path));
	assert_null(f->st);
	re_snprintf(path, sizeof(path), "%s/missing", f->dir);
	assert_int_equal(-1, access(path, F_OK));

	/* a parent that is a file: root cannot write there either */
	re_snprintf(path, sizeof(path), "%s/plain", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("this is not a database, it is a plain text file\n", fp);
	fclose(fp);

	re_snprintf(path, sizeof(path), "%s/plain/relais.db", f->dir);
	assert_int_not_equal(0, store_open(&f->st, path));
	assert_null(f->st);

	/* a file that is not a database */
	re_snprintf(path, sizeof(path), "%s/plain", f->dir);
	assert_int_equal(EIO, store_open(&f->st, path));
	assert_null(f->st);

	assert_int_equal(ENOTSUP,
			 store_open(&f->st, "postgresql://u:pw@db/relais"));
	assert_null(f->st);

	assert_int_equal(EINVAL, store_open(&f->st, ""));
	assert_int_equal(EINVAL, store_open(&f->st, "sqlite:"));
	assert_int_equal(EINVAL, store_open(&f->st, NULL));
	assert_int_equal(EINVAL, store_open(NULL, f->path));
	assert_null(f->st);
}


static void test_null_args(void **state)
{
	struct fixture *f = *state;
	struct store_ext ext;
	struct store_contact c;
	struct store_cdr cdr;
	uint32_t v;

	assert_int_equal(0, store_open(&f->st, f->path));
	ext_fill(&ext, "100", "A");
	contact_fill(&c, "100", "sip:a@h", 10);
	cdr_fill(&cdr, "x", 1);

	assert_int_equal(EINVAL, store_schema_version(NULL, &v));
	assert_int_equal(EINVAL, store_schema_version(f->st, NULL));
	assert_int_equal(EINVAL, store_ext_add(NULL, &ext));
	assert_int_equal(EINVAL, store_ext_add(f->st, NULL));
	assert_int_equal(EINVAL, store_ext_get(f->st, NULL, &ext));
	assert_int_equal(EINVAL, store_ext_get(f->st, "100", NULL));
	assert_int_equal(EINVAL, store_ext_update_ha1(f->st, NULL, "", ""));
	assert_int_equal(EINVAL, store_ext_update_ha1(f->st, "100", NULL, ""));
	assert_int_equal(EINVAL, store_ext_update_ha1(f->st, "100", "", NULL));
	assert_int_equal(EINVAL, store_ext_remove(f->st, NULL));
	assert_int_equal(EINVAL, store_ext_foreach(f->st, NULL, NULL));
	assert_int_equal(EINVAL, store_contact_put(f->st, NULL));
	assert_int_equal(EINVAL, store_contact_remove(f->st, NULL, "x"));
	assert_int_equal(EINVAL, store_contact_remove(f->st, "100", NULL));
	assert_int_equal(EINVAL, store_contact_remove_ext(f->st, NULL));
	assert_int_equal(EINVAL,
			 store_contact_foreach(f->st, NULL, NULL, NULL));
	assert_int_equal(EINVAL, store_contact_purge(NULL, 0));
	assert_int_equal(EINVAL, store_cdr_add(f->st, NULL));
	assert_int_equal(EINVAL, store_cdr_add(NULL, &cdr));
	assert_int_equal(EINVAL, store_cdr_foreach(f->st, 0, NULL, NULL));
	assert_int_equal(EINVAL, store_flush(NULL));

	/* empty keys */
	ext.number[0] = '\0';
	assert_int_equal(EINVAL, store_ext_add(f->st, &ext));
	c.uri[0] = '\0';
	assert_int_equal(EINVAL, store_contact_put(f->st, &c));

	assert_int_equal(0, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " extensions"));
}


static void test_flush(void **state)
{
	struct fixture *f = *state;
	char wal[160];
	FILE *fp;
	long size = -1;

	assert_int_equal(0, store_open(&f->st, f->path));
	add_ext(f->st, "100");

	/* TRUNCATE leaves an empty WAL file behind */
	assert_int_equal(0, store_flush(f->st));
	re_snprintf(wal, sizeof(wal), "%s-wal", f->path);
	fp = fopen(wal, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	assert_int_equal(0, size);

	assert_int_equal(1, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " extensions"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_schema,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_prefix, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_migrations,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_crud, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ext_truncate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ext_foreach, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_contact_upsert, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_contact_foreach, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_contact_purge, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_contact_cascade, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cdr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_migration_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_null_args, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
	};

	log_set_level(LOG_LVL_ERROR);

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/**
 * @file test_store_trunks.c  Store unit tests for issue 3: trunks,
 *                            outbound and inbound rules, office hours
 *                            and holidays (SQLite backend)
 *
 * Each test gets its own directory made with mkdtemp() under /tmp and
 * removes it afterwards. The file is also read through the sqlite3 API
 * directly, to check what the store wrote and to build an old database.
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

/* Collects what an iteration visited, as "a,b,c" */
struct collect {
	char buf[1024];
	unsigned n;
	unsigned stop_after; /* 0: never stop */
	struct store *st;
};


static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;

	re_snprintf(f->dir, sizeof(f->dir), "/tmp/relais-trunks-XXXXXX");
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


static void trunk_fill(struct store_trunk *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	str_ncpy(t->name, name, sizeof(t->name));
	str_ncpy(t->profile, "orange-btipoi", sizeof(t->profile));
	str_ncpy(t->kind, "register", sizeof(t->kind));
	str_ncpy(t->host, "sbc.example.net", sizeof(t->host));
	t->port = 5061;
	t->srv = true;
	str_ncpy(t->transport, "tls", sizeof(t->transport));
	str_ncpy(t->proxy, "proxy.example.net:5061", sizeof(t->proxy));
	str_ncpy(t->domain, "example.net", sizeof(t->domain));
	str_ncpy(t->auth_user, "0233456789", sizeof(t->auth_user));
	str_ncpy(t->password, "s3cr'et\"pw", sizeof(t->password));
	t->reg_interval = 180;
	t->max_calls = 10;
	t->inbound = true;
	t->outbound = false;
	str_ncpy(t->codecs, "PCMA/8000/20,G729/8000", sizeof(t->codecs));
	str_ncpy(t->srtp, "enforced", sizeof(t->srtp));
	str_ncpy(t->main_number, "0233456789", sizeof(t->main_number));
	str_ncpy(t->dids, "0233456789,0233456*", sizeof(t->dids));
	str_ncpy(t->caller_id, "0233456700", sizeof(t->caller_id));
	str_ncpy(t->caller_name, "Relais SA", sizeof(t->caller_name));
	t->pai = true;
	str_ncpy(t->privacy, "id", sizeof(t->privacy));
	t->diversion = true;
	t->options_interval = 30;
	str_ncpy(t->contact_addr, "192.0.2.10", sizeof(t->contact_addr));
	t->created = 1700000000;
}


static void trunk_assert_equal(const struct store_trunk *a,
			       const struct store_trunk *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->profile, b->profile);
	assert_string_equal(a->kind, b->kind);
	assert_string_equal(a->host, b->host);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->srv, b->srv);
	assert_string_equal(a->transport, b->transport);
	assert_string_equal(a->proxy, b->proxy);
	assert_string_equal(a->domain, b->domain);
	assert_string_equal(a->auth_user, b->auth_user);
	assert_string_equal(a->password, b->password);
	assert_int_equal(a->reg_interval, b->reg_interval);
	assert_int_equal(a->max_calls, b->max_calls);
	assert_int_equal(a->inbound, b->inbound);
	assert_int_equal(a->outbound, b->outbound);
	assert_string_equal(a->codecs, b->codecs);
	assert_string_equal(a->srtp, b->srtp);
	assert_string_equal(a->main_number, b->main_number);
	assert_string_equal(a->dids, b->dids);
	assert_string_equal(a->caller_id, b->caller_id);
	assert_string_equal(a->caller_name, b->caller_name);
	assert_int_equal(a->pai, b->pai);
	assert_string_equal(a->privacy, b->privacy);
	assert_int_equal(a->diversion, b->diversion);
	assert_int_equal(a->options_interval, b->options_interval);
	assert_string_equal(a->contact_addr, b->contact_addr);
	assert_int_equal(a->created, b->created);
}


static void add_trunk(struct store *st, const char *name)
{
	struct store_trunk t;

	trunk_fill(&t, name);
	assert_int_equal(0, store_trunk_add(st, &t));
}


static void orule_fill(struct store_orule *r, const char *name,
		       uint32_t position)
{
	memset(r, 0, sizeof(*r));
	str_ncpy(r->name, name, sizeof(r->name));
	str_ncpy(r->prefix, "0", sizeof(r->prefix));
	r->position = position;
}


static void route_set(struct store_orule *r, const char *trunk, uint32_t strip,
		      const char *prepend, bool blocked)
{
	struct store_route *rt = &r->routes[r->routec++];

	str_ncpy(rt->trunk, trunk, sizeof(rt->trunk));
	rt->strip = strip;
	str_ncpy(rt->prepend, prepend, sizeof(rt->prepend));
	rt->blocked = blocked;
}


static int trunk_collect(const struct store_trunk *t, void *arg)
{
	struct collect *col = arg;

	collect_add(col, t->name);

	return collect_stop(col);
}


/* "name@position" */
static int orule_collect(const struct store_orule *r, void *arg)
{
	struct collect *col = arg;
	char s[96];

	re_snprintf(s, sizeof(s), "%s@%u", r->name, r->position);
	collect_add(col, s);

	return collect_stop(col);
}


static void orules_expect(struct store *st, const char *expect)
{
	struct collect col;

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_orule_foreach(st, orule_collect, &col));
	assert_string_equal(expect, col.buf);
}


static void test_schema_version(void **state)
{
	struct fixture *f = *state;
	uint32_t version = 0;

	assert_int_equal(0, store_schema_version(f->st, &version));
	assert_int_equal(store_migrations[store_migrationc - 1].version,
			 version);

	assert_int_equal(6, raw_int(f->path,
				    "SELECT COUNT(*) FROM sqlite_master"
				    " WHERE type = 'table' AND name IN"
				    " ('trunks', 'orules', 'orule_routes',"
				    " 'irules', 'office_hours', 'holidays')"));
	assert_int_equal(1, raw_int(f->path,
				    "SELECT COUNT(*) FROM schema_migrations"
				    " WHERE version = 2"
				    " AND name = '002_trunks'"));
}


/* A file as a version-1 relaisd left it: upgraded in place, data kept */
static void test_migrate_from_v1(void **state)
{
	struct fixture *f = *state;
	struct store_ext ext;
	uint32_t version = 0;
	sqlite3 *db = NULL;

	assert_true(store_migrationc >= 2);
	assert_int_equal(1, store_migrations[0].version);

	assert_int_equal(SQLITE_OK, sqlite3_open(f->path, &db));
	assert_int_equal(SQLITE_OK,
			 sqlite3_exec(db,
				      "CREATE TABLE schema_migrations ("
				      " version INTEGER PRIMARY KEY,"
				      " name TEXT, applied_at INTEGER);"
				      " INSERT INTO schema_migrations VALUES"
				      " (1, '001_init', 12345);",
				      NULL, NULL, NULL));
	assert_int_equal(SQLITE_OK, sqlite3_exec(db, store_migrations[0].sql,
						 NULL, NULL, NULL));
	assert_int_equal(SQLITE_OK,
			 sqlite3_exec(db,
				      "INSERT INTO extensions (number, name)"
				      " VALUES ('100', 'Alice')",
				      NULL, NULL, NULL));
	sqlite3_close(db);

	assert_int_equal(0, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " sqlite_master WHERE name ="
					     " 'trunks'"));

	assert_int_equal(0, store_open(&f->st, f->path));
	assert_int_equal(0, store_schema_version(f->st, &version));
	assert_int_equal(store_migrations[store_migrationc - 1].version,
			 version);

	/* version 1 was not re-applied, its data is still there */
	assert_int_equal(0, store_ext_get(f->st, "100", &ext));
	assert_string_equal("Alice", ext.name);
	assert_int_equal(1, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " schema_migrations WHERE"
					     " version = 1 AND"
					     " applied_at = 12345"));
	assert_int_equal((int)store_migrationc,
			 raw_int(f->path, "SELECT COUNT(*) FROM"
					  " schema_migrations"));

	/* the new tables work */
	add_trunk(f->st, "orange");
	f->st = mem_deref(f->st);

	/* and a second open changes nothing */
	assert_int_equal(0, store_open(&f->st, f->path));
	assert_int_equal(0, store_schema_version(f->st, &version));
	assert_int_equal(store_migrations[store_migrationc - 1].version,
			 version);
	assert_int_equal(1, raw_int(f->path, "SELECT COUNT(*) FROM trunks"));
}


static void test_trunk_crud(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t, got;

	trunk_fill(&t, "orange");
	assert_int_equal(0, store_trunk_add(f->st, &t));
	assert_int_equal(EEXIST, store_trunk_add(f->st, &t));

	memset(&got, 0xa5, sizeof(got));
	assert_int_equal(0, store_trunk_get(f->st, "orange", &got));
	trunk_assert_equal(&t, &got);
	assert_int_equal(ENOENT, store_trunk_get(f->st, "nope", &got));

	/* update replaces everything but the creation time */
	trunk_fill(&t, "orange");
	str_ncpy(t.profile, "", sizeof(t.profile));
	str_ncpy(t.kind, "ip", sizeof(t.kind));
	str_ncpy(t.host, "10.1.2.3", sizeof(t.host));
	t.port = 0;
	t.srv = false;
	str_ncpy(t.transport, "udp", sizeof(t.transport));
	str_ncpy(t.password, "", sizeof(t.password));
	t.max_calls = 30;
	t.inbound = false;
	t.outbound = true;
	t.pai = false;
	t.diversion = false;
	t.options_interval = 0;
	str_ncpy(t.privacy, "", sizeof(t.privacy));
	t.created = 42;
	assert_int_equal(0, store_trunk_update(f->st, &t));
	assert_int_equal(0, store_trunk_get(f->st, "orange", &got));
	t.created = 1700000000;
	trunk_assert_equal(&t, &got);

	trunk_fill(&t, "ghost");
	assert_int_equal(ENOENT, store_trunk_update(f->st, &t));
	assert_int_equal(ENOENT, store_trunk_get(f->st, "ghost", &got));

	/* created 0 means now */
	trunk_fill(&t, "sfr");
	t.created = 0;
	assert_int_equal(0, store_trunk_add(f->st, &t));
	assert_int_equal(0, store_trunk_get(f->st, "sfr", &got));
	assert_true(got.created > 1700000000);

	assert_int_equal(ENOENT, store_trunk_remove(f->st, "ghost"));
	assert_int_equal(0, store_trunk_remove(f->st, "orange"));
	assert_int_equal(ENOENT, store_trunk_get(f->st, "orange", &got));
	assert_int_equal(ENOENT, store_trunk_remove(f->st, "orange"));
	assert_int_equal(1, raw_int(f->path, "SELECT COUNT(*) FROM trunks"));
}


/* Values are bound, never pasted into SQL; full-size fields are cut */
static void test_trunk_text(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t, got;

	trunk_fill(&t, "x'); DROP TABLE trunks; --");
	assert_int_equal(0, store_trunk_add(f->st, &t));
	assert_int_equal(0, store_trunk_get(f->st, t.name, &got));
	assert_string_equal(t.name, got.name);

	/* no NUL in the field: stored as its full size, read back cut */
	trunk_fill(&t, "full");
	memset(t.host, 'h', sizeof(t.host));
	assert_int_equal(0, store_trunk_add(f->st, &t));
	assert_int_equal(sizeof(t.host),
			 raw_int(f->path, "SELECT LENGTH(host) FROM trunks"
					  " WHERE name = 'full'"));
	assert_int_equal(0, store_trunk_get(f->st, "full", &got));
	assert_int_equal(sizeof(got.host) - 1, strlen(got.host));
}


static void test_trunk_foreach(void **state)
{
	struct fixture *f = *state;
	struct collect col;

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_trunk_foreach(f->st, trunk_collect, &col));
	assert_int_equal(0, col.n);

	add_trunk(f->st, "sfr");
	add_trunk(f->st, "bouygues");
	add_trunk(f->st, "orange");

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_trunk_foreach(f->st, trunk_collect, &col));
	assert_string_equal("bouygues,orange,sfr", col.buf);

	memset(&col, 0, sizeof(col));
	col.stop_after = 2;
	assert_int_equal(42, store_trunk_foreach(f->st, trunk_collect, &col));
	assert_string_equal("bouygues,orange", col.buf);
}


static void test_trunk_in_use(void **state)
{
	struct fixture *f = *state;
	struct store_orule r;
	struct store_irule ir;

	add_trunk(f->st, "nominal");
	add_trunk(f->st, "backup");

	orule_fill(&r, "national", 0);
	route_set(&r, "nominal", 1, "+33", false);
	route_set(&r, "backup", 1, "+33", false);
	assert_int_equal(0, store_orule_add(f->st, &r));

	memset(&ir, 0, sizeof(ir));
	str_ncpy(ir.trunk, "backup", sizeof(ir.trunk));
	str_ncpy(ir.did, "0233456789", sizeof(ir.did));
	str_ncpy(ir.dest_open, "extension:100", sizeof(ir.dest_open));
	assert_int_equal(0, store_irule_add(f->st, &ir));

	assert_int_equal(EBUSY, store_trunk_remove(f->st, "nominal"));
	assert_int_equal(EBUSY, store_trunk_remove(f->st, "backup"));
	assert_int_equal(2, raw_int(f->path, "SELECT COUNT(*) FROM trunks"));

	/* the outbound rule goes: only the inbound rule still holds one */
	assert_int_equal(0, store_orule_remove(f->st, r.id));
	assert_int_equal(0, store_trunk_remove(f->st, "nominal"));
	assert_int_equal(EBUSY, store_trunk_remove(f->st, "backup"));

	assert_int_equal(0, store_irule_remove(f->st, ir.id));
	assert_int_equal(0, store_trunk_remove(f->st, "backup"));
	assert_int_equal(0, raw_int(f->path, "SELECT COUNT(*) FROM trunks"));
}


/* A rule naming an unknown trunk is refused and leaves nothing behind */
static void test_unknown_trunk(void **state)
{
	struct fixture *f = *state;
	struct store_orule r;
	struct store_irule ir;

	add_trunk(f->st, "nominal");

	orule_fill(&r, "first", 0);
	route_set(&r, "nominal", 0, "", false);
	assert_int_equal(0, store_orule_add(f->st, &r));

	orule_fill(&r, "bad", 1);
	route_set(&r, "nominal", 0, "", false);
	route_set(&r, "missing", 0, "", false);
	assert_int_equal(ENOENT, store_orule_add(f->st, &r));
	assert_int_equal(0, r.id);

	/* the shift of "first" was rolled back with the rest */
	orules_expect(f->st, "first@1");
	assert_int_equal(1, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " orule_routes"));

	memset(&ir, 0, sizeof(ir));
	str_ncpy(ir.trunk, "missing", sizeof(ir.trunk));
	str_ncpy(ir.did, "*", sizeof(ir.did));
	assert_int_equal(ENOENT, store_irule_add(f->st, &ir));
	assert_int_equal(0, raw_int(f->path, "SELECT COUNT(*) FROM irules"));
}


static void test_orule_positions(void **state)
{
	struct fixture *f = *state;
	struct store_orule r;
	int64_t id_a, id_c;

	orules_expect(f->st, "");

	orule_fill(&r, "A", 0);
	assert_int_equal(0, store_orule_add(f->st, &r));
	assert_int_equal(1, r.position);
	id_a = r.id;
	assert_true(id_a > 0);

	orule_fill(&r, "B", 0);
	assert_int_equal(0, store_orule_add(f->st, &r));
	assert_int_equal(2, r.position);
	assert_true(r.id != id_a);

	orule_fill(&r, "C", 0);
	assert_int_equal(0, store_orule_add(f->st, &r));
	id_c = r.id;
	orules_expect(f->st, "A@1,B@2,C@3");

	/* inserted first: everything moves down */
	orule_fill(&r, "D", 1);
	assert_int_equal(0, store_orule_add(f->st, &r));
	assert_int_equal(1, r.position);
	orules_expect(f->st, "D@1,A@2,B@3,C@4");

	/* in the middle */
	orule_fill(&r, "E", 3);
	assert_int_equal(0, store_orule_add(f->st, &r));
	orules_expect(f->st, "D@1,A@2,E@3,B@4,C@5");

	/* at the last place: the last one moves after it */
	orule_fill(&r, "F", 5);
	assert_int_equal(0, store_orule_add(f->st, &r));
	orules_expect(f->st, "D@1,A@2,E@3,B@4,F@5,C@6");

	/* past the end appends without a gap */
	orule_fill(&r, "G", 99);
	assert_int_equal(0, store_orule_add(f->st, &r));
	assert_int_equal(7, r.position);
	orules_expect(f->st, "D@1,A@2,E@3,B@4,F@5,C@6,G@7");

	/* removal closes the gap */
	assert_int_equal(0, store_orule_remove(f->st, id_a));
	orules_expect(f->st, "D@1,E@2,B@3,F@4,C@5,G@6");
	assert_int_equal(0, store_orule_remove(f->st, id_c));
	orules_expect(f->st, "D@1,E@2,B@3,F@4,G@5");

	assert_int_equal(ENOENT, store_orule_remove(f->st, id_a));
	assert_int_equal(ENOENT, store_orule_get(f->st, id_a, &r));
	orules_expect(f->st, "D@1,E@2,B@3,F@4,G@5");
}


static void test_orule_routes(void **state)
{
	struct fixture *f = *state;
	struct store_orule r, got;
	int64_t five;

	add_trunk(f->st, "nominal");
	add_trunk(f->st, "backup");

	orule_fill(&r, "national", 0);
	str_ncpy(r.prefix, "0", sizeof(r.prefix));
	str_ncpy(r.callers, "100,101,200-220", sizeof(r.callers));
	r.min_len = 10;
	r.max_len = 10;
	route_set(&r, "nominal", 1, "+33", false);
	route_set(&r, "backup", 0, "0033", false);
	route_set(&r, "", 0, "", true);
	assert_int_equal(0, store_orule_add(f->st, &r));

	memset(&got, 0xa5, sizeof(got));
	assert_int_equal(0, store_orule_get(f->st, r.id, &got));
	assert_int_equal(r.id, got.id);
	assert_int_equal(1, got.position);
	assert_string_equal("national", got.name);
	assert_string_equal("0", got.prefix);
	assert_string_equal("100,101,200-220", got.callers);
	assert_int_equal(10, got.min_len);
	assert_int_equal(10, got.max_len);
	assert_int_equal(3, got.routec);
	assert_string_equal("nominal", got.routes[0].trunk);
	assert_int_equal(1, got.routes[0].strip);
	assert_string_equal("+33", got.routes[0].prepend);
	assert_false(got.routes[0].blocked);
	assert_string_equal("backup", got.routes[1].trunk);
	assert_int_equal(0, got.routes[1].strip);
	assert_string_equal("0033", got.routes[1].prepend);
	assert_string_equal("", got.routes[2].trunk);
	assert_true(got.routes[2].blocked);

	/* a blocked route stores no trunk reference */
	assert_int_equal(1, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " orule_routes WHERE trunk"
					     " IS NULL AND blocked = 1"));

	/* the maximum number of routes; a rule with none */
	orule_fill(&r, "five", 0);
	for (int i = 0; i < STORE_ROUTES_MAX; i++)
		route_set(&r, i % 2 ? "backup" : "nominal", (uint32_t)i, "",
			  false);
	assert_int_equal(0, store_orule_add(f->st, &r));
	five = r.id;
	assert_int_equal(0, store_orule_get(f->st, five, &got));
	assert_int_equal(STORE_ROUTES_MAX, got.routec);
	for (int i = 0; i < STORE_ROUTES_MAX; i++)
		assert_int_equal(i, got.routes[i].strip);

	orule_fill(&r, "none", 0);
	assert_int_equal(0, store_orule_add(f->st, &r));
	assert_int_equal(0, store_orule_get(f->st, r.id, &got));
	assert_int_equal(0, got.routec);

	/* too many routes */
	orule_fill(&r, "six", 0);
	r.routec = STORE_ROUTES_MAX + 1;
	assert_int_equal(EINVAL, store_orule_add(f->st, &r));

	/* routes go with their rule */
	assert_int_equal(8, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " orule_routes"));
	assert_int_equal(0, store_orule_remove(f->st, five));
	assert_int_equal(3, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " orule_routes"));
}


/* A handler reads the store while the iteration is still stepping */
static int orule_nested(const struct store_orule *r, void *arg)
{
	struct collect *col = arg;
	struct store_orule again;
	struct store_trunk t;
	char s[96];

	assert_int_equal(0, store_orule_get(col->st, r->id, &again));
	assert_int_equal(r->routec, again.routec);
	assert_int_equal(0, store_trunk_get(col->st, r->routes[0].trunk, &t));

	re_snprintf(s, sizeof(s), "%s:%s", again.name, t.name);
	collect_add(col, s);

	return 0;
}


static void test_orule_foreach_nested(void **state)
{
	struct fixture *f = *state;
	struct store_orule r;
	struct collect col;

	add_trunk(f->st, "t1");
	add_trunk(f->st, "t2");

	orule_fill(&r, "b", 0);
	route_set(&r, "t2", 0, "", false);
	assert_int_equal(0, store_orule_add(f->st, &r));
	orule_fill(&r, "a", 1);
	route_set(&r, "t1", 0, "", false);
	route_set(&r, "t2", 0, "", false);
	assert_int_equal(0, store_orule_add(f->st, &r));

	memset(&col, 0, sizeof(col));
	col.st = f->st;
	assert_int_equal(0, store_orule_foreach(f->st, orule_nested, &col));
	assert_string_equal("a:t1,b:t2", col.buf);

	memset(&col, 0, sizeof(col));
	col.stop_after = 1;
	assert_int_equal(42, store_orule_foreach(f->st, orule_collect, &col));
	assert_string_equal("a@1", col.buf);
}


static int irule_collect(const struct store_irule *r, void *arg)
{
	struct collect *col = arg;
	char s[256];

	re_snprintf(s, sizeof(s), "%s[%s]%s>%s|%s|%s", r->name, r->trunk,
		    r->did, r->dest_open, r->dest_closed, r->dest_holiday);
	collect_add(col, s);

	return collect_stop(col);
}


static void test_irule(void **state)
{
	struct fixture *f = *state;
	struct store_irule r;
	struct collect col;
	int64_t first;

	add_trunk(f->st, "orange");

	memset(&r, 0, sizeof(r));
	str_ncpy(r.name, "main", sizeof(r.name));
	str_ncpy(r.trunk, "orange", sizeof(r.trunk));
	str_ncpy(r.did, "0233456789", sizeof(r.did));
	str_ncpy(r.dest_open, "extension:100", sizeof(r.dest_open));
	str_ncpy(r.dest_closed, "external:0611223344", sizeof(r.dest_closed));
	str_ncpy(r.dest_holiday, "hangup", sizeof(r.dest_holiday));
	assert_int_equal(0, store_irule_add(f->st, &r));
	first = r.id;
	assert_true(first > 0);

	memset(&r, 0, sizeof(r));
	str_ncpy(r.name, "rest", sizeof(r.name));
	str_ncpy(r.did, "*", sizeof(r.did));
	str_ncpy(r.dest_open, "hangup", sizeof(r.dest_open));
	assert_int_equal(0, store_irule_add(f->st, &r));
	assert_true(r.id > first);

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_irule_foreach(f->st, irule_collect, &col));
	assert_string_equal("main[orange]0233456789>extension:100|"
			    "external:0611223344|hangup,"
			    "rest[]*>hangup||",
			    col.buf);

	memset(&col, 0, sizeof(col));
	col.stop_after = 1;
	assert_int_equal(42, store_irule_foreach(f->st, irule_collect, &col));
	assert_int_equal(1, col.n);

	assert_int_equal(0, store_irule_remove(f->st, first));
	assert_int_equal(ENOENT, store_irule_remove(f->st, first));

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_irule_foreach(f->st, irule_collect, &col));
	assert_string_equal("rest[]*>hangup||", col.buf);
}


static int hours_collect(const struct store_hours *h, void *arg)
{
	struct collect *col = arg;
	char s[160];

	re_snprintf(s, sizeof(s), "%u=%s", h->day, h->ranges);
	collect_add(col, s);

	return collect_stop(col);
}


static void test_hours(void **state)
{
	struct fixture *f = *state;
	struct store_hours h;
	struct collect col;

	/* never set: 7 closed days */
	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_hours_foreach(f->st, hours_collect, &col));
	assert_string_equal("0=,1=,2=,3=,4=,5=,6=", col.buf);

	memset(&h, 0, sizeof(h));
	h.day = 0;
	str_ncpy(h.ranges, "09:00-12:00", sizeof(h.ranges));
	assert_int_equal(0, store_hours_set(f->st, &h));
	h.day = 4;
	str_ncpy(h.ranges, "08:30-12:00,13:30-17:00", sizeof(h.ranges));
	assert_int_equal(0, store_hours_set(f->st, &h));

	/* set again: replaced */
	h.day = 0;
	str_ncpy(h.ranges, "08:30-12:00,13:30-18:00", sizeof(h.ranges));
	assert_int_equal(0, store_hours_set(f->st, &h));
	h.day = 6;
	str_ncpy(h.ranges, "", sizeof(h.ranges));
	assert_int_equal(0, store_hours_set(f->st, &h));

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_hours_foreach(f->st, hours_collect, &col));
	assert_string_equal("0=08:30-12:00,13:30-18:00,1=,2=,3=,"
			    "4=08:30-12:00,13:30-17:00,5=,6=",
			    col.buf);
	assert_int_equal(2, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " office_hours WHERE"
					     " ranges <> ''"));

	memset(&col, 0, sizeof(col));
	col.stop_after = 3;
	assert_int_equal(42, store_hours_foreach(f->st, hours_collect, &col));
	assert_int_equal(3, col.n);

	h.day = 7;
	assert_int_equal(EINVAL, store_hours_set(f->st, &h));
}


static int holiday_collect(const struct store_holiday *hd, void *arg)
{
	struct collect *col = arg;
	char s[128];

	re_snprintf(s, sizeof(s), "%s:%s..%s%s", hd->name, hd->first, hd->last,
		    hd->yearly ? "/y" : "");
	collect_add(col, s);

	return collect_stop(col);
}


static void holiday_fill(struct store_holiday *hd, const char *name,
			 const char *first, const char *last, bool yearly)
{
	memset(hd, 0, sizeof(*hd));
	str_ncpy(hd->name, name, sizeof(hd->name));
	str_ncpy(hd->first, first, sizeof(hd->first));
	str_ncpy(hd->last, last, sizeof(hd->last));
	hd->yearly = yearly;
}


static void test_holiday(void **state)
{
	struct fixture *f = *state;
	struct store_holiday hd;
	struct collect col;
	int64_t xmas;

	holiday_fill(&hd, "xmas", "2000-12-25", "2000-12-25", true);
	assert_int_equal(0, store_holiday_add(f->st, &hd));
	xmas = hd.id;
	assert_true(xmas > 0);

	/* no last day: the first day only */
	holiday_fill(&hd, "closed", "2025-05-02", "", false);
	assert_int_equal(0, store_holiday_add(f->st, &hd));
	assert_true(hd.id > xmas);

	holiday_fill(&hd, "summer", "2025-08-04", "2025-08-22", false);
	assert_int_equal(0, store_holiday_add(f->st, &hd));

	memset(&col, 0, sizeof(col));
	assert_int_equal(0,
			 store_holiday_foreach(f->st, holiday_collect, &col));
	assert_string_equal("xmas:2000-12-25..2000-12-25/y,"
			    "closed:2025-05-02..2025-05-02,"
			    "summer:2025-08-04..2025-08-22",
			    col.buf);

	memset(&col, 0, sizeof(col));
	col.stop_after = 1;
	assert_int_equal(42,
			 store_holiday_foreach(f->st, holiday_collect, &col));

	assert_int_equal(0, store_holiday_remove(f->st, xmas));
	assert_int_equal(ENOENT, store_holiday_remove(f->st, xmas));
	assert_int_equal(2, raw_int(f->path, "SELECT COUNT(*) FROM"
					     " holidays"));

	holiday_fill(&hd, "nodate", "", "", false);
	assert_int_equal(EINVAL, store_holiday_add(f->st, &hd));
}


/* Everything survives closing and reopening the file */
static void test_persist(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t, got;
	struct store_orule r;
	struct store_hours h;
	struct collect col;

	trunk_fill(&t, "orange");
	assert_int_equal(0, store_trunk_add(f->st, &t));
	orule_fill(&r, "r1", 0);
	route_set(&r, "orange", 1, "+33", false);
	assert_int_equal(0, store_orule_add(f->st, &r));
	memset(&h, 0, sizeof(h));
	h.day = 2;
	str_ncpy(h.ranges, "10:00-11:00", sizeof(h.ranges));
	assert_int_equal(0, store_hours_set(f->st, &h));

	f->st = mem_deref(f->st);
	raw_exec(f->path, "PRAGMA integrity_check");
	assert_int_equal(0, store_open(&f->st, f->path));

	assert_int_equal(0, store_trunk_get(f->st, "orange", &got));
	trunk_assert_equal(&t, &got);
	orules_expect(f->st, "r1@1");

	memset(&col, 0, sizeof(col));
	assert_int_equal(0, store_hours_foreach(f->st, hours_collect, &col));
	assert_string_equal("0=,1=,2=10:00-11:00,3=,4=,5=,6=", col.buf);
}


static void test_null_args(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct store_orule r;
	struct store_irule ir;
	struct store_hours h;
	struct store_holiday hd;

	trunk_fill(&t, "x");
	orule_fill(&r, "x", 0);
	memset(&ir, 0, sizeof(ir));
	memset(&h, 0, sizeof(h));
	holiday_fill(&hd, "x", "2025-01-01", "", false);

	assert_int_equal(EINVAL, store_trunk_add(NULL, &t));
	assert_int_equal(EINVAL, store_trunk_add(f->st, NULL));
	assert_int_equal(EINVAL, store_trunk_update(NULL, &t));
	assert_int_equal(EINVAL, store_trunk_update(f->st, NULL));
	assert_int_equal(EINVAL, store_trunk_get(f->st, NULL, &t));
	assert_int_equal(EINVAL, store_trunk_get(f->st, "", &t));
	assert_int_equal(EINVAL, store_trunk_get(f->st, "x", NULL));
	assert_int_equal(EINVAL, store_trunk_remove(f->st, NULL));
	assert_int_equal(EINVAL, store_trunk_remove(NULL, "x"));
	assert_int_equal(EINVAL, store_trunk_foreach(f->st, NULL, NULL));
	assert_int_equal(EINVAL, store_orule_add(NULL, &r));
	assert_int_equal(EINVAL, store_orule_add(f->st, NULL));
	assert_int_equal(EINVAL, store_orule_get(f->st, 1, NULL));
	assert_int_equal(EINVAL, store_orule_get(NULL, 1, &r));
	assert_int_equal(EINVAL, store_orule_remove(NULL, 1));
	assert_int_equal(EINVAL, store_orule_foreach(f->st, NULL, NULL));
	assert_int_equal(EINVAL, store_irule_add(f->st, NULL));
	assert_int_equal(EINVAL, store_irule_add(NULL, &ir));
	assert_int_equal(EINVAL, store_irule_remove(NULL, 1));
	assert_int_equal(EINVAL, store_irule_foreach(f->st, NULL, NULL));
	assert_int_equal(EINVAL, store_hours_set(f->st, NULL));
	assert_int_equal(EINVAL, store_hours_set(NULL, &h));
	assert_int_equal(EINVAL, store_hours_foreach(f->st, NULL, NULL));
	assert_int_equal(EINVAL, store_holiday_add(f->st, NULL));
	assert_int_equal(EINVAL, store_holiday_add(NULL, &hd));
	assert_int_equal(EINVAL, store_holiday_remove(NULL, 1));
	assert_int_equal(EINVAL, store_holiday_foreach(f->st, NULL, NULL));

	/* empty name */
	t.name[0] = '\0';
	assert_int_equal(EINVAL, store_trunk_add(f->st, &t));
	assert_int_equal(EINVAL, store_trunk_update(f->st, &t));

	assert_int_equal(0, raw_int(f->path, "SELECT COUNT(*) FROM trunks"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_version,
						setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trunk_crud, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_trunk_text, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_trunk_foreach, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_trunk_in_use, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_trunk, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_orule_positions,
						setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_orule_routes, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_orule_foreach_nested,
						setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_irule, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_hours, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_holiday, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_persist, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_null_args, setup_open,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/**
 * @file store_sqlite.c  SQLite backend of the store
 *
 * One connection per open store, used only by the thread that opened it
 * (the SIP thread). Statements are prepared on first use and kept in the
 * connection's struct until it closes. A handler called from a *_foreach()
 * may call back into the store: a statement that is still stepping is then
 * prepared afresh for the nested call rather than reset under the caller.
 */

#include <errno.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>
#include <re.h>
#include "core/core.h"
#include "store/store_int.h"

#define DEBUG_MODULE "store"

enum {
	BUSY_TIMEOUT_MS = 2000,
};

enum stmt_id {
	ST_VERSION = 0,
	ST_MIGRATION_ADD,
	ST_JOURNAL_WAL,
	ST_CHECKPOINT,
	ST_EXT_ADD,
	ST_EXT_GET,
	ST_EXT_EXISTS,
	ST_EXT_HA1,
	ST_EXT_REMOVE,
	ST_EXT_ALL,
	ST_CONTACT_PUT,
	ST_CONTACT_REMOVE,
	ST_CONTACT_REMOVE_EXT,
	ST_CONTACT_EXT,
	ST_CONTACT_ALL,
	ST_CONTACT_PURGE,
	ST_CDR_ADD,
	ST_CDR_LIST,
	ST_COUNT
};

#define EXT_COLS "number, name, ha1_md5, ha1_sha256, created"
#define CONTACT_COLS                                                          \
	"ext, uri, received, transport, user_agent, callid, cseq, expires,"   \
	" updated"
#define CDR_COLS                                                              \
	"callid, caller, callee, start_ms, answer_ms, end_ms, disposition,"   \
	" cause, duration_s"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_VERSION] = "SELECT COALESCE(MAX(version), 0)"
		       " FROM schema_migrations",
	[ST_MIGRATION_ADD] = "INSERT INTO schema_migrations"
			     " (version, name, applied_at)"
			     " VALUES (?1, ?2, ?3)",
	[ST_JOURNAL_WAL] = "PRAGMA journal_mode = WAL",
	[ST_CHECKPOINT] = "PRAGMA wal_checkpoint(TRUNCATE)",
	[ST_EXT_ADD] = "INSERT INTO extensions (" EXT_COLS ")"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_EXT_GET] = "SELECT " EXT_COLS " FROM extensions WHERE number = ?1",
	[ST_EXT_EXISTS] = "SELECT 1 FROM extensions WHERE number = ?1",
	[ST_EXT_HA1] = "UPDATE extensions SET ha1_md5 = ?2, ha1_sha256 = ?3"
		       " WHERE number = ?1",
	[ST_EXT_REMOVE] = "DELETE FROM extensions WHERE number = ?1",
	[ST_EXT_ALL] = "SELECT " EXT_COLS " FROM extensions ORDER BY number",
	[ST_CONTACT_PUT] = "INSERT INTO contacts (" CONTACT_COLS ")"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
			   " ON CONFLICT (ext, uri) DO UPDATE SET"
			   " received = excluded.received,"
			   " transport = excluded.transport,"
			   " user_agent = excluded.user_agent,"
			   " callid = excluded.callid,"
			   " cseq = excluded.cseq,"
			   " expires = excluded.expires,"
			   " updated = excluded.updated",
	[ST_CONTACT_REMOVE] = "DELETE FROM contacts"
			      " WHERE ext = ?1 AND uri = ?2",
	[ST_CONTACT_REMOVE_EXT] = "DELETE FROM contacts WHERE ext = ?1",
	[ST_CONTACT_EXT] = "SELECT " CONTACT_COLS " FROM contacts"
			   " WHERE ext = ?1 ORDER BY uri",
	[ST_CONTACT_ALL] = "SELECT " CONTACT_COLS " FROM contacts"
			   " ORDER BY ext, uri",
	[ST_CONTACT_PURGE] = "DELETE FROM contacts WHERE expires <= ?1",
	[ST_CDR_ADD] = "INSERT INTO cdr (" CDR_COLS ")"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_CDR_LIST] = "SELECT id, " CDR_COLS " FROM cdr"
			" ORDER BY start_ms DESC, id DESC LIMIT ?1",
};

static const char schema_migrations_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT,"
    " applied_at INTEGER)";

/** One SQLite connection with its cached statements */
struct sqlite_db {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmtv[ST_COUNT];
};

/** Binds parameters 1, 2, ... in order, keeping the first error */
struct binder {
	sqlite3_stmt *stmt;
	int idx;
	int rc;
};

/** Decodes the current row and calls the caller's handler */
typedef int(row_h)(sqlite3_stmt *stmt, void *ctx);

struct iter {
	void *h;
	void *arg;
};


static void destructor(void *arg)
{
	struct sqlite_db *sdb = arg;

	for (size_t i = 0; i < ARRAY_SIZE(sdb->stmtv); i++)
		sqlite3_finalize(sdb->stmtv[i]);

	sqlite3_close_v2(sdb->db);
	mem_deref(sdb->path);
}


/* Turns a failed sqlite3 result code into an errno, logging the reason */
static int db_err(struct sqlite_db *sdb, int rc, const char *what)
{
	switch (rc) {

	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		log_debug("%s: %s", what, sqlite3_errmsg(sdb->db));
		return EEXIST;

	case SQLITE_CONSTRAINT_FOREIGNKEY:
		log_debug("%s: %s", what, sqlite3_errmsg(sdb->db));
		return ENOENT;

	default:
		break;
	}

	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		log_warn("%s: %s", what, sqlite3_errmsg(sdb->db));
		return EINVAL;
	}

	log_warn("%s: %s (%s)", what, sqlite3_errmsg(sdb->db),
		 sqlite3_errstr(rc));

	return EIO;
}


/* Fixed SQL with no parameters (pragmas, transactions, migrations) */
static int exec_sql(struct sqlite_db *sdb, const char *sql, const char *what)
{
	int rc;

	rc = sqlite3_exec(sdb->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_err(sdb, rc, what);

	return 0;
}


/* Gets statement id ready for binding; stmt_release() gives it back */
static int stmt_get(struct sqlite_db *sdb, enum stmt_id id,
		    sqlite3_stmt **stmtp)
{
	sqlite3_stmt *stmt = sdb->stmtv[id];
	int rc;

	if (stmt && !sqlite3_stmt_busy(stmt)) {
		*stmtp = stmt;
		return 0;
	}

	/* not prepared yet, or stepping in a caller up the stack */
	rc = sqlite3_prepare_v3(sdb->db, stmt_sql[id], -1,
				stmt ? 0 : SQLITE_PREPARE_PERSISTENT, &stmt,
				NULL);
	if (rc != SQLITE_OK)
		return db_err(sdb, rc, "prepare");

	if (!sdb->stmtv[id])
		sdb->stmtv[id] = stmt;

	*stmtp = stmt;

	return 0;
}


static void stmt_release(struct sqlite_db *sdb, enum stmt_id id,
			 sqlite3_stmt *stmt)
{
	if (!stmt)
		return;

	if (stmt != sdb->stmtv[id]) {
		sqlite3_finalize(stmt);
		return;
	}

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}


static void binder_init(struct binder *b, sqlite3_stmt *stmt)
{
	b->stmt = stmt;
	b->idx = 0;
	b->rc = SQLITE_OK;
}


/* Text of at most max bytes: struct fields need not be NUL-terminated */
static void bind_text(struct binder *b, const char *s, size_t max)
{
	if (b->rc != SQLITE_OK)
		return;

	b->rc = sqlite3_bind_text(b->stmt, ++b->idx, s, (int)strnlen(s, max),
				  SQLITE_STATIC);
}


static void bind_str(struct binder *b, const char *s)
{
	if (b->rc != SQLITE_OK)
		return;

	b->rc = sqlite3_bind_text(b->stmt, ++b->idx, s, -1, SQLITE_STATIC);
}


static void bind_i64(struct binder *b, int64_t v)
{
	if (b->rc != SQLITE_OK)
		return;

	b->rc = sqlite3_bind_int64(b->stmt, ++b->idx, v);
}


static void col_text(sqlite3_stmt *stmt, int col, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	str_ncpy(buf, t ? (const char *)t : "", size);
}


static uint32_t col_u32(sqlite3_stmt *stmt, int col)
{
	int64_t v = sqlite3_column_int64(stmt, col);

	if (v < 0)
		return 0;

	return v > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}


/* Steps a bound statement that returns no rows */
static int step_done(struct sqlite_db *sdb, sqlite3_stmt *stmt,
		     const char *what)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(sdb, rc, what);

	return 0;
}


/* Steps through all rows; a non-zero handler return stops and is kept */
static int step_each(struct sqlite_db *sdb, sqlite3_stmt *stmt, row_h *rowh,
		     void *ctx, const char *what)
{
	for (;;) {
		int rc = sqlite3_step(stmt);
		int ret;

		if (rc == SQLITE_DONE)
			return 0;

		if (rc != SQLITE_ROW)
			return db_err(sdb, rc, what);

		ret = rowh(stmt, ctx);
		if (ret)
			return ret;
	}
}


static int version_read(struct sqlite_db *sdb, uint32_t *version)
{
	sqlite3_stmt *stmt = NULL;
	int64_t v;
	int err, rc;

	err = stmt_get(sdb, ST_VERSION, &stmt);
	if (err)
		return err;

	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		err = db_err(sdb, rc, "schema version");
		goto out;
	}

	v = sqlite3_column_int64(stmt, 0);
	if (v < 0 || v > (int64_t)UINT32_MAX) {
		log_error("database '%s' has an invalid schema version %lld",
			  sdb->path, (long long)v);
		err = EPROTO;
		goto out;
	}

	*version = (uint32_t)v;

out:
	stmt_release(sdb, ST_VERSION, stmt);

	return err;
}


static int migration_record(struct sqlite_db *sdb,
			    const struct store_migration *m)
{
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_MIGRATION_ADD, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_i64(&b, m->version);
	bind_str(&b, m->name);
	bind_i64(&b, (int64_t)time(NULL));
	if (b.rc != SQLITE_OK)
		err = db_err(sdb, b.rc, "bind");
	else
		err = step_done(sdb, stmt, "record migration");

	stmt_release(sdb, ST_MIGRATION_ADD, stmt);

	return err;
}


/* One migration and its schema_migrations row in one transaction */
static int migration_apply(struct sqlite_db *sdb,
			   const struct store_migration *m)
{
	bool applied = false;
	uint32_t cur = 0;
	int err, rc;

	/* IMMEDIATE: a second relaisd on the same file waits for us */
	err = exec_sql(sdb, "BEGIN IMMEDIATE", "begin migration");
	if (err)
		return err;

	/* another process may have applied it since we looked */
	err = version_read(sdb, &cur);
	if (err || cur >= m->version)
		goto out;

	rc = sqlite3_exec(sdb->db, m->sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_error("database '%s': migration %s failed: %s", sdb->path,
			  m->name, sqlite3_errmsg(sdb->db));
		err = EIO;
		goto out;
	}

	err = migration_record(sdb, m);
	applied = true;

out:
	if (!err)
		err = exec_sql(sdb, "COMMIT", "commit migration");

	if (err) {
		(void)sqlite3_exec(sdb->db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}

	if (applied)
		log_info("database '%s': applied migration %s", sdb->path,
			 m->name);

	return 0;
}


static int migrate(struct sqlite_db *sdb)
{
	uint32_t known = 0, cur = 0;
	int err;

	for (size_t i = 0; i < store_migrationc; i++) {
		uint32_t v = store_migrations[i].version;

		if (v <= known) {
			log_error("migration %s is out of order",
				  store_migrations[i].name);
			return EINVAL;
		}

		known = v;
	}

	err = exec_sql(sdb, schema_migrations_sql, "schema_migrations");
	if (err)
		return err;

	err = version_read(sdb, &cur);
	if (err)
		return err;

	if (cur > known) {
		log_error("database '%s' has schema version %u but this"
			  " relaisd knows only up to %u: refusing to use it",
			  sdb->path, cur, known);
		return EPROTO;
	}

	for (size_t i = 0; i < store_migrationc; i++) {
		const struct store_migration *m = &store_migrations[i];

		if (m->version <= cur)
			continue;

		err = migration_apply(sdb, m);
		if (err)
			return err;
	}

	return 0;
}


static int journal_wal(struct sqlite_db *sdb)
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *mode;
	int err, rc;

	err = stmt_get(sdb, ST_JOURNAL_WAL, &stmt);
	if (err)
		return err;

	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		err = db_err(sdb, rc, "journal_mode");
		goto out;
	}

	/* an in-memory database answers "memory"; it still works */
	mode = sqlite3_column_text(stmt, 0);
	if (!mode || strcmp((const char *)mode, "wal"))
		log_warn("database '%s': journal mode is %s, not wal",
			 sdb->path, mode ? (const char *)mode : "unknown");

out:
	stmt_release(sdb, ST_JOURNAL_WAL, stmt);

	return err;
}


static int configure(struct sqlite_db *sdb)
{
	int err;

	sqlite3_extended_result_codes(sdb->db, 1);

	/* SQLite opens an existing file read-only if it cannot write it */
	if (sqlite3_db_readonly(sdb->db, "main") == 1) {
		log_error("database '%s' is not writable", sdb->path);
		return EACCES;
	}

	err = sqlite3_busy_timeout(sdb->db, BUSY_TIMEOUT_MS);
	if (err)
		return db_err(sdb, err, "busy_timeout");

	/* first read of the file: a file that is not a database fails here */
	err = journal_wal(sdb);
	if (err) {
		log_error("database '%s' cannot be used: %s", sdb->path,
			  sqlite3_errmsg(sdb->db));
		return err;
	}

	err = exec_sql(sdb, "PRAGMA synchronous = NORMAL", "synchronous");
	if (err)
		return err;

	return exec_sql(sdb, "PRAGMA foreign_keys = ON", "foreign_keys");
}


static int sqlite_open(void **dbp, const char *path)
{
	struct sqlite_db *sdb;
	uint32_t version = 0;
	int err, rc;

	if (!dbp || !path)
		return EINVAL;

	sdb = mem_zalloc(sizeof(*sdb), destructor);
	if (!sdb)
		return ENOMEM;

	err = str_dup(&sdb->path, path);
	if (err)
		goto out;

	rc = sqlite3_open_v2(path, &sdb->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		int syserr = sdb->db ? sqlite3_system_errno(sdb->db) : 0;

		log_error("cannot open database '%s': %s (%m)", path,
			  sdb->db ? sqlite3_errmsg(sdb->db)
				  : sqlite3_errstr(rc),
			  syserr);
		err = syserr ? syserr : EIO;
		goto out;
	}

	err = configure(sdb);
	if (err)
		goto out;

	err = migrate(sdb);
	if (err)
		goto out;

	err = version_read(sdb, &version);
	if (err)
		goto out;

	log_info("database '%s' open, schema version %u", path, version);

out:
	if (err)
		mem_deref(sdb);
	else
		*dbp = sdb;

	return err;
}


static void sqlite_close(void *db)
{
	mem_deref(db);
}


static int sqlite_schema_version(void *db, uint32_t *version)
{
	return version_read(db, version);
}


static int sqlite_ext_add(void *db, const struct store_ext *ext)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_EXT_ADD, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_text(&b, ext->number, sizeof(ext->number));
	bind_text(&b, ext->name, sizeof(ext->name));
	bind_text(&b, ext->ha1_md5, sizeof(ext->ha1_md5));
	bind_text(&b, ext->ha1_sha256, sizeof(ext->ha1_sha256));
	bind_i64(&b, ext->created ? ext->created : (int64_t)time(NULL));
	if (b.rc != SQLITE_OK)
		err = db_err(sdb, b.rc, "bind");
	else
		err = step_done(sdb, stmt, "add extension");

	stmt_release(sdb, ST_EXT_ADD, stmt);

	return err;
}


static void ext_read(sqlite3_stmt *stmt, struct store_ext *ext)
{
	memset(ext, 0, sizeof(*ext));
	col_text(stmt, 0, ext->number, sizeof(ext->number));
	col_text(stmt, 1, ext->name, sizeof(ext->name));
	col_text(stmt, 2, ext->ha1_md5, sizeof(ext->ha1_md5));
	col_text(stmt, 3, ext->ha1_sha256, sizeof(ext->ha1_sha256));
	ext->created = sqlite3_column_int64(stmt, 4);
}


static int sqlite_ext_get(void *db, const char *number, struct store_ext *ext)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err, rc;

	err = stmt_get(sdb, ST_EXT_GET, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, number);
	if (b.rc != SQLITE_OK) {
		err = db_err(sdb, b.rc, "bind");
		goto out;
	}

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		ext_read(stmt, ext);
	else if (rc == SQLITE_DONE)
		err = ENOENT;
	else
		err = db_err(sdb, rc, "get extension");

out:
	stmt_release(sdb, ST_EXT_GET, stmt);

	return err;
}


/* Runs a bound data-changing statement; ENOENT if it changed no row */
static int change_one(struct sqlite_db *sdb, enum stmt_id id,
		      sqlite3_stmt *stmt, struct binder *b, const char *what)
{
	int err;

	if (b->rc != SQLITE_OK)
		err = db_err(sdb, b->rc, "bind");
	else
		err = step_done(sdb, stmt, what);

	if (!err && sqlite3_changes(sdb->db) == 0)
		err = ENOENT;

	stmt_release(sdb, id, stmt);

	return err;
}


static int sqlite_ext_update_ha1(void *db, const char *number, const char *md5,
				 const char *sha256)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_EXT_HA1, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, number);
	bind_text(&b, md5, STORE_HA1_MAX - 1);
	bind_text(&b, sha256, STORE_HA1_MAX - 1);

	return change_one(sdb, ST_EXT_HA1, stmt, &b, "update extension");
}


static int sqlite_ext_remove(void *db, const char *number)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_EXT_REMOVE, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, number);

	return change_one(sdb, ST_EXT_REMOVE, stmt, &b, "remove extension");
}


static int ext_row(sqlite3_stmt *stmt, void *ctx)
{
	struct iter *it = ctx;
	store_ext_h *h = it->h;
	struct store_ext ext;

	ext_read(stmt, &ext);

	return h(&ext, it->arg);
}


static int sqlite_ext_foreach(void *db, store_ext_h *h, void *arg)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct iter it = { .h = h, .arg = arg };
	int err;

	err = stmt_get(sdb, ST_EXT_ALL, &stmt);
	if (err)
		return err;

	err = step_each(sdb, stmt, ext_row, &it, "list extensions");

	stmt_release(sdb, ST_EXT_ALL, stmt);

	return err;
}


static int sqlite_contact_put(void *db, const struct store_contact *c)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_CONTACT_PUT, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_text(&b, c->ext, sizeof(c->ext));
	bind_text(&b, c->uri, sizeof(c->uri));
	bind_text(&b, c->received, sizeof(c->received));
	bind_text(&b, c->transport, sizeof(c->transport));
	bind_text(&b, c->user_agent, sizeof(c->user_agent));
	bind_text(&b, c->callid, sizeof(c->callid));
	bind_i64(&b, c->cseq);
	bind_i64(&b, c->expires);
	bind_i64(&b, c->updated);
	if (b.rc != SQLITE_OK)
		err = db_err(sdb, b.rc, "bind");
	else
		err = step_done(sdb, stmt, "put contact");

	stmt_release(sdb, ST_CONTACT_PUT, stmt);

	return err;
}


static int sqlite_contact_remove(void *db, const char *ext, const char *uri)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_CONTACT_REMOVE, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, ext);
	bind_str(&b, uri);

	return change_one(sdb, ST_CONTACT_REMOVE, stmt, &b, "remove contact");
}


static int ext_exists(struct sqlite_db *sdb, const char *number)
{
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err, rc;

	err = stmt_get(sdb, ST_EXT_EXISTS, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, number);
	if (b.rc != SQLITE_OK) {
		err = db_err(sdb, b.rc, "bind");
		goto out;
	}

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE)
		err = ENOENT;
	else if (rc != SQLITE_ROW)
		err = db_err(sdb, rc, "find extension");

out:
	stmt_release(sdb, ST_EXT_EXISTS, stmt);

	return err;
}


static int sqlite_contact_remove_ext(void *db, const char *ext)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_CONTACT_REMOVE_EXT, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, ext);

	err = change_one(sdb, ST_CONTACT_REMOVE_EXT, stmt, &b,
			 "remove contacts");

	/* an extension with no contacts is not an error, a missing one is */
	if (err == ENOENT)
		err = ext_exists(sdb, ext);

	return err;
}


static void contact_read(sqlite3_stmt *stmt, struct store_contact *c)
{
	memset(c, 0, sizeof(*c));
	col_text(stmt, 0, c->ext, sizeof(c->ext));
	col_text(stmt, 1, c->uri, sizeof(c->uri));
	col_text(stmt, 2, c->received, sizeof(c->received));
	col_text(stmt, 3, c->transport, sizeof(c->transport));
	col_text(stmt, 4, c->user_agent, sizeof(c->user_agent));
	col_text(stmt, 5, c->callid, sizeof(c->callid));
	c->cseq = col_u32(stmt, 6);
	c->expires = sqlite3_column_int64(stmt, 7);
	c->updated = sqlite3_column_int64(stmt, 8);
}


static int contact_row(sqlite3_stmt *stmt, void *ctx)
{
	struct iter *it = ctx;
	store_contact_h *h = it->h;
	struct store_contact c;

	contact_read(stmt, &c);

	return h(&c, it->arg);
}


static int sqlite_contact_foreach(void *db, const char *ext,
				  store_contact_h *h, void *arg)
{
	struct sqlite_db *sdb = db;
	enum stmt_id id = ext ? ST_CONTACT_EXT : ST_CONTACT_ALL;
	sqlite3_stmt *stmt = NULL;
	struct iter it = { .h = h, .arg = arg };
	struct binder b;
	int err;

	err = stmt_get(sdb, id, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	if (ext)
		bind_str(&b, ext);

	if (b.rc != SQLITE_OK)
		err = db_err(sdb, b.rc, "bind");
	else
		err = step_each(sdb, stmt, contact_row, &it, "list contacts");

	stmt_release(sdb, id, stmt);

	return err;
}


static int sqlite_contact_purge(void *db, int64_t now)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_CONTACT_PURGE, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_i64(&b, now);
	if (b.rc != SQLITE_OK)
		err = db_err(sdb, b.rc, "bind");
	else
		err = step_done(sdb, stmt, "purge contacts");

	if (!err && sqlite3_changes(sdb->db) > 0)
		log_debug("purged %d expired contacts",
			  sqlite3_changes(sdb->db));

	stmt_release(sdb, ST_CONTACT_PURGE, stmt);

	return err;
}


static int sqlite_cdr_add(void *db, struct store_cdr *cdr)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_CDR_ADD, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_text(&b, cdr->callid, sizeof(cdr->callid));
	bind_text(&b, cdr->caller, sizeof(cdr->caller));
	bind_text(&b, cdr->callee, sizeof(cdr->callee));
	bind_i64(&b, cdr->start_ms);
	bind_i64(&b, cdr->answer_ms);
	bind_i64(&b, cdr->end_ms);
	bind_text(&b, cdr->disposition, sizeof(cdr->disposition));
	bind_text(&b, cdr->cause, sizeof(cdr->cause));
	bind_i64(&b, cdr->duration_s);
	if (b.rc != SQLITE_OK)
		err = db_err(sdb, b.rc, "bind");
	else
		err = step_done(sdb, stmt, "add call record");

	if (!err)
		cdr->id = sqlite3_last_insert_rowid(sdb->db);

	stmt_release(sdb, ST_CDR_ADD, stmt);

	return err;
}


static int cdr_row(sqlite3_stmt *stmt, void *ctx)
{
	struct iter *it = ctx;
	store_cdr_h *h = it->h;
	struct store_cdr cdr;

	memset(&cdr, 0, sizeof(cdr));
	cdr.id = sqlite3_column_int64(stmt, 0);
	col_text(stmt, 1, cdr.callid, sizeof(cdr.callid));
	col_text(stmt, 2, cdr.caller, sizeof(cdr.caller));
	col_text(stmt, 3, cdr.callee, sizeof(cdr.callee));
	cdr.start_ms = sqlite3_column_int64(stmt, 4);
	cdr.answer_ms = sqlite3_column_int64(stmt, 5);
	cdr.end_ms = sqlite3_column_int64(stmt, 6);
	col_text(stmt, 7, cdr.disposition, sizeof(cdr.disposition));
	col_text(stmt, 8, cdr.cause, sizeof(cdr.cause));
	cdr.duration_s = col_u32(stmt, 9);

	return h(&cdr, it->arg);
}


static int sqlite_cdr_foreach(void *db, uint32_t limit, store_cdr_h *h,
			      void *arg)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct iter it = { .h = h, .arg = arg };
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_CDR_LIST, &stmt);
	if (err)
		return err;

	/* a negative LIMIT means no limit in SQLite */
	binder_init(&b, stmt);
	bind_i64(&b, limit ? (int64_t)limit : -1);
	if (b.rc != SQLITE_OK)
		err = db_err(sdb, b.rc, "bind");
	else
		err = step_each(sdb, stmt, cdr_row, &it, "list call records");

	stmt_release(sdb, ST_CDR_LIST, stmt);

	return err;
}


static int sqlite_flush(void *db)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	int err, rc;

	err = stmt_get(sdb, ST_CHECKPOINT, &stmt);
	if (err)
		return err;

	/* one row: busy, WAL frames, frames checkpointed */
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		err = db_err(sdb, rc, "checkpoint");
	}
	else if (sqlite3_column_int(stmt, 0)) {
		log_debug("checkpoint of '%s' blocked by a reader", sdb->path);
		err = EBUSY;
	}

	stmt_release(sdb, ST_CHECKPOINT, stmt);

	return err;
}


const struct store_backend store_sqlite = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.schema_version = sqlite_schema_version,
	.ext_add = sqlite_ext_add,
	.ext_get = sqlite_ext_get,
	.ext_update_ha1 = sqlite_ext_update_ha1,
	.ext_remove = sqlite_ext_remove,
	.ext_foreach = sqlite_ext_foreach,
	.contact_put = sqlite_contact_put,
	.contact_remove = sqlite_contact_remove,
	.contact_remove_ext = sqlite_contact_remove_ext,
	.contact_foreach = sqlite_contact_foreach,
	.contact_purge = sqlite_contact_purge,
	.cdr_add = sqlite_cdr_add,
	.cdr_foreach = sqlite_cdr_foreach,
	.flush = sqlite_flush,
};

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
	ST_TRUNK_ADD,
	ST_TRUNK_UPDATE,
	ST_TRUNK_GET,
	ST_TRUNK_USED,
	ST_TRUNK_REMOVE,
	ST_TRUNK_ALL,
	ST_ORULE_LAST,
	ST_ORULE_SHIFT,
	ST_ORULE_ADD,
	ST_ROUTE_ADD,
	ST_ORULE_GET,
	ST_ORULE_POS,
	ST_ORULE_REMOVE,
	ST_ORULE_CLOSE,
	ST_ORULE_ALL,
	ST_ROUTE_LIST,
	ST_IRULE_ADD,
	ST_IRULE_REMOVE,
	ST_IRULE_ALL,
	ST_HOURS_SET,
	ST_HOURS_ALL,
	ST_HOLIDAY_ADD,
	ST_HOLIDAY_REMOVE,
	ST_HOLIDAY_ALL,
	ST_SBCSEC_GET,
	ST_SBCSEC_SET,
	ST_SBCALLOW_ADD,
	ST_SBCALLOW_REMOVE,
	ST_SBCALLOW_ALL,
	ST_SBCDENY_PUT,
	ST_SBCDENY_REMOVE,
	ST_SBCDENY_CLEAR,
	ST_SBCDENY_ALL,
	ST_COUNT
};

#define EXT_COLS "number, name, ha1_md5, ha1_sha256, created"
#define CONTACT_COLS                                                          \
	"ext, uri, received, transport, user_agent, callid, cseq, expires,"   \
	" updated"
#define CDR_COLS                                                              \
	"callid, caller, callee, start_ms, answer_ms, end_ms, disposition,"   \
	" cause, duration_s"
#define TRUNK_COLS                                                            \
	"name, profile, kind, host, port, srv, transport, proxy, domain,"     \
	" auth_user, password, reg_interval, max_calls, inbound, outbound,"   \
	" codecs, srtp, main_number, dids, caller_id, caller_name, pai,"      \
	" privacy, diversion, options_interval, contact_addr, created"
#define ORULE_COLS   "id, position, name, prefix, callers, min_len, max_len"
#define IRULE_COLS   "id, name, trunk, did, dest_open, dest_closed, dest_holiday"
#define HOLIDAY_COLS "id, name, first, last, yearly"
#define SBCSEC_COLS                                                           \
	"level, dos_threshold, dos_window, dos_period, ddos_threshold,"       \
	" ddos_window, bf_failures, bf_window, bf_period, deny_max"
#define SBCDENY_COLS "addr, reason, detail, since, until"

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
	[ST_TRUNK_ADD] = "INSERT INTO trunks (" TRUNK_COLS ") VALUES"
			 " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			 " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,"
			 " ?23, ?24, ?25, ?26, ?27)",
	[ST_TRUNK_UPDATE] = "UPDATE trunks SET profile = ?2, kind = ?3,"
			    " host = ?4, port = ?5, srv = ?6,"
			    " transport = ?7, proxy = ?8, domain = ?9,"
			    " auth_user = ?10, password = ?11,"
			    " reg_interval = ?12, max_calls = ?13,"
			    " inbound = ?14, outbound = ?15, codecs = ?16,"
			    " srtp = ?17, main_number = ?18, dids = ?19,"
			    " caller_id = ?20, caller_name = ?21, pai = ?22,"
			    " privacy = ?23, diversion = ?24,"
			    " options_interval = ?25, contact_addr = ?26"
			    " WHERE name = ?1",
	[ST_TRUNK_GET] = "SELECT " TRUNK_COLS " FROM trunks WHERE name = ?1",
	[ST_TRUNK_USED] = "SELECT 1 FROM orule_routes WHERE trunk = ?1"
			  " UNION ALL"
			  " SELECT 1 FROM irules WHERE trunk = ?1 LIMIT 1",
	[ST_TRUNK_REMOVE] = "DELETE FROM trunks WHERE name = ?1",
	[ST_TRUNK_ALL] = "SELECT " TRUNK_COLS " FROM trunks ORDER BY name",
	[ST_ORULE_LAST] = "SELECT COALESCE(MAX(position), 0) FROM orules",
	[ST_ORULE_SHIFT] = "UPDATE orules SET position = position + 1"
			   " WHERE position >= ?1",
	[ST_ORULE_ADD] = "INSERT INTO orules"
			 " (position, name, prefix, callers, min_len, max_len)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_ROUTE_ADD] = "INSERT INTO orule_routes"
			 " (orule_id, idx, trunk, strip, prepend, blocked)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_ORULE_GET] = "SELECT " ORULE_COLS " FROM orules WHERE id = ?1",
	[ST_ORULE_POS] = "SELECT position FROM orules WHERE id = ?1",
	[ST_ORULE_REMOVE] = "DELETE FROM orules WHERE id = ?1",
	[ST_ORULE_CLOSE] = "UPDATE orules SET position = position - 1"
			   " WHERE position > ?1",
	[ST_ORULE_ALL] = "SELECT " ORULE_COLS " FROM orules"
			 " ORDER BY position, id",
	[ST_ROUTE_LIST] = "SELECT trunk, strip, prepend, blocked"
			  " FROM orule_routes WHERE orule_id = ?1"
			  " ORDER BY idx",
	[ST_IRULE_ADD] = "INSERT INTO irules (name, trunk, did, dest_open,"
			 " dest_closed, dest_holiday)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_IRULE_REMOVE] = "DELETE FROM irules WHERE id = ?1",
	[ST_IRULE_ALL] = "SELECT " IRULE_COLS " FROM irules ORDER BY id",
	[ST_HOURS_SET] = "INSERT INTO office_hours (day, ranges)"
			 " VALUES (?1, ?2)"
			 " ON CONFLICT (day) DO UPDATE SET"
			 " ranges = excluded.ranges",
	[ST_HOURS_ALL] = "SELECT day, ranges FROM office_hours",
	[ST_HOLIDAY_ADD] = "INSERT INTO holidays (name, first, last, yearly)"
			   " VALUES (?1, ?2, ?3, ?4)",
	[ST_HOLIDAY_REMOVE] = "DELETE FROM holidays WHERE id = ?1",
	[ST_HOLIDAY_ALL] = "SELECT " HOLIDAY_COLS " FROM holidays"
			   " ORDER BY first, id",
	[ST_SBCSEC_GET] = "SELECT " SBCSEC_COLS " FROM sbc_security"
			  " WHERE id = 1",
	[ST_SBCSEC_SET] = "INSERT INTO sbc_security (id, " SBCSEC_COLS ")"
			  " VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
			  " ?10)"
			  " ON CONFLICT (id) DO UPDATE SET"
			  " level = excluded.level,"
			  " dos_threshold = excluded.dos_threshold,"
			  " dos_window = excluded.dos_window,"
			  " dos_period = excluded.dos_period,"
			  " ddos_threshold = excluded.ddos_threshold,"
			  " ddos_window = excluded.ddos_window,"
			  " bf_failures = excluded.bf_failures,"
			  " bf_window = excluded.bf_window,"
			  " bf_period = excluded.bf_period,"
			  " deny_max = excluded.deny_max",
	[ST_SBCALLOW_ADD] = "INSERT INTO sbc_allow (cidr, created)"
			    " VALUES (?1, ?2)",
	[ST_SBCALLOW_REMOVE] = "DELETE FROM sbc_allow WHERE cidr = ?1",
	[ST_SBCALLOW_ALL] = "SELECT cidr FROM sbc_allow ORDER BY id",
	[ST_SBCDENY_PUT] = "INSERT INTO sbc_deny (" SBCDENY_COLS ")"
			   " VALUES (?1, ?2, ?3, ?4, ?5)"
			   " ON CONFLICT (addr) DO UPDATE SET"
			   " reason = excluded.reason,"
			   " detail = excluded.detail,"
			   " since = excluded.since,"
			   " until = excluded.until",
	[ST_SBCDENY_REMOVE] = "DELETE FROM sbc_deny WHERE addr = ?1",
	[ST_SBCDENY_CLEAR] = "DELETE FROM sbc_deny",
	[ST_SBCDENY_ALL] = "SELECT " SBCDENY_COLS " FROM sbc_deny"
			   " ORDER BY since, addr",
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
	struct sqlite_db *sdb; /**< for rows that need a second query */
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


/* Every row of a statement without parameters, through rowh */
static int list_all(struct sqlite_db *sdb, enum stmt_id id, row_h *rowh,
		    void *ctx, const char *what)
{
	sqlite3_stmt *stmt = NULL;
	int err;

	err = stmt_get(sdb, id, &stmt);
	if (err)
		return err;

	err = step_each(sdb, stmt, rowh, ctx, what);

	stmt_release(sdb, id, stmt);

	return err;
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
	struct iter it = { .h = h, .arg = arg };

	return list_all(db, ST_EXT_ALL, ext_row, &it, "list extensions");
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


/* A trunk reference: NULL when empty, so the foreign key allows it */
static void bind_ref(struct binder *b, const char *s, size_t max)
{
	if (s[0]) {
		bind_text(b, s, max);
		return;
	}

	if (b->rc != SQLITE_OK)
		return;

	b->rc = sqlite3_bind_null(b->stmt, ++b->idx);
}


static void bind_bool(struct binder *b, bool v)
{
	bind_i64(b, v ? 1 : 0);
}


static bool col_bool(sqlite3_stmt *stmt, int col)
{
	return sqlite3_column_int64(stmt, col) != 0;
}


/* Runs a bound statement that returns no rows and gives it back */
static int run_bound(struct sqlite_db *sdb, enum stmt_id id,
		     sqlite3_stmt *stmt, struct binder *b, const char *what)
{
	int err;

	if (b->rc != SQLITE_OK)
		err = db_err(sdb, b->rc, "bind");
	else
		err = step_done(sdb, stmt, what);

	stmt_release(sdb, id, stmt);

	return err;
}


/* Runs a bound query for one integer; ENOENT when it returns no row */
static int scalar_get(struct sqlite_db *sdb, enum stmt_id id,
		      sqlite3_stmt *stmt, struct binder *b, int64_t *v,
		      const char *what)
{
	int err = 0, rc;

	if (b->rc != SQLITE_OK) {
		err = db_err(sdb, b->rc, "bind");
		goto out;
	}

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(stmt, 0);
	else if (rc == SQLITE_DONE)
		err = ENOENT;
	else
		err = db_err(sdb, rc, what);

out:
	stmt_release(sdb, id, stmt);

	return err;
}


/*
 * Changes that span statements run in a savepoint: it nests, so a
 * handler called from a *_foreach() may still make such a change.
 */
static int tx_begin(struct sqlite_db *sdb)
{
	return exec_sql(sdb, "SAVEPOINT store_tx", "begin");
}


/* Keeps the changes if err is 0, otherwise undoes them; returns err */
static int tx_end(struct sqlite_db *sdb, int err)
{
	if (!err)
		err = exec_sql(sdb, "RELEASE store_tx", "commit");

	if (err)
		(void)sqlite3_exec(sdb->db,
				   "ROLLBACK TO store_tx; RELEASE store_tx",
				   NULL, NULL, NULL);

	return err;
}


/* Deletes one row by id; ENOENT if there was none */
static int remove_id(struct sqlite_db *sdb, enum stmt_id id, int64_t rowid,
		     const char *what)
{
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, id, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_i64(&b, rowid);

	return change_one(sdb, id, stmt, &b, what);
}


/* Binds parameters 1 to 26: the columns of TRUNK_COLS but created */
static void trunk_bind(struct binder *b, const struct store_trunk *t)
{
	bind_text(b, t->name, sizeof(t->name));
	bind_text(b, t->profile, sizeof(t->profile));
	bind_text(b, t->kind, sizeof(t->kind));
	bind_text(b, t->host, sizeof(t->host));
	bind_i64(b, t->port);
	bind_bool(b, t->srv);
	bind_text(b, t->transport, sizeof(t->transport));
	bind_text(b, t->proxy, sizeof(t->proxy));
	bind_text(b, t->domain, sizeof(t->domain));
	bind_text(b, t->auth_user, sizeof(t->auth_user));
	bind_text(b, t->password, sizeof(t->password));
	bind_i64(b, t->reg_interval);
	bind_i64(b, t->max_calls);
	bind_bool(b, t->inbound);
	bind_bool(b, t->outbound);
	bind_text(b, t->codecs, sizeof(t->codecs));
	bind_text(b, t->srtp, sizeof(t->srtp));
	bind_text(b, t->main_number, sizeof(t->main_number));
	bind_text(b, t->dids, sizeof(t->dids));
	bind_text(b, t->caller_id, sizeof(t->caller_id));
	bind_text(b, t->caller_name, sizeof(t->caller_name));
	bind_bool(b, t->pai);
	bind_text(b, t->privacy, sizeof(t->privacy));
	bind_bool(b, t->diversion);
	bind_i64(b, t->options_interval);
	bind_text(b, t->contact_addr, sizeof(t->contact_addr));
}


static void trunk_read(sqlite3_stmt *stmt, struct store_trunk *t)
{
	uint32_t port;

	memset(t, 0, sizeof(*t));
	col_text(stmt, 0, t->name, sizeof(t->name));
	col_text(stmt, 1, t->profile, sizeof(t->profile));
	col_text(stmt, 2, t->kind, sizeof(t->kind));
	col_text(stmt, 3, t->host, sizeof(t->host));
	port = col_u32(stmt, 4);
	t->port = port > UINT16_MAX ? 0 : (uint16_t)port;
	t->srv = col_bool(stmt, 5);
	col_text(stmt, 6, t->transport, sizeof(t->transport));
	col_text(stmt, 7, t->proxy, sizeof(t->proxy));
	col_text(stmt, 8, t->domain, sizeof(t->domain));
	col_text(stmt, 9, t->auth_user, sizeof(t->auth_user));
	col_text(stmt, 10, t->password, sizeof(t->password));
	t->reg_interval = col_u32(stmt, 11);
	t->max_calls = col_u32(stmt, 12);
	t->inbound = col_bool(stmt, 13);
	t->outbound = col_bool(stmt, 14);
	col_text(stmt, 15, t->codecs, sizeof(t->codecs));
	col_text(stmt, 16, t->srtp, sizeof(t->srtp));
	col_text(stmt, 17, t->main_number, sizeof(t->main_number));
	col_text(stmt, 18, t->dids, sizeof(t->dids));
	col_text(stmt, 19, t->caller_id, sizeof(t->caller_id));
	col_text(stmt, 20, t->caller_name, sizeof(t->caller_name));
	t->pai = col_bool(stmt, 21);
	col_text(stmt, 22, t->privacy, sizeof(t->privacy));
	t->diversion = col_bool(stmt, 23);
	t->options_interval = col_u32(stmt, 24);
	col_text(stmt, 25, t->contact_addr, sizeof(t->contact_addr));
	t->created = sqlite3_column_int64(stmt, 26);
}


static int sqlite_trunk_add(void *db, const struct store_trunk *t)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_TRUNK_ADD, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	trunk_bind(&b, t);
	bind_i64(&b, t->created ? t->created : (int64_t)time(NULL));

	return run_bound(sdb, ST_TRUNK_ADD, stmt, &b, "add trunk");
}


static int sqlite_trunk_update(void *db, const struct store_trunk *t)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_TRUNK_UPDATE, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	trunk_bind(&b, t);

	return change_one(sdb, ST_TRUNK_UPDATE, stmt, &b, "update trunk");
}


static int sqlite_trunk_get(void *db, const char *name, struct store_trunk *t)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err, rc;

	err = stmt_get(sdb, ST_TRUNK_GET, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, name);
	if (b.rc != SQLITE_OK) {
		err = db_err(sdb, b.rc, "bind");
		goto out;
	}

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		trunk_read(stmt, t);
	else if (rc == SQLITE_DONE)
		err = ENOENT;
	else
		err = db_err(sdb, rc, "get trunk");

out:
	stmt_release(sdb, ST_TRUNK_GET, stmt);

	return err;
}


/* EBUSY if an outbound route or an inbound rule names the trunk */
static int trunk_unused(struct sqlite_db *sdb, const char *name)
{
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int64_t v = 0;
	int err;

	err = stmt_get(sdb, ST_TRUNK_USED, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, name);

	err = scalar_get(sdb, ST_TRUNK_USED, stmt, &b, &v, "find trunk use");
	if (err == ENOENT)
		return 0;

	return err ? err : EBUSY;
}


static int sqlite_trunk_remove(void *db, const char *name)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	int err, rc;

	err = trunk_unused(sdb, name);
	if (err)
		return err;

	err = stmt_get(sdb, ST_TRUNK_REMOVE, &stmt);
	if (err)
		return err;

	rc = sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);

	/* the foreign keys back up trunk_unused() */
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		err = EBUSY;
	else if (rc != SQLITE_DONE)
		err = db_err(sdb, rc, "remove trunk");
	else if (sqlite3_changes(sdb->db) == 0)
		err = ENOENT;

	stmt_release(sdb, ST_TRUNK_REMOVE, stmt);

	return err;
}


static int trunk_row(sqlite3_stmt *stmt, void *ctx)
{
	struct iter *it = ctx;
	store_trunk_h *h = it->h;
	struct store_trunk t;

	trunk_read(stmt, &t);

	return h(&t, it->arg);
}


static int sqlite_trunk_foreach(void *db, store_trunk_h *h, void *arg)
{
	struct iter it = { .h = h, .arg = arg };

	return list_all(db, ST_TRUNK_ALL, trunk_row, &it, "list trunks");
}


/* Position of the last outbound rule, 0 when there are none */
static int orule_last(struct sqlite_db *sdb, uint32_t *pos)
{
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int64_t v = 0;
	int err;

	err = stmt_get(sdb, ST_ORULE_LAST, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	err = scalar_get(sdb, ST_ORULE_LAST, stmt, &b, &v, "last rule");
	if (err)
		return err;

	*pos =
	    v < 0 || v >= (int64_t)UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)v;

	return 0;
}


/* ST_ORULE_SHIFT moves the rules from pos on one place down (later),
   ST_ORULE_CLOSE those after pos one place up */
static int orule_shift(struct sqlite_db *sdb, enum stmt_id id, uint32_t pos)
{
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, id, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_i64(&b, pos);

	return run_bound(sdb, id, stmt, &b, "move rules");
}


static int route_insert(struct sqlite_db *sdb, int64_t rule_id, uint32_t idx,
			const struct store_route *rt)
{
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_ROUTE_ADD, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_i64(&b, rule_id);
	bind_i64(&b, idx);
	bind_ref(&b, rt->trunk, sizeof(rt->trunk));
	bind_i64(&b, rt->strip);
	bind_text(&b, rt->prepend, sizeof(rt->prepend));
	bind_bool(&b, rt->blocked);

	return run_bound(sdb, ST_ROUTE_ADD, stmt, &b, "add route");
}


/* The rule and its routes, inside the caller's transaction */
static int orule_insert(struct sqlite_db *sdb, const struct store_orule *r,
			uint32_t pos, int64_t *idp)
{
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int64_t id;
	int err;

	err = stmt_get(sdb, ST_ORULE_ADD, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_i64(&b, pos);
	bind_text(&b, r->name, sizeof(r->name));
	bind_text(&b, r->prefix, sizeof(r->prefix));
	bind_text(&b, r->callers, sizeof(r->callers));
	bind_i64(&b, r->min_len);
	bind_i64(&b, r->max_len);

	err = run_bound(sdb, ST_ORULE_ADD, stmt, &b, "add outbound rule");
	if (err)
		return err;

	id = sqlite3_last_insert_rowid(sdb->db);

	for (uint32_t i = 0; i < r->routec; i++) {
		err = route_insert(sdb, id, i, &r->routes[i]);
		if (err)
			return err;
	}

	*idp = id;

	return 0;
}


static int sqlite_orule_add(void *db, struct store_orule *r)
{
	struct sqlite_db *sdb = db;
	uint32_t last = 0, pos;
	int64_t id = 0;
	int err;

	err = tx_begin(sdb);
	if (err)
		return err;

	err = orule_last(sdb, &last);
	if (err)
		goto out;

	/* positions stay 1..N: past the end means at the end */
	pos = r->position;
	if (!pos || pos > last) {
		pos = last + 1;
	}
	else {
		err = orule_shift(sdb, ST_ORULE_SHIFT, pos);
		if (err)
			goto out;
	}

	err = orule_insert(sdb, r, pos, &id);

out:
	err = tx_end(sdb, err);
	if (!err) {
		r->id = id;
		r->position = pos;
	}

	return err;
}


static void orule_read(sqlite3_stmt *stmt, struct store_orule *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(stmt, 0);
	r->position = col_u32(stmt, 1);
	col_text(stmt, 2, r->name, sizeof(r->name));
	col_text(stmt, 3, r->prefix, sizeof(r->prefix));
	col_text(stmt, 4, r->callers, sizeof(r->callers));
	r->min_len = col_u32(stmt, 5);
	r->max_len = col_u32(stmt, 6);
}


static int route_row(sqlite3_stmt *stmt, void *ctx)
{
	struct store_orule *r = ctx;
	struct store_route *rt;

	/* the store writes no more than this; ignore any extra */
	if (r->routec >= STORE_ROUTES_MAX)
		return 0;

	rt = &r->routes[r->routec++];
	col_text(stmt, 0, rt->trunk, sizeof(rt->trunk));
	rt->strip = col_u32(stmt, 1);
	col_text(stmt, 2, rt->prepend, sizeof(rt->prepend));
	rt->blocked = col_bool(stmt, 3);

	return 0;
}


/* Fills r->routes of a rule read by orule_read() */
static int routes_load(struct sqlite_db *sdb, struct store_orule *r)
{
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_ROUTE_LIST, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_i64(&b, r->id);
	if (b.rc != SQLITE_OK)
		err = db_err(sdb, b.rc, "bind");
	else
		err = step_each(sdb, stmt, route_row, r, "list routes");

	stmt_release(sdb, ST_ROUTE_LIST, stmt);

	return err;
}


static int sqlite_orule_get(void *db, int64_t id, struct store_orule *r)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err, rc;

	err = stmt_get(sdb, ST_ORULE_GET, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_i64(&b, id);
	if (b.rc != SQLITE_OK) {
		err = db_err(sdb, b.rc, "bind");
		goto out;
	}

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		orule_read(stmt, r);
	else if (rc == SQLITE_DONE)
		err = ENOENT;
	else
		err = db_err(sdb, rc, "get outbound rule");

out:
	stmt_release(sdb, ST_ORULE_GET, stmt);

	if (!err)
		err = routes_load(sdb, r);

	return err;
}


static int sqlite_orule_remove(void *db, int64_t id)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int64_t pos = 0;
	int err;

	err = tx_begin(sdb);
	if (err)
		return err;

	err = stmt_get(sdb, ST_ORULE_POS, &stmt);
	if (err)
		goto out;

	binder_init(&b, stmt);
	bind_i64(&b, id);
	err = scalar_get(sdb, ST_ORULE_POS, stmt, &b, &pos, "find rule");
	if (err)
		goto out;

	/* its routes go with it (ON DELETE CASCADE) */
	err = remove_id(sdb, ST_ORULE_REMOVE, id, "remove outbound rule");
	if (err)
		goto out;

	err =
	    orule_shift(sdb, ST_ORULE_CLOSE,
			pos < 0 || pos > (int64_t)UINT32_MAX ? 0
							     : (uint32_t)pos);

out:
	return tx_end(sdb, err);
}


static int orule_row(sqlite3_stmt *stmt, void *ctx)
{
	struct iter *it = ctx;
	store_orule_h *h = it->h;
	struct store_orule r;
	int err;

	orule_read(stmt, &r);

	err = routes_load(it->sdb, &r);
	if (err)
		return err;

	return h(&r, it->arg);
}


static int sqlite_orule_foreach(void *db, store_orule_h *h, void *arg)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct iter it = { .h = h, .arg = arg, .sdb = sdb };
	int err;

	err = stmt_get(sdb, ST_ORULE_ALL, &stmt);
	if (err)
		return err;

	err = step_each(sdb, stmt, orule_row, &it, "list outbound rules");

	stmt_release(sdb, ST_ORULE_ALL, stmt);

	return err;
}


static int sqlite_irule_add(void *db, struct store_irule *r)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_IRULE_ADD, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_text(&b, r->name, sizeof(r->name));
	bind_ref(&b, r->trunk, sizeof(r->trunk));
	bind_text(&b, r->did, sizeof(r->did));
	bind_text(&b, r->dest_open, sizeof(r->dest_open));
	bind_text(&b, r->dest_closed, sizeof(r->dest_closed));
	bind_text(&b, r->dest_holiday, sizeof(r->dest_holiday));

	err = run_bound(sdb, ST_IRULE_ADD, stmt, &b, "add inbound rule");
	if (!err)
		r->id = sqlite3_last_insert_rowid(sdb->db);

	return err;
}


static int sqlite_irule_remove(void *db, int64_t id)
{
	return remove_id(db, ST_IRULE_REMOVE, id, "remove inbound rule");
}


static int irule_row(sqlite3_stmt *stmt, void *ctx)
{
	struct iter *it = ctx;
	store_irule_h *h = it->h;
	struct store_irule r;

	memset(&r, 0, sizeof(r));
	r.id = sqlite3_column_int64(stmt, 0);
	col_text(stmt, 1, r.name, sizeof(r.name));
	col_text(stmt, 2, r.trunk, sizeof(r.trunk));
	col_text(stmt, 3, r.did, sizeof(r.did));
	col_text(stmt, 4, r.dest_open, sizeof(r.dest_open));
	col_text(stmt, 5, r.dest_closed, sizeof(r.dest_closed));
	col_text(stmt, 6, r.dest_holiday, sizeof(r.dest_holiday));

	return h(&r, it->arg);
}


static int sqlite_irule_foreach(void *db, store_irule_h *h, void *arg)
{
	struct iter it = { .h = h, .arg = arg };

	return list_all(db, ST_IRULE_ALL, irule_row, &it,
			"list inbound rules");
}


static int sqlite_hours_set(void *db, const struct store_hours *h)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_HOURS_SET, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_i64(&b, h->day);
	bind_text(&b, h->ranges, sizeof(h->ranges));

	return run_bound(sdb, ST_HOURS_SET, stmt, &b, "set office hours");
}


static int hours_row(sqlite3_stmt *stmt, void *ctx)
{
	struct store_hours *week = ctx;
	int64_t day = sqlite3_column_int64(stmt, 0);

	/* the table's CHECK keeps day in 0..6 */
	if (day < 0 || day > 6)
		return 0;

	col_text(stmt, 1, week[day].ranges, sizeof(week[day].ranges));

	return 0;
}


static int sqlite_hours_foreach(void *db, store_hours_h *h, void *arg)
{
	struct sqlite_db *sdb = db;
	struct store_hours week[7];
	sqlite3_stmt *stmt = NULL;
	int err;

	memset(week, 0, sizeof(week));
	for (uint32_t i = 0; i < ARRAY_SIZE(week); i++)
		week[i].day = i;

	err = stmt_get(sdb, ST_HOURS_ALL, &stmt);
	if (err)
		return err;

	err = step_each(sdb, stmt, hours_row, week, "list office hours");

	stmt_release(sdb, ST_HOURS_ALL, stmt);

	/* the handler runs with no statement stepping */
	for (size_t i = 0; !err && i < ARRAY_SIZE(week); i++)
		err = h(&week[i], arg);

	return err;
}


static int sqlite_holiday_add(void *db, struct store_holiday *hd)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_HOLIDAY_ADD, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_text(&b, hd->name, sizeof(hd->name));
	bind_text(&b, hd->first, sizeof(hd->first));
	if (hd->last[0])
		bind_text(&b, hd->last, sizeof(hd->last));
	else
		bind_text(&b, hd->first, sizeof(hd->first));
	bind_bool(&b, hd->yearly);

	err = run_bound(sdb, ST_HOLIDAY_ADD, stmt, &b, "add holiday");
	if (!err)
		hd->id = sqlite3_last_insert_rowid(sdb->db);

	return err;
}


static int sqlite_holiday_remove(void *db, int64_t id)
{
	return remove_id(db, ST_HOLIDAY_REMOVE, id, "remove holiday");
}


static int holiday_row(sqlite3_stmt *stmt, void *ctx)
{
	struct iter *it = ctx;
	store_holiday_h *h = it->h;
	struct store_holiday hd;

	memset(&hd, 0, sizeof(hd));
	hd.id = sqlite3_column_int64(stmt, 0);
	col_text(stmt, 1, hd.name, sizeof(hd.name));
	col_text(stmt, 2, hd.first, sizeof(hd.first));
	col_text(stmt, 3, hd.last, sizeof(hd.last));
	hd.yearly = col_bool(stmt, 4);

	return h(&hd, it->arg);
}


static int sqlite_holiday_foreach(void *db, store_holiday_h *h, void *arg)
{
	struct iter it = { .h = h, .arg = arg };

	return list_all(db, ST_HOLIDAY_ALL, holiday_row, &it, "list holidays");
}


static int sqlite_sbcsec_get(void *db, struct store_sbcsec *s)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	int err, rc;

	err = stmt_get(sdb, ST_SBCSEC_GET, &stmt);
	if (err)
		return err;

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		memset(s, 0, sizeof(*s));
		col_text(stmt, 0, s->level, sizeof(s->level));
		s->dos_threshold = col_u32(stmt, 1);
		s->dos_window = col_u32(stmt, 2);
		s->dos_period = col_u32(stmt, 3);
		s->ddos_threshold = col_u32(stmt, 4);
		s->ddos_window = col_u32(stmt, 5);
		s->bf_failures = col_u32(stmt, 6);
		s->bf_window = col_u32(stmt, 7);
		s->bf_period = col_u32(stmt, 8);
		s->deny_max = col_u32(stmt, 9);
	}
	else if (rc == SQLITE_DONE) {
		err = ENOENT;
	}
	else {
		err = db_err(sdb, rc, "get SBC security");
	}

	stmt_release(sdb, ST_SBCSEC_GET, stmt);

	return err;
}


static int sqlite_sbcsec_set(void *db, const struct store_sbcsec *s)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_SBCSEC_SET, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_text(&b, s->level, sizeof(s->level));
	bind_i64(&b, s->dos_threshold);
	bind_i64(&b, s->dos_window);
	bind_i64(&b, s->dos_period);
	bind_i64(&b, s->ddos_threshold);
	bind_i64(&b, s->ddos_window);
	bind_i64(&b, s->bf_failures);
	bind_i64(&b, s->bf_window);
	bind_i64(&b, s->bf_period);
	bind_i64(&b, s->deny_max);

	return run_bound(sdb, ST_SBCSEC_SET, stmt, &b, "set SBC security");
}


static int sqlite_sbcallow_add(void *db, const char *cidr)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_SBCALLOW_ADD, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, cidr);
	bind_i64(&b, (int64_t)time(NULL));

	return run_bound(sdb, ST_SBCALLOW_ADD, stmt, &b, "add SBC allow");
}


static int sqlite_sbcallow_remove(void *db, const char *cidr)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_SBCALLOW_REMOVE, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, cidr);

	return change_one(sdb, ST_SBCALLOW_REMOVE, stmt, &b,
			  "remove SBC allow");
}


static int sbcallow_row(sqlite3_stmt *stmt, void *ctx)
{
	struct iter *it = ctx;
	store_text_h *h = it->h;
	char cidr[STORE_ADDR_MAX];

	col_text(stmt, 0, cidr, sizeof(cidr));

	return h(cidr, it->arg);
}


static int sqlite_sbcallow_foreach(void *db, store_text_h *h, void *arg)
{
	struct iter it = { .h = h, .arg = arg };

	return list_all(db, ST_SBCALLOW_ALL, sbcallow_row, &it,
			"list SBC allow");
}


static int sqlite_sbcdeny_put(void *db, const struct store_sbcdeny *d)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_SBCDENY_PUT, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_text(&b, d->addr, sizeof(d->addr));
	bind_text(&b, d->reason, sizeof(d->reason));
	bind_text(&b, d->detail, sizeof(d->detail));
	bind_i64(&b, d->since);
	bind_i64(&b, d->until);

	return run_bound(sdb, ST_SBCDENY_PUT, stmt, &b, "put SBC deny");
}


static int sqlite_sbcdeny_remove(void *db, const char *addr)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_SBCDENY_REMOVE, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);
	bind_str(&b, addr);

	return change_one(sdb, ST_SBCDENY_REMOVE, stmt, &b, "remove SBC deny");
}


static int sqlite_sbcdeny_clear(void *db)
{
	struct sqlite_db *sdb = db;
	sqlite3_stmt *stmt = NULL;
	struct binder b;
	int err;

	err = stmt_get(sdb, ST_SBCDENY_CLEAR, &stmt);
	if (err)
		return err;

	binder_init(&b, stmt);

	return run_bound(sdb, ST_SBCDENY_CLEAR, stmt, &b, "clear SBC deny");
}


static int sbcdeny_row(sqlite3_stmt *stmt, void *ctx)
{
	struct iter *it = ctx;
	store_sbcdeny_h *h = it->h;
	struct store_sbcdeny d;

	memset(&d, 0, sizeof(d));
	col_text(stmt, 0, d.addr, sizeof(d.addr));
	col_text(stmt, 1, d.reason, sizeof(d.reason));
	col_text(stmt, 2, d.detail, sizeof(d.detail));
	d.since = sqlite3_column_int64(stmt, 3);
	d.until = sqlite3_column_int64(stmt, 4);

	return h(&d, it->arg);
}


static int sqlite_sbcdeny_foreach(void *db, store_sbcdeny_h *h, void *arg)
{
	struct iter it = { .h = h, .arg = arg };

	return list_all(db, ST_SBCDENY_ALL, sbcdeny_row, &it, "list SBC deny");
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
	.trunk_add = sqlite_trunk_add,
	.trunk_update = sqlite_trunk_update,
	.trunk_get = sqlite_trunk_get,
	.trunk_remove = sqlite_trunk_remove,
	.trunk_foreach = sqlite_trunk_foreach,
	.orule_add = sqlite_orule_add,
	.orule_get = sqlite_orule_get,
	.orule_remove = sqlite_orule_remove,
	.orule_foreach = sqlite_orule_foreach,
	.irule_add = sqlite_irule_add,
	.irule_remove = sqlite_irule_remove,
	.irule_foreach = sqlite_irule_foreach,
	.hours_set = sqlite_hours_set,
	.hours_foreach = sqlite_hours_foreach,
	.holiday_add = sqlite_holiday_add,
	.holiday_remove = sqlite_holiday_remove,
	.holiday_foreach = sqlite_holiday_foreach,
	.sbcsec_get = sqlite_sbcsec_get,
	.sbcsec_set = sqlite_sbcsec_set,
	.sbcallow_add = sqlite_sbcallow_add,
	.sbcallow_remove = sqlite_sbcallow_remove,
	.sbcallow_foreach = sqlite_sbcallow_foreach,
	.sbcdeny_put = sqlite_sbcdeny_put,
	.sbcdeny_remove = sqlite_sbcdeny_remove,
	.sbcdeny_clear = sqlite_sbcdeny_clear,
	.sbcdeny_foreach = sqlite_sbcdeny_foreach,
	.flush = sqlite_flush,
};

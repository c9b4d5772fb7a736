-- 001_init: extensions, their registered contacts, and call records.
-- Text columns are NOT NULL with an empty default so that readers never
-- see NULL (store.h: strings are fixed-size and empty when unset).

CREATE TABLE extensions (
	number     TEXT PRIMARY KEY NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	ha1_md5    TEXT NOT NULL DEFAULT '',
	ha1_sha256 TEXT NOT NULL DEFAULT '',
	created    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE contacts (
	ext        TEXT NOT NULL
		   REFERENCES extensions(number) ON DELETE CASCADE,
	uri        TEXT NOT NULL,
	received   TEXT NOT NULL DEFAULT '',
	transport  TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT '',
	callid     TEXT NOT NULL DEFAULT '',
	cseq       INTEGER NOT NULL DEFAULT 0,
	expires    INTEGER NOT NULL DEFAULT 0,
	updated    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (ext, uri)
);

-- store_contact_purge() deletes by expiry time
CREATE INDEX contacts_expires ON contacts(expires);

CREATE TABLE cdr (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	callid      TEXT NOT NULL DEFAULT '',
	caller      TEXT NOT NULL DEFAULT '',
	callee      TEXT NOT NULL DEFAULT '',
	start_ms    INTEGER NOT NULL DEFAULT 0,
	answer_ms   INTEGER NOT NULL DEFAULT 0,
	end_ms      INTEGER NOT NULL DEFAULT 0,
	disposition TEXT NOT NULL DEFAULT '',
	cause       TEXT NOT NULL DEFAULT '',
	duration_s  INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX cdr_start_ms ON cdr(start_ms);

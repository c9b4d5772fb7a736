-- 002_trunks: carrier trunks, outbound and inbound routing rules, the
-- weekly office hours and holidays (issue 3).
-- A trunk named by a rule is referenced through a foreign key, stored as
-- NULL when the rule names none (blocked route, inbound rule for any
-- trunk); the store refuses to remove a referenced trunk with EBUSY.

CREATE TABLE trunks (
	name             TEXT PRIMARY KEY NOT NULL,
	profile          TEXT NOT NULL DEFAULT '',
	kind             TEXT NOT NULL DEFAULT '',
	host             TEXT NOT NULL DEFAULT '',
	port             INTEGER NOT NULL DEFAULT 0,
	srv              INTEGER NOT NULL DEFAULT 0,
	transport        TEXT NOT NULL DEFAULT '',
	proxy            TEXT NOT NULL DEFAULT '',
	domain           TEXT NOT NULL DEFAULT '',
	auth_user        TEXT NOT NULL DEFAULT '',
	password         TEXT NOT NULL DEFAULT '',
	reg_interval     INTEGER NOT NULL DEFAULT 180,
	max_calls        INTEGER NOT NULL DEFAULT 10,
	inbound          INTEGER NOT NULL DEFAULT 1,
	outbound         INTEGER NOT NULL DEFAULT 1,
	codecs           TEXT NOT NULL DEFAULT '',
	srtp             TEXT NOT NULL DEFAULT '',
	main_number      TEXT NOT NULL DEFAULT '',
	dids             TEXT NOT NULL DEFAULT '',
	caller_id        TEXT NOT NULL DEFAULT '',
	caller_name      TEXT NOT NULL DEFAULT '',
	pai              INTEGER NOT NULL DEFAULT 0,
	privacy          TEXT NOT NULL DEFAULT '',
	diversion        INTEGER NOT NULL DEFAULT 0,
	options_interval INTEGER NOT NULL DEFAULT 0,
	contact_addr     TEXT NOT NULL DEFAULT '',
	created          INTEGER NOT NULL DEFAULT 0
);

-- Positions are kept 1..N without gaps; not UNIQUE, because moving the
-- following rules down is one UPDATE that passes through duplicates.
CREATE TABLE orules (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	position INTEGER NOT NULL,
	name     TEXT NOT NULL DEFAULT '',
	prefix   TEXT NOT NULL DEFAULT '',
	callers  TEXT NOT NULL DEFAULT '',
	min_len  INTEGER NOT NULL DEFAULT 0,
	max_len  INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX orules_position ON orules(position);

CREATE TABLE orule_routes (
	orule_id INTEGER NOT NULL
		 REFERENCES orules(id) ON DELETE CASCADE,
	idx      INTEGER NOT NULL,
	trunk    TEXT REFERENCES trunks(name),
	strip    INTEGER NOT NULL DEFAULT 0,
	prepend  TEXT NOT NULL DEFAULT '',
	blocked  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (orule_id, idx)
);

-- store_trunk_remove() looks for rules naming the trunk
CREATE INDEX orule_routes_trunk ON orule_routes(trunk);

CREATE TABLE irules (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	name         TEXT NOT NULL DEFAULT '',
	trunk        TEXT REFERENCES trunks(name),
	did          TEXT NOT NULL DEFAULT '',
	dest_open    TEXT NOT NULL DEFAULT '',
	dest_closed  TEXT NOT NULL DEFAULT '',
	dest_holiday TEXT NOT NULL DEFAULT ''
);

CREATE INDEX irules_trunk ON irules(trunk);

-- 0 = Monday ... 6 = Sunday; a day without a row is closed
CREATE TABLE office_hours (
	day    INTEGER PRIMARY KEY NOT NULL CHECK (day BETWEEN 0 AND 6),
	ranges TEXT NOT NULL DEFAULT ''
);

CREATE TABLE holidays (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	name   TEXT NOT NULL DEFAULT '',
	first  TEXT NOT NULL,
	last   TEXT NOT NULL,
	yearly INTEGER NOT NULL DEFAULT 0
);

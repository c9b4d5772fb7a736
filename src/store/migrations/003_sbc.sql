-- 003_sbc: the SBC's security settings, allow-list and deny-list
-- (issue 4, SPEC §4). Values are validated by src/sbc before they get
-- here; the store keeps them across restarts.

-- One row (id 1) once the administrator has set anything; no row means
-- the SBC's defaults (level auto).
CREATE TABLE sbc_security (
	id             INTEGER PRIMARY KEY CHECK (id = 1),
	level          TEXT NOT NULL,
	dos_threshold  INTEGER NOT NULL,
	dos_window     INTEGER NOT NULL,
	dos_period     INTEGER NOT NULL,
	ddos_threshold INTEGER NOT NULL,
	ddos_window    INTEGER NOT NULL,
	bf_failures    INTEGER NOT NULL,
	bf_window      INTEGER NOT NULL,
	bf_period      INTEGER NOT NULL,
	deny_max       INTEGER NOT NULL
);

-- Trusted addresses ("192.0.2.10", "198.51.100.0/24"), listed in the
-- order they were added.
CREATE TABLE sbc_allow (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	cidr    TEXT NOT NULL UNIQUE,
	created INTEGER NOT NULL DEFAULT 0
);

-- Denied sources; until 0 means the entry never expires.
CREATE TABLE sbc_deny (
	addr   TEXT PRIMARY KEY NOT NULL,
	reason TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT '',
	since  INTEGER NOT NULL,
	until  INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX sbc_deny_since ON sbc_deny(since);

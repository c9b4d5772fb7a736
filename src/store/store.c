/**
 * @file store.c  Persistent store front end: picks a backend and checks
 *                arguments before dispatching to it
 *
 * The backend is chosen from the location string given to store_open():
 * a file path or "sqlite:PATH" selects SQLite; "postgresql://" is reserved
 * for the PostgreSQL backend (SPEC §10), which this build does not have.
 */

#include <errno.h>
#include <string.h>
#include <re.h>
#include "core/core.h"
#include "store/store_int.h"

#define DEBUG_MODULE "store"

/** An open store: one backend and its connection */
struct store {
	const struct store_backend *be;
	void *db;
};

static const char sqlite_prefix[] = "sqlite:";
static const char *const pg_prefixv[] = { "postgresql://", "postgres://" };


static void destructor(void *arg)
{
	struct store *st = arg;

	if (st->be && st->db)
		st->be->close(st->db);
}


static bool has_prefix(const char *s, const char *prefix)
{
	return 0 == strncmp(s, prefix, strlen(prefix));
}


static bool is_empty(const char *s)
{
	return !s || !s[0];
}


/**
 * Open a store, creating or upgrading its schema
 *
 * @param stp  Returned store (a mem object; mem_deref() closes it)
 * @param path Database file path, "sqlite:PATH", or later a
 *             "postgresql://" URL
 *
 * @return 0 if success, otherwise errorcode (ENOTSUP for a backend this
 *         build lacks, EPROTO for a schema newer than this binary)
 */
int store_open(struct store **stp, const char *path)
{
	const struct store_backend *be = &store_sqlite;
	struct store *st;
	int err;

	if (!stp || is_empty(path))
		return EINVAL;

	for (size_t i = 0; i < ARRAY_SIZE(pg_prefixv); i++) {
		if (has_prefix(path, pg_prefixv[i])) {
			/* the URL may carry a password: keep it out of logs */
			log_error("PostgreSQL backend is not available in this"
				  " build");
			return ENOTSUP;
		}
	}

	if (has_prefix(path, sqlite_prefix))
		path += sizeof(sqlite_prefix) - 1;

	if (!path[0])
		return EINVAL;

	st = mem_zalloc(sizeof(*st), destructor);
	if (!st)
		return ENOMEM;

	err = be->open(&st->db, path);
	if (err)
		goto out;

	st->be = be;

out:
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}


/**
 * Get the schema version of an open store
 *
 * @param st      Store
 * @param version Returned version (highest applied migration)
 *
 * @return 0 if success, otherwise errorcode
 */
int store_schema_version(struct store *st, uint32_t *version)
{
	if (!st || !version)
		return EINVAL;

	return st->be->schema_version(st->db, version);
}


/**
 * Add an extension
 *
 * @param st  Store
 * @param ext Extension; created 0 means now
 *
 * @return 0 if success, EEXIST if the number exists, otherwise errorcode
 */
int store_ext_add(struct store *st, const struct store_ext *ext)
{
	if (!st || !ext || !ext->number[0])
		return EINVAL;

	return st->be->ext_add(st->db, ext);
}


/**
 * Get an extension by number
 *
 * @param st     Store
 * @param number Extension number
 * @param ext    Returned extension
 *
 * @return 0 if success, ENOENT if there is none, otherwise errorcode
 */
int store_ext_get(struct store *st, const char *number, struct store_ext *ext)
{
	if (!st || is_empty(number) || !ext)
		return EINVAL;

	return st->be->ext_get(st->db, number, ext);
}


/**
 * Replace the digest hashes of an extension
 *
 * @param st         Store
 * @param number     Extension number
 * @param ha1_md5    New MD5 HA1 (hex), "" for none
 * @param ha1_sha256 New SHA-256 HA1 (hex), "" for none
 *
 * @return 0 if success, ENOENT if there is no such extension, otherwise
 *         errorcode
 */
int store_ext_update_ha1(struct store *st, const char *number,
			 const char *ha1_md5, const char *ha1_sha256)
{
	if (!st || is_empty(number) || !ha1_md5 || !ha1_sha256)
		return EINVAL;

	return st->be->ext_update_ha1(st->db, number, ha1_md5, ha1_sha256);
}


/**
 * Remove an extension and, with it, its contacts
 *
 * @param st     Store
 * @param number Extension number
 *
 * @return 0 if success, ENOENT if there is none, otherwise errorcode
 */
int store_ext_remove(struct store *st, const char *number)
{
	if (!st || is_empty(number))
		return EINVAL;

	return st->be->ext_remove(st->db, number);
}


/**
 * Call a handler for each extension, ordered by number
 *
 * @param st  Store
 * @param h   Handler; a non-zero return stops the iteration
 * @param arg Handler argument
 *
 * @return 0 if all were visited, the handler's non-zero value if it
 *         stopped, otherwise errorcode
 */
int store_ext_foreach(struct store *st, store_ext_h *h, void *arg)
{
	if (!st || !h)
		return EINVAL;

	return st->be->ext_foreach(st->db, h, arg);
}


/**
 * Insert or replace the contact of an extension with the same URI
 *
 * @param st Store
 * @param c  Contact
 *
 * @return 0 if success, ENOENT if the extension does not exist, otherwise
 *         errorcode
 */
int store_contact_put(struct store *st, const struct store_contact *c)
{
	if (!st || !c || !c->ext[0] || !c->uri[0])
		return EINVAL;

	return st->be->contact_put(st->db, c);
}


/**
 * Remove one contact of an extension
 *
 * @param st  Store
 * @param ext Extension number
 * @param uri Contact URI
 *
 * @return 0 if success, ENOENT if there is none, otherwise errorcode
 */
int store_contact_remove(struct store *st, const char *ext, const char *uri)
{
	if (!st || is_empty(ext) || is_empty(uri))
		return EINVAL;

	return st->be->contact_remove(st->db, ext, uri);
}


/**
 * Remove all contacts of an extension
 *
 * @param st  Store
 * @param ext Extension number
 *
 * @return 0 if success (also when it had no contacts), ENOENT if the
 *         extension does not exist, otherwise errorcode
 */
int store_contact_remove_ext(struct store *st, const char *ext)
{
	if (!st || is_empty(ext))
		return EINVAL;

	return st->be->contact_remove_ext(st->db, ext);
}


/**
 * Call a handler for each contact, ordered by extension and URI
 *
 * @param st  Store
 * @param ext Extension number, or NULL for the contacts of all
 * @param h   Handler; a non-zero return stops the iteration
 * @param arg Handler argument
 *
 * @return 0 if all were visited, the handler's non-zero value if it
 *         stopped, otherwise errorcode
 */
int store_contact_foreach(struct store *st, const char *ext,
			  store_contact_h *h, void *arg)
{
	if (!st || !h)
		return EINVAL;

	return st->be->contact_foreach(st->db, ext, h, arg);
}


/**
 * Delete contacts that expired at or before a time
 *
 * @param st  Store
 * @param now Unix time
 *
 * @return 0 if success, otherwise errorcode
 */
int store_contact_purge(struct store *st, int64_t now)
{
	if (!st)
		return EINVAL;

	return st->be->contact_purge(st->db, now);
}


/**
 * Add a call record
 *
 * @param st  Store
 * @param cdr Call record; its id is set on success
 *
 * @return 0 if success, otherwise errorcode
 */
int store_cdr_add(struct store *st, struct store_cdr *cdr)
{
	if (!st || !cdr)
		return EINVAL;

	return st->be->cdr_add(st->db, cdr);
}


/**
 * Call a handler for the newest call records, newest first
 *
 * @param st    Store
 * @param limit Most records to visit, 0 for all
 * @param h     Handler; a non-zero return stops the iteration
 * @param arg   Handler argument
 *
 * @return 0 if all were visited, the handler's non-zero value if it
 *         stopped, otherwise errorcode
 */
int store_cdr_foreach(struct store *st, uint32_t limit, store_cdr_h *h,
		      void *arg)
{
	if (!st || !h)
		return EINVAL;

	return st->be->cdr_foreach(st->db, limit, h, arg);
}


/**
 * Add a carrier trunk
 *
 * @param st Store
 * @param t  Trunk, validated by the caller; created 0 means now
 *
 * @return 0 if success, EEXIST if the name is taken, otherwise errorcode
 */
int store_trunk_add(struct store *st, const struct store_trunk *t)
{
	if (!st || !t || !t->name[0])
		return EINVAL;

	return st->be->trunk_add(st->db, t);
}


/**
 * Replace every setting of a trunk but its creation time
 *
 * @param st Store
 * @param t  Trunk, found by its name
 *
 * @return 0 if success, ENOENT if there is no such trunk, otherwise
 *         errorcode
 */
int store_trunk_update(struct store *st, const struct store_trunk *t)
{
	if (!st || !t || !t->name[0])
		return EINVAL;

	return st->be->trunk_update(st->db, t);
}


/**
 * Get a trunk by name, password included
 *
 * @param st   Store
 * @param name Trunk name
 * @param t    Returned trunk
 *
 * @return 0 if success, ENOENT if there is none, otherwise errorcode
 */
int store_trunk_get(struct store *st, const char *name, struct store_trunk *t)
{
	if (!st || is_empty(name) || !t)
		return EINVAL;

	return st->be->trunk_get(st->db, name, t);
}


/**
 * Remove a trunk that no routing rule names
 *
 * @param st   Store
 * @param name Trunk name
 *
 * @return 0 if success, ENOENT if there is none, EBUSY while an outbound
 *         route or an inbound rule names it, otherwise errorcode
 */
int store_trunk_remove(struct store *st, const char *name)
{
	if (!st || is_empty(name))
		return EINVAL;

	return st->be->trunk_remove(st->db, name);
}


/**
 * Call a handler for each trunk, ordered by name
 *
 * @param st  Store
 * @param h   Handler; a non-zero return stops the iteration
 * @param arg Handler argument
 *
 * @return 0 if all were visited, the handler's non-zero value if it
 *         stopped, otherwise errorcode
 */
int store_trunk_foreach(struct store *st, store_trunk_h *h, void *arg)
{
	if (!st || !h)
		return EINVAL;

	return st->be->trunk_foreach(st->db, h, arg);
}


/**
 * Add an outbound rule with its routes
 *
 * @param st Store
 * @param r  Rule; position 0 appends it, position N puts it N-th (1 is
 *           first) and moves the following rules down, a position past
 *           the end appends. r->id and r->position are set on success.
 *
 * @return 0 if success, ENOENT if a route names an unknown trunk,
 *         otherwise errorcode
 */
int store_orule_add(struct store *st, struct store_orule *r)
{
	if (!st || !r || r->routec > STORE_ROUTES_MAX)
		return EINVAL;

	return st->be->orule_add(st->db, r);
}


/**
 * Get an outbound rule with its routes
 *
 * @param st Store
 * @param id Rule id
 * @param r  Returned rule
 *
 * @return 0 if success, ENOENT if there is none, otherwise errorcode
 */
int store_orule_get(struct store *st, int64_t id, struct store_orule *r)
{
	if (!st || !r)
		return EINVAL;

	return st->be->orule_get(st->db, id, r);
}


/**
 * Remove an outbound rule and its routes; the following rules move up
 *
 * @param st Store
 * @param id Rule id
 *
 * @return 0 if success, ENOENT if there is none, otherwise errorcode
 */
int store_orule_remove(struct store *st, int64_t id)
{
	if (!st)
		return EINVAL;

	return st->be->orule_remove(st->db, id);
}


/**
 * Call a handler for each outbound rule, by ascending position
 *
 * @param st  Store
 * @param h   Handler; a non-zero return stops the iteration
 * @param arg Handler argument
 *
 * @return 0 if all were visited, the handler's non-zero value if it
 *         stopped, otherwise errorcode
 */
int store_orule_foreach(struct store *st, store_orule_h *h, void *arg)
{
	if (!st || !h)
		return EINVAL;

	return st->be->orule_foreach(st->db, h, arg);
}


/**
 * Add an inbound rule
 *
 * @param st Store
 * @param r  Rule; its id is set on success
 *
 * @return 0 if success, ENOENT if it names an unknown trunk, otherwise
 *         errorcode
 */
int store_irule_add(struct store *st, struct store_irule *r)
{
	if (!st || !r)
		return EINVAL;

	return st->be->irule_add(st->db, r);
}


/**
 * Remove an inbound rule
 *
 * @param st Store
 * @param id Rule id
 *
 * @return 0 if success, ENOENT if there is none, otherwise errorcode
 */
int store_irule_remove(struct store *st, int64_t id)
{
	if (!st)
		return EINVAL;

	return st->be->irule_remove(st->db, id);
}


/**
 * Call a handler for each inbound rule, in the order they were added
 *
 * @param st  Store
 * @param h   Handler; a non-zero return stops the iteration
 * @param arg Handler argument
 *
 * @return 0 if all were visited, the handler's non-zero value if it
 *         stopped, otherwise errorcode
 */
int store_irule_foreach(struct store *st, store_irule_h *h, void *arg)
{
	if (!st || !h)
		return EINVAL;

	return st->be->irule_foreach(st->db, h, arg);
}


/**
 * Set the office hours of one weekday, replacing what it had
 *
 * @param st Store
 * @param h  Day (0 = Monday ... 6 = Sunday) and its ranges, "" = closed
 *
 * @return 0 if success, otherwise errorcode
 */
int store_hours_set(struct store *st, const struct store_hours *h)
{
	if (!st || !h || h->day > 6)
		return EINVAL;

	return st->be->hours_set(st->db, h);
}


/**
 * Call a handler for each of the 7 weekdays, Monday first; a day never
 * set comes with empty ranges (closed)
 *
 * @param st  Store
 * @param h   Handler; a non-zero return stops the iteration
 * @param arg Handler argument
 *
 * @return 0 if all were visited, the handler's non-zero value if it
 *         stopped, otherwise errorcode
 */
int store_hours_foreach(struct store *st, store_hours_h *h, void *arg)
{
	if (!st || !h)
		return EINVAL;

	return st->be->hours_foreach(st->db, h, arg);
}


/**
 * Add a holiday
 *
 * @param st Store
 * @param hd Holiday; an empty last day means the first day only. Its id
 *           is set on success.
 *
 * @return 0 if success, otherwise errorcode
 */
int store_holiday_add(struct store *st, struct store_holiday *hd)
{
	if (!st || !hd || !hd->first[0])
		return EINVAL;

	return st->be->holiday_add(st->db, hd);
}


/**
 * Remove a holiday
 *
 * @param st Store
 * @param id Holiday id
 *
 * @return 0 if success, ENOENT if there is none, otherwise errorcode
 */
int store_holiday_remove(struct store *st, int64_t id)
{
	if (!st)
		return EINVAL;

	return st->be->holiday_remove(st->db, id);
}


/**
 * Call a handler for each holiday, ordered by first day
 *
 * @param st  Store
 * @param h   Handler; a non-zero return stops the iteration
 * @param arg Handler argument
 *
 * @return 0 if all were visited, the handler's non-zero value if it
 *         stopped, otherwise errorcode
 */
int store_holiday_foreach(struct store *st, store_holiday_h *h, void *arg)
{
	if (!st || !h)
		return EINVAL;

	return st->be->holiday_foreach(st->db, h, arg);
}


/**
 * Get the SBC's security settings
 *
 * @param st Store
 * @param s  Returned settings
 *
 * @return 0 if success, ENOENT if they were never set (the SBC then uses
 *         its defaults), otherwise errorcode
 */
int store_sbcsec_get(struct store *st, struct store_sbcsec *s)
{
	if (!st || !s)
		return EINVAL;

	return st->be->sbcsec_get(st->db, s);
}


/**
 * Set the SBC's security settings, replacing the previous ones
 *
 * @param st Store
 * @param s  Settings, validated by the caller (guard_conf_validate());
 *           level must not be empty
 *
 * @return 0 if success, otherwise errorcode
 */
int store_sbcsec_set(struct store *st, const struct store_sbcsec *s)
{
	if (!st || !s || !s->level[0] ||
	    strnlen(s->level, sizeof(s->level)) == sizeof(s->level))
		return EINVAL;

	return st->be->sbcsec_set(st->db, s);
}


/**
 * Add an entry to the SBC's allow-list
 *
 * @param st   Store
 * @param cidr Address or network as validated text ("192.0.2.0/24")
 *
 * @return 0 if success, EEXIST if it is already listed, otherwise
 *         errorcode
 */
int store_sbcallow_add(struct store *st, const char *cidr)
{
	if (!st || is_empty(cidr) || strlen(cidr) >= STORE_ADDR_MAX)
		return EINVAL;

	return st->be->sbcallow_add(st->db, cidr);
}


/**
 * Remove an entry from the SBC's allow-list
 *
 * @param st   Store
 * @param cidr The entry, written as it was added
 *
 * @return 0 if success, ENOENT if it is not listed, otherwise errorcode
 */
int store_sbcallow_remove(struct store *st, const char *cidr)
{
	if (!st || is_empty(cidr))
		return EINVAL;

	return st->be->sbcallow_remove(st->db, cidr);
}


/**
 * Call a handler for each allow-list entry, in the order they were added
 *
 * @param st  Store
 * @param h   Handler; a non-zero return stops the iteration
 * @param arg Handler argument
 *
 * @return 0 if all were visited, the handler's non-zero value if it
 *         stopped, otherwise errorcode
 */
int store_sbcallow_foreach(struct store *st, store_text_h *h, void *arg)
{
	if (!st || !h)
		return EINVAL;

	return st->be->sbcallow_foreach(st->db, h, arg);
}


/**
 * Insert a deny-list entry, or replace the entry of the same address
 *
 * @param st Store
 * @param d  Entry; addr and reason must not be empty
 *
 * @return 0 if success, otherwise errorcode
 */
int store_sbcdeny_put(struct store *st, const struct store_sbcdeny *d)
{
	if (!st || !d || !d->addr[0] || !d->reason[0])
		return EINVAL;

	return st->be->sbcdeny_put(st->db, d);
}


/**
 * Remove the deny-list entry of an address
 *
 * @param st   Store
 * @param addr IP address, no port
 *
 * @return 0 if success, ENOENT if it is not listed, otherwise errorcode
 */
int store_sbcdeny_remove(struct store *st, const char *addr)
{
	if (!st || is_empty(addr))
		return EINVAL;

	return st->be->sbcdeny_remove(st->db, addr);
}


/**
 * Remove every deny-list entry
 *
 * @param st Store
 *
 * @return 0 if success (also when the list was empty), otherwise
 *         errorcode
 */
int store_sbcdeny_clear(struct store *st)
{
	if (!st)
		return EINVAL;

	return st->be->sbcdeny_clear(st->db);
}


/**
 * Call a handler for each deny-list entry, oldest first (by since, then
 * address)
 *
 * @param st  Store
 * @param h   Handler; a non-zero return stops the iteration
 * @param arg Handler argument
 *
 * @return 0 if all were visited, the handler's non-zero value if it
 *         stopped, otherwise errorcode
 */
int store_sbcdeny_foreach(struct store *st, store_sbcdeny_h *h, void *arg)
{
	if (!st || !h)
		return EINVAL;

	return st->be->sbcdeny_foreach(st->db, h, arg);
}


/**
 * Write pending changes to the main database file (a WAL checkpoint for
 * SQLite), e.g. before a backup or on shutdown
 *
 * @param st Store
 *
 * @return 0 if success, otherwise errorcode
 */
int store_flush(struct store *st)
{
	if (!st)
		return EINVAL;

	return st->be->flush(st->db);
}

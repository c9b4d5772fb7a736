/**
 * @file pbx.h  PBX logic: extensions and their passwords
 *
 * Runs on the SIP thread. Uses sip (digest) and store.
 */

#ifndef RELAIS_PBX_H
#define RELAIS_PBX_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct store;

enum {
	EXT_NUMBER_MIN_DIGITS = 2,
	EXT_NUMBER_MAX_DIGITS = 8,
	EXT_PASSWORD_MIN = 10,
	EXT_PASSWORD_MAX = 64,
};

int ext_number_check(const char *number, char *why, size_t sz);
int ext_password_check(const char *number, const char *password, char *why,
		       size_t sz);
int ext_create(struct store *st, const char *realm, const char *number,
	       const char *name, const char *password, char *why, size_t sz);
int ext_set_password(struct store *st, const char *realm, const char *number,
		     const char *password, char *why, size_t sz);

/* ---- trunk settings (trunkcfg.c) ----------------------------------- */

struct store_trunk;
struct store_orule;
struct store_route;
struct store_irule;
struct store_hours;
struct store_holiday;

/**
 * Fill t with the defaults of a profile: "" (generic: UDP, register,
 * 180 s, 10 calls, PCMA,PCMU,G722,telephone-event, SRTP disabled,
 * OPTIONS every 30 s), "orange-btip" (BTIP/BTalk over the private
 * network: UDP, G722,PCMA,G729,telephone-event, SRTP disabled, register
 * 180 s, P-Asserted-Identity) or "orange-btipoi" (BTIPoI/BToI: TLS port
 * 5061, SRV, SRTP enforced, PCMA,G729,telephone-event with PCMA first).
 * The name is kept; other fields are overwritten.
 *
 * @return 0, or ENOENT for an unknown profile (why says which exist)
 */
int trunk_profile_apply(struct store_trunk *t, const char *profile, char *why,
			size_t sz);

/**
 * Check every field of a trunk; on error why names the field and what is
 * allowed, e.g. "transport: 'sctp' is not one of udp, tcp, tls"
 *
 * @return 0 or EINVAL
 */
int trunk_validate(const struct store_trunk *t, char *why, size_t sz);

/* ---- routing (route.c) --------------------------------------------- */

/** Is number in the comma-separated list of emergency numbers? */
bool route_is_emergency(const char *list, const char *number);

/** Does caller ("100") fall in a callers list "100,101,200-220" ("" =
    everyone)? */
bool route_caller_match(const char *callers, const char *caller);

/** Does an outbound rule apply to this caller and dialled number? */
bool orule_match(const struct store_orule *r, const char *caller,
		 const char *dialled);

/** Strip then prepend: "0142000000", strip 1, "+33" -> "+33142000000"
    @return 0, ERANGE if it does not fit, EINVAL if strip > length */
int route_apply(const struct store_route *rt, const char *dialled, char *out,
		size_t sz);

/** Validate an outbound rule (prefix digits, callers syntax, lengths,
    1-5 routes, strip/prepend); @return 0 or EINVAL with why */
int orule_validate(const struct store_orule *r, char *why, size_t sz);

/**
 * Match a DID pattern against a called number from its last digits
 * (SPEC §3): "2304024" matches "+448452304024", "08452304024",
 * "0448452304024" and "2304024"; '*' in a pattern stands for any digits
 * at that place to the end ("0233456*"); "*" alone matches anything.
 * Non-digits of the called number other than a leading '+' never match.
 *
 * @return number of pattern digits matched (more is more specific), or
 *         -1 for no match
 */
int did_match(const char *pattern, const char *called);

/** Is number covered by a DID list "0233456789,0233456*" ("" = none)? */
bool did_list_match(const char *list, const char *called);

enum dest_kind {
	DEST_HANGUP = 0,
	DEST_EXTENSION,
	DEST_EXTERNAL,
};

struct dest {
	enum dest_kind kind;
	char number[32]; /**< extension or external number */
};

/** Parse "hangup", "extension:100", "external:0612345678"
    @return 0 or EINVAL with why (lists what is allowed) */
int dest_parse(struct dest *d, const char *s, char *why, size_t sz);

int irule_validate(const struct store_irule *r, char *why, size_t sz);

/* ---- office hours (hours.c) ---------------------------------------- */

enum hours_state {
	HOURS_OPEN = 0,
	HOURS_CLOSED,
	HOURS_HOLIDAY,
};

/** Parse/validate "08:30-12:00,13:30-18:00" ("" = closed all day) */
int hours_ranges_validate(const char *ranges, char *why, size_t sz);

/** Validate a holiday (dates exist, first <= last unless yearly wraps) */
int holiday_validate(const struct store_holiday *h, char *why, size_t sz);

/**
 * State at local time tm: holiday wins, then the weekly schedule
 * (a day without ranges is closed; a week with no schedule at all is
 * always open). week has 7 entries, Monday first.
 */
enum hours_state hours_state_at(const struct store_hours week[7],
				const struct store_holiday *holv, size_t holc,
				const struct tm *tm);

#endif

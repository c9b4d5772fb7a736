/**
 * @file route.c  Call routing: outbound rules and inbound DID matching
 *
 * Pure functions on rules read from the store (SPEC §3); the SIP side
 * picks the rule and tries its routes.
 *
 * DID matching, in one sentence: leading '+' and '0' characters of a
 * pattern are dialling prefixes and are ignored, and the remaining
 * digits must end the called number (a number) or be followed in it by at
 * least one more digit with at most DID_HEAD_MAX digits before them (a
 * mask "P*"). A leading '+' of the called number is ignored; any other
 * non-digit makes it match nothing but "*".
 */

#include <stdarg.h>
#include <string.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "pbx/pbx.h"
#include "pbx/pbx_int.h"

#define DEBUG_MODULE "route"

enum {
	/* digits a mask's called number may carry before the pattern:
	   an international prefix (00, 011) and a country code of up to 3
	   digits, or a national trunk prefix */
	DID_HEAD_MAX = 6,
	STRIP_MAX = 20,
	NUMBER_LEN_MAX = STORE_NUMBER_MAX - 1,
};


static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}


static bool all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return false;
	}

	return true;
}


/**
 * Set a validation message
 *
 * @param why Buffer for the message (may be NULL)
 * @param sz  Size of why
 * @param fmt Format, as re_snprintf
 *
 * @return EINVAL, so that callers can return it directly
 */
int pbx_why(char *why, size_t sz, const char *fmt, ...)
{
	va_list ap;

	if (why && sz) {
		va_start(ap, fmt);
		(void)re_vsnprintf(why, sz, fmt, ap);
		va_end(ap);
	}

	return EINVAL;
}


/**
 * Take the next item of a comma-separated list, blanks around it removed
 *
 * @param pos  Where to read; advanced past the item and its comma
 * @param item Returned item (may be empty, for "a,,b" or "a,")
 *
 * @return true if an item was taken, false at the end of the list
 */
bool pbx_item_next(const char **pos, struct pl *item)
{
	const char *p = *pos;
	const char *comma;

	if (!p)
		return false;

	comma = strchr(p, ',');
	item->p = p;
	item->l = comma ? (size_t)(comma - p) : strlen(p);
	*pos = comma ? comma + 1 : NULL;
	text_trim(item);

	return true;
}


/**
 * Check a telephone number: digits with an optional leading '+', at most
 * STORE_NUMBER_MAX - 1 characters
 *
 * @param field    Field name for the message
 * @param number   Number to check
 * @param required Whether an empty number is refused
 * @param why      Returned reason when refused
 * @param sz       Size of why
 *
 * @return 0 or EINVAL
 */
int pbx_number_check(const char *field, const char *number, bool required,
		     char *why, size_t sz)
{
	const char *d;
	size_t n;

	if (!number || !number[0]) {
		if (required)
			return pbx_why(why, sz,
				       "%s: a number is required "
				       "(digits, optional leading +)",
				       field);
		return 0;
	}

	d = number[0] == '+' ? number + 1 : number;
	n = strlen(number);
	if (!d[0] || !all_digits(d, strlen(d)))
		return pbx_why(why, sz,
			       "%s: '%s' is not a number (digits with an "
			       "optional leading +)",
			       field, number);
	if (n > NUMBER_LEN_MAX)
		return pbx_why(why, sz,
			       "%s: '%s' is too long (at most %u characters)",
			       field, number, NUMBER_LEN_MAX);

	return 0;
}


/**
 * Check a free text: no control characters and none of banned
 *
 * @param field  Field name for the message
 * @param text   Text to check (NULL or empty is accepted)
 * @param banned Characters refused besides control characters, or NULL
 * @param why    Returned reason when refused
 * @param sz     Size of why
 *
 * @return 0 or EINVAL
 */
int pbx_text_check(const char *field, const char *text, const char *banned,
		   char *why, size_t sz)
{
	for (const char *p = text; p && *p; p++) {
		const unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f)
			return pbx_why(why, sz,
				       "%s: control characters are not "
				       "allowed",
				       field);
		if (banned && strchr(banned, c))
			return pbx_why(why, sz,
				       "%s: the characters %s are not "
				       "allowed",
				       field, banned);
	}

	return 0;
}


/* The significant part of a DID pattern: after a leading '+' and leading
   zeros, up to an optional final '*'. false if the pattern is malformed. */
static bool did_pattern_split(const char *pat, size_t len, struct pl *sig,
			      bool *mask)
{
	size_t i = 0;

	if (i < len && pat[i] == '+')
		++i;
	while (i < len && pat[i] == '0')
		++i;

	*mask = len > 0 && pat[len - 1] == '*';
	if (*mask)
		--len;

	if (i >= len || !all_digits(pat + i, len - i))
		return false;

	sig->p = pat + i;
	sig->l = len - i;

	return true;
}


static int did_match_pl(const struct pl *pat, const char *called)
{
	struct pl sig;
	size_t clen;
	bool mask;

	if (pl_strcmp(pat, "*") == 0)
		return 0;

	if (!did_pattern_split(pat->p, pat->l, &sig, &mask))
		return -1;

	if (called[0] == '+')
		++called;
	clen = strlen(called);
	if (!clen || !all_digits(called, clen))
		return -1;

	if (!mask) {
		if (clen < sig.l)
			return -1;
		if (memcmp(called + clen - sig.l, sig.p, sig.l))
			return -1;
		return (int)sig.l;
	}

	for (size_t i = 0; i <= DID_HEAD_MAX && i + sig.l < clen; i++) {
		if (!memcmp(called + i, sig.p, sig.l))
			return (int)sig.l;
	}

	return -1;
}


/**
 * Match a DID pattern against a called number from its last digits
 * (SPEC §3). Leading '+' and '0' characters of the pattern are dialling
 * prefixes and are ignored; what is left, its significant digits, must:
 * - for a number ("2304024", "0233456789"): end the called number, so
 *   "2304024" matches "+448452304024", "08452304024", "0448452304024" and
 *   "2304024", and "0233456789" matches "+33233456789";
 * - for a mask ("0233456*"): appear in the called number followed by at
 *   least one more digit, with at most DID_HEAD_MAX digits before them
 *   (room for 0, 00 or 011 and a country code): "0233456*" matches
 *   "0233456789", "+33233456789", "0033233456789", not "0233456";
 * - "*" alone matches any called number.
 * A leading '+' of the called number is ignored; any other non-digit in
 * it means no match (except for "*").
 *
 * @param pattern DID pattern
 * @param called  Called number (user part of the Request-URI or To)
 *
 * @return number of significant pattern digits matched (0 for "*"), or -1
 */
int did_match(const char *pattern, const char *called)
{
	struct pl pat;

	if (!pattern || !called)
		return -1;

	pl_set_str(&pat, pattern);

	return did_match_pl(&pat, called);
}


/**
 * Is number covered by a DID list?
 *
 * @param list   Comma-separated DID patterns ("" = none)
 * @param called Called number
 *
 * @return true if one pattern of the list matches
 */
bool did_list_match(const char *list, const char *called)
{
	const char *pos = list;
	struct pl item;

	if (!list || !called)
		return false;

	while (pbx_item_next(&pos, &item)) {
		if (item.l && did_match_pl(&item, called) >= 0)
			return true;
	}

	return false;
}


static int did_pattern_check_pl(const char *field, const struct pl *pat,
				char *why, size_t sz)
{
	struct pl sig;
	bool mask;

	if (!pat->l)
		return pbx_why(why, sz, "%s: a DID pattern is required",
			       field);
	if (pl_strcmp(pat, "*") == 0)
		return 0;
	if (pat->l > NUMBER_LEN_MAX)
		return pbx_why(why, sz,
			       "%s: '%r' is too long (at most %u characters)",
			       field, pat, NUMBER_LEN_MAX);
	if (!did_pattern_split(pat->p, pat->l, &sig, &mask))
		return pbx_why(why, sz,
			       "%s: '%r' is not a DID pattern (digits with an "
			       "optional leading +, a final * for a mask, or "
			       "* alone; at least one digit other than "
			       "leading zeros)",
			       field, pat);

	return 0;
}


/**
 * Check one DID pattern: "*", or digits with an optional leading '+' and
 * an optional final '*', with at least one digit besides leading zeros
 *
 * @param field   Field name for the message
 * @param pattern Pattern to check
 * @param why     Returned reason when refused
 * @param sz      Size of why
 *
 * @return 0 or EINVAL
 */
int did_pattern_check(const char *field, const char *pattern, char *why,
		      size_t sz)
{
	struct pl pat;

	pl_set_str(&pat, pattern ? pattern : "");

	return did_pattern_check_pl(field, &pat, why, sz);
}


/**
 * Check a comma-separated list of DID patterns ("" is accepted)
 *
 * @param field Field name for the message
 * @param list  List to check
 * @param why   Returned reason when refused
 * @param sz    Size of why
 *
 * @return 0 or EINVAL
 */
int did_list_check(const char *field, const char *list, char *why, size_t sz)
{
	const char *pos = list;
	struct pl item;
	int err;

	if (!list || !list[0])
		return 0;

	while (pbx_item_next(&pos, &item)) {
		err = did_pattern_check_pl(field, &item, why, sz);
		if (err)
			return err;
	}

	return 0;
}


/**
 * Is number in a list of emergency numbers?
 *
 * @param list   Comma-separated numbers ("15,17,18,112")
 * @param number Dialled number
 *
 * @return true if number equals one of the list
 */
bool route_is_emergency(const char *list, const char *number)
{
	const char *pos = list;
	struct pl item;

	if (!list || !number || !number[0])
		return false;

	while (pbx_item_next(&pos, &item)) {
		if (item.l && pl_strcmp(&item, number) == 0)
			return true;
	}

	return false;
}


/* "200-220" into lo and hi; false unless both are digits of one length
   and lo <= hi */
static bool caller_range(const struct pl *item, struct pl *lo, struct pl *hi)
{
	const char *dash = pl_strchr(item, '-');

	if (!dash)
		return false;

	lo->p = item->p;
	lo->l = (size_t)(dash - item->p);
	hi->p = dash + 1;
	hi->l = item->l - lo->l - 1;

	if (!lo->l || lo->l != hi->l)
		return false;
	if (!all_digits(lo->p, lo->l) || !all_digits(hi->p, hi->l))
		return false;

	return memcmp(lo->p, hi->p, lo->l) <= 0;
}


static bool caller_item_match(const struct pl *item, const char *caller)
{
	const size_t n = strlen(caller);
	struct pl lo, hi;

	if (!pl_strchr(item, '-'))
		return pl_strcmp(item, caller) == 0;

	/* numbers of one length compare as text; "2050" is not in
	   200-220 */
	if (!caller_range(item, &lo, &hi) || n != lo.l ||
	    !all_digits(caller, n))
		return false;

	return memcmp(caller, lo.p, n) >= 0 && memcmp(caller, hi.p, n) <= 0;
}


/**
 * Does a calling extension fall in a callers list?
 *
 * @param callers "100,101,200-220": numbers and inclusive ranges of
 *                numbers of one length; "" = everyone
 * @param caller  Calling extension ("100")
 *
 * @return true if it does
 */
bool route_caller_match(const char *callers, const char *caller)
{
	const char *pos = callers;
	struct pl item;

	if (!callers || !callers[0])
		return true;
	if (!caller || !caller[0])
		return false;

	while (pbx_item_next(&pos, &item)) {
		if (item.l && caller_item_match(&item, caller))
			return true;
	}

	return false;
}


/**
 * Does an outbound rule apply? The dialled number must start with the
 * rule's prefix, the caller be in its callers list and the number's length
 * be within min_len and max_len (0 = no bound)
 *
 * @param r       Outbound rule
 * @param caller  Calling extension
 * @param dialled Dialled number
 *
 * @return true if the rule applies
 */
bool orule_match(const struct store_orule *r, const char *caller,
		 const char *dialled)
{
	size_t n, plen;

	if (!r || !dialled)
		return false;

	n = strlen(dialled);
	plen = strlen(r->prefix);
	if (n < plen || strncmp(dialled, r->prefix, plen))
		return false;
	if (r->min_len && n < r->min_len)
		return false;
	if (r->max_len && n > r->max_len)
		return false;

	return route_caller_match(r->callers, caller);
}


/**
 * Rewrite a dialled number for a route: strip then prepend, so
 * "0142000000" with strip 1 and prepend "+33" gives "+33142000000"
 *
 * @param rt      Route
 * @param dialled Dialled number
 * @param out     Buffer for the result
 * @param sz      Size of out
 *
 * @return 0, ERANGE if it does not fit, EINVAL if strip > length
 */
int route_apply(const struct store_route *rt, const char *dialled, char *out,
		size_t sz)
{
	size_t n;
	int len;

	if (!rt || !dialled || !out || !sz)
		return EINVAL;

	n = strlen(dialled);
	if (rt->strip > n)
		return EINVAL;

	len = re_snprintf(out, sz, "%s%s", rt->prepend, dialled + rt->strip);
	if (len < 0 || (size_t)len >= sz) {
		out[0] = '\0';
		return ERANGE;
	}

	return 0;
}


static int callers_check(const char *callers, char *why, size_t sz)
{
	const char *pos = callers;
	struct pl item, lo, hi;

	if (!callers || !callers[0])
		return 0;

	while (pbx_item_next(&pos, &item)) {
		bool ok;

		if (pl_strchr(&item, '-'))
			ok = caller_range(&item, &lo, &hi);
		else
			ok = item.l && all_digits(item.p, item.l);

		if (!ok)
			return pbx_why(why, sz,
				       "callers: '%r' is not a number or a "
				       "range of numbers of one length "
				       "(e.g. 100,101,200-220)",
				       &item);
	}

	return 0;
}


static int prefix_check(const char *prefix, char *why, size_t sz)
{
	for (size_t i = 0; prefix[i]; i++) {
		const char c = prefix[i];

		if (is_digit(c) || c == '*' || c == '#' || (c == '+' && !i))
			continue;

		return pbx_why(why, sz,
			       "prefix: '%s' may only hold digits, * and #, "
			       "with an optional leading +",
			       prefix);
	}

	if (strlen(prefix) > NUMBER_LEN_MAX)
		return pbx_why(why, sz,
			       "prefix: '%s' is too long (at most %u "
			       "characters)",
			       prefix, NUMBER_LEN_MAX);

	return 0;
}


static int route_check(const struct store_route *rt, uint32_t i, char *why,
		       size_t sz)
{
	char field[32];
	int err;

	if (rt->blocked) {
		if (rt->trunk[0])
			return pbx_why(why, sz,
				       "route %u: a blocked route has no "
				       "trunk (it has '%s')",
				       i + 1, rt->trunk);
		return 0;
	}

	re_snprintf(field, sizeof(field), "route %u: trunk", i + 1);
	if (!rt->trunk[0])
		return pbx_why(why, sz,
			       "%s: a trunk name is required unless the "
			       "route is blocked",
			       field);
	err = pbx_name_check(field, rt->trunk, why, sz);
	if (err)
		return err;

	if (rt->strip > STRIP_MAX)
		return pbx_why(why, sz,
			       "route %u: strip: %u is more than %u digits",
			       i + 1, rt->strip, STRIP_MAX);

	/* "00" -> strip 2, prepend "+": a lone '+' is a valid prefix */
	if (!strcmp(rt->prepend, "+"))
		return 0;

	re_snprintf(field, sizeof(field), "route %u: prepend", i + 1);

	return pbx_number_check(field, rt->prepend, false, why, sz);
}


/**
 * Validate an outbound rule: prefix of digits, * and # (optional leading
 * +), callers list syntax, min_len <= max_len when both are set, 1 to
 * STORE_ROUTES_MAX routes, each either blocked (no trunk) or naming a
 * trunk, with strip <= 20 and prepend digits with an optional leading +
 *
 * @param r   Outbound rule
 * @param why Returned reason when refused, naming the field
 * @param sz  Size of why
 *
 * @return 0 or EINVAL
 */
int orule_validate(const struct store_orule *r, char *why, size_t sz)
{
	int err;

	if (!r)
		return pbx_why(why, sz, "rule is missing");

	err = pbx_text_check("name", r->name, NULL, why, sz);
	if (err)
		return err;
	err = prefix_check(r->prefix, why, sz);
	if (err)
		return err;
	err = callers_check(r->callers, why, sz);
	if (err)
		return err;

	if (r->min_len > NUMBER_LEN_MAX || r->max_len > NUMBER_LEN_MAX)
		return pbx_why(why, sz,
			       "min_len, max_len: 0 (any) or at most %u "
			       "digits",
			       NUMBER_LEN_MAX);
	if (r->min_len && r->max_len && r->min_len > r->max_len)
		return pbx_why(why, sz, "min_len: %u is more than max_len %u",
			       r->min_len, r->max_len);

	if (r->routec < 1 || r->routec > STORE_ROUTES_MAX)
		return pbx_why(why, sz, "routes: %u given, 1 to %u allowed",
			       r->routec, STORE_ROUTES_MAX);

	for (uint32_t i = 0; i < r->routec; i++) {
		err = route_check(&r->routes[i], i, why, sz);
		if (err)
			return err;
	}

	return 0;
}


/**
 * Parse a destination of an inbound rule
 *
 * @param d   Returned destination (may be NULL to only check s)
 * @param s   "hangup", "extension:100" or "external:0612345678"
 * @param why Returned reason when refused, listing what is allowed
 * @param sz  Size of why
 *
 * @return 0 or EINVAL
 */
int dest_parse(struct dest *d, const char *s, char *why, size_t sz)
{
	static const char ext[] = "extension:";
	static const char xt[] = "external:";
	struct dest tmp;
	char reason[96];
	int err;

	memset(&tmp, 0, sizeof(tmp));

	if (!s)
		s = "";

	if (!strcmp(s, "hangup")) {
		tmp.kind = DEST_HANGUP;
	}
	else if (!strncmp(s, ext, sizeof(ext) - 1)) {
		tmp.kind = DEST_EXTENSION;
		err = ext_number_check(s + sizeof(ext) - 1, reason,
				       sizeof(reason));
		if (err)
			return pbx_why(why, sz, "'%s': %s", s, reason);
		str_ncpy(tmp.number, s + sizeof(ext) - 1, sizeof(tmp.number));
	}
	else if (!strncmp(s, xt, sizeof(xt) - 1)) {
		tmp.kind = DEST_EXTERNAL;
		err = pbx_number_check("external", s + sizeof(xt) - 1, true,
				       why, sz);
		if (err)
			return err;
		str_ncpy(tmp.number, s + sizeof(xt) - 1, sizeof(tmp.number));
	}
	else {
		return pbx_why(why, sz,
			       "'%s' is not a destination (hangup, "
			       "extension:NUMBER or external:NUMBER)",
			       s);
	}

	if (d)
		*d = tmp;

	return 0;
}


static int dest_check(const char *field, const char *s, bool required,
		      char *why, size_t sz)
{
	char reason[128];

	if (!s[0] && !required)
		return 0;
	if (!s[0])
		return pbx_why(why, sz,
			       "%s: a destination is required (hangup, "
			       "extension:NUMBER or external:NUMBER)",
			       field);

	if (dest_parse(NULL, s, reason, sizeof(reason)))
		return pbx_why(why, sz, "%s: %s", field, reason);

	return 0;
}


/**
 * Validate an inbound rule: a DID pattern, an optional trunk name, a
 * destination for office hours and optional ones for outside office hours
 * and holidays
 *
 * @param r   Inbound rule
 * @param why Returned reason when refused, naming the field
 * @param sz  Size of why
 *
 * @return 0 or EINVAL
 */
int irule_validate(const struct store_irule *r, char *why, size_t sz)
{
	int err;

	if (!r)
		return pbx_why(why, sz, "rule is missing");

	err = pbx_text_check("name", r->name, NULL, why, sz);
	if (err)
		return err;
	if (r->trunk[0]) {
		err = pbx_name_check("trunk", r->trunk, why, sz);
		if (err)
			return err;
	}
	err = did_pattern_check("did", r->did, why, sz);
	if (err)
		return err;
	err = dest_check("dest_open", r->dest_open, true, why, sz);
	if (err)
		return err;
	err = dest_check("dest_closed", r->dest_closed, false, why, sz);
	if (err)
		return err;

	return dest_check("dest_holiday", r->dest_holiday, false, why, sz);
}

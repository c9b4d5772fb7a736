/**
 * @file num.c  Strict parsing of numbers from the network and from files
 *
 * libre's pl_u32() accepts "12x" and wraps on overflow (STYLE.md §3), so
 * every number we are handed goes through here: digits only, no sign, no
 * blanks, no overflow, inside [min, max].
 */

#include <errno.h>
#include <string.h>
#include <re.h>
#include "core/core.h"


static int parse_u64(const char *p, size_t len, uint64_t *val)
{
	uint64_t v = 0;

	if (!p || !len || len > 20)
		return EINVAL;

	for (size_t i = 0; i < len; i++) {
		const unsigned d = (unsigned)(p[i] - '0');

		if (d > 9)
			return EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return ERANGE;
		v = v * 10 + d;
	}

	*val = v;
	return 0;
}


/**
 * Parse an unsigned decimal number in a range
 *
 * @param pl  Text to parse (all of it must be digits)
 * @param min Smallest value allowed
 * @param max Largest value allowed
 * @param val Returned value
 *
 * @return 0 if success, EINVAL for junk, ERANGE outside [min, max]
 */
int num_u32(const struct pl *pl, uint32_t min, uint32_t max, uint32_t *val)
{
	uint64_t v;
	int err;

	if (!pl || !val)
		return EINVAL;

	err = parse_u64(pl->p, pl->l, &v);
	if (err)
		return err;

	if (v < min || v > max)
		return ERANGE;

	*val = (uint32_t)v;
	return 0;
}


int num_u32_str(const char *s, uint32_t min, uint32_t max, uint32_t *val)
{
	struct pl pl;

	if (!s)
		return EINVAL;

	pl_set_str(&pl, s);
	return num_u32(&pl, min, max, val);
}


int num_u64_str(const char *s, uint64_t *val)
{
	if (!s || !val)
		return EINVAL;

	return parse_u64(s, strlen(s), val);
}


/**
 * Remove leading and trailing blanks (space, tab, CR, LF) from a pl
 *
 * @param pl Text to trim in place
 */
void text_trim(struct pl *pl)
{
	if (!pl || !pl->p)
		return;

	while (pl->l && (pl->p[0] == ' ' || pl->p[0] == '\t' ||
			 pl->p[0] == '\r' || pl->p[0] == '\n')) {
		++pl->p;
		--pl->l;
	}

	while (pl->l && (pl->p[pl->l - 1] == ' ' || pl->p[pl->l - 1] == '\t' ||
			 pl->p[pl->l - 1] == '\r' || pl->p[pl->l - 1] == '\n'))
		--pl->l;
}


/**
 * Parse a literal IP address: "192.0.2.1", "2001:db8::1", with port_ok also "192.0.2.1:5061" and
 * "[2001:db8::1]:5061". No host names: the SBC's addresses are host data.
 * 0.0.0.0, :: and 255.255.255.255 are a syntax error (SPEC §4).
 *
 * @param sa      Parsed address (port 0 when none was given)
 * @param val     Text
 * @param port_ok Whether ":port" may follow
 *
 * @return 0, or EBADMSG
 */
int addr_literal_parse(struct sa *sa, const char *val, bool port_ok)
{
	struct pl addr, port = PL_INIT;
	uint32_t pnum = 0;
	const char *colon = strchr(val, ':');

	pl_set_str(&addr, val);
	if (val[0] == '[') {
		const char *end = strchr(val, ']');

		if (!end || (end[1] && end[1] != ':'))
			return EBADMSG;
		addr.p = val + 1;
		addr.l = (size_t)(end - addr.p);
		if (end[1])
			pl_set_str(&port, end + 2);
	}
	else if (colon && colon == strrchr(val, ':')) {
		addr.l = (size_t)(colon - val);
		pl_set_str(&port, colon + 1);
	}

	if (port.p) {
		if (!port_ok || num_u32(&port, 1, 65535, &pnum))
			return EBADMSG;
	}

	if (!addr.l || sa_set(sa, &addr, (uint16_t)pnum))
		return EBADMSG;

	if (sa_is_any(sa) || (sa_af(sa) == AF_INET && sa_in(sa) == UINT32_MAX))
		return EBADMSG;

	return 0;
}

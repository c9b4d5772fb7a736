/**
 * @file sdptext.c  Pieces of SDP text parsing shared by sdprw.c and mneg.c
 *
 * Both read SDP as text, line by line, with the same bounded helpers:
 * blank-separated tokens, "name:value" attributes, direction attributes
 * and connection data (RFC 8866 §5.7). Pure functions on struct pl.
 */

#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "media/media_int.h"

static const char *const dir_names[] = {
	[SDPRW_DIR_SENDRECV] = "sendrecv",
	[SDPRW_DIR_SENDONLY] = "sendonly",
	[SDPRW_DIR_RECVONLY] = "recvonly",
	[SDPRW_DIR_INACTIVE] = "inactive",
};


/**
 * Split a value on runs of blanks
 *
 * @param val  Text
 * @param tokv Tokens found
 * @param max  Room in tokv
 * @param n    Number of tokens found
 *
 * @return 0, or E2BIG when there are more than max tokens
 */
int sdptext_tokens(const struct pl *val, struct pl *tokv, size_t max,
		   size_t *n)
{
	size_t i = 0, c = 0;

	while (i < val->l) {
		size_t start;

		while (i < val->l && (val->p[i] == ' ' || val->p[i] == '\t'))
			++i;
		if (i == val->l)
			break;

		if (c == max)
			return E2BIG;

		start = i;
		while (i < val->l && val->p[i] != ' ' && val->p[i] != '\t')
			++i;

		tokv[c].p = val->p + start;
		tokv[c].l = i - start;
		++c;
	}

	*n = c;

	return 0;
}


/**
 * Split "name:value" of an a= line; value is empty without ':'
 */
void sdptext_attr(const struct pl *val, struct pl *name, struct pl *value)
{
	const char *colon = pl_strchr(val, ':');

	if (!colon) {
		*name = *val;
		value->p = val->p + val->l;
		value->l = 0;
		return;
	}

	name->p = val->p;
	name->l = (size_t)(colon - val->p);
	value->p = colon + 1;
	value->l = val->l - name->l - 1;
}


/**
 * Is an attribute name a direction (sendrecv, sendonly, ...)?
 *
 * @param name Attribute name
 * @param dir  The direction, when it is one
 *
 * @return true if it is a direction attribute
 */
bool sdptext_dir(const struct pl *name, enum sdprw_dir *dir)
{
	for (int d = SDPRW_DIR_SENDRECV; d <= SDPRW_DIR_INACTIVE; d++) {
		if (!pl_strcmp(name, dir_names[d])) {
			*dir = (enum sdprw_dir)d;
			return true;
		}
	}

	return false;
}


/**
 * Parse "IN IP4 192.0.2.1" given as its three tokens (a multicast "/ttl"
 * suffix is cut off)
 *
 * @return 0 or EBADMSG
 */
int sdptext_conn(const struct pl *nettype, const struct pl *addrtype,
		 const struct pl *addr, struct sa *sa)
{
	struct pl a = *addr;
	const char *slash = pl_strchr(&a, '/');
	int af;

	if (pl_strcmp(nettype, "IN"))
		return EBADMSG;

	if (!pl_strcmp(addrtype, "IP4"))
		af = AF_INET;
	else if (!pl_strcmp(addrtype, "IP6"))
		af = AF_INET6;
	else
		return EBADMSG;

	if (slash)
		a.l = (size_t)(slash - a.p);

	if (!a.l || sa_set(sa, &a, 0) || sa_af(sa) != af)
		return EBADMSG;

	return 0;
}


/**
 * Parse the value of a c= line
 *
 * @return 0 or EBADMSG
 */
int sdptext_c(const struct pl *val, struct sa *sa)
{
	struct pl tokv[3];
	size_t n;

	if (sdptext_tokens(val, tokv, ARRAY_SIZE(tokv), &n) || n != 3)
		return EBADMSG;

	return sdptext_conn(&tokv[0], &tokv[1], &tokv[2], sa);
}

/**
 * @file trunkcfg.c  Carrier trunk settings: profiles and validation
 *
 * A trunk reaches the store only through trunk_validate(), so the SIP side
 * (sip/trunk.c) can trust every field. A profile fills in what a carrier
 * expects (SPEC §2, Orange Business Talk IP); the API applies it first and
 * the user's explicit options after it.
 */

#include <string.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "pbx/pbx.h"
#include "pbx/pbx_int.h"

#define DEBUG_MODULE "trunkcfg"

enum {
	REG_INTERVAL_DEFAULT = 180,
	REG_INTERVAL_MIN = 60,
	REG_INTERVAL_MAX = 3600,
	MAX_CALLS_DEFAULT = 10,
	MAX_CALLS_MAX = 1000,
	OPTIONS_DEFAULT = 30,
	OPTIONS_MIN = 5,
	OPTIONS_MAX = 3600,
	LABEL_MAX = 63,
	HOSTNAME_MAX = 253,
};

struct profile {
	const char *name;
	const char *transport;
	uint16_t port;
	bool srv;
	const char *codecs;
	const char *srtp;
	bool pai;
};

/*
 * BTIPoI has SRV records whose targets listen on TLS port 5061; the port
 * stays 0 (transport default, which is 5061 for TLS) because an explicit
 * port turns the SRV lookup off (RFC 3263 4.2).
 */
static const struct profile profiles[] = {
	{
	    .name = "",
	    .transport = "udp",
	    .codecs = "PCMA,PCMU,G722,telephone-event",
	    .srtp = "disabled",
	},
	{
	    .name = "orange-btip",
	    .transport = "udp",
	    .codecs = "G722,PCMA,G729,telephone-event",
	    .srtp = "disabled",
	    .pai = true,
	},
	{
	    .name = "orange-btipoi",
	    .transport = "tls",
	    .srv = true,
	    .codecs = "PCMA,G729,telephone-event",
	    .srtp = "enforced",
	    .pai = true,
	},
};

static const char *const kinds[] = { "register", "ip" };
static const char *const transports[] = { "udp", "tcp", "tls" };
static const char *const srtp_modes[] = { "disabled", "allowed", "enforced" };
static const char *const privacies[] = { "", "none", "id", "header", "user" };
static const char *const codec_names[] = { "PCMA", "PCMU", "G722", "G729",
					   "telephone-event" };


static bool one_of(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(s, v[i]))
			return true;
	}

	return false;
}


/* Checks s against a table; the message lists the table */
static int choice_check(const char *field, const char *s, const char *const *v,
			size_t n, char *why, size_t sz)
{
	char allowed[96] = "";
	size_t len = 0;

	if (one_of(s, v, n))
		return 0;

	for (size_t i = 0; i < n; i++) {
		const char *name = v[i][0] ? v[i] : "\"\"";

		const int w = re_snprintf(allowed + len, sizeof(allowed) - len,
					  "%s%s", i ? ", " : "", name);

		if (w < 0 || (size_t)w >= sizeof(allowed) - len)
			break; /* the tables are short; never truncated */
		len += (size_t)w;
	}

	return pbx_why(why, sz, "%s: '%s' is not one of %s", field, s,
		       allowed);
}


static const struct profile *profile_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++) {
		if (!strcmp(name, profiles[i].name))
			return &profiles[i];
	}

	return NULL;
}


static int profile_why(const char *name, char *why, size_t sz)
{
	return pbx_why(why, sz,
		       "profile: '%s' is not one of \"\" (generic), "
		       "orange-btip, orange-btipoi",
		       name);
}


/**
 * Fill a trunk with the settings of a profile
 *
 * - "": generic; register every 180 s over UDP, 10 calls, PCMA, PCMU,
 *   G722 and telephone-event, SRTP disabled, OPTIONS every 30 s
 * - "orange-btip": BTIP/BTalk over the private network; UDP, G722, PCMA,
 *   G729 and telephone-event, SRTP disabled, P-Asserted-Identity
 * - "orange-btipoi": BTIPoI/BToI over the Internet; TLS with SRV (port
 *   5061 from the SRV records, or the TLS default when srv is off), SRTP
 *   enforced, PCMA first then G729, P-Asserted-Identity
 *
 * All of them register, allow inbound and outbound calls, and send
 * Diversion on forwarded calls. The name and the creation time are kept;
 * every other field is overwritten (host, credentials and numbers are
 * cleared).
 *
 * @param t       Trunk to fill
 * @param profile Profile name
 * @param why     Returned reason when refused (lists the profiles)
 * @param sz      Size of why
 *
 * @return 0, EINVAL for a NULL argument, or ENOENT for an unknown profile
 */
int trunk_profile_apply(struct store_trunk *t, const char *profile, char *why,
			size_t sz)
{
	const struct profile *p;
	char name[sizeof(t->name)];
	int64_t created;

	if (!t || !profile)
		return EINVAL;

	p = profile_find(profile);
	if (!p) {
		(void)profile_why(profile, why, sz);
		return ENOENT;
	}

	str_ncpy(name, t->name, sizeof(name));
	created = t->created;
	memset(t, 0, sizeof(*t));
	str_ncpy(t->name, name, sizeof(t->name));
	t->created = created;

	str_ncpy(t->profile, p->name, sizeof(t->profile));
	str_ncpy(t->kind, "register", sizeof(t->kind));
	str_ncpy(t->transport, p->transport, sizeof(t->transport));
	t->port = p->port;
	t->srv = p->srv;
	t->reg_interval = REG_INTERVAL_DEFAULT;
	t->max_calls = MAX_CALLS_DEFAULT;
	t->inbound = true;
	t->outbound = true;
	str_ncpy(t->codecs, p->codecs, sizeof(t->codecs));
	str_ncpy(t->srtp, p->srtp, sizeof(t->srtp));
	t->pai = p->pai;
	t->diversion = true;
	t->options_interval = OPTIONS_DEFAULT;

	return 0;
}


/**
 * Check a trunk or rule name: 1 to STORE_TRUNK_NAME_MAX - 1 characters of
 * A-Z, a-z, 0-9, '_' and '-'
 *
 * @param field Field name for the message
 * @param name  Name to check
 * @param why   Returned reason when refused
 * @param sz    Size of why
 *
 * @return 0 or EINVAL
 */
int pbx_name_check(const char *field, const char *name, char *why, size_t sz)
{
	size_t n;

	if (!name || !name[0])
		return pbx_why(why, sz, "%s: a name is required", field);

	n = strlen(name);
	for (size_t i = 0; i < n; i++) {
		const char c = name[i];
		const bool ok = (c >= 'a' && c <= 'z') ||
				(c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '_' || c == '-';

		if (!ok)
			return pbx_why(why, sz,
				       "%s: '%s' may only hold A-Z, a-z, 0-9, "
				       "_ and -",
				       field, name);
	}

	if (n > STORE_TRUNK_NAME_MAX - 1)
		return pbx_why(why, sz,
			       "%s: '%s' is too long (at most %u characters)",
			       field, name, STORE_TRUNK_NAME_MAX - 1);

	return 0;
}


/* Strict dotted quad: four decimal numbers 0-255 without leading zeros */
static bool ipv4_parse(const struct pl *pl, uint32_t *addr)
{
	const char *p = pl->p;
	const char *end = pl->p + pl->l;
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		struct pl oct;
		uint32_t v;

		oct.p = p;
		while (p < end && *p >= '0' && *p <= '9')
			++p;
		oct.l = (size_t)(p - oct.p);

		if (oct.l > 1 && oct.p[0] == '0')
			return false;
		if (num_u32(&oct, 0, 255, &v))
			return false;
		a = a << 8 | v;

		if (i < 3) {
			if (p >= end || *p != '.')
				return false;
			++p;
		}
	}

	if (p != end)
		return false;

	*addr = a;
	return true;
}


/* RFC 1123 host name: dot-separated labels of letters, digits and '-',
   1-63 characters, not starting or ending with '-'; the last label is not
   all digits (that would be a mistyped IPv4 address) */
static bool fqdn_valid(const struct pl *pl)
{
	size_t label = 0;
	bool alpha = false;

	if (!pl->l || pl->l > HOSTNAME_MAX)
		return false;

	for (size_t i = 0; i <= pl->l; i++) {
		const char c = i < pl->l ? pl->p[i] : '.';

		if (c == '.') {
			if (!label || label > LABEL_MAX || pl->p[i - 1] == '-')
				return false;
			if (i == pl->l && !alpha)
				return false;
			label = 0;
			alpha = false;
			continue;
		}

		if (c == '-' && !label)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (!(c >= '0' && c <= '9'))
			alpha = true;
		++label;
	}

	return true;
}


/* IPv4 or host name; *is_ip tells which */
static int host_check(const char *field, const struct pl *host, bool *is_ip,
		      char *why, size_t sz)
{
	uint32_t a;

	if (!host->l)
		return pbx_why(why, sz,
			       "%s: a host is required (IPv4 address or "
			       "domain name)",
			       field);

	if (ipv4_parse(host, &a)) {
		if (a == 0 || a == 0xffffffffu)
			return pbx_why(why, sz,
				       "%s: '%r' is not a usable address",
				       field, host);
		*is_ip = true;
		return 0;
	}

	if (pl_strchr(host, ':'))
		return pbx_why(why, sz,
			       "%s: '%r': IPv6 addresses and ports are not "
			       "allowed here (IPv4 address or domain name)",
			       field, host);

	if (!fqdn_valid(host))
		return pbx_why(why, sz,
			       "%s: '%r' is neither an IPv4 address nor a "
			       "domain name (labels of letters, digits and -, "
			       "separated by dots)",
			       field, host);

	*is_ip = false;
	return 0;
}


/* host[:port] */
static int proxy_check(const char *proxy, char *why, size_t sz)
{
	const char *colon = strrchr(proxy, ':');
	struct pl host, port;
	uint32_t v;
	bool ip;

	if (!proxy[0])
		return 0;

	pl_set_str(&host, proxy);
	if (colon) {
		host.l = (size_t)(colon - proxy);
		pl_set_str(&port, colon + 1);
		if (num_u32(&port, 1, 65535, &v))
			return pbx_why(why, sz,
				       "proxy: port '%r' is not a number from "
				       "1 to 65535",
				       &port);
	}

	return host_check("proxy", &host, &ip, why, sz);
}


static int codecs_check(const char *codecs, char *why, size_t sz)
{
	const char *pos = codecs;
	unsigned seen = 0;
	bool audio = false;
	struct pl item;

	if (!codecs[0])
		pos = NULL; /* no item: reported as no audio codec below */

	while (pbx_item_next(&pos, &item)) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(codec_names); k++) {
			if (!pl_strcmp(&item, codec_names[k]))
				break;
		}

		if (k == ARRAY_SIZE(codec_names))
			return pbx_why(why, sz,
				       "codecs: '%r' is not one of PCMA, "
				       "PCMU, "
				       "G722, G729, telephone-event",
				       &item);
		if (seen & (1u << k))
			return pbx_why(why, sz, "codecs: '%r' is listed twice",
				       &item);

		seen |= 1u << k;
		audio |= strcmp(codec_names[k], "telephone-event") != 0;
	}

	if (!audio)
		return pbx_why(why, sz,
			       "codecs: at least one audio codec is required "
			       "(PCMA, PCMU, G722, G729)");

	return 0;
}


static int contact_check(const char *addr, char *why, size_t sz)
{
	struct sa sa;

	if (!addr[0])
		return 0;

	if (sa_set_str(&sa, addr, 0) || sa_is_any(&sa))
		return pbx_why(why, sz,
			       "contact_addr: '%s' is not an IP address "
			       "(empty: the address of the interface)",
			       addr);

	/* libre 1.1.0 writes the interface address in Via and Contact and
	   has no way to change it: a public address that would only reach
	   the SDP would break the calls it claims to fix */
	return pbx_why(why, sz,
		       "contact_addr: static NAT addressing is not supported "
		       "yet; leave it empty (the interface address is used)");
}


static int server_check(const struct store_trunk *t, char *why, size_t sz)
{
	struct pl host;
	bool ip = false;
	int err;

	pl_set_str(&host, t->host);
	err = host_check("host", &host, &ip, why, sz);
	if (err)
		return err;

	if (t->srv && ip)
		return pbx_why(why, sz,
			       "srv: SRV lookup needs a domain name host, not "
			       "the address '%s'",
			       t->host);
	if (t->srv && t->port)
		return pbx_why(why, sz,
			       "srv: SRV lookup and an explicit port (%u) "
			       "exclude each other (RFC 3263); set port 0",
			       t->port);

	err = choice_check("transport", t->transport, transports,
			   ARRAY_SIZE(transports), why, sz);
	if (err)
		return err;

	err = proxy_check(t->proxy, why, sz);
	if (err)
		return err;

	if (t->domain[0]) {
		pl_set_str(&host, t->domain);
		err = host_check("domain", &host, &ip, why, sz);
	}

	return err;
}


static int auth_check(const struct store_trunk *t, char *why, size_t sz)
{
	int err;

	err = choice_check("kind", t->kind, kinds, ARRAY_SIZE(kinds), why, sz);
	if (err)
		return err;

	err = pbx_text_check("auth_user", t->auth_user, " ", why, sz);
	if (err)
		return err;
	err = pbx_text_check("password", t->password, NULL, why, sz);
	if (err)
		return err;

	if (!strcmp(t->kind, "register")) {
		if (!t->auth_user[0])
			return pbx_why(why, sz,
				       "auth_user: required for a register "
				       "trunk");
		if (!t->password[0])
			return pbx_why(why, sz,
				       "password: required for a register "
				       "trunk");
	}

	if (t->reg_interval < REG_INTERVAL_MIN ||
	    t->reg_interval > REG_INTERVAL_MAX)
		return pbx_why(why, sz,
			       "reg_interval: %u is not from %u to %u seconds",
			       t->reg_interval, REG_INTERVAL_MIN,
			       REG_INTERVAL_MAX);

	return 0;
}


static int media_check(const struct store_trunk *t, char *why, size_t sz)
{
	int err;

	if (t->max_calls < 1 || t->max_calls > MAX_CALLS_MAX)
		return pbx_why(why, sz, "max_calls: %u is not from 1 to %u",
			       t->max_calls, MAX_CALLS_MAX);

	err = codecs_check(t->codecs, why, sz);
	if (err)
		return err;

	err = choice_check("srtp", t->srtp, srtp_modes, ARRAY_SIZE(srtp_modes),
			   why, sz);
	if (err)
		return err;

	/* SDES carries the SRTP keys in the SDP (RFC 4568 8.3): they
	   must not cross the network in clear */
	if (!strcmp(t->srtp, "enforced") && strcmp(t->transport, "tls"))
		return pbx_why(why, sz,
			       "srtp: 'enforced' requires transport tls (the "
			       "SDES keys travel in the SDP and must not "
			       "cross the network in clear)");

	return contact_check(t->contact_addr, why, sz);
}


static int numbers_check(const struct store_trunk *t, char *why, size_t sz)
{
	int err;

	err = pbx_number_check("main_number", t->main_number, false, why, sz);
	if (err)
		return err;
	err = pbx_number_check("caller_id", t->caller_id, false, why, sz);
	if (err)
		return err;
	err = did_list_check("dids", t->dids, why, sz);
	if (err)
		return err;
	err = pbx_text_check("caller_name", t->caller_name, "\"\\", why, sz);
	if (err)
		return err;

	return choice_check("privacy", t->privacy, privacies,
			    ARRAY_SIZE(privacies), why, sz);
}


/**
 * Check every field of a trunk before it is stored
 *
 * @param t   Trunk
 * @param why Returned reason when refused: the field and what is allowed,
 *            e.g. "transport: 'sctp' is not one of udp, tcp, tls"; it
 *            never repeats the password
 * @param sz  Size of why
 *
 * @return 0 or EINVAL
 */
int trunk_validate(const struct store_trunk *t, char *why, size_t sz)
{
	int err;

	if (!t)
		return pbx_why(why, sz, "trunk is missing");

	err = pbx_name_check("name", t->name, why, sz);
	if (err)
		return err;

	if (!profile_find(t->profile))
		return profile_why(t->profile, why, sz);

	err = server_check(t, why, sz);
	if (err)
		return err;
	err = auth_check(t, why, sz);
	if (err)
		return err;
	err = media_check(t, why, sz);
	if (err)
		return err;
	err = numbers_check(t, why, sz);
	if (err)
		return err;

	if (t->options_interval && (t->options_interval < OPTIONS_MIN ||
				    t->options_interval > OPTIONS_MAX))
		return pbx_why(why, sz,
			       "options_interval: %u is not 0 (off) or from "
			       "%u to %u seconds",
			       t->options_interval, OPTIONS_MIN, OPTIONS_MAX);

	return 0;
}

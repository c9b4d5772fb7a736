/**
 * @file guard.c  SBC security guard (SPEC §4): allow-list, deny-list,
 *                DoS/DDoS and brute-force detection, malicious calls
 * Pure bookkeeping on the SIP thread: no sockets, no timers, the caller
 * passes the time in Unix milliseconds. Sources are IP addresses; the
 * port is ignored and IPv4-mapped IPv6 addresses count as IPv4.
 * Rates (DoS per source, DDoS over all sources) use a sliding estimate
 * over two buckets of one window each, as rate limiters at large CDNs
 * do: count = current + floor(previous * (window - elapsed) / window).
 * A fixed window would let a source send twice the threshold across a
 * window edge; two counters per source keep the memory small.
 * Brute force and the malicious-call counters use a window that opens
 * with the first event and closes one window later.
 * Which deny-list entries are enforced:
 *   malicious     always, whatever the level, allow-listed sources too;
 *   dos, brute    at levels auto and allowlist, never for allow-listed
 *                 sources; at level none they are kept (they expire as
 *                 usual) but not enforced.
 */

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <re.h>
#include "core/core.h"
#include "sbc/sbc.h"

#define DEBUG_MODULE "guard"

enum {
	SRC_MAX = 65536,       /* sources tracked at once               */
	SRC_BUCKETS = 16384,   /* hash buckets for them                 */
	DENY_BUCKETS = 4096,   /* hash buckets for the deny-list        */
	EVICT_SCAN = 32,       /* LRU entries looked at for a non-known */
	KNOWN_MS = 3600000,    /* a good source stays known for 1 h     */
	MAL_WINDOW_MS = 60000, /* malicious-call counters: 60 s         */
	SPRAY_USERS = 10,      /* more distinct INVITE targets = spray  */
	SEQ_RUN = 5,	       /* sequential numbers that make a spray  */
	REFUSED_MAX = 5,       /* unroutable refusals in the window     */
	UA_SHOW = 64,	       /* User-Agent characters kept in detail  */
	REASONS = GUARD_REASON_MALICIOUS + 1,
};

/* Lower-case substrings of scanners' User-Agents. Known tools: SIPVicious
   (friendly-scanner, sipvicious), sipcli, sip-scan/sipscan, VaxSIPUserAgent,
   iWar, sundayddr, pplsip, SMAP, SIP Army Knife. sipsak is a legitimate
   test tool and not listed. */
static const char *const scanner_uas[] = {
	"friendly-scanner", "sipvicious", "sipcli/",   "sip-scan", "sipscan",
	"vaxsipuseragent",  "iwar",	  "sundayddr", "pplsip",   "smap",
	"siparmyknife",
};

/* Two-bucket rate window */
struct win {
	uint64_t start; /* ms, start of the current bucket */
	uint32_t cur;
	uint32_t prev;
};

/* Malicious-call counters of one source, allocated on first use */
struct mal {
	uint32_t users[SPRAY_USERS]; /* hashes of recent INVITE targets */
	uint64_t when[SPRAY_USERS];
	uint32_t nusers;
	uint64_t seq_last; /* last numeric target                */
	uint64_t seq_first;
	uint32_t seq_run;
	uint64_t seq_start;
	uint32_t refused;
	uint64_t refused_start;
};

struct src {
	struct le he; /* in guard.srch                        */
	struct le le; /* in guard.srcl, head = least recent */
	struct sa addr;
	uint64_t last;
	uint64_t known_until;
	struct win dos;
	uint32_t bf_count;
	uint64_t bf_start;
	struct mal *mal;
};

struct deny {
	struct le he; /* in guard.denyh                    */
	struct le le; /* in guard.denyl, head = oldest */
	struct sa addr;
	enum guard_reason reason;
	int64_t since;
	int64_t until;
	uint64_t drops;
	char *detail;
};

struct allow {
	struct sa net;
	uint8_t bits;
	char cidr[64];
};

struct guard {
	struct guard_conf conf;
	guard_deny_h *dh;
	void *arg;
	struct hash *srch;
	struct list srcl;
	uint32_t nsrc;
	struct hash *denyh;
	struct list denyl;
	uint32_t ndeny[REASONS];
	struct allow allow[GUARD_ALLOW_MAX];
	uint32_t nallow;
	struct win ddos;
	bool ddos_active;
	struct guard_stats st;
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A deny-list detail as a mem string (NULL when out of memory) */
static char *detail_printf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (re_vsdprintf(&s, fmt, ap))
		s = NULL;
	va_end(ap);

	return s;
}

/* ---- configuration and names ---------------------------------------- */

const struct guard_conf guard_conf_default = {
	.level = GUARD_LEVEL_AUTO,
	.dos_threshold = 200,
	.dos_window = 5,
	.dos_period = 3600,
	.ddos_threshold = 2000,
	.ddos_window = 5,
	.bf_failures = 10,
	.bf_window = 60,
	.bf_period = 3600,
	.deny_max = 1000,
};

static const struct {
	const char *name;
	size_t off;
	uint32_t min, max;
} conf_ranges[] = {
	{ "dos_threshold", offsetof(struct guard_conf, dos_threshold), 10,
	  5000 },
	{ "dos_window", offsetof(struct guard_conf, dos_window), 2, 10 },
	{ "ddos_threshold", offsetof(struct guard_conf, ddos_threshold), 10,
	  5000 },
	{ "ddos_window", offsetof(struct guard_conf, ddos_window), 2, 10 },
	{ "bf_failures", offsetof(struct guard_conf, bf_failures), 3, 100 },
	{ "bf_window", offsetof(struct guard_conf, bf_window), 10, 3600 },
	{ "deny_max", offsetof(struct guard_conf, deny_max), 10, 100000 },
};

static const struct {
	const char *name;
	uint32_t secs;
} periods[] = {
	{ "30s", 30 },
	{ "5min", 300 },
	{ "30min", 1800 },
	{ "1h", 3600 },
	{ "1d", 86400 },
	{ "1w", 604800 },
	{ "never", GUARD_PERIOD_NEVER },
};

static const char *const level_names[] = {
	[GUARD_LEVEL_NONE] = "none",
	[GUARD_LEVEL_AUTO] = "auto",
	[GUARD_LEVEL_ALLOWLIST] = "allowlist",
};

static const char *const reason_names[] = {
	[GUARD_REASON_DOS] = "dos",
	[GUARD_REASON_BRUTE_FORCE] = "brute-force",
	[GUARD_REASON_MALICIOUS] = "malicious",
};

static const char *const verdict_names[] = {
	[GUARD_PASS] = "pass",
	[GUARD_DROP_DENIED] = "denied",
	[GUARD_DROP_NOT_ALLOWED] = "not-allowed",
	[GUARD_DROP_DDOS] = "ddos",
};

static bool period_valid(uint32_t secs)
{
	for (size_t i = 0; i < ARRAY_LEN(periods); i++) {
		if (periods[i].secs == secs)
			return true;
	}

	return false;
}

/**
 * Check every field of a guard configuration
 * @param c   Configuration
 * @param why Buffer for a message naming the field and what is allowed
 * @param sz  Size of why
 * @return 0 if valid, otherwise EINVAL
 */
int guard_conf_validate(const struct guard_conf *c, char *why, size_t sz)
{
	if (!c)
		return EINVAL;

	if (c->level > GUARD_LEVEL_ALLOWLIST) {
		re_snprintf(why, sz, "level must be none, auto or allowlist");
		return EINVAL;
	}

	for (size_t i = 0; i < ARRAY_LEN(conf_ranges); i++) {
		uint32_t v;

		memcpy(&v, (const char *)c + conf_ranges[i].off, sizeof(v));
		if (v >= conf_ranges[i].min && v <= conf_ranges[i].max)
			continue;

		re_snprintf(why, sz, "%s must be %u-%u (got %u)",
			    conf_ranges[i].name, conf_ranges[i].min,
			    conf_ranges[i].max, v);
		return EINVAL;
	}

	if (!period_valid(c->dos_period) || !period_valid(c->bf_period)) {
		const bool dos = !period_valid(c->dos_period);

		re_snprintf(why, sz,
			    "%s must be one of 30s, 5min, 30min, 1h, 1d, 1w, "
			    "never (got %u s)",
			    dos ? "dos_period" : "bf_period",
			    dos ? c->dos_period : c->bf_period);
		return EINVAL;
	}

	return 0;
}

/**
 * Parse a security level: "none", "auto" (or "auto-protection"),
 * "allowlist" (or "allow-list"), case-insensitive
 * @param lvl Parsed level
 * @param s   Text
 * @return 0 if success, otherwise EINVAL
 */
int guard_level_parse(enum guard_level *lvl, const char *s)
{
	if (!lvl || !s)
		return EINVAL;

	for (size_t i = 0; i < ARRAY_LEN(level_names); i++) {
		if (!str_casecmp(s, level_names[i])) {
			*lvl = (enum guard_level)i;
			return 0;
		}
	}

	if (!str_casecmp(s, "auto-protection"))
		*lvl = GUARD_LEVEL_AUTO;
	else if (!str_casecmp(s, "allow-list"))
		*lvl = GUARD_LEVEL_ALLOWLIST;
	else
		return EINVAL;

	return 0;
}

/** @return the name of level lvl: "none", "auto", "allowlist" or "?" */
const char *guard_level_name(enum guard_level lvl)
{
	return lvl <= GUARD_LEVEL_ALLOWLIST ? level_names[lvl] : "?";
}

/**
 * Parse a deny period: "30s", "5min", "30min", "1h", "1d", "1w",
 * "never", or the same values in plain seconds ("0" = never)
 * @param secs Parsed period in seconds (0 = never)
 * @param s    Text
 * @return 0 if success, otherwise EINVAL
 */
int guard_period_parse(uint32_t *secs, const char *s)
{
	uint32_t v;

	if (!secs || !s)
		return EINVAL;

	for (size_t i = 0; i < ARRAY_LEN(periods); i++) {
		if (!str_casecmp(s, periods[i].name)) {
			*secs = periods[i].secs;
			return 0;
		}
	}

	if (num_u32_str(s, 0, UINT32_MAX, &v) || !period_valid(v))
		return EINVAL;

	*secs = v;
	return 0;
}

/** @return the name of a period in seconds ("1h", "never"), "?" if none */
const char *guard_period_name(uint32_t secs)
{
	for (size_t i = 0; i < ARRAY_LEN(periods); i++) {
		if (periods[i].secs == secs)
			return periods[i].name;
	}

	return "?";
}

/** @return "dos", "brute-force", "malicious" or "?" */
const char *guard_reason_name(enum guard_reason r)
{
	return r <= GUARD_REASON_MALICIOUS ? reason_names[r] : "?";
}

/** @return "pass", "denied", "not-allowed", "ddos" or "?" */
const char *guard_verdict_name(enum guard_verdict v)
{
	return v <= GUARD_DROP_DDOS ? verdict_names[v] : "?";
}

/* ---- addresses ------------------------------------------------------ */

/* Source key: address only, port 0, IPv4-mapped IPv6 as IPv4 */
static int addr_key(struct sa *key, const struct sa *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff };
	uint8_t b[16];

	if (!a)
		return EINVAL;

	switch (sa_af(a)) {

	case AF_INET:
		sa_set_in(key, sa_in(a), 0);
		return 0;

	case AF_INET6:
		sa_in6(a, b);
		if (!memcmp(b, mapped, sizeof(mapped))) {
			sa_set_in(key,
				  (uint32_t)b[12] << 24 |
				      (uint32_t)b[13] << 16 |
				      (uint32_t)b[14] << 8 | b[15],
				  0);
		}
		else {
			sa_set_in6(key, b, 0);
		}
		return 0;

	default:
		return EAFNOSUPPORT;
	}
}

/* Address bytes in network order; returns how many (4 or 16) */
static size_t addr_bytes(const struct sa *a, uint8_t b[16])
{
	uint32_t v4;

	if (sa_af(a) == AF_INET6) {
		sa_in6(a, b);
		return 16;
	}

	v4 = sa_in(a);
	b[0] = (uint8_t)(v4 >> 24);
	b[1] = (uint8_t)(v4 >> 16);
	b[2] = (uint8_t)(v4 >> 8);
	b[3] = (uint8_t)v4;
	return 4;
}

static void bytes_mask(uint8_t *b, size_t len, unsigned bits)
{
	for (size_t i = 0; i < len; i++) {
		const unsigned keep =
		    bits > i * 8 ? bits - (unsigned)i * 8 : 0;

		if (keep < 8)
			b[i] &= (uint8_t)(0xff00u >> keep);
	}
}

static bool prefix_match(const struct sa *a, const struct sa *net,
			 unsigned bits)
{
	uint8_t x[16], y[16];
	size_t len;

	if (sa_af(a) != sa_af(net))
		return false;

	len = addr_bytes(a, x);
	(void)addr_bytes(net, y);
	bytes_mask(x, len, bits);

	return !memcmp(x, y, len);
}

static int cidr_syntax(char *why, size_t sz, const char *s, const char *what)
{
	re_snprintf(why, sz,
		    "syntax error: \"%s\": %s; use an IPv4 or IPv6 address, "
		    "optionally with a prefix (IPv4 /1-32, IPv6 /1-128), "
		    "e.g. 192.0.2.10, 198.51.100.0/24, 2001:db8::/32",
		    s, what);
	return EINVAL;
}

static int host_bits_check(const struct sa *a, unsigned bits, const char *s,
			   char *why, size_t sz)
{
	uint8_t b[16], m[16];
	size_t len = addr_bytes(a, b);
	struct sa net;

	memcpy(m, b, len);
	bytes_mask(m, len, bits);
	if (!memcmp(m, b, len))
		return 0;

	if (len == 4)
		sa_set_in(&net,
			  (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 |
			      (uint32_t)m[2] << 8 | m[3],
			  0);
	else
		sa_set_in6(&net, m, 0);

	re_snprintf(why, sz,
		    "syntax error: \"%s\" has host bits set beyond the "
		    "prefix; the network is %j/%u",
		    s, &net, bits);
	return EINVAL;
}

/**
 * Parse an allow-list address: "192.0.2.10", "198.51.100.0/24",
 * "2001:db8::1", "2001:db8::/32". Refused with a syntax error:
 * 0.0.0.0, ::, 255.255.255.255, a prefix outside /1-32 (IPv4) or
 * /1-128 (IPv6), and host bits set beyond the prefix (the message names
 * the network meant). An IPv4-mapped IPv6 address reads as IPv4.
 * @param net  Address or network (port 0)
 * @param bits Prefix length (32 or 128 for one host)
 * @param s    Text
 * @param why  Buffer for a message saying what is allowed (may be NULL)
 * @param sz   Size of why
 * @return 0 if success, otherwise EINVAL
 */
int guard_cidr_parse(struct sa *net, uint8_t *bits, const char *s, char *why,
		     size_t sz)
{
	const char *slash;
	char addr[64];
	struct sa a;
	uint32_t pfx, maxb;
	size_t n;
	int err;

	if (!net || !bits || !s)
		return EINVAL;

	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (!n || n >= sizeof(addr))
		return cidr_syntax(why, sz, s, "not an address");

	memcpy(addr, s, n);
	addr[n] = '\0';
	if (strchr(addr, '%') || strchr(addr, '[') || sa_set_str(&a, addr, 0))
		return cidr_syntax(why, sz, s, "not an address");

	maxb = sa_af(&a) == AF_INET ? 32 : 128;
	pfx = maxb;
	if (slash && num_u32_str(slash + 1, 1, maxb, &pfx))
		return cidr_syntax(why, sz, s, "bad prefix length");

	if (sa_is_any(&a))
		return cidr_syntax(why, sz, s, "the unspecified address");
	if (sa_af(&a) == AF_INET && sa_in(&a) == 0xffffffffu)
		return cidr_syntax(why, sz, s, "the broadcast address");

	err = host_bits_check(&a, pfx, s, why, sz);
	if (err)
		return err;

	*net = a;
	*bits = (uint8_t)pfx;

	return 0;
}

/* ---- sources -------------------------------------------------------- */

static void src_destructor(void *arg)
{
	struct src *s = arg;

	hash_unlink(&s->he);
	list_unlink(&s->le);
	mem_deref(s->mal);
}

static bool src_cmp(struct le *le, void *arg)
{
	const struct src *s = le->data;

	return sa_cmp(&s->addr, arg, SA_ADDR);
}

static void src_free(struct guard *g, struct src *s)
{
	--g->nsrc;
	mem_deref(s);
}

static bool src_known(const struct src *s, uint64_t now)
{
	return s->known_until > now;
}

/* Make room: the least recently seen source that is not known as good
   among the first EVICT_SCAN, else the least recently seen one */
static void src_evict(struct guard *g, uint64_t now)
{
	struct le *le = list_head(&g->srcl);

	for (int i = 0; le && i < EVICT_SCAN; i++, le = le->next) {
		struct src *s = le->data;

		if (!src_known(s, now)) {
			src_free(g, s);
			return;
		}
	}

	if (list_head(&g->srcl))
		src_free(g, list_head(&g->srcl)->data);
}

/* Find a source (and create it if asked); it becomes the most recent */
static struct src *src_get(struct guard *g, const struct sa *key, uint64_t now,
			   bool create)
{
	struct le *le =
	    hash_lookup(g->srch, sa_hash(key, SA_ADDR), src_cmp, (void *)key);
	struct src *s = le ? le->data : NULL;

	if (!s && create) {
		if (g->nsrc >= SRC_MAX)
			src_evict(g, now);

		s = mem_zalloc(sizeof(*s), src_destructor);
		if (!s)
			return NULL;

		s->addr = *key;
		s->dos.start = now;
		hash_append(g->srch, sa_hash(key, SA_ADDR), &s->he, s);
		++g->nsrc;
	}

	if (s) {
		list_unlink(&s->le);
		list_append(&g->srcl, &s->le, s);
		s->last = now;
	}

	return s;
}

static struct mal *src_mal(struct src *s)
{
	if (!s->mal)
		s->mal = mem_zalloc(sizeof(*s->mal), NULL);

	return s->mal;
}

/* How long an idle source is kept: the longest window it may be in */
static uint64_t src_keep_ms(const struct guard *g)
{
	uint64_t keep = MAL_WINDOW_MS;

	keep = max(keep, 2 * (uint64_t)g->conf.dos_window * 1000);
	keep = max(keep, (uint64_t)g->conf.bf_window * 1000);

	return keep;
}

/* ---- rate windows --------------------------------------------------- */

/* Move the window to now; returns the count of the bucket that just
   closed, or -1 when none closed */
static int64_t win_roll(struct win *w, uint64_t now, uint64_t len)
{
	uint64_t n;
	int64_t closed;

	if (now < w->start + len)
		return -1;

	n = (now - w->start) / len;
	closed = n == 1 ? w->cur : 0;
	w->prev = (uint32_t)closed;
	w->cur = 0;
	w->start += n * len;

	return closed;
}

/* Count one event; true if the estimate is now above the threshold */
static bool win_count(struct win *w, uint64_t now, uint32_t secs,
		      uint32_t threshold)
{
	const uint64_t len = (uint64_t)secs * 1000;
	uint64_t elapsed, est;

	(void)win_roll(w, now, len);
	++w->cur;

	elapsed = now > w->start ? now - w->start : 0;
	est = w->cur + (uint64_t)w->prev * (len - elapsed) / len;

	return est > threshold;
}

/* The DDoS detector goes off when a whole window closed at or below
   the threshold */
static void ddos_roll(struct guard *g, uint64_t now)
{
	const int64_t closed =
	    win_roll(&g->ddos, now, (uint64_t)g->conf.ddos_window * 1000);

	if (closed < 0 || !g->ddos_active)
		return;
	if (closed > g->conf.ddos_threshold)
		return;

	g->ddos_active = false;
	log_notice("DDoS detector off: %lld requests in the last %u s\n",
		   (long long)closed, g->conf.ddos_window);
}

static void ddos_count(struct guard *g, uint64_t now)
{
	if (!g->ddos.start && !g->ddos.cur)
		g->ddos.start = now;

	ddos_roll(g, now);
	if (!win_count(&g->ddos, now, g->conf.ddos_window,
		       g->conf.ddos_threshold))
		return;

	if (!g->ddos_active)
		log_warn("DDoS detector on: more than %u requests in %u s\n",
			 g->conf.ddos_threshold, g->conf.ddos_window);
	g->ddos_active = true;
}

/* ---- deny-list ------------------------------------------------------ */

static void deny_destructor(void *arg)
{
	struct deny *d = arg;

	hash_unlink(&d->he);
	list_unlink(&d->le);
	mem_deref(d->detail);
}

static bool deny_cmp(struct le *le, void *arg)
{
	const struct deny *d = le->data;

	return sa_cmp(&d->addr, arg, SA_ADDR);
}

static struct deny *deny_find(const struct guard *g, const struct sa *key)
{
	struct le *le = hash_lookup(g->denyh, sa_hash(key, SA_ADDR), deny_cmp,
				    (void *)key);

	return le ? le->data : NULL;
}

static struct guard_entry deny_entry(const struct deny *d)
{
	struct guard_entry e = {
		.addr = &d->addr,
		.reason = d->reason,
		.since = d->since,
		.until = d->until,
		.drops = d->drops,
		.detail = d->detail ? d->detail : "",
	};

	return e;
}

static void deny_notify(struct guard *g, const struct deny *d, bool added)
{
	const struct guard_entry e = deny_entry(d);

	if (g->dh)
		g->dh(&e, added, g->arg);
}

/* Take an entry off the list and tell the handler */
static void deny_drop(struct guard *g, struct deny *d)
{
	hash_unlink(&d->he);
	list_unlink(&d->le);
	--g->ndeny[d->reason];
	deny_notify(g, d, false);
	mem_deref(d);
}

static uint32_t deny_count(const struct guard *g)
{
	return g->ndeny[0] + g->ndeny[1] + g->ndeny[2];
}

static void deny_trim(struct guard *g, uint32_t max)
{
	while (deny_count(g) > max && list_head(&g->denyl))
		deny_drop(g, list_head(&g->denyl)->data);
}

/* Keep the list ordered by since, oldest first */
static void deny_insert(struct guard *g, struct deny *d)
{
	struct le *le = list_tail(&g->denyl);

	while (le && ((struct deny *)le->data)->since > d->since)
		le = le->prev;

	if (le)
		list_insert_after(&g->denyl, le, &d->le, d);
	else
		list_prepend(&g->denyl, &d->le, d);

	hash_append(g->denyh, sa_hash(&d->addr, SA_ADDR), &d->he, d);
	++g->ndeny[d->reason];
}

static struct deny *deny_alloc(const struct sa *key, enum guard_reason r,
			       int64_t since, int64_t until, char *detail)
{
	struct deny *d = mem_zalloc(sizeof(*d), deny_destructor);

	if (!d) {
		mem_deref(detail);
		return NULL;
	}

	d->addr = *key;
	d->reason = r;
	d->since = since;
	d->until = until;
	d->detail = detail;

	return d;
}

/* Deny key now (detail is a mem string, taken over); the request that
   caused it counts as the first drop when dropped is set */
static void deny_now(struct guard *g, const struct sa *key,
		     enum guard_reason r, uint64_t now, bool dropped,
		     char *detail)
{
	struct deny *d = deny_find(g, key);
	const uint32_t period = r == GUARD_REASON_BRUTE_FORCE
				    ? g->conf.bf_period
				    : g->conf.dos_period;
	const int64_t since = (int64_t)(now / 1000);

	/* one entry per address; malicious replaces a weaker reason */
	if (d && (d->reason == GUARD_REASON_MALICIOUS ||
		  r != GUARD_REASON_MALICIOUS)) {
		mem_deref(detail);
		return;
	}
	if (d)
		deny_drop(g, d);

	deny_trim(g, g->conf.deny_max - 1);

	d = deny_alloc(key, r, since, period ? since + period : 0, detail);
	if (!d)
		return;

	d->drops = dropped ? 1 : 0;
	deny_insert(g, d);
	++g->st.denials;

	log_notice("%j denied (%s) for %s: %s\n", key, reason_names[r],
		   guard_period_name(period), d->detail ? d->detail : "");
	deny_notify(g, d, true);
}

static bool deny_expired(const struct deny *d, uint64_t now)
{
	return d->until && (int64_t)(now / 1000) >= d->until;
}

/* Is key dropped by its deny-list entry? Expired entries go now. */
static bool deny_check(struct guard *g, const struct sa *key, bool allowed,
		       uint64_t now)
{
	struct deny *d = deny_find(g, key);

	if (!d)
		return false;

	if (deny_expired(d, now)) {
		deny_drop(g, d);
		return false;
	}

	if (d->reason != GUARD_REASON_MALICIOUS &&
	    (allowed || g->conf.level == GUARD_LEVEL_NONE))
		return false;

	++d->drops;
	return true;
}

/* ---- the guard ------------------------------------------------------ */

static void guard_destructor(void *arg)
{
	struct guard *g = arg;

	list_flush(&g->srcl);
	list_flush(&g->denyl);
	mem_deref(g->srch);
	mem_deref(g->denyh);
}

/**
 * Allocate a security guard
 * @param gp   Pointer to the new guard
 * @param conf Settings (NULL: guard_conf_default); validated
 * @param dh   Deny-list handler (may be NULL)
 * @param arg  Handler argument
 * @return 0 if success, otherwise errorcode (EINVAL for a bad conf)
 */
int guard_alloc(struct guard **gp, const struct guard_conf *conf,
		guard_deny_h *dh, void *arg)
{
	struct guard *g;
	int err;

	if (!gp)
		return EINVAL;

	if (!conf)
		conf = &guard_conf_default;

	if (guard_conf_validate(conf, NULL, 0))
		return EINVAL;

	g = mem_zalloc(sizeof(*g), guard_destructor);
	if (!g)
		return ENOMEM;

	g->conf = *conf;
	g->dh = dh;
	g->arg = arg;

	err = hash_alloc(&g->srch, SRC_BUCKETS);
	if (!err)
		err = hash_alloc(&g->denyh, DENY_BUCKETS);

	if (err)
		mem_deref(g);
	else
		*gp = g;

	return err;
}

/**
 * Change the settings; a smaller deny_max evicts the oldest entries at
 * once (handler called for each)
 * @param g Guard
 * @param c New settings (validated)
 * @return 0 if success, otherwise EINVAL
 */
int guard_conf_set(struct guard *g, const struct guard_conf *c)
{
	if (!g || guard_conf_validate(c, NULL, 0))
		return EINVAL;

	g->conf = *c;
	deny_trim(g, c->deny_max);

	return 0;
}

/** @return the guard's current settings (NULL without a guard) */
const struct guard_conf *guard_conf_get(const struct guard *g)
{
	return g ? &g->conf : NULL;
}

static enum guard_verdict verdict_pass(struct guard *g)
{
	++g->st.passed;
	return GUARD_PASS;
}

/* Level auto, source not allow-listed: its DoS count, then DDoS */
static enum guard_verdict check_auto(struct guard *g, const struct sa *key,
				     uint64_t now)
{
	struct src *s = src_get(g, key, now, true);

	if (!s)
		return verdict_pass(g);

	if (win_count(&s->dos, now, g->conf.dos_window,
		      g->conf.dos_threshold)) {
		memset(&s->dos, 0, sizeof(s->dos));
		s->dos.start = now;
		deny_now(g, key, GUARD_REASON_DOS, now, true,
			 detail_printf("more than %u requests in %u s",
				       g->conf.dos_threshold,
				       g->conf.dos_window));
		++g->st.dropped_denied;
		return GUARD_DROP_DENIED;
	}

	if (g->ddos_active && !src_known(s, now)) {
		++g->st.dropped_ddos;
		return GUARD_DROP_DDOS;
	}

	return verdict_pass(g);
}

/**
 * Count one request from src and say whether it may be served. Order:
 * deny-list (expired entries go now), allow-list (level allowlist), the
 * global DDoS rate (counted at every level, acted on at level auto),
 * the source's DoS rate (level auto, not allow-listed), DDoS (sources
 * neither allow-listed nor known are dropped while it is on).
 * @param g      Guard
 * @param src    Source address (port ignored)
 * @param now_ms Unix time in milliseconds
 * @return GUARD_PASS, or why the request must be dropped unanswered
 */
enum guard_verdict guard_check(struct guard *g, const struct sa *src,
			       uint64_t now_ms)
{
	struct sa key;
	bool allowed;

	if (!g || addr_key(&key, src))
		return GUARD_PASS;

	++g->st.requests;
	allowed = guard_allowed(g, &key);

	if (deny_check(g, &key, allowed, now_ms)) {
		++g->st.dropped_denied;
		return GUARD_DROP_DENIED;
	}

	if (g->conf.level == GUARD_LEVEL_ALLOWLIST && !allowed) {
		++g->st.dropped_allow;
		return GUARD_DROP_NOT_ALLOWED;
	}

	ddos_count(g, now_ms);

	if (g->conf.level != GUARD_LEVEL_AUTO || allowed)
		return verdict_pass(g);

	return check_auto(g, &key, now_ms);
}

/**
 * A request from src carrying credentials was refused. At level auto,
 * bf_failures of them within bf_window (a window opened by the first
 * failure) deny src for bf_period. Allow-listed sources are exempt.
 * @param g      Guard
 * @param src    Source address
 * @param now_ms Unix time in milliseconds
 */
void guard_auth_failed(struct guard *g, const struct sa *src, uint64_t now_ms)
{
	struct sa key;
	struct src *s;

	if (!g || addr_key(&key, src) || g->conf.level != GUARD_LEVEL_AUTO)
		return;

	if (guard_allowed(g, &key) || deny_find(g, &key))
		return;

	s = src_get(g, &key, now_ms, true);
	if (!s)
		return;

	if (!s->bf_count ||
	    now_ms - s->bf_start >= g->conf.bf_window * 1000ull) {
		s->bf_count = 0;
		s->bf_start = now_ms;
	}

	if (++s->bf_count < g->conf.bf_failures)
		return;

	s->bf_count = 0;
	deny_now(g, &key, GUARD_REASON_BRUTE_FORCE, now_ms, false,
		 detail_printf("%u failed authentications in %u s",
			       g->conf.bf_failures, g->conf.bf_window));
}

/**
 * src authenticated: its failures are forgotten and it counts as known
 * (passes while the DDoS detector is on) for one hour
 * @param g      Guard
 * @param src    Source address
 * @param now_ms Unix time in milliseconds
 */
void guard_auth_ok(struct guard *g, const struct sa *src, uint64_t now_ms)
{
	struct sa key;
	struct src *s;

	if (!g || addr_key(&key, src))
		return;

	s = src_get(g, &key, now_ms, true);
	if (!s)
		return;

	s->bf_count = 0;
	s->known_until = now_ms + KNOWN_MS;
}

/* ---- malicious call detection --------------------------------------- */

static bool pl_contains_ci(const struct pl *hay, const char *needle)
{
	const size_t n = strlen(needle);

	for (size_t i = 0; n && i + n <= hay->l; i++) {
		size_t j = 0;

		while (j < n &&
		       tolower((unsigned char)hay->p[i + j]) == needle[j])
			j++;
		if (j == n)
			return true;
	}

	return false;
}

static char *ua_detail(const struct pl *ua)
{
	char buf[UA_SHOW + 1];
	const size_t n = min(ua->l, (size_t)UA_SHOW);

	/* the detail is logged and stored: printable ASCII only */
	for (size_t i = 0; i < n; i++) {
		const unsigned char c = (unsigned char)ua->p[i];

		buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[n] = '\0';

	return detail_printf("User-Agent %s", buf);
}

static char *ua_scanner(const struct pl *ua)
{
	if (!pl_isset(ua))
		return NULL;

	for (size_t i = 0; i < ARRAY_LEN(scanner_uas); i++) {
		if (pl_contains_ci(ua, scanner_uas[i]))
			return ua_detail(ua);
	}

	return NULL;
}

/* Numeric user ("+" allowed in front), up to 18 digits */
static bool user_number(const struct pl *user, uint64_t *num)
{
	struct pl d = *user;
	uint64_t v = 0;

	if (d.l && d.p[0] == '+')
		pl_advance(&d, 1);

	if (!d.l || d.l > 18)
		return false;

	for (size_t i = 0; i < d.l; i++) {
		if (d.p[i] < '0' || d.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(d.p[i] - '0');
	}

	*num = v;
	return true;
}

/* More than SPRAY_USERS different targets within the window */
static char *spray_distinct(struct mal *m, const struct pl *user, uint64_t now)
{
	const uint32_t h = hash_joaat_pl(user);
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->nusers; i++) {
		if (now - m->when[i] >= MAL_WINDOW_MS)
			continue;
		m->users[n] = m->users[i];
		m->when[n++] = m->when[i];
	}
	m->nusers = n;

	for (uint32_t i = 0; i < n; i++) {
		if (m->users[i] == h) {
			m->when[i] = now;
			return NULL;
		}
	}

	if (n == SPRAY_USERS)
		return detail_printf("INVITEs to more than %u numbers in %u s",
				     SPRAY_USERS, MAL_WINDOW_MS / 1000);

	m->users[n] = h;
	m->when[n] = now;
	m->nusers = n + 1;

	return NULL;
}

/* SEQ_RUN numbers in a row, each the previous one plus one */
static char *spray_sequential(struct mal *m, const struct pl *user,
			      uint64_t now)
{
	uint64_t v;

	if (!user_number(user, &v))
		return NULL;

	if (m->seq_run && v == m->seq_last)
		return NULL;

	if (m->seq_run && v == m->seq_last + 1 &&
	    now - m->seq_start < MAL_WINDOW_MS) {
		++m->seq_run;
	}
	else {
		m->seq_run = 1;
		m->seq_first = v;
		m->seq_start = now;
	}
	m->seq_last = v;

	if (m->seq_run < SEQ_RUN)
		return NULL;

	return detail_printf("INVITEs to %u sequential numbers %llu-%llu",
			     m->seq_run, (unsigned long long)m->seq_first,
			     (unsigned long long)v);
}

static char *spray_check(struct guard *g, const struct sa *key,
			 const struct pl *user, uint64_t now)
{
	struct src *s = src_get(g, key, now, true);
	struct mal *m = s ? src_mal(s) : NULL;
	char *detail;

	if (!m)
		return NULL;

	detail = spray_sequential(m, user, now);
	if (!detail)
		detail = spray_distinct(m, user, now);

	if (detail)
		memset(m, 0, sizeof(*m));

	return detail;
}

/**
 * Malicious call detection, always on: scanner User-Agents
 * (case-insensitive substrings: friendly-scanner, sipvicious, sipcli/,
 * sip-scan, sipscan, vaxsipuseragent, iwar, sundayddr, pplsip, smap,
 * siparmyknife), and from one source within 60 s INVITEs to more than 10
 * different Request-URI users or to 5 sequential numbers. A match
 * denies src (reason malicious, dos_period) with a detail string.
 * @param g      Guard
 * @param src    Source address
 * @param ua     User-Agent (may be NULL/empty)
 * @param method Request method
 * @param user   Request-URI user part (may be NULL/empty)
 * @param now_ms Unix time in milliseconds
 * @return true if the request must be dropped
 */
bool guard_inspect(struct guard *g, const struct sa *src, const struct pl *ua,
		   const struct pl *method, const struct pl *user,
		   uint64_t now_ms)
{
	struct deny *d;
	struct sa key;
	char *detail;

	if (!g || addr_key(&key, src))
		return false;

	d = deny_find(g, &key);
	if (d && d->reason == GUARD_REASON_MALICIOUS &&
	    !deny_expired(d, now_ms)) {
		++d->drops;
		++g->st.dropped_denied;
		return true;
	}

	detail = ua_scanner(ua);
	if (!detail && pl_isset(method) && !pl_strcmp(method, "INVITE") &&
	    pl_isset(user))
		detail = spray_check(g, &key, user, now_ms);

	if (!detail)
		return false;

	deny_now(g, &key, GUARD_REASON_MALICIOUS, now_ms, true, detail);
	++g->st.dropped_denied;

	return true;
}

/**
 * The other side refused a call from src as unroutable: 403, 404, 484
 * and 604 count; 5 of them within 60 s deny src as malicious
 * @param g      Guard
 * @param src    Source address
 * @param scode  SIP status code of the refusal
 * @param now_ms Unix time in milliseconds
 */
void guard_call_refused(struct guard *g, const struct sa *src, uint16_t scode,
			uint64_t now_ms)
{
	struct sa key;
	struct src *s;
	struct mal *m;

	if (!g || addr_key(&key, src))
		return;

	if (scode != 403 && scode != 404 && scode != 484 && scode != 604)
		return;

	s = src_get(g, &key, now_ms, true);
	m = s ? src_mal(s) : NULL;
	if (!m)
		return;

	if (!m->refused || now_ms - m->refused_start >= MAL_WINDOW_MS) {
		m->refused = 0;
		m->refused_start = now_ms;
	}

	if (++m->refused < REFUSED_MAX)
		return;

	m->refused = 0;
	deny_now(g, &key, GUARD_REASON_MALICIOUS, now_ms, false,
		 detail_printf("%u calls refused as unroutable in %u s",
			       REFUSED_MAX, MAL_WINDOW_MS / 1000));
}

/**
 * Drop deny-list entries whose period is over (handler called for
 * each), forget sources idle longer than any window they may be in
 * (known sources are kept until their hour is over), and let the DDoS
 * detector go off when traffic stopped. Call about once a second.
 * @param g      Guard
 * @param now_ms Unix time in milliseconds
 */
void guard_expire(struct guard *g, uint64_t now_ms)
{
	const uint64_t keep = g ? src_keep_ms(g) : 0;
	struct le *le;

	if (!g)
		return;

	for (le = list_head(&g->denyl); le;) {
		struct deny *d = le->data;

		le = le->next;
		if (deny_expired(d, now_ms))
			deny_drop(g, d);
	}

	/* the LRU list is ordered by last request: stop at the first
	   source seen recently */
	for (le = list_head(&g->srcl); le;) {
		struct src *s = le->data;

		le = le->next;
		if (now_ms < s->last + keep)
			break;
		if (!src_known(s, now_ms))
			src_free(g, s);
	}

	ddos_roll(g, now_ms);
}

/* ---- allow-list ----------------------------------------------------- */

static struct allow *allow_find(struct guard *g, const struct sa *net,
				uint8_t bits)
{
	for (uint32_t i = 0; i < g->nallow; i++) {
		struct allow *a = &g->allow[i];

		if (a->bits == bits && sa_cmp(&a->net, net, SA_ADDR))
			return a;
	}

	return NULL;
}

/**
 * Add an address or network to the allow-list
 * @param g    Guard
 * @param cidr Address or network, see guard_cidr_parse()
 * @param why  Buffer for a message (may be NULL)
 * @param sz   Size of why
 * @return 0 if success, EINVAL (why set), EEXIST, E2BIG past
 *         GUARD_ALLOW_MAX
 */
int guard_allow_add(struct guard *g, const char *cidr, char *why, size_t sz)
{
	struct allow *a;
	struct sa net;
	uint8_t bits;
	int err;

	if (!g || !cidr)
		return EINVAL;

	err = guard_cidr_parse(&net, &bits, cidr, why, sz);
	if (err)
		return err;

	if (allow_find(g, &net, bits))
		return EEXIST;

	if (g->nallow >= GUARD_ALLOW_MAX) {
		re_snprintf(why, sz, "the allow-list holds at most %u entries",
			    GUARD_ALLOW_MAX);
		return E2BIG;
	}

	a = &g->allow[g->nallow++];
	a->net = net;
	a->bits = bits;
	if (bits == (sa_af(&net) == AF_INET ? 32 : 128))
		re_snprintf(a->cidr, sizeof(a->cidr), "%j", &net);
	else
		re_snprintf(a->cidr, sizeof(a->cidr), "%j/%u", &net, bits);

	return 0;
}

/**
 * Remove an address or network from the allow-list
 * @param g    Guard
 * @param cidr As given to guard_allow_add()
 * @return 0 if success, EINVAL when unparsable, ENOENT when not listed
 */
int guard_allow_remove(struct guard *g, const char *cidr)
{
	struct allow *a;
	struct sa net;
	uint8_t bits;

	if (!g || !cidr || guard_cidr_parse(&net, &bits, cidr, NULL, 0))
		return EINVAL;

	a = allow_find(g, &net, bits);
	if (!a)
		return ENOENT;

	memmove(a, a + 1,
		(size_t)(&g->allow[g->nallow] - (a + 1)) * sizeof(*a));
	--g->nallow;

	return 0;
}

/** Empty the allow-list of guard g */
void guard_allow_clear(struct guard *g)
{
	if (g)
		g->nallow = 0;
}

/** @return true if addr (port ignored) is allow-listed, as a host or
    inside a network */
bool guard_allowed(const struct guard *g, const struct sa *addr)
{
	struct sa key;

	if (!g || addr_key(&key, addr))
		return false;

	for (uint32_t i = 0; i < g->nallow; i++) {
		if (prefix_match(&key, &g->allow[i].net, g->allow[i].bits))
			return true;
	}

	return false;
}

/**
 * Call h for each allow-list entry, in the order they were added, with
 * its normalised text ("192.0.2.10", "198.51.100.0/24")
 * @param g   Guard
 * @param h   Handler; a non-zero return stops the walk
 * @param arg Handler argument
 * @return 0, or what the handler returned to stop
 */
int guard_allow_foreach(const struct guard *g, guard_allow_h *h, void *arg)
{
	if (!g || !h)
		return EINVAL;

	for (uint32_t i = 0; i < g->nallow; i++) {
		const int err = h(g->allow[i].cidr, arg);

		if (err)
			return err;
	}

	return 0;
}

/* ---- deny-list API -------------------------------------------------- */

/**
 * Put an entry back (from the store at start), without a handler call.
 * A full list loses its oldest entry (handler called for it).
 * @param g      Guard
 * @param addr   Address (port ignored)
 * @param reason Why it was denied
 * @param since  Unix seconds
 * @param until  Unix seconds, 0 = never
 * @param detail Text (may be NULL)
 * @return 0 if success, EINVAL, EEXIST when listed, ENOMEM
 */
int guard_deny_restore(struct guard *g, const struct sa *addr,
		       enum guard_reason reason, int64_t since, int64_t until,
		       const char *detail)
{
	struct deny *d;
	struct sa key;
	char *dt = NULL;

	if (!g || addr_key(&key, addr) || reason > GUARD_REASON_MALICIOUS)
		return EINVAL;

	if (deny_find(g, &key))
		return EEXIST;

	if (detail && str_dup(&dt, detail))
		return ENOMEM;

	deny_trim(g, g->conf.deny_max - 1);

	d = deny_alloc(&key, reason, since, until, dt);
	if (!d)
		return ENOMEM;

	deny_insert(g, d);

	return 0;
}

/** @return true if addr is on the deny-list, enforced at this level or
    not (port ignored) */
bool guard_denied(const struct guard *g, const struct sa *addr)
{
	struct sa key;

	if (!g || addr_key(&key, addr))
		return false;

	return deny_find(g, &key) != NULL;
}

/**
 * Call h for each deny-list entry, oldest first
 * @param g   Guard
 * @param h   Handler; a non-zero return stops the walk
 * @param arg Handler argument
 * @return 0, or what the handler returned to stop
 */
int guard_deny_foreach(const struct guard *g, guard_entry_h *h, void *arg)
{
	if (!g || !h)
		return EINVAL;

	for (struct le *le = list_head(&g->denyl); le;) {
		const struct guard_entry e = deny_entry(le->data);
		int err;

		le = le->next;
		err = h(&e, arg);
		if (err)
			return err;
	}

	return 0;
}

/**
 * Remove one entry (the handler is called with added=false)
 * @param g    Guard
 * @param addr Address (port ignored)
 * @return 0 if success, ENOENT when not listed
 */
int guard_deny_remove(struct guard *g, const struct sa *addr)
{
	struct deny *d;
	struct sa key;

	if (!g || addr_key(&key, addr))
		return EINVAL;

	d = deny_find(g, &key);
	if (!d)
		return ENOENT;

	deny_drop(g, d);

	return 0;
}

/**
 * Remove every entry (the handler is called for each)
 * @param g Guard
 * @return How many entries went
 */
uint32_t guard_deny_clear(struct guard *g)
{
	uint32_t n = 0;

	if (!g)
		return 0;

	while (list_head(&g->denyl)) {
		deny_drop(g, list_head(&g->denyl)->data);
		++n;
	}

	return n;
}

/** Fill st with the counters and state of g (zeroes without a guard) */
void guard_stats_get(const struct guard *g, struct guard_stats *st)
{
	if (!st)
		return;

	if (!g) {
		memset(st, 0, sizeof(*st));
		return;
	}

	*st = g->st;
	st->deny_dos = g->ndeny[GUARD_REASON_DOS];
	st->deny_brute = g->ndeny[GUARD_REASON_BRUTE_FORCE];
	st->deny_malicious = g->ndeny[GUARD_REASON_MALICIOUS];
	st->allow_count = g->nallow;
	st->sources = g->nsrc;
	st->ddos_active = g->ddos_active;
}

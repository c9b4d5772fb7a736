/**
 * @file sbc.c  The SBC service: two SIP stacks, the guard, the media relay
 *
 * sbc_alloc() builds, in this order: the guard from the store (security
 * settings, allow-list, deny-list), the SBC's own media relay on its RTP
 * range (side A bound on IP2, side B on IP3), the public stack (IP2) and
 * the private stack (IP3), the guard's listeners on the public stack
 * (registered before any other, so a dropped request reaches nothing and
 * gets no answer), the request filters of both stacks, then registrations
 * (sbcreg.c) and calls (sbccall.c). Everything runs on the SIP thread.
 */

#include <string.h>
#include <time.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "media/media.h"
#include "sip/sip.h"
#include "sbc/sbc_int.h"

#define DEBUG_MODULE "sbc"

enum {
	TICK_MS = 1000,
	SBC_DSCP = 46,
	DENY_RESTORE_MAX = 100000,
};

/* The store's names of guard levels and deny reasons (store.h) */
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


/**
 * The wall clock in milliseconds (Unix time), as the guard expects
 *
 * @return Unix time in milliseconds
 */
uint64_t sbc_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts))
		return (uint64_t)time(NULL) * 1000;

	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}


/**
 * The side opposite to side
 *
 * @param s    SBC
 * @param side One side of s
 *
 * @return The other side
 */
struct sbc_side *sbc_other(struct sbc *s, const struct sbc_side *side)
{
	if (!s || !side)
		return NULL;

	return side == &s->pub ? &s->priv : &s->pub;
}


/**
 * The address written toward a side (its NAT address, IP1 or IP4)
 *
 * @param s    SBC
 * @param side Side
 *
 * @return Address with the side's port
 */
const struct sa *sbc_side_nat(const struct sbc *s, const struct sbc_side *side)
{
	if (!s || !side)
		return NULL;

	return side->id == SBC_PUBLIC ? &s->conf.pub_nat : &s->conf.priv_nat;
}


/**
 * The transport used toward a side's peers by default
 *
 * @param s    SBC
 * @param side Side
 *
 * @return enum sip_transp: public side TLS when enabled, else UDP (or
 *         TCP); private side the PBX's transport
 */
int sbc_side_tp(const struct sbc *s, const struct sbc_side *side)
{
	if (!s || !side)
		return SIP_TRANSP_NONE;

	if (side->id == SBC_PRIVATE)
		return s->conf.pbx_tp;

	if (s->conf.pub_tls)
		return SIP_TRANSP_TLS;

	return s->conf.pub_udp ? SIP_TRANSP_UDP : SIP_TRANSP_TCP;
}


/**
 * Tell the guard how an authenticated request from the public side ended
 *
 * @param s         SBC
 * @param src       Source of the request
 * @param had_creds The request carried credentials
 * @param scode     Final status answered
 */
void sbc_guard_note_auth(struct sbc *s, const struct sa *src, bool had_creds,
			 uint16_t scode)
{
	if (!s || !s->guard || !src)
		return;

	/* in LAN mode the only source is the WAN element: never count it */
	if (s->conf.mode == SBC_MODE_LAN)
		return;

	if (scode >= 200 && scode < 300)
		guard_auth_ok(s->guard, src, sbc_now_ms());
	else if (had_creds && (scode == 401 || scode == 407 || scode == 403))
		guard_auth_failed(s->guard, src, sbc_now_ms());
}


/* ---- the guard's listeners on the public stack ----------------------- */

static bool from_wan_peer(const struct sbc *s, const struct sa *src)
{
	return sa_cmp(src, &s->conf.wan_peer, SA_ADDR);
}


/*
 * First listener of the public stack: a request the guard drops gets no
 * answer at all (SPEC §4), and no later listener sees it.
 */
static bool guard_req_h(const struct sip_msg *msg, void *arg)
{
	struct sbc *s = arg;
	const struct sip_hdr *ua;
	enum guard_verdict v;
	uint64_t now;

	if (s->conf.mode == SBC_MODE_LAN) {
		if (from_wan_peer(s, &msg->src))
			return false;
		log_debug("%J: %r dropped: not the WAN element", &msg->src,
			  &msg->met);
		return true;
	}

	now = sbc_now_ms();
	v = guard_check(s->guard, &msg->src, now);
	if (v != GUARD_PASS) {
		log_debug("%J: %r dropped: %s", &msg->src, &msg->met,
			  guard_verdict_name(v));
		return true;
	}

	ua = sip_msg_hdr(msg, SIP_HDR_USER_AGENT);
	if (guard_inspect(s->guard, &msg->src, ua ? &ua->val : NULL, &msg->met,
			  &msg->uri.user, now)) {
		log_info("%J: %r to '%r' dropped as malicious", &msg->src,
			 &msg->met, &msg->uri.user);
		return true;
	}

	return false;
}


/* Responses no transaction of ours matched: drop those of denied
 * sources (and, in LAN mode, of anyone but the WAN element) silently */
static bool guard_rsp_h(const struct sip_msg *msg, void *arg)
{
	struct sbc *s = arg;

	if (s->conf.mode == SBC_MODE_LAN)
		return !from_wan_peer(s, &msg->src);

	return guard_denied(s->guard, &msg->src);
}


/* ---- the guard and the store ------------------------------------------ */

static void deny_record(struct store_sbcdeny *d, const struct guard_entry *e)
{
	memset(d, 0, sizeof(*d));
	re_snprintf(d->addr, sizeof(d->addr), "%j", e->addr);
	if ((size_t)e->reason < ARRAY_SIZE(reason_names))
		str_ncpy(d->reason, reason_names[e->reason],
			 sizeof(d->reason));
	if (e->detail)
		str_ncpy(d->detail, e->detail, sizeof(d->detail));
	d->since = e->since;
	d->until = e->until;
}


static void deny_log(const struct guard_entry *e)
{
	const char *detail = e->detail ? e->detail : "";
	char until[32] = "never";

	if (e->until) {
		time_t t = (time_t)e->until;
		struct tm tm;

		if (!gmtime_r(&t, &tm) ||
		    !strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S UTC",
			      &tm))
			str_ncpy(until, "?", sizeof(until));
	}

	switch (e->reason) {

	case GUARD_REASON_DOS:
		evlog_emit(EV_TOO_MANY_REQUESTS,
			   "address %j denied: too many requests (%s), "
			   "until %s",
			   e->addr, detail, until);
		break;

	case GUARD_REASON_BRUTE_FORCE:
		evlog_emit(EV_AUTH_BRUTE_FORCE,
			   "address %j denied: too many failed "
			   "authentications (%s), until %s",
			   e->addr, detail, until);
		break;

	case GUARD_REASON_MALICIOUS:
	default:
		log_warn("address %j denied: malicious requests: %s, until %s",
			 e->addr, detail, until);
		break;
	}
}


/* Keep the store's deny-list in step with the guard's */
static void deny_h(const struct guard_entry *e, bool added, void *arg)
{
	struct sbc *s = arg;
	struct store_sbcdeny d;
	int err;

	/* the guard is being freed: its list must survive in the store */
	if (!s->guard || !e || !e->addr)
		return;

	deny_record(&d, e);

	if (added) {
		deny_log(e);
		err = store_sbcdeny_put(s->st, &d);
	}
	else {
		log_info("address %s off the deny-list (%s)", d.addr,
			 d.reason);
		err = store_sbcdeny_remove(s->st, d.addr);
		if (err == ENOENT)
			err = 0;
	}

	if (err)
		log_warn("deny-list: cannot store %s: %m", d.addr, err);
}


static int level_from_store(enum guard_level *lvl, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (level_names[i] && !str_casecmp(name, level_names[i])) {
			*lvl = (enum guard_level)i;
			return 0;
		}
	}

	return guard_level_parse(lvl, name);
}


static void sec_to_conf(struct guard_conf *gc, const struct store_sbcsec *sec)
{
	*gc = guard_conf_default;
	if (level_from_store(&gc->level, sec->level))
		gc->level = guard_conf_default.level;
	gc->dos_threshold = sec->dos_threshold;
	gc->dos_window = sec->dos_window;
	gc->dos_period = sec->dos_period;
	gc->ddos_threshold = sec->ddos_threshold;
	gc->ddos_window = sec->ddos_window;
	gc->bf_failures = sec->bf_failures;
	gc->bf_window = sec->bf_window;
	gc->bf_period = sec->bf_period;
	gc->deny_max = sec->deny_max;
}


static void conf_to_sec(struct store_sbcsec *sec, const struct guard_conf *gc)
{
	memset(sec, 0, sizeof(*sec));
	if ((size_t)gc->level < ARRAY_SIZE(level_names))
		str_ncpy(sec->level, level_names[gc->level],
			 sizeof(sec->level));
	sec->dos_threshold = gc->dos_threshold;
	sec->dos_window = gc->dos_window;
	sec->dos_period = gc->dos_period;
	sec->ddos_threshold = gc->ddos_threshold;
	sec->ddos_window = gc->ddos_window;
	sec->bf_failures = gc->bf_failures;
	sec->bf_window = gc->bf_window;
	sec->bf_period = gc->bf_period;
	sec->deny_max = gc->deny_max;
}


/*
 * Security settings from the store. At first start there are none: the
 * defaults (level auto) are saved, so that `relaisctl sbc security` shows
 * what is in force.
 */
static int sec_load(struct sbc *s, struct guard_conf *gc)
{
	struct store_sbcsec sec;
	char why[160] = "";
	int err;

	err = store_sbcsec_get(s->st, &sec);
	if (err == ENOENT) {
		*gc = guard_conf_default;
		conf_to_sec(&sec, gc);
		err = store_sbcsec_set(s->st, &sec);
		if (err)
			log_warn("cannot save the default security settings: "
				 "%m",
				 err);
		else
			log_notice("security: first start, level %s with the "
				   "default thresholds",
				   guard_level_name(gc->level));
		return 0;
	}
	if (err) {
		log_error("cannot read the security settings: %m", err);
		return err;
	}

	sec_to_conf(gc, &sec);
	if (guard_conf_validate(gc, why, sizeof(why))) {
		log_warn("stored security settings refused (%s): defaults "
			 "used",
			 why);
		*gc = guard_conf_default;
	}

	return 0;
}


static int allow_add_h(const char *cidr, void *arg)
{
	struct sbc *s = arg;
	char why[160] = "";
	int err;

	err = guard_allow_add(s->guard, cidr, why, sizeof(why));
	if (err && err != EEXIST)
		log_warn("allow-list: %s skipped: %s", cidr,
			 why[0] ? why : "refused");

	return 0;
}


static int allow_load(struct sbc *s)
{
	guard_allow_clear(s->guard);

	return store_sbcallow_foreach(s->st, allow_add_h, s);
}


struct deny_load {
	struct sbc *s;
	int64_t now;
	struct list expired; /* struct deny_gone */
	uint32_t n;
};

struct deny_gone {
	struct le le;
	char addr[64];
};


static int reason_from_store(enum guard_reason *r, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(reason_names); i++) {
		if (!str_casecmp(name, reason_names[i])) {
			*r = (enum guard_reason)i;
			return 0;
		}
	}

	return EINVAL;
}


static int deny_restore_h(const struct store_sbcdeny *d, void *arg)
{
	struct deny_load *dl = arg;
	enum guard_reason reason;
	struct deny_gone *g;
	struct sa addr;

	if (dl->n >= DENY_RESTORE_MAX)
		return 0;

	if (d->until && d->until <= dl->now) {
		/* removed once the iteration is over */
		g = mem_zalloc(sizeof(*g), NULL);
		if (!g)
			return ENOMEM;
		str_ncpy(g->addr, d->addr, sizeof(g->addr));
		list_append(&dl->expired, &g->le, g);
		return 0;
	}

	if (sa_set_str(&addr, d->addr, 0) ||
	    reason_from_store(&reason, d->reason)) {
		log_warn("deny-list: stored entry '%s' (%s) unreadable",
			 d->addr, d->reason);
		return 0;
	}

	if (!guard_deny_restore(dl->s->guard, &addr, reason, d->since,
				d->until, d->detail))
		++dl->n;

	return 0;
}


static int deny_load(struct sbc *s)
{
	struct deny_load dl;
	struct le *le;
	int err;

	memset(&dl, 0, sizeof(dl));
	dl.s = s;
	dl.now = (int64_t)(sbc_now_ms() / 1000);
	list_init(&dl.expired);

	err = store_sbcdeny_foreach(s->st, deny_restore_h, &dl);

	for (le = dl.expired.head; le; le = le->next) {
		struct deny_gone *g = le->data;

		(void)store_sbcdeny_remove(s->st, g->addr);
	}
	list_flush(&dl.expired);

	if (dl.n)
		log_info("deny-list: %u entr%s restored", dl.n,
			 dl.n == 1 ? "y" : "ies");

	return err;
}


static int guard_setup(struct sbc *s)
{
	struct guard_conf gc;
	int err;

	err = sec_load(s, &gc);
	if (err)
		return err;

	err = guard_alloc(&s->guard, &gc, deny_h, s);
	if (err) {
		log_error("cannot start the security guard: %m", err);
		return err;
	}

	err = allow_load(s);
	if (!err)
		err = deny_load(s);
	if (err)
		log_error("cannot read the allow/deny lists: %m", err);

	return err;
}


/* ---- media and the two SIP stacks ------------------------------------- */

static void relay_timeout_h(const char *tag, void *arg)
{
	struct sbc *s = arg;

	sbccall_media_timeout(s, tag);
}


static int media_setup(struct sbc *s)
{
	char a[64], b[64];
	struct media_conf mc;
	int err;

	re_snprintf(a, sizeof(a), "%j", &s->conf.pub_if);
	re_snprintf(b, sizeof(b), "%j", &s->conf.priv_if);

	memset(&mc, 0, sizeof(mc));
	mc.address = a;
	mc.address_b = b;
	mc.port_min = s->conf.rtp_min;
	mc.port_max = s->conf.rtp_max;
	mc.threads = s->cfg->media_threads;
	mc.timeout_s = s->cfg->media_timeout;
	mc.dscp = SBC_DSCP;

	err = media_alloc(&s->media, &mc, relay_timeout_h, s);
	if (err)
		log_error("cannot start the SBC's media relay on %s/%s, ports "
			  "%u-%u: %m",
			  a, b, s->conf.rtp_min, s->conf.rtp_max, err);

	return err;
}


/*
 * TLS and TCP are both TCP: they cannot share a port. TLS (what remote
 * phones use) keeps the side's port, as UDP does; TCP then listens on the
 * next port. Contacts name the port of the transport they are for.
 */
static int stack_setup(struct sbc *s, struct sbc_side *side,
		       const struct sa *laddr, bool udp, bool tcp, bool tls)
{
	char addr[64], tcpaddr[64];
	struct sa ta = *laddr;
	int err;

	re_snprintf(addr, sizeof(addr), "%J", laddr);
	if (tls && tcp)
		sa_set_port(&ta, sa_port(laddr) + 1);
	re_snprintf(tcpaddr, sizeof(tcpaddr), "%J", &ta);

	err = sipstack_alloc_listen(&side->ss, s->cfg, udp ? addr : "",
				    tcp ? tcpaddr : "", tls ? addr : "");
	if (err) {
		log_error("cannot listen on the %s side %s: %m",
			  side->id == SBC_PUBLIC ? "public" : "private", addr,
			  err);
		return err;
	}

	side->sip = sipstack_sip(side->ss);

	return 0;
}


static int stacks_setup(struct sbc *s)
{
	const struct sbc_conf *c = &s->conf;
	char pbx[64];
	int err;

	s->pub.id = SBC_PUBLIC;
	s->priv.id = SBC_PRIVATE;

	err = stack_setup(s, &s->pub, &c->pub_if, c->pub_udp, c->pub_tcp,
			  c->pub_tls);
	if (err)
		return err;

	err = stack_setup(s, &s->priv, &c->priv_if, c->priv_udp, c->priv_tcp,
			  c->priv_tls);
	if (err)
		return err;

	/* the PBX's (or LAN element's) certificate names its address */
	re_snprintf(pbx, sizeof(pbx), "%j", &c->pbx);
	err = sipstack_set_server_name(s->priv.ss, pbx);
	if (err)
		return err;

	/* LAN mode: calls toward remote phones go to the WAN element's
	   private listener, whose certificate names that address */
	if (c->mode == SBC_MODE_LAN) {
		re_snprintf(pbx, sizeof(pbx), "%j", &c->wan_peer);
		err = sipstack_set_server_name(s->pub.ss, pbx);
		if (err)
			return err;
	}

	/* before our other listeners: a dropped request reaches none of
	   them (libre's own transaction layer, registered by sip_alloc(),
	   still resends its cached answer to a retransmission of a request
	   it saw before the source was denied) */
	err = sip_listen(&s->pub.lsnr_guard, s->pub.sip, true, guard_req_h, s);
	err |= sip_listen(&s->pub.lsnr_guard_rsp, s->pub.sip, false,
			  guard_rsp_h, s);
	if (err)
		return err;

	err = sipfilter_alloc(&s->pub.filter, s->pub.ss);
	err |= sipfilter_alloc(&s->priv.filter, s->priv.ss);

	return err;
}


static void tick_h(void *arg)
{
	struct sbc *s = arg;
	uint64_t now = sbc_now_ms();

	guard_expire(s->guard, now);
	sbcreg_expire(s, (int64_t)(now / 1000));

	tmr_start(&s->tmr, TICK_MS, tick_h, s);
}


static const char *tps_name(bool tls, bool udp, bool tcp)
{
	if (tls && (udp || tcp))
		return "tls+udp/tcp";
	if (tls)
		return "tls";

	return "udp/tcp";
}


static void start_log(const struct sbc *s)
{
	const struct sbc_conf *c = &s->conf;
	const struct guard_conf *gc = guard_conf_get(s->guard);

	log_notice("SBC mode %s: public %J (%s, announced %J), private %J "
		   "(%s, announced %J), %s %J over %s",
		   sbc_mode_name(c->mode), &c->pub_if,
		   tps_name(c->pub_tls, c->pub_udp, c->pub_tcp), &c->pub_nat,
		   &c->priv_if,
		   tps_name(c->priv_tls, c->priv_udp, c->priv_tcp),
		   &c->priv_nat,
		   c->mode == SBC_MODE_WAN ? "LAN element" : "PBX", &c->pbx,
		   sip_transp_name((enum sip_transp)c->pbx_tp));

	if (c->mode == SBC_MODE_LAN)
		log_notice("public side serves the WAN element %j only",
			   &c->wan_peer);

	log_notice("RTP ports %u-%u, symmetric RTP %s, new port on "
		   "renegotiation %s; security level %s",
		   c->rtp_min, c->rtp_max, c->symmetric_rtp ? "on" : "off",
		   c->rtp_port_change ? "on" : "off",
		   gc ? guard_level_name(gc->level) : "?");
}


static void destructor(void *arg)
{
	struct sbc *s = arg;
	struct guard *g = s->guard;

	tmr_cancel(&s->tmr);
	sbccall_close(s);
	sbcreg_close(s);

	s->pub.lsnr_guard = mem_deref(s->pub.lsnr_guard);
	s->pub.lsnr_guard_rsp = mem_deref(s->pub.lsnr_guard_rsp);
	s->pub.filter = mem_deref(s->pub.filter);
	s->priv.filter = mem_deref(s->priv.filter);

	/* end pending transactions before the transports go */
	if (s->pub.sip)
		sip_close(s->pub.sip, true);
	if (s->priv.sip)
		sip_close(s->priv.sip, true);

	s->media = mem_deref(s->media);
	s->pub.ss = mem_deref(s->pub.ss);
	s->priv.ss = mem_deref(s->priv.ss);

	/* deny_h() sees NULL and leaves the stored deny-list alone */
	s->guard = NULL;
	mem_deref(g);
}


/**
 * Start the SBC when sbc_mode is not off
 *
 * @param sp  Pointer to the SBC; set to NULL when sbc_mode is off
 * @param cfg Configuration (kept by pointer; must outlive the SBC)
 * @param st  Store (security settings and lists)
 *
 * @return 0 if success, otherwise errorcode
 */
int sbc_alloc(struct sbc **sp, const struct relais_config *cfg,
	      struct store *st)
{
	enum sbc_mode mode;
	char why[256] = "";
	struct sbc *s;
	int err;

	if (!sp || !cfg || !st)
		return EINVAL;

	*sp = NULL;

	if (sbc_mode_parse(&mode, cfg->sbc_mode)) {
		log_error("sbc_mode: '%s' is not off, standard, wan or lan",
			  cfg->sbc_mode);
		return EINVAL;
	}
	if (mode == SBC_MODE_OFF)
		return 0;

	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;

	s->cfg = cfg;
	s->st = st;
	tmr_init(&s->tmr);
	list_init(&s->calls);
	list_init(&s->regs);

	err = sbc_conf_resolve(&s->conf, cfg, why, sizeof(why));
	if (err) {
		log_error("SBC not started: %s",
			  why[0] ? why : "bad settings");
		goto out;
	}

	err = guard_setup(s);
	if (err)
		goto out;

	err = media_setup(s);
	if (err)
		goto out;

	err = stacks_setup(s);
	if (err)
		goto out;

	err = sbcreg_init(s);
	if (err) {
		log_error("cannot start SBC registrations: %m", err);
		goto out;
	}

	err = sbccall_init(s);
	if (err) {
		log_error("cannot start SBC calls: %m", err);
		goto out;
	}

	tmr_start(&s->tmr, TICK_MS, tick_h, s);
	start_log(s);

out:
	if (err)
		mem_deref(s);
	else
		*sp = s;

	return err;
}


/**
 * Begin the shutdown: end every call on both sides while the loop runs
 *
 * @param s SBC (may be NULL)
 */
void sbc_shutdown(struct sbc *s)
{
	if (!s || s->closing)
		return;

	s->closing = true;
	log_notice("ending %u call(s)", sbccall_count(s));
	sbccall_shutdown(s);
}


/**
 * Calls in progress through the SBC
 *
 * @param s SBC (may be NULL)
 *
 * @return Number of calls
 */
uint32_t sbc_call_count(const struct sbc *s)
{
	return s ? sbccall_count(s) : 0;
}


/**
 * What `relaisctl sbc status` shows
 *
 * @param s  SBC
 * @param st Status to fill; st->conf points into s
 *
 * @return 0 if success, otherwise errorcode
 */
int sbc_status_get(const struct sbc *s, struct sbc_status *st)
{
	const struct guard_conf *gc;

	if (!s || !st)
		return EINVAL;

	memset(st, 0, sizeof(*st));
	st->conf = &s->conf;
	guard_stats_get(s->guard, &st->guard);
	gc = guard_conf_get(s->guard);
	st->level = gc ? gc->level : GUARD_LEVEL_AUTO;
	st->bindings = sbcreg_count(s);
	st->calls = sbccall_count(s);
	st->calls_total = s->calls_total;
	st->registers_total = s->registers_total;

	return 0;
}


/**
 * The SBC's security guard (for the API's allow/deny-list commands)
 *
 * @param s SBC
 *
 * @return The guard, or NULL
 */
struct guard *sbc_guard(const struct sbc *s)
{
	return s ? s->guard : NULL;
}


/**
 * Put the stored security settings and allow-list in force
 *
 * @param s SBC
 *
 * @return 0 if success, otherwise errorcode (the settings in force stay)
 */
int sbc_security_reload(struct sbc *s)
{
	struct guard_conf gc;
	int err;

	if (!s)
		return EINVAL;

	err = sec_load(s, &gc);
	if (err)
		return err;

	err = guard_conf_set(s->guard, &gc);
	if (err) {
		log_warn("security settings not applied: %m", err);
		return err;
	}

	err = allow_load(s);
	if (err) {
		log_warn("allow-list not reloaded: %m", err);
		return err;
	}

	log_notice("security: level %s, DoS %u requests in %u s, DDoS %u in "
		   "%u s, brute force %u failures in %u s, deny-list up to %u",
		   guard_level_name(gc.level), gc.dos_threshold, gc.dos_window,
		   gc.ddos_threshold, gc.ddos_window, gc.bf_failures,
		   gc.bf_window, gc.deny_max);

	return 0;
}

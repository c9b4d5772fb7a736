/**
 * @file trunk.c  Carrier trunks at run time: registration, OPTIONS
 *                probes, live state, call slots and the addresses a
 *                trunk's calls come from (SPEC §2)
 *
 * Each trunk of the store becomes a struct trunk. A register trunk keeps a
 * libre sipreg alive (REGISTER, re-REGISTER at 90 % of the granted expiry,
 * un-REGISTER when it is freed); every trunk with options_interval sends
 * OPTIONS that often. Requests go to the trunk's host, or to its outbound
 * proxy; libre resolves host names (RFC 3263: SRV then A when srv is on,
 * A only otherwise, next target on a timeout, transport error or 503).
 *
 * State: up after a 2xx to REGISTER (register trunks) or any final answer
 * to OPTIONS (even 404); down when registration fails, or after MISS_MAX
 * consecutive probes or call attempts without any answer. Every change is
 * logged as event 4100; carrier error answers are event 12294, DNS failures
 * event 12293.
 *
 * The trunk also resolves the A records of its host and proxy (and SRV
 * targets) itself, at start and every re-registration interval, so that a
 * call from any of those addresses is recognised as the trunk's
 * (trunks_match_inbound()), together with the addresses answers came from.
 *
 * Ownership: struct trunks owns its trunks. A trunk removed from the store
 * while calls use it is kept (state disabled) until its calls are released
 * and the next reload; a changed trunk restarts in place, so a pointer
 * held for a call stays valid. Everything runs on the SIP thread.
 */

#include <string.h>
#include <time.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"

#define DEBUG_MODULE "trunk"

enum {
	MISS_MAX = 2,	       /* missed probes/calls in a row: down     */
	RECOVER_INTERVAL = 30, /* s, OPTIONS while an unprobed trunk is down */
	REG_RETRY_S = 60,      /* s, when REGISTER could not even be sent */
	REG_INTERVAL_DEFAULT = 180,
	DNS_REFRESH_S = 300, /* s, re-resolution of IP trunk host names */
	AUTH_TRIES_MAX = 2,  /* credentials given per REGISTER attempt */
	ADDR_MAX = 16,
	SEEN_MAX = 8,
	LOOKUP_MAX = 16,
	ERR_MAX = 160,
	URI_MAX = 320,
};

struct addrset {
	struct sa v[ADDR_MAX];
	uint32_t n;
};

/* Credentials for libre's sip_auth. An object of its own because a sipreg
   holds it (aref) while it un-REGISTERs after its trunk is gone. */
struct cred {
	char user[64];
	char pass[STORE_SECRET_MAX];
	uint32_t tries; /* challenges answered in this REGISTER attempt */
};

struct trunks {
	struct list trunkl;   /* struct trunk, as in the store        */
	struct list retiredl; /* removed from the store, calls still up */
	struct sip *sip;
	struct dnsc *dnsc;
	struct store *st;
	const struct relais_config *cfg;
	bool stopped; /* trunks_shutdown() was called */
};

struct resolve;

struct trunk {
	struct le le;
	struct trunks *ts;
	struct store_trunk conf;
	struct cred *cred;
	struct sipreg *reg;
	struct sip_request *probe;
	struct resolve *rs;
	struct tmr tmr_probe;
	struct tmr tmr_reg;
	struct tmr tmr_dns;
	enum sip_transp tp;
	char domain[STORE_HOST_MAX];	   /* SIP domain (domain or host) */
	char hp_host[STORE_HOST_MAX + 8];  /* "host[:port]"               */
	char proxy_host[STORE_HOST_MAX];   /* outbound proxy, no port     */
	char hp_proxy[STORE_HOST_MAX + 8]; /* "proxy[:port]", or ""       */
	char user[STORE_NUMBER_MAX + 64];  /* AOR and Contact user        */
	uint16_t host_port;		   /* host's port, or the default */
	uint16_t proxy_port;		   /* proxy's port, or the default */
	bool pinned;			   /* the next hop's port was set  */
	enum trunk_state state;
	bool registered;
	bool reg_failed;
	bool alive;	   /* the carrier answered since the start */
	bool dns_failed;   /* the next hop's name does not resolve */
	bool dns_reported; /* event 12293 emitted for this failure */
	bool retired;
	bool seen_flag;	    /* reload: still in the store          */
	bool probe_counted; /* the pending probe counted as missed */
	uint32_t misses;
	uint32_t cseq;
	uint32_t calls;
	uint16_t last_scode;
	int64_t reg_expires;
	int64_t changed;
	char last_error[ERR_MAX];
	struct addrset fixed;	 /* literal IP host and proxy          */
	struct addrset resolved; /* A records of host, proxy, targets  */
	struct addrset seen;	 /* where answers came from (ring)     */
	uint32_t seen_next;
};

/* One DNS query of a resolution round */
struct lookup {
	struct le le;
	struct resolve *rs;
	struct dns_query *q;
	uint16_t type;
	uint16_t port;	/* of the addresses an A query finds */
	unsigned group; /* 0: the next hop's name, 1: the other name */
	char name[STORE_HOST_MAX + 16];
};

/* A resolution round: SRV and A queries for host and proxy */
struct resolve {
	struct trunk *t;
	struct list lookupl;
	struct addrset found;
	uint32_t nfound[2];
	uint32_t started;
	int err[2];
	char name[2][STORE_HOST_MAX];
	bool srv[2];
};


static void probe_tmr_handler(void *arg);
static void resolve_start(struct trunk *t);


static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}


/**
 * Name of a trunk state, as relaisctl shows it
 *
 * @param st Trunk state
 *
 * @return "unknown", "up", "down" or "disabled"
 */
const char *trunk_state_name(enum trunk_state st)
{
	switch (st) {

	case TRUNK_UP:
		return "up";
	case TRUNK_DOWN:
		return "down";
	case TRUNK_DISABLED:
		return "disabled";
	default:
		return "unknown";
	}
}


static bool is_ip(const char *host)
{
	struct sa sa;

	return sa_set_str(&sa, host, 0) == 0;
}


static bool is_register(const struct trunk *t)
{
	return !strcmp(t->conf.kind, "register");
}


/* validated by trunkcfg.c; a row written around it still registers */
static uint32_t reg_interval(const struct trunk *t)
{
	return t->conf.reg_interval ? t->conf.reg_interval
				    : REG_INTERVAL_DEFAULT;
}


static bool is_disabled(const struct store_trunk *c)
{
	return !c->inbound && !c->outbound;
}


static enum sip_transp conf_tp(const struct store_trunk *c)
{
	if (!strcmp(c->transport, "tcp"))
		return SIP_TRANSP_TCP;
	if (!strcmp(c->transport, "tls"))
		return SIP_TRANSP_TLS;

	return SIP_TRANSP_UDP;
}


static const char *tp_name(enum sip_transp tp)
{
	switch (tp) {

	case SIP_TRANSP_TCP:
		return "tcp";
	case SIP_TRANSP_TLS:
		return "tls";
	default:
		return "udp";
	}
}


/* RFC 3263 4.2 */
static const char *srv_prefix(enum sip_transp tp)
{
	switch (tp) {

	case SIP_TRANSP_TCP:
		return "_sip._tcp";
	case SIP_TRANSP_TLS:
		return "_sips._tcp";
	default:
		return "_sip._udp";
	}
}


/* ---- addresses ------------------------------------------------------ */

static void addrset_add(struct addrset *as, const struct sa *sa)
{
	for (uint32_t i = 0; i < as->n; i++) {
		if (sa_cmp(&as->v[i], sa, SA_ALL))
			return;
	}

	if (as->n < ARRAY_SIZE(as->v))
		as->v[as->n++] = *sa;
}


static bool addrset_has(const struct addrset *as, const struct sa *sa,
			int flags)
{
	for (uint32_t i = 0; i < as->n; i++) {
		if (sa_cmp(&as->v[i], sa, flags))
			return true;
	}

	return false;
}


/* where an answer came from: a ring of the last SEEN_MAX addresses */
static void seen_add(struct trunk *t, const struct sa *src)
{
	if (!sa_isset(src, SA_ADDR) || addrset_has(&t->seen, src, SA_ALL))
		return;

	if (t->seen.n < SEEN_MAX) {
		t->seen.v[t->seen.n++] = *src;
		return;
	}

	t->seen.v[t->seen_next] = *src;
	t->seen_next = (t->seen_next + 1) % SEEN_MAX;
}


/*
 * Is src one of the trunk's addresses? By IP address, and also by port for
 * a request over UDP to a trunk whose port was set explicitly: carriers
 * send UDP requests from the port they listen on, so the port tells a
 * carrier from a phone at the same address (one host in a lab, a shared
 * NAT). Over TCP and TLS the carrier's source port is ephemeral.
 */
static bool addr_known(const struct trunk *t, const struct sa *src,
		       enum sip_transp tp)
{
	const int flags = tp == SIP_TRANSP_UDP && t->pinned ? SA_ALL : SA_ADDR;

	return addrset_has(&t->fixed, src, flags) ||
	       addrset_has(&t->resolved, src, flags) ||
	       addrset_has(&t->seen, src, flags);
}


/* ---- state ---------------------------------------------------------- */

static bool probing(const struct trunk *t)
{
	return t->conf.options_interval > 0 || t->misses >= MISS_MAX;
}


static enum trunk_state state_eval(const struct trunk *t)
{
	if (t->retired || is_disabled(&t->conf))
		return TRUNK_DISABLED;

	if (t->misses >= MISS_MAX)
		return TRUNK_DOWN;

	if (is_register(t)) {
		if (t->reg_failed)
			return TRUNK_DOWN;
		return t->registered ? TRUNK_UP : TRUNK_UNKNOWN;
	}

	if (t->conf.options_interval)
		return t->alive ? TRUNK_UP : TRUNK_UNKNOWN;

	/* an IP trunk without probes is assumed up while its name resolves */
	return t->dns_failed ? TRUNK_DOWN : TRUNK_UP;
}


static void error_set(struct trunk *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)re_vsnprintf(t->last_error, sizeof(t->last_error), fmt, ap);
	va_end(ap);
}


/*
 * Re-evaluate the state after an event; why says what happened ("answers
 * OPTIONS"); a failure has set last_error before, which is then the
 * reason shown for a trunk that is down.
 */
static void state_update(struct trunk *t, const char *why)
{
	const enum trunk_state old = t->state;
	const enum trunk_state st = state_eval(t);

	if (st != TRUNK_DOWN)
		t->last_error[0] = '\0';

	if (st == old)
		return;

	t->state = st;
	t->changed = now_s();

	if (st == TRUNK_DOWN)
		why = t->last_error;

	log_notice("trunk %s: %s -> %s (%s)", t->conf.name,
		   trunk_state_name(old), trunk_state_name(st), why);
	evlog_emit(EV_TRUNK_STATE, "trunk %s: %s -> %s (%s)", t->conf.name,
		   trunk_state_name(old), trunk_state_name(st), why);

	/* a trunk without probes that went down is probed until it answers */
	if (st == TRUNK_DOWN && !t->conf.options_interval &&
	    t->misses >= MISS_MAX && !t->ts->stopped &&
	    !tmr_isrunning(&t->tmr_probe))
		tmr_start(&t->tmr_probe, RECOVER_INTERVAL * 1000,
			  probe_tmr_handler, t);
}


static void dns_fail(struct trunk *t, const char *text)
{
	t->dns_failed = true;
	error_set(t, "DNS: %s", text);

	if (t->dns_reported)
		return;

	t->dns_reported = true;
	log_warn("trunk %s: DNS: %s", t->conf.name, text);
	evlog_emit(EV_DNS_FAILURE, "trunk %s: %s", t->conf.name, text);
}


static void dns_ok(struct trunk *t)
{
	if (t->dns_failed)
		log_info("trunk %s: DNS resolves again", t->conf.name);

	t->dns_failed = false;
	t->dns_reported = false;
}


/* the name whose resolution requests depend on: proxy, else host */
static const char *hop_name(const struct trunk *t)
{
	return t->proxy_host[0] ? t->proxy_host : t->conf.host;
}


static bool hop_srv(const struct trunk *t)
{
	if (t->proxy_host[0])
		return t->conf.srv && !strchr(t->hp_proxy, ':');

	return t->conf.srv;
}


/* A SIP request got an answer: the carrier is alive */
static void answered(struct trunk *t, const struct sip_msg *msg)
{
	seen_add(t, &msg->src);
	t->last_scode = msg->scode;
	t->alive = true;
	t->misses = 0;
	dns_ok(t);
}


/* A SIP request got no answer at all (err from libre, no message) */
static void missed(struct trunk *t, int err, const char *what)
{
	log_debug("trunk %s: %s failed: %m (%d)", t->conf.name, what, err,
		  err);

	if (err == EDESTADDRREQ || (t->dns_failed && err != ECONNABORTED)) {
		char text[ERR_MAX];

		re_snprintf(text, sizeof(text), "no %s record for %s",
			    hop_srv(t) ? "SRV/A" : "A", hop_name(t));
		dns_fail(t, text);
	}
	else if (err == ETIMEDOUT) {
		error_set(t, "no answer to %s", what);
	}
	else {
		error_set(t, "%s: %m", what, err);
	}
}


/* ---- DNS: addresses calls may come from ----------------------------- */

static void lookup_destructor(void *arg)
{
	struct lookup *lk = arg;

	list_unlink(&lk->le);
	mem_deref(lk->q);
}


static void resolve_destructor(void *arg)
{
	struct resolve *rs = arg;

	list_flush(&rs->lookupl);
}


static void resolve_done(struct resolve *rs)
{
	struct trunk *t = rs->t;
	char text[ERR_MAX];

	/* keep the addresses of the last good round if this one failed */
	if (rs->found.n)
		t->resolved = rs->found;

	if (!rs->name[0][0]) {
		t->rs = mem_deref(t->rs);
		return;
	}

	if (rs->nfound[0]) {
		log_debug("trunk %s: %s resolves to %u address(es)",
			  t->conf.name, rs->name[0], rs->nfound[0]);
		dns_ok(t);
	}
	else {
		if (rs->err[0] == ETIMEDOUT)
			re_snprintf(text, sizeof(text), "no answer for %s",
				    rs->name[0]);
		else
			re_snprintf(text, sizeof(text), "no %s record for %s",
				    rs->srv[0] ? "SRV/A" : "A", rs->name[0]);
		dns_fail(t, text);
	}

	t->rs = mem_deref(t->rs);
	state_update(t, "DNS resolves");
}


static void lookup_handler(int err, const struct dnshdr *hdr,
			   struct list *ansl, struct list *authl,
			   struct list *addl, void *arg);


static void lookup_start(struct resolve *rs, const char *name, uint16_t type,
			 uint16_t port, unsigned group)
{
	struct lookup *lk;
	int err;

	if (rs->started >= LOOKUP_MAX)
		return;

	lk = mem_zalloc(sizeof(*lk), lookup_destructor);
	if (!lk)
		return;

	lk->rs = rs;
	lk->type = type;
	lk->port = port;
	lk->group = group;
	str_ncpy(lk->name, name, sizeof(lk->name));
	list_append(&rs->lookupl, &lk->le, lk);
	++rs->started;

	err = dnsc_query(&lk->q, rs->t->ts->dnsc, lk->name, type, DNS_CLASS_IN,
			 true, lookup_handler, lk);
	if (err) {
		rs->err[group] = err;
		mem_deref(lk);
	}
}


static bool srv_rr_handler(struct dnsrr *rr, void *arg)
{
	struct lookup *lk = arg;

	lookup_start(lk->rs, rr->rdata.srv.target, DNS_TYPE_A,
		     rr->rdata.srv.port, lk->group);

	return false;
}


static bool a_rr_handler(struct dnsrr *rr, void *arg)
{
	struct lookup *lk = arg;
	struct sa sa;

	sa_set_in(&sa, rr->rdata.a.addr, lk->port);
	addrset_add(&lk->rs->found, &sa);
	++lk->rs->nfound[lk->group];

	return false;
}


static void lookup_handler(int err, const struct dnshdr *hdr,
			   struct list *ansl, struct list *authl,
			   struct list *addl, void *arg)
{
	struct lookup *lk = arg;
	struct resolve *rs = lk->rs;
	(void)hdr;
	(void)authl;
	(void)addl;

	if (err && !rs->err[lk->group])
		rs->err[lk->group] = err;

	if (lk->type == DNS_TYPE_SRV)
		dns_rrlist_apply(ansl, NULL, DNS_TYPE_SRV, DNS_CLASS_IN, false,
				 srv_rr_handler, lk);
	else
		dns_rrlist_apply(ansl, NULL, DNS_TYPE_A, DNS_CLASS_IN, false,
				 a_rr_handler, lk);

	mem_deref(lk);

	if (!rs->lookupl.head)
		resolve_done(rs);
}


static void resolve_name(struct resolve *rs, unsigned group, const char *name,
			 uint16_t port, bool srv)
{
	char srvname[STORE_HOST_MAX + 16];

	if (!name[0] || is_ip(name))
		return;

	str_ncpy(rs->name[group], name, sizeof(rs->name[group]));
	rs->srv[group] = srv;

	if (srv) {
		re_snprintf(srvname, sizeof(srvname), "%s.%s",
			    srv_prefix(rs->t->tp), name);
		lookup_start(rs, srvname, DNS_TYPE_SRV, 0, group);
	}

	lookup_start(rs, name, DNS_TYPE_A, port, group);
}


static void dns_tmr_handler(void *arg)
{
	struct trunk *t = arg;
	uint32_t s = is_register(t) ? reg_interval(t) : DNS_REFRESH_S;

	tmr_start(&t->tmr_dns, (uint64_t)s * 1000, dns_tmr_handler, t);
	resolve_start(t);
}


static void resolve_start(struct trunk *t)
{
	struct resolve *rs;

	if (!t->ts->dnsc)
		return;

	t->rs = mem_deref(t->rs);

	rs = mem_zalloc(sizeof(*rs), resolve_destructor);
	if (!rs)
		return;

	rs->t = t;
	t->rs = rs;

	if (t->proxy_host[0]) {
		resolve_name(rs, 0, t->proxy_host, t->proxy_port, hop_srv(t));
		resolve_name(rs, 1, t->conf.host, t->host_port, t->conf.srv);
	}
	else {
		resolve_name(rs, 0, t->conf.host, t->host_port, t->conf.srv);
	}

	if (!rs->lookupl.head)
		resolve_done(rs);
}


/* ---- URIs ------------------------------------------------------------ */

/*
 * "host[:port]" for requests. A host name without SRV gets its port
 * written out, so that libre looks up A records only (RFC 3263 4.2).
 */
static void hostport_print(char *buf, size_t sz, const char *host,
			   uint16_t port, bool srv, enum sip_transp tp)
{
	if (port)
		re_snprintf(buf, sz, "%s:%u", host, port);
	else if (!srv && !is_ip(host))
		re_snprintf(buf, sz, "%s:%u", host, sip_transp_port(tp, 0));
	else
		str_ncpy(buf, host, sz);
}


static void uris_make(struct trunk *t)
{
	const struct store_trunk *c = &t->conf;
	const char *colon = strrchr(c->proxy, ':');
	uint32_t port = 0;

	t->tp = conf_tp(c);
	str_ncpy(t->domain, c->domain[0] ? c->domain : c->host,
		 sizeof(t->domain));
	hostport_print(t->hp_host, sizeof(t->hp_host), c->host, c->port,
		       c->srv, t->tp);
	t->host_port = sip_transp_port(t->tp, c->port);
	t->pinned = c->port != 0;

	t->proxy_host[0] = '\0';
	t->hp_proxy[0] = '\0';
	t->proxy_port = 0;
	if (c->proxy[0]) {
		str_ncpy(t->proxy_host, c->proxy, sizeof(t->proxy_host));
		if (colon && !num_u32_str(colon + 1, 1, 65535, &port))
			t->proxy_host[colon - c->proxy] = '\0';
		else
			port = 0;
		hostport_print(t->hp_proxy, sizeof(t->hp_proxy), t->proxy_host,
			       (uint16_t)port, c->srv, t->tp);
		t->proxy_port = sip_transp_port(t->tp, (uint16_t)port);
		t->pinned = port != 0;
	}

	str_ncpy(t->user, c->auth_user[0] ? c->auth_user : c->main_number,
		 sizeof(t->user));
	if (!t->user[0])
		str_ncpy(t->user, "relais", sizeof(t->user));
}


/* Request-URI of REGISTER and OPTIONS */
static int server_uri(const struct trunk *t, char *buf, size_t sz)
{
	int n;

	if (t->hp_proxy[0])
		n = re_snprintf(buf, sz, "sip:%s", t->domain);
	else
		n = re_snprintf(buf, sz, "sip:%s;transport=%s", t->hp_host,
				tp_name(t->tp));

	return n < 0 ? ERANGE : 0;
}


/* where requests go: the proxy, else the server itself */
static int next_hop(const struct trunk *t, char *buf, size_t sz)
{
	int n;

	n = re_snprintf(buf, sz, "sip:%s;transport=%s",
			t->hp_proxy[0] ? t->hp_proxy : t->hp_host,
			tp_name(t->tp));

	return n < 0 ? ERANGE : 0;
}


/**
 * Request-URI toward the trunk for a number: the server (host[:port]) with
 * the transport, or the SIP domain when an outbound proxy carries the
 * request
 *
 * @param t      Trunk
 * @param number Called number, already rewritten by the route
 * @param buf    Buffer for the URI
 * @param sz     Size of buf
 *
 * @return 0 if success, otherwise errorcode
 */
int trunk_request_uri(const struct trunk *t, const char *number, char *buf,
		      size_t sz)
{
	int n;

	if (!t || !number || !buf || !sz)
		return EINVAL;

	n = re_snprintf(buf, sz, "sip:%s@%s;transport=%s", number,
			t->hp_proxy[0] ? t->domain : t->hp_host,
			tp_name(t->tp));

	return n < 0 ? ERANGE : 0;
}


/**
 * From URI toward the trunk: "sip:USER@domain"
 *
 * @param t    Trunk
 * @param user Caller ID
 * @param buf  Buffer for the URI
 * @param sz   Size of buf
 *
 * @return 0 if success, otherwise errorcode
 */
int trunk_from_uri(const struct trunk *t, const char *user, char *buf,
		   size_t sz)
{
	int n;

	if (!t || !user || !buf || !sz)
		return EINVAL;

	n = re_snprintf(buf, sz, "sip:%s@%s", user, t->domain);

	return n < 0 ? ERANGE : 0;
}


/**
 * Route toward the trunk's outbound proxy: "sip:proxy[:port];lr;transport=x"
 *
 * @param t   Trunk
 * @param buf Buffer for the URI
 * @param sz  Size of buf
 *
 * @return 0 if success, ENOENT when the trunk has no proxy
 */
int trunk_route(const struct trunk *t, char *buf, size_t sz)
{
	int n;

	if (!t || !buf || !sz)
		return EINVAL;

	if (!t->hp_proxy[0])
		return ENOENT;

	n = re_snprintf(buf, sz, "sip:%s;lr;transport=%s", t->hp_proxy,
			tp_name(t->tp));

	return n < 0 ? ERANGE : 0;
}


/* ---- credentials ------------------------------------------------------ */

static void cred_destructor(void *arg)
{
	struct cred *c = arg;

	explicit_bzero(c->pass, sizeof(c->pass));
}


static int cred_give(const struct cred *c, char **username, char **password)
{
	int err;

	if (!c->user[0] || !c->pass[0])
		return ENOENT;

	err = str_dup(username, c->user);
	err |= str_dup(password, c->pass);

	return err;
}


/* sipreg's auth handler: a refused password ends the attempt instead of
   libre's 16 REGISTERs in a row */
static int cred_auth_handler(char **username, char **password,
			     const char *realm, void *arg)
{
	struct cred *c = arg;
	(void)realm;

	if (++c->tries > AUTH_TRIES_MAX)
		return EAUTH;

	return cred_give(c, username, password);
}


/**
 * libre sip_auth handler answering the carrier's challenge with the
 * trunk's credentials
 *
 * @param username Returned user name (auth_user)
 * @param password Returned password
 * @param realm    Realm of the challenge
 * @param arg      The struct trunk
 *
 * @return 0 if success, ENOENT when the trunk has no credentials
 */
int trunk_auth_handler(char **username, char **password, const char *realm,
		       void *arg)
{
	struct trunk *t = arg;
	(void)realm;

	if (!t || !t->cred || !username || !password)
		return EINVAL;

	return cred_give(t->cred, username, password);
}


/* ---- registration ----------------------------------------------------- */

static void reg_start(struct trunk *t);


static void reg_retry_handler(void *arg)
{
	reg_start(arg);
}


static void reg_resp_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct trunk *t = arg;

	t->cred->tries = 0;

	if (msg && msg->scode >= 200 && msg->scode < 300) {
		answered(t, msg);
		if (!t->registered)
			log_info("trunk %s: registered for %u s", t->conf.name,
				 sipreg_proxy_expires(t->reg));
		t->registered = true;
		t->reg_failed = false;
		t->reg_expires = now_s() + sipreg_proxy_expires(t->reg);
		state_update(t, "registered");
		return;
	}

	t->registered = false;
	t->reg_failed = true;
	t->reg_expires = 0;

	if (msg) {
		answered(t, msg);
		error_set(t, "REGISTER refused: %u %r", msg->scode,
			  &msg->reason);
		log_warn("trunk %s: REGISTER refused: %u %r", t->conf.name,
			 msg->scode, &msg->reason);
		evlog_emit(EV_TRUNK_ERROR, "trunk %s: REGISTER answered %u %r",
			   t->conf.name, msg->scode, &msg->reason);
	}
	else {
		missed(t, err, "REGISTER");
		log_warn("trunk %s: %s", t->conf.name, t->last_error);
	}

	state_update(t, "REGISTER failed");
}


static void reg_start(struct trunk *t)
{
	char ruri[URI_MAX], aor[URI_MAX], route[URI_MAX];
	const char *routev[1];
	uint32_t routec = 0;
	int err;

	err = server_uri(t, ruri, sizeof(ruri));
	if (re_snprintf(aor, sizeof(aor), "sip:%s@%s", t->user, t->domain) < 0)
		err = ERANGE;
	if (!err && !trunk_route(t, route, sizeof(route))) {
		routev[0] = route;
		routec = 1;
	}

	if (!err)
		err = sipreg_register(&t->reg, t->ts->sip, ruri, aor, NULL,
				      aor, reg_interval(t), t->user, routev,
				      routec, 0, cred_auth_handler, t->cred,
				      true, reg_resp_handler, t, NULL, NULL);
	if (err) {
		t->reg_failed = true;
		error_set(t, "REGISTER not sent: %m", err);
		log_warn("trunk %s: REGISTER not sent: %m", t->conf.name, err);
		tmr_start(&t->tmr_reg, REG_RETRY_S * 1000, reg_retry_handler,
			  t);
		state_update(t, "REGISTER failed");
		return;
	}

	log_debug("trunk %s: REGISTER %s as %s every %u s", t->conf.name, ruri,
		  aor, reg_interval(t));
}


/* ---- OPTIONS probes --------------------------------------------------- */

static int probe_send_handler(enum sip_transp tp, const struct sa *src,
			      const struct sa *dst, struct mbuf *mb, void *arg)
{
	struct trunk *t = arg;
	(void)dst;

	return mbuf_printf(mb, "Contact: <sip:%s@%J%s>\r\n", t->user, src,
			   sip_transp_param(tp));
}


static void probe_resp_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct trunk *t = arg;

	if (msg && msg->scode < 200)
		return;

	if (msg) {
		answered(t, msg);
		log_debug("trunk %s: OPTIONS answered %u from %J",
			  t->conf.name, msg->scode, &msg->src);
		state_update(t, "answers OPTIONS");
		return;
	}

	/* counted when the next probe was due: only the reason may change */
	if (!t->probe_counted)
		++t->misses;
	missed(t, err, "OPTIONS");
	log_info("trunk %s: OPTIONS unanswered (%u in a row): %s",
		 t->conf.name, t->misses, t->last_error);
	state_update(t, "no answer to OPTIONS");
}


/*
 * One probe at a time. A probe still unanswered when the next one is due
 * counts as missed then, once; it is not cancelled, because libre tries
 * the next SRV or A target only after the transaction timeout (32 s over
 * UDP), and a late answer from that target still brings the trunk up.
 */
static void probe_send(struct trunk *t)
{
	char ruri[URI_MAX], hop[URI_MAX];
	struct uri route;
	struct pl pl;
	int err;

	if (t->probe) {
		if (t->probe_counted)
			return;
		t->probe_counted = true;
		++t->misses;
		error_set(t, "no answer to OPTIONS");
		log_info("trunk %s: OPTIONS unanswered for %u s (%u in a row)",
			 t->conf.name,
			 t->conf.options_interval ? t->conf.options_interval
						  : RECOVER_INTERVAL,
			 t->misses);
		state_update(t, "no answer to OPTIONS");
		return;
	}

	t->probe_counted = false;
	err = server_uri(t, ruri, sizeof(ruri));
	err |= next_hop(t, hop, sizeof(hop));
	if (err)
		return;

	pl_set_str(&pl, hop);
	err = uri_decode(&route, &pl);
	if (err)
		return;

	err =
	    sip_requestf(&t->probe, t->ts->sip, true, "OPTIONS", ruri, &route,
			 NULL, probe_send_handler, probe_resp_handler, t,
			 "To: <%s>\r\n"
			 "From: <sip:%s@%s>;tag=%016llx\r\n"
			 "Call-ID: %016llx@relais\r\n"
			 "CSeq: %u OPTIONS\r\n"
			 "User-Agent: Relais/" RELAIS_VERSION "\r\n"
			 "Accept: application/sdp\r\n"
			 "Content-Length: 0\r\n"
			 "\r\n",
			 ruri, t->user, t->domain, rand_u64(), rand_u64(),
			 ++t->cseq);
	if (err)
		probe_resp_handler(err, NULL, t);
}


static void probe_tmr_handler(void *arg)
{
	struct trunk *t = arg;
	uint32_t s = t->conf.options_interval;

	if (!probing(t) || t->ts->stopped)
		return;

	tmr_start(&t->tmr_probe, (uint64_t)(s ? s : RECOVER_INTERVAL) * 1000,
		  probe_tmr_handler, t);
	probe_send(t);
}


/* ---- life cycle ------------------------------------------------------- */

static void trunk_stop(struct trunk *t)
{
	tmr_cancel(&t->tmr_probe);
	tmr_cancel(&t->tmr_reg);
	tmr_cancel(&t->tmr_dns);
	t->rs = mem_deref(t->rs);
	t->probe = mem_deref(t->probe);
	t->reg = mem_deref(t->reg); /* libre un-REGISTERs */
	t->registered = false;
}


static void trunk_destructor(void *arg)
{
	struct trunk *t = arg;

	trunk_stop(t);
	list_unlink(&t->le);
	mem_deref(t->cred);
}


static void fixed_addrs(struct trunk *t)
{
	struct sa sa;

	memset(&t->fixed, 0, sizeof(t->fixed));
	if (!sa_set_str(&sa, t->conf.host, t->host_port))
		addrset_add(&t->fixed, &sa);
	if (t->proxy_host[0] && !sa_set_str(&sa, t->proxy_host, t->proxy_port))
		addrset_add(&t->fixed, &sa);
}


static int trunk_start(struct trunk *t)
{
	struct cred *c;

	c = mem_zalloc(sizeof(*c), cred_destructor);
	if (!c)
		return ENOMEM;

	str_ncpy(c->user, t->conf.auth_user, sizeof(c->user));
	str_ncpy(c->pass, t->conf.password, sizeof(c->pass));
	mem_deref(t->cred);
	t->cred = c;

	uris_make(t);
	fixed_addrs(t);
	memset(&t->resolved, 0, sizeof(t->resolved));
	memset(&t->seen, 0, sizeof(t->seen));
	t->seen_next = 0;
	t->registered = false;
	t->reg_failed = false;
	t->alive = false;
	t->dns_failed = false;
	t->dns_reported = false;
	t->misses = 0;
	t->last_scode = 0;
	t->reg_expires = 0;
	t->last_error[0] = '\0';

	if (t->ts->stopped)
		return 0;

	if (is_disabled(&t->conf)) {
		state_update(t, "neither inbound nor outbound allowed");
		return 0;
	}

	log_info("trunk %s: %s trunk to %s over %s%s%s", t->conf.name,
		 t->conf.kind, t->hp_host, tp_name(t->tp),
		 t->hp_proxy[0] ? " via " : "", t->hp_proxy);

	if (!is_ip(hop_name(t)) || (t->proxy_host[0] && !is_ip(t->conf.host)))
		tmr_start(&t->tmr_dns, 0, dns_tmr_handler, t);

	if (is_register(t))
		reg_start(t);

	if (t->conf.options_interval)
		tmr_start(&t->tmr_probe, rand_u16() % 1000, probe_tmr_handler,
			  t);

	state_update(t, "started");
	return 0;
}


static int trunk_alloc(struct trunk **tp, struct trunks *ts,
		       const struct store_trunk *conf)
{
	struct trunk *t;
	int err;

	t = mem_zalloc(sizeof(*t), trunk_destructor);
	if (!t)
		return ENOMEM;

	t->ts = ts;
	t->conf = *conf;
	t->state = TRUNK_UNKNOWN;
	t->changed = now_s();
	tmr_init(&t->tmr_probe);
	tmr_init(&t->tmr_reg);
	tmr_init(&t->tmr_dns);
	list_append(&ts->trunkl, &t->le, t);

	err = trunk_start(t);
	if (err)
		mem_deref(t);
	else if (tp)
		*tp = t;

	return err;
}


#define SAME_STR(f) (!strcmp(a->f, b->f))
#define SAME_NUM(f) (a->f == b->f)

static bool conf_same(const struct store_trunk *a, const struct store_trunk *b)
{
	return SAME_STR(profile) && SAME_STR(kind) && SAME_STR(host) &&
	       SAME_NUM(port) && SAME_NUM(srv) && SAME_STR(transport) &&
	       SAME_STR(proxy) && SAME_STR(domain) && SAME_STR(auth_user) &&
	       SAME_STR(password) && SAME_NUM(reg_interval) &&
	       SAME_NUM(max_calls) && SAME_NUM(inbound) &&
	       SAME_NUM(outbound) && SAME_STR(codecs) && SAME_STR(srtp) &&
	       SAME_STR(main_number) && SAME_STR(dids) &&
	       SAME_STR(caller_id) && SAME_STR(caller_name) && SAME_NUM(pai) &&
	       SAME_STR(privacy) && SAME_NUM(diversion) &&
	       SAME_NUM(options_interval) && SAME_STR(contact_addr);
}

#undef SAME_STR
#undef SAME_NUM


/* Only what the signalling depends on needs a restart */
static bool conf_restart(const struct store_trunk *a,
			 const struct store_trunk *b)
{
	struct store_trunk x = *a;

	str_ncpy(x.codecs, b->codecs, sizeof(x.codecs));
	str_ncpy(x.srtp, b->srtp, sizeof(x.srtp));
	str_ncpy(x.dids, b->dids, sizeof(x.dids));
	str_ncpy(x.caller_id, b->caller_id, sizeof(x.caller_id));
	str_ncpy(x.caller_name, b->caller_name, sizeof(x.caller_name));
	str_ncpy(x.privacy, b->privacy, sizeof(x.privacy));
	str_ncpy(x.profile, b->profile, sizeof(x.profile));
	str_ncpy(x.contact_addr, b->contact_addr, sizeof(x.contact_addr));
	x.max_calls = b->max_calls;
	x.pai = b->pai;
	x.diversion = b->diversion;

	return !conf_same(&x, b);
}


static void trunk_update(struct trunk *t, const struct store_trunk *conf)
{
	bool restart = conf_restart(&t->conf, conf);

	t->conf = *conf;
	if (!restart) {
		state_update(t, "settings changed");
		return;
	}

	log_info("trunk %s: settings changed, restarting", t->conf.name);
	trunk_stop(t);
	if (trunk_start(t))
		log_warn("trunk %s: restart failed", t->conf.name);
}


static void trunk_retire(struct trunk *t)
{
	struct trunks *ts = t->ts;

	log_info("trunk %s: removed%s", t->conf.name,
		 t->calls ? ", kept until its calls end" : "");
	trunk_stop(t);

	if (!t->calls) {
		mem_deref(t);
		return;
	}

	t->retired = true;
	state_update(t, "removed");
	list_unlink(&t->le);
	list_append(&ts->retiredl, &t->le, t);
}


/* ---- trunks ----------------------------------------------------------- */

static void trunks_destructor(void *arg)
{
	struct trunks *ts = arg;

	list_flush(&ts->trunkl);
	list_flush(&ts->retiredl);
	mem_deref(ts->dnsc);
	mem_deref(ts->sip);
}


struct loaded {
	struct store_trunk *v;
	uint32_t n;
	uint32_t cap;
	int err;
};


static int load_h(const struct store_trunk *st, void *arg)
{
	struct loaded *ld = arg;

	if (ld->n == ld->cap) {
		uint32_t cap = ld->cap ? 2 * ld->cap : 8;
		struct store_trunk *v;

		/* libre 1.1.0's mem_realloc() does not allocate from NULL */
		if (ld->v)
			v = mem_reallocarray(ld->v, cap, sizeof(*v), NULL);
		else
			v = mem_zalloc(cap * sizeof(*v), NULL);
		if (!v) {
			ld->err = ENOMEM;
			return ENOMEM;
		}
		ld->v = v;
		ld->cap = cap;
	}

	ld->v[ld->n++] = *st;
	return 0;
}


/**
 * Follow the store: start new trunks, restart changed ones (in place),
 * un-REGISTER and drop removed ones (kept while calls use them)
 *
 * @param ts Trunk set
 *
 * @return 0 if success, otherwise errorcode
 */
int trunks_reload(struct trunks *ts)
{
	struct loaded ld = { NULL, 0, 0, 0 };
	struct le *le;
	int err;

	if (!ts)
		return EINVAL;

	err = store_trunk_foreach(ts->st, load_h, &ld);
	if (ld.err)
		err = ld.err;
	if (err) {
		mem_deref(ld.v);
		return err;
	}

	LIST_FOREACH(&ts->trunkl, le)
	{
		struct trunk *t = le->data;

		t->seen_flag = false;
	}

	for (uint32_t i = 0; i < ld.n; i++) {
		struct trunk *t = trunks_find(ts, ld.v[i].name);

		if (!t) {
			err = trunk_alloc(&t, ts, &ld.v[i]);
			if (err) {
				log_warn("trunk %s: cannot start: %m",
					 ld.v[i].name, err);
				continue;
			}
		}
		else if (!conf_same(&t->conf, &ld.v[i])) {
			trunk_update(t, &ld.v[i]);
		}
		t->seen_flag = true;
	}

	le = ts->trunkl.head;
	while (le) {
		struct trunk *t = le->data;

		le = le->next;
		if (!t->seen_flag)
			trunk_retire(t);
	}

	le = ts->retiredl.head;
	while (le) {
		struct trunk *t = le->data;

		le = le->next;
		if (!t->calls)
			mem_deref(t);
	}

	mem_deref(ld.v);
	return 0;
}


/**
 * Start every trunk of the store
 *
 * @param tsp Pointer to allocated trunk set
 * @param ss  SIP stack (its SIP instance and DNS client are used)
 * @param st  Store
 * @param cfg Configuration
 *
 * @return 0 if success, otherwise errorcode
 */
int trunks_alloc(struct trunks **tsp, struct sipstack *ss, struct store *st,
		 const struct relais_config *cfg)
{
	struct trunks *ts;
	int err;

	if (!tsp || !ss || !st || !cfg)
		return EINVAL;

	ts = mem_zalloc(sizeof(*ts), trunks_destructor);
	if (!ts)
		return ENOMEM;

	ts->sip = mem_ref(sipstack_sip(ss));
	ts->dnsc = mem_ref(sipstack_dnsc(ss));
	ts->st = st;
	ts->cfg = cfg;

	err = trunks_reload(ts);
	if (err)
		mem_deref(ts);
	else
		*tsp = ts;

	return err;
}


/**
 * Stop probing and un-REGISTER every trunk; the trunk objects stay for
 * the calls still ending
 *
 * @param ts Trunk set
 */
void trunks_shutdown(struct trunks *ts)
{
	struct le *le;

	if (!ts || ts->stopped)
		return;

	ts->stopped = true;
	LIST_FOREACH(&ts->trunkl, le)
	{
		trunk_stop(le->data);
	}
}


static void info_fill(struct trunk_info *ti, const struct trunk *t)
{
	memset(ti, 0, sizeof(*ti));
	ti->conf = &t->conf;
	ti->state = t->state;
	ti->registered = t->registered;
	ti->reg_expires = t->reg_expires;
	ti->last_scode = t->last_scode;
	ti->last_error = t->last_error;
	ti->calls = t->calls;
	ti->changed = t->changed;
}


/**
 * Apply a handler to the live state of every trunk
 *
 * @param ts  Trunk set
 * @param h   Handler; a non-zero return stops the walk
 * @param arg Handler argument
 *
 * @return 0, or what the handler returned to stop
 */
int trunks_foreach(struct trunks *ts, trunk_info_h *h, void *arg)
{
	struct trunk_info ti;
	struct le *le;

	if (!ts || !h)
		return EINVAL;

	LIST_FOREACH(&ts->trunkl, le)
	{
		int r;

		info_fill(&ti, le->data);
		r = h(&ti, arg);
		if (r)
			return r;
	}

	return 0;
}


/**
 * Find a running trunk by name
 *
 * @param ts   Trunk set
 * @param name Trunk name
 *
 * @return Trunk, or NULL
 */
struct trunk *trunks_find(struct trunks *ts, const char *name)
{
	struct le *le;

	if (!ts || !name)
		return NULL;

	LIST_FOREACH(&ts->trunkl, le)
	{
		struct trunk *t = le->data;

		if (!strcmp(t->conf.name, name))
			return t;
	}

	return NULL;
}


/**
 * The trunk a request came from: its source address is one the trunk
 * resolved or got answers from. Among several, a register trunk whose
 * Contact user is the Request-URI user wins.
 *
 * @param ts  Trunk set
 * @param msg Incoming request
 *
 * @return Trunk, or NULL
 */
struct trunk *trunks_match_inbound(struct trunks *ts,
				   const struct sip_msg *msg)
{
	struct trunk *first = NULL;
	struct le *le;

	if (!ts || !msg)
		return NULL;

	LIST_FOREACH(&ts->trunkl, le)
	{
		struct trunk *t = le->data;

		if (!addr_known(t, &msg->src, msg->tp))
			continue;

		if (is_register(t) && !pl_strcmp(&msg->uri.user, t->user))
			return t;

		if (!first)
			first = t;
	}

	return first;
}


static bool tls_host_h(bool (*h)(const char *host, void *arg), void *arg,
		       const char *host)
{
	return host[0] && h(host, arg);
}


/**
 * Apply a handler to the host names of TLS trunks (server, SIP domain,
 * outbound proxy), for peer certificate verification
 *
 * @param ts  Trunk set
 * @param h   Handler; returning true stops the walk
 * @param arg Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int trunks_tls_hosts(struct trunks *ts, bool (*h)(const char *host, void *arg),
		     void *arg)
{
	struct le *le;

	if (!ts || !h)
		return EINVAL;

	LIST_FOREACH(&ts->trunkl, le)
	{
		const struct trunk *t = le->data;

		if (t->tp != SIP_TRANSP_TLS)
			continue;

		if (tls_host_h(h, arg, t->conf.host) ||
		    tls_host_h(h, arg, t->conf.domain) ||
		    tls_host_h(h, arg, t->proxy_host))
			break;
	}

	return 0;
}


/**
 * A trunk's settings (valid while the trunk lives)
 *
 * @param t Trunk
 *
 * @return Settings, or NULL
 */
const struct store_trunk *trunk_conf(const struct trunk *t)
{
	return t ? &t->conf : NULL;
}


/**
 * A trunk's live state
 *
 * @param t Trunk
 *
 * @return State (TRUNK_UNKNOWN without a trunk)
 */
enum trunk_state trunk_state(const struct trunk *t)
{
	return t ? t->state : TRUNK_UNKNOWN;
}


/**
 * Take a call slot on a trunk
 *
 * @param t   Trunk
 * @param out True for a call toward the carrier
 *
 * @return 0 if success, ENETDOWN if down or disabled, EPERM if the
 *         direction is not allowed, EBUSY at max_calls
 */
int trunk_call_acquire(struct trunk *t, bool out)
{
	if (!t)
		return EINVAL;

	if (t->state == TRUNK_DOWN || t->state == TRUNK_DISABLED)
		return ENETDOWN;

	if (out ? !t->conf.outbound : !t->conf.inbound)
		return EPERM;

	if (t->conf.max_calls && t->calls >= t->conf.max_calls)
		return EBUSY;

	++t->calls;
	return 0;
}


/**
 * Give back a call slot taken with trunk_call_acquire()
 *
 * @param t Trunk
 */
void trunk_call_release(struct trunk *t)
{
	if (!t || !t->calls)
		return;

	--t->calls;
}


/**
 * How a call attempt toward the trunk ended
 *
 * @param t     Trunk
 * @param scode Final status, 0 for a timeout or transport error
 */
void trunk_call_result(struct trunk *t, uint16_t scode)
{
	if (!t || t->retired || (scode && scode < 200))
		return;

	if (!scode) {
		++t->misses;
		error_set(t, "calls time out");
		evlog_emit(EV_TRUNK_ERROR, "trunk %s: call attempt timed out",
			   t->conf.name);
		state_update(t, "calls time out");
		return;
	}

	t->last_scode = scode;
	t->alive = true;
	t->misses = 0;

	if (scode >= 500)
		evlog_emit(EV_TRUNK_ERROR, "trunk %s: call answered %u",
			   t->conf.name, scode);

	state_update(t, "answers calls");
}

/**
 * @file sbc.h  Session Border Controller (SPEC §4): a B2BUA between a
 *              public and a private side, each on its own SIP stack,
 *              with its own media relay and a security guard
 *
 * Everything here runs on the SIP thread (the main libre loop).
 *
 * Addresses (SPEC §4): IP1 public address seen from outside (NAT),
 * IP2 public interface, IP3 private interface, IP4 private address the
 * PBX sees (NAT), IP5 the PBX (in WAN mode: the LAN element).
 */

#ifndef RELAIS_SBC_H
#define RELAIS_SBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sa;
struct pl;
struct store;
struct relais_config;

/* ---- security guard (guard.c) ---------------------------------------
 *
 * Pure bookkeeping: no sockets, no timers; every call gets the time
 * (Unix milliseconds) from the caller so tests can drive it. Sources are
 * IP addresses (the port is ignored).
 */

enum guard_level {
	GUARD_LEVEL_NONE = 0,  /**< nothing filtered but malicious calls */
	GUARD_LEVEL_AUTO,      /**< DoS/DDoS/brute force (the default)   */
	GUARD_LEVEL_ALLOWLIST, /**< only allow-listed sources are served */
};

/** Why an address is on the deny-list */
enum guard_reason {
	GUARD_REASON_DOS = 0,	  /**< > dos_threshold in dos_window      */
	GUARD_REASON_BRUTE_FORCE, /**< too many failed authentications   */
	GUARD_REASON_MALICIOUS,	  /**< scanner user agent, number spray, */
};

enum guard_verdict {
	GUARD_PASS = 0,
	GUARD_DROP_DENIED,	/**< on the deny-list (DoS/brute/malicious) */
	GUARD_DROP_NOT_ALLOWED, /**< level allow-list, source not on it     */
	GUARD_DROP_DDOS,	/**< global rate exceeded, unknown source    */
};

enum {
	GUARD_ALLOW_MAX = 100, /**< allow-list entries (SPEC §4) */
	GUARD_PERIOD_NEVER = 0,
};

struct guard_conf {
	enum guard_level level;
	uint32_t dos_threshold;	 /**< requests per source, 10-5000      */
	uint32_t dos_window;	 /**< seconds, 2-10                     */
	uint32_t dos_period;	 /**< seconds on the list: 30, 300, 1800,
				      3600, 86400, 604800 or 0 = never  */
	uint32_t ddos_threshold; /**< requests from all sources, 10-5000 */
	uint32_t ddos_window;	 /**< seconds, 2-10                     */
	uint32_t bf_failures;	 /**< failed authentications, 3-100     */
	uint32_t bf_window;	 /**< seconds they are counted in, 10-3600 */
	uint32_t bf_period;	 /**< like dos_period                   */
	uint32_t deny_max;	 /**< entries kept, 10-100000; when full
				      the oldest goes                    */
};

/** Defaults: level auto, 200 requests in 5 s, 1 h; DDoS 2000 in 5 s;
    10 failures in 60 s, 1 h; 1000 entries */
extern const struct guard_conf guard_conf_default;

/** One deny-list entry */
struct guard_entry {
	const struct sa *addr; /**< the source (port 0)            */
	enum guard_reason reason;
	int64_t since;	    /**< Unix seconds                           */
	int64_t until;	    /**< Unix seconds, 0 = never expires        */
	uint64_t drops;	    /**< requests dropped from it since listed */
	const char *detail; /**< e.g. "User-Agent friendly-scanner"  */
};

struct guard_stats {
	uint64_t requests;	 /**< requests seen                     */
	uint64_t passed;	 /**< requests let through              */
	uint64_t dropped_denied; /**< from deny-listed sources          */
	uint64_t dropped_allow;	 /**< not on the allow-list             */
	uint64_t dropped_ddos;	 /**< while the DDoS detector was on     */
	uint64_t denials;	 /**< entries ever added                */
	uint32_t deny_dos;	 /**< current entries per reason        */
	uint32_t deny_brute;
	uint32_t deny_malicious;
	uint32_t allow_count;
	uint32_t sources; /**< sources tracked now               */
	bool ddos_active; /**< global threshold exceeded now     */
};

struct guard;

/**
 * Called when an entry is added (added=true: the address was just
 * denied) or leaves the list (expired, removed, evicted, cleared). The
 * SBC logs events 12292/12290 and keeps the store in step from here.
 */
typedef void(guard_deny_h)(const struct guard_entry *e, bool added, void *arg);
typedef int(guard_entry_h)(const struct guard_entry *e, void *arg);
typedef int(guard_allow_h)(const char *cidr, void *arg);

int guard_alloc(struct guard **gp, const struct guard_conf *conf,
		guard_deny_h *dh, void *arg);

/** Check every field; why says which one and what is allowed */
int guard_conf_validate(const struct guard_conf *c, char *why, size_t sz);
int guard_conf_set(struct guard *g, const struct guard_conf *c);
const struct guard_conf *guard_conf_get(const struct guard *g);

int guard_level_parse(enum guard_level *lvl, const char *s);
const char *guard_level_name(enum guard_level lvl);
/** "30s", "5min", "30min", "1h", "1d", "1w", "never" (also plain
    seconds of that set) */
int guard_period_parse(uint32_t *secs, const char *s);
const char *guard_period_name(uint32_t secs);
const char *guard_reason_name(enum guard_reason r);
const char *guard_verdict_name(enum guard_verdict v);

/**
 * Count one request from src and say whether it may be served. Denied
 * sources, sources off the allow-list (level allow-list) and, while the
 * DDoS detector is on, sources not known as good are dropped; a source
 * exceeding the DoS threshold is denied now (handler called) and dropped.
 * Allow-listed sources are never denied for DoS or DDoS.
 */
enum guard_verdict guard_check(struct guard *g, const struct sa *src,
			       uint64_t now_ms);

/** A request from src carrying credentials was refused (401/407/403);
    bf_failures of them within bf_window deny src (brute force) */
void guard_auth_failed(struct guard *g, const struct sa *src, uint64_t now_ms);

/** src authenticated (2xx to REGISTER or INVITE): its failures are
    forgotten and it counts as known for the DDoS detector */
void guard_auth_ok(struct guard *g, const struct sa *src, uint64_t now_ms);

/**
 * Malicious call detection, always on whatever the level (allow-listed
 * sources included): a scanner's User-Agent (friendly-scanner, sipvicious,
 * sipcli, VaxSIPUserAgent, ...), INVITE sprays to many different numbers
 * from one source, or repeated calls to numbers nothing routes.
 *
 * @param ua     User-Agent of the request (may be NULL/empty)
 * @param method Request method
 * @param user   Request-URI user part (the dialled number)
 *
 * @return true if the request must be dropped (src is then denied)
 */
bool guard_inspect(struct guard *g, const struct sa *src, const struct pl *ua,
		   const struct pl *method, const struct pl *user,
		   uint64_t now_ms);

/** The other side refused a call from src as unroutable (403/404/484/
    604): counted toward malicious call detection */
void guard_call_refused(struct guard *g, const struct sa *src, uint16_t scode,
			uint64_t now_ms);

/** Drop entries whose period is over (handler called for each); forget
    idle sources. Call about once a second. */
void guard_expire(struct guard *g, uint64_t now_ms);

/** "192.0.2.10", "198.51.100.0/24", "2001:db8::/32". 0.0.0.0 and
    255.255.255.255 refused; why says what is allowed. */
int guard_cidr_parse(struct sa *net, uint8_t *bits, const char *s, char *why,
		     size_t sz);
/** EINVAL (why set), EEXIST, E2BIG past GUARD_ALLOW_MAX */
int guard_allow_add(struct guard *g, const char *cidr, char *why, size_t sz);
int guard_allow_remove(struct guard *g, const char *cidr);
void guard_allow_clear(struct guard *g);
bool guard_allowed(const struct guard *g, const struct sa *addr);
int guard_allow_foreach(const struct guard *g, guard_allow_h *h, void *arg);

/** Put an entry back (from the store at start): no handler call */
int guard_deny_restore(struct guard *g, const struct sa *addr,
		       enum guard_reason reason, int64_t since, int64_t until,
		       const char *detail);
bool guard_denied(const struct guard *g, const struct sa *addr);
int guard_deny_foreach(const struct guard *g, guard_entry_h *h, void *arg);
/** ENOENT when not listed; the handler is called */
int guard_deny_remove(struct guard *g, const struct sa *addr);
/** Returns how many went; the handler is called for each */
uint32_t guard_deny_clear(struct guard *g);

void guard_stats_get(const struct guard *g, struct guard_stats *st);

/* ---- the SBC service (sbc.c, sbcreg.c, sbccall.c) ------------------- */

enum sbc_mode {
	SBC_MODE_OFF = 0,
	SBC_MODE_STANDARD, /**< public side ↔ PBX                          */
	SBC_MODE_WAN,	   /**< chained WAN element: private side is the
			        LAN element (default port 5065)            */
	SBC_MODE_LAN,	   /**< chained LAN element: public side serves the
			        WAN element only (default port 5065)       */
};

int sbc_mode_parse(enum sbc_mode *m, const char *s);
const char *sbc_mode_name(enum sbc_mode m);

/**
 * The SBC's host settings, resolved from the config file (sbccfg.c):
 * every default applied, every address parsed.
 */
struct sbc_conf {
	enum sbc_mode mode;
	struct sa pub_if;  /**< IP2 with the public port            */
	struct sa pub_nat; /**< IP1 with the public port (= IP2)     */
	bool pub_tls, pub_udp, pub_tcp;
	struct sa priv_if;  /**< IP3 with the private port           */
	struct sa priv_nat; /**< IP4 with the private port (= IP3)    */
	bool priv_tls, priv_udp, priv_tcp;
	struct sa pbx;	    /**< IP5 with its port                   */
	int pbx_tp;	    /**< enum sip_transp toward the PBX       */
	struct sa wan_peer; /**< LAN mode: the WAN element (port 0)   */
	uint16_t rtp_min, rtp_max;
	bool rtp_port_change; /**< new relay ports on renegotiation   */
	bool symmetric_rtp;   /**< latch on the first packet's source */
	int pub_srtp;	      /**< enum mneg_srtp for TLS legs, public */
	int priv_srtp;	      /**< enum mneg_srtp, private side        */
};

/**
 * Resolve and validate the sbc_* keys of the config file. Messages name
 * the key and what is allowed (SPEC §4: 0.0.0.0 and 255.255.255.255 are
 * a syntax error; an RTP range gives the allowed range).
 *
 * @return 0, or EINVAL with why set
 */
int sbc_conf_resolve(struct sbc_conf *sc, const struct relais_config *cfg,
		     char *why, size_t sz);

struct sbc;

/** What `relaisctl sbc status` shows */
struct sbc_status {
	const struct sbc_conf *conf;
	struct guard_stats guard;
	enum guard_level level;
	uint32_t bindings; /**< remote phones registered through us */
	uint32_t calls;	   /**< calls in progress                   */
	uint64_t calls_total;
	uint64_t registers_total;
};

/**
 * Start the SBC when sbc_mode is not off (*sp stays NULL when it is):
 * both SIP stacks and their listeners, the media relay on the SBC's RTP
 * range, the guard with the security settings, allow-list and deny-list
 * from the store (level auto when never set).
 */
int sbc_alloc(struct sbc **sp, const struct relais_config *cfg,
	      struct store *st);

/** SIGTERM: end every call (BYE/CANCEL both sides) while the loop runs */
void sbc_shutdown(struct sbc *s);
uint32_t sbc_call_count(const struct sbc *s);
int sbc_status_get(const struct sbc *s, struct sbc_status *st);
struct guard *sbc_guard(const struct sbc *s);

/** Re-read security settings and allow-list from the store (after the
    API changed them) */
int sbc_security_reload(struct sbc *s);

#endif

/**
 * @file sip.h  SIP side of relaisd: transports, digest authentication,
 *              registrar and the B2BUA (on libre's sip and sipsess)
 *
 * Everything here runs on the SIP thread (the main libre loop).
 */

#ifndef RELAIS_SIP_H
#define RELAIS_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl;
struct sip;
struct sip_msg;
struct store;
struct store_ext;
struct store_contact;
struct store_cdr;
struct relais_config;
struct media;

/* ---- digest (digest.c): RFC 2617 / RFC 7616 / RFC 8760 -------------- */

enum digest_alg {
	DIGEST_MD5 = 0,
	DIGEST_SHA256,
};

enum { DIGEST_HEX_MAX = 65 };

struct digest_resp {
	struct pl scheme;
	struct pl username;
	struct pl realm;
	struct pl nonce;
	struct pl uri;
	struct pl response;
	struct pl algorithm;
	struct pl cnonce;
	struct pl opaque;
	struct pl qop;
	struct pl nc;
};

int digest_alg_parse(enum digest_alg *alg, const struct pl *name);
const char *digest_alg_name(enum digest_alg alg);
int digest_ha1(char *hex, size_t sz, enum digest_alg alg, const char *user,
	       const char *realm, const char *password);
int digest_resp_decode(struct digest_resp *r, const struct pl *hval);
int digest_response(char *hex, size_t sz, enum digest_alg alg, const char *ha1,
		    const struct pl *method, const struct digest_resp *r);
int digest_verify(const struct digest_resp *r, enum digest_alg alg,
		  const char *ha1, const struct pl *method);

/* ---- nonces and challenges (auth.c) -------------------------------- */

struct sipauth;

int sipauth_alloc(struct sipauth **ap, struct store *st,
		  const struct relais_config *cfg);
int sipauth_check(struct sipauth *a, const struct sip_msg *msg, bool proxy,
		  struct store_ext *ext);
int sipauth_challenge(struct sipauth *a, struct sip *sip,
		      const struct sip_msg *msg, bool proxy, bool stale);
int sipauth_nonce_make(struct sipauth *a, char *buf, size_t sz, uint64_t now);
int sipauth_nonce_check(struct sipauth *a, const struct pl *nonce,
			uint64_t now);

/* ---- transports (sipstack.c) --------------------------------------- */

struct sipstack;

int sipstack_alloc(struct sipstack **ssp, const struct relais_config *cfg);

/**
 * A SIP stack of its own listening on the given addresses ("ip:port", or
 * "" for none), with cfg's TLS certificate, trust anchors and client
 * policy: one per side of the SBC, so that a request leaves by the
 * interface of its side (libre picks the first transport of a type).
 */
int sipstack_alloc_listen(struct sipstack **ssp,
			  const struct relais_config *cfg, const char *udp,
			  const char *tcp, const char *tls);

/** A host name or IP address an outgoing TLS peer's certificate may name
    besides the TLS trunks' hosts (the SBC's PBX or LAN element) */
int sipstack_set_server_name(struct sipstack *ss, const char *host);
struct sip *sipstack_sip(const struct sipstack *ss);
struct dnsc;
struct dnsc *sipstack_dnsc(const struct sipstack *ss);
int tlscert_ensure(const char *path, const char *cn);

struct sipfilter;

int sipfilter_alloc(struct sipfilter **fp, struct sipstack *ss);

/* ---- registrar (registrar.c) --------------------------------------- */

struct registrar;

typedef int(registrar_contact_h)(const struct store_contact *c, void *arg);

int registrar_alloc(struct registrar **rp, struct sipstack *ss,
		    struct sipauth *auth, struct store *st,
		    const struct relais_config *cfg);
int registrar_foreach(struct registrar *r, const char *ext,
		      registrar_contact_h *h, void *arg);
int registrar_remove_ext(struct registrar *r, const char *ext);

/* ---- B2BUA (b2bua.c) ----------------------------------------------- */

struct b2bua;
struct trunks;

/** What relaisctl calls --active shows of a call */
struct b2bua_call_info {
	const char *callid;
	const char *caller;
	const char *callee;
	const char *state; /**< "ringing", "answered", ... */
	int64_t start_ms;
	int64_t answer_ms; /**< 0 if not answered */
	uint16_t port_a;   /**< relay port toward the caller */
	uint16_t port_b;   /**< relay port toward the callee */
};

typedef int(b2bua_call_h)(const struct b2bua_call_info *ci, void *arg);

int b2bua_alloc(struct b2bua **bp, struct sipstack *ss, struct sipauth *auth,
		struct registrar *reg, struct store *st, struct media *media,
		const struct relais_config *cfg);
int b2bua_foreach(struct b2bua *b, b2bua_call_h *h, void *arg);
void b2bua_set_trunks(struct b2bua *b, struct trunks *ts);
uint32_t b2bua_count(const struct b2bua *b);
void b2bua_media_timeout(struct b2bua *b, const char *callid);
void b2bua_shutdown(struct b2bua *b);

/* ---- carrier trunks at run time (trunk.c) -------------------------- */

struct trunks;
struct trunk;
struct store_trunk;
struct sip_auth;

enum trunk_state {
	TRUNK_UNKNOWN = 0, /**< not probed or registered yet          */
	TRUNK_UP,	   /**< registered and/or answering OPTIONS     */
	TRUNK_DOWN,	   /**< registration failed or probes unanswered */
	TRUNK_DISABLED,	   /**< neither inbound nor outbound allowed   */
};

/** What `relaisctl trunk list` shows of a trunk's live state */
struct trunk_info {
	const struct store_trunk *conf;
	enum trunk_state state;
	bool registered;	/**< register trunks: last REGISTER 2xx */
	int64_t reg_expires;	/**< Unix time the registration ends     */
	uint16_t last_scode;	/**< last final status from the carrier  */
	const char *last_error; /**< "", or why it is down, e.g. "DNS: no
				     SRV/A for sip.example.com"          */
	uint32_t calls;		/**< calls in progress                   */
	int64_t changed;	/**< Unix time of the last state change  */
};

typedef int(trunk_info_h)(const struct trunk_info *ti, void *arg);

const char *trunk_state_name(enum trunk_state st);

/**
 * Start every trunk found in the store: registration (libre sipreg) for
 * register trunks, OPTIONS probes at options_interval for all. Host names
 * are resolved by libre (RFC 3263: NAPTR/SRV/A, next target on failure)
 * with the DNS servers of dns_servers. Emits events 4100 on each state
 * change, 12293 on DNS failures, 12294 on carrier error answers.
 */
int trunks_alloc(struct trunks **tsp, struct sipstack *ss, struct store *st,
		 const struct relais_config *cfg);

/** Re-read the store after the API changed trunks: new ones start,
    removed ones unregister, changed ones restart. */
int trunks_reload(struct trunks *ts);

/** At shutdown, while the loop still runs: stop probes and un-REGISTER
    every trunk (libre's sipreg sends REGISTER with expires 0). The trunks
    stay valid for calls still ending; free them with mem_deref() later. */
void trunks_shutdown(struct trunks *ts);

int trunks_foreach(struct trunks *ts, trunk_info_h *h, void *arg);
struct trunk *trunks_find(struct trunks *ts, const char *name);

/** The trunk a request came from (source address among the trunk's known
    addresses: resolved server/proxy and where its answers came from), or
    NULL */
struct trunk *trunks_match_inbound(struct trunks *ts,
				   const struct sip_msg *msg);

/** Host names of TLS trunks, for peer certificate verification */
int trunks_tls_hosts(struct trunks *ts, bool (*h)(const char *host, void *arg),
		     void *arg);

const struct store_trunk *trunk_conf(const struct trunk *t);
enum trunk_state trunk_state(const struct trunk *t);

/** Take one call slot: EBUSY at max_calls, ENETDOWN if the trunk is down
    or disabled, EPERM if outbound (out=true) or inbound is not allowed */
int trunk_call_acquire(struct trunk *t, bool out);
void trunk_call_release(struct trunk *t);

/** Request-URI for number: "sip:+33142000000@domain[:port];transport=tls"
 */
int trunk_request_uri(const struct trunk *t, const char *number, char *buf,
		      size_t sz);

/** From URI: "sip:CALLERID@domain" */
int trunk_from_uri(const struct trunk *t, const char *user, char *buf,
		   size_t sz);

/** Route for requests (outbound proxy) "sip:proxy;lr;transport=..", or
    ENOENT when the trunk has no proxy */
int trunk_route(const struct trunk *t, char *buf, size_t sz);

/** sip_auth handler (libre sip_auth_h) answering the carrier's challenge
    with the trunk's credentials; arg is the struct trunk */
int trunk_auth_handler(char **username, char **password, const char *realm,
		       void *arg);

/** Tell the trunk how a call attempt ended (scode 0 = transport error or
    timeout): 5xx/6xx and timeouts emit 12294; timeouts count toward
    marking the trunk down */
void trunk_call_result(struct trunk *t, uint16_t scode);

/* ---- TLS certificates (tlscert.c) ----------------------------------- */

/** Subject, issuer and validity of a PEM certificate file (first cert) */
struct tlscert_info {
	char subject[256];
	char issuer[256];
	int64_t not_before; /**< Unix time */
	int64_t not_after;
	int32_t days_left; /**< negative when expired */
	uint32_t key_bits;
	bool self_signed;
};

int tlscert_info_file(struct tlscert_info *ci, const char *path);

/**
 * Generate a new private key (RSA, bits >= 2048) and a CSR signed with
 * SHA-256. The key is written to key_path (mode 0600); the CSR is
 * returned in PEM. cn is the FQDN; sans a comma-separated list of DNS
 * names/IP addresses for subjectAltName (may be NULL); o and c optional.
 */
int tlscert_csr(const char *key_path, uint32_t bits, const char *cn,
		const char *sans, const char *o, const char *c,
		char **csr_pem);

/**
 * Install a certificate: PEM chain (leaf first) matching the key at
 * key_path, or a PKCS#12 bundle (key + chain) with its password. The
 * result (key + chain in PEM) replaces out_path atomically.
 * Refused with EKEYREJECTED when the key does not match the certificate,
 * EBADMSG when it cannot be read; why says which.
 */
int tlscert_install(const char *out_path, const char *key_path,
		    const uint8_t *data, size_t len, const char *p12_pass,
		    char *why, size_t sz);

/** Load a new certificate into the running SIP stack: new connections
    use it, established ones keep theirs */
int sipstack_tls_reload(struct sipstack *ss);

/** The trunk set consulted for peer hostname verification */
void sipstack_set_trunks(struct sipstack *ss, struct trunks *ts);

#endif

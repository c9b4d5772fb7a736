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
struct sip *sipstack_sip(const struct sipstack *ss);
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
uint32_t b2bua_count(const struct b2bua *b);
void b2bua_media_timeout(struct b2bua *b, const char *callid);
void b2bua_shutdown(struct b2bua *b);

#endif

/**
 * @file auth.c  SIP digest authentication of requests: stateless nonces,
 *               credential checks and 401/407 challenges
 *
 * A nonce is the hex of an 8-byte big-endian timestamp (seconds) followed
 * by the first 16 bytes of HMAC-SHA256(secret, timestamp). The secret is
 * drawn at allocation, so nothing is stored per challenge and a nonce is
 * only valid inside the relaisd process that made it.
 */

#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"

#define DEBUG_MODULE "auth"

enum {
	SECRET_LEN = 32,
	NONCE_TS_LEN = 8,
	NONCE_MAC_LEN = 16,
	NONCE_RAW_LEN = NONCE_TS_LEN + NONCE_MAC_LEN,
	NONCE_HEX_LEN = 2 * NONCE_RAW_LEN,
	NONCE_FUTURE_SLACK = 5, /* seconds */
	ALG_MAX = 2,
};

/** Digest authenticator; reads realm, nonce_lifetime and auth_algorithms
 *  from the live configuration at every call */
struct sipauth {
	struct store *st;		 /**< Extensions (not owned)       */
	const struct relais_config *cfg; /**< Configuration (not owned)    */
	uint8_t secret[SECRET_LEN];	 /**< Nonce HMAC key               */
};

/** One challenge being printed */
struct challenge {
	const struct sipauth *a;
	const char *hdr;
	enum digest_alg algv[ALG_MAX];
	size_t algc;
	char nonce[NONCE_HEX_LEN + 1];
	bool stale;
};

/** Search state for our realm's credentials */
struct find {
	const char *realm;
	struct digest_resp resp;
	bool found;
	bool bad;
};


static void destructor(void *arg)
{
	struct sipauth *a = arg;

	OPENSSL_cleanse(a->secret, sizeof(a->secret));
}


static uint64_t now_sec(void)
{
	return (uint64_t)time(NULL);
}


/* Algorithms of cfg->auth_algorithms, in order, each once */
static size_t algs_enabled(const struct sipauth *a, enum digest_alg *algv,
			   size_t max)
{
	struct pl rest, item;
	size_t n = 0;

	pl_set_str(&rest, a->cfg->auth_algorithms);
	while (rest.l && n < max) {
		const char *comma = pl_strchr(&rest, ',');
		enum digest_alg alg;
		bool dup = false;

		item.p = rest.p;
		item.l = comma ? (size_t)(comma - rest.p) : rest.l;
		pl_advance(&rest, (ssize_t)item.l + (comma ? 1 : 0));

		text_trim(&item);
		if (!item.l || digest_alg_parse(&alg, &item))
			continue;

		for (size_t i = 0; i < n; i++)
			dup = dup || algv[i] == alg;
		if (!dup)
			algv[n++] = alg;
	}

	return n;
}


static bool alg_enabled(const struct sipauth *a, enum digest_alg alg)
{
	enum digest_alg algv[ALG_MAX];
	size_t n = algs_enabled(a, algv, ARRAY_SIZE(algv));

	for (size_t i = 0; i < n; i++) {
		if (algv[i] == alg)
			return true;
	}

	return false;
}


static int nonce_mac(const struct sipauth *a, const uint8_t *ts, uint8_t *mac)
{
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), a->secret, sizeof(a->secret), ts, NONCE_TS_LEN,
		  full, &len) ||
	    len < NONCE_MAC_LEN) {
		ERR_clear_error();
		return ENOMEM;
	}

	memcpy(mac, full, NONCE_MAC_LEN);

	return 0;
}


static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;

	return -1;
}


/**
 * Allocate a digest authenticator
 *
 * @param ap  Returned authenticator
 * @param st  Store holding the extensions; must outlive the authenticator
 * @param cfg Live configuration; must outlive the authenticator
 *
 * @return 0 if success, otherwise errorcode
 */
int sipauth_alloc(struct sipauth **ap, struct store *st,
		  const struct relais_config *cfg)
{
	struct sipauth *a;

	if (!ap || !st || !cfg)
		return EINVAL;

	a = mem_zalloc(sizeof(*a), destructor);
	if (!a)
		return ENOMEM;

	a->st = st;
	a->cfg = cfg;

	if (RAND_bytes(a->secret, sizeof(a->secret)) != 1) {
		ERR_clear_error();
		log_error("no randomness for the nonce secret");
		mem_deref(a);
		return EIO;
	}

	*ap = a;

	return 0;
}


/**
 * Make a nonce for a challenge
 *
 * @param a   Authenticator
 * @param buf Buffer for the nonce (hex, NUL-terminated)
 * @param sz  Size of buf, at least 49
 * @param now Current time in seconds
 *
 * @return 0 if success, otherwise errorcode
 */
int sipauth_nonce_make(struct sipauth *a, char *buf, size_t sz, uint64_t now)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t raw[NONCE_RAW_LEN];
	int err;

	if (!a || !buf)
		return EINVAL;

	if (sz < NONCE_HEX_LEN + 1)
		return EOVERFLOW;

	for (size_t i = 0; i < NONCE_TS_LEN; i++)
		raw[i] = (uint8_t)(now >> (8 * (NONCE_TS_LEN - 1 - i)));

	err = nonce_mac(a, raw, raw + NONCE_TS_LEN);
	if (err)
		return err;

	for (size_t i = 0; i < NONCE_RAW_LEN; i++) {
		buf[2 * i] = digits[raw[i] >> 4];
		buf[2 * i + 1] = digits[raw[i] & 0x0f];
	}
	buf[NONCE_HEX_LEN] = '\0';

	return 0;
}


/**
 * Check a nonce received in credentials
 *
 * @param a     Authenticator
 * @param nonce Nonce as received
 * @param now   Current time in seconds
 *
 * @return 0 if valid, ETIMEDOUT if older than nonce_lifetime (stale),
 *         EBADMSG if malformed, not ours or more than 5 s in the future,
 *         otherwise errorcode
 */
int sipauth_nonce_check(struct sipauth *a, const struct pl *nonce,
			uint64_t now)
{
	uint8_t raw[NONCE_RAW_LEN];
	uint8_t mac[NONCE_MAC_LEN];
	uint64_t ts = 0;
	int err;

	if (!a || !nonce)
		return EINVAL;

	if (!nonce->p || nonce->l != NONCE_HEX_LEN)
		return EBADMSG;

	for (size_t i = 0; i < NONCE_RAW_LEN; i++) {
		int hi = hex_val(nonce->p[2 * i]);
		int lo = hex_val(nonce->p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return EBADMSG;

		raw[i] = (uint8_t)(hi << 4 | lo);
	}

	err = nonce_mac(a, raw, mac);
	if (err)
		return err;

	if (CRYPTO_memcmp(mac, raw + NONCE_TS_LEN, NONCE_MAC_LEN))
		return EBADMSG;

	for (size_t i = 0; i < NONCE_TS_LEN; i++)
		ts = ts << 8 | raw[i];

	if (ts > now + NONCE_FUTURE_SLACK)
		return EBADMSG;

	if (ts < now && now - ts > a->cfg->nonce_lifetime)
		return ETIMEDOUT;

	return 0;
}


static bool find_handler(const struct sip_hdr *hdr, const struct sip_msg *msg,
			 void *arg)
{
	struct find *f = arg;
	struct digest_resp r;
	(void)msg;

	if (digest_resp_decode(&r, &hdr->val)) {
		/* credentials of another scheme are not ours to judge */
		if (pl_isset(&r.scheme) && pl_strcasecmp(&r.scheme, "Digest"))
			return false;

		f->bad = true;
		return false;
	}

	/* RFC 2617 1.2: the realm is compared case-sensitively */
	if (pl_strcmp(&r.realm, f->realm))
		return false;

	f->resp = r;
	f->found = true;

	return true;
}


/* Text from the network is logged only if it is short and printable, so
 * it cannot forge log lines */
static bool loggable(const struct pl *pl, size_t max)
{
	if (pl->l > max)
		return false;

	for (size_t i = 0; i < pl->l; i++) {
		if (pl->p[i] < 0x20 || pl->p[i] > 0x7e)
			return false;
	}

	return true;
}


/* Log a rejected attempt: the address and the user, never the response */
static void log_reject(const struct sip_msg *msg, const struct digest_resp *r,
		       const char *why)
{
	static const struct pl unprintable = PL("(unprintable)");

	log_info("%J: %r %r: authentication failed: %s", &msg->src, &msg->met,
		 loggable(&r->username, STORE_NUMBER_MAX) ? &r->username
							  : &unprintable,
		 why);
}


/* Checks after the credentials for our realm were found */
static int check_resp(struct sipauth *a, const struct sip_msg *msg,
		      const struct digest_resp *r, struct store_ext *ext)
{
	char user[STORE_NUMBER_MAX];
	enum digest_alg alg;
	const char *ha1;
	bool stale;
	int err;

	if (digest_alg_parse(&alg, &r->algorithm) || !alg_enabled(a, alg)) {
		log_reject(msg, r, "algorithm not accepted");
		return EPERM;
	}

	/* RFC 7616 3.3: stale=true only if the nonce is invalid but the
	 * digest for it is valid. A nonce that fails its HMAC (e.g. made
	 * before a restart) is treated the same way, so phones that reuse
	 * their last nonce get a fresh challenge rather than a 403. */
	err = sipauth_nonce_check(a, &r->nonce, now_sec());
	if (err && err != ETIMEDOUT && err != EBADMSG)
		return err;
	stale = err != 0;

	if (pl_cmp(&r->uri, &msg->ruri) && loggable(&r->uri, STORE_URI_MAX)) {
		log_debug("%J: digest uri %r differs from Request-URI %r",
			  &msg->src, &r->uri, &msg->ruri);
	}

	/* the auth ID is the extension number */
	if (r->username.l >= sizeof(user) ||
	    pl_strcpy(&r->username, user, sizeof(user))) {
		log_reject(msg, r, "unknown user");
		return EPERM;
	}

	err = store_ext_get(a->st, user, ext);
	if (err == ENOENT) {
		log_reject(msg, r, "unknown user");
		return EPERM;
	}
	if (err) {
		log_warn("store: lookup of %s failed: %m", user, err);
		return err;
	}

	ha1 = alg == DIGEST_SHA256 ? ext->ha1_sha256 : ext->ha1_md5;
	if (!ha1[0]) {
		log_reject(msg, r, "no password hash for the algorithm");
		return EPERM;
	}

	err = digest_verify(r, alg, ha1, &msg->met);
	switch (err) {

	case 0:
		break;
	case EACCES:
		log_reject(msg, r, "wrong response");
		return EPERM;
	case EBADMSG:
		log_reject(msg, r, "bad qop, nc or cnonce");
		return EBADMSG;
	case ENOTSUP:
		log_reject(msg, r, "qop not supported");
		return EPERM;
	default:
		log_warn("%s: stored %s hash unusable: %m", user,
			 digest_alg_name(alg), err);
		return EPERM;
	}

	if (stale) {
		log_debug("%J: %r: stale nonce, correct response", &msg->src,
			  &r->username);
		return ETIMEDOUT;
	}

	return 0;
}


/**
 * Check the digest credentials of a request
 *
 * Of several Authorization (or Proxy-Authorization) headers, the first
 * whose realm equals sip_realm is used; credentials of another scheme are
 * ignored. Failures are logged at info with the source address and user.
 *
 * @param a     Authenticator
 * @param msg   Received request
 * @param proxy True to read Proxy-Authorization, false for Authorization
 * @param ext   Filled with the extension on success (on other results its
 *              content is undefined)
 *
 * @return 0 if authenticated;
 *         ENODATA if there are no credentials for our realm;
 *         EBADMSG if a header is malformed (and none for our realm is
 *         usable), or qop=auth lacks nc or cnonce;
 *         ETIMEDOUT if the response is correct but the nonce is stale,
 *         not ours or from the future (challenge again with stale=true);
 *         EPERM for an unknown user, an algorithm not in auth_algorithms,
 *         a missing HA1 for the algorithm, qop=auth-int or a wrong
 *         response (with a valid or an invalid nonce);
 *         another errorcode if the store fails
 */
int sipauth_check(struct sipauth *a, const struct sip_msg *msg, bool proxy,
		  struct store_ext *ext)
{
	const enum sip_hdrid id =
	    proxy ? SIP_HDR_PROXY_AUTHORIZATION : SIP_HDR_AUTHORIZATION;
	struct store_ext found;
	struct find f;
	int err;

	if (!a || !msg || !ext)
		return EINVAL;

	memset(&f, 0, sizeof(f));
	f.realm = a->cfg->sip_realm;

	(void)sip_msg_hdr_apply(msg, true, id, find_handler, &f);
	if (!f.found) {
		if (f.bad) {
			log_info("%J: %r: malformed %s header", &msg->src,
				 &msg->met,
				 proxy ? "Proxy-Authorization"
				       : "Authorization");
			return EBADMSG;
		}

		return ENODATA;
	}

	memset(&found, 0, sizeof(found));
	err = check_resp(a, msg, &f.resp, &found);
	if (!err)
		*ext = found;

	OPENSSL_cleanse(&found, sizeof(found));

	return err;
}


static int print_challenge(struct re_printf *pf, const struct challenge *ch)
{
	int err = 0;

	/* RFC 8760 2.4: one header per algorithm, preferred first */
	for (size_t i = 0; i < ch->algc; i++) {
		err |= re_hprintf(pf,
				  "%s: Digest realm=\"%s\", nonce=\"%s\", "
				  "qop=\"auth\", algorithm=%s%s\r\n",
				  ch->hdr, ch->a->cfg->sip_realm, ch->nonce,
				  digest_alg_name(ch->algv[i]),
				  ch->stale ? ", stale=true" : "");
	}

	return err;
}


/**
 * Reply to a request with a digest challenge: 401 with WWW-Authenticate,
 * or 407 with Proxy-Authenticate, one header per algorithm in the order
 * of auth_algorithms, each with a fresh nonce and qop="auth"
 *
 * @param a     Authenticator
 * @param sip   SIP stack
 * @param msg   Request to reply to
 * @param proxy True for 407, false for 401
 * @param stale True to add stale=true (the last nonce had expired)
 *
 * @return 0 if success, otherwise errorcode
 */
int sipauth_challenge(struct sipauth *a, struct sip *sip,
		      const struct sip_msg *msg, bool proxy, bool stale)
{
	struct challenge ch;
	int err;

	if (!a || !sip || !msg)
		return EINVAL;

	memset(&ch, 0, sizeof(ch));
	ch.a = a;
	ch.hdr = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
	ch.stale = stale;
	ch.algc = algs_enabled(a, ch.algv, ARRAY_SIZE(ch.algv));

	if (!ch.algc) {
		log_error("auth_algorithms lists no usable algorithm");
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		return EINVAL;
	}

	err = sipauth_nonce_make(a, ch.nonce, sizeof(ch.nonce), now_sec());
	if (err) {
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		return err;
	}

	return sip_replyf(sip, msg, proxy ? 407 : 401,
			  proxy ? "Proxy Authentication Required"
				: "Unauthorized",
			  "%H"
			  "Content-Length: 0\r\n"
			  "\r\n",
			  print_challenge, &ch);
}

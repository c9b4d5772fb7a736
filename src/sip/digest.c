/**
 * @file digest.c  SIP digest authentication: credentials parser and
 *                 response computation (RFC 2617, RFC 7616, RFC 8760)
 *
 * The parser is our own because libre 1.1.0's httpauth decoder has no
 * `algorithm` field. It works on the borrowed header value only, never
 * reads past its end and allocates nothing.
 */

#include <ctype.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <re.h>
#include "core/core.h"
#include "sip/sip.h"

#define DEBUG_MODULE "digest"

struct cursor {
	const char *p;
	const char *end;
};

/** Parameters we keep; any other name is ignored (RFC 7616 3.4) */
static const struct {
	const char *name;
	size_t off;
} params[] = {
	{ "username", offsetof(struct digest_resp, username) },
	{ "realm", offsetof(struct digest_resp, realm) },
	{ "nonce", offsetof(struct digest_resp, nonce) },
	{ "uri", offsetof(struct digest_resp, uri) },
	{ "response", offsetof(struct digest_resp, response) },
	{ "algorithm", offsetof(struct digest_resp, algorithm) },
	{ "cnonce", offsetof(struct digest_resp, cnonce) },
	{ "opaque", offsetof(struct digest_resp, opaque) },
	{ "qop", offsetof(struct digest_resp, qop) },
	{ "nc", offsetof(struct digest_resp, nc) },
};


static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/* RFC 3261 25.1: token */
static bool is_token(char c)
{
	if (isalnum((unsigned char)c))
		return true;

	switch (c) {

	case '-':
	case '.':
	case '!':
	case '%':
	case '*':
	case '_':
	case '+':
	case '`':
	case '\'':
	case '~':
		return true;
	default:
		return false;
	}
}


static void skip_lws(struct cursor *c)
{
	while (c->p < c->end && is_lws(*c->p))
		++c->p;
}


static int read_token(struct cursor *c, struct pl *tok)
{
	tok->p = c->p;
	while (c->p < c->end && is_token(*c->p))
		++c->p;
	tok->l = (size_t)(c->p - tok->p);

	return tok->l ? 0 : EBADMSG;
}


/* A quoted-string keeps its escapes: the value is the raw text between
 * the quotes, which is what the client hashed. */
static int read_quoted(struct cursor *c, struct pl *val)
{
	++c->p; /* opening quote */
	val->p = c->p;

	while (c->p < c->end) {
		if (*c->p == '"') {
			val->l = (size_t)(c->p - val->p);
			++c->p;
			return 0;
		}

		if (*c->p == '\\') {
			if (c->end - c->p < 2)
				return EBADMSG;
			c->p += 2;
			continue;
		}

		++c->p;
	}

	return EBADMSG; /* no closing quote */
}


/* Unquoted values should be tokens; phones also send unquoted URIs and
 * nonces, so any visible character but a comma or a quote is taken. */
static int read_value(struct cursor *c, struct pl *val)
{
	if (c->p < c->end && *c->p == '"')
		return read_quoted(c, val);

	val->p = c->p;
	while (c->p<c->end && * c->p> 0x20 && *c->p < 0x7f && *c->p != ',' &&
	       *c->p != '"')
		++c->p;
	val->l = (size_t)(c->p - val->p);

	return val->l ? 0 : EBADMSG;
}


static struct pl *param_field(struct digest_resp *r, const struct pl *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
		if (!pl_strcasecmp(name, params[i].name))
			return (struct pl *)(void *)((char *)r +
						     params[i].off);
	}

	return NULL;
}


static int read_params(struct cursor *c, struct digest_resp *r)
{
	for (;;) {
		struct pl name, val, *fld;
		int err;

		skip_lws(c);
		if (c->p == c->end)
			return 0;

		/* RFC 7230 7: empty list elements are allowed */
		if (*c->p == ',') {
			++c->p;
			continue;
		}

		err = read_token(c, &name);
		if (err)
			return err;

		skip_lws(c);
		if (c->p == c->end || *c->p != '=')
			return EBADMSG;
		++c->p;
		skip_lws(c);

		err = read_value(c, &val);
		if (err)
			return err;

		fld = param_field(r, &name);
		if (fld) {
			if (fld->p)
				return EBADMSG; /* duplicate */
			*fld = val;
		}

		skip_lws(c);
		if (c->p == c->end)
			return 0;
		if (*c->p != ',')
			return EBADMSG;
		++c->p;
	}
}


/**
 * Parse an algorithm name
 *
 * @param alg  Returned algorithm
 * @param name Algorithm name (case-insensitive); NULL or empty means MD5
 *
 * @return 0 if success, ENOTSUP for any other algorithm (also the -sess
 *         variants), otherwise errorcode
 */
int digest_alg_parse(enum digest_alg *alg, const struct pl *name)
{
	if (!alg)
		return EINVAL;

	/* RFC 7616 3.4: without an algorithm parameter, MD5 is used */
	if (!name || !name->p || !name->l) {
		*alg = DIGEST_MD5;
		return 0;
	}

	if (!pl_strcasecmp(name, "MD5")) {
		*alg = DIGEST_MD5;
		return 0;
	}

	if (!pl_strcasecmp(name, "SHA-256")) {
		*alg = DIGEST_SHA256;
		return 0;
	}

	return ENOTSUP;
}


/**
 * Get the name of an algorithm as written in SIP headers
 *
 * @param alg Algorithm
 *
 * @return "MD5", "SHA-256", or "?" for an unknown value
 */
const char *digest_alg_name(enum digest_alg alg)
{
	switch (alg) {

	case DIGEST_MD5:
		return "MD5";
	case DIGEST_SHA256:
		return "SHA-256";
	default:
		return "?";
	}
}


static const EVP_MD *alg_md(enum digest_alg alg)
{
	switch (alg) {

	case DIGEST_MD5:
		return EVP_md5();
	case DIGEST_SHA256:
		return EVP_sha256();
	default:
		return NULL;
	}
}


static size_t alg_hexlen(enum digest_alg alg)
{
	const EVP_MD *md = alg_md(alg);

	return md ? 2 * (size_t)EVP_MD_get_size(md) : 0;
}


/* Lower-case hex of H(part0:part1:...:partN) */
static int hash_hex(char *hex, size_t sz, enum digest_alg alg,
		    const struct pl *partv, size_t partc)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const EVP_MD *type = alg_md(alg);
	EVP_MD_CTX *ctx;
	int ok;

	if (!type)
		return EINVAL;

	if (sz < alg_hexlen(alg) + 1)
		return EOVERFLOW;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return ENOMEM;

	ok = EVP_DigestInit_ex(ctx, type, NULL);
	for (size_t i = 0; ok && i < partc; i++) {
		if (i)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok && partv[i].l)
			ok = EVP_DigestUpdate(ctx, partv[i].p, partv[i].l);
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &mdlen);

	EVP_MD_CTX_free(ctx);

	if (!ok) {
		/* e.g. MD5 refused by a FIPS provider */
		ERR_clear_error();
		return ENOTSUP;
	}

	for (unsigned int i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex[2 * mdlen] = '\0';

	OPENSSL_cleanse(md, sizeof(md));

	return 0;
}


/**
 * Compute HA1 = H(user:realm:password) as lower-case hex
 *
 * @param hex      Buffer for the hex string
 * @param sz       Size of hex, at least DIGEST_HEX_MAX for SHA-256
 * @param alg      Algorithm
 * @param user     User name
 * @param realm    Realm
 * @param password Password
 *
 * @return 0 if success, otherwise errorcode
 */
int digest_ha1(char *hex, size_t sz, enum digest_alg alg, const char *user,
	       const char *realm, const char *password)
{
	struct pl partv[3];

	if (!hex || !user || !realm || !password)
		return EINVAL;

	pl_set_str(&partv[0], user);
	pl_set_str(&partv[1], realm);
	pl_set_str(&partv[2], password);

	return hash_hex(hex, sz, alg, partv, ARRAY_SIZE(partv));
}


/**
 * Decode an Authorization or Proxy-Authorization header value
 *
 * The fields borrow from hval and exclude the quotes; escapes inside
 * quoted strings are kept as received. Unknown parameters are ignored.
 * On return r->scheme holds the scheme when one could be read, also if it
 * is not Digest, so a caller can tell foreign credentials from broken ones.
 *
 * @param r    Returned credentials
 * @param hval Header value, e.g. `Digest username="1001", ...`
 *
 * @return 0 if success, EBADMSG if the scheme is not Digest, the value is
 *         malformed, a parameter is repeated, or one of username, realm,
 *         nonce, uri and response is missing; otherwise errorcode
 */
int digest_resp_decode(struct digest_resp *r, const struct pl *hval)
{
	struct cursor c;
	int err;

	if (!r || !hval)
		return EINVAL;

	memset(r, 0, sizeof(*r));

	if (!hval->p)
		return EBADMSG;

	c.p = hval->p;
	c.end = hval->p + hval->l;

	skip_lws(&c);
	err = read_token(&c, &r->scheme);
	if (err)
		return err;

	if (pl_strcasecmp(&r->scheme, "Digest"))
		return EBADMSG;

	if (c.p == c.end || !is_lws(*c.p))
		return EBADMSG;

	err = read_params(&c, r);
	if (err)
		return err;

	if (!pl_isset(&r->username) || !pl_isset(&r->realm) ||
	    !pl_isset(&r->nonce) || !pl_isset(&r->uri) ||
	    !pl_isset(&r->response))
		return EBADMSG;

	return 0;
}


/**
 * Compute the expected response for received credentials
 * (RFC 7616 3.4.1; without qop as in RFC 2069)
 *
 * @param hex    Buffer for the lower-case hex response
 * @param sz     Size of hex, at least DIGEST_HEX_MAX for SHA-256
 * @param alg    Algorithm the client used
 * @param ha1    Hex HA1 of that algorithm
 * @param method Request method
 * @param r      Decoded credentials (nonce, uri, qop, nc, cnonce)
 *
 * @return 0 if success, ENOTSUP for qop=auth-int, EBADMSG for another qop
 *         or qop=auth without nc and cnonce, EINVAL if ha1 does not have
 *         the length of alg, otherwise errorcode
 */
int digest_response(char *hex, size_t sz, enum digest_alg alg, const char *ha1,
		    const struct pl *method, const struct digest_resp *r)
{
	char ha2[DIGEST_HEX_MAX];
	struct pl partv[6];
	size_t partc;
	int err;

	if (!hex || !ha1 || !method || !method->p || !r)
		return EINVAL;

	if (!alg_hexlen(alg) || strlen(ha1) != alg_hexlen(alg))
		return EINVAL;

	partv[0] = *method;
	partv[1] = r->uri;
	err = hash_hex(ha2, sizeof(ha2), alg, partv, 2);
	if (err)
		return err;

	pl_set_str(&partv[0], ha1);
	partv[1] = r->nonce;

	if (!pl_isset(&r->qop)) {
		pl_set_str(&partv[2], ha2);
		partc = 3;
	}
	else if (!pl_strcasecmp(&r->qop, "auth")) {
		if (!pl_isset(&r->nc) || !pl_isset(&r->cnonce))
			return EBADMSG;

		partv[2] = r->nc;
		partv[3] = r->cnonce;
		partv[4] = r->qop;
		pl_set_str(&partv[5], ha2);
		partc = 6;
	}
	else if (!pl_strcasecmp(&r->qop, "auth-int")) {
		return ENOTSUP;
	}
	else {
		return EBADMSG;
	}

	return hash_hex(hex, sz, alg, partv, partc);
}


/**
 * Verify received credentials against a stored HA1
 *
 * The comparison takes the same time wherever the first difference is.
 *
 * @param r      Decoded credentials
 * @param alg    Algorithm the client used
 * @param ha1    Hex HA1 of that algorithm
 * @param method Request method
 *
 * @return 0 if the response matches, EACCES if not, otherwise an
 *         errorcode of digest_response()
 */
int digest_verify(const struct digest_resp *r, enum digest_alg alg,
		  const char *ha1, const struct pl *method)
{
	char expect[DIGEST_HEX_MAX];
	char got[DIGEST_HEX_MAX];
	size_t n;
	int err;

	if (!r)
		return EINVAL;

	err = digest_response(expect, sizeof(expect), alg, ha1, method, r);
	if (err)
		return err;

	n = strlen(expect);
	if (r->response.l != n)
		return EACCES;

	/* RFC 7616 says lower-case hex; accept upper case from old phones */
	for (size_t i = 0; i < n; i++)
		got[i] = (char)tolower((unsigned char)r->response.p[i]);

	err = CRYPTO_memcmp(got, expect, n) ? EACCES : 0;

	OPENSSL_cleanse(expect, sizeof(expect));

	return err;
}

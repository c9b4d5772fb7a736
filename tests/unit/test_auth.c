/**
 * @file test_auth.c  Nonces, credential checks and challenges (auth.c)
 *
 * Credential checks run on hand-built requests decoded with libre's
 * sip_msg_decode() against a real SQLite store in a mkdtemp() directory.
 * Challenges are tested on the wire: a libre SIP stack on 127.0.0.1
 * port 0 answers with sipauth_challenge(), and either a plain UDP socket
 * (our test client, any algorithm) or libre's own sipreg client (MD5 only
 * in libre 1.1.0) registers through it.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "testdir.h"

enum {
	LOOP_MS = 5000,
	MAX_ROUNDS = 4,
	NONCE_SZ = 64,
	HDR_SZ = 1024,
};

#define REALM	  "relais"
#define PASS_1001 "secret1001"
#define PASS_1002 "pw-1002"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct relais_config cfg;
	struct sipauth *a;
};

/** What a test client puts into its credentials */
struct creds {
	const char *hname; /**< Authorization or Proxy-Authorization */
	const char *user;
	const char *password;
	const char *realm;
	const char *nonce;
	const char *method; /**< method the response is computed for */
	const char *uri;
	enum digest_alg alg;
	const char *alg_text; /**< NULL: name of alg; "": no parameter */
	const char *qop;      /**< NULL: no qop, nc, cnonce */
};


static uint64_t now_sec(void)
{
	return (uint64_t)time(NULL);
}


static int ext_add(struct store *st, const char *number, const char *pass,
		   bool sha256)
{
	struct store_ext ext;
	int err;

	memset(&ext, 0, sizeof(ext));
	str_ncpy(ext.number, number, sizeof(ext.number));
	str_ncpy(ext.name, "Test", sizeof(ext.name));

	err = digest_ha1(ext.ha1_md5, sizeof(ext.ha1_md5), DIGEST_MD5, number,
			 REALM, pass);
	if (!err && sha256)
		err = digest_ha1(ext.ha1_sha256, sizeof(ext.ha1_sha256),
				 DIGEST_SHA256, number, REALM, pass);
	if (err)
		return err;

	return store_ext_add(st, &ext);
}


static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;

	re_snprintf(f->dir, sizeof(f->dir), "/tmp/relais-auth-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}

	re_snprintf(f->path, sizeof(f->path), "%s/relais.db", f->dir);

	f->cfg = config_defaults;
	str_ncpy(f->cfg.sip_realm, REALM, sizeof(f->cfg.sip_realm));
	str_ncpy(f->cfg.auth_algorithms, "MD5,SHA-256",
		 sizeof(f->cfg.auth_algorithms));
	f->cfg.nonce_lifetime = 300;

	/* 1001 has both hashes, 1002 only MD5 */
	if (store_open(&f->st, f->path) ||
	    ext_add(f->st, "1001", PASS_1001, true) ||
	    ext_add(f->st, "1002", PASS_1002, false) ||
	    sipauth_alloc(&f->a, f->st, &f->cfg)) {
		mem_deref(f->st);
		testdir_remove(f->dir);
		free(f);
		return -1;
	}

	*state = f;

	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_deref(f->a);
	mem_deref(f->st);
	testdir_remove(f->dir);
	free(f);

	return 0;
}


static void creds_init(struct creds *c, const char *nonce)
{
	memset(c, 0, sizeof(*c));
	c->hname = "Authorization";
	c->user = "1001";
	c->password = PASS_1001;
	c->realm = REALM;
	c->nonce = nonce;
	c->method = "REGISTER";
	c->uri = "sip:relais";
	c->alg = DIGEST_MD5;
	c->qop = "auth";
}


/* One credentials header line, computed as a phone would */
static int creds_print(char *buf, size_t sz, const struct creds *c)
{
	char ha1[DIGEST_HEX_MAX];
	char resp[DIGEST_HEX_MAX] = "00000000000000000000000000000000";
	char algp[32] = "";
	char qopp[80] = "";
	struct digest_resp r;
	struct pl met;
	int err;

	memset(&r, 0, sizeof(r));
	pl_set_str(&r.nonce, c->nonce);
	pl_set_str(&r.uri, c->uri);
	if (c->qop) {
		pl_set_str(&r.qop, c->qop);
		pl_set_str(&r.nc, "00000001");
		pl_set_str(&r.cnonce, "0a4f113b");
		re_snprintf(qopp, sizeof(qopp),
			    ", qop=%s, nc=00000001, cnonce=\"0a4f113b\"",
			    c->qop);
	}
	pl_set_str(&met, c->method);

	err = digest_ha1(ha1, sizeof(ha1), c->alg, c->user, c->realm,
			 c->password);
	if (err)
		return err;

	/* a qop we do not compute (auth-int) keeps the dummy response */
	(void)digest_response(resp, sizeof(resp), c->alg, ha1, &met, &r);

	if (!c->alg_text)
		re_snprintf(algp, sizeof(algp), ", algorithm=%s",
			    digest_alg_name(c->alg));
	else if (c->alg_text[0])
		re_snprintf(algp, sizeof(algp), ", algorithm=%s", c->alg_text);

	return re_snprintf(buf, sz,
			   "%s: Digest username=\"%s\", realm=\"%s\", "
			   "nonce=\"%s\", uri=\"%s\", response=\"%s\"%s%s\r\n",
			   c->hname, c->user, c->realm, c->nonce, c->uri, resp,
			   algp, qopp) < 0
		   ? ENOMEM
		   : 0;
}


static struct sip_msg *req_make(const char *method, const char *hdrs)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(2048);

	assert_non_null(mb);
	assert_int_equal(mbuf_printf(mb,
				     "%s sip:relais SIP/2.0\r\n"
				     "Via: SIP/2.0/UDP 192.0.2.10:5060"
				     ";branch=z9hG4bKauthtest\r\n"
				     "Max-Forwards: 70\r\n"
				     "From: <sip:1001@relais>;tag=abc\r\n"
				     "To: <sip:1001@relais>\r\n"
				     "Call-ID: auth-check-1\r\n"
				     "CSeq: 1 %s\r\n"
				     "Contact: <sip:1001@192.0.2.10:5060>\r\n"
				     "%s"
				     "Content-Length: 0\r\n"
				     "\r\n",
				     method, method, hdrs),
			 0);
	mb->pos = 0;

	assert_int_equal(sip_msg_decode(&msg, mb), 0);
	mem_deref(mb);

	assert_int_equal(sa_set_str(&msg->src, "192.0.2.10", 5060), 0);

	return msg;
}


/* sipauth_check() of a REGISTER (or `method`) carrying hdrs */
static int check_hdrs(struct fixture *f, const char *method, const char *hdrs,
		      bool proxy, struct store_ext *ext)
{
	struct sip_msg *msg = req_make(method, hdrs);
	struct store_ext dummy;
	int err;

	err = sipauth_check(f->a, msg, proxy, ext ? ext : &dummy);
	mem_deref(msg);

	return err;
}


static int check_creds(struct fixture *f, const struct creds *c, bool proxy,
		       struct store_ext *ext)
{
	char hdr[HDR_SZ];

	assert_int_equal(creds_print(hdr, sizeof(hdr), c), 0);

	return check_hdrs(f, "REGISTER", hdr, proxy, ext);
}


static void nonce_now(struct fixture *f, char *nonce, uint64_t t)
{
	assert_int_equal(sipauth_nonce_make(f->a, nonce, NONCE_SZ, t), 0);
}


/* ---- nonces --------------------------------------------------------- */

static void test_nonce(void **state)
{
	struct fixture *f = *state;
	const uint64_t t = 1700000000;
	struct sipauth *other = NULL;
	char nonce[NONCE_SZ], later[NONCE_SZ], tmp[NONCE_SZ];
	struct pl pl;

	nonce_now(f, nonce, t);
	assert_int_equal(strlen(nonce), 48);
	for (size_t i = 0; i < 48; i++)
		assert_non_null(strchr("0123456789abcdef", nonce[i]));

	/* the timestamp is readable in the first 16 hex digits */
	assert_memory_equal(nonce, "000000006553f100", 16);

	pl_set_str(&pl, nonce);
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t), 0);
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t + 300), 0);
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t + 301), ETIMEDOUT);
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t + 100000),
			 ETIMEDOUT);

	/* the lifetime is read from the live configuration */
	f->cfg.nonce_lifetime = 30;
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t + 31), ETIMEDOUT);
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t + 30), 0);
	f->cfg.nonce_lifetime = 300;

	/* up to 5 s in the future is clock skew, more is forged */
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t - 5), 0);
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t - 6), EBADMSG);

	/* another second, another nonce */
	nonce_now(f, later, t + 1);
	assert_string_not_equal(nonce, later);

	/* tampering with any digit breaks it */
	for (size_t i = 0; i < 48; i++) {
		memcpy(tmp, nonce, sizeof(tmp));
		tmp[i] = tmp[i] == '0' ? '1' : '0';
		pl_set_str(&pl, tmp);
		assert_int_equal(sipauth_nonce_check(f->a, &pl, t), EBADMSG);
	}

	/* a later timestamp with the old MAC */
	memcpy(tmp, later, 16);
	memcpy(tmp + 16, nonce + 16, 32);
	tmp[48] = '\0';
	pl_set_str(&pl, tmp);
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t + 1), EBADMSG);

	/* malformed */
	pl.p = nonce;
	pl.l = 47;
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t), EBADMSG);
	pl.l = 0;
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t), EBADMSG);
	assert_int_equal(sipauth_nonce_check(f->a, &pl_null, t), EBADMSG);
	memcpy(tmp, nonce, sizeof(tmp));
	for (size_t i = 0; i < 48; i++)
		tmp[i] = (char)toupper((unsigned char)tmp[i]);
	pl_set_str(&pl, tmp);
	if (strcmp(tmp, nonce))
		assert_int_equal(sipauth_nonce_check(f->a, &pl, t), EBADMSG);
	memcpy(tmp, nonce, sizeof(tmp));
	tmp[20] = 'g';
	pl_set_str(&pl, tmp);
	assert_int_equal(sipauth_nonce_check(f->a, &pl, t), EBADMSG);

	/* another authenticator has another secret */
	assert_int_equal(sipauth_alloc(&other, f->st, &f->cfg), 0);
	pl_set_str(&pl, nonce);
	assert_int_equal(sipauth_nonce_check(other, &pl, t), EBADMSG);
	mem_deref(other);

	/* arguments */
	assert_int_equal(sipauth_nonce_make(f->a, tmp, 48, t), EOVERFLOW);
	assert_int_equal(sipauth_nonce_make(f->a, tmp, 49, t), 0);
	assert_int_equal(sipauth_nonce_make(NULL, tmp, 49, t), EINVAL);
	assert_int_equal(sipauth_nonce_check(f->a, NULL, t), EINVAL);
	assert_int_equal(sipauth_alloc(&other, NULL, &f->cfg), EINVAL);
	assert_int_equal(sipauth_alloc(&other, f->st, NULL), EINVAL);
}


/* ---- sipauth_check() ------------------------------------------------ */

static void test_check_md5(void **state)
{
	struct fixture *f = *state;
	struct store_ext ext;
	char nonce[NONCE_SZ];
	struct creds c;

	nonce_now(f, nonce, now_sec());
	creds_init(&c, nonce);

	memset(&ext, 0, sizeof(ext));
	assert_int_equal(check_creds(f, &c, false, &ext), 0);
	assert_string_equal(ext.number, "1001");
	assert_int_equal(strlen(ext.ha1_md5), 32);

	/* without algorithm parameter MD5 is meant */
	c.alg_text = "";
	assert_int_equal(check_creds(f, &c, false, NULL), 0);

	/* RFC 2069 style, without qop */
	c.qop = NULL;
	assert_int_equal(check_creds(f, &c, false, NULL), 0);

	/* a digest uri other than the Request-URI is accepted */
	creds_init(&c, nonce);
	c.uri = "sip:relais;transport=udp";
	assert_int_equal(check_creds(f, &c, false, NULL), 0);
}


static void test_check_sha256(void **state)
{
	struct fixture *f = *state;
	struct store_ext ext;
	char nonce[NONCE_SZ];
	struct creds c;

	nonce_now(f, nonce, now_sec());
	creds_init(&c, nonce);
	c.alg = DIGEST_SHA256;

	memset(&ext, 0, sizeof(ext));
	assert_int_equal(check_creds(f, &c, false, &ext), 0);
	assert_string_equal(ext.number, "1001");

	/* the algorithm name is case-insensitive */
	c.alg_text = "sha-256";
	assert_int_equal(check_creds(f, &c, false, NULL), 0);

	/* SHA-256 response labelled MD5 (or unlabelled) fails */
	c.alg_text = "MD5";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);
	c.alg_text = "";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);

	/* 1002 has no SHA-256 hash, its MD5 works */
	creds_init(&c, nonce);
	c.user = "1002";
	c.password = PASS_1002;
	c.alg = DIGEST_SHA256;
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);
	c.alg = DIGEST_MD5;
	memset(&ext, 0, sizeof(ext));
	assert_int_equal(check_creds(f, &c, false, &ext), 0);
	assert_string_equal(ext.number, "1002");
}


static void test_check_rejected(void **state)
{
	struct fixture *f = *state;
	char nonce[NONCE_SZ];
	char user[64];
	struct creds c;

	nonce_now(f, nonce, now_sec());

	/* wrong password, both algorithms */
	creds_init(&c, nonce);
	c.password = "guess";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);
	c.alg = DIGEST_SHA256;
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);

	/* unknown user, with a correctly computed response */
	creds_init(&c, nonce);
	c.user = "1099";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);

	/* a user name longer than any extension number */
	memset(user, '1', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	c.user = user;
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);

	/* another user's password */
	creds_init(&c, nonce);
	c.password = PASS_1002;
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);

	/* response computed for another method */
	creds_init(&c, nonce);
	c.method = "INVITE";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);

	/* algorithms we do not support */
	creds_init(&c, nonce);
	c.alg_text = "MD5-sess";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);
	c.alg_text = "SHA-512-256";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);

	/* qop=auth-int is not offered */
	creds_init(&c, nonce);
	c.qop = "auth-int";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);

	/* an algorithm taken out of auth_algorithms (live) */
	str_ncpy(f->cfg.auth_algorithms, "MD5",
		 sizeof(f->cfg.auth_algorithms));
	creds_init(&c, nonce);
	c.alg = DIGEST_SHA256;
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);
	c.alg = DIGEST_MD5;
	assert_int_equal(check_creds(f, &c, false, NULL), 0);
	str_ncpy(f->cfg.auth_algorithms, "SHA-256",
		 sizeof(f->cfg.auth_algorithms));
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);
}


static void test_check_nonce(void **state)
{
	struct fixture *f = *state;
	struct sipauth *other = NULL;
	char nonce[NONCE_SZ];
	struct creds c;

	/* stale nonce, correct response: challenge again with stale=true */
	nonce_now(f, nonce, now_sec() - 1000);
	creds_init(&c, nonce);
	assert_int_equal(check_creds(f, &c, false, NULL), ETIMEDOUT);
	c.alg = DIGEST_SHA256;
	assert_int_equal(check_creds(f, &c, false, NULL), ETIMEDOUT);

	/* stale nonce, wrong response or unknown user */
	c.password = "guess";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);
	creds_init(&c, nonce);
	c.user = "1099";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);

	/* a nonce of another process (restart), correct response: stale */
	assert_int_equal(sipauth_alloc(&other, f->st, &f->cfg), 0);
	assert_int_equal(sipauth_nonce_make(other, nonce, sizeof(nonce),
					    now_sec()),
			 0);
	mem_deref(other);
	creds_init(&c, nonce);
	assert_int_equal(check_creds(f, &c, false, NULL), ETIMEDOUT);
	c.password = "guess";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);

	/* a made-up nonce with a correct response, and a wrong one */
	creds_init(&c, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	assert_int_equal(check_creds(f, &c, false, NULL), ETIMEDOUT);
	c.password = "guess";
	assert_int_equal(check_creds(f, &c, false, NULL), EPERM);
}


static void test_check_headers(void **state)
{
	struct fixture *f = *state;
	char nonce[NONCE_SZ];
	char ours[HDR_SZ], theirs[HDR_SZ], hdrs[3 * HDR_SZ];
	struct store_ext ext;
	struct creds c;

	nonce_now(f, nonce, now_sec());

	/* no credentials */
	assert_int_equal(check_hdrs(f, "REGISTER", "", false, NULL), ENODATA);
	assert_int_equal(check_hdrs(f, "REGISTER", "", true, NULL), ENODATA);

	/* another realm only */
	creds_init(&c, nonce);
	c.realm = "elsewhere";
	assert_int_equal(creds_print(theirs, sizeof(theirs), &c), 0);
	assert_int_equal(check_hdrs(f, "REGISTER", theirs, false, NULL),
			 ENODATA);

	/* another scheme only */
	assert_int_equal(check_hdrs(f, "REGISTER",
				    "Authorization: Basic "
				    "MTAwMTpzZWNyZXQ=\r\n",
				    false, NULL),
			 ENODATA);

	/* ours after another realm's */
	creds_init(&c, nonce);
	assert_int_equal(creds_print(ours, sizeof(ours), &c), 0);
	re_snprintf(hdrs, sizeof(hdrs), "%s%s", theirs, ours);
	memset(&ext, 0, sizeof(ext));
	assert_int_equal(check_hdrs(f, "REGISTER", hdrs, false, &ext), 0);
	assert_string_equal(ext.number, "1001");

	/* Proxy-Authorization is read only when asked for */
	c.hname = "Proxy-Authorization";
	c.method = "INVITE";
	assert_int_equal(creds_print(ours, sizeof(ours), &c), 0);
	assert_int_equal(check_hdrs(f, "INVITE", ours, false, NULL), ENODATA);
	assert_int_equal(check_hdrs(f, "INVITE", ours, true, NULL), 0);

	/* and Authorization is not read for a proxy check */
	c.hname = "Authorization";
	assert_int_equal(creds_print(ours, sizeof(ours), &c), 0);
	assert_int_equal(check_hdrs(f, "INVITE", ours, true, NULL), ENODATA);
	assert_int_equal(check_hdrs(f, "INVITE", ours, false, NULL), 0);

	/* malformed */
	assert_int_equal(check_hdrs(f, "REGISTER",
				    "Authorization: Digest username=\"1001\", "
				    "realm=\"relais\"\r\n",
				    false, NULL),
			 EBADMSG);
	assert_int_equal(check_hdrs(f, "REGISTER",
				    "Authorization: Digest username=\"1001\", "
				    "username=\"1002\", realm=\"relais\", "
				    "nonce=\"x\", uri=\"sip:relais\", "
				    "response=\"00\"\r\n",
				    false, NULL),
			 EBADMSG);

	/* a malformed header beside valid credentials for our realm */
	creds_init(&c, nonce);
	assert_int_equal(creds_print(ours, sizeof(ours), &c), 0);
	re_snprintf(hdrs, sizeof(hdrs), "Authorization: Digest junk\r\n%s",
		    ours);
	assert_int_equal(check_hdrs(f, "REGISTER", hdrs, false, NULL), 0);

	/* qop=auth without nc/cnonce */
	re_snprintf(hdrs, sizeof(hdrs),
		    "Authorization: Digest username=\"1001\", "
		    "realm=\"relais\", nonce=\"%s\", uri=\"sip:relais\", "
		    "response=\"00000000000000000000000000000000\", "
		    "qop=auth\r\n",
		    nonce);
	assert_int_equal(check_hdrs(f, "REGISTER", hdrs, false, NULL),
			 EBADMSG);

	/* arguments */
	assert_int_equal(sipauth_check(NULL, NULL, false, &ext), EINVAL);
}


/* ---- challenges on the wire ----------------------------------------- */

struct server {
	struct sip *sip;
	struct sip_lsnr *lsnr;
	struct sa laddr;
	struct sipauth *a;
	bool proxy;
	unsigned nreq;
};

/** A challenge as seen by the client */
struct seen {
	char alg[16];
	char nonce[NONCE_SZ];
	bool stale;
	bool realm_ok;
	bool qop_ok;
};

struct client {
	struct udp_sock *us;
	struct sa laddr;
	const struct sa *srv;
	bool proxy;
	enum digest_alg alg;
	uint32_t cseq;
	uint16_t scodev[MAX_ROUNDS + 1];
	size_t scodec;
	struct seen seenv[4];
	size_t seenc;
	size_t other_hdrs; /**< challenge headers of the other kind */
	int err;
};


static void timeout_h(void *arg)
{
	int *err = arg;

	*err = ETIMEDOUT;
	re_cancel();
}


static int loop_run(uint32_t ms)
{
	struct tmr tmr;
	int err = 0;

	tmr_init(&tmr);
	tmr_start(&tmr, ms, timeout_h, &err);
	(void)re_main(NULL);
	tmr_cancel(&tmr);

	return err;
}


static bool server_req(const struct sip_msg *msg, void *arg)
{
	struct server *s = arg;
	struct store_ext ext;
	int err;

	++s->nreq;

	err = sipauth_check(s->a, msg, s->proxy, &ext);
	switch (err) {

	case 0:
		(void)sip_reply(s->sip, msg, 200, "OK");
		break;
	case ENODATA:
		(void)sipauth_challenge(s->a, s->sip, msg, s->proxy, false);
		break;
	case ETIMEDOUT:
		(void)sipauth_challenge(s->a, s->sip, msg, s->proxy, true);
		break;
	default:
		(void)sip_reply(s->sip, msg, 403, "Forbidden");
		break;
	}

	return true;
}


static void server_start(struct server *s, struct sipauth *a, bool proxy)
{
	memset(s, 0, sizeof(*s));
	s->a = a;
	s->proxy = proxy;

	assert_int_equal(sip_alloc(&s->sip, NULL, 16, 16, 16, "relais-test",
				   NULL, NULL),
			 0);
	assert_int_equal(sa_set_str(&s->laddr, "127.0.0.1", 0), 0);
	assert_int_equal(sip_transp_add(s->sip, SIP_TRANSP_UDP, &s->laddr), 0);
	assert_int_equal(sip_transp_laddr(s->sip, &s->laddr, SIP_TRANSP_UDP,
					  NULL),
			 0);
	assert_int_not_equal(sa_port(&s->laddr), 0);
	assert_int_equal(sip_listen(&s->lsnr, s->sip, true, server_req, s), 0);
}


static void server_stop(struct server *s)
{
	s->lsnr = mem_deref(s->lsnr);
	sip_close(s->sip, true);
	s->sip = mem_deref(s->sip);
}


static bool chall_handler(const struct sip_hdr *hdr, const struct sip_msg *msg,
			  void *arg)
{
	struct httpauth_digest_chall ch;
	struct client *cl = arg;
	struct seen *sn;
	(void)msg;

	if (cl->seenc >= ARRAY_SIZE(cl->seenv)) {
		cl->err = EOVERFLOW;
		return true;
	}

	if (httpauth_digest_challenge_decode(&ch, &hdr->val)) {
		cl->err = EBADMSG;
		return true;
	}

	sn = &cl->seenv[cl->seenc++];
	memset(sn, 0, sizeof(*sn));
	(void)pl_strcpy(&ch.algorithm, sn->alg, sizeof(sn->alg));
	(void)pl_strcpy(&ch.nonce, sn->nonce, sizeof(sn->nonce));
	sn->stale = !pl_strcasecmp(&ch.stale, "true");
	sn->realm_ok = !pl_strcmp(&ch.realm, REALM);
	sn->qop_ok = !pl_strcmp(&ch.qop, "auth");

	return false;
}


static int client_send(struct client *cl, const char *hdrs)
{
	struct mbuf *mb = mbuf_alloc(2048);
	int err;

	if (!mb)
		return ENOMEM;

	++cl->cseq;
	err = mbuf_printf(mb,
			  "REGISTER sip:relais SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP %J;branch=z9hG4bK%p%u;rport\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:1001@relais>;tag=cl1\r\n"
			  "To: <sip:1001@relais>\r\n"
			  "Call-ID: auth-wire-%p\r\n"
			  "CSeq: %u REGISTER\r\n"
			  "Contact: <sip:1001@%J>\r\n"
			  "%s"
			  "Content-Length: 0\r\n"
			  "\r\n",
			  &cl->laddr, cl, cl->cseq, cl, cl->cseq, &cl->laddr,
			  hdrs);
	mb->pos = 0;
	if (!err)
		err = udp_send(cl->us, cl->srv, mb);

	mem_deref(mb);

	return err;
}


/* Answer the challenge of our algorithm */
static int client_answer(struct client *cl)
{
	char hdr[HDR_SZ];
	struct creds c;

	for (size_t i = 0; i < cl->seenc; i++) {
		if (strcmp(cl->seenv[i].alg, digest_alg_name(cl->alg)))
			continue;

		creds_init(&c, cl->seenv[i].nonce);
		c.alg = cl->alg;
		c.hname = cl->proxy ? "Proxy-Authorization" : "Authorization";
		if (creds_print(hdr, sizeof(hdr), &c))
			return ENOMEM;

		return client_send(cl, hdr);
	}

	return ENOENT;
}


static void client_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct client *cl = arg;
	struct sip_msg *msg = NULL;
	int err;
	(void)src;

	err = sip_msg_decode(&msg, mb);
	if (err || msg->req) {
		cl->err = err ? err : EPROTO;
		goto stop;
	}

	if (msg->scode < 200)
		goto out;

	if (cl->scodec >= ARRAY_SIZE(cl->scodev)) {
		cl->err = ELOOP;
		goto stop;
	}
	cl->scodev[cl->scodec++] = msg->scode;

	if (msg->scode != 401 && msg->scode != 407)
		goto stop;

	cl->seenc = 0;
	(void)sip_msg_hdr_apply(msg, true,
				cl->proxy ? SIP_HDR_PROXY_AUTHENTICATE
					  : SIP_HDR_WWW_AUTHENTICATE,
				chall_handler, cl);
	cl->other_hdrs +=
	    sip_msg_hdr_count(msg, cl->proxy ? SIP_HDR_WWW_AUTHENTICATE
					     : SIP_HDR_PROXY_AUTHENTICATE);
	if (cl->err)
		goto stop;

	err = client_answer(cl);
	if (err) {
		cl->err = err;
		goto stop;
	}

	goto out;

stop:
	re_cancel();
out:
	mem_deref(msg);
}


static void client_start(struct client *cl, const struct server *s, bool proxy,
			 enum digest_alg alg)
{
	memset(cl, 0, sizeof(*cl));
	cl->srv = &s->laddr;
	cl->proxy = proxy;
	cl->alg = alg;

	assert_int_equal(sa_set_str(&cl->laddr, "127.0.0.1", 0), 0);
	assert_int_equal(udp_listen(&cl->us, &cl->laddr, client_recv, cl), 0);
	assert_int_equal(udp_local_get(cl->us, &cl->laddr), 0);
}


/* 401, one WWW-Authenticate per algorithm in configured order, then a
 * SHA-256 answer gets 200 */
static void test_challenge_www(void **state)
{
	struct fixture *f = *state;
	struct server s;
	struct client cl;
	struct pl pl;

	server_start(&s, f->a, false);
	client_start(&cl, &s, false, DIGEST_SHA256);

	assert_int_equal(client_send(&cl, ""), 0);
	assert_int_equal(loop_run(LOOP_MS), 0);
	assert_int_equal(cl.err, 0);

	assert_int_equal(cl.scodec, 2);
	assert_int_equal(cl.scodev[0], 401);
	assert_int_equal(cl.scodev[1], 200);
	assert_int_equal(s.nreq, 2);
	assert_int_equal(cl.other_hdrs, 0);

	assert_int_equal(cl.seenc, 2);
	assert_string_equal(cl.seenv[0].alg, "MD5");
	assert_string_equal(cl.seenv[1].alg, "SHA-256");
	for (size_t i = 0; i < 2; i++) {
		assert_true(cl.seenv[i].realm_ok);
		assert_true(cl.seenv[i].qop_ok);
		assert_false(cl.seenv[i].stale);
		pl_set_str(&pl, cl.seenv[i].nonce);
		assert_int_equal(sipauth_nonce_check(f->a, &pl, now_sec()), 0);
	}

	mem_deref(cl.us);
	server_stop(&s);
}


/* A stale nonce with a correct response gets 407 stale=true, with the
 * configured order SHA-256 first; the answer to it gets 200 */
static void test_challenge_proxy_stale(void **state)
{
	struct fixture *f = *state;
	char nonce[NONCE_SZ], hdr[HDR_SZ];
	struct server s;
	struct client cl;
	struct creds c;
	struct pl pl;

	str_ncpy(f->cfg.auth_algorithms, "SHA-256, MD5",
		 sizeof(f->cfg.auth_algorithms));

	server_start(&s, f->a, true);
	client_start(&cl, &s, true, DIGEST_MD5);

	nonce_now(f, nonce, now_sec() - 1000);
	creds_init(&c, nonce);
	c.hname = "Proxy-Authorization";
	assert_int_equal(creds_print(hdr, sizeof(hdr), &c), 0);

	assert_int_equal(client_send(&cl, hdr), 0);
	assert_int_equal(loop_run(LOOP_MS), 0);
	assert_int_equal(cl.err, 0);

	assert_int_equal(cl.scodec, 2);
	assert_int_equal(cl.scodev[0], 407);
	assert_int_equal(cl.scodev[1], 200);
	assert_int_equal(cl.other_hdrs, 0);

	assert_int_equal(cl.seenc, 2);
	assert_string_equal(cl.seenv[0].alg, "SHA-256");
	assert_string_equal(cl.seenv[1].alg, "MD5");
	for (size_t i = 0; i < 2; i++) {
		assert_true(cl.seenv[i].stale);
		assert_true(cl.seenv[i].realm_ok);
		pl_set_str(&pl, cl.seenv[i].nonce);
		assert_int_equal(sipauth_nonce_check(f->a, &pl, now_sec()), 0);
	}

	mem_deref(cl.us);
	server_stop(&s);
}


/* A wrong password gets 401 then 403; one algorithm, one header */
static void test_challenge_forbidden(void **state)
{
	struct fixture *f = *state;
	char nonce[NONCE_SZ], hdr[HDR_SZ];
	struct server s;
	struct client cl;
	struct creds c;

	str_ncpy(f->cfg.auth_algorithms, "MD5",
		 sizeof(f->cfg.auth_algorithms));

	server_start(&s, f->a, false);
	client_start(&cl, &s, false, DIGEST_MD5);

	nonce_now(f, nonce, now_sec());
	creds_init(&c, nonce);
	c.password = "guess";
	assert_int_equal(creds_print(hdr, sizeof(hdr), &c), 0);

	assert_int_equal(client_send(&cl, hdr), 0);
	assert_int_equal(loop_run(LOOP_MS), 0);
	assert_int_equal(cl.err, 0);
	assert_int_equal(cl.scodec, 1);
	assert_int_equal(cl.scodev[0], 403);

	/* without credentials: one MD5 challenge */
	assert_int_equal(client_send(&cl, ""), 0);
	assert_int_equal(loop_run(LOOP_MS), 0);
	assert_int_equal(cl.err, 0);
	assert_int_equal(cl.scodec, 3);
	assert_int_equal(cl.scodev[1], 401);
	assert_int_equal(cl.scodev[2], 200);
	assert_int_equal(cl.seenc, 1);
	assert_string_equal(cl.seenv[0].alg, "MD5");

	mem_deref(cl.us);
	server_stop(&s);
}


/* ---- libre's own registration client -------------------------------- */

struct reg_result {
	int err;
	uint16_t scode;
	unsigned nauth;
	bool realm_ok;
	const char *password;
};


static int reg_auth(char **username, char **password, const char *realm,
		    void *arg)
{
	struct reg_result *rr = arg;
	int err;

	++rr->nauth;
	rr->realm_ok = !str_cmp(realm, REALM);

	err = str_dup(username, "1001");
	err |= str_dup(password, rr->password);

	return err;
}


static void reg_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct reg_result *rr = arg;

	rr->err = err;
	rr->scode = msg ? msg->scode : 0;
	re_cancel();
}


static void libre_register(struct fixture *f, const char *password,
			   struct reg_result *rr)
{
	struct sip *csip = NULL;
	struct sipreg *reg = NULL;
	struct server s;
	struct sa laddr;
	char uri[64];

	server_start(&s, f->a, false);

	assert_int_equal(sip_alloc(&csip, NULL, 16, 16, 16, "libre-client",
				   NULL, NULL),
			 0);
	assert_int_equal(sa_set_str(&laddr, "127.0.0.1", 0), 0);
	assert_int_equal(sip_transp_add(csip, SIP_TRANSP_UDP, &laddr), 0);

	memset(rr, 0, sizeof(*rr));
	rr->password = password;
	re_snprintf(uri, sizeof(uri), "sip:%J", &s.laddr);

	assert_int_equal(sipreg_register(&reg, csip, uri, "sip:1001@" REALM,
					 NULL, "sip:1001@" REALM, 60, "1001",
					 NULL, 0, 0, reg_auth, rr, false,
					 reg_resp, rr, NULL, NULL),
			 0);
	assert_int_equal(loop_run(LOOP_MS), 0);

	mem_deref(reg);
	sip_close(csip, true);
	mem_deref(csip);
	server_stop(&s);
}


/* Interop with the digest client of libre 1.1.0 (MD5 only: it gives up
 * on a challenge with any other algorithm) */
static void test_libre_client(void **state)
{
	struct fixture *f = *state;
	struct reg_result rr;

	str_ncpy(f->cfg.auth_algorithms, "MD5",
		 sizeof(f->cfg.auth_algorithms));

	libre_register(f, PASS_1001, &rr);
	assert_int_equal(rr.err, 0);
	assert_int_equal(rr.scode, 200);
	assert_int_equal(rr.nauth, 1);
	assert_true(rr.realm_ok);

	/* wrong password: libre retries once, then we refuse */
	libre_register(f, "guess", &rr);
	assert_int_equal(rr.nauth, 1);
	assert_true(rr.err != 0 || rr.scode == 403);
	assert_int_not_equal(rr.scode, 200);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_md5, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_sha256, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_nonce, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_headers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_challenge_www, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_challenge_proxy_stale,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_forbidden,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_libre_client, setup,
						teardown),
	};
	int ret;

	log_setup(LOG_LVL_ERROR, LOG_TARGET_STDERR);

	if (libre_init())
		return 1;

	ret = cmocka_run_group_tests(tests, NULL, NULL);

	libre_close();

	return ret;
}

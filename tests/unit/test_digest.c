/**
 * @file test_digest.c  Digest credentials parser and response vectors
 *
 * Vectors: RFC 2617 3.5, RFC 7616 3.9.1 (MD5 and SHA-256, password
 * "Circle of Life" per erratum 4495), RFC 2069 (no qop) and the SIP
 * example of draft-smith-sipping-auth-examples 3.3 (bob, biloxi.com).
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "sip/sip.h"


static struct pl mkpl(const char *s)
{
	struct pl pl;

	pl_set_str(&pl, s);

	return pl;
}


static void assert_pl(const struct pl *pl, const char *s)
{
	if (pl_strcmp(pl, s))
		fail_msg("expected '%s', got '%.*s'", s, (int)pl->l,
			 pl->p ? pl->p : "");
}


static int decode_str(struct digest_resp *r, const char *s)
{
	struct pl hval = mkpl(s);

	return digest_resp_decode(r, &hval);
}


static void test_alg_parse(void **state)
{
	enum digest_alg alg = DIGEST_SHA256;
	struct pl pl;
	(void)state;

	assert_int_equal(digest_alg_parse(&alg, &pl_null), 0);
	assert_int_equal(alg, DIGEST_MD5);

	alg = DIGEST_SHA256;
	assert_int_equal(digest_alg_parse(&alg, NULL), 0);
	assert_int_equal(alg, DIGEST_MD5);

	pl = mkpl("md5");
	assert_int_equal(digest_alg_parse(&alg, &pl), 0);
	assert_int_equal(alg, DIGEST_MD5);

	pl = mkpl("sha-256");
	assert_int_equal(digest_alg_parse(&alg, &pl), 0);
	assert_int_equal(alg, DIGEST_SHA256);

	pl = mkpl("SHA-256");
	alg = DIGEST_MD5;
	assert_int_equal(digest_alg_parse(&alg, &pl), 0);
	assert_int_equal(alg, DIGEST_SHA256);

	pl = mkpl("MD5-sess");
	assert_int_equal(digest_alg_parse(&alg, &pl), ENOTSUP);
	pl = mkpl("SHA-512-256");
	assert_int_equal(digest_alg_parse(&alg, &pl), ENOTSUP);
	pl = mkpl("SHA256");
	assert_int_equal(digest_alg_parse(&alg, &pl), ENOTSUP);
	pl = mkpl("MD");
	assert_int_equal(digest_alg_parse(&alg, &pl), ENOTSUP);

	assert_int_equal(digest_alg_parse(NULL, &pl), EINVAL);

	assert_string_equal(digest_alg_name(DIGEST_MD5), "MD5");
	assert_string_equal(digest_alg_name(DIGEST_SHA256), "SHA-256");
	assert_string_equal(digest_alg_name((enum digest_alg)42), "?");
}


static void test_ha1(void **state)
{
	char hex[DIGEST_HEX_MAX];
	char small[33];
	(void)state;

	assert_int_equal(digest_ha1(hex, sizeof(hex), DIGEST_MD5, "Mufasa",
				    "testrealm@host.com", "Circle Of Life"),
			 0);
	assert_string_equal(hex, "939e7578ed9e3c518a452acee763bce9");

	assert_int_equal(digest_ha1(hex, sizeof(hex), DIGEST_SHA256, "Mufasa",
				    "http-auth@example.org", "Circle of Life"),
			 0);
	assert_string_equal(hex, "7987c64c30e25f1b74be53f966b49b90"
				 "f2808aa92faf9a00262392d7b4794232");

	/* MD5 fits in 33 bytes, SHA-256 does not */
	assert_int_equal(digest_ha1(small, sizeof(small), DIGEST_MD5, "bob",
				    "biloxi.com", "zanzibar"),
			 0);
	assert_string_equal(small, "12af60467a33e8518da5c68bbff12b11");
	assert_int_equal(digest_ha1(small, sizeof(small), DIGEST_SHA256, "bob",
				    "biloxi.com", "zanzibar"),
			 EOVERFLOW);
	assert_int_equal(digest_ha1(small, sizeof(small) - 1, DIGEST_MD5,
				    "bob", "biloxi.com", "zanzibar"),
			 EOVERFLOW);

	assert_int_equal(digest_ha1(hex, sizeof(hex), DIGEST_MD5, NULL, "r",
				    "p"),
			 EINVAL);
	assert_int_equal(digest_ha1(hex, sizeof(hex), (enum digest_alg)9, "u",
				    "r", "p"),
			 EINVAL);
}


/* RFC 2617 3.5 */
static void test_rfc2617(void **state)
{
	static const char hval[] =
	    "Digest username=\"Mufasa\",\r\n"
	    "                 realm=\"testrealm@host.com\",\r\n"
	    "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\","
	    "\r\n"
	    "                 uri=\"/dir/index.html\",\r\n"
	    "                 qop=auth,\r\n"
	    "                 nc=00000001,\r\n"
	    "                 cnonce=\"0a4f113b\",\r\n"
	    "                 response=\"6629fae49393a05397450978507c4ef1"
	    "\",\r\n"
	    "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
	const struct pl get = mkpl("GET");
	const struct pl post = mkpl("POST");
	struct digest_resp r;
	char ha1[DIGEST_HEX_MAX];
	char hex[DIGEST_HEX_MAX];
	(void)state;

	assert_int_equal(decode_str(&r, hval), 0);
	assert_pl(&r.scheme, "Digest");
	assert_pl(&r.username, "Mufasa");
	assert_pl(&r.realm, "testrealm@host.com");
	assert_pl(&r.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	assert_pl(&r.uri, "/dir/index.html");
	assert_pl(&r.qop, "auth");
	assert_pl(&r.nc, "00000001");
	assert_pl(&r.cnonce, "0a4f113b");
	assert_pl(&r.response, "6629fae49393a05397450978507c4ef1");
	assert_pl(&r.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
	assert_false(pl_isset(&r.algorithm));

	assert_int_equal(digest_ha1(ha1, sizeof(ha1), DIGEST_MD5, "Mufasa",
				    "testrealm@host.com", "Circle Of Life"),
			 0);
	assert_int_equal(digest_response(hex, sizeof(hex), DIGEST_MD5, ha1,
					 &get, &r),
			 0);
	assert_string_equal(hex, "6629fae49393a05397450978507c4ef1");

	assert_int_equal(digest_verify(&r, DIGEST_MD5, ha1, &get), 0);
	assert_int_equal(digest_verify(&r, DIGEST_MD5, ha1, &post), EACCES);

	/* HA1 of another algorithm's length is refused, not compared */
	assert_int_equal(digest_verify(&r, DIGEST_SHA256, ha1, &get), EINVAL);

	/* the old password ("CircleOfLife" of RFC 2069) fails */
	assert_int_equal(digest_ha1(ha1, sizeof(ha1), DIGEST_MD5, "Mufasa",
				    "testrealm@host.com", "CircleOfLife"),
			 0);
	assert_int_equal(digest_verify(&r, DIGEST_MD5, ha1, &get), EACCES);
}


/* RFC 7616 3.9.1 */
static void test_rfc7616(void **state)
{
	static const char *const hvalv[] = {
		"Digest username=\"Mufasa\", realm=\"http-auth@example.org\","
		" uri=\"/dir/index.html\", algorithm=MD5,"
		" nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\","
		" nc=00000001,"
		" cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\","
		" qop=auth, response=\"8ca523f5e9506fed4657c9700eebdbec\","
		" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
		"Digest username=\"Mufasa\", realm=\"http-auth@example.org\","
		" uri=\"/dir/index.html\", algorithm=SHA-256,"
		" nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\","
		" nc=00000001,"
		" cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\","
		" qop=auth, response=\"753927fa0e85d155564e2e272a28d1802ca10"
		"daf4496794697cf8db5856cb6c1\","
		" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
	};
	static const char *const expect[] = {
		"8ca523f5e9506fed4657c9700eebdbec",
		"753927fa0e85d155564e2e272a28d180"
		"2ca10daf4496794697cf8db5856cb6c1",
	};
	const struct pl get = mkpl("GET");
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(hvalv); i++) {
		struct digest_resp r;
		enum digest_alg alg;
		char ha1[DIGEST_HEX_MAX];
		char hex[DIGEST_HEX_MAX];

		assert_int_equal(decode_str(&r, hvalv[i]), 0);
		assert_int_equal(digest_alg_parse(&alg, &r.algorithm), 0);
		assert_int_equal(alg, i ? DIGEST_SHA256 : DIGEST_MD5);
		assert_pl(&r.cnonce,
			  "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");

		assert_int_equal(digest_ha1(ha1, sizeof(ha1), alg, "Mufasa",
					    "http-auth@example.org",
					    "Circle of Life"),
				 0);
		assert_int_equal(digest_response(hex, sizeof(hex), alg, ha1,
						 &get, &r),
				 0);
		assert_string_equal(hex, expect[i]);
		assert_int_equal(digest_verify(&r, alg, ha1, &get), 0);

		/* RFC 2617's capital O gives another HA1 */
		assert_int_equal(digest_ha1(ha1, sizeof(ha1), alg, "Mufasa",
					    "http-auth@example.org",
					    "Circle Of Life"),
				 0);
		assert_int_equal(digest_verify(&r, alg, ha1, &get), EACCES);
	}
}


/* RFC 2069 2.4: no qop, response = H(HA1:nonce:HA2) */
static void test_rfc2069(void **state)
{
	const struct pl get = mkpl("GET");
	struct digest_resp r;
	char ha1[DIGEST_HEX_MAX];
	(void)state;

	assert_int_equal(
	    decode_str(&r, "Digest username=\"Mufasa\", "
			   "realm=\"testrealm@host.com\", "
			   "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
			   "uri=\"/dir/index.html\", "
			   "response=\"1949323746fe6a43ef61f9606e7febea\", "
			   "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""),
	    0);
	assert_false(pl_isset(&r.qop));
	assert_int_equal(digest_ha1(ha1, sizeof(ha1), DIGEST_MD5, "Mufasa",
				    "testrealm@host.com", "CircleOfLife"),
			 0);
	assert_int_equal(digest_verify(&r, DIGEST_MD5, ha1, &get), 0);
}


/* draft-smith-sipping-auth-examples-01 3.3: a SIP INVITE, upper-case
 * header text and a response in upper-case hex */
static void test_sip_example(void **state)
{
	const struct pl invite = mkpl("INVITE");
	struct digest_resp r;
	char ha1[DIGEST_HEX_MAX];
	(void)state;

	assert_int_equal(
	    decode_str(&r, "DIGEST USERNAME=\"bob\", Realm=\"biloxi.com\", "
			   "NONCE=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
			   "uri=\"sip:bob@biloxi.com\", qop=auth, "
			   "nc=00000001, cnonce=\"0a4f113b\", "
			   "algorithm=\"md5\", "
			   "response=\"89EB0059246C02B2F6EE02C7961D5EA3\""),
	    0);
	assert_pl(&r.username, "bob");
	assert_pl(&r.algorithm, "md5");
	assert_int_equal(digest_ha1(ha1, sizeof(ha1), DIGEST_MD5, "bob",
				    "biloxi.com", "zanzibar"),
			 0);
	assert_string_equal(ha1, "12af60467a33e8518da5c68bbff12b11");
	assert_int_equal(digest_verify(&r, DIGEST_MD5, ha1, &invite), 0);
}


static void test_qop(void **state)
{
	const struct pl get = mkpl("GET");
	char ha1[DIGEST_HEX_MAX];
	char hex[DIGEST_HEX_MAX];
	struct digest_resp r;
	(void)state;

	assert_int_equal(digest_ha1(ha1, sizeof(ha1), DIGEST_MD5, "u", "r",
				    "p"),
			 0);

	assert_int_equal(decode_str(&r, "Digest username=u, realm=r, "
					"nonce=n, uri=x, response=00, "
					"qop=auth-int, nc=00000001, cnonce=c"),
			 0);
	assert_int_equal(digest_response(hex, sizeof(hex), DIGEST_MD5, ha1,
					 &get, &r),
			 ENOTSUP);
	assert_int_equal(digest_verify(&r, DIGEST_MD5, ha1, &get), ENOTSUP);

	assert_int_equal(decode_str(&r, "Digest username=u, realm=r, "
					"nonce=n, uri=x, response=00, "
					"qop=bogus, nc=00000001, cnonce=c"),
			 0);
	assert_int_equal(digest_response(hex, sizeof(hex), DIGEST_MD5, ha1,
					 &get, &r),
			 EBADMSG);

	/* qop=auth needs nc and cnonce */
	assert_int_equal(decode_str(&r, "Digest username=u, realm=r, "
					"nonce=n, uri=x, response=00, "
					"qop=auth, cnonce=c"),
			 0);
	assert_int_equal(digest_response(hex, sizeof(hex), DIGEST_MD5, ha1,
					 &get, &r),
			 EBADMSG);

	assert_int_equal(decode_str(&r, "Digest username=u, realm=r, "
					"nonce=n, uri=x, response=00, "
					"qop=auth, nc=00000001"),
			 0);
	assert_int_equal(digest_response(hex, sizeof(hex), DIGEST_MD5, ha1,
					 &get, &r),
			 EBADMSG);

	/* a truncated response or one of the wrong length fails */
	assert_int_equal(decode_str(&r, "Digest username=u, realm=r, "
					"nonce=n, uri=x, response=00"),
			 0);
	assert_int_equal(digest_verify(&r, DIGEST_MD5, ha1, &get), EACCES);

	/* output buffer too small for the response */
	assert_int_equal(digest_response(hex, 32, DIGEST_MD5, ha1, &get, &r),
			 EOVERFLOW);
	assert_int_equal(digest_response(NULL, sizeof(hex), DIGEST_MD5, ha1,
					 &get, &r),
			 EINVAL);
	assert_int_equal(digest_response(hex, sizeof(hex), DIGEST_MD5, "abc",
					 &get, &r),
			 EINVAL);
}


static void test_decode_syntax(void **state)
{
	struct digest_resp r;
	(void)state;

	/* whitespace around '=' and ',', tabs, empty list elements,
	 * unknown parameters, leading blanks */
	assert_int_equal(
	    decode_str(&r, "  digest\tusername = \"1001\" ,realm=\t\"relais\""
			   " , , nonce=abc ,uri=\"sip:relais\",foo=\"x,y\","
			   "response=\"0123\",bar=baz,  "),
	    0);
	assert_pl(&r.username, "1001");
	assert_pl(&r.realm, "relais");
	assert_pl(&r.nonce, "abc");
	assert_pl(&r.uri, "sip:relais");
	assert_pl(&r.response, "0123");

	/* escapes stay in the value; a quoted comma is not a separator */
	assert_int_equal(decode_str(&r, "Digest username=\"a\\\"b,c\\\\\", "
					"realm=\"r\", nonce=\"n\", uri=\"u\", "
					"response=\"00\""),
			 0);
	assert_pl(&r.username, "a\\\"b,c\\\\");
	assert_pl(&r.realm, "r");

	/* an empty quoted optional value is present but empty */
	assert_int_equal(decode_str(&r, "Digest username=u, realm=r, "
					"nonce=n, uri=x, response=00, "
					"opaque=\"\""),
			 0);
	assert_non_null(r.opaque.p);
	assert_int_equal(r.opaque.l, 0);

	/* an unquoted URI, as some phones send it */
	assert_int_equal(decode_str(&r, "Digest username=u, realm=r, "
					"nonce=n, uri=sip:1001@10.0.0.1;x=y, "
					"response=00"),
			 0);
	assert_pl(&r.uri, "sip:1001@10.0.0.1;x=y");
}


static void test_decode_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"Digest",
		"Digest ",
		"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
		"Digestusername=u",
		"DigestX username=u, realm=r, nonce=n, uri=x, response=00",
		/* missing mandatory parameters */
		"Digest realm=r, nonce=n, uri=x, response=00",
		"Digest username=u, nonce=n, uri=x, response=00",
		"Digest username=u, realm=r, uri=x, response=00",
		"Digest username=u, realm=r, nonce=n, response=00",
		"Digest username=u, realm=r, nonce=n, uri=x",
		"Digest username=\"\", realm=r, nonce=n, uri=x, response=00",
		"Digest username=u, realm=r, nonce=n, uri=x, response=\"\"",
		/* duplicates, also in another case */
		"Digest username=u, username=v, realm=r, nonce=n, uri=x, "
		"response=00",
		"Digest username=u, realm=r, nonce=n, uri=x, response=00, "
		"Realm=q",
		"Digest username=u, realm=r, nonce=n, uri=x, response=00, "
		"nc=1, nc=2",
		/* broken syntax */
		"Digest username=\"u, realm=r, nonce=n, uri=x, response=00",
		"Digest username=\"u\\\", realm=r, nonce=n, uri=x, "
		"response=00",
		"Digest username=u realm=r, nonce=n, uri=x, response=00",
		"Digest username=u, realm=r, nonce=n, uri=x, response=00, x",
		"Digest username=u, realm=r, nonce=n, uri=x, response=00, x=",
		"Digest username=u, realm=r, nonce=n, uri=x, response=00, =x",
		"Digest username=u, realm=r, nonce=n, uri=x, response=00 junk",
		"Digest username=u, realm=r, nonce=n, uri=x, response=\"00\"x",
		"Digest username=u, realm=r, nonce=n, uri=\"x\"\"y\", "
		"response=00",
		"Digest user\001name=u, realm=r, nonce=n, uri=x, response=00",
	};
	static const char nul[] =
	    "Digest username=u\0, realm=r, nonce=n, uri=x, response=00";
	struct digest_resp r;
	struct pl pl;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int err = decode_str(&r, bad[i]);

		if (err != EBADMSG)
			fail_msg("'%s': expected EBADMSG, got %d", bad[i],
				 err);
	}

	/* the scheme is returned even when it is not Digest */
	assert_int_equal(decode_str(&r, "Basic QWxhZGRpbg=="), EBADMSG);
	assert_pl(&r.scheme, "Basic");

	assert_int_equal(digest_resp_decode(NULL, &pl_null), EINVAL);
	assert_int_equal(digest_resp_decode(&r, NULL), EINVAL);
	assert_int_equal(digest_resp_decode(&r, &pl_null), EBADMSG);

	/* NUL bytes inside the value are not taken as its end */
	pl.p = nul;
	pl.l = sizeof(nul) - 1;
	assert_int_equal(digest_resp_decode(&r, &pl), EBADMSG);
}


/* The parser stops at hval's length even if the text goes on: every
 * prefix of a valid value is either rejected or parsed inside itself. */
static void test_decode_bounds(void **state)
{
	static const char full[] =
	    "Digest username=\"1001\", realm=\"relais\", "
	    "nonce=\"0123456789abcdef\", uri=\"sip:relais\", "
	    "response=\"00112233445566778899aabbccddeeff\", "
	    "algorithm=MD5, qop=auth, nc=00000001, cnonce=\"xyz\"";
	const size_t n = strlen(full);
	(void)state;

	for (size_t len = 0; len <= n; len++) {
		struct digest_resp r;
		struct pl pl;
		char *copy;
		int err;

		/* a heap copy of exactly len bytes: ASan sees any overread */
		copy = mem_alloc(len ? len : 1, NULL);
		assert_non_null(copy);
		memcpy(copy, full, len);
		pl.p = copy;
		pl.l = len;

		err = digest_resp_decode(&r, &pl);
		if (len == n)
			assert_int_equal(err, 0);

		if (!err) {
			assert_true(r.response.p + r.response.l <= copy + len);
			assert_true(r.cnonce.p + r.cnonce.l <= copy + len);
		}

		mem_deref(copy);
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_parse),
		cmocka_unit_test(test_ha1),
		cmocka_unit_test(test_rfc2617),
		cmocka_unit_test(test_rfc7616),
		cmocka_unit_test(test_rfc2069),
		cmocka_unit_test(test_sip_example),
		cmocka_unit_test(test_qop),
		cmocka_unit_test(test_decode_syntax),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_decode_bounds),
	};

	log_setup(LOG_LVL_ERROR, LOG_TARGET_STDERR);

	return cmocka_run_group_tests(tests, NULL, NULL);
}

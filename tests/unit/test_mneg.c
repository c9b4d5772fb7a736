/**
 * @file test_mneg.c  Offer/answer between two legs: golden SDP pairs in
 *                    tests/data/mneg, SRTP, codec choice and transcoding,
 *                    T.38, hold, local answers, malformed input
 *
 * The relay is 203.0.113.10, RTP port 30000 toward side A (the phone) and
 * 40000 toward side B (the trunk). Generated SDP is compared after the
 * random parts are masked: the o= session id reads SESS, an a=crypto key
 * reads KEY.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"

enum {
	PORT_A = 30000,
	PORT_B = 40000,
	FILE_MAX = 32768,
	KEY_LEN = MEDIA_SRTP_KEY_LEN,
};

#define LADDR	     "203.0.113.10"
#define PHONE_CODECS "PCMA,PCMU,G722,telephone-event"
#define TRUNK_CODECS "G722,PCMA,G729,telephone-event"

/* base64 of bytes 0..29, 100..129 and 200..229 */
#define KEY0 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"
#define KEY1 "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CB"
#define KEY2 "yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl"

#define HEAD(ip)                                                              \
	"v=0\r\no=- 1 1 IN IP4 " ip "\r\ns=-\r\nc=IN IP4 " ip "\r\nt=0 0\r\n"


/* ---- helpers ---------------------------------------------------------- */

static struct mneg *neg_new(const char *ca, enum mneg_srtp sa, bool ta,
			    const char *cb, enum mneg_srtp sb, bool tb)
{
	struct mneg_policy pa = { ca, sa, ta }, pb = { cb, sb, tb };
	struct mneg *m = NULL;
	struct sa laddr;

	assert_int_equal(0, sa_set_str(&laddr, LADDR, 0));
	assert_int_equal(0, mneg_alloc(&m, &laddr, PORT_A, PORT_B, &pa, &pb));
	assert_non_null(m);

	return m;
}


/* The text in a buffer of exactly its size: no NUL for the parser */
static struct pl *pl_of(const char *s, size_t len)
{
	struct pl *pl;
	char *buf;

	pl = mem_zalloc(sizeof(*pl) + (len ? len : 1), NULL);
	assert_non_null(pl);
	buf = (char *)(pl + 1);
	memcpy(buf, s, len);
	pl->p = buf;
	pl->l = len;

	return pl;
}


static char *file_load(const char *name)
{
	char path[512];
	char *buf;
	size_t n;
	FILE *f;

	(void)re_snprintf(path, sizeof(path), "%s/mneg/%s", TEST_DATA_DIR,
			  name);
	f = fopen(path, "rb");
	if (!f) {
		(void)re_fprintf(stderr, "cannot open %s\n", path);
		fail();
	}

	buf = mem_zalloc(FILE_MAX + 1, NULL);
	assert_non_null(buf);
	n = fread(buf, 1, FILE_MAX, f);
	fclose(f);
	buf[n] = '\0';

	return buf;
}


typedef int(neg_h)(struct mneg *m, enum media_side side, const struct pl *sdp,
		   struct mbuf **out);

/* Run an offer or answer on a string; *outp gets the SDP as a string */
static int neg_run(neg_h *h, struct mneg *m, enum media_side side,
		   const char *sdp, char **outp)
{
	struct pl *in = pl_of(sdp, strlen(sdp));
	struct mbuf *mb = NULL;
	int err;

	err = h(m, side, in, &mb);
	mem_deref(in);

	if (outp) {
		*outp = NULL;
		if (mb) {
			assert_int_equal(0, mb->pos);
			assert_int_equal(0, mbuf_strdup(mb, outp, mb->end));
		}
	}

	mem_deref(mb);

	return err;
}


static char *neg_ok(neg_h *h, struct mneg *m, enum media_side side,
		    const char *sdp)
{
	char *out = NULL;

	assert_int_equal(0, neg_run(h, m, side, sdp, &out));
	assert_non_null(out);

	return out;
}


static char *local_ok(struct mneg *m, enum media_side side)
{
	struct mbuf *mb = NULL;
	char *out = NULL;

	assert_int_equal(0, mneg_local_answer(m, side, &mb));
	assert_non_null(mb);
	assert_int_equal(0, mbuf_strdup(mb, &out, mb->end));
	mem_deref(mb);

	return out;
}


/* SDP with the o= session id and crypto keys masked */
static char *masked(const char *sdp)
{
	struct mbuf *mb = mbuf_alloc(strlen(sdp) + 1);
	struct pl rest;
	char *out = NULL;

	assert_non_null(mb);
	pl_set_str(&rest, sdp);

	while (rest.l) {
		struct pl ln = rest;
		const char *nl = pl_strchr(&rest, '\n');
		const char *key;

		if (nl)
			ln.l = (size_t)(nl - rest.p) + 1;
		pl_advance(&rest, (ssize_t)ln.l);

		key = strstr(ln.p, "inline:");
		if (!strncmp(ln.p, "o=relais ", 9)) {
			const char *sp = memchr(ln.p + 9, ' ', ln.l - 9);

			assert_non_null(sp);
			assert_int_equal(0,
					 mbuf_printf(mb, "o=relais SESS%b", sp,
						     ln.l -
							 (size_t)(sp - ln.p)));
		}
		else if (!strncmp(ln.p, "a=crypto:", 9) && key &&
			 key < ln.p + ln.l) {
			const size_t head = (size_t)(key - ln.p) + 7;

			assert_true(ln.l >= head + 40);
			assert_int_equal(0, mbuf_printf(mb, "%bKEY%b", ln.p,
							head, ln.p + head + 40,
							ln.l - head - 40));
		}
		else {
			assert_int_equal(0, mbuf_write_pl(mb, &ln));
		}
	}

	mb->pos = 0;
	assert_int_equal(0, mbuf_strdup(mb, &out, mb->end));
	mem_deref(mb);

	return out;
}


static void check_golden(const char *got, const char *file)
{
	char *want = file_load(file);
	char *norm = masked(got);

	if (strcmp(norm, want)) {
		(void)re_fprintf(stderr, "%s differs, got:\n%s---\n", file,
				 norm);
		fail();
	}

	mem_deref(norm);
	mem_deref(want);
}


static void check_has(const char *sdp, const char *line)
{
	if (!strstr(sdp, line)) {
		(void)re_fprintf(stderr, "missing '%s' in:\n%s---\n", line,
				 sdp);
		fail();
	}
}


static void check_not(const char *sdp, const char *text)
{
	if (strstr(sdp, text)) {
		(void)re_fprintf(stderr, "unexpected '%s' in:\n%s---\n", text,
				 sdp);
		fail();
	}
}


/* The key of the SDP's first a=crypto line */
static void key_of(const char *sdp, uint8_t *key)
{
	const char *p = strstr(sdp, "inline:");
	size_t len = KEY_LEN;

	assert_non_null(p);
	assert_int_equal(0, base64_decode(p + 7, 40, key, &len));
	assert_int_equal(KEY_LEN, len);
}


static void key_seq(uint8_t *key, uint8_t first)
{
	for (int i = 0; i < KEY_LEN; i++)
		key[i] = (uint8_t)(first + i);
}


static void check_peer(const struct mneg *m, enum media_side side,
		       const char *ip, uint16_t port, uint16_t rtcp_port)
{
	struct sa rtp, rtcp, want;

	assert_int_equal(0, mneg_peer(m, side, &rtp, &rtcp));
	assert_int_equal(0, sa_set_str(&want, ip, port));
	assert_true(sa_cmp(&rtp, &want, SA_ALL));

	if (!rtcp_port) {
		assert_false(sa_isset(&rtcp, SA_ALL));
		return;
	}

	sa_set_port(&want, rtcp_port);
	assert_true(sa_cmp(&rtcp, &want, SA_ALL));
}


static void legs_get(const struct mneg *m, struct media_leg *a,
		     struct media_leg *b)
{
	assert_int_equal(0, mneg_legs(m, a, b));
}


/* Scenario 1: phone A (PCMA) calls trunk B, which picks G722 */
static struct mneg *call_transcoded(void)
{
	struct mneg *m = neg_new(PHONE_CODECS, MNEG_SRTP_ALLOWED, false,
				 TRUNK_CODECS, MNEG_SRTP_ALLOWED, true);
	char *in, *out;

	in = file_load("phone_pcma.in");
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A, in);
	check_golden(out, "phone_pcma.out");
	mem_deref(out);
	mem_deref(in);

	in = file_load("trunk_g722.in");
	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B, in);
	check_golden(out, "trunk_g722.out");
	mem_deref(out);
	mem_deref(in);

	return m;
}


/* ---- tests ------------------------------------------------------------ */

static void test_transcode(void **state)
{
	struct media_leg a, b;
	struct mneg *m;
	char *in, *out;
	(void)state;

	m = call_transcoded();

	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_CODEC_PCMA, a.codec);
	assert_int_equal(8, a.pt);
	assert_int_equal(101, a.dtmf_pt);
	assert_false(a.srtp);
	assert_int_equal(MEDIA_CODEC_G722, b.codec);
	assert_int_equal(9, b.pt);
	assert_int_equal(101, b.dtmf_pt);
	assert_false(b.srtp);

	check_peer(m, MEDIA_SIDE_A, "192.168.1.20", 10000, 10001);
	check_peer(m, MEDIA_SIDE_B, "198.51.100.7", 16000, 16001);
	assert_int_equal(SDPRW_DIR_SENDRECV, mneg_offer_dir(m, MEDIA_SIDE_A));

	/* every SDP toward a side has the next version */
	in = file_load("phone_pcma.in");
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A, in);
	check_has(out, " 2 IN IP4 203.0.113.10\r\n");
	mem_deref(out);
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A, in);
	check_has(out, " 3 IN IP4 203.0.113.10\r\n");
	mem_deref(out);
	mem_deref(in);

	in = file_load("trunk_g722.in");
	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B, in);
	check_has(out, " 2 IN IP4 203.0.113.10\r\n");
	mem_deref(out);
	mem_deref(in);

	mem_deref(m);
}


/* Same codec on both legs: a plain relay */
static void test_pass_through(void **state)
{
	struct mneg *m = neg_new(PHONE_CODECS, MNEG_SRTP_ALLOWED, false,
				 TRUNK_CODECS, MNEG_SRTP_ALLOWED, false);
	struct media_leg a, b;
	char *out;
	(void)state;

	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 0 8 96\r\n"
				       "a=rtpmap:96 telephone-event/8000\r\n");
	/* trunk order; telephone-event keeps the phone's PT */
	check_has(out, "m=audio 40000 RTP/AVP 9 8 18 96\r\n");
	check_has(out, "a=rtpmap:96 telephone-event/8000\r\n");
	check_has(out, "a=fmtp:96 0-15\r\n");
	mem_deref(out);

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("192.0.2.9") "m=audio 6000 RTP/AVP 8\r\n");
	check_has(out, "m=audio 30000 RTP/AVP 8\r\n");
	check_not(out, "telephone-event");
	mem_deref(out);

	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_CODEC_NONE, a.codec);
	assert_int_equal(MEDIA_CODEC_NONE, b.codec);
	assert_int_equal(8, a.pt);
	assert_int_equal(8, b.pt);
	assert_int_equal(0, a.dtmf_pt);
	assert_int_equal(0, b.dtmf_pt);

	mem_deref(m);
}


/* The trunk picks G729, the phone offered PCMU then PCMA: PCMA wins */
static void test_transcode_prefers_g711(void **state)
{
	struct mneg *m = neg_new("G722,PCMU,PCMA", MNEG_SRTP_ALLOWED, false,
				 "opus, G729 ,", MNEG_SRTP_ALLOWED, false);
	struct media_leg a, b;
	char *out;
	(void)state;

	out =
	    neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		   HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 9 0 8 101\r\n"
				     "a=rtpmap:101 telephone-event/8000\r\n");
	check_has(out, "m=audio 40000 RTP/AVP 18\r\n");
	check_has(out, "a=fmtp:18 annexb=no\r\n");
	check_not(out, "telephone-event");
	mem_deref(out);

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("192.0.2.9") "m=audio 6000 RTP/AVP 18\r\n");
	check_has(out, "m=audio 30000 RTP/AVP 8\r\n");
	mem_deref(out);

	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_CODEC_PCMA, a.codec);
	assert_int_equal(MEDIA_CODEC_G729, b.codec);
	assert_int_equal(18, b.pt);

	mem_deref(m);
}


/* SRTP enforced toward the trunk, video rejected, media-level c= */
static void test_srtp_enforced(void **state)
{
	struct mneg *m =
	    neg_new(PHONE_CODECS, MNEG_SRTP_ALLOWED, false,
		    "PCMA,telephone-event", MNEG_SRTP_ENFORCED, false);
	uint8_t offered[KEY_LEN], want[KEY_LEN];
	struct media_leg a, b;
	char *in, *out;
	(void)state;

	in = file_load("phone_video.in");
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A, in);
	check_golden(out, "phone_video.out");
	key_of(out, offered);
	mem_deref(out);
	mem_deref(in);

	in = file_load("trunk_srtp.in");
	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B, in);
	check_golden(out, "trunk_srtp.out");
	mem_deref(out);
	mem_deref(in);

	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_CODEC_NONE, a.codec);
	assert_int_equal(MEDIA_CODEC_NONE, b.codec);
	assert_int_equal(8, a.pt);
	assert_int_equal(101, a.dtmf_pt);
	assert_int_equal(101, b.dtmf_pt);
	assert_false(a.srtp);
	assert_true(b.srtp);
	assert_int_equal(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, b.suite);
	key_seq(want, 0);
	assert_memory_equal(want, b.key_rx, KEY_LEN);
	assert_memory_equal(offered, b.key_tx, KEY_LEN);

	check_peer(m, MEDIA_SIDE_A, "192.168.1.32", 7078, 7079);
	check_peer(m, MEDIA_SIDE_B, "198.51.100.7", 16000, 16001);

	/* a re-offer toward the trunk carries a fresh key */
	in = file_load("phone_video.in");
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A, in);
	key_of(out, want);
	assert_memory_not_equal(offered, want, KEY_LEN);
	mem_deref(out);
	mem_deref(in);

	/* the trunk answers without crypto, or in clear */
	assert_int_equal(
	    EPROTO, neg_run(mneg_answer, m, MEDIA_SIDE_B,
			    HEAD("198.51.100.7") "m=audio 16000 RTP/SAVP 8\r\n"
						 "m=video 0 RTP/AVP 96\r\n",
			    NULL));
	assert_int_equal(
	    EPROTO, neg_run(mneg_answer, m, MEDIA_SIDE_B,
			    HEAD("198.51.100.7") "m=audio 16000 RTP/AVP 8\r\n"
						 "m=video 0 RTP/AVP 96\r\n",
			    NULL));
	/* the wrong tag */
	assert_int_equal(
	    EPROTO,
	    neg_run(mneg_answer, m, MEDIA_SIDE_B,
		    HEAD("198.51.100.7") "m=audio 16000 RTP/SAVP 8\r\n"
					 "a=crypto:2 AES_CM_128_HMAC_SHA1_80 "
					 "inline:" KEY0 "\r\n"
					 "m=video 0 RTP/AVP 96\r\n",
		    NULL));

	mem_deref(m);
}


/* An SRTP phone toward a clear trunk: tag echoed, _80 preferred */
static void test_srtp_from_phone(void **state)
{
	struct mneg *m = neg_new(PHONE_CODECS, MNEG_SRTP_ALLOWED, false,
				 TRUNK_CODECS, MNEG_SRTP_DISABLED, false);
	uint8_t answered[KEY_LEN], want[KEY_LEN];
	struct media_leg a, b;
	char *out;
	(void)state;

	out = neg_ok(
	    mneg_offer, m, MEDIA_SIDE_A,
	    HEAD("192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
			      "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" KEY0
			      "\r\n"
			      "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" KEY1
			      "|2^20|1:4;inline:" KEY2 "\r\n"
			      "a=crypto:3 F8_128_HMAC_SHA1_80 inline:bogus\r\n"
			      "a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:" KEY2
			      " UNENCRYPTED_SRTCP\r\n");
	check_has(out, "m=audio 40000 RTP/AVP 9 8 18 101\r\n");
	check_not(out, "crypto");
	mem_deref(out);

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("192.0.2.9") "m=audio 6000 RTP/AVP 8\r\n");
	check_has(out, "m=audio 30000 RTP/SAVP 8\r\n");
	check_has(out, "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:");
	key_of(out, answered);
	mem_deref(out);

	legs_get(m, &a, &b);
	assert_true(a.srtp);
	assert_false(b.srtp);
	assert_int_equal(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, a.suite);
	key_seq(want, 100);
	assert_memory_equal(want, a.key_rx, KEY_LEN);
	assert_memory_equal(answered, a.key_tx, KEY_LEN);

	/* only _32 offered: _32 answered */
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     HEAD("192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
				       "a=crypto:7 AES_CM_128_HMAC_SHA1_32 "
				       "inline:" KEY0 "\r\n");
	mem_deref(out);
	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("192.0.2.9") "m=audio 6000 RTP/AVP 8\r\n");
	check_has(out, "a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:");
	mem_deref(out);
	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32, a.suite);
	key_seq(want, 0);
	assert_memory_equal(want, a.key_rx, KEY_LEN);

	mem_deref(m);
}


static void test_srtp_refused(void **state)
{
	struct mneg *m;
	(void)state;

	/* SAVP where SRTP is disabled */
	m = neg_new(PHONE_CODECS, MNEG_SRTP_DISABLED, false, TRUNK_CODECS,
		    MNEG_SRTP_ALLOWED, false);
	assert_int_equal(
	    EPERM,
	    neg_run(mneg_offer, m, MEDIA_SIDE_A,
		    HEAD("192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
				      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
				      "inline:" KEY0 "\r\n",
		    NULL));
	mem_deref(m);

	/* AVP where SRTP is enforced */
	m = neg_new(PHONE_CODECS, MNEG_SRTP_ALLOWED, false, TRUNK_CODECS,
		    MNEG_SRTP_ENFORCED, false);
	assert_int_equal(EPERM,
			 neg_run(mneg_offer, m, MEDIA_SIDE_B,
				 HEAD(
				     "192.0.2.9") "m=audio 6000 RTP/AVP 8\r\n",
				 NULL));

	/* SAVP with no suite we know */
	assert_int_equal(
	    EPROTO, neg_run(mneg_offer, m, MEDIA_SIDE_B,
			    HEAD("192.0.2.9") "m=audio 6000 RTP/SAVP 8\r\n"
					      "a=crypto:1 AEAD_AES_256_GCM "
					      "inline:xyz\r\n",
			    NULL));
	assert_int_equal(EINVAL, mneg_legs(m, NULL, NULL));
	mem_deref(m);
}


static void test_no_codec(void **state)
{
	struct mneg *m =
	    neg_new("PCMA,telephone-event", MNEG_SRTP_ALLOWED, false,
		    TRUNK_CODECS, MNEG_SRTP_ALLOWED, false);
	struct media_leg a, b;
	char *out;
	(void)state;

	/* codecs the relay does not know */
	assert_int_equal(
	    EPROTO,
	    neg_run(mneg_offer, m, MEDIA_SIDE_A,
		    HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 3 96 101\r\n"
				      "a=rtpmap:96 opus/48000/2\r\n"
				      "a=rtpmap:101 telephone-event/8000\r\n",
		    NULL));
	/* PCMU where side A only accepts PCMA */
	assert_int_equal(EPROTO,
			 neg_run(mneg_offer, m, MEDIA_SIDE_A,
				 HEAD(
				     "192.0.2.5") "m=audio 5004 RTP/AVP 0\r\n",
				 NULL));
	/* an rtpmap that renames a static PT wins */
	assert_int_equal(EPROTO,
			 neg_run(mneg_offer, m, MEDIA_SIDE_A,
				 HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 8\r\n"
						   "a=rtpmap:8 L16/8000\r\n",
				 NULL));
	/* no audio at all, or on a profile we do not do */
	assert_int_equal(
	    EPROTO,
	    neg_run(mneg_offer, m, MEDIA_SIDE_A,
		    HEAD("192.0.2.5") "m=audio 5004 UDP/TLS/RTP/SAVPF 8\r\n"
				      "m=video 5006 RTP/AVP 96\r\n",
		    NULL));
	assert_int_equal(EPROTO,
			 neg_run(mneg_offer, m, MEDIA_SIDE_A,
				 HEAD("192.0.2.5") "m=audio 0 RTP/AVP 8\r\n",
				 NULL));
	/* no answer yet */
	assert_int_equal(EINVAL,
			 neg_run(mneg_answer, m, MEDIA_SIDE_B,
				 HEAD(
				     "192.0.2.9") "m=audio 6000 RTP/AVP 8\r\n",
				 NULL));
	assert_int_equal(ENOENT, mneg_legs(m, &a, &b));

	/* still usable after the failures */
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 8\r\n");
	mem_deref(out);

	/* an answer from the offerer itself, a codec we did not offer, a
	 * rejected stream, a missing m= line */
	assert_int_equal(EINVAL,
			 neg_run(mneg_answer, m, MEDIA_SIDE_A,
				 HEAD(
				     "192.0.2.5") "m=audio 5004 RTP/AVP 8\r\n",
				 NULL));
	assert_int_equal(EPROTO,
			 neg_run(mneg_answer, m, MEDIA_SIDE_B,
				 HEAD(
				     "192.0.2.9") "m=audio 6000 RTP/AVP 0\r\n",
				 NULL));
	assert_int_equal(EPROTO,
			 neg_run(mneg_answer, m, MEDIA_SIDE_B,
				 HEAD("192.0.2.9") "m=audio 0 RTP/AVP 8\r\n",
				 NULL));
	assert_int_equal(EPROTO, neg_run(mneg_answer, m, MEDIA_SIDE_B,
					 HEAD("192.0.2.9"), NULL));

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("192.0.2.9") "m=audio 6000 RTP/AVP 18 8\r\n");
	check_has(out, "m=audio 30000 RTP/AVP 8\r\n");
	mem_deref(out);
	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_CODEC_PCMA, a.codec);
	assert_int_equal(MEDIA_CODEC_G729, b.codec);

	mem_deref(m);
}


#define T38_OFFER                                                             \
	HEAD("198.51.100.7")                                                  \
	"m=image 16100 udptl t38\r\n"                                         \
	"a=T38FaxVersion:0\r\n"                                               \
	"a=T38MaxBitRate:14400\r\n"                                           \
	"a=T38FaxRateManagement:transferredTCF\r\n"                           \
	"a=T38FaxMaxDatagram:400\r\n"                                         \
	"a=T38FaxUdpEC:t38UDPRedundancy\r\n"                                  \
	"a=x-vendor:1\r\n"

#define T38_ANSWER                                                            \
	HEAD("192.168.1.20")                                                  \
	"m=image 10010 udptl t38\r\n"                                         \
	"a=T38FaxVersion:0\r\n"                                               \
	"a=T38MaxBitRate:9600\r\n"                                            \
	"a=T38FaxRateManagement:transferredTCF\r\n"

static void test_t38(void **state)
{
	struct media_leg a, b;
	struct mneg *m;
	char *in, *out;
	(void)state;

	m = call_transcoded();

	/* the trunk switches to fax; the phone allows no T.38 */
	assert_int_equal(EPROTO, neg_run(mneg_offer, m, MEDIA_SIDE_B,
					 T38_OFFER, NULL));
	mem_deref(m);

	m = neg_new(PHONE_CODECS, MNEG_SRTP_ALLOWED, true, TRUNK_CODECS,
		    MNEG_SRTP_ALLOWED, true);
	in = file_load("phone_pcma.in");
	mem_deref(neg_ok(mneg_offer, m, MEDIA_SIDE_A, in));
	mem_deref(in);
	in = file_load("trunk_g722.in");
	mem_deref(neg_ok(mneg_answer, m, MEDIA_SIDE_B, in));
	mem_deref(in);

	out = neg_ok(mneg_offer, m, MEDIA_SIDE_B, T38_OFFER);
	check_has(out, "c=IN IP4 203.0.113.10\r\n");
	check_has(out, "m=image 30000 udptl t38\r\n"
		       "a=T38FaxVersion:0\r\n"
		       "a=T38MaxBitRate:14400\r\n"
		       "a=T38FaxRateManagement:transferredTCF\r\n"
		       "a=T38FaxMaxDatagram:400\r\n"
		       "a=T38FaxUdpEC:t38UDPRedundancy\r\n");
	check_not(out, "x-vendor");
	check_not(out, "m=audio");
	check_has(out, " 2 IN IP4 ");
	mem_deref(out);

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_A, T38_ANSWER);
	check_has(out, "m=image 40000 udptl t38\r\n"
		       "a=T38FaxVersion:0\r\n"
		       "a=T38MaxBitRate:9600\r\n"
		       "a=T38FaxRateManagement:transferredTCF\r\n");
	mem_deref(out);

	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_CODEC_NONE, a.codec);
	assert_int_equal(MEDIA_CODEC_NONE, b.codec);
	assert_false(a.srtp);
	assert_false(b.srtp);
	check_peer(m, MEDIA_SIDE_A, "192.168.1.20", 10010, 0);
	check_peer(m, MEDIA_SIDE_B, "198.51.100.7", 16100, 0);

	/* back to audio: the codecs come back */
	in = file_load("trunk_g722.in");
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_B, in);
	check_has(out, "m=audio 30000 RTP/AVP 8 0 9 101\r\n");
	mem_deref(out);
	mem_deref(in);

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_A,
		     HEAD("192.168.1.20") "m=audio 10000 RTP/AVP 8 101\r\n"
					  "a=rtpmap:101 "
					  "telephone-event/8000\r\n");
	check_has(out, "m=audio 40000 RTP/AVP 9 101\r\n");
	mem_deref(out);

	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_CODEC_PCMA, a.codec);
	assert_int_equal(MEDIA_CODEC_G722, b.codec);
	check_peer(m, MEDIA_SIDE_A, "192.168.1.20", 10000, 10001);

	/* a fax offer with the audio line kept at port 0 */
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_B,
		     HEAD("198.51.100.7") "m=audio 0 RTP/AVP 9\r\n"
					  "m=image 16100 udptl t38\r\n");
	check_has(out, "m=audio 0 RTP/AVP 9\r\nm=image 30000 udptl t38\r\n");
	mem_deref(out);

	/* answered locally, then by the phone */
	out = local_ok(m, MEDIA_SIDE_B);
	check_has(out, "m=audio 0 RTP/AVP 9\r\nm=image 40000 udptl t38\r\n");
	mem_deref(out);

	assert_int_equal(
	    0, neg_run(mneg_answer, m, MEDIA_SIDE_A,
		       HEAD("192.168.1.20") "m=audio 0 RTP/AVP 9\r\n"
					    "m=image 10010 udptl t38\r\n",
		       &out));
	assert_null(out);
	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_CODEC_NONE, a.codec);
	assert_int_equal(MEDIA_CODEC_NONE, b.codec);

	mem_deref(m);
}


static void test_hold(void **state)
{
	struct media_leg a, b;
	struct mbuf *mb = NULL;
	struct mneg *m;
	char *out;
	(void)state;

	m = call_transcoded();

	/* the phone holds */
	out =
	    neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		   HEAD("192.168.1.20") "m=audio 10000 RTP/AVP 8 101\r\n"
					"a=rtpmap:101 telephone-event/8000\r\n"
					"a=sendonly\r\n");
	check_has(out, "a=sendonly\r\n");
	mem_deref(out);
	assert_int_equal(SDPRW_DIR_SENDONLY, mneg_offer_dir(m, MEDIA_SIDE_A));

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("198.51.100.7") "m=audio 16000 RTP/AVP 9\r\n"
					  "a=recvonly\r\n");
	check_has(out, "a=recvonly\r\n");
	mem_deref(out);

	/* an answer that ignores the hold gets the complement */
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     HEAD("192.168.1.20") "m=audio 10000 RTP/AVP 8\r\n"
					  "a=sendonly\r\n");
	mem_deref(out);
	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("198.51.100.7") "m=audio 16000 RTP/AVP 9\r\n");
	check_has(out, "a=recvonly\r\n");
	mem_deref(out);

	/* old-style hold: c=0.0.0.0 */
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     HEAD("0.0.0.0") "m=audio 10000 RTP/AVP 8\r\n");
	check_has(out, "a=inactive\r\n");
	check_has(out, "c=IN IP4 203.0.113.10\r\n");
	mem_deref(out);
	assert_int_equal(SDPRW_DIR_INACTIVE, mneg_offer_dir(m, MEDIA_SIDE_A));

	/* the trunk re-offers (hold) and is answered locally with the codec
	 * in use there, though it now lists PCMA first */
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_B,
		     HEAD("198.51.100.8") "m=audio 16002 RTP/AVP 8 9\r\n"
					  "a=sendonly\r\n");
	check_has(out, "m=audio 30000 RTP/AVP 8 0 9 101\r\n");
	check_has(out, "a=sendonly\r\n");
	mem_deref(out);
	check_peer(m, MEDIA_SIDE_B, "198.51.100.8", 16002, 16003);

	out = local_ok(m, MEDIA_SIDE_B);
	check_has(out, "m=audio 40000 RTP/AVP 9\r\n");
	check_has(out, "a=recvonly\r\n");
	mem_deref(out);
	assert_int_equal(EINVAL, mneg_local_answer(m, MEDIA_SIDE_B, &mb));
	assert_null(mb);

	/* the phone's answer then fits its leg to G722: PCMA preferred */
	assert_int_equal(0, neg_run(mneg_answer, m, MEDIA_SIDE_A,
				    HEAD("192.168.1.20") "m=audio 10000 "
							 "RTP/AVP 0 8\r\n"
							 "a=recvonly\r\n",
				    &out));
	assert_null(out);

	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_CODEC_PCMA, a.codec);
	assert_int_equal(8, a.pt);
	assert_int_equal(MEDIA_CODEC_G722, b.codec);
	assert_int_equal(0, b.dtmf_pt);

	mem_deref(m);
}


/* A local answer before any call state: the offer's first codec */
static void test_local_answer_first(void **state)
{
	struct mneg *m = neg_new(PHONE_CODECS, MNEG_SRTP_ALLOWED, false,
				 TRUNK_CODECS, MNEG_SRTP_ALLOWED, false);
	struct media_leg a, b;
	struct mbuf *mb = NULL;
	char *out;
	(void)state;

	assert_int_equal(EINVAL, mneg_local_answer(m, MEDIA_SIDE_A, &mb));

	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 18 0 8 101\r\n"
				       "a=rtpmap:101 telephone-event/8000\r\n"
				       "a=recvonly\r\n");
	mem_deref(out);

	assert_int_equal(EINVAL, mneg_local_answer(m, MEDIA_SIDE_B, &mb));
	out = local_ok(m, MEDIA_SIDE_A);
	check_has(out, "m=audio 30000 RTP/AVP 0 101\r\n");
	check_has(out, "a=sendonly\r\n");
	mem_deref(out);
	assert_int_equal(ENOENT, mneg_legs(m, &a, &b));

	assert_int_equal(
	    0,
	    neg_run(mneg_answer, m, MEDIA_SIDE_B,
		    HEAD("192.0.2.9") "m=audio 6000 RTP/AVP 8 101\r\n"
				      "a=rtpmap:101 telephone-event/8000\r\n",
		    &out));
	assert_null(out);

	legs_get(m, &a, &b);
	assert_int_equal(MEDIA_CODEC_PCMU, a.codec);
	assert_int_equal(101, a.dtmf_pt);
	assert_int_equal(MEDIA_CODEC_PCMA, b.codec);
	assert_int_equal(101, b.dtmf_pt);

	mem_deref(m);
}


static void test_ipv6(void **state)
{
	struct mneg_policy p = { NULL, MNEG_SRTP_ALLOWED, false };
	struct mneg *m = NULL;
	struct sa laddr;
	char *out;
	(void)state;

	assert_int_equal(0, sa_set_str(&laddr, "2001:db8::10", 0));
	assert_int_equal(0, mneg_alloc(&m, &laddr, PORT_A, PORT_B, &p, &p));

	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     "v=0\r\no=- 1 1 IN IP6 2001:db8::5\r\ns=-\r\n"
		     "c=IN IP6 2001:db8::5\r\nt=0 0\r\n"
		     "m=audio 5004 RTP/AVP 9\r\n");
	check_has(out, " 1 IN IP6 2001:db8::10\r\ns=-\r\n");
	check_has(out, "c=IN IP6 2001:db8::10\r\n");
	/* the default policy: PCMA, PCMU, G722, G729, telephone-event */
	check_has(out, "m=audio 40000 RTP/AVP 8 0 9 18 101\r\n");
	mem_deref(out);

	/* an IPv4 peer cannot be reached from an IPv6 relay */
	assert_int_equal(EPROTO,
			 neg_run(mneg_offer, m, MEDIA_SIDE_A,
				 HEAD(
				     "192.0.2.5") "m=audio 5004 RTP/AVP 8\r\n",
				 NULL));

	mem_deref(m);
}


static void test_args(void **state)
{
	struct mneg_policy p = { "PCMA", MNEG_SRTP_ALLOWED, false };
	struct mneg_policy bad = { "PCMA", 7, false };
	struct media_leg a, b;
	struct mneg *m = NULL;
	struct mbuf *mb = NULL;
	struct sa laddr, unset, rtp;
	struct pl pl = PL("v=0\r\n");
	(void)state;

	assert_int_equal(0, sa_set_str(&laddr, LADDR, 0));
	sa_init(&unset, AF_INET);

	assert_int_equal(EINVAL, mneg_alloc(NULL, &laddr, 1, 2, &p, &p));
	assert_int_equal(EINVAL, mneg_alloc(&m, &unset, 1, 2, &p, &p));
	assert_int_equal(EINVAL, mneg_alloc(&m, &laddr, 0, 2, &p, &p));
	assert_int_equal(EINVAL, mneg_alloc(&m, &laddr, 1, 65535, &p, &p));
	assert_int_equal(EINVAL, mneg_alloc(&m, &laddr, 1, 2, NULL, &p));
	assert_int_equal(EINVAL, mneg_alloc(&m, &laddr, 1, 2, &p, &bad));
	assert_null(m);

	assert_int_equal(0, mneg_alloc(&m, &laddr, 1, 2, &p, &p));
	assert_int_equal(EINVAL, mneg_offer(NULL, MEDIA_SIDE_A, &pl, &mb));
	assert_int_equal(EINVAL, mneg_offer(m, 2, &pl, &mb));
	assert_int_equal(EINVAL, mneg_offer(m, MEDIA_SIDE_A, NULL, &mb));
	assert_int_equal(EINVAL, mneg_offer(m, MEDIA_SIDE_A, &pl, NULL));
	assert_int_equal(EINVAL, mneg_answer(m, MEDIA_SIDE_A, &pl, NULL));
	assert_int_equal(EINVAL, mneg_local_answer(m, 5, &mb));
	assert_int_equal(ENOENT, mneg_legs(m, &a, &b));
	assert_int_equal(ENOENT, mneg_peer(m, MEDIA_SIDE_A, &rtp, NULL));
	assert_int_equal(EINVAL, mneg_peer(m, 3, &rtp, NULL));
	assert_int_equal(SDPRW_DIR_SENDRECV, mneg_offer_dir(m, MEDIA_SIDE_B));
	assert_int_equal(SDPRW_DIR_SENDRECV, mneg_offer_dir(NULL, 0));
	assert_null(mb);

	mem_deref(m);
}


static void addr_set(struct mneg *m, enum media_side side, const char *ip)
{
	struct sa sa;

	assert_int_equal(0, sa_set_str(&sa, ip, 0));
	assert_int_equal(0, mneg_set_addr(m, side, &sa));
}


/* The SBC: public NAT address (IP1) toward A, private one (IP4) toward B */
static void test_addr_per_side(void **state)
{
	struct mneg *m = neg_new(PHONE_CODECS, MNEG_SRTP_ALLOWED, false,
				 TRUNK_CODECS, MNEG_SRTP_ALLOWED, false);
	char *out, *norm;
	(void)state;

	addr_set(m, MEDIA_SIDE_A, "198.51.100.1");
	addr_set(m, MEDIA_SIDE_B, "10.0.0.4");

	out =
	    neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		   HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 8 101\r\n"
				     "a=rtpmap:101 telephone-event/8000\r\n");
	norm = masked(out);
	assert_string_equal(norm, "v=0\r\n"
				  "o=relais SESS 1 IN IP4 10.0.0.4\r\n"
				  "s=-\r\n"
				  "c=IN IP4 10.0.0.4\r\n"
				  "t=0 0\r\n"
				  "m=audio 40000 RTP/AVP 9 8 18 101\r\n"
				  "a=rtpmap:9 G722/8000\r\n"
				  "a=rtpmap:8 PCMA/8000\r\n"
				  "a=rtpmap:18 G729/8000\r\n"
				  "a=fmtp:18 annexb=no\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n"
				  "a=fmtp:101 0-15\r\n"
				  "a=ptime:20\r\n"
				  "a=sendrecv\r\n"
				  "a=rtcp:40001\r\n");
	mem_deref(norm);
	mem_deref(out);

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("10.0.0.5") "m=audio 6000 RTP/AVP 8 101\r\n"
				      "a=rtpmap:101 telephone-event/8000\r\n");
	norm = masked(out);
	assert_string_equal(norm, "v=0\r\n"
				  "o=relais SESS 1 IN IP4 198.51.100.1\r\n"
				  "s=-\r\n"
				  "c=IN IP4 198.51.100.1\r\n"
				  "t=0 0\r\n"
				  "m=audio 30000 RTP/AVP 8 101\r\n"
				  "a=rtpmap:8 PCMA/8000\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n"
				  "a=fmtp:101 0-15\r\n"
				  "a=ptime:20\r\n"
				  "a=sendrecv\r\n"
				  "a=rtcp:30001\r\n");
	mem_deref(norm);
	mem_deref(out);
	check_peer(m, MEDIA_SIDE_B, "10.0.0.5", 6000, 6001);

	/* a re-INVITE from B: its offer toward A announces IP1 */
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_B,
		     HEAD("10.0.0.5") "m=audio 6000 RTP/AVP 8\r\n");
	check_has(out, " 2 IN IP4 198.51.100.1\r\n");
	check_has(out, "c=IN IP4 198.51.100.1\r\n");
	check_not(out, "10.0.0.");
	check_not(out, "203.0.113.10");
	mem_deref(out);

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_A,
		     HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 8\r\n");
	check_has(out, " 2 IN IP4 10.0.0.4\r\n");
	check_has(out, "c=IN IP4 10.0.0.4\r\n");
	check_not(out, "192.0.2.5");
	check_not(out, "198.51.100.1");
	mem_deref(out);

	mem_deref(m);
}


/* New RTP ports after mcall_rebind(): m= and a=rtcp of the next SDP */
static void test_port_change(void **state)
{
	struct mneg *m = neg_new(PHONE_CODECS, MNEG_SRTP_ALLOWED, false,
				 TRUNK_CODECS, MNEG_SRTP_ALLOWED, false);
	char *out;
	(void)state;

	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 8\r\n");
	check_has(out, "m=audio 40000 RTP/AVP");
	mem_deref(out);
	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("192.0.2.9") "m=audio 6000 RTP/AVP 8\r\n");
	check_has(out, "m=audio 30000 RTP/AVP 8\r\n");
	mem_deref(out);

	/* re-INVITE from A, the SBC changes both ports */
	assert_int_equal(0, mneg_set_port(m, MEDIA_SIDE_B, 40010));
	assert_int_equal(0, mneg_set_port(m, MEDIA_SIDE_A, 30020));

	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 8\r\n");
	check_has(out, "m=audio 40010 RTP/AVP 9 8 18 101\r\n");
	check_has(out, "a=rtcp:40011\r\n");
	check_not(out, "40000");
	check_not(out, "40001");
	mem_deref(out);

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("192.0.2.9") "m=audio 6000 RTP/AVP 8\r\n");
	check_has(out, "m=audio 30020 RTP/AVP 8\r\n");
	check_has(out, "a=rtcp:30021\r\n");
	check_not(out, "30000");
	mem_deref(out);

	/* a local answer uses it too */
	assert_int_equal(0, mneg_set_port(m, MEDIA_SIDE_B, 40100));
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_B,
		     HEAD("192.0.2.9") "m=audio 6000 RTP/AVP 8\r\n");
	check_has(out, "m=audio 30020 RTP/AVP");
	mem_deref(out);
	out = local_ok(m, MEDIA_SIDE_B);
	check_has(out, "m=audio 40100 RTP/AVP 8\r\n");
	check_has(out, "a=rtcp:40101\r\n");
	mem_deref(out);

	assert_int_equal(EINVAL, mneg_set_port(NULL, MEDIA_SIDE_A, 1000));
	assert_int_equal(EINVAL, mneg_set_port(m, 2, 1000));
	assert_int_equal(EINVAL, mneg_set_port(m, MEDIA_SIDE_A, 0));
	assert_int_equal(EINVAL, mneg_set_port(m, MEDIA_SIDE_A, 65535));

	mem_deref(m);
}


/* IPv6 toward A, IPv4 toward B: each side's SDP has its own family */
static void test_addr_mixed_family(void **state)
{
	struct mneg *m = neg_new(NULL, MNEG_SRTP_ALLOWED, false, NULL,
				 MNEG_SRTP_ALLOWED, false);
	struct sa sa, unset;
	char *out;
	(void)state;

	addr_set(m, MEDIA_SIDE_A, "2001:db8::1");
	addr_set(m, MEDIA_SIDE_B, "10.0.0.4");

	/* A must speak IPv6 now */
	assert_int_equal(EPROTO,
			 neg_run(mneg_offer, m, MEDIA_SIDE_A,
				 HEAD(
				     "192.0.2.5") "m=audio 5004 RTP/AVP 8\r\n",
				 NULL));

	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     "v=0\r\no=- 1 1 IN IP6 2001:db8::5\r\ns=-\r\n"
		     "c=IN IP6 2001:db8::5\r\nt=0 0\r\n"
		     "m=audio 5004 RTP/AVP 8\r\n");
	check_has(out, " 1 IN IP4 10.0.0.4\r\ns=-\r\n");
	check_has(out, "c=IN IP4 10.0.0.4\r\n");
	check_not(out, "IP6");
	mem_deref(out);

	/* B must answer in IPv4 */
	assert_int_equal(EPROTO,
			 neg_run(mneg_answer, m, MEDIA_SIDE_B,
				 "v=0\r\no=- 1 1 IN IP6 2001:db8::9\r\ns=-\r\n"
				 "c=IN IP6 2001:db8::9\r\nt=0 0\r\n"
				 "m=audio 6000 RTP/AVP 8\r\n",
				 NULL));

	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("10.0.0.9") "m=audio 6000 RTP/AVP 8\r\n");
	check_has(out, " 1 IN IP6 2001:db8::1\r\ns=-\r\n");
	check_has(out, "c=IN IP6 2001:db8::1\r\n");
	check_not(out, "IP4");
	mem_deref(out);
	check_peer(m, MEDIA_SIDE_A, "2001:db8::5", 5004, 5005);
	check_peer(m, MEDIA_SIDE_B, "10.0.0.9", 6000, 6001);

	/* bad arguments change nothing */
	sa_init(&unset, AF_INET);
	assert_int_equal(0, sa_set_str(&sa, "0.0.0.0", 0));
	assert_int_equal(EINVAL, mneg_set_addr(m, MEDIA_SIDE_B, &sa));
	assert_int_equal(EINVAL, mneg_set_addr(m, MEDIA_SIDE_B, &unset));
	assert_int_equal(EINVAL, mneg_set_addr(m, MEDIA_SIDE_B, NULL));
	assert_int_equal(EINVAL, mneg_set_addr(m, 2, &sa));
	assert_int_equal(EINVAL, mneg_set_addr(NULL, MEDIA_SIDE_A, &sa));

	/* the port of the address given is ignored */
	assert_int_equal(0, sa_set_str(&sa, "10.0.0.44", 5060));
	assert_int_equal(0, mneg_set_addr(m, MEDIA_SIDE_B, &sa));
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A,
		     "v=0\r\no=- 1 2 IN IP6 2001:db8::5\r\ns=-\r\n"
		     "c=IN IP6 2001:db8::5\r\nt=0 0\r\n"
		     "m=audio 5004 RTP/AVP 8\r\n");
	check_has(out, "c=IN IP4 10.0.0.44\r\n");
	check_not(out, "5060");
	mem_deref(out);

	mem_deref(m);
}


/* The whole buffer as a string; the position is left alone */
static char *mb_str(struct mbuf *mb)
{
	const size_t pos = mb->pos;
	char *s = NULL;

	mb->pos = 0;
	assert_int_equal(0, mbuf_strdup(mb, &s, mb->end));
	mb->pos = pos;

	return s;
}


#define OK_AUDIO "m=audio 5004 RTP/AVP 8\r\n"

static const char *const malformed[] = {
	"",
	"\r\n\r\n",
	"garbage",
	/* no v=, v=1, v= twice */
	"o=- 1 1 IN IP4 192.0.2.5\r\nc=IN IP4 192.0.2.5\r\n" OK_AUDIO,
	"v=1\r\nc=IN IP4 192.0.2.5\r\n" OK_AUDIO,
	HEAD("192.0.2.5") "v=0\r\n" OK_AUDIO,
	/* lines without '=', upper case, control characters */
	HEAD("192.0.2.5") "m\r\n",
	HEAD("192.0.2.5") "M=audio 5004 RTP/AVP 8\r\n",
	HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 8\x01\r\n",
	HEAD("192.0.2.5") "m=audio 5004\rRTP/AVP 8\r\n",
	/* truncated m= lines */
	HEAD("192.0.2.5") "m=audio",
	HEAD("192.0.2.5") "m=audio 5004",
	HEAD("192.0.2.5") "m=audio 5004 RTP/AVP",
	/* ports */
	HEAD("192.0.2.5") "m=audio 70000 RTP/AVP 8\r\n",
	HEAD("192.0.2.5") "m=audio 4294967297 RTP/AVP 8\r\n",
	HEAD("192.0.2.5") "m=audio -1 RTP/AVP 8\r\n",
	HEAD("192.0.2.5") "m=audio 5004x RTP/AVP 8\r\n",
	HEAD("192.0.2.5") OK_AUDIO "a=rtcp:65536\r\n",
	HEAD("192.0.2.5") OK_AUDIO "a=rtcp:0\r\n",
	HEAD("192.0.2.5") OK_AUDIO "a=rtcp:5005 IN IP4\r\n",
	/* payload types */
	HEAD("192.0.2.5") "m=audio 5004 RTP/AVP 128\r\n",
	HEAD("192.0.2.5") "m=audio 5004 RTP/AVP PCMA\r\n",
	HEAD("192.0.2.5") OK_AUDIO "a=rtpmap:200 PCMA/8000\r\n",
	HEAD("192.0.2.5") OK_AUDIO "a=rtpmap:8 PCMA\r\n",
	HEAD("192.0.2.5") OK_AUDIO "a=rtpmap:8 /8000\r\n",
	HEAD("192.0.2.5") OK_AUDIO "a=rtpmap:8 PCMA/x\r\n",
	HEAD("192.0.2.5") OK_AUDIO "a=rtpmap:8\r\n",
	HEAD("192.0.2.5") OK_AUDIO "a=fmtp:x 0-15\r\n",
	HEAD("192.0.2.5") OK_AUDIO "a=:x\r\n",
	/* addresses */
	"v=0\r\n" OK_AUDIO,
	"v=0\r\nc=IN IP4 999.0.2.5\r\n" OK_AUDIO,
	"v=0\r\nc=IN IP6 192.0.2.5\r\n" OK_AUDIO,
	"v=0\r\nc=XX IP4 192.0.2.5\r\n" OK_AUDIO,
	"v=0\r\nc=IN IP4\r\n" OK_AUDIO,
	/* crypto: bad base64, short and long keys, no inline, no tag */
	HEAD(
	    "192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
			 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			 "inline:!AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n",
	HEAD(
	    "192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
			 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			 "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw=\r\n",
	HEAD("192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
			  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			  "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka\r\n",
	HEAD("192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
			  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			  "inline:" KEY0 "AAAA\r\n",
	HEAD("192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
			  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY0 "\r\n",
	HEAD("192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
			  "a=crypto:1 AES_CM_128_HMAC_SHA1_80\r\n",
	HEAD("192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
			  "a=crypto:x AES_CM_128_HMAC_SHA1_80 "
			  "inline:" KEY0 "\r\n",
	HEAD("192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
			  "a=crypto:1234567890 AES_CM_128_HMAC_SHA1_80 "
			  "inline:" KEY0 "\r\n",
	HEAD("192.0.2.5") "m=audio 5004 RTP/SAVP 8\r\n"
			  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\r\n",
};


static void test_malformed(void **state)
{
	struct mneg *m = neg_new(PHONE_CODECS, MNEG_SRTP_ALLOWED, true,
				 TRUNK_CODECS, MNEG_SRTP_ALLOWED, true);
	struct mbuf *mb;
	char *big, *out;
	size_t n = 0;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
		const int err =
		    neg_run(mneg_offer, m, MEDIA_SIDE_A, malformed[i], NULL);

		if (err != EBADMSG) {
			(void)re_fprintf(stderr, "malformed[%zu]: %m\n", i,
					 err);
			fail();
		}
	}

	/* 65 formats, 17 m= lines, 513 lines, 16 KiB + 1 */
	mb = mbuf_alloc(20000);
	assert_non_null(mb);
	assert_int_equal(0,
			 mbuf_write_str(mb, HEAD("192.0.2.5") "m=audio "
							      "5004 RTP/AVP"));
	for (int i = 0; i < 65; i++)
		assert_int_equal(0, mbuf_printf(mb, " %d", i));
	assert_int_equal(0, mbuf_write_str(mb, "\r\n"));
	big = mb_str(mb);
	assert_int_equal(EBADMSG,
			 neg_run(mneg_offer, m, MEDIA_SIDE_A, big, NULL));
	big = mem_deref(big);

	mbuf_rewind(mb);
	assert_int_equal(0, mbuf_write_str(mb, HEAD("192.0.2.5")));
	for (int i = 0; i < 17; i++)
		assert_int_equal(0, mbuf_write_str(mb, OK_AUDIO));
	big = mb_str(mb);
	assert_int_equal(EBADMSG,
			 neg_run(mneg_offer, m, MEDIA_SIDE_A, big, NULL));
	big = mem_deref(big);

	mbuf_rewind(mb);
	assert_int_equal(0, mbuf_write_str(mb, HEAD("192.0.2.5") OK_AUDIO));
	for (int i = 0; i < 510; i++)
		assert_int_equal(0, mbuf_write_str(mb, "a=x\r\n"));
	big = mb_str(mb);
	assert_int_equal(EBADMSG,
			 neg_run(mneg_offer, m, MEDIA_SIDE_A, big, NULL));
	big = mem_deref(big);

	mbuf_rewind(mb);
	assert_int_equal(0, mbuf_write_str(mb, HEAD("192.0.2.5") OK_AUDIO));
	while (mb->end < 16384 - 2 * 1004) {
		assert_int_equal(0, mbuf_write_str(mb, "a="));
		assert_int_equal(0, mbuf_fill(mb, 'x', 1000));
		assert_int_equal(0, mbuf_write_str(mb, "\r\n"));
	}
	n = 16384 - mb->end - 4;
	assert_int_equal(0, mbuf_write_str(mb, "a="));
	assert_int_equal(0, mbuf_fill(mb, 'y', n));
	assert_int_equal(0, mbuf_write_str(mb, "\r\n"));
	assert_int_equal(16384, mb->end);
	big = mb_str(mb);
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A, big);
	mem_deref(out);
	big = mem_deref(big);
	assert_int_equal(0, mbuf_write_str(mb, "a"));
	big = mb_str(mb);
	assert_int_equal(EBADMSG,
			 neg_run(mneg_offer, m, MEDIA_SIDE_A, big, NULL));
	mem_deref(big);
	mem_deref(mb);

	/* malformed answers; a good one still works afterwards */
	out = neg_ok(mneg_offer, m, MEDIA_SIDE_A, HEAD("192.0.2.5") OK_AUDIO);
	mem_deref(out);
	for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
		const int err =
		    neg_run(mneg_answer, m, MEDIA_SIDE_B, malformed[i], NULL);

		if (err != EBADMSG) {
			(void)re_fprintf(stderr, "answer malformed[%zu]: %m\n",
					 i, err);
			fail();
		}
	}
	out = neg_ok(mneg_answer, m, MEDIA_SIDE_B,
		     HEAD("192.0.2.9") "m=audio 6000 RTP/AVP 8\n");
	mem_deref(out);

	mem_deref(m);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transcode),
		cmocka_unit_test(test_pass_through),
		cmocka_unit_test(test_transcode_prefers_g711),
		cmocka_unit_test(test_srtp_enforced),
		cmocka_unit_test(test_srtp_from_phone),
		cmocka_unit_test(test_srtp_refused),
		cmocka_unit_test(test_no_codec),
		cmocka_unit_test(test_t38),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_local_answer_first),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_addr_per_side),
		cmocka_unit_test(test_port_change),
		cmocka_unit_test(test_addr_mixed_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

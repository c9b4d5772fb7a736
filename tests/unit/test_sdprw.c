/**
 * @file test_sdprw.c  SDP rewriting: golden input/output pairs in
 *                     tests/data/sdp, malformed and oversize input
 *
 * Every NAME.in is rewritten with the parameters of its table row and must
 * give NAME.out byte for byte. Our side is always 203.0.113.10, RTP port
 * 40000 (so a=rtcp says 40001), session version 7.
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

#define CODECS_ALL "PCMA,PCMU,G722,telephone-event"

enum {
	OUR_PORT = 40000,
	OUR_VERSION = 7,
	FILE_MAX = 32768,
};

struct golden {
	const char *in;
	const char *out;
	const char *codecs;
	enum sdprw_dir dir;
	const char *rtp_ip;
	uint16_t rtp_port;
	const char *rtcp_ip;
	uint16_t rtcp_port;
	enum sdprw_dir info_dir;
	uint32_t codecc;
};

static const struct golden goldens[] = {
	{ "baresip_offer", "baresip_offer", CODECS_ALL, SDPRW_DIR_KEEP,
	  "192.168.1.20", 10000, "192.168.1.20", 10001, SDPRW_DIR_SENDRECV,
	  3 },
	{ "sipp_offer", "sipp_offer", NULL, SDPRW_DIR_KEEP, "127.0.1.1", 6000,
	  "127.0.1.1", 6001, SDPRW_DIR_SENDRECV, 1 },
	{ "sipp_offer", "sipp_offer_recvonly", NULL, SDPRW_DIR_RECVONLY,
	  "127.0.1.1", 6000, "127.0.1.1", 6001, SDPRW_DIR_SENDRECV, 1 },
	{ "linphone_ice_video", "linphone_ice_video", CODECS_ALL,
	  SDPRW_DIR_KEEP, "192.168.1.31", 7078, "192.168.1.31", 7079,
	  SDPRW_DIR_SENDRECV, 2 },
	{ "hold_sendonly", "hold_sendonly", CODECS_ALL, SDPRW_DIR_INACTIVE,
	  "192.168.1.20", 10000, "192.168.1.20", 10001, SDPRW_DIR_SENDONLY,
	  1 },
	{ "answer_hold0", "answer_hold0", CODECS_ALL, SDPRW_DIR_KEEP,
	  "0.0.0.0", 20000, "0.0.0.0", 20001, SDPRW_DIR_INACTIVE, 1 },
	{ "filter_pcma", "filter_pcma", "pcma", SDPRW_DIR_KEEP,
	  "198.51.100.40", 16384, "198.51.100.41", 16385, SDPRW_DIR_SENDRECV,
	  1 },
	{ "lf_only", "lf_only", CODECS_ALL, SDPRW_DIR_KEEP, "2001:db8::11",
	  49170, "2001:db8::11", 49171, SDPRW_DIR_SENDONLY, 1 },
};


/* The whole file in a buffer of exactly its size: no NUL to lean on, so
 * ASan sees any read past the end. */
static uint8_t *file_load(const char *name, const char *ext, size_t *lenp)
{
	char path[512];
	uint8_t tmp[FILE_MAX];
	uint8_t *buf;
	size_t n;
	FILE *f;

	(void)re_snprintf(path, sizeof(path), "%s/sdp/%s.%s", TEST_DATA_DIR,
			  name, ext);
	f = fopen(path, "rb");
	if (!f) {
		(void)re_fprintf(stderr, "cannot open %s\n", path);
		return NULL;
	}

	n = fread(tmp, 1, sizeof(tmp), f);
	fclose(f);

	buf = mem_alloc(n ? n : 1, NULL);
	if (!buf)
		return NULL;
	memcpy(buf, tmp, n);
	*lenp = n;

	return buf;
}


static void params_init(struct sdprw_params *p, struct sa *addr,
			const char *codecs, enum sdprw_dir dir)
{
	assert_int_equal(0, sa_set_str(addr, "203.0.113.10", 0));
	memset(p, 0, sizeof(*p));
	p->addr = addr;
	p->port = OUR_PORT;
	p->codecs = codecs;
	p->version = OUR_VERSION;
	p->dir = dir;
}


static void check_sa(const struct sa *got, const char *ip, uint16_t port)
{
	struct sa want;

	assert_int_equal(0, sa_set_str(&want, ip, port));
	if (!sa_cmp(got, &want, SA_ALL)) {
		(void)re_fprintf(stderr, "address %J, want %J\n", got, &want);
		fail();
	}
}


static void check_text(const struct mbuf *mb, const uint8_t *want, size_t wlen,
		       const char *name)
{
	if (mb->end == wlen && !memcmp(mb->buf, want, wlen))
		return;

	(void)re_fprintf(stderr, "%s: output differs, got:\n%b---\n", name,
			 mb->buf, mb->end);
	fail();
}


static void golden_run(const struct golden *g)
{
	struct sdprw_params p;
	struct sdprw_info info;
	struct mbuf *mb = NULL;
	struct sa addr;
	struct pl in;
	uint8_t *inbuf, *outbuf;
	size_t inlen = 0, outlen = 0;

	inbuf = file_load(g->in, "in", &inlen);
	outbuf = file_load(g->out, "out", &outlen);
	assert_non_null(inbuf);
	assert_non_null(outbuf);

	params_init(&p, &addr, g->codecs, g->dir);
	in.p = (const char *)inbuf;
	in.l = inlen;

	assert_int_equal(0, sdprw_rewrite(&mb, &in, &p, &info));
	assert_int_equal(0, mb->pos);
	check_text(mb, outbuf, outlen, g->out);

	assert_true(info.audio);
	check_sa(&info.rtp, g->rtp_ip, g->rtp_port);
	check_sa(&info.rtcp, g->rtcp_ip, g->rtcp_port);
	assert_int_equal(g->info_dir, info.dir);
	assert_int_equal(g->codecc, info.codecc);

	/* without info: same output */
	mb = mem_deref(mb);
	assert_int_equal(0, sdprw_rewrite(&mb, &in, &p, NULL));
	check_text(mb, outbuf, outlen, g->out);

	mem_deref(mb);
	mem_deref(inbuf);
	mem_deref(outbuf);
}


static void test_golden(void **state)
{
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(goldens); i++)
		golden_run(&goldens[i]);
}


/* The same SDP with LF only gives the same CRLF output. */
static void test_lf_equals_crlf(void **state)
{
	struct sdprw_params p;
	struct mbuf *mb = NULL;
	struct sa addr;
	struct pl in;
	uint8_t *crlf, *lf, *out;
	size_t crlflen = 0, lflen = 0, outlen = 0;
	(void)state;

	crlf = file_load("baresip_offer", "in", &crlflen);
	out = file_load("baresip_offer", "out", &outlen);
	assert_non_null(crlf);
	assert_non_null(out);

	lf = mem_alloc(crlflen, NULL);
	assert_non_null(lf);
	for (size_t i = 0; i < crlflen; i++) {
		if (crlf[i] != '\r')
			lf[lflen++] = crlf[i];
	}
	assert_true(lflen < crlflen);

	params_init(&p, &addr, CODECS_ALL, SDPRW_DIR_KEEP);
	in.p = (const char *)lf;
	in.l = lflen;
	assert_int_equal(0, sdprw_rewrite(&mb, &in, &p, NULL));
	check_text(mb, out, outlen, "baresip_offer (LF)");

	mem_deref(mb);
	mem_deref(lf);
	mem_deref(crlf);
	mem_deref(out);
}


static int rewrite_str(const char *s, struct mbuf **mbp)
{
	struct sdprw_params p;
	struct sdprw_info info;
	struct sa addr;
	struct pl in;
	char *copy;
	int err;

	params_init(&p, &addr, CODECS_ALL, SDPRW_DIR_KEEP);

	/* exact size, no NUL */
	copy = mem_alloc(strlen(s) + 1, NULL);
	assert_non_null(copy);
	memcpy(copy, s, strlen(s));
	in.p = copy;
	in.l = strlen(s);

	err = sdprw_rewrite(mbp, &in, &p, &info);
	mem_deref(copy);

	return err;
}


#define HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"

static const char *const malformed[] = {
	"",
	"\r\n\r\n",
	/* no v= */
	"o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	"t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	/* v= not first, v= twice, v=1 */
	"s=-\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\n"
	"m=audio 4000 RTP/AVP 0\r\n",
	HEAD "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n",
	"v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	"m=audio 4000 RTP/AVP 0\r\n",
	/* no o=, two o=, short o=, o= with bad nettype */
	"v=0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	"m=audio 4000 RTP/AVP 0\r\n",
	HEAD "o=- 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\n"
	     "m=audio 4000 RTP/AVP 0\r\n",
	"v=0\r\no=- 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	"m=audio 4000 RTP/AVP 0\r\n",
	"v=0\r\no=- 1 1 XX IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	"m=audio 4000 RTP/AVP 0\r\n",
	/* no c= */
	HEAD "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	/* c= only on the video stream */
	HEAD "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 5000 RTP/AVP 96\r\n"
	     "c=IN IP4 192.0.2.1\r\n",
	/* bad c= lines */
	HEAD "c=IN IP4 999.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 2001:db8::1\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP6 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 pbx.example.com\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 192.0.2.1 x\r\nm=audio 4000 RTP/AVP 0\r\n",
	/* no m=audio */
	HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n",
	/* bad m= lines */
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 70000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000x RTP/AVP 0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio -1 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0 abc\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 128\r\n",
	/* unparsable lines */
	HEAD "c=IN IP4 192.0.2.1\r\nhello\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nA=x\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\na\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\n=x\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\na=x\ry\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\na=x\x01y\r\nm=audio 4000 RTP/AVP 0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\na=\r\nm=audio 4000 RTP/AVP 0\r\n",
	/* bad audio attributes */
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"
	     "a=rtpmap:abc PCMU/8000\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"
	     "a=rtpmap:0 PCMU\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"
	     "a=rtpmap:0\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"
	     "a=rtcp:99999\r\n",
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"
	     "a=rtcp:4001 IN IP4\r\n",
	/* o= inside a media section */
	HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"
	     "o=- 1 1 IN IP4 192.0.2.1\r\n",
};


static void test_malformed(void **state)
{
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
		struct mbuf *mb = NULL;
		int err = rewrite_str(malformed[i], &mb);

		if (err != EBADMSG) {
			(void)re_fprintf(stderr,
					 "case %zu: %m, want EBADMSG:\n%s\n",
					 i, err, malformed[i]);
			fail();
		}
		assert_null(mb);
	}
}


/* The smallest SDP we accept, and a few tolerated oddities */
static void test_minimal(void **state)
{
	static const char want[] = "v=0\r\n"
				   "o=- 1 7 IN IP4 203.0.113.10\r\n"
				   "c=IN IP4 203.0.113.10\r\n"
				   "m=audio 40000 RTP/AVP 8\r\n";
	struct mbuf *mb = NULL;
	(void)state;

	/* blank lines, no final newline, no s=/t= */
	assert_int_equal(0, rewrite_str("v=0\n\no=- 1 99 IN IP4 192.0.2.1\n"
					"c=IN IP4 192.0.2.1\n"
					"m=audio 4000 RTP/AVP 8",
					&mb));
	check_text(mb, (const uint8_t *)want, sizeof(want) - 1, "minimal");
	mem_deref(mb);
}


static void test_no_codec_left(void **state)
{
	struct sdprw_params p;
	struct sdprw_info info;
	struct mbuf *mb = NULL;
	struct sa addr;
	struct pl in;
	static const char sdp[] = HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
				       "m=audio 4000 RTP/AVP 18 96\r\n"
				       "a=rtpmap:96 opus/48000/2\r\n"
				       "a=mid:0\r\n";
	static const char want[] = "v=0\r\n"
				   "o=- 1 7 IN IP4 203.0.113.10\r\n"
				   "s=-\r\n"
				   "c=IN IP4 203.0.113.10\r\n"
				   "t=0 0\r\n"
				   "m=audio 0 RTP/AVP 18 96\r\n"
				   "a=mid:0\r\n";
	(void)state;

	params_init(&p, &addr, "PCMA", SDPRW_DIR_KEEP);
	pl_set_str(&in, sdp);

	assert_int_equal(0, sdprw_rewrite(&mb, &in, &p, &info));
	check_text(mb, (const uint8_t *)want, sizeof(want) - 1, "no codec");
	assert_true(info.audio);
	assert_int_equal(0, info.codecc);
	mem_deref(mb);
}


static void test_ipv6_ours(void **state)
{
	struct sdprw_params p;
	struct mbuf *mb = NULL;
	struct sa addr;
	struct pl in;
	static const char sdp[] = HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
				       "m=audio 4000 RTP/AVP 0\r\n"
				       "a=rtcp:4001 IN IP4 192.0.2.1\r\n";
	static const char want[] = "v=0\r\n"
				   "o=- 1 7 IN IP6 2001:db8::5\r\n"
				   "s=-\r\n"
				   "c=IN IP6 2001:db8::5\r\n"
				   "t=0 0\r\n"
				   "m=audio 40000 RTP/AVP 0\r\n"
				   "a=rtcp:40001 IN IP6 2001:db8::5\r\n";
	(void)state;

	params_init(&p, &addr, NULL, SDPRW_DIR_KEEP);
	assert_int_equal(0, sa_set_str(&addr, "2001:db8::5", 0));
	pl_set_str(&in, sdp);

	assert_int_equal(0, sdprw_rewrite(&mb, &in, &p, NULL));
	check_text(mb, (const uint8_t *)want, sizeof(want) - 1, "ipv6");
	mem_deref(mb);
}


static void test_no_active_audio(void **state)
{
	struct sdprw_params p;
	struct sdprw_info info;
	struct mbuf *mb = NULL;
	struct sa addr;
	struct pl in;
	static const char want[] = "v=0\r\n"
				   "o=- 1 7 IN IP4 203.0.113.10\r\n"
				   "s=-\r\n"
				   "c=IN IP4 203.0.113.10\r\n"
				   "t=0 0\r\n"
				   "m=audio 0 RTP/AVP 0\r\n";
	(void)state;

	/* an answer that rejects everything is valid, but has no audio */
	params_init(&p, &addr, NULL, SDPRW_DIR_KEEP);
	pl_set_str(&in, HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			     "m=audio 0 RTP/AVP 0\r\n");

	assert_int_equal(0, sdprw_rewrite(&mb, &in, &p, &info));
	check_text(mb, (const uint8_t *)want, sizeof(want) - 1, "rejected");
	assert_false(info.audio);
	assert_int_equal(0, info.codecc);
	assert_false(sa_isset(&info.rtp, SA_ALL));
	mem_deref(mb);
}


static void test_oversize(void **state)
{
	struct sdprw_params p;
	struct mbuf *mb = NULL;
	struct sa addr;
	struct pl in;
	static const char base[] = HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
					"m=audio 4000 RTP/AVP 0\r\n";
	const size_t blen = sizeof(base) - 1;
	const size_t max = 16384;
	char *buf;
	size_t off;
	(void)state;

	params_init(&p, &addr, NULL, SDPRW_DIR_KEEP);

	/* exactly 16 KiB, one long attribute: accepted */
	buf = mem_alloc(max + 1, NULL);
	assert_non_null(buf);
	memcpy(buf, base, blen);
	memcpy(buf + blen, "a=x:", 4);
	memset(buf + blen + 4, 'x', max - blen - 4 - 2);
	memcpy(buf + max - 2, "\r\n", 2);
	in.p = buf;
	in.l = max;
	assert_int_equal(0, sdprw_rewrite(&mb, &in, &p, NULL));
	mb = mem_deref(mb);

	/* one byte more: refused */
	buf[max] = '\n';
	in.l = max + 1;
	assert_int_equal(EMSGSIZE, sdprw_rewrite(&mb, &in, &p, NULL));
	assert_null(mb);

	/* under 16 KiB, but 600 lines */
	off = blen;
	for (int i = 0; i < 600; i++) {
		memcpy(buf + off, "a=x\n", 4);
		off += 4;
	}
	assert_true(off < max);
	in.l = off;
	assert_int_equal(EMSGSIZE, sdprw_rewrite(&mb, &in, &p, NULL));
	assert_null(mb);

	/* 500 lines are fine */
	in.l = blen + 500 * 4;
	assert_int_equal(0, sdprw_rewrite(&mb, &in, &p, NULL));
	mem_deref(mb);
	mem_deref(buf);
}


/* Every prefix of a real SDP: parsed or refused, never read past. */
static void test_truncated(void **state)
{
	struct sdprw_params p;
	struct sa addr;
	uint8_t *full;
	size_t len = 0;
	(void)state;

	full = file_load("linphone_ice_video", "in", &len);
	assert_non_null(full);
	params_init(&p, &addr, CODECS_ALL, SDPRW_DIR_KEEP);

	for (size_t n = 0; n <= len; n++) {
		struct mbuf *mb = NULL;
		uint8_t *cut = mem_alloc(n ? n : 1, NULL);
		struct pl in;
		int err;

		assert_non_null(cut);
		memcpy(cut, full, n);
		in.p = (const char *)cut;
		in.l = n;

		err = sdprw_rewrite(&mb, &in, &p, NULL);
		if (err && err != EBADMSG) {
			(void)re_fprintf(stderr, "prefix %zu: %m\n", n, err);
			fail();
		}
		mem_deref(mb);
		mem_deref(cut);
	}

	mem_deref(full);
}


static void test_args(void **state)
{
	struct sdprw_params p;
	struct mbuf *mb = NULL;
	struct sa addr;
	struct pl in =
	    PL(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4 RTP/AVP 0\r\n");
	(void)state;

	params_init(&p, &addr, NULL, SDPRW_DIR_KEEP);
	assert_int_equal(EINVAL, sdprw_rewrite(NULL, &in, &p, NULL));
	assert_int_equal(EINVAL, sdprw_rewrite(&mb, NULL, &p, NULL));
	assert_int_equal(EINVAL, sdprw_rewrite(&mb, &in, NULL, NULL));

	p.addr = NULL;
	assert_int_equal(EINVAL, sdprw_rewrite(&mb, &in, &p, NULL));

	params_init(&p, &addr, NULL, (enum sdprw_dir)9);
	assert_int_equal(EINVAL, sdprw_rewrite(&mb, &in, &p, NULL));
	assert_null(mb);
}


static void test_dir_answer(void **state)
{
	(void)state;

	assert_int_equal(SDPRW_DIR_RECVONLY,
			 sdprw_dir_answer(SDPRW_DIR_SENDONLY));
	assert_int_equal(SDPRW_DIR_SENDONLY,
			 sdprw_dir_answer(SDPRW_DIR_RECVONLY));
	assert_int_equal(SDPRW_DIR_INACTIVE,
			 sdprw_dir_answer(SDPRW_DIR_INACTIVE));
	assert_int_equal(SDPRW_DIR_SENDRECV,
			 sdprw_dir_answer(SDPRW_DIR_SENDRECV));
	assert_int_equal(SDPRW_DIR_SENDRECV, sdprw_dir_answer(SDPRW_DIR_KEEP));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_lf_equals_crlf),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_no_codec_left),
		cmocka_unit_test(test_ipv6_ours),
		cmocka_unit_test(test_no_active_audio),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_dir_answer),
	};

	log_setup(LOG_LVL_ERROR, LOG_TARGET_STDERR);

	return cmocka_run_group_tests(tests, NULL, NULL);
}

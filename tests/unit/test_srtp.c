/**
 * @file test_srtp.c  SRTP and SRTCP in the media relay (srtpx.c and the
 *                    per-leg settings of relay.c)
 *
 * Side A is a phone on plain RTP, side B a carrier on SRTP. The test plays
 * the carrier with its own libsrtp2 sessions on real UDP sockets on
 * 127.0.0.1: what the relay protects must unprotect to what A sent, what
 * B protects must reach A as it was, and a tampered or replayed packet
 * must not get through. Every wait is bounded.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <cmocka.h>
#include <srtp2/srtp.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "media/media_int.h"

enum {
	RANGE_MIN = 30500, /**< test_relay 30000-30209, test_transcode
			        30400-30499 */
	RANGE_MAX = 30599,
	RECV_WAIT_MS = 100,
	ATTEMPTS = 30,
	SSRC = 0x5eed0001,
	TAG80 = 10,
	TAG32 = 4,
	SRTCP_IDX = 4,
	PT_PCMA = 8,
	PT_G722 = 9,
	BUF = 2048,
};

struct phone {
	int rtp;
	int rtcp;
	struct sa rtp_addr;
	struct sa rtcp_addr;
};

/** A relayed call and the carrier's own SRTP sessions */
struct fix {
	struct media *m;
	struct mcall *mc;
	struct phone ph[2];
	uint16_t port[2];
	srtp_t b_rx; /**< B unprotects what the relay sends it */
	srtp_t b_tx; /**< B protects what it sends the relay   */
};

/* relay -> B and B -> relay keys (master key + salt) */
static const uint8_t key_to_b[MEDIA_SRTP_KEY_LEN] = {
	0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f,
	0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39, 0x0e, 0xc6, 0x75, 0xad,
	0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
};
static const uint8_t key_from_b[MEDIA_SRTP_KEY_LEN] = {
	0x3a, 0x11, 0x5c, 0x79, 0x90, 0x21, 0x47, 0xad, 0x0b, 0x6e,
	0xc4, 0x18, 0x2f, 0xd3, 0x55, 0x60, 0x81, 0x9c, 0xb7, 0x2e,
	0x04, 0xfa, 0x63, 0x1d, 0xe8, 0x37, 0x52, 0xc9, 0x7b, 0x0f,
};

static uint16_t seq_next = 2000;


static int sock_udp(struct sa *addr)
{
	struct sa a;
	int fd;

	assert_int_equal(0, sa_set_str(&a, "127.0.0.1", 0));
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	assert_true(fd >= 0);
	assert_int_equal(0, bind(fd, &a.u.sa, a.len));

	sa_init(addr, AF_INET);
	addr->len = sizeof(addr->u.in);
	assert_int_equal(0, getsockname(fd, &addr->u.sa, &addr->len));

	return fd;
}


static void send_to(int fd, uint16_t port, const uint8_t *buf, size_t len)
{
	struct sa dst;

	assert_int_equal(0, sa_set_str(&dst, "127.0.0.1", port));
	assert_int_equal((ssize_t)len,
			 sendto(fd, buf, len, 0, &dst.u.sa, dst.len));
}


static ssize_t recv_wait(int fd, uint8_t *buf, size_t size)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = RECV_WAIT_MS * 1000 };

	assert_int_equal(0, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				       sizeof(tv)));

	return recv(fd, buf, size, 0);
}


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


static srtp_t session(const uint8_t *key, bool inbound, bool tag32)
{
	srtp_policy_t pol;
	srtp_t s = NULL;

	memset(&pol, 0, sizeof(pol));
	if (tag32)
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
	else
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.key = (unsigned char *)(uintptr_t)key;
	pol.window_size = 128;

	assert_int_equal(srtp_err_status_ok, srtp_create(&s, &pol));

	return s;
}


/* A plain (codec ca), B SRTP with the suite asked for (codec cb) */
static void legs_init(struct media_leg *a, struct media_leg *b,
		      enum media_codec ca, uint8_t pta, enum media_codec cb,
		      uint8_t ptb, bool tag32)
{
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	a->codec = ca;
	a->pt = pta;
	b->codec = cb;
	b->pt = ptb;
	b->srtp = true;
	b->suite = tag32 ? MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32
			 : MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80;
	memcpy(b->key_tx, key_to_b, sizeof(b->key_tx));
	memcpy(b->key_rx, key_from_b, sizeof(b->key_rx));
}


static void fix_open(struct fix *f, const struct media_leg *a,
		     const struct media_leg *b, bool tag32)
{
	struct media_conf conf;

	memset(f, 0, sizeof(*f));
	memset(&conf, 0, sizeof(conf));
	conf.address = "127.0.0.1";
	conf.port_min = RANGE_MIN;
	conf.port_max = RANGE_MAX;
	conf.threads = 1;

	assert_int_equal(0, media_alloc(&f->m, &conf, NULL, NULL));
	assert_int_equal(0, mcall_alloc(&f->mc, f->m, "call-srtp"));

	for (int s = 0; s < 2; s++) {
		struct phone *ph = &f->ph[s];

		ph->rtp = sock_udp(&ph->rtp_addr);
		ph->rtcp = sock_udp(&ph->rtcp_addr);
		f->port[s] = mcall_port(f->mc, (enum media_side)s);
		assert_int_equal(0, mcall_set_peer(f->mc, (enum media_side)s,
						   &ph->rtp_addr,
						   &ph->rtcp_addr));
	}

	assert_int_equal(0, mcall_set_legs(f->mc, a, b));

	f->b_rx = session(key_to_b, true, tag32);
	f->b_tx = session(key_from_b, false, tag32);
}


static void fix_close(struct fix *f)
{
	struct portpool *pp = media_pool(f->m);

	f->mc = mem_deref(f->mc);

	for (int i = 0; i < 200; i++) {
		if (portpool_free_count(pp) == portpool_capacity(pp))
			break;
		(void)loop_run(10);
	}
	assert_int_equal(portpool_capacity(pp), portpool_free_count(pp));

	for (int s = 0; s < 2; s++) {
		(void)close(f->ph[s].rtp);
		(void)close(f->ph[s].rtcp);
	}

	(void)srtp_dealloc(f->b_rx);
	(void)srtp_dealloc(f->b_tx);
	f->m = mem_deref(f->m);
}


static size_t rtp_build(uint8_t *pkt, uint8_t pt, uint16_t seq, size_t len)
{
	const uint32_t ts = (uint32_t)seq * 160u;

	pkt[0] = 0x80;
	pkt[1] = pt;
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	pkt[4] = (uint8_t)(ts >> 24);
	pkt[5] = (uint8_t)(ts >> 16);
	pkt[6] = (uint8_t)(ts >> 8);
	pkt[7] = (uint8_t)ts;
	pkt[8] = (uint8_t)(SSRC >> 24);
	pkt[9] = (uint8_t)(SSRC >> 16);
	pkt[10] = (uint8_t)(SSRC >> 8);
	pkt[11] = (uint8_t)SSRC;
	for (size_t i = 0; i < len; i++)
		pkt[12 + i] = (uint8_t)(seq + 3 * i);

	return 12 + len;
}


/* An RTCP receiver report (RFC 3550 6.4.2) without report blocks */
static size_t rtcp_build(uint8_t *pkt, uint32_t ssrc)
{
	pkt[0] = 0x80;
	pkt[1] = 201;
	pkt[2] = 0;
	pkt[3] = 1;
	pkt[4] = (uint8_t)(ssrc >> 24);
	pkt[5] = (uint8_t)(ssrc >> 16);
	pkt[6] = (uint8_t)(ssrc >> 8);
	pkt[7] = (uint8_t)ssrc;

	return 8;
}


static int sock_of(struct fix *f, enum media_side s, bool rtcp)
{
	return rtcp ? f->ph[s].rtcp : f->ph[s].rtp;
}


static uint16_t port_of(struct fix *f, enum media_side s, bool rtcp)
{
	return (uint16_t)(f->port[s] + (rtcp ? 1 : 0));
}


/*
 * A sends `plain`; B must get it protected, `extra` bytes longer, and
 * unprotect it to the same bytes. Returns false if nothing did.
 */
static bool a_to_b(struct fix *f, bool rtcp, const uint8_t *plain, size_t n,
		   size_t extra)
{
	uint8_t got[BUF];

	send_to(sock_of(f, MEDIA_SIDE_A, rtcp), port_of(f, MEDIA_SIDE_A, rtcp),
		plain, n);

	for (int w = 0; w < 5; w++) {
		ssize_t r = recv_wait(sock_of(f, MEDIA_SIDE_B, rtcp), got,
				      sizeof(got) - 64);
		int len = (int)r;
		srtp_err_status_t st;

		if (r < 0)
			continue;
		if ((size_t)r != n + extra)
			continue; /* plain: sent before the keys applied */

		st = rtcp ? srtp_unprotect_rtcp(f->b_rx, got, &len)
			  : srtp_unprotect(f->b_rx, got, &len);
		if (st != srtp_err_status_ok)
			continue;

		assert_int_equal(n, (size_t)len);
		assert_memory_equal(plain, got, n);
		return true;
	}

	return false;
}


/* B sends `wire` (already protected, maybe spoilt); A gets what? */
static ssize_t b_to_a_raw(struct fix *f, bool rtcp, const uint8_t *wire,
			  size_t n, uint8_t *got, size_t size)
{
	send_to(sock_of(f, MEDIA_SIDE_B, rtcp), port_of(f, MEDIA_SIDE_B, rtcp),
		wire, n);

	for (int w = 0; w < 3; w++) {
		ssize_t r =
		    recv_wait(sock_of(f, MEDIA_SIDE_A, rtcp), got, size);

		if (r >= 0)
			return r;
	}

	return -1;
}


/* Protect `plain` as B, send it; A must get exactly `plain` */
static bool b_to_a(struct fix *f, bool rtcp, const uint8_t *plain, size_t n)
{
	uint8_t wire[BUF], got[BUF];
	int len = (int)n;
	ssize_t r;

	memcpy(wire, plain, n);
	assert_int_equal(srtp_err_status_ok,
			 rtcp ? srtp_protect_rtcp(f->b_tx, wire, &len)
			      : srtp_protect(f->b_tx, wire, &len));

	r = b_to_a_raw(f, rtcp, wire, (size_t)len, got, sizeof(got));

	return r == (ssize_t)n && !memcmp(got, plain, n);
}


static void prime_a_to_b(struct fix *f, size_t extra)
{
	uint8_t pkt[BUF];

	for (int i = 0; i < ATTEMPTS; i++) {
		const size_t n = rtp_build(pkt, PT_PCMA, seq_next++, 160);

		if (a_to_b(f, false, pkt, n, extra))
			return;
	}

	fail_msg("relay never protected toward B");
}


static void test_srtp_args(void **state)
{
	struct srtpx *s = NULL, *t = NULL;
	uint8_t buf[64] = { 0x80 };
	size_t len = 20;
	(void)state;

	assert_int_equal(EINVAL,
			 srtpx_alloc(NULL, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
				     key_to_b, true));
	assert_int_equal(EINVAL,
			 srtpx_alloc(&s, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
				     NULL, true));
	assert_int_equal(ENOTSUP, srtpx_alloc(&s, (enum media_srtp_suite)7,
					      key_to_b, true));

	assert_int_equal(0, srtpx_alloc(&s, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
					key_to_b, false));
	assert_int_equal(0, srtpx_alloc(&t, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
					key_to_b, false));
	assert_true(srtpx_same(s, t));
	assert_false(srtpx_same(s, NULL));

	/* a protect session does not unprotect, and needs room */
	assert_int_equal(EINVAL, srtpx_unprotect(s, false, buf, &len));
	assert_int_equal(EOVERFLOW,
			 srtpx_protect(s, false, buf, &len, sizeof(buf)));
	mem_deref(t);

	assert_int_equal(0, srtpx_alloc(&t, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
					key_from_b, false));
	assert_false(srtpx_same(s, t));
	mem_deref(t);
	assert_int_equal(0, srtpx_alloc(&t, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32,
					key_to_b, false));
	assert_false(srtpx_same(s, t));
	mem_deref(t);
	assert_int_equal(0, srtpx_alloc(&t, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
					key_to_b, true));
	assert_false(srtpx_same(s, t));

	/* too short for SRTP */
	len = 8;
	assert_int_equal(EBADMSG, srtpx_unprotect(t, false, buf, &len));

	mem_deref(s);
	mem_deref(t);
}


/* (4) plain RTP on A, SRTP on B: both ways, RTP and RTCP */
static void test_srtp_plain_to_srtp(void **state)
{
	struct media_leg a, b;
	uint8_t pkt[BUF], wire[BUF], got[BUF];
	struct fix f;
	size_t n;
	int len;
	(void)state;

	legs_init(&a, &b, MEDIA_CODEC_NONE, 0, MEDIA_CODEC_NONE, 0, false);
	fix_open(&f, &a, &b, false);
	prime_a_to_b(&f, TAG80);

	for (int i = 0; i < 5; i++) {
		n = rtp_build(pkt, PT_PCMA, seq_next++, 160);
		assert_true(a_to_b(&f, false, pkt, n, TAG80));
		n = rtp_build(pkt, PT_PCMA, seq_next++, 160);
		assert_true(b_to_a(&f, false, pkt, n));
	}

	/* SRTCP: 4-byte index and an 80-bit tag */
	n = rtcp_build(pkt, 0x1111);
	for (int i = 0; i < ATTEMPTS; i++) {
		if (a_to_b(&f, true, pkt, n, SRTCP_IDX + TAG80))
			break;
		assert_true(i < ATTEMPTS - 1);
	}
	n = rtcp_build(pkt, SSRC);
	assert_true(b_to_a(&f, true, pkt, n));

	/* tampered: one payload bit flipped, dropped */
	n = rtp_build(pkt, PT_PCMA, seq_next++, 160);
	memcpy(wire, pkt, n);
	len = (int)n;
	assert_int_equal(srtp_err_status_ok, srtp_protect(f.b_tx, wire, &len));
	wire[40] ^= 0x01;
	assert_int_equal(-1, b_to_a_raw(&f, false, wire, (size_t)len, got,
					sizeof(got)));

	/* the genuine one still passes, once; its replay does not */
	wire[40] ^= 0x01;
	assert_int_equal((ssize_t)n, b_to_a_raw(&f, false, wire, (size_t)len,
						got, sizeof(got)));
	assert_memory_equal(pkt, got, n);
	assert_int_equal(-1, b_to_a_raw(&f, false, wire, (size_t)len, got,
					sizeof(got)));

	/* plain RTP from B is no SRTP: dropped */
	assert_int_equal(-1, b_to_a_raw(&f, false, pkt, n, got, sizeof(got)));

	/* tampered SRTCP */
	n = rtcp_build(pkt, SSRC);
	memcpy(wire, pkt, n);
	len = (int)n;
	assert_int_equal(srtp_err_status_ok,
			 srtp_protect_rtcp(f.b_tx, wire, &len));
	wire[5] ^= 0x80;
	assert_int_equal(-1, b_to_a_raw(&f, true, wire, (size_t)len, got,
					sizeof(got)));

	/* and B still gets through after all that */
	n = rtp_build(pkt, PT_PCMA, seq_next++, 160);
	assert_true(b_to_a(&f, false, pkt, n));

	fix_close(&f);
}


/* The _32 suite: 4-byte tag on SRTP, SRTCP keeps 80 bits (RFC 4568) */
static void test_srtp_tag32(void **state)
{
	struct media_leg a, b;
	uint8_t pkt[BUF];
	struct fix f;
	size_t n;
	(void)state;

	legs_init(&a, &b, MEDIA_CODEC_NONE, 0, MEDIA_CODEC_NONE, 0, true);
	fix_open(&f, &a, &b, true);
	prime_a_to_b(&f, TAG32);

	n = rtp_build(pkt, PT_PCMA, seq_next++, 160);
	assert_true(b_to_a(&f, false, pkt, n));

	n = rtcp_build(pkt, 0x2222);
	for (int i = 0; i < ATTEMPTS; i++) {
		if (a_to_b(&f, true, pkt, n, SRTCP_IDX + TAG80))
			break;
		assert_true(i < ATTEMPTS - 1);
	}

	fix_close(&f);
}


/* G.722 phone on plain RTP, PCMA carrier on SRTP */
static void test_srtp_transcode(void **state)
{
	struct media_leg a, b;
	uint8_t pkt[BUF], got[BUF], wire[BUF];
	struct fix f;
	bool ok = false;
	size_t n;
	int len;
	(void)state;

	legs_init(&a, &b, MEDIA_CODEC_G722, PT_G722, MEDIA_CODEC_PCMA, PT_PCMA,
		  false);
	fix_open(&f, &a, &b, false);

	for (int i = 0; i < ATTEMPTS && !ok; i++) {
		const uint16_t seq = seq_next++;
		ssize_t r;

		n = rtp_build(pkt, PT_G722, seq, 160);
		send_to(f.ph[MEDIA_SIDE_A].rtp, f.port[MEDIA_SIDE_A], pkt, n);
		r = recv_wait(f.ph[MEDIA_SIDE_B].rtp, got, sizeof(got) - 64);
		len = (int)r;
		if (r != (ssize_t)(n + TAG80) ||
		    srtp_unprotect(f.b_rx, got, &len) != srtp_err_status_ok)
			continue;

		assert_int_equal(n, (size_t)len);
		assert_int_equal(PT_PCMA, got[1]);
		assert_memory_equal(pkt + 2, got + 2, 10); /* seq ts ssrc */
		ok = true;
	}
	assert_true(ok);

	n = rtp_build(pkt, PT_PCMA, seq_next++, 160);
	memcpy(wire, pkt, n);
	len = (int)n;
	assert_int_equal(srtp_err_status_ok, srtp_protect(f.b_tx, wire, &len));
	assert_int_equal((ssize_t)n, b_to_a_raw(&f, false, wire, (size_t)len,
						got, sizeof(got)));
	assert_int_equal(PT_G722, got[1]);
	assert_memory_equal(pkt + 2, got + 2, 10);

	fix_close(&f);
}


/* Same keys again keep the session; a T.38 switch drops SRTP */
static void test_srtp_renegotiate(void **state)
{
	struct media_leg a, b;
	uint8_t pkt[BUF], wire[BUF], got[BUF];
	struct fix f;
	size_t n;
	int len;
	bool plain = false;
	(void)state;

	legs_init(&a, &b, MEDIA_CODEC_NONE, 0, MEDIA_CODEC_NONE, 0, false);
	fix_open(&f, &a, &b, false);
	prime_a_to_b(&f, TAG80);

	/* keep a protected packet to replay after the renegotiation */
	n = rtp_build(pkt, PT_PCMA, seq_next++, 160);
	memcpy(wire, pkt, n);
	len = (int)n;
	assert_int_equal(srtp_err_status_ok, srtp_protect(f.b_tx, wire, &len));
	assert_int_equal((ssize_t)n, b_to_a_raw(&f, false, wire, (size_t)len,
						got, sizeof(got)));

	assert_int_equal(0, mcall_set_legs(f.mc, &a, &b));
	prime_a_to_b(&f, TAG80);

	/* the running session was kept: its replay window remembers */
	assert_int_equal(-1, b_to_a_raw(&f, false, wire, (size_t)len, got,
					sizeof(got)));
	n = rtp_build(pkt, PT_PCMA, seq_next++, 160);
	assert_true(b_to_a(&f, false, pkt, n));

	/* T.38: no codec, no SRTP; B's packets now pass as they are */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(0, mcall_set_legs(f.mc, &a, &b));
	for (int i = 0; i < ATTEMPTS && !plain; i++) {
		ssize_t r;

		n = rtp_build(pkt, PT_PCMA, seq_next++, 100);
		r = b_to_a_raw(&f, false, pkt, n, got, sizeof(got));
		plain = r == (ssize_t)n && !memcmp(pkt, got, n);
	}
	assert_true(plain);

	fix_close(&f);
}


static int group_setup(void **state)
{
	(void)state;

	log_setup(LOG_LVL_WARN, LOG_TARGET_STDERR);

	if (srtp_init() != srtp_err_status_ok)
		return -1;

	return libre_init();
}


static int group_teardown(void **state)
{
	(void)state;

	libre_close();
	log_close();

	return 0;
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srtp_args),
		cmocka_unit_test(test_srtp_plain_to_srtp),
		cmocka_unit_test(test_srtp_tag32),
		cmocka_unit_test(test_srtp_transcode),
		cmocka_unit_test(test_srtp_renegotiate),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

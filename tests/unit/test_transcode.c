/**
 * @file test_transcode.c  Transcoding in the media relay (codec.c and the
 *                         per-leg settings of relay.c)
 *
 * The codecs are checked directly, then through a relay on real UDP
 * sockets on 127.0.0.1: a 1 kHz tone sent in one codec must come out of
 * the other side in the other codec, decoded here with spandsp, bcg729 or
 * librem's G.711 tables, still a loud 1 kHz tone. Every wait is bounded;
 * CPU figures are printed, never asserted.
 */

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <cmocka.h>
#include <spandsp.h>
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#include <rem_g711.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "media/media_int.h"

enum {
	RANGE_MIN = 30400, /**< test_relay uses 30000-30209 */
	RANGE_MAX = 30499,
	RECV_WAIT_MS = 100,
	ATTEMPTS = 30,	   /**< priming sends before giving up      */
	PKTS = 50,	   /**< measured packets: one second        */
	SKIP = 10,	   /**< first ones left to codec start-up   */
	MAX_SAMPLES = 320, /**< 20 ms at 16 kHz                     */
	SSRC = 0x11223344,
	TONE_HZ = 1000,
	TONE_AMP = 8000,
	BENCH_PKTS = 1000,
	PT_G722 = 9,
	PT_G729 = 18,
	PT_PCMA = 8,
	PT_CN = 13,
};

/** A phone: RTP and RTCP sockets */
struct phone {
	int rtp;
	int rtcp;
	struct sa rtp_addr;
	struct sa rtcp_addr;
};

/** A relayed call between two phones */
struct fix {
	struct media *m;
	struct mcall *mc;
	struct phone ph[2];
	uint16_t port[2];
};

/** The test's own codec, standing for a phone's */
struct tcodec {
	enum media_codec codec;
	unsigned rate; /**< audio sample rate: 16000 for G.722 */
	uint64_t n;    /**< samples generated so far           */
	g722_encode_state_t *g722e;
	g722_decode_state_t *g722d;
	bcg729EncoderChannelContextStruct *g729e;
	bcg729DecoderChannelContextStruct *g729d;
};


static void timeout_h(void *arg)
{
	int *err = arg;

	*err = ETIMEDOUT;
	re_cancel();
}


/* STYLE.md §6: run the SIP thread's loop for at most ms */
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


/* Wait up to RECV_WAIT_MS for one datagram; -1 if none came */
static ssize_t recv_wait(int fd, uint8_t *buf, size_t size)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = RECV_WAIT_MS * 1000 };

	assert_int_equal(0, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				       sizeof(tv)));

	return recv(fd, buf, size, 0);
}


static void leg_init(struct media_leg *l, enum media_codec codec, uint8_t pt,
		     uint8_t dtmf_pt)
{
	memset(l, 0, sizeof(*l));
	l->codec = codec;
	l->pt = pt;
	l->dtmf_pt = dtmf_pt;
}


static void fix_open(struct fix *f, const struct media_leg *a,
		     const struct media_leg *b)
{
	struct media_conf conf;

	memset(f, 0, sizeof(*f));
	memset(&conf, 0, sizeof(conf));
	conf.address = "127.0.0.1";
	conf.port_min = RANGE_MIN;
	conf.port_max = RANGE_MAX;
	conf.threads = 1;
	conf.dscp = 46;

	assert_int_equal(0, media_alloc(&f->m, &conf, NULL, NULL));
	assert_int_equal(0, mcall_alloc(&f->mc, f->m, "call-xcode"));

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

	f->m = mem_deref(f->m);
}


/* ---- the test's codecs ------------------------------------------------ */


static void tcodec_init(struct tcodec *tc, enum media_codec codec)
{
	memset(tc, 0, sizeof(*tc));
	tc->codec = codec;
	tc->rate = 8000;

	switch (codec) {

	case MEDIA_CODEC_G722:
		/* a real wideband phone: 16 kHz audio */
		tc->rate = 16000;
		tc->g722e = g722_encode_init(NULL, 64000, 0);
		tc->g722d = g722_decode_init(NULL, 64000, 0);
		assert_non_null(tc->g722e);
		assert_non_null(tc->g722d);
		break;

	case MEDIA_CODEC_G729:
		tc->g729e = initBcg729EncoderChannel(0);
		tc->g729d = initBcg729DecoderChannel();
		assert_non_null(tc->g729e);
		assert_non_null(tc->g729d);
		break;

	default:
		break;
	}
}


static void tcodec_close(struct tcodec *tc)
{
	if (tc->g722e)
		g722_encode_free(tc->g722e);
	if (tc->g722d)
		g722_decode_free(tc->g722d);
	if (tc->g729e)
		closeBcg729EncoderChannel(tc->g729e);
	if (tc->g729d)
		closeBcg729DecoderChannel(tc->g729d);
}


/* 20 ms of the tone, phase continuous from packet to packet */
static size_t tone_next(struct tcodec *tc, int16_t *pcm)
{
	const size_t n = tc->rate / 50;

	for (size_t i = 0; i < n; i++, tc->n++)
		pcm[i] = (int16_t)(TONE_AMP * sin(2 * M_PI * TONE_HZ *
						  (double)tc->n / tc->rate));

	return n;
}


/* Encode the next 20 ms of tone; returns the payload length */
static size_t tcodec_encode(struct tcodec *tc, uint8_t *out)
{
	int16_t pcm[MAX_SAMPLES];
	const size_t n = tone_next(tc, pcm);
	size_t len = 0;

	switch (tc->codec) {

	case MEDIA_CODEC_PCMA:
		for (size_t i = 0; i < n; i++)
			out[i] = g711_pcm2alaw(pcm[i]);
		len = n;
		break;

	case MEDIA_CODEC_PCMU:
		for (size_t i = 0; i < n; i++)
			out[i] = g711_pcm2ulaw(pcm[i]);
		len = n;
		break;

	case MEDIA_CODEC_G722:
		len = (size_t)g722_encode(tc->g722e, out, pcm, (int)n);
		break;

	case MEDIA_CODEC_G729:
		for (size_t i = 0; i < n; i += 80) {
			uint8_t l = 0;

			bcg729Encoder(tc->g729e, pcm + i, out + len, &l);
			len += l;
		}
		break;

	default:
		fail();
	}

	return len;
}


static size_t tcodec_decode(struct tcodec *tc, int16_t *pcm, const uint8_t *in,
			    size_t len)
{
	size_t n = 0;

	switch (tc->codec) {

	case MEDIA_CODEC_PCMA:
		for (size_t i = 0; i < len; i++)
			pcm[i] = g711_alaw2pcm(in[i]);
		return len;

	case MEDIA_CODEC_PCMU:
		for (size_t i = 0; i < len; i++)
			pcm[i] = g711_ulaw2pcm(in[i]);
		return len;

	case MEDIA_CODEC_G722:
		return (size_t)g722_decode(tc->g722d, pcm, in, (int)len);

	case MEDIA_CODEC_G729:
		assert_int_equal(0, len % 10);
		for (size_t i = 0; i < len; i += 10) {
			bcg729Decoder(tc->g729d, in + i, 10, 0, 0, 0, pcm + n);
			n += 80;
		}
		return n;

	default:
		fail();
	}

	return 0;
}


/* Loud enough, and about 1 kHz by its zero crossings */
static void tone_assert(const char *what, const int16_t *pcm, size_t n,
			unsigned rate)
{
	double energy = 0, rms, hz;
	size_t zc = 0;

	assert_true(n > 0);

	for (size_t i = 0; i < n; i++) {
		energy += (double)pcm[i] * pcm[i];
		if (i && (pcm[i - 1] < 0) != (pcm[i] < 0))
			++zc;
	}

	rms = sqrt(energy / (double)n);
	hz = (double)zc * rate / (2.0 * (double)n);

	printf("  %-14s rms %6.0f (sent %4.0f), %6.1f Hz by zero crossings\n",
	       what, rms, TONE_AMP / sqrt(2), hz);

	assert_true(rms > TONE_AMP / 8.0);
	assert_true(rms < TONE_AMP * 2.0);
	assert_true(hz > TONE_HZ * 0.9);
	assert_true(hz < TONE_HZ * 1.1);
}


/* ---- RTP --------------------------------------------------------------- */


static uint16_t seq_next = 1000;


static size_t rtp_build(uint8_t *pkt, uint8_t pt, bool marker, uint16_t seq,
			const uint8_t *pl, size_t len)
{
	const uint32_t ts = (uint32_t)seq * 160u;

	pkt[0] = 0x80;
	pkt[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
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
	memcpy(pkt + 12, pl, len);

	return 12 + len;
}


static uint16_t rtp_seq(const uint8_t *pkt)
{
	return (uint16_t)(pkt[2] << 8 | pkt[3]);
}


static uint32_t rtp_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}


/** One direction of a tone test */
struct flow {
	struct fix *f;
	enum media_side from;
	struct tcodec *tx; /**< what the sender speaks   */
	uint8_t txpt;
	struct tcodec *rx; /**< what the receiver hears  */
	uint8_t rxpt;
	size_t rxlen; /**< payload length expected */
	int16_t pcm[PKTS * MAX_SAMPLES];
	size_t npcm;
	int got; /**< measured packets received */
};


static void flow_send(struct flow *fl, uint16_t seq, bool marker)
{
	uint8_t pl[512], pkt[600];
	size_t len, n;

	len = tcodec_encode(fl->tx, pl);
	n = rtp_build(pkt, fl->txpt, marker, seq, pl, len);
	send_to(fl->f->ph[fl->from].rtp, fl->f->port[fl->from], pkt, n);
}


/*
 * Take what arrived on the receiving phone. Every packet of the expected
 * PT feeds the decoder, in order; those from `first` on are measured.
 * Returns true if a packet of the expected PT came.
 */
static bool flow_recv(struct flow *fl, uint16_t first, bool measure)
{
	const int fd = fl->f->ph[!fl->from].rtp;
	uint8_t pkt[2048];
	int16_t pcm[MAX_SAMPLES * 3];
	ssize_t n;
	size_t ns;
	uint16_t seq;

	n = recv_wait(fd, pkt, sizeof(pkt));
	if (n < 12 || (pkt[1] & 0x7f) != fl->rxpt)
		return false;

	/* the header is the sender's, but for the PT */
	seq = rtp_seq(pkt);
	assert_int_equal((uint32_t)seq * 160u, rtp_u32(pkt + 4));
	assert_int_equal(SSRC, rtp_u32(pkt + 8));
	assert_int_equal(fl->rxlen, (size_t)n - 12);
	assert_int_equal(seq == first, (pkt[1] & 0x80) != 0);

	ns = tcodec_decode(fl->rx, pcm, pkt + 12, (size_t)n - 12);
	assert_int_equal(fl->rx->rate / 50, ns);

	if (!measure || (uint16_t)(seq - first) >= PKTS)
		return true;

	if ((uint16_t)(seq - first) >= SKIP) {
		assert_true(fl->npcm + ns <= ARRAY_SIZE(fl->pcm));
		memcpy(fl->pcm + fl->npcm, pcm, ns * sizeof(*pcm));
		fl->npcm += ns;
	}
	++fl->got;

	return true;
}


/*
 * Prime until the relay applies the settings (they reach its worker
 * asynchronously), then send one second of tone and check what came out.
 */
static void flow_run(struct flow *fl, const char *what)
{
	uint16_t first;
	bool primed = false;
	int idle = 0;

	for (int i = 0; i < ATTEMPTS && !primed; i++) {
		flow_send(fl, seq_next++, false);
		primed = flow_recv(fl, 0, false);
	}
	assert_true(primed);

	/* what the priming left in flight still goes to the decoder */
	while (flow_recv(fl, 0, false))
		;

	first = seq_next;
	for (int i = 0; i < PKTS; i++)
		flow_send(fl, seq_next++, i == 0);

	while (fl->got < PKTS && idle < 20) {
		if (flow_recv(fl, first, true))
			idle = 0;
		else
			++idle;
	}

	assert_int_equal(PKTS, fl->got);
	tone_assert(what, fl->pcm, fl->npcm, fl->rx->rate);
}


static void tone_both_ways(enum media_codec ca, uint8_t pta,
			   enum media_codec cb, uint8_t ptb, size_t lenb)
{
	struct media_leg a, b;
	struct tcodec tca, tcb;
	struct fix f;
	struct flow *fl;
	char what[32];

	leg_init(&a, ca, pta, 101);
	leg_init(&b, cb, ptb, 96);
	fix_open(&f, &a, &b);
	tcodec_init(&tca, ca);
	tcodec_init(&tcb, cb);

	fl = mem_zalloc(sizeof(*fl), NULL);
	assert_non_null(fl);
	*fl = (struct flow){ .f = &f,
			     .from = MEDIA_SIDE_A,
			     .tx = &tca,
			     .txpt = pta,
			     .rx = &tcb,
			     .rxpt = ptb,
			     .rxlen = lenb };
	(void)re_snprintf(what, sizeof(what), "%s->%s", media_codec_name(ca),
			  media_codec_name(cb));
	flow_run(fl, what);

	*fl = (struct flow){ .f = &f,
			     .from = MEDIA_SIDE_B,
			     .tx = &tcb,
			     .txpt = ptb,
			     .rx = &tca,
			     .rxpt = pta,
			     .rxlen = 160 };
	(void)re_snprintf(what, sizeof(what), "%s->%s", media_codec_name(cb),
			  media_codec_name(ca));
	flow_run(fl, what);

	mem_deref(fl);
	tcodec_close(&tca);
	tcodec_close(&tcb);
	fix_close(&f);
}


/* ---- tests -------------------------------------------------------------- */


static void test_codec_names(void **state)
{
	(void)state;

	assert_int_equal(MEDIA_CODEC_PCMA, media_codec_from_name("PCMA"));
	assert_int_equal(MEDIA_CODEC_PCMU, media_codec_from_name("pcmu"));
	assert_int_equal(MEDIA_CODEC_G722, media_codec_from_name("G722"));
	assert_int_equal(MEDIA_CODEC_G729, media_codec_from_name("g729"));
	assert_int_equal(MEDIA_CODEC_NONE, media_codec_from_name("opus"));
	assert_int_equal(MEDIA_CODEC_NONE, media_codec_from_name(""));
	assert_int_equal(MEDIA_CODEC_NONE, media_codec_from_name(NULL));

	assert_string_equal("PCMA", media_codec_name(MEDIA_CODEC_PCMA));
	assert_string_equal("G729", media_codec_name(MEDIA_CODEC_G729));
	assert_string_equal("none", media_codec_name(MEDIA_CODEC_NONE));
	assert_string_equal("none", media_codec_name((enum media_codec)77));

	assert_true(
	    media_codec_transcodable(MEDIA_CODEC_PCMA, MEDIA_CODEC_G722));
	assert_true(
	    media_codec_transcodable(MEDIA_CODEC_G729, MEDIA_CODEC_PCMU));
	assert_true(
	    media_codec_transcodable(MEDIA_CODEC_G722, MEDIA_CODEC_G729));
	assert_true(
	    media_codec_transcodable(MEDIA_CODEC_PCMA, MEDIA_CODEC_PCMA));
	assert_false(
	    media_codec_transcodable(MEDIA_CODEC_NONE, MEDIA_CODEC_PCMA));
	assert_false(
	    media_codec_transcodable(MEDIA_CODEC_PCMA, (enum media_codec)77));
}


/* The transcoder alone: lengths, limits, a loud tone through a chain */
static void test_codec_direct(void **state)
{
	struct transcoder *t1 = NULL, *t2 = NULL, *t3 = NULL;
	struct tcodec src;
	uint8_t pcma[480], mid[CODEC_PAYLOAD_MAX], out[CODEC_PAYLOAD_MAX];
	int16_t pcm[CODEC_SAMPLES_MAX], all[50 * 160];
	size_t n = 0, nall = 0;
	(void)state;

	assert_int_equal(ENOTSUP, transcoder_alloc(&t1, MEDIA_CODEC_NONE,
						   MEDIA_CODEC_PCMA));
	assert_int_equal(EINVAL, transcoder_alloc(NULL, MEDIA_CODEC_PCMA,
						  MEDIA_CODEC_G722));

	/* PCMA -> G.729 -> G.722 -> PCMA, one second of tone */
	assert_int_equal(0, transcoder_alloc(&t1, MEDIA_CODEC_PCMA,
					     MEDIA_CODEC_G729));
	assert_int_equal(0, transcoder_alloc(&t2, MEDIA_CODEC_G729,
					     MEDIA_CODEC_G722));
	assert_int_equal(0, transcoder_alloc(&t3, MEDIA_CODEC_G722,
					     MEDIA_CODEC_PCMA));
	assert_true(transcoder_match(t1, MEDIA_CODEC_PCMA, MEDIA_CODEC_G729));
	assert_false(transcoder_match(t1, MEDIA_CODEC_G729, MEDIA_CODEC_PCMA));
	assert_false(
	    transcoder_match(NULL, MEDIA_CODEC_PCMA, MEDIA_CODEC_G729));

	tcodec_init(&src, MEDIA_CODEC_PCMA);
	for (int p = 0; p < 50; p++) {
		size_t len = tcodec_encode(&src, pcma);

		assert_int_equal(160, len);
		assert_int_equal(0, transcoder_run(t1, mid, &n, pcma, len));
		assert_int_equal(20, n);
		assert_int_equal(0, transcoder_run(t2, out, &n, mid, n));
		assert_int_equal(160, n);
		assert_int_equal(0, transcoder_run(t3, mid, &n, out, n));
		assert_int_equal(160, n);

		if (p < SKIP)
			continue;
		for (size_t i = 0; i < n; i++)
			all[nall++] = g711_alaw2pcm(mid[i]);
	}
	tone_assert("PCMA chain", all, nall, 8000);

	/* 10 to 60 ms only; G.729 in whole frames plus one SID at most */
	assert_int_equal(EMSGSIZE, transcoder_run(t1, out, &n, pcma, 79));
	assert_int_equal(EMSGSIZE, transcoder_run(t3, out, &n, pcma, 481));
	assert_int_equal(0, transcoder_run(t1, out, &n, pcma, 80));
	assert_int_equal(10, n);
	assert_int_equal(EMSGSIZE, transcoder_run(t1, out, &n, pcma, 100));
	assert_int_equal(EBADMSG, transcoder_run(t2, out, &n, mid, 15));
	assert_int_equal(EMSGSIZE, transcoder_run(t2, out, &n, mid, 70));
	assert_int_equal(0, transcoder_run(t2, out, &n, mid, 22));
	assert_int_equal(240, n);
	assert_int_equal(0, transcoder_run(t2, out, &n, mid, 60));
	assert_int_equal(480, n);

	/* a decoder may saturate at -32768: G.711 must not index out */
	for (size_t i = 0; i < 160; i++)
		pcm[i] = i % 2 ? INT16_MIN : INT16_MAX;
	assert_int_equal(0, codec_encode(t3, out, &n, pcm, 160));
	assert_int_equal(160, n);
	assert_int_equal(0xaa, out[0]); /* A-law full scale, both signs */
	assert_int_equal(0x2a, out[1]);

	mem_deref(t1);
	mem_deref(t2);
	mem_deref(t3);
}


static void test_set_legs_args(void **state)
{
	struct media_leg a, b;
	struct fix f;
	(void)state;

	leg_init(&a, MEDIA_CODEC_PCMA, 8, 101);
	leg_init(&b, MEDIA_CODEC_G722, 9, 101);
	fix_open(&f, &a, &b);

	assert_int_equal(EINVAL, mcall_set_legs(NULL, &a, &b));
	assert_int_equal(EINVAL, mcall_set_legs(f.mc, NULL, &b));
	assert_int_equal(EINVAL, mcall_set_legs(f.mc, &a, NULL));

	b.pt = 128;
	assert_int_equal(EINVAL, mcall_set_legs(f.mc, &a, &b));
	b.pt = 9;
	b.dtmf_pt = 200;
	assert_int_equal(EINVAL, mcall_set_legs(f.mc, &a, &b));
	b.dtmf_pt = 101;
	b.codec = (enum media_codec)42;
	assert_int_equal(EINVAL, mcall_set_legs(f.mc, &a, &b));
	b.codec = MEDIA_CODEC_G722;
	b.srtp = true;
	b.suite = (enum media_srtp_suite)9;
	assert_int_equal(EINVAL, mcall_set_legs(f.mc, &a, &b));
	b.srtp = false;

	/* one side NONE: a plain relay */
	leg_init(&b, MEDIA_CODEC_NONE, 0, 0);
	assert_int_equal(0, mcall_set_legs(f.mc, &a, &b));

	/* the handle outlives the relay harmlessly */
	f.m = mem_deref(f.m);
	assert_int_equal(ENODEV, mcall_set_legs(f.mc, &a, &b));
	f.mc = mem_deref(f.mc);
	for (int s = 0; s < 2; s++) {
		(void)close(f.ph[s].rtp);
		(void)close(f.ph[s].rtcp);
	}
}


/* (1) PCMA on side A, G.722 on side B */
static void test_pcma_g722(void **state)
{
	(void)state;

	tone_both_ways(MEDIA_CODEC_PCMA, PT_PCMA, MEDIA_CODEC_G722, PT_G722,
		       160);
}


/* (2) PCMA on side A, G.729 on side B */
static void test_pcma_g729(void **state)
{
	(void)state;

	tone_both_ways(MEDIA_CODEC_PCMA, PT_PCMA, MEDIA_CODEC_G729, PT_G729,
		       20);
}


/* Also PCMU, and G.722 straight to G.729 */
static void test_pcmu_g722_g729(void **state)
{
	(void)state;

	tone_both_ways(MEDIA_CODEC_PCMU, 0, MEDIA_CODEC_G722, PT_G722, 160);
	tone_both_ways(MEDIA_CODEC_G722, PT_G722, MEDIA_CODEC_G729, PT_G729,
		       20);
}


/*
 * Send one packet of PT `pt` and `len` bytes of payload from side `from`;
 * return the length received on the other side, or -1 if nothing came
 * within a few waits. got receives the packet.
 */
static ssize_t one_way(struct fix *f, enum media_side from, uint8_t pt,
		       size_t len, uint8_t *got, size_t size)
{
	uint8_t pl[480], pkt[600];
	const uint16_t seq = seq_next++;
	size_t n;

	for (size_t i = 0; i < len; i++)
		pl[i] = (uint8_t)(0xd5 ^ i);
	n = rtp_build(pkt, pt, false, seq, pl, len);
	send_to(f->ph[from].rtp, f->port[from], pkt, n);

	for (int w = 0; w < 5; w++) {
		ssize_t r = recv_wait(f->ph[!from].rtp, got, size);

		if (r >= 12 && rtp_seq(got) == seq)
			return r;
	}

	return -1;
}


/* Until a packet of PT `pt` comes out with PT `want` */
static void prime(struct fix *f, enum media_side from, uint8_t pt, size_t len,
		  uint8_t want)
{
	uint8_t got[2048];

	for (int i = 0; i < ATTEMPTS; i++) {
		if (one_way(f, from, pt, len, got, sizeof(got)) > 0 &&
		    (got[1] & 0x7f) == want)
			return;
	}

	fail_msg("no packet with PT %u came out", want);
}


/* (3) telephone-event PT remap, CN and unknown PTs while transcoding */
static void test_dtmf_remap(void **state)
{
	struct media_leg a, b;
	uint8_t got[2048];
	struct fix f;
	ssize_t n;
	(void)state;

	leg_init(&a, MEDIA_CODEC_PCMA, PT_PCMA, 101);
	leg_init(&b, MEDIA_CODEC_G722, PT_G722, 96);
	fix_open(&f, &a, &b);
	prime(&f, MEDIA_SIDE_A, PT_PCMA, 160, PT_G722);

	/* RFC 4733 payload (4 bytes) untouched, PT changed, marker kept */
	n = one_way(&f, MEDIA_SIDE_A, 101 | 0x80, 4, got, sizeof(got));
	assert_int_equal(16, n);
	assert_int_equal(0x80 | 96, got[1]);
	assert_int_equal(0xd5, got[12]);
	assert_int_equal(0xd6, got[15]);

	n = one_way(&f, MEDIA_SIDE_B, 96, 4, got, sizeof(got));
	assert_int_equal(16, n);
	assert_int_equal(101, got[1]);

	/* comfort noise, a stray PT, a truncated packet: dropped */
	assert_int_equal(-1, one_way(&f, MEDIA_SIDE_A, PT_CN, 1, got,
				     sizeof(got)));
	assert_int_equal(-1,
			 one_way(&f, MEDIA_SIDE_B, 0, 160, got, sizeof(got)));
	assert_int_equal(-1, one_way(&f, MEDIA_SIDE_A, PT_PCMA, 40, got,
				     sizeof(got)));

	/* B has no telephone-event: events from A are dropped */
	leg_init(&b, MEDIA_CODEC_G722, PT_G722, 0);
	assert_int_equal(0, mcall_set_legs(f.mc, &a, &b));
	prime(&f, MEDIA_SIDE_B, PT_G722, 160, PT_PCMA);
	assert_int_equal(-1,
			 one_way(&f, MEDIA_SIDE_A, 101, 4, got, sizeof(got)));

	/* same codec both sides: payload untouched, events remapped */
	leg_init(&b, MEDIA_CODEC_PCMA, PT_PCMA, 100);
	assert_int_equal(0, mcall_set_legs(f.mc, &a, &b));
	for (int i = 0; i < ATTEMPTS; i++) {
		n = one_way(&f, MEDIA_SIDE_A, 101, 4, got, sizeof(got));
		if (n == 16 && got[1] == 100)
			break;
	}
	assert_int_equal(100, got[1]);
	n = one_way(&f, MEDIA_SIDE_A, PT_PCMA, 160, got, sizeof(got));
	assert_int_equal(172, n);
	assert_int_equal(PT_PCMA, got[1]);
	assert_int_equal(0xd5, got[12]);
	assert_int_equal(0xd5 ^ 159, got[171]);
	n = one_way(&f, MEDIA_SIDE_B, PT_CN, 1, got, sizeof(got));
	assert_int_equal(13, n); /* not transcoding: CN passes */

	/* a T.38 switch: both NONE, everything as it came */
	leg_init(&a, MEDIA_CODEC_NONE, 0, 0);
	leg_init(&b, MEDIA_CODEC_NONE, 0, 0);
	assert_int_equal(0, mcall_set_legs(f.mc, &a, &b));
	for (int i = 0; i < ATTEMPTS; i++) {
		n = one_way(&f, MEDIA_SIDE_B, 100, 4, got, sizeof(got));
		if (n == 16 && got[1] == 100)
			break;
	}
	assert_int_equal(100, got[1]);
	n = one_way(&f, MEDIA_SIDE_A, 96, 300, got, sizeof(got));
	assert_int_equal(312, n);
	assert_int_equal(96, got[1]);

	fix_close(&f);
}


/* Printed, not asserted: CPU for BENCH_PKTS packets of 20 ms */
static void bench_one(enum media_codec from, enum media_codec to)
{
	struct transcoder *t = NULL;
	struct tcodec src;
	uint8_t(*in)[480], out[CODEC_PAYLOAD_MAX];
	size_t len = 0, n = 0;
	clock_t c0, c1;
	double ms;

	in = mem_alloc(BENCH_PKTS * sizeof(*in), NULL);
	assert_non_null(in);
	tcodec_init(&src, from);
	for (int i = 0; i < BENCH_PKTS; i++)
		len = tcodec_encode(&src, in[i]);
	tcodec_close(&src);

	assert_int_equal(0, transcoder_alloc(&t, from, to));

	c0 = clock();
	for (int i = 0; i < BENCH_PKTS; i++)
		assert_int_equal(0, transcoder_run(t, out, &n, in[i], len));
	c1 = clock();

	ms = 1000.0 * (double)(c1 - c0) / CLOCKS_PER_SEC;
	printf("  %s->%s: %d packets (20 ms) in %.1f ms CPU, %.1f us each,"
	       " %.2f%% of a core per stream\n",
	       media_codec_name(from), media_codec_name(to), BENCH_PKTS, ms,
	       1000.0 * ms / BENCH_PKTS, ms / (BENCH_PKTS / 50.0) / 10.0);

	mem_deref(t);
	mem_deref(in);
}


static void test_cpu_cost(void **state)
{
	(void)state;

	bench_one(MEDIA_CODEC_PCMA, MEDIA_CODEC_G722);
	bench_one(MEDIA_CODEC_G722, MEDIA_CODEC_PCMA);
	bench_one(MEDIA_CODEC_PCMA, MEDIA_CODEC_G729);
	bench_one(MEDIA_CODEC_G729, MEDIA_CODEC_PCMA);
}


static int group_setup(void **state)
{
	(void)state;

	log_setup(LOG_LVL_WARN, LOG_TARGET_STDERR);

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
		cmocka_unit_test(test_codec_names),
		cmocka_unit_test(test_codec_direct),
		cmocka_unit_test(test_set_legs_args),
		cmocka_unit_test(test_pcma_g722),
		cmocka_unit_test(test_pcma_g729),
		cmocka_unit_test(test_pcmu_g722_g729),
		cmocka_unit_test(test_dtmf_remap),
		cmocka_unit_test(test_cpu_cost),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

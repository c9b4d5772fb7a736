/**
 * @file relay_bench.c  CPU cost of the media relay per concurrent call
 *
 * For N calls (default 100), each with 20 ms RTP packets flowing both
 * ways, four cases are measured with 1 and with 2 relay threads:
 *
 *   plain relay     both legs MEDIA_CODEC_NONE, PCMA on the wire
 *   G.722 <-> PCMA  side A G.722, side B PCMA: transcoded both ways
 *   G.729 <-> PCMA  side A PCMA, side B G.729: transcoded both ways
 *   SRTP one leg    side A plain RTP, side B SRTP AES_CM_128_HMAC_SHA1_80,
 *                   PCMA on both (no transcoding, as mneg_legs() gives)
 *
 * The relay is the real one (media_alloc(), mcall_alloc(),
 * mcall_set_peer(), mcall_set_legs()) on 127.0.0.1.
 *
 * How the CPU is counted: the load generator, which plays both phones of
 * every call, is a child process forked before the relay's threads start
 * (this process has only its main thread at that moment, which is
 * checked). So this process's CPU time is the relay's alone: no cost of
 * the generator measured apart and subtracted, no model of it. The main
 * thread only sleeps during the measure; its own time (RUSAGE_THREAD) is
 * still taken off the process's (RUSAGE_SELF), and what remains is the
 * relay threads' user and system time, system calls included.
 *
 * On loopback the kernel delivers a datagram inside the sender's
 * sendto(): the relay pays for delivering its packets into the
 * generator's sockets, the generator for delivering its own into the
 * relay's. The figures so include the relay's transmit path to the far
 * socket, not the receive work of its incoming packets (which a network
 * card's interrupt handling would do, charged to no process).
 *
 * The generator sends real audio: a 1 kHz tone encoded before the fork
 * with spandsp's G.722 (from 16 kHz audio), bcg729 and librem's G.711,
 * one second of packets replayed with running sequence numbers and
 * timestamps. On the SRTP leg it protects every packet with libsrtp2 and
 * unprotects what the relay sends it. It checks what comes back (SRTP
 * authentication, PT, payload length of that side's codec) and counts
 * it, so a relay that falls behind shows as missing packets.
 *
 * Timeline of one run, on CLOCK_MONOTONIC, which both processes share:
 * WARM_MS of traffic first (latching, codec start-up), then the measured
 * window, then TAIL_MS more so that the window's last packets come back.
 * Calls are spread over the 20 ms period in 1 ms slots: real calls are
 * not in phase.
 *
 * Prints figures, asserts nothing. Every wait is bounded.
 *
 * Usage: relay_bench [-n CALLS] [-d SECONDS] [-t THREADS]... [-p PORT]
 */

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <spandsp.h>
#include <bcg729/encoder.h>
#include <srtp2/srtp.h>
#include <rem_g711.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"

#define DEBUG_MODULE "bench"


enum {
	CALLS_DEFAULT = 100,
	CALLS_MAX = 4000,
	SECONDS_DEFAULT = 10,
	SECONDS_MAX = 300,
	RUN_THREADS_MAX = 8, /**< -t values kept                     */
	WORKERS_MAX = 64,    /**< as media_alloc() accepts             */
	PORT_DEFAULT = 40000,
	PORT_SPARE = 64,       /**< ports beyond 4 per call: some in use */
	START_MS = 300,	       /**< for the workers to apply settings    */
	WARM_MS = 2000,	       /**< traffic before the measure           */
	TAIL_MS = 200,	       /**< traffic after the measure            */
	RESULT_WAIT_MS = 5000, /**< for the generator's figures     */
	PTIME_MS = 20,
	LOOP_PKTS = 50, /**< one second of tone, replayed         */
	PAYLOAD_MAX = 160,
	PKT_MAX = 2048,
	RTP_HDR = 12,
	TONE_HZ = 1000,
	TONE_AMP = 8000,
	PT_PCMA = 8,
	PT_G722 = 9,
	PT_G729 = 18,
	EVENTS_MAX = 256,
	DRAIN_MAX = 16,
};

static const int64_t NS_PER_MS = 1000000;

/** One second of encoded tone for one codec */
struct audio {
	enum media_codec codec;
	uint8_t pt;
	size_t len; /**< payload bytes per 20 ms */
	uint8_t pl[LOOP_PKTS][PAYLOAD_MAX];
};

/** One measured case */
struct scenario {
	const char *name;
	enum media_codec leg[2];  /**< what the relay is told, per side */
	enum media_codec wire[2]; /**< what each phone speaks           */
	bool srtp_b;		  /**< SRTP between the relay and B     */
};

static const struct scenario scenv[] = {
	{ "plain relay",
	  { MEDIA_CODEC_NONE, MEDIA_CODEC_NONE },
	  { MEDIA_CODEC_PCMA, MEDIA_CODEC_PCMA },
	  false },
	{ "G.722 <-> PCMA",
	  { MEDIA_CODEC_G722, MEDIA_CODEC_PCMA },
	  { MEDIA_CODEC_G722, MEDIA_CODEC_PCMA },
	  false },
	{ "G.729 <-> PCMA",
	  { MEDIA_CODEC_PCMA, MEDIA_CODEC_G729 },
	  { MEDIA_CODEC_PCMA, MEDIA_CODEC_G729 },
	  false },
	{ "SRTP one leg (AES_CM_128_HMAC_SHA1_80)",
	  { MEDIA_CODEC_NONE, MEDIA_CODEC_NONE },
	  { MEDIA_CODEC_PCMA, MEDIA_CODEC_PCMA },
	  true },
};

/** Options */
struct opts {
	uint32_t calls;
	uint32_t secs;
	uint32_t threadv[RUN_THREADS_MAX];
	uint32_t threadc;
	uint32_t port;
};

/** The tone in every codec, encoded before any fork */
struct audioset {
	struct audio pcma;
	struct audio g722;
	struct audio g729;
};

/** What the parent tells the generator, then the relay's ports */
struct genhdr {
	int64_t t0; /**< CLOCK_MONOTONIC ns: traffic starts */
	uint32_t calls;
	uint32_t secs;
};

/** What the generator reports, counted in the measured window only */
struct genres {
	uint64_t sent; /**< datagrams sent, both sides      */
	uint64_t got;  /**< received as expected             */
	uint64_t bad;  /**< received wrong (PT, length, SRTP) */
};

/** The generator: both phones of every call (child process) */
struct gen {
	const struct scenario *sc;
	const struct audio *au[2]; /**< what side A, B speak       */
	uint32_t calls;
	uint32_t secs;
	int64_t t0;
	int *fdv;	 /**< [2 * call + side]             */
	struct sa *dstv; /**< the relay's port per fd       */
	srtp_t *txv;	 /**< per call: B protects          */
	srtp_t *rxv;	 /**< per call: B unprotects        */
	int ep;
	bool window;
	struct genres res;
};


/* ---- helpers ---------------------------------------------------------- */


static int64_t mono_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);

	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static void sleep_until(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000,
			       .tv_nsec = ns % 1000000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}


static double cpu_s(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru))
		return 0;

	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}


static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EPIPE;
		p += n;
		len -= (size_t)n;
	}

	return 0;
}


/* Read len bytes, waiting at most ms in all (-1: no limit) */
static int read_all(int fd, void *buf, size_t len, int ms)
{
	const int64_t end = mono_ns() + (int64_t)ms * NS_PER_MS;
	uint8_t *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = -1;
		ssize_t n;

		if (ms >= 0) {
			left = (int)((end - mono_ns()) / NS_PER_MS);
			if (left <= 0)
				return ETIMEDOUT;
		}

		if (poll(&pfd, 1, left) <= 0)
			continue;

		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EPIPE;
		p += n;
		len -= (size_t)n;
	}

	return 0;
}


/* Threads of this process: forking is only safe with one */
static unsigned thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;

	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			++n;
	}
	(void)closedir(d);

	return n;
}


/* Let the relay and the generator have as many sockets as allowed */
static void nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;

	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}


/* ---- audio ------------------------------------------------------------ */


static int audio_encode(struct audio *au, const int16_t *pcm, size_t n,
			uint8_t *out, g722_encode_state_t *g722,
			bcg729EncoderChannelContextStruct *g729)
{
	size_t len = 0;

	switch (au->codec) {

	case MEDIA_CODEC_PCMA:
		for (size_t i = 0; i < n; i++)
			out[i] = g711_pcm2alaw(pcm[i]);
		len = n;
		break;

	case MEDIA_CODEC_G722:
		len = (size_t)g722_encode(g722, out, pcm, (int)n);
		break;

	case MEDIA_CODEC_G729:
		for (size_t i = 0; i < n; i += 80) {
			uint8_t l = 0;

			bcg729Encoder(g729, pcm + i, out + len, &l);
			len += l;
		}
		break;

	default:
		return EINVAL;
	}

	if (au->len && au->len != len)
		return EPROTO;

	au->len = len;

	return 0;
}


/* One second of a 1 kHz tone in one codec, phase continuous */
static int audio_make(struct audio *au, enum media_codec codec, uint8_t pt)
{
	const unsigned rate = codec == MEDIA_CODEC_G722 ? 16000 : 8000;
	const size_t n = rate / (1000 / PTIME_MS);
	g722_encode_state_t *g722 = NULL;
	bcg729EncoderChannelContextStruct *g729 = NULL;
	int16_t pcm[320];
	uint64_t t = 0;
	int err = 0;

	memset(au, 0, sizeof(*au));
	au->codec = codec;
	au->pt = pt;

	if (codec == MEDIA_CODEC_G722)
		g722 = g722_encode_init(NULL, 64000, 0);
	if (codec == MEDIA_CODEC_G729)
		g729 = initBcg729EncoderChannel(0);
	if ((codec == MEDIA_CODEC_G722 && !g722) ||
	    (codec == MEDIA_CODEC_G729 && !g729))
		return ENOMEM;

	for (int p = 0; p < LOOP_PKTS && !err; p++) {
		for (size_t i = 0; i < n; i++, t++)
			pcm[i] = (int16_t)(TONE_AMP * sin(2 * M_PI * TONE_HZ *
							  (double)t / rate));

		err = audio_encode(au, pcm, n, au->pl[p], g722, g729);
	}

	if (g722)
		g722_encode_free(g722);
	if (g729)
		closeBcg729EncoderChannel(g729);

	return err;
}


static int audioset_make(struct audioset *as)
{
	int err;

	err = audio_make(&as->pcma, MEDIA_CODEC_PCMA, PT_PCMA);
	if (!err)
		err = audio_make(&as->g722, MEDIA_CODEC_G722, PT_G722);
	if (!err)
		err = audio_make(&as->g729, MEDIA_CODEC_G729, PT_G729);

	return err;
}


static const struct audio *audio_of(const struct audioset *as,
				    enum media_codec c)
{
	switch (c) {

	case MEDIA_CODEC_G722:
		return &as->g722;
	case MEDIA_CODEC_G729:
		return &as->g729;
	default:
		return &as->pcma;
	}
}


/* SRTP master key + salt of call i toward side B, one per direction */
static void key_make(uint8_t *key, uint32_t call, bool to_b)
{
	for (unsigned j = 0; j < MEDIA_SRTP_KEY_LEN; j++)
		key[j] = (uint8_t)((to_b ? 0x5a : 0xc3) ^ (j * 29) ^ call ^
				   (call >> 8));
}


/* ---- the generator (child process) ----------------------------------- */


static srtp_t gen_session(uint32_t call, bool to_b)
{
	uint8_t key[MEDIA_SRTP_KEY_LEN];
	srtp_policy_t pol;
	srtp_t s = NULL;

	key_make(key, call, to_b);
	memset(&pol, 0, sizeof(pol));
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
	/* what the relay sends B (to_b) comes in; what B sends goes out */
	pol.ssrc.type = to_b ? ssrc_any_inbound : ssrc_any_outbound;
	pol.key = key;
	pol.window_size = 128;

	if (srtp_create(&s, &pol) != srtp_err_status_ok)
		return NULL;

	return s;
}


static int gen_setup(struct gen *g, const uint16_t *portv)
{
	struct epoll_event ev;

	g->ep = epoll_create1(EPOLL_CLOEXEC);
	if (g->ep < 0)
		return errno;

	for (uint32_t i = 0; i < 2 * g->calls; i++) {
		(void)sa_set_str(&g->dstv[i], "127.0.0.1", portv[i]);

		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(g->ep, EPOLL_CTL_ADD, g->fdv[i], &ev))
			return errno;
	}

	if (!g->sc->srtp_b)
		return 0;

	/* A second srtp_init() fails if the relay started libsrtp2 before
	 * the fork; srtp_create() below tells whether it works. */
	(void)srtp_init();

	for (uint32_t c = 0; c < g->calls; c++) {
		g->txv[c] = gen_session(c, false);
		g->rxv[c] = gen_session(c, true);
		if (!g->txv[c] || !g->rxv[c])
			return EPROTO;
	}

	return 0;
}


static void rtp_header(uint8_t *pkt, uint8_t pt, bool marker, uint16_t seq,
		       uint32_t ts, uint32_t ssrc)
{
	pkt[0] = 0x80;
	pkt[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	pkt[4] = (uint8_t)(ts >> 24);
	pkt[5] = (uint8_t)(ts >> 16);
	pkt[6] = (uint8_t)(ts >> 8);
	pkt[7] = (uint8_t)ts;
	pkt[8] = (uint8_t)(ssrc >> 24);
	pkt[9] = (uint8_t)(ssrc >> 16);
	pkt[10] = (uint8_t)(ssrc >> 8);
	pkt[11] = (uint8_t)ssrc;
}


/* Packet number n of call c from side s */
static void gen_send(struct gen *g, uint32_t c, int s, uint64_t n)
{
	const struct audio *au = g->au[s];
	const uint32_t i = 2 * c + (uint32_t)s;
	const struct sa *dst = &g->dstv[i];
	uint8_t pkt[PKT_MAX];
	int len = (int)(RTP_HDR + au->len);

	rtp_header(pkt, au->pt, n == 0, (uint16_t)(1000 + n),
		   (uint32_t)(n * 160), 0x10000000u + i);
	memcpy(pkt + RTP_HDR, au->pl[n % LOOP_PKTS], au->len);

	if (s == MEDIA_SIDE_B && g->sc->srtp_b &&
	    srtp_protect(g->txv[c], pkt, &len) != srtp_err_status_ok)
		return;

	if (sendto(g->fdv[i], pkt, (size_t)len, 0, &dst->u.sa, dst->len) < 0)
		return;

	if (g->window)
		++g->res.sent;
}


/* Slot k of 1 ms: calls c with c % 20 == k % 20 send their next packet */
static void gen_slot(struct gen *g, uint64_t k)
{
	const uint64_t n = k / PTIME_MS;

	for (uint32_t c = (uint32_t)(k % PTIME_MS); c < g->calls;
	     c += PTIME_MS) {
		gen_send(g, c, MEDIA_SIDE_A, n);
		gen_send(g, c, MEDIA_SIDE_B, n);
	}
}


/* What came back to phone i: the other side's audio, in this side's
 * codec, authentic */
static bool gen_check(struct gen *g, uint32_t i, uint8_t *pkt, int len)
{
	const int s = (int)(i % 2);
	const struct audio *au = g->au[s];

	if (s == MEDIA_SIDE_B && g->sc->srtp_b &&
	    srtp_unprotect(g->rxv[i / 2], pkt, &len) != srtp_err_status_ok)
		return false;

	return len == (int)(RTP_HDR + au->len) && (pkt[1] & 0x7f) == au->pt;
}


static void gen_drain(struct gen *g, uint32_t i)
{
	uint8_t pkt[PKT_MAX];

	for (int k = 0; k < DRAIN_MAX; k++) {
		const ssize_t n = recv(g->fdv[i], pkt, sizeof(pkt), 0);
		bool ok;

		if (n < 0)
			break;

		ok = gen_check(g, i, pkt, (int)n);
		if (!g->window)
			continue;
		if (ok)
			++g->res.got;
		else
			++g->res.bad;
	}
}


static void gen_loop(struct gen *g)
{
	const int64_t m0 = g->t0 + WARM_MS * NS_PER_MS;
	const int64_t m1 = m0 + (int64_t)g->secs * 1000 * NS_PER_MS;
	const int64_t end = m1 + TAIL_MS * NS_PER_MS;
	struct epoll_event evv[EVENTS_MAX];
	uint64_t k = 0;

	sleep_until(g->t0);

	for (;;) {
		int64_t now = mono_ns();
		int tmo, n;

		if (now >= end)
			break;

		g->window = now >= m0 && now < m1;
		while (g->t0 + (int64_t)k * NS_PER_MS <= now)
			gen_slot(g, k++);

		tmo = (int)((g->t0 + (int64_t)k * NS_PER_MS - now + NS_PER_MS -
			     1) /
			    NS_PER_MS);
		n = epoll_wait(g->ep, evv, EVENTS_MAX, tmo);

		now = mono_ns();
		g->window = now >= m0 && now < m1;
		for (int e = 0; e < n; e++)
			gen_drain(g, evv[e].data.u32);
	}
}


/* Child process: never returns */
static void gen_main(const struct scenario *sc, const struct audioset *as,
		     int *fdv, int rfd, int wfd)
{
	struct gen g;
	struct genhdr hdr;
	uint16_t *portv = NULL;
	int err;

	memset(&g, 0, sizeof(g));
	g.sc = sc;
	g.fdv = fdv;
	g.ep = -1;
	g.au[MEDIA_SIDE_A] = audio_of(as, sc->wire[MEDIA_SIDE_A]);
	g.au[MEDIA_SIDE_B] = audio_of(as, sc->wire[MEDIA_SIDE_B]);

	/* the parent may fail to start the relay: EPIPE then, no wait */
	err = read_all(rfd, &hdr, sizeof(hdr), -1);
	if (err)
		_exit(1);

	g.calls = hdr.calls;
	g.secs = hdr.secs;
	g.t0 = hdr.t0;

	portv = mem_zalloc(2 * g.calls * sizeof(*portv), NULL);
	g.dstv = mem_zalloc(2 * g.calls * sizeof(*g.dstv), NULL);
	g.txv = mem_zalloc(g.calls * sizeof(*g.txv), NULL);
	g.rxv = mem_zalloc(g.calls * sizeof(*g.rxv), NULL);
	if (!portv || !g.dstv || !g.txv || !g.rxv)
		_exit(1);

	err = read_all(rfd, portv, 2 * g.calls * sizeof(*portv), -1);
	if (!err)
		err = gen_setup(&g, portv);
	if (err) {
		fprintf(stderr, "generator: %s\n", strerror(err));
		_exit(1);
	}

	gen_loop(&g);

	(void)write_all(wfd, &g.res, sizeof(g.res));
	_exit(0);
}


/* ---- the relay side (this process) ----------------------------------- */


/** One run: a scenario with a number of relay threads */
struct run {
	const struct scenario *sc;
	const struct opts *o;
	uint32_t threads;
	int *fdv;	  /**< phones' sockets, until the fork */
	struct sa *addrv; /**< and their addresses             */
	struct mcall **mcv;
	struct media *m;
	pid_t pid;
	int tochild;
	int fromchild;
	double cpu; /**< relay threads' CPU in the window, s */
	struct genres res;
};


static int phones_open(struct run *r)
{
	const uint32_t n = 2 * r->o->calls;

	for (uint32_t i = 0; i < n; i++)
		r->fdv[i] = -1;

	for (uint32_t i = 0; i < n; i++) {
		struct sa *a = &r->addrv[i];
		int fd;

		(void)sa_set_str(a, "127.0.0.1", 0);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP);
		if (fd < 0)
			return errno;
		r->fdv[i] = fd;

		if (bind(fd, &a->u.sa, a->len) ||
		    getsockname(fd, &a->u.sa, &a->len))
			return errno;
	}

	return 0;
}


static void phones_close(struct run *r)
{
	for (uint32_t i = 0; i < 2 * r->o->calls; i++) {
		if (r->fdv[i] >= 0)
			(void)close(r->fdv[i]);
		r->fdv[i] = -1;
	}
}


static void leg_make(struct media_leg *l, const struct scenario *sc, int s,
		     uint32_t call)
{
	memset(l, 0, sizeof(*l));
	l->codec = sc->leg[s];
	l->pt = sc->wire[s] == MEDIA_CODEC_G722	  ? PT_G722
		: sc->wire[s] == MEDIA_CODEC_G729 ? PT_G729
						  : PT_PCMA;

	if (s != MEDIA_SIDE_B || !sc->srtp_b)
		return;

	l->srtp = true;
	l->suite = MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80;
	key_make(l->key_tx, call, true);
	key_make(l->key_rx, call, false);
}


static int relay_start(struct run *r, uint16_t *portv)
{
	const uint32_t calls = r->o->calls;
	struct media_conf conf;
	int err;

	memset(&conf, 0, sizeof(conf));
	conf.address = "127.0.0.1";
	conf.port_min = (uint16_t)r->o->port;
	conf.port_max = (uint16_t)(r->o->port + 4 * calls + PORT_SPARE);
	conf.threads = r->threads;
	conf.dscp = 46;

	err = media_alloc(&r->m, &conf, NULL, NULL);
	if (err)
		return err;

	for (uint32_t c = 0; c < calls; c++) {
		struct media_leg a, b;
		char tag[32];

		(void)re_snprintf(tag, sizeof(tag), "bench-%u", c);
		err = mcall_alloc(&r->mcv[c], r->m, tag);
		if (err)
			return err;

		for (int s = 0; s < 2; s++) {
			const struct sa *pa = &r->addrv[2 * c + (uint32_t)s];

			portv[2 * c + (uint32_t)s] =
			    mcall_port(r->mcv[c], (enum media_side)s);
			err = mcall_set_peer(r->mcv[c], (enum media_side)s, pa,
					     NULL);
			if (err)
				return err;
		}

		leg_make(&a, r->sc, MEDIA_SIDE_A, c);
		leg_make(&b, r->sc, MEDIA_SIDE_B, c);
		err = mcall_set_legs(r->mcv[c], &a, &b);
		if (err)
			return err;
	}

	return 0;
}


static void relay_stop(struct run *r)
{
	for (uint32_t c = 0; r->mcv && c < r->o->calls; c++)
		r->mcv[c] = mem_deref(r->mcv[c]);

	/* joins the workers: one thread again, ready for the next fork */
	r->m = mem_deref(r->m);
}


static int child_start(struct run *r, const struct audioset *as)
{
	int down[2], up[2];

	if (thread_count() != 1)
		return EDEADLK; /* a fork now could copy a held lock */

	if (pipe2(down, O_CLOEXEC))
		return errno;
	if (pipe2(up, O_CLOEXEC)) {
		(void)close(down[0]);
		(void)close(down[1]);
		return errno;
	}

	(void)fflush(stdout);
	(void)fflush(stderr);

	r->pid = fork();
	if (r->pid < 0) {
		r->pid = 0;
		return errno;
	}

	if (r->pid == 0) {
		(void)close(down[1]);
		(void)close(up[0]);
		gen_main(r->sc, as, r->fdv, down[0], up[1]);
	}

	(void)close(down[0]);
	(void)close(up[1]);
	r->tochild = down[1];
	r->fromchild = up[0];

	/* the generator has its copies; the relay must not hold them */
	phones_close(r);

	return 0;
}


static void child_stop(struct run *r, bool kill_it)
{
	if (r->tochild >= 0)
		(void)close(r->tochild);
	if (r->fromchild >= 0)
		(void)close(r->fromchild);
	r->tochild = r->fromchild = -1;

	if (!r->pid)
		return;

	if (kill_it)
		(void)kill(r->pid, SIGKILL);
	(void)waitpid(r->pid, NULL, 0);
	r->pid = 0;
}


/* Both processes wake at the same CLOCK_MONOTONIC instants */
static int measure(struct run *r, const uint16_t *portv)
{
	const uint32_t calls = r->o->calls;
	struct genhdr hdr;
	int64_t m0, m1;
	double self0, self1, main0, main1;
	int err;

	hdr.t0 = mono_ns() + START_MS * NS_PER_MS;
	hdr.calls = calls;
	hdr.secs = r->o->secs;
	m0 = hdr.t0 + WARM_MS * NS_PER_MS;
	m1 = m0 + (int64_t)r->o->secs * 1000 * NS_PER_MS;

	err = write_all(r->tochild, &hdr, sizeof(hdr));
	if (!err)
		err = write_all(r->tochild, portv, 2 * calls * sizeof(*portv));
	if (err)
		return err;

	sleep_until(m0);
	self0 = cpu_s(RUSAGE_SELF);
	main0 = cpu_s(RUSAGE_THREAD);
	sleep_until(m1);
	self1 = cpu_s(RUSAGE_SELF);
	main1 = cpu_s(RUSAGE_THREAD);

	r->cpu = (self1 - self0) - (main1 - main0);

	return read_all(r->fromchild, &r->res, sizeof(r->res),
			TAIL_MS + RESULT_WAIT_MS);
}


static void report(const struct run *r)
{
	const double secs = r->o->secs;
	const double pct = 100.0 * r->cpu / secs;
	const double expect = 2.0 * r->o->calls * secs * 1000 / PTIME_MS;

	printf("  %-40s %7.2f%% %8.3f%% %7.2f   %5.1f%%  %5.1f%%\n",
	       r->sc->name, pct, pct / r->o->calls,
	       r->res.sent ? 1e6 * r->cpu / (double)r->res.sent : 0.0,
	       100.0 * (double)r->res.sent / expect,
	       r->res.sent ? 100.0 * (double)r->res.got / (double)r->res.sent
			   : 0.0);

	if (r->res.bad)
		printf("  %-40s %llu packets came back wrong\n", "",
		       (unsigned long long)r->res.bad);
}


static int run_one(const struct scenario *sc, uint32_t threads,
		   const struct opts *o, const struct audioset *as)
{
	const uint32_t n = 2 * o->calls;
	struct run r;
	uint16_t *portv;
	int err;

	memset(&r, 0, sizeof(r));
	r.sc = sc;
	r.o = o;
	r.threads = threads;
	r.tochild = r.fromchild = -1;
	r.fdv = mem_zalloc(n * sizeof(*r.fdv), NULL);
	r.addrv = mem_zalloc(n * sizeof(*r.addrv), NULL);
	r.mcv = mem_zalloc(o->calls * sizeof(*r.mcv), NULL);
	portv = mem_zalloc(n * sizeof(*portv), NULL);
	if (!r.fdv || !r.addrv || !r.mcv || !portv) {
		err = ENOMEM;
		goto out;
	}

	err = phones_open(&r);
	if (!err)
		err = child_start(&r, as);
	if (err)
		goto out;

	err = relay_start(&r, portv);
	if (!err)
		err = measure(&r, portv);

	child_stop(&r, err != 0);

	if (!err)
		report(&r);

out:
	if (err)
		printf("  %-40s failed: %s\n", sc->name, strerror(err));
	if (r.fdv)
		phones_close(&r);
	child_stop(&r, true);
	relay_stop(&r);
	mem_deref(r.fdv);
	mem_deref(r.addrv);
	mem_deref(r.mcv);
	mem_deref(portv);

	return err;
}


/* ---- main -------------------------------------------------------------- */


static int opts_parse(struct opts *o, int argc, char *argv[])
{
	int c;

	o->calls = CALLS_DEFAULT;
	o->secs = SECONDS_DEFAULT;
	o->port = PORT_DEFAULT;
	o->threadc = 0;

	while ((c = getopt(argc, argv, "n:d:t:p:")) != -1) {
		uint32_t v;
		int err = EINVAL;

		switch (c) {

		case 'n':
			err = num_u32_str(optarg, 1, CALLS_MAX, &o->calls);
			break;

		case 'd':
			err = num_u32_str(optarg, 1, SECONDS_MAX, &o->secs);
			break;

		case 't':
			err = num_u32_str(optarg, 1, WORKERS_MAX, &v);
			if (!err && o->threadc < RUN_THREADS_MAX)
				o->threadv[o->threadc++] = v;
			break;

		case 'p':
			err = num_u32_str(optarg, 1024, 60000, &o->port);
			break;

		default:
			break;
		}

		if (err)
			return EINVAL;
	}

	if (o->port + 4 * o->calls + PORT_SPARE > 65535)
		return EINVAL;

	if (!o->threadc) {
		o->threadv[o->threadc++] = 1;
		o->threadv[o->threadc++] = 2;
	}

	return 0;
}


int main(int argc, char *argv[])
{
	struct audioset *as;
	struct opts o;
	int err, fails = 0;

	if (opts_parse(&o, argc, argv)) {
		fprintf(stderr,
			"usage: relay_bench [-n CALLS (1-%d)]"
			" [-d SECONDS (1-%d)] [-t THREADS]..."
			" [-p FIRST_PORT]\n",
			CALLS_MAX, SECONDS_MAX);
		return 2;
	}

	/* a generator that dies must not kill us with SIGPIPE */
	(void)signal(SIGPIPE, SIG_IGN);
	nofile_raise();
	log_setup(LOG_LVL_WARN, LOG_TARGET_STDERR);

	err = libre_init();
	if (err) {
		fprintf(stderr, "libre_init: %s\n", strerror(err));
		return 1;
	}

	as = mem_zalloc(sizeof(*as), NULL);
	err = as ? audioset_make(as) : ENOMEM;
	if (err) {
		fprintf(stderr, "cannot encode the tone: %s\n", strerror(err));
		goto out;
	}

	for (uint32_t t = 0; t < o.threadc; t++) {
		printf("---- media relay, %u thread%s: %u calls, 20 ms packets"
		       " both ways, %u s measured\n",
		       o.threadv[t], o.threadv[t] > 1 ? "s" : "", o.calls,
		       o.secs);
		printf("  %-40s %8s %9s %7s %7s %7s\n", "case", "relay",
		       "per call", "us/pkt", "sent", "back");

		for (size_t s = 0; s < ARRAY_SIZE(scenv); s++) {
			if (run_one(&scenv[s], o.threadv[t], &o, as))
				++fails;
		}
	}

	printf("  relay, per call: %% of one core (all relay threads);"
	       " us/pkt: relay CPU per packet\n"
	       "  received; sent: of 50 pkt/s per side; back: received"
	       " correct, of those sent\n"
	       "  (counted in the same window: its edges move it by about"
	       " 1%%)\n");

out:
	mem_deref(as);
	libre_close();
	log_close();

	return err || fails ? 1 : 0;
}

/**
 * @file relay.c  Media relay: worker threads moving RTP/RTCP between the
 *                two legs of a call
 *
 * Threads and memory ownership. libre 1.1.0 reference counts are not
 * atomic, so an object is only ever mem_ref()'d or mem_deref()'d by the one
 * thread that owns it at that moment; ownership moves with a message and
 * the sender never touches the object again.
 *
 * - struct media and struct mcall belong to the SIP thread (the thread that
 *   called media_alloc()). So does m->mq, the SIP thread's own mqueue,
 *   created in media_alloc() and freed in the media destructor.
 * - struct worker lives in the m->workv array. w->mq, w->relays and w->tmr
 *   belong to the worker thread: it creates them after re_thread_init()
 *   and frees them before re_thread_close(). The SIP thread only calls
 *   mqueue_push(w->mq, ...) between the start handshake and MSG_QUIT.
 * - struct relay is built by the SIP thread in mcall_alloc() (the sockets
 *   are bound there so that errors show at once), then handed to a worker
 *   with MSG_ADD. From then on the worker alone reads, writes,
 *   fd_listen()s and frees it (on MSG_DEL, or when the worker quits). The
 *   SIP thread keeps the pointer in mc->rel only to name the relay in
 *   MSG_PEER and MSG_DEL; it never dereferences it.
 * - struct peermsg is allocated by the SIP thread and freed by the worker
 *   that receives MSG_PEER. MSG_LATCH_ON/OFF carry only the relay's name.
 * - struct rebindmsg (mcall_rebind()) carries a new RTP/RTCP port pair,
 *   taken from the pool and bound by the SIP thread. The worker that
 *   receives MSG_REBIND moves the sockets and the port into the relay,
 *   closes the old pair and gives its ports back to the pool, as the
 *   relay's destructor does. A message that was never taken (push failed)
 *   closes its sockets and returns its port in its own destructor.
 * - struct legsmsg (mcall_set_legs()) is allocated by the SIP thread with
 *   the transcoders and SRTP sessions it carries, all built there so that
 *   errors show at once. The worker that receives MSG_LEGS moves them into
 *   the relay (or keeps its own when they are equivalent) and frees the
 *   message with whatever is left in it. From then on the codec state and
 *   the SRTP sessions are the worker's, freed with the relay.
 * - struct tomsg (a timeout report) is allocated by a worker, linked into
 *   m->inflight under m->lock, then pushed to m->mq. Whoever unlinks it
 *   under m->lock frees it: the SIP thread's handler, the worker itself if
 *   the push failed, or the media destructor once the workers are gone.
 * - struct portpool is shared and has its own mutex; it outlives the
 *   workers, which give ports back.
 * - m->timeout_s is atomic: the SIP thread writes it, workers read it.
 * - m->lock covers m->inflight and the start handshake (w->ready, w->err).
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "media/media_int.h"

#define DEBUG_MODULE "media"


enum {
	BUFSZ = 2048,	      /**< receive buffer, larger than any RTP   */
	DRAIN_MAX = 64,	      /**< datagrams read per socket event       */
	BIND_ATTEMPTS = 8,    /**< port pairs tried when one is in use   */
	TICK_MS = 1000,	      /**< worker timer period                   */
	PUSH_RETRIES = 1000,  /**< 1 ms waits for room in a full mqueue  */
	THREADS_MAX = 64,     /**< upper bound of media_conf.threads     */
	MAXFDS_FLOOR = 1024,  /**< fd table of a worker, at least        */
	MAXFDS_CEIL = 131072, /**< ... and at most                       */
};

/** Messages between the SIP thread and the workers */
enum msg_id {
	MSG_ADD = 1,   /**< SIP -> worker: struct relay, now the worker's  */
	MSG_PEER,      /**< SIP -> worker: struct peermsg                  */
	MSG_LEGS,      /**< SIP -> worker: struct legsmsg                  */
	MSG_REBIND,    /**< SIP -> worker: struct rebindmsg                */
	MSG_LATCH_ON,  /**< SIP -> worker: struct relay, symmetric RTP     */
	MSG_LATCH_OFF, /**< SIP -> worker: struct relay, SDP peer only     */
	MSG_DEL,       /**< SIP -> worker: struct relay to free            */
	MSG_QUIT,      /**< SIP -> worker: leave re_main()                 */
	MSG_TIMEOUT,   /**< worker -> SIP: struct tomsg                    */
};

enum comp {
	COMP_RTP = 0,
	COMP_RTCP = 1,
};

enum {
	RTP_HDR_LEN = 12, /**< RFC 3550 5.1, without CSRCs    */
	PT_MAX = 127,
};

/** What the worker needs of a struct media_leg: no keys */
struct legcfg {
	enum media_codec codec; /**< NONE: payload passed untouched */
	uint8_t pt;
	uint8_t dtmf_pt; /**< 0 = none */
};

struct relay;
struct media;

/** One UDP socket of a relay; the fd handler argument */
struct sock {
	struct relay *rel;
	int fd;
	uint8_t side;	/**< enum media_side         */
	uint8_t comp;	/**< enum comp               */
	bool listening; /**< fd_listen() succeeded   */
};

/** One side of a relay: the sockets facing one phone or trunk */
struct leg {
	struct sock sock[2];   /**< RTP, RTCP                           */
	uint16_t port;	       /**< our RTP port, 0 if none taken       */
	struct sa peer[2];     /**< where RTP and RTCP go on this side  */
	struct sa sig[2];      /**< ... as signalled (mcall_set_peer)   */
	bool latched[2];       /**< peer learnt from a received packet  */
	uint64_t pkts_in;      /**< datagrams received on this side     */
	uint64_t pkts_fwd;     /**< ... forwarded to the other side     */
	uint64_t bytes_fwd;    /**< ... and their bytes                 */
	uint64_t dropped;      /**< ... dropped: other side has no peer */
	uint64_t errors;       /**< ... failed to send, or too large    */
	uint64_t discarded;    /**< ... not transcodable: CN, other PT  */
	uint64_t srtp_fail;    /**< ... failed SRTP auth or replay      */
	struct legcfg cfg;     /**< codec and PTs on this side          */
	struct transcoder *xc; /**< this side's codec -> the other's  */
	struct srtpx *srx;     /**< unprotects what this side sends   */
	struct srtpx *stx;     /**< protects what we send this side   */
};

/** The media of one call, owned by a worker once started (MSG_ADD) */
struct relay {
	struct le le;	       /**< in worker->relays                   */
	struct portpool *pool; /**< where the two port pairs go back    */
	char *tag;	       /**< call tag (Call-ID) for log lines    */
	struct leg leg[2];     /**< indexed by enum media_side          */
	uint64_t last;	       /**< jiffies of start/last packet/peer   */
	bool active;	       /**< a packet came since the last tick   */
	bool reported;	       /**< timeout reported to the SIP thread  */
	bool started;	       /**< a worker took it over               */
	bool nolatch;	       /**< symmetric RTP off: SDP peers only   */
};

/** A relay thread with its own libre loop */
struct worker {
	struct media *m; /**< owner; outlives the thread          */
	unsigned idx;
	pthread_t tid;
	bool started;	    /**< thread runs (SIP thread only)       */
	bool ready;	    /**< handshake done (under m->lock)      */
	int err;	    /**< start result (under m->lock)        */
	atomic_bool quit;   /**< leave the loop (MSG_QUIT, fallback) */
	struct mqueue *mq;  /**< worker's inbox                      */
	struct list relays; /**< struct relay, worker only           */
	struct tmr tmr;	    /**< 1 s tick, worker only               */
};

/** The media relay (SIP thread) */
struct media {
	struct sa laddr;   /**< address we bind and announce     */
	struct sa laddr_b; /**< side B binds here (= laddr if unset) */
	struct portpool *pool;
	struct worker *workv;
	uint32_t workc;
	uint32_t next;	   /**< round-robin worker index         */
	struct mqueue *mq; /**< SIP thread's inbox (timeouts)    */
	media_timeout_h *toh;
	void *arg;
	struct list calls; /**< struct mcall, SIP thread only    */
	atomic_uint timeout_s;
	int tos;	      /**< IP_TOS / IPV6_TCLASS value       */
	int maxfds;	      /**< fd table size of every worker    */
	uint64_t timeouts;    /**< timeouts reported, SIP thread    */
	pthread_mutex_t lock; /**< inflight, worker handshake       */
	pthread_cond_t cond;
	bool sync_ok;	      /**< lock and cond initialised        */
	struct list inflight; /**< struct tomsg, under lock         */
};

/** The SIP thread's handle on the media of one call */
struct mcall {
	struct le le;	   /**< in media->calls                     */
	struct media *m;   /**< NULL once the media object is gone  */
	struct worker *w;  /**< worker that owns rel                */
	struct relay *rel; /**< a name only: never dereferenced     */
	uint16_t port[2];  /**< our RTP port toward each side       */
};

/** MSG_PEER payload */
struct peermsg {
	struct relay *rel;
	enum media_side side;
	struct sa addr[2]; /**< RTP, RTCP; unset means unknown      */
};

/** MSG_REBIND payload: a bound port pair, the worker's once taken */
struct rebindmsg {
	struct relay *rel;
	struct portpool *pool; /**< where port goes if never taken */
	enum media_side side;
	struct sock sock[2]; /**< RTP, RTCP; fd -1 once taken    */
	uint16_t port;	     /**< 0 once taken                   */
};

/** MSG_LEGS payload; arrays indexed by enum media_side */
struct legsmsg {
	struct relay *rel;
	struct legcfg cfg[2];
	struct transcoder *xc[2]; /**< from side s to the other side   */
	struct srtpx *srx[2];	  /**< unprotect packets from side s   */
	struct srtpx *stx[2];	  /**< protect packets to side s       */
};

/** MSG_TIMEOUT payload */
struct tomsg {
	struct le le; /**< in media->inflight, under m->lock   */
	char *tag;
};


static void sleep_ms(long ms)
{
	const struct timespec ts = { .tv_sec = ms / 1000,
				     .tv_nsec = (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}


/*
 * A full pipe means the worker is busy, not gone: wait a little for room
 * (at most about a second) instead of losing a teardown.
 */
static int worker_push(struct worker *w, enum msg_id id, void *data)
{
	int err = 0;

	for (unsigned i = 0; i <= PUSH_RETRIES; i++) {
		err = mqueue_push(w->mq, id, data);
		if (err != EAGAIN && err != EWOULDBLOCK)
			break;

		sleep_ms(1);
	}

	return err;
}


/* ---- relay: created on the SIP thread, then worker only ------------- */


static void sock_close(struct sock *sk)
{
	if (sk->listening)
		fd_close(sk->fd);
	sk->listening = false;

	if (sk->fd >= 0)
		(void)close(sk->fd);
	sk->fd = -1;
}


static void relay_log_stats(const struct relay *rel)
{
	const struct leg *a = &rel->leg[MEDIA_SIDE_A];
	const struct leg *b = &rel->leg[MEDIA_SIDE_B];

	log_ctx_set(rel->tag);
	log_info("relay %u/%u closed: A->B %llu of %llu pkts %llu bytes,"
		 " B->A %llu of %llu pkts %llu bytes, dropped %llu,"
		 " errors %llu, not transcodable %llu, SRTP failures"
		 " %llu\n",
		 a->port, b->port, (unsigned long long)a->pkts_fwd,
		 (unsigned long long)a->pkts_in,
		 (unsigned long long)a->bytes_fwd,
		 (unsigned long long)b->pkts_fwd,
		 (unsigned long long)b->pkts_in,
		 (unsigned long long)b->bytes_fwd,
		 (unsigned long long)(a->dropped + b->dropped),
		 (unsigned long long)(a->errors + b->errors),
		 (unsigned long long)(a->discarded + b->discarded),
		 (unsigned long long)(a->srtp_fail + b->srtp_fail));
	log_ctx_clear();
}


/* Runs on the SIP thread before MSG_ADD, on the worker after it. */
static void relay_destructor(void *arg)
{
	struct relay *rel = arg;

	list_unlink(&rel->le);

	if (rel->started)
		relay_log_stats(rel);

	for (int s = 0; s < 2; s++) {
		struct leg *leg = &rel->leg[s];

		sock_close(&leg->sock[COMP_RTP]);
		sock_close(&leg->sock[COMP_RTCP]);

		if (leg->port)
			portpool_put(rel->pool, leg->port);
		leg->port = 0;

		leg->xc = mem_deref(leg->xc);
		leg->srx = mem_deref(leg->srx);
		leg->stx = mem_deref(leg->stx);
	}

	mem_deref(rel->tag);
}


static int sock_open(int *fdp, const struct media *m, const struct sa *laddr,
		     uint16_t port)
{
	struct sa a = *laddr;
	int fd, err;

	sa_set_port(&a, port);

	fd = socket(sa_af(&a), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_UDP);
	if (fd < 0)
		return errno;

	/* RFC 2474: DSCP in the upper six bits of TOS / Traffic Class */
	if (sa_af(&a) == AF_INET6)
		err = setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &m->tos,
				 sizeof(m->tos));
	else
		err = setsockopt(fd, IPPROTO_IP, IP_TOS, &m->tos,
				 sizeof(m->tos));
	if (err)
		log_warn("cannot mark port %u with TOS 0x%02x: %m\n", port,
			 m->tos, errno);

	if (bind(fd, &a.u.sa, a.len) < 0) {
		err = errno;
		(void)close(fd);
		return err;
	}

	/* libre indexes its fd table by fd number */
	if (fd >= m->maxfds) {
		log_warn("fd %d beyond the relay's table of %d\n", fd,
			 m->maxfds);
		(void)close(fd);
		return EMFILE;
	}

	*fdp = fd;

	return 0;
}


static const struct sa *side_laddr(const struct media *m, enum media_side side)
{
	return side == MEDIA_SIDE_B ? &m->laddr_b : &m->laddr;
}


/*
 * Take a port pair from the pool and bind RTP and RTCP toward one side, on
 * that side's address. A pair that another program holds goes back to the
 * end of the pool, and the next one is tried. sk[] must have fd -1.
 */
static int pair_open(struct sock sk[2], uint16_t *portp, const struct media *m,
		     enum media_side side)
{
	const struct sa *laddr = side_laddr(m, side);
	int err = EADDRINUSE;

	for (int i = 0; i < BIND_ATTEMPTS; i++) {
		uint16_t port;

		err = portpool_get(m->pool, &port);
		if (err)
			return err;

		err = sock_open(&sk[COMP_RTP].fd, m, laddr, port);
		if (!err)
			err = sock_open(&sk[COMP_RTCP].fd, m, laddr,
					(uint16_t)(port + 1));
		if (!err) {
			*portp = port;
			return 0;
		}

		sock_close(&sk[COMP_RTP]);
		sock_close(&sk[COMP_RTCP]);
		portpool_put(m->pool, port);

		if (err != EADDRINUSE)
			return err;

		log_debug("ports %u-%u in use elsewhere, trying others\n",
			  port, port + 1);
	}

	return err;
}


static int relay_alloc(struct relay **relp, const struct media *m,
		       const char *tag)
{
	struct relay *rel;
	int err;

	rel = mem_zalloc(sizeof(*rel), relay_destructor);
	if (!rel)
		return ENOMEM;

	rel->pool = m->pool;

	for (int s = 0; s < 2; s++) {
		for (int c = 0; c < 2; c++) {
			struct sock *sk = &rel->leg[s].sock[c];

			sk->rel = rel;
			sk->fd = -1;
			sk->side = (uint8_t)s;
			sk->comp = (uint8_t)c;
		}
	}

	err = str_dup(&rel->tag, tag);
	if (err)
		goto out;

	for (int s = 0; s < 2 && !err; s++) {
		struct leg *leg = &rel->leg[s];

		err = pair_open(leg->sock, &leg->port, m, (enum media_side)s);
	}

out:
	if (err)
		mem_deref(rel);
	else
		*relp = rel;

	return err;
}


/* ---- worker thread --------------------------------------------------- */


static char side_name(const struct relay *rel, const struct leg *leg)
{
	return leg == &rel->leg[MEDIA_SIDE_A] ? 'A' : 'B';
}


/* Symmetric RTP: send back to where the phone really sends from. */
static void latch(struct relay *rel, struct leg *leg, enum comp c,
		  const struct sa *src)
{
	const bool was_set = sa_isset(&leg->peer[c], SA_ALL);
	const char side = side_name(rel, leg);
	const char *what = c == COMP_RTP ? "RTP" : "RTCP";

	log_ctx_set(rel->tag);
	if (was_set && sa_cmp(&leg->peer[c], src, SA_ALL))
		log_debug("side %c %s confirmed from %J\n", side, what, src);
	else if (was_set)
		log_info("side %c %s latched to %J (signalled %J)\n", side,
			 what, src, &leg->peer[c]);
	else
		log_info("side %c %s latched to %J\n", side, what, src);
	log_ctx_clear();

	leg->peer[c] = *src;
	leg->latched[c] = true;
}


static void relay_forward(struct relay *rel, struct leg *in, struct leg *out,
			  enum comp c, const uint8_t *buf, size_t n)
{
	const struct sa *dst = &out->peer[c];

	if (!sa_isset(dst, SA_ALL)) {
		++in->dropped;
		return;
	}

	if (sendto(out->sock[c].fd, buf, n, 0, &dst->u.sa, dst->len) < 0) {
		if (!in->errors) {
			log_ctx_set(rel->tag);
			log_warn("send to %J failed: %m\n", dst, errno);
			log_ctx_clear();
		}
		++in->errors;
		return;
	}

	++in->pkts_fwd;
	in->bytes_fwd += n;
}


/* RFC 5761 4: RTCP multiplexed on the RTP port has PT 192-223 there */
static bool rtcp_on_rtp(const uint8_t *buf, size_t len)
{
	return len >= 8 && (buf[0] >> 6) == 2 && buf[1] >= 192 &&
	       buf[1] <= 223;
}


static void pt_set(uint8_t *buf, uint8_t pt)
{
	buf[1] = (uint8_t)((buf[1] & 0x80) | pt); /* keep the marker */
}


/* RFC 3550 5.1 and 5.3.1: fixed header, CSRCs, extension, padding */
static int rtp_split(const uint8_t *buf, size_t len, size_t *hdrlen,
		     size_t *paylen)
{
	size_t h, pad = 0;

	if (len < RTP_HDR_LEN || (buf[0] >> 6) != 2)
		return EBADMSG;

	h = RTP_HDR_LEN + 4 * (size_t)(buf[0] & 0x0f);

	if (buf[0] & 0x10) {
		if (len < h + 4)
			return EBADMSG;
		h += 4 + 4 * (size_t)(buf[h + 2] << 8 | buf[h + 3]);
	}

	if (len < h)
		return EBADMSG;

	if (buf[0] & 0x20) {
		pad = buf[len - 1];
		if (!pad || pad > len - h)
			return EBADMSG;
	}

	*hdrlen = h;
	*paylen = len - h - pad;

	return 0;
}


/*
 * Transcode one RTP packet in place: same header (sequence number,
 * timestamp, SSRC, marker), the other side's PT, a new payload. The four
 * codecs share the 8000 Hz RTP clock, so timestamps carry over as they
 * are. Returns false if the packet is to be dropped.
 */
static bool rtp_transcode(struct leg *in, const struct leg *out, uint8_t *buf,
			  size_t *len)
{
	uint8_t pl[CODEC_PAYLOAD_MAX];
	size_t hdrlen, paylen, n = 0;
	uint8_t pt;

	if (rtp_split(buf, *len, &hdrlen, &paylen))
		return false;

	pt = buf[1] & 0x7f;

	/* RFC 4733 events travel as they are, under the other side's PT */
	if (in->cfg.dtmf_pt && pt == in->cfg.dtmf_pt) {
		if (!out->cfg.dtmf_pt)
			return false;

		pt_set(buf, out->cfg.dtmf_pt);
		return true;
	}

	/* comfort noise (PT 13) and anything unexpected */
	if (pt != in->cfg.pt)
		return false;

	if (transcoder_run(in->xc, pl, &n, buf + hdrlen, paylen))
		return false;

	if (hdrlen + n > BUFSZ)
		return false;

	memcpy(buf + hdrlen, pl, n);
	buf[0] &= (uint8_t)~0x20; /* the padding is gone */
	pt_set(buf, out->cfg.pt);
	*len = hdrlen + n;

	return true;
}


/* Same codec or no codec on the two sides: at most a new PT */
static void rtp_remap(const struct leg *in, const struct leg *out,
		      uint8_t *buf, size_t len)
{
	uint8_t pt;

	if (len < RTP_HDR_LEN)
		return;

	pt = buf[1] & 0x7f;

	if (in->cfg.dtmf_pt && pt == in->cfg.dtmf_pt && out->cfg.dtmf_pt)
		pt_set(buf, out->cfg.dtmf_pt);
	else if (in->cfg.codec != MEDIA_CODEC_NONE &&
		 in->cfg.codec == out->cfg.codec && pt == in->cfg.pt)
		pt_set(buf, out->cfg.pt);
}


static void srtp_failed(struct relay *rel, struct leg *in, int err)
{
	if (!in->srtp_fail++) {
		log_ctx_set(rel->tag);
		log_warn("side %c: SRTP packet dropped (%s); further ones"
			 " are only counted\n",
			 side_name(rel, in),
			 err == EAUTH	   ? "authentication failed"
			 : err == EALREADY ? "replayed"
					   : "malformed");
		log_ctx_clear();
	}
}


/*
 * One datagram from side `in`, to go out on side `out`. buf has
 * SRTPX_TRAILER_MAX bytes of room past BUFSZ for the SRTP trailer.
 */
static void relay_packet(struct relay *rel, struct leg *in, struct leg *out,
			 enum comp c, uint8_t *buf, size_t len,
			 const struct sa *src)
{
	const bool rtcp = c == COMP_RTCP || rtcp_on_rtp(buf, len);
	int err;

	if (in->srx) {
		err = srtpx_unprotect(in->srx, rtcp, buf, &len);
		if (err) {
			srtp_failed(rel, in, err);
			return;
		}
	}

	/* With SRTP, only an authentic packet may move the peer */
	if (!in->latched[c] && !rel->nolatch)
		latch(rel, in, c, src);

	if (!rtcp && in->xc) {
		if (!rtp_transcode(in, out, buf, &len)) {
			++in->discarded;
			return;
		}
	}
	else if (!rtcp) {
		rtp_remap(in, out, buf, len);
	}

	if (out->stx) {
		err = srtpx_protect(out->stx, rtcp, buf, &len,
				    BUFSZ + SRTPX_TRAILER_MAX);
		if (err) {
			++in->errors;
			return;
		}
	}

	relay_forward(rel, in, out, c, buf, len);
}


/*
 * RTP, RTCP and RFC 4733 events go through untouched unless the legs ask
 * for transcoding, a PT change or SRTP (mcall_set_legs()).
 */
static void sock_h(int flags, void *arg)
{
	struct sock *sk = arg;
	struct relay *rel = sk->rel;
	struct leg *in = &rel->leg[sk->side];
	struct leg *out = &rel->leg[!sk->side];
	const enum comp c = (enum comp)sk->comp;
	uint8_t buf[BUFSZ + SRTPX_TRAILER_MAX];

	/* FD_EXCEPT too: reading is what clears a pending socket error */
	(void)flags;

	for (int i = 0; i < DRAIN_MAX; i++) {
		struct sa src;
		ssize_t n;

		sa_init(&src, AF_UNSPEC);
		src.len = sizeof(src.u);

		n = recvfrom(sk->fd, buf, BUFSZ, MSG_TRUNC, &src.u.sa,
			     &src.len);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* an ICMP error was queued; the socket goes on */
			continue;
		}

		rel->active = true;
		++in->pkts_in;

		if ((size_t)n > BUFSZ) {
			if (!in->latched[c] && !in->srx && !rel->nolatch)
				latch(rel, in, c, &src);
			++in->errors;
			continue;
		}

		relay_packet(rel, in, out, c, buf, (size_t)n, &src);
	}
}


/* fd_listen() the sockets of one leg that are not polled yet */
static void leg_listen(struct relay *rel, struct leg *leg)
{
	for (int c = 0; c < 2; c++) {
		struct sock *sk = &leg->sock[c];
		int err;

		if (sk->listening || sk->fd < 0)
			continue;

		err = fd_listen(sk->fd, FD_READ, sock_h, sk);
		if (err) {
			log_ctx_set(rel->tag);
			log_error("cannot poll port %u: %m\n", leg->port + c,
				  err);
			log_ctx_clear();
			continue;
		}
		sk->listening = true;
	}
}


static void relay_start(struct worker *w, struct relay *rel)
{
	list_append(&w->relays, &rel->le, rel);
	rel->started = true;
	rel->last = tmr_jiffies();

	/* A socket that cannot be polled relays nothing; the relay is kept
	 * until MSG_DEL all the same, as the SIP thread still names it. */
	for (int s = 0; s < 2; s++)
		leg_listen(rel, &rel->leg[s]);
}


static void peer_apply(struct peermsg *pm)
{
	struct relay *rel = pm->rel;
	struct leg *leg = &rel->leg[pm->side];

	for (int c = 0; c < 2; c++) {
		if (sa_isset(&pm->addr[c], SA_ALL))
			leg->sig[c] = pm->addr[c];
		else
			sa_init(&leg->sig[c], AF_UNSPEC);

		leg->peer[c] = leg->sig[c];

		/* a new offer/answer: learn the source again */
		leg->latched[c] = false;
	}

	/* signalling activity restarts the media timeout */
	rel->last = tmr_jiffies();
	rel->reported = false;

	log_ctx_set(rel->tag);
	log_debug("side %c peer RTP %J RTCP %J\n",
		  pm->side == MEDIA_SIDE_A ? 'A' : 'B', &leg->peer[COMP_RTP],
		  &leg->peer[COMP_RTCP]);
	log_ctx_clear();

	mem_deref(pm);
}


/*
 * Swap in the new port pair of one side. The old sockets are closed here,
 * by the thread that polls them, before their ports go back to the pool,
 * so the next call that gets them can bind them. The side's peer is
 * forgotten: its next SDP or packet sets it again.
 */
static void rebind_apply(struct rebindmsg *rm)
{
	struct relay *rel = rm->rel;
	struct leg *leg = &rel->leg[rm->side];
	const uint16_t old = leg->port;

	for (int c = 0; c < 2; c++) {
		sock_close(&leg->sock[c]);
		leg->sock[c].fd = rm->sock[c].fd;
		rm->sock[c].fd = -1;

		sa_init(&leg->peer[c], AF_UNSPEC);
		sa_init(&leg->sig[c], AF_UNSPEC);
		leg->latched[c] = false;
	}

	if (old)
		portpool_put(rel->pool, old);

	leg->port = rm->port;
	rm->port = 0;

	leg_listen(rel, leg);

	/* signalling activity restarts the media timeout */
	rel->last = tmr_jiffies();
	rel->reported = false;

	log_ctx_set(rel->tag);
	log_info("side %c moved from port %u to %u\n",
		 rm->side == MEDIA_SIDE_A ? 'A' : 'B', old, leg->port);
	log_ctx_clear();

	mem_deref(rm);
}


/*
 * Symmetric RTP on: the next packet from each side latches again. Off:
 * back to the signalled peers, which stay the destination whatever the
 * packets' source (packets are still accepted from anywhere).
 */
static void latch_apply(struct relay *rel, bool on)
{
	rel->nolatch = !on;

	for (int s = 0; s < 2; s++) {
		struct leg *leg = &rel->leg[s];

		for (int c = 0; c < 2; c++) {
			if (!on)
				leg->peer[c] = leg->sig[c];
			leg->latched[c] = false;
		}
	}

	log_ctx_set(rel->tag);
	log_debug("symmetric RTP %s\n", on ? "on" : "off");
	log_ctx_clear();
}


static void legsmsg_destructor(void *arg)
{
	struct legsmsg *lm = arg;

	for (int s = 0; s < 2; s++) {
		mem_deref(lm->xc[s]);
		mem_deref(lm->srx[s]);
		mem_deref(lm->stx[s]);
	}
}


/*
 * Take the message's codec state and SRTP sessions, except where the
 * running ones are equivalent: a re-INVITE that keeps the keys must keep
 * the SRTP rollover counter and replay window (RFC 3711 3.3.1), and the
 * codecs their history. What is not taken dies with the message.
 */
static void legs_apply(struct legsmsg *lm)
{
	struct relay *rel = lm->rel;

	for (int s = 0; s < 2; s++) {
		struct leg *leg = &rel->leg[s];
		struct srtpx *old;

		leg->cfg = lm->cfg[s];

		if (!transcoder_match(leg->xc, lm->cfg[s].codec,
				      lm->cfg[!s].codec)) {
			struct transcoder *oxc = leg->xc;

			leg->xc = lm->xc[s];
			lm->xc[s] = oxc;
		}

		if (!srtpx_same(leg->srx, lm->srx[s])) {
			old = leg->srx;
			leg->srx = lm->srx[s];
			lm->srx[s] = old;
		}

		if (!srtpx_same(leg->stx, lm->stx[s])) {
			old = leg->stx;
			leg->stx = lm->stx[s];
			lm->stx[s] = old;
		}
	}

	log_ctx_set(rel->tag);
	log_info("media A %s/%u%s, B %s/%u%s%s\n",
		 media_codec_name(lm->cfg[MEDIA_SIDE_A].codec),
		 lm->cfg[MEDIA_SIDE_A].pt,
		 rel->leg[MEDIA_SIDE_A].srx ? " SRTP" : "",
		 media_codec_name(lm->cfg[MEDIA_SIDE_B].codec),
		 lm->cfg[MEDIA_SIDE_B].pt,
		 rel->leg[MEDIA_SIDE_B].srx ? " SRTP" : "",
		 rel->leg[MEDIA_SIDE_A].xc ? ", transcoding" : "");
	log_ctx_clear();

	mem_deref(lm);
}


static void worker_mq_h(int id, void *data, void *arg)
{
	struct worker *w = arg;

	switch (id) {

	case MSG_ADD:
		relay_start(w, data);
		break;

	case MSG_PEER:
		peer_apply(data);
		break;

	case MSG_LEGS:
		legs_apply(data);
		break;

	case MSG_REBIND:
		rebind_apply(data);
		break;

	case MSG_LATCH_ON:
	case MSG_LATCH_OFF:
		latch_apply(data, id == MSG_LATCH_ON);
		break;

	case MSG_DEL:
		mem_deref(data);
		break;

	case MSG_QUIT:
		atomic_store(&w->quit, true);
		re_cancel();
		break;

	default:
		log_warn("worker %u: unknown message %d\n", w->idx, id);
		break;
	}
}


static void tomsg_destructor(void *arg)
{
	struct tomsg *tm = arg;

	mem_deref(tm->tag);
}


/* Returns true once the SIP thread has the report. */
static bool timeout_report(struct media *m, const struct relay *rel)
{
	struct tomsg *tm;
	int err;

	tm = mem_zalloc(sizeof(*tm), tomsg_destructor);
	if (!tm)
		return false;

	err = str_dup(&tm->tag, rel->tag);
	if (err) {
		mem_deref(tm);
		return false;
	}

	pthread_mutex_lock(&m->lock);
	list_append(&m->inflight, &tm->le, tm);
	pthread_mutex_unlock(&m->lock);

	err = mqueue_push(m->mq, MSG_TIMEOUT, tm);
	if (!err)
		return true; /* tm is no longer ours */

	pthread_mutex_lock(&m->lock);
	list_unlink(&tm->le);
	pthread_mutex_unlock(&m->lock);
	mem_deref(tm);

	return false;
}


static void worker_tick(void *arg)
{
	struct worker *w = arg;
	struct media *m = w->m;
	const uint64_t now = tmr_jiffies();
	const uint64_t limit = (uint64_t)atomic_load(&m->timeout_s) * 1000;
	struct le *le;

	tmr_start(&w->tmr, TICK_MS, worker_tick, w);

	/* fallback if MSG_QUIT found no room in the pipe */
	if (atomic_load(&w->quit)) {
		re_cancel();
		return;
	}

	LIST_FOREACH(&w->relays, le)
	{
		struct relay *rel = le->data;

		if (rel->active) {
			rel->last = now;
			rel->active = false;
		}

		if (!limit || rel->reported || now - rel->last < limit)
			continue;

		rel->reported = timeout_report(m, rel);
	}
}


static int worker_init(struct worker *w)
{
	int err;

	err = re_thread_init();
	if (err)
		return err;

	/* before the first fd_listen(), which would fix the size at 1024 */
	err = fd_setsize(w->m->maxfds);
	if (err)
		return err;

	err = mqueue_alloc(&w->mq, worker_mq_h, w);
	if (err)
		return err;

	tmr_start(&w->tmr, TICK_MS, worker_tick, w);

	return 0;
}


static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct media *m = w->m;
	int err;

	tmr_init(&w->tmr);
	list_init(&w->relays);

	err = worker_init(w);

	pthread_mutex_lock(&m->lock);
	w->err = err;
	w->ready = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);

	/* Leave only on MSG_QUIT: the SIP thread may still push to w->mq. */
	while (!err && !atomic_load(&w->quit)) {
		int lerr = re_main(NULL);

		if (lerr) {
			log_error("worker %u: loop failed: %m\n", w->idx,
				  lerr);
			sleep_ms(10);
		}
	}

	/* Relays still here are freed here, so every port comes back. */
	tmr_cancel(&w->tmr);
	list_flush(&w->relays);
	w->mq = mem_deref(w->mq);
	re_thread_close();

	return NULL;
}


static int worker_start(struct media *m, struct worker *w, unsigned idx)
{
	sigset_t all, old;
	int err;

	w->m = m;
	w->idx = idx;
	atomic_init(&w->quit, false);

	/* Signals belong to the SIP thread's loop, not to the workers. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->tid, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return err;

	pthread_mutex_lock(&m->lock);
	while (!w->ready)
		pthread_cond_wait(&m->cond, &m->lock);
	err = w->err;
	pthread_mutex_unlock(&m->lock);

	if (err) {
		(void)pthread_join(w->tid, NULL);
		return err;
	}

	w->started = true;

	return 0;
}


static void worker_stop(struct worker *w)
{
	int err;

	if (!w->started)
		return;

	/* MSG_QUIT comes after every message already in the pipe, so the
	 * worker handles them all first. The flag is the fallback for a pipe
	 * that stayed full; what is still queued then is lost. */
	err = worker_push(w, MSG_QUIT, NULL);
	if (err) {
		log_warn("worker %u: quit message lost (%m), waiting for its"
			 " timer\n",
			 w->idx, err);
		atomic_store(&w->quit, true);
	}

	(void)pthread_join(w->tid, NULL);
	w->started = false;
}


/* ---- SIP thread ------------------------------------------------------ */


static void sip_mq_h(int id, void *data, void *arg)
{
	struct media *m = arg;
	struct tomsg *tm = data;

	if (id != MSG_TIMEOUT) {
		log_warn("unknown message %d\n", id);
		return;
	}

	pthread_mutex_lock(&m->lock);
	list_unlink(&tm->le);
	pthread_mutex_unlock(&m->lock);

	++m->timeouts;

	log_ctx_set(tm->tag);
	log_info("no media for %u s\n", atomic_load(&m->timeout_s));
	log_ctx_clear();

	/* the handler may free m: do not touch it afterwards */
	if (m->toh)
		m->toh(tm->tag, m->arg);

	mem_deref(tm);
}


static void mcall_detach(struct mcall *mc)
{
	list_unlink(&mc->le);
	mc->m = NULL;
	mc->w = NULL;
	mc->rel = NULL;
}


static void media_destructor(void *arg)
{
	struct media *m = arg;
	struct le *le;

	/* Calls still alive lose their relay; the workers free the relays
	 * they hold when they quit, so every port comes back. */
	le = list_head(&m->calls);
	while (le) {
		struct mcall *mc = le->data;

		le = le->next;
		mcall_detach(mc);
	}

	for (uint32_t i = 0; i < m->workc; i++)
		worker_stop(&m->workv[i]);

	/* No worker pushes any more; reports not yet handled die here. */
	m->mq = mem_deref(m->mq);
	if (m->sync_ok) {
		pthread_mutex_lock(&m->lock);
		list_flush(&m->inflight);
		pthread_mutex_unlock(&m->lock);
		pthread_cond_destroy(&m->cond);
		pthread_mutex_destroy(&m->lock);
	}

	if (m->pool &&
	    portpool_free_count(m->pool) != portpool_capacity(m->pool))
		log_warn("%u port pairs not returned\n",
			 portpool_capacity(m->pool) -
			     portpool_free_count(m->pool));

	mem_deref(m->workv);
	mem_deref(m->pool);
}


static int nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > MAXFDS_CEIL)
		return MAXFDS_CEIL;

	if (rl.rlim_cur < MAXFDS_FLOOR)
		return MAXFDS_FLOOR;

	return (int)rl.rlim_cur;
}


static int addr_parse(struct sa *sa, const char *str)
{
	if (sa_set_str(sa, str, 0) || sa_is_any(sa)) {
		log_error("media address '%s' is not a usable IP address\n",
			  str);
		return EINVAL;
	}

	return 0;
}


static int sync_init(struct media *m)
{
	int err;

	err = pthread_mutex_init(&m->lock, NULL);
	if (err)
		return err;

	err = pthread_cond_init(&m->cond, NULL);
	if (err) {
		pthread_mutex_destroy(&m->lock);
		return err;
	}

	m->sync_ok = true;

	return 0;
}


/**
 * Allocate the media relay and start its worker threads
 *
 * Call it on the SIP thread (it must run a libre loop): timeout reports
 * come back to the calling thread. The worker threads size their fd
 * tables from RLIMIT_NOFILE, so raise that limit first.
 *
 * @param mp   Pointer to allocated media relay
 * @param conf Configuration; address (and address_b if set) must be
 *             concrete IP addresses, of the same family or not
 * @param toh  Optional handler called when a call's media stopped
 * @param arg  Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int media_alloc(struct media **mp, const struct media_conf *conf,
		media_timeout_h *toh, void *arg)
{
	struct media *m;
	int err;

	if (!mp || !conf || !conf->address || !conf->threads ||
	    conf->threads > THREADS_MAX || conf->dscp > 63)
		return EINVAL;

	m = mem_zalloc(sizeof(*m), media_destructor);
	if (!m)
		return ENOMEM;

	list_init(&m->calls);
	list_init(&m->inflight);
	atomic_init(&m->timeout_s, conf->timeout_s);
	m->toh = toh;
	m->arg = arg;
	m->tos = conf->dscp << 2;
	m->maxfds = nofile_limit();

	err = addr_parse(&m->laddr, conf->address);
	if (!err && str_isset(conf->address_b))
		err = addr_parse(&m->laddr_b, conf->address_b);
	else
		m->laddr_b = m->laddr;
	if (err)
		goto out;

	err = sync_init(m);
	if (err)
		goto out;

	err = portpool_alloc(&m->pool, conf->port_min, conf->port_max);
	if (err) {
		log_error("RTP port range %u-%u holds no port pair\n",
			  conf->port_min, conf->port_max);
		goto out;
	}

	err = mqueue_alloc(&m->mq, sip_mq_h, m);
	if (err)
		goto out;

	m->workv = mem_zalloc(conf->threads * sizeof(*m->workv), NULL);
	if (!m->workv) {
		err = ENOMEM;
		goto out;
	}
	m->workc = conf->threads;

	for (uint32_t i = 0; i < m->workc; i++) {
		err = worker_start(m, &m->workv[i], i);
		if (err) {
			log_error("cannot start relay thread %u: %m\n", i,
				  err);
			goto out;
		}
	}

	log_info("relaying on %j (side B on %j), ports %u-%u (%u pairs),"
		 " threads %u\n",
		 &m->laddr, &m->laddr_b, conf->port_min, conf->port_max,
		 portpool_capacity(m->pool), m->workc);

out:
	if (err)
		mem_deref(m);
	else
		*mp = m;

	return err;
}


/**
 * Change the media timeout; relays already running use the new value
 *
 * @param m         Media relay
 * @param timeout_s Seconds without packets on either side, 0 = never
 */
void media_set_timeout(struct media *m, uint32_t timeout_s)
{
	if (!m)
		return;

	atomic_store(&m->timeout_s, timeout_s);
}


/**
 * Get the address the relay binds and announces
 *
 * @param m Media relay
 *
 * @return Local address (port 0), or NULL
 */
const struct sa *media_laddr(const struct media *m)
{
	return m ? &m->laddr : NULL;
}


/**
 * Get the address one side's sockets are bound on
 *
 * @param m    Media relay
 * @param side Side of the calls
 *
 * @return address_b for side B if it was set, else address (port 0), or
 *         NULL
 */
const struct sa *media_laddr_side(const struct media *m, enum media_side side)
{
	if (!m || (unsigned)side > MEDIA_SIDE_B)
		return NULL;

	return side_laddr(m, side);
}


/**
 * Get the port pool of the media relay (for tests and diagnostics)
 *
 * @param m Media relay
 *
 * @return Port pool, or NULL; it lives as long as m
 */
struct portpool *media_pool(const struct media *m)
{
	return m ? m->pool : NULL;
}


/**
 * Print the state of the media relay
 *
 * @param pf Print handler
 * @param m  Media relay
 *
 * @return 0 if success, otherwise errorcode
 */
int media_debug(struct re_printf *pf, const struct media *m)
{
	uint32_t cap, nfree;

	if (!m)
		return 0;

	cap = portpool_capacity(m->pool);
	nfree = portpool_free_count(m->pool);

	return re_hprintf(pf,
			  "media: %j, side B %j, port pairs %u used of %u"
			  " (%u free), %u calls, %u threads, timeout %u s,"
			  " %llu timeouts\n",
			  &m->laddr, &m->laddr_b, cap - nfree, cap, nfree,
			  list_count(&m->calls), m->workc,
			  atomic_load(&m->timeout_s),
			  (unsigned long long)m->timeouts);
}


static void mcall_destructor(void *arg)
{
	struct mcall *mc = arg;
	int err;

	if (!mc->rel)
		return;

	err = worker_push(mc->w, MSG_DEL, mc->rel);
	if (err)
		log_error("relay %u/%u: teardown lost (%m); its ports come"
			  " back when the relay stops\n",
			  mc->port[MEDIA_SIDE_A], mc->port[MEDIA_SIDE_B], err);

	mcall_detach(mc);
}


/**
 * Allocate the media of one call: two port pairs, four bound sockets,
 * relayed by one worker thread
 *
 * @param mcp Pointer to allocated call media
 * @param m   Media relay
 * @param tag Call tag (the Call-ID), named in logs and timeout reports
 *
 * @return 0 if success, ENOSPC if the port pool is empty, otherwise
 *         errorcode
 */
int mcall_alloc(struct mcall **mcp, struct media *m, const char *tag)
{
	struct mcall *mc;
	struct relay *rel = NULL;
	struct worker *w;
	int err;

	if (!mcp || !m || !str_isset(tag))
		return EINVAL;

	mc = mem_zalloc(sizeof(*mc), mcall_destructor);
	if (!mc)
		return ENOMEM;

	err = relay_alloc(&rel, m, tag);
	if (err) {
		log_ctx_set(tag);
		log_warn("no media ports: %m\n", err);
		log_ctx_clear();
		goto out;
	}

	mc->port[MEDIA_SIDE_A] = rel->leg[MEDIA_SIDE_A].port;
	mc->port[MEDIA_SIDE_B] = rel->leg[MEDIA_SIDE_B].port;

	w = &m->workv[m->next];
	m->next = (m->next + 1) % m->workc;

	err = worker_push(w, MSG_ADD, rel);
	if (err) {
		mem_deref(rel); /* still ours */
		goto out;
	}

	/* from here on rel belongs to the worker */
	mc->m = m;
	mc->w = w;
	mc->rel = rel;
	list_append(&m->calls, &mc->le, mc);

out:
	if (err)
		mem_deref(mc);
	else
		*mcp = mc;

	return err;
}


/**
 * Get our RTP port toward one side (RTCP is the port above it)
 *
 * @param mc   Call media
 * @param side Side of the call
 *
 * @return RTP port, or 0
 */
uint16_t mcall_port(const struct mcall *mc, enum media_side side)
{
	if (!mc || (unsigned)side > MEDIA_SIDE_B)
		return 0;

	return mc->port[side];
}


/**
 * Tell the relay where one side receives media, from its SDP
 *
 * The next packet received from that side latches the address again
 * (symmetric RTP), unless mcall_set_latch() turned that off. An address of
 * 0.0.0.0 or port 0 means unknown. The address family must be the one of
 * the side's sockets (media_laddr_side()).
 *
 * @param mc   Call media
 * @param side Side of the call
 * @param rtp  RTP address of that side
 * @param rtcp RTCP address, or NULL for the RTP port + 1
 *
 * @return 0 if success, ENODEV if the media relay is gone, otherwise
 *         errorcode
 */
int mcall_set_peer(struct mcall *mc, enum media_side side,
		   const struct sa *rtp, const struct sa *rtcp)
{
	struct peermsg *pm;
	int af, err;

	if (!mc || (unsigned)side > MEDIA_SIDE_B || !rtp)
		return EINVAL;

	if (!mc->rel)
		return ENODEV;

	af = sa_af(side_laddr(mc->m, side));

	if ((sa_isset(rtp, SA_ADDR) && sa_af(rtp) != af) ||
	    (rtcp && sa_isset(rtcp, SA_ADDR) && sa_af(rtcp) != af))
		return EAFNOSUPPORT;

	pm = mem_zalloc(sizeof(*pm), NULL);
	if (!pm)
		return ENOMEM;

	pm->rel = mc->rel;
	pm->side = side;
	pm->addr[COMP_RTP] = *rtp;

	if (rtcp) {
		pm->addr[COMP_RTCP] = *rtcp;
	}
	else if (sa_port(rtp) < 65535) {
		pm->addr[COMP_RTCP] = *rtp;
		sa_set_port(&pm->addr[COMP_RTCP],
			    (uint16_t)(sa_port(rtp) + 1));
	}
	else {
		sa_init(&pm->addr[COMP_RTCP], AF_UNSPEC);
	}

	err = worker_push(mc->w, MSG_PEER, pm);
	if (err)
		mem_deref(pm);

	return err;
}


static bool leg_valid(const struct media_leg *l)
{
	if (l->codec != MEDIA_CODEC_NONE &&
	    !media_codec_transcodable(l->codec, l->codec))
		return false;

	if (l->pt > PT_MAX || l->dtmf_pt > PT_MAX)
		return false;

	return !l->srtp || l->suite == MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80 ||
	       l->suite == MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32;
}


static int legsmsg_fill(struct legsmsg *lm, const struct media_leg *legv[2])
{
	const bool xcode = legv[0]->codec != MEDIA_CODEC_NONE &&
			   legv[1]->codec != MEDIA_CODEC_NONE &&
			   legv[0]->codec != legv[1]->codec;
	int err;

	for (int s = 0; s < 2; s++) {
		const struct media_leg *l = legv[s];

		lm->cfg[s].codec = l->codec;
		lm->cfg[s].pt = l->pt;
		lm->cfg[s].dtmf_pt = l->dtmf_pt;

		if (xcode) {
			err = transcoder_alloc(&lm->xc[s], l->codec,
					       legv[!s]->codec);
			if (err)
				return err;
		}

		if (!l->srtp)
			continue;

		err = srtpx_alloc(&lm->srx[s], l->suite, l->key_rx, true);
		if (err)
			return err;

		err = srtpx_alloc(&lm->stx[s], l->suite, l->key_tx, false);
		if (err)
			return err;
	}

	return 0;
}


/**
 * Set how each side is spoken to: codec and payload types, SRTP keys
 *
 * May be called again on renegotiation; a T.38 switch is both codecs
 * MEDIA_CODEC_NONE and no SRTP. The codec state and SRTP sessions are
 * built here, on the SIP thread, and handed to the relay's worker with a
 * message, so the next packets use them. A side whose suite and keys did
 * not change keeps its running SRTP session.
 *
 * @param mc Call media
 * @param a  Side A (the caller's leg)
 * @param b  Side B (the callee's leg)
 *
 * @return 0 if success, EINVAL for a bad argument, ENOTSUP for a codec
 *         pair that cannot be transcoded, ENODEV if the media relay is
 *         gone, otherwise errorcode
 */
int mcall_set_legs(struct mcall *mc, const struct media_leg *a,
		   const struct media_leg *b)
{
	const struct media_leg *legv[2] = { a, b };
	struct legsmsg *lm;
	int err;

	if (!mc || !a || !b || !leg_valid(a) || !leg_valid(b))
		return EINVAL;

	if (a->codec != MEDIA_CODEC_NONE && b->codec != MEDIA_CODEC_NONE &&
	    !media_codec_transcodable(a->codec, b->codec))
		return ENOTSUP;

	if (!mc->rel)
		return ENODEV;

	lm = mem_zalloc(sizeof(*lm), legsmsg_destructor);
	if (!lm)
		return ENOMEM;

	lm->rel = mc->rel;

	err = legsmsg_fill(lm, legv);
	if (err)
		goto out;

	err = worker_push(mc->w, MSG_LEGS, lm);

out:
	if (err) {
		log_warn("relay %u/%u: media settings not applied: %m\n",
			 mc->port[MEDIA_SIDE_A], mc->port[MEDIA_SIDE_B], err);
		mem_deref(lm);
	}

	return err;
}


static void rebindmsg_destructor(void *arg)
{
	struct rebindmsg *rm = arg;

	/* only what the worker did not take */
	sock_close(&rm->sock[COMP_RTP]);
	sock_close(&rm->sock[COMP_RTCP]);

	if (rm->port)
		portpool_put(rm->pool, rm->port);
}


/**
 * Give one side of a call a new RTP/RTCP port pair
 *
 * The pair is taken from the pool and bound here, on the SIP thread, on
 * the side's address, so that an error shows at once and changes nothing.
 * The sockets travel to the relay's worker in a message; the worker swaps
 * them in, closes the old pair and only then gives its ports back to the
 * pool. The side's peer and latch are forgotten until the next
 * mcall_set_peer() or packet. mcall_port() returns the new port at once.
 *
 * @param mc   Call media
 * @param side Side that gets new ports
 *
 * @return 0 if success, ENOSPC if the port pool is empty, ENODEV if the
 *         media relay is gone, otherwise errorcode (the old ports stay)
 */
int mcall_rebind(struct mcall *mc, enum media_side side)
{
	struct rebindmsg *rm;
	uint16_t port;
	int err;

	if (!mc || (unsigned)side > MEDIA_SIDE_B)
		return EINVAL;

	if (!mc->rel)
		return ENODEV;

	rm = mem_zalloc(sizeof(*rm), rebindmsg_destructor);
	if (!rm)
		return ENOMEM;

	rm->rel = mc->rel;
	rm->pool = mc->m->pool;
	rm->side = side;
	for (int c = 0; c < 2; c++)
		rm->sock[c].fd = -1;

	err = pair_open(rm->sock, &rm->port, mc->m, side);
	if (err)
		goto out;

	port = rm->port;

	err = worker_push(mc->w, MSG_REBIND, rm);
	if (err)
		goto out;

	/* from here on rm belongs to the worker */
	log_debug("relay %u/%u: side %c to port %u\n", mc->port[MEDIA_SIDE_A],
		  mc->port[MEDIA_SIDE_B], side == MEDIA_SIDE_A ? 'A' : 'B',
		  port);
	mc->port[side] = port;

	return 0;

out:
	log_warn("relay %u/%u: no new port toward side %c: %m\n",
		 mc->port[MEDIA_SIDE_A], mc->port[MEDIA_SIDE_B],
		 side == MEDIA_SIDE_A ? 'A' : 'B', err);
	mem_deref(rm);

	return err;
}


/**
 * Turn symmetric RTP on or off for both sides of a call
 *
 * On (the default): each side's packets go back to where that side sends
 * from, learnt from its first packet after each mcall_set_peer(). Off:
 * packets toward a side always go to the address mcall_set_peer() gave,
 * whatever the source of the packets it sends; packets are still accepted
 * from any source, as with latching. Takes effect from the next packet.
 *
 * @param mc    Call media
 * @param latch true for symmetric RTP
 *
 * @return 0 if success, ENODEV if the media relay is gone, otherwise
 *         errorcode
 */
int mcall_set_latch(struct mcall *mc, bool latch)
{
	if (!mc)
		return EINVAL;

	if (!mc->rel)
		return ENODEV;

	return worker_push(mc->w, latch ? MSG_LATCH_ON : MSG_LATCH_OFF,
			   mc->rel);
}

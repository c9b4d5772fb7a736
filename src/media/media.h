/**
 * @file media.h  Media relay: RTP/RTCP anchored through relaisd
 *
 * Threads: struct media and struct mcall belong to the SIP thread. Each
 * mcall owns four UDP sockets (RTP+RTCP toward side A, RTP+RTCP toward side
 * B) bound on the SIP thread, then handed to one relay worker thread with
 * mqueue_push(); from then on only that worker reads or writes them. Peer
 * updates and teardown travel as messages too. The port pool is shared and
 * has its own mutex. See docs/architecture.md.
 */

#ifndef RELAIS_MEDIA_H
#define RELAIS_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

struct sa;
struct mbuf;
struct pl;
struct re_printf;

/* ---- port pool (portpool.c) ---------------------------------------- */

struct portpool;

int portpool_alloc(struct portpool **ppp, uint16_t min, uint16_t max);
int portpool_get(struct portpool *pp, uint16_t *port);
void portpool_put(struct portpool *pp, uint16_t port);
uint32_t portpool_free_count(struct portpool *pp);
uint32_t portpool_capacity(const struct portpool *pp);

/* ---- relay (relay.c) ----------------------------------------------- */

enum media_side {
	MEDIA_SIDE_A = 0, /**< the caller's leg */
	MEDIA_SIDE_B = 1, /**< the callee's leg */
};

struct media_conf {
	const char *address;   /**< IP to bind and announce */
	const char *address_b; /**< side B's sockets bind here instead (the
				    SBC's private interface); NULL or ""
				    = address */
	uint16_t port_min;
	uint16_t port_max;
	uint32_t threads;
	uint32_t timeout_s; /**< 0 = never time out */
	uint8_t dscp;	    /**< 46 (EF) */
};

struct media;
struct mcall;

/**
 * Called on the SIP thread when a call's media stopped for timeout_s
 *
 * @param tag Tag given to mcall_alloc() (the Call-ID)
 * @param arg Handler argument
 */
typedef void(media_timeout_h)(const char *tag, void *arg);

int media_alloc(struct media **mp, const struct media_conf *conf,
		media_timeout_h *toh, void *arg);
void media_set_timeout(struct media *m, uint32_t timeout_s);
const struct sa *media_laddr(const struct media *m);
int media_debug(struct re_printf *pf, const struct media *m);

/** The address side's sockets are bound on (address or address_b) */
const struct sa *media_laddr_side(const struct media *m, enum media_side side);

int mcall_alloc(struct mcall **mcp, struct media *m, const char *tag);
uint16_t mcall_port(const struct mcall *mc, enum media_side side);

/**
 * New RTP/RTCP ports toward one side (SBC option "change the RTP port on
 * renegotiation"): the new pair is bound on the SIP thread and handed to
 * the worker, which closes the old one; the old ports go back to the
 * pool. The side's peer is forgotten until the next mcall_set_peer().
 *
 * @return 0, or an error when no port pair is free (the old ones stay)
 */
int mcall_rebind(struct mcall *mc, enum media_side side);

/**
 * Symmetric RTP (the default): send to where the side's packets come
 * from (latching). Off: send to the address its SDP gave, always.
 */
int mcall_set_latch(struct mcall *mc, bool latch);
/* Also restarts the media-timeout clock of the call and re-arms its report:
 * the B2BUA calls it on answer and on every renegotiation. */
int mcall_set_peer(struct mcall *mc, enum media_side side,
		   const struct sa *rtp, const struct sa *rtcp);

/* ---- SDP rewriting (sdprw.c) --------------------------------------- */

/* Not libre's enum sdp_dir: names must not collide with libre (STYLE §2) */

enum sdprw_dir {
	SDPRW_DIR_KEEP = 0, /**< leave a=sendrecv/sendonly/... as found */
	SDPRW_DIR_SENDRECV,
	SDPRW_DIR_SENDONLY,
	SDPRW_DIR_RECVONLY,
	SDPRW_DIR_INACTIVE,
};

struct sdprw_params {
	const struct sa *addr; /**< our media address for c= and o=      */
	uint16_t port;	       /**< our RTP port for the audio m= line    */
	const char *codecs;    /**< allowed codecs, e.g. "PCMA,PCMU,G722,
				    telephone-event"; NULL keeps all      */
	uint32_t version;      /**< o= session version to write           */
	enum sdprw_dir dir;    /**< direction to write, or SDPRW_DIR_KEEP    */
};

struct sdprw_info {
	struct sa rtp;	    /**< peer's RTP address (c= + m= port)     */
	struct sa rtcp;	    /**< peer's RTCP address (a=rtcp or +1)    */
	enum sdprw_dir dir; /**< direction the input asked for         */
	uint32_t codecc;    /**< audio payload types kept (0 = none)   */
	bool audio;	    /**< an audio m= line with a port was seen */
};

int sdprw_rewrite(struct mbuf **outp, const struct pl *in,
		  const struct sdprw_params *p, struct sdprw_info *info);
enum sdprw_dir sdprw_dir_answer(enum sdprw_dir offered);

/* ---- per-leg media: transcoding and SRTP (relay.c, codec.c) -------- */

enum media_codec {
	MEDIA_CODEC_NONE = 0, /**< pass payloads through untouched */
	MEDIA_CODEC_PCMU,
	MEDIA_CODEC_PCMA,
	MEDIA_CODEC_G722, /**< 16 kHz audio, RTP clock 8000 (RFC 3551) */
	MEDIA_CODEC_G729, /**< Annex A, 10 ms frames of 10 bytes      */
};

enum media_srtp_suite {
	MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80 = 0,
	MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32,
};

enum { MEDIA_SRTP_KEY_LEN = 30 }; /* 16-byte master key + 14-byte salt */

/** How relaisd talks to one side of a call */
struct media_leg {
	enum media_codec codec; /**< NONE on both legs: pure relay      */
	uint8_t pt;		/**< payload type of codec on this side */
	uint8_t dtmf_pt;	/**< telephone-event PT here, 0 = none  */
	bool srtp;		/**< SRTP/SRTCP on this side            */
	enum media_srtp_suite suite;
	uint8_t key_tx[MEDIA_SRTP_KEY_LEN]; /**< ours, toward this side */
	uint8_t key_rx[MEDIA_SRTP_KEY_LEN]; /**< this side's             */
};

/**
 * Set how each side is spoken to; may be called again on renegotiation
 * (e.g. back to a plain relay for T.38). When the codecs differ, RTP from
 * one side is decoded and re-encoded for the other, 20 ms in, 20 ms out,
 * keeping sequence numbers and timestamps; telephone-event packets are
 * passed with their PT changed. SRTP keys are used from the next packet.
 *
 * @return 0, ENOTSUP for a codec pair that cannot be transcoded
 */
int mcall_set_legs(struct mcall *mc, const struct media_leg *a,
		   const struct media_leg *b);

/** Can the relay transcode between these two codecs? */
bool media_codec_transcodable(enum media_codec x, enum media_codec y);
enum media_codec media_codec_from_name(const char *name);
const char *media_codec_name(enum media_codec c);

/* ---- offer/answer between two legs (mneg.c) ------------------------ */

enum mneg_srtp {
	MNEG_SRTP_DISABLED = 0, /**< RTP/AVP only; SAVP offers refused   */
	MNEG_SRTP_ALLOWED,	/**< follow the peer; we offer RTP/AVP   */
	MNEG_SRTP_ENFORCED,	/**< RTP/SAVP with crypto, or nothing    */
};

/** What one side accepts */
struct mneg_policy {
	const char *codecs; /**< priority list: "G722,PCMA,G729,
			       telephone-event" */
	enum mneg_srtp srtp;
	bool t38; /**< m=image udptl t38 may be offered here */
};

struct mneg;

/**
 * One per call (SIP thread). laddr is the relay address written in c=/o=,
 * port_a/port_b our RTP ports toward each side.
 */
int mneg_alloc(struct mneg **mp, const struct sa *laddr, uint16_t port_a,
	       uint16_t port_b, const struct mneg_policy *pa,
	       const struct mneg_policy *pb);

/** Address written in c=/o= toward side (the SBC's public or private
    NAT address); mneg_alloc's laddr is used for both until then */
int mneg_set_addr(struct mneg *m, enum media_side side, const struct sa *addr);
/** Our RTP port toward side, after mcall_rebind() */
int mneg_set_port(struct mneg *m, enum media_side side, uint16_t port);

/**
 * An offer arrived from side `from`: write our offer toward the other
 * side. It lists, in the other side's priority order, its codecs that the
 * offer has or that the relay can transcode from one the offer has, plus
 * telephone-event; RTP/SAVP with a fresh a=crypto when the other side's
 * policy enforces SRTP. An m=image T.38 offer is passed on when allowed.
 *
 * @return 0, EPROTO no usable codec, EPERM SRTP required but not offered
 *         (or offered where disabled), EBADMSG unreadable SDP
 */
int mneg_offer(struct mneg *m, enum media_side from, const struct pl *sdp,
	       struct mbuf **out);

/**
 * The answer to our last offer arrived from side `from`: write the answer
 * toward the offerer, choosing the offerer's codec (the same one, or one
 * the relay transcodes to), and compute the legs (mneg_legs).
 */
int mneg_answer(struct mneg *m, enum media_side from, const struct pl *sdp,
		struct mbuf **out);

/** Answer the pending offer from side `to`'s peer locally (re-INVITE
    answered before the other side replied): keeps the current codecs,
    direction from the offer */
int mneg_local_answer(struct mneg *m, enum media_side to, struct mbuf **out);

/** Legs for mcall_set_legs() and peers for mcall_set_peer(), valid once
    an answer was seen */
int mneg_legs(const struct mneg *m, struct media_leg *a, struct media_leg *b);
int mneg_peer(const struct mneg *m, enum media_side side, struct sa *rtp,
	      struct sa *rtcp);
/**
 * Tell the relay what the negotiation decided: each side's peer
 * (mcall_set_peer) and, once an answer was seen, the legs
 * (mcall_set_legs), copied into la/lb for the caller's log line.
 *
 * @return 0, ENOENT before any answer (peers set only), or the relay's
 *         refusal of the legs
 */
int mneg_apply(const struct mneg *m, struct mcall *mc, struct media_leg *la,
	       struct media_leg *lb);

/** Direction the last offer from side `from` asked for (hold/resume) */
enum sdprw_dir mneg_offer_dir(const struct mneg *m, enum media_side from);

#endif

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
	const char *address; /**< IP to bind and announce */
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

int mcall_alloc(struct mcall **mcp, struct media *m, const char *tag);
uint16_t mcall_port(const struct mcall *mc, enum media_side side);
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

#endif

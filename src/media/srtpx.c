/**
 * @file srtpx.c  SRTP and SRTCP for one direction of a relay leg (libsrtp2)
 *
 * libre 1.1.0 has an SRTP of its own (re_srtp.h: srtp_alloc(),
 * srtp_encrypt(), ...). Its exported names and libsrtp2's do not overlap
 * (checked with nm -D on both libraries), so the two live in one process;
 * our own names start with srtpx_ to stay clear of both.
 *
 * One struct srtpx is one libsrtp2 session used in one direction only:
 * unprotecting what a side sends (its key, "rx") or protecting what we
 * send it (our key, "tx"). Any SSRC is accepted (ssrc_any_inbound /
 * ssrc_any_outbound), so a phone that changes its SSRC keeps working.
 *
 * Threads: a session is created on the SIP thread, then handed to one
 * relay worker, which alone uses and frees it. srtp_init() runs once per
 * process, guarded by pthread_once().
 */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <srtp2/srtp.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "media/media_int.h"

#define DEBUG_MODULE "srtp"


enum {
	REPLAY_WINDOW = 128, /**< RFC 3711 3.3.2: at least 64          */
};

struct srtpx {
	srtp_t ctx;
	enum media_srtp_suite suite;
	bool rx;
	uint8_t key[MEDIA_SRTP_KEY_LEN]; /**< to tell a rekey from a repeat */
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;


/*
 * A second srtp_init() in one process fails (its debug modules are loaded
 * already), so a failure here may only mean that another part of the
 * program started libsrtp2 first. srtp_create() tells for sure.
 */
static void lib_init(void)
{
	const srtp_err_status_t st = srtp_init();

	if (st != srtp_err_status_ok)
		log_debug("srtp_init: status %d, started elsewhere?\n",
			  (int)st);
}


static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n--)
		*v++ = 0;
}


static void srtpx_destructor(void *arg)
{
	struct srtpx *s = arg;

	if (s->ctx)
		(void)srtp_dealloc(s->ctx);

	wipe(s->key, sizeof(s->key));
}


/**
 * Allocate an SRTP/SRTCP session for one direction
 *
 * SRTCP always uses a 80-bit tag, also with the _32 suite (RFC 4568
 * 6.2.1, RFC 3711 5.2).
 *
 * @param sp    Pointer to allocated session
 * @param suite Crypto suite
 * @param key   Master key and salt, MEDIA_SRTP_KEY_LEN bytes
 * @param rx    true to unprotect received packets, false to protect
 *
 * @return 0 if success, ENOTSUP for an unknown suite, otherwise errorcode
 */
int srtpx_alloc(struct srtpx **sp, enum media_srtp_suite suite,
		const uint8_t *key, bool rx)
{
	struct srtpx *s;
	srtp_policy_t pol;
	srtp_err_status_t st;
	int err = 0;

	if (!sp || !key)
		return EINVAL;

	if (suite != MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80 &&
	    suite != MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32)
		return ENOTSUP;

	(void)pthread_once(&lib_once, lib_init);

	s = mem_zalloc(sizeof(*s), srtpx_destructor);
	if (!s)
		return ENOMEM;

	s->suite = suite;
	s->rx = rx;
	memcpy(s->key, key, sizeof(s->key));

	memset(&pol, 0, sizeof(pol));
	if (suite == MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32)
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
	else
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_rtcp_default(&pol.rtcp);

	pol.ssrc.type = rx ? ssrc_any_inbound : ssrc_any_outbound;
	pol.key = s->key;
	pol.window_size = REPLAY_WINDOW;
	/* A duplicate from the plain side is the same payload again, so
	 * its keystream reuse reveals nothing; dropping it would. */
	pol.allow_repeat_tx = 1;
	pol.next = NULL;

	st = srtp_create(&s->ctx, &pol);
	if (st != srtp_err_status_ok) {
		log_warn("cannot create SRTP session (status %d)\n", (int)st);
		s->ctx = NULL;
		err = st == srtp_err_status_alloc_fail ? ENOMEM : EINVAL;
	}

	if (err)
		mem_deref(s);
	else
		*sp = s;

	return err;
}


/**
 * Tell whether two sessions run with the same suite, key and direction
 *
 * A renegotiation that keeps the keys must keep the session as well: its
 * rollover counter and replay window carry on (RFC 3711 3.3.1).
 *
 * @param x One session, may be NULL
 * @param y The other, may be NULL
 *
 * @return true if both are set and equivalent
 */
bool srtpx_same(const struct srtpx *x, const struct srtpx *y)
{
	uint8_t diff = 0;

	if (!x || !y || x->suite != y->suite || x->rx != y->rx)
		return false;

	for (size_t i = 0; i < sizeof(x->key); i++)
		diff |= (uint8_t)(x->key[i] ^ y->key[i]);

	return diff == 0;
}


/**
 * Protect one RTP or RTCP packet in place
 *
 * @param s    Session allocated with rx false
 * @param rtcp true for RTCP (SRTCP), false for RTP
 * @param buf  Packet; grows by the authentication tag (and SRTCP index)
 * @param len  Packet length in, protected length out
 * @param size Size of buf: at least *len + SRTPX_TRAILER_MAX
 *
 * @return 0 if success, EOVERFLOW without room, EPROTO if libsrtp2
 *         refused it (too short, replayed), otherwise errorcode
 */
int srtpx_protect(struct srtpx *s, bool rtcp, uint8_t *buf, size_t *len,
		  size_t size)
{
	srtp_err_status_t st;
	int n;

	if (!s || s->rx || !buf || !len)
		return EINVAL;

	if (*len > (size_t)INT32_MAX - SRTPX_TRAILER_MAX ||
	    size < *len + SRTPX_TRAILER_MAX)
		return EOVERFLOW;

	n = (int)*len;
	st = rtcp ? srtp_protect_rtcp(s->ctx, buf, &n)
		  : srtp_protect(s->ctx, buf, &n);
	if (st != srtp_err_status_ok)
		return EPROTO;

	*len = (size_t)n;

	return 0;
}


/**
 * Check and decrypt one SRTP or SRTCP packet in place
 *
 * @param s    Session allocated with rx true
 * @param rtcp true for SRTCP, false for SRTP
 * @param buf  Packet
 * @param len  Packet length in, plain length out
 *
 * @return 0 if success, EAUTH if authentication failed, EALREADY for a
 *         replayed packet, EBADMSG for anything else libsrtp2 refused
 */
int srtpx_unprotect(struct srtpx *s, bool rtcp, uint8_t *buf, size_t *len)
{
	srtp_err_status_t st;
	int n;

	if (!s || !s->rx || !buf || !len)
		return EINVAL;

	if (*len > INT32_MAX)
		return EOVERFLOW;

	n = (int)*len;
	st = rtcp ? srtp_unprotect_rtcp(s->ctx, buf, &n)
		  : srtp_unprotect(s->ctx, buf, &n);

	switch (st) {

	case srtp_err_status_ok:
		*len = (size_t)n;
		return 0;

	case srtp_err_status_auth_fail:
		return EAUTH;

	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return EALREADY;

	default:
		return EBADMSG;
	}
}

/**
 * @file media_int.h  Internals of src/media shared by its files and tests
 *
 * Not for other folders: they use media.h.
 */

#ifndef RELAIS_MEDIA_INT_H
#define RELAIS_MEDIA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "media/media.h"

struct media;
struct portpool;

struct portpool *media_pool(const struct media *m);

/* ---- SDP text (sdptext.c) ----------------------------------------- */

struct pl;
struct sa;

int sdptext_tokens(const struct pl *val, struct pl *tokv, size_t max,
		   size_t *n);
void sdptext_attr(const struct pl *val, struct pl *name, struct pl *value);
bool sdptext_dir(const struct pl *name, enum sdprw_dir *dir);
int sdptext_conn(const struct pl *nettype, const struct pl *addrtype,
		 const struct pl *addr, struct sa *sa);
int sdptext_c(const struct pl *val, struct sa *sa);

/* ---- transcoding (codec.c) ----------------------------------------- */

enum {
	CODEC_SAMPLES_MIN = 80,	 /**< 10 ms at 8 kHz: shortest packet  */
	CODEC_SAMPLES_MAX = 480, /**< 60 ms at 8 kHz: longest packet   */
	CODEC_PAYLOAD_MAX = 480, /**< largest payload we write         */
};

/**
 * One direction of a transcoded call: a decoder for `from` and an encoder
 * for `to`, each with its own state. Used by one thread at a time.
 */
struct transcoder;

int transcoder_alloc(struct transcoder **tp, enum media_codec from,
		     enum media_codec to);
bool transcoder_match(const struct transcoder *t, enum media_codec from,
		      enum media_codec to);
int transcoder_run(struct transcoder *t, uint8_t *dst, size_t *dstlen,
		   const uint8_t *src, size_t srclen);
int codec_decode(struct transcoder *t, int16_t *pcm, size_t *nsamp,
		 const uint8_t *src, size_t srclen);
int codec_encode(struct transcoder *t, uint8_t *dst, size_t *dstlen,
		 const int16_t *pcm, size_t nsamp);

/* ---- SRTP (srtpx.c) ------------------------------------------------- */

enum {
	/** Room a buffer needs past the packet for srtpx_protect(): the
	    largest libsrtp2 trailer (tag + MKI) plus the SRTCP index */
	SRTPX_TRAILER_MAX = 16 + 128 + 4,
};

/** One SRTP/SRTCP context for one direction: protect or unprotect */
struct srtpx;

int srtpx_alloc(struct srtpx **sp, enum media_srtp_suite suite,
		const uint8_t *key, bool rx);
bool srtpx_same(const struct srtpx *x, const struct srtpx *y);
int srtpx_protect(struct srtpx *s, bool rtcp, uint8_t *buf, size_t *len,
		  size_t size);
int srtpx_unprotect(struct srtpx *s, bool rtcp, uint8_t *buf, size_t *len);

#endif

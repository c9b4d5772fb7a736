/**
 * @file codec.c  Audio codecs of the relay: G.711 A-law and mu-law,
 *                G.722 (spandsp) and G.729 Annex A (bcg729)
 *
 * Everything is converted through 8 kHz 16-bit linear audio. All four
 * codecs use an 8000 Hz RTP clock (RFC 3551 4.5.2 for G.722), so a packet
 * keeps its timestamp across a transcoding.
 *
 * G.722 runs in spandsp's 8 kHz mode: the decoder keeps the lower sub-band
 * only and the encoder leaves the upper sub-band silent. That is still a
 * valid G.722 stream for a wideband phone, and needs no resampler.
 *
 * Threads: a transcoder is built on the SIP thread and then used and freed
 * by the one relay worker it was handed to.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <spandsp.h>
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "media/media_int.h"

#define DEBUG_MODULE "codec"


enum {
	G722_BITRATE = 64000,	 /**< RFC 3551: the 64 kbit/s mode only   */
	G729_FRAME_SAMPLES = 80, /**< 10 ms                               */
	G729_FRAME_BYTES = 10,
	G729_SID_BYTES = 2, /**< Annex B comfort noise frame         */
};

struct transcoder {
	enum media_codec from;
	enum media_codec to;
	g722_decode_state_t *g722d;
	g722_encode_state_t *g722e;
	bcg729DecoderChannelContextStruct *g729d;
	bcg729EncoderChannelContextStruct *g729e;
};

static const struct {
	enum media_codec codec;
	const char *name; /**< RTP encoding name, RFC 3551 table 4 */
} codec_names[] = {
	{ MEDIA_CODEC_PCMU, "PCMU" },
	{ MEDIA_CODEC_PCMA, "PCMA" },
	{ MEDIA_CODEC_G722, "G722" },
	{ MEDIA_CODEC_G729, "G729" },
};


static bool codec_known(enum media_codec c)
{
	return c == MEDIA_CODEC_PCMU || c == MEDIA_CODEC_PCMA ||
	       c == MEDIA_CODEC_G722 || c == MEDIA_CODEC_G729;
}


/**
 * Tell whether the relay can carry audio between two codecs
 *
 * Two supported codecs qualify, equal or not (equal ones are relayed
 * untouched); MEDIA_CODEC_NONE or an unknown value does not.
 *
 * @param x One codec
 * @param y The other codec
 *
 * @return true if the relay can transcode between them
 */
bool media_codec_transcodable(enum media_codec x, enum media_codec y)
{
	return codec_known(x) && codec_known(y);
}


/**
 * Find a codec by its RTP encoding name (case-insensitive, as in SDP
 * a=rtpmap)
 *
 * @param name Encoding name, e.g. "PCMA" or "G722"
 *
 * @return The codec, or MEDIA_CODEC_NONE for NULL or an unknown name
 */
enum media_codec media_codec_from_name(const char *name)
{
	if (!name)
		return MEDIA_CODEC_NONE;

	for (size_t i = 0; i < ARRAY_SIZE(codec_names); i++) {
		if (!strcasecmp(name, codec_names[i].name))
			return codec_names[i].codec;
	}

	return MEDIA_CODEC_NONE;
}


/**
 * Get the RTP encoding name of a codec
 *
 * @param c Codec
 *
 * @return "PCMU", "PCMA", "G722", "G729", or "none" for MEDIA_CODEC_NONE
 *         and unknown values
 */
const char *media_codec_name(enum media_codec c)
{
	for (size_t i = 0; i < ARRAY_SIZE(codec_names); i++) {
		if (codec_names[i].codec == c)
			return codec_names[i].name;
	}

	return "none";
}


static void transcoder_destructor(void *arg)
{
	struct transcoder *t = arg;

	if (t->g722d)
		g722_decode_free(t->g722d);
	if (t->g722e)
		g722_encode_free(t->g722e);
	if (t->g729d)
		closeBcg729DecoderChannel(t->g729d);
	if (t->g729e)
		closeBcg729EncoderChannel(t->g729e);
}


/**
 * Allocate the codec state of one direction of a transcoded call
 *
 * @param tp   Pointer to allocated transcoder
 * @param from Codec of the packets received
 * @param to   Codec of the packets sent
 *
 * @return 0 if success, ENOTSUP if either codec is not supported,
 *         otherwise errorcode
 */
int transcoder_alloc(struct transcoder **tp, enum media_codec from,
		     enum media_codec to)
{
	struct transcoder *t;
	int err = 0;

	if (!tp)
		return EINVAL;

	if (!media_codec_transcodable(from, to))
		return ENOTSUP;

	t = mem_zalloc(sizeof(*t), transcoder_destructor);
	if (!t)
		return ENOMEM;

	t->from = from;
	t->to = to;

	if (from == MEDIA_CODEC_G722) {
		t->g722d = g722_decode_init(NULL, G722_BITRATE,
					    G722_SAMPLE_RATE_8000);
		if (!t->g722d)
			err = ENOMEM;
	}
	else if (from == MEDIA_CODEC_G729) {
		t->g729d = initBcg729DecoderChannel();
		if (!t->g729d)
			err = ENOMEM;
	}
	if (err)
		goto out;

	if (to == MEDIA_CODEC_G722) {
		t->g722e = g722_encode_init(NULL, G722_BITRATE,
					    G722_SAMPLE_RATE_8000);
		if (!t->g722e)
			err = ENOMEM;
	}
	else if (to == MEDIA_CODEC_G729) {
		/* no VAD: every 10 ms gives a full frame, no SID */
		t->g729e = initBcg729EncoderChannel(0);
		if (!t->g729e)
			err = ENOMEM;
	}

out:
	if (err)
		mem_deref(t);
	else
		*tp = t;

	return err;
}


/**
 * Tell whether a transcoder converts between the given codecs
 *
 * @param t    Transcoder, may be NULL
 * @param from Codec received
 * @param to   Codec sent
 *
 * @return true if it does
 */
bool transcoder_match(const struct transcoder *t, enum media_codec from,
		      enum media_codec to)
{
	return t && t->from == from && t->to == to;
}


static int g729_decode(struct transcoder *t, int16_t *pcm, size_t *nsamp,
		       const uint8_t *src, size_t srclen)
{
	const size_t frames = srclen / G729_FRAME_BYTES;
	const bool sid = srclen % G729_FRAME_BYTES == G729_SID_BYTES;
	size_t n = 0;

	/* RFC 3551 4.5.6: whole frames, then at most one SID frame */
	if (!sid && srclen % G729_FRAME_BYTES)
		return EBADMSG;

	if ((frames + sid) * G729_FRAME_SAMPLES < CODEC_SAMPLES_MIN ||
	    (frames + sid) * G729_FRAME_SAMPLES > CODEC_SAMPLES_MAX)
		return EMSGSIZE;

	for (size_t i = 0; i < frames; i++) {
		bcg729Decoder(t->g729d, src + i * G729_FRAME_BYTES,
			      G729_FRAME_BYTES, 0, 0, 0, pcm + n);
		n += G729_FRAME_SAMPLES;
	}

	if (sid) {
		bcg729Decoder(t->g729d, src + frames * G729_FRAME_BYTES,
			      G729_SID_BYTES, 0, 1, 0, pcm + n);
		n += G729_FRAME_SAMPLES;
	}

	*nsamp = n;

	return 0;
}


/**
 * Decode one RTP payload of the transcoder's `from` codec to 8 kHz linear
 *
 * @param t      Transcoder
 * @param pcm    Output, room for CODEC_SAMPLES_MAX samples
 * @param nsamp  Number of samples written
 * @param src    RTP payload
 * @param srclen Payload length: 10 to 60 ms of audio
 *
 * @return 0 if success, EMSGSIZE for a length out of range, EBADMSG for a
 *         G.729 payload that is not made of frames, otherwise errorcode
 */
int codec_decode(struct transcoder *t, int16_t *pcm, size_t *nsamp,
		 const uint8_t *src, size_t srclen)
{
	if (!t || !pcm || !nsamp || !src)
		return EINVAL;

	if (t->from == MEDIA_CODEC_G729)
		return g729_decode(t, pcm, nsamp, src, srclen);

	/* G.711 and G.722 at 64 kbit/s: one byte per 8 kHz sample */
	if (srclen < CODEC_SAMPLES_MIN || srclen > CODEC_SAMPLES_MAX)
		return EMSGSIZE;

	switch (t->from) {

	case MEDIA_CODEC_PCMU:
		for (size_t i = 0; i < srclen; i++)
			pcm[i] = ulaw_to_linear(src[i]);
		break;

	case MEDIA_CODEC_PCMA:
		for (size_t i = 0; i < srclen; i++)
			pcm[i] = alaw_to_linear(src[i]);
		break;

	case MEDIA_CODEC_G722:
		if (g722_decode(t->g722d, pcm, src, (int)srclen) !=
		    (int)srclen)
			return EPROTO;
		break;

	default:
		return ENOTSUP;
	}

	*nsamp = srclen;

	return 0;
}


/**
 * Encode 8 kHz linear audio to the transcoder's `to` codec
 *
 * @param t      Transcoder
 * @param dst    Output, room for CODEC_PAYLOAD_MAX bytes
 * @param dstlen Number of bytes written
 * @param pcm    Samples
 * @param nsamp  Number of samples, 80 to 480 (a multiple of 80 for G.729)
 *
 * @return 0 if success, EMSGSIZE for a sample count out of range,
 *         otherwise errorcode
 */
int codec_encode(struct transcoder *t, uint8_t *dst, size_t *dstlen,
		 const int16_t *pcm, size_t nsamp)
{
	size_t n = 0;

	if (!t || !dst || !dstlen || !pcm)
		return EINVAL;

	if (nsamp < CODEC_SAMPLES_MIN || nsamp > CODEC_SAMPLES_MAX)
		return EMSGSIZE;

	switch (t->to) {

	case MEDIA_CODEC_PCMU:
		for (size_t i = 0; i < nsamp; i++)
			dst[i] = linear_to_ulaw(pcm[i]);
		n = nsamp;
		break;

	case MEDIA_CODEC_PCMA:
		for (size_t i = 0; i < nsamp; i++)
			dst[i] = linear_to_alaw(pcm[i]);
		n = nsamp;
		break;

	case MEDIA_CODEC_G722:
		if (g722_encode(t->g722e, dst, pcm, (int)nsamp) != (int)nsamp)
			return EPROTO;
		n = nsamp;
		break;

	case MEDIA_CODEC_G729:
		if (nsamp % G729_FRAME_SAMPLES)
			return EMSGSIZE;

		for (size_t i = 0; i < nsamp; i += G729_FRAME_SAMPLES) {
			uint8_t len = 0;

			bcg729Encoder(t->g729e, pcm + i, dst + n, &len);
			if (len != G729_FRAME_BYTES)
				return EPROTO;
			n += len;
		}
		break;

	default:
		return ENOTSUP;
	}

	*dstlen = n;

	return 0;
}


/**
 * Transcode one RTP payload: decode `from`, encode `to`, same duration
 *
 * @param t      Transcoder
 * @param dst    Output, room for CODEC_PAYLOAD_MAX bytes
 * @param dstlen Number of bytes written
 * @param src    Payload received
 * @param srclen Its length
 *
 * @return 0 if success, otherwise errorcode (see codec_decode() and
 *         codec_encode())
 */
int transcoder_run(struct transcoder *t, uint8_t *dst, size_t *dstlen,
		   const uint8_t *src, size_t srclen)
{
	int16_t pcm[CODEC_SAMPLES_MAX];
	size_t nsamp = 0;
	int err;

	err = codec_decode(t, pcm, &nsamp, src, srclen);
	if (err)
		return err;

	return codec_encode(t, dst, dstlen, pcm, nsamp);
}

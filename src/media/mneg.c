/**
 * @file mneg.c  SDP offer/answer between the two legs of a call
 *
 * The B2BUA ends offer/answer on each leg. We read the SDP one side sent,
 * write our own SDP toward the other side (the relay's address and port,
 * the codecs that side accepts, SRTP as its policy wants), and when the
 * answer comes back we answer the offerer and work out how the relay must
 * treat each leg: pass-through, transcoding, SRTP keys.
 *
 * Every SDP we send is generated, not rewritten: nothing of one side (its
 * addresses, ICE, vendor attributes) reaches the other, except the T.38
 * attributes, which the two fax endpoints negotiate end to end through us.
 * Streams we do not relay keep their place with port 0, because an answer
 * has as many m= lines as its offer (RFC 3264 6).
 *
 * Input comes from the network: it has ceilings on size, lines, m=
 * sections, formats, crypto and T.38 lines; numbers go through num_u32();
 * all parsing works on struct pl inside a private copy of the text.
 * Keys are never logged.
 */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "media/media_int.h"

#define DEBUG_MODULE "mneg"


enum {
	MAX_SIZE = 16384, /**< bytes of SDP accepted              */
	MAX_LINES = 512,  /**< lines of SDP accepted              */
	MAX_MEDIA = 16,	  /**< m= sections accepted               */
	MAX_FMTS = 64,	  /**< formats on one m= line             */
	MAX_CRYPTO = 16,  /**< a=crypto lines in one section      */
	MAX_T38 = 32,	  /**< a=T38* lines in one section        */
	MAX_TOKENS = 8,	  /**< blank separated tokens we look at  */
	PT_MAX = 127,	  /**< RTP payload types, RFC 3550 5.1    */
	PT_TE_MIN = 35,	  /**< below: RFC 3551 static assignments */
	PT_TE_DEFAULT = 101,
	CODEC_MAX = 4,	  /**< PCMU, PCMA, G722, G729             */
	ENC_TE = 0x7f,	  /**< encoding of telephone-event        */
	KEY_B64_LEN = 40, /**< base64 of the 30-byte key||salt    */
	OUR_CRYPTO_TAG = 1,
	CLOCK_RATE = 8000,
	PTIME = 20,
};

/* RFC 4568 9.1: a crypto tag is 1*9DIGIT */
enum { CRYPTO_TAG_MAX = 999999999 };

/** The codecs the relay knows, with their RFC 3551 static payload types */
static const struct {
	enum media_codec codec;
	const char *name;
	uint8_t pt;
} codec_table[] = {
	{ MEDIA_CODEC_PCMU, "PCMU", 0 },
	{ MEDIA_CODEC_PCMA, "PCMA", 8 },
	{ MEDIA_CODEC_G722, "G722", 9 },
	{ MEDIA_CODEC_G729, "G729", 18 },
};

static const char *const suite_names[] = {
	[MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80] = "AES_CM_128_HMAC_SHA1_80",
	[MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32] = "AES_CM_128_HMAC_SHA1_32",
};

static const char *const dir_names[] = {
	[SDPRW_DIR_SENDRECV] = "sendrecv",
	[SDPRW_DIR_SENDONLY] = "sendonly",
	[SDPRW_DIR_RECVONLY] = "recvonly",
	[SDPRW_DIR_INACTIVE] = "inactive",
};

static const char default_codecs[] = "PCMA,PCMU,G722,G729,telephone-event";


/* ---- parsed SDP ------------------------------------------------------ */

struct crypto {
	uint32_t tag;
	enum media_srtp_suite suite;
	uint8_t key[MEDIA_SRTP_KEY_LEN];
};

enum mkind {
	MK_OTHER = 0, /**< a stream we do not relay             */
	MK_AUDIO,     /**< m=audio with RTP/AVP or RTP/SAVP      */
	MK_IMAGE,     /**< m=image udptl t38                     */
};

/** One m= section; every pl points into rxdoc.text */
struct rxmedia {
	enum mkind kind;
	struct pl media;
	struct pl proto;
	struct pl fmts; /**< the format list as written       */
	uint32_t port;
	bool savp;
	uint8_t ptv[MAX_FMTS];
	size_t ptc;
	uint8_t enc[PT_MAX + 1]; /**< media_codec, ENC_TE or 0    */
	struct crypto cryptov[MAX_CRYPTO];
	size_t cryptoc;
	bool has_c;
	struct sa caddr;
	bool has_rtcp;
	uint32_t rtcp_port;
	bool has_rtcp_addr;
	struct sa rtcp_addr;
	bool has_dir;
	enum sdprw_dir dir;
	struct pl t38v[MAX_T38]; /**< "T38FaxVersion:0" ...       */
	size_t t38c;
};

/** A received SDP, with its own copy of the text */
struct rxdoc {
	char *text;
	struct rxmedia *mv;
	size_t mc;
	bool has_c;
	struct sa caddr;
	bool has_dir;
	enum sdprw_dir dir;
};

/* ---- negotiation state ---------------------------------------------- */

struct fmt {
	enum media_codec codec;
	uint8_t pt;
};

struct fmtlist {
	struct fmt v[CODEC_MAX];
	size_t n;
};

/** A side's policy, parsed */
struct pol {
	enum media_codec codecv[CODEC_MAX];
	size_t codecc;
	bool te;
	enum mneg_srtp srtp;
	bool t38;
};

/** What was agreed with one side */
struct legstate {
	bool set;
	bool t38;
	enum media_codec codec;
	uint8_t pt;
	uint8_t dtmf_pt;
	bool srtp;
	enum media_srtp_suite suite;
	uint8_t key_tx[MEDIA_SRTP_KEY_LEN];
	uint8_t key_rx[MEDIA_SRTP_KEY_LEN];
};

struct side {
	struct pol pol;
	struct sa addr; /**< ours in c= and o= toward this side, port 0 */
	uint16_t port;
	uint32_t sess_id;
	uint32_t version; /**< o= version of the last SDP sent here */
	struct legstate st;
	bool has_peer;
	struct sa rtp;
	struct sa rtcp;
	enum sdprw_dir offer_dir;
};

/** The offer in progress: from side `from`, ours toward the other */
struct pending {
	bool active;
	bool local; /**< the offerer was answered by mneg_local_answer */
	enum media_side from;
	struct rxdoc *doc;
	int idx; /**< the stream we relay */
	bool t38;
	struct fmtlist flist; /**< offerer's usable codecs, its order */
	bool fte;
	uint8_t fte_pt;
	bool fsavp;
	size_t fcrypto;
	enum sdprw_dir fdir;
	struct fmtlist olist; /**< what we offered the other side     */
	bool ote;
	uint8_t ote_pt;
	bool osavp;
	uint8_t okey[MEDIA_SRTP_KEY_LEN];
};

struct mneg {
	struct side sidev[2];
	struct pending pend;
};

/** An audio m= line to write */
struct aout {
	uint16_t port;
	bool savp;
	const struct fmt *fmtv;
	size_t fmtc;
	bool te;
	uint8_t te_pt;
	enum sdprw_dir dir;
	bool crypto;
	uint32_t tag;
	enum media_srtp_suite suite;
	const uint8_t *key;
};

/** A whole SDP to write, mirroring the m= lines of an offer */
struct sdpout {
	const struct rxdoc *mirror;
	int idx;
	const struct aout *audio;  /**< at idx, or NULL            */
	const struct rxmedia *t38; /**< attributes for m=image       */
};


static enum media_side other_side(enum media_side s)
{
	return s == MEDIA_SIDE_A ? MEDIA_SIDE_B : MEDIA_SIDE_A;
}


static void doc_destructor(void *arg)
{
	struct rxdoc *doc = arg;

	mem_deref(doc->text);
	mem_deref(doc->mv);
}


static void mneg_destructor(void *arg)
{
	struct mneg *m = arg;

	mem_deref(m->pend.doc);
	OPENSSL_cleanse(m, sizeof(*m));
}


/* Cut a pl at the first ch, if any */
static void cut_at(struct pl *pl, char ch)
{
	const char *p = pl_strchr(pl, ch);

	if (p)
		pl->l = (size_t)(p - pl->p);
}


static int pt_parse(const struct pl *pl, uint8_t *pt)
{
	uint32_t v;

	if (num_u32(pl, 0, PT_MAX, &v))
		return EBADMSG;

	*pt = (uint8_t)v;

	return 0;
}


static enum media_codec codec_by_pt(uint8_t pt)
{
	for (size_t i = 0; i < ARRAY_SIZE(codec_table); i++) {
		if (codec_table[i].pt == pt)
			return codec_table[i].codec;
	}

	return MEDIA_CODEC_NONE;
}


static enum media_codec codec_by_name(const struct pl *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(codec_table); i++) {
		if (!pl_strcasecmp(name, codec_table[i].name))
			return codec_table[i].codec;
	}

	return MEDIA_CODEC_NONE;
}


static const char *codec_name(enum media_codec codec)
{
	for (size_t i = 0; i < ARRAY_SIZE(codec_table); i++) {
		if (codec_table[i].codec == codec)
			return codec_table[i].name;
	}

	return "?";
}


static uint8_t codec_pt(enum media_codec codec)
{
	for (size_t i = 0; i < ARRAY_SIZE(codec_table); i++) {
		if (codec_table[i].codec == codec)
			return codec_table[i].pt;
	}

	return 0;
}


/* "m=audio 49170[/2] RTP/AVP 0 8 101" */
static int m_parse(struct rxmedia *ms, const struct pl *val)
{
	struct pl tokv[MAX_FMTS + 3];
	struct pl port;
	bool seen[PT_MAX + 1];
	size_t n;

	if (sdptext_tokens(val, tokv, ARRAY_SIZE(tokv), &n) || n < 4)
		return EBADMSG;

	port = tokv[1];
	cut_at(&port, '/');
	if (num_u32(&port, 0, 65535, &ms->port))
		return EBADMSG;

	ms->media = tokv[0];
	ms->proto = tokv[2];
	ms->fmts.p = tokv[3].p;
	ms->fmts.l = (size_t)(tokv[n - 1].p + tokv[n - 1].l - tokv[3].p);

	if (!pl_strcmp(&ms->media, "image") &&
	    !pl_strcasecmp(&ms->proto, "udptl")) {
		for (size_t i = 3; i < n; i++) {
			if (!pl_strcasecmp(&tokv[i], "t38"))
				ms->kind = MK_IMAGE;
		}
		return 0;
	}

	if (pl_strcmp(&ms->media, "audio"))
		return 0;

	if (!pl_strcmp(&ms->proto, "RTP/SAVP"))
		ms->savp = true;
	else if (pl_strcmp(&ms->proto, "RTP/AVP"))
		return 0;

	ms->kind = MK_AUDIO;
	memset(seen, 0, sizeof(seen));

	for (size_t i = 3; i < n; i++) {
		uint8_t pt;

		if (pt_parse(&tokv[i], &pt))
			return EBADMSG;

		if (seen[pt])
			continue;

		seen[pt] = true;
		ms->ptv[ms->ptc++] = pt;
		ms->enc[pt] = (uint8_t)codec_by_pt(pt);
	}

	return 0;
}


/* "a=rtcp:53020" or "a=rtcp:53020 IN IP4 192.0.2.1" (RFC 3605) */
static int rtcp_parse(struct rxmedia *ms, const struct pl *value)
{
	struct pl tokv[MAX_TOKENS];
	size_t n;

	if (sdptext_tokens(value, tokv, MAX_TOKENS, &n) || (n != 1 && n != 4))
		return EBADMSG;

	if (num_u32(&tokv[0], 1, 65535, &ms->rtcp_port))
		return EBADMSG;

	ms->has_rtcp = true;

	if (n == 4) {
		if (sdptext_conn(&tokv[1], &tokv[2], &tokv[3], &ms->rtcp_addr))
			return EBADMSG;
		ms->has_rtcp_addr = true;
	}

	return 0;
}


/* "a=rtpmap:96 telephone-event/8000" (RFC 4566 6) */
static int rtpmap_parse(struct rxmedia *ms, const struct pl *value)
{
	struct pl tokv[2], name, clock;
	enum media_codec codec;
	uint32_t rate;
	uint8_t pt;
	size_t n;

	if (sdptext_tokens(value, tokv, 2, &n) || n != 2 ||
	    pt_parse(&tokv[0], &pt))
		return EBADMSG;

	name = tokv[1];
	cut_at(&name, '/');
	if (!name.l || name.l == tokv[1].l)
		return EBADMSG;

	clock.p = name.p + name.l + 1;
	clock.l = tokv[1].l - name.l - 1;
	cut_at(&clock, '/');
	if (num_u32(&clock, 1, UINT32_MAX, &rate))
		return EBADMSG;

	codec = codec_by_name(&name);

	/* G.722 is 8000 by RFC 3551 4.5.2, some phones write 16000 */
	if (codec != MEDIA_CODEC_NONE &&
	    (rate == CLOCK_RATE ||
	     (codec == MEDIA_CODEC_G722 && rate == 2 * CLOCK_RATE)))
		ms->enc[pt] = (uint8_t)codec;
	else if (!pl_strcasecmp(&name, "telephone-event") &&
		 rate == CLOCK_RATE && pt >= PT_TE_MIN)
		ms->enc[pt] = ENC_TE;
	else
		ms->enc[pt] = 0;

	return 0;
}


/* "a=fmtp:101 0-15": only the payload type must make sense here */
static int fmtp_parse(const struct pl *value)
{
	struct pl pt = *value;
	uint8_t v;

	cut_at(&pt, ' ');
	return pt_parse(&pt, &v);
}


static int b64_digit(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;

	return -1;
}


/* Exactly 40 base64 characters, which make the 30 bytes of key||salt */
static int key_decode(const struct pl *b64, uint8_t *key)
{
	if (b64->l != KEY_B64_LEN)
		return EBADMSG;

	for (size_t i = 0; i < KEY_B64_LEN; i += 4) {
		uint32_t v = 0;
		uint8_t *o = key + i / 4 * 3;

		for (size_t k = 0; k < 4; k++) {
			const int d = b64_digit(b64->p[i + k]);

			if (d < 0)
				return EBADMSG;
			v = v << 6 | (uint32_t)d;
		}

		o[0] = (uint8_t)(v >> 16);
		o[1] = (uint8_t)(v >> 8);
		o[2] = (uint8_t)v;
	}

	return 0;
}


static bool suite_parse(const struct pl *name, enum media_srtp_suite *suite)
{
	for (size_t i = 0; i < ARRAY_SIZE(suite_names); i++) {
		if (!pl_strcmp(name, suite_names[i])) {
			*suite = (enum media_srtp_suite)i;
			return true;
		}
	}

	return false;
}


/*
 * RFC 4568 9.1: "a=crypto:<tag> <suite> inline:<key||salt>[|lifetime]
 * [|MKI:length][;inline:...] [<session-params>]". Lines with a suite or
 * session parameters we do not implement are skipped, as 7.1.1 asks; a
 * broken key under a suite we know is a broken message.
 */
static int crypto_parse(struct rxmedia *ms, const struct pl *value)
{
	struct pl tokv[MAX_TOKENS], key;
	enum media_srtp_suite suite;
	struct crypto *cr;
	uint32_t tag;
	size_t n;

	if (sdptext_tokens(value, tokv, MAX_TOKENS, &n) || n < 3)
		return EBADMSG;

	if (num_u32(&tokv[0], 0, CRYPTO_TAG_MAX, &tag))
		return EBADMSG;

	if (!suite_parse(&tokv[1], &suite) || n > 3)
		return 0;

	key = tokv[2];
	cut_at(&key, ';'); /* more keys: the first one is used */
	if (key.l < 7 || memcmp(key.p, "inline:", 7))
		return EBADMSG;

	pl_advance(&key, 7);
	cut_at(&key, '|'); /* lifetime and MKI are ignored */

	if (ms->cryptoc == MAX_CRYPTO)
		return EBADMSG;

	cr = &ms->cryptov[ms->cryptoc];
	if (key_decode(&key, cr->key))
		return EBADMSG;

	cr->tag = tag;
	cr->suite = suite;
	++ms->cryptoc;

	return 0;
}


static int media_attr(struct rxmedia *ms, const struct pl *val)
{
	struct pl name, value;
	enum sdprw_dir dir;

	sdptext_attr(val, &name, &value);
	if (!name.l)
		return EBADMSG;

	if (sdptext_dir(&name, &dir)) {
		ms->has_dir = true;
		ms->dir = dir;
		return 0;
	}

	if (!pl_strcasecmp(&name, "rtcp"))
		return rtcp_parse(ms, &value);

	if (ms->kind == MK_IMAGE) {
		if (name.l < 3 || strncasecmp(name.p, "T38", 3))
			return 0;
		if (ms->t38c == MAX_T38)
			return EBADMSG;
		ms->t38v[ms->t38c++] = *val;
		return 0;
	}

	if (ms->kind != MK_AUDIO)
		return 0;

	if (!pl_strcasecmp(&name, "rtpmap"))
		return rtpmap_parse(ms, &value);

	if (!pl_strcasecmp(&name, "fmtp"))
		return fmtp_parse(&value);

	if (!pl_strcasecmp(&name, "crypto"))
		return crypto_parse(ms, &value);

	return 0;
}


static int line_parse(struct rxdoc *doc, struct rxmedia **msp, char type,
		      const struct pl *val)
{
	struct rxmedia *ms = *msp;
	struct pl name, value;
	enum sdprw_dir dir;

	switch (type) {

	case 'v':
		return EBADMSG; /* only as the first line */

	case 'm':
		if (doc->mc == MAX_MEDIA)
			return EBADMSG;
		ms = &doc->mv[doc->mc++];
		*msp = ms;
		return m_parse(ms, val);

	case 'c':
		if (ms) {
			ms->has_c = true;
			return sdptext_c(val, &ms->caddr);
		}
		doc->has_c = true;
		return sdptext_c(val, &doc->caddr);

	case 'a':
		if (ms)
			return media_attr(ms, val);

		sdptext_attr(val, &name, &value);
		if (!name.l)
			return EBADMSG;
		if (sdptext_dir(&name, &dir)) {
			doc->has_dir = true;
			doc->dir = dir;
		}
		return 0;

	default:
		return 0;
	}
}


/* RFC 4566 5: <type>=<value>, type is one letter, no control characters */
static bool line_valid(const char *p, size_t len)
{
	if (len < 2 || p[0] < 'a' || p[0] > 'z' || p[1] != '=')
		return false;

	for (size_t k = 2; k < len; k++) {
		const unsigned char ch = (unsigned char)p[k];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}

	return true;
}


/* Walk the lines (LF or CRLF, the last one may have neither) */
static int doc_lines(struct rxdoc *doc, size_t len)
{
	struct rxmedia *ms = NULL;
	const char *t = doc->text;
	size_t i = 0, linec = 0;

	while (i < len) {
		const size_t start = i;
		struct pl val;
		size_t l;
		int err;

		while (i < len && t[i] != '\n')
			++i;

		l = i - start;
		if (i < len)
			++i; /* the LF */
		if (l && t[start + l - 1] == '\r')
			--l;
		if (!l)
			continue; /* blank lines are tolerated */

		if (++linec > MAX_LINES || !line_valid(t + start, l))
			return EBADMSG;

		val.p = t + start + 2;
		val.l = l - 2;

		if (linec == 1) {
			if (t[start] != 'v' || pl_strcmp(&val, "0"))
				return EBADMSG;
			continue;
		}

		err = line_parse(doc, &ms, t[start], &val);
		if (err)
			return err;
	}

	return linec ? 0 : EBADMSG;
}


static int doc_parse(struct rxdoc **docp, const struct pl *in)
{
	struct rxdoc *doc;
	int err;

	if (in->l > MAX_SIZE)
		return EBADMSG;

	doc = mem_zalloc(sizeof(*doc), doc_destructor);
	if (!doc)
		return ENOMEM;

	doc->text = mem_alloc(in->l ? in->l : 1, NULL);
	doc->mv = mem_zalloc(MAX_MEDIA * sizeof(*doc->mv), NULL);
	if (!doc->text || !doc->mv) {
		err = ENOMEM;
		goto out;
	}

	if (in->l)
		memcpy(doc->text, in->p, in->l);

	err = doc_lines(doc, in->l);

out:
	if (err)
		mem_deref(doc);
	else
		*docp = doc;

	return err;
}


static const struct sa *media_caddr(const struct rxdoc *doc,
				    const struct rxmedia *ms)
{
	if (ms->has_c)
		return &ms->caddr;

	return doc->has_c ? &doc->caddr : NULL;
}


static enum sdprw_dir media_dir(const struct rxdoc *doc,
				const struct rxmedia *ms)
{
	const struct sa *caddr = media_caddr(doc, ms);
	enum sdprw_dir dir = SDPRW_DIR_SENDRECV;

	if (ms->has_dir)
		dir = ms->dir;
	else if (doc->has_dir)
		dir = doc->dir;

	/* RFC 3264 8.4: c=0.0.0.0 is the old way to put a call on hold */
	if (caddr && sa_is_any(caddr) && dir != SDPRW_DIR_SENDONLY)
		dir = SDPRW_DIR_INACTIVE;

	return dir;
}


/*
 * The stream's addresses must exist and be reachable from our socket
 * toward side s, the side that sent the SDP
 */
static int media_addr_check(const struct side *s, const struct rxdoc *doc,
			    const struct rxmedia *ms)
{
	const struct sa *caddr = media_caddr(doc, ms);
	const int af = sa_af(&s->addr);

	if (!caddr)
		return EBADMSG;

	if (!sa_is_any(caddr) && sa_af(caddr) != af)
		return EPROTO;

	if (ms->has_rtcp_addr && !sa_is_any(&ms->rtcp_addr) &&
	    sa_af(&ms->rtcp_addr) != af)
		return EPROTO;

	return 0;
}


/* ---- policies and codec choice ---------------------------------------- */

static bool pol_has(const struct pol *pol, enum media_codec codec)
{
	for (size_t i = 0; i < pol->codecc; i++) {
		if (pol->codecv[i] == codec)
			return true;
	}

	return false;
}


static int pol_parse(struct pol *pol, const struct mneg_policy *mp)
{
	struct pl list;

	if ((unsigned)mp->srtp > MNEG_SRTP_ENFORCED)
		return EINVAL;

	memset(pol, 0, sizeof(*pol));
	pol->srtp = mp->srtp;
	pol->t38 = mp->t38;

	pl_set_str(&list,
		   mp->codecs && *mp->codecs ? mp->codecs : default_codecs);

	while (list.l) {
		struct pl item = list;
		enum media_codec codec;

		cut_at(&item, ',');
		pl_advance(&list, (ssize_t)item.l + (item.l < list.l));
		text_trim(&item);

		codec = codec_by_name(&item);
		if (codec != MEDIA_CODEC_NONE) {
			if (!pol_has(pol, codec))
				pol->codecv[pol->codecc++] = codec;
		}
		else if (!pl_strcasecmp(&item, "telephone-event")) {
			pol->te = true;
		}
		else if (item.l) {
			log_debug("codec %r is not relayed, ignored", &item);
		}
	}

	return 0;
}


static bool fmt_find(const struct fmtlist *list, enum media_codec codec,
		     struct fmt *fmt)
{
	for (size_t i = 0; i < list->n; i++) {
		if (list->v[i].codec == codec) {
			*fmt = list->v[i];
			return true;
		}
	}

	return false;
}


static void fmt_add(struct fmtlist *list, enum media_codec codec, uint8_t pt)
{
	struct fmt dummy;

	if (list->n == CODEC_MAX || fmt_find(list, codec, &dummy))
		return;

	list->v[list->n].codec = codec;
	list->v[list->n].pt = pt;
	++list->n;
}


/*
 * The format of `list` to use against `codec` on the other leg: the same
 * codec (pass-through), else one the relay transcodes from, G.711 first
 * (the cheapest to transcode), else the first of the list.
 */
static int fmt_pick(const struct fmtlist *list, enum media_codec codec,
		    struct fmt *fmt)
{
	static const enum media_codec pref[] = {
		MEDIA_CODEC_PCMA,
		MEDIA_CODEC_PCMU,
	};

	if (fmt_find(list, codec, fmt))
		return 0;

	for (size_t i = 0; i < ARRAY_SIZE(pref); i++) {
		if (fmt_find(list, pref[i], fmt) &&
		    media_codec_transcodable(pref[i], codec))
			return 0;
	}

	for (size_t i = 0; i < list->n; i++) {
		if (media_codec_transcodable(list->v[i].codec, codec)) {
			*fmt = list->v[i];
			return 0;
		}
	}

	return ENOENT;
}


/* The stream's known codecs in its order; with pol, only those allowed */
static void fmts_of(const struct rxmedia *ms, const struct pol *pol,
		    struct fmtlist *list)
{
	memset(list, 0, sizeof(*list));

	for (size_t i = 0; i < ms->ptc; i++) {
		const uint8_t pt = ms->ptv[i];
		const uint8_t enc = ms->enc[pt];

		if (enc == 0 || enc == ENC_TE)
			continue;

		if (pol && !pol_has(pol, (enum media_codec)enc))
			continue;

		fmt_add(list, (enum media_codec)enc, pt);
	}
}


static bool te_find(const struct rxmedia *ms, uint8_t *pt)
{
	for (size_t i = 0; i < ms->ptc; i++) {
		if (ms->enc[ms->ptv[i]] == ENC_TE) {
			*pt = ms->ptv[i];
			return true;
		}
	}

	return false;
}


/* RFC 4568 7.1.1: we take one crypto line; SPEC §2 prefers _80 */
static int crypto_pick(const struct rxmedia *ms, size_t *idx)
{
	for (int pass = 0; pass < 2; pass++) {
		const enum media_srtp_suite want =
		    pass ? MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32
			 : MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80;

		for (size_t i = 0; i < ms->cryptoc; i++) {
			if (ms->cryptov[i].suite == want) {
				*idx = i;
				return 0;
			}
		}
	}

	return ENOENT;
}


static const struct crypto *crypto_find(const struct rxmedia *ms, uint32_t tag,
					enum media_srtp_suite suite)
{
	for (size_t i = 0; i < ms->cryptoc; i++) {
		if (ms->cryptov[i].tag == tag && ms->cryptov[i].suite == suite)
			return &ms->cryptov[i];
	}

	return NULL;
}


/* The first usable audio stream; failing that, a T.38 stream */
static int offer_stream(const struct rxdoc *doc, bool *t38)
{
	for (size_t i = 0; i < doc->mc; i++) {
		if (doc->mv[i].kind == MK_AUDIO && doc->mv[i].port) {
			*t38 = false;
			return (int)i;
		}
	}

	for (size_t i = 0; i < doc->mc; i++) {
		if (doc->mv[i].kind == MK_IMAGE && doc->mv[i].port) {
			*t38 = true;
			return (int)i;
		}
	}

	return -1;
}


/*
 * The answer's direction: the answerer's own when it is a valid answer to
 * the offer (RFC 3264 6.1), otherwise the complement of the offer's.
 */
static enum sdprw_dir answer_dir(enum sdprw_dir offered,
				 enum sdprw_dir answered)
{
	switch (offered) {

	case SDPRW_DIR_SENDRECV:
		return answered;

	case SDPRW_DIR_SENDONLY:
		if (answered == SDPRW_DIR_RECVONLY ||
		    answered == SDPRW_DIR_INACTIVE)
			return answered;
		break;

	case SDPRW_DIR_RECVONLY:
		if (answered == SDPRW_DIR_SENDONLY ||
		    answered == SDPRW_DIR_INACTIVE)
			return answered;
		break;

	default:
		break;
	}

	return sdprw_dir_answer(offered);
}


/* ---- writing ---------------------------------------------------------- */

static const char *addrtype(const struct sa *sa)
{
	return sa_af(sa) == AF_INET6 ? "IP6" : "IP4";
}


/* RFC 4566 5.2 and 5.7: our address toward side s, in o= and c= */
static int write_head(struct mbuf *mb, const struct side *s)
{
	const char *at = addrtype(&s->addr);

	return mbuf_printf(mb,
			   "v=0\r\n"
			   "o=relais %u %u IN %s %j\r\n"
			   "s=-\r\n"
			   "c=IN %s %j\r\n"
			   "t=0 0\r\n",
			   s->sess_id, s->version + 1, at, &s->addr, at,
			   &s->addr);
}


static int write_crypto(struct mbuf *mb, const struct aout *ao)
{
	char b64[KEY_B64_LEN + 4];
	size_t len = sizeof(b64);
	int err;

	err = base64_encode(ao->key, MEDIA_SRTP_KEY_LEN, b64, &len);
	if (!err)
		err = mbuf_printf(mb, "a=crypto:%u %s inline:%b\r\n", ao->tag,
				  suite_names[ao->suite], b64, len);

	OPENSSL_cleanse(b64, sizeof(b64));

	return err;
}


static int write_audio(struct mbuf *mb, const struct aout *ao)
{
	int err;

	err = mbuf_printf(mb, "m=audio %u %s", ao->port,
			  ao->savp ? "RTP/SAVP" : "RTP/AVP");

	for (size_t i = 0; i < ao->fmtc && !err; i++)
		err = mbuf_printf(mb, " %u", ao->fmtv[i].pt);

	if (!err && ao->te)
		err = mbuf_printf(mb, " %u", ao->te_pt);

	if (!err)
		err = mbuf_write_str(mb, "\r\n");

	for (size_t i = 0; i < ao->fmtc && !err; i++) {
		const struct fmt *f = &ao->fmtv[i];

		err = mbuf_printf(mb, "a=rtpmap:%u %s/%u\r\n", f->pt,
				  codec_name(f->codec), CLOCK_RATE);

		/* RFC 4856 2.1.9: Annex B is assumed unless refused */
		if (!err && f->codec == MEDIA_CODEC_G729)
			err =
			    mbuf_printf(mb, "a=fmtp:%u annexb=no\r\n", f->pt);
	}

	if (!err && ao->te)
		err = mbuf_printf(mb,
				  "a=rtpmap:%u telephone-event/%u\r\n"
				  "a=fmtp:%u 0-15\r\n",
				  ao->te_pt, CLOCK_RATE, ao->te_pt);

	if (!err)
		err = mbuf_printf(mb, "a=ptime:%u\r\na=%s\r\na=rtcp:%u\r\n",
				  PTIME, dir_names[ao->dir], ao->port + 1);

	if (!err && ao->crypto)
		err = write_crypto(mb, ao);

	return err;
}


static int write_image(struct mbuf *mb, uint16_t port, const struct pl *proto,
		       const struct rxmedia *attrs)
{
	int err;

	err = mbuf_printf(mb, "m=image %u %r t38\r\n", port, proto);

	for (size_t i = 0; attrs && i < attrs->t38c && !err; i++)
		err = mbuf_printf(mb, "a=%r\r\n", &attrs->t38v[i]);

	return err;
}


/* A stream we do not relay: port 0 (RFC 3264 6), its formats kept */
static int write_rejected(struct mbuf *mb, const struct rxmedia *ms)
{
	return mbuf_printf(mb, "m=%r 0 %r %r\r\n", &ms->media, &ms->proto,
			   &ms->fmts);
}


/* The SDP toward side s; its o= version is s->version + 1 */
static int sdp_build(struct mbuf **mbp, const struct side *s,
		     const struct sdpout *so)
{
	struct mbuf *mb;
	int err;

	mb = mbuf_alloc(512);
	if (!mb)
		return ENOMEM;

	err = write_head(mb, s);

	for (size_t i = 0; i < so->mirror->mc && !err; i++) {
		const struct rxmedia *ms = &so->mirror->mv[i];

		if ((int)i != so->idx)
			err = write_rejected(mb, ms);
		else if (so->audio)
			err = write_audio(mb, so->audio);
		else
			err = write_image(mb, s->port, &ms->proto, so->t38);
	}

	if (err) {
		mem_deref(mb);
		return err;
	}

	mb->pos = 0;
	*mbp = mb;

	return 0;
}


/* ---- state ------------------------------------------------------------ */

static void peer_set(struct side *s, const struct rxdoc *doc,
		     const struct rxmedia *ms)
{
	const struct sa *caddr = media_caddr(doc, ms);

	s->rtp = *caddr;
	sa_set_port(&s->rtp, (uint16_t)ms->port);
	sa_init(&s->rtcp, AF_UNSPEC);

	if (ms->kind == MK_AUDIO && ms->has_rtcp) {
		s->rtcp = ms->has_rtcp_addr ? ms->rtcp_addr : *caddr;
		sa_set_port(&s->rtcp, (uint16_t)ms->rtcp_port);
	}
	else if (ms->kind == MK_AUDIO && ms->port < 65535) {
		s->rtcp = *caddr;
		sa_set_port(&s->rtcp, (uint16_t)(ms->port + 1));
	}

	s->has_peer = true;
}


static void pending_clear(struct pending *p)
{
	mem_deref(p->doc);
	OPENSSL_cleanse(p, sizeof(*p));
}


static void state_t38(struct legstate *st)
{
	OPENSSL_cleanse(st, sizeof(*st));
	st->set = true;
	st->t38 = true;
}


static void state_audio(struct legstate *st, const struct fmt *f,
			uint8_t dtmf_pt)
{
	OPENSSL_cleanse(st, sizeof(*st));
	st->set = true;
	st->codec = f->codec;
	st->pt = f->pt;
	st->dtmf_pt = dtmf_pt;
}


static void state_srtp(struct legstate *st, enum media_srtp_suite suite,
		       const uint8_t *key_tx, const uint8_t *key_rx)
{
	st->srtp = true;
	st->suite = suite;
	memcpy(st->key_tx, key_tx, MEDIA_SRTP_KEY_LEN);
	memcpy(st->key_rx, key_rx, MEDIA_SRTP_KEY_LEN);
}


static int key_new(uint8_t *key)
{
	return RAND_bytes(key, MEDIA_SRTP_KEY_LEN) == 1 ? 0 : EIO;
}


/* Check an audio offer against both policies; fill the pending offer */
static int offer_audio(const struct mneg *m, struct pending *p,
		       const struct rxmedia *ms)
{
	const struct side *f = &m->sidev[p->from];
	const struct side *o = &m->sidev[other_side(p->from)];

	/* the profile says whether SRTP is wanted (RFC 4568 3.1.4) */
	if (ms->savp && f->pol.srtp == MNEG_SRTP_DISABLED)
		return EPERM;
	if (!ms->savp && f->pol.srtp == MNEG_SRTP_ENFORCED)
		return EPERM;

	p->fsavp = ms->savp;
	if (ms->savp && crypto_pick(ms, &p->fcrypto))
		return EPROTO;

	fmts_of(ms, &f->pol, &p->flist);
	if (!p->flist.n)
		return EPROTO;

	p->fte = f->pol.te && te_find(ms, &p->fte_pt);

	/* the other side's order: what the offer has, or can be made of it */
	for (size_t i = 0; i < o->pol.codecc; i++) {
		const enum media_codec c = o->pol.codecv[i];
		struct fmt dummy;

		if (!fmt_pick(&p->flist, c, &dummy))
			fmt_add(&p->olist, c, codec_pt(c));
	}

	if (!p->olist.n)
		return EPROTO;

	p->ote = o->pol.te;
	p->ote_pt = p->fte ? p->fte_pt : PT_TE_DEFAULT;

	switch (o->pol.srtp) {

	case MNEG_SRTP_ENFORCED:
		p->osavp = true;
		break;

	case MNEG_SRTP_ALLOWED:
		p->osavp = ms->savp;
		break;

	default:
		p->osavp = false;
		break;
	}

	return p->osavp ? key_new(p->okey) : 0;
}


static int offer_eval(const struct mneg *m, struct pending *p)
{
	const struct side *o = &m->sidev[other_side(p->from)];
	const struct rxmedia *ms;
	int err;

	p->idx = offer_stream(p->doc, &p->t38);
	if (p->idx < 0)
		return EPROTO;

	ms = &p->doc->mv[p->idx];

	err = media_addr_check(&m->sidev[p->from], p->doc, ms);
	if (err)
		return err;

	p->fdir = media_dir(p->doc, ms);

	if (p->t38)
		return o->pol.t38 ? 0 : EPROTO;

	return offer_audio(m, p, ms);
}


/**
 * Allocate the offer/answer state of one call
 *
 * @param mp     Pointer to allocated state
 * @param laddr  Relay address written in c= and o= toward both sides,
 *               until mneg_set_addr()
 * @param port_a Our RTP port toward side A (RTCP is the next one)
 * @param port_b Our RTP port toward side B
 * @param pa     What side A accepts (copied)
 * @param pb     What side B accepts (copied)
 *
 * @return 0 if success, otherwise errorcode
 */
int mneg_alloc(struct mneg **mp, const struct sa *laddr, uint16_t port_a,
	       uint16_t port_b, const struct mneg_policy *pa,
	       const struct mneg_policy *pb)
{
	const uint16_t portv[2] = { port_a, port_b };
	const struct mneg_policy *polv[2] = { pa, pb };
	struct mneg *m;
	int err = 0;

	if (!mp || !laddr || !sa_isset(laddr, SA_ADDR) || !pa || !pb)
		return EINVAL;

	m = mem_zalloc(sizeof(*m), mneg_destructor);
	if (!m)
		return ENOMEM;

	for (int i = 0; i < 2 && !err; i++) {
		struct side *s = &m->sidev[i];

		sa_cpy(&s->addr, laddr);
		sa_set_port(&s->addr, 0);

		if (!portv[i] || portv[i] == 65535) {
			err = EINVAL;
			break;
		}

		err = pol_parse(&s->pol, polv[i]);
		s->port = portv[i];
		s->sess_id = rand_u32() >> 1;
		s->offer_dir = SDPRW_DIR_SENDRECV;
		sa_init(&s->rtp, AF_UNSPEC);
		sa_init(&s->rtcp, AF_UNSPEC);
	}

	if (err)
		mem_deref(m);
	else
		*mp = m;

	return err;
}


/**
 * Set the address written in c= and o= of the SDP sent toward one side
 *
 * An SBC announces its public NAT address to the public side and its
 * private one to the private side. It also decides the address family
 * SDP received from that side must use (IP4 or IP6). Applies from the
 * next SDP written toward the side.
 *
 * @param m    Offer/answer state
 * @param side Side the address is announced to
 * @param addr Our media address toward it; its port is ignored
 *
 * @return 0 if success, EINVAL for a bad argument or an unset or
 *         wildcard address
 */
int mneg_set_addr(struct mneg *m, enum media_side side, const struct sa *addr)
{
	struct side *s;

	if (!m || (unsigned)side > MEDIA_SIDE_B || !addr ||
	    !sa_isset(addr, SA_ADDR) || sa_is_any(addr))
		return EINVAL;

	s = &m->sidev[side];
	sa_cpy(&s->addr, addr);
	sa_set_port(&s->addr, 0);

	return 0;
}


/**
 * Set our RTP port toward one side, after mcall_rebind()
 *
 * The next SDP written toward the side (offer or answer) has it in its m=
 * line and the port above it in a=rtcp.
 *
 * @param m    Offer/answer state
 * @param side Side of the call
 * @param port Our new RTP port toward it (RTCP is the next one)
 *
 * @return 0 if success, EINVAL for a bad argument
 */
int mneg_set_port(struct mneg *m, enum media_side side, uint16_t port)
{
	if (!m || (unsigned)side > MEDIA_SIDE_B || !port || port == 65535)
		return EINVAL;

	m->sidev[side].port = port;

	return 0;
}


/**
 * An offer arrived from side `from`: write our offer toward the other side
 *
 * The offer's audio codecs that from's policy allows are kept, in the
 * offer's order. Toward the other side we list, in its policy order, the
 * codecs the offer has or that the relay can transcode from one it has,
 * plus telephone-event if its policy lists it (with the offerer's PT, or
 * 101). Other streams keep their place with port 0; an offer with no
 * audio but T.38 is passed on when the other side allows T.38.
 *
 * @param m    Offer/answer state
 * @param from Side the offer came from
 * @param sdp  The offer
 * @param out  Our offer toward the other side (pos 0)
 *
 * @return 0 if success, EPROTO no usable codec or stream, EPERM SRTP
 *         required but not offered (or offered where disabled), EBADMSG
 *         unreadable SDP, otherwise errorcode
 */
int mneg_offer(struct mneg *m, enum media_side from, const struct pl *sdp,
	       struct mbuf **out)
{
	struct pending p;
	struct side *f, *o;
	struct sdpout so;
	struct aout ao;
	struct mbuf *mb = NULL;
	int err;

	if (!m || (unsigned)from > MEDIA_SIDE_B || !sdp || !sdp->p || !out)
		return EINVAL;

	f = &m->sidev[from];
	o = &m->sidev[other_side(from)];

	memset(&p, 0, sizeof(p));
	p.from = from;

	err = doc_parse(&p.doc, sdp);
	if (err)
		goto out;

	err = offer_eval(m, &p);
	if (err)
		goto out;

	memset(&so, 0, sizeof(so));
	so.mirror = p.doc;
	so.idx = p.idx;

	if (p.t38) {
		so.t38 = &p.doc->mv[p.idx];
	}
	else {
		memset(&ao, 0, sizeof(ao));
		ao.port = o->port;
		ao.savp = p.osavp;
		ao.fmtv = p.olist.v;
		ao.fmtc = p.olist.n;
		ao.te = p.ote;
		ao.te_pt = p.ote_pt;
		ao.dir = p.fdir;
		ao.crypto = p.osavp;
		ao.tag = OUR_CRYPTO_TAG;
		ao.suite = MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80;
		ao.key = p.okey;
		so.audio = &ao;
	}

	err = sdp_build(&mb, o, &so);
	if (err)
		goto out;

	++o->version;
	peer_set(f, p.doc, &p.doc->mv[p.idx]);
	f->offer_dir = p.fdir;

	log_debug("offer from side %c: %s, %zu codec(s) offered on",
		  'A' + from, p.t38 ? "T.38" : "audio", p.olist.n);

	pending_clear(&m->pend);
	m->pend = p;
	m->pend.active = true;
	p.doc = NULL;
	*out = mb;

out:
	mem_deref(p.doc);
	OPENSSL_cleanse(&p, sizeof(p));

	return err;
}


/* The offerer's answer: same stream layout, with our address */
static int answer_write(struct mneg *m, const struct aout *ao,
			const struct rxmedia *t38, struct mbuf **mbp)
{
	struct pending *p = &m->pend;
	struct side *f = &m->sidev[p->from];
	struct sdpout so;
	int err;

	memset(&so, 0, sizeof(so));
	so.mirror = p->doc;
	so.idx = p->idx;
	so.audio = ao;
	so.t38 = t38;

	err = sdp_build(mbp, f, &so);
	if (!err)
		++f->version;

	return err;
}


/* Answer the offerer with fc (and telephone-event if te); commit it */
static int answer_offerer(struct mneg *m, const struct fmt *fc, bool te,
			  enum sdprw_dir dir, struct mbuf **mbp)
{
	struct pending *p = &m->pend;
	struct side *f = &m->sidev[p->from];
	const struct crypto *cr = NULL;
	uint8_t key[MEDIA_SRTP_KEY_LEN];
	struct aout ao;
	int err;

	memset(&ao, 0, sizeof(ao));
	ao.port = f->port;
	ao.savp = p->fsavp;
	ao.fmtv = fc;
	ao.fmtc = 1;
	ao.te = te;
	ao.te_pt = p->fte_pt;
	ao.dir = dir;

	if (p->fsavp) {
		cr = &p->doc->mv[p->idx].cryptov[p->fcrypto];
		err = key_new(key);
		if (err)
			return err;

		/* RFC 4568 7.1.2: the answer echoes the chosen tag */
		ao.crypto = true;
		ao.tag = cr->tag;
		ao.suite = cr->suite;
		ao.key = key;
	}

	err = answer_write(m, &ao, NULL, mbp);
	if (!err) {
		state_audio(&f->st, fc, te ? p->fte_pt : 0);
		if (cr)
			state_srtp(&f->st, cr->suite, key, cr->key);
	}

	OPENSSL_cleanse(key, sizeof(key));

	return err;
}


static int answer_audio(struct mneg *m, const struct rxdoc *doc,
			const struct rxmedia *am, struct mbuf **mbp)
{
	struct pending *p = &m->pend;
	struct side *f = &m->sidev[p->from];
	struct side *o = &m->sidev[other_side(p->from)];
	const struct crypto *cr = NULL;
	struct fmtlist all, alist;
	struct fmt oc, fc;
	uint8_t te_pt = 0;
	bool te;
	int err;

	if (am->kind != MK_AUDIO || am->savp != p->osavp)
		return EPROTO;

	/* the codecs of the answer that we offered, in the answer's order */
	fmts_of(am, NULL, &all);
	memset(&alist, 0, sizeof(alist));
	for (size_t i = 0; i < all.n; i++) {
		if (fmt_find(&p->olist, all.v[i].codec, &oc))
			fmt_add(&alist, all.v[i].codec, all.v[i].pt);
	}

	if (!alist.n)
		return EPROTO;

	te = p->ote && te_find(am, &te_pt);

	if (p->osavp) {
		cr = crypto_find(am, OUR_CRYPTO_TAG,
				 MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80);
		if (!cr)
			return EPROTO;
	}

	if (p->local) {
		/* the offerer already has its answer: fit this leg to it */
		if (fmt_pick(&alist, f->st.codec, &oc))
			return EPROTO;
		*mbp = NULL;
	}
	else {
		oc = alist.v[0];
		if (fmt_pick(&p->flist, oc.codec, &fc))
			return EPROTO;

		err = answer_offerer(m, &fc, p->fte && te,
				     answer_dir(p->fdir, media_dir(doc, am)),
				     mbp);
		if (err)
			return err;
	}

	state_audio(&o->st, &oc, te ? te_pt : 0);
	if (cr)
		state_srtp(&o->st, cr->suite, p->okey, cr->key);

	log_debug("answer from side %c: %s there, %s toward side %c",
		  'A' + other_side(p->from), codec_name(oc.codec),
		  codec_name(f->st.codec), 'A' + p->from);

	return 0;
}


static int answer_t38(struct mneg *m, const struct rxmedia *am,
		      struct mbuf **mbp)
{
	struct pending *p = &m->pend;
	struct side *f = &m->sidev[p->from];
	struct side *o = &m->sidev[other_side(p->from)];
	int err;

	if (am->kind != MK_IMAGE)
		return EPROTO;

	if (p->local) {
		*mbp = NULL;
	}
	else {
		err = answer_write(m, NULL, am, mbp);
		if (err)
			return err;
		state_t38(&f->st);
	}

	state_t38(&o->st);

	return 0;
}


/**
 * The answer to our last offer arrived from side `from`: write the answer
 * toward the offerer and compute the legs
 *
 * The answer's first codec that we offered is used on its side. The
 * offerer gets the same codec if it offered it, else its first codec the
 * relay transcodes to (PCMA, then PCMU preferred), with its own payload
 * types and profile, and a fresh key if it offered RTP/SAVP. If the
 * offerer was already answered by mneg_local_answer(), nothing is written
 * (*out is set to NULL) and this leg is fitted to the codec it was given.
 *
 * @param m    Offer/answer state
 * @param from Side the answer came from
 * @param sdp  The answer
 * @param out  Our answer toward the offerer (pos 0), or NULL
 *
 * @return 0 if success, EINVAL no offer of ours is pending toward from,
 *         EPROTO the answer rejects the stream or is not a valid answer,
 *         EBADMSG unreadable SDP, otherwise errorcode
 */
int mneg_answer(struct mneg *m, enum media_side from, const struct pl *sdp,
		struct mbuf **out)
{
	struct rxdoc *doc = NULL;
	const struct rxmedia *am;
	struct mbuf *mb = NULL;
	int err;

	if (!m || (unsigned)from > MEDIA_SIDE_B || !sdp || !sdp->p || !out)
		return EINVAL;

	if (!m->pend.active || m->pend.from == from)
		return EINVAL;

	err = doc_parse(&doc, sdp);
	if (err)
		goto out;

	/* RFC 3264 6: one m= line per m= line of the offer */
	if (doc->mc != m->pend.doc->mc) {
		err = EPROTO;
		goto out;
	}

	am = &doc->mv[m->pend.idx];
	if (!am->port) {
		err = EPROTO;
		goto out;
	}

	err = media_addr_check(&m->sidev[from], doc, am);
	if (err)
		goto out;

	if (m->pend.t38)
		err = answer_t38(m, am, &mb);
	else
		err = answer_audio(m, doc, am, &mb);
	if (err)
		goto out;

	peer_set(&m->sidev[from], doc, am);
	pending_clear(&m->pend);
	*out = mb;

out:
	mem_deref(doc);

	return err;
}


/* The offerer's codec for a local answer */
static int local_fmt(const struct mneg *m, struct fmt *fc)
{
	const struct pending *p = &m->pend;
	const struct side *f = &m->sidev[p->from];
	const struct side *o = &m->sidev[other_side(p->from)];

	if (f->st.set && !f->st.t38 && fmt_find(&p->flist, f->st.codec, fc))
		return 0;

	if (o->st.set && !o->st.t38)
		return fmt_pick(&p->flist, o->st.codec, fc) ? EPROTO : 0;

	*fc = p->flist.v[0];

	return 0;
}


/**
 * Answer the pending offer from side `to` ourselves, before the other side
 * replied (libre's offer handler answers at once)
 *
 * The codec in use on that side is kept if the offer still has it, else
 * one fitting the other side's codec, else the offer's first; direction
 * is the complement of the offer's. The other side's answer to our offer,
 * given to mneg_answer() later, then only sets its own leg.
 *
 * @param m   Offer/answer state
 * @param to  Side whose offer is answered
 * @param out Our answer toward it (pos 0)
 *
 * @return 0 if success, EINVAL no offer pending from `to`, EPROTO no
 *         codec fits, otherwise errorcode
 */
int mneg_local_answer(struct mneg *m, enum media_side to, struct mbuf **out)
{
	struct pending *p;
	const struct side *o;
	struct fmt fc;
	bool te;
	int err;

	if (!m || (unsigned)to > MEDIA_SIDE_B || !out)
		return EINVAL;

	p = &m->pend;
	if (!p->active || p->from != to || p->local)
		return EINVAL;

	if (p->t38) {
		/* the fax peer's parameters echoed: the other one may lower
		 * them in its own answer, which the endpoints then honour */
		err = answer_write(m, NULL, &p->doc->mv[p->idx], out);
		if (err)
			return err;
		state_t38(&m->sidev[to].st);
		p->local = true;
		return 0;
	}

	err = local_fmt(m, &fc);
	if (err)
		return err;

	o = &m->sidev[other_side(to)];
	te = p->fte && (!o->st.set || o->st.t38 || o->st.dtmf_pt);

	err = answer_offerer(m, &fc, te, sdprw_dir_answer(p->fdir), out);
	if (err)
		return err;

	p->local = true;

	return 0;
}


/**
 * The legs for mcall_set_legs(), once both sides have answered or been
 * answered. Same codec on both sides: MEDIA_CODEC_NONE on both (the relay
 * passes payloads through; pt still says which). T.38 on either side:
 * NONE and no SRTP on both, UDPTL passes through.
 *
 * @param m Offer/answer state
 * @param a Leg toward side A
 * @param b Leg toward side B
 *
 * @return 0 if success, ENOENT not negotiated yet, EINVAL bad arguments
 */
int mneg_legs(const struct mneg *m, struct media_leg *a, struct media_leg *b)
{
	struct media_leg *legv[2] = { a, b };

	if (!m || !a || !b)
		return EINVAL;

	if (!m->sidev[0].st.set || !m->sidev[1].st.set)
		return ENOENT;

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));

	if (m->sidev[0].st.t38 || m->sidev[1].st.t38)
		return 0;

	for (int i = 0; i < 2; i++) {
		const struct legstate *st = &m->sidev[i].st;
		struct media_leg *leg = legv[i];

		leg->codec = st->codec;
		leg->pt = st->pt;
		leg->dtmf_pt = st->dtmf_pt;
		leg->srtp = st->srtp;
		leg->suite = st->suite;
		memcpy(leg->key_tx, st->key_tx, MEDIA_SRTP_KEY_LEN);
		memcpy(leg->key_rx, st->key_rx, MEDIA_SRTP_KEY_LEN);
	}

	if (a->codec == b->codec) {
		a->codec = MEDIA_CODEC_NONE;
		b->codec = MEDIA_CODEC_NONE;
	}

	return 0;
}


/**
 * Where side `side` receives media, from the last SDP it sent us (offer
 * or answer)
 *
 * @param m    Offer/answer state
 * @param side Side
 * @param rtp  Its RTP (or UDPTL) address
 * @param rtcp Optional, its RTCP address (unset for T.38)
 *
 * @return 0 if success, ENOENT no SDP from that side yet
 */
int mneg_peer(const struct mneg *m, enum media_side side, struct sa *rtp,
	      struct sa *rtcp)
{
	const struct side *s;

	if (!m || (unsigned)side > MEDIA_SIDE_B || !rtp)
		return EINVAL;

	s = &m->sidev[side];
	if (!s->has_peer)
		return ENOENT;

	*rtp = s->rtp;
	if (rtcp)
		*rtcp = s->rtcp;

	return 0;
}


/**
 * Direction the last offer from side `from` asked for (hold/resume);
 * c=0.0.0.0 counts as inactive, or sendonly when it says so
 *
 * @param m    Offer/answer state
 * @param from Side
 *
 * @return Direction, SDPRW_DIR_SENDRECV before any offer
 */
enum sdprw_dir mneg_offer_dir(const struct mneg *m, enum media_side from)
{
	if (!m || (unsigned)from > MEDIA_SIDE_B)
		return SDPRW_DIR_SENDRECV;

	return m->sidev[from].offer_dir;
}


/**
 * Apply the negotiated peers and legs to a call's relay
 *
 * @param m  Negotiation
 * @param mc The call's relay
 * @param la Side A's leg, as applied
 * @param lb Side B's leg, as applied
 *
 * @return 0 if success, ENOENT before an answer, otherwise errorcode
 */
int mneg_apply(const struct mneg *m, struct mcall *mc, struct media_leg *la,
	       struct media_leg *lb)
{
	struct sa rtp, rtcp;

	if (!m || !mc || !la || !lb)
		return EINVAL;

	for (int i = 0; i < 2; i++) {
		if (!mneg_peer(m, (enum media_side)i, &rtp, &rtcp))
			(void)mcall_set_peer(mc, (enum media_side)i, &rtp,
					     &rtcp);
	}

	if (mneg_legs(m, la, lb))
		return ENOENT;

	return mcall_set_legs(mc, la, lb);
}

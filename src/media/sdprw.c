/**
 * @file sdprw.c  SDP rewriting for anchored media
 *
 * The peer's SDP is rewritten line by line as text, so everything we do
 * not understand passes through unchanged (libre's sdp module would
 * rebuild the body from its own model and lose it). We replace the
 * addresses and the audio port with our relay's, filter audio codecs, drop
 * ICE (the media is anchored, candidates would point past us), reject
 * every other stream, and optionally force the direction.
 *
 * Input comes from the network: it has a size and line-count ceiling,
 * every line must be "x=value" without control characters, numbers go
 * through num_u32(), and all parsing works on struct pl within the input.
 */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "media/media_int.h"

#define DEBUG_MODULE "sdprw"


enum {
	SDP_MAX_SIZE = 16384, /**< bytes of input accepted            */
	SDP_MAX_LINES = 512,  /**< lines of input accepted            */
	SDP_MAX_MEDIA = 16,   /**< m= sections accepted               */
	SDP_MAX_FMTS = 64,    /**< formats on one m= line             */
	SDP_MAX_TOKENS = 8,   /**< space separated tokens we look at  */
	PT_MAX = 127,	      /**< RTP payload types, RFC 3550 5.1    */
};

/** One line of input: "x=val" */
struct line {
	char type;
	struct pl val;
};

/** One m= section */
struct msect {
	size_t first;	 /**< index of the m= line            */
	size_t end;	 /**< one past the last line          */
	struct pl media; /**< "audio", "video" ...            */
	struct pl proto; /**< "RTP/AVP" ...                   */
	struct pl fmtv[SDP_MAX_FMTS];
	size_t fmtc;
	uint32_t port;
	bool has_c;
	struct sa caddr; /**< media-level c= address          */
	bool has_dir;
	enum sdprw_dir dir;
	bool has_rtcp;
	uint32_t rtcp_port;
	bool has_rtcp_addr;
	struct sa rtcp_addr;
};

/** The parsed input; every pl points into it */
struct sdpdoc {
	struct line *linev;
	size_t linec;
	size_t sess_end; /**< first m= line, or linec         */
	struct msect *msectv;
	size_t msectc;
	struct pl o_user;
	struct pl o_id;
	bool has_c;
	struct sa caddr; /**< session-level c= address        */
	bool has_dir;
	enum sdprw_dir dir;
	int audio;	       /**< active audio section, or -1     */
	bool keep[PT_MAX + 1]; /**< audio payload types kept        */
	uint32_t codecc;       /**< kept, minus telephone-event     */
	uint32_t keptc;	       /**< kept, all                       */
};

/** Static payload types of RFC 3551 6 that we may see without rtpmap */
static const struct {
	uint8_t pt;
	const char *name;
} static_pts[] = {
	{ 0, "PCMU" }, { 3, "GSM" },  { 4, "G723" },
	{ 8, "PCMA" }, { 9, "G722" }, { 18, "G729" },
};

static const char *const dir_names[] = {
	[SDPRW_DIR_SENDRECV] = "sendrecv",
	[SDPRW_DIR_SENDONLY] = "sendonly",
	[SDPRW_DIR_RECVONLY] = "recvonly",
	[SDPRW_DIR_INACTIVE] = "inactive",
};

/* RFC 8839 5: ICE attributes; useless once the media is anchored */
static const char *const ice_attrs[] = {
	"candidate",	     "ice-ufrag",	  "ice-pwd",
	"ice-options",	     "ice-lite",	  "ice-mismatch",
	"end-of-candidates", "remote-candidates", "ice-pacing",
};


static void doc_destructor(void *arg)
{
	struct sdpdoc *sdp = arg;

	mem_deref(sdp->linev);
	mem_deref(sdp->msectv);
}


static bool is_ice_attr(const struct pl *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ice_attrs); i++) {
		if (!pl_strcasecmp(name, ice_attrs[i]))
			return true;
	}

	return false;
}


static int pt_parse(const struct pl *pl, uint32_t *pt)
{
	return num_u32(pl, 0, PT_MAX, pt) ? EBADMSG : 0;
}


static int o_parse(struct sdpdoc *sdp, const struct pl *val)
{
	struct pl tokv[SDP_MAX_TOKENS];
	size_t n;

	if (pl_isset(&sdp->o_user))
		return EBADMSG; /* a second o= */

	if (sdptext_tokens(val, tokv, SDP_MAX_TOKENS, &n) || n != 6)
		return EBADMSG;

	/* the peer's address is replaced, but must make sense */
	if (pl_strcmp(&tokv[3], "IN") ||
	    (pl_strcmp(&tokv[4], "IP4") && pl_strcmp(&tokv[4], "IP6")))
		return EBADMSG;

	sdp->o_user = tokv[0];
	sdp->o_id = tokv[1];

	return 0;
}


/* "m=audio 49170[/2] RTP/AVP 0 8 101" */
static int m_parse(struct msect *ms, const struct pl *val)
{
	struct pl tokv[SDP_MAX_FMTS + 3];
	struct pl port;
	const char *slash;
	size_t n;
	int err;

	err = sdptext_tokens(val, tokv, ARRAY_SIZE(tokv), &n);
	if (err == E2BIG)
		return EMSGSIZE;
	if (err || n < 4)
		return EBADMSG;

	port = tokv[1];
	slash = pl_strchr(&port, '/');
	if (slash)
		port.l = (size_t)(slash - port.p);

	if (num_u32(&port, 0, 65535, &ms->port))
		return EBADMSG;

	ms->media = tokv[0];
	ms->proto = tokv[2];
	ms->fmtc = n - 3;
	for (size_t i = 0; i < ms->fmtc; i++)
		ms->fmtv[i] = tokv[i + 3];

	return 0;
}


/* "a=rtcp:53020" or "a=rtcp:53020 IN IP4 192.0.2.1" (RFC 3605) */
static int rtcp_parse(struct msect *ms, const struct pl *value)
{
	struct pl tokv[SDP_MAX_TOKENS];
	size_t n;

	if (sdptext_tokens(value, tokv, SDP_MAX_TOKENS, &n) ||
	    (n != 1 && n != 4))
		return EBADMSG;

	if (num_u32(&tokv[0], 0, 65535, &ms->rtcp_port))
		return EBADMSG;

	ms->has_rtcp = true;

	if (n == 4) {
		if (sdptext_conn(&tokv[1], &tokv[2], &tokv[3], &ms->rtcp_addr))
			return EBADMSG;
		ms->has_rtcp_addr = true;
	}

	return 0;
}


static int attr_parse(struct sdpdoc *sdp, struct msect *ms,
		      const struct pl *val)
{
	struct pl name, value;
	enum sdprw_dir dir;

	sdptext_attr(val, &name, &value);
	if (!name.l)
		return EBADMSG;

	if (sdptext_dir(&name, &dir)) {
		if (ms) {
			ms->has_dir = true;
			ms->dir = dir;
		}
		else {
			sdp->has_dir = true;
			sdp->dir = dir;
		}
		return 0;
	}

	if (ms && !pl_strcasecmp(&name, "rtcp"))
		return rtcp_parse(ms, &value);

	return 0;
}


/* Cut the input into lines; LF or CRLF, a last line without either */
static int lines_split(struct sdpdoc *sdp, const struct pl *in)
{
	size_t i = 0;

	sdp->linev = mem_zalloc(SDP_MAX_LINES * sizeof(*sdp->linev), NULL);
	if (!sdp->linev)
		return ENOMEM;

	while (i < in->l) {
		size_t start = i, len;
		const char *p;

		while (i < in->l && in->p[i] != '\n')
			++i;

		len = i - start;
		if (i < in->l)
			++i; /* the LF */

		p = in->p + start;
		if (len && p[len - 1] == '\r')
			--len;

		if (!len)
			continue; /* blank lines are tolerated */

		if (sdp->linec == SDP_MAX_LINES)
			return EMSGSIZE;

		/* RFC 4566 5: <type>=<value>, type is one letter */
		if (len < 2 || p[0] < 'a' || p[0] > 'z' || p[1] != '=')
			return EBADMSG;

		for (size_t k = 2; k < len; k++) {
			const unsigned char ch = (unsigned char)p[k];

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return EBADMSG;
		}

		sdp->linev[sdp->linec].type = p[0];
		sdp->linev[sdp->linec].val.p = p + 2;
		sdp->linev[sdp->linec].val.l = len - 2;
		++sdp->linec;
	}

	return 0;
}


static int line_parse(struct sdpdoc *sdp, struct msect *ms,
		      const struct line *ln)
{
	switch (ln->type) {

	case 'o':
		return ms ? EBADMSG : o_parse(sdp, &ln->val);

	case 'c':
		if (ms) {
			ms->has_c = true;
			return sdptext_c(&ln->val, &ms->caddr);
		}
		sdp->has_c = true;
		return sdptext_c(&ln->val, &sdp->caddr);

	case 'a':
		return attr_parse(sdp, ms, &ln->val);

	default:
		return 0;
	}
}


static int doc_parse(struct sdpdoc *sdp)
{
	struct msect *ms = NULL;
	int err;

	if (!sdp->linec || sdp->linev[0].type != 'v' ||
	    pl_strcmp(&sdp->linev[0].val, "0"))
		return EBADMSG;

	sdp->msectv = mem_zalloc(SDP_MAX_MEDIA * sizeof(*sdp->msectv), NULL);
	if (!sdp->msectv)
		return ENOMEM;

	sdp->sess_end = sdp->linec;
	sdp->audio = -1;

	for (size_t i = 1; i < sdp->linec; i++) {
		const struct line *ln = &sdp->linev[i];

		if (ln->type == 'v')
			return EBADMSG;

		if (ln->type == 'm') {
			if (sdp->msectc == SDP_MAX_MEDIA)
				return EMSGSIZE;
			if (!ms)
				sdp->sess_end = i;
			else
				ms->end = i;

			ms = &sdp->msectv[sdp->msectc++];
			ms->first = i;
			err = m_parse(ms, &ln->val);
		}
		else {
			err = line_parse(sdp, ms, ln);
		}

		if (err)
			return err;
	}

	if (ms)
		ms->end = sdp->linec;

	return pl_isset(&sdp->o_user) ? 0 : EBADMSG;
}


static const char *static_name(uint32_t pt)
{
	for (size_t i = 0; i < ARRAY_SIZE(static_pts); i++) {
		if (static_pts[i].pt == pt)
			return static_pts[i].name;
	}

	return NULL;
}


static bool codec_allowed(const char *codecs, const struct pl *enc)
{
	struct pl list;

	pl_set_str(&list, codecs);

	while (list.l) {
		const char *comma = pl_strchr(&list, ',');
		struct pl item = list;

		if (comma)
			item.l = (size_t)(comma - list.p);

		pl_advance(&list,
			   comma ? (ssize_t)item.l + 1 : (ssize_t)item.l);

		while (item.l && item.p[0] == ' ')
			pl_advance(&item, 1);
		while (item.l && item.p[item.l - 1] == ' ')
			--item.l;

		if (item.l && !pl_casecmp(&item, enc))
			return true;
	}

	return false;
}


/*
 * Encoding name of each audio payload type: the rtpmap (RFC 4566 6)
 * wins over the static table.
 */
static int audio_encodings(const struct sdpdoc *sdp, const struct msect *ms,
			   struct pl *encv)
{
	for (size_t i = ms->first + 1; i < ms->end; i++) {
		const struct line *ln = &sdp->linev[i];
		struct pl name, value, tokv[2];
		const char *slash;
		uint32_t pt;
		size_t n;

		if (ln->type != 'a')
			continue;

		sdptext_attr(&ln->val, &name, &value);
		if (pl_strcasecmp(&name, "rtpmap"))
			continue;

		if (sdptext_tokens(&value, tokv, 2, &n) || n != 2 ||
		    pt_parse(&tokv[0], &pt))
			return EBADMSG;

		slash = pl_strchr(&tokv[1], '/');
		if (!slash || slash == tokv[1].p)
			return EBADMSG;

		encv[pt].p = tokv[1].p;
		encv[pt].l = (size_t)(slash - tokv[1].p);
	}

	return 0;
}


static int audio_select(struct sdpdoc *sdp, const char *codecs)
{
	struct pl encv[PT_MAX + 1];
	const struct msect *ms;
	int err;

	for (size_t i = 0; i < sdp->msectc; i++) {
		if (!pl_strcmp(&sdp->msectv[i].media, "audio") &&
		    sdp->msectv[i].port) {
			sdp->audio = (int)i;
			break;
		}
	}

	if (sdp->audio < 0)
		return 0;

	ms = &sdp->msectv[sdp->audio];
	memset(encv, 0, sizeof(encv));

	for (size_t i = 0; i < ms->fmtc; i++) {
		const char *name;
		uint32_t pt;

		if (pt_parse(&ms->fmtv[i], &pt))
			return EBADMSG;

		name = static_name(pt);
		if (name)
			pl_set_str(&encv[pt], name);
	}

	err = audio_encodings(sdp, ms, encv);
	if (err)
		return err;

	for (size_t i = 0; i < ms->fmtc; i++) {
		uint32_t pt;

		(void)pt_parse(&ms->fmtv[i], &pt);

		if (codecs && !codec_allowed(codecs, &encv[pt]))
			continue;

		if (!sdp->keep[pt]) {
			sdp->keep[pt] = true;
			++sdp->keptc;
			if (pl_strcasecmp(&encv[pt], "telephone-event"))
				++sdp->codecc;
		}
	}

	return 0;
}


/* ---- output ---------------------------------------------------------- */


static const char *addrtype(const struct sa *sa)
{
	return sa_af(sa) == AF_INET6 ? "IP6" : "IP4";
}


static int write_c(struct mbuf *mb, const struct sdprw_params *p)
{
	return mbuf_printf(mb, "c=IN %s %j\r\n", addrtype(p->addr), p->addr);
}


static int write_line(struct mbuf *mb, const struct line *ln)
{
	return mbuf_printf(mb, "%c=%r\r\n", ln->type, &ln->val);
}


/* Would the PT-bound attribute (rtpmap, fmtp, rtcp-fb) stay? */
static bool pt_attr_kept(const struct sdpdoc *sdp, const struct pl *value)
{
	struct pl first = *value;
	uint32_t pt;

	/* only the first token names the payload type */
	for (size_t i = 0; i < value->l; i++) {
		if (value->p[i] == ' ' || value->p[i] == '\t') {
			first.l = i;
			break;
		}
	}

	if (pt_parse(&first, &pt))
		return true; /* "a=rtcp-fb:*" */

	return sdp->keep[pt];
}


static int write_session_attr(struct mbuf *mb, const struct line *ln,
			      const struct sdprw_params *p)
{
	struct pl name, value;
	enum sdprw_dir dir;

	sdptext_attr(&ln->val, &name, &value);

	if (is_ice_attr(&name))
		return 0;

	/* our relay has one pair per stream: no BUNDLE (RFC 8843) */
	if (!pl_strcasecmp(&name, "group") && value.l >= 6 &&
	    !strncasecmp(value.p, "BUNDLE", 6))
		return 0;

	if (p->dir != SDPRW_DIR_KEEP && sdptext_dir(&name, &dir))
		return mbuf_printf(mb, "a=%s\r\n", dir_names[p->dir]);

	return write_line(mb, ln);
}


static int write_session(struct mbuf *mb, const struct sdpdoc *sdp,
			 const struct sdprw_params *p)
{
	bool c_done = sdp->has_c;
	int err = 0;

	for (size_t i = 0; i < sdp->sess_end && !err; i++) {
		const struct line *ln = &sdp->linev[i];

		/* RFC 4566 5: c= comes before b=, t= ... and a= */
		if (!c_done && strchr("btrzka", ln->type)) {
			err = write_c(mb, p);
			c_done = true;
			if (err)
				break;
		}

		switch (ln->type) {

		case 'o':
			err = mbuf_printf(mb, "o=%r %r %u IN %s %j\r\n",
					  &sdp->o_user, &sdp->o_id, p->version,
					  addrtype(p->addr), p->addr);
			break;

		case 'c':
			err = write_c(mb, p);
			break;

		case 'a':
			err = write_session_attr(mb, ln, p);
			break;

		default:
			err = write_line(mb, ln);
			break;
		}
	}

	if (!err && !c_done)
		err = write_c(mb, p);

	return err;
}


static int write_fmts(struct mbuf *mb, const struct msect *ms,
		      const struct sdpdoc *sdp, bool filter)
{
	int err = 0;

	for (size_t i = 0; i < ms->fmtc && !err; i++) {
		uint32_t pt;

		if (filter) {
			(void)pt_parse(&ms->fmtv[i], &pt);
			if (!sdp->keep[pt])
				continue;
		}

		err = mbuf_printf(mb, " %r", &ms->fmtv[i]);
	}

	return err;
}


/* A stream we do not relay: port 0 (RFC 3264 6), only a=mid kept */
static int write_rejected(struct mbuf *mb, const struct sdpdoc *sdp,
			  const struct msect *ms, const struct sdprw_params *p)
{
	int err;

	err = mbuf_printf(mb, "m=%r 0 %r", &ms->media, &ms->proto);
	if (!err)
		err = write_fmts(mb, ms, sdp, false);
	if (!err)
		err = mbuf_write_str(mb, "\r\n");

	for (size_t i = ms->first + 1; i < ms->end && !err; i++) {
		const struct line *ln = &sdp->linev[i];
		struct pl name, value;

		if (ln->type == 'c') {
			err = write_c(mb, p);
			continue;
		}

		if (ln->type != 'a')
			continue;

		sdptext_attr(&ln->val, &name, &value);
		if (!pl_strcasecmp(&name, "mid"))
			err = write_line(mb, ln);
	}

	return err;
}


static int write_audio_attr(struct mbuf *mb, const struct sdpdoc *sdp,
			    const struct msect *ms, const struct line *ln,
			    const struct sdprw_params *p)
{
	struct pl name, value;
	enum sdprw_dir dir;

	sdptext_attr(&ln->val, &name, &value);

	if (is_ice_attr(&name))
		return 0;

	if (!pl_strcasecmp(&name, "rtpmap") || !pl_strcasecmp(&name, "fmtp") ||
	    !pl_strcasecmp(&name, "rtcp-fb")) {
		if (!pt_attr_kept(sdp, &value))
			return 0;
		return write_line(mb, ln);
	}

	/* RFC 3605: our RTCP port is the one above our RTP port */
	if (!pl_strcasecmp(&name, "rtcp")) {
		if (ms->has_rtcp_addr)
			return mbuf_printf(mb, "a=rtcp:%u IN %s %j\r\n",
					   p->port + 1, addrtype(p->addr),
					   p->addr);
		return mbuf_printf(mb, "a=rtcp:%u\r\n", p->port + 1);
	}

	if (p->dir != SDPRW_DIR_KEEP && sdptext_dir(&name, &dir))
		return mbuf_printf(mb, "a=%s\r\n", dir_names[p->dir]);

	return write_line(mb, ln);
}


static int write_audio(struct mbuf *mb, const struct sdpdoc *sdp,
		       const struct msect *ms, const struct sdprw_params *p)
{
	int err;

	err = mbuf_printf(mb, "m=%r %u %r", &ms->media, p->port, &ms->proto);
	if (!err)
		err = write_fmts(mb, ms, sdp, true);
	if (!err)
		err = mbuf_write_str(mb, "\r\n");

	for (size_t i = ms->first + 1; i < ms->end && !err; i++) {
		const struct line *ln = &sdp->linev[i];

		if (ln->type == 'c')
			err = write_c(mb, p);
		else if (ln->type == 'a')
			err = write_audio_attr(mb, sdp, ms, ln, p);
		else
			err = write_line(mb, ln);
	}

	if (!err && p->dir != SDPRW_DIR_KEEP && !ms->has_dir && !sdp->has_dir)
		err = mbuf_printf(mb, "a=%s\r\n", dir_names[p->dir]);

	return err;
}


static int doc_write(struct mbuf *mb, const struct sdpdoc *sdp,
		     const struct sdprw_params *p)
{
	int err;

	err = write_session(mb, sdp, p);

	for (size_t i = 0; i < sdp->msectc && !err; i++) {
		const struct msect *ms = &sdp->msectv[i];

		if ((int)i == sdp->audio && sdp->keptc)
			err = write_audio(mb, sdp, ms, p);
		else
			err = write_rejected(mb, sdp, ms, p);
	}

	return err;
}


static void info_fill(struct sdprw_info *info, const struct sdpdoc *sdp)
{
	const struct msect *ms;
	const struct sa *caddr;

	memset(info, 0, sizeof(*info));
	sa_init(&info->rtp, AF_UNSPEC);
	sa_init(&info->rtcp, AF_UNSPEC);
	info->dir = sdp->has_dir ? sdp->dir : SDPRW_DIR_SENDRECV;

	if (sdp->audio < 0)
		return;

	ms = &sdp->msectv[sdp->audio];
	caddr = ms->has_c ? &ms->caddr : &sdp->caddr;

	info->audio = true;
	info->codecc = sdp->codecc;

	if (ms->has_dir)
		info->dir = ms->dir;

	info->rtp = *caddr;
	sa_set_port(&info->rtp, (uint16_t)ms->port);

	if (ms->has_rtcp) {
		info->rtcp = ms->has_rtcp_addr ? ms->rtcp_addr : *caddr;
		sa_set_port(&info->rtcp, (uint16_t)ms->rtcp_port);
	}
	else if (ms->port < 65535) {
		info->rtcp = *caddr;
		sa_set_port(&info->rtcp, (uint16_t)(ms->port + 1));
	}

	/* RFC 3264 8.4: c=0.0.0.0 is the old way to put a call on hold */
	if (sa_is_any(caddr) && info->dir != SDPRW_DIR_SENDONLY)
		info->dir = SDPRW_DIR_INACTIVE;
}


static bool conn_complete(const struct sdpdoc *sdp)
{
	if (sdp->audio >= 0)
		return sdp->has_c || sdp->msectv[sdp->audio].has_c;

	if (sdp->has_c)
		return true;

	for (size_t i = 0; i < sdp->msectc; i++) {
		if (sdp->msectv[i].has_c)
			return true;
	}

	return false;
}


static bool has_audio(const struct sdpdoc *sdp)
{
	for (size_t i = 0; i < sdp->msectc; i++) {
		if (!pl_strcmp(&sdp->msectv[i].media, "audio"))
			return true;
	}

	return false;
}


/**
 * Rewrite a peer's SDP so that its media goes through our relay
 *
 * @param outp Pointer to allocated SDP (CRLF lines, pos 0)
 * @param in   Peer's SDP (CRLF or LF lines)
 * @param p    Our address, port, codecs, version and direction
 * @param info Optional, what the peer asked for (its address, direction)
 *
 * @return 0 if success, EBADMSG if the input is not a usable SDP with
 *         audio, EMSGSIZE if it is too large, otherwise errorcode
 */
int sdprw_rewrite(struct mbuf **outp, const struct pl *in,
		  const struct sdprw_params *p, struct sdprw_info *info)
{
	struct sdprw_params wp;
	struct sdprw_info found;
	struct sdpdoc *sdp;
	struct mbuf *mb = NULL;
	int err;

	if (!outp || !in || !in->p || !p || !p->addr ||
	    !sa_isset(p->addr, SA_ADDR) ||
	    (unsigned)p->dir > SDPRW_DIR_INACTIVE)
		return EINVAL;

	if (in->l > SDP_MAX_SIZE)
		return EMSGSIZE;

	sdp = mem_zalloc(sizeof(*sdp), doc_destructor);
	if (!sdp)
		return ENOMEM;

	err = lines_split(sdp, in);
	if (err)
		goto out;

	err = doc_parse(sdp);
	if (err)
		goto out;

	if (!has_audio(sdp)) {
		err = EBADMSG;
		goto out;
	}

	err = audio_select(sdp, p->codecs);
	if (err)
		goto out;

	if (!conn_complete(sdp)) {
		err = EBADMSG;
		goto out;
	}

	mb = mbuf_alloc(in->l + 256);
	if (!mb) {
		err = ENOMEM;
		goto out;
	}

	info_fill(&found, sdp);

	/* Our address replaces c=0.0.0.0, so an old-style hold must be
	 * spelt out as an attribute or it would be lost. */
	wp = *p;
	if (wp.dir == SDPRW_DIR_KEEP && found.audio && sa_is_any(&found.rtp))
		wp.dir = found.dir;

	err = doc_write(mb, sdp, &wp);
	if (err)
		goto out;

	mb->pos = 0;

	if (info)
		*info = found;

out:
	if (err)
		mem_deref(mb);
	else
		*outp = mb;

	mem_deref(sdp);

	return err;
}


/**
 * Direction to answer with (RFC 3264 6.1)
 *
 * @param offered Direction of the offer
 *
 * @return Direction of the answer
 */
enum sdprw_dir sdprw_dir_answer(enum sdprw_dir offered)
{
	switch (offered) {

	case SDPRW_DIR_SENDONLY:
		return SDPRW_DIR_RECVONLY;

	case SDPRW_DIR_RECVONLY:
		return SDPRW_DIR_SENDONLY;

	case SDPRW_DIR_INACTIVE:
		return SDPRW_DIR_INACTIVE;

	default:
		return SDPRW_DIR_SENDRECV;
	}
}

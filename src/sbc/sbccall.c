/**
 * @file sbccall.c  Calls through the SBC: a B2BUA between its two stacks
 *
 * An INVITE on one side (the caller's leg, a UAS sipsess on that side's
 * socket) becomes a new INVITE on the other side (the callee's leg, a UAC
 * sipsess on the other socket): a new Call-ID (libre's), new tags, our own
 * Contact (the side's NAT address), no Via, Record-Route, Contact or
 * User-Agent of the other side. Only user parts, display names, a short
 * list of headers (credentials, identity with our host, Privacy, Reason,
 * challenges) and the SDP rewritten by mneg onto the SBC's relay cross.
 *
 * Public side INVITEs go to the PBX (IP5); private side INVITEs to
 * sip:TOKEN@IP4 go to the phone registered under TOKEN (sbcreg.c), at the
 * address its REGISTER came from, over that flow.
 *
 * Ownership: s->calls owns the calls, a call its sessions, mcall and mneg.
 * call_end() marks a call ended and frees it from a zero timer (no sipsess
 * freed inside its own callback but by close handlers, as libre allows);
 * until then it stays listed, so sbccall_close() frees them all.
 *
 * The caller's INVITE is held (100 Trying sent statelessly) until the
 * callee's side has something to say (18x, 2xx): a 401/407 from the PBX
 * must reach the phone as a final answer of its own INVITE. While held,
 * CANCEL and INVITE retransmissions are matched here (libre 1.1.0 cannot
 * accept with a 100). Everything runs on the SIP thread.
 */

#include <string.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "sip/sip.h"
#include "sbc/sbc_int.h"

#define DEBUG_MODULE "sbccall"

enum {
	RING_TIMEOUT_MS = 180000,
	SDP_MAX = 16384,
	HDR_VAL_MAX = 1024, /* one copied header value          */
	HDRS_MAX = 4096,    /* all copied headers of a message  */
	USER_MAX = 64,
	URI_MAX = 320,
	HTSIZE = 256,
};

enum call_state {
	CALL_HELD = 0, /* callee's leg sent, caller got only 100  */
	CALL_EARLY,    /* caller's leg accepted with a 18x         */
	CALL_ANSWERED, /* 2xx relayed                              */
	CALL_ENDED,
};

static const char ALLOW[] =
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n";

struct sbccall;

/** One leg of a call, indexed by side (SBC_PUBLIC, SBC_PRIVATE) */
struct leg {
	struct sbccall *call;
	enum sbc_side_id side;
	struct sipsess *sess;
	struct sip_lsnr *lsnr; /* CANCEL of the held INVITE, UPDATE      */
	char *cuser;	       /* our Contact URI toward this side       */
	char *callid;	       /* this leg's Call-ID                     */
};

struct sbccall {
	struct le le;
	struct sbc *s;
	enum sbc_side_id in;	   /* the caller's side                  */
	struct leg leg[2];	   /* by side                           */
	const struct sip_msg *inv; /* caller's INVITE until accepted    */
	char *ftag;		   /* caller's From tag                  */
	uint32_t cseq;		   /* of the caller's INVITE             */
	char ctx[96];		   /* log context: both Call-IDs         */
	struct sa src;		   /* where the caller's INVITE came from */
	bool had_creds;		   /* it carried (Proxy-)Authorization   */
	struct mcall *mc;
	struct mneg *mn;
	bool mn_wait[2];	/* we offered toward this side        */
	struct mbuf *sdp_to[2]; /* last SDP sent toward each side     */
	enum call_state state;
	bool caller_done; /* the caller's INVITE got its final answer */
	bool answered;
	uint16_t fail_code;
	char *fail_hdrs; /* for the caller's final: challenge, Reason */
	struct tmr tmr_free;
	struct tmr tmr_ring;
};


/* enum sbc_side_id values are the SBC's media sides (sbc_int.h) */
static enum sbc_side_id other_id(enum sbc_side_id id)
{
	return id == SBC_PUBLIC ? SBC_PRIVATE : SBC_PUBLIC;
}


static struct sbc_side *side_of(struct sbc *s, enum sbc_side_id id)
{
	return id == SBC_PUBLIC ? &s->pub : &s->priv;
}


static const char *side_name(enum sbc_side_id id)
{
	return id == SBC_PUBLIC ? "public" : "private";
}


/* A host for a URI: IPv6 between brackets */
static int host_print(struct re_printf *pf, const struct sa *sa)
{
	if (sa_af(sa) == AF_INET6)
		return re_hprintf(pf, "[%j]", sa);

	return re_hprintf(pf, "%j", sa);
}


/* Our Contact toward a side for transport tp: the side's NAT address; TCP
   listens on the next port when TLS has the side's port (sbc.c) */
static int cuser_make(char **cuserp, struct sbc *s, enum sbc_side_id id,
		      enum sip_transp tp)
{
	const bool tls = id == SBC_PUBLIC ? s->conf.pub_tls : s->conf.priv_tls;
	const bool tcp = id == SBC_PUBLIC ? s->conf.pub_tcp : s->conf.priv_tcp;
	struct sa sa = *sbc_side_nat(s, side_of(s, id));

	if (tp == SIP_TRANSP_TCP && tls && tcp)
		sa_set_port(&sa, sa_port(&sa) + 1);

	/* libre writes a Contact user holding ':' as the URI itself */
	return re_sdprintf(cuserp, "sip:sbc@%J%s", &sa, sip_transp_param(tp));
}


/* Our reason phrases: nothing of the inside leaks through them */
static const struct {
	uint16_t code;
	const char *text;
} phrases[] = {
	{ 180, "Ringing" },
	{ 181, "Call Is Being Forwarded" },
	{ 182, "Queued" },
	{ 183, "Session Progress" },
	{ 200, "OK" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 402, "Payment Required" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 410, "Gone" },
	{ 413, "Request Entity Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 420, "Bad Extension" },
	{ 422, "Session Interval Too Small" },
	{ 480, "Temporarily Unavailable" },
	{ 481, "Call Does Not Exist" },
	{ 484, "Address Incomplete" },
	{ 486, "Busy Here" },
	{ 487, "Request Terminated" },
	{ 488, "Not Acceptable Here" },
	{ 491, "Request Pending" },
	{ 500, "Server Internal Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Server Time-out" },
	{ 600, "Busy Everywhere" },
	{ 603, "Decline" },
	{ 604, "Does Not Exist Anywhere" },
	{ 606, "Not Acceptable" },
};


static const char *phrase(uint16_t code)
{
	for (size_t i = 0; i < ARRAY_SIZE(phrases); i++) {
		if (phrases[i].code == code)
			return phrases[i].text;
	}

	if (code < 200)
		return "Session Progress";
	if (code < 500)
		return "Request Failure";

	return code < 600 ? "Server Error" : "Global Failure";
}


/* ---- headers copied from one side to the other ----------------------- */

struct hdrcopy {
	struct mbuf *mb;
	const char *name;
	const struct sa *host; /* identity headers: our host toward there */
	int err;
};


static bool value_ok(const struct pl *v)
{
	if (!v->l || v->l > HDR_VAL_MAX)
		return false;

	for (size_t i = 0; i < v->l; i++) {
		if (v->p[i] == '\r' || v->p[i] == '\n' || v->p[i] == '\0')
			return false;
	}

	return true;
}


static bool copy_handler(const struct sip_hdr *hdr, const struct sip_msg *msg,
			 void *arg)
{
	struct hdrcopy *hc = arg;
	(void)msg;

	if (!value_ok(&hdr->val) || hc->mb->end + hdr->val.l > HDRS_MAX)
		return false;

	hc->err |= mbuf_printf(hc->mb, "%s: %r\r\n", hc->name, &hdr->val);

	return false;
}


/* P-Asserted-Identity / P-Preferred-Identity: the user stays, the host
   becomes ours toward that side (RFC 3325) */
static bool ident_handler(const struct sip_hdr *hdr, const struct sip_msg *msg,
			  void *arg)
{
	struct hdrcopy *hc = arg;
	struct sip_addr addr;
	(void)msg;

	if (!value_ok(&hdr->val) || sip_addr_decode(&addr, &hdr->val))
		return false;

	if (!pl_strcasecmp(&addr.uri.scheme, "tel")) {
		hc->err |=
		    mbuf_printf(hc->mb, "%s: <%r>\r\n", hc->name, &addr.auri);
		return false;
	}

	if (pl_strcasecmp(&addr.uri.scheme, "sip") &&
	    pl_strcasecmp(&addr.uri.scheme, "sips"))
		return false;

	hc->err |= mbuf_printf(hc->mb, "%s: %s%r%s<sip:%r@%H>\r\n", hc->name,
			       pl_isset(&addr.dname) ? "\"" : "", &addr.dname,
			       pl_isset(&addr.dname) ? "\" " : "",
			       &addr.uri.user, host_print, hc->host);

	return false;
}


static int hdr_copy(struct mbuf *mb, const struct sip_msg *msg,
		    enum sip_hdrid id, const char *name, const struct sa *host)
{
	struct hdrcopy hc = { mb, name, host, 0 };

	(void)sip_msg_hdr_apply(msg, true, id,
				host ? ident_handler : copy_handler, &hc);

	return hc.err;
}


/**
 * The whitelisted headers of msg, for a message toward side `to`: identity
 * with our host there, Privacy; credentials only from the public side to
 * the private one; challenges and Reason in final error answers.
 */
static int hdrs_build(char **hdrsp, struct sbc *s, const struct sip_msg *msg,
		      enum sbc_side_id to)
{
	const struct sa *host =
	    to == SBC_PRIVATE ? &s->conf.pbx : sbc_side_nat(s, &s->pub);
	struct mbuf *mb = mbuf_alloc(256);
	int err = 0;

	if (!mb)
		return ENOMEM;

	err |= hdr_copy(mb, msg, SIP_HDR_PRIVACY, "Privacy", NULL);
	/* RFC 3325 trust boundary: an identity asserted from outside is not
	   believed (phones may ask with P-Preferred-Identity); a LAN
	   element's public side is the WAN element, which dropped them */
	if (to == SBC_PUBLIC || s->conf.mode == SBC_MODE_LAN)
		err |= hdr_copy(mb, msg, SIP_HDR_P_ASSERTED_IDENTITY,
				"P-Asserted-Identity", host);
	if (!msg->req) {
		err |= hdr_copy(mb, msg, SIP_HDR_REASON, "Reason", NULL);
		err |= hdr_copy(mb, msg, SIP_HDR_WWW_AUTHENTICATE,
				"WWW-Authenticate", NULL);
		err |= hdr_copy(mb, msg, SIP_HDR_PROXY_AUTHENTICATE,
				"Proxy-Authenticate", NULL);
	}
	else if (to == SBC_PRIVATE) {
		err |= hdr_copy(mb, msg, SIP_HDR_P_PREFERRED_IDENTITY,
				"P-Preferred-Identity", host);
		err |= hdr_copy(mb, msg, SIP_HDR_AUTHORIZATION,
				"Authorization", NULL);
		err |= hdr_copy(mb, msg, SIP_HDR_PROXY_AUTHORIZATION,
				"Proxy-Authorization", NULL);
	}

	if (!err)
		err = re_sdprintf(hdrsp, "%b", mb->buf, mb->end);

	mem_deref(mb);
	return err;
}


/* ---- call objects ------------------------------------------------------ */

static void call_destructor(void *arg)
{
	struct sbccall *call = arg;

	tmr_cancel(&call->tmr_free);
	tmr_cancel(&call->tmr_ring);
	list_unlink(&call->le);
	for (int i = 0; i < 2; i++) {
		/* before an answer libre CANCELs a UAC leg, after one BYE */
		mem_deref(call->leg[i].lsnr);
		mem_deref(call->leg[i].sess);
		mem_deref(call->leg[i].cuser);
		mem_deref(call->leg[i].callid);
		mem_deref(call->sdp_to[i]);
	}
	mem_deref((void *)call->inv);
	mem_deref(call->mc);
	mem_deref(call->mn);
	mem_deref(call->ftag);
	mem_deref(call->fail_hdrs);
}


static void ctx_update(struct sbccall *call)
{
	const char *pub = call->leg[SBC_PUBLIC].callid;
	const char *priv = call->leg[SBC_PRIVATE].callid;

	re_snprintf(call->ctx, sizeof(call->ctx), "%s%s%s", pub ? pub : "",
		    priv ? " | " : "", priv ? priv : "");
}


/* Let the guard see how a public side INVITE ended */
static void guard_note(struct sbccall *call, uint16_t scode)
{
	struct sbc *s = call->s;

	if (call->in != SBC_PUBLIC)
		return;

	sbc_guard_note_auth(s, &call->src, call->had_creds, scode);
	if (scode == 403 || scode == 404 || scode == 484 || scode == 604)
		guard_call_refused(s->guard, &call->src, scode, sbc_now_ms());
}


/* The caller's INVITE gets its final answer (not a 2xx) */
static void caller_final(struct sbccall *call)
{
	struct leg *a = &call->leg[call->in];
	uint16_t code = call->fail_code ? call->fail_code : 480;
	const char *hdrs = call->fail_hdrs ? call->fail_hdrs : "";

	if (call->caller_done)
		return;
	call->caller_done = true;

	if (a->sess)
		(void)sipsess_reject(a->sess, code, phrase(code), "%s", hdrs);
	else if (call->inv)
		(void)sip_replyf(side_of(call->s, call->in)->sip, call->inv,
				 code, phrase(code),
				 "%sContent-Length: 0\r\n\r\n", hdrs);
	else
		return;

	guard_note(call, code);
}


/* Zero timer: nothing of the call is freed inside a libre callback */
static void free_handler(void *arg)
{
	struct sbccall *call = arg;

	if (!call->answered)
		caller_final(call);

	mem_deref(call);
}


/**
 * End a call: the caller gets its final answer (or a BYE), the callee's
 * leg a CANCEL or a BYE, the relay its ports back, from a zero timer
 */
static void call_end(struct sbccall *call, const char *cause)
{
	if (call->state == CALL_ENDED)
		return;

	log_info("call ended: %s (public %s, private %s)", cause,
		 call->leg[SBC_PUBLIC].callid ? call->leg[SBC_PUBLIC].callid
					      : "-",
		 call->leg[SBC_PRIVATE].callid ? call->leg[SBC_PRIVATE].callid
					       : "-");

	call->state = CALL_ENDED;
	tmr_cancel(&call->tmr_ring);
	tmr_start(&call->tmr_free, 0, free_handler, call);
}


static void ring_timeout(void *arg)
{
	struct sbccall *call = arg;

	log_ctx_set(call->ctx);
	call->fail_code = 480;
	call_end(call, "no-answer-timeout");
	log_ctx_clear();
}


/* ---- SDP: mneg between the public (A) and private (B) side ------------ */

static int msg_body(const struct sip_msg *msg, struct pl *body)
{
	if (!msg || !mbuf_get_left(msg->mb))
		return ENOENT;

	if (mbuf_get_left(msg->mb) > SDP_MAX)
		return EMSGSIZE;

	if (!msg_ctype_cmp(&msg->ctyp, "application", "sdp"))
		return EPROTO;

	body->p = (const char *)mbuf_buf(msg->mb);
	body->l = mbuf_get_left(msg->mb);

	return 0;
}


static void sdp_keep(struct mbuf **slot, struct mbuf *mb)
{
	mem_deref(*slot);
	*slot = mem_ref(mb);
}


/* Tell the relay what mneg decided: codecs, SRTP keys, peer addresses */
static void media_apply(struct sbccall *call)
{
	struct media_leg la, lb;
	int err;

	err = mneg_apply(call->mn, call->mc, &la, &lb);
	if (err == ENOENT)
		return;
	if (err)
		log_warn("relay refused the legs: %m", err);
	else if (la.codec != lb.codec)
		log_info("transcoding %s (public) <-> %s (private)",
			 media_codec_name(la.codec),
			 media_codec_name(lb.codec));
	if (!err && (la.srtp || lb.srtp))
		log_info("SRTP on the %s side%s",
			 la.srtp && lb.srtp ? "public and the private"
			 : la.srtp	    ? "public"
					    : "private",
			 la.srtp && lb.srtp ? "s" : "");
}


/* An offer from side `from`, rewritten for the other side */
static int media_offer(struct sbccall *call, enum sbc_side_id from,
		       const struct pl *body, struct mbuf **outp)
{
	const enum sbc_side_id to = other_id(from);
	int err;

	err = mneg_offer(call->mn, (enum media_side)(from), body, outp);
	if (err)
		return err;

	call->mn_wait[to] = true;
	sdp_keep(&call->sdp_to[to], *outp);

	return 0;
}


/* The answer from side `from` to what we offered it; outp (may be NULL)
   gets the answer for the other side */
static int media_answer(struct sbccall *call, enum sbc_side_id from,
			const struct pl *body, struct mbuf **outp)
{
	const enum sbc_side_id to = other_id(from);
	struct mbuf *out = NULL;
	int err;

	if (!call->mn_wait[from]) {
		/* the same answer again (183 then 200): sent already */
		if (outp && call->sdp_to[to])
			*outp = mem_ref(call->sdp_to[to]);
		return 0;
	}

	err = mneg_answer(call->mn, (enum media_side)(from), body, &out);
	if (err) {
		mem_deref(out);
		return err;
	}

	call->mn_wait[from] = false;
	media_apply(call);
	sdp_keep(&call->sdp_to[to], out);

	if (outp)
		*outp = out;
	else
		mem_deref(out);

	return 0;
}


/* Option "change the RTP port on renegotiation" (SPEC §4) */
static void ports_change(struct sbccall *call)
{
	for (int i = 0; i < 2; i++) {
		const enum media_side ms = (enum media_side)i;
		int err = mcall_rebind(call->mc, ms);

		if (err) {
			log_warn("no new RTP port on the %s side: %m",
				 side_name((enum sbc_side_id)i), err);
			continue;
		}

		(void)mneg_set_port(call->mn, ms, mcall_port(call->mc, ms));
	}
}


/**
 * A leg offered new SDP (hold, resume, T.38, new address): answer it
 * locally with the current media and pass the offer on with a re-INVITE.
 * libre's offer handler must answer synchronously, hence the local answer.
 */
static int leg_offer(struct sbccall *call, enum sbc_side_id from,
		     const struct sip_msg *msg, struct mbuf **descp)
{
	const enum sbc_side_id to = other_id(from);
	struct sipsess *other = call->leg[to].sess;
	struct mbuf *fwd = NULL;
	struct pl body;
	enum sdprw_dir dir;
	int err;

	if (call->state != CALL_ANSWERED)
		return EPROTO;

	err = msg_body(msg, &body);
	if (err == ENOENT && !pl_strcmp(&msg->met, "UPDATE"))
		return ENOENT; /* a session refresh, nothing to negotiate */
	if (err == ENOENT) {
		/* no offer in the re-INVITE: we offer what we last sent */
		if (!call->sdp_to[from])
			return EPROTO;
		*descp = mem_ref(call->sdp_to[from]);
		return 0;
	}
	if (err)
		return err;

	if (call->s->conf.rtp_port_change)
		ports_change(call);

	err = media_offer(call, from, &body, &fwd);
	if (err)
		return err;

	err = mneg_local_answer(call->mn, (enum media_side)(from), descp);
	if (err)
		goto out;
	sdp_keep(&call->sdp_to[from], *descp);
	media_apply(call);
	dir = mneg_offer_dir(call->mn, (enum media_side)(from));

	if (other) {
		int merr = sipsess_modify(other, fwd);

		if (merr)
			log_warn("cannot pass the re-INVITE on to the %s side:"
				 " %m",
				 side_name(to), merr);
	}

	log_info("%s side renegotiated (%s)", side_name(from),
		 dir == SDPRW_DIR_SENDONLY || dir == SDPRW_DIR_INACTIVE
		     ? "hold"
		     : "active");

out:
	mem_deref(fwd);
	return err;
}


/* ---- session handlers, shared by both legs ---------------------------- */

static int offer_handler(struct mbuf **descp, const struct sip_msg *msg,
			 void *arg)
{
	struct leg *leg = arg;
	int err;

	log_ctx_set(leg->call->ctx);
	err = leg_offer(leg->call, leg->side, msg, descp);
	log_ctx_clear();

	return err;
}


static void accept_fail(struct sbccall *call, int err)
{
	log_warn("cannot answer the caller: %m", err);
	call->fail_code = 500;
	call_end(call, "accept-failed");
}


/* Accept the caller's held INVITE with scode (18x or 2xx) */
static int caller_accept(struct sbccall *call, uint16_t scode,
			 struct mbuf *desc, const char *hdrs);


/* The callee answered: relay the 2xx with its answer rewritten */
static int callee_answered(struct sbccall *call, const struct sip_msg *msg)
{
	struct leg *a = &call->leg[call->in];
	struct mbuf *desc = NULL;
	char *hdrs = NULL;
	struct pl body;
	int err;

	err = msg_body(msg, &body);
	if (!err)
		err = media_answer(call, other_id(call->in), &body, &desc);
	else if (!call->mn_wait[other_id(call->in)])
		err = media_answer(call, other_id(call->in), NULL, &desc);

	if (err) {
		log_warn("callee's answer unusable: %m", err);
		call->fail_code = 488;
		call_end(call, "callee-sdp");
		return err;
	}

	(void)hdrs_build(&hdrs, call->s, msg, call->in);
	tmr_cancel(&call->tmr_ring);

	if (call->state == CALL_HELD)
		err = caller_accept(call, 200, desc, hdrs);
	else
		err = sipsess_answer(a->sess, 200, "OK", desc, "%s%s", ALLOW,
				     hdrs ? hdrs : "");

	if (err) {
		accept_fail(call, err);
	}
	else {
		call->state = CALL_ANSWERED;
		call->answered = true;
		call->caller_done = true;
		guard_note(call, 200);
		log_info("call answered (public %s, private %s)",
			 call->leg[SBC_PUBLIC].callid,
			 call->leg[SBC_PRIVATE].callid);
	}

	mem_deref(desc);
	mem_deref(hdrs);
	return err;
}


static int answer_handler(const struct sip_msg *msg, void *arg)
{
	struct leg *leg = arg;
	struct sbccall *call = leg->call;
	struct pl body;
	int err = 0;

	if (call->state == CALL_ENDED)
		return 0;

	log_ctx_set(call->ctx);

	/* the callee's 2xx to the first INVITE */
	if (leg->side != call->in && !call->answered) {
		err = callee_answered(call, msg);
		goto out;
	}

	/* an answer to one of our re-INVITEs (or in an ACK) */
	if (msg_body(msg, &body) || !call->mn_wait[leg->side])
		goto out;

	err = media_answer(call, leg->side, &body, NULL);
	if (err) {
		log_warn("%s side's answer unusable: %m", side_name(leg->side),
			 err);
		err = 0;
	}

out:
	log_ctx_clear();
	return err;
}


static void progress_handler(const struct sip_msg *msg, void *arg)
{
	struct leg *leg = arg;
	struct sbccall *call = leg->call;
	struct mbuf *desc = NULL;
	char *hdrs = NULL;
	struct pl body;
	int err;

	if (call->state == CALL_ENDED || call->answered || msg->scode < 180)
		return;

	log_ctx_set(call->ctx);

	if (!msg_body(msg, &body)) {
		err = media_answer(call, leg->side, &body, &desc);
		if (err)
			log_info("early media refused: %m", err);
	}

	(void)hdrs_build(&hdrs, call->s, msg, call->in);

	if (call->state == CALL_HELD) {
		err = caller_accept(call, msg->scode, desc, hdrs);
		if (err)
			accept_fail(call, err);
		else
			call->state = CALL_EARLY;
	}
	else {
		(void)sipsess_progress(call->leg[call->in].sess, msg->scode,
				       phrase(msg->scode), desc, "%s",
				       hdrs ? hdrs : "");
	}

	mem_deref(desc);
	mem_deref(hdrs);
	log_ctx_clear();
}


static void estab_handler(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
}


/* SIP INFO DTMF (application/dtmf-relay, application/dtmf) goes to the
   other leg as it came; other bodies could carry anything of this side
   (XML, SDP), so they are refused */
static void info_handler(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct leg *leg = arg;
	struct sbccall *call = leg->call;
	struct sipsess *other = call->leg[other_id(leg->side)].sess;

	if (mbuf_get_left(msg->mb) &&
	    (pl_strcasecmp(&msg->ctyp.type, "application") ||
	     (pl_strcasecmp(&msg->ctyp.subtype, "dtmf-relay") &&
	      pl_strcasecmp(&msg->ctyp.subtype, "dtmf")))) {
		(void)sip_reply(sip, msg, 415, "Unsupported Media Type");
		return;
	}

	if (other && call->answered && mbuf_get_left(msg->mb) &&
	    mbuf_get_left(msg->mb) <= SDP_MAX) {
		char ctype[128];

		re_snprintf(ctype, sizeof(ctype), "%r/%r", &msg->ctyp.type,
			    &msg->ctyp.subtype);
		(void)sipsess_info(other, ctype, msg->mb, NULL, NULL);
	}

	(void)sip_reply(sip, msg, 200, "OK");
}


/* The callee's leg ended before an answer: the caller hears why */
static void callee_failed(struct sbccall *call, int err,
			  const struct sip_msg *msg)
{
	if (msg && msg->scode >= 300) {
		call->fail_code = msg->scode;
		call->fail_hdrs = mem_deref(call->fail_hdrs);
		(void)hdrs_build(&call->fail_hdrs, call->s, msg, call->in);
	}
	else {
		call->fail_code = err == ETIMEDOUT ? 408 : 503;
	}

	log_info("callee's side refused: %u", call->fail_code);
}


static void close_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct leg *leg = arg;
	struct sbccall *call = leg->call;

	log_ctx_set(call->ctx);
	leg->sess = mem_deref(leg->sess);

	if (leg->side == call->in) {
		/* BYE, or CANCEL of an accepted INVITE (libre sent 487) */
		call->caller_done = true;
		call_end(call, call->answered
				   ? (err == ECONNRESET ? "caller-bye"
							: "caller-error")
				   : "caller-cancel");
	}
	else if (call->answered) {
		call_end(call,
			 err == ECONNRESET ? "callee-bye" : "callee-error");
	}
	else {
		callee_failed(call, err, msg);
		call_end(call, "callee-refused");
	}

	log_ctx_clear();
}


static int caller_accept(struct sbccall *call, uint16_t scode,
			 struct mbuf *desc, const char *hdrs)
{
	struct leg *a = &call->leg[call->in];
	int err;

	err = sipsess_accept(&a->sess, side_of(call->s, call->in)->sock,
			     call->inv, scode, phrase(scode), a->cuser,
			     "application/sdp", desc, NULL, NULL, false,
			     offer_handler, answer_handler, estab_handler,
			     info_handler, NULL, close_handler, a, "%s%s",
			     ALLOW, hdrs ? hdrs : "");
	if (err)
		return err;

	call->inv = mem_deref((void *)call->inv);
	return 0;
}


/* ---- requests sipsess leaves to us: CANCEL while held, UPDATE --------- */

static void handle_update(struct sbccall *call, struct leg *leg,
			  const struct sip_msg *msg)
{
	struct sip *sip = side_of(call->s, leg->side)->sip;
	struct mbuf *desc = NULL;
	int err;

	err = leg_offer(call, leg->side, msg, &desc);
	if (err && err != ENOENT) {
		(void)sip_reply(sip, msg, 488, phrase(488));
		goto out;
	}

	(void)sip_replyf(sip, msg, 200, "OK",
			 "Contact: <%s>\r\n"
			 "%s"
			 "Content-Length: %zu\r\n"
			 "\r\n"
			 "%b",
			 leg->cuser,
			 desc ? "Content-Type: application/sdp\r\n" : "",
			 desc ? desc->end : (size_t)0, desc ? desc->buf : NULL,
			 desc ? desc->end : (size_t)0);

out:
	mem_deref(desc);
}


static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct leg *leg = arg;
	struct sbccall *call = leg->call;

	if (!pl_strcmp(&msg->met, "CANCEL")) {
		if (leg->side != call->in || call->state != CALL_HELD ||
		    pl_strcmp(&msg->callid, call->leg[call->in].callid) ||
		    pl_strcmp(&msg->from.tag, call->ftag))
			return false;

		log_ctx_set(call->ctx);
		(void)sip_reply(side_of(call->s, leg->side)->sip, msg, 200,
				"OK");
		call->fail_code = 487;
		call_end(call, "caller-cancel");
		log_ctx_clear();
		return true;
	}

	if (!pl_strcmp(&msg->met, "UPDATE")) {
		if (!leg->sess || call->state == CALL_ENDED ||
		    !sip_dialog_cmp(sipsess_dialog(leg->sess), msg))
			return false;

		log_ctx_set(call->ctx);
		handle_update(call, leg, msg);
		log_ctx_clear();
		return true;
	}

	return false;
}


/* ---- new calls ---------------------------------------------------------- */

/* A user part we write into our own URIs: no delimiters, bounded */
static bool user_ok(const struct pl *u)
{
	if (!u->l || u->l >= USER_MAX)
		return false;

	for (size_t i = 0; i < u->l; i++) {
		const char c = u->p[i];

		if (c <= ' ' || c == '"' || c == '<' || c == '>' || c == '@' ||
		    c == ':' || c == '\\' || c == 0x7f)
			return false;
	}

	return true;
}


static bool has_creds(const struct sip_msg *msg)
{
	return sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION) ||
	       sip_msg_hdr(msg, SIP_HDR_PROXY_AUTHORIZATION);
}


/* A final answer to an INVITE that never became a call */
static void reject(struct sbc *s, enum sbc_side_id in,
		   const struct sip_msg *msg, uint16_t scode)
{
	log_info("INVITE from %J (%s side) to %r refused: %u", &msg->src,
		 side_name(in), &msg->uri.user, scode);
	(void)sip_reply(side_of(s, in)->sip, msg, scode, phrase(scode));

	if (in != SBC_PUBLIC)
		return;

	sbc_guard_note_auth(s, &msg->src, has_creds(msg), scode);
	if (scode == 403 || scode == 404 || scode == 484 || scode == 604)
		guard_call_refused(s->guard, &msg->src, scode, sbc_now_ms());
}


/* The caller's display name, unquoted, safe between our quotes */
static int caller_name(char **namep, const struct sip_msg *msg)
{
	struct pl dn = msg->from.dname;
	int err;

	if (!pl_isset(&dn))
		return 0;

	if (dn.l >= 2 && dn.p[0] == '"' && dn.p[dn.l - 1] == '"') {
		++dn.p;
		dn.l -= 2;
	}
	if (dn.l > USER_MAX)
		dn.l = USER_MAX;

	err = pl_strdup(namep, &dn);
	if (err)
		return err;

	for (char *p = *namep; *p; p++) {
		if (*p == '"' || *p == '\\' || (unsigned char)*p < ' ')
			*p = ' ';
	}

	return 0;
}


static int call_alloc(struct sbccall **callp, struct sbc *s,
		      enum sbc_side_id in, const struct sip_msg *msg)
{
	struct sbccall *call;
	int err;

	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call)
		return ENOMEM;

	call->s = s;
	call->in = in;
	tmr_init(&call->tmr_free);
	tmr_init(&call->tmr_ring);
	for (int i = 0; i < 2; i++) {
		call->leg[i].call = call;
		call->leg[i].side = (enum sbc_side_id)i;
	}

	call->cseq = msg->cseq.num;
	call->src = msg->src;
	call->had_creds = has_creds(msg);

	err = pl_strdup(&call->leg[in].callid, &msg->callid);
	err |= pl_strdup(&call->ftag, &msg->from.tag);
	err |= cuser_make(&call->leg[in].cuser, s, in, msg->tp);
	if (err)
		goto out;

	ctx_update(call);

out:
	if (err)
		mem_deref(call);
	else
		*callp = call;

	return err;
}


/* Relay ports, the offer/answer engine, and our offer toward the callee */
static int media_setup(struct sbccall *call, bool pub_tls,
		       const struct pl *body, struct mbuf **offerp)
{
	struct sbc *s = call->s;
	struct mneg_policy pa, pb;
	int err;

	err = mcall_alloc(&call->mc, s->media, call->leg[call->in].callid);
	if (err)
		return err;

	(void)mcall_set_latch(call->mc, s->conf.symmetric_rtp);

	pa.codecs = s->cfg->codecs;
	pa.srtp =
	    pub_tls ? (enum mneg_srtp)s->conf.pub_srtp : MNEG_SRTP_ALLOWED;
	pa.t38 = true;
	pb.codecs = s->cfg->codecs;
	pb.srtp = (enum mneg_srtp)s->conf.priv_srtp;
	pb.t38 = true;

	err = mneg_alloc(&call->mn, sbc_side_nat(s, &s->pub),
			 mcall_port(call->mc, MEDIA_SIDE_A),
			 mcall_port(call->mc, MEDIA_SIDE_B), &pa, &pb);
	if (err)
		return err;

	err = mneg_set_addr(call->mn, MEDIA_SIDE_B, sbc_side_nat(s, &s->priv));
	if (err)
		return err;

	return media_offer(call, call->in, body, offerp);
}


/* The URIs of the callee's leg */
struct target {
	char to[URI_MAX];
	char from[URI_MAX];
	char route[URI_MAX];
	bool routed;
	bool pub_tls; /* the public leg runs over TLS */
	int tp;	      /* enum sip_transp of the callee's leg */
};


static int target_private(struct target *t, struct sbccall *call,
			  const struct sip_msg *msg)
{
	struct sbc *s = call->s;
	int n, m;

	n = re_snprintf(t->to, sizeof(t->to), "sip:%r@%J%s", &msg->uri.user,
			&s->conf.pbx, sip_transp_param(s->conf.pbx_tp));
	m = re_snprintf(t->from, sizeof(t->from), "sip:%r@%H",
			&msg->from.uri.user, host_print, &s->conf.pbx);
	t->routed = false;
	t->pub_tls = msg->tp == SIP_TRANSP_TLS;
	t->tp = s->conf.pbx_tp;

	return n < 0 || m < 0 ? ENOMEM : 0;
}


static int target_public(struct target *t, struct sbccall *call,
			 const struct sip_msg *msg,
			 const struct sbc_binding *b)
{
	struct sbc *s = call->s;
	int n, m, r = 0;

	n = re_snprintf(t->to, sizeof(t->to), "%s", b->contact);
	m = re_snprintf(t->from, sizeof(t->from), "sip:%r@%H",
			&msg->from.uri.user, host_print,
			sbc_side_nat(s, &s->pub));

	/* through the phone's NAT and over its own connection; a WAN
	   element (LAN mode) is reached at its private listener as is */
	t->routed = s->conf.mode != SBC_MODE_LAN;
	if (t->routed)
		r = re_snprintf(t->route, sizeof(t->route), "sip:%J%s",
				&b->peer,
				sip_transp_param((enum sip_transp)b->tp));
	t->pub_tls = b->tp == SIP_TRANSP_TLS;
	t->tp = b->tp;

	return n < 0 || m < 0 || r < 0 ? ENOMEM : 0;
}


/* INVITE toward the other side */
static int callee_start(struct sbccall *call, const struct sip_msg *msg,
			const struct target *t, struct mbuf *offer)
{
	struct sbc *s = call->s;
	const enum sbc_side_id out = other_id(call->in);
	struct leg *b = &call->leg[out];
	const char *routev[1] = { t->route };
	enum sip_transp tp;
	char *name = NULL, *hdrs = NULL;
	int err;

	tp = (enum sip_transp)t->tp;
	err = caller_name(&name, msg);
	err |= hdrs_build(&hdrs, s, msg, out);
	err |= cuser_make(&b->cuser, s, out, tp);
	if (err)
		goto out;

	err = sipsess_connect(&b->sess, side_of(s, out)->sock, t->to, name,
			      t->from, b->cuser, routev, t->routed ? 1 : 0,
			      "application/sdp", offer, NULL, NULL, false,
			      offer_handler, answer_handler, progress_handler,
			      estab_handler, info_handler, NULL, close_handler,
			      b, "%s%s", ALLOW, hdrs);
	if (err)
		goto out;

	err = str_dup(&b->callid, sip_dialog_callid(sipsess_dialog(b->sess)));

out:
	mem_deref(name);
	mem_deref(hdrs);
	return err;
}


static uint16_t setup_status(int err)
{
	switch (err) {

	case EPROTO:
	case EPERM:
		return 488;
	case EBADMSG:
		return 400;
	case EADDRINUSE:
	case ENOSPC:
	case EMFILE:
		return 503;
	default:
		return 500;
	}
}


static void call_start(struct sbc *s, enum sbc_side_id in,
		       const struct sip_msg *msg, const struct sbc_binding *b,
		       const struct pl *body)
{
	struct sbccall *call = NULL;
	struct mbuf *offer = NULL;
	struct target t;
	uint16_t scode;
	int err;

	memset(&t, 0, sizeof(t));
	err = call_alloc(&call, s, in, msg);
	if (err) {
		reject(s, in, msg, 500);
		return;
	}

	err = in == SBC_PUBLIC ? target_private(&t, call, msg)
			       : target_public(&t, call, msg, b);
	if (err) {
		reject(s, in, msg, 500);
		goto out;
	}

	err = media_setup(call, t.pub_tls, body, &offer);
	if (err) {
		scode = setup_status(err);
		if (scode == 503)
			evlog_emit(EV_CAPACITY_LIMIT,
				   "SBC: no media ports left for a call: %m",
				   err);
		log_info("caller's SDP not usable: %m", err);
		reject(s, in, msg, scode);
		goto out;
	}

	err = callee_start(call, msg, &t, offer);
	if (err) {
		log_warn("cannot send the INVITE to the %s side: %m",
			 side_name(other_id(in)), err);
		reject(s, in, msg, 503);
		goto out;
	}

	for (int i = 0; i < 2 && !err; i++)
		err = sip_listen(&call->leg[i].lsnr,
				 side_of(s, (enum sbc_side_id)i)->sip, true,
				 request_handler, &call->leg[i]);
	if (err) {
		reject(s, in, msg, 500);
		goto out;
	}

	ctx_update(call);
	log_ctx_set(call->ctx);
	log_info("call from %J (%s side) %r -> %r: public Call-ID %s, "
		 "private Call-ID %s",
		 &msg->src, side_name(in), &msg->from.uri.user, &msg->uri.user,
		 call->leg[SBC_PUBLIC].callid, call->leg[SBC_PRIVATE].callid);

	(void)sip_reply(side_of(s, in)->sip, msg, 100, "Trying");
	call->inv = mem_ref((void *)msg);
	tmr_start(&call->tmr_ring, RING_TIMEOUT_MS, ring_timeout, call);
	list_append(&s->calls, &call->le, call);
	++s->calls_total;
	call = NULL;

out:
	mem_deref(offer);
	mem_deref(call);
}


static struct sbccall *call_find(struct sbc *s, enum sbc_side_id in,
				 const struct sip_msg *msg)
{
	for (struct le *le = s->calls.head; le; le = le->next) {
		struct sbccall *call = le->data;

		if (call->in == in && call->cseq == msg->cseq.num &&
		    !pl_strcmp(&msg->callid, call->leg[in].callid) &&
		    !pl_strcmp(&msg->from.tag, call->ftag))
			return call;
	}

	return NULL;
}


static void conn_handler(struct sbc *s, enum sbc_side_id in,
			 const struct sip_msg *msg)
{
	const struct sbc_binding *b = NULL;
	struct sbccall *call;
	struct pl body;
	int err;

	log_ctx_set(NULL);
	if (msg->callid.l < 64) {
		char cid[64];

		pl_strcpy(&msg->callid, cid, sizeof(cid));
		log_ctx_set(cid);
	}

	/* a retransmission of an INVITE we hold */
	call = call_find(s, in, msg);
	if (call) {
		if (call->state == CALL_HELD)
			(void)sip_reply(side_of(s, in)->sip, msg, 100,
					"Trying");
		goto out;
	}

	if (s->closing) {
		reject(s, in, msg, 503);
		goto out;
	}

	if (!pl_isset(&msg->from.tag) || !user_ok(&msg->from.uri.user)) {
		reject(s, in, msg, 400);
		goto out;
	}

	if (!user_ok(&msg->uri.user)) {
		reject(s, in, msg, 404);
		goto out;
	}

	/* the PBX calls a phone by the token of its binding */
	if (in == SBC_PRIVATE) {
		b = sbcreg_find(s, &msg->uri.user);
		if (!b) {
			reject(s, in, msg, 404);
			goto out;
		}
	}

	err = msg_body(msg, &body);
	if (err) {
		/* late offer (INVITE without SDP) is not relayed */
		reject(s, in, msg, err == EMSGSIZE ? 413 : 488);
		goto out;
	}

	call_start(s, in, msg, b, &body);

out:
	log_ctx_clear();
}


static void pub_conn_handler(const struct sip_msg *msg, void *arg)
{
	conn_handler(arg, SBC_PUBLIC, msg);
}


static void priv_conn_handler(const struct sip_msg *msg, void *arg)
{
	conn_handler(arg, SBC_PRIVATE, msg);
}


/* ---- the SBC's entry points ------------------------------------------- */

/**
 * Listen for INVITEs on both sides (a sipsess socket per stack)
 *
 * @param s SBC, with both SIP stacks, the media relay and the guard
 *
 * @return 0 if success, otherwise errorcode
 */
int sbccall_init(struct sbc *s)
{
	int err;

	if (!s || !s->pub.sip || !s->priv.sip)
		return EINVAL;

	err = sipsess_listen(&s->pub.sock, s->pub.sip, HTSIZE,
			     pub_conn_handler, s);
	if (err)
		return err;

	err = sipsess_listen(&s->priv.sock, s->priv.sip, HTSIZE,
			     priv_conn_handler, s);
	if (err)
		s->pub.sock = mem_deref(s->pub.sock);

	return err;
}


/**
 * Free every call (their sessions send BYE/CANCEL if the stacks still
 * run) and both sipsess sockets
 *
 * @param s SBC
 */
void sbccall_close(struct sbc *s)
{
	if (!s)
		return;

	list_flush(&s->calls);
	s->pub.sock = mem_deref(s->pub.sock);
	s->priv.sock = mem_deref(s->priv.sock);
}


/**
 * End every call while the loop still runs: BYE to answered legs, CANCEL
 * toward ringing callees, 503 to held or ringing callers
 *
 * @param s SBC
 */
void sbccall_shutdown(struct sbc *s)
{
	if (!s)
		return;

	for (struct le *le = s->calls.head; le; le = le->next) {
		struct sbccall *call = le->data;

		if (call->state == CALL_ENDED)
			continue;

		log_ctx_set(call->ctx);
		if (!call->fail_code)
			call->fail_code = 503;
		call_end(call, "shutdown");
		log_ctx_clear();
	}
}


/**
 * Calls in progress through the SBC
 *
 * @param s SBC
 *
 * @return number of calls not yet ended
 */
uint32_t sbccall_count(const struct sbc *s)
{
	uint32_t n = 0;

	for (struct le *le = s ? s->calls.head : NULL; le; le = le->next) {
		const struct sbccall *call = le->data;

		if (call->state != CALL_ENDED)
			++n;
	}

	return n;
}


/**
 * The SBC's relay saw no RTP for its timeout: BYE to both sides
 *
 * @param s   SBC
 * @param tag Tag of the mcall: the caller's Call-ID
 */
void sbccall_media_timeout(struct sbc *s, const char *tag)
{
	if (!s || !tag)
		return;

	for (struct le *le = s->calls.head; le; le = le->next) {
		struct sbccall *call = le->data;

		if (call->state == CALL_ENDED ||
		    strcmp(call->leg[call->in].callid, tag))
			continue;

		/* a ringing call has no media yet; the answer re-arms the
		   relay's clock (mcall_set_peer) */
		if (!call->answered)
			return;

		log_ctx_set(call->ctx);
		log_info("no media: ending the call on both sides");
		call_end(call, "media-timeout");
		log_ctx_clear();
		return;
	}
}

/**
 * @file b2bua.c  Back-to-back user agent: every call is two dialogs
 *
 * The caller's INVITE ends here (leg A, a UAS sipsess); relaisd places a new
 * INVITE to every registered contact of the callee (forks, UAC sipsess) with
 * the SDP rewritten onto its own media relay, so neither phone learns the
 * other's address. The first fork to answer wins, the others are cancelled.
 *
 * Ownership: struct b2bua owns the calls (list), a call owns its forks, its
 * sipsess objects and its mcall. Calls end through call_end(), which writes
 * the call record at once and frees the call from a zero timer, so that no
 * sipsess is freed from inside its own callback (STYLE.md §3). Everything
 * here runs on the SIP thread.
 *
 * Leg A is accepted (sipsess_accept) only when leg B has something to say
 * (180/183/200); until then the INVITE is held, "100 Trying" is sent
 * statelessly and retransmissions and CANCEL are handled by our own
 * listener, because libre 1.1.0 cannot accept with a 100.
 */

#include <string.h>
#include <time.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "media/media.h"
#include "pbx/pbx.h"
#include "sip/sip.h"

#define DEBUG_MODULE "b2bua"

enum {
	MAX_FORKS = 10,
	RING_TIMEOUT_MS = 180000,
	SDP_MAX = 16384,
};

enum call_state {
	CALL_ROUTING = 0, /* forks sent, nothing sent to A but 100   */
	CALL_EARLY,	  /* A accepted with a provisional response  */
	CALL_ANSWERED,	  /* 200 sent to A, waiting for ACK          */
	CALL_CONFIRMED,	  /* ACK received                             */
	CALL_ENDED,
};

static const char *state_names[] = {
	[CALL_ROUTING] = "routing",   [CALL_EARLY] = "ringing",
	[CALL_ANSWERED] = "answered", [CALL_CONFIRMED] = "connected",
	[CALL_ENDED] = "ended",
};

struct b2bua {
	struct sip *sip;
	struct sipsess_sock *sock;
	struct sip_lsnr *lsnr;
	struct sipauth *auth;
	struct registrar *reg;
	struct store *st;
	struct media *media;
	struct trunks *trunks;
	const struct relais_config *cfg;
	struct list calls;
};

struct fork {
	struct le le;
	struct call *call;
	struct sipsess *sess;
	char *uri;
	struct trunk *trunk; /* a trunk leg: holds one of its call slots */
	bool slot;
};

struct call {
	struct le le;
	struct b2bua *b;
	char *callid;
	char *ftag;
	char *caller_name;
	char *domain;
	char caller[STORE_NUMBER_MAX];
	char callee[STORE_NUMBER_MAX];
	const struct sip_msg *inv; /* A's INVITE until A is accepted */
	struct sipsess *a;
	struct list forks;
	struct fork *winner;
	struct mcall *mc;
	struct mbuf *sdp_from[2]; /* last SDP received from side A / B */
	struct mbuf *sdp_to[2];	  /* last SDP sent toward side A / B    */
	uint32_t ver_to[2];
	enum call_state state;
	uint16_t fail_code;
	bool busy_seen;
	bool cancelled;
	int64_t start_ms;
	int64_t answer_ms;
	int64_t end_ms;
	char cause[STORE_CAUSE_MAX];
	struct tmr tmr_free;
	struct tmr tmr_ring;
	struct tmr tmr_se;
	uint32_t se; /* RFC 4028 interval toward A, 0 = none */
	bool se_we_refresh;
	bool se_required;

	/* calls to and from trunks: SDP through mneg (transcoding, SRTP) */
	struct mneg *mn;
	bool mn_wait[2];	 /* we offered toward this side    */
	struct fork *early_fork; /* whose early SDP A got          */
	struct mbuf *offer_a;	 /* A's first offer, for reroutes */
	struct trunk *trunk_in;	 /* the trunk the call came from   */
	bool slot_in;
	char codecs_a[STORE_CODECS_MAX];
	char codecs_b[STORE_CODECS_MAX];
	bool emergency;
	struct store_orule rule; /* outbound: routes left to try   */
	uint32_t route_next;
	char dialled[STORE_NUMBER_MAX];
	char diversion[STORE_NUMBER_MAX]; /* DID forwarded from      */
};


static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void fork_destructor(void *arg)
{
	struct fork *f = arg;

	list_unlink(&f->le);
	mem_deref(f->sess);
	mem_deref(f->uri);
	if (f->slot)
		trunk_call_release(f->trunk);
	mem_deref(f->trunk);
}


static void call_destructor(void *arg)
{
	struct call *call = arg;

	tmr_cancel(&call->tmr_free);
	tmr_cancel(&call->tmr_ring);
	tmr_cancel(&call->tmr_se);
	list_unlink(&call->le);
	list_flush(&call->forks);
	mem_deref(call->a);
	mem_deref((void *)call->inv);
	mem_deref(call->mc);
	for (int i = 0; i < 2; i++) {
		mem_deref(call->sdp_from[i]);
		mem_deref(call->sdp_to[i]);
	}
	mem_deref(call->callid);
	mem_deref(call->ftag);
	mem_deref(call->caller_name);
	mem_deref(call->domain);
	mem_deref(call->mn);
	mem_deref(call->offer_a);
	if (call->slot_in)
		trunk_call_release(call->trunk_in);
	mem_deref(call->trunk_in);
}


static const char *disposition(const struct call *call)
{
	if (call->answer_ms)
		return "ANSWERED";
	if (call->cancelled)
		return "CANCELLED";
	if (call->busy_seen || call->fail_code == 486 ||
	    call->fail_code == 600)
		return "BUSY";
	if (call->fail_code == 408 || call->fail_code == 480 ||
	    call->fail_code == 487)
		return "NO ANSWER";

	return "FAILED";
}


static void cdr_write(struct call *call)
{
	struct store_cdr cdr;
	int err;

	memset(&cdr, 0, sizeof(cdr));
	str_ncpy(cdr.callid, call->callid, sizeof(cdr.callid));
	str_ncpy(cdr.caller, call->caller, sizeof(cdr.caller));
	str_ncpy(cdr.callee, call->callee, sizeof(cdr.callee));
	cdr.start_ms = call->start_ms;
	cdr.answer_ms = call->answer_ms;
	cdr.end_ms = call->end_ms;
	str_ncpy(cdr.disposition, disposition(call), sizeof(cdr.disposition));
	str_ncpy(cdr.cause, call->cause, sizeof(cdr.cause));
	if (call->answer_ms)
		cdr.duration_s =
		    (uint32_t)((call->end_ms - call->answer_ms + 500) / 1000);

	err = store_cdr_add(call->b->st, &cdr);
	if (err)
		log_warn("cannot write call record: %m", err);
}


static const char *reason_phrase(uint16_t code)
{
	switch (code) {

	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 500:
		return "Server Internal Error";
	case 503:
		return "Service Unavailable";
	case 600:
		return "Busy Everywhere";
	case 603:
		return "Decline";
	default:
		return code < 500 ? "Temporarily Unavailable" : "Server Error";
	}
}


/* Release the A leg the way its state asks for */
static void leg_a_release(struct call *call)
{
	uint16_t code = call->fail_code ? call->fail_code : 480;

	/* a callee's 401/407 is its own business, not the caller's */
	if (code == 401 || code == 407)
		code = 480;

	if (call->a && !call->answer_ms)
		(void)sipsess_reject(call->a, code, reason_phrase(code), NULL);
	else if (!call->a && call->inv)
		(void)sip_reply(call->b->sip, call->inv, code,
				reason_phrase(code));

	call->a = mem_deref(call->a);
	call->inv = mem_deref((void *)call->inv);
}


/* Zero timer: nothing of the call is freed inside a libre callback */
static void free_handler(void *arg)
{
	struct call *call = arg;

	leg_a_release(call);
	mem_deref(call);
}


/**
 * End a call: write its record now, release its legs (BYE, CANCEL or a
 * final response) and its media from a zero timer
 */
static void call_end(struct call *call, const char *cause)
{
	if (call->state == CALL_ENDED)
		return;

	str_ncpy(call->cause, cause, sizeof(call->cause));
	call->end_ms = now_ms();
	log_info("call %s -> %s ended: %s (%s)", call->caller, call->callee,
		 call->cause, disposition(call));

	tmr_cancel(&call->tmr_ring);
	tmr_cancel(&call->tmr_se);
	call->state = CALL_ENDED;
	cdr_write(call);

	list_unlink(&call->le);
	tmr_start(&call->tmr_free, 0, free_handler, call);
}


static struct call *call_find(struct b2bua *b, const struct pl *callid,
			      const struct pl *ftag)
{
	for (struct le *le = b->calls.head; le; le = le->next) {
		struct call *call = le->data;

		if (!pl_strcmp(callid, call->callid) &&
		    !pl_strcmp(ftag, call->ftag))
			return call;
	}

	return NULL;
}


static struct call *call_find_dialog(struct b2bua *b,
				     const struct sip_msg *msg,
				     enum media_side *side)
{
	for (struct le *le = b->calls.head; le; le = le->next) {
		struct call *call = le->data;

		if (call->a && sip_dialog_cmp(sipsess_dialog(call->a), msg)) {
			*side = MEDIA_SIDE_A;
			return call;
		}
		if (call->winner && call->winner->sess &&
		    sip_dialog_cmp(sipsess_dialog(call->winner->sess), msg)) {
			*side = MEDIA_SIDE_B;
			return call;
		}
	}

	return NULL;
}


/* ---- SDP between the legs ------------------------------------------ */

/**
 * Rewrite an SDP received from side `from` for the other side
 *
 * @return 0, EBADMSG for SDP we cannot read, EPROTO for no common codec
 */
static int sdp_forward(struct call *call, enum media_side from,
		       const struct pl *body, bool sending, struct mbuf **outp,
		       struct sdprw_info *infop)
{
	const enum media_side to =
	    from == MEDIA_SIDE_A ? MEDIA_SIDE_B : MEDIA_SIDE_A;
	struct sdprw_params p;
	struct sdprw_info info;
	struct mbuf *raw;
	int err;

	memset(&p, 0, sizeof(p));
	p.addr = media_laddr(call->b->media);
	p.port = mcall_port(call->mc, to);
	p.codecs = call->b->cfg->codecs;
	/* RFC 3264 §8: the version grows by one for each SDP we send */
	p.version = call->ver_to[to] + (sending ? 1 : 0);
	p.dir = SDPRW_DIR_KEEP;

	err = sdprw_rewrite(outp, body, &p, &info);
	if (err)
		return err;

	if (!info.codecc) {
		*outp = mem_deref(*outp);
		return EPROTO;
	}

	(void)mcall_set_peer(call->mc, from, &info.rtp, &info.rtcp);

	raw = mbuf_alloc(body->l);
	if (!raw)
		return ENOMEM;
	(void)mbuf_write_pl(raw, body);
	mbuf_set_pos(raw, 0);
	mem_deref(call->sdp_from[from]);
	call->sdp_from[from] = raw;

	if (sending) {
		call->ver_to[to] = p.version;
		mem_deref(call->sdp_to[to]);
		call->sdp_to[to] = mem_ref(*outp);
	}

	if (infop)
		*infop = info;

	return 0;
}


/* Answer side `to` locally from what the other side last sent */
static int sdp_local_answer(struct call *call, enum media_side to,
			    enum sdprw_dir offered, struct mbuf **outp)
{
	const enum media_side other =
	    to == MEDIA_SIDE_A ? MEDIA_SIDE_B : MEDIA_SIDE_A;
	struct sdprw_params p;
	struct pl body;
	int err;

	if (!call->sdp_from[other])
		return EPROTO;

	memset(&p, 0, sizeof(p));
	p.addr = media_laddr(call->b->media);
	p.port = mcall_port(call->mc, to);
	p.codecs = call->b->cfg->codecs;
	p.version = ++call->ver_to[to];
	p.dir = sdprw_dir_answer(offered);

	body.p = (const char *)call->sdp_from[other]->buf;
	body.l = call->sdp_from[other]->end;

	err = sdprw_rewrite(outp, &body, &p, NULL);
	if (err)
		return err;

	mem_deref(call->sdp_to[to]);
	call->sdp_to[to] = mem_ref(*outp);

	return 0;
}


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


/* ---- SDP of trunk calls: mneg (codecs per leg, SRTP, T.38) --------- */

static enum media_side other_side(enum media_side s)
{
	return s == MEDIA_SIDE_A ? MEDIA_SIDE_B : MEDIA_SIDE_A;
}


static void sdp_keep(struct mbuf **slot, struct mbuf *mb)
{
	mem_deref(*slot);
	*slot = mem_ref(mb);
}


/* Tell the relay what mneg decided: codecs, SRTP keys, peer addresses */
static void media_apply(struct call *call)
{
	struct media_leg la, lb;
	int err;

	err = mneg_apply(call->mn, call->mc, &la, &lb);
	if (err == ENOENT)
		return;
	if (err)
		log_warn("relay refused the legs: %m", err);
	else if (la.codec != lb.codec)
		log_info("transcoding %s <-> %s%s%s",
			 media_codec_name(la.codec),
			 media_codec_name(lb.codec),
			 la.srtp ? ", SRTP toward the caller" : "",
			 lb.srtp ? ", SRTP toward the callee" : "");
	else if (la.srtp || lb.srtp)
		log_info("SRTP toward the %s", la.srtp && lb.srtp
						   ? "caller and the callee"
					       : la.srtp ? "caller"
							 : "callee");
}


/* An offer from side `from`, rewritten for the other side */
static int media_offer(struct call *call, enum media_side from,
		       const struct pl *body, struct mbuf **outp)
{
	const enum media_side to = other_side(from);
	int err;

	if (!call->mn)
		return sdp_forward(call, from, body, true, outp, NULL);

	err = mneg_offer(call->mn, from, body, outp);
	if (err)
		return err;

	call->mn_wait[to] = true;
	sdp_keep(&call->sdp_to[to], *outp);

	return 0;
}


/* The answer from side `from` to what we offered it; outp (may be NULL)
   gets the answer for the other side */
static int media_answer(struct call *call, enum media_side from,
			const struct pl *body, bool sending,
			struct mbuf **outp)
{
	const enum media_side to = other_side(from);
	struct mbuf *out = NULL;
	int err;

	if (!call->mn)
		return sdp_forward(call, from, body, sending, outp, NULL);

	if (!call->mn_wait[from]) {
		/* the same answer again (183 then 200): A has it already */
		if (outp && call->sdp_to[to])
			*outp = mem_ref(call->sdp_to[to]);
		return 0;
	}

	err = mneg_answer(call->mn, from, body, &out);
	if (err) {
		mem_deref(out);
		return err;
	}

	call->mn_wait[from] = false;
	media_apply(call);

	if (sending)
		sdp_keep(&call->sdp_to[to], out);

	if (outp)
		*outp = out;
	else
		mem_deref(out);

	return 0;
}


/* ---- session timer toward A (RFC 4028) ----------------------------- */

static void se_handler(void *arg);


static void se_restart(struct call *call)
{
	uint64_t ms;

	if (!call->se)
		return;

	if (call->se_we_refresh)
		ms = (uint64_t)call->se * 500;
	else
		ms = ((uint64_t)call->se - MIN(32u, call->se / 3)) * 1000;

	tmr_start(&call->tmr_se, ms, se_handler, call);
}


static void se_handler(void *arg)
{
	struct call *call = arg;

	log_ctx_set(call->callid);
	if (call->se_we_refresh && call->a && call->sdp_to[MEDIA_SIDE_A]) {
		/* RFC 4028 §10: the refresher re-sends the session */
		(void)sipsess_modify(call->a, call->sdp_to[MEDIA_SIDE_A]);
		se_restart(call);
	}
	else {
		log_info("session timer expired without refresh");
		call_end(call, "session-timer-expired");
	}
	log_ctx_clear();
}


static int se_headers(struct re_printf *pf, const struct call *call)
{
	if (!call || !call->se)
		return 0;

	return re_hprintf(pf, "Session-Expires: %u;refresher=%s\r\n%s",
			  call->se, call->se_we_refresh ? "uas" : "uac",
			  call->se_required ? "Require: timer\r\n" : "");
}


/* ---- re-INVITE / UPDATE: offer from one established leg ------------ */

static struct sipsess *leg_sess(const struct call *call, enum media_side s)
{
	if (s == MEDIA_SIDE_A)
		return call->a;

	return call->winner ? call->winner->sess : NULL;
}


/**
 * A leg offered new SDP (hold, resume, new address): answer it locally from
 * the other leg's last SDP and pass the offer on with a re-INVITE. libre's
 * offer handler must answer synchronously, hence the local answer.
 */
static int leg_offer(struct call *call, enum media_side from,
		     const struct sip_msg *msg, struct mbuf **descp)
{
	const enum media_side to =
	    from == MEDIA_SIDE_A ? MEDIA_SIDE_B : MEDIA_SIDE_A;
	struct sipsess *other = leg_sess(call, to);
	struct sdprw_info info;
	struct mbuf *fwd = NULL;
	struct pl body;
	int err;

	if (call->state == CALL_ENDED || !call->mc)
		return EPROTO;

	if (from == MEDIA_SIDE_A)
		se_restart(call);

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

	if (call->mn) {
		err = media_offer(call, from, &body, &fwd);
		if (err)
			return err;
		err = mneg_local_answer(call->mn, from, descp);
		if (err)
			goto out;
		sdp_keep(&call->sdp_to[from], *descp);
		media_apply(call);
		info.dir = mneg_offer_dir(call->mn, from);
	}
	else {
		err = sdp_forward(call, from, &body, true, &fwd, &info);
		if (err)
			return err;

		/* the direction asked for decides the local answer's */
		err = sdp_local_answer(call, from, info.dir, descp);
		if (err)
			goto out;
	}

	if (other) {
		int merr = sipsess_modify(other, fwd);

		if (merr)
			log_warn("cannot pass re-INVITE on to the %s leg: %m",
				 to == MEDIA_SIDE_A ? "caller" : "callee",
				 merr);
	}

	log_info("%s leg renegotiated (%s)",
		 from == MEDIA_SIDE_A ? "caller" : "callee",
		 info.dir == SDPRW_DIR_SENDONLY ||
			 info.dir == SDPRW_DIR_INACTIVE
		     ? "hold"
		     : "active");

out:
	mem_deref(fwd);
	return err;
}


/* ---- leg A (the caller) -------------------------------------------- */

static int a_offer(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	int err;

	log_ctx_set(call->callid);
	err = leg_offer(call, MEDIA_SIDE_A, msg, descp);
	log_ctx_clear();

	return err;
}


static int a_answer(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct mbuf *fwd = NULL;
	struct pl body;
	int err;

	/* an answer in ACK, to an offer we made in a 2xx */
	if (msg_body(msg, &body))
		return 0;

	if (call->mn && !call->mn_wait[MEDIA_SIDE_A])
		return 0; /* answer to a re-sent offer: nothing changes */

	err = media_answer(call, MEDIA_SIDE_A, &body, false, &fwd);
	mem_deref(fwd);

	return err;
}


static void a_estab(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	(void)msg;

	if (call->state == CALL_ANSWERED)
		call->state = CALL_CONFIRMED;
}


static void a_info(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct sipsess *other = leg_sess(call, MEDIA_SIDE_B);

	/* SIP INFO (DTMF) is passed to the other leg as it came */
	if (other && mbuf_get_left(msg->mb)) {
		char ctype[128];

		re_snprintf(ctype, sizeof(ctype), "%r/%r", &msg->ctyp.type,
			    &msg->ctyp.subtype);
		(void)sipsess_info(other, ctype, msg->mb, NULL, NULL);
	}

	(void)sip_reply(sip, msg, 200, "OK");
}


static void a_close(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	log_ctx_set(call->callid);
	call->a = mem_deref(call->a);

	if (call->answer_ms)
		call_end(call,
			 err == ECONNRESET ? "caller-bye" : "caller-timeout");
	else {
		call->cancelled = (err == ECONNRESET);
		call_end(call,
			 call->cancelled ? "caller-cancel" : "caller-error");
	}
	(void)msg;
	log_ctx_clear();
}


static int accept_a(struct call *call, uint16_t scode, const char *reason,
		    struct mbuf *desc)
{
	int err;

	err = sipsess_accept(&call->a, call->b->sock, call->inv, scode, reason,
			     call->callee, "application/sdp", desc, NULL, NULL,
			     false, a_offer, a_answer, a_estab, a_info, NULL,
			     a_close, call, "%H", se_headers,
			     scode >= 200 ? call : NULL);
	if (err) {
		log_warn("cannot answer the caller: %m", err);
		return err;
	}

	call->inv = mem_deref((void *)call->inv);
	return 0;
}


/* ---- forks toward the callee's contacts ---------------------------- */

static int fork_offer(struct mbuf **descp, const struct sip_msg *msg,
		      void *arg)
{
	struct fork *f = arg;
	int err;

	if (f != f->call->winner)
		return EPROTO;

	log_ctx_set(f->call->callid);
	err = leg_offer(f->call, MEDIA_SIDE_B, msg, descp);
	log_ctx_clear();

	return err;
}


/* B's SDP toward A (183, 200, answers to our re-INVITEs) */
static int fork_sdp(struct fork *f, const struct sip_msg *msg, bool sending,
		    struct mbuf **descp)
{
	struct pl body;
	int err;

	err = msg_body(msg, &body);
	if (err)
		return err;

	return media_answer(f->call, MEDIA_SIDE_B, &body, sending, descp);
}


static void fork_progress(const struct sip_msg *msg, void *arg)
{
	struct fork *f = arg;
	struct call *call = f->call;
	struct mbuf *desc = NULL;
	int err;

	if (call->state == CALL_ENDED || call->winner || msg->scode <= 100)
		return;

	log_ctx_set(call->callid);
	if (!call->mn || !call->early_fork || call->early_fork == f) {
		err = fork_sdp(f, msg, true, &desc);
		if (err == EPROTO || err == EPERM)
			log_info("early media refused: %m", err);
		else if (!err && call->mn)
			call->early_fork = f;
	}

	if (call->state == CALL_ROUTING) {
		err = accept_a(call, msg->scode == 183 ? 183 : 180,
			       msg->scode == 183 ? "Session Progress"
						 : "Ringing",
			       desc);
		if (err)
			call_end(call, "accept-failed");
		else
			call->state = CALL_EARLY;
	}
	else if (call->a) {
		(void)sipsess_progress(call->a, msg->scode == 183 ? 183 : 180,
				       msg->scode == 183 ? "Session Progress"
							 : "Ringing",
				       desc, NULL);
	}

	mem_deref(desc);
	log_ctx_clear();
}


static int fork_answer(const struct sip_msg *msg, void *arg)
{
	struct fork *f = arg;
	struct call *call = f->call;
	struct mbuf *desc = NULL;
	int err;

	if (call->state == CALL_ENDED)
		return 0;

	log_ctx_set(call->callid);

	/* the answer to one of our re-INVITEs */
	if (call->winner == f) {
		err = fork_sdp(f, msg, false, &desc);
		mem_deref(desc);
		log_ctx_clear();
		return err == EPROTO ? 0 : err;
	}

	/* another contact answered first: this one gets a BYE */
	if (call->winner) {
		log_ctx_clear();
		return 0;
	}

	/* another fork's early SDP was answered: this one's counts now */
	if (call->mn && call->early_fork && call->early_fork != f)
		call->mn_wait[MEDIA_SIDE_B] = true;

	err = fork_sdp(f, msg, true, &desc);
	if (err) {
		log_warn("callee's answer unusable: %m", err);
		call->fail_code = 488;
		call_end(call, "callee-sdp");
		log_ctx_clear();
		return err;
	}

	call->winner = f;
	call->answer_ms = now_ms();
	if (f->trunk)
		trunk_call_result(f->trunk, msg->scode);
	tmr_cancel(&call->tmr_ring);

	/* RFC 3261 §16.7 step 10 spirit: the other forks are cancelled */
	for (struct le *le = call->forks.head; le;) {
		struct fork *o = le->data;

		le = le->next;
		if (o != f)
			mem_deref(o);
	}

	if (call->state == CALL_ROUTING)
		err = accept_a(call, 200, "OK", desc);
	else
		err = sipsess_answer(call->a, 200, "OK", desc, "%H",
				     se_headers, call);

	mem_deref(desc);

	if (err) {
		call_end(call, "answer-failed");
	}
	else {
		call->state = CALL_ANSWERED;
		se_restart(call);
		log_info("call %s -> %s answered by %s", call->caller,
			 call->callee, f->uri);
	}

	log_ctx_clear();
	return 0;
}


static void fork_estab(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
}


static void fork_info(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct fork *f = arg;

	if (f == f->call->winner && f->call->a && mbuf_get_left(msg->mb)) {
		char ctype[128];

		re_snprintf(ctype, sizeof(ctype), "%r/%r", &msg->ctyp.type,
			    &msg->ctyp.subtype);
		(void)sipsess_info(f->call->a, ctype, msg->mb, NULL, NULL);
	}

	(void)sip_reply(sip, msg, 200, "OK");
}


/* Busy beats decline beats any definite failure beats "unreachable" */
static int failure_rank(uint16_t code)
{
	switch (code) {

	case 0:
		return 0;
	case 408:
	case 480:
	case 401:
	case 407:
		return 1;
	case 486:
	case 600:
		return 4;
	case 603:
		return 3;
	default:
		return 2;
	}
}


/* Which failure the caller hears when every fork failed */
static void fork_note_failure(struct call *call, int err,
			      const struct sip_msg *msg)
{
	uint16_t code;

	if (msg && msg->scode >= 300)
		code = msg->scode;
	else
		code = err == ETIMEDOUT ? 408 : 480;

	if (code == 486 || code == 600)
		call->busy_seen = true;

	if (failure_rank(code) > failure_rank(call->fail_code))
		call->fail_code = code;
}


static int routes_try(struct call *call);


static void fork_close(int err, const struct sip_msg *msg, void *arg)
{
	struct fork *f = arg;
	struct call *call = f->call;

	log_ctx_set(call->callid);
	f->sess = mem_deref(f->sess);

	if (call->state == CALL_ENDED) {
		mem_deref(f);
		log_ctx_clear();
		return;
	}

	if (f == call->winner) {
		call->winner = NULL;
		mem_deref(f);
		call_end(call,
			 err == ECONNRESET ? "callee-bye" : "callee-error");
		log_ctx_clear();
		return;
	}

	fork_note_failure(call, err, msg);
	log_info("contact %s failed: %u", f->uri,
		 msg && msg->scode ? msg->scode : 0);

	if (f->trunk) {
		const uint16_t code = msg && msg->scode ? msg->scode : 0;

		trunk_call_result(f->trunk, code);
		mem_deref(f);

		/* SPEC §3: next route on 503 and on no answer at all */
		if ((code == 0 || code == 408 || code == 503) &&
		    !routes_try(call)) {
			log_ctx_clear();
			return;
		}
	}
	else {
		mem_deref(f);
	}

	if (!call->forks.head && !call->winner) {
		char cause[32];

		re_snprintf(cause, sizeof(cause), "%u", call->fail_code);
		call_end(call, cause);
	}

	log_ctx_clear();
}


static const char *transport_param(const char *tp)
{
	if (!strcmp(tp, "tcp"))
		return ";transport=tcp";
	if (!strcmp(tp, "tls"))
		return ";transport=tls";

	return "";
}


/* Phones behind NAT, and phones on TCP/TLS whose connection must be
 * reused, are reached at the address their REGISTER came from. */
static bool needs_route(const struct store_contact *c)
{
	struct sip_addr addr;
	struct sa rcv, ct;
	struct pl pl;

	if (strcmp(c->transport, "udp"))
		return true;

	pl_set_str(&pl, c->uri);
	if (sip_addr_decode(&addr, &pl))
		return true;

	if (sa_decode(&rcv, c->received, strlen(c->received)))
		return false;

	if (sa_set(&ct, &addr.uri.host, addr.uri.port ? addr.uri.port : 5060))
		return true;

	return !sa_cmp(&rcv, &ct, SA_ALL);
}


static int fork_start(struct call *call, const struct store_contact *c,
		      struct mbuf *desc)
{
	char from_uri[256], route[160];
	const char *routev[1];
	struct fork *f;
	int err;

	f = mem_zalloc(sizeof(*f), fork_destructor);
	if (!f)
		return ENOMEM;

	f->call = call;
	err = str_dup(&f->uri, c->uri);
	if (err)
		goto out;

	re_snprintf(from_uri, sizeof(from_uri), "sip:%s@%s", call->caller,
		    call->domain);
	/* libre writes it as Route: <URI;lr> */
	re_snprintf(route, sizeof(route), "sip:%s%s", c->received,
		    transport_param(c->transport));
	routev[0] = route;

	list_append(&call->forks, &f->le, f);

	err = sipsess_connect(&f->sess, call->b->sock, c->uri,
			      call->caller_name, from_uri, call->caller,
			      routev, needs_route(c) ? 1 : 0,
			      "application/sdp", desc, NULL, NULL, false,
			      fork_offer, fork_answer, fork_progress,
			      fork_estab, fork_info, NULL, fork_close, f,
			      "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO,"
			      " UPDATE\r\n");
	if (err)
		log_warn("cannot call contact %s: %m", c->uri, err);

out:
	if (err)
		mem_deref(f);

	return err;
}


/* ---- legs toward a carrier trunk ----------------------------------- */

static enum mneg_srtp srtp_mode(const char *s)
{
	if (!strcmp(s, "enforced"))
		return MNEG_SRTP_ENFORCED;
	if (!strcmp(s, "allowed"))
		return MNEG_SRTP_ALLOWED;

	return MNEG_SRTP_DISABLED;
}


/* What side A accepts: a phone (codecs of the config, SRTP if it asks)
   or the trunk the call came in from */
static void policy_a(const struct call *call, struct mneg_policy *p)
{
	const struct store_trunk *tc =
	    call->trunk_in ? trunk_conf(call->trunk_in) : NULL;

	p->codecs = call->codecs_a;
	p->srtp = tc ? srtp_mode(tc->srtp) : MNEG_SRTP_ALLOWED;
	p->t38 = true;
}


/* A new mneg for the call: side B is a phone or a trunk */
static int mneg_setup(struct call *call, const struct store_trunk *tb)
{
	struct mneg_policy pa, pb;

	policy_a(call, &pa);
	str_ncpy(call->codecs_b, tb ? tb->codecs : call->b->cfg->codecs,
		 sizeof(call->codecs_b));
	pb.codecs = call->codecs_b;
	/* phones are offered plain RTP, whatever the trunk's leg uses */
	pb.srtp = tb ? srtp_mode(tb->srtp) : MNEG_SRTP_DISABLED;
	pb.t38 = true;

	call->mn = mem_deref(call->mn);
	call->mn_wait[0] = call->mn_wait[1] = false;
	call->early_fork = NULL;

	return mneg_alloc(&call->mn, media_laddr(call->b->media),
			  mcall_port(call->mc, MEDIA_SIDE_A),
			  mcall_port(call->mc, MEDIA_SIDE_B), &pa, &pb);
}


/* P-Asserted-Identity, Privacy (RFC 3325/3323) and Diversion (RFC 5806)
   toward the carrier */
static int trunk_headers(char **hdrs, const struct call *call,
			 const struct trunk *t, const char *user)
{
	const struct store_trunk *tc = trunk_conf(t);
	const bool hide = tc->privacy[0] && strcmp(tc->privacy, "none");
	char pai[256] = "", div[256] = "";
	char uri[192];

	if (tc->pai || hide) {
		const char *id = tc->caller_id[0]     ? tc->caller_id
				 : tc->main_number[0] ? tc->main_number
						      : user;

		if (trunk_from_uri(t, id, uri, sizeof(uri)))
			return EINVAL;
		re_snprintf(pai, sizeof(pai), "P-Asserted-Identity: <%s>\r\n",
			    uri);
	}

	if (call->diversion[0] && tc->diversion) {
		if (trunk_from_uri(t, call->diversion, uri, sizeof(uri)))
			return EINVAL;
		re_snprintf(div, sizeof(div),
			    "Diversion: <%s>;reason=unconditional;"
			    "counter=1\r\n",
			    uri);
	}

	return re_sdprintf(hdrs, "%s%s%s%s%s", pai, div,
			   hide ? "Privacy: " : "", hide ? tc->privacy : "",
			   hide ? "\r\n" : "");
}


/* INVITE to number through trunk t; the fork owns the call slot */
static int trunk_fork_start(struct call *call, struct trunk *t, bool slot,
			    const char *number)
{
	const struct store_trunk *tc = trunk_conf(t);
	const bool hide = tc->privacy[0] && strcmp(tc->privacy, "none");
	char ruri[256], from[256], route[256], user[STORE_NUMBER_MAX];
	const char *routev[1] = { route };
	const char *fname = call->caller_name;
	struct mbuf *desc = NULL;
	char *hdrs = NULL;
	struct fork *f;
	struct pl body;
	int err;

	f = mem_zalloc(sizeof(*f), fork_destructor);
	if (!f) {
		if (slot)
			trunk_call_release(t);
		return ENOMEM;
	}
	f->call = call;
	f->trunk = mem_ref(t);
	f->slot = slot;

	/* a forwarded call keeps its caller; our own use the trunk's ID */
	if (call->diversion[0] || (!tc->caller_id[0] && !tc->main_number[0]))
		str_ncpy(user, call->caller, sizeof(user));
	else
		str_ncpy(user,
			 tc->caller_id[0] ? tc->caller_id : tc->main_number,
			 sizeof(user));
	if (tc->caller_name[0] && !call->diversion[0])
		fname = tc->caller_name;

	err = trunk_request_uri(t, number, ruri, sizeof(ruri));
	err |= hide ? 0 : trunk_from_uri(t, user, from, sizeof(from));
	if (hide) {
		str_ncpy(from, "sip:anonymous@anonymous.invalid",
			 sizeof(from));
		fname = "Anonymous";
	}
	err |= trunk_headers(&hdrs, call, t, user);
	err |= str_dup(&f->uri, ruri);
	if (err)
		goto out;

	err = mneg_setup(call, tc);
	if (err)
		goto out;

	body.p = (const char *)call->offer_a->buf;
	body.l = call->offer_a->end;
	err = media_offer(call, MEDIA_SIDE_A, &body, &desc);
	if (err) {
		log_info("trunk %s: caller's SDP not acceptable: %m", tc->name,
			 err);
		call->fail_code = 488;
		goto out;
	}

	list_append(&call->forks, &f->le, f);
	err = sipsess_connect(&f->sess, call->b->sock, ruri, fname, from, user,
			      routev,
			      trunk_route(t, route, sizeof(route)) ? 0 : 1,
			      "application/sdp", desc, trunk_auth_handler, t,
			      false, fork_offer, fork_answer, fork_progress,
			      fork_estab, fork_info, NULL, fork_close, f,
			      "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO,"
			      " UPDATE\r\n%s",
			      hdrs);
	if (err)
		log_warn("trunk %s: cannot send INVITE to %s: %m", tc->name,
			 ruri, err);
	else
		log_info("call %s -> %s through trunk %s as %s", call->caller,
			 call->dialled, tc->name, ruri);

out:
	if (err)
		mem_deref(f);
	mem_deref(desc);
	mem_deref(hdrs);
	return err;
}


/**
 * Try the outbound routes of the call's rule from route_next on (SPEC
 * §3): a blocked route refuses, a missing, down or full trunk is skipped,
 * an emergency call passes every limit.
 *
 * @return 0 when a leg started, else the call's fail_code says why
 */
static int routes_try(struct call *call)
{
	while (call->route_next < call->rule.routec) {
		const uint32_t idx = call->route_next++;
		const struct store_route *rt = &call->rule.routes[idx];
		char number[STORE_NUMBER_MAX];
		struct trunk *t;
		bool slot = true;
		int err;

		if (rt->blocked) {
			if (call->emergency)
				continue;
			log_info("rule '%s' blocks calls to %s",
				 call->rule.name, call->dialled);
			call->fail_code = 403;
			return EPERM;
		}

		t = call->b->trunks ? trunks_find(call->b->trunks, rt->trunk)
				    : NULL;
		if (!t) {
			log_warn("route %u of rule '%s': no trunk '%s'",
				 idx + 1, call->rule.name, rt->trunk);
			call->fail_code = 503;
			continue;
		}

		err = trunk_call_acquire(t, true);
		if (err && call->emergency) {
			log_notice("emergency call through trunk %s although"
				   " %m",
				   rt->trunk, err);
			slot = false;
			err = 0;
		}
		if (err) {
			log_info("route %u: trunk %s skipped (%s)", idx + 1,
				 rt->trunk,
				 err == EBUSY	? "call limit reached"
				 : err == EPERM ? "outbound calls not allowed"
						: "trunk down");
			call->fail_code = 503;
			continue;
		}

		err = route_apply(rt, call->dialled, number, sizeof(number));
		if (err) {
			log_warn("route %u: cannot rewrite %s: %m", idx + 1,
				 call->dialled, err);
			if (slot)
				trunk_call_release(t);
			call->fail_code = 484;
			continue;
		}

		if (idx > 0)
			evlog_emit(EV_TRUNK_FAILOVER,
				   "call %s -> %s: route %u (trunk %s) used",
				   call->caller, call->dialled, idx + 1,
				   rt->trunk);

		if (!trunk_fork_start(call, t, slot, number))
			return 0;
		if (!call->fail_code)
			call->fail_code = 503;
	}

	return ENOENT;
}


struct rule_find {
	const char *caller;
	const char *dialled;
	struct store_orule *r;
	bool found;
};


static int rule_first(const struct store_orule *r, void *arg)
{
	struct rule_find *rf = arg;

	if (!orule_match(r, rf->caller, rf->dialled))
		return 0;

	*rf->r = *r;
	rf->found = true;
	return 1; /* stop */
}


struct trunk_pick {
	struct store_orule *r;
};


/* Emergency numbers with no rule: every trunk open to outbound calls */
static int trunk_collect(const struct trunk_info *ti, void *arg)
{
	struct store_orule *r = arg;
	struct store_route *rt;

	if (!ti->conf->outbound || r->routec >= STORE_ROUTES_MAX)
		return 0;

	rt = &r->routes[r->routec++];
	memset(rt, 0, sizeof(*rt));
	str_ncpy(rt->trunk, ti->conf->name, sizeof(rt->trunk));

	return 0;
}

/* ---- a new call ----------------------------------------------------- */

struct contacts {
	struct store_contact v[MAX_FORKS];
	uint32_t n;
};


static int contact_collect(const struct store_contact *c, void *arg)
{
	struct contacts *cs = arg;

	if (cs->n < ARRAY_SIZE(cs->v))
		cs->v[cs->n++] = *c;

	return 0;
}


static void ring_timeout(void *arg)
{
	struct call *call = arg;

	log_ctx_set(call->callid);
	call->fail_code = 480;
	call_end(call, "no-answer-timeout");
	log_ctx_clear();
}


/* RFC 4028 §9: read Session-Expires, refuse what is below our Min-SE */
static int session_timer_setup(struct call *call, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	const uint32_t min_se = call->b->cfg->session_min_se;
	struct pl delta, refresher;
	uint32_t se;

	hdr = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	if (!hdr)
		return 0;

	if (re_regex(hdr->val.p, hdr->val.l, "[0-9]+", &delta) ||
	    num_u32(&delta, 1, 86400 * 7, &se))
		return EBADMSG;

	if (se < min_se)
		return ERANGE; /* refused with 422 before authentication */

	call->se = se;
	call->se_required =
	    sip_msg_hdr_has_value(msg, SIP_HDR_SUPPORTED, "timer");
	if (!msg_param_decode(&hdr->val, "refresher", &refresher))
		call->se_we_refresh = !pl_strcasecmp(&refresher, "uas");

	/* only a UAC that supports timers can be asked to refresh */
	if (!call->se_required)
		call->se_we_refresh = true;

	return 0;
}


static bool session_too_small(struct b2bua *b, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	struct pl delta;
	uint32_t se;

	if (!hdr || re_regex(hdr->val.p, hdr->val.l, "[0-9]+", &delta) ||
	    num_u32(&delta, 1, UINT32_MAX, &se))
		return false;

	return se < b->cfg->session_min_se;
}


static int auth_caller(struct b2bua *b, const struct sip_msg *msg,
		       struct store_ext *ext)
{
	int err = sipauth_check(b->auth, msg, true, ext);

	switch (err) {

	case 0:
		return 0;
	case ENODATA:
		(void)sipauth_challenge(b->auth, b->sip, msg, true, false);
		break;
	case ETIMEDOUT:
		(void)sipauth_challenge(b->auth, b->sip, msg, true, true);
		break;
	case EBADMSG:
		(void)sip_reply(b->sip, msg, 400, "Bad Request");
		break;
	default:
		(void)sip_reply(b->sip, msg, 403, "Forbidden");
		break;
	}

	return err;
}


static int call_alloc(struct call **callp, struct b2bua *b,
		      const struct sip_msg *msg, const char *caller,
		      const char *callee)
{
	struct call *call;
	int err;

	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call)
		return ENOMEM;

	call->b = b;
	call->start_ms = now_ms();
	tmr_init(&call->tmr_free);
	tmr_init(&call->tmr_ring);
	tmr_init(&call->tmr_se);
	str_ncpy(call->caller, caller, sizeof(call->caller));
	str_ncpy(call->callee, callee, sizeof(call->callee));
	str_ncpy(call->dialled, callee, sizeof(call->dialled));
	str_ncpy(call->codecs_a, b->cfg->codecs, sizeof(call->codecs_a));

	err = pl_strdup(&call->callid, &msg->callid);
	err |= pl_strdup(&call->ftag, &msg->from.tag);
	err |= re_sdprintf(&call->domain,
			   pl_strchr(&msg->uri.host, ':') ? "[%r]" : "%r",
			   &msg->uri.host);
	if (pl_isset(&msg->from.dname)) {
		struct pl dn = msg->from.dname;

		if (dn.l >= 2 && dn.p[0] == '"' && dn.p[dn.l - 1] == '"') {
			++dn.p;
			dn.l -= 2;
		}
		err |= pl_strdup(&call->caller_name, &dn);
	}
	if (err)
		goto out;

	/* the name goes between quotes in our From */
	for (char *p = call->caller_name; p && *p; p++) {
		if (*p == '"' || *p == '\\')
			*p = ' ';
	}

out:
	if (err)
		mem_deref(call);
	else
		*callp = call;

	return err;
}


static void reject(struct b2bua *b, const struct sip_msg *msg, uint16_t scode,
		   const char *reason)
{
	log_info("INVITE from %J to %r rejected: %u %s", &msg->src,
		 &msg->uri.user, scode, reason);
	(void)sip_reply(b->sip, msg, scode, reason);
}


/* An identified caller's attempt that never became a call still goes
   into the call history, with the status it got as its cause */
static void refuse(struct b2bua *b, const struct sip_msg *msg,
		   const char *caller, uint16_t scode, const char *reason)
{
	struct store_cdr cdr;
	int err;

	reject(b, msg, scode, reason);

	memset(&cdr, 0, sizeof(cdr));
	pl_strcpy(&msg->callid, cdr.callid, sizeof(cdr.callid));
	str_ncpy(cdr.caller, caller, sizeof(cdr.caller));
	pl_strcpy(&msg->uri.user, cdr.callee, sizeof(cdr.callee));
	cdr.start_ms = cdr.end_ms = now_ms();
	str_ncpy(cdr.disposition,
		 scode == 480 || scode == 408 ? "NO ANSWER" : "FAILED",
		 sizeof(cdr.disposition));
	re_snprintf(cdr.cause, sizeof(cdr.cause), "%u", scode);

	err = store_cdr_add(b->st, &cdr);
	if (err)
		log_warn("cannot write call record: %m", err);
}


/* What every new call needs before its legs: the caller's SDP, a session
   timer, relay ports, the inbound trunk's call slot */
static int call_prepare(struct call **callp, struct b2bua *b,
			const struct sip_msg *msg, const char *caller,
			const char *callee, struct trunk *tin, struct pl *body)
{
	struct call *call = NULL;
	int err;

	err = msg_body(msg, body);
	if (err) {
		/* late offer (INVITE without SDP) is not relayed yet */
		refuse(b, msg, caller,
		       err == ENOENT || err == EPROTO ? 488 : 413,
		       err == ENOENT || err == EPROTO
			   ? "Not Acceptable Here"
			   : "Request Entity Too Large");
		return err;
	}

	err = call_alloc(&call, b, msg, caller, callee);
	if (err) {
		refuse(b, msg, caller, 500, "Server Internal Error");
		return err;
	}

	if (tin) {
		const struct store_trunk *tc = trunk_conf(tin);

		call->trunk_in = mem_ref(tin);
		str_ncpy(call->codecs_a, tc->codecs, sizeof(call->codecs_a));
		err = trunk_call_acquire(tin, false);
		if (err == EBUSY || err == EPERM) {
			log_info("trunk %s: %s", tc->name,
				 err == EBUSY ? "call limit reached"
					      : "inbound calls not allowed");
			refuse(b, msg, caller, err == EBUSY ? 503 : 403,
			       err == EBUSY ? "Service Unavailable"
					    : "Forbidden");
			goto out;
		}
		/* a trunk thought down that sends us a call is alive */
		call->slot_in = !err;
		err = 0;
	}

	err = session_timer_setup(call, msg);
	if (err) {
		refuse(b, msg, caller, 400, "Bad Session-Expires");
		goto out;
	}

	err = mcall_alloc(&call->mc, b->media, call->callid);
	if (err) {
		evlog_emit(EV_CAPACITY_LIMIT,
			   "no media ports left for call %s -> %s: %m", caller,
			   callee, err);
		refuse(b, msg, caller, 503, "Service Unavailable");
		goto out;
	}

	call->offer_a = mbuf_alloc(body->l);
	if (!call->offer_a) {
		err = ENOMEM;
		refuse(b, msg, caller, 500, "Server Internal Error");
		goto out;
	}
	(void)mbuf_write_pl(call->offer_a, body);

out:
	if (err)
		mem_deref(call);
	else
		*callp = call;

	return err;
}


/* The call is ours from now on: 100 Trying, held INVITE, ring timer */
static void call_hold(struct call *call, const struct sip_msg *msg)
{
	(void)sip_reply(call->b->sip, msg, 100, "Trying");
	call->inv = mem_ref((void *)msg);
	list_append(&call->b->calls, &call->le, call);
}


/* To the registered phones of an extension (from a phone or a trunk) */
static void call_to_extension(struct b2bua *b, const struct sip_msg *msg,
			      const char *caller, const char *callee,
			      struct trunk *tin)
{
	struct store_ext callee_ext;
	struct contacts *cs = NULL;
	struct call *call = NULL;
	struct mbuf *desc = NULL;
	struct pl body;
	uint32_t started = 0;
	int err;

	err = store_ext_get(b->st, callee, &callee_ext);
	if (err) {
		refuse(b, msg, caller, err == ENOENT ? 404 : 500,
		       err == ENOENT ? "Not Found" : "Server Internal Error");
		return;
	}

	cs = mem_zalloc(sizeof(*cs), NULL);
	if (!cs) {
		refuse(b, msg, caller, 500, "Server Internal Error");
		return;
	}

	(void)registrar_foreach(b->reg, callee, contact_collect, cs);
	if (!cs->n) {
		refuse(b, msg, caller, 480, "Temporarily Unavailable");
		goto out;
	}

	if (call_prepare(&call, b, msg, caller, callee, tin, &body))
		goto out;

	if (tin) {
		err = mneg_setup(call, NULL);
		if (!err)
			err = media_offer(call, MEDIA_SIDE_A, &body, &desc);
	}
	else {
		err =
		    sdp_forward(call, MEDIA_SIDE_A, &body, true, &desc, NULL);
	}
	if (err) {
		refuse(b, msg, caller,
		       err == EPROTO || err == EPERM ? 488 : 400,
		       err == EPROTO || err == EPERM ? "Not Acceptable Here"
						     : "Bad SDP");
		goto out;
	}

	call_hold(call, msg);
	log_info("call %s -> %s: ringing %u contact(s)", caller, callee,
		 cs->n);

	for (uint32_t i = 0; i < cs->n; i++) {
		if (!fork_start(call, &cs->v[i], desc))
			++started;
	}

	if (!started) {
		call->fail_code = 480;
		call_end(call, "no-contact-reachable");
		call = NULL;
		goto out;
	}

	tmr_start(&call->tmr_ring, RING_TIMEOUT_MS, ring_timeout, call);
	call = NULL; /* owned by b->calls now */

out:
	mem_deref(desc);
	mem_deref(cs);
	mem_deref(call);
}


/**
 * To a number outside: the first outbound rule that matches, its routes
 * in order (SPEC §3). diversion is the DID an inbound call was forwarded
 * from ("" for calls of our extensions).
 */
static void call_outbound(struct b2bua *b, const struct sip_msg *msg,
			  const char *caller, const char *dialled,
			  struct trunk *tin, const char *diversion)
{
	struct store_orule *rule;
	struct call *call = NULL;
	struct rule_find rf;
	struct pl body;
	bool emergency;
	char cause[32];

	rule = mem_zalloc(sizeof(*rule), NULL);
	if (!rule) {
		refuse(b, msg, caller, 500, "Server Internal Error");
		return;
	}

	emergency = route_is_emergency(b->cfg->emergency_numbers, dialled);
	if (emergency)
		evlog_emit(EV_EMERGENCY_DIALLED, "%s dialled %s", caller,
			   dialled);

	rf.caller = diversion[0] ? "" : caller;
	rf.dialled = dialled;
	rf.r = rule;
	rf.found = false;
	(void)store_orule_foreach(b->st, rule_first, &rf);

	if (!rf.found && emergency && b->trunks) {
		str_ncpy(rule->name, "emergency", sizeof(rule->name));
		(void)trunks_foreach(b->trunks, trunk_collect, rule);
		rf.found = rule->routec > 0;
	}

	if (!rf.found) {
		log_info("no outbound rule for %s -> %s", caller, dialled);
		refuse(b, msg, caller, 404, "Not Found");
		goto out;
	}

	if (call_prepare(&call, b, msg, caller, dialled, tin, &body))
		goto out;

	call->emergency = emergency;
	call->rule = *rule;
	str_ncpy(call->diversion, diversion, sizeof(call->diversion));

	call_hold(call, msg);
	log_info("call %s -> %s: outbound rule '%s'", caller, dialled,
		 rule->name);

	if (routes_try(call)) {
		if (!call->fail_code)
			call->fail_code = 503;
		re_snprintf(cause, sizeof(cause), "no-route-%u",
			    call->fail_code);
		call_end(call, cause);
		call = NULL;
		goto out;
	}

	tmr_start(&call->tmr_ring, RING_TIMEOUT_MS, ring_timeout, call);
	call = NULL;

out:
	mem_deref(call);
	mem_deref(rule);
}


static void call_route(struct b2bua *b, const struct sip_msg *msg,
		       const struct store_ext *ext)
{
	struct store_ext callee_ext;
	char callee[STORE_NUMBER_MAX];
	int err;

	if (!msg->uri.user.l || msg->uri.user.l >= sizeof(callee)) {
		refuse(b, msg, ext->number, 404, "Not Found");
		return;
	}
	pl_strcpy(&msg->uri.user, callee, sizeof(callee));

	/* an emergency number always goes out (SPEC §6), whatever extension
	   bears the same number; otherwise an extension's number wins over
	   any outbound rule */
	err = store_ext_get(b->st, callee, &callee_ext);
	if (b->trunks &&
	    (err == ENOENT ||
	     route_is_emergency(b->cfg->emergency_numbers, callee))) {
		call_outbound(b, msg, ext->number, callee, NULL, "");
		return;
	}

	call_to_extension(b, msg, ext->number, callee, NULL);
}


/* ---- calls from a trunk (SPEC §3 inbound rules) ---------------------- */

struct did_find {
	const char *trunk;
	const char *called;
	struct store_irule *r;
	int best;
};


static int did_best(const struct store_irule *r, void *arg)
{
	struct did_find *df = arg;
	int score;

	if (r->trunk[0] && strcmp(r->trunk, df->trunk))
		return 0;

	score = did_match(r->did, df->called);
	if (score > df->best) {
		df->best = score;
		*df->r = *r;
	}

	return 0;
}


struct week {
	struct store_hours days[7];
	struct store_holiday hol[64];
	size_t holc;
};


static int week_day(const struct store_hours *h, void *arg)
{
	struct week *w = arg;

	if (h->day < 7)
		w->days[h->day] = *h;

	return 0;
}


static int week_holiday(const struct store_holiday *h, void *arg)
{
	struct week *w = arg;

	if (w->holc < ARRAY_SIZE(w->hol))
		w->hol[w->holc++] = *h;

	return 0;
}


/* The destination of an inbound rule now (office hours, holidays) */
static const char *irule_dest(struct b2bua *b, const struct store_irule *r,
			      const char **period)
{
	struct week *w = mem_zalloc(sizeof(*w), NULL);
	enum hours_state hs = HOURS_OPEN;
	time_t now = time(NULL);
	struct tm tm;

	if (w && localtime_r(&now, &tm)) {
		for (uint32_t d = 0; d < 7; d++)
			w->days[d].day = d;
		(void)store_hours_foreach(b->st, week_day, w);
		(void)store_holiday_foreach(b->st, week_holiday, w);
		hs = hours_state_at(w->days, w->hol, w->holc, &tm);
	}
	mem_deref(w);

	if (hs == HOURS_HOLIDAY && r->dest_holiday[0]) {
		*period = "holiday";
		return r->dest_holiday;
	}
	if (hs != HOURS_OPEN && r->dest_closed[0]) {
		*period = hs == HOURS_HOLIDAY ? "holiday" : "outside hours";
		return r->dest_closed;
	}

	*period = hs == HOURS_OPEN ? "office hours" : "outside hours";
	return r->dest_open;
}


static void call_inbound(struct b2bua *b, const struct sip_msg *msg,
			 struct trunk *t)
{
	const struct store_trunk *tc = trunk_conf(t);
	char called[STORE_NUMBER_MAX], caller[STORE_NUMBER_MAX];
	struct store_irule *rule;
	const char *dest, *period;
	struct did_find df;
	struct dest d;
	char why[128];

	const struct pl *cu = &msg->uri.user;
	const struct pl *fu = &msg->from.uri.user;

	if (!fu->l || fu->l >= sizeof(caller))
		str_ncpy(caller, "anonymous", sizeof(caller));
	else
		pl_strcpy(fu, caller, sizeof(caller));

	if (!tc->inbound) {
		log_info("trunk %s: inbound calls not allowed", tc->name);
		refuse(b, msg, caller, 403, "Forbidden");
		return;
	}

	/* a registration trunk calls our Contact (its auth ID or nothing):
	   the DID is then in To */
	if (!cu->l || !pl_strcmp(cu, tc->auth_user))
		cu = &msg->to.uri.user;

	if (!cu->l || cu->l >= sizeof(called)) {
		refuse(b, msg, caller, 404, "Not Found");
		return;
	}
	pl_strcpy(cu, called, sizeof(called));

	/* the trunk's own DID list, when given, bounds what it may call */
	if (tc->dids[0] && !did_list_match(tc->dids, called)) {
		log_info("trunk %s: %s is not one of its DIDs (%s)", tc->name,
			 called, tc->dids);
		refuse(b, msg, caller, 404, "Not Found");
		return;
	}

	rule = mem_zalloc(sizeof(*rule), NULL);
	if (!rule) {
		refuse(b, msg, caller, 500, "Server Internal Error");
		return;
	}

	df.trunk = tc->name;
	df.called = called;
	df.r = rule;
	df.best = -1;
	(void)store_irule_foreach(b->st, did_best, &df);
	if (df.best < 0) {
		log_info("trunk %s: no inbound rule for DID %s", tc->name,
			 called);
		refuse(b, msg, caller, 404, "Not Found");
		goto out;
	}

	dest = irule_dest(b, rule, &period);
	if (dest_parse(&d, dest, why, sizeof(why))) {
		log_warn("inbound rule '%s': %s", rule->name, why);
		refuse(b, msg, caller, 500, "Server Internal Error");
		goto out;
	}

	log_info("trunk %s: %s -> %s matches rule '%s' (%s): %s", tc->name,
		 caller, called, rule->name, period, dest);

	switch (d.kind) {

	case DEST_EXTENSION:
		call_to_extension(b, msg, caller, d.number, t);
		break;

	case DEST_EXTERNAL:
		call_outbound(b, msg, caller, d.number, t, called);
		break;

	default:
		refuse(b, msg, caller, 603, "Decline");
		break;
	}

out:
	mem_deref(rule);
}


static void conn_handler(const struct sip_msg *msg, void *arg)
{
	struct b2bua *b = arg;
	struct store_ext ext;
	struct call *call;

	log_ctx_set(NULL);
	if (msg->callid.l < 64) {
		char cid[64];

		pl_strcpy(&msg->callid, cid, sizeof(cid));
		log_ctx_set(cid);
	}

	/* a retransmission of an INVITE we hold but have not accepted */
	call = call_find(b, &msg->callid, &msg->from.tag);
	if (call) {
		if (!call->a && call->state != CALL_ENDED)
			(void)sip_reply(b->sip, msg, 100, "Trying");
		goto out;
	}

	if (!pl_isset(&msg->from.tag)) {
		(void)sip_reply(b->sip, msg, 400, "Missing From Tag");
		goto out;
	}

	/* RFC 4028 §8.1: too short a session interval, whoever asks */
	if (session_too_small(b, msg)) {
		(void)sip_replyf(b->sip, msg, 422,
				 "Session Interval Too Small",
				 "Min-SE: %u\r\nContent-Length: 0\r\n\r\n",
				 b->cfg->session_min_se);
		goto out;
	}

	/* carriers do not authenticate: they are known by address */
	if (b->trunks) {
		struct trunk *t = trunks_match_inbound(b->trunks, msg);

		if (t) {
			call_inbound(b, msg, t);
			goto out;
		}
	}

	if (auth_caller(b, msg, &ext))
		goto out;

	call_route(b, msg, &ext);

out:
	log_ctx_clear();
}


/* ---- requests sipsess does not handle ------------------------------ */

static void handle_cancel(struct b2bua *b, const struct sip_msg *msg)
{
	struct call *call = call_find(b, &msg->callid, &msg->from.tag);

	if (!call || call->a || !call->inv) {
		(void)sip_reply(b->sip, msg, 481, "Call Does Not Exist");
		return;
	}

	log_ctx_set(call->callid);
	(void)sip_reply(b->sip, msg, 200, "OK");
	call->fail_code = 487;
	call->cancelled = true;
	call_end(call, "caller-cancel");
	log_ctx_clear();
}


/* RFC 3311 UPDATE inside a confirmed or early dialog */
static void handle_update(struct b2bua *b, const struct sip_msg *msg)
{
	struct sip_contact contact;
	enum media_side side;
	struct mbuf *desc = NULL;
	struct call *call;
	int err;

	call = call_find_dialog(b, msg, &side);
	if (!call) {
		(void)sip_reply(b->sip, msg, 481, "Call Does Not Exist");
		return;
	}

	log_ctx_set(call->callid);
	err = leg_offer(call, side, msg, &desc);
	if (err && err != ENOENT) {
		(void)sip_reply(b->sip, msg, 488, "Not Acceptable Here");
		goto out;
	}

	sip_contact_set(&contact,
			side == MEDIA_SIDE_A ? call->callee : call->caller,
			&msg->dst, msg->tp);
	(void)sip_replyf(b->sip, msg, 200, "OK",
			 "%H"
			 "%H"
			 "%s"
			 "Content-Length: %zu\r\n"
			 "\r\n"
			 "%b",
			 sip_contact_print, &contact, se_headers, call,
			 desc ? "Content-Type: application/sdp\r\n" : "",
			 desc ? desc->end : (size_t)0, desc ? desc->buf : NULL,
			 desc ? desc->end : (size_t)0);

out:
	mem_deref(desc);
	log_ctx_clear();
}


static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct b2bua *b = arg;

	if (!pl_strcmp(&msg->met, "CANCEL")) {
		handle_cancel(b, msg);
		return true;
	}

	if (!pl_strcmp(&msg->met, "UPDATE")) {
		handle_update(b, msg);
		return true;
	}

	return false;
}


static void b2bua_destructor(void *arg)
{
	struct b2bua *b = arg;

	list_flush(&b->calls);
	mem_deref(b->lsnr);
	mem_deref(b->sock);
	mem_deref(b->sip);
}


/**
 * Create the B2BUA
 *
 * @param bp    Pointer to allocated B2BUA
 * @param ss    SIP stack
 * @param auth  Digest authentication of callers
 * @param reg   Registrar, to find the callee's contacts
 * @param st    Store (extensions, call records)
 * @param media Media relay
 * @param cfg   Configuration, read live
 *
 * @return 0 if success, otherwise errorcode
 */
int b2bua_alloc(struct b2bua **bp, struct sipstack *ss, struct sipauth *auth,
		struct registrar *reg, struct store *st, struct media *media,
		const struct relais_config *cfg)
{
	struct b2bua *b;
	int err;

	if (!bp || !ss || !auth || !reg || !st || !media || !cfg)
		return EINVAL;

	b = mem_zalloc(sizeof(*b), b2bua_destructor);
	if (!b)
		return ENOMEM;

	b->sip = mem_ref(sipstack_sip(ss));
	b->auth = auth;
	b->reg = reg;
	b->st = st;
	b->media = media;
	b->cfg = cfg;

	/* ours first: CANCEL of held INVITEs must not reach sipsess */
	err = sip_listen(&b->lsnr, b->sip, true, request_handler, b);
	if (err)
		goto out;

	err = sipsess_listen(&b->sock, b->sip, 256, conn_handler, b);

out:
	if (err)
		mem_deref(b);
	else
		*bp = b;

	return err;
}


/**
 * Walk the calls in progress
 */
int b2bua_foreach(struct b2bua *b, b2bua_call_h *h, void *arg)
{
	if (!b || !h)
		return EINVAL;

	for (struct le *le = b->calls.head; le; le = le->next) {
		const struct call *call = le->data;
		struct b2bua_call_info ci;
		int err;

		ci.callid = call->callid;
		ci.caller = call->caller;
		ci.callee = call->callee;
		ci.state = state_names[call->state];
		ci.start_ms = call->start_ms;
		ci.answer_ms = call->answer_ms;
		ci.port_a = call->mc ? mcall_port(call->mc, MEDIA_SIDE_A) : 0;
		ci.port_b = call->mc ? mcall_port(call->mc, MEDIA_SIDE_B) : 0;

		err = h(&ci, arg);
		if (err)
			return err;
	}

	return 0;
}


/**
 * Let the B2BUA route calls to and from carrier trunks
 *
 * @param b  B2BUA
 * @param ts Trunks (NULL: extension-to-extension calls only)
 */
void b2bua_set_trunks(struct b2bua *b, struct trunks *ts)
{
	if (b)
		b->trunks = ts;
}


uint32_t b2bua_count(const struct b2bua *b)
{
	return b ? list_count(&b->calls) : 0;
}


/**
 * The media relay saw no RTP for the configured time: end the call
 *
 * @param b      B2BUA
 * @param callid Call-ID of leg A (the tag given to mcall_alloc)
 */
void b2bua_media_timeout(struct b2bua *b, const char *callid)
{
	for (struct le *le = b ? b->calls.head : NULL; le; le = le->next) {
		struct call *call = le->data;

		if (strcmp(call->callid, callid))
			continue;

		/* a ringing call has no media yet; answering re-arms the
		   relay's clock (mcall_set_peer) */
		if (!call->answer_ms)
			return;

		log_ctx_set(call->callid);
		log_info("no media for %u s", b->cfg->media_timeout);
		call->fail_code = 408;
		call_end(call, "media-timeout");
		log_ctx_clear();
		return;
	}
}


/**
 * End every call (SIGTERM): BYE or CANCEL to every leg, records written
 */
void b2bua_shutdown(struct b2bua *b)
{
	if (!b)
		return;

	while (b->calls.head) {
		struct call *call = b->calls.head->data;

		call->fail_code = call->fail_code ? call->fail_code : 503;
		call_end(call, "shutdown");
	}
}

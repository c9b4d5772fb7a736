/**
 * @file sbcreg.c  Registrations through the SBC
 *
 * A phone on the public side registers to the SBC; the SBC registers a
 * binding of its own at the PBX (or, in WAN mode, at the LAN element) from
 * the private stack: same user, host the PBX's address, a Call-ID of its
 * own per binding, and Contact sip:TOKEN@IP4:port. The PBX authenticates:
 * its 401/407 challenges go back to the phone and the phone's
 * Authorization header comes through verbatim (the digest covers the
 * user, realm, nonce and the digest's own uri, none of which we change).
 * The PBX later calls the phone at sip:TOKEN@IP4; sbccall.c finds the
 * binding with sbcreg_find() and sends the INVITE to the address and
 * over the flow the phone's REGISTER came by (NAT, TLS connection).
 *
 * One binding per (AOR user, phone Contact URI). Its token is an HMAC of
 * both under a key drawn at start, so it stays the same across
 * re-registrations; the PBX sees a Call-ID per binding with a CSeq that
 * keeps growing (RFC 3261 10.2.4, 10.3 step 7).
 */

#include <string.h>
#include <re.h>
#include "core/core.h"
#include "sip/sip.h"
#include "sbc/sbc_int.h"

#define DEBUG_MODULE "sbc"

enum {
	HASH_SIZE = 256,
	BINDINGS_MAX = 20000,
	PENDING_TTL = 120, /**< s: a binding never accepted goes   */
	DEFAULT_EXPIRES = 3600,
	REGS_MAX = 2000, /**< REGISTERs forwarded and unanswered */
	REASON_MAX = 64,
	TOKEN_KEY_LEN = 20,
};

/* A binding and what the PBX side of it needs */
struct regb {
	struct sbc_binding b; /* first: b.he.data points at the regb */
	char callid[40];      /* toward the PBX, stable               */
	char ftag[20];	      /* From tag toward the PBX              */
	uint32_t cseq;
	int64_t created;
	bool registered; /* the PBX accepted it at least once */
};

/* One REGISTER forwarded and not answered yet (in s->regs) */
struct regtx {
	struct le le;
	struct sbc *s;
	struct sip_msg *msg; /* the phone's request (referenced) */
	struct sip_strans *st;
	struct sip_request *req;
	struct regb *rb; /* NULL for a query */
	uint32_t expires;
	bool had_creds;
	bool star;
};

/* The REGISTER as the phone sent it */
struct regreq {
	struct pl user;
	struct pl contact; /* URI, or unset for a query or '*' */
	uint32_t expires;
	uint32_t ncontacts;
	bool star;
	bool bad;
};

/* HMAC key for tokens: drawn once per process */
static uint8_t token_key[TOKEN_KEY_LEN];
static bool token_key_set;


static int64_t now_s(void)
{
	return (int64_t)(sbc_now_ms() / 1000);
}


static const char *tp_lname(int tp)
{
	switch (tp) {

	case SIP_TRANSP_TCP:
		return "tcp";
	case SIP_TRANSP_TLS:
		return "tls";
	default:
		return "udp";
	}
}


static void regb_destructor(void *arg)
{
	struct regb *rb = arg;

	hash_unlink(&rb->b.he);
}


static void regtx_destructor(void *arg)
{
	struct regtx *tx = arg;

	list_unlink(&tx->le);
	/* libre cancels a pending request without calling us back */
	mem_deref(tx->req);
	/* never answered (shutdown): the transaction goes quietly */
	mem_deref(tx->st);
	mem_deref(tx->msg);
	mem_deref(tx->rb);
}


static void token_make(char *tok, size_t sz, const struct pl *user,
		       const struct pl *contact)
{
	uint8_t data[64 + 1 + 256], md[20];
	size_t n = 0;

	if (!token_key_set) {
		rand_bytes(token_key, sizeof(token_key));
		token_key_set = true;
	}

	memcpy(data, user->p, user->l);
	n += user->l;
	data[n++] = '\n';
	memcpy(data + n, contact->p, contact->l);
	n += contact->l;

	hmac_sha1(token_key, sizeof(token_key), data, n, md, sizeof(md));
	re_snprintf(tok, sz, "rw%w", md, (size_t)8);
}


static bool token_cmp_h(struct le *le, void *arg)
{
	const struct regb *rb = le->data;
	const struct pl *tok = arg;

	return !pl_strcmp(tok, rb->b.token);
}


static struct regb *regb_lookup(const struct sbc *s, const struct pl *tok)
{
	return list_ledata(hash_lookup(s->bindings, hash_joaat_pl(tok),
				       token_cmp_h, (void *)tok));
}


static bool total_h(struct le *le, void *arg)
{
	uint32_t *n = arg;
	(void)le;

	++*n;
	return false;
}


/* Bindings held, accepted by the PBX or not */
static uint32_t bindings_total(const struct sbc *s)
{
	uint32_t n = 0;

	(void)hash_apply(s->bindings, total_h, &n);

	return n;
}


/* The binding of (user, contact), created when new */
static int regb_get(struct regb **rbp, struct sbc *s, const struct pl *user,
		    const struct pl *contact)
{
	struct regb *rb;
	char tok[24];
	struct pl tokpl;

	token_make(tok, sizeof(tok), user, contact);
	pl_set_str(&tokpl, tok);

	rb = regb_lookup(s, &tokpl);
	if (rb && !pl_strcmp(user, rb->b.user) &&
	    !pl_strcmp(contact, rb->b.contact)) {
		*rbp = rb;
		return 0;
	}
	if (rb)
		return EEXIST; /* an HMAC collision: refuse, never mix */

	if (bindings_total(s) >= BINDINGS_MAX)
		return ENOSPC;

	rb = mem_zalloc(sizeof(*rb), regb_destructor);
	if (!rb)
		return ENOMEM;

	str_ncpy(rb->b.token, tok, sizeof(rb->b.token));
	pl_strcpy(user, rb->b.user, sizeof(rb->b.user));
	pl_strcpy(contact, rb->b.contact, sizeof(rb->b.contact));
	re_snprintf(rb->callid, sizeof(rb->callid), "%016llx%016llx",
		    rand_u64(), rand_u64());
	re_snprintf(rb->ftag, sizeof(rb->ftag), "%016llx", rand_u64());
	rb->cseq = rand_u16() + 1;
	rb->created = now_s();

	hash_append(s->bindings, hash_joaat_str(rb->b.token), &rb->b.he, rb);
	*rbp = rb;

	return 0;
}


static void regb_remove(struct regb *rb)
{
	if (!rb || !rb->b.he.list)
		return;

	hash_unlink(&rb->b.he);
	mem_deref(rb);
}


/* ---- the phone's request --------------------------------------------- */

static bool contact_h(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	struct regreq *rq = arg;
	struct sip_addr addr;
	struct pl v = hdr->val, val;
	uint32_t exp;
	(void)msg;

	++rq->ncontacts;
	text_trim(&v);
	if (!pl_strcmp(&v, "*")) {
		rq->star = true;
		return false;
	}

	if (rq->ncontacts > 1 || sip_addr_decode(&addr, &hdr->val) ||
	    addr.auri.l >= sizeof(((struct sbc_binding *)0)->contact)) {
		rq->bad = true;
		return true;
	}

	rq->contact = addr.auri;
	if (!msg_param_decode(&addr.params, "expires", &val)) {
		if (num_u32(&val, 0, UINT32_MAX, &exp)) {
			rq->bad = true;
			return true;
		}
		rq->expires = exp;
	}

	return false;
}


/* RFC 3261 10.3: one Contact (or '*' with Expires 0, or none: a query) */
static int regreq_decode(struct regreq *rq, const struct sbc *s,
			 const struct sip_msg *msg)
{
	uint32_t exp = DEFAULT_EXPIRES;

	memset(rq, 0, sizeof(*rq));
	rq->user = msg->to.uri.user;

	if (s->cfg && s->cfg->reg_default_expires)
		exp = s->cfg->reg_default_expires;
	if (pl_isset(&msg->expires) &&
	    num_u32(&msg->expires, 0, UINT32_MAX, &exp))
		return EBADMSG;
	rq->expires = exp;

	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_CONTACT, contact_h, rq);
	if (rq->bad)
		return EBADMSG;
	if (rq->star && (rq->ncontacts > 1 || rq->expires != 0))
		return EBADMSG;

	if (!rq->user.l ||
	    rq->user.l >= sizeof(((struct sbc_binding *)0)->user))
		return EPERM;

	return 0;
}


struct hdr_copy {
	struct mbuf *mb;
	int err;
};


static bool hdr_copy_h(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct hdr_copy *hc = arg;
	(void)msg;

	hc->err |= mbuf_printf(hc->mb, "%r: %r\r\n", &hdr->name, &hdr->val);

	return hc->err != 0;
}


static int hdrs_copy(struct mbuf *mb, const struct sip_msg *msg,
		     enum sip_hdrid id)
{
	struct hdr_copy hc = { .mb = mb, .err = 0 };

	(void)sip_msg_hdr_apply(msg, true, id, hdr_copy_h, &hc);

	return hc.err;
}


/* ---- answering the phone --------------------------------------------- */

static bool reason_ok(const struct pl *r)
{
	if (!r->l || r->l > REASON_MAX)
		return false;

	for (size_t i = 0; i < r->l; i++) {
		if (r->p[i] < 0x20 || r->p[i] > 0x7e)
			return false;
	}

	return true;
}


static void reply(struct regtx *tx, uint16_t scode, const char *reason,
		  struct mbuf *hdrs)
{
	struct sbc_side *pub = &tx->s->pub;
	int err;

	err = sip_treplyf(&tx->st, NULL, pub->sip, tx->msg, false, scode,
			  reason, "%bContent-Length: 0\r\n\r\n",
			  hdrs ? (const char *)hdrs->buf : "",
			  hdrs ? hdrs->end : (size_t)0);
	if (err)
		log_warn("%J: cannot answer REGISTER: %m", &tx->msg->src, err);

	sbc_guard_note_auth(tx->s, &tx->msg->src, tx->had_creds, scode);
}


struct granted {
	const char *token;
	uint32_t expires;
	bool found;
};


static bool granted_h(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	struct granted *g = arg;
	struct sip_addr addr;
	struct pl val;
	uint32_t exp;
	(void)msg;

	if (sip_addr_decode(&addr, &hdr->val))
		return false;
	if (pl_strcmp(&addr.uri.user, g->token))
		return false;

	if (!msg_param_decode(&addr.params, "expires", &val) &&
	    !num_u32(&val, 0, UINT32_MAX, &exp)) {
		g->expires = exp;
		g->found = true;
	}

	return true;
}


/* RFC 3261 10.2.4: the 2xx says how long each binding lasts */
static uint32_t granted_expires(const struct regtx *tx,
				const struct sip_msg *rsp)
{
	struct granted g = { .token = tx->rb->b.token };
	uint32_t exp;

	(void)sip_msg_hdr_apply(rsp, true, SIP_HDR_CONTACT, granted_h, &g);
	if (g.found)
		return g.expires;

	if (pl_isset(&rsp->expires) &&
	    !num_u32(&rsp->expires, 0, UINT32_MAX, &exp))
		return exp;

	return tx->expires;
}


struct star_rm {
	const struct sa *src;
	const char *user;
};


static bool star_rm_h(struct le *le, void *arg)
{
	struct regb *rb = le->data;
	struct star_rm *sr = arg;

	if (!strcmp(rb->b.user, sr->user) &&
	    sa_cmp(&rb->b.peer, sr->src, SA_ADDR))
		regb_remove(rb);

	return false;
}


static int contacts_print(struct mbuf *mb, const struct sbc *s,
			  const struct pl *user);


static void answer_ok(struct regtx *tx, const struct sip_msg *rsp)
{
	struct sbc *s = tx->s;
	struct regb *rb = tx->rb;
	struct mbuf *mb = mbuf_alloc(512);
	int64_t now = now_s();
	const struct sip_hdr *date;
	uint32_t exp = 0;
	int err = 0;

	if (!mb) {
		reply(tx, 500, "Server Internal Error", NULL);
		return;
	}

	date = sip_msg_hdr(rsp, SIP_HDR_DATE);
	if (date)
		err |= mbuf_printf(mb, "Date: %r\r\n", &date->val);

	if (rb)
		exp = tx->star ? 0 : granted_expires(tx, rsp);

	if (!rb) {
		/* a query: the phone sees its own bindings only */
		err |= contacts_print(mb, s, &tx->msg->to.uri.user);
	}
	else if (exp == 0) {
		log_info("%s: binding %s (%s) removed", rb->b.user,
			 rb->b.token, rb->b.contact);
		if (tx->star) {
			struct star_rm sr = { .src = &tx->msg->src,
					      .user = rb->b.user };

			(void)hash_apply(s->bindings, star_rm_h, &sr);
		}
		regb_remove(rb);
	}
	else {
		if (!rb->registered ||
		    !sa_cmp(&rb->b.peer, &tx->msg->src, SA_ALL))
			log_info("%s: registered from %J over %s as %s, "
				 "%u s",
				 rb->b.user, &tx->msg->src,
				 sip_transp_name(tx->msg->tp), rb->b.token,
				 exp);
		rb->b.peer = tx->msg->src;
		rb->b.tp = tx->msg->tp;
		rb->b.expires = now + exp;
		rb->registered = true;
		err |= mbuf_printf(mb, "Contact: <%s>;expires=%u\r\n",
				   rb->b.contact, exp);
	}

	if (err) {
		mem_deref(mb);
		reply(tx, 500, "Server Internal Error", NULL);
		return;
	}

	reply(tx, rsp->scode, "OK", mb);
	mem_deref(mb);
}


static void answer_fail(struct regtx *tx, const struct sip_msg *rsp)
{
	static const enum sip_hdrid pass[] = {
		SIP_HDR_WWW_AUTHENTICATE,
		SIP_HDR_PROXY_AUTHENTICATE,
		SIP_HDR_MIN_EXPIRES,
		SIP_HDR_DATE,
	};
	struct mbuf *mb = mbuf_alloc(512);
	char reason[REASON_MAX + 1] = "Rejected";
	uint16_t scode = rsp->scode;
	int err = 0;

	if (!mb) {
		reply(tx, 500, "Server Internal Error", NULL);
		return;
	}

	/* 3xx would lead the phone to the inside: refuse instead */
	if (scode < 400)
		scode = 403;
	else if (reason_ok(&rsp->reason))
		pl_strcpy(&rsp->reason, reason, sizeof(reason));

	for (size_t i = 0; i < ARRAY_SIZE(pass); i++)
		err |= hdrs_copy(mb, rsp, pass[i]);

	if (err)
		mbuf_reset(mb);

	if (scode == 401 || scode == 407)
		log_debug("%r: challenged (%u)", &tx->msg->to.uri.user, scode);
	else
		log_info("%r: REGISTER from %J refused: %u %s",
			 &tx->msg->to.uri.user, &tx->msg->src, scode, reason);

	reply(tx, scode, scode == rsp->scode ? reason : "Forbidden",
	      err ? NULL : mb);
	mem_deref(mb);
}


static void resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct regtx *tx = arg;

	if (!err && msg && msg->scode < 200)
		return;

	if (err || !msg) {
		log_warn("%r: REGISTER toward %J failed: %m",
			 &tx->msg->to.uri.user, &tx->s->conf.pbx, err);
		if (err == ETIMEDOUT)
			reply(tx, 408, "Request Timeout", NULL);
		else
			reply(tx, 503, "Service Unavailable", NULL);
	}
	else if (msg->scode < 300) {
		answer_ok(tx, msg);
	}
	else {
		answer_fail(tx, msg);
	}

	mem_deref(tx);
}


/* ---- forwarding ------------------------------------------------------ */

static int host_print(struct re_printf *pf, const struct sa *sa)
{
	if (sa_af(sa) == AF_INET6)
		return re_hprintf(pf, "[%j]", sa);

	return re_hprintf(pf, "%j", sa);
}


static int forward(struct regtx *tx)
{
	struct sbc *s = tx->s;
	const struct sa *pbx = &s->conf.pbx;
	struct sa nat = *sbc_side_nat(s, &s->priv), la;
	const char *tp = tp_lname(s->conf.pbx_tp);
	struct regb *rb = tx->rb;
	struct mbuf *mb = NULL;
	char uri[128], callid[40];
	uint32_t cseq;
	int err;

	mb = mbuf_alloc(512);
	if (!mb)
		return ENOMEM;

	re_snprintf(uri, sizeof(uri), "sip:%J;transport=%s", pbx, tp);

	/* the port of the listener of that transport (TCP may differ) */
	if (!sip_transp_laddr(s->priv.sip, &la, s->conf.pbx_tp, NULL))
		sa_set_port(&nat, sa_port(&la));

	if (rb) {
		str_ncpy(callid, rb->callid, sizeof(callid));
		cseq = ++rb->cseq;
		err = mbuf_printf(mb, "Contact: <sip:%s@%J;transport=%s>\r\n",
				  rb->b.token, &nat, tp);
	}
	else {
		/* a query has no binding: a Call-ID of its own */
		re_snprintf(callid, sizeof(callid), "%016llx%016llx",
			    rand_u64(), rand_u64());
		cseq = 1;
		err = 0;
	}

	err |= hdrs_copy(mb, tx->msg, SIP_HDR_AUTHORIZATION);
	err |= hdrs_copy(mb, tx->msg, SIP_HDR_PROXY_AUTHORIZATION);
	if (err)
		goto out;

	err =
	    sip_requestf(&tx->req, s->priv.sip, true, "REGISTER", uri, NULL,
			 NULL, NULL, resp_h, tx,
			 "To: <sip:%r@%H>\r\n"
			 "From: <sip:%r@%H>;tag=%s\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u REGISTER\r\n"
			 "Max-Forwards: 70\r\n"
			 "Expires: %u\r\n"
			 "User-Agent: Relais SBC\r\n"
			 "%b"
			 "Content-Length: 0\r\n\r\n",
			 &tx->msg->to.uri.user, host_print, pbx,
			 &tx->msg->to.uri.user, host_print, pbx,
			 rb ? rb->ftag : "q", callid, cseq,
			 rb ? tx->expires : 0, (const char *)mb->buf, mb->end);

out:
	mem_deref(mb);
	return err;
}


static struct regb *star_binding(struct sbc *s, const struct sip_msg *msg);


static int regtx_start(struct sbc *s, const struct sip_msg *msg,
		       const struct regreq *rq)
{
	struct regtx *tx;
	int err;

	if (list_count(&s->regs) >= REGS_MAX)
		return EBUSY;

	tx = mem_zalloc(sizeof(*tx), regtx_destructor);
	if (!tx)
		return ENOMEM;

	tx->s = s;
	tx->msg = mem_ref((void *)msg);
	tx->expires = rq->star ? 0 : rq->expires;
	tx->star = rq->star;
	tx->had_creds = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION) ||
			sip_msg_hdr(msg, SIP_HDR_PROXY_AUTHORIZATION);
	list_append(&s->regs, &tx->le, tx);

	/* retransmissions are absorbed by the transaction from now on */
	err = sip_strans_alloc(&tx->st, s->pub.sip, msg, NULL, NULL);
	if (err)
		goto out;

	if (rq->star) {
		tx->rb = mem_ref(star_binding(s, msg));
	}
	else if (pl_isset(&rq->contact)) {
		struct regb *rb;

		err = regb_get(&rb, s, &rq->user, &rq->contact);
		if (err)
			goto out;
		tx->rb = mem_ref(rb);
	}

	err = forward(tx);

out:
	if (err) {
		/* the caller answers statelessly: drop our transaction */
		tx->st = mem_deref(tx->st);
		mem_deref(tx);
	}

	return err;
}


struct star_find {
	const struct sip_msg *msg;
	struct regb *same_src;
	struct regb *any;
};


static bool star_find_h(struct le *le, void *arg)
{
	struct regb *rb = le->data;
	struct star_find *sf = arg;

	if (pl_strcmp(&sf->msg->to.uri.user, rb->b.user))
		return false;

	if (!sf->any)
		sf->any = rb;
	if (sa_cmp(&rb->b.peer, &sf->msg->src, SA_ADDR)) {
		sf->same_src = rb;
		return true;
	}

	return false;
}


/* Contact '*': the binding of this user from this phone, if any */
static struct regb *star_binding(struct sbc *s, const struct sip_msg *msg)
{
	struct star_find sf = { .msg = msg };

	(void)hash_apply(s->bindings, star_find_h, &sf);

	return sf.same_src ? sf.same_src : sf.any;
}


struct contacts_ctx {
	struct mbuf *mb;
	const struct pl *user;
	int64_t now;
	int err;
};


static bool contacts_h(struct le *le, void *arg)
{
	const struct regb *rb = le->data;
	struct contacts_ctx *cc = arg;

	if (!rb->registered || rb->b.expires <= cc->now ||
	    pl_strcmp(cc->user, rb->b.user))
		return false;

	cc->err |=
	    mbuf_printf(cc->mb, "Contact: <%s>;expires=%lld\r\n",
			rb->b.contact, (long long)(rb->b.expires - cc->now));

	return cc->err != 0;
}


static int contacts_print(struct mbuf *mb, const struct sbc *s,
			  const struct pl *user)
{
	struct contacts_ctx cc = { .mb = mb, .user = user, .now = now_s() };

	(void)hash_apply(s->bindings, contacts_h, &cc);

	return cc.err;
}


static void refuse(struct sip *sip, const struct sip_msg *msg, int err)
{
	switch (err) {

	case EBADMSG:
		(void)sip_reply(sip, msg, 400, "Bad Request");
		break;

	case EPERM:
	case EEXIST:
		(void)sip_reply(sip, msg, 403, "Forbidden");
		break;

	default:
		(void)sip_reply(sip, msg, 503, "Service Unavailable");
		break;
	}
}


static bool pub_req_h(const struct sip_msg *msg, void *arg)
{
	struct sbc *s = arg;
	struct regreq rq;
	int err;

	if (pl_strcmp(&msg->met, "REGISTER"))
		return false;

	++s->registers_total;

	if (s->closing) {
		(void)sip_reply(s->pub.sip, msg, 503, "Service Unavailable");
		return true;
	}

	err = regreq_decode(&rq, s, msg);
	if (!err && rq.star && !star_binding(s, msg)) {
		/* nothing of this phone is bound: nothing to remove */
		(void)sip_reply(s->pub.sip, msg, 200, "OK");
		return true;
	}
	if (!err)
		err = regtx_start(s, msg, &rq);

	if (err) {
		log_info("%J: REGISTER for '%r' refused: %m", &msg->src,
			 &msg->to.uri.user, err);
		refuse(s->pub.sip, msg, err);
		if (err == EPERM)
			sbc_guard_note_auth(s, &msg->src, false, 403);
	}

	return true;
}


/* The PBX never registers toward the SBC */
static bool priv_req_h(const struct sip_msg *msg, void *arg)
{
	struct sbc *s = arg;

	if (pl_strcmp(&msg->met, "REGISTER"))
		return false;

	log_info("%J: REGISTER on the private side refused", &msg->src);
	(void)sip_reply(s->priv.sip, msg, 403, "Forbidden");

	return true;
}


/**
 * Start handling REGISTER requests on both sides
 *
 * @param s SBC (both stacks set up)
 *
 * @return 0 if success, otherwise errorcode
 */
int sbcreg_init(struct sbc *s)
{
	int err;

	if (!s || !s->pub.sip || !s->priv.sip)
		return EINVAL;

	if (!s->bindings) {
		err = hash_alloc(&s->bindings, HASH_SIZE);
		if (err)
			return err;
	}

	err = sip_listen(&s->pub.lsnr_reg, s->pub.sip, true, pub_req_h, s);
	if (err)
		return err;

	return sip_listen(&s->priv.lsnr_reg, s->priv.sip, true, priv_req_h, s);
}


/**
 * Stop: forget REGISTERs in progress and every binding
 *
 * @param s SBC
 */
void sbcreg_close(struct sbc *s)
{
	if (!s)
		return;

	s->pub.lsnr_reg = mem_deref(s->pub.lsnr_reg);
	s->priv.lsnr_reg = mem_deref(s->priv.lsnr_reg);
	list_flush(&s->regs);
	hash_flush(s->bindings);
	s->bindings = mem_deref(s->bindings);
}


/**
 * The registered binding the PBX calls by its token
 *
 * @param s     SBC
 * @param token Request-URI user of the PBX's INVITE
 *
 * @return The binding, or NULL when unknown or expired
 */
struct sbc_binding *sbcreg_find(const struct sbc *s, const struct pl *token)
{
	struct regb *rb;

	if (!s || !s->bindings || !pl_isset(token))
		return NULL;

	rb = regb_lookup(s, token);
	if (!rb || !rb->registered || rb->b.expires <= now_s())
		return NULL;

	return &rb->b;
}


static bool expire_h(struct le *le, void *arg)
{
	struct regb *rb = le->data;
	const int64_t *now = arg;

	if (rb->registered && rb->b.expires <= *now) {
		log_info("%s: binding %s expired", rb->b.user, rb->b.token);
		regb_remove(rb);
	}
	else if (!rb->registered && rb->created + PENDING_TTL <= *now) {
		regb_remove(rb);
	}

	return false;
}


/**
 * Drop bindings whose registration ran out, and bindings the PBX never
 * accepted
 *
 * @param s   SBC
 * @param now Unix time in seconds
 */
void sbcreg_expire(struct sbc *s, int64_t now)
{
	if (!s || !s->bindings)
		return;

	(void)hash_apply(s->bindings, expire_h, &now);
}


static bool count_h(struct le *le, void *arg)
{
	const struct regb *rb = le->data;
	uint32_t *n = arg;

	if (rb->registered)
		++*n;

	return false;
}


/**
 * Phones registered through the SBC
 *
 * @param s SBC
 *
 * @return Number of registered bindings
 */
uint32_t sbcreg_count(const struct sbc *s)
{
	uint32_t n = 0;

	if (!s || !s->bindings)
		return 0;

	(void)hash_apply(s->bindings, count_h, &n);

	return n;
}

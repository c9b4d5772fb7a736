/**
 * @file sipfilter.c  First look at every request: reject what is malformed,
 *                    answer OPTIONS, refuse extensions we do not support
 *
 * Registered before the registrar and the B2BUA, so they only ever see
 * requests with the mandatory headers of RFC 3261 §8.1.1 present and sane.
 */

#include <string.h>
#include <re.h>
#include "core/core.h"
#include "sip/sip.h"

#define DEBUG_MODULE "sip"

#define ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER"

struct sipfilter {
	struct sip *sip;
	struct sip_lsnr *lsnr;
};

/* option tags we implement (RFC 3261 §8.2.2.3) */
static const char *supported[] = { "timer" };


static void destructor(void *arg)
{
	struct sipfilter *f = arg;

	mem_deref(f->lsnr);
	mem_deref(f->sip);
}


static bool tag_supported(const struct pl *tag)
{
	for (size_t i = 0; i < ARRAY_SIZE(supported); i++) {
		if (!pl_strcasecmp(tag, supported[i]))
			return true;
	}

	return false;
}


struct unsup {
	struct pl tag;
	bool found;
};


static bool require_handler(const struct sip_hdr *hdr,
			    const struct sip_msg *msg, void *arg)
{
	struct unsup *u = arg;
	struct pl v = hdr->val;
	(void)msg;

	text_trim(&v);
	if (!v.l || tag_supported(&v))
		return false;

	u->tag = v;
	u->found = true;
	return true;
}


/* RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards, Via */
static const char *check_mandatory(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	struct pl num;
	uint32_t n;

	if (!pl_isset(&msg->callid))
		return "Missing Call-ID";
	if (!sip_msg_hdr(msg, SIP_HDR_FROM) || !pl_isset(&msg->from.auri))
		return "Missing From";
	if (!sip_msg_hdr(msg, SIP_HDR_TO) || !pl_isset(&msg->to.auri))
		return "Missing To";
	hdr = sip_msg_hdr(msg, SIP_HDR_CSEQ);
	if (!hdr)
		return "Missing CSeq";
	/* RFC 3261 §8.1.1.5: a 32-bit number below 2**31 */
	if (re_regex(hdr->val.p, hdr->val.l, "[^ \t]+", &num) ||
	    num_u32(&num, 0, 0x7fffffff, &n))
		return "Bad CSeq";
	if (pl_cmp(&msg->cseq.met, &msg->met))
		return "CSeq Method Mismatch";
	if (!sip_msg_hdr(msg, SIP_HDR_VIA) || !pl_isset(&msg->via.branch))
		return "Bad Via";
	if (pl_isset(&msg->maxfwd) && num_u32(&msg->maxfwd, 0, 255, &n))
		return "Bad Max-Forwards";
	if (pl_isset(&msg->clen) &&
	    (num_u32(&msg->clen, 0, 65535, &n) || n != mbuf_get_left(msg->mb)))
		return "Bad Content-Length";
	if (pl_isset(&msg->expires) &&
	    num_u32(&msg->expires, 0, UINT32_MAX, &n))
		return "Bad Expires";

	return NULL;
}


static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct sipfilter *f = arg;
	const char *bad;
	struct unsup u;
	uint32_t mf;

	bad = check_mandatory(msg);
	if (bad) {
		log_info("%J: %r rejected: %s", &msg->src, &msg->met, bad);
		if (pl_strcmp(&msg->met, "ACK"))
			(void)sip_reply(f->sip, msg, 400, bad);
		return true;
	}

	if (pl_isset(&msg->maxfwd) && !num_u32(&msg->maxfwd, 0, 0, &mf) &&
	    pl_strcmp(&msg->met, "ACK")) {
		(void)sip_reply(f->sip, msg, 483, "Too Many Hops");
		return true;
	}

	if (!pl_strcmp(&msg->met, "ACK") || !pl_strcmp(&msg->met, "CANCEL"))
		return false;

	memset(&u, 0, sizeof(u));
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_REQUIRE, require_handler,
				&u);
	if (u.found) {
		(void)sip_replyf(f->sip, msg, 420, "Bad Extension",
				 "Unsupported: %r\r\n"
				 "Content-Length: 0\r\n\r\n",
				 &u.tag);
		return true;
	}

	if (!pl_strcmp(&msg->met, "OPTIONS") && !pl_isset(&msg->to.tag)) {
		(void)sip_replyf(f->sip, msg, 200, "OK",
				 "Allow: " ALLOW "\r\n"
				 "Accept: application/sdp\r\n"
				 "Supported: timer\r\n"
				 "Content-Length: 0\r\n\r\n");
		return true;
	}

	/* we never send reliable provisional responses (RFC 3262) */
	if (!pl_strcmp(&msg->met, "PRACK")) {
		(void)sip_reply(f->sip, msg, 481, "Call Does Not Exist");
		return true;
	}

	return false;
}


/**
 * Install the request filter; call before any other sip_listen()
 */
int sipfilter_alloc(struct sipfilter **fp, struct sipstack *ss)
{
	struct sipfilter *f;
	int err;

	if (!fp || !ss)
		return EINVAL;

	f = mem_zalloc(sizeof(*f), destructor);
	if (!f)
		return ENOMEM;

	f->sip = mem_ref(sipstack_sip(ss));
	err = sip_listen(&f->lsnr, f->sip, true, request_handler, f);
	if (err)
		mem_deref(f);
	else
		*fp = f;

	return err;
}

/**
 * @file registrar.c  SIP registrar (RFC 3261 §10.3) with digest auth
 *
 * The store is the registrar's memory: bindings are read from and written to
 * it on every REGISTER, so they survive a restart and another node can read
 * them (SPEC §10). Runs on the SIP thread.
 */

#include <string.h>
#include <time.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"

#define DEBUG_MODULE "registrar"

enum {
	PURGE_INTERVAL_MS = 10000,
	MAX_CONTACTS_IN_REQUEST = 16,
};

struct registrar {
	struct sip *sip;
	struct sip_lsnr *lsnr;
	struct sipauth *auth;
	struct store *st;
	const struct relais_config *cfg;
	struct tmr tmr;
};

/* One Contact of a REGISTER request, validated */
struct newc {
	struct pl uri;
	uint32_t expires;
};

struct reqc {
	struct newc v[MAX_CONTACTS_IN_REQUEST];
	uint32_t n;
	bool star;
	int err;
};

/* Bindings currently stored for one extension */
struct cur {
	struct store_contact v[100];
	uint32_t n;
};


static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}


static void destructor(void *arg)
{
	struct registrar *r = arg;

	tmr_cancel(&r->tmr);
	mem_deref(r->lsnr);
	mem_deref(r->sip);
}


static const char *transp_str(enum sip_transp tp)
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


static int cur_collect(const struct store_contact *c, void *arg)
{
	struct cur *cur = arg;

	if (cur->n >= ARRAY_SIZE(cur->v))
		return 0;

	cur->v[cur->n++] = *c;
	return 0;
}


static int cur_load(struct registrar *r, const char *ext, struct cur *cur)
{
	cur->n = 0;
	return store_contact_foreach(r->st, ext, cur_collect, cur);
}


static uint32_t cur_live(const struct cur *cur, int64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < cur->n; i++) {
		if (cur->v[i].expires > now)
			++n;
	}

	return n;
}


/* RFC 3261 10.3 step 6: expires from the contact, else Expires header */
static int contact_expires(struct registrar *r, const struct sip_msg *msg,
			   const struct pl *params, uint32_t *exp)
{
	struct pl val;

	if (!msg_param_decode(params, "expires", &val))
		return num_u32(&val, 0, UINT32_MAX, exp) ? EBADMSG : 0;

	if (pl_isset(&msg->expires))
		return num_u32(&msg->expires, 0, UINT32_MAX, exp) ? EBADMSG
								  : 0;

	*exp = r->cfg->reg_default_expires;
	return 0;
}


struct parse_ctx {
	struct registrar *r;
	struct reqc *rc;
};


static bool contact_handler(const struct sip_hdr *hdr,
			    const struct sip_msg *msg, void *arg)
{
	struct parse_ctx *pc = arg;
	struct reqc *rc = pc->rc;
	struct sip_addr addr;
	struct pl v = hdr->val;

	text_trim(&v);
	if (!pl_strcmp(&v, "*")) {
		rc->star = true;
		return false;
	}

	if (sip_addr_decode(&addr, &hdr->val)) {
		rc->err = EBADMSG;
		return true;
	}

	if (rc->n >= ARRAY_SIZE(rc->v)) {
		rc->err = E2BIG;
		return true;
	}

	if (addr.auri.l >= STORE_URI_MAX) {
		rc->err = EBADMSG;
		return true;
	}

	rc->v[rc->n].uri = addr.auri;
	if (contact_expires(pc->r, msg, &addr.params, &rc->v[rc->n].expires)) {
		rc->err = EBADMSG;
		return true;
	}
	++rc->n;

	return false;
}


static int print_contacts(struct re_printf *pf, const struct cur *cur)
{
	const int64_t now = now_s();
	int err = 0;

	for (uint32_t i = 0; i < cur->n; i++) {
		if (cur->v[i].expires <= now)
			continue;
		err |= re_hprintf(pf, "Contact: <%s>;expires=%lld\r\n",
				  cur->v[i].uri,
				  (long long)(cur->v[i].expires - now));
	}

	return err;
}


static void binding_fill(struct store_contact *c, const char *ext,
			 const struct pl *uri, uint32_t expires,
			 const struct sip_msg *msg)
{
	const struct sip_hdr *ua;

	memset(c, 0, sizeof(*c));
	str_ncpy(c->ext, ext, sizeof(c->ext));
	pl_strcpy(uri, c->uri, sizeof(c->uri));
	re_snprintf(c->received, sizeof(c->received), "%J", &msg->src);
	str_ncpy(c->transport, transp_str(msg->tp), sizeof(c->transport));
	ua = sip_msg_hdr(msg, SIP_HDR_USER_AGENT);
	if (ua && ua->val.l < sizeof(c->user_agent))
		pl_strcpy(&ua->val, c->user_agent, sizeof(c->user_agent));
	if (msg->callid.l < sizeof(c->callid))
		pl_strcpy(&msg->callid, c->callid, sizeof(c->callid));
	c->cseq = msg->cseq.num;
	c->updated = now_s();
	c->expires = c->updated + expires;
}


/* When full, the binding that expires first makes room (a phone that
 * rebooted and registers from a new port must not be locked out). */
static int evict_oldest(struct registrar *r, struct cur *cur)
{
	uint32_t oldest = 0;

	for (uint32_t i = 1; i < cur->n; i++) {
		if (cur->v[i].expires < cur->v[oldest].expires)
			oldest = i;
	}

	log_info("%s: contact limit reached, dropping %s", cur->v[oldest].ext,
		 cur->v[oldest].uri);

	return store_contact_remove(r->st, cur->v[oldest].ext,
				    cur->v[oldest].uri);
}


static int apply_bindings(struct registrar *r, const char *ext,
			  const struct reqc *rc, const struct sip_msg *msg)
{
	struct cur *cur;
	int err = 0;

	cur = mem_zalloc(sizeof(*cur), NULL);
	if (!cur)
		return ENOMEM;

	for (uint32_t i = 0; i < rc->n && !err; i++) {
		const struct newc *nc = &rc->v[i];
		struct store_contact c;
		bool known = false;

		err = cur_load(r, ext, cur);
		if (err)
			break;

		for (uint32_t j = 0; j < cur->n; j++) {
			if (!pl_strcmp(&nc->uri, cur->v[j].uri))
				known = true;
		}

		if (nc->expires == 0) {
			char uri[STORE_URI_MAX];

			pl_strcpy(&nc->uri, uri, sizeof(uri));
			if (known)
				err = store_contact_remove(r->st, ext, uri);
			continue;
		}

		if (!known &&
		    cur_live(cur, now_s()) >= r->cfg->reg_max_contacts) {
			err = evict_oldest(r, cur);
			if (err)
				break;
		}

		binding_fill(&c, ext, &nc->uri, nc->expires, msg);
		err = store_contact_put(r->st, &c);
	}

	mem_deref(cur);
	return err;
}


static void reg_event(const char *ext, uint32_t before, uint32_t after,
		      const struct sip_msg *msg)
{
	if (!before && after)
		evlog_emit(EV_EXT_REGISTRATION, "%s registered from %J", ext,
			   &msg->src);
	else if (before && !after)
		evlog_emit(EV_EXT_REGISTRATION, "%s unregistered", ext);
}


static void reply_ok(struct registrar *r, const struct sip_msg *msg,
		     const char *ext)
{
	struct cur *cur = mem_zalloc(sizeof(*cur), NULL);

	if (!cur || cur_load(r, ext, cur)) {
		(void)sip_reply(r->sip, msg, 500, "Server Internal Error");
		mem_deref(cur);
		return;
	}

	(void)sip_replyf(r->sip, msg, 200, "OK",
			 "%H"
			 "Date: %H\r\n"
			 "Content-Length: 0\r\n"
			 "\r\n",
			 print_contacts, cur, fmt_gmtime, NULL);
	mem_deref(cur);
}


static bool authenticate(struct registrar *r, const struct sip_msg *msg,
			 struct store_ext *ext)
{
	int err = sipauth_check(r->auth, msg, false, ext);

	switch (err) {

	case 0:
		if (pl_strcmp(&msg->to.uri.user, ext->number)) {
			log_info("%J: %s may not register %r", &msg->src,
				 ext->number, &msg->to.uri.user);
			(void)sip_reply(r->sip, msg, 403, "Forbidden");
			return false;
		}
		return true;

	case ENODATA:
		(void)sipauth_challenge(r->auth, r->sip, msg, false, false);
		return false;

	case ETIMEDOUT:
		(void)sipauth_challenge(r->auth, r->sip, msg, false, true);
		return false;

	case EBADMSG:
		(void)sip_reply(r->sip, msg, 400, "Bad Request");
		return false;

	default:
		(void)sip_reply(r->sip, msg, 403, "Forbidden");
		return false;
	}
}


static void handle_register(struct registrar *r, const struct sip_msg *msg)
{
	struct store_ext ext;
	struct parse_ctx pc;
	struct reqc *rc;
	struct cur *cur = NULL;
	uint32_t before = 0, after = 0;
	int err;

	if (!authenticate(r, msg, &ext))
		return;

	rc = mem_zalloc(sizeof(*rc), NULL);
	cur = mem_zalloc(sizeof(*cur), NULL);
	if (!rc || !cur) {
		(void)sip_reply(r->sip, msg, 500, "Server Internal Error");
		goto out;
	}

	pc.r = r;
	pc.rc = rc;
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_CONTACT, contact_handler,
				&pc);
	if (rc->err) {
		(void)sip_reply(r->sip, msg, rc->err == E2BIG ? 403 : 400,
				rc->err == E2BIG ? "Too Many Contacts"
						 : "Bad Contact");
		goto out;
	}

	if (cur_load(r, ext.number, cur)) {
		(void)sip_reply(r->sip, msg, 500, "Server Internal Error");
		goto out;
	}
	before = cur_live(cur, now_s());

	/* RFC 3261 10.3 step 6: "*" only with Expires: 0 and alone */
	if (rc->star) {
		uint32_t exp;

		if (rc->n || !pl_isset(&msg->expires) ||
		    num_u32(&msg->expires, 0, 0, &exp)) {
			(void)sip_reply(r->sip, msg, 400, "Bad Request");
			goto out;
		}
		err = store_contact_remove_ext(r->st, ext.number);
		if (err && err != ENOENT) {
			(void)sip_reply(r->sip, msg, 500,
					"Server Internal Error");
			goto out;
		}
		log_info("%s: all contacts removed", ext.number);
	}

	for (uint32_t i = 0; i < rc->n; i++) {
		uint32_t e = rc->v[i].expires;

		if (e && e < r->cfg->reg_min_expires) {
			(void)sip_replyf(r->sip, msg, 423,
					 "Interval Too Brief",
					 "Min-Expires: %u\r\n"
					 "Content-Length: 0\r\n\r\n",
					 r->cfg->reg_min_expires);
			goto out;
		}
		if (e > r->cfg->reg_max_expires)
			rc->v[i].expires = r->cfg->reg_max_expires;
	}

	err = apply_bindings(r, ext.number, rc, msg);
	if (err) {
		log_warn("%s: cannot store binding: %m", ext.number, err);
		(void)sip_reply(r->sip, msg, 500, "Server Internal Error");
		goto out;
	}

	if (!cur_load(r, ext.number, cur))
		after = cur_live(cur, now_s());

	log_debug("%s: %u contact(s) from %J", ext.number, after, &msg->src);
	reg_event(ext.number, before, after, msg);
	reply_ok(r, msg, ext.number);

out:
	mem_deref(rc);
	mem_deref(cur);
}


static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct registrar *r = arg;

	if (pl_strcmp(&msg->met, "REGISTER"))
		return false;

	log_ctx_set("REGISTER");
	handle_register(r, msg);
	log_ctx_clear();

	return true;
}


struct expire_ctx {
	int64_t now;
	char last[STORE_NUMBER_MAX];
	bool last_live;
	bool last_expired;
};


static void expire_flush(struct expire_ctx *ec)
{
	if (ec->last[0] && ec->last_expired && !ec->last_live)
		evlog_emit(EV_EXT_REGISTRATION, "%s unregistered (expired)",
			   ec->last);
}


static int expire_check(const struct store_contact *c, void *arg)
{
	struct expire_ctx *ec = arg;

	if (strcmp(ec->last, c->ext)) {
		expire_flush(ec);
		str_ncpy(ec->last, c->ext, sizeof(ec->last));
		ec->last_live = false;
		ec->last_expired = false;
	}

	if (c->expires > ec->now)
		ec->last_live = true;
	else
		ec->last_expired = true;

	return 0;
}


static void purge_handler(void *arg)
{
	struct registrar *r = arg;
	struct expire_ctx ec;
	int err;

	memset(&ec, 0, sizeof(ec));
	ec.now = now_s();

	(void)store_contact_foreach(r->st, NULL, expire_check, &ec);
	expire_flush(&ec);

	err = store_contact_purge(r->st, ec.now);
	if (err)
		log_warn("cannot purge expired contacts: %m", err);

	tmr_start(&r->tmr, PURGE_INTERVAL_MS, purge_handler, r);
}


/**
 * Create the registrar and start answering REGISTER
 *
 * @param rp   Pointer to allocated registrar
 * @param ss   SIP stack
 * @param auth Digest authentication
 * @param st   Store (bindings live there)
 * @param cfg  Configuration, read live (SIGHUP may change expiry limits)
 *
 * @return 0 if success, otherwise errorcode
 */
int registrar_alloc(struct registrar **rp, struct sipstack *ss,
		    struct sipauth *auth, struct store *st,
		    const struct relais_config *cfg)
{
	struct registrar *r;
	int err;

	if (!rp || !ss || !auth || !st || !cfg)
		return EINVAL;

	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;

	r->sip = mem_ref(sipstack_sip(ss));
	r->auth = auth;
	r->st = st;
	r->cfg = cfg;
	tmr_init(&r->tmr);

	err = sip_listen(&r->lsnr, r->sip, true, request_handler, r);
	if (err)
		goto out;

	/* bindings that expired while we were down go at once */
	purge_handler(r);

out:
	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}


struct live_ctx {
	registrar_contact_h *h;
	void *arg;
	int64_t now;
};


static int live_filter(const struct store_contact *c, void *arg)
{
	struct live_ctx *lc = arg;

	if (c->expires <= lc->now)
		return 0;

	return lc->h(c, lc->arg);
}


/**
 * Walk the live (unexpired) bindings
 *
 * @param r   Registrar
 * @param ext Extension, or NULL for all
 * @param h   Called for each binding; non-zero stops the walk
 * @param arg Handler argument
 *
 * @return 0 if success, otherwise errorcode or the handler's value
 */
int registrar_foreach(struct registrar *r, const char *ext,
		      registrar_contact_h *h, void *arg)
{
	struct live_ctx lc;

	if (!r || !h)
		return EINVAL;

	lc.h = h;
	lc.arg = arg;
	lc.now = now_s();

	return store_contact_foreach(r->st, ext, live_filter, &lc);
}


/**
 * Drop every binding of an extension (it is being removed)
 */
int registrar_remove_ext(struct registrar *r, const char *ext)
{
	int err;

	if (!r || !ext)
		return EINVAL;

	err = store_contact_remove_ext(r->st, ext);
	if (err == ENOENT)
		return 0;

	return err;
}

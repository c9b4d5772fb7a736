/**
 * @file test_sbcreg.c  Registrations through the SBC (src/sbc/sbcreg.c)
 *
 * A whole SBC (sbc_alloc) runs on loopback addresses of its own: public
 * side 127.0.20.91, private side 127.0.30.91. A fake PBX, a libre SIP
 * stack on 127.0.40.91, challenges the first REGISTER and accepts the
 * authorised one; a fake phone on 127.0.10.91 registers through the SBC.
 * Loops are bounded (STYLE.md §6).
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "sbc/sbc_int.h"
#include "testdir.h"

#define PHONE_IP "127.0.10.91"
#define PUB_IP	 "127.0.20.91"
#define PRIV_IP	 "127.0.30.91"
#define PBX_IP	 "127.0.40.91"
#define AUTHZ                                                                 \
	"Digest username=\"100\", realm=\"test\", nonce=\"n1\", "             \
	"uri=\"sip:" PUB_IP "\", response=\"0123456789abcdef\""

/** The fake PBX */
struct pbx {
	struct sip *sip;
	struct sip_lsnr *lsnr;
	struct sa addr;
	uint32_t registers;
	char callid[2][64];
	uint32_t cseq[2];
	char contact[256];
	char to[128];
	char ua[64];
	char authz[256];
	uint32_t expires;
};

/** The fake phone's last answer */
struct answer {
	uint16_t scode;
	char contact[256];
	char www_auth[128];
	bool done;
};

struct fixture {
	char dir[64];
	char path[128];
	char cert[128];
	struct store *st;
	struct relais_config cfg;
	struct sbc *sbc;
	struct pbx pbx;
	struct sip *phone;
	struct answer ans;
	uint16_t pub_port;
	uint16_t priv_port;
};


static void timeout_h(void *arg)
{
	int *err = arg;

	*err = ETIMEDOUT;
	re_cancel();
}


struct until {
	bool (*pred)(void *arg);
	void *arg;
	struct tmr tmr;
};


static void poll_h(void *arg)
{
	struct until *u = arg;

	if (u->pred(u->arg)) {
		re_cancel();
		return;
	}

	tmr_start(&u->tmr, 20, poll_h, u);
}


/* run the loop until pred holds, at most ms; 0 or ETIMEDOUT */
static int loop_until(bool (*pred)(void *arg), void *arg, uint32_t ms)
{
	struct until u = { .pred = pred, .arg = arg };
	struct tmr tmr;
	int err = 0;

	if (pred(arg))
		return 0;

	tmr_init(&tmr);
	tmr_init(&u.tmr);
	tmr_start(&tmr, ms, timeout_h, &err);
	tmr_start(&u.tmr, 20, poll_h, &u);
	(void)re_main(NULL);
	tmr_cancel(&tmr);
	tmr_cancel(&u.tmr);

	return err;
}


static bool answered(void *arg)
{
	const struct answer *a = arg;

	return a->done;
}


/* ---- fake PBX ----------------------------------------------------------- */

static void hdr_copy(char *buf, size_t sz, const struct sip_msg *msg,
		     enum sip_hdrid id)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, id);

	buf[0] = '\0';
	if (h)
		(void)pl_strcpy(&h->val, buf, sz);
}


static bool pbx_req_h(const struct sip_msg *msg, void *arg)
{
	struct pbx *p = arg;
	const struct sip_hdr *authz;
	uint32_t i;

	if (pl_strcmp(&msg->met, "REGISTER"))
		return false;

	i = p->registers < 2 ? p->registers : 1;
	++p->registers;
	(void)pl_strcpy(&msg->callid, p->callid[i], sizeof(p->callid[i]));
	p->cseq[i] = msg->cseq.num;
	hdr_copy(p->contact, sizeof(p->contact), msg, SIP_HDR_CONTACT);
	hdr_copy(p->to, sizeof(p->to), msg, SIP_HDR_TO);
	hdr_copy(p->ua, sizeof(p->ua), msg, SIP_HDR_USER_AGENT);
	hdr_copy(p->authz, sizeof(p->authz), msg, SIP_HDR_AUTHORIZATION);
	p->expires = 0;
	if (pl_isset(&msg->expires))
		(void)num_u32(&msg->expires, 0, UINT32_MAX, &p->expires);

	authz = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	if (!authz) {
		(void)sip_replyf(p->sip, msg, 401, "Unauthorized",
				 "WWW-Authenticate: Digest realm=\"test\", "
				 "nonce=\"n1\"\r\n"
				 "Content-Length: 0\r\n\r\n");
		return true;
	}

	/* the SBC's binding, and one of a LAN phone it must not pass on */
	(void)sip_replyf(p->sip, msg, 200, "OK",
			 "Contact: %s;expires=%u\r\n"
			 "Contact: <sip:100@192.168.1.50:5060>;expires=99\r\n"
			 "Content-Length: 0\r\n\r\n",
			 p->contact, p->expires ? 120 : 0);
	return true;
}


static int pbx_start(struct pbx *p)
{
	int err;

	memset(p, 0, sizeof(*p));
	err = sa_set_str(&p->addr, PBX_IP, 0);
	err |= sip_alloc(&p->sip, NULL, 32, 32, 32, "pbx", NULL, NULL);
	if (err)
		return err;

	err = sip_transp_add(p->sip, SIP_TRANSP_UDP, &p->addr);
	err |= sip_transp_laddr(p->sip, &p->addr, SIP_TRANSP_UDP, NULL);
	err |= sip_listen(&p->lsnr, p->sip, true, pbx_req_h, p);

	return err;
}


static void pbx_stop(struct pbx *p)
{
	p->lsnr = mem_deref(p->lsnr);
	if (p->sip)
		sip_close(p->sip, true);
	p->sip = mem_deref(p->sip);
}


/* ---- fake phone --------------------------------------------------------- */

static void phone_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct answer *a = arg;

	if (!err && msg && msg->scode < 200)
		return;

	a->scode = msg ? msg->scode : 0;
	if (msg) {
		hdr_copy(a->contact, sizeof(a->contact), msg, SIP_HDR_CONTACT);
		hdr_copy(a->www_auth, sizeof(a->www_auth), msg,
			 SIP_HDR_WWW_AUTHENTICATE);
	}
	a->done = true;
}


/* REGISTER from the phone to the SBC's public side; waits for the answer */
static int phone_register(struct fixture *f, uint32_t cseq, uint32_t expires,
			  bool authz, const char *contact)
{
	char uri[64];
	int err;

	memset(&f->ans, 0, sizeof(f->ans));
	re_snprintf(uri, sizeof(uri), "sip:%s:%u;transport=udp", PUB_IP,
		    f->pub_port);

	err = sip_requestf(NULL, f->phone, true, "REGISTER", uri, NULL, NULL,
			   NULL, phone_resp_h, &f->ans,
			   "To: <sip:100@" PUB_IP ">\r\n"
			   "From: <sip:100@" PUB_IP ">;tag=ph1\r\n"
			   "Call-ID: phone-call-id-1\r\n"
			   "CSeq: %u REGISTER\r\n"
			   "Max-Forwards: 70\r\n"
			   "Contact: %s\r\n"
			   "Expires: %u\r\n"
			   "User-Agent: TestPhone 1.0\r\n"
			   "%s%s%s"
			   "Content-Length: 0\r\n\r\n",
			   cseq, contact, expires,
			   authz ? "Authorization: " : "", authz ? AUTHZ : "",
			   authz ? "\r\n" : "");
	if (err)
		return err;

	return loop_until(answered, &f->ans, 5000);
}


/* ---- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sa laddr;

	if (!f)
		return -1;

	re_snprintf(f->dir, sizeof(f->dir), "/tmp/relais-sbcreg-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}

	re_snprintf(f->path, sizeof(f->path), "%s/relais.db", f->dir);
	re_snprintf(f->cert, sizeof(f->cert), "%s/sip.pem", f->dir);
	if (store_open(&f->st, f->path))
		return -1;

	if (pbx_start(&f->pbx))
		return -1;

	/* ports of our own, away from other tests' */
	f->pub_port = (uint16_t)(41000 + rand_u16() % 8000 * 2);
	f->priv_port = f->pub_port + 1;

	f->cfg = config_defaults;
	str_ncpy(f->cfg.dns_servers, "127.0.0.1:9",
		 sizeof(f->cfg.dns_servers));
	str_ncpy(f->cfg.tls_cert, f->cert, sizeof(f->cfg.tls_cert));
	str_ncpy(f->cfg.sbc_mode, "standard", sizeof(f->cfg.sbc_mode));
	str_ncpy(f->cfg.sbc_public_interface, PUB_IP,
		 sizeof(f->cfg.sbc_public_interface));
	str_ncpy(f->cfg.sbc_public_transports, "tls+udp/tcp",
		 sizeof(f->cfg.sbc_public_transports));
	f->cfg.sbc_public_port = f->pub_port;
	str_ncpy(f->cfg.sbc_private_interface, PRIV_IP,
		 sizeof(f->cfg.sbc_private_interface));
	str_ncpy(f->cfg.sbc_private_transports, "udp/tcp",
		 sizeof(f->cfg.sbc_private_transports));
	f->cfg.sbc_private_port = f->priv_port;
	re_snprintf(f->cfg.sbc_pbx, sizeof(f->cfg.sbc_pbx), "%J",
		    &f->pbx.addr);
	str_ncpy(f->cfg.sbc_pbx_transport, "udp",
		 sizeof(f->cfg.sbc_pbx_transport));
	f->cfg.sbc_rtp_port_min = 30000 + (f->pub_port % 100) * 100;
	f->cfg.sbc_rtp_port_max = f->cfg.sbc_rtp_port_min + 99;

	if (sbc_alloc(&f->sbc, &f->cfg, f->st) || !f->sbc)
		return -1;

	if (sa_set_str(&laddr, PHONE_IP, 0) ||
	    sip_alloc(&f->phone, NULL, 32, 32, 32, "phone", NULL, NULL) ||
	    sip_transp_add(f->phone, SIP_TRANSP_UDP, &laddr))
		return -1;

	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	f->sbc = mem_deref(f->sbc);
	if (f->phone)
		sip_close(f->phone, true);
	f->phone = mem_deref(f->phone);
	pbx_stop(&f->pbx);
	f->st = mem_deref(f->st);
	testdir_remove(f->dir);
	free(f);

	return 0;
}


/* "<sip:rw0123456789abcdef@127.0.30.91:PORT;transport=udp>" → token */
static void token_of(char *tok, size_t sz, const char *contact)
{
	struct pl t;

	tok[0] = '\0';
	if (!re_regex(contact, strlen(contact), "sip:[^@]+@", &t))
		(void)pl_strcpy(&t, tok, sz);
}


/* ---- tests -------------------------------------------------------------- */

static void test_register_through(void **state)
{
	struct fixture *f = *state;
	const char *contact = "<sip:100@" PHONE_IP ":5555>";
	struct sbc_binding *b;
	char tok[32], want[128];
	struct pl tokpl;
	struct sa phone;

	/* no credentials: the PBX's challenge comes back to the phone */
	assert_int_equal(0, phone_register(f, 1, 300, false, contact));
	assert_int_equal(401, f->ans.scode);
	assert_non_null(strstr(f->ans.www_auth, "realm=\"test\""));
	assert_int_equal(1, f->pbx.registers);
	assert_int_equal(0, sbcreg_count(f->sbc));

	/* credentials, copied verbatim; the binding is made */
	assert_int_equal(0, phone_register(f, 2, 300, true, contact));
	assert_int_equal(200, f->ans.scode);
	assert_int_equal(2, f->pbx.registers);
	assert_string_equal(AUTHZ, f->pbx.authz);

	/* what the PBX saw: one Call-ID, CSeq growing, our token contact */
	assert_string_equal(f->pbx.callid[0], f->pbx.callid[1]);
	assert_string_not_equal("phone-call-id-1", f->pbx.callid[1]);
	assert_true(f->pbx.cseq[1] > f->pbx.cseq[0]);
	assert_int_equal(300, f->pbx.expires);
	assert_null(strstr(f->pbx.ua, "TestPhone"));
	assert_null(strstr(f->pbx.contact, PHONE_IP));
	assert_non_null(strstr(f->pbx.contact, "@" PRIV_IP ":"));
	assert_string_equal("<sip:100@" PBX_IP ">", f->pbx.to);
	token_of(tok, sizeof(tok), f->pbx.contact);
	assert_int_equal(18, strlen(tok));
	assert_memory_equal("rw", tok, 2);

	/* what the phone saw: its own contact, the granted time, nothing
	   of the inside */
	re_snprintf(want, sizeof(want), "%s;expires=120", contact);
	assert_string_equal(want, f->ans.contact);

	/* the PBX reaches the phone by the token, at its source address */
	assert_int_equal(1, sbcreg_count(f->sbc));
	pl_set_str(&tokpl, tok);
	b = sbcreg_find(f->sbc, &tokpl);
	assert_non_null(b);
	assert_string_equal("100", b->user);
	assert_int_equal(SIP_TRANSP_UDP, b->tp);
	assert_int_equal(0, sip_transp_laddr(f->phone, &phone, SIP_TRANSP_UDP,
					     NULL));
	assert_true(sa_cmp(&phone, &b->peer, SA_ALL));

	/* a refresh keeps the token and Call-ID */
	assert_int_equal(0, phone_register(f, 3, 300, true, contact));
	assert_int_equal(200, f->ans.scode);
	assert_string_equal(f->pbx.callid[0], f->pbx.callid[1]);
	assert_true(f->pbx.cseq[1] > f->pbx.cseq[0] + 1);
	token_of(want, sizeof(want), f->pbx.contact);
	assert_string_equal(tok, want);
	assert_int_equal(1, sbcreg_count(f->sbc));

	/* Expires 0 removes the binding after the PBX's 2xx */
	assert_int_equal(0, phone_register(f, 4, 0, true, contact));
	assert_int_equal(200, f->ans.scode);
	assert_int_equal(0, f->pbx.expires);
	assert_int_equal(0, sbcreg_count(f->sbc));
	assert_null(sbcreg_find(f->sbc, &tokpl));
}


static void test_private_register_refused(void **state)
{
	struct fixture *f = *state;
	char uri[64];
	int err;

	memset(&f->ans, 0, sizeof(f->ans));
	re_snprintf(uri, sizeof(uri), "sip:%s:%u;transport=udp", PRIV_IP,
		    f->priv_port);

	err = sip_requestf(NULL, f->pbx.sip, true, "REGISTER", uri, NULL, NULL,
			   NULL, phone_resp_h, &f->ans,
			   "To: <sip:200@" PRIV_IP ">\r\n"
			   "From: <sip:200@" PRIV_IP ">;tag=x\r\n"
			   "Call-ID: priv-reg\r\n"
			   "CSeq: 1 REGISTER\r\n"
			   "Max-Forwards: 70\r\n"
			   "Contact: <sip:200@" PBX_IP ">\r\n"
			   "Content-Length: 0\r\n\r\n");
	assert_int_equal(0, err);
	assert_int_equal(0, loop_until(answered, &f->ans, 5000));
	assert_int_equal(403, f->ans.scode);
	assert_int_equal(0, sbcreg_count(f->sbc));
}


static void test_bad_contact(void **state)
{
	struct fixture *f = *state;

	/* two Contacts: refused before anything reaches the PBX */
	assert_int_equal(0, phone_register(f, 1, 300, true,
					   "<sip:100@" PHONE_IP ":1>, "
					   "<sip:100@" PHONE_IP ":2>"));
	assert_int_equal(400, f->ans.scode);
	assert_int_equal(0, f->pbx.registers);
}


static int group_setup(void **state)
{
	(void)state;

	log_setup(LOG_LVL_ERROR, LOG_TARGET_STDERR);

	return libre_init();
}


static int group_teardown(void **state)
{
	(void)state;

	libre_close();
	log_close();

	return 0;
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_through, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_private_register_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_contact, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

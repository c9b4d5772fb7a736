/**
 * @file test_trunk.c  Trunks at run time (src/sip/trunk.c)
 *
 * Each test opens a store in a scratch directory, adds trunks to it and
 * starts them on a real SIP stack on 127.0.0.1 (port 0). A fake carrier, a
 * second libre SIP stack on loopback, answers OPTIONS and REGISTER (with a
 * digest challenge). Loops are bounded (STYLE.md §6). Host names are never
 * used except where said: the DNS servers are a closed port.
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "testdir.h"

/** The fake carrier */
struct carrier {
	struct sip *sip;
	struct sip_lsnr *lsnr;
	struct sa addr;
	uint32_t options;
	uint32_t registers;
	uint32_t authorized;
	uint16_t reg_scode; /* answer to an authorised REGISTER */
	bool silent;	    /* answers nothing */
	char auth_user[64];
	char contact[256];
};

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	struct relais_config cfg;
	struct sipstack *ss;
	struct trunks *ts;
	struct carrier car;
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


static bool never(void *arg)
{
	(void)arg;
	return false;
}


/* ---- fake carrier ------------------------------------------------------ */

static bool carrier_msg_h(const struct sip_msg *msg, void *arg)
{
	struct carrier *car = arg;
	const struct sip_hdr *auth, *contact;
	struct digest_resp dr;

	if (car->silent)
		return true;

	if (!pl_strcmp(&msg->met, "OPTIONS")) {
		++car->options;
		(void)sip_reply(car->sip, msg, 200, "OK");
		return true;
	}

	if (pl_strcmp(&msg->met, "REGISTER"))
		return false;

	++car->registers;
	auth = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	if (!auth || car->reg_scode == 401) {
		(void)sip_replyf(car->sip, msg, 401, "Unauthorized",
				 "WWW-Authenticate: Digest realm=\"carrier\", "
				 "nonce=\"n%u\"\r\n"
				 "Content-Length: 0\r\n\r\n",
				 car->registers);
		return true;
	}

	if (auth)
		++car->authorized;
	if (auth && !digest_resp_decode(&dr, &auth->val))
		pl_strcpy(&dr.username, car->auth_user,
			  sizeof(car->auth_user));

	contact = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	if (contact)
		pl_strcpy(&contact->val, car->contact, sizeof(car->contact));

	if (car->reg_scode != 200) {
		(void)sip_replyf(car->sip, msg, car->reg_scode, "Forbidden",
				 "Content-Length: 0\r\n\r\n");
		return true;
	}

	(void)sip_replyf(car->sip, msg, 200, "OK",
			 "Contact: %r\r\n"
			 "Content-Length: 0\r\n\r\n",
			 contact ? &contact->val : &msg->from.val);
	return true;
}


static int carrier_start(struct carrier *car)
{
	struct sa laddr;
	int err;

	memset(car, 0, sizeof(*car));
	car->reg_scode = 200;

	err = sip_alloc(&car->sip, NULL, 16, 16, 16, "carrier", NULL, NULL);
	err |= sa_set_str(&laddr, "127.0.0.1", 0);
	if (err)
		return err;

	err = sip_transp_add(car->sip, SIP_TRANSP_UDP, &laddr);
	err |= sip_transp_laddr(car->sip, &car->addr, SIP_TRANSP_UDP, NULL);
	err |= sip_listen(&car->lsnr, car->sip, true, carrier_msg_h, car);

	return err;
}


static void carrier_stop(struct carrier *car)
{
	car->lsnr = mem_deref(car->lsnr);
	if (car->sip)
		sip_close(car->sip, true);
	car->sip = mem_deref(car->sip);
}


/* ---- fixture ----------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;

	re_snprintf(f->dir, sizeof(f->dir), "/tmp/relais-trunk-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}

	re_snprintf(f->path, sizeof(f->path), "%s/relais.db", f->dir);
	if (store_open(&f->st, f->path))
		return -1;

	f->cfg = config_defaults;
	str_ncpy(f->cfg.sip_udp_listen, "127.0.0.1:0",
		 sizeof(f->cfg.sip_udp_listen));
	f->cfg.sip_tcp_listen[0] = '\0';
	f->cfg.sip_tls_listen[0] = '\0';
	str_ncpy(f->cfg.dns_servers, "127.0.0.1:9",
		 sizeof(f->cfg.dns_servers));

	if (sipstack_alloc(&f->ss, &f->cfg))
		return -1;

	if (carrier_start(&f->car))
		return -1;

	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	f->ts = mem_deref(f->ts);
	(void)loop_until(never, NULL, 50); /* un-REGISTERs go out */
	sip_close(sipstack_sip(f->ss), true);
	f->ss = mem_deref(f->ss);
	carrier_stop(&f->car);
	f->st = mem_deref(f->st);
	testdir_remove(f->dir);
	free(f);

	return 0;
}


/* an IP trunk toward the fake carrier, without probes */
static void trunk_ip(struct store_trunk *t, const char *name,
		     const struct sa *addr)
{
	memset(t, 0, sizeof(*t));
	str_ncpy(t->name, name, sizeof(t->name));
	str_ncpy(t->kind, "ip", sizeof(t->kind));
	re_snprintf(t->host, sizeof(t->host), "%j", addr);
	t->port = sa_port(addr);
	str_ncpy(t->transport, "udp", sizeof(t->transport));
	t->reg_interval = 180;
	t->max_calls = 10;
	t->inbound = true;
	t->outbound = true;
}


static struct trunk *start_one(struct fixture *f, const struct store_trunk *t)
{
	struct trunk *tr;

	assert_int_equal(0, store_trunk_add(f->st, t));
	if (!f->ts)
		assert_int_equal(0,
				 trunks_alloc(&f->ts, f->ss, f->st, &f->cfg));
	else
		assert_int_equal(0, trunks_reload(f->ts));

	tr = trunks_find(f->ts, t->name);
	assert_non_null(tr);

	return tr;
}


struct state_wait {
	struct trunk *t;
	enum trunk_state st;
};


static bool state_is(void *arg)
{
	struct state_wait *w = arg;

	return trunk_state(w->t) == w->st;
}


static int wait_state(struct trunk *t, enum trunk_state st, uint32_t ms)
{
	struct state_wait w = { t, st };

	return loop_until(state_is, &w, ms);
}


/* ---- tests ---------------------------------------------------------- */

static void test_state_names(void **state)
{
	(void)state;

	assert_string_equal("unknown", trunk_state_name(TRUNK_UNKNOWN));
	assert_string_equal("up", trunk_state_name(TRUNK_UP));
	assert_string_equal("down", trunk_state_name(TRUNK_DOWN));
	assert_string_equal("disabled", trunk_state_name(TRUNK_DISABLED));
}


static void test_uris(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct trunk *tr;
	char buf[256];

	/* IPv4 server, TLS, explicit port, no proxy */
	memset(&t, 0, sizeof(t));
	str_ncpy(t.name, "ip", sizeof(t.name));
	str_ncpy(t.kind, "ip", sizeof(t.kind));
	str_ncpy(t.host, "192.0.2.10", sizeof(t.host));
	t.port = 5070;
	str_ncpy(t.transport, "tls", sizeof(t.transport));
	t.inbound = t.outbound = true;
	tr = start_one(f, &t);

	assert_int_equal(0, trunk_request_uri(tr, "+33142000000", buf,
					      sizeof(buf)));
	assert_string_equal("sip:+33142000000@192.0.2.10:5070;transport=tls",
			    buf);
	assert_int_equal(0,
			 trunk_from_uri(tr, "+33142000099", buf, sizeof(buf)));
	assert_string_equal("sip:+33142000099@192.0.2.10", buf);
	assert_int_equal(ENOENT, trunk_route(tr, buf, sizeof(buf)));
	assert_int_equal(ERANGE,
			 trunk_request_uri(tr, "+33142000000", buf, 10));

	/* host name without SRV: the port is written out (A records only) */
	memset(&t, 0, sizeof(t));
	str_ncpy(t.name, "aonly", sizeof(t.name));
	str_ncpy(t.kind, "ip", sizeof(t.kind));
	str_ncpy(t.host, "sbc.example.net", sizeof(t.host));
	str_ncpy(t.transport, "tls", sizeof(t.transport));
	t.inbound = t.outbound = true;
	tr = start_one(f, &t);
	assert_int_equal(0, trunk_request_uri(tr, "0142", buf, sizeof(buf)));
	assert_string_equal("sip:0142@sbc.example.net:5061;transport=tls",
			    buf);

	/* SRV: no port, libre looks up _sips._tcp */
	memset(&t, 0, sizeof(t));
	str_ncpy(t.name, "srv", sizeof(t.name));
	str_ncpy(t.kind, "ip", sizeof(t.kind));
	str_ncpy(t.host, "example.net", sizeof(t.host));
	t.srv = true;
	str_ncpy(t.transport, "udp", sizeof(t.transport));
	t.inbound = t.outbound = true;
	tr = start_one(f, &t);
	assert_int_equal(0, trunk_request_uri(tr, "0142", buf, sizeof(buf)));
	assert_string_equal("sip:0142@example.net;transport=udp", buf);

	/* outbound proxy: Request-URI in the SIP domain, Route to the proxy */
	memset(&t, 0, sizeof(t));
	str_ncpy(t.name, "proxied", sizeof(t.name));
	str_ncpy(t.kind, "ip", sizeof(t.kind));
	str_ncpy(t.host, "192.0.2.20", sizeof(t.host));
	str_ncpy(t.domain, "voip.example.net", sizeof(t.domain));
	str_ncpy(t.proxy, "192.0.2.1:5080", sizeof(t.proxy));
	str_ncpy(t.transport, "tcp", sizeof(t.transport));
	t.inbound = t.outbound = true;
	tr = start_one(f, &t);
	assert_int_equal(0, trunk_request_uri(tr, "+33142000000", buf,
					      sizeof(buf)));
	assert_string_equal("sip:+33142000000@voip.example.net;transport=tcp",
			    buf);
	assert_int_equal(0, trunk_route(tr, buf, sizeof(buf)));
	assert_string_equal("sip:192.0.2.1:5080;lr;transport=tcp", buf);
	assert_int_equal(0, trunk_from_uri(tr, "100", buf, sizeof(buf)));
	assert_string_equal("sip:100@voip.example.net", buf);
}


static void test_call_slots(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct trunk *tr;

	trunk_ip(&t, "slots", &f->car.addr);
	t.max_calls = 2;
	t.inbound = false;
	tr = start_one(f, &t);

	/* no probes: assumed up */
	assert_int_equal(TRUNK_UP, trunk_state(tr));
	assert_int_equal(EPERM, trunk_call_acquire(tr, false));
	assert_int_equal(0, trunk_call_acquire(tr, true));
	assert_int_equal(0, trunk_call_acquire(tr, true));
	assert_int_equal(EBUSY, trunk_call_acquire(tr, true));
	trunk_call_release(tr);
	assert_int_equal(0, trunk_call_acquire(tr, true));
	trunk_call_release(tr);
	trunk_call_release(tr);
	trunk_call_release(tr); /* one too many: ignored */
	assert_int_equal(0, trunk_call_acquire(tr, true));
	trunk_call_release(tr);

	/* neither direction: disabled */
	trunk_ip(&t, "off", &f->car.addr);
	t.inbound = t.outbound = false;
	tr = start_one(f, &t);
	assert_int_equal(TRUNK_DISABLED, trunk_state(tr));
	assert_int_equal(ENETDOWN, trunk_call_acquire(tr, true));
}


static void test_call_timeouts(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct trunk *tr;

	trunk_ip(&t, "calls", &f->car.addr);
	tr = start_one(f, &t);
	assert_int_equal(TRUNK_UP, trunk_state(tr));

	trunk_call_result(tr, 486); /* busy: the carrier answers */
	trunk_call_result(tr, 0);
	assert_int_equal(TRUNK_UP, trunk_state(tr));
	trunk_call_result(tr, 0);
	assert_int_equal(TRUNK_DOWN, trunk_state(tr));
	assert_int_equal(ENETDOWN, trunk_call_acquire(tr, true));

	/* an answer brings it back */
	trunk_call_result(tr, 503);
	assert_int_equal(TRUNK_UP, trunk_state(tr));
}


static void test_options_probe(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct trunk *tr;

	trunk_ip(&t, "probed", &f->car.addr);
	t.options_interval = 5;
	tr = start_one(f, &t);
	assert_int_equal(TRUNK_UNKNOWN, trunk_state(tr));

	assert_int_equal(0, wait_state(tr, TRUNK_UP, 3000));
	assert_true(f->car.options >= 1);
}


static int info_h(const struct trunk_info *ti, void *arg)
{
	struct trunk_info *out = arg;

	if (strcmp(ti->conf->name, "reg"))
		return 0;

	*out = *ti;
	return 1;
}


static void test_register(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct trunk_info ti;
	struct trunk *tr;

	trunk_ip(&t, "reg", &f->car.addr);
	str_ncpy(t.kind, "register", sizeof(t.kind));
	str_ncpy(t.auth_user, "0142000000", sizeof(t.auth_user));
	str_ncpy(t.password, "secret", sizeof(t.password));
	t.reg_interval = 120;
	tr = start_one(f, &t);

	assert_int_equal(0, wait_state(tr, TRUNK_UP, 3000));
	assert_int_equal(2, f->car.registers); /* challenged, then 200 */
	assert_string_equal("0142000000", f->car.auth_user);
	assert_non_null(strstr(f->car.contact, "<sip:0142000000@127.0.0.1:"));

	memset(&ti, 0, sizeof(ti));
	assert_int_equal(1, trunks_foreach(f->ts, info_h, &ti));
	assert_true(ti.registered);
	assert_int_equal(200, ti.last_scode);
	assert_true(ti.reg_expires > (int64_t)time(NULL) + 100);
	assert_string_equal("", ti.last_error);
}


static void test_register_refused(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct trunk_info ti;
	struct trunk *tr;

	f->car.reg_scode = 403;
	trunk_ip(&t, "reg", &f->car.addr);
	str_ncpy(t.kind, "register", sizeof(t.kind));
	str_ncpy(t.auth_user, "0142000000", sizeof(t.auth_user));
	str_ncpy(t.password, "wrong", sizeof(t.password));
	tr = start_one(f, &t);

	assert_int_equal(0, wait_state(tr, TRUNK_DOWN, 3000));
	memset(&ti, 0, sizeof(ti));
	assert_int_equal(1, trunks_foreach(f->ts, info_h, &ti));
	assert_false(ti.registered);
	assert_int_equal(403, ti.last_scode);
	assert_string_equal("REGISTER refused: 403 Forbidden", ti.last_error);
}


static void test_wrong_password_stops(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct trunk *tr;

	/* every authorised REGISTER gets 401 again: libre alone would send
	   16 in a row; the trunk gives its credentials twice at most */
	f->car.reg_scode = 401;
	trunk_ip(&t, "reg", &f->car.addr);
	str_ncpy(t.kind, "register", sizeof(t.kind));
	str_ncpy(t.auth_user, "0142000000", sizeof(t.auth_user));
	str_ncpy(t.password, "wrong", sizeof(t.password));
	tr = start_one(f, &t);

	assert_int_equal(0, wait_state(tr, TRUNK_DOWN, 3000));
	assert_int_equal(3, f->car.registers);
}


static void test_reload(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct trunk *a, *b, *c;

	trunk_ip(&t, "a", &f->car.addr);
	a = start_one(f, &t);
	trunk_ip(&t, "b", &f->car.addr);
	b = start_one(f, &t);
	assert_int_equal(0, trunk_call_acquire(b, true));

	/* a changes (restarts in place), b is removed, c is new */
	trunk_ip(&t, "a", &f->car.addr);
	str_ncpy(t.host, "192.0.2.77", sizeof(t.host));
	assert_int_equal(0, store_trunk_update(f->st, &t));
	assert_int_equal(0, store_trunk_remove(f->st, "b"));
	trunk_ip(&t, "c", &f->car.addr);
	assert_int_equal(0, store_trunk_add(f->st, &t));
	assert_int_equal(0, trunks_reload(f->ts));

	assert_ptr_equal(a, trunks_find(f->ts, "a"));
	assert_string_equal("192.0.2.77", trunk_conf(a)->host);
	assert_null(trunks_find(f->ts, "b"));
	c = trunks_find(f->ts, "c");
	assert_non_null(c);

	/* b lives on for its call, disabled */
	assert_int_equal(TRUNK_DISABLED, trunk_state(b));
	assert_string_equal("b", trunk_conf(b)->name);
	trunk_call_release(b);
	assert_int_equal(0, trunks_reload(f->ts)); /* frees b */
	assert_int_equal(TRUNK_UP, trunk_state(c));
}


static void test_match_inbound(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct trunk *ip, *reg, *pinned;
	struct sip_msg msg;
	struct sa peer;

	/* no port set: known by IP address alone */
	assert_int_equal(0, sa_set_str(&peer, "192.0.2.10", 0));
	trunk_ip(&t, "a-ip", &peer);
	ip = start_one(f, &t);
	trunk_ip(&t, "b-reg", &peer);
	str_ncpy(t.kind, "register", sizeof(t.kind));
	str_ncpy(t.auth_user, "0233456789", sizeof(t.auth_user));
	str_ncpy(t.password, "x", sizeof(t.password));
	reg = start_one(f, &t);

	memset(&msg, 0, sizeof(msg));
	msg.tp = SIP_TRANSP_UDP;
	assert_int_equal(0, sa_set_str(&msg.src, "192.0.2.10", 41000));

	/* the registered Contact user picks the register trunk */
	pl_set_str(&msg.uri.user, "0233456789");
	assert_ptr_equal(reg, trunks_match_inbound(f->ts, &msg));

	/* another number from the same address: the first trunk */
	pl_set_str(&msg.uri.user, "0233456700");
	assert_ptr_equal(ip, trunks_match_inbound(f->ts, &msg));

	/* an unknown address: no trunk */
	assert_int_equal(0, sa_set_str(&msg.src, "192.0.2.11", 5060));
	assert_null(trunks_match_inbound(f->ts, &msg));

	/* port set: over UDP the port must match too, not over TCP */
	assert_int_equal(0, sa_set_str(&peer, "192.0.2.20", 5070));
	trunk_ip(&t, "c-pinned", &peer);
	pinned = start_one(f, &t);
	msg.src = peer;
	assert_ptr_equal(pinned, trunks_match_inbound(f->ts, &msg));
	sa_set_port(&msg.src, 41000);
	assert_null(trunks_match_inbound(f->ts, &msg));
	msg.tp = SIP_TRANSP_TCP;
	assert_ptr_equal(pinned, trunks_match_inbound(f->ts, &msg));

	/* a probed trunk: the address its answers come from */
	trunk_ip(&t, "d-probed", &f->car.addr);
	t.options_interval = 5;
	(void)start_one(f, &t);
	assert_int_equal(0, wait_state(trunks_find(f->ts, "d-probed"),
				       TRUNK_UP, 3000));
	msg.tp = SIP_TRANSP_UDP;
	msg.src = f->car.addr;
	assert_string_equal("d-probed",
			    trunk_conf(trunks_match_inbound(f->ts, &msg))
				->name);
}


static bool host_h(const char *host, void *arg)
{
	char *buf = arg;

	re_snprintf(buf + strlen(buf), 256 - strlen(buf), "%s;", host);
	return false;
}


static void test_tls_hosts(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	char hosts[256] = "";

	memset(&t, 0, sizeof(t));
	str_ncpy(t.name, "tls", sizeof(t.name));
	str_ncpy(t.kind, "ip", sizeof(t.kind));
	str_ncpy(t.host, "sbc.example.net", sizeof(t.host));
	str_ncpy(t.domain, "example.net", sizeof(t.domain));
	str_ncpy(t.proxy, "edge.example.net:5061", sizeof(t.proxy));
	str_ncpy(t.transport, "tls", sizeof(t.transport));
	t.inbound = t.outbound = true;
	(void)start_one(f, &t);

	trunk_ip(&t, "udp", &f->car.addr);
	(void)start_one(f, &t);

	assert_int_equal(0, trunks_tls_hosts(f->ts, host_h, hosts));
	assert_string_equal("sbc.example.net;example.net;edge.example.net;",
			    hosts);
}


static void test_shutdown(void **state)
{
	struct fixture *f = *state;
	struct store_trunk t;
	struct trunk *tr;
	uint32_t n;

	trunk_ip(&t, "probed", &f->car.addr);
	t.options_interval = 5;
	tr = start_one(f, &t);
	assert_int_equal(0, wait_state(tr, TRUNK_UP, 3000));

	trunks_shutdown(f->ts);
	n = f->car.options;
	(void)loop_until(never, NULL, 200);
	assert_int_equal(n, f->car.options);

	/* still usable for calls that are ending */
	assert_int_equal(0, trunk_call_acquire(tr, true));
	trunk_call_release(tr);
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
		cmocka_unit_test(test_state_names),
		cmocka_unit_test_setup_teardown(test_uris, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_slots, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_call_timeouts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_options_probe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_register, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_register_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password_stops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_inbound, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tls_hosts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

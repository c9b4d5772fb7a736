/**
 * @file test_guard.c  SBC security guard: DoS, deny-list, DDoS, levels,
 *                     allow-list, brute force, malicious calls, CIDR,
 *                     settings; every time injected
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "sbc/sbc.h"

static const uint64_t t0 = 1700000000000ull; /* a Unix time in ms */

/* What the deny handler saw */
struct calls {
	unsigned added;
	unsigned removed;
	enum guard_reason reason;
	char addr[64];
	char detail[128];
	int64_t since;
	int64_t until;
	uint64_t drops;
};

static void deny_h(const struct guard_entry *e, bool added, void *arg)
{
	struct calls *c = arg;

	if (added)
		++c->added;
	else
		++c->removed;

	c->reason = e->reason;
	c->since = e->since;
	c->until = e->until;
	c->drops = e->drops;
	re_snprintf(c->addr, sizeof(c->addr), "%j", e->addr);
	str_ncpy(c->detail, e->detail, sizeof(c->detail));
}

static struct sa addr(const char *ip, uint16_t port)
{
	struct sa sa;

	assert_int_equal(0, sa_set_str(&sa, ip, port));
	return sa;
}

static struct guard_conf conf_small(void)
{
	struct guard_conf c = guard_conf_default;

	c.dos_threshold = 10;
	c.dos_window = 2;
	c.dos_period = 30;
	return c;
}

static struct guard *guard_new(const struct guard_conf *c, struct calls *cl)
{
	struct guard *g = NULL;

	assert_int_equal(0, guard_alloc(&g, c, deny_h, cl));
	assert_non_null(g);
	return g;
}

static void send_n(struct guard *g, const struct sa *src, unsigned n,
		   uint64_t now, enum guard_verdict want)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(want, guard_check(g, src, now));
}

static bool inspect(struct guard *g, const struct sa *src, const char *ua,
		    const char *method, const char *user, uint64_t now)
{
	struct pl pua, pm, pu;

	pl_set_str(&pua, ua ? ua : "");
	pl_set_str(&pm, method);
	pl_set_str(&pu, user ? user : "");

	return guard_inspect(g, src, ua ? &pua : NULL, &pm, &pu, now);
}

/* ---- DoS ------------------------------------------------------------ */

static void test_dos_threshold(void **state)
{
	struct guard_conf c = conf_small();
	struct calls cl = { 0 };
	struct sa a = addr("192.0.2.7", 5060);
	struct sa a2 = addr("192.0.2.7", 40000);
	struct sa b = addr("192.0.2.8", 5060);
	struct guard_stats st;
	struct guard *g = guard_new(&c, &cl);
	(void)state;

	/* exactly the threshold passes, in one instant */
	send_n(g, &a, 10, t0, GUARD_PASS);
	assert_int_equal(0, cl.added);

	/* one over: dropped, denied, handler once; the port is ignored */
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &a2, t0));
	assert_int_equal(1, cl.added);
	assert_int_equal(GUARD_REASON_DOS, cl.reason);
	assert_string_equal("192.0.2.7", cl.addr);
	assert_int_equal(t0 / 1000, cl.since);
	assert_int_equal(t0 / 1000 + 30, cl.until);
	assert_int_equal(1, cl.drops);
	assert_string_equal("more than 10 requests in 2 s", cl.detail);

	send_n(g, &a, 5, t0 + 100, GUARD_DROP_DENIED);
	assert_int_equal(1, cl.added);
	assert_true(guard_denied(g, &a));

	/* another source is not affected */
	send_n(g, &b, 10, t0 + 100, GUARD_PASS);

	guard_stats_get(g, &st);
	assert_int_equal(26, st.requests);
	assert_int_equal(20, st.passed);
	assert_int_equal(6, st.dropped_denied);
	assert_int_equal(1, st.denials);
	assert_int_equal(1, st.deny_dos);
	assert_int_equal(2, st.sources);

	mem_deref(g);
}

static void test_dos_window(void **state)
{
	struct guard_conf c = conf_small();
	struct calls cl = { 0 };
	struct sa a = addr("192.0.2.7", 0);
	struct sa b = addr("192.0.2.8", 0);
	struct sa d = addr("192.0.2.9", 0);
	struct guard *g = guard_new(&c, &cl);
	(void)state;

	/* sliding estimate: 10 at t0, then at the very start of the next
	   window the previous one still counts in full */
	send_n(g, &a, 10, t0, GUARD_PASS);
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &a, t0 + 2000));
	assert_int_equal(1, cl.added);

	/* 1 ms later it weighs 9: one more passes, the second is over */
	send_n(g, &b, 10, t0, GUARD_PASS);
	assert_int_equal(GUARD_PASS, guard_check(g, &b, t0 + 2001));
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &b, t0 + 2001));

	/* half way through the next window: 5 + 10/2 = 10 pass */
	send_n(g, &d, 10, t0, GUARD_PASS);
	send_n(g, &d, 5, t0 + 3000, GUARD_PASS);
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &d, t0 + 3000));
	assert_int_equal(3, cl.added);

	mem_deref(g);

	/* two windows later the past is forgotten */
	g = guard_new(&c, &cl);
	send_n(g, &a, 10, t0, GUARD_PASS);
	send_n(g, &a, 10, t0 + 4000, GUARD_PASS);
	send_n(g, &a, 10, t0 + 8000, GUARD_PASS);
	assert_false(guard_denied(g, &a));
	mem_deref(g);
}

static void test_dos_expiry(void **state)
{
	struct guard_conf c = conf_small();
	struct calls cl = { 0 };
	struct sa a = addr("192.0.2.7", 0);
	struct guard *g = guard_new(&c, &cl);
	(void)state;

	send_n(g, &a, 10, t0, GUARD_PASS);
	send_n(g, &a, 1, t0, GUARD_DROP_DENIED);

	guard_expire(g, t0 + 29999);
	assert_true(guard_denied(g, &a));
	assert_int_equal(0, cl.removed);

	guard_expire(g, t0 + 30000);
	assert_false(guard_denied(g, &a));
	assert_int_equal(1, cl.removed);
	assert_int_equal(GUARD_REASON_DOS, cl.reason);
	assert_int_equal(1, cl.drops);
	send_n(g, &a, 10, t0 + 30000, GUARD_PASS);

	/* an expired entry also goes when its source comes back first */
	send_n(g, &a, 1, t0 + 30000, GUARD_DROP_DENIED);
	assert_int_equal(GUARD_PASS, guard_check(g, &a, t0 + 60000));
	assert_int_equal(2, cl.removed);
	mem_deref(g);

	/* never */
	c.dos_period = GUARD_PERIOD_NEVER;
	g = guard_new(&c, &cl);
	send_n(g, &a, 10, t0, GUARD_PASS);
	send_n(g, &a, 1, t0, GUARD_DROP_DENIED);
	assert_int_equal(0, cl.until);
	guard_expire(g, t0 + 400ull * 86400 * 1000);
	assert_true(guard_denied(g, &a));
	assert_int_equal(GUARD_DROP_DENIED,
			 guard_check(g, &a, t0 + 400ull * 86400 * 1000));
	mem_deref(g);
}

static void test_ipv6_and_mapped(void **state)
{
	struct guard_conf c = conf_small();
	struct calls cl = { 0 };
	struct sa v6 = addr("2001:db8::5", 5060);
	struct sa v6b = addr("2001:db8::5", 5070);
	struct sa v4 = addr("192.0.2.9", 5060);
	struct sa mapped = addr("::ffff:192.0.2.9", 5062);
	struct guard *g = guard_new(&c, &cl);
	(void)state;

	send_n(g, &v6, 5, t0, GUARD_PASS);
	send_n(g, &v6b, 5, t0, GUARD_PASS);
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &v6, t0));
	assert_string_equal("2001:db8::5", cl.addr);

	/* an IPv4-mapped source is the IPv4 source */
	send_n(g, &v4, 5, t0, GUARD_PASS);
	send_n(g, &mapped, 5, t0, GUARD_PASS);
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &mapped, t0));
	assert_string_equal("192.0.2.9", cl.addr);
	assert_true(guard_denied(g, &v4));

	mem_deref(g);
}

/* ---- deny-list ------------------------------------------------------ */

struct walk {
	unsigned n;
	char first[64];
	int64_t since[16];
	uint64_t drops;
};

static int walk_h(const struct guard_entry *e, void *arg)
{
	struct walk *w = arg;

	if (!w->n)
		re_snprintf(w->first, sizeof(w->first), "%j", e->addr);
	if (w->n < 16)
		w->since[w->n] = e->since;
	w->drops += e->drops;
	++w->n;
	return 0;
}

static void test_deny_max(void **state)
{
	struct guard_conf c = conf_small();
	struct calls cl = { 0 };
	struct walk w = { 0 };
	struct guard_stats st;
	struct guard *g;
	char ip[32];
	(void)state;

	c.deny_max = 10;
	g = guard_new(&c, &cl);

	/* restored out of order: the list is kept oldest first */
	for (int i = 9; i >= 0; i--) {
		struct sa a;

		re_snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
		a = addr(ip, 0);
		assert_int_equal(0, guard_deny_restore(g, &a, GUARD_REASON_DOS,
						       1000 + i, 0, "old"));
	}
	assert_int_equal(0, cl.added + cl.removed);
	assert_int_equal(EINVAL, guard_deny_restore(g, &(struct sa){ 0 }, 0, 0,
						    0, NULL));

	assert_int_equal(0, guard_deny_foreach(g, walk_h, &w));
	assert_int_equal(10, w.n);
	assert_string_equal("198.51.100.1", w.first);
	for (int i = 0; i < 10; i++)
		assert_int_equal(1000 + i, w.since[i]);

	/* full: a new denial evicts the oldest, handler told */
	{
		struct sa a = addr("203.0.113.1", 0);

		send_n(g, &a, 10, t0, GUARD_PASS);
		send_n(g, &a, 1, t0, GUARD_DROP_DENIED);
	}
	assert_int_equal(1, cl.removed);
	assert_int_equal(1, cl.added);
	guard_stats_get(g, &st);
	assert_int_equal(10, st.deny_dos);
	{
		struct sa old = addr("198.51.100.1", 0);
		struct sa next = addr("198.51.100.2", 0);

		assert_false(guard_denied(g, &old));
		assert_true(guard_denied(g, &next));
	}

	/* a smaller deny_max evicts the oldest at once */
	c.deny_max = 20;
	assert_int_equal(0, guard_conf_set(g, &c));
	{
		struct sa x = addr("203.0.113.2", 0);
		struct sa y = addr("203.0.113.3", 0);

		assert_int_equal(0, guard_deny_restore(g, &x, GUARD_REASON_DOS,
						       1, 0, NULL));
		assert_int_equal(0, guard_deny_restore(g, &y, GUARD_REASON_DOS,
						       2, 0, NULL));
		c.deny_max = 10;
		assert_int_equal(0, guard_conf_set(g, &c));
		assert_int_equal(3, cl.removed);
		assert_false(guard_denied(g, &x));
		assert_false(guard_denied(g, &y));
	}
	guard_stats_get(g, &st);
	assert_int_equal(10, st.deny_dos);

	mem_deref(g);
}

static void test_deny_remove_clear(void **state)
{
	struct guard_conf c = conf_small();
	struct calls cl = { 0 };
	struct sa a = addr("192.0.2.1", 0);
	struct sa b = addr("192.0.2.2", 0);
	struct sa e = addr("2001:db8::1", 0);
	struct guard *g = guard_new(&c, &cl);
	(void)state;

	assert_int_equal(0, guard_deny_restore(g, &a, GUARD_REASON_DOS, 100, 0,
					       NULL));
	assert_int_equal(0, guard_deny_restore(g, &b, GUARD_REASON_BRUTE_FORCE,
					       101, 0, "x"));
	assert_int_equal(0, guard_deny_restore(g, &e, GUARD_REASON_MALICIOUS,
					       102, 0, "y"));
	assert_int_equal(EEXIST, guard_deny_restore(g, &a, GUARD_REASON_DOS,
						    100, 0, NULL));
	assert_int_equal(EINVAL, guard_deny_restore(g, &a, 7, 100, 0, NULL));

	/* restored entries are enforced (level auto) */
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &b, t0));

	assert_int_equal(0, guard_deny_remove(g, &b));
	assert_int_equal(1, cl.removed);
	assert_int_equal(GUARD_REASON_BRUTE_FORCE, cl.reason);
	assert_int_equal(1, cl.drops);
	assert_string_equal("x", cl.detail);
	assert_int_equal(ENOENT, guard_deny_remove(g, &b));
	assert_int_equal(GUARD_PASS, guard_check(g, &b, t0));

	assert_int_equal(2, guard_deny_clear(g));
	assert_int_equal(3, cl.removed);
	assert_int_equal(0, guard_deny_clear(g));
	assert_false(guard_denied(g, &a));
	assert_false(guard_denied(g, &e));
	assert_int_equal(0, cl.added);

	mem_deref(g);
}

/* ---- sources -------------------------------------------------------- */

static void test_sources_bounded(void **state)
{
	struct guard_conf c = conf_small();
	struct calls cl = { 0 };
	struct sa first = addr("10.0.0.1", 0);
	struct guard_stats st;
	struct guard *g;
	(void)state;

	c.bf_failures = 3;
	c.bf_window = 10;
	g = guard_new(&c, &cl);
	guard_auth_failed(g, &first, t0);
	guard_auth_failed(g, &first, t0);

	/* 65536 more sources push the first (least recent) out */
	for (uint32_t i = 0; i < 65536; i++) {
		struct sa a;

		sa_set_in(&a, 0x0b000000u + i, 0); /* 11.0.0.0 + i */
		guard_auth_failed(g, &a, t0 + 1);
	}
	guard_stats_get(g, &st);
	assert_int_equal(65536, st.sources);

	/* forgotten: its third failure is its first, no denial */
	guard_auth_failed(g, &first, t0 + 2);
	assert_int_equal(0, cl.added);
	assert_false(guard_denied(g, &first));

	/* known sources outlive idle ones */
	guard_auth_ok(g, &first, t0 + 2);
	guard_expire(g, t0 + 59999);
	guard_stats_get(g, &st);
	assert_int_equal(65536, st.sources);
	guard_expire(g, t0 + 60002);
	guard_stats_get(g, &st);
	assert_int_equal(1, st.sources);
	guard_expire(g, t0 + 2 + 3600000);
	guard_stats_get(g, &st);
	assert_int_equal(0, st.sources);

	mem_deref(g);
}

/* ---- DDoS ----------------------------------------------------------- */

static enum guard_verdict from(struct guard *g, uint32_t i, uint64_t now)
{
	struct sa a;

	sa_set_in(&a, 0xc6336400u + i, 5060); /* 198.51.100.i */
	return guard_check(g, &a, now);
}

static void test_ddos(void **state)
{
	struct guard_conf c = guard_conf_default;
	struct calls cl = { 0 };
	struct sa known = addr("192.0.2.50", 0);
	struct sa friend = addr("192.0.2.60", 0);
	struct guard_stats st;
	struct guard *g;
	(void)state;

	c.ddos_threshold = 10;
	c.ddos_window = 2;
	g = guard_new(&c, &cl);
	guard_auth_ok(g, &known, t0);
	assert_int_equal(0, guard_allow_add(g, "192.0.2.60", NULL, 0));

	/* ten sources, one request each: at the threshold */
	for (uint32_t i = 1; i <= 10; i++)
		assert_int_equal(GUARD_PASS, from(g, i, t0));
	guard_stats_get(g, &st);
	assert_false(st.ddos_active);

	/* the eleventh crosses: unknown sources are dropped */
	assert_int_equal(GUARD_DROP_DDOS, from(g, 11, t0 + 10));
	assert_int_equal(GUARD_DROP_DDOS, from(g, 1, t0 + 10));
	assert_int_equal(GUARD_PASS, guard_check(g, &known, t0 + 20));
	assert_int_equal(GUARD_PASS, guard_check(g, &friend, t0 + 20));
	guard_stats_get(g, &st);
	assert_true(st.ddos_active);
	assert_int_equal(2, st.dropped_ddos);
	assert_int_equal(0, cl.added); /* DDoS denies nobody */

	/* the window closes above the threshold: still on */
	assert_int_equal(GUARD_DROP_DDOS, from(g, 12, t0 + 2500));
	/* a window with 1 request closes: off */
	guard_expire(g, t0 + 4000);
	guard_stats_get(g, &st);
	assert_false(st.ddos_active);
	assert_int_equal(GUARD_PASS, from(g, 13, t0 + 4001));

	mem_deref(g);
}

/* ---- levels and the allow-list --------------------------------------- */

static void test_level_allowlist(void **state)
{
	struct guard_conf c = conf_small();
	struct calls cl = { 0 };
	struct sa in = addr("198.51.100.77", 5060);
	struct sa in6 = addr("2001:db8:1::9", 5060);
	struct sa out = addr("198.51.101.1", 5060);
	struct guard_stats st;
	struct guard *g;
	(void)state;

	c.level = GUARD_LEVEL_ALLOWLIST;
	g = guard_new(&c, &cl);
	assert_int_equal(0, guard_allow_add(g, "198.51.100.0/24", NULL, 0));
	assert_int_equal(0, guard_allow_add(g, "2001:db8::/32", NULL, 0));

	assert_int_equal(GUARD_DROP_NOT_ALLOWED, guard_check(g, &out, t0));
	send_n(g, &in, 50, t0, GUARD_PASS);
	send_n(g, &in6, 50, t0, GUARD_PASS);
	assert_int_equal(0, cl.added);

	/* allow-listed but a scanner: denied, dropped from then on */
	assert_true(inspect(g, &in, "friendly-scanner", "OPTIONS", NULL, t0));
	assert_int_equal(1, cl.added);
	assert_int_equal(GUARD_REASON_MALICIOUS, cl.reason);
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &in, t0 + 1));

	guard_stats_get(g, &st);
	assert_int_equal(1, st.dropped_allow);
	assert_int_equal(2, st.allow_count);
	assert_int_equal(1, st.deny_malicious);

	mem_deref(g);
}

static void test_allowlisted_never_dos(void **state)
{
	struct guard_conf c = conf_small();
	struct calls cl = { 0 };
	struct sa in = addr("192.0.2.10", 0);
	struct guard *g = guard_new(&c, &cl);
	(void)state;

	assert_int_equal(0, guard_allow_add(g, "192.0.2.10", NULL, 0));

	send_n(g, &in, 1000, t0, GUARD_PASS);
	for (int i = 0; i < 50; i++)
		guard_auth_failed(g, &in, t0);
	assert_int_equal(0, cl.added);

	/* a DoS entry from before it was allow-listed is not enforced */
	guard_allow_clear(g);
	send_n(g, &in, 10, t0 + 1, GUARD_PASS);
	send_n(g, &in, 1, t0 + 1, GUARD_DROP_DENIED);
	assert_int_equal(0, guard_allow_add(g, "192.0.2.10", NULL, 0));
	send_n(g, &in, 10, t0 + 2, GUARD_PASS);

	/* malicious calls still count */
	for (int i = 0; i < 4; i++)
		guard_call_refused(g, &in, 404, t0 + 3);
	assert_int_equal(1, cl.added);
	guard_call_refused(g, &in, 604, t0 + 3);
	assert_int_equal(2, cl.added);
	assert_int_equal(GUARD_REASON_MALICIOUS, cl.reason);
	assert_int_equal(1, cl.removed); /* the DoS entry it replaced */
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &in, t0 + 4));

	mem_deref(g);
}

static void test_level_none(void **state)
{
	struct guard_conf c = conf_small();
	struct calls cl = { 0 };
	struct sa a = addr("192.0.2.20", 0);
	struct sa b = addr("192.0.2.21", 0);
	struct sa m = addr("192.0.2.22", 0);
	struct guard *g;
	(void)state;

	c.level = GUARD_LEVEL_NONE;
	g = guard_new(&c, &cl);

	/* no DoS, no brute force */
	send_n(g, &a, 100, t0, GUARD_PASS);
	for (int i = 0; i < 20; i++)
		guard_auth_failed(g, &a, t0);
	assert_int_equal(0, cl.added);

	/* DoS entries are kept but not enforced, malicious ones are */
	assert_int_equal(0, guard_deny_restore(g, &b, GUARD_REASON_DOS, 1, 0,
					       NULL));
	assert_int_equal(0, guard_deny_restore(g, &m, GUARD_REASON_MALICIOUS,
					       1, 0, NULL));
	assert_int_equal(GUARD_PASS, guard_check(g, &b, t0));
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &m, t0));
	assert_true(guard_denied(g, &b));

	/* malicious detection is on */
	assert_true(inspect(g, &a, "sipcli/v1.8", "INVITE", "100", t0));
	assert_int_equal(1, cl.added);
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &a, t0));

	/* a DoS-listed source that turns malicious is upgraded */
	assert_true(
	    inspect(g, &b, "VaxSIPUserAgent/3.1", "REGISTER", "1", t0));
	assert_int_equal(2, cl.added);
	assert_int_equal(1, cl.removed);
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &b, t0));

	mem_deref(g);
}

/* ---- brute force ---------------------------------------------------- */

static void test_brute_force(void **state)
{
	struct guard_conf c = guard_conf_default;
	struct calls cl = { 0 };
	struct sa a = addr("203.0.113.5", 5060);
	struct guard_stats st;
	struct guard *g;
	(void)state;

	c.bf_failures = 3;
	c.bf_window = 10;
	c.bf_period = 300;
	g = guard_new(&c, &cl);

	/* two, then a success forgets them */
	guard_auth_failed(g, &a, t0);
	guard_auth_failed(g, &a, t0 + 1000);
	guard_auth_ok(g, &a, t0 + 2000);
	guard_auth_failed(g, &a, t0 + 3000);
	guard_auth_failed(g, &a, t0 + 4000);
	assert_int_equal(0, cl.added);

	/* the window (opened at t0+3 s) is over: counting starts again */
	guard_auth_failed(g, &a, t0 + 13000);
	guard_auth_failed(g, &a, t0 + 14000);
	assert_int_equal(0, cl.added);
	guard_auth_failed(g, &a, t0 + 15000);
	assert_int_equal(1, cl.added);
	assert_int_equal(GUARD_REASON_BRUTE_FORCE, cl.reason);
	assert_int_equal((t0 + 15000) / 1000 + 300, cl.until);
	assert_int_equal(0, cl.drops);
	assert_string_equal("3 failed authentications in 10 s", cl.detail);

	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &a, t0 + 16000));
	guard_stats_get(g, &st);
	assert_int_equal(1, st.deny_brute);

	guard_expire(g, t0 + 15000 + 300000);
	assert_int_equal(1, cl.removed);
	assert_int_equal(GUARD_PASS, guard_check(g, &a, t0 + 315001));

	mem_deref(g);
}

/* ---- malicious calls ------------------------------------------------ */

static void test_user_agents(void **state)
{
	static const char *const bad[] = {
		"friendly-scanner",
		"SIPVicious 0.3.4",
		"sipcli/v1.8",
		"sip-scan",
		"SIPSCAN",
		"VaxSIPUserAgent/3.1",
		"iWar",
		"sundayddr",
		"PPLSIP",
		"smap 0.6.0",
		"SIPArmyKnife",
		"Friendly-Scanner",
	};
	static const char *const good[] = {
		"sipsak 0.9.8",	       "Yealink SIP-T46S 66.86.0.15",
		"baresip v3.0.0",      "Linphone/5.2",
		"Grandstream GXP2170", "Relais",
	};
	struct calls cl = { 0 };
	struct guard *g = guard_new(NULL, &cl);
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct sa a;

		sa_set_in(&a, 0xc0000200u + (uint32_t)i, 5060);
		assert_false(inspect(g, &a, good[i], "REGISTER", "", t0));
	}
	assert_false(
	    inspect(g, &(struct sa){ 0 }, "sipvicious", "OPTIONS", "", t0));
	{
		struct sa a = addr("192.0.2.99", 0);

		assert_false(inspect(g, &a, NULL, "OPTIONS", NULL, t0));
	}
	assert_int_equal(0, cl.added);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sa a;

		sa_set_in(&a, 0xcb007100u + (uint32_t)i, 5060);
		assert_true(inspect(g, &a, bad[i], "OPTIONS", "100", t0));
		assert_int_equal(i + 1, cl.added);
		assert_int_equal(GUARD_REASON_MALICIOUS, cl.reason);
		assert_non_null(strstr(cl.detail, "User-Agent "));
		assert_int_equal(1, cl.drops);

		/* the next request is dropped without a new denial */
		assert_true(inspect(g, &a, "", "OPTIONS", "", t0 + 1));
		assert_int_equal(i + 1, cl.added);
	}
	assert_string_equal("User-Agent Friendly-Scanner", cl.detail);

	mem_deref(g);
}

static void test_spray_distinct(void **state)
{
	struct calls cl = { 0 };
	struct sa a = addr("203.0.113.9", 0);
	struct guard *g = guard_new(NULL, &cl);
	char user[16];
	(void)state;

	/* ten different targets, repeats and other methods ignored */
	for (int i = 0; i < 10; i++) {
		re_snprintf(user, sizeof(user), "user%d", i);
		assert_false(inspect(g, &a, "x", "INVITE", user, t0 + i));
		assert_false(inspect(g, &a, "x", "INVITE", user, t0 + i));
		assert_false(inspect(g, &a, "x", "OPTIONS", "z", t0 + i));
	}

	/* user0 is older than 60 s: its slot is free again */
	assert_false(inspect(g, &a, "x", "INVITE", "new1", t0 + 60000));
	assert_int_equal(0, cl.added);

	assert_true(inspect(g, &a, "x", "INVITE", "new2", t0 + 60000));
	assert_int_equal(1, cl.added);
	assert_string_equal("INVITEs to more than 10 numbers in 60 s",
			    cl.detail);

	mem_deref(g);
}

static void test_spray_sequential(void **state)
{
	struct calls cl = { 0 };
	struct sa a = addr("203.0.113.10", 0);
	struct sa b = addr("203.0.113.11", 0);
	struct guard *g = guard_new(NULL, &cl);
	(void)state;

	/* a gap breaks the run; so does the window */
	assert_false(inspect(g, &a, NULL, "INVITE", "100", t0));
	assert_false(inspect(g, &a, NULL, "INVITE", "101", t0));
	assert_false(inspect(g, &a, NULL, "INVITE", "103", t0));
	assert_false(inspect(g, &a, NULL, "INVITE", "104", t0));
	assert_false(inspect(g, &a, NULL, "INVITE", "104", t0));
	assert_false(inspect(g, &a, NULL, "INVITE", "105", t0));
	assert_false(inspect(g, &a, NULL, "INVITE", "106", t0 + 1));
	assert_false(inspect(g, &a, NULL, "INVITE", "107", t0 + 60000));
	assert_int_equal(0, cl.added);

	assert_false(inspect(g, &b, NULL, "INVITE", "+3312340", t0));
	assert_false(inspect(g, &b, NULL, "INVITE", "+3312341", t0));
	assert_false(inspect(g, &b, NULL, "INVITE", "3312342", t0));
	assert_false(inspect(g, &b, NULL, "INVITE", "3312343", t0));
	assert_true(inspect(g, &b, NULL, "INVITE", "3312344", t0));
	assert_int_equal(1, cl.added);
	assert_string_equal("INVITEs to 5 sequential numbers 3312340-3312344",
			    cl.detail);
	assert_int_equal(GUARD_DROP_DENIED, guard_check(g, &b, t0 + 1));

	mem_deref(g);
}

static void test_call_refused(void **state)
{
	struct calls cl = { 0 };
	struct sa a = addr("203.0.113.12", 0);
	struct guard *g = guard_new(NULL, &cl);
	(void)state;

	/* busy or unavailable are not refusals; a window resets */
	guard_call_refused(g, &a, 404, t0);
	guard_call_refused(g, &a, 403, t0);
	guard_call_refused(g, &a, 486, t0);
	guard_call_refused(g, &a, 480, t0);
	guard_call_refused(g, &a, 484, t0);
	guard_call_refused(g, &a, 604, t0);
	assert_int_equal(0, cl.added);
	guard_call_refused(g, &a, 404, t0 + 60000);
	assert_int_equal(0, cl.added);

	for (int i = 0; i < 3; i++)
		guard_call_refused(g, &a, 404, t0 + 60001);
	assert_int_equal(0, cl.added);
	guard_call_refused(g, &a, 404, t0 + 60002);
	assert_int_equal(1, cl.added);
	assert_int_equal(GUARD_REASON_MALICIOUS, cl.reason);
	assert_string_equal("5 calls refused as unroutable in 60 s",
			    cl.detail);

	mem_deref(g);
}

/* ---- CIDR and the allow-list ---------------------------------------- */

static void cidr_ok(const char *s, const char *net, unsigned bits)
{
	struct sa sa;
	uint8_t b = 0;
	char why[256] = "", buf[64];

	assert_int_equal(0, guard_cidr_parse(&sa, &b, s, why, sizeof(why)));
	re_snprintf(buf, sizeof(buf), "%j", &sa);
	assert_string_equal(net, buf);
	assert_int_equal(bits, b);
	assert_int_equal(0, sa_port(&sa));
}

static void cidr_bad(const char *s, const char *part)
{
	struct sa sa;
	uint8_t b;
	char why[256] = "";

	if (guard_cidr_parse(&sa, &b, s, why, sizeof(why)) != EINVAL)
		fail_msg("\"%s\" accepted", s);
	if (!strstr(why, "syntax error") || !strstr(why, part))
		fail_msg("\"%s\": %s", s, why);
}

static void test_cidr(void **state)
{
	(void)state;

	cidr_ok("192.0.2.10", "192.0.2.10", 32);
	cidr_ok("198.51.100.0/24", "198.51.100.0", 24);
	cidr_ok("10.0.0.0/8", "10.0.0.0", 8);
	cidr_ok("192.0.2.1/32", "192.0.2.1", 32);
	cidr_ok("2001:db8::1", "2001:db8::1", 128);
	cidr_ok("2001:db8::/32", "2001:db8::", 32);
	cidr_ok("2001:db8:0:1::/64", "2001:db8:0:1::", 64);
	cidr_ok("::ffff:192.0.2.1", "192.0.2.1", 32); /* read as IPv4 */

	cidr_bad("0.0.0.0", "unspecified");
	cidr_bad("0.0.0.0/8", "unspecified");
	cidr_bad("::", "unspecified");
	cidr_bad("255.255.255.255", "broadcast");
	cidr_bad("255.255.255.255/32", "broadcast");
	cidr_bad("192.0.2.0/33", "bad prefix");
	cidr_bad("192.0.2.0/0", "bad prefix");
	cidr_bad("192.0.2.0/", "bad prefix");
	cidr_bad("192.0.2.0/24x", "bad prefix");
	cidr_bad("2001:db8::/129", "bad prefix");
	cidr_bad("192.0.2.7/24", "network is 192.0.2.0/24");
	cidr_bad("2001:db8::1/32", "network is 2001:db8::/32");
	cidr_bad("hello", "not an address");
	cidr_bad("", "not an address");
	cidr_bad("/24", "not an address");
	cidr_bad("192.0.2", "not an address");
	cidr_bad("192.0.2.256", "not an address");
	cidr_bad(" 192.0.2.1", "not an address");
	cidr_bad("[2001:db8::1]", "not an address");
	cidr_bad("fe80::1%lo", "not an address");


	/* the message says what is allowed */
	{
		struct sa sa;
		uint8_t b;
		char why[256];

		assert_int_equal(EINVAL, guard_cidr_parse(&sa, &b, "x", why,
							  sizeof(why)));
		assert_non_null(strstr(why, "IPv4 /1-32, IPv6 /1-128"));
		assert_int_equal(EINVAL,
				 guard_cidr_parse(&sa, &b, "x", NULL, 0));
	}
}

struct strs {
	unsigned n;
	char last[64];
};

static int strs_h(const char *cidr, void *arg)
{
	struct strs *s = arg;

	++s->n;
	str_ncpy(s->last, cidr, sizeof(s->last));
	return 0;
}

static void test_allow_list(void **state)
{
	struct calls cl = { 0 };
	struct guard *g = guard_new(NULL, &cl);
	struct sa in = addr("192.0.2.77", 1234);
	struct sa out = addr("192.0.3.77", 1234);
	struct strs s = { 0 };
	char why[256] = "";
	char ip[32];
	(void)state;

	assert_int_equal(0,
			 guard_allow_add(g, "192.0.2.0/24", why, sizeof(why)));
	assert_int_equal(EEXIST,
			 guard_allow_add(g, "192.0.2.0/24", why, sizeof(why)));
	assert_int_equal(EINVAL,
			 guard_allow_add(g, "0.0.0.0", why, sizeof(why)));
	assert_non_null(strstr(why, "syntax error"));
	assert_true(guard_allowed(g, &in));
	assert_false(guard_allowed(g, &out));

	for (int i = 1; i < GUARD_ALLOW_MAX; i++) {
		re_snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 200,
			    i % 200 + 1);
		assert_int_equal(0, guard_allow_add(g, ip, NULL, 0));
	}
	assert_int_equal(E2BIG,
			 guard_allow_add(g, "10.9.9.9", why, sizeof(why)));
	assert_non_null(strstr(why, "at most 100"));

	assert_int_equal(0, guard_allow_foreach(g, strs_h, &s));
	assert_int_equal(100, s.n);
	assert_string_equal("10.1.0.100", s.last);

	assert_int_equal(0, guard_allow_remove(g, "192.0.2.0/24"));
	assert_int_equal(ENOENT, guard_allow_remove(g, "192.0.2.0/24"));
	assert_int_equal(EINVAL, guard_allow_remove(g, "nonsense"));
	assert_false(guard_allowed(g, &in));
	assert_int_equal(0, guard_allow_add(g, "2001:db8::/32", NULL, 0));
	{
		struct sa v6 = addr("2001:db8:ffff::1", 0);
		struct sa v6o = addr("2001:db9::1", 0);

		assert_true(guard_allowed(g, &v6));
		assert_false(guard_allowed(g, &v6o));
	}

	s.n = 0;
	assert_int_equal(0, guard_allow_foreach(g, strs_h, &s));
	assert_int_equal(100, s.n);
	assert_string_equal("2001:db8::/32", s.last);

	guard_allow_clear(g);
	s.n = 0;
	assert_int_equal(0, guard_allow_foreach(g, strs_h, &s));
	assert_int_equal(0, s.n);

	mem_deref(g);
}

/* ---- settings and names --------------------------------------------- */

static void conf_bad(struct guard_conf c, const char *msg)
{
	char why[256] = "";

	assert_int_equal(EINVAL, guard_conf_validate(&c, why, sizeof(why)));
	assert_string_equal(msg, why);
}

static void test_conf(void **state)
{
	const struct guard_conf d = guard_conf_default;
	struct guard_conf c = d;
	struct guard *g = NULL;
	char why[256];
	(void)state;

	assert_int_equal(0, guard_conf_validate(&d, why, sizeof(why)));
	assert_int_equal(GUARD_LEVEL_AUTO, d.level);
	assert_int_equal(200, d.dos_threshold);
	assert_int_equal(5, d.dos_window);
	assert_int_equal(3600, d.dos_period);
	assert_int_equal(2000, d.ddos_threshold);
	assert_int_equal(10, d.bf_failures);
	assert_int_equal(1000, d.deny_max);

	c.dos_threshold = 9;
	conf_bad(c, "dos_threshold must be 10-5000 (got 9)");
	c.dos_threshold = 5000;
	assert_int_equal(0, guard_conf_validate(&c, NULL, 0));
	c.dos_threshold = 5001;
	conf_bad(c, "dos_threshold must be 10-5000 (got 5001)");
	c = d;
	c.dos_window = 11;
	conf_bad(c, "dos_window must be 2-10 (got 11)");
	c = d;
	c.ddos_window = 1;
	conf_bad(c, "ddos_window must be 2-10 (got 1)");
	c = d;
	c.ddos_threshold = 0;
	conf_bad(c, "ddos_threshold must be 10-5000 (got 0)");
	c = d;
	c.bf_failures = 2;
	conf_bad(c, "bf_failures must be 3-100 (got 2)");
	c = d;
	c.bf_window = 3601;
	conf_bad(c, "bf_window must be 10-3600 (got 3601)");
	c = d;
	c.deny_max = 100001;
	conf_bad(c, "deny_max must be 10-100000 (got 100001)");
	c = d;
	c.dos_period = 60;
	conf_bad(c, "dos_period must be one of 30s, 5min, 30min, 1h, 1d, 1w, "
		    "never (got 60 s)");
	c = d;
	c.bf_period = 7200;
	conf_bad(c, "bf_period must be one of 30s, 5min, 30min, 1h, 1d, 1w, "
		    "never (got 7200 s)");
	c = d;
	c.level = 3;
	conf_bad(c, "level must be none, auto or allowlist");

	assert_int_equal(EINVAL, guard_alloc(&g, &c, NULL, NULL));
	assert_null(g);
	assert_int_equal(0, guard_alloc(&g, NULL, NULL, NULL));
	assert_int_equal(200, guard_conf_get(g)->dos_threshold);
	assert_int_equal(EINVAL, guard_conf_set(g, &c));
	c = d;
	c.level = GUARD_LEVEL_NONE;
	assert_int_equal(0, guard_conf_set(g, &c));
	assert_int_equal(GUARD_LEVEL_NONE, guard_conf_get(g)->level);
	mem_deref(g);
}

static void test_names(void **state)
{
	static const struct {
		const char *s;
		uint32_t secs;
	} p[] = {
		{ "30s", 30 },	      { "5min", 300 },	{ "30min", 1800 },
		{ "1h", 3600 },	      { "1d", 86400 },	{ "1w", 604800 },
		{ "never", 0 },	      { "3600", 3600 }, { "0", 0 },
		{ "604800", 604800 },
	};
	static const char *const bad[] = { "",	  "1",	 "60",	       "2h",
					   "-30", "1h ", "99999999999" };
	enum guard_level lvl;
	uint32_t secs;
	(void)state;

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		assert_int_equal(0, guard_period_parse(&secs, p[i].s));
		assert_int_equal(p[i].secs, secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(EINVAL, guard_period_parse(&secs, bad[i]));
	assert_string_equal("1h", guard_period_name(3600));
	assert_string_equal("never", guard_period_name(0));
	assert_string_equal("30s", guard_period_name(30));
	assert_string_equal("?", guard_period_name(31));

	assert_int_equal(0, guard_level_parse(&lvl, "none"));
	assert_int_equal(GUARD_LEVEL_NONE, lvl);
	assert_int_equal(0, guard_level_parse(&lvl, "AUTO"));
	assert_int_equal(GUARD_LEVEL_AUTO, lvl);
	assert_int_equal(0, guard_level_parse(&lvl, "allowlist"));
	assert_int_equal(GUARD_LEVEL_ALLOWLIST, lvl);
	assert_int_equal(0, guard_level_parse(&lvl, "allow-list"));
	assert_int_equal(GUARD_LEVEL_ALLOWLIST, lvl);
	assert_int_equal(0, guard_level_parse(&lvl, "auto-protection"));
	assert_int_equal(GUARD_LEVEL_AUTO, lvl);
	assert_int_equal(EINVAL, guard_level_parse(&lvl, "off"));
	assert_string_equal("none", guard_level_name(GUARD_LEVEL_NONE));
	assert_string_equal("auto", guard_level_name(GUARD_LEVEL_AUTO));
	assert_string_equal("allowlist",
			    guard_level_name(GUARD_LEVEL_ALLOWLIST));

	assert_string_equal("dos", guard_reason_name(GUARD_REASON_DOS));
	assert_string_equal("brute-force",
			    guard_reason_name(GUARD_REASON_BRUTE_FORCE));
	assert_string_equal("malicious",
			    guard_reason_name(GUARD_REASON_MALICIOUS));
	assert_string_equal("pass", guard_verdict_name(GUARD_PASS));
	assert_string_equal("denied", guard_verdict_name(GUARD_DROP_DENIED));
	assert_string_equal("not-allowed",
			    guard_verdict_name(GUARD_DROP_NOT_ALLOWED));
	assert_string_equal("ddos", guard_verdict_name(GUARD_DROP_DDOS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dos_threshold),
		cmocka_unit_test(test_dos_window),
		cmocka_unit_test(test_dos_expiry),
		cmocka_unit_test(test_ipv6_and_mapped),
		cmocka_unit_test(test_deny_max),
		cmocka_unit_test(test_deny_remove_clear),
		cmocka_unit_test(test_sources_bounded),
		cmocka_unit_test(test_ddos),
		cmocka_unit_test(test_level_allowlist),
		cmocka_unit_test(test_allowlisted_never_dos),
		cmocka_unit_test(test_level_none),
		cmocka_unit_test(test_brute_force),
		cmocka_unit_test(test_user_agents),
		cmocka_unit_test(test_spray_distinct),
		cmocka_unit_test(test_spray_sequential),
		cmocka_unit_test(test_call_refused),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

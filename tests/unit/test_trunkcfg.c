/**
 * @file test_trunkcfg.c  Trunk profiles and validation
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "pbx/pbx.h"


static void test_profile_generic(void **state)
{
	struct store_trunk t;
	char why[160];
	(void)state;

	memset(&t, 0xa5, sizeof(t));
	str_ncpy(t.name, "carrier", sizeof(t.name));
	t.created = 1700000000;

	assert_int_equal(trunk_profile_apply(&t, "", why, sizeof(why)), 0);
	assert_string_equal(t.name, "carrier");
	assert_int_equal(t.created, 1700000000);
	assert_string_equal(t.profile, "");
	assert_string_equal(t.kind, "register");
	assert_string_equal(t.transport, "udp");
	assert_int_equal(t.port, 0);
	assert_false(t.srv);
	assert_int_equal(t.reg_interval, 180);
	assert_int_equal(t.max_calls, 10);
	assert_true(t.inbound);
	assert_true(t.outbound);
	assert_string_equal(t.codecs, "PCMA,PCMU,G722,telephone-event");
	assert_string_equal(t.srtp, "disabled");
	assert_int_equal(t.options_interval, 30);
	assert_false(t.pai);
	assert_string_equal(t.privacy, "");
	assert_true(t.diversion);
	/* everything else is overwritten */
	assert_string_equal(t.host, "");
	assert_string_equal(t.proxy, "");
	assert_string_equal(t.domain, "");
	assert_string_equal(t.auth_user, "");
	assert_string_equal(t.password, "");
	assert_string_equal(t.main_number, "");
	assert_string_equal(t.dids, "");
	assert_string_equal(t.caller_id, "");
	assert_string_equal(t.caller_name, "");
	assert_string_equal(t.contact_addr, "");
}


static void test_profile_orange(void **state)
{
	struct store_trunk t;
	char why[160];
	(void)state;

	memset(&t, 0, sizeof(t));
	str_ncpy(t.name, "btip", sizeof(t.name));
	assert_int_equal(trunk_profile_apply(&t, "orange-btip", why,
					     sizeof(why)),
			 0);
	assert_string_equal(t.name, "btip");
	assert_string_equal(t.profile, "orange-btip");
	assert_string_equal(t.kind, "register");
	assert_string_equal(t.transport, "udp");
	assert_int_equal(t.reg_interval, 180);
	assert_string_equal(t.codecs, "G722,PCMA,G729,telephone-event");
	assert_string_equal(t.srtp, "disabled");
	assert_true(t.pai);
	assert_true(t.diversion);
	assert_int_equal(t.max_calls, 10);

	assert_int_equal(trunk_profile_apply(&t, "orange-btipoi", why,
					     sizeof(why)),
			 0);
	assert_string_equal(t.name, "btip");
	assert_string_equal(t.profile, "orange-btipoi");
	assert_string_equal(t.kind, "register");
	assert_string_equal(t.transport, "tls");
	/* 5061 comes from SRV (or the TLS default): an explicit port would
	   turn SRV off (RFC 3263) */
	assert_int_equal(t.port, 0);
	assert_true(t.srv);
	assert_string_equal(t.srtp, "enforced");
	assert_string_equal(t.codecs, "PCMA,G729,telephone-event");
	assert_true(t.pai);
	assert_int_equal(t.reg_interval, 180);

	/* once completed by the user, each profile validates */
	str_ncpy(t.host, "sbc.example.fr", sizeof(t.host));
	str_ncpy(t.auth_user, "+33233456789", sizeof(t.auth_user));
	str_ncpy(t.password, "s3cret", sizeof(t.password));
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), 0);

	assert_int_equal(trunk_profile_apply(&t, "orange-btip", why,
					     sizeof(why)),
			 0);
	str_ncpy(t.host, "10.1.2.3", sizeof(t.host));
	str_ncpy(t.auth_user, "0233456789", sizeof(t.auth_user));
	str_ncpy(t.password, "s3cret", sizeof(t.password));
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), 0);
}


static void test_profile_unknown(void **state)
{
	struct store_trunk t;
	char why[160];
	(void)state;

	memset(&t, 0, sizeof(t));
	str_ncpy(t.name, "x", sizeof(t.name));
	str_ncpy(t.transport, "tcp", sizeof(t.transport));
	why[0] = '\0';
	assert_int_equal(trunk_profile_apply(&t, "sfr", why, sizeof(why)),
			 ENOENT);
	assert_non_null(strstr(why, "orange-btip"));
	assert_non_null(strstr(why, "orange-btipoi"));
	assert_non_null(strstr(why, "sfr"));
	/* nothing changed */
	assert_string_equal(t.transport, "tcp");

	assert_int_equal(trunk_profile_apply(NULL, "", why, sizeof(why)),
			 EINVAL);
	assert_int_equal(trunk_profile_apply(&t, NULL, why, sizeof(why)),
			 EINVAL);
}


/* A valid register trunk over UDP */
static void base(struct store_trunk *t)
{
	memset(t, 0, sizeof(*t));
	str_ncpy(t->name, "orange_1", sizeof(t->name));
	assert_int_equal(trunk_profile_apply(t, "", NULL, 0), 0);
	str_ncpy(t->host, "sip.example.net", sizeof(t->host));
	str_ncpy(t->auth_user, "0233456789", sizeof(t->auth_user));
	str_ncpy(t->password, "Very-secret-1", sizeof(t->password));
}


static void test_validate_ok(void **state)
{
	struct store_trunk t;
	char why[160];
	(void)state;

	base(&t);
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), 0);

	/* every optional field filled in */
	str_ncpy(t.proxy, "192.0.2.10:5070", sizeof(t.proxy));
	str_ncpy(t.domain, "example.net", sizeof(t.domain));
	str_ncpy(t.main_number, "+33233456789", sizeof(t.main_number));
	str_ncpy(t.caller_id, "0233456789", sizeof(t.caller_id));
	str_ncpy(t.caller_name, "Relais SA", sizeof(t.caller_name));
	str_ncpy(t.dids, "0233456789,0233457*, +33233458000,*",
		 sizeof(t.dids));
	str_ncpy(t.privacy, "id", sizeof(t.privacy));
	str_ncpy(t.codecs, "G729,telephone-event", sizeof(t.codecs));
	str_ncpy(t.srtp, "allowed", sizeof(t.srtp));
	t.options_interval = 0;
	t.max_calls = 1000;
	t.reg_interval = 3600;
	t.port = 5080;
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), 0);

	/* IP trunk: no credentials */
	base(&t);
	str_ncpy(t.kind, "ip", sizeof(t.kind));
	str_ncpy(t.host, "198.51.100.7", sizeof(t.host));
	t.auth_user[0] = '\0';
	t.password[0] = '\0';
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), 0);

	/* SRV on a domain without port; TLS with SRTP enforced */
	base(&t);
	t.srv = true;
	str_ncpy(t.transport, "tls", sizeof(t.transport));
	str_ncpy(t.srtp, "enforced", sizeof(t.srtp));
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), 0);

	/* host names: one label, digits in labels, hyphens inside */
	base(&t);
	str_ncpy(t.host, "localhost", sizeof(t.host));
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), 0);
	str_ncpy(t.host, "sbc-1.ims3.orange-business.com", sizeof(t.host));
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), 0);
	str_ncpy(t.host, "1and1.de", sizeof(t.host));
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), 0);
	/* static NAT addressing is refused, saying so */
	str_ncpy(t.contact_addr, "203.0.113.5", sizeof(t.contact_addr));
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "not supported yet"));
	t.contact_addr[0] = '\0';

	/* the longest name that fits: 31 characters */
	str_ncpy(t.name, "abcdefghijklmnopqrstuvwxyz-0123", sizeof(t.name));
	assert_int_equal(strlen(t.name), 31);
	assert_int_equal(trunk_validate(&t, why, sizeof(why)), 0);
}


static void test_validate_refused(void **state)
{
	struct store_trunk t;
	char why[200];
	(void)state;

#define REFUSED(mutate, text)                                                 \
	do {                                                                  \
		base(&t);                                                     \
		mutate;                                                       \
		why[0] = '\0';                                                \
		assert_int_equal(trunk_validate(&t, why, sizeof(why)),        \
				 EINVAL);                                     \
		if (!strstr(why, text))                                       \
			fail_msg("line %d: '%s' does not say '%s'", __LINE__, \
				 why, text);                                  \
		if (strstr(why, "Very-secret-1"))                             \
			fail_msg("'%s' shows the password", why);             \
	} while (0)
#define SET(field, val) str_ncpy(t.field, val, sizeof(t.field))

	REFUSED(SET(transport, "sctp"),
		"transport: 'sctp' is not one of udp, tcp, tls");
	REFUSED(SET(transport, "UDP"), "transport");
	REFUSED(SET(name, ""), "name");
	REFUSED(SET(name, "my trunk"), "name: 'my trunk'");
	REFUSED(SET(name, "orange.fr"), "A-Z, a-z, 0-9, _ and -");
	REFUSED(SET(profile, "sfr"), "profile");
	REFUSED(SET(kind, "peer"), "kind: 'peer' is not one of register, ip");
	REFUSED(SET(host, ""), "host: a host is required");
	REFUSED(SET(host, "0.0.0.0"), "host");
	REFUSED(SET(host, "255.255.255.255"), "host");
	REFUSED(SET(host, "1.2.3"), "host");
	REFUSED(SET(host, "1.2.3.256"), "host");
	REFUSED(SET(host, "01.2.3.4"), "host");
	REFUSED(SET(host, "sip..example.net"), "host");
	REFUSED(SET(host, "-sip.example.net"), "host");
	REFUSED(SET(host, "sip-.example.net"), "host");
	REFUSED(SET(host, "sip.example.net."), "host");
	REFUSED(SET(host, "sip_1.example.net"), "host");
	REFUSED(SET(host, "sip.example.net:5060"), "host");
	REFUSED(SET(host, "2001:db8::1"), "IPv6");
	REFUSED(SET(host, "sip example"), "host");
	REFUSED((t.srv = true, SET(host, "192.0.2.1")), "srv");
	REFUSED((t.srv = true, t.port = 5061), "srv");
	REFUSED(SET(proxy, "proxy.example.net:0"), "proxy");
	REFUSED(SET(proxy, "proxy.example.net:65536"), "proxy");
	REFUSED(SET(proxy, "proxy.example.net:"), "proxy");
	REFUSED(SET(proxy, "proxy example"), "proxy");
	REFUSED(SET(domain, "exa mple.net"), "domain");
	REFUSED(SET(auth_user, ""), "auth_user: required");
	REFUSED(SET(auth_user, "a b"), "auth_user");
	REFUSED(SET(password, ""), "password: required");
	REFUSED(SET(password, "Very-secret-1\r\n"), "password");
	REFUSED(t.reg_interval = 59, "reg_interval");
	REFUSED(t.reg_interval = 3601, "reg_interval");
	REFUSED(t.max_calls = 0, "max_calls");
	REFUSED(t.max_calls = 1001, "max_calls");
	REFUSED(SET(codecs, ""), "codecs: at least one audio codec");
	REFUSED(SET(codecs, "telephone-event"), "at least one audio codec");
	REFUSED(SET(codecs, "PCMA,opus"), "codecs: 'opus' is not one of");
	REFUSED(SET(codecs, "PCMA,PCMA"), "codecs: 'PCMA' is listed twice");
	REFUSED(SET(codecs, "PCMA,,PCMU"), "codecs");
	REFUSED(SET(codecs, "pcma"), "codecs");
	REFUSED(SET(srtp, "mandatory"),
		"srtp: 'mandatory' is not one of disabled, allowed, enforced");
	REFUSED(SET(srtp, "enforced"), "srtp: 'enforced' requires transport "
				       "tls");
	REFUSED((SET(srtp, "enforced"), SET(transport, "tcp")),
		"must not cross the network in clear");
	REFUSED(SET(main_number, "02 33"), "main_number");
	REFUSED(SET(main_number, "+"), "main_number");
	REFUSED(SET(caller_id, "33+1"), "caller_id");
	REFUSED(SET(dids, "0233456789,02*3"), "dids: '02*3'");
	REFUSED(SET(dids, "0233456789,"), "dids");
	REFUSED(SET(dids, "0*"), "dids");
	REFUSED(SET(caller_name, "Relais \"SA\""), "caller_name");
	REFUSED(SET(privacy, "full"),
		"privacy: 'full' is not one of \"\", none, id, header, user");
	REFUSED(t.options_interval = 4, "options_interval");
	REFUSED(t.options_interval = 3601, "options_interval");
	REFUSED(SET(contact_addr, "0.0.0.0"), "contact_addr");
	REFUSED(SET(contact_addr, "nat.example.net"), "contact_addr");
#undef SET
#undef REFUSED

	assert_int_equal(trunk_validate(NULL, why, sizeof(why)), EINVAL);
	base(&t);
	assert_int_equal(trunk_validate(&t, NULL, 0), 0);
	str_ncpy(t.transport, "sctp", sizeof(t.transport));
	assert_int_equal(trunk_validate(&t, NULL, 0), EINVAL);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_generic),
		cmocka_unit_test(test_profile_orange),
		cmocka_unit_test(test_profile_unknown),
		cmocka_unit_test(test_validate_ok),
		cmocka_unit_test(test_validate_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

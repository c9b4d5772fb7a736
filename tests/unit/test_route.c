/**
 * @file test_route.c  Outbound rules, DID matching, inbound rules
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


static void test_emergency(void **state)
{
	const char *list = "15,17,18,112";
	(void)state;

	assert_true(route_is_emergency(list, "112"));
	assert_true(route_is_emergency(list, "15"));
	assert_true(route_is_emergency(" 15 , 17", "17"));
	assert_false(route_is_emergency(list, "1"));
	assert_false(route_is_emergency(list, "1120"));
	assert_false(route_is_emergency(list, "0112"));
	assert_false(route_is_emergency(list, ""));
	assert_false(route_is_emergency("", "112"));
	assert_false(route_is_emergency(NULL, "112"));
	assert_false(route_is_emergency("15,,17", ""));
}


static void test_callers(void **state)
{
	static const struct {
		const char *callers;
		const char *caller;
		bool match;
	} v[] = {
		{ "", "100", true },
		{ "", "", true },
		{ "100,101", "100", true },
		{ "100,101", "101", true },
		{ "100,101", "102", false },
		{ "100,101", "1000", false },
		{ "100,101", "10", false },
		{ "200-220", "200", true },
		{ "200-220", "205", true },
		{ "200-220", "220", true },
		{ "200-220", "199", false },
		{ "200-220", "221", false },
		{ "200-220", "2050", false }, /* other length */
		{ "200-220", "21", false },
		{ "100,101,200-220", "210", true },
		{ "100, 200-220 ", "210", true },
		{ "100,101,200-220", "300", false },
		{ "0100-0199", "0150", true },
		{ "100-120", "", false },
		{ "100-120", "1a0", false },
		{ "220-200", "210", false }, /* malformed: never matches */
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		if (route_caller_match(v[i].callers, v[i].caller) !=
		    v[i].match)
			fail_msg("callers \"%s\", caller \"%s\": expected %s",
				 v[i].callers, v[i].caller,
				 v[i].match ? "match" : "no match");
	}
}


static void rule_init(struct store_orule *r, const char *prefix,
		      const char *callers)
{
	memset(r, 0, sizeof(*r));
	str_ncpy(r->name, "national", sizeof(r->name));
	str_ncpy(r->prefix, prefix, sizeof(r->prefix));
	str_ncpy(r->callers, callers, sizeof(r->callers));
	r->routec = 1;
	str_ncpy(r->routes[0].trunk, "orange", sizeof(r->routes[0].trunk));
	r->routes[0].strip = 1;
	str_ncpy(r->routes[0].prepend, "+33", sizeof(r->routes[0].prepend));
}


static void test_orule_match(void **state)
{
	struct store_orule r;
	(void)state;

	rule_init(&r, "0", "");
	assert_true(orule_match(&r, "100", "0142000000"));
	assert_true(orule_match(&r, "999", "0"));
	assert_false(orule_match(&r, "100", "142000000"));
	assert_false(orule_match(&r, "100", ""));
	assert_false(orule_match(NULL, "100", "0142000000"));

	rule_init(&r, "", "");
	assert_true(orule_match(&r, "100", "33"));

	rule_init(&r, "00", "100-120");
	assert_true(orule_match(&r, "110", "0044123456"));
	assert_false(orule_match(&r, "121", "0044123456"));
	assert_false(orule_match(&r, "110", "0144123456"));

	rule_init(&r, "0", "");
	r.min_len = 10;
	r.max_len = 10;
	assert_true(orule_match(&r, "100", "0142000000"));
	assert_false(orule_match(&r, "100", "014200000"));
	assert_false(orule_match(&r, "100", "01420000001"));

	r.max_len = 0; /* no upper bound */
	assert_true(orule_match(&r, "100", "0014200000012345"));

	rule_init(&r, "*", "");
	assert_true(orule_match(&r, "100", "*21#"));
	assert_false(orule_match(&r, "100", "21#"));
}


static void test_route_apply(void **state)
{
	struct store_route rt;
	char out[32], small[12];
	(void)state;

	memset(&rt, 0, sizeof(rt));
	rt.strip = 1;
	str_ncpy(rt.prepend, "+33", sizeof(rt.prepend));

	/* the issue's example: 0142000000, strip 1, prepend +33 */
	assert_int_equal(route_apply(&rt, "0142000000", out, sizeof(out)), 0);
	assert_string_equal(out, "+33142000000");

	/* "+33142000000" and its NUL need 13 bytes */
	assert_int_equal(route_apply(&rt, "0142000000", small, sizeof(small)),
			 ERANGE);
	assert_int_equal(route_apply(&rt, "0142000000", out, 13), 0);
	assert_string_equal(out, "+33142000000");

	rt.strip = 0;
	rt.prepend[0] = '\0';
	assert_int_equal(route_apply(&rt, "112", out, sizeof(out)), 0);
	assert_string_equal(out, "112");

	rt.strip = 3;
	assert_int_equal(route_apply(&rt, "112", out, sizeof(out)), 0);
	assert_string_equal(out, "");

	rt.strip = 4;
	assert_int_equal(route_apply(&rt, "112", out, sizeof(out)), EINVAL);

	rt.strip = 2;
	str_ncpy(rt.prepend, "0590", sizeof(rt.prepend));
	assert_int_equal(route_apply(&rt, "00690123456", out, sizeof(out)), 0);
	assert_string_equal(out, "0590690123456");
}


static void test_orule_validate(void **state)
{
	struct store_orule r;
	char why[160];
	(void)state;

	rule_init(&r, "0", "100,101,200-220");
	assert_int_equal(orule_validate(&r, why, sizeof(why)), 0);

	r.routec = 5;
	for (int i = 1; i < 5; i++)
		r.routes[i] = r.routes[0];
	r.routes[4].blocked = true;
	r.routes[4].trunk[0] = '\0';
	assert_int_equal(orule_validate(&r, why, sizeof(why)), 0);

#define REFUSED(mutate, word)                                                 \
	do {                                                                  \
		rule_init(&r, "0", "");                                       \
		mutate;                                                       \
		why[0] = '\0';                                                \
		assert_int_equal(orule_validate(&r, why, sizeof(why)),        \
				 EINVAL);                                     \
		if (!strstr(why, word))                                       \
			fail_msg("'%s' does not say '%s'", why, word);        \
	} while (0)

	REFUSED(str_ncpy(r.prefix, "0a", sizeof(r.prefix)), "prefix");
	REFUSED(str_ncpy(r.prefix, "0+", sizeof(r.prefix)), "prefix");
	REFUSED(str_ncpy(r.callers, "100,,101", sizeof(r.callers)), "callers");
	REFUSED(str_ncpy(r.callers, "220-200", sizeof(r.callers)), "callers");
	REFUSED(str_ncpy(r.callers, "100-1200", sizeof(r.callers)), "callers");
	REFUSED(str_ncpy(r.callers, "100-", sizeof(r.callers)), "callers");
	REFUSED(str_ncpy(r.callers, "abc", sizeof(r.callers)), "callers");
	REFUSED(str_ncpy(r.callers, "100,", sizeof(r.callers)), "callers");
	REFUSED(r.routec = 0, "routes");
	REFUSED(r.routec = 6, "routes");
	REFUSED(r.routes[0].blocked = true, "blocked route has no trunk");
	REFUSED(r.routes[0].trunk[0] = '\0', "trunk name is required");
	REFUSED(str_ncpy(r.routes[0].trunk, "or ange",
			 sizeof(r.routes[0].trunk)),
		"route 1: trunk");
	REFUSED(r.routes[0].strip = 21, "strip");
	REFUSED(str_ncpy(r.routes[0].prepend, "33+",
			 sizeof(r.routes[0].prepend)),
		"prepend");
	REFUSED(str_ncpy(r.routes[0].prepend, "++",
			 sizeof(r.routes[0].prepend)),
		"prepend");
	REFUSED((r.min_len = 11, r.max_len = 10), "min_len");
	REFUSED(r.max_len = 40, "max_len");
	REFUSED((r.routec = 2, r.routes[1].trunk[0] = '\0'), "route 2");
#undef REFUSED

	/* strip 20 and a blocked route alone are fine */
	rule_init(&r, "", "");
	r.routes[0].strip = 20;
	assert_int_equal(orule_validate(&r, why, sizeof(why)), 0);

	/* "00" to "+": strip 2, prepend a lone '+' */
	str_ncpy(r.routes[0].prepend, "+", sizeof(r.routes[0].prepend));
	assert_int_equal(orule_validate(&r, why, sizeof(why)), 0);
	r.routes[0].blocked = true;
	r.routes[0].trunk[0] = '\0';
	assert_int_equal(orule_validate(&r, why, sizeof(why)), 0);
	r.min_len = 3; /* max_len 0: no upper bound */
	assert_int_equal(orule_validate(&r, why, sizeof(why)), 0);
}


static void test_did_match(void **state)
{
	static const struct {
		const char *pattern;
		const char *called;
		int digits; /* -1: no match */
	} v[] = {
		/* SPEC §3: the four forms */
		{ "2304024", "+448452304024", 7 },
		{ "2304024", "08452304024", 7 },
		{ "2304024", "0448452304024", 7 },
		{ "2304024", "2304024", 7 },
		/* other numbers and shorter called numbers */
		{ "2304024", "2304025", -1 },
		{ "2304024", "+448452304025", -1 },
		{ "2304024", "304024", -1 },
		{ "8452304024", "2304024", -1 },
		{ "2304024", "", -1 },
		{ "2304024", "+", -1 },
		/* non-digits in the called number */
		{ "2304024", "230-4024", -1 },
		{ "2304024", "08452304024;x", -1 },
		{ "2304024", "++2304024", -1 },
		/* a pattern's leading 0 or + is a dialling prefix */
		{ "0233456789", "0233456789", 9 },
		{ "0233456789", "+33233456789", 9 },
		{ "0233456789", "0033233456789", 9 },
		{ "0233456789", "233456789", 9 },
		{ "0233456789", "0233456780", -1 },
		{ "+33233456789", "+33233456789", 11 },
		{ "+33233456789", "0033233456789", 11 },
		{ "+33233456789", "0233456789", -1 },
		/* masks */
		{ "0233456*", "0233456789", 6 },
		{ "0233456*", "+33233456789", 6 },
		{ "0233456*", "0033233456789", 6 },
		{ "0233456*", "233456789", 6 },
		{ "0233456*", "2334561", 6 },
		{ "0233456*", "0233456", -1 }, /* '*' needs a digit */
		{ "0233456*", "0233457789", -1 },
		{ "0233456*", "0133456789", -1 },
		{ "0233456*", "+590233456789", 6 },
		{ "0233456*", "0115900233456789", -1 }, /* 7 digits ahead */
		{ "0233456*", "+33233456x89", -1 },
		{ "08452304*", "0448452304024", 7 },
		{ "*", "0233456789", 0 },
		{ "*", "anonymous", 0 },
		{ "*", "", 0 },
		/* malformed patterns match nothing */
		{ "", "0233456789", -1 },
		{ "0*", "0233456789", -1 },
		{ "000", "000", -1 },
		{ "+*", "0233456789", -1 },
		{ "02*3", "0233", -1 },
		{ "**", "0233", -1 },
		{ "02 33", "0233", -1 },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		const int n = did_match(v[i].pattern, v[i].called);

		if (n != v[i].digits)
			fail_msg("pattern \"%s\", called \"%s\": %d, expected "
				 "%d",
				 v[i].pattern, v[i].called, n, v[i].digits);
	}

	assert_int_equal(did_match(NULL, "1"), -1);
	assert_int_equal(did_match("1", NULL), -1);

	/* a number beats the mask that covers it */
	assert_true(did_match("0233456789", "+33233456789") >
		    did_match("0233456*", "+33233456789"));
	assert_true(did_match("0233456*", "+33233456789") >
		    did_match("*", "+33233456789"));
}


static void test_did_list(void **state)
{
	const char *list = "0233456789, 0233457*,2304024";
	(void)state;

	assert_true(did_list_match(list, "+33233456789"));
	assert_true(did_list_match(list, "0233457001"));
	assert_true(did_list_match(list, "+448452304024"));
	assert_false(did_list_match(list, "0233456788"));
	assert_false(did_list_match(list, "0233458001"));
	assert_false(did_list_match("", "0233456789"));
	assert_false(did_list_match(NULL, "0233456789"));
	assert_true(did_list_match("*", "0233456789"));
	assert_false(did_list_match(",", "0233456789"));
}


static void test_dest_parse(void **state)
{
	struct dest d;
	char why[160];
	(void)state;

	memset(&d, 0xff, sizeof(d));
	assert_int_equal(dest_parse(&d, "hangup", why, sizeof(why)), 0);
	assert_int_equal(d.kind, DEST_HANGUP);
	assert_string_equal(d.number, "");

	assert_int_equal(dest_parse(&d, "extension:100", why, sizeof(why)), 0);
	assert_int_equal(d.kind, DEST_EXTENSION);
	assert_string_equal(d.number, "100");

	assert_int_equal(dest_parse(&d, "external:+33612345678", why,
				    sizeof(why)),
			 0);
	assert_int_equal(d.kind, DEST_EXTERNAL);
	assert_string_equal(d.number, "+33612345678");

	assert_int_equal(dest_parse(NULL, "external:0612345678", NULL, 0), 0);

	d.kind = DEST_EXTERNAL;
	str_ncpy(d.number, "keep", sizeof(d.number));
	assert_int_equal(dest_parse(&d, "voicemail:100", why, sizeof(why)),
			 EINVAL);
	assert_non_null(strstr(why, "hangup, extension:NUMBER or "
				    "external:NUMBER"));
	/* a refused destination leaves d alone */
	assert_string_equal(d.number, "keep");

	assert_int_equal(dest_parse(&d, "extension:", why, sizeof(why)),
			 EINVAL);
	assert_int_equal(dest_parse(&d, "extension:0100", why, sizeof(why)),
			 EINVAL);
	assert_int_equal(dest_parse(&d, "extension:10a", why, sizeof(why)),
			 EINVAL);
	assert_int_equal(dest_parse(&d, "external:", why, sizeof(why)),
			 EINVAL);
	assert_int_equal(dest_parse(&d, "external:06 12", why, sizeof(why)),
			 EINVAL);
	assert_non_null(strstr(why, "external"));
	assert_int_equal(dest_parse(&d, "Hangup", why, sizeof(why)), EINVAL);
	assert_int_equal(dest_parse(&d, "", why, sizeof(why)), EINVAL);
	assert_int_equal(dest_parse(&d, NULL, why, sizeof(why)), EINVAL);
	assert_int_equal(
	    dest_parse(&d, "external:+12345678901234567890123456789012", why,
		       sizeof(why)),
	    EINVAL);
}


static void irule_init(struct store_irule *r)
{
	memset(r, 0, sizeof(*r));
	str_ncpy(r->name, "reception", sizeof(r->name));
	str_ncpy(r->did, "0233456789", sizeof(r->did));
	str_ncpy(r->dest_open, "extension:100", sizeof(r->dest_open));
}


static void test_irule_validate(void **state)
{
	struct store_irule r;
	char why[160];
	(void)state;

	irule_init(&r);
	assert_int_equal(irule_validate(&r, why, sizeof(why)), 0);

	str_ncpy(r.trunk, "orange-1", sizeof(r.trunk));
	str_ncpy(r.did, "*", sizeof(r.did));
	str_ncpy(r.dest_closed, "external:+33612345678",
		 sizeof(r.dest_closed));
	str_ncpy(r.dest_holiday, "hangup", sizeof(r.dest_holiday));
	assert_int_equal(irule_validate(&r, why, sizeof(why)), 0);

#define REFUSED(mutate, word)                                                 \
	do {                                                                  \
		irule_init(&r);                                               \
		mutate;                                                       \
		why[0] = '\0';                                                \
		assert_int_equal(irule_validate(&r, why, sizeof(why)),        \
				 EINVAL);                                     \
		if (!strstr(why, word))                                       \
			fail_msg("'%s' does not say '%s'", why, word);        \
	} while (0)

	REFUSED(r.did[0] = '\0', "did");
	REFUSED(str_ncpy(r.did, "02*3", sizeof(r.did)), "did");
	REFUSED(str_ncpy(r.did, "0*", sizeof(r.did)), "did");
	REFUSED(str_ncpy(r.did, "+", sizeof(r.did)), "did");
	REFUSED(r.dest_open[0] = '\0', "dest_open");
	REFUSED(str_ncpy(r.dest_open, "queue:1", sizeof(r.dest_open)),
		"dest_open");
	REFUSED(str_ncpy(r.dest_closed, "extension:x", sizeof(r.dest_closed)),
		"dest_closed");
	REFUSED(str_ncpy(r.dest_holiday, "external:", sizeof(r.dest_holiday)),
		"dest_holiday");
	REFUSED(str_ncpy(r.trunk, "a b", sizeof(r.trunk)), "trunk");
	REFUSED(str_ncpy(r.name, "a\nb", sizeof(r.name)), "name");
#undef REFUSED
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emergency),
		cmocka_unit_test(test_callers),
		cmocka_unit_test(test_orule_match),
		cmocka_unit_test(test_route_apply),
		cmocka_unit_test(test_orule_validate),
		cmocka_unit_test(test_did_match),
		cmocka_unit_test(test_did_list),
		cmocka_unit_test(test_dest_parse),
		cmocka_unit_test(test_irule_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

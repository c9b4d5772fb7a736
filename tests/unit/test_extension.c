/**
 * @file test_extension.c  Extension numbers, password policy, creation
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "pbx/pbx.h"
#include "testdir.h"


static void test_numbers(void **state)
{
	static const struct {
		const char *number;
		bool ok;
	} v[] = {
		{ "100", true },	{ "12", true },
		{ "12345678", true },	{ "1", false },
		{ "123456789", false }, { "0100", false },
		{ "10a", false },	{ "", false },
		{ "+33", false },	{ " 100", false },
	};
	char why[128];
	(void)state;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		why[0] = '\0';
		if ((ext_number_check(v[i].number, why, sizeof(why)) == 0) !=
		    v[i].ok)
			fail_msg("number \"%s\": %s", v[i].number, why);
		if (!v[i].ok && !why[0])
			fail_msg("number \"%s\" refused without a reason",
				 v[i].number);
	}
}


static void test_passwords(void **state)
{
	static const struct {
		const char *pw;
		const char *rule; /* NULL: accepted */
	} v[] = {
		{ "Str0ng-Pass!x", NULL },
		{ "Ec9mb_hvKZf+Mc%r", NULL },
		{ "correct-Horse-battery", NULL },
		{ "lowercase-and-digits-42", NULL },
		{ "Qm7:;<=>wKz", NULL },  /* symbols in a row are no run */
		{ "Qm789:wK-z", NULL },	  /* 789: is 3 digits then ':' */
		{ "Abc-7890-xyz", NULL }, /* 3 letters, 789 then 0 */
		{ "", "missing" },
		{ "Sh0rt!", "10 to 64 characters (it has 6)" },
		{ "Aa1-"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaa",
		  "10 to 64 characters (it has 65)" },
		{ "alllowercaseletters", "at least 3" },
		{ "ALLUPPER-LETTERS", "at least 3" },
		{ "onlyletters1and2", "at least 3" },
		{ "Has Space-12", "printable" },
		{ "Tab\there-12X", "printable" },
		{ "Caf\xc3\xa9-Latte-9", "printable" },
		{ "Ext100-Pass!", "extension number" },
		{ "Abcd-5678-xyz", "consecutive" },
		{ "Pass-9876-xyz", "consecutive" },
		{ "Good-1-wXyZ", "consecutive" },
		{ "Zzzz-Top-2024", "repeated" },
		{ "Top-2024-!!!!", "repeated" },
		{ "MyPassword-77", "\"password\"" },
		{ "MYPASSWORD-77", "\"password\"" },
		{ "Welcome@123", "commonly used" },
		{ "QWERTY@123", "commonly used" },
		{ "P@ssw0rd123", "commonly used" },
		{ "P@ssw0rd", "characters" },
		{ "Welcome1!", "characters" },
	};
	char why[256];
	(void)state;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int err;

		why[0] = '\0';
		err = ext_password_check("100", v[i].pw, why, sizeof(why));
		if (!v[i].rule && err)
			fail_msg("\"%s\" refused: %s", v[i].pw, why);
		if (v[i].rule && !err)
			fail_msg("\"%s\" accepted", v[i].pw);
		if (v[i].rule && !strstr(why, v[i].rule))
			fail_msg("\"%s\": \"%s\" does not name \"%s\"",
				 v[i].pw, why, v[i].rule);
		if (v[i].pw[0] && strstr(why, v[i].pw))
			fail_msg("the reason repeats the password: %s", why);
	}
}


static void test_create_and_passwd(void **state)
{
	char dir[] = "/tmp/relais-test-ext-XXXXXX";
	char path[128], why[256], ha1[DIGEST_HEX_MAX];
	struct store_ext ext;
	struct store *st = NULL;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	assert_int_equal(store_open(&st, path), 0);

	assert_int_equal(ext_create(st, "relais", "100", "Alice",
				    "Str0ng-Pass!x", why, sizeof(why)),
			 0);
	assert_int_equal(ext_create(st, "relais", "100", "Alice",
				    "Str0ng-Pass!x", why, sizeof(why)),
			 EEXIST);
	assert_non_null(strstr(why, "already exists"));
	assert_int_equal(ext_create(st, "relais", "101", "Bob", "weak", why,
				    sizeof(why)),
			 EINVAL);
	assert_non_null(strstr(why, "characters"));
	assert_int_equal(ext_create(st, "relais", "101", "Bob\nEvil",
				    "Str0ng-Pass!x", why, sizeof(why)),
			 EINVAL);
	assert_non_null(strstr(why, "control characters"));
	assert_int_equal(ext_create(st, "relais", "0101", "Bob",
				    "Str0ng-Pass!x", why, sizeof(why)),
			 EINVAL);
	assert_non_null(strstr(why, "start with 0"));
	assert_int_equal(store_ext_get(st, "101", &ext), ENOENT);

	/* a NULL name is an empty one */
	assert_int_equal(ext_create(st, "relais", "102", NULL, "Str0ng-Pass!x",
				    why, sizeof(why)),
			 0);
	assert_int_equal(store_ext_get(st, "102", &ext), 0);
	assert_string_equal(ext.name, "");

	/* only hashes are stored, and they are the digest HA1s */
	assert_int_equal(store_ext_get(st, "100", &ext), 0);
	assert_string_equal(ext.name, "Alice");
	assert_int_equal(digest_ha1(ha1, sizeof(ha1), DIGEST_MD5, "100",
				    "relais", "Str0ng-Pass!x"),
			 0);
	assert_string_equal(ext.ha1_md5, ha1);
	assert_int_equal(digest_ha1(ha1, sizeof(ha1), DIGEST_SHA256, "100",
				    "relais", "Str0ng-Pass!x"),
			 0);
	assert_string_equal(ext.ha1_sha256, ha1);

	assert_int_equal(ext_set_password(st, "relais", "100",
					  "Other-Secret-88", why, sizeof(why)),
			 0);
	assert_int_equal(store_ext_get(st, "100", &ext), 0);
	assert_int_equal(digest_ha1(ha1, sizeof(ha1), DIGEST_MD5, "100",
				    "relais", "Other-Secret-88"),
			 0);
	assert_string_equal(ext.ha1_md5, ha1);

	assert_int_equal(ext_set_password(st, "relais", "109",
					  "Other-Secret-88", why, sizeof(why)),
			 ENOENT);
	assert_non_null(strstr(why, "does not exist"));

	mem_deref(st);
	testdir_remove(dir);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_passwords),
		cmocka_unit_test(test_create_and_passwd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

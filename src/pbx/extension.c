/**
 * @file extension.c  Extensions: number plan and password policy
 *
 * Weak passwords are refused on creation and change (SPEC §5). Only the
 * digest hashes of a password are stored (MD5 and SHA-256 of
 * number:realm:password), never the password.
 */

#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "pbx/pbx.h"

#define DEBUG_MODULE "extension"

static const char *common_passwords[] = {
	"password",   "password1",    "passw0rd",   "p@ssw0rd",
	"p@ssword",   "secret",	      "secret123",  "voip",
	"voip1234",   "admin",	      "admin123",   "administrator",
	"welcome",    "welcome1",     "qwerty",	    "qwertyuiop",
	"azerty",     "azertyuiop",   "letmein",    "changeme",
	"iloveyou",   "sunshine",     "monkey",	    "dragon",
	"football",   "trustno1",     "123456789a", "abc123456",
	"1q2w3e4r5t", "1qaz2wsx3edc",
};


static int why_set(char *why, size_t sz, const char *fmt, ...)
{
	va_list ap;

	if (why && sz) {
		va_start(ap, fmt);
		(void)re_vsnprintf(why, sz, fmt, ap);
		va_end(ap);
	}

	return EINVAL;
}


/**
 * Check an extension number: digits only, 2 to 8 of them, not starting
 * with 0 (the outside-line prefix)
 *
 * @param number Extension number
 * @param why    Returned reason when refused
 * @param sz     Size of why
 *
 * @return 0 if acceptable, otherwise EINVAL
 */
int ext_number_check(const char *number, char *why, size_t sz)
{
	size_t n;

	if (!number || !number[0])
		return why_set(why, sz, "extension number is missing");

	n = strlen(number);
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)number[i]))
			return why_set(why, sz,
				       "extension number \"%s\" must be "
				       "digits "
				       "only",
				       number);
	}

	if (n < EXT_NUMBER_MIN_DIGITS || n > EXT_NUMBER_MAX_DIGITS)
		return why_set(why, sz,
			       "extension number must have %u to %u digits",
			       EXT_NUMBER_MIN_DIGITS, EXT_NUMBER_MAX_DIGITS);

	if (number[0] == '0')
		return why_set(why, sz,
			       "extension number must not start with 0 (the "
			       "outside-line prefix)");

	return 0;
}


static bool has_run(const char *pw, size_t n)
{
	/* 4 identical, or 4 ascending/descending, characters in a row,
	   whatever their case */
	for (size_t i = 0; i + 3 < n; i++) {
		const int a = tolower((unsigned char)pw[i]);
		bool same = true, up = true, down = true;

		for (size_t j = 1; j < 4; j++) {
			const int c = tolower((unsigned char)pw[i + j]);

			same &= (c == a);
			up &= (c == a + (int)j);
			down &= (c == a - (int)j);
		}

		if (same || ((up || down) && isalnum(a)))
			return true;
	}

	return false;
}


/**
 * Check a password against the policy
 *
 * @param number   Extension the password is for (it must not contain it)
 * @param password Password
 * @param why      Returned reason when refused, naming the rule
 * @param sz       Size of why
 *
 * @return 0 if acceptable, otherwise EINVAL
 */
int ext_password_check(const char *number, const char *password, char *why,
		       size_t sz)
{
	char lower[EXT_PASSWORD_MAX + 1];
	int classes = 0;
	bool lo = false, up = false, dig = false, sym = false;
	size_t n;

	if (!password)
		return why_set(why, sz, "password is missing");

	n = strlen(password);
	if (n < EXT_PASSWORD_MIN || n > EXT_PASSWORD_MAX)
		return why_set(why, sz,
			       "password must have %u to %u characters",
			       EXT_PASSWORD_MIN, EXT_PASSWORD_MAX);

	for (size_t i = 0; i < n; i++) {
		const int c = (unsigned char)password[i];

		if (c < 0x21 || c > 0x7e)
			return why_set(why, sz,
				       "password may only contain printable "
				       "ASCII characters without spaces");
		lo |= islower(c) != 0;
		up |= isupper(c) != 0;
		dig |= isdigit(c) != 0;
		sym |= !isalnum(c);
		lower[i] = (char)tolower(c);
	}
	lower[n] = '\0';

	classes = lo + up + dig + sym;
	if (classes < 3)
		return why_set(why, sz,
			       "password must mix at least 3 of: lower case, "
			       "upper case, digits, symbols");

	if (number && number[0] && strstr(password, number))
		return why_set(why, sz,
			       "password must not contain the extension "
			       "number");

	if (has_run(password, n))
		return why_set(why, sz,
			       "password must not contain 4 repeated or "
			       "consecutive characters (such as aaaa, 1234, "
			       "dcba)");

	if (strstr(lower, "password") || strstr(lower, "passw0rd"))
		return why_set(why, sz,
			       "password must not contain the word "
			       "\"password\"");

	for (size_t i = 0; i < ARRAY_SIZE(common_passwords); i++) {
		if (!strcmp(lower, common_passwords[i]))
			return why_set(why, sz,
				       "password is a commonly used one");
	}

	return 0;
}


static int ha1_both(const char *realm, const char *number,
		    const char *password, char *md5, char *sha256)
{
	int err;

	err = digest_ha1(md5, STORE_HA1_MAX, DIGEST_MD5, number, realm,
			 password);
	if (err)
		return err;

	return digest_ha1(sha256, STORE_HA1_MAX, DIGEST_SHA256, number, realm,
			  password);
}


/**
 * Create an extension
 *
 * @param st       Store
 * @param realm    Digest realm the hashes are made for
 * @param number   Extension number
 * @param name     Display name (may be empty)
 * @param password Password, checked against the policy
 * @param why      Returned reason when refused
 * @param sz       Size of why
 *
 * @return 0 if success, EINVAL (why says which rule), EEXIST, or errorcode
 */
int ext_create(struct store *st, const char *realm, const char *number,
	       const char *name, const char *password, char *why, size_t sz)
{
	struct store_ext ext;
	int err;

	if (!st || !realm)
		return EINVAL;

	err = ext_number_check(number, why, sz);
	if (err)
		return err;

	if (name && strlen(name) >= sizeof(ext.name))
		return why_set(why, sz, "name is longer than %zu characters",
			       sizeof(ext.name) - 1);

	err = ext_password_check(number, password, why, sz);
	if (err)
		return err;

	memset(&ext, 0, sizeof(ext));
	str_ncpy(ext.number, number, sizeof(ext.number));
	str_ncpy(ext.name, name ? name : "", sizeof(ext.name));

	err = ha1_both(realm, number, password, ext.ha1_md5, ext.ha1_sha256);
	if (err)
		return err;

	err = store_ext_add(st, &ext);
	if (err == EEXIST)
		why_set(why, sz, "extension %s already exists", number);
	else if (!err)
		log_info("extension %s created", number);

	return err;
}


/**
 * Set a new password for an extension
 *
 * @return 0 if success, EINVAL (why says which rule), ENOENT, or errorcode
 */
int ext_set_password(struct store *st, const char *realm, const char *number,
		     const char *password, char *why, size_t sz)
{
	char md5[STORE_HA1_MAX], sha256[STORE_HA1_MAX];
	int err;

	if (!st || !realm)
		return EINVAL;

	err = ext_number_check(number, why, sz);
	if (err)
		return err;

	err = ext_password_check(number, password, why, sz);
	if (err)
		return err;

	err = ha1_both(realm, number, password, md5, sha256);
	if (err)
		return err;

	err = store_ext_update_ha1(st, number, md5, sha256);
	if (err == ENOENT)
		why_set(why, sz, "extension %s does not exist", number);
	else if (!err)
		log_info("extension %s: password changed", number);

	return err;
}

/**
 * @file extension.c  Extensions: number plan and password policy
 *
 * Weak passwords are refused on creation and change (SPEC §5). Only the
 * digest hashes of a password are stored (MD5 and SHA-256 of
 * number:realm:password), never the password, and no message or log line
 * repeats a password.
 */

#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "pbx/pbx.h"

#define DEBUG_MODULE "extension"

enum {
	RUN_MAX = 3, /* 4 identical or sequential characters are refused */
};

/* Compared with the whole password, lower-cased. The bare words of the
   list are already refused by the length and class rules; the entries
   that pass them are what people type when told to add a digit and a
   symbol. */
static const char *const common_passwords[] = {
	"password",	"secret",	   "voip",
	"admin",	"welcome",	   "qwerty",
	"letmein",	"changeme",	   "administrator",
	"qwertyuiop",	"azertyuiop",	   "iloveyou",
	"p@ssw0rd1!",	"p@ssw0rd123",	   "p@ssw0rd2024",
	"welcome@123",	"welcome#123",	   "welcome123!",
	"qwerty@123",	"qwerty#123",	   "qwerty123!",
	"admin@2024",	"secret@123",	   "secret123!",
	"letmein@123",	"changeme@1",	   "changeme1!",
	"changeme@123", "iloveyou@1",	   "iloveyou1!",
	"sunshine@1",	"sunshine1!",	   "football@1",
	"monkey@123",	"dragon@123",	   "azerty@123",
	"1q2w3e4r5t!",	"1qaz2wsx!@",	   "1qaz@wsx3edc",
	"qwe@123asd",	"summer2024!",	   "winter2024!",
	"spring2024!",	"autumn2024!",	   "company@123",
	"office@123",	"administrator1!", "trustno1@123",
	"admin@2023",	"voip@sip123",
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
 * Check an extension number: digits only, EXT_NUMBER_MIN_DIGITS to
 * EXT_NUMBER_MAX_DIGITS of them, not starting with 0 (the outside-line
 * prefix)
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
				       "extension number must be digits only "
				       "(0-9)");
	}

	if (n < EXT_NUMBER_MIN_DIGITS || n > EXT_NUMBER_MAX_DIGITS)
		return why_set(why, sz,
			       "extension number must have %u to %u digits "
			       "(it has %zu)",
			       EXT_NUMBER_MIN_DIGITS, EXT_NUMBER_MAX_DIGITS,
			       n);

	if (number[0] == '0')
		return why_set(why, sz,
			       "extension number must not start with 0 (the "
			       "outside-line prefix)");

	return 0;
}


/* which kind of sequence a character can take part in: 1234 or abcd */
static int seq_class(int c)
{
	if (isdigit(c))
		return 1;
	if (isalpha(c))
		return 2;

	return 0;
}


/* 4 identical characters in a row (aaaa, ----), or 4 ascending or
   descending digits or letters (1234, 4321, abcd, DcBa), any case */
static bool has_run(const char *pw, size_t n)
{
	for (size_t i = 0; i + RUN_MAX < n; i++) {
		const int a = tolower((unsigned char)pw[i]);
		const int cls = seq_class(a);
		bool same = true, up = true, down = true;

		for (size_t j = 1; j <= RUN_MAX; j++) {
			const int c = tolower((unsigned char)pw[i + j]);

			same &= (c == a);
			up &= (c == a + (int)j) && seq_class(c) == cls;
			down &= (c == a - (int)j) && seq_class(c) == cls;
		}

		if (same || (cls && (up || down)))
			return true;
	}

	return false;
}


static bool is_common(const char *lower)
{
	for (size_t i = 0; i < ARRAY_SIZE(common_passwords); i++) {
		if (!strcmp(lower, common_passwords[i]))
			return true;
	}

	return false;
}


/**
 * Check a password against the policy (SPEC §5): EXT_PASSWORD_MIN to
 * EXT_PASSWORD_MAX printable ASCII characters without spaces, at least 3
 * of lower case, upper case, digits and symbols, not containing the
 * extension number, no run of 4 identical or sequential characters, not
 * containing "password" and not a commonly used password
 *
 * @param number   Extension the password is for (may be NULL)
 * @param password Password
 * @param why      Returned reason when refused, naming the rule; it never
 *                 repeats the password
 * @param sz       Size of why
 *
 * @return 0 if acceptable, otherwise EINVAL
 */
int ext_password_check(const char *number, const char *password, char *why,
		       size_t sz)
{
	char lower[EXT_PASSWORD_MAX + 1];
	bool lo = false, up = false, dig = false, sym = false;
	size_t n;

	if (!password || !password[0])
		return why_set(why, sz, "password is missing");

	n = strlen(password);
	if (n < EXT_PASSWORD_MIN || n > EXT_PASSWORD_MAX)
		return why_set(why, sz,
			       "password must have %u to %u characters (it "
			       "has %zu)",
			       EXT_PASSWORD_MIN, EXT_PASSWORD_MAX, n);

	for (size_t i = 0; i < n; i++) {
		const int c = (unsigned char)password[i];

		if (c < 0x21 || c > 0x7e)
			return why_set(why, sz,
				       "password may only contain printable "
				       "ASCII characters, without spaces");
		lo |= islower(c) != 0;
		up |= isupper(c) != 0;
		dig |= isdigit(c) != 0;
		sym |= !isalnum(c);
		lower[i] = (char)tolower(c);
	}
	lower[n] = '\0';

	if (lo + up + dig + sym < 3)
		return why_set(why, sz,
			       "password must mix at least 3 of: lower case "
			       "letters, upper case letters, digits, "
			       "symbols");

	if (number && number[0] && strstr(password, number))
		return why_set(why, sz,
			       "password must not contain the extension "
			       "number");

	if (has_run(password, n))
		return why_set(why, sz,
			       "password must not contain 4 repeated or "
			       "consecutive characters (such as aaaa, 1234, "
			       "dcba)");

	if (strstr(lower, "password"))
		return why_set(why, sz,
			       "password must not contain the word "
			       "\"password\"");

	if (is_common(lower))
		return why_set(why, sz,
			       "password is a commonly used one; choose one "
			       "that is not a word with a digit and a symbol "
			       "added");

	return 0;
}


/* a display name: at most STORE_NAME_MAX - 1 bytes, no control
   characters (it goes into logs, tables and JSON) */
static int name_check(const char *name, char *why, size_t sz)
{
	const size_t n = name ? strlen(name) : 0;

	if (n >= STORE_NAME_MAX)
		return why_set(why, sz, "name must have at most %u bytes",
			       STORE_NAME_MAX - 1);

	for (size_t i = 0; i < n; i++) {
		const unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f)
			return why_set(why, sz,
				       "name must not contain control "
				       "characters");
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
 * Create an extension; only the digest HA1s of its password are stored
 *
 * @param st       Store
 * @param realm    Digest realm the hashes are made for
 * @param number   Extension number
 * @param name     Display name (may be NULL or empty)
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

	err = name_check(name, why, sz);
	if (err)
		return err;

	err = ext_password_check(number, password, why, sz);
	if (err)
		return err;

	memset(&ext, 0, sizeof(ext));
	str_ncpy(ext.number, number, sizeof(ext.number));
	str_ncpy(ext.name, name ? name : "", sizeof(ext.name));

	err = ha1_both(realm, number, password, ext.ha1_md5, ext.ha1_sha256);
	if (err)
		goto out;

	err = store_ext_add(st, &ext);
	if (err == EEXIST)
		why_set(why, sz, "extension %s already exists", number);
	else if (!err)
		log_info("extension %s created", number);

out:
	/* the hashes are as good as the password to an attacker */
	memset(&ext, 0, sizeof(ext));

	return err;
}


/**
 * Set a new password for an extension
 *
 * @param st       Store
 * @param realm    Digest realm the hashes are made for
 * @param number   Extension number
 * @param password New password, checked against the policy
 * @param why      Returned reason when refused
 * @param sz       Size of why
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
		goto out;

	err = store_ext_update_ha1(st, number, md5, sha256);
	if (err == ENOENT)
		why_set(why, sz, "extension %s does not exist", number);
	else if (!err)
		log_info("extension %s: password changed", number);

out:
	memset(md5, 0, sizeof(md5));
	memset(sha256, 0, sizeof(sha256));

	return err;
}

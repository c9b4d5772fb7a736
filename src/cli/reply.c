/**
 * @file reply.c  Reading relaisd's JSON answers and printing them: the
 *                helpers every command shares
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "cli/cli.h"

enum {
	U32_DIGITS_MAX = 10,
};


/**
 * A string member of an answer
 *
 * @param o   JSON object
 * @param key Member name
 *
 * @return its text, "" when absent or not a string
 */
const char *reply_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}


/**
 * An integer member of an answer
 *
 * @param o   JSON object
 * @param key Member name
 *
 * @return its value, 0 when absent or not an integer
 */
long long reply_int(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}


/**
 * A boolean member of an answer
 *
 * @param o   JSON object
 * @param key Member name
 *
 * @return true only when it is present and true
 */
bool reply_bool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}


/**
 * Print an answer as indented JSON (--json)
 *
 * @param j JSON value (NULL prints nothing)
 */
void reply_print(const json_t *j)
{
	char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

	if (text) {
		puts(text);
		free(text);
	}
}


/**
 * Local date and time of a Unix time, "-" for none
 *
 * @param buf    Output buffer
 * @param sz     Size of buf
 * @param unix_s Unix time; 0 or less prints "-"
 */
void time_fmt(char *buf, size_t sz, long long unix_s)
{
	const time_t t = (time_t)unix_s;
	struct tm tm;

	if (unix_s <= 0 || !localtime_r(&t, &tm) ||
	    !strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, sz, "-");
}


/**
 * A duration as H:MM:SS
 *
 * @param buf Output buffer
 * @param sz  Size of buf
 * @param s   Seconds (negative prints 0:00:00)
 */
void duration_fmt(char *buf, size_t sz, long long s)
{
	if (s < 0)
		s = 0;

	snprintf(buf, sz, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60,
		 s % 60);
}


/**
 * The value of a numeric option: digits only, 0 to 4294967295 (relaisd
 * checks the range that applies)
 *
 * @param opt Option name, for the message
 * @param s   Its value
 * @param val Returned number
 *
 * @return CTL_OK or CTL_USAGE (message printed)
 */
int arg_u32(const char *opt, const char *s, long long *val)
{
	const size_t n = strlen(s);
	long long v = 0;

	if (!n || n > U32_DIGITS_MAX || strspn(s, "0123456789") != n)
		return ctl_usage_error("%s needs a whole number", opt);

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v > 4294967295LL)
		return ctl_usage_error("%s needs a whole number", opt);

	*val = v;
	return CTL_OK;
}

/**
 * @file hours.c  Office hours and holidays
 *
 * A weekday holds opening ranges "08:30-12:00,13:30-18:00"; the gaps are
 * the breaks. A range includes its start minute and excludes its end, so
 * "08:00-12:00,12:00-14:00" is open without a gap and "00:00-24:00" is the
 * whole day. Holidays are dates or date ranges, optionally every year,
 * and win over the weekly schedule.
 */

#include <string.h>
#include <time.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "pbx/pbx.h"
#include "pbx/pbx_int.h"

#define DEBUG_MODULE "hours"

enum {
	MINUTES_DAY = 24 * 60,
	RANGES_MAX = 16,
	YEAR_MIN = 1970,
	YEAR_MAX = 9999,
};

struct span {
	uint32_t start; /* minutes since midnight, included */
	uint32_t end;	/* excluded */
};

struct date {
	uint32_t y, m, d;
};


/* "HH:MM" with two digits each; 24:00 only when end is allowed */
static bool clock_parse(const struct pl *pl, bool end, uint32_t *min)
{
	struct pl hh, mm;
	uint32_t h, m;

	if (pl->l != 5 || pl->p[2] != ':')
		return false;

	hh.p = pl->p;
	hh.l = 2;
	mm.p = pl->p + 3;
	mm.l = 2;
	if (num_u32(&hh, 0, 24, &h) || num_u32(&mm, 0, 59, &m))
		return false;
	if (h == 24 && (m || !end))
		return false;

	*min = h * 60 + m;
	return true;
}


static bool span_parse(const struct pl *item, struct span *sp)
{
	struct pl a, b;
	const char *dash = pl_strchr(item, '-');

	if (!dash)
		return false;

	a.p = item->p;
	a.l = (size_t)(dash - item->p);
	b.p = dash + 1;
	b.l = item->l - a.l - 1;

	return clock_parse(&a, false, &sp->start) &&
	       clock_parse(&b, true, &sp->end);
}


/* Parse all ranges of a day; EINVAL with why on the first bad one */
static int spans_parse(const char *ranges, struct span *v, size_t *n,
		       char *why, size_t sz)
{
	const char *pos = ranges;
	struct pl item;

	*n = 0;
	if (!ranges || !ranges[0])
		return 0;

	while (pbx_item_next(&pos, &item)) {
		struct span sp;

		if (!span_parse(&item, &sp))
			return pbx_why(why, sz,
				       "ranges: '%r' is not HH:MM-HH:MM "
				       "(00:00 to 24:00, e.g. "
				       "08:30-12:00,13:30-18:00)",
				       &item);
		if (sp.start >= sp.end)
			return pbx_why(why, sz,
				       "ranges: '%r' ends before it starts",
				       &item);
		if (*n == RANGES_MAX)
			return pbx_why(why, sz,
				       "ranges: more than %u ranges in a day",
				       RANGES_MAX);

		for (size_t i = 0; i < *n; i++) {
			if (sp.start < v[i].end && v[i].start < sp.end)
				return pbx_why(why, sz,
					       "ranges: '%r' overlaps another "
					       "range of the day",
					       &item);
		}

		v[(*n)++] = sp;
	}

	return 0;
}


/**
 * Validate the office hours of one day
 *
 * @param ranges "08:30-12:00,13:30-18:00": ranges HH:MM-HH:MM from 00:00
 *               to 24:00, each starting before it ends, not overlapping;
 *               "" = closed all day
 * @param why    Returned reason when refused
 * @param sz     Size of why
 *
 * @return 0 or EINVAL
 */
int hours_ranges_validate(const char *ranges, char *why, size_t sz)
{
	struct span v[RANGES_MAX];
	size_t n;

	return spans_parse(ranges, v, &n, why, sz);
}


static bool leap(uint32_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}


static uint32_t month_days(uint32_t y, uint32_t m)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : days[m - 1];
}


/* "YYYY-MM-DD", a date that exists */
static bool date_parse(const char *s, struct date *dt)
{
	struct pl y, m, d;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;

	y.p = s;
	y.l = 4;
	m.p = s + 5;
	m.l = 2;
	d.p = s + 8;
	d.l = 2;

	if (num_u32(&y, YEAR_MIN, YEAR_MAX, &dt->y) ||
	    num_u32(&m, 1, 12, &dt->m) || num_u32(&d, 1, 31, &dt->d))
		return false;

	return dt->d <= month_days(dt->y, dt->m);
}


static uint32_t date_key(const struct date *dt, bool yearly)
{
	const uint32_t md = dt->m * 100 + dt->d;

	return yearly ? md : dt->y * 10000 + md;
}


/**
 * Validate a holiday: first and last are dates that exist (YYYY-MM-DD,
 * an empty last means the first day only); first <= last, except for a
 * yearly holiday whose range may wrap over New Year (12-24 to 01-02)
 *
 * @param h   Holiday
 * @param why Returned reason when refused
 * @param sz  Size of why
 *
 * @return 0 or EINVAL
 */
int holiday_validate(const struct store_holiday *h, char *why, size_t sz)
{
	struct date first, last;
	int err;

	if (!h)
		return pbx_why(why, sz, "holiday is missing");

	err = pbx_text_check("name", h->name, NULL, why, sz);
	if (err)
		return err;

	if (!date_parse(h->first, &first))
		return pbx_why(why, sz,
			       "first: '%s' is not a date (YYYY-MM-DD, a day "
			       "that exists)",
			       h->first);

	if (!h->last[0])
		return 0;

	if (!date_parse(h->last, &last))
		return pbx_why(why, sz,
			       "last: '%s' is not a date (YYYY-MM-DD, a day "
			       "that exists)",
			       h->last);

	if (!h->yearly && date_key(&first, false) > date_key(&last, false))
		return pbx_why(why, sz,
			       "last: %s is before first %s (only a yearly "
			       "holiday may wrap over New Year)",
			       h->last, h->first);

	return 0;
}


static bool holiday_covers(const struct store_holiday *h,
			   const struct date *today)
{
	struct date first, last;
	uint32_t a, b, k;

	if (!date_parse(h->first, &first))
		return false;
	if (!h->last[0])
		last = first;
	else if (!date_parse(h->last, &last))
		return false;

	a = date_key(&first, h->yearly);
	b = date_key(&last, h->yearly);
	k = date_key(today, h->yearly);

	/* a yearly range from 12-24 to 01-02 covers both ends of a year */
	if (a > b)
		return h->yearly && (k >= a || k <= b);

	return k >= a && k <= b;
}


static bool day_open(const char *ranges, uint32_t minute)
{
	struct span v[RANGES_MAX];
	size_t n;

	if (spans_parse(ranges, v, &n, NULL, 0))
		return false;

	for (size_t i = 0; i < n; i++) {
		if (minute >= v[i].start && minute < v[i].end)
			return true;
	}

	return false;
}


/**
 * State of the office at a local time: a holiday covering the date wins;
 * otherwise the day's ranges decide (a day without ranges is closed), and
 * a week where no day has ranges is always open
 *
 * @param week 7 days, Monday first (their day member is not consulted)
 * @param holv Holidays (may be NULL when holc is 0)
 * @param holc Number of holidays
 * @param tm   Local time (tm_year, tm_mon, tm_mday, tm_wday, tm_hour and
 *             tm_min are used)
 *
 * @return HOURS_HOLIDAY, HOURS_OPEN or HOURS_CLOSED
 */
enum hours_state hours_state_at(const struct store_hours week[7],
				const struct store_holiday *holv, size_t holc,
				const struct tm *tm)
{
	struct date today;
	bool schedule = false;
	uint32_t wday, minute;

	if (!tm || tm->tm_wday < 0 || tm->tm_wday > 6)
		return HOURS_OPEN;

	today.y = (uint32_t)(tm->tm_year + 1900);
	today.m = (uint32_t)(tm->tm_mon + 1);
	today.d = (uint32_t)tm->tm_mday;

	for (size_t i = 0; holv && i < holc; i++) {
		if (holiday_covers(&holv[i], &today))
			return HOURS_HOLIDAY;
	}

	for (size_t i = 0; week && i < 7; i++)
		schedule |= week[i].ranges[0] != '\0';

	if (!schedule)
		return HOURS_OPEN;

	/* tm_wday counts from Sunday; week[] from Monday */
	wday = (uint32_t)(tm->tm_wday + 6) % 7;
	minute = (uint32_t)(tm->tm_hour * 60 + tm->tm_min);
	if (minute >= MINUTES_DAY)
		return HOURS_CLOSED;

	return day_open(week[wday].ranges, minute) ? HOURS_OPEN : HOURS_CLOSED;
}

/**
 * @file test_hours.c  Office hours, holidays, state at a given time
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "pbx/pbx.h"


static void test_ranges(void **state)
{
	static const struct {
		const char *ranges;
		const char *word; /* NULL: accepted */
	} v[] = {
		{ "", NULL },
		{ "08:30-12:00,13:30-18:00", NULL },
		{ "00:00-24:00", NULL },
		{ "08:00-12:00,12:00-14:00",
		  NULL }, /* touching is no overlap */
		{ "13:30-18:00,08:30-12:00", NULL }, /* any order */
		{ "08:30-12:00, 13:30-18:00", NULL },
		{ "23:59-24:00", NULL },
		{ "8:30-12:00", "HH:MM-HH:MM" },
		{ "08:30-12:00,", "HH:MM-HH:MM" },
		{ "08:30", "HH:MM-HH:MM" },
		{ "08:30-", "HH:MM-HH:MM" },
		{ "08h30-12:00", "HH:MM-HH:MM" },
		{ "08:60-12:00", "HH:MM-HH:MM" },
		{ "25:00-26:00", "HH:MM-HH:MM" },
		{ "24:00-24:00", "HH:MM-HH:MM" }, /* 24:00 only ends */
		{ "08:00-24:01", "HH:MM-HH:MM" },
		{ "+8:00-12:00", "HH:MM-HH:MM" },
		{ "12:00-08:00", "ends before it starts" },
		{ "12:00-12:00", "ends before it starts" },
		{ "08:00-12:00,11:00-14:00", "overlaps" },
		{ "08:00-18:00,09:00-10:00", "overlaps" },
		{ "09:00-10:00,08:00-18:00", "overlaps" },
	};
	char why[160];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		int err;

		why[0] = '\0';
		err = hours_ranges_validate(v[i].ranges, why, sizeof(why));
		if (!v[i].word && err)
			fail_msg("\"%s\" refused: %s", v[i].ranges, why);
		if (v[i].word && err != EINVAL)
			fail_msg("\"%s\" accepted", v[i].ranges);
		if (v[i].word && !strstr(why, v[i].word))
			fail_msg("\"%s\": '%s' does not say '%s'", v[i].ranges,
				 why, v[i].word);
	}
}


static void holiday_set(struct store_holiday *h, const char *first,
			const char *last, bool yearly)
{
	memset(h, 0, sizeof(*h));
	str_ncpy(h->name, "holiday", sizeof(h->name));
	str_ncpy(h->first, first, sizeof(h->first));
	str_ncpy(h->last, last, sizeof(h->last));
	h->yearly = yearly;
}


static void test_holiday_validate(void **state)
{
	static const struct {
		const char *first;
		const char *last;
		bool yearly;
		const char *word; /* NULL: accepted */
	} v[] = {
		{ "2025-05-01", "2025-05-01", false, NULL },
		{ "2025-05-01", "", false, NULL },
		{ "2025-12-24", "2026-01-02", false, NULL },
		{ "2024-02-29", "2024-02-29", false, NULL },
		{ "2000-02-29", "2000-02-29", true, NULL },
		{ "2025-12-24", "2025-01-02", true, NULL }, /* wraps */
		{ "2025-12-24", "2026-01-02", true, NULL },
		{ "2025-12-24", "2025-01-02", false, "before first" },
		{ "2025-05-02", "2025-05-01", false, "before first" },
		{ "2025-02-29", "2025-02-29", false, "first" },
		{ "1900-02-29", "", true, "first" },
		{ "2025-04-31", "", false, "first" },
		{ "2025-13-01", "", false, "first" },
		{ "2025-00-10", "", false, "first" },
		{ "2025-01-00", "", false, "first" },
		{ "2025-1-01", "", false, "first" },
		{ "25-01-01", "", false, "first" },
		{ "", "", false, "first" },
		{ "2025/01/01", "", false, "first" },
		{ "2025-01-01", "2025-01-32", false, "last" },
		{ "2025-01-01", "tomorrow", false, "last" },
	};
	struct store_holiday h;
	char why[160];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		int err;

		holiday_set(&h, v[i].first, v[i].last, v[i].yearly);
		why[0] = '\0';
		err = holiday_validate(&h, why, sizeof(why));
		if (!v[i].word && err)
			fail_msg("%s..%s refused: %s", v[i].first, v[i].last,
				 why);
		if (v[i].word && err != EINVAL)
			fail_msg("%s..%s accepted", v[i].first, v[i].last);
		if (v[i].word && !strstr(why, v[i].word))
			fail_msg("%s..%s: '%s' does not say '%s'", v[i].first,
				 v[i].last, why, v[i].word);
	}

	holiday_set(&h, "2025-05-01", "", false);
	str_ncpy(h.name, "May\tday", sizeof(h.name));
	assert_int_equal(holiday_validate(&h, why, sizeof(why)), EINVAL);
	assert_int_equal(holiday_validate(NULL, why, sizeof(why)), EINVAL);
}


/* A local time; wday is given rather than computed so that the test does
   not depend on mktime() or the time zone */
static struct tm at(int y, int mon, int mday, int wday, int h, int min)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_wday = wday; /* 0 = Sunday */
	tm.tm_hour = h;
	tm.tm_min = min;

	return tm;
}


static void week_set(struct store_hours week[7], const char *weekday,
		     const char *saturday, const char *sunday)
{
	memset(week, 0, 7 * sizeof(*week));
	for (uint32_t i = 0; i < 7; i++) {
		const char *r = i < 5 ? weekday : i == 5 ? saturday : sunday;

		week[i].day = i;
		str_ncpy(week[i].ranges, r, sizeof(week[i].ranges));
	}
}


static void test_state_weekly(void **state)
{
	struct store_hours week[7];
	struct tm tm;
	(void)state;

	week_set(week, "08:30-12:00,13:30-18:00", "09:00-12:00", "");

	/* Wednesday 2025-06-04 */
	tm = at(2025, 6, 4, 3, 10, 0);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_OPEN);
	tm = at(2025, 6, 4, 3, 8, 29);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_CLOSED);
	tm = at(2025, 6, 4, 3, 8, 30); /* start included */
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_OPEN);
	tm = at(2025, 6, 4, 3, 12, 0); /* end excluded: lunch break */
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_CLOSED);
	tm = at(2025, 6, 4, 3, 13, 0);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_CLOSED);
	tm = at(2025, 6, 4, 3, 17, 59);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_OPEN);
	tm = at(2025, 6, 4, 3, 22, 0);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_CLOSED);

	/* Saturday morning only, Sunday closed */
	tm = at(2025, 6, 7, 6, 10, 0);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_OPEN);
	tm = at(2025, 6, 7, 6, 14, 0);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_CLOSED);
	tm = at(2025, 6, 8, 0, 10, 0);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_CLOSED);

	/* Monday is week[0] */
	week_set(week, "", "", "");
	str_ncpy(week[0].ranges, "00:00-24:00", sizeof(week[0].ranges));
	tm = at(2025, 6, 2, 1, 23, 59);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_OPEN);
	tm = at(2025, 6, 2, 1, 0, 0);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_OPEN);
	tm = at(2025, 6, 3, 2, 0, 0);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_CLOSED);
	tm = at(2025, 6, 1, 0, 12, 0);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_CLOSED);

	/* no schedule at all: always open */
	week_set(week, "", "", "");
	tm = at(2025, 6, 8, 0, 3, 0);
	assert_int_equal(hours_state_at(week, NULL, 0, &tm), HOURS_OPEN);
	assert_int_equal(hours_state_at(NULL, NULL, 0, &tm), HOURS_OPEN);
}


static void test_state_holidays(void **state)
{
	struct store_hours week[7];
	struct store_holiday hol[3];
	struct tm tm;
	(void)state;

	week_set(week, "08:30-18:00", "", "");
	holiday_set(&hol[0], "2025-05-01", "2025-05-01", true);
	holiday_set(&hol[1], "2025-12-24", "2026-01-02", true);
	holiday_set(&hol[2], "2025-08-11", "2025-08-15", false);

	/* 1 May, a Thursday, every year */
	tm = at(2025, 5, 1, 4, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_HOLIDAY);
	tm = at(2031, 5, 1, 4, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_HOLIDAY);
	tm = at(2025, 5, 2, 5, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_OPEN);
	/* a holiday wins at night and on closed days too */
	tm = at(2025, 5, 1, 4, 23, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_HOLIDAY);

	/* the yearly range over New Year, in later years too */
	tm = at(2027, 12, 24, 5, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_HOLIDAY);
	tm = at(2027, 12, 31, 5, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_HOLIDAY);
	tm = at(2028, 1, 2, 0, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_HOLIDAY);
	tm = at(2028, 1, 3, 1, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_OPEN);
	tm = at(2027, 12, 23, 4, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_OPEN);

	/* a range of one year only */
	tm = at(2025, 8, 11, 1, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_HOLIDAY);
	tm = at(2025, 8, 15, 5, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_HOLIDAY);
	tm = at(2025, 8, 16, 6, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_CLOSED);
	tm = at(2026, 8, 12, 3, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 3, &tm), HOURS_OPEN);

	/* a dated range across New Year, not yearly */
	holiday_set(&hol[0], "2025-12-29", "2026-01-02", false);
	tm = at(2025, 12, 30, 2, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 1, &tm), HOURS_HOLIDAY);
	tm = at(2026, 1, 2, 5, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 1, &tm), HOURS_HOLIDAY);
	tm = at(2026, 12, 30, 3, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 1, &tm), HOURS_OPEN);

	/* one day with an empty last */
	holiday_set(&hol[0], "2025-07-14", "", false);
	tm = at(2025, 7, 14, 1, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 1, &tm), HOURS_HOLIDAY);
	tm = at(2025, 7, 15, 2, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 1, &tm), HOURS_OPEN);

	/* holidays apply when there is no weekly schedule either */
	week_set(week, "", "", "");
	tm = at(2025, 7, 14, 1, 10, 0);
	assert_int_equal(hours_state_at(week, hol, 1, &tm), HOURS_HOLIDAY);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_holiday_validate),
		cmocka_unit_test(test_state_weekly),
		cmocka_unit_test(test_state_holidays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

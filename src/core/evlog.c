/**
 * @file evlog.c  Operator event log with the fixed IDs of SPEC §8
 *
 * Events go to the normal log (and so to syslog when configured) with a
 * recognisable "event NNNN" prefix that mail and syslog forwarding key on.
 */

#include <stdarg.h>
#include <re.h>
#include "core/core.h"

#define DEBUG_MODULE "event"

static const struct {
	enum evlog_id id;
	const char *desc;
} events[] = {
#define EV(num, sym, d) { EV_##sym, d },
#include "core/events.inc"
#undef EV
};


/**
 * Describe an event ID
 *
 * @param id Event ID
 *
 * @return Description, or NULL if the ID is not known
 */
const char *evlog_describe(enum evlog_id id)
{
	for (size_t i = 0; i < ARRAY_SIZE(events); i++) {
		if (events[i].id == id)
			return events[i].desc;
	}

	return NULL;
}


/**
 * Emit an operator event
 *
 * @param id  Event ID from events.inc
 * @param fmt Details, libre format codes
 */
void evlog_emit(enum evlog_id id, const char *fmt, ...)
{
	char detail[512];
	const char *desc = evlog_describe(id);
	va_list ap;

	va_start(ap, fmt);
	(void)re_vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);

	log_msg(LOG_LVL_NOTICE, DEBUG_MODULE, "event %u (%s): %s",
		(unsigned)id, desc ? desc : "unknown", detail);
}

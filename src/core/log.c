/**
 * @file log.c  Logging to stderr or syslog, with a per-thread context
 *
 * A line reads "LEVEL module: [context] text". The context is set by the
 * handler that entered a call or registration (log_ctx_set()) so every line
 * it writes names the call (STYLE.md §4).
 */

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <re.h>
#define DEBUG_MODULE "log"
#define DEBUG_LEVEL  0
#include <re_dbg.h>
#include "core/core.h"

static enum log_level cur_level = LOG_LVL_INFO;
static enum log_target cur_target = LOG_TARGET_STDERR;
static _Thread_local char ctx_buf[96];

static const char *level_names[] = {
	[LOG_LVL_DEBUG] = "debug",   [LOG_LVL_INFO] = "info",
	[LOG_LVL_NOTICE] = "notice", [LOG_LVL_WARN] = "warning",
	[LOG_LVL_ERROR] = "error",
};

static const int level_syslog[] = {
	[LOG_LVL_DEBUG] = LOG_DEBUG,   [LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_NOTICE] = LOG_NOTICE, [LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_ERROR] = LOG_ERR,
};


/* libre's own debug output joins ours (STYLE.md §4). */
static void re_dbg_handler(int level, const char *p, size_t len, void *arg)
{
	enum log_level lvl;
	(void)arg;

	switch (level) {
	case DBG_EMERG:
	case DBG_ALERT:
	case DBG_CRIT:
	case DBG_ERR:
		lvl = LOG_LVL_ERROR;
		break;
	case DBG_WARNING:
		lvl = LOG_LVL_WARN;
		break;
	case DBG_NOTICE:
		lvl = LOG_LVL_NOTICE;
		break;
	case DBG_INFO:
		lvl = LOG_LVL_INFO;
		break;
	default:
		lvl = LOG_LVL_DEBUG;
		break;
	}

	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		--len;

	log_msg(lvl, "libre", "%b", p, len);
}


/**
 * Set up logging
 *
 * @param level  Lowest level written
 * @param target Where lines go
 */
void log_setup(enum log_level level, enum log_target target)
{
	cur_level = level;
	cur_target = target;

	if (target == LOG_TARGET_SYSLOG)
		openlog("relaisd", LOG_PID | LOG_NDELAY, LOG_DAEMON);

	dbg_init(DBG_WARNING, DBG_NONE);
	dbg_handler_set(re_dbg_handler, NULL);
}


void log_set_level(enum log_level level)
{
	cur_level = level;
}


enum log_level log_get_level(void)
{
	return cur_level;
}


void log_close(void)
{
	dbg_handler_set(NULL, NULL);
	if (cur_target == LOG_TARGET_SYSLOG)
		closelog();
}


/**
 * Name the call or registration that the following lines of this thread
 * are about
 *
 * @param ctx Context such as a Call-ID, or NULL to clear
 */
void log_ctx_set(const char *ctx)
{
	if (!ctx) {
		ctx_buf[0] = '\0';
		return;
	}

	str_ncpy(ctx_buf, ctx, sizeof(ctx_buf));
}


void log_ctx_clear(void)
{
	ctx_buf[0] = '\0';
}


/**
 * Write one log line; format codes are libre's (%m, %r, %J, %H ...)
 *
 * @param level  Level of the line
 * @param module Module tag
 * @param fmt    Formatted string
 */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (level < cur_level)
		return;

	va_start(ap, fmt);
	n = re_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;

	/* trailing newlines are ours to add */
	n = (int)strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';

	if (cur_target == LOG_TARGET_SYSLOG) {
		syslog(level_syslog[level], "%s: %s%s%s%s", module,
		       ctx_buf[0] ? "[" : "", ctx_buf, ctx_buf[0] ? "] " : "",
		       line);
		return;
	}

	{
		struct timespec ts;
		struct tm tm;
		char tbuf[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %-7s %s: %s%s%s%s\n", tbuf,
			ts.tv_nsec / 1000000, level_names[level], module,
			ctx_buf[0] ? "[" : "", ctx_buf, ctx_buf[0] ? "] " : "",
			line);
	}
}


/**
 * Parse a level name
 *
 * @param level Returned level
 * @param name  debug, info, notice, warning or error
 *
 * @return 0 if success, otherwise EINVAL
 */
int log_level_parse(enum log_level *level, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (!strcasecmp(name, level_names[i])) {
			*level = (enum log_level)i;
			return 0;
		}
	}

	return EINVAL;
}


const char *log_level_name(enum log_level level)
{
	if ((size_t)level >= ARRAY_SIZE(level_names))
		return "?";

	return level_names[level];
}

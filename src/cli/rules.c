/**
 * @file rules.c  relaisctl's routing commands: outbound and inbound rules,
 *                office hours and holidays
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli/cli.h"

enum {
	PATH_MAX_LEN = 96,
	ROUTES_TEXT_MAX = 512,
};


static int oom(void)
{
	fprintf(stderr, "relaisctl: out of memory\n");
	return CTL_REFUSED;
}


/* key: the option's text, when it was given */
static int text_add(json_t *body, const char *key, const char *val,
		    const char *opt)
{
	json_t *v;

	if (!val)
		return CTL_OK;

	v = json_string(val);
	if (!v)
		return ctl_usage_error("%s must be UTF-8 text", opt);

	return json_object_set_new(body, key, v) ? oom() : CTL_OK;
}


/* key: the option's number, when it was given */
static int number_add(json_t *body, const char *key, const char *val,
		      const char *opt)
{
	long long n;
	int ret;

	if (!val)
		return CTL_OK;

	ret = arg_u32(opt, val, &n);
	if (ret)
		return ret;

	return json_object_set_new(body, key, json_integer(n)) ? oom()
							       : CTL_OK;
}


/* DELETE path, then "WHAT ID removed" */
static int remove_send(const struct ctl *ctl, const char *path,
		       const char *what, const char *id)
{
	json_t *out;
	int ret;

	ret = client_request(ctl, "DELETE", path, NULL, &out);
	json_decref(out);
	if (ret)
		return ret;

	if (ctl->json) {
		json_t *j = json_pack("{s:s,s:b}", "id", id, "removed", 1);

		reply_print(j);
		json_decref(j);
	}
	else {
		printf("%s %s removed\n", what, id);
	}

	return CTL_OK;
}


/* ---- outbound rules ------------------------------------------------- */

/* --route TRUNK[:STRIP[:PREPEND]] or --route blocked */
static int route_parse(const char *s, json_t **rp)
{
	const char *c1, *c2;
	char trunk[64], strip[16];
	long long n = 0;
	json_t *r;
	int ret;

	if (!strcmp(s, "blocked")) {
		*rp = json_pack("{s:b}", "blocked", 1);
		return *rp ? CTL_OK : oom();
	}

	c1 = strchr(s, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if ((c1 ? (size_t)(c1 - s) : strlen(s)) >= sizeof(trunk) ||
	    (c1 && c1 == s) || (!c1 && !s[0]))
		return ctl_usage_error("--route needs TRUNK[:STRIP[:PREPEND]] "
				       "or blocked");

	snprintf(trunk, sizeof(trunk), "%.*s",
		 (int)(c1 ? (size_t)(c1 - s) : strlen(s)), s);

	if (c1) {
		const size_t len = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);

		if (len >= sizeof(strip))
			return ctl_usage_error("--route %s: STRIP is a "
					       "number of digits",
					       s);
		snprintf(strip, sizeof(strip), "%.*s", (int)len, c1 + 1);
		if (strip[0]) {
			ret = arg_u32("--route STRIP", strip, &n);
			if (ret)
				return ret;
		}
	}

	r = json_pack("{s:s,s:I}", "trunk", trunk, "strip", (json_int_t)n);
	if (!r)
		return ctl_usage_error("--route must be UTF-8 text");

	ret = c2 ? text_add(r, "prepend", c2 + 1, "--route PREPEND") : 0;
	if (ret) {
		json_decref(r);
		return ret;
	}

	*rp = r;
	return CTL_OK;
}


/**
 * Add an outbound rule (POST /api/v1/outbound-rules)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_orule_add(const struct ctl *ctl, const struct ctl_args *a)
{
	json_t *body, *routes, *out = NULL;
	int ret = CTL_OK;

	if (!a->opt[OPT_NAME])
		return ctl_usage_error("outbound add needs --name N");
	if (!a->routec)
		return ctl_usage_error("outbound add needs at least one "
				       "--route");

	body = json_object();
	routes = json_array();
	if (!body || !routes || json_object_set_new(body, "routes", routes)) {
		json_decref(body);
		return oom();
	}

	ret = text_add(body, "name", a->opt[OPT_NAME], "--name");
	ret = ret ? ret
		  : number_add(body, "position", a->opt[OPT_POSITION],
			       "--position");
	ret = ret ? ret
		  : text_add(body, "prefix", a->opt[OPT_PREFIX], "--prefix");
	ret =
	    ret ? ret
		: text_add(body, "callers", a->opt[OPT_CALLERS], "--callers");
	ret = ret ? ret
		  : number_add(body, "min_len", a->opt[OPT_MIN_LEN],
			       "--min-len");
	ret = ret ? ret
		  : number_add(body, "max_len", a->opt[OPT_MAX_LEN],
			       "--max-len");

	for (unsigned i = 0; i < a->routec && !ret; i++) {
		json_t *r = NULL;

		ret = route_parse(a->route[i], &r);
		if (!ret && json_array_append_new(routes, r))
			ret = oom();
	}
	if (ret) {
		json_decref(body);
		return ret;
	}

	ret =
	    client_request(ctl, "POST", "/api/v1/outbound-rules", body, &out);
	json_decref(body);
	if (ret)
		return ret;

	if (ctl->json)
		reply_print(out);
	else
		printf("outbound rule %lld (%s) added at position %lld\n",
		       reply_int(out, "id"), reply_str(out, "name"),
		       reply_int(out, "position"));

	json_decref(out);
	return CTL_OK;
}


/* "orange(-1,+33) backup(-1,+33)" */
static void routes_fmt(char *buf, size_t sz, const json_t *routes)
{
	const json_t *r;
	size_t i, len = 0;

	buf[0] = '\0';
	json_array_foreach(routes, i, r)
	{
		const long long strip = reply_int(r, "strip");
		const char *pre = reply_str(r, "prepend");
		int n;

		if (reply_bool(r, "blocked"))
			n = snprintf(buf + len, sz - len, "%sblocked",
				     i ? " " : "");
		else if (strip || pre[0])
			n = snprintf(buf + len, sz - len, "%s%s(-%lld,%s)",
				     i ? " " : "", reply_str(r, "trunk"),
				     strip, pre);
		else
			n = snprintf(buf + len, sz - len, "%s%s", i ? " " : "",
				     reply_str(r, "trunk"));

		if (n < 0 || (size_t)n >= sz - len)
			break;
		len += (size_t)n;
	}
}


static void len_fmt(char *buf, size_t sz, long long min, long long max)
{
	if (!min && !max)
		snprintf(buf, sz, "any");
	else if (!max)
		snprintf(buf, sz, "%lld+", min);
	else
		snprintf(buf, sz, "%lld-%lld", min, max);
}


/**
 * List the outbound rules in order (GET /api/v1/outbound-rules)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_orule_list(const struct ctl *ctl, const struct ctl_args *a)
{
	struct table *t = NULL;
	json_t *out, *e;
	size_t i;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/outbound-rules", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		goto out;
	}

	if (!json_array_size(out)) {
		printf("no outbound rules\n");
		goto out;
	}

	if (table_alloc(&t, 7, "POS", "ID", "NAME", "PREFIX", "CALLERS", "LEN",
			"ROUTES"))
		goto out;

	json_array_foreach(out, i, e)
	{
		char pos[24], id[24], len[48], routes[ROUTES_TEXT_MAX];
		const char *prefix = reply_str(e, "prefix");
		const char *callers = reply_str(e, "callers");

		snprintf(pos, sizeof(pos), "%lld", reply_int(e, "position"));
		snprintf(id, sizeof(id), "%lld", reply_int(e, "id"));
		len_fmt(len, sizeof(len), reply_int(e, "min_len"),
			reply_int(e, "max_len"));
		routes_fmt(routes, sizeof(routes),
			   json_object_get(e, "routes"));
		(void)table_row(t, pos, id, reply_str(e, "name"),
				prefix[0] ? prefix : "any",
				callers[0] ? callers : "all", len, routes);
	}
	table_print(t);

out:
	table_free(t);
	json_decref(out);
	return CTL_OK;
}


/**
 * Remove an outbound rule (DELETE /api/v1/outbound-rules/ID)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_orule_remove(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN];

	snprintf(path, sizeof(path), "/api/v1/outbound-rules/%s", a->pos[0]);
	return remove_send(ctl, path, "outbound rule", a->pos[0]);
}


/* ---- inbound rules -------------------------------------------------- */

/**
 * Add an inbound rule (POST /api/v1/inbound-rules)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_irule_add(const struct ctl *ctl, const struct ctl_args *a)
{
	static const struct {
		enum opt opt;
		const char *key;
		const char *name;
	} map[] = {
		{ OPT_NAME, "name", "--name" },
		{ OPT_DID, "did", "--did" },
		{ OPT_TRUNK, "trunk", "--trunk" },
		{ OPT_OPEN, "dest_open", "--open" },
		{ OPT_CLOSED, "dest_closed", "--closed" },
		{ OPT_HOLIDAY, "dest_holiday", "--holiday" },
	};
	json_t *body, *out = NULL;
	int ret = CTL_OK;

	if (!a->opt[OPT_NAME] || !a->opt[OPT_DID] || !a->opt[OPT_OPEN])
		return ctl_usage_error("inbound add needs --name N, --did "
				       "PATTERN and --open DEST");

	body = json_object();
	if (!body)
		return oom();

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && !ret; i++)
		ret = text_add(body, map[i].key, a->opt[map[i].opt],
			       map[i].name);
	if (ret) {
		json_decref(body);
		return ret;
	}

	ret = client_request(ctl, "POST", "/api/v1/inbound-rules", body, &out);
	json_decref(body);
	if (ret)
		return ret;

	if (ctl->json)
		reply_print(out);
	else
		printf("inbound rule %lld (%s) added\n", reply_int(out, "id"),
		       reply_str(out, "name"));

	json_decref(out);
	return CTL_OK;
}


/**
 * List the inbound rules (GET /api/v1/inbound-rules)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_irule_list(const struct ctl *ctl, const struct ctl_args *a)
{
	struct table *t = NULL;
	json_t *out, *e;
	size_t i;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/inbound-rules", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		goto out;
	}

	if (!json_array_size(out)) {
		printf("no inbound rules\n");
		goto out;
	}

	if (table_alloc(&t, 7, "ID", "NAME", "TRUNK", "DID", "OPEN", "CLOSED",
			"HOLIDAY"))
		goto out;

	json_array_foreach(out, i, e)
	{
		const char *trunk = reply_str(e, "trunk");
		char id[24];

		snprintf(id, sizeof(id), "%lld", reply_int(e, "id"));
		(void)table_row(t, id, reply_str(e, "name"),
				trunk[0] ? trunk : "any", reply_str(e, "did"),
				reply_str(e, "dest_open"),
				reply_str(e, "dest_closed"),
				reply_str(e, "dest_holiday"));
	}
	table_print(t);

out:
	table_free(t);
	json_decref(out);
	return CTL_OK;
}


/**
 * Remove an inbound rule (DELETE /api/v1/inbound-rules/ID)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_irule_remove(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN];

	snprintf(path, sizeof(path), "/api/v1/inbound-rules/%s", a->pos[0]);
	return remove_send(ctl, path, "inbound rule", a->pos[0]);
}


/* ---- office hours and holidays -------------------------------------- */

/**
 * Set the office hours of one day (PUT /api/v1/hours/DAY)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_hours_set(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN];
	json_t *body, *out = NULL;
	const char *ranges;
	int ret;

	body = json_pack("{s:s}", "ranges", a->pos[1]);
	if (!body)
		return ctl_usage_error("RANGES must be UTF-8 text");

	snprintf(path, sizeof(path), "/api/v1/hours/%s", a->pos[0]);
	ret = client_request(ctl, "PUT", path, body, &out);
	json_decref(body);
	if (ret)
		return ret;

	ranges = reply_str(out, "ranges");
	if (ctl->json)
		reply_print(out);
	else
		printf("%s: %s\n", reply_str(out, "day"),
		       ranges[0] ? ranges : "closed");

	json_decref(out);
	return CTL_OK;
}


/**
 * Show the weekly office hours (GET /api/v1/hours)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_hours_show(const struct ctl *ctl, const struct ctl_args *a)
{
	json_t *out, *d;
	size_t i;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/hours", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		json_decref(out);
		return CTL_OK;
	}

	json_array_foreach(json_object_get(out, "days"), i, d)
	{
		const char *r = reply_str(d, "ranges");

		printf("%s  %s\n", reply_str(d, "day"), r[0] ? r : "closed");
	}
	printf("holidays: %lld\n", reply_int(out, "holidays"));
	printf("now: %s\n", reply_str(out, "now"));

	json_decref(out);
	return CTL_OK;
}


/**
 * Add a holiday (POST /api/v1/holidays)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_holiday_add(const struct ctl *ctl, const struct ctl_args *a)
{
	const char *date = a->opt[OPT_DATE], *dots;
	char first[32];
	json_t *body, *out = NULL;
	int ret;

	if (!a->opt[OPT_NAME] || !date)
		return ctl_usage_error("holiday add needs --name N and --date "
				       "YYYY-MM-DD[..YYYY-MM-DD]");

	/* relaisd checks the dates; here only their shape */
	dots = strstr(date, "..");
	if ((dots ? (size_t)(dots - date) : strlen(date)) >= sizeof(first) ||
	    dots == date || (dots && !dots[2]))
		return ctl_usage_error("--date needs YYYY-MM-DD or "
				       "YYYY-MM-DD..YYYY-MM-DD");
	snprintf(first, sizeof(first), "%.*s",
		 (int)(dots ? (size_t)(dots - date) : strlen(date)), date);

	body = json_pack("{s:s,s:s,s:s,s:b}", "name", a->opt[OPT_NAME],
			 "first", first, "last", dots ? dots + 2 : first,
			 "yearly", a->opt[OPT_YEARLY] != NULL);
	if (!body)
		return ctl_usage_error("--name and --date must be UTF-8 text");

	ret = client_request(ctl, "POST", "/api/v1/holidays", body, &out);
	json_decref(body);
	if (ret)
		return ret;

	if (ctl->json)
		reply_print(out);
	else
		printf("holiday %lld (%s) added\n", reply_int(out, "id"),
		       reply_str(out, "name"));

	json_decref(out);
	return CTL_OK;
}


/**
 * List the holidays (GET /api/v1/holidays)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_holiday_list(const struct ctl *ctl, const struct ctl_args *a)
{
	struct table *t = NULL;
	json_t *out, *e;
	size_t i;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/holidays", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		goto out;
	}

	if (!json_array_size(out)) {
		printf("no holidays\n");
		goto out;
	}

	if (table_alloc(&t, 4, "ID", "NAME", "DATES", "YEARLY"))
		goto out;

	json_array_foreach(out, i, e)
	{
		const char *first = reply_str(e, "first");
		const char *last = reply_str(e, "last");
		char id[24], dates[48];

		snprintf(id, sizeof(id), "%lld", reply_int(e, "id"));
		if (!last[0] || !strcmp(first, last))
			snprintf(dates, sizeof(dates), "%s", first);
		else
			snprintf(dates, sizeof(dates), "%s..%s", first, last);
		(void)table_row(t, id, reply_str(e, "name"), dates,
				reply_bool(e, "yearly") ? "yes" : "no");
	}
	table_print(t);

out:
	table_free(t);
	json_decref(out);
	return CTL_OK;
}


/**
 * Remove a holiday (DELETE /api/v1/holidays/ID)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_holiday_remove(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN];

	snprintf(path, sizeof(path), "/api/v1/holidays/%s", a->pos[0]);
	return remove_send(ctl, path, "holiday", a->pos[0]);
}

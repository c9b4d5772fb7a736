/**
 * @file trunks.c  relaisctl's trunk commands: add, set, list, show,
 *                 remove (the /api/v1/trunks endpoints)
 *
 * Settings are checked by relaisd; the command line only checks the type
 * of a value (a number, yes or no) and prints relaisd's reason otherwise.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "cli/cli.h"

enum {
	PATH_MAX_LEN = 96,
};

enum ttype {
	TT_TEXT,   /* as given */
	TT_NUMBER, /* a whole number */
	TT_YESNO,  /* yes or no, a JSON boolean */
	TT_TRUE,   /* a flag setting the key to true */
	TT_FALSE,  /* a flag setting it to false */
};

/* a trunk option and the API key it sets */
static const struct topt {
	enum opt opt;
	const char *name;
	const char *key;
	enum ttype type;
} topts[] = {
	{ OPT_HOST, "--host", "host", TT_TEXT },
	{ OPT_KIND, "--kind", "kind", TT_TEXT },
	{ OPT_PORT, "--port", "port", TT_NUMBER },
	{ OPT_SRV, "--srv", "srv", TT_TRUE },
	{ OPT_NO_SRV, "--no-srv", "srv", TT_FALSE },
	{ OPT_TRANSPORT, "--transport", "transport", TT_TEXT },
	{ OPT_PROXY, "--proxy", "proxy", TT_TEXT },
	{ OPT_DOMAIN, "--domain", "domain", TT_TEXT },
	{ OPT_USER, "--user", "auth_user", TT_TEXT },
	{ OPT_REG_INTERVAL, "--reg-interval", "reg_interval", TT_NUMBER },
	{ OPT_MAX_CALLS, "--max-calls", "max_calls", TT_NUMBER },
	{ OPT_INBOUND, "--inbound", "inbound", TT_YESNO },
	{ OPT_OUTBOUND, "--outbound", "outbound", TT_YESNO },
	{ OPT_CODECS, "--codecs", "codecs", TT_TEXT },
	{ OPT_SRTP, "--srtp", "srtp", TT_TEXT },
	{ OPT_NUMBER, "--number", "main_number", TT_TEXT },
	{ OPT_DIDS, "--dids", "dids", TT_TEXT },
	{ OPT_CALLER_ID, "--caller-id", "caller_id", TT_TEXT },
	{ OPT_CALLER_NAME, "--caller-name", "caller_name", TT_TEXT },
	{ OPT_PAI, "--pai", "pai", TT_YESNO },
	{ OPT_PRIVACY, "--privacy", "privacy", TT_TEXT },
	{ OPT_DIVERSION, "--diversion", "diversion", TT_YESNO },
	{ OPT_OPTIONS_INTERVAL, "--options-interval", "options_interval",
	  TT_NUMBER },
	{ OPT_CONTACT_ADDR, "--contact-addr", "contact_addr", TT_TEXT },
};


static int yes_no(const char *opt, const char *s, bool *val)
{
	if (!strcmp(s, "yes")) {
		*val = true;
		return CTL_OK;
	}
	if (!strcmp(s, "no")) {
		*val = false;
		return CTL_OK;
	}

	return ctl_usage_error("%s takes yes or no", opt);
}


static int topt_set(json_t *body, const struct topt *t, const char *val)
{
	json_t *v = NULL;
	long long n = 0;
	bool b = false;
	int ret = CTL_OK;

	switch (t->type) {

	case TT_TEXT:
		v = json_string(val);
		if (!v)
			return ctl_usage_error("%s must be UTF-8 text",
					       t->name);
		break;

	case TT_NUMBER:
		ret = arg_u32(t->name, val, &n);
		v = json_integer(n);
		break;

	case TT_YESNO:
		ret = yes_no(t->name, val, &b);
		v = json_boolean(b);
		break;

	case TT_TRUE:
	case TT_FALSE:
		v = json_boolean(t->type == TT_TRUE);
		break;
	}

	if (ret) {
		json_decref(v);
		return ret;
	}

	if (!v || json_object_set_new(body, t->key, v)) {
		fprintf(stderr, "relaisctl: out of memory\n");
		return CTL_REFUSED;
	}

	return CTL_OK;
}


/* the trunk options given, as a request body */
static int trunk_body(const struct ctl_args *a, json_t **bodyp)
{
	json_t *body;
	int ret = CTL_OK;

	if (a->opt[OPT_SRV] && a->opt[OPT_NO_SRV])
		return ctl_usage_error("give --srv or --no-srv, not both");

	body = json_object();
	if (!body) {
		fprintf(stderr, "relaisctl: out of memory\n");
		return CTL_REFUSED;
	}

	for (size_t i = 0; i < sizeof(topts) / sizeof(topts[0]) && !ret; i++) {
		const char *val = a->opt[topts[i].opt];

		if (val)
			ret = topt_set(body, &topts[i], val);
	}

	if (ret)
		json_decref(body);
	else
		*bodyp = body;

	return ret;
}


/* the password into the body: --password-stdin, or on a terminal asked
   for when ask is set */
static int password_add(json_t *body, const struct ctl_args *a, bool ask)
{
	char pw[CTL_PW_MAX];
	json_t *v;
	int ret;

	if (!a->opt[OPT_PASSWORD_STDIN] && !(ask && isatty(STDIN_FILENO)))
		return CTL_OK;

	ret = secret_read(pw, sizeof(pw));
	if (ret)
		return ret;

	v = json_string(pw);
	memset(pw, 0, sizeof(pw));
	if (!v)
		return ctl_usage_error("the password must be UTF-8 text");

	if (json_object_set_new(body, "password", v)) {
		fprintf(stderr, "relaisctl: out of memory\n");
		return CTL_REFUSED;
	}

	return CTL_OK;
}


/* send a trunk body, then say what happened */
static int trunk_send(const struct ctl *ctl, const char *method,
		      const char *path, json_t *body, const char *done)
{
	json_t *out = NULL;
	int ret;

	ret = client_request(ctl, method, path, body, &out);
	json_decref(body);
	if (ret)
		return ret;

	if (ctl->json)
		reply_print(out);
	else
		printf("trunk %s %s (state: %s)\n", reply_str(out, "name"),
		       done, reply_str(out, "state"));

	json_decref(out);
	return CTL_OK;
}


/**
 * Add a trunk (POST /api/v1/trunks): profile, then the options given
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_trunk_add(const struct ctl *ctl, const struct ctl_args *a)
{
	const char *profile = a->opt[OPT_PROFILE];
	json_t *body;
	bool ip;
	int ret;

	if (!a->opt[OPT_HOST])
		return ctl_usage_error("trunk add needs --host HOST");

	ret = trunk_body(a, &body);
	if (ret)
		return ret;

	/* "generic" is the profile relaisd calls "" */
	if (profile && strcmp(profile, "generic") &&
	    json_object_set_new(body, "profile", json_string(profile))) {
		json_decref(body);
		return ctl_usage_error("--profile must be UTF-8 text");
	}
	if (json_object_set_new(body, "name", json_string(a->pos[0]))) {
		json_decref(body);
		return CTL_REFUSED;
	}

	/* a register trunk needs its password: ask on a terminal */
	ip = a->opt[OPT_KIND] && !strcmp(a->opt[OPT_KIND], "ip");
	ret = password_add(body, a, !ip);
	if (ret) {
		json_decref(body);
		return ret;
	}

	return trunk_send(ctl, "POST", "/api/v1/trunks", body, "added");
}


/**
 * Change some settings of a trunk (PATCH /api/v1/trunks/NAME)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_trunk_set(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN];
	json_t *body;
	int ret;

	ret = trunk_body(a, &body);
	if (ret)
		return ret;

	ret = password_add(body, a, false);
	if (ret) {
		json_decref(body);
		return ret;
	}

	if (!json_object_size(body)) {
		json_decref(body);
		return ctl_usage_error("trunk set needs a setting to change "
				       "(see trunk set --help)");
	}

	snprintf(path, sizeof(path), "/api/v1/trunks/%s", a->pos[0]);
	return trunk_send(ctl, "PATCH", path, body, "changed");
}


static void host_fmt(char *buf, size_t sz, const json_t *t)
{
	const long long port = reply_int(t, "port");

	if (port)
		snprintf(buf, sz, "%s:%lld%s", reply_str(t, "host"), port,
			 reply_bool(t, "srv") ? " (SRV)" : "");
	else
		snprintf(buf, sz, "%s%s", reply_str(t, "host"),
			 reply_bool(t, "srv") ? " (SRV)" : "");
}


static const char *registered_text(const json_t *t)
{
	if (strcmp(reply_str(t, "kind"), "register"))
		return "-";

	return reply_bool(t, "registered") ? "yes" : "no";
}


/**
 * List the trunks with their live state (GET /api/v1/trunks)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_trunk_list(const struct ctl *ctl, const struct ctl_args *a)
{
	struct table *t = NULL;
	json_t *out, *e;
	size_t i;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/trunks", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		goto out;
	}

	if (!json_array_size(out)) {
		printf("no trunks\n");
		goto out;
	}

	if (table_alloc(&t, 8, "NAME", "KIND", "HOST", "TRANSPORT", "STATE",
			"CALLS/MAX", "REGISTERED", "LAST-ERROR"))
		goto out;

	json_array_foreach(out, i, e)
	{
		char host[160], calls[32];
		const char *err = reply_str(e, "last_error");

		host_fmt(host, sizeof(host), e);
		snprintf(calls, sizeof(calls), "%lld/%lld",
			 reply_int(e, "calls"), reply_int(e, "max_calls"));
		(void)table_row(t, reply_str(e, "name"), reply_str(e, "kind"),
				host, reply_str(e, "transport"),
				reply_str(e, "state"), calls,
				registered_text(e), err[0] ? err : "-");
	}
	table_print(t);

out:
	table_free(t);
	json_decref(out);
	return CTL_OK;
}


enum stype {
	ST_TEXT,
	ST_BOOL,
	ST_SECONDS,
	ST_NUMBER,
	ST_PORT,
};

/* what `trunk show` prints, in this order */
static const struct {
	const char *label;
	const char *key;
	enum stype type;
} show_rows[] = {
	{ "name", "name", ST_TEXT },
	{ "profile", "profile", ST_TEXT },
	{ "kind", "kind", ST_TEXT },
	{ "host", "host", ST_TEXT },
	{ "port", "port", ST_PORT },
	{ "srv", "srv", ST_BOOL },
	{ "transport", "transport", ST_TEXT },
	{ "proxy", "proxy", ST_TEXT },
	{ "domain", "domain", ST_TEXT },
	{ "auth user", "auth_user", ST_TEXT },
	{ "reg interval", "reg_interval", ST_SECONDS },
	{ "max calls", "max_calls", ST_NUMBER },
	{ "inbound", "inbound", ST_BOOL },
	{ "outbound", "outbound", ST_BOOL },
	{ "codecs", "codecs", ST_TEXT },
	{ "srtp", "srtp", ST_TEXT },
	{ "main number", "main_number", ST_TEXT },
	{ "dids", "dids", ST_TEXT },
	{ "caller id", "caller_id", ST_TEXT },
	{ "caller name", "caller_name", ST_TEXT },
	{ "pai", "pai", ST_BOOL },
	{ "privacy", "privacy", ST_TEXT },
	{ "diversion", "diversion", ST_BOOL },
	{ "options interval", "options_interval", ST_SECONDS },
	{ "contact addr", "contact_addr", ST_TEXT },
};


static void show_row(const json_t *t, const char *label, const char *key,
		     enum stype type)
{
	char buf[64];
	const char *v = buf;
	long long n;

	switch (type) {

	case ST_TEXT:
		v = reply_str(t, key);
		if (!v[0])
			v = "-";
		break;

	case ST_BOOL:
		v = reply_bool(t, key) ? "yes" : "no";
		break;

	case ST_SECONDS:
		n = reply_int(t, key);
		if (n)
			snprintf(buf, sizeof(buf), "%lld s", n);
		else
			snprintf(buf, sizeof(buf), "off");
		break;

	case ST_NUMBER:
		snprintf(buf, sizeof(buf), "%lld", reply_int(t, key));
		break;

	case ST_PORT:
		n = reply_int(t, key);
		if (n)
			snprintf(buf, sizeof(buf), "%lld", n);
		else
			snprintf(buf, sizeof(buf), "default");
		break;
	}

	printf("%-17s %s\n", label, v);
}


static void live_print(const json_t *t)
{
	char when[32], buf[64];
	const char *err = reply_str(t, "last_error");
	const long long scode = reply_int(t, "last_status");

	time_fmt(when, sizeof(when), reply_int(t, "state_changed"));
	if (reply_int(t, "state_changed"))
		printf("%-17s %s (since %s)\n",
		       "state:", reply_str(t, "state"), when);
	else
		printf("%-17s %s\n", "state:", reply_str(t, "state"));

	if (!strcmp(reply_str(t, "kind"), "register")) {
		time_fmt(when, sizeof(when), reply_int(t, "reg_expires"));
		if (reply_bool(t, "registered"))
			printf("%-17s yes (until %s)\n", "registered:", when);
		else
			printf("%-17s no\n", "registered:");
	}

	snprintf(buf, sizeof(buf), "%lld/%lld", reply_int(t, "calls"),
		 reply_int(t, "max_calls"));
	printf("%-17s %s\n", "calls:", buf);
	if (scode)
		printf("%-17s %lld\n", "last status:", scode);
	printf("%-17s %s\n", "last error:", err[0] ? err : "-");
}


/**
 * Show a trunk: its settings, not its password, and its live state
 * (GET /api/v1/trunks/NAME)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_trunk_show(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN], label[32], created[32];
	json_t *out;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/trunks/%s", a->pos[0]);
	ret = client_request(ctl, "GET", path, NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		json_decref(out);
		return CTL_OK;
	}

	for (size_t i = 0; i < sizeof(show_rows) / sizeof(show_rows[0]); i++) {
		snprintf(label, sizeof(label), "%s:", show_rows[i].label);
		show_row(out, label, show_rows[i].key, show_rows[i].type);

		/* the password right after whose it is */
		if (!strcmp(show_rows[i].key, "auth_user"))
			printf("%-17s %s\n", "password:",
			       reply_bool(out, "password_set") ? "set"
							       : "not set");
	}

	time_fmt(created, sizeof(created), reply_int(out, "created"));
	printf("%-17s %s\n", "created:", created);
	live_print(out);

	json_decref(out);
	return CTL_OK;
}


/**
 * Remove a trunk (DELETE /api/v1/trunks/NAME); relaisd refuses while a
 * rule uses it, and says which
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_trunk_remove(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN];
	json_t *out;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/trunks/%s", a->pos[0]);
	ret = client_request(ctl, "DELETE", path, NULL, &out);
	json_decref(out);
	if (ret)
		return ret;

	if (ctl->json) {
		json_t *j =
		    json_pack("{s:s,s:b}", "name", a->pos[0], "removed", 1);

		reply_print(j);
		json_decref(j);
	}
	else {
		printf("trunk %s removed\n", a->pos[0]);
	}

	return CTL_OK;
}

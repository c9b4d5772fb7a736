/**
 * @file commands.c  relaisctl's commands: one API request each, printed as
 *                   a table or as the API's JSON
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "cli/cli.h"

enum {
	PATH_MAX_LEN = 160,
};


/* --password, --generate-password or asked for: into pw */
static int password_get(const struct ctl_args *a, char *pw, size_t sz)
{
	if (a->opt[OPT_PASSWORD] && a->opt[OPT_GENERATE])
		return ctl_usage_error("give --password or "
				       "--generate-password, not both");

	if (a->opt[OPT_PASSWORD]) {
		if (strlen(a->opt[OPT_PASSWORD]) >= sz)
			return ctl_usage_error("the password is too long");
		snprintf(pw, sz, "%s", a->opt[OPT_PASSWORD]);
		return CTL_OK;
	}

	if (a->opt[OPT_GENERATE]) {
		if (secret_generate(pw, sz, a->pos[0])) {
			fprintf(stderr, "relaisctl: cannot generate a "
					"password from /dev/urandom\n");
			return CTL_REFUSED;
		}
		return CTL_OK;
	}

	return secret_read(pw, sz);
}


/* ---- extension ------------------------------------------------------ */

/**
 * Create an extension (POST /api/v1/extensions); a generated password
 * is printed once
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_ext_add(const struct ctl *ctl, const struct ctl_args *a)
{
	char pw[CTL_PW_MAX];
	json_t *body, *out = NULL;
	int ret;

	if (!a->opt[OPT_NAME])
		return ctl_usage_error("extension add needs --name NAME");

	ret = password_get(a, pw, sizeof(pw));
	if (ret)
		return ret;

	body = json_pack("{s:s,s:s,s:s}", "number", a->pos[0], "name",
			 a->opt[OPT_NAME], "password", pw);
	if (!body) {
		memset(pw, 0, sizeof(pw));
		return ctl_usage_error("the name must be UTF-8 text");
	}

	ret = client_request(ctl, "POST", "/api/v1/extensions", body, &out);
	json_decref(body);
	if (ret)
		goto out;

	if (ctl->json) {
		if (a->opt[OPT_GENERATE] && out)
			json_object_set_new(out, "password", json_string(pw));
		reply_print(out);
	}
	else {
		printf("extension %s created\n", a->pos[0]);
		if (a->opt[OPT_GENERATE])
			printf("password: %s\n(shown only this once)\n", pw);
	}

out:
	memset(pw, 0, sizeof(pw));
	json_decref(out);
	return ret;
}


/**
 * Set an extension's password (PUT /api/v1/extensions/N/password)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_ext_passwd(const struct ctl *ctl, const struct ctl_args *a)
{
	char pw[CTL_PW_MAX], path[PATH_MAX_LEN];
	json_t *body, *out = NULL;
	int ret;

	ret = password_get(a, pw, sizeof(pw));
	if (ret)
		return ret;

	snprintf(path, sizeof(path), "/api/v1/extensions/%s/password",
		 a->pos[0]);
	body = json_pack("{s:s}", "password", pw);
	ret = client_request(ctl, "PUT", path, body, &out);
	json_decref(body);
	json_decref(out);
	if (ret)
		goto out;

	if (ctl->json) {
		json_t *j = json_pack("{s:s}", "number", a->pos[0]);

		if (j && a->opt[OPT_GENERATE])
			json_object_set_new(j, "password", json_string(pw));
		reply_print(j);
		json_decref(j);
	}
	else if (a->opt[OPT_GENERATE]) {
		printf("extension %s: new password: %s\n(shown only this "
		       "once)\n",
		       a->pos[0], pw);
	}
	else {
		printf("extension %s: password changed\n", a->pos[0]);
	}

out:
	memset(pw, 0, sizeof(pw));
	return ret;
}


/**
 * List the extensions (GET /api/v1/extensions)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_ext_list(const struct ctl *ctl, const struct ctl_args *a)
{
	struct table *t = NULL;
	json_t *out, *e;
	size_t i;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/extensions", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		goto out;
	}

	if (!json_array_size(out)) {
		printf("no extensions\n");
		goto out;
	}

	if (table_alloc(&t, 5, "NUMBER", "NAME", "REGISTERED", "CONTACTS",
			"CREATED"))
		goto out;

	json_array_foreach(out, i, e)
	{
		char created[32], n[24];

		time_fmt(created, sizeof(created), reply_int(e, "created"));
		snprintf(n, sizeof(n), "%lld", reply_int(e, "contacts"));
		(void)table_row(t, reply_str(e, "number"),
				reply_str(e, "name"),
				json_is_true(json_object_get(e, "registered"))
				    ? "yes"
				    : "no",
				n, created);
	}
	table_print(t);

out:
	table_free(t);
	json_decref(out);
	return CTL_OK;
}


static struct table *contacts_table(const json_t *arr)
{
	struct table *t = NULL;
	const json_t *c;
	size_t i;

	if (table_alloc(&t, 6, "EXT", "CONTACT", "FROM", "TRANSPORT",
			"EXPIRES IN", "USER AGENT"))
		return NULL;

	json_array_foreach(arr, i, c)
	{
		char exp[24];

		snprintf(exp, sizeof(exp), "%llds",
			 reply_int(c, "expires_in"));
		(void)table_row(t, reply_str(c, "ext"), reply_str(c, "uri"),
				reply_str(c, "received"),
				reply_str(c, "transport"), exp,
				reply_str(c, "user_agent"));
	}

	return t;
}


/**
 * Show one extension and its contacts (GET /api/v1/extensions/N)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_ext_show(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN], created[32];
	const json_t *bindings;
	struct table *t;
	json_t *out;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/extensions/%s", a->pos[0]);
	ret = client_request(ctl, "GET", path, NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		json_decref(out);
		return CTL_OK;
	}

	time_fmt(created, sizeof(created), reply_int(out, "created"));
	printf("number:      %s\n"
	       "name:        %s\n"
	       "created:     %s\n"
	       "registered:  %s (%lld contact%s)\n",
	       reply_str(out, "number"), reply_str(out, "name"), created,
	       json_is_true(json_object_get(out, "registered")) ? "yes" : "no",
	       reply_int(out, "contacts"),
	       reply_int(out, "contacts") == 1 ? "" : "s");

	bindings = json_object_get(out, "bindings");
	if (json_array_size(bindings)) {
		t = contacts_table(bindings);
		putchar('\n');
		table_print(t);
		table_free(t);
	}

	json_decref(out);
	return CTL_OK;
}


/**
 * Remove an extension (DELETE /api/v1/extensions/N)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_ext_remove(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN];
	json_t *out;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/extensions/%s", a->pos[0]);
	ret = client_request(ctl, "DELETE", path, NULL, &out);
	json_decref(out);
	if (ret)
		return ret;

	if (ctl->json) {
		json_t *j =
		    json_pack("{s:s,s:b}", "number", a->pos[0], "removed", 1);

		reply_print(j);
		json_decref(j);
	}
	else {
		printf("extension %s removed\n", a->pos[0]);
	}

	return CTL_OK;
}


/* ---- registrations, calls, records, status -------------------------- */

/**
 * List registered contacts (GET /api/v1/registrations)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_registrations(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN] = "/api/v1/registrations";
	struct table *t;
	json_t *out;
	int ret;

	if (a->opt[OPT_EXT])
		snprintf(path, sizeof(path), "/api/v1/registrations?ext=%s",
			 a->opt[OPT_EXT]);

	ret = client_request(ctl, "GET", path, NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
	}
	else if (!json_array_size(out)) {
		printf("no registrations\n");
	}
	else {
		t = contacts_table(out);
		table_print(t);
		table_free(t);
	}

	json_decref(out);
	return CTL_OK;
}


/**
 * List the calls in progress (GET /api/v1/calls?active=1)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_calls(const struct ctl *ctl, const struct ctl_args *a)
{
	struct table *t = NULL;
	json_t *out, *c;
	size_t i;
	int ret;

	if (!a->opt[OPT_ACTIVE])
		return ctl_usage_error("calls needs --active (ended calls "
				       "are in `relaisctl cdr`)");

	ret = client_request(ctl, "GET", "/api/v1/calls?active=1", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		goto out;
	}

	if (!json_array_size(out)) {
		printf("no active calls\n");
		goto out;
	}

	if (table_alloc(&t, 6, "CALLER", "CALLEE", "STATE", "DURATION",
			"RELAY PORTS", "CALL-ID"))
		goto out;

	json_array_foreach(out, i, c)
	{
		char dur[32], ports[32];

		duration_fmt(dur, sizeof(dur), reply_int(c, "duration"));
		snprintf(ports, sizeof(ports), "%lld/%lld",
			 reply_int(c, "port_a"), reply_int(c, "port_b"));
		(void)table_row(t, reply_str(c, "caller"),
				reply_str(c, "callee"), reply_str(c, "state"),
				dur, ports, reply_str(c, "callid"));
	}
	table_print(t);

out:
	table_free(t);
	json_decref(out);
	return CTL_OK;
}


/**
 * List call records, newest first (GET /api/v1/cdr)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_cdr(const struct ctl *ctl, const struct ctl_args *a)
{
	char path[PATH_MAX_LEN] = "/api/v1/cdr";
	struct table *t = NULL;
	json_t *out, *c;
	size_t i;
	int ret;

	if (a->opt[OPT_LIMIT])
		snprintf(path, sizeof(path), "/api/v1/cdr?limit=%s",
			 a->opt[OPT_LIMIT]);

	ret = client_request(ctl, "GET", path, NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		goto out;
	}

	if (!json_array_size(out)) {
		printf("no call records\n");
		goto out;
	}

	if (table_alloc(&t, 6, "START", "CALLER", "CALLEE", "RESULT",
			"DURATION", "CAUSE"))
		goto out;

	json_array_foreach(out, i, c)
	{
		char start[32], dur[32];

		time_fmt(start, sizeof(start),
			 reply_int(c, "start_ms") / 1000);
		duration_fmt(dur, sizeof(dur), reply_int(c, "duration"));
		(void)table_row(t, start, reply_str(c, "caller"),
				reply_str(c, "callee"),
				reply_str(c, "disposition"), dur,
				reply_str(c, "cause"));
	}
	table_print(t);

out:
	table_free(t);
	json_decref(out);
	return CTL_OK;
}


/**
 * Show relaisd's status (GET /api/v1/status)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_status(const struct ctl *ctl, const struct ctl_args *a)
{
	char up[32];
	json_t *out;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/status", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
	}
	else {
		duration_fmt(up, sizeof(up), reply_int(out, "uptime"));
		printf("relaisd %s, up %s\n"
		       "active calls:   %lld\n"
		       "registrations:  %lld\n",
		       reply_str(out, "version"), up, reply_int(out, "calls"),
		       reply_int(out, "registrations"));
	}

	json_decref(out);
	return CTL_OK;
}

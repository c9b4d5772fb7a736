/**
 * @file api.c  JSON API on a Unix socket, for relaisctl (and later the web
 *              console)
 *
 * libmicrohttpd runs without threads of its own: its epoll descriptor is
 * watched with fd_listen() on the SIP thread and MHD_run() is called from
 * there, with a libre timer for MHD's own timeouts. Handlers therefore run
 * on the SIP thread and use the store, registrar and B2BUA directly. The
 * socket's permissions (0660) are the access control.
 *
 * Every handler returns an errno and, on failure, a reason; reply_errno()
 * is the one place an errno becomes an HTTP status. No answer and no log
 * line carries a password or a digest hash.
 *
 * This file holds the server, the helpers every handler uses
 * (http_int.h), and the extension, call and record endpoints; apicfg.c
 * has trunks, routing rules and office hours, apicert.c the certificate,
 * apisbc.c the SBC.
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <microhttpd.h>
/* not <re.h>: its re_json.h clashes with jansson's JSON_* names */
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_mbuf.h>
#include <re_list.h>
#include <re_sa.h>
#include <re_tmr.h>
#include <re_main.h>
#include <re_mqueue.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "pbx/pbx.h"
#include "http/http.h"
#include "http/http_int.h"

#define DEBUG_MODULE "api"

enum {
	BODY_MAX = 65536,
	CDR_LIMIT_DEFAULT = 50,
	CDR_LIMIT_MAX = 10000,
	TIMER_MAX_MS = 1000,
	CONN_LIMIT = 64,
	CONN_TIMEOUT_S = 30,
};


static void destructor(void *arg)
{
	struct api *api = arg;

	tmr_cancel(&api->tmr);

	/* MHD may not stop with a suspended connection */
	apicert_wait(api);
	mem_deref(api->mq);

	if (api->epfd >= 0)
		fd_close(api->epfd);
	/* MHD closes the listen socket it was given */
	if (api->mhd)
		MHD_stop_daemon(api->mhd);
	if (api->lfd >= 0)
		(void)close(api->lfd);
	if (api->path)
		(void)unlink(api->path);
	mem_deref(api->path);
}


/**
 * Set the reason of a refusal, shown to the client as "error"
 *
 * @param x   The request being answered
 * @param err The errno to return
 * @param fmt Reason (re_printf format); never a secret
 *
 * @return err
 */
int api_why(struct exch *x, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)re_vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);

	return err;
}


/* The one place an errno becomes an HTTP status (STYLE.md §3) */
static unsigned reply_errno(struct exch *x, int err)
{
	static const struct {
		int err;
		unsigned status;
		const char *why;
	} map[] = {
		{ EBADMSG, 400, "malformed request" },
		{ ENOENT, 404, "not found" },
		{ ENOTSUP, 405, "method not allowed here" },
		{ EEXIST, 409, "already exists" },
		{ EBUSY, 409, "in use" },
		{ EMSGSIZE, 413, "request body larger than 64 KiB" },
		{ EFBIG, 413, "too large" },
		{ EINVAL, 422, "invalid value" },
		{ EKEYREJECTED, 422, "the key does not match" },
		{ EKEYEXPIRED, 422, "expired or not yet valid" },
		{ ENODEV, 503, "not available" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (map[i].err != err)
			continue;
		if (!x->why[0])
			str_ncpy(x->why, map[i].why, sizeof(x->why));
		return map[i].status;
	}

	/* the reason stays in our log, the client learns nothing more */
	log_warn("internal error: %m", err);
	str_ncpy(x->why, "internal error", sizeof(x->why));

	return 500;
}


/* ---- JSON helpers --------------------------------------------------- */

/* A JSON string of text that may come from the network (User-Agent,
   Call-ID): jansson refuses invalid UTF-8, so non-ASCII bytes become '?'
   when the text is not valid UTF-8. */
static json_t *jtext(const char *s)
{
	json_t *j;
	char *copy;
	size_t n;

	if (!s)
		return json_null();

	j = json_string(s);
	if (j)
		return j;

	n = strlen(s);
	copy = mem_alloc(n + 1, NULL);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (s[i] & 0x80) ? '?' : s[i];
	j = json_stringn(copy, n);
	mem_deref(copy);

	return j;
}


/**
 * Set a text member; text that is not UTF-8 (from the network) has its
 * non-ASCII bytes shown as '?'
 *
 * @param o   JSON object
 * @param key Member name
 * @param val Text (NULL gives null)
 *
 * @return 0 if success, otherwise ENOMEM
 */
int api_set_text(json_t *o, const char *key, const char *val)
{
	return json_object_set_new(o, key, jtext(val)) ? ENOMEM : 0;
}


/**
 * Set an integer member
 *
 * @param o   JSON object
 * @param key Member name
 * @param val Value
 *
 * @return 0 if success, otherwise ENOMEM
 */
int api_set_int(json_t *o, const char *key, int64_t val)
{
	return json_object_set_new(o, key, json_integer((json_int_t)val))
		   ? ENOMEM
		   : 0;
}


/**
 * Append a new value to an array, taking its reference
 *
 * @param arr JSON array
 * @param o   Value; NULL (a failed allocation) gives ENOMEM
 *
 * @return 0 if success, otherwise ENOMEM
 */
int api_append(json_t *arr, json_t *o)
{
	if (!o)
		return ENOMEM;

	return json_array_append_new(arr, o) ? ENOMEM : 0;
}


/* an unknown key is refused rather than ignored: a misspelt or newer
   setting must not be dropped silently */
static int keys_why(struct exch *x, const char *const *allowed, size_t n)
{
	int len;

	len = re_snprintf(x->why, sizeof(x->why),
			  "body has an unknown key; allowed:");
	for (size_t i = 0; i < n && len > 0; i++) {
		const int r =
		    re_snprintf(x->why + len, sizeof(x->why) - len,
				"%s \"%s\"", i ? "," : "", allowed[i]);
		if (r < 0)
			break;
		len += r;
	}

	return EBADMSG;
}


/**
 * The request body as a JSON object holding only the keys allowed; an
 * unknown key is refused, naming the allowed ones
 *
 * @param x       The request
 * @param allowed Allowed keys
 * @param n       Number of allowed keys
 * @param jp      Returned object, for json_decref()
 *
 * @return 0 if success, EMSGSIZE, or EBADMSG with x->why
 */
int api_body(struct exch *x, const char *const *allowed, size_t n, json_t **jp)
{
	const struct mbuf *mb = x->rq->body;
	json_error_t jerr;
	const char *key;
	json_t *j, *v;

	if (x->rq->toobig)
		return EMSGSIZE;

	j = json_loadb(mb ? (const char *)mb->buf : "", mb ? mb->end : 0,
		       JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		/* not jerr.text: it quotes the input, a password maybe */
		return api_why(x, EBADMSG,
			       "body is not JSON (error at line %d, column "
			       "%d)",
			       jerr.line, jerr.column);

	if (!json_is_object(j)) {
		json_decref(j);
		return api_why(x, EBADMSG, "body must be a JSON object");
	}

	json_object_foreach(j, key, v)
	{
		bool known = false;

		for (size_t i = 0; i < n; i++)
			known |= !strcmp(key, allowed[i]);
		if (!known) {
			json_decref(j);
			return keys_why(x, allowed, n);
		}
	}

	*jp = j;
	return 0;
}


/**
 * A string member of a request body
 *
 * @param x        The request
 * @param j        Its body
 * @param key      Member name
 * @param required Whether its absence is refused
 * @param val      Returned text (borrowed from j), NULL when absent
 *
 * @return 0 if success, otherwise EBADMSG with x->why
 */
int api_str(struct exch *x, json_t *j, const char *key, bool required,
	    const char **val)
{
	json_t *v = json_object_get(j, key);

	*val = NULL;
	if (!v && !required)
		return 0;
	if (!v)
		return api_why(x, EBADMSG, "\"%s\" is required", key);
	if (!json_is_string(v))
		return api_why(x, EBADMSG, "\"%s\" must be a string", key);

	*val = json_string_value(v);
	return 0;
}


static const char *query(const struct exch *x, const char *key)
{
	return MHD_lookup_connection_value(x->conn, MHD_GET_ARGUMENT_KIND,
					   key);
}


/* ---- members of request bodies ------------------------------------- */

/**
 * A string member copied into a fixed buffer; an absent member leaves
 * dst alone
 *
 * @param x   The request
 * @param j   Its body
 * @param key Member name
 * @param dst Buffer
 * @param sz  Size of dst: longer text is refused
 *
 * @return 0 if success, EBADMSG or EINVAL with x->why
 */
int api_text(struct exch *x, json_t *j, const char *key, char *dst, size_t sz)
{
	const char *v;
	int err;

	err = api_str(x, j, key, false, &v);
	if (err || !v)
		return err;

	if (strlen(v) >= sz)
		return api_why(x, EINVAL, "%s: at most %zu characters", key,
			       sz - 1);

	str_ncpy(dst, v, sz);
	return 0;
}


/**
 * An integer member from min to max; an absent member leaves *val alone
 *
 * @param x   The request
 * @param j   Its body
 * @param key Member name
 * @param min Smallest value allowed
 * @param max Largest value allowed
 * @param val Returned value
 *
 * @return 0 if success, otherwise EINVAL with x->why
 */
int api_u32(struct exch *x, json_t *j, const char *key, uint32_t min,
	    uint32_t max, uint32_t *val)
{
	json_t *v = json_object_get(j, key);
	json_int_t n;

	if (!v)
		return 0;

	n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (!json_is_integer(v) || n < (json_int_t)min || n > (json_int_t)max)
		return api_why(x, EINVAL,
			       "%s: must be an integer from %u to %u", key,
			       min, max);

	*val = (uint32_t)n;
	return 0;
}


/**
 * A boolean member; an absent member leaves *val alone
 *
 * @param x   The request
 * @param j   Its body
 * @param key Member name
 * @param val Returned value
 *
 * @return 0 if success, otherwise EBADMSG with x->why
 */
int api_bool(struct exch *x, json_t *j, const char *key, bool *val)
{
	json_t *v = json_object_get(j, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return api_why(x, EBADMSG, "\"%s\" must be true or false",
			       key);

	*val = json_is_true(v);
	return 0;
}


/**
 * Set a boolean member
 *
 * @param o   JSON object
 * @param key Member name
 * @param val Value
 *
 * @return 0 if success, otherwise ENOMEM
 */
int api_set_bool(json_t *o, const char *key, bool val)
{
	return json_object_set_new(o, key, json_boolean(val)) ? ENOMEM : 0;
}


/**
 * The {n} of the path as a record id
 *
 * @param x    The request
 * @param what What the id names, for the refusal ("outbound rule")
 * @param id   Returned id (1 or more)
 *
 * @return 0 if success, otherwise ENOENT with x->why
 */
int api_id(struct exch *x, const char *what, int64_t *id)
{
	uint64_t v;

	if (num_u64_str(x->item, &v) || !v || v > INT64_MAX)
		return api_why(x, ENOENT, "%s %s does not exist", what,
			       x->item);

	*id = (int64_t)v;
	return 0;
}


/* ---- extensions ----------------------------------------------------- */

static int contact_count(const struct store_contact *c, void *arg)
{
	uint32_t *n = arg;
	(void)c;

	++*n;
	return 0;
}


static json_t *contact_json(const struct store_contact *c)
{
	const int64_t now = (int64_t)time(NULL);
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;

	err |= api_set_text(o, "ext", c->ext);
	err |= api_set_text(o, "uri", c->uri);
	err |= api_set_text(o, "received", c->received);
	err |= api_set_text(o, "transport", c->transport);
	err |= api_set_text(o, "user_agent", c->user_agent);
	err |= api_set_int(o, "expires", c->expires);
	err |= api_set_int(o, "expires_in",
			   c->expires > now ? c->expires - now : 0);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


static int contact_append(const struct store_contact *c, void *arg)
{
	return api_append(arg, contact_json(c));
}


/* an extension as the API shows it; bindings adds its live contacts */
static json_t *ext_json(struct api *api, const struct store_ext *ext,
			bool bindings)
{
	json_t *o = json_object(), *arr = NULL;
	uint32_t n = 0;
	int err = 0;

	if (!o)
		return NULL;

	if (api->ctx.reg)
		err |= registrar_foreach(api->ctx.reg, ext->number,
					 contact_count, &n);

	err |= api_set_text(o, "number", ext->number);
	err |= api_set_text(o, "name", ext->name);
	err |= api_set_int(o, "created", ext->created);
	err |= json_object_set_new(o, "registered", json_boolean(n > 0));
	err |= api_set_int(o, "contacts", n);

	if (bindings) {
		arr = json_array();
		if (arr && api->ctx.reg)
			err |= registrar_foreach(api->ctx.reg, ext->number,
						 contact_append, arr);
		err |= json_object_set_new(o, "bindings", arr);
	}

	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


struct list_ctx {
	struct api *api;
	json_t *arr;
};


static int ext_list_add(const struct store_ext *ext, void *arg)
{
	struct list_ctx *lc = arg;

	return api_append(lc->arr, ext_json(lc->api, ext, false));
}


static int ext_list(struct exch *x)
{
	struct list_ctx lc = { x->api, json_array() };
	int err;

	if (!lc.arr)
		return ENOMEM;

	err = store_ext_foreach(x->api->ctx.st, ext_list_add, &lc);
	if (err) {
		json_decref(lc.arr);
		return err;
	}

	x->status = 200;
	x->json = lc.arr;
	return 0;
}


static int ext_add(struct exch *x)
{
	static const char *const keys[] = { "number", "name", "password" };
	const char *number, *name, *password;
	struct api *api = x->api;
	struct store_ext ext;
	json_t *j;
	int err;

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	err = api_str(x, j, "number", true, &number);
	if (err)
		goto out;
	err = api_str(x, j, "name", false, &name);
	if (err)
		goto out;
	err = api_str(x, j, "password", true, &password);
	if (err)
		goto out;

	err = ext_create(api->ctx.st, api->ctx.cfg->sip_realm, number, name,
			 password, x->why, sizeof(x->why));
	if (err)
		goto out;

	err = store_ext_get(api->ctx.st, number, &ext);
	if (err)
		goto out;

	x->json = ext_json(api, &ext, false);
	if (!x->json) {
		err = ENOMEM;
		goto out;
	}

	x->status = 201;
	re_snprintf(x->location, sizeof(x->location), "/api/v1/extensions/%s",
		    number);

out:
	json_decref(j);
	return err;
}


/* the {n} of the path, checked, and that extension from the store */
static int ext_lookup(struct exch *x, struct store_ext *ext)
{
	int err;

	err = ext_number_check(x->item, x->why, sizeof(x->why));
	if (err)
		return err;

	err = store_ext_get(x->api->ctx.st, x->item, ext);
	if (err == ENOENT)
		return api_why(x, err, "extension %s does not exist", x->item);

	return err;
}


static int ext_show(struct exch *x)
{
	struct store_ext ext;
	int err;

	err = ext_lookup(x, &ext);
	if (err)
		return err;

	x->json = ext_json(x->api, &ext, true);
	if (!x->json)
		return ENOMEM;

	x->status = 200;
	return 0;
}


static int ext_remove(struct exch *x)
{
	struct store_ext ext;
	int err;

	err = ext_lookup(x, &ext);
	if (err)
		return err;

	/* its phones stop being reachable before it disappears */
	if (x->api->ctx.reg) {
		err = registrar_remove_ext(x->api->ctx.reg, x->item);
		if (err)
			return err;
	}

	err = store_ext_remove(x->api->ctx.st, x->item);
	if (err == ENOENT)
		return api_why(x, err, "extension %s does not exist", x->item);
	if (err)
		return err;

	log_info("extension %s removed", x->item);
	x->status = 204;
	return 0;
}


static int ext_passwd(struct exch *x)
{
	static const char *const keys[] = { "password" };
	const char *password;
	json_t *j;
	int err;

	err = ext_number_check(x->item, x->why, sizeof(x->why));
	if (err)
		return err;

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	err = api_str(x, j, "password", true, &password);
	if (!err)
		err = ext_set_password(x->api->ctx.st,
				       x->api->ctx.cfg->sip_realm, x->item,
				       password, x->why, sizeof(x->why));
	if (!err)
		x->status = 204;

	json_decref(j);
	return err;
}


/* ---- registrations, calls, records, status -------------------------- */

static int registrations(struct exch *x)
{
	const char *ext = query(x, "ext");
	json_t *arr;
	int err;

	if (!x->api->ctx.reg)
		return api_why(x, ENODEV, "the registrar is not running");

	if (ext) {
		err = ext_number_check(ext, x->why, sizeof(x->why));
		if (err)
			return err;
	}

	arr = json_array();
	if (!arr)
		return ENOMEM;

	err = registrar_foreach(x->api->ctx.reg, ext, contact_append, arr);
	if (err) {
		json_decref(arr);
		return err;
	}

	x->status = 200;
	x->json = arr;
	return 0;
}


static json_t *call_json(const struct b2bua_call_info *ci)
{
	const int64_t now_ms = (int64_t)time(NULL) * 1000;
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;

	err |= api_set_text(o, "callid", ci->callid);
	err |= api_set_text(o, "caller", ci->caller);
	err |= api_set_text(o, "callee", ci->callee);
	err |= api_set_text(o, "state", ci->state);
	err |= api_set_int(o, "start", ci->start_ms / 1000);
	err |= api_set_int(o, "answer", ci->answer_ms / 1000);
	err |= api_set_int(o, "duration",
			   ci->answer_ms && now_ms > ci->answer_ms
			       ? (now_ms - ci->answer_ms) / 1000
			       : 0);
	err |= api_set_int(o, "port_a", ci->port_a);
	err |= api_set_int(o, "port_b", ci->port_b);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


static int call_append(const struct b2bua_call_info *ci, void *arg)
{
	return api_append(arg, call_json(ci));
}


static int calls(struct exch *x)
{
	const char *active = query(x, "active");
	uint32_t v;
	json_t *arr;
	int err;

	/* only calls in progress live in memory; ended ones are records */
	if (active && num_u32_str(active, 1, 1, &v))
		return api_why(x, EINVAL,
			       "active must be 1; ended calls are in "
			       "/api/v1/cdr");

	if (!x->api->ctx.b2bua)
		return api_why(x, ENODEV, "call handling is not running");

	arr = json_array();
	if (!arr)
		return ENOMEM;

	err = b2bua_foreach(x->api->ctx.b2bua, call_append, arr);
	if (err) {
		json_decref(arr);
		return err;
	}

	x->status = 200;
	x->json = arr;
	return 0;
}


static json_t *cdr_json(const struct store_cdr *c)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;

	err |= api_set_int(o, "id", c->id);
	err |= api_set_text(o, "callid", c->callid);
	err |= api_set_text(o, "caller", c->caller);
	err |= api_set_text(o, "callee", c->callee);
	err |= api_set_int(o, "start_ms", c->start_ms);
	err |= api_set_int(o, "answer_ms", c->answer_ms);
	err |= api_set_int(o, "end_ms", c->end_ms);
	err |= api_set_text(o, "disposition", c->disposition);
	err |= api_set_text(o, "cause", c->cause);
	err |= api_set_int(o, "duration", c->duration_s);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


static int cdr_append(const struct store_cdr *c, void *arg)
{
	return api_append(arg, cdr_json(c));
}


static int cdr(struct exch *x)
{
	const char *lim = query(x, "limit");
	uint32_t limit = CDR_LIMIT_DEFAULT;
	json_t *arr;
	int err;

	if (lim && num_u32_str(lim, 1, CDR_LIMIT_MAX, &limit))
		return api_why(x, EINVAL,
			       "limit must be an integer from 1 to %u",
			       CDR_LIMIT_MAX);

	arr = json_array();
	if (!arr)
		return ENOMEM;

	err = store_cdr_foreach(x->api->ctx.st, limit, cdr_append, arr);
	if (err) {
		json_decref(arr);
		return err;
	}

	x->status = 200;
	x->json = arr;
	return 0;
}


static int status(struct exch *x)
{
	struct api *api = x->api;
	uint32_t nreg = 0;
	json_t *o;
	int err = 0;

	if (api->ctx.reg) {
		err = registrar_foreach(api->ctx.reg, NULL, contact_count,
					&nreg);
		if (err)
			return err;
	}

	o = json_object();
	if (!o)
		return ENOMEM;

	err |= api_set_text(o, "version", RELAIS_VERSION);
	err |= api_set_int(o, "uptime",
			   (int64_t)((tmr_jiffies() - api->started) / 1000));
	err |= api_set_int(o, "calls", b2bua_count(api->ctx.b2bua));
	err |= api_set_int(o, "registrations", nreg);
	if (err) {
		json_decref(o);
		return ENOMEM;
	}

	x->status = 200;
	x->json = o;
	return 0;
}


/* ---- routing -------------------------------------------------------- */

static const struct api_route routes[] = {
	{ "GET", "/api/v1/extensions", ext_list },
	{ "POST", "/api/v1/extensions", ext_add },
	{ "GET", "/api/v1/extensions/{n}", ext_show },
	{ "DELETE", "/api/v1/extensions/{n}", ext_remove },
	{ "PUT", "/api/v1/extensions/{n}/password", ext_passwd },
	{ "GET", "/api/v1/registrations", registrations },
	{ "GET", "/api/v1/calls", calls },
	{ "GET", "/api/v1/cdr", cdr },
	{ "GET", "/api/v1/status", status },
};

static const size_t routec = ARRAY_SIZE(routes);


/* url matches pattern; the segment standing for {n} goes to item, or
   the rest of the path for a final {*} (MHD has decoded %2F to '/') */
static bool path_match(const char *pattern, const char *url, char *item,
		       size_t sz)
{
	const char *hole = strstr(pattern, "{n}");
	const char *rest = strstr(pattern, "{*}");
	size_t pre, len;
	const char *seg;

	if (rest) {
		pre = (size_t)(rest - pattern);
		len = strncmp(pattern, url, pre) ? 0 : strlen(url + pre);
		if (!len || len >= sz)
			return false;
		memcpy(item, url + pre, len + 1);
		return true;
	}

	if (!hole)
		return !strcmp(pattern, url);

	pre = (size_t)(hole - pattern);
	if (strncmp(pattern, url, pre))
		return false;

	seg = url + pre;
	len = strcspn(seg, "/");
	if (!len || len >= sz)
		return false;

	if (strcmp(hole + 3, seg + len))
		return false;

	memcpy(item, seg, len);
	item[len] = '\0';

	return true;
}


static int dispatch(struct exch *x, const char *method, const char *url)
{
	static const struct {
		const struct api_route *v;
		const size_t *c;
	} tables[] = {
		{ routes, &routec },
		{ apicfg_routes, &apicfg_routec },
		{ apicert_routes, &apicert_routec },
		{ apisbc_routes, &apisbc_routec },
	};
	bool path_known = false;

	for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
		for (size_t i = 0; i < *tables[t].c; i++) {
			const struct api_route *r = &tables[t].v[i];

			if (!path_match(r->path, url, x->item,
					sizeof(x->item)))
				continue;

			path_known = true;
			if (!strcmp(r->method, method))
				return r->h(x);
		}
	}

	if (path_known)
		return api_why(x, ENOTSUP, "method %s not allowed here",
			       method);

	return api_why(x, ENOENT, "no such API endpoint");
}


/* the client's path for a log line: printable, and not too long */
static void log_safe(char *buf, size_t sz, const char *url)
{
	size_t i;

	for (i = 0; url[i] && i + 1 < sz; i++) {
		const unsigned char c = (unsigned char)url[i];

		buf[i] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
	}
	buf[i] = '\0';
}


static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status,
				 json_t *json, const char *location)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = NULL;

	if (json)
		text = json_dumps(json, JSON_COMPACT);

	resp = MHD_create_response_from_buffer(text ? strlen(text) : 0,
					       text ? text : (char *)"",
					       MHD_RESPMEM_MUST_COPY);
	free(text); /* json_dumps() allocates with malloc */
	if (!resp)
		return MHD_NO;

	if (text)
		(void)MHD_add_response_header(resp, "Content-Type",
					      "application/json");
	if (location && location[0])
		(void)MHD_add_response_header(resp, "Location", location);

	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);

	return ret;
}


static enum MHD_Result answer(struct api *api, struct MHD_Connection *conn,
			      const char *method, const char *url,
			      struct req *rq)
{
	char safe_url[128];
	struct exch x;
	enum MHD_Result ret;
	json_t *e;
	int err;

	log_safe(safe_url, sizeof(safe_url), url);
	memset(&x, 0, sizeof(x));
	x.api = api;
	x.conn = conn;
	x.rq = rq;

	if (rq->job)
		err = apicert_result(&x);
	else
		err = dispatch(&x, method, url);
	if (!err && x.later)
		return MHD_YES;
	if (!err) {
		log_debug("%s %s: %u", method, safe_url, x.status);
		ret = send_json(conn, x.status, x.json, x.location);
		json_decref(x.json);
		return ret;
	}

	json_decref(x.json);
	x.status = reply_errno(&x, err);
	log_debug("%s %s: %u %s", method, safe_url, x.status, x.why);

	e = json_object();
	if (e)
		(void)api_set_text(e, "error", x.why);
	ret = send_json(conn, x.status, e, NULL);
	json_decref(e);

	return ret;
}


/* a request body may hold a password: wipe it before freeing it */
static struct mbuf *body_free(struct mbuf *mb)
{
	if (mb && mb->buf)
		memset(mb->buf, 0, mb->size);

	return mem_deref(mb);
}


/* refuse a body announced larger than the ceiling before it is sent */
static bool announced_toobig(struct MHD_Connection *conn)
{
	const char *clen =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t n;

	if (!clen)
		return false;

	return num_u64_str(clen, &n) || n > BODY_MAX;
}


static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn,
				      const char *url, const char *method,
				      const char *version,
				      const char *upload_data,
				      size_t *upload_data_size, void **con_cls)
{
	struct api *api = cls;
	struct req *rq = *con_cls;
	(void)version;

	if (!rq) {
		rq = mem_zalloc(sizeof(*rq), NULL);
		if (!rq)
			return MHD_NO;
		*con_cls = rq;

		if (!announced_toobig(conn))
			return MHD_YES;

		/* MHD discards the body and closes after this answer */
		rq->toobig = true;
		rq->answered = true;
		return answer(api, conn, method, url, rq);
	}

	if (rq->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}

	/* gather the body, within its ceiling (a chunked one has no
	   Content-Length to refuse early) */
	if (*upload_data_size) {
		const size_t have = rq->body ? rq->body->end : 0;

		if (!rq->toobig && have + *upload_data_size > BODY_MAX) {
			rq->toobig = true;
			rq->body = body_free(rq->body);
		}
		if (!rq->toobig) {
			if (!rq->body)
				rq->body = mbuf_alloc(1024);
			if (!rq->body ||
			    mbuf_write_mem(rq->body,
					   (const uint8_t *)upload_data,
					   *upload_data_size))
				return MHD_NO;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}

	return answer(api, conn, method, url, rq);
}


static void completed_handler(void *cls, struct MHD_Connection *conn,
			      void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;

	if (rq) {
		body_free(rq->body);
		mem_deref(rq->job);
		mem_deref(rq);
		*con_cls = NULL;
	}
}


static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;
	(void)cls;

	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';

	log_warn("libmicrohttpd: %s", buf);
}


static void tmr_handler(void *arg)
{
	api_run(arg);
}


/**
 * Let MHD do its work, then wake up again when its next timeout is due.
 * The timer also runs when MHD wants none, at most TIMER_MAX_MS apart: a
 * cheap guard against work MHD has queued without its epoll descriptor
 * becoming readable.
 *
 * @param api The API
 */
void api_run(struct api *api)
{
	MHD_UNSIGNED_LONG_LONG to = TIMER_MAX_MS;

	(void)MHD_run(api->mhd);

	if (MHD_get_timeout(api->mhd, &to) != MHD_YES || to > TIMER_MAX_MS)
		to = TIMER_MAX_MS;

	tmr_start(&api->tmr, to, tmr_handler, api);
}


static void epoll_handler(int flags, void *arg)
{
	(void)flags;

	api_run(arg);
}


static int unix_listen(struct api *api, const char *path)
{
	struct sockaddr_un sun;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno;

	/* a socket left by a relaisd that died is replaced; one a live
	   relaisd answers on is not */
	if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		(void)close(fd);
		return EADDRINUSE;
	}
	(void)unlink(path);

	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(path, 0660) || listen(fd, CONN_LIMIT)) {
		err = errno;
		(void)close(fd);
		return err;
	}

	api->lfd = fd;
	return 0;
}


/**
 * Start the API on a Unix socket, served from the calling thread's libre
 * loop
 *
 * @param ap       Pointer to allocated API; mem_deref() stops it and
 *                 removes the socket
 * @param sockpath Socket path (a stale socket there is replaced)
 * @param ctx      What the handlers use (copied); reg, b2bua, trunks
 *                 and ss may be NULL (see struct api_ctx)
 *
 * @return 0 if success, otherwise errorcode
 */
int api_alloc(struct api **ap, const char *sockpath, const struct api_ctx *ctx)
{
	const union MHD_DaemonInfo *info;
	struct api *api;
	int err;

	if (!ap || !sockpath || !sockpath[0] || !ctx || !ctx->st || !ctx->cfg)
		return EINVAL;

	api = mem_zalloc(sizeof(*api), destructor);
	if (!api)
		return ENOMEM;

	api->ctx = *ctx;
	api->lfd = -1;
	api->epfd = -1;
	api->started = tmr_jiffies();
	tmr_init(&api->tmr);

	err = mqueue_alloc(&api->mq, apicert_mq_handler, api);
	if (err)
		goto out;

	err = unix_listen(api, sockpath);
	if (err)
		goto out;

	/* from here on the destructor unlinks the socket */
	err = str_dup(&api->path, sockpath);
	if (err)
		goto out;

	api->mhd =
	    MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
				 MHD_ALLOW_SUSPEND_RESUME,
			     0, NULL, NULL, access_handler, api,
			     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, api,
			     MHD_OPTION_LISTEN_SOCKET, api->lfd,
			     MHD_OPTION_NOTIFY_COMPLETED, completed_handler,
			     api, MHD_OPTION_CONNECTION_TIMEOUT,
			     (unsigned)CONN_TIMEOUT_S,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
			     MHD_OPTION_END);
	if (!api->mhd) {
		err = EIO;
		goto out;
	}
	api->lfd = -1; /* MHD_stop_daemon() closes it */

	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		err = EIO;
		goto out;
	}

	err = fd_listen(info->epoll_fd, FD_READ, epoll_handler, api);
	if (err)
		goto out;
	api->epfd = info->epoll_fd;

	tmr_start(&api->tmr, 0, tmr_handler, api);
	log_info("API listening on %s", sockpath);

out:
	if (err)
		mem_deref(api);
	else
		*ap = api;

	return err;
}

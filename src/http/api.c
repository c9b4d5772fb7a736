/**
 * @file api.c  JSON API on a Unix socket, for relaisctl (and later the web
 *              console)
 *
 * libmicrohttpd runs without threads of its own: its epoll descriptor is
 * watched with fd_listen() on the SIP thread and MHD_run() is called from
 * there, with a libre timer for MHD's own timeouts. Handlers therefore run
 * on the SIP thread and use the store, registrar and B2BUA directly. The
 * socket's permissions (0660) are the access control.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "pbx/pbx.h"
#include "http/http.h"

#define DEBUG_MODULE "api"

enum {
	BODY_MAX = 65536,
	CDR_LIMIT_DEFAULT = 50,
	CDR_LIMIT_MAX = 10000,
	TIMER_MAX_MS = 1000,
};

struct api {
	struct api_ctx ctx;
	struct MHD_Daemon *mhd;
	int lfd;
	int epfd;
	char *path;
	struct tmr tmr;
	uint64_t started;
};

/* one request's state across the access handler's calls */
struct req {
	char *body;
	size_t len;
	bool toobig;
};

/* what a handler answers: HTTP status and a JSON value (may be NULL) */
struct reply {
	unsigned status;
	json_t *json;
};


static void api_run(struct api *api);


static void destructor(void *arg)
{
	struct api *api = arg;

	tmr_cancel(&api->tmr);
	if (api->epfd >= 0)
		fd_close(api->epfd);
	if (api->mhd)
		MHD_stop_daemon(api->mhd);
	if (api->lfd >= 0)
		close(api->lfd);
	if (api->path)
		(void)unlink(api->path);
	mem_deref(api->path);
}


static void reply_error(struct reply *r, unsigned status, const char *msg)
{
	r->status = status;
	r->json = json_pack("{s:s}", "error", msg);
}


/* The one place an errno becomes an HTTP status (STYLE.md §3) */
static void reply_errno(struct reply *r, int err, const char *why)
{
	char buf[128];

	switch (err) {

	case EINVAL:
		reply_error(r, 422, why && why[0] ? why : "invalid request");
		break;
	case EBADMSG:
		reply_error(r, 400, why && why[0] ? why : "malformed request");
		break;
	case ENOENT:
		reply_error(r, 404, why && why[0] ? why : "not found");
		break;
	case EEXIST:
		reply_error(r, 409, why && why[0] ? why : "already exists");
		break;
	case EMSGSIZE:
		reply_error(r, 413, "request body larger than 64 KiB");
		break;
	case ENOTSUP:
		reply_error(r, 503, why && why[0] ? why : "not available");
		break;
	default:
		re_snprintf(buf, sizeof(buf), "internal error (%m)", err);
		reply_error(r, 500, buf);
		break;
	}
}


/* ---- extensions ----------------------------------------------------- */

struct count_ctx {
	const char *ext;
	uint32_t n;
};


static int contact_count(const struct store_contact *c, void *arg)
{
	struct count_ctx *cc = arg;
	(void)c;

	++cc->n;
	return 0;
}


static int contact_json_add(const struct store_contact *c, void *arg)
{
	json_t *arr = arg;
	const int64_t now = (int64_t)time(NULL);

	return json_array_append_new(arr,
				     json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}",
					       "ext", c->ext, "uri", c->uri,
					       "received", c->received,
					       "transport", c->transport,
					       "user_agent", c->user_agent,
					       "expires",
					       (json_int_t)c->expires,
					       "expires_in",
					       (json_int_t)(c->expires > now
								? c->expires -
								      now
								: 0)))
		   ? ENOMEM
		   : 0;
}


static json_t *ext_json(struct api *api, const struct store_ext *ext,
			bool contacts)
{
	struct count_ctx cc = { ext->number, 0 };
	json_t *o;

	if (api->ctx.reg)
		(void)registrar_foreach(api->ctx.reg, ext->number,
					contact_count, &cc);

	o = json_pack("{s:s,s:s,s:I,s:b,s:i}", "number", ext->number, "name",
		      ext->name, "created", (json_int_t)ext->created,
		      "registered", cc.n > 0, "contacts", (int)cc.n);
	if (o && contacts && api->ctx.reg) {
		json_t *arr = json_array();

		(void)registrar_foreach(api->ctx.reg, ext->number,
					contact_json_add, arr);
		json_object_set_new(o, "bindings", arr);
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

	return json_array_append_new(lc->arr, ext_json(lc->api, ext, false))
		   ? ENOMEM
		   : 0;
}


static void ext_list(struct api *api, struct reply *r)
{
	struct list_ctx lc = { api, json_array() };
	int err;

	err = store_ext_foreach(api->ctx.st, ext_list_add, &lc);
	if (err) {
		json_decref(lc.arr);
		reply_errno(r, err, NULL);
		return;
	}

	r->status = 200;
	r->json = lc.arr;
}


static json_t *body_parse(const struct req *rq, struct reply *r)
{
	json_error_t jerr;
	json_t *j;
	char msg[200];

	if (rq->toobig) {
		reply_errno(r, EMSGSIZE, NULL);
		return NULL;
	}

	j = json_loadb(rq->body ? rq->body : "", rq->len, 0, &jerr);
	if (!j || !json_is_object(j)) {
		re_snprintf(msg, sizeof(msg), "body is not a JSON object: %s",
			    j ? "wrong type" : jerr.text);
		reply_error(r, 400, msg);
		json_decref(j);
		return NULL;
	}

	return j;
}


static const char *json_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}


static void ext_add(struct api *api, const struct req *rq, struct reply *r)
{
	const char *number, *name, *password;
	struct store_ext ext;
	char why[256] = "";
	json_t *j;
	int err;

	j = body_parse(rq, r);
	if (!j)
		return;

	number = json_str(j, "number");
	name = json_str(j, "name");
	password = json_str(j, "password");
	if (!number || !password) {
		reply_error(r, 400,
			    "\"number\" and \"password\" (strings) "
			    "are required");
		goto out;
	}

	err = ext_create(api->ctx.st, api->ctx.cfg->sip_realm, number,
			 name ? name : "", password, why, sizeof(why));
	if (err) {
		reply_errno(r, err, why);
		goto out;
	}

	err = store_ext_get(api->ctx.st, number, &ext);
	if (err) {
		reply_errno(r, err, NULL);
		goto out;
	}

	r->status = 201;
	r->json = ext_json(api, &ext, false);

out:
	json_decref(j);
}


static void ext_show(struct api *api, const char *number, struct reply *r)
{
	struct store_ext ext;
	char why[128];
	int err;

	if (ext_number_check(number, why, sizeof(why))) {
		reply_error(r, 422, why);
		return;
	}

	err = store_ext_get(api->ctx.st, number, &ext);
	if (err) {
		re_snprintf(why, sizeof(why), "extension %s does not exist",
			    number);
		reply_errno(r, err, why);
		return;
	}

	r->status = 200;
	r->json = ext_json(api, &ext, true);
}


static void ext_remove(struct api *api, const char *number, struct reply *r)
{
	char why[128];
	int err;

	if (ext_number_check(number, why, sizeof(why))) {
		reply_error(r, 422, why);
		return;
	}

	if (api->ctx.reg)
		(void)registrar_remove_ext(api->ctx.reg, number);

	err = store_ext_remove(api->ctx.st, number);
	if (err) {
		re_snprintf(why, sizeof(why), "extension %s does not exist",
			    number);
		reply_errno(r, err, why);
		return;
	}

	log_info("extension %s removed", number);
	r->status = 204;
}


static void ext_passwd(struct api *api, const char *number,
		       const struct req *rq, struct reply *r)
{
	char why[256] = "";
	const char *password;
	json_t *j;
	int err;

	j = body_parse(rq, r);
	if (!j)
		return;

	password = json_str(j, "password");
	if (!password) {
		reply_error(r, 400, "\"password\" (string) is required");
		goto out;
	}

	err = ext_set_password(api->ctx.st, api->ctx.cfg->sip_realm, number,
			       password, why, sizeof(why));
	if (err)
		reply_errno(r, err, why);
	else
		r->status = 204;

out:
	json_decref(j);
}


/* ---- registrations, calls, records, status -------------------------- */

static void registrations(struct api *api, struct MHD_Connection *conn,
			  struct reply *r)
{
	const char *ext =
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "ext");
	json_t *arr;
	char why[128];
	int err;

	if (!api->ctx.reg) {
		reply_errno(r, ENOTSUP, "registrar not running");
		return;
	}

	if (ext && ext_number_check(ext, why, sizeof(why))) {
		reply_error(r, 422, why);
		return;
	}

	arr = json_array();
	err = registrar_foreach(api->ctx.reg, ext, contact_json_add, arr);
	if (err) {
		json_decref(arr);
		reply_errno(r, err, NULL);
		return;
	}

	r->status = 200;
	r->json = arr;
}


static int call_json_add(const struct b2bua_call_info *ci, void *arg)
{
	json_t *arr = arg;
	const int64_t now = (int64_t)time(NULL) * 1000;

	return json_array_append_new(
		   arr,
		   json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:i,s:i}", "callid",
			     ci->callid, "caller", ci->caller, "callee",
			     ci->callee, "state", ci->state, "start",
			     (json_int_t)(ci->start_ms / 1000), "answer",
			     (json_int_t)(ci->answer_ms / 1000), "duration",
			     (json_int_t)(ci->answer_ms
					      ? (now - ci->answer_ms) / 1000
					      : 0),
			     "port_a", (int)ci->port_a, "port_b",
			     (int)ci->port_b))
		   ? ENOMEM
		   : 0;
}


static void calls(struct api *api, struct reply *r)
{
	json_t *arr;

	if (!api->ctx.b2bua) {
		reply_errno(r, ENOTSUP, "call handling not running");
		return;
	}

	arr = json_array();
	(void)b2bua_foreach(api->ctx.b2bua, call_json_add, arr);
	r->status = 200;
	r->json = arr;
}


static int cdr_json_add(const struct store_cdr *c, void *arg)
{
	json_t *arr = arg;

	return json_array_append_new(
		   arr, json_pack("{s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:i}",
				  "id", (json_int_t)c->id, "callid", c->callid,
				  "caller", c->caller, "callee", c->callee,
				  "start", (json_int_t)c->start_ms, "answer",
				  (json_int_t)c->answer_ms, "end",
				  (json_int_t)c->end_ms, "disposition",
				  c->disposition, "cause", c->cause,
				  "duration", (int)c->duration_s))
		   ? ENOMEM
		   : 0;
}


static void cdr(struct api *api, struct MHD_Connection *conn, struct reply *r)
{
	const char *lim =
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
	uint32_t limit = CDR_LIMIT_DEFAULT;
	json_t *arr;
	int err;

	if (lim && num_u32_str(lim, 1, CDR_LIMIT_MAX, &limit)) {
		reply_error(r, 422,
			    "limit must be an integer from 1 to "
			    "10000");
		return;
	}

	arr = json_array();
	err = store_cdr_foreach(api->ctx.st, limit, cdr_json_add, arr);
	if (err) {
		json_decref(arr);
		reply_errno(r, err, NULL);
		return;
	}

	r->status = 200;
	r->json = arr;
}


static int reg_count(const struct store_contact *c, void *arg)
{
	uint32_t *n = arg;
	(void)c;

	++*n;
	return 0;
}


static void status(struct api *api, struct reply *r)
{
	uint32_t nreg = 0;

	if (api->ctx.reg)
		(void)registrar_foreach(api->ctx.reg, NULL, reg_count, &nreg);

	r->status = 200;
	r->json =
	    json_pack("{s:s,s:I,s:i,s:i}", "version", RELAIS_VERSION, "uptime",
		      (json_int_t)((tmr_jiffies() - api->started) / 1000),
		      "calls", (int)b2bua_count(api->ctx.b2bua),
		      "registrations", (int)nreg);
}


/* ---- routing -------------------------------------------------------- */

static bool path_item(const char *url, const char *prefix, char *item,
		      size_t sz, const char **rest)
{
	const size_t n = strlen(prefix);
	const char *p, *slash;
	size_t len;

	if (strncmp(url, prefix, n))
		return false;

	p = url + n;
	slash = strchr(p, '/');
	len = slash ? (size_t)(slash - p) : strlen(p);
	if (!len || len >= sz)
		return false;

	memcpy(item, p, len);
	item[len] = '\0';
	*rest = slash ? slash : "";

	return true;
}


static void route(struct api *api, struct MHD_Connection *conn,
		  const char *method, const char *url, const struct req *rq,
		  struct reply *r)
{
	const bool get = !strcmp(method, "GET");
	char item[64];
	const char *rest;

	if (!strcmp(url, "/api/v1/extensions")) {
		if (get)
			ext_list(api, r);
		else if (!strcmp(method, "POST"))
			ext_add(api, rq, r);
		else
			reply_error(r, 405, "use GET or POST");
	}
	else if (path_item(url, "/api/v1/extensions/", item, sizeof(item),
			   &rest)) {
		if (!rest[0] && get)
			ext_show(api, item, r);
		else if (!rest[0] && !strcmp(method, "DELETE"))
			ext_remove(api, item, r);
		else if (!strcmp(rest, "/password") && !strcmp(method, "PUT"))
			ext_passwd(api, item, rq, r);
		else
			reply_error(r, 405, "method not allowed here");
	}
	else if (!strcmp(url, "/api/v1/registrations") && get)
		registrations(api, conn, r);
	else if (!strcmp(url, "/api/v1/calls") && get)
		calls(api, r);
	else if (!strcmp(url, "/api/v1/cdr") && get)
		cdr(api, conn, r);
	else if (!strcmp(url, "/api/v1/status") && get)
		status(api, r);
	else
		reply_error(r, 404, "no such API endpoint");
}


static enum MHD_Result send_reply(struct MHD_Connection *conn, struct reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = NULL;

	if (r->json) {
		text = json_dumps(r->json, JSON_COMPACT);
		json_decref(r->json);
	}

	resp = MHD_create_response_from_buffer(text ? strlen(text) : 0,
					       text ? text : (char *)"",
					       MHD_RESPMEM_MUST_COPY);
	free(text); /* json_dumps() allocates with malloc */
	if (!resp)
		return MHD_NO;

	if (r->status != 204)
		(void)MHD_add_response_header(resp, "Content-Type",
					      "application/json");
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);

	return ret;
}


static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn,
				      const char *url, const char *method,
				      const char *version,
				      const char *upload_data,
				      size_t *upload_data_size, void **con_cls)
{
	struct api *api = cls;
	struct req *rq = *con_cls;
	struct reply r = { 500, NULL };
	(void)version;

	if (!rq) {
		rq = mem_zalloc(sizeof(*rq), NULL);
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}

	/* gather the body, within its ceiling */
	if (*upload_data_size) {
		if (rq->len + *upload_data_size > BODY_MAX) {
			rq->toobig = true;
		}
		else {
			const size_t need = rq->len + *upload_data_size + 1;
			char *nb = rq->body ? mem_realloc(rq->body, need)
					    : mem_alloc(need, NULL);
			if (!nb)
				return MHD_NO;
			memcpy(nb + rq->len, upload_data, *upload_data_size);
			rq->body = nb;
			rq->len += *upload_data_size;
			rq->body[rq->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}

	route(api, conn, method, url, rq, &r);
	log_debug("%s %s -> %u", method, url, r.status);

	return send_reply(conn, &r);
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
		mem_deref(rq->body);
		mem_deref(rq);
		*con_cls = NULL;
	}
}


static void tmr_handler(void *arg)
{
	api_run(arg);
}


static void api_run(struct api *api)
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

	/* a socket left by a relaisd that died; a live one is refused */
	if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		return EADDRINUSE;
	}
	(void)unlink(path);

	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(path, 0660) || listen(fd, 64)) {
		err = errno;
		close(fd);
		return err;
	}

	api->lfd = fd;
	return 0;
}


/**
 * Start the API on a Unix socket
 *
 * @param ap       Pointer to allocated API
 * @param sockpath Socket path (a stale socket there is replaced)
 * @param ctx      What the handlers use; reg and b2bua may be NULL
 *
 * @return 0 if success, otherwise errorcode
 */
int api_alloc(struct api **ap, const char *sockpath, const struct api_ctx *ctx)
{
	const union MHD_DaemonInfo *info;
	struct api *api;
	int err;

	if (!ap || !sockpath || !ctx || !ctx->st || !ctx->cfg)
		return EINVAL;

	api = mem_zalloc(sizeof(*api), destructor);
	if (!api)
		return ENOMEM;

	api->ctx = *ctx;
	api->lfd = -1;
	api->epfd = -1;
	api->started = tmr_jiffies();
	tmr_init(&api->tmr);

	err = str_dup(&api->path, sockpath);
	if (err)
		goto out;

	err = unix_listen(api, sockpath);
	if (err)
		goto out;

	api->mhd =
	    MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			     access_handler, api, MHD_OPTION_LISTEN_SOCKET,
			     api->lfd, MHD_OPTION_NOTIFY_COMPLETED,
			     completed_handler, api,
			     MHD_OPTION_CONNECTION_TIMEOUT, 30U,
			     MHD_OPTION_CONNECTION_LIMIT, 64U, MHD_OPTION_END);
	if (!api->mhd) {
		err = EIO;
		goto out;
	}

	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		err = EIO;
		goto out;
	}
	api->epfd = info->epoll_fd;

	err = fd_listen(api->epfd, FD_READ, epoll_handler, api);
	if (err)
		goto out;

	tmr_start(&api->tmr, TIMER_MAX_MS, tmr_handler, api);
	log_info("API listening on %s", sockpath);

out:
	if (err)
		mem_deref(api);
	else
		*ap = api;

	return err;
}

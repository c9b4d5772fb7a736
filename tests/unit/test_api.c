/**
 * @file test_api.c  The JSON API on a Unix socket, with a real SQLite store
 *
 * The API runs in the main thread's libre loop, as in relaisd. A client
 * thread sends a script of HTTP/1.1 requests over the socket with blocking
 * I/O and records each answer; a 50 ms timer on the loop polls the
 * client's atomic "done" flag and stops the loop (re_cancel() is not safe
 * from another thread in libre 1.1.0). The loop is bounded by a timer.
 * The client is a few lines of plain HTTP rather than libcurl so that
 * unit tests link only relaiscore; relaisctl's libcurl side is covered by
 * tests/integration/test_relaisctl.sh. The SBC endpoints are tested with
 * the SBC off (the store only); test_relaisctl_sbc.sh runs one.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
/* not <re.h>: its re_json.h clashes with jansson's JSON_* names */
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_sa.h>
#include <re_tmr.h>
#include <re_main.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "pbx/pbx.h"
#include "sbc/sbc.h"
#include "http/http.h"
#include "testdir.h"

enum {
	LOOP_MS = 20000, /* bound; a passing run takes milliseconds */
	POLL_MS = 50,
	IO_TIMEOUT_S = 10,
	RESP_MAX = 1 << 20,
	BODY_MAX = 65536,
};

#define PW_A "Str0ng-Pass!x"
#define PW_B "Other-Secret-88"

/* one request of a script and what came back */
struct xreq {
	const char *method;
	const char *path;
	const char *body; /* NULL: none; see big and chunked */
	size_t big;	  /* send a body of this many bytes instead */
	bool chunked;	  /* send the body chunked, without a length */
	size_t announce;  /* Content-Length to claim instead of big */
	unsigned status;  /* answer */
	char *resp;	  /* answer body (mem), NULL if none */
};

/* script lines; designated so that the other members start at zero */
#define REQ(m, p, b)                                                          \
	{                                                                     \
		.method = (m), .path = (p), .body = (b)                       \
	}
#define GET(p) REQ("GET", p, NULL)
#define BIG(m, p, n, ch)                                                      \
	{                                                                     \
		.method = (m), .path = (p), .big = (n), .chunked = (ch)       \
	}

struct client {
	const char *sock;
	struct xreq *reqv;
	size_t reqc;
	int err;
	atomic_bool done;
	atomic_bool stop; /* the loop gave up: skip the rest */
};

struct fixture {
	char dir[64];
	char sock[128];
	char db[128];
	struct relais_config cfg;
	struct store *st;
	struct api *api;
};


/* ---- the client thread ---------------------------------------------- */

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		const ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0)
			return errno;
		p += w;
		n -= (size_t)w;
	}

	return 0;
}


static int send_body(int fd, const struct xreq *r, const char *body,
		     size_t len)
{
	char hdr[32];
	size_t off = 0;
	int err;

	if (!r->chunked)
		return send_all(fd, body, len);

	while (off < len) {
		const size_t n = len - off < 4096 ? len - off : 4096;

		snprintf(hdr, sizeof(hdr), "%zx\r\n", n);
		err = send_all(fd, hdr, strlen(hdr));
		err |= send_all(fd, body + off, n);
		err |= send_all(fd, "\r\n", 2);
		if (err)
			return err;
		off += n;
	}

	return send_all(fd, "0\r\n\r\n", 5);
}


static int recv_all(int fd, char **bufp, size_t *lenp)
{
	size_t len = 0, size = 4096;
	char *buf = mem_alloc(size + 1, NULL);

	if (!buf)
		return ENOMEM;

	for (;;) {
		ssize_t n;

		if (len == size) {
			char *nb;

			if (size >= RESP_MAX) {
				mem_deref(buf);
				return EMSGSIZE;
			}
			size *= 2;
			nb = mem_realloc(buf, size + 1);
			if (!nb) {
				mem_deref(buf);
				return ENOMEM;
			}
			buf = nb;
		}

		n = recv(fd, buf + len, size - len, 0);
		/* a server that closes with part of our body unread resets
		   the connection after its answer */
		if (n < 0 && errno == ECONNRESET && len)
			break;
		if (n < 0) {
			mem_deref(buf);
			return errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}

	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;

	return 0;
}


/* one request on its own connection (Connection: close), blocking */
static int http_do(const char *sock, struct xreq *r)
{
	struct sockaddr_un sun;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	char hdr[512], *resp = NULL, *body = NULL, *p;
	size_t len = 0, rlen;
	int fd, err;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = errno;
		goto out;
	}

	if (r->big) {
		body = mem_alloc(r->big, NULL);
		if (!body) {
			err = ENOMEM;
			goto out;
		}
		memset(body, ' ', r->big);
		len = r->big;
	}
	else if (r->body) {
		len = strlen(r->body);
	}

	if (r->chunked)
		snprintf(hdr, sizeof(hdr),
			 "%s %s HTTP/1.1\r\nHost: localhost\r\n"
			 "Connection: close\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n",
			 r->method, r->path);
	else
		snprintf(hdr, sizeof(hdr),
			 "%s %s HTTP/1.1\r\nHost: localhost\r\n"
			 "Connection: close\r\nContent-Length: %zu\r\n\r\n",
			 r->method, r->path, r->announce ? r->announce : len);

	err = send_all(fd, hdr, strlen(hdr));
	if (err)
		goto out;

	/* the server may answer (413) and close before taking it all */
	if (len)
		(void)send_body(fd, r, body ? body : r->body, len);

	err = recv_all(fd, &resp, &rlen);
	if (err)
		goto out;

	if (rlen < 12 || strncmp(resp, "HTTP/1.1 ", 9)) {
		err = EPROTO;
		goto out;
	}
	r->status = (unsigned)strtoul(resp + 9, NULL, 10);

	p = strstr(resp, "\r\n\r\n");
	if (p && p[4]) {
		err = str_dup(&r->resp, p + 4);
	}

out:
	mem_deref(resp);
	mem_deref(body);
	(void)close(fd);

	return err;
}


static void *client_thread(void *arg)
{
	struct client *c = arg;

	for (size_t i = 0; i < c->reqc && !c->err; i++) {
		if (atomic_load(&c->stop))
			break;
		c->err = http_do(c->sock, &c->reqv[i]);
	}

	atomic_store(&c->done, true);

	return NULL;
}


/* ---- the loop ------------------------------------------------------- */

struct loop {
	struct tmr poll;
	struct tmr limit;
	struct client *c;
	int err;
};


static void poll_h(void *arg)
{
	struct loop *l = arg;

	if (atomic_load(&l->c->done)) {
		re_cancel();
		return;
	}

	tmr_start(&l->poll, POLL_MS, poll_h, l);
}


static void limit_h(void *arg)
{
	struct loop *l = arg;

	l->err = ETIMEDOUT;
	re_cancel();
}


/* run a script of requests against the API, the loop bounded */
static void run_script(struct fixture *f, struct xreq *reqv, size_t reqc)
{
	struct client c;
	struct loop l;
	pthread_t tid;

	memset(&c, 0, sizeof(c));
	c.sock = f->sock;
	c.reqv = reqv;
	c.reqc = reqc;
	atomic_init(&c.done, false);
	atomic_init(&c.stop, false);

	memset(&l, 0, sizeof(l));
	l.c = &c;
	tmr_init(&l.poll);
	tmr_init(&l.limit);
	tmr_start(&l.poll, POLL_MS, poll_h, &l);
	tmr_start(&l.limit, LOOP_MS, limit_h, &l);

	assert_int_equal(pthread_create(&tid, NULL, client_thread, &c), 0);
	(void)re_main(NULL);
	tmr_cancel(&l.poll);
	tmr_cancel(&l.limit);

	if (l.err) {
		/* the client is stuck: its socket timeouts end it */
		atomic_store(&c.stop, true);
		(void)pthread_join(tid, NULL);
		fail_msg("the loop timed out");
	}
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_equal(c.err, 0);
}


static void script_free(struct xreq *reqv, size_t reqc)
{
	for (size_t i = 0; i < reqc; i++) {
		reqv[i].resp = mem_deref(reqv[i].resp);
	}
}


/* ---- checking answers ----------------------------------------------- */

static json_t *resp_json(const struct xreq *r)
{
	json_error_t jerr;
	json_t *j;

	if (!r->resp)
		fail_msg("%s %s: no body", r->method, r->path);
	j = json_loads(r->resp, 0, &jerr);
	if (!j)
		fail_msg("%s %s: not JSON: %s", r->method, r->path, r->resp);

	return j;
}


static void expect_status(const struct xreq *r, unsigned status)
{
	if (r->status != status)
		fail_msg("%s %s: status %u, expected %u (%s)", r->method,
			 r->path, r->status, status, r->resp ? r->resp : "");
}


/* an error answer: the status, and {"error": "...needle..."} */
static void expect_error(const struct xreq *r, unsigned status,
			 const char *needle)
{
	json_t *j, *e;

	expect_status(r, status);
	j = resp_json(r);
	e = json_object_get(j, "error");
	if (!json_is_string(e) || json_object_size(j) != 1)
		fail_msg("%s %s: not an error object: %s", r->method, r->path,
			 r->resp);
	if (!strstr(json_string_value(e), needle))
		fail_msg("%s %s: \"%s\" does not say \"%s\"", r->method,
			 r->path, json_string_value(e), needle);
	json_decref(j);
}


static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_string(v));
	return json_string_value(v);
}


static json_int_t jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}


/* stderr (where the log goes) into a file, for reading it back */
struct capture {
	char path[160];
	int saved;
};


static void capture_start(struct capture *cap, const struct fixture *f)
{
	int fd;

	snprintf(cap->path, sizeof(cap->path), "%s/log.txt", f->dir);
	fflush(stderr);
	cap->saved = dup(STDERR_FILENO);
	fd = open(cap->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(cap->saved >= 0 && fd >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	(void)close(fd);
}


/* stops capturing; returns what was logged (mem) */
static char *capture_stop(struct capture *cap)
{
	char *text;
	long n;
	FILE *fp;

	fflush(stderr);
	assert_true(dup2(cap->saved, STDERR_FILENO) >= 0);
	(void)close(cap->saved);

	fp = fopen(cap->path, "r");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	text = mem_zalloc((size_t)n + 1, NULL);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);

	return text;
}


/* ---- fixture -------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *f = mem_zalloc(sizeof(*f), NULL);
	struct api_ctx ctx;

	if (!f)
		return -1;

	snprintf(f->dir, sizeof(f->dir), "/tmp/relais-test-api-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/api.sock", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);

	f->cfg = config_defaults;
	snprintf(f->cfg.sip_realm, sizeof(f->cfg.sip_realm), "relais.test");
	snprintf(f->cfg.tls_cert, sizeof(f->cfg.tls_cert), "%s/tls/cert.pem",
		 f->dir);

	if (store_open(&f->st, f->db))
		return -1;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &f->cfg;
	ctx.st = f->st;
	if (api_alloc(&f->api, f->sock, &ctx))
		return -1;

	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_deref(f->api);
	mem_deref(f->st);
	testdir_remove(f->dir);
	mem_deref(f);

	return 0;
}


/* ---- tests ---------------------------------------------------------- */

static void test_socket(void **state)
{
	struct fixture *f = *state;
	struct api_ctx ctx;
	struct api *api2 = NULL;
	struct stat sb;
	char path[100];
	int fd;

	/* the socket is there, with group access only */
	assert_int_equal(stat(f->sock, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0660);

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &f->cfg;
	ctx.st = f->st;

	/* a live socket is not taken over */
	assert_int_equal(api_alloc(&api2, f->sock, &ctx), EADDRINUSE);
	assert_null(api2);

	/* a stale one (nobody listening) is replaced */
	snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
	{
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_true(fd >= 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sun,
				      sizeof(sun)),
				 0);
		(void)close(fd);
	}
	assert_int_equal(api_alloc(&api2, path, &ctx), 0);
	assert_int_equal(stat(path, &sb), 0);

	/* stopping it removes the socket */
	mem_deref(api2);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(errno, ENOENT);

	assert_int_equal(api_alloc(&api2, "", &ctx), EINVAL);
	ctx.st = NULL;
	assert_int_equal(api_alloc(&api2, path, &ctx), EINVAL);
}


static void test_extensions(void **state)
{
	struct fixture *f = *state;
	struct xreq s[] = {
		/* 0 */
		REQ("POST", "/api/v1/extensions",
		    "{\"number\":\"100\",\"name\":\"Alice\","
		    "\"password\":\"" PW_A "\"}"),
		/* 1 */
		REQ("POST", "/api/v1/extensions",
		    "{\"number\":\"100\",\"name\":\"A2\","
		    "\"password\":\"" PW_A "\"}"),
		/* 2 */
		REQ("POST", "/api/v1/extensions",
		    "{\"number\":\"101\",\"password\":\"Sh0rt!\"}"),
		/* 3 */
		REQ("POST", "/api/v1/extensions",
		    "{\"number\":\"101\",\"password\":\"Zzzz-Top-2024\"}"),
		/* 4 */
		REQ("POST", "/api/v1/extensions",
		    "{\"number\":\"0101\",\"password\":\"" PW_A "\"}"),
		/* 5 */ REQ("POST", "/api/v1/extensions", "{\"number\":"),
		/* 6 */ REQ("POST", "/api/v1/extensions", "[1, 2]"),
		/* 7 */
		REQ("POST", "/api/v1/extensions",
		    "{\"number\":101,\"password\":\"" PW_A "\"}"),
		/* 8 */
		REQ("POST", "/api/v1/extensions", "{\"number\":\"101\"}"),
		/* 9 */
		REQ("POST", "/api/v1/extensions",
		    "{\"number\":\"101\",\"password\":\"" PW_A "\","
		    "\"pin\":\"1234\"}"),
		/* 10 */ GET("/api/v1/extensions"),
		/* 11 */ GET("/api/v1/extensions/100"),
		/* 12 */ GET("/api/v1/extensions/999"),
		/* 13 */ GET("/api/v1/extensions/1x0"),
		/* 14 */
		REQ("PUT", "/api/v1/extensions/100/password",
		    "{\"password\":\"" PW_B "\"}"),
		/* 15 */
		REQ("PUT", "/api/v1/extensions/999/password",
		    "{\"password\":\"" PW_B "\"}"),
		/* 16 */
		REQ("PUT", "/api/v1/extensions/100/password",
		    "{\"password\":\"Ext100-Pass!\"}"),
		/* 17 */ REQ("PATCH", "/api/v1/extensions", NULL),
		/* 18 */ GET("/api/v1/nothing"),
		/* 19 */ GET("/api/v1/extensions/100/password"),
		/* 20 */ GET("/api/v1/extensions/100/other"),
		/* 21: jansson's error text would quote it */
		REQ("POST", "/api/v1/extensions",
		    "{\"number\":\"101\",\"password\":Unquoted-Pw-1}"),
	};
	char ha1[DIGEST_HEX_MAX], *log;
	struct capture cap;
	struct store_ext ext;
	json_t *j, *e;

	/* everything logged, down to debug, to look for secrets in it */
	log_set_level(LOG_LVL_DEBUG);
	capture_start(&cap, f);
	run_script(f, s, ARRAY_SIZE(s));
	log = capture_stop(&cap);
	log_set_level(LOG_LVL_WARN);

	expect_status(&s[0], 201);
	j = resp_json(&s[0]);
	assert_string_equal(jstr(j, "number"), "100");
	assert_string_equal(jstr(j, "name"), "Alice");
	assert_true(json_is_false(json_object_get(j, "registered")));
	assert_int_equal(jint(j, "contacts"), 0);
	assert_true(jint(j, "created") > 1600000000);
	json_decref(j);

	expect_error(&s[1], 409, "extension 100 already exists");
	expect_error(&s[2], 422, "10 to 64 characters");
	expect_error(&s[3], 422, "repeated or consecutive");
	expect_error(&s[4], 422, "must not start with 0");
	expect_error(&s[5], 400, "not JSON");
	expect_error(&s[6], 400, "JSON object");
	expect_error(&s[7], 400, "\"number\" must be a string");
	expect_error(&s[8], 400, "\"password\" is required");
	expect_error(&s[9], 400, "unknown key");

	expect_status(&s[10], 200);
	j = resp_json(&s[10]);
	assert_true(json_is_array(j));
	assert_int_equal(json_array_size(j), 1);
	e = json_array_get(j, 0);
	assert_string_equal(jstr(e, "number"), "100");
	assert_string_equal(jstr(e, "name"), "Alice");
	assert_int_equal(jint(e, "contacts"), 0);
	json_decref(j);

	expect_status(&s[11], 200);
	j = resp_json(&s[11]);
	assert_string_equal(jstr(j, "number"), "100");
	assert_true(json_is_array(json_object_get(j, "bindings")));
	assert_int_equal(json_array_size(json_object_get(j, "bindings")), 0);
	json_decref(j);

	expect_error(&s[12], 404, "extension 999 does not exist");
	expect_error(&s[13], 422, "digits only");

	expect_status(&s[14], 204);
	assert_null(s[14].resp);
	expect_error(&s[15], 404, "extension 999 does not exist");
	expect_error(&s[16], 422, "extension number");
	expect_error(&s[17], 405, "PATCH");
	expect_error(&s[18], 404, "no such API endpoint");
	expect_error(&s[19], 405, "GET");
	expect_error(&s[20], 404, "no such API endpoint");
	expect_error(&s[21], 400, "line 1, column");

	/* no answer and no log line carries a secret */
	assert_int_equal(store_ext_get(f->st, "100", &ext), 0);
	assert_non_null(strstr(log, "extension 100 created"));
	assert_non_null(strstr(log, "/api/v1/extensions/100/password"));
	if (strstr(log, PW_A) || strstr(log, PW_B) ||
	    strstr(log, ext.ha1_md5) || strstr(log, ext.ha1_sha256) ||
	    strstr(log, "Ext100-Pass!") || strstr(log, "Zzzz-Top") ||
	    strstr(log, "Unquoted"))
		fail_msg("the log shows a secret:\n%s", log);
	mem_deref(log);
	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		const char *r = s[i].resp ? s[i].resp : "";

		if (strstr(r, PW_A) || strstr(r, PW_B) ||
		    strstr(r, ext.ha1_md5) || strstr(r, ext.ha1_sha256) ||
		    strstr(r, "ha1") || strstr(r, "Unquoted"))
			fail_msg("answer %zu shows a secret: %s", i, r);
	}

	/* the new password's hashes are stored, for the configured realm */
	assert_int_equal(digest_ha1(ha1, sizeof(ha1), DIGEST_MD5, "100",
				    "relais.test", PW_B),
			 0);
	assert_string_equal(ext.ha1_md5, ha1);
	assert_int_equal(digest_ha1(ha1, sizeof(ha1), DIGEST_SHA256, "100",
				    "relais.test", PW_B),
			 0);
	assert_string_equal(ext.ha1_sha256, ha1);

	/* only 100 was created */
	assert_int_equal(store_ext_get(f->st, "101", &ext), ENOENT);

	script_free(s, ARRAY_SIZE(s));
}


static void test_remove(void **state)
{
	struct fixture *f = *state;
	struct xreq s[] = {
		REQ("POST", "/api/v1/extensions",
		    "{\"number\":\"200\",\"name\":\"Bea\","
		    "\"password\":\"" PW_A "\"}"),
		REQ("DELETE", "/api/v1/extensions/200", NULL),
		REQ("DELETE", "/api/v1/extensions/200", NULL),
		GET("/api/v1/extensions/200"),
		GET("/api/v1/extensions"),
	};
	struct store_ext ext;
	json_t *j;

	run_script(f, s, ARRAY_SIZE(s));

	expect_status(&s[0], 201);
	expect_status(&s[1], 204);
	assert_null(s[1].resp);
	expect_error(&s[2], 404, "extension 200 does not exist");
	expect_error(&s[3], 404, "does not exist");
	expect_status(&s[4], 200);
	j = resp_json(&s[4]);
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);

	assert_int_equal(store_ext_get(f->st, "200", &ext), ENOENT);

	script_free(s, ARRAY_SIZE(s));
}


static void test_body_limit(void **state)
{
	struct fixture *f = *state;
	struct xreq s[] = {
		/* announced too big: refused before it is read */
		BIG("POST", "/api/v1/extensions", BODY_MAX + 1, false),
		/* announced, never sent: no waiting for it */
		{ .method = "POST",
		  .path = "/api/v1/extensions",
		  .big = 10,
		  .announce = 100000000 },
		/* chunked, no length: refused once it grows too big */
		BIG("POST", "/api/v1/extensions", 4 * BODY_MAX, true),
		/* exactly at the ceiling: read, then found to be no JSON
		   object with the required members */
		BIG("POST", "/api/v1/extensions", BODY_MAX, false),
		BIG("PUT", "/api/v1/extensions/100/password", 200000, false),
		/* and the server is still there */
		GET("/api/v1/status"),
	};

	run_script(f, s, ARRAY_SIZE(s));

	expect_error(&s[0], 413, "64 KiB");
	expect_error(&s[1], 413, "64 KiB");
	expect_error(&s[2], 413, "64 KiB");
	expect_error(&s[3], 400, "not JSON");
	expect_error(&s[4], 413, "64 KiB");
	expect_status(&s[5], 200);

	script_free(s, ARRAY_SIZE(s));
}


static void test_cdr_status(void **state)
{
	struct fixture *f = *state;
	struct xreq s[] = {
		GET("/api/v1/cdr"),
		GET("/api/v1/cdr?limit=2"),
		GET("/api/v1/cdr?limit=0"),
		GET("/api/v1/cdr?limit=10001"),
		GET("/api/v1/cdr?limit=5x"),
		GET("/api/v1/cdr?limit=4294967297"),
		GET("/api/v1/status"),
		GET("/api/v1/registrations"),
		GET("/api/v1/calls?active=1"),
		GET("/api/v1/calls?active=2"),
	};
	static const char *const callees[] = { "101", "102", "103" };
	json_t *j, *e;

	/* three records, the newest last */
	for (size_t i = 0; i < ARRAY_SIZE(callees); i++) {
		struct store_cdr c;

		memset(&c, 0, sizeof(c));
		snprintf(c.callid, sizeof(c.callid), "call-%zu@test", i);
		snprintf(c.caller, sizeof(c.caller), "100");
		snprintf(c.callee, sizeof(c.callee), "%s", callees[i]);
		c.start_ms = 1700000000000LL + (int64_t)i * 60000;
		c.answer_ms = c.start_ms + 2000;
		c.end_ms = c.answer_ms + 30000;
		c.duration_s = 30;
		snprintf(c.disposition, sizeof(c.disposition), "ANSWERED");
		snprintf(c.cause, sizeof(c.cause), "caller-bye");
		assert_int_equal(store_cdr_add(f->st, &c), 0);
	}

	run_script(f, s, ARRAY_SIZE(s));

	expect_status(&s[0], 200);
	j = resp_json(&s[0]);
	assert_int_equal(json_array_size(j), 3);
	e = json_array_get(j, 0);
	assert_string_equal(jstr(e, "callee"), "103");
	assert_string_equal(jstr(e, "callid"), "call-2@test");
	assert_string_equal(jstr(e, "disposition"), "ANSWERED");
	assert_string_equal(jstr(e, "cause"), "caller-bye");
	assert_int_equal(jint(e, "start_ms"), 1700000120000LL);
	assert_int_equal(jint(e, "duration"), 30);
	assert_string_equal(jstr(json_array_get(j, 2), "callee"), "101");
	json_decref(j);

	expect_status(&s[1], 200);
	j = resp_json(&s[1]);
	assert_int_equal(json_array_size(j), 2);
	assert_string_equal(jstr(json_array_get(j, 1), "callee"), "102");
	json_decref(j);

	expect_error(&s[2], 422, "1 to 10000");
	expect_error(&s[3], 422, "1 to 10000");
	expect_error(&s[4], 422, "1 to 10000");
	expect_error(&s[5], 422, "1 to 10000");

	expect_status(&s[6], 200);
	j = resp_json(&s[6]);
	assert_string_equal(jstr(j, "version"), RELAIS_VERSION);
	assert_true(jint(j, "uptime") >= 0);
	assert_int_equal(jint(j, "calls"), 0);
	assert_int_equal(jint(j, "registrations"), 0);
	json_decref(j);

	/* no registrar, no B2BUA in this fixture */
	expect_error(&s[7], 503, "registrar");
	expect_error(&s[8], 503, "call handling");
	expect_error(&s[9], 422, "active must be 1");

	script_free(s, ARRAY_SIZE(s));
}


/* ---- trunks, rules, hours, certificates ----------------------------- */

#define TRUNK_PW  "Trunk-Secret-42"
#define TRUNK_PW2 "Trunk-Secret-43"

/* an element of an array answer by its "name" */
static json_t *by_name(json_t *arr, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
	{
		if (!strcmp(jstr(e, "name"), name))
			return e;
	}

	fail_msg("no \"%s\" in the list", name);
	return NULL;
}


static bool jbool(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_boolean(v));
	return json_is_true(v);
}


static void test_trunks(void **state)
{
	struct fixture *f = *state;
	struct xreq s[] = {
		/* 0 */
		REQ("POST", "/api/v1/trunks",
		    "{\"name\":\"orange\",\"profile\":\"orange-btip\","
		    "\"host\":\"10.1.2.3\",\"auth_user\":\"0233456789\","
		    "\"password\":\"" TRUNK_PW "\","
		    "\"main_number\":\"0233456789\",\"max_calls\":8}"),
		/* 1 */
		REQ("POST", "/api/v1/trunks",
		    "{\"name\":\"orange\",\"host\":\"10.1.2.3\","
		    "\"auth_user\":\"u\",\"password\":\"p\"}"),
		/* 2 */
		REQ("POST", "/api/v1/trunks",
		    "{\"name\":\"bad\",\"host\":\"10.1.2.3\","
		    "\"transport\":\"sctp\",\"auth_user\":\"u\","
		    "\"password\":\"" TRUNK_PW "\"}"),
		/* 3 */
		REQ("POST", "/api/v1/trunks",
		    "{\"name\":\"nopw\",\"host\":\"10.1.2.3\","
		    "\"auth_user\":\"u\"}"),
		/* 4 */
		REQ("POST", "/api/v1/trunks",
		    "{\"name\":\"x\",\"host\":\"10.1.2.3\",\"frob\":1}"),
		/* 5 */
		REQ("POST", "/api/v1/trunks",
		    "{\"name\":\"x\",\"host\":\"10.1.2.3\","
		    "\"profile\":\"sfr\"}"),
		/* 6 */
		REQ("POST", "/api/v1/trunks",
		    "{\"name\":\"backup\",\"kind\":\"ip\","
		    "\"host\":\"10.9.9.9\",\"port\":5070,\"srv\":false}"),
		/* 7 */ GET("/api/v1/trunks"),
		/* 8 */ GET("/api/v1/trunks/orange"),
		/* 9 */
		REQ("PATCH", "/api/v1/trunks/orange",
		    "{\"max_calls\":4,\"srtp\":\"allowed\"}"),
		/* 10 */
		REQ("PATCH", "/api/v1/trunks/orange", "{\"max_calls\":\"4\"}"),
		/* 11 */
		REQ("PATCH", "/api/v1/trunks/orange", "{\"name\":\"other\"}"),
		/* 12 */
		REQ("PATCH", "/api/v1/trunks/orange", "{\"port\":70000}"),
		/* 13 */ GET("/api/v1/trunks/nope"),
		/* 14 */ REQ("PATCH", "/api/v1/trunks/nope", "{}"),
		/* 15 */ GET("/api/v1/trunks/orange"),
		/* 16 */ REQ("DELETE", "/api/v1/trunks/backup", NULL),
		/* 17 */ REQ("DELETE", "/api/v1/trunks/backup", NULL),
		/* 18 */ GET("/api/v1/trunks"),
		/* 19 */
		REQ("PATCH", "/api/v1/trunks/orange",
		    "{\"password\":\"" TRUNK_PW2 "\",\"srv\":true,"
		    "\"host\":\"sip.example.com\"}"),
	};
	struct store_trunk t;
	struct capture cap;
	json_t *j, *e;
	char *log;

	log_set_level(LOG_LVL_DEBUG);
	capture_start(&cap, f);
	run_script(f, s, ARRAY_SIZE(s));
	log = capture_stop(&cap);
	log_set_level(LOG_LVL_WARN);

	/* the profile first, then what was given */
	expect_status(&s[0], 201);
	j = resp_json(&s[0]);
	assert_string_equal(jstr(j, "name"), "orange");
	assert_string_equal(jstr(j, "profile"), "orange-btip");
	assert_string_equal(jstr(j, "kind"), "register");
	assert_string_equal(jstr(j, "transport"), "udp");
	assert_string_equal(jstr(j, "codecs"),
			    "G722,PCMA,G729,telephone-event");
	assert_string_equal(jstr(j, "srtp"), "disabled");
	assert_true(jbool(j, "pai"));
	assert_int_equal(jint(j, "reg_interval"), 180);
	assert_int_equal(jint(j, "max_calls"), 8);
	assert_string_equal(jstr(j, "host"), "10.1.2.3");
	assert_string_equal(jstr(j, "auth_user"), "0233456789");
	assert_string_equal(jstr(j, "main_number"), "0233456789");
	assert_true(jbool(j, "password_set"));
	assert_null(json_object_get(j, "password"));
	/* no running trunks in this fixture */
	assert_string_equal(jstr(j, "state"), "unknown");
	assert_false(jbool(j, "registered"));
	json_decref(j);

	expect_error(&s[1], 409, "trunk orange already exists");
	expect_error(&s[2], 422, "transport: 'sctp' is not one of");
	expect_error(&s[3], 422, "password: required");
	expect_error(&s[4], 400, "unknown key");
	expect_error(&s[5], 422, "profile: 'sfr'");

	expect_status(&s[6], 201);
	j = resp_json(&s[6]);
	assert_string_equal(jstr(j, "kind"), "ip");
	assert_int_equal(jint(j, "port"), 5070);
	assert_false(jbool(j, "password_set"));
	json_decref(j);

	expect_status(&s[7], 200);
	j = resp_json(&s[7]);
	assert_int_equal(json_array_size(j), 2);
	e = by_name(j, "orange");
	assert_true(jbool(e, "password_set"));
	assert_string_equal(jstr(e, "state"), "unknown");
	assert_int_equal(jint(e, "calls"), 0);
	assert_string_equal(jstr(by_name(j, "backup"), "host"), "10.9.9.9");
	json_decref(j);

	expect_status(&s[8], 200);

	/* a partial update: only what was given changes */
	expect_status(&s[9], 200);
	j = resp_json(&s[9]);
	assert_int_equal(jint(j, "max_calls"), 4);
	assert_string_equal(jstr(j, "srtp"), "allowed");
	assert_string_equal(jstr(j, "codecs"),
			    "G722,PCMA,G729,telephone-event");
	assert_true(jbool(j, "password_set"));
	json_decref(j);

	expect_error(&s[10], 422, "max_calls: must be an integer");
	expect_error(&s[11], 400, "unknown key");
	expect_error(&s[12], 422, "port: must be an integer from 0 to 65535");
	expect_error(&s[13], 404, "trunk nope does not exist");
	expect_error(&s[14], 404, "trunk nope does not exist");

	expect_status(&s[15], 200);
	j = resp_json(&s[15]);
	assert_int_equal(jint(j, "max_calls"), 4);
	json_decref(j);

	expect_status(&s[16], 204);
	expect_error(&s[17], 404, "trunk backup does not exist");
	expect_status(&s[18], 200);
	j = resp_json(&s[18]);
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);

	expect_status(&s[19], 200);
	j = resp_json(&s[19]);
	assert_true(jbool(j, "srv"));
	assert_int_equal(jint(j, "max_calls"), 4);
	json_decref(j);

	/* the store has the password; no answer, no log line shows it */
	assert_int_equal(store_trunk_get(f->st, "orange", &t), 0);
	assert_string_equal(t.password, TRUNK_PW2);
	assert_int_equal(t.max_calls, 4);
	assert_int_equal(store_trunk_get(f->st, "bad", &t), ENOENT);
	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		const char *r = s[i].resp ? s[i].resp : "";

		if (strstr(r, TRUNK_PW) || strstr(r, TRUNK_PW2) ||
		    strstr(r, "\"password\""))
			fail_msg("answer %zu shows the password: %s", i, r);
	}
	if (strstr(log, TRUNK_PW) || strstr(log, TRUNK_PW2))
		fail_msg("the log shows the password:\n%s", log);
	mem_deref(log);

	script_free(s, ARRAY_SIZE(s));
}


static void trunk_store(struct fixture *f, const char *name)
{
	struct store_trunk t;

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	assert_int_equal(trunk_profile_apply(&t, "", NULL, 0), 0);
	snprintf(t.host, sizeof(t.host), "192.0.2.1");
	snprintf(t.kind, sizeof(t.kind), "ip");
	assert_int_equal(store_trunk_add(f->st, &t), 0);
}


static void test_rules(void **state)
{
	struct fixture *f = *state;
	struct xreq s[] = {
		/* 0 */
		REQ("POST", "/api/v1/outbound-rules",
		    "{\"name\":\"France\",\"prefix\":\"0\",\"routes\":["
		    "{\"trunk\":\"orange\",\"strip\":1,\"prepend\":\"+33\"},"
		    "{\"trunk\":\"backup\",\"strip\":1,\"prepend\":\"+33\"}]"
		    "}"),
		/* 1: goes first, France moves down */
		REQ("POST", "/api/v1/outbound-rules",
		    "{\"name\":\"Premium\",\"prefix\":\"089\",\"position\":1,"
		    "\"routes\":[{\"blocked\":true}]}"),
		/* 2 */
		REQ("POST", "/api/v1/outbound-rules",
		    "{\"name\":\"Ghost\",\"routes\":[{\"trunk\":\"ghost\"}]}"),
		/* 3 */
		REQ("POST", "/api/v1/outbound-rules",
		    "{\"name\":\"None\",\"routes\":[]}"),
		/* 4 */
		REQ("POST", "/api/v1/outbound-rules",
		    "{\"name\":\"Letters\",\"prefix\":\"0a\","
		    "\"routes\":[{\"trunk\":\"orange\"}]}"),
		/* 5 */
		REQ("POST", "/api/v1/outbound-rules",
		    "{\"name\":\"Odd\",\"routes\":[{\"trunk\":\"orange\","
		    "\"via\":\"x\"}]}"),
		/* 6 */ GET("/api/v1/outbound-rules"),
		/* 7 */
		REQ("POST", "/api/v1/inbound-rules",
		    "{\"name\":\"Main\",\"did\":\"2304024\",\"trunk\":"
		    "\"orange\","
		    "\"dest_open\":\"extension:100\","
		    "\"dest_closed\":\"external:0612345678\"}"),
		/* 8 */
		REQ("POST", "/api/v1/inbound-rules",
		    "{\"name\":\"Vm\",\"did\":\"2304025\","
		    "\"dest_open\":\"voicemail:100\"}"),
		/* 9 */
		REQ("POST", "/api/v1/inbound-rules",
		    "{\"name\":\"Nobody\",\"did\":\"2304026\","
		    "\"dest_open\":\"extension:555\"}"),
		/* 10 */
		REQ("POST", "/api/v1/inbound-rules",
		    "{\"name\":\"Other\",\"did\":\"*\",\"trunk\":\"ghost\","
		    "\"dest_open\":\"hangup\"}"),
		/* 11 */ GET("/api/v1/inbound-rules"),
		/* 12: rules use it */
		REQ("DELETE", "/api/v1/trunks/orange", NULL),
		/* 13 */ REQ("DELETE", "/api/v1/outbound-rules/999", NULL),
		/* 14 */ REQ("DELETE", "/api/v1/outbound-rules/x1", NULL),
		/* 15 */ GET("/api/v1/outbound-rules/999"),
	};
	struct store_ext ext;
	char p_or[64], p_ir[64], p_or_get[64];
	int64_t france = 0, premium = 0, main_id = 0;
	json_t *j, *e;

	trunk_store(f, "orange");
	trunk_store(f, "backup");
	memset(&ext, 0, sizeof(ext));
	snprintf(ext.number, sizeof(ext.number), "100");
	assert_int_equal(store_ext_add(f->st, &ext), 0);

	run_script(f, s, ARRAY_SIZE(s));

	expect_status(&s[0], 201);
	j = resp_json(&s[0]);
	france = jint(j, "id");
	assert_int_equal(jint(j, "position"), 1);
	assert_int_equal(json_array_size(json_object_get(j, "routes")), 2);
	json_decref(j);

	expect_status(&s[1], 201);
	j = resp_json(&s[1]);
	premium = jint(j, "id");
	assert_int_equal(jint(j, "position"), 1);
	e = json_array_get(json_object_get(j, "routes"), 0);
	assert_true(jbool(e, "blocked"));
	json_decref(j);

	expect_error(&s[2], 422, "route 1: trunk ghost does not exist");
	expect_error(&s[3], 422, "routes");
	expect_error(&s[4], 422, "prefix: '0a'");
	expect_error(&s[5], 400, "routes[0] has an unknown key");

	/* in the order they are tried */
	expect_status(&s[6], 200);
	j = resp_json(&s[6]);
	assert_int_equal(json_array_size(j), 2);
	e = json_array_get(j, 0);
	assert_string_equal(jstr(e, "name"), "Premium");
	assert_int_equal(jint(e, "position"), 1);
	e = json_array_get(j, 1);
	assert_string_equal(jstr(e, "name"), "France");
	assert_int_equal(jint(e, "position"), 2);
	assert_string_equal(jstr(e, "prefix"), "0");
	e = json_array_get(json_object_get(e, "routes"), 1);
	assert_string_equal(jstr(e, "trunk"), "backup");
	assert_int_equal(jint(e, "strip"), 1);
	assert_string_equal(jstr(e, "prepend"), "+33");
	assert_false(jbool(e, "blocked"));
	json_decref(j);

	/* holidays go where out of hours goes unless told otherwise */
	expect_status(&s[7], 201);
	j = resp_json(&s[7]);
	main_id = jint(j, "id");
	assert_string_equal(jstr(j, "dest_open"), "extension:100");
	assert_string_equal(jstr(j, "dest_closed"), "external:0612345678");
	assert_string_equal(jstr(j, "dest_holiday"), "external:0612345678");
	json_decref(j);

	expect_error(&s[8], 422, "dest_open: 'voicemail:100'");
	expect_error(&s[9], 422, "dest_open: extension 555 does not exist");
	expect_error(&s[10], 422, "trunk ghost does not exist");

	expect_status(&s[11], 200);
	j = resp_json(&s[11]);
	assert_int_equal(json_array_size(j), 1);
	assert_string_equal(jstr(json_array_get(j, 0), "trunk"), "orange");
	json_decref(j);

	/* the refusal names the rules that use the trunk */
	expect_error(&s[12], 409, "outbound rule");
	expect_error(&s[12], 409, "(France)");
	expect_error(&s[12], 409, "inbound rule");
	expect_error(&s[12], 409, "(Main)");
	expect_error(&s[13], 404, "outbound rule 999 does not exist");
	expect_error(&s[14], 404, "does not exist");
	expect_error(&s[15], 404, "does not exist");
	script_free(s, ARRAY_SIZE(s));

	/* once the rules are gone, the trunk goes */
	snprintf(p_or, sizeof(p_or), "/api/v1/outbound-rules/%lld",
		 (long long)france);
	snprintf(p_or_get, sizeof(p_or_get), "/api/v1/outbound-rules/%lld",
		 (long long)premium);
	snprintf(p_ir, sizeof(p_ir), "/api/v1/inbound-rules/%lld",
		 (long long)main_id);
	{
		struct xreq s2[] = {
			/* 0 */ GET(p_ir),
			/* 1 */ REQ("DELETE", p_or, NULL),
			/* 2 */ REQ("DELETE", p_ir, NULL),
			/* 3 */ REQ("DELETE", p_ir, NULL),
			/* 4 */ REQ("DELETE", "/api/v1/trunks/orange", NULL),
			/* 5 */ GET(p_or_get),
			/* 6 */ GET("/api/v1/outbound-rules"),
		};

		run_script(f, s2, ARRAY_SIZE(s2));

		expect_status(&s2[0], 200);
		j = resp_json(&s2[0]);
		assert_string_equal(jstr(j, "name"), "Main");
		json_decref(j);
		expect_status(&s2[1], 204);
		expect_status(&s2[2], 204);
		expect_error(&s2[3], 404, "does not exist");
		expect_status(&s2[4], 204);
		expect_status(&s2[5], 200);
		j = resp_json(&s2[5]);
		assert_string_equal(jstr(j, "name"), "Premium");
		assert_int_equal(jint(j, "position"), 1);
		json_decref(j);
		expect_status(&s2[6], 200);
		j = resp_json(&s2[6]);
		assert_int_equal(json_array_size(j), 1);
		json_decref(j);

		script_free(s2, ARRAY_SIZE(s2));
	}
}


static void test_hours(void **state)
{
	struct fixture *f = *state;
	const time_t now = time(NULL);
	char today[16], body[160], p_del[64];
	struct tm tm;
	int64_t id;
	json_t *j, *days;

	assert_non_null(localtime_r(&now, &tm));
	assert_true(strftime(today, sizeof(today), "%Y-%m-%d", &tm) > 0);
	snprintf(body, sizeof(body),
		 "{\"name\":\"Today\",\"first\":\"%s\",\"last\":\"%s\"}",
		 today, today);
	{
		struct xreq s[] = {
			/* 0 */
			REQ("PUT", "/api/v1/hours/mon",
			    "{\"ranges\":\"08:30-12:00,13:30-18:00\"}"),
			/* 1 */
			REQ("PUT", "/api/v1/hours/sun",
			    "{\"ranges\":\"closed\"}"),
			/* 2 */
			REQ("PUT", "/api/v1/hours/tue",
			    "{\"ranges\":\"18:00-08:00\"}"),
			/* 3 */
			REQ("PUT", "/api/v1/hours/monday",
			    "{\"ranges\":\"closed\"}"),
			/* 4 */
			REQ("PUT", "/api/v1/hours/wed", "{\"open\":\"x\"}"),
			/* 5 */
			REQ("POST", "/api/v1/holidays",
			    "{\"name\":\"Christmas\",\"first\":\"2025-12-25\","
			    "\"yearly\":true}"),
			/* 6 */
			REQ("POST", "/api/v1/holidays",
			    "{\"name\":\"Bad\",\"first\":\"2025-02-30\"}"),
			/* 7 */ REQ("POST", "/api/v1/holidays", body),
			/* 8 */ GET("/api/v1/holidays"),
			/* 9 */ GET("/api/v1/hours"),
		};

		run_script(f, s, ARRAY_SIZE(s));

		expect_status(&s[0], 200);
		j = resp_json(&s[0]);
		assert_string_equal(jstr(j, "day"), "mon");
		assert_string_equal(jstr(j, "ranges"),
				    "08:30-12:00,13:30-18:00");
		json_decref(j);
		expect_status(&s[1], 200);
		j = resp_json(&s[1]);
		assert_string_equal(jstr(j, "ranges"), "");
		json_decref(j);
		expect_error(&s[2], 422, "ends before it starts");
		expect_error(&s[3], 404, "no day monday");
		expect_error(&s[4], 400, "unknown key");

		expect_status(&s[5], 201);
		j = resp_json(&s[5]);
		assert_string_equal(jstr(j, "first"), "2025-12-25");
		assert_string_equal(jstr(j, "last"), "2025-12-25");
		assert_true(jbool(j, "yearly"));
		json_decref(j);
		expect_error(&s[6], 422, "first: '2025-02-30'");

		expect_status(&s[7], 201);
		j = resp_json(&s[7]);
		id = jint(j, "id");
		json_decref(j);

		expect_status(&s[8], 200);
		j = resp_json(&s[8]);
		assert_int_equal(json_array_size(j), 2);
		json_decref(j);

		/* today is a holiday, whatever the weekly hours say */
		expect_status(&s[9], 200);
		j = resp_json(&s[9]);
		days = json_object_get(j, "days");
		assert_int_equal(json_array_size(days), 7);
		assert_string_equal(jstr(json_array_get(days, 0), "day"),
				    "mon");
		assert_string_equal(jstr(json_array_get(days, 0), "ranges"),
				    "08:30-12:00,13:30-18:00");
		assert_string_equal(jstr(json_array_get(days, 6), "day"),
				    "sun");
		assert_string_equal(jstr(json_array_get(days, 6), "ranges"),
				    "");
		assert_int_equal(jint(j, "holidays"), 2);
		assert_string_equal(jstr(j, "now"), "holiday");
		json_decref(j);

		script_free(s, ARRAY_SIZE(s));
	}

	snprintf(p_del, sizeof(p_del), "/api/v1/holidays/%lld", (long long)id);
	{
		struct xreq s[] = {
			REQ("DELETE", p_del, NULL),
			REQ("DELETE", p_del, NULL),
			GET("/api/v1/hours"),
		};

		run_script(f, s, ARRAY_SIZE(s));

		expect_status(&s[0], 204);
		expect_error(&s[1], 404, "does not exist");
		expect_status(&s[2], 200);
		j = resp_json(&s[2]);
		assert_int_equal(jint(j, "holidays"), 1);
		assert_string_not_equal(jstr(j, "now"), "holiday");
		json_decref(j);

		script_free(s, ARRAY_SIZE(s));
	}
}


static void test_cert(void **state)
{
	struct fixture *f = *state;
	struct xreq s[] = {
		/* 0 */ GET("/api/v1/cert"),
		/* 1 */
		REQ("POST", "/api/v1/cert/csr",
		    "{\"cn\":\"pbx.example.com\",\"bits\":1024}"),
		/* 2 */
		REQ("POST", "/api/v1/cert/csr",
		    "{\"cn\":\"pbx.example.com\",\"country\":\"France\"}"),
		/* 3 */
		REQ("POST", "/api/v1/cert/csr",
		    "{\"cn\":\"pbx.example.com\",\"country\":\"FR\","
		    "\"san\":\"sip.example.com\"}"),
		/* 4 */
		REQ("POST", "/api/v1/cert/install",
		    "{\"data\":\"not base64!\"}"),
		/* 5 */
		REQ("POST", "/api/v1/cert/install", "{\"data\":\"aGVsbG8=\"}"),
	};
	char key[300];
	struct stat sb;
	json_t *j;

	run_script(f, s, ARRAY_SIZE(s));

	expect_error(&s[0], 404, "no certificate at");
	expect_error(&s[1], 422, "bits");
	expect_error(&s[2], 422, "country two capital letters");

	/* the key stays here, readable by relaisd only */
	expect_status(&s[3], 201);
	j = resp_json(&s[3]);
	assert_non_null(
	    strstr(jstr(j, "csr"), "-----BEGIN CERTIFICATE REQUEST-----"));
	snprintf(key, sizeof(key), "%s.key.new", f->cfg.tls_cert);
	assert_string_equal(jstr(j, "key"), key);
	assert_null(strstr(s[3].resp, "PRIVATE KEY"));
	json_decref(j);
	assert_int_equal(stat(key, &sb), 0);
	assert_int_equal(sb.st_mode & 0077, 0);

	expect_error(&s[4], 400, "base64");
	expect_status(&s[5], 422);

	script_free(s, ARRAY_SIZE(s));
}


/* ---- SBC (off: ctx.sbc NULL, the store only) ------------------------- */

static json_t *by_addr(json_t *arr, const char *key, const char *val)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
	{
		if (!strcmp(jstr(e, key), val))
			return e;
	}

	fail_msg("no %s \"%s\" in the list", key, val);
	return NULL;
}


static void test_sbc_security(void **state)
{
	struct fixture *f = *state;
	struct xreq s[] = {
		/* 0 */ GET("/api/v1/sbc/security"),
		/* 1 */
		REQ("PUT", "/api/v1/sbc/security",
		    "{\"level\":\"allowlist\",\"dos_threshold\":500,"
		    "\"dos_period\":\"5min\"}"),
		/* 2 */
		REQ("PATCH", "/api/v1/sbc/security", "{\"dos_threshold\":5}"),
		/* 3 */
		REQ("PATCH", "/api/v1/sbc/security", "{\"dos_window\":11}"),
		/* 4 */
		REQ("PATCH", "/api/v1/sbc/security",
		    "{\"dos_period\":\"2h\"}"),
		/* 5 */
		REQ("PATCH", "/api/v1/sbc/security",
		    "{\"level\":\"paranoid\"}"),
		/* 6 */
		REQ("PATCH", "/api/v1/sbc/security",
		    "{\"ddos_threshold\":\"many\"}"),
		/* 7 */
		REQ("PATCH", "/api/v1/sbc/security", "{\"colour\":1}"),
		/* 8 */
		REQ("PATCH", "/api/v1/sbc/security",
		    "{\"bf_period\":86400,\"deny_max\":5000}"),
		/* 9 */ GET("/api/v1/sbc/security"),
		/* 10 */ GET("/api/v1/sbc"),
		/* 11 */ REQ("POST", "/api/v1/sbc/security", "{}"),
	};
	struct store_sbcsec sec;
	json_t *j;

	run_script(f, s, ARRAY_SIZE(s));

	/* never set: the guard's defaults */
	expect_status(&s[0], 200);
	j = resp_json(&s[0]);
	assert_string_equal(jstr(j, "level"), "auto");
	assert_int_equal(jint(j, "dos_threshold"),
			 guard_conf_default.dos_threshold);
	assert_int_equal(jint(j, "dos_window"), guard_conf_default.dos_window);
	assert_string_equal(jstr(j, "dos_period"), "1h");
	assert_int_equal(jint(j, "deny_max"), guard_conf_default.deny_max);
	assert_false(jbool(j, "running"));
	json_decref(j);

	/* a subset: the rest stays */
	expect_status(&s[1], 200);
	j = resp_json(&s[1]);
	assert_string_equal(jstr(j, "level"), "allowlist");
	assert_int_equal(jint(j, "dos_threshold"), 500);
	assert_string_equal(jstr(j, "dos_period"), "5min");
	assert_int_equal(jint(j, "dos_window"), guard_conf_default.dos_window);
	json_decref(j);

	expect_error(&s[2], 422, "dos_threshold");
	expect_error(&s[3], 422, "dos_window");
	expect_error(&s[4], 422, "dos_period: '2h' is not one of 30s");
	expect_error(&s[5], 422, "level: 'paranoid'");
	expect_error(&s[6], 422, "ddos_threshold");
	expect_error(&s[7], 400, "unknown key");

	expect_status(&s[8], 200);
	j = resp_json(&s[8]);
	assert_string_equal(jstr(j, "bf_period"), "1d");
	assert_int_equal(jint(j, "deny_max"), 5000);
	json_decref(j);

	/* the refused changes changed nothing */
	expect_status(&s[9], 200);
	j = resp_json(&s[9]);
	assert_string_equal(jstr(j, "level"), "allowlist");
	assert_int_equal(jint(j, "dos_threshold"), 500);
	assert_int_equal(jint(j, "dos_window"), guard_conf_default.dos_window);
	assert_string_equal(jstr(j, "dos_period"), "5min");
	json_decref(j);

	expect_status(&s[10], 200);
	j = resp_json(&s[10]);
	assert_string_equal(jstr(j, "mode"), "off");
	assert_false(jbool(j, "running"));
	assert_string_equal(jstr(j, "level"), "allowlist");
	assert_int_equal(jint(j, "deny_count"), 0);
	assert_int_equal(jint(j, "allow_count"), 0);
	json_decref(j);

	expect_error(&s[11], 405, "not allowed");

	/* saved in the store, as the SBC reads it when it starts */
	assert_int_equal(store_sbcsec_get(f->st, &sec), 0);
	assert_string_equal(sec.level, "allowlist");
	assert_int_equal(sec.dos_threshold, 500);
	assert_int_equal(sec.dos_period, 300);
	assert_int_equal(sec.bf_period, 86400);
	assert_int_equal(sec.deny_max, 5000);

	script_free(s, ARRAY_SIZE(s));
}


static int allow_count(const char *text, void *arg)
{
	uint32_t *n = arg;
	(void)text;

	++*n;
	return 0;
}


static void test_sbc_allow(void **state)
{
	struct fixture *f = *state;
	char cidr[32];
	uint32_t n = 0;
	json_t *j;

	{
		struct xreq s[] = {
			/* 0 */ GET("/api/v1/sbc/allow"),
			/* 1 */
			REQ("POST", "/api/v1/sbc/allow",
			    "{\"cidr\":\"192.0.2.10\"}"),
			/* 2 */
			REQ("POST", "/api/v1/sbc/allow",
			    "{\"cidr\":\"198.51.100.0/24\"}"),
			/* 3 */
			REQ("POST", "/api/v1/sbc/allow",
			    "{\"cidr\":\"198.51.100.0/24\"}"),
			/* 4 */
			REQ("POST", "/api/v1/sbc/allow",
			    "{\"cidr\":\"0.0.0.0\"}"),
			/* 5 */
			REQ("POST", "/api/v1/sbc/allow",
			    "{\"cidr\":\"banana\"}"),
			/* 6 */ REQ("POST", "/api/v1/sbc/allow", "{}"),
			/* 7 */
			REQ("POST", "/api/v1/sbc/allow",
			    "{\"cidr\":\"2001:db8::/32\"}"),
			/* 8 */ GET("/api/v1/sbc/allow"),
			/* 9 */
			REQ("DELETE", "/api/v1/sbc/allow/198.51.100.0%2F24",
			    NULL),
			/* 10 */
			REQ("DELETE", "/api/v1/sbc/allow/198.51.100.0%2F24",
			    NULL),
			/* 11 */
			REQ("DELETE", "/api/v1/sbc/allow/2001:db8::%2F32",
			    NULL),
			/* 12 */ GET("/api/v1/sbc/allow"),
			/* 13 */ GET("/api/v1/sbc"),
		};

		run_script(f, s, ARRAY_SIZE(s));

		expect_status(&s[0], 200);
		j = resp_json(&s[0]);
		assert_int_equal(json_array_size(j), 0);
		json_decref(j);

		expect_status(&s[1], 201);
		j = resp_json(&s[1]);
		assert_string_equal(jstr(j, "cidr"), "192.0.2.10");
		json_decref(j);
		expect_status(&s[2], 201);
		expect_error(&s[3], 409,
			     "198.51.100.0/24 is on the allow-list");
		expect_error(&s[4], 422, "cidr");
		expect_error(&s[5], 422, "cidr");
		expect_error(&s[6], 400, "\"cidr\" is required");
		expect_status(&s[7], 201);

		expect_status(&s[8], 200);
		j = resp_json(&s[8]);
		assert_int_equal(json_array_size(j), 3);
		(void)by_addr(j, "cidr", "192.0.2.10");
		(void)by_addr(j, "cidr", "198.51.100.0/24");
		(void)by_addr(j, "cidr", "2001:db8::/32");
		json_decref(j);

		expect_status(&s[9], 204);
		expect_error(&s[10], 404, "not on the allow-list");
		expect_status(&s[11], 204);

		expect_status(&s[12], 200);
		j = resp_json(&s[12]);
		assert_int_equal(json_array_size(j), 1);
		assert_string_equal(jstr(json_array_get(j, 0), "cidr"),
				    "192.0.2.10");
		json_decref(j);

		expect_status(&s[13], 200);
		j = resp_json(&s[13]);
		assert_int_equal(jint(j, "allow_count"), 1);
		json_decref(j);

		script_free(s, ARRAY_SIZE(s));
	}

	/* 100 entries at most */
	for (unsigned i = 1; i < GUARD_ALLOW_MAX; i++) {
		snprintf(cidr, sizeof(cidr), "10.0.%u.0/24", i);
		assert_int_equal(store_sbcallow_add(f->st, cidr), 0);
	}
	{
		struct xreq s[] = {
			REQ("POST", "/api/v1/sbc/allow",
			    "{\"cidr\":\"203.0.113.0/24\"}"),
		};

		run_script(f, s, ARRAY_SIZE(s));
		expect_error(&s[0], 422, "at most 100");
		script_free(s, ARRAY_SIZE(s));
	}
	assert_int_equal(store_sbcallow_foreach(f->st, allow_count, &n), 0);
	assert_int_equal(n, GUARD_ALLOW_MAX);
}


static void deny_put(struct fixture *f, const char *addr, const char *reason,
		     int64_t since, int64_t until)
{
	struct store_sbcdeny d;

	memset(&d, 0, sizeof(d));
	snprintf(d.addr, sizeof(d.addr), "%s", addr);
	snprintf(d.reason, sizeof(d.reason), "%s", reason);
	snprintf(d.detail, sizeof(d.detail), "test %s", reason);
	d.since = since;
	d.until = until;
	assert_int_equal(store_sbcdeny_put(f->st, &d), 0);
}


static void test_sbc_deny(void **state)
{
	struct fixture *f = *state;
	struct xreq s[] = {
		/* 0 */ GET("/api/v1/sbc/deny"),
		/* 1 */ REQ("DELETE", "/api/v1/sbc/deny/192.0.2.1", NULL),
		/* 2 */ REQ("DELETE", "/api/v1/sbc/deny/192.0.2.1", NULL),
		/* 3 */ REQ("DELETE", "/api/v1/sbc/deny/banana", NULL),
		/* 4 */
		REQ("DELETE", "/api/v1/sbc/deny",
		    "{\"addresses\":[\"192.0.2.2\",\"192.0.2.9\"]}"),
		/* 5 */
		REQ("DELETE", "/api/v1/sbc/deny",
		    "{\"addresses\":[\"192.0.2.9\"]}"),
		/* 6 */
		REQ("DELETE", "/api/v1/sbc/deny",
		    "{\"addresses\":[\"192.0.2.3\",\"nope\"]}"),
		/* 7 */ REQ("DELETE", "/api/v1/sbc/deny", "{}"),
		/* 8 */ REQ("DELETE", "/api/v1/sbc/deny", "{\"all\":false}"),
		/* 9 */ GET("/api/v1/sbc"),
		/* 10 */ REQ("DELETE", "/api/v1/sbc/deny/2001:db8::1", NULL),
		/* 11 */ REQ("DELETE", "/api/v1/sbc/deny", "{\"all\":true}"),
		/* 12 */ GET("/api/v1/sbc/deny"),
	};
	const int64_t now = (int64_t)time(NULL);
	char iso[32];
	const time_t t0 = (time_t)(now - 10);
	struct tm tm;
	json_t *j, *e;

	deny_put(f, "192.0.2.1", "dos", now - 10, now + 3600);
	deny_put(f, "192.0.2.2", "brute-force", now - 20, 0);
	deny_put(f, "192.0.2.3", "malicious", now - 30, now + 60);
	deny_put(f, "192.0.2.4", "dos", now - 4000, now - 400); /* over */
	deny_put(f, "2001:db8::1", "dos", now - 5, now + 30);

	assert_non_null(gmtime_r(&t0, &tm));
	assert_true(strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm));

	run_script(f, s, ARRAY_SIZE(s));

	/* the entry whose period is over is not shown */
	expect_status(&s[0], 200);
	j = resp_json(&s[0]);
	assert_int_equal(json_array_size(j), 4);
	e = by_addr(j, "address", "192.0.2.1");
	assert_string_equal(jstr(e, "reason"), "dos");
	assert_string_equal(jstr(e, "detail"), "test dos");
	assert_string_equal(jstr(e, "since"), iso);
	assert_int_equal(jint(e, "since_unix"), now - 10);
	assert_int_equal(jint(e, "until_unix"), now + 3600);
	assert_int_equal(jint(e, "drops"), 0);
	e = by_addr(j, "address", "192.0.2.2");
	assert_string_equal(jstr(e, "reason"), "brute-force");
	assert_string_equal(jstr(e, "until"), "never");
	assert_int_equal(jint(e, "until_unix"), 0);
	(void)by_addr(j, "address", "2001:db8::1");
	json_decref(j);

	expect_status(&s[1], 204);
	expect_error(&s[2], 404, "192.0.2.1 is not on the deny-list");
	expect_error(&s[3], 404, "not on the deny-list");

	expect_status(&s[4], 200);
	j = resp_json(&s[4]);
	assert_int_equal(jint(j, "removed"), 1);
	e = json_object_get(j, "not_found");
	assert_int_equal(json_array_size(e), 1);
	assert_string_equal(json_string_value(json_array_get(e, 0)),
			    "192.0.2.9");
	json_decref(j);

	expect_error(&s[5], 404, "none of these");
	/* checked before anything is removed */
	expect_error(&s[6], 422, "addresses: 'nope' is not an IP address");
	expect_error(&s[7], 400, "\"all\": true");
	expect_error(&s[8], 400, "\"all\": true");

	expect_status(&s[9], 200);
	j = resp_json(&s[9]);
	assert_int_equal(jint(j, "deny_count"), 2);
	json_decref(j);

	expect_status(&s[10], 204);
	expect_status(&s[11], 200);
	j = resp_json(&s[11]);
	assert_int_equal(jint(j, "removed"), 1);
	json_decref(j);

	expect_status(&s[12], 200);
	j = resp_json(&s[12]);
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);

	script_free(s, ARRAY_SIZE(s));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extensions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cdr_status, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sbc_security, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sbc_allow, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sbc_deny, setup,
						teardown),
	};
	int ret;

	log_setup(LOG_LVL_WARN, LOG_TARGET_STDERR);

	if (libre_init())
		return 1;

	ret = cmocka_run_group_tests(tests, NULL, NULL);

	libre_close();

	return ret;
}

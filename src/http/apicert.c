/**
 * @file apicert.c  JSON API of the TLS certificate of the SIP listeners:
 *                  show it, make a key and CSR, install the CA's answer
 *
 * The private key never leaves this machine: `cert csr` writes it next
 * to tls_cert as <tls_cert>.key.new, `cert install` joins it to the
 * certificate the CA sent back, writes both to tls_cert and loads them
 * into the running SIP stack.
 */

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>
/* not <re.h>: its re_json.h clashes with jansson's JSON_* names */
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_tmr.h>
#include <re_base64.h>
#include <re_mqueue.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "pbx/pbx.h"
#include "http/http.h"
#include "http/http_int.h"

#define DEBUG_MODULE "api"

/* Making an RSA key takes from a fraction of a second (2048 bits) to
   several (4096): too long for the SIP thread. A thread of its own makes
   it while the request's connection is suspended; the result comes back
   through the API's mqueue, which resumes the connection, and answer()
   then replies. One key at a time. */
struct csrjob {
	struct api *api;
	struct MHD_Connection *conn;
	pthread_t tid;
	char key[CONF_STR_MAX + 16];
	char *cn, *san, *org, *country;
	uint32_t bits;
	int err;   /* of tlscert_csr(), set by the thread */
	char *pem; /* the CSR, set by the thread */
	bool done; /* the thread was joined */
};


/* ---- certificate of the SIP listeners ------------------------------- */

enum {
	CERT_WARN_DAYS = 30,
};


/* where `cert csr` leaves the new key until `cert install` */
static int pending_key_path(struct exch *x, char *buf, size_t sz)
{
	const char *cert = x->api->ctx.cfg->tls_cert;

	if (!cert[0])
		return api_why(x, ENODEV, "no tls_cert in the configuration");

	if (re_snprintf(buf, sz, "%s.key.new", cert) < 0)
		return ENAMETOOLONG;

	return 0;
}


static json_t *cert_json(const char *path, const struct tlscert_info *ci,
			 bool pending)
{
	json_t *o = json_object(), *warn = json_array();
	char text[96];
	int err = 0;

	if (!o || !warn) {
		json_decref(o);
		json_decref(warn);
		return NULL;
	}

	if (ci->days_left < 0)
		err |= api_append(warn,
				  json_string("the certificate has expired"));
	else if (ci->days_left < CERT_WARN_DAYS) {
		re_snprintf(text, sizeof(text),
			    "the certificate expires in %d day%s",
			    ci->days_left, ci->days_left == 1 ? "" : "s");
		err |= api_append(warn, json_string(text));
	}
	if (ci->self_signed)
		err |= api_append(warn, json_string(
					    "the certificate is self-signed: "
					    "carriers requiring mutual "
					    "authentication refuse it"));

	err |= api_set_text(o, "path", path);
	err |= api_set_text(o, "subject", ci->subject);
	err |= api_set_text(o, "issuer", ci->issuer);
	err |= api_set_int(o, "not_before", ci->not_before);
	err |= api_set_int(o, "not_after", ci->not_after);
	err |= api_set_int(o, "days_left", ci->days_left);
	err |= api_set_int(o, "key_bits", ci->key_bits);
	err |= api_set_bool(o, "self_signed", ci->self_signed);
	err |= api_set_bool(o, "pending_key", pending);
	err |= json_object_set_new(o, "warnings", warn);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


static int cert_reply(struct exch *x, unsigned status)
{
	const char *path = x->api->ctx.cfg->tls_cert;
	char key[CONF_STR_MAX + 16];
	struct tlscert_info ci;
	struct stat sb;
	int err;

	err = pending_key_path(x, key, sizeof(key));
	if (err)
		return err;

	err = tlscert_info_file(&ci, path);
	if (err == ENOENT)
		return api_why(x, err, "no certificate at %s", path);
	if (err == EBADMSG)
		return api_why(x, EINVAL, "%s holds no readable certificate",
			       path);
	if (err)
		return err;

	x->json = cert_json(path, &ci, !stat(key, &sb));
	if (!x->json)
		return ENOMEM;

	x->status = status;
	return 0;
}


static int cert_show(struct exch *x)
{
	return cert_reply(x, 200);
}


static void csrjob_destructor(void *arg)
{
	struct csrjob *job = arg;

	mem_deref(job->cn);
	mem_deref(job->san);
	mem_deref(job->org);
	mem_deref(job->country);
	mem_deref(job->pem);
}


/* the key thread: touches nothing but the job until it hands it back */
static void *csr_thread(void *arg)
{
	struct csrjob *job = arg;
	int err;

	job->err = tlscert_csr(job->key, job->bits, job->cn, job->san,
			       job->org, job->country, &job->pem);

	err = mqueue_push(job->api->mq, 0, job);
	if (err)
		log_error("CSR made, but not handed back: %m", err);

	return NULL;
}


/**
 * The key thread has finished (the API's mqueue handler, on the SIP
 * thread): join it and resume its request, which answer() completes with
 * apicert_result()
 *
 * @param id   Message id (unused)
 * @param data The job (struct csrjob), owned by its request
 * @param arg  The API
 */
void apicert_mq_handler(int id, void *data, void *arg)
{
	struct csrjob *job = data;
	struct api *api = arg;
	(void)id;

	(void)pthread_join(job->tid, NULL);
	job->done = true;
	api->job = NULL;

	MHD_resume_connection(job->conn);
	api_run(api);
}


static int opt_dup(char **dst, const char *s)
{
	return s && s[0] ? str_dup(dst, s) : 0;
}


static int cert_csr(struct exch *x)
{
	static const char *const keys[] = { "cn", "san", "org", "country",
					    "bits" };
	const char *cn, *san, *org, *country;
	struct csrjob *job = NULL;
	struct api *api = x->api;
	json_t *j;
	int err;

	if (api->job)
		return api_why(x, EBUSY,
			       "a key is being made already; try again in a "
			       "moment");

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	job = mem_zalloc(sizeof(*job), csrjob_destructor);
	if (!job) {
		err = ENOMEM;
		goto out;
	}
	job->api = api;
	job->conn = x->conn;
	job->bits = 2048;

	err = pending_key_path(x, job->key, sizeof(job->key));
	err = err ? err : api_str(x, j, "cn", true, &cn);
	err = err ? err : api_str(x, j, "san", false, &san);
	err = err ? err : api_str(x, j, "org", false, &org);
	err = err ? err : api_str(x, j, "country", false, &country);
	err = err ? err : api_u32(x, j, "bits", 2048, 4096, &job->bits);
	if (err)
		goto out;

	if (job->bits != 2048 && job->bits != 3072 && job->bits != 4096) {
		err = api_why(x, EINVAL, "bits: 2048, 3072 or 4096");
		goto out;
	}

	err = str_dup(&job->cn, cn);
	err = err ? err : opt_dup(&job->san, san);
	err = err ? err : opt_dup(&job->org, org);
	err = err ? err : opt_dup(&job->country, country);
	if (err)
		goto out;

	err = pthread_create(&job->tid, NULL, csr_thread, job);
	if (err)
		goto out;

	log_info("making an RSA %u key and a CSR for CN=%s", job->bits,
		 job->cn);

	/* the request owns the job; answer() replies once it is done */
	MHD_suspend_connection(x->conn);
	x->rq->job = job;
	api->job = job;
	x->later = true;
	job = NULL;

out:
	mem_deref(job);
	json_decref(j);
	return err;
}


/**
 * The answer to a CSR request once its key thread has finished
 *
 * @param x The request being answered (x->rq->job is set)
 *
 * @return 0 with the CSR in x->json, otherwise errorcode with x->why
 */
int apicert_result(struct exch *x)
{
	const struct csrjob *job = x->rq->job;
	json_t *o;
	int err;

	if (!job->done)
		return api_why(x, EBUSY, "the key is not ready yet");

	if (job->err == EINVAL)
		return api_why(x, EINVAL,
			       "cn must be a host name (or an IP address), "
			       "san a comma-separated list of host names and "
			       "addresses, country two capital letters such "
			       "as FR, org printable text");
	if (job->err)
		return job->err;

	o = json_object();
	if (!o)
		return ENOMEM;

	err = api_set_text(o, "csr", job->pem);
	err |= api_set_text(o, "key", job->key);
	err |= api_set_int(o, "bits", job->bits);
	if (err) {
		json_decref(o);
		return ENOMEM;
	}

	x->json = o;
	x->status = 201;
	return 0;
}


/* base64 text to bytes: only the alphabet, padded, nothing else */
static int b64_decode(struct exch *x, const char *s, uint8_t **bufp,
		      size_t *lenp)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz"
				       "0123456789+/";
	const size_t n = strlen(s);
	size_t body = strspn(s, alphabet), len;
	uint8_t *buf;
	int err;

	if (!n || n % 4 || n - body > 2 || strspn(s + body, "=") != n - body)
		return api_why(x, EBADMSG, "\"data\" must be base64");

	len = n / 4 * 3;
	buf = mem_alloc(len, NULL);
	if (!buf)
		return ENOMEM;

	err = base64_decode(s, n, buf, &len);
	if (err) {
		mem_deref(buf);
		return api_why(x, EBADMSG, "\"data\" must be base64");
	}

	*bufp = buf;
	*lenp = len;
	return 0;
}


static int cert_install(struct exch *x)
{
	static const char *const keys[] = { "data", "p12", "password" };
	const char *data, *password;
	char key[CONF_STR_MAX + 16];
	uint8_t *buf = NULL;
	bool p12 = false;
	size_t len = 0;
	json_t *j;
	int err;

	err = pending_key_path(x, key, sizeof(key));
	if (err)
		return err;

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	err = api_str(x, j, "data", true, &data);
	err = err ? err : api_bool(x, j, "p12", &p12);
	err = err ? err : api_str(x, j, "password", false, &password);
	err = err ? err : b64_decode(x, data, &buf, &len);
	if (err)
		goto out;

	err = tlscert_install(x->api->ctx.cfg->tls_cert, p12 ? NULL : key, buf,
			      len, password, x->why, sizeof(x->why));
	if (err == ENOENT && !x->why[0])
		api_why(x, err,
			"no pending key at %s: run `relaisctl cert "
			"csr` first, or install a PKCS#12 bundle",
			key);
	if (err == ENOENT || err == EBADMSG)
		err = EINVAL;
	if (err)
		goto out;

	/* the key now lives in tls_cert with its certificate */
	if (!p12)
		(void)unlink(key);

	if (x->api->ctx.ss) {
		err = sipstack_tls_reload(x->api->ctx.ss);
		if (err) {
			log_warn("new certificate not loaded: %m", err);
			err = api_why(x, ENODEV,
				      "certificate installed in %s, but the "
				      "SIP listeners could not load it (see "
				      "relaisd's log)",
				      x->api->ctx.cfg->tls_cert);
			goto out;
		}
	}

	err = cert_reply(x, 200);

out:
	if (buf) {
		memset(buf, 0, len);
		mem_deref(buf);
	}
	json_decref(j);
	return err;
}


/**
 * Wait for the key being made, if any, and resume its request, so that
 * MHD may stop (it must not with a suspended connection). Blocks for as
 * long as the key takes; only called when the API stops.
 *
 * @param api The API
 */
void apicert_wait(struct api *api)
{
	struct csrjob *job = api->job;

	if (!job)
		return;

	(void)pthread_join(job->tid, NULL);
	job->done = true;
	api->job = NULL;
	MHD_resume_connection(job->conn);
}


const struct api_route apicert_routes[] = {
	{ "GET", "/api/v1/cert", cert_show },
	{ "POST", "/api/v1/cert/csr", cert_csr },
	{ "POST", "/api/v1/cert/install", cert_install },
};

const size_t apicert_routec = ARRAY_SIZE(apicert_routes);

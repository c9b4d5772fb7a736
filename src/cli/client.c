/**
 * @file client.c  One request to relaisd's JSON API over its Unix socket
 *                 (libcurl)
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include "cli/cli.h"

enum {
	RESP_MAX = 16 * 1024 * 1024,
	TIMEOUT_S = 30,
	CONNECT_TIMEOUT_S = 5,
};

struct buf {
	char *p;
	size_t len;
};


static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	const size_t n = size * nmemb;
	char *np;

	/* returning less than n makes curl fail the transfer */
	if (n > RESP_MAX - b->len)
		return 0;

	np = realloc(b->p, b->len + n + 1);
	if (!np)
		return 0;

	memcpy(np + b->len, data, n);
	b->p = np;
	b->len += n;
	b->p[b->len] = '\0';

	return n;
}


static int unreachable(const struct ctl *ctl, CURL *c, CURLcode rc)
{
	long oserr = 0;

	(void)curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);

	/* connect()'s errno says most: ENOENT, ECONNREFUSED, EACCES */
	if (rc == CURLE_COULDNT_CONNECT && oserr)
		fprintf(stderr, "relaisctl: cannot reach relaisd at %s: %s\n",
			ctl->socket, strerror((int)oserr));
	else
		fprintf(stderr, "relaisctl: cannot reach relaisd at %s: %s\n",
			ctl->socket, curl_easy_strerror(rc));

	return CTL_UNREACHABLE;
}


/* a status of 300 or more: relaisd's {"error": "..."} goes to stderr */
static int refused(long status, json_t *reply)
{
	const json_t *e = json_object_get(reply, "error");

	if (json_is_string(e))
		fprintf(stderr, "relaisctl: %s\n", json_string_value(e));
	else
		fprintf(stderr,
			"relaisctl: relaisd refused the request "
			"(HTTP %ld)\n",
			status);

	return CTL_REFUSED;
}


/**
 * Send one request to relaisd and read its JSON answer
 *
 * @param ctl    Where relaisd listens
 * @param method HTTP method
 * @param path   Request path, with its query
 * @param body   JSON body to send, or NULL
 * @param out    Returned answer (NULL when it has no body); the caller
 *               json_decref()s it
 *
 * @return CTL_OK, CTL_REFUSED (reason printed) or CTL_UNREACHABLE
 *         (printed)
 */
int client_request(const struct ctl *ctl, const char *method, const char *path,
		   json_t *body, json_t **out)
{
	struct curl_slist *hdrs = NULL;
	struct buf b = { NULL, 0 };
	char url[512], *text = NULL;
	json_t *reply = NULL;
	json_error_t jerr;
	long status = 0;
	CURLcode rc;
	CURL *c;
	int ret = CTL_OK;

	*out = NULL;

	c = curl_easy_init();
	if (!c) {
		fprintf(stderr, "relaisctl: cannot start libcurl\n");
		return CTL_UNREACHABLE;
	}

	/* the host name is not looked up: the socket is the address */
	snprintf(url, sizeof(url), "http://relaisd%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ctl->socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");

	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text) {
			fprintf(stderr, "relaisctl: out of memory\n");
			ret = CTL_REFUSED;
			goto out;
		}
		hdrs =
		    curl_slist_append(hdrs, "Content-Type: application/json");
		hdrs = curl_slist_append(hdrs, "Expect:");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	}

	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		ret = unreachable(ctl, c, rc);
		goto out;
	}

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

	if (b.len) {
		reply = json_loadb(b.p, b.len, 0, &jerr);
		if (!reply) {
			fprintf(stderr,
				"relaisctl: relaisd sent an unreadable "
				"answer (HTTP %ld)\n",
				status);
			ret = CTL_REFUSED;
			goto out;
		}
	}

	if (status >= 300) {
		ret = refused(status, reply);
		json_decref(reply);
		goto out;
	}

	*out = reply;

out:
	curl_slist_free_all(hdrs);
	if (text) {
		/* it may hold a password */
		memset(text, 0, strlen(text));
		free(text);
	}
	free(b.p);
	curl_easy_cleanup(c);

	return ret;
}

/**
 * @file http_int.h  Internals of the JSON API shared by its files only:
 *                   api.c (server, extensions, calls, records),
 *                   apicfg.c (trunks, routing rules, office hours),
 *                   apicert.c (the TLS certificate) and apisbc.c (the
 *                   SBC's status and security)
 *
 * Everything here runs on the SIP thread, except the key thread of
 * apicert.c, which touches only its own job.
 */

#ifndef RELAIS_HTTP_INT_H
#define RELAIS_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "http/http.h"

struct MHD_Daemon;
struct MHD_Connection;
struct mbuf;
struct mqueue;
struct csrjob;

enum {
	API_ITEM_MAX = 64,
	API_WHY_MAX = 256,
};

struct api {
	struct api_ctx ctx;
	struct MHD_Daemon *mhd;
	int lfd; /* ours until MHD_start_daemon() takes it */
	int epfd;
	char *path;
	struct tmr tmr;
	uint64_t started;
	struct mqueue *mq;  /* from the key thread of apicert.c */
	struct csrjob *job; /* the key being made, if any */
};

/* one request's state across the access handler's calls */
struct req {
	struct mbuf *body;
	bool toobig;
	bool answered;	    /* before the body came */
	struct csrjob *job; /* a key made for this request (mem, owned) */
};

/* one request being answered: what a handler reads and fills in */
struct exch {
	struct api *api;
	struct MHD_Connection *conn;
	struct req *rq;
	char item[API_ITEM_MAX]; /* the {n} of the path */
	unsigned status;	 /* on success */
	json_t *json;		 /* body on success, may be NULL */
	char location[API_ITEM_MAX + 32];
	char why[API_WHY_MAX]; /* reason on failure */
	bool later;	       /* suspended: the answer comes later */
};

/* a handler: 0 with status (and json) set, or an errno with why set */
typedef int(api_route_h)(struct exch *x);

struct api_route {
	const char *method;
	const char *path; /* "{n}" stands for one path segment, a final
			     "{*}" for the rest of the path */
	api_route_h *h;
};

/* api.c: answers and request bodies */
int api_why(struct exch *x, int err, const char *fmt, ...);
int api_set_text(json_t *o, const char *key, const char *val);
int api_set_int(json_t *o, const char *key, int64_t val);
int api_set_bool(json_t *o, const char *key, bool val);
int api_append(json_t *arr, json_t *o);
int api_body(struct exch *x, const char *const *allowed, size_t n,
	     json_t **jp);
int api_str(struct exch *x, json_t *j, const char *key, bool required,
	    const char **val);
int api_text(struct exch *x, json_t *j, const char *key, char *dst, size_t sz);
int api_u32(struct exch *x, json_t *j, const char *key, uint32_t min,
	    uint32_t max, uint32_t *val);
int api_bool(struct exch *x, json_t *j, const char *key, bool *val);
int api_id(struct exch *x, const char *what, int64_t *id);
void api_run(struct api *api);

/* apicfg.c: trunks, outbound and inbound rules, hours, holidays */
extern const struct api_route apicfg_routes[];
extern const size_t apicfg_routec;

/* apicert.c: the certificate of the SIP listeners */
extern const struct api_route apicert_routes[];
extern const size_t apicert_routec;
void apicert_mq_handler(int id, void *data, void *arg);
void apicert_wait(struct api *api);
int apicert_result(struct exch *x);

/* apisbc.c: SBC status, security settings, allow-list, deny-list */
extern const struct api_route apisbc_routes[];
extern const size_t apisbc_routec;

#endif

/**
 * @file store.h  Persistent store: extensions, registered contacts, call
 *                records
 *
 * Callers see only this interface; a backend (store_sqlite.c today,
 * store_pg.c later) is a const table of functions (store_int.h), as curl's
 * struct Curl_ssl. All calls are synchronous and made from the SIP thread.
 * Strings passed in are copied; records handed to a callback live only for
 * the duration of the callback.
 */

#ifndef RELAIS_STORE_H
#define RELAIS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum {
	STORE_NUMBER_MAX = 32,
	STORE_NAME_MAX = 128,
	STORE_HA1_MAX = 65, /* hex SHA-256 + NUL */
	STORE_URI_MAX = 512,
	STORE_UA_MAX = 256,
	STORE_ADDR_MAX = 64,
	STORE_CALLID_MAX = 256,
	STORE_CAUSE_MAX = 64,
};

/** An extension (a user who registers phones) */
struct store_ext {
	char number[STORE_NUMBER_MAX];
	char name[STORE_NAME_MAX];
	char ha1_md5[STORE_HA1_MAX];	/**< MD5(number:realm:password) hex */
	char ha1_sha256[STORE_HA1_MAX]; /**< SHA-256(...) hex, RFC 8760     */
	int64_t created;		/**< Unix time                      */
};

/** One registered contact of an extension */
struct store_contact {
	char ext[STORE_NUMBER_MAX];
	char uri[STORE_URI_MAX];       /**< Contact URI as sent by phone   */
	char received[STORE_ADDR_MAX]; /**< Source "ip:port" of REGISTER   */
	char transport[8];	       /**< udp, tcp, tls                  */
	char user_agent[STORE_UA_MAX];
	char callid[STORE_CALLID_MAX];
	uint32_t cseq;
	int64_t expires; /**< Unix time the binding expires  */
	int64_t updated; /**< Unix time of last REGISTER     */
};

/** One call record (CDR) */
struct store_cdr {
	int64_t id; /**< Assigned by the store          */
	char callid[STORE_CALLID_MAX];
	char caller[STORE_NUMBER_MAX];
	char callee[STORE_NUMBER_MAX];
	int64_t start_ms;  /**< INVITE received, Unix ms       */
	int64_t answer_ms; /**< 200 OK, 0 if never answered    */
	int64_t end_ms;
	char disposition[16]; /**< ANSWERED, NO ANSWER, BUSY,
					     FAILED, CANCELLED              */
	char
	    cause[STORE_CAUSE_MAX]; /**< e.g. caller-bye, 486, media-timeout */
	uint32_t duration_s;	    /**< talk time, end - answer        */
};

typedef int(store_ext_h)(const struct store_ext *ext, void *arg);
typedef int(store_contact_h)(const struct store_contact *c, void *arg);
typedef int(store_cdr_h)(const struct store_cdr *cdr, void *arg);

int store_open(struct store **stp, const char *path);
int store_schema_version(struct store *st, uint32_t *version);

int store_ext_add(struct store *st, const struct store_ext *ext);
int store_ext_get(struct store *st, const char *number, struct store_ext *ext);
int store_ext_update_ha1(struct store *st, const char *number,
			 const char *ha1_md5, const char *ha1_sha256);
int store_ext_remove(struct store *st, const char *number);
int store_ext_foreach(struct store *st, store_ext_h *h, void *arg);

int store_contact_put(struct store *st, const struct store_contact *c);
int store_contact_remove(struct store *st, const char *ext, const char *uri);
int store_contact_remove_ext(struct store *st, const char *ext);
int store_contact_foreach(struct store *st, const char *ext,
			  store_contact_h *h, void *arg);
int store_contact_purge(struct store *st, int64_t now);

int store_cdr_add(struct store *st, struct store_cdr *cdr);
int store_cdr_foreach(struct store *st, uint32_t limit, store_cdr_h *h,
		      void *arg);

int store_flush(struct store *st);

#endif

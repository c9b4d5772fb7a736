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

/* ---- trunks, routing rules, office hours (issue 3) ------------------ */

enum {
	STORE_TRUNK_NAME_MAX = 32,
	STORE_HOST_MAX = 128,
	STORE_SECRET_MAX = 128,
	STORE_CODECS_MAX = 128,
	STORE_DIDS_MAX = 1024,
	STORE_CALLERS_MAX = 256,
	STORE_DEST_MAX = 80,
	STORE_ROUTES_MAX = 5,
	STORE_RANGES_MAX = 128,
};

/**
 * A carrier SIP trunk (SPEC §2). Text fields hold validated values
 * (pbx/trunkcfg.c); empty strings mean "not set".
 */
struct store_trunk {
	char name[STORE_TRUNK_NAME_MAX]; /**< unique, [A-Za-z0-9_-]     */
	char profile[24];	     /**< "", orange-btip, orange-btipoi   */
	char kind[12];		     /**< "register" or "ip"               */
	char host[STORE_HOST_MAX];   /**< registrar/server: IPv4 or FQDN */
	uint16_t port;		     /**< 0: transport default or SRV     */
	bool srv;		     /**< resolve host with NAPTR/SRV     */
	char transport[8];	     /**< udp, tcp, tls                   */
	char proxy[STORE_HOST_MAX];  /**< outbound proxy host[:port]    */
	char domain[STORE_HOST_MAX]; /**< SIP domain; empty: host       */
	char auth_user[64];
	char password[STORE_SECRET_MAX]; /**< never returned by the API */
	uint32_t reg_interval;	       /**< seconds, default 180            */
	uint32_t max_calls;	       /**< default 10                      */
	bool inbound;		       /**< calls from the trunk accepted   */
	bool outbound;		       /**< calls to the trunk allowed      */
	char codecs[STORE_CODECS_MAX]; /**< priority list               */
	char srtp[12];		       /**< disabled, allowed, enforced     */
	char main_number[STORE_NUMBER_MAX]; /**< the trunk's main DID  */
	char dids[STORE_DIDS_MAX]; /**< "0233456789,0233456*"           */
	char caller_id[STORE_NUMBER_MAX]; /**< default outbound caller ID */
	char caller_name[64];	   /**< display name sent              */
	bool pai;		   /**< send P-Asserted-Identity       */
	char privacy[16];	   /**< "", none, id, header, user      */
	bool diversion;		   /**< Diversion on forwarded calls    */
	uint32_t options_interval; /**< OPTIONS probe seconds, 0 = off */
	char contact_addr[64];	   /**< public IP for Contact/SDP (NAT) */
	int64_t created;
};

/** One route of an outbound rule */
struct store_route {
	char trunk[STORE_TRUNK_NAME_MAX]; /**< empty when blocked         */
	uint32_t strip;			  /**< leading digits removed      */
	char prepend[STORE_NUMBER_MAX];	  /**< then this is prepended      */
	bool blocked;			  /**< calls matching are refused  */
};

/** An outbound rule; rules are evaluated by ascending position */
struct store_orule {
	int64_t id; /**< assigned by the store */
	uint32_t position;
	char name[64];
	char prefix[STORE_NUMBER_MAX];	 /**< dialled prefix, "" = any   */
	char callers[STORE_CALLERS_MAX]; /**< "100,101,200-220", "" = all */
	uint32_t min_len;		 /**< 0 = any                     */
	uint32_t max_len;		 /**< 0 = any                     */
	uint32_t routec;
	struct store_route routes[STORE_ROUTES_MAX];
};

/**
 * An inbound rule: DID to destinations. A destination is "hangup",
 * "extension:NUMBER" or "external:NUMBER".
 */
struct store_irule {
	int64_t id;
	char name[64];
	char trunk[STORE_TRUNK_NAME_MAX]; /**< "" = any trunk             */
	char did[STORE_NUMBER_MAX];	  /**< number, mask with '*', or "*" */
	char dest_open[STORE_DEST_MAX];	  /**< office hours                */
	char dest_closed[STORE_DEST_MAX]; /**< outside office hours        */
	char dest_holiday[STORE_DEST_MAX]; /**< holidays                   */
};

/** Office hours of one weekday: "08:30-12:00,13:30-18:00", "" = closed */
struct store_hours {
	uint32_t day; /**< 0 = Monday ... 6 = Sunday */
	char ranges[STORE_RANGES_MAX];
};

/** A holiday: one day or a range, every year if yearly */
struct store_holiday {
	int64_t id;
	char name[64];
	char first[11]; /**< YYYY-MM-DD */
	char last[11];	/**< YYYY-MM-DD, same as first for one day */
	bool yearly;	/**< the year is ignored */
};

typedef int(store_trunk_h)(const struct store_trunk *t, void *arg);
typedef int(store_orule_h)(const struct store_orule *r, void *arg);
typedef int(store_irule_h)(const struct store_irule *r, void *arg);
typedef int(store_hours_h)(const struct store_hours *h, void *arg);
typedef int(store_holiday_h)(const struct store_holiday *h, void *arg);

/* add: EEXIST if the name is taken; update: ENOENT if unknown */
int store_trunk_add(struct store *st, const struct store_trunk *t);
int store_trunk_update(struct store *st, const struct store_trunk *t);
int store_trunk_get(struct store *st, const char *name, struct store_trunk *t);
int store_trunk_remove(struct store *st, const char *name);
int store_trunk_foreach(struct store *st, store_trunk_h *h, void *arg);

/* position 0 appends; otherwise the rule is inserted there and the
   following ones move down. r->id is set on return. */
int store_orule_add(struct store *st, struct store_orule *r);
int store_orule_get(struct store *st, int64_t id, struct store_orule *r);
int store_orule_remove(struct store *st, int64_t id);
int store_orule_foreach(struct store *st, store_orule_h *h, void *arg);

int store_irule_add(struct store *st, struct store_irule *r);
int store_irule_remove(struct store *st, int64_t id);
int store_irule_foreach(struct store *st, store_irule_h *h, void *arg);

/* Weekly schedule: set one day (replaces it); foreach gives all 7 days */
int store_hours_set(struct store *st, const struct store_hours *h);
int store_hours_foreach(struct store *st, store_hours_h *h, void *arg);

int store_holiday_add(struct store *st, struct store_holiday *hd);
int store_holiday_remove(struct store *st, int64_t id);
int store_holiday_foreach(struct store *st, store_holiday_h *h, void *arg);

/* Trunk removal fails with EBUSY while a rule names the trunk */

/* ---- SBC security (migration 003) ----------------------------------- */

/** Security settings of the SBC (src/sbc guard_conf, as validated there);
    level "none", "auto" or "allowlist"; periods in seconds, 0 = never */
struct store_sbcsec {
	char level[12];
	uint32_t dos_threshold;
	uint32_t dos_window;
	uint32_t dos_period;
	uint32_t ddos_threshold;
	uint32_t ddos_window;
	uint32_t bf_failures;
	uint32_t bf_window;
	uint32_t bf_period;
	uint32_t deny_max;
};

/** A deny-list entry kept across restarts */
struct store_sbcdeny {
	char addr[64];	 /**< IP address, no port                 */
	char reason[16]; /**< "dos", "brute-force", "malicious"   */
	char detail[96];
	int64_t since; /**< Unix seconds */
	int64_t until; /**< Unix seconds, 0 = never */
};

typedef int(store_text_h)(const char *text, void *arg);
typedef int(store_sbcdeny_h)(const struct store_sbcdeny *d, void *arg);

/** ENOENT when never set (first start: the SBC uses its defaults) */
int store_sbcsec_get(struct store *st, struct store_sbcsec *s);
int store_sbcsec_set(struct store *st, const struct store_sbcsec *s);

/** Allow-list entries as validated text ("192.0.2.0/24"); EEXIST, and
    ENOENT on removal of an unknown one */
int store_sbcallow_add(struct store *st, const char *cidr);
int store_sbcallow_remove(struct store *st, const char *cidr);
int store_sbcallow_foreach(struct store *st, store_text_h *h, void *arg);

/** Insert or replace the entry of d->addr */
int store_sbcdeny_put(struct store *st, const struct store_sbcdeny *d);
int store_sbcdeny_remove(struct store *st, const char *addr);
int store_sbcdeny_clear(struct store *st);
int store_sbcdeny_foreach(struct store *st, store_sbcdeny_h *h, void *arg);

int store_flush(struct store *st);

#endif

/**
 * @file cli.h  relaisctl internals: a client of relaisd's JSON API on its
 *              Unix socket
 *
 * relaisctl links libcurl and jansson only, nothing of relaisd.
 */

#ifndef RELAIS_CLI_H
#define RELAIS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

/** Exit codes, as --help documents them */
enum ctl_exit {
	CTL_OK = 0,	     /**< success                           */
	CTL_REFUSED = 1,     /**< relaisd refused the request       */
	CTL_USAGE = 2,	     /**< bad command line                  */
	CTL_UNREACHABLE = 3, /**< relaisd cannot be reached         */
};

enum {
	CTL_SOCKET_MAX = 108, /* sun_path */
	CTL_PW_MAX = 128,
	CTL_GEN_LEN = 16,
};

#define CTL_DEFAULT_SOCKET "/run/relais/relaisd.sock"

/** What every command gets: where relaisd is and how to print */
struct ctl {
	char socket[CTL_SOCKET_MAX];
	bool json;
};

/** Options; a command's table row says which it takes (1 << opt) */
enum opt {
	OPT_NAME = 0,
	OPT_PASSWORD,
	OPT_GENERATE,
	OPT_EXT,
	OPT_LIMIT,
	OPT_ACTIVE,
	/* trunks */
	OPT_HOST,
	OPT_PROFILE,
	OPT_KIND,
	OPT_PORT,
	OPT_SRV,
	OPT_NO_SRV,
	OPT_TRANSPORT,
	OPT_PROXY,
	OPT_DOMAIN,
	OPT_USER,
	OPT_PASSWORD_STDIN,
	OPT_REG_INTERVAL,
	OPT_MAX_CALLS,
	OPT_INBOUND,
	OPT_OUTBOUND,
	OPT_CODECS,
	OPT_SRTP,
	OPT_NUMBER,
	OPT_DIDS,
	OPT_CALLER_ID,
	OPT_CALLER_NAME,
	OPT_PAI,
	OPT_PRIVACY,
	OPT_DIVERSION,
	OPT_OPTIONS_INTERVAL,
	OPT_CONTACT_ADDR,
	/* outbound and inbound rules */
	OPT_POSITION,
	OPT_PREFIX,
	OPT_CALLERS,
	OPT_MIN_LEN,
	OPT_MAX_LEN,
	OPT_ROUTE,
	OPT_DID,
	OPT_TRUNK,
	OPT_OPEN,
	OPT_CLOSED,
	OPT_HOLIDAY,
	/* holidays */
	OPT_DATE,
	OPT_YEARLY,
	/* certificates */
	OPT_CN,
	OPT_SAN,
	OPT_ORG,
	OPT_COUNTRY,
	OPT_BITS,
	OPT_OUT,
	OPT_P12,

	OPT_COUNT
};

enum {
	CTL_POS_MAX = 2,
	CTL_ROUTES_MAX = 5,
};

/** A command's arguments, after its options were parsed */
struct ctl_args {
	const char
	    *pos[CTL_POS_MAX];	    /**< NUMBER, NAME, ID, DAY RANGES, FILE */
	const char *opt[OPT_COUNT]; /**< value; "" for a flag given    */
	const char *route[CTL_ROUTES_MAX]; /**< --route, in order        */
	unsigned routec;
	bool json; /**< --json given after the command */
};

/* client.c */
int client_request(const struct ctl *ctl, const char *method, const char *path,
		   json_t *body, json_t **out);

/* secret.c */
int secret_read(char *pw, size_t sz);
int secret_generate(char *pw, size_t sz, const char *number);

/* reply.c: reading the API's answers, printing them */
const char *reply_str(const json_t *o, const char *key);
long long reply_int(const json_t *o, const char *key);
bool reply_bool(const json_t *o, const char *key);
void reply_print(const json_t *j);
void time_fmt(char *buf, size_t sz, long long unix_s);
void duration_fmt(char *buf, size_t sz, long long s);
int arg_u32(const char *opt, const char *s, long long *val);

/* table.c */
struct table;
int table_alloc(struct table **tp, unsigned ncols, ...);
int table_row(struct table *t, ...);
void table_print(const struct table *t);
void table_free(struct table *t);

/* commands.c */
int cmd_ext_add(const struct ctl *ctl, const struct ctl_args *a);
int cmd_ext_list(const struct ctl *ctl, const struct ctl_args *a);
int cmd_ext_show(const struct ctl *ctl, const struct ctl_args *a);
int cmd_ext_remove(const struct ctl *ctl, const struct ctl_args *a);
int cmd_ext_passwd(const struct ctl *ctl, const struct ctl_args *a);
int cmd_registrations(const struct ctl *ctl, const struct ctl_args *a);
int cmd_calls(const struct ctl *ctl, const struct ctl_args *a);
int cmd_cdr(const struct ctl *ctl, const struct ctl_args *a);
int cmd_status(const struct ctl *ctl, const struct ctl_args *a);

/* trunks.c */
int cmd_trunk_add(const struct ctl *ctl, const struct ctl_args *a);
int cmd_trunk_set(const struct ctl *ctl, const struct ctl_args *a);
int cmd_trunk_list(const struct ctl *ctl, const struct ctl_args *a);
int cmd_trunk_show(const struct ctl *ctl, const struct ctl_args *a);
int cmd_trunk_remove(const struct ctl *ctl, const struct ctl_args *a);

/* rules.c */
int cmd_orule_add(const struct ctl *ctl, const struct ctl_args *a);
int cmd_orule_list(const struct ctl *ctl, const struct ctl_args *a);
int cmd_orule_remove(const struct ctl *ctl, const struct ctl_args *a);
int cmd_irule_add(const struct ctl *ctl, const struct ctl_args *a);
int cmd_irule_list(const struct ctl *ctl, const struct ctl_args *a);
int cmd_irule_remove(const struct ctl *ctl, const struct ctl_args *a);
int cmd_hours_set(const struct ctl *ctl, const struct ctl_args *a);
int cmd_hours_show(const struct ctl *ctl, const struct ctl_args *a);
int cmd_holiday_add(const struct ctl *ctl, const struct ctl_args *a);
int cmd_holiday_list(const struct ctl *ctl, const struct ctl_args *a);
int cmd_holiday_remove(const struct ctl *ctl, const struct ctl_args *a);

/* cert.c */
int cmd_cert_csr(const struct ctl *ctl, const struct ctl_args *a);
int cmd_cert_install(const struct ctl *ctl, const struct ctl_args *a);
int cmd_cert_show(const struct ctl *ctl, const struct ctl_args *a);

/* sbc.c: `relaisctl sbc ...`, words and arguments of its own */
int cmd_sbc(const struct ctl *ctl, int argc, char **argv);
void sbc_synopses(FILE *f);

/* main.c */
int ctl_usage_error(const char *fmt, ...);

#endif

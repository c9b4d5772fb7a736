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

/** A command's arguments, after its options were parsed */
struct ctl_args {
	const char *number; /**< NUMBER, when the command takes one */
	const char *name;
	const char *password;
	const char *ext;
	const char *limit;
	bool generate;
	bool active;
	bool json; /**< --json given after the command */
};

/* client.c */
int client_request(const struct ctl *ctl, const char *method, const char *path,
		   json_t *body, json_t **out);

/* secret.c */
int secret_read(char *pw, size_t sz);
int secret_generate(char *pw, size_t sz, const char *number);

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

/* main.c */
int ctl_usage_error(const char *fmt, ...);

#endif

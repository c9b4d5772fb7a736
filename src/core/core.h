/**
 * @file core.h  Relais core plumbing: logging, event log, configuration,
 *               strict number parsing.
 *
 * Every other folder may include this header; core includes no other
 * folder's header.
 */

#ifndef RELAIS_CORE_H
#define RELAIS_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define RELAIS_VERSION "0.1.0"

struct pl;
struct sa;

/* ---- logging (log.c) ---------------------------------------------- */

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO,
	LOG_LVL_NOTICE,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
};

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_SYSLOG,
};

void log_setup(enum log_level level, enum log_target target);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_close(void);
void log_msg(enum log_level level, const char *module, const char *fmt, ...);
void log_ctx_set(const char *ctx);
void log_ctx_clear(void);
int log_level_parse(enum log_level *level, const char *name);
const char *log_level_name(enum log_level level);

/* Each .c file defines DEBUG_MODULE before using these, as libre does. */
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, DEBUG_MODULE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, DEBUG_MODULE, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, DEBUG_MODULE, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, DEBUG_MODULE, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_LVL_ERROR, DEBUG_MODULE, __VA_ARGS__)

/* ---- operator event log (evlog.c, events.inc) ----------------------- */

enum evlog_id {
#define EV(id, sym, desc) EV_##sym = id,
#include "core/events.inc"
#undef EV
};

const char *evlog_describe(enum evlog_id id);
void evlog_emit(enum evlog_id id, const char *fmt, ...);

/* ---- strict number parsing (num.c) ---------------------------------- */

int num_u32(const struct pl *pl, uint32_t min, uint32_t max, uint32_t *val);
int num_u32_str(const char *s, uint32_t min, uint32_t max, uint32_t *val);
int num_u64_str(const char *s, uint64_t *val);

/* ---- text helpers (num.c) ------------------------------------------- */

void text_trim(struct pl *pl);

struct sa;
/** Literal IPv4/IPv6 address, optionally with :port; 0.0.0.0, :: and
    255.255.255.255 refused (num.c) */
int addr_literal_parse(struct sa *sa, const char *val, bool port_ok);

/* ---- configuration (config.c) --------------------------------------- */

enum { CONF_STR_MAX = 256 };

/** Host data of one relaisd, loaded from the file given with --config */
struct relais_config {
	char sip_udp_listen[64];
	char sip_tcp_listen[64];
	char sip_tls_listen[64];
	char sip_realm[64];
	char tls_cert[CONF_STR_MAX];
	char tls_ca[CONF_STR_MAX];
	char tls_verify_client[12];
	char dns_servers[CONF_STR_MAX];
	char emergency_numbers[CONF_STR_MAX];
	char media_address[64];
	uint32_t rtp_port_min;
	uint32_t rtp_port_max;
	uint32_t media_threads;
	uint32_t media_timeout;
	char codecs[CONF_STR_MAX];
	char db_path[CONF_STR_MAX];
	char control_socket[CONF_STR_MAX];
	char pid_file[CONF_STR_MAX];
	enum log_level log_level;
	enum log_target log_target;
	uint32_t reg_min_expires;
	uint32_t reg_max_expires;
	uint32_t reg_default_expires;
	uint32_t reg_max_contacts;
	uint32_t nonce_lifetime;
	char auth_algorithms[64];
	uint32_t session_min_se;
	/* SBC (SPEC §4), resolved by sbc_conf_resolve() in src/sbc */
	char sbc_mode[12];		 /**< off|standard|wan|lan      */
	char sbc_public_interface[64];	 /**< IP2                       */
	char sbc_public_nat[64];	 /**< IP1, empty = IP2          */
	char sbc_public_transports[16];	 /**< tls|tls+udp/tcp           */
	uint32_t sbc_public_port;	 /**< 0 = 5063 (lan mode: 5065) */
	char sbc_private_interface[64];	 /**< IP3                       */
	char sbc_private_nat[64];	 /**< IP4, empty = IP3          */
	char sbc_private_transports[16]; /**< tls|tls+udp/tcp|udp/tcp  */
	uint32_t sbc_private_port;	 /**< 0 = 5064 (wan mode: 5065) */
	char sbc_pbx[64];		 /**< IP5[:port]                */
	char sbc_pbx_transport[4];	 /**< udp|tcp|tls               */
	char sbc_wan_peer[64];		 /**< lan mode: the WAN element */
	uint32_t sbc_rtp_port_min;
	uint32_t sbc_rtp_port_max;
	bool sbc_rtp_port_change;
	bool sbc_symmetric_rtp;
	char sbc_public_srtp[12];  /**< auto|disabled|allowed|enforced */
	char sbc_private_srtp[12]; /**< auto|disabled|allowed|enforced */
};

extern const struct relais_config config_defaults;

int config_load(struct relais_config *cfg, const char *path, char *errbuf,
		size_t errsz);
int config_reload(struct relais_config *cfg, const char *path, char *errbuf,
		  size_t errsz);
int config_print_help(FILE *f);
int config_print_example(FILE *f);

#endif

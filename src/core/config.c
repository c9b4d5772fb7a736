/**
 * @file config.c  relaisd host configuration: one table lists every key
 *
 * The loader, the error messages, `relaisd --help-config`, the example file
 * and the README reference all come from the table below (STYLE.md §5).
 * A file holds `key = value` lines; `#` starts a comment. An unknown key, a
 * value that does not parse or lies outside its range stops the start with
 * a message naming file, line, key and what is allowed.
 */

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/core.h"

enum conf_type {
	CT_U32,
	CT_STR,
	CT_ADDR, /* "ip:port" or empty (transport disabled) */
	CT_IP,	 /* IPv4/IPv6 address without port */
	CT_LOGLEVEL,
	CT_LOGTARGET,
	CT_CODECS,
	CT_ALGOS,
	CT_VERIFY,  /* none, optional, required */
	CT_DNS,	    /* list of ip[:port] */
	CT_NUMBERS, /* list of digit strings */
	CT_HOST,    /* IPv4/IPv6 address, not 0.0.0.0/255.255.255.255; empty */
	CT_HOSTPORT, /* CT_HOST with an optional :port */
	CT_BOOL,     /* yes or no */
	CT_ENUM,     /* one of enumv */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;
	size_t size;
	uint32_t min;
	uint32_t max;
	bool reloadable;
	const char *help;
	const char *const *enumv; /* CT_ENUM: NULL-terminated names */
};

#define OFF(m) offsetof(struct relais_config, m)
#define SZ(m)  sizeof(((struct relais_config *)0)->m)
#define U32(n, m, lo, hi, rl, h)                                              \
	{                                                                     \
		n, CT_U32, OFF(m), SZ(m), lo, hi, rl, h, NULL                 \
	}
#define STR(n, t, m, rl, h)                                                   \
	{                                                                     \
		n, t, OFF(m), SZ(m), 0, 0, rl, h, NULL                        \
	}
#define ENUM(n, m, v, h)                                                      \
	{                                                                     \
		n, CT_ENUM, OFF(m), SZ(m), 0, 0, false, h, v                  \
	}

static const char *const sbc_modes[] = { "off", "standard", "wan", "lan",
					 NULL };
static const char *const sbc_pub_tps[] = { "tls", "tls+udp/tcp", NULL };
static const char *const sbc_priv_tps[] = { "tls", "tls+udp/tcp", "udp/tcp",
					    NULL };
static const char *const sbc_pbx_tps[] = { "udp", "tcp", "tls", NULL };
static const char *const sbc_srtps[] = { "auto", "disabled", "allowed",
					 "enforced", NULL };

const struct relais_config config_defaults = {
	.sip_udp_listen = "127.0.0.1:5060",
	.sip_tcp_listen = "127.0.0.1:5060",
	.sip_tls_listen = "127.0.0.1:5061",
	.sip_realm = "relais",
	.tls_cert = "/var/lib/relais/tls/relaisd.pem",
	.tls_ca = "",
	.tls_verify_client = "optional",
	.dns_servers = "",
	.emergency_numbers = "15,17,18,112,114,115,119,191,196,197",
	.media_address = "127.0.0.1",
	.rtp_port_min = 20000,
	.rtp_port_max = 27999,
	.media_threads = 1,
	.media_timeout = 60,
	.codecs = "PCMA,PCMU,G722,telephone-event",
	.db_path = "/var/lib/relais/relais.db",
	.control_socket = "/run/relais/relaisd.sock",
	.pid_file = "/run/relais/relaisd.pid",
	.log_level = LOG_LVL_INFO,
	.log_target = LOG_TARGET_STDERR,
	.reg_min_expires = 60,
	.reg_max_expires = 3600,
	.reg_default_expires = 3600,
	.reg_max_contacts = 10,
	.nonce_lifetime = 300,
	.auth_algorithms = "MD5",
	.session_min_se = 90,
	.sbc_mode = "off",
	.sbc_public_interface = "",
	.sbc_public_nat = "",
	.sbc_public_transports = "tls",
	.sbc_public_port = 0,
	.sbc_private_interface = "",
	.sbc_private_nat = "",
	.sbc_private_transports = "tls+udp/tcp",
	.sbc_private_port = 0,
	.sbc_pbx = "",
	.sbc_pbx_transport = "tls",
	.sbc_wan_peer = "",
	.sbc_rtp_port_min = 20000,
	.sbc_rtp_port_max = 27999,
	.sbc_rtp_port_change = false,
	.sbc_symmetric_rtp = true,
	.sbc_public_srtp = "auto",
	.sbc_private_srtp = "auto",
};

static const struct conf_key keys[] = {
	STR("sip_udp_listen", CT_ADDR, sip_udp_listen, false,
	    "SIP over UDP: address:port to listen on, empty to disable"),
	STR("sip_tcp_listen", CT_ADDR, sip_tcp_listen, false,
	    "SIP over TCP: address:port to listen on, empty to disable"),
	STR("sip_tls_listen", CT_ADDR, sip_tls_listen, false,
	    "SIP over TLS: address:port to listen on, empty to disable"),
	STR("sip_realm", CT_STR, sip_realm, false,
	    "digest realm; passwords are stored hashed with it, so changing "
	    "it means setting every password again"),
	STR("tls_cert", CT_STR, tls_cert, false,
	    "PEM file with the TLS private key and certificate chain; a "
	    "self-signed one is generated there if the file does not exist"),
	STR("tls_ca", CT_STR, tls_ca, false,
	    "PEM file of trust anchors (the carrier's root and intermediate"
	    " CAs): peers' certificates must chain to one of them; empty: "
	    "no peer certificate is trusted"),
	STR("tls_verify_client", CT_VERIFY, tls_verify_client, false,
	    "certificates of TLS clients: none (not asked), optional (asked,"
	    " verified when sent: phones send none) or required (mutual "
	    "authentication: a client without a trusted one is refused)"),
	STR("dns_servers", CT_DNS, dns_servers, false,
	    "DNS servers for trunk host names (ip or ip:port, "
	    "comma-separated); empty: those of /etc/resolv.conf"),
	STR("emergency_numbers", CT_NUMBERS, emergency_numbers, true,
	    "numbers that always route, whatever the rules (event 4099)"),
	STR("media_address", CT_IP, media_address, false,
	    "IP address RTP is relayed on and written into SDP"),
	U32("rtp_port_min", rtp_port_min, 1024, 65532, false,
	    "first port of the RTP/RTCP range"),
	U32("rtp_port_max", rtp_port_max, 1027, 65535, false,
	    "last port of the RTP/RTCP range (4 ports per call)"),
	U32("media_threads", media_threads, 1, 64, false,
	    "number of media relay threads"),
	U32("media_timeout", media_timeout, 0, 3600, true,
	    "seconds without RTP after which a call is ended (0 = never)"),
	STR("codecs", CT_CODECS, codecs, true,
	    "codecs offered end to end, in order: PCMA, PCMU, G722, "
	    "telephone-event"),
	STR("db_path", CT_STR, db_path, false, "SQLite database file"),
	STR("control_socket", CT_STR, control_socket, false,
	    "Unix socket relaisctl talks to (HTTP/JSON API)"),
	STR("pid_file", CT_STR, pid_file, false,
	    "file the daemon writes its PID to (empty: none)"),
	STR("log_level", CT_LOGLEVEL, log_level, true,
	    "debug, info, notice, warning or error"),
	STR("log_target", CT_LOGTARGET, log_target, false, "stderr or syslog"),
	U32("reg_min_expires", reg_min_expires, 10, 86400, true,
	    "shortest registration accepted (shorter gets 423)"),
	U32("reg_max_expires", reg_max_expires, 60, 604800, true,
	    "longest registration granted"),
	U32("reg_default_expires", reg_default_expires, 60, 604800, true,
	    "registration time when the phone asks for none"),
	U32("reg_max_contacts", reg_max_contacts, 1, 100, true,
	    "contacts one extension may register at once"),
	U32("nonce_lifetime", nonce_lifetime, 30, 3600, true,
	    "seconds a digest nonce stays valid (then stale=true)"),
	STR("auth_algorithms", CT_ALGOS, auth_algorithms, true,
	    "digest algorithms challenged, in order: MD5, SHA-256 (some "
	    "phones give up when offered SHA-256, hence MD5 alone by "
	    "default)"),
	U32("session_min_se", session_min_se, 90, 86400, true,
	    "smallest session timer accepted (RFC 4028 Min-SE)"),
	ENUM("sbc_mode", sbc_mode, sbc_modes,
	     "run the SBC (SPEC §4): off; standard (public side in front of "
	     "the PBX); wan (chained WAN element: the private side talks to "
	     "the LAN element); lan (chained LAN element: the public side "
	     "serves the WAN element only)"),
	STR("sbc_public_interface", CT_HOST, sbc_public_interface, false,
	    "SBC public side: interface address to listen on (IP2); "
	    "required unless sbc_mode is off"),
	STR("sbc_public_nat", CT_HOST, sbc_public_nat, false,
	    "SBC public side: address seen from outside when a NAT sits in"
	    " front (IP1); empty: sbc_public_interface"),
	ENUM("sbc_public_transports", sbc_public_transports, sbc_pub_tps,
	     "SBC public side protocols: tls, or tls+udp/tcp (UDP/TCP alone"
	     " is refused on the public side)"),
	U32("sbc_public_port", sbc_public_port, 0, 65535, false,
	    "SBC public side SIP port (TLS and, if enabled, UDP/TCP); 0: "
	    "5063, or 5065 in lan mode"),
	STR("sbc_private_interface", CT_HOST, sbc_private_interface, false,
	    "SBC private side: interface address toward the PBX (IP3); "
	    "required unless sbc_mode is off"),
	STR("sbc_private_nat", CT_HOST, sbc_private_nat, false,
	    "SBC private side: address the PBX sees when a NAT sits between"
	    " (IP4); empty: sbc_private_interface"),
	ENUM("sbc_private_transports", sbc_private_transports, sbc_priv_tps,
	     "SBC private side protocols: tls, tls+udp/tcp or udp/tcp"),
	U32("sbc_private_port", sbc_private_port, 0, 65535, false,
	    "SBC private side SIP port; 0: 5064, or 5065 in wan mode"),
	STR("sbc_pbx", CT_HOSTPORT, sbc_pbx, false,
	    "the PBX behind the SBC (IP5 or IP5:port; [v6]:port); in wan "
	    "mode the LAN element. Default port 5061 for tls, 5060 for udp"
	    " and tcp, 5065 in wan mode; required unless sbc_mode is off"),
	ENUM("sbc_pbx_transport", sbc_pbx_transport, sbc_pbx_tps,
	     "protocol toward the PBX: udp, tcp or tls; it must be one "
	     "sbc_private_transports enables"),
	STR("sbc_wan_peer", CT_HOST, sbc_wan_peer, false,
	    "lan mode: address of the WAN element, the only source the "
	    "public side serves; required in lan mode"),
	U32("sbc_rtp_port_min", sbc_rtp_port_min, 1024, 65532, false,
	    "first port of the SBC's RTP/RTCP range"),
	U32("sbc_rtp_port_max", sbc_rtp_port_max, 1027, 65535, false,
	    "last port of the SBC's RTP/RTCP range (4 ports per call, 8 "
	    "with video)"),
	STR("sbc_rtp_port_change", CT_BOOL, sbc_rtp_port_change, false,
	    "SBC: move a call to new relay ports when it is renegotiated"),
	STR("sbc_symmetric_rtp", CT_BOOL, sbc_symmetric_rtp, false,
	    "SBC: send RTP back to where it comes from (latch on the first"
	    " packet's source; needed for phones behind NAT)"),
	ENUM("sbc_public_srtp", sbc_public_srtp, sbc_srtps,
	     "SRTP on the public side: auto (enforced on TLS legs, plain "
	     "RTP otherwise), disabled, allowed (follow the other side) or "
	     "enforced"),
	ENUM("sbc_private_srtp", sbc_private_srtp, sbc_srtps,
	     "SRTP on the private side: auto (enforced when "
	     "sbc_pbx_transport is tls, plain RTP otherwise: the PBX sees "
	     "remote workers as ordinary phones), disabled, allowed or "
	     "enforced"),
};


static const char *enum_allowed(const char *const *v, char *buf, size_t sz)
{
	size_t len;

	re_snprintf(buf, sz, "one of");
	for (size_t i = 0; v[i]; i++) {
		len = strlen(buf);
		re_snprintf(buf + len, sz - len, "%s %s", i ? "," : "", v[i]);
	}

	return buf;
}


static const char *type_allowed(const struct conf_key *k, char *buf, size_t sz)
{
	switch (k->type) {

	case CT_U32:
		re_snprintf(buf, sz, "an integer from %u to %u", k->min,
			    k->max);
		return buf;
	case CT_ADDR:
		return "an address:port such as 127.0.0.1:5060 or [::1]:5060,"
		       " or empty";
	case CT_IP:
		return "an IPv4 or IPv6 address";
	case CT_LOGLEVEL:
		return "one of debug, info, notice, warning, error";
	case CT_LOGTARGET:
		return "one of stderr, syslog";
	case CT_CODECS:
		return "a comma-separated list of PCMA, PCMU, G722, G729, "
		       "telephone-event";
	case CT_VERIFY:
		return "one of none, optional, required";
	case CT_DNS:
		return "a comma-separated list of IP addresses, each with an "
		       "optional :port, or empty";
	case CT_NUMBERS:
		return "a comma-separated list of numbers (digits only)";
	case CT_ALGOS:
		return "a comma-separated list of MD5, SHA-256";
	case CT_HOST:
		return "an IPv4 or IPv6 address other than 0.0.0.0 and "
		       "255.255.255.255, or empty";
	case CT_HOSTPORT:
		return "an IPv4 or IPv6 address other than 0.0.0.0 and "
		       "255.255.255.255, with an optional :port (1-65535; "
		       "[v6]:port), or empty";
	case CT_BOOL:
		return "yes or no";
	case CT_ENUM:
		return enum_allowed(k->enumv, buf, sz);
	default:
		re_snprintf(buf, sz, "a text of at most %zu characters",
			    k->size - 1);
		return buf;
	}
}


static bool list_valid(const char *val, const char *const *allowed, size_t n)
{
	struct pl rest, item;
	bool any = false;

	pl_set_str(&rest, val);
	while (rest.l) {
		const char *comma = pl_strchr(&rest, ',');
		bool ok = false;

		item.p = rest.p;
		item.l = comma ? (size_t)(comma - rest.p) : rest.l;
		text_trim(&item);
		for (size_t i = 0; i < n; i++) {
			if (!pl_strcasecmp(&item, allowed[i]))
				ok = true;
		}
		if (!ok)
			return false;
		any = true;
		if (!comma)
			break;
		rest.l -= (size_t)(comma + 1 - rest.p);
		rest.p = comma + 1;
	}

	return any;
}


/* "10.0.0.53,127.0.0.1:5353,[::1]:53" */
static bool dns_list_valid(const char *val)
{
	struct pl rest, item;
	struct sa sa;

	pl_set_str(&rest, val);
	while (rest.l) {
		const char *comma = pl_strchr(&rest, ',');

		item.p = rest.p;
		item.l = comma ? (size_t)(comma - rest.p) : rest.l;
		text_trim(&item);
		if (sa_set(&sa, &item, 53) && sa_decode(&sa, item.p, item.l))
			return false;
		if (!comma)
			break;
		rest.l -= (size_t)(comma + 1 - rest.p);
		rest.p = comma + 1;
	}

	return true;
}


static int bool_parse(bool *b, const char *val)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(val, yes[i])) {
			*b = true;
			return 0;
		}
		if (!strcasecmp(val, no[i])) {
			*b = false;
			return 0;
		}
	}

	return EINVAL;
}


/* Stores the canonical spelling of the name */
static int enum_set(char *dst, size_t size, const char *const *v,
		    const char *val)
{
	for (size_t i = 0; v[i]; i++) {
		if (!strcasecmp(val, v[i])) {
			str_ncpy(dst, v[i], size);
			return 0;
		}
	}

	return EINVAL;
}


/* "15,17,112": digits, '+', '*' and '#' only, between commas */
static bool numbers_valid(const char *val)
{
	bool item = false;

	for (const char *p = val; *p; p++) {
		if (*p == ',') {
			if (!item)
				return false;
			item = false;
		}
		else if (strchr("0123456789+*#", *p)) {
			item = true;
		}
		else if (*p != ' ') {
			return false;
		}
	}

	return item || !val[0];
}


static int set_value(struct relais_config *cfg, const struct conf_key *k,
		     const char *val)
{
	void *dst = (char *)cfg + k->off;
	static const char *const codecs[] = { "PCMA", "PCMU", "G722", "G729",
					      "telephone-event" };
	static const char *const verify[] = { "none", "optional", "required" };
	static const char *const algos[] = { "MD5", "SHA-256" };
	struct sa sa;

	switch (k->type) {

	case CT_U32:
		return num_u32_str(val, k->min, k->max, dst);

	case CT_LOGLEVEL:
		return log_level_parse(dst, val);

	case CT_LOGTARGET:
		if (!strcasecmp(val, "stderr"))
			*(enum log_target *)dst = LOG_TARGET_STDERR;
		else if (!strcasecmp(val, "syslog"))
			*(enum log_target *)dst = LOG_TARGET_SYSLOG;
		else
			return EINVAL;
		return 0;

	case CT_ADDR:
		if (val[0] && sa_decode(&sa, val, strlen(val)))
			return EINVAL;
		if (val[0] && (!sa_port(&sa) || !sa_isset(&sa, SA_ADDR)))
			return EINVAL;
		break;

	case CT_IP:
		if (sa_set_str(&sa, val, 0))
			return EINVAL;
		if (sa_is_any(&sa))
			return EINVAL;
		break;

	case CT_CODECS:
		if (!list_valid(val, codecs, ARRAY_SIZE(codecs)))
			return EINVAL;
		break;

	case CT_ALGOS:
		if (!list_valid(val, algos, ARRAY_SIZE(algos)))
			return EINVAL;
		break;

	case CT_VERIFY:
		if (strchr(val, ',') ||
		    !list_valid(val, verify, ARRAY_SIZE(verify)))
			return EINVAL;
		break;

	case CT_DNS:
		if (val[0] && !dns_list_valid(val))
			return EINVAL;
		break;

	case CT_NUMBERS:
		if (!numbers_valid(val))
			return EINVAL;
		break;

	case CT_HOST:
	case CT_HOSTPORT:
		if (val[0] &&
		    addr_literal_parse(&sa, val, k->type == CT_HOSTPORT))
			return EBADMSG;
		break;

	case CT_BOOL:
		return bool_parse(dst, val);

	case CT_ENUM:
		return enum_set(dst, k->size, k->enumv, val);

	default:
		break;
	}

	if (strlen(val) >= k->size)
		return ERANGE;

	str_ncpy(dst, val, k->size);
	return 0;
}


static const struct conf_key *key_find(const struct pl *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!pl_strcmp(name, keys[i].name))
			return &keys[i];
	}

	return NULL;
}


static int check_consistency(const struct relais_config *cfg, char *errbuf,
			     size_t errsz)
{
	if (cfg->rtp_port_max < cfg->rtp_port_min + 3) {
		re_snprintf(errbuf, errsz,
			    "rtp_port_max (%u) must be at least rtp_port_min"
			    " + 3 (%u): a call needs 4 ports",
			    cfg->rtp_port_max, cfg->rtp_port_min + 3);
		return EINVAL;
	}
	if (cfg->sbc_rtp_port_max < cfg->sbc_rtp_port_min + 3) {
		re_snprintf(errbuf, errsz,
			    "sbc_rtp_port_max (%u) must be at least "
			    "sbc_rtp_port_min + 3 (%u): a call needs 4 ports;"
			    " allowed range 1024-65535",
			    cfg->sbc_rtp_port_max, cfg->sbc_rtp_port_min + 3);
		return EINVAL;
	}
	if (cfg->reg_min_expires > cfg->reg_max_expires) {
		re_snprintf(errbuf, errsz,
			    "reg_min_expires (%u) must not exceed "
			    "reg_max_expires (%u)",
			    cfg->reg_min_expires, cfg->reg_max_expires);
		return EINVAL;
	}
	if (cfg->reg_default_expires < cfg->reg_min_expires ||
	    cfg->reg_default_expires > cfg->reg_max_expires) {
		re_snprintf(errbuf, errsz,
			    "reg_default_expires (%u) must lie between "
			    "reg_min_expires (%u) and reg_max_expires (%u)",
			    cfg->reg_default_expires, cfg->reg_min_expires,
			    cfg->reg_max_expires);
		return EINVAL;
	}
	/* a dedicated SBC (sbc_mode set) may run without PBX listeners */
	if (!cfg->sip_udp_listen[0] && !cfg->sip_tcp_listen[0] &&
	    !cfg->sip_tls_listen[0] &&
	    (!cfg->sbc_mode[0] || !strcmp(cfg->sbc_mode, "off"))) {
		re_snprintf(errbuf, errsz,
			    "sip_udp_listen, sip_tcp_listen and sip_tls_listen"
			    " are all empty: at least one transport is "
			    "needed (or run as a dedicated SBC: sbc_mode)");
		return EINVAL;
	}

	return 0;
}


static int parse_file(struct relais_config *cfg, const char *path, bool reload,
		      char *errbuf, size_t errsz)
{
	char line[1024];
	unsigned lineno = 0;
	FILE *f;
	int err = 0;

	f = fopen(path, "r");
	if (!f) {
		err = errno;
		re_snprintf(errbuf, errsz, "%s: cannot open: %m", path, err);
		return err;
	}

	while (fgets(line, sizeof(line), f)) {
		struct pl name, val, l;
		const struct conf_key *k;
		char vbuf[CONF_STR_MAX + 1];
		char abuf[128];

		++lineno;
		if (!strchr(line, '\n') && !feof(f)) {
			re_snprintf(errbuf, errsz, "%s:%u: line too long",
				    path, lineno);
			err = EINVAL;
			break;
		}

		pl_set_str(&l, line);
		text_trim(&l);
		if (!l.l || l.p[0] == '#')
			continue;

		if (re_regex(l.p, l.l, "[^ \t=]+[ \t]*=[ \t]*[^]*", &name,
			     NULL, NULL, &val)) {
			re_snprintf(errbuf, errsz,
				    "%s:%u: expected `key = value`, got "
				    "\"%r\"",
				    path, lineno, &l);
			err = EINVAL;
			break;
		}
		text_trim(&val);

		k = key_find(&name);
		if (!k) {
			re_snprintf(errbuf, errsz,
				    "%s:%u: unknown key \"%r\" (relaisd "
				    "--help-config lists the keys)",
				    path, lineno, &name);
			err = EINVAL;
			break;
		}

		if (val.l >= sizeof(vbuf)) {
			re_snprintf(errbuf, errsz, "%s:%u: %s: value too long",
				    path, lineno, k->name);
			err = EINVAL;
			break;
		}
		pl_strcpy(&val, vbuf, sizeof(vbuf));

		if (reload && !k->reloadable)
			continue;

		err = set_value(cfg, k, vbuf);
		if (err == EBADMSG) {
			re_snprintf(errbuf, errsz,
				    "%s:%u: %s = \"%s\": syntax error: "
				    "expected %s",
				    path, lineno, k->name, vbuf,
				    type_allowed(k, abuf, sizeof(abuf)));
			err = EINVAL;
			break;
		}
		else if (err) {
			re_snprintf(errbuf, errsz,
				    "%s:%u: %s = \"%s\" is not valid: "
				    "expected %s",
				    path, lineno, k->name, vbuf,
				    type_allowed(k, abuf, sizeof(abuf)));
			err = EINVAL;
			break;
		}
	}

	fclose(f);
	if (err)
		return err;

	err = check_consistency(cfg, errbuf, errsz);
	if (err)
		return err;

	return 0;
}


/**
 * Load a configuration file over the defaults
 *
 * @param cfg    Configuration to fill
 * @param path   File to read
 * @param errbuf Returned message on error (file, line, key, allowed)
 * @param errsz  Size of errbuf
 *
 * @return 0 if success, otherwise errorcode
 */
int config_load(struct relais_config *cfg, const char *path, char *errbuf,
		size_t errsz)
{
	if (!cfg || !path)
		return EINVAL;

	*cfg = config_defaults;

	return parse_file(cfg, path, false, errbuf, errsz);
}


/**
 * Re-read the reloadable keys (SIGHUP); others keep their running value.
 * Nothing changes unless the whole file is valid.
 */
int config_reload(struct relais_config *cfg, const char *path, char *errbuf,
		  size_t errsz)
{
	struct relais_config tmp = *cfg;
	int err;

	/* reloadable keys absent from the file fall back to their default */
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!keys[i].reloadable)
			continue;
		memcpy((char *)&tmp + keys[i].off,
		       (const char *)&config_defaults + keys[i].off,
		       keys[i].size);
	}

	err = parse_file(&tmp, path, true, errbuf, errsz);
	if (err)
		return err;

	*cfg = tmp;
	return 0;
}


static int print_default(char *buf, size_t sz, const struct conf_key *k)
{
	const void *v = (const char *)&config_defaults + k->off;

	switch (k->type) {

	case CT_U32:
		return re_snprintf(buf, sz, "%u", *(const uint32_t *)v);
	case CT_LOGLEVEL:
		return re_snprintf(buf, sz, "%s",
				   log_level_name(*(const enum log_level *)v));
	case CT_BOOL:
		return re_snprintf(buf, sz, "%s",
				   *(const bool *)v ? "yes" : "no");
	case CT_LOGTARGET:
		return re_snprintf(buf, sz, "%s",
				   *(const enum log_target *)v ==
					   LOG_TARGET_SYSLOG
				       ? "syslog"
				       : "stderr");
	default:
		return re_snprintf(buf, sz, "%s", (const char *)v);
	}
}


/** Print every key with its allowed values and default */
int config_print_help(FILE *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char def[CONF_STR_MAX], abuf[128];

		print_default(def, sizeof(def), &keys[i]);
		fprintf(f, "%-20s %s\n%20s allowed: %s; default: \"%s\"%s\n",
			keys[i].name, keys[i].help, "",
			type_allowed(&keys[i], abuf, sizeof(abuf)), def,
			keys[i].reloadable ? "; reloaded on SIGHUP" : "");
	}

	return 0;
}


/** Print an example configuration file with every default */
int config_print_example(FILE *f)
{
	fprintf(f, "# relaisd configuration (host data only)\n");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char def[CONF_STR_MAX], abuf[128];

		print_default(def, sizeof(def), &keys[i]);
		fprintf(f, "\n# %s\n# allowed: %s%s\n%s = %s\n", keys[i].help,
			type_allowed(&keys[i], abuf, sizeof(abuf)),
			keys[i].reloadable ? " (reloaded on SIGHUP)" : "",
			keys[i].name, def);
	}

	return 0;
}

/**
 * @file sbccfg.c  The SBC's host settings: the sbc_* keys of the config
 *                 file turned into a struct sbc_conf (SPEC §4)
 *
 * config.c checks each key on its own; this file applies the defaults that
 * depend on other keys (ports per mode, NAT addresses, SRTP "auto") and
 * refuses combinations that cannot work. It parses every address again, so
 * a configuration built by hand (tests, the API) gets the same checks.
 */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "sbc/sbc.h"

enum {
	PORT_PUBLIC = 5063,
	PORT_PRIVATE = 5064,
	PORT_CHAIN = 5065, /* between chained WAN and LAN elements */
	PORT_SIP = 5060,
	PORT_SIPS = 5061,
	RTP_MIN = 1024,
	RTP_MAX = 65535,
	RTP_PORTS_MIN = 4, /* RTP + RTCP on each side */
};

static const char *const mode_names[] = {
	[SBC_MODE_OFF] = "off",
	[SBC_MODE_STANDARD] = "standard",
	[SBC_MODE_WAN] = "wan",
	[SBC_MODE_LAN] = "lan",
};

/** Which protocols one side runs */
struct side_tps {
	bool tls, udp, tcp;
};


/**
 * Parse an SBC mode name
 *
 * @param m Returned mode
 * @param s "off", "standard", "wan" or "lan" (any case)
 *
 * @return 0 if success, EINVAL if s names no mode
 */
int sbc_mode_parse(enum sbc_mode *m, const char *s)
{
	if (!m || !s)
		return EINVAL;

	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++) {
		if (!strcasecmp(s, mode_names[i])) {
			*m = (enum sbc_mode)i;
			return 0;
		}
	}

	return EINVAL;
}


/**
 * Name of an SBC mode, as sbc_mode_parse() reads it
 *
 * @param m Mode
 *
 * @return The name, "?" for a value outside the enum
 */
const char *sbc_mode_name(enum sbc_mode m)
{
	if ((unsigned)m >= ARRAY_SIZE(mode_names))
		return "?";

	return mode_names[m];
}


/* A required or optional address key; why names it */
static int addr_get(struct sa *sa, const char *key, const char *val,
		    bool port_ok, bool required, const char *what,
		    const char *mode, char *why, size_t sz)
{
	if (!val[0]) {
		if (!required)
			return ENOENT;
		re_snprintf(why, sz, "%s is required when sbc_mode is %s: %s",
			    key, mode, what);
		return EINVAL;
	}

	if (addr_literal_parse(sa, val, port_ok)) {
		re_snprintf(why, sz,
			    "%s = \"%s\": syntax error: expected an IPv4 or "
			    "IPv6 address other than 0.0.0.0 and "
			    "255.255.255.255%s",
			    key, val,
			    port_ok ? ", with an optional :port" : "");
		return EINVAL;
	}

	return 0;
}


static int port_get(uint16_t *port, const char *key, uint32_t val,
		    uint16_t def, char *why, size_t sz)
{
	if (val > 65535) {
		re_snprintf(why, sz,
			    "%s = %u: expected a port from 1 to 65535, or 0 "
			    "for the default (%u)",
			    key, val, def);
		return EINVAL;
	}

	*port = val ? (uint16_t)val : def;

	return 0;
}


static int tps_get(struct side_tps *t, const char *key, const char *val,
		   bool public_side, char *why, size_t sz)
{
	memset(t, 0, sizeof(*t));

	if (!strcasecmp(val, "tls")) {
		t->tls = true;
	}
	else if (!strcasecmp(val, "tls+udp/tcp")) {
		t->tls = t->udp = t->tcp = true;
	}
	else if (!public_side && !strcasecmp(val, "udp/tcp")) {
		t->udp = t->tcp = true;
	}
	else if (!strcasecmp(val, "udp/tcp")) {
		re_snprintf(why, sz,
			    "%s = \"%s\": UDP/TCP alone is not allowed on the"
			    " public side: expected one of tls, tls+udp/tcp",
			    key, val);
		return EINVAL;
	}
	else {
		re_snprintf(why, sz,
			    "%s = \"%s\": expected one of tls, "
			    "tls+udp/tcp%s",
			    key, val, public_side ? "" : ", udp/tcp");
		return EINVAL;
	}

	return 0;
}


static int srtp_get(int *srtp, const char *key, const char *val, bool tls,
		    char *why, size_t sz)
{
	if (!val[0] || !strcasecmp(val, "auto"))
		*srtp = tls ? MNEG_SRTP_ENFORCED : MNEG_SRTP_DISABLED;
	else if (!strcasecmp(val, "disabled"))
		*srtp = MNEG_SRTP_DISABLED;
	else if (!strcasecmp(val, "allowed"))
		*srtp = MNEG_SRTP_ALLOWED;
	else if (!strcasecmp(val, "enforced"))
		*srtp = MNEG_SRTP_ENFORCED;
	else {
		re_snprintf(why, sz,
			    "%s = \"%s\": expected one of auto, disabled, "
			    "allowed, enforced",
			    key, val);
		return EINVAL;
	}

	return 0;
}


static int pbx_tp_get(int *tp, const char *val, char *why, size_t sz)
{
	if (!strcasecmp(val, "udp"))
		*tp = SIP_TRANSP_UDP;
	else if (!strcasecmp(val, "tcp"))
		*tp = SIP_TRANSP_TCP;
	else if (!val[0] || !strcasecmp(val, "tls"))
		*tp = SIP_TRANSP_TLS;
	else {
		re_snprintf(why, sz,
			    "sbc_pbx_transport = \"%s\": expected one of udp,"
			    " tcp, tls",
			    val);
		return EINVAL;
	}

	return 0;
}


/* Public side: IP2, IP1, protocols and port */
static int public_resolve(struct sbc_conf *sc, const struct relais_config *cfg,
			  const char *mode, char *why, size_t sz)
{
	struct side_tps t;
	uint16_t port;
	int err;

	err = addr_get(&sc->pub_if, "sbc_public_interface",
		       cfg->sbc_public_interface, false, true,
		       "the public interface address (IP2)", mode, why, sz);
	if (err)
		return err;

	err = port_get(&port, "sbc_public_port", cfg->sbc_public_port,
		       sc->mode == SBC_MODE_LAN ? PORT_CHAIN : PORT_PUBLIC,
		       why, sz);
	if (err)
		return err;

	sa_set_port(&sc->pub_if, port);

	err = addr_get(&sc->pub_nat, "sbc_public_nat", cfg->sbc_public_nat,
		       false, false, "", mode, why, sz);
	if (err == ENOENT)
		sc->pub_nat = sc->pub_if;
	else if (err)
		return err;

	sa_set_port(&sc->pub_nat, port);

	err = tps_get(&t, "sbc_public_transports", cfg->sbc_public_transports,
		      true, why, sz);
	if (err)
		return err;

	sc->pub_tls = t.tls;
	sc->pub_udp = t.udp;
	sc->pub_tcp = t.tcp;

	return 0;
}


/* Private side: IP3, IP4, protocols and port */
static int private_resolve(struct sbc_conf *sc,
			   const struct relais_config *cfg, const char *mode,
			   char *why, size_t sz)
{
	struct side_tps t;
	uint16_t port;
	int err;

	err = addr_get(&sc->priv_if, "sbc_private_interface",
		       cfg->sbc_private_interface, false, true,
		       "the private interface address (IP3)", mode, why, sz);
	if (err)
		return err;

	err = port_get(&port, "sbc_private_port", cfg->sbc_private_port,
		       sc->mode == SBC_MODE_WAN ? PORT_CHAIN : PORT_PRIVATE,
		       why, sz);
	if (err)
		return err;

	sa_set_port(&sc->priv_if, port);

	err = addr_get(&sc->priv_nat, "sbc_private_nat", cfg->sbc_private_nat,
		       false, false, "", mode, why, sz);
	if (err == ENOENT)
		sc->priv_nat = sc->priv_if;
	else if (err)
		return err;

	sa_set_port(&sc->priv_nat, port);

	err = tps_get(&t, "sbc_private_transports",
		      cfg->sbc_private_transports, false, why, sz);
	if (err)
		return err;

	sc->priv_tls = t.tls;
	sc->priv_udp = t.udp;
	sc->priv_tcp = t.tcp;

	return 0;
}


static bool priv_has_tp(const struct sbc_conf *sc, int tp)
{
	switch (tp) {

	case SIP_TRANSP_UDP:
		return sc->priv_udp;
	case SIP_TRANSP_TCP:
		return sc->priv_tcp;
	case SIP_TRANSP_TLS:
		return sc->priv_tls;
	default:
		return false;
	}
}


/* IP5 and the protocol toward it; in wan mode, the LAN element */
static int pbx_resolve(struct sbc_conf *sc, const struct relais_config *cfg,
		       const char *mode, char *why, size_t sz)
{
	uint16_t def;
	int err;

	err = pbx_tp_get(&sc->pbx_tp, cfg->sbc_pbx_transport, why, sz);
	if (err)
		return err;

	err = addr_get(&sc->pbx, "sbc_pbx", cfg->sbc_pbx, true, true,
		       sc->mode == SBC_MODE_WAN
			   ? "the address of the LAN element (IP5)"
			   : "the address of the PBX (IP5)",
		       mode, why, sz);
	if (err)
		return err;

	if (sc->mode == SBC_MODE_WAN)
		def = PORT_CHAIN;
	else if (sc->pbx_tp == SIP_TRANSP_TLS)
		def = PORT_SIPS;
	else
		def = PORT_SIP;

	if (!sa_port(&sc->pbx))
		sa_set_port(&sc->pbx, def);

	if (!priv_has_tp(sc, sc->pbx_tp)) {
		re_snprintf(why, sz,
			    "sbc_pbx_transport = %s is not enabled on the "
			    "private side (sbc_private_transports = %s)",
			    cfg->sbc_pbx_transport[0] ? cfg->sbc_pbx_transport
						      : "tls",
			    cfg->sbc_private_transports);
		return EINVAL;
	}

	return 0;
}


static int rtp_resolve(struct sbc_conf *sc, const struct relais_config *cfg,
		       char *why, size_t sz)
{
	uint32_t lo = cfg->sbc_rtp_port_min, hi = cfg->sbc_rtp_port_max;

	if (lo < RTP_MIN || hi > RTP_MAX || lo >= hi ||
	    hi - lo + 1 < RTP_PORTS_MIN) {
		re_snprintf(why, sz,
			    "sbc_rtp_port_min/sbc_rtp_port_max = %u-%u: "
			    "expected a range within %u-%u of at least %u "
			    "ports (RTP and RTCP on each side of a call)",
			    lo, hi, RTP_MIN, RTP_MAX, RTP_PORTS_MIN);
		return EINVAL;
	}

	sc->rtp_min = (uint16_t)lo;
	sc->rtp_max = (uint16_t)hi;

	return 0;
}


/* The addresses that must not coincide */
static int overlap_check(const struct sbc_conf *sc, char *why, size_t sz)
{
	if (sa_cmp(&sc->pub_if, &sc->priv_if, SA_ALL)) {
		re_snprintf(why, sz,
			    "the public side (sbc_public_interface, "
			    "sbc_public_port) and the private side "
			    "(sbc_private_interface, sbc_private_port) are "
			    "both %J: they need a different address or port",
			    &sc->pub_if);
		return EINVAL;
	}

	if (sa_cmp(&sc->pbx, &sc->priv_if, SA_ALL) ||
	    sa_cmp(&sc->pbx, &sc->pub_if, SA_ALL)) {
		re_snprintf(why, sz,
			    "sbc_pbx (%J) is one of the SBC's own listening "
			    "addresses",
			    &sc->pbx);
		return EINVAL;
	}

	return 0;
}


/**
 * Resolve and validate the sbc_* keys of the config file. Messages name
 * the key and what is allowed (SPEC §4: 0.0.0.0 and 255.255.255.255 are
 * a syntax error; an RTP range gives the allowed range).
 *
 * With sbc_mode off only sc->mode is set (SBC_MODE_OFF) and nothing else
 * is checked.
 *
 * @param sc  Returned settings, every default applied
 * @param cfg Configuration file values
 * @param why Returned message on error (may be NULL)
 * @param sz  Size of why
 *
 * @return 0 if success, otherwise EINVAL with why set
 */
int sbc_conf_resolve(struct sbc_conf *sc, const struct relais_config *cfg,
		     char *why, size_t sz)
{
	char dummy[1];
	const char *mode;
	int err;

	if (!why || !sz) {
		why = dummy;
		sz = sizeof(dummy);
	}
	why[0] = '\0';

	if (!sc || !cfg)
		return EINVAL;

	memset(sc, 0, sizeof(*sc));

	if (sbc_mode_parse(&sc->mode, cfg->sbc_mode)) {
		re_snprintf(why, sz,
			    "sbc_mode = \"%s\": expected one of off, "
			    "standard, wan, lan",
			    cfg->sbc_mode);
		return EINVAL;
	}

	if (sc->mode == SBC_MODE_OFF)
		return 0;

	mode = sbc_mode_name(sc->mode);

	err = public_resolve(sc, cfg, mode, why, sz);
	if (err)
		return err;

	err = private_resolve(sc, cfg, mode, why, sz);
	if (err)
		return err;

	err = pbx_resolve(sc, cfg, mode, why, sz);
	if (err)
		return err;

	err = addr_get(&sc->wan_peer, "sbc_wan_peer", cfg->sbc_wan_peer, false,
		       sc->mode == SBC_MODE_LAN,
		       "the address of the WAN element, the only source the "
		       "public side serves",
		       mode, why, sz);
	if (err && err != ENOENT)
		return err;

	err = rtp_resolve(sc, cfg, why, sz);
	if (err)
		return err;

	err = overlap_check(sc, why, sz);
	if (err)
		return err;

	sc->rtp_port_change = cfg->sbc_rtp_port_change;
	sc->symmetric_rtp = cfg->sbc_symmetric_rtp;

	err = srtp_get(&sc->pub_srtp, "sbc_public_srtp", cfg->sbc_public_srtp,
		       sc->pub_tls, why, sz);
	if (err)
		return err;

	return srtp_get(&sc->priv_srtp, "sbc_private_srtp",
			cfg->sbc_private_srtp, sc->pbx_tp == SIP_TRANSP_TLS,
			why, sz);
}

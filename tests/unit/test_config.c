/**
 * @file test_config.c  Configuration loading and validation
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "sbc/sbc.h"


static char *write_conf(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/relais-test-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);

	return path;
}


static int load(const char *text, struct relais_config *cfg, char *err,
		size_t errsz)
{
	char *path = write_conf(text);
	int r = config_load(cfg, path, err, errsz);

	unlink(path);
	return r;
}


static void test_defaults(void **state)
{
	struct relais_config cfg;
	char err[512] = "";
	(void)state;

	assert_int_equal(load("# nothing\n\n", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.sip_udp_listen, "127.0.0.1:5060");
	assert_string_equal(cfg.sip_tls_listen, "127.0.0.1:5061");
	assert_int_equal(cfg.rtp_port_min, 20000);
	assert_int_equal(cfg.rtp_port_max, 27999);
	assert_int_equal(cfg.log_level, LOG_LVL_INFO);
}


static void test_values(void **state)
{
	struct relais_config cfg;
	char err[512] = "";
	(void)state;

	assert_int_equal(load("sip_udp_listen = 127.0.0.2:5070\n"
			      "  rtp_port_min=30000   \n"
			      "rtp_port_max = 30099 # not a comment\n",
			      &cfg, err, sizeof(err)),
			 EINVAL);
	assert_non_null(strstr(err, "rtp_port_max"));

	assert_int_equal(load("sip_udp_listen = 127.0.0.2:5070\n"
			      "  rtp_port_min=30000   \n"
			      "rtp_port_max = 30099\n"
			      "log_level = debug\n"
			      "sip_tls_listen =\n"
			      "codecs = PCMU, PCMA\n",
			      &cfg, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.sip_udp_listen, "127.0.0.2:5070");
	assert_int_equal(cfg.rtp_port_min, 30000);
	assert_int_equal(cfg.rtp_port_max, 30099);
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_string_equal(cfg.sip_tls_listen, "");
}


static void test_errors_name_key_and_range(void **state)
{
	struct relais_config cfg;
	char err[512];
	static const struct {
		const char *text;
		const char *want[3];
	} cases[] = {
		{ "rtp_port_min = 80\n",
		  { ":1:", "rtp_port_min", "from 1024 to 65532" } },
		{ "\nrtp_port_min = 20000x\n",
		  { ":2:", "rtp_port_min", "integer" } },
		{ "rtp_port_min = 99999999999999999999999\n",
		  { "rtp_port_min", "integer", NULL } },
		{ "media_timeout = -5\n",
		  { "media_timeout", "0 to 3600", NULL } },
		{ "nosuchkey = 1\n", { "unknown key", "nosuchkey", NULL } },
		{ "sip_udp_listen = 127.0.0.1\n",
		  { "sip_udp_listen", "address:port", NULL } },
		{ "sip_udp_listen = nonsense:5060\n",
		  { "sip_udp_listen", NULL, NULL } },
		{ "media_address = 0.0.0.0\n",
		  { "media_address", NULL, NULL } },
		{ "log_level = loud\n", { "log_level", "debug, info", NULL } },
		{ "codecs = PCMA,OPUSX\n", { "codecs", "PCMA", NULL } },
		{ "auth_algorithms = SHA-512\n",
		  { "auth_algorithms", "MD5", NULL } },
		{ "just some words\n", { "key = value", NULL, NULL } },
		{ "rtp_port_min = 30000\nrtp_port_max = 30001\n",
		  { "4 ports", NULL, NULL } },
		{ "reg_min_expires = 4000\n",
		  { "reg_min_expires", NULL, NULL } },
		{ "sip_udp_listen =\nsip_tcp_listen=\nsip_tls_listen=\n",
		  { "at least one transport", NULL, NULL } },
	};

	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_not_equal(load(cases[i].text, &cfg, err,
					  sizeof(err)),
				     0);
		for (int j = 0; j < 3 && cases[i].want[j]; j++) {
			if (!strstr(err, cases[i].want[j]))
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
					 err, cases[i].want[j]);
		}
	}
}


static void test_missing_file(void **state)
{
	struct relais_config cfg;
	char err[512] = "";
	(void)state;

	assert_int_equal(config_load(&cfg, "/nonexistent/relais.conf", err,
				     sizeof(err)),
			 ENOENT);
	assert_non_null(strstr(err, "/nonexistent/relais.conf"));
}


static void test_reload_keeps_fixed_keys(void **state)
{
	struct relais_config cfg;
	char err[512] = "";
	char *path;
	FILE *f;
	(void)state;

	path = write_conf("rtp_port_min = 30000\nrtp_port_max = 30099\n"
			  "log_level = info\n");
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("rtp_port_min = 40000\nrtp_port_max = 40099\n"
	      "log_level = debug\nmedia_timeout = 15\n",
	      f);
	fclose(f);

	assert_int_equal(config_reload(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_int_equal(cfg.media_timeout, 15);
	assert_int_equal(cfg.rtp_port_min, 30000); /* needs a restart */

	/* an invalid file changes nothing */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("log_level = warning\nmedia_timeout = 99999\n", f);
	fclose(f);
	assert_int_not_equal(config_reload(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_int_equal(cfg.media_timeout, 15);

	unlink(path);
}


static void test_num_strict(void **state)
{
	uint32_t v = 7;
	struct pl pl;
	(void)state;

	assert_int_equal(num_u32_str("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(num_u32_str("12x", 0, 100, &v), EINVAL);
	assert_int_equal(num_u32_str("", 0, 100, &v), EINVAL);
	assert_int_equal(num_u32_str("-1", 0, 100, &v), EINVAL);
	assert_int_equal(num_u32_str(" 1", 0, 100, &v), EINVAL);
	assert_int_equal(num_u32_str("101", 0, 100, &v), ERANGE);
	assert_int_equal(num_u32_str("4294967297", 0, UINT32_MAX, &v), ERANGE);
	assert_int_equal(num_u32_str("99999999999999999999999", 0, UINT32_MAX,
				     &v),
			 EINVAL);
	assert_int_equal(v, 42);

	pl_set_str(&pl, "  3600\r\n");
	text_trim(&pl);
	assert_int_equal(num_u32(&pl, 0, 86400, &v), 0);
	assert_int_equal(v, 3600);
}


/* ---- sbc_* keys (issue 4) ------------------------------------------- */

static void assert_has(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("\"%s\" lacks \"%s\"", text, want);
}


static void test_sbc_defaults(void **state)
{
	struct relais_config cfg;
	char err[512] = "";
	(void)state;

	assert_int_equal(load("\n", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.sbc_mode, "off");
	assert_string_equal(cfg.sbc_public_interface, "");
	assert_string_equal(cfg.sbc_public_nat, "");
	assert_string_equal(cfg.sbc_public_transports, "tls");
	assert_int_equal(cfg.sbc_public_port, 0);
	assert_string_equal(cfg.sbc_private_interface, "");
	assert_string_equal(cfg.sbc_private_nat, "");
	assert_string_equal(cfg.sbc_private_transports, "tls+udp/tcp");
	assert_int_equal(cfg.sbc_private_port, 0);
	assert_string_equal(cfg.sbc_pbx, "");
	assert_string_equal(cfg.sbc_pbx_transport, "tls");
	assert_string_equal(cfg.sbc_wan_peer, "");
	assert_int_equal(cfg.sbc_rtp_port_min, 20000);
	assert_int_equal(cfg.sbc_rtp_port_max, 27999);
	assert_false(cfg.sbc_rtp_port_change);
	assert_true(cfg.sbc_symmetric_rtp);
	assert_string_equal(cfg.sbc_public_srtp, "auto");
	assert_string_equal(cfg.sbc_private_srtp, "auto");
}


static void test_sbc_values(void **state)
{
	struct relais_config cfg;
	char err[512] = "";
	(void)state;

	assert_int_equal(load("sbc_mode = Standard\n"
			      "sbc_public_interface = 127.0.20.1\n"
			      "sbc_public_nat = 203.0.113.5\n"
			      "sbc_public_transports = TLS+UDP/TCP\n"
			      "sbc_public_port = 5070\n"
			      "sbc_private_interface = 2001:db8::3\n"
			      "sbc_private_nat = 2001:db8::4\n"
			      "sbc_private_transports = udp/tcp\n"
			      "sbc_private_port = 65535\n"
			      "sbc_pbx = [2001:db8::5]:5080\n"
			      "sbc_pbx_transport = udp\n"
			      "sbc_wan_peer = 198.51.100.7\n"
			      "sbc_rtp_port_min = 1024\n"
			      "sbc_rtp_port_max = 1027\n"
			      "sbc_rtp_port_change = yes\n"
			      "sbc_symmetric_rtp = no\n"
			      "sbc_public_srtp = enforced\n"
			      "sbc_private_srtp = Disabled\n",
			      &cfg, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.sbc_mode, "standard");
	assert_string_equal(cfg.sbc_public_interface, "127.0.20.1");
	assert_string_equal(cfg.sbc_public_nat, "203.0.113.5");
	assert_string_equal(cfg.sbc_public_transports, "tls+udp/tcp");
	assert_int_equal(cfg.sbc_public_port, 5070);
	assert_string_equal(cfg.sbc_private_interface, "2001:db8::3");
	assert_string_equal(cfg.sbc_private_nat, "2001:db8::4");
	assert_string_equal(cfg.sbc_private_transports, "udp/tcp");
	assert_int_equal(cfg.sbc_private_port, 65535);
	assert_string_equal(cfg.sbc_pbx, "[2001:db8::5]:5080");
	assert_string_equal(cfg.sbc_pbx_transport, "udp");
	assert_string_equal(cfg.sbc_wan_peer, "198.51.100.7");
	assert_int_equal(cfg.sbc_rtp_port_min, 1024);
	assert_int_equal(cfg.sbc_rtp_port_max, 1027);
	assert_true(cfg.sbc_rtp_port_change);
	assert_false(cfg.sbc_symmetric_rtp);
	assert_string_equal(cfg.sbc_public_srtp, "enforced");
	assert_string_equal(cfg.sbc_private_srtp, "disabled");

	/* the other modes, a PBX without port, bools spelt otherwise */
	assert_int_equal(load("sbc_mode = wan\nsbc_pbx = 127.0.40.1\n"
			      "sbc_symmetric_rtp = off\n"
			      "sbc_rtp_port_change = TRUE\n",
			      &cfg, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.sbc_mode, "wan");
	assert_string_equal(cfg.sbc_pbx, "127.0.40.1");
	assert_false(cfg.sbc_symmetric_rtp);
	assert_true(cfg.sbc_rtp_port_change);
	assert_int_equal(load("sbc_mode = lan\nsbc_pbx = 127.0.40.1:5061\n"
			      "sbc_private_srtp = allowed\n",
			      &cfg, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.sbc_mode, "lan");
	assert_string_equal(cfg.sbc_private_srtp, "allowed");
}


static void test_sbc_errors(void **state)
{
	struct relais_config cfg;
	char err[512];
	static const char *const addr_keys[] = {
		"sbc_public_interface",
		"sbc_public_nat",
		"sbc_private_interface",
		"sbc_private_nat",
		"sbc_pbx",
		"sbc_wan_peer",
	};
	static const char *const bad_addrs[] = {
		"0.0.0.0",     "255.255.255.255", "::",
		"[::]:5060",   "pbx.example.com", "192.0.2.300",
		"192.0.2.1:x", "[2001:db8::1",	  "0.0.0.0:5060",
	};
	static const struct {
		const char *text;
		const char *want[3];
	} cases[] = {
		{ "sbc_mode = dmz\n",
		  { ":1:", "sbc_mode", "one of off, standard, wan, lan" } },
		{ "sbc_public_transports = udp/tcp\n",
		  { "sbc_public_transports", "one of tls, tls+udp/tcp",
		    NULL } },
		{ "sbc_private_transports = sctp\n",
		  { "sbc_private_transports",
		    "one of tls, tls+udp/tcp, udp/tcp", NULL } },
		{ "sbc_pbx_transport = ws\n",
		  { "sbc_pbx_transport", "one of udp, tcp, tls", NULL } },
		{ "sbc_public_srtp = maybe\n",
		  { "sbc_public_srtp",
		    "one of auto, disabled, allowed, enforced", NULL } },
		{ "sbc_private_srtp = on\n",
		  { "sbc_private_srtp", "one of auto", NULL } },
		{ "sbc_symmetric_rtp = sometimes\n",
		  { "sbc_symmetric_rtp", "yes or no", NULL } },
		{ "sbc_rtp_port_change = 2\n",
		  { "sbc_rtp_port_change", "yes or no", NULL } },
		{ "sbc_public_port = 65536\n",
		  { "sbc_public_port", "from 0 to 65535", NULL } },
		{ "sbc_private_port = -1\n",
		  { "sbc_private_port", "from 0 to 65535", NULL } },
		{ "sbc_rtp_port_min = 1023\n",
		  { "sbc_rtp_port_min", "from 1024 to 65532", NULL } },
		{ "sbc_rtp_port_max = 65536\n",
		  { "sbc_rtp_port_max", "from 1027 to 65535", NULL } },
		{ "sbc_rtp_port_min = 30000\nsbc_rtp_port_max = 30002\n",
		  { "sbc_rtp_port_max", "4 ports", "1024-65535" } },
		{ "sbc_rtp_port_min = 30000\nsbc_rtp_port_max = 20000\n",
		  { "sbc_rtp_port_max", "4 ports", NULL } },
		{ "sbc_public_interface = 192.0.2.1:5063\n",
		  { "sbc_public_interface", "syntax error", NULL } },
		{ "sbc_pbx = 192.0.2.1:0\n",
		  { "sbc_pbx", "syntax error", "1-65535" } },
		{ "sbc_pbx = 192.0.2.1:65536\n",
		  { "sbc_pbx", "syntax error", NULL } },
	};
	char text[128];

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(addr_keys); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(bad_addrs); j++) {
			re_snprintf(text, sizeof(text), "\n%s = %s\n",
				    addr_keys[i], bad_addrs[j]);
			err[0] = '\0';
			assert_int_equal(load(text, &cfg, err, sizeof(err)),
					 EINVAL);
			assert_has(err, ":2:");
			assert_has(err, addr_keys[i]);
			assert_has(err, "syntax error");
			assert_has(err, "0.0.0.0 and 255.255.255.255");
		}
	}

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = '\0';
		assert_int_equal(load(cases[i].text, &cfg, err, sizeof(err)),
				 EINVAL);
		for (int j = 0; j < 3 && cases[i].want[j]; j++) {
			if (!strstr(err, cases[i].want[j]))
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
					 err, cases[i].want[j]);
		}
	}
}


/* Host data: SIGHUP changes none of the sbc_* keys */
static void test_sbc_not_reloaded(void **state)
{
	struct relais_config cfg;
	char err[512] = "";
	char *path;
	FILE *f;
	(void)state;

	path = write_conf("sbc_mode = standard\nsbc_pbx = 127.0.40.1\n"
			  "sbc_symmetric_rtp = yes\n");
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("sbc_mode = off\nsbc_pbx = 127.0.40.2\n"
	      "sbc_symmetric_rtp = no\nsbc_public_srtp = disabled\n",
	      f);
	fclose(f);

	assert_int_equal(config_reload(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(cfg.sbc_mode, "standard");
	assert_string_equal(cfg.sbc_pbx, "127.0.40.1");
	assert_true(cfg.sbc_symmetric_rtp);
	assert_string_equal(cfg.sbc_public_srtp, "auto");

	unlink(path);
}


static void test_sbc_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	(void)state;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(config_print_help(f), 0);
	fclose(f);
	assert_has(buf, "sbc_public_nat");
	assert_has(buf, "one of off, standard, wan, lan");
	assert_has(buf, "yes or no; default: \"yes\"");
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(config_print_example(f), 0);
	fclose(f);
	assert_has(buf, "\nsbc_mode = off\n");
	assert_has(buf, "\nsbc_symmetric_rtp = yes\n");
	assert_has(buf, "\nsbc_rtp_port_change = no\n");
	assert_has(buf, "\nsbc_private_transports = tls+udp/tcp\n");
	free(buf);
}


/* ---- sbc_conf_resolve() ----------------------------------------------- */

/* A standard SBC on the test address plan, nothing else set */
static void sbc_cfg(struct relais_config *cfg, const char *mode)
{
	*cfg = config_defaults;
	str_ncpy(cfg->sbc_mode, mode, sizeof(cfg->sbc_mode));
	str_ncpy(cfg->sbc_public_interface, "127.0.20.1",
		 sizeof(cfg->sbc_public_interface));
	str_ncpy(cfg->sbc_private_interface, "127.0.30.1",
		 sizeof(cfg->sbc_private_interface));
	str_ncpy(cfg->sbc_pbx, "127.0.40.1", sizeof(cfg->sbc_pbx));
}


static void assert_sa(const struct sa *sa, const char *addr, uint16_t port)
{
	char buf[64];

	re_snprintf(buf, sizeof(buf), "%j", sa);
	assert_string_equal(buf, addr);
	assert_int_equal(sa_port(sa), port);
}


static void test_resolve_off(void **state)
{
	struct relais_config cfg = config_defaults;
	struct sbc_conf sc;
	char why[256] = "x";
	(void)state;

	memset(&sc, 0xa5, sizeof(sc));
	str_ncpy(cfg.sbc_pbx, "junk", sizeof(cfg.sbc_pbx));
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)), 0);
	assert_int_equal(sc.mode, SBC_MODE_OFF);
	assert_string_equal(why, "");
	assert_int_equal(EINVAL, sbc_conf_resolve(NULL, &cfg, why, 8));
	assert_int_equal(EINVAL, sbc_conf_resolve(&sc, NULL, why, 8));
}


static void test_resolve_standard(void **state)
{
	struct relais_config cfg;
	struct sbc_conf sc;
	char why[256] = "";
	(void)state;

	sbc_cfg(&cfg, "standard");
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)), 0);
	assert_int_equal(sc.mode, SBC_MODE_STANDARD);
	assert_sa(&sc.pub_if, "127.0.20.1", 5063);
	assert_sa(&sc.pub_nat, "127.0.20.1", 5063);
	assert_true(sc.pub_tls);
	assert_false(sc.pub_udp);
	assert_false(sc.pub_tcp);
	assert_sa(&sc.priv_if, "127.0.30.1", 5064);
	assert_sa(&sc.priv_nat, "127.0.30.1", 5064);
	assert_true(sc.priv_tls && sc.priv_udp && sc.priv_tcp);
	assert_sa(&sc.pbx, "127.0.40.1", 5061);
	assert_int_equal(sc.pbx_tp, SIP_TRANSP_TLS);
	assert_false(sa_isset(&sc.wan_peer, SA_ADDR));
	assert_int_equal(sc.rtp_min, 20000);
	assert_int_equal(sc.rtp_max, 27999);
	assert_false(sc.rtp_port_change);
	assert_true(sc.symmetric_rtp);
	assert_int_equal(sc.pub_srtp, MNEG_SRTP_ENFORCED);
	assert_int_equal(sc.priv_srtp, MNEG_SRTP_ENFORCED);

	/* NAT on both sides, UDP to the PBX, everything set */
	str_ncpy(cfg.sbc_public_nat, "203.0.113.5",
		 sizeof(cfg.sbc_public_nat));
	str_ncpy(cfg.sbc_private_nat, "10.1.1.4", sizeof(cfg.sbc_private_nat));
	str_ncpy(cfg.sbc_public_transports, "tls+udp/tcp",
		 sizeof(cfg.sbc_public_transports));
	str_ncpy(cfg.sbc_pbx_transport, "udp", sizeof(cfg.sbc_pbx_transport));
	str_ncpy(cfg.sbc_wan_peer, "198.51.100.7", sizeof(cfg.sbc_wan_peer));
	cfg.sbc_public_port = 5070;
	cfg.sbc_private_port = 5071;
	cfg.sbc_rtp_port_min = 40000;
	cfg.sbc_rtp_port_max = 40003;
	cfg.sbc_rtp_port_change = true;
	cfg.sbc_symmetric_rtp = false;
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)), 0);
	assert_sa(&sc.pub_if, "127.0.20.1", 5070);
	assert_sa(&sc.pub_nat, "203.0.113.5", 5070);
	assert_true(sc.pub_tls && sc.pub_udp && sc.pub_tcp);
	assert_sa(&sc.priv_if, "127.0.30.1", 5071);
	assert_sa(&sc.priv_nat, "10.1.1.4", 5071);
	assert_sa(&sc.pbx, "127.0.40.1", 5060);
	assert_int_equal(sc.pbx_tp, SIP_TRANSP_UDP);
	assert_sa(&sc.wan_peer, "198.51.100.7", 0);
	assert_int_equal(sc.rtp_min, 40000);
	assert_int_equal(sc.rtp_max, 40003);
	assert_true(sc.rtp_port_change);
	assert_false(sc.symmetric_rtp);
	assert_int_equal(sc.pub_srtp, MNEG_SRTP_ENFORCED);
	assert_int_equal(sc.priv_srtp, MNEG_SRTP_DISABLED);

	/* explicit values win over auto; a PBX port is kept */
	str_ncpy(cfg.sbc_public_srtp, "disabled", sizeof(cfg.sbc_public_srtp));
	str_ncpy(cfg.sbc_private_srtp, "enforced",
		 sizeof(cfg.sbc_private_srtp));
	str_ncpy(cfg.sbc_pbx, "127.0.40.1:5080", sizeof(cfg.sbc_pbx));
	str_ncpy(cfg.sbc_pbx_transport, "tcp", sizeof(cfg.sbc_pbx_transport));
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)), 0);
	assert_int_equal(sc.pub_srtp, MNEG_SRTP_DISABLED);
	assert_int_equal(sc.priv_srtp, MNEG_SRTP_ENFORCED);
	assert_sa(&sc.pbx, "127.0.40.1", 5080);
	assert_int_equal(sc.pbx_tp, SIP_TRANSP_TCP);

	/* IPv6 PBX */
	str_ncpy(cfg.sbc_pbx, "[::1]:5090", sizeof(cfg.sbc_pbx));
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)), 0);
	assert_sa(&sc.pbx, "::1", 5090);
}


static void test_resolve_chained(void **state)
{
	struct relais_config cfg;
	struct sbc_conf sc;
	char why[256] = "";
	(void)state;

	/* WAN element: private side and "PBX" (the LAN element) on 5065 */
	sbc_cfg(&cfg, "wan");
	str_ncpy(cfg.sbc_private_interface, "127.0.21.1",
		 sizeof(cfg.sbc_private_interface));
	str_ncpy(cfg.sbc_pbx, "127.0.22.1", sizeof(cfg.sbc_pbx));
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)), 0);
	assert_int_equal(sc.mode, SBC_MODE_WAN);
	assert_sa(&sc.pub_if, "127.0.20.1", 5063);
	assert_sa(&sc.priv_if, "127.0.21.1", 5065);
	assert_sa(&sc.pbx, "127.0.22.1", 5065);
	assert_int_equal(sc.pbx_tp, SIP_TRANSP_TLS);

	/* LAN element: public side on 5065, serves the WAN element only */
	sbc_cfg(&cfg, "lan");
	str_ncpy(cfg.sbc_public_interface, "127.0.22.1",
		 sizeof(cfg.sbc_public_interface));
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)),
			 EINVAL);
	assert_has(why, "sbc_wan_peer");
	assert_has(why, "required");
	assert_has(why, "lan");

	str_ncpy(cfg.sbc_wan_peer, "127.0.21.1", sizeof(cfg.sbc_wan_peer));
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)), 0);
	assert_int_equal(sc.mode, SBC_MODE_LAN);
	assert_sa(&sc.pub_if, "127.0.22.1", 5065);
	assert_sa(&sc.priv_if, "127.0.30.1", 5064);
	assert_sa(&sc.pbx, "127.0.40.1", 5061);
	assert_sa(&sc.wan_peer, "127.0.21.1", 0);
}


static void test_resolve_refusals(void **state)
{
	struct relais_config cfg;
	struct sbc_conf sc;
	char why[256];
	static const struct {
		const char *key;
		const char *val;
		const char *want[3];
	} cases[] = {
		{ "sbc_mode", "dmz", { "sbc_mode", "off, standard", NULL } },
		{ "sbc_public_interface",
		  "",
		  { "sbc_public_interface", "required", "IP2" } },
		{ "sbc_private_interface",
		  "",
		  { "sbc_private_interface", "required", "IP3" } },
		{ "sbc_pbx", "", { "sbc_pbx", "required", "IP5" } },
		{ "sbc_public_interface",
		  "0.0.0.0",
		  { "sbc_public_interface", "syntax error", NULL } },
		{ "sbc_public_nat",
		  "255.255.255.255",
		  { "sbc_public_nat", "syntax error", NULL } },
		{ "sbc_private_interface",
		  "::",
		  { "sbc_private_interface", "syntax error", NULL } },
		{ "sbc_private_nat",
		  "10.0.0.x",
		  { "sbc_private_nat", "syntax error", NULL } },
		{ "sbc_pbx",
		  "255.255.255.255:5060",
		  { "sbc_pbx", "syntax error", NULL } },
		{ "sbc_wan_peer",
		  "0.0.0.0",
		  { "sbc_wan_peer", "syntax error", NULL } },
		{ "sbc_public_transports",
		  "udp/tcp",
		  { "sbc_public_transports", "public side", NULL } },
		{ "sbc_private_transports",
		  "udp",
		  { "sbc_private_transports", "udp/tcp", NULL } },
		{ "sbc_pbx_transport",
		  "ws",
		  { "sbc_pbx_transport", "udp, tcp, tls", NULL } },
		{ "sbc_public_srtp",
		  "maybe",
		  { "sbc_public_srtp", "auto, disabled", NULL } },
		{ "sbc_private_srtp",
		  "yes",
		  { "sbc_private_srtp", "enforced", NULL } },
		{ "sbc_public_interface",
		  "127.0.30.1",
		  { "127.0.30.1:5064", "different", NULL } },
		{ "sbc_pbx", "127.0.30.1:5064", { "sbc_pbx", "own", NULL } },
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *dst = NULL;
		size_t sz = 0;

		sbc_cfg(&cfg, "standard");
		if (!strcmp(cases[i].key, "sbc_public_interface") &&
		    !strcmp(cases[i].val, "127.0.30.1"))
			cfg.sbc_public_port = 5064;

#define FIELD(k)                                                              \
	if (!strcmp(cases[i].key, #k)) {                                      \
		dst = cfg.k;                                                  \
		sz = sizeof(cfg.k);                                           \
	}
		FIELD(sbc_mode)
		FIELD(sbc_public_interface)
		FIELD(sbc_public_nat)
		FIELD(sbc_public_transports)
		FIELD(sbc_private_interface)
		FIELD(sbc_private_nat)
		FIELD(sbc_private_transports)
		FIELD(sbc_pbx)
		FIELD(sbc_pbx_transport)
		FIELD(sbc_wan_peer)
		FIELD(sbc_public_srtp)
		FIELD(sbc_private_srtp)
#undef FIELD
		assert_non_null(dst);
		str_ncpy(dst, cases[i].val, sz);

		why[0] = '\0';
		assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)),
				 EINVAL);
		for (int j = 0; j < 3 && cases[i].want[j]; j++) {
			if (!strstr(why, cases[i].want[j]))
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
					 why, cases[i].want[j]);
		}
	}
}


static void test_resolve_numbers(void **state)
{
	struct relais_config cfg;
	struct sbc_conf sc;
	char why[256];
	(void)state;

	/* the PBX transport must be enabled on the private side */
	sbc_cfg(&cfg, "standard");
	str_ncpy(cfg.sbc_private_transports, "tls",
		 sizeof(cfg.sbc_private_transports));
	str_ncpy(cfg.sbc_pbx_transport, "udp", sizeof(cfg.sbc_pbx_transport));
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)),
			 EINVAL);
	assert_has(why, "sbc_pbx_transport = udp");
	assert_has(why, "not enabled");
	assert_has(why, "sbc_private_transports = tls");

	sbc_cfg(&cfg, "standard");
	str_ncpy(cfg.sbc_private_transports, "udp/tcp",
		 sizeof(cfg.sbc_private_transports));
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)),
			 EINVAL);
	assert_has(why, "sbc_pbx_transport = tls");

	str_ncpy(cfg.sbc_pbx_transport, "tcp", sizeof(cfg.sbc_pbx_transport));
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)), 0);
	assert_false(sc.priv_tls);
	assert_true(sc.priv_udp && sc.priv_tcp);
	assert_int_equal(sc.priv_srtp, MNEG_SRTP_DISABLED);

	/* RTP range: at least 4 ports, within 1024-65535 */
	static const uint32_t bad[][2] = {
		{ 30000, 30002 }, { 30000, 30000 }, { 30000, 20000 },
		{ 80, 1000 },	  { 1024, 70000 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		sbc_cfg(&cfg, "standard");
		cfg.sbc_rtp_port_min = bad[i][0];
		cfg.sbc_rtp_port_max = bad[i][1];
		why[0] = '\0';
		assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)),
				 EINVAL);
		assert_has(why, "sbc_rtp_port_min");
		assert_has(why, "1024-65535");
		assert_has(why, "at least 4 ports");
	}
	sbc_cfg(&cfg, "standard");
	cfg.sbc_rtp_port_min = 65532;
	cfg.sbc_rtp_port_max = 65535;
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)), 0);

	/* ports */
	sbc_cfg(&cfg, "standard");
	cfg.sbc_public_port = 65536;
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)),
			 EINVAL);
	assert_has(why, "sbc_public_port");
	assert_has(why, "1 to 65535");
	sbc_cfg(&cfg, "standard");
	cfg.sbc_private_port = 100000;
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)),
			 EINVAL);
	assert_has(why, "sbc_private_port");

	/* same address, different ports: fine */
	sbc_cfg(&cfg, "standard");
	str_ncpy(cfg.sbc_private_interface, "127.0.20.1",
		 sizeof(cfg.sbc_private_interface));
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, why, sizeof(why)), 0);

	/* a NULL why is allowed */
	cfg.sbc_public_port = 5064;
	assert_int_equal(sbc_conf_resolve(&sc, &cfg, NULL, 0), EINVAL);
}


static void test_sbc_mode_names(void **state)
{
	enum sbc_mode m = SBC_MODE_OFF;
	(void)state;

	assert_int_equal(sbc_mode_parse(&m, "WAN"), 0);
	assert_int_equal(m, SBC_MODE_WAN);
	assert_int_equal(sbc_mode_parse(&m, "lan"), 0);
	assert_int_equal(m, SBC_MODE_LAN);
	assert_int_equal(sbc_mode_parse(&m, "standard"), 0);
	assert_int_equal(m, SBC_MODE_STANDARD);
	assert_int_equal(sbc_mode_parse(&m, "off"), 0);
	assert_int_equal(m, SBC_MODE_OFF);
	assert_int_equal(sbc_mode_parse(&m, "dmz"), EINVAL);
	assert_int_equal(sbc_mode_parse(&m, ""), EINVAL);
	assert_int_equal(sbc_mode_parse(NULL, "off"), EINVAL);
	assert_int_equal(sbc_mode_parse(&m, NULL), EINVAL);
	assert_int_equal(m, SBC_MODE_OFF);

	assert_string_equal(sbc_mode_name(SBC_MODE_OFF), "off");
	assert_string_equal(sbc_mode_name(SBC_MODE_STANDARD), "standard");
	assert_string_equal(sbc_mode_name(SBC_MODE_WAN), "wan");
	assert_string_equal(sbc_mode_name(SBC_MODE_LAN), "lan");
	assert_string_equal(sbc_mode_name((enum sbc_mode)42), "?");
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors_name_key_and_range),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_reload_keeps_fixed_keys),
		cmocka_unit_test(test_num_strict),
		cmocka_unit_test(test_sbc_defaults),
		cmocka_unit_test(test_sbc_values),
		cmocka_unit_test(test_sbc_errors),
		cmocka_unit_test(test_sbc_not_reloaded),
		cmocka_unit_test(test_sbc_help),
		cmocka_unit_test(test_resolve_off),
		cmocka_unit_test(test_resolve_standard),
		cmocka_unit_test(test_resolve_chained),
		cmocka_unit_test(test_resolve_refusals),
		cmocka_unit_test(test_resolve_numbers),
		cmocka_unit_test(test_sbc_mode_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

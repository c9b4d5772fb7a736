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


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors_name_key_and_range),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_reload_keeps_fixed_keys),
		cmocka_unit_test(test_num_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/**
 * @file fuzz_sbc.c  libFuzzer target: the SBC's handling of network input,
 *                   on both of its sides
 *
 * One SBC (sbc_alloc: two SIP stacks, guard, registrations, calls, media)
 * is built once, with a small PBX in this process behind it (a libre SIP
 * stack on 127.0.40.1 that accepts every REGISTER and answers every INVITE
 * with an SDP answer). A phone at 127.0.10.1 registers through the SBC
 * first, so the PBX knows its token. Then every input is one datagram:
 * one that names the token "rw0000000000000000" is sent from the PBX's
 * address to the private side with the phone's real token in its place
 * (so INVITEs toward the phone reach the call code); any other goes from
 * the phone to the public side. The security level
 * is "none" and the deny-list is emptied after each input, so a denied
 * source does not hide the rest of the run (malicious-call detection
 * still runs). Input is capped at 8 KiB.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "media/media.h"
#include "media/media_int.h"
#include "sip/sip.h"
#include "sbc/sbc.h"
#include "sbc/sbc_int.h"

enum {
	MAX_INPUT = 8192,
	LOOP_MS = 2,
	PUB_PORT = 25063,
	PRIV_PORT = 25064,
	PBX_PORT = 25060,
	TOKEN_LEN = 18,
};

static const char token_mark[] = "rw0000000000000000";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	struct relais_config cfg;
	struct store *st;
	struct sbc *sbc;
	struct sip *pbx; /* the PBX behind the SBC */
	struct sip_lsnr *pbx_lsnr;
	struct sa pub_addr;
	struct sa priv_addr;
	char token[TOKEN_LEN + 1];
	int fd_phone;
	int fd_pbx;
	bool ready;
} fz;


static void timeout_handler(void *arg)
{
	(void)arg;
	re_cancel();
}


static void loop_run(uint32_t ms)
{
	struct tmr tmr;

	tmr_init(&tmr);
	tmr_start(&tmr, ms, timeout_handler, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr);
}


static char dbdir[] = "/tmp/relais-fuzzsbc-XXXXXX";


static void dbdir_remove(void)
{
	char path[96];
	const char *files[] = { "f.db", "f.db-wal", "f.db-shm", "tls.pem" };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		re_snprintf(path, sizeof(path), "%s/%s", dbdir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(dbdir);
}


/* The PBX: REGISTER 200 (the token is kept), INVITE 200 with SDP, the
   rest 200; ACK is swallowed */
static bool pbx_request(const struct sip_msg *msg, void *arg)
{
	static const char sdp[] = "v=0\r\n"
				  "o=- 1 1 IN IP4 127.0.40.1\r\n"
				  "s=-\r\n"
				  "c=IN IP4 127.0.40.1\r\n"
				  "t=0 0\r\n"
				  "m=audio 40000 RTP/AVP 8 101\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n";
	const struct sip_hdr *hdr;
	struct sip_addr addr;
	(void)arg;

	if (!pl_strcmp(&msg->met, "ACK"))
		return true;

	if (!pl_strcmp(&msg->met, "REGISTER")) {
		hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
		if (hdr && !sip_addr_decode(&addr, &hdr->val) &&
		    addr.uri.user.l == TOKEN_LEN)
			(void)pl_strcpy(&addr.uri.user, fz.token,
					sizeof(fz.token));
		(void)sip_treplyf(NULL, NULL, fz.pbx, msg, false, 200, "OK",
				  "Contact: %r\r\n"
				  "Expires: 3600\r\n"
				  "Content-Length: 0\r\n\r\n",
				  hdr ? &hdr->val : &pl_null);
		return true;
	}

	if (!pl_strcmp(&msg->met, "INVITE")) {
		(void)sip_treplyf(NULL, NULL, fz.pbx, msg, false, 200, "OK",
				  "Contact: <sip:pbx@127.0.40.1:%u>\r\n"
				  "Content-Type: application/sdp\r\n"
				  "Content-Length: %zu\r\n\r\n%s",
				  PBX_PORT, sizeof(sdp) - 1, sdp);
		return true;
	}

	(void)sip_treplyf(NULL, NULL, fz.pbx, msg, false, 200, "OK",
			  "Content-Length: 0\r\n\r\n");
	return true;
}


static int pbx_setup(void)
{
	struct sa laddr;

	(void)sa_set_str(&laddr, "127.0.40.1", PBX_PORT);

	if (sip_alloc(&fz.pbx, NULL, 32, 32, 32, "fuzz-pbx", NULL, NULL) ||
	    sip_transp_add(fz.pbx, SIP_TRANSP_UDP, &laddr) ||
	    sip_listen(&fz.pbx_lsnr, fz.pbx, true, pbx_request, NULL))
		return EINVAL;

	return 0;
}


static void conf_setup(void)
{
	struct relais_config *c = &fz.cfg;

	*c = config_defaults;
	c->sip_udp_listen[0] = '\0';
	c->sip_tcp_listen[0] = '\0';
	c->sip_tls_listen[0] = '\0';
	re_snprintf(c->db_path, sizeof(c->db_path), "%s/f.db", dbdir);
	re_snprintf(c->tls_cert, sizeof(c->tls_cert), "%s/tls.pem", dbdir);
	str_ncpy(c->sbc_mode, "standard", sizeof(c->sbc_mode));
	str_ncpy(c->sbc_public_interface, "127.0.20.1",
		 sizeof(c->sbc_public_interface));
	str_ncpy(c->sbc_public_transports, "tls+udp/tcp",
		 sizeof(c->sbc_public_transports));
	c->sbc_public_port = PUB_PORT;
	str_ncpy(c->sbc_private_interface, "127.0.30.1",
		 sizeof(c->sbc_private_interface));
	str_ncpy(c->sbc_private_transports, "udp/tcp",
		 sizeof(c->sbc_private_transports));
	c->sbc_private_port = PRIV_PORT;
	re_snprintf(c->sbc_pbx, sizeof(c->sbc_pbx), "127.0.40.1:%u", PBX_PORT);
	str_ncpy(c->sbc_pbx_transport, "udp", sizeof(c->sbc_pbx_transport));
	c->sbc_rtp_port_min = 46000;
	c->sbc_rtp_port_max = 46999;
}


static int security_none(void)
{
	struct store_sbcsec s;

	memset(&s, 0, sizeof(s));
	str_ncpy(s.level, "none", sizeof(s.level));
	s.dos_threshold = guard_conf_default.dos_threshold;
	s.dos_window = guard_conf_default.dos_window;
	s.dos_period = guard_conf_default.dos_period;
	s.ddos_threshold = guard_conf_default.ddos_threshold;
	s.ddos_window = guard_conf_default.ddos_window;
	s.bf_failures = guard_conf_default.bf_failures;
	s.bf_window = guard_conf_default.bf_window;
	s.bf_period = guard_conf_default.bf_period;
	s.deny_max = guard_conf_default.deny_max;

	return store_sbcsec_set(fz.st, &s);
}


static int udp_bound(const char *ip)
{
	struct sa sa;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)sa_set_str(&sa, ip, 0);
	if (fd < 0 || bind(fd, &sa.u.sa, sa.len) < 0) {
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}

	return fd;
}


/* The phone registers through the SBC: the PBX learns its token */
static int phone_register(void)
{
	char req[768];
	struct sa local;
	socklen_t len = sizeof(local.u);
	int n;

	if (getsockname(fz.fd_phone, &local.u.sa, &len) < 0)
		return EINVAL;
	local.len = len;

	n = re_snprintf(req, sizeof(req),
			"REGISTER sip:127.0.20.1:%u SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %J;branch=z9hG4bK-fzsbc-1;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:100@127.0.20.1>;tag=fz1\r\n"
			"To: <sip:100@127.0.20.1>\r\n"
			"Call-ID: fzsbc-reg-1\r\n"
			"CSeq: 1 REGISTER\r\n"
			"Contact: <sip:100@%J>\r\n"
			"Expires: 3600\r\n"
			"Content-Length: 0\r\n\r\n",
			PUB_PORT, &local, &local);
	if (n <= 0)
		return EINVAL;

	(void)sendto(fz.fd_phone, req, (size_t)n, 0, &fz.pub_addr.u.sa,
		     fz.pub_addr.len);

	for (int i = 0; i < 100 && !fz.token[0]; i++)
		loop_run(10);

	return fz.token[0] ? 0 : ETIMEDOUT;
}


static int setup(void)
{
	log_setup(LOG_LVL_ERROR, LOG_TARGET_STDERR);
	if (libre_init() || !mkdtemp(dbdir))
		return EINVAL;
	atexit(dbdir_remove);

	conf_setup();
	(void)sa_set_str(&fz.pub_addr, "127.0.20.1", PUB_PORT);
	(void)sa_set_str(&fz.priv_addr, "127.0.30.1", PRIV_PORT);

	if (store_open(&fz.st, fz.cfg.db_path) || security_none() ||
	    pbx_setup() || sbc_alloc(&fz.sbc, &fz.cfg, fz.st) || !fz.sbc)
		return EINVAL;

	fz.fd_phone = udp_bound("127.0.10.1");
	fz.fd_pbx = udp_bound("127.0.40.1");
	if (fz.fd_phone < 0 || fz.fd_pbx < 0)
		return EINVAL;

	return phone_register();
}


/* see fuzz_handler.c: relays freed by a worker are in flight for a
   moment; wait, bounded, until every pair not held by a call is back */
static void media_settle(void)
{
	struct portpool *pp = media_pool(fz.sbc->media);

	for (int i = 0; i < 500; i++) {
		if (portpool_free_count(pp) + 2 * sbc_call_count(fz.sbc) >=
		    portpool_capacity(pp))
			return;
		(void)usleep(1000);
	}
}


static void drain(int fd)
{
	uint8_t buf[2048];

	for (int i = 0; i < 16; i++) {
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			break;
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MAX_INPUT];
	bool priv;

	if (!fz.ready) {
		if (setup()) {
			fprintf(stderr, "fuzz_sbc: setup failed\n");
			abort();
		}
		fz.ready = true;
	}

	if (size > MAX_INPUT)
		return 0;

	priv = false;
	memcpy(buf, data, size);
	for (size_t i = 0; i + TOKEN_LEN <= size; i++) {
		if (!memcmp(buf + i, token_mark, TOKEN_LEN)) {
			memcpy(buf + i, fz.token, TOKEN_LEN);
			priv = true;
		}
	}

	if (priv) {
		(void)sendto(fz.fd_pbx, buf, size, 0, &fz.priv_addr.u.sa,
			     fz.priv_addr.len);
	}
	else {
		(void)sendto(fz.fd_phone, buf, size, 0, &fz.pub_addr.u.sa,
			     fz.pub_addr.len);
	}

	loop_run(LOOP_MS);
	media_settle();

	(void)guard_deny_clear(sbc_guard(fz.sbc));
	drain(fz.fd_phone);
	drain(fz.fd_pbx);

	return 0;
}

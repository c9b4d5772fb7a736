/**
 * @file fuzz_handler.c  libFuzzer target: relaisd's SIP message handling,
 *                       end to end
 *
 * A relaisd core (store, SIP stack on a UDP loopback port, request filter,
 * registrar, B2BUA, media relay) is built once; every input is sent as one
 * datagram to its SIP port and the libre loop runs until the message has
 * been handled. So the bytes take exactly the path a phone's packet takes:
 * libre's transport and decoder, then our listeners. Extension 101 is
 * registered at a dead loopback port so that INVITEs reach the B2BUA's
 * routing and forking. A carrier trunk at 127.0.0.2 routes every DID to
 * 101 and takes numbers starting with 0: an input whose first byte is odd
 * is sent from 127.0.0.2, so it takes the inbound trunk path (DID rules,
 * SDP through mneg). Input is capped at 8 KiB.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "media/media.h"
#include "media/media_int.h"
#include "sip/sip.h"
#include "pbx/pbx.h"

enum {
	MAX_INPUT = 8192,
	LOOP_MS = 2,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	struct relais_config cfg;
	struct store *st;
	struct sipstack *ss;
	struct sipfilter *filter;
	struct sipauth *auth;
	struct registrar *reg;
	struct media *media;
	struct b2bua *b2bua;
	struct trunks *trunks;
	struct sa sip_addr;
	int fd;
	int fd_trunk; /* from the carrier's address: calls from a trunk */
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


/* the database lives in a directory of its own, removed at exit */
static char dbdir[] = "/tmp/relais-fuzz-XXXXXX";


static void dbdir_remove(void)
{
	char path[64];
	const char *sfx[] = { "", "-wal", "-shm" };

	for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
		re_snprintf(path, sizeof(path), "%s/f.db%s", dbdir, sfx[i]);
		(void)unlink(path);
	}
	(void)rmdir(dbdir);
}


static void media_timeout(const char *tag, void *arg)
{
	(void)arg;
	b2bua_media_timeout(fz.b2bua, tag);
}


/* A carrier at 127.0.0.2 (any port), every DID to 101, 0... out to it */
static int trunk_setup(void)
{
	struct store_trunk t;
	struct store_irule ir;
	struct store_orule orr;
	char why[128];

	memset(&t, 0, sizeof(t));
	str_ncpy(t.name, "carrier", sizeof(t.name));
	if (trunk_profile_apply(&t, "orange-btip", why, sizeof(why)))
		return EINVAL;
	str_ncpy(t.kind, "ip", sizeof(t.kind));
	str_ncpy(t.host, "127.0.0.2", sizeof(t.host));
	str_ncpy(t.srtp, "allowed", sizeof(t.srtp));
	t.options_interval = 0;
	if (trunk_validate(&t, why, sizeof(why)) || store_trunk_add(fz.st, &t))
		return EINVAL;

	memset(&ir, 0, sizeof(ir));
	str_ncpy(ir.name, "all", sizeof(ir.name));
	str_ncpy(ir.did, "*", sizeof(ir.did));
	str_ncpy(ir.dest_open, "extension:101", sizeof(ir.dest_open));
	if (store_irule_add(fz.st, &ir))
		return EINVAL;

	memset(&orr, 0, sizeof(orr));
	str_ncpy(orr.name, "out", sizeof(orr.name));
	str_ncpy(orr.prefix, "0", sizeof(orr.prefix));
	orr.routec = 1;
	str_ncpy(orr.routes[0].trunk, "carrier", sizeof(orr.routes[0].trunk));
	orr.routes[0].strip = 1;
	str_ncpy(orr.routes[0].prepend, "+33", sizeof(orr.routes[0].prepend));
	if (store_orule_add(fz.st, &orr))
		return EINVAL;

	if (trunks_alloc(&fz.trunks, fz.ss, fz.st, &fz.cfg))
		return EINVAL;
	b2bua_set_trunks(fz.b2bua, fz.trunks);

	return 0;
}


static int setup(void)
{
	char why[128];
	struct store_contact c;
	struct sa carrier;
	struct media_conf mc;

	log_setup(LOG_LVL_ERROR, LOG_TARGET_STDERR);
	if (libre_init() || !mkdtemp(dbdir))
		return EINVAL;
	atexit(dbdir_remove);

	fz.cfg = config_defaults;
	str_ncpy(fz.cfg.sip_udp_listen, "127.0.0.1:0",
		 sizeof(fz.cfg.sip_udp_listen));
	fz.cfg.sip_tcp_listen[0] = '\0';
	fz.cfg.sip_tls_listen[0] = '\0';
	re_snprintf(fz.cfg.db_path, sizeof(fz.cfg.db_path), "%s/f.db", dbdir);

	if (store_open(&fz.st, fz.cfg.db_path) ||
	    sipstack_alloc(&fz.ss, &fz.cfg) ||
	    sipfilter_alloc(&fz.filter, fz.ss) ||
	    sipauth_alloc(&fz.auth, fz.st, &fz.cfg) ||
	    registrar_alloc(&fz.reg, fz.ss, fz.auth, fz.st, &fz.cfg))
		return EINVAL;

	memset(&mc, 0, sizeof(mc));
	mc.address = "127.0.0.1";
	mc.port_min = 47000;
	mc.port_max = 47999;
	mc.threads = 1;
	mc.dscp = 46;
	if (media_alloc(&fz.media, &mc, media_timeout, NULL) ||
	    b2bua_alloc(&fz.b2bua, fz.ss, fz.auth, fz.reg, fz.st, fz.media,
			&fz.cfg))
		return EINVAL;

	if (ext_create(fz.st, fz.cfg.sip_realm, "100", "A", "Fuzz-Pass-01",
		       why, sizeof(why)) ||
	    ext_create(fz.st, fz.cfg.sip_realm, "101", "B", "Fuzz-Pass-01",
		       why, sizeof(why)))
		return EINVAL;

	memset(&c, 0, sizeof(c));
	str_ncpy(c.ext, "101", sizeof(c.ext));
	str_ncpy(c.uri, "sip:101@127.0.0.1:9", sizeof(c.uri));
	str_ncpy(c.received, "127.0.0.1:9", sizeof(c.received));
	str_ncpy(c.transport, "udp", sizeof(c.transport));
	c.expires = (int64_t)time(NULL) + 86400;
	if (store_contact_put(fz.st, &c))
		return EINVAL;

	if (trunk_setup())
		return EINVAL;

	if (sip_transp_laddr(sipstack_sip(fz.ss), &fz.sip_addr, SIP_TRANSP_UDP,
			     NULL))
		return EINVAL;

	fz.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fz.fd < 0)
		return EINVAL;

	fz.fd_trunk = socket(AF_INET, SOCK_DGRAM, 0);
	(void)sa_set_str(&carrier, "127.0.0.2", 0);
	if (fz.fd_trunk < 0 ||
	    bind(fz.fd_trunk, &carrier.u.sa, carrier.len) < 0)
		return EINVAL;

	return 0;
}


/*
 * A call's relay is freed by its media worker, after a message that
 * travels through a pipe: while it is in flight, LeakSanitizer (run by
 * libFuzzer after an input) sees the relay as lost. Wait, bounded, until
 * every port pair not held by a call in progress (2 a call) is back
 * in the pool.
 */
static void media_settle(void)
{
	struct portpool *pp = media_pool(fz.media);

	for (int i = 0; i < 500; i++) {
		if (portpool_free_count(pp) + 2 * b2bua_count(fz.b2bua) >=
		    portpool_capacity(pp))
			return;
		(void)usleep(1000);
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz.ready) {
		if (setup()) {
			fprintf(stderr, "fuzz_handler: setup failed\n");
			abort();
		}
		fz.ready = true;
	}

	if (size > MAX_INPUT)
		return 0;

	/* odd first byte: the datagram comes from the carrier trunk */
	(void)sendto(size && (data[0] & 1) ? fz.fd_trunk : fz.fd, data, size,
		     0, &fz.sip_addr.u.sa, fz.sip_addr.len);
	loop_run(LOOP_MS);
	media_settle();

	/* relaisd's answers are not looked at; keep the socket drained */
	for (int i = 0; i < 16; i++) {
		uint8_t buf[2048];

		if (recv(fz.fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 &&
		    recv(fz.fd_trunk, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			break;
	}

	return 0;
}

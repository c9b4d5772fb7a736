/**
 * @file test_relay.c  Media relay on real UDP sockets on 127.0.0.1
 *
 * Two "phones" are plain UDP sockets. The relay runs in its worker
 * threads; this thread is the SIP thread and runs re_main() in bounded
 * slices (STYLE.md §6). Every wait is bounded; nothing asserts a timing.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <cmocka.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "media/media_int.h"

enum {
	RANGE_MIN = 30000,
	RANGE_MAX = 30099,
	RECV_WAIT_MS = 100, /**< one wait for a datagram        */
	ATTEMPTS = 30,	    /**< sends before giving up         */
	PKT_LEN = 172,	    /**< G.711 20 ms: 12 + 160 bytes    */
};

/** A phone: RTP and RTCP sockets */
struct phone {
	int rtp;
	int rtcp;
	struct sa rtp_addr;
	struct sa rtcp_addr;
};


static void timeout_h(void *arg)
{
	int *err = arg;

	*err = ETIMEDOUT;
	re_cancel();
}


/* STYLE.md §6: run the SIP thread's loop for at most ms */
static int loop_run(uint32_t ms)
{
	struct tmr tmr;
	int err = 0;

	tmr_init(&tmr);
	tmr_start(&tmr, ms, timeout_h, &err);
	(void)re_main(NULL);
	tmr_cancel(&tmr);

	return err;
}


static int sock_udp_at(const char *ip, struct sa *addr)
{
	struct sa a;
	int fd;

	assert_int_equal(0, sa_set_str(&a, ip, 0));
	fd = socket(sa_af(&a), SOCK_DGRAM, IPPROTO_UDP);
	assert_true(fd >= 0);
	assert_int_equal(0, bind(fd, &a.u.sa, a.len));

	sa_init(addr, sa_af(&a));
	addr->len = sizeof(addr->u);
	assert_int_equal(0, getsockname(fd, &addr->u.sa, &addr->len));

	return fd;
}


static void phone_open_at(struct phone *ph, const char *ip)
{
	ph->rtp = sock_udp_at(ip, &ph->rtp_addr);
	ph->rtcp = sock_udp_at(ip, &ph->rtcp_addr);
}


static void phone_open(struct phone *ph)
{
	phone_open_at(ph, "127.0.0.1");
}


static void phone_close(struct phone *ph)
{
	(void)close(ph->rtp);
	(void)close(ph->rtcp);
}


static void relay_addr(struct sa *sa, uint16_t port)
{
	assert_int_equal(0, sa_set_str(sa, "127.0.0.1", port));
}


static void send_sa(int fd, const struct sa *dst, const uint8_t *buf,
		    size_t len)
{
	assert_int_equal((ssize_t)len,
			 sendto(fd, buf, len, 0, &dst->u.sa, dst->len));
}


static void send_to(int fd, uint16_t port, const uint8_t *buf, size_t len)
{
	struct sa dst;

	relay_addr(&dst, port);
	send_sa(fd, &dst, buf, len);
}


/* Wait up to RECV_WAIT_MS for one datagram; -1 if none came */
static ssize_t recv_wait(int fd, uint8_t *buf, size_t size, struct sa *src,
			 int *tos)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = RECV_WAIT_MS * 1000 };
	uint8_t ctl[64];
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;

	assert_int_equal(0, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				       sizeof(tv)));

	memset(&msg, 0, sizeof(msg));
	sa_init(src, AF_INET);
	msg.msg_name = &src->u.sa;
	msg.msg_namelen = sizeof(src->u);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl;
	msg.msg_controllen = sizeof(ctl);

	n = recvmsg(fd, &msg, 0);
	if (n < 0)
		return -1;
	src->len = msg.msg_namelen;

	for (cm = CMSG_FIRSTHDR(&msg); tos && cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS)
			*tos = *(uint8_t *)CMSG_DATA(cm);
	}

	return n;
}


/* Empty a socket without waiting */
static void drain(int fd)
{
	uint8_t buf[2048];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}


static void pkt_fill(uint8_t *pkt, uint8_t pt, uint16_t seq)
{
	pkt[0] = 0x80;
	pkt[1] = pt;
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	for (int i = 4; i < PKT_LEN; i++)
		pkt[i] = (uint8_t)(i * 7 + seq);
}


/* Sequence numbers are unique over the run, so a late packet of an
 * earlier check is recognised and skipped. */
static uint16_t seq_next = 1;


/*
 * Send up to `sends` packets from `from` to relay address `dst`, each
 * followed by up to `waits` receive waits on `to`, until one arrives; it
 * must carry the bytes sent and come from relay address `want`.
 *
 * @return number of sends it took, or 0 if none arrived
 */
static int relay_try_sa(int from, const struct sa *dst, int to,
			const struct sa *want, uint8_t pt, int *tos, int sends,
			int waits)
{
	const uint16_t first = seq_next;
	uint8_t pkt[PKT_LEN], got[2048];
	struct sa src;

	for (int i = 1; i <= sends; i++) {
		const uint16_t seq = seq_next++;

		pkt_fill(pkt, pt, seq);
		send_sa(from, dst, pkt, sizeof(pkt));

		for (int w = 0; w < waits; w++) {
			ssize_t n = recv_wait(to, got, sizeof(got), &src, tos);
			uint16_t got_seq;

			if (n < 0)
				continue;

			assert_true(n >= 4);
			got_seq = (uint16_t)(got[2] << 8 | got[3]);
			if ((uint16_t)(got_seq - first) >
			    (uint16_t)(seq - first))
				continue; /* late, from an earlier check */

			pkt_fill(pkt, pt, got_seq);
			assert_int_equal(sizeof(pkt), n);
			assert_memory_equal(pkt, got, sizeof(pkt));
			if (!sa_cmp(&src, want, SA_ALL)) {
				(void)re_fprintf(stderr, "from %J, want %J\n",
						 &src, want);
				fail();
			}

			return i;
		}
	}

	return 0;
}


/* relay_try_sa() with the relay on 127.0.0.1 on both sides */
static int relay_try(int from, uint16_t port, int to, uint16_t via, uint8_t pt,
		     int *tos, int sends, int waits)
{
	struct sa dst, want;

	relay_addr(&dst, port);
	relay_addr(&want, via);

	return relay_try_sa(from, &dst, to, &want, pt, tos, sends, waits);
}


/* Until it goes through: peer updates reach the worker asynchronously */
static int relay_check(int from, uint16_t port, int to, uint16_t via,
		       uint8_t pt, int *tos)
{
	return relay_try(from, port, to, via, pt, tos, ATTEMPTS, 1);
}


/* Exactly one packet, which must not be lost (waits up to 2 s) */
static bool relay_once(int from, uint16_t port, int to, uint16_t via,
		       uint8_t pt)
{
	return relay_try(from, port, to, via, pt, NULL, 1, 20) == 1;
}


static void mconf_init(struct media_conf *conf, uint32_t threads,
		       uint32_t timeout_s)
{
	memset(conf, 0, sizeof(*conf));
	conf->address = "127.0.0.1";
	conf->port_min = RANGE_MIN;
	conf->port_max = RANGE_MAX;
	conf->threads = threads;
	conf->timeout_s = timeout_s;
	conf->dscp = 46;
}


/* All ports back within a bounded number of loop slices */
static void wait_ports_back(struct media *m)
{
	struct portpool *pp = media_pool(m);

	for (int i = 0; i < 200; i++) {
		if (portpool_free_count(pp) == portpool_capacity(pp))
			break;
		(void)loop_run(10);
	}

	assert_int_equal(portpool_capacity(pp), portpool_free_count(pp));
}


static void test_alloc_args(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL;
	(void)state;

	mconf_init(&conf, 1, 0);
	assert_int_equal(EINVAL, media_alloc(NULL, &conf, NULL, NULL));
	assert_int_equal(EINVAL, media_alloc(&m, NULL, NULL, NULL));

	conf.threads = 0;
	assert_int_equal(EINVAL, media_alloc(&m, &conf, NULL, NULL));

	mconf_init(&conf, 1, 0);
	conf.address = "not-an-ip";
	assert_int_equal(EINVAL, media_alloc(&m, &conf, NULL, NULL));
	conf.address = "0.0.0.0";
	assert_int_equal(EINVAL, media_alloc(&m, &conf, NULL, NULL));

	mconf_init(&conf, 1, 0);
	conf.port_min = 30001;
	conf.port_max = 30001;
	assert_int_equal(EINVAL, media_alloc(&m, &conf, NULL, NULL));
	assert_null(m);

	mconf_init(&conf, 2, 0);
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	assert_int_equal(50, portpool_capacity(media_pool(m)));
	assert_int_equal(0, sa_port(media_laddr(m)));
	assert_int_equal(0x7f000001, sa_in(media_laddr(m)));

	assert_int_equal(EINVAL, mcall_alloc(NULL, m, "x"));
	assert_int_equal(EINVAL, mcall_alloc(&mc, NULL, "x"));
	assert_int_equal(EINVAL, mcall_alloc(&mc, m, NULL));
	assert_int_equal(EINVAL, mcall_alloc(&mc, m, ""));
	assert_null(mc);

	assert_int_equal(0, mcall_alloc(&mc, m, "call-args"));
	assert_int_equal(EINVAL, mcall_set_peer(mc, MEDIA_SIDE_A, NULL, NULL));
	assert_int_equal(0, mcall_port(NULL, MEDIA_SIDE_A));
	{
		struct sa v6;

		assert_int_equal(0, sa_set_str(&v6, "::1", 4000));
		assert_int_equal(EAFNOSUPPORT,
				 mcall_set_peer(mc, MEDIA_SIDE_B, &v6, NULL));
	}

	mem_deref(mc);
	wait_ports_back(m);
	mem_deref(m);
}


static void test_relay_both_ways(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL;
	struct phone a, b;
	uint16_t pa, pb;
	int tos = -1, on = 1;
	char buf[256];
	(void)state;

	mconf_init(&conf, 1, 0);
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	assert_int_equal(0, mcall_alloc(&mc, m, "call-both"));

	pa = mcall_port(mc, MEDIA_SIDE_A);
	pb = mcall_port(mc, MEDIA_SIDE_B);
	assert_int_equal(0, pa % 2);
	assert_int_equal(0, pb % 2);
	assert_in_range(pa, RANGE_MIN, RANGE_MAX - 1);
	assert_in_range(pb, RANGE_MIN, RANGE_MAX - 1);
	assert_int_not_equal(pa, pb);
	assert_int_equal(48, portpool_free_count(media_pool(m)));

	phone_open(&a);
	phone_open(&b);
	assert_int_equal(0, setsockopt(b.rtp, IPPROTO_IP, IP_RECVTOS, &on,
				       sizeof(on)));

	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_A, &a.rtp_addr,
					   &a.rtcp_addr));
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_B, &b.rtp_addr,
					   &b.rtcp_addr));

	/* RTP A -> B, marked DSCP 46 (EF) */
	assert_int_not_equal(0, relay_check(a.rtp, pa, b.rtp, pb, 8, &tos));
	assert_int_equal(0xb8, tos);

	/* now that both peers are in place, each packet goes through */
	assert_true(relay_once(b.rtp, pb, a.rtp, pa, 8));
	assert_true(relay_once(a.rtp, pa, b.rtp, pb, 8));

	/* RFC 4733 events are only another payload */
	assert_true(relay_once(a.rtp, pa, b.rtp, pb, 101));
	assert_true(relay_once(b.rtp, pb, a.rtp, pa, 101));

	/* RTCP: port + 1 on both sides */
	assert_true(relay_once(a.rtcp, pa + 1, b.rtcp, pb + 1, 200));
	assert_true(relay_once(b.rtcp, pb + 1, a.rtcp, pa + 1, 201));

	/* nothing crossed over from RTCP to RTP */
	{
		uint8_t got[2048];
		struct sa src;

		assert_true(recv_wait(a.rtp, got, sizeof(got), &src, NULL) <
			    0);
		assert_true(recv_wait(b.rtp, got, sizeof(got), &src, NULL) <
			    0);
	}

	assert_true(re_snprintf(buf, sizeof(buf), "%H", media_debug, m) > 0);
	assert_non_null(strstr(buf, "port pairs 2 used of 50"));

	mem_deref(mc);
	wait_ports_back(m);

	phone_close(&a);
	phone_close(&b);
	mem_deref(m);
}


static void test_latching(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL;
	struct phone a, b, nat;
	uint16_t pa, pb;
	uint8_t got[2048];
	struct sa src;
	(void)state;

	mconf_init(&conf, 1, 0);
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	assert_int_equal(0, mcall_alloc(&mc, m, "call-latch"));
	pa = mcall_port(mc, MEDIA_SIDE_A);
	pb = mcall_port(mc, MEDIA_SIDE_B);

	phone_open(&a);	  /* what side A's SDP says */
	phone_open(&nat); /* where side A really sends from */
	phone_open(&b);

	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_A, &a.rtp_addr,
					   &a.rtcp_addr));
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_B, &b.rtp_addr,
					   &b.rtcp_addr));

	/* A sends from its NAT address: the relay latches to it */
	assert_int_not_equal(0, relay_check(nat.rtp, pa, b.rtp, pb, 8, NULL));
	assert_true(relay_once(b.rtp, pb, nat.rtp, pa, 8));
	assert_true(recv_wait(a.rtp, got, sizeof(got), &src, NULL) < 0);

	/* RTCP latches on its own */
	assert_int_not_equal(0, relay_check(nat.rtcp, pa + 1, b.rtcp, pb + 1,
					    200, NULL));
	assert_true(relay_once(b.rtcp, pb + 1, nat.rtcp, pa + 1, 201));

	/* a re-INVITE gives A's address again: unlatched, SDP wins ... */
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_A, &a.rtp_addr,
					   &a.rtcp_addr));
	assert_int_not_equal(0, relay_check(b.rtp, pb, a.rtp, pa, 8, NULL));
	drain(nat.rtp);

	/* ... until A sends again, from wherever it really is */
	assert_true(relay_once(nat.rtp, pa, b.rtp, pb, 8));
	assert_true(relay_once(b.rtp, pb, nat.rtp, pa, 8));

	mem_deref(mc);
	wait_ports_back(m);

	phone_close(&a);
	phone_close(&b);
	phone_close(&nat);
	mem_deref(m);
}


/* Without a peer on the other side, packets are dropped, not bounced */
static void test_no_peer(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL;
	struct phone a, b;
	uint16_t pa, pb;
	uint8_t pkt[PKT_LEN], got[2048];
	struct sa src;
	(void)state;

	mconf_init(&conf, 1, 0);
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	assert_int_equal(0, mcall_alloc(&mc, m, "call-nopeer"));
	pa = mcall_port(mc, MEDIA_SIDE_A);
	pb = mcall_port(mc, MEDIA_SIDE_B);

	phone_open(&a);
	phone_open(&b);

	/* B is not known yet: A's packets go nowhere */
	pkt_fill(pkt, 8, 1);
	send_to(a.rtp, pa, pkt, sizeof(pkt));
	assert_true(recv_wait(a.rtp, got, sizeof(got), &src, NULL) < 0);
	assert_true(recv_wait(b.rtp, got, sizeof(got), &src, NULL) < 0);

	/* B learnt by latching alone (no SDP for it) */
	assert_int_not_equal(0, relay_check(b.rtp, pb, a.rtp, pa, 8, NULL));
	assert_true(relay_once(a.rtp, pa, b.rtp, pb, 8));

	mem_deref(mc);
	wait_ports_back(m);
	phone_close(&a);
	phone_close(&b);
	mem_deref(m);
}


static void test_two_workers(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mcv[3] = { NULL, NULL, NULL };
	struct phone a, b;
	(void)state;

	mconf_init(&conf, 2, 0);
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	phone_open(&a);
	phone_open(&b);

	for (int i = 0; i < 3; i++) {
		char tag[32];
		uint16_t pa, pb;

		(void)re_snprintf(tag, sizeof(tag), "call-w%d", i);
		assert_int_equal(0, mcall_alloc(&mcv[i], m, tag));
		pa = mcall_port(mcv[i], MEDIA_SIDE_A);
		pb = mcall_port(mcv[i], MEDIA_SIDE_B);

		assert_int_equal(0, mcall_set_peer(mcv[i], MEDIA_SIDE_A,
						   &a.rtp_addr, NULL));
		assert_int_equal(0, mcall_set_peer(mcv[i], MEDIA_SIDE_B,
						   &b.rtp_addr, NULL));
		assert_int_not_equal(0, relay_check(a.rtp, pa, b.rtp, pb, 8,
						    NULL));
		assert_true(relay_once(b.rtp, pb, a.rtp, pa, 8));
	}
	assert_int_equal(44, portpool_free_count(media_pool(m)));

	for (int i = 0; i < 3; i++)
		mem_deref(mcv[i]);
	wait_ports_back(m);

	phone_close(&a);
	phone_close(&b);
	mem_deref(m);
}


static void test_exhaustion(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc1 = NULL, *mc2 = NULL, *mc3 = NULL;
	struct portpool *pp;
	(void)state;

	mconf_init(&conf, 1, 0);
	conf.port_min = 30100;
	conf.port_max = 30109; /* five pairs: two calls and a half */
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	pp = media_pool(m);

	assert_int_equal(0, mcall_alloc(&mc1, m, "call-x1"));
	assert_int_equal(0, mcall_alloc(&mc2, m, "call-x2"));
	assert_int_equal(1, portpool_free_count(pp));

	/* side A gets the last pair, side B none: A's pair comes back */
	assert_int_equal(ENOSPC, mcall_alloc(&mc3, m, "call-x3"));
	assert_null(mc3);
	assert_int_equal(1, portpool_free_count(pp));

	mem_deref(mc1);
	for (int i = 0; i < 200 && portpool_free_count(pp) != 3; i++)
		(void)loop_run(10);
	assert_int_equal(3, portpool_free_count(pp));

	assert_int_equal(0, mcall_alloc(&mc3, m, "call-x3"));
	assert_int_equal(1, portpool_free_count(pp));

	mem_deref(mc2);
	mem_deref(mc3);
	wait_ports_back(m);
	mem_deref(m);
}


static void test_port_in_use(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL;
	struct sa busy;
	int fd;
	(void)state;

	/* another program holds the first RTCP port of the range */
	assert_int_equal(0, sa_set_str(&busy, "127.0.0.1", 30201));
	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	assert_true(fd >= 0);
	assert_int_equal(0, bind(fd, &busy.u.sa, busy.len));

	mconf_init(&conf, 1, 0);
	conf.port_min = 30200;
	conf.port_max = 30209;
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));

	assert_int_equal(0, mcall_alloc(&mc, m, "call-busy"));
	assert_int_equal(30202, mcall_port(mc, MEDIA_SIDE_A));
	assert_int_equal(30204, mcall_port(mc, MEDIA_SIDE_B));

	/* 30200 went back to the pool, behind the others */
	assert_int_equal(3, portpool_free_count(media_pool(m)));

	mem_deref(mc);
	wait_ports_back(m);
	mem_deref(m);
	(void)close(fd);
}


struct tostate {
	unsigned calls;
	char tag[64];
};


static void media_to_h(const char *tag, void *arg)
{
	struct tostate *st = arg;

	++st->calls;
	str_ncpy(st->tag, tag, sizeof(st->tag));
	re_cancel();
}


static void test_timeout(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL, *quiet = NULL;
	struct tostate st;
	(void)state;

	memset(&st, 0, sizeof(st));
	mconf_init(&conf, 1, 1);
	assert_int_equal(0, media_alloc(&m, &conf, media_to_h, &st));
	assert_int_equal(0, mcall_alloc(&mc, m, "call-timeout@example"));

	/* reported within 10 s (1 s timeout, 1 s ticks) */
	for (int i = 0; i < 100 && !st.calls; i++)
		(void)loop_run(100);
	assert_int_equal(1, st.calls);
	assert_string_equal("call-timeout@example", st.tag);

	/* only once */
	(void)loop_run(2500);
	assert_int_equal(1, st.calls);

	/* timeout 0: never; a call made now is not reported */
	media_set_timeout(m, 0);
	assert_int_equal(0, mcall_alloc(&quiet, m, "call-quiet"));
	(void)loop_run(2500);
	assert_int_equal(1, st.calls);

	/* back to 1 s: the quiet call is reported */
	media_set_timeout(m, 1);
	for (int i = 0; i < 100 && st.calls < 2; i++)
		(void)loop_run(100);
	assert_int_equal(2, st.calls);
	assert_string_equal("call-quiet", st.tag);

	/* a peer update re-arms the report */
	{
		struct sa peer;

		assert_int_equal(0, sa_set_str(&peer, "127.0.0.1", 9));
		assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_A, &peer,
						   NULL));
	}
	for (int i = 0; i < 100 && st.calls < 3; i++)
		(void)loop_run(100);
	assert_int_equal(3, st.calls);
	assert_string_equal("call-timeout@example", st.tag);

	mem_deref(mc);
	mem_deref(quiet);
	wait_ports_back(m);
	mem_deref(m);
}


/* Calls alive when the relay goes: their ports still come back */
static void test_destroy_with_calls(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc1 = NULL, *mc2 = NULL;
	struct portpool *pp;
	struct sa peer;
	(void)state;

	mconf_init(&conf, 2, 0);
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	assert_int_equal(0, mcall_alloc(&mc1, m, "call-d1"));
	assert_int_equal(0, mcall_alloc(&mc2, m, "call-d2"));

	pp = mem_ref(media_pool(m));
	assert_int_equal(46, portpool_free_count(pp));

	mem_deref(m);
	assert_int_equal(50, portpool_free_count(pp));

	/* the handles outlive the relay harmlessly */
	assert_int_equal(0, sa_set_str(&peer, "127.0.0.1", 4000));
	assert_int_equal(ENODEV,
			 mcall_set_peer(mc1, MEDIA_SIDE_A, &peer, NULL));
	assert_int_equal(ENODEV, mcall_rebind(mc1, MEDIA_SIDE_A));
	assert_int_equal(ENODEV, mcall_set_latch(mc1, false));
	assert_int_not_equal(0, mcall_port(mc1, MEDIA_SIDE_A));
	mem_deref(mc1);
	mem_deref(mc2);

	mem_deref(pp);
}


/* The relay's address for one side of a call, with our port there */
static void side_addr(struct sa *sa, const struct media *m,
		      enum media_side side, uint16_t port)
{
	*sa = *media_laddr_side(m, side);
	sa_set_port(sa, port);
}


/* Side B bound on its own address (the SBC's private interface) */
static void test_address_b(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL;
	struct phone a, b;
	struct sa ra, rb, v6, wrong;
	uint16_t pa, pb;
	int tos = -1, on = 1;
	char buf[256];
	(void)state;

	mconf_init(&conf, 1, 0);
	conf.address_b = "0.0.0.0";
	assert_int_equal(EINVAL, media_alloc(&m, &conf, NULL, NULL));
	conf.address_b = "bogus";
	assert_int_equal(EINVAL, media_alloc(&m, &conf, NULL, NULL));
	assert_null(m);

	/* "" is the same as NULL: both sides on address */
	conf.address_b = "";
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	assert_true(
	    sa_cmp(media_laddr(m), media_laddr_side(m, MEDIA_SIDE_B), SA_ALL));
	m = mem_deref(m);

	conf.address_b = "127.0.0.2";
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	assert_null(media_laddr_side(NULL, MEDIA_SIDE_A));
	assert_null(media_laddr_side(m, (enum media_side)2));
	assert_int_equal(0x7f000001, sa_in(media_laddr(m)));
	assert_int_equal(0x7f000001, sa_in(media_laddr_side(m, MEDIA_SIDE_A)));
	assert_int_equal(0x7f000002, sa_in(media_laddr_side(m, MEDIA_SIDE_B)));
	assert_int_equal(0, sa_port(media_laddr_side(m, MEDIA_SIDE_B)));

	assert_true(re_snprintf(buf, sizeof(buf), "%H", media_debug, m) > 0);
	assert_non_null(strstr(buf, "side B 127.0.0.2"));

	assert_int_equal(0, mcall_alloc(&mc, m, "call-addr-b"));
	pa = mcall_port(mc, MEDIA_SIDE_A);
	pb = mcall_port(mc, MEDIA_SIDE_B);
	side_addr(&ra, m, MEDIA_SIDE_A, pa);
	side_addr(&rb, m, MEDIA_SIDE_B, pb);

	/* B's port answers on 127.0.0.2 only: nothing on 127.0.0.1 */
	assert_int_equal(0, sa_set_str(&wrong, "127.0.0.1", pb));

	phone_open(&a);
	phone_open_at(&b, "127.0.0.3");
	assert_int_equal(0, setsockopt(b.rtp, IPPROTO_IP, IP_RECVTOS, &on,
				       sizeof(on)));
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_A, &a.rtp_addr,
					   &a.rtcp_addr));
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_B, &b.rtp_addr,
					   &b.rtcp_addr));

	/* A -> 127.0.0.1:pa comes out of 127.0.0.2:pb, marked EF */
	assert_int_not_equal(0, relay_try_sa(a.rtp, &ra, b.rtp, &rb, 8, &tos,
					     ATTEMPTS, 1));
	assert_int_equal(0xb8, tos);

	/* B -> 127.0.0.2:pb comes out of 127.0.0.1:pa */
	assert_int_equal(1,
			 relay_try_sa(b.rtp, &rb, a.rtp, &ra, 8, NULL, 1, 20));
	assert_int_equal(0, relay_try_sa(b.rtp, &wrong, a.rtp, &ra, 8, NULL, 1,
					 2));

	/* RTCP too, on port + 1 of each address */
	sa_set_port(&ra, pa + 1);
	sa_set_port(&rb, pb + 1);
	assert_int_equal(1, relay_try_sa(a.rtcp, &ra, b.rtcp, &rb, 200, NULL,
					 1, 20));
	assert_int_equal(1, relay_try_sa(b.rtcp, &rb, a.rtcp, &ra, 201, NULL,
					 1, 20));

	/* a rebound side B stays on 127.0.0.2 */
	assert_int_equal(0, mcall_rebind(mc, MEDIA_SIDE_B));
	pb = mcall_port(mc, MEDIA_SIDE_B);
	side_addr(&rb, m, MEDIA_SIDE_B, pb);
	sa_set_port(&ra, pa);
	assert_int_not_equal(0, relay_try_sa(b.rtp, &rb, a.rtp, &ra, 8, NULL,
					     ATTEMPTS, 1));
	assert_int_equal(1,
			 relay_try_sa(a.rtp, &ra, b.rtp, &rb, 8, NULL, 1, 20));

	/* the peer's family is checked against the side's sockets */
	assert_int_equal(0, sa_set_str(&v6, "::1", 4000));
	assert_int_equal(EAFNOSUPPORT,
			 mcall_set_peer(mc, MEDIA_SIDE_B, &v6, NULL));

	mem_deref(mc);
	wait_ports_back(m);
	phone_close(&a);
	phone_close(&b);
	mem_deref(m);
}


/* Side B on IPv6, side A on IPv4: each socket speaks its own family */
static void test_address_b_ipv6(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL;
	struct phone a, b;
	struct sa ra, rb, v6;
	(void)state;

	mconf_init(&conf, 1, 0);
	conf.address_b = "::1";
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	assert_int_equal(AF_INET, sa_af(media_laddr_side(m, MEDIA_SIDE_A)));
	assert_int_equal(AF_INET6, sa_af(media_laddr_side(m, MEDIA_SIDE_B)));
	assert_int_equal(0, mcall_alloc(&mc, m, "call-v6"));

	assert_int_equal(0, sa_set_str(&v6, "::1", 4000));
	assert_int_equal(EAFNOSUPPORT,
			 mcall_set_peer(mc, MEDIA_SIDE_A, &v6, NULL));

	phone_open(&a);
	phone_open_at(&b, "::1");
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_A, &a.rtp_addr,
					   &a.rtcp_addr));
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_B, &b.rtp_addr,
					   &b.rtcp_addr));
	side_addr(&ra, m, MEDIA_SIDE_A, mcall_port(mc, MEDIA_SIDE_A));
	side_addr(&rb, m, MEDIA_SIDE_B, mcall_port(mc, MEDIA_SIDE_B));

	assert_int_not_equal(0, relay_try_sa(a.rtp, &ra, b.rtp, &rb, 8, NULL,
					     ATTEMPTS, 1));
	assert_int_equal(1,
			 relay_try_sa(b.rtp, &rb, a.rtp, &ra, 8, NULL, 1, 20));

	mem_deref(mc);
	wait_ports_back(m);
	phone_close(&a);
	phone_close(&b);
	mem_deref(m);
}


static void test_rebind(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL;
	struct portpool *pp;
	struct phone a, b;
	uint16_t pa, pb, pb2;
	uint8_t pkt[PKT_LEN], got[2048];
	struct sa src;
	uint32_t nfree;
	(void)state;

	mconf_init(&conf, 1, 0);
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	pp = media_pool(m);
	assert_int_equal(0, mcall_alloc(&mc, m, "call-rebind"));
	pa = mcall_port(mc, MEDIA_SIDE_A);
	pb = mcall_port(mc, MEDIA_SIDE_B);

	assert_int_equal(EINVAL, mcall_rebind(NULL, MEDIA_SIDE_A));
	assert_int_equal(EINVAL, mcall_rebind(mc, (enum media_side)2));

	phone_open(&a);
	phone_open(&b);
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_A, &a.rtp_addr,
					   &a.rtcp_addr));
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_B, &b.rtp_addr,
					   &b.rtcp_addr));
	assert_int_not_equal(0, relay_check(a.rtp, pa, b.rtp, pb, 8, NULL));
	assert_true(relay_once(b.rtp, pb, a.rtp, pa, 8));
	nfree = portpool_free_count(pp);
	assert_int_equal(48, nfree);

	/* new pair for B at once; the old one comes back once closed */
	assert_int_equal(0, mcall_rebind(mc, MEDIA_SIDE_B));
	pb2 = mcall_port(mc, MEDIA_SIDE_B);
	assert_int_not_equal(pb, pb2);
	assert_int_equal(0, pb2 % 2);
	assert_in_range(pb2, RANGE_MIN, RANGE_MAX - 1);
	assert_int_equal(pa, mcall_port(mc, MEDIA_SIDE_A));
	for (int i = 0; i < 200 && portpool_free_count(pp) != nfree; i++)
		(void)loop_run(10);
	assert_int_equal(nfree, portpool_free_count(pp));

	/* the old port is closed: nothing relayed from it */
	pkt_fill(pkt, 8, seq_next++);
	send_to(b.rtp, pb, pkt, sizeof(pkt));
	assert_true(recv_wait(a.rtp, got, sizeof(got), &src, NULL) < 0);

	/* B's peer was forgotten: A's packets are dropped ... */
	pkt_fill(pkt, 8, seq_next++);
	send_to(a.rtp, pa, pkt, sizeof(pkt));
	assert_true(recv_wait(b.rtp, got, sizeof(got), &src, NULL) < 0);

	/* ... until B sends to its new port and is latched there */
	assert_true(relay_once(b.rtp, pb2, a.rtp, pa, 8));
	assert_true(relay_once(a.rtp, pa, b.rtp, pb2, 8));
	assert_true(relay_once(b.rtcp, pb2 + 1, a.rtcp, pa + 1, 200));
	assert_true(relay_once(a.rtcp, pa + 1, b.rtcp, pb2 + 1, 201));

	/* A side too, with a new SDP peer this time */
	assert_int_equal(0, mcall_rebind(mc, MEDIA_SIDE_A));
	assert_int_not_equal(pa, mcall_port(mc, MEDIA_SIDE_A));
	pa = mcall_port(mc, MEDIA_SIDE_A);
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_A, &a.rtp_addr,
					   &a.rtcp_addr));
	assert_int_not_equal(0, relay_check(b.rtp, pb2, a.rtp, pa, 8, NULL));
	for (int i = 0; i < 200 && portpool_free_count(pp) != nfree; i++)
		(void)loop_run(10);
	assert_int_equal(nfree, portpool_free_count(pp));

	mem_deref(mc);
	wait_ports_back(m);
	phone_close(&a);
	phone_close(&b);
	mem_deref(m);
}


/* No free pair: the call keeps its ports and keeps relaying */
static void test_rebind_exhausted(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL;
	struct phone a, b;
	uint16_t pa, pb;
	(void)state;

	mconf_init(&conf, 1, 0);
	conf.port_min = 30300;
	conf.port_max = 30303; /* two pairs: one call */
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	assert_int_equal(0, mcall_alloc(&mc, m, "call-rebind-full"));
	pa = mcall_port(mc, MEDIA_SIDE_A);
	pb = mcall_port(mc, MEDIA_SIDE_B);
	assert_int_equal(0, portpool_free_count(media_pool(m)));

	phone_open(&a);
	phone_open(&b);
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_A, &a.rtp_addr,
					   &a.rtcp_addr));
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_B, &b.rtp_addr,
					   &b.rtcp_addr));

	assert_int_equal(ENOSPC, mcall_rebind(mc, MEDIA_SIDE_B));
	assert_int_equal(pb, mcall_port(mc, MEDIA_SIDE_B));
	assert_int_equal(0, portpool_free_count(media_pool(m)));

	/* the peers were kept, too */
	assert_int_not_equal(0, relay_check(a.rtp, pa, b.rtp, pb, 8, NULL));
	assert_true(relay_once(b.rtp, pb, a.rtp, pa, 8));

	mem_deref(mc);
	wait_ports_back(m);
	phone_close(&a);
	phone_close(&b);
	mem_deref(m);
}


/* Symmetric RTP off: replies go to the SDP address, whatever the source */
static void test_latch_off(void **state)
{
	struct media_conf conf;
	struct media *m = NULL;
	struct mcall *mc = NULL;
	struct phone a, b, nat;
	uint16_t pa, pb;
	uint8_t got[2048];
	struct sa src;
	(void)state;

	mconf_init(&conf, 1, 0);
	assert_int_equal(0, media_alloc(&m, &conf, NULL, NULL));
	assert_int_equal(0, mcall_alloc(&mc, m, "call-nolatch"));
	pa = mcall_port(mc, MEDIA_SIDE_A);
	pb = mcall_port(mc, MEDIA_SIDE_B);
	assert_int_equal(EINVAL, mcall_set_latch(NULL, false));

	phone_open(&a);	  /* what side A's SDP says */
	phone_open(&nat); /* where side A's packets come from */
	phone_open(&b);

	/* first latched to the NAT address, then latching turned off */
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_A, &a.rtp_addr,
					   &a.rtcp_addr));
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_B, &b.rtp_addr,
					   &b.rtcp_addr));
	assert_int_not_equal(0, relay_check(nat.rtp, pa, b.rtp, pb, 8, NULL));
	assert_true(relay_once(b.rtp, pb, nat.rtp, pa, 8));

	assert_int_equal(0, mcall_set_latch(mc, false));

	/* packets from another source are still relayed ... */
	assert_int_not_equal(0, relay_check(nat.rtp, pa, b.rtp, pb, 8, NULL));

	/* ... but the replies go to the SDP address */
	assert_int_not_equal(0, relay_check(b.rtp, pb, a.rtp, pa, 8, NULL));
	drain(nat.rtp);
	assert_true(relay_once(nat.rtp, pa, b.rtp, pb, 8));
	assert_true(relay_once(b.rtp, pb, a.rtp, pa, 8));
	assert_true(recv_wait(nat.rtp, got, sizeof(got), &src, NULL) < 0);
	assert_true(relay_once(nat.rtcp, pa + 1, b.rtcp, pb + 1, 200));
	assert_true(relay_once(b.rtcp, pb + 1, a.rtcp, pa + 1, 201));

	/* a new SDP address is used as it is */
	assert_int_equal(0, mcall_set_peer(mc, MEDIA_SIDE_B, &nat.rtp_addr,
					   &nat.rtcp_addr));
	assert_int_not_equal(0, relay_check(a.rtp, pa, nat.rtp, pb, 8, NULL));
	assert_true(relay_once(b.rtp, pb, a.rtp, pa, 8));
	assert_true(relay_once(a.rtp, pa, nat.rtp, pb, 8));
	assert_true(recv_wait(b.rtp, got, sizeof(got), &src, NULL) < 0);

	/* on again: the next packet from side B latches */
	assert_int_equal(0, mcall_set_latch(mc, true));
	assert_int_not_equal(0, relay_check(b.rtp, pb, a.rtp, pa, 8, NULL));
	drain(nat.rtp);
	assert_true(relay_once(a.rtp, pa, b.rtp, pb, 8));

	mem_deref(mc);
	wait_ports_back(m);
	phone_close(&a);
	phone_close(&b);
	phone_close(&nat);
	mem_deref(m);
}


static int group_setup(void **state)
{
	(void)state;

	log_setup(LOG_LVL_WARN, LOG_TARGET_STDERR);

	return libre_init();
}


static int group_teardown(void **state)
{
	(void)state;

	libre_close();
	log_close();

	return 0;
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_args),
		cmocka_unit_test(test_relay_both_ways),
		cmocka_unit_test(test_latching),
		cmocka_unit_test(test_no_peer),
		cmocka_unit_test(test_two_workers),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_destroy_with_calls),
		cmocka_unit_test(test_address_b),
		cmocka_unit_test(test_address_b_ipv6),
		cmocka_unit_test(test_rebind),
		cmocka_unit_test(test_rebind_exhausted),
		cmocka_unit_test(test_latch_off),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

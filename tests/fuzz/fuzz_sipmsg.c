/**
 * @file fuzz_sipmsg.c  libFuzzer target: what relaisd does with one
 *                      received SIP message
 *
 * The bytes are decoded as a SIP message the way libre hands it to our
 * listeners (sip_msg_decode() on an mbuf). For a request, every
 * Authorization and Proxy-Authorization header goes through our digest
 * parser, the Expires value through the strict number parser, and a body
 * through the SDP rewriter that anchors media. Input is capped at 8 KiB, a
 * little above the largest datagram relaisd accepts.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"
#include "sip/sip.h"

enum { MAX_INPUT = 8192 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static bool auth_handler(const struct sip_hdr *hdr, const struct sip_msg *msg,
			 void *arg)
{
	struct digest_resp r;
	enum digest_alg alg;
	size_t *n = arg;
	(void)msg;

	memset(&r, 0, sizeof(r));
	if (digest_resp_decode(&r, &hdr->val) == 0) {
		/* the fields are borrowed from the message: touch them */
		if (digest_alg_parse(&alg, &r.algorithm) == 0)
			(void)digest_alg_name(alg);
		*n += r.username.l + r.realm.l + r.nonce.l + r.uri.l +
		      r.response.l + r.cnonce.l + r.qop.l + r.nc.l;
	}

	return false; /* visit every header */
}


static void body_rewrite(const struct sip_msg *msg)
{
	struct sdprw_params p;
	struct sdprw_info info;
	struct mbuf *out = NULL;
	struct pl body;
	struct sa addr;

	if (!mbuf_get_left(msg->mb))
		return;

	body.p = (const char *)mbuf_buf(msg->mb);
	body.l = mbuf_get_left(msg->mb);

	(void)sa_set_str(&addr, "192.0.2.1", 0);
	memset(&p, 0, sizeof(p));
	p.addr = &addr;
	p.port = 20000;
	p.codecs = "PCMA,PCMU,G722,telephone-event";
	p.version = 2;
	p.dir = SDPRW_DIR_KEEP;

	memset(&info, 0, sizeof(info));
	if (sdprw_rewrite(&out, &body, &p, &info) == 0)
		(void)sdprw_dir_answer(info.dir);
	mem_deref(out);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb;
	size_t n = 0;
	uint32_t expires;

	if (size > MAX_INPUT)
		return 0;

	mb = mbuf_alloc(size ? size : 1);
	if (!mb)
		return 0;

	if (size)
		(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;

	if (sip_msg_decode(&msg, mb) == 0 && msg->req) {
		(void)sip_msg_hdr_apply(msg, true, SIP_HDR_AUTHORIZATION,
					auth_handler, &n);
		(void)sip_msg_hdr_apply(msg, true, SIP_HDR_PROXY_AUTHORIZATION,
					auth_handler, &n);
		if (pl_isset(&msg->expires))
			(void)num_u32(&msg->expires, 0, UINT32_MAX, &expires);
		body_rewrite(msg);
	}

	mem_deref(msg);
	mem_deref(mb);

	return 0;
}

/**
 * @file fuzz_mneg.c  libFuzzer target: offer/answer between two legs
 *
 * The first byte chooses the policies (SRTP mode of each side, T.38, and
 * whether the offer is answered locally first). The rest is an SDP offer
 * from side A, then, after the first NUL byte, the answer from side B (the
 * same bytes again when there is no NUL). Legs and peers are read back
 * whatever happened. Input is capped a little above the 16 KiB limit of
 * the parser, so the limit itself is exercised.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "core/core.h"
#include "media/media.h"

enum { MAX_INPUT = 2 * 16384 + 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void state_read(const struct mneg *m)
{
	struct media_leg a, b;
	struct sa rtp, rtcp;

	(void)mneg_legs(m, &a, &b);
	(void)mneg_peer(m, MEDIA_SIDE_A, &rtp, &rtcp);
	(void)mneg_peer(m, MEDIA_SIDE_B, &rtp, NULL);
	(void)mneg_offer_dir(m, MEDIA_SIDE_A);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mneg_policy pa = { "PCMA,PCMU,G722,telephone-event",
				  MNEG_SRTP_ALLOWED, false };
	struct mneg_policy pb = { "G722,PCMA,G729,telephone-event",
				  MNEG_SRTP_ALLOWED, true };
	struct mbuf *out = NULL;
	struct mneg *m = NULL;
	struct pl offer, answer;
	const uint8_t *nul;
	struct sa laddr;
	uint8_t sel;

	if (!size || size > MAX_INPUT)
		return 0;

	sel = data[0];
	++data;
	--size;

	pa.srtp = (enum mneg_srtp)(sel % 3);
	pb.srtp = (enum mneg_srtp)(sel / 3 % 3);
	pa.t38 = (sel & 0x10) != 0;

	offer.p = (const char *)data;
	offer.l = size;
	answer = offer;

	nul = memchr(data, '\0', size);
	if (nul) {
		offer.l = (size_t)(nul - data);
		answer.p = (const char *)nul + 1;
		answer.l = size - offer.l - 1;
	}

	(void)sa_set_str(&laddr, "192.0.2.1", 0);
	if (mneg_alloc(&m, &laddr, 20000, 30000, &pa, &pb))
		return 0;

	if (mneg_offer(m, MEDIA_SIDE_A, &offer, &out) == 0) {
		out = mem_deref(out);

		if (sel & 0x20) {
			(void)mneg_local_answer(m, MEDIA_SIDE_A, &out);
			out = mem_deref(out);
		}

		(void)mneg_answer(m, MEDIA_SIDE_B, &answer, &out);
		out = mem_deref(out);
		state_read(m);

		/* the other way round, on the call state just built */
		if (mneg_offer(m, MEDIA_SIDE_B, &answer, &out) == 0) {
			out = mem_deref(out);
			(void)mneg_local_answer(m, MEDIA_SIDE_B, &out);
			out = mem_deref(out);
		}
	}

	state_read(m);
	mem_deref(m);

	return 0;
}

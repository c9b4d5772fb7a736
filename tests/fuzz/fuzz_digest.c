/**
 * @file fuzz_digest.c  libFuzzer target: the digest credentials parser
 *
 * The bytes are one Authorization header value. They are copied into a
 * buffer of exactly their size, so ASan reports any read past the end.
 * Input is capped at 4 KiB.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "core/core.h"
#include "sip/sip.h"

enum { MAX_INPUT = 4096 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ha1[] = "939e7578ed9e3c518a452acee763bce9";
	struct digest_resp r;
	enum digest_alg alg;
	struct pl hval, met;
	char *buf;

	if (size > MAX_INPUT)
		return 0;

	buf = mem_alloc(size ? size : 1, NULL);
	if (!buf)
		return 0;

	if (size)
		memcpy(buf, data, size);

	hval.p = buf;
	hval.l = size;

	if (digest_resp_decode(&r, &hval) == 0) {
		/* the fields must lie inside the input */
		if (r.response.p < buf ||
		    r.response.p + r.response.l > buf + size)
			__builtin_trap();

		pl_set_str(&met, "REGISTER");
		if (digest_alg_parse(&alg, &r.algorithm) == 0 &&
		    alg == DIGEST_MD5)
			(void)digest_verify(&r, alg, ha1, &met);
	}

	mem_deref(buf);

	return 0;
}

/**
 * @file sipstack.c  SIP transports: UDP, TCP and TLS listeners on libre
 *
 * One struct sip serves every transport; the registrar, the B2BUA and the
 * request filter (sipfilter.c) listen on it. TLS uses the PEM file named by
 * tls_cert, generated self-signed at first start (tlscert.c).
 */

#include <string.h>
#include <re.h>
#include "core/core.h"
#include "sip/sip.h"
#include <openssl/ssl.h>

#define DEBUG_MODULE "sip"

struct sipstack {
	struct sip *sip;
	struct dnsc *dnsc;
	struct tls *tls;
};

/* RFC 8446 / SPEC §2: nothing weaker than these toward anyone */
static const char *tls12_ciphers[] = {
	"ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-RSA-AES128-GCM-SHA256",
	"ECDHE-RSA-AES256-SHA384",
	"ECDHE-RSA-AES128-SHA256",
};


static void destructor(void *arg)
{
	struct sipstack *ss = arg;

	mem_deref(ss->sip);
	mem_deref(ss->tls);
	mem_deref(ss->dnsc);
}


/* TLS 1.2 at least; TLS 1.3 limited to the suites of SPEC §2 */
static int tlsctx_harden(struct tls *tls)
{
	SSL_CTX *ctx = tls_openssl_context(tls);

	if (!ctx)
		return EINVAL;

	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		return EINVAL;

	if (!SSL_CTX_set_ciphersuites(ctx, "TLS_AES_256_GCM_SHA384:"
					   "TLS_AES_128_GCM_SHA256:"
					   "TLS_CHACHA20_POLY1305_SHA256"))
		return EINVAL;

	return 0;
}


static int dns_setup(struct sipstack *ss)
{
	struct sa nsv[8];
	uint32_t nsn = ARRAY_SIZE(nsv);
	char domain[64] = "";
	int err;

	err = dns_srv_get(domain, sizeof(domain), nsv, &nsn);
	if (err || !nsn) {
		(void)sa_set_str(&nsv[0], "127.0.0.1", 53);
		nsn = 1;
	}

	return dnsc_alloc(&ss->dnsc, NULL, nsv, nsn);
}


static int tls_setup(struct sipstack *ss, const struct relais_config *cfg,
		     const struct sa *laddr)
{
	char cn[64];
	int err;

	re_snprintf(cn, sizeof(cn), "%j", laddr);
	err = tlscert_ensure(cfg->tls_cert, cn);
	if (err) {
		log_error("tls: certificate %s unusable: %m", cfg->tls_cert,
			  err);
		return err;
	}

	err = tls_alloc(&ss->tls, TLS_METHOD_SSLV23, cfg->tls_cert, NULL);
	if (err) {
		log_error("tls: cannot load %s: %m", cfg->tls_cert, err);
		return err;
	}

	err =
	    tls_set_ciphers(ss->tls, tls12_ciphers, ARRAY_SIZE(tls12_ciphers));
	if (err)
		return err;

	return tlsctx_harden(ss->tls);
}


static int transp_add(struct sipstack *ss, enum sip_transp tp,
		      const char *addr, const struct relais_config *cfg)
{
	struct sa laddr;
	int err;

	if (!addr[0])
		return 0;

	err = sa_decode(&laddr, addr, strlen(addr));
	if (err)
		return err;

	if (tp == SIP_TRANSP_TLS) {
		err = tls_setup(ss, cfg, &laddr);
		if (err)
			return err;
		err = sip_transp_add(ss->sip, tp, &laddr, ss->tls);
	}
	else {
		err = sip_transp_add(ss->sip, tp, &laddr);
	}

	if (err) {
		log_error("cannot listen for SIP/%s on %J: %m",
			  sip_transp_name(tp), &laddr, err);
		return err;
	}

	log_info("listening for SIP/%s on %J", sip_transp_name(tp), &laddr);
	return 0;
}


/**
 * Create the SIP stack and its listeners
 *
 * @param ssp Pointer to allocated SIP stack
 * @param cfg Configuration (listen addresses, TLS certificate)
 *
 * @return 0 if success, otherwise errorcode
 */
int sipstack_alloc(struct sipstack **ssp, const struct relais_config *cfg)
{
	struct sipstack *ss;
	int err;

	if (!ssp || !cfg)
		return EINVAL;

	ss = mem_zalloc(sizeof(*ss), destructor);
	if (!ss)
		return ENOMEM;

	err = dns_setup(ss);
	if (err)
		goto out;

	err = sip_alloc(&ss->sip, ss->dnsc, 1024, 1024, 256,
			"Relais/" RELAIS_VERSION, NULL, NULL);
	if (err)
		goto out;

	err = transp_add(ss, SIP_TRANSP_UDP, cfg->sip_udp_listen, cfg);
	err |= transp_add(ss, SIP_TRANSP_TCP, cfg->sip_tcp_listen, cfg);
	if (err)
		goto out;
	err = transp_add(ss, SIP_TRANSP_TLS, cfg->sip_tls_listen, cfg);

out:
	if (err)
		mem_deref(ss);
	else
		*ssp = ss;

	return err;
}


struct sip *sipstack_sip(const struct sipstack *ss)
{
	return ss ? ss->sip : NULL;
}

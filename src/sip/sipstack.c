/**
 * @file sipstack.c  SIP transports: UDP, TCP and TLS listeners on libre
 *
 * One struct sip serves every transport; the registrar, the B2BUA and the
 * request filter (sipfilter.c) listen on it. TLS uses the PEM file named by
 * tls_cert, generated self-signed at first start (tlscert.c).
 *
 * TLS policy (SPEC §2), on the one SSL_CTX libre uses for both directions:
 * TLS 1.2 and 1.3 with the suites of SPEC §2 only; peers' certificates
 * must chain to the trust anchors of tls_ca. As a server we ask clients
 * for a certificate as tls_verify_client says; as a client (toward a
 * carrier) we always verify the server's chain and its host name.
 */

#include <string.h>
#include <time.h>
#include <re.h>
#include "core/core.h"
#include "sip/sip.h"
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define DEBUG_MODULE "sip"

struct sipstack {
	struct sip *sip;
	struct dnsc *dnsc;
	struct tls *tls;
	char *tls_cert;	       /**< key and chain file, for reloads   */
	bool tls_ca;	       /**< trust anchors were configured     */
	bool verify_none;      /**< tls_verify_client = none          */
	struct trunks *trunks; /**< TLS trunk host names, not owned   */
	char server_name[64];  /**< another name servers may present */
	struct tmr tmr_expiry; /**< daily certificate expiry check    */
};

/* RFC 8446 / SPEC §2: nothing weaker than these toward anyone */
static const char *tls12_ciphers[] = {
	"ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-RSA-AES128-GCM-SHA256",
	"ECDHE-RSA-AES256-SHA384",
	"ECDHE-RSA-AES128-SHA256",
};


enum {
	EXPIRY_WARN_DAYS = 30,
	EXPIRY_CHECK_MS = 24 * 3600 * 1000,
	ALERT_CERT_REQUIRED = 116, /* RFC 8446 6.2 */
};


static void destructor(void *arg)
{
	struct sipstack *ss = arg;

	tmr_cancel(&ss->tmr_expiry);
	if (ss->tls)
		SSL_CTX_set_app_data(tls_openssl_context(ss->tls), NULL);

	mem_deref(ss->sip);
	mem_deref(ss->tls);
	mem_deref(ss->tls_cert);
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


enum { DNS_SERVERS_MAX = 8 };


/* dns_servers: "ip[:port],ip[:port]" (checked by config.c), port 53 */
static int dns_servers_parse(struct sa *nsv, uint32_t *nsn, const char *list)
{
	struct pl rest, item;
	uint32_t n = 0;

	pl_set_str(&rest, list);
	while (rest.l && n < *nsn) {
		const char *comma = pl_strchr(&rest, ',');

		item.p = rest.p;
		item.l = comma ? (size_t)(comma - rest.p) : rest.l;
		text_trim(&item);
		if (sa_set(&nsv[n], &item, DNS_PORT) &&
		    sa_decode(&nsv[n], item.p, item.l))
			return EINVAL;
		++n;
		if (!comma)
			break;
		rest.l -= (size_t)(comma + 1 - rest.p);
		rest.p = comma + 1;
	}

	*nsn = n;
	return n ? 0 : EINVAL;
}


/*
 * The DNS client libre's SIP stack resolves trunk hosts with (RFC 3263)
 * and trunk.c queries for the addresses it accepts calls from: the servers
 * of dns_servers, else those of /etc/resolv.conf.
 */
static int dns_setup(struct sipstack *ss, const struct relais_config *cfg)
{
	struct sa nsv[DNS_SERVERS_MAX];
	uint32_t nsn = ARRAY_SIZE(nsv);
	char domain[64] = "";
	int err;

	if (cfg->dns_servers[0]) {
		err = dns_servers_parse(nsv, &nsn, cfg->dns_servers);
		if (err) {
			log_error("dns_servers: cannot use '%s'",
				  cfg->dns_servers);
			return err;
		}
	}
	else {
		err = dns_srv_get(domain, sizeof(domain), nsv, &nsn);
		if (err || !nsn) {
			(void)sa_set_str(&nsv[0], "127.0.0.1", DNS_PORT);
			nsn = 1;
		}
	}

	for (uint32_t i = 0; i < nsn; i++)
		log_debug("DNS server %J", &nsv[i]);

	return dnsc_alloc(&ss->dnsc, NULL, nsv, nsn);
}


/**
 * The DNS client of the SIP stack (servers of dns_servers)
 *
 * @param ss SIP stack
 *
 * @return DNS client, owned by the SIP stack
 */
struct dnsc *sipstack_dnsc(const struct sipstack *ss)
{
	return ss ? ss->dnsc : NULL;
}


/* ---- peer certificates --------------------------------------------- */

/*
 * libre 1.1.0 gives no accessor from an SSL (or its struct tls_conn) to the
 * TCP connection, so the verify callback cannot ask for the peer's
 * address. Its tls_start_tcp() (src/tls/openssl/tls_tcp.c at v1.1.0) gives
 * every SSL a write BIO of its own method "tcp_send" whose data is the
 * struct tls_conn, laid out as below. The layout is trusted only after the
 * BIO's method name and three members (the SSL and both BIOs) are checked
 * against the SSL at hand; otherwise the peer is "unknown". Used for log
 * lines only: no decision depends on it.
 */
struct shadow_tlsconn {
	SSL *ssl;
	BIO_METHOD *biomet;
	BIO *sbio_out;
	BIO *sbio_in;
	void *th;
	struct tcp_conn *tcp;
};


static int conn_peer(const SSL *ssl, struct sa *peer)
{
	const struct shadow_tlsconn *tc;
	BIO *wbio = SSL_get_wbio(ssl);
	const char *name;

	if (!wbio)
		return ENOENT;

	name = BIO_method_name(wbio);
	if (!name || strcmp(name, "tcp_send"))
		return ENOENT;

	tc = BIO_get_data(wbio);
	if (!tc || tc->ssl != ssl || tc->sbio_out != wbio ||
	    tc->sbio_in != SSL_get_rbio(ssl) || !tc->tcp)
		return ENOENT;

	return tcp_conn_peer_get(tc->tcp, peer);
}


/* "server 192.0.2.1:5061" or "client (address unknown)" */
static void peer_print(char *buf, size_t sz, const SSL *ssl)
{
	const char *role = SSL_is_server(ssl) ? "client" : "server";
	struct sa peer;

	if (conn_peer(ssl, &peer))
		re_snprintf(buf, sz, "%s (address unknown)", role);
	else
		re_snprintf(buf, sz, "%s %J", role, &peer);
}


/* RFC 2253 form, "CN=sbc.example.com,O=Carrier,C=FR", as tlscert.c */
static void subject_print(char *buf, size_t sz, const X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int n = 0;

	if (bio && cert &&
	    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		n = BIO_read(bio, buf, (int)sz - 1);

	buf[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
}


struct host_match {
	X509 *cert;
	bool ok;
};


/* trunks_tls_hosts() handler: does the certificate name this host? */
static bool host_match_h(const char *host, void *arg)
{
	struct host_match *hm = arg;
	char ip[64];
	struct sa sa;
	size_t n;

	if (hm->ok || !host || !host[0])
		return hm->ok;

	/* "[2001:db8::1]" is an IPv6 address too */
	n = strlen(host);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']' &&
	    n - 2 < sizeof(ip)) {
		memcpy(ip, host + 1, n - 2);
		ip[n - 2] = '\0';
	}
	else {
		str_ncpy(ip, host, sizeof(ip));
	}

	if (!sa_set_str(&sa, ip, 0))
		hm->ok = X509_check_ip_asc(hm->cert, ip, 0) == 1;
	else
		hm->ok = X509_check_host(hm->cert, host, 0,
					 X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
					 NULL) == 1;

	return hm->ok;
}


/*
 * Host name verification of a server we connected to (RFC 5922 7.2).
 *
 * libre 1.1.0 opens outgoing SIP TLS connections itself (sip/transp.c,
 * conn_send()) and offers no per-connection hook to name the host we
 * meant to reach, so the name cannot be tied to the connection. What we
 * check instead: the certificate names one of the hosts (server or outbound
 * proxy, host name or IP address) of the configured TLS trunks
 * (trunks_tls_hosts()). A carrier holding a valid certificate for one
 * trunk's host could thus answer for another trunk's address; every
 * certificate must still chain to tls_ca. Without trunks nothing matches,
 * and relaisd opens no client TLS connection at all.
 */
static bool server_name_ok(const struct sipstack *ss, X509 *cert)
{
	struct host_match hm = { .cert = cert, .ok = false };

	if (!ss)
		return false;

	if (ss->server_name[0])
		(void)host_match_h(ss->server_name, &hm);
	if (!hm.ok && ss->trunks)
		(void)trunks_tls_hosts(ss->trunks, host_match_h, &hm);
	ERR_clear_error();

	return hm.ok;
}


static void verify_log(const struct sipstack *ss, const SSL *ssl,
		       X509_STORE_CTX *xctx)
{
	int verr = X509_STORE_CTX_get_error(xctx);
	const char *hint = "";
	char peer[80], subject[256];

	peer_print(peer, sizeof(peer), ssl);
	subject_print(subject, sizeof(subject),
		      X509_STORE_CTX_get_current_cert(xctx));

	if (verr == X509_V_ERR_HOSTNAME_MISMATCH)
		hint = "; it names no host of a TLS trunk";
	else if (ss && !ss->tls_ca)
		hint = "; no tls_ca is configured, so no certificate is "
		       "trusted";

	log_warn("TLS: certificate of %s refused: %s (depth %d, subject "
		 "%s%s)",
		 peer, X509_verify_cert_error_string(verr),
		 X509_STORE_CTX_get_error_depth(xctx),
		 subject[0] ? subject : "?", hint);
}


/* SSL_CTX verify callback: chain verdict of OpenSSL, plus the host name
 * of a server we connected to; every refusal is logged once (the
 * handshake stops at the first) */
static int verify_h(int ok, X509_STORE_CTX *xctx)
{
	SSL *ssl =
	    X509_STORE_CTX_get_ex_data(xctx,
				       SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct sipstack *ss;

	if (!ssl)
		return ok;

	ss = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (ok && !SSL_is_server(ssl) &&
	    X509_STORE_CTX_get_error_depth(xctx) == 0 &&
	    !server_name_ok(ss, X509_STORE_CTX_get_current_cert(xctx))) {
		X509_STORE_CTX_set_error(xctx, X509_V_ERR_HOSTNAME_MISMATCH);
		ok = 0;
	}

	if (!ok)
		verify_log(ss, ssl, xctx);

	return ok;
}


/* tls_verify_client = none: a server-side SSL asks for no certificate
 * (the SSL_CTX's mode stays SSL_VERIFY_PEER for the client side) */
static int client_hello_h(SSL *ssl, int *alert, void *arg)
{
	(void)alert;
	(void)arg;

	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);

	return SSL_CLIENT_HELLO_SUCCESS;
}


/* Handshake outcomes the operator needs: refusals both ways (with
 * OpenSSL's reason: "no shared cipher", "unsupported protocol", "peer did
 * not return a certificate"), and what each connection negotiated */
static void info_h(const SSL *ssl, int where, int ret)
{
	char peer[80], alert[40];

	if ((where & SSL_CB_ALERT) && (ret >> 8) == SSL3_AL_FATAL) {
		unsigned long e = ERR_peek_last_error();
		const char *reason = e ? ERR_reason_error_string(e) : NULL;
		const char *desc = SSL_alert_desc_string_long(ret);

		/* OpenSSL 3.0 has no text for TLS 1.3's newer alerts, such
		 * as certificate_required (RFC 8446 6.2) */
		if (strcmp(desc, "unknown"))
			str_ncpy(alert, desc, sizeof(alert));
		else if ((ret & 0xff) == ALERT_CERT_REQUIRED)
			str_ncpy(alert, "certificate required", sizeof(alert));
		else
			re_snprintf(alert, sizeof(alert), "alert %d",
				    ret & 0xff);

		/* verify_h() has already said why */
		if ((where & SSL_CB_WRITE) &&
		    SSL_get_verify_result(ssl) != X509_V_OK)
			return;

		peer_print(peer, sizeof(peer), ssl);
		if (where & SSL_CB_WRITE)
			log_warn("TLS: handshake with %s refused: %s (%s)",
				 peer, alert, reason ? reason : "no detail");
		else
			log_warn("TLS: %s refused the handshake: %s", peer,
				 alert);
	}
	else if (where & SSL_CB_HANDSHAKE_DONE) {
		X509 *cert = SSL_get0_peer_certificate(ssl);
		char subject[256] = "";

		peer_print(peer, sizeof(peer), ssl);
		if (cert)
			subject_print(subject, sizeof(subject), cert);
		log_info("TLS: %s: %s %s, %s%s", peer, SSL_get_version(ssl),
			 SSL_get_cipher_name(ssl),
			 cert ? "certificate " : "no certificate", subject);
	}
}


/* Trust anchors and the verification policy of both directions */
static int tls_verify_setup(struct sipstack *ss,
			    const struct relais_config *cfg)
{
	static const unsigned char sid_ctx[] = "relais-sip";
	SSL_CTX *ctx = tls_openssl_context(ss->tls);
	bool required = !str_casecmp(cfg->tls_verify_client, "required");
	int mode = SSL_VERIFY_PEER;

	ss->verify_none = !str_casecmp(cfg->tls_verify_client, "none");
	ss->tls_ca = cfg->tls_ca[0] != '\0';

	if (ss->tls_ca) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->tls_ca, NULL) !=
		    1) {
			unsigned long e = ERR_get_error();

			ERR_clear_error();
			log_error("tls: tls_ca %s: cannot load the trust "
				  "anchors: %s",
				  cfg->tls_ca,
				  e ? ERR_reason_error_string(e) : "?");
			return EINVAL;
		}
		log_info("tls: peers' certificates must chain to %s",
			 cfg->tls_ca);
	}
	else if (required) {
		log_error("tls: tls_verify_client = required needs tls_ca: "
			  "no client could be trusted");
		return EINVAL;
	}
	else {
		log_notice("tls: tls_ca is empty: no peer certificate is "
			   "trusted, so connections to TLS trunks fail and "
			   "clients presenting a certificate are refused");
	}

	/* a carrier's intermediate CA alone is a valid anchor */
	(void)X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx),
				   X509_V_FLAG_PARTIAL_CHAIN);

	if (required)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;

	SSL_CTX_set_app_data(ctx, ss);
	SSL_CTX_set_verify(ctx, mode, verify_h);
	SSL_CTX_set_info_callback(ctx, info_h);
	if (ss->verify_none)
		SSL_CTX_set_client_hello_cb(ctx, client_hello_h, NULL);

	/* resumption with client verification needs a session context */
	if (!SSL_CTX_set_session_id_context(ctx, sid_ctx,
					    sizeof(sid_ctx) - 1)) {
		ERR_clear_error();
		return ENOMEM;
	}

	log_info("tls: client certificates %s", cfg->tls_verify_client);

	return 0;
}


/* ---- our certificate ----------------------------------------------- */

static void date_print(char *buf, size_t sz, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, sz, "%Y-%m-%d %H:%M:%S UTC", &tm))
		str_ncpy(buf, "?", sz);
}


/* Warn when the certificate in service expires within 30 days */
static void expiry_check(const struct sipstack *ss)
{
	struct tlscert_info ci;
	char until[32];
	int err;

	err = tlscert_info_file(&ci, ss->tls_cert);
	if (err) {
		log_warn("tls: %s: cannot read the certificate: %m",
			 ss->tls_cert, err);
		return;
	}

	date_print(until, sizeof(until), ci.not_after);

	if (ci.days_left < 0)
		log_warn("tls: certificate %s expired on %s: TLS peers refuse "
			 "it; install a renewed one",
			 ci.subject, until);
	else if (ci.days_left < EXPIRY_WARN_DAYS)
		log_warn("tls: certificate %s expires in %d day(s) (%s): make "
			 "a "
			 "new key and CSR, and install the renewed "
			 "certificate",
			 ci.subject, ci.days_left, until);
}


static void expiry_tmr_h(void *arg)
{
	struct sipstack *ss = arg;

	expiry_check(ss);
	tmr_start(&ss->tmr_expiry, EXPIRY_CHECK_MS, expiry_tmr_h, ss);
}


/* Never prompt on a terminal for a key's passphrase */
static int nopass_h(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;

	return 0;
}


/* Load key and chain from path into ctx; 1 if they are usable */
static int ctx_cert_load(SSL_CTX *ctx, const char *path)
{
	SSL_CTX_set_default_passwd_cb(ctx, nopass_h);

	return SSL_CTX_use_certificate_chain_file(ctx, path) == 1 &&
	       SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) == 1 &&
	       SSL_CTX_check_private_key(ctx) == 1;
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

	err = tlsctx_harden(ss->tls);
	if (err)
		return err;

	err = str_dup(&ss->tls_cert, cfg->tls_cert);
	if (err)
		return err;

	err = tls_verify_setup(ss, cfg);
	if (err)
		return err;

	/* tlscert_ensure() has warned about a near expiry already */
	tmr_start(&ss->tmr_expiry, EXPIRY_CHECK_MS, expiry_tmr_h, ss);

	return 0;
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
	if (!cfg)
		return EINVAL;

	return sipstack_alloc_listen(ssp, cfg, cfg->sip_udp_listen,
				     cfg->sip_tcp_listen, cfg->sip_tls_listen);
}


/**
 * Create a SIP stack listening on the given addresses
 *
 * @param ssp Pointer to allocated SIP stack
 * @param cfg Configuration (TLS certificate, trust anchors, DNS servers)
 * @param udp UDP listen address "ip:port", or "" for none
 * @param tcp TCP listen address, or ""
 * @param tls TLS listen address, or ""
 *
 * @return 0 if success, otherwise errorcode
 */
int sipstack_alloc_listen(struct sipstack **ssp,
			  const struct relais_config *cfg, const char *udp,
			  const char *tcp, const char *tls)
{
	struct sipstack *ss;
	int err;

	if (!ssp || !cfg || !udp || !tcp || !tls)
		return EINVAL;

	ss = mem_zalloc(sizeof(*ss), destructor);
	if (!ss)
		return ENOMEM;

	err = dns_setup(ss, cfg);
	if (err)
		goto out;

	err = sip_alloc(&ss->sip, ss->dnsc, 1024, 1024, 256,
			"Relais/" RELAIS_VERSION, NULL, NULL);
	if (err)
		goto out;

	err = transp_add(ss, SIP_TRANSP_UDP, udp, cfg);
	err |= transp_add(ss, SIP_TRANSP_TCP, tcp, cfg);
	if (err)
		goto out;
	err = transp_add(ss, SIP_TRANSP_TLS, tls, cfg);

out:
	if (err)
		mem_deref(ss);
	else
		*ssp = ss;

	return err;
}


/**
 * Name a host an outgoing TLS peer's certificate may present
 *
 * @param ss   SIP stack
 * @param host Host name or IP address (e.g. the PBX behind the SBC)
 *
 * @return 0 if success, otherwise errorcode
 */
int sipstack_set_server_name(struct sipstack *ss, const char *host)
{
	if (!ss || !host)
		return EINVAL;

	if (strlen(host) >= sizeof(ss->server_name))
		return ENAMETOOLONG;

	str_ncpy(ss->server_name, host, sizeof(ss->server_name));
	return 0;
}


struct sip *sipstack_sip(const struct sipstack *ss)
{
	return ss ? ss->sip : NULL;
}


/**
 * Put the certificate file (tls_cert) in service again, after
 * tlscert_install() replaced it
 *
 * The key and chain are first loaded into a scratch context; only when
 * they are usable do they replace those of the SSL_CTX libre's TLS
 * transport uses. Connections made from then on present the new
 * certificate; established ones keep theirs (each SSL holds its own
 * copy), so calls in progress are not disturbed.
 *
 * @param ss SIP stack
 *
 * @return 0 if success, ENOTSUP without a TLS listener, EBADMSG if the
 *         file is not a usable key and chain (the old one stays in
 *         service), otherwise errorcode
 */
int sipstack_tls_reload(struct sipstack *ss)
{
	struct tlscert_info ci;
	SSL_CTX *scratch;
	char until[32];
	int ok, err;

	if (!ss)
		return EINVAL;

	if (!ss->tls || !ss->tls_cert)
		return ENOTSUP;

	scratch = SSL_CTX_new(TLS_method());
	if (!scratch) {
		ERR_clear_error();
		return ENOMEM;
	}

	ok = ctx_cert_load(scratch, ss->tls_cert);
	SSL_CTX_free(scratch);
	if (!ok) {
		ERR_clear_error();
		log_error("tls: %s: not a usable key and certificate chain; "
			  "the certificate in service stays",
			  ss->tls_cert);
		return EBADMSG;
	}

	if (!ctx_cert_load(tls_openssl_context(ss->tls), ss->tls_cert)) {
		ERR_clear_error();
		log_error("tls: %s changed while being loaded", ss->tls_cert);
		return EBADMSG;
	}

	err = tlscert_info_file(&ci, ss->tls_cert);
	if (err)
		return err;

	date_print(until, sizeof(until), ci.not_after);
	log_notice("tls: new certificate in service: %s, issued by %s, "
		   "valid until %s (%d day(s) left)",
		   ci.subject, ci.issuer, until, ci.days_left);
	expiry_check(ss);

	return 0;
}


/**
 * Set the trunks whose host names a carrier's certificate may carry
 *
 * The SIP stack keeps no reference: call it with NULL before freeing ts.
 *
 * @param ss SIP stack
 * @param ts Trunks, or NULL
 */
void sipstack_set_trunks(struct sipstack *ss, struct trunks *ts)
{
	if (!ss)
		return;

	ss->trunks = ts;
}

/**
 * @file tlscert.c  The TLS certificate of the SIP listeners: load it,
 *                  generate a self-signed one at first start, make a key
 *                  and CSR for a CA, install what the CA sent back, and
 *                  tell what a certificate file holds
 *
 * The certificate file holds the private key and then the certificate
 * chain (leaf first), PEM encoded, which is what libre's tls_alloc() and
 * sipstack_tls_reload() read. Every file holding a private key is written
 * to a temporary file of mode 0600 beside it and renamed over it, so a
 * reader sees the old file or the new one, never half of one.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <re.h>
#include "core/core.h"
#include "sip/sip.h"

#define DEBUG_MODULE "tlscert"

enum {
	RSA_BITS = 2048,
	CERT_DAYS = 825,
	SERIAL_LEN = 8,
	EXPIRY_WARN_DAYS = 30,
	DIR_DEPTH_MAX = 32,
	CN_MAX = 64,  /* RFC 5280 ub-common-name */
	ORG_MAX = 64, /* RFC 5280 ub-organization-name */
	RSA_BITS_MAX = 8192,
	SAN_MAX = 32,
	SANS_LEN_MAX = 2048,
	BUNDLE_MAX = 1 << 20, /* what tlscert_install() accepts */
	DAY_SECS = 86400,
};


/* Log and drop OpenSSL's error queue */
static void ssl_log(const char *path, const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		str_ncpy(buf, "no detail", sizeof(buf));

	log_error("%s: %s: %s", path, what, buf);
	ERR_clear_error();
}


/* The passphrase of an encrypted PEM key is u (a C string) or none:
 * never prompt on a terminal */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	size_t n;

	(void)rwflag;

	if (!pass || size <= 0)
		return 0;

	n = strlen(pass);
	if (n > (size_t)size)
		return 0;

	memcpy(buf, pass, n);

	return (int)n;
}


/* "2026-05-01 12:00:00 UTC", or "?" */
static void time_print(char *buf, size_t sz, const ASN1_TIME *t)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm) ||
	    !strftime(buf, sz, "%Y-%m-%d %H:%M:%S UTC", &tm)) {
		ERR_clear_error();
		str_ncpy(buf, "?", sz);
	}
}


/* RFC 2253 form, most specific first: "CN=pbx.example.org,O=Acme,C=FR";
 * control characters are escaped, UTF-8 is kept */
static void name_print(char *buf, size_t sz, const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int n;

	buf[0] = '\0';
	if (!bio || sz < 2)
		goto out;

	if (X509_NAME_print_ex(bio, name, 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;

	n = BIO_read(bio, buf, (int)sz - 1);
	buf[n > 0 ? n : 0] = '\0';

out:
	BIO_free(bio);
	ERR_clear_error();
}


static void log_cert(const char *path, const X509 *cert)
{
	const ASN1_TIME *na = X509_get0_notAfter(cert);
	char subject[256];
	char until[32];
	int days = 0, secs = 0;

	name_print(subject, sizeof(subject), X509_get_subject_name(cert));
	time_print(until, sizeof(until), na);

	log_info("%s: certificate %s, valid until %s", path, subject, until);

	if (!ASN1_TIME_diff(&days, &secs, NULL, na)) {
		ERR_clear_error();
		return;
	}

	if (days < 0 || (days == 0 && secs <= 0))
		log_warn("%s: certificate has expired (%s)", path, until);
	else if (days < EXPIRY_WARN_DAYS)
		log_warn("%s: certificate expires in %d day(s) (%s)", path,
			 days, until);
}


static int load_existing(const char *path)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *bio;
	int err = 0;

	bio = BIO_new_file(path, "r");
	if (!bio) {
		err = errno ? errno : EIO;
		ERR_clear_error();
		log_error("%s: cannot open: %m", path, err);
		return err;
	}

	/* each reader skips PEM blocks of other types, so the order of key
	 * and certificate in the file does not matter */
	key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, NULL);
	if (BIO_reset(bio) == 0)
		cert = PEM_read_bio_X509(bio, NULL, pass_cb, NULL);

	if (!key || !cert) {
		ERR_clear_error();
		log_error("%s: not a PEM file with a private key and a "
			  "certificate",
			  path);
		err = EBADMSG;
		goto out;
	}

	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		log_error("%s: private key does not match the certificate",
			  path);
		err = EBADMSG;
		goto out;
	}

	log_cert(path, cert);

out:
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(bio);

	return err;
}


/* A name that is safe in a subject and a subjectAltName */
static bool cn_valid(const char *cn)
{
	size_t n = strlen(cn);

	if (!n || n > CN_MAX)
		return false;

	for (size_t i = 0; i < n; i++) {
		char c = cn[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == ':' || c == '_' || c == '*')
			continue;

		return false;
	}

	return true;
}


/* mkdir -p of the directory holding path; new directories get 0700 */
static int dir_ensure(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	unsigned depth = 0;

	if (n >= sizeof(buf))
		return ENAMETOOLONG;

	memcpy(buf, path, n + 1);

	for (size_t i = 1; i < n; i++) {
		struct stat st;

		if (buf[i] != '/' || buf[i - 1] == '/')
			continue;

		if (++depth > DIR_DEPTH_MAX)
			return ENAMETOOLONG;

		buf[i] = '\0';

		if (stat(buf, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				log_error("%s: not a directory", buf);
				return ENOTDIR;
			}
		}
		else if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			int err = errno;

			log_error("%s: cannot create directory: %m", buf, err);
			return err;
		}

		buf[i] = '/';
	}

	return 0;
}


static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);

	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return EINVAL;

	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);

	return ok ? 0 : ENOMEM;
}


static int add_name(GENERAL_NAMES *gens, int type, ASN1_STRING *val)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();

	if (!gn) {
		ASN1_STRING_free(val);
		return ENOMEM;
	}

	GENERAL_NAME_set0_value(gn, type, val);
	if (!sk_GENERAL_NAME_push(gens, gn)) {
		GENERAL_NAME_free(gn);
		return ENOMEM;
	}

	return 0;
}


/* subjectAltName DNS:cn, plus IP:cn when cn is an address literal */
static int add_san(X509 *cert, const char *cn)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	ASN1_IA5STRING *dns;
	ASN1_OCTET_STRING *ip;
	int err;

	if (!gens)
		return ENOMEM;

	dns = ASN1_IA5STRING_new();
	if (!dns || !ASN1_STRING_set(dns, cn, -1)) {
		ASN1_IA5STRING_free(dns);
		err = ENOMEM;
		goto out;
	}

	err = add_name(gens, GEN_DNS, dns);
	if (err)
		goto out;

	ip = a2i_IPADDRESS(cn);
	if (ip) {
		err = add_name(gens, GEN_IPADD, ip);
		if (err)
			goto out;
	}
	ERR_clear_error(); /* a2i_IPADDRESS() fails for a host name */

	if (X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 0,
			      X509V3_ADD_DEFAULT) != 1)
		err = ENOMEM;

out:
	GENERAL_NAMES_free(gens);

	return err;
}


static int set_serial(X509 *cert)
{
	uint8_t rnd[SERIAL_LEN];
	BIGNUM *bn;
	int err = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return EIO;

	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (!bn)
		return ENOMEM;

	if (BN_is_zero(bn) && !BN_one(bn))
		err = ENOMEM;

	if (!err && !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
		err = ENOMEM;

	BN_free(bn);

	return err;
}


static int make_cert(X509 **certp, EVP_PKEY *key, const char *cn)
{
	X509 *cert = X509_new();
	time_t now = time(NULL);
	X509_NAME *name;
	int err = ENOMEM;

	if (!cert)
		return ENOMEM;

	if (!X509_set_version(cert, X509_VERSION_3))
		goto out;

	err = set_serial(cert);
	if (err)
		goto out;

	/* one clock reading, so the validity is exactly CERT_DAYS */
	err = ENOMEM;
	if (!X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(cert), CERT_DAYS, 0, &now))
		goto out;

	name = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0))
		goto out;

	/* self-signed: the issuer is the subject */
	if (!X509_set_issuer_name(cert, name) || !X509_set_pubkey(cert, key))
		goto out;

	err = add_ext(cert, NID_basic_constraints, "critical,CA:FALSE");
	err |= add_ext(cert, NID_key_usage,
		       "critical,digitalSignature,keyEncipherment");
	err |= add_ext(cert, NID_ext_key_usage, "serverAuth,clientAuth");
	err |= add_ext(cert, NID_subject_key_identifier, "hash");
	if (err)
		goto out;

	err = add_san(cert, cn);
	if (err)
		goto out;

	if (!X509_sign(cert, key, EVP_sha256()))
		err = EPROTO;

out:
	if (err)
		X509_free(cert);
	else
		*certp = cert;

	return err;
}


/* Write the key, then the certificate and its chain (both optional), to
 * a new file of mode 0600 beside path, then rename it over path */
static int pem_write(const char *path, EVP_PKEY *key, X509 *cert,
		     STACK_OF(X509) * chain)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, err = 0;

	if (re_snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) < 0 ||
	    strlen(tmp) != strlen(path) + 7)
		return ENAMETOOLONG;

	/* mkstemp() opens with O_CREAT|O_EXCL and mode 0600 */
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = errno;
		log_error("%s: cannot create: %m", tmp, err);
		return err;
	}

	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
		err = errno;
		(void)close(fd);
		goto out;
	}

	f = fdopen(fd, "w");
	if (!f) {
		err = errno;
		(void)close(fd);
		goto out;
	}

	if (!PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) ||
	    (cert && !PEM_write_X509(f, cert))) {
		ssl_log(tmp, "cannot write PEM");
		err = EIO;
	}

	for (int i = 0; !err && i < sk_X509_num(chain); i++) {
		if (!PEM_write_X509(f, sk_X509_value(chain, i))) {
			ssl_log(tmp, "cannot write PEM");
			err = EIO;
		}
	}

	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		err = err ? err : errno;

	if (fclose(f) != 0)
		err = err ? err : errno;

	if (!err && rename(tmp, path) != 0)
		err = errno;

out:
	if (err) {
		log_error("%s: cannot write: %m", path, err);
		(void)unlink(tmp);
	}

	return err;
}


static int generate(const char *path, const char *cn)
{
	EVP_PKEY *key;
	X509 *cert = NULL;
	int err;

	key = EVP_RSA_gen(RSA_BITS);
	if (!key) {
		ssl_log(path, "RSA key generation failed");
		return ENOMEM;
	}

	err = make_cert(&cert, key, cn);
	if (err) {
		ssl_log(path, "cannot build the certificate");
		goto out;
	}

	err = pem_write(path, key, cert, NULL);
	if (err)
		goto out;

	log_notice("%s: generated a self-signed certificate for CN=%s, "
		   "valid %u days",
		   path, cn, (unsigned)CERT_DAYS);

out:
	X509_free(cert);
	EVP_PKEY_free(key);

	return err;
}


/**
 * Make sure the TLS certificate file exists and is usable
 *
 * An existing file must hold a PEM private key and the matching
 * certificate; its subject and expiry are logged, with a warning when it
 * expires within 30 days. A missing file is created (with its directories,
 * mode 0700): an RSA 2048 key and a self-signed X.509 v3 certificate
 * (SHA-256, 825 days, CN and subjectAltName from cn, serverAuth and
 * clientAuth), key first, mode 0600.
 *
 * @param path PEM file
 * @param cn   Host name or IP address for a new certificate
 *
 * @return 0 if success, EBADMSG if the file exists but is not a matching
 *         key and certificate, EINVAL if cn is not a host name or address,
 *         otherwise errorcode
 */
int tlscert_ensure(const char *path, const char *cn)
{
	struct stat st;
	int err;

	if (!path || !path[0] || !cn)
		return EINVAL;

	if (stat(path, &st) == 0)
		return load_existing(path);

	if (errno != ENOENT) {
		err = errno;
		log_error("%s: %m", path, err);
		return err;
	}

	if (!cn_valid(cn)) {
		log_error("%s: '%s' is not a host name or address for a "
			  "certificate",
			  path, cn);
		return EINVAL;
	}

	err = dir_ensure(path);
	if (err)
		return err;

	return generate(path, cn);
}


/* ---- what a certificate holds ---------------------------------------- */

static int64_t asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		return 0;
	}

	return (int64_t)timegm(&tm);
}


/* Whole days from now until t, rounded down: -1 a second after expiry */
static int32_t days_until(int64_t t, int64_t now)
{
	int64_t d = t - now;
	int64_t q = d / DAY_SECS;

	if (d % DAY_SECS < 0)
		--q;

	if (q > INT32_MAX)
		return INT32_MAX;
	if (q < INT32_MIN)
		return INT32_MIN;

	return (int32_t)q;
}


static void info_fill(struct tlscert_info *ci, X509 *cert)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);

	memset(ci, 0, sizeof(*ci));

	name_print(ci->subject, sizeof(ci->subject),
		   X509_get_subject_name(cert));
	name_print(ci->issuer, sizeof(ci->issuer), X509_get_issuer_name(cert));
	ci->not_before = asn1_unix(X509_get0_notBefore(cert));
	ci->not_after = asn1_unix(X509_get0_notAfter(cert));
	ci->days_left = days_until(ci->not_after, (int64_t)time(NULL));
	ci->key_bits = pub ? (uint32_t)EVP_PKEY_get_bits(pub) : 0;
	ci->self_signed = X509_self_signed(cert, 1) == 1;

	ERR_clear_error();
}


/**
 * Read the subject, issuer, validity and key size of a certificate
 *
 * The first certificate of the PEM file is read (the leaf, in the files
 * tlscert_install() writes); private key blocks before it are skipped.
 *
 * @param ci   Information to fill in
 * @param path PEM file
 *
 * @return 0 if success, EBADMSG if the file holds no readable
 *         certificate, otherwise errorcode (ENOENT: no such file)
 */
int tlscert_info_file(struct tlscert_info *ci, const char *path)
{
	X509 *cert;
	BIO *bio;
	int err;

	if (!ci || !path || !path[0])
		return EINVAL;

	errno = 0;
	bio = BIO_new_file(path, "r");
	if (!bio) {
		err = errno ? errno : EIO;
		ERR_clear_error();
		return err;
	}

	cert = PEM_read_bio_X509(bio, NULL, pass_cb, NULL);
	BIO_free(bio);
	if (!cert) {
		ERR_clear_error();
		return EBADMSG;
	}

	info_fill(ci, cert);
	X509_free(cert);

	return 0;
}


/* ---- key and certificate signing request ----------------------------- */

/* ISO 3166 alpha-2: two capital letters */
static bool country_valid(const char *c)
{
	return strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' &&
	       c[1] <= 'Z';
}


/* Free text (UTF-8), no control characters */
static bool org_valid(const char *o)
{
	size_t n = strlen(o);

	if (!n || n > ORG_MAX)
		return false;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)o[i];

		if (ch < 0x20 || ch == 0x7f)
			return false;
	}

	return true;
}


/* DNS or IP entry for name; a name with ':' must be an IPv6 address */
static int gens_add(GENERAL_NAMES *gens, const char *name)
{
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
	ASN1_IA5STRING *dns;

	if (ip)
		return add_name(gens, GEN_IPADD, ip);

	ERR_clear_error(); /* a2i_IPADDRESS() fails for a host name */

	if (strchr(name, ':'))
		return EINVAL;

	dns = ASN1_IA5STRING_new();
	if (!dns || !ASN1_STRING_set(dns, name, -1)) {
		ASN1_IA5STRING_free(dns);
		return ENOMEM;
	}

	return add_name(gens, GEN_DNS, dns);
}


/* The subjectAltName entries of a CSR: cn first (CAs drop a CN that is
 * not also a SAN), then each name of the comma-separated list, once */
static int sans_build(GENERAL_NAMES **gensp, const char *cn, const char *sans)
{
	char names[SAN_MAX][CN_MAX + 1];
	size_t n = 0;
	GENERAL_NAMES *gens;
	const char *p = sans ? sans : "";
	int err = 0;

	if (strlen(p) > SANS_LEN_MAX)
		return EINVAL;

	str_ncpy(names[n++], cn, sizeof(names[0]));

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct pl tok = { .p = p, .l = len };
		bool dup = false;

		p += len + (end ? 1 : 0);
		text_trim(&tok);
		if (!tok.l)
			continue;

		if (tok.l > CN_MAX || n == SAN_MAX)
			return EINVAL;

		(void)pl_strcpy(&tok, names[n], sizeof(names[0]));
		if (!cn_valid(names[n]))
			return EINVAL;

		for (size_t i = 0; i < n && !dup; i++)
			dup = !strcasecmp(names[i], names[n]);

		if (!dup)
			++n;
	}

	gens = sk_GENERAL_NAME_new_null();
	if (!gens)
		return ENOMEM;

	for (size_t i = 0; i < n && !err; i++)
		err = gens_add(gens, names[i]);

	if (err)
		GENERAL_NAMES_free(gens);
	else
		*gensp = gens;

	return err;
}


static int exts_push(STACK_OF(X509_EXTENSION) * exts, X509_EXTENSION *ext)
{
	if (!ext)
		return ENOMEM;

	if (!sk_X509_EXTENSION_push(exts, ext)) {
		X509_EXTENSION_free(ext);
		return ENOMEM;
	}

	return 0;
}


/* subjectAltName, key usage and extended key usage (serverAuth for the
 * listener, clientAuth for mutual authentication toward the carrier) */
static int csr_exts(X509_REQ *req, GENERAL_NAMES *gens)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	int err;

	if (!exts)
		return ENOMEM;

	err = exts_push(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, gens));
	if (!err)
		err =
		    exts_push(exts,
			      X509V3_EXT_nconf_nid(NULL, NULL, NID_key_usage,
						   "critical,digitalSignature,"
						   "keyEncipherment"));
	if (!err)
		err = exts_push(exts,
				X509V3_EXT_nconf_nid(NULL, NULL,
						     NID_ext_key_usage,
						     "serverAuth,clientAuth"));

	if (!err && !X509_REQ_add_extensions(req, exts))
		err = ENOMEM;

	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);

	return err;
}


static int csr_make(X509_REQ **reqp, EVP_PKEY *key, const char *cn,
		    GENERAL_NAMES *gens, const char *o, const char *c)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name;
	int err = ENOMEM;

	if (!req)
		return ENOMEM;

	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1))
		goto out;

	name = X509_REQ_get_subject_name(req);
	if (c && c[0] &&
	    !X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
					(const unsigned char *)c, -1, -1, 0))
		goto out;

	if (o && o[0] &&
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					(const unsigned char *)o, -1, -1, 0))
		goto out;

	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0))
		goto out;

	err = csr_exts(req, gens);
	if (err)
		goto out;

	err = EPROTO;
	if (!X509_REQ_set_pubkey(req, key) ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto out;

	err = 0;

out:
	if (err)
		X509_REQ_free(req);
	else
		*reqp = req;

	return err;
}


static int csr_pem_get(char **pemp, X509_REQ *req)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *pem;
	long n;
	int err = ENOMEM;

	if (!bio)
		return ENOMEM;

	if (!PEM_write_bio_X509_REQ(bio, req))
		goto out;

	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || !data)
		goto out;

	pem = mem_alloc((size_t)n + 1, NULL);
	if (!pem)
		goto out;

	memcpy(pem, data, (size_t)n);
	pem[n] = '\0';
	*pemp = pem;
	err = 0;

out:
	BIO_free(bio);
	ERR_clear_error();

	return err;
}


/**
 * Generate a private key and a certificate signing request for it
 *
 * The key is RSA of the given size; the CSR (PKCS#10) has the subject
 * C=c, O=o, CN=cn, requests subjectAltName (cn first, then each name of
 * sans: IP addresses as IP entries, host names as DNS entries), key usage
 * digitalSignature and keyEncipherment, extended key usage serverAuth and
 * clientAuth, and is signed with SHA-256. The key is written to key_path
 * (PEM, mode 0600, atomically: it replaces an earlier pending key); the
 * certificate in use is not touched, so calls keep working until
 * tlscert_install() brings the CA's answer.
 *
 * @param key_path Where to write the new private key
 * @param bits     RSA key size, 2048 to 8192
 * @param cn       Common name: the FQDN (or address) of this PBX
 * @param sans     More subjectAltName entries, comma-separated, or NULL
 * @param o        Organisation, or NULL
 * @param c        Country (two capital letters), or NULL
 * @param csr_pem  The CSR in PEM, a NUL-terminated mem object
 *
 * @return 0 if success, EINVAL for a bad size or name, otherwise
 *         errorcode
 */
int tlscert_csr(const char *key_path, uint32_t bits, const char *cn,
		const char *sans, const char *o, const char *c, char **csr_pem)
{
	GENERAL_NAMES *gens = NULL;
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	char *pem = NULL;
	int err;

	if (!key_path || !key_path[0] || !cn || !csr_pem)
		return EINVAL;

	if (bits < RSA_BITS || bits > RSA_BITS_MAX || !cn_valid(cn) ||
	    (o && o[0] && !org_valid(o)) || (c && c[0] && !country_valid(c)))
		return EINVAL;

	/* names first: a typo costs no key generation */
	err = sans_build(&gens, cn, sans);
	if (err)
		return err;

	key = EVP_RSA_gen(bits);
	if (!key) {
		ssl_log(key_path, "RSA key generation failed");
		err = ENOMEM;
		goto out;
	}

	err = csr_make(&req, key, cn, gens, o, c);
	if (err) {
		ssl_log(key_path, "cannot build the CSR");
		goto out;
	}

	err = csr_pem_get(&pem, req);
	if (err)
		goto out;

	err = dir_ensure(key_path);
	if (err)
		goto out;

	err = pem_write(key_path, key, NULL, NULL);
	if (err)
		goto out;

	log_notice("%s: new RSA %u key; CSR for CN=%s ready", key_path, bits,
		   cn);

out:
	if (err)
		mem_deref(pem);
	else
		*csr_pem = pem;

	X509_REQ_free(req);
	EVP_PKEY_free(key);
	GENERAL_NAMES_free(gens);

	return err;
}


/* ---- installing what the CA sent ------------------------------------- */

/** A private key and its certificate chain, leaf first */
struct bundle {
	EVP_PKEY *key;
	X509 *leaf;
	STACK_OF(X509) * chain; /**< the certificates after the leaf */
};


static void bundle_clear(struct bundle *b)
{
	EVP_PKEY_free(b->key);
	X509_free(b->leaf);
	sk_X509_pop_free(b->chain, X509_free);
}


static void why_set(char *why, size_t sz, const char *fmt, ...)
{
	va_list ap;

	if (!why || !sz)
		return;

	va_start(ap, fmt);
	(void)re_vsnprintf(why, sz, fmt, ap);
	va_end(ap);
}


/* Did the last PEM read stop at the end of the data (not at a damaged
 * block)? Clears OpenSSL's error queue. */
static bool pem_at_end(void)
{
	unsigned long e = ERR_peek_last_error();
	bool end = !e || (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			  ERR_GET_REASON(e) == PEM_R_NO_START_LINE);

	ERR_clear_error();

	return end;
}


static int pem_certs(struct bundle *b, const uint8_t *data, size_t len,
		     char *why, size_t sz)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	int err = 0;

	if (!bio)
		return ENOMEM;

	ERR_clear_error();
	for (;;) {
		X509 *x = PEM_read_bio_X509(bio, NULL, pass_cb, NULL);

		if (!x)
			break;

		if (!b->leaf) {
			b->leaf = x;
		}
		else if (!sk_X509_push(b->chain, x)) {
			X509_free(x);
			err = ENOMEM;
			goto out;
		}
	}

	if (!pem_at_end()) {
		why_set(why, sz, "certificate %d of the PEM data is damaged",
			(b->leaf ? 2 : 1) + sk_X509_num(b->chain));
		err = EBADMSG;
	}
	else if (!b->leaf) {
		why_set(why, sz, "no certificate in the PEM data");
		err = EBADMSG;
	}

out:
	BIO_free(bio);

	return err;
}


/* A PEM chain, and the private key if the data holds one (encrypted with
 * pass, or not) */
static int pem_parse(struct bundle *b, const uint8_t *data, size_t len,
		     const char *pass, char *why, size_t sz)
{
	static const char key_end[] = "PRIVATE KEY-----";
	BIO *bio;
	int err;

	err = pem_certs(b, data, len, why, sz);
	if (err)
		return err;

	/* OpenSSL 3's decoders report a missing key and a damaged one
	 * alike, so look for a key block first */
	if (!memmem(data, len, key_end, sizeof(key_end) - 1))
		return 0;

	bio = BIO_new_mem_buf(data, (int)len);
	if (!bio)
		return ENOMEM;

	b->key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)pass);
	BIO_free(bio);
	ERR_clear_error();

	if (!b->key) {
		why_set(why, sz,
			"the private key in the PEM data cannot be "
			"read (encrypted: wrong or missing password)");
		return EBADMSG;
	}

	return 0;
}


static int p12_parse(struct bundle *b, const uint8_t *data, size_t len,
		     const char *pass, char *why, size_t sz)
{
	const unsigned char *p = data;
	STACK_OF(X509) *ca = NULL;
	PKCS12 *p12;
	int err = 0;

	p12 = d2i_PKCS12(NULL, &p, (long)len);
	if (!p12) {
		ERR_clear_error();
		why_set(why, sz, "neither PEM nor PKCS#12 data");
		return EBADMSG;
	}

	if (!PKCS12_parse(p12, pass ? pass : "", &b->key, &b->leaf, &ca)) {
		bool mac_ok = !PKCS12_mac_present(p12) ||
			      PKCS12_verify_mac(p12, pass ? pass : "", -1);

		ERR_clear_error();
		why_set(why, sz,
			mac_ok ? "PKCS#12: cannot decrypt (a legacy algorithm "
				 "such as RC2? export it again with AES-256)"
			       : "PKCS#12: wrong password");
		err = EBADMSG;
		goto out;
	}

	sk_X509_pop_free(b->chain, X509_free);
	b->chain = ca ? ca : sk_X509_new_null();
	if (!b->chain) {
		err = ENOMEM;
		goto out;
	}

	if (!b->leaf) {
		why_set(why, sz, "PKCS#12: no certificate for the key");
		err = EBADMSG;
	}

out:
	PKCS12_free(p12);

	return err;
}


static int key_load(EVP_PKEY **keyp, const char *path, char *why, size_t sz)
{
	EVP_PKEY *key;
	BIO *bio;
	int err;

	if (!path || !path[0]) {
		why_set(why, sz,
			"no private key: make one with a CSR first, "
			"or import a PKCS#12 bundle");
		return ENOENT;
	}

	errno = 0;
	bio = BIO_new_file(path, "r");
	if (!bio) {
		err = errno ? errno : EIO;
		ERR_clear_error();
		why_set(why, sz,
			"no private key at %s (%m): make one with a CSR "
			"first, or import a PKCS#12 bundle",
			path, err);
		return err;
	}

	key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, NULL);
	BIO_free(bio);
	if (!key) {
		ERR_clear_error();
		why_set(why, sz, "%s holds no readable private key", path);
		return EBADMSG;
	}

	*keyp = key;

	return 0;
}


/* Order the chain from the leaf up, each certificate followed by its
 * issuer (PKCS#12 bundles store them in any order); certificates off
 * that path (cross-signed roots) follow; copies of the leaf go */
static int chain_order(struct bundle *b)
{
	STACK_OF(X509) *in = b->chain;
	STACK_OF(X509) *out = sk_X509_new_null();
	X509 *cur = b->leaf;

	if (!out)
		return ENOMEM;

	while (X509_self_signed(cur, 0) != 1) {
		X509 *next = NULL;

		for (int i = 0; i < sk_X509_num(in) && !next; i++) {
			X509 *x = sk_X509_value(in, i);

			if (X509_cmp(x, cur) &&
			    X509_check_issued(x, cur) == X509_V_OK)
				next = sk_X509_delete(in, i);
		}

		if (!next)
			break;

		if (!sk_X509_push(out, next)) {
			X509_free(next);
			goto nomem;
		}
		cur = next;
	}

	while (sk_X509_num(in) > 0) {
		X509 *x = sk_X509_shift(in);

		if (!X509_cmp(x, b->leaf)) {
			X509_free(x);
		}
		else if (!sk_X509_push(out, x)) {
			X509_free(x);
			goto nomem;
		}
	}

	ERR_clear_error();
	sk_X509_free(in);
	b->chain = out;

	return 0;

nomem:
	sk_X509_pop_free(out, X509_free);

	return ENOMEM;
}


static int validity_check(X509 *x, const char *what, char *why, size_t sz)
{
	const ASN1_TIME *nb = X509_get0_notBefore(x);
	const ASN1_TIME *na = X509_get0_notAfter(x);
	int b = X509_cmp_current_time(nb);
	int a = X509_cmp_current_time(na);
	char date[32];

	if (!a || !b) {
		ERR_clear_error();
		why_set(why, sz, "%s has unreadable validity dates", what);
		return EBADMSG;
	}

	if (b > 0) {
		time_print(date, sizeof(date), nb);
		why_set(why, sz, "%s is not valid before %s", what, date);
		return EKEYEXPIRED;
	}

	if (a < 0) {
		time_print(date, sizeof(date), na);
		why_set(why, sz, "%s expired on %s", what, date);
		return EKEYEXPIRED;
	}

	return 0;
}


static int bundle_check(const struct bundle *b, char *why, size_t sz)
{
	EVP_PKEY *pub = X509_get0_pubkey(b->leaf);
	int err;

	/* SPEC §2's TLS 1.2 suites are ECDHE-RSA: they need an RSA key */
	if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
		why_set(why, sz,
			"the certificate's key is not RSA (the "
			"ECDHE-RSA suites of TLS 1.2 need one)");
		return EKEYREJECTED;
	}

	if (EVP_PKEY_get_bits(pub) < RSA_BITS) {
		why_set(why, sz,
			"the certificate's RSA key has %d bits, at least %d "
			"are required",
			EVP_PKEY_get_bits(pub), (int)RSA_BITS);
		return EKEYREJECTED;
	}

	if (X509_check_private_key(b->leaf, b->key) != 1) {
		ERR_clear_error();
		why_set(why, sz,
			"the private key does not match the "
			"certificate (the first certificate must be "
			"the one issued for this key)");
		return EKEYREJECTED;
	}

	err = validity_check(b->leaf, "the certificate", why, sz);

	for (int i = 0; !err && i < sk_X509_num(b->chain); i++) {
		X509 *x = sk_X509_value(b->chain, i);
		char subject[256], what[300];

		name_print(subject, sizeof(subject), X509_get_subject_name(x));
		re_snprintf(what, sizeof(what), "chain certificate %s",
			    subject);
		err = validity_check(x, what, why, sz);
	}

	return err;
}


static bool is_pem(const uint8_t *data, size_t len)
{
	static const char begin[] = "-----BEGIN ";

	return memmem(data, len, begin, sizeof(begin) - 1) != NULL;
}


static int bundle_read(struct bundle *b, const char *key_path,
		       const uint8_t *data, size_t len, const char *pass,
		       char *why, size_t sz)
{
	int err;

	b->chain = sk_X509_new_null();
	if (!b->chain)
		return ENOMEM;

	if (is_pem(data, len))
		err = pem_parse(b, data, len, pass, why, sz);
	else
		err = p12_parse(b, data, len, pass, why, sz);
	if (err)
		return err;

	if (!b->key) {
		err = key_load(&b->key, key_path, why, sz);
		if (err)
			return err;
	}

	err = chain_order(b);
	if (err)
		return err;

	return bundle_check(b, why, sz);
}


/**
 * Install a certificate with its private key and chain
 *
 * data is a PEM chain (leaf first, then the intermediates; a private key
 * in it, encrypted with p12_pass or not, is used instead of key_path) or
 * a PKCS#12 bundle (key, leaf and chain) opened with p12_pass. Refused:
 * a key that does not match the leaf, a leaf key that is not RSA of at
 * least 2048 bits, a certificate of the chain that has expired or is not
 * valid yet. What is accepted is written to out_path (key, leaf, then the
 * chain from the leaf up; PEM; mode 0600) through a temporary file renamed
 * over it; sipstack_tls_reload() then puts it in service.
 *
 * @param out_path Certificate file of the SIP listeners (tls_cert)
 * @param key_path Key made by tlscert_csr(), for a chain without a key
 * @param data     PEM or PKCS#12 (DER) data, at most 1 MiB
 * @param len      Length of data
 * @param p12_pass Password of the PKCS#12 bundle or PEM key, or NULL
 * @param why      Why it was refused (empty on success), or NULL
 * @param sz       Size of why
 *
 * @return 0 if success, EBADMSG if the data (or the key file) cannot be
 *         read or the password is wrong, ENOENT if there is no key,
 *         EKEYREJECTED if the key does not match or is too weak,
 *         EKEYEXPIRED if a certificate has expired or is not yet valid,
 *         EFBIG if data is too large, otherwise errorcode
 */
int tlscert_install(const char *out_path, const char *key_path,
		    const uint8_t *data, size_t len, const char *p12_pass,
		    char *why, size_t sz)
{
	struct bundle b = { 0 };
	struct tlscert_info ci;
	char until[32];
	int err;

	why_set(why, sz, "");

	if (!out_path || !out_path[0] || !data || !len) {
		why_set(why, sz, "nothing to install");
		return EINVAL;
	}

	if (len > BUNDLE_MAX) {
		why_set(why, sz, "more than %u bytes", (unsigned)BUNDLE_MAX);
		return EFBIG;
	}

	err = bundle_read(&b, key_path, data, len, p12_pass, why, sz);
	if (err)
		goto out;

	err = dir_ensure(out_path);
	if (!err)
		err = pem_write(out_path, b.key, b.leaf, b.chain);
	if (err) {
		why_set(why, sz, "cannot write %s: %m", out_path, err);
		goto out;
	}

	info_fill(&ci, b.leaf);
	time_print(until, sizeof(until), X509_get0_notAfter(b.leaf));
	log_notice("%s: installed certificate %s issued by %s, %d chain "
		   "certificate(s), valid until %s",
		   out_path, ci.subject, ci.issuer, sk_X509_num(b.chain),
		   until);

out:
	if (err)
		log_warn("certificate not installed: %s",
			 why && why[0] ? why : "error");

	bundle_clear(&b);
	ERR_clear_error();

	return err;
}

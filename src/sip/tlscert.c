/**
 * @file tlscert.c  The TLS certificate of the SIP listeners: load it, or
 *                  generate a self-signed one at first start
 *
 * The file holds the private key and then the certificate, PEM encoded,
 * which is what libre's tls_alloc() reads.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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
	CN_MAX = 64, /* RFC 5280 ub-common-name */
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


/* Never prompt on a terminal for a passphrase */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;

	return 0;
}


static void log_cert(const char *path, const X509 *cert)
{
	const ASN1_TIME *na = X509_get0_notAfter(cert);
	char subject[256];
	char until[32] = "?";
	struct tm tm;
	int days = 0, secs = 0;

	X509_NAME_oneline(X509_get_subject_name(cert), subject,
			  sizeof(subject));

	if (ASN1_TIME_to_tm(na, &tm))
		(void)strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S UTC",
			       &tm);

	log_info("%s: certificate %s, valid until %s", path, subject, until);

	if (!ASN1_TIME_diff(&days, &secs, NULL, na)) {
		ERR_clear_error();
		return;
	}

	if (days < 0 || (days == 0 && secs <= 0))
		log_warn("%s: certificate has expired (%s)", path, until);
	else if (days < EXPIRY_WARN_DAYS)
		log_warn("%s: certificate expires in %d days (%s)", path, days,
			 until);
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
	key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (BIO_reset(bio) == 0)
		cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);

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


/* Write key and certificate to a new file beside path, then rename it */
static int write_pem(const char *path, EVP_PKEY *key, X509 *cert)
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
	    !PEM_write_X509(f, cert)) {
		ssl_log(tmp, "cannot write PEM");
		err = EIO;
	}

	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		err = err ? err : errno;

	if (fclose(f) != 0)
		err = err ? err : errno;

	if (!err && rename(tmp, path) != 0)
		err = errno;

out:
	if (err) {
		log_error("%s: cannot write certificate: %m", path, err);
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

	err = write_pem(path, key, cert);
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

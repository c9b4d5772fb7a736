/**
 * @file test_tlscert.c  TLS certificates: the self-signed one (generation,
 *                       reload, rejection of broken files), key and CSR,
 *                       installing PEM and PKCS#12, what a file holds
 *
 * Three RSA 2048 keys are generated once per run (key generation is slow
 * under ASan): the self-signed certificates for a host name and for an IP
 * address, and the key of a CSR. A test PKI is built from them: the IP
 * certificate's key signs a root CA, the host name certificate's key an
 * intermediate, the intermediate signs the CSR. Everything lives in a
 * directory made with mkdtemp() that is removed at the end.
 */

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <re.h>
#include "core/core.h"
#include "sip/sip.h"
#include "testdir.h"

struct fixture {
	char dir[64];
	char dns_path[160]; /**< dir/a/b/dns.pem, CN pbx.example.org */
	char ip_path[160];  /**< dir/ip.pem, CN 127.0.0.1            */
	char key_path[160]; /**< dir/pending/csr.key, the CSR's key  */
	char *csr;	    /**< PEM of the CSR (mem object)          */
	EVP_PKEY *root_key; /**< the key of ip.pem                   */
	EVP_PKEY *int_key;  /**< the key of dns.pem                  */
	EVP_PKEY *leaf_key; /**< the key of the CSR                  */
	X509 *root;	    /**< CN=Test Root, CA                     */
	X509 *inter;	    /**< CN=Test Intermediate, CA, by root    */
	X509 *leaf;	    /**< the CSR signed by inter, 100 days    */
};

static int pki_make(struct fixture *f);
static void pki_free(struct fixture *f);


static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;

	re_snprintf(f->dir, sizeof(f->dir), "/tmp/relais-tlscert-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}

	re_snprintf(f->dns_path, sizeof(f->dns_path), "%s/a/b/dns.pem",
		    f->dir);
	re_snprintf(f->ip_path, sizeof(f->ip_path), "%s/ip.pem", f->dir);

	re_snprintf(f->key_path, sizeof(f->key_path), "%s/pending/csr.key",
		    f->dir);

	if (tlscert_ensure(f->dns_path, "pbx.example.org") ||
	    tlscert_ensure(f->ip_path, "127.0.0.1") ||
	    tlscert_csr(f->key_path, 2048, "pbx.customer.test",
			"pbx2.customer.test, 192.0.2.10,PBX.customer.test",
			"Customer SA", "FR", &f->csr) ||
	    pki_make(f)) {
		pki_free(f);
		testdir_remove(f->dir);
		free(f);
		return -1;
	}

	*state = f;

	return 0;
}


static int group_teardown(void **state)
{
	struct fixture *f = *state;

	pki_free(f);
	testdir_remove(f->dir);
	free(f);

	return 0;
}


static void pem_load(const char *path, EVP_PKEY **keyp, X509 **certp)
{
	BIO *bio = BIO_new_file(path, "r");

	assert_non_null(bio);
	*keyp = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	assert_non_null(*keyp);
	*certp = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(*certp);
	BIO_free(bio);
}


static int file_read(const char *path, char *buf, size_t sz, size_t *n)
{
	FILE *fp = fopen(path, "r");

	if (!fp)
		return errno;

	*n = fread(buf, 1, sz, fp);
	fclose(fp);

	return 0;
}


static void file_write(const char *path, const char *data, size_t n)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}


/* Count the subjectAltName entries of one type; copy the last value */
static int san_count(X509 *cert, int type, unsigned char *val, size_t sz,
		     size_t *len)
{
	GENERAL_NAMES *gens;
	int n = 0;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (!gens)
		return 0;

	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		int t;
		ASN1_STRING *s = GENERAL_NAME_get0_value(gn, &t);

		if (t != type)
			continue;

		++n;
		*len = (size_t)ASN1_STRING_length(s);
		if (*len <= sz)
			memcpy(val, ASN1_STRING_get0_data(s), *len);
	}

	GENERAL_NAMES_free(gens);

	return n;
}


static void check_common(const char *path, const char *cn, EVP_PKEY **keyp,
			 X509 **certp)
{
	EVP_PKEY *key;
	X509 *cert;
	struct stat st;
	char name[128];
	int days = 0, secs = 0;
	const ASN1_INTEGER *serial;
	BIGNUM *bn;

	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	pem_load(path, &key, &cert);

	assert_int_equal(X509_check_private_key(cert, key), 1);
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(key), 2048);
	assert_int_equal(X509_get_version(cert), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(cert),
			 NID_sha256WithRSAEncryption);

	/* self-signed, CN as asked */
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(cert),
				       X509_get_issuer_name(cert)),
			 0);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					      NID_commonName, name,
					      sizeof(name)) > 0);
	assert_string_equal(name, cn);
	assert_int_equal(X509_verify(cert, key), 1);

	/* 825 days, starting now */
	assert_int_equal(ASN1_TIME_diff(&days, &secs,
					X509_get0_notBefore(cert),
					X509_get0_notAfter(cert)),
			 1);
	assert_int_equal(days, 825);
	assert_int_equal(secs, 0);
	assert_true(X509_cmp_current_time(X509_get0_notBefore(cert)) <= 0);
	assert_true(X509_cmp_current_time(X509_get0_notAfter(cert)) > 0);

	/* a positive, non-zero serial of at most 64 bits */
	serial = X509_get0_serialNumber(cert);
	bn = ASN1_INTEGER_to_BN(serial, NULL);
	assert_non_null(bn);
	assert_false(BN_is_zero(bn));
	assert_false(BN_is_negative(bn));
	assert_true(BN_num_bits(bn) <= 64);
	BN_free(bn);

	/* extensions: CA:FALSE, key usage, serverAuth and clientAuth */
	assert_int_equal(X509_check_ca(cert), 0);
	assert_true(X509_get_extension_flags(cert) & EXFLAG_BCONS);
	assert_int_equal(X509_get_key_usage(cert),
			 KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_int_equal(X509_get_extended_key_usage(cert),
			 XKU_SSL_SERVER | XKU_SSL_CLIENT);
	assert_int_equal(X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 0),
			 1);
	assert_int_equal(X509_check_purpose(cert, X509_PURPOSE_SSL_CLIENT, 0),
			 1);

	*keyp = key;
	*certp = cert;
}


static void test_dns_name(void **state)
{
	struct fixture *f = *state;
	unsigned char val[64];
	size_t len = 0;
	EVP_PKEY *key;
	X509 *cert;
	struct stat st;
	char dir[160];

	check_common(f->dns_path, "pbx.example.org", &key, &cert);

	assert_int_equal(san_count(cert, GEN_DNS, val, sizeof(val), &len), 1);
	assert_int_equal(len, strlen("pbx.example.org"));
	assert_memory_equal(val, "pbx.example.org", len);
	assert_int_equal(san_count(cert, GEN_IPADD, val, sizeof(val), &len),
			 0);
	assert_int_equal(X509_check_host(cert, "pbx.example.org", 0, 0, NULL),
			 1);
	assert_int_equal(X509_check_host(cert, "other.example.org", 0, 0,
					 NULL),
			 0);

	/* both new directories are private */
	re_snprintf(dir, sizeof(dir), "%s/a", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	re_snprintf(dir, sizeof(dir), "%s/a/b", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	X509_free(cert);
	EVP_PKEY_free(key);
}


static void test_ip_address(void **state)
{
	static const unsigned char loop4[4] = { 127, 0, 0, 1 };
	struct fixture *f = *state;
	unsigned char val[64];
	size_t len = 0;
	EVP_PKEY *key;
	X509 *cert;

	check_common(f->ip_path, "127.0.0.1", &key, &cert);

	assert_int_equal(san_count(cert, GEN_IPADD, val, sizeof(val), &len),
			 1);
	assert_int_equal(len, 4);
	assert_memory_equal(val, loop4, 4);
	assert_int_equal(san_count(cert, GEN_DNS, val, sizeof(val), &len), 1);
	assert_int_equal(len, strlen("127.0.0.1"));
	assert_int_equal(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(cert, "127.0.0.2", 0), 0);

	X509_free(cert);
	EVP_PKEY_free(key);
}


/* Two certificates of one run differ in key and serial */
static void test_unique(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *k1, *k2;
	X509 *c1, *c2;

	pem_load(f->dns_path, &k1, &c1);
	pem_load(f->ip_path, &k2, &c2);

	assert_int_not_equal(EVP_PKEY_eq(k1, k2), 1);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(c1),
					      X509_get0_serialNumber(c2)),
			     0);
	assert_int_equal(X509_check_private_key(c1, k2), 0);

	X509_free(c1);
	X509_free(c2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}


/* An existing valid file is loaded and left alone */
static void test_reload(void **state)
{
	struct fixture *f = *state;
	static char before[16384], after[16384];
	size_t n1 = 0, n2 = 0;
	struct stat st1, st2;

	assert_int_equal(file_read(f->dns_path, before, sizeof(before), &n1),
			 0);
	assert_true(n1 > 1000 && n1 < sizeof(before));
	assert_int_equal(stat(f->dns_path, &st1), 0);

	/* the cn of a later call does not matter for an existing file */
	assert_int_equal(tlscert_ensure(f->dns_path, "another.example.org"),
			 0);

	assert_int_equal(file_read(f->dns_path, after, sizeof(after), &n2), 0);
	assert_int_equal(stat(f->dns_path, &st2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	assert_int_equal(st1.st_ino, st2.st_ino);

	/* the key comes first, then the certificate */
	assert_non_null(strstr(before, "-----BEGIN PRIVATE KEY-----"));
	assert_true(strstr(before, "-----BEGIN PRIVATE KEY-----") <
		    strstr(before, "-----BEGIN CERTIFICATE-----"));

	/* no temporary file is left beside it */
	{
		char dir[160];
		struct dirent *de;
		DIR *d;
		int count = 0;

		re_snprintf(dir, sizeof(dir), "%s/a/b", f->dir);
		d = opendir(dir);
		assert_non_null(d);
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] != '.')
				++count;
		}
		closedir(d);
		assert_int_equal(count, 1);
	}
}


/* libre's TLS context loads the file, as sipstack.c does */
static void test_libre_loads(void **state)
{
	struct fixture *f = *state;
	struct tls *tls = NULL;

	assert_int_equal(tls_alloc(&tls, TLS_METHOD_SSLV23, f->dns_path, NULL),
			 0);
	assert_non_null(tls);
	tls = mem_deref(tls);

	assert_int_equal(tls_alloc(&tls, TLS_METHOD_SSLV23, f->ip_path, NULL),
			 0);
	tls = mem_deref(tls);
}


static void test_invalid(void **state)
{
	struct fixture *f = *state;
	static char pem[16384];
	char path[160], ip_pem[16384];
	const char *cert_at, *key_at;
	size_t n = 0, m = 0;

	assert_int_equal(file_read(f->dns_path, pem, sizeof(pem) - 1, &n), 0);
	pem[n] = '\0';
	key_at = strstr(pem, "-----BEGIN PRIVATE KEY-----");
	cert_at = strstr(pem, "-----BEGIN CERTIFICATE-----");
	assert_non_null(key_at);
	assert_non_null(cert_at);

	re_snprintf(path, sizeof(path), "%s/bad.pem", f->dir);

	/* garbage */
	file_write(path, "hello world\n", 12);
	assert_int_equal(tlscert_ensure(path, "pbx.example.org"), EBADMSG);

	/* an empty file */
	file_write(path, "", 0);
	assert_int_equal(tlscert_ensure(path, "pbx.example.org"), EBADMSG);

	/* the key only */
	file_write(path, key_at, (size_t)(cert_at - key_at));
	assert_int_equal(tlscert_ensure(path, "pbx.example.org"), EBADMSG);

	/* the certificate only */
	file_write(path, cert_at, strlen(cert_at));
	assert_int_equal(tlscert_ensure(path, "pbx.example.org"), EBADMSG);

	/* a truncated certificate */
	file_write(path, pem, n - 100);
	assert_int_equal(tlscert_ensure(path, "pbx.example.org"), EBADMSG);

	/* the key of one file with the certificate of the other */
	assert_int_equal(file_read(f->ip_path, ip_pem, sizeof(ip_pem) - 1, &m),
			 0);
	ip_pem[m] = '\0';
	{
		const char *ip_cert = strstr(ip_pem, "-----BEGIN CERTIFICATE");
		FILE *fp;

		assert_non_null(ip_cert);
		fp = fopen(path, "w");
		assert_non_null(fp);
		fwrite(key_at, 1, (size_t)(cert_at - key_at), fp);
		fwrite(ip_cert, 1, strlen(ip_cert), fp);
		fclose(fp);
	}
	assert_int_equal(tlscert_ensure(path, "pbx.example.org"), EBADMSG);

	/* certificate before key is fine */
	{
		FILE *fp = fopen(path, "w");

		assert_non_null(fp);
		fwrite(cert_at, 1, strlen(cert_at), fp);
		fwrite(key_at, 1, (size_t)(cert_at - key_at), fp);
		fclose(fp);
	}
	assert_int_equal(tlscert_ensure(path, "pbx.example.org"), 0);

	/* a directory where the file should be */
	re_snprintf(path, sizeof(path), "%s/a", f->dir);
	assert_int_equal(tlscert_ensure(path, "pbx.example.org"), EBADMSG);
}


static void test_args(void **state)
{
	struct fixture *f = *state;
	char path[160];
	struct stat st;

	assert_int_equal(tlscert_ensure(NULL, "x"), EINVAL);
	assert_int_equal(tlscert_ensure("", "x"), EINVAL);

	re_snprintf(path, sizeof(path), "%s/new/c.pem", f->dir);
	assert_int_equal(tlscert_ensure(path, NULL), EINVAL);

	/* names that would smuggle text into the certificate */
	assert_int_equal(tlscert_ensure(path, ""), EINVAL);
	assert_int_equal(tlscert_ensure(path, "a.example,DNS:evil"), EINVAL);
	assert_int_equal(tlscert_ensure(path, "a b"), EINVAL);
	assert_int_equal(tlscert_ensure(path, "a\nb"), EINVAL);
	assert_int_equal(
	    tlscert_ensure(path, "a123456789012345678901234567890123456789"
				 "0123456789012345678901234.example"),
	    EINVAL);

	/* nothing was created for them */
	assert_int_not_equal(stat(path, &st), 0);

	/* a path below a regular file cannot be made */
	re_snprintf(path, sizeof(path), "%s/ip.pem/c.pem", f->dir);
	assert_int_equal(tlscert_ensure(path, "x.example"), ENOTDIR);
}


/* ---- test PKI -------------------------------------------------------- */

static EVP_PKEY *key_read(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *key;

	if (!bio)
		return NULL;

	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);

	return key;
}


static int ext_add(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);

	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;

	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);

	return ok ? 0 : -1;
}


/* A certificate for pub, named subject (or CN=cn), issued by issuer with
 * issuer_key (issuer NULL: self-signed), valid from now + from_days to
 * now + to_days; a CA, or a leaf with the extensions exts (or the usual
 * server/client ones) */
static X509 *cert_make(EVP_PKEY *pub, const X509_NAME *subject, const char *cn,
		       X509 *issuer, EVP_PKEY *issuer_key, long from_days,
		       long to_days, bool ca,
		       const STACK_OF(X509_EXTENSION) * exts)
{
	static long serial;
	time_t now = time(NULL);
	X509 *x = X509_new();
	int err = 0;

	if (!x)
		return NULL;

	err |= !X509_set_version(x, X509_VERSION_3);
	err |= !ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial);
	err |= !X509_time_adj_ex(X509_getm_notBefore(x), from_days, 0, &now);
	err |= !X509_time_adj_ex(X509_getm_notAfter(x), to_days, 0, &now);
	if (subject)
		err |= !X509_set_subject_name(x, subject);
	else
		err |= !X509_NAME_add_entry_by_txt(X509_get_subject_name(x),
						   "CN", MBSTRING_UTF8,
						   (const unsigned char *)cn,
						   -1, -1, 0);
	err |= !X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer
								     : x));
	err |= !X509_set_pubkey(x, pub);
	err |= ext_add(x, issuer, NID_subject_key_identifier, "hash");
	if (issuer)
		err |= ext_add(x, issuer, NID_authority_key_identifier,
			       "keyid:always");

	if (ca) {
		err |= ext_add(x, issuer, NID_basic_constraints,
			       "critical,CA:TRUE");
		err |= ext_add(x, issuer, NID_key_usage,
			       "critical,keyCertSign,cRLSign");
	}
	else if (exts) {
		for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++)
			err |=
			    !X509_add_ext(x, sk_X509_EXTENSION_value(exts, i),
					  -1);
	}
	else {
		err |= ext_add(x, issuer, NID_ext_key_usage,
			       "serverAuth,clientAuth");
	}

	err |= !X509_sign(x, issuer_key, EVP_sha256());
	if (err) {
		X509_free(x);
		return NULL;
	}

	return x;
}


static X509_REQ *csr_read(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509_REQ *req;

	if (!bio)
		return NULL;

	req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	BIO_free(bio);

	return req;
}


static int pki_make(struct fixture *f)
{
	STACK_OF(X509_EXTENSION) * exts;
	X509_REQ *req;

	f->root_key = key_read(f->ip_path);
	f->int_key = key_read(f->dns_path);
	f->leaf_key = key_read(f->key_path);
	if (!f->root_key || !f->int_key || !f->leaf_key)
		return -1;

	f->root = cert_make(f->root_key, NULL, "Test Root", NULL, f->root_key,
			    0, 365, true, NULL);
	if (!f->root)
		return -1;

	f->inter = cert_make(f->int_key, NULL, "Test Intermediate", f->root,
			     f->root_key, 0, 365, true, NULL);
	if (!f->inter)
		return -1;

	/* what a CA does with the CSR: its subject, key and names */
	req = csr_read(f->csr);
	if (!req)
		return -1;

	exts = X509_REQ_get_extensions(req);
	f->leaf = cert_make(X509_REQ_get0_pubkey(req),
			    X509_REQ_get_subject_name(req), NULL, f->inter,
			    f->int_key, 0, 100, false, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);

	return f->leaf ? 0 : -1;
}


static void pki_free(struct fixture *f)
{
	X509_free(f->leaf);
	X509_free(f->inter);
	X509_free(f->root);
	EVP_PKEY_free(f->leaf_key);
	EVP_PKEY_free(f->int_key);
	EVP_PKEY_free(f->root_key);
	f->csr = mem_deref(f->csr);
}


/* PEM of the certificates of the NULL-terminated list certs, then key
 * (encrypted with pass if not NULL) if not NULL; returns its length */
static size_t pem_build(char *buf, size_t sz, X509 *const *certs,
			EVP_PKEY *key, const char *pass)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int n;

	assert_non_null(bio);
	for (size_t i = 0; certs[i]; i++)
		assert_int_equal(PEM_write_bio_X509(bio, certs[i]), 1);

	if (key)
		assert_int_equal(PEM_write_bio_PrivateKey(
				     bio, key, pass ? EVP_aes_256_cbc() : NULL,
				     NULL, 0, NULL, (void *)pass),
				 1);

	n = BIO_read(bio, buf, (int)sz);
	assert_true(n > 0 && (size_t)n < sz);
	BIO_free(bio);

	return (size_t)n;
}


/* The key and the certificates (at most max, in order) of a PEM file;
 * returns how many certificates */
static int file_certs(const char *path, EVP_PKEY **keyp, X509 **certs, int max)
{
	BIO *bio = BIO_new_file(path, "r");
	int n = 0;

	assert_non_null(bio);
	*keyp = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	assert_non_null(*keyp);
	assert_int_equal(BIO_reset(bio), 0);

	while (n < max) {
		certs[n] = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (!certs[n])
			break;
		++n;
	}

	BIO_free(bio);

	return n;
}


/* The file holds the leaf's key, then exactly the certificates want */
static void check_installed(const char *path, const struct fixture *f,
			    X509 *const *want)
{
	static char text[32768];
	X509 *certs[8];
	EVP_PKEY *key;
	struct stat st;
	size_t len = 0;
	int n, m = 0;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(file_read(path, text, sizeof(text) - 1, &len), 0);
	text[len] = '\0';
	assert_ptr_equal(strstr(text, "-----BEGIN PRIVATE KEY-----"), text);

	n = file_certs(path, &key, certs, 8);
	assert_int_equal(EVP_PKEY_eq(key, f->leaf_key), 1);

	while (want[m])
		++m;
	assert_int_equal(n, m);

	for (int i = 0; i < n; i++) {
		assert_int_equal(X509_cmp(certs[i], want[i]), 0);
		X509_free(certs[i]);
	}

	EVP_PKEY_free(key);
}


/* entries in dir, "." and ".." aside */
static int dir_count(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			++n;
	}
	closedir(d);

	return n;
}


/* ---- key and CSR ------------------------------------------------------ */

static void test_csr(void **state)
{
	static const unsigned char ip[4] = { 192, 0, 2, 10 };
	struct fixture *f = *state;
	STACK_OF(X509_EXTENSION) * exts;
	EXTENDED_KEY_USAGE *eku;
	GENERAL_NAMES *gens;
	X509_REQ *req;
	EVP_PKEY *pub, *key;
	X509_NAME *name;
	struct stat st;
	char text[128], dir[160];

	req = csr_read(f->csr);
	assert_non_null(req);
	assert_non_null(strstr(f->csr, "-----BEGIN CERTIFICATE REQUEST"));

	/* RSA 2048, signed by its own key with SHA-256 */
	assert_int_equal(X509_REQ_get_version(req), X509_REQ_VERSION_1);
	pub = X509_REQ_get0_pubkey(req);
	assert_non_null(pub);
	assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
	assert_int_equal(X509_REQ_verify(req, pub), 1);
	assert_int_equal(X509_REQ_get_signature_nid(req),
			 NID_sha256WithRSAEncryption);

	name = X509_REQ_get_subject_name(req);
	assert_int_equal(X509_NAME_entry_count(name), 3);
	assert_true(X509_NAME_get_text_by_NID(name, NID_commonName, text,
					      sizeof(text)) > 0);
	assert_string_equal(text, "pbx.customer.test");
	assert_true(X509_NAME_get_text_by_NID(name, NID_organizationName, text,
					      sizeof(text)) > 0);
	assert_string_equal(text, "Customer SA");
	assert_true(X509_NAME_get_text_by_NID(name, NID_countryName, text,
					      sizeof(text)) > 0);
	assert_string_equal(text, "FR");

	/* subjectAltName: the CN, then the list, a repeat dropped */
	exts = X509_REQ_get_extensions(req);
	assert_non_null(exts);
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 3);
	{
		static const char *dns[2] = { "pbx.customer.test",
					      "pbx2.customer.test" };

		for (int i = 0; i < 3; i++) {
			int type;
			ASN1_STRING *v =
			    GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens,
									  i),
						    &type);

			if (i < 2) {
				assert_int_equal(type, GEN_DNS);
				assert_int_equal(ASN1_STRING_length(v),
						 strlen(dns[i]));
				assert_memory_equal(ASN1_STRING_get0_data(v),
						    dns[i], strlen(dns[i]));
			}
			else {
				assert_int_equal(type, GEN_IPADD);
				assert_int_equal(ASN1_STRING_length(v), 4);
				assert_memory_equal(ASN1_STRING_get0_data(v),
						    ip, 4);
			}
		}
	}
	GENERAL_NAMES_free(gens);

	/* serverAuth and clientAuth: the same certificate serves both */
	eku = X509V3_get_d2i(exts, NID_ext_key_usage, NULL, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 2);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
			 NID_server_auth);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 1)),
			 NID_client_auth);
	EXTENDED_KEY_USAGE_free(eku);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);

	/* the key file: private, alone in its new directory, the CSR's */
	assert_int_equal(stat(f->key_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	re_snprintf(dir, sizeof(dir), "%s/pending", f->dir);
	assert_int_equal(dir_count(dir), 1);
	key = key_read(f->key_path);
	assert_non_null(key);
	assert_int_equal(EVP_PKEY_eq(key, pub), 1);
	assert_int_equal(EVP_PKEY_eq(key, f->int_key), 0);
	EVP_PKEY_free(key);

	X509_REQ_free(req);
}


static void test_csr_args(void **state)
{
	struct fixture *f = *state;
	char path[160];
	char *pem = NULL;
	struct stat st;

	re_snprintf(path, sizeof(path), "%s/args/new.key", f->dir);

	assert_int_equal(tlscert_csr(path, 1024, "a.example", NULL, NULL, NULL,
				     &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 2047, "a.example", NULL, NULL, NULL,
				     &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 8193, "a.example", NULL, NULL, NULL,
				     &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(NULL, 2048, "a.example", NULL, NULL, NULL,
				     &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr("", 2048, "a.example", NULL, NULL, NULL,
				     &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 2048, NULL, NULL, NULL, NULL, &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 2048, "a.example", NULL, NULL, NULL,
				     NULL),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 2048, "a b", NULL, NULL, NULL,
				     &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 2048, "a.example",
				     "b.example,bad name", NULL, NULL, &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 2048, "a.example",
				     "b.example,DNS:evil", NULL, NULL, &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 2048, "a.example", "x:y", NULL,
				     NULL, &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 2048, "a.example", NULL,
				     "Acme\nCN=evil", NULL, &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 2048, "a.example", NULL, NULL, "fr",
				     &pem),
			 EINVAL);
	assert_int_equal(tlscert_csr(path, 2048, "a.example", NULL, NULL,
				     "FRA", &pem),
			 EINVAL);

	/* nothing was made for them */
	assert_null(pem);
	assert_int_not_equal(stat(path, &st), 0);
}


/* ---- what a file holds ------------------------------------------------ */

static void test_info(void **state)
{
	struct fixture *f = *state;
	struct tlscert_info ci;
	char path[160];

	assert_int_equal(tlscert_info_file(&ci, f->dns_path), 0);
	assert_string_equal(ci.subject, "CN=pbx.example.org");
	assert_string_equal(ci.issuer, "CN=pbx.example.org");
	assert_true(ci.self_signed);
	assert_int_equal(ci.key_bits, 2048);
	assert_int_equal(ci.not_after - ci.not_before, 825 * 86400);
	assert_true(ci.not_before <= (int64_t)time(NULL));
	/* a second after generation there are 824 whole days left */
	assert_true(ci.days_left == 824 || ci.days_left == 825);

	assert_int_equal(tlscert_info_file(&ci, NULL), EINVAL);
	assert_int_equal(tlscert_info_file(NULL, f->dns_path), EINVAL);

	re_snprintf(path, sizeof(path), "%s/none.pem", f->dir);
	assert_int_equal(tlscert_info_file(&ci, path), ENOENT);

	/* the key alone is no certificate */
	assert_int_equal(tlscert_info_file(&ci, f->key_path), EBADMSG);
}


/* An expired certificate shows a negative number of days */
static void test_info_expired(void **state)
{
	struct fixture *f = *state;
	struct tlscert_info ci;
	char path[160];
	static char pem[8192];
	X509 *old[2] = { NULL, NULL };
	size_t n;

	old[0] = cert_make(f->leaf_key, NULL, "old.example", f->inter,
			   f->int_key, -20, -3, false, NULL);
	assert_non_null(old[0]);
	n = pem_build(pem, sizeof(pem), old, NULL, NULL);

	re_snprintf(path, sizeof(path), "%s/old.pem", f->dir);
	file_write(path, pem, n);

	assert_int_equal(tlscert_info_file(&ci, path), 0);
	assert_string_equal(ci.subject, "CN=old.example");
	assert_string_equal(ci.issuer, "CN=Test Intermediate");
	assert_false(ci.self_signed);
	assert_true(ci.days_left == -3 || ci.days_left == -4);

	X509_free(old[0]);
}


/* ---- installing ------------------------------------------------------- */

static void test_install_pem(void **state)
{
	struct fixture *f = *state;
	X509 *given[4] = { f->leaf, f->inter, f->root, NULL };
	X509 *shuffled[4] = { f->leaf, f->root, f->inter, NULL };
	static char pem[32768];
	struct tlscert_info ci;
	struct tls *tls = NULL;
	char out[160], dir[160], why[256] = "x";
	size_t n;

	re_snprintf(dir, sizeof(dir), "%s/inst", f->dir);
	re_snprintf(out, sizeof(out), "%s/relaisd.pem", dir);

	n = pem_build(pem, sizeof(pem), given, NULL, NULL);
	assert_int_equal(tlscert_install(out, f->key_path, (uint8_t *)pem, n,
					 NULL, why, sizeof(why)),
			 0);
	assert_string_equal(why, "");
	check_installed(out, f, given);

	assert_int_equal(tlscert_info_file(&ci, out), 0);
	assert_string_equal(ci.subject, "CN=pbx.customer.test,O=Customer SA,"
					"C=FR");
	assert_string_equal(ci.issuer, "CN=Test Intermediate");
	assert_false(ci.self_signed);
	assert_int_equal(ci.key_bits, 2048);
	assert_true(ci.days_left == 99 || ci.days_left == 100);

	/* libre loads it as the listener's certificate */
	assert_int_equal(tls_alloc(&tls, TLS_METHOD_SSLV23, out, NULL), 0);
	tls = mem_deref(tls);

	/* the chain comes out from the leaf up, whatever the order given */
	n = pem_build(pem, sizeof(pem), shuffled, NULL, NULL);
	assert_int_equal(tlscert_install(out, f->key_path, (uint8_t *)pem, n,
					 NULL, why, sizeof(why)),
			 0);
	check_installed(out, f, given);

	/* no temporary file is left */
	assert_int_equal(dir_count(dir), 1);
}


/* A PEM that holds its own key (encrypted or not) needs no key file */
static void test_install_pem_key(void **state)
{
	struct fixture *f = *state;
	X509 *given[3] = { f->leaf, f->inter, NULL };
	static char pem[32768];
	char out[160], none[160], why[256];
	size_t n;

	re_snprintf(out, sizeof(out), "%s/inst-key/relaisd.pem", f->dir);
	re_snprintf(none, sizeof(none), "%s/none.key", f->dir);

	n = pem_build(pem, sizeof(pem), given, f->leaf_key, "pem-secret");
	assert_int_equal(tlscert_install(out, none, (uint8_t *)pem, n,
					 "pem-secret", why, sizeof(why)),
			 0);
	check_installed(out, f, given);

	assert_int_equal(tlscert_install(out, none, (uint8_t *)pem, n, "wrong",
					 why, sizeof(why)),
			 EBADMSG);
	assert_non_null(strstr(why, "password"));
	assert_int_equal(tlscert_install(out, none, (uint8_t *)pem, n, NULL,
					 why, sizeof(why)),
			 EBADMSG);

	n = pem_build(pem, sizeof(pem), given, f->leaf_key, NULL);
	assert_int_equal(tlscert_install(out, NULL, (uint8_t *)pem, n, NULL,
					 why, sizeof(why)),
			 0);
	check_installed(out, f, given);
}


static void test_install_mismatch(void **state)
{
	struct fixture *f = *state;
	X509 *given[3] = { f->leaf, f->inter, NULL };
	X509 *inter_first[3] = { f->inter, f->leaf, NULL };
	static char pem[32768], before[32768], after[32768];
	char out[160], why[256];
	size_t n, n1 = 0, n2 = 0;

	re_snprintf(out, sizeof(out), "%s/inst-mm/relaisd.pem", f->dir);
	n = pem_build(pem, sizeof(pem), given, NULL, NULL);

	/* the root's key (in ip.pem) is not the leaf's */
	assert_int_equal(tlscert_install(out, f->ip_path, (uint8_t *)pem, n,
					 NULL, why, sizeof(why)),
			 EKEYREJECTED);
	assert_non_null(strstr(why, "does not match"));
	assert_int_equal(access(out, F_OK), -1);

	/* the leaf must come first */
	n = pem_build(pem, sizeof(pem), inter_first, NULL, NULL);
	assert_int_equal(tlscert_install(out, f->key_path, (uint8_t *)pem, n,
					 NULL, why, sizeof(why)),
			 EKEYREJECTED);
	assert_int_equal(access(out, F_OK), -1);

	/* a refusal leaves the installed file alone */
	n = pem_build(pem, sizeof(pem), given, NULL, NULL);
	assert_int_equal(tlscert_install(out, f->key_path, (uint8_t *)pem, n,
					 NULL, why, sizeof(why)),
			 0);
	assert_int_equal(file_read(out, before, sizeof(before), &n1), 0);
	assert_int_equal(tlscert_install(out, f->ip_path, (uint8_t *)pem, n,
					 NULL, why, sizeof(why)),
			 EKEYREJECTED);
	assert_int_equal(file_read(out, after, sizeof(after), &n2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
}


static void test_install_p12(void **state)
{
	struct fixture *f = *state;
	X509 *want[4] = { f->leaf, f->inter, f->root, NULL };
	STACK_OF(X509) *ca = sk_X509_new_null();
	unsigned char *der = NULL;
	char out[160], why[256];
	PKCS12 *p12;
	int len;

	/* the chain stored root first: the order some exports use */
	assert_non_null(ca);
	assert_true(sk_X509_push(ca, f->root) > 0);
	assert_true(sk_X509_push(ca, f->inter) > 0);
	p12 = PKCS12_create("p12-Secret", "relais", f->leaf_key, f->leaf, ca,
			    0, 0, 0, 0, 0);
	assert_non_null(p12);
	len = i2d_PKCS12(p12, &der);
	assert_true(len > 0);
	PKCS12_free(p12);
	sk_X509_free(ca);

	re_snprintf(out, sizeof(out), "%s/inst-p12/relaisd.pem", f->dir);

	assert_int_equal(tlscert_install(out, NULL, der, (size_t)len,
					 "wrong-Secret", why, sizeof(why)),
			 EBADMSG);
	assert_non_null(strstr(why, "wrong password"));
	assert_int_equal(access(out, F_OK), -1);

	assert_int_equal(tlscert_install(out, NULL, der, (size_t)len / 2,
					 "p12-Secret", why, sizeof(why)),
			 EBADMSG);

	assert_int_equal(tlscert_install(out, NULL, der, (size_t)len,
					 "p12-Secret", why, sizeof(why)),
			 0);
	assert_string_equal(why, "");
	check_installed(out, f, want);

	OPENSSL_free(der);
}


static void test_install_validity(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *pub = X509_get0_pubkey(f->leaf);
	const X509_NAME *subj = X509_get_subject_name(f->leaf);
	X509 *chain[4] = { NULL, f->inter, f->root, NULL };
	X509 *old_inter;
	static char pem[32768];
	char out[160], why[256];
	size_t n;

	re_snprintf(out, sizeof(out), "%s/inst-exp/relaisd.pem", f->dir);

	/* expired yesterday */
	chain[0] = cert_make(pub, subj, NULL, f->inter, f->int_key, -30, -1,
			     false, NULL);
	assert_non_null(chain[0]);
	n = pem_build(pem, sizeof(pem), chain, NULL, NULL);
	assert_int_equal(tlscert_install(out, f->key_path, (uint8_t *)pem, n,
					 NULL, why, sizeof(why)),
			 EKEYEXPIRED);
	assert_non_null(strstr(why, "the certificate expired on "));
	X509_free(chain[0]);

	/* valid from tomorrow */
	chain[0] = cert_make(pub, subj, NULL, f->inter, f->int_key, 1, 30,
			     false, NULL);
	assert_non_null(chain[0]);
	n = pem_build(pem, sizeof(pem), chain, NULL, NULL);
	assert_int_equal(tlscert_install(out, f->key_path, (uint8_t *)pem, n,
					 NULL, why, sizeof(why)),
			 EKEYEXPIRED);
	assert_non_null(strstr(why, "is not valid before "));
	X509_free(chain[0]);

	/* a valid leaf under an expired intermediate */
	old_inter = cert_make(f->int_key, NULL, "Test Intermediate", f->root,
			      f->root_key, -30, -1, true, NULL);
	assert_non_null(old_inter);
	chain[0] = f->leaf;
	chain[1] = old_inter;
	n = pem_build(pem, sizeof(pem), chain, NULL, NULL);
	assert_int_equal(tlscert_install(out, f->key_path, (uint8_t *)pem, n,
					 NULL, why, sizeof(why)),
			 EKEYEXPIRED);
	assert_non_null(
	    strstr(why, "chain certificate CN=Test Intermediate expired on"));
	X509_free(old_inter);

	assert_int_equal(access(out, F_OK), -1);
}


static void test_install_weak(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *weak = EVP_RSA_gen(1024);
	X509 *certs[2] = { NULL, NULL };
	static char pem[16384];
	char out[160], why[256];
	size_t n;

	assert_non_null(weak);
	certs[0] = cert_make(weak, NULL, "weak.example", f->inter, f->int_key,
			     0, 30, false, NULL);
	assert_non_null(certs[0]);
	n = pem_build(pem, sizeof(pem), certs, weak, NULL);

	re_snprintf(out, sizeof(out), "%s/inst-weak/relaisd.pem", f->dir);
	assert_int_equal(tlscert_install(out, NULL, (uint8_t *)pem, n, NULL,
					 why, sizeof(why)),
			 EKEYREJECTED);
	assert_non_null(strstr(why, "1024 bits"));
	assert_int_equal(access(out, F_OK), -1);

	X509_free(certs[0]);
	EVP_PKEY_free(weak);
}


static void test_install_bad_input(void **state)
{
	struct fixture *f = *state;
	X509 *given[2] = { f->leaf, NULL };
	static char pem[16384];
	char out[160], none[160], why[256];
	size_t n;

	re_snprintf(out, sizeof(out), "%s/inst-bad/relaisd.pem", f->dir);
	re_snprintf(none, sizeof(none), "%s/none.key", f->dir);

	assert_int_equal(tlscert_install(out, f->key_path,
					 (const uint8_t *)"hello", 5, NULL,
					 why, sizeof(why)),
			 EBADMSG);
	assert_non_null(strstr(why, "neither PEM nor PKCS#12"));

	assert_int_equal(tlscert_install(out, f->key_path,
					 (const uint8_t *)"x", 0, NULL, why,
					 sizeof(why)),
			 EINVAL);
	assert_int_equal(tlscert_install(NULL, f->key_path,
					 (const uint8_t *)"x", 1, NULL, why,
					 sizeof(why)),
			 EINVAL);

	/* a PEM block that is not a certificate */
	{
		static const char bad[] = "-----BEGIN CERTIFICATE-----\n"
					  "garbage\n"
					  "-----END CERTIFICATE-----\n";

		assert_int_equal(tlscert_install(out, f->key_path,
						 (const uint8_t *)bad,
						 strlen(bad), NULL, why,
						 sizeof(why)),
				 EBADMSG);
		assert_non_null(strstr(why, "damaged"));
	}

	/* no key anywhere */
	n = pem_build(pem, sizeof(pem), given, NULL, NULL);
	assert_int_equal(tlscert_install(out, none, (uint8_t *)pem, n, NULL,
					 why, sizeof(why)),
			 ENOENT);
	assert_non_null(strstr(why, "no private key"));
	assert_int_equal(tlscert_install(out, NULL, (uint8_t *)pem, n, NULL,
					 why, sizeof(why)),
			 ENOENT);

	/* why may be left out */
	assert_int_equal(tlscert_install(out, NULL, (uint8_t *)pem, n, NULL,
					 NULL, 0),
			 ENOENT);

	assert_int_equal(access(out, F_OK), -1);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_name),
		cmocka_unit_test(test_ip_address),
		cmocka_unit_test(test_unique),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_libre_loads),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_csr_args),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_info_expired),
		cmocka_unit_test(test_install_pem),
		cmocka_unit_test(test_install_pem_key),
		cmocka_unit_test(test_install_mismatch),
		cmocka_unit_test(test_install_p12),
		cmocka_unit_test(test_install_validity),
		cmocka_unit_test(test_install_weak),
		cmocka_unit_test(test_install_bad_input),
	};
	int ret;

	log_setup(LOG_LVL_ERROR, LOG_TARGET_STDERR);

	if (libre_init())
		return 1;

	ret = cmocka_run_group_tests(tests, group_setup, group_teardown);

	libre_close();

	return ret;
}

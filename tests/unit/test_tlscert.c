/**
 * @file test_tlscert.c  Self-signed TLS certificate: generation, reload
 *                       and rejection of broken files
 *
 * Two certificates are generated once per run (RSA key generation is
 * slow under ASan), one for a host name and one for an IP address, in a
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
#include <unistd.h>
#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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
};


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

	if (tlscert_ensure(f->dns_path, "pbx.example.org") ||
	    tlscert_ensure(f->ip_path, "127.0.0.1")) {
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
	};
	int ret;

	log_setup(LOG_LVL_ERROR, LOG_TARGET_STDERR);

	if (libre_init())
		return 1;

	ret = cmocka_run_group_tests(tests, group_setup, group_teardown);

	libre_close();

	return ret;
}

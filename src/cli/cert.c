/**
 * @file cert.c  relaisctl's certificate commands: csr, install, show
 *
 * The private key never passes through here: relaisd makes it next to
 * its certificate and joins it to the certificate the CA sends back.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli/cli.h"

enum {
	/* relaisd takes request bodies of up to 64 KiB; base64 adds 1/3 */
	CERT_FILE_MAX = 46 * 1024,
};


/* base64 (RFC 4648, padded) of len bytes: a malloc'd string */
static char *b64_encode(const unsigned char *p, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;

	for (size_t i = 0; i < len; i += 3) {
		const unsigned v =
		    (unsigned)p[i] << 16 |
		    (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
		    (i + 2 < len ? p[i + 2] : 0);

		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < len ? tab[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*o = '\0';

	return out;
}


/* a whole file of at most CERT_FILE_MAX bytes */
static int file_read(const char *path, unsigned char **bufp, size_t *lenp)
{
	unsigned char *buf;
	size_t len;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "relaisctl: cannot read %s: %s\n", path,
			strerror(errno));
		return CTL_USAGE;
	}

	buf = malloc(CERT_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		fprintf(stderr, "relaisctl: out of memory\n");
		return CTL_REFUSED;
	}

	len = fread(buf, 1, CERT_FILE_MAX + 1, f);
	if (ferror(f) || !len || len > CERT_FILE_MAX) {
		fclose(f);
		free(buf);
		return ctl_usage_error("%s: %s", path,
				       len > CERT_FILE_MAX
					   ? "larger than 46 KiB"
					   : "cannot read it, or it is empty");
	}
	fclose(f);

	*bufp = buf;
	*lenp = len;
	return CTL_OK;
}


static void cert_print(const json_t *c)
{
	char when[32];
	const json_t *w;
	size_t i;

	printf("file:         %s\n", reply_str(c, "path"));
	printf("subject:      %s\n", reply_str(c, "subject"));
	printf("issuer:       %s\n", reply_str(c, "issuer"));
	time_fmt(when, sizeof(when), reply_int(c, "not_before"));
	printf("not before:   %s\n", when);
	time_fmt(when, sizeof(when), reply_int(c, "not_after"));
	printf("not after:    %s\n", when);
	printf("days left:    %lld\n", reply_int(c, "days_left"));
	printf("key:          RSA %lld bits\n", reply_int(c, "key_bits"));
	if (reply_bool(c, "pending_key"))
		printf("pending key:  yes (made by `cert csr`, waiting for "
		       "`cert install`)\n");

	json_array_foreach(json_object_get(c, "warnings"), i, w)
	{
		if (json_is_string(w))
			printf("warning: %s\n", json_string_value(w));
	}
}


/**
 * Make a key on relaisd's machine and print its CSR
 * (POST /api/v1/cert/csr)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_cert_csr(const struct ctl *ctl, const struct ctl_args *a)
{
	static const struct {
		enum opt opt;
		const char *key;
	} map[] = {
		{ OPT_CN, "cn" },
		{ OPT_SAN, "san" },
		{ OPT_ORG, "org" },
		{ OPT_COUNTRY, "country" },
	};
	const char *outfile = a->opt[OPT_OUT];
	json_t *body, *out = NULL;
	long long bits = 2048;
	int ret;

	if (!a->opt[OPT_CN])
		return ctl_usage_error("cert csr needs --cn FQDN");
	if (a->opt[OPT_BITS]) {
		ret = arg_u32("--bits", a->opt[OPT_BITS], &bits);
		if (ret)
			return ret;
	}

	body = json_pack("{s:I}", "bits", (json_int_t)bits);
	for (size_t i = 0; body && i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = a->opt[map[i].opt];

		if (v &&
		    json_object_set_new(body, map[i].key, json_string(v))) {
			json_decref(body);
			return ctl_usage_error("the names must be UTF-8 "
					       "text");
		}
	}
	if (!body) {
		fprintf(stderr, "relaisctl: out of memory\n");
		return CTL_REFUSED;
	}

	ret = client_request(ctl, "POST", "/api/v1/cert/csr", body, &out);
	json_decref(body);
	if (ret)
		return ret;

	if (outfile) {
		FILE *f = fopen(outfile, "w");

		if (!f || fputs(reply_str(out, "csr"), f) < 0) {
			fprintf(stderr, "relaisctl: cannot write %s: %s\n",
				outfile, strerror(errno));
			if (f)
				fclose(f);
			json_decref(out);
			return CTL_REFUSED;
		}
		if (fclose(f)) {
			fprintf(stderr, "relaisctl: cannot write %s: %s\n",
				outfile, strerror(errno));
			json_decref(out);
			return CTL_REFUSED;
		}
	}

	if (ctl->json) {
		reply_print(out);
	}
	else {
		if (outfile)
			printf("CSR written to %s\n", outfile);
		else
			fputs(reply_str(out, "csr"), stdout);
		fprintf(stderr,
			"relaisctl: the RSA %lld key stays with relaisd in "
			"%s;\nsend the CSR to the CA, then `relaisctl cert "
			"install` its answer\n",
			reply_int(out, "bits"), reply_str(out, "key"));
	}

	json_decref(out);
	return CTL_OK;
}


/**
 * Send a certificate (PEM chain or PKCS#12) to relaisd, which installs it
 * with its pending key and loads it (POST /api/v1/cert/install)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_cert_install(const struct ctl *ctl, const struct ctl_args *a)
{
	char pw[CTL_PW_MAX] = "";
	unsigned char *data = NULL;
	json_t *body = NULL, *out = NULL;
	char *b64 = NULL;
	size_t len = 0;
	int ret;

	ret = file_read(a->pos[0], &data, &len);
	if (ret)
		return ret;

	if (a->opt[OPT_PASSWORD_STDIN]) {
		ret = secret_read(pw, sizeof(pw));
		if (ret)
			goto out;
	}

	b64 = b64_encode(data, len);
	body = b64 ? json_pack("{s:s,s:b}", "data", b64, "p12",
			       a->opt[OPT_P12] != NULL)
		   : NULL;
	if (body && pw[0] &&
	    json_object_set_new(body, "password", json_string(pw))) {
		json_decref(body);
		body = NULL;
	}
	if (!body) {
		ret = ctl_usage_error("the password must be UTF-8 text");
		goto out;
	}

	ret = client_request(ctl, "POST", "/api/v1/cert/install", body, &out);
	if (ret)
		goto out;

	if (ctl->json) {
		reply_print(out);
	}
	else {
		printf("certificate installed\n");
		cert_print(out);
	}

out:
	memset(pw, 0, sizeof(pw));
	json_decref(body);
	json_decref(out);
	/* a PKCS#12 bundle holds a private key */
	if (b64)
		memset(b64, 0, strlen(b64));
	memset(data, 0, len);
	free(b64);
	free(data);
	return ret;
}


/**
 * Show the TLS certificate and its expiry (GET /api/v1/cert)
 *
 * @param ctl Where relaisd listens, output format
 * @param a   The command's arguments
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_cert_show(const struct ctl *ctl, const struct ctl_args *a)
{
	json_t *out;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/cert", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json)
		reply_print(out);
	else
		cert_print(out);

	json_decref(out);
	return CTL_OK;
}

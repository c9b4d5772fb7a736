/**
 * @file http.h  HTTP/JSON API (libmicrohttpd) on a Unix socket
 *
 * libmicrohttpd runs without threads of its own: its epoll descriptor is
 * watched from the SIP thread's libre loop and MHD_run() is called there,
 * so request handlers may use the store, registrar and B2BUA directly.
 * relaisctl is a client of this API.
 */

#ifndef RELAIS_HTTP_H
#define RELAIS_HTTP_H

struct relais_config;
struct store;
struct registrar;
struct b2bua;
struct trunks;
struct sipstack;
struct sbc;

/**
 * What the API's handlers use. Only cfg and st are required; without reg
 * or b2bua their endpoints answer 503. Without trunks, trunk state shows
 * "unknown" and trunk or rule changes reach the store only (the running
 * trunks reload when trunks is set); without ss a new certificate is
 * installed but not loaded until relaisd restarts.
 */
struct api_ctx {
	const struct relais_config *cfg;
	struct store *st;
	struct registrar *reg;
	struct b2bua *b2bua;
	struct trunks *trunks;
	struct sipstack *ss;
	struct sbc *sbc; /**< NULL when sbc_mode = off */
};

struct api;

int api_alloc(struct api **ap, const char *sockpath,
	      const struct api_ctx *ctx);

#endif

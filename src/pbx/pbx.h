/**
 * @file pbx.h  PBX logic: extensions and their passwords
 *
 * Runs on the SIP thread. Uses sip (digest) and store.
 */

#ifndef RELAIS_PBX_H
#define RELAIS_PBX_H

#include <stddef.h>

struct store;

enum {
	EXT_NUMBER_MIN_DIGITS = 2,
	EXT_NUMBER_MAX_DIGITS = 8,
	EXT_PASSWORD_MIN = 10,
	EXT_PASSWORD_MAX = 64,
};

int ext_number_check(const char *number, char *why, size_t sz);
int ext_password_check(const char *number, const char *password, char *why,
		       size_t sz);
int ext_create(struct store *st, const char *realm, const char *number,
	       const char *name, const char *password, char *why, size_t sz);
int ext_set_password(struct store *st, const char *realm, const char *number,
		     const char *password, char *why, size_t sz);

#endif

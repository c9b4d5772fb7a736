/**
 * @file pbx_int.h  Helpers shared by the files of src/pbx only
 *
 * Validation messages name the field and what is allowed; these helpers
 * keep that wording the same in trunkcfg.c, route.c and hours.c.
 */

#ifndef RELAIS_PBX_INT_H
#define RELAIS_PBX_INT_H

#include <stdbool.h>
#include <stddef.h>

struct pl;

int pbx_why(char *why, size_t sz, const char *fmt, ...);
bool pbx_item_next(const char **pos, struct pl *item);
int pbx_name_check(const char *field, const char *name, char *why, size_t sz);
int pbx_number_check(const char *field, const char *number, bool required,
		     char *why, size_t sz);
int pbx_text_check(const char *field, const char *text, const char *banned,
		   char *why, size_t sz);
int did_pattern_check(const char *field, const char *pattern, char *why,
		      size_t sz);
int did_list_check(const char *field, const char *list, char *why, size_t sz);

#endif

/**
 * @file store_int.h  Store backends (only src/store includes this)
 */

#include "store/store.h"

struct store_migration {
	uint32_t version;
	const char *name;
	const char *sql;
};

extern const struct store_migration store_migrations[];
extern const size_t store_migrationc;

/** One backend: a const table of functions, like curl's struct Curl_ssl */
struct store_backend {
	const char *name;
	int (*open)(void **dbp, const char *path);
	void (*close)(void *db);
	int (*schema_version)(void *db, uint32_t *version);
	int (*ext_add)(void *db, const struct store_ext *ext);
	int (*ext_get)(void *db, const char *number, struct store_ext *ext);
	int (*ext_update_ha1)(void *db, const char *number, const char *md5,
			      const char *sha256);
	int (*ext_remove)(void *db, const char *number);
	int (*ext_foreach)(void *db, store_ext_h *h, void *arg);
	int (*contact_put)(void *db, const struct store_contact *c);
	int (*contact_remove)(void *db, const char *ext, const char *uri);
	int (*contact_remove_ext)(void *db, const char *ext);
	int (*contact_foreach)(void *db, const char *ext, store_contact_h *h,
			       void *arg);
	int (*contact_purge)(void *db, int64_t now);
	int (*cdr_add)(void *db, struct store_cdr *cdr);
	int (*cdr_foreach)(void *db, uint32_t limit, store_cdr_h *h,
			   void *arg);
	int (*trunk_add)(void *db, const struct store_trunk *t);
	int (*trunk_update)(void *db, const struct store_trunk *t);
	int (*trunk_get)(void *db, const char *name, struct store_trunk *t);
	int (*trunk_remove)(void *db, const char *name);
	int (*trunk_foreach)(void *db, store_trunk_h *h, void *arg);
	int (*orule_add)(void *db, struct store_orule *r);
	int (*orule_get)(void *db, int64_t id, struct store_orule *r);
	int (*orule_remove)(void *db, int64_t id);
	int (*orule_foreach)(void *db, store_orule_h *h, void *arg);
	int (*irule_add)(void *db, struct store_irule *r);
	int (*irule_remove)(void *db, int64_t id);
	int (*irule_foreach)(void *db, store_irule_h *h, void *arg);
	int (*hours_set)(void *db, const struct store_hours *h);
	int (*hours_foreach)(void *db, store_hours_h *h, void *arg);
	int (*holiday_add)(void *db, struct store_holiday *hd);
	int (*holiday_remove)(void *db, int64_t id);
	int (*holiday_foreach)(void *db, store_holiday_h *h, void *arg);
	int (*sbcsec_get)(void *db, struct store_sbcsec *s);
	int (*sbcsec_set)(void *db, const struct store_sbcsec *s);
	int (*sbcallow_add)(void *db, const char *cidr);
	int (*sbcallow_remove)(void *db, const char *cidr);
	int (*sbcallow_foreach)(void *db, store_text_h *h, void *arg);
	int (*sbcdeny_put)(void *db, const struct store_sbcdeny *d);
	int (*sbcdeny_remove)(void *db, const char *addr);
	int (*sbcdeny_clear)(void *db);
	int (*sbcdeny_foreach)(void *db, store_sbcdeny_h *h, void *arg);
	int (*flush)(void *db);
};

extern const struct store_backend store_sqlite;

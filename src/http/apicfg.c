/**
 * @file apicfg.c  JSON API of the carrier side of the PBX: trunks,
 *                 outbound and inbound routing rules, office hours and
 *                 holidays
 *
 * Every value is checked by the pbx validators (trunkcfg.c, route.c,
 * hours.c) and their reason becomes the answer's "error". Names a rule
 * refers to (trunks, extensions) must exist. A trunk's password can be
 * set, never read back. After a change of trunk or rule the running
 * trunks reload from the store.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
/* not <re.h>: its re_json.h clashes with jansson's JSON_* names */
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_tmr.h>
#include "core/core.h"
#include "store/store.h"
#include "sip/sip.h"
#include "pbx/pbx.h"
#include "http/http.h"
#include "http/http_int.h"

#define DEBUG_MODULE "api"


/* after a change of trunks or rules: the running trunks follow the
   store; the change itself is made, so a failure here is only logged */
static void trunks_follow(struct api *api)
{
	int err;

	if (!api->ctx.trunks)
		return;

	err = trunks_reload(api->ctx.trunks);
	if (err)
		log_warn("trunks not reloaded after a change: %m", err);
}


/* ---- trunks --------------------------------------------------------- */

enum ftype {
	FT_TEXT,
	FT_U32,
	FT_PORT,
	FT_BOOL,
};

/* a trunk setting as the API reads and shows it (password: read only) */
struct tfield {
	const char *key;
	enum ftype type;
	size_t off;
	size_t sz;
};

#define TF(k, t, m)                                                           \
	{                                                                     \
		k, t, offsetof(struct store_trunk, m),                        \
		    sizeof(((struct store_trunk *)0)->m)                      \
	}

static const struct tfield tfields[] = {
	TF("kind", FT_TEXT, kind),
	TF("host", FT_TEXT, host),
	TF("port", FT_PORT, port),
	TF("srv", FT_BOOL, srv),
	TF("transport", FT_TEXT, transport),
	TF("proxy", FT_TEXT, proxy),
	TF("domain", FT_TEXT, domain),
	TF("auth_user", FT_TEXT, auth_user),
	TF("password", FT_TEXT, password),
	TF("reg_interval", FT_U32, reg_interval),
	TF("max_calls", FT_U32, max_calls),
	TF("inbound", FT_BOOL, inbound),
	TF("outbound", FT_BOOL, outbound),
	TF("codecs", FT_TEXT, codecs),
	TF("srtp", FT_TEXT, srtp),
	TF("main_number", FT_TEXT, main_number),
	TF("dids", FT_TEXT, dids),
	TF("caller_id", FT_TEXT, caller_id),
	TF("caller_name", FT_TEXT, caller_name),
	TF("pai", FT_BOOL, pai),
	TF("privacy", FT_TEXT, privacy),
	TF("diversion", FT_BOOL, diversion),
	TF("options_interval", FT_U32, options_interval),
	TF("contact_addr", FT_TEXT, contact_addr),
};

#undef TF

/* keys of POST (name, profile, then tfields) and PATCH (tfields) */
enum { TRUNK_KEYS = 2 + ARRAY_SIZE(tfields) };

static void trunk_keys(const char **keys, bool add, size_t *n)
{
	size_t k = 0;

	if (add) {
		keys[k++] = "name";
		keys[k++] = "profile";
	}
	for (size_t i = 0; i < ARRAY_SIZE(tfields); i++)
		keys[k++] = tfields[i].key;

	*n = k;
}


/* the settings given in a body onto t */
static int trunk_fields_read(struct exch *x, json_t *j, struct store_trunk *t)
{
	uint8_t *base = (uint8_t *)t;
	int err = 0;

	for (size_t i = 0; i < ARRAY_SIZE(tfields) && !err; i++) {
		const struct tfield *f = &tfields[i];
		uint32_t v;

		switch (f->type) {

		case FT_TEXT:
			err = api_text(x, j, f->key, (char *)(base + f->off),
				       f->sz);
			break;

		case FT_U32:
			memcpy(&v, base + f->off, sizeof(v));
			err = api_u32(x, j, f->key, 0, UINT32_MAX, &v);
			memcpy(base + f->off, &v, sizeof(v));
			break;

		case FT_PORT: {
			uint16_t p;

			memcpy(&p, base + f->off, sizeof(p));
			v = p;
			err = api_u32(x, j, f->key, 0, 65535, &v);
			p = (uint16_t)v;
			memcpy(base + f->off, &p, sizeof(p));
			break;
		}

		case FT_BOOL: {
			bool b;

			memcpy(&b, base + f->off, sizeof(b));
			err = api_bool(x, j, f->key, &b);
			memcpy(base + f->off, &b, sizeof(b));
			break;
		}
		}
	}

	return err;
}


/* what the running trunk says of itself */
struct live {
	const char *name;
	bool found;
	enum trunk_state state;
	bool registered;
	int64_t reg_expires;
	uint16_t last_scode;
	char last_error[128];
	uint32_t calls;
	int64_t changed;
};


static int live_h(const struct trunk_info *ti, void *arg)
{
	struct live *lv = arg;

	if (!ti->conf || strcmp(ti->conf->name, lv->name))
		return 0;

	lv->found = true;
	lv->state = ti->state;
	lv->registered = ti->registered;
	lv->reg_expires = ti->reg_expires;
	lv->last_scode = ti->last_scode;
	str_ncpy(lv->last_error, ti->last_error ? ti->last_error : "",
		 sizeof(lv->last_error));
	lv->calls = ti->calls;
	lv->changed = ti->changed;

	return 1;
}


static int live_get(struct api *api, const char *name, struct live *lv)
{
	int err;

	memset(lv, 0, sizeof(*lv));
	lv->name = name;
	lv->state = TRUNK_UNKNOWN;

	if (!api->ctx.trunks)
		return 0;

	err = trunks_foreach(api->ctx.trunks, live_h, lv);

	return err == 1 ? 0 : err;
}


/* a trunk as the API shows it: every setting but the password, and its
   live state ("unknown" without running trunks) */
static json_t *trunk_json(struct api *api, const struct store_trunk *t)
{
	const uint8_t *base = (const uint8_t *)t;
	json_t *o = json_object();
	struct live lv;
	int err;

	if (!o)
		return NULL;

	err = live_get(api, t->name, &lv);
	err |= api_set_text(o, "name", t->name);
	err |= api_set_text(o, "profile", t->profile);

	for (size_t i = 0; i < ARRAY_SIZE(tfields); i++) {
		const struct tfield *f = &tfields[i];
		uint32_t v;
		uint16_t p;
		bool b;

		switch (f->type) {

		case FT_TEXT:
			if (f->off == offsetof(struct store_trunk, password))
				err |= api_set_bool(o, "password_set",
						    t->password[0] != '\0');
			else
				err |= api_set_text(o, f->key,
						    (const char *)(base +
								   f->off));
			break;

		case FT_U32:
			memcpy(&v, base + f->off, sizeof(v));
			err |= api_set_int(o, f->key, v);
			break;

		case FT_PORT:
			memcpy(&p, base + f->off, sizeof(p));
			err |= api_set_int(o, f->key, p);
			break;

		case FT_BOOL:
			memcpy(&b, base + f->off, sizeof(b));
			err |= api_set_bool(o, f->key, b);
			break;
		}
	}

	err |= api_set_int(o, "created", t->created);
	err |= api_set_text(o, "state", trunk_state_name(lv.state));
	err |= api_set_bool(o, "registered", lv.registered);
	err |= api_set_int(o, "reg_expires", lv.reg_expires);
	err |= api_set_int(o, "last_status", lv.last_scode);
	err |= api_set_text(o, "last_error", lv.last_error);
	err |= api_set_int(o, "calls", lv.calls);
	err |= api_set_int(o, "state_changed", lv.changed);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


struct tlist {
	struct api *api;
	json_t *arr;
};


static int trunk_list_add(const struct store_trunk *t, void *arg)
{
	struct tlist *lc = arg;

	return api_append(lc->arr, trunk_json(lc->api, t));
}


static int trunk_list(struct exch *x)
{
	struct tlist lc = { x->api, json_array() };
	int err;

	if (!lc.arr)
		return ENOMEM;

	err = store_trunk_foreach(x->api->ctx.st, trunk_list_add, &lc);
	if (err) {
		json_decref(lc.arr);
		return err;
	}

	x->status = 200;
	x->json = lc.arr;
	return 0;
}


static bool name_valid(const char *name)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789-_";

	return name[0] && strspn(name, allowed) == strlen(name);
}


/* the {n} of the path, and that trunk from the store (password too) */
static int trunk_lookup(struct exch *x, struct store_trunk *t)
{
	int err;

	if (!name_valid(x->item) || strlen(x->item) >= sizeof(t->name))
		return api_why(x, ENOENT, "trunk %s does not exist", x->item);

	err = store_trunk_get(x->api->ctx.st, x->item, t);
	if (err == ENOENT)
		return api_why(x, err, "trunk %s does not exist", x->item);

	return err;
}


static int trunk_reply(struct exch *x, const char *name, unsigned status)
{
	struct store_trunk t;
	int err;

	err = store_trunk_get(x->api->ctx.st, name, &t);
	if (!err) {
		x->json = trunk_json(x->api, &t);
		if (!x->json)
			err = ENOMEM;
	}
	memset(&t, 0, sizeof(t));
	if (err)
		return err;

	x->status = status;
	return 0;
}


static int trunk_add(struct exch *x)
{
	const char *keys[TRUNK_KEYS], *profile, *name;
	struct store_trunk t;
	size_t nkeys;
	json_t *j;
	int err;

	trunk_keys(keys, true, &nkeys);
	err = api_body(x, keys, nkeys, &j);
	if (err)
		return err;

	memset(&t, 0, sizeof(t));

	err = api_str(x, j, "profile", false, &profile);
	if (err)
		goto out;

	/* the profile's defaults first, then what was given; "generic" is
	   the profile the validators call "" */
	if (!profile || !strcmp(profile, "generic"))
		profile = "";
	err = trunk_profile_apply(&t, profile, x->why, sizeof(x->why));
	if (err == ENOENT)
		err = EINVAL;
	if (err)
		goto out;

	err = api_str(x, j, "name", true, &name);
	if (err)
		goto out;
	err = api_text(x, j, "name", t.name, sizeof(t.name));
	if (err)
		goto out;

	err = trunk_fields_read(x, j, &t);
	if (err)
		goto out;

	err = trunk_validate(&t, x->why, sizeof(x->why));
	if (err)
		goto out;

	err = store_trunk_add(x->api->ctx.st, &t);
	if (err == EEXIST)
		api_why(x, err, "trunk %s already exists", t.name);
	if (err)
		goto out;

	log_info("trunk %s added (%s, %s)", t.name, t.kind, t.host);
	trunks_follow(x->api);

	err = trunk_reply(x, t.name, 201);
	re_snprintf(x->location, sizeof(x->location), "/api/v1/trunks/%s",
		    t.name);

out:
	memset(&t, 0, sizeof(t));
	json_decref(j);
	return err;
}


static int trunk_show(struct exch *x)
{
	struct store_trunk t;
	int err;

	err = trunk_lookup(x, &t);
	if (!err) {
		x->json = trunk_json(x->api, &t);
		if (!x->json)
			err = ENOMEM;
	}
	memset(&t, 0, sizeof(t));
	if (err)
		return err;

	x->status = 200;
	return 0;
}


/* a partial update: only the settings in the body change */
static int trunk_set(struct exch *x)
{
	const char *keys[TRUNK_KEYS];
	struct store_trunk t;
	size_t nkeys;
	json_t *j;
	int err;

	err = trunk_lookup(x, &t);
	if (err)
		return err;

	trunk_keys(keys, false, &nkeys);
	err = api_body(x, keys, nkeys, &j);
	if (err)
		goto out;

	err = trunk_fields_read(x, j, &t);
	json_decref(j);
	if (err)
		goto out;

	err = trunk_validate(&t, x->why, sizeof(x->why));
	if (err)
		goto out;

	err = store_trunk_update(x->api->ctx.st, &t);
	if (err == ENOENT)
		api_why(x, err, "trunk %s does not exist", t.name);
	if (err)
		goto out;

	log_info("trunk %s changed", t.name);
	trunks_follow(x->api);

	err = trunk_reply(x, t.name, 200);

out:
	memset(&t, 0, sizeof(t));
	return err;
}


/* which rules name a trunk, for the refusal of its removal */
struct users {
	const char *trunk;
	char text[API_WHY_MAX - 64];
	size_t len;
	uint32_t n;
};


static void users_add(struct users *u, const char *what, int64_t id,
		      const char *name)
{
	int r;

	if (u->len >= sizeof(u->text))
		return;

	r = re_snprintf(u->text + u->len, sizeof(u->text) - u->len,
			"%s%s rule %lld (%s)", u->n ? ", " : "", what,
			(long long)id, name);
	if (r > 0)
		u->len += (size_t)r;
	++u->n;
}


static int users_orule(const struct store_orule *r, void *arg)
{
	struct users *u = arg;

	for (uint32_t i = 0; i < r->routec; i++) {
		if (!strcmp(r->routes[i].trunk, u->trunk)) {
			users_add(u, "outbound", r->id, r->name);
			break;
		}
	}

	return 0;
}


static int users_irule(const struct store_irule *r, void *arg)
{
	struct users *u = arg;

	if (!strcmp(r->trunk, u->trunk))
		users_add(u, "inbound", r->id, r->name);

	return 0;
}


static int trunk_remove(struct exch *x)
{
	struct store_trunk t;
	struct users u;
	int err;

	err = trunk_lookup(x, &t);
	memset(t.password, 0, sizeof(t.password));
	if (err)
		return err;

	memset(&u, 0, sizeof(u));
	u.trunk = t.name;
	err = store_orule_foreach(x->api->ctx.st, users_orule, &u);
	err |= store_irule_foreach(x->api->ctx.st, users_irule, &u);
	if (err)
		return err;
	if (u.n)
		return api_why(x, EBUSY,
			       "trunk %s is used by %s: remove or change %s "
			       "first",
			       t.name, u.text, u.n > 1 ? "them" : "it");

	err = store_trunk_remove(x->api->ctx.st, t.name);
	if (err == EBUSY)
		return api_why(x, err, "trunk %s is used by a routing rule",
			       t.name);
	if (err == ENOENT)
		return api_why(x, err, "trunk %s does not exist", t.name);
	if (err)
		return err;

	log_info("trunk %s removed", t.name);
	trunks_follow(x->api);

	x->status = 204;
	return 0;
}


/* ---- outbound rules ------------------------------------------------- */

static json_t *orule_json(const struct store_orule *r)
{
	json_t *o = json_object(), *arr = json_array();
	int err = 0;

	if (!o || !arr) {
		json_decref(o);
		json_decref(arr);
		return NULL;
	}

	for (uint32_t i = 0; i < r->routec && !err; i++) {
		const struct store_route *rt = &r->routes[i];
		json_t *ro = json_object();

		if (!ro) {
			err = ENOMEM;
			break;
		}
		err |= api_set_bool(ro, "blocked", rt->blocked);
		err |= api_set_text(ro, "trunk", rt->trunk);
		err |= api_set_int(ro, "strip", rt->strip);
		err |= api_set_text(ro, "prepend", rt->prepend);
		err |= api_append(arr, ro);
	}

	err |= api_set_int(o, "id", r->id);
	err |= api_set_int(o, "position", r->position);
	err |= api_set_text(o, "name", r->name);
	err |= api_set_text(o, "prefix", r->prefix);
	err |= api_set_text(o, "callers", r->callers);
	err |= api_set_int(o, "min_len", r->min_len);
	err |= api_set_int(o, "max_len", r->max_len);
	err |= json_object_set_new(o, "routes", arr);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


static int orule_list_add(const struct store_orule *r, void *arg)
{
	return api_append(arg, orule_json(r));
}


static int orule_list(struct exch *x)
{
	json_t *arr = json_array();
	int err;

	if (!arr)
		return ENOMEM;

	err = store_orule_foreach(x->api->ctx.st, orule_list_add, arr);
	if (err) {
		json_decref(arr);
		return err;
	}

	x->status = 200;
	x->json = arr;
	return 0;
}


/* one route: {"trunk": T, "strip": N, "prepend": P} or {"blocked": true}
 */
static int route_read(struct exch *x, json_t *v, uint32_t i,
		      struct store_route *rt)
{
	static const char *const keys[] = { "trunk", "strip", "prepend",
					    "blocked" };
	const char *key;
	json_t *m;
	char name[16];
	int err;

	if (!json_is_object(v))
		return api_why(x, EBADMSG, "routes[%u] must be an object", i);

	json_object_foreach(v, key, m)
	{
		bool known = false;

		for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
			known |= !strcmp(key, keys[k]);
		if (!known)
			return api_why(x, EBADMSG,
				       "routes[%u] has an unknown key; "
				       "allowed: \"trunk\", \"strip\", "
				       "\"prepend\", \"blocked\"",
				       i);
	}

	re_snprintf(name, sizeof(name), "route %u", i + 1);
	err = api_bool(x, v, "blocked", &rt->blocked);
	err =
	    err ? err : api_text(x, v, "trunk", rt->trunk, sizeof(rt->trunk));
	err = err ? err : api_u32(x, v, "strip", 0, 32, &rt->strip);
	err =
	    err ? err
		: api_text(x, v, "prepend", rt->prepend, sizeof(rt->prepend));
	if (err)
		return err;

	if (!rt->blocked && !rt->trunk[0])
		return api_why(x, EINVAL, "%s: needs a trunk, or is blocked",
			       name);

	return 0;
}


static int orule_read(struct exch *x, json_t *j, struct store_orule *r)
{
	json_t *routes = json_object_get(j, "routes"), *v;
	size_t i;
	int err;

	err = api_text(x, j, "name", r->name, sizeof(r->name));
	err = err ? err : api_u32(x, j, "position", 0, 100000, &r->position);
	err =
	    err ? err : api_text(x, j, "prefix", r->prefix, sizeof(r->prefix));
	err = err ? err
		  : api_text(x, j, "callers", r->callers, sizeof(r->callers));
	err = err ? err : api_u32(x, j, "min_len", 0, 32, &r->min_len);
	err = err ? err : api_u32(x, j, "max_len", 0, 32, &r->max_len);
	if (err)
		return err;

	if (!r->name[0])
		return api_why(x, EBADMSG, "\"name\" is required");

	if (!json_is_array(routes) || !json_array_size(routes) ||
	    json_array_size(routes) > STORE_ROUTES_MAX)
		return api_why(x, EINVAL,
			       "routes: 1 to %u routes, tried in order",
			       STORE_ROUTES_MAX);

	json_array_foreach(routes, i, v)
	{
		err = route_read(x, v, (uint32_t)i, &r->routes[i]);
		if (err)
			return err;
		r->routec = (uint32_t)i + 1;
	}

	return 0;
}


/* every trunk a rule routes to exists */
static int orule_trunks_check(struct exch *x, const struct store_orule *r)
{
	struct store_trunk t;
	int err = 0;

	for (uint32_t i = 0; i < r->routec && !err; i++) {
		if (r->routes[i].blocked)
			continue;
		err = store_trunk_get(x->api->ctx.st, r->routes[i].trunk, &t);
		if (err == ENOENT || err == EINVAL)
			err = api_why(x, EINVAL,
				      "route %u: trunk %s does not exist",
				      i + 1, r->routes[i].trunk);
	}
	memset(&t, 0, sizeof(t));

	return err;
}


static int orule_add(struct exch *x)
{
	static const char *const keys[] = { "name",    "position", "prefix",
					    "callers", "min_len",  "max_len",
					    "routes" };
	struct store_orule r;
	json_t *j;
	int err;

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	memset(&r, 0, sizeof(r));
	err = orule_read(x, j, &r);
	json_decref(j);
	if (err)
		return err;

	err = orule_validate(&r, x->why, sizeof(x->why));
	if (err)
		return err;

	err = orule_trunks_check(x, &r);
	if (err)
		return err;

	err = store_orule_add(x->api->ctx.st, &r);
	if (err == ENOENT)
		return api_why(x, EINVAL, "a route names an unknown trunk");
	if (err)
		return err;

	log_info("outbound rule %lld (%s) added at position %u",
		 (long long)r.id, r.name, r.position);
	trunks_follow(x->api);

	/* its final position, as the store placed it */
	err = store_orule_get(x->api->ctx.st, r.id, &r);
	if (err)
		return err;

	x->json = orule_json(&r);
	if (!x->json)
		return ENOMEM;

	x->status = 201;
	re_snprintf(x->location, sizeof(x->location),
		    "/api/v1/outbound-rules/%lld", (long long)r.id);
	return 0;
}


static int orule_show(struct exch *x)
{
	struct store_orule r;
	int64_t id;
	int err;

	err = api_id(x, "outbound rule", &id);
	if (err)
		return err;

	err = store_orule_get(x->api->ctx.st, id, &r);
	if (err == ENOENT)
		return api_why(x, err, "outbound rule %s does not exist",
			       x->item);
	if (err)
		return err;

	x->json = orule_json(&r);
	if (!x->json)
		return ENOMEM;

	x->status = 200;
	return 0;
}


static int orule_remove(struct exch *x)
{
	int64_t id;
	int err;

	err = api_id(x, "outbound rule", &id);
	if (err)
		return err;

	err = store_orule_remove(x->api->ctx.st, id);
	if (err == ENOENT)
		return api_why(x, err, "outbound rule %s does not exist",
			       x->item);
	if (err)
		return err;

	log_info("outbound rule %lld removed", (long long)id);
	trunks_follow(x->api);

	x->status = 204;
	return 0;
}


/* ---- inbound rules -------------------------------------------------- */

static json_t *irule_json(const struct store_irule *r)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;

	err |= api_set_int(o, "id", r->id);
	err |= api_set_text(o, "name", r->name);
	err |= api_set_text(o, "trunk", r->trunk);
	err |= api_set_text(o, "did", r->did);
	err |= api_set_text(o, "dest_open", r->dest_open);
	err |= api_set_text(o, "dest_closed", r->dest_closed);
	err |= api_set_text(o, "dest_holiday", r->dest_holiday);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


struct irule_find {
	int64_t id;
	json_t *arr; /* all of them, or */
	json_t *one; /* the one with that id */
};


static int irule_find_h(const struct store_irule *r, void *arg)
{
	struct irule_find *f = arg;

	if (f->arr)
		return api_append(f->arr, irule_json(r));

	if (r->id != f->id)
		return 0;

	f->one = irule_json(r);
	return f->one ? 1 : ENOMEM;
}


static int irule_list(struct exch *x)
{
	struct irule_find f = { 0, json_array(), NULL };
	int err;

	if (!f.arr)
		return ENOMEM;

	err = store_irule_foreach(x->api->ctx.st, irule_find_h, &f);
	if (err) {
		json_decref(f.arr);
		return err;
	}

	x->status = 200;
	x->json = f.arr;
	return 0;
}


static int irule_show(struct exch *x)
{
	struct irule_find f = { 0, NULL, NULL };
	int err;

	err = api_id(x, "inbound rule", &f.id);
	if (err)
		return err;

	err = store_irule_foreach(x->api->ctx.st, irule_find_h, &f);
	if (err && err != 1)
		return err;
	if (!f.one)
		return api_why(x, ENOENT, "inbound rule %s does not exist",
			       x->item);

	x->json = f.one;
	x->status = 200;
	return 0;
}


/* an extension destination names an extension that exists (the rule
   was validated: the destination parses) */
static int dest_ext_check(struct exch *x, const char *key, const char *s)
{
	struct store_ext ext;
	struct dest d;
	int err;

	if (dest_parse(&d, s, NULL, 0) || d.kind != DEST_EXTENSION)
		return 0;

	err = store_ext_get(x->api->ctx.st, d.number, &ext);
	if (err == ENOENT)
		return api_why(x, EINVAL, "%s: extension %s does not exist",
			       key, d.number);

	return err;
}


static int irule_add(struct exch *x)
{
	static const char *const keys[] = { "name",	   "trunk",
					    "did",	   "dest_open",
					    "dest_closed", "dest_holiday" };
	struct store_trunk t;
	struct store_irule r;
	json_t *j;
	int err;

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	memset(&r, 0, sizeof(r));
	err = api_text(x, j, "name", r.name, sizeof(r.name));
	err = err ? err : api_text(x, j, "trunk", r.trunk, sizeof(r.trunk));
	err = err ? err : api_text(x, j, "did", r.did, sizeof(r.did));
	err = err ? err
		  : api_text(x, j, "dest_open", r.dest_open,
			     sizeof(r.dest_open));
	err = err ? err
		  : api_text(x, j, "dest_closed", r.dest_closed,
			     sizeof(r.dest_closed));
	err = err ? err
		  : api_text(x, j, "dest_holiday", r.dest_holiday,
			     sizeof(r.dest_holiday));
	json_decref(j);
	if (err)
		return err;

	if (!r.name[0] || !r.did[0] || !r.dest_open[0])
		return api_why(x, EBADMSG,
			       "\"name\", \"did\" and \"dest_open\" are "
			       "required");

	/* out of hours goes where office hours go unless told otherwise,
	   and holidays where out of hours goes */
	if (!r.dest_closed[0])
		str_ncpy(r.dest_closed, r.dest_open, sizeof(r.dest_closed));
	if (!r.dest_holiday[0])
		str_ncpy(r.dest_holiday, r.dest_closed,
			 sizeof(r.dest_holiday));

	err = irule_validate(&r, x->why, sizeof(x->why));
	if (err)
		return err;

	err = dest_ext_check(x, "dest_open", r.dest_open);
	err = err ? err : dest_ext_check(x, "dest_closed", r.dest_closed);
	err = err ? err : dest_ext_check(x, "dest_holiday", r.dest_holiday);
	if (err)
		return err;

	if (r.trunk[0]) {
		err = store_trunk_get(x->api->ctx.st, r.trunk, &t);
		memset(&t, 0, sizeof(t));
		if (err == ENOENT || err == EINVAL)
			return api_why(x, EINVAL, "trunk %s does not exist",
				       r.trunk);
		if (err)
			return err;
	}

	err = store_irule_add(x->api->ctx.st, &r);
	if (err == ENOENT)
		return api_why(x, EINVAL, "trunk %s does not exist", r.trunk);
	if (err)
		return err;

	log_info("inbound rule %lld (%s) added for DID %s", (long long)r.id,
		 r.name, r.did);
	trunks_follow(x->api);

	x->json = irule_json(&r);
	if (!x->json)
		return ENOMEM;

	x->status = 201;
	re_snprintf(x->location, sizeof(x->location),
		    "/api/v1/inbound-rules/%lld", (long long)r.id);
	return 0;
}


static int irule_remove(struct exch *x)
{
	int64_t id;
	int err;

	err = api_id(x, "inbound rule", &id);
	if (err)
		return err;

	err = store_irule_remove(x->api->ctx.st, id);
	if (err == ENOENT)
		return api_why(x, err, "inbound rule %s does not exist",
			       x->item);
	if (err)
		return err;

	log_info("inbound rule %lld removed", (long long)id);
	trunks_follow(x->api);

	x->status = 204;
	return 0;
}


/* ---- office hours and holidays -------------------------------------- */

static const char *const day_names[7] = { "mon", "tue", "wed", "thu",
					  "fri", "sat", "sun" };


static int day_parse(const char *s, uint32_t *day)
{
	for (uint32_t i = 0; i < ARRAY_SIZE(day_names); i++) {
		if (!strcmp(s, day_names[i])) {
			*day = i;
			return 0;
		}
	}

	return ENOENT;
}


static json_t *holiday_json(const struct store_holiday *h)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;

	err |= api_set_int(o, "id", h->id);
	err |= api_set_text(o, "name", h->name);
	err |= api_set_text(o, "first", h->first);
	err |= api_set_text(o, "last", h->last[0] ? h->last : h->first);
	err |= api_set_bool(o, "yearly", h->yearly);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


/* the week and the holidays, for hours_state_at() */
struct calendar {
	struct store_hours week[7];
	struct store_holiday *holv; /* mem */
	size_t holc;
};


static int week_h(const struct store_hours *h, void *arg)
{
	struct calendar *cal = arg;

	if (h->day < 7)
		cal->week[h->day] = *h;

	return 0;
}


static int holidays_h(const struct store_holiday *h, void *arg)
{
	struct calendar *cal = arg;
	struct store_holiday *v;

	/* libre's mem_realloc() does not take NULL */
	if (cal->holv)
		v = mem_realloc(cal->holv, (cal->holc + 1) * sizeof(*v));
	else
		v = mem_alloc(sizeof(*v), NULL);
	if (!v)
		return ENOMEM;

	v[cal->holc++] = *h;
	cal->holv = v;

	return 0;
}


static int calendar_load(struct api *api, struct calendar *cal)
{
	int err;

	memset(cal, 0, sizeof(*cal));
	for (uint32_t i = 0; i < 7; i++)
		cal->week[i].day = i;

	err = store_hours_foreach(api->ctx.st, week_h, cal);
	if (!err)
		err = store_holiday_foreach(api->ctx.st, holidays_h, cal);
	if (err)
		cal->holv = mem_deref(cal->holv);

	return err;
}


static const char *hours_state_text(enum hours_state s)
{
	switch (s) {

	case HOURS_OPEN:
		return "open";
	case HOURS_CLOSED:
		return "closed";
	case HOURS_HOLIDAY:
		return "holiday";
	}

	return "?";
}


static json_t *day_json(const struct store_hours *h)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;

	err |= api_set_text(o, "day", day_names[h->day % 7]);
	err |= api_set_text(o, "ranges", h->ranges);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


static int hours_show(struct exch *x)
{
	const time_t now = time(NULL);
	struct calendar cal;
	json_t *o, *days;
	struct tm tm;
	int err = 0;

	if (!localtime_r(&now, &tm))
		return EINVAL;

	err = calendar_load(x->api, &cal);
	if (err)
		return err;

	o = json_object();
	days = json_array();
	for (uint32_t i = 0; i < 7 && days; i++)
		err |= api_append(days, day_json(&cal.week[i]));

	if (o)
		err |= json_object_set_new(o, "days", days);
	else
		json_decref(days);
	err |= api_set_int(o, "holidays", (int64_t)cal.holc);
	err |= api_set_text(o, "now",
			    hours_state_text(hours_state_at(cal.week, cal.holv,
							    cal.holc, &tm)));
	mem_deref(cal.holv);
	if (!o || !days || err) {
		json_decref(o);
		return ENOMEM;
	}

	x->status = 200;
	x->json = o;
	return 0;
}


static int hours_set(struct exch *x)
{
	static const char *const keys[] = { "ranges" };
	struct store_hours h;
	const char *ranges;
	json_t *j;
	int err;

	memset(&h, 0, sizeof(h));
	if (day_parse(x->item, &h.day))
		return api_why(x, ENOENT,
			       "no day %s: mon, tue, wed, thu, fri, sat or "
			       "sun",
			       x->item);

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	err = api_str(x, j, "ranges", true, &ranges);
	err = err ? err : api_text(x, j, "ranges", h.ranges, sizeof(h.ranges));
	json_decref(j);
	if (err)
		return err;

	/* "closed" reads better on a command line than an empty string */
	if (!strcmp(h.ranges, "closed"))
		h.ranges[0] = '\0';

	err = hours_ranges_validate(h.ranges, x->why, sizeof(x->why));
	if (err)
		return err;

	err = store_hours_set(x->api->ctx.st, &h);
	if (err)
		return err;

	log_info("office hours of %s: %s", day_names[h.day],
		 h.ranges[0] ? h.ranges : "closed");

	x->json = day_json(&h);
	if (!x->json)
		return ENOMEM;

	x->status = 200;
	return 0;
}


static int holiday_list_add(const struct store_holiday *h, void *arg)
{
	return api_append(arg, holiday_json(h));
}


static int holiday_list(struct exch *x)
{
	json_t *arr = json_array();
	int err;

	if (!arr)
		return ENOMEM;

	err = store_holiday_foreach(x->api->ctx.st, holiday_list_add, arr);
	if (err) {
		json_decref(arr);
		return err;
	}

	x->status = 200;
	x->json = arr;
	return 0;
}


static int holiday_add(struct exch *x)
{
	static const char *const keys[] = { "name", "first", "last",
					    "yearly" };
	struct store_holiday h;
	json_t *j;
	int err;

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	memset(&h, 0, sizeof(h));
	err = api_text(x, j, "name", h.name, sizeof(h.name));
	err = err ? err : api_text(x, j, "first", h.first, sizeof(h.first));
	err = err ? err : api_text(x, j, "last", h.last, sizeof(h.last));
	err = err ? err : api_bool(x, j, "yearly", &h.yearly);
	json_decref(j);
	if (err)
		return err;

	if (!h.name[0] || !h.first[0])
		return api_why(x, EBADMSG,
			       "\"name\" and \"first\" are required");
	if (!h.last[0])
		str_ncpy(h.last, h.first, sizeof(h.last));

	err = holiday_validate(&h, x->why, sizeof(x->why));
	if (err)
		return err;

	err = store_holiday_add(x->api->ctx.st, &h);
	if (err)
		return err;

	log_info("holiday %lld (%s) added: %s..%s%s", (long long)h.id, h.name,
		 h.first, h.last, h.yearly ? " every year" : "");

	x->json = holiday_json(&h);
	if (!x->json)
		return ENOMEM;

	x->status = 201;
	re_snprintf(x->location, sizeof(x->location), "/api/v1/holidays/%lld",
		    (long long)h.id);
	return 0;
}


static int holiday_remove(struct exch *x)
{
	int64_t id;
	int err;

	err = api_id(x, "holiday", &id);
	if (err)
		return err;

	err = store_holiday_remove(x->api->ctx.st, id);
	if (err == ENOENT)
		return api_why(x, err, "holiday %s does not exist", x->item);
	if (err)
		return err;

	log_info("holiday %lld removed", (long long)id);
	x->status = 204;
	return 0;
}


const struct api_route apicfg_routes[] = {
	{ "GET", "/api/v1/trunks", trunk_list },
	{ "POST", "/api/v1/trunks", trunk_add },
	{ "GET", "/api/v1/trunks/{n}", trunk_show },
	{ "PATCH", "/api/v1/trunks/{n}", trunk_set },
	{ "DELETE", "/api/v1/trunks/{n}", trunk_remove },
	{ "GET", "/api/v1/outbound-rules", orule_list },
	{ "POST", "/api/v1/outbound-rules", orule_add },
	{ "GET", "/api/v1/outbound-rules/{n}", orule_show },
	{ "DELETE", "/api/v1/outbound-rules/{n}", orule_remove },
	{ "GET", "/api/v1/inbound-rules", irule_list },
	{ "POST", "/api/v1/inbound-rules", irule_add },
	{ "GET", "/api/v1/inbound-rules/{n}", irule_show },
	{ "DELETE", "/api/v1/inbound-rules/{n}", irule_remove },
	{ "GET", "/api/v1/hours", hours_show },
	{ "PUT", "/api/v1/hours/{n}", hours_set },
	{ "GET", "/api/v1/holidays", holiday_list },
	{ "POST", "/api/v1/holidays", holiday_add },
	{ "DELETE", "/api/v1/holidays/{n}", holiday_remove },
};

const size_t apicfg_routec = ARRAY_SIZE(apicfg_routes);

/**
 * @file apisbc.c  JSON API of the SBC (SPEC §4): its status, its security
 *                 settings, the allow-list and the deny-list
 *
 * The store is the record of the security settings and lists; the guard
 * of a running SBC (ctx->sbc, NULL when sbc_mode = off) is what applies
 * them. A change is validated by the guard's own checks
 * (guard_conf_validate, guard_cidr_parse), saved, then the running SBC
 * reloads. The deny-list lives in the running guard, whose deny handler
 * keeps the store in step; with the SBC off the store is edited directly.
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
#include <re_sa.h>
#include <re_tmr.h>
#include "core/core.h"
#include "store/store.h"
#include "sbc/sbc.h"
#include "http/http.h"
#include "http/http_int.h"

#define DEBUG_MODULE "api"

enum {
	ADDR_TEXT_MAX = 64,
	CIDR_TEXT_MAX = 64,
	ISO_TIME_MAX = 24,
	DENY_BATCH_MAX = 1000,
};

static const char periods_allowed[] = "30s, 5min, 30min, 1h, 1d, 1w, never";


static struct guard *running_guard(const struct api *api)
{
	return api->ctx.sbc ? sbc_guard(api->ctx.sbc) : NULL;
}


/* after a change of settings or allow-list: the running SBC follows the
   store; the change itself is saved, so a failure is only logged */
static void sbc_follow(struct api *api)
{
	int err;

	if (!api->ctx.sbc)
		return;

	err = sbc_security_reload(api->ctx.sbc);
	if (err)
		log_warn("SBC security not reloaded after a change: %m", err);
}


/* Unix seconds as ISO 8601 UTC; 0 is "never" */
static void iso_time(char *buf, size_t sz, int64_t t)
{
	const time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) ||
	    !strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		str_ncpy(buf, "never", sz);
}


/* ---- security settings ---------------------------------------------- */

enum sftype {
	SF_U32,
	SF_PERIOD,
};

/* a numeric setting as the API reads and shows it; the level apart */
static const struct sfield {
	const char *key;
	enum sftype type;
	size_t off;  /* in struct guard_conf */
	size_t soff; /* in struct store_sbcsec */
} sfields[] = {
#define SF(k, t)                                                              \
	{                                                                     \
#k, t, offsetof(struct guard_conf, k),                        \
		    offsetof(struct store_sbcsec, k)                          \
	}
	SF(dos_threshold, SF_U32), SF(dos_window, SF_U32),
	SF(dos_period, SF_PERIOD), SF(ddos_threshold, SF_U32),
	SF(ddos_window, SF_U32),   SF(bf_failures, SF_U32),
	SF(bf_window, SF_U32),	   SF(bf_period, SF_PERIOD),
	SF(deny_max, SF_U32),
#undef SF
};

enum { SEC_KEYS = 1 + ARRAY_SIZE(sfields) };


static uint32_t *conf_u32(struct guard_conf *c, const struct sfield *f)
{
	return (uint32_t *)(void *)((uint8_t *)c + f->off);
}


static uint32_t conf_u32_get(const struct guard_conf *c,
			     const struct sfield *f)
{
	return *(const uint32_t *)(const void *)((const uint8_t *)c + f->off);
}


static uint32_t *store_u32(struct store_sbcsec *s, const struct sfield *f)
{
	return (uint32_t *)(void *)((uint8_t *)s + f->soff);
}


static void conf_from_store(struct guard_conf *c, struct store_sbcsec *s)
{
	*c = guard_conf_default;

	if (guard_level_parse(&c->level, s->level)) {
		log_warn("stored SBC security level '%s' unknown: using %s",
			 s->level, guard_level_name(c->level));
		c->level = guard_conf_default.level;
	}

	for (size_t i = 0; i < ARRAY_SIZE(sfields); i++)
		*conf_u32(c, &sfields[i]) = *store_u32(s, &sfields[i]);
}


static void conf_to_store(struct store_sbcsec *s, struct guard_conf *c)
{
	memset(s, 0, sizeof(*s));
	str_ncpy(s->level, guard_level_name(c->level), sizeof(s->level));

	for (size_t i = 0; i < ARRAY_SIZE(sfields); i++)
		*store_u32(s, &sfields[i]) = *conf_u32(c, &sfields[i]);
}


/* the settings in force: the running guard's, else the stored ones,
   else the defaults (never set: first start) */
static int sec_load(struct api *api, struct guard_conf *c)
{
	const struct guard *g = running_guard(api);
	struct store_sbcsec s;
	int err;

	if (g) {
		*c = *guard_conf_get(g);
		return 0;
	}

	err = store_sbcsec_get(api->ctx.st, &s);
	if (err == ENOENT) {
		*c = guard_conf_default;
		return 0;
	}
	if (err)
		return err;

	conf_from_store(c, &s);
	return 0;
}


static json_t *sec_json(const struct api *api, const struct guard_conf *c)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;

	err |= api_set_text(o, "level", guard_level_name(c->level));
	for (size_t i = 0; i < ARRAY_SIZE(sfields); i++) {
		const struct sfield *f = &sfields[i];
		const uint32_t v = conf_u32_get(c, f);

		if (f->type == SF_PERIOD)
			err |= api_set_text(o, f->key, guard_period_name(v));
		else
			err |= api_set_int(o, f->key, v);
	}
	err |= api_set_bool(o, "running", api->ctx.sbc != NULL);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


static int sec_show(struct exch *x)
{
	struct guard_conf c;
	int err;

	err = sec_load(x->api, &c);
	if (err)
		return err;

	x->json = sec_json(x->api, &c);
	if (!x->json)
		return ENOMEM;

	x->status = 200;
	return 0;
}


/* a period member: "1h", or its seconds as text or number */
static int period_member(struct exch *x, json_t *j, const char *key,
			 uint32_t *val)
{
	json_t *v = json_object_get(j, key);
	char num[16];
	const char *s;

	if (!v)
		return 0;

	if (json_is_string(v)) {
		s = json_string_value(v);
	}
	else if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		 json_integer_value(v) <= UINT32_MAX) {
		(void)re_snprintf(num, sizeof(num), "%lld",
				  (long long)json_integer_value(v));
		s = num;
	}
	else {
		return api_why(x, EINVAL, "%s: must be one of %s", key,
			       periods_allowed);
	}

	if (guard_period_parse(val, s))
		return api_why(x, EINVAL, "%s: '%s' is not one of %s", key, s,
			       periods_allowed);

	return 0;
}


/* the members given over the settings in c */
static int sec_merge(struct exch *x, json_t *j, struct guard_conf *c)
{
	const char *level;
	int err;

	err = api_str(x, j, "level", false, &level);
	if (err)
		return api_why(x, EINVAL,
			       "level: must be none, auto or allowlist");
	if (level && guard_level_parse(&c->level, level))
		return api_why(x, EINVAL,
			       "level: '%s' is not one of none, auto, "
			       "allowlist",
			       level);

	for (size_t i = 0; i < ARRAY_SIZE(sfields) && !err; i++) {
		const struct sfield *f = &sfields[i];

		if (f->type == SF_PERIOD)
			err = period_member(x, j, f->key, conf_u32(c, f));
		else
			err = api_u32(x, j, f->key, 0, UINT32_MAX,
				      conf_u32(c, f));
	}

	return err;
}


static int sec_set(struct exch *x)
{
	const char *keys[SEC_KEYS];
	struct api *api = x->api;
	struct store_sbcsec s;
	struct guard_conf c;
	json_t *j;
	int err;

	keys[0] = "level";
	for (size_t i = 0; i < ARRAY_SIZE(sfields); i++)
		keys[1 + i] = sfields[i].key;

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	err = sec_load(api, &c);
	if (err)
		goto out;

	err = sec_merge(x, j, &c);
	if (err)
		goto out;

	err = guard_conf_validate(&c, x->why, sizeof(x->why));
	if (err) {
		err = EINVAL;
		goto out;
	}

	conf_to_store(&s, &c);
	err = store_sbcsec_set(api->ctx.st, &s);
	if (err)
		goto out;

	log_info("SBC security settings changed: level %s",
		 guard_level_name(c.level));
	sbc_follow(api);

	x->json = sec_json(api, &c);
	if (!x->json) {
		err = ENOMEM;
		goto out;
	}
	x->status = 200;

out:
	json_decref(j);
	return err;
}


/* ---- allow-list ----------------------------------------------------- */

static int text_count(const char *text, void *arg)
{
	uint32_t *n = arg;
	(void)text;

	++*n;
	return 0;
}


static int allow_append(const char *cidr, void *arg)
{
	json_t *o = json_object();

	if (o && api_set_text(o, "cidr", cidr)) {
		json_decref(o);
		o = NULL;
	}

	return api_append(arg, o);
}


static int allow_list(struct exch *x)
{
	json_t *arr = json_array();
	int err;

	if (!arr)
		return ENOMEM;

	err = store_sbcallow_foreach(x->api->ctx.st, allow_append, arr);
	if (err) {
		json_decref(arr);
		return err;
	}

	x->status = 200;
	x->json = arr;
	return 0;
}


/* an allow-list entry checked and written the one way the store keeps
   it: "192.0.2.0/24" or "192.0.2.10" */
static int cidr_canon(struct exch *x, const char *in, char *out, size_t sz)
{
	char why[API_WHY_MAX] = "";
	struct sa net;
	uint8_t bits = 0;

	if (guard_cidr_parse(&net, &bits, in, why, sizeof(why)))
		return api_why(x, EINVAL, "cidr: %s",
			       why[0] ? why : "not an address or network");

	if (strchr(in, '/'))
		(void)re_snprintf(out, sz, "%j/%u", &net, (unsigned)bits);
	else
		(void)re_snprintf(out, sz, "%j", &net);

	return 0;
}


static int allow_add(struct exch *x)
{
	static const char *const keys[] = { "cidr" };
	char cidr[CIDR_TEXT_MAX];
	struct api *api = x->api;
	const char *in;
	uint32_t n = 0;
	json_t *j;
	int err;

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	err = api_str(x, j, "cidr", true, &in);
	if (err)
		goto out;

	err = cidr_canon(x, in, cidr, sizeof(cidr));
	if (err)
		goto out;

	err = store_sbcallow_foreach(api->ctx.st, text_count, &n);
	if (err)
		goto out;
	if (n >= GUARD_ALLOW_MAX) {
		err = api_why(x, EINVAL,
			      "cidr: the allow-list is full (at most %u "
			      "entries)",
			      (unsigned)GUARD_ALLOW_MAX);
		goto out;
	}

	err = store_sbcallow_add(api->ctx.st, cidr);
	if (err == EEXIST)
		err = api_why(x, err, "%s is on the allow-list already", cidr);
	if (err)
		goto out;

	log_info("SBC allow-list: %s added", cidr);
	sbc_follow(api);

	x->json = json_object();
	if (!x->json || api_set_text(x->json, "cidr", cidr)) {
		err = ENOMEM;
		goto out;
	}
	x->status = 201;
	re_snprintf(x->location, sizeof(x->location), "/api/v1/sbc/allow/%s",
		    cidr);

out:
	json_decref(j);
	return err;
}


static int allow_remove(struct exch *x)
{
	char cidr[CIDR_TEXT_MAX];
	int err;

	err = cidr_canon(x, x->item, cidr, sizeof(cidr));
	if (err)
		return err;

	err = store_sbcallow_remove(x->api->ctx.st, cidr);
	if (err == ENOENT)
		return api_why(x, err, "%s is not on the allow-list", cidr);
	if (err)
		return err;

	log_info("SBC allow-list: %s removed", cidr);
	sbc_follow(x->api);

	x->status = 204;
	return 0;
}


/* ---- deny-list ------------------------------------------------------ */

static json_t *deny_json(const char *addr, const char *reason,
			 const char *detail, int64_t since, int64_t until,
			 uint64_t drops)
{
	char t_since[ISO_TIME_MAX], t_until[ISO_TIME_MAX];
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;

	iso_time(t_since, sizeof(t_since), since);
	iso_time(t_until, sizeof(t_until), until);

	err |= api_set_text(o, "address", addr);
	err |= api_set_text(o, "reason", reason);
	err |= api_set_text(o, "detail", detail ? detail : "");
	err |= api_set_text(o, "since", t_since);
	err |= api_set_text(o, "until", t_until);
	err |= api_set_int(o, "since_unix", since);
	err |= api_set_int(o, "until_unix", until);
	err |= api_set_int(o, "drops", (int64_t)drops);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


static int guard_entry_append(const struct guard_entry *e, void *arg)
{
	char addr[ADDR_TEXT_MAX];

	(void)re_snprintf(addr, sizeof(addr), "%j", e->addr);

	return api_append(arg,
			  deny_json(addr, guard_reason_name(e->reason),
				    e->detail, e->since, e->until, e->drops));
}


/* an entry whose period is over is no longer denied: the SBC drops it
   from the store when it next runs */
static bool store_entry_live(const struct store_sbcdeny *d)
{
	return !d->until || d->until > (int64_t)time(NULL);
}


static int store_entry_append(const struct store_sbcdeny *d, void *arg)
{
	if (!store_entry_live(d))
		return 0;

	return api_append(arg, deny_json(d->addr, d->reason, d->detail,
					 d->since, d->until, 0));
}


static int store_entry_count(const struct store_sbcdeny *d, void *arg)
{
	uint32_t *n = arg;

	if (store_entry_live(d))
		++*n;

	return 0;
}


static int deny_list(struct exch *x)
{
	const struct guard *g = running_guard(x->api);
	json_t *arr = json_array();
	int err;

	if (!arr)
		return ENOMEM;

	if (g)
		err = guard_deny_foreach(g, guard_entry_append, arr);
	else
		err = store_sbcdeny_foreach(x->api->ctx.st, store_entry_append,
					    arr);
	if (err) {
		json_decref(arr);
		return err;
	}

	x->status = 200;
	x->json = arr;
	return 0;
}


/* an IP address as the deny-list writes it (no port) */
static int addr_canon(struct exch *x, const char *in, struct sa *sa, char *out,
		      size_t sz)
{
	if (!in[0] || sa_set_str(sa, in, 0))
		return api_why(x, EINVAL, "'%s' is not an IP address", in);

	(void)re_snprintf(out, sz, "%j", sa);
	return 0;
}


/* remove one address; *removed says whether it was listed */
static int deny_remove_addr(struct api *api, const struct sa *sa,
			    const char *addr, bool *removed)
{
	struct guard *g = running_guard(api);
	int err_g = ENOENT, err_s;

	/* the guard's deny handler updates the store; the store is
	   edited too so that an entry the guard no longer holds goes */
	if (g) {
		err_g = guard_deny_remove(g, sa);
		if (err_g && err_g != ENOENT)
			return err_g;
	}

	err_s = store_sbcdeny_remove(api->ctx.st, addr);
	if (err_s && err_s != ENOENT)
		return err_s;

	*removed = !err_g || !err_s;
	if (*removed)
		log_info("SBC deny-list: %s removed", addr);

	return 0;
}


static int deny_remove(struct exch *x)
{
	char addr[ADDR_TEXT_MAX];
	bool removed = false;
	struct sa sa;
	int err;

	err = addr_canon(x, x->item, &sa, addr, sizeof(addr));
	if (err)
		return api_why(x, ENOENT, "%s is not on the deny-list",
			       x->item);

	err = deny_remove_addr(x->api, &sa, addr, &removed);
	if (err)
		return err;
	if (!removed)
		return api_why(x, ENOENT, "%s is not on the deny-list", addr);

	x->status = 204;
	return 0;
}


static int deny_clear_all(struct exch *x, uint32_t *n)
{
	struct guard *g = running_guard(x->api);
	int err;

	*n = 0;
	if (g)
		*n = guard_deny_clear(g);
	else {
		err = store_sbcdeny_foreach(x->api->ctx.st, store_entry_count,
					    n);
		if (err)
			return err;
	}

	err = store_sbcdeny_clear(x->api->ctx.st);
	if (err)
		return err;

	log_info("SBC deny-list cleared: %u entries removed", *n);
	return 0;
}


/* every member of "addresses" is checked before any is removed */
static int deny_check_list(struct exch *x, json_t *arr)
{
	char addr[ADDR_TEXT_MAX];
	struct sa sa;
	json_t *v;
	size_t i;

	if (!json_is_array(arr) || !json_array_size(arr) ||
	    json_array_size(arr) > DENY_BATCH_MAX)
		return api_why(x, EBADMSG,
			       "\"addresses\" must be an array of 1 to %u IP "
			       "addresses",
			       (unsigned)DENY_BATCH_MAX);

	json_array_foreach(arr, i, v)
	{
		int err;

		if (!json_is_string(v))
			return api_why(x, EBADMSG,
				       "\"addresses\" must hold strings");

		err = addr_canon(x, json_string_value(v), &sa, addr,
				 sizeof(addr));
		if (err)
			return api_why(x, err,
				       "addresses: '%s' is not an IP "
				       "address",
				       json_string_value(v));
	}

	return 0;
}


static int deny_remove_list(struct exch *x, json_t *arr, uint32_t *n,
			    json_t *unknown)
{
	char addr[ADDR_TEXT_MAX];
	struct sa sa;
	json_t *v;
	size_t i;
	int err;

	err = deny_check_list(x, arr);
	if (err)
		return err;

	json_array_foreach(arr, i, v)
	{
		bool removed = false;

		(void)addr_canon(x, json_string_value(v), &sa, addr,
				 sizeof(addr));
		err = deny_remove_addr(x->api, &sa, addr, &removed);
		if (err)
			return err;

		if (removed)
			++*n;
		else if (api_append(unknown, json_string(addr)))
			return ENOMEM;
	}

	if (!*n)
		return api_why(x, ENOENT,
			       "none of these addresses is on the deny-list");

	return 0;
}


/* DELETE /api/v1/sbc/deny: {"addresses": [...]} or {"all": true} */
static int deny_remove_many(struct exch *x)
{
	static const char *const keys[] = { "addresses", "all" };
	json_t *j, *arr, *unknown = NULL;
	bool all = false;
	uint32_t n = 0;
	int err;

	err = api_body(x, keys, ARRAY_SIZE(keys), &j);
	if (err)
		return err;

	err = api_bool(x, j, "all", &all);
	if (err)
		goto out;

	arr = json_object_get(j, "addresses");
	if ((arr != NULL) == all) {
		err = api_why(x, EBADMSG,
			      "give \"addresses\": [...] or \"all\": true");
		goto out;
	}

	unknown = json_array();
	if (!unknown) {
		err = ENOMEM;
		goto out;
	}

	if (all)
		err = deny_clear_all(x, &n);
	else
		err = deny_remove_list(x, arr, &n, unknown);
	if (err)
		goto out;

	x->json = json_object();
	if (!x->json || api_set_int(x->json, "removed", n) ||
	    json_object_set(x->json, "not_found", unknown)) {
		err = ENOMEM;
		goto out;
	}
	x->status = 200;

out:
	json_decref(unknown);
	json_decref(j);
	return err;
}


/* ---- status --------------------------------------------------------- */

static const char *transp_name(int tp)
{
	static const char *const names[] = { "udp", "tcp", "tls" };

	return (tp >= 0 && (size_t)tp < ARRAY_SIZE(names)) ? names[tp] : "?";
}


static const char *srtp_name(int srtp)
{
	static const char *const names[] = { "disabled", "allowed",
					     "enforced" };

	return (srtp >= 0 && (size_t)srtp < ARRAY_SIZE(names)) ? names[srtp]
							       : "?";
}


static void transports_text(char *buf, size_t sz, bool tls, bool udp, bool tcp)
{
	(void)re_snprintf(buf, sz, "%s%s%s%s%s", tls ? "tls" : "",
			  tls && (udp || tcp) ? "," : "", udp ? "udp" : "",
			  udp && tcp ? "," : "", tcp ? "tcp" : "");
}


static int set_addr(json_t *o, const char *key, const struct sa *sa)
{
	char buf[ADDR_TEXT_MAX] = "";

	if (sa_isset(sa, SA_ADDR))
		(void)re_snprintf(buf, sizeof(buf), "%J", sa);

	return api_set_text(o, key, buf);
}


static json_t *addresses_json(const struct sbc_conf *c)
{
	char pub[16], priv[16];
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;

	transports_text(pub, sizeof(pub), c->pub_tls, c->pub_udp, c->pub_tcp);
	transports_text(priv, sizeof(priv), c->priv_tls, c->priv_udp,
			c->priv_tcp);

	err |= set_addr(o, "ip1", &c->pub_nat);
	err |= set_addr(o, "ip2", &c->pub_if);
	err |= set_addr(o, "ip3", &c->priv_if);
	err |= set_addr(o, "ip4", &c->priv_nat);
	err |= set_addr(o, "ip5", &c->pbx);
	err |= api_set_text(o, "public_transports", pub);
	err |= api_set_text(o, "private_transports", priv);
	err |= api_set_text(o, "pbx_transport", transp_name(c->pbx_tp));
	if (c->mode == SBC_MODE_LAN)
		err |= set_addr(o, "wan_peer", &c->wan_peer);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


static json_t *guard_json(const struct guard_stats *g)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;

	err |= api_set_int(o, "requests", (int64_t)g->requests);
	err |= api_set_int(o, "passed", (int64_t)g->passed);
	err |= api_set_int(o, "dropped_denied", (int64_t)g->dropped_denied);
	err |=
	    api_set_int(o, "dropped_not_allowed", (int64_t)g->dropped_allow);
	err |= api_set_int(o, "dropped_ddos", (int64_t)g->dropped_ddos);
	err |= api_set_int(o, "denials", (int64_t)g->denials);
	err |= api_set_int(o, "deny_dos", g->deny_dos);
	err |= api_set_int(o, "deny_brute_force", g->deny_brute);
	err |= api_set_int(o, "deny_malicious", g->deny_malicious);
	err |= api_set_int(o, "allow_count", g->allow_count);
	err |= api_set_int(o, "sources", g->sources);
	err |= api_set_bool(o, "ddos_active", g->ddos_active);
	if (err) {
		json_decref(o);
		return NULL;
	}

	return o;
}


static int status_running(struct exch *x, json_t *o)
{
	struct sbc_status st;
	const struct sbc_conf *c;
	json_t *opts;
	int err;

	memset(&st, 0, sizeof(st));
	err = sbc_status_get(x->api->ctx.sbc, &st);
	if (err)
		return err;
	c = st.conf;
	if (!c)
		return ENODEV;

	opts = json_object();
	if (!opts)
		return ENOMEM;
	err |= api_set_bool(opts, "rtp_port_change", c->rtp_port_change);
	err |= api_set_bool(opts, "symmetric_rtp", c->symmetric_rtp);
	err |= api_set_text(opts, "public_srtp", srtp_name(c->pub_srtp));
	err |= api_set_text(opts, "private_srtp", srtp_name(c->priv_srtp));

	err |= api_set_text(o, "mode", sbc_mode_name(c->mode));
	err |= json_object_set_new(o, "addresses", addresses_json(c));
	err |= api_set_int(o, "rtp_min", c->rtp_min);
	err |= api_set_int(o, "rtp_max", c->rtp_max);
	err |= json_object_set_new(o, "options", opts);
	err |= api_set_text(o, "level", guard_level_name(st.level));
	err |= json_object_set_new(o, "guard", guard_json(&st.guard));
	err |= api_set_int(o, "bindings", st.bindings);
	err |= api_set_int(o, "calls", st.calls);
	err |= api_set_int(o, "calls_total", (int64_t)st.calls_total);
	err |= api_set_int(o, "registers_total", (int64_t)st.registers_total);
	err |= api_set_int(o, "deny_count",
			   st.guard.deny_dos + st.guard.deny_brute +
			       st.guard.deny_malicious);
	err |= api_set_int(o, "allow_count", st.guard.allow_count);

	return err ? ENOMEM : 0;
}


/* the SBC is off: what the store says it would start with */
static int status_off(struct exch *x, json_t *o)
{
	struct store *st = x->api->ctx.st;
	uint32_t nallow = 0, ndeny = 0;
	struct guard_conf c;
	int err;

	err = sec_load(x->api, &c);
	if (!err)
		err = store_sbcallow_foreach(st, text_count, &nallow);
	if (!err)
		err = store_sbcdeny_foreach(st, store_entry_count, &ndeny);
	if (err)
		return err;

	err |= api_set_text(o, "mode", sbc_mode_name(SBC_MODE_OFF));
	err |= api_set_text(o, "level", guard_level_name(c.level));
	err |= api_set_int(o, "deny_count", ndeny);
	err |= api_set_int(o, "allow_count", nallow);

	return err ? ENOMEM : 0;
}


static int sbc_show(struct exch *x)
{
	json_t *o = json_object();
	int err;

	if (!o)
		return ENOMEM;

	if (api_set_bool(o, "running", x->api->ctx.sbc != NULL)) {
		json_decref(o);
		return ENOMEM;
	}

	if (x->api->ctx.sbc)
		err = status_running(x, o);
	else
		err = status_off(x, o);
	if (err) {
		json_decref(o);
		return err;
	}

	x->status = 200;
	x->json = o;
	return 0;
}


/* ---- routes --------------------------------------------------------- */

const struct api_route apisbc_routes[] = {
	{ "GET", "/api/v1/sbc", sbc_show },
	{ "GET", "/api/v1/sbc/security", sec_show },
	{ "PUT", "/api/v1/sbc/security", sec_set },
	{ "PATCH", "/api/v1/sbc/security", sec_set },
	{ "GET", "/api/v1/sbc/allow", allow_list },
	{ "POST", "/api/v1/sbc/allow", allow_add },
	{ "DELETE", "/api/v1/sbc/allow/{*}", allow_remove },
	{ "GET", "/api/v1/sbc/deny", deny_list },
	{ "DELETE", "/api/v1/sbc/deny", deny_remove_many },
	{ "DELETE", "/api/v1/sbc/deny/{n}", deny_remove },
};

const size_t apisbc_routec = ARRAY_SIZE(apisbc_routes);

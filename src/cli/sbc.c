/**
 * @file sbc.c  relaisctl's SBC commands: status, and the security level,
 *              settings, allow-list and deny-list (/api/v1/sbc)
 *
 * The words after "sbc" name the command ("security allow add"); each
 * takes --help and --json. The command line checks the form of a value
 * (a number, a period name, the characters of an address) and exits 2
 * when it is wrong; ranges are relaisd's to check, and its refusal,
 * which names the setting and what is allowed, exits 1.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli/cli.h"

enum {
	SBC_PATH_MAX = 160,
	SBC_ARGS_MAX = 100, /* CIDRs or addresses in one command */
	ADDR_LEN_MAX = 49,  /* an IPv6 network with its prefix length */
	WORDS_MAX = 3,
};

enum sopt {
	SO_DOS_THRESHOLD = 0,
	SO_DOS_WINDOW,
	SO_DOS_PERIOD,
	SO_DDOS_THRESHOLD,
	SO_DDOS_WINDOW,
	SO_BF_FAILURES,
	SO_BF_WINDOW,
	SO_BF_PERIOD,
	SO_DENY_MAX,

	SO_COUNT
};

/* an option of `security set` and the API key it sets */
static const struct sopt_def {
	const char *name;
	const char *key;
	bool period; /* a period name, else a whole number */
} sopts[SO_COUNT] = {
	[SO_DOS_THRESHOLD] = { "--dos-threshold", "dos_threshold", false },
	[SO_DOS_WINDOW] = { "--dos-window", "dos_window", false },
	[SO_DOS_PERIOD] = { "--dos-period", "dos_period", true },
	[SO_DDOS_THRESHOLD] = { "--ddos-threshold", "ddos_threshold", false },
	[SO_DDOS_WINDOW] = { "--ddos-window", "ddos_window", false },
	[SO_BF_FAILURES] = { "--bf-failures", "bf_failures", false },
	[SO_BF_WINDOW] = { "--bf-window", "bf_window", false },
	[SO_BF_PERIOD] = { "--bf-period", "bf_period", true },
	[SO_DENY_MAX] = { "--deny-max", "deny_max", false },
};

static const char *const periods[] = { "30s", "5min", "30min", "1h",
				       "1d",  "1w",   "never" };
static const char *const levels[] = { "none", "auto", "allowlist" };

/* a command's arguments, after its words */
struct sargs {
	const char *pos[SBC_ARGS_MAX];
	unsigned posc;
	const char *opt[SO_COUNT];
};

typedef int(scmd_h)(const struct ctl *ctl, const struct sargs *a);

enum scheck {
	SC_NONE = 0,
	SC_LEVEL,
	SC_CIDR,
	SC_ADDR,
};

static int cmd_sbc_status(const struct ctl *ctl, const struct sargs *a);
static int cmd_sbc_sec_show(const struct ctl *ctl, const struct sargs *a);
static int cmd_sbc_sec_level(const struct ctl *ctl, const struct sargs *a);
static int cmd_sbc_sec_set(const struct ctl *ctl, const struct sargs *a);
static int cmd_sbc_allow_list(const struct ctl *ctl, const struct sargs *a);
static int cmd_sbc_allow_add(const struct ctl *ctl, const struct sargs *a);
static int cmd_sbc_allow_remove(const struct ctl *ctl, const struct sargs *a);
static int cmd_sbc_deny_list(const struct ctl *ctl, const struct sargs *a);
static int cmd_sbc_deny_remove(const struct ctl *ctl, const struct sargs *a);
static int cmd_sbc_deny_clear(const struct ctl *ctl, const struct sargs *a);

#define SET_SYNOPSIS                                                          \
	"sbc security set [--dos-threshold N] [--dos-window S]\n"             \
	"      [--dos-period P] [--ddos-threshold N] [--ddos-window S]\n"     \
	"      [--bf-failures N] [--bf-window S] [--bf-period P] "            \
	"[--deny-max N]"

static const struct scmd {
	const char *words; /* after "sbc" */
	unsigned min, max; /* arguments after the words */
	enum scheck check; /* what the arguments must look like */
	bool opts;	   /* takes the options of security set */
	const char *synopsis;
	const char *help;
	scmd_h *h;
} scmds[] = {
	{ "status", 0, 0, SC_NONE, false, "sbc status",
	  "Show the SBC: its mode (off when relaisd runs no SBC), addresses\n"
	  "IP1 to IP5 with ports and transports, RTP range and options, the\n"
	  "security level, the guard's counters (requests seen, passed,\n"
	  "dropped and why, deny-list entries by reason, DDoS detector),\n"
	  "phones registered through it and calls.\n",
	  cmd_sbc_status },
	{ "security show", 0, 0, SC_NONE, false, "sbc security show",
	  "Show the security level and the DoS, DDoS and brute-force\n"
	  "settings (those of the running SBC, or those it will start "
	  "with).\n",
	  cmd_sbc_sec_show },
	{ "security level", 1, 1, SC_LEVEL, false,
	  "sbc security level none|auto|allowlist",
	  "Set the security level:\n"
	  "  none       nothing is filtered but malicious calls\n"
	  "  auto       auto-protection: DoS, DDoS and brute-force detection\n"
	  "             fill the deny-list (the default)\n"
	  "  allowlist  only the allow-listed addresses are served\n"
	  "Malicious call detection stays on whatever the level.\n",
	  cmd_sbc_sec_level },
	{ "security set", 0, 0, SC_NONE, true, SET_SYNOPSIS,
	  "Change some security settings; the others stay as they are.\n"
	  "  --dos-threshold   requests from one source (10-5000) ...\n"
	  "  --dos-window      ... within this many seconds (2-10) deny it\n"
	  "  --dos-period      for 30s, 5min, 30min, 1h, 1d, 1w or never\n"
	  "  --ddos-threshold  requests from all sources (10-5000) ...\n"
	  "  --ddos-window     ... within this many seconds (2-10) start the\n"
	  "                    DDoS detector: unknown sources are dropped\n"
	  "  --bf-failures     failed authentications from one source "
	  "(3-100)\n"
	  "  --bf-window       ... within this many seconds (10-3600) deny "
	  "it\n"
	  "  --bf-period       ... for this period (as --dos-period)\n"
	  "  --deny-max        deny-list entries kept (10-100000); when it "
	  "is\n"
	  "                    full the oldest goes\n"
	  "relaisd checks the ranges and names the setting it refuses.\n",
	  cmd_sbc_sec_set },
	{ "security allow list", 0, 0, SC_NONE, false,
	  "sbc security allow list",
	  "List the allow-list: addresses and networks trusted at every\n"
	  "level, and the only ones served at level allowlist.\n",
	  cmd_sbc_allow_list },
	{ "security allow add", 1, SBC_ARGS_MAX, SC_CIDR, false,
	  "sbc security allow add CIDR...",
	  "Add addresses or networks to the allow-list (at most 100\n"
	  "entries): 192.0.2.10, 198.51.100.0/24, 2001:db8::/32. Allow-\n"
	  "listed sources are never denied for DoS, but still checked for\n"
	  "malicious calls.\n",
	  cmd_sbc_allow_add },
	{ "security allow remove", 1, SBC_ARGS_MAX, SC_CIDR, false,
	  "sbc security allow remove CIDR...",
	  "Remove entries from the allow-list, written as `allow list`\n"
	  "shows them.\n",
	  cmd_sbc_allow_remove },
	{ "security deny list", 0, 0, SC_NONE, false, "sbc security deny list",
	  "List the deny-list: each address with why it is there, since\n"
	  "when and until when (local time, or never), and how many of its\n"
	  "requests were dropped since (0 when the SBC is not running).\n",
	  cmd_sbc_deny_list },
	{ "security deny remove", 1, SBC_ARGS_MAX, SC_ADDR, false,
	  "sbc security deny remove ADDR...",
	  "Take one or several addresses off the deny-list: they are served\n"
	  "again at once. An address not on the list is reported, the\n"
	  "others are removed, and the exit status is 1.\n",
	  cmd_sbc_deny_remove },
	{ "security deny clear", 0, 0, SC_NONE, false,
	  "sbc security deny clear", "Empty the deny-list.\n",
	  cmd_sbc_deny_clear },
};


/* ---- parsing -------------------------------------------------------- */

static bool in_set(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(s, set[i]))
			return true;
	}

	return false;
}


static bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}


/* how many of argv are the command's words; 0 if they are not */
static unsigned words_match(const char *words, int argc, char **argv)
{
	const char *w = words;
	unsigned n = 0;

	while (*w) {
		const size_t len = strcspn(w, " ");

		if ((int)n >= argc || strlen(argv[n]) != len ||
		    strncmp(argv[n], w, len))
			return 0;
		++n;
		w += len;
		w += strspn(w, " ");
	}

	return n;
}


/* argv's words start the command's (a group such as "security allow") */
static bool words_prefix(const char *words, int argc, char **argv)
{
	const char *w = words;

	for (int i = 0; i < argc; i++) {
		const size_t len = strcspn(w, " ");

		if (!len || strlen(argv[i]) != len || strncmp(argv[i], w, len))
			return false;
		w += len;
		w += strspn(w, " ");
	}

	return true;
}


/**
 * Print the synopses of the SBC commands (for relaisctl --help)
 *
 * @param f Where to print
 */
void sbc_synopses(FILE *f)
{
	for (size_t i = 0; i < sizeof(scmds) / sizeof(scmds[0]); i++)
		fprintf(f, "  %s\n", scmds[i].synopsis);
}


/* the commands starting with the words given, or an error */
static int group_usage(int nwords, char **argv, bool help)
{
	FILE *f = help ? stdout : stderr;
	bool any = false;

	for (size_t i = 0; i < sizeof(scmds) / sizeof(scmds[0]); i++)
		any |= words_prefix(scmds[i].words, nwords, argv);

	if (!help && any) {
		fprintf(stderr, "relaisctl: sbc");
		for (int i = 0; i < nwords; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, " needs a command\n");
	}
	else if (!any) {
		fprintf(stderr, "relaisctl: unknown command \"sbc");
		for (int i = 0; i < nwords; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, "\"\n");
	}

	fprintf(f, "usage: relaisctl [OPTIONS] sbc COMMAND ...\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(scmds) / sizeof(scmds[0]); i++) {
		if (!any || words_prefix(scmds[i].words, nwords, argv))
			fprintf(f, "  %s\n", scmds[i].synopsis);
	}
	fprintf(f, "\nTry 'relaisctl sbc COMMAND --help'.\n");

	return help ? CTL_OK : CTL_USAGE;
}


static int value_check(const struct scmd *c, const char *v)
{
	const size_t n = strlen(v);

	switch (c->check) {

	case SC_LEVEL:
		if (!in_set(v, levels, sizeof(levels) / sizeof(levels[0])))
			return ctl_usage_error("\"%s\" is not a level: none, "
					       "auto or allowlist",
					       v);
		break;

	case SC_CIDR:
	case SC_ADDR:
		/* it may go into the request path: nothing else */
		if (!n || n > ADDR_LEN_MAX ||
		    strspn(v, "0123456789abcdefABCDEF.:/") != n ||
		    (c->check == SC_ADDR && strchr(v, '/')))
			return ctl_usage_error("\"%s\" is not an IP address%s",
					       v,
					       c->check == SC_CIDR
						   ? " or network (CIDR)"
						   : "");
		break;

	default:
		break;
	}

	return CTL_OK;
}


static int sopt_parse(int argc, char **argv, int *i, struct sargs *a)
{
	const char *arg = argv[*i];
	long long n;

	for (size_t k = 0; k < SO_COUNT; k++) {
		const struct sopt_def *d = &sopts[k];
		const char *v;
		int ret;

		if (strcmp(arg, d->name))
			continue;
		if (a->opt[k])
			return ctl_usage_error("%s is given twice", arg);
		if (*i + 1 >= argc)
			return ctl_usage_error("%s needs a value", arg);

		v = argv[++*i];
		if (d->period &&
		    !in_set(v, periods, sizeof(periods) / sizeof(periods[0])))
			return ctl_usage_error("%s takes 30s, 5min, 30min, "
					       "1h, 1d, 1w or never",
					       arg);
		if (!d->period) {
			ret = arg_u32(arg, v, &n);
			if (ret)
				return ret;
		}

		a->opt[k] = v;
		return CTL_OK;
	}

	return ctl_usage_error("unknown option %s", arg);
}


/* the arguments after the command's words; *help set by --help */
static int args_parse(const struct scmd *c, int argc, char **argv,
		      struct sargs *a, bool *json, bool *help)
{
	int ret;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (is_help(arg)) {
			*help = true;
			return CTL_OK;
		}

		if (!strcmp(arg, "--json")) {
			*json = true;
		}
		else if (arg[0] == '-' && arg[1] && c->opts) {
			ret = sopt_parse(argc, argv, &i, a);
			if (ret)
				return ret;
		}
		else if (arg[0] == '-' && arg[1]) {
			return ctl_usage_error("sbc %s does not take %s",
					       c->words, arg);
		}
		else if (a->posc < c->max) {
			a->pos[a->posc++] = arg;
		}
		else {
			return ctl_usage_error("unexpected argument \"%s\"",
					       arg);
		}
	}

	if (a->posc < c->min)
		return ctl_usage_error("sbc %s needs %s", c->words,
				       c->check == SC_LEVEL  ? "a LEVEL"
				       : c->check == SC_CIDR ? "a CIDR"
							     : "an ADDR");

	for (unsigned i = 0; i < a->posc; i++) {
		ret = value_check(c, a->pos[i]);
		if (ret)
			return ret;
	}

	return CTL_OK;
}


/**
 * Run an SBC command: relaisctl sbc WORDS... [ARGS] [--json] [--help]
 *
 * @param ctl  Where relaisd listens, output format
 * @param argc Number of arguments after "sbc"
 * @param argv The arguments after "sbc"
 *
 * @return exit code (enum ctl_exit)
 */
int cmd_sbc(const struct ctl *ctl, int argc, char **argv)
{
	const struct scmd *c = NULL;
	struct ctl jctl = *ctl;
	unsigned nwords = 0;
	bool help = false;
	struct sargs a;
	int ret, i;

	for (size_t k = 0; k < sizeof(scmds) / sizeof(scmds[0]); k++) {
		const unsigned n = words_match(scmds[k].words, argc, argv);

		if (n > nwords) {
			nwords = n;
			c = &scmds[k];
		}
	}

	if (!c) {
		/* the words up to an option: a group, or a mistake */
		for (i = 0; i < argc && argv[i][0] != '-'; i++)
			;
		return group_usage(i, argv, i < argc && is_help(argv[i]));
	}

	memset(&a, 0, sizeof(a));
	ret = args_parse(c, argc - (int)nwords, argv + nwords, &a, &jctl.json,
			 &help);
	if (ret)
		return ret;

	if (help) {
		printf("usage: relaisctl [OPTIONS] %s\n\n%s\n"
		       "OPTIONS: --socket PATH | --config FILE, --json\n"
		       "exit status: 0 success, 1 relaisd refused (its reason "
		       "is\nprinted), 2 usage error, 3 relaisd cannot be "
		       "reached\n",
		       c->synopsis, c->help);
		return CTL_OK;
	}

	return c->h(&jctl, &a);
}


/* ---- output helpers ------------------------------------------------- */

static void line(const char *label, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void line(const char *label, const char *fmt, ...)
{
	char key[32];
	va_list ap;

	snprintf(key, sizeof(key), "%s:", label);
	printf("%-19s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}


static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}


static int oom(void)
{
	fprintf(stderr, "relaisctl: out of memory\n");
	return CTL_REFUSED;
}


/* ---- status --------------------------------------------------------- */

static void addr_line(const char *label, const json_t *ad, const char *key,
		      const char *ip, const char *tps)
{
	const char *v = reply_str(ad, key);

	if (tps)
		line(label, "%s (%s) %s", v[0] ? v : "-", ip, tps);
	else
		line(label, "%s (%s)", v[0] ? v : "-", ip);
}


static void status_running(const json_t *o)
{
	const json_t *ad = json_object_get(o, "addresses");
	const json_t *op = json_object_get(o, "options");
	const json_t *g = json_object_get(o, "guard");

	line("mode", "%s", reply_str(o, "mode"));
	addr_line("public address", ad, "ip1", "IP1", NULL);
	addr_line("public interface", ad, "ip2", "IP2",
		  reply_str(ad, "public_transports"));
	addr_line("private interface", ad, "ip3", "IP3",
		  reply_str(ad, "private_transports"));
	addr_line("private address", ad, "ip4", "IP4", NULL);
	addr_line("pbx", ad, "ip5", "IP5", reply_str(ad, "pbx_transport"));
	if (reply_str(ad, "wan_peer")[0])
		line("wan element", "%s", reply_str(ad, "wan_peer"));
	line("rtp ports", "%lld-%lld", reply_int(o, "rtp_min"),
	     reply_int(o, "rtp_max"));
	line("rtp port change", "%s",
	     yes_no(reply_bool(op, "rtp_port_change")));
	line("symmetric rtp", "%s", yes_no(reply_bool(op, "symmetric_rtp")));
	line("srtp", "public %s, private %s", reply_str(op, "public_srtp"),
	     reply_str(op, "private_srtp"));
	line("security level", "%s", reply_str(o, "level"));
	line("requests", "%lld seen, %lld passed", reply_int(g, "requests"),
	     reply_int(g, "passed"));
	line("dropped", "%lld denied, %lld not allowed, %lld ddos",
	     reply_int(g, "dropped_denied"),
	     reply_int(g, "dropped_not_allowed"),
	     reply_int(g, "dropped_ddos"));
	line("ddos detector", "%s",
	     reply_bool(g, "ddos_active") ? "ACTIVE" : "idle");
	line("sources tracked", "%lld", reply_int(g, "sources"));
	line("deny-list",
	     "%lld (dos %lld, brute force %lld, malicious %lld), %lld "
	     "denials in all",
	     reply_int(o, "deny_count"), reply_int(g, "deny_dos"),
	     reply_int(g, "deny_brute_force"), reply_int(g, "deny_malicious"),
	     reply_int(g, "denials"));
	line("allow-list", "%lld", reply_int(o, "allow_count"));
	line("registrations", "%lld (%lld REGISTERs in all)",
	     reply_int(o, "bindings"), reply_int(o, "registers_total"));
	line("calls", "%lld (%lld in all)", reply_int(o, "calls"),
	     reply_int(o, "calls_total"));
}


static int cmd_sbc_status(const struct ctl *ctl, const struct sargs *a)
{
	json_t *out;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/sbc", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
	}
	else if (reply_bool(out, "running")) {
		status_running(out);
	}
	else {
		line("mode", "off (sbc_mode in relaisd's configuration)");
		line("security level", "%s", reply_str(out, "level"));
		line("deny-list", "%lld", reply_int(out, "deny_count"));
		line("allow-list", "%lld", reply_int(out, "allow_count"));
	}

	json_decref(out);
	return CTL_OK;
}


/* ---- security settings ---------------------------------------------- */

static void settings_print(const json_t *o)
{
	line("level", "%s", reply_str(o, "level"));
	line("dos-threshold", "%lld requests from one source",
	     reply_int(o, "dos_threshold"));
	line("dos-window", "%lld s", reply_int(o, "dos_window"));
	line("dos-period", "%s", reply_str(o, "dos_period"));
	line("ddos-threshold", "%lld requests from all sources",
	     reply_int(o, "ddos_threshold"));
	line("ddos-window", "%lld s", reply_int(o, "ddos_window"));
	line("bf-failures", "%lld failed authentications",
	     reply_int(o, "bf_failures"));
	line("bf-window", "%lld s", reply_int(o, "bf_window"));
	line("bf-period", "%s", reply_str(o, "bf_period"));
	line("deny-max", "%lld entries", reply_int(o, "deny_max"));
	line("applied", "%s",
	     reply_bool(o, "running")
		 ? "by the running SBC"
		 : "when the SBC starts (it is not running)");
}


static int settings_send(const struct ctl *ctl, const char *method,
			 json_t *body)
{
	json_t *out;
	int ret;

	ret = client_request(ctl, method, "/api/v1/sbc/security", body, &out);
	json_decref(body);
	if (ret)
		return ret;

	if (ctl->json)
		reply_print(out);
	else
		settings_print(out);

	json_decref(out);
	return CTL_OK;
}


static int cmd_sbc_sec_show(const struct ctl *ctl, const struct sargs *a)
{
	(void)a;

	return settings_send(ctl, "GET", NULL);
}


static int cmd_sbc_sec_level(const struct ctl *ctl, const struct sargs *a)
{
	json_t *body = json_pack("{s:s}", "level", a->pos[0]);

	if (!body)
		return oom();

	return settings_send(ctl, "PATCH", body);
}


static int cmd_sbc_sec_set(const struct ctl *ctl, const struct sargs *a)
{
	json_t *body = json_object();
	long long n;

	if (!body)
		return oom();

	for (size_t k = 0; k < SO_COUNT; k++) {
		const char *v = a->opt[k];
		json_t *j;

		if (!v)
			continue;

		if (sopts[k].period) {
			j = json_string(v);
		}
		else {
			(void)arg_u32(sopts[k].name, v, &n); /* checked */
			j = json_integer(n);
		}
		if (json_object_set_new(body, sopts[k].key, j)) {
			json_decref(body);
			return oom();
		}
	}

	if (!json_object_size(body)) {
		json_decref(body);
		return ctl_usage_error("sbc security set needs a setting to "
				       "change (see sbc security set --help)");
	}

	return settings_send(ctl, "PATCH", body);
}


/* ---- allow-list ----------------------------------------------------- */

static int cmd_sbc_allow_list(const struct ctl *ctl, const struct sargs *a)
{
	json_t *out, *e;
	size_t i;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/sbc/allow", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
	}
	else if (!json_array_size(out)) {
		printf("the allow-list is empty\n");
	}
	else {
		printf("ALLOWED\n");
		json_array_foreach(out, i, e)
		{
			printf("%s\n", reply_str(e, "cidr"));
		}
	}

	json_decref(out);
	return CTL_OK;
}


/* the worse of two exit codes: unreachable, refused, ok */
static int worse(int a, int b)
{
	return a > b ? a : b;
}


static int cmd_sbc_allow_add(const struct ctl *ctl, const struct sargs *a)
{
	json_t *done = json_array();
	int ret = CTL_OK;

	if (!done)
		return oom();

	for (unsigned i = 0; i < a->posc && ret != CTL_UNREACHABLE; i++) {
		json_t *body = json_pack("{s:s}", "cidr", a->pos[i]);
		json_t *out = NULL;
		int r;

		if (!body) {
			ret = oom();
			break;
		}

		r = client_request(ctl, "POST", "/api/v1/sbc/allow", body,
				   &out);
		json_decref(body);
		ret = worse(ret, r);
		if (r)
			continue;

		if (!ctl->json)
			printf("%s added to the allow-list\n",
			       reply_str(out, "cidr"));
		json_array_append_new(done, out);
	}

	if (ctl->json)
		reply_print(done);
	json_decref(done);

	return ret;
}


/* prefix and value, the value's '/' encoded: one path segment */
static void path_encode(char *buf, size_t sz, const char *prefix,
			const char *v)
{
	size_t len = (size_t)snprintf(buf, sz, "%s", prefix);

	for (; *v && len + 4 < sz; v++) {
		if (*v == '/') {
			memcpy(buf + len, "%2F", 3);
			len += 3;
		}
		else {
			buf[len++] = *v;
		}
	}
	buf[len] = '\0';
}


static int cmd_sbc_allow_remove(const struct ctl *ctl, const struct sargs *a)
{
	json_t *done = json_array();
	int ret = CTL_OK;

	if (!done)
		return oom();

	for (unsigned i = 0; i < a->posc && ret != CTL_UNREACHABLE; i++) {
		const char *cidr = a->pos[i];
		char path[SBC_PATH_MAX];
		json_t *out = NULL;
		int r;

		path_encode(path, sizeof(path), "/api/v1/sbc/allow/", cidr);
		r = client_request(ctl, "DELETE", path, NULL, &out);
		json_decref(out);
		ret = worse(ret, r);
		if (r)
			continue;

		if (ctl->json)
			json_array_append_new(done,
					      json_pack("{s:s,s:b}", "cidr",
							cidr, "removed", 1));
		else
			printf("%s removed from the allow-list\n", cidr);
	}

	if (ctl->json)
		reply_print(done);
	json_decref(done);

	return ret;
}


/* ---- deny-list ------------------------------------------------------ */

static void until_fmt(char *buf, size_t sz, const json_t *e)
{
	if (!reply_int(e, "until_unix"))
		snprintf(buf, sz, "never");
	else
		time_fmt(buf, sz, reply_int(e, "until_unix"));
}


static int cmd_sbc_deny_list(const struct ctl *ctl, const struct sargs *a)
{
	struct table *t = NULL;
	json_t *out, *e;
	size_t i;
	int ret;
	(void)a;

	ret = client_request(ctl, "GET", "/api/v1/sbc/deny", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		reply_print(out);
		goto out;
	}

	if (!json_array_size(out)) {
		printf("the deny-list is empty\n");
		goto out;
	}

	if (table_alloc(&t, 6, "ADDRESS", "REASON", "SINCE", "UNTIL", "DROPS",
			"DETAIL")) {
		ret = oom();
		goto out;
	}

	json_array_foreach(out, i, e)
	{
		char since[32], until[32], drops[24];
		const char *detail = reply_str(e, "detail");

		time_fmt(since, sizeof(since), reply_int(e, "since_unix"));
		until_fmt(until, sizeof(until), e);
		snprintf(drops, sizeof(drops), "%lld", reply_int(e, "drops"));
		(void)table_row(t, reply_str(e, "address"),
				reply_str(e, "reason"), since, until, drops,
				detail[0] ? detail : "-");
	}
	table_print(t);

out:
	table_free(t);
	json_decref(out);
	return ret;
}


/* one address: DELETE /api/v1/sbc/deny/ADDR */
static int deny_remove_one(const struct ctl *ctl, const char *addr)
{
	char path[SBC_PATH_MAX];
	json_t *out = NULL;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/sbc/deny/%s", addr);
	ret = client_request(ctl, "DELETE", path, NULL, &out);
	json_decref(out);
	if (ret)
		return ret;

	if (ctl->json) {
		json_t *j = json_pack("{s:i,s:[]}", "removed", 1, "not_found");

		reply_print(j);
		json_decref(j);
	}
	else {
		printf("%s removed from the deny-list\n", addr);
	}

	return CTL_OK;
}


/* what DELETE /api/v1/sbc/deny answered: exit 1 if some were unknown */
static int deny_result(const struct ctl *ctl, const json_t *out)
{
	const json_t *nf = json_object_get(out, "not_found");
	const json_t *v;
	size_t i;

	if (ctl->json)
		reply_print(out);
	else
		printf("%lld %s removed from the deny-list\n",
		       reply_int(out, "removed"),
		       reply_int(out, "removed") == 1 ? "entry" : "entries");

	json_array_foreach(nf, i, v)
	{
		fprintf(stderr, "relaisctl: %s is not on the deny-list\n",
			json_string_value(v));
	}

	return json_array_size(nf) ? CTL_REFUSED : CTL_OK;
}


static int cmd_sbc_deny_remove(const struct ctl *ctl, const struct sargs *a)
{
	json_t *body, *arr, *out;
	int ret;

	if (a->posc == 1)
		return deny_remove_one(ctl, a->pos[0]);

	arr = json_array();
	body = json_pack("{s:o}", "addresses", arr);
	if (!body)
		return oom();

	for (unsigned i = 0; i < a->posc; i++) {
		if (json_array_append_new(arr, json_string(a->pos[i]))) {
			json_decref(body);
			return oom();
		}
	}

	ret = client_request(ctl, "DELETE", "/api/v1/sbc/deny", body, &out);
	json_decref(body);
	if (ret)
		return ret;

	ret = deny_result(ctl, out);
	json_decref(out);

	return ret;
}


static int cmd_sbc_deny_clear(const struct ctl *ctl, const struct sargs *a)
{
	json_t *body = json_pack("{s:b}", "all", 1), *out;
	int ret;
	(void)a;

	if (!body)
		return oom();

	ret = client_request(ctl, "DELETE", "/api/v1/sbc/deny", body, &out);
	json_decref(body);
	if (ret)
		return ret;

	if (ctl->json)
		reply_print(out);
	else
		printf("deny-list cleared: %lld %s removed\n",
		       reply_int(out, "removed"),
		       reply_int(out, "removed") == 1 ? "entry" : "entries");

	json_decref(out);
	return CTL_OK;
}

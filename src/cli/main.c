/**
 * @file main.c  relaisctl: command line for administrators, a client of
 *               relaisd's JSON API on its Unix socket
 *
 * Exit codes: 0 success, 1 relaisd refused the request, 2 usage error,
 * 3 relaisd cannot be reached.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "cli/cli.h"

enum {
	NUMBER_MAX_LEN = 16, /* relaisd checks its own, tighter, limits */
	ID_MAX_LEN = 18,
	NAME_MAX_LEN = 31,
};

#define OPT(o) (1ULL << (o))

/* what a command takes after its name, before or among its options */
enum pos {
	POS_NONE = 0,
	POS_NUMBER, /* an extension number */
	POS_NAME,   /* a trunk name */
	POS_ID,	    /* a rule or holiday id */
	POS_DAY,    /* DAY RANGES */
	POS_FILE,
};

/* the settings of a trunk, for add and set */
#define TRUNK_OPTS                                                            \
	(OPT(OPT_HOST) | OPT(OPT_KIND) | OPT(OPT_PORT) | OPT(OPT_SRV) |       \
	 OPT(OPT_NO_SRV) | OPT(OPT_TRANSPORT) | OPT(OPT_PROXY) |              \
	 OPT(OPT_DOMAIN) | OPT(OPT_USER) | OPT(OPT_PASSWORD_STDIN) |          \
	 OPT(OPT_REG_INTERVAL) | OPT(OPT_MAX_CALLS) | OPT(OPT_INBOUND) |      \
	 OPT(OPT_OUTBOUND) | OPT(OPT_CODECS) | OPT(OPT_SRTP) |                \
	 OPT(OPT_NUMBER) | OPT(OPT_DIDS) | OPT(OPT_CALLER_ID) |               \
	 OPT(OPT_CALLER_NAME) | OPT(OPT_PAI) | OPT(OPT_PRIVACY) |             \
	 OPT(OPT_DIVERSION) | OPT(OPT_OPTIONS_INTERVAL) |                     \
	 OPT(OPT_CONTACT_ADDR))

#define TRUNK_SYNOPSIS                                                        \
	"\n      [--kind register|ip] [--port N] [--srv | --no-srv]"          \
	"\n      [--transport udp|tcp|tls] [--proxy HOST[:PORT]] [--domain "  \
	"D]"                                                                  \
	"\n      [--user AUTHID] [--password-stdin] [--reg-interval S]"       \
	"\n      [--max-calls N] [--inbound yes|no] [--outbound yes|no]"      \
	"\n      [--codecs LIST] [--srtp disabled|allowed|enforced]"          \
	"\n      [--number MAIN] [--dids LIST] [--caller-id NUM]"             \
	"\n      [--caller-name NAME] [--pai yes|no]"                         \
	"\n      [--privacy none|id|header|user] [--diversion yes|no]"        \
	"\n      [--options-interval S] [--contact-addr IP]"

#define TRUNK_HELP                                                            \
	"  --kind          register (authentication ID and password) or ip\n" \
	"                  (the carrier knows us by our address)\n"           \
	"  --host          registrar/server: IPv4 address or host name\n"     \
	"  --port          0 means the transport's default, or SRV's\n"       \
	"  --srv           resolve the host with NAPTR/SRV (RFC 3263);\n"     \
	"                  --no-srv uses its A record\n"                      \
	"  --proxy         outbound proxy, HOST[:PORT]\n"                     \
	"  --domain        SIP domain of our URIs (default: the host)\n"      \
	"  --user          authentication ID\n"                               \
	"  --password-stdin  read the password as one line of standard\n"     \
	"                  input (asked for twice on a terminal)\n"           \
	"  --reg-interval  seconds between registrations (default 180)\n"     \
	"  --max-calls     simultaneous calls (default 10)\n"                 \
	"  --inbound, --outbound  calls from / to the trunk allowed\n"        \
	"  --codecs        priority list, e.g. PCMA,G729,telephone-event\n"   \
	"  --srtp          disabled, allowed or enforced\n"                   \
	"  --number        the trunk's main number\n"                         \
	"  --dids          numbers and masks it brings: "                     \
	"0233456789,0233456*\n"                                               \
	"  --caller-id     default outbound caller ID; --caller-name its\n"   \
	"                  display name\n"                                    \
	"  --pai           send P-Asserted-Identity\n"                        \
	"  --privacy       Privacy header: none, id, header or user\n"        \
	"  --diversion     add a Diversion header to forwarded calls\n"       \
	"  --options-interval  seconds between OPTIONS probes, 0 = none\n"    \
	"  --contact-addr  public address for Contact and SDP (behind NAT)\n"

#define DEST_HELP "DEST is hangup, extension:NUMBER or external:NUMBER.\n"

typedef int(cmd_h)(const struct ctl *ctl, const struct ctl_args *a);

static const struct cmd {
	const char *group; /* "extension", or NULL */
	const char *name;
	enum pos pos;
	uint64_t opts;
	const char *synopsis;
	const char *help;
	cmd_h *h;
} cmds[] = {
	{ "extension", "add", POS_NUMBER,
	  OPT(OPT_NAME) | OPT(OPT_PASSWORD) | OPT(OPT_GENERATE),
	  "extension add NUMBER --name NAME [--password PW | "
	  "--generate-password]",
	  "Create an extension. NUMBER has 2 to 8 digits and does not start\n"
	  "with 0. The password needs 10 to 64 printable ASCII characters\n"
	  "mixing 3 of lower case, upper case, digits and symbols, without\n"
	  "the extension number, runs like 1234 or aaaa, or common "
	  "passwords.\n"
	  "Without --password it is asked for twice on a terminal, or read\n"
	  "as one line from standard input. --generate-password makes a\n"
	  "random 16-character one and prints it, once.\n",
	  cmd_ext_add },
	{ "extension", "list", POS_NONE, 0, "extension list",
	  "List the extensions and whether phones are registered.\n",
	  cmd_ext_list },
	{ "extension", "show", POS_NUMBER, 0, "extension show NUMBER",
	  "Show an extension and its registered contacts.\n", cmd_ext_show },
	{ "extension", "remove", POS_NUMBER, 0, "extension remove NUMBER",
	  "Remove an extension and drop its registrations.\n",
	  cmd_ext_remove },
	{ "extension", "passwd", POS_NUMBER,
	  OPT(OPT_PASSWORD) | OPT(OPT_GENERATE),
	  "extension passwd NUMBER [--password PW | --generate-password]",
	  "Set a new password for an extension (same rules and input as\n"
	  "`extension add`). Phones keep their registration until they\n"
	  "register again.\n",
	  cmd_ext_passwd },

	{ "trunk", "add", POS_NAME, OPT(OPT_PROFILE) | TRUNK_OPTS,
	  "trunk add NAME --host HOST "
	  "[--profile generic|orange-btip|orange-btipoi]" TRUNK_SYNOPSIS,
	  "Add a carrier SIP trunk. NAME uses letters, digits, '-' and '_'.\n"
	  "The profile's settings come first, then the options given:\n"
	  "  generic        UDP, register, PCMA,PCMU,G722, SRTP disabled\n"
	  "  orange-btip    Orange BTIP/BTalk over the private network: UDP,\n"
	  "                 G722,PCMA,G729, register every 180 s, PAI\n"
	  "  orange-btipoi  Orange BTIPoI/BToI over the Internet: TLS 5061,\n"
	  "                 SRV, SRTP enforced, PCMA first\n"
	  "A register trunk needs a password: asked for twice on a terminal,\n"
	  "or read from standard input with --password-stdin.\n\n" TRUNK_HELP,
	  cmd_trunk_add },
	{ "trunk", "set", POS_NAME, TRUNK_OPTS,
	  "trunk set NAME [--host HOST]" TRUNK_SYNOPSIS,
	  "Change some settings of a trunk; the others stay as they are.\n"
	  "The password changes only with --password-stdin. The trunk\n"
	  "restarts (registers again) with its new settings.\n\n" TRUNK_HELP,
	  cmd_trunk_set },
	{ "trunk", "list", POS_NONE, 0, "trunk list",
	  "List the trunks with their live state: up, down (and why),\n"
	  "calls in progress, registration.\n",
	  cmd_trunk_list },
	{ "trunk", "show", POS_NAME, 0, "trunk show NAME",
	  "Show every setting of a trunk (not its password: only whether\n"
	  "one is set) and its live state.\n",
	  cmd_trunk_show },
	{ "trunk", "remove", POS_NAME, 0, "trunk remove NAME",
	  "Remove a trunk (it unregisters). Refused while a routing rule\n"
	  "uses it; the refusal names the rules.\n",
	  cmd_trunk_remove },

	{ "outbound", "add", POS_NONE,
	  OPT(OPT_NAME) | OPT(OPT_POSITION) | OPT(OPT_PREFIX) |
	      OPT(OPT_CALLERS) | OPT(OPT_MIN_LEN) | OPT(OPT_MAX_LEN) |
	      OPT(OPT_ROUTE),
	  "outbound add --name N [--position P] [--prefix DIGITS]\n"
	  "      [--callers LIST] [--min-len N] [--max-len N]\n"
	  "      --route TRUNK[:STRIP[:PREPEND]] | --route blocked "
	  "[--route ...]",
	  "Add an outbound rule. Rules are tried by position (1 first); a\n"
	  "rule matches a dialled number starting with --prefix, from an\n"
	  "extension in --callers (\"100,101,200-220\"; all if absent), of\n"
	  "--min-len to --max-len digits. Its 1 to 5 routes are tried in\n"
	  "order: the next one when a trunk is down, at its call limit, or\n"
	  "answers 503 or not at all. Each strips STRIP leading digits then\n"
	  "prepends PREPEND; \"blocked\" refuses the call. Emergency numbers\n"
	  "always go through.\n"
	  "Example (Orange): --prefix 0 --route orange:1:+33 turns\n"
	  "0142000000 into +33142000000.\n",
	  cmd_orule_add },
	{ "outbound", "list", POS_NONE, 0, "outbound list",
	  "List the outbound rules in the order they are tried. ROUTES shows\n"
	  "trunk(-STRIP,PREPEND) for each route.\n",
	  cmd_orule_list },
	{ "outbound", "remove", POS_ID, 0, "outbound remove ID",
	  "Remove an outbound rule; the rules after it move up.\n",
	  cmd_orule_remove },

	{ "inbound", "add", POS_NONE,
	  OPT(OPT_NAME) | OPT(OPT_DID) | OPT(OPT_TRUNK) | OPT(OPT_OPEN) |
	      OPT(OPT_CLOSED) | OPT(OPT_HOLIDAY),
	  "inbound add --name N --did PATTERN [--trunk T] --open DEST\n"
	  "      [--closed DEST] [--holiday DEST]",
	  "Route calls from trunks to a destination. PATTERN is matched on\n"
	  "the last digits of the called number (2304024 matches\n"
	  "+448452304024 and 08452304024); '*' stands for the digits after\n"
	  "it (0233456*), \"*\" alone for any number. --trunk limits the "
	  "rule\n"
	  "to one trunk. --open applies in office hours, --closed outside\n"
	  "them (default: as --open), --holiday on holidays (default: as\n"
	  "--closed).\n" DEST_HELP,
	  cmd_irule_add },
	{ "inbound", "list", POS_NONE, 0, "inbound list",
	  "List the inbound rules.\n", cmd_irule_list },
	{ "inbound", "remove", POS_ID, 0, "inbound remove ID",
	  "Remove an inbound rule.\n", cmd_irule_remove },

	{ "hours", "set", POS_DAY, 0, "hours set DAY RANGES",
	  "Set the office hours of one day of the week. DAY is mon, tue,\n"
	  "wed, thu, fri, sat or sun. RANGES is \"08:30-12:00,13:30-18:00\"\n"
	  "(breaks are the gaps) or \"closed\". A week with no hours at all\n"
	  "is always open.\n",
	  cmd_hours_set },
	{ "hours", "show", POS_NONE, 0, "hours show",
	  "Show the weekly office hours, the number of holidays and whether\n"
	  "it is open now.\n",
	  cmd_hours_show },

	{ "holiday", "add", POS_NONE,
	  OPT(OPT_NAME) | OPT(OPT_DATE) | OPT(OPT_YEARLY),
	  "holiday add --name N --date YYYY-MM-DD[..YYYY-MM-DD] [--yearly]",
	  "Add a holiday: one day, or a range of days. With --yearly it\n"
	  "comes back every year (the year is ignored).\n",
	  cmd_holiday_add },
	{ "holiday", "list", POS_NONE, 0, "holiday list",
	  "List the holidays.\n", cmd_holiday_list },
	{ "holiday", "remove", POS_ID, 0, "holiday remove ID",
	  "Remove a holiday.\n", cmd_holiday_remove },

	{ "cert", "csr", POS_NONE,
	  OPT(OPT_CN) | OPT(OPT_SAN) | OPT(OPT_ORG) | OPT(OPT_COUNTRY) |
	      OPT(OPT_BITS) | OPT(OPT_OUT),
	  "cert csr --cn FQDN [--san LIST] [--org O] [--country CC]\n"
	  "      [--bits 2048|3072|4096] [--out FILE]",
	  "Make a new private key (RSA, 2048 bits unless --bits) and a\n"
	  "certificate signing request (SHA-256) for the TLS listeners and\n"
	  "trunks. The key stays on relaisd's machine, next to tls_cert as\n"
	  "<tls_cert>.key.new; the certificate in use keeps working until\n"
	  "`cert install`. The CSR is printed, or written to FILE. --san\n"
	  "adds host names or addresses (comma-separated) to the CN.\n",
	  cmd_cert_csr },
	{ "cert", "install", POS_FILE, OPT(OPT_P12) | OPT(OPT_PASSWORD_STDIN),
	  "cert install FILE [--p12] [--password-stdin]",
	  "Install the certificate the CA signed: FILE holds it in PEM with\n"
	  "its chain (the key is the one `cert csr` made), or with --p12 a\n"
	  "PKCS#12 bundle with its own key. --password-stdin reads the\n"
	  "bundle's (or PEM key's) password. New TLS connections use it at\n"
	  "once; established ones keep theirs.\n",
	  cmd_cert_install },
	{ "cert", "show", POS_NONE, 0, "cert show",
	  "Show the TLS certificate: subject, issuer, expiry and days left,\n"
	  "with a warning when it expires within 30 days, has expired, or is\n"
	  "self-signed.\n",
	  cmd_cert_show },

	{ NULL, "registrations", POS_NONE, OPT(OPT_EXT),
	  "registrations [--ext NUMBER]",
	  "List the registered contacts, of one extension with --ext.\n",
	  cmd_registrations },
	{ NULL, "calls", POS_NONE, OPT(OPT_ACTIVE), "calls --active",
	  "List the calls in progress. Ended calls are in `relaisctl cdr`.\n",
	  cmd_calls },
	{ NULL, "cdr", POS_NONE, OPT(OPT_LIMIT), "cdr [--limit N]",
	  "List call records, newest first: the last 50, or N (1 to 10000).\n",
	  cmd_cdr },
	{ NULL, "status", POS_NONE, 0, "status",
	  "Show relaisd's version, uptime, active calls and registrations.\n",
	  cmd_status },
};

static const char *const groups[] = { "extension", "trunk", "outbound",
				      "inbound",   "hours", "holiday",
				      "cert" };

static const char global_help[] =
    "options:\n"
    "  --socket PATH   relaisd's control socket (default " CTL_DEFAULT_SOCKET
    ")\n"
    "  --config FILE   use the control_socket of relaisd's configuration\n"
    "  --json          print the API's JSON instead of tables\n"
    "  -h, --help      this help; `relaisctl COMMAND --help` for one "
    "command\n"
    "\n"
    "A password given with --password is visible to other users of this\n"
    "machine (ps); prefer the prompt or standard input.\n"
    "\n"
    "exit status:\n"
    "  0  success\n"
    "  1  relaisd refused the request (its reason is printed)\n"
    "  2  usage error\n"
    "  3  relaisd cannot be reached (socket absent, refused, no access)\n";


/**
 * Print a usage error on stderr
 *
 * @param fmt Message format (printf)
 *
 * @return CTL_USAGE
 */
int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "relaisctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'relaisctl --help'.\n");

	return CTL_USAGE;
}


/* the whole tool (group NULL), or one group's commands */
static void usage(FILE *f, const char *group)
{
	fprintf(f, "usage: relaisctl [--socket PATH | --config FILE] [--json] "
		   "COMMAND ...\n\ncommands:\n");

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (group && (!cmds[i].group || strcmp(cmds[i].group, group)))
			continue;
		fprintf(f, "  %s\n", cmds[i].synopsis);
	}
	if (!group)
		sbc_synopses(f);

	fprintf(f, "\n%s", global_help);
}


static void cmd_usage(const struct cmd *c)
{
	printf("usage: relaisctl [OPTIONS] %s\n\n%s\n%s", c->synopsis, c->help,
	       global_help);
}


/* control_socket = PATH from a relaisd configuration file */
static int socket_from_config(struct ctl *ctl, const char *path)
{
	static const char key[] = "control_socket";
	char line[1024];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "relaisctl: cannot read %s: %s\n", path,
			strerror(errno));
		return CTL_USAGE;
	}

	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t"), *v, *end;

		if (strncmp(p, key, sizeof(key) - 1))
			continue;
		p += sizeof(key) - 1;
		p += strspn(p, " \t");
		if (*p != '=')
			continue;

		v = p + 1 + strspn(p + 1, " \t");
		end = v + strlen(v);
		while (end > v && strchr(" \t\r\n", end[-1]))
			*--end = '\0';

		if ((size_t)(end - v) >= sizeof(ctl->socket)) {
			fclose(f);
			return ctl_usage_error("%s: control_socket is too "
					       "long",
					       path);
		}
		memcpy(ctl->socket, v, (size_t)(end - v) + 1);
	}

	fclose(f);
	return CTL_OK;
}


static bool all_of(const char *s, const char *set, size_t max)
{
	const size_t n = s ? strlen(s) : 0;

	return n && n <= max && strspn(s, set) == n;
}


static const struct {
	const char *name;
	enum opt opt;
	bool value;
} opt_names[] = {
	{ "--name", OPT_NAME, true },
	{ "--password", OPT_PASSWORD, true },
	{ "--generate-password", OPT_GENERATE, false },
	{ "--ext", OPT_EXT, true },
	{ "--limit", OPT_LIMIT, true },
	{ "--active", OPT_ACTIVE, false },
	{ "--host", OPT_HOST, true },
	{ "--profile", OPT_PROFILE, true },
	{ "--kind", OPT_KIND, true },
	{ "--port", OPT_PORT, true },
	{ "--srv", OPT_SRV, false },
	{ "--no-srv", OPT_NO_SRV, false },
	{ "--transport", OPT_TRANSPORT, true },
	{ "--proxy", OPT_PROXY, true },
	{ "--domain", OPT_DOMAIN, true },
	{ "--user", OPT_USER, true },
	{ "--password-stdin", OPT_PASSWORD_STDIN, false },
	{ "--reg-interval", OPT_REG_INTERVAL, true },
	{ "--max-calls", OPT_MAX_CALLS, true },
	{ "--inbound", OPT_INBOUND, true },
	{ "--outbound", OPT_OUTBOUND, true },
	{ "--codecs", OPT_CODECS, true },
	{ "--srtp", OPT_SRTP, true },
	{ "--number", OPT_NUMBER, true },
	{ "--dids", OPT_DIDS, true },
	{ "--caller-id", OPT_CALLER_ID, true },
	{ "--caller-name", OPT_CALLER_NAME, true },
	{ "--pai", OPT_PAI, true },
	{ "--privacy", OPT_PRIVACY, true },
	{ "--diversion", OPT_DIVERSION, true },
	{ "--options-interval", OPT_OPTIONS_INTERVAL, true },
	{ "--contact-addr", OPT_CONTACT_ADDR, true },
	{ "--position", OPT_POSITION, true },
	{ "--prefix", OPT_PREFIX, true },
	{ "--callers", OPT_CALLERS, true },
	{ "--min-len", OPT_MIN_LEN, true },
	{ "--max-len", OPT_MAX_LEN, true },
	{ "--route", OPT_ROUTE, true },
	{ "--did", OPT_DID, true },
	{ "--trunk", OPT_TRUNK, true },
	{ "--open", OPT_OPEN, true },
	{ "--closed", OPT_CLOSED, true },
	{ "--holiday", OPT_HOLIDAY, true },
	{ "--date", OPT_DATE, true },
	{ "--yearly", OPT_YEARLY, false },
	{ "--cn", OPT_CN, true },
	{ "--san", OPT_SAN, true },
	{ "--org", OPT_ORG, true },
	{ "--country", OPT_COUNTRY, true },
	{ "--bits", OPT_BITS, true },
	{ "--out", OPT_OUT, true },
	{ "--p12", OPT_P12, false },
};


static int cmd_name_error(const struct cmd *c, const char *arg)
{
	return ctl_usage_error("%s%s%s does not take %s",
			       c->group ? c->group : "", c->group ? " " : "",
			       c->name, arg);
}


/* one option at argv[*i], if the command takes it; --route may repeat,
   the others may not */
static int opt_parse(const struct cmd *c, int argc, char **argv, int *i,
		     struct ctl_args *a)
{
	const char *arg = argv[*i];

	for (size_t k = 0; k < sizeof(opt_names) / sizeof(opt_names[0]); k++) {
		const enum opt opt = opt_names[k].opt;
		const char *val = "";

		if (strcmp(arg, opt_names[k].name))
			continue;

		if (!(c->opts & OPT(opt)))
			return cmd_name_error(c, arg);

		if (opt_names[k].value) {
			if (*i + 1 >= argc)
				return ctl_usage_error("%s needs a value",
						       arg);
			val = argv[++*i];
		}

		if (opt == OPT_ROUTE) {
			if (a->routec >= CTL_ROUTES_MAX)
				return ctl_usage_error("at most %d --route",
						       CTL_ROUTES_MAX);
			a->route[a->routec++] = val;
		}
		else if (a->opt[opt]) {
			return ctl_usage_error("%s is given twice", arg);
		}

		a->opt[opt] = val;
		return CTL_OK;
	}

	return ctl_usage_error("unknown option %s", arg);
}


static unsigned pos_count(enum pos pos)
{
	switch (pos) {

	case POS_NONE:
		return 0;
	case POS_DAY:
		return 2;
	default:
		return 1;
	}
}


static const char *pos_word(enum pos pos)
{
	switch (pos) {

	case POS_NUMBER:
		return "a NUMBER";
	case POS_NAME:
		return "a NAME";
	case POS_ID:
		return "an ID";
	case POS_DAY:
		return "DAY and RANGES";
	case POS_FILE:
		return "a FILE";
	default:
		return "nothing";
	}
}


/* what goes into the request path is checked here: nothing but the
   characters the path expects */
static int pos_check(const struct cmd *c, const struct ctl_args *a)
{
	static const char *const days[] = { "mon", "tue", "wed", "thu",
					    "fri", "sat", "sun" };
	const char *p = a->pos[0];

	switch (c->pos) {

	case POS_NUMBER:
		if (!all_of(p, "0123456789", NUMBER_MAX_LEN))
			return ctl_usage_error("\"%s\" is not an extension "
					       "number",
					       p);
		break;

	case POS_NAME:
		if (!all_of(p,
			    "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
			    NAME_MAX_LEN))
			return ctl_usage_error("\"%s\" is not a trunk name "
					       "(letters, digits, '-', '_', "
					       "at most %d)",
					       p, NAME_MAX_LEN);
		break;

	case POS_ID:
		if (!all_of(p, "0123456789", ID_MAX_LEN))
			return ctl_usage_error("\"%s\" is not an ID (see the "
					       "list command)",
					       p);
		break;

	case POS_DAY:
		for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
			if (!strcmp(p, days[i]))
				return CTL_OK;
		}
		return ctl_usage_error("\"%s\" is not a day: mon, tue, wed, "
				       "thu, fri, sat or sun",
				       p);

	default:
		break;
	}

	return CTL_OK;
}


/* the command's arguments; *help is set by -h/--help */
static int args_parse(const struct cmd *c, int argc, char **argv,
		      struct ctl_args *a, bool *help)
{
	const unsigned npos = pos_count(c->pos);
	unsigned got = 0;
	int ret;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			*help = true;
			return CTL_OK;
		}

		if (!strcmp(arg, "--json")) {
			a->json = true;
		}
		else if (arg[0] == '-' && arg[1]) {
			ret = opt_parse(c, argc, argv, &i, a);
			if (ret)
				return ret;
		}
		else if (got < npos) {
			a->pos[got++] = arg;
		}
		else {
			return ctl_usage_error("unexpected argument \"%s\"",
					       arg);
		}
	}

	if (got < npos)
		return ctl_usage_error("%s%s%s needs %s",
				       c->group ? c->group : "",
				       c->group ? " " : "", c->name,
				       pos_word(c->pos));

	ret = pos_check(c, a);
	if (ret)
		return ret;

	/* these go into the request path: digits only */
	if (a->opt[OPT_EXT] &&
	    !all_of(a->opt[OPT_EXT], "0123456789", NUMBER_MAX_LEN))
		return ctl_usage_error("--ext needs an extension number");
	if (a->opt[OPT_LIMIT] &&
	    !all_of(a->opt[OPT_LIMIT], "0123456789", NUMBER_MAX_LEN))
		return ctl_usage_error("--limit needs a number");

	return CTL_OK;
}


static const struct cmd *cmd_find(const char *group, const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const struct cmd *c = &cmds[i];

		if ((group == NULL) != (c->group == NULL))
			continue;
		if (group && strcmp(group, c->group))
			continue;
		if (!strcmp(name, c->name))
			return c;
	}

	return NULL;
}


static bool is_group(const char *word)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (!strcmp(word, groups[i]))
			return true;
	}

	return false;
}


static int run(const struct ctl *ctl, int argc, char **argv)
{
	const char *group = NULL, *word = argv[0];
	const struct cmd *c;
	struct ctl_args a;
	bool help = false;
	int ret;

	if (!strcmp(word, "sbc"))
		return cmd_sbc(ctl, argc - 1, argv + 1);

	if (is_group(word)) {
		group = word;
		if (argc < 2 || !strcmp(argv[1], "--help") ||
		    !strcmp(argv[1], "-h")) {
			usage(argc < 2 ? stderr : stdout, group);
			return argc < 2 ? CTL_USAGE : CTL_OK;
		}
		word = argv[1];
		--argc;
		++argv;
	}

	c = cmd_find(group, word);
	if (!c)
		return ctl_usage_error("unknown command \"%s%s%s\"",
				       group ? group : "", group ? " " : "",
				       word);

	memset(&a, 0, sizeof(a));
	ret = args_parse(c, argc - 1, argv + 1, &a, &help);
	if (ret)
		return ret;

	if (help) {
		cmd_usage(c);
		return CTL_OK;
	}

	if (a.json) {
		struct ctl json_ctl = *ctl;

		json_ctl.json = true;
		return c->h(&json_ctl, &a);
	}

	return c->h(ctl, &a);
}


/* global options, up to the command; returns the command's index */
static int global_parse(struct ctl *ctl, int argc, char **argv, int *first)
{
	const char *config = NULL, *sock = NULL;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout, NULL);
			*first = argc;
			return CTL_OK;
		}
		else if (!strcmp(arg, "--json")) {
			ctl->json = true;
		}
		else if (!strcmp(arg, "--socket") ||
			 !strcmp(arg, "--config")) {
			if (i + 1 >= argc)
				return ctl_usage_error("%s needs a value",
						       arg);
			if (arg[2] == 's')
				sock = argv[++i];
			else
				config = argv[++i];
		}
		else {
			return ctl_usage_error("unknown option %s", arg);
		}
	}

	if (sock && config)
		return ctl_usage_error("give --socket or --config, not both");

	if (config) {
		int ret = socket_from_config(ctl, config);

		if (ret)
			return ret;
	}

	if (sock) {
		if (!sock[0] || strlen(sock) >= sizeof(ctl->socket))
			return ctl_usage_error("the socket path must have 1 "
					       "to %zu characters",
					       sizeof(ctl->socket) - 1);
		snprintf(ctl->socket, sizeof(ctl->socket), "%s", sock);
	}

	if (i >= argc)
		return ctl_usage_error("no command given");

	*first = i;
	return CTL_OK;
}


int main(int argc, char **argv)
{
	struct ctl ctl;
	int first = 0, ret;

	memset(&ctl, 0, sizeof(ctl));
	snprintf(ctl.socket, sizeof(ctl.socket), "%s", CTL_DEFAULT_SOCKET);

	ret = global_parse(&ctl, argc, argv, &first);
	if (ret || first >= argc)
		return ret;

	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "relaisctl: cannot start libcurl\n");
		return CTL_UNREACHABLE;
	}

	ret = run(&ctl, argc - first, argv + first);
	curl_global_cleanup();

	return ret;
}

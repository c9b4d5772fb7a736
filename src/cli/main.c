/**
 * @file main.c  relaisctl: command line for administrators, a client of
 *               relaisd's JSON API on its Unix socket
 *
 * Exit codes: 0 success, 1 relaisd refused the request, 2 usage error,
 * 3 relaisd cannot be reached.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "cli/cli.h"

/* options a command may take */
enum opt {
	OPT_NAME = 1 << 0,
	OPT_PASSWORD = 1 << 1,
	OPT_GENERATE = 1 << 2,
	OPT_EXT = 1 << 3,
	OPT_LIMIT = 1 << 4,
	OPT_ACTIVE = 1 << 5,
};

enum {
	NUMBER_MAX_LEN = 16, /* relaisd checks its own, tighter, limits */
};

typedef int(cmd_h)(const struct ctl *ctl, const struct ctl_args *a);

static const struct cmd {
	const char *group; /* "extension", or NULL */
	const char *name;
	bool number; /* takes NUMBER */
	unsigned opts;
	const char *synopsis;
	const char *help;
	cmd_h *h;
} cmds[] = {
	{ "extension", "add", true, OPT_NAME | OPT_PASSWORD | OPT_GENERATE,
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
	{ "extension", "list", false, 0, "extension list",
	  "List the extensions and whether phones are registered.\n",
	  cmd_ext_list },
	{ "extension", "show", true, 0, "extension show NUMBER",
	  "Show an extension and its registered contacts.\n", cmd_ext_show },
	{ "extension", "remove", true, 0, "extension remove NUMBER",
	  "Remove an extension and drop its registrations.\n",
	  cmd_ext_remove },
	{ "extension", "passwd", true, OPT_PASSWORD | OPT_GENERATE,
	  "extension passwd NUMBER [--password PW | --generate-password]",
	  "Set a new password for an extension (same rules and input as\n"
	  "`extension add`). Phones keep their registration until they\n"
	  "register again.\n",
	  cmd_ext_passwd },
	{ NULL, "registrations", false, OPT_EXT,
	  "registrations [--ext NUMBER]",
	  "List the registered contacts, of one extension with --ext.\n",
	  cmd_registrations },
	{ NULL, "calls", false, OPT_ACTIVE, "calls --active",
	  "List the calls in progress. Ended calls are in `relaisctl cdr`.\n",
	  cmd_calls },
	{ NULL, "cdr", false, OPT_LIMIT, "cdr [--limit N]",
	  "List call records, newest first: the last 50, or N (1 to 10000).\n",
	  cmd_cdr },
	{ NULL, "status", false, 0, "status",
	  "Show relaisd's version, uptime, active calls and registrations.\n",
	  cmd_status },
};

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


static bool is_number(const char *s)
{
	if (!s || !*s || strlen(s) > NUMBER_MAX_LEN)
		return false;

	return strspn(s, "0123456789") == strlen(s);
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
};


static void opt_store(struct ctl_args *a, enum opt opt, const char *val)
{
	switch (opt) {

	case OPT_NAME:
		a->name = val;
		break;
	case OPT_PASSWORD:
		a->password = val;
		break;
	case OPT_GENERATE:
		a->generate = true;
		break;
	case OPT_EXT:
		a->ext = val;
		break;
	case OPT_LIMIT:
		a->limit = val;
		break;
	case OPT_ACTIVE:
		a->active = true;
		break;
	}
}


/* one option at argv[*i], if the command takes it */
static int opt_parse(const struct cmd *c, int argc, char **argv, int *i,
		     struct ctl_args *a)
{
	const char *arg = argv[*i];

	for (size_t k = 0; k < sizeof(opt_names) / sizeof(opt_names[0]); k++) {
		const char *val = NULL;

		if (strcmp(arg, opt_names[k].name))
			continue;

		if (!(c->opts & opt_names[k].opt))
			return ctl_usage_error("%s%s%s does not take %s",
					       c->group ? c->group : "",
					       c->group ? " " : "", c->name,
					       arg);

		if (opt_names[k].value) {
			if (*i + 1 >= argc)
				return ctl_usage_error("%s needs a value",
						       arg);
			val = argv[++*i];
		}

		opt_store(a, opt_names[k].opt, val);
		return CTL_OK;
	}

	return ctl_usage_error("unknown option %s", arg);
}


/* the command's arguments; *help is set by -h/--help */
static int args_parse(const struct cmd *c, int argc, char **argv,
		      struct ctl_args *a, bool *help)
{
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
		else if (c->number && !a->number) {
			a->number = arg;
		}
		else {
			return ctl_usage_error("unexpected argument \"%s\"",
					       arg);
		}
	}

	if (c->number && !a->number)
		return ctl_usage_error("%s %s needs a NUMBER", c->group,
				       c->name);

	/* these go into the request path: digits only */
	if (a->number && !is_number(a->number))
		return ctl_usage_error("\"%s\" is not an extension number",
				       a->number);
	if (a->ext && !is_number(a->ext))
		return ctl_usage_error("--ext needs an extension number");
	if (a->limit && !is_number(a->limit))
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
	return !strcmp(word, "extension");
}


static int run(const struct ctl *ctl, int argc, char **argv)
{
	const char *group = NULL, *word = argv[0];
	const struct cmd *c;
	struct ctl_args a;
	bool help = false;
	int ret;

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

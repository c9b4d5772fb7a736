/**
 * @file relaisctl.c  Command line for administrators: a client of relaisd's
 *                    JSON API on its Unix socket
 *
 * Exit codes: 0 success, 1 relaisd refused the request, 2 usage error,
 * 3 relaisd cannot be reached. Links libcurl and jansson only.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
	PW_MAX = 128,
	GEN_LEN = 16,
	RESP_MAX = 16 * 1024 * 1024,
};

#define DEFAULT_SOCKET "/run/relais/relaisd.sock"

struct ctl {
	char socket[512];
	bool json;
};

struct buf {
	char *p;
	size_t len;
	bool toobig;
};


static void usage(FILE *f)
{
	fprintf(f, "usage: relaisctl [--socket PATH | --config FILE] [--json] "
		   "COMMAND ...\n"
		   "\n"
		   "commands:\n"
		   "  extension add NUMBER [--name NAME] [--password PW | "
		   "--generate-password]\n"
		   "  extension list\n"
		   "  extension show NUMBER\n"
		   "  extension remove NUMBER\n"
		   "  extension passwd NUMBER [--password PW | "
		   "--generate-password]\n"
		   "  registrations [--ext NUMBER]\n"
		   "  calls --active\n"
		   "  cdr [--limit N]           call history, newest first "
		   "(default 50)\n"
		   "  status\n"
		   "\n"
		   "options:\n"
		   "  --socket PATH   relaisd's control socket "
		   "(default " DEFAULT_SOCKET ")\n"
		   "  --config FILE   read control_socket from relaisd's "
		   "configuration\n"
		   "  --json          print the API's JSON instead of tables\n"
		   "  -h, --help      this help (also after a command)\n"
		   "\n"
		   "Without --password, the password is asked for on the "
		   "terminal, or read\nas one line from standard input.\n"
		   "\n"
		   "exit status: 0 success, 1 relaisd refused the request, "
		   "2 usage error,\n3 relaisd cannot be reached.\n");
}


static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "relaisctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'relaisctl --help'.\n");

	return EXIT_USAGE;
}


/* control_socket = PATH from a relaisd configuration file */
static int socket_from_config(struct ctl *ctl, const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "relaisctl: cannot read %s: %s\n", path,
			strerror(errno));
		return EXIT_USAGE;
	}

	while (fgets(line, sizeof(line), f)) {
		char *p = line, *eq, *v, *end;

		while (*p == ' ' || *p == '\t')
			++p;
		if (strncmp(p, "control_socket", 14))
			continue;
		eq = strchr(p, '=');
		if (!eq)
			continue;
		v = eq + 1;
		while (*v == ' ' || *v == '\t')
			++v;
		end = v + strlen(v);
		while (end > v && (end[-1] == '\n' || end[-1] == '\r' ||
				   end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if ((size_t)(end - v) >= sizeof(ctl->socket))
			break;
		memcpy(ctl->socket, v, (size_t)(end - v) + 1);
	}

	fclose(f);
	return EXIT_OK;
}


static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	const size_t n = size * nmemb;
	char *np;

	if (b->len + n > RESP_MAX) {
		b->toobig = true;
		return 0;
	}

	np = realloc(b->p, b->len + n + 1);
	if (!np)
		return 0;

	memcpy(np + b->len, data, n);
	b->p = np;
	b->len += n;
	b->p[b->len] = '\0';

	return n;
}


/**
 * One API request; on success *out holds the reply's JSON (or NULL)
 *
 * @return EXIT_OK, EXIT_REFUSED (message printed) or EXIT_UNREACHABLE
 */
static int api_call(const struct ctl *ctl, const char *method,
		    const char *path, json_t *body, json_t **out)
{
	char url[512], *text = NULL;
	struct curl_slist *hdrs = NULL;
	struct buf b = { NULL, 0, false };
	json_error_t jerr;
	long status = 0;
	CURLcode rc;
	CURL *c;
	int ret = EXIT_OK;

	*out = NULL;
	c = curl_easy_init();
	if (!c)
		return EXIT_UNREACHABLE;

	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ctl->socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);

	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		hdrs =
		    curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : "");
	}

	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		fprintf(stderr,
			"relaisctl: cannot reach relaisd at %s: %s (%s)\n",
			ctl->socket, curl_easy_strerror(rc),
			access(ctl->socket, F_OK) ? strerror(errno)
						  : "socket exists");
		ret = EXIT_UNREACHABLE;
		goto out;
	}

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

	if (b.len) {
		*out = json_loadb(b.p, b.len, 0, &jerr);
		if (!*out) {
			fprintf(stderr,
				"relaisctl: relaisd sent an "
				"unreadable answer (HTTP %ld)\n",
				status);
			ret = EXIT_REFUSED;
			goto out;
		}
	}

	if (status >= 300) {
		json_t *e = *out ? json_object_get(*out, "error") : NULL;

		fprintf(stderr, "relaisctl: %s\n",
			json_is_string(e) ? json_string_value(e)
					  : "request refused");
		json_decref(*out);
		*out = NULL;
		ret = EXIT_REFUSED;
	}

out:
	curl_slist_free_all(hdrs);
	free(text);
	free(b.p);
	curl_easy_cleanup(c);

	return ret;
}


static int print_json(const json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2));

	if (text) {
		puts(text);
		free(text);
	}

	return EXIT_OK;
}


static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}


static long long jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}


static void time_str(char *buf, size_t sz, long long unix_s)
{
	struct tm tm;
	time_t t = (time_t)unix_s;

	if (!unix_s) {
		snprintf(buf, sz, "-");
		return;
	}

	localtime_r(&t, &tm);
	strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm);
}


/* ---- passwords ------------------------------------------------------ */

static int read_secret(const char *prompt, char *buf, size_t sz)
{
	struct termios old, noecho;
	bool tty = isatty(STDIN_FILENO);
	size_t n;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &noecho);
	}

	if (!fgets(buf, (int)sz, stdin))
		buf[0] = '\0';

	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fprintf(stderr, "\n");
	}

	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';

	return n ? 0 : EINVAL;
}


static int ask_password(char *pw, size_t sz)
{
	char again[PW_MAX];

	if (read_secret("Password: ", pw, sz))
		return usage_error("no password given");

	if (isatty(STDIN_FILENO)) {
		if (read_secret("Password again: ", again, sizeof(again)) ||
		    strcmp(pw, again))
			return usage_error("the passwords differ");
	}

	return EXIT_OK;
}


/* 16 characters from /dev/urandom that the policy accepts */
static int generate_password(char *pw, size_t sz)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyz"
				       "ABCDEFGHJKLMNPQRSTUVWXYZ"
				       "23456789"
				       "-_.+!%";
	const size_t an = sizeof(alphabet) - 1;
	unsigned char rnd[GEN_LEN];
	int fd;

	if (sz <= GEN_LEN)
		return EINVAL;

	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;

	for (int tries = 0; tries < 100; tries++) {
		bool lo = false, up = false, dig = false, sym = false;
		bool run = false;

		if (read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
			close(fd);
			return EIO;
		}

		for (size_t i = 0; i < GEN_LEN; i++) {
			const char c = alphabet[rnd[i] % an];

			pw[i] = c;
			lo |= (c >= 'a' && c <= 'z');
			up |= (c >= 'A' && c <= 'Z');
			dig |= (c >= '0' && c <= '9');
			sym |= !((c >= 'a' && c <= 'z') ||
				 (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9'));
			if (i >= 2 &&
			    (pw[i] == pw[i - 1] || pw[i] == pw[i - 1] + 1 ||
			     pw[i] == pw[i - 1] - 1))
				run = true;
		}
		pw[GEN_LEN] = '\0';

		if (lo && up && dig && sym && !run) {
			close(fd);
			return 0;
		}
	}

	close(fd);
	return EAGAIN;
}


/* ---- commands ------------------------------------------------------ */

struct opts {
	const char *name;
	const char *password;
	const char *ext;
	const char *limit;
	bool generate;
	bool active;
	bool help;
};


/* Options after a command; positional arguments are left in pos[] */
static int opts_parse(int argc, char **argv, struct opts *o, const char **pos,
		      int maxpos, int *npos)
{
	*npos = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;

		if (!strcmp(a, "--name"))
			dst = &o->name;
		else if (!strcmp(a, "--password"))
			dst = &o->password;
		else if (!strcmp(a, "--ext"))
			dst = &o->ext;
		else if (!strcmp(a, "--limit"))
			dst = &o->limit;
		else if (!strcmp(a, "--generate-password"))
			o->generate = true;
		else if (!strcmp(a, "--active"))
			o->active = true;
		else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			o->help = true;
		else if (a[0] == '-' && a[1])
			return usage_error("unknown option %s", a);
		else if (*npos < maxpos)
			pos[(*npos)++] = a;
		else
			return usage_error("unexpected argument %s", a);

		if (dst) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			*dst = argv[++i];
		}
	}

	return EXIT_OK;
}


/* The password of add/passwd: given, generated, or asked for */
static int password_get(const struct opts *o, char *pw, size_t sz)
{
	if (o->password && o->generate)
		return usage_error("give --password or --generate-password, "
				   "not both");

	if (o->password) {
		if (strlen(o->password) >= sz)
			return usage_error("password too long");
		snprintf(pw, sz, "%s", o->password);
		return EXIT_OK;
	}

	if (o->generate) {
		if (generate_password(pw, sz)) {
			fprintf(stderr, "relaisctl: cannot generate a "
					"password\n");
			return EXIT_REFUSED;
		}
		return EXIT_OK;
	}

	return ask_password(pw, sz);
}


static int ext_add(const struct ctl *ctl, const char *number,
		   const struct opts *o)
{
	char pw[PW_MAX];
	json_t *body, *out;
	int ret;

	ret = password_get(o, pw, sizeof(pw));
	if (ret)
		return ret;

	body = json_pack("{s:s,s:s,s:s}", "number", number, "name",
			 o->name ? o->name : "", "password", pw);
	ret = api_call(ctl, "POST", "/api/v1/extensions", body, &out);
	json_decref(body);
	if (ret)
		return ret;

	if (ctl->json) {
		if (o->generate)
			json_object_set_new(out, "password", json_string(pw));
		print_json(out);
	}
	else {
		printf("extension %s created\n", number);
		if (o->generate)
			printf("password: %s\n", pw);
	}

	json_decref(out);
	return EXIT_OK;
}


static int ext_passwd(const struct ctl *ctl, const char *number,
		      const struct opts *o)
{
	char pw[PW_MAX], path[128];
	json_t *body, *out;
	int ret;

	ret = password_get(o, pw, sizeof(pw));
	if (ret)
		return ret;

	snprintf(path, sizeof(path), "/api/v1/extensions/%s/password", number);
	body = json_pack("{s:s}", "password", pw);
	ret = api_call(ctl, "PUT", path, body, &out);
	json_decref(body);
	json_decref(out);
	if (ret)
		return ret;

	if (ctl->json)
		printf("{\"number\": \"%s\"%s%s%s}\n", number,
		       o->generate ? ", \"password\": \"" : "",
		       o->generate ? pw : "", o->generate ? "\"" : "");
	else if (o->generate)
		printf("extension %s: new password: %s\n", number, pw);
	else
		printf("extension %s: password changed\n", number);

	return EXIT_OK;
}


static void ext_print(const json_t *e)
{
	char t[32];

	time_str(t, sizeof(t), jint(e, "created"));
	printf("%-8s %-24s %-10s %8lld  %s\n", jstr(e, "number"),
	       jstr(e, "name"),
	       json_is_true(json_object_get(e, "registered")) ? "yes" : "no",
	       jint(e, "contacts"), t);
}


static int ext_list(const struct ctl *ctl)
{
	size_t i;
	json_t *out, *e;
	int ret;

	ret = api_call(ctl, "GET", "/api/v1/extensions", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		print_json(out);
	}
	else {
		printf("%-8s %-24s %-10s %8s  %s\n", "NUMBER", "NAME",
		       "REGISTERED", "CONTACTS", "CREATED");
		json_array_foreach(out, i, e) ext_print(e);
	}

	json_decref(out);
	return EXIT_OK;
}


static void contact_print(const json_t *c)
{
	printf("%-8s %-40s %-22s %-4s %7llds  %s\n", jstr(c, "ext"),
	       jstr(c, "uri"), jstr(c, "received"), jstr(c, "transport"),
	       jint(c, "expires_in"), jstr(c, "user_agent"));
}


static void contact_header(void)
{
	printf("%-8s %-40s %-22s %-4s %8s  %s\n", "EXT", "CONTACT", "FROM",
	       "TP", "EXPIRES", "USER AGENT");
}


static int ext_show(const struct ctl *ctl, const char *number)
{
	char path[128];
	json_t *out, *c;
	size_t i;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/extensions/%s", number);
	ret = api_call(ctl, "GET", path, NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		print_json(out);
	}
	else {
		printf("%-8s %-24s %-10s %8s  %s\n", "NUMBER", "NAME",
		       "REGISTERED", "CONTACTS", "CREATED");
		ext_print(out);
		if (json_array_size(json_object_get(out, "bindings"))) {
			printf("\n");
			contact_header();
		}
		json_array_foreach(json_object_get(out, "bindings"), i, c)
		    contact_print(c);
	}

	json_decref(out);
	return EXIT_OK;
}


static int ext_remove(const struct ctl *ctl, const char *number)
{
	char path[128];
	json_t *out;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/extensions/%s", number);
	ret = api_call(ctl, "DELETE", path, NULL, &out);
	json_decref(out);
	if (ret)
		return ret;

	if (ctl->json)
		printf("{\"removed\": \"%s\"}\n", number);
	else
		printf("extension %s removed\n", number);

	return EXIT_OK;
}


static bool is_number(const char *s)
{
	if (!s || !*s || strlen(s) > 16)
		return false;

	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}

	return true;
}


static int cmd_extension(const struct ctl *ctl, int argc, char **argv)
{
	const char *pos[2];
	struct opts o;
	int npos, ret;

	memset(&o, 0, sizeof(o));
	ret = opts_parse(argc, argv, &o, pos, 2, &npos);
	if (ret)
		return ret;

	if (o.help || !npos) {
		usage(o.help ? stdout : stderr);
		return o.help ? EXIT_OK : EXIT_USAGE;
	}

	if (!strcmp(pos[0], "list") && npos == 1)
		return ext_list(ctl);

	if (npos != 2)
		return usage_error("extension %s needs one NUMBER", pos[0]);

	if (!is_number(pos[1]))
		return usage_error("\"%s\" is not an extension number",
				   pos[1]);

	if (!strcmp(pos[0], "add"))
		return ext_add(ctl, pos[1], &o);
	if (!strcmp(pos[0], "show"))
		return ext_show(ctl, pos[1]);
	if (!strcmp(pos[0], "remove"))
		return ext_remove(ctl, pos[1]);
	if (!strcmp(pos[0], "passwd"))
		return ext_passwd(ctl, pos[1], &o);

	return usage_error("unknown extension command \"%s\"", pos[0]);
}


static int cmd_registrations(const struct ctl *ctl, const struct opts *o)
{
	char path[128] = "/api/v1/registrations";
	json_t *out, *c;
	size_t i;
	int ret;

	if (o->ext) {
		if (!is_number(o->ext))
			return usage_error("--ext needs an extension number");
		snprintf(path, sizeof(path), "/api/v1/registrations?ext=%s",
			 o->ext);
	}

	ret = api_call(ctl, "GET", path, NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		print_json(out);
	}
	else {
		contact_header();
		json_array_foreach(out, i, c) contact_print(c);
	}

	json_decref(out);
	return EXIT_OK;
}


static int cmd_calls(const struct ctl *ctl)
{
	json_t *out, *c;
	size_t i;
	int ret;

	ret = api_call(ctl, "GET", "/api/v1/calls?active=1", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		print_json(out);
	}
	else {
		printf("%-8s %-8s %-10s %8s  %-11s %s\n", "CALLER", "CALLEE",
		       "STATE", "DURATION", "RELAY PORTS", "CALL-ID");
		json_array_foreach(out, i, c)
		{
			char ports[24];

			snprintf(ports, sizeof(ports), "%lld/%lld",
				 jint(c, "port_a"), jint(c, "port_b"));
			printf("%-8s %-8s %-10s %7llds  %-11s %s\n",
			       jstr(c, "caller"), jstr(c, "callee"),
			       jstr(c, "state"), jint(c, "duration"), ports,
			       jstr(c, "callid"));
		}
	}

	json_decref(out);
	return EXIT_OK;
}


static int cmd_cdr(const struct ctl *ctl, const struct opts *o)
{
	char path[128] = "/api/v1/cdr";
	json_t *out, *c;
	size_t i;
	int ret;

	if (o->limit) {
		if (!is_number(o->limit))
			return usage_error("--limit needs a number");
		snprintf(path, sizeof(path), "/api/v1/cdr?limit=%s", o->limit);
	}

	ret = api_call(ctl, "GET", path, NULL, &out);
	if (ret)
		return ret;

	if (ctl->json) {
		print_json(out);
	}
	else {
		printf("%-19s %-8s %-8s %-10s %8s  %s\n", "START", "CALLER",
		       "CALLEE", "RESULT", "DURATION", "CAUSE");
		json_array_foreach(out, i, c)
		{
			char t[32];

			time_str(t, sizeof(t), jint(c, "start") / 1000);
			printf("%-19s %-8s %-8s %-10s %7llds  %s\n", t,
			       jstr(c, "caller"), jstr(c, "callee"),
			       jstr(c, "disposition"), jint(c, "duration"),
			       jstr(c, "cause"));
		}
	}

	json_decref(out);
	return EXIT_OK;
}


static int cmd_status(const struct ctl *ctl)
{
	json_t *out;
	int ret;

	ret = api_call(ctl, "GET", "/api/v1/status", NULL, &out);
	if (ret)
		return ret;

	if (ctl->json)
		print_json(out);
	else
		printf("relaisd %s, up %llds, %lld call(s), %lld "
		       "registration(s)\n",
		       jstr(out, "version"), jint(out, "uptime"),
		       jint(out, "calls"), jint(out, "registrations"));

	json_decref(out);
	return EXIT_OK;
}


static int run(const struct ctl *ctl, int argc, char **argv)
{
	const char *cmd = argv[0];
	const char *pos[1];
	struct opts o;
	int npos, ret;

	if (!strcmp(cmd, "extension"))
		return cmd_extension(ctl, argc - 1, argv + 1);

	memset(&o, 0, sizeof(o));
	ret = opts_parse(argc - 1, argv + 1, &o, pos, 0, &npos);
	if (ret)
		return ret;

	if (o.help) {
		usage(stdout);
		return EXIT_OK;
	}

	if (!strcmp(cmd, "registrations"))
		return cmd_registrations(ctl, &o);
	if (!strcmp(cmd, "calls")) {
		if (!o.active)
			return usage_error("calls needs --active (the call "
					   "history is `relaisctl cdr`)");
		return cmd_calls(ctl);
	}
	if (!strcmp(cmd, "cdr"))
		return cmd_cdr(ctl, &o);
	if (!strcmp(cmd, "status"))
		return cmd_status(ctl);

	return usage_error("unknown command \"%s\"", cmd);
}


int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl;
	int opt, ret;

	memset(&ctl, 0, sizeof(ctl));
	snprintf(ctl.socket, sizeof(ctl.socket), "%s", DEFAULT_SOCKET);

	/* "+": stop at the command, its options are its own */
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {

		case 's':
			if (strlen(optarg) >= sizeof(ctl.socket))
				return usage_error("socket path too long");
			snprintf(ctl.socket, sizeof(ctl.socket), "%s", optarg);
			break;
		case 'c':
			ret = socket_from_config(&ctl, optarg);
			if (ret)
				return ret;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return usage_error("unknown option");
		}
	}

	if (optind >= argc)
		return usage_error("no command given");

	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = run(&ctl, argc - optind, argv + optind);
	curl_global_cleanup();

	return ret;
}

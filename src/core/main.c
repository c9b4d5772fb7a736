/**
 * @file main.c  relaisd: the PBX daemon
 *
 * Wires the modules together on the SIP thread (libre's main loop):
 * store → SIP stack → request filter → registrar → media relay → B2BUA →
 * trunks → SBC (when sbc_mode is not off) → HTTP API. Signals arrive
 * through a self-pipe so that they are handled in the loop, never in signal
 * context: SIGTERM/SIGINT end every call with BYE (the SBC's too), flush the
 * store and stop; SIGHUP reloads the reloadable keys.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <re.h>
#include "core/core.h"
#include "store/store.h"
#include "media/media.h"
#include "sip/sip.h"
#include "http/http.h"
#include "sbc/sbc.h"

#define DEBUG_MODULE "relaisd"

enum {
	SHUTDOWN_GRACE_MS = 2000,
	SHUTDOWN_POLL_MS = 50,
	EXIT_CONFIG = 2,
	EXIT_START = 1,
};

struct relaisd {
	struct relais_config cfg;
	const char *config_path;
	struct store *st;
	struct sipstack *ss;
	struct sipfilter *filter;
	struct sipauth *auth;
	struct registrar *reg;
	struct media *media;
	struct b2bua *b2bua;
	struct trunks *trunks;
	struct sbc *sbc;
	struct api *api;
	struct tmr tmr_stop;
	uint64_t stop_deadline;
	int sigpipe[2];
	int readyfd;
	bool stopping;
};

static int sigpipe_wr = -1;


static void usage(FILE *f)
{
	fprintf(f,
		"usage: relaisd --config FILE [--foreground]\n"
		"       relaisd --config FILE --check-config\n"
		"       relaisd --help-config | --print-config-example | "
		"--version\n"
		"\n"
		"  -c, --config FILE         host configuration (key = "
		"value)\n"
		"  -f, --foreground          stay in the foreground\n"
		"      --check-config        validate FILE and exit\n"
		"      --help-config         list every configuration key\n"
		"      --print-config-example print a complete example file\n"
		"  -h, --help                this help\n"
		"\n"
		"Exit status: 0 stopped cleanly, 1 could not start, 2 bad "
		"configuration.\n");
}


/* --check-config: the SBC's settings are resolved as at start */
static int config_check_sbc(const struct relais_config *cfg, const char *path)
{
	struct sbc_conf sc;
	enum sbc_mode mode;
	char why[256] = "";

	if (!sbc_mode_parse(&mode, cfg->sbc_mode) && mode != SBC_MODE_OFF &&
	    sbc_conf_resolve(&sc, cfg, why, sizeof(why))) {
		fprintf(stderr, "relaisd: %s: %s\n", path,
			why[0] ? why : "SBC settings refused");
		return EXIT_CONFIG;
	}

	printf("%s: configuration OK\n", path);
	return 0;
}


static void on_signal(int sig)
{
	const unsigned char b = (unsigned char)sig;
	const int saved = errno;

	if (sigpipe_wr >= 0)
		(void)!write(sigpipe_wr, &b, 1);
	errno = saved;
}


static void stop_poll(void *arg)
{
	struct relaisd *d = arg;

	/* leave as soon as every call's BYE went out, or at the deadline */
	if (b2bua_count(d->b2bua) + sbc_call_count(d->sbc) == 0 &&
	    tmr_jiffies() > d->stop_deadline - SHUTDOWN_GRACE_MS + 500)
		re_cancel();
	else if (tmr_jiffies() >= d->stop_deadline)
		re_cancel();
	else
		tmr_start(&d->tmr_stop, SHUTDOWN_POLL_MS, stop_poll, d);
}


static void shutdown_begin(struct relaisd *d)
{
	if (d->stopping)
		return;

	d->stopping = true;
	log_notice("stopping: ending %u call(s)",
		   b2bua_count(d->b2bua) + sbc_call_count(d->sbc));
	b2bua_shutdown(d->b2bua);
	sbc_shutdown(d->sbc);
	trunks_shutdown(d->trunks); /* un-REGISTER while the loop runs */
	d->stop_deadline = tmr_jiffies() + SHUTDOWN_GRACE_MS;
	tmr_start(&d->tmr_stop, SHUTDOWN_POLL_MS, stop_poll, d);
}


static void reload(struct relaisd *d)
{
	char errbuf[512] = "";
	int err;

	err = config_reload(&d->cfg, d->config_path, errbuf, sizeof(errbuf));
	if (err) {
		log_error("reload refused, running configuration kept: %s",
			  errbuf);
		return;
	}

	log_set_level(d->cfg.log_level);
	media_set_timeout(d->media, d->cfg.media_timeout);
	log_notice("configuration reloaded from %s", d->config_path);
}


static void sigpipe_handler(int flags, void *arg)
{
	struct relaisd *d = arg;
	unsigned char sigs[16];
	ssize_t n;
	(void)flags;

	n = read(d->sigpipe[0], sigs, sizeof(sigs));
	for (ssize_t i = 0; i < n; i++) {
		if (sigs[i] == SIGHUP)
			reload(d);
		else
			shutdown_begin(d);
	}
}


static int signals_setup(struct relaisd *d)
{
	struct sigaction sa;
	int err;

	if (pipe(d->sigpipe))
		return errno;

	(void)fcntl(d->sigpipe[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(d->sigpipe[1], F_SETFL, O_NONBLOCK);
	(void)fcntl(d->sigpipe[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(d->sigpipe[1], F_SETFD, FD_CLOEXEC);
	sigpipe_wr = d->sigpipe[1];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);

	err = fd_listen(d->sigpipe[0], FD_READ, sigpipe_handler, d);
	return err;
}


/*
 * libre 1.1.0 indexes its descriptor table by fd number and sizes it once,
 * at first use: raise the limit and size the table before any fd_listen(),
 * or SIP TCP/TLS sockets opened after many media sockets fail (EMFILE).
 */
static void fd_limit_raise(void)
{
	struct rlimit rl;
	rlim_t want = 65536;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;

	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		want = rl.rlim_max;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			want = rl.rlim_cur;
	}
	else {
		want = rl.rlim_cur > 131072 ? 131072 : rl.rlim_cur;
	}

	(void)fd_setsize((int)want);
}


/* mkdir -p of a file's directory */
static int parent_dir_make(const char *path)
{
	char dir[CONF_STR_MAX];
	char *slash;

	str_ncpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';

	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) && errno != EEXIST)
			return errno;
		*p = '/';
	}

	if (mkdir(dir, 0750) && errno != EEXIST)
		return errno;

	return 0;
}


static int pidfile_write(const char *path)
{
	FILE *f;

	if (!path[0])
		return 0;

	f = fopen(path, "w");
	if (!f)
		return errno;

	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);

	return 0;
}


static void media_timeout_handler(const char *tag, void *arg)
{
	struct relaisd *d = arg;

	b2bua_media_timeout(d->b2bua, tag);
}


static int modules_start(struct relaisd *d)
{
	const char *paths[] = { d->cfg.db_path, d->cfg.control_socket,
				d->cfg.pid_file, d->cfg.tls_cert };
	struct media_conf mc;
	struct api_ctx actx;
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		if (!paths[i][0])
			continue;
		err = parent_dir_make(paths[i]);
		if (err) {
			log_error("cannot create the directory of %s: %m",
				  paths[i], err);
			return err;
		}
	}

	err = store_open(&d->st, d->cfg.db_path);
	if (err) {
		log_error("cannot open database %s: %m", d->cfg.db_path, err);
		return err;
	}

	err = sipstack_alloc(&d->ss, &d->cfg);
	if (err)
		return err;

	/* the filter listens first: it sees every request before the rest */
	err = sipfilter_alloc(&d->filter, d->ss);
	err |= sipauth_alloc(&d->auth, d->st, &d->cfg);
	if (err)
		return err;

	err = registrar_alloc(&d->reg, d->ss, d->auth, d->st, &d->cfg);
	if (err)
		return err;

	memset(&mc, 0, sizeof(mc));
	mc.address = d->cfg.media_address;
	mc.port_min = (uint16_t)d->cfg.rtp_port_min;
	mc.port_max = (uint16_t)d->cfg.rtp_port_max;
	mc.threads = d->cfg.media_threads;
	mc.timeout_s = d->cfg.media_timeout;
	mc.dscp = 46;
	err = media_alloc(&d->media, &mc, media_timeout_handler, d);
	if (err) {
		log_error("cannot start the media relay: %m", err);
		return err;
	}

	err = b2bua_alloc(&d->b2bua, d->ss, d->auth, d->reg, d->st, d->media,
			  &d->cfg);
	if (err)
		return err;

	/* trunks register and probe from now on; calls may use them */
	err = trunks_alloc(&d->trunks, d->ss, d->st, &d->cfg);
	if (err) {
		log_error("cannot start the trunks: %m", err);
		return err;
	}
	sipstack_set_trunks(d->ss, d->trunks);
	b2bua_set_trunks(d->b2bua, d->trunks);

	/* the SBC: its own SIP stacks, media relay and guard */
	err = sbc_alloc(&d->sbc, &d->cfg, d->st);
	if (err)
		return err;

	memset(&actx, 0, sizeof(actx));
	actx.cfg = &d->cfg;
	actx.st = d->st;
	actx.reg = d->reg;
	actx.b2bua = d->b2bua;
	actx.trunks = d->trunks;
	actx.ss = d->ss;
	actx.sbc = d->sbc;
	err = api_alloc(&d->api, d->cfg.control_socket, &actx);
	if (err) {
		log_error("cannot listen on control socket %s: %m",
			  d->cfg.control_socket, err);
		return err;
	}

	err = pidfile_write(d->cfg.pid_file);
	if (err)
		log_warn("cannot write pid file %s: %m", d->cfg.pid_file, err);

	return 0;
}


static void modules_stop(struct relaisd *d)
{
	d->api = mem_deref(d->api);
	d->sbc = mem_deref(d->sbc);
	b2bua_set_trunks(d->b2bua, NULL);
	sipstack_set_trunks(d->ss, NULL);
	d->b2bua = mem_deref(d->b2bua);
	d->trunks = mem_deref(d->trunks);
	/* end pending transactions before the transports go */
	if (d->ss)
		sip_close(sipstack_sip(d->ss), true);
	d->media = mem_deref(d->media);
	d->reg = mem_deref(d->reg);
	d->auth = mem_deref(d->auth);
	d->filter = mem_deref(d->filter);
	d->ss = mem_deref(d->ss);
	if (d->st) {
		(void)store_flush(d->st);
		d->st = mem_deref(d->st);
	}
	if (d->cfg.pid_file[0])
		(void)unlink(d->cfg.pid_file);
}


/* Fork into the background; the parent exits when the child is ready */
static int daemonize(struct relaisd *d)
{
	int pfd[2];
	pid_t pid;
	char b;

	if (pipe(pfd))
		return errno;

	pid = fork();
	if (pid < 0)
		return errno;

	if (pid > 0) {
		close(pfd[1]);
		if (read(pfd[0], &b, 1) == 1 && b == 'R')
			exit(0);
		fprintf(stderr, "relaisd: did not start, see the log\n");
		exit(EXIT_START);
	}

	close(pfd[0]);
	d->readyfd = pfd[1];
	if (setsid() < 0)
		return errno;

	{
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			(void)dup2(null, STDIN_FILENO);
			(void)dup2(null, STDOUT_FILENO);
			close(null);
		}
	}

	return 0;
}


static void ready(struct relaisd *d)
{
	log_notice("relaisd ready (Relais %s)", RELAIS_VERSION);

	if (d->readyfd >= 0) {
		(void)!write(d->readyfd, "R", 1);
		close(d->readyfd);
		d->readyfd = -1;
	}
}


int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help-config", no_argument, NULL, 'H' },
		{ "print-config-example", no_argument, NULL, 'E' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct relaisd d;
	bool foreground = false, check = false;
	char errbuf[512] = "";
	int opt, err;

	memset(&d, 0, sizeof(d));
	d.readyfd = -1;
	d.sigpipe[0] = d.sigpipe[1] = -1;

	while ((opt = getopt_long(argc, argv, "c:fh", longopts, NULL)) != -1) {
		switch (opt) {

		case 'c':
			d.config_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'C':
			check = true;
			break;
		case 'H':
			return config_print_help(stdout);
		case 'E':
			return config_print_example(stdout);
		case 'V':
			printf("relaisd %s\n", RELAIS_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}

	if (!d.config_path || optind != argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}

	err = config_load(&d.cfg, d.config_path, errbuf, sizeof(errbuf));
	if (err) {
		fprintf(stderr, "relaisd: %s\n", errbuf);
		return EXIT_CONFIG;
	}

	if (check)
		return config_check_sbc(&d.cfg, d.config_path);

	if (!foreground) {
		err = daemonize(&d);
		if (err) {
			fprintf(stderr, "relaisd: cannot daemonize: %s\n",
				strerror(err));
			return EXIT_START;
		}
	}

	log_setup(d.cfg.log_level, d.cfg.log_target);

	err = libre_init();
	if (err) {
		log_error("libre_init failed: %m", err);
		return EXIT_START;
	}

	fd_limit_raise();
	tmr_init(&d.tmr_stop);
	err = signals_setup(&d);
	if (!err)
		err = modules_start(&d);

	if (!err) {
		ready(&d);
		err = re_main(NULL);
		log_notice("stopped");
	}

	tmr_cancel(&d.tmr_stop);
	modules_stop(&d);
	if (d.sigpipe[0] >= 0) {
		fd_close(d.sigpipe[0]);
		close(d.sigpipe[0]);
		close(d.sigpipe[1]);
	}
	libre_close();
	log_close();

	return err ? EXIT_START : 0;
}

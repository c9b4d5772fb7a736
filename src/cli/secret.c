/**
 * @file secret.c  Passwords for relaisctl: asked for without echo, read
 *                 from standard input, or generated from /dev/urandom
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "cli/cli.h"

enum {
	GEN_TRIES = 1000,
	RUN_MAX = 3, /* relaisd refuses 4 in a row; generate fewer */
};

/* Characters a generated password is made of: no look-alikes (l 1 I O 0)
   and no character a shell or a phone's keypad entry makes awkward */
static const char alphabet[] = "abcdefghijkmnopqrstuvwxyz"
			       "ABCDEFGHJKLMNPQRSTUVWXYZ"
			       "23456789"
			       "-_.+=@%";

/* the terminal's settings while echo is off, for the signal handler */
static struct termios saved_tio;
static volatile sig_atomic_t echo_off;


static void restore_h(int sig)
{
	if (echo_off)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);

	signal(sig, SIG_DFL);
	raise(sig);
}


static int line_read(char *buf, size_t sz)
{
	size_t n;

	if (!fgets(buf, (int)sz, stdin))
		return EINVAL;

	n = strlen(buf);
	if (n && buf[n - 1] != '\n' && !feof(stdin))
		return EMSGSIZE;

	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';

	return n ? 0 : EINVAL;
}


/* one line from the terminal with echo off; an interrupt puts echo back */
static int tty_read(const char *prompt, char *buf, size_t sz)
{
	struct sigaction sa, old_int, old_term;
	struct termios noecho;
	int err;

	if (tcgetattr(STDIN_FILENO, &saved_tio))
		return errno;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_h;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, &old_int);
	(void)sigaction(SIGTERM, &sa, &old_term);

	noecho = saved_tio;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ECHONL;
	/* echo goes off before the prompt shows: an answer typed as soon
	   as the prompt appears is neither echoed nor thrown away */
	echo_off = 1;
	(void)tcsetattr(STDIN_FILENO, TCSANOW, &noecho);
	fprintf(stderr, "%s", prompt);
	fflush(stderr);

	err = line_read(buf, sz);

	(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	echo_off = 0;
	(void)sigaction(SIGINT, &old_int, NULL);
	(void)sigaction(SIGTERM, &old_term, NULL);

	return err;
}


/**
 * Read a password: on a terminal asked for twice without echo, otherwise
 * one line of standard input
 *
 * @param pw Buffer for the password
 * @param sz Size of pw
 *
 * @return CTL_OK, or CTL_USAGE (message printed)
 */
int secret_read(char *pw, size_t sz)
{
	char again[CTL_PW_MAX];
	int err;

	if (!isatty(STDIN_FILENO)) {
		err = line_read(pw, sz);
		if (err == EMSGSIZE)
			return ctl_usage_error("the password on standard "
					       "input is too long");
		if (err)
			return ctl_usage_error("no password on standard "
					       "input");
		return CTL_OK;
	}

	err = tty_read("Password: ", pw, sz);
	if (err)
		return ctl_usage_error("no password given");

	err = tty_read("Password again: ", again, sizeof(again));
	if (err || strcmp(pw, again)) {
		memset(again, 0, sizeof(again));
		return ctl_usage_error("the passwords differ");
	}
	memset(again, 0, sizeof(again));

	return CTL_OK;
}


static bool run_at(const char *pw, size_t i)
{
	bool same = true, up = true, down = true;

	for (size_t j = 1; j < RUN_MAX; j++) {
		same &= pw[i + j] == pw[i];
		up &= pw[i + j] == pw[i] + (int)j;
		down &= pw[i + j] == pw[i] - (int)j;
	}

	return same || up || down;
}


/* what relaisd's policy asks, with margin: all 4 classes, no 3 identical
   or sequential characters in a row, not containing the number */
static bool acceptable(const char *pw, size_t n, const char *number)
{
	bool lo = false, up = false, dig = false, sym = false;

	for (size_t i = 0; i < n; i++) {
		const char c = pw[i];

		lo |= c >= 'a' && c <= 'z';
		up |= c >= 'A' && c <= 'Z';
		dig |= c >= '0' && c <= '9';
		sym |= strchr("-_.+=@%", c) != NULL;
		if (i + RUN_MAX <= n && run_at(pw, i))
			return false;
	}

	if (number && number[0] && strstr(pw, number))
		return false;

	return lo && up && dig && sym;
}


/**
 * Generate a password of CTL_GEN_LEN characters from /dev/urandom that
 * relaisd's password policy accepts
 *
 * @param pw     Buffer for the password
 * @param sz     Size of pw, more than CTL_GEN_LEN
 * @param number Extension the password is for (it must not contain it)
 *
 * @return 0 if success, otherwise errorcode
 */
int secret_generate(char *pw, size_t sz, const char *number)
{
	const size_t an = sizeof(alphabet) - 1;
	/* bytes at or above this would make some characters likelier */
	const unsigned limit = 256 - 256 % an;
	unsigned char rnd[64];
	int fd, err = EAGAIN;

	if (sz <= CTL_GEN_LEN)
		return EINVAL;

	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;

	for (int t = 0; t < GEN_TRIES && err == EAGAIN; t++) {
		size_t n = 0;

		while (n < CTL_GEN_LEN) {
			if (read(fd, rnd, sizeof(rnd)) !=
			    (ssize_t)sizeof(rnd)) {
				err = EIO;
				goto out;
			}
			for (size_t i = 0; i < sizeof(rnd) && n < CTL_GEN_LEN;
			     i++) {
				if (rnd[i] < limit)
					pw[n++] = alphabet[rnd[i] % an];
			}
		}
		pw[n] = '\0';

		if (acceptable(pw, n, number))
			err = 0;
	}

out:
	memset(rnd, 0, sizeof(rnd));
	if (err)
		memset(pw, 0, sz);
	(void)close(fd);

	return err;
}

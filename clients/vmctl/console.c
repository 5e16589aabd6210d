/*
 * vmctl console: after vmd's reply the connection is a raw byte stream to
 * the guest's serial port. On a terminal, stdin goes raw (like cu): "~."
 * at the start of a line leaves, "~~" sends one tilde. When stdin is not
 * a terminal (scripts, tests) its bytes are sent as they are, and after it
 * ends vmctl keeps printing the guest's output until it has been quiet
 * for the linger time.
 */
#include "clients/vmctl/vmctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static bool write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

struct escape {
	bool line_start;
	bool tilde;     /* saw "~" at a line start */
};

/* Filters keyboard input; returns false when the user asked to leave. */
static bool filter(struct escape *e, const char *in, size_t n, char *out, size_t *outn)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char ch = in[i];

		if (e->tilde) {
			e->tilde = false;
			if (ch == '.')
				return *outn = o, false;
			if (ch != '~')
				out[o++] = '~';
			out[o++] = ch;
			e->line_start = false;
			continue;
		}
		if (e->line_start && ch == '~') {
			e->tilde = true;
			continue;
		}
		out[o++] = ch;
		e->line_start = ch == '\r' || ch == '\n';
	}
	*outn = o;
	return true;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int console_run(struct conn *c, const char *name, double linger_s)
{
	struct termios saved, raw;
	bool tty = isatty(0), in_open = true;
	struct escape esc = { true, false };
	char buf[8192], out[16384];
	const char *pending;
	size_t n, outn;
	ssize_t r;
	double quiet_since = 0;
	int rc = EXIT_OK;

	if (tty) {
		if (tcgetattr(0, &saved) < 0)
			tty = false;
		else {
			raw = saved;
			cfmakeraw(&raw);
			/* TCSADRAIN, not TCSAFLUSH: keep what was typed ahead. */
			if (tcsetattr(0, TCSADRAIN, &raw) < 0)
				tty = false;
			else
				fprintf(stderr, "[connected to %s: ~. to leave]\r\n", name);
		}
	}
	/* Bytes that arrived with the reply are already console output. */
	n = proto_in_pending(&c->in, &pending);
	if (n)
		(void)write_all(1, pending, n);
	proto_in_drop(&c->in, n);
	for (;;) {
		struct pollfd p[2] = { { c->fd, POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 } };
		int timeout = in_open ? -1 : 100;
		int pr = poll(p, 2, timeout);

		if (pr < 0) {
			if (errno == EINTR)
				continue;
			rc = EXIT_FAILED;
			break;
		}
		if (!in_open && now_s() - quiet_since >= linger_s)
			break;
		if (p[0].revents) {
			r = read(c->fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (tty)
					fprintf(stderr, "\r\n[console of %s closed]\r\n", name);
				break;
			}
			if (!write_all(1, buf, (size_t)r)) {
				rc = EXIT_FAILED;
				break;
			}
			quiet_since = now_s();
		}
		if (in_open && p[1].revents) {
			r = read(0, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				in_open = false;
				quiet_since = now_s();
				continue;
			}
			if (tty) {
				bool stay = filter(&esc, buf, (size_t)r, out, &outn);
				if (outn && !write_all(c->fd, out, outn))
					break;
				if (!stay) {
					fprintf(stderr, "\r\n[left the console of %s]\r\n", name);
					break;
				}
			} else if (!write_all(c->fd, buf, (size_t)r)) {
				break;
			}
		}
	}
	if (tty)
		tcsetattr(0, TCSADRAIN, &saved);
	return rc;
}

#include "guest/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"

enum serial_kind { SERIAL_STDIO, SERIAL_FD, SERIAL_UNIX };

#define SERIAL_PUSH_AT 4096u

struct serial {
	struct event_base *base;
	enum serial_kind kind;
	int in_fd, out_fd;              /* -1 when there is none (unix: no client) */
	int listen_fd;
	char *path;
	struct event *rd_ev, *wr_ev, *accept_ev;
	bool reading;                   /* rd_ev is armed */
	bool writing;                   /* wr_ev is armed */
	bool in_closed;                 /* EOF on input: do not read again */
	bool in_polled;                 /* a regular file: epoll cannot watch it, a timer reads it */
	bool out_broken;                /* the reader went away: drop output */

	uint8_t *ring;
	size_t head, len;               /* oldest byte and bytes held */
	uint64_t dropped;

	struct ns16550 *uart;
	void (*wake)(void *opaque);
	void *wake_opaque;

	bool raw;                       /* stdin was put in raw mode */
	struct termios saved_tio;
	int saved_in_flags, saved_out_flags;
};

static int set_nonblock(int fd, int *old_flags)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	if (old_flags)
		*old_flags = fl;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void start_reading(struct serial *s)
{
	static const struct timeval poll_interval = { .tv_sec = 0, .tv_usec = 1000 };

	if (!s->reading && !s->in_closed && s->in_fd >= 0 && s->rd_ev && s->uart) {
		if (event_add(s->rd_ev, s->in_polled ? &poll_interval : NULL) == 0)
			s->reading = true;
	}
}

static void stop_reading(struct serial *s)
{
	if (s->reading) {
		event_del(s->rd_ev);
		s->reading = false;
	}
}

static void drop_client(struct serial *s);

/* Writes from the ring until the fd would block. */
static void flush_some(struct serial *s)
{
	while (s->len && s->out_fd >= 0 && !s->out_broken) {
		size_t chunk = SERIAL_OUT_MAX - s->head;
		ssize_t n;

		if (chunk > s->len)
			chunk = s->len;
		n = write(s->out_fd, s->ring + s->head, chunk);
		if (n > 0) {
			s->head = (s->head + (size_t)n) % SERIAL_OUT_MAX;
			s->len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!s->writing && event_add(s->wr_ev, NULL) == 0)
				s->writing = true;
			return;
		}
		/* EPIPE or worse: nobody reads any more. */
		if (s->kind == SERIAL_UNIX) {
			drop_client(s);
		} else {
			log_warn("serial: console output failed (%s); dropping further output",
			         n < 0 ? strerror(errno) : "closed");
			s->out_broken = true;
		}
		return;
	}
	if (s->len == 0 && s->writing) {
		event_del(s->wr_ev);
		s->writing = false;
	}
	if (s->out_broken) {
		s->dropped += s->len;
		s->len = 0;
	}
}

static void serial_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial *s = opaque;

	if (s->out_broken) {
		s->dropped += len;
		return;
	}
	if (len > SERIAL_OUT_MAX) {
		s->dropped += len - SERIAL_OUT_MAX;
		buf += len - SERIAL_OUT_MAX;
		len = SERIAL_OUT_MAX;
	}
	if (s->len + len > SERIAL_OUT_MAX) {
		/* The reader is behind: the oldest output goes, the guest never waits. */
		size_t drop = s->len + len - SERIAL_OUT_MAX;
		s->head = (s->head + drop) % SERIAL_OUT_MAX;
		s->len -= drop;
		s->dropped += drop;
	}
	for (size_t i = 0; i < len;) {
		size_t tail = (s->head + s->len) % SERIAL_OUT_MAX;
		size_t n = SERIAL_OUT_MAX - tail;
		if (n > len - i)
			n = len - i;
		memcpy(s->ring + tail, buf + i, n);
		s->len += n;
		i += n;
	}
	/*
	 * A write(2) per byte would cost more than the guest's work: bytes wait
	 * for serial_push() after the CPU slice, unless a good chunk piled up.
	 */
	if (!s->writing && s->len >= SERIAL_PUSH_AT)
		flush_some(s);
}

void serial_push(struct serial *s)
{
	if (s->len && !s->writing)
		flush_some(s);
}

static void serial_rx_space(void *opaque)
{
	start_reading(opaque);
}

static void on_write(evutil_socket_t fd, short what, void *opaque)
{
	struct serial *s = opaque;

	s->writing = false;     /* one-shot readiness: flush_some re-arms if needed */
	flush_some(s);
}

static void on_read(evutil_socket_t fd, short what, void *opaque)
{
	struct serial *s = opaque;
	uint8_t buf[256];
	size_t room;
	ssize_t n;

	room = s->uart ? ns16550_can_receive(s->uart) : 0;
	if (room == 0) {
		/* The guest has not read what it has: wait for rx_space. */
		stop_reading(s);
		return;
	}
	if (room > sizeof(buf))
		room = sizeof(buf);
	n = read(s->in_fd, buf, room);
	if (n > 0) {
		ns16550_receive(s->uart, buf, (size_t)n);
		if (s->wake)
			s->wake(s->wake_opaque);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	stop_reading(s);
	if (s->kind == SERIAL_UNIX) {
		drop_client(s);
	} else {
		/* End of input (e.g. stdin is /dev/null): the guest keeps running. */
		s->in_closed = true;
	}
}

static void on_accept(evutil_socket_t fd, short what, void *opaque);

static void drop_client(struct serial *s)
{
	stop_reading(s);
	if (s->writing) {
		event_del(s->wr_ev);
		s->writing = false;
	}
	if (s->rd_ev)
		event_free(s->rd_ev);
	if (s->wr_ev)
		event_free(s->wr_ev);
	s->rd_ev = s->wr_ev = NULL;
	if (s->in_fd >= 0)
		close(s->in_fd);
	s->in_fd = s->out_fd = -1;
	if (s->uart)
		ns16550_set_connected(s->uart, false);
	if (s->accept_ev && event_add(s->accept_ev, NULL) != 0)
		log_err("serial: cannot accept console clients any more");
}

static int make_events(struct serial *s, char *err, size_t errlen)
{
	struct stat st;

	/* Files and /dev/null are always "ready": epoll refuses them. */
	if (fstat(s->in_fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)) && !isatty(s->in_fd)) {
		s->in_polled = true;
		s->rd_ev = event_new(s->base, -1, EV_PERSIST, on_read, s);
	} else {
		s->rd_ev = event_new(s->base, s->in_fd, EV_READ | EV_PERSIST, on_read, s);
	}
	s->wr_ev = event_new(s->base, s->out_fd, EV_WRITE, on_write, s);
	if (!s->rd_ev || !s->wr_ev) {
		snprintf(err, errlen, "serial: cannot create events");
		return -1;
	}
	return 0;
}

static void on_accept(evutil_socket_t fd, short what, void *opaque)
{
	struct serial *s = opaque;
	char err[128];
	int c = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (c < 0)
		return;
	if (s->in_fd >= 0) {
		/* One console client at a time. */
		close(c);
		return;
	}
	s->in_fd = s->out_fd = c;
	s->in_closed = false;
	if (make_events(s, err, sizeof(err)) != 0) {
		log_warn("%s", err);
		drop_client(s);
		return;
	}
	event_del(s->accept_ev);
	if (s->uart)
		ns16550_set_connected(s->uart, true);
	start_reading(s);
	flush_some(s);
}

static int open_unix(struct serial *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "serial: socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		snprintf(err, errlen, "serial: socket: %s", strerror(errno));
		return -1;
	}
	unlink(path);
	if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s->listen_fd, 1) != 0) {
		snprintf(err, errlen, "serial: cannot listen on %s: %s", path, strerror(errno));
		return -1;
	}
	s->path = strdup(path);
	s->accept_ev = event_new(s->base, s->listen_fd, EV_READ | EV_PERSIST, on_accept, s);
	if (!s->path || !s->accept_ev || event_add(s->accept_ev, NULL) != 0) {
		snprintf(err, errlen, "serial: out of memory");
		return -1;
	}
	return 0;
}

struct serial *serial_new(struct event_base *base, const char *spec, char *err, size_t errlen)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s || !(s->ring = malloc(SERIAL_OUT_MAX))) {
		snprintf(err, errlen, "serial: out of memory");
		free(s);
		return NULL;
	}
	s->base = base;
	s->in_fd = s->out_fd = s->listen_fd = -1;
	s->saved_in_flags = s->saved_out_flags = -1;
	if (strcmp(spec, "stdio") == 0) {
		s->kind = SERIAL_STDIO;
		s->in_fd = STDIN_FILENO;
		s->out_fd = STDOUT_FILENO;
		if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &s->saved_tio) == 0) {
			struct termios raw = s->saved_tio;
			/* Raw input, but ^C still reaches us: the user can always get out. */
			raw.c_iflag &= ~(unsigned)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
			raw.c_lflag &= ~(unsigned)(ECHO | ECHONL | ICANON | IEXTEN);
			raw.c_cflag |= CS8;
			raw.c_cc[VMIN] = 1;
			raw.c_cc[VTIME] = 0;
			if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
				s->raw = true;
		}
		if (set_nonblock(s->in_fd, &s->saved_in_flags) != 0 ||
		    set_nonblock(s->out_fd, &s->saved_out_flags) != 0) {
			snprintf(err, errlen, "serial: stdio: %s", strerror(errno));
			goto fail;
		}
	} else if (strncmp(spec, "fd:", 3) == 0) {
		char *end;
		long fd = strtol(spec + 3, &end, 10);
		if (spec[3] == '\0' || *end || fd < 0 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0) {
			snprintf(err, errlen, "serial: bad or closed file descriptor in \"%s\"", spec);
			goto fail;
		}
		s->kind = SERIAL_FD;
		s->in_fd = s->out_fd = (int)fd;
		if (set_nonblock(s->in_fd, NULL) != 0) {
			snprintf(err, errlen, "serial: fd %ld: %s", fd, strerror(errno));
			goto fail;
		}
	} else if (strncmp(spec, "unix:", 5) == 0 && spec[5]) {
		s->kind = SERIAL_UNIX;
		if (open_unix(s, spec + 5, err, errlen) != 0)
			goto fail;
		return s;
	} else {
		snprintf(err, errlen, "serial: unknown backend \"%s\" (stdio, fd:N or unix:PATH)", spec);
		goto fail;
	}
	if (make_events(s, err, errlen) != 0)
		goto fail;
	return s;
fail:
	serial_free(s);
	return NULL;
}

struct ns16550_backend serial_backend(struct serial *s)
{
	return (struct ns16550_backend){ .tx = serial_tx, .rx_space = serial_rx_space, .opaque = s };
}

void serial_attach(struct serial *s, struct ns16550 *uart, void (*wake)(void *), void *opaque)
{
	s->uart = uart;
	s->wake = wake;
	s->wake_opaque = opaque;
	ns16550_set_connected(uart, s->in_fd >= 0);
	start_reading(s);
}

void serial_flush(struct serial *s, int timeout_ms)
{
	uint64_t waited = 0;

	while (s->len && s->out_fd >= 0 && !s->out_broken && waited < (uint64_t)timeout_ms) {
		struct pollfd p = { .fd = s->out_fd, .events = POLLOUT };
		flush_some(s);
		if (!s->len)
			break;
		if (poll(&p, 1, 10) < 0 && errno != EINTR)
			break;
		waited += 10;
	}
}

uint64_t serial_dropped(const struct serial *s)
{
	return s->dropped;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	if (s->rd_ev)
		event_free(s->rd_ev);
	if (s->wr_ev)
		event_free(s->wr_ev);
	if (s->accept_ev)
		event_free(s->accept_ev);
	if (s->kind == SERIAL_STDIO) {
		/* Give the terminal back as we found it; nothing more to do if that fails. */
		if (s->raw && tcsetattr(STDIN_FILENO, TCSANOW, &s->saved_tio) != 0)
			log_warn("serial: cannot restore the terminal: %s", strerror(errno));
		if (s->saved_in_flags >= 0 && fcntl(STDIN_FILENO, F_SETFL, s->saved_in_flags) != 0)
			log_warn("serial: cannot restore stdin flags: %s", strerror(errno));
		if (s->saved_out_flags >= 0 && fcntl(STDOUT_FILENO, F_SETFL, s->saved_out_flags) != 0)
			log_warn("serial: cannot restore stdout flags: %s", strerror(errno));
	} else if (s->kind == SERIAL_UNIX) {
		if (s->in_fd >= 0)
			close(s->in_fd);
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		if (s->path)
			unlink(s->path);
	}
	free(s->path);
	free(s->ring);
	free(s);
}

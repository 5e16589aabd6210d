/*
 * The guest's first serial port as vmd sees it: vmd always reads it (a
 * guest never blocks on its console for want of a client), keeps the last
 * CONSOLE_HISTORY bytes in a ring replayed to each client that attaches,
 * fans output out to every attached client, and queues their keystrokes
 * towards the guest. When that queue is full, attached clients are not
 * read until it drains: input is slowed down, never lost.
 */
#include "daemon/vmd.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

static void con_read_cb(evutil_socket_t fd, short what, void *arg);
static void con_write_cb(evutil_socket_t fd, short what, void *arg);

void console_init(struct console *con)
{
	memset(con, 0, sizeof(*con));
	con->fd = -1;
	proto_out_init(&con->to_guest, CONSOLE_IN_MAX);
}

bool console_open(struct vm *vm, int fd)
{
	struct console *con = &vm->console;
	struct event_base *base = vm->vmd->base;

	con->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, con_read_cb, vm);
	con->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST, con_write_cb, vm);
	if (!con->ev_read || !con->ev_write) {
		if (con->ev_read)
			event_free(con->ev_read);
		if (con->ev_write)
			event_free(con->ev_write);
		con->ev_read = con->ev_write = NULL;
		return false;
	}
	con->fd = fd;
	return true;
}

bool console_start(struct vm *vm)
{
	return vmd_watch(vm->console.ev_read, NULL);
}

static void history_add(struct console *con, const char *p, size_t n)
{
	size_t room;

	if (n >= CONSOLE_HISTORY) {
		p += n - CONSOLE_HISTORY;
		n = CONSOLE_HISTORY;
	}
	while (n) {
		room = CONSOLE_HISTORY - con->head;
		if (room > n)
			room = n;
		memcpy(con->history + con->head, p, room);
		con->head = (con->head + room) % CONSOLE_HISTORY;
		con->fill = con->fill + room > CONSOLE_HISTORY ? CONSOLE_HISTORY : con->fill + room;
		p += room;
		n -= room;
	}
}

static void con_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;
	struct console *con = &vm->console;
	struct client *c, *next;
	char buf[16384];
	ssize_t n;
	int rounds;

	/* Bounded rounds: a chatty guest cannot starve the rest of the loop. */
	for (rounds = 0; rounds < 16; rounds++) {
		n = read(con->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				event_del(con->ev_read); /* guest closed it: exit follows */
			return;
		}
		history_add(con, buf, (size_t)n);
		for (c = con->attached; c; c = next) {
			next = c->console_next;
			client_push_raw(c, buf, (size_t)n);
		}
	}
}

/* The queue drained: hand over what paused clients still hold, and read
 * them again once all of it fitted. */
static void resume_clients(struct console *con)
{
	struct client *c, *next;
	const char *raw;
	size_t len;

	for (c = con->attached; c; c = next) {
		next = c->console_next;
		if (!c->read_paused)
			continue;
		len = proto_in_pending(&c->in, &raw);
		if (len)
			console_client_input(c, raw, len);
		if (proto_in_pending(&c->in, &raw) == 0)
			client_pause_read(c, false);
	}
}

static void con_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;
	struct console *con = &vm->console;
	enum proto_io io = proto_out_flush(&con->to_guest, con->fd);

	if (io == PROTO_IO_AGAIN)
		return;
	event_del(con->ev_write);
	if (io != PROTO_IO_OK)
		log_debug("vm %s: console write failed", vm->cfg->name);
	resume_clients(con);
}

void console_close(struct vm *vm)
{
	struct console *con = &vm->console;
	struct client *c;
	char buf[16384];
	ssize_t n;

	if (con->fd >= 0) {
		/* The guest's last words still go to the history and clients. */
		while ((n = read(con->fd, buf, sizeof(buf))) > 0) {
			history_add(con, buf, (size_t)n);
			for (c = con->attached; c; c = c->console_next)
				client_push_raw(c, buf, (size_t)n);
		}
		event_free(con->ev_read);
		event_free(con->ev_write);
		con->ev_read = con->ev_write = NULL;
		close(con->fd);
		con->fd = -1;
	}
	proto_out_free(&con->to_guest);
	proto_out_init(&con->to_guest, CONSOLE_IN_MAX);
	/* Attached clients see end of file once their queue is written. */
	while ((c = con->attached) != NULL) {
		con->attached = c->console_next;
		c->console_next = NULL;
		c->console_vm = NULL;
		/* Not read again: what it sends now is not for the guest. */
		client_pause_read(c, true);
		c->close_after_flush = true;
		if (proto_out_queued(&c->out) == 0 || !vmd_watch(c->ev_write, NULL))
			client_drop(c, "guest console closed");
	}
}

static void replay(struct console *con, struct client *c)
{
	size_t start;

	/* Oldest byte first. */
	start = (con->head + CONSOLE_HISTORY - con->fill) % CONSOLE_HISTORY;
	if (start + con->fill <= CONSOLE_HISTORY) {
		client_push_raw(c, con->history + start, con->fill);
	} else {
		client_push_raw(c, con->history + start, CONSOLE_HISTORY - start);
		client_push_raw(c, con->history, con->fill - (CONSOLE_HISTORY - start));
	}
}

void console_attach(struct vm *vm, struct client *c)
{
	struct console *con = &vm->console;

	c->subscribed = false;
	if (con->fd < 0) {
		/* No guest: the last output is still there to read (why did it
		 * stop?); then the connection ends. */
		client_pause_read(c, true);
		c->close_after_flush = true;
		replay(con, c);
		if (proto_out_queued(&c->out) == 0)
			client_drop(c, "console history sent");
		return;
	}
	c->console_vm = vm;
	c->console_next = con->attached;
	con->attached = c;
	replay(con, c);
}

void console_detach(struct client *c)
{
	struct client **pp;

	if (!c->console_vm)
		return;
	for (pp = &c->console_vm->console.attached; *pp; pp = &(*pp)->console_next)
		if (*pp == c) {
			*pp = c->console_next;
			break;
		}
	c->console_vm = NULL;
	c->console_next = NULL;
}

void console_client_input(struct client *c, const char *data, size_t n)
{
	struct vm *vm = c->console_vm;
	struct console *con = &vm->console;
	size_t room = con->to_guest.max - proto_out_queued(&con->to_guest);
	size_t take = n < room ? n : room;

	if (con->fd < 0) {
		proto_in_drop(&c->in, n);
		return;
	}
	if (take && proto_out_push(&con->to_guest, data, take)) {
		proto_in_drop(&c->in, take);
		(void)vmd_watch(con->ev_write, NULL);
	}
	/* What did not fit stays in the client's input buffer; stop reading
	 * it until the guest has taken the queue. */
	if (take < n)
		client_pause_read(c, true);
}

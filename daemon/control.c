/*
 * The control socket: a UNIX stream listener, one struct client per
 * connection, every fd non-blocking. A client's replies and events go
 * through a bounded queue; one that stops reading is dropped when the
 * queue overflows, so it can never hold up the others or the guests.
 */
#include "daemon/vmd.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"

static void client_read_cb(evutil_socket_t fd, short what, void *arg);
static void client_write_cb(evutil_socket_t fd, short what, void *arg);

void client_send(struct client *c, struct json_object *msg)
{
	if (!msg) {
		client_drop(c, "out of memory");
		return;
	}
	if (!c->dead) {
		if (!proto_out_send(&c->out, msg))
			client_drop(c, "output queue full (client not reading)");
		else if (!vmd_watch(c->ev_write, NULL))
			client_drop(c, "cannot watch the client");
	}
	json_object_put(msg);
}

void client_push_raw(struct client *c, const void *data, size_t n)
{
	if (c->dead)
		return;
	if (!proto_out_push(&c->out, data, n))
		client_drop(c, "output queue full (client not reading)");
	else if (!vmd_watch(c->ev_write, NULL))
		client_drop(c, "cannot watch the client");
}

void client_reply(struct client *c, struct json_object *id, struct json_object *result)
{
	if (c->dead) {
		json_object_put(result);
		return;
	}
	client_send(c, proto_result(id, result));
}

void client_error(struct client *c, struct json_object *id, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->dead)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	client_send(c, proto_error(id, code, msg, NULL));
}

void client_pause_read(struct client *c, bool pause)
{
	if (c->dead || c->read_paused == pause)
		return;
	log_debug("client fd %d: %s reading", c->fd, pause ? "pausing" : "resuming");
	c->read_paused = pause;
	if (pause)
		event_del(c->ev_read);
	else if (!vmd_watch(c->ev_read, NULL))
		client_drop(c, "cannot watch the client");
}

/* Marks c dead now (no more I/O) and frees it from the reaper, so no
 * callback up the stack is left holding a freed client. */
void client_drop(struct client *c, const char *why)
{
	if (c->dead)
		return;
	log_debug("client fd %d (uid %u pid %d) dropped: %s", c->fd, (unsigned)c->uid,
		  (int)c->pid, why);
	c->dead = true;
	event_del(c->ev_read);
	event_del(c->ev_write);
	event_active(c->vmd->ev_reap, EV_TIMEOUT, 0);
}

static void client_free(struct client *c)
{
	struct vmd *d = c->vmd;

	console_detach(c);
	vm_forget_client(d, c);
	event_free(c->ev_read);
	event_free(c->ev_write);
	close(c->fd);
	proto_in_free(&c->in);
	proto_out_free(&c->out);
	d->nclients--;
	free(c);
	if (d->accept_paused) {
		d->accept_paused = !vmd_watch(d->ev_listen, NULL);
	}
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vmd *d = arg;
	struct client **pp = &d->clients, *c;

	while ((c = *pp) != NULL) {
		if (c->dead) {
			*pp = c->next;
			client_free(c);
		} else {
			pp = &c->next;
		}
	}
}

void control_event(struct vmd *d, struct json_object *params)
{
	struct json_object *msg = proto_notification("event", params);
	struct client *c;

	if (!msg)
		return;
	for (c = d->clients; c; c = c->next)
		if (c->subscribed && !c->dead && !c->console_vm) {
			if (!proto_out_send(&c->out, msg))
				client_drop(c, "event queue full (client not reading)");
			else if (!vmd_watch(c->ev_write, NULL))
				client_drop(c, "cannot watch the client");
		}
	json_object_put(msg);
}

static void handle_line(struct client *c, char *line, size_t len)
{
	struct proto_msg m;
	char why[256];
	int code;

	/* Blank lines are tolerated (e.g. from someone typing into socat). */
	if (strspn(line, " \t\r") == len)
		return;
	code = proto_parse(line, len, &m, why, sizeof(why));
	if (code) {
		client_send(c, proto_error(m.id, code, why, NULL));
		proto_msg_free(&m);
		return;
	}
	if (m.kind == PROTO_REQUEST)
		methods_dispatch(c, &m);
	else if (m.kind == PROTO_NOTIFICATION)
		log_debug("client notification '%s' ignored", m.method);
	else
		client_send(c, proto_error(m.id, PROTO_ERR_INVALID_REQUEST,
					   "clients send requests, not responses", NULL));
	proto_msg_free(&m);
}

static void client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	enum proto_io io;
	enum proto_line r;
	const char *raw;
	char *line;
	size_t len;

	io = proto_in_fill(&c->in, c->fd);
	if (io == PROTO_IO_AGAIN)
		return;
	if (io == PROTO_IO_CLOSED || io == PROTO_IO_ERROR) {
		/* Finish what arrived before the close, then go. */
		c->close_after_flush = true;
	}
	while (!c->dead) {
		if (c->console_vm) {
			len = proto_in_pending(&c->in, &raw);
			if (len)
				console_client_input(c, raw, len);
			/* console_client_input drops what it took */
			break;
		}
		r = proto_in_next(&c->in, &line, &len);
		if (r == PROTO_LINE_NONE)
			break;
		if (r == PROTO_LINE_TOOBIG) {
			client_send(c, proto_errorf(NULL, PROTO_ERR_PARSE,
						    "message longer than %d bytes", PROTO_MAX_MSG));
			continue;
		}
		handle_line(c, line, len);
	}
	if (c->close_after_flush && !c->dead) {
		event_del(c->ev_read);
		/* A half-closed peer still gets what is queued now; replies
		 * to requests still in progress are not waited for. */
		if (proto_out_queued(&c->out) == 0 || io == PROTO_IO_ERROR)
			client_drop(c, io == PROTO_IO_ERROR ? "read error" : "closed by peer");
	}
}

static void client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	enum proto_io io = proto_out_flush(&c->out, c->fd);

	if (io == PROTO_IO_AGAIN)
		return;
	if (io != PROTO_IO_OK) {
		client_drop(c, "write failed");
		return;
	}
	event_del(c->ev_write);
	if (c->close_after_flush)
		client_drop(c, "closed by peer");
}

static void peer_groups(struct client *c)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int n = (int)(sizeof(c->groups) / sizeof(c->groups[0]));

	c->groups[0] = c->gid;
	c->ngroups = 1;
	if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return;
	if (getgrouplist(pw.pw_name, c->gid, c->groups, &n) < 0)
		n = (int)(sizeof(c->groups) / sizeof(c->groups[0]));
	c->ngroups = n;
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct vmd *d = arg;
	struct client *c;
	struct ucred cred;
	socklen_t credlen = sizeof(cred);
	int fd;

	for (;;) {
		fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* Stop accepting until a client goes, instead
				 * of spinning on a listener that stays readable. */
				log_warn("out of file descriptors: not accepting clients for now");
				event_del(d->ev_listen);
				d->accept_paused = true;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				   errno != ECONNABORTED) {
				log_warn("accept: %s", strerror(errno));
			}
			return;
		}
		if (d->nclients >= d->max_clients) {
			log_warn("too many clients (%zu): refusing one", d->max_clients);
			close(fd);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) < 0) {
			log_warn("SO_PEERCRED: %s", strerror(errno));
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->vmd = d;
		c->fd = fd;
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
		peer_groups(c);
		proto_in_init(&c->in, PROTO_MAX_MSG);
		proto_out_init(&c->out, CLIENT_OUT_MAX);
		c->ev_read = event_new(d->base, fd, EV_READ | EV_PERSIST, client_read_cb, c);
		c->ev_write = event_new(d->base, fd, EV_WRITE | EV_PERSIST, client_write_cb, c);
		if (!c->ev_read || !c->ev_write || event_add(c->ev_read, NULL) < 0) {
			if (c->ev_read)
				event_free(c->ev_read);
			if (c->ev_write)
				event_free(c->ev_write);
			close(fd);
			free(c);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
		d->nclients++;
	}
}

/* An existing socket file is replaced only if nobody answers on it:
 * two vmds must not fight over one path. */
static int remove_stale_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "%s: another vmd is listening there", path);
		return -1;
	}
	if (unlink(path) < 0) {
		snprintf(err, errlen, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int control_listen(struct vmd *d, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	if (strlen(d->socket_path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", d->socket_path);
		return -1;
	}
	if (remove_stale_socket(d->socket_path, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", d->socket_path);
	/* Created 0660 from the start: no window where others may connect. */
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		snprintf(err, errlen, "bind %s: %s", d->socket_path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (d->cfg.has_socket_gid && chown(d->socket_path, (uid_t)-1, d->cfg.socket_gid) < 0) {
		snprintf(err, errlen, "chown %s: %s", d->socket_path, strerror(errno));
		unlink(d->socket_path);
		close(fd);
		return -1;
	}
	if (chmod(d->socket_path, 0660) < 0 || listen(fd, 512) < 0) {
		snprintf(err, errlen, "%s: %s", d->socket_path, strerror(errno));
		unlink(d->socket_path);
		close(fd);
		return -1;
	}
	d->listen_fd = fd;
	d->ev_listen = event_new(d->base, fd, EV_READ | EV_PERSIST, accept_cb, d);
	d->ev_reap = event_new(d->base, -1, 0, reap_cb, d);
	if (!d->ev_listen || !d->ev_reap || event_add(d->ev_listen, NULL) < 0) {
		snprintf(err, errlen, "libevent: cannot watch the control socket");
		unlink(d->socket_path);
		close(fd);
		return -1;
	}
	return 0;
}

void control_close(struct vmd *d)
{
	struct client *c;

	for (c = d->clients; c; c = c->next) {
		/* A last attempt to deliver pending replies (e.g. to a stop -w). */
		if (!c->dead)
			(void)proto_out_flush(&c->out, c->fd);
		c->dead = true;
	}
	reap_cb(-1, 0, d);
	if (d->ev_listen) {
		event_free(d->ev_listen);
		d->ev_listen = NULL;
		close(d->listen_fd);
		unlink(d->socket_path);
	}
	if (d->ev_reap) {
		event_free(d->ev_reap);
		d->ev_reap = NULL;
	}
}

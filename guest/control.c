#include "guest/control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "guest/guest.h"
#include "lib/log.h"
#include "proto/base64.h"
#include "proto/proto.h"
#include "translator/cpu.h"

#define CONTROL_OUT_MAX (4u << 20)

struct control {
	struct guest *g;
	int fd;
	struct event *rd_ev, *wr_ev;
	bool writing;
	bool closed;
	struct proto_in in;
	struct proto_out out;
};

static void send_msg(struct control *c, struct json_object *msg);

static void on_write(evutil_socket_t fd, short what, void *opaque)
{
	struct control *c = opaque;

	c->writing = false;
	send_msg(c, NULL);
}

/* Queues msg (if any, taking it) and writes what the socket takes. */
static void send_msg(struct control *c, struct json_object *msg)
{
	enum proto_io r;

	if (msg) {
		if (!c->closed && !proto_out_send(&c->out, msg))
			log_warn("control: vmd is not reading; message dropped");
		json_object_put(msg);
	}
	if (c->closed)
		return;
	r = proto_out_flush(&c->out, c->fd);
	if (r == PROTO_IO_AGAIN && !c->writing) {
		if (event_add(c->wr_ev, NULL) == 0)
			c->writing = true;
	} else if (r == PROTO_IO_CLOSED || r == PROTO_IO_ERROR) {
		c->closed = true;
	}
}

static struct json_object *status_object(struct guest *g)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "state", json_object_new_string(guest_state_name(g)));
	json_object_object_add(o, "insns", json_object_new_int64((int64_t)cpu_insn_count(g->pc->cpu)));
	json_object_object_add(o, "uptime_ns", json_object_new_int64((int64_t)clock_now(&g->pc->clock)));
	return o;
}

static struct json_object *ok_object(void)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

/* The screen as {"png": base64, "width", "height"}, or an error. */
static struct json_object *screenshot_inline(struct proto_msg *m, struct guest *g)
{
	uint8_t *png = NULL;
	size_t len = 0;
	unsigned w = 0, h = 0;
	char why[200], *text;
	struct json_object *o;

	if (display_screenshot_png(&g->display_hooks, &png, &len, &w, &h, why, sizeof(why)) != 0)
		return proto_error(m->id, PROTO_ERR_GUEST_FAILURE, why, NULL);
	/* Base64 grows it by a third; the reply must fit one protocol line. */
	if ((len + 2) / 3 * 4 + 4096 > PROTO_MAX_MSG) {
		free(png);
		return proto_errorf(m->id, PROTO_ERR_GUEST_FAILURE,
		                    "the %ux%u screenshot is %zu bytes, more than a control message holds",
		                    w, h, len);
	}
	text = base64_encode(png, len);
	free(png);
	if (!text)
		return proto_error(m->id, PROTO_ERR_INTERNAL, "out of memory", NULL);
	o = json_object_new_object();
	json_object_object_add(o, "png", json_object_new_string(text));
	json_object_object_add(o, "width", json_object_new_int((int)w));
	json_object_object_add(o, "height", json_object_new_int((int)h));
	free(text);
	return proto_result(m->id, o);
}

static void handle_request(struct control *c, struct proto_msg *m)
{
	struct guest *g = c->g;
	const char *meth = m->method;
	struct json_object *reply;

	if (strcmp(meth, "status") == 0) {
		reply = proto_result(m->id, status_object(g));
	} else if (strcmp(meth, "pause") == 0) {
		guest_pause(g);
		reply = proto_result(m->id, status_object(g));
	} else if (strcmp(meth, "resume") == 0) {
		guest_resume(g);
		reply = proto_result(m->id, status_object(g));
	} else if (strcmp(meth, "reset") == 0) {
		if (guest_reset(g) != 0)
			reply = proto_errorf(m->id, PROTO_ERR_GUEST_FAILURE, "reset failed");
		else
			reply = proto_result(m->id, status_object(g));
	} else if (strcmp(meth, "powerdown") == 0) {
		pc_power_button(g->pc);
		guest_kick(g);
		reply = proto_result(m->id, ok_object());
	} else if (strcmp(meth, "snapshot-save") == 0 || strcmp(meth, "snapshot-load") == 0) {
		const char *path;
		char why[600];
		bool save = strcmp(meth, "snapshot-save") == 0;

		if (proto_param_str(m->params, "path", true, &path, why, sizeof(why)) != 0)
			reply = proto_error(m->id, PROTO_ERR_INVALID_PARAMS, why, NULL);
		else if ((save ? guest_snapshot_save : guest_snapshot_load)(g, path, why, sizeof(why)) != 0)
			reply = proto_error(m->id, PROTO_ERR_GUEST_FAILURE, why, NULL);
		else
			reply = proto_result(m->id, status_object(g));
	} else if (strcmp(meth, "screenshot") == 0) {
		const char *path = NULL;
		char why[600];

		/* With a path the PNG goes to that file; without, it comes back
		 * inline (vmd relays it, so vmd never writes files for clients). */
		if (proto_param_str(m->params, "path", false, &path, why, sizeof(why)) < 0)
			reply = proto_error(m->id, PROTO_ERR_INVALID_PARAMS, why, NULL);
		else if (path && display_screenshot(&g->display_hooks, path, why, sizeof(why)) != 0)
			reply = proto_error(m->id, PROTO_ERR_GUEST_FAILURE, why, NULL);
		else if (path)
			reply = proto_result(m->id, ok_object());
		else
			reply = screenshot_inline(m, g);
	} else if (strcmp(meth, "quit") == 0) {
		reply = proto_result(m->id, ok_object());
		send_msg(c, reply);
		guest_stop(g, 0, "quit", 0);
		return;
	} else {
		reply = proto_errorf(m->id, PROTO_ERR_METHOD_NOT_FOUND, "unknown method \"%s\"", meth);
	}
	send_msg(c, reply);
}

static void on_read(evutil_socket_t fd, short what, void *opaque)
{
	struct control *c = opaque;
	enum proto_io r = proto_in_fill(&c->in, c->fd);
	enum proto_line lr;
	char *line, why[256];
	size_t len;

	while ((lr = proto_in_next(&c->in, &line, &len)) != PROTO_LINE_NONE) {
		struct proto_msg m;
		int code;

		if (lr == PROTO_LINE_TOOBIG) {
			send_msg(c, proto_errorf(NULL, PROTO_ERR_INVALID_REQUEST, "message too long"));
			continue;
		}
		code = proto_parse(line, len, &m, why, sizeof(why));
		if (code != 0) {
			send_msg(c, proto_error(m.id, code, why, NULL));
		} else if (m.kind == PROTO_REQUEST) {
			handle_request(c, &m);
		} else if (m.kind == PROTO_NOTIFICATION) {
			log_debug("control: ignoring notification %s", m.method);
		}
		/* Results and errors: we send no requests, so there is nothing to match. */
		proto_msg_free(&m);
		if (c->g->quit)
			break;
	}
	if (r == PROTO_IO_CLOSED || r == PROTO_IO_ERROR) {
		/* vmd is gone: nobody can manage this guest any more. */
		log_warn("control: channel to vmd closed; stopping");
		event_del(c->rd_ev);
		c->closed = true;
		if (!c->g->quit)
			guest_stop(c->g, 0, "quit", 0);
	}
}

struct control *control_new(struct guest *g, int fd, char *err, size_t errlen)
{
	struct control *c = calloc(1, sizeof(*c));
	int fl;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->g = g;
	c->fd = fd;
	proto_in_init(&c->in, PROTO_MAX_MSG);
	proto_out_init(&c->out, CONTROL_OUT_MAX);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "control fd %d: %s", fd, strerror(errno));
		goto fail;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		log_warn("control fd %d: cannot set close-on-exec: %s", fd, strerror(errno));
	c->rd_ev = event_new(g->base, fd, EV_READ | EV_PERSIST, on_read, c);
	c->wr_ev = event_new(g->base, fd, EV_WRITE, on_write, c);
	if (!c->rd_ev || !c->wr_ev || event_add(c->rd_ev, NULL) != 0) {
		snprintf(err, errlen, "control: cannot create events");
		goto fail;
	}
	return c;
fail:
	control_free(c);
	return NULL;
}

void control_notify_state(struct control *c, const char *state, const char *why)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "state", json_object_new_string(state));
	if (why)
		json_object_object_add(p, "reason", json_object_new_string(why));
	send_msg(c, proto_notification("state", p));
}

void control_notify_shutdown(struct control *c, const char *reason, int code)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "reason", json_object_new_string(reason));
	json_object_object_add(p, "code", json_object_new_int(code));
	send_msg(c, proto_notification("shutdown", p));
}

void control_flush(struct control *c, int timeout_ms)
{
	for (int waited = 0; !c->closed && proto_out_queued(&c->out) && waited < timeout_ms; waited += 10) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		enum proto_io r = proto_out_flush(&c->out, c->fd);
		if (r == PROTO_IO_OK)
			break;
		if (r != PROTO_IO_AGAIN)
			break;
		if (poll(&p, 1, 10) < 0 && errno != EINTR)
			break;
	}
}

void control_free(struct control *c)
{
	if (!c)
		return;
	if (c->rd_ev)
		event_free(c->rd_ev);
	if (c->wr_ev)
		event_free(c->wr_ev);
	proto_in_free(&c->in);
	proto_out_free(&c->out);
	close(c->fd);
	free(c);
}

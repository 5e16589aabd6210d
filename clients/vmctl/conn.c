/*
 * vmctl's connection to vmd: blocking I/O through the shared codec, one
 * request at a time.
 */
#include "clients/vmctl/vmctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sun;

	memset(c, 0, sizeof(*c));
	c->next_id = 1;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vmctl: socket path too long: %s\n", path);
		exit(EXIT_UNREACHABLE);
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fprintf(stderr, "vmctl: socket: %s\n", strerror(errno));
		exit(EXIT_UNREACHABLE);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "vmctl: cannot reach vmd at %s: %s\n", path, strerror(errno));
		exit(EXIT_UNREACHABLE);
	}
	proto_in_init(&c->in, PROTO_MAX_MSG);
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	proto_in_free(&c->in);
}

static void send_all(struct conn *c, struct json_object *msg)
{
	struct proto_out out;

	proto_out_init(&out, PROTO_MAX_MSG + 1);
	if (!msg || !proto_out_send(&out, msg)) {
		fprintf(stderr, "vmctl: request too large\n");
		exit(EXIT_USAGE);
	}
	json_object_put(msg);
	if (proto_out_flush(&out, c->fd) != PROTO_IO_OK) {
		fprintf(stderr, "vmctl: lost the connection to vmd\n");
		exit(EXIT_UNREACHABLE);
	}
	proto_out_free(&out);
}

struct json_object *conn_next(struct conn *c)
{
	enum proto_line r;
	enum proto_io io;
	char *line, why[256];
	size_t len;
	struct proto_msg m;
	struct json_object *root;

	for (;;) {
		r = proto_in_next(&c->in, &line, &len);
		if (r == PROTO_LINE_OK) {
			if (proto_parse(line, len, &m, why, sizeof(why)) != 0) {
				fprintf(stderr, "vmctl: bad message from vmd: %s\n", why);
				proto_msg_free(&m);
				continue;
			}
			root = json_object_get(m.root);
			proto_msg_free(&m);
			return root;
		}
		if (r == PROTO_LINE_TOOBIG) {
			fprintf(stderr, "vmctl: over-size message from vmd dropped\n");
			continue;
		}
		io = proto_in_fill(&c->in, c->fd);
		if (io == PROTO_IO_CLOSED || io == PROTO_IO_ERROR)
			return NULL;
	}
}

struct json_object *conn_call(struct conn *c, const char *method, struct json_object *params,
			      int *code, char *msg, size_t msglen)
{
	int64_t id = c->next_id++;
	struct json_object *reply, *v, *e, *result;

	send_all(c, proto_request(id, method, params));
	for (;;) {
		reply = conn_next(c);
		if (!reply) {
			fprintf(stderr, "vmctl: vmd closed the connection\n");
			exit(EXIT_UNREACHABLE);
		}
		if (!json_object_object_get_ex(reply, "id", &v) || !v ||
		    json_object_get_int64(v) != id) {
			json_object_put(reply); /* a notification or a stray answer */
			continue;
		}
		if (json_object_object_get_ex(reply, "error", &e)) {
			*code = json_object_get_int(json_object_object_get(e, "code"));
			snprintf(msg, msglen, "%s",
				 json_object_get_string(json_object_object_get(e, "message")));
			if (json_object_object_get_ex(e, "data", &v) && json_object_is_type(v, json_type_string)) {
				size_t n = strlen(msg);
				snprintf(msg + n, msglen - n, "\n%s", json_object_get_string(v));
			}
			json_object_put(reply);
			return NULL;
		}
		json_object_object_get_ex(reply, "result", &result);
		result = json_object_get(result);
		json_object_put(reply);
		/* A null result is still a success: hand back an empty object. */
		return result ? result : json_object_new_object();
	}
}

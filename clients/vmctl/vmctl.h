/*
 * vmctl: the command-line client of vmd. vmctl.c holds the commands,
 * conn.c the connection and request/response, console.c the interactive
 * serial console.
 */
#ifndef CLIENTS_VMCTL_VMCTL_H
#define CLIENTS_VMCTL_VMCTL_H

#include <stdbool.h>

#include <json-c/json.h>

#include "proto/proto.h"

/* Exit statuses a script can rely on. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,    /* vmd refused or the request failed */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
};

struct conn {
	int fd;
	struct proto_in in;
	int64_t next_id;
};

/* Connects or exits with EXIT_UNREACHABLE and a message. */
void conn_open(struct conn *c, const char *path);
void conn_close(struct conn *c);
/*
 * Sends a request (params taken) and waits for its response, printing
 * notifications through on_event if given. Returns the result (caller
 * puts it) or NULL with *code and msg set for an error response. Exits
 * with EXIT_UNREACHABLE if the connection is lost.
 */
struct json_object *conn_call(struct conn *c, const char *method, struct json_object *params,
			      int *code, char *msg, size_t msglen);
/* Reads the next message; NULL at end of connection. */
struct json_object *conn_next(struct conn *c);

/* console.c: relays stdin/stdout to the attached connection. */
int console_run(struct conn *c, const char *name, double linger_s);

#endif

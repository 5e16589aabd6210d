/*
 * The vmd control protocol codec: JSON-RPC 2.0, one object per line.
 *
 * Shared by vmd (clients and guest processes), vmctl and vmd-guest. It knows
 * nothing about event loops: the fd helpers take a plain (usually
 * non-blocking) fd and say "again", "closed" or "error", so any loop can
 * drive them. The wire format is specified in proto/PROTOCOL.md.
 *
 * Ownership: builders take ownership of the json_object values passed in
 * (params, result, data) and return a new message the caller owns
 * (json_object_put when done). A parsed struct proto_msg owns its tree;
 * release it with proto_msg_free.
 */
#ifndef PROTO_PROTO_H
#define PROTO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define PROTO_VERSION "vmd-protocol 1"
/* The largest line either side accepts, newline excluded. */
#define PROTO_MAX_MSG (1024 * 1024)

/* JSON-RPC 2.0's reserved codes, then ours in -32000..-32099 (server errors). */
enum proto_code {
	PROTO_ERR_PARSE = -32700,
	PROTO_ERR_INVALID_REQUEST = -32600,
	PROTO_ERR_METHOD_NOT_FOUND = -32601,
	PROTO_ERR_INVALID_PARAMS = -32602,
	PROTO_ERR_INTERNAL = -32603,
	PROTO_ERR_NO_SUCH_VM = -32000,
	PROTO_ERR_WRONG_STATE = -32001,
	PROTO_ERR_PERMISSION = -32002,
	PROTO_ERR_EXISTS = -32003,
	PROTO_ERR_GUEST_FAILURE = -32004,
	PROTO_ERR_NOT_SUPPORTED = -32005,
	PROTO_ERR_TIMEOUT = -32006,
	PROTO_ERR_CONFIG = -32007,
	PROTO_ERR_BUSY = -32008,
};

/* The standard message for a code ("parse error", "no such vm", ...). */
const char *proto_strerror(int code);

/* Results of the fd helpers. */
enum proto_io {
	PROTO_IO_OK,      /* progress made (bytes read / queue drained) */
	PROTO_IO_AGAIN,   /* would block: wait for the fd */
	PROTO_IO_CLOSED,  /* end of file / peer gone */
	PROTO_IO_ERROR,   /* errno says why */
};

/* ---- input: bytes from an fd, handed out as complete lines ---- */

struct proto_in {
	char *buf;
	size_t len;        /* bytes held */
	size_t start;      /* first byte not yet handed out */
	size_t cap;
	size_t max;        /* longest accepted line */
	bool discarding;   /* skipping the rest of an over-size line */
};

enum proto_line {
	PROTO_LINE_NONE,   /* no complete line yet */
	PROTO_LINE_OK,     /* *line is a NUL-terminated line, newline removed */
	PROTO_LINE_TOOBIG, /* a line longer than max was dropped (reported once) */
};

void proto_in_init(struct proto_in *in, size_t max);
void proto_in_free(struct proto_in *in);
/* One read(2) into the buffer. */
enum proto_io proto_in_fill(struct proto_in *in, int fd);
/* Appends bytes received some other way (tests, or a recv done elsewhere). */
bool proto_in_feed(struct proto_in *in, const void *data, size_t n);
/*
 * The next complete line. *line stays valid until the next call to any
 * proto_in function; *len excludes the newline and may be less than
 * strlen() only if the line holds a NUL byte (proto_parse refuses those).
 * A trailing '\r' is kept: JSON parsing treats it as whitespace.
 */
enum proto_line proto_in_next(struct proto_in *in, char **line, size_t *len);
/* Bytes received after the last line handed out (e.g. when a connection
 * switches to raw console mode); consume them with proto_in_drop. */
size_t proto_in_pending(const struct proto_in *in, const char **data);
void proto_in_drop(struct proto_in *in, size_t n);

/* ---- output: a bounded queue written out as the fd accepts it ---- */

struct proto_out {
	char *buf;
	size_t len;        /* bytes held */
	size_t off;        /* first byte not yet written */
	size_t cap;
	size_t max;        /* queue limit: a peer that does not read is dropped */
};

void proto_out_init(struct proto_out *out, size_t max);
void proto_out_free(struct proto_out *out);
/* False (nothing queued) when the queue would exceed its limit or
 * memory runs out: the caller should drop the peer. */
bool proto_out_push(struct proto_out *out, const void *data, size_t n);
/* Serializes msg as one line and queues it; does not take msg. */
bool proto_out_send(struct proto_out *out, struct json_object *msg);
/* Writes as much as the fd takes: OK when the queue is empty, AGAIN when
 * bytes remain, CLOSED on EPIPE, ERROR otherwise. */
enum proto_io proto_out_flush(struct proto_out *out, int fd);
size_t proto_out_queued(const struct proto_out *out);

/* ---- messages ---- */

enum proto_kind {
	PROTO_REQUEST,       /* method + id */
	PROTO_NOTIFICATION,  /* method, no id */
	PROTO_RESULT,        /* id + result */
	PROTO_ERROR,         /* id (maybe null) + error */
};

struct proto_msg {
	enum proto_kind kind;
	struct json_object *root;    /* owns everything below */
	bool has_id;                 /* false for notifications */
	struct json_object *id;      /* NULL when absent or a JSON null */
	const char *method;          /* requests and notifications */
	struct json_object *params;  /* object, or NULL if absent */
	struct json_object *result;  /* results; may be a JSON null */
	int code;                    /* errors */
	const char *message;         /* errors */
	struct json_object *data;    /* errors: optional */
};

/*
 * Parses and validates one line. Returns 0, or the error code to answer
 * with (PROTO_ERR_PARSE or PROTO_ERR_INVALID_REQUEST) with why filled in;
 * then m->id is the request's id if one could be read (else NULL: answer
 * with a null id), and m->root must still be freed with proto_msg_free.
 * Params must be an object (by-name) or absent: by-position arrays are
 * refused as invalid requests.
 */
int proto_parse(const char *line, size_t len, struct proto_msg *m, char *why, size_t whylen);
void proto_msg_free(struct proto_msg *m);

/* Builders (see ownership above). A NULL params means "no params member". */
struct json_object *proto_request(int64_t id, const char *method, struct json_object *params);
struct json_object *proto_notification(const char *method, struct json_object *params);
/* id is borrowed (a reference is taken); NULL means a JSON null id. */
struct json_object *proto_result(struct json_object *id, struct json_object *result);
struct json_object *proto_error(struct json_object *id, int code, const char *message,
				struct json_object *data);
struct json_object *proto_errorf(struct json_object *id, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Typed access to params. Each returns 0 when found with the right type,
 * 1 when absent and optional (out untouched), -1 when missing but required
 * or of the wrong type, with why filled in ("'name' must be a string").
 */
int proto_param_str(struct json_object *params, const char *key, bool required,
		    const char **out, char *why, size_t whylen);
int proto_param_int(struct json_object *params, const char *key, bool required,
		    int64_t *out, char *why, size_t whylen);
int proto_param_bool(struct json_object *params, const char *key, bool required,
		     bool *out, char *why, size_t whylen);
/* An array whose members are all strings. */
int proto_param_strv(struct json_object *params, const char *key, bool required,
		     struct json_object **out, char *why, size_t whylen);

#endif

/*
 * JSON-RPC 2.0 messages: validation of what arrives, builders for what
 * leaves, typed access to params. See proto.h and PROTOCOL.md.
 */
#include "proto/proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *proto_strerror(int code)
{
	switch (code) {
	case PROTO_ERR_PARSE: return "parse error";
	case PROTO_ERR_INVALID_REQUEST: return "invalid request";
	case PROTO_ERR_METHOD_NOT_FOUND: return "method not found";
	case PROTO_ERR_INVALID_PARAMS: return "invalid params";
	case PROTO_ERR_INTERNAL: return "internal error";
	case PROTO_ERR_NO_SUCH_VM: return "no such vm";
	case PROTO_ERR_WRONG_STATE: return "wrong state for this request";
	case PROTO_ERR_PERMISSION: return "permission denied";
	case PROTO_ERR_EXISTS: return "already exists";
	case PROTO_ERR_GUEST_FAILURE: return "guest process failure";
	case PROTO_ERR_NOT_SUPPORTED: return "not supported yet";
	case PROTO_ERR_TIMEOUT: return "timed out";
	case PROTO_ERR_CONFIG: return "configuration error";
	case PROTO_ERR_BUSY: return "busy";
	default: return "unknown error";
	}
}

static int invalid(struct proto_msg *m, int code, char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int invalid(struct proto_msg *m, int code, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	(void)m;
	va_start(ap, fmt);
	if (why && whylen)
		vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return code;
}

static bool valid_id(struct json_object *id)
{
	/* JSON-RPC allows string, number or null; we refuse fractions. */
	return !id ||
	       json_object_is_type(id, json_type_string) ||
	       json_object_is_type(id, json_type_int);
}

int proto_parse(const char *line, size_t len, struct proto_msg *m, char *why, size_t whylen)
{
	struct json_tokener *tok;
	struct json_object *root, *v, *err, *code;
	enum json_tokener_error jerr;
	bool has_method, has_result, has_error;
	size_t used;

	memset(m, 0, sizeof(*m));
	if (why && whylen)
		why[0] = '\0';
	if (memchr(line, '\0', len))
		return invalid(m, PROTO_ERR_PARSE, why, whylen, "NUL byte in message");
	if (len > PROTO_MAX_MSG)
		return invalid(m, PROTO_ERR_PARSE, why, whylen, "message longer than %d bytes",
			       PROTO_MAX_MSG);
	tok = json_tokener_new();
	if (!tok)
		return invalid(m, PROTO_ERR_INTERNAL, why, whylen, "out of memory");
	root = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	used = (size_t)json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root && jerr == json_tokener_success)
		jerr = json_tokener_error_parse_null; /* a bare "null" */
	if (jerr != json_tokener_success) {
		json_object_put(root);
		if (jerr == json_tokener_continue)
			return invalid(m, PROTO_ERR_PARSE, why, whylen, "incomplete JSON");
		return invalid(m, PROTO_ERR_PARSE, why, whylen, "%s",
			       json_tokener_error_desc(jerr));
	}
	/* Only whitespace may follow the value: one object per line. */
	for (; used < len; used++) {
		if (!strchr(" \t\r", line[used])) {
			json_object_put(root);
			return invalid(m, PROTO_ERR_PARSE, why, whylen,
				       "trailing data after the JSON value");
		}
	}
	m->root = root;
	if (!json_object_is_type(root, json_type_object))
		return invalid(m, PROTO_ERR_INVALID_REQUEST, why, whylen,
			       "message must be a JSON object");
	if (json_object_object_get_ex(root, "id", &v)) {
		if (!valid_id(v))
			return invalid(m, PROTO_ERR_INVALID_REQUEST, why, whylen,
				       "'id' must be a string, an integer or null");
		m->id = v; /* json-c stores a JSON null as NULL */
		m->has_id = true;
	}
	if (!json_object_object_get_ex(root, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "2.0") != 0)
		return invalid(m, PROTO_ERR_INVALID_REQUEST, why, whylen,
			       "'jsonrpc' must be \"2.0\"");
	has_method = json_object_object_get_ex(root, "method", NULL);
	has_result = json_object_object_get_ex(root, "result", NULL);
	has_error = json_object_object_get_ex(root, "error", NULL);
	if (has_method + has_result + has_error != 1)
		return invalid(m, PROTO_ERR_INVALID_REQUEST, why, whylen,
			       "exactly one of 'method', 'result' or 'error' is required");
	if (has_method) {
		json_object_object_get_ex(root, "method", &v);
		if (!json_object_is_type(v, json_type_string) || !json_object_get_string_len(v))
			return invalid(m, PROTO_ERR_INVALID_REQUEST, why, whylen,
				       "'method' must be a non-empty string");
		m->method = json_object_get_string(v);
		if (json_object_object_get_ex(root, "params", &v)) {
			if (!json_object_is_type(v, json_type_object))
				return invalid(m, PROTO_ERR_INVALID_REQUEST, why, whylen,
					       "'params' must be an object");
			m->params = v;
		}
		m->kind = m->has_id ? PROTO_REQUEST : PROTO_NOTIFICATION;
		return 0;
	}
	if (!m->has_id)
		return invalid(m, PROTO_ERR_INVALID_REQUEST, why, whylen,
			       "a response needs an 'id'");
	if (has_result) {
		json_object_object_get_ex(root, "result", &m->result);
		m->kind = PROTO_RESULT;
		return 0;
	}
	json_object_object_get_ex(root, "error", &err);
	if (!json_object_is_type(err, json_type_object) ||
	    !json_object_object_get_ex(err, "code", &code) ||
	    !json_object_is_type(code, json_type_int) ||
	    !json_object_object_get_ex(err, "message", &v) ||
	    !json_object_is_type(v, json_type_string))
		return invalid(m, PROTO_ERR_INVALID_REQUEST, why, whylen,
			       "'error' must be an object with an integer 'code' and a string 'message'");
	m->code = json_object_get_int(code);
	m->message = json_object_get_string(v);
	if (json_object_object_get_ex(err, "data", &v))
		m->data = v;
	m->kind = PROTO_ERROR;
	return 0;
}

void proto_msg_free(struct proto_msg *m)
{
	json_object_put(m->root);
	memset(m, 0, sizeof(*m));
}

static struct json_object *envelope(void)
{
	struct json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	return o;
}

struct json_object *proto_request(int64_t id, const char *method, struct json_object *params)
{
	struct json_object *o = envelope();

	if (!o) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "method", json_object_new_string(method));
	if (params)
		json_object_object_add(o, "params", params);
	return o;
}

struct json_object *proto_notification(const char *method, struct json_object *params)
{
	struct json_object *o = envelope();

	if (!o) {
		json_object_put(params);
		return NULL;
	}
	json_object_object_add(o, "method", json_object_new_string(method));
	if (params)
		json_object_object_add(o, "params", params);
	return o;
}

struct json_object *proto_result(struct json_object *id, struct json_object *result)
{
	struct json_object *o = envelope();

	if (!o) {
		json_object_put(result);
		return NULL;
	}
	json_object_object_add(o, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(o, "result", result);
	return o;
}

struct json_object *proto_error(struct json_object *id, int code, const char *message,
				struct json_object *data)
{
	struct json_object *o = envelope(), *e;

	if (!o) {
		json_object_put(data);
		return NULL;
	}
	e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message",
			       json_object_new_string(message ? message : proto_strerror(code)));
	if (data)
		json_object_object_add(e, "data", data);
	json_object_object_add(o, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(o, "error", e);
	return o;
}

struct json_object *proto_errorf(struct json_object *id, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return proto_error(id, code, msg, NULL);
}

/* Looks key up; 1 when absent and optional, -1 when missing and required. */
static int lookup(struct json_object *params, const char *key, bool required,
		  struct json_object **v, char *why, size_t whylen)
{
	if (params && json_object_object_get_ex(params, key, v))
		return 0;
	if (!required)
		return 1;
	if (why && whylen)
		snprintf(why, whylen, "missing parameter '%s'", key);
	return -1;
}

static int wrong_type(const char *key, const char *type, char *why, size_t whylen)
{
	if (why && whylen)
		snprintf(why, whylen, "parameter '%s' must be %s", key, type);
	return -1;
}

int proto_param_str(struct json_object *params, const char *key, bool required,
		    const char **out, char *why, size_t whylen)
{
	struct json_object *v;
	int r = lookup(params, key, required, &v, why, whylen);

	if (r)
		return r;
	if (!json_object_is_type(v, json_type_string))
		return wrong_type(key, "a string", why, whylen);
	*out = json_object_get_string(v);
	return 0;
}

int proto_param_int(struct json_object *params, const char *key, bool required,
		    int64_t *out, char *why, size_t whylen)
{
	struct json_object *v;
	int r = lookup(params, key, required, &v, why, whylen);

	if (r)
		return r;
	if (!json_object_is_type(v, json_type_int))
		return wrong_type(key, "an integer", why, whylen);
	*out = json_object_get_int64(v);
	return 0;
}

int proto_param_bool(struct json_object *params, const char *key, bool required,
		     bool *out, char *why, size_t whylen)
{
	struct json_object *v;
	int r = lookup(params, key, required, &v, why, whylen);

	if (r)
		return r;
	if (!json_object_is_type(v, json_type_boolean))
		return wrong_type(key, "true or false", why, whylen);
	*out = json_object_get_boolean(v);
	return 0;
}

int proto_param_strv(struct json_object *params, const char *key, bool required,
		     struct json_object **out, char *why, size_t whylen)
{
	struct json_object *v;
	size_t i, n;
	int r = lookup(params, key, required, &v, why, whylen);

	if (r)
		return r;
	if (!json_object_is_type(v, json_type_array))
		return wrong_type(key, "an array of strings", why, whylen);
	n = json_object_array_length(v);
	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
			return wrong_type(key, "an array of strings", why, whylen);
	*out = v;
	return 0;
}

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/proto.h"
#include "tests/unit/harness.h"

static char *next_line(struct proto_in *in, enum proto_line *r)
{
	char *line = NULL;
	size_t len = 0;

	*r = proto_in_next(in, &line, &len);
	return *r == PROTO_LINE_OK ? line : NULL;
}

static void partial_lines(struct test *t)
{
	struct proto_in in;
	enum proto_line r;
	char *l;

	proto_in_init(&in, 64);
	REQUIRE(t, proto_in_feed(&in, "{\"a\":", 5));
	CHECK(t, next_line(&in, &r) == NULL);
	CHECK_EQ(t, r, PROTO_LINE_NONE);
	REQUIRE(t, proto_in_feed(&in, "1}\n{\"b\"", 7));
	l = next_line(&in, &r);
	CHECK_STR(t, l, "{\"a\":1}");
	CHECK(t, next_line(&in, &r) == NULL);
	REQUIRE(t, proto_in_feed(&in, ":2}\n", 4));
	CHECK_STR(t, next_line(&in, &r), "{\"b\":2}");
	CHECK(t, next_line(&in, &r) == NULL);
	CHECK_EQ(t, r, PROTO_LINE_NONE);
	proto_in_free(&in);
}

static void several_lines_one_read(struct test *t)
{
	struct proto_in in;
	enum proto_line r;
	const char *rest;

	proto_in_init(&in, 64);
	REQUIRE(t, proto_in_feed(&in, "one\ntwo\r\n\nthree\nraw", 19));
	CHECK_STR(t, next_line(&in, &r), "one");
	CHECK_STR(t, next_line(&in, &r), "two\r");
	CHECK_STR(t, next_line(&in, &r), "");
	CHECK_STR(t, next_line(&in, &r), "three");
	CHECK(t, next_line(&in, &r) == NULL);
	/* What follows the last line is there for a switch to raw mode. */
	CHECK_EQ(t, proto_in_pending(&in, &rest), 3);
	CHECK(t, memcmp(rest, "raw", 3) == 0);
	proto_in_drop(&in, 2);
	CHECK_EQ(t, proto_in_pending(&in, &rest), 1);
	CHECK(t, rest[0] == 'w');
	proto_in_free(&in);
}

static void oversize_line_rejected(struct test *t)
{
	struct proto_in in;
	enum proto_line r;
	char big[100];

	memset(big, 'x', sizeof(big));
	proto_in_init(&in, 16);
	/* Exactly max bytes is fine. */
	REQUIRE(t, proto_in_feed(&in, big, 16));
	REQUIRE(t, proto_in_feed(&in, "\n", 1));
	CHECK(t, next_line(&in, &r) != NULL);
	/* Too long, no newline yet: reported once, then skipped to the newline. */
	REQUIRE(t, proto_in_feed(&in, big, 40));
	CHECK(t, next_line(&in, &r) == NULL);
	CHECK_EQ(t, r, PROTO_LINE_TOOBIG);
	REQUIRE(t, proto_in_feed(&in, big, 40));
	CHECK(t, next_line(&in, &r) == NULL);
	CHECK_EQ(t, r, PROTO_LINE_NONE);
	CHECK(t, in.len < 64); /* the junk is not kept */
	REQUIRE(t, proto_in_feed(&in, "xx\nok\n", 6));
	CHECK_STR(t, next_line(&in, &r), "ok");
	/* Too long but complete in one buffer. */
	REQUIRE(t, proto_in_feed(&in, big, 17));
	REQUIRE(t, proto_in_feed(&in, "\nfine\n", 6));
	CHECK(t, next_line(&in, &r) == NULL);
	CHECK_EQ(t, r, PROTO_LINE_TOOBIG);
	CHECK_STR(t, next_line(&in, &r), "fine");
	proto_in_free(&in);
}

static void embedded_nul(struct test *t)
{
	struct proto_in in;
	struct proto_msg m;
	char *line;
	size_t len;
	char why[128];
	static const char msg[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\0b\"}\n";

	proto_in_init(&in, 1024);
	REQUIRE(t, proto_in_feed(&in, msg, sizeof(msg) - 1));
	REQUIRE(t, proto_in_next(&in, &line, &len) == PROTO_LINE_OK);
	CHECK_EQ(t, len, sizeof(msg) - 2);
	CHECK_EQ(t, proto_parse(line, len, &m, why, sizeof(why)), PROTO_ERR_PARSE);
	CHECK(t, strstr(why, "NUL") != NULL);
	proto_msg_free(&m);
	proto_in_free(&in);
}

static void fd_reads_and_writes(struct test *t)
{
	int sv[2];
	struct proto_in in;
	struct proto_out out;
	struct json_object *msg;
	enum proto_line r;
	char *l;
	size_t sent = 0;

	REQUIRE(t, socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	REQUIRE(t, fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	REQUIRE(t, fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	proto_in_init(&in, PROTO_MAX_MSG);
	proto_out_init(&out, 8 << 20);
	CHECK_EQ(t, proto_in_fill(&in, sv[1]), PROTO_IO_AGAIN);

	msg = proto_request(7, "status", NULL);
	REQUIRE(t, msg);
	/* Queue far more than the socket buffer takes: the flush must stop
	 * with AGAIN and resume where it left off. */
	while (proto_out_queued(&out) < (4u << 20))
		REQUIRE(t, proto_out_send(&out, msg));
	json_object_put(msg);
	CHECK_EQ(t, proto_out_flush(&out, sv[0]), PROTO_IO_AGAIN);
	for (;;) {
		enum proto_io w = proto_out_flush(&out, sv[0]);
		enum proto_io rd = proto_in_fill(&in, sv[1]);

		CHECK(t, rd == PROTO_IO_OK || rd == PROTO_IO_AGAIN);
		while ((l = next_line(&in, &r)) != NULL) {
			if (strcmp(l, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"status\"}") != 0) {
				CHECK(t, !"garbled line");
				goto out;
			}
			sent++;
		}
		if (w == PROTO_IO_OK && rd == PROTO_IO_AGAIN)
			break;
	}
	CHECK(t, sent > 10000);
	CHECK_EQ(t, proto_out_queued(&out), 0);
	close(sv[0]);
	CHECK_EQ(t, proto_in_fill(&in, sv[1]), PROTO_IO_CLOSED);
	/* Writing to a closed peer reports CLOSED, not SIGPIPE. */
	REQUIRE(t, proto_out_push(&out, "x\n", 2));
	CHECK_EQ(t, proto_out_flush(&out, sv[1]), PROTO_IO_CLOSED);
out:
	close(sv[1]);
	proto_in_free(&in);
	proto_out_free(&out);
}

static void output_queue_bounded(struct test *t)
{
	struct proto_out out;
	struct json_object *msg;

	proto_out_init(&out, 100);
	CHECK(t, proto_out_push(&out, "0123456789", 10));
	msg = proto_notification("event", json_object_new_string(
		"a long payload that will not fit in the little queue at all, definitely not"));
	REQUIRE(t, msg);
	/* Refused whole, never half a line. */
	CHECK(t, !proto_out_send(&out, msg));
	CHECK_EQ(t, proto_out_queued(&out), 10);
	json_object_put(msg);
	{
		char fill[90];
		memset(fill, 'x', sizeof(fill));
		CHECK(t, proto_out_push(&out, fill, sizeof(fill)));
	}
	CHECK(t, !proto_out_push(&out, "x", 1));
	proto_out_free(&out);
}

/* Parses s, expects code, and that the why mentions needle. */
static void expect_bad(struct test *t, const char *s, int code, const char *needle, bool has_id)
{
	struct proto_msg m;
	char why[256];
	int r = proto_parse(s, strlen(s), &m, why, sizeof(why));

	if (r != code)
		test_fail(t, __FILE__, __LINE__, "%s: got %d, want %d (%s)", s, r, code, why);
	else if (needle && !strstr(why, needle))
		test_fail(t, __FILE__, __LINE__, "%s: why \"%s\" lacks \"%s\"", s, why, needle);
	else if (has_id != m.has_id)
		test_fail(t, __FILE__, __LINE__, "%s: id %s", s, m.id ? "found" : "missing");
	proto_msg_free(&m);
}

static void validation_errors(struct test *t)
{
	expect_bad(t, "", PROTO_ERR_PARSE, NULL, false);
	expect_bad(t, "{", PROTO_ERR_PARSE, "incomplete", false);
	expect_bad(t, "{\"a\":}", PROTO_ERR_PARSE, NULL, false);
	expect_bad(t, "null", PROTO_ERR_PARSE, NULL, false);
	expect_bad(t, "{} {}", PROTO_ERR_PARSE, "trailing", false);
	expect_bad(t, "[1,2]", PROTO_ERR_INVALID_REQUEST, "object", false);
	expect_bad(t, "\"hello\"", PROTO_ERR_INVALID_REQUEST, "object", false);
	expect_bad(t, "{\"id\":1,\"method\":\"x\"}", PROTO_ERR_INVALID_REQUEST, "jsonrpc", true);
	expect_bad(t, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}",
		   PROTO_ERR_INVALID_REQUEST, "jsonrpc", true);
	expect_bad(t, "{\"jsonrpc\":2.0,\"id\":1,\"method\":\"x\"}",
		   PROTO_ERR_INVALID_REQUEST, "jsonrpc", true);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}",
		   PROTO_ERR_INVALID_REQUEST, "'id'", false);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}",
		   PROTO_ERR_INVALID_REQUEST, "'id'", false);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":1}", PROTO_ERR_INVALID_REQUEST, "exactly one", true);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"result\":1}",
		   PROTO_ERR_INVALID_REQUEST, "exactly one", true);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
		   PROTO_ERR_INVALID_REQUEST, "'method'", true);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}",
		   PROTO_ERR_INVALID_REQUEST, "'method'", true);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[1]}",
		   PROTO_ERR_INVALID_REQUEST, "'params'", true);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":\"s\"}",
		   PROTO_ERR_INVALID_REQUEST, "'params'", true);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"result\":1}", PROTO_ERR_INVALID_REQUEST, "'id'", false);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":5}", PROTO_ERR_INVALID_REQUEST,
		   "'error'", true);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"m\"}}",
		   PROTO_ERR_INVALID_REQUEST, "'error'", true);
	expect_bad(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1}}",
		   PROTO_ERR_INVALID_REQUEST, "'error'", true);
}

static void deep_nesting_refused(struct test *t)
{
	char s[4096];
	size_t i;

	for (i = 0; i < 2000; i++)
		s[i] = '[';
	s[i] = '\0';
	expect_bad(t, s, PROTO_ERR_PARSE, NULL, false);
}

static struct json_object *reparse(struct test *t, struct json_object *msg, struct proto_msg *m)
{
	const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	char why[128];
	int r = proto_parse(s, strlen(s), m, why, sizeof(why));

	if (r != 0)
		test_fail(t, __FILE__, __LINE__, "%s: %d %s", s, r, why);
	json_object_put(msg);
	return r == 0 ? m->root : NULL;
}

static void round_trips(struct test *t)
{
	struct proto_msg m;
	struct json_object *p, *id;
	const char *name = NULL;
	int64_t mem = 0;
	bool force = false;
	char why[128];

	p = json_object_new_object();
	json_object_object_add(p, "name", json_object_new_string("web"));
	json_object_object_add(p, "memory", json_object_new_int64(256ll << 20));
	json_object_object_add(p, "force", json_object_new_boolean(1));
	REQUIRE(t, reparse(t, proto_request(42, "start", p), &m));
	CHECK_EQ(t, m.kind, PROTO_REQUEST);
	CHECK_STR(t, m.method, "start");
	CHECK_EQ(t, json_object_get_int64(m.id), 42);
	CHECK_EQ(t, proto_param_str(m.params, "name", true, &name, why, sizeof(why)), 0);
	CHECK_STR(t, name, "web");
	CHECK_EQ(t, proto_param_int(m.params, "memory", true, &mem, why, sizeof(why)), 0);
	CHECK_EQ(t, mem, 256ll << 20);
	CHECK_EQ(t, proto_param_bool(m.params, "force", false, &force, why, sizeof(why)), 0);
	CHECK(t, force);

	/* A result answers with the same id. */
	id = json_object_get(m.id);
	proto_msg_free(&m);
	REQUIRE(t, reparse(t, proto_result(id, json_object_new_string("ok")), &m));
	CHECK_EQ(t, m.kind, PROTO_RESULT);
	CHECK_EQ(t, json_object_get_int64(m.id), 42);
	CHECK_STR(t, json_object_get_string(m.result), "ok");
	proto_msg_free(&m);

	/* An error, with data, and with a null id. */
	REQUIRE(t, reparse(t, proto_error(id, PROTO_ERR_NO_SUCH_VM, NULL,
					  json_object_new_string("web")), &m));
	CHECK_EQ(t, m.kind, PROTO_ERROR);
	CHECK_EQ(t, m.code, PROTO_ERR_NO_SUCH_VM);
	CHECK_STR(t, m.message, "no such vm");
	CHECK_STR(t, json_object_get_string(m.data), "web");
	proto_msg_free(&m);
	REQUIRE(t, reparse(t, proto_errorf(NULL, PROTO_ERR_PARSE, "bad at %d", 3), &m));
	CHECK_EQ(t, m.kind, PROTO_ERROR);
	CHECK(t, json_object_is_type(m.id, json_type_null));
	CHECK_STR(t, m.message, "bad at 3");
	proto_msg_free(&m);
	json_object_put(id);

	/* A notification has no id; a string id is kept as a string. */
	REQUIRE(t, reparse(t, proto_notification("state", NULL), &m));
	CHECK_EQ(t, m.kind, PROTO_NOTIFICATION);
	CHECK(t, !m.has_id);
	CHECK(t, m.params == NULL);
	proto_msg_free(&m);
	{
		const char *s = "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"result\":null}";
		CHECK_EQ(t, proto_parse(s, strlen(s), &m, why, sizeof(why)), 0);
		CHECK_EQ(t, m.kind, PROTO_RESULT);
		CHECK_STR(t, json_object_get_string(m.id), "abc");
		proto_msg_free(&m);
	}
}

static void param_errors(struct test *t)
{
	struct json_object *p = json_tokener_parse(
		"{\"s\":1,\"i\":\"x\",\"b\":0,\"v\":[\"a\",2],\"ok\":[\"a\",\"b\"]}");
	const char *s = "untouched";
	int64_t i = 5;
	bool b = true;
	struct json_object *v = NULL;
	char why[128];

	REQUIRE(t, p);
	CHECK_EQ(t, proto_param_str(p, "s", true, &s, why, sizeof(why)), -1);
	CHECK_STR(t, why, "parameter 's' must be a string");
	CHECK_EQ(t, proto_param_int(p, "i", true, &i, why, sizeof(why)), -1);
	CHECK_STR(t, why, "parameter 'i' must be an integer");
	CHECK_EQ(t, proto_param_bool(p, "b", false, &b, why, sizeof(why)), -1);
	CHECK_EQ(t, proto_param_strv(p, "v", false, &v, why, sizeof(why)), -1);
	CHECK_EQ(t, proto_param_strv(p, "ok", false, &v, why, sizeof(why)), 0);
	CHECK_EQ(t, json_object_array_length(v), 2);
	CHECK_EQ(t, proto_param_str(p, "missing", false, &s, why, sizeof(why)), 1);
	CHECK_STR(t, s, "untouched");
	CHECK_EQ(t, proto_param_str(p, "missing", true, &s, why, sizeof(why)), -1);
	CHECK_STR(t, why, "missing parameter 'missing'");
	CHECK_EQ(t, proto_param_int(NULL, "x", false, &i, why, sizeof(why)), 1);
	CHECK_EQ(t, i, 5);
	CHECK(t, b);
	json_object_put(p);
}

static void error_strings(struct test *t)
{
	CHECK_STR(t, proto_strerror(PROTO_ERR_METHOD_NOT_FOUND), "method not found");
	CHECK_STR(t, proto_strerror(PROTO_ERR_WRONG_STATE), "wrong state for this request");
	CHECK_STR(t, proto_strerror(PROTO_ERR_PERMISSION), "permission denied");
	CHECK_STR(t, proto_strerror(12345), "unknown error");
}

/* Mutated messages through the line splitter and the parser: whatever the
 * bytes, they must come back as a message or a clean error (ASan watches). */
static void fuzz_messages(struct test *t)
{
	static const char *const seeds[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"start\",\"params\":{\"name\":\"a\",\"wait\":true}}\n",
		"{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32000,\"message\":\"m\",\"data\":[1,2]}}\n",
		"{\"jsonrpc\":\"2.0\",\"method\":\"state\",\"params\":{\"state\":\"running\"}}\n",
	};
	uint32_t rng = 12345;
	char buf[512], why[128], *line;
	size_t len, n, k;
	int i, j, parsed = 0, refused = 0;
	struct proto_in in;
	struct proto_msg m;

	proto_in_init(&in, 256);
	for (i = 0; i < 20000; i++) {
		const char *seed = seeds[i % 3];
		n = strlen(seed);
		memcpy(buf, seed, n);
		for (j = 0; j < 1 + i % 8; j++) {
			rng = rng * 1103515245u + 12345u;
			k = (rng >> 8) % n;
			switch ((rng >> 4) % 4) {
			case 0: buf[k] = (char)(rng >> 16); break;                 /* flip a byte */
			case 1: if (n > 1) { memmove(buf + k, buf + k + 1, n - k - 1); n--; } break; /* drop */
			case 2: if (n < sizeof(buf) - 1) { memmove(buf + k + 1, buf + k, n - k); n++; } break; /* dup */
			default: buf[k] = "{}[]\":,\\\n0"[(rng >> 16) % 11]; break; /* structure */
			}
		}
		REQUIRE(t, proto_in_feed(&in, buf, n));
		for (;;) {
			enum proto_line r = proto_in_next(&in, &line, &len);
			if (r == PROTO_LINE_NONE)
				break;
			if (r != PROTO_LINE_OK)
				continue;
			if (proto_parse(line, len, &m, why, sizeof(why)) == 0) {
				parsed++;
				CHECK(t, m.kind != PROTO_REQUEST || m.method);
			} else {
				refused++;
				CHECK(t, why[0] != '\0');
			}
			proto_msg_free(&m);
		}
	}
	proto_in_free(&in);
	/* Both outcomes were exercised, or the mutations were pointless. */
	CHECK(t, parsed > 100);
	CHECK(t, refused > 1000);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "proto", argc, argv);
	RUN(&h, partial_lines);
	RUN(&h, several_lines_one_read);
	RUN(&h, oversize_line_rejected);
	RUN(&h, embedded_nul);
	RUN(&h, fd_reads_and_writes);
	RUN(&h, output_queue_bounded);
	RUN(&h, validation_errors);
	RUN(&h, deep_nesting_refused);
	RUN(&h, round_trips);
	RUN(&h, param_errors);
	RUN(&h, error_strings);
	RUN(&h, fuzz_messages);
	return harness_done(&h);
}

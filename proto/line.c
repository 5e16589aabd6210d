/*
 * Line framing over a byte stream: an input buffer that hands out complete
 * lines whatever the read boundaries, and a bounded output queue for
 * partial writes. See proto.h.
 */
#include "proto/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 65536

void proto_in_init(struct proto_in *in, size_t max)
{
	memset(in, 0, sizeof(*in));
	in->max = max;
}

void proto_in_free(struct proto_in *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}

/* Moves the unconsumed bytes to the front so the buffer never creeps. */
static void compact(struct proto_in *in)
{
	if (in->start == 0)
		return;
	memmove(in->buf, in->buf + in->start, in->len - in->start);
	in->len -= in->start;
	in->start = 0;
}

static bool reserve(struct proto_in *in, size_t extra)
{
	size_t want, cap;
	char *p;

	compact(in);
	want = in->len + extra + 1; /* +1: room for the NUL proto_in_next writes */
	if (want <= in->cap)
		return true;
	cap = in->cap ? in->cap : 4096;
	while (cap < want)
		cap *= 2;
	p = realloc(in->buf, cap);
	if (!p)
		return false;
	in->buf = p;
	in->cap = cap;
	return true;
}

bool proto_in_feed(struct proto_in *in, const void *data, size_t n)
{
	if (!reserve(in, n))
		return false;
	memcpy(in->buf + in->len, data, n);
	in->len += n;
	return true;
}

enum proto_io proto_in_fill(struct proto_in *in, int fd)
{
	ssize_t n;

	if (!reserve(in, READ_CHUNK))
		return PROTO_IO_ERROR;
	do
		n = read(fd, in->buf + in->len, READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? PROTO_IO_AGAIN :
		       (errno == ECONNRESET) ? PROTO_IO_CLOSED : PROTO_IO_ERROR;
	if (n == 0)
		return PROTO_IO_CLOSED;
	in->len += (size_t)n;
	return PROTO_IO_OK;
}

enum proto_line proto_in_next(struct proto_in *in, char **line, size_t *len)
{
	char *begin, *nl;
	size_t avail;

	for (;;) {
		begin = in->buf + in->start;
		avail = in->len - in->start;
		nl = avail ? memchr(begin, '\n', avail) : NULL;
		if (in->discarding) {
			/* Drop the tail of a line already reported too big. */
			if (!nl) {
				in->start = in->len;
				compact(in);
				return PROTO_LINE_NONE;
			}
			in->start += (size_t)(nl - begin) + 1;
			in->discarding = false;
			continue;
		}
		if (!nl) {
			if (avail > in->max) {
				in->start = in->len;
				compact(in);
				in->discarding = true;
				return PROTO_LINE_TOOBIG;
			}
			return PROTO_LINE_NONE;
		}
		if ((size_t)(nl - begin) > in->max) {
			in->start += (size_t)(nl - begin) + 1;
			return PROTO_LINE_TOOBIG;
		}
		*nl = '\0';
		*line = begin;
		*len = (size_t)(nl - begin);
		in->start += *len + 1;
		return PROTO_LINE_OK;
	}
}

size_t proto_in_pending(const struct proto_in *in, const char **data)
{
	*data = in->buf ? in->buf + in->start : NULL;
	return in->len - in->start;
}

void proto_in_drop(struct proto_in *in, size_t n)
{
	size_t avail = in->len - in->start;

	in->start += n < avail ? n : avail;
	compact(in);
}

void proto_out_init(struct proto_out *out, size_t max)
{
	memset(out, 0, sizeof(*out));
	out->max = max;
}

void proto_out_free(struct proto_out *out)
{
	free(out->buf);
	memset(out, 0, sizeof(*out));
}

size_t proto_out_queued(const struct proto_out *out)
{
	return out->len - out->off;
}

bool proto_out_push(struct proto_out *out, const void *data, size_t n)
{
	size_t cap;
	char *p;

	if (proto_out_queued(out) + n > out->max)
		return false;
	if (out->off) {
		memmove(out->buf, out->buf + out->off, out->len - out->off);
		out->len -= out->off;
		out->off = 0;
	}
	if (out->len + n > out->cap) {
		cap = out->cap ? out->cap : 4096;
		while (cap < out->len + n)
			cap *= 2;
		p = realloc(out->buf, cap);
		if (!p)
			return false;
		out->buf = p;
		out->cap = cap;
	}
	memcpy(out->buf + out->len, data, n);
	out->len += n;
	return true;
}

bool proto_out_send(struct proto_out *out, struct json_object *msg)
{
	size_t n;
	const char *s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &n);

	if (!s)
		return false;
	/* The line and its newline go in together or not at all. */
	if (proto_out_queued(out) + n + 1 > out->max)
		return false;
	return proto_out_push(out, s, n) && proto_out_push(out, "\n", 1);
}

enum proto_io proto_out_flush(struct proto_out *out, int fd)
{
	ssize_t n;

	while (out->off < out->len) {
		/* send(MSG_NOSIGNAL) so a vanished peer is EPIPE, not SIGPIPE;
		 * fall back to write() for pipes and other non-sockets. */
		n = send(fd, out->buf + out->off, out->len - out->off, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, out->buf + out->off, out->len - out->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return PROTO_IO_AGAIN;
			if (errno == EPIPE || errno == ECONNRESET)
				return PROTO_IO_CLOSED;
			return PROTO_IO_ERROR;
		}
		out->off += (size_t)n;
	}
	out->off = out->len = 0;
	return PROTO_IO_OK;
}

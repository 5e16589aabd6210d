/*
 * Line framing over a byte stream: an input buffer that hands out complete
 * lines whatever the read boundaries, and a bounded output queue for
 * partial writes. See proto.h.
 */
#include "proto/proto.h"

#include <errno.h>
#include <stdint.h>
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

/* Both buffers: moves the bytes from *FIRST to *LEN to the front, so a
 * buffer that is read as it is written never creeps. */
static void move_to_front(char *buf, size_t *len, size_t *first)
{
	if (*first == 0)
		return;
	memmove(buf, buf + *first, *len - *first);
	*len -= *first;
	*first = 0;
}

/* Both buffers: room for WANT bytes, doubling from 4 KiB so that appends
 * cost amortised O(1). */
static bool grow(char **buf, size_t *cap, size_t want)
{
	size_t n;
	char *p;

	if (want <= *cap)
		return true;
	n = *cap ? *cap : 4096;
	while (n < want) {
		if (n > SIZE_MAX / 2)
			return false;
		n *= 2;
	}
	p = realloc(*buf, n);
	if (!p)
		return false;
	*buf = p;
	*cap = n;
	return true;
}

static void compact(struct proto_in *in)
{
	move_to_front(in->buf, &in->len, &in->start);
}

static bool reserve(struct proto_in *in, size_t extra)
{
	compact(in);
	/* +1: room for the NUL proto_in_next writes */
	return grow(&in->buf, &in->cap, in->len + extra + 1);
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
	if (proto_out_queued(out) + n > out->max)
		return false;
	move_to_front(out->buf, &out->len, &out->off);
	if (!grow(&out->buf, &out->cap, out->len + n))
		return false;
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

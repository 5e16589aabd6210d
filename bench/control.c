/*
 * Control-plane benchmark client (run by hand through bench/control.sh).
 *   control latency SOCKET VM CLIENTS REQUESTS [METHOD]
 *       CLIENTS processes each send REQUESTS `status VM` (or METHOD: list)
 *       requests one after the other; prints the latency distribution.
 *       status of a running guest asks the guest process too; list does not.
 *   control firstbyte SOCKET VM
 *       starts VM without waiting, attaches to its console and prints the
 *       time from the start request to the first console byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int dial(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "control: connect %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* Sends one request and reads lines until its answer; false on an error answer. */
static bool rpc(int fd, struct proto_in *in, int64_t id, const char *method, const char *vm, bool *ok)
{
	struct json_object *p = json_object_new_object(), *msg;
	struct proto_out out;
	struct proto_msg m;
	char *line, why[128];
	size_t len;

	if (strcmp(method, "list") != 0)
		json_object_object_add(p, "name", json_object_new_string(vm));
	if (strcmp(method, "start") == 0)
		json_object_object_add(p, "wait", json_object_new_boolean(0));
	msg = proto_request(id, method, p);
	proto_out_init(&out, 1 << 20);
	if (!proto_out_send(&out, msg) || proto_out_flush(&out, fd) != PROTO_IO_OK)
		return false;
	json_object_put(msg);
	proto_out_free(&out);
	for (;;) {
		enum proto_line r = proto_in_next(in, &line, &len);
		if (r == PROTO_LINE_NONE) {
			if (proto_in_fill(in, fd) != PROTO_IO_OK)
				return false;
			continue;
		}
		if (r != PROTO_LINE_OK || proto_parse(line, len, &m, why, sizeof(why)) != 0)
			return false;
		if (m.has_id && json_object_get_int64(m.id) == id) {
			*ok = m.kind == PROTO_RESULT;
			if (!*ok)
				fprintf(stderr, "control: %s: %s\n", method, m.message);
			proto_msg_free(&m);
			return true;
		}
		proto_msg_free(&m);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int latency(const char *sock, const char *vm, int clients, int requests, const char *method)
{
	int pipes[2], i, j, status, failed = 0;
	size_t n = (size_t)clients * (size_t)requests, got = 0;
	double *all = calloc(n, sizeof(double)), t0, wall, sum = 0;

	if (!all || pipe(pipes) < 0)
		return 1;
	t0 = now_us();
	for (i = 0; i < clients; i++) {
		if (fork() == 0) {
			struct proto_in in;
			int fd = dial(sock);
			double *mine = calloc((size_t)requests, sizeof(double));
			bool ok;

			proto_in_init(&in, PROTO_MAX_MSG);
			for (j = 0; j < requests; j++) {
				double t = now_us();
				if (!rpc(fd, &in, j + 1, method, vm, &ok) || !ok)
					_exit(1);
				mine[j] = now_us() - t;
			}
			if (write(pipes[1], mine, (size_t)requests * sizeof(double)) < 0)
				_exit(1);
			_exit(0);
		}
	}
	close(pipes[1]);
	while (got < n * sizeof(double)) {
		ssize_t r = read(pipes[0], (char *)all + got, n * sizeof(double) - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	for (i = 0; i < clients; i++) {
		wait(&status);
		failed += !WIFEXITED(status) || WEXITSTATUS(status);
	}
	wall = now_us() - t0;
	n = got / sizeof(double);
	if (!n)
		return 1;
	qsort(all, n, sizeof(double), cmp);
	for (i = 0; i < (int)n; i++)
		sum += all[i];
	printf("%s latency, %d client%s x %d requests: mean %.0f us, p50 %.0f us, p99 %.0f us, "
	       "max %.0f us; %.0f requests/s%s\n", method, clients, clients == 1 ? "" : "s", requests,
	       sum / (double)n, all[n / 2], all[n * 99 / 100], all[n - 1], (double)n / (wall / 1e6),
	       failed ? " (some clients failed)" : "");
	free(all);
	return failed != 0;
}

static int firstbyte(const char *sock, const char *vm)
{
	struct proto_in in;
	int fd = dial(sock), cfd;
	double t0;
	bool ok;
	char c;
	const char *pending;

	proto_in_init(&in, PROTO_MAX_MSG);
	t0 = now_us();
	if (!rpc(fd, &in, 1, "start", vm, &ok) || !ok)
		return 1;
	cfd = dial(sock);
	proto_in_free(&in);
	proto_in_init(&in, PROTO_MAX_MSG);
	if (!rpc(cfd, &in, 1, "console", vm, &ok) || !ok)
		return 1;
	if (proto_in_pending(&in, &pending) == 0 && read(cfd, &c, 1) != 1)
		return 1;
	printf("start to first console byte: %.1f ms\n", (now_us() - t0) / 1e3);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "latency") == 0)
		return latency(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]),
			       argc == 7 ? argv[6] : "status");
	if (argc == 4 && strcmp(argv[1], "firstbyte") == 0)
		return firstbyte(argv[2], argv[3]);
	fprintf(stderr, "usage: control latency SOCKET VM CLIENTS REQUESTS [status|list] | firstbyte SOCKET VM\n");
	return 2;
}

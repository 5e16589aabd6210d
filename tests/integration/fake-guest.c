/*
 * A guest-process double speaking vmd-guest's contract (proto/PROTOCOL.md,
 * "The guest process"), for the failure-injection cases a real guest
 * cannot produce on demand: a guest that ignores powerdown or quit, never
 * answers, crashes, exits with a configuration error or a debug-exit code.
 * The behaviour is chosen per guest through its command line (-a), as
 * space-separated words:
 *   ignore-powerdown  ignore-quit  no-answer  mute-after=MS  crash-after=MS
 *   exit-on-start=N   debug-exit-after=MS:N   reboot-after=MS
 *   spam-stderr=N     write N lines on stderr at start (log flooding), each
 *                     with an escape sequence (log sanitizing)
 *   count-console     read the console slowly (16 KiB per 10 ms) without
 *                     echoing; status reports the bytes in "console_bytes"
 * Without any, it behaves: answers, powers off on powerdown, quits on quit.
 * Its console prints a banner, then echoes each line it receives as
 * "echo: LINE".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto.h"

struct fake {
	const char *name;
	int ctl, con;
	struct proto_in in, con_in;
	struct proto_out out;
	bool paused, ignore_powerdown, ignore_quit, no_answer;
	long crash_after_ms, debug_exit_after_ms, reboot_after_ms, mute_after_ms;
	int debug_exit_code;
	bool count_console;
	long long console_bytes;
	struct timespec t0;
	long long insns;
};

static long elapsed_ms(const struct fake *f)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - f->t0.tv_sec) * 1000 + (now.tv_nsec - f->t0.tv_nsec) / 1000000;
}

static void flush_all(struct fake *f)
{
	struct pollfd p = { f->ctl, POLLOUT, 0 };

	while (proto_out_queued(&f->out)) {
		if (proto_out_flush(&f->out, f->ctl) == PROTO_IO_AGAIN) {
			if (poll(&p, 1, 1000) <= 0)
				return;
		} else if (proto_out_queued(&f->out)) {
			return;
		}
	}
}

static void send_msg(struct fake *f, struct json_object *msg)
{
	if (msg && !proto_out_send(&f->out, msg))
		fprintf(stderr, "fake-guest: output queue full\n");
	json_object_put(msg);
	flush_all(f);
}

static void con_write(struct fake *f, const char *s)
{
	size_t n = strlen(s);
	ssize_t w;

	while (n) {
		w = write(f->con, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static const char *state(const struct fake *f)
{
	return f->paused ? "paused" : "running";
}

static void notify_state(struct fake *f)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "state", json_object_new_string(state(f)));
	send_msg(f, proto_notification("state", p));
}

static void shutdown_exit(struct fake *f, const char *reason, int code)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "reason", json_object_new_string(reason));
	json_object_object_add(p, "code", json_object_new_int(code));
	send_msg(f, proto_notification("shutdown", p));
	exit(code);
}

static struct json_object *status(struct fake *f)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "state", json_object_new_string(state(f)));
	json_object_object_add(r, "insns", json_object_new_int64(f->insns));
	json_object_object_add(r, "uptime_ns", json_object_new_int64((int64_t)elapsed_ms(f) * 1000000));
	if (f->count_console)
		json_object_object_add(r, "console_bytes", json_object_new_int64(f->console_bytes));
	return r;
}

static void handle(struct fake *f, struct proto_msg *m)
{
	struct json_object *id = m->id;

	if (m->kind != PROTO_REQUEST)
		return;
	if (f->no_answer || (f->mute_after_ms >= 0 && elapsed_ms(f) >= f->mute_after_ms))
		return;
	if (strcmp(m->method, "status") == 0) {
		send_msg(f, proto_result(id, status(f)));
	} else if (strcmp(m->method, "pause") == 0) {
		f->paused = true;
		send_msg(f, proto_result(id, status(f)));
		notify_state(f);
	} else if (strcmp(m->method, "resume") == 0) {
		f->paused = false;
		send_msg(f, proto_result(id, status(f)));
		notify_state(f);
	} else if (strcmp(m->method, "reset") == 0) {
		send_msg(f, proto_result(id, status(f)));
		con_write(f, "fake-guest: reset\r\n");
	} else if (strcmp(m->method, "powerdown") == 0) {
		send_msg(f, proto_result(id, json_object_new_object()));
		if (!f->ignore_powerdown) {
			con_write(f, "fake-guest: powering off\r\n");
			shutdown_exit(f, "poweroff", 0);
		}
	} else if (strcmp(m->method, "quit") == 0) {
		send_msg(f, proto_result(id, json_object_new_object()));
		if (!f->ignore_quit)
			exit(0);
	} else {
		send_msg(f, proto_error(id, PROTO_ERR_METHOD_NOT_FOUND, NULL, NULL));
	}
}

static void behaviours(struct fake *f, const char *cmdline, int *exit_on_start, long *spam)
{
	char buf[1024], *w, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", cmdline);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (strcmp(w, "ignore-powerdown") == 0)
			f->ignore_powerdown = true;
		else if (strcmp(w, "ignore-quit") == 0)
			f->ignore_quit = true;
		else if (strcmp(w, "no-answer") == 0)
			f->no_answer = true;
		else if (strcmp(w, "count-console") == 0)
			f->count_console = true;
		else if (sscanf(w, "crash-after=%ld", &f->crash_after_ms) == 1 ||
			 sscanf(w, "exit-on-start=%d", exit_on_start) == 1 ||
			 sscanf(w, "debug-exit-after=%ld:%d", &f->debug_exit_after_ms,
				&f->debug_exit_code) == 2 ||
			 sscanf(w, "reboot-after=%ld", &f->reboot_after_ms) == 1 ||
			 sscanf(w, "spam-stderr=%ld", spam) == 1 ||
			 sscanf(w, "mute-after=%ld", &f->mute_after_ms) == 1)
			continue;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'N' },
		{ "control-fd", required_argument, NULL, 'C' },
		{ "console-fd", required_argument, NULL, 'S' },
		{ "disk", required_argument, NULL, 'D' },
		{ "vnc", required_argument, NULL, 'V' },
		{ "vnc-password-file", required_argument, NULL, 'P' },
		{ "net", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fake f;
	const char *kernel = NULL, *cmdline = "", *mem = NULL;
	int ch, exit_on_start = -1;
	long spam = 0, i;
	char why[256], *line;
	size_t len;

	memset(&f, 0, sizeof(f));
	f.ctl = f.con = -1;
	f.crash_after_ms = f.debug_exit_after_ms = f.reboot_after_ms = f.mute_after_ms = -1;
	while ((ch = getopt_long(argc, argv, "m:k:i:a:b:", opts, NULL)) != -1) {
		switch (ch) {
		case 'N': f.name = optarg; break;
		case 'C': f.ctl = atoi(optarg); break;
		case 'S': f.con = atoi(optarg); break;
		case 'm': mem = optarg; break;
		case 'k': kernel = optarg; break;
		case 'a': cmdline = optarg; break;
		case 'i': case 'b': case 'D': case 'V': case 'P': case 'T': break;
		case 'h':
			printf("usage: fake-guest --name N --control-fd FD --console-fd FD -m MEM [...]\n");
			return 0;
		default:
			fprintf(stderr, "fake-guest: unknown option\n");
			return 2;
		}
	}
	if (!f.name || f.ctl < 0 || f.con < 0 || !mem || optind != argc) {
		fprintf(stderr, "fake-guest: --name, --control-fd, --console-fd and -m are required\n");
		return 2;
	}
	if (kernel && access(kernel, R_OK) < 0) {
		fprintf(stderr, "fake-guest: cannot read kernel %s: %s\n", kernel, strerror(errno));
		return 2;
	}
	behaviours(&f, cmdline, &exit_on_start, &spam);
	for (i = 0; i < spam; i++)
		fprintf(stderr, "fake-guest: \033[31mnoise line %ld\n", i);
	if (exit_on_start >= 0) {
		fprintf(stderr, "fake-guest: exiting with %d as asked\n", exit_on_start);
		return exit_on_start;
	}
	fcntl(f.ctl, F_SETFL, O_NONBLOCK);
	clock_gettime(CLOCK_MONOTONIC, &f.t0);
	proto_in_init(&f.in, PROTO_MAX_MSG);
	proto_in_init(&f.con_in, 4096);
	proto_out_init(&f.out, 1 << 20);
	fprintf(stderr, "fake-guest %s: booting with %s\n", f.name, mem);
	{
		char banner[256];
		snprintf(banner, sizeof(banner), "fake-guest %s booted\r\n", f.name);
		con_write(&f, banner);
	}
	notify_state(&f);
	for (;;) {
		struct pollfd p[2] = { { f.ctl, POLLIN, 0 }, { f.con, POLLIN, 0 } };
		int r = poll(p, 2, 20);
		long t = elapsed_ms(&f);

		if (!f.paused)
			f.insns += 1000;
		if (f.crash_after_ms >= 0 && t >= f.crash_after_ms)
			raise(SIGSEGV);
		if (f.debug_exit_after_ms >= 0 && t >= f.debug_exit_after_ms)
			shutdown_exit(&f, "debug-exit", f.debug_exit_code);
		if (f.reboot_after_ms >= 0 && t >= f.reboot_after_ms)
			shutdown_exit(&f, "reset", 0);
		if (r <= 0)
			continue;
		if (p[0].revents) {
			enum proto_io io = proto_in_fill(&f.in, f.ctl);
			enum proto_line l;
			while ((l = proto_in_next(&f.in, &line, &len)) != PROTO_LINE_NONE) {
				struct proto_msg m;
				if (l != PROTO_LINE_OK)
					continue;
				if (proto_parse(line, len, &m, why, sizeof(why)) == 0)
					handle(&f, &m);
				proto_msg_free(&m);
			}
			if (io == PROTO_IO_CLOSED || io == PROTO_IO_ERROR) {
				fprintf(stderr, "fake-guest %s: control channel closed\n", f.name);
				return 1;
			}
		}
		if (p[1].revents && f.count_console) {
			char sink[16384];
			ssize_t n = read(f.con, sink, sizeof(sink));
			if (n > 0)
				f.console_bytes += n;
			usleep(10000);
		} else if (p[1].revents) {
			enum proto_io io = proto_in_fill(&f.con_in, f.con);
			enum proto_line l;
			while ((l = proto_in_next(&f.con_in, &line, &len)) != PROTO_LINE_NONE) {
				char out[4200];
				if (l != PROTO_LINE_OK)
					continue;
				if (len && line[len - 1] == '\r')
					line[--len] = '\0';
				snprintf(out, sizeof(out), "echo: %s\r\n", line);
				con_write(&f, out);
			}
			if (io == PROTO_IO_CLOSED)
				p[1].fd = -1, f.con = -1;
		}
	}
}

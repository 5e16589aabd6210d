/*
 * Guest process supervision: one vmd-guest process per running guest,
 * started with fork/exec; fd 3 carries the control protocol, fd 4 the
 * first serial port, and its stderr comes back through a pipe into vmd's
 * log. SIGCHLD (a libevent signal event) reaps it and maps the exit into
 * the guest's state. The contract is in proto/PROTOCOL.md.
 */
#include "daemon/vmd.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"

#define MAX_ARGS 96

static void ctl_read_cb(evutil_socket_t fd, short what, void *arg);
static void ctl_write_cb(evutil_socket_t fd, short what, void *arg);
static void err_read_cb(evutil_socket_t fd, short what, void *arg);

struct argv_builder {
	char *v[MAX_ARGS + 1];
	int n;
	bool overflow;
};

static void arg(struct argv_builder *a, const char *s)
{
	if (a->n >= MAX_ARGS || !s) {
		a->overflow = true;
		return;
	}
	a->v[a->n] = strdup(s);
	if (!a->v[a->n])
		a->overflow = true;
	else
		a->n++;
}

static void argv_free(struct argv_builder *a)
{
	int i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
}

static void build_argv(struct vm *vm, struct argv_builder *a)
{
	const struct vm_config *c = vm->cfg;
	char buf[1024];
	size_t i, j, n;

	arg(a, vm->vmd->guest_binary);
	arg(a, "--name");
	arg(a, c->name);
	arg(a, "--control-fd");
	arg(a, "3");
	arg(a, "--console-fd");
	arg(a, "4");
	arg(a, "-m");
	snprintf(buf, sizeof(buf), "%lluM", (unsigned long long)(c->memory >> 20));
	arg(a, buf);
	if (c->kernel) {
		arg(a, "-k");
		arg(a, c->kernel);
	}
	if (c->initrd) {
		arg(a, "-i");
		arg(a, c->initrd);
	}
	if (c->cmdline) {
		arg(a, "-a");
		arg(a, c->cmdline);
	}
	if (c->bios) {
		arg(a, "-b");
		arg(a, c->bios);
	}
	for (i = 0; i < c->ndisk; i++) {
		arg(a, "--disk");
		arg(a, c->disk[i]);
	}
	if (c->vnc_listen) {
		arg(a, "--vnc");
		arg(a, c->vnc_listen);
	}
	if (c->vnc_password_file) {
		arg(a, "--vnc-password-file");
		arg(a, c->vnc_password_file);
	}
	for (i = 0; i < c->nnet; i++) {
		n = (size_t)snprintf(buf, sizeof(buf), "user");
		for (j = 0; j < c->net[i].nfwd && n < sizeof(buf); j++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",hostfwd=%s::%u-:%u",
					      c->net[i].fwd[j].udp ? "udp" : "tcp",
					      c->net[i].fwd[j].host_port, c->net[i].fwd[j].guest_port);
		arg(a, "--net");
		arg(a, buf);
	}
}

/* Who the guest process runs as: its owner user when it has one (so it
 * opens disks and kernels with that user's rights, not root's). */
struct run_as {
	bool drop;
	uid_t uid;
	gid_t gid;
};

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_exec(char **argv, int ctl, int con, int err, const struct run_as *who)
{
	static const char msg[] = "vmd: cannot exec the guest process\n";
	static const char drop_msg[] = "vmd: cannot switch to the guest's owner\n";
	sigset_t none;
	int fd;

	setsid();
	/* vmd ignores SIGPIPE and libevent may have blocked signals: the
	 * guest starts with the defaults. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Move the three ends above 4 first so the dup2s cannot clobber them. */
	ctl = fcntl(ctl, F_DUPFD, 10);
	con = fcntl(con, F_DUPFD, 10);
	err = fcntl(err, F_DUPFD, 10);
	if (ctl < 0 || con < 0 || err < 0)
		_exit(127);
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(err, 1) < 0 || dup2(err, 2) < 0 ||
	    dup2(ctl, 3) < 0 || dup2(con, 4) < 0)
		_exit(127);
	/* Nothing of vmd's leaks into the guest: clients, other guests.
	 * close_range is one call; the loop is for kernels before 5.9. */
	if (close_range(5, ~0u, 0) < 0)
		for (fd = 5; fd < 65536; fd++)
			close(fd);
	if (who->drop && (setgroups(0, NULL) < 0 || setgid(who->gid) < 0 || setuid(who->uid) < 0)) {
		if (write(2, drop_msg, sizeof(drop_msg) - 1) < 0)
			_exit(1);
		_exit(1);
	}
	execv(argv[0], argv);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void start_status_done(struct vm *vm, struct guest_call *call, struct proto_msg *reply,
			      const char *failure)
{
	const char *state = NULL;
	char why[128];

	if (vm->state != VM_STARTING)
		return;
	if (failure || !reply || reply->kind != PROTO_RESULT) {
		log_warn("vm %s: guest did not answer its first status: %s", vm->cfg->name,
			 failure ? failure : reply ? reply->message : "no reply");
		return; /* it may still come up: a state notification will tell */
	}
	if (json_object_is_type(reply->result, json_type_object) &&
	    proto_param_str(reply->result, "state", true, &state, why, sizeof(why)) == 0 &&
	    strcmp(state, "paused") == 0)
		vm_set_state(vm, VM_PAUSED);
	else
		vm_set_state(vm, VM_RUNNING);
}

int guest_start(struct vm *vm, char *err, size_t errlen)
{
	struct argv_builder a;
	int ctl[2] = { -1, -1 }, con[2] = { -1, -1 }, errp[2] = { -1, -1 };
	pid_t pid;
	struct vmd *d = vm->vmd;
	struct run_as who;
	bool watched;

	if (vm->pending_cfg) {
		vm_config_free(vm->cfg);
		vm->cfg = vm->pending_cfg;
		vm->pending_cfg = NULL;
		vm->needs_restart = false;
	}
	memset(&a, 0, sizeof(a));
	build_argv(vm, &a);
	if (a.overflow) {
		argv_free(&a);
		snprintf(err, errlen, "too many guest arguments");
		return -1;
	}
	if (access(d->guest_binary, X_OK) < 0) {
		snprintf(err, errlen, "guest binary %s: %s", d->guest_binary, strerror(errno));
		argv_free(&a);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0 ||
	    pipe2(errp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto fail;
	}
	/* Everything that can fail is done before fork: a guest process
	 * never runs without vmd watching it. */
	vm->ev_ctl_read = event_new(d->base, ctl[0], EV_READ | EV_PERSIST, ctl_read_cb, vm);
	vm->ev_ctl_write = event_new(d->base, ctl[0], EV_WRITE | EV_PERSIST, ctl_write_cb, vm);
	vm->ev_err = event_new(d->base, errp[0], EV_READ | EV_PERSIST, err_read_cb, vm);
	if (!vm->ev_ctl_read || !vm->ev_ctl_write || !vm->ev_err) {
		snprintf(err, errlen, "libevent: out of memory");
		goto fail;
	}
	if (!console_open(vm, con[0])) {
		snprintf(err, errlen, "libevent: out of memory");
		goto fail;
	}
	con[0] = -1; /* the console owns it now */
	memset(&who, 0, sizeof(who));
	if (geteuid() == 0 && vm->cfg->has_owner_uid && vm->cfg->owner_uid != 0) {
		struct passwd *pw = getpwuid(vm->cfg->owner_uid);
		if (!pw) {
			snprintf(err, errlen, "owner uid %u has no passwd entry", (unsigned)vm->cfg->owner_uid);
			goto fail;
		}
		who.drop = true;
		who.uid = pw->pw_uid;
		who.gid = pw->pw_gid;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child_exec(a.v, ctl[1], con[1], errp[1], &who);
	argv_free(&a);
	close(ctl[1]);
	close(con[1]);
	close(errp[1]);
	set_nonblock(ctl[0]);
	set_nonblock(vm->console.fd);
	set_nonblock(errp[0]);
	vm->pid = pid;
	vm->ctl_fd = ctl[0];
	vm->err_fd = errp[0];
	watched = vmd_watch(vm->ev_ctl_read, NULL) && vmd_watch(vm->ev_err, NULL) && console_start(vm);
	vm->last_stderr[0] = '\0';
	vm->shutdown_reason[0] = '\0';
	vm->guest_state[0] = '\0';
	vm->shutdown_code = 0;
	vm->kill_requested = false;
	vm->restart_on_reset = true;
	vm->stop_phase = 0;
	vm->started_ns = now_ns();
	vm_set_state(vm, VM_STARTING);
	log_info("vm %s: started guest process %d", vm->cfg->name, (int)pid);
	if (!watched) {
		/* Unwatched, it would run unsupervised: end it now. */
		snprintf(vm->cause, sizeof(vm->cause), "vmd could not watch the guest process");
		vm->kill_requested = true;
		guest_kill(vm);
		return 0;
	}
	if (guest_call(vm, "status", NULL, NULL, NULL, start_status_done))
		log_warn("vm %s: could not ask the new guest process for its status", vm->cfg->name);
	return 0;
fail:
	argv_free(&a);
	if (vm->ev_ctl_read)
		event_free(vm->ev_ctl_read);
	if (vm->ev_ctl_write)
		event_free(vm->ev_ctl_write);
	if (vm->ev_err)
		event_free(vm->ev_err);
	vm->ev_ctl_read = vm->ev_ctl_write = vm->ev_err = NULL;
	console_close(vm); /* closes the console's end if it took it */
	if (ctl[0] >= 0) { close(ctl[0]); close(ctl[1]); }
	if (con[1] >= 0) { if (con[0] >= 0) close(con[0]); close(con[1]); }
	if (errp[0] >= 0) { close(errp[0]); close(errp[1]); }
	return -1;
}

static void call_timeout_cb(evutil_socket_t fd, short what, void *arg);

/* Copies s for the log with control characters and non-ASCII replaced:
 * what the guest writes must not forge log lines or drive a terminal. */
static void printable(char *out, size_t outlen, const char *s, size_t len)
{
	size_t i;

	if (!outlen)
		return;
	for (i = 0; i < len && i + 1 < outlen; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
}


static void call_unlink(struct vm *vm, struct guest_call *call)
{
	struct guest_call **pp;

	for (pp = &vm->calls; *pp; pp = &(*pp)->next)
		if (*pp == call) {
			*pp = call->next;
			vm->ncalls--;
			break;
		}
}

static void call_finish(struct vm *vm, struct guest_call *call, struct proto_msg *reply,
			const char *failure)
{
	call_unlink(vm, call);
	if (call->done)
		call->done(vm, call, reply, failure);
	event_free(call->timer);
	json_object_put(call->client_id);
	free(call);
}

const char *guest_call(struct vm *vm, const char *method, struct json_object *params,
		       struct client *c, struct json_object *client_id, guest_call_done done)
{
	struct guest_call *call;
	struct json_object *msg;
	struct timeval tv = { GUEST_CALL_TIMEOUT_S, 0 };

	if (vm->ctl_fd < 0) {
		json_object_put(params);
		return "the guest process has no control channel";
	}
	if (vm->ncalls >= GUEST_CALLS_MAX) {
		json_object_put(params);
		return "too many requests already waiting for the guest process";
	}
	call = calloc(1, sizeof(*call));
	if (!call) {
		json_object_put(params);
		return "out of memory";
	}
	call->vm = vm;
	call->id = vm->next_call_id++;
	snprintf(call->method, sizeof(call->method), "%s", method);
	call->client = c;
	call->client_id = client_id ? json_object_get(client_id) : NULL;
	call->done = done;
	call->timer = evtimer_new(vm->vmd->base, call_timeout_cb, call);
	msg = proto_request(call->id, method, params);
	if (!call->timer || !msg || !proto_out_send(&vm->ctl_out, msg) ||
	    evtimer_add(call->timer, &tv) < 0) {
		json_object_put(msg);
		if (call->timer)
			event_free(call->timer);
		json_object_put(call->client_id);
		free(call);
		return "the guest's control queue is full";
	}
	json_object_put(msg);
	call->next = vm->calls;
	vm->calls = call;
	vm->ncalls++;
	(void)vmd_watch(vm->ev_ctl_write, NULL);
	return NULL;
}

static void call_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guest_call *call = arg;

	log_warn("vm %s: guest did not answer '%s' in %d s", call->vm->cfg->name, call->method,
		 GUEST_CALL_TIMEOUT_S);
	call_finish(call->vm, call, NULL, "the guest process did not answer in time");
}

static void handle_notification(struct vm *vm, struct proto_msg *m)
{
	const char *s = NULL;
	char why[128];
	struct json_object *ev;
	int64_t code = 0;

	if (strcmp(m->method, "state") == 0) {
		if (proto_param_str(m->params, "state", true, &s, why, sizeof(why)) != 0) {
			log_warn("vm %s: bad state notification: %s", vm->cfg->name, why);
			return;
		}
		if (strcmp(s, "running") == 0 || strcmp(s, "paused") == 0 || strcmp(s, "halted") == 0)
			snprintf(vm->guest_state, sizeof(vm->guest_state), "%s", s);
		/* While stopping, the guest's own running/paused reports do not
		 * undo the stop; halted is only informative. */
		if (vm->state == VM_STOPPING)
			return;
		if (strcmp(s, "running") == 0 && (vm->state == VM_STARTING || vm->state == VM_PAUSED))
			vm_set_state(vm, VM_RUNNING);
		else if (strcmp(s, "paused") == 0 && (vm->state == VM_STARTING || vm->state == VM_RUNNING))
			vm_set_state(vm, VM_PAUSED);
		else if (strcmp(s, "halted") == 0 || strcmp(s, "running") == 0 || strcmp(s, "paused") == 0)
			log_debug("vm %s: guest reports %s", vm->cfg->name, s);
		else
			log_warn("vm %s: unknown guest state '%s'", vm->cfg->name, s);
		return;
	}
	if (strcmp(m->method, "shutdown") == 0) {
		if (proto_param_str(m->params, "reason", true, &s, why, sizeof(why)) != 0) {
			log_warn("vm %s: bad shutdown notification: %s", vm->cfg->name, why);
			return;
		}
		(void)proto_param_int(m->params, "code", false, &code, why, sizeof(why));
		printable(vm->shutdown_reason, sizeof(vm->shutdown_reason), s, strlen(s));
		s = vm->shutdown_reason;
		vm->shutdown_code = code;
		log_info("vm %s: guest shutdown: %s (code %lld)", vm->cfg->name, s, (long long)code);
		ev = json_object_new_object();
		if (ev) {
			json_object_object_add(ev, "type", json_object_new_string("shutdown"));
			json_object_object_add(ev, "vm", json_object_new_string(vm->cfg->name));
			json_object_object_add(ev, "reason", json_object_new_string(s));
			json_object_object_add(ev, "code", json_object_new_int64(code));
			control_event(vm->vmd, ev);
		}
		return;
	}
	log_debug("vm %s: unknown notification '%s' ignored", vm->cfg->name, m->method);
}

static void handle_ctl_line(struct vm *vm, char *line, size_t len)
{
	struct proto_msg m;
	struct guest_call *call;
	char why[256];
	int code = proto_parse(line, len, &m, why, sizeof(why));

	if (code) {
		log_warn("vm %s: bad message from the guest: %s", vm->cfg->name, why);
		proto_msg_free(&m);
		return;
	}
	if (m.kind == PROTO_NOTIFICATION) {
		handle_notification(vm, &m);
	} else if (m.kind == PROTO_REQUEST) {
		/* The guest has nothing to ask vmd (yet): say so. */
		struct json_object *e = proto_error(m.id, PROTO_ERR_METHOD_NOT_FOUND, NULL, NULL);
		if (e && proto_out_send(&vm->ctl_out, e))
			(void)vmd_watch(vm->ev_ctl_write, NULL);
		json_object_put(e);
	} else {
		for (call = vm->calls; call; call = call->next)
			if (m.id && json_object_is_type(m.id, json_type_int) &&
			    json_object_get_int64(m.id) == call->id)
				break;
		if (call)
			call_finish(vm, call, &m, NULL);
		else
			log_warn("vm %s: guest answered an unknown request", vm->cfg->name);
	}
	proto_msg_free(&m);
}

/* Reads and handles what the guest sent. False when the channel closed. */
static bool ctl_drain(struct vm *vm)
{
	enum proto_io io;
	enum proto_line r;
	char *line;
	size_t len;

	for (;;) {
		io = proto_in_fill(&vm->ctl_in, vm->ctl_fd);
		while ((r = proto_in_next(&vm->ctl_in, &line, &len)) != PROTO_LINE_NONE) {
			if (r == PROTO_LINE_TOOBIG)
				log_warn("vm %s: over-size message from the guest dropped", vm->cfg->name);
			else
				handle_ctl_line(vm, line, len);
			if (vm->ctl_fd < 0)
				return false;
		}
		if (io == PROTO_IO_AGAIN)
			return true;
		if (io != PROTO_IO_OK)
			return false;
	}
}

static void ctl_close(struct vm *vm)
{
	if (vm->ctl_fd < 0)
		return;
	event_free(vm->ev_ctl_read);
	event_free(vm->ev_ctl_write);
	vm->ev_ctl_read = vm->ev_ctl_write = NULL;
	close(vm->ctl_fd);
	vm->ctl_fd = -1;
	proto_in_free(&vm->ctl_in);
	proto_in_init(&vm->ctl_in, PROTO_MAX_MSG);
	proto_out_free(&vm->ctl_out);
	proto_out_init(&vm->ctl_out, CLIENT_OUT_MAX);
}

static void ctl_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;

	if (!ctl_drain(vm)) {
		/* The process is exiting; SIGCHLD will tell how. */
		event_del(vm->ev_ctl_read);
	}
}

static void ctl_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;
	enum proto_io io = proto_out_flush(&vm->ctl_out, vm->ctl_fd);

	if (io == PROTO_IO_AGAIN)
		return;
	event_del(vm->ev_ctl_write);
	if (io != PROTO_IO_OK)
		log_debug("vm %s: control channel write failed", vm->cfg->name);
}

static void log_guest_line(struct vm *vm, const char *raw, int len)
{
	uint64_t now = now_ns();
	char line[1024];

	printable(line, sizeof(line), raw, (size_t)len);
	len = (int)strlen(line);
	snprintf(vm->last_stderr, sizeof(vm->last_stderr), "%.*s", len, line);
	if (now - vm->log_window_ns >= 1000000000u) {
		if (vm->log_suppressed)
			log_warn("guest %s: %u lines of its output not logged (over %d/s)",
				 vm->cfg->name, vm->log_suppressed, GUEST_LOG_LINES_PER_S);
		vm->log_window_ns = now;
		vm->log_lines = vm->log_suppressed = 0;
	}
	if (vm->log_lines++ < GUEST_LOG_LINES_PER_S)
		log_info("guest %s: %.*s", vm->cfg->name, len, line);
	else
		vm->log_suppressed++;
}

static void err_drain(struct vm *vm, bool final)
{
	enum proto_io io;
	enum proto_line r;
	const char *rest;
	char *line;
	size_t len;

	do {
		io = proto_in_fill(&vm->err_in, vm->err_fd);
		while ((r = proto_in_next(&vm->err_in, &line, &len)) != PROTO_LINE_NONE) {
			if (r == PROTO_LINE_TOOBIG) {
				log_info("guest %s: (long line dropped)", vm->cfg->name);
				continue;
			}
			if (len && line[len - 1] == '\r')
				line[--len] = '\0';
			log_guest_line(vm, line, (int)len);
		}
	} while (io == PROTO_IO_OK);
	if (final && (len = proto_in_pending(&vm->err_in, &rest)) > 0) {
		log_guest_line(vm, rest, (int)len);
		proto_in_drop(&vm->err_in, len);
	}
	if (final && vm->log_suppressed) {
		log_warn("guest %s: %u lines of its output not logged (over %d/s)", vm->cfg->name,
			 vm->log_suppressed, GUEST_LOG_LINES_PER_S);
		vm->log_suppressed = 0;
	}
	if (io != PROTO_IO_AGAIN && vm->ev_err)
		event_del(vm->ev_err);
}

static void err_read_cb(evutil_socket_t fd, short what, void *arg)
{
	err_drain(arg, false);
}

void guest_kill(struct vm *vm)
{
	if (vm->pid > 0 && kill(vm->pid, SIGKILL) < 0 && errno != ESRCH)
		log_err("vm %s: kill %d: %s", vm->cfg->name, (int)vm->pid, strerror(errno));
}

static const char *exit_meaning(int code)
{
	switch (code) {
	case 1: return "internal error";
	case 2: return "bad configuration or arguments";
	case 127: return "could not execute the guest binary";
	default: return "exited";
	}
}

/* The process is gone: collect its last words, free its plumbing and
 * decide what its end means. */
static void guest_exited(struct vm *vm, int status)
{
	struct guest_call *call;
	char detail[200];
	bool crashed = false, restart = false;
	struct vmd *d = vm->vmd;

	if (vm->ctl_fd >= 0)
		(void)ctl_drain(vm);
	if (vm->err_fd >= 0) {
		err_drain(vm, true);
		event_free(vm->ev_err);
		vm->ev_err = NULL;
		close(vm->err_fd);
		vm->err_fd = -1;
	}
	console_close(vm);
	ctl_close(vm);
	while ((call = vm->calls) != NULL)
		call_finish(vm, call, NULL, "the guest process exited");
	vm->pid = 0;
	vm->exit_status = -1;
	vm->term_signal = 0;
	detail[0] = '\0';
	if (vm->last_stderr[0])
		snprintf(detail, sizeof(detail), ": %.190s", vm->last_stderr);

	if (WIFSIGNALED(status)) {
		vm->term_signal = WTERMSIG(status);
		if (vm->kill_requested) {
			if (!vm->cause[0])
				snprintf(vm->cause, sizeof(vm->cause), "killed by request (signal %d)",
					 vm->term_signal);
		} else {
			crashed = true;
			snprintf(vm->cause, sizeof(vm->cause), "guest process killed by signal %d (%s)%s",
				 vm->term_signal, strsignal(vm->term_signal), WCOREDUMP(status) ? ", core dumped" : "");
		}
	} else {
		int code = WEXITSTATUS(status);

		vm->exit_status = code;
		if (strcmp(vm->shutdown_reason, "debug-exit") == 0) {
			snprintf(vm->cause, sizeof(vm->cause), "debug-exit with code %lld (exit status %d)",
				 (long long)vm->shutdown_code, code);
		} else if (code == 0) {
			if (strcmp(vm->shutdown_reason, "reset") == 0 && vm->restart_on_reset &&
			    !d->shutting_down) {
				restart = true;
				snprintf(vm->cause, sizeof(vm->cause), "guest reset: restarting");
			} else if (vm->shutdown_reason[0]) {
				snprintf(vm->cause, sizeof(vm->cause), "guest %s", vm->shutdown_reason);
			} else if (!vm->cause[0] || vm->stop_phase) {
				snprintf(vm->cause, sizeof(vm->cause), "%s",
					 vm->stop_phase == 1 ? "powered off" :
					 vm->stop_phase >= 2 ? "quit" : "guest process exited");
			}
		} else {
			crashed = true;
			snprintf(vm->cause, sizeof(vm->cause), "%s (exit status %d)%s", exit_meaning(code),
				 code, detail);
		}
	}
	evtimer_del(vm->stop_timer);
	vm_set_state(vm, crashed ? VM_CRASHED : VM_STOPPED);
	if (restart) {
		char err[256];
		if (guest_start(vm, err, sizeof(err)) < 0) {
			snprintf(vm->cause, sizeof(vm->cause), "restart after reset failed: %.200s", err);
			log_err("vm %s: %s", vm->cfg->name, vm->cause);
		}
	}
}

void guest_reap(struct vmd *d)
{
	struct vm *vm;
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		for (vm = d->vms; vm; vm = vm->next)
			if (vm->pid == pid)
				break;
		if (!vm) {
			log_debug("reaped unknown child %d", (int)pid);
			continue;
		}
		log_info("vm %s: guest process %d %s %d", vm->cfg->name, (int)pid,
			 WIFSIGNALED(status) ? "killed by signal" : "exited with status",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		guest_exited(vm, status);
	}
}

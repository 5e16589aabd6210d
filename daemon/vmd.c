/*
 * vmd: main, arguments, signals, daemon mode, reload and shutdown.
 * See vmd.8 for the command line and proto/PROTOCOL.md for the socket.
 */
#include "daemon/vmd.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

#define DEFAULT_CONFIG "/etc/vmd.conf"

static void usage(void)
{
	fprintf(stderr, "usage: vmd [-dnv] [-f config] [-s socket] [-p pidfile]\n");
	exit(2);
}

/* Root's paths live in /run; a user's in $XDG_RUNTIME_DIR. */
static int runtime_path(char *out, size_t outlen, const char *file)
{
	const char *dir = getuid() == 0 ? "/run" : getenv("XDG_RUNTIME_DIR");

	if (!dir || !dir[0]) {
		fprintf(stderr, "vmd: XDG_RUNTIME_DIR is not set: give -s and -p\n");
		return -1;
	}
	if ((size_t)snprintf(out, outlen, "%s/%s", dir, file) >= outlen) {
		fprintf(stderr, "vmd: runtime path too long\n");
		return -1;
	}
	return 0;
}

static void default_guest_binary(struct vmd *d)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(d->guest_binary, sizeof(d->guest_binary), "vmd-guest");
		return;
	}
	self[n] = '\0';
	snprintf(d->guest_binary, sizeof(d->guest_binary), "%.*s/vmd-guest",
		 (int)(sizeof(d->guest_binary) - 11), dirname(self));
}

static void apply_globals(struct vmd *d)
{
	if (d->cfg.guest_binary)
		snprintf(d->guest_binary, sizeof(d->guest_binary), "%s", d->cfg.guest_binary);
	else
		default_guest_binary(d);
}

void vmd_check_shutdown_done(struct vmd *d)
{
	struct vm *vm;

	if (!d->shutting_down)
		return;
	for (vm = d->vms; vm; vm = vm->next)
		if (vm->pid)
			return;
	log_info("all guests stopped: exiting");
	event_base_loopexit(d->base, NULL);
}

static void shutdown_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vmd *d = arg;
	struct vm *vm;

	log_warn("shutdown: guests still running after the grace period: killing them");
	for (vm = d->vms; vm; vm = vm->next)
		if (vm->pid) {
			vm->kill_requested = true;
			snprintf(vm->cause, sizeof(vm->cause), "killed: vmd shutting down");
			guest_kill(vm);
		}
	/* Their SIGCHLDs end the loop; if even that fails, leave anyway. */
	{
		struct timeval tv = { 5, 0 };
		event_base_loopexit(d->base, &tv);
	}
}

static void begin_shutdown(struct vmd *d, bool force)
{
	struct vm *vm;
	struct timeval tv;

	if (d->shutting_down && !force)
		force = true; /* a second signal: no more waiting */
	if (!d->shutting_down)
		log_info("shutting down: stopping guests (up to %d s)", d->cfg.shutdown_timeout);
	d->shutting_down = true;
	for (vm = d->vms; vm; vm = vm->next)
		if (vm->pid)
			vm_begin_stop(vm, force, d->cfg.shutdown_timeout);
	if (!d->ev_shutdown_timer) {
		d->ev_shutdown_timer = evtimer_new(d->base, shutdown_timer_cb, d);
		tv.tv_sec = d->cfg.shutdown_timeout + GUEST_QUIT_GRACE_S + 2;
		tv.tv_usec = 0;
		if (!d->ev_shutdown_timer || !vmd_watch(d->ev_shutdown_timer, &tv))
			log_err("no shutdown deadline: guests that do not stop are not killed");
	}
	vmd_check_shutdown_done(d);
}

static void json_add_name(struct json_object *report, const char *key, const char *name)
{
	struct json_object *a;

	if (!json_object_object_get_ex(report, key, &a)) {
		a = json_object_new_array();
		json_object_object_add(report, key, a);
	}
	json_object_array_add(a, json_object_new_string(name));
}

static void autostart(struct vm *vm)
{
	char err[512];

	if (!vm->cfg->autostart || vm_active(vm) || vm->vmd->shutting_down)
		return;
	if (guest_start(vm, err, sizeof(err)) < 0)
		log_err("vm %s: autostart failed: %s", vm->cfg->name, err);
}

int vmd_reload(struct vmd *d, struct json_object **report, char *err, size_t errlen)
{
	struct config next;
	struct vm *vm, *vnext;
	struct vm_config *vc;
	struct json_object *r;
	size_t i;

	if (!d->config_path) {
		snprintf(err, errlen, "vmd was started without a configuration file");
		return -1;
	}
	config_init(&next);
	if (config_parse_file(&next, d->config_path, err, errlen) < 0) {
		config_free(&next);
		log_err("reload refused:\n%s", err);
		return -1;
	}
	r = json_object_new_object();
	/* Guests no longer in the file: forget them unless they run. */
	for (vm = d->vms; vm; vm = vnext) {
		vnext = vm->next;
		if (!vm->from_config)
			continue;
		for (i = 0; i < next.nvm; i++)
			if (strcmp(next.vm[i]->name, vm->cfg->name) == 0)
				break;
		if (i < next.nvm)
			continue;
		if (vm_active(vm)) {
			vm->needs_restart = true;
			json_add_name(r, "removed_but_running", vm->cfg->name);
		} else {
			json_add_name(r, "removed", vm->cfg->name);
			vm_free(vm);
		}
	}
	for (i = 0; i < next.nvm; i++) {
		vc = next.vm[i];
		vm = vm_find(d, vc->name);
		if (!vm) {
			next.vm[i] = NULL;
			vm = vm_new(d, vc, true);
			if (!vm) {
				vm_config_free(vc);
				continue;
			}
			json_add_name(r, "added", vc->name);
			autostart(vm);
			continue;
		}
		if (!vm->from_config) {
			json_add_name(r, "conflicts", vc->name);
			continue;
		}
		if (vm_config_equal(vm->cfg, vc))
			continue;
		next.vm[i] = NULL;
		if (vm_active(vm)) {
			vm_config_free(vm->pending_cfg);
			vm->pending_cfg = vc;
			vm->needs_restart = true;
			json_add_name(r, "changed_needs_restart", vc->name);
		} else {
			vm_config_free(vm->cfg);
			vm->cfg = vc;
			json_add_name(r, "updated", vc->name);
		}
	}
	if ((next.socket_path || d->cfg.socket_path) &&
	    (!next.socket_path || !d->cfg.socket_path || strcmp(next.socket_path, d->cfg.socket_path)))
		json_object_object_add(r, "socket_needs_restart", json_object_new_boolean(1));
	/* Globals that apply at once. */
	if (next.has_socket_gid && (!d->cfg.has_socket_gid || next.socket_gid != d->cfg.socket_gid)) {
		if (chown(d->socket_path, (uid_t)-1, next.socket_gid) < 0)
			log_err("chown %s: %s", d->socket_path, strerror(errno));
		else
			json_object_object_add(r, "socket_group", json_object_new_int((int)next.socket_gid));
	}
	d->cfg.has_socket_gid = next.has_socket_gid;
	d->cfg.socket_gid = next.socket_gid;
	d->cfg.shutdown_timeout = next.shutdown_timeout;
	free(d->cfg.guest_binary);
	d->cfg.guest_binary = next.guest_binary;
	next.guest_binary = NULL;
	apply_globals(d);
	for (i = 0; i < next.nvm; i++)
		vm_config_free(next.vm[i]);
	next.nvm = 0;
	config_free(&next);
	log_info("configuration reloaded: %s", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	*report = r;
	return 0;
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct vmd *d = arg;
	struct json_object *report = NULL;
	char err[4096];

	switch (sig) {
	case SIGCHLD:
		guest_reap(d);
		break;
	case SIGHUP:
		log_info("SIGHUP: reloading %s", d->config_path ? d->config_path : "(no file)");
		if (vmd_reload(d, &report, err, sizeof(err)) == 0)
			json_object_put(report);
		else if (!d->config_path)
			log_warn("SIGHUP ignored: %s", err);
		break;
	case SIGTERM:
	case SIGINT:
		begin_shutdown(d, false);
		break;
	default:
		break;
	}
}

static int write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("pid file %s: %s", path, strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		log_err("pid file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Detaches from the terminal. The original process stays until the daemon
 * says it is listening (a byte on *ready_fd) or gives up (the pipe closes
 * unwritten), and exits 0 or 1 accordingly: whoever started vmd (an rc
 * script) learns about a socket it could not bind.
 */
static int daemonize(int *ready_fd)
{
	int p[2], fd;
	pid_t pid;
	ssize_t n;
	char ok = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		do
			n = read(p[0], &ok, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1 && ok == 'r')
			_exit(0);
		fprintf(stderr, "vmd: failed to start: see the system log\n");
		_exit(1);
	}
	close(p[0]);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return -1;
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		return -1;
	if (fd > 2)
		close(fd);
	*ready_fd = p[1];
	return 0;
}

/*
 * Takes the hard fd limit and keeps a reserve out of the clients' reach,
 * so that however many connect, guests can still be started (each takes
 * a few fds) and vmd can still log and reload.
 */
static size_t client_budget(void)
{
	struct rlimit rl;
	size_t budget;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 256;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > MAX_CLIENTS * 2)
		return MAX_CLIENTS;
	budget = (size_t)rl.rlim_cur / 2;
	return budget > 16 ? budget : 16;
}

static struct event *watch_signal(struct vmd *d, int sig)
{
	struct event *ev = evsignal_new(d->base, sig, signal_cb, d);

	if (!ev || evsignal_add(ev, NULL) < 0) {
		fprintf(stderr, "vmd: cannot watch signal %d\n", sig);
		exit(1);
	}
	return ev;
}

int main(int argc, char **argv)
{
	struct vmd d;
	const char *config_path = NULL, *socket_opt = NULL, *pid_opt = NULL;
	char err[8192], pidfile[PATH_MAX];
	bool foreground = false, check_only = false, explicit_config = false;
	int verbose = 0, ch, ready_fd = -1;
	struct vm *vm;
	size_t i;

	while ((ch = getopt(argc, argv, "df:np:s:v")) != -1) {
		switch (ch) {
		case 'd': foreground = true; break;
		case 'f': config_path = optarg; explicit_config = true; break;
		case 'n': check_only = true; break;
		case 'p': pid_opt = optarg; break;
		case 's': socket_opt = optarg; break;
		case 'v': verbose++; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	memset(&d, 0, sizeof(d));
	d.listen_fd = -1;
	config_init(&d.cfg);
	if (!config_path)
		config_path = DEFAULT_CONFIG;
	if (check_only && !explicit_config && access(config_path, F_OK) < 0) {
		fprintf(stderr, "vmd: %s: %s\n", config_path, strerror(errno));
		return 1;
	}
	if (explicit_config || access(config_path, F_OK) == 0) {
		if (config_parse_file(&d.cfg, config_path, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			if (check_only)
				fprintf(stderr, "vmd: configuration %s is not valid\n", config_path);
			config_free(&d.cfg);
			return 1;
		}
		/* Absolute: it must survive chdir("/") in daemon mode. */
		if (config_path[0] == '/' || !realpath(config_path, d.config_buf))
			snprintf(d.config_buf, sizeof(d.config_buf), "%s", config_path);
		d.config_path = d.config_buf;
	}
	if (check_only) {
		printf("configuration OK: %zu vm%s\n", d.cfg.nvm, d.cfg.nvm == 1 ? "" : "s");
		config_free(&d.cfg);
		return 0;
	}
	if (socket_opt)
		snprintf(d.socket_path, sizeof(d.socket_path), "%s", socket_opt);
	else if (d.cfg.socket_path)
		snprintf(d.socket_path, sizeof(d.socket_path), "%s", d.cfg.socket_path);
	else if (runtime_path(d.socket_path, sizeof(d.socket_path), "vmd.sock") < 0)
		return 1;
	if (pid_opt)
		snprintf(pidfile, sizeof(pidfile), "%s", pid_opt);
	else if (runtime_path(pidfile, sizeof(pidfile), "vmd.pid") < 0)
		pidfile[0] = '\0';
	apply_globals(&d);
	signal(SIGPIPE, SIG_IGN);
	log_init("vmd", !foreground, verbose);
	if (!foreground && daemonize(&ready_fd) < 0) {
		log_err("cannot become a daemon: %s", strerror(errno));
		return 1;
	}
	d.base = event_base_new();
	if (!d.base) {
		log_err("libevent: no event base");
		return 1;
	}
	d.started_ns = now_ns();
	d.max_clients = client_budget();
	d.ev_sigchld = watch_signal(&d, SIGCHLD);
	d.ev_sigterm = watch_signal(&d, SIGTERM);
	d.ev_sigint = watch_signal(&d, SIGINT);
	d.ev_sighup = watch_signal(&d, SIGHUP);
	if (control_listen(&d, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	if ((!foreground || pid_opt) && pidfile[0] && write_pidfile(pidfile) < 0)
		pidfile[0] = '\0';
	else if (foreground && !pid_opt)
		pidfile[0] = '\0';
	if (ready_fd >= 0) {
		if (write(ready_fd, "r", 1) != 1)
			log_warn("could not tell the starting process we are up");
		close(ready_fd);
	}
	for (i = 0; i < d.cfg.nvm; i++) {
		vm = vm_new(&d, d.cfg.vm[i], true);
		if (!vm) {
			log_err("out of memory");
			return 1;
		}
		d.cfg.vm[i] = NULL;
	}
	d.cfg.nvm = 0;
	log_info("listening on %s (%s), guest binary %s", d.socket_path, PROTO_VERSION, d.guest_binary);
	for (vm = d.vms; vm; vm = vm->next)
		autostart(vm);

	event_base_dispatch(d.base);

	/* Normally every guest is gone by now; make sure none outlives us. */
	for (vm = d.vms; vm; vm = vm->next)
		if (vm->pid) {
			vm->kill_requested = true;
			guest_kill(vm);
		}
	control_close(&d);
	for (i = 0; i < 500; i++) {
		for (vm = d.vms; vm && !vm->pid; vm = vm->next)
			;
		if (!vm)
			break;
		guest_reap(&d);
		usleep(10000);
	}
	while (d.vms)
		vm_free(d.vms);
	if (pidfile[0])
		unlink(pidfile);
	event_free(d.ev_sigchld);
	event_free(d.ev_sigterm);
	event_free(d.ev_sigint);
	event_free(d.ev_sighup);
	if (d.ev_shutdown_timer)
		event_free(d.ev_shutdown_timer);
	config_free(&d.cfg);
	event_base_free(d.base);
	log_info("exited");
	return d.exit_code;
}

/*
 * vmd's shared types: the daemon, its guests (struct vm) and its control
 * clients. Each concern lives in its own file:
 *   vmd.c      main, arguments, signals, daemon mode, shutdown
 *   control.c  the control socket: accepting, reading, writing, dropping clients
 *   methods.c  the JSON-RPC methods and permissions
 *   vm.c       the guest registry and the lifecycle state machine
 *   guest.c    guest process supervision: fork/exec, its control channel, reaping
 *   console.c  the serial console: history ring, attached clients
 *   parse.c    the configuration file (config.h)
 */
#ifndef DAEMON_VMD_H
#define DAEMON_VMD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "daemon/config.h"
#include "proto/proto.h"

#define CONSOLE_HISTORY (64 * 1024)
/* A client whose unread output exceeds this is dropped. */
#define CLIENT_OUT_MAX (4 * 1024 * 1024)
/* Console bytes queued towards one guest before clients stop being read. */
#define CONSOLE_IN_MAX (64 * 1024)
#define GUEST_CALL_TIMEOUT_S 10
/* Requests in flight to one guest: a stuck guest cannot make vmd hoard. */
#define GUEST_CALLS_MAX 256
/* After "quit", how long a guest gets before SIGKILL. */
#define GUEST_QUIT_GRACE_S 5
#define MAX_CLIENTS 4096
/* Lines of a guest's stderr logged per second; the rest are counted. The
 * guest OS can reach that stderr (debug console), so it must not be able
 * to flood vmd's log. */
#define GUEST_LOG_LINES_PER_S 100

struct vmd;
struct vm;
struct client;

enum vm_state {
	VM_DEFINED,   /* configured, never started */
	VM_STARTING,  /* process forked, not yet confirmed running */
	VM_RUNNING,
	VM_PAUSED,
	VM_STOPPING,  /* asked to power down / quit, process still alive */
	VM_STOPPED,   /* process gone, cleanly (cause says how) */
	VM_CRASHED,   /* process gone abnormally (cause says how) */
};
#define VM_STATE_BIT(s) (1u << (s))
#define VM_ACTIVE_STATES (VM_STATE_BIT(VM_STARTING) | VM_STATE_BIT(VM_RUNNING) | \
			  VM_STATE_BIT(VM_PAUSED) | VM_STATE_BIT(VM_STOPPING))

/* A request sent to a guest process, waiting for its answer. */
struct guest_call;
typedef void (*guest_call_done)(struct vm *vm, struct guest_call *call, struct proto_msg *reply,
				const char *failure);
struct guest_call {
	struct guest_call *next;
	struct vm *vm;
	int64_t id;
	char method[32];
	struct client *client;          /* who asked; NULL once gone */
	struct json_object *client_id;  /* their request id (owned) */
	struct event *timer;
	guest_call_done done;           /* reply NULL: failure says why */
};

/* A client request answered when the guest reaches one of some states. */
struct waiter {
	struct waiter *next;
	struct client *client;
	struct json_object *id;         /* owned */
	unsigned want;                  /* VM_STATE_BIT mask that satisfies */
	bool fail_on_stop;              /* start: stopping/crashing is an error */
	struct event *timer;            /* optional deadline */
	struct vm *vm;
};

struct console {
	int fd;                         /* -1 when no guest */
	struct event *ev_read, *ev_write;
	struct proto_out to_guest;
	char history[CONSOLE_HISTORY];
	size_t head;                    /* next write position */
	size_t fill;                    /* bytes of history held */
	struct client *attached;        /* list through client->console_next */
};

struct vm {
	struct vm *next;
	struct vmd *vmd;
	struct vm_config *cfg;
	struct vm_config *pending_cfg;  /* from a reload, applied at the next start */
	bool from_config;               /* else created over the socket */
	bool needs_restart;             /* config changed while running */
	enum vm_state state;
	char cause[256];                /* why it last stopped or crashed */
	int exit_status;                /* -1 unknown */
	int term_signal;                /* 0 none */

	pid_t pid;                      /* 0 when no process */
	int ctl_fd, err_fd;
	struct event *ev_ctl_read, *ev_ctl_write, *ev_err;
	struct proto_in ctl_in, err_in;
	struct proto_out ctl_out;
	char last_stderr[256];
	uint64_t log_window_ns;         /* rate limit of its stderr in the log */
	unsigned log_lines, log_suppressed;
	char shutdown_reason[32];       /* from the guest's shutdown notification */
	char guest_state[16];           /* last state the guest reported ("halted"...) */
	int64_t shutdown_code;
	int64_t next_call_id;
	struct guest_call *calls;
	unsigned ncalls;
	struct waiter *waiters;

	struct event *stop_timer;       /* grace period, then quit, then SIGKILL */
	int stop_phase;                 /* 0 none, 1 powerdown sent, 2 quit sent, 3 killed */
	bool kill_requested;            /* a kill/stop by request, not a crash */
	bool restart_on_reset;
	uint64_t started_ns;            /* CLOCK_MONOTONIC at start */
	struct console console;
};

struct client {
	struct client *next;
	struct vmd *vmd;
	int fd;
	struct event *ev_read, *ev_write;
	struct proto_in in;
	struct proto_out out;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gid_t groups[64];
	int ngroups;
	bool dead;                      /* dropped: freed by the reaper */
	bool close_after_flush;
	bool subscribed;
	bool read_paused;               /* console backpressure */
	struct vm *console_vm;          /* attached console, raw mode */
	struct client *console_next;
};

struct vmd {
	struct event_base *base;
	struct config cfg;
	const char *config_path;        /* NULL: no file; else points into config_buf */
	char config_buf[PATH_MAX];
	char socket_path[108];
	char guest_binary[PATH_MAX];
	int listen_fd;
	struct event *ev_listen;
	struct event *ev_reap;          /* frees dead clients outside callbacks */
	struct event *ev_sigchld, *ev_sigterm, *ev_sigint, *ev_sighup;
	struct event *ev_shutdown_timer;
	struct vm *vms;
	struct client *clients;
	size_t nclients;
	size_t max_clients;             /* from the fd limit, at most MAX_CLIENTS */
	bool shutting_down;
	bool accept_paused;             /* out of fds: retry later */
	struct event *ev_accept_retry;
	uint64_t started_ns;
	int exit_code;
};

uint64_t now_ns(void);
/* event_add that logs a failure (libevent fails only without memory or
 * with a broken backend); returns false then, for callers that can react. */
bool vmd_watch(struct event *ev, const struct timeval *tv);

/* control.c */
int control_listen(struct vmd *d, char *err, size_t errlen);
void control_close(struct vmd *d);
/* Queues msg (taken) to c; drops c if its queue overflows. */
void client_send(struct client *c, struct json_object *msg);
void client_reply(struct client *c, struct json_object *id, struct json_object *result);
void client_error(struct client *c, struct json_object *id, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void client_drop(struct client *c, const char *why);
void client_push_raw(struct client *c, const void *data, size_t n);
void client_pause_read(struct client *c, bool pause);
/* Sends an "event" notification to every subscribed client. */
void control_event(struct vmd *d, struct json_object *params);

/* methods.c */
void methods_dispatch(struct client *c, struct proto_msg *m);

/* vm.c */
struct vm *vm_new(struct vmd *d, struct vm_config *cfg, bool from_config);
void vm_free(struct vm *vm);
struct vm *vm_find(struct vmd *d, const char *name);
const char *vm_state_name(enum vm_state s);
int vm_state_parse(const char *name);
void vm_set_state(struct vm *vm, enum vm_state s);
struct json_object *vm_to_json(const struct vm *vm);
bool vm_active(const struct vm *vm);
/* Client request waiting for a state; see struct waiter. */
bool vm_add_waiter(struct vm *vm, struct client *c, struct json_object *id, unsigned want,
		   bool fail_on_stop, int timeout_s);
void vm_forget_client(struct vmd *d, struct client *c);
/* Begins a stop: powerdown, then quit after grace_s, then SIGKILL. force: quit now. */
void vm_begin_stop(struct vm *vm, bool force, int grace_s);

/* guest.c */
int guest_start(struct vm *vm, char *err, size_t errlen);
/* Sends a request to the guest process; done runs with its answer or on
 * failure. Returns NULL, or why it could not be sent (done will not run). */
const char *guest_call(struct vm *vm, const char *method, struct json_object *params,
		       struct client *c, struct json_object *client_id, guest_call_done done);
void guest_kill(struct vm *vm);
void guest_reap(struct vmd *d);

/* console.c */
void console_init(struct console *con);
/* Takes fd (the vmd end of the guest's serial socketpair); false without
 * memory (fd not taken). console_start then begins reading it. */
bool console_open(struct vm *vm, int fd);
bool console_start(struct vm *vm);
void console_close(struct vm *vm);
/* Switches c to raw console mode after the history; for a guest without
 * a process, sends the history and ends the connection. */
void console_attach(struct vm *vm, struct client *c);
void console_detach(struct client *c);
void console_client_input(struct client *c, const char *data, size_t n);

/* vmd.c */
void vmd_check_shutdown_done(struct vmd *d);
int vmd_reload(struct vmd *d, struct json_object **report, char *err, size_t errlen);

#endif

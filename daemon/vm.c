/*
 * The guest registry and the lifecycle state machine. Every state change
 * goes through vm_set_state, which refuses impossible transitions, wakes
 * the clients waiting for a state and tells the subscribers.
 */
#include "daemon/vmd.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

static const char *const state_names[] = {
	[VM_DEFINED] = "defined", [VM_STARTING] = "starting", [VM_RUNNING] = "running",
	[VM_PAUSED] = "paused", [VM_STOPPING] = "stopping", [VM_STOPPED] = "stopped",
	[VM_CRASHED] = "crashed",
};

/* allowed[from] = the states it may move to. */
static const unsigned allowed[] = {
	[VM_DEFINED] = VM_STATE_BIT(VM_STARTING),
	[VM_STARTING] = VM_STATE_BIT(VM_RUNNING) | VM_STATE_BIT(VM_PAUSED) |
			VM_STATE_BIT(VM_STOPPING) | VM_STATE_BIT(VM_STOPPED) | VM_STATE_BIT(VM_CRASHED),
	/* running -> starting: the guest rebooted and is being restarted */
	[VM_RUNNING] = VM_STATE_BIT(VM_PAUSED) | VM_STATE_BIT(VM_STOPPING) |
		       VM_STATE_BIT(VM_STOPPED) | VM_STATE_BIT(VM_CRASHED) | VM_STATE_BIT(VM_STARTING),
	[VM_PAUSED] = VM_STATE_BIT(VM_RUNNING) | VM_STATE_BIT(VM_STOPPING) |
		      VM_STATE_BIT(VM_STOPPED) | VM_STATE_BIT(VM_CRASHED) | VM_STATE_BIT(VM_STARTING),
	[VM_STOPPING] = VM_STATE_BIT(VM_STOPPED) | VM_STATE_BIT(VM_CRASHED),
	[VM_STOPPED] = VM_STATE_BIT(VM_STARTING),
	[VM_CRASHED] = VM_STATE_BIT(VM_STARTING),
};

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool vmd_watch(struct event *ev, const struct timeval *tv)
{
	if (event_add(ev, tv) == 0)
		return true;
	log_err("libevent could not watch an event: %s", strerror(errno));
	return false;
}

const char *vm_state_name(enum vm_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

int vm_state_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(name, state_names[i]) == 0)
			return (int)i;
	return -1;
}

bool vm_active(const struct vm *vm)
{
	return (VM_STATE_BIT(vm->state) & VM_ACTIVE_STATES) != 0;
}

static void stop_timer_cb(evutil_socket_t fd, short what, void *arg);

struct vm *vm_new(struct vmd *d, struct vm_config *cfg, bool from_config)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	vm->stop_timer = evtimer_new(d->base, stop_timer_cb, vm);
	if (!vm->stop_timer) {
		free(vm);
		return NULL;
	}
	vm->vmd = d;
	vm->cfg = cfg;
	vm->from_config = from_config;
	vm->state = VM_DEFINED;
	vm->exit_status = -1;
	vm->ctl_fd = vm->err_fd = -1;
	vm->next_call_id = 1;
	console_init(&vm->console);
	proto_in_init(&vm->ctl_in, PROTO_MAX_MSG);
	proto_in_init(&vm->err_in, 4096);
	proto_out_init(&vm->ctl_out, CLIENT_OUT_MAX);
	/* Keep the registry in definition order: list output is stable. */
	{
		struct vm **pp = &d->vms;
		while (*pp)
			pp = &(*pp)->next;
		*pp = vm;
	}
	return vm;
}

static void waiter_free(struct waiter *w)
{
	if (w->timer)
		event_free(w->timer);
	json_object_put(w->id);
	free(w);
}

void vm_free(struct vm *vm)
{
	struct vmd *d = vm->vmd;
	struct vm **pp;
	struct waiter *w;

	for (pp = &d->vms; *pp; pp = &(*pp)->next)
		if (*pp == vm) {
			*pp = vm->next;
			break;
		}
	while ((w = vm->waiters) != NULL) {
		vm->waiters = w->next;
		if (w->client)
			client_error(w->client, w->id, PROTO_ERR_NO_SUCH_VM, "vm %s was deleted",
				     vm->cfg->name);
		waiter_free(w);
	}
	console_close(vm);
	event_free(vm->stop_timer);
	proto_in_free(&vm->ctl_in);
	proto_in_free(&vm->err_in);
	proto_out_free(&vm->ctl_out);
	vm_config_free(vm->cfg);
	vm_config_free(vm->pending_cfg);
	free(vm);
}

struct vm *vm_find(struct vmd *d, const char *name)
{
	struct vm *vm;

	for (vm = d->vms; vm; vm = vm->next)
		if (strcmp(vm->cfg->name, name) == 0)
			return vm;
	return NULL;
}

struct json_object *vm_to_json(const struct vm *vm)
{
	struct json_object *o = json_object_new_object(), *a;
	const struct vm_config *c = vm->cfg;
	const struct client *cl;
	size_t i;
	int n = 0;

	if (!o)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(c->name));
	json_object_object_add(o, "state", json_object_new_string(vm_state_name(vm->state)));
	if (vm->cause[0])
		json_object_object_add(o, "cause", json_object_new_string(vm->cause));
	if (vm->exit_status >= 0)
		json_object_object_add(o, "exit_status", json_object_new_int(vm->exit_status));
	if (vm->term_signal)
		json_object_object_add(o, "signal", json_object_new_int(vm->term_signal));
	if (vm->pid)
		json_object_object_add(o, "pid", json_object_new_int(vm->pid));
	if (vm_active(vm) && vm->guest_state[0])
		json_object_object_add(o, "guest_state", json_object_new_string(vm->guest_state));
	if (vm_active(vm))
		json_object_object_add(o, "uptime_ns", json_object_new_int64((int64_t)(now_ns() - vm->started_ns)));
	json_object_object_add(o, "memory", json_object_new_int64((int64_t)c->memory));
	if (c->kernel)
		json_object_object_add(o, "kernel", json_object_new_string(c->kernel));
	if (c->initrd)
		json_object_object_add(o, "initrd", json_object_new_string(c->initrd));
	if (c->cmdline)
		json_object_object_add(o, "cmdline", json_object_new_string(c->cmdline));
	if (c->bios)
		json_object_object_add(o, "bios", json_object_new_string(c->bios));
	a = json_object_new_array();
	for (i = 0; i < c->ndisk; i++)
		json_object_array_add(a, json_object_new_string(c->disk[i]));
	json_object_object_add(o, "disks", a);
	if (c->vnc_listen)
		json_object_object_add(o, "vnc", json_object_new_string(c->vnc_listen));
	if (c->has_owner_uid)
		json_object_object_add(o, "owner_uid", json_object_new_int((int)c->owner_uid));
	if (c->has_owner_gid)
		json_object_object_add(o, "owner_gid", json_object_new_int((int)c->owner_gid));
	json_object_object_add(o, "autostart", json_object_new_boolean(c->autostart));
	json_object_object_add(o, "defined_at", json_object_new_string(c->where));
	json_object_object_add(o, "needs_restart", json_object_new_boolean(vm->needs_restart));
	for (cl = vm->console.attached; cl; cl = cl->console_next)
		n++;
	json_object_object_add(o, "console_clients", json_object_new_int(n));
	return o;
}

static void waiter_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg, **pp;
	struct vm *vm = w->vm;

	for (pp = &vm->waiters; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (w->client)
		client_error(w->client, w->id, PROTO_ERR_TIMEOUT,
			     "vm %s: still %s when the wait timed out", vm->cfg->name,
			     vm_state_name(vm->state));
	waiter_free(w);
}

bool vm_add_waiter(struct vm *vm, struct client *c, struct json_object *id, unsigned want,
		   bool fail_on_stop, int timeout_s)
{
	struct waiter *w = calloc(1, sizeof(*w));
	struct timeval tv = { timeout_s, 0 };

	if (!w)
		return false;
	w->client = c;
	w->id = json_object_get(id);
	w->want = want;
	w->fail_on_stop = fail_on_stop;
	w->vm = vm;
	if (timeout_s > 0) {
		w->timer = evtimer_new(vm->vmd->base, waiter_timeout_cb, w);
		if (!w->timer || evtimer_add(w->timer, &tv) < 0) {
			waiter_free(w);
			return false;
		}
	}
	w->next = vm->waiters;
	vm->waiters = w;
	return true;
}

void vm_forget_client(struct vmd *d, struct client *c)
{
	struct vm *vm;
	struct waiter **pp, *w;
	struct guest_call *call;

	for (vm = d->vms; vm; vm = vm->next) {
		pp = &vm->waiters;
		while ((w = *pp) != NULL) {
			if (w->client == c) {
				*pp = w->next;
				waiter_free(w);
			} else {
				pp = &w->next;
			}
		}
		for (call = vm->calls; call; call = call->next)
			if (call->client == c)
				call->client = NULL;
	}
}

static void wake_waiters(struct vm *vm)
{
	struct waiter **pp = &vm->waiters, *w;
	unsigned bit = VM_STATE_BIT(vm->state);
	bool ended = vm->state == VM_STOPPED || vm->state == VM_CRASHED;

	while ((w = *pp) != NULL) {
		if (!(w->want & bit) && !(ended && w->fail_on_stop)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		if (!w->client)
			;
		else if (w->want & bit)
			client_reply(w->client, w->id, vm_to_json(vm));
		else
			client_error(w->client, w->id, PROTO_ERR_GUEST_FAILURE, "vm %s %s: %s",
				     vm->cfg->name, vm_state_name(vm->state),
				     vm->cause[0] ? vm->cause : "no cause known");
		waiter_free(w);
	}
}

void vm_set_state(struct vm *vm, enum vm_state s)
{
	struct json_object *ev;
	enum vm_state old = vm->state;

	if (s == old)
		return;
	if (!(allowed[old] & VM_STATE_BIT(s))) {
		log_err("vm %s: refused impossible transition %s -> %s", vm->cfg->name,
			vm_state_name(old), vm_state_name(s));
		return;
	}
	vm->state = s;
	if (s == VM_STARTING) {
		vm->cause[0] = '\0';
		vm->exit_status = -1;
		vm->term_signal = 0;
	}
	if (s == VM_STOPPED || s == VM_CRASHED) {
		vm->stop_phase = 0;
		evtimer_del(vm->stop_timer);
	}
	log_info("vm %s: %s -> %s%s%s", vm->cfg->name, vm_state_name(old), vm_state_name(s),
		 vm->cause[0] && (s == VM_STOPPED || s == VM_CRASHED) ? ": " : "",
		 (s == VM_STOPPED || s == VM_CRASHED) ? vm->cause : "");
	ev = json_object_new_object();
	if (ev) {
		json_object_object_add(ev, "type", json_object_new_string(s == VM_CRASHED ? "crash" : "state"));
		json_object_object_add(ev, "vm", json_object_new_string(vm->cfg->name));
		json_object_object_add(ev, "state", json_object_new_string(vm_state_name(s)));
		json_object_object_add(ev, "previous", json_object_new_string(vm_state_name(old)));
		if ((s == VM_STOPPED || s == VM_CRASHED) && vm->cause[0])
			json_object_object_add(ev, "cause", json_object_new_string(vm->cause));
		if (s == VM_STOPPED || s == VM_CRASHED) {
			if (vm->exit_status >= 0)
				json_object_object_add(ev, "exit_status", json_object_new_int(vm->exit_status));
			if (vm->term_signal)
				json_object_object_add(ev, "signal", json_object_new_int(vm->term_signal));
		}
		control_event(vm->vmd, ev);
	}
	wake_waiters(vm);
	if (s == VM_STOPPED || s == VM_CRASHED)
		vmd_check_shutdown_done(vm->vmd);
}

static void stop_call_done(struct vm *vm, struct guest_call *call, struct proto_msg *reply,
			   const char *failure)
{
	struct timeval now = { 0, 0 };

	/* A guest that cannot power down (no ACPI OS, or refused) is quit
	 * right away instead of after the whole grace period. */
	if ((failure || (reply && reply->kind == PROTO_ERROR)) && vm->stop_phase == 1 && vm->pid) {
		log_info("vm %s: powerdown failed (%s): quitting it", vm->cfg->name,
			 failure ? failure : reply->message);
		vmd_watch(vm->stop_timer, &now);
	}
}

static void stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;
	struct timeval grace = { GUEST_QUIT_GRACE_S, 0 };

	if (!vm->pid)
		return;
	if (vm->stop_phase <= 1) {
		log_info("vm %s: did not power down in time: asking it to quit", vm->cfg->name);
		vm->stop_phase = 2;
		if (guest_call(vm, "quit", NULL, NULL, NULL, stop_call_done))
			log_warn("vm %s: could not send quit", vm->cfg->name);
		vmd_watch(vm->stop_timer, &grace);
	} else if (vm->stop_phase == 2) {
		log_warn("vm %s: did not quit in %d s: killing it", vm->cfg->name, GUEST_QUIT_GRACE_S);
		vm->stop_phase = 3;
		snprintf(vm->cause, sizeof(vm->cause), "killed after not quitting in time");
		guest_kill(vm);
	}
}

void vm_begin_stop(struct vm *vm, bool force, int grace_s)
{
	struct timeval tv = { force ? 0 : grace_s, 0 };

	if (!vm->pid)
		return;
	vm->kill_requested = true;
	vm->restart_on_reset = false;
	if (vm->state != VM_STOPPING)
		vm_set_state(vm, VM_STOPPING);
	if (force) {
		if (vm->stop_phase >= 2)
			return;
		vm->stop_phase = 1; /* the timer fires at once and sends quit */
		vmd_watch(vm->stop_timer, &tv);
		return;
	}
	if (vm->stop_phase >= 1)
		return; /* already on its way down */
	vm->stop_phase = 1;
	if (guest_call(vm, "powerdown", NULL, NULL, NULL, stop_call_done))
		tv.tv_sec = 0; /* cannot ask: go straight to quit */
	vmd_watch(vm->stop_timer, &tv);
}

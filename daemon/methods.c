/*
 * The control methods (proto/PROTOCOL.md lists them with their params and
 * results) and who may call them:
 *   anyone who can connect: hello, info, list, status, wait, subscribe,
 *                           snapshot-list, create (the creator owns the guest)
 *   root or the guest's owner: start, stop, kill, pause, resume, reset,
 *                           delete, console, snapshot-save/restore/delete
 *   root only: reload, and create with an explicit owner
 * ("root" also means the user vmd runs as, when that is not root).
 * The socket itself is mode 0660 (root and the socket group), so "anyone"
 * means the members of that group.
 */
#include "daemon/vmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

#define VMD_VERSION "0.1"
#define START_TIMEOUT_S 30

struct method {
	const char *name;
	void (*fn)(struct client *c, struct json_object *id, struct json_object *params);
	const char *const *keys;   /* the params accepted */
};

/* Refuses params the method does not know: a typo must not pass silently. */
static bool check_keys(struct client *c, struct json_object *id, struct json_object *params,
		       const char *const *keys)
{
	size_t i;
	bool known;

	if (!params)
		return true;
	json_object_object_foreach(params, key, val) {
		(void)val;
		known = false;
		for (i = 0; keys && keys[i]; i++)
			if (strcmp(keys[i], key) == 0)
				known = true;
		if (!known) {
			client_error(c, id, PROTO_ERR_INVALID_PARAMS, "unknown parameter '%s'", key);
			return false;
		}
	}
	return true;
}

/* Root, and the user vmd runs as (an unprivileged vmd serves its user). */
static bool is_admin(const struct client *c)
{
	return c->uid == 0 || c->uid == geteuid();
}

static bool may_drive(const struct client *c, const struct vm *vm)
{
	int i;

	if (is_admin(c))
		return true;
	if (vm->cfg->has_owner_uid && vm->cfg->owner_uid == c->uid)
		return true;
	if (vm->cfg->has_owner_gid)
		for (i = 0; i < c->ngroups; i++)
			if (c->groups[i] == vm->cfg->owner_gid)
				return true;
	return false;
}

/* Looks up params.name and checks the caller may drive it. */
static struct vm *target(struct client *c, struct json_object *id, struct json_object *params,
			 bool drive)
{
	const char *name = NULL;
	char why[128];
	struct vm *vm;

	if (proto_param_str(params, "name", true, &name, why, sizeof(why)) != 0) {
		client_error(c, id, PROTO_ERR_INVALID_PARAMS, "%s", why);
		return NULL;
	}
	vm = vm_find(c->vmd, name);
	if (!vm) {
		client_error(c, id, PROTO_ERR_NO_SUCH_VM, "no such vm: %s", name);
		return NULL;
	}
	if (drive && !may_drive(c, vm)) {
		client_error(c, id, PROTO_ERR_PERMISSION,
			     "permission denied: uid %u does not own vm %s", (unsigned)c->uid, name);
		return NULL;
	}
	return vm;
}

static bool param_error(struct client *c, struct json_object *id, int r, const char *why)
{
	if (r < 0)
		client_error(c, id, PROTO_ERR_INVALID_PARAMS, "%s", why);
	return r < 0;
}

static void m_hello(struct client *c, struct json_object *id, struct json_object *params)
{
	struct json_object *r = json_object_new_object();
	const char *want = NULL;
	char why[128];

	if (param_error(c, id, proto_param_str(params, "protocol", false, &want, why, sizeof(why)), why))
		return;
	if (want && strcmp(want, PROTO_VERSION) != 0) {
		json_object_put(r);
		client_error(c, id, PROTO_ERR_NOT_SUPPORTED, "protocol \"%s\" not supported (this is %s)",
			     want, PROTO_VERSION);
		return;
	}
	json_object_object_add(r, "protocol", json_object_new_string(PROTO_VERSION));
	json_object_object_add(r, "server", json_object_new_string("vmd " VMD_VERSION));
	json_object_object_add(r, "uid", json_object_new_int((int)c->uid));
	client_reply(c, id, r);
}

static void m_info(struct client *c, struct json_object *id, struct json_object *params)
{
	struct vmd *d = c->vmd;
	struct json_object *r = json_object_new_object();
	struct vm *vm;
	int n = 0, active = 0;

	for (vm = d->vms; vm; vm = vm->next) {
		n++;
		active += vm_active(vm);
	}
	json_object_object_add(r, "protocol", json_object_new_string(PROTO_VERSION));
	json_object_object_add(r, "version", json_object_new_string(VMD_VERSION));
	json_object_object_add(r, "pid", json_object_new_int(getpid()));
	json_object_object_add(r, "uptime_ns", json_object_new_int64((int64_t)(now_ns() - d->started_ns)));
	json_object_object_add(r, "socket", json_object_new_string(d->socket_path));
	if (d->config_path)
		json_object_object_add(r, "config", json_object_new_string(d->config_path));
	json_object_object_add(r, "guest_binary", json_object_new_string(d->guest_binary));
	json_object_object_add(r, "shutdown_timeout", json_object_new_int(d->cfg.shutdown_timeout));
	json_object_object_add(r, "vms", json_object_new_int(n));
	json_object_object_add(r, "active", json_object_new_int(active));
	json_object_object_add(r, "clients", json_object_new_int64((int64_t)d->nclients));
	json_object_object_add(r, "max_message", json_object_new_int(PROTO_MAX_MSG));
	client_reply(c, id, r);
}

static void m_list(struct client *c, struct json_object *id, struct json_object *params)
{
	struct json_object *r = json_object_new_object(), *a = json_object_new_array();
	struct vm *vm;

	for (vm = c->vmd->vms; vm; vm = vm->next)
		json_object_array_add(a, vm_to_json(vm));
	json_object_object_add(r, "vms", a);
	client_reply(c, id, r);
}

/* status of an active guest: vmd's view plus the guest's own. */
static void status_done(struct vm *vm, struct guest_call *call, struct proto_msg *reply,
			const char *failure)
{
	struct json_object *r;

	if (!call->client)
		return;
	r = vm_to_json(vm);
	if (reply && reply->kind == PROTO_RESULT)
		json_object_object_add(r, "guest", json_object_get(reply->result));
	else
		json_object_object_add(r, "guest_error", json_object_new_string(
			failure ? failure : reply ? reply->message : "no answer"));
	client_reply(call->client, call->client_id, r);
}

static void m_status(struct client *c, struct json_object *id, struct json_object *params)
{
	struct vm *vm = target(c, id, params, false);

	if (!vm)
		return;
	if ((vm->state == VM_RUNNING || vm->state == VM_PAUSED) &&
	    !guest_call(vm, "status", NULL, c, id, status_done))
		return;
	client_reply(c, id, vm_to_json(vm));
}

static void start_vm(struct client *c, struct json_object *id, struct vm *vm, bool wait)
{
	char err[512];

	if (vm_active(vm)) {
		client_error(c, id, PROTO_ERR_WRONG_STATE, "vm %s is already %s", vm->cfg->name,
			     vm_state_name(vm->state));
		return;
	}
	if (c->vmd->shutting_down) {
		client_error(c, id, PROTO_ERR_WRONG_STATE, "vmd is shutting down");
		return;
	}
	if (guest_start(vm, err, sizeof(err)) < 0) {
		client_error(c, id, PROTO_ERR_GUEST_FAILURE, "cannot start vm %s: %s", vm->cfg->name, err);
		return;
	}
	if (!wait || vm->state != VM_STARTING) {
		client_reply(c, id, vm_to_json(vm));
		return;
	}
	if (!vm_add_waiter(vm, c, id, VM_STATE_BIT(VM_RUNNING) | VM_STATE_BIT(VM_PAUSED), true,
			   START_TIMEOUT_S))
		client_error(c, id, PROTO_ERR_INTERNAL, "out of memory");
}

static void m_start(struct client *c, struct json_object *id, struct json_object *params)
{
	bool wait = true;
	char why[128];
	struct vm *vm;

	if (param_error(c, id, proto_param_bool(params, "wait", false, &wait, why, sizeof(why)), why))
		return;
	vm = target(c, id, params, true);
	if (vm)
		start_vm(c, id, vm, wait);
}

static void m_create(struct client *c, struct json_object *id, struct json_object *params)
{
	const char *name = NULL, *s = NULL, *owner = NULL;
	struct json_object *disks = NULL, *mem;
	struct vm_config *vc;
	struct vm *vm;
	char why[256];
	bool start = false, wait = true;
	int64_t bytes;
	size_t i;

	if (param_error(c, id, proto_param_str(params, "name", true, &name, why, sizeof(why)), why))
		return;
	if (!vm_name_valid(name)) {
		client_error(c, id, PROTO_ERR_INVALID_PARAMS,
			     "bad vm name \"%s\" (1-%d of A-Z a-z 0-9 . _ -)", name, VM_NAME_MAX);
		return;
	}
	if (vm_find(c->vmd, name)) {
		client_error(c, id, PROTO_ERR_EXISTS, "vm %s already exists", name);
		return;
	}
	vc = vm_config_new();
	if (!vc) {
		client_error(c, id, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	snprintf(vc->name, sizeof(vc->name), "%s", name);
	snprintf(vc->where, sizeof(vc->where), "created by uid %u", (unsigned)c->uid);
	vc->memory = 256ull << 20;
	if (json_object_object_get_ex(params, "memory", &mem)) {
		if (json_object_is_type(mem, json_type_int)) {
			bytes = json_object_get_int64(mem);
			if (bytes < (int64_t)VM_MEMORY_MIN || bytes > (int64_t)VM_MEMORY_MAX ||
			    bytes % (1 << 20)) {
				snprintf(why, sizeof(why),
					 "memory must be a whole number of MiB from %lluM to %lluM",
					 VM_MEMORY_MIN >> 20, VM_MEMORY_MAX >> 20);
				vc->memory = 0;
			} else {
				vc->memory = (uint64_t)bytes;
			}
		} else if (json_object_is_type(mem, json_type_string)) {
			vc->memory = parse_memory_size(json_object_get_string(mem), why, sizeof(why));
		} else {
			snprintf(why, sizeof(why), "parameter 'memory' must be an integer or a string");
			vc->memory = 0;
		}
		if (!vc->memory)
			goto bad;
	}
#define PATH_PARAM(key, field)                                                            \
	s = NULL;                                                                          \
	if (proto_param_str(params, key, false, &s, why, sizeof(why)) < 0)                 \
		goto bad;                                                                  \
	if (s) {                                                                           \
		if (s[0] != '/') {                                                         \
			snprintf(why, sizeof(why), "%s \"%s\" must be an absolute path", key, s); \
			goto bad;                                                          \
		}                                                                          \
		if (!(vc->field = strdup(s)))                                              \
			goto oom;                                                          \
	}
	PATH_PARAM("kernel", kernel)
	PATH_PARAM("initrd", initrd)
	PATH_PARAM("bios", bios)
#undef PATH_PARAM
	s = NULL;
	if (proto_param_str(params, "cmdline", false, &s, why, sizeof(why)) < 0)
		goto bad;
	if (s && !(vc->cmdline = strdup(s)))
		goto oom;
	s = NULL;
	if (proto_param_str(params, "vnc", false, &s, why, sizeof(why)) < 0)
		goto bad;
	if (s && !(vc->vnc_listen = strdup(s)))
		goto oom;
	if (proto_param_strv(params, "disks", false, &disks, why, sizeof(why)) < 0)
		goto bad;
	for (i = 0; disks && i < json_object_array_length(disks); i++) {
		s = json_object_get_string(json_object_array_get_idx(disks, i));
		if (vc->ndisk == CONFIG_MAX_DISKS) {
			snprintf(why, sizeof(why), "more than %d disks", CONFIG_MAX_DISKS);
			goto bad;
		}
		if (s[0] != '/') {
			snprintf(why, sizeof(why), "disk \"%s\" must be an absolute path", s);
			goto bad;
		}
		if (!(vc->disk[vc->ndisk++] = strdup(s)))
			goto oom;
	}
	if (proto_param_bool(params, "start", false, &start, why, sizeof(why)) < 0 ||
	    proto_param_bool(params, "wait", false, &wait, why, sizeof(why)) < 0 ||
	    proto_param_str(params, "owner", false, &owner, why, sizeof(why)) < 0)
		goto bad;
	if (owner) {
		if (!is_admin(c)) {
			vm_config_free(vc);
			client_error(c, id, PROTO_ERR_PERMISSION, "only root may set another owner");
			return;
		}
		if (!parse_owner(owner, vc, why, sizeof(why)))
			goto bad;
	} else {
		vc->owner_uid = c->uid;
		vc->has_owner_uid = true;
	}
	if (!vc->kernel && !vc->bios && !vc->ndisk) {
		snprintf(why, sizeof(why), "nothing to boot: give a kernel, bios or disks");
		goto bad;
	}
	if ((vc->initrd || vc->cmdline) && !vc->kernel) {
		snprintf(why, sizeof(why), "initrd and cmdline need a kernel");
		goto bad;
	}
	vm = vm_new(c->vmd, vc, false);
	if (!vm)
		goto oom;
	log_info("vm %s: created by uid %u", name, (unsigned)c->uid);
	if (start)
		start_vm(c, id, vm, wait);
	else
		client_reply(c, id, vm_to_json(vm));
	return;
bad:
	vm_config_free(vc);
	client_error(c, id, PROTO_ERR_INVALID_PARAMS, "%s", why);
	return;
oom:
	vm_config_free(vc);
	client_error(c, id, PROTO_ERR_INTERNAL, "out of memory");
}

static void m_stop(struct client *c, struct json_object *id, struct json_object *params)
{
	bool force = false, wait = false;
	int64_t timeout = c->vmd->cfg.shutdown_timeout;
	char why[128];
	struct vm *vm;

	if (param_error(c, id, proto_param_bool(params, "force", false, &force, why, sizeof(why)), why) ||
	    param_error(c, id, proto_param_bool(params, "wait", false, &wait, why, sizeof(why)), why) ||
	    param_error(c, id, proto_param_int(params, "timeout", false, &timeout, why, sizeof(why)), why))
		return;
	if (timeout < 0 || timeout > 3600) {
		client_error(c, id, PROTO_ERR_INVALID_PARAMS, "timeout must be 0 to 3600 seconds");
		return;
	}
	vm = target(c, id, params, true);
	if (!vm)
		return;
	if (!vm_active(vm)) {
		client_error(c, id, PROTO_ERR_WRONG_STATE, "vm %s is not running (%s)", vm->cfg->name,
			     vm_state_name(vm->state));
		return;
	}
	vm_begin_stop(vm, force, (int)timeout);
	if (!wait) {
		client_reply(c, id, vm_to_json(vm));
		return;
	}
	/* No deadline of its own: the stop sequence ends in SIGKILL. */
	if (!vm_add_waiter(vm, c, id, VM_STATE_BIT(VM_STOPPED) | VM_STATE_BIT(VM_CRASHED), false, 0))
		client_error(c, id, PROTO_ERR_INTERNAL, "out of memory");
}

static void m_kill(struct client *c, struct json_object *id, struct json_object *params)
{
	struct vm *vm = target(c, id, params, true);

	if (!vm)
		return;
	if (!vm->pid) {
		client_error(c, id, PROTO_ERR_WRONG_STATE, "vm %s has no process (%s)", vm->cfg->name,
			     vm_state_name(vm->state));
		return;
	}
	vm->kill_requested = true;
	vm->restart_on_reset = false;
	snprintf(vm->cause, sizeof(vm->cause), "killed by request of uid %u", (unsigned)c->uid);
	guest_kill(vm);
	if (!vm_add_waiter(vm, c, id, VM_STATE_BIT(VM_STOPPED) | VM_STATE_BIT(VM_CRASHED), false, 10))
		client_error(c, id, PROTO_ERR_INTERNAL, "out of memory");
}

/* pause/resume/reset: forwarded, answered when the guest answers. */
static void forward_done(struct vm *vm, struct guest_call *call, struct proto_msg *reply,
			 const char *failure)
{
	struct json_object *r;

	if (reply && reply->kind == PROTO_RESULT) {
		if (strcmp(call->method, "pause") == 0 && vm->state == VM_RUNNING)
			vm_set_state(vm, VM_PAUSED);
		else if (strcmp(call->method, "resume") == 0 && vm->state == VM_PAUSED)
			vm_set_state(vm, VM_RUNNING);
	}
	if (!call->client)
		return;
	if (!reply) {
		client_error(call->client, call->client_id, PROTO_ERR_GUEST_FAILURE, "vm %s: %s",
			     vm->cfg->name, failure);
	} else if (reply->kind == PROTO_ERROR) {
		client_error(call->client, call->client_id, reply->code == PROTO_ERR_NOT_SUPPORTED ?
			     PROTO_ERR_NOT_SUPPORTED : PROTO_ERR_GUEST_FAILURE,
			     "vm %s: %s", vm->cfg->name, reply->message);
	} else {
		r = vm_to_json(vm);
		if (reply->result)
			json_object_object_add(r, "guest", json_object_get(reply->result));
		client_reply(call->client, call->client_id, r);
	}
}

static void forward(struct client *c, struct json_object *id, struct json_object *params,
		    const char *method, unsigned from)
{
	struct vm *vm = target(c, id, params, true);
	const char *why;

	if (!vm)
		return;
	if (!(VM_STATE_BIT(vm->state) & from)) {
		client_error(c, id, PROTO_ERR_WRONG_STATE, "cannot %s vm %s: it is %s", method,
			     vm->cfg->name, vm_state_name(vm->state));
		return;
	}
	why = guest_call(vm, method, NULL, c, id, forward_done);
	if (why)
		client_error(c, id, PROTO_ERR_GUEST_FAILURE, "vm %s: %s", vm->cfg->name, why);
}

static void m_pause(struct client *c, struct json_object *id, struct json_object *params)
{
	forward(c, id, params, "pause", VM_STATE_BIT(VM_RUNNING));
}

static void m_resume(struct client *c, struct json_object *id, struct json_object *params)
{
	forward(c, id, params, "resume", VM_STATE_BIT(VM_PAUSED));
}

static void m_reset(struct client *c, struct json_object *id, struct json_object *params)
{
	forward(c, id, params, "reset", VM_STATE_BIT(VM_RUNNING) | VM_STATE_BIT(VM_PAUSED));
}

/* The guest answers with the PNG inline ("guest": {"png", "width", "height"}). */
static void m_screenshot(struct client *c, struct json_object *id, struct json_object *params)
{
	forward(c, id, params, "screenshot", VM_STATE_BIT(VM_RUNNING) | VM_STATE_BIT(VM_PAUSED));
}

static void m_delete(struct client *c, struct json_object *id, struct json_object *params)
{
	struct vm *vm = target(c, id, params, true);
	struct json_object *r;

	if (!vm)
		return;
	if (vm_active(vm)) {
		client_error(c, id, PROTO_ERR_WRONG_STATE, "vm %s is %s: stop it first", vm->cfg->name,
			     vm_state_name(vm->state));
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "deleted", json_object_new_string(vm->cfg->name));
	log_info("vm %s: deleted by uid %u", vm->cfg->name, (unsigned)c->uid);
	vm_free(vm);
	client_reply(c, id, r);
}

static void m_console(struct client *c, struct json_object *id, struct json_object *params)
{
	struct vm *vm = target(c, id, params, true);
	struct json_object *r;

	if (!vm)
		return;
	if (vm->console.fd < 0 && vm->console.fill == 0) {
		client_error(c, id, PROTO_ERR_WRONG_STATE, "vm %s is %s: no console", vm->cfg->name,
			     vm_state_name(vm->state));
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "attached", json_object_new_string(vm->cfg->name));
	json_object_object_add(r, "history", json_object_new_int64((int64_t)vm->console.fill));
	json_object_object_add(r, "live", json_object_new_boolean(vm->console.fd >= 0));
	client_reply(c, id, r);
	if (c->dead)
		return;
	console_attach(vm, c);
}

static void m_wait(struct client *c, struct json_object *id, struct json_object *params)
{
	const char *state = "stopped";
	int64_t timeout = 0;
	char why[128];
	unsigned want;
	int s;
	struct vm *vm;

	if (param_error(c, id, proto_param_str(params, "state", false, &state, why, sizeof(why)), why) ||
	    param_error(c, id, proto_param_int(params, "timeout", false, &timeout, why, sizeof(why)), why))
		return;
	s = vm_state_parse(state);
	if (s < 0) {
		client_error(c, id, PROTO_ERR_INVALID_PARAMS, "unknown state \"%s\"", state);
		return;
	}
	if (timeout < 0 || timeout > 86400) {
		client_error(c, id, PROTO_ERR_INVALID_PARAMS, "timeout must be 0 to 86400 seconds");
		return;
	}
	vm = target(c, id, params, false);
	if (!vm)
		return;
	/* "stopped" is satisfied by any end, crashed included. */
	want = VM_STATE_BIT(s);
	if (s == VM_STOPPED)
		want |= VM_STATE_BIT(VM_CRASHED);
	if (want & VM_STATE_BIT(vm->state)) {
		client_reply(c, id, vm_to_json(vm));
		return;
	}
	if (!vm_add_waiter(vm, c, id, want, true, (int)timeout))
		client_error(c, id, PROTO_ERR_INTERNAL, "out of memory");
}

static void m_subscribe(struct client *c, struct json_object *id, struct json_object *params)
{
	struct json_object *r = json_object_new_object();

	c->subscribed = true;
	json_object_object_add(r, "subscribed", json_object_new_boolean(1));
	client_reply(c, id, r);
}

static void m_reload(struct client *c, struct json_object *id, struct json_object *params)
{
	struct json_object *report = NULL;
	char err[4096];

	if (!is_admin(c)) {
		client_error(c, id, PROTO_ERR_PERMISSION, "permission denied: reload is for root");
		return;
	}
	if (vmd_reload(c->vmd, &report, err, sizeof(err)) < 0) {
		client_send(c, proto_error(id, PROTO_ERR_CONFIG, "configuration refused",
					   json_object_new_string(err)));
		return;
	}
	client_reply(c, id, report);
}

static void m_snapshot(struct client *c, struct json_object *id, struct json_object *params)
{
	/* Validate the target first so errors stay precise. */
	if (!target(c, id, params, true))
		return;
	client_error(c, id, PROTO_ERR_NOT_SUPPORTED, "snapshots are not supported yet");
}

static void m_snapshot_list(struct client *c, struct json_object *id, struct json_object *params)
{
	if (!target(c, id, params, false))
		return;
	client_error(c, id, PROTO_ERR_NOT_SUPPORTED, "snapshots are not supported yet");
}

static const char *const k_none[] = { NULL };
static const char *const k_hello[] = { "protocol", "client", NULL };
static const char *const k_name[] = { "name", NULL };
static const char *const k_start[] = { "name", "wait", NULL };
static const char *const k_stop[] = { "name", "force", "wait", "timeout", NULL };
static const char *const k_wait[] = { "name", "state", "timeout", NULL };
static const char *const k_create[] = { "name", "memory", "kernel", "initrd", "cmdline", "bios",
					"disks", "vnc", "owner", "start", "wait", NULL };
static const char *const k_snapshot[] = { "name", "path", "snapshot", NULL };

static const struct method methods[] = {
	{ "hello", m_hello, k_hello },
	{ "info", m_info, k_none },
	{ "list", m_list, k_none },
	{ "status", m_status, k_name },
	{ "create", m_create, k_create },
	{ "define", m_create, k_create },
	{ "start", m_start, k_start },
	{ "stop", m_stop, k_stop },
	{ "kill", m_kill, k_name },
	{ "pause", m_pause, k_name },
	{ "resume", m_resume, k_name },
	{ "reset", m_reset, k_name },
	{ "screenshot", m_screenshot, k_name },
	{ "delete", m_delete, k_name },
	{ "console", m_console, k_name },
	{ "wait", m_wait, k_wait },
	{ "subscribe", m_subscribe, k_none },
	{ "reload", m_reload, k_none },
	{ "snapshot-save", m_snapshot, k_snapshot },
	{ "snapshot-restore", m_snapshot, k_snapshot },
	{ "snapshot-delete", m_snapshot, k_snapshot },
	{ "snapshot-list", m_snapshot_list, k_name },
};

void methods_dispatch(struct client *c, struct proto_msg *m)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(methods[i].name, m->method) != 0)
			continue;
		if (check_keys(c, m->id, m->params, methods[i].keys))
			methods[i].fn(c, m->id, m->params);
		return;
	}
	client_error(c, m->id, PROTO_ERR_METHOD_NOT_FOUND, "method not found: %s", m->method);
}

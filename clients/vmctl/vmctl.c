/*
 * vmctl [-s socket] [--json] command [args]: see vmctl.8.
 */
#include "clients/vmctl/vmctl.h"
#include "proto/base64.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ctx {
	struct conn conn;
	const char *socket;
	bool json;
	bool connected;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: vmctl [-s socket] [--json] command [args]\n"
		"commands:\n"
		"  start NAME [-W]                          start a configured guest\n"
		"  start -n NAME -m MEM -k KERNEL [-i INITRD] [-a CMDLINE] [-b BIOS] [-d DISK]...\n"
		"  create -n NAME -m MEM ...                define an ad-hoc guest without starting it\n"
		"  stop [-f] [-w] [-t SECS] NAME | -a       power down (force: quit now)\n"
		"  kill NAME | pause NAME | resume NAME | reset NAME | delete NAME\n"
		"  status [NAME] | list                     guests as a table\n"
		"  console [-l SECS] NAME                   attach to the serial console (~. leaves)\n"
		"  wait [-t SECS] NAME [STATE]              wait for a state (default stopped)\n"
		"  info | reload | show events\n"
		"  snapshot save|restore|delete NAME PATH | snapshot list NAME\n"
		"  screenshot NAME FILE.png                 write the guest's screen as a PNG\n");
	exit(EXIT_USAGE);
}

static void connect_once(struct ctx *x)
{
	if (!x->connected) {
		conn_open(&x->conn, x->socket);
		x->connected = true;
	}
}

/* Calls and exits EXIT_FAILED with vmd's message on an error. */
static struct json_object *call(struct ctx *x, const char *method, struct json_object *params)
{
	struct json_object *r;
	char msg[4096];
	int code = 0;

	connect_once(x);
	r = conn_call(&x->conn, method, params, &code, msg, sizeof(msg));
	if (!r) {
		fprintf(stderr, "vmctl: %s\n", msg);
		exit(EXIT_FAILED);
	}
	return r;
}

static struct json_object *name_params(const char *name)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "name", json_object_new_string(name));
	return p;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static int64_t num(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_int64(v) : dflt;
}

static void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
}

static void fmt_uptime(char *buf, size_t len, int64_t ns)
{
	int64_t s = ns / 1000000000;

	if (ns < 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
}

static void print_table(struct json_object *vms)
{
	size_t i, n = json_object_array_length(vms);
	char pid[16], up[32], owner[32];

	printf("%-20s %-9s %7s %7s %8s %6s %s\n", "NAME", "STATE", "PID", "MEMORY", "UPTIME", "OWNER",
	       "CAUSE");
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(vms, i);
		int64_t p = num(v, "pid", 0);
		const char *cause = str(v, "cause");
		const char *gs = str(v, "guest_state");

		if (!cause && gs && strcmp(gs, "halted") == 0)
			cause = "guest halted (HLT with interrupts off)";

		snprintf(pid, sizeof(pid), p ? "%lld" : "-", (long long)p);
		fmt_uptime(up, sizeof(up), num(v, "uptime_ns", -1));
		if (num(v, "owner_uid", -1) >= 0)
			snprintf(owner, sizeof(owner), "%lld", (long long)num(v, "owner_uid", 0));
		else if (num(v, "owner_gid", -1) >= 0)
			snprintf(owner, sizeof(owner), ":%lld", (long long)num(v, "owner_gid", 0));
		else
			snprintf(owner, sizeof(owner), "root");
		printf("%-20s %-9s %7s %6lldM %8s %6s %s%s\n", str(v, "name"), str(v, "state"), pid,
		       (long long)(num(v, "memory", 0) >> 20), up, owner, cause ? cause : "",
		       json_object_get_boolean(json_object_object_get(v, "needs_restart")) ?
		       " (config changed: restart to apply)" : "");
	}
}

/* The rest of one guest's status, below its table row. */
static void print_details(struct json_object *v)
{
	static const char *const keys[] = { "kernel", "initrd", "cmdline", "bios", "vnc",
					    "defined_at", NULL };
	struct json_object *g, *disks;
	char up[32];
	size_t i;

	for (i = 0; keys[i]; i++)
		if (str(v, keys[i]))
			printf("  %-12s %s\n", keys[i], str(v, keys[i]));
	disks = json_object_object_get(v, "disks");
	for (i = 0; disks && i < json_object_array_length(disks); i++)
		printf("  %-12s %s\n", "disk", json_object_get_string(json_object_array_get_idx(disks, i)));
	printf("  %-12s %lld\n", "console", (long long)num(v, "console_clients", 0));
	if (json_object_object_get_ex(v, "guest", &g) && g) {
		fmt_uptime(up, sizeof(up), num(g, "uptime_ns", -1));
		printf("  %-12s %s, %lld instructions, %s of guest time\n", "guest",
		       str(g, "state") ? str(g, "state") : "?", (long long)num(g, "insns", 0), up);
	} else if (str(v, "guest_error")) {
		printf("  %-12s %s\n", "guest", str(v, "guest_error"));
	}
}

static int cmd_list(struct ctx *x, int argc, char **argv)
{
	struct json_object *r, *vms;

	if (argc > 2)
		usage();
	if (argc == 2) {
		r = call(x, "status", name_params(argv[1]));
		if (x->json) {
			print_json(r);
		} else {
			vms = json_object_new_array();
			json_object_array_add(vms, json_object_get(r));
			print_table(vms);
			json_object_put(vms);
			print_details(r);
		}
		json_object_put(r);
		return EXIT_OK;
	}
	r = call(x, "list", NULL);
	if (x->json)
		print_json(json_object_object_get(r, "vms"));
	else
		print_table(json_object_object_get(r, "vms"));
	json_object_put(r);
	return EXIT_OK;
}

/* A file argument is sent absolute: vmd does not share our cwd. */
static struct json_object *abs_path(const char *p)
{
	char buf[PATH_MAX];

	if (p[0] == '/')
		return json_object_new_string(p);
	if (!realpath(p, buf)) {
		fprintf(stderr, "vmctl: %s: %s\n", p, strerror(errno));
		exit(EXIT_FAILED);
	}
	return json_object_new_string(buf);
}

static int cmd_create(struct ctx *x, int argc, char **argv, bool start)
{
	struct json_object *p = json_object_new_object(), *disks = json_object_new_array(), *r;
	const char *name = NULL;
	bool nowait = false;
	int ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "n:m:k:i:a:b:d:o:W")) != -1) {
		switch (ch) {
		case 'n': name = optarg; break;
		case 'm': json_object_object_add(p, "memory", json_object_new_string(optarg)); break;
		case 'k': json_object_object_add(p, "kernel", abs_path(optarg)); break;
		case 'i': json_object_object_add(p, "initrd", abs_path(optarg)); break;
		case 'a': json_object_object_add(p, "cmdline", json_object_new_string(optarg)); break;
		case 'b': json_object_object_add(p, "bios", abs_path(optarg)); break;
		case 'd': json_object_array_add(disks, abs_path(optarg)); break;
		case 'o': json_object_object_add(p, "owner", json_object_new_string(optarg)); break;
		case 'W': nowait = true; break;
		default: usage();
		}
	}
	if (!name || optind != argc)
		usage();
	json_object_object_add(p, "name", json_object_new_string(name));
	if (json_object_array_length(disks))
		json_object_object_add(p, "disks", disks);
	else
		json_object_put(disks);
	if (start) {
		json_object_object_add(p, "start", json_object_new_boolean(1));
		json_object_object_add(p, "wait", json_object_new_boolean(!nowait));
	}
	r = call(x, "create", p);
	if (x->json)
		print_json(r);
	else
		printf("%s: %s\n", name, str(r, "state"));
	json_object_put(r);
	return EXIT_OK;
}

static int cmd_start(struct ctx *x, int argc, char **argv)
{
	struct json_object *p, *r;
	int i;
	bool nowait = false;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-n") == 0 || strncmp(argv[i], "-n", 2) == 0)
			return cmd_create(x, argc, argv, true);
	if (argc == 3 && strcmp(argv[1], "-W") == 0) {
		nowait = true;
		argv++;
		argc--;
	}
	if (argc != 2 || argv[1][0] == '-')
		usage();
	p = name_params(argv[1]);
	json_object_object_add(p, "wait", json_object_new_boolean(!nowait));
	r = call(x, "start", p);
	if (x->json)
		print_json(r);
	else
		printf("%s: %s\n", argv[1], str(r, "state"));
	json_object_put(r);
	return EXIT_OK;
}

static int cmd_stop(struct ctx *x, int argc, char **argv)
{
	bool force = false, wait = false, all = false;
	long timeout = -1;
	int ch, i, rc = EXIT_OK;
	struct json_object *r, *vms;
	char *end;

	optind = 1;
	while ((ch = getopt(argc, argv, "fwat:")) != -1) {
		switch (ch) {
		case 'f': force = true; break;
		case 'w': wait = true; break;
		case 'a': all = true; break;
		case 't':
			timeout = strtol(optarg, &end, 10);
			if (*end || timeout < 0)
				usage();
			break;
		default: usage();
		}
	}
	if (all == (optind < argc) || argc - optind > 1)
		usage();
	vms = json_object_new_array();
	if (all) {
		r = call(x, "list", NULL);
		struct json_object *a = json_object_object_get(r, "vms");
		for (i = 0; i < (int)json_object_array_length(a); i++) {
			struct json_object *v = json_object_array_get_idx(a, i);
			const char *s = str(v, "state");
			if (strcmp(s, "running") == 0 || strcmp(s, "paused") == 0 || strcmp(s, "starting") == 0)
				json_object_array_add(vms, json_object_new_string(str(v, "name")));
		}
		json_object_put(r);
	} else {
		json_object_array_add(vms, json_object_new_string(argv[optind]));
	}
	for (i = 0; i < (int)json_object_array_length(vms); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(vms, i));
		struct json_object *p = name_params(name);
		char msg[1024];
		int code;

		json_object_object_add(p, "force", json_object_new_boolean(force));
		json_object_object_add(p, "wait", json_object_new_boolean(wait));
		if (timeout >= 0)
			json_object_object_add(p, "timeout", json_object_new_int((int)timeout));
		connect_once(x);
		r = conn_call(&x->conn, "stop", p, &code, msg, sizeof(msg));
		if (!r) {
			fprintf(stderr, "vmctl: %s\n", msg);
			rc = EXIT_FAILED;
			continue;
		}
		if (x->json)
			print_json(r);
		else
			printf("%s: %s%s%s%s\n", name, str(r, "state"), str(r, "cause") ? " (" : "",
			       str(r, "cause") ? str(r, "cause") : "", str(r, "cause") ? ")" : "");
		json_object_put(r);
	}
	json_object_put(vms);
	return rc;
}

static int cmd_simple(struct ctx *x, int argc, char **argv, const char *method)
{
	struct json_object *r;

	if (argc != 2)
		usage();
	r = call(x, method, name_params(argv[1]));
	if (x->json)
		print_json(r);
	else if (strcmp(method, "delete") == 0)
		printf("%s: deleted\n", argv[1]);
	else
		printf("%s: %s%s%s%s\n", argv[1], str(r, "state"), str(r, "cause") ? " (" : "",
		       str(r, "cause") ? str(r, "cause") : "", str(r, "cause") ? ")" : "");
	json_object_put(r);
	return EXIT_OK;
}

/* The PNG travels base64-encoded in the reply; vmctl writes the file with
 * the user's own rights (vmd never writes files for clients). */
static int cmd_screenshot(struct ctx *x, int argc, char **argv)
{
	struct json_object *r, *guest, *png;
	uint8_t *buf = NULL;
	size_t len = 0;
	FILE *f;
	int ok;

	if (argc != 3)
		usage();
	r = call(x, "screenshot", name_params(argv[1]));
	if (!json_object_object_get_ex(r, "guest", &guest) ||
	    !json_object_object_get_ex(guest, "png", &png) ||
	    base64_decode(json_object_get_string(png), &buf, &len) != 0) {
		fprintf(stderr, "vmctl: screenshot: vmd's reply holds no picture\n");
		json_object_put(r);
		return EXIT_FAILED;
	}
	json_object_put(r);
	f = fopen(argv[2], "wb");
	ok = f && fwrite(buf, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = 0;
	free(buf);
	if (!ok) {
		fprintf(stderr, "vmctl: %s: %s\n", argv[2], strerror(errno));
		return EXIT_FAILED;
	}
	if (x->json)
		printf("{ \"file\": \"%s\", \"bytes\": %zu }\n", argv[2], len);
	return EXIT_OK;
}

static int cmd_console(struct ctx *x, int argc, char **argv)
{
	double linger = 1.0;
	int ch;
	char *end;
	struct json_object *r;

	optind = 1;
	while ((ch = getopt(argc, argv, "l:")) != -1) {
		if (ch != 'l')
			usage();
		linger = strtod(optarg, &end);
		if (*end || linger < 0)
			usage();
	}
	if (argc - optind != 1)
		usage();
	r = call(x, "console", name_params(argv[optind]));
	json_object_put(r);
	return console_run(&x->conn, argv[optind], linger);
}

static int cmd_wait(struct ctx *x, int argc, char **argv)
{
	long timeout = 0;
	int ch;
	char *end;
	struct json_object *p, *r;

	optind = 1;
	while ((ch = getopt(argc, argv, "t:")) != -1) {
		if (ch != 't')
			usage();
		timeout = strtol(optarg, &end, 10);
		if (*end || timeout < 0)
			usage();
	}
	if (argc - optind < 1 || argc - optind > 2)
		usage();
	p = name_params(argv[optind]);
	if (argc - optind == 2)
		json_object_object_add(p, "state", json_object_new_string(argv[optind + 1]));
	if (timeout)
		json_object_object_add(p, "timeout", json_object_new_int((int)timeout));
	r = call(x, "wait", p);
	if (x->json)
		print_json(r);
	else
		printf("%s: %s%s%s%s\n", argv[optind], str(r, "state"), str(r, "cause") ? " (" : "",
		       str(r, "cause") ? str(r, "cause") : "", str(r, "cause") ? ")" : "");
	json_object_put(r);
	return EXIT_OK;
}

static int cmd_info(struct ctx *x, int argc, char **argv)
{
	struct json_object *r;

	if (argc != 1)
		usage();
	r = call(x, "info", NULL);
	if (x->json) {
		print_json(r);
	} else {
		json_object_object_foreach(r, key, val)
			printf("%-18s %s\n", key, json_object_get_string(val));
	}
	json_object_put(r);
	return EXIT_OK;
}

static int cmd_reload(struct ctx *x, int argc, char **argv)
{
	struct json_object *r;

	if (argc != 1)
		usage();
	r = call(x, "reload", NULL);
	if (x->json) {
		print_json(r);
	} else {
		json_object_object_foreach(r, key, val)
			printf("%s: %s\n", key, json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
		if (json_object_object_length(r) == 0)
			printf("reloaded: no changes\n");
	}
	json_object_put(r);
	return EXIT_OK;
}

static int cmd_events(struct ctx *x, int argc, char **argv)
{
	struct json_object *r, *p, *v;

	if (argc != 2 || strcmp(argv[1], "events") != 0)
		usage();
	r = call(x, "subscribe", NULL);
	json_object_put(r);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((r = conn_next(&x->conn)) != NULL) {
		if (json_object_object_get_ex(r, "params", &p) && p) {
			if (x->json) {
				printf("%s\n", json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
			} else {
				printf("%s %s", str(p, "vm") ? str(p, "vm") : "-", str(p, "type"));
				json_object_object_foreach(p, key, val) {
					if (strcmp(key, "vm") && strcmp(key, "type")) {
						v = val;
						printf(" %s=%s", key, json_object_get_string(v));
					}
				}
				printf("\n");
			}
		}
		json_object_put(r);
	}
	return EXIT_UNREACHABLE;
}

static int cmd_snapshot(struct ctx *x, int argc, char **argv)
{
	struct json_object *p, *r;
	char method[32];

	if (argc < 3)
		usage();
	if (strcmp(argv[1], "list") == 0) {
		if (argc != 3)
			usage();
		p = name_params(argv[2]);
	} else if (strcmp(argv[1], "save") == 0 || strcmp(argv[1], "restore") == 0 ||
		   strcmp(argv[1], "delete") == 0) {
		if (argc != 4)
			usage();
		p = name_params(argv[2]);
		json_object_object_add(p, "path", strcmp(argv[1], "save") == 0 ?
				       json_object_new_string(argv[3]) : abs_path(argv[3]));
	} else {
		usage();
		return EXIT_USAGE;
	}
	snprintf(method, sizeof(method), "snapshot-%s", argv[1]);
	r = call(x, method, p);
	print_json(r);
	json_object_put(r);
	return EXIT_OK;
}

static void default_socket(char *buf, size_t len)
{
	const char *env = getenv("VMD_SOCKET"), *dir = getenv("XDG_RUNTIME_DIR");

	if (env && env[0])
		snprintf(buf, len, "%s", env);
	else if (getuid() == 0 || !dir || !dir[0])
		snprintf(buf, len, "/run/vmd.sock");
	else
		snprintf(buf, len, "%s/vmd.sock", dir);
}

int main(int argc, char **argv)
{
	struct ctx x;
	char sock[PATH_MAX];
	int i = 1, rc;
	const char *cmd;

	memset(&x, 0, sizeof(x));
	signal(SIGPIPE, SIG_IGN);
	default_socket(sock, sizeof(sock));
	x.socket = sock;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
			x.socket = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
			x.json = true;
			i++;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage();
		} else {
			usage();
		}
	}
	if (i >= argc)
		usage();
	argc -= i;
	argv += i;
	/* Per-command --json after the command word, too. */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0) {
			x.json = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			i--;
		}
	cmd = argv[0];
	if (strcmp(cmd, "start") == 0)
		rc = cmd_start(&x, argc, argv);
	else if (strcmp(cmd, "create") == 0)
		rc = cmd_create(&x, argc, argv, false);
	else if (strcmp(cmd, "stop") == 0)
		rc = cmd_stop(&x, argc, argv);
	else if (strcmp(cmd, "kill") == 0 || strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 ||
		 strcmp(cmd, "reset") == 0 || strcmp(cmd, "delete") == 0)
		rc = cmd_simple(&x, argc, argv, cmd);
	else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "list") == 0)
		rc = cmd_list(&x, argc, argv);
	else if (strcmp(cmd, "console") == 0)
		rc = cmd_console(&x, argc, argv);
	else if (strcmp(cmd, "wait") == 0)
		rc = cmd_wait(&x, argc, argv);
	else if (strcmp(cmd, "info") == 0)
		rc = cmd_info(&x, argc, argv);
	else if (strcmp(cmd, "reload") == 0)
		rc = cmd_reload(&x, argc, argv);
	else if (strcmp(cmd, "show") == 0)
		rc = cmd_events(&x, argc, argv);
	else if (strcmp(cmd, "snapshot") == 0)
		rc = cmd_snapshot(&x, argc, argv);
	else if (strcmp(cmd, "screenshot") == 0)
		rc = cmd_screenshot(&x, argc, argv);
	else {
		fprintf(stderr, "vmctl: unknown command \"%s\"\n", cmd);
		usage();
		rc = EXIT_USAGE;
	}
	if (x.connected)
		conn_close(&x.conn);
	return rc;
}

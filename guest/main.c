/* vmd-guest: one virtual PC in one process. See usage() for the contract with vmd. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest.h"
#include "lib/log.h"

static void usage(FILE *f)
{
	fprintf(f,
	"usage: vmd-guest [options]\n"
	"Runs one virtual i686 PC until it powers off.\n"
	"\n"
	"Machine:\n"
	"  --name NAME          the machine's name (for logs)\n"
	"  -m SIZE              RAM, e.g. 256M or 1G (2M to 3584M; default 128M)\n"
	"  -k KERNEL            boot a Linux bzImage or a multiboot kernel directly\n"
	"  -i FILE              the initrd (Linux), or a module (multiboot, repeatable;\n"
	"                       \"FILE args\" gives the module a command line)\n"
	"  -a CMDLINE           the kernel command line\n"
	"  -b BIOS              a BIOS ROM image, started at the reset vector\n"
	"  --no-reboot          exit (reason \"reset\") when the guest resets, instead of rebooting\n"
	"  --debug-exit         enable QEMU's isa-debug-exit at port 0xf4: a write of V exits\n"
	"                       with status (V << 1) | 1\n"
	"  --debugcon FILE      write port 0xe9 (and 0x402) output to FILE (default: the log, with -v)\n"
	"\n"
	"Console and control:\n"
	"  --serial SPEC        COM1: stdio (default; raw mode if a tty), fd:N (an inherited\n"
	"                       fd, read and written), or unix:PATH (listen there, one client)\n"
	"  --console-fd N       same as --serial fd:N\n"
	"  --control-fd N       JSON-RPC 2.0 control channel (one object per line) on fd N.\n"
	"                       Requests: status -> {state, insns, uptime_ns}; pause; resume;\n"
	"                       reset; powerdown (ACPI power button); quit (exit 0);\n"
	"                       snapshot-save {path}; snapshot-load {path} (same machine options);\n"
	"                       screenshot {path} (PNG of the screen).\n"
	"                       Notifications: state {state[, reason]} on changes;\n"
	"                       shutdown {reason, code} before exiting because of the guest:\n"
	"                       poweroff, reset (with --no-reboot), triple-fault (with\n"
	"                       --no-reboot), debug-exit.\n"
	"\n"
	"Screen (the VGA, over VNC through build/vmd-display):\n"
	"  --vnc LISTEN         serve the screen on ADDR:PORT (VNC, and noVNC over WebSocket)\n"
	"                       or unix:PATH; keyboard and mouse go to the PS/2 ports\n"
	"  --vnc-password-file F  VNC password (first line of F)\n"
	"  --vnc-web DIR        noVNC pages to serve (default /usr/share/novnc if present)\n"
	"\n"
	"Debugging:\n"
	"  --gdb PORT           GDB remote stub on 127.0.0.1:PORT (target remote :PORT)\n"
	"  --gdb-wait           do not start the CPU until the debugger continues it\n"
	"  --trace FILE         instruction and interrupt trace to FILE ...\n"
	"  --trace-from NS      ... from this guest time (ns, default 0) ...\n"
	"  --trace-to NS        ... until this guest time (default: forever)\n"
	"  -v                   more log output (repeat for more)\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0 powered off or quit (or reset with --no-reboot), 1 internal error,\n"
	"2 bad configuration, or the guest's isa-debug-exit status.\n");
}

enum {
	OPT_NAME = 256, OPT_SERIAL, OPT_CONSOLE_FD, OPT_CONTROL_FD, OPT_DEBUG_EXIT, OPT_GDB,
	OPT_GDB_WAIT, OPT_TRACE, OPT_TRACE_FROM, OPT_TRACE_TO, OPT_NO_REBOOT, OPT_DEBUGCON,
	OPT_VNC, OPT_VNC_PASSWORD_FILE, OPT_VNC_WEB,
};

static const struct option long_opts[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "console-fd", required_argument, NULL, OPT_CONSOLE_FD },
	{ "control-fd", required_argument, NULL, OPT_CONTROL_FD },
	{ "debug-exit", no_argument, NULL, OPT_DEBUG_EXIT },
	{ "debugcon", required_argument, NULL, OPT_DEBUGCON },
	{ "gdb", required_argument, NULL, OPT_GDB },
	{ "gdb-wait", no_argument, NULL, OPT_GDB_WAIT },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "trace-from", required_argument, NULL, OPT_TRACE_FROM },
	{ "trace-to", required_argument, NULL, OPT_TRACE_TO },
	{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
	{ "vnc", required_argument, NULL, OPT_VNC },
	{ "vnc-password-file", required_argument, NULL, OPT_VNC_PASSWORD_FILE },
	{ "vnc-web", required_argument, NULL, OPT_VNC_WEB },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool parse_fd(const char *s, int *out)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v > 65535)
		return false;
	*out = (int)v;
	return true;
}

int main(int argc, char **argv)
{
	struct guest_options opt = { .control_fd = -1, .trace_to = UINT64_MAX };
	static char serial_spec[32];
	static struct guest g;
	const char *debugcon = NULL;
	char err[1024];
	uint64_t v;
	int c, rc;

	opt.pc.ram_size = 128ull << 20;
	while ((c = getopt_long(argc, argv, "m:k:i:a:b:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			opt.pc.ram_size = memory_parse_size(optarg);
			/* A bare number is MiB, as with QEMU's -m. */
			if (opt.pc.ram_size && strspn(optarg, "0123456789") == strlen(optarg))
				opt.pc.ram_size <<= 20;
			if (!opt.pc.ram_size) {
				fprintf(stderr, "vmd-guest: bad memory size \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'k': opt.pc.kernel = optarg; break;
		case 'i':
			if (opt.pc.ninitrd >= PC_MAX_MODULES) {
				fprintf(stderr, "vmd-guest: at most %d -i files\n", PC_MAX_MODULES);
				return 2;
			}
			opt.pc.initrd[opt.pc.ninitrd++] = optarg;
			break;
		case 'a': opt.pc.cmdline = optarg; break;
		case 'b': opt.pc.bios = optarg; break;
		case 'v': opt.verbose++; break;
		case 'h': usage(stdout); return 0;
		case OPT_NAME: opt.name = optarg; break;
		case OPT_SERIAL: opt.serial = optarg; break;
		case OPT_CONSOLE_FD:
			if (!parse_fd(optarg, &rc)) {
				fprintf(stderr, "vmd-guest: bad --console-fd \"%s\"\n", optarg);
				return 2;
			}
			snprintf(serial_spec, sizeof(serial_spec), "fd:%d", rc);
			opt.serial = serial_spec;
			break;
		case OPT_CONTROL_FD:
			if (!parse_fd(optarg, &opt.control_fd)) {
				fprintf(stderr, "vmd-guest: bad --control-fd \"%s\"\n", optarg);
				return 2;
			}
			break;
		case OPT_DEBUG_EXIT: opt.pc.debug_exit = true; break;
		case OPT_DEBUGCON: debugcon = optarg; break;
		case OPT_GDB:
			if (!parse_u64(optarg, &v) || v == 0 || v > 65535) {
				fprintf(stderr, "vmd-guest: bad --gdb port \"%s\"\n", optarg);
				return 2;
			}
			opt.gdb_port = (int)v;
			break;
		case OPT_GDB_WAIT: opt.gdb_wait = true; break;
		case OPT_TRACE: opt.trace_path = optarg; break;
		case OPT_TRACE_FROM:
		case OPT_TRACE_TO:
			if (!parse_u64(optarg, &v)) {
				fprintf(stderr, "vmd-guest: bad time \"%s\" (nanoseconds)\n", optarg);
				return 2;
			}
			if (c == OPT_TRACE_FROM)
				opt.trace_from = v;
			else
				opt.trace_to = v;
			break;
		case OPT_NO_REBOOT: opt.no_reboot = true; break;
		case OPT_VNC: opt.vnc = optarg; break;
		case OPT_VNC_PASSWORD_FILE: opt.vnc_password_file = optarg; break;
		case OPT_VNC_WEB: opt.vnc_web = optarg; break;
		default:
			fprintf(stderr, "Try 'vmd-guest --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmd-guest: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if ((opt.vnc_password_file || opt.vnc_web) && !opt.vnc) {
		fprintf(stderr, "vmd-guest: --vnc-password-file and --vnc-web need --vnc\n");
		return 2;
	}
	if (opt.gdb_wait && !opt.gdb_port) {
		fprintf(stderr, "vmd-guest: --gdb-wait needs --gdb PORT\n");
		return 2;
	}
	log_init(opt.name ? opt.name : "vmd-guest", false, opt.verbose);
	/* A console or debugger that goes away must not kill the machine. */
	signal(SIGPIPE, SIG_IGN);
	if (debugcon) {
		opt.pc.debugcon = fopen(debugcon, "w");
		if (!opt.pc.debugcon) {
			fprintf(stderr, "vmd-guest: %s: %s\n", debugcon, strerror(errno));
			return 2;
		}
	}
	rc = guest_init(&g, &opt, err, sizeof(err));
	if (rc != 0) {
		log_err("%s", err);
		guest_destroy(&g);
		if (opt.pc.debugcon)
			fclose(opt.pc.debugcon);
		return rc;
	}
	rc = guest_run(&g);
	guest_destroy(&g);
	if (opt.pc.debugcon)
		fclose(opt.pc.debugcon);
	return rc;
}

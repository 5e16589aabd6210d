#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "tests/unit/harness.h"

static const char good[] =
	"# a full example\n"
	"socket \"/tmp/vmd-test.sock\"\n"
	"socket group root\n"
	"guest-binary \"/opt/vmd-guest\"\n"
	"shutdown-timeout 12\n"
	"kdir = \"/boot\"\n"
	"vm \"web\" {\n"
	"\tmemory 512M; kernel \"/boot/vmlinuz\"; initrd \"/boot/initrd.img\"\n"
	"\tcmdline \"console=ttyS0 quiet\"\n"
	"\tdisk \"/var/vm/web.img\"\n"
	"\tdisk \"/var/vm/data.img\"\n"
	"\tnetwork { hostfwd tcp 2222 22; hostfwd udp 5353 53 }\n"
	"\tnetwork\n"
	"\tvnc listen \"127.0.0.1:5901\" password-file \"/etc/vmd/web.pw\"\n"
	"\towner root:root\n"
	"\tautostart yes\n"
	"}\n"
	"vm db { bios $kdir; memory 1G }\n";

static void full_grammar(struct test *t)
{
	struct config cfg;
	char err[1024];
	struct vm_config *w, *d;

	config_init(&cfg);
	CHECK_EQ(t, config_parse_string(&cfg, "good.conf", good, err, sizeof(err)), 0);
	CHECK_STR(t, err, "");
	CHECK_STR(t, cfg.socket_path, "/tmp/vmd-test.sock");
	CHECK(t, cfg.has_socket_gid);
	CHECK_EQ(t, cfg.socket_gid, 0);
	CHECK_STR(t, cfg.guest_binary, "/opt/vmd-guest");
	CHECK_EQ(t, cfg.shutdown_timeout, 12);
	REQUIRE(t, cfg.nvm == 2);
	w = cfg.vm[0];
	d = cfg.vm[1];
	CHECK_STR(t, w->name, "web");
	CHECK_EQ(t, w->memory, 512ull << 20);
	CHECK_STR(t, w->kernel, "/boot/vmlinuz");
	CHECK_STR(t, w->initrd, "/boot/initrd.img");
	CHECK_STR(t, w->cmdline, "console=ttyS0 quiet");
	REQUIRE(t, w->ndisk == 2);
	CHECK_STR(t, w->disk[1], "/var/vm/data.img");
	REQUIRE(t, w->nnet == 2);
	REQUIRE(t, w->net[0].nfwd == 2);
	CHECK(t, !w->net[0].fwd[0].udp);
	CHECK_EQ(t, w->net[0].fwd[0].host_port, 2222);
	CHECK_EQ(t, w->net[0].fwd[0].guest_port, 22);
	CHECK(t, w->net[0].fwd[1].udp);
	CHECK_EQ(t, w->net[1].nfwd, 0);
	CHECK_STR(t, w->vnc_listen, "127.0.0.1:5901");
	CHECK_STR(t, w->vnc_password_file, "/etc/vmd/web.pw");
	CHECK(t, w->has_owner_uid && w->owner_uid == 0);
	CHECK(t, w->has_owner_gid && w->owner_gid == 0);
	CHECK(t, w->autostart);
	CHECK_STR(t, w->where, "good.conf:7");
	CHECK_STR(t, d->name, "db");
	CHECK_STR(t, d->bios, "/boot");
	CHECK_EQ(t, d->memory, 1ull << 30);
	CHECK(t, !d->autostart);
	CHECK(t, !d->has_owner_uid);
	config_free(&cfg);
}

static void defaults(struct test *t)
{
	struct config cfg;
	char err[256];

	config_init(&cfg);
	CHECK_EQ(t, config_parse_string(&cfg, "x", "vm a { kernel \"/k\" }", err, sizeof(err)), 0);
	CHECK(t, cfg.socket_path == NULL);
	CHECK(t, cfg.guest_binary == NULL);
	CHECK_EQ(t, cfg.shutdown_timeout, CONFIG_DEFAULT_SHUTDOWN_TIMEOUT);
	REQUIRE(t, cfg.nvm == 1);
	CHECK_EQ(t, cfg.vm[0]->memory, 256ull << 20);
	config_free(&cfg);
	/* An empty file is a valid configuration with no guests. */
	config_init(&cfg);
	CHECK_EQ(t, config_parse_string(&cfg, "x", "# nothing\n\n", err, sizeof(err)), 0);
	CHECK_EQ(t, cfg.nvm, 0);
	config_free(&cfg);
}

/* Parses text and expects exactly the error text want. */
static void expect_err(struct test *t, int line, const char *text, const char *want)
{
	struct config cfg;
	char err[2048];
	int r;

	config_init(&cfg);
	r = config_parse_string(&cfg, "t.conf", text, err, sizeof(err));
	if (r != -1 || strcmp(err, want) != 0)
		test_fail(t, __FILE__, line, "r=%d\n    got:  %s\n    want: %s", r, err, want);
	config_free(&cfg);
}

#define ERR(text, want) expect_err(t, __LINE__, text, want)

static void every_error_with_line(struct test *t)
{
	ERR("frobnicate 1\n", "t.conf:1: unknown statement \"frobnicate\"");
	ERR("\n\nvm \"a\" {\n kernel \"/k\"\n colour blue\n}\n",
	    "t.conf:5: unknown vm option \"colour\"");
	ERR("vm \"a b\" { kernel \"/k\" }", "t.conf:1: bad vm name \"a b\" (1-64 of A-Z a-z 0-9 . _ -)");
	ERR("vm a { kernel \"/k\" }\nvm a { kernel \"/k\" }\n",
	    "t.conf:2: vm \"a\" already defined at t.conf:1");
	ERR("vm a kernel \"/k\"\n", "t.conf:1: '{' expected after vm \"a\", found kernel");
	ERR("vm a {\n kernel \"/k\"\n", "t.conf:3: missing '}' closing vm \"a\" of line 1");
	ERR("vm a {\n memory 10X\n kernel \"/k\" }",
	    "t.conf:2: bad memory size \"10X\" (use e.g. 256M or 1G)");
	ERR("vm a {\n memory 1M\n kernel \"/k\" }",
	    "t.conf:2: memory size \"1M\" out of range (4M to 3072M)");
	ERR("vm a {\n memory 8G\n kernel \"/k\" }",
	    "t.conf:2: memory size \"8G\" out of range (4M to 3072M)");
	ERR("vm a {\n memory 4100K\n kernel \"/k\" }",
	    "t.conf:2: memory size \"4100K\" is not a whole number of MiB");
	ERR("vm a {\n memory 64M\n memory 64M\n kernel \"/k\" }", "t.conf:3: memory given twice");
	ERR("vm a {\n kernel \"vmlinuz\" }",
	    "t.conf:2: kernel \"vmlinuz\" must be an absolute path");
	ERR("vm a {\n kernel \"/k\"\n kernel \"/j\" }", "t.conf:3: kernel given twice");
	ERR("vm a {\n memory 64M\n}", "t.conf:1: vm \"a\" has nothing to boot (give a kernel, bios or disk)");
	ERR("vm a {\n disk \"/d\"\n initrd \"/i\" }", "t.conf:1: vm \"a\": initrd without a kernel");
	ERR("vm a { kernel \"/k\"\n network { hostfwd sctp 1 2 } }",
	    "t.conf:2: hostfwd needs tcp or udp, found sctp");
	ERR("vm a { kernel \"/k\"\n network { hostfwd tcp 70000 22 } }",
	    "t.conf:2: host port must be a number from 1 to 65535, not \"70000\"");
	ERR("vm a { kernel \"/k\"\n network { forward 1 }\n}",
	    "t.conf:2: unknown network option \"forward\" (expected hostfwd)");
	ERR("vm a { kernel \"/k\"\n vnc listen \"nowhere\" }",
	    "t.conf:2: vnc listen \"nowhere\" must be ADDRESS:PORT");
	ERR("vm a { kernel \"/k\"\n vnc password-file \"/pw\" }", "t.conf:2: vnc needs a listen address");
	ERR("vm a { kernel \"/k\"\n owner no-such-user-here }",
	    "t.conf:2: unknown user \"no-such-user-here\"");
	ERR("vm a { kernel \"/k\"\n owner :no-such-group-here }",
	    "t.conf:2: unknown group \"no-such-group-here\"");
	ERR("vm a { kernel \"/k\"\n autostart maybe }",
	    "t.conf:2: autostart must be yes or no, not \"maybe\"");
	ERR("socket group no-such-group-here\n", "t.conf:1: unknown group \"no-such-group-here\"");
	ERR("socket \"relative.sock\"\n", "t.conf:1: socket path \"relative.sock\" must be an absolute path");
	ERR("shutdown-timeout 0\n", "t.conf:1: shutdown-timeout must be a number from 1 to 3600, not \"0\"");
	ERR("shutdown-timeout\n", "t.conf:2: shutdown-timeout expected, found end of file");
	ERR("vm a { kernel \"/k }\n",
	    "t.conf:1: unterminated string\nt.conf:2: missing '}' closing vm \"a\" of line 1");
	ERR("vm a { kernel $nope }\n", "t.conf:1: undefined macro 'nope'");
	ERR("vm a { kernel \"/k\" } %\n", "t.conf:1: unexpected character '%'");
	ERR("vm a { kernel \"/k\"\n disk \"/1\"\n disk \"/2\"\n disk \"/3\"\n disk \"/4\"\n disk \"/5\" }",
	    "t.conf:6: more than 4 disks");
	ERR("vm a { kernel \"/k\"\n cmdline \"x\"\n cmdline \"y\" }", "t.conf:3: cmdline given twice");
	ERR("vm a { kernel \"/k\"\n owner root\n owner root }", "t.conf:3: owner given twice");
	ERR("vm a { bios \"/b\"\n cmdline \"x\" }", "t.conf:1: vm \"a\": cmdline without a kernel");
	ERR("vm { kernel \"/k\" }", "t.conf:1: vm needs a name, found {");
	ERR("vm a { kernel \"/k\"\n vnc }", "t.conf:2: vnc needs listen \"ADDRESS:PORT\" and/or password-file \"/path\"");
	ERR("vm a { kernel \"/k\"\n network { hostfwd tcp 22 }\n}",
	    "t.conf:2: guest port expected, found }");
	ERR("vm a { kernel \"/k\"\n network { hostfwd tcp 1 2\n", "t.conf:3: missing '}' closing the network block of line 2\n"
	    "t.conf:3: missing '}' closing vm \"a\" of line 1");
	ERR("x = \nvm a { kernel \"/k\" }", "t.conf:1: macro x needs a value on its line");
	ERR("{ }\n", "t.conf:1: statement expected, found {");
	ERR("{ vm a { kernel \"/k\" } }\nfrob\n", "t.conf:1: statement expected, found {\n"
	    "t.conf:2: unknown statement \"frob\"");
}

static void several_errors_reported(struct test *t)
{
	/* Recovery: each bad line is reported, the good ones still parse. */
	ERR("bogus\nvm a {\n kernel \"/k\"\n memory lots\n colour red\n}\nshutdown-timeout -5\n",
	    "t.conf:1: unknown statement \"bogus\"\n"
	    "t.conf:4: bad memory size \"lots\" (use e.g. 256M or 1G)\n"
	    "t.conf:5: unknown vm option \"colour\"\n"
	    "t.conf:7: shutdown-timeout must be a number from 1 to 3600, not \"-5\"");
}

static void helpers(struct test *t)
{
	char why[128];
	struct vm_config *a, *b;

	CHECK(t, vm_name_valid("web-1.example_2"));
	CHECK(t, !vm_name_valid(""));
	CHECK(t, !vm_name_valid("-x"));
	CHECK(t, !vm_name_valid("a/b"));
	CHECK(t, !vm_name_valid("0123456789012345678901234567890123456789012345678901234567890123456789"));
	CHECK_EQ(t, parse_memory_size("512", why, sizeof(why)), 512ull << 20);
	CHECK_EQ(t, parse_memory_size("2g", why, sizeof(why)), 2ull << 30);
	CHECK_EQ(t, parse_memory_size("65536K", why, sizeof(why)), 64ull << 20);
	CHECK_EQ(t, parse_memory_size("64MB", why, sizeof(why)), 64ull << 20);
	CHECK_EQ(t, parse_memory_size("99999999999999999999G", why, sizeof(why)), 0);
	CHECK_EQ(t, parse_memory_size("-5M", why, sizeof(why)), 0);

	a = vm_config_new();
	REQUIRE(t, a);
	snprintf(a->name, sizeof(a->name), "x");
	a->kernel = strdup("/k");
	a->disk[a->ndisk++] = strdup("/d");
	b = vm_config_dup(a);
	REQUIRE(t, b);
	CHECK(t, vm_config_equal(a, b));
	CHECK(t, b->kernel != a->kernel);
	free(b->disk[0]);
	b->disk[0] = strdup("/e");
	CHECK(t, !vm_config_equal(a, b));
	vm_config_free(a);
	vm_config_free(b);
}

static void file_errors(struct test *t)
{
	struct config cfg;
	char err[512];

	config_init(&cfg);
	CHECK_EQ(t, config_parse_file(&cfg, "/nonexistent/vmd.conf", err, sizeof(err)), -1);
	CHECK_STR(t, err, "/nonexistent/vmd.conf: No such file or directory");
	config_free(&cfg);
}

/* Mutated configurations: every outcome is a config or file:line errors. */
static void fuzz_config(struct test *t)
{
	uint32_t rng = 777;
	char buf[sizeof(good) + 64], err[4096];
	size_t n, k;
	int i, j, ok = 0, bad = 0;
	struct config cfg;

	for (i = 0; i < 3000; i++) {
		n = sizeof(good) - 1;
		memcpy(buf, good, n);
		for (j = 0; j < 1 + i % 6; j++) {
			rng = rng * 1103515245u + 12345u;
			k = (rng >> 8) % n;
			switch ((rng >> 4) % 3) {
			case 0: buf[k] = "{};\"#$= \nx9M/"[(rng >> 16) % 13]; break;
			case 1: memmove(buf + k, buf + k + 1, n - k - 1); n--; break;
			default: buf[k] = (char)(1 + (rng >> 16) % 255); break;
			}
		}
		buf[n] = '\0';
		config_init(&cfg);
		if (config_parse_string(&cfg, "f.conf", buf, err, sizeof(err)) == 0) {
			ok++;
		} else {
			bad++;
			CHECK(t, strncmp(err, "f.conf:", 7) == 0);
		}
		config_free(&cfg);
	}
	CHECK(t, ok > 10);
	CHECK(t, bad > 1000);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "conf", argc, argv);
	RUN(&h, full_grammar);
	RUN(&h, defaults);
	RUN(&h, every_error_with_line);
	RUN(&h, several_errors_reported);
	RUN(&h, helpers);
	RUN(&h, file_errors);
	RUN(&h, fuzz_config);
	return harness_done(&h);
}

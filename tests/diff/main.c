/*
 * cpu_diff: the differential CPU test driver (tests/diff/README.md).
 *
 * Generates cases from translator/insns.def, runs them on the host CPU
 * through the 32-bit native runner and in our translator, and compares
 * registers, EFLAGS (less the flags the SDM leaves undefined), EIP,
 * segment registers, the data block and the exception raised. One
 * PASS/FAIL line per instruction group; the first mismatches of each
 * failing group are printed in full.
 *
 *   cpu_diff [native_runner]
 * Environment: VMD_DIFF_SEED (default 1), VMD_DIFF_SEQS (random sequences,
 * default 3000), VMD_DIFF_SCALE (cases per form multiplier, default 1),
 * VMD_DIFF_GROUP (run only groups whose name contains it), VMD_DIFF_SHOW
 * (mismatches printed per group, default 2), VMD_DIFF_FRESH=1 (a new CPU
 * for every case), VMD_DIFF_VERBOSE=N (print the first N cases of each
 * group, matching or not), VMD_DIFF_CRASH_ONLY=1 (no comparison: only
 * whether our CPU survives every case; for the sanitizer build),
 * VMD_DIFF_SEQ_SKIP=xchg,das (mnemonics left out of the
 * random sequences: a diagnosis aid for looking past a known bug).
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/diff/emu.h"
#include "tests/diff/gen.h"
#include "tests/diff/native.h"
#include "translator/cpu.h"

/* EFLAGS bits compared: the arithmetic flags, TF IF DF, IOPL, NT, AC, ID.
 * Not RF (set in fault frames), VM/VIF/VIP, or the reserved bits. */
#define CMP_FLAGS 0x00247FD5u

static const char *const gpr_name[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
static const char *const seg_name[DIFF_NSEG] = { "es", "cs", "ss", "ds", "fs", "gs" };

static unsigned long env_num(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return dflt;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "cpu_diff: %s=%s is not a number; using %lu\n", name, s, dflt);
		return dflt;
	}
	return v;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void flag_names(uint32_t bits, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *name; } f[] = {
		{ 1u << 0, "CF" }, { 1u << 2, "PF" }, { 1u << 4, "AF" }, { 1u << 6, "ZF" },
		{ 1u << 7, "SF" }, { 1u << 8, "TF" }, { 1u << 9, "IF" }, { 1u << 10, "DF" },
		{ 1u << 11, "OF" }, { 3u << 12, "IOPL" }, { 1u << 14, "NT" }, { 1u << 18, "AC" },
		{ 1u << 21, "ID" },
	};
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if ((bits & f[i].bit) && used + 6 < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "", f[i].name);
}

static const char *trap_name(uint32_t t, char *buf, size_t len)
{
	static const char *const names[] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?", "#TS",
		"#NP", "#SS", "#GP", "#PF", "?", "#MF", "#AC",
	};
	if (t == DIFF_TRAP_NONE)
		snprintf(buf, len, "none");
	else if (t == DIFF_TRAP_HARNESS)
		snprintf(buf, len, "HARNESS FAULT");
	else if (t < sizeof names / sizeof names[0])
		snprintf(buf, len, "%s (%u)", names[t], t);
	else
		snprintf(buf, len, "vector %u", t);
	return buf;
}

/*
 * The flags undefined for this outcome: a fault stops before the
 * faulting instruction changed anything, so its undefined flags do not
 * apply; in a sequence, those undefined at the faulting instruction do.
 */
static uint32_t undef_for(const struct gcase *gc, const struct diff_result *n)
{
	if (n->trap == DIFF_TRAP_NONE)
		return gc->undef_flags;
	if (gc->nsteps)
		return gen_undef_at(gc, n->eip);
	uint32_t start = (gc->w.flags & DIFF_F_CODE16) ? 0 : DIFF_CODE_ADDR;
	return (n->eip == start ? 0 : gc->undef_flags) | gc->fault_undef_flags;
}

/*
 * Compares one case. Returns true if equal; otherwise describes the
 * differences in `why`.
 */
static bool compare(const struct gcase *gc, const struct diff_result *n, const struct diff_result *e,
                    enum emu_status st, uint32_t outside_addr, char *why, size_t len)
{
	size_t used = 0;
	why[0] = 0;
#define SAY(...) do { if (used < len) used += (size_t)snprintf(why + used, len - used, __VA_ARGS__); } while (0)
	char t1[32], t2[32];
	if (n->trap == DIFF_TRAP_HARNESS) {
		SAY("native runner faulted in its own trailer (harness bug) at eip %08x", n->eip);
		return false;
	}
	if (st == EMU_OUTSIDE) {
		/* Natively a page fault at the same address is the same event. */
		if (n->trap == 14 && n->fault_addr == outside_addr)
			return true;
		SAY("ours: accessed %s %08x outside the data block; native: trap %s",
		    outside_addr >= 0xFFFF0000u ? "port" : "address", outside_addr,
		    trap_name(n->trap, t1, sizeof t1));
		return false;
	}
	if (st == EMU_BAD_HALT) {
		SAY("ours: %s (ring 0, eip %08x: an exception while delivering one?); native: trap %s",
		    emu_status_name(st), outside_addr, trap_name(n->trap, t1, sizeof t1));
		return false;
	}
	if (st != EMU_OK) {
		SAY("ours: %s; native: trap %s", emu_status_name(st), trap_name(n->trap, t1, sizeof t1));
		return false;
	}
	bool same = true;
	if (n->trap != e->trap) {
		SAY("exception: native %s, ours %s; ", trap_name(n->trap, t1, sizeof t1),
		    trap_name(e->trap, t2, sizeof t2));
		same = false;
	} else if (n->trap == 14) {
		/* P, W/R, U/S; not the host's I/D, PK or SGX bits (we have no NX). */
		if ((n->err & 7) != (e->err & 7) || n->fault_addr != e->fault_addr) {
			SAY("#PF: native cr2 %08x error %#x, ours cr2 %08x error %#x; ", n->fault_addr,
			    n->err & 7, e->fault_addr, e->err & 7);
			same = false;
		}
	} else if (n->trap != DIFF_TRAP_NONE && n->err != e->err) {
		SAY("error code: native %#x, ours %#x; ", n->err, e->err);
		same = false;
	}
	if (n->eip != e->eip) {
		SAY("eip: native %08x, ours %08x; ", n->eip, e->eip);
		same = false;
	}
	for (int r = 0; r < 8; r++) {
		if ((gc->undef_regs & (1u << r)) || n->gpr[r] == e->gpr[r])
			continue;
		SAY("%s: native %08x, ours %08x; ", gpr_name[r], n->gpr[r], e->gpr[r]);
		same = false;
	}
	uint32_t mask = CMP_FLAGS & ~undef_for(gc, n);
	uint32_t fd = (n->eflags ^ e->eflags) & mask;
	if (fd) {
		char names[64];
		flag_names(fd, names, sizeof names);
		SAY("eflags: native %08x, ours %08x, differ in %s; ", n->eflags, e->eflags, names);
		same = false;
	}
	for (int s = 0; s < DIFF_NSEG; s++) {
		if (n->seg[s] == e->seg[s])
			continue;
		SAY("%s: native %04x, ours %04x; ", seg_name[s], n->seg[s], e->seg[s]);
		same = false;
	}
	if (n->nchanges != e->nchanges || n->change_hash != e->change_hash) {
		SAY("memory: native changed %u bytes, ours %u", n->nchanges, e->nchanges);
		unsigned shown = 0;
		unsigned max = n->nchanges < e->nchanges ? n->nchanges : e->nchanges;
		if (max > DIFF_CHANGES_MAX)
			max = DIFF_CHANGES_MAX;
		for (unsigned i = 0; i < max && shown < 4; i++) {
			if (n->change_off[i] == e->change_off[i] && n->change_val[i] == e->change_val[i])
				continue;
			SAY(" [native %08x=%02x ours %08x=%02x]", DIFF_DATA_ADDR + n->change_off[i],
			    n->change_val[i], DIFF_DATA_ADDR + e->change_off[i], e->change_val[i]);
			shown++;
		}
		if (shown == 0 && n->nchanges != e->nchanges) {
			const struct diff_result *more = n->nchanges > e->nchanges ? n : e;
			if (max < DIFF_CHANGES_MAX)
				SAY(" [first extra: %s %08x=%02x]", more == n ? "native" : "ours",
				    DIFF_DATA_ADDR + more->change_off[max], more->change_val[max]);
		}
		SAY("; ");
		same = false;
	}
#undef SAY
	return same;
}

/* objdump's view of the snippet, one instruction per line. */
static void print_disasm(const struct diff_case *c)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/cpu_diff_code.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return;
	ssize_t w = write(fd, c->code, c->code_len);
	close(fd);
	if (w != (ssize_t)c->code_len) {
		unlink(path);
		return;
	}
	char cmd[768];
	bool code16 = (c->flags & DIFF_F_CODE16) != 0;
	snprintf(cmd, sizeof cmd, "objdump -D -b binary -mi386 %s --adjust-vma=0x%x %s 2>/dev/null",
	         code16 ? "-Mi8086" : "", code16 ? 0 : DIFF_CODE_ADDR, path);
	FILE *p = popen(cmd, "r");
	if (p) {
		char line[256];
		unsigned lines = 0;
		while (fgets(line, sizeof line, p)) {
			/* "30000000:\t91   \txchg   %eax,%ecx": address, bytes, text. */
			char *tab = strstr(line, ":\t");
			if (!tab || !strchr(tab + 2, '\t') || lines >= 24)
				continue;
			*tab = 0;
			printf("    %8s  %s", line + strspn(line, " "), strchr(tab + 2, '\t') + 1);
			lines++;
		}
		pclose(p);
	}
	unlink(path);
}

static void print_case(const struct gen *g, const struct gcase *gc, const struct diff_result *n,
                       const struct diff_result *e, const char *why)
{
	char name[64], t[32];
	const struct diff_case *c = &gc->w;
	printf("---- %s in %s: case %u, %s%s%s\n", strcmp(why, "nothing") ? "mismatch" : "match",
	       g->groups[gc->group], c->id,
	       gen_form_name(gc->form, name, sizeof name), gc->note[0] ? ", " : "", gc->note);
	printf("  code:");
	for (unsigned i = 0; i < c->code_len; i++)
		printf(" %02x", c->code[i]);
	printf("\n");
	print_disasm(c);
	printf("  before: ");
	for (int r = 0; r < 8; r++)
		printf("%s=%08x ", gpr_name[r], c->gpr[r]);
	printf("eflags=%08x%s%s%s%s\n", (c->eflags & 0x0CD5u) | 0x202u,
	       (c->flags & DIFF_F_LDT16) ? " ds/es/fs/gs=LDT 64K segment" : "",
	       (c->flags & DIFF_F_PAGING) ? " paging" : "",
	       (c->flags & DIFF_F_CODE16) ? " 16-bit code segment" : "",
	       c->patch_len ? " (data patched)" : "");
	const struct diff_result *rs[2] = { n, e };
	for (int k = 0; k < 2; k++) {
		const struct diff_result *r = rs[k];
		if (!r)
			continue;
		printf("  %-7s trap=%s err=%x eip=%08x ", k ? "ours:" : "native:",
		       trap_name(r->trap, t, sizeof t), r->err, r->eip);
		for (int i = 0; i < 8; i++)
			printf("%s=%08x ", gpr_name[i], r->gpr[i]);
		printf("eflags=%08x mem=%u bytes", r->eflags, r->nchanges);
		if (r->trap == 14)
			printf(" cr2=%08x", r->fault_addr);
		printf("\n");
	}
	if (n && undef_for(gc, n)) {
		char u[64];
		flag_names(undef_for(gc, n), u, sizeof u);
		printf("  undefined flags (masked): %s\n", u);
	}
	printf("  differs: %s\n", why);
}

/* Known answers for the native runner itself, so a broken harness cannot
 * pass (or fail) everything silently. */
static int native_selfcheck(const char *runner, char *why, size_t len)
{
	static const struct { uint8_t code[4]; unsigned len; uint32_t flags; } k[] = {
		{ { 0x01, 0xD8 }, 2, 0 },                       /* add eax, ebx */
		{ { 0x0F, 0x0B }, 2, 0 },                       /* ud2 */
		{ { 0x50 }, 1, 0 },                             /* push eax */
		{ { 0x31, 0xC9, 0xF7, 0xF1 }, 4, 0 },           /* xor ecx,ecx; div ecx */
		{ { 0xF4 }, 1, 0 },                             /* hlt */
		{ { 0xCC }, 1, 0 },                             /* int3 */
		{ { 0x67, 0x8B, 0x07 }, 3, DIFF_F_LDT16 },      /* mov eax, [bx] */
		{ { 0xFD }, 1, 0 },                             /* std */
		{ { 0x05, 0x01, 0x00 }, 3, DIFF_F_CODE16 | DIFF_F_LDT16 },  /* add ax, 1 */
	};
	enum { NK = sizeof k / sizeof k[0] };
	struct diff_case cs[NK];
	const struct diff_case *cp[NK];
	struct diff_result rs[NK];
	for (unsigned i = 0; i < NK; i++) {
		memset(&cs[i], 0, sizeof cs[i]);
		cs[i].magic = DIFF_MAGIC_CASE;
		cs[i].id = i;
		cs[i].gpr[R_EAX] = 0x11223344;
		cs[i].gpr[R_EBX] = 0x10;
		cs[i].gpr[R_ESP] = DIFF_STACK_TOP;
		cs[i].flags = k[i].flags;
		cs[i].code_len = k[i].len;
		memcpy(cs[i].code, k[i].code, k[i].len);
		cs[i].patch_off = DIFF_STACK_TOP - 4 - DIFF_DATA_ADDR;
		cs[i].patch_len = 4;    /* zeros: the push changes all four bytes */
		cp[i] = &cs[i];
	}
	int rc = native_run(runner, cp, NK, rs, why, len);
	if (rc != 0)
		return rc;
	uint8_t *data = malloc(DIFF_DATA_SIZE);
	if (!data) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	diff_fill_data(data);
	uint32_t word16 = (uint32_t)data[0x10] | (uint32_t)data[0x11] << 8 |
	                  (uint32_t)data[0x12] << 16 | (uint32_t)data[0x13] << 24;
	free(data);
	const uint32_t code = DIFF_CODE_ADDR;
	struct { bool ok; const char *what; } t[] = {
		{ rs[0].trap == DIFF_TRAP_NONE && rs[0].gpr[R_EAX] == 0x11223354 && rs[0].eip == code + 2 &&
		  (rs[0].eflags & 0x8D5) == 0 && rs[0].seg[DIFF_CS] == DIFF_SEL_CODE3, "add" },
		{ rs[1].trap == 6 && rs[1].eip == code, "ud2 -> #UD" },
		{ rs[2].trap == DIFF_TRAP_NONE && rs[2].gpr[R_ESP] == DIFF_STACK_TOP - 4 &&
		  rs[2].nchanges == 4 && rs[2].change_val[0] == 0x44 &&
		  rs[2].change_off[0] == DIFF_STACK_TOP - 4 - DIFF_DATA_ADDR, "push" },
		{ rs[3].trap == 0 && rs[3].eip == code + 2 && rs[3].gpr[R_ECX] == 0, "div 0 -> #DE" },
		{ rs[4].trap == 13 && rs[4].err == 0 && rs[4].eip == code, "hlt -> #GP(0)" },
		{ rs[5].trap == 3 && rs[5].eip == code + 1, "int3 -> #BP" },
		{ rs[6].trap == DIFF_TRAP_UNSUPPORTED ||
		  (rs[6].trap == DIFF_TRAP_NONE && rs[6].gpr[R_EAX] == word16 &&
		   rs[6].seg[DIFF_DS] == DIFF_SEL_LDT16), "16-bit addressing through the LDT" },
		{ rs[7].trap == DIFF_TRAP_NONE && (rs[7].eflags & 0x400), "std" },
		{ rs[8].trap == DIFF_TRAP_UNSUPPORTED ||
		  (rs[8].trap == DIFF_TRAP_NONE && rs[8].eip == 3 && rs[8].gpr[R_EAX] == 0x11223345 &&
		   rs[8].seg[DIFF_CS] == DIFF_SEL_CODE16), "16-bit code segment" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (!t[i].ok) {
			snprintf(why, len, "known answer wrong for %s (trap %u eip %08x eax %08x)",
			         t[i].what, rs[i].trap, rs[i].eip, rs[i].gpr[R_EAX]);
			return -1;
		}
	}
	return 0;
}

static char *default_runner(const char *argv0)
{
	const char *build = getenv("VMD_BUILD");
	char *path = NULL;
	if (build && *build) {
		if (asprintf(&path, "%s/tests/diff/native_runner", build) < 0)
			return NULL;
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	char *copy = strdup(argv0);
	if (!copy)
		return NULL;
	if (asprintf(&path, "%s/native_runner", dirname(copy)) < 0)
		path = NULL;
	free(copy);
	return path;
}

struct group_stat {
	unsigned cases, bad, shown;
	unsigned faulted;       /* cases that raise an exception natively */
	unsigned unsupported;   /* cases the host cannot run (no LDT) */
	char first[200];
	unsigned *bad_by_form;  /* [forms_total + 1]: the last is sequences */
	unsigned *culprits;     /* [forms_total]: sequences' first bad instruction */
};

/* "xchg (91) x40, das (2F) x2": where a group's mismatches are. */
static void print_bad_forms(const struct group_stat *s, unsigned nforms, const char *what)
{
	char name[64];
	unsigned listed = 0;
	printf("  %s:", what);
	for (unsigned f = 0; f < nforms && listed < 12; f++) {
		if (!s->bad_by_form[f])
			continue;
		printf("%s %s x%u", listed ? "," : "", gen_form_name(f, name, sizeof name), s->bad_by_form[f]);
		listed++;
	}
	printf("\n");
}

#define MAX_TRACED 400
#define CASE_SECONDS 10

/* Our side of a case, as the isolated runner returns it. */
struct ours {
	struct diff_result r;
	uint32_t status;        /* enum emu_status */
	uint32_t outside;
};

/*
 * Runs cases in our CPU in a child process writing into shared memory, so
 * a translator that crashes or hangs on a case costs that case, not the
 * whole test: the case is marked, and a new child carries on after it.
 */
static int run_ours(struct emu *e, const struct diff_case *const *cases, size_t n, struct ours *out)
{
	if (n == 0)
		return 0;
	size_t bytes = n * sizeof *out + sizeof(size_t);
	void *shm = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		printf("cpu_diff: mmap: %s\n", strerror(errno));
		return -1;
	}
	volatile size_t *done = shm;
	struct ours *res = (struct ours *)((char *)shm + sizeof(size_t));
	size_t start = 0;
	while (start < n) {
		*done = start;
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			printf("cpu_diff: fork: %s\n", strerror(errno));
			munmap(shm, bytes);
			return -1;
		}
		if (pid == 0) {
			for (size_t j = start; j < n; j++) {
				alarm(CASE_SECONDS);
				res[j].status = emu_run(e, cases[j], &res[j].r, &res[j].outside);
				*done = j + 1;
			}
			_exit(0);
		}
		int status = 0;
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR) {
				printf("cpu_diff: waitpid: %s\n", strerror(errno));
				munmap(shm, bytes);
				return -1;
			}
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && *done == n)
			break;
		size_t bad = *done;
		if (bad >= n)
			break;
		memset(&res[bad], 0, sizeof res[bad]);
		res[bad].status = WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? EMU_HUNG : EMU_CRASHED;
		printf("cpu_diff: case %u: %s (%s %d)\n", cases[bad]->id, emu_status_name(res[bad].status),
		       WIFSIGNALED(status) ? "signal" : "exit status",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		start = bad + 1;
	}
	memcpy(out, res, n * sizeof *out);
	munmap(shm, bytes);
	return 0;
}

/*
 * For mismatching random sequences: runs every prefix on both sides and
 * finds the shortest that already differs; its last instruction is the
 * culprit. Counts culprits per form and prints the shortest prefixes.
 */
static void trace_sequences(const struct gen *g, struct emu *emu, const char *runner,
                            const size_t *bad, size_t nbad, struct group_stat *gs, unsigned show)
{
	size_t total = 0;
	for (size_t i = 0; i < nbad; i++)
		total += g->cases[bad[i]].nsteps;
	if (!total)
		return;
	struct gcase *pre = calloc(total, sizeof *pre);
	const struct diff_case **pc = calloc(total, sizeof *pc);
	struct diff_result *pn = calloc(total, sizeof *pn);
	struct ours *po = NULL;
	if (!pre || !pc || !pn) {
		printf("cpu_diff: out of memory tracing sequences\n");
		goto out;
	}
	po = calloc(total, sizeof *po);
	if (!po) {
		printf("cpu_diff: out of memory tracing sequences\n");
		goto out;
	}
	size_t m = 0;
	for (size_t i = 0; i < nbad; i++) {
		const struct gcase *c = &g->cases[bad[i]];
		for (unsigned k = 1; k <= c->nsteps; k++) {
			gen_prefix(c, k, &pre[m]);
			pre[m].w.id = (uint32_t)m;
			pc[m] = &pre[m].w;
			m++;
		}
	}
	char why[1024];
	if (native_run(runner, pc, m, pn, why, sizeof why) != 0) {
		printf("cpu_diff: tracing sequences: %s\n", why);
		goto out;
	}
	if (run_ours(emu, pc, m, po) != 0)
		goto out;
	m = 0;
	for (size_t i = 0; i < nbad; i++) {
		const struct gcase *c = &g->cases[bad[i]];
		struct group_stat *s = &gs[c->group];
		bool found = false;
		for (unsigned k = 1; k <= c->nsteps; k++, m++) {
			if (found)
				continue;
			enum emu_status st = po[m].status;
			if (compare(&pre[m], &pn[m], &po[m].r, st, po[m].outside, why, sizeof why))
				continue;
			found = true;
			if (!s->culprits)
				s->culprits = calloc(g->forms_total, sizeof *s->culprits);
			if (s->culprits)
				s->culprits[c->step_form[k - 1]]++;
			if (s->shown < show) {
				s->shown++;
				print_case(g, &pre[m], &pn[m], st == EMU_OK ? &po[m].r : NULL, why);
			}
		}
	}
out:
	free(po);
	free(pre);
	free(pc);
	free(pn);
}

#define REPEAT_EVERY 16

/*
 * Both sides must be functions of the case alone. Every 16th case runs
 * again, in reverse order: natively (no state may leak between cases in
 * the runner) and in a fresh CPU per case (none may leak in ours either,
 * e.g. a stale translation of the previous case's code).
 */
static unsigned long check_repeat(const struct gen *g, const size_t *index,
                                  const struct diff_case *const *cases, size_t n,
                                  const struct diff_result *nat, const struct ours *all,
                                  const char *runner)
{
	size_t m = (n + REPEAT_EVERY - 1) / REPEAT_EVERY;
	const struct diff_case **rc = calloc(m ? m : 1, sizeof *rc);
	size_t *from = calloc(m ? m : 1, sizeof *from);
	struct diff_result *nat2 = calloc(m ? m : 1, sizeof *nat2);
	struct ours *ours2 = calloc(m ? m : 1, sizeof *ours2);
	const char *missing = NULL;
	struct emu *fresh = emu_new(true, &missing);
	unsigned long bad_native = 0, bad_ours = 0;
	char why[512];
	if (!rc || !from || !nat2 || !ours2 || !fresh) {
		printf("FAIL cpu_diff/repeat: out of memory\n");
		bad_native = 1;
		goto out;
	}
	for (size_t k = 0; k < m; k++) {
		from[k] = (m - 1 - k) * REPEAT_EVERY;
		rc[k] = cases[from[k]];
	}
	if (native_run(runner, rc, m, nat2, why, sizeof why) != 0) {
		printf("FAIL cpu_diff/native_repeat: %s\n", why);
		bad_native = 1;
	} else {
		for (size_t k = 0; k < m; k++) {
			if (memcmp(&nat2[k], &nat[from[k]], sizeof nat2[k]) == 0)
				continue;
			if (bad_native++ == 0)
				printf("  native result of case %u changed when run again\n", rc[k]->id);
		}
		if (bad_native)
			printf("FAIL cpu_diff/native_repeat: %lu of %zu cases differ when run again\n", bad_native, m);
		else
			printf("PASS cpu_diff/native_repeat: %zu cases\n", m);
	}
	if (run_ours(fresh, rc, m, ours2) != 0) {
		printf("FAIL cpu_diff/ours_repeat: cannot run our CPU\n");
		bad_ours = 1;
	} else {
		for (size_t k = 0; k < m; k++) {
			const struct ours *a = &all[from[k]], *b = &ours2[k];
			if (a->status == b->status && a->outside == b->outside &&
			    memcmp(&a->r, &b->r, sizeof a->r) == 0)
				continue;
			if (bad_ours++ < 2) {
				printf("  case %u: reusing the CPU gave %s, a fresh CPU %s\n", rc[k]->id,
				       emu_status_name(a->status), emu_status_name(b->status));
				print_case(g, &g->cases[index[from[k]]], &a->r, &b->r,
				           "result depends on the previous cases (\"native\" line: reused CPU; "
				           "\"ours\": fresh CPU)");
			}
		}
		if (bad_ours)
			printf("FAIL cpu_diff/ours_repeat: %lu of %zu cases give another result in a fresh CPU\n",
			       bad_ours, m);
		else
			printf("PASS cpu_diff/ours_repeat: %zu cases\n", m);
	}
out:
	emu_free(fresh);
	free(rc);
	free(from);
	free(nat2);
	free(ours2);
	return bad_native + bad_ours;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	uint64_t seed = env_num("VMD_DIFF_SEED", 1);
	unsigned nseq = (unsigned)env_num("VMD_DIFF_SEQS", 3000);
	unsigned scale = (unsigned)env_num("VMD_DIFF_SCALE", 1);
	unsigned show = (unsigned)env_num("VMD_DIFF_SHOW", 2);
	bool fresh = env_num("VMD_DIFF_FRESH", 0) != 0;
	unsigned verbose = (unsigned)env_num("VMD_DIFF_VERBOSE", 0);
	bool crash_only = env_num("VMD_DIFF_CRASH_ONLY", 0) != 0;
	const char *only = getenv("VMD_DIFF_GROUP");
	char *runner = argc > 1 ? strdup(argv[1]) : default_runner(argv[0]);
	if (!runner) {
		printf("FAIL cpu_diff/setup: out of memory\n");
		return 1;
	}
	char why[1024];
	double t0 = now_s();

	if (!crash_only) {
		int rc = native_selfcheck(runner, why, sizeof why);
		if (rc == -2) {
			/* Not an x86 host, or one without 32-bit support. */
			printf("SKIP cpu_diff/native_harness: %s\n", why);
			free(runner);
			return 0;
		}
		if (rc != 0) {
			printf("FAIL cpu_diff/native_harness: %s\n", why);
			free(runner);
			return 1;
		}
		printf("PASS cpu_diff/native_harness\n");
	}

	struct gen g;
	if (gen_all(&g, seed, nseq, scale, getenv("VMD_DIFF_SEQ_SKIP")) != 0) {
		printf("FAIL cpu_diff/generate: case generation failed\n");
		gen_free(&g);
		free(runner);
		return 1;
	}
	/* The cases to run (all, or the groups asked for). */
	const struct diff_case **cases = calloc(g.n ? g.n : 1, sizeof *cases);
	size_t *index = calloc(g.n ? g.n : 1, sizeof *index);
	struct diff_result *nat = calloc(g.n ? g.n : 1, sizeof *nat);
	struct group_stat *gs = calloc(GEN_MAX_GROUPS, sizeof *gs);
	if (!cases || !index || !nat || !gs) {
		printf("FAIL cpu_diff/setup: out of memory\n");
		return 1;
	}
	size_t n = 0;
	for (size_t i = 0; i < g.n; i++) {
		if (only && !strstr(g.groups[g.cases[i].group], only))
			continue;
		index[n] = i;
		cases[n++] = &g.cases[i].w;
	}
	printf("cpu_diff: %u of %u forms in translator/insns.def exercised; %zu cases in %u groups "
	       "(seed %llu, %u random sequences)\n", g.forms_tested, g.forms_total, n, g.ngroups,
	       (unsigned long long)seed, nseq);
	/* What is deliberately not compared (README.md says why). */
	printf("cpu_diff: not exercised:");
	for (unsigned f = 0, shown = 0; f < g.forms_total; f++) {
		char name[64];
		if (!gen_form_tested(&g, f))
			printf("%s %s", shown++ ? "," : "", gen_form_name(f, name, sizeof name));
	}
	printf("\n");
	if (!crash_only && native_run(runner, cases, n, nat, why, sizeof why) != 0) {
		printf("FAIL cpu_diff/native: %s\n", why);
		return 1;
	}
	double t1 = now_s();

	const char *missing = NULL;
	struct emu *emu = emu_new(fresh, &missing);
	if (!emu) {
		for (unsigned k = 0; k < g.ngroups; k++)
			if (!only || strstr(g.groups[k], only))
				printf("SKIP cpu_diff/%s: the translator does not provide %s yet\n",
				       g.groups[k], missing);
		printf("cpu_diff: %zu cases ran natively in %.1f s; none compared\n", n, t1 - t0);
		return 0;
	}

	unsigned long total_bad = 0;
	size_t *bad_seq = calloc(MAX_TRACED, sizeof *bad_seq), nbad_seq = 0;
	if (!bad_seq) {
		printf("FAIL cpu_diff/setup: out of memory\n");
		return 1;
	}
	struct ours *all = calloc(n ? n : 1, sizeof *all);
	if (!all || run_ours(emu, cases, n, all) != 0) {
		printf("FAIL cpu_diff/setup: cannot run our CPU\n");
		return 1;
	}
	if (crash_only) {
		/* The sanitizer build: only whether the translator survived
		 * every case (results are compared by the normal build). */
		size_t died = 0;
		for (size_t j = 0; j < n; j++) {
			if (all[j].status != EMU_CRASHED && all[j].status != EMU_HUNG)
				continue;
			if (died++ < (size_t)show)
				print_case(&g, &g.cases[index[j]], NULL, NULL, emu_status_name(all[j].status));
		}
		if (died)
			printf("FAIL cpu_diff/sanitized: %zu of %zu cases crashed or hung our CPU\n", died, n);
		else
			printf("PASS cpu_diff/sanitized: %zu cases, no crash or sanitizer report\n", n);
		emu_free(emu);
		gen_free(&g);
		free(all);
		free(bad_seq);
		free(cases);
		free(index);
		free(nat);
		free(gs);
		free(runner);
		return died ? 1 : 0;
	}
	for (size_t j = 0; j < n; j++) {
		const struct gcase *gc = &g.cases[index[j]];
		struct diff_result ours = all[j].r;
		uint32_t outside_addr = all[j].outside;
		enum emu_status st = all[j].status;
		struct group_stat *s = &gs[gc->group];
		if (nat[j].trap == DIFF_TRAP_UNSUPPORTED) {
			s->unsupported++;
			continue;
		}
		s->cases++;
		s->faulted += nat[j].trap != DIFF_TRAP_NONE;
		bool same = compare(gc, &nat[j], &ours, st, outside_addr, why, sizeof why);
		if (s->cases <= verbose)
			print_case(&g, gc, &nat[j], st == EMU_OK ? &ours : NULL, same ? "nothing" : why);
		if (same)
			continue;
		s->bad++;
		total_bad++;
		if (!s->bad_by_form)
			s->bad_by_form = calloc(g.forms_total + 1, sizeof *s->bad_by_form);
		if (s->bad_by_form)
			s->bad_by_form[gc->form < g.forms_total ? gc->form : g.forms_total]++;
		if (!s->first[0]) {
			char name[64];
			snprintf(s->first, sizeof s->first, "%s: %.120s", gen_form_name(gc->form, name, sizeof name), why);
		}
		if (gc->nsteps) {
			if (nbad_seq < MAX_TRACED)
				bad_seq[nbad_seq++] = index[j];
			continue;       /* shown below, cut down to its first culprit */
		}
		if (s->shown < show) {
			s->shown++;
			print_case(&g, gc, &nat[j], st == EMU_OK ? &ours : NULL, why);
		}
	}
	trace_sequences(&g, emu, runner, bad_seq, nbad_seq, gs, show);
	unsigned long repeat_bad = check_repeat(&g, index, cases, n, nat, all, runner);
	double t2 = now_s();
	emu_free(emu);

	for (unsigned k = 0; k < g.ngroups; k++) {
		struct group_stat *s = &gs[k];
		if (!s->cases && s->unsupported)
			printf("SKIP cpu_diff/%s: the host kernel has no modify_ldt for its 16-bit segments\n",
			       g.groups[k]);
		if (!s->cases)
			continue;
		if (s->bad == 0)
			printf("PASS cpu_diff/%s: %u cases (%u raise an exception)\n", g.groups[k], s->cases,
			       s->faulted);
		else
			printf("FAIL cpu_diff/%s: %u of %u cases differ; first: %.150s\n", g.groups[k],
			       s->bad, s->cases, s->first);
		if (s->bad && s->bad_by_form && (s->bad_by_form[g.forms_total] < s->bad))
			print_bad_forms(s, g.forms_total, "mismatching forms");
		if (s->culprits)
			print_bad_forms(&(struct group_stat){ .bad_by_form = s->culprits }, g.forms_total,
			                "first differing instruction of the sequences");
		free(s->bad_by_form);
		free(s->culprits);
	}
	printf("cpu_diff: %u forms, %zu cases, %lu mismatched (native %.1f s, ours %.1f s)\n",
	       g.forms_tested, n, total_bad, t1 - t0, t2 - t1);
	total_bad += repeat_bad;
	free(all);
	free(bad_seq);
	free(cases);
	free(index);
	free(nat);
	free(gs);
	free(runner);
	gen_free(&g);
	return total_bad ? 1 : 0;
}

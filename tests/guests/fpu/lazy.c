/*
 * Lazy FPU switching the way Linux (before 3.x eager FPU) and MINIX do it:
 * two tasks with their own x87 contexts, CR0.TS set on every switch, and
 * the #NM handler doing CLTS, FNSAVE of the previous owner's registers and
 * FRSTOR of the new owner's. Each task keeps values live on the x87 stack
 * across its yields, with its own rounding and precision control, so a
 * context mixed up or lost by the switch shows in its results. The results
 * must be the same bits as the same computation run alone, without
 * switching. The switched run is done twice: with FNSAVE/FRSTOR, and with
 * FXSAVE/FXRSTOR (CR4.OSFXSR set) when CPUID has FXSR, as Linux does then.
 */
#include "fpu.h"

#define NSTEPS_MAX 12
#define TASK_STACK 4096

struct task {
	uint32_t esp;                 /* saved while switched out */
	int nsteps, done, fpu_used;
	struct fsave fpu;             /* the x87 context while not the owner */
	uint8_t fx[512] __attribute__((aligned(16)));   /* the same, FXSAVE form */
	uint8_t out[NSTEPS_MAX + 2][10];
	uint16_t sw, cw;
	uint8_t stack[TASK_STACK] __attribute__((aligned(16)));
};

/* The kernel's whole state: one instance, reached through `sched`. */
struct sched {
	struct task task[2];
	int cur;                      /* the running task, -1: the scheduler */
	struct task *owner;           /* whose registers the x87 holds */
	int switching;                /* 0: the reference run, yield is a no-op */
	int use_fxsr;                 /* the #NM handler saves with FXSAVE */
	uint32_t main_esp;
	int n_nm, n_swaps, n_resumes, n_nm_other;
};
static struct sched S;

/* switch_stacks(save, to): saves the callee-saved registers and ESP into
 * *save, continues on the stack `to` (which holds the same frame). */
void switch_stacks(uint32_t *save, uint32_t to);
__asm__(".text\n.globl switch_stacks\nswitch_stacks:\n"
	"\tmovl 4(%esp), %eax\n\tmovl 8(%esp), %edx\n"
	"\tpushl %ebp\n\tpushl %ebx\n\tpushl %esi\n\tpushl %edi\n"
	"\tmovl %esp, (%eax)\n\tmovl %edx, %esp\n"
	"\tpopl %edi\n\tpopl %esi\n\tpopl %ebx\n\tpopl %ebp\n\tret\n");

static void yield(void)
{
	if (!S.switching)
		return;
	struct task *t = &S.task[S.cur];
	switch_stacks(&t->esp, S.main_esp);
}

static const uint16_t task_cw[2] = {
	0x0a7f,   /* round up, 53-bit precision, all masked */
	0x0f7f,   /* round toward zero, 64-bit precision, all masked */
};
static const int32_t task_seed[2][2] = { { 2, 3 }, { 5, 7 } };
static const double step_k[NSTEPS_MAX] = {
	1.5, 0.25, 3.0, 7.125, 0.1, 2.75, 9.0, 0.3, 1.0 / 3.0, 5.5, 0.7, 11.0,
};

/* One step of a task's computation; x and y stay on the x87 stack between steps. */
static void step(const double *k, uint8_t *out)
{
	__asm__ volatile(
		"fld %%st(0)\n\t"             /* x x y */
		"fsqrt\n\t"                   /* sqrt(x) x y */
		"fmull %1\n\t"                /* s x y */
		"fld %%st(2)\n\t"             /* y s x y */
		"fpatan\n\t"                  /* atan(s/y) x y */
		"faddp %%st, %%st(2)\n\t"     /* x y'=y+a */
		"fld1\n\t"
		"fadd %%st(1), %%st\n\t"      /* 1+x x y' */
		"fdivrl %1\n\t"               /* k/(1+x) x y' */
		"faddp %%st, %%st(1)\n\t"     /* x'=x+k/(1+x) y' */
		"fldl %1\n\t"
		"fld1\n\t"
		"fyl2x\n\t"                   /* log2(k) x' y' */
		"fmul %%st(1), %%st\n\t"      /* x'*log2(k) */
		"fsin\n\t"
		"fdiv %%st(2), %%st\n\t"      /* sin(..)/y' */
		"fsubrp %%st, %%st(1)\n\t"    /* x'' y' */
		"fld %%st(0)\n\t"
		"frndint\n\t"
		"fsubr %%st(1), %%st\n\t"     /* frac part */
		"f2xm1\n\t"
		"fmul %%st(2), %%st\n\t"
		"fdivl %1\n\t"
		"faddp %%st, %%st(2)\n\t"     /* x'' y'' */
		"fld %%st(0)\n\t"
		"fstpt %0\n\t"
		: "=m"(*(uint8_t (*)[10])out) : "m"(*k) : "memory");
}

static void task_body(int id)
{
	struct task *t = &S.task[id];
	fldcw(task_cw[id]);
	__asm__ volatile("fildl %0\n\tfildl %1" : : "m"(task_seed[id][0]), "m"(task_seed[id][1]) : "memory");
	for (int i = 0; i < t->nsteps; i++) {
		step(&step_k[(i + 3 * id) % NSTEPS_MAX], t->out[i]);
		yield();
	}
	__asm__ volatile("fstpt %0\n\tfstpt %1" : "=m"(t->out[t->nsteps]), "=m"(t->out[t->nsteps + 1]) : : "memory");
	t->sw = fnstsw();
	t->cw = fnstcw();
}

/* Where a new task's stack first returns to. */
static _Noreturn void task_entry(void)
{
	task_body(S.cur);
	S.task[S.cur].done = 1;
	for (;;)
		yield();
}

static void nm_handler(struct frame *f)
{
	(void)f;
	S.n_nm++;
	clts();
	if (S.cur < 0) {
		S.n_nm_other++;
		return;
	}
	struct task *t = &S.task[S.cur];
	if (S.owner == t)
		return;
	if (S.owner) {
		if (S.use_fxsr)
			__asm__ volatile("fxsave %0" : "=m"(S.owner->fx) : : "memory");
		else
			fnsave(&S.owner->fpu);
		S.n_swaps++;
	}
	if (t->fpu_used) {
		if (S.use_fxsr)
			__asm__ volatile("fxrstor %0" : : "m"(t->fx) : "memory");
		else
			frstor(&t->fpu);
	} else {
		fninit();
		t->fpu_used = 1;
	}
	S.owner = t;
}

static void task_start(struct task *t)
{
	uint32_t *sp = (uint32_t *)(t->stack + TASK_STACK);
	*--sp = 0;                        /* task_entry's return address: never used */
	*--sp = (uint32_t)task_entry;     /* switch_stacks returns here */
	for (int i = 0; i < 4; i++)
		*--sp = 0;                    /* ebp ebx esi edi */
	t->esp = (uint32_t)sp;
}

/* Round robin between the two tasks, TS set on every switch; checks
 * their results against the reference. */
static void switched_run(const char *how, uint8_t ref[2][NSTEPS_MAX + 2][10],
			 const uint16_t ref_sw[2], const uint16_t ref_cw[2])
{
	for (int id = 0; id < 2; id++) {
		struct task *t = &S.task[id];
		t->done = t->fpu_used = 0;
		memset(t->out, 0, sizeof(t->out));
		task_start(t);
	}
	S.owner = 0;
	S.n_nm = S.n_swaps = S.n_resumes = S.n_nm_other = 0;
	rt_set_handler(7, nm_handler);
	fninit();
	S.switching = 1;
	while (!S.task[0].done || !S.task[1].done) {
		for (int id = 0; id < 2; id++) {
			if (S.task[id].done)
				continue;
			S.cur = id;
			S.n_resumes++;
			write_cr0(read_cr0() | CR0_TS);
			switch_stacks(&S.main_esp, S.task[id].esp);
			S.cur = -1;
		}
	}
	write_cr0(read_cr0() & ~CR0_TS);
	rt_set_handler(7, 0);
	S.switching = 0;

	for (int id = 0; id < 2; id++) {
		struct task *t = &S.task[id];
		int bad = -1;
		for (int i = 0; i < t->nsteps + 2 && bad < 0; i++)
			if (!bytes_equal(t->out[i], ref[id][i], 10))
				bad = i;
		if (bad >= 0) {
			printf_("%s: task %d: result %d differs: got ", how, id, bad);
			print_ext(t->out[bad]);
			puts_(" want ");
			print_ext(ref[id][bad]);
			putch('\n');
		}
		check(bad < 0, id ? "task 1 results with lazy switching" : "task 0 results with lazy switching",
		      "%s: result %d differs", how, bad);
		check(t->sw == ref_sw[id] && t->cw == ref_cw[id], "task status and control words",
		      "%s: task %d: sw %#x cw %#x, want sw %#x cw %#x", how, id, t->sw, t->cw, ref_sw[id], ref_cw[id]);
	}
	/* Every resume runs FP code right away: one #NM each, and a swap of
	 * registers whenever the other task owned them. Task 0 runs its last
	 * steps alone: one swap back to it, then the #NM only clears TS. */
	CHECK_EQ("one #NM per resume", S.n_nm, S.n_resumes);
	CHECK_EQ("context swaps only when the owner changes", S.n_swaps, 2 * (S.task[1].nsteps + 1));
	CHECK_EQ("no #NM outside the tasks", S.n_nm_other, 0);
	check(S.n_resumes == S.task[0].nsteps + S.task[1].nsteps + 2, "resume count",
	      "%d resumes", S.n_resumes);
	printf_("%s: %d resumes, %d #NM, %d swaps\n", how, S.n_resumes, S.n_nm, S.n_swaps);
}

void test_main(void)
{
	static uint8_t ref[2][NSTEPS_MAX + 2][10];
	static uint16_t ref_sw[2], ref_cw[2];
	S.task[0].nsteps = 12;
	S.task[1].nsteps = 8;
	S.cur = -1;

	/* The reference: each task alone, no TS, no switching. */
	write_cr0((read_cr0() | CR0_MP | CR0_NE) & ~(CR0_EM | CR0_TS));
	for (int id = 0; id < 2; id++) {
		fninit();
		S.cur = id;
		task_body(id);
		memcpy(ref[id], S.task[id].out, sizeof(ref[id]));
		ref_sw[id] = S.task[id].sw;
		ref_cw[id] = S.task[id].cw;
		memset(S.task[id].out, 0, sizeof(S.task[id].out));
	}
	S.cur = -1;
	check(!bytes_equal(ref[0], ref[1], sizeof(ref[0])), "the two tasks compute different things",
	      "their results are the same bits");

	puts_("switching with FNSAVE/FRSTOR\n");
	switched_run("fnsave", ref, ref_sw, ref_cw);

	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	if (!(d & (1u << 24))) {
		puts_("note: CPUID.1:EDX.FXSR clear: no FXSAVE switching\n");
		return;
	}
	write_cr4(read_cr4() | CR4_OSFXSR);
	S.use_fxsr = 1;
	puts_("switching with FXSAVE/FXRSTOR\n");
	switched_run("fxsave", ref, ref_sw, ref_cw);
	S.use_fxsr = 0;
	write_cr4(read_cr4() & ~CR4_OSFXSR);
}

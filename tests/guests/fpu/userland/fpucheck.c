/*
 * The x87 as a Linux program sees it: a few hundred double and long double
 * results (sums, products, square roots, libm's transcendental functions
 * and the x87's own, conversions in every rounding mode, decimal round
 * trips, a numerical loop, the exception flags), one per line as
 * "name value" with exact hex floats. tests/integration/linux_fpu.sh runs
 * this same static binary on the host and in the guest and compares the
 * two outputs line by line.
 *
 * `fpucheck sigfpe` instead unmasks one exception, makes it happen and
 * reports the SIGFPE the kernel delivers for the #MF: its si_code and the
 * status word in the signal frame.
 *
 * Nothing printed may depend on the CPU model: the static i386 libm has no
 * CPU-specific variants (glibc's ifuncs here are string functions only),
 * and the output says nothing of CPUID.
 */
#include <fenv.h>
#include <signal.h>
#include <ucontext.h>
#include <unistd.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned n_lines;

static void out_d(const char *name, int i, double v)
{
	printf("%s[%d] %a\n", name, i, v);
	n_lines++;
}

static void out_ld(const char *name, int i, long double v)
{
	printf("%s[%d] %La\n", name, i, v);
	n_lines++;
}

static void out_i(const char *name, int i, long long v)
{
	printf("%s[%d] %lld\n", name, i, v);
	n_lines++;
}

/* The x87's own instructions, whatever libm does. */
static long double x87_fsin(long double x) { __asm__("fsin" : "+t"(x)); return x; }
static long double x87_fcos(long double x) { __asm__("fcos" : "+t"(x)); return x; }
static long double x87_fptan(long double x)
{
	long double one;
	__asm__("fptan" : "=t"(one), "=u"(x) : "0"(x));
	(void)one;
	return x;
}
static long double x87_fpatan(long double y, long double x)
{
	long double r;
	__asm__("fpatan" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
	return r;
}
static long double x87_fyl2x(long double x, long double y)
{
	long double r;
	__asm__("fyl2x" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
	return r;
}
static long double x87_f2xm1(long double x) { __asm__("f2xm1" : "+t"(x)); return x; }
static long double x87_fscale(long double x, long double e)
{
	__asm__("fscale" : "+t"(x) : "u"(e));
	return x;
}
static long double x87_fprem(long double x, long double y, unsigned *sw)
{
	unsigned short s;
	do {
		__asm__("fprem\n\tfnstsw %1" : "+t"(x), "=a"(s) : "u"(y));
	} while (s & 0x400);
	*sw = s & 0x4700;
	return x;
}
static long double x87_frndint(long double x) { __asm__("frndint" : "+t"(x)); return x; }

static const int modes[4] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };
static const char *const mode_names[4] = { "nearest", "down", "up", "zero" };

static void sums_and_products(void)
{
	double hd = 0, pd = 1;
	long double hl = 0, pl = 1;
	for (int i = 1; i <= 2000; i++) {
		hd += 1.0 / i;
		hl += 1.0L / i;
		pd *= 1.0 + 1.0 / (i * 3.0);
		pl *= 1.0L + 1.0L / (i * 3.0L);
		if (i % 250 == 0) {
			out_d("harmonic_d", i, hd);
			out_ld("harmonic_ld", i, hl);
			out_d("product_d", i, pd);
			out_ld("product_ld", i, pl);
		}
	}
	volatile double big = 1e308, tiny = 1e-308;
	out_d("overflow", 0, big * 10);
	out_d("underflow", 0, tiny / 1e10);
	out_d("denormal_mul", 0, tiny * 1e-10 * 1e5);
	volatile long double lbig = LDBL_MAX, lmin = LDBL_MIN;
	out_ld("ld_max_half", 0, lbig / 2);
	out_ld("ld_min_denorm", 0, lmin / 1024);
}

static void roots(void)
{
	for (int i = 1; i <= 40; i++) {
		out_d("sqrt", i, sqrt((double)i * 1.37));
		out_ld("sqrtl", i, sqrtl((long double)i / 7.0L));
	}
	out_d("sqrt_neg", 0, sqrt(-1.0));
	out_d("cbrt", 0, cbrt(12345.678));
	out_d("hypot", 0, hypot(3e200, 4e200));
}

static void transcendental(void)
{
	static const double args[] = { 0.5, 1.0, -2.25, 3.14159, 10.0, 100.5, 1e6, 0.001, -0.75, 7.0 };
	for (int i = 0; i < (int)(sizeof(args) / sizeof(args[0])); i++) {
		double a = args[i];
		long double la = a;
		out_d("sin", i, sin(a));
		out_d("cos", i, cos(a));
		out_d("atan2", i, atan2(a, 1.5 - a));
		out_d("exp", i, exp(a / 8));
		out_d("log", i, log(fabs(a)));
		out_ld("sinl", i, sinl(la));
		out_ld("cosl", i, cosl(la));
		out_ld("atan2l", i, atan2l(la, 1.5L - la));
		out_ld("expl", i, expl(la / 8));
		out_ld("logl", i, logl(fabsl(la)));
		out_ld("fsin", i, x87_fsin(la));
		out_ld("fcos", i, x87_fcos(la));
		out_ld("fptan", i, x87_fptan(la));
		out_ld("fpatan", i, x87_fpatan(la, 2.5L));
		out_ld("fyl2x", i, x87_fyl2x(fabsl(la), 0.75L));
		out_ld("f2xm1", i, x87_f2xm1(la / 1e6L + 0.3L - (i % 3) * 0.4L));
		out_ld("fscale", i, x87_fscale(la, (long double)(i * 7 - 30)));
		unsigned sw;
		long double r = x87_fprem(la * 1000.0L, 0.7L, &sw);
		out_ld("fprem", i, r);
		out_i("fprem_sw", i, sw);
	}
	out_d("pow", 0, pow(2.5, 13.25));
	out_d("tan", 0, tan(1.2));
	out_ld("powl", 0, powl(1.0001L, 10000.0L));
	out_ld("fsin_large", 0, x87_fsin(1e18L));   /* out of range: C2 set, unchanged */
}

static void conversions(void)
{
	static const double vals[] = { 2.5, -2.5, 3.5, -0.5, 0.49999999999999994, 123456.789, -98765.4321,
				       2147483647.5, -2147483648.5, 1e10, 4503599627370497.0, 16777217.0 };
	for (int m = 0; m < 4; m++) {
		if (fesetround(modes[m]) != 0) {
			printf("fesetround %s failed\n", mode_names[m]);
			continue;
		}
		printf("mode %s round=%d\n", mode_names[m], fegetround() == modes[m]);
		for (int i = 0; i < (int)(sizeof(vals) / sizeof(vals[0])); i++) {
			volatile double v = vals[i];
			feclearexcept(FE_ALL_EXCEPT);
			out_i("lrint", m * 100 + i, lrint(v));
			out_i("llrint", m * 100 + i, llrint(v));
			out_d("rint", m * 100 + i, rint(v));
			out_d("nearbyint", m * 100 + i, nearbyint(v));
			out_ld("frndint", m * 100 + i, x87_frndint(v * 1.5));
			out_i("cast_int", m * 100 + i, (long long)(int)(v / 8));
			volatile float f = (float)v;
			out_d("to_float", m * 100 + i, f);
			volatile long long ll = (long long)(v * 3.0);
			out_i("cast_ll", m * 100 + i, ll);
			volatile long long big = (1LL << 60) + 1 + i * 7;
			out_d("ll_to_double", m * 100 + i, (double)big);
			volatile int n = 16777217 + i * 3;
			out_d("int_to_float", m * 100 + i, (float)n);
			out_d("div_round", m * 100 + i, v / 3.0);
			out_ld("ldiv_round", m * 100 + i, (long double)v / 3.0L);
			out_i("flags", m * 100 + i, fetestexcept(FE_ALL_EXCEPT));
		}
	}
	fesetround(FE_TONEAREST);
}

static void round_trips(void)
{
	static const char *const strs[] = {
		"0.1", "0.2", "0.30000000000000004", "1e23", "8.98846567431158e307", "2.2250738585072011e-308",
		"4.9406564584124654e-324", "123456789012345678901234567890", "3.141592653589793238462643383279",
		"1.7976931348623157e308", "1e-400", "6.02214076e23", "-0.0", "0x1.fffffffffffffp+1023",
		"2.718281828459045235360287471352662497757", "1.00000000000000011102230246251565404236316680908203125",
	};
	for (int i = 0; i < (int)(sizeof(strs) / sizeof(strs[0])); i++) {
		double d = strtod(strs[i], NULL);
		long double ld = strtold(strs[i], NULL);
		char buf[64];
		snprintf(buf, sizeof(buf), "%.17g", d);
		double back = strtod(buf, NULL);
		printf("strtod[%d] %a %s %s %La\n", i, d, buf, memcmp(&back, &d, sizeof(d)) ? "lost" : "same", ld);
		printf("printf[%d] %.25Lg %.6e %.0f\n", i, ld, d, fabs(d) < 1e30 ? d : 0.0);
		n_lines += 2;
	}
}

static void numerics(void)
{
	/* Logistic map in the chaotic regime: every bit counts. */
	double x = 0.3;
	long double lx = 0.3L;
	for (int i = 1; i <= 600; i++) {
		x = 3.9 * x * (1 - x);
		lx = 3.9L * lx * (1 - lx);
		if (i % 100 == 0) {
			out_d("logistic", i, x);
			out_ld("logistic_ld", i, lx);
		}
	}
	/* Newton for sqrt(2), cube roots. */
	long double r = 1;
	for (int i = 0; i < 8; i++) {
		r = (r + 2 / r) / 2;
		out_ld("newton", i, r);
	}
	/* Runge-Kutta 4 on y' = -2ty + cos(t). */
	double t = 0, y = 1, h = 0.01;
	for (int i = 0; i < 500; i++) {
		double k1 = -2 * t * y + cos(t);
		double k2 = -2 * (t + h / 2) * (y + h / 2 * k1) + cos(t + h / 2);
		double k3 = -2 * (t + h / 2) * (y + h / 2 * k2) + cos(t + h / 2);
		double k4 = -2 * (t + h) * (y + h * k3) + cos(t + h);
		y += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
		t += h;
		if (i % 100 == 99)
			out_d("rk4", i, y);
	}
	/* Kahan summation against the naive one. */
	double s = 0, c = 0, naive = 0;
	for (int i = 1; i <= 10000; i++) {
		double v = 1.0 / ((double)i * i);
		naive += v;
		double yk = v - c, tk = s + yk;
		c = (tk - s) - yk;
		s = tk;
	}
	out_d("kahan", 0, s);
	out_d("naive", 0, naive);
	/* Exception flags of a few operations. */
	static const struct { const char *name; double a, b; } ops[] = {
		{ "div0", 1, 0 }, { "inexact", 1, 3 }, { "invalid", 0, 0 }, { "exact", 6, 3 }, { "over", 1e308, 1e-308 },
	};
	for (int i = 0; i < (int)(sizeof(ops) / sizeof(ops[0])); i++) {
		feclearexcept(FE_ALL_EXCEPT);
		volatile double a = ops[i].a, b = ops[i].b, q = a / b;
		printf("flags_%s %a %d\n", ops[i].name, q, fetestexcept(FE_ALL_EXCEPT));
		n_lines++;
	}
}

static void on_sigfpe(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	unsigned sw = uc->uc_mcontext.fpregs ? (unsigned)uc->uc_mcontext.fpregs->sw : 0xffffu;
	printf("sigfpe sig=%d si_code=%d fltdiv=%d fltinv=%d sw=%#x\n", sig, si->si_code,
	       si->si_code == FPE_FLTDIV, si->si_code == FPE_FLTINV, sw & 0xff);
	fflush(stdout);
	_exit(0);
}

/* One unmasked exception (division by zero or invalid), one SIGFPE. */
static int sigfpe_check(const char *which)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigfpe;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGFPE, &sa, NULL) != 0) {
		perror("sigaction");
		return 1;
	}
	int inv = strcmp(which, "invalid") == 0;
	if (feenableexcept(inv ? FE_INVALID : FE_DIVBYZERO) == -1) {
		printf("feenableexcept failed\n");
		return 1;
	}
	volatile double a = inv ? 0.0 : 1.0, b = 0.0, q = a / b;
	/* A CPU raises #MF at the store of q already; qemu's TCG only at FWAIT. */
	__asm__ volatile("fwait" ::: "memory");
	printf("no SIGFPE: %a\n", q);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "sigfpe") == 0)
		return sigfpe_check(argv[2]);
	sums_and_products();
	roots();
	transcendental();
	conversions();
	round_trips();
	numerics();
	unsigned short cw, sw;
	__asm__ volatile("fnstcw %0\n\tfnstsw %1" : "=m"(cw), "=m"(sw));
	printf("final cw=%#x sw=%#x\n", cw, sw & 0x3800);
	printf("fpucheck done: %u values\n", n_lines);
	return 0;
}

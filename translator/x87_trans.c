/*
 * The x87 transcendental instructions, computed in a 128-bit-significand
 * software float ("bf") and rounded once to the 64-bit result, so they land
 * within an ulp of the hardware. Trigonometric arguments are reduced modulo
 * the 66-bit pi/2 the P6 microcode uses, so large arguments go as wrong as
 * on the real chip, in the same way.
 */
#include "translator/x87_float.h"

typedef unsigned __int128 u128;

/* value = m * 2^(e - 127); m has bit 127 set, or is 0 for zero. */
struct bf {
	bool s;
	int32_t e;
	u128 m;
};

#define HI64(v) ((uint64_t)((v) >> 64))
#define LO64(v) ((uint64_t)(v))

static const struct bf BF_ZERO = { false, 0, 0 };

static int clz128(u128 v)
{
	uint64_t hi = HI64(v);
	if (hi)
		return __builtin_clzll(hi);
	return LO64(v) ? 64 + __builtin_clzll(LO64(v)) : 128;
}

static struct bf bf_make(bool s, int32_t e, u128 m)
{
	struct bf r = { s, e, m };
	if (m == 0)
		return BF_ZERO;
	int n = clz128(m);
	r.m = m << n;
	r.e = e - n;
	return r;
}

static struct bf bf_const(uint64_t hi, uint64_t lo, int32_t e)
{
	return bf_make(false, e, ((u128)hi << 64) | lo);
}

static struct bf bf_int(int64_t v)
{
	bool s = v < 0;
	uint64_t m = s ? 0 - (uint64_t)v : (uint64_t)v;
	return bf_make(s, 127 - 64 + 64, (u128)m);   /* m * 2^0 */
}

/* From a finite extended value. */
static struct bf bf_from(fx a)
{
	if (fx_is_zero(a))
		return BF_ZERO;
	struct fx_unpacked u = fx_unpack(a);
	/* value = sig * 2^(exp-63) = (sig << 64) * 2^(exp - 127) */
	return bf_make(u.sign, u.exp, (u128)u.sig << 64);
}

static struct bf bf_neg(struct bf a)
{
	if (a.m)
		a.s = !a.s;
	return a;
}

static struct bf bf_add(struct bf a, struct bf b)
{
	if (!a.m)
		return b;
	if (!b.m)
		return a;
	if (a.e < b.e || (a.e == b.e && a.m < b.m)) {
		struct bf t = a;
		a = b;
		b = t;
	}
	int32_t d = a.e - b.e;
	u128 bm = d >= 128 ? 0 : b.m >> d;
	if (a.s == b.s) {
		u128 sum = a.m + bm;
		if (sum < a.m)      /* carried out of bit 127 */
			return bf_make(a.s, a.e + 1, (sum >> 1) | ((u128)1 << 127));
		return bf_make(a.s, a.e, sum);
	}
	return bf_make(a.s, a.e, a.m - bm);
}

static struct bf bf_sub(struct bf a, struct bf b)
{
	return bf_add(a, bf_neg(b));
}

static struct bf bf_mul(struct bf a, struct bf b)
{
	if (!a.m || !b.m)
		return BF_ZERO;
	uint64_t ah = HI64(a.m), al = LO64(a.m), bh = HI64(b.m), bl = LO64(b.m);
	u128 hh = (u128)ah * bh, hl = (u128)ah * bl, lh = (u128)al * bh, ll = (u128)al * bl;
	u128 mid = (u128)HI64(ll) + LO64(hl) + LO64(lh);
	u128 hi = hh + HI64(hl) + HI64(lh) + HI64(mid);
	/* hi is the top of a 256-bit product whose bit 255 or 254 is set. */
	return bf_make(a.s != b.s, a.e + b.e + 1, hi);
}

/* 1/b by Newton's iteration from a 64-bit estimate: 63, then 126+ bits. */
static struct bf bf_recip(struct bf b)
{
	uint64_t top = HI64(b.m);
	u128 est = ((u128)1 << 127) / top;      /* in (2^63, 2^64] */
	struct bf r = bf_make(b.s, 63 - b.e, est);
	struct bf one = bf_int(1);

	for (int i = 0; i < 2; i++)
		r = bf_add(r, bf_mul(r, bf_sub(one, bf_mul(b, r))));
	return r;
}

static struct bf bf_div(struct bf a, struct bf b)
{
	if (!a.m || !b.m)
		return BF_ZERO;
	return bf_mul(a, bf_recip(b));
}

/* a / d for a small integer d: three 64-bit steps instead of 128 bitwise. */
static struct bf bf_div_int(struct bf a, uint64_t d)
{
	if (!a.m || !d)
		return BF_ZERO;
	uint64_t hi = HI64(a.m), lo = LO64(a.m);
	uint64_t q2 = hi / d;
	u128 r = hi % d;
	u128 n1 = (r << 64) | lo;
	uint64_t q1 = (uint64_t)(n1 / d);
	r = n1 % d;
	uint64_t q0 = (uint64_t)((r << 64) / d);
	/* quotient = q2:q1:q0 * 2^(a.e - 191) */
	if (!q2)
		return bf_make(a.s, a.e - 64, ((u128)q1 << 64) | q0);
	int n = __builtin_clzll(q2);
	u128 m = ((((u128)q2 << 64) | q1) << n) | (n ? q0 >> (64 - n) : 0);
	struct bf res = { a.s, a.e - n, m };
	return res;
}

static struct bf bf_ldexp(struct bf a, int32_t n)
{
	if (a.m)
		a.e += n;
	return a;
}

static struct bf bf_sqrt(struct bf a)
{
	if (!a.m)
		return BF_ZERO;
	/* The 64-bit square root of the top bits, then two Newton steps. */
	struct fx_env quiet = { .cw = 0x037f };
	fx top = fx_make(false, (unsigned)((a.e & 1) + FX_BIAS), HI64(a.m));
	struct bf y = bf_ldexp(bf_from(fx_sqrt(&quiet, top, 64)), (a.e - (a.e & 1)) / 2);
	for (int i = 0; i < 2; i++)
		y = bf_ldexp(bf_add(y, bf_div(a, y)), -1);
	return y;
}

/*
 * Rounds to the 64-bit result. The approximation is never exact: the true
 * value lies a little above (dir > 0) or below (dir < 0) it in magnitude,
 * which decides ties and exact-looking values (sin x = x - x^3/6 for tiny
 * x is just below x, tan x just above).
 */
static fx bf_round_dir(struct fx_env *e, struct bf a, int dir)
{
	if (!a.m)
		return fx_zero(a.s);
	if (dir == 0) {
		/* As if the approximation were exact (the hardware's atan of a
		 * tiny ratio is the ratio rounded), but always inexact. */
		fx r = fx_round_pack(e, a.s, a.e + FX_BIAS, a.m, 64);
		e->exc |= FX_PE;
		if (fx_exp(r) == 0 && (e->cw & FX_UE))
			e->exc |= FX_UE;
		return r;
	}
	if (dir < 0) {
		u128 m = a.m - 1;
		if (!(m >> 127))
			return fx_round_pack(e, a.s, a.e - 1 + FX_BIAS, (m << 1) | 1, 64);
		return fx_round_pack(e, a.s, a.e + FX_BIAS, m | 1, 64);
	}
	return fx_round_pack(e, a.s, a.e + FX_BIAS, a.m | 1, 64);
}

static fx bf_round(struct fx_env *e, struct bf a)
{
	return bf_round_dir(e, a, 1);
}

static struct bf bf_pi(void) { return bf_const(0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, 1); }
static struct bf bf_log2e(void) { return bf_const(0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull, 0); }
static struct bf bf_ln2(void) { return bf_const(0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, -1); }

static bool bf_small(struct bf term, struct bf sum)
{
	return !term.m || term.e < sum.e - 130;
}

/* sin and cos of |r| <= pi/4, by their series. */
static void bf_sincos_reduced(struct bf r, struct bf *s, struct bf *c)
{
	struct bf r2 = bf_mul(r, r);
	struct bf term = r, sum = r;
	for (int k = 2; k < 80; k += 2) {
		term = bf_neg(bf_div_int(bf_mul(term, r2), (uint64_t)k * (k + 1)));
		sum = bf_add(sum, term);
		if (bf_small(term, sum))
			break;
	}
	*s = sum;
	term = bf_int(1);
	sum = term;
	for (int k = 1; k < 80; k += 2) {
		term = bf_neg(bf_div_int(bf_mul(term, r2), (uint64_t)k * (k + 1)));
		sum = bf_add(sum, term);
		if (bf_small(term, sum))
			break;
	}
	*c = sum;
}

/*
 * Reduces |x| < 2^63 modulo the 66-bit pi/2: x = q * pi66/2 + r with
 * |r| <= pi66/4. Returns q mod 4.
 */
static unsigned reduce(fx x, struct bf *r)
{
	struct fx_unpacked u = fx_unpack(x);
	/* pi/2 truncated to 66 bits: P * 2^-65. */
	const u128 P = ((u128)0xc90fdaa22168c234ull << 2 | 3);

	if (u.exp < -1) {       /* |x| < 0.5 < pi/4: nothing to reduce */
		*r = bf_from(fx_abs(x));
		return 0;
	}
	/* |x| = N * 2^-65 with N = sig << (exp + 2): divide N by P bit by bit. */
	int32_t zeros = u.exp + 2;
	u128 rem = 0;
	unsigned q = 0;
	for (int i = 63 + zeros; i >= 0; i--) {
		unsigned bit = i >= zeros ? (unsigned)((u.sig >> (i - zeros)) & 1) : 0;
		rem = (rem << 1) | bit;
		q <<= 1;
		if (rem >= P) {
			rem -= P;
			q |= 1;
		}
	}
	bool neg = false;
	if (rem > P - rem) {    /* past halfway: round the quotient up */
		q++;
		rem = P - rem;
		neg = true;
	}
	*r = bf_make(neg, 127 - 65, rem);
	return q & 3;
}

/* sin and cos of a finite x; false when |x| >= 2^63. */
static bool sincos_finite(fx x, struct bf *s, struct bf *c)
{
	if (fx_exp(x) >= FX_BIAS + 63)
		return false;
	struct bf r, sr, cr;
	unsigned q = reduce(x, &r);
	bf_sincos_reduced(r, &sr, &cr);
	switch (q) {
	case 0: *s = sr; *c = cr; break;
	case 1: *s = cr; *c = bf_neg(sr); break;
	case 2: *s = bf_neg(sr); *c = bf_neg(cr); break;
	default: *s = bf_neg(cr); *c = sr; break;
	}
	if (fx_sign(x))
		*s = bf_neg(*s);
	return true;
}

bool fx_sincos(struct fx_env *e, fx x, fx *sinv, fx *cosv)
{
	fx res;

	if (fx_screen1(e, x, &res)) {
		if (sinv)
			*sinv = res;
		if (cosv)
			*cosv = res;
		return true;
	}
	if (fx_is_inf(x)) {
		e->exc |= FX_IE;
		if (sinv)
			*sinv = fx_indefinite();
		if (cosv)
			*cosv = fx_indefinite();
		return true;
	}
	if (fx_is_zero(x)) {
		if (sinv)
			*sinv = x;
		if (cosv)
			*cosv = fx_make(false, FX_BIAS, FX_INT_BIT);
		return true;
	}
	struct bf s, c;
	if (!sincos_finite(x, &s, &c))
		return false;
	if ((e->exc & FX_DE) && !(e->cw & FX_DE))
		return true;
	/* Both results share one C1 and one set of flags. For tiny arguments
	 * the hardware rounds sin x = x and cos x = 1 as if exact. */
	if (sinv)
		*sinv = bf_round_dir(e, s, 0);
	if (cosv) {
		bool c1 = e->c1;
		*cosv = bf_round_dir(e, c, 0);
		if (sinv)
			e->c1 = c1 || e->c1;
	}
	return true;
}

bool fx_tan(struct fx_env *e, fx x, fx *tanv)
{
	fx res;

	if (fx_screen1(e, x, &res)) {
		*tanv = res;
		return true;
	}
	if (fx_is_inf(x)) {
		e->exc |= FX_IE;
		*tanv = fx_indefinite();
		return true;
	}
	if (fx_is_zero(x)) {
		*tanv = x;
		return true;
	}
	struct bf s, c;
	if (!sincos_finite(x, &s, &c))
		return false;
	if ((e->exc & FX_DE) && !(e->cw & FX_DE))
		return true;
	*tanv = bf_round_dir(e, bf_div(s, c), 0);
	return true;
}

/* atan(t) for 0 <= t <= 1: halve the angle until the series is short. */
static struct bf bf_atan(struct bf t)
{
	int halvings = 0;
	struct bf one = bf_int(1);

	while (t.m && t.e > -5 && halvings < 12) {
		t = bf_div(t, bf_add(one, bf_sqrt(bf_add(one, bf_mul(t, t)))));
		halvings++;
	}
	struct bf t2 = bf_neg(bf_mul(t, t));
	struct bf pw = t, sum = t;
	for (int k = 3; k < 200; k += 2) {
		pw = bf_mul(pw, t2);
		struct bf term = bf_div_int(pw, (uint64_t)k);
		sum = bf_add(sum, term);
		if (bf_small(term, sum))
			break;
	}
	return bf_ldexp(sum, halvings);
}

fx fx_atan2(struct fx_env *e, fx y, fx x)
{
	fx res;

	if (fx_screen2(e, y, x, &res))
		return res;
	if ((e->exc & FX_DE) && !(e->cw & FX_DE))
		return y;
	bool sy = fx_sign(y), sx = fx_sign(x);
	struct bf pi = bf_pi(), ang;
	int dir = 1;

	if (fx_is_zero(y)) {
		if (!sx)
			return fx_zero(sy);
		ang = pi;
	} else if (fx_is_inf(y)) {
		if (fx_is_inf(x))
			ang = bf_ldexp(sx ? bf_mul(pi, bf_int(3)) : pi, -2);
		else
			ang = bf_ldexp(pi, -1);
	} else if (fx_is_inf(x)) {
		if (!sx)
			return fx_zero(sy);
		ang = pi;
	} else if (fx_is_zero(x)) {
		ang = bf_ldexp(pi, -1);
	} else {
		struct bf ay = bf_from(fx_abs(y)), ax = bf_from(fx_abs(x));
		bool swap = fx_compare(&(struct fx_env){ .cw = 0x3f }, fx_abs(y), fx_abs(x), true) > 0;
		ang = swap ? bf_sub(bf_ldexp(pi, -1), bf_atan(bf_div(ax, ay))) : bf_atan(bf_div(ay, ax));
		if (sx)
			ang = bf_sub(pi, ang);
		else if (!swap)
			dir = 0;
	}
	if (sy)
		ang = bf_neg(ang);
	return bf_round_dir(e, ang, dir);
}

fx fx_2xm1(struct fx_env *e, fx x)
{
	fx res;

	if (fx_screen1(e, x, &res))
		return res;
	if ((e->exc & FX_DE) && !(e->cw & FX_DE))
		return x;
	if (fx_is_zero(x))
		return x;
	if (fx_is_inf(x))
		return fx_sign(x) ? fx_make(true, FX_BIAS, FX_INT_BIT) : x;
	struct fx_unpacked u = fx_unpack(x);
	if (u.exp >= 0) {
		/* +-1 are exact (1, -0.5); beyond, outside the defined range,
		 * the hardware leaves the operand and reports it inexact. */
		e->exc |= FX_PE;
		if (u.exp == 0 && u.sig == FX_INT_BIT)
			return u.sign ? fx_make(true, FX_BIAS - 1, FX_INT_BIT) : x;
		return x;
	}
	/* expm1(x ln2) by its series: no cancellation for small x. */
	struct bf z = bf_mul(bf_from(x), bf_ln2());
	struct bf term = z, sum = z;
	for (int k = 2; k < 400; k++) {
		term = bf_div_int(bf_mul(term, z), (uint64_t)k);
		sum = bf_add(sum, term);
		if (bf_small(term, sum))
			break;
	}
	return bf_round(e, sum);
}

/* log2(m) for m in [sqrt(1/2), sqrt(2)]: 2 log2(e) atanh((m-1)/(m+1)). */
static struct bf bf_log2_atanh(struct bf s)
{
	struct bf s2 = bf_mul(s, s), pw = s, sum = s;
	for (int k = 3; k < 400; k += 2) {
		pw = bf_mul(pw, s2);
		struct bf term = bf_div_int(pw, (uint64_t)k);
		sum = bf_add(sum, term);
		if (bf_small(term, sum))
			break;
	}
	return bf_ldexp(bf_mul(sum, bf_log2e()), 1);
}

/* log2 of a positive bf: k + log2(m), m in [sqrt(1/2), sqrt(2)); exact for powers of two. */
static struct bf bf_log2(struct bf v)
{
	int32_t k = v.e;
	struct bf m = bf_make(false, 0, v.m);
	/* 0xB504F333... is sqrt(2) * 2^63: compare the top 64 bits. */
	if ((uint64_t)(v.m >> 64) > 0xb504f333f9de6484ull) {
		m = bf_ldexp(m, -1);
		k++;
	}
	struct bf one = bf_int(1);
	return bf_add(bf_int(k), bf_log2_atanh(bf_div(bf_sub(m, one), bf_add(m, one))));
}

fx fx_yl2x(struct fx_env *e, fx x, fx y)
{
	fx res;

	if (fx_screen2(e, x, y, &res))
		return res;
	/* Invalid operands and the zero divide are found before denormals. */
	if ((fx_sign(x) && !fx_is_zero(x)) || fx_is_zero(x) || (fx_is_inf(x) && fx_is_zero(y)))
		e->exc &= (uint16_t)~FX_DE;
	if ((e->exc & FX_DE) && !(e->cw & FX_DE))
		return y;
	bool sy = fx_sign(y);
	if (fx_sign(x) && !fx_is_zero(x)) {
		e->exc |= FX_IE;
		return fx_indefinite();
	}
	if (fx_is_zero(x)) {
		if (fx_is_zero(y)) {
			e->exc |= FX_IE;
			return fx_indefinite();
		}
		if (!fx_is_inf(y))
			e->exc |= FX_ZE;
		return fx_inf(!sy);
	}
	if (fx_is_inf(x)) {
		if (fx_is_zero(y)) {
			e->exc |= FX_IE;
			return fx_indefinite();
		}
		return fx_inf(sy);
	}
	struct bf l = bf_log2(bf_from(x));
	if (fx_is_inf(y)) {
		if (!l.m) {
			e->exc |= FX_IE;
			return fx_indefinite();
		}
		return fx_inf(sy != l.s);
	}
	if (fx_is_zero(y) || !l.m)
		return fx_zero(sy != l.s);
	/*
	 * log2 of a power of two is an integer: the hardware's product is
	 * then exact for positive logs, and just below in magnitude for
	 * negative ones (as measured against the host).
	 */
	bool exact = l.m && l.e >= 0 && (l.e >= 127 || (l.m << (l.e + 1)) == 0);
	return bf_round_dir(e, bf_mul(bf_from(y), l), exact ? (l.s ? -1 : 0) : 1);
}

fx fx_yl2xp1(struct fx_env *e, fx x, fx y)
{
	fx res;

	if (fx_screen2(e, x, y, &res))
		return res;
	bool sy = fx_sign(y), sx = fx_sign(x);
	/* Invalid operands are found before denormals. */
	if ((fx_is_inf(x) && (sx || fx_is_zero(y))) || (fx_is_zero(x) && fx_is_inf(y)))
		e->exc &= (uint16_t)~FX_DE;
	if ((e->exc & FX_DE) && !(e->cw & FX_DE))
		return y;
	if (fx_is_inf(x)) {
		if (sx || fx_is_zero(y)) {
			e->exc |= FX_IE;
			return fx_indefinite();
		}
		return fx_inf(sy);
	}
	if (fx_is_zero(x)) {
		if (fx_is_inf(y)) {
			e->exc |= FX_IE;
			return fx_indefinite();
		}
		return fx_zero(sy != sx);
	}
	struct bf bx = bf_from(x), one = bf_int(1);
	struct bf onepx = bf_add(one, bx);
	if (onepx.s || !onepx.m) {
		/* x <= -1: outside the domain. */
		e->exc |= FX_IE;
		return fx_indefinite();
	}
	/* 1 + x is exact in a bf unless x is tiny; then atanh(x / (2 + x)) keeps x's precision. */
	struct bf l = bx.e >= -60 ? bf_log2(onepx) : bf_log2_atanh(bf_div(bx, bf_add(bf_int(2), bx)));
	if (fx_is_inf(y))
		return fx_inf(sy != l.s);
	if (fx_is_zero(y))
		return fx_zero(sy != l.s);
	return bf_round(e, bf_mul(bf_from(y), l));
}

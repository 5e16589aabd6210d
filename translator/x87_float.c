/*
 * Software extended precision for the x87 unit. Exact intermediate results
 * are formed in 128-bit integers and rounded once, in fx_round_pack(), which
 * is where precision control, rounding mode, tininess, overflow and the
 * unmasked exponent bias live.
 */
#include "translator/x87_float.h"

typedef unsigned __int128 u128;

/* The unmasked overflow/underflow response rebiases the exponent by this. */
#define FX_REBIAS 24576

int fx_pc_bits(uint16_t cw)
{
	switch ((cw >> 8) & 3) {
	case 0: return 24;
	case 2: return 53;
	default: return 64;     /* 3, and the reserved 1 which behaves as 64 */
	}
}

static int clz64(uint64_t v)
{
	return v ? __builtin_clzll(v) : 64;
}

static int clz128(u128 v)
{
	uint64_t hi = (uint64_t)(v >> 64);
	return hi ? clz64(hi) : 64 + clz64((uint64_t)v);
}

static u128 shift_right_jam(u128 v, int32_t n)
{
	if (n <= 0)
		return v;
	if (n >= 128)
		return v != 0;
	return (v >> n) | ((v << (128 - n)) != 0);
}

/*
 * Rounds *sig at bit `shift` (the kept part's least significant bit) in
 * mode rc. Returns whether it incremented; *carry when the increment
 * overflowed all 128 bits (the caller renormalizes).
 */
static bool round_bits(u128 *sig, int rc, bool sign, int shift, bool *inexact, bool *carry)
{
	u128 lsb = (u128)1 << shift;
	u128 rem = *sig & (lsb - 1);
	u128 kept = *sig - rem;
	bool inc = false;

	*inexact = rem != 0;
	*carry = false;
	if (rem) {
		switch (rc) {
		case FX_RC_NEAREST: {
			u128 half = lsb >> 1;
			inc = rem > half || (rem == half && (kept & lsb));
			break;
		}
		case FX_RC_DOWN: inc = sign; break;
		case FX_RC_UP: inc = !sign; break;
		default: inc = false; break;
		}
	}
	if (inc) {
		kept += lsb;
		if (kept == 0)
			*carry = true;
	}
	*sig = kept;
	return inc;
}

fx fx_round_pack(struct fx_env *e, bool sign, int32_t exp, u128 sig, int prec)
{
	int rc = fx_rc(e);
	int shift = 128 - prec;
	bool inexact, carry, up;

	if (exp <= 0) {
		/* Tininess is judged after rounding, as on a P6. */
		u128 probe = sig;
		bool pi, pc;
		bool tiny;

		round_bits(&probe, rc, sign, shift, &pi, &pc);
		tiny = exp < 0 || !pc;
		if (tiny && !(e->cw & FX_UE)) {
			e->exc |= FX_UE;
			exp += FX_REBIAS;
			if (exp <= 0) {
				/* Beyond even the rebiased range (FSCALE): a zero. */
				e->exc |= FX_PE;
				e->c1 = false;
				return fx_zero(sign);
			}
		}
		if (exp <= 0) {
			sig = shift_right_jam(sig, 1 - exp);
			up = round_bits(&sig, rc, sign, shift, &inexact, &carry);
			if (inexact)
				e->exc |= FX_PE | (tiny ? FX_UE : 0);
			e->c1 = up;
			uint64_t m = (uint64_t)(sig >> 64);
			return fx_make(sign, (m & FX_INT_BIT) ? 1 : 0, m);
		}
	}
	up = round_bits(&sig, rc, sign, shift, &inexact, &carry);
	if (carry) {
		sig = (u128)1 << 127;
		exp++;
	}
	if (inexact)
		e->exc |= FX_PE;
	if (exp >= FX_EXP_MAX) {
		if (e->cw & FX_OE) {
			bool to_inf = rc == FX_RC_NEAREST || (rc == FX_RC_DOWN && sign) ||
			              (rc == FX_RC_UP && !sign);
			e->exc |= FX_OE | FX_PE;
			e->c1 = to_inf;
			if (to_inf)
				return fx_inf(sign);
			return fx_make(sign, FX_EXP_MAX - 1, ~0ull << (64 - prec));
		}
		e->exc |= FX_OE;
		exp -= FX_REBIAS;
		if (exp >= FX_EXP_MAX) {
			/* Beyond even the rebiased range (FSCALE): an infinity. */
			e->exc |= FX_PE;
			e->c1 = true;
			return fx_inf(sign);
		}
	}
	e->c1 = up;
	return fx_make(sign, (unsigned)exp, (uint64_t)(sig >> 64));
}

struct fx_unpacked fx_unpack(fx a)
{
	struct fx_unpacked u;
	int32_t be = fx_exp(a) ? (int32_t)fx_exp(a) : 1;
	int n = clz64(a.mant);

	u.sign = fx_sign(a);
	if (n == 64) {
		/* Callers screen zeros and unsupported encodings out first; an
		 * all-zero significand still unpacks to a harmless tiny zero. */
		u.sig = 0;
		u.exp = -FX_BIAS - 64;
		return u;
	}
	u.sig = a.mant << n;
	u.exp = be - FX_BIAS - n;
	return u;
}

static fx pack_unpacked(struct fx_env *e, struct fx_unpacked u, int prec)
{
	return fx_round_pack(e, u.sign, u.exp + FX_BIAS, (u128)u.sig << 64, prec);
}

static fx quiet(fx a)
{
	a.mant |= FX_QUIET_BIT;
	return a;
}

bool fx_screen1(struct fx_env *e, fx a, fx *res)
{
	if (fx_is_unsupported(a)) {
		e->exc |= FX_IE;
		*res = fx_indefinite();
		return true;
	}
	if (fx_is_nan(a)) {
		if (fx_is_snan(a))
			e->exc |= FX_IE;
		*res = quiet(a);
		return true;
	}
	if (fx_is_denormal(a))
		e->exc |= FX_DE;
	return false;
}

/* x87 NaN propagation: a QNaN beats an SNaN, else the larger significand. */
static fx pick_nan(fx a, fx b)
{
	bool an = fx_is_nan(a), bn = fx_is_nan(b);

	if (an && bn) {
		bool as = fx_is_snan(a), bs = fx_is_snan(b);
		if (as != bs)
			return quiet(as ? b : a);
		if (a.mant != b.mant)
			return quiet(a.mant > b.mant ? a : b);
		return quiet(a.sign_exp < b.sign_exp ? a : b);
	}
	return quiet(an ? a : b);
}

bool fx_screen2(struct fx_env *e, fx a, fx b, fx *res)
{
	if (fx_is_unsupported(a) || fx_is_unsupported(b)) {
		e->exc |= FX_IE;
		*res = fx_indefinite();
		return true;
	}
	if (fx_is_nan(a) || fx_is_nan(b)) {
		if (fx_is_snan(a) || fx_is_snan(b))
			e->exc |= FX_IE;
		*res = pick_nan(a, b);
		return true;
	}
	if (fx_is_denormal(a) || fx_is_denormal(b))
		e->exc |= FX_DE;
	return false;
}

/* An unmasked denormal-operand exception stops the operation. */
static bool denormal_stops(const struct fx_env *e)
{
	return (e->exc & FX_DE) && !(e->cw & FX_DE);
}

static fx invalid(struct fx_env *e)
{
	e->exc |= FX_IE;
	return fx_indefinite();
}

static fx add_signed(struct fx_env *e, fx a, fx b, bool negate_b, int prec)
{
	fx res;

	if (fx_screen2(e, a, b, &res))
		return res;
	if (denormal_stops(e))
		return a;
	bool sa = fx_sign(a), sb = fx_sign(b) ^ negate_b;
	if (fx_is_inf(a)) {
		if (fx_is_inf(b) && sa != sb)
			return invalid(e);
		return fx_inf(sa);
	}
	if (fx_is_inf(b))
		return fx_inf(sb);
	if (fx_is_zero(a) && fx_is_zero(b))
		return fx_zero(sa == sb ? sa : fx_rc(e) == FX_RC_DOWN);
	if (fx_is_zero(b)) {
		struct fx_unpacked u = fx_unpack(a);
		return pack_unpacked(e, u, prec);
	}
	if (fx_is_zero(a)) {
		struct fx_unpacked u = fx_unpack(b);
		u.sign = sb;
		return pack_unpacked(e, u, prec);
	}

	struct fx_unpacked ua = fx_unpack(a), ub = fx_unpack(b);
	ub.sign = sb;
	if (ua.exp < ub.exp || (ua.exp == ub.exp && ua.sig < ub.sig)) {
		struct fx_unpacked t = ua;
		ua = ub;
		ub = t;
	}
	u128 A = (u128)ua.sig << 63;
	u128 B = shift_right_jam((u128)ub.sig << 63, ua.exp - ub.exp);
	u128 S;
	if (ua.sign == ub.sign) {
		S = A + B;
	} else {
		S = A - B;
		if (S == 0)
			return fx_zero(fx_rc(e) == FX_RC_DOWN);
	}
	int n = clz128(S);
	return fx_round_pack(e, ua.sign, ua.exp + FX_BIAS + 1 - n, S << n, prec);
}

fx fx_add(struct fx_env *e, fx a, fx b, int prec)
{
	return add_signed(e, a, b, false, prec);
}

fx fx_sub(struct fx_env *e, fx a, fx b, int prec)
{
	return add_signed(e, a, b, true, prec);
}

fx fx_mul(struct fx_env *e, fx a, fx b, int prec)
{
	fx res;

	if (fx_screen2(e, a, b, &res))
		return res;
	if (denormal_stops(e))
		return a;
	bool s = fx_sign(a) ^ fx_sign(b);
	if (fx_is_inf(a) || fx_is_inf(b)) {
		if (fx_is_zero(a) || fx_is_zero(b))
			return invalid(e);
		return fx_inf(s);
	}
	if (fx_is_zero(a) || fx_is_zero(b))
		return fx_zero(s);
	struct fx_unpacked ua = fx_unpack(a), ub = fx_unpack(b);
	u128 P = (u128)ua.sig * ub.sig;
	int n = clz128(P);
	return fx_round_pack(e, s, ua.exp + ub.exp + FX_BIAS + 1 - n, P << n, prec);
}

fx fx_div(struct fx_env *e, fx a, fx b, int prec)
{
	fx res;

	if (fx_screen2(e, a, b, &res))
		return res;
	/* A zero divisor is found before a denormal dividend is. */
	if (fx_is_zero(b))
		e->exc &= (uint16_t)~FX_DE;
	if (denormal_stops(e))
		return a;
	bool s = fx_sign(a) ^ fx_sign(b);
	if (fx_is_inf(a)) {
		if (fx_is_inf(b))
			return invalid(e);
		return fx_inf(s);
	}
	if (fx_is_inf(b))
		return fx_zero(s);
	if (fx_is_zero(b)) {
		if (fx_is_zero(a))
			return invalid(e);
		e->exc |= FX_ZE;
		return fx_inf(s);
	}
	if (fx_is_zero(a))
		return fx_zero(s);
	struct fx_unpacked ua = fx_unpack(a), ub = fx_unpack(b);
	u128 num = (u128)ua.sig << 63;
	uint64_t q1 = (uint64_t)(num / ub.sig);
	uint64_t r1 = (uint64_t)(num % ub.sig);
	u128 num2 = (u128)r1 << 64;
	uint64_t q2 = (uint64_t)(num2 / ub.sig);
	uint64_t r2 = (uint64_t)(num2 % ub.sig);
	u128 Q = ((u128)q1 << 64) | q2 | (r2 != 0);
	int n = clz128(Q);
	return fx_round_pack(e, s, ua.exp - ub.exp + FX_BIAS - n, Q << n, prec);
}

fx fx_sqrt(struct fx_env *e, fx a, int prec)
{
	fx res;

	if (fx_screen1(e, a, &res))
		return res;
	if (fx_sign(a) && !fx_is_zero(a)) {
		e->exc &= (uint16_t)~FX_DE;    /* invalid is found first */
		return invalid(e);
	}
	if (denormal_stops(e))
		return a;
	if (fx_is_zero(a))
		return a;
	if (fx_is_inf(a))
		return a;
	struct fx_unpacked u = fx_unpack(a);
	int32_t odd = u.exp & 1;
	/* Radicand sig << (67 + odd) in a 132-bit frame: 66 root bits. */
	int shift = 67 + odd;
	u128 root = 0, rem = 0;
	for (int pos = 131; pos > 0; pos -= 2) {
		unsigned bits = 0;
		for (int k = 0; k < 2; k++) {
			int p = pos - k - shift;
			bits = (bits << 1) | ((p >= 0 && p < 64) ? (unsigned)((u.sig >> p) & 1) : 0);
		}
		rem = (rem << 2) | bits;
		u128 trial = (root << 2) | 1;
		if (rem >= trial) {
			rem -= trial;
			root = (root << 1) | 1;
		} else {
			root <<= 1;
		}
	}
	u128 S = (root << 62) | (rem != 0);
	return fx_round_pack(e, false, (u.exp - odd) / 2 + FX_BIAS, S, prec);
}

fx fx_round_int(struct fx_env *e, fx a)
{
	fx res;

	if (fx_screen1(e, a, &res))
		return res;
	if (denormal_stops(e))
		return a;
	if (fx_is_zero(a) || fx_is_inf(a))
		return a;
	struct fx_unpacked u = fx_unpack(a);
	int rc = fx_rc(e);
	if (u.exp >= 63)
		return a;
	if (u.exp < 0) {
		bool one;
		switch (rc) {
		case FX_RC_NEAREST: one = u.exp == -1 && u.sig > FX_INT_BIT; break;
		case FX_RC_DOWN: one = u.sign; break;
		case FX_RC_UP: one = !u.sign; break;
		default: one = false; break;
		}
		e->exc |= FX_PE;
		e->c1 = one;
		return one ? fx_make(u.sign, FX_BIAS, FX_INT_BIT) : fx_zero(u.sign);
	}
	u128 S = (u128)u.sig << 64;
	bool inexact, carry;
	bool up = round_bits(&S, rc, u.sign, 127 - u.exp, &inexact, &carry);
	int32_t exp = u.exp;
	if (carry) {
		S = (u128)1 << 127;
		exp++;
	} else if (!(S >> 127)) {
		/* The kept part rounded out of its top bit: renormalize. */
		int n = clz128(S);
		S <<= n;
		exp -= n;
	}
	if (inexact)
		e->exc |= FX_PE;
	e->c1 = up;
	return fx_make(u.sign, (unsigned)(exp + FX_BIAS), (uint64_t)(S >> 64));
}

fx fx_scale(struct fx_env *e, fx a, fx b)
{
	fx res;

	if (fx_screen2(e, a, b, &res))
		return res;
	if (denormal_stops(e))
		return a;
	if (fx_is_inf(b)) {
		if (fx_sign(b)) {
			if (fx_is_inf(a))
				return invalid(e);
			return fx_zero(fx_sign(a));
		}
		if (fx_is_zero(a))
			return invalid(e);
		return fx_inf(fx_sign(a));
	}
	if (fx_is_zero(a) || fx_is_inf(a))
		return a;
	int32_t n = 0;
	if (!fx_is_zero(b)) {
		struct fx_unpacked ub = fx_unpack(b);
		if (ub.exp >= 20)
			n = 1 << 20;    /* beyond any representable scale */
		else if (ub.exp >= 0)
			n = (int32_t)(ub.sig >> (63 - ub.exp));
		if (ub.sign)
			n = -n;
	}
	struct fx_unpacked ua = fx_unpack(a);
	ua.exp += n;
	return pack_unpacked(e, ua, 64);
}

void fx_extract(struct fx_env *e, fx a, fx *exponent, fx *significand)
{
	fx res;

	if (fx_screen1(e, a, &res)) {
		*exponent = *significand = res;
		return;
	}
	if (denormal_stops(e)) {
		*exponent = *significand = a;
		return;
	}
	if (fx_is_zero(a)) {
		e->exc |= FX_ZE;
		*exponent = fx_inf(true);
		*significand = a;
		return;
	}
	if (fx_is_inf(a)) {
		*exponent = fx_inf(false);
		*significand = a;
		return;
	}
	struct fx_unpacked u = fx_unpack(a);
	*exponent = fx_from_int64(u.exp);
	*significand = fx_make(u.sign, FX_BIAS, u.sig);
}

fx fx_rem(struct fx_env *e, fx a, fx b, bool round_nearest, unsigned *q, bool *partial)
{
	fx res;

	*q = 0;
	*partial = false;
	if (fx_screen2(e, a, b, &res))
		return res;
	if (fx_is_inf(a) || fx_is_zero(b)) {
		e->exc &= (uint16_t)~FX_DE;    /* invalid is found first */
		return invalid(e);
	}
	if (denormal_stops(e))
		return a;
	if (fx_is_zero(a))
		return a;
	struct fx_unpacked ua = fx_unpack(a);
	if (fx_is_inf(b))
		return pack_unpacked(e, ua, 64);        /* pseudo-denormals normalized */
	struct fx_unpacked ub = fx_unpack(b);
	int32_t d = ua.exp - ub.exp;
	bool sign = ua.sign;
	if (d < (round_nearest ? -1 : 0))
		return pack_unpacked(e, ua, 64);
	if (d >= 64) {
		/* Partial: reduce the exponent difference by 32-63 bits. */
		int32_t nbits = 32 + d % 32;
		u128 num = (u128)ua.sig << nbits;
		u128 R = num % ub.sig;
		*partial = true;        /* the hardware reports no quotient bits */
		if (R == 0)
			return fx_zero(sign);
		int n = clz128(R);
		/* R's units: 2^(eb - 63 + d - nbits). */
		return fx_round_pack(e, sign, ub.exp - 63 + d - nbits + 127 - n + FX_BIAS, R << n, 64);
	}
	/* Both sides in units of 2^(eb - 64). */
	u128 num = (u128)ua.sig << (d + 1);
	u128 den = (u128)ub.sig << 1;
	u128 quo = num / den;
	u128 R = num % den;
	if (round_nearest && (R > den - R || (R == den - R && (quo & 1)))) {
		quo++;
		R = den - R;
		sign = !sign;
	}
	*q = (unsigned)(quo & 7);
	if (R == 0)
		return fx_zero(ua.sign);
	int n = clz128(R);
	return fx_round_pack(e, sign, ub.exp - 64 + 127 - n + FX_BIAS, R << n, 64);
}

int fx_compare(struct fx_env *e, fx a, fx b, bool quiet_cmp)
{
	if (fx_is_unsupported(a) || fx_is_unsupported(b)) {
		e->exc |= FX_IE;
		return 2;
	}
	if (fx_is_nan(a) || fx_is_nan(b)) {
		if (!quiet_cmp || fx_is_snan(a) || fx_is_snan(b))
			e->exc |= FX_IE;
		return 2;
	}
	if (fx_is_denormal(a) || fx_is_denormal(b))
		e->exc |= FX_DE;
	bool za = fx_is_zero(a), zb = fx_is_zero(b);
	if (za && zb)
		return 0;
	bool sa = fx_sign(a), sb = fx_sign(b);
	if (za)
		return sb ? 1 : -1;
	if (zb)
		return sa ? -1 : 1;
	if (sa != sb)
		return sa ? -1 : 1;
	int mag;
	bool ia = fx_is_inf(a), ib = fx_is_inf(b);
	if (ia || ib) {
		mag = ia == ib ? 0 : ia ? 1 : -1;
	} else {
		struct fx_unpacked ua = fx_unpack(a), ub = fx_unpack(b);
		if (ua.exp != ub.exp)
			mag = ua.exp > ub.exp ? 1 : -1;
		else
			mag = ua.sig == ub.sig ? 0 : ua.sig > ub.sig ? 1 : -1;
	}
	return sa ? -mag : mag;
}

fx fx_from_int64(int64_t v)
{
	if (v == 0)
		return fx_zero(false);
	bool s = v < 0;
	uint64_t m = s ? 0 - (uint64_t)v : (uint64_t)v;
	int n = clz64(m);
	return fx_make(s, (unsigned)(FX_BIAS + 63 - n), m << n);
}

/* IEEE single or double bits (frac_bits 23 or 52) to extended, exactly. */
static fx from_ieee(struct fx_env *e, uint64_t bits, int frac_bits, int exp_bits, bool keep_snan)
{
	bool s = (bits >> (frac_bits + exp_bits)) & 1;
	uint32_t emax = (1u << exp_bits) - 1;
	uint32_t ex = (uint32_t)(bits >> frac_bits) & emax;
	uint64_t frac = bits & ((1ull << frac_bits) - 1);
	int32_t bias = (int32_t)(emax >> 1);

	if (ex == emax) {
		if (frac == 0)
			return fx_inf(s);
		fx n = fx_make(s, FX_EXP_MAX, FX_INT_BIT | (frac << (63 - frac_bits)));
		if (!(n.mant & FX_QUIET_BIT) && !keep_snan) {
			e->exc |= FX_IE;
			n.mant |= FX_QUIET_BIT;
		}
		return n;
	}
	if (ex == 0) {
		if (frac == 0)
			return fx_zero(s);
		e->exc |= FX_DE;
		int n = clz64(frac);
		/* value = frac * 2^(1 - bias - frac_bits) */
		return fx_make(s, (unsigned)(1 - bias - frac_bits + 63 - n + FX_BIAS), frac << n);
	}
	return fx_make(s, (unsigned)((int32_t)ex - bias + FX_BIAS), FX_INT_BIT | (frac << (63 - frac_bits)));
}

fx fx_from_f32(struct fx_env *e, uint32_t bits, bool keep_snan)
{
	return from_ieee(e, bits, 23, 8, keep_snan);
}

fx fx_from_f64(struct fx_env *e, uint64_t bits, bool keep_snan)
{
	return from_ieee(e, bits, 52, 11, keep_snan);
}

bool fx_to_int(struct fx_env *e, fx a, int bits, int64_t *out)
{
	int64_t indefinite = (int64_t)(~0ull << (bits - 1));

	if (fx_is_unsupported(a) || fx_is_nan(a) || fx_is_inf(a)) {
		e->exc |= FX_IE;
		*out = indefinite;
		return (e->cw & FX_IE) != 0;
	}
	if (fx_is_zero(a)) {
		*out = 0;
		return true;
	}
	/* Stores raise no DE for a denormal source. */
	struct fx_unpacked u = fx_unpack(a);
	u128 mag;
	bool inexact = false, up = false, carry;
	if (u.exp > 63) {
		mag = (u128)1 << 64;   /* out of every range */
	} else if (u.exp < 0) {
		int rc = fx_rc(e);
		switch (rc) {
		case FX_RC_NEAREST: up = u.exp == -1 && u.sig > FX_INT_BIT; break;
		case FX_RC_DOWN: up = u.sign; break;
		case FX_RC_UP: up = !u.sign; break;
		default: up = false; break;
		}
		inexact = true;
		mag = up;
	} else {
		u128 S = (u128)u.sig << 64;
		up = round_bits(&S, fx_rc(e), u.sign, 127 - u.exp, &inexact, &carry);
		mag = carry ? (u128)1 << (u.exp + 1) : S >> (127 - u.exp);
	}
	u128 limit = ((u128)1 << (bits - 1)) - (u.sign ? 0 : 1);
	if (mag > limit) {
		e->exc |= FX_IE;
		*out = indefinite;
		return (e->cw & FX_IE) != 0;
	}
	if (inexact)
		e->exc |= FX_PE;
	e->c1 = up;
	*out = u.sign ? (int64_t)(0 - (uint64_t)mag) : (int64_t)(uint64_t)mag;
	return true;
}

/* Extended to IEEE single/double bits, rounded to its precision and range. */
static bool to_ieee(struct fx_env *e, fx a, int frac_bits, int exp_bits, uint64_t *out)
{
	bool s = fx_sign(a);
	uint64_t sbit = (uint64_t)s << (frac_bits + exp_bits);
	uint64_t emax = (1ull << exp_bits) - 1;
	int32_t bias = (int32_t)(emax >> 1);
	uint64_t inf_bits = sbit | (emax << frac_bits);

	if (fx_is_unsupported(a)) {
		e->exc |= FX_IE;
		*out = (1ull << (frac_bits + exp_bits)) | (emax << frac_bits) | (1ull << (frac_bits - 1));
		return (e->cw & FX_IE) != 0;
	}
	if (fx_is_nan(a)) {
		if (fx_is_snan(a))
			e->exc |= FX_IE;
		*out = inf_bits | ((a.mant << 1) >> (64 - frac_bits)) | (1ull << (frac_bits - 1));
		return !fx_is_snan(a) || (e->cw & FX_IE);
	}
	if (fx_is_inf(a)) {
		*out = inf_bits;
		return true;
	}
	if (fx_is_zero(a)) {
		*out = sbit;
		return true;
	}
	/* Stores raise no DE for a denormal source. */
	struct fx_unpacked u = fx_unpack(a);
	int prec = frac_bits + 1;
	int shift = 128 - prec;
	int rc = fx_rc(e);
	int32_t exp = u.exp + bias;
	u128 S = (u128)u.sig << 64;
	bool inexact, carry, up;

	if (exp <= 0) {
		u128 probe = S;
		bool pi, pc;
		round_bits(&probe, rc, s, shift, &pi, &pc);
		bool tiny = exp < 0 || !pc;
		if (tiny && !(e->cw & FX_UE)) {
			e->exc |= FX_UE;
			return false;
		}
		S = shift_right_jam(S, 1 - exp);
		up = round_bits(&S, rc, s, shift, &inexact, &carry);
		if (inexact)
			e->exc |= FX_PE | (tiny ? FX_UE : 0);
		e->c1 = up;
		uint64_t m = (uint64_t)(S >> shift);
		*out = sbit | m;   /* a carry into the J bit makes the exponent 1 */
		return true;
	}
	up = round_bits(&S, rc, s, shift, &inexact, &carry);
	if (carry) {
		S = (u128)1 << 127;
		exp++;
	}
	if ((uint64_t)exp >= emax) {
		if (!(e->cw & FX_OE)) {
			e->exc |= FX_OE;
			return false;
		}
		bool to_inf = rc == FX_RC_NEAREST || (rc == FX_RC_DOWN && s) || (rc == FX_RC_UP && !s);
		e->exc |= FX_OE | FX_PE;
		e->c1 = to_inf;
		*out = to_inf ? inf_bits : sbit | ((emax - 1) << frac_bits) | ((1ull << frac_bits) - 1);
		return true;
	}
	if (inexact)
		e->exc |= FX_PE;
	e->c1 = up;
	uint64_t m = (uint64_t)(S >> shift) & ((1ull << frac_bits) - 1);
	*out = sbit | ((uint64_t)exp << frac_bits) | m;
	return true;
}

bool fx_to_f32(struct fx_env *e, fx a, uint32_t *out)
{
	uint64_t v = 0;
	bool ok = to_ieee(e, a, 23, 8, &v);
	*out = (uint32_t)v;
	return ok;
}

bool fx_to_f64(struct fx_env *e, fx a, uint64_t *out)
{
	return to_ieee(e, a, 52, 11, out);
}

/*
 * Software 80-bit extended precision, with the x87's rules: precision
 * control (24/53/64-bit significands over the full 15-bit exponent range),
 * the four rounding modes, denormals and pseudo-denormals, the 387+
 * unsupported encodings, x87 NaN propagation, and the six exception flags
 * with the masked and unmasked (exponent-biased) responses for overflow and
 * underflow. Private to the translator's x87 unit; no host floating point.
 */
#ifndef TRANSLATOR_X87_FLOAT_H
#define TRANSLATOR_X87_FLOAT_H

#include <stdbool.h>
#include <stdint.h>

#include "translator/x87.h"

typedef struct x87_reg fx;

/* Exception flags, in their status-word positions. */
enum {
	FX_IE = 0x01, FX_DE = 0x02, FX_ZE = 0x04,
	FX_OE = 0x08, FX_UE = 0x10, FX_PE = 0x20,
};

enum { FX_RC_NEAREST, FX_RC_DOWN, FX_RC_UP, FX_RC_ZERO };

/*
 * What an operation needs from and tells the control/status words: the
 * control word in, the exception flags raised and whether the result was
 * rounded up in magnitude (C1) out.
 */
struct fx_env {
	uint16_t cw;
	uint16_t exc;
	bool c1;
};

#define FX_BIAS 16383
#define FX_EXP_MAX 0x7fff
#define FX_QUIET_BIT 0x4000000000000000ull
#define FX_INT_BIT 0x8000000000000000ull

static inline fx fx_make(bool sign, unsigned exp, uint64_t mant)
{
	fx r = { .mant = mant, .sign_exp = (uint16_t)((sign ? 0x8000u : 0u) | (exp & 0x7fffu)) };
	return r;
}
static inline bool fx_sign(fx a) { return (a.sign_exp >> 15) != 0; }
static inline unsigned fx_exp(fx a) { return a.sign_exp & 0x7fffu; }
static inline bool fx_is_zero(fx a) { return fx_exp(a) == 0 && a.mant == 0; }
/* Denormals and pseudo-denormals (exponent 0, J bit set) alike. */
static inline bool fx_is_denormal(fx a) { return fx_exp(a) == 0 && a.mant != 0; }
/* Unnormals, pseudo-NaNs and pseudo-infinities: invalid operands on a 387+. */
static inline bool fx_is_unsupported(fx a) { return fx_exp(a) != 0 && !(a.mant & FX_INT_BIT); }
static inline bool fx_is_inf(fx a) { return fx_exp(a) == FX_EXP_MAX && a.mant == FX_INT_BIT; }
static inline bool fx_is_nan(fx a)
{
	return fx_exp(a) == FX_EXP_MAX && (a.mant & FX_INT_BIT) && (a.mant << 1) != 0;
}
static inline bool fx_is_snan(fx a) { return fx_is_nan(a) && !(a.mant & FX_QUIET_BIT); }
static inline fx fx_indefinite(void) { return fx_make(true, FX_EXP_MAX, 0xc000000000000000ull); }
static inline fx fx_neg(fx a) { a.sign_exp ^= 0x8000; return a; }
static inline fx fx_abs(fx a) { a.sign_exp &= 0x7fff; return a; }
static inline fx fx_zero(bool sign) { return fx_make(sign, 0, 0); }
static inline fx fx_inf(bool sign) { return fx_make(sign, FX_EXP_MAX, FX_INT_BIT); }
static inline int fx_rc(const struct fx_env *e) { return (e->cw >> 10) & 3; }

/* Significand width selected by the precision-control field: 24, 53 or 64. */
int fx_pc_bits(uint16_t cw);

/*
 * Arithmetic, with `prec` the significand width to round to (fx_pc_bits()
 * for the operations precision control applies to, else 64). Operands are
 * checked first: unsupported encodings and SNaNs raise IE, denormals DE.
 * When an exception that suppresses the result is unmasked (IE, DE, ZE) the
 * returned value is meaningless and the caller must not store it.
 */
fx fx_add(struct fx_env *e, fx a, fx b, int prec);
fx fx_sub(struct fx_env *e, fx a, fx b, int prec);
fx fx_mul(struct fx_env *e, fx a, fx b, int prec);
fx fx_div(struct fx_env *e, fx a, fx b, int prec);
fx fx_sqrt(struct fx_env *e, fx a, int prec);
fx fx_round_int(struct fx_env *e, fx a);
fx fx_scale(struct fx_env *e, fx a, fx b);
/* FXTRACT: *exponent and *significand; true unless no result (unmasked). */
void fx_extract(struct fx_env *e, fx a, fx *exponent, fx *significand);
/*
 * FPREM (round_nearest false) and FPREM1: the partial remainder; *q gets
 * the low three quotient bits, *partial whether reduction is incomplete.
 */
fx fx_rem(struct fx_env *e, fx a, fx b, bool round_nearest, unsigned *q, bool *partial);

/* Compare: -1 a<b, 0 equal, 1 a>b, 2 unordered. quiet: only SNaN raise IE. */
int fx_compare(struct fx_env *e, fx a, fx b, bool quiet);

/*
 * Exact conversions in. A denormal single/double raises DE; an SNaN is
 * quieted with IE, unless keep_snan (an arithmetic operand, screened later
 * by the operation itself so NaN propagation sees it as signalling).
 */
fx fx_from_int64(int64_t v);
fx fx_from_f32(struct fx_env *e, uint32_t bits, bool keep_snan);
fx fx_from_f64(struct fx_env *e, uint64_t bits, bool keep_snan);

/*
 * Conversions out. Integer: rounded by RC; NaN, infinity or out of range
 * raise IE and give the integer indefinite (the most negative value). IEEE
 * single/double: rounded to the destination's precision and range. Each
 * returns false when an unmasked exception forbids storing the result.
 */
bool fx_to_int(struct fx_env *e, fx a, int bits, int64_t *out);
bool fx_to_f32(struct fx_env *e, fx a, uint32_t *out);
bool fx_to_f64(struct fx_env *e, fx a, uint64_t *out);

/*
 * Transcendentals (x87_trans.c), to within an ulp of the hardware's results.
 * fx_sincos and fx_tan return false, computing nothing, for |x| >= 2^63 (the
 * instruction then sets C2); either of sin/cos may be NULL.
 */
bool fx_sincos(struct fx_env *e, fx x, fx *sin, fx *cos);
bool fx_tan(struct fx_env *e, fx x, fx *tan);
fx fx_atan2(struct fx_env *e, fx y, fx x);    /* FPATAN: atan(y/x), quadrant from signs */
fx fx_2xm1(struct fx_env *e, fx x);
fx fx_yl2x(struct fx_env *e, fx x, fx y);
fx fx_yl2xp1(struct fx_env *e, fx x, fx y);

/* Rounds an exact value (sign, biased exponent of bit 127, significand with
 * bit 127 set) to prec bits: the one place results are rounded. */
fx fx_round_pack(struct fx_env *e, bool sign, int32_t exp, unsigned __int128 sig, int prec);

/*
 * For operations with one result: the NaN, invalid or denormal screening
 * of operands. Returns true with *res set when the result is decided
 * (a NaN or indefinite); raises DE for denormal operands otherwise.
 */
bool fx_screen1(struct fx_env *e, fx a, fx *res);
bool fx_screen2(struct fx_env *e, fx a, fx b, fx *res);

/* A finite nonzero value as sign, unbiased-exponent and normalized significand:
 * value = sig * 2^(exp - 63). */
struct fx_unpacked {
	bool sign;
	int32_t exp;
	uint64_t sig;
};
struct fx_unpacked fx_unpack(fx a);

#endif

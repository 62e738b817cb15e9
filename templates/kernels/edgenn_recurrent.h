/* The integer primitives of TFLM's LSTM (lstm_eval.cc), shared by the recurrent kernels (lstm, gru,
 * rnn): int8 x int8 fully connected rows requantized to int16, int16 saturating add, int16 sigmoid
 * and tanh on TFLM's interpolated table, and the requantized products of two int16 vectors. Gate
 * pre-activations are Q3.12, gate outputs Q0.15. Mirrors the recurrent section of
 * runtime_py/kernels/common.py. */
#ifndef EDGENN_RECURRENT_H
#define EDGENN_RECURRENT_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_fixedpoint.h"
#include "edgenn_simd.h"

/* TFLM's sigmoid_table_uint16 (kernels/internal/common.h): sigmoid(i / 24) in 0.16 fixed point as
 * TFLM tabulates it; the table, not a formula, defines TFLM's int16 sigmoid and tanh. */
static inline uint32_t enn_rec_table(int32_t i)
{
    static const uint16_t table[256] = {
        32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432,
        42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475,
        49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485,
        55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519,
        59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036,
        62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
        63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405,
        64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
        64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179,
        65194, 65208, 65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337,
        65345, 65352, 65360, 65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425,
        65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
        65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
        65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516, 65517,
        65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525, 65525,
        65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
        65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533,
        65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
        65534, 65534, 65534, 65535};
    return table[i];
}

static inline int16_t enn_rec_out16(int32_t acc, int32_t multiplier, int32_t shift)
{
    return (int16_t)enn_clamp(enn_mbqm(acc, multiplier, (int)shift), -32768, 32767);
}

/* out[h] = clamp16(requant(sum_k w[h][k] (x[k] + x_offset) + bias[h])), h < units (bias may be NULL):
 * TFLM's FullyConnected int8 -> int16 with per-tensor symmetric weights, int32 wrap-around sums. Units
 * go four at a time through enn_dot4 (SMLAD on the DSP extension, VMLADAV on Helium). */
static inline void enn_rec_fc16(const int8_t *x, int32_t depth, int32_t x_offset, const int8_t *w, int32_t units,
                                const int32_t *bias, int32_t multiplier, int32_t shift, int16_t *out)
{
    int32_t u = 0;
    for (; u + 4 <= units; u += 4) {
        int32_t a0 = bias != 0 ? bias[u] : 0;
        int32_t a1 = bias != 0 ? bias[u + 1] : 0;
        int32_t a2 = bias != 0 ? bias[u + 2] : 0;
        int32_t a3 = bias != 0 ? bias[u + 3] : 0;
        enn_dot4(x, w + u * depth, depth, depth, x_offset, &a0, &a1, &a2, &a3);
        out[u] = enn_rec_out16(a0, multiplier, shift);
        out[u + 1] = enn_rec_out16(a1, multiplier, shift);
        out[u + 2] = enn_rec_out16(a2, multiplier, shift);
        out[u + 3] = enn_rec_out16(a3, multiplier, shift);
    }
    for (; u < units; u++) {
        const uint32_t acc = (bias != 0 ? (uint32_t)bias[u] : 0u) + enn_dot1(x, w + u * depth, depth, x_offset);
        out[u] = enn_rec_out16((int32_t)acc, multiplier, shift);
    }
}

/* a[i] = clamp16(a[i] + b[i]) (TFLM lstm_internal::AddElementWise). */
static inline void enn_rec_add16(int16_t *a, const int16_t *b, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        a[i] = (int16_t)enn_clamp((int32_t)a[i] + (int32_t)b[i], -32768, 32767);
    }
}

/* The int16 logistic / tanh input scaling: multiplier 0 means 3 << left_shift. */
static inline int32_t enn_rec_scale_in(int32_t x, int32_t multiplier, int32_t left_shift)
{
    int32_t rnd;
    if (multiplier == 0) {
        multiplier = (int32_t)(3u << left_shift);
        left_shift = 0;
    }
    rnd = left_shift > 0 ? (int32_t)1 << (left_shift - 1) : 0;
    return (x * multiplier + rnd) >> left_shift;
}

/* TFLM reference_integer_ops::Logistic on int16 (Q3.12 -> Q0.15 with multiplier 0, shift 0). */
static inline int16_t enn_rec_sigmoid(int32_t x, int32_t multiplier, int32_t left_shift)
{
    const int32_t v = enn_rec_scale_in(x, multiplier, left_shift);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 9;
    uint32_t r;
    if (uh >= 255u) {
        r = 0x7FFFu << 10;
    } else {
        const uint32_t ua = enn_rec_table((int32_t)uh);
        const uint32_t ub = enn_rec_table((int32_t)uh + 1);
        r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

/* TFLM reference_integer_ops::Tanh on int16 (tanh(x) = 2 sigmoid(2x) - 1 on the same table). */
static inline int16_t enn_rec_tanh(int32_t x, int32_t multiplier, int32_t left_shift)
{
    const int32_t v = enn_rec_scale_in(x, multiplier, left_shift);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 8;
    int32_t r;
    if (uh >= 255u) {
        r = (int32_t)(0xFFFFu << 8);
    } else {
        const uint32_t ua = enn_rec_table((int32_t)uh);
        const uint32_t ub = enn_rec_table((int32_t)uh + 1);
        r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    r = v >= 0 ? r - ((int32_t)1 << 23) + ((int32_t)1 << 7) : -r + ((int32_t)1 << 23) + ((int32_t)1 << 7) - 1;
    return (int16_t)(r >> 8);
}

/* x[i] = sigmoid (activation 1) or tanh (0) of x[i] with the gates' parameters (Q3.12 -> Q0.15). */
static inline void enn_rec_activate(int16_t *x, int32_t n, int32_t sigmoid)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        x[i] = sigmoid ? enn_rec_sigmoid(x[i], 0, 0) : enn_rec_tanh(x[i], 0, 0);
    }
}

/* The (multiplier, left shift) of TFLM's tanh of an int16 value of scale 2^power (lstm_internal::Tanh). */
static inline void enn_rec_tanh_params(int32_t power, int32_t *multiplier, int32_t *left_shift)
{
    const int32_t s = 15 + power - 3;
    *multiplier = s < 0 ? 3 : 0;
    *left_shift = s < 0 ? -s : s;
}

/* out[i] = clamp(offset + requant(a[i] b[i]), lo, hi) (TFLM MulElementwise of symmetric int16). */
static inline int32_t enn_rec_mul(int32_t a, int32_t b, int32_t multiplier, int32_t shift, int32_t offset,
                                  int32_t lo, int32_t hi)
{
    return enn_clamp(offset + enn_mbqm(a * b, multiplier, (int)shift), lo, hi);
}

static inline void enn_rec_mul16(const int16_t *a, const int16_t *b, int32_t n, int32_t multiplier, int32_t shift,
                                 int16_t *out)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        out[i] = (int16_t)enn_rec_mul(a[i], b[i], multiplier, shift, 0, -32768, 32767);
    }
}

/* The index of row (t, b) of a sequence tensor of rows of `width`, time-major or batch-major. */
static inline int32_t enn_rec_row(int32_t t, int32_t b, int32_t steps, int32_t batch, int32_t time_major,
                                  int32_t width)
{
    return (time_major ? t * batch + b : b * steps + t) * width;
}

#endif /* EDGENN_RECURRENT_H */

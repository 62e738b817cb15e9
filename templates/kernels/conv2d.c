/* conv2d: int8 2-D convolution, bit-exact with TFLM's reference_integer_ops::ConvPerChannel.
 *
 * Same arithmetic as TFLM: acc = bias + sum filter * (input + input_offset) in int32 (wrapping
 * like TFLM's accumulator, which is compiled without overflow checks), requantized per output
 * channel (enn_rq_r when the layer qualifies, else enn_mbqm), plus the output offset, clamped.
 *
 * Output pixels are computed one after the other in memory order, each pixel's inputs read before
 * its outputs are written, so that the output may overlap the input as the memory planner allows
 * (runtime_py/memory.py); no working memory from the arena, only bounded stack buffers. Per pixel,
 * the column of input values its window covers is formed the cheapest way:
 * - 1x1 filters (one group): the pixel's input channels, as they are;
 * - small windows (one group, at most CONV2D_GATHER bytes): gathered into a stack buffer, taps in
 *   the padding filled with the input zero point (they add filter * (zp + input_offset) = 0);
 * - DSP build, input channels in fours (one group, at most CONV2D_EXT values): extended straight
 *   into int16 pairs (input + offset; 0 in the padding);
 * - otherwise one dot product per filter row (or per tap) over the taps inside the input.
 * Then four filters at a time (enn_dot4 and its variants in edgenn_fixedpoint.h), so that each
 * input word loaded serves four dot products: two 16-bit MACs per SMLAD on the DSP extension
 * (Cortex-M4/M7/M33), sixteen 8-bit MACs per VMLADAVA on Helium (Cortex-M55: conv2d_run4_mve, one
 * asm for runs of pixels with the requantization, from the op template's records of biases with
 * input_offset * sum(filter) folded in), plain C elsewhere. */
#include "conv2d.h"

#include "edgenn_simd.h"
#include "edgenn_threads.h"
#include "edgenn_window.h"

/* Windows of at most this many bytes (one group) are gathered into a stack buffer and take one
 * contiguous dot product per filter: first layers with few input channels have many short rows.
 * With Helium or NEON, where a dot product's set-up is costly and the filter sums come from a
 * table, every window up to 1 KB (3x3 filters of up to 113 channels) is gathered. */
#if defined(ENN_MVE) || defined(ENN_NEON)
#define CONV2D_GATHER 1024
#else
#define CONV2D_GATHER 128
#endif

#if defined(ENN_NEON)
/* Channels whose shifts a layer widens to int32 once (on the stack of a 64-bit Pi: 4 KB). */
#if !defined(CONV2D_SHIFT32)
#define CONV2D_SHIFT32 1024
#endif
#endif

/* A call's parameters, read once: the byte stores to the output could alias the parameter struct,
 * so the compiler would otherwise reload every field for every output. */
typedef struct {
    const int8_t *filter;
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
    const uint8_t *rsh;
    const int32_t *ksum; /* Helium: filter sums (or NULL) */
#if defined(ENN_MVE) || defined(ENN_NEON_PAIRS)
    const int32_t *mq;   /* Helium: four-channel records (conv2d_run4_mve), AArch64: eight-channel
                          * records (enn_gemm2_neon), or NULL */
#endif
#if defined(ENN_NEON_PAIRS)
    int right1;          /* every shift <= -1 (enn_rq4_rec_neon) */
    const int8_t *wp;    /* the packed filters (enn_gemm2_neon), or NULL */
#endif
#if defined(ENN_NEON)
    const int32_t *shift32; /* the shifts as int32 (or NULL: more channels than CONV2D_SHIFT32) */
#endif
    int32_t per_group, groups, f_c, filter_size, w_row, row_step, col_step, offset;
    int32_t out_offset, lo, hi;
    int fast;      /* enn_rq_layer_ok */
#if !defined(ENN_MVE)
    int fast_full; /* and the clamp is the int8 range: enn_rq8 */
#endif
    const uint32_t *wx; /* the pre-extended filter pairs (DSP: conv2d_pairs16_asm), or NULL */
    int no_min;         /* no weight is -128 (enn_dot4_neon) */
} conv2d_ctx;

/* Channel oc's output byte, for any layer. */
static int8_t conv2d_out_any(const conv2d_ctx *c, int32_t acc, int32_t oc)
{
    int32_t v;
    if (c->fast) {
        v = enn_rq_r(acc, c->mult[oc], c->rsh[oc]);
    } else {
        v = enn_mbqm(acc, c->mult[oc], (int)c->shift[oc]);
    }
    return enn_out8(v, c->out_offset, c->lo, c->hi, 0);
}

/* All output channels of one pixel, any filter and groups (the layers conv2d_col does not take:
 * groups, dilated or large windows). in_px / w_first: the first valid tap in the input and in a
 * filter; n_ky filter rows of `runs` dot products of length `run` each. fast_full: the layer passed
 * enn_rq_layer_ok and its clamp is the int8 range. */
static void conv2d_pixel(const conv2d_ctx *c, const int8_t *in_px, int32_t w_first, int32_t n_ky, int32_t runs,
                         int32_t run, int8_t *out, int fast_full)
{
    const int32_t f_c = c->f_c;
    const int32_t filter_size = c->filter_size;
    const int32_t per_group = c->per_group;
    int32_t oc = 0;
    int32_t g;
    for (g = 0; g < c->groups; g++) {
        const int8_t *in_g = in_px + g * f_c;
        int32_t f = 0;
        for (; f + 4 <= per_group; f += 4, oc += 4) {
            const int8_t *w_row = c->filter + oc * filter_size + w_first;
            int32_t a0 = 0;
            int32_t a1 = 0;
            int32_t a2 = 0;
            int32_t a3 = 0;
            if (c->bias != 0) {
                a0 = c->bias[oc];
                a1 = c->bias[oc + 1];
                a2 = c->bias[oc + 2];
                a3 = c->bias[oc + 3];
            }
            {
                const int8_t *x_row = in_g;
                int32_t ky;
                for (ky = 0; ky < n_ky; ky++, x_row += c->row_step, w_row += c->w_row) {
                    const int8_t *x = x_row;
                    const int8_t *w = w_row;
                    int32_t k;
                    for (k = 0; k < runs; k++, x += c->col_step, w += f_c) {
                        enn_dot4(x, w, filter_size, run, c->offset, &a0, &a1, &a2, &a3);
                    }
                }
            }
#if defined(ENN_MVE)
            (void)fast_full;
            enn_requant4_mve(enn_lanes4(a0, a1, a2, a3), c->mult + oc, c->shift + oc, 1, c->out_offset, c->lo, c->hi,
                             out + oc);
#else
            if (fast_full) {
                const int32_t *m = c->mult + oc;
                const uint8_t *r = c->rsh + oc;
                const int32_t c2 = 2 * c->out_offset + 1;
                out[oc] = (int8_t)enn_rq8(a0, m[0], r[0], c2);
                out[oc + 1] = (int8_t)enn_rq8(a1, m[1], r[1], c2);
                out[oc + 2] = (int8_t)enn_rq8(a2, m[2], r[2], c2);
                out[oc + 3] = (int8_t)enn_rq8(a3, m[3], r[3], c2);
            } else {
                out[oc] = conv2d_out_any(c, a0, oc);
                out[oc + 1] = conv2d_out_any(c, a1, oc + 1);
                out[oc + 2] = conv2d_out_any(c, a2, oc + 2);
                out[oc + 3] = conv2d_out_any(c, a3, oc + 3);
            }
#endif
        }
        for (; f < per_group; f++, oc++) {
            const int8_t *w_row = c->filter + oc * filter_size + w_first;
            const int8_t *x_row = in_g;
            uint32_t acc = c->bias != 0 ? (uint32_t)c->bias[oc] : 0u;
            int32_t ky;
            for (ky = 0; ky < n_ky; ky++, x_row += c->row_step, w_row += c->w_row) {
                const int8_t *x = x_row;
                const int8_t *w = w_row;
                int32_t k;
                for (k = 0; k < runs; k++, x += c->col_step, w += f_c) {
                    acc += enn_dot1(x, w, run, c->offset);
                }
            }
            out[oc] = conv2d_out_any(c, (int32_t)acc, oc);
        }
    }
}

#if defined(ENN_DSP) && !defined(ENN_MVE)
/* The DSP build extends a pixel's column of up to this many values to int16 pairs once (enn_ext16),
 * in a stack buffer of 2304 bytes (two pixels of 3x3 filters of 64 channels), so that the filters'
 * inner loop reads ready pairs. */
#define CONV2D_EXT 576
/* Pixels in pairs (conv2d_col2), each filter word extended serving two pixels; not when optimizing
 * for size (-Os, `--optimize size`), where one pixel at a time (conv2d_col, still SMLAD on int16
 * pairs) saves the pair code, about 1.5 KB of flash. */
#if !defined(__OPTIMIZE_SIZE__)
#define CONV2D_PAIRS 1
#endif
#endif

#if defined(CONV2D_PAIRS)

#if defined(ENN_DSP_ASM)
/* One step of four values of the 2x2 dot product (conv2d_dot2x2, conv2d_pairs_asm): pixel A's and
 * B's pairs (x: A's two words, then B's), two filters' words (w, w + ws) extended, eight SMLAD. */
#define CONV2D_2X2_STEP                                                                            \
    "ldrd %[xb0], %[xb1], [%[x], #8]\n\t"                                                          \
    "ldrd %[xa0], %[xa1], [%[x]], #16\n\t"                                                         \
    "ldr %[wv], [%[w], %[ws]]\n\t"                                                                 \
    "sxtb16 %[we], %[wv]\n\t"                                                                      \
    "sxtb16 %[wv], %[wv], ror #8\n\t"                                                              \
    "smlad %[i1], %[xa0], %[we], %[i1]\n\t"                                                        \
    "smlad %[i1], %[xa1], %[wv], %[i1]\n\t"                                                        \
    "smlad %[j1], %[xb0], %[we], %[j1]\n\t"                                                        \
    "smlad %[j1], %[xb1], %[wv], %[j1]\n\t"                                                        \
    "ldr %[wv], [%[w]], #4\n\t"                                                                    \
    "sxtb16 %[we], %[wv]\n\t"                                                                      \
    "sxtb16 %[wv], %[wv], ror #8\n\t"                                                              \
    "smlad %[i0], %[xa0], %[we], %[i0]\n\t"                                                        \
    "smlad %[i0], %[xa1], %[wv], %[i0]\n\t"                                                        \
    "smlad %[j0], %[xb0], %[we], %[j0]\n\t"                                                        \
    "smlad %[j0], %[xb1], %[wv], %[j0]\n\t"
#endif

/* *a += four filter bytes wv times pixel A's pairs x[0], x[1]; *b the same with pixel B's x[2], x[3]. */
ENN_INLINE void conv2d_mac2(const uint32_t *x, int32_t wv, int32_t *a, int32_t *b)
{
    const int32_t we = __sxtb16(wv);
    const int32_t wo = enn_sxtb16_ror8(wv);
    *a = __smlad((int32_t)x[1], wo, __smlad((int32_t)x[0], we, *a));
    *b = __smlad((int32_t)x[3], wo, __smlad((int32_t)x[2], we, *b));
}

/* *a0, *a1 (pixel A) and *b0, *b1 (pixel B) += the two filters w, w + n (n = 4 steps values) times
 * the two pixels' interleaved int16 pairs (enn_ext16_pair): each filter word extended once serves
 * both pixels, each pair of input words two filters. */
ENN_INLINE void conv2d_dot2x2(const uint32_t *xp, const int8_t *w, int32_t n, int32_t steps, int32_t *a0,
                              int32_t *a1, int32_t *b0, int32_t *b1)
{
    int32_t i0 = *a0;
    int32_t i1 = *a1;
    int32_t j0 = *b0;
    int32_t j1 = *b1;
#if defined(ENN_DSP_ASM)
    if (steps & 1) {
        /* An odd step first, so that the asm below runs whole iterations. */
        conv2d_mac2(xp, enn_ld32(w), &i0, &j0);
        conv2d_mac2(xp, enn_ld32(w + n), &i1, &j1);
        xp += 4;
        w += 4;
        steps--;
    }
    if (steps > 0) {
        /* Hand-scheduled, two steps per iteration: 16 instructions per 16 MACs and 3 per
         * iteration for the loop (its end in memory); 13 registers, which gcc finds in the
         * functions of their own this is inlined into. */
        const uint32_t *end = xp + 4 * steps;
        int32_t xa0;
        int32_t xa1;
        int32_t xb0;
        int32_t xb1;
        int32_t wv;
        int32_t we;
        __asm__("1:\n\t" CONV2D_2X2_STEP CONV2D_2X2_STEP
                "ldr %[we], %[end]\n\t"
                "cmp %[x], %[we]\n\t"
                "bne 1b"
                : [i0] "+r"(i0), [i1] "+r"(i1), [j0] "+r"(j0), [j1] "+r"(j1), [x] "+r"(xp), [w] "+r"(w),
                  [xa0] "=&r"(xa0), [xa1] "=&r"(xa1), [xb0] "=&r"(xb0), [xb1] "=&r"(xb1), [wv] "=&r"(wv),
                  [we] "=&r"(we)
                : [ws] "r"(n), [end] "m"(end)
                : "cc", "memory");
    }
#else
    for (; steps > 0; steps--, xp += 4, w += 4) {
        conv2d_mac2(xp, enn_ld32(w), &i0, &j0);
        conv2d_mac2(xp, enn_ld32(w + n), &i1, &j1);
    }
#endif
    *a0 = i0;
    *a1 = i1;
    *b0 = j0;
    *b1 = j1;
}

/* The last n % 4 (1..3) bytes of a filter w of n bytes as a word, the missing bytes 0 (they meet
 * inputs that are 0 anyway: the window's padding to whole fours), without reading past the filter:
 * the filter's last word shifted down, or byte by byte when the filter is shorter than a word. */
ENN_INLINE int32_t conv2d_tail(const int8_t *w, int32_t n)
{
    const int32_t k = n & 3;
    uint32_t v = 0;
    int32_t i;
    if (n >= 4) {
        return (int32_t)((uint32_t)enn_ld32(w + n - 4) >> ((32 - 8 * k) & 31));
    }
    for (i = 0; i < k; i++) {
        v |= (uint32_t)(uint8_t)w[(n & ~3) + i] << (8 * i);
    }
    return (int32_t)v;
}

#if defined(ENN_DSP_ASM)
/* The parts of the filter-pair asm (conv2d_pairs_asm, conv2d_pairs16_asm). A pair of filters:
 * accumulators from the bias, x back to the column's start, the loop entered half-way when
 * n / 4 = 4k + 2. */
#define CONV2D_PAIR_HEAD                                                                           \
    "1:\n\t"                                                                                       \
    "ldr %[x], %[s_bias]\n\t"                                                                      \
    "ldrd %[i0], %[i1], [%[x]], #8\n\t"                                                            \
    "str %[x], %[s_bias]\n\t"                                                                      \
    "mov %[j0], %[i0]\n\t"                                                                         \
    "mov %[j1], %[i1]\n\t"                                                                         \
    "ldr %[x], %[s_xp]\n\t"                                                                        \
    "ldr %[we], %[s_half]\n\t"                                                                     \
    "cmp %[we], #0\n\t"                                                                            \
    "bne 3f\n\t"
/* enn_rq8 of the four sums: s = x + rounded high word of x * 2m (SMMLAR), s - [s < 0], >> t, then
 * CONV2D_PAIR_OUT. */
#define CONV2D_PAIR_REQUANT                                                                        \
    "ldr %[x], %[s_mult]\n\t"                                                                      \
    "ldrd %[xa0], %[xa1], [%[x]], #8\n\t"                                                          \
    "str %[x], %[s_mult]\n\t"                                                                      \
    "lsl %[xa0], %[xa0], #1\n\t"                                                                   \
    "lsl %[xa1], %[xa1], #1\n\t"                                                                   \
    "smmlar %[i0], %[i0], %[xa0], %[i0]\n\t"                                                       \
    "smmlar %[j0], %[j0], %[xa0], %[j0]\n\t"                                                       \
    "smmlar %[i1], %[i1], %[xa1], %[i1]\n\t"                                                       \
    "smmlar %[j1], %[j1], %[xa1], %[j1]\n\t"                                                       \
    "add %[i0], %[i0], %[i0], asr #31\n\t"                                                         \
    "add %[j0], %[j0], %[j0], asr #31\n\t"                                                         \
    "add %[i1], %[i1], %[i1], asr #31\n\t"                                                         \
    "add %[j1], %[j1], %[j1], asr #31\n\t"                                                         \
    "ldr %[x], %[s_rsh]\n\t"                                                                       \
    "ldrb %[xa0], [%[x]], #1\n\t"                                                                  \
    "ldrb %[xa1], [%[x]], #1\n\t"                                                                  \
    "str %[x], %[s_rsh]\n\t"                                                                       \
    "asr %[i0], %[i0], %[xa0]\n\t"                                                                 \
    "asr %[j0], %[j0], %[xa0]\n\t"                                                                 \
    "asr %[i1], %[i1], %[xa1]\n\t"                                                                 \
    "asr %[j1], %[j1], %[xa1]\n\t"                                                                 \
    CONV2D_PAIR_OUT
/* The end of either requantization: + c2 with saturation, >> 1 saturated to int8 (SSAT); pixel
 * A's two bytes, then pixel B's (B may be A: the same bytes twice); on to the next pair until w
 * reaches the end. */
#define CONV2D_PAIR_OUT                                                                            \
    "ldr %[xb0], %[s_c2]\n\t"                                                                      \
    "qadd %[i0], %[i0], %[xb0]\n\t"                                                                \
    "qadd %[j0], %[j0], %[xb0]\n\t"                                                                \
    "qadd %[i1], %[i1], %[xb0]\n\t"                                                                \
    "qadd %[j1], %[j1], %[xb0]\n\t"                                                                \
    "ssat %[i0], #8, %[i0], asr #1\n\t"                                                            \
    "ssat %[j0], #8, %[j0], asr #1\n\t"                                                            \
    "ssat %[i1], #8, %[i1], asr #1\n\t"                                                            \
    "ssat %[j1], #8, %[j1], asr #1\n\t"                                                            \
    "ldr %[x], %[s_out_a]\n\t"                                                                     \
    "strb %[i0], [%[x]], #1\n\t"                                                                   \
    "strb %[i1], [%[x]], #1\n\t"                                                                   \
    "str %[x], %[s_out_a]\n\t"                                                                     \
    "ldr %[x], %[s_out_b]\n\t"                                                                     \
    "strb %[j0], [%[x]], #1\n\t"                                                                   \
    "strb %[j1], [%[x]], #1\n\t"                                                                   \
    "str %[x], %[s_out_b]\n\t"                                                                     \
    "ldr %[we], %[s_w_end]\n\t"                                                                    \
    "cmp %[w], %[we]\n\t"                                                                          \
    "bne 1b"
#define CONV2D_PAIR_OUTS                                                                           \
    [i0] "=&r"(i0), [i1] "=&r"(i1), [j0] "=&r"(j0), [j1] "=&r"(j1), [x] "=&r"(x), [w] "+r"(w),          \
    [xa0] "=&r"(xa0), [xa1] "=&r"(xa1), [xb0] "=&r"(xb0), [xb1] "=&r"(xb1), [wv] "=&r"(wv),             \
    [we] "=&r"(we), [s_bias] "+m"(st.bias), [s_mult] "+m"(st.mult), [s_rsh] "+m"(st.rsh),                \
    [s_out_a] "+m"(st.out_a), [s_out_b] "+m"(st.out_b)
#define CONV2D_PAIR_INS                                                                            \
    [s_xp] "m"(st.xp), [s_x_end] "m"(st.x_end), [s_w_end] "m"(st.w_end), [s_c2] "m"(st.c2),              \
    [s_half] "m"(st.half)

/* What the filter-pair asm keeps beside its registers (addressed off sp). */
typedef struct {
    const int32_t *bias;
    const int32_t *mult;
    const uint8_t *rsh;
    int8_t *out_a;
    int8_t *out_b;
    const uint32_t *xp;
    const uint32_t *x_end;
    const void *w_end;
    int32_t c2;
    int32_t half; /* n / 4 = 4k + 2: enter the loop at its second half */
} conv2d_pair_state;

/* The asm's register operands, and their release (the asm leaves nothing in them). */
#define CONV2D_PAIR_LOCALS                                                                         \
    int32_t i0, i1, j0, j1, xa0, xa1, xb0, xb1, wv, we;                                            \
    const uint32_t *x
#define CONV2D_PAIR_UNUSED                                                                         \
    (void)i0, (void)i1, (void)j0, (void)j1, (void)xa0, (void)xa1, (void)xb0, (void)xb1, (void)wv,   \
        (void)we, (void)x

ENN_INLINE void conv2d_pair_init(conv2d_pair_state *st, const uint32_t *xp, int32_t n, const int32_t *bias,
                                 const int32_t *mult, const uint8_t *rsh, int32_t c2, int8_t *out_a, int8_t *out_b)
{
    st->bias = bias;
    st->mult = mult;
    st->rsh = rsh;
    st->out_a = out_a;
    st->out_b = out_b;
    st->xp = xp;
    st->x_end = xp + n; /* four words per step of four values */
    st->c2 = c2;
    st->half = (n >> 2) & 2;
}

/* The filter pairs' loop of conv2d_col2_body in one asm, for its commonest case: a layer that
 * passed enn_rq_layer_ok with the int8 clamp (enn_rq8), a bias, and columns of n values in whole
 * eights (two steps of four). Each pair: accumulators from the bias, the 2x2 dot product four
 * steps per iteration (entered half-way when n / 4 is not a multiple of four), then enn_rq8 of
 * the four sums and their bytes stored. Written whole because gcc, with 13 of the 14 registers
 * held by the dot product, kept every pointer of the requantization on the stack and reloaded
 * it per output: about 80 instructions per pair besides the MACs, 45 here. State the loop does
 * not hold in registers lives in `st`, addressed off sp. Returns the filter after the pairs. */
ENN_INLINE const int8_t *conv2d_pairs_asm(const uint32_t *xp, const int8_t *w, int32_t n, int32_t pairs,
                                          const int32_t *bias, const int32_t *mult, const uint8_t *rsh,
                                          int32_t c2, int8_t *out_a, int8_t *out_b)
{
    conv2d_pair_state st;
    CONV2D_PAIR_LOCALS;
    conv2d_pair_init(&st, xp, n, bias, mult, rsh, c2, out_a, out_b);
    st.w_end = w + 2 * n * pairs;
    __asm__(CONV2D_PAIR_HEAD
            "2:\n\t" CONV2D_2X2_STEP CONV2D_2X2_STEP
            "3:\n\t" CONV2D_2X2_STEP CONV2D_2X2_STEP
            "ldr %[we], %[s_x_end]\n\t"
            "cmp %[x], %[we]\n\t"
            "bne 2b\n\t"
            /* w is past filter 0; the next pair starts past filter 1. */
            "add %[w], %[w], %[ws]\n\t"
            CONV2D_PAIR_REQUANT
            : CONV2D_PAIR_OUTS
            : [ws] "r"(n), CONV2D_PAIR_INS
            : "cc", "memory");
    CONV2D_PAIR_UNUSED;
    return w;
}

/* One step of four values of conv2d_pairs16_asm: pixel A's and B's pairs, filter B's then filter
 * A's pairs ready in wx (no extension), eight SMLAD: 12 instructions per 16 MACs against 16. */
#define CONV2D_2X2_STEP16                                                                          \
    "ldrd %[xb0], %[xb1], [%[x], #8]\n\t"                                                          \
    "ldrd %[xa0], %[xa1], [%[x]], #16\n\t"                                                         \
    "ldrd %[we], %[wv], [%[w], #8]\n\t"                                                            \
    "smlad %[i1], %[xa0], %[we], %[i1]\n\t"                                                        \
    "smlad %[i1], %[xa1], %[wv], %[i1]\n\t"                                                        \
    "smlad %[j1], %[xb0], %[we], %[j1]\n\t"                                                        \
    "smlad %[j1], %[xb1], %[wv], %[j1]\n\t"                                                        \
    "ldrd %[we], %[wv], [%[w]], #16\n\t"                                                           \
    "smlad %[i0], %[xa0], %[we], %[i0]\n\t"                                                        \
    "smlad %[i0], %[xa1], %[wv], %[i0]\n\t"                                                        \
    "smlad %[j0], %[xb0], %[we], %[j0]\n\t"                                                        \
    "smlad %[j0], %[xb1], %[wv], %[j0]\n\t"

/* conv2d_pairs_asm from the layer's pre-extended filters (enn_conv2d_params.wx, written by the
 * code generator, codegen/dsp_filters.py): per pair of filters A, B the two biases, then per step
 * of four values A's pairs (v0, v2), (v1, v3) and B's, then the two multipliers doubled and the
 * two right shifts: one pointer walks all a pair needs, and the loop reads weights without
 * extending them. All pairs of the layer. */
ENN_INLINE void conv2d_pairs16_asm(const uint32_t *xp, const uint32_t *w, int32_t n, int32_t pairs, int32_t c2,
                                   int8_t *out_a, int8_t *out_b)
{
    conv2d_pair_state st;
    CONV2D_PAIR_LOCALS;
    conv2d_pair_init(&st, xp, n, 0, 0, 0, c2, out_a, out_b);
    st.w_end = w + (n + 6) * pairs;  /* per pair: 2 biases, n words of weights, 4 of requantization */
    __asm__("1:\n\t"
            "ldrd %[i0], %[i1], [%[w]], #8\n\t"
            "mov %[j0], %[i0]\n\t"
            "mov %[j1], %[i1]\n\t"
            "ldr %[x], %[s_xp]\n\t"
            "ldr %[we], %[s_half]\n\t"
            "cmp %[we], #0\n\t"
            "bne 3f\n\t"
            "2:\n\t" CONV2D_2X2_STEP16 CONV2D_2X2_STEP16
            "3:\n\t" CONV2D_2X2_STEP16 CONV2D_2X2_STEP16
            "ldr %[we], %[s_x_end]\n\t"
            "cmp %[x], %[we]\n\t"
            "bne 2b\n\t"
            "ldrd %[xa0], %[xa1], [%[w]], #8\n\t"
            "smmlar %[i0], %[i0], %[xa0], %[i0]\n\t"
            "smmlar %[j0], %[j0], %[xa0], %[j0]\n\t"
            "smmlar %[i1], %[i1], %[xa1], %[i1]\n\t"
            "smmlar %[j1], %[j1], %[xa1], %[j1]\n\t"
            "add %[i0], %[i0], %[i0], asr #31\n\t"
            "add %[j0], %[j0], %[j0], asr #31\n\t"
            "add %[i1], %[i1], %[i1], asr #31\n\t"
            "add %[j1], %[j1], %[j1], asr #31\n\t"
            "ldrd %[xa0], %[xa1], [%[w]], #8\n\t"
            "asr %[i0], %[i0], %[xa0]\n\t"
            "asr %[j0], %[j0], %[xa0]\n\t"
            "asr %[i1], %[i1], %[xa1]\n\t"
            "asr %[j1], %[j1], %[xa1]\n\t"
            CONV2D_PAIR_OUT
            : CONV2D_PAIR_OUTS
            : CONV2D_PAIR_INS
            : "cc", "memory");
    CONV2D_PAIR_UNUSED;
}
#endif

/* All output channels of two pixels A and B (out_a, out_b) from their columns of n values (a
 * multiple of 4), extended and interleaved in xp (enn_ext16_pair): two filters at a time. out_b
 * may be out_a (B a copy of A: the last pixel of an odd count). fast_full: c->fast_full, a
 * constant in each of the two builds below. */
ENN_INLINE void conv2d_col2_body(const conv2d_ctx *c, const uint32_t *xp, int32_t n, int8_t *out_a, int8_t *out_b,
                                 const int fast_full)
{
    const int8_t *w = c->filter;
    const int32_t *bias = c->bias;
    const int32_t *mult = c->mult;
    const uint8_t *rsh = c->rsh;
    const int32_t out_c = c->per_group;
    const int32_t c2 = 2 * c->out_offset + 1;
    int32_t oc = 0;
#if defined(ENN_DSP_ASM)
    if (fast_full && bias != 0 && (n & 7) == 0 && out_c >= 2) {
        if (c->wx != 0) {
            /* Pre-extended filters (even out_c: enn_conv2d checked). */
            conv2d_pairs16_asm(xp, c->wx, n, out_c >> 1, c2, out_a, out_b);
            return;
        }
        w = conv2d_pairs_asm(xp, w, n, out_c >> 1, bias, mult, rsh, c2, out_a, out_b);
        oc = out_c & ~1;
    }
#endif
    for (; oc + 2 <= out_c; oc += 2, w += 2 * n) {
        int32_t a0 = 0;
        int32_t a1 = 0;
        int32_t b0;
        int32_t b1;
        if (bias != 0) {
            a0 = bias[oc];
            a1 = bias[oc + 1];
        }
        b0 = a0;
        b1 = a1;
        conv2d_dot2x2(xp, w, n, n >> 2, &a0, &a1, &b0, &b1);
        if (n & 3) {
            /* The window's last one to three values (gathered windows). */
            const uint32_t *x = xp + (n & ~3);
            conv2d_mac2(x, conv2d_tail(w, n), &a0, &b0);
            conv2d_mac2(x, conv2d_tail(w + n, n), &a1, &b1);
        }
        if (fast_full) {
            out_a[oc] = (int8_t)enn_rq8(a0, mult[oc], rsh[oc], c2);
            out_a[oc + 1] = (int8_t)enn_rq8(a1, mult[oc + 1], rsh[oc + 1], c2);
            out_b[oc] = (int8_t)enn_rq8(b0, mult[oc], rsh[oc], c2);
            out_b[oc + 1] = (int8_t)enn_rq8(b1, mult[oc + 1], rsh[oc + 1], c2);
        } else {
            out_a[oc] = conv2d_out_any(c, a0, oc);
            out_a[oc + 1] = conv2d_out_any(c, a1, oc + 1);
            out_b[oc] = conv2d_out_any(c, b0, oc);
            out_b[oc + 1] = conv2d_out_any(c, b1, oc + 1);
        }
    }
    if (oc < out_c) {
        /* The last of an odd number of filters. */
        const uint32_t *x = xp;
        int32_t a0 = bias != 0 ? bias[oc] : 0;
        int32_t b0 = a0;
        int32_t i;
        for (i = 0; i + 4 <= n; i += 4, x += 4) {
            conv2d_mac2(x, enn_ld32(w + i), &a0, &b0);
        }
        if (n & 3) {
            conv2d_mac2(x, conv2d_tail(w, n), &a0, &b0);
        }
        if (fast_full) {
            out_a[oc] = (int8_t)enn_rq8(a0, mult[oc], rsh[oc], c2);
            out_b[oc] = (int8_t)enn_rq8(b0, mult[oc], rsh[oc], c2);
        } else {
            out_a[oc] = conv2d_out_any(c, a0, oc);
            out_b[oc] = conv2d_out_any(c, b0, oc);
        }
    }
}

ENN_NOINLINE void conv2d_col2_fast(const conv2d_ctx *c, const uint32_t *xp, int32_t n, int8_t *out_a, int8_t *out_b)
{
    conv2d_col2_body(c, xp, n, out_a, out_b, 1);
}

ENN_NOINLINE void conv2d_col2_any(const conv2d_ctx *c, const uint32_t *xp, int32_t n, int8_t *out_a, int8_t *out_b)
{
    conv2d_col2_body(c, xp, n, out_a, out_b, 0);
}

/* conv2d_col2 for the layer's requantization. */
static void conv2d_col2(const conv2d_ctx *c, const uint32_t *xp, int32_t n, int8_t *out_a, int8_t *out_b)
{
    if (c->fast_full) {
        conv2d_col2_fast(c, xp, n, out_a, out_b);
    } else {
        conv2d_col2_any(c, xp, n, out_a, out_b);
    }
}

/* A pixel's column is in its half of the pair buffer: with a pending first pixel (pend, its
 * output), both are computed; else this one waits. Returns the new pending output. */
ENN_INLINE int8_t *conv2d_pair_push(const conv2d_ctx *c, const uint32_t *xp, int32_t n, int8_t *pend, int8_t *out)
{
    if (pend != 0) {
        conv2d_col2(c, xp, n, pend, out);
        return 0;
    }
    return out;
}
#endif

#if defined(ENN_MVE) && defined(__OPTIMIZE__) && !defined(ENN_NO_ASM)
#define CONV2D_MVE_ASM 1
/* What conv2d_run4_mve reads (the offsets are the asm's). */
typedef struct {
    const int8_t *x;    /*  0: the first pixel's column, or with rows its window's first tap */
    const int8_t *w;    /*  4: the first block's first filter */
    int32_t n;          /*  8: values per column and filter */
    const int32_t *mq;  /* 12: the first block's record (codegen/helium.py) */
    int8_t *out;        /* 16: the first pixel's outputs */
    int32_t blocks;     /* 20: blocks of four filters, >= 1 */
    int32_t over;       /* 24: 16 ceil(n / 16) - n, how far a filter's cursor runs past its end */
    int32_t out_offset; /* 28 */
    int32_t lo;         /* 32 */
    int32_t hi;         /* 36 */
    int32_t pixels;     /* 40: pixels of the run, >= 1 */
    int32_t x_adv;      /* 44: from one pixel's x to the next's (the outputs follow on: all are in blocks) */
    int32_t rows;       /* 48: 0, or the window's rows, each gathered into buf first */
    int32_t row_step;   /* 52: input bytes from one window row to the next */
    int32_t w_row;      /* 56: bytes per window row (contiguous in the input) */
    int8_t *buf;        /* 60: the gathered window, n bytes */
} conv2d_mve_job;

/* A run of pixels, all output channels of each, four per block, multiply-accumulate and
 * requantization in one loop: per sixteen input values one VLDRB of the column and four of the
 * filters, four VMLADAVA (64 MACs) in a tail-predicated loop (DLSTP / LETP: the last, partial
 * step's lanes past n are neither read nor added); then the four sums, which start at the record's
 * folded biases, go into one vector and through enn_mbqm4_mve's steps (VSHL, VQRDMULH, the
 * round-half-away fix-up, VRSHL), the output offset and the clamp, and one VSTRB stores the four
 * bytes. 10 instructions per 64 MACs, 26 per block besides. A window (rows > 0) is first gathered
 * row by row into buf, sixteen bytes per step. Naked, so that all fourteen registers are the
 * asm's: four even ones for the VMLADAVA sums, five cursors, the length, the record and output
 * cursors, the block count and LR for the loops (the widening VLDRB / VSTRB take low base
 * registers: the record and output cursors are r4, r5); the rest of the job lives on the stack:
 *   [sp] column, over, pixel's x, pixels left, w, mq, blocks, x_adv, rows, row_step, w_row, buf
 *   (4 bytes each). */
/* A job for the output channels in whole fours of columns of n values (filters from w): one
 * pixel, its column ready; runs and gathering are the caller's to set. */
static void conv2d_mve_job_init(conv2d_mve_job *job, const conv2d_ctx *c, const int8_t *w, int32_t n,
                                int32_t out_c)
{
    job->w = w;
    job->n = n;
    job->mq = c->mq;
    job->blocks = out_c >> 2;
    job->over = ((n + 15) & ~15) - n;
    job->out_offset = c->out_offset;
    job->lo = c->lo;
    job->hi = c->hi;
    job->pixels = 1;
    job->x_adv = 0;
    job->rows = 0;
}

__attribute__((naked, noinline)) static void conv2d_run4_mve(const conv2d_mve_job *job __attribute__((unused)))
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "vpush {d10-d15}\n\t"
        "sub sp, sp, #48\n\t"
        "ldr r1, [r0, #24]\n\t"
        "str r1, [sp, #4]\n\t"
        "ldr r1, [r0, #0]\n\t"
        "str r1, [sp, #8]\n\t"
        "ldr r1, [r0, #40]\n\t"
        "str r1, [sp, #12]\n\t"
        "ldr r1, [r0, #4]\n\t"
        "str r1, [sp, #16]\n\t"
        "ldr r1, [r0, #12]\n\t"
        "str r1, [sp, #20]\n\t"
        "ldr r1, [r0, #20]\n\t"
        "str r1, [sp, #24]\n\t"
        "ldr r1, [r0, #44]\n\t"
        "str r1, [sp, #28]\n\t"
        "ldr r1, [r0, #48]\n\t"
        "str r1, [sp, #32]\n\t"
        "ldr r1, [r0, #52]\n\t"
        "str r1, [sp, #36]\n\t"
        "ldr r1, [r0, #56]\n\t"
        "str r1, [sp, #40]\n\t"
        "ldr r1, [r0, #60]\n\t"
        "str r1, [sp, #44]\n\t"
        "ldr r1, [r0, #28]\n\t"
        "vdup.32 q5, r1\n\t"
        "ldr r1, [r0, #32]\n\t"
        "vdup.32 q6, r1\n\t"
        "ldr r1, [r0, #36]\n\t"
        "vdup.32 q7, r1\n\t"
        "ldr r2, [r0, #8]\n\t"
        "ldr r5, [r0, #16]\n\t"
        /* A pixel: its column, gathered first when the job says so. */
        "0:\n\t"
        "ldr r1, [sp, #8]\n\t"
        "ldr r0, [sp, #32]\n\t"
        "cbz r0, 6f\n\t"
        "ldr r3, [sp, #44]\n\t"
        "ldr r6, [sp, #36]\n\t"
        "ldr r7, [sp, #40]\n\t"
        "5:\n\t"
        "mov r8, r1\n\t"
        "mov r9, r3\n\t"
        "dlstp.8 lr, r7\n\t"
        "4:\n\t"
        "vldrb.8 q0, [r8], #16\n\t"
        "vstrb.8 q0, [r9], #16\n\t"
        "letp lr, 4b\n\t"
        "add r1, r1, r6\n\t"
        "add r3, r3, r7\n\t"
        "subs r0, r0, #1\n\t"
        "bne 5b\n\t"
        "ldr r1, [sp, #44]\n\t"
        "6:\n\t"
        "str r1, [sp, #0]\n\t"
        "ldr r4, [sp, #20]\n\t"
        "ldr r11, [sp, #16]\n\t"
        "ldr r6, [sp, #4]\n\t"
        "add r11, r11, r6\n\t" /* as if a block before had ended there */
        "ldr r0, [sp, #24]\n\t"
        /* A block of four filters. */
        "1:\n\t"
        "ldrd r1, r6, [sp]\n\t"
        "sub r3, r11, r6\n\t"
        "add r7, r3, r2\n\t"
        "add r9, r7, r2\n\t"
        "add r11, r9, r2\n\t"
        "ldrd r6, r8, [r4], #8\n\t"
        "ldrd r10, r12, [r4], #8\n\t"
        "dlstp.8 lr, r2\n\t"
        "2:\n\t"
        "vldrb.8 q1, [r1], #16\n\t"
        "vldrb.8 q2, [r3], #16\n\t"
        "vmladava.s8 r6, q1, q2\n\t"
        "vldrb.8 q2, [r7], #16\n\t"
        "vmladava.s8 r8, q1, q2\n\t"
        "vldrb.8 q2, [r9], #16\n\t"
        "vmladava.s8 r10, q1, q2\n\t"
        "vldrb.8 q2, [r11], #16\n\t"
        "vmladava.s8 r12, q1, q2\n\t"
        "letp lr, 2b\n\t"
        /* The two-register VMOV: its first register goes to the lower lane. */
        "vmov q0[2], q0[0], r6, r10\n\t"
        "vmov q0[3], q0[1], r8, r12\n\t"
        "vldrw.32 q1, [r4], #16\n\t"
        "vldrb.s32 q2, [r4], #4\n\t"
        "vldrb.s32 q3, [r4], #4\n\t"
        "vshl.s32 q0, q0, q2\n\t"
        "vqrdmulh.s32 q0, q0, q1\n\t"
        "vand q1, q0, q3\n\t"
        "vshr.s32 q1, q1, #31\n\t"
        "vqadd.s32 q0, q0, q1\n\t"
        "vrshl.s32 q0, q0, q3\n\t"
        "vadd.i32 q0, q0, q5\n\t"
        "vmax.s32 q0, q0, q6\n\t"
        "vmin.s32 q0, q0, q7\n\t"
        "vstrb.32 q0, [r5], #4\n\t"
        "subs r0, r0, #1\n\t"
        "bne 1b\n\t"
        /* The next pixel. */
        "ldrd r1, r3, [sp, #8]\n\t"
        "subs r3, r3, #1\n\t"
        "beq 3f\n\t"
        "ldr r6, [sp, #28]\n\t"
        "add r1, r1, r6\n\t"
        "strd r1, r3, [sp, #8]\n\t"
        "b 0b\n\t"
        "3:\n\t"
        "add sp, sp, #48\n\t"
        "vpop {d10-d15}\n\t"
        "pop {r4-r11, pc}\n\t");
}
#endif

/* All output channels of one pixel from a column of n input values (1x1 filters and gathered
 * windows; one group): the common case, with the call's parameters in locals. x: the column as
 * int8 (NULL when xp is ready and n is a multiple of 4); xp: the DSP build's buffer of int16 pairs,
 * already holding the column when ready. */
static void conv2d_col(const conv2d_ctx *c, const int8_t *x, uint32_t *xp, int ready, int32_t n, int8_t *out)
{
    const int8_t *w = c->filter;
    const int32_t *bias = c->bias;
    const int32_t *mult = c->mult;
    const int32_t out_c = c->per_group;
    const int32_t offset = c->offset;
    const int32_t out_offset = c->out_offset;
#if defined(ENN_MVE)
    const int32_t lo = c->lo;
    const int32_t hi = c->hi;
    const int8_t *shift = c->shift;
    const int32_t *ksum = c->ksum;
#else
    const uint8_t *rsh = c->rsh;
    const int fast_full = c->fast_full;
#endif
    int32_t oc = 0;
#if defined(ENN_NEON)
    if (c->ksum != 0) {
        if (c->shift32 != 0) {
            enn_col32_neon(x, w, n, out_c, bias, c->ksum, offset, mult, c->shift, c->shift32, 1, out_offset, c->lo,
                           c->hi, c->no_min, out);
        } else {
            enn_col_neon(x, w, n, out_c, bias, c->ksum, offset, mult, c->shift, 1, out_offset, c->lo, c->hi, c->no_min,
                         out);
        }
        return;
    }
#endif
#if defined(ENN_DSP) && !defined(ENN_MVE)
    if (!ready && n <= CONV2D_EXT) {
        enn_ext16(xp, x, n >> 2, offset);
        ready = 1;
    }
#else
    (void)xp;
    (void)ready;
#endif
#if defined(CONV2D_MVE_ASM)
    if (c->mq != 0 && out_c >= 4) {
        conv2d_mve_job job;
        conv2d_mve_job_init(&job, c, w, n, out_c);
        job.x = x;
        job.out = out;
        conv2d_run4_mve(&job);
        oc = out_c & ~3;
        w += oc * n;
    }
#endif
    for (; oc + 4 <= out_c; oc += 4, w += 4 * n) {
        int32_t a0 = 0;
        int32_t a1 = 0;
        int32_t a2 = 0;
        int32_t a3 = 0;
        if (bias != 0) {
            a0 = bias[oc];
            a1 = bias[oc + 1];
            a2 = bias[oc + 2];
            a3 = bias[oc + 3];
        }
#if defined(ENN_MVE)
        if (ksum != 0) {
            /* acc += sum w x + input_offset * sum(w), the filter sums from the table. */
            a0 = (int32_t)((uint32_t)a0 + (uint32_t)offset * (uint32_t)ksum[oc]);
            a1 = (int32_t)((uint32_t)a1 + (uint32_t)offset * (uint32_t)ksum[oc + 1]);
            a2 = (int32_t)((uint32_t)a2 + (uint32_t)offset * (uint32_t)ksum[oc + 2]);
            a3 = (int32_t)((uint32_t)a3 + (uint32_t)offset * (uint32_t)ksum[oc + 3]);
            enn_dot4x_mve(x, w, n, n, &a0, &a1, &a2, &a3);
        } else {
            enn_dot4(x, w, n, n, offset, &a0, &a1, &a2, &a3);
        }
        enn_requant4_mve(enn_lanes4(a0, a1, a2, a3), mult + oc, shift + oc, 1, out_offset, lo, hi, out + oc);
#else
#if defined(ENN_DSP)
        if (ready) {
            /* The pairs, then the last n % 4 values (with their offset) one by one. */
            int32_t i;
            enn_dot4_x16(xp, w, n, n >> 2, &a0, &a1, &a2, &a3);
            for (i = n & ~3; i < n; i++) {
                const int32_t v = x[i] + offset;
                a0 = (int32_t)((uint32_t)a0 + (uint32_t)(w[i] * v));
                a1 = (int32_t)((uint32_t)a1 + (uint32_t)(w[n + i] * v));
                a2 = (int32_t)((uint32_t)a2 + (uint32_t)(w[2 * n + i] * v));
                a3 = (int32_t)((uint32_t)a3 + (uint32_t)(w[3 * n + i] * v));
            }
        } else
#endif
        {
            enn_dot4(x, w, n, n, offset, &a0, &a1, &a2, &a3);
        }
        if (fast_full) {
            const int32_t c2 = 2 * out_offset + 1;
            out[oc] = (int8_t)enn_rq8(a0, mult[oc], rsh[oc], c2);
            out[oc + 1] = (int8_t)enn_rq8(a1, mult[oc + 1], rsh[oc + 1], c2);
            out[oc + 2] = (int8_t)enn_rq8(a2, mult[oc + 2], rsh[oc + 2], c2);
            out[oc + 3] = (int8_t)enn_rq8(a3, mult[oc + 3], rsh[oc + 3], c2);
        } else {
            out[oc] = conv2d_out_any(c, a0, oc);
            out[oc + 1] = conv2d_out_any(c, a1, oc + 1);
            out[oc + 2] = conv2d_out_any(c, a2, oc + 2);
            out[oc + 3] = conv2d_out_any(c, a3, oc + 3);
        }
#endif
    }
    for (; oc < out_c; oc++, w += n) {
        uint32_t acc = bias != 0 ? (uint32_t)bias[oc] : 0u;
#if defined(ENN_DSP) && !defined(ENN_MVE)
        if (ready) {
            int32_t i;
            int32_t a = (int32_t)acc;
            for (i = 0; i + 4 <= n; i += 4) {
                const int32_t wv = enn_ld32(w + i);
                a = __smlad((int32_t)xp[(i >> 1) + 1], enn_sxtb16_ror8(wv),
                            __smlad((int32_t)xp[i >> 1], __sxtb16(wv), a));
            }
            acc = (uint32_t)a;
            for (; i < n; i++) {
                acc += (uint32_t)(w[i] * (x[i] + offset));
            }
        } else
#endif
        {
            acc += enn_dot1(x, w, n, offset);
        }
        out[oc] = conv2d_out_any(c, (int32_t)acc, oc);
    }
}

/* A window of `rows` rows of w_row contiguous bytes, row_step apart in the input, into d (rows
 * back to back). A row's last word is copied ending at its last byte, overlapping the word
 * before it, so that nothing past the row is read and no byte loop (which gcc turns into a memcpy
 * call) is needed. */
ENN_INLINE void conv2d_gather_inside(int8_t *d, const int8_t *src, int32_t row_step, int32_t rows, int32_t w_row)
{
    for (; rows > 0; rows--, d += w_row, src += row_step) {
#if defined(ENN_MVE)
        if (w_row >= 16) {
            /* Helium: sixteen bytes per load and store, the last vector overlapping likewise. */
            int32_t i;
            for (i = 0; i + 16 < w_row; i += 16) {
                vstrbq_s8(d + i, vldrbq_s8(src + i));
            }
            vstrbq_s8(d + w_row - 16, vldrbq_s8(src + w_row - 16));
            continue;
        }
#elif defined(ENN_NEON)
        if (w_row >= 8 && w_row <= 16) {
            /* Two eight-byte moves, overlapping (a first layer's 3 x 3 channels: 9 bytes). */
            vst1_s8(d, vld1_s8(src));
            vst1_s8(d + w_row - 8, vld1_s8(src + w_row - 8));
            continue;
        }
        if (w_row > 16) {
            /* Sixteen bytes per move, the last overlapping likewise (a loop of word moves would
             * become a library memcpy call). */
            int32_t i;
            for (i = 0; i + 16 < w_row; i += 16) {
                vst1q_s8(d + i, vld1q_s8(src + i));
                ENN_KEEP_LOOP();
            }
            vst1q_s8(d + w_row - 16, vld1q_s8(src + w_row - 16));
            continue;
        }
#endif
        if (w_row >= 4) {
            int32_t i;
            for (i = 0; i + 4 < w_row; i += 4) {
                enn_st32(d + i, enn_ld32(src + i));
                ENN_KEEP_LOOP();
            }
            enn_st32(d + w_row - 4, enn_ld32(src + w_row - 4));
        } else {
            int32_t i;
            for (i = 0; i < w_row; i++) {
                d[i] = src[i];
            }
        }
    }
}

#if defined(ENN_NEON)
/* The NEON build takes pointwise and gathered columns in pairs (enn_cols_neon: each filter vector
 * loaded serves two pixels) when a layer has at most this many output channels: the second
 * pixel's outputs wait in a stack buffer until both columns are read, so that no output is
 * written over an input still to be read (the planner lets pixel p's output overlap only inputs
 * of pixels before p). */
#define CONV2D_NEON_PAIR_OUT 1024

/* Narrow layers (columns of at most CONV2D_NARROW_N values, CONV2D_NARROW_C output channels in
 * eights: a network's first layers) run across the output channels instead: the filter transposed
 * to int16 once per call (conv2d_narrow_weights, 4 KB of stack at most), then per input value one
 * widening multiply-accumulate (SMLAL by a lane of eight widened inputs) per four outputs, the
 * accumulators in registers (a build per channel count). Reduced over the channels, a column of
 * 8 or 27 values leaves most lanes of a sixteen-value step empty. */
#define CONV2D_NARROW_N 32
#define CONV2D_NARROW_C 64

/* wt[k out_c + o] = w[o n + k]. */
static void conv2d_narrow_weights(const int8_t *w, int32_t n, int32_t out_c, int16_t *wt)
{
    int32_t o;
    int32_t k;
    for (o = 0; o < out_c; o++) {
        for (k = 0; k < n; k++) {
            wt[k * out_c + o] = w[o * n + k];
        }
    }
}

/* All OUT_C (a constant in each build below) outputs of a column x of n values: acc[o] = bias[o] +
 * sum_k wt[k][o] (x[k] + offset), exact in int32 (|w (x + offset)| <= 128 * 255), requantized. */
ENN_INLINE void conv2d_narrow_body(const conv2d_ctx *c, const int8_t *x, int32_t n, const int16_t *wt, int8_t *out,
                                   const int32_t out_c)
{
    int32x4_t acc[CONV2D_NARROW_C / 4];
    int32_t g;
    int32_t k;
    for (g = 0; g < out_c / 4; g++) {
        acc[g] = c->bias != 0 ? vld1q_s32(c->bias + 4 * g) : vdupq_n_s32(0);
    }
    /* Eight input values widened at a time, each then a lane of the multiply-accumulates. */
#define CONV2D_NARROW_LANE(XV, LANE)                                                               \
    for (g = 0; g < out_c / 8; g++) {                                                              \
        const int16x8_t wv = vld1q_s16(wt + 8 * g);                                                \
        acc[2 * g] = vmlal_lane_s16(acc[2 * g], vget_low_s16(wv), XV, LANE);                       \
        acc[2 * g + 1] = vmlal_lane_s16(acc[2 * g + 1], vget_high_s16(wv), XV, LANE);              \
    }                                                                                              \
    wt += out_c;
    for (k = 0; k + 8 <= n; k += 8) {
        const int16x8_t xv = vaddq_s16(vmovl_s8(vld1_s8(x + k)), vdupq_n_s16((int16_t)c->offset));
        const int16x4_t xl = vget_low_s16(xv);
        const int16x4_t xh = vget_high_s16(xv);
        CONV2D_NARROW_LANE(xl, 0)
        CONV2D_NARROW_LANE(xl, 1)
        CONV2D_NARROW_LANE(xl, 2)
        CONV2D_NARROW_LANE(xl, 3)
        CONV2D_NARROW_LANE(xh, 0)
        CONV2D_NARROW_LANE(xh, 1)
        CONV2D_NARROW_LANE(xh, 2)
        CONV2D_NARROW_LANE(xh, 3)
    }
#undef CONV2D_NARROW_LANE
    for (; k < n; k++, wt += out_c) {
        const int16_t v = (int16_t)(x[k] + c->offset);
        for (g = 0; g < out_c / 8; g++) {
            const int16x8_t wv = vld1q_s16(wt + 8 * g);
            acc[2 * g] = vmlal_n_s16(acc[2 * g], vget_low_s16(wv), v);
            acc[2 * g + 1] = enn_mlal_high_n_s16(acc[2 * g + 1], wv, v);
        }
    }
    for (g = 0; g < out_c / 8; g++) {
        const int16x4_t lo4 = enn_requant4v_neon(acc[2 * g], vld1q_s32(c->mult + 8 * g),
                                                 vld1q_s32(c->shift32 + 8 * g), c->out_offset, c->lo, c->hi);
        const int16x4_t hi4 = enn_requant4v_neon(acc[2 * g + 1], vld1q_s32(c->mult + 8 * g + 4),
                                                 vld1q_s32(c->shift32 + 8 * g + 4), c->out_offset, c->lo, c->hi);
        vst1_s8(out + 8 * g, vmovn_s16(vcombine_s16(lo4, hi4)));
    }
}

ENN_NOINLINE void conv2d_narrow8(const conv2d_ctx *c, const int8_t *x, int32_t n, const int16_t *wt, int8_t *out)
{
    conv2d_narrow_body(c, x, n, wt, out, 8);
}

ENN_NOINLINE void conv2d_narrow16(const conv2d_ctx *c, const int8_t *x, int32_t n, const int16_t *wt, int8_t *out)
{
    conv2d_narrow_body(c, x, n, wt, out, 16);
}

ENN_NOINLINE void conv2d_narrow32(const conv2d_ctx *c, const int8_t *x, int32_t n, const int16_t *wt, int8_t *out)
{
    conv2d_narrow_body(c, x, n, wt, out, 32);
}

ENN_NOINLINE void conv2d_narrow64(const conv2d_ctx *c, const int8_t *x, int32_t n, const int16_t *wt, int8_t *out)
{
    conv2d_narrow_body(c, x, n, wt, out, 64);
}

/* The build for the layer's output channels (8, 16, 32 or 64). */
static void conv2d_narrow(const conv2d_ctx *c, const int8_t *x, int32_t n, const int16_t *wt, int8_t *out)
{
    switch (c->per_group) {
    case 8:
        conv2d_narrow8(c, x, n, wt, out);
        break;
    case 16:
        conv2d_narrow16(c, x, n, wt, out);
        break;
    case 32:
        conv2d_narrow32(c, x, n, wt, out);
        break;
    default:
        conv2d_narrow64(c, x, n, wt, out);
        break;
    }
}

/* Outputs of column xa into out_a, and of xb (not NULL) into out_b. */
static void conv2d_cols_neon(const conv2d_ctx *c, const int8_t *xa, const int8_t *xb, int32_t n, int8_t *out_a,
                             int8_t *out_b)
{
    int8_t later[CONV2D_NEON_PAIR_OUT];
    enn_cols_neon(xa, xb, c->filter, n, c->per_group, c->bias, c->ksum, c->offset, c->mult, c->shift, c->shift32, 1,
                  c->out_offset, c->lo, c->hi, c->no_min, out_a, xb != 0 ? later : 0);
    if (xb != 0) {
        memcpy(out_b, later, (size_t)c->per_group);
    }
}
#endif

#if defined(ENN_NEON_PAIRS)
/* A pixel's out_c (a multiple of eight) outputs from the stack buffer where they waited. */
ENN_INLINE void conv2d_copy_out(int8_t *out, const int8_t *later, int32_t out_c)
{
    int32_t i;
    for (i = 0; i < out_c; i += 8) {
        vst1_s8(out + i, vld1_s8(later + i));
        ENN_KEEP_LOOP();
    }
}

/* Layers with the code generator's eight-channel records and packed filters (codegen/neon.py):
 * outputs of columns xa and xb (NULL: xa alone) of n values into out_a and out_b by
 * enn_gemm2_neon, the columns contiguous (rows 1) or windows of `rows` rows row_step apart, out_b
 * through a stack buffer where it overlaps xa's first row (still being read while out_b is
 * written; the planner keeps out_b below xb, and xa's other rows lie above xb). */
static void conv2d_gemm2r(const conv2d_ctx *c, const int8_t *xa, const int8_t *xb, int32_t n, int32_t rows,
                          int32_t row_step, int8_t *out_a, int8_t *out_b)
{
    const int32_t out_c = c->per_group;
    int8_t later[CONV2D_NEON_PAIR_OUT];
    int8_t *dst = xb != 0 && !enn_overlap(out_b, (size_t)out_c, xa, (size_t)(n / rows)) ? out_b : later;
    if (c->right1) {
        enn_gemm2_neon(xa, xb != 0 ? xb : xa, n, c->wp, out_c, c->mq, c->out_offset, c->lo, c->hi, c->no_min, out_a,
                       dst, 1, rows, row_step);
    } else {
        enn_gemm2_neon(xa, xb != 0 ? xb : xa, n, c->wp, out_c, c->mq, c->out_offset, c->lo, c->hi, c->no_min, out_a,
                       dst, 0, rows, row_step);
    }
    if (dst != out_b && xb != 0) {
        conv2d_copy_out(out_b, later, out_c);
    }
}

/* conv2d_gemm2r of contiguous columns. */
static void conv2d_gemm2(const conv2d_ctx *c, const int8_t *xa, const int8_t *xb, int32_t n, int8_t *out_a,
                         int8_t *out_b)
{
    conv2d_gemm2r(c, xa, xb, n, 1, 0, out_a, out_b);
}

/* Whether, for every pair p < pairs of a run (columns x + 2 p x_adv and the next, outputs out +
 * 2 p out_c and the next), the second output lies wholly below or wholly above the first column's
 * `span` bytes: its distance to them changes linearly with p, so the first and last pair decide. */
static int conv2d_pairs_clear(const int8_t *out, int32_t out_c, const int8_t *x, int32_t x_adv, int32_t span,
                              int32_t pairs)
{
    const intptr_t ob0 = (intptr_t)(out + out_c);
    const intptr_t ob1 = ob0 + (intptr_t)2 * (pairs - 1) * out_c;
    const intptr_t xa0 = (intptr_t)x;
    const intptr_t xa1 = xa0 + (intptr_t)2 * (pairs - 1) * x_adv;
    return (ob0 + out_c <= xa0 && ob1 + out_c <= xa1) || (ob0 >= xa0 + span && ob1 >= xa1 + span);
}

/* The pairs of conv2d_gemm_pairs, with the layer's right1 and whether every second output is
 * clear of its first column as constants of each inlined copy. */
ENN_INLINE void conv2d_pairs_loop(const conv2d_ctx *c, const int8_t *x, int32_t x_adv, int32_t pairs, int32_t n,
                                  int32_t rows, int32_t row_step, int32_t span, int8_t *out, const int clear,
                                  const int right1)
{
    const int32_t out_c = c->per_group;
    int8_t later[CONV2D_NEON_PAIR_OUT];
    for (; pairs > 0; pairs--, x += 2 * x_adv, out += 2 * out_c) {
        int8_t *ob = out + out_c;
        int8_t *dst = clear || !enn_overlap(ob, (size_t)out_c, x, (size_t)span) ? ob : later;
        enn_gemm2_neon(x, x + x_adv, n, c->wp, out_c, c->mq, c->out_offset, c->lo, c->hi, c->no_min, out, dst, right1,
                       rows, row_step);
        if (dst == later) {
            conv2d_copy_out(ob, later, out_c);
        }
    }
}

/* `pairs` pairs of columns (x + 2 p x_adv and the next; contiguous, or windows of `rows` rows
 * row_step apart; the first's first row `span` bytes) into the output: the second output straight
 * where no pair's overlaps its first column (conv2d_pairs_clear), else through a stack buffer where
 * it does. */
static void conv2d_gemm_pairs(const conv2d_ctx *c, const int8_t *x, int32_t x_adv, int32_t pairs, int32_t n,
                              int32_t rows, int32_t row_step, int32_t span, int8_t *out)
{
    const int clear = conv2d_pairs_clear(out, c->per_group, x, x_adv, span, pairs);
    if (clear && c->right1) {
        conv2d_pairs_loop(c, x, x_adv, pairs, n, rows, row_step, span, out, 1, 1);
    } else if (clear) {
        conv2d_pairs_loop(c, x, x_adv, pairs, n, rows, row_step, span, out, 1, 0);
    } else if (c->right1) {
        conv2d_pairs_loop(c, x, x_adv, pairs, n, rows, row_step, span, out, 0, 1);
    } else {
        conv2d_pairs_loop(c, x, x_adv, pairs, n, rows, row_step, span, out, 0, 0);
    }
}

/* A run of `pixels` windows inside the input (`rows` rows from x, each next x_adv bytes on),
 * gathered two at a time into stack buffers and computed in pairs (columns of n8 values: the
 * window's, then bytes that meet the packed filter's zero padding). */
ENN_NOINLINE void conv2d_gemm_windows(const conv2d_ctx *c, const int8_t *x, int32_t x_adv, int32_t pixels, int32_t rows,
                                int32_t n8, int8_t *out)
{
    const int32_t out_c = c->per_group;
    int8_t wa[CONV2D_GATHER];
    int8_t wb[CONV2D_GATHER];
    if ((c->w_row & 15) == 0) {
        /* Rows of whole sixteens: read where they are (enn_dot8x2_rows_neon), not gathered. */
        const int32_t pairs = pixels >> 1;
        if (pairs > 0) {
            conv2d_gemm_pairs(c, x, x_adv, pairs, rows * c->w_row, rows, c->row_step, c->w_row, out);
            x += 2 * pairs * x_adv;
            out += 2 * pairs * out_c;
        }
        if (pixels & 1) {
            conv2d_gemm2r(c, x, 0, rows * c->w_row, rows, c->row_step, out, 0);
        }
        return;
    }
    if (c->w_row >= 8 && c->w_row <= 16) {
        /* Rows of 8..16 bytes (a first layer's 3 x 3 channels: 9): two eight-byte moves each. */
        const int32_t w_row = c->w_row;
        for (; pixels >= 2; pixels -= 2, x += 2 * x_adv, out += 2 * out_c) {
            const int8_t *sa = x;
            int8_t *da = wa;
            int8_t *db = wb;
            int32_t r;
            for (r = 0; r < rows; r++, sa += c->row_step, da += w_row, db += w_row) {
                const int8x8_t a0 = vld1_s8(sa);
                const int8x8_t a1 = vld1_s8(sa + w_row - 8);
                const int8x8_t b0 = vld1_s8(sa + x_adv);
                const int8x8_t b1 = vld1_s8(sa + x_adv + w_row - 8);
                vst1_s8(da, a0);
                vst1_s8(da + w_row - 8, a1);
                vst1_s8(db, b0);
                vst1_s8(db + w_row - 8, b1);
            }
            conv2d_gemm2(c, wa, wb, n8, out, out + out_c);
        }
    }
    for (; pixels >= 2; pixels -= 2, x += 2 * x_adv, out += 2 * out_c) {
        conv2d_gather_inside(wa, x, c->row_step, rows, c->w_row);
        conv2d_gather_inside(wb, x + x_adv, c->row_step, rows, c->w_row);
        conv2d_gemm2(c, wa, wb, n8, out, out + out_c);
    }
    if (pixels > 0) {
        conv2d_gather_inside(wa, x, c->row_step, rows, c->w_row);
        conv2d_gemm2(c, wa, 0, n8, out, 0);
    }
}

/* A run of `pixels` columns of n values, x_adv bytes apart (a pointwise layer's pixels), in pairs. */
static void conv2d_gemm_run(const conv2d_ctx *c, const int8_t *x, int32_t x_adv, int32_t pixels, int32_t n,
                            int8_t *out)
{
    const int32_t out_c = c->per_group;
    const int32_t pairs = pixels >> 1;
    if (pairs > 0) {
        conv2d_gemm_pairs(c, x, x_adv, pairs, n, 1, 0, n, out);
        x += 2 * pairs * x_adv;
        out += 2 * pairs * out_c;
    }
    if (pixels & 1) {
        conv2d_gemm2(c, x, 0, n, out, 0);
    }
}
#endif

/* A layer as enn_conv2d set it up, for the row loop (conv2d_rows), on one thread or several. */
typedef struct {
    conv2d_ctx c;
    const enn_conv2d_params *prm;
    const int8_t *input;
    int8_t *output;
    int fast_full;
    int pointwise;
    int gather; /* windows gathered into a stack buffer */
#if defined(ENN_NEON)
    const int16_t *narrow; /* the transposed filter of a narrow layer (conv2d_narrow), or NULL */
#if defined(ENN_NEON_PAIRS)
    int gemm; /* pointwise or gathered columns by enn_gemm2_neon (the generator's records and packed filters) */
#endif
#endif
#if defined(CONV2D_PAIRS)
    int wide;   /* windows extended whole into the pair buffer */
    int pair;   /* pixels two at a time (conv2d_col2), columns of pair_n values */
    int32_t pair_n;
#endif
} conv2d_layer;

/* Output rows [r0, r1) of the layer (rows of all batches in a row: r = b * out_h + oy), the
 * pixels of each in memory order. xp: the DSP build's pair buffer (the caller's, which may hold
 * the padded filters; a worker thread's own otherwise). */
static void conv2d_rows(const conv2d_layer *L, int32_t r0, int32_t r1, uint32_t *xp)
{
    const enn_conv2d_params *prm = L->prm;
    const int8_t *input = L->input;
    int8_t *output = L->output;
    const conv2d_ctx c = L->c;
    const int32_t in_h = prm->input.h;
    const int32_t in_w = prm->input.w;
    const int32_t in_c = prm->input.c;
    const int32_t out_c = prm->output.c;
    const int32_t f_w = prm->geom.filter.w;
    const int32_t f_c = prm->filter_c;
    const int fast_full = L->fast_full;
    const int pointwise = L->pointwise;
    const int gather = L->gather;
#if defined(ENN_NEON)
    int8_t wins[2][CONV2D_GATHER];
    int8_t *win = wins[0];
    const int8_t *pend_x = 0; /* NEON: a column waiting for its partner (pointwise input, gathered window) */
    int8_t *pend_out = 0;
    const int16_t *narrow = L->narrow;
#if defined(ENN_NEON_PAIRS)
    const int neon_pairs = c.ksum != 0 && c.per_group <= CONV2D_NEON_PAIR_OUT && narrow == 0;
    const int gemm = L->gemm;
#else
    const int neon_pairs = 0; /* the armhf Pis: one column at a time (edgenn_neon.h ENN_NEON_PAIRS) */
#endif
#else
    int8_t win[CONV2D_GATHER];
#endif
#if defined(CONV2D_PAIRS)
    const int wide = L->wide;
    const int pair = L->pair;
    const int32_t pair_n = L->pair_n;
    int8_t *pend = 0;  /* the output of the pixel waiting for its partner */
#endif
#if !defined(ENN_DSP) || defined(ENN_MVE)
    (void)xp;
#endif
#if defined(CONV2D_MVE_ASM)
    /* Helium: pixels whose windows are inside the input (1x1 columns, or windows of whole rows the
     * asm gathers) in runs along the row, one conv2d_run4_mve call each. */
    const int mve_runs = c.mq != 0 && (out_c & 3) == 0 && c.groups == 1 &&
                         (pointwise || (gather && prm->geom.dilation.w == 1));
    conv2d_mve_job job;
    if (mve_runs) {
        conv2d_mve_job_init(&job, &c, c.filter, pointwise ? f_c : c.filter_size, out_c);
        job.x_adv = prm->geom.stride.w * in_c;
        job.rows = pointwise ? 0 : prm->geom.filter.h;
        job.row_step = c.row_step;
        job.w_row = c.w_row;
        job.buf = win;
    }
#endif
    int32_t r;
    output += r0 * prm->output.w * out_c;
#if defined(ENN_NEON_PAIRS)
    if (gemm && pointwise && prm->geom.padding.h == 0 && prm->geom.padding.w == 0) {
        /* Every pixel's column is inside the input: runs of pixels, the whole range at stride 1
         * (rows and batches then follow each other in the input as in the output). */
        if (prm->geom.stride.h == 1 && prm->geom.stride.w == 1) {
            conv2d_gemm_run(&c, input + r0 * in_w * in_c, in_c, (r1 - r0) * prm->output.w, f_c, output);
            return;
        }
        for (r = r0; r < r1; r++, output += prm->output.w * out_c) {
            const int32_t b = r / prm->output.h;
            const int32_t oy = r - b * prm->output.h;
            conv2d_gemm_run(&c, input + ((b * in_h + oy * prm->geom.stride.h) * in_w) * in_c,
                            prm->geom.stride.w * in_c, prm->output.w, f_c, output);
        }
        return;
    }
#endif
    for (r = r0; r < r1; r++) {
        const int32_t b = r / prm->output.h;
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        const int32_t oy = r - b * prm->output.h;
        {
            const int32_t iy0 = oy * prm->geom.stride.h - prm->geom.padding.h;
            int32_t ky_lo;
            int32_t ky_hi;
            int32_t ox;
            enn_tap_range(iy0, prm->geom.dilation.h, in_h, prm->geom.filter.h, &ky_lo, &ky_hi);
            for (ox = 0; ox < prm->output.w; ox++, output += out_c) {
                const int32_t ix0 = ox * prm->geom.stride.w - prm->geom.padding.w;
                int32_t kx_lo;
                int32_t kx_hi;
                int32_t n_ky = ky_hi - ky_lo;
                int32_t n_kx;
                int32_t runs; /* dot products per filter row */
                int32_t run;  /* their length */
                const int8_t *in_px = in_b;
                enn_tap_range(ix0, prm->geom.dilation.w, in_w, f_w, &kx_lo, &kx_hi);
                n_kx = kx_hi - kx_lo;
                if (n_ky == 0 || n_kx == 0) {
                    n_ky = 0;
                } else {
                    /* First valid tap of the window. */
                    in_px += ((iy0 + ky_lo * prm->geom.dilation.h) * in_w + ix0 + kx_lo * prm->geom.dilation.w) * in_c;
                }
#if defined(ENN_NEON_PAIRS)
                if (gemm && gather && n_ky == prm->geom.filter.h && n_kx == f_w && prm->geom.dilation.w == 1) {
                    /* This pixel and the next ones whose windows are inside the input: one run,
                     * after the pixel waiting for its partner (alone). */
                    const int32_t pixels = enn_inside_run(ox, prm->output.w, in_w, f_w, 1, prm->geom.padding.w,
                                                          prm->geom.stride.w);
                    const int32_t n8 = (c.filter_size + 7) & ~7;
                    const int32_t x_adv = prm->geom.stride.w * in_c;
                    int32_t done = 0;
                    if (pend_x != 0) {
                        /* The waiting pixel (a window cut by the padding) with the run's first. */
                        conv2d_gather_inside(win, in_px, c.row_step, n_ky, c.w_row);
                        conv2d_gemm2(&c, pend_x, win, n8, pend_out, output);
                        pend_x = 0;
                        done = 1;
                    }
                    conv2d_gemm_windows(&c, in_px + done * x_adv, x_adv, (pixels - done) & ~1, n_ky, n8,
                                        output + done * out_c);
                    done += (pixels - done) & ~1;
                    if (done < pixels) {
                        /* An odd last one waits for its partner (the next pixel, cut by the padding). */
                        conv2d_gather_inside(win, in_px + done * x_adv, c.row_step, n_ky, c.w_row);
                        pend_x = win;
                        pend_out = output + done * out_c;
                        win = win == wins[0] ? wins[1] : wins[0];
                        done++;
                    }
                    ox += done - 1;
                    output += (done - 1) * out_c;
                    continue;
                }
#endif
#if defined(CONV2D_MVE_ASM)
                if (mve_runs && n_ky == prm->geom.filter.h && n_kx == f_w) {
                    /* This pixel and the next ones whose windows are inside the input. */
                    job.pixels = enn_inside_run(ox, prm->output.w, in_w, f_w, prm->geom.dilation.w, prm->geom.padding.w,
                                                prm->geom.stride.w);
                    job.x = in_px;
                    job.out = output;
                    conv2d_run4_mve(&job);
                    ox += job.pixels - 1;
                    output += (job.pixels - 1) * out_c;
                    continue;
                }
#endif
                /* Taps of a filter row are contiguous in the input too with one group and no
                 * horizontal dilation: one dot product per row. */
                if (c.groups == 1 && c.col_step == f_c) {
                    runs = 1;
                    run = n_kx * f_c;
                } else {
                    runs = n_kx;
                    run = f_c;
                }
#if defined(CONV2D_PAIRS)
                if (pair && !gather) {
                    /* This pixel's column into its half of the pair buffer (0 in the padding). */
                    uint32_t *d = xp + (pend != 0 ? 2 : 0);
                    if (wide) {
                        int32_t ky;
                        for (ky = 0; ky < prm->geom.filter.h; ky++) {
                            const int32_t iy = iy0 + ky * prm->geom.dilation.h;
                            int32_t kx;
                            if (iy >= 0 && iy < in_h && kx_lo == 0 && kx_hi == f_w && prm->geom.dilation.w == 1) {
                                /* The row's taps inside the input: contiguous there, one call. */
                                enn_ext16_pair(d, in_b + (iy * in_w + ix0) * in_c, (f_w * in_c) >> 2, c.offset);
                                d += f_w * in_c;
                                continue;
                            }
                            for (kx = 0; kx < f_w; kx++, d += in_c) {
                                const int32_t ix = ix0 + kx * prm->geom.dilation.w;
                                if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w) {
                                    enn_ext16_pair(d, in_b + (iy * in_w + ix) * in_c, in_c >> 2, c.offset);
                                } else {
                                    int32_t i;
                                    for (i = 0; i < in_c; i += 4) {
                                        d[i] = 0u;
                                        d[i + 1] = 0u;
                                    }
                                }
                            }
                        }
                        if (pair_n != c.filter_size) {
                            /* The padding to whole eights (its four values: the pixel's pair). */
                            d[0] = 0u;
                            d[1] = 0u;
                        }
                    } else if (n_ky > 0) {
                        enn_ext16_pair(d, in_px, f_c >> 2, c.offset);
                    } else {
                        int32_t i;
                        for (i = 0; i < f_c; i += 4) {
                            d[i] = 0u;
                            d[i + 1] = 0u;
                        }
                    }
                    pend = conv2d_pair_push(&c, xp, pair_n, pend, output);
                    continue;
                }
#endif
                if (gather) {
                    /* The whole window in filter order; taps in the padding hold the input zero
                     * point, so that they add filter * (zero point + input_offset) = 0. */
                    const int8_t zp = (int8_t)(-c.offset);
                    int8_t *d = win;
                    int32_t ky = 0;
                    if (n_ky == prm->geom.filter.h && n_kx == f_w && prm->geom.dilation.w == 1) {
                        /* The whole window inside the input (most pixels): its rows copied word
                         * by word, without the padding's bookkeeping. */
                        conv2d_gather_inside(win, in_px, c.row_step, n_ky, c.w_row);
                        ky = n_ky;
                    }
                    for (; ky < prm->geom.filter.h; ky++) {
                        const int32_t iy = iy0 + ky * prm->geom.dilation.h;
                        if (iy < 0 || iy >= in_h) {
                            enn_fill8(d, zp, c.w_row);
                            d += c.w_row;
                        } else if (prm->geom.dilation.w == 1) {
                            /* The row's taps inside the input are contiguous. */
                            const int32_t lo = kx_lo * f_c;
                            const int32_t n = n_kx * f_c;
                            enn_fill8(d, zp, lo);
                            enn_copy8(d + lo, in_b + (iy * in_w + ix0 + kx_lo) * in_c, n);
                            enn_fill8(d + lo + n, zp, c.w_row - lo - n);
                            d += c.w_row;
                        } else {
                            int32_t kx;
                            for (kx = 0; kx < f_w; kx++, d += f_c) {
                                const int32_t ix = ix0 + kx * prm->geom.dilation.w;
                                if (ix >= 0 && ix < in_w) {
                                    enn_copy8(d, in_b + (iy * in_w + ix) * in_c, f_c);
                                } else {
                                    enn_fill8(d, zp, f_c);
                                }
                            }
                        }
                    }
#if defined(CONV2D_PAIRS)
                    if (pair) {
                        /* Into the pixel's half of the pair buffer, padded with the zero point to
                         * whole fours (eights with the padded filters). */
                        const int32_t padded = (pair_n + 3) & ~3;
                        int32_t i;
                        for (i = c.filter_size; i < padded; i++) {
                            win[i] = zp;
                        }
                        enn_ext16_pair(xp + (pend != 0 ? 2 : 0), win, padded >> 2, c.offset);
                        pend = conv2d_pair_push(&c, xp, pair_n, pend, output);
                        continue;
                    }
#endif
#if defined(ENN_NEON)
                    if (narrow != 0) {
                        conv2d_narrow(&c, win, c.filter_size, narrow, output);
                        continue;
                    }
                    if (neon_pairs) {
                        if (pend_x != 0) {
#if defined(ENN_NEON_PAIRS)
                            if (gemm) {
                                conv2d_gemm2(&c, pend_x, win, (c.filter_size + 7) & ~7, pend_out, output);
                                pend_x = 0;
                                continue;
                            }
#endif
                            conv2d_cols_neon(&c, pend_x, win, c.filter_size, pend_out, output);
                            pend_x = 0;
                        } else {
                            pend_x = win;
                            pend_out = output;
                            win = win == wins[0] ? wins[1] : wins[0];
                        }
                        continue;
                    }
#endif
                    conv2d_col(&c, win, xp, 0, c.filter_size, output);
                } else if (pointwise && n_ky > 0) {
#if defined(ENN_NEON)
                    if (narrow != 0) {
                        conv2d_narrow(&c, in_px, f_c, narrow, output);
                        continue;
                    }
                    if (neon_pairs) {
                        if (pend_x != 0) {
                            conv2d_cols_neon(&c, pend_x, in_px, f_c, pend_out, output);
                            pend_x = 0;
                        } else {
                            pend_x = in_px;
                            pend_out = output;
                        }
                        continue;
                    }
#endif
                    conv2d_col(&c, in_px, xp, 0, f_c, output);
                } else {
#if defined(ENN_NEON)
                    if (pend_x != 0) {
                        /* A pointwise layer's waiting column first, alone (a pixel in the padding
                         * comes here): pixels stay in memory order. */
                        conv2d_cols_neon(&c, pend_x, 0, f_c, pend_out, 0);
                        pend_x = 0;
                    }
#endif
                    conv2d_pixel(&c, in_px, (ky_lo * f_w + kx_lo) * f_c, n_ky, runs, run, output, fast_full);
                }
            }
        }
    }
#if defined(ENN_NEON)
    if (pend_x != 0) {
#if defined(ENN_NEON_PAIRS)
        if (gemm) {
            conv2d_gemm2(&c, pend_x, 0, gather ? (c.filter_size + 7) & ~7 : f_c, pend_out, 0);
        } else
#endif
        {
            conv2d_cols_neon(&c, pend_x, 0, gather ? c.filter_size : f_c, pend_out, 0);
        }
    }
#endif
#if defined(CONV2D_PAIRS)
    if (pend != 0) {
        /* An odd number of pixels: the last one paired with a copy of itself. */
        int32_t i;
        for (i = 0; i < ((pair_n + 3) & ~3); i += 4) {
            xp[i + 2] = xp[i];
            xp[i + 3] = xp[i + 1];
        }
        conv2d_col2(&c, xp, pair_n, pend, pend);
    }
#endif
}

#if ENN_THREADS > 1
/* A thread's share of the rows (enn_parallel_rows), with a pair buffer of its own. */
static void conv2d_task(void *ctx, int32_t r0, int32_t r1)
{
#if defined(ENN_DSP) && !defined(ENN_MVE)
    uint32_t xp[CONV2D_EXT];
#else
    uint32_t *xp = 0;
#endif
    conv2d_rows((const conv2d_layer *)ctx, r0, r1, xp);
}
#endif

void enn_conv2d(const enn_conv2d_params *prm, const int8_t *input, const int8_t *filter, const int32_t *bias,
                int8_t *output)
{
    const int32_t in_w = prm->input.w;
    const int32_t in_c = prm->input.c;
    const int32_t out_c = prm->output.c;
    const int32_t f_w = prm->geom.filter.w;
    const int32_t f_c = prm->filter_c;
    conv2d_ctx c;
    int fast_full;
    int pointwise;
    int gather;
#if defined(CONV2D_PAIRS)
    int wide;
    int pair;
    int32_t pair_n;
#endif
#if defined(ENN_NEON)
    int32_t shift32[CONV2D_SHIFT32];
    int16_t narrow_w[CONV2D_NARROW_N * CONV2D_NARROW_C];
#endif
#if defined(ENN_DSP) && !defined(ENN_MVE)
    uint32_t xp[CONV2D_EXT];
#else
    uint32_t *xp = 0;
#endif
    c.filter = filter;
    c.bias = bias;
    c.mult = prm->quant.multiplier;
    c.shift = prm->quant.shift;
    c.rsh = prm->quant.rshift;
    c.ksum = prm->ksum;
#if defined(ENN_MVE) || defined(ENN_NEON_PAIRS)
    c.mq = prm->mq;
#endif
#if defined(ENN_NEON_PAIRS)
    c.wp = prm->wp;
    c.right1 = enn_right1_neon(c.shift, out_c);
#endif
    c.wx = 0;
    c.no_min = prm->no_min;
#if defined(ENN_NEON)
    c.shift32 = enn_shifts32_neon(c.shift, out_c, shift32, CONV2D_SHIFT32);
#endif
    c.groups = in_c / f_c;
    c.per_group = out_c / c.groups;
    c.f_c = f_c;
    c.filter_size = prm->geom.filter.h * f_w * f_c;
    c.w_row = f_w * f_c;                             /* filter: next row */
    c.row_step = prm->geom.dilation.h * in_w * in_c;      /* input: next filter row */
    c.col_step = prm->geom.dilation.w * in_c;             /* input: next filter column */
    c.offset = prm->input_offset;
    c.out_offset = prm->output_offset;
    c.lo = prm->act.min;
    c.hi = prm->act.max;
    c.fast = enn_rq_layer_ok(c.mult, c.shift, out_c);
    fast_full = c.fast && c.lo == -128 && c.hi == 127;
#if !defined(ENN_MVE)
    c.fast_full = fast_full;
#endif
    pointwise = prm->geom.filter.h == 1 && f_w == 1 && c.groups == 1;
    gather = !pointwise && c.groups == 1 && c.filter_size <= CONV2D_GATHER;
#if defined(CONV2D_PAIRS)
    /* Whole windows straight into int16 pairs: input channels in fours keep each tap's channels in
     * whole pairs; padding is 0 (input + offset = 0 there). */
    wide = !pointwise && c.groups == 1 && (in_c & 3) == 0 && c.filter_size <= CONV2D_EXT;
    /* Windows extended whole and 1x1 filters of channels in fours: pixels in pairs, so that each
     * filter word extended serves two pixels. Pairs run across rows and batches, the first pixel
     * of a pair written after the second is read (reading earlier keeps every overlap of output
     * and input the planner allows). */
    if (wide) {
        gather = 0;
    }
    pair = wide || gather || (pointwise && (f_c & 3) == 0 && f_c <= CONV2D_EXT);
    pair_n = pointwise ? f_c : c.filter_size;
#if defined(ENN_DSP_ASM)
    if (prm->wx != 0 && pair && fast_full && bias != 0 && (out_c & 1) == 0 && out_c >= 2 &&
        ((pair_n + 7) & ~7) <= CONV2D_EXT) {
        /* The code generator's pre-extended filters (conv2d_pairs16_asm), every pair of them
         * zero-padded to whole eights of values: the columns are padded to match. */
        c.wx = prm->wx;
        pair_n = (pair_n + 7) & ~7;
    }
    /* Windows of n values not in whole eights (a first layer's 3x3x3 = 27, 3x3x4 = 36) would miss
     * the filter-pair asm (conv2d_pairs_asm); with the filters copied, zero-padded to the next
     * multiple of eight, into the pair buffer's unused end, and the columns padded with zero pairs,
     * they take it. */
    if (c.wx == 0 && pair && !pointwise && fast_full && bias != 0 && (pair_n & 7) != 0) {
        const int32_t n8 = (pair_n + 7) & ~7;
        if (n8 + out_c * (n8 >> 2) <= CONV2D_EXT) {
            int8_t *padded = (int8_t *)(xp + n8);
            int32_t oc;
            for (oc = 0; oc < out_c; oc++) {
                enn_copy8(padded + oc * n8, filter + oc * pair_n, pair_n);
                enn_fill8(padded + oc * n8 + pair_n, 0, n8 - pair_n);
            }
            c.filter = padded;
            pair_n = n8;
        }
    }
#endif
#endif

    {
        conv2d_layer L;
        const int32_t rows = prm->input.n * prm->output.h;
        L.c = c;
        L.prm = prm;
        L.input = input;
        L.output = output;
        L.fast_full = fast_full;
        L.pointwise = pointwise;
        L.gather = gather;
#if defined(ENN_NEON)
        L.narrow = 0;
        {
            const int32_t n_col = pointwise ? f_c : c.filter_size;
#if defined(ENN_NEON_PAIRS)
            /* Gathered windows are read in whole eights (the stack buffer's bytes past the window
             * meet zero weights: the packed filter is padded likewise); pointwise columns are not
             * (the input's last pixel would be read past). */
            L.gemm = c.mq != 0 && c.wp != 0 && c.groups == 1 && (gather || (pointwise && (n_col & 7) == 0)) &&
                     out_c <= CONV2D_NEON_PAIR_OUT;
#endif
            if (
#if defined(ENN_NEON_PAIRS)
                !L.gemm &&
#endif
                c.ksum != 0 && c.shift32 != 0 && c.groups == 1 && (pointwise || gather) && n_col <= CONV2D_NARROW_N &&
                (out_c == 8 || out_c == 16 || out_c == 32 || out_c == 64)) {
                conv2d_narrow_weights(filter, n_col, out_c, narrow_w);
                L.narrow = narrow_w;
            }
        }
#endif
#if defined(CONV2D_PAIRS)
        L.wide = wide;
        L.pair = pair;
        L.pair_n = pair_n;
#endif
#if ENN_THREADS > 1
        /* Large layers on several threads, by rows, unless the output overlaps the input (the
         * planner lets a row's outputs overwrite inputs only rows before it has read). */
        if (rows > 1 && (int64_t)rows * prm->output.w * out_c * c.filter_size >= ENN_PARALLEL_MACS &&
            !enn_overlap(input, (size_t)prm->input.n * prm->input.h * in_w * in_c, output,
                         (size_t)rows * prm->output.w * out_c)) {
            enn_parallel_rows(conv2d_task, &L, rows);
            return;
        }
#endif
        conv2d_rows(&L, 0, rows, xp);
    }
}

/* Decoders of the .enn weight encodings; format/weight_codecs.py is the reference and
 * tests/test_compress.py checks the two byte for byte. */
#include "edgenn_decode.h"

#define ENN_HUFF_MAX_BITS 15
/* Codes up to this length decode with one lookup of the next 8 bits; longer ones by canonical
 * search from there (per-length first code and symbol index). A 512-byte table, built per call. */
#define ENN_HUFF_LUT_BITS 8

static uint32_t decode_u32(const uint8_t *s)
{
    return (uint32_t)s[0] | ((uint32_t)s[1] << 8) | ((uint32_t)s[2] << 16) | ((uint32_t)s[3] << 24);
}

int32_t enn_decode_huffman(const uint8_t *src, int32_t src_bytes, int32_t n, int8_t *dst)
{
    uint16_t lut[1 << ENN_HUFF_LUT_BITS]; /* (length << 8) | symbol; 0: a longer code starts here */
    uint16_t count[ENN_HUFF_MAX_BITS + 1];
    uint16_t start[ENN_HUFF_MAX_BITS + 1]; /* index of the first symbol of each length */
    uint32_t first[ENN_HUFF_MAX_BITS + 1]; /* first canonical code of each length */
    const uint8_t *syms;
    const uint8_t *p;
    const uint8_t *end;
    uint32_t code;
    uint32_t acc = 0; /* next bits of the stream, MSB-aligned */
    int32_t bits = 0; /* valid bits in acc */
    int32_t pad = 0; /* zero bytes fed past the end of the stream */
    int32_t max_len, nsym, left, len, k, i;

    if (src == 0 || dst == 0 || n < 0 || src_bytes < 6 || src[0] != 1u || decode_u32(src + 1) != (uint32_t)n) {
        return ENN_DECODE_BAD_STREAM;
    }
    max_len = src[5];
    if (max_len < 1 || max_len > ENN_HUFF_MAX_BITS || src_bytes < 6 + 2 * max_len) {
        return ENN_DECODE_BAD_STREAM;
    }
    nsym = 0;
    left = 1; /* unused codes of the current length (Kraft) */
    for (len = 1; len <= max_len; len++) {
        count[len] = (uint16_t)(src[4 + 2 * len] | (src[5 + 2 * len] << 8));
        nsym += count[len];
        left = 2 * left - (int32_t)count[len];
        if (left < 0) {
            return ENN_DECODE_BAD_STREAM;
        }
    }
    if (count[max_len] == 0 || nsym > 256 || !(left == 0 || (nsym == 1 && max_len == 1))
        || src_bytes < 6 + 2 * max_len + nsym) {
        return ENN_DECODE_BAD_STREAM;
    }
    syms = src + 6 + 2 * max_len;
    for (i = 0; i < (1 << ENN_HUFF_LUT_BITS); i++) {
        lut[i] = 0;
    }
    code = 0;
    k = 0;
    for (len = 1; len <= max_len; len++) {
        int32_t c;
        first[len] = code;
        start[len] = (uint16_t)k;
        for (c = 0; c < (int32_t)count[len]; c++, code++, k++) {
            if (len <= ENN_HUFF_LUT_BITS) {
                uint32_t lo = code << (ENN_HUFF_LUT_BITS - len);
                const uint32_t hi = (code + 1u) << (ENN_HUFF_LUT_BITS - len);
                const uint16_t e = (uint16_t)((len << 8) | syms[k]);
                for (; lo < hi; lo++) {
                    lut[lo] = e;
                }
            }
        }
        code <<= 1;
    }

    p = syms + nsym;
    end = src + src_bytes;
    for (i = 0; i < n; i++) {
        uint32_t e;
        if (bits < 16) { /* keep at least 16 bits (the longest code is 15) */
            if (end - p >= 2) {
                acc |= (((uint32_t)p[0] << 8) | p[1]) << (16 - bits);
                p += 2;
                bits += 16;
            } else {
                while (bits < 16) {
                    uint32_t b = 0;
                    if (p < end) {
                        b = *p++;
                    } else if (++pad > 4) { /* 32 bits past the end: the codes ran past the data */
                        return ENN_DECODE_BAD_STREAM;
                    }
                    acc |= b << (24 - bits);
                    bits += 8;
                }
            }
        }
        e = lut[acc >> (32 - ENN_HUFF_LUT_BITS)];
        if (e != 0) {
            len = (int32_t)(e >> 8);
            dst[i] = (int8_t)(e & 0xffu);
        } else {
            uint32_t off = 0;
            for (len = ENN_HUFF_LUT_BITS + 1; len <= max_len; len++) {
                off = (acc >> (32 - len)) - first[len];
                if (off < count[len]) {
                    break;
                }
            }
            if (len > max_len) {
                return ENN_DECODE_BAD_STREAM;
            }
            dst[i] = (int8_t)syms[start[len] + off];
        }
        acc <<= len;
        bits -= len;
    }
    /* The codes must end in the last byte of the stream: bits consumed = bytes fed * 8 - bits left. */
    {
        const int32_t data_bytes = (int32_t)(end - (syms + nsym));
        const int32_t used = (int32_t)(p - (syms + nsym)) + pad;
        const int32_t consumed = used * 8 - bits;
        if (consumed > data_bytes * 8 || (consumed + 7) / 8 != data_bytes) {
            return ENN_DECODE_BAD_STREAM;
        }
    }
    return 0;
}

int32_t enn_decode_palette(const uint8_t *src, int32_t src_bytes, int32_t n, int8_t *dst)
{
    int8_t pal[16];
    const uint8_t *d;
    int32_t k, b, per_byte, i, j;

    if (src == 0 || dst == 0 || n < 0 || src_bytes < 7 || src[0] != 2u || decode_u32(src + 1) != (uint32_t)n) {
        return ENN_DECODE_BAD_STREAM;
    }
    k = src[5];
    b = src[6];
    if (k < 1 || k > 16 || b != (k <= 2 ? 1 : k <= 4 ? 2 : 4)) {
        return ENN_DECODE_BAD_STREAM;
    }
    per_byte = 8 / b;
    if (src_bytes - 7 - k != n / per_byte + (n % per_byte != 0)) {
        return ENN_DECODE_BAD_STREAM;
    }
    for (j = 0; j < 16; j++) {
        pal[j] = j < k ? (int8_t)src[7 + j] : 0; /* an index >= k (rejected by edgenn) reads 0, not memory */
    }
    d = src + 7 + k;
    i = 0;
    if (b == 4) {
        for (; i + 1 < n; i += 2) {
            const uint32_t v = *d++;
            dst[i] = pal[v >> 4];
            dst[i + 1] = pal[v & 15u];
        }
        if (i < n) {
            dst[i] = pal[*d >> 4];
        }
        return 0;
    }
    {
        const uint32_t mask = (1u << b) - 1u;
        while (i < n) {
            const uint32_t v = *d++;
            int32_t sh;
            for (sh = 8 - b; sh >= 0 && i < n; sh -= b) {
                dst[i++] = pal[(v >> sh) & mask];
            }
        }
    }
    return 0;
}

/* Decoders of the .enn weight encodings (format/weight_codecs.py; byte layouts in
 * format/schema/edgenn.fbs). model.c decodes a layer's encoded weights into the layer's
 * scratch slot in the arena right before the layer runs.
 *
 * Each decoder writes exactly n int8 values to dst and returns 0, or returns a negative value
 * without reading past src[src_bytes - 1] when the stream does not match its header, n or
 * src_bytes (the generator only emits streams edgenn has decoded and checked). No malloc; the
 * Huffman decoder keeps a 512-byte lookup table on the stack. */
#ifndef EDGENN_DECODE_H
#define EDGENN_DECODE_H

#include "edgenn_prefix.h"

#include <stdint.h>

#define ENN_DECODE_BAD_STREAM (-2)

/* Canonical Huffman stream (encoding 1), codes of 1..15 bits, MSB first. */
int32_t enn_decode_huffman(const uint8_t *src, int32_t src_bytes, int32_t n, int8_t *dst);

/* Palette stream (encoding 2): up to 16 values, 1, 2 or 4-bit indices, MSB first. */
int32_t enn_decode_palette(const uint8_t *src, int32_t src_bytes, int32_t n, int8_t *dst);

#endif

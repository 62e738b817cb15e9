"""Lossless weight encodings of the .enn format: canonical Huffman and palette (indices + values).

The byte layouts are documented in schema/edgenn.fbs (above ``enum WeightEncoding``); the C
decoders are templates/kernels/edgenn_decode.c. Decoders validate every header field and the
exact stream length, so a damaged stream raises ModelFormatError (never another exception, an
endless loop or an allocation larger than the stream can describe).

An operator decodes its encoded constant inputs into slots of its scratch region in the arena
(``scratch_layout``), so the RAM this costs is part of the planned arena.
"""
from __future__ import annotations

import heapq
import struct
from typing import Sequence

import numpy as np

from edgenn.errors import ModelFormatError

RAW, HUFFMAN, PALETTE = "raw", "huffman", "palette"
ENCODINGS = (RAW, HUFFMAN, PALETTE)  # index = the schema's WeightEncoding value
MAX_CODE_BITS = 15
MAX_PALETTE = 16
SLOT_ALIGN = 16
_HEAD = struct.Struct("<BI")  # encoding value, number of values


def _as_int8(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values)
    if v.dtype != np.int8:
        raise ValueError(f"weight encodings take int8 values, not {v.dtype}")
    return v.reshape(-1)


# ------------------------------------------------------------------------------------- huffman


def _huffman_lengths(freq: np.ndarray) -> np.ndarray:
    """Code length of each of the 256 symbols (0 = absent) of an optimal prefix code, unlimited."""
    syms = np.flatnonzero(freq)
    lengths = np.zeros(256, np.int64)
    if syms.size == 1:
        lengths[syms[0]] = 1
        return lengths
    # Heap entries (weight, tie-break, node); ties broken by creation order keep the code deterministic.
    parent: list[int] = []
    heap = []
    for k, s in enumerate(syms):
        heap.append((int(freq[s]), k, k))
        parent.append(-1)
    heapq.heapify(heap)
    while len(heap) > 1:
        wa, _, a = heapq.heappop(heap)
        wb, _, b = heapq.heappop(heap)
        node = len(parent)
        parent.append(-1)
        parent[a] = parent[b] = node
        heapq.heappush(heap, (wa + wb, node, node))
    depth = [0] * len(parent)
    for node in range(len(parent) - 2, -1, -1):  # parents are created after their children
        depth[node] = depth[parent[node]] + 1
    for k, s in enumerate(syms):
        lengths[s] = depth[k]
    return lengths


def _package_merge(freq: np.ndarray, limit: int) -> np.ndarray:
    """Optimal code lengths of at most ``limit`` bits (package-merge), for 2..2^limit symbols."""
    syms = np.flatnonzero(freq)
    order = syms[np.lexsort((syms, freq[syms]))]  # lightest first, ties by symbol: deterministic
    n = order.size
    unit = np.eye(n, dtype=np.int64)
    leaves = [(int(freq[s]), unit[i]) for i, s in enumerate(order)]
    # Each item: (weight, how many times each symbol is inside). A package joins two neighbours.
    items = list(leaves)
    for _ in range(limit - 1):
        packages = [(items[j][0] + items[j + 1][0], items[j][1] + items[j + 1][1]) for j in range(0, len(items) - 1, 2)]
        items = sorted(leaves + packages, key=lambda it: it[0])  # stable: leaves before packages on ties
    depth = np.sum([c for _, c in items[: 2 * n - 2]], axis=0)
    lengths = np.zeros(256, np.int64)
    lengths[order] = depth
    return lengths


def code_lengths(values: np.ndarray, limit: int = MAX_CODE_BITS) -> np.ndarray:
    """Huffman code lengths (<= limit) of the 256 int8 symbols (indexed by value & 0xFF), 0 if absent."""
    freq = np.bincount(_as_int8(values).view(np.uint8), minlength=256).astype(np.int64)
    lengths = _huffman_lengths(freq)
    if lengths.max() > limit:
        # Optimal under the limit (a plain Huffman tree of very skewed data is deeper than 15).
        lengths = _package_merge(freq, limit)
    return lengths


def _canonical(symbols: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Canonical code values of ``symbols`` (listed in header order) with their ``lengths``."""
    codes = np.zeros(symbols.size, np.int64)
    code = 0
    prev = int(lengths[0]) if lengths.size else 0
    for i, ln in enumerate(lengths.tolist()):
        code <<= ln - prev
        prev = ln
        codes[i] = code
        code += 1
    return codes


def encode_huffman(values: np.ndarray) -> bytes:
    """Canonical Huffman stream of int8 values (layout: schema/edgenn.fbs, HUFFMAN)."""
    v = _as_int8(values)
    if v.size == 0:
        raise ValueError("nothing to encode")
    u = v.view(np.uint8)
    lengths = code_lengths(v)
    syms = np.flatnonzero(lengths)
    order = np.lexsort((syms, lengths[syms]))  # shortest first, then by byte value
    syms = syms[order]
    sym_len = lengths[syms]
    codes = _canonical(syms, sym_len)
    L = int(sym_len.max())
    counts = np.bincount(sym_len, minlength=L + 1)[1:]
    code_of = np.zeros(256, np.int64)
    code_of[syms] = codes
    cl = lengths[u]
    cv = code_of[u]
    j = np.arange(MAX_CODE_BITS)
    bits = (cv[:, None] >> np.maximum(cl[:, None] - 1 - j, 0)) & 1
    bits = bits[j[None, :] < cl[:, None]].astype(np.uint8)  # row-major: codes in order, MSB first
    head = _HEAD.pack(1, v.size) + bytes([L]) + counts.astype("<u2").tobytes() + syms.astype(np.uint8).tobytes()
    return head + np.packbits(bits).tobytes()


def _check_head(stream: bytes, tag: int, n: int, what: str, min_len: int) -> None:
    if len(stream) < min_len:
        raise ModelFormatError(f"{what} stream truncated ({len(stream)} bytes)")
    got_tag, got_n = _HEAD.unpack_from(stream, 0)
    if got_tag != tag:
        raise ModelFormatError(f"{what} stream starts with encoding {got_tag}, expected {tag}")
    if got_n != n:
        raise ModelFormatError(f"{what} stream holds {got_n} values, the tensor has {n}")


def decode_huffman(stream: bytes, n: int) -> np.ndarray:
    """The ``n`` int8 values of a HUFFMAN stream; ModelFormatError if the stream is malformed."""
    stream = bytes(stream)
    _check_head(stream, 1, n, "huffman", 6)
    L = stream[5]
    if not 1 <= L <= MAX_CODE_BITS:
        raise ModelFormatError(f"huffman stream: longest code length {L} is not in 1..{MAX_CODE_BITS}")
    pos = 6 + 2 * L
    if len(stream) < pos:
        raise ModelFormatError(f"huffman stream truncated in its header ({len(stream)} bytes)")
    counts = np.frombuffer(stream, "<u2", L, 6).astype(np.int64)
    nsym = int(counts.sum())
    if counts[-1] == 0 or not 1 <= nsym <= 256:
        raise ModelFormatError(f"huffman stream: bad code length counts {counts.tolist()}")
    # Kraft sum in units of 2^-L: exactly 1 (a complete code), or one symbol with the code "0".
    kraft = int(np.sum(counts << (L - np.arange(1, L + 1))))
    if kraft != 1 << L and not (nsym == 1 and L == 1):
        raise ModelFormatError(f"huffman stream: code lengths {counts.tolist()} do not form a complete prefix code")
    if len(stream) < pos + nsym:
        raise ModelFormatError(f"huffman stream truncated in its symbol table ({len(stream)} bytes)")
    syms = np.frombuffer(stream, np.uint8, nsym, pos)
    if np.unique(syms).size != nsym:
        raise ModelFormatError("huffman stream: its symbol table repeats a symbol")
    payload = np.frombuffer(stream, np.uint8, offset=pos + nsym)
    nbits = payload.size * 8
    if n > nbits:  # every code has at least one bit: bounds the work before any allocation
        raise ModelFormatError(f"huffman stream truncated: {payload.size} data bytes cannot hold {n} values")
    sym_len = np.repeat(np.arange(1, L + 1), counts)
    codes = _canonical(syms, sym_len)
    # Table over all L-bit windows: the symbol and length of the code the window starts with.
    lut_len = np.zeros(1 << L, np.int64)
    lut_sym = np.zeros(1 << L, np.uint8)
    for s, c, ln in zip(syms.tolist(), codes.tolist(), sym_len.tolist()):
        lo, hi = c << (L - ln), (c + 1) << (L - ln)
        lut_len[lo:hi] = ln
        lut_sym[lo:hi] = s
    bits = np.concatenate([np.unpackbits(payload), np.zeros(L, np.uint8)]).astype(np.int64)
    window = np.zeros(nbits, np.int64)
    for j in range(L):
        window = (window << 1) | bits[j: j + nbits]
    step = lut_len[window].tolist()
    starts = [0] * n
    p = 0
    for i in range(n):
        if p >= nbits:
            raise ModelFormatError(f"huffman stream truncated: data ends after {i} of {n} values")
        ln = step[p]
        if ln == 0:
            raise ModelFormatError(f"huffman stream: invalid code at bit {p}")
        starts[i] = p
        p += ln
    if p > nbits:
        raise ModelFormatError("huffman stream truncated: its last code runs past the data")
    used = (p + 7) // 8
    if used != payload.size:
        raise ModelFormatError(f"huffman stream has {payload.size - used} bytes after its {n} values")
    if p % 8 and int(payload[-1]) & ((1 << (8 - p % 8)) - 1):
        raise ModelFormatError("huffman stream: nonzero padding bits after the last code")
    return lut_sym[window[np.asarray(starts, np.int64)]].view(np.int8)


# ------------------------------------------------------------------------------------- palette


def palette_bits(k: int) -> int:
    """Bits per index for a palette of k values: 1, 2 or 4."""
    return 1 if k <= 2 else 2 if k <= 4 else 4


def encode_palette(values: np.ndarray) -> bytes | None:
    """PALETTE stream of int8 values, or None when they take more than 16 distinct values."""
    v = _as_int8(values)
    if v.size == 0:
        raise ValueError("nothing to encode")
    pal = np.unique(v)
    if pal.size > MAX_PALETTE:
        return None
    b = palette_bits(pal.size)
    idx = np.searchsorted(pal, v).astype(np.uint8)
    bits = np.unpackbits(idx[:, None], axis=1)[:, 8 - b:]  # each index's b low bits, MSB first
    return _HEAD.pack(2, v.size) + bytes([pal.size, b]) + pal.tobytes() + np.packbits(bits.reshape(-1)).tobytes()


def decode_palette(stream: bytes, n: int) -> np.ndarray:
    """The ``n`` int8 values of a PALETTE stream; ModelFormatError if the stream is malformed."""
    stream = bytes(stream)
    _check_head(stream, 2, n, "palette", 7)
    k, b = stream[5], stream[6]
    if not 1 <= k <= MAX_PALETTE:
        raise ModelFormatError(f"palette stream: {k} values, expected 1..{MAX_PALETTE}")
    if b != palette_bits(k):
        raise ModelFormatError(f"palette stream: {b} bits per index for {k} values, expected {palette_bits(k)}")
    need = 7 + k + (n * b + 7) // 8
    if len(stream) != need:
        raise ModelFormatError(f"palette stream has {len(stream)} bytes, its header implies {need}")
    pal = np.frombuffer(stream, np.int8, k, 7)
    if np.unique(pal).size != k:
        raise ModelFormatError("palette stream: its palette repeats a value")
    bits = np.unpackbits(np.frombuffer(stream, np.uint8, offset=7 + k))
    if bits[n * b:].any():
        raise ModelFormatError("palette stream: nonzero padding bits after the last index")
    idx = bits[: n * b].reshape(n, b).astype(np.int64) @ (1 << np.arange(b - 1, -1, -1))
    if idx.size and int(idx.max()) >= k:
        raise ModelFormatError(f"palette stream: index {int(idx.max())} is outside its {k}-value palette")
    return pal[idx]


# ------------------------------------------------------------------------------------- choice


def decode(encoding: str, stream: bytes, n: int) -> np.ndarray:
    """The ``n`` int8 values of an encoded stream (``encoding``: "huffman" or "palette")."""
    if encoding == HUFFMAN:
        return decode_huffman(stream, n)
    if encoding == PALETTE:
        return decode_palette(stream, n)
    raise ModelFormatError(f"unknown weight encoding {encoding!r}")


def encode_best(values: np.ndarray, method: str) -> tuple[str, bytes]:
    """(encoding, stored bytes) of int8 values: the smallest stream that ``method`` allows.

    ``method``: "auto" (smallest of huffman, palette and raw, headers counted), "huffman" or
    "palette"; raw whenever the method does not apply or does not make the tensor smaller.
    """
    v = _as_int8(values)
    if method not in ("auto", HUFFMAN, PALETTE):
        raise ValueError(f"unknown compression method {method!r} (auto, huffman or palette)")
    best = (RAW, v.tobytes())
    candidates = []
    if method in ("auto", PALETTE):
        candidates.append((PALETTE, encode_palette(v)))  # first: on equal size the faster decoder wins
    if method in ("auto", HUFFMAN):
        candidates.append((HUFFMAN, encode_huffman(v)))
    for enc, stream in candidates:
        if stream is not None and len(stream) < len(best[1]):
            best = (enc, stream)
    return best


# ------------------------------------------------------------------------------------- decode slots


def _align(x: int) -> int:
    return (x + SLOT_ALIGN - 1) // SLOT_ALIGN * SLOT_ALIGN


def scratch_layout(kernel_bytes: int, slot_bytes: Sequence[int]) -> tuple[int, list[int]]:
    """(scratch region bytes, offset of each decode slot in it) for an operator.

    The kernel's own scratch first (rounded up to 16 when slots follow), then one 16-byte aligned
    slot per encoded constant input; the region ends with the last slot.
    """
    if not slot_bytes:
        return int(kernel_bytes), []
    off = _align(int(kernel_bytes))
    offsets = []
    for size in slot_bytes:
        off = _align(off)
        offsets.append(off)
        off += int(size)
    return off, offsets


def split_scratch(scratch_bytes: int, slot_bytes: Sequence[int]) -> tuple[int, list[int]] | None:
    """Inverse of scratch_layout: (kernel scratch bytes, slot offsets), or None if inconsistent."""
    if not slot_bytes:
        return int(scratch_bytes), []
    span, offsets = scratch_layout(0, slot_bytes)
    kernel = int(scratch_bytes) - span
    if kernel < 0 or kernel % SLOT_ALIGN:
        return None
    return kernel, [kernel + o for o in offsets]


def decode_slots(model, op) -> list[tuple[int, int]]:
    """(input position, arena offset) of each encoded constant input of an EnnOp, in input order."""
    pos = [k for k, t in enumerate(op.inputs) if t >= 0 and model.tensors[t].is_encoded]
    if not pos:
        return []
    split = split_scratch(op.scratch_bytes, [model.tensors[op.inputs[k]].nbytes for k in pos])
    if split is None:
        raise ModelFormatError(f"operator {op.name!r}: its {op.scratch_bytes}-byte scratch cannot hold the "
                               f"decode slots of its encoded inputs")
    return [(k, op.scratch_offset + off) for k, off in zip(pos, split[1])]


def kernel_scratch_bytes(model, op) -> int:
    """The part of an operator's scratch region that is the kernel's own (before the decode slots)."""
    sizes = [model.tensors[t].nbytes for t in op.inputs if t >= 0 and model.tensors[t].is_encoded]
    split = split_scratch(op.scratch_bytes, sizes)
    if split is None:
        raise ModelFormatError(f"operator {op.name!r}: its {op.scratch_bytes}-byte scratch cannot hold the "
                               f"decode slots of its encoded inputs")
    return split[0]

"""Lossless weight compression of a quantized Graph (``edgenn convert --compress``).

Each int8 weight tensor (input 1 of every weighted operator, rules with a ``weight_axis``, 64 bytes or
more) is stored with the smallest encoding the method allows (format/weight_codecs.py), when
that saves at least MIN_SAVING of its bytes.
The choice is recorded on the graph (``weight_encodings``: tensor name -> (encoding, stream));
converter/lower.py then stores the stream in the .enn file and sizes each consuming operator's
scratch region to hold the decoded weights, so the arena reports the RAM this costs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from edgenn.converter.graph import Graph
from edgenn.converter.ops import is_weighted
from edgenn.errors import DataError, EdgennError
from edgenn.format import weight_codecs
from edgenn.format.enn import EnnModel

METHODS = ("auto", weight_codecs.HUFFMAN, weight_codecs.PALETTE)
MIN_BYTES = 64  # smaller tensors: a header and a decode call cost more than they could save
# An encoded tensor costs its decoded size in the arena while its layer runs and about 20 (Huffman)
# or 4 (palette) Cortex-M4 instructions per weight: not worth it for a few percent of flash
# (plain digits: 116 B saved for 7.8 KB of arena). Encode only when the stream saves this share.
MIN_SAVING = 0.10


@dataclass
class CompressedTensor:
    op: str
    tensor: str
    encoding: str
    raw_bytes: int
    stored_bytes: int


@dataclass
class CompressReport:
    method: str
    tensors: list[CompressedTensor] = field(default_factory=list)

    @property
    def raw_bytes(self) -> int:
        return sum(t.raw_bytes for t in self.tensors)

    @property
    def stored_bytes(self) -> int:
        return sum(t.stored_bytes for t in self.tensors)

    def summary(self) -> str:
        """One line for humans: the weight tensors considered, before -> after."""
        return _summary_line(self.raw_bytes, self.stored_bytes, [t.encoding for t in self.tensors], "weight tensors")

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "raw_bytes": self.raw_bytes, "stored_bytes": self.stored_bytes,
                "tensors": [asdict(t) for t in self.tensors]}


def compress_weights(g: Graph, method: str = "auto") -> CompressReport:
    """Choose and record an encoding for every weight tensor of a quantized graph."""
    if method not in METHODS:
        raise DataError(f"unknown compression method {method!r}: choose one of {', '.join(METHODS)}")
    chosen: dict[str, tuple[str, bytes]] = dict(g.weight_encodings)
    report = CompressReport(method)
    seen: set[str] = set()
    for op in g.ops:
        if not is_weighted(op.type) or len(op.inputs) < 2 or not op.inputs[1]:
            continue
        name = op.inputs[1]
        t = g.tensors[name]
        if name in seen or not t.is_const or t.dtype != "int8" or t.nbytes < MIN_BYTES:
            continue
        seen.add(name)
        values = np.ascontiguousarray(t.data, dtype=np.int8)
        enc, stream = weight_codecs.encode_best(values, method)
        if enc != weight_codecs.RAW and len(stream) > (1.0 - MIN_SAVING) * values.nbytes:
            enc, stream = weight_codecs.RAW, values.tobytes()
        if enc != weight_codecs.RAW:
            # Cheap insurance: the file must decode to exactly these weights.
            if not np.array_equal(weight_codecs.decode(enc, stream, values.size), values.reshape(-1)):
                raise EdgennError(f"internal: the {enc} stream of {name!r} does not decode to its weights")
            chosen[name] = (enc, stream)
        else:
            chosen.pop(name, None)
        report.tensors.append(CompressedTensor(op.name, name, enc, int(values.nbytes), len(stream)))
    g.weight_encodings = chosen  # stored by converter/lower.py
    return report


def _summary_line(before: int, after: int, encodings: list[str], what: str) -> str:
    counts = {e: encodings.count(e) for e in weight_codecs.ENCODINGS if encodings.count(e)}
    how = ", ".join(f"{n} {e}" for e, n in counts.items()) or "none"
    cut = f" (-{100 * (before - after) / before:.1f} %)" if before else ""
    return f"compressed {what}: {before:,} B -> {after:,} B{cut}; {how}"


def compression_summary(model: EnnModel) -> str:
    """One line about an EnnModel's stored weights: all constants before -> after, encodings used,
    and the arena bytes its decode buffers take at most at once."""
    consts = [t for t in model.tensors if t.is_const]
    before = sum(int(t.data.nbytes) for t in consts)
    after = sum(t.stored_nbytes for t in consts)
    candidates = {op.inputs[1] for op in model.ops if is_weighted(op.type) and len(op.inputs) > 1
                  and op.inputs[1] >= 0 and model.tensors[op.inputs[1]].is_const}
    encs = [model.tensors[i].encoding for i in sorted(candidates)]
    slots = max((op.scratch_bytes for op in model.ops if weight_codecs.decode_slots(model, op)), default=0)
    line = _summary_line(before, after, encs, "weights")
    return line + (f"; decode buffers up to {slots:,} B of the arena" if slots else "")

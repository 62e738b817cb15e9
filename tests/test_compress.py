"""Lossless weight compression (--compress): the codecs, their C decoders, the .enn format, and
whole models bit-exact on python, host and QEMU with compressed weights.

Pruning and clustering are emulated on the quantized digits graph: half of every weight tensor
zeroed by magnitude (unstructured pruning), or every weight tensor mapped to at most 16 values.
"""
from __future__ import annotations

import copy
import struct
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgenn.converter.ops import is_weighted
from edgenn.converter.shrink.compress import MIN_SAVING, compress_weights, compression_summary
from edgenn.converter.lower import to_enn
from edgenn.converter.pipeline import ConvertOptions, import_graph
from edgenn.errors import ModelFormatError
from edgenn.format import enn, weight_codecs as wc
from edgenn.runtime_py import dataio, memory
from edgenn.runtime_py.interpreter import Interpreter

from boards_common import assert_same_bytes, require, require_board

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "examples" / "digits"
KWS = ROOT / "tests" / "data" / "mlperf_tiny" / "kws_ref_model.tflite"


# ------------------------------------------------------------------------------------ test data


def fib_skewed() -> np.ndarray:
    """22 symbols with Fibonacci frequencies: an unlimited Huffman code would need 21 bits."""
    f = [1, 1]
    while len(f) < 22:
        f.append(f[-1] + f[-2])
    v = np.repeat(np.arange(-11, 11, dtype=np.int8), f)
    np.random.default_rng(7).shuffle(v)
    return v


def sample_arrays() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    out = []
    for n in (1, 2, 3, 7, 63, 64, 65, 255, 1000, 4099):
        out.append((f"uniform{n}", rng.integers(-128, 128, n).astype(np.int8)))
        out.append((f"laplace{n}", np.clip(np.round(rng.laplace(0, 6, n)), -127, 127).astype(np.int8)))
        zeros = np.where(rng.random(n) < 0.9, 0, rng.integers(-127, 128, n))
        out.append((f"zeros90_{n}", zeros.astype(np.int8)))
        out.append((f"single{n}", np.full(n, int(rng.integers(-128, 128)), np.int8)))
        out.append((f"few{n}", rng.choice(np.array([-100, -3, 0, 5, 77], np.int8), n)))
        out.append((f"sixteen{n}", rng.choice(np.arange(-120, 120, 15).astype(np.int8), n)))
    out.append(("all256", rng.permutation(np.arange(-128, 128).astype(np.int8))))
    out.append(("all256x40", rng.permutation(np.repeat(np.arange(-128, 128), 40).astype(np.int8))))
    out.append(("skewed15", fib_skewed()))
    out.append(("laplace100k", np.clip(np.round(rng.laplace(0, 20, 100_000)), -127, 127).astype(np.int8)))
    out.append(("pruned100k", np.where(rng.random(100_000) < 0.5, 0, rng.integers(-127, 128, 100_000)).astype(np.int8)))
    return out


SAMPLES = sample_arrays()


# ------------------------------------------------------------------------------------ codecs


@pytest.mark.parametrize("label,v", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_codecs_round_trip(label, v):
    h = wc.encode_huffman(v)
    assert np.array_equal(wc.decode_huffman(h, v.size), v)
    p = wc.encode_palette(v)
    k = np.unique(v).size
    assert (p is None) == (k > 16)
    if p is not None:
        assert np.array_equal(wc.decode_palette(p, v.size), v)
        assert len(p) == 7 + k + (v.size * wc.palette_bits(k) + 7) // 8
    enc, stream = wc.encode_best(v, "auto")
    sizes = {"raw": v.nbytes, "huffman": len(h), "palette": len(p) if p is not None else 1 << 40}
    assert len(stream) == min(sizes.values()) and sizes[enc] == len(stream)
    if enc != "raw":
        assert np.array_equal(wc.decode(enc, stream, v.size), v)


def test_code_lengths_limited_to_15_bits():
    v = fib_skewed()
    freq = np.bincount(v.view(np.uint8), minlength=256)
    assert wc._huffman_lengths(freq).max() > 15  # the input really needs the limit
    lengths = wc.code_lengths(v)
    assert lengths.max() == 15
    assert np.sum(2.0 ** -lengths[lengths > 0]) == 1.0  # still a complete prefix code
    s = wc.encode_huffman(v)
    assert s[5] == 15
    assert np.array_equal(wc.decode_huffman(s, v.size), v)


def test_compression_of_skewed_data_is_near_entropy():
    v = dict(SAMPLES)["pruned100k"]
    p = np.bincount(v.view(np.uint8), minlength=256) / v.size
    p = p[p > 0]
    entropy_bytes = -(p * np.log2(p)).sum() * v.size / 8
    assert len(wc.encode_huffman(v)) < entropy_bytes * 1.01 + 600


def test_encode_best_methods_fall_back_to_raw():
    uniform = np.random.default_rng(2).integers(-128, 128, 5000).astype(np.int8)
    assert wc.encode_best(uniform, "huffman")[0] == "raw"
    assert wc.encode_best(uniform, "palette")[0] == "raw"  # 256 values: not applicable
    assert wc.encode_best(uniform, "auto") == ("raw", uniform.tobytes())
    few = np.random.default_rng(3).choice(np.array([-9, 0, 9], np.int8), 5000)
    assert wc.encode_best(few, "palette")[0] == "palette"
    assert wc.encode_best(few, "huffman")[0] == "huffman"
    with pytest.raises(ValueError):
        wc.encode_best(few, "zip")


def _mutations(stream: bytes, rng: np.random.Generator, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        s = bytearray(stream)
        kind = rng.integers(4)
        if kind == 0:  # flip bytes, header included
            for _ in range(int(rng.integers(1, 4))):
                s[int(rng.integers(len(s)))] ^= int(rng.integers(1, 256))
        elif kind == 1:  # flip one byte of the first 40 (header and symbol table)
            s[int(rng.integers(min(40, len(s))))] ^= int(rng.integers(1, 256))
        elif kind == 2:
            s = s[: int(rng.integers(len(s)))]
        else:
            s += bytes(rng.integers(0, 256, int(rng.integers(1, 5)), dtype=np.uint8))
        out.append(bytes(s))
    return out


def _fuzz_streams() -> list[tuple[str, bytes, int]]:
    d = dict(SAMPLES)
    vs = [d["laplace1000"], d["zeros90_4099"], d["skewed15"][:3000], d["few255"], d["sixteen1000"], d["single63"]]
    out = []
    for v in vs:
        out.append(("huffman", wc.encode_huffman(v), v.size))
        p = wc.encode_palette(v)
        if p is not None:
            out.append(("palette", p, v.size))
    return out


def test_decoders_reject_damaged_streams_with_one_error_type():
    rng = np.random.default_rng(11)
    rejected = 0
    total = 0
    for enc, stream, n in _fuzz_streams():
        for s in _mutations(stream, rng, 150):
            total += 1
            try:
                out = wc.decode(enc, s, n)
            except ModelFormatError as e:
                assert "\n" not in str(e)
                rejected += 1
                continue
            assert out.dtype == np.int8 and out.shape == (n,)
        for cut in range(len(stream)):  # every truncation is caught (the length is exact)
            with pytest.raises(ModelFormatError):
                wc.decode(enc, stream[:cut], n)
        with pytest.raises(ModelFormatError):
            wc.decode(enc, stream + b"\0", n)
        with pytest.raises(ModelFormatError, match="values"):
            wc.decode(enc, stream, n + 1)
        other = "palette" if enc == "huffman" else "huffman"
        with pytest.raises(ModelFormatError, match="encoding"):
            wc.decode(other, stream, n)
    assert rejected > total // 2


def test_huge_value_count_is_refused_before_allocating():
    s = wc.encode_huffman(np.zeros(100, np.int8))
    big = s[:1] + struct.pack("<I", 2_000_000_000) + s[5:]
    with pytest.raises(ModelFormatError, match="cannot hold"):
        wc.decode_huffman(big, 2_000_000_000)


def test_scratch_layout_round_trip():
    rng = np.random.default_rng(5)
    for _ in range(200):
        k = int(rng.integers(0, 100))
        sizes = [int(s) for s in rng.integers(1, 5000, int(rng.integers(1, 4)))]
        total, offs = wc.scratch_layout(k, sizes)
        assert all(o % 16 == 0 for o in offs) and offs[0] >= k
        assert all(offs[i] + sizes[i] <= offs[i + 1] for i in range(len(sizes) - 1))
        assert total == offs[-1] + sizes[-1]
        kernel, offs2 = wc.split_scratch(total, sizes)
        assert offs2 == offs and kernel == (k + 15) // 16 * 16
    assert wc.split_scratch(100, [200]) is None
    assert wc.scratch_layout(12, []) == (12, [])


# ------------------------------------------------------------------------------------ C decoders


def _compile_c_decoder(tmp_path: Path) -> Path:
    from edgenn.codegen.generate import templates_dir, kernel_prefix_header

    require("gcc")
    d = tmp_path / "cdec"
    d.mkdir()
    # The kernel files as a generated project has them, under the prefix t_.
    for f in ("edgenn_decode.h", "edgenn_decode.c"):
        shutil.copyfile(templates_dir() / "kernels" / f, d / f)
    (d / "edgenn_prefix.h").write_text(kernel_prefix_header([(d / "edgenn_decode.h").read_text()], "t_"))
    (d / "driver.c").write_text(_C_DRIVER)
    base = ["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(d / "dec"), str(d / "driver.c"),
            str(d / "edgenn_decode.c")]
    # With the sanitizers when they link: a read past the stream or a write past n fails the run.
    r = subprocess.run(base + ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        subprocess.run(base, check=True, capture_output=True, text=True)
    return d / "dec"


_C_DRIVER = r"""
/* Records in: u8 method (1 huffman, 2 palette), i32 n, i32 bytes, stream. Out: i32 status, n bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edgenn_decode.h"

int main(int argc, char **argv)
{
    FILE *in = fopen(argv[1], "rb");
    FILE *out = fopen(argv[2], "wb");
    unsigned char method;
    (void)argc;
    while (fread(&method, 1, 1, in) == 1) {
        int32_t n, len, rc;
        uint8_t *src;
        int8_t *dst;
        if (fread(&n, 4, 1, in) != 1 || fread(&len, 4, 1, in) != 1) return 3;
        src = malloc(len ? (size_t)len : 1);  /* exactly the stream: the sanitizer sees any overread */
        dst = malloc(n ? (size_t)n : 1);
        if (len && fread(src, 1, (size_t)len, in) != (size_t)len) return 3;
        memset(dst, 0x55, n ? (size_t)n : 1);
        rc = method == 1 ? t_decode_huffman(src, len, n, dst) : t_decode_palette(src, len, n, dst);
        fwrite(&rc, 4, 1, out);
        fwrite(dst, 1, (size_t)n, out);
        free(src);
        free(dst);
    }
    fclose(out);
    return 0;
}
"""


def _run_c(exe: Path, tmp_path: Path, records: list[tuple[str, bytes, int]]) -> list[tuple[int, np.ndarray]]:
    blob = b"".join(bytes([1 if enc == "huffman" else 2]) + struct.pack("<ii", n, len(s)) + s
                    for enc, s, n in records)
    (tmp_path / "in.bin").write_bytes(blob)
    subprocess.run([str(exe), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")], check=True, timeout=300)
    data = (tmp_path / "out.bin").read_bytes()
    res, pos = [], 0
    for _, _, n in records:
        (rc,) = struct.unpack_from("<i", data, pos)
        res.append((rc, np.frombuffer(data, np.int8, n, pos + 4)))
        pos += 4 + n
    assert pos == len(data)
    return res


def test_c_decoders_match_python(tmp_path):
    exe = _compile_c_decoder(tmp_path)
    records = []
    for _, v in SAMPLES:
        records.append(("huffman", wc.encode_huffman(v), v.size))
        p = wc.encode_palette(v)
        if p is not None:
            records.append(("palette", p, v.size))
    assert any(s[5] == 15 for enc, s, _ in records if enc == "huffman")  # long codes: the slow path runs
    assert {s[6] for enc, s, _ in records if enc == "palette"} == {1, 2, 4}
    for (rc, got), (enc, s, n) in zip(_run_c(exe, tmp_path, records), records):
        assert rc == 0, (enc, n)
        assert got.tobytes() == wc.decode(enc, s, n).tobytes(), (enc, n)


def test_c_decoders_on_damaged_streams(tmp_path):
    """Never a crash or an out-of-bounds access; what Python accepts C decodes identically, and
    C refuses every truncated stream."""
    exe = _compile_c_decoder(tmp_path)
    rng = np.random.default_rng(12)
    records, truncated = [], []
    for enc, stream, n in _fuzz_streams():
        for s in _mutations(stream, rng, 60):
            records.append((enc, s, n))
        for cut in sorted(set(rng.integers(0, len(stream), 20).tolist())):
            truncated.append(len(records))
            records.append((enc, stream[:cut], n))
    results = _run_c(exe, tmp_path, records)
    for i, ((rc, got), (enc, s, n)) in enumerate(zip(results, records)):
        try:
            want = wc.decode(enc, s, n)
        except ModelFormatError:
            want = None
        if i in truncated:
            assert rc != 0
        if want is not None:
            assert rc == 0 and got.tobytes() == want.tobytes()


# ------------------------------------------------------------------------------------ models


@pytest.fixture(scope="module")
def digits_graph():
    return import_graph(DIGITS / "model.onnx", [np.load(DIGITS / "calib.npy")], ConvertOptions(progress=False))


def _weights(g):
    return [g.tensors[op.inputs[1]] for op in g.ops if is_weighted(op.type)]


def pruned(g, share: float = 0.5):
    """Unstructured magnitude pruning of the int8 weights: the smallest ``share`` of each tensor zeroed."""
    g = copy.deepcopy(g)
    for t in _weights(g):
        w = t.data.copy().reshape(-1)
        w[np.argsort(np.abs(w.astype(np.int16)), kind="stable")[: int(share * w.size)]] = 0
        t.data = w.reshape(t.data.shape)
    return g


def clustered(g, k: int = 16):
    """Weight sharing: each int8 weight tensor mapped to its nearest of k evenly spaced values."""
    g = copy.deepcopy(g)
    for t in _weights(g):
        w = t.data.astype(np.int16)
        levels = np.unique(np.round(np.linspace(w.min(), w.max(), k))).astype(np.int16)
        t.data = levels[np.argmin(np.abs(w[..., None] - levels), axis=-1)].astype(np.int8)
    return g


VARIANTS = {"plain": lambda g: copy.deepcopy(g), "pruned": pruned, "clustered": clustered}


def lowered(g, method: str | None):
    g = copy.deepcopy(g)
    if method:
        compress_weights(g, method)
    return to_enn(g, "digits", {"source_sha256": "0" * 64})


@pytest.fixture(scope="module")
def models(digits_graph, tmp_path_factory):
    """(variant, method) -> model read back from its .enn file; method None = uncompressed."""
    d = tmp_path_factory.mktemp("compressed")
    out = {}
    for variant, make in VARIANTS.items():
        g = make(digits_graph)
        for method in (None, "auto", "huffman", "palette"):
            p = d / f"{variant}-{method}.enn"
            enn.save(lowered(g, method), p)
            out[variant, method] = enn.load(p)
    return out


@pytest.fixture(scope="module")
def digits_x(models):
    return dataio.to_internal(models["plain", None], [np.load(DIGITS / "test_x.npy")])


def _stored_buffer_bytes(path_or_model) -> int:
    from edgenn.format.schema.fb import Model as _Model

    data = enn.to_bytes(path_or_model)
    root = _Model.Model.GetRootAs(data, 4)
    return sum(root.Buffers(i).DataLength() for i in range(root.BuffersLength()))


def test_encodings_chosen(models):
    def encs(m):
        return [m.tensors[op.inputs[1]].encoding for op in m.ops if is_weighted(op.type)]

    assert set(encs(models["plain", "palette"])) == {"raw"}  # 150+ distinct values: not applicable
    assert set(encs(models["clustered", "palette"])) == {"palette"}
    pruned = models["pruned", "huffman"]
    assert "huffman" in encs(pruned)
    for op in pruned.ops:  # raw only where Huffman would not save MIN_SAVING of the bytes
        t = pruned.tensors[op.inputs[1]] if is_weighted(op.type) else None
        if t is not None and not t.is_encoded and t.nbytes >= 64:
            assert len(wc.encode_huffman(t.data)) > (1 - MIN_SAVING) * t.nbytes, op.name
    assert set(encs(models["clustered", "auto"])) <= {"palette", "huffman"}
    for m in models.values():  # biases and small tensors stay raw
        for t in m.tensors:
            if t.is_encoded:
                assert t.dtype == "int8" and t.nbytes >= 64


def test_compressed_outputs_identical_in_python(models, digits_x):
    for variant in VARIANTS:
        want = Interpreter(models[variant, None]).invoke(*digits_x)
        for method in ("auto", "huffman", "palette"):
            got = Interpreter(models[variant, method]).invoke(*digits_x)
            assert_same_bytes(f"{variant} {method}", want, got)


def test_flash_cut_and_truthful_analysis(models):
    from edgenn.analysis import analyze

    raw = analyze(models["pruned", None])
    comp = analyze(models["pruned", "auto"])
    assert comp["weights_bytes"] <= 0.7 * raw["weights_bytes"], (comp["weights_bytes"], raw["weights_bytes"])
    for key, m in models.items():
        a = analyze(m)
        assert a["weights_bytes"] == _stored_buffer_bytes(m), key
        assert a["weights_bytes_decoded"] == raw["weights_bytes_decoded"]
        assert a["macs"] == raw["macs"]
        assert sum(layer["weight_bytes"] for layer in a["layers"]) == a["weights_bytes"]
        for layer, op in zip(a["layers"], m.ops):
            encoded = [m.tensors[t] for t in op.inputs if t >= 0 and m.tensors[t].is_encoded]
            assert layer["weights_encoding"] == ("+".join(t.encoding for t in encoded) or "raw")
            if encoded:
                # The decode slots are planned RAM: the layer's scratch holds its decoded weights.
                assert layer["scratch_bytes"] >= sum(t.nbytes for t in encoded)
        memory.check_model_plan(m)
        # The arena pays for the largest decode slot (it lives while its layer runs).
        slots = [t.nbytes for t in m.tensors if t.is_encoded]
        if slots:
            assert a["arena_bytes"] > max(slots)
    assert "B ->" in compression_summary(models["pruned", "auto"])


def test_decode_slot_overlapping_a_live_tensor_is_refused(models):
    m = copy.deepcopy(models["pruned", "huffman"])
    i, op = next((i, op) for i, op in enumerate(m.ops) if op.scratch_bytes)
    op.scratch_offset = m.tensors[op.inputs[0]].arena_offset  # over the layer's own input
    with pytest.raises(ModelFormatError, match="memory plan"):
        Interpreter(m)


def test_scratch_too_small_for_the_decode_slots_is_refused(models, tmp_path):
    m = copy.deepcopy(models["pruned", "huffman"])
    op = next(op for op in m.ops if op.scratch_bytes)
    op.scratch_bytes -= 1
    enn.save(m, tmp_path / "bad.enn")
    with pytest.raises(ModelFormatError, match="decode slots"):
        enn.load(tmp_path / "bad.enn")


def test_decoded_weights_sit_in_the_arena(models, digits_x):
    """runtime_py, like the C, hands the kernel the weights decoded into the layer's arena slot."""
    m = models["pruned", "auto"]
    interp = Interpreter(m)
    i = next(i for i, s in enumerate(interp._slots) if s)
    (k, off), = interp._slots[i]
    seen = {}

    class Spy:
        def __init__(self, kern):
            self.kern = kern

        def run(self, op, model, ins, outs, scratch):
            seen["w"] = ins[k].copy()  # the slot is reused by later layers
            seen["base"] = ins[k].__array_interface__["data"][0] - outs[0].base.__array_interface__["data"][0] \
                if outs[0].base is not None else None
            self.kern.run(op, model, ins, outs, scratch)

    interp._kernels[i] = Spy(interp._kernels[i])
    got = interp.invoke(*[x[:40] for x in digits_x])
    assert np.array_equal(seen["w"], m.tensors[m.ops[i].inputs[k]].data)
    assert seen["base"] is not None and seen["base"] % m.arena_bytes == off
    assert_same_bytes("spied", Interpreter(models["pruned", None]).invoke(*[x[:40] for x in digits_x]), got)


def test_generated_c_decodes_before_the_layer(models, tmp_path):
    from edgenn.boards import get_board
    from edgenn.codegen.generate import library_dir, render_model

    m = models["clustered", "auto"]
    d = library_dir(render_model(m, tmp_path / "gen", get_board("host")), m.name)
    src = (d / "src" / f"{m.name}.c").read_text()
    assert src.count("decode_palette(") + src.count("decode_huffman(") == sum(t.is_encoded for t in m.tensors)
    assert '#include "kernels/edgenn_decode.h"' in src and (d / "src" / "kernels" / "edgenn_decode.c").exists()
    for build_file in (f"{m.name}.mk", "CMakeLists.txt", "zephyr/CMakeLists.txt"):
        assert "src/kernels/edgenn_decode.c" in (d / build_file).read_text(), build_file
    weights = (d / "src" / f"{m.name}_weights.c").read_text()
    enc = next(t for t in m.tensors if t.is_encoded)
    assert f"{enc.encoding}-encoded: {len(enc.encoded):,} B for {enc.nbytes:,} B" in weights
    p = models["plain", None]
    plain = library_dir(render_model(p, tmp_path / "plain", get_board("host")), p.name)
    assert "edgenn_decode" not in (plain / "src" / f"{p.name}.c").read_text()
    assert not (plain / "src" / "kernels" / "edgenn_decode.c").exists()


def test_host_c_bit_exact(models, digits_x):
    from edgenn.emulation import backends as be

    require("gcc", "make")
    for key in (("pruned", "auto"), ("clustered", "palette"), ("plain", "huffman")):
        want = be.run(models[key], digits_x, "python")
        assert_same_bytes(f"{key} host", want, be.run(models[key], digits_x, "host"))


QEMU_CASES = [("mps2-an386", "pruned", "auto"), ("mps2-an386", "clustered", "palette"),
              ("mps3-an547", "pruned", "huffman"), ("mps3-an547", "clustered", "palette"),
              ("microbit", "pruned", "auto"), ("microbit", "clustered", "palette"),
              ("rpi4", "pruned", "auto")]


@pytest.mark.qemu
@pytest.mark.parametrize("board,variant,method", QEMU_CASES, ids=["-".join(c) for c in QEMU_CASES])
def test_emulated_boards_bit_exact(models, digits_x, board, variant, method):
    from edgenn.boards import get_board
    from edgenn.emulation import backends as be

    b = get_board(board)
    require_board(b)
    m = models[variant, method]
    assert any(t.is_encoded for t in m.tensors)
    xs = [x[:120] for x in digits_x]
    want = be.run(models[variant, None], xs, "python")
    assert_same_bytes(f"{variant} {method} on {board}", want, be.run(m, xs, "qemu", b, timeout=300))


def test_tflite_model_compresses_bit_exact():
    """The TFLite import path: KWS with half its weights zeroed, compressed, equals uncompressed."""
    if not KWS.exists():
        pytest.skip(f"{KWS} is missing")
    from edgenn.converter.tflite_import import import_tflite

    g = pruned(import_tflite(KWS.read_bytes(), str(KWS)))
    raw = to_enn(copy.deepcopy(g), "kws")
    comp = lowered(g, "auto")
    assert sum(t.is_encoded for t in comp.tensors) >= 5
    comp = enn.from_bytes(enn.to_bytes(comp))
    rng = np.random.default_rng(0)
    xs = [rng.integers(-128, 128, (6,) + tuple(raw.tensors[d.tensor].shape), dtype=np.int16).astype(np.int8)
          for d in raw.inputs]
    assert_same_bytes("kws compressed", Interpreter(raw).invoke(*xs), Interpreter(comp).invoke(*xs))


# ------------------------------------------------------------------------------------ CLI


def edgenn(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgenn", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def test_cli_compress_option(tmp_path):
    import json

    base = ["convert", DIGITS / "model.onnx", "--calib", DIGITS / "calib.npy", "--prune", "unstructured:0.5"]
    r = edgenn(*base, "-o", tmp_path / "a.enn", "--compress")
    assert r.returncode == 0, r.stderr
    assert "compressed weights:" in r.stderr and "huffman" in r.stderr
    m = enn.load(tmp_path / "a.enn")
    assert '"compress": "auto"' in m.provenance["options_json"]
    r = edgenn(*base[:4], "-o", tmp_path / "plain.enn", "--compress")
    assert r.returncode == 0 and "5 raw" in r.stderr  # unpruned digits: no tensor would save 10 %
    r = edgenn(*base, "-o", tmp_path / "p.enn", "--compress", "palette")
    assert r.returncode == 0, r.stderr
    assert "5 raw" in r.stderr  # digits' weights take too many values for a palette
    r = edgenn(*base, "-o", tmp_path / "z.enn", "--compress", "zip")
    assert r.returncode == 2 and "zip" in r.stderr and not (tmp_path / "z.enn").exists()
    r = edgenn("analyze", tmp_path / "a.enn", "--json")
    a = json.loads(r.stdout)
    assert a["weights_bytes"] == _stored_buffer_bytes(m) < a["weights_bytes_decoded"]
    assert {layer["weights_encoding"] for layer in a["layers"]} == {"raw", "huffman"}
    r = edgenn("analyze", tmp_path / "a.enn")
    assert r.returncode == 0 and "compressed from" in r.stdout


@pytest.mark.parametrize("damage", ["counts", "truncate", "symbols"])
def test_cli_run_reports_a_damaged_stream(models, tmp_path, damage):
    m = copy.deepcopy(models["pruned", "huffman"])
    t = next(t for t in m.tensors if t.encoding == "huffman")
    s = bytearray(t.encoded)
    if damage == "counts":
        s[6] ^= 0x7F  # count of 1-bit codes: no longer a prefix code
    elif damage == "truncate":
        s = s[:-3]
    else:
        L = s[5]
        s[6 + 2 * L + 1] = s[6 + 2 * L]  # a repeated symbol
    t.encoded = bytes(s)
    p = tmp_path / "bad.enn"
    enn.save(m, p)  # the saver computes the CRC over the damaged bytes: the decoder must catch it
    x = tmp_path / "x.npy"
    np.save(x, np.load(DIGITS / "test_x.npy")[:2])
    r = edgenn("run", p, "-i", x, "-o", tmp_path / "y.npy")
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "huffman stream" in lines[0] and t.name in lines[0]
    assert not (tmp_path / "y.npy").exists()

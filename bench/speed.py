"""Speed of the Python reference (runtime_py), and conversion time.

- MLPerf Tiny: runtime_py inferences per second on batches of 100 seeded int8 inputs vs the
  `tflite-micro` package's host interpreter (TFLM reference kernels), one inference at a time;
- digits: runtime_py vs onnxruntime's float model, same data;
- conversion time of the digits example (with calibration) and of the MLPerf models.

Usage: python bench/speed.py [--write]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MLPERF, MLPERF_DIR, ROOT, convert_mlperf, md_table, write_section  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("-n", type=int, default=100)
    args = ap.parse_args()
    from edgenn.emulation.tflm import interpreter
    from edgenn.runtime_py.interpreter import Interpreter

    n = args.n
    rows = []
    conv_rows = []
    for key, fname in MLPERF.items():
        t0 = time.perf_counter()
        m = convert_mlperf(key)
        conv_rows.append([f"{key} (.tflite import + plan)", f"{time.perf_counter() - t0:.2f}"])
        t = m.tensors[m.inputs[0].tensor]
        x = np.random.default_rng(0).integers(-128, 128, (n,) + tuple(t.shape)).astype(np.int8)
        it = Interpreter(m)
        py = best_of(lambda: it.invoke(x))
        tf = interpreter((MLPERF_DIR / fname).read_bytes())
        shape = tuple(tf.get_input_details(0)["shape"])

        def run_tflm():
            for i in range(n):
                tf.set_input(x[i].reshape(shape), 0)
                tf.invoke()
        tfl = best_of(run_tflm, 2)
        rows.append([key, f"{py / n * 1e3:.2f}", f"{n / py:,.0f}", f"{tfl / n * 1e3:.2f}", f"{n / tfl:,.0f}",
                     f"{tfl / py:.1f}x"])
        print(f"{key}: runtime_py {py / n * 1e3:.2f} ms, TFLM {tfl / n * 1e3:.2f} ms", file=sys.stderr)

    # digits: runtime_py vs onnxruntime float
    from edgenn.converter.calibrate import ort_session
    from edgenn.converter.pipeline import ConvertOptions, convert
    from edgenn.runtime_py import dataio
    import onnx

    ex = ROOT / "examples" / "digits"
    calib = np.load(ex / "calib.npy")
    t0 = time.perf_counter()
    m = convert(ex / "model.onnx", [calib], ConvertOptions(progress=False))
    conv_rows.insert(0, ["digits (ONNX import, 200-sample calibration, quantize, plan)", f"{time.perf_counter() - t0:.2f}"])
    x = np.load(ex / "test_x.npy")
    xq = dataio.to_internal(m, [x])
    it = Interpreter(m)
    py = best_of(lambda: it.invoke(*xq))
    model = onnx.load(str(ex / "model.onnx"))
    sess = ort_session(model)
    ort_batch1 = best_of(lambda: [sess.run(None, {"input": x[i:i + 1]}) for i in range(len(x))])
    # The same float model with a free batch dimension, run on the whole test set at once.
    batched = onnx.ModelProto()
    batched.CopyFrom(model)
    for vi in list(batched.graph.input) + list(batched.graph.output):
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    del batched.graph.value_info[:]
    sess_n = ort_session(batched)
    ort_batch = best_of(lambda: sess_n.run(None, {"input": x}))
    digits = md_table(["model", "runtime_py int8 ms/inference (batch of 360)",
                       "onnxruntime float ms/inference (batch of 360)", "onnxruntime float, batch 1"],
                      [["digits", f"{py / len(x) * 1e3:.4f}", f"{ort_batch / len(x) * 1e3:.4f}",
                        f"{ort_batch1 / len(x) * 1e3:.4f}"]])
    table = md_table(["model", "runtime_py ms/inf (batch 100)", "runtime_py inf/s", "TFLM package ms/inf",
                      "TFLM inf/s", "runtime_py speed-up"], rows)
    conv = md_table(["conversion", "seconds"], conv_rows)
    text = ("### Python reference speed\n\n" + table + "\n\n" + digits +
            "\n\nruntime_py runs a batch inside a batch of planned arenas, vectorized over samples "
            "(convolutions as exact float64 BLAS products, requantization in int64); TFLM's package runs "
            "its reference kernels one inference at a time. Best of 3 (TFLM: 2) runs on this 2-core machine.\n\n"
            "### Conversion time\n\n" + conv)
    print(text)
    if args.write:
        write_section("speed", text)


if __name__ == "__main__":
    main()

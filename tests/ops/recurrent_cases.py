"""Single-operator cases and .tflite models of the recurrent operators (lstm, gru, rnn, svdf),
shared by their op tests: random sizes, scales and zero points, TFLM's fixed internal scales."""
from __future__ import annotations

import numpy as np

from common import rand_scale, rand_zp
from harness import Case, T


def rand_weights(rng, shape: tuple[int, ...], dtype: str = "int8") -> np.ndarray:
    """Random int8 (symmetric, -127..127) or int16 weights, sometimes with small values only."""
    hi = 127 if dtype == "int8" else 32767
    lim = int(rng.choice([hi, hi, hi // 8 + 1]))
    return rng.integers(-lim, lim + 1, size=shape).astype(dtype)


def sequence_shapes(rng, max_steps: int = 6, max_batch: int = 3, max_in: int = 12, max_hidden: int = 10):
    """(steps, batch, input size, hidden size, time_major)."""
    return (int(rng.integers(1, max_steps + 1)), int(rng.integers(1, max_batch + 1)), int(rng.integers(1, max_in + 1)),
            int(rng.integers(1, max_hidden + 1)), bool(rng.integers(0, 2)))


def lstm_case(rng, stateful: bool = False, reverse: bool | None = None) -> Case:
    """A random int8 lstm: per-tensor weights, int32 biases of scale input x weight, int8 hidden
    state and int16 cell state of scale 2^-p (with random initial values: a reset writes them)."""
    steps, batch, n_in, hidden, tm = sequence_shapes(rng)
    sx, zx = rand_scale(rng, 0.005, 0.1), rand_zp(rng)
    sh, zh = rand_scale(rng, 0.004, 0.02), rand_zp(rng)
    power = int(rng.integers(-15, -8))
    ins: list[T | None] = [T((steps, batch, n_in) if tm else (batch, steps, n_in), sx, zx)]
    wscales = []
    for k in range(8):
        s = rand_scale(rng, 0.0005, 0.03)
        wscales.append(s)
        ins.append(T((hidden, n_in if k < 4 else hidden), s, 0, rand_weights(rng, (hidden, n_in if k < 4 else hidden))))
    for k in range(4):
        ins.append(T((hidden,), sx * wscales[k], 0, rng.integers(-30000, 30000, size=hidden).astype(np.int32),
                     "int32"))
    ins.append(T((batch, hidden), sh, zh, rng.integers(-128, 128, size=(batch, hidden)).astype(np.int8),
                 variable=True))
    ins.append(T((batch, hidden), 2.0 ** power, 0, rng.integers(-20000, 20000, size=(batch, hidden)).astype(np.int16),
                 "int16", variable=True))
    clip = float(rng.choice([0.0, 0.0, rand_scale(rng, 0.5, 4.0)]))
    # A stateful (streaming) layer runs forward only: a reverse direction needs the whole sequence.
    attrs = {"time_major": tm, "reverse": (not stateful and bool(rng.integers(0, 2))) if reverse is None else reverse,
             "cell_clip": clip or None, "cell_gate": str(rng.choice(["tanh", "tanh", "sigmoid"]))}
    y_shape = (steps, batch, hidden) if tm else (batch, steps, hidden)
    return Case("lstm", ins, [T(y_shape, sh, zh)], attrs, stateful=stateful)


def lstm_tflite(rng) -> bytes:
    """A single UNIDIRECTIONAL_SEQUENCE_LSTM .tflite as TensorFlow's converter writes one (24 inputs,
    variable int8 hidden and int16 cell state, per-tensor weights), random parameters."""
    from tflite_builder import TfOp, TfTensor, build

    c = lstm_case(rng, reverse=False)
    tm = c.attrs["time_major"]
    x, y = c.inputs[0], c.outputs[0]
    ts = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point)]
    idx = [0]
    names = ["i2i", "i2f", "i2c", "i2o", "r2i", "r2f", "r2c", "r2o", "bi", "bf", "bc", "bo"]
    for nm, t in zip(names, c.inputs[1:13]):
        idx.append(len(ts))
        ts.append(TfTensor(nm, t.shape, t.dtype, t.scale, 0, data=t.data))
    h, cs = c.inputs[13], c.inputs[14]
    h_i = len(ts)
    ts.append(TfTensor("h", h.shape, "int8", h.scale, h.zero_point, variable=True))
    ts.append(TfTensor("c", cs.shape, "int16", cs.scale, 0, variable=True))
    ts.append(TfTensor("y", y.shape, "int8", y.scale, y.zero_point))
    inputs = idx[:9] + [-1, -1, -1] + idx[9:13] + [-1, -1, h_i, h_i + 1, -1, -1, -1, -1]
    fields = {"FusedActivationFunction": 4, "CellClip": float(c.attrs["cell_clip"] or 0.0), "ProjClip": 0.0,
              "TimeMajor": tm, "AsymmetricQuantizeInputs": False}
    op = TfOp("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [h_i + 2], "UnidirectionalSequenceLSTMOptions", fields)
    return build(ts, [op], [0], [h_i + 2])


def _gate_inputs(rng, gates: int, n_in: int, hidden: int, sx: float, sh: float):
    """Per gate: input weights, recurrent weights (per-tensor int8) and their scales."""
    wx, wh, sw, sr = [], [], [], []
    for _ in range(gates):
        s = rand_scale(rng, 0.0005, 0.03)
        sw.append(s)
        wx.append(T((hidden, n_in), s, 0, rand_weights(rng, (hidden, n_in))))
    for _ in range(gates):
        s = rand_scale(rng, 0.0005, 0.03)
        sr.append(s)
        wh.append(T((hidden, hidden), s, 0, rand_weights(rng, (hidden, hidden))))
    return wx, wh, sw, sr


def _bias(rng, n: int, scale: float) -> T:
    return T((n,), scale, 0, rng.integers(-30000, 30000, size=n).astype(np.int32), "int32")


def gru_case(rng, stateful: bool = False) -> Case:
    """A random gru (linear_before_reset either way, optional biases, random initial hidden state)."""
    steps, batch, n_in, hidden, tm = sequence_shapes(rng)
    sx, zx = rand_scale(rng, 0.005, 0.1), rand_zp(rng)
    sh, zh = rand_scale(rng, 0.004, 0.02), rand_zp(rng)
    lbr = bool(rng.integers(0, 2))
    wx, wh, sw, sr = _gate_inputs(rng, 3, n_in, hidden, sx, sh)
    biases = [_bias(rng, hidden, sx * s) if rng.integers(0, 4) else None for s in sw]
    rbias = _bias(rng, hidden, sh * sr[2]) if lbr and rng.integers(0, 4) else None
    h = T((batch, hidden), sh, zh, rng.integers(-128, 128, size=(batch, hidden)).astype(np.int8), variable=True)
    ins = [T((steps, batch, n_in) if tm else (batch, steps, n_in), sx, zx)] + wx + wh + biases + [rbias, h]
    attrs = {"time_major": tm, "reverse": not stateful and bool(rng.integers(0, 2)), "linear_before_reset": lbr}
    return Case("gru", ins, [T((steps, batch, hidden) if tm else (batch, steps, hidden), sh, zh)], attrs,
                stateful=stateful)


def rnn_case(rng, stateful: bool = False) -> Case:
    """A random rnn (tanh or sigmoid, optional bias, random initial hidden state)."""
    steps, batch, n_in, hidden, tm = sequence_shapes(rng)
    sx, zx = rand_scale(rng, 0.005, 0.1), rand_zp(rng)
    sh, zh = rand_scale(rng, 0.004, 0.02), rand_zp(rng)
    wx, wh, sw, _ = _gate_inputs(rng, 1, n_in, hidden, sx, sh)
    bias = _bias(rng, hidden, sx * sw[0]) if rng.integers(0, 4) else None
    h = T((batch, hidden), sh, zh, rng.integers(-128, 128, size=(batch, hidden)).astype(np.int8), variable=True)
    ins = [T((steps, batch, n_in) if tm else (batch, steps, n_in), sx, zx)] + wx + wh + [bias, h]
    attrs = {"time_major": tm, "reverse": not stateful and bool(rng.integers(0, 2)),
             "activation": str(rng.choice(["tanh", "tanh", "sigmoid"]))}
    return Case("rnn", ins, [T((steps, batch, hidden) if tm else (batch, steps, hidden), sh, zh)], attrs,
                stateful=stateful)


def svdf_case(rng, stateful: bool = True, bias: bool | None = None) -> Case:
    """A random int8 svdf: int16 (or int8) time weights and state, rank 1-3, optional bias."""
    batch, n_in = int(rng.integers(1, 3)), int(rng.integers(1, 16))
    rank, units, memory = int(rng.integers(1, 4)), int(rng.integers(1, 8)), int(rng.integers(1, 10))
    filters = rank * units
    int8_state = bool(rng.integers(0, 4) == 0)
    sdt = "int8" if int8_state else "int16"
    sx, zx = rand_scale(rng, 0.005, 0.1), rand_zp(rng)
    sf = rand_scale(rng, 0.001, 0.05)
    ss = rand_scale(rng, 0.001, 0.05) if int8_state else rand_scale(rng, 2e-5, 1e-3)
    zs = rand_zp(rng) if int8_state else 0
    st = rand_scale(rng, 0.001, 0.05) if int8_state else rand_scale(rng, 1e-5, 1e-3)
    sy, zy = rand_scale(rng, 0.005, 0.2), rand_zp(rng)
    bias = T((units,), float(np.float32(ss) * np.float32(st)), 0,
             rng.integers(-20000, 20000, size=units).astype(np.int32), "int32") \
        if (rng.integers(0, 4) if bias is None else bias) else None
    lo, hi = (-128, 128) if int8_state else (-4000, 4000)
    ins = [T((batch, n_in), sx, zx), T((filters, n_in), sf, 0, rand_weights(rng, (filters, n_in))),
           T((filters, memory), st, 0, rand_weights(rng, (filters, memory), sdt), sdt), bias,
           T((batch, memory * filters), ss, zs, rng.integers(lo, hi, size=(batch, memory * filters)).astype(sdt), sdt,
             variable=True)]
    return Case("svdf", ins, [T((batch, units), sy, zy)], {"rank": rank}, stateful=stateful)


def svdf_tflite(rng) -> bytes:
    """A single SVDF .tflite (variable activation state reset to zero by TFLM), random parameters; with
    a bias (TFLM's Prepare reads the bias's scale unconditionally: it crashes without one)."""
    from tflite_builder import TfOp, TfTensor, build

    c = svdf_case(rng, bias=True)
    x, wf, wt, b, s = c.inputs
    y = c.outputs[0]
    ts = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point),
          TfTensor("wf", wf.shape, "int8", wf.scale, 0, data=wf.data),
          TfTensor("wt", wt.shape, wt.dtype, wt.scale, 0, data=wt.data)]
    bi = -1
    if b is not None:
        bi = len(ts)
        ts.append(TfTensor("b", b.shape, "int32", b.scale, 0, data=b.data))
    si = len(ts)
    ts.append(TfTensor("state", s.shape, s.dtype, s.scale, s.zero_point, variable=True))
    ts.append(TfTensor("y", y.shape, "int8", y.scale, y.zero_point))
    op = TfOp("SVDF", [0, 1, 2, bi, si], [si + 1], "SVDFOptions",
              {"Rank": c.attrs["rank"], "FusedActivationFunction": int(rng.choice([0, 1])),
               "AsymmetricQuantizeInputs": False})
    return build(ts, [op], [0], [si + 1])

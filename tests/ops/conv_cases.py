"""Cases of the convolutions (conv2d, depthwise_conv2d), shared by their op tests.

- naive, obviously-correct transcriptions of TFLM's reference ConvPerChannel and
  DepthwiseConvPerChannel (pure Python ints, TFLM's loop order and names);
- random case generators for the harness;
- the TFLM judge: single-op CONV_2D / DEPTHWISE_CONV_2D .tflite models built with
  tests/tflite_builder.py, run by TFLM, compared with edgenn (through the TFLite importer when it
  exists, otherwise through a local adapter that maps the .tflite case to a harness Case).
"""
from __future__ import annotations


import numpy as np

from harness import Case, T, check_cases
import tflm_ref as ref
from tflm_ref import mbqm

# ----------------------------------------------------------------------------- naive TFLM
def naive_conv(x, w, b, o, out_shape):
    """TFLM reference_integer_ops::ConvPerChannel, transcribed; x (N,H,W,Ci), w (Co,KH,KW,Cig)."""
    x = x.tolist()
    wl = w.tolist()
    bl = None if b is None else [int(v) for v in b]
    batches, input_height, input_width, input_depth = out_shape[0], len(x[0]), len(x[0][0]), len(x[0][0][0])
    output_depth, filter_height, filter_width, filter_input_depth = w.shape
    groups = input_depth // filter_input_depth
    filters_per_group = output_depth // groups
    output_height, output_width = out_shape[1], out_shape[2]
    out = np.zeros(out_shape, np.int8)
    for batch in range(batches):
        for out_y in range(output_height):
            in_y_origin = out_y * o["stride_h"] - o["pad_top"]
            for out_x in range(output_width):
                in_x_origin = out_x * o["stride_w"] - o["pad_left"]
                for out_channel in range(output_depth):
                    group = out_channel // filters_per_group
                    acc = 0
                    for filter_y in range(filter_height):
                        in_y = in_y_origin + o["dilation_h"] * filter_y
                        for filter_x in range(filter_width):
                            in_x = in_x_origin + o["dilation_w"] * filter_x
                            if not (0 <= in_x < input_width and 0 <= in_y < input_height):
                                continue
                            for in_channel in range(filter_input_depth):
                                input_val = x[batch][in_y][in_x][in_channel + group * filter_input_depth]
                                filter_val = wl[out_channel][filter_y][filter_x][in_channel]
                                acc = ref.wrap(acc + filter_val * (input_val + o["input_offset"]))
                    if bl is not None:
                        acc = ref.wrap(acc + bl[out_channel])
                    acc = mbqm(acc, int(o["out_multiplier"][out_channel]), int(o["out_shift"][out_channel]))
                    acc += o["output_offset"]
                    acc = min(max(acc, o["act_min"]), o["act_max"])
                    out[batch, out_y, out_x, out_channel] = acc
    return out


def naive_depthwise(x, w, b, o, out_shape):
    """TFLM reference_integer_ops::DepthwiseConvPerChannel, transcribed; w (1,KH,KW,Ci*mult)."""
    x = x.tolist()
    wl = w.tolist()
    bl = None if b is None else [int(v) for v in b]
    batches, output_height, output_width, _ = out_shape
    input_height, input_width, input_depth = len(x[0]), len(x[0][0]), len(x[0][0][0])
    _, filter_height, filter_width, _ = w.shape
    depth_multiplier = o["depth_multiplier"]
    out = np.zeros(out_shape, np.int8)
    for batch in range(batches):
        for out_y in range(output_height):
            for out_x in range(output_width):
                for in_channel in range(input_depth):
                    for m in range(depth_multiplier):
                        output_channel = m + in_channel * depth_multiplier
                        in_x_origin = out_x * o["stride_w"] - o["pad_left"]
                        in_y_origin = out_y * o["stride_h"] - o["pad_top"]
                        acc = 0
                        for filter_y in range(filter_height):
                            for filter_x in range(filter_width):
                                in_x = in_x_origin + o["dilation_w"] * filter_x
                                in_y = in_y_origin + o["dilation_h"] * filter_y
                                if 0 <= in_x < input_width and 0 <= in_y < input_height:
                                    input_val = x[batch][in_y][in_x][in_channel]
                                    filter_val = wl[0][filter_y][filter_x][output_channel]
                                    acc = ref.wrap(acc + filter_val * (input_val + o["input_offset"]))
                        if bl is not None:
                            acc = ref.wrap(acc + bl[output_channel])
                        acc = mbqm(acc, int(o["out_multiplier"][output_channel]),
                                   int(o["out_shift"][output_channel]))
                        acc += o["output_offset"]
                        acc = min(max(acc, o["act_min"]), o["act_max"])
                        out[batch, out_y, out_x, output_channel] = acc
    return out


# ----------------------------------------------------------------------------- random cases
ACTS = [(None, None), (0.0, None), (0.0, 6.0), (-1.0, 1.0)]


def same_padding(size: int, k: int, stride: int, dilation: int) -> tuple[int, int, int]:
    """TFLite SAME: (output size, pad before, pad after) as padding.h ComputePaddingHeightWidth."""
    out = (size + stride - 1) // stride
    eff = (k - 1) * dilation + 1
    total = max(0, (out - 1) * stride + eff - size)
    return out, total // 2, total - total // 2


def _pads_1d(rng, size, k, s, d, mode):
    eff = (k - 1) * d + 1
    if mode == "valid":
        a, b = 0, 0
    elif mode == "same":
        _, a, b = same_padding(size, k, s, d)
    elif mode == "symmetric":
        a = b = int(rng.integers(0, eff))
    elif mode == "asymmetric":
        a, b = (int(v) for v in rng.integers(0, eff + 1, size=2))
    else:  # "large": more padding than any output needs (whole output rows of padding only)
        a, b = (int(v) for v in rng.integers(eff, eff + 3, size=2))
    while size + a + b < eff:  # at least one output position
        b += 1
    return a, b, (size + a + b - eff) // s + 1


def random_case(rng: np.random.Generator, depthwise: bool, small: bool = False, dsp: bool = False,
                wide: tuple[int, int] | None = None, hw: tuple[int, int] | None = None,
                channels: int | None = None) -> Case:
    """One random conv2d / depthwise_conv2d case (parameters as the brief lists them). dsp: the
    shapes of the DSP build's fast paths (templates/kernels/conv2d.c, depthwise_conv2d.c): one group
    or depth multiplier 1, input channels in fours, 3x3 (depthwise) or 3x3 / 1x1 filters, stride 1
    or 2, no dilation, a bias; pixel counts odd and even. wide: (lo, hi) draws the input channels
    (per group) from that range instead, one group, and puts -128 among the weights: the vector
    paths (NEON: sixteen channels, sixteen bytes per step) with their tails. hw: the input's height
    and width, "same" padding, the int8-range clamp and an output scale that needs no left shift
    (with dsp: windows cut by the padding to one or two rows or columns, e.g. an input one pixel
    wide, on the fast paths). channels: a depthwise case's channels, a conv2d case's output
    channels (one group)."""
    batches = 1 if small or rng.random() < 0.8 else 2
    hmax = 7 if small else 11
    h, w = int(rng.integers(1, hmax)), int(rng.integers(1, hmax))
    kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    if rng.random() < 0.3:
        kw = kh  # square kernels often, non-square otherwise
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    dh, dw = int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2]))
    mode = str(rng.choice(["valid", "same", "symmetric", "asymmetric", "large"], p=[0.2, 0.3, 0.15, 0.25, 0.1]))
    pointwise = not small and rng.random() < 0.06  # 1x1, stride 1, unpadded: the C fast path
    if dsp:
        kh = kw = 3 if depthwise or rng.random() < 0.5 else 1
        sh = sw = int(rng.choice([1, 1, 2]))
        dh = dw = 1
        mode = str(rng.choice(["valid", "same"]))
        pointwise = kh == 1 and sh == 1 and rng.random() < 0.7
    if pointwise:
        kh = kw = sh = sw = 1
        mode = "valid"
    if hw is not None:
        h, w = hw
        mode = "same"
    pt, pb, ho = _pads_1d(rng, h, kh, sh, dh, mode)
    pl, pr, wo = _pads_1d(rng, w, kw, sw, dw, mode)
    if depthwise:
        if wide:
            ci = int(rng.integers(*wide))
        else:
            ci = int(rng.integers(1, 5 if small else 10)) if not dsp else 4 * int(rng.integers(1, 7))
        if channels is not None:
            ci = channels
        mult = int(rng.choice([1, 1, 2, 3])) if not dsp else 1
        co = ci * mult
        wshape, axis = (1, kh, kw, co), 3
        extra = {"depth_multiplier": mult}
        depth = kh * kw
    else:
        groups = 1 if pointwise or dsp or wide or rng.random() < 0.7 else int(rng.integers(2, 5))
        cig = int(rng.integers(1, 4 if small else (9 if groups == 1 else 5)))
        if not small and groups == 1 and rng.random() < 0.15:
            cig = int(rng.integers(9, 33))
        if dsp:
            cig = 4 * int(rng.integers(1, 17))
        if wide:
            cig = int(rng.integers(*wide))
        ci = cig * groups
        co = groups * int(rng.integers(1, 4 if small else (9 if groups == 1 else 4)))
        if channels is not None:
            groups, ci, co = 1, cig, channels
        wshape, axis = (co, kh, kw, cig), 0
        extra = {"groups": groups}
        depth = kh * kw * cig
    wq = rng.integers(-127, 128, size=wshape).astype(np.int8)
    if rng.random() < 0.2:
        wq[..., 0] = 127  # full-range weights
    if wide:
        wq[rng.random(wshape) < 0.1] = -128  # products of -128 (int16 limits of the vector paths)
    per_channel = rng.random() < 0.85
    wsc = rng.uniform(0.001, 0.05, size=co if per_channel else 1).astype(np.float32)
    if dsp and per_channel and rng.random() < 0.3:
        wsc[int(rng.integers(0, co))] = 1e-12  # a dead channel: requantization multiplier 0
    xs = float(rng.uniform(0.005, 0.1))
    # Output scale from tiny (saturation, left shifts) to large (values near the zero point).
    factor = float(rng.choice([0.002, 0.05, 0.5, 2, 20] if hw is None else [0.5, 2]))
    ys = float(xs * float(wsc.mean()) * np.sqrt(depth) * factor * 40)
    bscale = xs * (wsc if per_channel else np.full(co, wsc[0], np.float32))
    bias = None
    if dsp or rng.random() < 0.75:
        # Rarely a bias near the int32 limits: the accumulator wraps as TFLM's does.
        lim = int(rng.choice([100, 20000, 1 << 22, (1 << 31) - 1], p=[0.3, 0.4, 0.27, 0.03]))
        bias = T((co,), bscale, 0, rng.integers(-lim, lim, size=co).astype(np.int32), "int32")
    zps = [-128, 127, 0]
    xzp = int(rng.choice(zps + [int(rng.integers(-128, 128))]))
    yzp = int(rng.choice(zps + [int(rng.integers(-128, 128))]))
    act = ACTS[int(rng.integers(0, len(ACTS)))] if hw is None else ACTS[0]
    return Case(
        "depthwise_conv2d" if depthwise else "conv2d",
        [T((batches, h, w, ci), xs, xzp), T(wshape, wsc, 0, wq, axis=axis), bias],
        [T((batches, ho, wo, co), ys, yzp)],
        {"stride": (sh, sw), "dilation": (dh, dw), "pads": (pt, pl, pb, pr), "act": act, **extra})


def any_left_shift(cases: list[Case]) -> bool:
    """Whether some case has an output channel with multiplier > 1 (a positive shift)."""
    from edgenn.converter.ops.common import channel_multipliers

    for c in cases:
        co = c.outputs[0].shape[-1]
        _, shifts = channel_multipliers(float(np.float32(c.inputs[0].scale)), np.asarray(c.inputs[1].scale),
                                        float(np.float32(c.outputs[0].scale)), co)
        if np.any(shifts > 0):
            return True
    return False


def run_naive_checks(depthwise: bool, n_cases: int = 30, seed: int = 7) -> int:
    """Python kernel (through the interpreter) == naive TFLM transcription; returns outputs compared."""
    from harness import build_model, random_inputs
    from edgenn.runtime_py.interpreter import Interpreter

    rng = np.random.default_rng(seed)
    compared = 0
    naive = naive_depthwise if depthwise else naive_conv
    for i in range(n_cases):
        case = random_case(rng, depthwise, small=True)
        model = build_model(case, f"n{i}")
        xs = random_inputs(model, 4, rng)
        got = Interpreter(model).invoke(*xs)[0]
        opts = model.ops[0].options
        w = case.inputs[1].data
        b = case.inputs[2].data if case.inputs[2] is not None else None
        for s in range(xs[0].shape[0]):
            ref = naive(xs[0][s], w, b, opts, case.outputs[0].shape)
            if not np.array_equal(ref, got[s]):
                bad = np.argwhere(ref != got[s])
                raise AssertionError(f"case {i} {case.attrs} in {case.inputs[0].shape} w {w.shape}: python kernel "
                                     f"differs from naive TFLM at {len(bad)} outputs, first {tuple(bad[0])}: "
                                     f"{got[s][tuple(bad[0])]} vs {ref[tuple(bad[0])]}")
            compared += ref.size
    return compared


# ----------------------------------------------------------------------------- TFLM as judge
_TFL_ACTS = {0: (None, None), 1: (0.0, None), 3: (0.0, 6.0)}  # NONE, RELU, RELU6


def _tflm_case(rng: np.random.Generator, depthwise: bool):
    """Random single-op .tflite (bytes) and the equivalent harness Case (the local adapter)."""
    from tflite_builder import TfOp, TfTensor, build

    while True:
        h, w = int(rng.integers(1, 11)), int(rng.integers(1, 11))
        kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        dh, dw = int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2]))
        padding = int(rng.integers(0, 2))  # 0 SAME, 1 VALID
        if padding == 0:
            ho, pt, pb = same_padding(h, kh, sh, dh)
            wo, pl, pr = same_padding(w, kw, sw, dw)
        else:
            ho = (h - ((kh - 1) * dh + 1) + sh) // sh
            wo = (w - ((kw - 1) * dw + 1) + sw) // sw
            pt = pb = pl = pr = 0
        if ho >= 1 and wo >= 1:
            break
    if depthwise:
        ci = int(rng.integers(1, 9))
        mult = int(rng.choice([1, 1, 2, 3]))
        co, cig, groups = ci * mult, ci, 1
        wshape, axis = (1, kh, kw, co), 3
        depth = kh * kw
    else:
        groups = 1 if rng.random() < 0.75 else int(rng.integers(2, 4))
        cig = int(rng.integers(1, 6))
        ci = cig * groups
        co = groups * int(rng.integers(1, 5))
        mult = 1
        wshape, axis = (co, kh, kw, cig), 0
        depth = kh * kw * cig
    wq = rng.integers(-127, 128, size=wshape).astype(np.int8)
    wsc = rng.uniform(0.001, 0.05, size=co).astype(np.float32)
    xs = np.float32(rng.uniform(0.005, 0.1))
    ys = np.float32(float(xs) * float(wsc.mean()) * np.sqrt(depth) * float(rng.choice([0.05, 0.5, 2, 20])) * 40)
    xzp = int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))
    yzp = int(rng.choice([-128, 127, int(rng.integers(-128, 128))]))
    act_code = int(rng.choice([0, 1, 3]))
    bscale = (np.float64(xs) * wsc.astype(np.float64)).astype(np.float32)
    bias = rng.integers(-20000, 20000, size=co).astype(np.int32) if rng.random() < 0.8 else None

    tensors = [TfTensor("x", (1, h, w, ci), "int8", float(xs), xzp),
               TfTensor("w", wshape, "int8", wsc, 0, axis, wq)]
    ins = [0, 1]
    if bias is not None:
        tensors.append(TfTensor("b", (co,), "int32", bscale, 0, 0, bias))
        ins.append(2)
    tensors.append(TfTensor("y", (1, ho, wo, co), "int8", float(ys), yzp))
    yi = len(tensors) - 1
    fields = {"Padding": padding, "StrideW": sw, "StrideH": sh, "FusedActivationFunction": act_code,
              "DilationWFactor": dw, "DilationHFactor": dh}
    if depthwise:
        fields["DepthMultiplier"] = mult
        op = TfOp("DEPTHWISE_CONV_2D", ins, [yi], "DepthwiseConv2DOptions", fields, version=2)
    else:
        op = TfOp("CONV_2D", ins, [yi], "Conv2DOptions", fields, version=2 if groups == 1 else 6)
    data = build(tensors, [op], [0], [yi])

    case = Case(
        "depthwise_conv2d" if depthwise else "conv2d",
        [T((1, h, w, ci), float(xs), xzp), T(wshape, wsc, 0, wq, axis=axis),
         T((co,), bscale, 0, bias, "int32") if bias is not None else None],
        [T((1, ho, wo, co), float(ys), yzp)],
        {"stride": (sh, sw), "dilation": (dh, dw), "pads": (pt, pl, pb, pr), "act": _TFL_ACTS[act_code],
         **({"depth_multiplier": mult} if depthwise else {"groups": groups})})
    return data, case


def tflm_cases_check(depthwise: bool, n_cases: int = 30, seed: int = 0, samples: int = 4) -> int:
    """edgenn == TFLM on random single-op models; returns the number of outputs compared.

    edgenn's side comes from the TFLite importer (edgenn.converter.tflite_import) when it exists,
    and always from the local adapter (the same case written as a harness Case)."""
    from harness import build_model, random_inputs
    from tflite_builder import run_tflm
    from edgenn.runtime_py.interpreter import Interpreter

    try:
        from edgenn.converter.tflite_import import convert_tflite_bytes
    except ImportError:
        convert_tflite_bytes = None
    rng = np.random.default_rng(seed)
    compared = 0
    for i in range(n_cases):
        data, case = _tflm_case(rng, depthwise)
        adapted = build_model(case, f"t{i}")
        xs = random_inputs(adapted, samples, rng)
        expected = run_tflm(data, xs)[0]
        models = [("adapter", adapted)]
        if convert_tflite_bytes is not None:
            models.append(("tflite_import", convert_tflite_bytes(data, f"t{i}")))
        for how, model in models:
            got = Interpreter(model).invoke(*xs)[0].reshape(expected.shape)
            if not np.array_equal(got, expected):
                bad = np.argwhere(got != expected)
                raise AssertionError(
                    f"case {i} ({how}) {case.attrs} in {case.inputs[0].shape} w {case.inputs[1].shape}: edgenn differs "
                    f"from TFLM at {len(bad)} of {got.size} outputs, first {tuple(bad[0])}: edgenn {got[tuple(bad[0])]} "
                    f"vs TFLM {expected[tuple(bad[0])]}")
            compared += got.size
    return compared


# ----------------------------------------------------------------------------- converter rules
def float_graph(depthwise: bool, rng: np.random.Generator, pads=(1, 1, 1, 1), out_hw=(6, 6)):
    """A float conv graph (x quantized, float weights and bias) for the converter rules' tests."""
    from edgenn.converter.graph import Graph, QParams

    g = Graph()
    ci = 4
    if depthwise:
        co, wshape, extra = 8, (1, 3, 3, 8), {"depth_multiplier": 2}
    else:
        co, wshape, extra = 6, (6, 3, 3, 2), {"groups": 2}
    g.add_tensor("x", (1, 6, 6, ci), "int8", None, QParams.per_tensor(0.05, 3))
    wf = rng.normal(0, 0.3, size=wshape).astype(np.float32)
    wf[..., 0] = 0.0 if depthwise else wf[..., 0]  # depthwise: an all-zero channel
    bf = rng.normal(0, 0.5, size=co).astype(np.float32)
    g.add_tensor("w", wshape, "float32", wf)
    g.add_tensor("b", (co,), "float32", bf)
    g.add_tensor("y", (1,) + tuple(out_hw) + (co,), "int8", None, QParams.per_tensor(0.1, -7))
    op = g.add_op("depthwise_conv2d" if depthwise else "conv2d", "c", ["x", "w", "b"], ["y"], stride=(1, 1),
                  dilation=(1, 1), pads=pads, act=(0.0, 6.0), **extra)
    return g, op, wf, bf


# ----------------------------------------------------------------------------- transposed convolution
def naive_transpose_conv(x, w, b, o, out_shape):
    """TFLM reference_integer_ops::TransposeConv, transcribed (scatter into an int32 buffer, then
    bias and requantization); x (N,H,W,Ci), w (Co,KH,KW,Ci)."""
    batches, input_height, input_width, input_depth = x.shape
    output_depth, filter_height, filter_width, _ = w.shape
    _, output_height, output_width, _ = out_shape
    xl, wl = x.tolist(), w.tolist()
    scratch = [[[[0] * output_depth for _ in range(output_width)] for _ in range(output_height)] for _ in range(batches)]
    for batch in range(batches):
        for in_y in range(input_height):
            for in_x in range(input_width):
                for in_channel in range(input_depth):
                    out_x_origin = in_x * o["stride_w"] - o["pad_left"]
                    out_y_origin = in_y * o["stride_h"] - o["pad_top"]
                    for filter_y in range(filter_height):
                        for filter_x in range(filter_width):
                            for out_channel in range(output_depth):
                                out_x = out_x_origin + filter_x
                                out_y = out_y_origin + filter_y
                                if 0 <= out_x < output_width and 0 <= out_y < output_height:
                                    v = (xl[batch][in_y][in_x][in_channel] + o["input_offset"]) \
                                        * wl[out_channel][filter_y][filter_x][in_channel]
                                    cell = scratch[batch][out_y][out_x]
                                    cell[out_channel] = ref.wrap(cell[out_channel] + v)
    out = np.zeros(out_shape, np.int8)
    for batch in range(batches):
        for out_y in range(output_height):
            for out_x in range(output_width):
                for out_channel in range(output_depth):
                    acc = scratch[batch][out_y][out_x][out_channel]
                    if b is not None:
                        acc = ref.wrap(acc + int(b[out_channel]))
                    acc = mbqm(acc, int(o["out_multiplier"][out_channel]), int(o["out_shift"][out_channel]))
                    acc += o["output_offset"]
                    out[batch, out_y, out_x, out_channel] = min(max(acc, o["act_min"]), o["act_max"])
    return out


def random_transpose_case(rng: np.random.Generator, small: bool = False) -> Case:
    """One random transpose_conv case: strides, kernels, top/left pads, output sizes cropped or
    extended at the bottom/right (ONNX output_padding), per-channel weights, optional bias."""
    batches = 1 if small or rng.random() < 0.8 else 2
    h, w = int(rng.integers(1, 6 if small else 8)), int(rng.integers(1, 6 if small else 8))
    kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    if rng.random() < 0.4:
        kw = kh
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    pt, pl = int(rng.integers(0, kh)), int(rng.integers(0, kw))
    full_h, full_w = (h - 1) * sh + kh, (w - 1) * sw + kw
    # bottom / right: anything from cropping the full output to extending it (bias-only rows)
    ho = max(1, full_h - pt - int(rng.integers(-(sh - 1) - 1, kh)))
    wo = max(1, full_w - pl - int(rng.integers(-(sw - 1) - 1, kw)))
    ci = int(rng.integers(1, 5 if small else 9)) if rng.random() < 0.85 else int(rng.integers(9, 33))
    co = int(rng.integers(1, 4 if small else 11))
    wq = rng.integers(-127, 128, size=(co, kh, kw, ci)).astype(np.int8)
    if rng.random() < 0.2:
        wq[..., 0] = 127
    per_channel = rng.random() < 0.85
    wsc = rng.uniform(0.001, 0.05, size=co if per_channel else 1).astype(np.float32)
    xs = float(rng.uniform(0.005, 0.1))
    depth = max(1, kh * kw * ci // (sh * sw))
    ys = float(xs * float(wsc.mean()) * np.sqrt(depth) * float(rng.choice([0.002, 0.05, 0.5, 2, 20])) * 40)
    bscale = xs * (wsc if per_channel else np.full(co, wsc[0], np.float32))
    bias = None
    if rng.random() < 0.75:
        lim = int(rng.choice([100, 20000, 1 << 22, (1 << 31) - 1], p=[0.3, 0.4, 0.27, 0.03]))
        bias = T((co,), bscale, 0, rng.integers(-lim, lim, size=co).astype(np.int32), "int32")
    xzp = int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))
    yzp = int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))
    act = ACTS[int(rng.integers(0, len(ACTS)))]
    return Case("transpose_conv", [T((batches, h, w, ci), xs, xzp), T((co, kh, kw, ci), wsc, 0, wq), bias],
                [T((batches, ho, wo, co), ys, yzp)], {"stride": (sh, sw), "pads": (pt, pl, 0, 0), "act": act})


def tflite_transpose_conv(case: Case, code: str = "TRANSPOSE_CONV") -> bytes:
    """A single-op TRANSPOSE_CONV .tflite of a case (its padding in ``case.attrs['tflite_padding']``)."""
    from tflite_builder import TfOp, TfTensor, build

    x, wt, bt, y = case.inputs[0], case.inputs[1], case.inputs[2], case.outputs[0]
    tensors = [TfTensor("output_shape", (4,), "int32", None, 0, 0, np.asarray(y.shape, np.int32)),
               TfTensor("w", wt.shape, "int8", wt.scale, 0, 0, wt.data),
               TfTensor("x", x.shape, "int8", x.scale, x.zero_point)]
    ins = [0, 1, 2]
    if bt is not None:
        tensors.append(TfTensor("b", bt.shape, "int32", bt.scale, 0, 0, bt.data))
        ins.append(3)
    tensors.append(TfTensor("y", y.shape, "int8", y.scale, y.zero_point))
    yi = len(tensors) - 1
    act = {(None, None): 0, (0.0, None): 1, (0.0, 6.0): 3}[tuple(case.attrs["act"])]
    fields = {"Padding": case.attrs["tflite_padding"], "StrideW": case.attrs["stride"][1],
              "StrideH": case.attrs["stride"][0], "FusedActivationFunction": act}
    return build(tensors, [TfOp(code, ins, [yi], "TransposeConvOptions", fields, version=4)], [2], [yi])


def tflm_transpose_case(rng: np.random.Generator) -> Case:
    """A random TRANSPOSE_CONV case with TFLite's output sizes and SAME / VALID padding (batch 1,
    per-channel weights; the pads attr is what TFLM derives, for the harness)."""
    h, w = int(rng.integers(1, 8)), int(rng.integers(1, 8))
    kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    padding = int(rng.integers(0, 2))  # 0 SAME, 1 VALID
    if padding == 0:
        ho, wo = h * sh, w * sw
    else:
        ho, wo = h * sh + max(kh - sh, 0), w * sw + max(kw - sw, 0)
    pads = []
    for o_, k, s in ((ho, kh, sh), (wo, kw, sw)):
        fwd = -(-o_ // s) if padding == 0 else (o_ - k) // s + 1
        pads.append(max((fwd - 1) * s + k - o_, 0) // 2 if padding == 0 else 0)
    ci, co = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    wq = rng.integers(-127, 128, size=(co, kh, kw, ci)).astype(np.int8)
    wsc = rng.uniform(0.001, 0.05, size=co).astype(np.float32)
    xs = np.float32(rng.uniform(0.005, 0.1))
    ys = np.float32(float(xs) * float(wsc.mean()) * np.sqrt(kh * kw * ci) * float(rng.choice([0.05, 0.5, 2, 20])) * 20)
    bscale = (np.float64(xs) * wsc.astype(np.float64)).astype(np.float32)
    bias = T((co,), bscale, 0, rng.integers(-20000, 20000, size=co).astype(np.int32), "int32") \
        if rng.random() < 0.8 else None
    act = [(None, None), (0.0, None), (0.0, 6.0)][int(rng.integers(0, 3))]
    xzp = int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))
    yzp = int(rng.choice([-128, 127, int(rng.integers(-128, 128))]))
    return Case("transpose_conv", [T((1, h, w, ci), float(xs), xzp), T((co, kh, kw, ci), wsc, 0, wq), bias],
                [T((1, ho, wo, co), float(ys), yzp)],
                {"stride": (sh, sw), "pads": (pads[0], pads[1], 0, 0), "act": act, "tflite_padding": padding})


def run_transpose_naive_checks(n_cases: int = 30, seed: int = 8) -> int:
    """Python kernel (through the interpreter) == naive TFLM transcription; returns outputs compared."""
    from harness import build_model, random_inputs
    from edgenn.runtime_py.interpreter import Interpreter

    rng = np.random.default_rng(seed)
    compared = 0
    for i in range(n_cases):
        case = random_transpose_case(rng, small=True)
        model = build_model(case, f"n{i}")
        xs = random_inputs(model, 3, rng)
        got = Interpreter(model).invoke(*xs)[0]
        b = case.inputs[2].data if case.inputs[2] is not None else None
        for s in range(xs[0].shape[0]):
            want = naive_transpose_conv(xs[0][s], case.inputs[1].data, b, model.ops[0].options, case.outputs[0].shape)
            assert np.array_equal(got[s], want), (
                f"case {i} {case.attrs} {case.inputs[0].shape} w {case.inputs[1].shape} -> {case.outputs[0].shape}: "
                f"python kernel differs from naive TFLM at {np.argwhere(got[s] != want)[:3].tolist()}")
            compared += want.size
    return compared


def pairs_asm_case(rng: np.random.Generator) -> Case:
    """A conv2d case for the DSP build's filter-pair asm (conv2d.c conv2d_pairs_asm): one group, no
    activation clamp, every channel's real scale below 1/2 (enn_rq8), a bias, columns of n values in
    whole eights with n / 4 both a multiple of four and not (the loop's half-way entry): 1x1 filters
    over 8..64 channels, 3x3 over 8 or 16; and windows the kernel pads to whole eights (3x3 over 3,
    4 or 12 channels, 5x5 and 10x4 over one); odd and even filter and pixel counts, dead channels."""
    pointwise = rng.random() < 0.4
    kh = kw = 1 if pointwise else 3
    ci = 8 * int(rng.integers(1, 9)) if pointwise else int(rng.choice([8, 16, 3, 4, 12]))
    if not pointwise and rng.random() < 0.25:  # gathered windows of one channel: 25, 40 values
        (kh, kw), ci = [(5, 5), (10, 4), (4, 10)][int(rng.integers(0, 3))], 1
    co = int(rng.integers(1, 10))
    h, w = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    mode = "valid" if pointwise else str(rng.choice(["valid", "same"]))
    s = 1 if pointwise else int(rng.choice([1, 2]))
    pt, pb, ho = _pads_1d(rng, h, kh, s, 1, mode)
    pl, pr, wo = _pads_1d(rng, w, kw, s, 1, mode)
    wq = rng.integers(-128, 128, size=(co, kh, kw, ci)).astype(np.int8)
    xs = float(rng.uniform(0.005, 0.1))
    wsc = rng.uniform(0.001, 0.05, size=co).astype(np.float32)
    # The largest real scale xs * wsc / ys at most 0.45: ys from it, and smaller for saturation.
    ys = float(xs * float(wsc.max()) / 0.45 * rng.choice([1.0, 1.5, 4.0, 30.0]))
    if rng.random() < 0.3:
        wsc[int(rng.integers(0, co))] = 1e-12  # multiplier 0: the asm's rshift of 31
    lim = int(rng.choice([100, 20000, 1 << 22, (1 << 31) - 1], p=[0.3, 0.4, 0.27, 0.03]))
    bias = T((co,), xs * wsc, 0, rng.integers(-lim, lim, size=co).astype(np.int32), "int32")
    zps = [-128, 127, 0]
    xzp = int(rng.choice(zps + [int(rng.integers(-128, 128))]))
    yzp = int(rng.choice(zps + [int(rng.integers(-128, 128))]))
    return Case("conv2d", [T((1, h, w, ci), xs, xzp), T((co, kh, kw, ci), wsc, 0, wq, axis=0), bias],
                [T((1, ho, wo, co), ys, yzp)],
                {"stride": (s, s), "dilation": (1, 1), "pads": (pt, pl, pb, pr), "act": (None, None), "groups": 1})


def check_wide_cases(board: str, depthwise: bool, seed: int, n: int = 60, cflags: tuple[str, ...] = ()) -> None:
    """The NEON paths (edgenn_neon.h: SMULL / SADALP on the A72, SDOT on the A76) with their
    sixteen-byte steps and every tail on ``board``: n wide cases (9-70 channels, -128 among the
    weights), Python == C byte for byte, saturating at both ends. cflags: e.g. the layer's
    widened-shift tables (CONV2D_SHIFT32, DW_SHIFT32) made too small, for the byte-wide path."""
    rng = np.random.default_rng(seed)
    cases = [random_case(rng, depthwise=depthwise, wide=(9, 71)) for _ in range(n)]
    stats = check_cases(cases, samples=2, board=board, cflags=cflags)
    assert stats["cases"] == n
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


#: (board, extra flags) of the threaded cases: the NEON paths, and the DSP extension's (a 32-bit Pi
#: without NEON: conv2d's pixel pairs, a pair buffer per thread).
THREADED_BOARDS = [("rpi4", ()), ("rpi3-32", ("-DENN_NO_NEON",))]


def check_threaded_cases(board: str, flags: tuple[str, ...], depthwise: bool, seed: int, n: int = 40) -> None:
    """Random cases (batches, padding, strides, odd row counts) built with 3 threads and every layer
    split (ENN_PARALLEL_MACS=1): the rows' shares give the bytes of one thread."""
    from edgenn.boards import get_board, with_threads

    rng = np.random.default_rng(seed)
    cases = [random_case(rng, depthwise=depthwise) for _ in range(n)]
    stats = check_cases(cases, samples=2, board=with_threads(get_board(board), 3),
                        cflags=("-DENN_PARALLEL_MACS=1",) + tuple(flags))
    assert stats["cases"] == n

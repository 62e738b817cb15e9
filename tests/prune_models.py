"""Small float Graphs (NHWC, simplified form) for the structured-pruning tests, built directly.

Every activation tensor gets an ``origin`` (as an ONNX import would) so tests can see that the
pruning clears it where shapes change.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.float_exec import eval_op
from edgenn.converter.graph import Graph, IOInfo
from edgenn.converter.shrink.structured import PruneReport, channel_classes


class GraphBuilder:
    def __init__(self, seed: int = 0):
        self.g = Graph()
        self.g.source_format = "onnx"
        self.rng = np.random.default_rng(seed)
        self.n = 0

    def _name(self, base: str) -> str:
        self.n += 1
        return f"{base}{self.n}"

    def _act(self, shape) -> str:
        name = self._name("t")
        self.g.add_tensor(name, shape, origin=name, origin_perm=tuple(range(len(shape))))
        return name

    def shape(self, x: str) -> tuple[int, ...]:
        return self.g.tensors[x].shape

    def const(self, data: np.ndarray) -> str:
        return self.g.add_const(self._name("c"), np.asarray(data, np.float32)).name

    def input(self, shape) -> str:
        name = self._act(tuple(shape))
        self.g.inputs.append(IOInfo(name, name, tuple(shape), tuple(range(len(shape)))))
        return name

    def output(self, x: str) -> str:
        self.g.outputs.append(IOInfo(x, x, self.shape(x), tuple(range(len(self.shape(x))))))
        return x

    def op(self, type_: str, inputs: list[str], out_shape, **attrs) -> str:
        y = self._act(tuple(out_shape))
        self.g.add_op(type_, self._name(type_), inputs, [y], **attrs)
        return y

    def conv(self, x: str, co: int, k: int = 3, stride: int = 1, groups: int = 1, act=(0.0, None),
             bias: bool = True, dilation: int = 1) -> str:
        n, h, w, ci = self.shape(x)
        pad = (k - 1) * dilation // 2
        wt = self.rng.normal(0, 1 / np.sqrt(k * k * ci // groups), (co, k, k, ci // groups))
        ins = [x, self.const(wt)] + ([self.const(self.rng.normal(0, 0.1, co))] if bias else [])
        eff = (k - 1) * dilation + 1
        oh, ow = (h + 2 * pad - eff) // stride + 1, (w + 2 * pad - eff) // stride + 1
        return self.op("conv2d", ins, (n, oh, ow, co), stride=(stride, stride), dilation=(dilation, dilation),
                       pads=(pad, pad, pad, pad), groups=groups, act=act)

    def dw(self, x: str, k: int = 3, mult: int = 1, act=(0.0, 6.0), stride: int = 1) -> str:
        n, h, w, c = self.shape(x)
        pad = k // 2
        ins = [x, self.const(self.rng.normal(0, 1 / k, (1, k, k, c * mult))),
               self.const(self.rng.normal(0, 0.1, c * mult))]
        oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
        return self.op("depthwise_conv2d", ins, (n, oh, ow, c * mult), stride=(stride, stride), dilation=(1, 1),
                       pads=(pad, pad, pad, pad), depth_multiplier=mult, act=act)

    def fc(self, x: str, units: int, act=(None, None)) -> str:
        k = self.shape(x)[-1]
        ins = [x, self.const(self.rng.normal(0, 1 / np.sqrt(k), (units, k))),
               self.const(self.rng.normal(0, 0.1, units))]
        return self.op("fully_connected", ins, self.shape(x)[:-1] + (units,), act=act)

    def binary(self, kind: str, a: str, b: str, act=(None, None)) -> str:
        return self.op(kind, [a, b], np.broadcast_shapes(self.shape(a), self.g.tensors[b].shape), act=act)

    def unary(self, kind: str, x: str, **attrs) -> str:
        return self.op(kind, [x], self.shape(x), **attrs)

    def pool(self, kind: str, x: str, k: int = 2) -> str:
        n, h, w, c = self.shape(x)
        return self.op(kind, [x], (n, h // k, w // k, c), filter=(k, k), stride=(k, k), pads=(0, 0, 0, 0),
                       act=(None, None))

    def mean(self, x: str, axes=(1, 2), keep_dims: bool = True) -> str:
        s = self.shape(x)
        out = tuple(1 if i in axes else d for i, d in enumerate(s)) if keep_dims else \
            tuple(d for i, d in enumerate(s) if i not in axes)
        return self.op("mean", [x], out, axes=list(axes), keep_dims=keep_dims)

    def pad(self, x: str, pads) -> str:
        out = tuple(d + a + b for d, (a, b) in zip(self.shape(x), pads))
        return self.op("pad", [x], out, pads=[tuple(p) for p in pads], value=0.0)

    def concat(self, xs: list[str], axis: int) -> str:
        shapes = [self.g.tensors[x].shape for x in xs]
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        return self.op("concat", xs, tuple(out), axis=axis)

    def reshape(self, x: str, shape) -> str:
        return self.op("reshape", [x], tuple(shape))

    def transpose(self, x: str, perm) -> str:
        return self.op("transpose", [x], tuple(self.shape(x)[p] for p in perm), perm=tuple(perm))

    def flatten(self, x: str) -> str:
        s = self.shape(x)
        return self.reshape(x, (s[0], int(np.prod(s[1:]))))


# ---------------------------------------------------------------------- models

def ds_cnn(seed: int = 0) -> Graph:
    """Strided conv, two depthwise-separable blocks, mean, flatten, Gemm, softmax (DS-CNN-like)."""
    b = GraphBuilder(seed)
    x = b.input((1, 12, 12, 2))
    h = b.conv(x, 16, 3, stride=2)
    for co in (24, 20):
        h = b.conv(b.dw(h), co, 1)
    f = b.flatten(b.mean(h))
    b.output(b.unary("softmax", b.fc(f, 5), beta=1.0))
    return b.g


def residual(seed: int = 1) -> Graph:
    """conv A -> conv B; add(A, B) -> conv C -> flatten -> Gemm (output)."""
    b = GraphBuilder(seed)
    x = b.input((1, 8, 8, 3))
    a = b.conv(x, 8)
    r = b.binary("add", a, b.conv(a, 8), act=(0.0, None))
    c = b.conv(r, 6, 3, stride=2)
    b.output(b.fc(b.flatten(c), 4))
    return b.g


def concat_channels(seed: int = 2) -> Graph:
    """conv A (8) and conv B (12) concatenated on channels -> conv C -> flatten -> Gemm."""
    b = GraphBuilder(seed)
    x = b.input((1, 6, 6, 2))
    cat = b.concat([b.conv(x, 8), b.conv(x, 12)], axis=3)
    b.output(b.fc(b.flatten(b.pool("max_pool2d", b.conv(cat, 10))), 3))
    return b.g


def concat_spatial(seed: int = 3) -> Graph:
    """Two convs concatenated along H: channel c of both is one channel afterwards."""
    b = GraphBuilder(seed)
    x = b.input((1, 6, 6, 2))
    cat = b.concat([b.conv(x, 10), b.conv(x, 10)], axis=1)
    b.output(b.fc(b.flatten(cat), 3))
    return b.g


def flatten_head(seed: int = 4) -> Graph:
    """conv (6 channels, 3x3 map) -> flatten (54 features) -> Gemm: feature f is channel f % 6."""
    b = GraphBuilder(seed)
    x = b.input((1, 6, 6, 1))
    h = b.conv(x, 6, 3, stride=2)
    b.output(b.fc(b.flatten(h), 4))
    return b.g


def squeeze_excite(seed: int = 5) -> Graph:
    """conv A; x * logistic(conv(conv(mean(x)))) ties A's channels to the expanding conv's."""
    b = GraphBuilder(seed)
    x = b.input((1, 6, 6, 3))
    a = b.conv(x, 12)
    s = b.unary("logistic", b.conv(b.conv(b.mean(a), 4, 1), 12, 1, act=(None, None)))
    y = b.binary("mul", a, s)
    b.output(b.fc(b.flatten(b.pool("avg_pool2d", y, 3)), 3))
    return b.g


def pass_through_zoo(seed: int = 6) -> Graph:
    """Every per-channel operator between producers, per-channel constants, 1-D style reshapes."""
    b = GraphBuilder(seed)
    x = b.input((1, 8, 8, 3))
    h = b.unary("leaky_relu", b.conv(x, 12, act=(None, None)), alpha=0.1)
    h = b.unary("hard_swish", h)
    h = b.binary("mul", h, b.const(b.rng.uniform(0.5, 1.5, 12)))
    h = b.binary("add", h, b.const(b.rng.normal(0, 0.2, (1, 1, 1, 12))))
    h = b.unary("clip", b.unary("tanh", h), act=(-0.5, 0.5))
    h = b.pad(b.pool("avg_pool2d", h), [(0, 0), (1, 1), (1, 1), (0, 0)])
    h = b.transpose(b.conv(h, 10, act=(None, None)), (0, 2, 1, 3))
    h = b.unary("logistic", b.pool("max_pool2d", h))
    h = b.reshape(b.reshape(h, (1, 1, 3, 3, 10)), (1, 3, 3, 10))
    h = b.mean(b.conv(h, 9), axes=(1, 2), keep_dims=False)
    b.output(b.fc(h, 2))
    return b.g


def tokens(seed: int = 7) -> Graph:
    """conv -> (1, H*W, C) tokens -> per-token fully_connected layers (rank-3 inputs)."""
    b = GraphBuilder(seed)
    x = b.input((1, 4, 4, 3))
    t = b.reshape(b.conv(x, 8), (1, 16, 8))
    b.output(b.fc(b.fc(t, 6, act=(0.0, None)), 3))
    return b.g


MODELS = {"ds_cnn": ds_cnn, "residual": residual, "concat_channels": concat_channels,
          "concat_spatial": concat_spatial, "flatten_head": flatten_head, "squeeze_excite": squeeze_excite,
          "pass_through_zoo": pass_through_zoo, "tokens": tokens}


def random_feeds(g: Graph, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {t: rng.normal(0, 1, (n,) + g.tensors[t].shape).astype(np.float32) for t in g.input_names}


def removed_by_tensor(g0: Graph, rep: PruneReport) -> dict[str, set[int]]:
    """Channels of every activation tensor of the unpruned ``g0`` that the report's removals take away."""
    out: dict[str, set[int]] = {}
    for cl in channel_classes(g0):
        if any(c in rep.removed.get(p, []) for p, c in cl.producers):
            for key, c in cl.members:
                if isinstance(key, str):
                    out.setdefault(key, set()).add(c)
    return out


def masked_run(g0: Graph, removed: dict[str, set[int]], feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """All values of the unpruned graph with the removed channels zeroed after every operator: what
    plain removal must compute on the kept channels."""
    values = dict(feeds)
    for op in g0.ops:
        for name, y in zip(op.outputs, eval_op(op, g0, values)):
            y = y.copy()
            y[..., sorted(removed.get(name, ()))] = 0.0
            values[name] = y
    return values

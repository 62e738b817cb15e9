"""Export the ONNX zoo: real architectures from torchvision (and four small task nets written
here), exported by PyTorch's legacy exporter at opsets 13 and 17, stored without their large
weights (tests/zoo/synth.py) in tests/zoo/onnx/, and the natural-image inputs tests/zoo/images.npy.

Run with an environment that has torch, torchvision, onnx, onnxruntime and scikit-learn
(none of them is a dependency of edgenn):

    /work/torchenv/bin/python tests/zoo/export_torch.py [--only NAME ...]

Every model is randomly initialized and then given realistic activations from the calibration
images: BatchNorm layers take their running statistics from the images (a forward pass in
training mode), nets without BatchNorm get layer-sequential unit-variance scaling. Sizes are
chosen so that each int8 model fits a 4 MB-flash emulated board (mps2-an386): torchvision's
builders as they are where that holds, otherwise the same torchvision classes at a smaller width
(listed in ZOO below and in docs/benchmarks.md). Inputs are 96x96 RGB images normalized with
ImageNet's mean and std (tests/zoo/data.py), 48x48 for the UNets and 32x32 for the
super-resolution net.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
import torch
import torch.nn as nn
import torchvision.models as tm
from torchvision.models.densenet import DenseNet
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
from torchvision.models.googlenet import BasicConv2d, GoogLeNet, Inception, InceptionAux
from torchvision.models.regnet import BlockParams, RegNet
from torchvision.models.resnet import BasicBlock, ResNet

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data  # noqa: E402
import synth  # noqa: E402

OPSETS = (13, 17)
CLASSES = 10


# ---------------------------------------------------------------------- reduced torchvision configurations
class HalfConv(BasicConv2d):
    """GoogLeNet's convolution block at half width (the RGB input stays 3 channels)."""

    def __init__(self, in_channels: int, out_channels: int, **kw) -> None:
        super().__init__(in_channels if in_channels == 3 else in_channels // 2, out_channels // 2, **kw)


class HalfInception(Inception):
    """GoogLeNet's inception block at half width."""

    def __init__(self, *ch: int, conv_block=None) -> None:
        super().__init__(*(c // 2 for c in ch), conv_block=conv_block)


def googlenet_half() -> nn.Module:
    m = GoogLeNet(num_classes=CLASSES, aux_logits=False, transform_input=True, init_weights=True,
                  blocks=[HalfConv, HalfInception, InceptionAux])
    m.fc = nn.Linear(512, CLASSES)
    return m


class HalfResNet18(ResNet):
    """ResNet-18 (BasicBlock, [2, 2, 2, 2]) with half the channels (32..256)."""

    def __init__(self) -> None:
        super().__init__(BasicBlock, [2, 2, 2, 2], num_classes=CLASSES)
        self.inplanes = 32
        self.conv1 = nn.Conv2d(3, 32, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.layer1 = self._make_layer(BasicBlock, 32, 2)
        self.layer2 = self._make_layer(BasicBlock, 64, 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, 128, 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, 256, 2, stride=2)
        self.fc = nn.Linear(256, CLASSES)
        for mod in self.modules():
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")


def efficientnet_b0_075() -> nn.Module:
    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.75, depth_mult=1.0)
    return EfficientNet(setting, 0.2, last_channel=last, num_classes=CLASSES)


def regnet_y_200mf() -> nn.Module:
    # RegNetY-200MF of the RegNet paper (torchvision's smallest builder is 400MF, 3.9 M weights).
    return RegNet(BlockParams.from_init_params(depth=13, w_0=24, w_a=36.44, w_m=2.49, group_width=8, se_ratio=0.25),
                  num_classes=CLASSES)


# ---------------------------------------------------------------------- task nets written here
def conv_bn(ci: int, co: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(ci, co, 3, stride, 1, groups=groups, bias=False), nn.BatchNorm2d(co),
                         nn.ReLU(inplace=True))


class UNet(nn.Module):
    """A three-level UNet (double 3x3 conv blocks, skip concatenations); ``up``: "transpose"
    (ConvTranspose2d 2x2 stride 2) or "resize" (bilinear Upsample then a 1x1 conv)."""

    def __init__(self, up: str, base: int = 16, classes: int = 4) -> None:
        super().__init__()
        b = base
        self.enc = nn.ModuleList([nn.Sequential(conv_bn(ci, co), conv_bn(co, co))
                                  for ci, co in ((3, b), (b, 2 * b), (2 * b, 4 * b))])
        self.mid = nn.Sequential(conv_bn(4 * b, 8 * b), conv_bn(8 * b, 8 * b))
        self.pool = nn.MaxPool2d(2)
        chans = (8 * b, 4 * b, 2 * b, b)
        if up == "transpose":
            self.up = nn.ModuleList([nn.ConvTranspose2d(c, c // 2, 2, 2) for c in chans[:-1]])
        else:
            self.up = nn.ModuleList([nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                                   nn.Conv2d(c, c // 2, 1)) for c in chans[:-1]])
        self.dec = nn.ModuleList([nn.Sequential(conv_bn(c, c // 2), conv_bn(c // 2, c // 2)) for c in chans[:-1]])
        self.head = nn.Conv2d(b, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for e in self.enc:
            x = e(x)
            skips.append(x)
            x = self.pool(x)
        x = self.mid(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = dec(torch.cat([up(x), skip], dim=1))
        return self.head(x)


class ESPCN(nn.Module):
    """Efficient sub-pixel convolution super-resolution (Shi et al. 2016): x3, PixelShuffle."""

    def __init__(self, r: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 64, 5, padding=2), nn.Tanh(), nn.Conv2d(64, 32, 3, padding=1), nn.Tanh(),
                                  nn.Conv2d(32, 3 * r * r, 3, padding=1), nn.PixelShuffle(r))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class TinySSD(nn.Module):
    """An SSDLite-style detector: a depthwise-separable backbone, class and box heads on two
    feature maps (12x12 and 6x6), permuted, flattened and concatenated as SSD does."""

    def __init__(self, classes: int = 5, anchors: int = 3) -> None:
        super().__init__()

        def sep(ci: int, co: int, s: int) -> nn.Sequential:
            return nn.Sequential(conv_bn(ci, ci, s, groups=ci), nn.Conv2d(ci, co, 1, bias=False), nn.BatchNorm2d(co),
                                 nn.ReLU6(inplace=True))

        self.classes = classes
        self.stem = conv_bn(3, 16, 2)                                            # 48
        self.stage1 = nn.Sequential(sep(16, 32, 2), sep(32, 32, 1), sep(32, 64, 2), sep(64, 64, 1))  # 12
        self.stage2 = nn.Sequential(sep(64, 128, 2), sep(128, 128, 1))            # 6
        self.cls = nn.ModuleList([nn.Conv2d(c, anchors * classes, 3, padding=1) for c in (64, 128)])
        self.box = nn.ModuleList([nn.Conv2d(c, anchors * 4, 3, padding=1) for c in (64, 128)])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f1 = self.stage1(self.stem(x))
        f2 = self.stage2(f1)
        n = x.shape[0]
        scores = [c(f).permute(0, 2, 3, 1).reshape(n, -1, self.classes) for c, f in zip(self.cls, (f1, f2))]
        boxes = [b(f).permute(0, 2, 3, 1).reshape(n, -1, 4) for b, f in zip(self.box, (f1, f2))]
        return torch.cat(scores, 1).softmax(-1), torch.cat(boxes, 1)


#: name -> (builder, input size, output names, what it is)
ZOO: dict[str, tuple] = {
    "mobilenet_v3_small": (lambda: tm.mobilenet_v3_small(num_classes=CLASSES), 96, ["logits"],
                           "torchvision mobilenet_v3_small"),
    "mobilenet_v3_large": (lambda: tm.mobilenet_v3_large(num_classes=CLASSES, width_mult=0.75), 96, ["logits"],
                           "torchvision mobilenet_v3_large, width_mult 0.75"),
    "shufflenet_v2": (lambda: tm.shufflenet_v2_x1_0(num_classes=CLASSES), 96, ["logits"],
                      "torchvision shufflenet_v2_x1_0"),
    "efficientnet_b0": (efficientnet_b0_075, 96, ["logits"], "torchvision EfficientNet, b0 blocks at width 0.75"),
    "mnasnet": (lambda: tm.mnasnet0_5(num_classes=CLASSES), 96, ["logits"], "torchvision mnasnet0_5"),
    "regnet": (regnet_y_200mf, 96, ["logits"], "torchvision RegNet, RegNetY-200MF parameters"),
    "resnet": (HalfResNet18, 96, ["logits"], "torchvision ResNet-18 (BasicBlock) at half width"),
    "squeezenet": (lambda: tm.squeezenet1_1(num_classes=CLASSES), 96, ["logits"], "torchvision squeezenet1_1"),
    "densenet": (lambda: DenseNet(16, (4, 8, 6), 32, num_classes=CLASSES), 96, ["logits"],
                 "torchvision DenseNet, three dense blocks of 4, 8, 6 layers, growth rate 16 (DenseNet-121 has "
                 "four of 6, 12, 24, 16 at growth 32: 900 int8 operators, minutes of planning)"),
    "googlenet": (googlenet_half, 96, ["logits"], "torchvision GoogLeNet (transform_input) at half width"),
    "unet_transpose": (lambda: UNet("transpose"), 48, ["masks"], "UNet, ConvTranspose2d decoder"),
    "unet_resize": (lambda: UNet("resize"), 48, ["masks"], "UNet, bilinear Upsample (Resize) decoder"),
    "espcn": (ESPCN, 32, ["image"], "ESPCN super-resolution x3 (PixelShuffle)"),
    "ssd_tiny": (TinySSD, 96, ["scores", "boxes"], "SSDLite-style detector, class and box heads"),
}


def realistic(model: nn.Module, x: torch.Tensor) -> None:
    """Give a randomly initialized model realistic activations on images ``x`` (in place)."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        if bns:
            model.eval()
            for bn in bns:  # running statistics = the statistics of these images
                bn.reset_running_stats()
                bn.momentum = None
                bn.train()
            model(x)
        else:  # layer-sequential unit variance
            model.eval()
            for layer in [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]:
                for _ in range(2):
                    seen = {}
                    h = layer.register_forward_hook(lambda _m, _i, o: seen.setdefault("y", o))
                    model(x)
                    h.remove()
                    s = float(seen["y"].std())
                    layer.weight /= s
                    if layer.bias is not None:
                        layer.bias /= s
    model.eval()


def _outputs(model: onnx.ModelProto, names: list[str], xs: np.ndarray) -> list[np.ndarray]:
    """The values ``names`` of ``model`` on each image of ``xs`` (batch-1 exports: one run per image)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    del m.graph.output[:]
    m.graph.output.extend([onnx.ValueInfoProto(name=n) for n in names])
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = m.graph.input[0].name  # "image", or "image.1" when the model rewrites its input (GoogLeNet)
    runs = [sess.run(None, {feed: xs[i:i + 1]}) for i in range(len(xs))]
    return [np.concatenate([r[k] for r in runs]) for k in range(len(names))]


def _channel_moments(y: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.moveaxis(y, axis, 0).reshape(y.shape[axis], -1).astype(np.float64)
    return y.mean(axis=1), y.std(axis=1)


def match_statistics(exported: onnx.ModelProto, stripped: onnx.ModelProto, xs: np.ndarray) -> onnx.ModelProto:
    """Re-fit a stripped model so that its rebuilt weights give the exported model's activations.

    A regenerated weight no longer matches the bias that BatchNorm folding computed for the
    original one (the bias cancels the channel's mean), and the errors compound with depth. Layer
    by layer in graph order, each weighted node (Conv, ConvTranspose, Gemm, MatMul) gets the
    per-channel mean and standard deviation of the exported model's output on images ``xs``: its
    recorded weight statistics are scaled (per output channel where axis 0 is the output channel,
    else as a whole) and its bias, when it has its own, is shifted. Only values change.
    """
    s = onnx.ModelProto()
    s.CopyFrom(stripped)
    shapes = json.loads(next(p.value for p in s.metadata_props if p.key == synth.KEY))
    inits = {i.name: i for i in s.graph.initializer}
    alias = {n.output[0]: n.input[0] for n in s.graph.node if n.op_type == "Identity"}
    uses: dict[str, int] = {}
    for n in s.graph.node:
        for i in n.input:
            uses[alias.get(i, i)] = uses.get(alias.get(i, i), 0) + 1
    targets = []
    for n in s.graph.node:
        if n.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul") and len(n.input) > 1:
            w = alias.get(n.input[1], n.input[1])
            if w in shapes:
                b = alias.get(n.input[2], n.input[2]) if len(n.input) > 2 else None
                per_channel = n.op_type == "Conv" or (n.op_type == "Gemm" and any(
                    a.name == "transB" and a.i == 1 for a in n.attribute))
                own_bias = b if b in inits and b not in shapes and uses.get(b) == 1 else None
                targets.append((n.output[0], w, own_bias, per_channel, 1 if n.op_type != "MatMul" else -1))
    want = dict(zip([t[0] for t in targets], _outputs(exported, [t[0] for t in targets], xs)))
    for out, w, b, per_channel, axis in targets:
        y = _outputs(synth.rebuild(s), [out], xs)[0]
        m_new, s_new = _channel_moments(y, axis)
        m_old, s_old = _channel_moments(want[out], axis)
        scale = s_old / np.maximum(s_new, 1e-12) if per_channel else \
            np.full_like(s_old, want[out].std() / max(float(y.std()), 1e-12))
        stats = numpy_helper.to_array(inits[w]).astype(np.float64)
        stats = stats * (scale[None, :] if per_channel else scale[0])
        inits[w].CopyFrom(numpy_helper.from_array(stats.astype(np.float16), w))
        if b is not None:
            bias = numpy_helper.to_array(inits[b]).astype(np.float64)
            bias = m_old - scale * (m_new - bias)
            inits[b].CopyFrom(numpy_helper.from_array(bias.astype(np.float32), b))
    return s


def export(name: str, out_dir: Path, calib: np.ndarray, test: np.ndarray) -> list[str]:
    build, size, outputs, _ = ZOO[name]
    torch.manual_seed(0)
    model = build()
    xc = torch.from_numpy(data.model_input(calib, size))
    realistic(model, xc)
    xt = data.model_input(test, size)
    with torch.no_grad():
        ref = model(torch.from_numpy(xt))
    ref = [ref] if isinstance(ref, torch.Tensor) else list(ref)
    lines = []
    for opset in OPSETS:
        f = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, torch.from_numpy(xt[:1]), f, opset_version=opset, dynamo=False,
                              input_names=["image"], output_names=outputs, do_constant_folding=True)
        exported = onnx.load_from_string(f.getvalue())
        stripped = match_statistics(exported, synth.strip(exported), data.model_input(calib, size))
        path = out_dir / f"{name}_op{opset}.onnx"
        onnx.save(stripped, str(path))
        rebuilt = synth.rebuild(stripped)
        onnx.checker.check_model(rebuilt)
        sess = ort.InferenceSession(rebuilt.SerializeToString(), providers=["CPUExecutionProvider"])
        feed = rebuilt.graph.input[0].name
        ys = [np.concatenate([sess.run(None, {feed: xt[i:i + 1]})[k] for i in range(len(xt))])
              for k in range(len(outputs))]
        for k, (y, r) in enumerate(zip(ys, ref)):
            if not np.all(np.isfinite(y)):
                raise SystemExit(f"{name} op{opset}: the rebuilt model gives NaN/Inf")
            spread = float(np.std(y, axis=0).mean())
            if spread == 0:
                raise SystemExit(f"{name} op{opset}: the rebuilt model's output {outputs[k]} is constant")
            lines.append(f"{name:20s} op{opset} {outputs[k]:7s} {len(f.getvalue()):>9,} B -> {path.stat().st_size:>7,} B"
                         f"  std over images: exported {float(r.std(axis=0).mean()):.3g}, rebuilt {spread:.3g}"
                         f"  |y| exported {float(np.abs(r.numpy()).mean()):.3g}, rebuilt {float(np.abs(y).mean()):.3g}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="export only these models")
    args = ap.parse_args()
    if not data.IMAGES.exists():
        data.write_images()
    calib, test = data.split(np.load(data.IMAGES))
    out = HERE / "onnx"
    out.mkdir(exist_ok=True)
    for name in args.only or list(ZOO):
        for line in export(name, out, calib, test):
            print(line, flush=True)


if __name__ == "__main__":
    main()

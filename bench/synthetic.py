"""Synthetic float ONNX graphs of a chosen number of layers, for conversion-time scaling.

Built with onnx.helper alone (tests/onnx_models.Builder), so they run in the project's venv:

- ``chain(n)``: n 3x3 convolutions with ReLU, one after the other (n layers once ReLU is fused);
- ``densenet(n)``: DenseNet-style blocks of ``block`` dense layers, each a Concat of every earlier
  feature map of its block (as torchvision's DenseNet exports it: one Concat per layer), a 1x1
  bottleneck convolution and a 3x3 convolution of ``growth`` channels; blocks are joined by 1x1
  transition convolutions. Feature maps live across their whole block, as in DenseNet.

Small images (8x8) keep calibration cheap, so the time measured is the converter's own.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from onnx_models import Builder  # noqa: E402

HW = 8


def chain(layers: int, channels: int = 8, seed: int = 0) -> onnx.ModelProto:
    """``layers`` Conv 3x3 + ReLU in a row."""
    b = Builder(seed)
    x = "input"
    h = x
    cin = 3
    for _ in range(layers):
        h = b.node("Relu", [b.conv(h, cin, channels, 3)])
        cin = channels
    return b.model([(x, [1, 3, HW, HW])], [h])


def densenet(layers: int, growth: int = 4, block: int = 8, seed: int = 0) -> onnx.ModelProto:
    """A DenseNet-style graph of about ``layers`` converted layers.

    A dense layer with k earlier feature maps is a Concat (TFLM's CONCATENATION needs its inputs
    quantized like its output: a ``quantize`` layer for each but the one with the widest ReLU range),
    a 1x1 bottleneck and a 3x3 convolution: k + 2 layers; a transition is a Concat and a 1x1
    convolution.
    """
    b = Builder(seed)
    x = "input"
    c0 = 8
    h = b.node("Relu", [b.conv(x, 3, c0, 3)])
    count = 1
    while True:
        feats, chans = [h], [c0]
        for _ in range(block):
            k = len(feats)
            cost = k + 2 if k > 1 else 2
            if count + cost + (k + 2) > layers:  # leave room for the transition
                break
            cat = b.node("Concat", feats, axis=1) if k > 1 else feats[0]
            bott = b.node("Relu", [b.conv(cat, sum(chans), 2 * growth, 1, pad=0)])
            new = b.node("Relu", [b.conv(bott, 2 * growth, growth, 3)])
            feats.append(new)
            chans.append(growth)
            count += cost
        if len(feats) == 1:
            break
        cat = b.node("Concat", feats, axis=1)
        h = b.node("Relu", [b.conv(cat, sum(chans), c0, 1, pad=0)])  # transition back to c0 channels
        count += len(feats) + 1
    return b.model([(x, [1, 3, HW, HW])], [h])


def calibration(samples: int = 8, seed: int = 0) -> np.ndarray:
    """Random calibration images for both graphs."""
    return np.random.default_rng(seed).normal(0, 1, (samples, 1, 3, HW, HW)).astype(np.float32)

"""Make the small PyTorch-exported ONNX nets of tests/test_resize_nets.py (committed next to this script).

    /work/torchenv/bin/python tests/data/onnx_nets/make_nets.py     # torch 2.x with the legacy exporter

- unet.onnx: a two-level UNet on 1x16x16 images: encoder Conv+BatchNorm+ReLU and MaxPool, a decoder
  level with ConvTranspose2d (stride 2) and one with nn.Upsample(bilinear, align_corners=False), skip
  connections by concatenation;
- sr.onnx: a PixelShuffle-free x4 super-resolution net on 1x8x8 images: F.interpolate nearest and
  bilinear with align_corners=True inside, plus a bilinear (align_corners=False) upscaled input added
  as the residual;
- upsample_variants.onnx: nn.Upsample nearest (scale 2), bilinear (scale 1.5, align_corners False)
  and F.interpolate to a fixed size (bilinear, align_corners True) in one chain.
Weights are PyTorch's default initialisation with fixed seeds (the tests compare the int8 model with
the float one, not with a trained task).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1, self.enc2, self.mid = block(1, 8), block(8, 16), block(16, 16)
        self.up2 = nn.ConvTranspose2d(16, 16, 2, stride=2)
        self.dec2 = block(32, 8)
        self.up1 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.dec1 = block(16, 8)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        e1 = self.enc1(x)                       # 16x16
        e2 = self.enc2(F.max_pool2d(e1, 2))     # 8x8
        m = self.mid(F.max_pool2d(e2, 2))       # 4x4
        d2 = self.dec2(torch.cat([F.relu(self.up2(m)), e2], 1))  # 8x8
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))         # 16x16
        return self.head(d1)


class SuperRes(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 16, 3, padding=1)
        self.c3, self.c4 = nn.Conv2d(16, 8, 3, padding=1), nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, x):
        h = F.relu(self.c2(F.relu(self.c1(x))))
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = F.relu(self.c3(h))
        h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=True)
        base = F.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)
        return base + self.c4(h)


class UpsampleVariants(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 6, 3, padding=1), nn.Conv2d(6, 4, 3, padding=1)

    def forward(self, x):
        h = nn.Upsample(scale_factor=2, mode="nearest")(F.relu(self.c1(x)))          # 8 -> 16
        h = nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=False)(h)   # 16 -> 24
        h = F.interpolate(self.c2(h), size=(20, 30), mode="bilinear", align_corners=True)
        return h


def export(model: nn.Module, shape: tuple[int, ...], name: str, seed: int) -> None:
    torch.manual_seed(seed)
    model = model.eval()
    with torch.no_grad():
        for m in model.modules():  # BatchNorm statistics that are not the identity
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    torch.onnx.export(model, torch.rand(shape), str(HERE / name), input_names=["x"], output_names=["y"],
                      opset_version=13, dynamo=False)
    print(f"wrote {name} ({(HERE / name).stat().st_size:,} bytes)")


if __name__ == "__main__":
    torch.manual_seed(0)
    export(UNet(), (1, 1, 16, 16), "unet.onnx", 1)
    torch.manual_seed(1)
    export(SuperRes(), (1, 1, 8, 8), "sr.onnx", 2)
    torch.manual_seed(2)
    export(UpsampleVariants(), (1, 3, 8, 8), "upsample_variants.onnx", 3)

"""Make the small PyTorch-exported attention nets of tests/test_attention_nets.py (committed next to
this script):

    /work/torchenv/bin/python tests/data/onnx_nets/make_attention_nets.py   # torch 2.x, legacy exporter

- mha_weights_opset13.onnx: nn.MultiheadAttention(16, 4 heads, batch_first) self-attention with
  need_weights=True (explicit bmm + softmax: the form that exports at opset 13), on 1x6x16;
- mha_opset17.onnx: the same with need_weights=False (scaled_dot_product_attention, opset >= 14:
  the scale as Mul by its square root on Q and K);
- encoder_prenorm_opset17.onnx: nn.TransformerEncoderLayer(16, 2 heads, 32, ReLU, norm_first=True)
  (LayerNormalization nodes);
- encoder_postnorm_opset14.onnx: the post-norm layer at opset 14 (decomposed layer normalization);
- text_opset17.onnx: a token classifier: int64 token ids (1x10, vocabulary 50) -> nn.Embedding(50, 16)
  + learned positions -> nn.TransformerEncoderLayer(16, 2 heads, 32, GELU) -> mean -> Linear(16, 3).
PyTorch's default initialisation with fixed seeds (the tests compare the int8 model with the float one).
The TransformerEncoderLayer at opset 13 does not export (PyTorch needs opset 14 for its attention).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent


class SelfAttention(nn.Module):
    def __init__(self, need_weights: bool):
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x, x, x, need_weights=self.need_weights)[0]


class Encoder(nn.Module):
    """One encoder layer called with the sequence alone (its other arguments left at their defaults)."""

    def __init__(self, norm_first: bool):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True, norm_first=norm_first)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class Text(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.pos = nn.Parameter(torch.randn(1, 10, 16) * 0.1)
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, activation="gelu", batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.layer(self.embed(ids) + self.pos).mean(dim=1))


def export(model: nn.Module, example: torch.Tensor, name: str, opset: int) -> None:
    torch.onnx.export(model.eval(), example, str(HERE / name), input_names=["x"], output_names=["y"],
                      opset_version=opset, dynamo=False)
    print(f"wrote {name} ({(HERE / name).stat().st_size:,} bytes)")


if __name__ == "__main__":
    x = torch.zeros(1, 6, 16)
    torch.manual_seed(10)
    export(SelfAttention(True), x, "mha_weights_opset13.onnx", 13)
    torch.manual_seed(11)
    export(SelfAttention(False), x, "mha_opset17.onnx", 17)
    torch.manual_seed(12)
    export(Encoder(True), x, "encoder_prenorm_opset17.onnx", 17)
    torch.manual_seed(13)
    export(Encoder(False), x, "encoder_postnorm_opset14.onnx", 14)
    torch.manual_seed(14)
    export(Text(), torch.zeros(1, 10, dtype=torch.int64), "text_opset17.onnx", 17)

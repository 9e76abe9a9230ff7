"""The PIFiA network (Razdaibiedina et al. 2024; the authors' ``pifia_network`` in github.com/arazd/pifia).

DeepLoc's convolutional stack with "valid" (unpadded) 3x3 convolutions: 64, 64, pool, 128, 128, pool,
256, 256, 256, 256, pool (times ``width``), each convolution + batch norm + ReLU. A 64x64 crop shrinks to
2x2 (62, 60, 30, 28, 26, 13, 11, 9, 7, 5, 2), flattened (1,024 values at width 1) -> fully connected 128
(ReLU) -> fully connected 64 (ReLU): the representation -> dropout -> one logit per protein.

Input: the CellSet's (b, 2, 64, 64) crops; the network reads the GFP channel (0) alone unless ``rfp`` is
set (then both), as the authors trained on GFP alone.
"""

from __future__ import annotations

import torch
from torch import nn

CONV_WIDTHS = (64, 64, "pool", 128, 128, "pool", 256, 256, 256, 256, "pool")


def _conv_stack(in_channels: int, width: float) -> tuple[nn.Sequential, int, int]:
    """(the stack, output channels, output side for a 64-pixel crop)."""
    layers: list[nn.Module] = []
    side = 64
    for step in CONV_WIDTHS:
        if step == "pool":
            layers.append(nn.MaxPool2d(2))
            side //= 2
            continue
        out = max(1, int(step * width))
        # no conv bias: the batch norm right after it has its own shift (the authors' Keras layers have one)
        layers += [nn.Conv2d(in_channels, out, 3, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
        in_channels, side = out, side - 2
    return nn.Sequential(*layers), in_channels, side


class PifiaNet(nn.Module):
    def __init__(
        self,
        n_classes: int,
        width: float = 1.0,
        rfp: bool = False,
        dense1: int = 128,
        features: int = 64,
        dropout: float = 0.02,
    ):
        super().__init__()
        self.rfp = rfp
        self.convs, channels, side = _conv_stack(2 if rfp else 1, width)
        self.hidden = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * side * side, dense1),
            nn.ReLU(inplace=True),
            nn.Linear(dense1, features),
            nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(dropout)
        self.classify = nn.Linear(features, n_classes)

    def features(self, crops: torch.Tensor) -> torch.Tensor:
        """(b, 2, 64, 64) -> (b, features): the last hidden layer (after its ReLU), the representation."""
        return self.hidden(self.convs(crops if self.rfp else crops[:, :1]))

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(b, 2, 64, 64) -> (logits (b, n_classes), features (b, features))."""
        features = self.features(crops)
        return self.classify(self.dropout(features)), features


def forward_flops(n_classes: int, width: float = 1.0, rfp: bool = False, dense1: int = 128, features: int = 64) -> int:
    """Floating-point operations of one cell's forward pass (a multiply-add counts 2): convolutions and fully
    connected layers only (batch norm, ReLU and pooling are a few % more, left out)."""
    flops, side, channels = 0, 64, 2 if rfp else 1
    for step in CONV_WIDTHS:
        if step == "pool":
            side //= 2
            continue
        out = max(1, int(step * width))
        side -= 2
        flops += 2 * side * side * channels * out * 9
        channels = out
    return flops + 2 * (channels * side * side * dense1 + dense1 * features + features * n_classes)

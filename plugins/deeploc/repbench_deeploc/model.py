"""The DeepLoc network (Kraus et al. 2017, as used by Razdaibiedina & Brechalov 2022).

Input (b, 2, 64, 64) -> eight 3x3 convolutions, each with batch norm and ReLU, max-pooled after the
2nd, 4th and 8th: 64, 64, pool, 128, 128, pool, 256, 256, 256, 256, pool -> (b, 256, 8, 8) ->
flatten (16,384 values; DeepLoc keeps where in the crop a pattern is, no global pooling) ->
fully connected 512 -> 512 (each with batch norm and ReLU, as DeepLoc normalises every layer) ->
``n_classes`` logits. The protein representation is the 512 activations of the last hidden layer.
"""

from __future__ import annotations

import torch
from torch import nn

CONV_WIDTHS = (64, 64, "pool", 128, 128, "pool", 256, 256, 256, 256, "pool")
HIDDEN = 512


def _conv_stack(in_channels: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in CONV_WIDTHS:
        if width == "pool":
            layers.append(nn.MaxPool2d(2))
            continue
        # no conv bias: the batch norm right after it has its own shift
        layers += [
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        in_channels = width
    return nn.Sequential(*layers)


class DeepLocNet(nn.Module):
    def __init__(self, n_classes: int, in_channels: int = 2, crop: int = 64):
        super().__init__()
        self.convs = _conv_stack(in_channels)
        flat = 256 * (crop // 8) ** 2
        self.hidden = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat, HIDDEN, bias=False),
            nn.BatchNorm1d(HIDDEN),
            nn.ReLU(inplace=True),
            nn.Linear(HIDDEN, HIDDEN, bias=False),
            nn.BatchNorm1d(HIDDEN),
            nn.ReLU(inplace=True),
        )
        self.classify = nn.Linear(HIDDEN, n_classes)

    def features(self, crops: torch.Tensor) -> torch.Tensor:
        """(b, 2, 64, 64) -> (b, 512): the last hidden layer, the representation."""
        return self.hidden(self.convs(crops))

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(b, 2, 64, 64) -> (logits (b, n_classes), features (b, 512))."""
        features = self.features(crops)
        return self.classify(features), features


def forward_flops(crop: int = 64, in_channels: int = 2, n_classes: int = 17) -> int:
    """Floating-point operations of one cell's forward pass (a multiply-add counts 2), convolutions and
    fully connected layers only (batch norm, ReLU and pooling are a few % more, left out)."""
    flops, size, channels = 0, crop, in_channels
    for width in CONV_WIDTHS:
        if width == "pool":
            size //= 2
            continue
        flops += 2 * size * size * channels * width * 9
        channels = width
    flops += 2 * (channels * size * size * HIDDEN + HIDDEN * HIDDEN + HIDDEN * n_classes)
    return flops

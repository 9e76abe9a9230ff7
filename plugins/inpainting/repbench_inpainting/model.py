"""The paired cell inpainting network (Lu et al. 2019), in PyTorch.

Inputs: the source cell, both channels (n, 2, 64, 64), and the target cell's marker channel (n, 1, 64, 64).
Output: the predicted target protein channel (n, 1, 64, 64).

Layout as in the authors' Keras code (github.com/alexxijielu/paired_cell_inpainting, ``pair_model.py``):

- source encoder: conv1_1 (96) - pool - conv2_1 (256) - pool - conv3_1 (384) - conv4_1 (384) - conv5_1 (256),
  all 3x3, "same" padding, so the last three work at 16x16;
- target-marker encoder: rfpconv1_1 (16) - pool - rfpconv2_1 (32) - pool - rfpconv3_1 (32), also down to 16x16;
- the two 16x16 feature maps are concatenated along channels (256 + 32);
- decoder: conv6_1 (256) - conv7_1 (384) - conv8_1 (384) - upsample x2 - conv9_1 (256) - upsample x2 -
  conv10_1 (96) - a 1x1 convolution to one channel, no activation (the predicted protein channel).

Each encoder convolution is convolution -> ReLU -> batch norm, the order of the Keras code
(``Conv2D(activation='relu')`` followed by ``BatchNormalization``); the decoder has no batch norm, as there.
Pooling is 2x2 max pooling after the first two stages of each encoder (the paper's figure and code).
The feature a layer "conv3_1" gives is that convolution's ReLU output, before its batch norm: the tensor
the authors' ``extract_features.py`` reads with ``get_layer("conv3_1").output``.

``width`` scales every channel count (1.0 = the published network); the quick protocol uses a narrower
network so that it trains in minutes on a CPU.
"""

from __future__ import annotations

import torch
from torch import nn

SOURCE_CHANNELS = {"conv1_1": 96, "conv2_1": 256, "conv3_1": 384, "conv4_1": 384, "conv5_1": 256}
MARKER_CHANNELS = (16, 32, 32)
DECODER_CHANNELS = {"conv6_1": 256, "conv7_1": 384, "conv8_1": 384, "conv9_1": 256, "conv10_1": 96}
LAYERS = tuple(SOURCE_CHANNELS)  # the layers a protein vector can be read from
POOL_AFTER = ("conv1_1", "conv2_1")  # 64x64 -> 32x32 -> 16x16


def scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


class EncoderStage(nn.Module):
    """3x3 convolution -> ReLU -> batch norm; ``forward`` returns (ReLU output = the feature, normalised)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feature = torch.relu(self.conv(x))
        return feature, self.norm(feature)


class PairedCellInpainting(nn.Module):
    def __init__(self, width: float = 1.0):
        super().__init__()
        self.width = width
        source, channels = {}, 2
        for name, out in SOURCE_CHANNELS.items():
            source[name] = EncoderStage(channels, scaled(out, width))
            channels = scaled(out, width)
        self.source = nn.ModuleDict(source)
        marker, marker_channels = [], 1
        for out in MARKER_CHANNELS:
            marker.append(EncoderStage(marker_channels, scaled(out, width)))
            marker_channels = scaled(out, width)
        self.marker = nn.ModuleList(marker)
        decoder, channels = [], channels + marker_channels
        for name, out in DECODER_CHANNELS.items():
            if name in ("conv9_1", "conv10_1"):
                decoder.append(nn.Upsample(scale_factor=2, mode="nearest"))  # Keras UpSampling2D
            decoder += [nn.Conv2d(channels, scaled(out, width), 3, padding=1), nn.ReLU()]
            channels = scaled(out, width)
        decoder.append(nn.Conv2d(channels, 1, 1))
        self.decoder = nn.Sequential(*decoder)
        self.pool = nn.MaxPool2d(2)

    def encode(self, source: torch.Tensor, upto: str = "conv5_1") -> tuple[torch.Tensor, torch.Tensor]:
        """Source cells (n, 2, 64, 64) -> (the ReLU feature of layer ``upto`` (n, c, h, w), the normalised
        map that feeds the next stage)."""
        x = source
        for name, stage in self.source.items():
            feature, x = stage(x)
            if name in POOL_AFTER:
                x = self.pool(x)
            if name == upto:
                return feature, x
        raise ValueError(f"unknown layer {upto!r}; expected one of {', '.join(LAYERS)}")

    def forward(self, source: torch.Tensor, target_marker: torch.Tensor) -> torch.Tensor:
        """(n, 2, 64, 64), (n, 1, 64, 64) -> predicted target protein channel (n, 1, 64, 64)."""
        _, x = self.encode(source)
        y = target_marker
        for position, stage in enumerate(self.marker):
            _, y = stage(y)
            if position < 2:
                y = self.pool(y)
        return self.decoder(torch.cat([x, y], dim=1))

    @torch.no_grad()
    def protein_features(self, source: torch.Tensor, layer: str = "conv3_1") -> torch.Tensor:
        """Cells (n, 2, 64, 64) -> the layer's ReLU output max-pooled over space (n, channels of layer)."""
        feature, _ = self.encode(source, upto=layer)
        return feature.amax(dim=(2, 3))

"""LRM translator networks, as published (see docs/translator.md for the numbers).

Encoder E (shared by both domains) turns a (C, H, W) image into a 64-channel latent at
half resolution; channels 0..31 are the content half, 32..63 the style half. The
decoder D turns a latent back into an image. Translation source -> target is
``D(cat(E(Is)[:32], E(It)[32:]))``: the source's content half with the one-shot
target's style half, at the same spatial positions. With 3 bands, E has 57,408 and D
57,251 parameters: 114,659, the paper's "0.115M". The first and last layers follow the
band count, so any number of bands works.
"""

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

ARCHITECTURE = "lrm-i2it"
ARCHITECTURE_VERSION = 1
WIDTH = 32          # channels inside encoder and decoder
LATENT = 2 * WIDTH  # latent channels; the first WIDTH are content, the rest style


class BatchInstanceNorm2d(nn.Module):
    """Batch-instance normalisation (Nam & Kim 2018).

    ``weight * (gate * BN(x) + (1 - gate) * IN(x)) + bias`` per channel, gate
    initialised to 1. As in the BIN paper (unlike the published LRM code) the gate is
    clamped to [0, 1] after every optimiser step (``clamp_gate_``), so the output stays
    a convex mix of the two normalisations; an unclamped gate can leave that range and
    amplify one branch against the other.

    BN uses batch statistics while training and running statistics in eval mode
    (translation), so the result does not depend on which windows share a batch.
    The training loop encodes the source batch together with the one-shot target, so
    even BATCH_SIZE 1 gives the BN branch two images (it never degenerates into an
    instance norm that eval mode cannot reproduce), and validation runs in eval mode,
    so early stopping judges the model the way translation uses it.
    """

    def __init__(self, channels, eps=1e-5, momentum=0.1):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=eps, momentum=momentum, affine=False)
        self.inorm = nn.InstanceNorm2d(channels, eps=eps, affine=False)
        self.gate = nn.Parameter(torch.ones(channels))
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        shape = (1, -1, 1, 1)
        gate, weight = self.gate.view(shape), self.weight.view(shape)
        if torch.is_grad_enabled():
            mixed = gate * self.bn(x) + (1 - gate) * self.inorm(x)
            return mixed * weight + self.bias.view(shape)
        # the same without autograd, in place: a third of the memory on big windows
        out = self.bn(x).mul_(gate * weight)
        return out.add_(self.inorm(x).mul_((1 - gate) * weight)).add_(self.bias.view(shape))

    @torch.no_grad()
    def clamp_gate_(self):
        self.gate.clamp_(0.0, 1.0)


class ResidualBlock(nn.Module):
    """conv3x3 -> BIN -> ReLU -> conv3x3 -> BIN, plus the identity (no ReLU after)."""

    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            BatchInstanceNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            BatchInstanceNorm2d(channels),
        )

    def forward(self, x):
        return x + self.body(x)


class Encoder(nn.Module):
    def __init__(self, in_channels=3):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, WIDTH, 4, stride=2, padding=1),
            BatchInstanceNorm2d(WIDTH),
            nn.ReLU(inplace=True),
            ResidualBlock(WIDTH),
            ResidualBlock(WIDTH),
            nn.Conv2d(WIDTH, LATENT, 3, padding=1),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.layers(x)


class Decoder(nn.Module):
    def __init__(self, out_channels=3):
        super().__init__()
        self.layers = nn.Sequential(
            spectral_norm(nn.ConvTranspose2d(LATENT, WIDTH, 3, stride=1, padding=1)),
            nn.ReLU(inplace=True),
            ResidualBlock(WIDTH),
            ResidualBlock(WIDTH),
            spectral_norm(nn.ConvTranspose2d(WIDTH, out_channels, 4, stride=2, padding=1)),
        )

    def forward(self, latent):
        return self.layers(latent)


class Generator(nn.Module):
    """Encoder + decoder: the translator whose parameters the paper counts."""

    def __init__(self, channels=3):
        super().__init__()
        self.channels = channels
        self.encoder = Encoder(channels)
        self.decoder = Decoder(channels)
        # Per-band standardisation of model units (buffers: saved, not trained, not
        # counted as parameters). See docs/translator.md, "Input scaling".
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))

    def set_standardization(self, mean, std):
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-3))

    def standardize(self, x):
        return (x - self.mean.view(1, -1, 1, 1)) / self.std.view(1, -1, 1, 1)

    def encode(self, x):
        """Model units (about 0..255) -> latent."""
        return self.encoder(self.standardize(x))

    def decode(self, latent):
        """Latent -> model units."""
        return self.decoder(latent) * self.std.view(1, -1, 1, 1) + self.mean.view(1, -1, 1, 1)

    @staticmethod
    def content(latent):
        return latent[:, :WIDTH]

    @staticmethod
    def style(latent):
        return latent[:, WIDTH:]

    def decode_mixed(self, content_latent, style_latent):
        """Content half of one latent + style half of another -> model units."""
        return self.decode(torch.cat([self.content(content_latent),
                                      self.style(style_latent)], dim=1))

    def clamp_gates_(self):
        for module in self.modules():
            if isinstance(module, BatchInstanceNorm2d):
                module.clamp_gate_()


class Discriminator(nn.Module):
    """LSGAN PatchGAN: five spectral-normalised conv4x4/2 layers, C->64->128->256->512->1.

    LeakyReLU(0.2) after the first four; the last layer's output is left linear (the
    least-squares loss compares it with 0/1 and needs no squashing).
    """

    def __init__(self, in_channels=3):
        super().__init__()
        widths = [in_channels, 64, 128, 256, 512]
        layers = []
        for cin, cout in zip(widths[:-1], widths[1:]):
            layers += [spectral_norm(nn.Conv2d(cin, cout, 4, stride=2, padding=1)),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers.append(spectral_norm(nn.Conv2d(widths[-1], 1, 4, stride=2, padding=1)))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())

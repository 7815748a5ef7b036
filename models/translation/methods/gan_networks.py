"""Networks of the GAN baselines, as published.

CycleGAN (Zhu et al. 2017, the authors' ``resnet_9blocks`` generator and ``basic``
discriminator):

* Generator: reflection pad 3, conv 7x7 (ngf=64), two stride-2 convs 3x3 (128, 256),
  nine residual blocks at 256 channels (reflection pad 1, conv 3x3, instance norm,
  ReLU, reflection pad 1, conv 3x3, instance norm, added to the input), two
  transposed convs 3x3 stride 2 (128, 64), reflection pad 3, conv 7x7 to the bands,
  tanh. Instance norm without affine parameters, so every conv has a bias. For 3 bands
  this is 11,378,179 parameters (the "11.378M" of the LRM paper's Table I).
* Discriminator: 70x70 PatchGAN: conv 4x4 stride 2 (64) + LeakyReLU(0.2), convs
  4x4 stride 2 (128, 256) and stride 1 (512), each with instance norm and LeakyReLU,
  conv 4x4 stride 1 to one channel (2,764,737 parameters for 3 bands).

DualGAN (Yi et al. 2017) uses pix2pix's U-Net generator (Isola et al. 2017): seven conv
4x4 stride-2 levels (64, 128, 256, 512, 512, 512, 512; LeakyReLU(0.2) before each but the
first, batch norm after each but the first and the innermost, no conv bias before a
norm), mirrored by transposed convs 4x4 stride 2 whose inputs are concatenated with the
encoder's skip outputs (ReLU before each, batch norm after each but the last, dropout 0.5
in the two decoder levels after the innermost), tanh. For 3 bands this is 41,829,571
parameters (Table I of the LRM paper: 41.828M); its windows are multiples of 128 pixels.

ColorMapGAN (Tasar et al. 2020) uses a plain convolutional discriminator: five convs
4x4 stride 2 (64, 128, 256, 512, 1), LeakyReLU(0.2) between them, no normalisation.
Its generator is the per-colour table in :mod:`models.translation.methods.colormapgan`.
"""

import torch
from torch import nn

NGF = 64
UNET_LEVELS = 7
NDF = 64
RESIDUAL_BLOCKS = 9


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
        )

    def forward(self, x):
        return x + self.body(x)


def resnet_generator(in_channels, out_channels, ngf=NGF, blocks=RESIDUAL_BLOCKS):
    """CycleGAN's ResNet generator; input size must be a multiple of 4."""
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), nn.InstanceNorm2d(ngf),
              nn.ReLU(inplace=True)]
    channels = ngf
    for _ in range(2):
        layers += [nn.Conv2d(channels, channels * 2, 3, stride=2, padding=1),
                   nn.InstanceNorm2d(channels * 2), nn.ReLU(inplace=True)]
        channels *= 2
    layers += [ResidualBlock(channels) for _ in range(blocks)]
    for _ in range(2):
        layers += [nn.ConvTranspose2d(channels, channels // 2, 3, stride=2, padding=1,
                                      output_padding=1),
                   nn.InstanceNorm2d(channels // 2), nn.ReLU(inplace=True)]
        channels //= 2
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(channels, out_channels, 7), nn.Tanh()]
    return nn.Sequential(*layers)


class UNetGenerator(nn.Module):
    """pix2pix's U-Net (``unet_128`` for the default seven levels).

    Batch norm without running statistics: it always normalises with the statistics of
    the images it is given, as the DualGAN reference (TensorFlow, batch norm in training
    mode at test time too) does; a translator therefore treats each window on its own.
    """

    def __init__(self, in_channels, out_channels, levels=UNET_LEVELS, ngf=NGF):
        super().__init__()
        widths = [min(ngf * 2 ** i, ngf * 8) for i in range(levels)]
        self.down = nn.ModuleList()
        prev = in_channels
        for i, width in enumerate(widths):
            norm = 0 < i < levels - 1
            layers = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(prev, width, 4, stride=2, padding=1, bias=not norm))
            if norm:
                layers.append(nn.BatchNorm2d(width, track_running_stats=False))
            self.down.append(nn.Sequential(*layers))
            prev = width
        self.up = nn.ModuleList()
        for j in range(levels):
            last = j == levels - 1
            width = out_channels if last else widths[levels - 2 - j]
            inputs = widths[-1] if j == 0 else 2 * widths[levels - 1 - j]
            layers = [nn.ReLU(), nn.ConvTranspose2d(inputs, width, 4, stride=2, padding=1,
                                                    bias=last)]
            if last:
                layers.append(nn.Tanh())
            else:
                layers.append(nn.BatchNorm2d(width, track_running_stats=False))
                if 1 <= j <= levels - 5:  # pix2pix: dropout in the 512-wide levels
                    layers.append(nn.Dropout(0.5))
            self.up.append(nn.Sequential(*layers))
        self.window_multiple = 2 ** levels

    def forward(self, x):
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = skips.pop()
        for j, layer in enumerate(self.up):
            x = layer(x if j == 0 else torch.cat([x, skips.pop()], 1))
        return x


def patch_discriminator(in_channels, ndf=NDF, layers=3):
    """The 70x70 PatchGAN (``layers=3``); outputs one score per overlapping patch."""
    seq = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
    mult = 1
    for n in range(1, layers + 1):
        prev, mult = mult, min(2 ** n, 8)
        stride = 2 if n < layers else 1
        seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1),
                nn.InstanceNorm2d(ndf * mult), nn.LeakyReLU(0.2, inplace=True)]
    seq += [nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
    return nn.Sequential(*seq)


def conv_discriminator(in_channels, widths=(64, 128, 256, 512)):
    """Five convs 4x4 stride 2 (ColorMapGAN); PATCH_SIZE >= 32 gives >= 1x1 scores."""
    seq, prev = [], in_channels
    for width in widths:
        seq += [nn.Conv2d(prev, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        prev = width
    seq += [nn.Conv2d(prev, 1, 4, stride=2, padding=1)]
    return nn.Sequential(*seq)


def init_normal(module, std=0.02):
    """CycleGAN's initialisation: conv weights N(0, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module

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

ColorMapGAN (Tasar et al. 2020) uses a plain convolutional discriminator: five convs
4x4 stride 2 (64, 128, 256, 512, 1), LeakyReLU(0.2) between them, no normalisation.
Its generator is the per-colour table in :mod:`models.translation.methods.colormapgan`.
"""

from torch import nn

NGF = 64
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

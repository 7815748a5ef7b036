"""CycleGAN (Zhu et al. 2017) as the LRM paper's baseline.

Choices, following the authors' reference implementation unless said otherwise:

* Networks: two 9-block ResNet generators (SOURCE->TARGET and back; 11,378,179
  parameters each for 3 bands) and two 70x70 PatchGAN discriminators
  (:mod:`models.translation.methods.gan_networks`), weights initialised N(0, 0.02).
* Losses: LSGAN (mean squared error to 1 for real, 0 for fake), cycle consistency L1
  with lambda 10, identity L1 with weight 0.5 * lambda; discriminators trained on
  0.5 * (real + fake) with a pool of the last 50 generated images.
* Adam, lr 2e-4 (unless LEARNING_RATE is changed from its LRM default), betas
  (0.5, 0.999); constant for the first half of the epochs, then linearly decayed to 0.
* Data: CycleGAN learns a distribution, which one patch cannot show, so instead of the
  one-shot patch it samples a random PATCH_SIZE window of the whole TARGET layer for
  every target sample (and says so). TARGET_EXTENT is ignored. Batches of BATCH_SIZE
  (the reference uses 1). An epoch is one pass over the SOURCE training patches.
* Values: the shared input scaling (models units about 0..255) mapped to [-1, 1] for
  the tanh output; the output cannot leave the scaling's range (for non-8-bit data,
  the 0.5th..99.5th percentiles), which is where the generator's tanh saturates.
* No early stopping, saving after every epoch and the training loop: shared with the
  other two-generator GANs, :mod:`models.translation.methods.unpaired_gan`.

Only the SOURCE->TARGET generator is saved: it is all that translation needs.
:mod:`models.translation.methods.benjdira` trains this same model and keeps the other
generator.
"""

import itertools

import torch
import torch.nn.functional as F

from ...runtime.devices import autocast, grad_scaler
from . import unpaired_gan
from .gan_networks import NGF, RESIDUAL_BLOCKS, init_normal, patch_discriminator, resnet_generator
from .unpaired_gan import GanSpec

METHOD = "cyclegan"
PUBLISHED_LEARNING_RATE = 2e-4
BETAS = (0.5, 0.999)
LAMBDA_CYCLE = 10.0
IDENTITY_WEIGHT = 0.5  # times LAMBDA_CYCLE
POOL_SIZE = 50
WINDOW_MULTIPLE = 4    # two stride-2 downsamplings


class ImagePool:
    """The reference's history of generated images for the discriminators."""

    def __init__(self, size, rng):
        self.size, self.rng, self.images = size, rng, []

    def query(self, batch):
        out = []
        for image in batch.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif self.rng.random() < 0.5:
                k = int(self.rng.integers(len(self.images)))
                out.append(self.images[k])
                self.images[k] = image
            else:
                out.append(image)
        return torch.cat(out)


def lsgan(prediction, real):
    prediction = prediction.float()
    return F.mse_loss(prediction, torch.full_like(prediction, 1.0 if real else 0.0))


def _requires_grad(modules, flag):
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


class CycleGan:
    """The four networks, their optimisers and one training step."""

    def __init__(self, channels, device, learning_rate, rng):
        self.device = device
        self.g_st = init_normal(resnet_generator(channels, channels)).to(device)
        self.g_ts = init_normal(resnet_generator(channels, channels)).to(device)
        self.d_t = init_normal(patch_discriminator(channels)).to(device)
        self.d_s = init_normal(patch_discriminator(channels)).to(device)
        self.opt_g = torch.optim.Adam(itertools.chain(self.g_st.parameters(),
                                                      self.g_ts.parameters()),
                                      lr=learning_rate, betas=BETAS)
        self.opt_d = torch.optim.Adam(itertools.chain(self.d_t.parameters(),
                                                      self.d_s.parameters()),
                                      lr=learning_rate, betas=BETAS)
        self.pool_t, self.pool_s = ImagePool(POOL_SIZE, rng), ImagePool(POOL_SIZE, rng)
        self.scaler = grad_scaler(device)
        self.networks = [self.g_st, self.g_ts, self.d_t, self.d_s]
        self.optimizers = [self.opt_g, self.opt_d]

    def step(self, s, t):
        """One iteration on unit-range batches ``s`` (SOURCE) and ``t`` (TARGET)."""
        _requires_grad([self.d_t, self.d_s], False)
        with autocast(self.device):
            fake_t, fake_s = self.g_st(s), self.g_ts(t)
            adv = lsgan(self.d_t(fake_t), True) + lsgan(self.d_s(fake_s), True)
            cycle = (F.l1_loss(self.g_ts(fake_t).float(), s)
                     + F.l1_loss(self.g_st(fake_s).float(), t))
            identity = (F.l1_loss(self.g_st(t).float(), t) + F.l1_loss(self.g_ts(s).float(), s))
            loss_g = adv + LAMBDA_CYCLE * cycle + LAMBDA_CYCLE * IDENTITY_WEIGHT * identity
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler.scale(loss_g).backward()
        self.scaler.step(self.opt_g)
        _requires_grad([self.d_t, self.d_s], True)
        with autocast(self.device):
            old_t, old_s = self.pool_t.query(fake_t), self.pool_s.query(fake_s)
            loss_d = 0.5 * (lsgan(self.d_t(t), True) + lsgan(self.d_t(old_t), False)
                            + lsgan(self.d_s(s), True) + lsgan(self.d_s(old_s), False))
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler.scale(loss_d).backward()
        self.scaler.step(self.opt_d)
        self.scaler.update()
        return {"loss_g": loss_g.item(), "loss_d": loss_d.item(), "cycle": cycle.item()}


def build_generator(channels, architecture):
    return resnet_generator(channels, channels, int(architecture.get("ngf", NGF)),
                            int(architecture.get("blocks", RESIDUAL_BLOCKS)))


SPEC = GanSpec(method=METHOD, label="CycleGAN", published_learning_rate=PUBLISHED_LEARNING_RATE,
               make_model=CycleGan, build_generator=build_generator,
               architecture={"ngf": NGF, "blocks": RESIDUAL_BLOCKS},
               window_multiple=WINDOW_MULTIPLE)


def train(config, reporter):
    return unpaired_gan.train(SPEC, config, reporter)


def load(tensors, meta, device):
    return unpaired_gan.load(SPEC, tensors, meta, device)

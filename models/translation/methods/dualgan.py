"""DualGAN (Yi, Zhang, Tan & Gong, ICCV 2017) as the LRM paper's baseline.

Taken from the paper:

* Two U-Net generators (pix2pix's, seven levels: 41,829,571 parameters each for 3
  bands; Table I of the LRM paper gives 41.828M) and two PatchGAN discriminators
  (:mod:`models.translation.methods.gan_networks`), weights N(0, 0.02).
* Wasserstein GAN losses with weight clipping: the discriminators (critics) minimise
  D(fake) - D(real) and their weights are clipped to [-0.01, 0.01] after every update;
  the generators minimise -D(fake) plus the reconstruction L1 of both cycles
  (u -> G_A(u) -> G_B(G_A(u)) and back) weighted by lambda = 100 (the paper sets
  lambda_U = lambda_V in [100, 1000]; its published code's default is 20).
* RMSProp, learning rate 5e-5 (unless LEARNING_RATE is changed from its LRM default),
  decay 0.9; n_critic = 2 critic updates per generator update (on the same batch: the
  paper samples a new one, which changes nothing in expectation); no learning-rate decay.
* SOURCE -> TARGET generator saved, as for CycleGAN: the segmenter is trained on
  translated SOURCE images, as in the LRM paper's comparison.

Sampling, training loop and saving are shared with the other two-generator GANs
(:mod:`models.translation.methods.unpaired_gan`). PATCH_SIZE and translation windows are
multiples of 128 (seven halvings). Batch norm always uses the statistics of the images it
is given (as in the reference), so translation treats every window on its own.
"""

import itertools

import torch
import torch.nn.functional as F

from ...runtime.devices import autocast, grad_scaler
from . import unpaired_gan
from .gan_networks import NGF, UNET_LEVELS, UNetGenerator, init_normal, patch_discriminator
from .unpaired_gan import GanSpec

METHOD = "dualgan"
PUBLISHED_LEARNING_RATE = 5e-5
RMSPROP_DECAY = 0.9
LAMBDA_RECONSTRUCTION = 100.0
CLIP = 0.01
N_CRITIC = 2


def _mean_score(discriminator, images):
    return discriminator(images).float().mean()


class DualGan:
    """The four networks, their RMSProp optimisers and one training step."""

    def __init__(self, channels, device, learning_rate, rng):
        self.device = device
        self.g_st = init_normal(UNetGenerator(channels, channels)).to(device)
        self.g_ts = init_normal(UNetGenerator(channels, channels)).to(device)
        self.d_t = init_normal(patch_discriminator(channels)).to(device)
        self.d_s = init_normal(patch_discriminator(channels)).to(device)
        generators = itertools.chain(self.g_st.parameters(), self.g_ts.parameters())
        critics = list(itertools.chain(self.d_t.parameters(), self.d_s.parameters()))
        self.opt_g = torch.optim.RMSprop(generators, lr=learning_rate, alpha=RMSPROP_DECAY)
        self.opt_d = torch.optim.RMSprop(critics, lr=learning_rate, alpha=RMSPROP_DECAY)
        self.critic_parameters = critics
        self.networks = [self.g_st, self.g_ts, self.d_t, self.d_s]
        self.optimizers = [self.opt_g, self.opt_d]
        self.scaler = grad_scaler(device)

    def _critic_step(self, s, t):
        with torch.no_grad(), autocast(self.device):
            fake_t, fake_s = self.g_st(s), self.g_ts(t)
        with autocast(self.device):
            loss_d = (_mean_score(self.d_t, fake_t) - _mean_score(self.d_t, t)
                      + _mean_score(self.d_s, fake_s) - _mean_score(self.d_s, s))
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler.scale(loss_d).backward()
        self.scaler.step(self.opt_d)
        self.scaler.update()
        with torch.no_grad():
            for p in self.critic_parameters:
                p.clamp_(-CLIP, CLIP)
        return loss_d

    def step(self, s, t):
        """One generator update after N_CRITIC critic updates, on unit-range batches."""
        for _ in range(N_CRITIC):
            loss_d = self._critic_step(s, t)
        for p in self.critic_parameters:
            p.requires_grad_(False)
        with autocast(self.device):
            fake_t, fake_s = self.g_st(s), self.g_ts(t)
            adv = -_mean_score(self.d_t, fake_t) - _mean_score(self.d_s, fake_s)
            cycle = (F.l1_loss(self.g_ts(fake_t).float(), s)
                     + F.l1_loss(self.g_st(fake_s).float(), t))
            loss_g = adv + LAMBDA_RECONSTRUCTION * cycle
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler.scale(loss_g).backward()
        self.scaler.step(self.opt_g)
        self.scaler.update()
        for p in self.critic_parameters:
            p.requires_grad_(True)
        return {"loss_g": loss_g.item(), "loss_d": loss_d.item(), "cycle": cycle.item()}


def build_generator(channels, architecture):
    return UNetGenerator(channels, channels, int(architecture.get("levels", UNET_LEVELS)),
                         int(architecture.get("ngf", NGF)))


SPEC = GanSpec(method=METHOD, label="DualGAN", published_learning_rate=PUBLISHED_LEARNING_RATE,
               make_model=DualGan, build_generator=build_generator,
               architecture={"ngf": NGF, "levels": UNET_LEVELS},
               window_multiple=2 ** UNET_LEVELS, decay_second_half=False)


def train(config, reporter):
    return unpaired_gan.train(SPEC, config, reporter)


def load(tensors, meta, device):
    return unpaired_gan.load(SPEC, tensors, meta, device, one_window_at_a_time=True)

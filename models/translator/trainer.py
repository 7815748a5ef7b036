"""One training iteration and one validation pass of the LRM translator.

Per iteration the source batch and the one-shot target go through the encoder as one
batch (see BatchInstanceNorm2d: the BN branch never sees a single image), and the
decoder reconstructs the source, translates it (source content half + target style
half) and reconstructs the target, again as one batch. Then the discriminator takes a
step (real: the target, fake: the translations), with the same adversarial weight.
"""

import torch
import torch.nn.functional as F

from ..devices import autocast, grad_scaler
from .losses import PerceptualLoss, lsgan
from .network import WIDTH

ADAM_BETAS = (0.5, 0.999)


def one_cycle(optimizer, max_lr, total_steps):
    """OneCycle (as the published code): warm up over 30%, then cosine annealing."""
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr,
                                               total_steps=max(2, total_steps),
                                               pct_start=0.3)


class Trainer:
    def __init__(self, generator, discriminator, vgg, target, config, device, total_steps):
        self.gen, self.dis, self.device, self.cfg = generator, discriminator, device, config
        self.target = target  # (1, C, P, P) in model units, on device
        self.perceptual = PerceptualLoss(vgg, target, generator.channels)
        kw = dict(lr=config.learning_rate, betas=ADAM_BETAS, weight_decay=config.weight_decay)
        self.opt_g = torch.optim.Adam(generator.parameters(), **kw)
        self.opt_d = torch.optim.Adam(discriminator.parameters(), **kw)
        self.sched_g = one_cycle(self.opt_g, config.learning_rate, total_steps)
        self.sched_d = one_cycle(self.opt_d, config.learning_rate, total_steps)
        self.total_steps = max(2, total_steps)
        self.scaler_g, self.scaler_d = grad_scaler(device), grad_scaler(device)

    def _dis(self, images):
        """The discriminator sees standardised images (well-conditioned inputs)."""
        return self.dis(self.gen.standardize(images))

    @property
    def learning_rate(self):
        return self.opt_g.param_groups[0]["lr"]

    def _forward(self, source):
        """Reconstruction of source and target, and the translation, in one pass."""
        b = source.shape[0]
        latent = self.gen.encode(torch.cat([source, self.target], dim=0))
        ls, lt = latent[:b], latent[b:]
        mixed = torch.cat([ls[:, :WIDTH], lt[:, WIDTH:].expand(b, -1, -1, -1)], dim=1)
        out = self.gen.decode(torch.cat([ls, mixed, lt], dim=0))
        return out[:b], out[b:2 * b], out[2 * b:]

    def _generator_losses(self, source, rec_s, translated, rec_t, adversarial=True):
        cfg = self.cfg
        losses = {"rec": F.l1_loss(rec_s.float(), source) + F.l1_loss(rec_t.float(), self.target)}
        content, style = self.perceptual(source, translated)
        losses.update(content=content, style=style)
        total = (cfg.lambda_rec * losses["rec"] + cfg.lambda_content * content
                 + cfg.lambda_style * style)
        if adversarial:
            losses["adv"] = lsgan(self._dis(translated), real=True)
            total = total + cfg.lambda_adv * losses["adv"]
        losses["total"] = total
        return losses

    def step(self, source):
        """One iteration on a (N, C, P, P) model-unit batch; returns float losses."""
        self.gen.train()
        self.dis.train()
        self.dis.requires_grad_(False)
        with autocast(self.device):
            rec_s, translated, rec_t = self._forward(source)
            losses = self._generator_losses(source, rec_s, translated, rec_t)
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(losses["total"]).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        self.gen.clamp_gates_()

        self.dis.requires_grad_(True)
        with autocast(self.device):
            real = lsgan(self._dis(self.target), real=True)
            fake = lsgan(self._dis(translated.detach()), real=False)
            d_loss = self.cfg.lambda_adv * 0.5 * (real + fake)
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(d_loss).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        if self.sched_g.last_epoch < self.total_steps - 1:
            self.sched_g.step()
            self.sched_d.step()
        out = {k: float(v.detach()) for k, v in losses.items()}
        out["dis"] = float(d_loss.detach())
        return out

    @torch.no_grad()
    def validate(self, batches):
        """Eval-mode losses on held-out source patches (no adversarial term).

        The discriminator changes during training, so its term is not comparable from
        one epoch to the next; validation loss = lambda_rec * reconstruction +
        lambda_content * content + lambda_style * style, averaged over patches.
        """
        self.gen.eval()
        sums, count = {}, 0
        for source in batches:
            with autocast(self.device):
                rec_s, translated, rec_t = self._forward(source)
                losses = self._generator_losses(source, rec_s, translated, rec_t,
                                                adversarial=False)
            n = source.shape[0]
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v) * n
            count += n
        self.gen.train()
        return {k: v / max(count, 1) for k, v in sums.items()}

    @torch.no_grad()
    def target_style(self):
        """The target's style half (WIDTH, P/2, P/2), eval mode, float32."""
        self.gen.eval()
        latent = self.gen.encode(self.target.float())
        self.gen.train()
        return latent[0, WIDTH:].float()

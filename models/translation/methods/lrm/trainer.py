"""One training iteration and one validation pass of the LRM translator.

Per iteration the source batch and a PATCH_SIZE view of the one-shot target go through
the encoder as one batch (see BatchInstanceNorm2d: the BN branch never sees a single
image), and the decoder reconstructs the source, translates it (source content half +
target style half) and reconstructs the target, again as one batch. Then the
discriminator takes a step (real: the target, fake: the translations).

Two loss families (``PERCEPTUAL_LOSS``, resolved in ``perceptual.py``):

* ``vgg19``: the published losses (L1 reconstruction, LSGAN, VGG19 content and Gram
  style, weights LAMBDA_*), with ImageNet or random VGG19 weights. With a one-shot
  sample of PATCH_SIZE (``ONE_SHOT_SIZE`` 0, or equal to the patch) this is exactly the
  published training step.
* ``weight_free``: ``weight_free.py`` (sliced Wasserstein style, local-affine structure,
  an anchor to the source released over the first 70% of the run, augmented LSGAN with
  R1), in standardised units with fixed weights. Validation leaves the anchor out (its
  weight changes during the run), as it leaves out the adversarial term.

One-shot samples larger than PATCH_SIZE: each iteration takes a random PATCH_SIZE crop
(random flip and 90-degree turn) of the sample for the target branch, drawn from a
generator of its own (the global random stream stays as it was); style statistics
(Grams, sliced Wasserstein) use the whole sample.

Style mixing (``STYLE_MIXING``): ``spatial`` (published) puts the target's style half at
the same spatial positions; ``global`` averages the style half over space first, so the
translation carries the target's look but none of the one-shot patch's own layout.
"""

import torch
import torch.nn.functional as F

from .... import contract
from ....runtime.devices import autocast, grad_scaler
from . import weight_free as wf
from .losses import PerceptualLoss, lsgan
from .network import WIDTH

ADAM_BETAS = (0.5, 0.999)
MIXINGS = contract.STYLE_MIXINGS  # STYLE_MIXING enum order: 0 spatial, 1 global


def one_cycle(optimizer, max_lr, total_steps):
    """OneCycle (as the published code): warm up over 30%, then cosine annealing."""
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr,
                                               total_steps=max(2, total_steps),
                                               pct_start=0.3)


class Trainer:
    """Training step and validation of the LRM translator.

    ``vgg`` is the frozen VGG19 feature network for the ``vgg19`` family, None for
    ``weight_free``. ``target`` is the whole one-shot sample (1, C, S, S) in model units,
    S >= PATCH_SIZE.
    """

    def __init__(self, generator, discriminator, vgg, target, config, device, total_steps,
                 mixing="spatial", average_gradients=None):
        """``average_gradients(module)``: in a data-parallel group, averages a network's
        gradients over the ranks before each optimiser step."""
        if mixing not in MIXINGS:
            raise ValueError(f"style mixing must be one of {MIXINGS}, not {mixing!r}")
        self.gen, self.dis, self.device, self.cfg = generator, discriminator, device, config
        self.family = "weight_free" if vgg is None else "vgg19"
        self.mixing = mixing
        self.target = target  # (1, C, S, S) in model units, on device
        with torch.no_grad():  # fixed: the standardisation buffers are not trained
            self.target_standardised = generator.standardize(target.float())
        self.patch = min(config.patch_size, target.shape[-1], target.shape[-2])
        self.views = torch.Generator().manual_seed(int(config.seed) + 7919)
        self.perceptual = PerceptualLoss(vgg, target, generator.channels) if vgg is not None else None
        kw = dict(lr=config.learning_rate, betas=ADAM_BETAS, weight_decay=config.weight_decay)
        self.opt_g = torch.optim.Adam(generator.parameters(), **kw)
        self.opt_d = torch.optim.Adam(discriminator.parameters(), **kw)
        self.sched_g = one_cycle(self.opt_g, config.learning_rate, total_steps)
        self.sched_d = one_cycle(self.opt_d, config.learning_rate, total_steps)
        self.total_steps = max(2, total_steps)
        self.steps = 0  # iterations taken (the anchor's schedule)
        self.scaler_g, self.scaler_d = grad_scaler(device), grad_scaler(device)
        self.average_gradients = average_gradients or (lambda module: None)

    def _dis(self, images):
        """The discriminator sees standardised images (well-conditioned inputs)."""
        return self.dis(self.gen.standardize(images))

    @property
    def anchor_released(self):
        """True once the weight-free anchor weighs nothing (always True for vgg19)."""
        return self.family != "weight_free" or wf.anchor_weight(self.steps, self.total_steps) == 0

    @property
    def learning_rate(self):
        return self.opt_g.param_groups[0]["lr"]

    def target_view(self, training=True):
        """The PATCH_SIZE view of the one-shot sample for this iteration (the whole sample
        when it is PATCH_SIZE; its top-left crop when validating)."""
        if self.target.shape[-1] == self.patch and self.target.shape[-2] == self.patch:
            return self.target
        if not training:
            return self.target[:, :, :self.patch, :self.patch]
        return wf.augment(self.target, self.patch, self.views)

    def _style_half(self, target_latent, count):
        style = target_latent[:, WIDTH:]
        if self.mixing == "global":
            style = style.mean(dim=(2, 3), keepdim=True).expand(-1, -1, *style.shape[-2:])
        return style.expand(count, -1, -1, -1)

    def _forward(self, source, target):
        """Reconstruction of source and target, and the translation, in one pass."""
        b = source.shape[0]
        latent = self.gen.encode(torch.cat([source, target], dim=0))
        ls, lt = latent[:b], latent[b:]
        mixed = torch.cat([ls[:, :WIDTH], self._style_half(lt, b)], dim=1)
        out = self.gen.decode(torch.cat([ls, mixed, lt], dim=0))
        return out[:b], out[b:2 * b], out[2 * b:]

    def _generator_losses(self, source, target, rec_s, translated, rec_t, adversarial=True,
                          generator=None):
        if self.family == "weight_free":
            return self._weight_free_losses(source, target, rec_s, translated, rec_t,
                                            adversarial, generator)
        cfg = self.cfg
        losses = {"rec": F.l1_loss(rec_s.float(), source) + F.l1_loss(rec_t.float(), target)}
        content, style = self.perceptual(source, translated)
        losses.update(content=content, style=style)
        total = (cfg.lambda_rec * losses["rec"] + cfg.lambda_content * content
                 + cfg.lambda_style * style)
        if adversarial:
            losses["adv"] = lsgan(self._dis(translated), real=True)
            total = total + cfg.lambda_adv * losses["adv"]
        losses["total"] = total
        return losses

    def _weight_free_losses(self, source, target, rec_s, translated, rec_t, adversarial,
                            generator):
        std = self.gen.standardize
        s, t = std(source), std(target)
        fake = std(translated.float())
        losses = {"rec": F.l1_loss(std(rec_s.float()), s) + F.l1_loss(std(rec_t.float()), t),
                  "style": wf.style_loss(fake, self.target_standardised, generator),
                  "structure": wf.structure_loss(fake, s)}
        total = sum(wf.WEIGHTS[k] * losses[k] for k in losses)
        if adversarial:  # training: the anchor and the adversary (not validated)
            # logged every iteration (so the epoch means are means), weighted while it holds
            losses["anchor"] = wf.anchor_loss(fake, s)
            weight = wf.anchor_weight(self.steps, self.total_steps)
            if weight > 0:
                total = total + weight * losses["anchor"]
            crop = wf.crop_size(self.patch)
            losses["adv"] = lsgan(self.dis(wf.augment(fake, crop, self.views)), real=True)
            total = total + wf.WEIGHTS["adv"] * losses["adv"]
        losses["total"] = total
        return losses

    def step(self, source):
        """One iteration on a (N, C, P, P) model-unit batch; returns float losses."""
        self.steps += 1
        self.gen.train()
        self.dis.train()
        self.dis.requires_grad_(False)
        target = self.target_view()
        with autocast(self.device):
            rec_s, translated, rec_t = self._forward(source, target)
            losses = self._generator_losses(source, target, rec_s, translated, rec_t)
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(losses["total"]).backward()
        self.average_gradients(self.gen)
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        self.gen.clamp_gates_()

        self.dis.requires_grad_(True)
        d_loss = self._discriminator_loss(translated.detach(), target)
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(d_loss).backward()
        self.average_gradients(self.dis)
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        if self.sched_g.last_epoch < self.total_steps - 1:
            self.sched_g.step()
            self.sched_d.step()
        out = {k: float(v.detach()) for k, v in losses.items()}
        out["dis"] = float(d_loss.detach())
        return out

    def _discriminator_loss(self, fake, target):
        if self.family == "vgg19":
            with autocast(self.device):
                real = lsgan(self._dis(target), real=True)
                fake = lsgan(self._dis(fake), real=False)
                return self.cfg.lambda_adv * 0.5 * (real + fake)
        # weight_free: augmented crops of the whole one-shot sample against augmented fakes
        crop = wf.crop_size(self.patch)
        real_views = wf.augment(self.target_standardised.expand(fake.shape[0], -1, -1, -1), crop,
                                self.views)
        fake_views = wf.augment(self.gen.standardize(fake.float()), crop, self.views)
        with autocast(self.device):
            loss = 0.5 * (lsgan(self.dis(real_views), real=True)
                          + lsgan(self.dis(fake_views), real=False))
        return loss + wf.r1_penalty(self.dis, real_views)

    @torch.no_grad()
    def validate(self, batches):
        """Eval-mode losses on held-out source patches (no adversarial term).

        The discriminator changes during training, so its term is not comparable from
        one epoch to the next; validation loss = the weighted sum of the other terms,
        averaged over patches (weight-free: with the same random projections each time).
        """
        self.gen.eval()
        sums, count = {}, 0
        target = self.target_view(training=False)
        projections = torch.Generator(device=self.target.device).manual_seed(0)
        for source in batches:
            with autocast(self.device):
                rec_s, translated, rec_t = self._forward(source, target)
                losses = self._generator_losses(source, target, rec_s, translated, rec_t,
                                                adversarial=False, generator=projections)
            n = source.shape[0]
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v) * n
            count += n
        self.gen.train()
        return {k: v / max(count, 1) for k, v in sums.items()}

    @torch.no_grad()
    def diagnostics(self, batches):
        """Label-free figures of the current model on held-out source patches, whatever the
        loss family: the weight-free style distance (sliced Wasserstein, standardised
        units) from the one-shot sample of the source and of its translation, and the
        structure loss between them (0 = layout kept)."""
        self.gen.eval()
        target = self.target_view(training=False)
        std = self.gen.standardize
        sums, count = {"style_source": 0.0, "style_translated": 0.0, "structure": 0.0}, 0
        for source in batches:
            projections = torch.Generator(device=self.target.device).manual_seed(0)
            _, translated, _ = self._forward(source, target)
            s, fake, real = std(source), std(translated.float()), self.target_standardised
            n = source.shape[0]
            sums["style_source"] += n * float(wf.style_loss(s, real, projections))
            projections.manual_seed(0)
            sums["style_translated"] += n * float(wf.style_loss(fake, real, projections))
            sums["structure"] += n * float(wf.structure_loss(fake, s))
            count += n
        self.gen.train()
        return {k: v / max(count, 1) for k, v in sums.items()}

    @torch.no_grad()
    def target_style(self):
        """The style half translation uses, eval mode, float32: (WIDTH, S/2, S/2) of the
        whole one-shot sample (spatial mixing) or its mean over space (WIDTH, 1, 1)."""
        self.gen.eval()
        latent = self.gen.encode(self.target.float())
        self.gen.train()
        style = latent[0, WIDTH:].float()
        return style.mean(dim=(1, 2), keepdim=True) if self.mixing == "global" else style

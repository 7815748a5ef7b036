"""Losses for the LRM translator that need no pretrained network ("weight_free").

Without ImageNet VGG19 weights the published content and style terms come from a random
VGG19: they are tiny next to the adversarial term, whose only real sample is the one-shot
patch, so the discriminator memorises that patch and the generator copies it
(docs/translator.md). These terms replace VGG19 with statistics that are meaningful on
their own, on the same 114,659-parameter network:

* style: sliced Wasserstein distances between the translated batch and the one-shot target,
  jointly over all bands, on single pixels and on 3x3 neighbourhoods, at three scales (full,
  1/2 and 1/4 resolution). Joint projections see cross-band and class-dependent colour
  changes that per-band histograms cannot; neighbourhoods at three scales see texture,
  sharpness and blur (Heitz et al., CVPR 2021, "A sliced Wasserstein loss for neural texture
  synthesis"; Elnekave & Weiss, ECCV 2022, "Generating natural images with direct patch
  distributions matching").
* structure: how much of each image the other one does NOT explain by a *local* affine
  colour map (a guided-filter / matting-Laplacian model, Levin et al. 2008, He et al. 2013;
  used as the photorealism term of Luan et al., CVPR 2017). In every 7x7 window the
  translation's bands are regressed on the source's bands and vice versa; the residual
  variance, relative to the images' local variance, is the loss. A colour change, even a
  different one for every class, leaves it near 0; a lost edge, a moved object or a
  shuffled image makes it large (about 1).
* anchor: an L1 pull of the translation towards the source itself, strong at the start
  and released linearly to zero by ANCHOR_RELEASE of the planned iterations. Style,
  structure and the adversary are all satisfied by many colour maps: one that sends the
  source's roofs to the one-shot sample's road colours scores as well as the right one
  whenever the sample's class proportions differ from the source's (they always do with
  one image). Left alone, a randomly initialised translator lands on one of them by
  chance (measured: trees and grass turned roof-grey, roads grass-brown). Moving
  towards the target's distribution while every pixel is held back by its own
  displacement (style + weight x displacement, the weight falling to 0: a continuation
  of penalised optimal transport) selects a least-displacement map, the choice optimal
  transport makes (Brenier; Rabin, Ferradans & Papadakis, ICIP 2014, for colour
  transfer) and the one per-band histogram matching makes in one dimension. Released
  before the end, it leaves no bias towards the source.
* adversary: the LSGAN discriminator sees differentiably augmented real and fake images
  (random crops, flips, 90-degree rotations: DiffAugment, Zhao et al., NeurIPS 2020), is
  held back by an R1 gradient penalty on the real samples (Mescheder et al., ICML 2018),
  and its generator term has a small fixed weight, so it refines the style but cannot
  swamp the other terms.

Scale-free: every term is computed on the generator's standardised images (per-band
mean 0, standard deviation 1 over the pooled source and target pixels), so the balance
between the terms does not depend on band count, data type or value range: 8-bit, 16-bit
and float rasters get the same losses for the same picture (tested). The weights below are
fixed constants of the method, not per-sensor knobs.
"""

import math

import torch
import torch.nn.functional as F

# The weights of the weight-free family (standardised units; see the module docstring).
WEIGHTS = {"rec": 1.0, "style": 1.0, "structure": 1.0, "adv": 0.1, "anchor": 1.0}
ANCHOR_RELEASE = 0.7      # the anchor's weight falls linearly to 0 by this share of the run
R1_GAMMA = 0.1            # R1 penalty on the discriminator's real samples
STYLE_SCALES = 3          # full, 1/2, 1/4 resolution
PROJECTIONS = 32          # random directions per sliced Wasserstein term
MAX_VECTORS = 16384       # vectors per image set and term (random subsample beyond)
STRUCTURE_WINDOW = 7      # side of the local affine colour windows (pixels)
STRUCTURE_EPS = 1e-2      # ridge of the local regressions (standardised units squared)


def _vectors(images, neighbourhood):
    """(N, C, H, W) -> (N*H*W, C*k*k) pixel or k x k neighbourhood vectors."""
    if neighbourhood == 1:
        return images.permute(0, 2, 3, 1).reshape(-1, images.shape[1])
    patches = F.unfold(images, neighbourhood)  # (N, C*k*k, L)
    return patches.permute(0, 2, 1).reshape(-1, patches.shape[1])


def _subsample(vectors, count, generator):
    if vectors.shape[0] <= count:
        return vectors
    index = torch.randint(0, vectors.shape[0], (count,), device=vectors.device,
                          generator=generator)
    return vectors[index]


def sliced_wasserstein(fake, real, directions):
    """Mean absolute difference of the sorted projections (sliced Wasserstein-1).

    ``fake`` (N, D) and ``real`` (M, D) may differ in count: the real side's sorted
    projections are read at the fake side's quantiles. ``directions`` (D, K) are unit
    vectors. Gradients flow to ``fake``.
    """
    pf = torch.sort(fake @ directions, dim=0)[0]
    with torch.no_grad():
        pr = torch.sort(real @ directions, dim=0)[0]
        if pr.shape[0] != pf.shape[0]:
            at = torch.linspace(0, pr.shape[0] - 1, pf.shape[0], device=pr.device)
            low = at.floor().long()
            high = (low + 1).clamp_max(pr.shape[0] - 1)
            frac = (at - low).unsqueeze(1)
            pr = pr[low] * (1 - frac) + pr[high] * frac
    return (pf - pr).abs().mean()


def random_directions(dim, count, device, generator=None):
    d = torch.randn(dim, count, device=device, generator=generator)
    return d / d.norm(dim=0, keepdim=True).clamp_min(1e-12)


def style_loss(fake, real, generator=None):
    """Multi-scale sliced Wasserstein distance on pixels and 3x3 neighbourhoods.

    ``fake`` (N, C, H, W) and ``real`` (M, C, H', W') standardised images; the real side
    carries no gradient. Returns the mean over 2 x STYLE_SCALES terms.
    """
    terms = []
    for scale in range(STYLE_SCALES):
        if scale:
            fake = F.avg_pool2d(fake, 2)
            real = F.avg_pool2d(real, 2)
        for k in (1, 3):
            if min(fake.shape[-2:]) < k or min(real.shape[-2:]) < k:
                continue
            vf = _subsample(_vectors(fake.float(), k), MAX_VECTORS, generator)
            vr = _subsample(_vectors(real.float(), k), MAX_VECTORS, generator)
            directions = random_directions(vf.shape[1], PROJECTIONS, fake.device, generator)
            terms.append(sliced_wasserstein(vf, vr, directions))
    return torch.stack(terms).mean()


def _local_mean(x, window):
    return F.avg_pool2d(x, window, stride=1, padding=window // 2, count_include_pad=False)


def _unexplained(y, x, window, eps):
    """Per-pixel variance of y (N, C, H, W) not explained by a local affine map of x."""
    n, c, h, w = x.shape
    mx, my = _local_mean(x, window), _local_mean(y, window)
    # local covariances: (N, H, W, C, C) for x with x, and y with x
    xx = torch.einsum("nihw,njhw->nijhw", x, x)
    yx = torch.einsum("nihw,njhw->nijhw", y, x)
    cxx = _local_mean(xx.reshape(n, c * c, h, w), window).reshape(n, c, c, h, w)
    cyx = _local_mean(yx.reshape(n, y.shape[1] * c, h, w), window).reshape(n, y.shape[1], c, h, w)
    cxx = cxx - torch.einsum("nihw,njhw->nijhw", mx, mx)
    cyx = cyx - torch.einsum("nihw,njhw->nijhw", my, mx)
    vy = _local_mean(y * y, window) - my * my                      # (N, Cy, H, W)
    cxx = cxx.permute(0, 3, 4, 1, 2) + eps * torch.eye(c, device=x.device)  # (N, H, W, C, C)
    cyx = cyx.permute(0, 3, 4, 1, 2)                                # (N, H, W, Cy, C)
    coef = torch.linalg.solve(cxx, cyx.transpose(-1, -2))           # (N, H, W, C, Cy)
    explained = (cyx * coef.transpose(-1, -2)).sum(-1)              # (N, H, W, Cy)
    return (vy.permute(0, 2, 3, 1) - explained).clamp_min(0), vy.clamp_min(0)


def structure_loss(translated, source, window=STRUCTURE_WINDOW, eps=STRUCTURE_EPS):
    """Symmetric local-affine residual between translation and source (0 = same structure).

    Both (N, C, H, W), standardised. For each image the residual variance that a local
    affine colour map of the other image leaves unexplained, summed over bands and pixels,
    divided by that image's summed local variance (plus eps per band). About 0 for any
    per-pixel colour change that is locally affine (class-dependent changes included),
    about 1 for unrelated images.
    """
    translated, source = translated.float(), source.float()
    terms = []
    for y, x in ((translated, source), (source, translated)):
        residual, variance = _unexplained(y, x, window, eps)
        terms.append(residual.mean() / (variance.mean() + eps))
    return 0.5 * (terms[0] + terms[1])


def anchor_weight(step, total_steps):
    """Weight of the anchor term at iteration ``step`` (1-based) of ``total_steps``."""
    release = ANCHOR_RELEASE * max(1, total_steps)
    return WEIGHTS["anchor"] * max(0.0, 1.0 - step / release)


def anchor_loss(translated, source):
    """Mean absolute displacement of the translation from its source (standardised)."""
    return F.l1_loss(translated.float(), source.float())


def augment(images, size, generator=None):
    """Random size x size crops, flips and 90-degree turns (one draw per image).

    The same differentiable augmentation is used for real and fake images, so the
    discriminator cannot tell them apart by the augmentation and never sees the one-shot
    patch twice in the same framing.
    """
    out = []
    n, _, h, w = images.shape
    draws = torch.randint(0, 1 << 30, (n, 4), generator=generator).tolist()
    for image, (dy, dx, turns, flip) in zip(images, draws):
        y, x = dy % (h - size + 1), dx % (w - size + 1)
        crop = image[:, y:y + size, x:x + size]
        crop = torch.rot90(crop, turns % 4, dims=(1, 2))
        if flip % 2:
            crop = torch.flip(crop, dims=(2,))
        out.append(crop)
    return torch.stack(out)


def r1_penalty(discriminator, real):
    """gamma/2 * E ||grad_x D(x)||^2 on real samples (needs a graph: call with grad)."""
    real = real.detach().requires_grad_(True)
    score = discriminator(real).float().sum()
    (grad,) = torch.autograd.grad(score, real, create_graph=True)
    return 0.5 * R1_GAMMA * grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean()


def crop_size(patch):
    """Discriminator crop: 3/4 of the patch, even, at least 32 (the PatchGAN's minimum)."""
    return max(32, min(patch, 2 * math.floor(0.375 * patch)))

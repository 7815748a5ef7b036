"""Losses of the LRM translator (paper equations 6-12), weights in TranslatorConfig.

* reconstruction: L1(Is, D(E(Is))) + L1(It, D(E(It)))           (lambda_rec, 30)
* adversarial (LSGAN), generator side: mean((Dis(Is->t) - 1)^2)    (lambda_adv, 1000)
* content: MSE of VGG19 relu2_2 features of Is and Is->t           (lambda_content, 1)
* style: sum over relu1_2/2_2/3_3/4_3 of the MSE between the Gram
  matrices (normalised by C*H*W) of It and Is->t                   (lambda_style, 5)

The target's Gram matrices are computed once (the target is one fixed image). Gram
matrices are computed in float32 with autocast off: relu4_3 activations of 0..255
inputs overflow float16 once multiplied together.
"""

import torch
import torch.nn.functional as F

from .vgg import CONTENT_LAYER, STYLE_LAYERS, vgg_channels


def gram(features):
    """(N, C, H, W) -> (N, C, C) Gram matrices / (C*H*W), in float32."""
    with torch.autocast(device_type=features.device.type, enabled=False):
        f = features.float()
        n, c, h, w = f.shape
        f = f.reshape(n, c, h * w)
        return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def lsgan(prediction, real):
    target = torch.ones_like(prediction) if real else torch.zeros_like(prediction)
    return F.mse_loss(prediction.float(), target.float())


class PerceptualLoss:
    """Content and style terms against VGG19 features, with the target's Grams cached."""

    def __init__(self, vgg, target, channels):
        self.vgg = vgg
        self.index = vgg_channels(channels)
        with torch.no_grad():
            feats = self.vgg(self._rgb(target), STYLE_LAYERS)
            self.target_grams = {k: gram(v) for k, v in feats.items()}

    def _rgb(self, x):
        return x[:, self.index]

    def __call__(self, source, translated):
        """(content, style) losses; gradients flow to ``translated`` only."""
        with torch.no_grad():
            source_content = self.vgg(self._rgb(source), (CONTENT_LAYER,))[CONTENT_LAYER]
        feats = self.vgg(self._rgb(translated), STYLE_LAYERS)
        content = F.mse_loss(feats[CONTENT_LAYER].float(), source_content.float())
        style = sum(F.mse_loss(gram(feats[k]), self.target_grams[k].expand(
            feats[k].shape[0], -1, -1)) for k in STYLE_LAYERS)
        return content, style

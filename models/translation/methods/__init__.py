"""Translation methods to compare with the LRM translator (issue 6).

Each module follows the method contract of :mod:`models.translation.registry`
(``train(config, reporter) -> dict`` and ``load(tensors, meta, device) -> Translator``),
so ``python -m models translate`` applies any of them the same way:

* ``histogram_matching``: per-band quantile mapping of the SOURCE domain onto the
  one-shot target patch (zero parameters, no iterations).
* ``fda``: Fourier Domain Adaptation (Yang & Soatto 2020), the low-frequency amplitude
  spectrum of each window replaced with the target's (zero parameters).
* ``cyclegan``: two 9-block ResNet generators (11.378M parameters each for 3 bands)
  and two 70x70 PatchGAN discriminators, trained on random patches of the whole
  TARGET layer.
* ``colormapgan``: Tasar et al. 2020, a learned scale and bias per band for every
  8-bit colour (100,663,296 parameters for 3 bands), trained adversarially.
* ``dualgan``: Yi et al. 2017, two seven-level U-Net generators (41,829,571 parameters
  each) with WGAN critics (weight clipping, RMSProp).
* ``benjdira``: Benjdira et al. 2019, CycleGAN's networks keeping the TARGET->SOURCE
  generator: the target is translated towards the source look before classification.

``common`` holds what every method shares (result fields, unit scaling, target
sampling); ``unpaired_gan`` the two-generator GANs' training loop and loading;
``gan_networks`` their generators and discriminators. User documentation: docs/methods.md.
"""

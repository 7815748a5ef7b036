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

``common`` holds what these four share (result fields, unit scaling, target
sampling for CycleGAN). User documentation: docs/methods.md.
"""

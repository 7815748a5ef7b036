"""Raster fuzz: every command on rasters of every GDAL data type (complex and 64-bit ones
refused), nodata set or not (NaN included), 1 to 8 bands, 1x1 pixels and up, rotated and
south-up geotransforms, no CRS, and training inputs or label rasters on other grids or
CRSs. Each case either works -- the output keeps the input's grid, CRS, nodata (nodata
pixels stay nodata, NaN ones too) and data type, with values in range -- or is refused
with one LrmError that says what to do, leaving no output or .partial file behind.

The cases are seeded and drawn so that every value of every dimension comes up in each
kind (``raster_fuzz.Cover``). A longer run: ``benchmarks/fuzz_rasters.py --cases N``.
"""

import numpy as np
import pytest

from models.errors import LrmError
from models.raster.io import raster_info
from raster_fuzz import READABLE, UNREADABLE, Spec, write_spec
from raster_fuzz_checks import FAILED, REFUSED, WORKED
from raster_fuzz_kinds import build_models, translate_case
from raster_fuzz_suite import describe_failures, run_cases, tally
from translation_rasters import one_torch_thread  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

# cases per kind: ~45 s in all on one thread of a shared 2-core machine
CASES = {"translate": 150, "classify": 48, "train-translator": 64, "train-segmenter": 32,
         "evaluate": 100, "convert-labels": 100}


@pytest.fixture(scope="module")
def models(tmp_path_factory, one_torch_thread):  # noqa: F811
    return build_models(tmp_path_factory.mktemp("fuzz_models"))


@pytest.mark.parametrize("kind", list(CASES))
def test_every_case_works_or_is_refused_clearly(kind, models, tmp_path):
    outcomes, cover = run_cases(kind, CASES[kind], tmp_path, models, seed=15)
    counts = tally(outcomes)[kind]
    assert not counts[FAILED], f"{counts[FAILED]} of {len(outcomes)} {kind} case(s) failed:\n\n" \
                               + describe_failures(outcomes)
    # the draw holds both outcomes and every data type, nodata kind and geotransform
    assert counts[WORKED] >= len(outcomes) // 5 and counts[REFUSED] >= 1, counts
    drawn = {(d, v) for (d, v) in cover.counts}
    for dimension, values in (("nodata", ("none", "value", "nan", "outside", "nan-pixels")),
                              ("geotransform", ("north-up", "south-up", "rotated", "none")),
                              ("crs", ("utm32", "utm33", "wgs84", "none"))):
        assert {(dimension, v) for v in values} <= drawn, (dimension, cover.counts)
    if kind in ("translate", "classify"):
        assert {("dtype", d) for d in READABLE + UNREADABLE} <= drawn
        assert {("bands", b) for b in range(1, 9)} <= drawn
        assert {("size", (1, 1)), ("size", (1, 9)), ("size", (9, 1))} <= drawn


@pytest.mark.parametrize("dtype", READABLE)
def test_identity_translation_keeps_every_type_nan_nodata_and_south_up_grids(dtype, models,
                                                                            tmp_path):
    """The FDA identity translator (beta 0) gives back the input value for value."""
    rng = np.random.default_rng(0)
    nodata = "nan" if dtype.startswith("Float") else "value"
    for geotransform in ("south-up", "rotated"):
        spec = Spec(dtype=dtype, nodata=nodata, bands=4, width=45, height=38,
                    geotransform=geotransform, crs="none" if geotransform == "rotated" else "utm33")
        outcome = translate_case(tmp_path / geotransform, models, rng, 0,
                                 cover=FixedCover(spec, translator="identity", window=0))
        assert outcome.outcome == WORKED, outcome.detail


@pytest.mark.parametrize("dtype", UNREADABLE)
def test_complex_and_64_bit_rasters_are_refused_with_what_to_do(dtype, tmp_path):
    path = write_spec(tmp_path / "input.tif", Spec(dtype=dtype, width=5, height=4))[0]
    with pytest.raises(LrmError) as error:
        raster_info(path)
    message = str(error.value)
    assert dtype in message or "complex" in message
    assert "Float32" in message and ("convert it" in message)


class FixedCover:
    """A Cover stand-in that returns one given Spec's values and fixed choices."""

    def __init__(self, spec, **choices):
        self.spec, self.choices = spec, choices
        self.counts = {}

    def pick(self, name, values, weights=None):
        if name in self.choices:
            return self.choices[name]
        field = {"size": (self.spec.width, self.spec.height)}.get(name)
        if field is not None:
            return field
        if hasattr(self.spec, name):
            return getattr(self.spec, name)
        return list(values)[0]

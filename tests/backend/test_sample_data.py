"""create-sample-data: georeferenced, deterministic, all six classes, consistent labels,
a real (measured) domain shift, the two SHIFTs, and clear errors for bad arguments."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal, osr

from models.labels.classes import default_classes, load_class_table
from models.errors import LrmError
from models.sample_data import DOMAINS, create_sample_data, generate_tile
from models.sample_data.shift import GaussianClassifier, measure_domain_shift, pixel_features

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLASSES = default_classes()
PIXEL_SIZE = {"source": 0.09, "target": 0.06}
EPSG = {"source": "32632", "target": "32633"}


def read(path):
    ds = gdal.Open(path)
    return ds.ReadAsArray()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's default data set: 6 tiles of 256 px per domain."""
    folder = str(tmp_path_factory.mktemp("sample"))
    return create_sample_data(folder, tiles=6, size=256, seed=0)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("small"))
    return create_sample_data(folder, tiles=3, size=96, seed=7, measure_shift=False)


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    """SHIFT sensor_season with the arguments of ``small`` (radiometric, the default)."""
    folder = str(tmp_path_factory.mktemp("season"))
    return create_sample_data(folder, tiles=3, size=96, seed=7, measure_shift=False,
                              shift="sensor_season")


def test_folder_layout_and_result(demo):
    root = demo["output_folder"]
    for domain in ("source", "target"):
        for key, sub in (("images", "images"), ("labels", "labels"), ("labels_color", "labels_rgb")):
            paths = demo[f"{domain}_{key}"]
            assert [os.path.relpath(p, root) for p in paths] == \
                [os.path.join(domain, sub, f"tile_{i:03d}.tif") for i in range(6)]
            assert all(os.path.isfile(p) for p in paths)
        assert demo[f"{domain}_pixel_size"] == PIXEL_SIZE[domain]
    assert demo["classes"] == CLASSES.to_dict()
    assert load_class_table(demo["class_table"]) == CLASSES  # usable as CLASSES
    readme = open(os.path.join(root, "README.txt"), encoding="utf-8").read()
    assert "target/labels/" in readme and "evaluation only" in readme
    # no partial files left behind
    assert not [f for _, _, files in os.walk(root) for f in files if f.endswith(".partial")]


@pytest.mark.parametrize("domain", ["source", "target"])
def test_georeferenced_compressed_tiles(demo, domain):
    origins = set()
    for kind in ("images", "labels", "labels_color"):
        for i, path in enumerate(demo[f"{domain}_{kind}"]):
            ds = gdal.Open(path)
            assert (ds.RasterXSize, ds.RasterYSize) == (256, 256)
            assert ds.RasterCount == (1 if kind == "labels" else 3)
            assert ds.GetRasterBand(1).DataType == gdal.GDT_Byte
            x0, px, rx, y0, ry, py = ds.GetGeoTransform()
            assert (px, rx, ry, py) == pytest.approx((PIXEL_SIZE[domain], 0, 0, -PIXEL_SIZE[domain]))
            srs = osr.SpatialReference(wkt=ds.GetProjection())
            srs.AutoIdentifyEPSG()
            assert srs.IsProjected() and srs.GetAuthorityCode(None) == EPSG[domain]
            assert ds.GetMetadata("IMAGE_STRUCTURE").get("COMPRESSION") == "DEFLATE"
            if kind == "images":
                origins.add((x0, y0))
                assert [ds.GetRasterBand(b).GetDescription() for b in (1, 2, 3)] == ["IR", "R", "G"]
    assert len(origins) == 6  # each tile somewhere else


@pytest.mark.parametrize("domain", ["source", "target"])
def test_labels_have_colour_table_names_and_nodata(demo, domain):
    for path in demo[f"{domain}_labels"]:
        ds = gdal.Open(path)  # keep the dataset alive while its band is used
        band = ds.GetRasterBand(1)
        assert band.GetNoDataValue() == 255
        assert list(band.GetCategoryNames()[:6]) == list(CLASSES.names)
        table = band.GetColorTable()
        assert table is not None
        assert [table.GetColorEntry(i)[:3] for i in range(6)] == [tuple(c) for c in CLASSES.colors]
        values = band.ReadAsArray()
        assert values.max() <= 5  # nodata is declared, never used inside


@pytest.mark.parametrize("domain", ["source", "target"])
def test_colour_labels_match_index_labels(demo, domain):
    colours = np.array(CLASSES.colors, np.uint8)
    for index_path, colour_path in zip(demo[f"{domain}_labels"], demo[f"{domain}_labels_color"]):
        index = read(index_path)
        rgb = read(colour_path)
        assert np.array_equal(rgb, colours[index].transpose(2, 0, 1))


@pytest.mark.parametrize("domain", ["source", "target"])
def test_all_six_classes_in_each_domain(demo, small, domain):
    for result, tiles in ((demo, 6), (small, 3)):
        counts = sum(np.bincount(read(p).ravel(), minlength=6) for p in result[f"{domain}_labels"])
        assert (counts > 0).all(), f"{domain} lacks classes {np.flatnonzero(counts == 0)}"
        fractions = result[f"{domain}_class_fractions"]
        assert list(fractions) == list(CLASSES.names)
        assert np.allclose(list(fractions.values()), counts / counts.sum(), atol=1e-4)
    # the demo tiles each hold every class (cars and clutter included)
    for path in demo[f"{domain}_labels"]:
        assert len(np.unique(read(path))) == 6, path


def test_images_look_like_ir_r_g(demo):
    """Vegetation is bright in IR (band 1) and dark in red (band 2), in both domains."""
    for domain in ("source", "target"):
        images = np.concatenate([read(p).reshape(3, -1) for p in demo[f"{domain}_images"]], 1)
        labels = np.concatenate([read(p).ravel() for p in demo[f"{domain}_labels"]])
        tree = images[:, labels == 3].astype(float).mean(1)
        road = images[:, labels == 5].astype(float).mean(1)
        assert tree[0] > tree[1] + 30, (domain, tree)
        assert tree[0] > road[0], (domain, tree, road)
        assert images.std() > 20  # texture and contrast, not flat colours


def test_deterministic_for_a_seed(small, tmp_path):
    again = create_sample_data(str(tmp_path / "again"), tiles=3, size=96, seed=7, measure_shift=False)
    other = create_sample_data(str(tmp_path / "other"), tiles=3, size=96, seed=8, measure_shift=False)
    for key in ("source_images", "source_labels", "target_images", "target_labels"):
        for a, b, c in zip(small[key], again[key], other[key]):
            assert np.array_equal(read(a), read(b))
            with open(a, "rb") as fa, open(b, "rb") as fb:
                assert fa.read() == fb.read()  # same bytes, not only same pixels
            assert not np.array_equal(read(a), read(c))


def test_domain_shift_is_real(demo):
    """A pixel classifier trained on the source loses >= 20 points of accuracy on the target,
    while the same classifier trained on the target does well there."""
    pairs = {d: [(read(i), read(l)) for i, l in zip(demo[f"{d}_images"], demo[f"{d}_labels"])]
             for d in ("source", "target")}
    rng = np.random.default_rng(0)

    def train(domain):
        feats = np.concatenate([pixel_features(img) for img, _ in pairs[domain][0::2]])
        labels = np.concatenate([lab.ravel() for _, lab in pairs[domain][0::2]]).astype(np.int64)
        return GaussianClassifier(6).fit(feats, labels, rng)

    def accuracy(model, domain):
        held_out = pairs[domain][1::2]
        predicted = model.predict(np.concatenate([pixel_features(img) for img, _ in held_out]))
        truth = np.concatenate([lab.ravel() for _, lab in held_out])
        return 100.0 * np.mean(predicted == truth)

    on_source, on_target = train("source"), train("target")
    source_source = accuracy(on_source, "source")
    source_target = accuracy(on_source, "target")
    target_target = accuracy(on_target, "target")
    assert source_source >= 65, source_source
    assert target_target >= 65, target_target
    assert source_source - source_target >= 20, (source_source, source_target)
    assert target_target - source_target >= 20, (target_target, source_target)
    # the command reports the same measurement
    reported = demo["domain_shift"]
    assert reported["source_on_source"]["overall_accuracy"] == pytest.approx(source_source, abs=3)
    assert reported["accuracy_drop"] >= 20


def test_domain_shift_holds_for_another_seed():
    pairs = {style.name: [generate_tile(style, style.pixel_size, 256, 1, d, i)[:2] for i in range(6)]
             for d, style in enumerate(DOMAINS)}
    shift = measure_domain_shift(pairs["source"], pairs["target"])
    assert shift["accuracy_drop"] >= 20, shift
    assert shift["target_on_target"]["overall_accuracy"] >= 65, shift


def test_default_shift_is_radiometric(demo, small):
    for result in (demo, small):
        assert result["shift"] == "radiometric"
        assert result["target_pixel_size"] == 0.06
        readme = open(result["readme"], encoding="utf-8").read()
        assert "--shift radiometric" in readme and "SHIFT radiometric" in readme


def test_sensor_season_same_layout_and_source_other_target(small, season):
    assert season["shift"] == "sensor_season"
    assert season["classes"] == small["classes"] == CLASSES.to_dict()
    assert load_class_table(season["class_table"]) == CLASSES
    readme = open(season["readme"], encoding="utf-8").read()
    assert "--shift sensor_season" in readme and "SHIFT sensor_season" in readme
    for key in ("source_images", "source_labels", "source_labels_color",
                "target_images", "target_labels", "target_labels_color"):
        assert [os.path.relpath(p, season["output_folder"]) for p in season[key]] == \
            [os.path.relpath(p, small["output_folder"]) for p in small[key]]
    # the source is the same, byte for byte
    for a, b in zip(small["source_images"] + small["source_labels"],
                    season["source_images"] + season["source_labels"]):
        with open(a, "rb") as fa, open(b, "rb") as fb:
            assert fa.read() == fb.read(), b
    # the target: another pixel size, other images, labels with the same classes and table
    assert season["source_pixel_size"] == small["source_pixel_size"] == 0.09
    assert season["target_pixel_size"] == 0.05 != small["target_pixel_size"]
    for a, b in zip(small["target_images"], season["target_images"]):
        assert gdal.Open(b).GetGeoTransform()[1] == pytest.approx(0.05)
        assert gdal.Open(a).GetGeoTransform()[1] == pytest.approx(0.06)
        assert not np.array_equal(read(a), read(b))
    counts = sum(np.bincount(read(p).ravel(), minlength=6) for p in season["target_labels"])
    assert len(counts) == 6 and (counts > 0).all(), counts
    ds = gdal.Open(season["target_labels"][0])
    band = ds.GetRasterBand(1)
    assert band.GetNoDataValue() == 255  # (this GDAL reads the category names only after it)
    assert list(band.GetCategoryNames()[:6]) == list(CLASSES.names)


def _class_means(result, domain):
    images = np.concatenate([read(p).reshape(3, -1) for p in result[f"{domain}_images"]], 1)
    labels = np.concatenate([read(p).ravel() for p in result[f"{domain}_labels"]])
    return np.array([images[:, labels == c].astype(float).mean(1) for c in range(6)])


def test_sensor_season_shift_is_class_dependent(season):
    """Vegetation and roofs change colour differently from source to target (what one
    per-band mapping cannot express): vegetation loses IR, buildings gain it."""
    change = _class_means(season, "target") - _class_means(season, "source")
    vegetation = change[[2, 3]].mean(0)  # low vegetation, tree
    building = change[1]
    assert vegetation[0] < -20 and vegetation[1] > 10, vegetation  # IR down, red up
    assert building[0] - vegetation[0] > 40, (building, vegetation)
    assert np.linalg.norm(building - vegetation) > 60, (building, vegetation)


@pytest.mark.parametrize("kwargs, words", [
    ({"tiles": 0}, ["TILES", "between 1"]),
    ({"tiles": -3}, ["TILES"]),
    ({"size": 32}, ["SIZE", "64", "32"]),
    ({"size": 100000}, ["SIZE", "1024"]),
    ({"source_pixel_size": 0.0001}, ["pixel size"]),
    ({"shift": "winter"}, ["SHIFT", "radiometric", "sensor_season", "winter"]),
])
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, words):
    args = dict(tiles=1, size=64, seed=0, measure_shift=False)
    args.update(kwargs)
    with pytest.raises(LrmError) as info:
        create_sample_data(str(tmp_path / "out"), **args)
    for word in words:
        assert word in str(info.value)
    assert not (tmp_path / "out").exists()  # nothing written


def test_output_folder_that_is_a_file(tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("x")
    with pytest.raises(LrmError, match="not a folder"):
        create_sample_data(str(path), tiles=1, size=64)


def test_fewer_tiles_remove_stale_tiles_of_an_earlier_run(tmp_path):
    folder = str(tmp_path / "data")
    create_sample_data(folder, tiles=3, size=64, seed=0, measure_shift=False)
    result = create_sample_data(folder, tiles=2, size=64, seed=0, measure_shift=False)
    for domain in ("source", "target"):
        for sub in ("images", "labels", "labels_rgb"):
            names = sorted(f for f in os.listdir(os.path.join(folder, domain, sub)) if f.endswith(".tif"))
            assert names == ["tile_000.tif", "tile_001.tif"]
    assert len(result["target_images"]) == 2


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    code = ("import sys; from models.cli.main import main; rc = main(sys.argv[1:]); "
            "sys.stderr.write('TORCH_LOADED=%s\\n' % ('torch' in sys.modules)); sys.exit(rc)")
    return subprocess.run([sys.executable, "-c", code, "create-sample-data", "--jsonl", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_cli_jsonl_result_without_torch(tmp_path):
    proc = _cli("--output-folder", str(tmp_path / "cli"), "--tiles", "1", "--size", "64",
                "--seed", "3", "--skip-shift-check")
    assert proc.returncode == 0, proc.stderr
    assert "TORCH_LOADED=False" in proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    result = [e["data"] for e in events if e["type"] == "result"]
    assert len(result) == 1 and any(e["type"] == "progress" for e in events)
    for key in ("output_folder", "source_images", "source_labels", "source_labels_color",
                "target_images", "target_labels", "target_labels_color", "classes",
                "source_class_fractions", "target_class_fractions"):
        assert key in result[0], key
    assert result[0]["shift"] == "radiometric"  # the default
    assert os.path.isfile(result[0]["target_labels"][0])


def test_cli_bad_size_is_one_error_event(tmp_path):
    proc = _cli("--output-folder", str(tmp_path / "cli"), "--size", "16")
    assert proc.returncode == 2
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [e["type"] for e in events] == ["error"]
    assert "SIZE" in events[0]["message"] and "64" in events[0]["message"]

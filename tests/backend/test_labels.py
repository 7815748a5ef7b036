"""Label reading and colour <-> index conversion (models.labels.rasters, convert-labels)."""

import os

import numpy as np
import pytest
from osgeo import gdal

from models.labels.classes import default_classes, load_class_table
from models.errors import LrmError
from models.labels.rasters import (LabelReader, OffendingValues, check_ignore_value, check_indices,
                           colors_to_index, index_to_colors, parse_label_format)
from segmenter_rasters import GEOTRANSFORM, read_raster, run_command, write_raster

ISPRS = default_classes()


def isprs_colour_labels(index):
    colours = np.array(ISPRS.colors, np.uint8)[index]
    return np.moveaxis(colours, -1, 0)


def test_colour_index_round_trip_in_memory():
    index = np.arange(36).reshape(6, 6) % 6
    rgb = isprs_colour_labels(index)
    assert np.array_equal(colors_to_index(rgb, ISPRS, 255), index)
    assert np.array_equal(index_to_colors(index, ISPRS, (0, 0, 0)), rgb)


def test_unknown_colours_are_listed_with_pixel_counts():
    rgb = isprs_colour_labels(np.zeros((4, 4), int))
    rgb[:, 0, :3] = np.array([1, 2, 3])[:, None]   # 3 pixels of (1, 2, 3)
    rgb[:, 3, 3] = (9, 9, 9)                        # 1 pixel of (9, 9, 9)
    offenders = OffendingValues("unknown colours", "labels.tif", "fix it")
    out = colors_to_index(rgb, ISPRS, 255, offenders=offenders)
    assert (out == 255).sum() == 4
    with pytest.raises(LrmError) as err:
        offenders.raise_if_any()
    message = str(err.value)
    assert "(1, 2, 3): 3 pixels" in message and "(9, 9, 9): 1 pixel" in message
    assert "4 pixel(s)" in message


def test_out_of_range_indices_are_listed_and_ignored_values_are_not():
    index = np.zeros((5, 5), np.uint8)
    index[0] = 7          # 5 pixels
    index[1, :2] = 200    # 2 pixels
    index[2] = 255        # the ignore value: fine
    index[3, 0] = 99      # nodata of the raster: fine
    offenders = OffendingValues("bad values", "x.tif", "")
    out = check_indices(index, 6, 255, ignored=index == 99, offenders=offenders)
    assert offenders.counts == {7: 5, 200: 2}
    assert (out == 255).sum() == 5 + 2 + 5 + 1
    message = offenders.message()
    assert message.index("7: 5 pixels") < message.index("200: 2 pixels")  # most frequent first


def test_fractional_label_values_are_errors():
    offenders = OffendingValues("bad values", "x.tif", "")
    check_indices(np.array([[0.0, 1.5], [2.0, 1.0]], np.float32), 3, 255, offenders=offenders)
    assert offenders.counts == {1.5: 1}


def test_label_format_and_ignore_value_checks():
    assert parse_label_format(0) == "index" and parse_label_format("1") == "color"
    assert parse_label_format("colour") == "color"
    with pytest.raises(LrmError, match="LABEL_FORMAT must be"):
        parse_label_format("rgba")
    with pytest.raises(LrmError, match="is a class index"):
        check_ignore_value(3, ISPRS)
    with pytest.raises(LrmError, match="0..255"):
        check_ignore_value(300, ISPRS)


def test_reader_ignores_nodata_colour_pixels(tmp_path):
    index = np.arange(20).reshape(4, 5) % 6
    rgb = isprs_colour_labels(index)
    rgb[:, 0, 0] = 0  # black boundary pixel, nodata 0 on the raster -> ignored
    path = write_raster(tmp_path / "rgb.tif", rgb, nodata=0)
    reader = LabelReader(path, "color", ISPRS, 255)
    counts = reader.scan()
    out = reader.read(0, 0, 5, 4)
    assert out[0, 0] == 255
    assert np.array_equal(out.ravel()[1:], index.ravel()[1:])
    assert counts.sum() == 19


def test_reader_error_for_colour_format_on_single_band(tmp_path):
    path = write_raster(tmp_path / "one.tif", np.zeros((4, 4), np.uint8))
    with pytest.raises(LrmError, match="LABEL_FORMAT is 'color'"):
        LabelReader(path, "color", ISPRS)


def test_reader_hint_for_colour_raster_read_as_indices(tmp_path):
    # ISPRS colours read as indices give only 0 and 255 (valid!): a warning note says so
    path = write_raster(tmp_path / "rgb.tif", isprs_colour_labels(np.ones((4, 4), int)))
    assert "only band 1" in LabelReader(path, "index", ISPRS).note
    classes = load_class_table("0 a 100,0,0; 1 b 120,0,0")
    rgb = np.zeros((3, 4, 4), np.uint8)
    rgb[0] = 120
    path = write_raster(tmp_path / "rgb2.tif", rgb)
    with pytest.raises(LrmError) as err:
        LabelReader(path, "index", classes).scan()
    assert "120: 16 pixels" in str(err.value) and "LABEL_FORMAT 'color'" in str(err.value)


def test_convert_labels_round_trip_with_colour_table_and_style(tmp_path):
    rng = np.random.default_rng(0)
    index = rng.integers(0, 6, (70, 90)).astype(np.uint8)
    rgb = isprs_colour_labels(index)
    rgb[:, :3, :4] = 0  # nodata corner
    colour_path = write_raster(tmp_path / "colour.tif", rgb, nodata=0)

    result, _ = run_command("convert-labels", "--input", colour_path, "--direction", "to-index",
                            "--output", tmp_path / "index.tif")
    ds = gdal.Open(str(tmp_path / "index.tif"))
    band = ds.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Byte and band.GetNoDataValue() == 255
    assert ds.GetGeoTransform() == GEOTRANSFORM and "32632" in ds.GetProjection()
    table = band.GetColorTable()
    assert [table.GetColorEntry(i)[:3] for i in range(6)] == list(ISPRS.colors)
    assert band.GetCategoryNames()[:6] == list(ISPRS.names)
    converted = band.ReadAsArray()
    expected = index.copy()
    expected[:3, :4] = 255
    assert np.array_equal(converted, expected)
    assert result["ignored_pixels"] == 12
    assert load_class_table(result["style"]) == ISPRS  # the .qml sidecar is a class table

    run_command("convert-labels", "--input", tmp_path / "index.tif", "--direction", "to-color",
                "--output", tmp_path / "back.tif")
    back_ds = gdal.Open(str(tmp_path / "back.tif"))
    assert back_ds.GetRasterBand(1).GetNoDataValue() == 0
    assert np.array_equal(back_ds.ReadAsArray(), rgb)


def test_convert_labels_custom_classes_and_enum_direction(tmp_path):
    index = np.array([[0, 1], [2, 1]], np.uint8)
    path = write_raster(tmp_path / "i.tif", index)
    classes = "0 water 0,0,200; 1 field 250,250,0; 2 forest 0,90,0"
    run_command("convert-labels", "--input", path, "--direction", "1", "--classes", classes,
                "--output", tmp_path / "c.tif")
    rgb = read_raster(tmp_path / "c.tif")
    assert tuple(rgb[:, 0, 0]) == (0, 0, 200) and tuple(rgb[:, 1, 0]) == (0, 90, 0)


def test_convert_unknown_colours_fails_without_output(tmp_path):
    rgb = isprs_colour_labels(np.zeros((8, 8), int))
    rgb[:, 2:4, 2:4] = 77  # 4 pixels of an unknown grey
    path = write_raster(tmp_path / "bad.tif", rgb)
    with pytest.raises(LrmError) as err:
        run_command("convert-labels", "--input", path, "--output", tmp_path / "out.tif")
    assert "(77, 77, 77): 4 pixels" in str(err.value)
    assert not [f for f in os.listdir(tmp_path) if f.startswith(("out", ".out"))]


def test_convert_out_of_range_indices_fails(tmp_path):
    index = np.zeros((6, 6), np.uint8)
    index[0, :3] = 6
    path = write_raster(tmp_path / "bad.tif", index)
    with pytest.raises(LrmError, match="6: 3 pixels"):
        run_command("convert-labels", "--input", path, "--direction", "to-color",
                    "--output", tmp_path / "out.tif")


def test_convert_bad_direction(tmp_path):
    path = write_raster(tmp_path / "i.tif", np.zeros((2, 2), np.uint8))
    with pytest.raises(LrmError, match="DIRECTION must be"):
        run_command("convert-labels", "--input", path, "--direction", "sideways",
                    "--output", tmp_path / "o.tif")


def test_class_table_embedded_in_index_rasters_is_used_without_classes(tmp_path):
    classes = "0 water 0,0,200; 1 field 250,250,0; 2 forest 0,90,0"
    table = load_class_table(classes)
    index = np.array([[0, 1, 2], [2, 2, 1]], np.uint8)
    rgb = np.moveaxis(np.array(table.colors, np.uint8)[index], -1, 0)
    run_command("convert-labels", "--input", write_raster(tmp_path / "rgb.tif", rgb),
                "--classes", classes, "--output", tmp_path / "idx.tif")
    result, reporter = run_command("convert-labels", "--input", tmp_path / "idx.tif",
                                   "--direction", "to-color", "--output", tmp_path / "back.tif")
    assert result["classes"] == table.to_dict()
    assert any("Class table read from" in line for line in reporter.infos)
    assert np.array_equal(read_raster(tmp_path / "back.tif"), rgb)

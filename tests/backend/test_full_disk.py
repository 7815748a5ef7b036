"""A full or read-only disk: a clear StorageError, no half-written output, and an earlier
model file at the same path left intact. Uses a tiny tmpfs (needs root to mount)."""

import contextlib
import shutil
import subprocess

import numpy as np
import pytest

from models.errors import LrmError
from models.storage.model_file import load_model
from segmenter_rasters import run_command, train_tiny, write_raster


@contextlib.contextmanager
def tmpfs(folder, options):
    """A tmpfs mounted on ``folder`` (made here) with ``options``; skips without root."""
    folder.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True)
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture()
def tiny_disk(tmp_path):
    """A 160 MiB tmpfs (room for a model file), unmounted afterwards."""
    with tmpfs(tmp_path / "disk", "size=160m") as mount:
        yield mount


def fill(folder):
    """Fill ``folder``'s disk completely."""
    with open(folder / "filler", "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\1" * size)
            except OSError:
                pass


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    result, _ = train_tiny(tmp_path_factory.mktemp("disk_model"), "--epochs", 1, "--max-iterations", 2)
    return result["output"]


def test_classify_onto_a_full_disk_says_so_and_leaves_nothing(model, tiny_disk, tmp_path):
    image = write_raster(tmp_path / "big.tif",
                         np.random.default_rng(0).integers(0, 255, (3, 512, 512), dtype=np.uint8))
    fill(tiny_disk)
    out = tiny_disk / "classes.tif"
    with pytest.raises(LrmError) as raised:
        run_command("classify", "--input", image, "--model", model, "--output", out)
    message = str(raised.value)
    assert raised.value.kind == "storage" and "is full" in message and str(tiny_disk) in message
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]  # no output, no .partial


def test_a_full_disk_during_training_keeps_the_earlier_model(model, tiny_disk, tmp_path):
    kept = tiny_disk / "segmenter.safetensors"
    shutil.copy(model, kept)
    before = kept.read_bytes()
    fill(tiny_disk)
    with pytest.raises(LrmError) as raised:
        train_tiny(tmp_path, "--epochs", 1, "--max-iterations", 2, "--output", kept)
    assert raised.value.kind == "storage" and "is full" in str(raised.value)
    assert kept.read_bytes() == before and load_model(str(kept), expected_kind="segmenter")
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler", "segmenter.safetensors"]


def test_a_read_only_disk_is_named(model, tmp_path):
    with tmpfs(tmp_path / "ro", "ro,size=1m") as folder:
        image = write_raster(tmp_path / "i.tif", np.zeros((3, 64, 64), np.uint8))
        with pytest.raises(LrmError, match="read-only or you lack permission") as raised:
            run_command("classify", "--input", image, "--model", model, "--output", folder / "c.tif")
        assert raised.value.kind == "storage"

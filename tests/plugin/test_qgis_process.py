"""The project's qgis_process wrapper loads the plugin and runs its algorithms."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT

WRAPPER = os.path.join(ROOT, "scripts", "qgis_process.sh")

pytestmark = pytest.mark.skipif(not (shutil.which("qgis_process") or os.path.exists("/usr/bin/qgis_process.bin")),
                                reason="qgis_process is not installed")


def qgis_process(*args, timeout=300, env=None):
    return subprocess.run([WRAPPER, *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def run_json(algorithm, env=None, **params):
    """Run an algorithm with --json output; return the parsed results."""
    proc = qgis_process("--json", "run", algorithm, "--", *[f"{k}={v}" for k, v in params.items()],
                        env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout[proc.stdout.index("{"):])


def test_list_shows_the_lrm_algorithms():
    proc = qgis_process("list")
    assert proc.returncode == 0, proc.stderr
    assert "LRM Adapt" in proc.stdout
    assert "lrm:check_environment" in proc.stdout
    assert "lrm:create_sample_data" in proc.stdout


def test_help_lists_the_translator_loss_parameters():
    proc = qgis_process("help", "lrm:train_translator")
    assert proc.returncode == 0, proc.stderr
    for name in ("PERCEPTUAL_LOSS:", "STYLE_MIXING:", "ONE_SHOT_SIZE:", "PERCEPTUAL_LOSS_USED:"):
        assert name in proc.stdout, name
    options = proc.stdout[proc.stdout.index("PERCEPTUAL_LOSS:"):proc.stdout.index("STYLE_MIXING:")]
    for i, option in enumerate(("auto", "vgg19_imagenet", "weight_free", "vgg19_random")):
        assert f"{i}: {option}" in options  # the enum order is public


def test_check_environment_runs_and_writes_a_report(tmp_path):
    out = tmp_path / "env.html"
    offline = {"LRM_OFFLINE": "1", "TORCH_HOME": str(tmp_path / "torch")}  # no VGG19 weights
    results = run_json("lrm:check_environment", env=offline, OUTPUT_HTML=out)["results"]
    assert results["TORCH_VERSION"] not in ("", "not installed")
    assert isinstance(results["CUDA_AVAILABLE"], bool)
    assert results["DEVICE_NAME"]
    text = out.read_text()
    assert "LRM Adapt environment report" in text and results["TORCH_VERSION"] in text
    assert results["PERCEPTUAL_LOSS_AUTO"] == "weight_free"
    assert "PERCEPTUAL_LOSS auto will use</th><td>weight_free — no ImageNet VGG19 weights" in text

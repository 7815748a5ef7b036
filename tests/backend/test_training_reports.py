"""Training reports (--output-html): self-contained HTML with the plots and pictures."""

import base64
import re

import pytest

from segmenter_rasters import run_command, train_tiny
from translation_rasters import source_and_target

pytestmark = pytest.mark.slow


def embedded_pngs(text):
    pngs = [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)]
    assert all(p.startswith(b"\x89PNG") and len(p) > 2000 for p in pngs)
    return pngs


def test_translator_report_has_curves_and_before_after(tmp_path):
    source, target, _, _ = source_and_target(str(tmp_path))
    report = tmp_path / "translator.html"
    result, _ = run_command("train-translator", "--method", "lrm", "--source", source, "--target", target,
                            "--patch-size", 32, "--batch-size", 2, "--max-iterations", 4, "--epochs", 100,
                            "--device", "cpu", "--perceptual-loss", "weight_free", "--one-shot-size", 0,
                            "--output", tmp_path / "t.safetensors", "--output-html", report)
    assert result["output_html"] == str(report)
    text = report.read_text()
    assert "Losses per epoch" in text and "Before and after" in text and "weight_free" in text
    assert len(embedded_pngs(text)) == 2  # loss curves; before/after with the one-shot sample
    assert not list(tmp_path.glob(".*.partial"))


def test_segmenter_report_has_curves_per_class_iou_and_confusion(tmp_path):
    report = tmp_path / "segmenter.html"
    result, _ = train_tiny(tmp_path, "--epochs", 2, "--max-iterations", 4, "--output-html", report)
    assert result["output_html"] == str(report)
    history = result["history"]
    assert all(len(h["val_iou"]) == 3 for h in history)  # per-class IoU every epoch
    confusion = result["best_validation_confusion"]
    assert len(confusion) == 3 and sum(map(sum, confusion)) > 0
    text = report.read_text()
    assert "validation confusion matrix" in text.lower() and "Per epoch" in text
    assert len(embedded_pngs(text)) == 2


def test_a_report_path_that_is_not_html_fails_before_training(tmp_path):
    from models.errors import LrmError

    source, target, _, _ = source_and_target(str(tmp_path))
    with pytest.raises(LrmError, match="OUTPUT_HTML"):
        run_command("train-translator", "--source", source, "--target", target,
                    "--output", tmp_path / "t.safetensors", "--output-html", tmp_path / "r.png")
    assert not (tmp_path / "t.safetensors").exists()

"""lrm:check_environment's HTML report shows paths and messages as text (issue 15, item 6).

The worker's report (here from tests/plugin/fake_worker.py) carries file names and
messages that contain markup; the report must show them escaped: no <script> element
and no on* attribute appears when it is parsed.
"""

import json

from html_checks import assert_inert

SCRIPT = "<script>alert(1)</script>"
FILE = '"><img src=x onerror=alert(1)>'
PYTHON = f"/opt/py{FILE}/bin/python"
WEIGHTS = f"/home/u/weights{FILE}/vgg19.pth"
REPORT = {
    "python_executable": PYTHON, "python_version": "3.12.0", "platform": f"Linux {SCRIPT}",
    "torch_version": "2.5.0", "cuda_available": True, "device_name": f"GPU {SCRIPT}",
    "gpus": [{"index": 0, "name": f"GPU {SCRIPT}", "memory_gib": 8.0, "capability": "8.6"}],
    "vgg19_weights": {"available": True, "path": WEIGHTS, "searched": [WEIGHTS]},
    "perceptual_loss_auto": {"choice": "vgg19_imagenet", "reason": f"found {WEIGHTS}"},
    "problems": [f"cannot import segmentation_models_pytorch: {SCRIPT}"],
    "install_command": f'"{PYTHON}" -m pip install -r requirements.txt',
}


def test_environment_report_escapes_paths_and_messages(plugin, feedback, fake_interpreter,
                                                       monkeypatch, tmp_path):
    import processing

    fake_interpreter("result")
    monkeypatch.setenv("FAKE_RESULT", json.dumps(REPORT))
    out = tmp_path / "env.html"
    result = processing.run("lrm:check_environment", {"OUTPUT_HTML": str(out)}, feedback=feedback)
    assert result["PYTHON"] == PYTHON and result["DEVICE_NAME"] == f"GPU {SCRIPT}"
    text = out.read_text(encoding="utf-8")
    assert_inert(text, PYTHON, WEIGHTS, f"GPU {SCRIPT}", REPORT["problems"][0],
                 REPORT["install_command"])
    assert "<img" not in text

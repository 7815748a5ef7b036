"""Settings of the two lrm:adapt presets (enum order is public: 0 paper, 1 quick).

``paper`` is the published set-up (512 px patches, batch 8, up to 100 epochs with
patience 10, ResNet-101 U-Net). ``quick`` is for a first look on a laptop CPU: small
patches, a small encoder and a fixed number of iterations (minutes, not days).
A knob left at 0 (or empty) in lrm:adapt takes the preset's value.
"""

PRESETS = {
    "paper": {
        "patch_size": 512, "batch_size": 8, "encoder": "resnet101",
        "translator_epochs": 100, "translator_iterations": 0,
        "segmenter_epochs": 100, "segmenter_iterations": 0, "patience": 10,
        "overlap": 64,
    },
    "quick": {
        "patch_size": 128, "batch_size": 4, "encoder": "resnet18",
        "translator_epochs": 1000, "translator_iterations": 300,
        "segmenter_epochs": 1000, "segmenter_iterations": 300, "patience": 0,
        "overlap": 32,
    },
}
PRESET_NAMES = list(PRESETS)  # enum order (public); tests/plugin/test_enum_contract.py ties it to models/contract

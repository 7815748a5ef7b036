"""Shared test set-up.

The repository root is the plugin folder. Backend tests import ``models`` with the
root on sys.path (as the worker does); QGIS tests import the plugin as a package via
a symlink named ``lrm_adapt`` (CI clones into a folder of another name, so tests
never depend on the checkout's folder name).
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LRM_OFFLINE", "1")  # no network probes in tests
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

try:  # keep torch from oversubscribing the 2 CI cores when tests run in one process
    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
except ImportError:
    pass

SHARED_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "isprs_oneshot")

"""LRM Adapt backend: PyTorch networks, training loops, raster I/O and metrics.

This package never imports qgis. It runs in a worker process started by the
Processing algorithms (``python -m models <command> --jsonl ...``) and is also a
command-line tool for headless servers (``python -m models --help``).
"""

__version__ = "0.1.0"

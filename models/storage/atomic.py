"""Outputs appear only when complete, and concurrent runs never share a half-written file.

Every output (raster, model, report, table, style) is written to a hidden *partial* file in
the destination's folder and renamed onto the destination when complete (a rename in one
folder is atomic), so no half-written file ever carries the final name. The partial's name
holds the writing process's id, ``.<name>.<pid>.partial``: two runs writing the same output
at once each write their own file, and the one that finishes last replaces the other's
complete result (a well-defined winner, never a mix of both). The Processing side removes
the partial of a worker it had to end by the same rule (algorithms/worker.py, tied by
tests/plugin/test_worker_protocol.py).
"""

import os

from ..contract import partial_path  # noqa: F401 -- the rule lives in the shared contract


def write_text_atomically(path, text):
    """Write ``text`` (UTF-8) to ``path`` through its partial; a failure leaves nothing."""
    from ..errors import storage_error

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = partial_path(path)
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise storage_error(path, exc) from None
    return path

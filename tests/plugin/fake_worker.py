"""A stand-in for ``python -m models <command> --jsonl`` used by the protocol tests.

Its behaviour is chosen with FAKE_SCENARIO; it writes its pid (and partial outputs)
into FAKE_DIR so tests can check that cancel really ended it.
"""

import json
import os
import sys
import time

scenario = os.environ.get("FAKE_SCENARIO", "ok")
folder = os.environ.get("FAKE_DIR", ".")


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


with open(os.path.join(folder, "worker.pid"), "w") as f:
    f.write(str(os.getpid()))
with open(os.path.join(folder, "worker.argv"), "w") as f:
    json.dump(sys.argv[1:], f)

if scenario == "ok":
    emit(type="progress", value=10)
    emit(type="info", message="hello from the worker")
    print("not JSON: a library printed this", file=sys.stderr)
    emit(type="warning", message="careful: no pretrained weights")
    emit(type="metric", name="val_loss", value=0.5, epoch=1)
    emit(type="progress", value=100)
    emit(type="result", data={"answer": 42})
elif scenario == "error":
    emit(type="progress", value=5)
    emit(type="error", message="SOURCE rasters have 4 bands but TARGET has 3.", kind="input")
    sys.exit(2)
elif scenario == "crash":
    emit(type="progress", value=30)
    print("Traceback (most recent call last):\n  RuntimeError: simulated segfault in a C extension",
          file=sys.stderr)
    sys.stderr.flush()
    os.kill(os.getpid(), 9)
elif scenario in ("hang", "partial"):
    if scenario == "partial":
        out = os.path.join(folder, f".out.tif.{os.getpid()}.partial")
        open(out, "w").write("half-written")
    while True:
        emit(type="progress", value=1)
        time.sleep(0.1)
elif scenario == "silent_hang":
    time.sleep(600)
elif scenario == "quiet_watching":  # the real parent watch, then a long silent phase
    sys.path.insert(0, os.environ["FAKE_PLUGIN_ROOT"])
    from models.runtime.parent_watch import watch_parent

    watch_parent()
    emit(type="progress", value=1)
    time.sleep(600)
elif scenario == "result":  # the result the test gives in FAKE_RESULT (JSON)
    emit(type="result", data=json.loads(os.environ["FAKE_RESULT"]))

"""Time and size of a real lrm:install_backend run (the pinned requirements.txt).

    python3 benchmarks/bench_install_backend.py --variant cuda [--target DIR] [--wheelhouse DIR]
        [--base-python /usr/bin/python3] [--keep]

Runs the same installer as the algorithm (algorithms/backend_installer.py: venv, pip with
numpy held, check-environment) into a temporary folder, then prints seconds and the
environment's size. Needs QGIS's Python bindings importable (the installer is plugin code)
and whatever index or wheelhouse pip can reach; nothing is written to the QGIS settings.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def folder_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files
               if not os.path.islink(os.path.join(d, f)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--target", default=None)
    parser.add_argument("--wheelhouse", default=None)
    parser.add_argument("--base-python", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the environment afterwards")
    args = parser.parse_args(argv)
    plugins = tempfile.mkdtemp(prefix="lrm_plugins_")
    os.symlink(ROOT, os.path.join(plugins, "lrm_adapt"))
    sys.path.insert(0, plugins)
    from lrm_adapt.algorithms import backend_installer as bi

    target = args.target or os.path.join(tempfile.mkdtemp(prefix="lrm_bench_env_"), "venv")
    started = time.monotonic()
    python, report = bi.BackendInstaller(target, args.base_python, args.variant, args.wheelhouse,
                                         log=lambda line: print(line, flush=True)).run()
    seconds = time.monotonic() - started
    size = folder_size(target)
    print(f"install_backend variant={bi.resolve_variant(args.variant)}: {seconds:.0f} s, "
          f"{size / 2**30:.2f} GiB in {target}; torch {report.get('torch_version')}, "
          f"CUDA build {report.get('torch_cuda_build')}, CUDA available {report.get('cuda_available')}")
    if not args.keep:
        shutil.rmtree(os.path.dirname(target) if args.target is None else target, ignore_errors=True)
    shutil.rmtree(plugins, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Creating the PyTorch worker's virtual environment from inside QGIS (lrm:install_backend).

Steps, each streamed to the Processing log and cancellable:

1. ``<base python> -m venv --system-site-packages TARGET``: the base interpreter is QGIS's
   own where it has venv and pip (it sees QGIS's GDAL bindings, which the worker needs),
   else the system's ``python3``. System site packages stay visible, so ``osgeo`` and the
   numpy GDAL was built against come from the base interpreter.
2. ``TARGET/python -m pip install -r requirements.txt -c constraints.txt``, with numpy
   pinned to the version the base interpreter sees (a newer numpy in the venv would
   shadow it and break ``from osgeo import gdal``). ``VARIANT`` picks PyTorch's wheel
   index (CPU or CUDA build); ``WHEELHOUSE`` installs from a folder of wheels only
   (``--no-index --find-links``: nothing is fetched from the network).
3. ``TARGET/python -m models check-environment``: the check ``lrm:check_environment``
   runs; the install counts only when it reports no problem.
4. Only then is the interpreter stored in the provider setting. A failed or cancelled
   install leaves the setting as it was and removes the folder if this run created it.

This module never imports torch; it runs in QGIS's own Python.
"""

import os
import platform
import shutil
import subprocess
import sys
import time

from .interpreter import embedded_python, plugin_root

VARIANTS = ["auto", "cpu", "cuda"]  # enum order is public: VARIANT 0 auto, 1 cpu, 2 cuda
# PyTorch's own wheel indexes for the pinned torch (requirements.txt). PyPI's Linux wheels
# are already CUDA builds and its macOS wheels the only build, so those need no extra
# index; Windows needs one for CUDA, Linux and Windows one for a (smaller) CPU-only build.
TORCH_INDEX = {"cpu": "https://download.pytorch.org/whl/cpu",
               "cuda": "https://download.pytorch.org/whl/cu130"}


def torch_index(variant, system=None):
    """The extra wheel index for ``variant`` on this OS, or None (PyPI alone)."""
    system = system or platform.system()
    if system == "Darwin" or (variant == "cuda" and system == "Linux"):
        return None
    return TORCH_INDEX.get(variant)
POLL_SECONDS = 0.2


class InstallError(Exception):
    """The install failed; the message says why and what to do."""


class InstallCancelled(InstallError):
    pass


def nvidia_driver_present():
    """An NVIDIA driver is installed (what VARIANT auto looks for)."""
    if os.path.exists("/proc/driver/nvidia/version"):
        return True
    return shutil.which("nvidia-smi") is not None


def resolve_variant(variant):
    if variant not in VARIANTS:
        raise InstallError(f"VARIANT must be one of {VARIANTS}, not {variant!r}.")
    if variant == "auto":
        return "cuda" if nvidia_driver_present() else "cpu"
    return variant


def venv_python_path(folder):
    if os.name == "nt":
        return os.path.join(folder, "Scripts", "python.exe")
    return os.path.join(folder, "bin", "python")


def _can_make_venvs(python):
    try:
        proc = subprocess.run([python, "-c", "import venv, ensurepip"], capture_output=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def default_base_python():
    """QGIS's own interpreter where it can make venvs with pip, else the system python3."""
    candidates = [embedded_python()]
    if os.name != "nt":
        candidates += [shutil.which("python3"), "/usr/bin/python3"]
    for python in filter(None, candidates):
        if os.path.isfile(python) and _can_make_venvs(python):
            return python
    raise InstallError("No Python interpreter with the venv and ensurepip modules was found. "
                       "Give one in PYTHON (on Debian/Ubuntu: apt install python3-venv).")


def numpy_version(python):
    """The numpy version ``python`` imports (None when it has none)."""
    proc = subprocess.run([python, "-c", "import numpy; print(numpy.__version__)"],
                          capture_output=True, text=True, timeout=120)
    return proc.stdout.strip() if proc.returncode == 0 else None


def pip_command(python, variant, wheelhouse=None, requirements=None, constraints=None,
                numpy_pin=None):
    """The pip install command line (a list)."""
    root = plugin_root()
    requirements = requirements or [os.path.join(root, "requirements.txt")]
    constraints = constraints or [os.path.join(root, "constraints.txt")]
    cmd = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
           "--progress-bar", "off"]
    for path in requirements:
        cmd += ["-r", path]
    for path in constraints:
        cmd += ["-c", path]
    if numpy_pin:
        cmd.append(f"numpy=={numpy_pin}")
    if wheelhouse:
        cmd += ["--no-index", "--find-links", wheelhouse]
    elif torch_index(variant):
        cmd += ["--extra-index-url", torch_index(variant)]
    return cmd


class BackendInstaller:
    """One install. ``log(message)``, ``progress(percent)`` and ``cancelled()`` connect it
    to Processing feedback (or anything else)."""

    def __init__(self, target, base_python=None, variant="auto", wheelhouse=None,
                 requirements=None, constraints=None, log=print, progress=None, cancelled=None):
        self.target = os.path.abspath(target)
        self.base_python = base_python
        self.variant = variant
        self.wheelhouse = wheelhouse or None
        self.requirements, self.constraints = requirements, constraints
        self.log = log
        self.progress = progress or (lambda percent: None)
        self.cancelled = cancelled or (lambda: False)

    def _run(self, cmd, what, env=None):
        """Run ``cmd``, streaming its output lines to the log; kill it on cancel."""
        self.log("$ " + " ".join(cmd))
        kwargs = {"creationflags": subprocess.CREATE_NO_WINDOW} if os.name == "nt" else {}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, **kwargs)
        tail = []
        try:
            if os.name != "nt":  # poll for cancel between reads instead of blocking in one
                os.set_blocking(proc.stdout.fileno(), False)
            buffer = b""
            while True:
                if self.cancelled():
                    proc.kill()
                    proc.wait()
                    raise InstallCancelled(f"Cancelled during {what}.")
                chunk = self._read(proc)
                if chunk:
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        text = line.decode("utf-8", "replace").rstrip()
                        if text:
                            tail = (tail + [text])[-30:]
                            self.log(text)
                elif proc.poll() is not None:
                    break
                else:
                    time.sleep(POLL_SECONDS)
            if buffer.strip():
                tail.append(buffer.decode("utf-8", "replace").rstrip())
                self.log(tail[-1])
        finally:
            proc.stdout.close()
        if proc.returncode != 0:
            raise InstallError(f"{what} failed (exit status {proc.returncode}). Last lines:\n"
                               + "\n".join(tail[-15:]))

    @staticmethod
    def _read(proc):
        if os.name == "nt":  # no non-blocking pipes: read a line (pip prints lines)
            return proc.stdout.readline()
        try:
            return proc.stdout.read(65536) or b""
        except BlockingIOError:
            return b""

    def _pip_environment(self):
        env = dict(os.environ)
        for key in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__"):
            env.pop(key, None)
        env["PYTHONNOUSERSITE"] = "1"
        if self.wheelhouse:  # offline: no index from any pip configuration either
            env["PIP_NO_INDEX"] = "1"
            env["PIP_CONFIG_FILE"] = os.devnull
        return env

    def run(self):
        """Install; return the new interpreter's path and the check's report."""
        created = not os.path.exists(self.target)
        try:
            return self._install()
        except BaseException:
            if created and os.path.isdir(self.target):
                shutil.rmtree(self.target, ignore_errors=True)
                self.log(f"Removed the incomplete environment {self.target}.")
            raise

    def _install(self):
        variant = resolve_variant(self.variant)
        if self.wheelhouse and not os.path.isdir(self.wheelhouse):
            raise InstallError(f"WHEELHOUSE {self.wheelhouse} is not a folder.")
        base = self.base_python or default_base_python()
        env = self._pip_environment()
        self.log(f"Base interpreter: {base}; variant: {variant}"
                 + (f"; offline from {self.wheelhouse}" if self.wheelhouse else "")
                 + f"; target: {self.target} ({platform.system()})")
        self.progress(2)
        if os.path.exists(venv_python_path(self.target)):
            self.log(f"{self.target} already holds a virtual environment: updating it.")
        else:
            self._run([base, "-m", "venv", "--system-site-packages", self.target],
                      "creating the virtual environment", env)
        python = venv_python_path(self.target)
        self.progress(10)
        pin = numpy_version(base)
        if pin:
            self.log(f"numpy stays at {pin}, the version the GDAL bindings of {base} see.")
        self._run(pip_command(python, variant, self.wheelhouse, self.requirements,
                              self.constraints, pin), "installing the requirements with pip", env)
        self.progress(90)
        report = self.verify(python, env)
        self.progress(100)
        return python, report

    def verify(self, python, env):
        """``python -m models check-environment`` must report no problem."""
        import json

        worker_env = dict(env, PYTHONPATH=plugin_root(), PYTHONUNBUFFERED="1")
        worker_env.pop("PIP_NO_INDEX", None)
        worker_env.pop("PIP_CONFIG_FILE", None)
        proc = subprocess.run([python, "-m", "models", "check-environment", "--jsonl"],
                              cwd=plugin_root(), env=worker_env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=600)
        report = None
        for line in proc.stdout.splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("type") == "result":
                report = event.get("data") or {}
            elif event.get("type") == "error":
                raise InstallError(f"The check of the new environment failed: {event.get('message')}")
        if report is None:
            raise InstallError(f"The check of the new environment gave no result (exit status "
                               f"{proc.returncode}):\n{proc.stderr[-2000:]}")
        if report.get("problems"):
            raise InstallError("The new environment is incomplete: "
                               + "; ".join(report["problems"]))
        self.log(f"Checked: torch {report.get('torch_version')}, CUDA available: "
                 f"{report.get('cuda_available')}, device: {report.get('device_name')}.")
        return report


def store_interpreter(python):
    """Make ``python`` the worker interpreter (Processing options > Providers > LRM Adapt)."""
    from .interpreter import SETTING_PYTHON

    stored = False
    try:
        from processing.core.ProcessingConfig import ProcessingConfig

        if SETTING_PYTHON in ProcessingConfig.settings:
            ProcessingConfig.setSettingValue(SETTING_PYTHON, python)
            stored = True
    except ImportError:
        pass
    if not stored:  # Processing's Python plugin not loaded: write where it reads from
        from qgis.core import QgsSettings

        QgsSettings().setValue(f"/Processing/Configuration/{SETTING_PYTHON}", python)
    return python


def default_target_folder():
    """``<QGIS profile>/lrm_adapt/venv`` (python<version> so a QGIS upgrade gets a new one)."""
    from qgis.core import QgsApplication

    version = f"{sys.version_info.major}{sys.version_info.minor}"
    return os.path.join(QgsApplication.qgisSettingsDirPath(), "lrm_adapt", f"venv-py{version}")

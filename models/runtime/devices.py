"""Device choice (DEVICE = auto | cpu | cuda | cuda:N), mixed precision and OOM hints."""

import contextlib
import os
import random

import numpy as np
import torch

from ..errors import DeviceError


def resolve_device(spec="auto"):
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            build = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            raise DeviceError(
                f"DEVICE={spec} was asked for, but this PyTorch ({torch.__version__}, {build}) "
                f"sees no CUDA GPU (driver missing, no GPU, or CUDA_VISIBLE_DEVICES hides it). "
                f"Use DEVICE=cpu or auto, or install a CUDA build of PyTorch that matches your driver.")
        index = 0 if spec == "cuda" else spec.split(":", 1)[1]
        try:
            index = int(index)
        except ValueError:
            raise DeviceError(f"DEVICE must be auto, cpu, cuda or cuda:N, not {spec!r}.") from None
        if index >= torch.cuda.device_count():
            raise DeviceError(f"DEVICE={spec}: only {torch.cuda.device_count()} CUDA device(s) "
                              f"(cuda:0..cuda:{torch.cuda.device_count() - 1}).")
        return torch.device(f"cuda:{index}")
    raise DeviceError(f"DEVICE must be auto, cpu, cuda or cuda:N, not {spec!r}.")


def describe_device(device):
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{device} ({props.name}, {props.total_memory / 2**30:.1f} GiB)"
    return f"cpu ({torch.get_num_threads()} threads)"


def amp_dtype(device):
    """Mixed-precision dtype on CUDA (bf16 where supported, else fp16); None on CPU."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device):
    dtype = amp_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=dtype)


def grad_scaler(device):
    """A GradScaler where fp16 needs one; disabled (a no-op) otherwise."""
    return torch.amp.GradScaler("cuda", enabled=amp_dtype(device) == torch.float16)


@contextlib.contextmanager
def out_of_memory_hint(device, batch_size=None, patch_size=None):
    """Turn CUDA out-of-memory into a DeviceError that says what to lower."""
    try:
        yield
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        hints = []
        if batch_size:
            hints.append(f"BATCH_SIZE (now {batch_size})")
        if patch_size:
            hints.append(f"PATCH_SIZE (now {patch_size})")
        raise DeviceError(
            f"The GPU {describe_device(device)} ran out of memory. Lower "
            f"{' or '.join(hints) or 'BATCH_SIZE or PATCH_SIZE'}, close other programs using "
            f"the GPU, or use DEVICE=cpu.") from None


def seed_everything(seed):
    """Seed Python, NumPy and torch; deterministic CPU results for the same seed."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))


@contextlib.contextmanager
def flush_denormals():
    """Flush denormal floats to zero while the block runs (restored afterwards).

    Tiny activations in flat image areas become denormals, which made the translator's
    CPU kernels ~5x slower when measured; zero instead changes nothing visible."""
    for dtype in (np.float16, np.float32, np.float64):  # numpy caches these; computed
        np.finfo(dtype)                                 # under flushing they warn
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)

"""DEVICE lists: one run spread over several devices.

DEVICE is one device (``auto``, ``cpu``, ``cuda``, ``cuda:N``; ``devices.resolve_device``)
or a list of them:

``cuda:0,1`` (or ``cuda:0,cuda:1``)
    those CUDA devices;
``cuda:all``
    every CUDA device this process sees (CUDA_VISIBLE_DEVICES applies);
``cpu:N``
    N CPU workers (N >= 1), each with an equal share of the cores (``threads_per_worker``).

Training runs one data-parallel rank per listed device (``models/runtime/distributed.py``);
classify and translate spread their inputs over them. A single device is not a list, so a
one-device run is exactly what it was before lists existed.
"""

import os

from ..errors import DeviceError

FORMS = "auto, cpu, cuda, cuda:N, a list cuda:0,1, cuda:all or cpu:N"


def is_device_list(spec):
    """True when ``spec`` names several devices (or ``cpu:N``/``cuda:all``)."""
    spec = (spec or "").strip().lower()
    return "," in spec or spec == "cuda:all" or spec.startswith("cpu:")


def parse_device_list(spec, cuda_count=None):
    """The devices of a DEVICE list, in order (``["cuda:0", "cuda:1"]``, ``["cpu", "cpu"]``).

    ``cuda_count``: how many CUDA devices there are (default: ask torch). A DeviceError says
    what is wrong with a list that cannot run here.
    """
    text = (spec or "").strip().lower()
    if not is_device_list(text):
        raise DeviceError(f"DEVICE {spec!r} is not a device list ({FORMS}).")
    if text.startswith("cpu:"):
        count = text[4:]
        if not count.isdigit() or int(count) < 1:
            raise DeviceError(f"DEVICE {spec!r}: cpu:N needs a number of CPU workers N >= 1, "
                              f"e.g. cpu:2.")
        return ["cpu"] * int(count)
    if cuda_count is None:
        import torch

        cuda_count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if cuda_count == 0:
        raise DeviceError(f"DEVICE={spec} asks for CUDA GPUs, but this PyTorch sees none. Use "
                          f"DEVICE=cpu or cpu:N, or install a CUDA build of PyTorch that matches "
                          f"your driver.")
    if text == "cuda:all":
        return [f"cuda:{i}" for i in range(cuda_count)]
    indices = []
    for i, part in enumerate(p.strip() for p in text.split(",")):
        if i == 0 or part.startswith("cuda:"):
            if not part.startswith("cuda:"):
                raise DeviceError(f"DEVICE {spec!r}: a list starts with cuda:, e.g. cuda:0,1 "
                                  f"({FORMS}).")
            part = part[5:]
        if not part.isdigit():
            raise DeviceError(f"DEVICE {spec!r}: {part!r} is not a CUDA device number ({FORMS}).")
        indices.append(int(part))
    bad = [i for i in indices if i >= cuda_count]
    if bad:
        raise DeviceError(f"DEVICE={spec}: there is no cuda:{bad[0]}; this machine has "
                          f"{cuda_count} CUDA device(s) (cuda:0..cuda:{cuda_count - 1}).")
    if len(set(indices)) != len(indices):
        raise DeviceError(f"DEVICE={spec} names a device twice; list each GPU once.")
    return [f"cuda:{i}" for i in indices]


def threads_per_worker(devices, cpu_count=None):
    """Torch threads for each worker of a list: the cores shared out among the CPU workers
    (at least one each); GPU workers keep torch's default."""
    cpu_workers = sum(1 for d in devices if d == "cpu")
    if not cpu_workers:
        return None
    return max(1, (cpu_count or os.cpu_count() or 1) // cpu_workers)

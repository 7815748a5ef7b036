"""Data-parallel training over torch.distributed: one process (rank) per device.

A training command runs as one rank of a group when PyTorch's launcher started it
(``python -m torch.distributed.run`` / ``torchrun``, which set RANK, WORLD_SIZE,
LOCAL_RANK and the rendezvous), or when a DEVICE list made the backend launch the ranks
itself (``rank_launcher.py``). Outside a launched group, ``join`` returns a group of one
and nothing here changes what a training does.

Inside a group:

* each rank trains on its own device: the DEVICE list's LOCAL_RANK-th entry, or
  ``cuda:LOCAL_RANK`` for DEVICE auto/cuda under torchrun, or the CPU; NCCL on CUDA,
  gloo on the CPU;
* the training patches are sharded with PyTorch's DistributedSampler (reshuffled every
  epoch, the tail dropped so that no two ranks see the same patch in an epoch); the
  validation patches are split among the ranks and their sums all-reduced, so every rank
  holds the same score; rank 0's score is then broadcast, so model selection and early
  stopping are decided once;
* gradients are averaged across ranks (DDP for the segmenter, ``average_gradients`` for
  small multi-part networks), so the weights stay identical (``fingerprints`` checks);
* batch norm is synchronised on CUDA (SyncBatchNorm); PyTorch has no synchronised batch
  norm on the CPU, so CPU ranks normalise over their own share of the batch;
* batch-norm running statistics are rank 0's on every rank before each validation
  (``sync_buffers``), so all ranks validate and keep the same model;
* only rank 0 writes files and reports: the other ranks get a ``RankReporter``, which
  keeps their errors (prefixed with the rank) on stderr.

A failed collective (another rank died or was stopped) becomes an LrmError saying so,
and torchrun then ends the whole group: no rank is left waiting.
"""

import contextlib
import hashlib
import os
import sys
from datetime import timedelta

import numpy as np
import torch

from ..errors import DeviceError, LrmError
from . import devices
from .device_list import is_device_list, parse_device_list, threads_per_worker
from .rank_launcher import die_with_parent, launched_rank
from .reporting import Reporter

# A collective that waits longer than this for a rank ends the group with an error.
TIMEOUT = timedelta(minutes=30)


class RankReporter(Reporter):
    """The reporter of ranks other than 0: rank 0 reports for the group (the ranks' warnings
    are the same as its own); this one keeps only errors, on stderr, so a failing rank still
    says why."""

    def __init__(self, rank, stream=None):
        self.rank, self._stream = rank, stream or sys.stderr

    def error(self, message, kind="input"):
        self._stream.write(f"rank {self.rank}: ERROR ({kind}): {message}\n")
        self._stream.flush()


class Group:
    """The ranks of one training (``world_size`` 1: a plain single-device run)."""

    def __init__(self, device, rank=0, world_size=1, local_rank=0, backend=None):
        self.device, self.rank, self.world_size = device, rank, world_size
        self.local_rank, self.backend = local_rank, backend

    @property
    def active(self):
        return self.backend is not None

    @property
    def is_main(self):
        return self.rank == 0

    def describe(self):
        text = devices.describe_device(self.device)
        if self.active:
            text += f", rank {self.rank} of {self.world_size} ({self.backend})"
        return text

    # -- data --------------------------------------------------------------------------------
    def train_sampler(self, dataset, seed):
        """This rank's share of the training patches (None outside a group)."""
        if not self.active:
            return None
        if len(dataset) < self.world_size:
            raise LrmError(f"{len(dataset)} training patch(es) cannot be shared among "
                           f"{self.world_size} ranks; use fewer devices, a smaller PATCH_SIZE "
                           f"or more data.")
        return shard_sampler(dataset, self.world_size, self.rank, seed)

    def shard(self, items):
        """This rank's share of a list (validation patches): every world_size-th item."""
        return list(items)[self.rank::self.world_size] if self.active else list(items)

    # -- collectives -------------------------------------------------------------------------
    def all_reduce_sum(self, values):
        """Element-wise sum over the ranks of a float64 numpy array (itself outside a group)."""
        values = np.asarray(values, np.float64)
        if not self.active:
            return values
        tensor = torch.from_numpy(values.copy()).to(self._collective_device())
        torch.distributed.all_reduce(tensor)
        return tensor.cpu().numpy()

    def broadcast(self, value):
        """Rank 0's ``value`` on every rank (picklable objects)."""
        if not self.active:
            return value
        box = [value]
        torch.distributed.broadcast_object_list(box, src=0, device=self._collective_device())
        return box[0]

    def gather(self, value):
        """Every rank's ``value``, in rank order, on every rank."""
        if not self.active:
            return [value]
        out = [None] * self.world_size
        torch.distributed.all_gather_object(out, value)
        return out

    def average_gradients(self, module):
        """Average ``module``'s gradients over the ranks, as DDP does, in one all-reduce
        (for the translator's small networks, whose custom methods DDP cannot wrap)."""
        if not self.active:
            return
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def sync_buffers(self, module):
        """Rank 0's buffers (batch-norm running statistics) on every rank.

        DDP sends them at the start of each training forward, but every rank then updates
        its own from its own batch; validation and the saved model must use one set."""
        if not self.active:
            return
        for buffer in module.buffers():
            torch.distributed.broadcast(buffer.data, src=0)

    def wrap(self, model):
        """``model`` for data-parallel training (itself outside a group): DDP, with
        synchronised batch norm on CUDA."""
        if not self.active:
            return model
        if self.device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
            return torch.nn.parallel.DistributedDataParallel(model, device_ids=[self.device])
        return torch.nn.parallel.DistributedDataParallel(model)

    def _collective_device(self):
        return self.device if self.backend == "nccl" else torch.device("cpu")

    @contextlib.contextmanager
    def failures_as_errors(self):
        """A collective that fails because another rank is gone -> an LrmError that says so."""
        if not self.active:
            yield
            return
        try:
            yield
        except (RuntimeError, torch.distributed.DistError) as exc:
            if isinstance(exc, LrmError) or not _is_collective_failure(exc):
                raise
            raise DeviceError(f"rank {self.rank} of {self.world_size}: another rank of this "
                              f"training failed or was stopped ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}); the whole "
                              f"group stops. The model file keeps the best model so far.") from exc

    def close(self):
        if self.active and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _is_collective_failure(exc):
    text = str(exc).lower()
    return isinstance(exc, torch.distributed.DistError) or any(
        s in text for s in ("gloo", "nccl", "connection", "peer", "timed out", "socket"))


def shard_sampler(dataset, world_size, rank, seed):
    """PyTorch's DistributedSampler, reshuffled per epoch (``set_epoch``), tail dropped:
    the ranks' shards of an epoch are disjoint and equally long."""
    return torch.utils.data.distributed.DistributedSampler(
        dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=int(seed),
        drop_last=True)


def fingerprint(module):
    """A digest of a module's weights and buffers (equal digests: identical models)."""
    digest = hashlib.sha256()
    for name, value in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _rank_device(spec, local_rank, local_world_size):
    """The device of this rank: the DEVICE list's LOCAL_RANK-th entry, else one device
    per local rank for auto/cuda, else the single device asked for."""
    text = (spec or "auto").strip().lower()
    if is_device_list(text):
        listed = parse_device_list(text)
        if local_rank >= len(listed):
            raise DeviceError(f"DEVICE={spec} lists {len(listed)} device(s), but this machine "
                              f"runs {local_world_size} ranks (LOCAL_RANK {local_rank}); list "
                              f"one device per rank, or use --nproc-per-node {len(listed)}.")
        if listed[local_rank] == "cpu":
            torch.set_num_threads(threads_per_worker(listed))
        return torch.device(listed[local_rank])
    if text in ("auto", "cuda") and torch.cuda.is_available():
        if local_rank >= torch.cuda.device_count():
            raise DeviceError(f"LOCAL_RANK {local_rank}: this machine has only "
                              f"{torch.cuda.device_count()} CUDA device(s); start at most that "
                              f"many ranks per node.")
        return torch.device(f"cuda:{local_rank}")
    device = devices.resolve_device(text)
    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(threads_per_worker(["cpu"] * local_world_size))
    return device


def join(spec):
    """This process's Group: a rank of the launched group, or a group of one."""
    rank = launched_rank()
    if rank is None:
        if is_device_list(spec):  # the CLI launches ranks for lists; a library caller cannot
            raise DeviceError(f"DEVICE={spec} is a device list: run the command line "
                              f"(python -m models ...), which launches one rank per device, or "
                              f"start it with python -m torch.distributed.run.")
        return Group(devices.resolve_device(spec))
    if os.name == "posix":
        die_with_parent()  # a rank never outlives torchrun's agent
    world_size = int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
    device = _rank_device(spec, local_rank, local_world)
    if world_size == 1:
        return Group(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    try:
        torch.distributed.init_process_group(backend, timeout=TIMEOUT)
    except (RuntimeError, ValueError) as exc:
        raise DeviceError(f"rank {rank} could not join the training group ({backend}): {exc}. "
                          f"Check torchrun's rendezvous settings (--rdzv-endpoint, "
                          f"--nnodes) and that the nodes can reach each other.") from exc
    return Group(device, rank, world_size, local_rank, backend)

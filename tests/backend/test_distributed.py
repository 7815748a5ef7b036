"""Data-parallel training: DEVICE lists, sharding, 2 CPU ranks (gloo) against 1, failures.

The 2-rank runs go through the real path: ``python -m models train-segmenter --device cpu:2``
launches ``torch.distributed.run`` with two gloo ranks.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import ROOT
from models.errors import DeviceError
from models.runtime.device_list import parse_device_list, threads_per_worker
from models.runtime.distributed import Group, RankReporter, join, shard_sampler
from models.runtime.rank_launcher import _outcome, command
from segmenter_rasters import THREE_CLASSES, make_pair


# -- DEVICE lists ------------------------------------------------------------------------------
def test_device_lists_name_the_devices():
    assert parse_device_list("cpu:3") == ["cpu"] * 3
    assert parse_device_list("cuda:0,1", cuda_count=2) == ["cuda:0", "cuda:1"]
    assert parse_device_list("cuda:1, cuda:0", cuda_count=2) == ["cuda:1", "cuda:0"]
    assert parse_device_list("CUDA:ALL", cuda_count=3) == ["cuda:0", "cuda:1", "cuda:2"]
    assert threads_per_worker(["cpu"] * 2, cpu_count=8) == 4
    assert threads_per_worker(["cpu"] * 4, cpu_count=2) == 1
    assert threads_per_worker(["cuda:0"]) is None


@pytest.mark.parametrize("spec, words", [
    ("cpu:0", "N >= 1"), ("cpu:x", "N >= 1"), ("cuda:0,5", "no cuda:5"),
    ("cuda:0,0", "twice"), ("cuda:0,gpu1", "not a CUDA device number"),
])
def test_bad_device_lists_say_what_is_wrong(spec, words):
    with pytest.raises(DeviceError, match=words):
        parse_device_list(spec, cuda_count=2)


def test_a_cuda_list_without_cuda_says_so():
    with pytest.raises(DeviceError, match="sees none.*cpu:N"):
        parse_device_list("cuda:all", cuda_count=0)


def test_a_library_caller_cannot_train_on_a_list_without_a_launcher():
    with pytest.raises(DeviceError, match="torch.distributed.run"):
        join("cpu:2")
    single = join("cpu")
    assert not single.active and single.is_main and single.world_size == 1


# -- sharding ----------------------------------------------------------------------------------
@pytest.mark.parametrize("count, ranks", [(27, 2), (24, 3), (5, 4)])
def test_rank_shards_are_disjoint_equal_and_reshuffled(count, ranks):
    data = list(range(count))
    orders = []
    for epoch in range(3):
        shards = []
        for rank in range(ranks):
            sampler = shard_sampler(data, ranks, rank, seed=7)
            sampler.set_epoch(epoch)
            shards.append(list(sampler))
        seen = [i for shard in shards for i in shard]
        assert len(set(seen)) == len(seen) == count - count % ranks  # disjoint, tail dropped
        assert len({len(s) for s in shards}) == 1
        orders.append(shards[0])
    assert orders[0] != orders[1]  # a new shuffle every epoch


def test_validation_shards_cover_every_patch_once():
    items = list(range(11))
    shards = [Group(torch.device("cpu"), r, 3, r, "gloo").shard(items) for r in range(3)]
    assert sorted(i for s in shards for i in s) == items


def test_other_ranks_report_only_their_errors(capsys):
    reporter = RankReporter(1)
    reporter.info("epoch 1")
    reporter.progress(50)
    reporter.warning("no ImageNet weights")
    reporter.result({"output": "x"})
    reporter.error("the labels are empty", kind="input")
    err = capsys.readouterr().err
    assert err == "rank 1: ERROR (input): the labels are empty\n"


def test_the_launcher_runs_torchrun_and_explains_a_failed_rank():
    cmd = command(["train-segmenter", "--device", "cpu:2", "--jsonl"], 2)
    assert cmd[1:4] == ["-m", "torch.distributed.run", "--standalone"]
    assert cmd[cmd.index("--nproc-per-node") + 1] == "2" and cmd.count("--jsonl") == 1
    with pytest.raises(DeviceError, match="rank 1: ERROR .*disk"):
        _outcome(1, {"error": {"type": "error", "message": "interrupted", "kind": "cancelled"}},
                 ["noise", "rank 1: ERROR (storage): the disk is full"], 2)
    result = _outcome(0, {"result": {"data": {"output": "m"}}}, [], 2)
    assert result == {"output": "m", "ranks": 2}


# -- real 2-rank training ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    return [make_pair(folder, name, size=128, seed=i)[:2] for i, name in enumerate("ab")]


def _train_args(pairs, output, device, batch, epochs=3):
    args = [sys.executable, "-m", "models", "train-segmenter", "--jsonl",
            "--classes", THREE_CLASSES, "--encoder", "resnet18", "--patch-size", "32",
            "--batch-size", str(batch), "--epochs", str(epochs), "--validation-fraction", "0.25",
            "--learning-rate", "0.003", "--device", device, "--output", str(output)]
    for image, labels in pairs:
        args += ["--images", image, "--labels", labels]
    return args


def _events(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _run(args, timeout=300):
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": ROOT})
    return proc, _events(proc.stdout)


def _result(events):
    results = [e for e in events if e["type"] == "result"]
    assert len(results) == 1, events[-3:]
    return results[0]["data"]


@pytest.mark.slow
def test_two_cpu_ranks_train_the_model_one_rank_trains(pairs, tmp_path):
    """2 ranks x 4 patches against 1 x 8: the same number of steps of the same total batch.

    Not bit-identical, by design: the ranks' shuffle is DistributedSampler's (not the
    single run's), each rank draws its own augmentations, and CPU batch norm normalises
    over each rank's 4 patches (PyTorch has SyncBatchNorm on CUDA only). The tolerance
    (validation loss within 30 %, mIoU within 10 points, both far above the untrained
    model) is about twice what those differences cost when measured on this data (seeds 0
    and 1: the 2-rank loss 8-14 % higher, mIoU 3.7-5.8 points lower, at 87-93 % mIoU).
    """
    one, events_one = _run(_train_args(pairs, tmp_path / "one" / "m.safetensors", "cpu", 8))
    two, events_two = _run(_train_args(pairs, tmp_path / "two" / "m.safetensors", "cpu:2", 4))
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    single, parallel = _result(events_one), _result(events_two)

    assert parallel["ranks"] == 2 and parallel["ranks_in_sync"]
    assert len(set(parallel["rank_fingerprints"])) == 1           # identical weights
    assert parallel["iterations"] == single["iterations"] == 9
    assert parallel["training_patches_per_rank"] == single["training_patches"] // 2
    assert single["best_validation_miou"] > single["initial_validation_miou"] + 30
    assert abs(parallel["best_validation_miou"] - single["best_validation_miou"]) < 10
    assert abs(parallel["best_validation_loss"] / single["best_validation_loss"] - 1) < 0.3

    # rank 0 alone reports and writes: one result, one model file and nothing else
    assert sorted(os.listdir(tmp_path / "two")) == ["m.safetensors"]
    assert "rank 1" not in json.dumps(events_two)
    from models.segmentation.model_file import read_segmenter

    meta = read_segmenter(str(tmp_path / "two" / "m.safetensors")).meta
    assert meta["training"]["ranks"] == 2 and meta["training"]["batch_size_total"] == 8


def _rank_pids(launcher_pid):
    """PIDs of the processes below ``launcher_pid`` whose environment has RANK set."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"RANK" in env and b"LOCAL_RANK" in env:
            found[int(pid)] = (int(env[b"RANK"]), ppid)
    # keep the ranks of this launcher's torchrun (its child)
    children = {int(p) for p in filter(str.isdigit, os.listdir("/proc"))
                if _ppid(int(p)) == launcher_pid}
    return {rank: pid for pid, (rank, ppid) in found.items() if ppid in children}


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


@pytest.mark.slow
def test_a_killed_rank_ends_the_group_with_a_clear_error(pairs, tmp_path):
    output = tmp_path / "m.safetensors"
    proc = subprocess.Popen(_train_args(pairs, output, "cpu:2", 4, epochs=200), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT})
    try:
        lines = []
        for line in proc.stdout:  # wait for the first finished epoch (a model file exists)
            lines.append(line)
            if '"val_loss"' in line and '"epoch": 1' in line:
                break
        ranks = _rank_pids(proc.pid)
        assert set(ranks) == {0, 1}, ranks
        os.kill(ranks[1], signal.SIGKILL)
        started = time.monotonic()
        rest, stderr = proc.communicate(timeout=120)
        stopped_in = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    events = _events("".join(lines) + rest)
    errors = [e for e in events if e["type"] == "error"]
    assert proc.returncode == 2 and len(errors) == 1, stderr[-2000:]
    assert "rank" in errors[0]["message"] and "failed" in errors[0]["message"]
    assert "internal error" not in errors[0]["message"] and errors[0]["kind"] == "device"
    assert stopped_in < 60
    assert not any(_ppid(pid) for pid in ranks.values())  # no rank left behind
    from models.segmentation.model_file import read_segmenter

    assert read_segmenter(str(output)).meta["trained_iterations"] >= 0  # best so far, valid
    assert np.isfinite(read_segmenter(str(output)).meta["best_validation_loss"])


@pytest.mark.slow
def test_two_cpu_ranks_train_the_lrm_translator(tmp_path):
    """The translator's source side in parallel: the same step count as one rank with the
    total batch, identical networks on both ranks, one model file, one report."""
    from translation_rasters import source_and_target
    from models.translation.apply import translate_raster

    source, target, _, _ = source_and_target(str(tmp_path), size=128)
    runs = {}
    for device, batch in (("cpu", 4), ("cpu:2", 2)):
        folder = tmp_path / device.replace(":", "")
        args = [sys.executable, "-m", "models", "train-translator", "--jsonl", "--source", source,
                "--target", target, "--patch-size", "32", "--batch-size", str(batch),
                "--epochs", "2", "--one-shot-size", "0", "--device", device,
                "--output", str(folder / "t.safetensors"),
                "--output-html", str(folder / "report.html")]
        proc, events = _run(args)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs[device] = _result(events)
        assert sorted(os.listdir(folder)) == ["report.html", "t.safetensors"]
    single, parallel = runs["cpu"], runs["cpu:2"]
    assert parallel["ranks"] == 2 and parallel["ranks_in_sync"]
    assert parallel["iterations"] == single["iterations"]
    assert np.isfinite(parallel["best_validation_loss"])
    assert parallel["best_validation_loss"] < 2 * single["best_validation_loss"]
    out = translate_raster(source, str(tmp_path / "cpu2" / "t.safetensors"),
                           str(tmp_path / "translated.tif"), device="cpu")
    assert os.path.exists(out["output"])


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_cancelling_the_launcher_stops_every_rank(pairs, tmp_path, sig):
    """SIGTERM (Processing's Cancel) to the process the caller started: the ranks stop, the
    run ends as cancelled (status 130), the model file keeps the best model so far. SIGKILL
    (Processing's kill after its grace, or the OOM killer): no rank is left training."""
    output = tmp_path / "m.safetensors"
    proc = subprocess.Popen(_train_args(pairs, output, "cpu:2", 4, epochs=200), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT})
    try:
        for line in proc.stdout:
            if '"val_loss"' in line and '"epoch": 1' in line:
                break
        ranks = _rank_pids(proc.pid)
        assert set(ranks) == {0, 1}, ranks
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    if sig == signal.SIGTERM:
        errors = [e for e in _events(rest) if e["type"] == "error"]
        assert proc.returncode == 130 and errors[-1]["kind"] == "cancelled"
    deadline = time.monotonic() + 45
    while any(_ppid(pid) for pid in ranks.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(_ppid(pid) for pid in ranks.values())
    from models.segmentation.model_file import read_segmenter

    assert np.isfinite(read_segmenter(str(output)).meta["best_validation_loss"])


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_nodes_rendezvous_through_torchrun_flags(pairs, tmp_path):
    """The multi-node form of the README, as two 'nodes' on this machine: torchrun with
    --nnodes 2 --node-rank K --rdzv-backend c10d --rdzv-endpoint; global rank 0 (node 0)
    alone reports and writes."""
    endpoint = f"127.0.0.1:{_free_port()}"
    train = _train_args(pairs, tmp_path / "m.safetensors", "cpu", 4, epochs=1)[1:]  # -m models ...
    nodes = []
    for node in (0, 1):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--node-rank",
               str(node), "--nproc-per-node", "1", "--rdzv-backend", "c10d", "--rdzv-id", "lrm",
               "--rdzv-endpoint", endpoint, *train]
        nodes.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env={**os.environ, "PYTHONPATH": ROOT,
                                                      "OMP_NUM_THREADS": "1"}))
    outs = [p.communicate(timeout=300) for p in nodes]
    assert [p.returncode for p in nodes] == [0, 0], [o[1][-1500:] for o in outs]
    events = [_events(o[0]) for o in outs]
    results = [[e for e in ev if e["type"] == "result"] for ev in events]
    assert sum(map(len, results)) == 1 and not any(ev for ev in events[1 if results[0] else 0])
    result = (results[0] or results[1])[0]["data"]
    assert result["ranks"] == 2 and result["ranks_in_sync"]
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]

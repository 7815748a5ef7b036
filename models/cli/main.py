"""Command-line interface shared by the Processing algorithms and headless users.

    python -m models <command> [options]          # human-readable output
    python -m models <command> --jsonl [options]  # worker protocol (see reporting.py)

Each command lives in ``models/cli/commands/<name>.py`` and defines ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args, reporter) -> dict``. Command modules are
imported only when chosen, and the backend's dependencies are checked before a
command outside ``COMMANDS_WITHOUT_TORCH`` is imported, so a missing torch is one
clear error naming the interpreter and the install command.
"""

import argparse
import importlib
import os
import sys
import traceback

from ..errors import LrmError
from ..runtime.dependencies import check_backend_dependencies
from ..runtime.rank_launcher import launched_rank
from ..runtime.reporting import JsonLinesReporter, TextReporter

# command name -> module in models.cli.commands
COMMANDS = {
    "check-environment": "check_environment",
    "create-sample-data": "create_sample_data",
    "train-translator": "train_translator",
    "translate": "translate",
    "train-segmenter": "train_segmenter",
    "classify": "classify",
    "evaluate": "evaluate",
    "convert-labels": "convert_labels",
    "export-segmenter": "export_segmenter",
}

# Commands that run without torch (everything else checks for it before importing).
COMMANDS_WITHOUT_TORCH = {"check-environment", "create-sample-data"}

# Commands whose DEVICE list means data-parallel ranks (runtime/rank_launcher.py).
DATA_PARALLEL_COMMANDS = {"train-segmenter", "train-translator"}

def _load_command(name):
    return importlib.import_module(f"{__package__}.commands.{COMMANDS[name]}")


def build_parser(command_modules=None):
    parser = argparse.ArgumentParser(
        prog="python -m models",
        description="LRM Adapt backend: one-shot domain adaptation for land-cover mapping.",
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    sub.required = True
    for name in COMMANDS:
        module = (command_modules or {}).get(name)
        help_text = getattr(module, "HELP", None) if module else None
        p = sub.add_parser(name, help=help_text or name)
        p.add_argument("--jsonl", action="store_true",
                       help="write the JSON-lines worker protocol on stdout")
        if module is not None:
            module.add_arguments(p)
    return parser


def _protocol_stream():
    """Keep the real stdout for the protocol and send fd 1 to stderr.

    Libraries that print (or C code writing to fd 1) then cannot corrupt the
    JSON-lines stream the Processing algorithm parses.
    """
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto


TERMINATED = False  # set when SIGTERM ended the run (the caller then exits at once)


def interrupt_on_sigterm():
    """Turn SIGTERM (Processing's Cancel, a batch scheduler's stop, ``kill``) into the same
    KeyboardInterrupt as Ctrl+C, so a terminated run unwinds like an interrupted one: the
    output being written is removed, a training keeps its best model, exit status 130.
    Without it SIGTERM ended the process on the spot and left the hidden partial file.
    Once unwound, ``__main__`` leaves with ``os._exit``: the interpreter's own shutdown
    (torch's and GDAL's teardown) takes about a second, which a cancelled run must not
    wait for (tests/plugin/test_cancel_real_backend.py)."""
    import signal

    def interrupt(signum, frame):
        global TERMINATED
        TERMINATED = True
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, interrupt)
    except (ValueError, OSError):  # not the main thread (an embedding caller): leave it be
        pass


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    jsonl = "--jsonl" in argv
    reporter = JsonLinesReporter(_protocol_stream()) if jsonl else TextReporter()
    rank = launched_rank()
    if rank:  # a rank other than 0 of a data-parallel group: rank 0 reports for all
        from ..runtime.distributed import RankReporter

        reporter = RankReporter(rank)

    if jsonl:
        from ..runtime.parent_watch import watch_parent

        watch_parent()
    name = next((a for a in argv if not a.startswith("-")), None)
    modules = {}
    try:
        if name in COMMANDS:
            if name not in COMMANDS_WITHOUT_TORCH:
                check_backend_dependencies()
            module = _load_command(name)
            modules[name] = module
        parser = build_parser(modules)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help or a usage error
            if jsonl and exc.code:
                reporter.error(f"invalid arguments for 'python -m models {name}': "
                               f"{' '.join(argv)} (see stderr)", kind="usage")
            return exc.code
        module = modules[args.command]
        if _launches_ranks(args, rank):
            from ..runtime.rank_launcher import launch

            result = launch(argv, args.device, reporter)
        else:
            result = module.run(args, reporter)
        reporter.progress(100)
        reporter.result(result or {})
        return 0
    except LrmError as exc:
        reporter.error(str(exc), kind=exc.kind)
        return 2
    except KeyboardInterrupt:
        reporter.error("interrupted", kind="cancelled")
        return 130
    except OSError as exc:
        import errno

        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            return _internal_error(reporter, exc)
        from ..errors import storage_error

        reporter.error(str(storage_error(exc.filename or os.getcwd(), exc)), kind="storage")
        return 2
    except MemoryError:
        reporter.error("The worker ran out of memory (RAM). Use a smaller BATCH_SIZE or "
                       "PATCH_SIZE.", kind="device")
        return 2
    except Exception as exc:
        return _internal_error(reporter, exc)


def _launches_ranks(args, rank):
    """A training command with a DEVICE list, not itself a rank: it launches the ranks."""
    if rank is not None or args.command not in DATA_PARALLEL_COMMANDS:
        return False
    from ..runtime.device_list import is_device_list

    return is_device_list(getattr(args, "device", None))


def _internal_error(reporter, exc):
    """A bug: a message for the user, the traceback (stderr) for a bug report; status 1."""
    traceback.print_exc(file=sys.stderr)
    reporter.error(f"internal error in the LRM backend: {type(exc).__name__}: {exc}. "
                   f"The traceback is in the log; please report it.", kind="internal")
    return 1

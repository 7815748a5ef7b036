"""Entry point of the worker and of the command-line tool: ``python -m models``."""

import os
import sys

from .cli import main as cli

if __name__ == "__main__":
    cli.interrupt_on_sigterm()  # the process is ours: a SIGTERM unwinds it like Ctrl+C
    status = cli.main()
    if cli.TERMINATED:  # unwound and cleaned up: skip the interpreter's slow shutdown
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(status)
    sys.exit(status)

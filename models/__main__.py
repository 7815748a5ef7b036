"""Entry point of the worker and of the command-line tool: ``python -m models``."""

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())

"""Backend flags declared from the shared parameter contract (models/contract/parameters.py).

A command calls ``add_contract_flags(parser, "<command>")`` for every flag that a
Processing parameter sets, and declares only its backend-only flags itself, so a flag's
type, default, choices and help are the Processing parameter's.
"""

from .. import contract
from ..contract.parameters import PATHS

_TYPES = {"int": int, "double": float}


def flag_arguments(spec):
    """The ``add_argument`` keywords of one parameter spec."""
    kwargs = {"default": spec.flag_default, "help": spec.help or spec.description}
    if spec.kind in _TYPES:
        kwargs["type"] = _TYPES[spec.kind]
    if spec.kind == "enum" and spec.cli_choices:
        kwargs["choices"] = spec.options
    if spec.kind in PATHS:
        kwargs["metavar"] = "PATH"
        kwargs["required"] = not spec.optional
    if spec.kind == "extent":
        kwargs["metavar"] = "XMIN,YMIN,XMAX,YMAX"
    if kwargs["default"] not in (None, "") and spec.kind not in PATHS:
        kwargs["help"] += f" (default {kwargs['default']})"
    if spec.kind == "rasters":
        kwargs["action"] = "append"
        kwargs["help"] += " (repeat the flag for several)"
    return kwargs


def add_contract_flags(parser, command):
    for spec in contract.command_flags(command):
        parser.add_argument(spec.flag, **flag_arguments(spec))

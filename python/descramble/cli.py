"""The ``descramble`` command line (also ``python -m descramble``).

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args) -> int``; modules are imported only when their command runs, so
``descramble demo`` never pays for the imports of ``descramble fit``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ._version import __version__

# command -> (module, one-line help)
COMMANDS = {
    "demo": ("descramble.demo", "descramble a shipped DEERNet-style network on fresh DEER traces"),
    "fit": ("descramble.fit", "descramble a large layer from activation files (batch job)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="descramble",
        description="Exact, certified descramblers for neural network hidden layers.",
    )
    parser.add_argument("--version", action="version", version=f"descramble {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        # Arguments are added lazily below, only for the chosen command.
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # Find the command first, then let its module add its own arguments.
    name = next((a for a in argv if not a.startswith("-")), None)
    if name in COMMANDS:
        module = importlib.import_module(COMMANDS[name][0])
        sub_action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        module.add_arguments(sub_action.choices[name])
    args = parser.parse_args(argv)
    module = importlib.import_module(args._module)
    return int(module.run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

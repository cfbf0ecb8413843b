"""``descramble bench``: run the benchmark suite shipped with the package."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    p.add_argument("--area", action="append", help="run only this area (repeatable)")
    p.add_argument(
        "--out", type=Path, default=Path("descramble-bench"), help="folder for the JSON results"
    )


def run(args: argparse.Namespace) -> int:
    from .bench import run as bench_run
    from .bench._table import render

    argv = ["--out", str(args.out)]
    if args.quick:
        argv.append("--quick")
    for area in args.area or []:
        argv += ["--area", area]
    code = bench_run.main(argv)
    if not args.quick:
        print(render(args.out))
    return code

"""Run the benchmarks, write JSON results, and print or update the tables in docs/performance.md.

    python bench/run.py                       # all areas, full sizes, JSON to bench/results/
    python bench/run.py --quick --out DIR     # small sizes (CI smoke run)
    python bench/run.py --area moments        # one area
    python bench/run.py --unset-openblas      # numpy with its AVX-512 kernels
    python bench/run.py --table               # docs/performance.md tables from bench/results/*.json

Each area is a module ``bench_<area>.py`` beside this file with ``run(quick)``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

if not __package__:  # run as a script: make ``bench`` importable as a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from ._harness import machine_info  # noqa: E402
from ._table import update_doc  # noqa: E402

HERE = Path(__file__).resolve().parent
AREAS = sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--area", action="append", choices=AREAS, help="run only these areas")
    ap.add_argument("--out", type=Path, default=HERE / "results", help="folder for JSON results")
    ap.add_argument(
        "--unset-openblas",
        action="store_true",
        help="re-run with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset (numpy's AVX-512 kernels)",
    )
    ap.add_argument(
        "--table", action="store_true", help="regenerate the tables in docs/performance.md and exit"
    )
    args = ap.parse_args(argv)

    if args.table:
        print(update_doc(HERE / "results", HERE.parent / "docs" / "performance.md"))
        return 0
    if args.unset_openblas and "OPENBLAS_CORETYPE" in os.environ:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        }
        os.execve(sys.executable, [sys.executable, "-m", "bench.run", *(argv or sys.argv[1:])], env)

    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "-unset" if args.unset_openblas else ""
    for area in args.area or AREAS:
        module = importlib.import_module(f".bench_{area}", __package__)
        print(f"== {area}", flush=True)
        cases = module.run(quick=args.quick)
        for c in cases:
            print(
                f"  {c['case']:<48} ours {c['ours_s'] * 1e3:10.3f} ms   "
                f"{c['peer']:<24} {c['peer_s'] * 1e3:10.3f} ms   x{c['speedup']:.2f}"
            )
        result = {"area": area, "quick": args.quick, "machine": machine_info(), "cases": cases}
        path = args.out / f"{area}{suffix}{'-quick' if args.quick else ''}.json"
        path.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

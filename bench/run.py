"""Run the benchmarks, write JSON results, and print or update the tables in docs/performance.md.

    python bench/run.py                       # all areas at the default kernel level
    python bench/run.py --isa baseline        # descramble's baseline kernels, numpy's matching
    python bench/run.py --quick --out DIR     # small sizes (CI smoke run)
    python bench/run.py --area moments        # one area
    python bench/run.py --table               # docs/performance.md tables from bench/results/*.json

Each area is a module ``bench_<area>.py`` beside this file with ``run(quick)``;
its results go to ``<out>/<area>-<level>.json`` (``-quick`` added for --quick).

``--isa LEVEL`` re-executes this script with ``DESCRAMBLE_ISA=LEVEL`` (read when
descramble is imported) and ``OPENBLAS_CORETYPE`` set to numpy's kernels of the
same instruction set (read when numpy is imported), so that both sides of every
case use the same vector width. The JSON records which kernels really ran.
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

from ._harness import blas_info, machine_info  # noqa: E402
from ._table import update_doc  # noqa: E402

HERE = Path(__file__).resolve().parent
AREAS = sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))

# numpy's OpenBLAS kernels of each of descramble's levels. Baseline: OpenBLAS
# reports Prescott and Core2 as "Katmai" (its generic core), so the SSE-only
# core that it really runs and names is Nehalem (SSE4.2, no AVX).
OPENBLAS_CORE = {"baseline": "Nehalem", "avx2": "Haswell", "avx512": "SkylakeX"}


def _reexec_for_level(level: str, core: str, argv: list[str]) -> None:
    """Start again with the level's environment, unless this process already has it."""
    if os.environ.get("DESCRAMBLE_ISA") == level and os.environ.get("OPENBLAS_CORETYPE") == core:
        return
    env = {**os.environ, "DESCRAMBLE_ISA": level, "OPENBLAS_CORETYPE": core}
    root = str(HERE.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "bench.run", *argv], env)


def _kernels(level: str | None) -> dict:
    """descramble's level in use (checked against the request) and numpy's OpenBLAS core."""
    try:
        from ._harness import kernel_level
    except ImportError as exc:
        raise SystemExit(f"bench: descramble cannot be imported: {exc}") from exc
    try:
        in_use = kernel_level()[0]
    except ImportError as exc:  # e.g. DESCRAMBLE_ISA names a level this CPU lacks
        raise SystemExit(f"bench: {exc}") from exc
    if level is not None and in_use != level:
        raise SystemExit(f"bench: asked for the {level} level, descramble runs {in_use}")
    expected = os.environ.get("OPENBLAS_CORETYPE")
    ran = sorted({str(b["architecture"]) for b in blas_info() if b.get("architecture")})
    if expected and ran != [expected]:
        print(f"bench: OPENBLAS_CORETYPE={expected} but OpenBLAS runs {', '.join(ran)}")
    return {"level": in_use, "openblas_expected": expected, "openblas_ran": ran}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--area", action="append", choices=AREAS, help="run only these areas")
    ap.add_argument("--out", type=Path, default=HERE / "results", help="folder for JSON results")
    ap.add_argument(
        "--isa",
        choices=sorted(OPENBLAS_CORE),
        help="descramble's kernel level (DESCRAMBLE_ISA) with numpy's matching OpenBLAS kernels",
    )
    ap.add_argument(
        "--table", action="store_true", help="regenerate the tables in docs/performance.md and exit"
    )
    args = ap.parse_args(argv)

    if args.table:
        print(update_doc(HERE / "results", HERE.parent / "docs" / "performance.md"))
        return 0
    if args.isa:
        _reexec_for_level(args.isa, OPENBLAS_CORE[args.isa], argv)
    kernels = _kernels(args.isa)
    print(f"kernel level {kernels['level']}, OpenBLAS {', '.join(kernels['openblas_ran'])}")

    args.out.mkdir(parents=True, exist_ok=True)
    for area in args.area or AREAS:
        module = importlib.import_module(f".bench_{area}", __package__)
        print(f"== {area}", flush=True)
        cases = module.run(quick=args.quick)
        for c in cases:
            print(
                f"  {c['case']:<48} ours {c['ours_s'] * 1e3:10.3f} ms   "
                f"{c['peer']:<24} {c['peer_s'] * 1e3:10.3f} ms   x{c['speedup']:.2f}",
                flush=True,
            )
        result = {"area": area, "quick": args.quick, "machine": machine_info(), "cases": cases}
        path = args.out / f"{area}-{kernels['level']}{'-quick' if args.quick else ''}.json"
        path.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``descramble fit`` job: open, resume, stream, solve and write."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import _io
from ..descrambler import descramble
from ..moments import Moments
from . import checkpoint
from .errors import FitError
from .files import make_output_folder
from .inputs import open_inputs
from .solve import make_report, remove_earlier_results, write_results
from .stream import stream

# Default block size: about this many bytes of float64 per block.
_BLOCK_BYTES = 16 << 20


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (_io.InputError, FitError) as exc:
        print(f"descramble fit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\ndescramble fit: interrupted; rerun with --resume to continue from the last "
            "checkpoint",
            file=sys.stderr,
        )
        return 130


def _resume(
    args: argparse.Namespace, path: Path, n: int, inputs: list[dict]
) -> tuple[Moments, checkpoint.Position, bool]:
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    if args.resume and path.exists():
        moments, position = checkpoint.load(path, n, inputs)
        say(f"resuming from {path}: {moments.count} samples already accumulated")
        return moments, position, True
    if args.resume:
        say(f"no checkpoint in {path.parent}: starting from the beginning")
    return Moments(n), checkpoint.Position(), False


def _run(args: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    inputs = open_inputs(args)
    n = inputs.n
    batch_rows = args.batch_rows or max(1, _BLOCK_BYTES // (8 * n))
    out = Path(args.out)
    make_output_folder(out)
    identity = checkpoint.identity(inputs.shards)
    ckpt_path = out / checkpoint.CHECKPOINT
    moments, position, resumed = _resume(args, ckpt_path, n, identity)
    remove_earlier_results(out)

    file_hashes, timings = stream(
        inputs.shards,
        moments,
        position,
        batch_rows=batch_rows,
        checkpoint_blocks=args.checkpoint_blocks,
        checkpoint_path=ckpt_path,
        inputs=identity,
        quiet=args.quiet,
    )
    if moments.count == 0:
        raise _io.InputError(f"{args.activations}: holds no samples (0 rows)")

    t0 = time.perf_counter()
    result = descramble(
        moments,
        smoothness=args.smoothness,
        order=args.order,
        center=args.center,
        group=args.group,
        k=args.k,
    )
    t_solve = time.perf_counter() - t0
    report = make_report(
        result,
        args=args,
        inputs=inputs,
        samples=int(moments.count),
        file_hashes=file_hashes,
        timings={
            "read": timings.read,
            "accumulate": timings.accumulate,
            "solve": t_solve,
            "total": time.perf_counter() - t_start,
        },
        batch_rows=batch_rows,
        resumed=resumed,
    )
    write_results(out, result, inputs, args, report)
    if not args.quiet:
        print(
            f"n = {n}, samples = {moments.count}: objective {report['objective']:.6g}, "
            f"lower bound {report['lower_bound']:.6g}, gap {report['gap']:.3g}, "
            f"{report['timings']['total']:.2f} s; wrote {out}",
            file=sys.stderr,
        )
    return 0

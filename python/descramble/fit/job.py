"""The ``descramble fit`` job: open, resume, stream, solve and write."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .. import _io
from ..descrambler import descramble
from ..moments import Moments
from ..sketch import Sketch
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


#: The n x n path holds the statistics, the Gram matrix and the eigensolver's
#: copy: about three n x n float64 arrays at its peak.
_DENSE_COPIES = 3


def _available_bytes() -> int | None:
    """Memory available to this job (Linux /proc/meminfo, else physical memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _check_memory(args: argparse.Namespace, n: int) -> None:
    """Refuse n x n statistics that cannot fit, and point at --sketch."""
    if args.sketch is not None:
        return
    need = _DENSE_COPIES * 8 * n * n
    have = _available_bytes()
    if have is not None and need > have:
        raise FitError(
            f"n = {n}: the n x n statistics and their solve need about {need / 2**30:.1f} GiB, "
            f"but only {have / 2**30:.1f} GiB of memory is available; use --sketch K to keep "
            f"the K leading directions in O(n K) memory (e.g. --sketch 64)"
        )


def _fresh(args: argparse.Namespace, n: int) -> Moments | Sketch:
    return Moments(n) if args.sketch is None else Sketch(n, args.sketch)


def _resume(
    args: argparse.Namespace, path: Path, n: int, inputs: list[dict]
) -> tuple[Moments | Sketch, checkpoint.Position, bool]:
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    if args.resume and path.exists():
        moments, position = checkpoint.load(path, n, inputs)
        wanted = _fresh(args, n)
        if type(moments) is not type(wanted) or (
            isinstance(moments, Sketch) and moments.k != args.sketch
        ):
            raise FitError(
                f"{path}: the checkpoint holds {moments!r}, but these options accumulate "
                f"{wanted!r}; rerun with the options of the checkpoint or drop --resume"
            )
        say(f"resuming from {path}: {moments.count} samples already accumulated")
        return moments, position, True
    if args.resume:
        say(f"no checkpoint in {path.parent}: starting from the beginning")
    return _fresh(args, n), checkpoint.Position(), False


def _run(args: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    inputs = open_inputs(args)
    n = inputs.n
    batch_rows = args.batch_rows or max(1, _BLOCK_BYTES // (8 * n))
    out = Path(args.out)
    make_output_folder(out)
    identity = checkpoint.identity(inputs.shards)
    ckpt_path = out / checkpoint.CHECKPOINT
    _check_memory(args, n)
    moments, position, resumed = _resume(args, ckpt_path, n, identity)
    if isinstance(moments, Sketch) and not args.quiet:
        print(
            f"using a sketch of the second moments (K = {moments.k} leading directions, "
            f"{moments.nbytes / 2**20:.0f} MiB) instead of n x n statistics "
            f"({8 * n * n / 2**20:.0f} MiB)",
            file=sys.stderr,
        )
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

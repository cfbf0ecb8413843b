"""``descramble fit``: descramble a large layer from activation files, in bounded memory.

::

    descramble fit ACTIVATIONS --weights FILE [--key NAME] --out DIR [options]

Streams the activations (rows = samples, columns = neurons) in row blocks into a
:class:`descramble.Moments`, solves the descrambling problem once on the n x n
statistics, and writes ``DIR/descrambler.npy`` (P), ``DIR/weights_descrambled.npy``
(``P @ W`` for ``--side output``, ``W @ P.T`` for ``--side input``) and
``DIR/report.json``. Memory is O(n^2 + block) whatever the data size.

Checksums: the SHA-256 of every input file is computed from the bytes the reader
reads anyway (each byte of a row-major ``.npy``/``.safetensors`` file is read
once). Column-major ``.npy`` files and ``.npz`` archives are hashed in one extra
sequential pass, and ``--resume`` re-reads (without recomputing anything) the
prefix of the file that was being read when the job stopped, to check it is the
same data.

``--resume``: every ``--checkpoint-blocks`` blocks (at the end of the shard that
completes them, or inside a big shard) and after the last block, the partial
statistics and the position reached are written atomically (temporary file,
``os.replace``) to ``DIR/checkpoint.npz``; many small shards therefore do not pay
for an n x n write each. A rerun with ``--resume`` continues from there and gives
the same answer as an uninterrupted run. The checkpoint is kept after success, so
``--resume`` with other solver options (``--smoothness``, ``--group``, ...)
re-solves without reading the data again (the files' sizes and modification
times are checked).

References: Sule, Spencer, Czaja, ACHA 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793; Amey et al., PNAS 118(5) e2016917118 (2021),
doi:10.1073/pnas.2016917118.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import _io

CHECKPOINT = "checkpoint.npz"
_CHECKPOINT_FORMAT = 1
# Default block size: about this many bytes of float64 per block.
_BLOCK_BYTES = 16 << 20


# Called after each checkpoint is written with the number written so far. Tests
# replace it to simulate a job killed between checkpoints.
def _after_checkpoint(count: int) -> None:
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "activations",
        metavar="ACTIVATIONS",
        help="a .npy file, .npz archive, .safetensors file, or a folder of them (sorted by name); "
        "rows are samples, columns are neurons",
    )
    parser.add_argument("--weights", metavar="FILE", help=".npy/.npz/.safetensors/.pt/.pth weights")
    parser.add_argument("--key", metavar="NAME", help="which array of the weights file to use")
    parser.add_argument(
        "--activations-key",
        metavar="NAME",
        help="read only this array of an .npz/.safetensors activations file (default: every "
        "array is a shard)",
    )
    parser.add_argument("--out", metavar="DIR", required=True, help="output folder")
    parser.add_argument(
        "--smoothness",
        default="fourier",
        choices=["fourier", "periodic", "dirichlet", "neumann"],
        help="smoothness operator (default: fourier)",
    )
    parser.add_argument("--order", type=int, default=2, help="derivative order (default: 2)")
    parser.add_argument(
        "--group",
        default="orthogonal",
        choices=["orthogonal", "special", "permutation"],
        help="descrambler group (default: orthogonal)",
    )
    parser.add_argument("--center", action="store_true", help="use the centred covariance")
    parser.add_argument("--k", type=int, help="keep only the k leading principal directions")
    parser.add_argument(
        "--side",
        default="output",
        choices=["output", "input"],
        help="output: the activations are this layer's outputs, write P @ W; "
        "input: W consumes them (the next layer), write W @ P.T (default: output)",
    )
    parser.add_argument(
        "--batch-rows",
        type=int,
        help="rows per block (default: about 16 MB of float64 per block)",
    )
    parser.add_argument(
        "--checkpoint-blocks",
        type=int,
        default=64,
        help="write a checkpoint every this many blocks (default: 64)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from DIR/checkpoint.npz if present"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or messages")


# ---------------------------------------------------------------------------------------
# Progress


class _Progress:
    """tqdm when installed, else one stderr line rewritten at most once a second."""

    def __init__(self, total: int, initial: int, quiet: bool):
        self._bar: Any = None
        self._quiet = quiet
        self._total, self._done, self._last = total, initial, 0.0
        if quiet:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self._bar = tqdm(
            total=total,
            initial=initial,
            unit="rows",
            unit_scale=True,
            file=sys.stderr,
            desc="descramble fit",
        )

    def update(self, rows: int) -> None:
        self._done += rows
        if self._bar is not None:
            self._bar.update(rows)
        elif not self._quiet and time.monotonic() - self._last > 1.0:
            self._last = time.monotonic()
            pct = 100.0 * self._done / max(self._total, 1)
            print(
                f"\rdescramble fit: {self._done}/{self._total} rows ({pct:.0f}%)",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif not self._quiet:
            print(f"\rdescramble fit: {self._done}/{self._total} rows (100%)", file=sys.stderr)


# ---------------------------------------------------------------------------------------
# Checkpoints


def _identity(shards: list[_io.Shard]) -> list[dict]:
    out = []
    for s in shards:
        st = s.path.stat()
        out.append(
            {"label": s.label, "rows": s.rows, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        )
    return out


def _write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _save_checkpoint(path: Path, moments: Any, meta: dict) -> None:
    count, mean, scatter = moments.state()
    _write_atomic(
        path,
        lambda f: np.savez(
            f,
            count=np.int64(count),
            mean=np.asarray(mean, np.float64),
            scatter=np.asarray(scatter, np.float64),
            meta=np.array(json.dumps(meta)),
        ),
    )


def _load_checkpoint(path: Path) -> tuple[Any, dict]:
    from . import Moments

    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            moments = Moments.from_state(int(z["count"]), z["mean"], z["scatter"])
    except (OSError, ValueError, KeyError) as exc:
        raise _io.InputError(
            f"{path}: unreadable checkpoint ({exc}); delete it to start over"
        ) from exc
    if meta.get("format") != _CHECKPOINT_FORMAT:
        raise _io.InputError(f"{path}: checkpoint format {meta.get('format')} is not supported")
    return moments, meta


# ---------------------------------------------------------------------------------------
# The job


def _json_ready(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _json_ready(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_ready(v) for v in x]
    if isinstance(x, np.ndarray):
        return _json_ready(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None if np.isnan(x) else str(x)
    return x


def _check_weights(W: np.ndarray, side: str, n: int, label: str) -> None:
    axis = 0 if side == "output" else 1
    if W.ndim <= axis or W.shape[axis] != n:
        want = f"({n}, ...)" if side == "output" else f"(m, {n}, ...)"
        raise _io.InputError(
            f"{label}: for --side {side} the weights need shape {want} to match the {n} neurons "
            f"of the activations, got shape {W.shape}"
        )


def _apply(result: Any, W: np.ndarray, side: str) -> np.ndarray:
    """``P @ W`` along W's first axis (side output) or ``W @ P.T`` along its second (input)."""
    axis = 0 if side == "output" else 1
    if W.ndim == 2:
        return np.asarray(result.apply(W, side=side))
    P = np.asarray(result.P)
    return np.moveaxis(np.tensordot(P, W, axes=([1], [axis])), 0, axis)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except _io.InputError as exc:
        print(f"descramble fit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\ndescramble fit: interrupted; rerun with --resume to continue from the last "
            "checkpoint",
            file=sys.stderr,
        )
        return 130


def _run(args: argparse.Namespace) -> int:
    from . import Moments, __version__, descramble

    t_start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))

    shards = _io.open_activations(args.activations, args.activations_key)
    n = shards[0].n
    weights = weights_name = weights_sha = None
    if args.weights:  # read first: a wrong --key should fail before hours of streaming
        weights, weights_name = _io.load_weights(args.weights, args.key)
        _check_weights(weights, args.side, n, f"{args.weights}[{weights_name}]")
        weights_sha = _io.sha256_file(Path(args.weights))
    batch_rows = args.batch_rows or max(1, _BLOCK_BYTES // (8 * n))
    if batch_rows < 1:
        raise _io.InputError(f"--batch-rows must be >= 1, got {batch_rows}")
    if args.checkpoint_blocks < 1:
        raise _io.InputError(f"--checkpoint-blocks must be >= 1, got {args.checkpoint_blocks}")

    identity = _identity(shards)
    ckpt_path = out / CHECKPOINT
    moments = Moments(n)
    pos_shard, pos_row = 0, 0
    file_hashes: dict[str, str] = {}
    partial: dict | None = None
    resumed = False
    if args.resume and ckpt_path.exists():
        moments, meta = _load_checkpoint(ckpt_path)
        if meta["inputs"] != identity:
            raise _io.InputError(
                f"{ckpt_path}: the checkpoint was made for other input files (or they changed "
                "since); delete it or drop --resume"
            )
        pos_shard, pos_row = meta["position"]
        file_hashes, partial = meta["file_hashes"], meta["partial_hash"]
        resumed = True
        say(f"resuming from {ckpt_path}: {moments.count} samples already accumulated")
    elif args.resume:
        say(f"no checkpoint in {out}: starting from the beginning")

    hashers: dict[str, _io.FileHasher] = {}
    if partial is not None:
        # Re-read the part of the file in progress that was hashed before the stop and
        # check it is unchanged; the hash then continues from there.
        h = _io.FileHasher(Path(partial["path"]))
        h.catch_up(partial["pos"])
        if h.digest_so_far() != partial["sha256"]:
            raise _io.InputError(
                f"{partial['path']}: the file changed since the checkpoint was written"
            )
        hashers[partial["path"]] = h

    total_rows = sum(s.rows for s in shards)
    done_rows = sum(s.rows for s in shards[:pos_shard]) + pos_row
    progress = _Progress(total_rows, done_rows, args.quiet)
    t_read = t_acc = 0.0
    checkpoints = 0

    def checkpoint(next_shard: int, next_row: int, current: str | None) -> None:
        nonlocal checkpoints
        part = None
        if current is not None and current in hashers:
            h = hashers[current]
            part = {"path": current, "pos": h.pos, "sha256": h.digest_so_far()}
        meta = {
            "format": _CHECKPOINT_FORMAT,
            "version": __version__,
            "n": n,
            "inputs": identity,
            "position": [next_shard, next_row],
            "file_hashes": file_hashes,
            "partial_hash": part,
        }
        _save_checkpoint(ckpt_path, moments, meta)
        checkpoints += 1
        _after_checkpoint(checkpoints)

    since = 0  # blocks read since the last checkpoint
    try:
        for i in range(pos_shard, len(shards)):
            shard = shards[i]
            key = str(shard.path)
            if key in file_hashes:  # finished before the stop (a multi-shard file)
                hasher = None
            else:
                hasher = hashers.setdefault(key, _io.FileHasher(shard.path))
            start = pos_row if i == pos_shard else 0
            blocks = _io.iter_blocks(shard, batch_rows, start_row=start, hasher=hasher)
            t0 = time.perf_counter()
            for r0, block in blocks:
                t1 = time.perf_counter()
                moments.update(block)
                t2 = time.perf_counter()
                t_read += t1 - t0
                t_acc += t2 - t1
                progress.update(block.shape[0])
                since += 1
                if since >= args.checkpoint_blocks and r0 + block.shape[0] < shard.rows:
                    checkpoint(i, r0 + block.shape[0], key)
                    since = 0
                t0 = time.perf_counter()
            t_read += time.perf_counter() - t0
            last_of_file = i + 1 == len(shards) or str(shards[i + 1].path) != key
            if last_of_file and hasher is not None:
                t0 = time.perf_counter()
                file_hashes[key] = hasher.finish()
                t_read += time.perf_counter() - t0
                del hashers[key]
            # At a shard's end when due, and always after the last one (so that --resume
            # can re-solve with other options without reading the data again).
            if since >= args.checkpoint_blocks or i + 1 == len(shards):
                checkpoint(i + 1, 0, None if last_of_file else key)
                since = 0
    finally:
        progress.close()

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

    P = np.asarray(result.P)
    _write_atomic(out / "descrambler.npy", lambda f: np.save(f, P))
    if weights is not None:
        Wd = _apply(result, weights, args.side)
        _write_atomic(out / "weights_descrambled.npy", lambda f: np.save(f, Wd))

    report = {
        "objective": float(result.objective),
        "lower_bound": float(result.lower_bound),
        "gap": float(result.gap),
        "ties": _json_ready(result.ties),
        "method": str(result.method),
        "n": n,
        "samples": int(moments.count),
        "timings": {
            "read": t_read,
            "accumulate": t_acc,
            "solve": t_solve,
            "total": time.perf_counter() - t_start,
        },
        "inputs": [
            {"path": str(p), "sha256": h, "bytes": Path(p).stat().st_size}
            for p, h in file_hashes.items()
        ],
        "shards": [{"label": s.label, "rows": s.rows, "dtype": _io._dtype_name(s)} for s in shards],
        "weights": None
        if weights is None
        else {
            "path": str(args.weights),
            "key": weights_name,
            "sha256": weights_sha,
            "shape": list(weights.shape),
            "side": args.side,
        },
        "options": {
            "smoothness": args.smoothness,
            "order": args.order,
            "group": args.group,
            "center": args.center,
            "k": args.k,
            "side": args.side,
            "batch_rows": batch_rows,
        },
        "resumed": resumed,
        "version": __version__,
    }
    text = json.dumps(_json_ready(report), indent=2)
    _write_atomic(out / "report.json", lambda f: f.write(text.encode()))
    say(
        f"n = {n}, samples = {moments.count}: objective {report['objective']:.6g}, "
        f"lower bound {report['lower_bound']:.6g}, gap {report['gap']:.3g}, "
        f"{report['timings']['total']:.2f} s; wrote {out}"
    )
    return 0

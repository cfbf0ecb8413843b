"""Streaming the activation blocks into the statistics, with checkpoints and progress."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _io
from .._version import __version__
from ..moments import Moments
from . import checkpoint


class Progress:
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


@dataclass
class Timings:
    read: float = 0.0
    accumulate: float = 0.0


class _Checkpointer:
    """Writes a checkpoint of ``moments`` and the position reached, with the file hashes."""

    def __init__(self, path: Path, moments: Moments, n: int, inputs: list[dict], hashes: dict):
        self.path, self.moments, self.n, self.inputs = path, moments, n, inputs
        self.file_hashes: dict[str, str] = hashes

    def __call__(self, shard: int, row: int, current: _io.FileHasher | None) -> None:
        part = None
        if current is not None:
            part = {
                "path": str(current.path),
                "pos": current.pos,
                "sha256": current.digest_so_far(),
            }
        meta = {
            "format": checkpoint.FORMAT,
            "version": __version__,
            "n": self.n,
            "inputs": self.inputs,
            "position": [shard, row],
            "file_hashes": self.file_hashes,
            "partial_hash": part,
        }
        checkpoint.save(self.path, self.moments, meta)


def _resumed_hashers(position: checkpoint.Position) -> dict[str, _io.FileHasher]:
    """The hasher of the file in progress at the stop, its prefix re-read and checked."""
    part = position.partial_hash
    if part is None:
        return {}
    h = _io.FileHasher(Path(part["path"]))
    h.catch_up(part["pos"])
    if h.digest_so_far() != part["sha256"]:
        raise _io.InputError(f"{part['path']}: the file changed since the checkpoint was written")
    return {part["path"]: h}


def stream(
    shards: list[_io.Shard],
    moments: Moments,
    position: checkpoint.Position,
    *,
    batch_rows: int,
    checkpoint_blocks: int,
    checkpoint_path: Path,
    inputs: list[dict],
    quiet: bool,
) -> tuple[dict[str, str], Timings]:
    """Read every block from ``position`` on into ``moments``; ``(file hashes, timings)``.

    A checkpoint is written every ``checkpoint_blocks`` blocks (inside a shard, or
    at the end of the shard that completes them) and after the last shard, so
    ``--resume`` can also re-solve a finished job without reading the data again.
    """
    save = _Checkpointer(checkpoint_path, moments, shards[0].n, inputs, position.file_hashes)
    file_hashes = save.file_hashes
    hashers = _resumed_hashers(position)
    total_rows = sum(s.rows for s in shards)
    done_rows = sum(s.rows for s in shards[: position.shard]) + position.row
    progress = Progress(total_rows, done_rows, quiet)
    timings = Timings()
    since = 0  # blocks read since the last checkpoint
    try:
        for i in range(position.shard, len(shards)):
            shard = shards[i]
            key = str(shard.path)
            # None: the file was finished before the stop (a multi-shard file).
            hasher = (
                None if key in file_hashes else hashers.setdefault(key, _io.FileHasher(shard.path))
            )
            start = position.row if i == position.shard else 0
            blocks = _io.iter_blocks(shard, batch_rows, start_row=start, hasher=hasher)
            t0 = time.perf_counter()
            for r0, block in blocks:
                t1 = time.perf_counter()
                moments.update(block)
                t2 = time.perf_counter()
                timings.read += t1 - t0
                timings.accumulate += t2 - t1
                progress.update(block.shape[0])
                since += 1
                if since >= checkpoint_blocks and r0 + block.shape[0] < shard.rows:
                    save(i, r0 + block.shape[0], hasher)
                    since = 0
                t0 = time.perf_counter()
            timings.read += time.perf_counter() - t0
            last_of_file = i + 1 == len(shards) or str(shards[i + 1].path) != key
            if last_of_file and hasher is not None:
                t0 = time.perf_counter()
                file_hashes[key] = hasher.finish()
                timings.read += time.perf_counter() - t0
                del hashers[key]
            if since >= checkpoint_blocks or i + 1 == len(shards):
                save(i + 1, 0, None if last_of_file else hasher)
                since = 0
    finally:
        progress.close()
    return file_hashes, timings

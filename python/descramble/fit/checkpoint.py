"""``--resume``: the partial statistics and the position reached, saved and restored.

A checkpoint is an ``.npz`` archive (``count``, ``mean``, ``scatter`` and a JSON
``meta``) written atomically. Loading checks the archive's CRCs and every field's
type and shape first, so a truncated or corrupted file is one clear error rather
than whichever exception the first damaged byte happens to trigger.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import _io
from ..moments import Moments
from .errors import FitError
from .files import file_system_errors, write_atomic

CHECKPOINT = "checkpoint.npz"
FORMAT = 1

# What a damaged archive can raise from zipfile, zlib, numpy's header parser
# (ast.literal_eval) or Moments.from_state; anything else is a bug to report.
_DAMAGE = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    TypeError,
    SyntaxError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
)


@dataclass
class Position:
    """Where streaming continues: the shard, the row in it, and the hashes so far."""

    shard: int = 0
    row: int = 0
    file_hashes: dict[str, str] = field(default_factory=dict)
    # The file being read at the stop: {"path", "pos", "sha256"} of its prefix.
    partial_hash: dict | None = None


def identity(shards: list[_io.Shard]) -> list[dict]:
    """What a checkpoint must match: each shard's label and rows, each file's size and mtime."""
    out = []
    for s in shards:
        st = s.path.stat()
        out.append(
            {"label": s.label, "rows": s.rows, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        )
    return out


def save(path: Path, moments: Moments, meta: dict) -> None:
    count, mean, scatter = moments.state()
    with file_system_errors("write the checkpoint"):
        write_atomic(
            path,
            lambda f: np.savez(
                f,
                count=np.int64(count),
                mean=np.asarray(mean, np.float64),
                scatter=np.asarray(scatter, np.float64),
                meta=np.array(json.dumps(meta)),
            ),
        )


def _unreadable(path: Path, why: object) -> FitError:
    return FitError(f"{path}: unreadable checkpoint ({why}); delete it to start over")


def _read(path: Path) -> tuple[Moments, dict]:
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip()  # reads every member and checks its CRC
        if bad is not None:
            raise ValueError(f"member {bad} is corrupt")
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"][()]))
        count = z["count"]
        if count.shape != () or count.dtype.kind not in "iu":
            raise ValueError(f"count has dtype {count.dtype} and shape {count.shape}")
        moments = Moments.from_state(int(count), z["mean"], z["scatter"])
    return moments, meta


def _check_meta(meta: Any) -> Position:
    if not isinstance(meta, dict):
        raise ValueError("meta is not a JSON object")
    shard, row = meta["position"]
    hashes, part = meta["file_hashes"], meta["partial_hash"]
    if not (isinstance(shard, int) and isinstance(row, int) and shard >= 0 and row >= 0):
        raise ValueError(f"bad position {meta['position']!r}")
    if not isinstance(hashes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in hashes.items()
    ):
        raise ValueError("bad file hashes")
    if part is not None and not (
        isinstance(part, dict)
        and isinstance(part.get("path"), str)
        and isinstance(part.get("pos"), int)
        and isinstance(part.get("sha256"), str)
    ):
        raise ValueError("bad partial hash")
    return Position(shard, row, hashes, part)


def load(path: Path, n: int, inputs: list[dict]) -> tuple[Moments, Position]:
    """The statistics and position of a checkpoint made for exactly these ``inputs``."""
    try:
        moments, meta = _read(path)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            fmt = meta.get("format") if isinstance(meta, dict) else None
            raise FitError(f"{path}: checkpoint format {fmt} is not supported")
        if meta["inputs"] != inputs:
            raise FitError(
                f"{path}: the checkpoint was made for other input files (or they changed "
                "since); delete it or drop --resume"
            )
        position = _check_meta(meta)
        if moments.n != n:
            raise ValueError(f"holds statistics of n = {moments.n} neurons, the inputs have {n}")
    except FitError:
        raise
    except _DAMAGE as exc:
        raise _unreadable(path, exc) from exc
    return moments, position

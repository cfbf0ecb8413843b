"""Atomic file writes for ``descramble fit``, and file-system failures as clear errors.

Every file is written to a uniquely named temporary file in its destination
folder (``os.open`` through :func:`tempfile.mkstemp`), flushed to disk and renamed
over the destination, so a reader sees the old file or the complete new one. On
any failure the temporary file is removed before the error propagates.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from .errors import FitError


@contextlib.contextmanager
def file_system_errors(action: str) -> Iterator[None]:
    """Turn an ``OSError`` into a :class:`FitError` that says what was being done."""
    try:
        yield
    except OSError as exc:
        where = exc.filename if exc.filename is not None else "?"
        reason = exc.strerror or str(exc)
        raise FitError(f"cannot {action}: {where}: {reason}") from exc


def write_atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` through ``write(file)``: all of it or, on failure, nothing."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def make_output_folder(out: Path) -> None:
    if out.is_dir():
        return
    with file_system_errors("create the output folder"):
        if out.exists():
            raise FileExistsError(errno.EEXIST, "exists and is not a folder", str(out))
        out.mkdir(parents=True)


def remove_outputs(out: Path, names: tuple[str, ...]) -> None:
    """Delete the results of an earlier run, so they cannot be taken for this run's."""
    with file_system_errors("remove an earlier result"):
        for name in names:
            (out / name).unlink(missing_ok=True)


def publish(out: Path, files: dict[str, Callable[[IO[bytes]], object]]) -> None:
    """Write ``files`` (name -> writer) into ``out`` together, in the order given.

    They are staged in a temporary folder inside ``out`` and renamed into place
    only when all of them are written; the staging folder goes in every case.
    """
    with file_system_errors("write the results"):
        staging = Path(tempfile.mkdtemp(prefix=".fit-results-", dir=out))
        try:
            for name, write in files.items():
                write_atomic(staging / name, write)
            for name in files:
                os.replace(staging / name, out / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

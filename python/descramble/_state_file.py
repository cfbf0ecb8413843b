"""Reading the versioned ``.npz`` state files that ``Moments`` and ``Sketch`` save.

Both files carry a format tag and a version. :func:`open_state_file` checks them
and turns every way a file can be unreadable, inside the ``with`` block too,
into a ``ValueError`` that names the file; only a missing file stays a
``FileNotFoundError``.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

# What np.load and zipfile raise on damaged bytes: besides I/O and zip format
# errors, a corrupted header can announce an unsupported zip version or
# compression method (NotImplementedError), encryption (RuntimeError), a bad
# deflate stream (zlib.error) or an undecodable name (UnicodeDecodeError).
_CORRUPT_FILE_ERRORS = (
    OSError,
    EOFError,
    KeyError,
    zipfile.BadZipFile,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    UnicodeDecodeError,
    struct.error,
)


@contextmanager
def open_state_file(
    path: str | os.PathLike[str], kind: str, tag: str, version: int, needed: set[str]
) -> Iterator[Any]:
    """The open archive at ``path`` once its tag is ``tag`` and its version ``version``.

    ``kind`` names the file in messages ("Moments"); ``needed`` are the arrays
    without which it is not a ``kind`` file at all.
    """
    name = os.fspath(path)
    try:
        with np.load(name, allow_pickle=False) as data:
            if not needed <= set(data.files) or str(data["format"]) != tag:
                raise ValueError(f"{name!r} is not a descramble {kind} file")
            found = int(data["version"])
            if found != version:
                raise ValueError(
                    f"{name!r} has {kind} format version {found}; this descramble reads "
                    f"version {version}"
                )
            yield data
    except FileNotFoundError:
        raise
    except ValueError as exc:
        if str(exc).startswith(repr(name)):
            raise
        raise ValueError(f"{name!r} is not a readable {kind} file: {exc}") from None
    except _CORRUPT_FILE_ERRORS as exc:
        raise ValueError(f"{name!r} is not a readable {kind} file: {exc}") from None

"""Dense symmetric eigensolver of the C++ core."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from ._validation import square_matrix


def eigh(a: Any, k: int | None = None, *, eigvals_only: bool = False):
    """Eigenvalues and eigenvectors of a real symmetric matrix, ascending.

    Like :func:`numpy.linalg.eigh` with ``UPLO="L"``: only the lower triangle is
    read. ``k`` (``1 <= k <= n``) returns only the ``k`` largest pairs, still in
    ascending order.

    Parameters
    ----------
    a : (n, n) array_like
        Real symmetric matrix. C-contiguous float64 input is not copied.
    k : int, optional
        Number of largest eigenpairs to return; all when ``None``.
    eigvals_only : bool
        Return only the eigenvalues.

    Returns
    -------
    w : (m,) ndarray
        Eigenvalues in ascending order (``m = n`` or ``k``).
    v : (n, m) ndarray
        Orthonormal eigenvectors, column ``j`` for ``w[j]`` (omitted when
        ``eigvals_only``).

    Raises
    ------
    ValueError
        Non-square or non-finite input, or ``k`` out of range.
    TypeError
        Non-numeric input.
    """
    arr = square_matrix(a, "eigh")
    n = arr.shape[0]
    if k is None:
        kk = 0
    else:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"eigh: k must be an integer or None, got {type(k).__name__}")
        if not 1 <= int(k) <= n:
            raise ValueError(f"eigh: k must satisfy 1 <= k <= n = {n}, got {k}")
        kk = int(k)
    w, v = _core.eigh(arr, kk, not eigvals_only)
    if eigvals_only:
        return w
    return w, v

"""Input checks shared by the public API: messages say what was expected and what arrived."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

_FLOAT_KINDS = "fiub"


def is_integer(value: Any) -> bool:
    """A Python or numpy integer, and not a bool (``True`` is an ``int`` in Python)."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(
        value, (numbers.Integral, np.integer)
    )


def integer(value: Any, what: str) -> int:
    """``int(value)``, or ``TypeError: {what} must be an integer, got {type}``."""
    if not is_integer(value):
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}")
    return int(value)


def k_in_range(k: Any, n: int, who: str) -> int:
    """A count ``k`` of leading components with ``1 <= k <= n``, or a clear error."""
    if not is_integer(k):
        raise TypeError(f"{who}: k must be an integer or None, got {type(k).__name__}")
    if not 1 <= k <= n:
        raise ValueError(f"{who}: k must satisfy 1 <= k <= n = {n}, got {k}")
    return int(k)


def widen_half(arr: np.ndarray) -> np.ndarray:
    """float16 as float32 (exact, and what the core computes in); other dtypes unchanged."""
    return arr.astype(np.float32) if arr.dtype == np.float16 else arr


def as_float_array(x: Any, name: str, *, ndim: int, dtype: Any = np.float64) -> np.ndarray:
    """Return ``x`` as a float array of ``ndim`` dimensions, or raise a clear error.

    Integer and boolean input is accepted and converted; complex, object and
    string input is a TypeError. The array is not copied when it already has
    the requested dtype.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in _FLOAT_KINDS:
        raise TypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    return arr.astype(dtype, copy=False)


def for_core(arr: np.ndarray) -> np.ndarray:
    """``arr`` as the C++ core may read it: native byte order, every element aligned.

    ``np.ascontiguousarray`` does not copy a C-contiguous array whose data sits
    at an odd address (a view into a byte buffer or a packed record), and
    reading a double through such a pointer is undefined behaviour in C++.
    Misaligned or byte-swapped input is copied once to fresh (aligned, native)
    storage; everything else is passed through unchanged.
    """
    if not arr.dtype.isnative:
        return arr.astype(arr.dtype.newbyteorder("="))
    if not arr.flags.aligned:
        return arr.copy(order="C")
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ValueError naming the first non-finite entry of ``arr``."""
    if arr.dtype.kind in "iub":
        return  # integers and booleans are always finite
    # A finite sum proves every entry finite without an n^2 mask; NaN/inf (or an
    # overflowing sum of finite entries) falls through to the exact search.
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(arr)
    if np.isfinite(total):
        return
    finite = np.isfinite(arr)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{name}: contains NaN or infinity (first at index {where})")


def nonempty_matrix(x: Any, name: str) -> np.ndarray:
    """A finite float64 ``(n, m)`` matrix with at least one entry, or a clear error."""
    arr = as_float_array(x, name, ndim=2)
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty matrix, got shape {arr.shape}")
    check_finite(arr, name)
    return arr


def square_matrix(x: Any, name: str) -> np.ndarray:
    """A finite float64 ``(n, n)`` matrix, or a clear error."""
    arr = as_float_array(x, name, ndim=2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name}: expected a square (n, n) matrix, got shape {arr.shape}")
    check_finite(arr, name)
    return arr


def _max_asymmetry(arr: np.ndarray, block: int = 256) -> float:
    """``max |A - A^T|`` by panels of rows, without an ``n x n`` temporary.

    Each unordered pair ``(i, j)`` is compared once: panel ``r0:r1`` against the
    columns ``r0:`` (the part on and right of its diagonal block).
    """
    n = arr.shape[0]
    worst = 0.0
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        diff = arr[r0:r1, r0:] - arr[r0:, r0:r1].T
        worst = max(worst, float(np.max(np.abs(diff, out=diff))))
    return worst


def symmetric_matrix(x: Any, name: str, *, rtol: float = 1e-8) -> np.ndarray:
    """A finite, symmetric float64 ``(n, n)`` matrix (to ``rtol`` of its largest entry)."""
    arr = square_matrix(x, name)
    if arr.size:
        scale = max(float(arr.max()), -float(arr.min())) or 1.0
        asym = _max_asymmetry(arr)
        if asym > rtol * scale:
            raise ValueError(
                f"{name}: expected a symmetric matrix, got max |A - A^T| = {asym:.3g} "
                f"(relative {asym / scale:.3g})"
            )
    return arr


def symmetrized(arr: np.ndarray) -> np.ndarray:
    """``(A + A^T) / 2`` as a new array, with no ``n x n`` temporary besides it."""
    out = arr + arr.T
    out *= 0.5
    return out


def as_batch(x: Any, n: int) -> np.ndarray:
    """``x`` as a 2-D float32/float64 array of ``n`` columns, copied only when it must be."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"Moments.update: expected a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != n:
        raise ValueError(
            f"Moments.update: expected a 2-D array of shape (N, {n}), got shape {arr.shape}"
        )
    if arr.dtype.kind == "f" and arr.dtype.itemsize <= 4 and arr.dtype != np.float32:
        arr = widen_half(arr)  # float16: exact in float32
    elif arr.dtype.kind != "f" or arr.dtype.itemsize > 8:
        arr = arr.astype(np.float64)  # integers, bools, long double
    # The core reads strided views in place (strides of whole elements, which
    # an aligned float32/float64 array has).
    return for_core(arr)

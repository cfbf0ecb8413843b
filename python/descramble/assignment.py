"""Linear sum assignment (a drop-in for :func:`scipy.optimize.linear_sum_assignment`).

The solver is the C++ core's Jonker-Volgenant shortest augmenting path method:
column reduction, reduction transfer and augmenting row reduction on square
finite matrices; augmenting row reduction from zero column duals on wide ones
(it keeps the free columns' duals equal, the optimality condition of the
rectangular problem); then Dijkstra-style shortest augmenting paths whose
inner loops run over contiguous rows (vectorised). A tall matrix is transposed
internally. A forbidden (infinite) entry skips the initialisation.

References
----------
R. Jonker, A. Volgenant, "A shortest augmenting path algorithm for dense and
sparse linear assignment problems", Computing 38 (1987) 325-340,
doi:10.1007/BF02278710.

D. F. Crouse, "On implementing 2D rectangular assignment algorithms", IEEE
Trans. Aerosp. Electron. Syst. 52 (2016) 1679-1696, doi:10.1109/TAES.2016.140952.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _core
from ._validation import for_core, widen_half

__all__ = ["linear_sum_assignment", "linear_sum_assignment_batch"]

_EMPTY = np.zeros(0, dtype=np.int64)


# Integer dtypes the core reads as they are (no float64 copy), and the one
# every other integer dtype is converted to (exactly): the small ones widen to
# int32, uint32 to int64. uint64 may exceed int64 and goes to float64, as in
# scipy.
_NATIVE_INT = {np.dtype(np.int32): np.int32, np.dtype(np.int64): np.int64}
_WIDENED_INT = {
    np.dtype(t): w
    for t, w in [
        (np.bool_, np.int32),
        (np.int8, np.int32),
        (np.int16, np.int32),
        (np.uint8, np.int32),
        (np.uint16, np.int32),
        (np.uint32, np.int64),
    ]
}


def _as_cost_matrix(cost: Any) -> np.ndarray:
    """``cost`` as a float32, float64, int32 or int64 array, with scipy's errors for bad input."""
    arr = np.asarray(cost)
    if arr.dtype.kind == "O":
        # Like scipy: numeric Python objects are converted, others raise the
        # TypeError of float() itself.
        arr = arr.astype(np.float64)
    elif arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Cannot cast array data from {arr.dtype!r} to dtype('float64') according to the "
            "rule 'safe'"
        )
    if arr.ndim != 2:
        raise ValueError(f"expected a matrix (2-D array), got a {arr.ndim} array")
    if arr.dtype == np.float32:
        return arr  # solved in float32: no float64 copy (duals are kept in double)
    if arr.dtype == np.float16:
        return widen_half(arr)
    if arr.dtype in _NATIVE_INT:
        return arr  # read as integers, converted to double entry by entry
    if arr.dtype in _WIDENED_INT:
        return arr.astype(_WIDENED_INT[arr.dtype])
    return arr.astype(np.float64, copy=False)


def _solve_one(arr: np.ndarray, maximize: bool) -> tuple[np.ndarray, np.ndarray]:
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        return _EMPTY.copy(), _EMPTY.copy()
    arr = for_core(arr)
    if arr.strides[1] != arr.itemsize:
        # The core reads rows contiguously (any row stride is fine).
        arr = np.ascontiguousarray(arr)
    if arr.dtype == np.float32:
        return _core.linear_sum_assignment_f32(arr, maximize)
    if arr.dtype == np.int64:
        return _core.linear_sum_assignment_i64(arr, maximize)
    if arr.dtype == np.int32:
        return _core.linear_sum_assignment_i32(arr, maximize)
    return _core.linear_sum_assignment_f64(arr, maximize)


def linear_sum_assignment(cost: Any, maximize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Solve the linear sum assignment problem.

    Finds a matching of rows to columns of ``cost`` (each row to at most one
    column, each column to at most one row, ``min(n_rows, n_cols)`` pairs) of
    least (or, with ``maximize``, greatest) total cost. Same signature, result
    and exceptions as :func:`scipy.optimize.linear_sum_assignment`, so it can
    replace it in user code.

    Parameters
    ----------
    cost : (n_rows, n_cols) array_like
        Cost matrix: float64; float32, int64 or int32 (read in their own type,
        without a float64 copy; the dual variables are accumulated in double,
        so integers beyond 2**53 in magnitude are rounded, as scipy's float64
        conversion rounds them); other integer types and booleans (converted
        to int32 or int64, uint64 to float64). ``+inf`` (with ``maximize``:
        ``-inf``) forbids a pair.
    maximize : bool
        Maximise the total instead of minimising it.

    Returns
    -------
    row_ind, col_ind : (k,) ndarray of int64
        ``row_ind`` is strictly increasing; the optimal total is
        ``cost[row_ind, col_ind].sum()``. ``k = min(n_rows, n_cols)``.

    Raises
    ------
    ValueError
        ``cost`` is not 2-D ("expected a matrix (2-D array), got a N array"),
        contains NaN or ``-inf`` (with ``maximize``: ``+inf``) ("matrix
        contains invalid numeric entries"), or admits no complete matching
        without forbidden pairs ("cost matrix is infeasible").
    TypeError
        Non-numeric input (complex, strings, ...).

    Notes
    -----
    Jonker-Volgenant shortest augmenting paths (Jonker & Volgenant, Computing 38
    (1987), doi:10.1007/BF02278710; Crouse, IEEE TAES 52 (2016),
    doi:10.1109/TAES.2016.140952). Deterministic: ties are broken by the lowest
    index. The GIL is released while solving.

    Examples
    --------
    >>> import numpy as np
    >>> import descramble as ds
    >>> cost = np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
    >>> row, col = ds.linear_sum_assignment(cost)
    >>> col.tolist(), int(cost[row, col].sum())
    ([1, 0, 2], 5)
    """
    return _solve_one(_as_cost_matrix(cost), bool(maximize))


def linear_sum_assignment_batch(
    costs: np.ndarray | Sequence[Any], maximize: bool = False
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Solve many independent assignment problems across threads.

    Parameters
    ----------
    costs : (B, n_rows, n_cols) array_like, or a sequence of 2-D array_likes
        The cost matrices; in a sequence they may have different shapes. Each
        one obeys the rules of :func:`linear_sum_assignment`.
    maximize : bool
        Maximise every total instead of minimising it.

    Returns
    -------
    list of (row_ind, col_ind)
        One pair of int64 arrays per problem, in input order.

    Raises
    ------
    ValueError, TypeError
        As :func:`linear_sum_assignment`, for the first offending problem (its
        index is named in the message), or when ``costs`` is a single array
        that is not 3-D.

    Notes
    -----
    The problems are distributed over OpenMP threads with the GIL released;
    float32 problems stay float32 when all problems are float32.
    """
    if isinstance(costs, np.ndarray):
        if costs.ndim != 3:
            raise ValueError(
                "expected a 3-D array of cost matrices (B, n_rows, n_cols) or a list of "
                f"matrices, got a {costs.ndim}-D array"
            )
        items: list[Any] = list(costs)
    else:
        items = list(costs)
    arrays = []
    for k, c in enumerate(items):
        try:
            arrays.append(_as_cost_matrix(c))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"problem {k}: {exc}") from None
    maximize = bool(maximize)
    results: list[Any] = [None] * len(arrays)
    use_f32 = bool(arrays) and all(a.dtype == np.float32 for a in arrays)
    dtype = np.float32 if use_f32 else np.float64
    todo = []
    for k, a in enumerate(arrays):
        if a.shape[0] == 0 or a.shape[1] == 0:
            results[k] = (_EMPTY.copy(), _EMPTY.copy())
        else:
            todo.append(k)
    if todo:
        batch: list[Any] = [for_core(np.ascontiguousarray(arrays[k], dtype=dtype)) for k in todo]
        solve = (
            _core.linear_sum_assignment_batch_f32
            if use_f32
            else _core.linear_sum_assignment_batch_f64
        )
        try:
            solved = solve(batch, maximize)
        except ValueError:
            # Name the offending problem: re-solve one by one (errors are rare).
            for k in todo:
                try:
                    _solve_one(arrays[k], maximize)
                except ValueError as exc:
                    raise ValueError(f"problem {k}: {exc}") from None
            raise
        for k, res in zip(todo, solved, strict=True):
            results[k] = res
    return results

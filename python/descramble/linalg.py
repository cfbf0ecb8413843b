"""Dense symmetric eigensolvers of the C++ core, with :mod:`numpy.linalg`'s interface.

:func:`eigh` and :func:`eigvalsh` take what :func:`numpy.linalg.eigh` and
:func:`numpy.linalg.eigvalsh` take for real input: one matrix or a stack
``(..., M, M)``, ``UPLO``, any real dtype (float32 stays float32), empty
shapes; they raise numpy's exception types. Complex Hermitian input is not
supported (TypeError). Non-finite entries are a ValueError where numpy
returns NaN.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.linalg import LinAlgError

from . import _core, leading
from ._validation import k_in_range

__all__ = ["EighResult", "eigh", "eigvalsh"]


class EighResult(NamedTuple):
    """Eigenvalues (ascending) and eigenvectors (columns), like numpy's ``EighResult``."""

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray


def _lower(UPLO: Any) -> bool:
    """Whether ``UPLO`` names the lower triangle (numpy's rule: 'L'/'l' or 'U'/'u')."""
    if not isinstance(UPLO, str):
        raise TypeError(f"UPLO argument must be the string 'L' or 'U', got {type(UPLO).__name__}")
    if UPLO.upper() not in ("L", "U"):
        raise ValueError(f"UPLO argument must be 'L' or 'U', got {UPLO!r}")
    return UPLO.upper() == "L"


def _stacked_square(a: Any, name: str) -> tuple[np.ndarray, np.dtype]:
    """``a`` as an array of shape ``(..., M, M)`` and the real dtype of the result.

    numpy's rules: integers and booleans give float64, float32 stays float32,
    float16 and long double are unsupported (TypeError); fewer than two
    dimensions or non-square trailing dimensions are a LinAlgError.
    """
    arr = np.asarray(a)
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(
            f"{name}: complex Hermitian input is not supported (real symmetric matrices only), "
            f"got dtype {arr.dtype}"
        )
    if kind == "f" and arr.dtype.itemsize not in (4, 8):
        raise TypeError(f"{name}: array type {arr.dtype.name} is unsupported in linalg")
    if kind not in "fiub":
        raise TypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    if arr.ndim < 2:
        raise LinAlgError(
            f"{name}: {arr.ndim}-dimensional array given. Array must be at least "
            f"two-dimensional, (..., M, M), got shape {arr.shape}"
        )
    if arr.shape[-1] != arr.shape[-2]:
        raise LinAlgError(
            f"{name}: last 2 dimensions of the array must be square, got shape {arr.shape}"
        )
    out = np.dtype(np.float32) if arr.dtype == np.float32 else np.dtype(np.float64)
    return arr, out


def _packed(a: np.ndarray) -> np.ndarray:
    """``a`` as aligned float64 with C strides, which the binding reads in place.

    numpy calls an array with a length-1 axis C-contiguous whatever that
    axis's stride (zero, negative); the binding checks every stride, so such
    arrays are copied too.
    """
    out = np.require(a, dtype=np.float64, requirements=("C", "A"))
    strides = np.cumprod((8,) + out.shape[:0:-1])[::-1]
    if out.size and out.strides != tuple(int(s) for s in strides):
        out = out.copy()
    return out


def _solve_matrix(
    a: np.ndarray, k: int, vectors: bool, method: str, tol: float
) -> tuple[np.ndarray, np.ndarray, dict]:
    """One ``(n, n)`` matrix (lower triangle read); ``k > 0``: the ``k`` largest pairs."""
    if k == 0:
        w, v = _core.eigh(_packed(a), 0, vectors)
        return w, v, {"method": "tridiagonal", "reason": "all pairs"}
    w, found, report = leading.largest_pairs(_packed(a), k, method=method, tol=tol, vectors=vectors)
    return w, (np.empty((a.shape[0], 0)) if found is None else found), report


def _solve_stack(a: np.ndarray, k: int, vectors: bool) -> tuple[np.ndarray, np.ndarray]:
    """A ``(count, n, n)`` stack, one matrix per OpenMP thread in the core."""
    return _core.eigh_batch(_packed(a), k, vectors)


def _eigh(
    a: Any,
    UPLO: Any,
    k: Any,
    vectors: bool,
    name: str,
    method: str = "auto",
    tol: float = leading.DEFAULT_TOL,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """The shared driver of :func:`eigh` and :func:`eigvalsh`: validate, solve, shape, cast."""
    lower = _lower(UPLO)
    arr, out_dtype = _stacked_square(a, name)
    n = arr.shape[-1]
    kk = 0 if k is None else k_in_range(k, n, name)
    m = kk or n
    batch = arr.shape[:-2]
    if not lower:
        # The core reads the lower triangle: that of the transpose is the upper one.
        arr = np.swapaxes(arr, -1, -2)
    if arr.size == 0:
        w = np.empty(batch + (m,), dtype=out_dtype)
        v = np.empty(batch + (n, m), dtype=out_dtype)
        return w, v, {"method": "tridiagonal", "reason": "empty"}
    if arr.ndim == 2:
        w, v, report = _solve_matrix(arr, kk, vectors, method, tol)
    else:
        w, v = _solve_stack(arr.reshape((-1, n, n)), kk, vectors)
        report = {"method": "tridiagonal", "reason": "stack"}
        w = w.reshape(batch + (m,))
        if vectors:
            v = v.reshape(batch + (n, m))
    # float32 input is solved in float64 and rounded once at the end.
    return w.astype(out_dtype, copy=False), v.astype(out_dtype, copy=False), report


def eigh(
    a: Any,
    UPLO: str = "L",
    k: int | None = None,
    *,
    eigvals_only: bool = False,
    method: str = "auto",
    tol: float = leading.DEFAULT_TOL,
    info: bool = False,
) -> Any:
    """Eigenvalues and eigenvectors of real symmetric matrices, ascending.

    A drop-in for :func:`numpy.linalg.eigh` on real input: ``a`` may be one
    matrix or a stack ``(..., M, M)``; only the triangle named by ``UPLO`` is
    read; the result is an :class:`EighResult` ``(eigenvalues, eigenvectors)``
    of float64 (float32 for float32 input). A stack is solved one matrix per
    OpenMP thread (``OMP_NUM_THREADS``) in the core, with the GIL released.
    ``k`` (``1 <= k <= M``) returns only the ``k`` largest pairs, still in
    ascending order.

    The C++ core follows LAPACK's ``dsyevd`` design. Householder reduction to
    tridiagonal form: above a trailing size of 256 in panels with a symmetric
    rank-2k trailing update (Dongarra, Hammarling, Sorensen, J. Comput. Appl.
    Math. 27 (1989), doi:10.1016/0377-0427(89)90367-1), all panels in one
    parallel region whose threads split the symmetric matrix-vector products;
    below, unblocked with each column's rank-2 update fused with the next
    column's product. Cuppen's divide and conquer on the tridiagonal matrix
    with deflation, a safeguarded rational secular-equation solver (R.-C. Li,
    LAPACK Working Note 89, 1994), Gu-Eisenstat eigenvectors (SIMAX 16 (1995)
    172-191, doi:10.1137/S0895479892241287) and implicit-QL leaves;
    back-transformation with compact-WY blocks (Schreiber, Van Loan, SISC 10
    (1989) 53-57, doi:10.1137/0910005), or reflector by reflector up to
    n = 176. ``eigvals_only`` replaces divide and conquer by the root-free QL
    iteration of Pal, Walker and Kahan (the scheme of LAPACK's ``dsterf``).
    For ``k <= n / 8`` the ``k`` vectors come from inverse iteration on the
    tridiagonal matrix, so the cost is that of the reduction plus
    ``O(n^2 k)``. Matrices with ``n <= 48`` go to Eigen's one-stage solver.
    A single matrix uses the OpenMP threads in each phase from that phase's
    own size on, and one thread below (``descramble._core.crossovers()``
    lists the sizes: ``eigh_back_parallel_min``, ``eigh_reduce_parallel_min``,
    ``eigh_dc_parallel_min``; docs/tuning.md gives the reasons). Matrices whose largest
    entry lies outside ``[2^-100, 2^100]`` are first scaled by a power of two
    (exact), as LAPACK does, so that squared entries neither overflow nor
    underflow.

    The smoothness operator and Gram matrices of the descrambler (Sule, Spencer,
    Czaja, ACHA 79 (2025) 101793, doi:10.1016/j.acha.2025.101793) are the
    intended inputs: exact ties (Fourier modes in pairs) and rank-deficient
    Gram matrices are handled, with residual and orthogonality close to
    LAPACK's.

    Parameters
    ----------
    a : (..., M, M) array_like
        Real symmetric matrices (booleans, integers, float32, float64).
        C-contiguous float64 input is not copied by the binding; each matrix
        is solved on one column-major copy.
    UPLO : {"L", "U"}
        Read the lower (default) or upper triangle; case-insensitive.
    k : int, optional
        Number of largest eigenpairs to return; all when ``None``.
    eigvals_only : bool
        Return only the eigenvalues (what :func:`eigvalsh` returns).
    method : {"auto", "subspace", "tridiagonal"}
        Solver of the ``k`` largest pairs of one matrix (ignored without
        ``k``; stacks use the tridiagonal path): the cost model's choice, the
        block Krylov subspace iteration (:mod:`descramble.leading`), or the
        tridiagonal path.
    tol : float
        Residual tolerance of the subspace iteration: every pair meets
        ``||A v - w v|| <= tol * ||A||``.
    info : bool
        Also return a dict describing the solver that ran (``method``; for
        ``"subspace"`` ``restarts``, ``products``, ``residuals``,
        ``norm_estimate``, ``tol``; for ``"tridiagonal"`` the ``reason``).

    Returns
    -------
    EighResult
        ``eigenvalues`` ``(..., m)`` in ascending order (``m = M`` or ``k``)
        and ``eigenvectors`` ``(..., M, m)``, orthonormal columns, column
        ``j`` for eigenvalue ``j``. Signs, and bases of repeated eigenvalues,
        are arbitrary, as with LAPACK. With ``eigvals_only``: the eigenvalues.

    Raises
    ------
    numpy.linalg.LinAlgError
        Fewer than two dimensions, or non-square trailing dimensions (a
        ValueError subclass, as in numpy).
    ValueError
        Non-finite entries in the triangle read, ``UPLO`` not "L"/"U", ``k``
        out of range.
    TypeError
        Complex (Hermitian input is not supported), float16, long double,
        object or string input; ``k`` not an integer.
    RuntimeError
        An iteration failed to converge.

    Examples
    --------
    >>> import numpy as np, descramble as ds
    >>> a = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> w, v = ds.eigh(a)
    >>> w.round(12).tolist()
    [1.0, 3.0]
    >>> ds.eigh(a, k=1, eigvals_only=True).round(12).tolist()
    [3.0]
    >>> ds.eigh(np.stack([a, 2 * a])).eigenvalues.round(12).tolist()
    [[1.0, 3.0], [2.0, 6.0]]
    """
    method, tol = leading.check_method(method, tol, "eigh")
    w, v, report = _eigh(a, UPLO, k, not eigvals_only, "eigh", method, tol)
    out: Any = w if eigvals_only else EighResult(w, v)
    if info:
        return (w, report) if eigvals_only else (w, v, report)
    return out


def eigvalsh(a: Any, UPLO: str = "L") -> np.ndarray:
    """Eigenvalues of real symmetric matrices, ascending; drop-in for :func:`numpy.linalg.eigvalsh`.

    Same input rules, stacking, threads and errors as :func:`eigh`; the
    tridiagonal eigenvalues come from root-free QL (no eigenvectors are formed).

    Parameters
    ----------
    a : (..., M, M) array_like
        Real symmetric matrices.
    UPLO : {"L", "U"}
        Read the lower (default) or upper triangle.

    Returns
    -------
    (..., M) ndarray
        Eigenvalues in ascending order; float32 for float32 input, else float64.

    Examples
    --------
    >>> import numpy as np, descramble as ds
    >>> ds.eigvalsh(np.array([[0.0, 1.0], [0.0, 0.0]]), UPLO="U").tolist()
    [-1.0, 1.0]
    """
    return _eigh(a, UPLO, None, False, "eigvalsh")[0]

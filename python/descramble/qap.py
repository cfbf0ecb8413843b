"""Quadratic assignment heuristics (a counterpart of :func:`scipy.optimize.quadratic_assignment`).

Both methods approximately solve the Koopmans-Beckmann problem

    minimise  f(p) = trace(A^T P B P^T) = sum_ij A[i, j] B[p[i], p[j]]

over permutations ``p`` (``P[i, p[i]] = 1``), which is how a permutation
descrambler ``tr(P^T L P G)`` is posed (``A = L``, ``B = G``).

* ``"faq"``: Frank-Wolfe over doubly stochastic matrices (Vogelstein et al.,
  PLoS ONE 10 (2015) e0121002, doi:10.1371/journal.pone.0121002) with our LAP as
  the linear step, an exact line search, and a final LAP projection. The
  products ``A P B^T`` are updated along the Frank-Wolfe segment instead of
  being recomputed and the line search uses only ``O(n^2)`` terms, so an
  iteration costs one (symmetric input) or two ``n^3`` products where a
  direct implementation needs six, and the last iteration none.
* ``"2opt"``: scipy's first-improvement pair exchanges (same decisions,
  same ``nit``), and ``"2opt-steepest"``: best-improvement exchanges. The
  change of ``f`` for every pair is read from two ``n x n`` matrices kept up
  to date in ``O(n^2)`` per exchange.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from ._validation import integer, is_integer
from .assignment import linear_sum_assignment

__all__ = ["QAPOptionWarning", "QAPResult", "quadratic_assignment"]


class QAPResult(dict):
    """Result of :func:`quadratic_assignment`, like scipy's ``OptimizeResult``.

    Attributes
    ----------
    col_ind : (n,) ndarray of int64
        The permutation: node ``i`` of ``A`` is matched to node ``col_ind[i]`` of ``B``.
    fun : float
        The objective ``trace(A^T P B P^T)`` at ``col_ind``.
    nit : int
        Frank-Wolfe iterations (``"faq"``) or exchanges made (``"2opt"``).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def __repr__(self) -> str:
        return f"QAPResult(fun={self['fun']!r}, nit={self['nit']!r}, col_ind={self['col_ind']!r})"


def _score(A: np.ndarray, B: np.ndarray, perm: np.ndarray) -> float:
    """``sum_ij A[i, j] B[perm[i], perm[j]]``, summed as scipy does (same rounding)."""
    return float(np.sum(A * B[np.ix_(perm, perm)]))


def _is_symmetric(M: np.ndarray) -> bool:
    """Exact symmetry, compared in row blocks so no n x n boolean array is made."""
    n = M.shape[0]
    step = max(1, 65536 // max(n, 1))
    return all(np.array_equal(M[i : i + step], M[:, i : i + step].T) for i in range(0, n, step))


def _inner(x: np.ndarray, y: np.ndarray) -> float:
    """Frobenius inner product. Not np.vdot: a BLAS call whose threads stall on a busy machine."""
    return float(np.einsum("ij,ij->", x, y))


def _optimize_warning() -> type[Warning]:
    """scipy's ``OptimizeWarning`` when scipy is installed (so filters on it apply), else ours."""
    try:
        from scipy.optimize import OptimizeWarning
    except ImportError:
        return QAPOptionWarning
    return OptimizeWarning


class QAPOptionWarning(UserWarning):
    """An unknown :func:`quadratic_assignment` option (ignored); scipy's class if installed."""


def _global_rng_seeded() -> bool:
    """Whether numpy's global RandomState was seeded by ``np.random.seed`` (no seed sequence)."""
    bitgen = getattr(getattr(np.random.mtrand, "_rand", None), "_bit_generator", None)
    return bitgen is not None and getattr(bitgen, "_seed_seq", object()) is None


def _rng(rng: Any) -> Any:
    """scipy's reading of the ``rng`` option, with its transition warnings.

    None (or ``np.random``) is numpy's global RandomState, an integer seeds a
    new RandomState, a Generator or RandomState is used as it is. The
    messages are scipy's, word for word, so that filters written for scipy
    match.
    """
    if isinstance(rng, np.random.RandomState):
        warnings.warn(
            "Use of `RandomState` with `quadratic_assignment` is deprecated and will result "
            "in an exception in SciPy 1.17",
            DeprecationWarning,
            stacklevel=3,
        )
    if (rng is None or rng is np.random) and _global_rng_seeded():
        warnings.warn(
            "The NumPy global RNG was seeded by calling `np.random.seed`. From SciPy 1.17, "
            "this function will no longer use the global RNG.",
            FutureWarning,
            stacklevel=3,
        )
    if isinstance(rng, numbers.Integral | np.integer) and not isinstance(rng, bool):
        warnings.warn(
            "The behavior when the rng option is an integer is changing: the value will be "
            "normalized using np.random.default_rng beginning in SciPy 1.17, and the resulting "
            "Generator will be used to generate random numbers.",
            FutureWarning,
            stacklevel=3,
        )
        return np.random.RandomState(int(rng))
    if rng is None or rng is np.random:
        return np.random.mtrand._rand
    if isinstance(rng, np.random.RandomState | np.random.Generator):
        return rng
    raise ValueError(f"{rng!r} cannot be used to seed a numpy.random.RandomState instance")


def _matrices(A: Any, B: Any) -> tuple[np.ndarray, np.ndarray]:
    """``A`` and ``B`` as float64 matrices, checked in scipy's order with its messages."""
    a = np.atleast_2d(np.asarray(A))
    b = np.atleast_2d(np.asarray(B))
    for name, arr in (("A", a), ("B", b)):
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"`{name}` must be a real numeric array, got dtype {arr.dtype}")
    msg = None
    if a.shape[0] != a.shape[1]:
        msg = "`A` must be square"
    elif b.shape[0] != b.shape[1]:
        msg = "`B` must be square"
    elif a.ndim > 2 or b.ndim > 2:
        msg = "`A` and `B` must have exactly two dimensions"
    elif a.shape != b.shape:
        msg = "`A` and `B` matrices must be of equal size"
    if msg is not None:
        raise ValueError(msg)
    a = a.astype(np.float64, copy=False)
    b = b.astype(np.float64, copy=False)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("`A` and `B` must contain only finite entries")
    return a, b


def _pairs(x: Any, name: str, n: int, noun: str = "seeds") -> np.ndarray:
    """An ``(m, 2)`` array of node pairs, checked in scipy's order with its messages."""
    if x is None:
        return np.zeros((0, 2), dtype=np.int64)
    arr = np.atleast_2d(np.asarray(x)).astype(np.int64)
    msg = None
    if arr.shape[0] > n:
        msg = f"`{name}` can have only as many {noun} as there are nodes"
    elif arr.shape[1] != 2:
        msg = f"`{name}` must have two columns"
    elif arr.ndim != 2:
        msg = f"`{name}` must have exactly two dimensions"
    elif (arr < 0).any():
        msg = f"`{name}` must contain only positive indices"
    elif (arr >= n).any():
        msg = f"`{name}` entries must be less than number of nodes"
    elif len(set(arr[:, 0].tolist())) != len(arr) or len(set(arr[:, 1].tolist())) != len(arr):
        msg = f"`{name}` column entries must be unique"
    if msg is not None:
        raise ValueError(msg)
    return arr


def _sinkhorn(K: np.ndarray, tol: float = 1e-3, maxiter: int = 1000) -> np.ndarray:
    """Scale a positive matrix to (nearly) doubly stochastic (Sinkhorn-Knopp)."""
    for _ in range(maxiter):
        K = K / K.sum(axis=0, keepdims=True)
        K = K / K.sum(axis=1, keepdims=True)
        if np.abs(K.sum(axis=0) - 1).max() < tol:
            break
    return K


def _initial_position(P0: Any, m: int, rng: Any) -> np.ndarray:
    if isinstance(P0, str):
        if P0 == "barycenter":
            return np.full((m, m), 1.0 / m)
        if P0 == "randomized":
            K = _sinkhorn(rng.uniform(size=(m, m)))
            return (np.full((m, m), 1.0 / m) + K) / 2
        raise ValueError("Invalid 'P0' parameter string")
    P = np.atleast_2d(np.asarray(P0, dtype=np.float64))
    if P.shape != (m, m):
        raise ValueError("`P0` matrix must have shape m' x m', where m'=n-m")
    if (P < 0).any() or not np.allclose(P.sum(axis=0), 1) or not np.allclose(P.sum(axis=1), 1):
        raise ValueError("`P0` matrix must be doubly stochastic")
    return P


def _faq(
    A: np.ndarray,
    B: np.ndarray,
    sign: float,
    seeds: np.ndarray,
    rng: Any,
    *,
    P0: Any = "barycenter",
    shuffle_input: bool = False,
    maxiter: int = 30,
    tol: float = 0.03,
) -> QAPResult:
    n = A.shape[0]
    maximize = sign < 0
    maxiter = integer(maxiter, "'maxiter'")
    if isinstance(P0, str) and P0 not in ("barycenter", "randomized"):
        raise ValueError("Invalid 'P0' parameter string")
    if maxiter <= 0:
        raise ValueError("'maxiter' must be a positive integer")
    if not tol > 0:
        raise ValueError("'tol' must be a positive float")
    m_seed = len(seeds)
    m = n - m_seed
    P = _initial_position(P0, m, rng) if m > 0 else np.zeros((0, 0))
    if n == 0 or m == 0:
        perm = np.empty(n, dtype=np.int64)
        perm[seeds[:, 0]] = seeds[:, 1]
        return QAPResult(col_ind=perm, fun=_score(A, B, perm), nit=0)

    s = m_seed
    if s == 0 and not shuffle_input:
        # Nothing to reorder: skip the two n x n gathers.
        perm_A = perm_B = np.arange(n)
        A22, B22 = A, B
        K = None
    else:
        free_B = np.setdiff1d(np.arange(n), seeds[:, 1])
        if shuffle_input:
            free_B = rng.permutation(free_B)
        free_A = np.setdiff1d(np.arange(n), seeds[:, 0])
        perm_A = np.concatenate([seeds[:, 0], free_A])
        perm_B = np.concatenate([seeds[:, 1], free_B])
        Ap = A[np.ix_(perm_A, perm_A)]
        Bp = B[np.ix_(perm_B, perm_B)]
        A12, A21, A22 = Ap[:s, s:], Ap[s:, :s], Ap[s:, s:]
        B12, B21, B22 = Bp[:s, s:], Bp[s:, :s], Bp[s:, s:]
        # Linear part of the objective in the free block (seeded graph matching).
        K = (A21 @ B21.T + A12.T @ B12) if s else None
    symmetric = _is_symmetric(A22) and _is_symmetric(B22)
    B22T = B22 if symmetric else np.ascontiguousarray(B22.T)

    # X = A22 P B22^T and Y = A22^T P B22: the gradient is K + X + Y and the
    # quadratic part of f is <X, P> = <Y, P>. At the barycenter they are rank one.
    if isinstance(P0, str) and P0 == "barycenter":
        X = np.outer(A22.sum(axis=1), B22.sum(axis=1)) / m
        Y = X if symmetric else np.outer(A22.sum(axis=0), B22.sum(axis=0)) / m
    else:
        X = A22 @ P @ B22T
        Y = X if symmetric else A22.T @ P @ B22
    rows = np.arange(m)
    nit = 0
    t = 0.0
    cols = rows
    for nit in range(1, maxiter + 1):  # noqa: B007 - nit is reported
        xp = _inner(X, P)
        if K is None and Y is X:
            # The gradient is 2X: X has the same assignment (scaling by 2 is
            # exact), and b = <2X, Q - P> needs no gradient matrix at all.
            _, cols = linear_sum_assignment(X, maximize=maximize)
            xq = yq = float(X[rows, cols].sum())
            b = 2.0 * (xq - xp)
        else:
            grad = X + Y if K is None else K + X + Y
            _, cols = linear_sum_assignment(grad, maximize=maximize)
            xq = float(X[rows, cols].sum())
            yq = xq if Y is X else float(Y[rows, cols].sum())
            b = float(grad[rows, cols].sum()) - _inner(grad, P)
        # f(P + t R), R = Q - P, is f(P) + b t + a t^2 (exact line search), with
        # a = <A R B^T, R> = <A Q B^T, Q> - <Y, Q> - <X, Q> + <X, P>: all four
        # terms are O(n^2), so the step needs no n^3 product.
        a = _score(A22, B22, cols) - xq - yq + xp
        if a * sign > 0 and 0 <= -b / (2 * a) <= 1:
            t = -b / (2 * a)
        else:
            # Endpoints: move to Q unless staying at P is strictly better (as scipy).
            t = 1.0 if (a + b) * sign <= 0 else 0.0
        # ||P_new - P||_F = t ||Q - P||_F, with ||Q - P||^2 = m - 2 P[rows, cols].sum() + ||P||^2.
        step2 = max(m - 2.0 * float(P[rows, cols].sum()) + _inner(P, P), 0.0)
        P = (1.0 - t) * P
        P[rows, cols] += t
        if t * np.sqrt(step2) / np.sqrt(m) < tol or nit == maxiter:
            break
        # Q = I[cols]: A22 Q B22^T = A22 @ B22^T[cols], one product (two if not symmetric).
        XQ = A22 @ B22T[cols]
        X = XQ if t == 1.0 else (1.0 - t) * X + t * XQ
        if not symmetric:
            YQ = A22.T @ B22[cols]
            Y = YQ if t == 1.0 else (1.0 - t) * Y + t * YQ
        else:
            Y = X

    # After a full step P is the permutation matrix Q: its projection is Q itself.
    col = cols if t == 1.0 else linear_sum_assignment(P, maximize=True)[1]
    perm = np.concatenate((np.arange(s), col + s))
    out = np.empty(n, dtype=np.int64)
    out[perm_A] = perm_B[perm]
    return QAPResult(col_ind=out, fun=_score(A, B, out), nit=nit)


def _initial_permutation(
    n: int, seeds: np.ndarray, guess: np.ndarray, P0: Any, rng: Any
) -> np.ndarray:
    if P0 is not None:
        arr = np.asarray(P0)
        if arr.ndim == 2:
            if arr.shape != (n, n) or not np.all((arr == 0) | (arr == 1)):
                raise ValueError(f"`P0` must be an ({n}, {n}) permutation matrix or vector")
            arr = np.argmax(arr, axis=1)
        perm = arr.astype(np.int64)
        if perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
            raise ValueError(f"`P0` must be a permutation of 0..{n - 1}")
        perm = perm.copy()
        if len(seeds):
            # Seeds override the start; the displaced images move to the rows
            # whose own images the seeds took.
            fixed = np.zeros(n, dtype=bool)
            fixed[seeds[:, 0]] = True
            taken = np.zeros(n, dtype=bool)
            taken[seeds[:, 1]] = True
            keep = ~fixed & ~taken[perm]
            rest_rows = np.flatnonzero(~fixed & ~keep)
            used = np.zeros(n, dtype=bool)
            used[perm[keep]] = True
            used[seeds[:, 1]] = True
            perm[seeds[:, 0]] = seeds[:, 1]
            perm[rest_rows] = np.flatnonzero(~used)
        return perm
    perm = np.full(n, -1, dtype=np.int64)
    perm[guess[:, 0]] = guess[:, 1]
    # A match overrides a guess: a guessed row whose column a seed takes is freed.
    perm[np.isin(perm, seeds[:, 1])] = -1
    perm[seeds[:, 0]] = seeds[:, 1]
    used = np.zeros(n, dtype=bool)
    used[perm[perm >= 0]] = True
    free_rows = np.flatnonzero(perm < 0)
    perm[free_rows] = rng.permutation(np.flatnonzero(~used))
    return perm


class _Exchanges:
    """The objective's change for exchanging the images of two rows, kept up to date.

    With ``Bp = B[perm][:, perm]``, ``C1 = A Bp^T`` and ``C2 = A^T Bp`` give the
    change of ``sum_ij A_ij Bp_ij`` for every pair ``(r, s)`` in ``O(n^2)``
    (rows ``r`` and ``s`` of the sum change by ``-(A_r - A_s).(Bp_r - Bp_s)``,
    columns likewise, and the four corner entries, counted twice there, are
    corrected with their exact change); an exchange updates them in ``O(n^2)``.
    """

    def __init__(self, A: np.ndarray, B: np.ndarray, perm: np.ndarray) -> None:
        self.A = A
        self.AT = np.ascontiguousarray(A.T)
        self.symmetric = np.array_equal(A, A.T) and np.array_equal(B, B.T)
        self.a = np.diag(A).copy()
        self.Bp = B[np.ix_(perm, perm)]
        self.C1 = A @ self.Bp.T
        self.C2 = self.C1 if self.symmetric else self.AT @ self.Bp

    def delta(self, r0: int, r1: int) -> np.ndarray:
        """The changes for the pairs ``(r, s)``, ``r0 <= r < r1``, every ``s``: ``(r1 - r0, n)``."""
        A, Bp, C1, C2 = self.A, self.Bp, self.C1, self.C2
        rows = slice(r0, r1)
        c1 = np.diag(C1)
        b = np.diag(Bp)
        ar, as_ = self.a[rows, None], self.a[None, :]
        br, bs = b[rows, None], b[None, :]
        A_r, Bp_r = A[rows], Bp[rows]
        if self.symmetric:
            # Symmetric A and Bp: the column terms equal the row terms and the
            # antisymmetric corner term vanishes, which halves the work.
            out = C1[rows] + C1[:, rows].T
            out -= c1[rows, None]
            out -= c1[None, :]
            out *= 2.0
            out -= 2.0 * ((ar - A_r) * (Bp_r - br) + (A_r - as_) * (bs - Bp_r))
            out += (ar - as_) * (bs - br)
            return out
        c2 = np.diag(C2)
        row = c1[rows, None] + c1[None, :] - C1[rows] - C1[:, rows].T
        col = c2[rows, None] + c2[None, :] - C2[rows] - C2[:, rows].T
        At_r, Bt_r = self.AT[rows], Bp[:, rows].T
        # Terms j in {r, s} of the row and column sums (they are not simple swaps).
        excl = (
            (ar - At_r) * (Bt_r - br)
            + (A_r - as_) * (bs - Bp_r)
            + (ar - A_r) * (Bp_r - br)
            + (At_r - as_) * (bs - Bt_r)
        )
        corner = (ar - as_) * (bs - br) + (A_r - At_r) * (Bt_r - Bp_r)
        return -row - col - excl + corner

    def swap(self, r: int, s: int) -> None:
        """Exchange indices ``r, s`` of ``Bp`` and update ``C1``, ``C2`` in ``O(n^2)``."""
        A, Bp, C1, C2 = self.A, self.Bp, self.C1, self.C2
        idx = np.array([r, s])
        # Columns k not in {r, s}: Bp[k, r] and Bp[k, s] trade places, a rank-one change.
        C1 += np.outer(A[:, r] - A[:, s], Bp[:, s] - Bp[:, r])
        if not self.symmetric:
            C2 += np.outer(A[r, :] - A[s, :], Bp[s, :] - Bp[r, :])
        Bp[idx, :] = Bp[idx[::-1], :]
        Bp[:, idx] = Bp[:, idx[::-1]]
        # Columns r and s themselves: recompute.
        C1[:, idx] = A @ Bp[idx, :].T
        if not self.symmetric:
            C2[:, idx] = self.AT @ Bp[:, idx]


def _exactly_integral(A: np.ndarray, B: np.ndarray) -> bool:
    """Whether every score and exchange change of ``A``, ``B`` is computed exactly in float64.

    True for integer-valued matrices whose score terms sum below 2^52 in
    magnitude: all sums are then exact, whatever their order.
    """
    bound = float(np.abs(A).sum()) * float(np.abs(B).max(initial=0.0))
    return bound < 2.0**50 and bool(np.all(A == np.round(A))) and bool(np.all(B == np.round(B)))


# Rows of exchange changes computed at once by the first-improvement search:
# the first improving pair is often in the first rows, and a block of rows
# costs about one numpy call per term.
_ROW_BLOCK = 32


def _two_opt(
    A: np.ndarray,
    B: np.ndarray,
    sign: float,
    seeds: np.ndarray,
    rng: Any,
    *,
    partial_guess: Any = None,
) -> QAPResult:
    """scipy's "2opt": first-improvement pair exchanges from a random start.

    The start is ``partial_match``, then ``partial_guess``, then a random
    permutation (``rng.permutation``) of the remaining columns. The pairs
    ``(i, j)``, ``i <= j`` of free rows are tried in lexicographic order; the
    first exchange that improves the score is made and the order starts over;
    the search ends after a full pass without one. ``nit`` counts the pairs
    tried. Every decision is scipy's: an exchange counts as an improvement when
    the score summed as scipy sums it improves (exactly integral problems are
    decided from the exact change instead, which agrees).
    """
    n = A.shape[0]
    guess = _pairs(partial_guess, "partial_guess", n, noun="entries")
    perm = _initial_permutation(n, seeds, guess, None, rng)
    free_rows = np.setdiff1d(np.arange(n), seeds[:, 0])
    f = len(free_rows)
    pairs_per_pass = f * (f + 1) // 2
    if f < 2:
        return QAPResult(col_ind=perm, fun=_score(A, B, perm), nit=pairs_per_pass)
    # Position of each free row in the enumeration (-1: fixed).
    position = np.full(n, -1, dtype=np.int64)
    position[free_rows] = np.arange(f)
    exact = _exactly_integral(A, B)
    best = _score(A, B, perm)
    # Without exactness, every pair whose computed change is below `slack`
    # (far above the rounding of either computation) is checked with scipy's
    # score; a pair above it cannot improve that score either.
    slack = 0.0 if exact else 1e-9 * float(np.abs(A).sum()) * float(np.abs(B).max())
    ex = _Exchanges(A, B, perm)
    nit = 0
    while True:
        found = None
        for b0 in range(0, f, _ROW_BLOCK):
            rows = free_rows[b0 : b0 + _ROW_BLOCK]
            d = sign * ex.delta(int(rows[0]), int(rows[-1]) + 1)[rows - rows[0]][:, free_rows]
            # Pairs i < j only: an exchange of a row with itself never improves.
            cand = (d < -slack if exact else d < slack) & (
                np.arange(f)[None, :] > np.arange(b0, b0 + len(rows))[:, None]
            )
            for ri, ci in zip(*np.nonzero(cand), strict=True):
                i, j = int(rows[ri]), int(free_rows[ci])
                if not exact:
                    perm[[i, j]] = perm[[j, i]]
                    score = _score(A, B, perm)
                    perm[[i, j]] = perm[[j, i]]
                    if not sign * score < sign * best:
                        continue
                    best = score
                found = (i, j)
                break
            if found is not None:
                break
        if found is None:
            nit += pairs_per_pass
            break
        i, j = found
        a_pos, b_pos = int(position[i]), int(position[j])
        # Pairs tried this pass: those of the rows before i, then (i, i) .. (i, j).
        nit += a_pos * f - a_pos * (a_pos - 1) // 2 + (b_pos - a_pos) + 1
        perm[[i, j]] = perm[[j, i]]
        ex.swap(i, j)
    return QAPResult(col_ind=perm, fun=_score(A, B, perm), nit=nit)


def _steepest_two_opt(
    A: np.ndarray,
    B: np.ndarray,
    sign: float,
    seeds: np.ndarray,
    rng: Any,
    *,
    partial_guess: Any = None,
    P0: Any = None,
    maxiter: Any = None,
) -> QAPResult:
    """Best-improvement pair exchanges: each exchange is the one that improves most."""
    n = A.shape[0]
    guess = _pairs(partial_guess, "partial_guess", n, noun="entries")
    if maxiter is not None and (not is_integer(maxiter) or maxiter < 0):
        raise ValueError("'maxiter' must be a non-negative integer or None")
    perm = _initial_permutation(n, seeds, guess, P0, rng)
    if n == 0:
        return QAPResult(col_ind=perm, fun=0.0, nit=0)
    free = np.ones(n, dtype=bool)
    free[seeds[:, 0]] = False
    # Only pairs r < s of free rows may exchange.
    allowed = np.triu(np.outer(free, free), 1)
    ex = _Exchanges(A, B, perm)
    scale = np.abs(A).sum() * np.abs(B).max() + np.finfo(float).tiny
    nit = 0
    limit = np.inf if maxiter is None else int(maxiter)
    while nit < limit:
        delta = np.where(allowed, sign * ex.delta(0, n), np.inf)
        k = int(np.argmin(delta))
        r, s_ = divmod(k, n)
        # Exchanges must improve by more than rounding to guarantee termination.
        if not delta[r, s_] < -1e-13 * scale:
            break
        nit += 1
        perm[[r, s_]] = perm[[s_, r]]
        ex.swap(r, s_)
    return QAPResult(col_ind=perm, fun=_score(A, B, perm), nit=nit)


def quadratic_assignment(A: Any, B: Any, method: str = "faq", options: Any = None) -> QAPResult:
    """Approximately solve the quadratic assignment problem.

    Minimises (or maximises) ``trace(A^T P B P^T) = sum_ij A[i, j] B[p[i], p[j]]``
    over permutation matrices ``P`` (``P[i, p[i]] = 1``). A drop-in for
    :func:`scipy.optimize.quadratic_assignment`: same methods, options,
    result, warnings and error messages. The problem is NP-hard: every method
    is a heuristic. With ``A = L`` (a smoothness operator) and ``B = G`` (the
    Gram matrix of hidden data) this is the permutation descrambler of Sule,
    Spencer, Czaja, Appl. Comput. Harmon. Anal. 79 (2025) 101793,
    doi:10.1016/j.acha.2025.101793.

    Parameters
    ----------
    A, B : (n, n) array_like
        Square real matrices of equal size.
    method : {"faq", "2opt", "2opt-steepest"}
        ``"faq"``: Frank-Wolfe over doubly stochastic matrices (Vogelstein et
        al., PLoS ONE 10 (2015) e0121002, doi:10.1371/journal.pone.0121002).
        ``"2opt"``: scipy's first-improvement pair exchanges from a random
        start. ``"2opt-steepest"`` (ours, not in scipy): best-improvement
        exchanges from a given start, to refine a ``"faq"`` answer
        (``options={"P0": res.col_ind}``).
    options : dict, optional
        Every method: ``maximize`` (bool), ``partial_match`` ((m, 2) pairs
        fixed in advance), ``rng`` (scipy's reading: None is numpy's global
        RandomState, an int seeds a new RandomState, or a Generator; with
        scipy's FutureWarning/DeprecationWarning where scipy warns).
        ``"faq"``: ``P0`` ("barycenter" (default), "randomized", or an
        ``(n - m, n - m)`` doubly stochastic matrix), ``shuffle_input``,
        ``maxiter`` (30), ``tol`` (0.03).
        ``"2opt"``: ``partial_guess`` ((m, 2) starting pairs; the other rows
        start from ``rng.permutation`` of the other columns).
        ``"2opt-steepest"``: ``partial_guess``, ``P0`` (a starting permutation
        vector or matrix; overrides ``partial_guess``), ``maxiter`` (maximum
        exchanges; None: until a local optimum).
        Unknown options are ignored with scipy's ``OptimizeWarning`` (our
        :class:`QAPOptionWarning` when scipy is not installed).

    Returns
    -------
    QAPResult
        ``col_ind`` (int64 permutation), ``fun`` (objective at it), ``nit``
        (Frank-Wolfe iterations for "faq", pairs tried for "2opt" as in scipy,
        exchanges made for "2opt-steepest").

    Raises
    ------
    ValueError
        Non-square, mismatched or non-finite matrices, bad options (scipy's
        messages), unknown method, an ``rng`` that is not a seed or generator.
    TypeError
        Non-numeric matrices, a non-integer ``maxiter``.

    Notes
    -----
    "faq" follows scipy's iteration exactly (same initial point, direction,
    step and stopping rule) but keeps ``A P B^T`` and ``A^T P B`` up to date
    along each step, so an iteration costs one product ``A @ B[:, q].T`` (two
    for non-symmetric input) and one LAP; the exact line search needs only
    ``O(n^2)`` work, and the last iteration skips the product. A start from
    a doubly stochastic matrix costs two more products (one pair for
    non-symmetric input), the barycenter none.

    "2opt" makes scipy's decisions (same start from the same ``rng`` draws,
    same pair order, an exchange accepted when scipy's score improves), so it
    returns scipy's ``col_ind``, ``fun`` and ``nit``; but the change of every
    pair is read from two ``n x n`` matrices updated in ``O(n^2)`` per
    exchange, where scipy recomputes the ``O(n^2)`` score for each pair tried.
    "2opt-steepest" makes, at each step, the exchange that improves most.
    """
    opts = dict(options or {})
    method_l = method.lower()
    if method_l not in _METHODS:
        raise ValueError(f"method {method} must be in {list(_METHODS)}.")
    func, known = _METHODS[method_l]
    rng = _rng(opts.pop("rng", None))
    unknown = [name for name in opts if name not in known]
    if unknown:
        # As scipy: unknown options are ignored, with a warning.
        warnings.warn(
            f"Unknown solver options: {', '.join(map(str, unknown))}",
            _optimize_warning(),
            stacklevel=2,
        )
        for name in unknown:
            del opts[name]
    A_, B_ = _matrices(A, B)
    # Options every method shares are parsed here: -1 flips minimising to maximising.
    sign = -1.0 if opts.pop("maximize", False) else 1.0
    seeds = _pairs(opts.pop("partial_match", None), "partial_match", A_.shape[0])
    return func(A_, B_, sign, seeds, rng, **opts)


# method name -> (solver, the options it takes besides rng)
_SHARED = ("maximize", "partial_match")
_METHODS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "faq": (_faq, (*_SHARED, "P0", "shuffle_input", "maxiter", "tol")),
    "2opt": (_two_opt, (*_SHARED, "partial_guess")),
    "2opt-steepest": (_steepest_two_opt, (*_SHARED, "partial_guess", "P0", "maxiter")),
}

"""The exact descrambler ``P = T U^T`` and its optimality certificate.

Minimise the Tikhonov smoothness ``||D P S||_F^2 = tr(P^T L P G)`` of the
descrambled hidden data over orthogonal ``P`` (Sule, Spencer, Czaja, "On the
limits of neural network explainability via descrambling", ACHA 79 (2025)
101793, doi:10.1016/j.acha.2025.101793; the criterion is that of Amey et al.,
PNAS 118(5) e2016917118 (2021), doi:10.1073/pnas.2016917118). With
``L = T diag(lam) T^T`` (``lam`` ascending) and ``G = U diag(mu) U^T`` (``mu``
descending), ``P = T U^T`` attains von Neumann's lower bound
``sum_i lam_i mu_i``, which also bounds every permutation descrambler.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _core, leading, permutation
from ._gram import Gram, gram_of
from ._validation import check_finite, for_core, k_in_range
from .moments import Moments
from .sketch import Sketch
from .smoothness import (
    FOURIER_MODE_KINDS,
    KINDS,
    Operator,
    _fourier_symbol,
    cached_basis,
    check_arguments,
    operator,
    synthesize_fourier_modes,
)

__all__ = ["Descrambling", "Gram", "descramble"]

GROUPS = ("orthogonal", "special", "permutation")

#: A computed eigenvalue of an ``n x n`` matrix ``A`` from a backward-stable
#: solver is off by at most about ``n eps ||A||`` (Weyl's inequality; the
#: Householder reduction is the dominant term). Consecutive computed
#: eigenvalues closer than twice that cannot be told apart (see
#: :func:`_tied_blocks`).
TIE_ROUNDING_FACTOR = 2.0

#: From this size on ``P = T U^T`` for Fourier-mode bases is synthesised by an
#: inverse real FFT; below it the FFT's fixed costs (spectrum assembly, the
#: pocketfft plan) exceed the ``2 n^3`` flops of the product.
_FFT_MIN = 128

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, eq=False, repr=False)
class Descrambling:
    """Result of :func:`descramble`.

    Attributes
    ----------
    P : (k, n) ndarray
        The descrambler: row ``i`` maps the ``n`` neurons to the ``i``-th
        smoothest mode. Orthogonal when ``k == n``; ``P P^T = I_k`` otherwise.
    objective : float
        ``tr(P^T L P G) = ||D P S||_F^2`` evaluated from the returned ``P``
        and from the operator and the Gram matrix as they were given -- never
        from the eigen-factors ``T`` and ``U`` -- so that a wrong ``P``, ``T``
        or ordering shows up as a gap: ``<Y G, Y>`` with ``Y = D P`` (``D``
        applied by its stencil, or for ``"fourier"`` by its FFT symbol; an
        ``Operator`` given by ``L`` uses ``<L P, P G>``), one ``k x n x n``
        product; for a permutation ``sum(L * G[idx][:, idx])``.
    lower_bound : float
        ``sum_i lam_i mu_i``: von Neumann's bound for every orthogonal (hence
        every permutation) ``P``, from the eigenvalues alone; equals
        ``objective`` to rounding for the orthogonal groups. With ``k``: the
        bound over the bases of the leading principal subspace (see
        :func:`descramble`).
    gap : float
        ``(objective - lower_bound) / |lower_bound|``, the optimality
        certificate. Both numbers carry rounding errors of about
        ``eps * mu[0] * sum|lam|`` (each computed eigenvalue of ``G`` is
        known to ``eps ||G||`` and is weighted by ``lam_i``), so for the
        orthogonal groups ``gap`` is zero to within ``rounding / |lower_bound|``,
        which for second-order Fourier smoothness of a wide layer with a
        fast-decaying spectrum reaches ``1e-8`` rather than ``1e-16``. When
        ``|lower_bound|`` is below that rounding level (data with no energy
        outside the null space of ``L``): 0 if the objective is within
        rounding of the bound too, otherwise ``inf``. For a permutation the
        gap is measured against the orthogonal relaxation, which can be
        loose: a gap of 0.2 means the permutation is at most 20% above the
        best permutation, not that a better one exists (see
        ``docs/certificate.md``).
    ties : dict
        ``{"smoothness": [[i, j, ...], ...], "data": [[...], ...]}``: blocks of
        indices of tied eigenvalues of ``L`` (positions in ``lam``, rows of
        ``P``) and of ``G`` (positions in ``mu``, columns of ``U``). Any
        rotation inside a block gives another optimum: the data does not
        determine it. (Each column's sign is never determined; see ``U``.)
        Built-in operators have exact closed-form eigenvalues, so their ties
        are exactly the equal ones (the cos/sin pairs of the Fourier kinds,
        frequencies ``k`` and ``n/2 - k`` of periodic order 1, nothing else).
        Computed eigenvalues (``G``, an ``Operator``) are tied when
        consecutive ones differ by at most ``2 n eps max|v|``: twice the
        error bound of a backward-stable solver on an ``n x n`` matrix, below
        which two eigenvalues cannot be told apart (all exactly-zero
        eigenvalues of a rank-deficient ``G`` form one block).
    lam : (k,) ndarray
        Eigenvalues of ``L``, ascending. For a built-in kind ``lam`` and ``T``
        are read-only arrays shared by calls with the same ``(kind, k, order)``.
    mu : (k,) ndarray
        Leading eigenvalues of ``G``, descending.
    T : (k, k) ndarray
        Eigenvectors of ``L`` (columns; convention of :func:`smoothness.basis`).
    U : (n, k) ndarray
        Principal directions of the hidden data (columns), each with its
        largest-magnitude entry positive (first such entry on ties), except the
        column flipped to make ``det P = +1`` for ``group="special"``.
    group : str
        ``"orthogonal"``, ``"special"`` or ``"permutation"``.
    method : str
        ``"closed form"`` or the permutation solver's method.
    eigensolver : dict
        How ``mu`` and ``U`` were computed: ``{"method": "tridiagonal",
        "reason": ...}``; for the subspace iteration of
        :mod:`descramble.leading` ``{"method": "subspace", "restarts",
        "products", "residuals", "quotients", "norm_estimate", "tol",
        "converged"}`` (``residuals[i] = ||G u_i - mu_i u_i||``); for a
        :class:`Sketch` ``{"method": "sketch", "error_estimate",
        "error_bound", ...}`` (:meth:`Sketch.leading`).
    """

    P: np.ndarray
    objective: float
    lower_bound: float
    gap: float
    ties: dict
    lam: np.ndarray
    mu: np.ndarray
    T: np.ndarray
    U: np.ndarray
    group: str
    method: str
    eigensolver: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of neurons (columns of ``P``)."""
        return int(self.P.shape[1])

    @property
    def k(self) -> int:
        """Number of descrambled components (rows of ``P``)."""
        return int(self.P.shape[0])

    def apply(self, W: Any, side: str = "output") -> np.ndarray:
        """Descramble a layer's weights (or bias) with ``P``.

        Parameters
        ----------
        W : array_like
            ``side="output"``: the weights of the layer whose outputs were tapped
            *before* the activation, shape ``(n, m)``, or its bias ``(n,)``;
            returns ``P @ W``. ``side="input"``: the weights of the *next* layer
            when the data was tapped *after* the activation, shape ``(m, n)`` (or
            ``(n,)``); returns ``W @ P.T``.
        side : {"output", "input"}

        Returns
        -------
        ndarray of float64
        """
        if side not in ("output", "input"):
            raise ValueError(f"apply: side must be 'output' or 'input', got {side!r}")
        w = np.asarray(W)
        if w.dtype.kind not in "fiub":
            raise TypeError(f"apply: expected a real numeric array, got dtype {w.dtype}")
        if w.ndim not in (1, 2):
            raise ValueError(f"apply: expected a 1-D or 2-D array, got shape {w.shape}")
        w = w.astype(np.float64, copy=False)
        check_finite(w, "apply")
        n = self.n
        if side == "output":
            if w.shape[0] != n:
                raise ValueError(
                    f"apply(side='output'): expected W of shape ({n}, m) or ({n},) "
                    f"(rows = the {n} tapped neurons), got shape {w.shape}"
                )
            return self.P @ w
        if w.shape[-1] != n:
            raise ValueError(
                f"apply(side='input'): expected W of shape (m, {n}) or ({n},) "
                f"(columns = the {n} tapped neurons), got shape {w.shape}"
            )
        return w @ self.P.T

    def __repr__(self) -> str:
        tied_l = sum(len(b) for b in self.ties["smoothness"])
        tied_g = sum(len(b) for b in self.ties["data"])
        return (
            f"Descrambling(P: {self.k}x{self.n}, group={self.group!r}, method={self.method!r}, "
            f"objective={self.objective:.6g}, lower_bound={self.lower_bound:.6g}, "
            f"gap={self.gap:.3g}, ties: {len(self.ties['smoothness'])} blocks "
            f"({tied_l} modes) in L, {len(self.ties['data'])} blocks ({tied_g} directions) in G)"
        )


# ----------------------------------------------------------------------------- inputs


def _check_k(k: Any, n: int) -> int:
    return n if k is None else k_in_range(k, n, "descramble")


def _check_kind_name(smoothness: str) -> None:
    if smoothness not in KINDS:
        raise ValueError(
            f"unknown smoothness kind {smoothness!r}: expected one of {', '.join(KINDS)}, "
            "an (n, n) differentiation matrix, or ds.Operator"
        )


def _check_group(group: Any) -> None:
    if not isinstance(group, str) or group not in GROUPS:
        raise ValueError(f"unknown group {group!r}: expected one of {', '.join(GROUPS)}")


def _check_square(group: str, k: int, n: int) -> None:
    if group != "orthogonal" and k != n:
        raise ValueError(f"group={group!r} needs a square P: use k=None (or k = n = {n})")


def check_options(
    n: int, *, smoothness: Any = "fourier", order: Any = 2, group: Any = "orthogonal", k: Any = None
) -> int:
    """Check :func:`descramble`'s options for data of ``n`` neurons before the data is read.

    Raises the errors :func:`descramble` would raise for these options (a
    smoothness matrix or Operator is checked against the data when solving);
    returns ``k`` (``n`` for ``None``). ``descramble fit`` calls it with the
    ``n`` of the files' headers, so a bad option fails before hours of streaming.
    """
    _check_group(group)
    kk = _check_k(k, n)
    _check_square(group, kk, n)
    if isinstance(smoothness, str):
        _check_kind_name(smoothness)
        check_arguments(smoothness, kk, 2 if order is None else order)
    return kk


def _smoothness_basis(
    smoothness: Any, order: Any, size: int, n: int
) -> tuple[np.ndarray, np.ndarray, Any]:
    """``(lam, T, source)`` of a ``size x size`` smoothness operator.

    ``source`` builds ``L`` on demand (only the permutation group needs it).
    """
    what = f"the data has n = {n} neurons" if size == n else f"k = {size} components were asked"
    if isinstance(smoothness, str):
        _check_kind_name(smoothness)
        order = 2 if order is None else order
        lam, t = cached_basis(smoothness, size, order)
        return lam, t, (smoothness, order, size)
    if order not in (None, 2):
        # 2 is the signature's default, so it cannot signal a deliberate choice.
        raise ValueError(
            f"descramble: order={order!r} applies to smoothness kind names only, not to a "
            "matrix or an Operator"
        )
    if isinstance(smoothness, Operator):
        op = smoothness
    else:
        if not isinstance(smoothness, np.ndarray):
            raise TypeError(
                f"descramble: smoothness must be one of {', '.join(KINDS)}, an (n, n) "
                f"differentiation matrix (ndarray) or ds.Operator, got {type(smoothness).__name__}"
            )
        op = Operator(D=smoothness)
    if op.n != size:
        raise ValueError(f"descramble: the smoothness operator has size {op.n}, but {what}")
    return op.lam, op.T, op


def _smoothness_matrix(source: Any) -> np.ndarray:
    """``L = D^T D`` of the operator :func:`_smoothness_basis` resolved."""
    if isinstance(source, Operator):
        return source.L
    kind, order, size = source
    d = operator(kind, size, order)
    return d.T @ d


def _tied_blocks(values: np.ndarray, tol: float) -> list[list[int]]:
    """Runs of consecutive (sorted) values at most ``tol`` apart (``tol = 0``: equal values)."""
    if values.size < 2:
        return []
    close = np.abs(values[1:] - values[:-1]) <= tol  # close[i]: values i and i + 1 are tied
    if not close.any():
        return []  # the common case for data spectra: no Python-level work at all
    # Runs of True in `close` start and end where the padded mask changes value;
    # a run covering close[a:b] is the tied block of values a .. b.
    edges = np.flatnonzero(np.diff(np.concatenate(([False], close, [False])).astype(np.int8)))
    starts, stops = edges[::2].tolist(), edges[1::2].tolist()
    return [list(range(a, b + 1)) for a, b in zip(starts, stops, strict=True)]


def _computed_tie_tolerance(values: np.ndarray, n: int) -> float:
    """Gap below which two computed eigenvalues of an ``n x n`` matrix are tied.

    Each is off by up to about ``n eps ||A||`` (``||A|| = max|values|`` for the
    full spectrum of a symmetric matrix, and for the leading ones of a PSD
    Gram matrix); two such values closer than twice that are indistinguishable.
    """
    if values.size == 0:
        return 0.0
    # Sorted values: the largest magnitude sits at one end.
    norm = max(abs(float(values[0])), abs(float(values[-1])))
    return TIE_ROUNDING_FACTOR * n * _EPS * norm


def _rounding_scale(lam: np.ndarray, mu: np.ndarray) -> float:
    """Rounding error of ``sum_i lam_i mu_i``, and of the objective at the optimum.

    Each computed ``mu_i`` is known to about ``eps ||G||`` (G itself is
    rounded to that, and a backward-stable solver adds as much), and it is
    weighted by ``lam_i``: ``eps mu_max sum|lam|``, with a factor 4 for the
    summation and for the evaluation of the objective from ``P``.
    """
    if lam.size == 0:
        return 0.0
    mu_max = max(abs(float(mu[0])), abs(float(mu[-1])))
    return 4.0 * _EPS * mu_max * float(np.abs(lam).sum())


def _relative_gap(objective: float, bound: float, scale: float) -> float:
    if abs(bound) > scale:
        return (objective - bound) / abs(bound)
    return 0.0 if abs(objective - bound) <= scale else float("inf")


def _permutation_indices(perm: Any, n: int) -> np.ndarray:
    """Validate the solver's permutation matrix; ``idx`` with ``P[i, idx[i]] = 1``."""
    p = np.asarray(perm, dtype=np.float64)
    if p.shape != (n, n):
        raise RuntimeError(f"permutation solver returned shape {p.shape}, expected ({n}, {n})")
    idx = np.argmax(p, axis=1)
    expected = np.zeros((n, n))
    expected[np.arange(n), idx] = 1.0
    if not np.array_equal(p, expected) or np.unique(idx).size != n:
        raise RuntimeError("permutation solver returned a matrix that is not a permutation")
    return idx


def _solve_permutation(source: Any, g: np.ndarray, lam, t, mu, u) -> tuple[np.ndarray, float, str]:
    lmat = _smoothness_matrix(source)
    perm, _, method = permutation.solve_permutation(lmat, g, lam=lam, T=t, mu=mu, U=u)
    n = g.shape[0]
    idx = _permutation_indices(perm, n)
    # tr(P^T L P G) = sum(L * P G P^T), and (P G P^T)[a, b] = G[idx[a], idx[b]]:
    # recomputed here rather than trusting the solver's own figure.
    objective = float(np.sum(lmat * g[np.ix_(idx, idx)]))
    p = np.zeros((n, n))
    p[np.arange(n), idx] = 1.0
    return p, objective, str(method)


@functools.lru_cache(maxsize=2)
def _builtin_det_sign(kind: str, order: int, size: int) -> float:
    return float(np.linalg.slogdet(cached_basis(kind, size, order)[1])[0])


def _det_sign(source: Any, t: np.ndarray) -> float:
    """``sign(det T)``; cached for built-in kinds, whose ``T`` is fixed by its key."""
    if isinstance(source, tuple):
        return _builtin_det_sign(*source)
    return float(np.linalg.slogdet(t)[0])


@functools.lru_cache(maxsize=2)
def _builtin_ties(kind: str, order: int, size: int) -> tuple[tuple[int, ...], ...]:
    lam = cached_basis(kind, size, order)[0]
    # Closed-form eigenvalues: the formulas give bitwise-equal values to modes
    # whose exact eigenvalues are equal (smoothness._sorted), and distinct
    # exact values stay distinct in float64, so ties are exact equalities.
    return tuple(tuple(block) for block in _tied_blocks(lam, 0.0))


def _smoothness_ties(source: Any, lam: np.ndarray) -> list[list[int]]:
    """Tied blocks of ``lam``; cached for built-in kinds (fresh lists: the result owns them)."""
    if isinstance(source, tuple):
        return [list(block) for block in _builtin_ties(*source)]
    return _tied_blocks(lam, _computed_tie_tolerance(lam, lam.size))


def _descrambler(source: Any, t: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``P = T U^T``; ``source`` as returned by :func:`_smoothness_basis`."""
    if isinstance(source, tuple) and source[0] in FOURIER_MODE_KINDS and t.shape[0] >= _FFT_MIN:
        # Column b of P is the signal whose coefficients in the Fourier modes are
        # U[b, :]: an inverse real FFT, O(n^2 log n) instead of a matrix product.
        # P is the transpose of the FFT's (neurons x positions) output.
        kind, order, _ = source
        return synthesize_fourier_modes(kind, order, u).T
    return t @ u.T


@functools.lru_cache(maxsize=2)
def _fourier_half_symbol(k: int, order: int) -> np.ndarray:
    """The Fourier operator's symbol on the real FFT's bins (read-only, cached:
    building it costs as much as one small descramble's FFTs)."""
    symbol = _fourier_symbol(k, order)[: k // 2 + 1].copy()
    symbol.flags.writeable = False
    return symbol


def _apply_builtin_operator(kind: str, order: int, p: np.ndarray) -> np.ndarray:
    """``D @ p`` for ``D = operator(kind, p.shape[0], order)``, without forming the product.

    ``"fourier"``: ``D`` is ``F^-1 diag(symbol) F`` by definition, applied by
    a real FFT along the rows (``O(k n log k)``). The finite-difference kinds
    have at most three entries per row: ``D``'s nonzeros, applied as a sparse
    product (``O(k n)``). Neither uses the closed-form eigenbasis.
    """
    k = p.shape[0]
    if kind == "fourier":
        symbol = _fourier_half_symbol(k, order)
        return np.fft.irfft(symbol[:, None] * np.fft.rfft(p, axis=0), n=k, axis=0)
    d = operator(kind, k, order)
    rows, cols = np.nonzero(d)
    y = np.zeros((d.shape[0], p.shape[1]))
    np.add.at(y, rows, d[rows, cols][:, None] * p[cols])
    return y


def _gram_of_rows(y: np.ndarray) -> np.ndarray:
    """``Y^T Y`` (n x n) for ``Y`` of shape (m, n), by a symmetric rank-m update.

    The core's syrk, not numpy's: OpenBLAS's worker threads keep spinning after
    a call and take a core from the eigensolver's threads of the next
    descramble.
    """
    return _core.syrk(for_core(y))


def _certified_objective(source: Any, p: np.ndarray, g: np.ndarray) -> float:
    """``tr(P^T L P G)`` of the returned ``P``, with ``L`` and ``G`` as given.

    With ``L = D^T D`` it is ``<G, Y^T Y>`` for ``Y = D P``: ``D`` applied by
    its definition (:func:`_apply_builtin_operator`, or the user's ``D``) and
    one symmetric rank-k update, ``k n^2`` flops. An ``Operator`` given by
    ``L`` alone: ``<L P, P G>``. Nothing here uses the eigen-factors ``T``
    and ``U`` that built ``P``, so a wrong ``P`` cannot agree with the bound.
    """
    # Overflow (G near the largest double) becomes inf or NaN; the caller
    # turns that into a clear error.
    with np.errstate(over="ignore", invalid="ignore"):
        if isinstance(source, Operator):
            if source.D is None:
                return float(np.vdot(source.L @ p, p @ g))
            y = source.D @ p
        else:
            kind, order, _ = source
            y = _apply_builtin_operator(kind, order, p)
        if 2 * y.shape[0] < y.shape[1]:
            # Leading-k descramblers of wide layers: <Y G, Y> in k x n memory,
            # where Y^T Y would be another n x n matrix beside G.
            return float(np.einsum("ij,ij->", y @ g, y))
        return float(np.einsum("ij,ij->", g, _gram_of_rows(y)))


def _result(
    p: np.ndarray,
    values: tuple[float, float, float],
    *,
    source: Any,
    spectra: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int],
    group: str,
    method: str,
    eigensolver: dict,
) -> Descrambling:
    """The result of either path: ``values`` is (objective, lower bound, gap),
    ``spectra`` is (lam, mu, T, U, n); the tie report is derived from them."""
    objective, lower_bound, gap = values
    lam, mu, t, u, n = spectra
    return Descrambling(
        P=p,
        objective=objective,
        lower_bound=lower_bound,
        gap=gap,
        ties={
            "smoothness": _smoothness_ties(source, lam),
            "data": _tied_blocks(mu, _computed_tie_tolerance(mu, n)),
        },
        lam=lam,
        mu=mu,
        T=t,
        U=u,
        group=group,
        method=method,
        eigensolver=eigensolver,
    )


def _descramble_sketch(
    sketch: Sketch, smoothness: Any, order: Any, center: bool, group: str, k: Any
) -> Descrambling:
    """The descrambler of the leading directions of a :class:`Sketch`'s approximation."""
    if group != "orthogonal":
        raise ValueError(
            f"group={group!r} needs the full n x n statistics: a Sketch gives the leading "
            "k directions only (use group='orthogonal', or Moments)"
        )
    kk = sketch.k if k is None else _check_k(k, sketch.n)
    if kk > sketch.k:
        raise ValueError(f"descramble: k = {kk} exceeds the sketch's k = {sketch.k}")
    n = sketch.n
    lam, t, source = _smoothness_basis(smoothness, order, kk, n)
    mu, u, report = sketch.leading(kk, center=center)
    # The objective of P on the sketch's approximation G_k = U diag(mu) U^T is
    # sum_i lam_i mu_i exactly: both refer to G_k, whose distance to G the
    # report's error estimate and bound measure.
    bound = float(lam @ mu)
    return _result(
        _descrambler(source, t, u),
        (bound, bound, 0.0),
        source=source,
        spectra=(lam, mu, t, u, n),
        group=group,
        method="closed form",
        eigensolver=report,
    )


def descramble(
    data: Any,
    smoothness: Any = "fourier",
    order: int | None = 2,
    center: bool = False,
    group: str = "orthogonal",
    k: int | None = None,
    *,
    eigensolver: str = "auto",
    tol: float = leading.DEFAULT_TOL,
) -> Descrambling:
    """The exact, certified descrambler of a hidden layer.

    Minimises the Tikhonov smoothness of the descrambled hidden data,
    ``||D P S||_F^2 = tr(P^T L P G)`` with ``L = D^T D`` and ``G = S S^T``, over
    orthogonal ``P``. The optimum is ``P = T U^T`` with ``L = T diag(lam) T^T``
    (``lam`` ascending) and ``G = U diag(mu) U^T`` (``mu`` descending): the
    ``i``-th principal direction goes to the ``i``-th smoothest mode, and von
    Neumann's trace inequality certifies ``sum_i lam_i mu_i`` as the minimum
    (Sule, Spencer, Czaja, ACHA 79 (2025) 101793, doi:10.1016/j.acha.2025.101793;
    criterion of Amey et al., PNAS 118(5) e2016917118 (2021),
    doi:10.1073/pnas.2016917118). It replaces their iterative optimisation
    (:func:`descramble.iterative.cayley`) with one eigendecomposition of ``G``.

    Parameters
    ----------
    data : Moments, Sketch, (N, n) array_like, or Gram
        A :class:`Sketch` gives the descrambler of its ``k`` leading directions
        (``k`` defaults to the sketch's); ``objective`` and ``lower_bound``
        then refer to the sketch's rank-``k`` approximation ``G_k`` and
        ``eigensolver`` holds the estimate and a probabilistic bound of
        ``||G - G_k||_F`` (:meth:`Sketch.leading`).
        The hidden data: a :class:`Moments` (anything with ``gram()`` and
        ``covariance()``), the samples (rows = samples, columns = neurons; the
        Gram matrix ``X^T X`` is formed in float64 -- stream large data through
        :class:`Moments` instead), or ``ds.Gram(G)`` for a ready ``n x n`` matrix.
    smoothness : str, (m, n) ndarray, or Operator
        A built-in kind (``"fourier"``, ``"periodic"``, ``"dirichlet"``,
        ``"neumann"``; see :mod:`descramble.smoothness`), a differentiation
        matrix ``D``, or ``ds.Operator(D=...)`` / ``ds.Operator(L=...)``.
    order : int
        Derivative order of a built-in kind. With a matrix or an Operator only
        the default (2, or None) is accepted: any other value is an error
        rather than silently ignored.
    center : bool
        Use the centred scatter matrix ``sum (x - m)(x - m)^T`` instead of the
        raw Gram matrix ``sum x x^T`` (the papers' code uses the raw one). The
        covariance is the scatter divided by ``N - ddof``: a scaling, which does
        not change ``P``. Not available for ``Gram`` input.
    group : {"orthogonal", "special", "permutation"}
        ``"orthogonal"``: ``P`` in O(n). ``"special"``: ``det P = +1``; when
        ``T U^T`` has determinant -1 the column of ``U`` paired with the largest
        ``lam`` (the roughest mode) is negated. Negating any column of ``U``
        keeps the objective (``u u^T`` is unchanged), so the optimum is the same;
        the roughest mode is picked because it is the least looked at.
        ``"permutation"``: ``P`` a permutation matrix, found by the assignment
        solver (:mod:`descramble.permutation`); ``lower_bound`` stays the
        orthogonal bound and ``gap`` certifies how far from optimal it can be.
    k : int, optional
        Keep only the ``k`` leading principal directions: ``P = T U_k^T`` is
        ``k x n``, with ``U_k`` the ``k`` leading eigenvectors of ``G`` (from
        ``eigh(G, k=k)``, cheaper than the full decomposition) and ``T`` the
        basis of the size-``k`` smoothness operator, so that ``P S`` is a smooth
        ``k``-component signal and ``P P^T = I_k``. It is the exact optimum, with
        bound ``sum_{i<k} lam_i mu_i``, among the orthonormal bases ``R U_k^T``
        (``R`` in O(k)) of the leading principal subspace, i.e. the descrambler
        of the projected data ``U_k^T S``. (Over *all* ``k x n`` matrices with
        orthonormal rows the weakest directions would be smoother still, which
        is not what one wants to read.) If ``mu[k-1]`` ties with the next
        eigenvalue the subspace itself is not determined by the data. Only with
        ``group="orthogonal"``; ``1 <= k <= n``. For ``k`` much smaller than
        ``n`` the pairs come from a block Krylov subspace iteration that never
        forms or copies an ``n x n`` matrix when ``data`` is a
        :class:`Moments` (see :mod:`descramble.leading`).
    eigensolver : {"auto", "subspace", "tridiagonal"}
        Solver of the ``k`` leading pairs: the cost model's choice, or forced.
        ``Descrambling.eigensolver`` reports which ran.
    tol : float
        Residual tolerance of the subspace iteration, relative to ``||G||``.

    Returns
    -------
    Descrambling
        ``P``, ``objective``, ``lower_bound``, ``gap``, ``ties``, ``lam``,
        ``mu``, ``T``, ``U``, ``group``, ``method`` and ``apply(W, side)``.

    Raises
    ------
    ValueError
        Non-finite or wrongly shaped data, mismatched sizes of data and
        operator, unknown kind or group, ``k`` out of range.
    TypeError
        Data or smoothness of an unsupported type.

    Examples
    --------
    >>> import numpy as np, descramble as ds
    >>> X = np.random.default_rng(0).standard_normal((500, 16))
    >>> r = ds.descramble(X, smoothness="fourier")
    >>> bool(abs(r.gap) < 1e-10)
    True
    """
    _check_group(group)
    if not isinstance(center, (bool, np.bool_)):
        raise TypeError(f"descramble: center must be True or False, got {type(center).__name__}")
    solver, tol = leading.check_method(eigensolver, tol, "descramble")
    if isinstance(data, Sketch):
        return _descramble_sketch(data, smoothness, order, bool(center), group, k)
    in_place = None
    if isinstance(data, Moments) and k is not None and group == "orthogonal":
        # Wide layers: the leading pairs straight from the statistics, without
        # the n x n copy that gram() would make.
        in_place = leading.moments_principal_pairs(
            data._core, _check_k(k, data.n), bool(center), method=solver, tol=tol
        )
    g = None if in_place is not None else gram_of(data, bool(center))
    n = data.n if g is None else g.shape[0]
    kk = _check_k(k, n)
    _check_square(group, kk, n)
    lam, t, source = _smoothness_basis(smoothness, order, kk, n)

    # mu descending, each column of u with its largest-magnitude entry positive.
    if in_place is not None:
        mu, u, report = in_place
    else:
        assert g is not None
        # g is a validated finite symmetric float64 matrix: straight to the
        # core solvers (ds.eigh would check it again).
        mu, u, report = leading.principal_pairs(for_core(g), kk, method=solver, tol=tol)

    method = "closed form"
    if group == "special" and _det_sign(source, t) * np.linalg.slogdet(u)[0] < 0:
        u[:, -1] = -u[:, -1]  # det P = det T det U; see the docstring for the choice

    with np.errstate(over="ignore", invalid="ignore"):
        lower_bound = float(lam @ mu)
    if group == "permutation":
        assert g is not None
        p, objective, method = _solve_permutation(source, g, lam, t, mu, u)
    else:
        p = _descrambler(source, t, u)
        if g is None:
            # Read in place from a Moments (no n x n array exists): u_i^T G u_i
            # from the solver's last product with G, not from its Ritz values.
            objective = float(lam @ report["quotients"])
        else:
            objective = _certified_objective(source, p, g)
    if not (np.isfinite(objective) and np.isfinite(lower_bound)):
        raise ValueError(
            "descramble: the objective overflows float64 (largest eigenvalue of G "
            f"{float(mu[0]):.3g}, of L {float(lam[-1]):.3g}); scale the data down, which "
            "does not change P"
        )

    scale = _rounding_scale(lam, mu)
    return _result(
        p,
        (objective, lower_bound, _relative_gap(objective, lower_bound, scale)),
        source=source,
        spectra=(lam, mu, t, u, n),
        group=group,
        method=method,
        eigensolver=report,
    )

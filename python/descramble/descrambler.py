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
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core, permutation
from ._validation import as_float_array, check_finite, symmetric_matrix, symmetrized
from .moments import Moments, _as_batch
from .smoothness import (
    FOURIER_MODE_KINDS,
    KINDS,
    Operator,
    _cached_basis,
    _synthesize_fourier_modes,
    check_arguments,
    operator,
)

__all__ = ["Descrambling", "Gram", "descramble"]

GROUPS = ("orthogonal", "special", "permutation")

#: Eigenvalues closer than this fraction of the spectrum's largest magnitude are
#: reported as tied (``Descrambling.ties``). Computed eigenvalues of G carry
#: errors of order ``n * eps * ||G||``; 1e-8 sits far above that and far below
#: any gap that changes the descrambler in a visible way.
TIE_RTOL = 1e-8

#: From this size on ``P = T U^T`` for Fourier-mode bases is synthesised by an
#: inverse real FFT; below it the FFT's fixed costs (spectrum assembly, the
#: pocketfft plan) exceed the ``2 n^3`` flops of the product (measured crossover
#: between n = 80 and n = 128 on a 2-core EPYC).
_FFT_MIN = 128

_EPS = float(np.finfo(np.float64).eps)

#: From this width on, the objective's symmetric product comes from the core's
#: multithreaded syrk instead of numpy's BLAS: OpenBLAS's worker threads keep
#: spinning after a call and take a core from the eigensolver's threads
#: (n = 1024: eigh 100 ms alone, 176 ms after a BLAS call). Below it numpy's
#: single-threaded syrk is the faster (n = 80: 25 us against 34 us).
_CORE_SYRK_MIN = 512


class Gram:
    """A ready ``n x n`` Gram matrix ``G = S S^T`` (the papers' hidden-data second moment).

    Use it when the hidden data's Gram matrix (or covariance: scaling ``G`` does
    not change the descrambler) was computed elsewhere:
    ``ds.descramble(ds.Gram(G))``. ``G`` must be real, finite and symmetric (to a
    relative ``1e-8``); it is stored symmetrised, ``(G + G^T) / 2``.
    """

    def __init__(self, G: Any) -> None:
        g = symmetric_matrix(G, "Gram")
        if g.shape[0] < 1:
            raise ValueError("Gram: expected an (n, n) matrix with n >= 1, got shape (0, 0)")
        self.matrix: np.ndarray = np.ascontiguousarray(symmetrized(g))

    @property
    def n(self) -> int:
        """Number of neurons."""
        return int(self.matrix.shape[0])

    def gram(self) -> np.ndarray:
        """The stored matrix (the same name as :meth:`Moments.gram`)."""
        return self.matrix

    def __repr__(self) -> str:
        return f"Gram(n={self.n})"


@dataclass(frozen=True, eq=False, repr=False)
class Descrambling:
    """Result of :func:`descramble`.

    Attributes
    ----------
    P : (k, n) ndarray
        The descrambler: row ``i`` maps the ``n`` neurons to the ``i``-th
        smoothest mode. Orthogonal when ``k == n``; ``P P^T = I_k`` otherwise.
    objective : float
        ``tr(P^T L P G) = ||D P S||_F^2``, evaluated from ``P``'s factors as
        ``sum_i lam_i u_i^T G u_i = <G, U diag(lam) U^T>`` (one symmetric
        product; equal to the trace because ``T^T L T = diag(lam)``), or from
        ``L`` and ``G`` directly for a permutation.
    lower_bound : float
        ``sum_i lam_i mu_i``: von Neumann's bound for every orthogonal (hence
        every permutation) ``P``; equals ``objective`` for the orthogonal groups.
        With ``k``: the bound over the bases of the leading principal subspace
        (see :func:`descramble`).
    gap : float
        ``(objective - lower_bound) / |lower_bound|``: the optimality certificate
        (rounding-level for orthogonal groups). When the bound is zero to
        rounding, 0 if the objective is zero to rounding too, otherwise ``inf``.
        "Rounding level" is about ``eps * sum(lam) * mu[0] / lower_bound``: each
        ``u_i^T G u_i`` is known to ``eps ||G||`` and weighted by ``lam_i``, which
        grows like ``k^4`` for second-order Fourier smoothness, so for wide layers
        with fast-decaying spectra it reaches ``1e-8`` (n = 2048) rather than
        ``1e-16``.
    ties : dict
        ``{"smoothness": [[i, j, ...], ...], "data": [[...], ...]}``: blocks of
        indices of tied eigenvalues (relative tolerance :data:`TIE_RTOL` of the
        spectrum's largest magnitude) of ``L`` (positions in ``lam``, rows of
        ``P``) and of ``G`` (positions in ``mu``, columns of ``U``). Any rotation
        inside a block gives another optimum: the data does not determine it.
        (Each column's sign is never determined; see ``U``.)
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


def _is_moments(data: Any) -> bool:
    return callable(getattr(data, "gram", None)) and callable(getattr(data, "covariance", None))


def _gram_of(data: Any, center: bool) -> np.ndarray:
    """The n x n second-moment matrix the descrambler diagonalises."""
    if isinstance(data, Gram):
        if center:
            raise ValueError(
                "center=True needs the sample mean, which a Gram matrix does not carry: "
                "pass a Moments or the samples, or centre G yourself and pass center=False"
            )
        return data.matrix
    if isinstance(data, Moments):
        # The core's state is finite (it rejects |x| > 1e100) and its matrices
        # are mirrored from one triangle: exactly symmetric, nothing to check.
        return data.scatter() if center else data.gram()
    if _is_moments(data):
        if center:
            scatter = getattr(data, "scatter", None)
            if callable(scatter):
                g = scatter()
            else:
                # covariance(ddof=0) * count is the centred scatter matrix.
                g = np.asarray(data.covariance(ddof=0)) * float(data.count)
            name = "Moments scatter"
        else:
            g = data.gram()
            name = "Moments gram"
        g = symmetric_matrix(g, name)
        if g.shape[0] < 1:
            raise ValueError(f"{name}: the Moments has no neurons (n = 0)")
        return symmetrized(g)
    if isinstance(data, (str, bytes)) or data is None:
        raise TypeError(
            "descramble: data must be a Moments, an (N, n) sample array or ds.Gram(G), "
            f"got {type(data).__name__}"
        )
    return _gram_of_samples(data, center)


def _gram_of_samples(data: Any, center: bool) -> np.ndarray:
    """``X^T X`` (or the centred scatter) of an ``(N, n)`` sample array, in float64."""
    name = "descramble data (samples)"
    arr = np.asarray(data)
    # float32 stays float32 on the core path, which converts it panel by panel.
    x = as_float_array(
        arr, name, ndim=2, dtype=np.float32 if arr.dtype == np.float32 else np.float64
    )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(
            f"{name}: expected an (N, n) array with N >= 1 samples and n >= 1 neurons, "
            f"got shape {x.shape}"
        )
    # The core's streaming statistics: its syrk (faster than numpy's at every
    # width, and multithreaded without OpenBLAS), centring without a copy, and
    # the row of a NaN or of a value beyond 1e100 named in the error.
    try:
        return _core_gram(x, center)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _core_gram(x: np.ndarray, center: bool = False) -> np.ndarray:
    """``X^T X`` (or the centred scatter) of the rows of ``x``, from the core's syrk."""
    stats = _core.Moments(x.shape[1])
    stats.update(_as_batch(x, x.shape[1]))
    return stats.scatter() if center else stats.gram()


def _check_k(k: Any, n: int) -> int:
    if k is None:
        return n
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"descramble: k must be an integer or None, got {type(k).__name__}")
    if not 1 <= k <= n:
        raise ValueError(f"descramble: k must satisfy 1 <= k <= n = {n}, got {k}")
    return int(k)


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
        lam, t = _cached_basis(smoothness, size, order)
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


def _tied_blocks(values: np.ndarray, rtol: float) -> list[list[int]]:
    """Runs of consecutive (sorted) values within ``rtol * max|values|`` of each other."""
    if values.size < 2:
        return []
    # Sorted values: the largest magnitude sits at one end.
    tol = rtol * max(abs(float(values[0])), abs(float(values[-1])))
    close = np.abs(values[1:] - values[:-1]) <= tol  # close[i]: values i and i + 1 are tied
    if not close.any():
        return []  # the common case for data spectra: no Python-level work at all
    # Runs of True in `close` start and end where the padded mask changes value;
    # a run covering close[a:b] is the tied block of values a .. b.
    edges = np.flatnonzero(np.diff(np.concatenate(([False], close, [False])).astype(np.int8)))
    starts, stops = edges[::2].tolist(), edges[1::2].tolist()
    return [list(range(a, b + 1)) for a, b in zip(starts, stops, strict=True)]


def _rounding_scale(lam: np.ndarray, mu: np.ndarray, n: int) -> float:
    """Size of the rounding error of ``sum_i lam_i mu_i`` and of the objective."""
    if lam.size == 0:
        return 0.0
    # Both are sorted: the largest magnitude sits at one end.
    lam_max = max(abs(float(lam[0])), abs(float(lam[-1])))
    mu_max = max(abs(float(mu[0])), abs(float(mu[-1])))
    return 16.0 * n * _EPS * lam_max * mu_max


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
    return float(np.linalg.slogdet(_cached_basis(kind, size, order)[1])[0])


def _det_sign(source: Any, t: np.ndarray) -> float:
    """``sign(det T)``; cached for built-in kinds, whose ``T`` is fixed by its key."""
    if isinstance(source, tuple):
        return _builtin_det_sign(*source)
    return float(np.linalg.slogdet(t)[0])


@functools.lru_cache(maxsize=2)
def _builtin_ties(kind: str, order: int, size: int) -> tuple[tuple[int, ...], ...]:
    lam = _cached_basis(kind, size, order)[0]
    return tuple(tuple(block) for block in _tied_blocks(lam, TIE_RTOL))


def _smoothness_ties(source: Any, lam: np.ndarray) -> list[list[int]]:
    """Tied blocks of ``lam``; cached for built-in kinds (fresh lists: the result owns them)."""
    if isinstance(source, tuple):
        return [list(block) for block in _builtin_ties(*source)]
    return _tied_blocks(lam, TIE_RTOL)


def _descrambler(source: Any, t: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``P = T U^T``; ``source`` as returned by :func:`_smoothness_basis`."""
    if isinstance(source, tuple) and source[0] in FOURIER_MODE_KINDS and t.shape[0] >= _FFT_MIN:
        # Column b of P is the signal whose coefficients in the Fourier modes are
        # U[b, :]: an inverse real FFT, O(n^2 log n) instead of a matrix product.
        # P is the transpose of the FFT's (neurons x positions) output.
        kind, order, _ = source
        return _synthesize_fourier_modes(kind, order, u).T
    return t @ u.T


def _objective(lam: np.ndarray, g: np.ndarray, u: np.ndarray) -> float:
    """``tr(P^T L P G)`` of ``P = T U^T``, from the factors.

    ``tr(P^T L P G) = tr(diag(lam) U^T G U)`` since ``T^T L T = diag(lam)``:
    ``sum_i lam_i u_i^T G u_i``, one product instead of forming ``P G P^T``
    (two n^3 products). With ``lam >= 0`` (every ``L = D^T D``) it is
    ``<G, W W^T>`` for ``W = U diag(sqrt(lam))``: ``W W^T`` is a symmetric rank-k
    update (BLAS syrk, half the flops of ``G @ U``) and the rounding bound is the
    same, ``eps n sum_i lam_i |u_i|^T |G| |u_i|``.
    """
    if lam.size and float(lam.min()) >= 0.0:
        w = u * np.sqrt(lam)
        n = g.shape[0]
        if n >= _CORE_SYRK_MIN:
            # W W^T = sum_l w_l w_l^T is the Gram matrix of W's columns: the
            # core's syrk, and einsum's single-threaded loop instead of BLAS's
            # dot, leave OpenBLAS's threads asleep. Woken, they spin for a while
            # and halve the speed of the next eigensolver call.
            return float(np.einsum("ij,ij->", g, _core_gram(w.T)))
        # numpy hands ``w @ w.T`` (one buffer, transposed) to syrk.
        return float(np.vdot(g, w @ w.T))
    return float(lam @ np.einsum("ij,ij->j", g @ u, u))


def descramble(
    data: Any,
    smoothness: Any = "fourier",
    order: int | None = 2,
    center: bool = False,
    group: str = "orthogonal",
    k: int | None = None,
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
    data : Moments, (N, n) array_like, or Gram
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
        ``group="orthogonal"``; ``1 <= k <= n``.

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
    g = _gram_of(data, bool(center))
    n = g.shape[0]
    kk = _check_k(k, n)
    _check_square(group, kk, n)
    lam, t, source = _smoothness_basis(smoothness, order, kk, n)

    # g is a validated finite symmetric float64 matrix: straight to the core
    # solver (ds.eigh would check it again). The core returns mu descending and
    # each column of u with its largest-magnitude entry positive.
    mu, u = _core.principal_eigh(g, kk)

    method = "closed form"
    if group == "special" and _det_sign(source, t) * np.linalg.slogdet(u)[0] < 0:
        u[:, -1] = -u[:, -1]  # det P = det T det U; see the docstring for the choice

    lower_bound = float(lam @ mu)
    if group == "permutation":
        p, objective, method = _solve_permutation(source, g, lam, t, mu, u)
    else:
        p = _descrambler(source, t, u)
        objective = _objective(lam, g, u)

    scale = _rounding_scale(lam, mu, n)
    return Descrambling(
        P=p,
        objective=objective,
        lower_bound=lower_bound,
        gap=_relative_gap(objective, lower_bound, scale),
        ties={"smoothness": _smoothness_ties(source, lam), "data": _tied_blocks(mu, TIE_RTOL)},
        lam=lam,
        mu=mu,
        T=t,
        U=u,
        group=group,
        method=method,
    )

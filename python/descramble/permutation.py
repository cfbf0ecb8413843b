"""Permutation descramblers: the smoothness criterion over permutation matrices.

Over permutations ``P`` (``P[i, p[i]] = 1``; the descrambled data is ``P @ S``
for hidden data ``S`` of shape ``(n, N)``, i.e. row ``i`` of the result is
neuron ``p[i]``) the descrambling objective

    tr(P^T L P G) = sum_ij L[i, j] G[p[i], p[j]],     G = S S^T,

is a Koopmans-Beckmann quadratic assignment problem (NP-hard in general).
Every permutation is orthogonal, so the orthogonal optimum
``sum_i lam_i mu_i`` (``lam`` ascending eigenvalues of L, ``mu`` descending
eigenvalues of G) is a lower bound (Sule, Spencer, Czaja, Appl. Comput. Harmon.
Anal. 79 (2025) 101793, doi:10.1016/j.acha.2025.101793; the descrambler groups
of Amey et al., PNAS 118 (2021) e2016917118, doi:10.1073/pnas.2016917118).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .assignment import linear_sum_assignment
from .qap import quadratic_assignment

__all__ = ["permutation_objective", "solve_permutation"]

METHOD_EXACT = "exact (linear assignment)"
METHOD_BOUND = "exact (attains the lower bound)"
METHOD_PROJECTION = "projection"
METHOD_PROJECTION_2OPT = "projection+2opt"
METHOD_FAQ = "faq+2opt"


def permutation_objective(L: np.ndarray, G: np.ndarray, perm: np.ndarray) -> float:
    """``tr(P^T L P G) = sum_ij L[i, j] G[perm[i], perm[j]]`` for ``P[i, perm[i]] = 1``."""
    return float(np.sum(L * G[np.ix_(perm, perm)]))


def _row_col_plus_diagonal(
    M: np.ndarray, rtol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(u, v)`` with ``M[i, j] = u[i] + v[j]`` for every ``i != j`` (to ``rtol``), else None.

    The diagonal is free. Off-diagonal row sums ``R_i = (n-1) u_i + V - v_i``
    and column sums ``C_i = U - u_i + (n-1) v_i`` (``U, V`` the sums of u, v)
    determine u and v once the gauge ``U = 0`` is fixed (then
    ``V = sum(C) / (n-1)``): a 2 x 2 system per index, solvable for ``n >= 3``.
    The fit is then checked entry by entry. Diagonal M is ``u = v = 0``;
    diagonal plus a constant c is ``u = 0, v = c``.
    """
    n = M.shape[0]
    if n <= 2:  # at most two off-diagonal entries for two free parameters
        u = np.array([M[0, 1], M[1, 0]]) if n == 2 else np.zeros(n)
        return u, np.zeros(n)
    off = M - np.diag(np.diag(M))
    R, C = off.sum(axis=1), off.sum(axis=0)
    V = float(C.sum()) / (n - 1)
    det = float(n * (n - 2))
    u = ((n - 1) * (R - V) + C) / det
    v = ((R - V) + (n - 1) * C) / det
    fit = off - u[:, None] - v[None, :]
    np.fill_diagonal(fit, 0.0)
    scale = float(np.max(np.abs(M))) or 1.0
    if float(np.max(np.abs(fit))) <= rtol * scale:
        return u, v
    return None


def _exact_linear(L: np.ndarray, G: np.ndarray) -> np.ndarray | None:
    """The optimal permutation when the QAP reduces to a linear assignment.

    If ``L[i, j] = u_i + v_j`` off the diagonal (L diagonal, diagonal plus a
    constant, or diagonal plus ``u 1^T + 1 v^T``), then with ``r, s`` the row
    and column sums of G

        sum_ij L_ij G_{p(i) p(j)} = sum_i [(L_ii - u_i - v_i) G_{p(i) p(i)}
                                           + u_i r_{p(i)} + v_i s_{p(i)}],

    a LAP with cost ``C[i, k] = (L_ii - u_i - v_i) G_kk + u_i r_k + v_i s_k``.
    If G has that form instead, the same holds with the roles of L and G
    exchanged (``sum_kl L_{q(k) q(l)} G_kl``, ``q = p^{-1}``).
    """
    fit = _row_col_plus_diagonal(L)
    if fit is not None:
        u, v = fit
        cost = (
            np.outer(np.diag(L) - u - v, np.diag(G))
            + np.outer(u, G.sum(axis=1))
            + np.outer(v, G.sum(axis=0))
        )
        return linear_sum_assignment(cost)[1]
    fit = _row_col_plus_diagonal(G)
    if fit is None:
        return None
    u, v = fit
    # cost[i, k]: L index i takes G index k, i.e. q(k) = i and p(i) = k.
    cost = (
        np.outer(np.diag(L), np.diag(G) - u - v)
        + np.outer(L.sum(axis=1), u)
        + np.outer(L.sum(axis=0), v)
    )
    return linear_sum_assignment(cost)[1]


def _attains_bound(L: np.ndarray, G: np.ndarray, f: float) -> bool:
    """True if the objective ``f`` equals the orthogonal lower bound (to rounding).

    Every permutation is orthogonal, so ``f >= sum_i lam_i mu_i`` (ascending
    times descending eigenvalues) for every permutation; a permutation that
    reaches it is optimal. The eigenvalues are recomputed here, so the claim
    does not rest on the caller's ``lam`` and ``mu``. The tolerance is a few
    hundred ulps of ``sum_i |lam_i mu_i|`` per neuron, far above the rounding of
    the objective and of the eigenvalues (backward-stable ``eigvalsh``) and far
    below any gap a suboptimal permutation of a generic instance leaves.
    """
    lam = np.linalg.eigvalsh(L)
    mu = np.linalg.eigvalsh(G)[::-1]
    bound = float(lam @ mu)
    scale = float(np.abs(lam) @ np.abs(mu)) + float(np.abs(L).sum() * np.abs(G).max())
    return f <= bound + 256 * L.shape[0] * np.finfo(float).eps * scale


def _tied_blocks(values: np.ndarray, rtol: float = 1e-9) -> list[np.ndarray]:
    """Index blocks of (numerically) equal consecutive sorted values."""
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    cuts = np.flatnonzero(np.abs(np.diff(values)) > rtol * max(scale, 1e-300)) + 1
    return [b for b in np.split(np.arange(values.size), cuts) if b.size]


def _aligned_projection(
    lam: np.ndarray,
    T: np.ndarray,
    mu: np.ndarray,
    U: np.ndarray,
    shift: int,
    iters: int = 6,
) -> list[np.ndarray]:
    """Permutations near ``T_s R D U^T`` with R re-fitted to the permutation.

    The orthogonal optimum is only defined up to a rotation ``R`` inside every
    block of tied eigenvalues of L (and up to signs), and rounding ``T U^T`` for
    an arbitrary choice of R is poor. We alternate: ``p`` = the LAP maximising
    ``<P, T_s R D U^T>``, then R = the block-orthogonal Procrustes fit
    ``argmax_R <P_p, T_s R D U^T>``. ``D = diag(sqrt(mu))`` weights principal
    components by their energy; ``shift = 1`` pairs the k-th component with
    the (k+1)-th smoothest mode, which skips the constant mode (centred data
    has no energy there).

    Coarse to fine: first only the leading block of modes (for one mode this
    is spectral seriation, sorting by the leading component; for a cos/sin
    pair it orders the neurons by angle, whatever R is), then twice as many
    modes at each stage, warm-started, so the rotations are fitted where the
    permutation is already nearly right.
    """
    n = T.shape[0]
    r_all = n - shift
    Ts = T[:, shift:]
    Ud = U[:, :r_all] * np.sqrt(np.clip(mu[:r_all], 0.0, None))
    blocks = _tied_blocks(lam[shift:])
    ends = np.cumsum([b.size for b in blocks])
    stages = []
    r = int(ends[0])
    while True:
        stages.append(r)
        if r >= r_all:
            break
        r = int(ends[np.searchsorted(ends, min(2 * r, r_all))])
    # Blocks grouped by size, so that the block-diagonal products and the
    # Procrustes fits run as batched array operations (O(n r) per iteration
    # besides the one n x n x r product that forms the LAP's matrix).
    groups: dict[int, list[np.ndarray]] = {}
    for blk in blocks:
        groups.setdefault(blk.size, []).append(blk)
    stacked = {size: np.stack(bs) for size, bs in groups.items()}
    R = {
        size: np.broadcast_to(np.eye(size), (len(idx), size, size)).copy()
        for size, idx in stacked.items()
    }
    seen: list[np.ndarray] = []
    for r in stages:
        active = {size: idx[idx[:, 0] < r] for size, idx in stacked.items()}
        prev = None
        for _ in range(iters):
            TR = np.zeros((n, r))
            for size, idx in active.items():
                if len(idx):
                    TR[:, idx] = np.einsum("nks,kst->nkt", Ts[:, idx], R[size][: len(idx)])
            M = TR @ Ud[:, :r].T
            perm = linear_sum_assignment(M, maximize=True)[1]
            if prev is not None and np.array_equal(perm, prev):
                break
            seen.append(perm)
            prev = perm
            # <P_p, T R D U^T> = sum_b <R_b, T_b^T (D U^T)_b[p]>: each block's R
            # is the orthogonal polar factor of its own Z_b (Procrustes).
            Up = Ud[perm]
            for size, idx in active.items():
                if len(idx):
                    Z = np.einsum("nks,nkt->kst", Ts[:, idx], Up[:, idx])
                    W, _, Vt = np.linalg.svd(Z)
                    R[size][: len(idx)] = W @ Vt
    return seen


def _projections(
    L: np.ndarray, G: np.ndarray, lam: np.ndarray, T: np.ndarray, mu: np.ndarray, U: np.ndarray
) -> list[np.ndarray]:
    """Candidate permutations rounded from the orthogonal optimum ``P_orth = T U^T``.

    Sign-free roundings first: the LAP maximising ``sum_i P_orth[i, p(i)]^2``
    (squared entries of an orthogonal matrix form a doubly stochastic matrix)
    and Umeyama's ``|T| |U|^T`` (IEEE TPAMI 10 (1988) 695,
    doi:10.1109/34.6778); then the rotation-aligned roundings of
    :func:`_aligned_projection`, with and without the smoothest mode.
    """
    n = T.shape[0]
    P_orth = T @ U.T
    out = [
        linear_sum_assignment(P_orth * P_orth, maximize=True)[1],
        linear_sum_assignment(np.abs(T) @ np.abs(U).T, maximize=True)[1],
    ]
    for shift in (0, 1) if n > 1 else (0,):
        out.extend(_aligned_projection(lam, T, mu, U, shift))
    return out


def solve_permutation(
    L: Any,
    G: Any,
    *,
    lam: Any,
    T: Any,
    mu: Any,
    U: Any,
    max_swaps: int | None = None,
    rng: Any = 0,
) -> tuple[np.ndarray, float, str]:
    """Best permutation descrambler found for ``tr(P^T L P G)``.

    Parameters
    ----------
    L : (n, n) array_like
        Symmetric smoothness operator ``D^T D``.
    G : (n, n) array_like
        Symmetric Gram matrix ``S S^T`` of the hidden data ``S`` (n neurons x N samples).
    lam, T : (n,) and (n, n) array_like
        Eigenvalues of ``L`` in ascending order and the eigenvectors (columns).
    mu, U : (n,) and (n, n) array_like
        Eigenvalues of ``G`` in descending order and the eigenvectors (columns).
    max_swaps : int, optional
        Cap on the 2-opt exchanges of each refinement (default
        ``max(16, min(4 n, 2**24 // n**2))``: about 2^28 flops per run).
    rng : None, int or Generator
        Seed of the FAQ's random tie handling (only used by its options).

    Returns
    -------
    P : (n, n) ndarray
        Permutation matrix (float64) with ``P[i, p[i]] = 1``: the descrambled
        data is ``P @ S`` and the descrambled weights ``P @ W``.
    objective : float
        ``tr(P^T L P G)``; never below ``sum_i lam_i mu_i`` (the orthogonal
        optimum, a lower bound for every permutation).
    method : str
        ``"exact (linear assignment)"`` when L or G is diagonal, up to
        ``u 1^T + 1 v^T`` (every off-diagonal entry ``u_i + v_j``, e.g. a
        constant): the problem is then a LAP and the answer is optimal.
        ``"exact (attains the lower bound)"`` when the permutation found
        reaches ``sum_i lam_i mu_i`` (eigenvalues recomputed for the check), so
        no permutation can be better: e.g. when G is a decreasing function of
        L (a common eigenbasis, ascending lam paired with descending mu),
        scrambled or not. Otherwise the best of ``"projection"`` (the
        orthogonal optimum rounded to a permutation by LAPs),
        ``"projection+2opt"`` (that rounding refined by 2-opt exchanges) and
        ``"faq+2opt"`` (Frank-Wolfe from that rounding, and for n <= 128
        from the barycenter, each refined by 2-opt); a heuristic, whose
        optimality gap is measured against the lower bound.

    Notes
    -----
    A common eigenbasis alone does not make the problem easy: if L and G
    commute (``L = Q diag(a) Q^T``, ``G = Q diag(b) Q^T``), the identity gives
    ``sum_i a_i b_i`` in Q's pairing, which is the bound only when that pairing
    is ascending against descending. Circulant L and G (the Fourier operator
    and shift-invariant data) commute with every cyclic shift, so shifts and
    reflections tie, but with any other pairing the problem over permutations
    remains a QAP (no LAP reduction is known), solved heuristically here. Q a
    signed permutation means L and G are both diagonal: the LAP case.

    Cost: the rounding runs ``O(log n)`` coarse-to-fine stages of a few LAPs
    and ``n x n x r`` products each (``O(n^3 log n)`` in all); FAQ adds 30
    iterations of one ``n^3`` product and one LAP; each 2-opt run is capped at
    about ``2^28`` flops.

    Sule, Spencer, Czaja, Appl. Comput. Harmon. Anal. 79 (2025) 101793,
    doi:10.1016/j.acha.2025.101793 (the exact orthogonal solution and its
    bound); Vogelstein et al., PLoS ONE 10 (2015) e0121002,
    doi:10.1371/journal.pone.0121002 (FAQ).
    """
    L = np.asarray(L, dtype=np.float64)
    G = np.asarray(G, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    U = np.asarray(U, dtype=np.float64)
    n = L.shape[0]
    for name, M in (("L", L), ("G", G), ("T", T), ("U", U)):
        if M.shape != (n, n):
            raise ValueError(f"solve_permutation: {name} must have shape ({n}, {n}), got {M.shape}")
    for name, v in (("lam", lam), ("mu", mu)):
        if np.shape(v) != (n,):
            raise ValueError(f"solve_permutation: {name} must have shape ({n},), got {np.shape(v)}")
    if n == 0:
        return np.zeros((0, 0)), 0.0, METHOD_EXACT

    exact = _exact_linear(L, G)
    if exact is not None:
        return np.eye(n)[exact], permutation_objective(L, G, exact), METHOD_EXACT

    # Each 2-opt exchange costs ~16 n^2 flops: by default a run is capped at
    # about 2^28 of them (and 4 n exchanges), so large layers stay fast.
    swaps = max(16, min(4 * n, 2**24 // n**2)) if max_swaps is None else int(max_swaps)
    # The identity joins the candidates: when L and G share an eigenbasis
    # that pairs ascending lam with descending mu (e.g. G a decreasing
    # function of L), it reaches the lower bound.
    candidates_p = [np.arange(n), *_projections(L, G, lam, T, mu, U)]
    best_proj = min(candidates_p, key=lambda p: permutation_objective(L, G, p))
    f_proj = permutation_objective(L, G, best_proj)
    if _attains_bound(L, G, f_proj):
        return np.eye(n)[best_proj], f_proj, METHOD_BOUND

    # Refinements: 2-opt from the projection, and FAQ (from the projection and
    # from the barycenter, scipy's default) followed by 2-opt.
    candidates = []
    # A Generator: quadratic_assignment reads ints and None as scipy does (a
    # RandomState, with scipy's transition warnings).
    if not isinstance(rng, np.random.Generator | np.random.RandomState):
        rng = np.random.default_rng(rng)
    two_opt = {"maxiter": swaps, "rng": rng}
    ref = quadratic_assignment(L, G, method="2opt-steepest", options={"P0": best_proj, **two_opt})
    candidates.append((float(ref.fun), 0, ref.col_ind, METHOD_PROJECTION_2OPT))
    # The barycenter start is skipped for large n: when L annihilates the
    # constant vector the barycenter minimises the relaxation and FAQ stays
    # there, so the start only pays on small problems.
    starts: list[Any] = [np.eye(n)[best_proj]] + (["barycenter"] if n <= 128 else [])
    for k, P0 in enumerate(starts):
        faq = quadratic_assignment(L, G, method="faq", options={"P0": P0, "rng": rng})
        ref = quadratic_assignment(
            L, G, method="2opt-steepest", options={"P0": faq.col_ind, **two_opt}
        )
        candidates.append((float(ref.fun), 1 + k, ref.col_ind, METHOD_FAQ))
    f_best, _, perm, method = min(candidates, key=lambda c: (c[0], c[1]))

    # Prefer the simpler answer unless a refinement is strictly better
    # (beyond rounding of the objective).
    tol = 1e-12 * max(abs(f_proj), 1.0)
    if f_best < f_proj - tol:
        f_best = permutation_objective(L, G, perm)
        return np.eye(n)[perm], f_best, METHOD_BOUND if _attains_bound(L, G, f_best) else method
    return np.eye(n)[best_proj], f_proj, METHOD_PROJECTION

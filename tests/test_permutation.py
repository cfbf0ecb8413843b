"""Permutation descramblers: brute force, exact reductions, planted scrambles.

Convention under test: ``P[i, p[i]] = 1``, the descrambled data is ``P @ S``
(``S`` is neurons x samples) and the objective is ``tr(P^T L P G)`` with
``G = S S^T``.
"""

import itertools

import numpy as np
import pytest

from descramble.permutation import permutation_objective, solve_permutation


def fourier_L(n):
    """L = D^T D for the second-order Fourier differentiation matrix (fourdif's closed form)."""
    h = 2 * np.pi / n
    k = np.arange(1, n)
    if n % 2 == 0:
        c = np.concatenate(
            [[-(np.pi**2) / (3 * h**2) - 1 / 6], -0.5 * (-1.0) ** k / np.sin(k * h / 2) ** 2]
        )
    else:
        c = np.concatenate(
            [
                [-(np.pi**2) / (3 * h**2) + 1 / 12],
                -0.5 * (-1.0) ** k / (np.sin(k * h / 2) * np.tan(k * h / 2)),
            ]
        )
    D = c[np.abs(np.subtract.outer(np.arange(n), np.arange(n)))]
    return D.T @ D


def neumann_L(n):
    """L = D^T D for the second difference with reflecting (Neumann) ends."""
    D = -2 * np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)
    D[0, 0] = D[-1, -1] = -1
    return D.T @ D


def spectra(L, G):
    lam, T = np.linalg.eigh(L)  # ascending
    mu, U = np.linalg.eigh(G)
    return lam, T, mu[::-1], U[:, ::-1]  # G's descending


def solve(L, G):
    lam, T, mu, U = spectra(L, G)
    P, obj, method = solve_permutation(L, G, lam=lam, T=T, mu=mu, U=U)
    return P, obj, method, float(lam @ mu)


def brute_force(L, G):
    n = len(L)
    perms = np.array(list(itertools.permutations(range(n))))
    vals = np.einsum("ij,pij->p", L, G[perms[:, :, None], perms[:, None, :]])
    return float(vals.min())


def check_permutation_matrix(P):
    n = P.shape[0]
    assert P.shape == (n, n) and P.dtype == np.float64
    np.testing.assert_array_equal(P.sum(axis=0), np.ones(n))
    np.testing.assert_array_equal(P.sum(axis=1), np.ones(n))
    assert set(np.unique(P)) <= {0.0, 1.0}


def random_gram(rng, n):
    S = rng.standard_normal((n, 3 * n))
    return S @ S.T


def test_objective_convention():
    rng = np.random.default_rng(0)
    n = 6
    S = rng.standard_normal((n, 20))
    L, G = fourier_L(n), S @ S.T
    P, obj, _, _ = solve(L, G)
    perm = P.argmax(axis=1)
    D = np.linalg.cholesky(L + 1e-9 * np.eye(n)).T  # any D with D^T D = L
    assert obj == pytest.approx(np.trace(P.T @ L @ P @ G), rel=1e-10)
    assert obj == pytest.approx(permutation_objective(L, G, perm), rel=1e-12)
    # tr(P^T L P G) = ||D P S||_F^2 up to the 1e-9 regularisation
    assert obj == pytest.approx(np.linalg.norm(D @ P @ S) ** 2, rel=1e-6)
    np.testing.assert_array_equal(P @ S, S[perm])


@pytest.mark.parametrize("n", range(2, 9))
def test_brute_force_and_lower_bound(n):
    """Never below the bound; optimal on most small instances (a heuristic otherwise)."""
    rng = np.random.default_rng(n)
    optimal = 0
    trials = 8 if n <= 7 else 4
    for t in range(trials):
        L = fourier_L(n) if t % 2 == 0 else neumann_L(n)
        G = random_gram(rng, n)
        P, obj, method, bound = solve(L, G)
        check_permutation_matrix(P)
        best = brute_force(L, G)
        assert obj >= best - 1e-9 * abs(best)
        assert best >= bound - 1e-9 * abs(bound)
        # n <= 3: every off-diagonal entry of these L is equal, an exact case.
        assert method in (
            "exact (linear assignment)",
            "exact (attains the lower bound)",
            "projection",
            "projection+2opt",
            "faq+2opt",
        )
        if method.startswith("exact"):
            assert obj == pytest.approx(best, rel=1e-9)
        optimal += obj <= best + 1e-9 * abs(best)
    if n <= 4:
        assert optimal == trials
    else:
        assert optimal >= trials // 2


@pytest.mark.parametrize(
    "which", ["L-diagonal", "G-diagonal", "L-diag-plus-constant", "G-diag-plus-constant"]
)
@pytest.mark.parametrize("n", [1, 3, 6, 7])
def test_exact_linear_assignment_cases(which, n):
    rng = np.random.default_rng([n, len(which)])
    L, G = fourier_L(n) if n > 1 else np.ones((1, 1)), random_gram(rng, n)
    if which == "L-diagonal":
        L = np.diag(rng.random(n))
    elif which == "G-diagonal":
        G = np.diag(rng.random(n))
    elif which == "L-diag-plus-constant":
        L = np.diag(rng.random(n)) + 0.3
    else:
        G = np.diag(rng.random(n)) - 0.7
    P, obj, method, bound = solve(L, G)
    check_permutation_matrix(P)
    assert method == "exact (linear assignment)"
    assert obj == pytest.approx(brute_force(L, G), rel=1e-12, abs=1e-12)
    assert obj >= bound - 1e-9 * max(abs(bound), 1)


def test_diagonal_both_is_the_rearrangement_inequality():
    # sum_i l_i g_p(i) is least when the largest l meets the smallest g.
    rng = np.random.default_rng(3)
    l, g = rng.random(50), rng.random(50)
    P, obj, method, bound = solve(np.diag(l), np.diag(g))
    assert method == "exact (linear assignment)"
    assert obj == pytest.approx(np.sort(l) @ np.sort(g)[::-1], rel=1e-12)
    # Both diagonal: the permutation optimum equals the orthogonal one.
    assert obj == pytest.approx(bound, rel=1e-12)


def test_empty_and_errors():
    P, obj, method = solve_permutation(
        np.zeros((0, 0)),
        np.zeros((0, 0)),
        lam=np.zeros(0),
        T=np.zeros((0, 0)),
        mu=np.zeros(0),
        U=np.zeros((0, 0)),
    )
    assert P.shape == (0, 0) and obj == 0.0
    with pytest.raises(ValueError, match=r"G must have shape \(3, 3\), got \(2, 2\)"):
        solve_permutation(
            np.eye(3), np.eye(2), lam=np.ones(3), T=np.eye(3), mu=np.ones(3), U=np.eye(3)
        )
    with pytest.raises(ValueError, match=r"mu must have shape \(3,\), got \(2,\)"):
        solve_permutation(
            np.eye(3), np.eye(3), lam=np.ones(3), T=np.eye(3), mu=np.ones(2), U=np.eye(3)
        )


# --- planted scrambles -----------------------------------------------------


def smooth_periodic_data(rng, n, samples, modes=4, noise=0.01):
    """Hidden data whose neuron-to-neuron correlation is a smooth periodic function."""
    x = 2 * np.pi * np.arange(n) / n
    basis = np.concatenate([np.stack([np.cos(k * x), np.sin(k * x)]) for k in range(1, modes + 1)])
    decay = np.repeat(np.arange(1, modes + 1), 2)[:, None] ** 1.5
    coef = rng.standard_normal((2 * modes, samples)) / decay
    return basis.T @ coef + noise * rng.standard_normal((n, samples))


def smooth_open_data(rng, n, samples, modes=4, noise=0.01):
    """Smooth hidden data on an interval: cosine (DCT-II) modes, reflecting ends."""
    x = np.pi * (np.arange(n) + 0.5) / n
    basis = np.stack([np.cos(k * x) for k in range(1, modes + 1)])
    coef = rng.standard_normal((modes, samples)) / np.arange(1, modes + 1)[:, None] ** 1.5
    return basis.T @ coef + noise * rng.standard_normal((n, samples))


def dihedral(order):
    """True if ``order`` is a cyclic shift of 0..n-1, possibly reflected."""
    n = len(order)
    forward = (order - order[0]) % n
    backward = (order[0] - order) % n
    return np.array_equal(forward, np.arange(n)) or np.array_equal(backward, np.arange(n))


def reflection(order):
    n = len(order)
    return np.array_equal(order, np.arange(n)) or np.array_equal(order, np.arange(n)[::-1])


@pytest.mark.parametrize("n", [16, 33, 64])
def test_planted_scramble_fourier_recovered_up_to_dihedral_symmetry(n):
    rng = np.random.default_rng(n)
    S = smooth_periodic_data(rng, n, 20 * n)
    sigma = rng.permutation(n)  # the unknown scramble: neuron i of the layer is S[sigma[i]]
    scrambled = S[sigma]
    L = fourier_L(n)
    P, obj, method, bound = solve(L, scrambled @ scrambled.T)
    check_permutation_matrix(P)
    order = sigma[P.argmax(axis=1)]  # P @ scrambled == S[order]
    assert dihedral(order), method
    assert not dihedral(sigma)  # the scramble was not itself a symmetry
    assert obj >= bound


@pytest.mark.parametrize("n", [16, 40])
def test_planted_scramble_neumann_recovered_up_to_reflection(n):
    rng = np.random.default_rng(100 + n)
    S = smooth_open_data(rng, n, 20 * n)
    sigma = rng.permutation(n)
    scrambled = S[sigma]
    P, obj, method, bound = solve(neumann_L(n), scrambled @ scrambled.T)
    order = sigma[P.argmax(axis=1)]
    assert reflection(order), method
    assert obj >= bound


@pytest.mark.parametrize(
    "kind, make, symmetric",
    [("fourier", smooth_periodic_data, dihedral), ("neumann", smooth_open_data, reflection)],
    ids=["fourier", "neumann"],
)
def test_planted_scramble_through_descramble(kind, make, symmetric):
    """ds.descramble(..., group="permutation") puts scrambled neurons back in order."""
    ds = pytest.importorskip("descramble")
    if not hasattr(ds, "descramble"):
        pytest.skip("ds.descramble is not available")
    rng = np.random.default_rng(7)
    n = 40
    S = make(rng, n, 20 * n)
    sigma = rng.permutation(n)
    samples = S[sigma].T  # (N, n): rows are samples, columns the scrambled neurons
    res = ds.descramble(samples, smoothness=kind, group="permutation")
    check_permutation_matrix(res.P)
    order = sigma[res.P.argmax(axis=1)]
    assert symmetric(order), res.method
    assert res.objective >= res.lower_bound
    np.testing.assert_allclose(res.P @ samples.T, S[order])


# --- exact cases beyond a diagonal L or G ------------------------------------


def row_col_structured(rng, n, symmetric):
    """diag(d) + u 1^T + 1 v^T: every off-diagonal entry is u_i + v_j."""
    u = rng.standard_normal(n)
    v = u if symmetric else rng.standard_normal(n)
    return np.diag(rng.standard_normal(n)) + u[:, None] + v[None, :]


@pytest.mark.parametrize("n", [2, 3, 5, 7])
@pytest.mark.parametrize("which", ["L", "G"])
@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "nonsymmetric"])
def test_row_plus_column_structure_is_a_linear_assignment(n, which, symmetric):
    """L[i, j] = u_i + v_j off the diagonal makes the QAP a LAP: equal to brute force."""
    rng = np.random.default_rng([n, len(which), symmetric])
    M = row_col_structured(rng, n, symmetric)
    other = neumann_L(n) if which == "G" else random_gram(rng, n)
    L, G = (M, other) if which == "L" else (other, M)
    n_ = len(L)
    P, obj, method = solve_permutation(
        L, G, lam=np.zeros(n_), T=np.eye(n_), mu=np.zeros(n_), U=np.eye(n_)
    )
    check_permutation_matrix(P)
    assert method == "exact (linear assignment)"
    assert obj == pytest.approx(brute_force(L, G), rel=1e-12, abs=1e-12)


def test_perturbed_row_plus_column_structure_is_not_claimed_exact():
    rng = np.random.default_rng(11)
    L = row_col_structured(rng, 6, True)
    L[1, 4] += 0.5
    L[4, 1] += 0.5
    _, _, method, _ = solve(L, random_gram(rng, 6))
    assert method != "exact (linear assignment)"


def decreasing_function_of(L, power):
    """G = T diag(1 / (1 + lam)^power) T^T: shares L's eigenbasis, eigenvalues in reverse order."""
    lam, T = np.linalg.eigh(L)
    return (T / (1 + lam - lam.min()) ** power) @ T.T


@pytest.mark.parametrize("n", [5, 6, 7])
@pytest.mark.parametrize("kind", ["fourier", "neumann"])
def test_common_eigenbasis_with_reversed_order_is_certified_and_optimal(n, kind):
    """G a decreasing function of L: the identity reaches the lower bound, so it is optimal."""
    L = fourier_L(n) if kind == "fourier" else neumann_L(n)
    G = decreasing_function_of(L, 2.0)
    sigma = np.random.default_rng(n).permutation(n)
    for G_ in (G, G[np.ix_(sigma, sigma)]):  # also scrambled: sigma^-1 then reaches it
        P, obj, method, bound = solve(L, G_)
        check_permutation_matrix(P)
        best = brute_force(L, G_)
        assert best == pytest.approx(bound, rel=1e-9)
        assert method == "exact (attains the lower bound)"
        assert obj == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("n", [5, 6, 7])
def test_commuting_but_same_order_is_not_claimed_exact(n):
    """Circulant L and G (a common Fourier eigenbasis) but G increasing in L: a QAP, not a LAP.

    Every cyclic shift and reflection gives the same objective, the bound is
    not reached by any permutation, and no exactness is claimed.
    """
    L = fourier_L(n)
    lam, T = np.linalg.eigh(L)
    G = (T * (1 + lam - lam.min()) ** 0.5) @ T.T
    P, obj, method, bound = solve(L, G)
    best = brute_force(L, G)
    assert best > bound + 1e-6 * abs(bound)
    assert method not in ("exact (linear assignment)", "exact (attains the lower bound)")
    assert obj >= best - 1e-9 * abs(best)
    shift = np.roll(np.arange(n), 1)
    for perm in (shift, shift[::-1]):
        assert permutation_objective(L, G, perm) == pytest.approx(np.trace(L @ G), rel=1e-9)

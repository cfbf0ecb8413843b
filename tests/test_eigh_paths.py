"""ds.eigh on both sides of every size crossover of the C++ solver.

The solver switches code paths by size, and each phase starts using threads
from its own size; the sizes come from the core itself (_core.crossovers(),
defined in cpp/src/eigh_internal.hpp and cpp/src/thread_policy.hpp), so these
cases follow the crossovers when they are retuned. Paths: Eigen's solver up to
eigh_small; the fused unblocked reduction up to a trailing size of
eigh_reduction_unblocked and panels of eigh_reduction_panel above; the
reflector-by-reflector back-transformation up to eigh_back_unblocked,
compact-WY blocks above; divide-and-conquer leaves of at most eigh_dc_leaf
solved by implicit QL. Each test checks a path against LAPACK (numpy) and
against closed forms.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import _helpers
import descramble as ds
from descramble import _core

EPS = np.finfo(np.float64).eps


# The LAPACK reference runs on one BLAS thread (see conftest.single_threaded_blas).
pytestmark = pytest.mark.usefixtures("single_threaded_blas")


CROSSOVERS = _core.crossovers()


def _both_sides(*sizes: int) -> list[int]:
    return sorted({m for n in sizes for m in (n - 1, n)})


# Both sides of each path crossover (the first size of the far side of an
# "up to n" crossover is n + 1), and sizes whose last panel or leaf is ragged:
# 70 (a leaf of 3 after two splits) and a trailing panel of one column.
CROSSOVER_SIZES = sorted(
    {
        *_both_sides(
            CROSSOVERS["eigh_small"] + 1,
            2 * CROSSOVERS["eigh_dc_leaf"] + 1,
            CROSSOVERS["eigh_back_unblocked"] + 1,
            CROSSOVERS["eigh_reduction_unblocked"] + 1,
        ),
        70,
        CROSSOVERS["eigh_reduction_unblocked"] + CROSSOVERS["eigh_reduction_panel"] + 1,
    }
)


def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _spectrum_matrix(name, n, rng):
    """Symmetric matrices with the spectra that stress each phase."""
    if name == "random":
        x = rng.standard_normal((n, n))
        return (x + x.T) / 2
    q = _orthogonal(rng, n)
    if name == "clustered":  # half the spectrum within 1e-10 of 1
        w = np.where(np.arange(n) < n // 2, 1.0, 1.0 + 1e-10 * rng.standard_normal(n))
    elif name == "graded":
        w = np.logspace(0, -12, n)
    elif name == "ties":  # 0, 1, 1, 16, 16, ...: the Fourier operator's pairs
        w = ((np.arange(n) + 1) // 2).astype(float) ** 4
    elif name == "rank_deficient":  # a Gram matrix of rank n / 4
        x = rng.standard_normal((max(n // 4, 1), n))
        return x.T @ x
    else:
        raise AssertionError(name)
    return (q * w) @ q.T


SPECTRA = ["random", "clustered", "graded", "ties", "rank_deficient"]


def _assert_like_lapack(a, w, v):
    _helpers.assert_eigh_like_lapack(a, w, v, *np.linalg.eigh(a))


@pytest.mark.parametrize("spectrum", SPECTRA)
@pytest.mark.parametrize("n", CROSSOVER_SIZES, ids=lambda n: f"n{n}")
def test_every_path_matches_lapack(spectrum, n):
    a = _spectrum_matrix(spectrum, n, np.random.default_rng(1000 + n))
    w, v = ds.eigh(a)
    _assert_like_lapack(a, w, v)
    w_only = ds.eigh(a, eigvals_only=True)
    scale = max(np.abs(w).max(), np.finfo(float).tiny)
    np.testing.assert_allclose(w_only, w, rtol=0, atol=50 * n * EPS * scale)


# Both sides of each phase's threading crossover, and a size above all of
# them; with one thread the same code runs with a team of one.
THREAD_CROSSOVER_SIZES = _both_sides(
    CROSSOVERS["eigh_back_parallel_min"],
    CROSSOVERS["eigh_reduce_parallel_min"],
    CROSSOVERS["eigh_dc_parallel_min"],
) + [CROSSOVERS["eigh_dc_parallel_min"] + 129]


@pytest.mark.parametrize("threads", [1, None], ids=["one-thread", "all-threads"])
@pytest.mark.parametrize("spectrum", ["random", "ties"])
@pytest.mark.parametrize("n", THREAD_CROSSOVER_SIZES, ids=lambda n: f"n{n}")
def test_threaded_phases_with_one_and_all_threads(n, spectrum, threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    a = _spectrum_matrix(spectrum, n, np.random.default_rng(7 + n))
    with threadpoolctl.threadpool_limits(limits=threads, user_api="openmp"):
        w, v = ds.eigh(a)
        w_only = ds.eigh(a, eigvals_only=True)
        # k = 10 back-transforms a single narrow slab while the threads share
        # the building of the reflector blocks.
        wk, vk = ds.eigh(a, k=10)
    w_ref, v_ref = np.linalg.eigh(a)
    _helpers.assert_eigh_like_lapack(a, w, v, w_ref, v_ref)
    _helpers.assert_eigh_like_lapack(a, wk, vk, w_ref, v_ref[:, -10:])
    np.testing.assert_allclose(w_only, w, rtol=0, atol=50 * n * EPS * np.abs(w).max())


@pytest.mark.parametrize("n", [49, 225, 300], ids=lambda n: f"n{n}")
def test_second_difference_matrix_in_closed_form(n):
    # tridiag(-1, 2, -1): eigenvalues 2 - 2 cos(k pi / (n + 1)), eigenvectors
    # sin(j k pi / (n + 1)); all simple, so each vector is fixed up to sign.
    a = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    k = np.arange(1, n + 1)
    w_exact = 2 - 2 * np.cos(k * np.pi / (n + 1))
    v_exact = np.sin(np.outer(k, k) * np.pi / (n + 1)) * np.sqrt(2 / (n + 1))
    w, v = ds.eigh(a)
    np.testing.assert_allclose(w, w_exact, rtol=0, atol=20 * n * EPS)
    np.testing.assert_allclose(np.abs(v_exact.T @ v), np.eye(n), atol=1e-9)
    np.testing.assert_allclose(ds.eigh(a, eigvals_only=True), w_exact, rtol=0, atol=20 * n * EPS)


def _wilkinson_plus(m):
    """W_{2m+1}^+: diagonal |m - i|, unit off-diagonal; its eigenvalues come in
    pairs that agree to many digits (hard for splitting tests and deflation)."""
    return np.diag(np.abs(np.arange(2 * m + 1) - m).astype(float)) + (
        np.eye(2 * m + 1, k=1) + np.eye(2 * m + 1, k=-1)
    )


@pytest.mark.parametrize(
    "name",
    ["wilkinson", "glued-wilkinson", "split", "graded-tridiagonal", "identity-plus-rank-one"],
)
def test_hard_tridiagonal_spectra_match_lapack(name):
    rng = np.random.default_rng(3)
    if name == "wilkinson":
        a = _wilkinson_plus(60)
    elif name == "glued-wilkinson":  # copies of W_21^+ coupled by 1e-9
        blocks = [_wilkinson_plus(10)] * 6
        n = 21 * len(blocks)
        a = np.zeros((n, n))
        for i, b in enumerate(blocks):
            a[21 * i : 21 * (i + 1), 21 * i : 21 * (i + 1)] = b
        glue = np.arange(21, n, 21)
        a[glue, glue - 1] = a[glue - 1, glue] = 1e-9
    elif name == "split":  # exact zeros on the off-diagonal: independent blocks
        n = 150
        off = rng.standard_normal(n - 1)
        off[::9] = 0.0
        a = np.diag(rng.standard_normal(n)) + np.diag(off, 1) + np.diag(off, -1)
    elif name == "graded-tridiagonal":
        n = 120
        d = np.logspace(0, -14, n)
        off = np.sqrt(d[:-1] * d[1:]) / 4
        a = np.diag(d) + np.diag(off, 1) + np.diag(off, -1)
    else:  # 1 repeated n - 1 times
        n = 200
        u = rng.standard_normal(n)
        a = np.eye(n) + np.outer(u, u)
    w, v = ds.eigh(a)
    _assert_like_lapack(a, w, v)
    n = a.shape[0]
    w_ref = np.linalg.eigvalsh(a)
    np.testing.assert_allclose(
        ds.eigh(a, eigvals_only=True), w_ref, rtol=0, atol=50 * n * EPS * np.abs(w_ref).max()
    )


@settings(max_examples=10, deadline=None)
@given(n=st.integers(40, 300), seed=st.integers(0, 2**32 - 1))
def test_eigenvalues_are_invariant_under_permutation_similarity(n, seed):
    # eig(P A P^T) = eig(A): the reduction sees a different matrix, the same spectrum.
    rng = np.random.default_rng(seed)
    a = _spectrum_matrix("random", n, rng)
    p = rng.permutation(n)
    w = ds.eigh(a, eigvals_only=True)
    w_perm, v_perm = ds.eigh(a[np.ix_(p, p)])
    tol = 50 * n * EPS * np.abs(w).max()
    np.testing.assert_allclose(w_perm, w, rtol=0, atol=tol)
    # The permuted eigenvectors are eigenvectors of A.
    v = np.empty_like(v_perm)
    v[p] = v_perm
    res, orth = _helpers.eigh_quality(a, w_perm, v)
    assert res <= 100 * n * EPS and orth <= 100 * n * EPS


def test_concurrent_calls_from_python_threads():
    # Each call runs its own team (the binding releases the GIL): two solves at
    # once must neither block each other nor mix their results.
    from concurrent.futures import ThreadPoolExecutor

    n = 641
    mats = [_spectrum_matrix("random", n, np.random.default_rng(s)) for s in (21, 22)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(ds.eigh, mats))
    for a, (w, v) in zip(mats, results, strict=True):
        _assert_like_lapack(a, w, v)


@pytest.mark.parametrize("extra", [0, 1], ids=["inverse-iteration", "full-solve"])
def test_leading_pairs_on_both_sides_of_the_inverse_iteration_ratio(extra):
    # k pairs of an order-n matrix come from inverse iteration while
    # ratio * k <= n, from the full solve beyond.
    n = 200
    k = n // CROSSOVERS["eigh_inverse_iteration_ratio"] + extra
    a = _spectrum_matrix("random", n, np.random.default_rng(3000 + k))
    w_ref, v_ref = np.linalg.eigh(a)
    wk, vk = ds.eigh(a, k=k)
    _helpers.assert_eigh_like_lapack(a, wk, vk, w_ref, v_ref[:, -k:])

"""The tridiagonal phase of ds.eigh on tridiagonal inputs that stress it.

A tridiagonal input passes the Householder reduction unchanged (its reflectors
are trivial), so these matrices reach the tridiagonal solvers as written:
divide and conquer with implicit-QL leaves of at most eigh_dc_leaf for the
pairs (cpp/src/eigh_tridiagonal_dc.cpp, eigh_tridiagonal_ql.cpp) and root-free
QL for the eigenvalues alone (eigh_tridiagonal_values.cpp). Above eigh_small
(below it Eigen's solver runs), sizes straddle the leaf size and its
multiples; both sizes come from _core.crossovers().
Small-integer entries give exact ties, exact splits and exact shifts: the QL
steps where p = 0 or p r leaves the range of the one-division step, and
secular equations whose poles coincide.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import _helpers
import descramble as ds
from descramble import _core

EPS = np.finfo(np.float64).eps

pytestmark = pytest.mark.usefixtures("single_threaded_blas")

_LEAF = _core.crossovers()["eigh_dc_leaf"]
_FIRST_PIPELINE_SIZE = _core.crossovers()["eigh_small"] + 1
# The first size past Eigen's solver; two, three and four leaves and one more
# row; a ragged merge.
SIZES = [_FIRST_PIPELINE_SIZE] + [m * _LEAF + r for m in (2, 3, 4) for r in (0, 1)] + [200]


def _tridiagonal(diagonal, off):
    return np.diag(diagonal) + np.diag(off, 1) + np.diag(off, -1)


def _assert_values_like_lapack(a, w_only):
    w_ref = np.linalg.eigvalsh(a)
    scale = max(np.abs(w_ref).max(), np.finfo(float).tiny)
    np.testing.assert_allclose(w_only, w_ref, rtol=0, atol=50 * a.shape[0] * EPS * scale)


def _assert_both_paths_like_lapack(a):
    w, v = ds.eigh(a)
    _helpers.assert_eigh_like_lapack(a, w, v, *np.linalg.eigh(a))
    _assert_values_like_lapack(a, ds.eigh(a, eigvals_only=True))


@pytest.mark.parametrize("seed", range(12), ids=lambda s: f"seed{s}")
def test_small_integer_tridiagonals_match_lapack(seed):
    # About one QL step in a thousand on such matrices leaves the one-division
    # form (measured on 2000 of them); a dozen sizes reach it surely.
    rng = np.random.default_rng(seed)
    n = SIZES[seed % len(SIZES)]
    a = _tridiagonal(rng.integers(-2, 3, n).astype(float), rng.integers(-2, 3, n - 1))
    _assert_both_paths_like_lapack(a)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(_FIRST_PIPELINE_SIZE, 140),
    seed=st.integers(0, 2**32 - 1),
    values=st.sampled_from([(0, 1), (-1, 1), (-2, 2)]),
)
def test_integer_tridiagonals_property(n, seed, values):
    rng = np.random.default_rng(seed)
    low, high = values
    a = _tridiagonal(
        rng.integers(low, high + 1, n).astype(float), rng.integers(low, high + 1, n - 1)
    )
    _assert_both_paths_like_lapack(a)


@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"n{n}")
def test_nearly_diagonal_deflates_without_loss(n):
    # Couplings of 1e-13 against diagonal gaps of ~1/n: nearly every z_i of
    # every merge is below the deflation tolerance, and QL splits at once.
    rng = np.random.default_rng(n)
    a = _tridiagonal(np.sort(rng.standard_normal(n)), 1e-13 * rng.standard_normal(n - 1))
    _assert_both_paths_like_lapack(a)


@pytest.mark.parametrize("n", [97, 200], ids=lambda n: f"n{n}")
def test_pole_pairs_closer_than_roundoff(n):
    # Diagonal pairs 1e-15 apart with O(1) couplings: the secular equations
    # have poles that nearly coincide, handled by the rotation deflation; the
    # roots that remain sit between poles a few ulps apart.
    rng = np.random.default_rng(5)
    base = np.repeat(np.sort(rng.standard_normal((n + 1) // 2)), 2)[:n]
    diagonal = base + 1e-15 * (np.arange(n) % 2)
    a = _tridiagonal(diagonal, rng.uniform(0.5, 1.0, n - 1))
    w, v = ds.eigh(a)
    assert np.all(np.isfinite(w)) and np.all(np.isfinite(v))
    _assert_both_paths_like_lapack(a)


@pytest.mark.parametrize("power", [-150, 150], ids=["tiny", "huge"])
def test_extreme_scales_scale_the_eigenvalues(power):
    # Both solvers work on T / ||T||: the eigenvalues of s T are s times those
    # of T, with no over- or underflow in squared off-diagonals.
    rng = np.random.default_rng(9)
    n = 129
    a = _tridiagonal(rng.standard_normal(n), rng.standard_normal(n - 1))
    s = 10.0**power
    w, v = ds.eigh(a)
    ws, vs = ds.eigh(s * a)
    np.testing.assert_allclose(ws / s, w, rtol=0, atol=50 * n * EPS * np.abs(w).max())
    np.testing.assert_allclose(
        ds.eigh(s * a, eigvals_only=True) / s, w, rtol=0, atol=50 * n * EPS * np.abs(w).max()
    )
    res, orth = _helpers.eigh_quality(s * a, ws, vs)
    assert res <= 100 * n * EPS and orth <= 100 * n * EPS

"""The optimality certificate: ``objective`` from the returned P, ``lower_bound`` from eigenvalues.

``r.objective`` must be ``tr(P^T L P G)`` of the ``P`` handed to the user, with
``L`` and ``G`` as the user gave them, so that ``gap`` exposes a wrong ``P``
(a broken FFT synthesis, a wrong ``T``, a wrong ordering) instead of agreeing
with the bound by construction.
"""

import numpy as np
import pytest

import _helpers
import descramble as ds
from descramble import descrambler as dsc
from descramble import smoothness as sm

EPS = np.finfo(np.float64).eps


def _data(n, samples=None, seed=0):
    rng = np.random.default_rng(seed)
    samples = 3 * n if samples is None else samples
    # Smooth-ish hidden data with a decaying spectrum, scrambled.
    t = np.linspace(0, 1, n)
    basis = np.array([np.cos(np.pi * f * t) for f in range(6)])
    x = rng.standard_normal((samples, 6)) @ basis + 0.05 * rng.standard_normal((samples, n))
    return x[:, rng.permutation(n)]


def _trace(p, lmat, g):
    return float(np.trace(p.T @ lmat @ p @ g))


def _tolerance(lmat, g, n):
    # Rounding of the dense reference and of the library's evaluation.
    return 20 * n * EPS * np.linalg.norm(lmat, 2) * np.linalg.norm(g, 2)


@pytest.mark.parametrize("n", [9, 130], ids=lambda n: f"n{n}")  # 130: P by FFT synthesis
@pytest.mark.parametrize("group", ["orthogonal", "special", "permutation"])
@pytest.mark.parametrize(
    "kind, order", _helpers.KIND_ORDERS, ids=_helpers.kind_order_ids(_helpers.KIND_ORDERS)
)
def test_objective_is_the_trace_of_the_returned_P(kind, order, group, n):
    if group == "permutation" and n > 9:
        pytest.skip("the permutation solver is tested at n = 9 here")
    x = _data(n)
    r = ds.descramble(x, smoothness=kind, order=order, group=group)
    d = sm.operator(kind, n, order)
    lmat, g = d.T @ d, x.T @ x
    assert abs(r.objective - _trace(r.P, lmat, g)) <= _tolerance(lmat, g, n)
    assert r.gap == pytest.approx((r.objective - r.lower_bound) / abs(r.lower_bound))


@pytest.mark.parametrize("k", [1, 4, 40])
def test_objective_of_k_components(k):
    x = _data(40)
    r = ds.descramble(x, k=k)
    d = sm.operator("fourier", k, 2)
    lmat, g = d.T @ d, x.T @ x
    assert r.P.shape == (k, 40)
    assert abs(r.objective - np.trace(lmat @ r.P @ g @ r.P.T)) <= _tolerance(lmat, g, 40)


@pytest.mark.parametrize("given", ["D", "L"])
def test_objective_with_user_operators(given):
    rng = np.random.default_rng(5)
    n = 12
    d = rng.standard_normal((15, n))
    op = ds.Operator(D=d) if given == "D" else ds.Operator(L=d.T @ d)
    x = _data(n)
    r = ds.descramble(x, smoothness=op)
    assert r.objective == pytest.approx(_trace(r.P, d.T @ d, x.T @ x), rel=1e-10)
    assert abs(r.gap) < 1e-10


# ----------------------------------------------------------------------------- wrong answers


def _patched_descrambler(monkeypatch, corrupt):
    original = dsc._descrambler

    def wrong(source, t, u):
        return corrupt(original(source, t, u))

    monkeypatch.setattr(dsc, "_descrambler", wrong)


@pytest.mark.parametrize("n", [16, 200], ids=lambda n: f"n{n}")
def test_wrong_ordering_shows_a_gap(monkeypatch, n):
    # Rows 1 and 3 of P exchanged: the second principal direction sent to the
    # wrong mode. The factors T, U and the bound are untouched.
    def swap(p):
        p = p.copy()
        p[[1, 3]] = p[[3, 1]]
        return p

    _patched_descrambler(monkeypatch, swap)
    r = ds.descramble(_data(n))
    assert r.gap > 1e-3


@pytest.mark.parametrize("n", [16, 200], ids=lambda n: f"n{n}")
def test_wrong_P_shows_a_gap(monkeypatch, n):
    # A small rotation of P's first two rows (still orthogonal).
    c, s = np.cos(0.1), np.sin(0.1)

    def rotate(p):
        p = p.copy()
        p[[0, 1]] = np.array([[c, -s], [s, c]]) @ p[[0, 1]]
        return p

    _patched_descrambler(monkeypatch, rotate)
    r = ds.descramble(_data(n))
    np.testing.assert_allclose(r.P @ r.P.T, np.eye(n), atol=1e-12)
    assert r.gap > 1e-4


def test_wrong_T_shows_a_gap(monkeypatch):
    # The basis of a user operator with two eigenvectors exchanged: P = T U^T
    # no longer diagonalises L in the order of lam.
    n = 10
    d = sm.operator("neumann", n, 2)
    op = ds.Operator(L=d.T @ d)
    t = op.T.copy()
    t[:, [0, 4]] = t[:, [4, 0]]
    op.T = t
    r = ds.descramble(_data(n), smoothness=op)
    assert r.gap > 1e-3


def test_zero_bound_threshold_keeps_real_bounds():
    # Data with almost all energy in the constant mode (the null space of L):
    # the bound is tiny relative to lam_max mu_max but far above rounding, and
    # the gap must be a finite rounding-level number, not 0 by fiat or inf.
    n = 256
    rng = np.random.default_rng(2)
    x = np.ones((50, n)) + 4e-5 * rng.standard_normal((50, n))
    r = ds.descramble(x)
    lam_max, mu_max = r.lam[-1], r.mu[0]
    assert r.lower_bound < 16 * n * EPS * lam_max * mu_max  # under the old threshold
    rounding = dsc._rounding_scale(r.lam, r.mu)
    assert r.lower_bound > rounding
    assert abs(r.gap) <= rounding / r.lower_bound
    # Exactly constant data: the true bound is 0; both sides are rounding.
    r = ds.descramble(np.ones((50, n)))
    assert r.gap == 0.0


def test_overflowing_objective_is_a_clear_error():
    # Entries near 1e301 with fourth-order smoothness gave objective = nan.
    rng = np.random.default_rng(0)
    a = rng.standard_normal((32, 32))
    g = ds.Gram(1e301 * (a @ a.T) / np.abs(a @ a.T).max())
    with pytest.raises(ValueError, match="overflows float64"):
        ds.descramble(g, order=4)
    r = ds.descramble(ds.Gram(np.asarray(g.matrix) / 1e300), order=4)
    assert np.isfinite(r.objective) and abs(r.gap) < 1e-10

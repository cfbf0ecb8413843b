import subprocess
import sys

import numpy as np
import pytest

import descramble as ds
from descramble import iterative as it
from descramble import smoothness as sm

pytest.importorskip("scipy")


def _antisym(rng, n, scale=0.5):
    a = rng.standard_normal((n, n)) * scale
    return a - a.T


def _random_rotation(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _hidden(rng, n, N=None):
    N = 4 * n if N is None else N
    t = np.linspace(0, 1, 10)
    x = np.sin(2 * np.pi * rng.uniform(0.5, 3, (N, 1)) * t + rng.uniform(0, 6, (N, 1)))
    return np.tanh(x @ rng.standard_normal((10, n)) / 3)


def test_cayley_map_is_a_rotation():
    rng = np.random.default_rng(0)
    q = _antisym(rng, 7)
    L = np.eye(7)
    _, P, _ = it.cayley_gradient(q, L, L)
    np.testing.assert_allclose(P @ P.T, np.eye(7), atol=1e-13)
    assert np.linalg.det(P) == pytest.approx(1.0)
    np.testing.assert_allclose(P, np.linalg.solve(np.eye(7) + q, np.eye(7) - q), atol=1e-13)


@pytest.mark.parametrize("n", [2, 5, 9])
def test_cayley_gradient_matches_finite_differences(n):
    rng = np.random.default_rng(n)
    X = _hidden(rng, n)
    G = X.T @ X
    L = sm.operator("fourier", n).T @ sm.operator("fourier", n)
    q = _antisym(rng, n)
    f, P, grad = it.cayley_gradient(q, L, G)
    assert f == pytest.approx(np.trace(L @ P @ G @ P.T), rel=1e-12)
    h = 1e-6
    for _ in range(3):
        e = _antisym(rng, n, 1.0)  # an admissible (antisymmetric) direction
        fp = it.cayley_gradient(q + h * e, L, G)[0]
        fm = it.cayley_gradient(q - h * e, L, G)[0]
        fd = (fp - fm) / (2 * h)
        assert np.sum(grad * e) == pytest.approx(fd, rel=1e-6, abs=1e-8 * abs(f))
    # The gradient of tr(L P G P^T) through the Cayley map P = (I + Q)^-1 (I - Q),
    # -2 (I + Q)^-T L P G (I + P)^T, written out independently.
    A = np.eye(n) + q
    ref = -2 * np.linalg.inv(A).T @ L @ P @ G @ (np.eye(n) + P).T
    np.testing.assert_allclose(grad, ref, atol=1e-10 * np.abs(ref).max())


@pytest.mark.parametrize("method", ["sum", "normsq"])
def test_diagonality_gradient_matches_finite_differences(method):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((6, 6))
    fun = it._negated_diagonality(w, method)
    p = rng.standard_normal((6, 6))
    f, dfdp = fun(p)
    d = np.diag(p @ w)
    assert -f == pytest.approx(d.sum() if method == "sum" else d @ d, rel=1e-12)
    h = 1e-6
    e = rng.standard_normal((6, 6))
    fd = (fun(p + h * e)[0] - fun(p - h * e)[0]) / (2 * h)
    assert np.sum(dfdp * e) == pytest.approx(fd, rel=1e-7)


@pytest.mark.parametrize("kind", ["fourier", "dirichlet", "neumann"])
def test_cayley_converges_to_the_exact_optimum_from_identity(kind):
    rng = np.random.default_rng(2)
    n = 8
    X = _hidden(rng, n)
    exact = ds.descramble(X, kind)
    r = it.cayley(X, kind, maxiter=3000)
    L = sm.operator(kind, n).T @ sm.operator(kind, n)
    G = X.T @ X
    # Reported in the original scale, and the objective of the returned P.
    assert r.objective == pytest.approx(np.trace(L @ r.P @ G @ r.P.T), rel=1e-10)
    assert r.objective >= exact.objective * (1 - 1e-10)
    assert r.objective == pytest.approx(exact.objective, rel=1e-5)
    np.testing.assert_allclose(r.P @ r.P.T, np.eye(n), atol=1e-10)
    assert np.linalg.det(r.P) == pytest.approx(1.0)


def test_trace_decreases_towards_the_optimum():
    rng = np.random.default_rng(3)
    X = _hidden(rng, 10)
    exact = ds.descramble(X)
    r = it.cayley(X, maxiter=300)
    assert r.trace.shape == (r.nit + 1,) and r.trace_time.shape == (r.nit + 1,)
    assert np.all(np.diff(r.trace) <= 1e-12 * r.trace[0])
    assert np.all(np.diff(r.trace_time) >= 0)
    assert r.trace[-1] == pytest.approx(r.objective, rel=1e-12)
    # The start is P = I.
    L = sm.operator("fourier", 10).T @ sm.operator("fourier", 10)
    assert r.trace[0] == pytest.approx(np.trace(L @ X.T @ X), rel=1e-12)
    assert np.all(r.trace >= exact.objective * (1 - 1e-10))
    assert r.nfev >= r.nit and r.time > 0
    assert "IterativeResult(P: 10x10" in repr(r)


def test_maxiter_zero_returns_the_start():
    rng = np.random.default_rng(4)
    X = _hidden(rng, 5)
    r = it.cayley(X, maxiter=0)
    np.testing.assert_allclose(r.P, np.eye(5), atol=1e-15)
    assert r.nit == 0 and r.trace.shape == (1,)


def test_guess_from_the_exact_solution_stays_there():
    rng = np.random.default_rng(5)
    X = _hidden(rng, 7)
    exact = ds.descramble(X, group="special")
    r = it.cayley(X, guess=exact.P, maxiter=50)
    assert r.trace[0] == pytest.approx(exact.objective, rel=1e-10)
    assert r.objective == pytest.approx(exact.objective, rel=1e-10)


def test_guess_with_det_minus_one_is_flipped_with_a_note():
    rng = np.random.default_rng(6)
    X = _hidden(rng, 6)
    guess = _random_rotation(rng, 6)
    guess[-1] = -guess[-1]
    with pytest.warns(UserWarning, match="det -1: its last row was negated"):
        r = it.cayley(X, guess=guess, maxiter=0)
    fixed = guess.copy()
    fixed[-1] = -fixed[-1]
    np.testing.assert_allclose(r.P, fixed, atol=1e-12)
    assert "det -1" in r.message


def test_cayley_accepts_moments_gram_and_operators():
    rng = np.random.default_rng(7)
    X = _hidden(rng, 5)
    D = sm.operator("neumann", 5, 1)
    a = it.cayley(X, "neumann", order=1, maxiter=20)
    b = it.cayley(ds.Gram(X.T @ X), D, maxiter=20)
    c = it.cayley(X, ds.Operator(L=D.T @ D), maxiter=20)
    np.testing.assert_allclose(b.trace, a.trace, rtol=1e-8)
    np.testing.assert_allclose(c.trace, a.trace, rtol=1e-8)
    Xc = X - X.mean(axis=0)
    d = it.cayley(X, center=True, maxiter=5)
    e = it.cayley(ds.Gram(Xc.T @ Xc), maxiter=5)
    np.testing.assert_allclose(d.trace, e.trace, rtol=1e-8)


@pytest.mark.parametrize("method, expected", [("sum", 1), ("normsq", 2)])
def test_max_diagonal_recovers_the_rotation(method, expected):
    rng = np.random.default_rng(8)
    n = 6
    Q = _random_rotation(rng, n)
    d = rng.uniform(1, 3, n)
    W = Q.T @ np.diag(d)
    r = it.max_diagonal(W, method=method, maxiter=2000)
    assert r.objective == pytest.approx(np.sum(d**expected), rel=1e-6)
    if method == "sum":
        np.testing.assert_allclose(r.P, Q, atol=1e-3)
    else:  # squares do not see the sign of a row: P = Q up to row signs
        np.testing.assert_allclose(np.abs(np.sum(r.P * Q, axis=1)), np.ones(n), atol=1e-6)
    diag = np.diag(r.P @ W)
    assert r.objective == pytest.approx(diag.sum() if method == "sum" else diag @ diag, rel=1e-12)
    assert np.all(np.diff(r.trace) >= -1e-12 * abs(r.trace[-1]))


def test_one_neuron():
    r = it.cayley(np.array([[1.0], [2.0]]))
    assert r.P.shape == (1, 1) and r.P[0, 0] == 1.0 and r.nit == 0
    assert it.max_diagonal([[2.0]]).objective == 2.0


def test_import_does_not_import_scipy():
    code = (
        "import sys, descramble, descramble.iterative; "
        "assert 'scipy' not in sys.modules, 'scipy imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_scipy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    with pytest.raises(ImportError, match=r'pip install "descramble\[scipy\]"'):
        it.cayley(np.eye(3))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda X: it.cayley(X, guess=np.ones((4, 4))), ValueError, "orthogonal matrix"),
        (lambda X: it.cayley(X, guess=np.eye(3)), ValueError, r"\(4, 4\) orthogonal"),
        (lambda X: it.cayley(X, guess=-np.eye(4)), ValueError, "eigenvalue at .* -1"),
        (lambda X: it.cayley(X, guess=np.full((4, 4), np.nan)), ValueError, "NaN"),
        (lambda X: it.cayley(X, maxiter=-1), ValueError, "maxiter must be a non-negative"),
        (lambda X: it.cayley(X, maxiter=2.5), ValueError, "maxiter must be a non-negative"),
        (lambda X: it.cayley(X, tol=0), ValueError, "tol must be a positive"),
        (lambda X: it.cayley(X, "spline"), ValueError, "unknown smoothness kind 'spline'"),
        (lambda X: it.cayley(X, np.eye(3)), ValueError, "size 3, but the data has n = 4"),
        (lambda X: it.cayley(X, np.eye(4), order=1), ValueError, "order=1 applies to"),
        (lambda X: it.cayley(X, [[1.0]]), TypeError, "smoothness must be one of"),
        (lambda X: it.cayley(np.full((3, 4), np.inf)), ValueError, "NaN or infinity"),
        (lambda X: it.max_diagonal(np.eye(3), method="trace"), ValueError, "'sum' or 'normsq'"),
        (lambda X: it.max_diagonal(np.ones((3, 4))), ValueError, r"square \(n, n\)"),
        (lambda X: it.max_diagonal(np.ones(3)), ValueError, "2-D array"),
        (lambda X: it.max_diagonal([[np.nan]]), ValueError, "NaN or infinity"),
    ],
    ids=[
        "guess-not-orthogonal",
        "guess-wrong-size",
        "guess-eigenvalue-minus-one",
        "guess-nan",
        "maxiter-negative",
        "maxiter-float",
        "tol-zero",
        "unknown-kind",
        "operator-size",
        "order-with-matrix",
        "smoothness-list",
        "data-inf",
        "diag-method",
        "diag-not-square",
        "diag-1d",
        "diag-nan",
    ],
)
def test_errors(call, exc, match):
    X = np.random.default_rng(0).standard_normal((12, 4))
    with pytest.raises(exc, match=match):
        call(X)

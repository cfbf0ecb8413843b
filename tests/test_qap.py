"""ds.quadratic_assignment against scipy's FAQ and 2-opt, and against the math."""

import itertools

import numpy as np
import pytest

import descramble as ds

scipy_optimize = pytest.importorskip("scipy.optimize")


def scipy_qap(A, B, method="faq", options=None):
    # A Generator keeps scipy off numpy's global RNG (and its FutureWarning).
    opts = {"rng": np.random.default_rng(0), **(options or {})}
    return scipy_optimize.quadratic_assignment(A, B, method=method, options=opts)


def _objective(A, B, perm):
    P = np.eye(len(perm))[perm]  # P[i, perm[i]] = 1
    return np.trace(A.T @ P @ B @ P.T)


def _instance(rng, n, symmetric):
    A = rng.random((n, n))
    B = rng.random((n, n))
    if symmetric:
        A, B = A + A.T, B + B.T
    return A, B


@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "general"])
@pytest.mark.parametrize("maximize", [False, True], ids=["min", "max"])
def test_faq_follows_scipy(symmetric, maximize):
    # Same start (the barycenter), direction, step and stopping rule: on random
    # continuous instances (unique LAP solutions) the iterations coincide.
    rng = np.random.default_rng([symmetric, maximize])
    for _ in range(25):
        n = int(rng.integers(2, 25))
        A, B = _instance(rng, n, symmetric)
        opts = {"maximize": maximize}
        ref = scipy_qap(A, B, options=dict(opts))
        res = ds.quadratic_assignment(A, B, options=dict(opts))
        assert res.fun == pytest.approx(ref.fun, rel=1e-9)
        assert res.nit == ref.nit
        assert res.col_ind.dtype == np.int64
        np.testing.assert_array_equal(np.sort(res.col_ind), np.arange(n))


def test_faq_objective_convention():
    rng = np.random.default_rng(1)
    A, B = _instance(rng, 12, False)
    res = ds.quadratic_assignment(A, B)
    assert res.fun == pytest.approx(_objective(A, B, res.col_ind), rel=1e-12)
    assert res["fun"] == res.fun  # dict-like, as OptimizeResult


def test_faq_partial_match_is_respected_and_follows_scipy():
    rng = np.random.default_rng(2)
    A, B = _instance(rng, 15, True)
    seeds = np.array([[0, 3], [4, 1], [7, 7]])
    res = ds.quadratic_assignment(A, B, options={"partial_match": seeds})
    ref = scipy_qap(A, B, options={"partial_match": seeds})
    np.testing.assert_array_equal(res.col_ind[seeds[:, 0]], seeds[:, 1])
    assert res.fun == pytest.approx(ref.fun, rel=1e-9)


def test_faq_initial_matrix_and_randomized():
    rng = np.random.default_rng(3)
    A, B = _instance(rng, 10, True)
    P0 = np.eye(10)[rng.permutation(10)] * 0.5 + 0.05
    res = ds.quadratic_assignment(A, B, options={"P0": P0})
    ref = scipy_qap(A, B, options={"P0": P0})
    assert res.fun == pytest.approx(ref.fun, rel=1e-9)
    r1 = ds.quadratic_assignment(A, B, options={"P0": "randomized", "rng": 5})
    r2 = ds.quadratic_assignment(A, B, options={"P0": "randomized", "rng": 5})
    np.testing.assert_array_equal(r1.col_ind, r2.col_ind)
    r3 = ds.quadratic_assignment(A, B, options={"shuffle_input": True, "rng": 1})
    assert r3.fun == pytest.approx(_objective(A, B, r3.col_ind))


def test_faq_maxiter_and_tol():
    rng = np.random.default_rng(4)
    A, B = _instance(rng, 20, True)
    assert ds.quadratic_assignment(A, B, options={"maxiter": 1}).nit == 1
    ref = scipy_qap(A, B, options={"tol": 1e-6, "maxiter": 50})
    res = ds.quadratic_assignment(A, B, options={"tol": 1e-6, "maxiter": 50})
    assert (res.nit, res.fun) == (ref.nit, pytest.approx(ref.fun, rel=1e-9))


@pytest.mark.parametrize("method", ["faq", "2opt"])
def test_trivial_sizes(method):
    res = ds.quadratic_assignment(np.zeros((0, 0)), np.zeros((0, 0)), method=method)
    assert res.col_ind.shape == (0,) and res.fun == 0
    res = ds.quadratic_assignment([[2.0]], [[3.0]], method=method)
    assert res.col_ind.tolist() == [0] and res.fun == 6.0
    A = np.arange(9.0).reshape(3, 3)
    seeds = np.array([[0, 2], [1, 0], [2, 1]])
    res = ds.quadratic_assignment(A, A, method=method, options={"partial_match": seeds})
    assert res.col_ind.tolist() == [2, 0, 1] and res.nit == 0


def _is_two_opt_local_optimum(A, B, perm, fixed=(), maximize=False):
    f = _objective(A, B, perm)
    sign = -1 if maximize else 1
    for i, j in itertools.combinations(range(len(perm)), 2):
        if i in fixed or j in fixed:
            continue
        q = perm.copy()
        q[[i, j]] = q[[j, i]]
        if sign * _objective(A, B, q) < sign * f - 1e-9 * abs(f):
            return False
    return True


@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "general"])
@pytest.mark.parametrize("maximize", [False, True], ids=["min", "max"])
def test_two_opt_reaches_a_local_optimum(symmetric, maximize):
    rng = np.random.default_rng([7, symmetric, maximize])
    for _ in range(15):
        n = int(rng.integers(2, 12))
        A, B = _instance(rng, n, symmetric)
        start = rng.permutation(n)
        res = ds.quadratic_assignment(
            A, B, method="2opt", options={"P0": start, "maximize": maximize}
        )
        assert res.fun == pytest.approx(_objective(A, B, res.col_ind), rel=1e-10)
        sign = -1 if maximize else 1
        assert sign * res.fun <= sign * _objective(A, B, start) + 1e-9
        assert _is_two_opt_local_optimum(A, B, res.col_ind, maximize=maximize)


def test_two_opt_refines_faq_and_scipy_two_opt_agrees_on_local_optimality():
    rng = np.random.default_rng(8)
    A, B = _instance(rng, 30, True)
    faq = ds.quadratic_assignment(A, B)
    res = ds.quadratic_assignment(A, B, method="2opt", options={"P0": faq.col_ind})
    assert res.fun <= faq.fun + 1e-9
    # scipy's first-improvement 2-opt finds nothing to improve either.
    guess = np.column_stack([np.arange(30), res.col_ind])
    ref = scipy_qap(A, B, method="2opt", options={"partial_guess": guess})
    assert ref.fun == pytest.approx(res.fun, rel=1e-12)


def test_two_opt_partial_match_and_guess():
    rng = np.random.default_rng(9)
    A, B = _instance(rng, 9, False)
    seeds = np.array([[1, 4], [5, 0]])
    res = ds.quadratic_assignment(A, B, method="2opt", options={"partial_match": seeds, "rng": 0})
    np.testing.assert_array_equal(res.col_ind[seeds[:, 0]], seeds[:, 1])
    assert _is_two_opt_local_optimum(A, B, res.col_ind, fixed=(1, 5))
    guess = np.array([[0, 4], [2, 3]])
    res = ds.quadratic_assignment(
        A, B, method="2opt", options={"partial_guess": guess, "partial_match": seeds, "maxiter": 0}
    )
    np.testing.assert_array_equal(res.col_ind[[1, 5, 2]], [4, 0, 3])
    np.testing.assert_array_equal(np.sort(res.col_ind), np.arange(9))


def test_two_opt_start_with_seeds_and_maxiter():
    A = np.arange(16.0).reshape(4, 4)
    start = np.array([0, 1, 2, 3])
    res = ds.quadratic_assignment(
        A, A.T, method="2opt", options={"P0": start, "partial_match": [[0, 2]], "maxiter": 0}
    )
    assert res.col_ind[0] == 2 and res.nit == 0
    np.testing.assert_array_equal(np.sort(res.col_ind), np.arange(4))
    P = np.eye(4)[[3, 2, 1, 0]]
    res = ds.quadratic_assignment(A, A, method="2opt", options={"P0": P, "maxiter": 0})
    assert res.col_ind.tolist() == [3, 2, 1, 0]


@pytest.mark.parametrize(
    "A, B, method, options, exc, match",
    [
        (np.ones((2, 3)), np.ones((2, 2)), "faq", {}, ValueError, "`A` must be square"),
        (np.ones((2, 2)), np.ones((3, 2)), "faq", {}, ValueError, "`B` must be square"),
        (np.ones((2, 2)), np.ones((3, 3)), "faq", {}, ValueError, "must be of equal size"),
        (np.ones((2, 2, 2)), np.ones((2, 2)), "faq", {}, ValueError, "exactly two dimensions"),
        (np.ones((2, 2)), np.ones((2, 2)), "nope", {}, ValueError, "method nope must be in"),
        (np.ones((2, 2)), np.ones((2, 2)), "faq", {"P0": "x"}, ValueError, "Invalid 'P0'"),
        (np.ones((2, 2)), np.ones((2, 2)), "faq", {"maxiter": 0}, ValueError, "'maxiter' must"),
        (np.ones((2, 2)), np.ones((2, 2)), "faq", {"tol": 0}, ValueError, "'tol' must be"),
        (np.ones((2, 2)), np.ones((2, 2)), "faq", {"P0": np.ones((3, 3))}, ValueError, "shape"),
        (np.ones((2, 2)), np.ones((2, 2)), "faq", {"P0": np.ones((2, 2))}, ValueError, "doubly"),
        (np.ones((2, 2)), np.ones((2, 2)), "faq", {"bogus": 1}, TypeError, "Unknown options"),
        (np.ones((3, 3)), np.ones((3, 3)), "faq", {"partial_match": [[0, 5]]}, ValueError, "less"),
        (np.ones((3, 3)), np.ones((3, 3)), "faq", {"partial_match": [[0, -1]]}, ValueError, "pos"),
        (
            np.ones((3, 3)),
            np.ones((3, 3)),
            "faq",
            {"partial_match": [[0, 1, 2]]},
            ValueError,
            "two",
        ),
        (
            np.ones((3, 3)),
            np.ones((3, 3)),
            "2opt",
            {"partial_match": [[0, 1], [1, 1]]},
            ValueError,
            "unique",
        ),
        (np.ones((3, 3)), np.ones((3, 3)), "2opt", {"P0": [0, 0, 1]}, ValueError, "permutation"),
        (np.ones((3, 3)), np.ones((3, 3)), "2opt", {"maxiter": -1}, ValueError, "'maxiter'"),
        (np.array([[np.nan]]), np.ones((1, 1)), "faq", {}, ValueError, "finite"),
        (np.array([["a"]]), np.ones((1, 1)), "faq", {}, TypeError, "real numeric"),
    ],
    ids=[
        "A-not-square",
        "B-not-square",
        "sizes",
        "3-D",
        "method",
        "P0-string",
        "maxiter",
        "tol",
        "P0-shape",
        "P0-not-doubly-stochastic",
        "unknown-option",
        "seed-too-large",
        "seed-negative",
        "seed-columns",
        "seed-not-unique",
        "2opt-bad-P0",
        "2opt-maxiter",
        "nan",
        "strings",
    ],
)
def test_errors(A, B, method, options, exc, match):
    with pytest.raises(exc, match=match):
        ds.quadratic_assignment(A, B, method=method, options=options)

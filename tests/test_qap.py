"""ds.quadratic_assignment against scipy's FAQ and 2-opt, and against the math."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import descramble as ds

scipy_optimize = pytest.importorskip("scipy.optimize")


def scipy_qap(A, B, method="faq", options=None):
    # A Generator keeps scipy off numpy's global RNG (and its FutureWarning).
    opts = {"rng": np.random.default_rng(0), **(options or {})}
    return scipy_optimize.quadratic_assignment(A, B, method=method, options=opts)


def _gen(seed):
    return np.random.default_rng(seed)


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
    r1 = ds.quadratic_assignment(A, B, options={"P0": "randomized", "rng": _gen(5)})
    r2 = ds.quadratic_assignment(A, B, options={"P0": "randomized", "rng": _gen(5)})
    np.testing.assert_array_equal(r1.col_ind, r2.col_ind)
    r3 = ds.quadratic_assignment(A, B, options={"shuffle_input": True, "rng": _gen(1)})
    assert r3.fun == pytest.approx(_objective(A, B, r3.col_ind))


def test_faq_maxiter_and_tol():
    rng = np.random.default_rng(4)
    A, B = _instance(rng, 20, True)
    assert ds.quadratic_assignment(A, B, options={"maxiter": 1}).nit == 1
    ref = scipy_qap(A, B, options={"tol": 1e-6, "maxiter": 50})
    res = ds.quadratic_assignment(A, B, options={"tol": 1e-6, "maxiter": 50})
    assert (res.nit, res.fun) == (ref.nit, pytest.approx(ref.fun, rel=1e-9))


@pytest.mark.parametrize("method", ["faq", "2opt", "2opt-steepest"])
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
            A, B, method="2opt-steepest", options={"P0": start, "maximize": maximize}
        )
        assert res.fun == pytest.approx(_objective(A, B, res.col_ind), rel=1e-10)
        sign = -1 if maximize else 1
        assert sign * res.fun <= sign * _objective(A, B, start) + 1e-9
        assert _is_two_opt_local_optimum(A, B, res.col_ind, maximize=maximize)


def test_two_opt_refines_faq_and_scipy_two_opt_agrees_on_local_optimality():
    rng = np.random.default_rng(8)
    A, B = _instance(rng, 30, True)
    faq = ds.quadratic_assignment(A, B)
    res = ds.quadratic_assignment(A, B, method="2opt-steepest", options={"P0": faq.col_ind})
    assert res.fun <= faq.fun + 1e-9
    # scipy's first-improvement 2-opt finds nothing to improve either.
    guess = np.column_stack([np.arange(30), res.col_ind])
    ref = scipy_qap(A, B, method="2opt", options={"partial_guess": guess})
    assert ref.fun == pytest.approx(res.fun, rel=1e-12)


def test_two_opt_partial_match_and_guess():
    rng = np.random.default_rng(9)
    A, B = _instance(rng, 9, False)
    seeds = np.array([[1, 4], [5, 0]])
    res = ds.quadratic_assignment(
        A, B, method="2opt", options={"partial_match": seeds, "rng": _gen(0)}
    )
    np.testing.assert_array_equal(res.col_ind[seeds[:, 0]], seeds[:, 1])
    assert _is_two_opt_local_optimum(A, B, res.col_ind, fixed=(1, 5))
    guess = np.array([[0, 4], [2, 3]])
    res = ds.quadratic_assignment(
        A,
        B,
        method="2opt-steepest",
        options={"partial_guess": guess, "partial_match": seeds, "maxiter": 0},
    )
    np.testing.assert_array_equal(res.col_ind[[1, 5, 2]], [4, 0, 3])
    np.testing.assert_array_equal(np.sort(res.col_ind), np.arange(9))


def test_two_opt_start_with_seeds_and_maxiter():
    A = np.arange(16.0).reshape(4, 4)
    start = np.array([0, 1, 2, 3])
    res = ds.quadratic_assignment(
        A,
        A.T,
        method="2opt-steepest",
        options={"P0": start, "partial_match": [[0, 2]], "maxiter": 0},
    )
    assert res.col_ind[0] == 2 and res.nit == 0
    np.testing.assert_array_equal(np.sort(res.col_ind), np.arange(4))
    P = np.eye(4)[[3, 2, 1, 0]]
    res = ds.quadratic_assignment(A, A, method="2opt-steepest", options={"P0": P, "maxiter": 0})
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
        (
            np.ones((3, 3)),
            np.ones((3, 3)),
            "2opt-steepest",
            {"P0": [0, 0, 1]},
            ValueError,
            "permutation",
        ),
        (
            np.ones((3, 3)),
            np.ones((3, 3)),
            "2opt-steepest",
            {"maxiter": -1},
            ValueError,
            "'maxiter'",
        ),
        (
            np.ones((2, 2)),
            np.ones((2, 2)),
            "2opt",
            {"rng": "x"},
            ValueError,
            "cannot be used to seed",
        ),
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
        "seed-too-large",
        "seed-negative",
        "seed-columns",
        "seed-not-unique",
        "steepest-bad-P0",
        "steepest-maxiter",
        "bad-rng",
        "nan",
        "strings",
    ],
)
def test_errors(A, B, method, options, exc, match):
    with pytest.raises(exc, match=match):
        ds.quadratic_assignment(A, B, method=method, options=options)


# --- scipy's "2opt": the same decisions, so the same result ---------------------


def _integral_instance(rng, n, symmetric):
    A = rng.integers(0, 10, (n, n)).astype(np.float64)
    B = rng.integers(0, 10, (n, n)).astype(np.float64)
    if symmetric:
        A, B = A + A.T, B + B.T
    return A, B


@pytest.mark.parametrize("values", ["continuous", "integers"])
@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "general"])
@pytest.mark.parametrize("maximize", [False, True], ids=["min", "max"])
def test_two_opt_returns_scipys_result(values, symmetric, maximize):
    # Same start (the same rng draws), same pair order, same acceptance: scipy's
    # col_ind, fun and nit, bit for bit, also with partial_match and partial_guess.
    # Their rows are listed in ascending order: scipy's 2opt (1.17) assigns the
    # listed columns to the rows in ascending order, whatever order the rows
    # are listed in, where ours keeps the pairs as given.
    rng = np.random.default_rng([11, symmetric, maximize, values == "integers"])
    make = _instance if values == "continuous" else _integral_instance
    for trial in range(12):
        n = int(rng.integers(1, 14))
        A, B = make(rng, n, symmetric)
        opts = {"maximize": maximize}
        if trial % 3 == 1 and n >= 3:
            rows = np.sort(rng.choice(n, 2, replace=False))
            opts["partial_match"] = np.column_stack([rows, rng.choice(n, 2, replace=False)])
        if trial % 3 == 2 and n >= 4:
            rows = np.sort(rng.choice(n, 3, replace=False))
            opts["partial_guess"] = np.column_stack([rows, rng.choice(n, 3, replace=False)])
        ref = scipy_optimize.quadratic_assignment(
            A, B, method="2opt", options={**opts, "rng": _gen(trial)}
        )
        res = ds.quadratic_assignment(A, B, method="2opt", options={**opts, "rng": _gen(trial)})
        assert res.col_ind.tolist() == ref.col_ind.tolist()
        assert res.fun == ref.fun
        assert res.nit == ref.nit


def test_two_opt_counts_every_pair_of_a_final_pass():
    # Started at a local optimum, one pass tries every pair (i, j), i <= j, of free rows.
    rng = np.random.default_rng(12)
    A, B = _instance(rng, 9, False)
    first = ds.quadratic_assignment(A, B, method="2opt", options={"rng": _gen(1)})
    guess = np.column_stack([np.arange(9), first.col_ind])
    again = ds.quadratic_assignment(A, B, method="2opt", options={"partial_guess": guess})
    assert again.col_ind.tolist() == first.col_ind.tolist() and again.nit == 9 * 10 // 2
    match = guess[[0, 4, 8]]
    fixed = ds.quadratic_assignment(
        A, B, method="2opt", options={"partial_guess": guess, "partial_match": match}
    )
    assert fixed.nit == 6 * 7 // 2


def test_rng_is_read_as_scipy_reads_it():
    A, B = _instance(np.random.default_rng(13), 8, False)
    with pytest.warns(FutureWarning, match="The behavior when the rng option is an integer"):
        ours = ds.quadratic_assignment(A, B, method="2opt", options={"rng": 3})
    with pytest.warns(FutureWarning):
        ref = scipy_optimize.quadratic_assignment(A, B, method="2opt", options={"rng": 3})
    # An integer seeds a RandomState, as in scipy: the same start, the same result.
    assert ours.col_ind.tolist() == ref.col_ind.tolist() and ours.nit == ref.nit
    with pytest.warns(DeprecationWarning, match="Use of `RandomState`"):
        ds.quadratic_assignment(A, B, method="2opt", options={"rng": np.random.RandomState(0)})
    state = np.random.get_state()  # noqa: NPY002 - the global RNG is what is tested
    try:
        np.random.seed(5)  # noqa: NPY002
        with pytest.warns(FutureWarning, match="The NumPy global RNG was seeded"):
            ours = ds.quadratic_assignment(A, B, method="2opt")
        np.random.seed(5)  # noqa: NPY002
        with pytest.warns(FutureWarning):
            ref = scipy_optimize.quadratic_assignment(A, B, method="2opt")
        assert ours.col_ind.tolist() == ref.col_ind.tolist()
    finally:
        np.random.set_state(state)  # noqa: NPY002


def test_a_generator_gives_no_warning():
    import warnings

    A, B = _instance(np.random.default_rng(14), 6, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds.quadratic_assignment(A, B, method="2opt", options={"rng": _gen(0)})
        ds.quadratic_assignment(A, B, options={"rng": _gen(0)})


@pytest.mark.parametrize("method", ["faq", "2opt", "2opt-steepest"])
def test_unknown_options_warn_and_are_ignored(method):
    A, B = _instance(np.random.default_rng(15), 7, False)
    with pytest.warns(scipy_optimize.OptimizeWarning, match="Unknown solver options: bogus"):
        res = ds.quadratic_assignment(A, B, method=method, options={"bogus": 1, "rng": _gen(2)})
    ref = ds.quadratic_assignment(A, B, method=method, options={"rng": _gen(2)})
    assert res.col_ind.tolist() == ref.col_ind.tolist()


def test_steepest_options_are_unknown_to_scipys_two_opt():
    A, B = _instance(np.random.default_rng(16), 5, False)
    with pytest.warns(scipy_optimize.OptimizeWarning, match="P0, maxiter"):
        ds.quadratic_assignment(
            A, B, method="2opt", options={"P0": np.arange(5), "maxiter": 0, "rng": _gen(0)}
        )


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 9),
    seed=st.integers(0, 2**32 - 1),
    symmetric=st.booleans(),
    swaps=st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), max_size=4),
)
def test_exchange_changes_equal_brute_force(n, seed, symmetric, swaps):
    # Every pair's change, after any exchanges made through the O(n^2) updates,
    # equals the change of the objective recomputed from scratch.
    from descramble.qap import _Exchanges

    rng = np.random.default_rng(seed)
    A, B = _instance(rng, n, symmetric)
    perm = rng.permutation(n)
    ex = _Exchanges(A, B, perm)
    for r, s_ in swaps:
        r, s_ = r % n, s_ % n
        if r != s_:
            perm[[r, s_]] = perm[[s_, r]]
            ex.swap(r, s_)
    delta = ex.delta(0, n)
    base = _objective(A, B, perm)
    for r, s_ in itertools.product(range(n), repeat=2):
        q = perm.copy()
        q[[r, s_]] = q[[s_, r]]
        assert delta[r, s_] == pytest.approx(_objective(A, B, q) - base, abs=1e-9 * n * n)
    np.testing.assert_allclose(ex.delta(1, n - 1), delta[1 : n - 1])


def test_two_opt_keeps_the_given_pairs_in_any_order():
    # Where scipy's 2opt mispairs unsorted rows, ours keeps row -> column as given.
    A, B = _instance(np.random.default_rng(17), 6, False)
    match = np.array([[4, 0], [1, 5]])
    res = ds.quadratic_assignment(
        A, B, method="2opt", options={"partial_match": match, "rng": _gen(0)}
    )
    assert res.col_ind[4] == 0 and res.col_ind[1] == 5

"""ds.linear_sum_assignment against scipy, brute force and the LAP's algebra.

Assignments are compared by their total cost, never by their indices: with
ties, several matchings are optimal.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import _helpers
import descramble as ds
from _helpers import assignment_total as _total

scipy_optimize = pytest.importorskip("scipy.optimize")
scipy_lsa = scipy_optimize.linear_sum_assignment


def _family(rng, kind, shape):
    if kind == "uniform":
        return rng.random(shape)
    if kind == "normal":
        return rng.standard_normal(shape) * 1e3
    if kind == "ties":  # few distinct values: many optimal matchings
        return rng.integers(0, 3, shape).astype(np.float64)
    if kind == "integers":
        return rng.integers(-50, 50, shape)
    if kind == "bool":
        return rng.random(shape) < 0.5
    if kind == "inf":  # forbidden pairs (possibly infeasible)
        c = rng.integers(0, 10, shape).astype(np.float64)
        c[rng.random(shape) < 0.35] = np.inf
        return c
    if kind == "float32":
        return rng.random(shape).astype(np.float32)
    raise AssertionError(kind)


def _check_matching(rows, cols, shape):
    k = min(shape)
    assert rows.dtype == np.int64 and cols.dtype == np.int64
    assert rows.shape == cols.shape == (k,)
    assert np.all(np.diff(rows) > 0)
    assert len(np.unique(cols)) == k
    if k:
        assert rows.min() >= 0 and rows.max() < shape[0]
        assert cols.min() >= 0 and cols.max() < shape[1]


def _compare(cost, maximize):
    ref = _helpers.scipy_matching_or_same_error(cost, maximize)
    if ref is None:
        return
    rows, cols = ds.linear_sum_assignment(cost, maximize=maximize)
    _check_matching(rows, cols, np.shape(cost))
    expect = _total(cost, *ref)
    got = _total(cost, rows, cols)
    assert got == pytest.approx(expect, rel=1e-12, abs=1e-9)


KINDS = ["uniform", "normal", "ties", "integers", "bool", "inf", "float32"]
SHAPES = ["square", "wide", "tall"]


@pytest.mark.parametrize("maximize", [False, True], ids=["min", "max"])
@pytest.mark.parametrize("shape_kind", SHAPES)
@pytest.mark.parametrize("kind", KINDS)
def test_matches_scipy_on_many_small_instances(kind, shape_kind, maximize):
    rng = np.random.default_rng([KINDS.index(kind), SHAPES.index(shape_kind), maximize])
    for _ in range(120):
        n = int(rng.integers(1, 12))
        m = {"square": n, "wide": n + int(rng.integers(1, 6)), "tall": max(n - 3, 1)}[shape_kind]
        cost = _family(rng, kind, (n, m))
        if kind == "inf" and maximize:
            cost = -cost  # -inf is the forbidden value when maximising
        _compare(cost, maximize)


@pytest.mark.parametrize("n", [50, 200, 500])
@pytest.mark.parametrize("kind", ["uniform", "ties", "float32"])
def test_matches_scipy_on_larger_instances(kind, n):
    rng = np.random.default_rng(n)
    for shape in [(n, n), (n, n + n // 3), (n + 7, n)]:
        _compare(_family(rng, kind, shape), False)


def test_planted_permutation_is_found():
    rng = np.random.default_rng(5)
    n = 300
    perm = rng.permutation(n)
    cost = 1 + rng.random((n, n))
    cost[np.arange(n), perm] = 0
    rows, cols = ds.linear_sum_assignment(cost)
    np.testing.assert_array_equal(cols, perm)


@pytest.mark.parametrize("n", range(1, 7))
def test_brute_force(n):
    rng = np.random.default_rng(100 + n)
    for m in (n, n + 1, n + 2):
        for _ in range(10):
            cost = rng.integers(0, 5, (n, m)).astype(np.float64)
            perms = np.array(list(itertools.permutations(range(m), n)))
            best = cost[np.arange(n), perms].sum(axis=1).min()
            rows, cols = ds.linear_sum_assignment(cost)
            assert _total(cost, rows, cols) == best
            rows, cols = ds.linear_sum_assignment(cost.T)  # tall
            assert _total(cost.T, rows, cols) == best


@pytest.mark.parametrize(
    "layout",
    ["C", "F", "strided-rows", "strided-cols", "negative-stride"],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_memory_layouts(layout, dtype):
    rng = np.random.default_rng(7)
    base = rng.random((40, 60)).astype(dtype)
    cost = {
        "C": base[:, :30],
        "F": np.asfortranarray(base[:, :30]),
        "strided-rows": base[::2, :30],
        "strided-cols": base[:, ::2],
        "negative-stride": base[::-1, 29::-1],
    }[layout]
    ref = scipy_lsa(cost)
    rows, cols = ds.linear_sum_assignment(cost)
    _check_matching(rows, cols, cost.shape)
    assert _total(cost, rows, cols) == pytest.approx(_total(cost, *ref), rel=1e-12)


@pytest.mark.parametrize(
    "dtype",
    [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64, np.float16, np.float32, bool],
    ids=lambda d: np.dtype(d).name,
)
def test_dtypes(dtype):
    rng = np.random.default_rng(3)
    cost = rng.integers(0, 100, (9, 13)).astype(dtype)
    rows, cols = ds.linear_sum_assignment(cost)
    ref = scipy_lsa(cost.astype(np.float64))
    assert _total(cost, rows, cols) == _total(cost, *ref)


def test_python_lists_are_converted_as_scipy_converts_them():
    rows, cols = ds.linear_sum_assignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
    assert cols.tolist() == [1, 0, 2]
    # Lists go through np.asarray(cost, dtype=float64), numeric strings included.
    rows, cols = ds.linear_sum_assignment([["1.5", "0.5"], ["0.25", "2"]])
    assert cols.tolist() == [1, 0]


@pytest.mark.parametrize(
    "shape", [(8, 8), (1, 1), (3, 5), (5, 3), (40, 40)], ids=lambda s: f"{s[0]}x{s[1]}"
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32, bool])
@pytest.mark.parametrize("maximize", [False, True], ids=["min", "max"])
def test_constant_matrix_gives_scipy_matching(shape, dtype, maximize):
    # Every matching is optimal; scipy returns rows 0..k-1 on columns 0..k-1
    # (scipy issue #11602), and so do we.
    k = min(shape)
    cost = np.ones(shape, dtype=dtype)
    rows, cols = ds.linear_sum_assignment(cost, maximize=maximize)
    ref_rows, ref_cols = scipy_lsa(cost, maximize=maximize)
    assert rows.tolist() == ref_rows.tolist() == list(range(k))
    assert cols.tolist() == ref_cols.tolist() == list(range(k))


def test_unique_optimum_gives_scipy_matching():
    rng = np.random.default_rng(12)
    for n, m in [(7, 7), (30, 30), (6, 11), (11, 6), (200, 200)]:
        cost = rng.random((n, m))
        for maximize in (False, True):
            rows, cols = ds.linear_sum_assignment(cost, maximize=maximize)
            ref = scipy_lsa(cost, maximize=maximize)
            assert rows.tolist() == ref[0].tolist() and cols.tolist() == ref[1].tolist()


HUGE = np.finfo(np.float64).max


def _brute_force_best(cost, maximize):
    """The optimal total of a square problem over all permutations (exactly scaled)."""
    scaled = cost * 2.0**-64  # exact: keeps the sums of near-maximal costs finite
    n = len(cost)
    totals = [scaled[np.arange(n), p].sum() for p in itertools.permutations(range(n))]
    return max(totals) if maximize else min(totals)


def test_finite_costs_near_the_largest_double_are_solved():
    # Regression: the duals, differences of such costs, overflowed, and this
    # finite 3 x 3 problem was reported infeasible. scipy solves it.
    cost = np.array([[0.7, -0.8, -0.6], [-0.8, 0.5, 0.7], [-0.3, 0.4, 1.0]]) * HUGE
    rows, cols = ds.linear_sum_assignment(cost)
    assert cols.tolist() == scipy_lsa(cost)[1].tolist() == [2, 0, 1]


@pytest.mark.parametrize("maximize", [False, True], ids=["min", "max"])
def test_huge_costs_reach_the_brute_force_optimum(maximize):
    # On such costs scipy's own duals overflow and its matching is often not
    # optimal, so the reference is brute force over all permutations.
    rng = np.random.default_rng(4)
    for n in [2, 3, 4, 5, 6] * 8:
        cost = rng.uniform(-1, 1, (n, n)) * HUGE
        rows, cols = ds.linear_sum_assignment(cost, maximize=maximize)
        _check_matching(rows, cols, (n, n))
        got = (cost[rows, cols] * 2.0**-64).sum()
        assert got == pytest.approx(_brute_force_best(cost, maximize), rel=1e-12)


def test_huge_rectangular_and_forbidden_costs_match_scipy_on_the_scaled_problem():
    rng = np.random.default_rng(5)
    for shape in [(4, 9), (9, 4), (40, 40), (30, 70)]:
        cost = rng.uniform(-1, 1, shape) * HUGE
        cost[rng.random(shape) < 0.1] = np.inf
        ref = _helpers.scipy_matching_or_same_error(cost * 2.0**-64, False)
        if ref is None:
            continue
        rows, cols = ds.linear_sum_assignment(cost)
        _check_matching(rows, cols, shape)
        scaled = cost * 2.0**-64
        assert scaled[rows, cols].sum() == pytest.approx(scaled[ref].sum(), rel=1e-12)


def test_huge_costs_still_report_invalid_entries():
    cost = np.array([[HUGE, 1.0], [np.nan, 2.0]])
    with pytest.raises(ValueError, match="invalid numeric entries"):
        ds.linear_sum_assignment(cost)


@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0)], ids=["0x0", "0x3", "3x0"])
def test_empty(shape):
    rows, cols = ds.linear_sum_assignment(np.zeros(shape))
    assert rows.dtype == cols.dtype == np.int64
    assert rows.shape == cols.shape == (0,)


def test_one_by_one_and_constant():
    rows, cols = ds.linear_sum_assignment([[7.0]])
    assert rows.tolist() == [0] and cols.tolist() == [0]
    rows, cols = ds.linear_sum_assignment(np.full((5, 8), 2.5))
    _check_matching(rows, cols, (5, 8))


def test_scipy_documented_example():
    cost = np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
    rows, cols = ds.linear_sum_assignment(cost)
    assert rows.tolist() == [0, 1, 2] and cols.tolist() == [1, 0, 2]
    assert cost[rows, cols].sum() == 5


def test_wide_and_tall_maximize():
    rng = np.random.default_rng(11)
    cost = rng.random((4, 9))
    for c in (cost, cost.T):
        rows, cols = ds.linear_sum_assignment(c, maximize=True)
        assert _total(c, rows, cols) == pytest.approx(_total(c, *scipy_lsa(c, maximize=True)))


def test_forbidden_entries_are_avoided():
    cost = np.array([[np.inf, 1.0, 2.0], [1.0, np.inf, 5.0], [np.inf, 3.0, np.inf]])
    rows, cols = ds.linear_sum_assignment(cost)
    assert np.isfinite(cost[rows, cols]).all()
    assert cost[rows, cols].sum() == 6.0
    rows, cols = ds.linear_sum_assignment(-cost, maximize=True)
    assert cost[rows, cols].sum() == 6.0


def test_deterministic():
    rng = np.random.default_rng(2)
    cost = rng.integers(0, 3, (60, 60))
    first = ds.linear_sum_assignment(cost)
    for _ in range(3):
        again = ds.linear_sum_assignment(cost.copy())
        np.testing.assert_array_equal(first[1], again[1])


def test_float32_is_not_upcast_in_precision_of_duals():
    # Costs with a wide range: float32 storage, double duals. The optimum of
    # the float32 values is the optimum of the same values in float64.
    rng = np.random.default_rng(9)
    cost = (rng.random((300, 300)) * 10.0 ** rng.integers(-3, 4, (300, 300))).astype(np.float32)
    rows, cols = ds.linear_sum_assignment(cost)
    ref = scipy_lsa(cost.astype(np.float64))
    assert _total(cost, rows, cols) == pytest.approx(_total(cost, *ref), rel=1e-12)


@pytest.mark.parametrize(
    "bad, maximize, exc, match",
    [
        (np.array([[np.nan, 1.0], [1.0, 1.0]]), False, ValueError, "invalid numeric entries"),
        (np.array([[-np.inf, 1.0], [1.0, 1.0]]), False, ValueError, "invalid numeric entries"),
        (np.array([[np.inf, 1.0], [1.0, 1.0]]), True, ValueError, "invalid numeric entries"),
        (np.array([[np.inf, np.inf], [1.0, 1.0]]), False, ValueError, "cost matrix is infeasible"),
        (np.array([[-np.inf, 0.0], [-np.inf, 1.0]]), True, ValueError, "cost matrix is infeasible"),
        (np.zeros(3), False, ValueError, r"expected a matrix \(2-D array\), got a 1 array"),
        (np.zeros((2, 2, 2)), False, ValueError, r"expected a matrix \(2-D array\), got a 3 array"),
        (np.array([["a"]]), False, TypeError, "Cannot cast array data"),
        (np.array([[1 + 1j]]), False, TypeError, "Cannot cast array data"),
        (np.array([[object()]]), False, TypeError, "Cannot cast array data"),
        (np.array([[1.0, 2.0]], dtype=object), False, TypeError, "Cannot cast array data"),
        (np.eye(2, dtype=np.longdouble), False, TypeError, "Cannot cast array data"),
        ([[1.0, "a"]], False, ValueError, "could not convert string to float"),
    ],
    ids=[
        "nan",
        "-inf",
        "+inf-maximize",
        "infeasible",
        "infeasible-maximize",
        "1-D",
        "3-D",
        "strings",
        "complex",
        "object",
        "numeric-object",
        "longdouble",
        "string-in-list",
    ],
)
def test_errors_match_scipy(bad, maximize, exc, match):
    with pytest.raises(exc, match=match):
        scipy_lsa(bad, maximize=maximize)
    with pytest.raises(exc, match=match):
        ds.linear_sum_assignment(bad, maximize=maximize)


def test_float32_errors():
    bad = np.array([[np.nan, 1.0]], dtype=np.float32)
    with pytest.raises(ValueError, match="invalid numeric entries"):
        ds.linear_sum_assignment(bad)


# --- batch -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_3d_array(dtype):
    rng = np.random.default_rng(4)
    costs = rng.random((17, 12, 15)).astype(dtype)
    out = ds.linear_sum_assignment_batch(costs, maximize=True)
    assert len(out) == 17
    for c, (rows, cols) in zip(costs, out, strict=True):
        _check_matching(rows, cols, c.shape)
        ref = scipy_lsa(c, maximize=True)
        assert _total(c, rows, cols) == pytest.approx(_total(c, *ref), rel=1e-12)


def test_batch_list_of_mixed_shapes():
    rng = np.random.default_rng(6)
    costs = [rng.random((int(rng.integers(0, 9)), int(rng.integers(0, 9)))) for _ in range(40)]
    costs.append(rng.integers(0, 3, (6, 4)))
    out = ds.linear_sum_assignment_batch(costs)
    for c, (rows, cols) in zip(costs, out, strict=True):
        ours = ds.linear_sum_assignment(c)
        np.testing.assert_array_equal(rows, ours[0])
        np.testing.assert_array_equal(cols, ours[1])


def test_batch_empty_list():
    assert ds.linear_sum_assignment_batch([]) == []


def test_batch_errors_name_the_problem():
    good = np.ones((3, 3))
    with pytest.raises(ValueError, match="problem 1: cost matrix is infeasible"):
        ds.linear_sum_assignment_batch([good, np.full((2, 2), np.inf), good])
    with pytest.raises(ValueError, match=r"problem 0: expected a matrix \(2-D array\)"):
        ds.linear_sum_assignment_batch([np.ones(3)])
    with pytest.raises(ValueError, match="expected a 3-D array of cost matrices"):
        ds.linear_sum_assignment_batch(np.ones((3, 3)))


# --- algebra (hypothesis) ----------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 8),
    m=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
    shift=st.floats(-100, 100, allow_nan=False),
)
def test_invariances(n, m, seed, shift):
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 6, (n, m)).astype(np.float64)
    base = _total(cost, *ds.linear_sum_assignment(cost))
    # Permuting rows and columns does not change the optimal total.
    pr, pc = rng.permutation(n), rng.permutation(m)
    shuffled = cost[pr][:, pc]
    assert _total(shuffled, *ds.linear_sum_assignment(shuffled)) == pytest.approx(base)
    # A constant added to a whole row (n <= m: every row is matched) shifts the total.
    if n <= m:
        moved = cost.copy()
        moved[0] += shift
        got = _total(moved, *ds.linear_sum_assignment(moved))
        assert got == pytest.approx(base + shift, abs=1e-9)
    # Maximising c is minimising -c.
    assert _total(cost, *ds.linear_sum_assignment(cost, maximize=True)) == pytest.approx(
        -_total(-cost, *ds.linear_sum_assignment(-cost))
    )


# --- malformed input: scipy's exception types --------------------------------

_ELEMENTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.sampled_from(["1.5", "abc", "", "nan", b"2"]),
    st.none(),
    st.complex_numbers(allow_nan=False, max_magnitude=10),
)
_DTYPES = [
    "float64", "float32", "float16", "longdouble", "int8", "int64", "uint64", "bool",
    "complex128", "object", "U3", "S3", "m8[s]", "M8[s]",
]  # fmt: skip


def _malformed(draw):
    shape = draw(
        st.sampled_from([(), (0,), (3,), (0, 0), (2, 0), (2, 2), (3, 2), (2, 3), (2, 2, 2)])
    )
    size = int(np.prod(shape))
    values = draw(st.lists(_ELEMENTS, min_size=size, max_size=size))
    as_list = draw(st.booleans())
    if as_list:
        # A nested list, or a ragged one.
        arr = np.empty(size, dtype=object)
        arr[:] = values
        out = arr.reshape(shape).tolist() if shape else (values[0] if values else 0.0)
        if draw(st.booleans()) and isinstance(out, list) and out and isinstance(out[0], list):
            out[0] = out[0][:-1]
        return out
    dtype = draw(st.sampled_from(_DTYPES))
    arr = np.empty(size, dtype=object)
    arr[:] = values
    try:
        return arr.reshape(shape).astype(dtype)
    except (TypeError, ValueError, OverflowError):
        return np.zeros(shape, dtype=dtype)


@settings(max_examples=250, deadline=None)
@given(data=st.data(), maximize=st.booleans())
def test_malformed_input_raises_what_scipy_raises(data, maximize):
    cost = _malformed(data.draw)
    outcome = []
    for solve in (scipy_lsa, ds.linear_sum_assignment):
        try:
            with np.errstate(all="ignore"):
                outcome.append(solve(cost, maximize=maximize))
        except Exception as exc:  # noqa: BLE001 - the types are what is compared
            outcome.append(exc)
    ref, ours = outcome
    if isinstance(ref, Exception):
        assert type(ours) is type(ref), (cost, ref, ours)
        assert str(ours) == str(ref)
    else:
        assert not isinstance(ours, Exception), (cost, ours)
        c = np.asarray(cost, dtype=np.float64) if isinstance(cost, list) else cost
        assert _total(c, *ours) == pytest.approx(_total(c, *ref), rel=1e-12, abs=1e-9)

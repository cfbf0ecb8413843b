"""The solver's separate code paths, each against scipy.

The C++ core runs a different initialisation for wide matrices (augmenting row
reduction from zero column duals, validating the matrix as it goes) than for
square ones (column reduction), falls back to plain shortest augmenting paths
when a forbidden (+inf) entry turns up, splits rows into blocks of 128 columns
in its row passes, and allows longer row reductions on larger matrices. Every
path is checked here by the optimal total, never by indices (ties).
"""

import numpy as np
import pytest

import _helpers
import descramble as ds
from _helpers import assignment_total as _total

scipy_optimize = pytest.importorskip("scipy.optimize")
scipy_lsa = scipy_optimize.linear_sum_assignment


def _assert_optimal(cost, maximize=False):
    rows, cols = ds.linear_sum_assignment(cost, maximize=maximize)
    k = min(np.shape(cost))
    assert rows.shape == cols.shape == (k,)
    assert np.all(np.diff(rows) > 0)
    assert len(np.unique(cols)) == k
    expect = _total(cost, *scipy_lsa(cost, maximize=maximize))
    assert _total(cost, rows, cols) == pytest.approx(expect, rel=1e-12, abs=1e-9)


def _cost(rng, kind, shape):
    if kind == "uniform":
        return rng.random(shape)
    if kind == "ties":
        return rng.integers(0, 3, shape).astype(np.float64)
    if kind == "integers":
        return rng.integers(0, 1000, shape)
    if kind == "float32":
        return rng.random(shape).astype(np.float32)
    if kind == "planted":
        cost = 1.0 + rng.random(shape)
        cols = rng.permutation(shape[1])[: shape[0]]
        cost[np.arange(shape[0]), cols] = 0.1 * rng.random(shape[0])
        return cost
    raise AssertionError(kind)


WIDE_KINDS = ["uniform", "ties", "integers", "float32", "planted"]


@pytest.mark.parametrize("maximize", [False, True], ids=["min", "max"])
@pytest.mark.parametrize("kind", WIDE_KINDS)
@pytest.mark.parametrize(
    "shape",
    [(1, 5), (3, 4), (20, 21), (50, 100), (100, 1000), (300, 310), (257, 514)],
    ids=lambda s: f"{s[0]}x{s[1]}",
)
def test_wide_initialisation(shape, kind, maximize):
    rng = np.random.default_rng([shape[0], shape[1], WIDE_KINDS.index(kind), maximize])
    for _ in range(3):
        _assert_optimal(_cost(rng, kind, shape), maximize)


@pytest.mark.parametrize("kind", ["uniform", "ties", "float32"])
@pytest.mark.parametrize("ncols", [127, 128, 129, 255, 256, 257, 385])
@pytest.mark.parametrize("layout", ["square", "wide", "tall"])
def test_block_boundaries(layout, ncols, kind):
    # The row passes keep one minimum per block of 128 columns: the smallest
    # and second smallest entries may sit in the same block, in different
    # blocks, or in the short last block.
    rng = np.random.default_rng([ncols, ["square", "wide", "tall"].index(layout)])
    nrows = {"square": ncols, "wide": ncols // 2 + 1, "tall": ncols + 40}[layout]
    for _ in range(2):
        _assert_optimal(_cost(rng, kind, (nrows, ncols)))


def test_minimum_in_each_block_position():
    # One row, a unique minimum (and a runner-up) placed in every block in turn.
    ncols = 300
    for pos_min in (0, 127, 128, 200, 255, 256, 299):
        for pos_second in (1, 129, 299, 0):
            if pos_second == pos_min:
                continue
            cost = np.full((2, ncols), 10.0)
            cost[0, pos_min] = 1.0
            cost[0, pos_second] = 2.0
            cost[1, pos_min] = 1.5  # row 1 also wants the column
            _assert_optimal(cost)


@pytest.mark.parametrize("n", [600, 1100])
def test_larger_square_with_longer_row_reduction(n):
    # n >= 512 allows several immediate re-processings per row.
    rng = np.random.default_rng(n)
    _assert_optimal(rng.random((n, n)))
    _assert_optimal(rng.integers(0, 50, (n, n)))


@pytest.mark.parametrize("maximize", [False, True], ids=["min", "max"])
@pytest.mark.parametrize("density", [0.05, 0.3, 0.6])
@pytest.mark.parametrize("layout", ["square", "wide", "tall"])
def test_forbidden_entries_fall_back(layout, density, maximize):
    # A +inf (maximize: -inf) entry stops the initialisation; the answer must
    # still be optimal, or the error scipy raises when no matching avoids them.
    rng = np.random.default_rng([int(density * 100), ["square", "wide", "tall"].index(layout)])
    for _ in range(30):
        n = int(rng.integers(2, 40))
        m = {"square": n, "wide": n + int(rng.integers(1, 30)), "tall": max(n // 2, 1)}[layout]
        cost = rng.random((n, m)) * 10
        cost[rng.random((n, m)) < density] = np.inf
        if maximize:
            cost = -cost
        ref = _helpers.scipy_matching_or_same_error(cost, maximize)
        if ref is None:
            continue
        rows, cols = ds.linear_sum_assignment(cost, maximize=maximize)
        assert np.isfinite(cost[rows, cols]).all()
        assert _total(cost, rows, cols) == pytest.approx(_total(cost, *ref), rel=1e-12)


def test_forbidden_entry_in_a_late_row_of_a_wide_matrix():
    rng = np.random.default_rng(1)
    cost = rng.random((200, 300))
    cost[170, 5] = np.inf
    _assert_optimal(cost)


@pytest.mark.parametrize(
    "cost",
    [
        np.array([[np.inf, np.inf, np.inf], [1.0, 2.0, 3.0]]),
        np.array([[1.0, np.inf, np.inf], [2.0, np.inf, np.inf]]),
        np.array([[1.0, 2.0, 3.0], [np.inf] * 3]),
    ],
    ids=["first-row-forbidden", "two-rows-one-column", "last-row-forbidden"],
)
def test_wide_infeasible(cost):
    with pytest.raises(ValueError, match="cost matrix is infeasible"):
        scipy_lsa(cost)
    with pytest.raises(ValueError, match="cost matrix is infeasible"):
        ds.linear_sum_assignment(cost)


@pytest.mark.parametrize("bad", [np.nan, -np.inf], ids=["nan", "-inf"])
@pytest.mark.parametrize("layout", ["square", "wide", "tall"])
@pytest.mark.parametrize("where", ["first", "after-forbidden", "last"])
def test_invalid_entry_anywhere_is_rejected(where, layout, bad):
    # The initialisation validates as it reads, and stops early at a +inf:
    # an invalid entry in a row it has not read yet must still be found.
    rng = np.random.default_rng(2)
    shape = {"square": (150, 150), "wide": (150, 260), "tall": (260, 150)}[layout]
    cost = rng.random(shape)
    if where == "first":
        cost[0, 3] = bad
    elif where == "after-forbidden":
        cost[1, 7] = np.inf
        cost[100, 140] = bad
    else:
        cost[-1, -1] = bad
    for c, maximize in ((cost, False), (-cost, True)):
        with pytest.raises(ValueError, match="matrix contains invalid numeric entries"):
            scipy_lsa(c, maximize=maximize)
        with pytest.raises(ValueError, match="matrix contains invalid numeric entries"):
            ds.linear_sum_assignment(c, maximize=maximize)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wide_forbidden_and_invalid_in_float32_and_float64(dtype):
    cost = np.ones((3, 5), dtype=dtype)
    cost[0, 0] = np.inf
    rows, cols = ds.linear_sum_assignment(cost)
    assert np.isfinite(cost[rows, cols]).all()
    cost[2, 4] = np.nan
    with pytest.raises(ValueError, match="matrix contains invalid numeric entries"):
        ds.linear_sum_assignment(cost)


def test_huge_finite_costs_are_not_mistaken_for_infinite():
    # The validation flags a row through x * 0 (NaN for NaN and inf only) and
    # classifies flagged rows exactly: large finite values pass.
    rng = np.random.default_rng(3)
    for shape in [(40, 40), (30, 70)]:
        cost = rng.random(shape) * 1e300
        _assert_optimal(cost)
        _assert_optimal((rng.random(shape) * 3e38).astype(np.float32))


@pytest.mark.parametrize("maximize", [False, True], ids=["min", "max"])
@pytest.mark.parametrize("layout", ["C", "F", "strided-rows", "strided-cols", "negative-stride"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32], ids=["int64", "int32"])
def test_native_integer_costs(dtype, layout, maximize):
    # int64 and int32 are read without a float64 copy, in any layout.
    rng = np.random.default_rng(4)
    base = rng.integers(-500, 500, (120, 120)).astype(dtype)
    for shape in [(40, 40), (30, 50), (50, 30)]:
        view = base[: shape[0] * 2 : 2, : shape[1]] if layout == "strided-rows" else None
        cost = {
            "C": base[: shape[0], : shape[1]],
            "F": np.asfortranarray(base[: shape[0], : shape[1]]),
            "strided-rows": view,
            "strided-cols": base[: shape[0], : shape[1] * 2 : 2][:, : shape[1]],
            "negative-stride": base[shape[0] - 1 :: -1, shape[1] - 1 :: -1],
        }[layout]
        assert cost.dtype == dtype and cost.shape == shape
        _assert_optimal(cost, maximize)


def test_large_int64_costs_round_like_scipy():
    # Beyond 2**53 the core rounds each entry to double as it reads it, as
    # scipy's float64 conversion does: the optimal totals of the rounded
    # costs agree.
    rng = np.random.default_rng(5)
    cost = rng.integers(2**60, 2**62, (30, 45), dtype=np.int64)
    rows, cols = ds.linear_sum_assignment(cost)
    as_float = cost.astype(np.float64)
    expect = _total(as_float, *scipy_lsa(as_float))
    assert _total(as_float, rows, cols) == pytest.approx(expect, rel=1e-15)


@pytest.mark.parametrize(
    "dtype",
    [np.bool_, np.int8, np.int16, np.uint8, np.uint16, np.uint32, np.uint64],
    ids=lambda d: np.dtype(d).name,
)
def test_other_integer_dtypes_are_widened_exactly(dtype):
    rng = np.random.default_rng(6)
    hi = 2 if dtype is np.bool_ else 100
    cost = rng.integers(0, hi, (25, 35)).astype(dtype)
    for c in (cost, cost.T):
        _assert_optimal(c)
        _assert_optimal(c, maximize=True)

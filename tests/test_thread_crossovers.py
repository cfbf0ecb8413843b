"""Every kernel on both sides of the size from which it uses more than one thread.

The sizes come from the core (_core.crossovers(), defined in
cpp/src/thread_policy.hpp), so these cases follow the crossovers when they are
retuned. On each side the result must match an independent numpy or scipy
reference: a threaded path that split, skipped or double-counted work would
not. The eigensolver's own phases are covered in test_eigh_paths.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import _helpers
import descramble as ds
from descramble import _core, leading

CROSSOVERS = _core.crossovers()
STREAM_PASS = CROSSOVERS["stream_pass_parallel_entries"]
RANK_UPDATE_FLOPS = CROSSOVERS["rank_update_parallel_flops"]
SHARED_PANEL_MIN = CROSSOVERS["rank_update_shared_panel_min"]
MIN_ROWS_PER_THREAD = CROSSOVERS["min_rows_per_thread"]

# The LAPACK references run on one BLAS thread (see conftest.single_threaded_blas).
pytestmark = pytest.mark.usefixtures("single_threaded_blas")


def _assert_moments_match(m: ds.Moments, x: np.ndarray) -> None:
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    centred = x - mean
    scatter = centred.T @ centred
    gram = x.T @ x
    assert m.count == x.shape[0]
    np.testing.assert_allclose(m.mean, mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m.scatter(), scatter, rtol=0, atol=1e-12 * np.abs(scatter).max())
    np.testing.assert_allclose(m.gram(), gram, rtol=0, atol=1e-12 * np.abs(gram).max())


def test_every_crossover_is_read_by_a_test():
    # A crossover no test reads would drift away from its tests unnoticed.
    texts = [p.read_text() for p in Path(__file__).resolve().parent.glob("test_*.py")]
    unread = [name for name in CROSSOVERS if not any(f'"{name}"' in t for t in texts)]
    assert not unread


@pytest.mark.parametrize("side", [-1, 0], ids=["one-thread", "threaded"])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_stream_pass_both_sides(side, layout):
    # rows x n around the validation / column-sum pass's crossover; few flops,
    # so the rank-k update is the same on both sides.
    n = 16
    rows = STREAM_PASS // n + side
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, n)) * 3.0 + 40.0
    order = "C" if layout == "C" else "F"
    _assert_moments_match(ds.Moments(n).update(np.asarray(x, order=order)), x)
    # A bad value near the end is found, reported by its row, and leaves no trace.
    bad = np.array(x, order=order)
    bad[rows - 3, n - 1] = np.inf
    m = ds.Moments(n)
    with pytest.raises(ValueError, match=rf"row {rows - 3} contains NaN or infinity"):
        m.update(bad)
    assert m.count == 0


@pytest.mark.parametrize("side", [-1, 0], ids=["one-thread", "threaded"])
def test_merge_and_mirror_both_sides(side):
    # n x n entries around the crossover of the merge and of the full-matrix
    # mirror (scatter() and gram()).
    n = math.isqrt(STREAM_PASS - 1) + 1 + side
    assert (n * n < STREAM_PASS) == (side < 0)
    rng = np.random.default_rng(n)
    x = rng.standard_normal((300, n)) - 2.0
    merged = ds.Moments(n).update(x[:140]).merge(ds.Moments(n).update(x[140:]))
    _assert_moments_match(merged, x)


@pytest.mark.parametrize("side", [-1, 0], ids=["one-thread", "threaded"])
def test_sketch_pass_both_sides(side):
    n, k = 16, 3
    rows = STREAM_PASS // n + side
    x = np.random.default_rng(rows).standard_normal((rows, n)) + 5.0
    s = ds.Sketch(n, k).update(x)
    gram = x.T @ x
    np.testing.assert_allclose(s.sketch(), gram @ s._test, rtol=0, atol=1e-11 * np.abs(gram).max())
    bad = x.copy()
    bad[rows - 2, 0] = np.nan
    fresh = ds.Sketch(n, k)
    with pytest.raises(ValueError, match=rf"row {rows - 2} contains NaN or infinity"):
        fresh.update(bad)
    assert fresh.count == 0


def _row_split_width(rows: int) -> int:
    """The narrowest n at which a batch of ``rows`` rows reaches the update's flop crossover."""
    n = math.isqrt(RANK_UPDATE_FLOPS // rows)
    while rows * n * n < RANK_UPDATE_FLOPS:
        n += 1
    assert n < SHARED_PANEL_MIN, "the row split needs a width below the shared-panel crossover"
    return n


@pytest.mark.parametrize("side", [-1, 0], ids=["one-thread", "threaded"])
def test_rank_update_flops_both_sides(side):
    # Below the shared-panel width, so the threaded side splits the rows.
    n = SHARED_PANEL_MIN * 2 // 5
    rows = -(-RANK_UPDATE_FLOPS // (n * n)) + side
    assert rows >= 4 * MIN_ROWS_PER_THREAD  # a direct batch (the core buffers short ones)
    assert (rows * n * n < RANK_UPDATE_FLOPS) == (side < 0)
    x = np.random.default_rng(rows).standard_normal((rows, n)) + 1.5
    _assert_moments_match(ds.Moments(n).update(x), x)


@pytest.mark.parametrize("extra", [-1, 0], ids=["one-share", "two-shares"])
def test_row_split_min_rows_per_thread_both_sides(extra):
    # Above the flop crossover, a batch with fewer than two threads' worth of
    # rows stays on one thread; with two shares it is split. The core buffers
    # batches this short: mean() folds each one in on its own.
    rows = 2 * MIN_ROWS_PER_THREAD + extra
    n = _row_split_width(rows)
    x = np.random.default_rng(rows).standard_normal((rows, n)) * 2.0 - 3.0
    m = ds.Moments(n).update(x)
    assert m.mean.shape == (n,)
    # The second batch adds the Chan merge term to the first thread's rows.
    _assert_moments_match(m.update(x[::-1]), np.vstack([x, x[::-1]]))


@pytest.mark.parametrize("side", [-1, 0], ids=["row-split", "shared-panels"])
def test_shared_panel_both_sides(side):
    n = SHARED_PANEL_MIN + side
    rows = max(4 * MIN_ROWS_PER_THREAD, RANK_UPDATE_FLOPS // (n * n) + 1)
    x = np.random.default_rng(n).standard_normal((rows, n)).astype(np.float32) + 2.0
    _assert_moments_match(ds.Moments(n).update(x), x)
    np.testing.assert_allclose(
        _core.syrk(x.astype(np.float64)), x.T.astype(np.float64) @ x, rtol=1e-12, atol=1e-9
    )


@pytest.mark.parametrize("side", [-1, 0], ids=["one-thread", "threaded"])
def test_eigh_input_copy_both_sides(side):
    n = math.isqrt(CROSSOVERS["eigh_layout_copy_parallel_entries"] - 1) + 1 + side
    a = np.random.default_rng(n).standard_normal((n, n))
    a = a + a.T
    w_ref, v_ref = np.linalg.eigh(a)
    w, v = ds.eigh(a)
    _helpers.assert_eigh_like_lapack(a, w, v, w_ref, v_ref)


@pytest.mark.parametrize("side", [0, 1], ids=["one-stripe", "two-stripes"])
def test_leading_product_stripes_both_sides(side):
    n = CROSSOVERS["eigh_leading_product_stripe"] + side
    rng = np.random.default_rng(n)
    basis = np.linalg.qr(rng.standard_normal((n, 8)))[0]
    a = (basis * np.arange(8.0, 0.0, -1.0)) @ basis.T + 1e-3 * np.eye(n)
    w, v, info = ds.eigh(a, k=5, method="subspace", info=True)
    assert info["method"] == "subspace" and info["converged"]
    # The default tolerance bounds each residual, and through it each value's error.
    tol = leading.DEFAULT_TOL * np.linalg.norm(a, 2)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(a)[-5:], rtol=0, atol=tol)
    assert np.all(np.linalg.norm(a @ v - v * w, axis=0) <= tol)
    np.testing.assert_allclose(v.T @ v, np.eye(5), atol=1e-12)


@pytest.mark.parametrize("side", [-1, 0], ids=["one-problem", "one-per-thread"])
def test_batches_both_sides(side):
    count = CROSSOVERS["batch_parallel_min"] + side
    rng = np.random.default_rng(count)
    costs = [rng.integers(0, 50, (30 + p, 30)).astype(np.float64) for p in range(count)]
    scipy_optimize = pytest.importorskip("scipy.optimize")
    for cost, (rows, cols) in zip(costs, ds.linear_sum_assignment_batch(costs), strict=True):
        r_ref, c_ref = scipy_optimize.linear_sum_assignment(cost)
        assert cost[rows, cols].sum() == cost[r_ref, c_ref].sum()
    stack = rng.standard_normal((count, 60, 60))
    stack = stack + stack.transpose(0, 2, 1)
    w, v = ds.eigh(stack)
    for p in range(count):
        w_ref, v_ref = np.linalg.eigh(stack[p])
        _helpers.assert_eigh_like_lapack(stack[p], w[p], v[p], w_ref, v_ref)


def _tridiagonal_coupled_near_the_split(n: int, width: int, seed: int) -> np.ndarray:
    """A tridiagonal matrix whose entries are coupled only in ``width`` rows around n // 2.

    Divide and conquer splits at n // 2; every eigenvector of either half that
    lies outside the coupled window has no component at the split, so the top
    merge deflates it and keeps about ``width`` roots undeflated.
    """
    rng = np.random.default_rng(seed)
    diagonal = rng.permutation(np.linspace(-1.0, 1.0, n)) * 10.0
    off = np.zeros(n - 1)
    lo = n // 2 - width // 2
    off[lo : lo + width - 1] = rng.uniform(0.5, 1.5, width - 1)
    return np.diag(diagonal) + np.diag(off, 1) + np.diag(off, -1)


@pytest.mark.parametrize("side", [-1, 1], ids=["few-roots", "many-roots"])
def test_divide_and_conquer_merge_both_sides(side):
    # The top merge of a threaded divide and conquer with far fewer, then far
    # more, undeflated roots than the secular crossover; its eigenvector
    # product falls on the matching side of its own crossover.
    n = CROSSOVERS["eigh_dc_parallel_min"]
    secular = CROSSOVERS["eigh_dc_secular_parallel_min"]
    width = secular // 2 if side < 0 else min(n, 6 * secular)
    assert (n // 2 * width < CROSSOVERS["eigh_dc_product_parallel_entries"]) == (side < 0)
    assert n >= CROSSOVERS["eigh_dc_merge_copy_parallel_min"]
    a = _tridiagonal_coupled_near_the_split(n, width, seed=width)
    w_ref, v_ref = np.linalg.eigh(a)
    w, v = ds.eigh(a)
    _helpers.assert_eigh_like_lapack(a, w, v, w_ref, v_ref)

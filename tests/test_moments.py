import copy
import pickle
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import descramble as ds
from descramble import _core

CROSSOVERS = _core.crossovers()
SHARED_PANEL_MIN = CROSSOVERS["rank_update_shared_panel_min"]


def two_pass(x):
    """Independent float64 reference: exact mean first, then the centred product."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0) if x.shape[0] else np.zeros(x.shape[1])
    xc = x - mean
    return x.shape[0], mean, xc.T @ xc


def rel_err(a, b):
    scale = max(float(np.abs(b).max(initial=0.0)), 1e-300)
    return float(np.abs(np.asarray(a) - b).max(initial=0.0)) / scale


def assert_matches(m, x, tol=1e-13):
    count, mean, scatter = two_pass(x)
    assert m.count == count
    assert m.mean.shape == (x.shape[1],) and m.mean.dtype == np.float64
    spread = np.sqrt(np.abs(np.diag(scatter)).max(initial=0.0) / max(count, 1))
    np.testing.assert_allclose(m.mean, mean, rtol=tol, atol=tol * max(spread, 1e-300))
    assert rel_err(m.scatter(), scatter) <= tol
    assert rel_err(m.gram(), x.astype(np.float64).T @ x.astype(np.float64)) <= tol


def stream(x, sizes):
    """Cut ``x`` into consecutive pieces of the given sizes (the rest as a last piece)."""
    edges = np.cumsum([0, *sizes])
    edges = edges[edges < x.shape[0]]
    return np.split(x, edges[1:])


LAYOUTS = {
    "C": lambda a: np.ascontiguousarray(a),
    "F": lambda a: np.asfortranarray(a),
    "strided": lambda a: np.repeat(a, 2, axis=0)[::2, :],
    "reversed": lambda a: np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
    "transposed-view": lambda a: np.ascontiguousarray(a.T).T,
    "column-strided": lambda a: np.repeat(a, 3, axis=1)[:, ::3],
}
SHAPES = {
    "1x1": (1, 1),
    "n=1": (50, 1),
    "one-row": (1, 7),
    "wide": (5, 40),
    "tall": (700, 9),
    "buffered-and-direct": (900, 33),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("layout", list(LAYOUTS), ids=list(LAYOUTS))
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_matches_two_pass_reference(dtype, layout, shape):
    rng = np.random.default_rng(shape[0] * 31 + shape[1])
    x = (rng.standard_normal(shape) * 2.5 + rng.standard_normal(shape[1])).astype(dtype)
    m = ds.Moments(shape[1])
    # Pieces below and above the core's 256-row buffer, and an empty one.
    for piece in stream(x, [3, 0, 300, 1, 100]):
        assert m.update(LAYOUTS[layout](piece)) is m
    assert_matches(m, x)


@pytest.mark.parametrize(
    "n", [SHARED_PANEL_MIN, SHARED_PANEL_MIN + 88], ids=["first-tiled-width", "edge-tiles"]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_wide_state_tiled_update(n, dtype):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((1100, n)) + 3.0).astype(dtype)
    m = ds.Moments(n)
    for piece in stream(x, [600, 10]):  # 600 rows: two panels, the second partial
        m.update(np.asfortranarray(piece))
    assert_matches(m, x)


@pytest.mark.parametrize("layout", ["C", "F", "column-strided"])
def test_wide_state_partial_group_many_panels(layout):
    # n = 515: a last variable group of 3 lanes, split over centring chunks;
    # 1200 rows: three panels of the wide update, then a merged second batch.
    rng = np.random.default_rng(515)
    x = rng.standard_normal((1500, 515)) * rng.uniform(0.5, 2.0, 515) - 40.0
    m = ds.Moments(515)
    for piece in stream(x, [1200]):
        m.update(LAYOUTS[layout](piece))
    assert_matches(m, x)


@pytest.mark.parametrize(
    "dtype, layout",
    [(np.float64, "C"), (np.float32, "C"), (np.float64, "strided"), (np.float32, "F")],
    ids=["f64-C", "f32-C", "f64-strided", "f32-F"],
)
def test_very_wide_state_deep_panels(dtype, layout):
    # n = 2051 >= 2048: 1024-row panels centred with streaming stores (C order),
    # a last group of 3 lanes. 1300 rows: a full panel and a partial one, then
    # a second batch merged with the Chan term in its first panel.
    n = 2051
    rng = np.random.default_rng(2051)
    x = (rng.standard_normal((1400, n)) * rng.uniform(0.5, 2.0, n) + 25.0).astype(dtype)
    m = ds.Moments(n)
    for piece in stream(x, [1300]):
        m.update(LAYOUTS[layout](piece))
    assert_matches(m, x)


def test_narrow_state_row_split_update():
    # Enough work per batch for the threads to split the rows (a width below
    # the shared-panel crossover); the fresh state's first batch writes, the
    # second adds.
    n = SHARED_PANEL_MIN * 2 // 5
    first = 3 * CROSSOVERS["rank_update_parallel_flops"] // (n * n)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((first + 2000, n)) - 7.0
    assert_matches(ds.Moments(n).update(x[:first]).update(np.asfortranarray(x[first:])), x)


def test_large_offset_keeps_digits_the_raw_formula_loses():
    rng = np.random.default_rng(11)
    x = 1e6 + 1e-2 * rng.standard_normal((3000, 6)) + rng.standard_normal(6)
    m = ds.Moments(6)
    for piece in stream(x, [100, 1000, 7, 900]):
        m.update(piece)
    other = ds.Moments(6).update(x[:500])
    merged = other.merge(ds.Moments(6).update(x[500:]))
    scatter = two_pass(x)[2]
    naive = x.T @ x - x.shape[0] * np.outer(x.mean(axis=0), x.mean(axis=0))
    assert rel_err(naive, scatter) > 1e-3  # the one-pass formula has no correct digit left
    assert rel_err(m.scatter(), scatter) < 1e-11
    assert rel_err(merged.scatter(), scatter) < 1e-11
    exact_mean = x[0] + (x - x[0]).mean(axis=0)  # differences are exact here (Sterbenz)
    np.testing.assert_allclose(m.mean, exact_mean, rtol=4e-16, atol=0)
    np.testing.assert_allclose(m.covariance(), np.cov(x, rowvar=False), rtol=1e-10)


@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_covariance_matches_numpy(ddof):
    rng = np.random.default_rng(ddof)
    x = rng.standard_normal((40, 5)) @ rng.standard_normal((5, 5))
    m = ds.Moments(5).update(x)
    np.testing.assert_allclose(m.covariance(ddof), np.cov(x, rowvar=False, ddof=ddof), rtol=1e-13)


@pytest.mark.parametrize(
    "x",
    [
        np.arange(24).reshape(6, 4),
        np.arange(24, dtype=np.uint8).reshape(6, 4),
        (np.arange(24).reshape(6, 4) % 3 == 0),
        np.arange(24, dtype=np.float16).reshape(6, 4),
        np.arange(24, dtype=">f8").reshape(6, 4),
        np.arange(24, dtype=np.longdouble).reshape(6, 4),
    ],
    ids=["int64", "uint8", "bool", "float16", "big-endian", "longdouble"],
)
def test_other_real_dtypes_are_converted(x):
    assert_matches(ds.Moments(4).update(x), np.asarray(x, dtype=np.float64))


def test_python_lists_and_misaligned_strides():
    rec = np.zeros(300, dtype=[("x", np.float64, (3,)), ("pad", np.int32)])
    rec["x"] = np.random.default_rng(2).standard_normal((300, 3))
    assert rec["x"].strides[0] % 8 != 0
    assert_matches(ds.Moments(3).update(rec["x"]), rec["x"])
    raw = np.frombuffer(b"\0" + np.arange(12.0).tobytes(), dtype=np.float64, offset=1)
    assert not raw.flags.aligned
    assert_matches(ds.Moments(3).update(raw.reshape(4, 3)), np.arange(12.0).reshape(4, 3))
    assert_matches(ds.Moments(2).update([[1, 2], [3, 5]]), np.array([[1.0, 2.0], [3.0, 5.0]]))


def test_zero_stride_broadcast_rows():
    row = np.array([1.0, -2.0, 3.0])
    m = ds.Moments(3).update(np.broadcast_to(row, (400, 3)))
    np.testing.assert_array_equal(m.mean, row)
    np.testing.assert_array_equal(m.scatter(), np.zeros((3, 3)))


def test_empty_statistics_and_empty_batches():
    m = ds.Moments(3)
    assert m.update(np.zeros((0, 3))) is m
    assert m.count == 0
    np.testing.assert_array_equal(m.mean, np.zeros(3))
    np.testing.assert_array_equal(m.scatter(), np.zeros((3, 3)))
    np.testing.assert_array_equal(m.gram(), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"count - ddof > 0, got count = 0, ddof = 1"):
        m.covariance()
    assert repr(m) == "Moments(n=3, count=0)"


@pytest.mark.parametrize(
    "n",
    [40, SHARED_PANEL_MIN * 2 // 5, SHARED_PANEL_MIN + 88],
    ids=["one-thread", "row-split", "wide"],
)
def test_fresh_state_never_shows_reused_memory(n):
    flops = CROSSOVERS["rank_update_parallel_flops"]
    rows = 2000
    assert (rows * n * n >= flops) == (n > 40), "the ids no longer name the paths"
    # The core leaves a fresh scatter buffer unwritten until the first batch
    # overwrites it; freed states of the same size leave garbage for the
    # allocator to hand back, which an empty, copied, merged or rejected-batch
    # state must never expose.
    rng = np.random.default_rng(n)
    for _ in range(3):
        ds.Moments(n).update(rng.standard_normal((300, n)) * 1e50 + 1e60)
    m = ds.Moments(n)
    np.testing.assert_array_equal(m.scatter(), np.zeros((n, n)))
    np.testing.assert_array_equal(copy.copy(m).gram(), np.zeros((n, n)))
    bad = rng.standard_normal((300, n))
    bad[299, 0] = np.nan
    with pytest.raises(ValueError, match="row 299 contains NaN"):
        m.update(bad)
    np.testing.assert_array_equal(m.scatter(), np.zeros((n, n)))
    # Threaded from the row-split width on (see the ids).
    x = rng.standard_normal((rows, n)) - 5.0
    assert_matches(copy.copy(m).update(x), x)
    assert_matches(ds.Moments(n).merge(copy.deepcopy(m)).update(x), x)
    assert_matches(m.update(x), x)


def test_merge_equals_concatenation_and_add_keeps_operands():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((300, 8)) + 1, rng.standard_normal((20, 8)) - 2
    ma, mb = ds.Moments(8).update(a), ds.Moments(8).update(b)
    total = ma + mb
    assert_matches(total, np.vstack([a, b]))
    assert_matches(ma, a)
    assert_matches(mb, b)
    assert ma.merge(mb) is ma
    assert_matches(ma, np.vstack([a, b]))
    assert_matches(mb, b)


def test_merge_with_empty_and_self():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((30, 4))
    m = ds.Moments(4).update(x)
    assert_matches(m.merge(ds.Moments(4)), x)
    assert_matches(ds.Moments(4).merge(m), x)
    assert_matches(m.merge(m), np.vstack([x, x]))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(0, 700),
    n=st.integers(1, 6),
    cuts=st.lists(st.integers(0, 700), max_size=6),
)
def test_any_chunking_equals_one_pass(seed, rows, n, cuts):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, n)) * rng.uniform(0.1, 10) + rng.uniform(-50, 50)
    m = ds.Moments(n)
    for piece in np.split(x, sorted(c for c in cuts if c <= rows)):
        m.update(piece)
    assert_matches(m, x, tol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sizes=st.lists(st.integers(0, 400), min_size=3, max_size=3))
def test_merge_is_associative_and_commutative(seed, sizes):
    rng = np.random.default_rng(seed)
    parts = [rng.standard_normal((s, 3)) + rng.uniform(-5, 5) for s in sizes]
    a, b, c = (ds.Moments(3).update(p) for p in parts)
    left, right, swapped = (a + b) + c, a + (b + c), c + (b + a)
    for m in (left, right, swapped):
        assert_matches(m, np.vstack(parts), tol=1e-12)


def test_concurrent_updates_from_threads():
    rng = np.random.default_rng(8)
    chunks = [rng.standard_normal((r, 16)) for r in (5, 300, 40, 700, 1, 260) * 4]
    m = ds.Moments(16)
    threads = [threading.Thread(target=lambda c=c: m.update(c)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert_matches(m, np.vstack(chunks), tol=1e-12)


def test_pickle_copy_and_deepcopy_round_trip():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((70, 5))
    m = ds.Moments(5).update(x)
    for clone in (pickle.loads(pickle.dumps(m)), copy.copy(m), copy.deepcopy(m), m.copy()):
        assert clone is not m
        assert clone.count == m.count
        np.testing.assert_array_equal(clone.mean, m.mean)
        np.testing.assert_array_equal(clone.scatter(), m.scatter())
        clone.update(x)  # independent of the original
        assert m.count == 70
        assert_matches(clone, np.vstack([x, x]))


def test_state_round_trip():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((90, 4)) + 100
    m = ds.Moments(4).update(x)
    rebuilt = ds.Moments.from_state(*m.state())
    assert_matches(rebuilt, x)
    assert_matches(rebuilt.update(x), np.vstack([x, x]))
    empty = ds.Moments.from_state(0, np.zeros(2), np.zeros((2, 2)))
    assert empty.count == 0 and empty.n == 2


def test_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((120, 6)).astype(np.float32)
    m = ds.Moments(6).update(x).update(x[:3])
    path = tmp_path / "moments.npz"
    m.save(path)
    loaded = ds.Moments.load(path)
    assert loaded.count == m.count and loaded.n == 6
    np.testing.assert_array_equal(loaded.mean, m.mean)
    np.testing.assert_array_equal(loaded.scatter(), m.scatter())
    with pytest.raises(ValueError, match=r"batch 2: row 1 contains NaN"):
        loaded.update(np.array([[0.0] * 6, [np.nan] * 6]))  # the update counter was saved


def _corrupt_files(tmp_path):
    good = tmp_path / "good.npz"
    ds.Moments(3).update(np.eye(3)).save(good)
    raw = good.read_bytes()
    cases = {}
    (tmp_path / "truncated.npz").write_bytes(raw[: len(raw) // 2])
    cases["truncated"] = (tmp_path / "truncated.npz", "not a readable Moments file")
    (tmp_path / "garbage.npz").write_bytes(b"\x00garbage" * 20)
    cases["garbage"] = (tmp_path / "garbage.npz", "not a readable Moments file")
    np.savez(tmp_path / "other.npz", a=np.ones(3))
    cases["other-npz"] = (tmp_path / "other.npz", "is not a descramble Moments file")
    np.savez(tmp_path / "tag.npz", format="x", version=1, count=1, mean=[0.0], scatter=[[0.0]])
    cases["wrong-tag"] = (tmp_path / "tag.npz", "is not a descramble Moments file")
    fmt = "descramble.Moments"
    np.savez(tmp_path / "v9.npz", format=fmt, version=9, count=1, mean=[0.0], scatter=[[0.0]])
    cases["version"] = (tmp_path / "v9.npz", "format version 9; this descramble reads version 1")
    np.savez(tmp_path / "bad.npz", format=fmt, version=1, count=-1, mean=[0.0], scatter=[[0.0]])
    cases["bad-state"] = (tmp_path / "bad.npz", "holds an invalid Moments state: .*count must be")
    return cases


@pytest.mark.parametrize(
    "case", ["truncated", "garbage", "other-npz", "wrong-tag", "version", "bad-state"]
)
def test_load_rejects_corrupt_files(tmp_path, case):
    path, match = _corrupt_files(tmp_path)[case]
    with pytest.raises(ValueError, match=match) as info:
        ds.Moments.load(path)
    assert path.name in str(info.value)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ds.Moments.load(tmp_path / "missing.npz")


BAD_UPDATES = {
    "1-D": (
        np.zeros(80),
        ValueError,
        r"expected a 2-D array of shape \(N, 80\), got shape \(80,\)",
    ),
    "wrong-n": (np.zeros((4, 79)), ValueError, r"shape \(N, 80\), got shape \(4, 79\)"),
    "3-D": (np.zeros((2, 4, 80)), ValueError, r"got shape \(2, 4, 80\)"),
    "strings": (np.array([["a"] * 80]), TypeError, "real numeric array, got dtype <U1"),
    "complex": (np.zeros((2, 80), complex), TypeError, "got dtype complex128"),
}


@pytest.mark.parametrize("case", list(BAD_UPDATES), ids=list(BAD_UPDATES))
def test_update_rejects_bad_input(case):
    x, exc, match = BAD_UPDATES[case]
    with pytest.raises(exc, match=match):
        ds.Moments(80).update(x)


@pytest.mark.parametrize("rows", [5, 600], ids=["buffered", "direct"])
@pytest.mark.parametrize(
    "bad, match",
    [(np.nan, "NaN or infinity"), (-np.inf, "NaN or infinity"), (1e200, "beyond 1e100")],
    ids=["nan", "inf", "huge"],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_update_rejects_bad_values_and_keeps_state(rows, bad, match, dtype):
    if dtype == np.float32 and bad == 1e200:
        pytest.skip("1e200 is not a float32 value")
    rng = np.random.default_rng(1)
    good = rng.standard_normal((10, 4))
    m = ds.Moments(4).update(good)
    x = rng.standard_normal((rows, 4)).astype(dtype)
    x[rows - 2, 1] = bad
    with pytest.raises(ValueError, match=rf"Moments.update: batch 1: row {rows - 2} .*{match}"):
        m.update(x)
    assert_matches(m, good)
    assert_matches(m.update(x[: rows - 2]), np.vstack([good, x[: rows - 2]]))


@pytest.mark.parametrize(
    "n, exc, match",
    [(0, ValueError, "n must be >= 1, got 0"), (2.5, TypeError, "n must be an integer, got float")],
    ids=["zero", "float"],
)
def test_constructor_errors(n, exc, match):
    with pytest.raises(exc, match=match):
        ds.Moments(n)


def test_merge_errors():
    with pytest.raises(TypeError, match="expected a Moments, got ndarray"):
        ds.Moments(3).merge(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="expected statistics of n = 3 variables, got n = 4"):
        ds.Moments(3).merge(ds.Moments(4))
    with pytest.raises(TypeError, match="unsupported operand"):
        ds.Moments(3) + 1


def test_covariance_errors():
    m = ds.Moments(2).update(np.ones((2, 2)))
    with pytest.raises(ValueError, match="count = 2, ddof = 2"):
        m.covariance(ddof=2)
    with pytest.raises(TypeError, match="ddof must be an integer, got float"):
        m.covariance(ddof=0.5)


BAD_STATES = {
    "negative-count": ((-1, [0.0], [[0.0]]), ValueError, "count must be >= 0, got -1"),
    "count-type": ((1.0, [0.0], [[0.0]]), TypeError, "count must be an integer, got float"),
    "mean-2d": ((1, [[0.0]], [[0.0]]), ValueError, r"mean of shape \(n,\), got shape \(1, 1\)"),
    "mean-empty": ((1, [], [[0.0]]), ValueError, r"mean of shape \(n,\), got shape \(0,\)"),
    "shape": (
        (1, [0.0, 0.0], [[0.0]]),
        ValueError,
        r"scatter of shape \(2, 2\), got shape \(1, 1\)",
    ),
    "asymmetric": ((3, [0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]]), ValueError, "not symmetric"),
    "negative-diag": ((3, [0.0], [[-1.0]]), ValueError, "negative diagonal entry at \\[0, 0\\]"),
    "nan-mean": ((3, [np.nan], [[1.0]]), ValueError, "mean contains NaN or infinity"),
    "inf-scatter": ((3, [0.0], [[np.inf]]), ValueError, "scatter contains NaN or infinity"),
    "empty-nonzero": ((0, [1.0], [[0.0]]), ValueError, "count is 0 but the mean or scatter"),
}


@pytest.mark.parametrize("case", list(BAD_STATES), ids=list(BAD_STATES))
def test_from_state_errors(case):
    args, exc, match = BAD_STATES[case]
    with pytest.raises(exc, match=match):
        ds.Moments.from_state(*args)


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_gram_and_scatter_are_exactly_symmetric(n):
    # Both are mirrored from the lower triangle in tiles; the edge tiles included.
    rng = np.random.default_rng(n)
    x = rng.standard_normal((3 * n + 5, n)) + 2.0
    m = ds.Moments(n)
    m.update(x[:7])  # a small batch stays buffered until the matrices are read
    m.update(x[7:])
    for got, want in ((m.gram(), x.T @ x), (m.scatter(), (x - x.mean(0)).T @ (x - x.mean(0)))):
        np.testing.assert_array_equal(got, got.T)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_from_state_rejects_nan_in_the_upper_triangle():
    # The core reads the lower triangle only; a NaN above it used to pass.
    scatter = np.array([[2.0, np.nan], [1.0, 2.0]])
    with pytest.raises(ValueError, match="scatter contains NaN or infinity"):
        ds.Moments.from_state(3, [0.0, 0.0], scatter)


def test_absurd_size_is_a_memory_error_before_any_allocation():
    # 3e9 variables: the n x n matrix (72 EB) is allocated first and fails at
    # once; the length-n vectors (24 GB each) were zero-filled before it.
    with pytest.raises(MemoryError, match=r"3000000000 x 3000000000 float64 scatter matrix"):
        ds.Moments(3_000_000_000)


def test_load_maps_every_corrupt_file_to_value_error(tmp_path):
    # Random byte damage to a saved file: zipfile and np.load raise
    # NotImplementedError (unknown zip version or compression), RuntimeError
    # (encryption flag), zlib.error, ... which must all become ValueError.
    path = tmp_path / "m.npz"
    ds.Moments(4).update(np.random.default_rng(0).standard_normal((10, 4))).save(path)
    raw = path.read_bytes()
    rng = np.random.default_rng(1)
    damaged = tmp_path / "damaged.npz"
    for trial in range(600):
        data = bytearray(raw)
        if trial % 3 == 0:
            for _ in range(int(rng.integers(1, 5))):
                data[int(rng.integers(len(data)))] = int(rng.integers(256))
        elif trial % 3 == 1:
            data = data[: int(rng.integers(len(data)))]
        else:
            i = int(rng.integers(len(data)))
            data[i : i + 8] = rng.bytes(8)
        damaged.write_bytes(bytes(data))
        try:
            ds.Moments.load(damaged)
        except ValueError:
            pass

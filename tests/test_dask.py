"""descramble.dask.moments on the threaded, process and distributed schedulers."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import descramble as ds  # noqa: E402
import descramble.dask as ddask  # noqa: E402


def _check(m, X):
    X64 = np.asarray(X, np.float64)
    ref = ds.Moments(X.shape[1]).update(X64)
    assert m.count == ref.count == X.shape[0]
    np.testing.assert_allclose(m.mean, ref.mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(m.gram(), X64.T @ X64, rtol=1e-11, atol=1e-10)
    np.testing.assert_allclose(m.covariance(), np.cov(X64, rowvar=False), rtol=1e-10, atol=1e-12)


def _X(rows=500, n=7, seed=0, dtype=np.float64):
    return (np.random.default_rng(seed).standard_normal((rows, n)) * 3 + 5).astype(dtype)


@pytest.mark.parametrize(
    "chunks",
    [(50, 7), (123, 3), (500, 7), (1, 7)],
    ids=["row-blocks", "row-and-column-blocks", "one-block", "single-rows"],
)
def test_threads_equal_in_memory(chunks):
    X = _X()
    m = ddask.moments(da.from_array(X, chunks=chunks), scheduler="threads")
    _check(m, X)


@pytest.mark.parametrize("dtype", [np.float16, np.float32], ids=["float16", "float32"])
def test_low_precision_blocks(dtype):
    X = _X(rows=200, n=5, seed=1, dtype=dtype)
    m = ddask.moments(da.from_array(X, chunks=(30, 5)), scheduler="sync")
    _check(m, X.astype(np.float32))


@pytest.mark.parametrize(
    "dtype", [">f8", "<f8", ">f4", "int64", ">i4", "uint8", "bool", "longdouble"], ids=str
)
def test_every_real_dtype_is_converted_losslessly(dtype):
    # Every dtype but native float32/float64 used to be cast to float32: the
    # covariance of >f8 data was off by 1e-6 instead of 1e-16, 1e50 became inf.
    X = _X(rows=120, n=4, seed=4)
    if np.dtype(dtype).kind in "iub":
        X = np.rint(X * 1000) if np.dtype(dtype).kind == "i" else X > 5
    X = X.astype(dtype)
    m = ddask.moments(da.from_array(X, chunks=(25, 4)), scheduler="sync")
    X64 = X.astype(np.float64)
    # float32 rounding would show at 1e-7; float64 merges agree to 1e-12.
    cov = np.cov(X64, rowvar=False)
    np.testing.assert_allclose(m.covariance(), cov, rtol=0, atol=1e-12 * np.abs(cov).max())
    np.testing.assert_allclose(m.gram(), X64.T @ X64, rtol=1e-12)


def test_large_values_keep_their_magnitude():
    X = np.array([[1e50, 2.0], [3e50, -1.0]], dtype=">f8")
    m = ddask.moments(da.from_array(X, chunks=(1, 2)), scheduler="sync")
    np.testing.assert_allclose(m.mean, [2e50, 0.5], rtol=1e-15)


@pytest.mark.parametrize("split_every", [2, 3, 16])
def test_tree_shape_does_not_change_the_answer(split_every):
    X = _X(rows=333, seed=2)
    m = ddask.moments(da.from_array(X, chunks=(10, 7)), split_every=split_every, scheduler="sync")
    _check(m, X)


def test_lazy_result():
    X = _X(rows=90, seed=3)
    lazy = ddask.moments(da.from_array(X, chunks=(20, 7)), compute=False)
    assert hasattr(lazy, "compute")
    _check(lazy.compute(scheduler="sync"), X)


def test_empty_array_gives_empty_moments():
    m = ddask.moments(da.zeros((0, 4), chunks=(10, 4)), scheduler="sync")
    assert m.count == 0


def test_processes_scheduler():
    X = _X(rows=120, n=4, seed=4)
    m = ddask.moments(da.from_array(X, chunks=(40, 4)), scheduler="processes", num_workers=2)
    _check(m, X)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_distributed_local_cluster(client):
    X = _X(rows=400, n=6, seed=5)
    darr = da.from_array(X, chunks=(37, 6))
    m = ddask.moments(darr)  # the active client is dask's default scheduler
    _check(m, X)
    lazy = ddask.moments(darr, compute=False)
    _check(client.compute(lazy).result(), X)
    r = ds.descramble(m)
    np.testing.assert_allclose(
        r.objective, ds.descramble(ds.Moments(6).update(X)).objective, rtol=1e-10
    )


def test_errors():
    with pytest.raises(ValueError, match=r"expected a 2-D dask array .* got shape \(5,\)"):
        ddask.moments(da.zeros(5, chunks=2))
    with pytest.raises(TypeError, match="expected a real numeric dask array, got dtype complex128"):
        ddask.moments(da.zeros((5, 2), dtype=np.complex128, chunks=2))
    with pytest.raises(TypeError, match="expected a real numeric dask array, got dtype <U1"):
        ddask.moments(da.from_array(np.full((5, 2), "a"), chunks=2))
    with pytest.raises(TypeError, match="expected a dask array, got ndarray"):
        ddask.moments(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="split_every must be >= 2"):
        ddask.moments(da.zeros((5, 2), chunks=2), split_every=1)


def test_missing_dask_gives_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "dask", None)
    with pytest.raises(ImportError, match=r'pip install "descramble\[dask\]"'):
        ddask.moments(None)

"""ds.Sketch: exact sketch algebra, the Moments interface, and its error estimate."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import descramble as ds
from descramble.sketch import bound_factor


def data(n_samples: int, n: int, seed: int, offset: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_samples, n)) * (1.0 + np.arange(n) % 3) + offset


def test_sketch_equals_the_matrix_times_the_test_matrices():
    x = data(300, 20, 0, offset=5.0)
    s = ds.Sketch(20, 4).update(x[:100]).update(x[100:])
    t = s._test
    gram = x.T @ x
    xc = x - x.mean(axis=0)
    np.testing.assert_allclose(s.sketch(), gram @ t, rtol=1e-11, atol=1e-9 * np.abs(gram).max())
    scatter = xc.T @ xc
    np.testing.assert_allclose(
        s.sketch(center=True), scatter @ t, rtol=1e-10, atol=1e-10 * np.abs(scatter).max()
    )
    assert s.count == 300
    np.testing.assert_allclose(s.mean, x.mean(axis=0), rtol=1e-13)
    # Omega orthonormal, Phi Gaussian and independent.
    omega = t[:, : s.size]
    np.testing.assert_allclose(omega.T @ omega, np.eye(s.size), atol=1e-13)
    assert t.shape == (20, s.size + s.test_size) == (20, 8 + 16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_any_layout_and_dtype_read_in_place(dtype, layout):
    base = data(90, 13, 1).astype(dtype)
    if layout == "F":
        x = np.asfortranarray(base)
    elif layout == "strided":
        wide = np.zeros((90, 26), dtype=dtype)
        wide[:, ::2] = base
        x = wide[:, ::2]
    else:
        x = base
    s = ds.Sketch(13, 3).update(x)
    ref = ds.Sketch(13, 3).update(base.astype(np.float64))
    np.testing.assert_allclose(s.sketch(), ref.sketch(), rtol=1e-12, atol=1e-10)
    # Integers and booleans are converted.
    ints = ds.Sketch(13, 3).update(np.arange(26).reshape(2, 13))
    assert ints.count == 2


@settings(max_examples=25, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 120), min_size=0, max_size=5),
    offset=st.sampled_from([0.0, 1e3, -7.5]),
)
def test_chunking_and_merging_give_the_one_pass_sketch(cuts, offset):
    x = data(120, 9, 2, offset)
    one = ds.Sketch(9, 3).update(x)
    bounds = [0, *sorted(cuts), 120]
    chunked = ds.Sketch(9, 3)
    parts = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        chunked.update(x[a:b])
        parts.append(ds.Sketch(9, 3).update(x[a:b]))
    merged = parts[0]
    for p in parts[1:]:
        merged = merged + p
    scale = np.abs(one.sketch()).max()
    for s in (chunked, merged):
        assert s.count == 120
        np.testing.assert_allclose(s.sketch(), one.sketch(), rtol=0, atol=1e-11 * scale)
        np.testing.assert_allclose(s.mean, x.mean(axis=0), rtol=1e-12, atol=1e-12)
        c = np.abs(one.sketch(center=True)).max()
        np.testing.assert_allclose(
            s.sketch(center=True), one.sketch(center=True), rtol=0, atol=1e-9 * c
        )


def test_merge_rules():
    a = ds.Sketch(10, 3).update(data(20, 10, 3))
    before = a.sketch().copy()
    b = ds.Sketch(10, 3, seed=1).update(data(20, 10, 4))
    with pytest.raises(ValueError, match="different test matrices"):
        a.merge(b)
    with pytest.raises(ValueError, match="different test matrices"):
        _ = a + ds.Sketch(10, 3, size=4)
    with pytest.raises(TypeError, match="expected a Sketch"):
        a.merge(ds.Moments(10))
    np.testing.assert_array_equal(a.sketch(), before)
    assert (a + a.empty()).count == a.count
    assert (a.empty() + a).count == a.count
    assert a.__add__(3) is NotImplemented


def test_copy_pickle_save_load(tmp_path):
    s = ds.Sketch(12, 2, test_size=5, seed=9).update(data(40, 12, 5, 2.0))
    path = tmp_path / "s.npz"
    s.save(path)
    for other in (s.copy(), copy.deepcopy(s), pickle.loads(pickle.dumps(s)), ds.Sketch.load(path)):
        assert repr(other) == repr(s)
        np.testing.assert_array_equal(other.sketch(), s.sketch())
        np.testing.assert_array_equal(other.mean, s.mean)
        other.update(data(3, 12, 6))  # independent of s
        assert other.count == 43 and s.count == 40
        other.merge(s)  # and still compatible with it
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable Sketch file"):
        ds.Sketch.load(tmp_path / "bad.npz")
    np.savez(tmp_path / "m.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a descramble Sketch file"):
        ds.Sketch.load(tmp_path / "m.npz")
    with pytest.raises(FileNotFoundError):
        ds.Sketch.load(tmp_path / "missing.npz")


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((0, 1), {}, ValueError, "n must be >= 1"),
        ((5, 6), {}, ValueError, "1 <= k <= n"),
        ((5, 2), {"size": 1}, ValueError, "size must satisfy"),
        ((5, 2), {"test_size": 1}, ValueError, "test_size must be >= 2"),
        ((5.0, 2), {}, TypeError, "n must be an integer"),
    ],
)
def test_bad_construction(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        ds.Sketch(*args, **kwargs)


def test_bad_batches_leave_the_sketch_unchanged():
    s = ds.Sketch(6, 2).update(data(10, 6, 7))
    before = s.sketch().copy()
    bad = data(5, 6, 8)
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"batch 1: row 3 contains NaN"):
        s.update(bad)
    bad[3, 2] = 1e101
    with pytest.raises(ValueError, match=r"row 3 contains a value beyond 1e100"):
        s.update(bad)
    with pytest.raises(ValueError, match=r"shape \(N, 6\)"):
        s.update(np.zeros((3, 5)))
    with pytest.raises(TypeError, match="real numeric"):
        s.update(np.zeros((3, 6), dtype=complex))
    np.testing.assert_array_equal(s.sketch(), before)
    assert s.count == 10
    # A first batch that fails does not fix the shift either.
    fresh = ds.Sketch(6, 2)
    with pytest.raises(ValueError):
        fresh.update(bad)
    assert fresh.count == 0 and np.all(fresh.mean == 0)
    with pytest.raises(ValueError, match="no samples"):
        fresh.leading()


def power_law_samples(n: int, n_samples: int, alpha: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((n, n)))[0]
    scales = (1.0 + np.arange(n)) ** (-alpha / 2)
    return (rng.standard_normal((n_samples, n)) * scales) @ basis.T


SPECTRA = {
    "power-1": lambda n, seed: power_law_samples(n, 2 * n, 1.0, seed),
    "power-2": lambda n, seed: power_law_samples(n, 2 * n, 2.0, seed),
    "flat-tail": lambda n, seed: power_law_samples(n, 2 * n, 0.3, seed),
    "low-rank-plus-noise": lambda n, seed: (
        np.random.default_rng(seed).standard_normal((2 * n, 10))
        @ np.random.default_rng(seed + 1).standard_normal((10, n))
        + 0.1 * np.random.default_rng(seed + 2).standard_normal((2 * n, n))
    ),
}


@pytest.mark.parametrize("spectrum", sorted(SPECTRA))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_error_estimate_tracks_and_bound_holds(spectrum, seed):
    n, k = 300, 16
    x = SPECTRA[spectrum](n, seed)
    s = ds.Sketch(n, k, seed=seed).update(x)
    mu, u, report = s.leading()
    g = x.T @ x
    true = np.linalg.norm(g - (u * mu) @ u.T)
    assert report["error_bound"] >= true
    assert true / 3 <= report["error_estimate"] <= 3 * true
    assert report["norm_estimate"] == pytest.approx(np.linalg.norm(g), rel=0.6)
    # Captured energy of the exact leading-k subspace.
    optimal = np.linalg.eigvalsh(g)[-k:].sum()
    captured = np.einsum("ij,ij->", u, g @ u)
    assert captured <= optimal * (1 + 1e-12)
    if spectrum in ("power-2", "low-rank-plus-noise"):
        assert captured >= 0.99 * optimal


def test_descramble_of_a_sketch():
    x = power_law_samples(256, 1200, 2.0, 4)
    s = ds.Sketch(256, 12).update(x)
    r = ds.descramble(s)
    assert r.P.shape == (12, 256)
    np.testing.assert_allclose(r.P @ r.P.T, np.eye(12), atol=1e-12)
    assert r.eigensolver["method"] == "sketch"
    exact = ds.descramble(x, k=12)
    # Leading directions agree where the spectrum separates them (the first few).
    np.testing.assert_allclose(np.abs(r.U[:, :4].T @ exact.U[:, :4]), np.eye(4), atol=2e-2)
    centred = ds.descramble(s, center=True, k=5)
    assert centred.P.shape == (5, 256)
    with pytest.raises(ValueError, match="exceeds the sketch's k"):
        ds.descramble(s, k=13)
    with pytest.raises(ValueError, match="a Sketch gives the leading"):
        ds.descramble(s, group="permutation")


def test_bound_factor():
    # (t e^(1-t))^(q/2) = failure at t = 1 / factor^2.
    for q in (2, 8, 16, 64):
        t = 1.0 / bound_factor(q) ** 2
        assert (t * np.exp(1 - t)) ** (q / 2) == pytest.approx(1e-3, rel=1e-6)
    assert bound_factor(64) < bound_factor(16) < bound_factor(4)


def test_dask_accumulates_a_sketch():
    da = pytest.importorskip("dask.array")
    x = data(500, 30, 10, offset=3.0)
    darr = da.from_array(x, chunks=(70, 15))
    template = ds.Sketch(30, 4, seed=3)
    out = ds.dask.moments(darr, sketch=template, split_every=3, scheduler="threads")
    one = ds.Sketch(30, 4, seed=3).update(x)
    assert isinstance(out, ds.Sketch) and out.count == 500 and template.count == 0
    scale = np.abs(one.sketch()).max()
    np.testing.assert_allclose(out.sketch(), one.sketch(), rtol=0, atol=1e-11 * scale)
    # A sketch with samples already is continued, not modified.
    start = ds.Sketch(30, 4, seed=3).update(x[:100])
    more = ds.dask.moments(da.from_array(x[100:], chunks=(90, 30)), sketch=start, scheduler="sync")
    assert more.count == 500 and start.count == 100
    np.testing.assert_allclose(more.sketch(), one.sketch(), rtol=0, atol=1e-11 * scale)
    with pytest.raises(ValueError, match="n = 30 neurons"):
        ds.dask.moments(da.from_array(x[:, :10], chunks=(70, 10)), sketch=template)
    with pytest.raises(TypeError, match="descramble.Sketch"):
        ds.dask.moments(darr, sketch=ds.Moments(30))


def test_torch_capture_into_sketches():
    torch = pytest.importorskip("torch")
    import descramble.torch as dt

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 24), torch.nn.GELU(), torch.nn.Linear(24, 3))
    batches = [torch.randn(50, 6) for _ in range(3)]
    stats = dt.capture(model, ["0"], batches, statistics=lambda n: ds.Sketch(n, 4, seed=2))
    sketch = stats["0"]
    assert isinstance(sketch, ds.Sketch) and sketch.count == 150
    with torch.no_grad():
        manual = np.concatenate([model[0](b).double().numpy() for b in batches])
    ref = ds.Sketch(24, 4, seed=2).update(manual)
    np.testing.assert_allclose(sketch.sketch(), ref.sketch(), rtol=1e-5, atol=1e-5)
    assert ds.descramble(sketch).P.shape == (4, 24)

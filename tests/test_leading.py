"""Leading eigenpairs by block Krylov subspace iteration, against LAPACK, and the solver choice."""

from __future__ import annotations

import numpy as np
import pytest

import descramble as ds
from descramble import _core, leading


def low_rank_plus_noise(n: int, rank: int, seed: int, noise: float = 0.05) -> np.ndarray:
    """A Gram matrix of samples from a rank-``rank`` signal plus isotropic noise."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((n, rank)))[0]
    strengths = 1.0 / (1.0 + np.arange(rank)) ** 0.7
    samples = (rng.standard_normal((3 * n, rank)) * strengths) @ basis.T
    samples += noise * rng.standard_normal(samples.shape)
    return samples.T @ samples


def spectrum_matrix(values: np.ndarray, seed: int) -> np.ndarray:
    n = values.size
    q = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))[0]
    a = (q * values) @ q.T
    return 0.5 * (a + a.T)


def check_pairs(a: np.ndarray, w: np.ndarray, v: np.ndarray, info: dict, tol: float) -> None:
    """Residuals meet the tolerance (recomputed here), match the report, and w is the top of a's."""
    k = w.size
    norm = np.linalg.norm(a, 2)
    residuals = np.linalg.norm(a @ v - v * w, axis=0)
    assert np.all(residuals <= tol * norm)
    np.testing.assert_allclose(info["residuals"], residuals, rtol=1e-3, atol=1e-3 * tol * norm)
    assert info["norm_estimate"] <= norm * (1 + 1e-12)
    np.testing.assert_allclose(v.T @ v, np.eye(k), atol=1e-12)
    reference = np.linalg.eigvalsh(a)[-k:]
    # A residual r bounds each eigenvalue's error by r (Weyl / Bauer-Fike).
    np.testing.assert_allclose(w, reference, rtol=0, atol=tol * norm + 1e-12 * norm)
    assert np.all(np.diff(w) >= 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 7, 40])
def test_subspace_matches_lapack_on_low_rank_plus_noise(seed, k):
    a = low_rank_plus_noise(300, 20, seed)
    w, v, info = ds.eigh(a, k=k, method="subspace", info=True)
    assert info["method"] == "subspace" and info["converged"]
    assert info["restarts"] >= 1 and info["products"] >= k
    check_pairs(a, w, v, info, leading.DEFAULT_TOL)


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(np.linspace(-5.0, 1.0, 200), id="indefinite-negative-dominant"),
        pytest.param(np.r_[np.full(6, 3.0), np.linspace(0.0, 1.0, 194)], id="six-fold-tie"),
        pytest.param(np.r_[np.arange(5.0, 0.0, -1.0), np.zeros(195)], id="rank-5"),
        pytest.param(2.0 ** -np.arange(200.0), id="geometric"),
        pytest.param(np.ones(200), id="identity"),
    ],
)
def test_subspace_on_hard_spectra(values):
    a = spectrum_matrix(values, 3)
    w, v, info = ds.eigh(a, k=12, method="subspace", info=True)
    assert info["converged"]
    check_pairs(a, w, v, info, leading.DEFAULT_TOL)


def test_looser_tolerance_is_respected_and_cheaper():
    a = low_rank_plus_noise(400, 40, 5)
    _, _, tight = ds.eigh(a, k=30, method="subspace", info=True)
    w, v, loose = ds.eigh(a, k=30, method="subspace", tol=1e-4, info=True)
    check_pairs(a, w, v, loose, 1e-4)
    assert loose["products"] <= tight["products"]


def test_only_the_lower_triangle_is_read():
    a = low_rank_plus_noise(200, 10, 6)
    garbage = np.tril(a) + np.triu(np.full_like(a, np.nan), 1)
    w, v, info = ds.eigh(a, k=5, method="subspace", info=True)
    w2, v2 = _core.eigh_leading(garbage, 5)[:2]
    np.testing.assert_allclose(w2, w, rtol=1e-12)


def test_extreme_scales_are_balanced():
    a = low_rank_plus_noise(150, 8, 7)
    for scale in (1e-250, 1e250):
        w, v, info = ds.eigh(a * scale, k=4, method="subspace", info=True)
        w_ref = np.linalg.eigvalsh(a)[-4:]
        np.testing.assert_allclose(w / scale, w_ref, rtol=1e-9)
        assert np.all(info["residuals"] <= 1e-10 * np.linalg.norm(a, 2) * scale)


def test_out_of_restarts_reports_honest_residuals():
    a = spectrum_matrix(1.0 - 1e-3 * np.arange(300.0), 8)  # tiny gaps: slow
    w, v, info = _core.eigh_leading(a, 20, 1e-14, 1)
    assert not info["converged"] and info["restarts"] == 1
    residuals = np.linalg.norm(a @ v - v * w, axis=0)
    np.testing.assert_allclose(info["residuals"], residuals, rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(info["quotients"], np.einsum("ij,ij->j", v, a @ v), rtol=1e-12)


def test_auto_falls_back_to_tridiagonal_when_out_of_budget(monkeypatch):
    a = spectrum_matrix(1.0 - 1e-3 * np.arange(300.0), 8)
    monkeypatch.setattr(leading, "choose", lambda n, k: "subspace")
    monkeypatch.setattr(leading, "_restart_budget", lambda n, k: 1)
    w, v, info = ds.eigh(a, k=20, tol=1e-14, info=True)
    assert info["method"] == "tridiagonal" and "did not converge in 1 restarts" in info["reason"]
    np.testing.assert_allclose(w, np.linalg.eigvalsh(a)[-20:], atol=1e-12)


def test_cost_model_choice_and_report():
    assert leading.choose(512, 8) == "tridiagonal"  # small: always the dense path
    assert leading.choose(16384, 64) == "subspace"
    assert leading.choose(16384, 4000) == "tridiagonal"  # most of the spectrum
    assert leading.choose(4096, 16) == "subspace"
    a = low_rank_plus_noise(120, 5, 9)
    w, v, info = ds.eigh(a, k=3, info=True)
    assert info == {"method": "tridiagonal", "reason": "cost model"}
    _, _, forced = ds.eigh(a, k=3, method="subspace", info=True)
    assert forced["method"] == "subspace"
    _, _, full = ds.eigh(a, info=True)
    assert full["method"] == "tridiagonal"
    # The default call keeps numpy's return shape.
    out = ds.eigh(a, k=3, method="subspace")
    assert isinstance(out, tuple) and len(out) == 2
    vals = ds.eigh(a, k=3, method="subspace", eigvals_only=True)
    np.testing.assert_allclose(vals, np.linalg.eigvalsh(a)[-3:], rtol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "lanczos"}, ValueError, "method must be one of"),
        ({"tol": 0.0}, ValueError, "positive finite"),
        ({"tol": float("nan")}, ValueError, "positive finite"),
        ({"tol": "1e-3"}, TypeError, "tol must be a number"),
        ({"k": 0, "method": "subspace"}, ValueError, "1 <= k <= n"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    a = np.eye(4)
    kwargs = {"k": 2, **kwargs}
    with pytest.raises(error, match=match):
        ds.eigh(a, **kwargs)


def test_core_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN or infinity"):
        _core.eigh_leading(np.full((5, 5), np.nan), 2)
    with pytest.raises(ValueError, match="square"):
        _core.eigh_leading(np.ones((5, 4)), 2)
    with pytest.raises(ValueError, match="1 <= k <= n"):
        _core.eigh_leading(np.eye(5), 6)
    with pytest.raises(ValueError, match="tol"):
        _core.eigh_leading(np.eye(5), 2, -1.0)


def moments_of_wide_data(n: int, seed: int, offset: float = 0.0) -> tuple[ds.Moments, np.ndarray]:
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((n, 30)))[0]
    x = (rng.standard_normal((2 * n, 30)) * (1.0 / (1.0 + np.arange(30)))) @ basis.T
    x += 0.02 * rng.standard_normal(x.shape) + offset
    return ds.Moments(n).update(x[: n // 3]).update(x[n // 3 :]), x


@pytest.mark.parametrize("center", [False, True])
def test_descramble_from_moments_in_place_equals_dense_path(center):
    m, x = moments_of_wide_data(400, 11, offset=0.3)
    sub = ds.descramble(m, k=12, center=center, eigensolver="subspace")
    tri = ds.descramble(m, k=12, center=center, eigensolver="tridiagonal")
    assert sub.eigensolver["method"] == "subspace"
    assert tri.eigensolver["method"] == "tridiagonal"
    g = m.scatter() if center else m.gram()
    np.testing.assert_allclose(sub.mu, tri.mu, rtol=1e-9)
    np.testing.assert_allclose(sub.P, tri.P, atol=1e-6)
    # The objective comes from a product with G: trace(P^T L P G) recomputed here.
    lmat = ds.smoothness.operator("fourier", 12).T @ ds.smoothness.operator("fourier", 12)
    objective = float(np.trace(sub.P.T @ lmat @ sub.P @ g))
    assert sub.objective == pytest.approx(objective, rel=1e-9)
    assert abs(sub.gap) < 1e-8
    energy = float(np.trace(sub.P @ g @ sub.P.T))
    assert energy == pytest.approx(np.linalg.eigvalsh(g)[-12:].sum(), rel=1e-12)


def test_descramble_samples_and_gram_use_the_cost_model():
    m, x = moments_of_wide_data(300, 12)
    r = ds.descramble(ds.Gram(m.gram()), k=5)
    assert r.eigensolver == {"method": "tridiagonal", "reason": "cost model"}
    forced = ds.descramble(x, k=5, eigensolver="subspace")
    np.testing.assert_allclose(forced.P, r.P, atol=1e-6)
    with pytest.raises(ValueError, match="method must be one of"):
        ds.descramble(x, k=5, eigensolver="dense")


def test_descramble_empty_moments_with_k():
    for solver in ("subspace", "tridiagonal"):
        r = ds.descramble(ds.Moments(8), k=2, eigensolver=solver)
        assert r.P.shape == (2, 8) and np.all(r.mu == 0.0)
        np.testing.assert_allclose(r.P @ r.P.T, np.eye(2), atol=1e-12)


def goe(n: int, seed: int) -> np.ndarray:
    """A random symmetric matrix: its top eigenvalues crowd together (gaps ~ n^(-2/3))."""
    a = np.random.default_rng(seed).standard_normal((n, n))
    return (a + a.T) / np.sqrt(2 * n)


def test_auto_hands_a_random_matrix_to_the_tridiagonal_path_early():
    # The cost model picks the subspace iteration for k = 10 of 1024, but this
    # spectrum would use up its whole budget (twice the tridiagonal cost) first.
    a = goe(1024, 11)
    assert leading.choose(1024, 10) == "subspace"
    budget = leading._restart_budget(1024, 10)
    _, _, raw = _core.eigh_leading(a, 10, leading.DEFAULT_TOL, budget, 0, False, True)
    assert raw["stopped_early"] and not raw["converged"]
    assert raw["restarts"] <= budget // 2
    w, v, info = ds.eigh(a, k=10, info=True)
    assert info["method"] == "tridiagonal"
    assert f"forecast to need more than {budget} restarts" in info["reason"]
    np.testing.assert_allclose(w, np.linalg.eigvalsh(a)[-10:], atol=1e-12)
    np.testing.assert_allclose(np.abs(v.T @ np.linalg.eigh(a)[1][:, -10:]), np.eye(10), atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 7, 40])
def test_stopping_early_spares_spectra_that_converge(seed, k):
    # Low-rank-plus-noise statistics, the usual input: given exactly the
    # restarts it needs, the forecast must not give up on it.
    a = low_rank_plus_noise(300, 20, seed)
    need = _core.eigh_leading(a, k, leading.DEFAULT_TOL, 1000)[2]["restarts"]
    w, v, raw = _core.eigh_leading(a, k, leading.DEFAULT_TOL, need, 0, False, True)
    assert raw["converged"] and not raw["stopped_early"] and raw["restarts"] == need
    check_pairs(a, w, v, raw, leading.DEFAULT_TOL)


@pytest.mark.parametrize("n", [642, 3 * 256 + 5], ids=["partial-tiles", "six-tiles-and-a-sliver"])
def test_tiled_product_with_rank_one_term_matches_lapack(n):
    # Several stripes, each walked in column tiles that end off the tile grid;
    # the upper triangle is garbage, and the rank-one mean term of a Moments'
    # Gram matrix is applied without forming it.
    rng = np.random.default_rng(n)
    x = rng.standard_normal((2 * n, 12)) @ rng.standard_normal((12, n)) + 0.1 * rng.standard_normal(
        (2 * n, n)
    )
    x += 3.0 * rng.standard_normal(n)
    m = ds.Moments(n)
    m.update(x)
    gram = x.T @ x
    mu, u, info = _core.moments_leading(m._core, 6, False, leading.DEFAULT_TOL, 1000)
    assert info["converged"]
    norm = np.linalg.norm(gram, 2)
    np.testing.assert_allclose(mu, np.linalg.eigvalsh(gram)[::-1][:6], rtol=0, atol=1e-9 * norm)
    assert np.all(np.linalg.norm(gram @ u - u * mu, axis=0) <= leading.DEFAULT_TOL * norm)
    lower = np.tril(gram) + np.triu(np.full_like(gram, np.nan), 1)
    w, v, _ = _core.eigh_leading(lower, 6)
    np.testing.assert_allclose(w[::-1], mu, rtol=1e-12)


@pytest.mark.parametrize(
    ("block", "basis"),
    [(1, 0), (3, 20), (8, 13), (25, 0)],
    ids=["b1", "b3", "basis-k-plus-1", "b25"],
)
@pytest.mark.parametrize(
    "values",
    [
        pytest.param(np.r_[np.full(6, 3.0), np.linspace(0.0, 1.0, 194)], id="six-fold-tie"),
        pytest.param(np.r_[np.arange(5.0, 0.0, -1.0), np.zeros(195)], id="rank-5"),
        pytest.param(np.linspace(-5.0, 1.0, 200), id="indefinite"),
    ],
)
def test_any_block_and_basis_reach_the_same_pairs(values, block, basis):
    # Thick restarts keep the Krylov relation for any shape: single vectors,
    # blocks that do not divide the basis, a basis with one column to spare.
    a = spectrum_matrix(values, 4)
    w, v, info = _core.eigh_leading(a, 12, leading.DEFAULT_TOL, 1000, 0, False, False, block, basis)
    assert info["converged"]
    check_pairs(a, w, v, info, leading.DEFAULT_TOL)


@pytest.mark.parametrize(("n", "k"), [(1, 1), (8, 8), (9, 1), (40, 33), (300, 7), (16384, 64)])
def test_geometry_holds_k_and_fits_in_n(n, k):
    block, basis, kept = _core.leading_geometry(n, k)
    assert k <= kept <= basis <= n
    if basis < n:
        # Whole blocks: every block is the image of the one before it.
        assert block >= 1 and kept % block == 0 and (basis - kept) % block == 0
    else:
        assert kept == n or basis - kept >= 1
    with pytest.raises(ValueError, match="k must satisfy"):
        _core.leading_geometry(n, n + 1)

import numpy as np
import pytest

import descramble as ds


def _sym(rng, n):
    a = rng.standard_normal((n, n))
    return (a + a.T) / 2


@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_eigh_matches_numpy(n):
    rng = np.random.default_rng(n)
    a = _sym(rng, n)
    w, v = ds.eigh(a)
    w_ref = np.linalg.eigvalsh(a)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-12 * np.abs(w_ref).max())
    np.testing.assert_allclose(a @ v, v * w, atol=1e-11 * np.abs(w_ref).max())
    np.testing.assert_allclose(v.T @ v, np.eye(n), atol=1e-12)


def test_eigh_reads_lower_triangle():
    rng = np.random.default_rng(0)
    a = _sym(rng, 9)
    garbage = a + np.triu(rng.standard_normal((9, 9)), 1)
    np.testing.assert_allclose(ds.eigh(garbage)[0], np.linalg.eigvalsh(a), atol=1e-12)


def test_eigh_leading_k():
    rng = np.random.default_rng(1)
    a = _sym(rng, 30)
    w, v = ds.eigh(a, k=4)
    w_ref = np.linalg.eigvalsh(a)[-4:]
    np.testing.assert_allclose(w, w_ref, atol=1e-12)
    assert v.shape == (30, 4)
    np.testing.assert_allclose(a @ v, v * w, atol=1e-11)


def test_eigh_empty():
    w, v = ds.eigh(np.zeros((0, 0)))
    assert w.shape == (0,) and v.shape == (0, 0)


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.zeros((2, 3)), ValueError, r"square \(n, n\) matrix, got shape \(2, 3\)"),
        (np.zeros(3), ValueError, r"2-D array, got shape \(3,\)"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), ValueError, "NaN or infinity"),
        (np.array([["a"]]), TypeError, "real numeric array"),
    ],
    ids=["non-square", "1-D", "nan", "strings"],
)
def test_eigh_errors(bad, exc, match):
    with pytest.raises(exc, match=match):
        ds.eigh(bad)


def test_eigh_k_out_of_range():
    with pytest.raises(ValueError, match=r"1 <= k <= n = 3, got 4"):
        ds.eigh(np.eye(3), k=4)

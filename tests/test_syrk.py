"""``_core.syrk``: X^T X from the core's blocked rank-k kernel, against numpy."""

from __future__ import annotations

import numpy as np
import pytest

from descramble import _core


def _reference(x):
    x = np.asarray(x, np.float64)
    return x.T @ x


@pytest.mark.parametrize(
    "rows, n",
    [(1, 1), (3, 5), (7, 8), (40, 17), (300, 33), (1000, 64), (50, 600), (600, 520)],
)
def test_matches_numpy(rows, n):
    x = np.random.default_rng(rows * 1000 + n).standard_normal((rows, n))
    got = _core.syrk(x)
    ref = _reference(x)
    scale = np.abs(x).max() ** 2 * rows
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * scale)
    np.testing.assert_array_equal(got, got.T)  # mirrored exactly


@pytest.mark.parametrize(
    "view",
    [
        lambda a: np.asfortranarray(a),
        lambda a: a[::2, ::3],
        lambda a: a[::-1, ::-1],
        lambda a: a.T.copy().T,
    ],
    ids=["fortran", "strided", "reversed", "transposed-copy"],
)
def test_layouts_read_in_place(view):
    a = np.random.default_rng(1).standard_normal((90, 60))
    x = view(a)
    np.testing.assert_allclose(_core.syrk(x), _reference(x), rtol=0, atol=1e-12)


def test_other_dtypes_are_converted():
    x = np.random.default_rng(2).standard_normal((20, 6)).astype(np.float32)
    np.testing.assert_allclose(_core.syrk(x), _reference(x), rtol=1e-12, atol=1e-12)
    i = np.arange(12).reshape(4, 3)
    np.testing.assert_array_equal(_core.syrk(i), _reference(i))


def test_no_rows_gives_zeros():
    np.testing.assert_array_equal(_core.syrk(np.empty((0, 4))), np.zeros((4, 4)))


def test_bad_input_is_a_clear_error():
    x = np.ones((5, 3))
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="row 3 contains NaN or infinity"):
        _core.syrk(x)
    with pytest.raises(ValueError, match="beyond 1e100"):
        _core.syrk(np.full((2, 2), 1e200))
    with pytest.raises(ValueError, match="expected a 2-D array, got 1-D"):
        _core.syrk(np.ones(4))
    with pytest.raises(ValueError, match="n >= 1"):
        _core.syrk(np.ones((3, 0)))

"""``_core.syrk``: X^T X from the core's blocked rank-k kernel, against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# Layouts of the same values: C order; Fortran order (a sample stride of one,
# so the packing transposes blocks in registers); Fortran order starting one
# sample and one variable in (unaligned rows and columns); Fortran order with a
# sample stride of two (packed element by element).
LAYOUTS = {
    "C": lambda a: np.ascontiguousarray(a),
    "F": lambda a: np.asfortranarray(a),
    "F-offset": lambda a: np.asfortranarray(np.pad(a, ((1, 0), (1, 0))))[1:, 1:],
    "F-strided": lambda a: np.asfortranarray(np.repeat(a, 2, axis=0))[::2],
}
# (rows, n): single elements, one sample, one variable, widths around the
# 8-variable groups and the 64-wide mirror tiles, sample counts that leave a
# ragged block of every kernel level's vector width, and the shared-panel
# path (n >= 512) with a second, partial panel.
SHAPES = [
    (1, 1),
    (2, 1),
    (1, 9),
    (5, 3),
    (9, 8),
    (7, 9),
    (300, 63),
    (301, 65),
    (130, 130),
    (517, 129),
    (3, 1100),
    (1030, 513),
]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{r}x{n}" for r, n in SHAPES])
def test_every_shape_and_layout_matches_numpy(shape, layout):
    rows, n = shape
    a = np.random.default_rng(rows * 7919 + n).standard_normal(shape) + 0.5
    x = LAYOUTS[layout](a)
    np.testing.assert_array_equal(x, a)
    got = _core.syrk(x)
    scale = np.abs(a).max() ** 2 * rows
    np.testing.assert_allclose(got, a.T @ a, rtol=0, atol=1e-14 * scale)
    np.testing.assert_array_equal(got, got.T)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 40),
    n=st.integers(1, 40),
    fortran=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_gram_of_stacked_blocks_is_the_sum_of_their_grams(rows, n, fortran, seed):
    # X^T X of [A; B] is A^T A + B^T B, and each term is numpy's product.
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((2, rows, n))
    stacked = np.vstack([a, b])
    order = "F" if fortran else "C"
    ga, gb, gs = (_core.syrk(np.asarray(m, order=order)) for m in (a, b, stacked))
    atol = 1e-13 * (np.abs(stacked).max() ** 2) * 2 * rows
    np.testing.assert_allclose(ga, a.T @ a, rtol=0, atol=atol)
    np.testing.assert_allclose(gs, ga + gb, rtol=0, atol=atol)


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize(
    "row, col, bad, match",
    [
        (1000, 519, np.nan, "row 1000 contains NaN or infinity"),  # partial last group
        (700, 0, -np.inf, "row 700 contains NaN or infinity"),  # a whole group, second panel
        (1029, 8, 1e100, "row 1029 contains a value beyond 1e100"),  # ragged last samples
        (3, 300, -1e100, "row 3 contains a value beyond 1e100"),
    ],
    ids=["nan-edge-group", "inf-second-panel", "1e100-last-row", "minus-1e100"],
)
def test_bad_values_anywhere_are_named_by_row(layout, row, col, bad, match):
    # Shared-panel width and two panels: the values are checked as the panels
    # are packed, in either layout, and the first bad row is named.
    a = np.random.default_rng(3).standard_normal((1030, 520))
    a[row, col] = bad
    with pytest.raises(ValueError, match=match):
        _core.syrk(LAYOUTS[layout](a))


@pytest.mark.parametrize("layout", ["C", "F"])
def test_first_bad_row_wins_whatever_the_layout(layout):
    a = np.random.default_rng(4).standard_normal((600, 530))
    a[10, 2] = np.nan  # a later row, in an earlier column
    a[5, 400] = 1e200  # the first bad row: its kind is reported
    a[5, 500] = np.inf
    with pytest.raises(ValueError, match="row 5 contains a value beyond 1e100"):
        _core.syrk(LAYOUTS[layout](a))
    a[5, 400] = np.nextafter(1e100, 0)  # the largest accepted magnitude
    with pytest.raises(ValueError, match="row 5 contains NaN or infinity"):
        _core.syrk(LAYOUTS[layout](a))
    a[5, 500] = a[10, 2] = 1.0
    got = _core.syrk(LAYOUTS[layout](a))
    assert np.isfinite(got).all() and got[400, 400] >= a[5, 400] ** 2

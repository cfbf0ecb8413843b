"""Misaligned and byte-swapped arrays are copied to aligned native storage before the core.

A C-contiguous view whose data starts at an odd address (a slice of a byte
buffer, a field of a packed record) is not copied by ``np.ascontiguousarray``;
reading it through a ``double*`` in C++ is undefined behaviour (UBSan reported
it in the assignment, moments and layout-copy kernels). Each public path into
the core must give the same answer for such a view as for an aligned copy.
"""

import numpy as np
import pytest

import descramble as ds
from descramble._validation import for_core

DTYPES = [np.float32, np.float64, np.int32, np.int64]


def _misaligned(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``a`` whose data pointer is one byte off alignment."""
    a = np.ascontiguousarray(a)
    buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
    view = buf[1:].view(a.dtype).reshape(a.shape)
    view[...] = a
    assert view.flags.c_contiguous and not view.flags.aligned
    assert np.ascontiguousarray(view).ctypes.data == view.ctypes.data  # not copied by numpy
    return view


def _values(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    return (10 * rng.standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_for_core_copies_misaligned_and_byte_swapped_arrays(dtype):
    a = _values(dtype, (5, 3))
    fixed = for_core(_misaligned(a))
    assert fixed.flags.aligned and fixed.flags.c_contiguous
    np.testing.assert_array_equal(fixed, a)
    swapped = a.astype(a.dtype.newbyteorder(">" if a.dtype.byteorder != ">" else "<"))
    fixed = for_core(swapped)
    assert fixed.dtype.isnative and fixed.flags.aligned
    np.testing.assert_array_equal(fixed, a)
    assert for_core(a) is a  # aligned native input is passed through


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_eigh_of_misaligned_matrix(dtype):
    x = _values(dtype, (60, 60))
    a = (x + x.T) // 2 if np.dtype(dtype).kind == "i" else (x + x.T) / 2
    w, v = ds.eigh(_misaligned(a))
    w_ref, v_ref = ds.eigh(np.ascontiguousarray(a))
    np.testing.assert_array_equal(w, w_ref)
    np.testing.assert_array_equal(v, v_ref)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_linear_sum_assignment_of_misaligned_cost(dtype):
    from scipy.optimize import linear_sum_assignment

    cost = _values(dtype, (9, 12))
    rows, cols = ds.linear_sum_assignment(_misaligned(cost))
    r_ref, c_ref = linear_sum_assignment(cost)
    assert cost[rows, cols].sum() == cost[r_ref, c_ref].sum()
    (batch,) = ds.linear_sum_assignment_batch([_misaligned(cost)])
    assert cost[batch].sum() == cost[r_ref, c_ref].sum()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_moments_of_misaligned_batches(dtype):
    x = _values(dtype, (40, 7))
    m = ds.Moments(7).update(_misaligned(x))
    ref = ds.Moments(7).update(np.ascontiguousarray(x))
    np.testing.assert_array_equal(m.gram(), ref.gram())
    np.testing.assert_allclose(m.covariance(), np.cov(x.astype(np.float64), rowvar=False))
    count, mean, scatter = ref.state()
    rebuilt = ds.Moments.from_state(count, _misaligned(mean), _misaligned(scatter))
    np.testing.assert_array_equal(rebuilt.scatter(), scatter)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_descramble_of_misaligned_samples(dtype):
    x = _values(dtype, (50, 16))
    r = ds.descramble(_misaligned(x))
    ref = ds.descramble(np.ascontiguousarray(x))
    np.testing.assert_array_equal(r.P, ref.P)
    g = ds.Gram(_misaligned(x.astype(np.float64).T @ x.astype(np.float64)))
    assert ds.descramble(g).lower_bound == pytest.approx(ref.lower_bound, rel=1e-12)

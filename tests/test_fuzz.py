"""Malformed input fed to the public API: a clear ValueError/TypeError or a right answer.

Hypothesis draws arrays of every numpy dtype (both byte orders, object,
string, complex), 0-d to 3-d and empty shapes, values that are NaN, infinite,
huge or subnormal, and views that are non-contiguous, reversed, misaligned or
read-only, plus bad keyword values. Every call must either raise ValueError or
TypeError, or return what numpy/scipy return for the same data. The budget is
fixed and derandomized, so CI runs the same few hundred cases each time (seconds).
A longer campaign sets ``DESCRAMBLE_FUZZ_EXAMPLES`` (examples per test; 4500 gives
27,000 calls), for example under the sanitizer build of ``.ci/run``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import descramble as ds

FUZZ = settings(
    max_examples=int(os.environ.get("DESCRAMBLE_FUZZ_EXAMPLES", "150")),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CLEAR_ERRORS = (ValueError, TypeError)

DTYPES = [
    "<f8", ">f8", "<f4", ">f4", "f2", "longdouble", "<i8", ">i8", "<i4", ">i2", "i1",
    "u8", "u4", "u1", "?", "c16", "O", "U3", "S2", "M8[s]", "m8[s]",
]  # fmt: skip

SPECIAL_VALUES = [np.nan, np.inf, -np.inf, 1e308, -1e308, 1e200, 5e-324, -2.2e-308, 0.0, -0.0]


@st.composite
def real_values(draw, shape):
    """float64 values with a sprinkling of NaN, inf, huge and subnormal entries."""
    size = int(np.prod(shape))
    base = draw(st.sampled_from([1.0, 1e-300, 1e150]))
    seed = draw(st.integers(0, 2**16))
    values = base * np.random.default_rng(seed).standard_normal(size)
    for _ in range(draw(st.integers(0, 3))):
        if size:
            values[draw(st.integers(0, size - 1))] = draw(st.sampled_from(SPECIAL_VALUES))
    return values.reshape(shape)


def _cast(values, dtype):
    dt = np.dtype(dtype)
    with np.errstate(all="ignore"):
        if dt.kind == "O":
            return values.astype(object)
        if dt.kind in "US":
            return values.astype(str).astype(dt)
        if dt.kind in "Mm":
            return np.zeros(values.shape, dtype=dt)
        if dt.kind in "iu":
            finite = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
            return np.clip(finite, -100, 100).astype(dt)
        return values.astype(dt)


def _view(arr, layout, draw):
    """``arr`` (a fresh array) as the requested kind of view."""
    if layout == "contiguous":
        return arr
    if layout == "fortran":
        return np.asfortranarray(arr)
    if layout == "strided" and arr.ndim:
        big = np.repeat(arr, 2, axis=-1)
        return big[..., ::2]
    if layout == "reversed" and arr.ndim:
        return np.ascontiguousarray(arr[..., ::-1])[..., ::-1]
    if layout == "misaligned" and arr.dtype.kind not in "OUS" and arr.itemsize > 1:
        buf = np.zeros(arr.nbytes + 1, dtype=np.uint8)
        view = buf[1:].view(arr.dtype).reshape(arr.shape)
        view[...] = arr
        return view
    if layout == "readonly":
        arr.flags.writeable = False
        return arr
    return arr


@st.composite
def arrays(draw, square=False, ndim=None):
    if ndim is None:
        ndim = draw(st.sampled_from([0, 1, 2, 2, 2, 3]))
    if square and ndim == 2:
        n = draw(st.integers(0, 9))
        shape: tuple[int, ...] = (n, n)
    else:
        shape = tuple(draw(st.lists(st.integers(0, 7), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(DTYPES))
    arr = np.array(_cast(draw(real_values(shape)), dtype))  # 0-d results of clip are scalars
    layout = draw(
        st.sampled_from(["contiguous", "fortran", "strided", "reversed", "misaligned", "readonly"])
    )
    return _view(arr, layout, draw)


def _as_reference(a):
    """The float64 array numpy would compute with, or None when it is not real numeric."""
    if a.dtype.kind not in "fiubO":
        return None
    try:
        with np.errstate(all="ignore"):
            return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _clear_error_or(check, call):
    try:
        result = call()
    except CLEAR_ERRORS:
        return
    check(result)


@FUZZ
@given(a=arrays(square=True))
def test_eigh(a):
    ref = _as_reference(a)

    def check(result):
        w, v = result
        # One matrix or a stack (..., M, M), as numpy.linalg.eigh. Only the
        # lower triangle is read (numpy's UPLO="L"), so only it must be finite.
        assert ref is not None and ref.ndim >= 2 and np.all(np.isfinite(np.tril(ref)))
        sym = np.tril(ref) + np.swapaxes(np.tril(ref, -1), -1, -2)
        # LAPACK's own rescaling of entries near the largest double loses
        # digits (2.9e-8 relative seen): the reference works on the matrix
        # scaled by a power of two, which is exact, and scales back.
        top = np.abs(sym).max(initial=0.0)
        unit = 2.0 ** -np.floor(np.log2(top)) if top > 0 else 1.0
        w_ref = np.linalg.eigvalsh(sym * unit) / unit
        scale = max(np.abs(w_ref).max(initial=0.0), np.finfo(float).tiny)
        # float32 in, float32 out (as numpy): rounded to float32's precision.
        rel = max(1e-10, 4 * ref.shape[-1] * float(np.finfo(w.dtype).eps))
        np.testing.assert_allclose(w, w_ref, rtol=0, atol=rel * scale)
        assert np.all(np.isfinite(v))

    _clear_error_or(check, lambda: ds.eigh(a))


@FUZZ
@given(a=arrays(), maximize=st.sampled_from([False, True, 0, 1]))
def test_linear_sum_assignment(a, maximize):
    from scipy.optimize import linear_sum_assignment

    def check(result):
        rows, cols = result
        ref = _as_reference(a)
        assert ref is not None and ref.ndim == 2
        # The optimum of the same costs in float64 (which input dtypes scipy
        # accepts is the drop-in suite's business, not this one's).
        r_ref, c_ref = linear_sum_assignment(ref, maximize=maximize)
        assert len(rows) == len(r_ref)
        got, expected = ref[rows, cols].sum(), ref[r_ref, c_ref].sum()
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)

    _clear_error_or(check, lambda: ds.linear_sum_assignment(a, maximize=maximize))


@FUZZ
@given(a=arrays(ndim=2), n=st.integers(-1, 8))
def test_moments_update(a, n):
    def check(m):
        ref = _as_reference(a)
        assert ref is not None and ref.shape[1] == n
        assert m.count == ref.shape[0]
        if ref.shape[0]:
            # Rounding of an inner product is relative to the norms of its two
            # columns (Cauchy-Schwarz), not to its own value: an exact zero
            # beside a column of 1e19s comes out as 1e3.
            with np.errstate(over="ignore", invalid="ignore"):
                expected = ref.T @ ref
                got = m.gram()
                norms = np.sqrt(np.diag(expected))
                bound = 1e-9 * np.abs(expected) + 1e-12 * np.outer(norms, norms) + 1e-9
                assert np.all((got == expected) | (np.abs(got - expected) <= bound))

    _clear_error_or(check, lambda: ds.Moments(n).update(a))


@FUZZ
@given(
    a=arrays(ndim=2),
    smoothness=st.sampled_from(["fourier", "dirichlet", "bogus", None, 3]),
    order=st.sampled_from([1, 2, 3, 0, -1, None, 2.5, "2"]),
    group=st.sampled_from(["orthogonal", "special", "permutation", "rotation", None]),
    k=st.sampled_from([None, 1, 2, 0, -1, 100, 1.5, True]),
    center=st.sampled_from([False, True, "yes", None]),
)
def test_descramble(a, smoothness, order, group, k, center):
    def check(r):
        ref = _as_reference(a)
        assert ref is not None and np.all(np.isfinite(ref))
        n = ref.shape[1]
        assert r.P.shape == (r.k, n) and np.all(np.isfinite(r.P))
        np.testing.assert_allclose(r.P @ r.P.T, np.eye(r.k), atol=1e-8)
        assert np.isfinite(r.objective) and np.isfinite(r.lower_bound)
        if r.group != "permutation":
            scale = 1e-6 * max(abs(r.lower_bound), 1.0) + 1e-9 * abs(r.lam).sum() * abs(r.mu[0])
            assert abs(r.objective - r.lower_bound) <= scale

    _clear_error_or(
        check,
        lambda: ds.descramble(
            a, smoothness=smoothness, order=order, group=group, k=k, center=center
        ),
    )


@FUZZ
@given(a=arrays(square=True))
def test_gram(a):
    def check(r):
        ref = _as_reference(a)
        assert ref is not None and np.all(np.isfinite(ref))
        np.testing.assert_allclose(r.P @ r.P.T, np.eye(r.n), atol=1e-8)
        assert np.isfinite(r.objective)

    _clear_error_or(check, lambda: ds.descramble(ds.Gram(a)))


@FUZZ
@given(
    kind=st.sampled_from(["fourier", "periodic", "dirichlet", "neumann", "x", None, 1]),
    n=st.sampled_from([1, 2, 7, 8, 0, -3, 2.0, None, True]),
    order=st.sampled_from([1, 2, 3, 4, 0, -1, 2.0, None, 40]),
)
def test_smoothness_basis(kind, n, order):
    def check(result):
        lam, t = result
        assert np.all(np.diff(lam) >= 0)
        np.testing.assert_allclose(t.T @ t, np.eye(t.shape[0]), atol=1e-10)
        d = ds.smoothness.operator(kind, n, order)
        lmat = d.T @ d
        np.testing.assert_allclose(lmat @ t, t * lam, atol=1e-8 * max(1.0, lam[-1]))

    _clear_error_or(check, lambda: ds.smoothness.basis(kind, n, order))

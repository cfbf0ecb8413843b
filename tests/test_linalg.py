"""ds.eigh against numpy.linalg.eigh (LAPACK dsyevd) and against the math.

Vectors are never compared entry by entry (signs and bases of eigenspaces are
arbitrary): a solution is judged by its eigenvalues, its residual
||A V - V diag(w)|| / ||A|| and its orthogonality ||V^T V - I||, each within a
small factor of LAPACK's on the same matrix.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.linalg import LinAlgError

import _helpers
import descramble as ds
from descramble import _core

# The LAPACK reference runs on one BLAS thread (see conftest.single_threaded_blas).
pytestmark = pytest.mark.usefixtures("single_threaded_blas")


# Sizes that reach every code path: Eigen's solver (n <= 48), a single
# unblocked panel (n <= 128), blocked panels with divide and conquer (n > 128).
SIZES = [1, 2, 3, 47, 49, 130, 300]
EPS = np.finfo(np.float64).eps


def _sym(rng, n):
    a = rng.standard_normal((n, n))
    return (a + a.T) / 2


def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _fourier_smoothness(n):
    """L = D^T D for the second-order Fourier differentiation matrix D (fourdif's closed form)."""
    col = _helpers.fourdif2_column(n)
    i = np.arange(n)
    d = col[np.abs(i[:, None] - i[None, :])]
    return d.T @ d


def _family(name, n, rng):
    if name == "random":
        return _sym(rng, n)
    if name == "clustered":
        t = _orthogonal(rng, n)
        w = np.where(np.arange(n) < n // 2, 1.0, 1.0 + 1e-10 * rng.standard_normal(n))
        return (t * w) @ t.T
    if name == "graded":
        t = _orthogonal(rng, n)
        return (t * np.logspace(0, -12, n)) @ t.T
    if name == "ties":  # eigenvalues 0, 1, 1, 16, 16, 81, 81, ... in a random basis
        t = _orthogonal(rng, n)
        w = ((np.arange(n) + 1) // 2).astype(float) ** 4
        return (t * w) @ t.T
    if name == "fourier":
        return _fourier_smoothness(n)
    if name == "gram":  # rank-deficient: X^T X with N < n
        x = rng.standard_normal((max(n // 3, 1), n))
        return x.T @ x
    if name == "diagonal":
        return np.diag(rng.standard_normal(n))
    if name == "zero":
        return np.zeros((n, n))
    raise AssertionError(name)


FAMILIES = ["random", "clustered", "graded", "ties", "fourier", "gram", "diagonal", "zero"]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"n{n}")
def test_eigh_matches_lapack(family, n):
    rng = np.random.default_rng(n)
    a = _family(family, n, rng)
    w, v = ds.eigh(a)
    w_ref, v_ref = np.linalg.eigh(a)
    _helpers.assert_eigh_like_lapack(a, w, v, w_ref, v_ref)


@pytest.mark.parametrize("family", ["random", "ties", "gram"])
def test_multithreaded_path_matches_lapack(family):
    # Above every phase's threading crossover (700 today), so all phases run
    # on all threads: full, values-only and leading-k paths.
    crossovers = _core.crossovers()
    n = 188 + max(crossovers[f"eigh_{phase}_parallel_min"] for phase in ("reduce", "back", "dc"))
    rng = np.random.default_rng(7)
    a = _family(family, n, rng)
    w_ref, v_ref = np.linalg.eigh(a)
    w, v = ds.eigh(a)
    _helpers.assert_eigh_like_lapack(a, w, v, w_ref, v_ref)
    scale = np.abs(w_ref).max()
    np.testing.assert_allclose(ds.eigh(a, eigvals_only=True), w_ref, atol=50 * n * EPS * scale)
    wk, vk = ds.eigh(a, k=20)
    _helpers.assert_eigh_like_lapack(a, wk, vk, w_ref, v_ref[:, -20:])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [3, 49, 300], ids=lambda n: f"n{n}")
def test_eigvals_only_matches_lapack(family, n):
    a = _family(family, n, np.random.default_rng(7 + n))
    w = ds.eigh(a, eigvals_only=True)
    w_ref = np.linalg.eigvalsh(a)
    scale = max(np.abs(w_ref).max(initial=0.0), np.finfo(float).tiny)
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=50 * n * EPS * scale)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("n", "k"), [(300, 1), (300, 10), (130, 100), (40, 5)])
def test_leading_k_matches_lapack(family, n, k):
    # k << n runs inverse iteration on the tridiagonal form; larger k the full solve.
    a = _family(family, n, np.random.default_rng(n + k))
    w, v = ds.eigh(a, k=k)
    assert w.shape == (k,) and v.shape == (n, k)
    w_ref, v_ref = np.linalg.eigh(a)
    _helpers.assert_eigh_like_lapack(a, w, v, w_ref, v_ref[:, -k:])
    w_only = ds.eigh(a, k=k, eigvals_only=True)
    np.testing.assert_allclose(w_only, w, rtol=0, atol=50 * n * EPS * np.abs(w_ref).max(initial=1))


def test_fourier_smoothness_spectrum_in_closed_form():
    # The eigenvalues of D^T D are j^4 for the frequencies j = 0, 1, 1, 2, 2, ...
    n = 256
    freq = (np.arange(n) + 1) // 2
    w = ds.eigh(_fourier_smoothness(n), eigvals_only=True)
    np.testing.assert_allclose(w, freq.astype(float) ** 4, rtol=0, atol=1e-9 * (n / 2) ** 4)


@pytest.mark.parametrize("n", [49, 300], ids=lambda n: f"n{n}")
def test_eigh_reconstructs_matrix(n):
    a = _sym(np.random.default_rng(3), n)
    w, v = ds.eigh(a)
    np.testing.assert_allclose((v * w) @ v.T, a, atol=100 * n * EPS * np.abs(w).max())


@pytest.mark.parametrize("n", [9, 200], ids=lambda n: f"n{n}")
def test_eigh_reads_lower_triangle(n):
    rng = np.random.default_rng(0)
    a = _sym(rng, n)
    garbage = a + np.triu(rng.standard_normal((n, n)), 1)
    np.testing.assert_allclose(ds.eigh(garbage)[0], np.linalg.eigvalsh(a), atol=1e-12 * n)


@pytest.mark.parametrize(
    "layout",
    ["C", "F", "strided", "float32", "int64"],
)
@pytest.mark.parametrize("n", [30, 160], ids=lambda n: f"n{n}")
def test_eigh_layouts_and_dtypes(layout, n):
    rng = np.random.default_rng(11)
    base = _sym(rng, 2 * n)
    if layout == "C":
        a = np.ascontiguousarray(base[:n, :n])
    elif layout == "F":
        a = np.asfortranarray(base[:n, :n])
    elif layout == "strided":
        a = base[::2, ::2]
    elif layout == "float32":
        a = base[:n, :n].astype(np.float32)
    else:
        a = np.rint(10 * base[:n, :n]).astype(np.int64)
    w, v = ds.eigh(a)
    ref = np.asarray(a, dtype=np.float64)
    w_ref, v_ref = np.linalg.eigh(ref)
    if layout == "float32":
        # Solved in float64, rounded once: float32 out, accurate to float32 rounding.
        assert w.dtype == v.dtype == np.float32
        f32 = np.finfo(np.float32).eps
        np.testing.assert_allclose(w, w_ref, rtol=0, atol=4 * f32 * np.abs(w_ref).max())
        res, orth = _helpers.eigh_quality(ref, w.astype(float), v.astype(float))
        assert res <= 10 * n * f32 and orth <= 10 * n * f32
        return
    _helpers.assert_eigh_like_lapack(ref, w, v, w_ref, v_ref)


def test_eigh_empty():
    w, v = ds.eigh(np.zeros((0, 0)))
    assert w.shape == (0,) and v.shape == (0, 0)
    assert ds.eigh(np.zeros((0, 0)), eigvals_only=True).shape == (0,)


def test_eigh_one_by_one_and_two_by_two_in_closed_form():
    w, v = ds.eigh(np.array([[-3.5]]))
    assert w.tolist() == [-3.5] and abs(v[0, 0]) == 1.0
    a, b, c = 2.0, 3.0, -1.0
    w = ds.eigh(np.array([[a, b], [b, c]]), eigvals_only=True)
    mean, rad = (a + c) / 2, np.hypot((a - c) / 2, b)
    np.testing.assert_allclose(w, [mean - rad, mean + rad], rtol=1e-15)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 160),
    seed=st.integers(0, 2**32 - 1),
    shift=st.floats(-100, 100),
    scale=st.floats(1e-3, 1e3),
)
def test_eigh_is_affine_equivariant(n, seed, shift, scale):
    # eig(s A + c I) = s eig(A) + c, with the same invariant subspaces.
    a = _sym(np.random.default_rng(seed), n)
    w = ds.eigh(a, eigvals_only=True)
    w2, v2 = ds.eigh(scale * a + shift * np.eye(n))
    tol = 200 * n * EPS * (scale * np.abs(w).max() + abs(shift))
    np.testing.assert_allclose(w2, scale * w + shift, rtol=0, atol=tol)
    res, orth = _helpers.eigh_quality(a, w, v2)
    assert orth <= 100 * n * EPS
    assert res <= 1e-8 or n == 1 or np.min(np.diff(w)) < 1e-6


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.zeros((2, 3)), LinAlgError, r"must be square, got shape \(2, 3\)"),
        (np.zeros((4, 2, 3)), LinAlgError, r"must be square, got shape \(4, 2, 3\)"),
        (np.zeros(3), LinAlgError, r"1-dimensional array given.*got shape \(3,\)"),
        (np.float64(2.0), LinAlgError, "0-dimensional array given"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), ValueError, "NaN or infinity"),
        (np.array([["a"]]), TypeError, "real numeric array"),
        (np.array([[1.0]], dtype=object), TypeError, "real numeric array"),
        (np.eye(2, dtype=np.float16), TypeError, "float16 is unsupported"),
        (np.eye(2, dtype=np.longdouble), TypeError, "is unsupported in linalg"),
        (np.eye(2, dtype=complex), TypeError, "complex Hermitian input is not supported"),
    ],
    ids=[
        "non-square",
        "non-square-stack",
        "1-D",
        "0-D",
        "nan",
        "strings",
        "object",
        "float16",
        "longdouble",
        "complex",
    ],
)
@pytest.mark.parametrize("fn", [ds.eigh, ds.eigvalsh], ids=["eigh", "eigvalsh"])
def test_eigh_errors(bad, exc, match, fn):
    # numpy's exception types (LinAlgError is a ValueError), our messages.
    with pytest.raises(exc, match=match):
        fn(bad)


@pytest.mark.parametrize("uplo", [3, "lower", "X"])
def test_uplo_errors(uplo):
    exc = TypeError if not isinstance(uplo, str) else ValueError
    with pytest.raises(exc, match="UPLO argument must be"):
        ds.eigh(np.eye(2), UPLO=uplo)
    with pytest.raises(exc, match="UPLO argument must be"):
        ds.eigvalsh(np.eye(2), uplo)


def test_eigh_k_out_of_range():
    with pytest.raises(ValueError, match=r"1 <= k <= n = 3, got 4"):
        ds.eigh(np.eye(3), k=4)


def test_eigh_k_zero():
    with pytest.raises(ValueError, match=r"1 <= k <= n = 3, got 0"):
        ds.eigh(np.eye(3), k=0)


def test_eigh_k_not_an_integer():
    with pytest.raises(TypeError, match="k must be an integer or None, got float"):
        ds.eigh(np.eye(3), k=2.0)


def test_eigvals_only_many_zero_eigenvalues():
    # A Gram matrix X^T X with N << n: hundreds of eigenvalues at rounding
    # level, where a purely relative QL splitting test used to stall.
    x = np.random.default_rng(5).standard_normal((200, 600))
    a = x.T @ x
    w = ds.eigh(a, eigvals_only=True)
    w_ref = np.linalg.eigvalsh(a)
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=50 * 600 * EPS * w_ref.max())
    assert np.sum(w > 1e-8 * w.max()) == 200


@pytest.mark.parametrize(("n", "k"), [(1, 1), (5, 5), (48, 48), (80, 80), (300, 300), (300, 7)])
def test_principal_eigh_order_and_signs(n, k):
    # The core's principal ordering that descramble uses: mu descending, each
    # column's first largest-magnitude entry positive, same pairs as numpy.
    from descramble import _core

    rng = np.random.default_rng(n + k)
    x = rng.standard_normal((2 * n, n))
    g = x.T @ x
    mu, u = _core.principal_eigh(g, k)
    w_ref, v_ref = np.linalg.eigh(g)
    np.testing.assert_allclose(mu, w_ref[::-1][:k], rtol=1e-12, atol=1e-12 * w_ref[-1])
    assert np.all(np.diff(mu) <= 0)
    idx = np.argmax(np.abs(u), axis=0)
    assert np.all(u[idx, np.arange(k)] > 0)
    # Same vectors as LAPACK's up to the sign (the spectrum is simple).
    ref = v_ref[:, ::-1][:, :k]
    ref = ref * np.sign(ref[idx, np.arange(k)])
    np.testing.assert_allclose(u, ref, atol=1e-9)


def test_principal_eigh_sign_tie_goes_to_first_entry():
    from descramble import _core

    # Eigenvector (1, -1)/sqrt(2) of [[2, -1], [-1, 2]] (eigenvalue 3): both
    # entries have the largest magnitude; the first one is made positive.
    mu, u = _core.principal_eigh(np.array([[2.0, -1.0], [-1.0, 2.0]]), 2)
    np.testing.assert_allclose(mu, [3.0, 1.0])
    np.testing.assert_allclose(u[:, 0], np.array([1.0, -1.0]) / np.sqrt(2.0))
    np.testing.assert_allclose(u[:, 1], np.array([1.0, 1.0]) / np.sqrt(2.0))


@pytest.mark.parametrize("k", [0, 4, -1])
def test_principal_eigh_k_out_of_range(k):
    from descramble import _core

    with pytest.raises(ValueError, match="k must satisfy"):
        _core.principal_eigh(np.eye(3), k)


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e200, 1e300], ids=lambda s: f"{s:.0e}")
@pytest.mark.parametrize("n", [20, 60, 300], ids=lambda n: f"n{n}")
def test_eigh_far_from_unit_scale(n, scale):
    # The tridiagonal solvers square entries: without the driver's power-of-two
    # balancing, 1e200 did not converge and 1e-200 gave wrong eigenvalues.
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n))
    a = a + a.T
    ref = np.linalg.eigvalsh(a)
    tol = 1e-13 * np.abs(ref).max()
    w, v = ds.eigh(a * scale)
    np.testing.assert_allclose(w / scale, ref, atol=tol)
    assert np.abs(a @ v - v * (w / scale)).max() <= 1e-12 * np.abs(ref).max()
    np.testing.assert_allclose(ds.eigh(a * scale, eigvals_only=True) / scale, ref, atol=tol)
    np.testing.assert_allclose(ds.eigh(a * scale, k=3)[0] / scale, ref[-3:], atol=tol)


def test_eigh_subnormal_matrix():
    # Entries near the smallest subnormal keep only a few bits, but the solver
    # returns the pairs of the matrix it was given instead of failing.
    a = np.diag([3.0, 2.0, 1.0] * 20) * 2.0**-1070
    w = ds.eigh(a, eigvals_only=True)
    np.testing.assert_array_equal(w, np.sort(np.diag(a)))


# --- numpy's interface: stacks, UPLO, dtypes ----------------------------------


def _sym_stack(rng, shape, n):
    x = rng.standard_normal((*shape, n, n))
    return (x + np.swapaxes(x, -1, -2)) / 2


@pytest.mark.parametrize("n", [1, 5, 48, 49, 130], ids=lambda n: f"n{n}")
@pytest.mark.parametrize("shape", [(1,), (7,), (2, 3)], ids=lambda s: "x".join(map(str, s)))
def test_stack_matches_lapack_matrix_by_matrix(shape, n):
    # Every path of the single-matrix solver, run across the threads of the
    # batch: each matrix's pairs as accurate as LAPACK's on that matrix.
    a = _sym_stack(np.random.default_rng(n), shape, n)
    w, v = ds.eigh(a)
    assert w.shape == (*shape, n) and v.shape == (*shape, n, n)
    assert w.dtype == v.dtype == np.float64
    w_only = ds.eigvalsh(a)
    for idx in np.ndindex(*shape):
        w_ref, v_ref = np.linalg.eigh(a[idx])
        _helpers.assert_eigh_like_lapack(a[idx], w[idx], v[idx], w_ref, v_ref)
        scale = np.abs(w_ref).max()
        np.testing.assert_allclose(w_only[idx], w_ref, rtol=0, atol=50 * n * EPS * scale)


def test_stack_leading_k():
    a = _sym_stack(np.random.default_rng(21), (4,), 160)
    w, v = ds.eigh(a, k=6)
    assert w.shape == (4, 6) and v.shape == (4, 160, 6)
    for p in range(4):
        w_ref, v_ref = np.linalg.eigh(a[p])
        _helpers.assert_eigh_like_lapack(a[p], w[p], v[p], w_ref, v_ref[:, -6:])


@pytest.mark.parametrize("n", [3, 60], ids=lambda n: f"n{n}")
def test_uplo_reads_only_the_named_triangle(n):
    rng = np.random.default_rng(22)
    a = _sym_stack(rng, (3,), n)
    noise = rng.standard_normal((3, n, n))
    lower = np.tril(a) + np.triu(noise, 1)
    upper = np.triu(a) + np.tril(noise, -1)
    w_ref = np.linalg.eigvalsh(a)
    for got in (
        ds.eigvalsh(lower),
        ds.eigvalsh(lower, UPLO="l"),
        ds.eigvalsh(upper, UPLO="U"),
        ds.eigvalsh(upper, "u"),
        ds.eigh(upper, "U").eigenvalues,
    ):
        np.testing.assert_allclose(got, w_ref, rtol=0, atol=100 * n * EPS)
    # NaN in the triangle that is not read is ignored, as LAPACK ignores it.
    upper[:, -1, 0] = np.nan
    np.testing.assert_allclose(ds.eigvalsh(upper, UPLO="U"), w_ref, rtol=0, atol=100 * n * EPS)


@pytest.mark.parametrize(
    "dtype, out",
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.int8, np.float64),
        (np.uint64, np.float64),
        (bool, np.float64),
        (">f8", np.float64),
    ],
    ids=["float32", "float64", "int8", "uint64", "bool", "big-endian"],
)
def test_result_dtype_follows_numpy(dtype, out):
    a = np.array([[[2, 1], [1, 2]], [[0, 1], [1, 0]]]).astype(dtype)
    w, v = ds.eigh(a)
    ref = np.linalg.eigh(a)
    assert w.dtype == v.dtype == ref.eigenvalues.dtype == out
    assert ds.eigvalsh(a).dtype == out
    np.testing.assert_allclose(w, ref.eigenvalues, atol=1e-6)


@pytest.mark.parametrize("shape", [(0, 0), (3, 0, 0), (0, 4, 4), (2, 0, 3, 3)])
def test_empty_shapes_follow_numpy(shape):
    for dtype in (np.float32, np.float64, np.int64):
        a = np.zeros(shape, dtype=dtype)
        w, v = ds.eigh(a)
        ref = np.linalg.eigh(a)
        assert w.shape == ref.eigenvalues.shape and v.shape == ref.eigenvectors.shape
        assert w.dtype == ref.eigenvalues.dtype and v.dtype == ref.eigenvectors.dtype
        assert ds.eigvalsh(a).shape == np.linalg.eigvalsh(a).shape


def test_stack_error_names_the_matrix():
    a = _sym_stack(np.random.default_rng(23), (5,), 4)
    a[3, 2, 1] = np.inf
    with pytest.raises(ValueError, match=r"matrix 3 of the stack: eigh: .*NaN or infinity"):
        ds.eigh(a)


def test_stack_is_solved_on_all_threads_and_agrees_with_serial():
    # The batch spreads matrices over the OpenMP threads; each one must get the
    # same answer as when solved alone.
    a = _sym_stack(np.random.default_rng(24), (64,), 40)
    w, v = ds.eigh(a)
    for p in (0, 31, 63):
        wp, vp = ds.eigh(a[p])
        np.testing.assert_array_equal(w[p], wp)
        np.testing.assert_array_equal(v[p], vp)

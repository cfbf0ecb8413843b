import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import _helpers
import descramble as ds
from descramble import smoothness as sm

SIZES = [1, 2, 3, 4, 5, 8, 9, 16, 33]
# The basis and operator checks here also cover a fourth-order Fourier operator.
KIND_ORDERS = [*_helpers.KIND_ORDERS, ("fourier", 4)]
KO_IDS = _helpers.kind_order_ids(KIND_ORDERS)


def _blocks(values, rtol=1e-9):
    """Index blocks of (sorted) values equal to rtol of the largest magnitude."""
    tol = rtol * max(1.0, float(np.abs(values).max()))
    blocks, cur = [], [0]
    for i in range(1, len(values)):
        if values[i] - values[i - 1] <= tol:
            cur.append(i)
        else:
            blocks.append(cur)
            cur = [i]
    blocks.append(cur)
    return blocks


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kind, order", KIND_ORDERS, ids=KO_IDS)
def test_basis_matches_numpy_eigh(kind, order, n):
    d = sm.operator(kind, n, order)
    L = d.T @ d
    lam, T = sm.basis(kind, n, order)
    w, V = np.linalg.eigh(L)
    scale = max(1.0, float(np.abs(w).max()))
    assert lam.shape == (n,) and T.shape == (n, n)
    assert np.all(np.diff(lam) >= 0)
    np.testing.assert_allclose(lam, w, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(T.T @ T, np.eye(n), atol=1e-13)
    np.testing.assert_allclose(L @ T, T * lam, atol=1e-11 * scale)
    # Same eigenspaces: projectors onto each tied block agree (vectors need not).
    for block in _blocks(w):
        pt = T[:, block] @ T[:, block].T
        pv = V[:, block] @ V[:, block].T
        np.testing.assert_allclose(pt, pv, atol=1e-9)


@pytest.mark.parametrize("n", [4, 7, 10])
@pytest.mark.parametrize("kind, order", KIND_ORDERS, ids=KO_IDS)
def test_basis_matches_ds_eigh_spectrum(kind, order, n):
    d = sm.operator(kind, n, order)
    w, _ = ds.eigh(d.T @ d)
    lam, _ = sm.basis(kind, n, order)
    np.testing.assert_allclose(lam, w, rtol=0, atol=1e-10 * max(1.0, w.max()))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("kind, order", KIND_ORDERS, ids=KO_IDS)
def test_basis_sign_convention_first_nonzero_positive(kind, order, n):
    _, T = sm.basis(kind, n, order)
    for col in T.T:
        first = col[np.abs(col) > 1e-12][0]
        assert first > 0


@pytest.mark.parametrize("n", [6, 7])
def test_fourier_tie_order_cos_before_sin(n):
    lam, T = sm.basis("fourier", n, 2)
    x = 2 * np.pi * np.arange(n) / n
    np.testing.assert_allclose(T[:, 0], np.full(n, 1 / np.sqrt(n)), atol=1e-15)
    for k in range(1, (n - 1) // 2 + 1):
        np.testing.assert_allclose(T[:, 2 * k - 1], np.sqrt(2 / n) * np.cos(k * x), atol=1e-14)
        np.testing.assert_allclose(T[:, 2 * k], np.sqrt(2 / n) * np.sin(k * x), atol=1e-14)
        assert lam[2 * k - 1] == lam[2 * k] == k**4


def test_fourier_order2_eigenvalues_are_k_to_the_fourth():
    lam, _ = sm.basis("fourier", 9, 2)
    np.testing.assert_array_equal(lam, [0, 1, 1, 16, 16, 81, 81, 256, 256])
    lam, _ = sm.basis("fourier", 8, 2)
    np.testing.assert_array_equal(lam, [0, 1, 1, 16, 16, 81, 81, 256])


@pytest.mark.parametrize("order", [1, 3, 5])
@pytest.mark.parametrize("n", [2, 8, 64, 1000])
def test_fourier_odd_order_ranks_the_alternating_mode_roughest(n, order):
    # fourdif gives the Nyquist mode symbol 0 for odd orders, which made
    # (-1)^j as smooth as the constant; it must be the roughest mode instead.
    lam, T = sm.basis("fourier", n, order)
    assert lam[-1] == (n // 2) ** (2 * order) and np.all(lam[:-1] < lam[-1])
    assert np.count_nonzero(lam == 0) == 1
    np.testing.assert_allclose(T[:, -1], (-1.0) ** np.arange(n) / np.sqrt(n), atol=1e-15)
    d = sm.operator("fourier", n, order)
    alternating = (-1.0) ** np.arange(n)
    np.testing.assert_allclose(
        d @ alternating, (n // 2) ** order * alternating, rtol=1e-10, atol=1e-10
    )
    # L = D^T D has the basis eigenvalues (an independent dense check).
    if n <= 64:
        lmat = d.T @ d
        np.testing.assert_allclose(lmat @ T, T * lam, atol=1e-9 * lam[-1])


def test_descrambler_never_sends_a_principal_component_to_the_alternating_mode():
    # Smooth data: its strongest directions must land on the smoothest modes,
    # and the alternating mode (-1)^j gets the weakest one.
    n = 16
    x = np.random.default_rng(0).standard_normal((400, 3)) @ np.array(
        [np.cos(2 * np.pi * f * np.arange(n) / n) for f in (0, 1, 2)]
    ) + 1e-3 * np.random.default_rng(1).standard_normal((400, n))
    r = ds.descramble(x, smoothness="fourier", order=1)
    alternating = (-1.0) ** np.arange(n) / np.sqrt(n)
    # The neuron-space direction shown on the alternating mode is P^T a; its
    # energy in the data is the smallest eigenvalue of G, not the second.
    v = r.P.T @ alternating
    g = x.T @ x
    assert v @ g @ v == pytest.approx(np.linalg.eigvalsh(g)[0], rel=1e-6)


def _fourdif1_column(n):
    """First column of fourdif's first-derivative matrix (Weideman-Reddy)."""
    h = 2 * np.pi / n
    k = np.arange(1, n)
    col = np.zeros(n)
    if n % 2 == 0:
        col[1:] = 0.5 * (-1.0) ** k / np.tan(k * h / 2)
    else:
        col[1:] = 0.5 * (-1.0) ** k / np.sin(k * h / 2)
    return col


def _toeplitz(col, row):
    n = col.size
    i, j = np.indices((n, n))
    return np.where(i >= j, col[np.abs(i - j)], row[np.abs(i - j)])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 16, 17, 64, 65])
def test_fourier_order2_matches_fourdif_formula(n):
    col = _helpers.fourdif2_column(n)
    ref = _toeplitz(col, col)
    d = sm.operator("fourier", n, 2)
    np.testing.assert_allclose(d, ref, rtol=0, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("n", [2, 3, 4, 5, 16, 17, 64, 65])
def test_fourier_order1_matches_fourdif_formula(n):
    col = _fourdif1_column(n)
    ref = _toeplitz(col, -col)
    if n % 2 == 0:
        # fourdif plus the alternating mode's own term (n/2) a a^T / n.
        a = (-1.0) ** np.arange(n)
        ref = ref + (n / 2) * np.outer(a, a) / n
    d = sm.operator("fourier", n, 1)
    np.testing.assert_allclose(d, ref, rtol=0, atol=1e-12 * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("n", [9, 12])
def test_fourier_differentiates_trigonometric_polynomials(n, order):
    x = 2 * np.pi * np.arange(n) / n
    d = sm.operator("fourier", n, order)
    for k in range(0, (n - 1) // 2 + 1):
        f = np.cos(k * x + 0.3)
        exact = k**order * np.cos(k * x + 0.3 + order * np.pi / 2)
        np.testing.assert_allclose(d @ f, exact, atol=1e-10 * max(1, k**order))


def test_finite_difference_stencils_explicit():
    np.testing.assert_array_equal(
        sm.operator("periodic", 4, 2),
        [[-2, 1, 0, 1], [1, -2, 1, 0], [0, 1, -2, 1], [1, 0, 1, -2]],
    )
    np.testing.assert_array_equal(
        sm.operator("periodic", 4, 1),
        [[0, 0.5, 0, -0.5], [-0.5, 0, 0.5, 0], [0, -0.5, 0, 0.5], [0.5, 0, -0.5, 0]],
    )
    np.testing.assert_array_equal(
        sm.operator("dirichlet", 3, 1), [[1, 0, 0], [-1, 1, 0], [0, -1, 1], [0, 0, -1]]
    )
    np.testing.assert_array_equal(
        sm.operator("dirichlet", 3, 2), [[-2, 1, 0], [1, -2, 1], [0, 1, -2]]
    )
    np.testing.assert_array_equal(sm.operator("neumann", 3, 1), [[-1, 1, 0], [0, -1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(
        sm.operator("neumann", 3, 2), [[-1, 1, 0], [1, -2, 1], [0, 1, -1]]
    )


@pytest.mark.parametrize("n", [1, 2, 5])
def test_periodic_small_n_wraps_stencil(n):
    # Circulant: D = sum of shifts, so stencil taps landing on the same column add up.
    shift = np.roll(np.eye(n), 1, axis=1)
    ref2 = shift + shift.T - 2 * np.eye(n)
    np.testing.assert_allclose(sm.operator("periodic", n, 2), ref2)
    np.testing.assert_allclose(sm.operator("periodic", n, 1), 0.5 * (shift - shift.T))


def test_dirichlet_neumann_eigenvalue_formulas():
    n = 7
    lam, T = sm.basis("dirichlet", n, 1)
    np.testing.assert_allclose(lam, 4 * np.sin(np.pi * np.arange(1, n + 1) / (2 * (n + 1))) ** 2)
    j = np.arange(1, n + 1)
    np.testing.assert_allclose(T[:, 0], np.sqrt(2 / (n + 1)) * np.sin(np.pi * j / (n + 1)))
    lam, T = sm.basis("neumann", n, 2)
    np.testing.assert_allclose(lam, 16 * np.sin(np.pi * np.arange(n) / (2 * n)) ** 4)
    np.testing.assert_allclose(T[:, 1], np.sqrt(2 / n) * np.cos(np.pi * (np.arange(n) + 0.5) / n))


def test_periodic_order1_non_monotone_sorted_deterministically():
    n = 8
    lam, T = sm.basis("periodic", n, 1)
    # sin^2(2 pi k / 8) for k = 0..4: 0, 1/2, 1, 1/2, 0 -> ties across frequencies.
    np.testing.assert_allclose(lam, [0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1], atol=1e-15)
    assert lam[2] == lam[5]  # bitwise equal ties: the order cannot flip with rounding
    np.testing.assert_allclose(T[:, 1], (-1.0) ** np.arange(n) / np.sqrt(n), atol=1e-15)
    x = 2 * np.pi * np.arange(n) / n
    # frequency 1 (cos, sin) before frequency 3 (cos, sin) inside the 1/2 block
    np.testing.assert_allclose(T[:, 2], np.cos(x) / 2, atol=1e-15)
    np.testing.assert_allclose(T[:, 5], np.sin(3 * x) / 2, atol=1e-15)


FOURIER_MODE_CASES = [(k, o) for k, o in KIND_ORDERS if k in sm.FOURIER_MODE_KINDS]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(
    "kind, order", FOURIER_MODE_CASES, ids=_helpers.kind_order_ids(FOURIER_MODE_CASES)
)
def test_fourier_synthesis_matches_explicit_basis(kind, order, n):
    # Covers the reordered case too: periodic order 1 interleaves frequencies.
    lam, T = sm.basis(kind, n, order)
    coeffs = np.random.default_rng(n).standard_normal((5, n))
    got = sm.synthesize_fourier_modes(kind, order, coeffs)
    assert got.shape == (5, n)
    np.testing.assert_allclose(got, coeffs @ T.T, rtol=0, atol=1e-13 * np.sqrt(n))


def test_fourier_synthesis_needs_the_permutation():
    # Guard against a synthesis that ignores the eigenvalue order: here it is not
    # the natural one, so skipping the reordering would give another matrix.
    lam, T = sm.basis("periodic", 8, 1)
    T_natural = sm._real_fourier_modes(8)
    assert not np.array_equal(T, T_natural)
    coeffs = np.eye(8)
    np.testing.assert_allclose(sm.synthesize_fourier_modes("periodic", 1, coeffs), T.T, atol=1e-14)


def test_cached_basis_equals_basis_and_is_read_only():
    lam, T = sm.basis("neumann", 9, 2)
    lam_c, T_c = sm.cached_basis("neumann", 9, 2)
    np.testing.assert_array_equal(lam_c, lam)
    np.testing.assert_array_equal(T_c, T)
    assert not lam_c.flags.writeable and not T_c.flags.writeable
    assert sm.cached_basis("neumann", 9, 2)[1] is T_c
    # The public basis stays a fresh, writable array.
    assert sm.basis("neumann", 9, 2)[1].flags.writeable
    with pytest.raises(TypeError, match="n must be an integer, got float"):
        sm.cached_basis("neumann", 9.0, 2)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(sm.KINDS),
    n=st.integers(1, 40),
    order=st.integers(1, 2),
)
def test_basis_diagonalises_operator_property(kind, n, order):
    d = sm.operator(kind, n, order)
    lam, T = sm.basis(kind, n, order)
    L = d.T @ d
    scale = max(1.0, float(lam.max()))
    np.testing.assert_allclose(T.T @ L @ T, np.diag(lam), atol=1e-10 * scale)


def test_operator_from_D_and_L():
    rng = np.random.default_rng(0)
    d = rng.standard_normal((7, 5))
    op = ds.Operator(D=d)
    w, V = np.linalg.eigh(d.T @ d)
    np.testing.assert_allclose(op.lam, w, atol=1e-12)
    np.testing.assert_allclose(np.abs(op.T.T @ V), np.eye(5), atol=1e-8)
    assert op.n == 5 and op.D is not None
    op2 = ds.Operator(L=d.T @ d)
    np.testing.assert_allclose(op2.lam, op.lam, atol=1e-12)
    assert op2.D is None
    lam, T = op2.basis()
    np.testing.assert_allclose((d.T @ d) @ T, T * lam, atol=1e-11)
    idx = np.argmax(np.abs(T), axis=0)
    assert np.all(T[idx, np.arange(5)] > 0)
    assert "Operator(n=5, from L" in repr(op2)


def test_operator_fortran_and_strided_input():
    rng = np.random.default_rng(1)
    d = rng.standard_normal((12, 6))
    ref = ds.Operator(D=d)
    np.testing.assert_allclose(ds.Operator(D=np.asfortranarray(d)).lam, ref.lam, atol=1e-12)
    big = np.zeros((24, 6))
    big[::2] = d
    np.testing.assert_allclose(ds.Operator(D=big[::2]).lam, ref.lam, atol=1e-12)
    np.testing.assert_allclose(ds.Operator(D=d.astype(np.float32)).lam, ref.lam, rtol=1e-5)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: sm.operator("chebyshev", 4), ValueError, "unknown smoothness kind 'chebyshev'"),
        (lambda: sm.basis(3, 4), TypeError, "kind must be a string"),
        (lambda: sm.operator("fourier", 0), ValueError, "n must be >= 1, got 0"),
        (lambda: sm.basis("fourier", 4.0), TypeError, "n must be an integer, got float"),
        (lambda: sm.operator("fourier", 4, 0), ValueError, "order must be >= 1 for kind 'fourier'"),
        (lambda: sm.basis("neumann", 4, 3), ValueError, "order must be 1 or 2 for kind 'neumann'"),
        (lambda: sm.operator("periodic", 4, True), TypeError, "order must be an integer"),
        (lambda: sm.operator("fourier", 64, 400), ValueError, "overflows float64"),
        (lambda: sm.basis("fourier", 64, 200), ValueError, "overflow float64"),
        (lambda: ds.Operator(), ValueError, "exactly one of D"),
        (lambda: ds.Operator(D=np.eye(2), L=np.eye(2)), ValueError, "exactly one of D"),
        (lambda: ds.Operator(L=-np.eye(3)), ValueError, "positive semidefinite"),
        (lambda: ds.Operator(L=[[1.0, 2.0], [0.0, 1.0]]), ValueError, "symmetric matrix"),
        (lambda: ds.Operator(L=np.ones((2, 3))), ValueError, r"square \(n, n\)"),
        (lambda: ds.Operator(D=[[np.nan, 1.0]]), ValueError, "NaN or infinity"),
        (lambda: ds.Operator(D=np.ones(3)), ValueError, "2-D array"),
        (lambda: ds.Operator(D=np.ones((3, 0))), ValueError, "n >= 1"),
        (lambda: ds.Operator(L=np.zeros((0, 0))), ValueError, "n >= 1"),
        (lambda: ds.Operator(D=[["a"]]), TypeError, "real numeric array"),
    ],
    ids=[
        "unknown-kind",
        "kind-not-str",
        "n-zero",
        "n-float",
        "fourier-order-0",
        "fd-order-3",
        "order-bool",
        "fourier-operator-overflow",
        "fourier-basis-overflow",
        "operator-none",
        "operator-both",
        "operator-not-psd",
        "operator-not-symmetric",
        "operator-not-square",
        "operator-nan",
        "operator-1d",
        "operator-no-columns",
        "operator-empty",
        "operator-strings",
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()

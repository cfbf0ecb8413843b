import itertools
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import _helpers
import descramble as ds
from descramble import descrambler as dsc
from descramble import smoothness as sm

KIND_ORDERS = _helpers.KIND_ORDERS
KO_IDS = _helpers.kind_order_ids(KIND_ORDERS)


def hidden_data(rng, n, N=None, d=12):
    """Post-activation hidden data of a random tanh layer fed smooth inputs."""
    N = 4 * n if N is None else N
    t = np.linspace(0, 1, d)
    freqs = rng.uniform(0.5, 3, size=(N, 1))
    inputs = np.sin(2 * np.pi * freqs * t + rng.uniform(0, 2 * np.pi, size=(N, 1)))
    W = rng.standard_normal((n, d)) / np.sqrt(d)
    return np.tanh(inputs @ W.T + 0.1 * rng.standard_normal(n))


def L_of(kind, n, order):
    d = sm.operator(kind, n, order)
    return d.T @ d


def trace_objective(P, L, G):
    return float(np.trace(P.T @ L @ P @ G))


class FakeMoments:
    """Duck-typed stand-in for ds.Moments: gram(), covariance(), count, mean."""

    def __init__(self, X, with_scatter=True):
        self._X = np.asarray(X, dtype=np.float64)
        self.count = self._X.shape[0]
        self.mean = self._X.mean(axis=0)
        if with_scatter:
            self.scatter = lambda: (self._X - self.mean).T @ (self._X - self.mean)

    def gram(self):
        return self._X.T @ self._X

    def covariance(self, ddof=1):
        xc = self._X - self.mean
        return xc.T @ xc / (self.count - ddof)


@pytest.mark.parametrize("n", [1, 2, 7, 24])
@pytest.mark.parametrize("kind, order", KIND_ORDERS, ids=KO_IDS)
def test_objective_equals_bound_and_P_orthogonal(kind, order, n):
    rng = np.random.default_rng(n)
    X = hidden_data(rng, n)
    r = ds.descramble(X, smoothness=kind, order=order)
    G = X.T @ X
    L = L_of(kind, n, order)
    scale = max(abs(r.lower_bound), 1e-300)
    assert r.P.shape == (n, n)
    np.testing.assert_allclose(r.P @ r.P.T, np.eye(n), atol=1e-12)
    np.testing.assert_allclose(r.P.T @ r.P, np.eye(n), atol=1e-12)
    assert abs(r.objective - r.lower_bound) <= 1e-10 * scale
    # The reported objective is the trace itself, computed independently here.
    assert abs(trace_objective(r.P, L, G) - r.objective) <= 1e-10 * max(scale, 1e-12)
    mu_ref = np.linalg.eigvalsh(G)[::-1]
    np.testing.assert_allclose(r.mu, mu_ref, atol=1e-10 * mu_ref[0])
    assert r.lower_bound == pytest.approx(float(r.lam @ mu_ref), rel=1e-10, abs=1e-12)
    assert abs(r.gap) < 1e-10
    assert r.group == "orthogonal" and r.method == "closed form"


@pytest.mark.parametrize("kind", sm.KINDS)
def test_special_group_det_plus_one_same_objective(kind):
    flipped = 0
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        X = rng.standard_normal((30, 9)) * rng.uniform(0.5, 2, size=9)
        ro = ds.descramble(X, kind)
        rs = ds.descramble(X, kind, group="special")
        assert np.linalg.det(rs.P) == pytest.approx(1.0, abs=1e-10)
        assert rs.objective == pytest.approx(ro.objective, rel=1e-12)
        np.testing.assert_allclose(rs.P @ rs.P.T, np.eye(9), atol=1e-12)
        if np.linalg.det(ro.P) < 0:
            flipped += 1
            # Only the column of U paired with the roughest mode changes sign.
            np.testing.assert_allclose(rs.U[:, :-1], ro.U[:, :-1])
            np.testing.assert_allclose(rs.U[:, -1], -ro.U[:, -1])
        else:
            np.testing.assert_allclose(rs.P, ro.P)
    assert 0 < flipped < 8  # both branches ran


def _random_orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), kind=st.sampled_from(sm.KINDS))
def test_von_neumann_no_orthogonal_beats_the_bound(seed, n, kind):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2 * n + 1, n)) * rng.uniform(0.1, 3, size=n)
    r = ds.descramble(X, kind)
    G, L = X.T @ X, L_of(kind, n, 2)
    Q = _random_orthogonal(rng, n)
    assert trace_objective(Q, L, G) >= r.lower_bound - 1e-9 * max(1.0, abs(r.lower_bound))


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("kind", ["fourier", "dirichlet"])
def test_no_permutation_beats_the_bound_brute_force(kind, n):
    rng = np.random.default_rng(7 * n)
    X = hidden_data(rng, n)
    r = ds.descramble(X, kind)
    G, L = X.T @ X, L_of(kind, n, 2)
    best = min(float(np.sum(L * G[np.ix_(p, p)])) for p in itertools.permutations(range(n)))
    assert best >= r.lower_bound - 1e-10 * abs(r.lower_bound)


def _same_descrambler(a, b, rtol=1e-9):
    assert a.objective == pytest.approx(b.objective, rel=rtol)
    assert a.lower_bound == pytest.approx(b.lower_bound, rel=rtol)
    np.testing.assert_allclose(a.P, b.P, atol=1e-8)


def test_moments_array_and_gram_agree():
    rng = np.random.default_rng(3)
    X = hidden_data(rng, 10, N=60)
    from_array = ds.descramble(X)
    _same_descrambler(ds.descramble(FakeMoments(X)), from_array)
    _same_descrambler(ds.descramble(ds.Gram(X.T @ X)), from_array)
    if hasattr(ds, "Moments"):
        m = ds.Moments(10)
        m.update(X[:25])
        m.update(X[25:])
        _same_descrambler(ds.descramble(m), from_array)


def test_center_uses_scatter_and_scaling_does_not_matter():
    rng = np.random.default_rng(4)
    X = hidden_data(rng, 8, N=50) + 0.7
    Xc = X - X.mean(axis=0)
    ref = ds.descramble(ds.Gram(Xc.T @ Xc))
    _same_descrambler(ds.descramble(X, center=True), ref)
    _same_descrambler(ds.descramble(FakeMoments(X), center=True), ref)
    _same_descrambler(ds.descramble(FakeMoments(X, with_scatter=False), center=True), ref)
    cov = np.cov(X, rowvar=False)
    scaled = ds.descramble(ds.Gram(cov))
    np.testing.assert_allclose(scaled.P, ref.P, atol=1e-8)
    assert scaled.objective == pytest.approx(ref.objective / (X.shape[0] - 1), rel=1e-10)
    assert not np.allclose(ds.descramble(X).P, ref.P)  # centring does change the answer here


def _layouts(X):
    big = np.zeros((X.shape[0] * 2, X.shape[1] * 3))
    big[::2, ::3] = X
    return {
        "C-float64": X,
        "F-float64": np.asfortranarray(X),
        "strided": big[::2, ::3],
        "float32": X.astype(np.float32),
        "list": X.tolist(),
    }


@pytest.mark.parametrize("layout", ["C-float64", "F-float64", "strided", "float32", "list"])
def test_layouts_and_dtypes(layout):
    rng = np.random.default_rng(5)
    X = hidden_data(rng, 6, N=30)
    data = _layouts(X)[layout]
    r = ds.descramble(data)
    ref = ds.descramble(np.asarray(data, dtype=np.float64))
    _same_descrambler(r, ref)
    rtol = 1e-5 if layout == "float32" else 1e-12
    assert r.objective == pytest.approx(ds.descramble(X).objective, rel=rtol)


@pytest.mark.parametrize(
    "shape", [(1, 1), (1, 5), (3, 8), (40, 3)], ids=["1x1", "1-sample", "wide", "tall"]
)
def test_shapes(shape):
    rng = np.random.default_rng(6)
    X = rng.standard_normal(shape)
    r = ds.descramble(X)
    n = shape[1]
    assert r.P.shape == (n, n)
    np.testing.assert_allclose(r.P @ r.P.T, np.eye(n), atol=1e-12)
    # A rank-deficient G can make the bound zero up to rounding: compare on that scale.
    scale = np.abs(r.lam).max() * np.abs(r.mu).max()
    assert abs(r.objective - r.lower_bound) <= 1e-10 * abs(r.lower_bound) + 1e-13 * scale
    # N < n: the n - N zero eigenvalues of G are tied and reported as such.
    if shape[0] < n and n - shape[0] >= 2:
        assert list(range(shape[0], n)) in r.ties["data"]


def test_one_neuron_zero_bound_zero_gap():
    r = ds.descramble(np.array([[1.0], [2.0]]))
    assert r.P.shape == (1, 1) and abs(r.P[0, 0]) == 1.0
    assert r.lower_bound == 0.0 and r.objective == 0.0 and r.gap == 0.0


def test_ties_reported_for_fourier_pairs():
    rng = np.random.default_rng(8)
    r = ds.descramble(hidden_data(rng, 8), "fourier")
    assert r.ties["smoothness"] == [[1, 2], [3, 4], [5, 6]]
    assert r.ties["data"] == []
    r = ds.descramble(hidden_data(rng, 8), "dirichlet")
    assert r.ties["smoothness"] == []


def _tied_blocks_reference(values, rtol):
    """Grow a block while the next value is within the tolerance of the previous one."""
    tol = rtol * max(abs(v) for v in values)
    blocks, current = [], [0]
    for i in range(1, len(values)):
        if abs(values[i] - values[i - 1]) <= tol:
            current.append(i)
        else:
            blocks.append(current)
            current = [i]
    blocks.append(current)
    return [b for b in blocks if len(b) > 1]


@given(
    values=st.lists(st.sampled_from([0.0, 1.0, 1.0 + 1e-12, 2.0, 3.0, -1.0]), min_size=2),
)
@settings(max_examples=200, deadline=None)
def test_tied_blocks_match_a_sequential_scan(values):
    values = np.sort(np.array(values))
    assert dsc._tied_blocks(values, 1e-8) == _tied_blocks_reference(values.tolist(), 1e-8)


def test_U_sign_convention_reproducible():
    rng = np.random.default_rng(9)
    X = hidden_data(rng, 12)
    r = ds.descramble(X)
    idx = np.argmax(np.abs(r.U), axis=0)
    assert np.all(r.U[idx, np.arange(12)] > 0)
    np.testing.assert_array_equal(ds.descramble(X).P, r.P)


@pytest.mark.parametrize("kind, order", KIND_ORDERS, ids=KO_IDS)
def test_user_operator_and_matrix_match_kind(kind, order):
    rng = np.random.default_rng(10)
    X = hidden_data(rng, 9)
    ref = ds.descramble(X, kind, order=order)
    D = sm.operator(kind, 9, order)
    scale = abs(ref.lower_bound)
    for smooth in (D, ds.Operator(D=D), ds.Operator(L=D.T @ D)):
        r = ds.descramble(X, smooth)
        assert r.lower_bound == pytest.approx(ref.lower_bound, rel=1e-9, abs=1e-9)
        assert abs(r.objective - r.lower_bound) <= 1e-9 * max(scale, 1.0)
        G = X.T @ X
        assert trace_objective(r.P, D.T @ D, G) == pytest.approx(r.objective, rel=1e-9, abs=1e-9)
    # The default order (2, as passed on by wrappers) is accepted with a matrix.
    np.testing.assert_array_equal(ds.descramble(X, D, order=2).P, ds.descramble(X, D).P)


@pytest.mark.parametrize("n", [1, 2, 7, 24, dsc._FFT_MIN - 1, dsc._FFT_MIN + 1])
@pytest.mark.parametrize("kind, order", KIND_ORDERS, ids=KO_IDS)
def test_P_is_T_times_U_transpose(kind, order, n):
    # Fourier kinds form P by an inverse real FFT from _FFT_MIN on: T U^T all the same.
    X = hidden_data(np.random.default_rng(n + 1), n)
    for k in (None, max(1, n // 2)):
        r = ds.descramble(X, smoothness=kind, order=order, k=k)
        np.testing.assert_allclose(r.P, r.T @ r.U.T, rtol=0, atol=1e-13 * np.sqrt(n))


@pytest.mark.parametrize("k", [1, 5, 9])
@pytest.mark.parametrize("kind, order", KIND_ORDERS + [("fourier", 4)], ids=KO_IDS + ["fourier-4"])
def test_certified_objective_is_the_trace_of_any_P(kind, order, k):
    # tr(P^T L P G) for an arbitrary P with orthonormal rows, not only the
    # optimum: the operator applied by its stencil or FFT against the dense L.
    rng = np.random.default_rng(k)
    n = 9
    A = rng.standard_normal((n, n))
    G = A @ A.T
    P = np.linalg.qr(rng.standard_normal((n, n)))[0][:, :k].T
    ref = trace_objective(P, L_of(kind, k, order), G)
    got = dsc._certified_objective((kind, order, k), P, G)
    assert got == pytest.approx(ref, rel=1e-11, abs=1e-11 * np.abs(L_of(kind, k, order)).max())


def test_certified_objective_of_user_operators():
    rng = np.random.default_rng(3)
    n = 7
    D = rng.standard_normal((5, n))
    A = rng.standard_normal((n, n))
    G = A @ A.T
    P = np.linalg.qr(rng.standard_normal((n, n)))[0]
    ref = trace_objective(P, D.T @ D, G)
    assert dsc._certified_objective(ds.Operator(D=D), P, G) == pytest.approx(ref, rel=1e-12)
    assert dsc._certified_objective(ds.Operator(L=D.T @ D), P, G) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("k", [1, 3, 8, 16])
@pytest.mark.parametrize("kind", sm.KINDS)
def test_k_leading_directions(kind, k):
    n = 16
    rng = np.random.default_rng(11)
    X = hidden_data(rng, n)
    r = ds.descramble(X, kind, k=k)
    assert r.P.shape == (k, n) and r.k == k and r.n == n
    np.testing.assert_allclose(r.P @ r.P.T, np.eye(k), atol=1e-12)
    G = X.T @ X
    Lk = L_of(kind, k, 2)
    obj = float(np.trace(Lk @ r.P @ G @ r.P.T))
    assert obj == pytest.approx(r.objective, rel=1e-10, abs=1e-10)
    assert abs(r.objective - r.lower_bound) <= 1e-10 * max(abs(r.lower_bound), 1.0)
    mu = np.linalg.eigvalsh(G)[::-1][:k]
    np.testing.assert_allclose(r.mu, mu, rtol=1e-10)
    # Rows span the k leading principal directions...
    Uk = np.linalg.eigh(G)[1][:, ::-1][:, :k]
    np.testing.assert_allclose(r.P.T @ r.P, Uk @ Uk.T, atol=1e-8)
    # ...and no other orthonormal basis R U_k^T of that subspace is smoother.
    for _ in range(20):
        Q = _random_orthogonal(rng, k) @ Uk.T
        assert np.trace(Lk @ Q @ G @ Q.T) >= r.lower_bound - 1e-9 * max(abs(r.lower_bound), 1)
    if k == n:
        _same_descrambler(r, ds.descramble(X, kind))


def test_apply_output_and_input_preserve_a_linear_network():
    rng = np.random.default_rng(12)
    n, d_in, d_out = 10, 7, 4
    W1, b1 = rng.standard_normal((n, d_in)), rng.standard_normal(n)
    W2 = rng.standard_normal((d_out, n))
    H = rng.standard_normal((50, d_in)) @ W1.T + b1
    r = ds.descramble(H)
    np.testing.assert_allclose(r.apply(W1), r.P @ W1)
    np.testing.assert_allclose(r.apply(b1), r.P @ b1)
    np.testing.assert_allclose(r.apply(W2, side="input"), W2 @ r.P.T)
    x = rng.standard_normal(d_in)
    out = W2 @ (W1 @ x + b1)
    out_d = r.apply(W2, side="input") @ (r.apply(W1) @ x + r.apply(b1))
    np.testing.assert_allclose(out_d, out, atol=1e-10)
    # The descrambled hidden data is P s: the objective is ||D P S||^2.
    D = sm.operator("fourier", n)
    assert np.sum((D @ r.apply(H.T)) ** 2) == pytest.approx(r.objective, rel=1e-10)


def test_repr_is_short_and_informative():
    rng = np.random.default_rng(13)
    text = repr(ds.descramble(hidden_data(rng, 6)))
    assert text.startswith("Descrambling(P: 6x6, group='orthogonal'")
    assert "gap=" in text and "ties" in text and "\n" not in text


def test_result_is_frozen():
    r = ds.descramble(np.eye(3))
    with pytest.raises(AttributeError):
        r.objective = 0.0


# ----------------------------------------------------------------------------- permutation


def _brute_force_module(calls, bad=False):
    """A stand-in descramble.permutation module solving small problems exhaustively."""

    def solve_permutation(L, G, *, lam, T, mu, U):
        calls.append((L.shape, G.shape, lam.shape, T.shape, mu.shape, U.shape))
        n = L.shape[0]
        best = min(
            itertools.permutations(range(n)), key=lambda p: float(np.sum(L * G[np.ix_(p, p)]))
        )
        P = np.zeros((n, n))
        P[np.arange(n), best] = 1.0
        if bad:
            P[0, 0] = 0.5
        return P, float(np.sum(L * G[np.ix_(best, best)])), "brute force"

    mod = types.ModuleType("descramble.permutation")
    mod.solve_permutation = solve_permutation
    return mod


def test_permutation_group_plumbing(monkeypatch):
    calls = []
    monkeypatch.setattr(dsc, "permutation", _brute_force_module(calls))
    rng = np.random.default_rng(14)
    X = hidden_data(rng, 6)
    r = ds.descramble(X, "fourier", group="permutation")
    assert calls == [((6, 6),) * 4 + ((6,), (6, 6))] or len(calls) == 1
    assert r.method == "brute force" and r.group == "permutation"
    P = r.P
    assert np.array_equal(P @ P.T, np.eye(6)) and set(np.unique(P)) == {0.0, 1.0}
    L, G = L_of("fourier", 6, 2), X.T @ X
    assert r.objective == pytest.approx(trace_objective(P, L, G), rel=1e-12)
    assert r.lower_bound == pytest.approx(ds.descramble(X).lower_bound, rel=1e-12)
    assert r.gap >= -1e-12
    assert r.gap == pytest.approx((r.objective - r.lower_bound) / r.lower_bound)


def test_permutation_solver_output_is_validated(monkeypatch):
    monkeypatch.setattr(dsc, "permutation", _brute_force_module([], bad=True))
    with pytest.raises(RuntimeError, match="not a permutation"):
        ds.descramble(np.random.default_rng(0).standard_normal((10, 4)), group="permutation")


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda X: ds.descramble(np.full((3, 2), np.nan)), ValueError, "NaN or infinity"),
        (lambda X: ds.descramble(np.ones(4)), ValueError, r"2-D array, got shape \(4,\)"),
        (lambda X: ds.descramble(np.ones((0, 4))), ValueError, r"N >= 1 samples.*\(0, 4\)"),
        (lambda X: ds.descramble(np.ones((3, 0))), ValueError, r"n >= 1 neurons"),
        (lambda X: ds.descramble("data.npy"), TypeError, "data must be a Moments"),
        (lambda X: ds.descramble(X.astype(complex)), TypeError, "real numeric array"),
        (lambda X: ds.descramble(X, "laplace"), ValueError, "unknown smoothness kind 'laplace'"),
        (lambda X: ds.descramble(X, 3.0), TypeError, "smoothness must be one of"),
        (lambda X: ds.descramble(X, np.eye(4)), ValueError, "size 4, but the data has n = 5"),
        (lambda X: ds.descramble(X, np.eye(5), k=2), ValueError, "size 5, but k = 2 components"),
        (lambda X: ds.descramble(X, ds.Operator(L=np.eye(6))), ValueError, "size 6"),
        (lambda X: ds.descramble(X, np.eye(5), order=1), ValueError, "order=1 applies to"),
        (lambda X: ds.descramble(X, "neumann", order=3), ValueError, "order must be 1 or 2"),
        (lambda X: ds.descramble(X, group="unitary"), ValueError, "unknown group 'unitary'"),
        (lambda X: ds.descramble(X, k=0), ValueError, r"1 <= k <= n = 5, got 0"),
        (lambda X: ds.descramble(X, k=6), ValueError, r"1 <= k <= n = 5, got 6"),
        (lambda X: ds.descramble(X, k=2.0), TypeError, "k must be an integer"),
        (lambda X: ds.descramble(X, group="special", k=2), ValueError, "needs a square P"),
        (lambda X: ds.descramble(X, center="yes"), TypeError, "center must be True or False"),
        (lambda X: ds.descramble(ds.Gram(X.T @ X), center=True), ValueError, "sample mean"),
        (lambda X: ds.Gram(np.ones((2, 3))), ValueError, r"square \(n, n\)"),
        (lambda X: ds.Gram([[1.0, 2.0], [0.0, 1.0]]), ValueError, "symmetric"),
        (lambda X: ds.Gram([[np.inf]]), ValueError, "NaN or infinity"),
        (lambda X: ds.Gram(np.zeros((0, 0))), ValueError, "n >= 1"),
        (lambda X: ds.descramble(FakeMoments(np.ones((2, 0)))), ValueError, "no neurons"),
        (lambda X: ds.descramble(X).apply(np.ones((4, 3))), ValueError, r"shape \(5, m\)"),
        (lambda X: ds.descramble(X).apply(np.ones((3, 4)), side="input"), ValueError, r"\(m, 5\)"),
        (lambda X: ds.descramble(X).apply(np.ones((5, 5)), side="left"), ValueError, "side must"),
        (lambda X: ds.descramble(X).apply(np.ones((5, 5, 5))), ValueError, "1-D or 2-D"),
        (lambda X: ds.descramble(X).apply([["a"] * 5] * 5), TypeError, "real numeric"),
        (lambda X: ds.descramble(X).apply(np.full(5, np.nan)), ValueError, "NaN or infinity"),
    ],
    ids=[
        "nan",
        "1-D",
        "no-samples",
        "no-neurons",
        "string-data",
        "complex-data",
        "unknown-kind",
        "bad-smoothness-type",
        "operator-size",
        "operator-size-k",
        "Operator-size",
        "order-with-matrix",
        "order-out-of-range",
        "unknown-group",
        "k-zero",
        "k-too-large",
        "k-float",
        "special-with-k",
        "center-not-bool",
        "center-with-gram",
        "gram-not-square",
        "gram-not-symmetric",
        "gram-inf",
        "gram-empty",
        "moments-empty",
        "apply-output-shape",
        "apply-input-shape",
        "apply-side",
        "apply-3d",
        "apply-strings",
        "apply-nan",
    ],
)
def test_errors(call, exc, match):
    X = np.random.default_rng(0).standard_normal((10, 5))
    with pytest.raises(exc, match=match):
        call(X)


def test_cached_smoothness_ties_are_fresh_lists():
    # Built-in kinds cache their tied blocks; a caller editing its result must
    # not change what the next call reports.
    X = hidden_data(np.random.default_rng(3), 8)
    first = ds.descramble(X, "fourier")
    first.ties["smoothness"][0].append(99)
    first.ties["smoothness"].append([0])
    assert ds.descramble(X, "fourier").ties["smoothness"] == [[1, 2], [3, 4], [5, 6]]


# ----------------------------------------------------------------------------- wide layers

WIDE = 520  # several tiles of the core's syrk and eigensolver


@pytest.fixture(scope="module")
def wide_data():
    return hidden_data(np.random.default_rng(21), WIDE, N=300)


@pytest.mark.parametrize("center", [False, True], ids=["raw", "centred"])
@pytest.mark.parametrize("layout", ["C-float64", "F-float64", "strided", "float32"])
def test_wide_samples_match_numpy_gram(wide_data, layout, center):
    data = _layouts(wide_data)[layout]
    x = np.asarray(data, dtype=np.float64)
    if center:
        x = x - x.mean(axis=0)
    ref = ds.descramble(ds.Gram(x.T @ x))
    r = ds.descramble(data, center=center)
    rtol = 1e-5 if layout == "float32" else 1e-9
    assert r.lower_bound == pytest.approx(ref.lower_bound, rel=rtol)
    assert r.objective == pytest.approx(ref.objective, rel=rtol)
    assert abs(r.gap) < 1e-8


def test_wide_objective_matches_its_definition(wide_data):
    # The core-syrk objective against tr(P^T L P G) formed directly.
    r = ds.descramble(wide_data)
    g = wide_data.T @ wide_data
    d = sm.operator("fourier", WIDE, 2)
    direct = np.trace(r.P.T @ (d.T @ d) @ r.P @ g)
    assert r.objective == pytest.approx(direct, rel=1e-8)
    # Any orthonormal P, not only the optimum, through the core's syrk.
    q, _ = np.linalg.qr(np.random.default_rng(22).standard_normal((WIDE, WIDE)))
    expected = np.trace(q.T @ (d.T @ d) @ q @ g)
    got = dsc._certified_objective(("fourier", 2, WIDE), q, g)
    assert got == pytest.approx(expected, rel=1e-8)
    assert got > r.lower_bound


@pytest.mark.parametrize(
    "bad, match",
    [
        ("nan", r"row 7 contains NaN or infinity"),
        ("inf", r"row 7 contains NaN or infinity"),
        ("huge", r"row 7 contains a value beyond 1e100"),
    ],
)
@pytest.mark.parametrize("n", [5, WIDE], ids=["narrow", "wide"])
def test_sample_errors_name_the_row_at_any_width(n, bad, match):
    x = np.ones((12, n))
    x[7, n - 1] = {"nan": np.nan, "inf": -np.inf, "huge": 1e101}[bad]
    with pytest.raises(ValueError, match=r"descramble data \(samples\): " + match):
        ds.descramble(x)


@pytest.mark.parametrize("n", [5, WIDE], ids=["narrow", "wide"])
def test_sample_type_errors_at_any_width(n):
    with pytest.raises(TypeError, match=r"descramble data \(samples\): expected a real numeric"):
        ds.descramble(np.ones((4, n), dtype=complex))

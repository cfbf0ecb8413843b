import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial.legendre import leggauss

import descramble as ds
from descramble import deer


def brute_force_kernel(x, panels=400, nodes=16):
    """int_0^1 cos((1 - 3 z^2) x) dz by composite Gauss-Legendre (400 panels x 16 nodes)."""
    z0, w0 = leggauss(nodes)
    edges = np.linspace(0.0, 1.0, panels + 1)
    half = np.diff(edges) / 2
    z = ((edges[:-1] + edges[1:]) / 2)[:, None] + half[:, None] * z0[None, :]
    w = (half[:, None] * w0[None, :]).ravel()
    z = z.ravel()
    return np.array([np.dot(w, np.cos((1 - 3 * z * z) * xi)) for xi in np.ravel(x)])


# ---------------------------------------------------------------- kernel


def test_kernel_function_matches_brute_force_quadrature():
    # Up to x = 1000: beyond omega(1.5 nm) * 5 us ~ 485, the largest phase simulate() uses.
    x = np.concatenate([np.linspace(0, 20, 401), np.linspace(20, 1000, 700)])
    np.testing.assert_allclose(deer.kernel_function(x), brute_force_kernel(x), rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0.0, max_value=3000.0, allow_nan=False))
def test_kernel_function_property_matches_quadrature_and_is_bounded(x):
    value = float(deer.kernel_function(x))
    assert abs(value) <= 1.0
    assert value == pytest.approx(float(brute_force_kernel([x], panels=800)[0]), abs=1e-11)


@pytest.mark.parametrize(
    "layout",
    ["float64", "float32", "int", "strided", "fortran-2d"],
)
def test_kernel_accepts_dtypes_and_layouts(layout):
    t = np.linspace(0, 4, 9)
    r = np.array([2.0, 2.5, 3.0, 4.0])
    reference = deer.kernel(t, r)
    if layout == "float32":
        got = deer.kernel(t.astype(np.float32), r.astype(np.float32))
        np.testing.assert_allclose(got, reference, atol=1e-5)
    elif layout == "int":
        np.testing.assert_allclose(
            deer.kernel(np.arange(5), [2, 3]), deer.kernel(np.arange(5.0), [2.0, 3.0])
        )
    elif layout == "strided":
        np.testing.assert_array_equal(deer.kernel(np.repeat(t, 2)[::2], r[::1]), reference)
    elif layout == "fortran-2d":
        x = np.asfortranarray(np.outer(t, r))
        np.testing.assert_array_equal(deer.kernel_function(x), deer.kernel_function(x.copy()))
    else:
        assert reference.shape == (9, 4)
        assert reference.dtype == np.float64


def test_kernel_is_one_at_time_zero():
    r = deer.distance_axis(50)
    np.testing.assert_array_equal(deer.kernel([0.0], r), np.ones((1, 50)))
    assert deer.kernel_function(0.0) == 1.0


def test_kernel_small_argument_taylor_limit():
    # E[(1 - 3 z^2)^2] = 4/5 for z uniform on [0, 1], the first-order term vanishes.
    x = np.array([1e-4, 1e-3, 1e-2])
    # The next term is E[(1 - 3 z^2)^4] x^4 / 24 = 2 x^4 / 35, and the switch to the
    # series at 1e-4 is seamless.
    assert np.all(np.abs(deer.kernel_function(x) - (1 - 0.4 * x**2)) <= x**4 + 1e-15)
    edge = np.array([1e-4 * (1 - 1e-12), 1e-4, 2e-4, 1e-3])
    np.testing.assert_allclose(deer.kernel_function(edge), brute_force_kernel(edge), atol=1e-15)
    # Subnormal and tiny arguments: no overflow.
    np.testing.assert_array_equal(deer.kernel_function([5e-324, 1e-300, -1e-200]), 1.0)


def test_kernel_large_argument_asymptotics():
    # Stationary point z = 0 gives sqrt(pi / (6x)) (cos x + sin x) / 2, the end point z = 1
    # gives sin(2x) / (6x); what remains is O(x^-3/2).
    x = np.linspace(2000.0, 4000.0, 101)
    leading = np.sqrt(np.pi / (6 * x)) * (np.cos(x) + np.sin(x)) / 2 + np.sin(2 * x) / (6 * x)
    assert np.max(np.abs(deer.kernel_function(x) - leading) * x**1.5) < 1.0


def test_kernel_and_fresnel_at_extreme_arguments():
    with np.errstate(all="raise"):
        c, s = deer.fresnel([1e12, 1e200, -1.7e308])
        k = deer.kernel_function([1e100, 1e300, 1.7e308])
    np.testing.assert_allclose(c, [0.5, 0.5, -0.5], atol=1e-12)
    np.testing.assert_allclose(s, [0.5, 0.5, -0.5], atol=1e-12)
    # |K(x)| <= sqrt(pi / (6x)) + 1/(6x) -> 0.
    assert np.all(np.abs(k) < 1e-49)


def test_kernel_is_even_and_bounded():
    x = np.linspace(0, 300, 3001)
    np.testing.assert_array_equal(deer.kernel_function(-x), deer.kernel_function(x))
    assert np.all(np.abs(deer.kernel_function(x)) <= 1.0)


def test_fresnel_matches_scipy():
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([-np.linspace(0, 5, 51), np.linspace(0, 60, 6001)])
    c, s = deer.fresnel(x)
    s_ref, c_ref = special.fresnel(x)  # scipy returns (S, C)
    np.testing.assert_allclose(c, c_ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(s, s_ref, rtol=0, atol=1e-13)


def test_kernel_matrix_uses_dipolar_frequency():
    t = deer.time_axis(7, 2.0)
    r = np.array([2.0, 3.0, 4.5])
    omega = 2 * np.pi * 52.04 / r**3
    np.testing.assert_allclose(deer.dipolar_frequency(r), omega, rtol=1e-15)
    expected = brute_force_kernel(np.outer(t, omega)).reshape(7, 3)
    np.testing.assert_allclose(deer.kernel(t, r), expected, atol=1e-12)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: deer.dipolar_frequency([1.0, 0.0]), "positive"),
        (lambda: deer.kernel_function([np.nan]), "NaN"),
        (lambda: deer.kernel([[0.0]], [2.0]), "1-D"),
        (lambda: deer.kernel([0.0], [[2.0]]), "1-D"),
        (lambda: deer.fresnel([1j]), "real numeric"),
    ],
    ids=["zero-distance", "nan", "t-2d", "r-2d", "complex"],
)
def test_kernel_rejects_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ---------------------------------------------------------------- distributions


def test_mixtures_are_normalised_and_non_negative():
    r = deer.distance_axis(256)
    p = deer.distance_distributions(r, 500, 0)
    assert p.shape == (500, 256)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1) * (r[1] - r[0]), 1.0, rtol=1e-12)


def test_single_gaussian_has_requested_mean_and_width():
    r = deer.distance_axis(2001, 1.0, 7.0)
    p = deer.distance_distributions(
        r, 1, 3, centres=(4.0, 4.0), widths=(0.3, 0.3), max_components=1
    )[0]
    dr = r[1] - r[0]
    mean = np.sum(r * p) * dr
    std = np.sqrt(np.sum((r - mean) ** 2 * p) * dr)
    assert mean == pytest.approx(4.0, abs=1e-9)
    assert std == pytest.approx(0.3, rel=1e-6)


def test_mixture_components_stay_in_the_centre_range():
    r = deer.distance_axis(256)
    p = deer.distance_distributions(r, 200, 1, centres=(3.0, 3.5), widths=(0.05, 0.05))
    peaks = r[np.argmax(p, axis=1)]
    assert np.all((peaks > 2.95) & (peaks < 3.55))


def test_number_of_components_varies_from_one_to_max():
    # Narrow, well-separated components show up as separate local maxima.
    r = deer.distance_axis(1024, 1.0, 9.0)
    p = deer.distance_distributions(r, 300, 5, centres=(2.0, 8.0), widths=(0.02, 0.02))
    inner = p[:, 1:-1]
    peaks = ((inner > p[:, :-2]) & (inner > p[:, 2:]) & (inner > 1e-3 * p.max(1)[:, None])).sum(1)
    assert set(np.unique(peaks)) <= {1, 2, 3}
    assert {1, 3} <= set(np.unique(peaks))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"r": [2.0]}, "at least 2 points"),
        ({"r": [2.0, 3.0, 3.5]}, "equally spaced"),
        ({"r": [3.0, 2.0]}, "increasing"),
        ({"r": [0.0, 1.0, 2.0]}, "positive"),
        ({"n": -1}, ">= 0"),
        ({"n": 2.5}, "integer"),
        ({"centres": (5.0, 2.0)}, "low <= high"),
        ({"centres": (10.0, 12.0)}, "outside the distance grid"),
        ({"widths": (0.0, 0.1)}, "positive standard deviations"),
        ({"widths": 0.1}, "pair"),
        ({"max_components": 0}, ">= 1"),
    ],
    ids=[
        "one-point",
        "uneven",
        "decreasing",
        "zero-distance",
        "negative-n",
        "float-n",
        "reversed",
        "outside",
        "zero-width",
        "scalar-range",
        "no-components",
    ],
)
def test_distance_distributions_reject_bad_input(kwargs, match):
    args = {"r": deer.distance_axis(16), "n": 3}
    args.update(kwargs)
    r, n = args.pop("r"), args.pop("n")
    with pytest.raises((ValueError, TypeError), match=match):
        deer.distance_distributions(r, n, 0, **args)


# ---------------------------------------------------------------- background and traces


def test_background_stretched_exponential():
    t = deer.time_axis(11, 4.0)
    b = deer.background(t, [0.0, 0.2, 0.5], [3.0, 3.0, 2.0])
    assert b.shape == (3, 11)
    np.testing.assert_array_equal(b[0], 1.0)
    np.testing.assert_allclose(b[1], np.exp(-0.2 * t), rtol=1e-14)
    np.testing.assert_allclose(b[2], np.exp(-((0.5 * t) ** (2 / 3))), rtol=1e-14)
    np.testing.assert_allclose(deer.background(t, 0.2, 3.0), b[1])


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([-1.0, 0.0], 0.1, 3.0), "non-negative"),
        (([0.0, 1.0], -0.1, 3.0), "rate must be non-negative"),
        (([0.0, 1.0], 0.1, 0.0), "dimension must be positive"),
        (([0.0, 1.0], [[0.1]], 3.0), "scalar or 1-D"),
    ],
    ids=["negative-time", "negative-rate", "zero-dimension", "2d-rate"],
)
def test_background_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        deer.background(*args)


def test_simulate_shapes_axes_and_ground_truth():
    data = deer.simulate(64, 0)
    assert len(data) == 64
    assert data.traces.shape == (64, 256)
    assert data.distributions.shape == (64, 256)
    np.testing.assert_allclose(data.time, np.linspace(0, 5, 256))
    np.testing.assert_allclose(data.distance, np.linspace(1.5, 6, 256))
    for name in ("modulation_depth", "background_rate", "background_dimension", "noise_level"):
        assert getattr(data, name).shape == (64,)
    assert np.all((data.modulation_depth >= 0.1) & (data.modulation_depth <= 0.6))
    assert np.all(np.isfinite(data.traces))


def test_simulate_noise_free_trace_is_the_physical_model():
    kw = {"noise": (0.0, 0.0), "n_time": 64, "n_distance": 128, "t_max": 3.0}
    data = deer.simulate(5, 11, **kw)
    # Rebuild V(t) from the returned distribution with an independent, much finer
    # integration of p(r) k(r, t) over r (the distribution is smooth, so a fine
    # interpolation of it is the same mixture to within the tolerance).
    fine_r = np.linspace(data.distance[0], data.distance[-1], 127 * 32 + 1)
    p_fine = np.array([np.interp(fine_r, data.distance, p) for p in data.distributions])
    p_fine /= p_fine.sum(axis=1, keepdims=True) * (fine_r[1] - fine_r[0])
    form = p_fine @ deer.kernel(data.time, fine_r).T * (fine_r[1] - fine_r[0])
    lam = data.modulation_depth[:, None]
    bg = deer.background(data.time, data.background_rate, data.background_dimension)
    expected = ((1 - lam) + lam * form) * bg
    np.testing.assert_allclose(data.traces, expected, atol=2e-3)
    np.testing.assert_allclose(data.traces[:, 0], 1.0, atol=1e-12)


def test_simulate_oversampling_resolves_the_distance_integral():
    kw = {
        "centres": (1.8, 1.8),
        "widths": (0.05, 0.05),
        "max_components": 1,
        "noise": (0.0, 0.0),
        "modulation_depth": (1.0, 1.0),
        "background_rate": (0.0, 0.0),
        "n_time": 64,
    }
    reference = deer.simulate(2, 4, oversample=16, **kw).traces
    np.testing.assert_allclose(deer.simulate(2, 4, **kw).traces, reference, atol=1e-5)
    # Without oversampling the coarse grid aliases the kernel's oscillation in r.
    assert np.abs(deer.simulate(2, 4, oversample=1, **kw).traces - reference).max() > 1e-3


def test_simulate_is_reproducible_with_a_seed():
    a = deer.simulate(20, 123)
    b = deer.simulate(20, np.random.default_rng(123))
    np.testing.assert_array_equal(a.traces, b.traces)
    np.testing.assert_array_equal(a.distributions, b.distributions)
    c = deer.simulate(20, 124)
    assert not np.array_equal(a.traces, c.traces)


def test_simulate_noise_is_the_drawn_fraction_of_the_modulation_depth():
    kw = {"noise": (0.05, 0.05), "n_time": 256, "modulation_depth": (0.4, 0.4)}
    noisy = deer.simulate(200, 8, **kw)
    clean = deer.simulate(200, 8, **{**kw, "noise": (0.0, 0.0)})
    # Same generator state before the noise draw, so the difference is pure noise
    # of standard deviation 0.05 * 0.4.
    residual = noisy.traces - clean.traces
    assert residual.std() == pytest.approx(0.02, rel=0.02)
    np.testing.assert_allclose(noisy.noise_level, 0.02, rtol=1e-15)


def test_simulate_default_signal_to_noise_ratio_is_at_least_twenty():
    data = deer.simulate(2000, 9)
    ratio = data.noise_level / data.modulation_depth
    assert ratio.max() <= 0.05
    # Uniform on [0, 0.05]: mean 0.025, and the draws fill the range.
    assert ratio.mean() == pytest.approx(0.025, rel=0.05)
    assert ratio.max() > 0.049 and ratio.min() < 0.001
    assert data.background_dimension.min() < 2.01 and data.background_dimension.max() > 3.49


def test_simulate_empty():
    data = deer.simulate(0, 0)
    assert data.traces.shape == (0, 256)
    assert data.distributions.shape == (0, 256)


def test_batches_cover_n_and_are_reproducible():
    sizes = [len(b) for b in deer.batches(23, 10, 0, n_time=32, n_distance=16)]
    assert sizes == [10, 10, 3]
    a = np.concatenate([b.traces for b in deer.batches(23, 10, 5, n_time=32)])
    b = np.concatenate([b.traces for b in deer.batches(23, 10, 5, n_time=32)])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_time": 1}, ">= 2"),
        ({"t_max": 0.0}, "positive"),
        ({"t_max": np.inf}, "finite"),
        ({"r_min": 6.0, "r_max": 2.0}, "r_min < r_max"),
        ({"modulation_depth": (0.2, 1.5)}, "<= 1.0"),
        ({"background_rate": (-0.1, 0.1)}, ">= 0.0"),
        ({"background_dimension": (0.0, 3.0)}, "must be positive"),
        ({"noise": (0.1, 0.0)}, "low <= high"),
        ({"oversample": 0}, ">= 1"),
        ({"n_time": True}, "integer"),
    ],
    ids=[
        "short-time",
        "zero-tmax",
        "inf-tmax",
        "reversed-r",
        "depth-above-one",
        "negative-rate",
        "zero-dimension",
        "reversed-noise",
        "no-oversample",
        "bool-count",
    ],
)
def test_simulate_rejects_bad_options(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        deer.simulate(3, 0, **kwargs)


def test_deer_is_exported():
    assert ds.deer is deer

import subprocess
import sys

import numpy as np
import pytest

import descramble as ds
from descramble import plot

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _images(ax):
    return ax.get_images()


# ---------------------------------------------------------------- weights


def test_weights_side_by_side_with_colour_bars():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 20))
    p = np.linalg.qr(rng.standard_normal((8, 8)))[0]
    fig = plot.weights(w, p @ w)
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 2
    assert len(fig.axes) == 4  # two heatmaps, two colour bars
    assert [ax.get_title() for ax in panels] == ["raw weights", "descrambled weights"]
    assert all(ax.get_xlabel() == "input index" for ax in panels)
    assert all(ax.get_ylabel() == "hidden neuron" for ax in panels)
    np.testing.assert_array_equal(panels[0].get_images()[0].get_array(), w)
    np.testing.assert_array_equal(panels[1].get_images()[0].get_array(), p @ w)
    # Colour scale symmetric about zero, so white means 0.
    lo, hi = panels[0].get_images()[0].get_clim()
    assert lo == -hi == -np.abs(w).max()


def test_weights_single_panel_into_given_figure():
    fig = Figure()
    out = plot.weights(np.eye(3), fig=fig, titles=("W",))
    assert out is fig
    assert [ax.get_title() for ax in fig.axes if ax.get_images()] == ["W"]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.ones(4),), "2-D"),
        ((np.ones((0, 3)),), "non-empty"),
        ((np.full((2, 2), np.nan),), "NaN"),
        ((np.ones((2, 3)), np.ones((2, 4))), "same number of columns"),
    ],
    ids=["1d", "empty", "nan", "column-mismatch"],
)
def test_weights_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        plot.weights(*args)


# ---------------------------------------------------------------- 2-D DFT


@pytest.mark.parametrize("shape", [(8, 16), (7, 9), (1, 1), (80, 256)], ids=str)
def test_spectrum2d_image_is_numpy_centred_dft(shape):
    w = np.random.default_rng(1).standard_normal(shape)
    reference = np.abs(np.fft.fftshift(np.fft.fft2(w)))
    fig = plot.spectrum2d(w, log=False)
    (ax,) = [a for a in fig.axes if a.get_images()]
    np.testing.assert_allclose(ax.get_images()[0].get_array(), reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(plot.centred_dft2(w), reference, rtol=1e-12, atol=1e-12)
    assert ax.get_xlabel() == "input frequency"
    assert ax.get_ylabel() == "neuron frequency"
    assert len(fig.axes) == 2  # image and colour bar


def test_spectrum2d_log_scale_and_frequency_axes():
    w = np.random.default_rng(2).standard_normal((6, 10))
    fig = plot.spectrum2d(w)
    image = fig.axes[0].get_images()[0]
    np.testing.assert_allclose(image.get_array(), np.log10(plot.centred_dft2(w)), rtol=1e-12)
    # Pixel centres at the signed frequencies: -m//2 .. m - m//2 - 1 along x.
    left, right, bottom, top = image.get_extent()
    assert (left + 0.5, right - 0.5) == (-5, 4)
    assert (top + 0.5, bottom - 0.5) == (-3, 2)


def test_spectrum2d_of_a_pure_mode_peaks_at_its_frequency():
    rows, cols = np.meshgrid(np.arange(16), np.arange(32), indexing="ij")
    w = np.cos(2 * np.pi * (3 * rows / 16 + 5 * cols / 32))
    mag = plot.centred_dft2(w)
    peaks = {tuple(int(v) for v in p) for p in np.argwhere(mag > 0.5 * mag.max())}
    assert peaks == {(8 + 3, 16 + 5), (8 - 3, 16 - 5)}


def test_spectrum2d_on_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.spectrum2d(np.ones((4, 4)), ax=ax) is fig
    with pytest.raises(ValueError, match="either ax= or fig="):
        plot.spectrum2d(np.ones((4, 4)), ax=ax, fig=fig)


# ---------------------------------------------------------------- spectra


def test_spectrum_one_and_several_series():
    fig = plot.spectrum(np.array([4.0, 2.0, 1.0]), title="Gram eigenvalues")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "Gram eigenvalues"
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [4.0, 2.0, 1.0])
    assert ax.get_legend() is None

    fig = plot.spectrum({"W": [3.0, 1.0], "data": [5.0, 0.5, 0.1]}, log=False, ylabel="sigma")
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear"
    assert ax.get_ylabel() == "sigma"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["W", "data"]


@pytest.mark.parametrize(
    ("values", "match"),
    [({}, "at least one"), (np.ones((2, 2)), "1-D"), ([1.0, np.inf], "NaN or infinity")],
    ids=["empty-mapping", "2d", "inf"],
)
def test_spectrum_rejects_bad_input(values, match):
    with pytest.raises(ValueError, match=match):
        plot.spectrum(values)


# ---------------------------------------------------------------- Chebyshev


def _chebyshev_columns(m, degrees, x=None):
    x = np.linspace(-1, 1, m) if x is None else x
    return np.column_stack([np.polynomial.chebyshev.Chebyshev.basis(d)(x) for d in degrees])


def test_chebyshev_fit_recovers_exact_polynomials():
    comps = _chebyshev_columns(50, range(6)) * np.array([1, -2, 0.5, 3, -1, 0.1])
    fit = plot.chebyshev_fit(comps)
    np.testing.assert_array_equal(fit.degrees, np.arange(6))
    np.testing.assert_allclose(fit.r2, 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fit.fitted, comps, atol=1e-12)
    np.testing.assert_allclose(fit.coefficients[3], [0, 0, 0, 3], atol=1e-12)


def test_chebyshev_fit_matches_numpy_chebfit_on_noisy_data():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(-1, 1, 40))
    comps = rng.standard_normal((40, 3))
    fit = plot.chebyshev_fit(comps, 4, x=x)
    centred = plot.chebyshev_fit(comps, 4, x=x, centred=True)
    for j in range(3):
        v = comps[:, j]
        ref = np.polynomial.chebyshev.chebfit(x, v, 4)
        np.testing.assert_allclose(fit.coefficients[j], ref, atol=1e-10)
        resid = v - np.polynomial.chebyshev.chebval(x, ref)
        assert fit.r2[j] == pytest.approx(1 - np.sum(resid**2) / np.sum(v**2), abs=1e-12)
        r2_centred = 1 - np.sum(resid**2) / np.sum((v - v.mean()) ** 2)
        assert centred.r2[j] == pytest.approx(r2_centred, abs=1e-12)
        assert fit.r2[j] < 1


def test_chebyshev_fit_degree_zero_energy_fraction():
    v = np.array([[1.0], [2.0], [3.0]])
    # Uncentred: the constant 2 captures 12 of the 14 units of energy; centred: nothing.
    assert plot.chebyshev_fit(v, 0).r2[0] == pytest.approx(12 / 14)
    assert plot.chebyshev_fit(v, 0, centred=True).r2[0] == pytest.approx(0.0, abs=1e-15)
    constant = np.full((4, 1), 5.0)
    assert plot.chebyshev_fit(constant, 0, centred=True).r2[0] == 1.0
    assert plot.chebyshev_fit(np.zeros((4, 1)), 0).r2[0] == 1.0


def test_chebyshev_fit_too_low_degree_is_imperfect():
    comps = _chebyshev_columns(30, [3])
    assert plot.chebyshev_fit(comps, 2).r2[0] < 0.5


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.ones(5),), {}, "2-D"),
        ((np.ones((5, 2)), [1]), {}, "one per column"),
        ((np.ones((5, 1)), -1), {}, "non-negative"),
        ((np.ones((5, 1)), 5), {}, "below the number of points"),
        ((np.ones((5, 1)),), {"x": np.linspace(-2, 2, 5)}, r"\[-1, 1\]"),
        ((np.ones((5, 1)),), {"x": np.linspace(-1, 1, 4)}, "shape"),
    ],
    ids=["1d", "degree-count", "negative-degree", "degree-too-high", "x-range", "x-shape"],
)
def test_chebyshev_fit_rejects_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot.chebyshev_fit(*args, **kwargs)


def test_chebyshev_figure_has_one_panel_per_component():
    comps = _chebyshev_columns(40, range(5))
    fig = plot.chebyshev(comps, ncols=3)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5
    assert visible[2].get_title().startswith("#2: degree 2, $R^2$ = 1.000")
    np.testing.assert_allclose(visible[4].lines[0].get_ydata(), comps[:, 4])
    assert fig.chebyshev_fit.r2 == pytest.approx(np.ones(5))


# ---------------------------------------------------------------- convergence


def test_convergence_log_log_with_floor_and_markers():
    t = np.array([0.1, 0.2, 0.4])
    gap = np.array([1e-1, 1e-3, 0.0])
    fig = plot.convergence({"cayley": (t, gap)}, markers={"exact": 0.01})
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_ylabel() == "relative gap to the optimum"
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1e-1, 1e-3, 1e-16])
    assert ax.lines[1].get_xdata()[0] == 0.01
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cayley"]


@pytest.mark.parametrize(
    ("traces", "match"),
    [
        ({}, "non-empty mapping"),
        ({"a": [1.0]}, "pair"),
        ({"a": ([1.0, 2.0], [1.0])}, "differ in shape"),
        ({"a": ([1.0], [np.nan])}, "NaN"),
    ],
    ids=["empty", "not-a-pair", "shape-mismatch", "nan"],
)
def test_convergence_rejects_bad_input(traces, match):
    with pytest.raises(ValueError, match=match):
        plot.convergence(traces)


# ---------------------------------------------------------------- laziness


def test_plot_module_is_exported_and_lazy():
    assert ds.plot is plot
    code = (
        "import sys, descramble as ds; "
        "assert 'matplotlib' not in sys.modules, 'imported eagerly'; "
        "ds.plot.centred_dft2([[1.0]]); "
        "assert 'matplotlib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_names_the_extra():
    # A meta-path hook that refuses matplotlib simulates an environment without it.
    code = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("no matplotlib here")
sys.meta_path.insert(0, Block())
import descramble as ds
try:
    ds.plot.weights([[1.0]])
except ImportError as exc:
    assert 'pip install "descramble[plot]"' in str(exc), exc
else:
    raise SystemExit("no ImportError")
"""
    subprocess.run([sys.executable, "-c", code], check=True)

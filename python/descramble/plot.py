"""Figures for descrambling results (needs matplotlib: ``pip install "descramble[plot]"``).

Importing this module is free; matplotlib is imported when a plotting function
is first called. Every function returns the :class:`matplotlib.figure.Figure` it
drew on and accepts ``ax=`` (one Axes) or ``fig=`` (a Figure to fill) where that
makes sense. The numerical analysis behind the figures lives in
:mod:`descramble.spectral` (``centred_dft2``, ``chebyshev_fit`` and ``ChebyshevFit``
remain importable from here).

The figures follow Amey et al., PNAS 118(5) e2016917118 (2021),
doi:10.1073/pnas.2016917118, and Sule, Spencer, Czaja, Appl. Comput. Harmon.
Anal. 79 (2025) 101793, doi:10.1016/j.acha.2025.101793: raw against descrambled
weights, the centred 2-D DFT ``|fftshift(fft2(P W))|``, eigenvalue spectra,
principal components against Chebyshev polynomials, and convergence of the
iterative method against the exact optimum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import as_float_array, check_finite, is_integer, nonempty_matrix
from .spectral import ChebyshevFit, centred_dft2, chebyshev_fit

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ChebyshevFit",
    "centred_dft2",
    "chebyshev",
    "chebyshev_fit",
    "convergence",
    "spectrum",
    "spectrum2d",
    "weights",
]

_HINT = 'descramble.plot needs matplotlib: pip install "descramble[plot]"'


def _pyplot() -> Any:
    """Import matplotlib lazily with an error that names the extra to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_HINT) from exc
    return plt


def _target(ax: Axes | None, fig: Figure | None, figsize: tuple[float, float]) -> Any:
    """The Axes to draw on: ``ax``, a new one in ``fig``, or a new figure."""
    plt = _pyplot()
    if ax is not None and fig is not None:
        raise ValueError("pass either ax= or fig=, not both")
    if ax is not None:
        return ax
    if fig is None:
        fig = plt.figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def weights(
    W: Any,
    W_descrambled: Any | None = None,
    *,
    fig: Figure | None = None,
    titles: Sequence[str] = ("raw weights", "descrambled weights"),
    xlabel: str = "input index",
    ylabel: str = "hidden neuron",
    cmap: str = "RdBu_r",
) -> Figure:
    """Heatmaps of a weight matrix and, beside it, its descrambled version.

    Each panel uses a colour scale symmetric about zero (so white means 0) with
    its own colour bar: descrambling is orthogonal, so both matrices have the same
    Frobenius norm but not the same largest entry.

    Parameters
    ----------
    W : (n, m) array_like
        Raw weights, rows are hidden neurons (e.g. the first layer ``W1``).
    W_descrambled : (n', m) array_like, optional
        Descrambled weights (``P @ W``); omitted: only ``W`` is drawn.
    fig : matplotlib Figure, optional
        Figure to draw into (a new one by default).
    titles : (str, str)
        Panel titles.
    xlabel, ylabel, cmap : str
        Axis labels and a diverging colour map.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    mats = [nonempty_matrix(W, "weights: W")]
    if W_descrambled is not None:
        mats.append(nonempty_matrix(W_descrambled, "weights: W_descrambled"))
        if mats[1].shape[1] != mats[0].shape[1]:
            raise ValueError(
                f"weights: W {mats[0].shape} and W_descrambled {mats[1].shape} must have the "
                "same number of columns"
            )
    if len(titles) < len(mats):
        raise ValueError(f"weights: expected {len(mats)} titles, got {len(titles)}")
    if fig is None:
        fig = plt.figure(figsize=(5.0 * len(mats), 4.0), layout="constrained")
    axes = fig.subplots(1, len(mats), squeeze=False)[0]
    for ax, mat, title in zip(axes, mats, titles[: len(mats)], strict=True):
        vmax = float(np.max(np.abs(mat))) or 1.0
        image = ax.imshow(
            mat, aspect="auto", cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest"
        )
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        fig.colorbar(image, ax=ax, label="weight")
    return fig


def spectrum2d(
    W: Any,
    *,
    log: bool = True,
    ax: Axes | None = None,
    fig: Figure | None = None,
    title: str = "centred 2-D DFT",
    cmap: str = "viridis",
) -> Figure:
    """Image of the centred 2-D DFT magnitude ``|fftshift(fft2(W))|``.

    The axes are the signed frequency indices (cycles per matrix length): columns
    along x (input frequency), rows along y (hidden-neuron frequency), zero in the
    centre. Descrambled DEERNet weights show a band-pass filter with a notch here.

    Parameters
    ----------
    W : (n, m) array_like
        Real matrix.
    log : bool
        Show ``log10`` of the magnitude (zeros are shown at the smallest positive value).
    ax, fig : optional
        Axes or Figure to draw on.
    title, cmap : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    mag = centred_dft2(W)
    if log:
        positive = mag[mag > 0]
        floor = float(positive.min()) if positive.size else 1.0
        data = np.log10(np.maximum(mag, floor))
        label = "log10 |DFT|"
    else:
        data = mag
        label = "|DFT|"
    target = _target(ax, fig, (5.5, 4.5))
    n, m = mag.shape
    # fftshift puts frequency 0 at index n // 2: the first row is -(n // 2).
    extent = (-(m // 2) - 0.5, m - m // 2 - 0.5, n - n // 2 - 0.5, -(n // 2) - 0.5)
    image = target.imshow(data, cmap=cmap, aspect="auto", extent=extent, interpolation="nearest")
    target.set_title(title)
    target.set_xlabel("input frequency")
    target.set_ylabel("neuron frequency")
    target.figure.colorbar(image, ax=target, label=label)
    return target.figure


def spectrum(
    values: Any | Mapping[str, Any],
    *,
    log: bool = True,
    ax: Axes | None = None,
    fig: Figure | None = None,
    title: str = "spectrum",
    xlabel: str = "index",
    ylabel: str = "value",
    marker: str = ".",
) -> Figure:
    """Line plot of eigenvalue or singular-value spectra.

    Parameters
    ----------
    values : (k,) array_like or mapping of label -> (k,) array_like
        One spectrum, or several (drawn with a legend).
    log : bool
        Logarithmic y axis (non-positive values are left out of a log plot by
        matplotlib, so pass magnitudes).
    ax, fig : optional
        Axes or Figure to draw on.
    title, xlabel, ylabel, marker : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    series = dict(values) if isinstance(values, Mapping) else {"": values}
    if not series:
        raise ValueError("spectrum: expected at least one spectrum, got an empty mapping")
    arrays = {}
    for label, vals in series.items():
        arr = as_float_array(vals, f"spectrum: {label or 'values'}", ndim=1)
        check_finite(arr, f"spectrum: {label or 'values'}")
        arrays[label] = arr
    target = _target(ax, fig, (5.5, 4.0))
    for label, arr in arrays.items():
        target.plot(np.arange(arr.size), arr, marker=marker, label=label or None)
    if log:
        target.set_yscale("log")
    target.set_title(title)
    target.set_xlabel(xlabel)
    target.set_ylabel(ylabel)
    if any(arrays):
        target.legend()
    return target.figure


def chebyshev(
    components: Any,
    degree: None | int | Sequence[int] = None,
    *,
    x: Any | None = None,
    centred: bool = False,
    fig: Figure | None = None,
    ncols: int = 4,
    title: str = "principal components and Chebyshev fits",
) -> Figure:
    """Each component (points) against its least-squares Chebyshev fit (line), one panel each.

    Panel titles give the degree and ``R^2``; the fit itself is
    ``fig.chebyshev_fit`` (a :class:`ChebyshevFit`) on the returned figure.

    Parameters
    ----------
    components : (m, k) array_like
        Vectors, one per column (e.g. principal components of a layer).
    degree, x, centred :
        As in :func:`chebyshev_fit`.
    fig : matplotlib Figure, optional
        Figure to fill with the ``k`` panels.
    ncols : int
        Panels per row.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    result = chebyshev_fit(components, degree, x=x, centred=centred)
    comps = as_float_array(components, "chebyshev: components", ndim=2)
    k = comps.shape[1]
    if not is_integer(ncols) or ncols < 1:
        raise ValueError(f"chebyshev: ncols must be a positive integer, got {ncols!r}")
    cols = min(int(ncols), k)
    rows = -(-k // cols)
    if fig is None:
        fig = plt.figure(figsize=(3.0 * cols, 2.4 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for j, ax in enumerate(axes):
        if j >= k:
            ax.set_visible(False)
            continue
        ax.plot(result.x, comps[:, j], ".", markersize=3, label="component")
        ax.plot(result.x, result.fitted[:, j], "-", label="Chebyshev fit")
        ax.set_title(f"#{j}: degree {result.degrees[j]}, $R^2$ = {result.r2[j]:.3f}", fontsize=9)
        ax.set_xlabel("x")
        if j % cols == 0:
            ax.set_ylabel("value")
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    # Attach the numbers to the figure so callers get both from one call.
    setattr(fig, "chebyshev_fit", result)  # noqa: B010
    return fig


def convergence(
    traces: Mapping[str, tuple[Any, Any]],
    *,
    markers: Mapping[str, float] | None = None,
    floor: float = 1e-16,
    ax: Axes | None = None,
    fig: Figure | None = None,
    title: str = "convergence to the exact optimum",
) -> Figure:
    """Relative objective gap against wall-clock time, on log-log axes.

    Parameters
    ----------
    traces : mapping of label -> (seconds, gap)
        For each method, 1-D arrays of elapsed times and relative gaps
        ``(objective - lower_bound) / |lower_bound|``. Gaps below ``floor`` (the exact
        solution has gap 0 up to rounding) are drawn at ``floor``.
    markers : mapping of label -> seconds, optional
        Vertical lines, e.g. the time of the closed-form solve.
    floor : float
        Smallest gap drawn (log axis).
    ax, fig : optional
        Axes or Figure to draw on.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(traces, Mapping) or not traces:
        raise ValueError("convergence: expected a non-empty mapping label -> (seconds, gap)")
    if not floor > 0:
        raise ValueError(f"convergence: floor must be positive, got {floor}")
    curves = {}
    for label, pair in traces.items():
        try:
            seconds, gap = pair
        except (TypeError, ValueError):
            raise ValueError(f"convergence: {label}: expected a (seconds, gap) pair") from None
        s = as_float_array(seconds, f"convergence: {label} seconds", ndim=1)
        g = as_float_array(gap, f"convergence: {label} gap", ndim=1)
        if s.shape != g.shape:
            raise ValueError(
                f"convergence: {label}: seconds {s.shape} and gap {g.shape} differ in shape"
            )
        check_finite(s, f"convergence: {label} seconds")
        check_finite(g, f"convergence: {label} gap")
        curves[label] = (s, g)
    target = _target(ax, fig, (5.5, 4.0))
    for label, (s, g) in curves.items():
        target.plot(s, np.maximum(np.abs(g), floor), marker=".", markersize=3, label=label)
    for label, seconds in (markers or {}).items():
        target.axvline(float(seconds), linestyle="--", color="k", linewidth=1)
        target.annotate(
            label, (float(seconds), 0.5), xycoords=("data", "axes fraction"), rotation=90
        )
    target.set_xscale("log")
    target.set_yscale("log")
    target.set_xlabel("time (s)")
    target.set_ylabel("relative gap to the optimum")
    target.set_title(title)
    target.legend()
    return target.figure

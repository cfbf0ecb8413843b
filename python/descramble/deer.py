"""Simulated DEER (double electron-electron resonance) traces and their distance distributions.

DEER measures the dipolar coupling between two electron spins at distance ``r``.
The noise-free, background-free signal of a spin pair population with distance
distribution ``p(r)`` is the *form factor*

    F(t) = integral p(r) k(r, t) dr,
    k(r, t) = integral_0^1 cos((1 - 3 z^2) omega(r) t) dz,
    omega(r) = 2 pi * 52.04 MHz nm^3 / r^3,

where ``z = cos(theta)`` averages over the orientation of the spin-spin vector
(a powder average). An experiment records ``V(t) = ((1 - lam) + lam F(t)) B(t)``
with modulation depth ``lam``, an intermolecular background
``B(t) = exp(-(kappa t)^(d/3))`` (``d`` the dimension of the spin distribution,
3 for a homogeneous solution) and noise. These traces are the input of DEERNet,
the network whose descrambled first layer is studied by Amey et al. and by Sule,
Spencer and Czaja (section 5 of the paper notes in the repository).

Units: time in microseconds, distance in nanometres, angular frequency in
rad/us. Every random draw goes through one ``numpy.random.Generator``, so a seed
reproduces a data set exactly.

References
----------
Worswick, Spencer, Jeschke, Kuprov, "Deep neural network processing of DEER data",
Sci. Adv. 4(8) eaat5218 (2018), doi:10.1126/sciadv.aat5218 (DEERNet and its
training databases).

Amey, Keeley, Choudhury, Kuprov, "Neural network interpretation using
descrambler groups", PNAS 118(5) e2016917118 (2021), doi:10.1073/pnas.2016917118.

Sule, Spencer, Czaja, "On the limits of neural network explainability via
descrambling", Appl. Comput. Harmon. Anal. 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import as_float_array, check_finite, is_integer

__all__ = [
    "DIPOLAR_CONSTANT",
    "DeerData",
    "background",
    "batches",
    "dipolar_frequency",
    "distance_axis",
    "distance_distributions",
    "fresnel",
    "kernel",
    "kernel_function",
    "simulate",
    "time_axis",
]

#: Dipolar coupling constant of two electron spins (g = 2.0023) in MHz nm^3.
DIPOLAR_CONSTANT = 52.04

# Below this argument the Fresnel integrals come from their Maclaurin series,
# above it from a continued fraction of erfc: both are accurate to ~1e-14 there
# (the series loses digits to cancellation beyond ~2.5, the fraction converges
# slowly below ~1.5).
_FRESNEL_SWITCH = 2.0
_SERIES_TERMS = 64
_FRESNEL_HUGE = 1e150
_FRACTION_DEPTH = 64
# Rows of distributions evaluated at once (a 256 x 1021 float64 block is 2 MB).
_MIXTURE_BLOCK = 256
# Kernel arguments below this use the Maclaurin series of the kernel.
_KERNEL_TAYLOR = 1e-4

Seed = int | np.random.Generator | None


def fresnel(x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Fresnel integrals ``C(x) = int_0^x cos(pi u^2 / 2) du`` and ``S(x)`` (sine).

    Pure numpy, absolute accuracy about 1e-14 for every real ``x`` (odd in ``x``).
    Note the order of the result, ``(C, S)``, differs from ``scipy.special.fresnel``.

    Parameters
    ----------
    x : array_like
        Real arguments, finite.

    Returns
    -------
    C, S : ndarray
        Arrays of the shape of ``x``.
    """
    arr = as_float_array(x, "fresnel", ndim=np.ndim(x))
    check_finite(arr, "fresnel")
    q = np.abs(arr)
    value = np.empty(q.shape, dtype=np.complex128)
    small = q < _FRESNEL_SWITCH
    # Beyond _FRESNEL_HUGE, q^2 would overflow; C and S equal 1/2 there to within 1/(pi q).
    huge = q > _FRESNEL_HUGE
    middle = ~small & ~huge
    value[small] = _fresnel_series(q[small])
    value[middle] = _fresnel_fraction(q[middle])
    value[huge] = 0.5 + 0.5j
    sign = np.sign(arr)
    return sign * value.real, sign * value.imag


def _fresnel_series(q: np.ndarray) -> np.ndarray:
    """``C + iS`` from ``sum_n (i pi / 2)^n q^(2n+1) / (n! (2n+1))``."""
    z = 0.5j * np.pi * q * q
    term = q.astype(np.complex128)
    total = term.copy()
    for n in range(1, _SERIES_TERMS):
        term = term * z / n
        total += term / (2 * n + 1)
    return total


def _fresnel_fraction(q: np.ndarray) -> np.ndarray:
    """``C + iS = (1 + i)/2 erf(w)``, ``w = sqrt(pi)/2 (1 - i) q``, erfc by continued fraction.

    Laplace's continued fraction ``erfc(w) = exp(-w^2) / (sqrt(pi) (w + (1/2)/(w + 1/(w +
    (3/2)/(w + ...)))))`` converges for ``Re w > 0``; evaluated bottom-up to a fixed
    depth so the whole array is handled at once. ``exp(-w^2) = exp(i pi q^2 / 2)`` has
    modulus one, so nothing overflows.
    """
    w = (0.5 * math.sqrt(math.pi)) * (1.0 - 1.0j) * q
    tail = w.copy()
    for k in range(_FRACTION_DEPTH, 0, -1):
        tail = w + (0.5 * k) / tail
    erfc = np.exp(0.5j * np.pi * q * q) / (math.sqrt(math.pi) * tail)
    return (0.5 + 0.5j) * (1.0 - erfc)


def kernel_function(x: Any) -> np.ndarray:
    """The powder-averaged dipolar kernel ``K(x) = int_0^1 cos((1 - 3 z^2) x) dz``.

    Closed form through the Fresnel integrals: with ``q = sqrt(6 |x| / pi)``,
    ``K(x) = sqrt(pi / (6 |x|)) (cos(x) C(q) + sin(x) S(q))`` and ``K(0) = 1``.
    ``K`` is even, ``|K| <= 1``, ``K(x) = 1 - 2 x^2 / 5 + 2 x^4 / 35 - O(x^6)`` and
    ``K(x) ~ sqrt(pi / (6 x)) (cos x + sin x) / 2`` for large ``x``.

    Parameters
    ----------
    x : array_like
        Dimensionless phase ``omega(r) t``, finite.

    Returns
    -------
    ndarray
        ``K(x)``, the shape of ``x``.
    """
    arr = as_float_array(x, "kernel_function", ndim=np.ndim(x))
    check_finite(arr, "kernel_function")
    a = np.abs(arr)
    # Below 1e-4 the Maclaurin series 1 - 2x^2/5 + 2x^4/35 is exact to rounding (the
    # next term is < 1e-24), and it avoids sqrt(pi / (6x)) overflowing for subnormal x.
    tiny = a < _KERNEL_TAYLOR
    safe = np.where(tiny, 1.0, a)
    # sqrt factored so that nothing overflows up to the largest double.
    root = np.sqrt(safe)
    c, s = fresnel(math.sqrt(6.0 / math.pi) * root)
    value = (math.sqrt(math.pi / 6.0) / root) * (np.cos(safe) * c + np.sin(safe) * s)
    a2 = np.where(tiny, a, 0.0) ** 2
    return np.where(tiny, 1.0 - a2 * (0.4 - a2 * (2.0 / 35.0)), value)


def dipolar_frequency(r: Any) -> np.ndarray:
    """Dipolar angular frequency ``omega(r) = 2 pi * 52.04 MHz nm^3 / r^3`` in rad/us.

    Parameters
    ----------
    r : array_like
        Distances in nm, finite and positive.
    """
    arr = as_float_array(r, "dipolar_frequency", ndim=np.ndim(r))
    check_finite(arr, "dipolar_frequency")
    if np.any(arr <= 0):
        raise ValueError(
            f"dipolar_frequency: distances must be positive (nm), got minimum {arr.min():.6g}"
        )
    return 2.0 * np.pi * DIPOLAR_CONSTANT / arr**3


def kernel(t: Any, r: Any) -> np.ndarray:
    """The DEER kernel matrix ``K[i, j] = k(r_j, t_i)``.

    A distribution ``p`` sampled on ``r`` with spacing ``dr`` gives the form
    factor ``F = K @ p * dr``. Sampling note: the kernel oscillates in ``r`` with
    frequency ``3 omega(r) t / r``, so sums over ``r`` need a grid fine enough to
    resolve it at the largest ``t`` (:func:`simulate` oversamples for this reason).

    Parameters
    ----------
    t : (n_t,) array_like
        Times in microseconds, finite.
    r : (n_r,) array_like
        Distances in nm, positive.

    Returns
    -------
    (n_t, n_r) ndarray
    """
    tt = as_float_array(t, "kernel: t", ndim=1)
    check_finite(tt, "kernel: t")
    omega = dipolar_frequency(as_float_array(r, "kernel: r", ndim=1))
    return kernel_function(np.multiply.outer(tt, omega))


def time_axis(n: int = 256, t_max: float = 5.0) -> np.ndarray:
    """``n`` equally spaced times from 0 to ``t_max`` microseconds (inclusive)."""
    n = _count(n, "time_axis: n", minimum=2)
    t_max = _positive(t_max, "time_axis: t_max")
    return np.linspace(0.0, t_max, n)


def distance_axis(n: int = 256, r_min: float = 1.5, r_max: float = 6.0) -> np.ndarray:
    """``n`` equally spaced distances from ``r_min`` to ``r_max`` nm (inclusive)."""
    n = _count(n, "distance_axis: n", minimum=2)
    r_min = _positive(r_min, "distance_axis: r_min")
    r_max = _positive(r_max, "distance_axis: r_max")
    if r_max <= r_min:
        raise ValueError(f"distance_axis: expected r_min < r_max, got {r_min} and {r_max}")
    return np.linspace(r_min, r_max, n)


def distance_distributions(
    r: Any,
    n: int,
    rng: Seed = None,
    *,
    centres: tuple[float, float] = (2.0, 5.0),
    widths: tuple[float, float] = (0.05, 0.5),
    max_components: int = 3,
) -> np.ndarray:
    """Random distance distributions: mixtures of 1 to ``max_components`` Gaussians.

    Each distribution draws its number of components uniformly from
    ``1..max_components``, each component a centre uniform in ``centres`` (nm), a
    standard deviation uniform in ``widths`` (nm) and a weight from a flat
    Dirichlet distribution. The mixture is sampled on ``r`` and normalised to unit
    area on that grid (``sum(p) * dr = 1``); tails beyond the grid are cut.

    Parameters
    ----------
    r : (n_r,) array_like
        Equally spaced distances in nm.
    n : int
        Number of distributions.
    rng : None, int or numpy.random.Generator
        Source of randomness (a seed gives a reproducible result).
    centres, widths : (low, high)
        Ranges of the component centres and standard deviations, in nm.
    max_components : int
        Largest number of Gaussians in one distribution (at least 1).

    Returns
    -------
    (n, n_r) ndarray
        Densities in 1/nm, rows summing to ``1 / dr``.
    """
    grid = _uniform_grid(r, "distance_distributions: r")
    n = _count(n, "distance_distributions: n")
    gen = np.random.default_rng(rng)
    params = _mixture_parameters(n, gen, centres, widths, max_components, grid)
    return _mixture(grid, *params)


@dataclass(frozen=True)
class DeerData:
    """A batch of simulated DEER traces with their ground truth.

    Attributes
    ----------
    time : (n_t,) ndarray
        Times in microseconds.
    distance : (n_r,) ndarray
        Distances in nm on which ``distributions`` are sampled.
    traces : (N, n_t) ndarray
        Noisy signals ``V(t)`` (equal to 1 at ``t = 0`` before the noise).
    distributions : (N, n_r) ndarray
        Distance distributions, unit area on ``distance``.
    modulation_depth, background_rate, background_dimension, noise_level : (N,) ndarray
        The per-trace draws (``lam``, ``kappa`` in 1/us, ``d``, noise standard deviation
        ``sigma``, in the units of the trace).
    """

    time: np.ndarray
    distance: np.ndarray
    traces: np.ndarray
    distributions: np.ndarray
    modulation_depth: np.ndarray
    background_rate: np.ndarray
    background_dimension: np.ndarray
    noise_level: np.ndarray

    def __len__(self) -> int:
        return int(self.traces.shape[0])


def background(t: Any, rate: Any, dimension: Any) -> np.ndarray:
    """Stretched-exponential background ``B(t) = exp(-(rate * t)^(dimension / 3))``.

    Parameters
    ----------
    t : (n_t,) array_like
        Times in microseconds, non-negative.
    rate : (N,) array_like or float
        Decay rates ``kappa`` in 1/us, non-negative.
    dimension : (N,) array_like or float
        Fractal dimensions ``d`` of the spin distribution, positive.

    Returns
    -------
    (N, n_t) ndarray (or (n_t,) for scalar ``rate`` and ``dimension``)
    """
    tt = as_float_array(t, "background: t", ndim=1)
    check_finite(tt, "background: t")
    if np.any(tt < 0):
        raise ValueError("background: times must be non-negative")
    k = as_float_array(rate, "background: rate", ndim=np.ndim(rate))
    d = as_float_array(dimension, "background: dimension", ndim=np.ndim(dimension))
    for arr, name in ((k, "rate"), (d, "dimension")):
        check_finite(arr, f"background: {name}")
        if arr.ndim > 1:
            raise ValueError(f"background: {name} must be a scalar or 1-D, got shape {arr.shape}")
    if np.any(k < 0):
        raise ValueError("background: rate must be non-negative")
    if np.any(d <= 0):
        raise ValueError("background: dimension must be positive")
    scalar = k.ndim == 0 and d.ndim == 0
    k1, d1 = np.broadcast_arrays(np.atleast_1d(k), np.atleast_1d(d))
    out = np.exp(-np.power(np.multiply.outer(k1, tt), (d1 / 3.0)[:, None]))
    return out[0] if scalar else out


def simulate(
    n: int,
    rng: Seed = None,
    *,
    n_time: int = 256,
    t_max: float = 5.0,
    n_distance: int = 256,
    r_min: float = 1.5,
    r_max: float = 6.0,
    centres: tuple[float, float] = (2.0, 5.0),
    widths: tuple[float, float] = (0.05, 0.5),
    max_components: int = 3,
    modulation_depth: tuple[float, float] = (0.1, 0.6),
    background_rate: tuple[float, float] = (0.0, 0.3),
    background_dimension: tuple[float, float] = (2.0, 3.5),
    noise: tuple[float, float] = (0.0, 0.05),
    oversample: int = 4,
) -> DeerData:
    """Simulate ``n`` DEER traces and their distance distributions (vectorised).

    For every trace: a random Gaussian mixture ``p(r)`` (see
    :func:`distance_distributions`), the form factor ``F = int p(r) k(r, t) dr``, a
    modulation depth ``lam``, a background ``B(t) = exp(-(kappa t)^(d/3))`` and white
    Gaussian noise of standard deviation ``sigma = eta * lam``; the trace is
    ``V(t) = ((1 - lam) + lam F(t)) B(t) + sigma * noise``. Each parameter (``lam``,
    ``kappa``, ``d``, ``eta``) is drawn uniformly from its ``(low, high)`` range
    (equal ends fix it).

    The noise is relative to the modulation depth, as in the generator of DEERNet's
    training databases (Spinach's ``deer_lib_gen``: RMS noise uniform between 0 and
    5 % of the modulation depth): a trace's information about ``p(r)`` lives in its
    modulated part ``lam F(t)``, so this fixes the range of signal-to-noise ratios
    ``lam / sigma`` (at least 20 by default) whatever the depth. The default ranges of
    ``lam`` (0.1-0.6) and ``d`` (2-3.5) are those of that generator; its decay rates
    (up to 0.5 per us on a 2 us trace, ``kappa t_max <= 1``) are exceeded here (up to
    0.3 per us on 5 us, ``kappa t_max <= 1.5``).

    The integral over ``r`` is a Riemann sum on a grid ``oversample`` times finer
    than the returned ``distance`` grid: the kernel oscillates in ``r`` at up to
    ``3 omega(r_min) t_max / r_min`` rad/nm, which the coarse grid aliases at the
    default settings (``oversample=4`` resolves it with a margin for the narrowest
    default width). The returned distributions are the same mixtures sampled on the
    coarse grid.

    Parameters
    ----------
    n : int
        Number of traces (0 gives empty arrays).
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same data.
    n_time, t_max : int, float
        Time axis: ``n_time`` points from 0 to ``t_max`` microseconds.
    n_distance, r_min, r_max : int, float, float
        Distance axis of the returned distributions, in nm.
    centres, widths, max_components :
        Gaussian mixture ranges, see :func:`distance_distributions`.
    modulation_depth, background_rate, background_dimension, noise : (low, high)
        Ranges of ``lam`` (within [0, 1]), ``kappa`` (1/us, >= 0), ``d`` (> 0) and
        ``eta = sigma / lam``, the noise standard deviation as a fraction of the
        modulation depth (>= 0).
    oversample : int
        Refinement of the distance grid used for the integral (at least 1).

    Returns
    -------
    DeerData

    References
    ----------
    Amey et al., PNAS 118(5) e2016917118 (2021), doi:10.1073/pnas.2016917118 (DEERNet).
    """
    n = _count(n, "simulate: n")
    t = time_axis(n_time, t_max)
    r = distance_axis(n_distance, r_min, r_max)
    oversample = _count(oversample, "simulate: oversample", minimum=1)
    lam_range = _range(modulation_depth, "simulate: modulation_depth", low=0.0, high=1.0)
    rate_range = _range(background_rate, "simulate: background_rate", low=0.0)
    dim_range = _range(background_dimension, "simulate: background_dimension", low=0.0)
    if dim_range[0] == 0.0:
        raise ValueError("simulate: background_dimension must be positive")
    noise_range = _range(noise, "simulate: noise", low=0.0)
    gen = np.random.default_rng(rng)

    fine = np.linspace(r[0], r[-1], (r.size - 1) * oversample + 1)
    params = _mixture_parameters(n, gen, centres, widths, max_components, r)
    p_fine = _mixture(fine, *params)
    form = p_fine @ _kernel_cached(float(t_max), int(n_time), float(r[0]), float(r[-1]), fine.size)
    form *= fine[1] - fine[0]

    lam = gen.uniform(*lam_range, size=n)
    rate = gen.uniform(*rate_range, size=n)
    dim = gen.uniform(*dim_range, size=n)
    sigma = gen.uniform(*noise_range, size=n) * lam
    traces = ((1.0 - lam)[:, None] + lam[:, None] * form) * background(t, rate, dim)
    traces += sigma[:, None] * gen.standard_normal((n, t.size))
    return DeerData(
        time=t,
        distance=r,
        traces=traces,
        distributions=_mixture(r, *params),
        modulation_depth=lam,
        background_rate=rate,
        background_dimension=dim,
        noise_level=sigma,
    )


def batches(n: int, batch_size: int, rng: Seed = None, **options: Any) -> Iterator[DeerData]:
    """Yield ``n`` simulated traces in batches of at most ``batch_size``.

    Streams data sets too large for memory; ``options`` go to :func:`simulate`.
    Batches are drawn one after another from one generator, so a seed reproduces
    the whole stream (but not the same traces as one call of :func:`simulate`).
    """
    n = _count(n, "batches: n")
    batch_size = _count(batch_size, "batches: batch_size", minimum=1)
    gen = np.random.default_rng(rng)
    done = 0
    while done < n:
        size = min(batch_size, n - done)
        yield simulate(size, gen, **options)
        done += size


@functools.lru_cache(maxsize=8)
def _kernel_cached(t_max: float, n_time: int, r_min: float, r_max: float, n_r: int) -> np.ndarray:
    """Kernel transposed to ``(n_r, n_t)`` for ``p @ K``; cached because batches reuse it."""
    k = kernel(np.linspace(0.0, t_max, n_time), np.linspace(r_min, r_max, n_r)).T
    k.flags.writeable = False
    return k


def _mixture_parameters(
    n: int,
    gen: np.random.Generator,
    centres: tuple[float, float],
    widths: tuple[float, float],
    max_components: int,
    grid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``(centre, width, weight)`` arrays of shape ``(n, max_components)``.

    Unused components get weight 0, so every distribution is one vectorised sum.
    """
    c_range = _range(centres, "centres", low=0.0)
    w_range = _range(widths, "widths", low=0.0)
    if w_range[0] <= 0.0:
        raise ValueError(f"widths: expected positive standard deviations, got {w_range}")
    m = _count(max_components, "max_components", minimum=1)
    if c_range[1] < grid[0] or c_range[0] > grid[-1]:
        raise ValueError(
            f"centres: range {c_range} nm lies outside the distance grid "
            f"[{grid[0]:.6g}, {grid[-1]:.6g}] nm"
        )
    count = gen.integers(1, m + 1, size=n)
    centre = gen.uniform(*c_range, size=(n, m))
    width = gen.uniform(*w_range, size=(n, m))
    weight = gen.exponential(size=(n, m))
    weight[np.arange(m)[None, :] >= count[:, None]] = 0.0
    weight /= weight.sum(axis=1, keepdims=True)
    return centre, width, weight


def _mixture(
    grid: np.ndarray, centre: np.ndarray, width: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """Gaussian mixtures on ``grid``, normalised to unit area there."""
    out = np.zeros((centre.shape[0], grid.size))
    # In place, in row blocks that stay in cache, and only for the components in use
    # (weight 0 marks an unused one): this is the simulator's hot loop.
    buf = np.empty((min(_MIXTURE_BLOCK, centre.shape[0]), grid.size))
    for start in range(0, centre.shape[0], _MIXTURE_BLOCK):
        rows = slice(start, start + _MIXTURE_BLOCK)
        block = out[rows]
        for j in range(centre.shape[1]):
            used = weight[rows, j] > 0
            if not used.any():
                continue
            c, w, a = centre[rows, j][used], width[rows, j][used], weight[rows, j][used]
            z = buf[: c.size]
            np.subtract(grid[None, :], c[:, None], out=z)
            z *= (np.sqrt(0.5) / w)[:, None]
            np.square(z, out=z)
            np.negative(z, out=z)
            np.exp(z, out=z)
            z *= (a / w)[:, None]
            block[used] += z
    area = out.sum(axis=1, keepdims=True) * (grid[1] - grid[0])
    # A component entirely beyond the grid can underflow to 0; centres are checked to
    # overlap the grid, but a narrow one at its edge is still representable.
    if out.size and np.any(area <= 0):
        raise ValueError("distance distributions vanish on the grid: widen it or the widths")
    return out / area if out.size else out


def _uniform_grid(r: Any, name: str) -> np.ndarray:
    grid = as_float_array(r, name, ndim=1)
    check_finite(grid, name)
    if grid.size < 2:
        raise ValueError(f"{name}: expected at least 2 points, got {grid.size}")
    step = np.diff(grid)
    if np.any(step <= 0) or not np.allclose(step, step[0], rtol=1e-6, atol=0):
        raise ValueError(f"{name}: expected an increasing, equally spaced grid")
    if grid[0] <= 0:
        raise ValueError(f"{name}: distances must be positive, got minimum {grid[0]:.6g}")
    return grid


def _count(value: Any, name: str, *, minimum: int = 0) -> int:
    if not is_integer(value):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def _positive(value: Any, name: str) -> float:
    x = _real(value, name)
    if not x > 0:
        raise ValueError(f"{name}: expected a positive number, got {x}")
    return x


def _real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name}: expected a finite number, got {x}")
    return x


def _range(
    value: Any, name: str, *, low: float | None = None, high: float | None = None
) -> tuple[float, float]:
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a (low, high) pair, got {value!r}") from None
    lo, hi = _real(lo, name), _real(hi, name)
    if lo > hi:
        raise ValueError(f"{name}: expected low <= high, got ({lo}, {hi})")
    if low is not None and lo < low:
        raise ValueError(f"{name}: expected values >= {low}, got ({lo}, {hi})")
    if high is not None and hi > high:
        raise ValueError(f"{name}: expected values <= {high}, got ({lo}, {hi})")
    return lo, hi

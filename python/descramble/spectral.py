"""Numerical analysis behind the figures: the centred 2-D DFT and Chebyshev fits.

numpy only; :mod:`descramble.plot` draws these, but they are useful on their own
(for instance to score descrambled weights without drawing anything).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import as_float_array, check_finite, nonempty_matrix

__all__ = ["ChebyshevFit", "centred_dft2", "chebyshev_fit"]


def centred_dft2(W: Any) -> np.ndarray:
    """The centred 2-D DFT magnitude ``|fftshift(fft2(W))|`` (zero frequency in the middle).

    Parameters
    ----------
    W : (n, m) array_like
        Real matrix, e.g. descrambled weights ``P @ W``.

    Returns
    -------
    (n, m) ndarray
    """
    return np.abs(np.fft.fftshift(np.fft.fft2(nonempty_matrix(W, "centred_dft2: W"))))


@dataclass(frozen=True)
class ChebyshevFit:
    """Least-squares Chebyshev fits of several vectors (see :func:`chebyshev_fit`).

    Attributes
    ----------
    x : (m,) ndarray
        Sample points in ``[-1, 1]``.
    degrees : (k,) ndarray
        Degree of the fit of each component.
    coefficients : list of ndarray
        Chebyshev coefficients of each fit, lowest degree first.
    fitted : (m, k) ndarray
        Fitted values, column ``j`` for component ``j``.
    r2 : (k,) ndarray
        ``1 - SS_res / SS_tot`` of each fit, 1 when exact (see ``centred`` in
        :func:`chebyshev_fit` for ``SS_tot``).
    """

    x: np.ndarray
    degrees: np.ndarray
    coefficients: list
    fitted: np.ndarray
    r2: np.ndarray


def chebyshev_fit(
    components: Any,
    degree: None | int | Sequence[int] = None,
    *,
    x: Any | None = None,
    centred: bool = False,
) -> ChebyshevFit:
    """Fit each column of ``components`` with a Chebyshev series by least squares.

    Sule, Spencer and Czaja (doi:10.1016/j.acha.2025.101793) liken the
    principal components of DEERNet's output layer to Chebyshev polynomials, the
    i-th of degree about i; this function measures how closely a set of vectors
    follows that description, and makes no claim that they do.

    Parameters
    ----------
    components : (m, k) array_like
        Vectors to fit, one per column (e.g. the leading eigenvectors ``U[:, :k]``).
    degree : None, int or sequence of k ints
        Degree of each fit; ``None`` fits column ``j`` with degree ``j``.
    x : (m,) array_like, optional
        Sample points in ``[-1, 1]``; ``m`` equally spaced points by default.
    centred : bool
        ``False`` (default): ``SS_tot = sum(v^2)``, so ``R^2 = |fit|^2 / |v|^2`` is the
        fraction of the component's energy the polynomial captures -- the natural
        measure for principal components, which are directions with no intercept
        (and meaningful for degree 0). ``True``: the usual statistical ``R^2`` with
        ``SS_tot = sum((v - mean(v))^2)`` (always 0 for a degree-0 fit).

    Returns
    -------
    ChebyshevFit
        Coefficients, fitted values and ``r2`` per component.
    """
    comps = as_float_array(components, "chebyshev_fit: components", ndim=2)
    check_finite(comps, "chebyshev_fit: components")
    m, k = comps.shape
    if m < 1 or k < 1:
        raise ValueError(f"chebyshev_fit: expected a non-empty (m, k) array, got {comps.shape}")
    if x is None:
        xs = np.linspace(-1.0, 1.0, m) if m > 1 else np.zeros(1)
    else:
        xs = as_float_array(x, "chebyshev_fit: x", ndim=1)
        check_finite(xs, "chebyshev_fit: x")
        if xs.shape != (m,):
            raise ValueError(f"chebyshev_fit: x must have shape ({m},), got {xs.shape}")
        if np.any(np.abs(xs) > 1):
            raise ValueError("chebyshev_fit: x must lie in [-1, 1]")
    if degree is None:
        degs = np.arange(k)
    elif np.ndim(degree) == 0:
        degs = np.full(k, degree)
    else:
        degs = np.asarray(degree)
        if degs.shape != (k,):
            raise ValueError(
                f"chebyshev_fit: expected {k} degrees (one per column), got {degs.shape}"
            )
    if degs.dtype.kind not in "iu" or np.any(degs < 0):
        raise ValueError(f"chebyshev_fit: degrees must be non-negative integers, got {degree}")
    if np.any(degs >= m):
        raise ValueError(f"chebyshev_fit: degrees must be below the number of points {m}")
    cheb = np.polynomial.chebyshev
    coefs = []
    fitted = np.empty_like(comps)
    for j in range(k):
        vander = cheb.chebvander(xs, int(degs[j]))
        c, *_ = np.linalg.lstsq(vander, comps[:, j], rcond=None)
        coefs.append(c)
        fitted[:, j] = vander @ c
    ss_res = np.sum((comps - fitted) ** 2, axis=0)
    energy = np.sum(comps**2, axis=0)
    ss_tot = np.sum((comps - comps.mean(axis=0)) ** 2, axis=0) if centred else energy
    # SS_tot at rounding level (a zero column, or a constant one when centred): the fit
    # is exact if the residual is at rounding level too, and has explained nothing otherwise.
    degenerate = ss_tot <= 1e-28 * energy
    r2 = np.where(
        degenerate,
        np.where(ss_res <= 1e-24 * energy, 1.0, 0.0),
        1.0 - ss_res / np.where(degenerate, 1.0, ss_tot),
    )
    return ChebyshevFit(
        x=xs, degrees=degs.astype(np.int64), coefficients=coefs, fitted=fitted, r2=r2
    )

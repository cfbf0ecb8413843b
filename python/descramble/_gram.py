"""The n x n second-moment matrix a descrambler diagonalises, from any form of the data.

:func:`gram_of` accepts a ready :class:`Gram`, a :class:`~descramble.Moments` (or
anything with ``gram()`` and ``covariance()``), or the samples themselves; the
descrambler and the iterative methods share it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from ._validation import as_batch, as_float_array, symmetric_matrix, symmetrized
from .moments import Moments


class Gram:
    """A ready ``n x n`` Gram matrix ``G = S S^T`` (the papers' hidden-data second moment).

    Use it when the hidden data's Gram matrix (or covariance: scaling ``G`` does
    not change the descrambler) was computed elsewhere:
    ``ds.descramble(ds.Gram(G))``. ``G`` must be real, finite and symmetric (to a
    relative ``1e-8``); it is stored symmetrised, ``(G + G^T) / 2``.
    """

    def __init__(self, G: Any) -> None:
        g = symmetric_matrix(G, "Gram")
        if g.shape[0] < 1:
            raise ValueError("Gram: expected an (n, n) matrix with n >= 1, got shape (0, 0)")
        self.matrix: np.ndarray = np.ascontiguousarray(symmetrized(g))

    @property
    def n(self) -> int:
        """Number of neurons."""
        return int(self.matrix.shape[0])

    def gram(self) -> np.ndarray:
        """The stored matrix (the same name as :meth:`Moments.gram`)."""
        return self.matrix

    def __repr__(self) -> str:
        return f"Gram(n={self.n})"


def is_moments(data: Any) -> bool:
    return callable(getattr(data, "gram", None)) and callable(getattr(data, "covariance", None))


def gram_of(data: Any, center: bool) -> np.ndarray:
    """The n x n second-moment matrix the descrambler diagonalises."""
    if isinstance(data, Gram):
        if center:
            raise ValueError(
                "center=True needs the sample mean, which a Gram matrix does not carry: "
                "pass a Moments or the samples, or centre G yourself and pass center=False"
            )
        return data.matrix
    if isinstance(data, Moments):
        # The core's state is finite (it rejects |x| > 1e100) and its matrices
        # are mirrored from one triangle: exactly symmetric, nothing to check.
        return data.scatter() if center else data.gram()
    if is_moments(data):
        if center:
            scatter = getattr(data, "scatter", None)
            if callable(scatter):
                g = scatter()
            else:
                # covariance(ddof=0) * count is the centred scatter matrix.
                g = np.asarray(data.covariance(ddof=0)) * float(data.count)
            name = "Moments scatter"
        else:
            g = data.gram()
            name = "Moments gram"
        g = symmetric_matrix(g, name)
        if g.shape[0] < 1:
            raise ValueError(f"{name}: the Moments has no neurons (n = 0)")
        return symmetrized(g)
    if isinstance(data, (str, bytes)) or data is None:
        raise TypeError(
            "descramble: data must be a Moments, an (N, n) sample array or ds.Gram(G), "
            f"got {type(data).__name__}"
        )
    return _gram_of_samples(data, center)


def _gram_of_samples(data: Any, center: bool) -> np.ndarray:
    """``X^T X`` (or the centred scatter) of an ``(N, n)`` sample array, in float64."""
    name = "descramble data (samples)"
    arr = np.asarray(data)
    # float32 stays float32 on the core path, which converts it panel by panel.
    x = as_float_array(
        arr, name, ndim=2, dtype=np.float32 if arr.dtype == np.float32 else np.float64
    )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(
            f"{name}: expected an (N, n) array with N >= 1 samples and n >= 1 neurons, "
            f"got shape {x.shape}"
        )
    # The core's streaming statistics: its syrk (faster than numpy's at every
    # width, and multithreaded without OpenBLAS), centring without a copy, and
    # the row of a NaN or of a value beyond 1e100 named in the error.
    try:
        return _core_gram(x, center)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _core_gram(x: np.ndarray, center: bool = False) -> np.ndarray:
    """``X^T X`` (or the centred scatter) of the rows of ``x``, from the core's syrk."""
    stats = _core.Moments(x.shape[1])
    stats.update(as_batch(x, x.shape[1]))
    return stats.scatter() if center else stats.gram()

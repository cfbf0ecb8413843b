"""Streaming statistics of hidden data: count, mean, centred scatter and raw Gram matrix.

The descrambler of a layer depends on its hidden data ``S`` only through the
Gram matrix ``S S^T`` (Sule, Spencer, Czaja, ACHA 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793; Amey et al., PNAS 118(5) e2016917118 (2021),
doi:10.1073/pnas.2016917118), so data of any size can be reduced in one
streaming pass to ``n x n`` numbers. :class:`Moments` keeps the count, the mean
and the centred scatter; each batch is centred by its own mean and merged
exactly (Chan, Golub, LeVeque, The American Statistician 37(3), 1983), which
keeps the digits that the one-pass formula ``sum x x^T - N m m^T`` loses.
"""

from __future__ import annotations

import os
from typing import Any, Union

import numpy as np

from . import _core
from ._state_file import open_state_file
from ._validation import as_batch, for_core, integer

__all__ = ["Moments"]

_FORMAT = "descramble.Moments"
_VERSION = 1

PathLike = Union[str, "os.PathLike[str]"]


class Moments:
    """Streaming count, mean and second moments of ``(N, n)`` data (rows are samples).

    An exact, associative and picklable monoid: updating with any chunking of
    a stream, or merging partial results in any order, gives the one-pass
    statistics up to rounding. The core works in float64 whatever the input
    (float32 batches are converted panel by panel, never copied whole), with a
    multithreaded, blocked symmetric rank-k update that releases the GIL.

    Parameters
    ----------
    n : int
        Number of variables (neurons), ``n >= 1``.

    Notes
    -----
    Each batch is centred by its own mean and merged with Chan's update
    ``M2 = M2_a + M2_b + (n_a n_b / n) d d^T``, ``mean = mean_a + (n_b / n) d``
    (Chan, Golub, LeVeque, "Algorithms for computing the sample variance",
    The American Statistician 37(3), 1983). The raw Gram matrix ``sum x x^T``
    (the papers' ``S S^T``: Sule, Spencer, Czaja, ACHA 79 (2025) 101793,
    doi:10.1016/j.acha.2025.101793) is ``M2 + count mean mean^T``.

    Before any sample, ``mean``, ``scatter()`` and ``gram()`` are zeros and
    ``covariance()`` raises ValueError. Entries must be finite and below 1e100
    in magnitude (so that no sum of squares can overflow).

    Examples
    --------
    >>> import numpy as np, descramble as ds
    >>> x = np.arange(12.0).reshape(6, 2)
    >>> m = ds.Moments(2).update(x[:4]).update(x[4:])
    >>> m.count, m.mean
    (6, array([5., 6.]))
    >>> np.allclose(m.covariance(), np.cov(x, rowvar=False))
    True
    """

    __slots__ = ("_core", "_updates")

    def __init__(self, n: int) -> None:
        n = integer(n, "Moments: n")
        if n < 1:
            raise ValueError(f"Moments: n must be >= 1, got {n}")
        try:
            self._core = _core.Moments(int(n))
        except MemoryError:
            gib = float(n) * float(n) * 8 / 2**30
            raise MemoryError(
                f"Moments: cannot allocate the {n} x {n} float64 scatter matrix ({gib:.3g} GiB)"
            ) from None
        self._updates = 0

    # -- building -----------------------------------------------------------------

    def update(self, x: Any) -> Moments:
        """Add a batch of samples.

        Parameters
        ----------
        x : (batch, n) array_like
            float32 or float64 in any memory layout (C, Fortran, strided views
            are read in place); integer and boolean data are converted to
            float64. An empty batch ``(0, n)`` changes nothing.

        Returns
        -------
        Moments
            ``self``, so that updates can be chained.

        Raises
        ------
        ValueError
            ``x`` is not 2-D with ``n`` columns, or contains NaN, infinity or
            a value beyond 1e100 in magnitude; the message names the update
            call (counting from 0) and the row. The statistics are unchanged.
        TypeError
            ``x`` is not real numeric data.
        """
        index = self._updates
        self._updates += 1
        arr = as_batch(x, self.n)
        try:
            self._core.update(arr)
        except ValueError as exc:
            raise ValueError(f"Moments.update: batch {index}: {exc}") from None
        return self

    def merge(self, other: Moments) -> Moments:
        """Add the samples summarised by ``other`` in place (exact); returns ``self``.

        ``other`` is left unchanged. Merging is associative and commutative up
        to rounding, so partial results can be combined in any tree.

        Raises
        ------
        TypeError
            ``other`` is not a :class:`Moments`.
        ValueError
            ``other`` has a different number of variables.
        """
        if not isinstance(other, Moments):
            raise TypeError(f"Moments.merge: expected a Moments, got {type(other).__name__}")
        if other.n != self.n:
            raise ValueError(
                f"Moments.merge: expected statistics of n = {self.n} variables, got n = {other.n}"
            )
        self._core.merge(other._core)
        return self

    def __add__(self, other: Any) -> Moments:
        """The merge of two statistics as a new object; both operands are unchanged."""
        if not isinstance(other, Moments):
            return NotImplemented
        return self.copy().merge(other)

    # -- statistics ---------------------------------------------------------------

    @property
    def n(self) -> int:
        """Number of variables."""
        return int(self._core.n)

    @property
    def count(self) -> int:
        """Number of samples seen."""
        return int(self._core.count)

    @property
    def mean(self) -> np.ndarray:
        """``(n,)`` float64 mean of the samples; zeros while no sample has been seen."""
        return self._core.mean()

    def scatter(self) -> np.ndarray:
        """Centred scatter ``sum (x - mean)(x - mean)^T``, a symmetric ``(n, n)`` float64 array."""
        return self._core.scatter()

    def gram(self) -> np.ndarray:
        """Raw Gram matrix ``sum x x^T`` (the papers' ``S S^T``), symmetric ``(n, n)`` float64.

        Computed as ``scatter + count * mean mean^T``, a sum of positive
        semidefinite terms, so no digits cancel.
        """
        return self._core.gram()

    def covariance(self, ddof: int = 1) -> np.ndarray:
        """Covariance ``scatter / (count - ddof)``, as ``np.cov(X, rowvar=False, ddof=ddof)``.

        Raises
        ------
        ValueError
            ``count - ddof <= 0`` (numpy would warn and return inf or NaN).
        """
        integer(ddof, "Moments.covariance: ddof")
        dof = self.count - int(ddof)
        if dof <= 0:
            raise ValueError(
                "Moments.covariance: needs count - ddof > 0, "
                f"got count = {self.count}, ddof = {ddof}"
            )
        return self.scatter() / dof

    # -- state, copies, pickling, files -------------------------------------------

    def state(self) -> tuple[int, np.ndarray, np.ndarray]:
        """``(count, mean, scatter)``: everything needed to rebuild the statistics."""
        return self.count, self.mean, self.scatter()

    @classmethod
    def from_state(cls, count: int, mean: Any, scatter: Any) -> Moments:
        """Rebuild statistics from :meth:`state` output (as saved by a worker or a resumed job).

        Raises
        ------
        ValueError
            Negative count, mismatched shapes, non-finite values, an
            asymmetric scatter or one with a negative diagonal, or a
            non-zero state with ``count == 0``.
        """
        integer(count, "Moments.from_state: count")
        mu = np.asarray(mean, dtype=np.float64)
        m2 = np.asarray(scatter, dtype=np.float64)
        if mu.ndim != 1 or mu.size < 1:
            raise ValueError(
                f"Moments.from_state: expected a mean of shape (n,), got shape {mu.shape}"
            )
        if m2.shape != (mu.size, mu.size):
            raise ValueError(
                f"Moments.from_state: expected a scatter of shape ({mu.size}, {mu.size}), "
                f"got shape {m2.shape}"
            )
        # Both triangles: the core reads the lower one only, and a NaN in the
        # upper one would otherwise pass unnoticed.
        for what, arr in (("mean", mu), ("scatter", m2)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"Moments.from_state: the {what} contains NaN or infinity")
        scale = float(np.max(np.abs(m2))) if m2.size else 0.0
        if float(np.max(np.abs(m2 - m2.T))) > 1e-12 * scale:
            raise ValueError("Moments.from_state: the scatter is not symmetric")
        obj = cls.__new__(cls)
        try:
            obj._core = _core.Moments(int(count), for_core(mu), for_core(m2))
        except ValueError as exc:
            raise ValueError(f"Moments.from_state: {exc}") from None
        obj._updates = 0
        return obj

    def copy(self) -> Moments:
        """An independent copy."""
        obj = type(self).__new__(type(self))
        obj._core = self._core.copy()
        obj._updates = self._updates
        return obj

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> Moments:
        return self.copy()

    def __getstate__(self) -> dict:
        count, mean, scatter = self.state()
        return {"count": count, "mean": mean, "scatter": scatter, "updates": self._updates}

    def __setstate__(self, state: dict) -> None:
        rebuilt = Moments.from_state(state["count"], state["mean"], state["scatter"])
        self._core = rebuilt._core
        self._updates = int(state.get("updates", 0))

    def save(self, path: PathLike) -> None:
        """Write the statistics to ``path`` (a ``.npz`` with a format tag and version).

        The file holds ``count``, ``mean``, ``scatter`` and the update counter;
        :meth:`load` reads it back exactly.
        """
        count, mean, scatter = self.state()
        with open(path, "wb") as f:
            np.savez(
                f,
                format=np.array(_FORMAT),
                version=np.array(_VERSION),
                count=np.array(count, dtype=np.int64),
                updates=np.array(self._updates, dtype=np.int64),
                mean=mean,
                scatter=scatter,
            )

    @classmethod
    def load(cls, path: PathLike) -> Moments:
        """Read statistics written by :meth:`save`.

        Raises
        ------
        ValueError
            The file is not a Moments file of a known version, is truncated or
            corrupt, or holds an invalid state; the message names the file.
        FileNotFoundError
            ``path`` does not exist.
        """
        name = os.fspath(path)
        needed = {"format", "version", "count", "mean", "scatter"}
        with open_state_file(name, "Moments", _FORMAT, _VERSION, needed) as data:
            count = int(data["count"])
            mean = data["mean"]
            scatter = data["scatter"]
            updates = int(data["updates"]) if "updates" in data.files else 0
        try:
            obj = cls.from_state(count, mean, scatter)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name!r} holds an invalid Moments state: {exc}") from None
        obj._updates = updates
        return obj

    def __repr__(self) -> str:
        return f"Moments(n={self.n}, count={self.count})"

"""Moments of a dask array: partial statistics per row block, tree-reduced by exact merges.

Needs the ``dask`` extra (``pip install "descramble[dask]"``); dask is imported
only when :func:`moments` is called.

:class:`descramble.Moments` is an exact, associative, picklable monoid (Chan,
Golub, LeVeque, The American Statistician 37 (1983) 242-247), so partial results
computed on any workers merge into the same statistics as one pass, on the
threaded, multiprocessing or ``dask.distributed`` schedulers alike. The n x n
descrambling problem is then solved once (Sule, Spencer, Czaja, ACHA 79 (2025)
101793, doi:10.1016/j.acha.2025.101793).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .moments import Moments

__all__ = ["moments"]


def _dask() -> Any:
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError as exc:
        raise ImportError('descramble.dask needs dask: pip install "descramble[dask]"') from exc
    return dask


def _block_moments(block: np.ndarray, n: int) -> Moments:
    # Moments.update converts every real dtype the way a numpy batch is
    # converted: float16 exactly to float32, integers, booleans and long double
    # to float64, big-endian and misaligned blocks to native aligned copies.
    return Moments(n).update(np.asarray(block))


def _merge(n: int, *parts: Moments) -> Moments:
    # A fresh accumulator: the inputs may be shared by other tasks (threaded
    # scheduler) and must not be modified.
    out = Moments(n)
    for p in parts:
        out.merge(p)
    return out


def moments(
    darr: Any,
    *,
    split_every: int = 8,
    compute: bool = True,
    **compute_kwargs: Any,
) -> Any:
    """Streaming statistics of a 2-D dask array (rows = samples, columns = neurons).

    Each row block becomes a partial :class:`descramble.Moments` (the array is
    first rechunked so every block holds whole rows); the partials are merged in a
    tree of fan-in ``split_every``.

    Parameters
    ----------
    darr : dask.array.Array, shape (N, n)
        Any real dtype, converted block by block as :meth:`Moments.update`
        converts a numpy batch: float32 and float64 (either byte order) are
        read as they are, float16 exactly as float32, integers, booleans and
        long double as float64 (the precision of the statistics). Complex,
        object and string arrays raise TypeError.
    split_every : int
        Fan-in of the merge tree (>= 2).
    compute : bool
        True: compute and return the :class:`Moments`. False: return the lazy
        ``dask.delayed`` object (compute it later, or together with other work).
    **compute_kwargs
        Passed to ``dask.compute`` (e.g. ``scheduler="processes"``). With a
        ``dask.distributed.Client`` active, it is used by default.

    Returns
    -------
    Moments or dask.delayed.Delayed
    """
    dask = _dask()
    da = dask.array
    if not isinstance(darr, da.Array):
        raise TypeError(f"expected a dask array, got {type(darr).__name__}")
    if darr.ndim != 2:
        raise ValueError(
            f"expected a 2-D dask array of shape (samples, neurons), got shape {darr.shape}"
        )
    if darr.dtype.kind not in "fiub":
        raise TypeError(f"expected a real numeric dask array, got dtype {darr.dtype}")
    if split_every < 2:
        raise ValueError(f"split_every must be >= 2, got {split_every}")
    n = int(darr.shape[1])
    if any(np.isnan(c) for c in darr.chunks[0]):
        raise ValueError("the array has unknown chunk sizes; call darr.compute_chunk_sizes()")
    whole_rows = darr.rechunk({1: -1}) if len(darr.chunks[1]) > 1 else darr
    delayed = dask.delayed
    level = [delayed(_block_moments)(b, n) for b in whole_rows.to_delayed().ravel()]
    if not level:
        level = [delayed(_merge)(n)]
    while len(level) > 1:
        level = [
            delayed(_merge)(n, *level[i : i + split_every])
            for i in range(0, len(level), split_every)
        ]
    result = level[0]
    if not compute:
        return result
    (out,) = dask.compute(result, **compute_kwargs)
    return out

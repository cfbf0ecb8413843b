"""Moments against numpy at every width around the rank-k kernel's register tile.

The kernel updates the result in tiles of up to 8 rows x 16 columns, whose
size depends on the kernel level (vector width and register count); widths
that leave every possible remainder of rows and columns, and of the 8-lane
groups of the packed panel, must all give numpy's answer.
"""

from __future__ import annotations

import numpy as np
import pytest

import descramble as ds
from descramble import _core

WIDTHS = [*range(1, 34), 47, 63, 65, 127, 129, 257]


@pytest.mark.parametrize("n", WIDTHS, ids=[f"n={n}" for n in WIDTHS])
def test_tile_remainders_match_numpy(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((300, n)) + 3.0
    m = ds.Moments(n).update(x).update(x[::2])
    full = np.concatenate([x, x[::2]])
    np.testing.assert_allclose(m.gram(), full.T @ full, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(
        m.covariance(), np.cov(full, rowvar=False).reshape(n, n), rtol=1e-11, atol=1e-12
    )


_CROSSOVERS = _core.crossovers()
_SHARED_PANEL_MIN = _CROSSOVERS["rank_update_shared_panel_min"]


@pytest.mark.parametrize("n", [37, _SHARED_PANEL_MIN + 5], ids=["row-split", "shared-panels"])
def test_multithreaded_paths_match_numpy(n):
    # Enough rows for the update to be threaded (twice its flop crossover, and
    # every thread at least its minimum share of rows): the threads split the
    # rows below the shared-panel width and share each panel's tiles from it.
    rows = max(
        2 * _CROSSOVERS["rank_update_parallel_flops"] // (n * n) + 1,
        8 * _CROSSOVERS["min_rows_per_thread"],
    )
    x = np.random.default_rng(1).standard_normal((rows, n)).astype(np.float32)
    m = ds.Moments(n).update(x)
    np.testing.assert_allclose(
        m.covariance(), np.cov(x.astype(np.float64), rowvar=False), rtol=1e-10, atol=1e-12
    )

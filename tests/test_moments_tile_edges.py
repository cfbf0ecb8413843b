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


@pytest.mark.parametrize("n", [37, 517], ids=["row-split", "shared-panels"])
def test_multithreaded_paths_match_numpy(n):
    # Enough rows for both threads (the row split below n = 512, shared panels above).
    x = np.random.default_rng(1).standard_normal((20000 if n < 512 else 1200, n)).astype(np.float32)
    m = ds.Moments(n).update(x)
    np.testing.assert_allclose(
        m.covariance(), np.cov(x.astype(np.float64), rowvar=False), rtol=1e-10, atol=1e-12
    )

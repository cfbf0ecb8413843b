"""10,000 random LAP instances against scipy (the on-demand script runs 100,000 or more)."""

from collections import Counter

import numpy as np
import pytest

scipy_optimize = pytest.importorskip("scipy.optimize")

import lap_agreement  # noqa: E402 (tests/lap_agreement.py, after the skip)


def test_agrees_with_scipy_on_10000_random_instances():
    bad = lap_agreement.run(10_000, seed=2026)
    assert not bad, "\n".join(f"instance {i}: {d}" for i, d in bad[:10])


def test_the_instances_cover_every_dtype_and_outcome():
    # The generator must keep producing the hard cases, or the agreement above
    # would hold vacuously.
    outcomes: Counter[str] = Counter()
    dtypes = set()
    for cost, maximize in lap_agreement.instances(5000, seed=2026):
        dtypes.add(cost.dtype.name)
        c = cost.astype(np.float64)
        if c.size and np.isfinite(c).all() and np.abs(c).max() > 1e300:
            outcomes["huge"] += 1
        try:
            scipy_optimize.linear_sum_assignment(cost, maximize=maximize)
            outcomes["solved"] += 1
        except ValueError as exc:
            outcomes[str(exc)] += 1
    assert dtypes >= set(lap_agreement.DTYPES)
    assert outcomes["cost matrix is infeasible"] > 50
    assert outcomes["matrix contains invalid numeric entries"] > 50
    assert outcomes["huge"] > 40 and outcomes["solved"] > 2500

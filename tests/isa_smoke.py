"""Smoke check of an installed descramble on a given kernel level.

Run by .ci/run under ``qemu-x86_64 -cpu Nehalem`` (no AVX: the loader must pick
the baseline level) and ``-cpu Haswell`` (no AVX-512: avx2), where an
instruction the emulated CPU lacks ends the process with SIGILL. Everything
runs emulated, so the data are small; every answer is checked against numpy or
brute force. Not a pytest module (pytest collects test_*.py only).

Usage: python tests/isa_smoke.py EXPECTED_LEVEL
"""

from __future__ import annotations

import itertools
import sys

import numpy as np

import descramble as ds


def check_moments(rng: np.random.Generator) -> None:
    for dtype in (np.float64, np.float32):
        # 300 rows: one batch above the core's buffering threshold, a partial
        # lane group (n = 21) and an offset the centring must remove.
        x = (rng.standard_normal((300, 21)) + 5.0).astype(dtype)
        m = ds.Moments(21).update(x).update(x[:40])
        full = np.concatenate([x, x[:40]]).astype(np.float64)
        np.testing.assert_allclose(m.covariance(), np.cov(full, rowvar=False), rtol=1e-10)
        np.testing.assert_allclose(m.gram(), full.T @ full, rtol=1e-10)


def check_eigh(rng: np.random.Generator) -> None:
    b = rng.standard_normal((60, 60))
    a = b + b.T
    w, v = ds.eigh(a)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(a), atol=1e-11 * np.abs(w).max())
    np.testing.assert_allclose(a @ v, v * w, atol=1e-10 * np.abs(w).max())
    np.testing.assert_allclose(v.T @ v, np.eye(60), atol=1e-12)


def check_assignment(rng: np.random.Generator) -> None:
    cost = rng.random((7, 7))
    rows, cols = ds.linear_sum_assignment(cost)
    best = min(cost[range(7), p].sum() for p in itertools.permutations(range(7)))
    assert abs(cost[rows, cols].sum() - best) < 1e-12, (cost[rows, cols].sum(), best)
    # A larger one with a planted unique optimum: zero on a permutation, >= 1 elsewhere.
    perm = rng.permutation(200)
    big = 1.0 + rng.random((200, 200))
    big[np.arange(200), perm] = 0.0
    rows, cols = ds.linear_sum_assignment(big)
    assert np.array_equal(cols[np.argsort(rows)], perm)


def check_descramble(rng: np.random.Generator) -> None:
    x = rng.standard_normal((400, 24)) @ rng.standard_normal((24, 24))
    r = ds.descramble(x, smoothness="fourier")
    p = r.P
    np.testing.assert_allclose(p @ p.T, np.eye(24), atol=1e-12)
    d = ds.smoothness.operator("fourier", 24)
    laplacian, gram = d.T @ d, x.T @ x
    objective = np.trace(p.T @ laplacian @ p @ gram)
    bound = np.linalg.eigvalsh(laplacian) @ np.linalg.eigvalsh(gram)[::-1]
    np.testing.assert_allclose(objective, bound, rtol=1e-9)
    np.testing.assert_allclose(r.objective, bound, rtol=1e-9)


def main() -> None:
    expected = sys.argv[1]
    config = ds.show_config(mode="dicts")
    assert config is not None
    level = config["Kernel level"]["in use"]
    ds.show_config()
    if level != expected:
        raise SystemExit(f"the loader picked {level!r}, expected {expected!r}")
    rng = np.random.default_rng(11)
    check_moments(rng)
    check_eigh(rng)
    check_assignment(rng)
    check_descramble(rng)
    print(f"isa smoke check passed on level {level}")


if __name__ == "__main__":
    main()

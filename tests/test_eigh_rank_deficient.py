"""ds.eigh and ds.descramble on rank-deficient and degenerate symmetric matrices.

A Gram matrix ``X^T X`` of a layer with fewer samples than neurons has rank
``N < n``: its tridiagonal form holds an O(||A||) block beside entries of order
``eps ||A||``, which is where divide and conquer's QL leaves used to run out of
sweeps (81 of 900 such matrices failed at n >= 54). The grid below caught
it: 14 of its 819 Gram matrices raised before the fix.
``tests/scan_eigh_rank_deficient.py`` runs the full scan (n up to 600, ranks
0-8, 40 seeds) on demand.
"""

import json

import numpy as np
import pytest

import _helpers
import descramble as ds

pytestmark = pytest.mark.usefixtures("single_threaded_blas")

EPS = np.finfo(np.float64).eps

# Small sizes (Eigen's path), both sides of n = 48 and of the 32-leaves, the
# sizes of the reported failures (54, 58), ragged leaves and threaded sizes.
SIZES = [1, 2, 5, 31, 48, 49, 54, 58, 64, 71, 80, 97, 128, 150, 201, 257, 333, 600]
RANKS = range(0, 9)


def _seeds(n):
    return range(6) if n <= 160 else range(2) if n <= 333 else range(1)


def _gram(n, rank, seed):
    x = np.random.default_rng(seed).standard_normal((rank, n))
    return x.T @ x


def _check_against_lapack(a):
    w, v = ds.eigh(a)
    w_ref, v_ref = np.linalg.eigh(a)
    _helpers.assert_eigh_like_lapack(a, w, v, w_ref, v_ref)
    # Eigenvalues to 1e-10 relative to ||A|| (the acceptance rule).
    scale = max(np.abs(w_ref).max(), np.finfo(float).tiny)
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=1e-10 * scale)


@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"n{n}")
def test_low_rank_gram_matrices_match_lapack(n):
    for rank in RANKS:
        for seed in _seeds(n):
            _check_against_lapack(_gram(n, rank, seed))


@pytest.mark.parametrize(
    "n, rank, seed",
    [(54, 3, 8), (58, 2, 7), (64, 3, 3), (64, 3, 4), (100, 5, 0)],
    ids=lambda v: str(v),
)
def test_reported_failures(n, rank, seed):
    # (54, 3, 8) is the reproducer; the others failed in its scan.
    _check_against_lapack(_gram(n, rank, seed))


@pytest.mark.parametrize("n", [60, 130, 300], ids=lambda n: f"n{n}")
@pytest.mark.parametrize("multiplicity", [2, 7, 20])
def test_exact_multiple_eigenvalues(n, multiplicity):
    rng = np.random.default_rng(n + multiplicity)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    # Blocks of `multiplicity` equal eigenvalues, zero among them.
    w = np.repeat(np.arange(n // multiplicity + 1, dtype=float), multiplicity)[:n]
    a = (q * w) @ q.T
    a = (a + a.T) / 2
    _check_against_lapack(a)


@pytest.mark.parametrize("n", [50, 90, 260], ids=lambda n: f"n{n}")
@pytest.mark.parametrize("zero_fraction", [0.5, 0.9, 1.0])
def test_many_zero_rows(n, zero_fraction):
    rng = np.random.default_rng(n)
    a = np.zeros((n, n))
    live = rng.permutation(n)[: n - int(zero_fraction * n)]
    x = rng.standard_normal((len(live), len(live)))
    a[np.ix_(live, live)] = x + x.T
    _check_against_lapack(a)


@pytest.mark.parametrize("samples", [1, 2, 3, 8])
@pytest.mark.parametrize("n", [58, 100, 300], ids=lambda n: f"n{n}")
def test_descramble_with_fewer_samples_than_neurons(samples, n):
    x = np.random.default_rng(1).standard_normal((samples, n))
    r = ds.descramble(x)
    np.testing.assert_allclose(r.P @ r.P.T, np.eye(n), atol=1e-12)
    # The objective of the returned P, computed here independently, to the
    # rounding error of the dense products (n eps ||L|| ||G||).
    d = ds.smoothness.operator("fourier", n, 2)
    lmat = d.T @ d
    g = x.T @ x
    objective = np.trace(r.P.T @ lmat @ r.P @ g)
    tol = 10 * n * EPS * np.linalg.norm(lmat, 2) * np.linalg.norm(g, 2)
    assert abs(objective - r.lower_bound) <= tol
    # All n - samples zero eigenvalues of G form one tie block.
    assert [len(b) for b in r.ties["data"]] == [n - samples]


@pytest.mark.parametrize("samples", [1, 2, 3])
def test_fit_cli_with_fewer_samples_than_neurons(tmp_path, samples):
    from descramble import cli

    # (2, 58) from seed 1 is the descramble reproducer.
    x = np.random.default_rng(1).standard_normal((samples, 58))
    np.save(tmp_path / "acts.npy", x)
    out = tmp_path / "out"
    assert cli.main(["fit", str(tmp_path / "acts.npy"), "--out", str(out), "--quiet"]) == 0
    p = np.load(out / "descrambler.npy")
    np.testing.assert_allclose(p @ p.T, np.eye(58), atol=1e-10)
    # The zero eigenvalues of G are tied, so only the certificate is compared.
    report = json.loads((out / "report.json").read_text())
    ref = ds.descramble(x)
    assert report["lower_bound"] == pytest.approx(ref.lower_bound, rel=1e-9)
    assert report["objective"] == pytest.approx(ref.objective, rel=1e-6)

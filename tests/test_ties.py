"""Tied eigenvalue blocks (``Descrambling.ties``): exact for built-in operators, else by rounding.

A rotation inside a tie block is free, but across distinct eigenvalues it costs
``sin^2(theta) (lam_j - lam_i)(mu_i - mu_j)``: a block that mixes distinct
eigenvalues tells the user that something undetermined is arbitrary when it is
not. The old rule (``1e-8 max|lam|``) merged distinct Fourier modes from n = 256
on (71 modes at n = 4096) and distinct third- and fourth-order modes at n = 80.
"""

import numpy as np
import pytest

import descramble as ds
from descramble import descrambler as dsc
from descramble import smoothness as sm

SIZES = [2, 7, 8, 80, 255, 256, 1024, 4096]
KIND_ORDERS = [("fourier", m) for m in (1, 2, 3, 4)] + [
    (kind, m) for kind in ("periodic", "dirichlet", "neumann") for m in (1, 2)
]


def _frequencies(t: np.ndarray) -> np.ndarray:
    """Frequency of each (Fourier-mode) column of ``t``, read off its real FFT."""
    return np.argmax(np.abs(np.fft.rfft(t, axis=0)), axis=0)


def _exact_keys(kind: str, order: int, n: int, t: np.ndarray) -> np.ndarray:
    """An integer per column of the sorted basis; equal keys <=> equal exact eigenvalues.

    Fourier kinds: the eigenvalue depends on the frequency k only (k^(2m), or
    16 sin^4(pi k / n), both increasing in k <= n/2); periodic order 1 has
    sin^2(2 pi k / n), equal for k and n/2 - k. The sine and cosine kinds have
    n distinct eigenvalues.
    """
    if kind in ("dirichlet", "neumann"):
        return np.arange(n)
    k = _frequencies(t)
    if kind == "periodic" and order == 1:
        a = (2 * k) % n
        return np.minimum(a, n - a)
    return k


def _expected_blocks(keys: np.ndarray) -> list[list[int]]:
    blocks, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            if i - start > 1:
                blocks.append(list(range(start, i)))
            start = i
    return blocks


@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"n{n}")
@pytest.mark.parametrize("kind, order", KIND_ORDERS, ids=lambda v: str(v))
def test_builtin_ties_are_exactly_the_equal_eigenvalues(kind, order, n):
    lam, t = sm.cached_basis(kind, n, order)  # the basis _builtin_ties reads, built once
    keys = _exact_keys(kind, order, n, t)
    blocks = [list(b) for b in dsc._builtin_ties(kind, order, n)]
    assert blocks == _expected_blocks(keys)
    for block in blocks:  # no block mixes distinct eigenvalues, even by rounding
        assert np.all(lam[block] == lam[block[0]])


def test_descramble_reports_only_the_fourier_pairs_at_n256():
    # n = 256, order 2 used to report [0, 1, 2]: lambda = 0 merged with 1.
    x = np.random.default_rng(0).standard_normal((300, 256))
    r = ds.descramble(x)
    assert r.ties["smoothness"] == [[2 * k - 1, 2 * k] for k in range(1, 128)]
    assert r.ties["data"] == []


def test_user_operator_ties_use_the_rounding_rule():
    # The dense Fourier L through ds.eigh: its computed pairs differ by rounding
    # only, distinct eigenvalues by at least 1.
    n = 64
    d = sm.operator("fourier", n, 2)
    op = ds.Operator(L=d.T @ d)
    x = np.random.default_rng(1).standard_normal((100, n))
    r = ds.descramble(x, smoothness=op)
    assert r.ties["smoothness"] == [[2 * k - 1, 2 * k] for k in range(1, 32)]


@pytest.mark.parametrize("n", [30, 200])
def test_data_ties_are_the_repeated_eigenvalues(n):
    rng = np.random.default_rng(n)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    # Descending: a triple, distinct values 1e-6 apart relative (far above
    # n eps), a pair, then zeros.
    w = np.concatenate([[5.0, 5.0, 5.0], 4.0 - 4e-6 * np.arange(n - 8), [1.0, 1.0], [0, 0, 0]])
    g = ds.Gram((q * w) @ q.T)
    r = ds.descramble(g)
    assert r.ties["data"] == [[0, 1, 2], [n - 5, n - 4], [n - 3, n - 2, n - 1]]


def test_tie_tolerance_is_twice_the_backward_error_bound():
    values = np.array([0.0, 1.0, 1.0 + 1e-14, 2.0])
    tol = dsc._computed_tie_tolerance(values, 100)
    assert tol == pytest.approx(2 * 100 * np.finfo(float).eps * 2.0)
    assert dsc._tied_blocks(values, tol) == [[1, 2]]
    assert dsc._tied_blocks(values, 0.0) == []

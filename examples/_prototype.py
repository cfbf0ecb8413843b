"""Temporary stand-in for ``ds.descramble`` until the core lands on main (to be removed).

Closed form of PAPER.md section 2: ``P = T U^T`` with the Fourier basis ``T``.
"""

from __future__ import annotations

import numpy as np


class _Result:
    def __init__(self, P, T, U, lam, mu, G, L):
        self.P, self.T, self.U, self.lam, self.mu = P, T, U, lam, mu
        self.objective = float(np.trace(P.T @ L @ P @ G))
        self.lower_bound = float(lam @ mu)
        self.gap = 0.0
        self.ties = None

    def apply(self, W, side="output"):
        return self.P @ W if side == "output" else W @ self.P.T


def fourier_basis(n):
    cols, lam = [np.ones(n) / np.sqrt(n)], [0.0]
    x = 2 * np.pi * np.arange(n) / n
    for k in range(1, n // 2 + 1):
        c = np.cos(k * x)
        cols.append(c / np.linalg.norm(c))
        lam.append(float(k) ** 4)
        if 2 * k < n:
            s = np.sin(k * x)
            cols.append(s / np.linalg.norm(s))
            lam.append(float(k) ** 4)
    return np.array(lam), np.stack(cols, axis=1)


def descramble(data, smoothness="fourier", order=2, center=False, group="orthogonal", k=None):
    if group == "permutation":
        raise NotImplementedError("permutation descrambler not available yet")
    if hasattr(data, "G"):
        G = np.asarray(data.G, float)
    else:
        X = np.asarray(data, float)
        if center:
            X = X - X.mean(axis=0)
        G = X.T @ X
    n = G.shape[0]
    lam, T = fourier_basis(n)
    mu, U = np.linalg.eigh(G)
    mu, U = mu[::-1], U[:, ::-1]
    L = T @ np.diag(lam) @ T.T
    return _Result(T @ U.T, T, U, lam, mu, G, L)


class Gram:
    def __init__(self, G):
        self.G = np.asarray(G, float)

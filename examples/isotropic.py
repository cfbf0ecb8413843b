"""Isotropic input: descrambling a linear layer converges to its SVD at the sampling rate.

With ``E[x x^T] = c I`` the Gram matrix of the hidden data ``s = W x`` is
``G / N -> c W W^T``, so the descrambler tends to ``P = T U_W^T`` and the
descrambled weights to ``P W = T Sigma_W V_W^T``: the largest singular direction of
``W`` lands on the smoothest mode (the constant), the next pair on the first
Fourier pair, and so on. On noise-like data descrambling adds nothing to the SVD
(Sule, Spencer, Czaja, ACHA 79 (2025) 101793, doi:10.1016/j.acha.2025.101793).

The script draws N samples, descrambles the hidden data, and measures the distance
of ``P W`` from ``T Sigma_W V_W^T`` in a way that ignores what the data cannot
determine (signs of the principal components, rotations inside each tied cos/sin
pair of ``T``): for every tied block ``B`` of smoothness eigenvalues it compares
``(P W)^T T_B T_B^T (P W)`` with ``V_W Sigma_B^2 V_W^T``. The error falls like
``N^-1/2`` (the sampling error of the second moment).

Claim, figure, number (``--quick`` prints them as JSON): the error of ``P W``
against ``T Sigma_W V_W^T`` falls like ``N^-1/2``; ``slope``, the log-log slope of
the root-mean-square error over repeats against N, is -0.52 in the full run
(N = 2,000 to 2,000,000) and within -0.65..-0.35 in the quick one; figure
``isotropic_error_vs_n.png``. (With the exact Gram matrix ``c W W^T`` the
descrambler is ``T U_W^T`` by construction, so the limit itself carries no
information; the rate at which samples approach it does.)

Run: ``python examples/isotropic.py --out figures/isotropic [--quick]``.
"""

from __future__ import annotations

import numpy as np

import descramble as ds
from _common import figure, image, loglog_slope, main, save, tied_blocks


def make_layer(n_hidden: int, n_in: int, rng: np.random.Generator):
    """A random ``n_hidden x n_in`` layer with distinct, well separated singular values."""
    q1, _ = np.linalg.qr(rng.standard_normal((n_hidden, n_hidden)))
    q2, _ = np.linalg.qr(rng.standard_normal((n_in, n_in)))
    r = min(n_hidden, n_in)
    sigma = 2.0 * 0.8 ** np.arange(r)
    W = q1[:, :r] @ np.diag(sigma) @ q2[:, :r].T
    return W, sigma, q2[:, :r]


def svd_error(result, W: np.ndarray, sigma: np.ndarray, V: np.ndarray) -> float:
    """Relative distance of ``P W`` from ``T Sigma V^T``, blind to signs and tied pairs.

    For each block ``B`` of tied smoothness eigenvalues, the Gram matrix of the rows of
    ``P W`` projected onto the modes ``T_B`` is invariant under any rotation inside the
    block and under sign flips; in the limit it equals ``V Sigma_B^2 V^T``.
    """
    PW = result.apply(W, side="output")
    T = result.T
    coeff = T.T @ PW  # coordinates of the descrambled rows in the smoothness basis
    s2 = np.zeros(T.shape[1])
    s2[: sigma.size] = sigma**2
    err2 = 0.0
    for block in tied_blocks(result.lam):
        got = coeff[block].T @ coeff[block]
        inside = block[block < sigma.size]  # slots beyond rank(W) hold nothing
        want = (V[:, inside] * s2[inside]) @ V[:, inside].T
        err2 += float(np.sum((got - want) ** 2))
    return float(np.sqrt(err2) / np.sqrt(np.sum(sigma**4)))


def run(out: str, quick: bool = True, seed: int = 0, figures: bool = True) -> dict:
    """Descramble isotropic data through one linear layer at growing sample sizes.

    Returns the sample sizes, the root-mean-square error over repeats at each and
    the log-log slope of that error against N.
    """
    rng = np.random.default_rng(seed)
    n_hidden, n_in, c = 16, 8, 2.0
    W, sigma, V = make_layer(n_hidden, n_in, rng)
    sizes = np.unique(np.geomspace(2e3, 6.4e4 if quick else 2e6, 6 if quick else 11).astype(int))
    repeats = 8 if quick else 20

    errors = np.empty((sizes.size, repeats))
    for i, N in enumerate(sizes):
        for j in range(repeats):
            X = np.sqrt(c) * rng.standard_normal((N, n_in))
            result = ds.descramble(X @ W.T)
            errors[i, j] = svd_error(result, W, sigma, V)
    # Root mean square over repeats: the mean squared error falls exactly like 1/N
    # in the asymptotic regime, and averages far better than the error itself.
    rms = np.sqrt(np.mean(errors**2, axis=1))
    slope = loglog_slope(sizes, rms)

    if figures:
        _figures(out, sizes, errors, rms, slope, W, sigma, V, result)
    return {"sizes": sizes, "mean_error": rms, "slope": slope}


def _figures(out, sizes, errors, rms, slope, W, sigma, V, result) -> None:
    fig, axes = figure(1, 1, (6, 4.5))
    ax = axes[0, 0]
    ax.errorbar(sizes, rms, yerr=errors.std(axis=1), fmt="o-", label="measured (rms, std)")
    ax.loglog(sizes, rms[0] * np.sqrt(sizes[0] / sizes), "k--", label=r"$\propto N^{-1/2}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples N")
    ax.set_ylabel(r"relative error of $PW$ vs $T\Sigma_W V_W^T$")
    ax.set_title(f"Isotropic input: error slope {slope:.2f}")
    ax.legend()
    save(fig, out, "isotropic_error_vs_n")

    # Raw, descrambled (largest N, last repeat), and the SVD prediction with its
    # signs matched to P W row by row in the smoothness basis.
    PW = result.apply(W, side="output")
    svd_rows = np.zeros_like(PW)
    svd_rows[: sigma.size] = sigma[:, None] * V.T
    signs = np.sign(np.sum((result.T.T @ PW) * svd_rows, axis=1, keepdims=True))
    predicted = result.T @ (signs * svd_rows)
    fig, axes = figure(1, 3, (14, 4.2))
    axes = axes[0]
    image(axes[0], W, "raw W", "input", "hidden neuron")
    image(axes[1], PW, f"descrambled P W (N = {sizes[-1]})", "input", "descrambled neuron")
    image(axes[2], predicted, r"$T \Sigma_W V_W^T$ (signs matched)", "input", "descrambled neuron")
    save(fig, out, "isotropic_weights")


if __name__ == "__main__":
    raise SystemExit(main(run, __doc__.splitlines()[0]))

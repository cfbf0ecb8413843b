"""Two-layer linear network: descrambling shows the modes being learned one by one.

PAPER.md section 5.3. Gradient flow of a two-layer linear network ``y = W2 W1 x``
from small random weights (Saxe, McClelland, Ganguli, ICLR 2014, arXiv:1312.6120)
drives the first layer to ``W1(t) = R A(t) V^T``: ``V`` holds the right singular
vectors of the input-output correlation, ``A(t)`` is diagonal and its entries grow
one after another in order of the modes' strengths, and ``R`` is an arbitrary
orthogonal matrix -- the scrambling that training leaves in the hidden layer.
Descrambling removes ``R``: ``P W1 = T A(t) V^T`` (Sule, Spencer, Czaja, ACHA 79
(2025) 101793, doi:10.1016/j.acha.2025.101793).

Task (signal recovery): the input is ``x = s + alpha * noise`` and the target is
``s``, where ``s = sum_k a_k z_k m_k`` mixes a few orthonormal patterns ``m_k``
(bumps on disjoint stretches of the input) with distinct strengths ``a_k``. The
input correlation ``E[x x^T]`` and the input-output correlation ``E[s x^T]`` then
share their eigenvectors, and the theory holds exactly.

The network is trained by full-batch gradient descent on the expected squared
error (the correlation matrices are known in closed form). At checkpoints the
hidden layer is descrambled from freshly sampled hidden data; the script reports
how far ``P W1`` is from the form ``T A V^T`` and when each mode is learned.

Run: ``python examples/linear_network.py --out figures/linear_network [--quick]``.
"""

from __future__ import annotations

import numpy as np

import descramble as ds
from _common import figure, image, main, save


def patterns(n_in: int, n_modes: int) -> np.ndarray:
    """``n_modes`` orthonormal half-sine bumps on disjoint stretches of the input (columns)."""
    width = n_in // n_modes
    M = np.zeros((n_in, n_modes))
    bump = np.sin(np.pi * (np.arange(width) + 0.5) / width)
    for k in range(n_modes):
        M[k * width : (k + 1) * width, k] = bump / np.linalg.norm(bump)
    return M


def train(sxx, syx, n_hidden, init, lr, steps, rng):
    """Gradient descent on ``E ||y - W2 W1 x||^2 / 2``; returns ``W1`` after every step.

    The gradient needs only the correlations: ``dL/dW1 = -W2^T (Syx - W2 W1 Sxx)`` and
    ``dL/dW2 = -(Syx - W2 W1 Sxx) W1^T``.
    """
    n_out, n_in = syx.shape
    W1 = init * rng.standard_normal((n_hidden, n_in))
    W2 = init * rng.standard_normal((n_out, n_hidden))
    history = [W1]
    for _ in range(steps):
        residual = syx - W2 @ W1 @ sxx
        W1, W2 = W1 + lr * (W2.T @ residual), W2 + lr * (residual @ W1.T)
        history.append(W1)
    return np.array(history)


def half_time(curve: np.ndarray) -> int:
    """First step at which a rising curve crosses half of its final value."""
    return int(np.argmax(curve >= 0.5 * curve[-1]))


def run(out: str, quick: bool = True, seed: int = 0, figures: bool = True) -> dict:
    """Train, descramble at checkpoints, and measure ``P W1`` against ``T A(t) V^T``.

    Returns the checkpoints, the relative deviation of ``P W1`` (and, for contrast,
    of the raw ``W1``) from the form ``T A V^T`` at each, the step at which each mode
    reaches half its final amplitude, and how well the descrambled diagonal matches
    the rotation-invariant amplitudes ``||W1 m_k||``.
    """
    rng = np.random.default_rng(seed)
    n_in, n_hidden, alpha = 32, 16, 0.5
    strengths = np.array([2.0, 1.4, 1.0, 0.7])  # a_k: the patterns' amplitudes
    M = patterns(n_in, strengths.size)
    signal = (M * strengths**2) @ M.T  # E[s s^T] = E[s x^T]
    sxx = signal + alpha**2 * np.eye(n_in)  # E[x x^T]
    syx = signal
    lr, steps = 0.05, 800
    n_samples = 20_000 if quick else 200_000

    # V: right singular vectors of the input-output correlation (the patterns, in
    # order of strength; their signs are fixed by M). Checked, not assumed: the
    # leading right singular vectors of Syx must be the patterns up to sign.
    V = M
    right = np.linalg.svd(syx)[2][: V.shape[1]]
    svd_alignment = float(np.min(np.abs(np.sum(right.T * V, axis=0))))
    history = train(sxx, syx, n_hidden, 1e-4, lr, steps, rng)
    amplitude = np.linalg.norm(history @ V, axis=1)  # ||W1 m_k||: rotation-invariant A_k(t)
    halves = np.array([half_time(amplitude[:, k]) for k in range(V.shape[1])])

    # Checkpoints: when each mode is half learned, and the end of training.
    checkpoints = sorted(set(halves.tolist()) | {steps})

    chol = np.linalg.cholesky(sxx)
    errors, raw_errors, diagonals, descrambled = [], [], [], []
    for step in checkpoints:
        W1 = history[step]
        X = rng.standard_normal((n_samples, n_in)) @ chol.T  # samples with E[x x^T] = sxx
        res = ds.descramble(X @ W1.T)
        PW1 = res.apply(W1, side="output")
        coeff = res.T.T @ PW1 @ V  # the matrix A(t), up to signs, if the theory holds
        diag = np.diag(coeff[: V.shape[1]])
        model = res.T[:, : V.shape[1]] @ (diag[:, None] * V.T)  # T A V^T
        errors.append(np.linalg.norm(PW1 - model) / np.linalg.norm(PW1))
        # The same measure without descrambling (P = I): the scrambled W1 is far from it.
        raw_diag = np.diag((res.T.T @ W1 @ V)[: V.shape[1]])
        raw_model = res.T[:, : V.shape[1]] @ (raw_diag[:, None] * V.T)
        raw_errors.append(np.linalg.norm(W1 - raw_model) / np.linalg.norm(W1))
        diagonals.append(np.abs(diag))
        descrambled.append(PW1)
    errors = np.array(errors)
    diagonals = np.array(diagonals)
    # The descrambled diagonal must match the rotation-invariant amplitudes ||W1 m_k||.
    amplitude_mismatch = float(
        np.max(
            np.abs(diagonals - amplitude[checkpoints]) / amplitude[checkpoints].max(axis=1)[:, None]
        )
    )

    if figures:
        _figures(out, history, checkpoints, descrambled, errors, amplitude, diagonals, strengths)
    return {
        "checkpoints": np.array(checkpoints),
        "relative_deviation": errors,
        "raw_relative_deviation": np.array(raw_errors),
        "half_times": halves,
        "final_amplitudes": amplitude[-1],
        "amplitude_mismatch": amplitude_mismatch,
        "svd_alignment": svd_alignment,
    }


def _figures(out, history, checkpoints, descrambled, errors, amplitude, diagonals, strengths):
    fig, axes = figure(1, len(checkpoints) + 1, (3.6 * (len(checkpoints) + 1), 4.2))
    axes = axes[0]
    image(axes[0], history[-1], f"raw W1 at step {len(history) - 1}", "input", "hidden neuron")
    for ax, step, PW1, err in zip(axes[1:], checkpoints, descrambled, errors, strict=True):
        image(
            ax,
            PW1,
            f"P W1 at step {step}\n(rel. dev. from T A V^T: {err:.1e})",
            "input",
            "descrambled neuron",
        )
    save(fig, out, "linear_network_descrambled_w1")

    fig, axes = figure(1, 1, (7, 4.5))
    ax = axes[0, 0]
    for k in range(amplitude.shape[1]):
        (line,) = ax.plot(amplitude[:, k], label=f"mode {k} (a = {strengths[k]:g})")
        ax.plot(checkpoints, diagonals[:, k], "o", color=line.get_color())
    ax.set_xlabel("gradient descent step")
    ax.set_ylabel(r"$A_k(t)$")
    ax.set_title(r"Modes learned one by one (lines: $\|W_1 m_k\|$, dots: diag of $T^T P W_1 V$)")
    ax.legend()
    save(fig, out, "linear_network_modes")


if __name__ == "__main__":
    raise SystemExit(main(run, __doc__.splitlines()[0]))

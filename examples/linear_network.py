"""Semantic development in a two-layer linear network, read off the descrambled hidden layer.

Saxe, McClelland and Ganguli (ICLR 2014, arXiv:1312.6120; PNAS 116 (2019)
11537) train a linear network ``y = W2 W1 x`` on items whose properties follow a
hierarchy. From small weights, gradient descent learns the input-output modes
(the singular vectors of the correlation ``Syx = E[y x^T]``) one after another:
with whitened inputs the strength of mode ``i`` follows a sigmoid whose
half-learning time is proportional to ``tau / s_i``, ``s_i`` its singular value.
Throughout, ``W1(t) = R A(t) V^T`` with an arbitrary orthogonal ``R`` (the
scrambling of the hidden neurons). Descrambling the hidden layer removes ``R``:
``P W1 = T A(t) V^T`` (Sule, Spencer, Czaja, ACHA 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793), so the modes appear on the smoothness modes
``T`` in order of strength.

Data, generated here: 8 items at the leaves of a binary tree of depth 3; every
node of the tree carries properties that all items below it share. Nodes near
the root carry more of them (broad features are common), and siblings carry
different numbers so that no two modes have the same singular value (with equal
numbers the modes within one level would tie and be undetermined). Inputs are
the items' one-hot codes, so ``Sxx = I / 8`` is white and the theory applies.

Claim, figure, number (``--quick`` prints them as JSON):

* modes are learned in the order of their singular values, and the half-learning
  times read off the *descrambled* weights follow ``t_half = tau / s``: the least
  squares fit of that law has ``timescale_r2`` >= 0.95 (0.999 with the default
  seed); figure ``linear_network_timescales.png``;
* at every checkpoint (each mode's half-learning time and the end) the
  descrambled weights are ``P W1 = T A(t) V^T`` in the neuron basis itself:
  ``max_relative_deviation`` is below 1 % and every learned mode ``i`` sits on the
  ``i``-th smoothness mode (``min_learned_mode_alignment`` > 0.99). ``T`` here is
  the reference Neumann basis computed by numpy, ``A(t)`` the rotation-invariant
  amplitudes ``||W1 v_i||`` and ``V`` the item modes from the SVD of ``Syx``:
  nothing in the comparison comes from the descrambler, so a random orthogonal
  ``P``, the right ``P`` with its slots in the wrong order, or a descrambler for
  a different smoothness basis all fail it (``controls`` in the JSON); figure
  ``linear_network_descrambled_w1.png``.

Run: ``python examples/linear_network.py --out figures/linear_network [--quick]``.
"""

from __future__ import annotations

import numpy as np

import descramble as ds
from _common import figure, image, main, save

SMOOTHNESS = "neumann"  # no tied eigenvalues: every slot of P is determined by the data
DEPTH = 3


def hierarchical_properties(depth: int) -> np.ndarray:
    """Items x properties matrix of a binary tree with ``2**depth`` leaves (the items).

    Node ``b`` (counted from the left) of level ``l`` carries ``2 (depth - l) + b + 1``
    properties, and an item has a property when the node carrying it is one of
    its ancestors (or the item's own leaf).
    """
    n_items = 2**depth
    columns = []
    for level in range(depth + 1):
        size = n_items >> level
        for b in range(2**level):
            below = np.zeros(n_items)
            below[b * size : (b + 1) * size] = 1.0
            columns += [below] * (2 * (depth - level) + b + 1)
    return np.array(columns).T


def train(sxx, syx, n_hidden, init, lr, steps, rng):
    """Full-batch gradient descent on ``E ||y - W2 W1 x||^2 / 2``; every step's weights.

    The gradient needs only the correlations: ``dL/dW1 = -W2^T (Syx - W2 W1 Sxx)`` and
    ``dL/dW2 = -(Syx - W2 W1 Sxx) W1^T``. Returns the stacked ``W1`` and ``W2``.
    """
    n_out, n_in = syx.shape
    W1 = init * rng.standard_normal((n_hidden, n_in))
    W2 = init * rng.standard_normal((n_out, n_hidden))
    history1, history2 = [W1], [W2]
    for _ in range(steps):
        residual = syx - W2 @ W1 @ sxx
        W1, W2 = W1 + lr * (W2.T @ residual), W2 + lr * (residual @ W1.T)
        history1.append(W1)
        history2.append(W2)
    return np.array(history1), np.array(history2)


def reference_basis(n: int) -> np.ndarray:
    """Eigenvectors of the Neumann second difference ``L = D^T D`` by numpy, smoothest first.

    Built here from its stencil, independently of the library, as the fixed basis
    the descrambled weights are compared in.
    """
    D = -2.0 * np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)
    D[0, 0] = D[-1, -1] = -1.0  # reflecting ends
    return np.linalg.eigh(D.T @ D)[1]


def descrambled_weights(W1: np.ndarray, smoothness=SMOOTHNESS) -> np.ndarray:
    """``P W1`` with ``P`` the descrambler of the hidden layer's responses to every item."""
    hidden = W1.T  # one-hot items: row j of the hidden data is W1's column j
    return ds.descramble(hidden, smoothness=smoothness).apply(W1, side="output")


def mode_exposure(PW1: np.ndarray, W1: np.ndarray, T: np.ndarray, V: np.ndarray) -> dict:
    """How far ``PW1`` is from ``T A V^T``, in the neuron basis.

    ``A = diag(||W1 v_i||)`` holds the rotation-invariant mode amplitudes; each
    mode's sign is free (the descrambler's columns are defined up to sign), so it
    is taken from the data. Returns the relative Frobenius deviation and, per
    mode, the alignment ``|t_i^T PW1 v_i| / ||W1 v_i||`` (1 when mode ``i`` of
    ``W1`` lands entirely on the ``i``-th smoothness mode).
    """
    k = V.shape[1]
    amplitude = np.linalg.norm(W1 @ V, axis=0)
    projection = np.einsum("ni,nm,mi->i", T[:, :k], PW1, V)
    sign = np.where(projection < 0, -1.0, 1.0)
    model = (T[:, :k] * (sign * amplitude)) @ V.T
    return {
        "relative_deviation": float(np.linalg.norm(PW1 - model) / np.linalg.norm(PW1)),
        "alignment": np.abs(projection) / amplitude,
        "amplitude": amplitude,
    }


def half_times(curves: np.ndarray) -> np.ndarray:
    """First step at which each rising column crosses half of its final value."""
    return np.argmax(curves >= 0.5 * curves[-1], axis=0)


def timescale_fit(half: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """Least-squares fit of ``t_half = tau / s``: ``(tau, R^2)``."""
    x = 1.0 / s
    tau = float(x @ half / (x @ x))
    residual = half - tau * x
    return tau, float(1.0 - residual @ residual / np.sum((half - half.mean()) ** 2))


def controls(W1, PW1, T, V, rng) -> dict:
    """The exposure measure on descramblers that are wrong in one way each."""
    hidden = W1.T
    Q = np.linalg.qr(rng.standard_normal((W1.shape[0],) * 2))[0]
    # The right eigenvectors of G, but the weakest principal direction on the smoothest slot.
    U = np.linalg.eigh(hidden.T @ hidden)[1]  # ascending eigenvalues
    reversed_order = T @ U.T @ W1
    candidates = {
        "random_orthogonal": Q @ W1,
        "reversed_order": reversed_order,
        "fourier_basis": descrambled_weights(W1, smoothness="fourier"),
        "dirichlet_basis": descrambled_weights(W1, smoothness="dirichlet"),
        "no_descrambling": W1,
    }
    return {
        name: mode_exposure(M, W1, T, V)["relative_deviation"] for name, M in candidates.items()
    }


def run(out: str, quick: bool = True, seed: int = 0, figures: bool = True) -> dict:
    """Train on the hierarchy, descramble every step, and measure the modes and their timing.

    Returns the singular values, the half-learning times read off the descrambled
    weights (and, as a check, off the network's input-output map), the fitted
    ``tau`` and ``timescale_r2``, the deviation of ``P W1`` from ``T A V^T`` and the
    learned modes' alignment at every checkpoint, and the same deviation for the
    wrong descramblers of :func:`controls` at the last checkpoint.
    """
    rng = np.random.default_rng(seed)
    Y = hierarchical_properties(DEPTH)
    n_items = Y.shape[0]
    n_hidden = 16
    sxx = np.eye(n_items) / n_items
    syx = Y.T / n_items
    U_out, s, Vt = np.linalg.svd(syx, full_matrices=False)
    V = Vt.T  # item modes, strongest first
    # Gradient flow is approached by small steps; the full run takes finer ones.
    lr, steps = (0.05, 3500) if quick else (0.01, 17_500)
    # The smaller the initial weights, the closer the modes are to decoupled (the
    # approach is only logarithmic in the scale): 1e-6 keeps mid-learning deviations
    # from T A V^T to a few per cent.
    history1, history2 = train(sxx, syx, n_hidden, 1e-6, lr, steps, rng)

    T = reference_basis(n_hidden)
    descrambled = np.array([descrambled_weights(W1) for W1 in history1])
    # Mode strength in the descrambled layer: the norm of P W1 along smoothness mode i.
    slot_amplitude = np.linalg.norm(np.einsum("ni,tnm->tim", T[:, :n_items], descrambled), axis=2)
    # The same from the network's input-output map u_i = u_i^T W2 W1 v_i (no descrambling);
    # balanced weights make it the square of the first layer's amplitude.
    network_map = np.einsum("pi,tph,thm,mi->ti", U_out, history2, history1, V)
    half = half_times(slot_amplitude**2)
    half_map = half_times(network_map)
    tau, r2 = timescale_fit(half, s)

    checkpoints = sorted(set(half.tolist()) | {steps})
    exposures = [mode_exposure(descrambled[c], history1[c], T, V) for c in checkpoints]
    deviation = np.array([e["relative_deviation"] for e in exposures])
    learned_alignment = np.array(
        [
            np.min(e["alignment"][e["amplitude"] ** 2 >= 0.5 * slot_amplitude[-1] ** 2])
            for e in exposures
        ]
    )
    numbers = {
        "singular_values": s,
        "half_times": half,
        "half_times_from_network_map": half_map,
        "tau": tau,
        "timescale_r2": r2,
        "checkpoints": np.array(checkpoints),
        "relative_deviation": deviation,
        "max_relative_deviation": float(deviation.max()),
        "learned_mode_alignment": learned_alignment,
        "min_learned_mode_alignment": float(learned_alignment.min()),
        "controls": controls(history1[-1], descrambled[-1], T, V, rng),
    }
    if figures:
        shown = [checkpoints[0], checkpoints[2], checkpoints[5], checkpoints[-1]]
        _figures(out, history1, descrambled, T, shown, slot_amplitude, s, half, tau, r2)
    return numbers


def _figures(out, history1, descrambled, T, shown, slot_amplitude, s, half, tau, r2):
    k = s.size
    fig, axes = figure(2, len(shown) + 1, (3.4 * (len(shown) + 1), 7.5))
    image(axes[0, 0], history1[-1], "raw W1 (end)", "item", "hidden neuron")
    image(axes[1, 0], T.T @ history1[-1], "T^T W1 (end)", "item", "smoothness mode")
    for col, step in enumerate(shown, start=1):
        image(axes[0, col], descrambled[step], f"P W1, step {step}", "item", "descrambled neuron")
        image(
            axes[1, col],
            (T.T @ descrambled[step])[:k],
            f"T^T P W1 = A V^T, step {step}",
            "item",
            "smoothness mode",
        )
    save(fig, out, "linear_network_descrambled_w1")

    fig, axes = figure(1, 2, (12, 4.5))
    ax = axes[0, 0]
    for i in range(k):
        (line,) = ax.plot(slot_amplitude[:, i] ** 2, label=f"mode {i} (s = {s[i]:.2f})")
        ax.axvline(half[i], color=line.get_color(), ls=":", lw=0.8)
    ax.set_xlabel("gradient descent step")
    ax.set_ylabel(r"$\|t_i^T P W_1\|^2$")
    ax.set_title("mode strengths in the descrambled layer")
    ax.legend(fontsize=7, loc="center right")
    ax = axes[0, 1]
    x = np.linspace(0.0, 1.05 / s.min(), 50)
    ax.plot(1.0 / s, half, "o", label="half-learning step")
    ax.plot(x, tau * x, "-", label=rf"$\tau / s$, $\tau$ = {tau:.1f}, $R^2$ = {r2:.4f}")
    ax.set_xlabel("1 / singular value")
    ax.set_ylabel("half-learning step")
    ax.set_title("half-learning times follow tau / s")
    ax.legend()
    save(fig, out, "linear_network_timescales")


if __name__ == "__main__":
    raise SystemExit(main(run, __doc__.splitlines()[0]))

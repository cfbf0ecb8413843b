"""Convolutions: the descrambler of a circular convolution permutes Fourier modes.

PAPER.md section 5.4. A 1-D circular stride-1 convolution is a circulant matrix
``W``, diagonalised by the real Fourier modes, and so is the periodic smoothness
operator ``L``. With isotropic input the hidden Gram matrix ``N W W^T`` is circulant
too, so the descrambler ``P = T U^T`` only moves Fourier modes: the frequency with
the ``i``-th largest gain ``|h(k)|`` goes to the ``i``-th smoothest slot. For a
low-pass kernel the gains already fall with frequency, every cos/sin pair stays
where it is, and ``P W = W`` up to a rotation inside each pair (which the tied
eigenvalues leave free): descrambling does nothing to such a CNN (Sule, Spencer,
Czaja, ACHA 79 (2025) 101793, doi:10.1016/j.acha.2025.101793).

The script measures, weighted by the energy of ``W`` at each frequency, how much of
it the descrambler moves to a frequency other than the predicted one (the
"leakage"), for a low-pass and a band-pass kernel. It then scrambles the hidden
units of the low-pass layer with a random permutation and asks the permutation
descrambler (``group="permutation"``, Amey et al., PNAS 118(5) e2016917118 (2021),
doi:10.1073/pnas.2016917118) to recover their order, which is determined up to the
symmetries of the circle (cyclic shifts and reflections).

Run: ``python examples/convolution.py --out figures/convolution [--quick]``.
"""

from __future__ import annotations

import numpy as np

import descramble as ds
from _common import figure, image, main, note, save, tied_blocks


def circulant(kernel: np.ndarray) -> np.ndarray:
    """The matrix of circular convolution with ``kernel``: ``W[i, j] = kernel[(i - j) % n]``."""
    n = kernel.size
    idx = (np.arange(n)[:, None] - np.arange(n)[None, :]) % n
    return kernel[idx]


def kernels(n: int) -> dict:
    """A low-pass (Gaussian blur) and a band-pass kernel, both real and even.

    The band-pass gains ``exp(-|k - k0 - 0.3| / 2)`` peak near ``k0 = n / 8``; the
    offset 0.3 keeps frequencies on either side of the peak from having equal gains
    (which would tie them in the Gram matrix and leave their order undetermined).
    """
    d = np.minimum(np.arange(n), n - np.arange(n))  # circular distance to tap 0
    gauss = np.exp(-0.5 * (d / 2.0) ** 2)
    k = np.arange(n // 2 + 1)
    gains = np.exp(-np.abs(k - n // 8 - 0.3) / 2)
    return {"low-pass": gauss / gauss.sum(), "band-pass": np.fft.irfft(gains, n)}


def frequency_blocks(lam: np.ndarray) -> list:
    """Tied blocks of the smoothness eigenvalues: one block per frequency."""
    return tied_blocks(lam)


def leakage(result, W: np.ndarray) -> float:
    """Fraction of the energy of ``P W`` that lands outside its predicted Fourier slots.

    Each frequency block ``B`` of ``T`` carries ``e_B = ||T_B^T W||^2`` of ``W``. The
    blocks sorted by decreasing ``e_B`` fill the smoothness slots in ascending order;
    the block ``B`` is predicted to land on the slots ``S_B`` at its rank. The
    leakage is ``sum_B ||(I - T_S T_S^T) P T_B T_B^T W||^2 / ||W||^2``: zero when
    ``P`` permutes Fourier modes as the theory says, whatever it does inside ties.
    """
    T = result.T
    blocks = frequency_blocks(result.lam)
    energy = np.array([np.sum((T[:, b].T @ W) ** 2) for b in blocks])
    # Pairs of a real kernel have equal gains, so a pair fills two consecutive slots.
    per_mode = np.concatenate(
        [np.full(b.size, e / b.size) for b, e in zip(blocks, energy, strict=True)]
    )
    owner = np.concatenate([np.full(b.size, i) for i, b in enumerate(blocks)])
    ranked_owner = owner[np.argsort(-per_mode, kind="stable")]
    lost = 0.0
    for i, b in enumerate(blocks):
        slots = np.flatnonzero(ranked_owner == i)
        # The image of block b under P is P T_b T_b^T W; keep what is outside the slots.
        image_b = T.T @ result.apply(T[:, b] @ (T[:, b].T @ W), side="output")
        outside = np.delete(image_b, slots, axis=0)
        lost += float(np.sum(outside**2))
    return lost / float(np.sum(W**2))


def predicted_slots(result, W: np.ndarray) -> np.ndarray:
    """``T^T P T`` as the theory predicts it up to ties: 1 where block B meets its slots."""
    T = result.T
    blocks = frequency_blocks(result.lam)
    n = T.shape[1]
    energy = np.array([np.sum((T[:, b].T @ W) ** 2) for b in blocks])
    per_mode = np.concatenate(
        [np.full(b.size, e / b.size) for b, e in zip(blocks, energy, strict=True)]
    )
    owner = np.concatenate([np.full(b.size, i) for i, b in enumerate(blocks)])
    ranked_owner = owner[np.argsort(-per_mode, kind="stable")]
    mask = np.zeros((n, n), dtype=bool)
    for i, b in enumerate(blocks):
        mask[np.ix_(np.flatnonzero(ranked_owner == i), b)] = True
    return mask


def identity_gap(result, G: np.ndarray) -> float:
    """Relative excess of ``P = I`` over the certified optimum ``sum_i lambda_i mu_i``.

    Zero means "doing nothing" is an optimal descrambler: the tie-free statement of
    ``P W = W``.
    """
    L = (result.T * result.lam) @ result.T.T
    return float((np.trace(L @ G) - result.lower_bound) / abs(result.lower_bound))


def align_ties(result) -> np.ndarray:
    """The optimal descrambler closest to the identity when ``P`` keeps every frequency.

    Inside each tied frequency block the data leave the rotation free; choosing it by
    orthogonal Procrustes turns ``P`` into ``P Q`` with ``Q = T diag(R_B) T^T``.
    """
    T = result.T
    transfer = T.T @ result.P @ T
    R = np.zeros_like(transfer)
    for b in frequency_blocks(result.lam):
        u, _, vt = np.linalg.svd(transfer[np.ix_(b, b)])
        R[np.ix_(b, b)] = (u @ vt).T
    return result.P @ (T @ R @ T.T)


def dihedral_offset(order: np.ndarray) -> tuple:
    """``(shift, reflected)`` if ``order`` is a rotation or reflection of ``0..n-1``, else None."""
    n = order.size
    steps = (np.diff(order) % n).astype(int)
    if np.all(steps == 1):
        return int(order[0]), False
    if np.all(steps == n - 1):
        return int(order[0]), True
    return None


def permutation_recovery(W: np.ndarray, X: np.ndarray, rng: np.random.Generator) -> tuple:
    """Scramble the hidden units of ``W`` and recover their order with a permutation descrambler.

    Returns the numbers (or why the solver is unavailable) and the scrambled and
    recovered weights (``None`` when unavailable).
    """
    n = W.shape[0]
    scramble = rng.permutation(n)
    scrambled = W[scramble]  # hidden unit i of the scrambled layer is unit scramble[i]
    try:
        res = ds.descramble(X @ scrambled.T, group="permutation")
    except NotImplementedError as exc:
        return {"available": False, "reason": str(exc)}, None
    P = np.asarray(res.P)
    # The objective of the true order, for comparison with the solver's.
    H = X @ W.T
    L = (res.T * res.lam) @ res.T.T
    true_objective = float(np.sum(L * (H.T @ H)))
    # Row i of P picks the scrambled unit placed at position i; map back to true units.
    recovered = scramble[np.argmax(np.abs(P), axis=1)]
    symmetry = dihedral_offset(recovered)
    return {
        "available": True,
        "recovered_order": recovered,
        "dihedral": symmetry is not None,
        "shift": None if symmetry is None else symmetry[0],
        "reflected": None if symmetry is None else symmetry[1],
        "gap": float(res.gap),
        "objective": float(res.objective),
        "lower_bound": float(res.lower_bound),
        "true_order_objective": true_objective,
    }, (scrambled, res.apply(scrambled, side="output"))


def run(out: str, quick: bool = True, seed: int = 0, figures: bool = True) -> dict:
    """Descramble circular convolutions with low-pass and band-pass kernels.

    Returns, per kernel, the leakage of ``P`` out of the predicted Fourier slots
    (sampled and exact Gram), how far the identity is from optimal, and how far
    ``P W`` is from ``W`` as returned and up to the tied pair rotations; then the
    outcome of the permutation descrambler on a scrambled low-pass layer.
    """
    rng = np.random.default_rng(seed)
    n = 32
    n_samples = 20_000 if quick else 400_000
    X = rng.standard_normal((n_samples, n))  # isotropic input

    numbers: dict = {}
    panels = []
    for name, kernel in kernels(n).items():
        W = circulant(kernel)
        H = X @ W.T
        sampled = ds.descramble(H)
        exact = ds.descramble(ds.Gram(W @ W.T))
        PW = sampled.apply(W, side="output")
        key = name.replace("-", "_")
        numbers[f"{key}_leakage_sampled"] = leakage(sampled, W)
        numbers[f"{key}_leakage_exact"] = leakage(exact, W)
        numbers[f"{key}_identity_gap_exact"] = identity_gap(exact, W @ W.T)
        numbers[f"{key}_identity_gap_sampled"] = identity_gap(sampled, H.T @ H)
        # Tie-blind form of "P W = W": the descrambled layer has the same W W^T.
        numbers[f"{key}_gram_deviation"] = float(
            np.linalg.norm(PW @ PW.T - W @ W.T) / np.linalg.norm(W @ W.T)
        )
        numbers[f"{key}_identity_deviation"] = float(np.linalg.norm(PW - W) / np.linalg.norm(W))
        mask = predicted_slots(sampled, W)
        numbers[f"{key}_keeps_every_frequency"] = bool(np.array_equal(mask, mask.T))
        aligned = align_ties(sampled) @ W
        if name == "low-pass":
            numbers["low_pass_identity_deviation_up_to_ties"] = float(
                np.linalg.norm(aligned - W) / np.linalg.norm(W)
            )
            numbers["low_pass_identity_deviation_up_to_ties_exact"] = float(
                np.linalg.norm(align_ties(exact) @ W - W) / np.linalg.norm(W)
            )
        panels.append((name, W, PW, aligned, sampled.T.T @ sampled.P @ sampled.T))

    perm, scrambled = permutation_recovery(circulant(kernels(n)["low-pass"]), X, rng)
    if not perm["available"]:
        note(f"permutation descrambler not available ({perm['reason']}); part skipped")
    numbers["permutation"] = perm
    if figures:
        _figures(out, panels, n_samples, scrambled)
    return numbers


def _figures(out, panels, n_samples, scrambled) -> None:
    fig, axes = figure(2, 3, (14, 8))
    for row, (name, W, PW, _, transfer) in enumerate(panels):
        image(axes[row, 0], W, f"{name} convolution W", "input", "hidden unit")
        image(axes[row, 1], PW, f"descrambled P W (N = {n_samples})", "input", "descrambled unit")
        image(
            axes[row, 2],
            np.abs(transfer),
            "|T^T P T|: where P sends each Fourier mode",
            "Fourier mode of the input (T column)",
            "Fourier slot after P",
            cmap="viridis",
        )
    save(fig, out, "convolution_fourier_modes")

    name, W, PW, aligned, _ = panels[0]
    fig, axes = figure(1, 3, (14, 4.2))
    axes = axes[0]
    image(axes[0], W, f"{name} W", "input", "hidden unit")
    image(axes[1], PW, "P W as returned (pairs rotated)", "input", "descrambled unit")
    image(axes[2], aligned, "P W, pair rotations chosen nearest I", "input", "descrambled unit")
    save(fig, out, "convolution_low_pass_up_to_ties")

    if scrambled is not None:
        fig, axes = figure(1, 2, (10, 4.2))
        axes = axes[0]
        image(axes[0], scrambled[0], "low-pass W, hidden units permuted", "input", "hidden unit")
        image(axes[1], scrambled[1], "after the permutation descrambler", "input", "hidden unit")
        save(fig, out, "convolution_permutation_recovery")


if __name__ == "__main__":
    raise SystemExit(main(run, __doc__.splitlines()[0]))

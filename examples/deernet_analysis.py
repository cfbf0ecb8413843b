"""DEERNet: what the descrambled layers show, and where it comes from (PAPER.md section 5.5).

Amey et al. (PNAS 118(5) e2016917118 (2021), doi:10.1073/pnas.2016917118)
descrambled the first layer of DEERNet, a network mapping DEER traces to distance
distributions, and saw a band-pass filter with a notch in the centred 2-D DFT of
``P W1``. Sule, Spencer and Czaja (ACHA 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793) traced the notch to the principal components of
the input data (the 2-D DFT of ``U_K Sigma_K``, ``K = E[x x^T]``, against that of
``Sigma_W V_W^T``) and noted that the output layer's principal components look
like Chebyshev polynomials.

This script repeats the analysis on the small DEERNet shipped with the package
(``descramble.deernet.load()``, 256 -> 80 tanh -> 256) and fresh traces from
``descramble.deer``, and measures each claim:

* band-pass: the power gain of ``W1`` per input frequency (summed over neurons; a
  descrambler, being orthogonal on the neuron side, cannot change it) peaks away
  from zero; descrambling gathers the 2-D DFT energy at low neuron frequencies,
  which is what makes the filter readable;
* notch: the frequency ``W1`` suppresses is zero, exactly where the traces put
  nearly all their energy (the data's leading principal component is almost
  constant); the 2-D DFTs of ``Sigma_W V_W^T`` and ``Sigma_K U_K^T`` are compared
  by the correlation of their log magnitudes;
* output layer: the ``j``-th principal component of the network's outputs has
  ``j + 1`` sign changes on the distances the data cover, like ``T_{j+1}``; its
  Chebyshev fits (R^2) and the positions of its zeros (against Chebyshev nodes and
  evenly spaced points) say how far the resemblance goes.

Run: ``python examples/deernet_analysis.py --out figures/deernet [--quick]``.
"""

from __future__ import annotations

import numpy as np

import descramble as ds
from _common import figure, image, main, note, save


def leading_eigenpairs(A: np.ndarray) -> tuple:
    """Eigenpairs of a symmetric matrix, largest first (the library's eigensolver)."""
    w, V = ds.eigh(A)
    return w[::-1], V[:, ::-1]


def frequency_power(A: np.ndarray) -> np.ndarray:
    """Power of the rows of ``A`` per input frequency ``0 .. m/2`` (summed over rows).

    Equals ``diag(F A^T A F^H)``: the same for ``A`` and ``P A`` with ``P`` orthogonal.
    """
    return np.sum(np.abs(np.fft.rfft(A, axis=1)) ** 2, axis=0)


def low_neuron_frequency_share(A: np.ndarray, k_max: int = 4) -> float:
    """Share of the 2-D DFT energy of ``A`` at neuron frequencies ``|k| <= k_max``."""
    power = np.abs(np.fft.fft2(A)) ** 2
    k = np.abs(np.fft.fftfreq(A.shape[0], d=1.0 / A.shape[0]))
    return float(power[k <= k_max].sum() / power.sum())


def half_power_band(power: np.ndarray) -> tuple:
    """First and last frequency whose power is at least half the peak's."""
    above = np.flatnonzero(power >= 0.5 * power.max())
    return int(above[0]), int(above[-1])


def log_magnitude_correlation(A: np.ndarray, B: np.ndarray) -> float:
    """Pearson correlation of ``log |fft2|`` of two equally shaped matrices."""
    a = np.log(ds.plot.centred_dft2(A) + 1e-300).ravel()
    b = np.log(ds.plot.centred_dft2(B) + 1e-300).ravel()
    return float(np.corrcoef(a, b)[0, 1])


def zeros_of(values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Sign changes of sampled values, located by linear interpolation."""
    i = np.flatnonzero(np.sign(values[1:]) != np.sign(values[:-1]))
    return x[i] - values[i] * (x[i + 1] - x[i]) / (values[i + 1] - values[i])


def output_components(net, traces: np.ndarray, n_components: int) -> dict:
    """Principal components of the network's outputs on the distances the data cover."""
    outputs = net.predict(traces)
    centred = outputs - outputs.mean(axis=0)
    variances, vectors = leading_eigenpairs(centred.T @ centred)
    vt = vectors.T
    spread = centred.std(axis=0)
    # The support: distances where the outputs vary by at least a fifth of the most.
    support = np.flatnonzero(spread >= 0.2 * spread.max())
    r = net.distance[support[0] : support[-1] + 1]
    a, b = float(r[0]), float(r[-1])
    x = np.clip((2.0 * r - a - b) / (b - a), -1.0, 1.0)
    comps = vt[:n_components, support[0] : support[-1] + 1].T
    degrees = np.arange(n_components) + 1  # centring removed the constant: PC j ~ degree j + 1
    fit = ds.plot.chebyshev_fit(comps, degree=degrees, x=x)
    fit_plus2 = ds.plot.chebyshev_fit(comps, degree=degrees + 2, x=x)
    zero_counts, cheb_dev, even_dev = [], [], []
    for j in range(n_components):
        z = np.sort(zeros_of(comps[:, j], x))
        zero_counts.append(z.size)
        m = j + 1
        chebyshev_nodes = np.cos((2 * np.arange(m, 0, -1) - 1) * np.pi / (2 * m))
        even = -1.0 + 2.0 * np.arange(1, m + 1) / (m + 1)
        if z.size == m:  # distances in units of the support's half-length
            cheb_dev.append(float(np.mean(np.abs(z - chebyshev_nodes))))
            even_dev.append(float(np.mean(np.abs(z - even))))
        else:
            cheb_dev.append(float("nan"))
            even_dev.append(float("nan"))
    return {
        "support_nm": (a, b),
        "x": x,
        "components": comps,
        "variance_share": variances[:n_components] / np.sum(variances),
        "r2": fit.r2,
        "r2_plus2": fit_plus2.r2,
        "zero_counts": np.array(zero_counts),
        "zero_dev_chebyshev": np.array(cheb_dev),
        "zero_dev_even": np.array(even_dev),
    }


def run(out: str, quick: bool = True, seed: int = 0, figures: bool = True) -> dict:
    """Descramble the shipped DEERNet on fresh traces and measure the papers' claims.

    Returns the first layer's band-pass and notch figures of merit, the comparison
    with the data's spectrum, and the output components' Chebyshev statistics.
    """
    net = ds.deernet.load()
    n_traces = 4_000 if quick else 50_000
    traces = net.simulate(n_traces, seed).traces
    W1 = net.W1

    # First layer, tapped before tanh: descrambled weights P W1.
    result = ds.descramble(net.preactivations(traces))
    PW1 = result.apply(W1, side="output")
    gain = frequency_power(W1)
    peak = int(np.argmax(gain))
    band = half_power_band(gain)

    # Data: K = E[x x^T] = U_K Sigma_K^2 U_K^T, Sigma_K the data matrix's singular values
    # over sqrt(N); its rows Sigma_K U_K^T are the papers' U_K Sigma_K, transposed so that
    # both 2-D DFTs have component x time axes.
    mu, U = leading_eigenpairs(traces.T @ traces / n_traces)
    data_rows = (U * np.sqrt(np.maximum(mu, 0.0))).T  # Sigma_K U_K^T: component x time
    # Sigma_W V_W^T = U_W^T W1, with U_W the eigenvectors of W1 W1^T (largest first).
    weight_rows = leading_eigenpairs(W1 @ W1.T)[1].T @ W1
    data_power = frequency_power(data_rows)
    n_hidden = W1.shape[0]
    top_pc = U[:, 0]
    # RMS gain of W1 on a unit-norm Fourier mode of each frequency.
    fourier_gains = np.sqrt(gain / W1.shape[1])

    outputs = output_components(net, traces, 8)

    numbers = {
        "n_traces": n_traces,
        "objective": float(result.objective),
        "lower_bound": float(result.lower_bound),
        "gain_peak_frequency": peak,
        "gain_half_power_band": band,
        "gain_dc_over_peak": float(gain[0] / gain[peak]),
        "low_neuron_frequency_share_raw": low_neuron_frequency_share(W1),
        "low_neuron_frequency_share_descrambled": low_neuron_frequency_share(PW1),
        "notch_frequency": int(np.argmin(gain[: peak + 1])),
        "data_peak_frequency": int(np.argmax(data_power)),
        "data_dc_share": float(data_power[0] / data_power.sum()),
        "data_top_pc_constant_overlap": float(abs(top_pc.sum()) / np.sqrt(top_pc.size)),
        "notch_depth": float(gain[0] / np.mean(gain[1:4])),
        "w1_gain_on_data_top_pc_over_peak_gain": float(
            np.linalg.norm(W1 @ top_pc) / fourier_gains[peak]
        ),
        "dft_log_correlation_weights_vs_data": log_magnitude_correlation(
            weight_rows, data_rows[:n_hidden]
        ),
        "dft_log_correlation_weights_vs_shuffled_data": log_magnitude_correlation(
            weight_rows, np.random.default_rng(seed).permutation(data_rows[:n_hidden].T).T
        ),
        "gain_power_log_correlation_with_data": float(
            np.corrcoef(np.log(gain), np.log(data_power))[0, 1]
        ),
        "output_support_nm": outputs["support_nm"],
        "output_pc_variance_share": outputs["variance_share"],
        "output_pc_zero_counts": outputs["zero_counts"],
        "output_pc_chebyshev_r2_degree_j+1": outputs["r2"],
        "output_pc_chebyshev_r2_degree_j+3": outputs["r2_plus2"],
        "output_pc_zero_deviation_from_chebyshev_nodes": outputs["zero_dev_chebyshev"],
        "output_pc_zero_deviation_from_even_spacing": outputs["zero_dev_even"],
    }
    if figures:
        _figures(out, W1, PW1, weight_rows, data_rows[:n_hidden], gain, data_power, outputs)
    if np.nanmean(outputs["zero_dev_even"]) < np.nanmean(outputs["zero_dev_chebyshev"]):
        note(
            "the output principal components have the zero counts of Chebyshev polynomials, "
            "but their zeros are evenly spaced rather than clustered at the ends"
        )
    return numbers


def _figures(out, W1, PW1, weight_rows, data_rows, gain, data_power, outputs) -> None:
    fig, axes = figure(2, 2, (13, 9))
    image(axes[0, 0], W1, "raw W1", "input (time point)", "hidden neuron")
    image(axes[0, 1], PW1, "descrambled P W1", "input (time point)", "descrambled neuron")
    ds.plot.spectrum2d(W1, ax=axes[1, 0], title="|centred 2-D DFT| of raw W1")
    ds.plot.spectrum2d(PW1, ax=axes[1, 1], title="|centred 2-D DFT| of P W1")
    save(fig, out, "deernet_first_layer")

    fig, axes = figure(1, 3, (18, 4.8))
    ds.plot.spectrum2d(weight_rows, ax=axes[0, 0], title=r"2-D DFT of $\Sigma_W V_W^T$")
    ds.plot.spectrum2d(
        data_rows, ax=axes[0, 1], title=r"2-D DFT of $(U_K \Sigma_K)^T$ (leading 80)"
    )
    ax = axes[0, 2]
    ax.semilogy(gain / gain.max(), label="W1 power gain")
    ax.semilogy(data_power / data_power.max(), label="data power (K)")
    ax.axvline(int(np.argmin(gain[: int(np.argmax(gain)) + 1])), color="k", ls=":", label="notch")
    ax.set_xlabel("input frequency (cycles per trace)")
    ax.set_ylabel("power / maximum")
    ax.set_title("band-pass gain of W1 against the data's spectrum")
    ax.set_xlim(-1, 64)
    ax.legend()
    save(fig, out, "deernet_notch")

    fig = ds.plot.chebyshev(
        outputs["components"],
        degree=np.arange(outputs["components"].shape[1]) + 1,
        x=outputs["x"],
        title="output principal components on the data's distances, Chebyshev fits",
    )
    save(fig, out, "deernet_output_components")


if __name__ == "__main__":
    raise SystemExit(main(run, __doc__.splitlines()[0]))

"""The papers' experiments as runnable examples: each claim's number, guarded.

Each example in ``examples/`` exposes ``run(out, quick=True, seed=0, figures=True)``
returning a dict of numbers; the tests call it at small sizes without drawing and
assert the paper's claim quantitatively, then run every script once as a
subprocess with ``--quick`` the way a user would, figures included.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import descramble as ds

pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = ["isotropic", "linear_network", "convolution", "deernet_analysis", "transformer_mlp"]


def load(name: str):
    """Import ``examples/<name>.py`` by path (the tests must not depend on the cwd)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))  # the examples import their _common helpers
    spec = importlib.util.spec_from_file_location(
        f"descramble_example_{name}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_quick(tmp_path_factory, name: str, folder: str | None = None):
    """Run ``examples/<name>.py`` at its quick size without figures: (output dir, numbers)."""
    out = tmp_path_factory.mktemp(folder or name)
    return out, load(name).run(str(out), quick=True, seed=0, figures=False)


@pytest.fixture(scope="module")
def isotropic(tmp_path_factory):
    return run_quick(tmp_path_factory, "isotropic")


@pytest.fixture(scope="module")
def linear_network(tmp_path_factory):
    return run_quick(tmp_path_factory, "linear_network")


@pytest.fixture(scope="module")
def convolution(tmp_path_factory):
    return run_quick(tmp_path_factory, "convolution")


# --- isotropic input: P W -> T Sigma_W V_W^T at rate N^-1/2 ------------------------------


def test_isotropic_error_falls_like_inverse_sqrt_n(isotropic):
    _, numbers = isotropic
    assert -0.65 <= numbers["slope"] <= -0.35
    assert numbers["mean_error"][-1] < 0.3 * numbers["mean_error"][0]  # sqrt(1/32) = 0.18


def _with_descrambler(result, P):
    """A stand-in result sharing ``result``'s smoothness basis but with descrambler ``P``."""
    return SimpleNamespace(T=result.T, lam=result.lam, P=P, apply=lambda W, side="output": P @ W)


def test_isotropic_svd_error_is_blind_to_signs_and_pair_rotations():
    module = load("isotropic")
    W, sigma, V = module.make_layer(12, 6, np.random.default_rng(3))
    exact = ds.descramble(ds.Gram(W @ W.T))
    T = exact.T
    assert module.svd_error(exact, W, sigma, V) < 1e-10
    # Equally optimal: rotate inside the first Fourier pair, flip the sign of slot 5.
    Q = np.eye(12)
    Q[1:3, 1:3] = [[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]]
    Q[5, 5] = -1.0
    assert module.svd_error(_with_descrambler(exact, T @ Q @ T.T @ exact.P), W, sigma, V) < 1e-10
    # Swapping slots of different smoothness (sin 1, cos 2) is an error the measure sees.
    swap = np.eye(12)[[0, 1, 3, 2, 4, 5, 6, 7, 8, 9, 10, 11]]
    assert module.svd_error(_with_descrambler(exact, T @ swap @ T.T @ exact.P), W, sigma, V) > 0.1


# --- two-layer linear network on a hierarchy: modes in order, t_half = tau / s, P W1 = T A V^T


def check_linear_network_claims(numbers) -> None:
    """The claims of ``examples/linear_network.py``; raises AssertionError when one fails."""
    half = numbers["half_times"]
    assert np.all(np.diff(half) > 0), f"modes not learned in order of strength: {half}"
    assert numbers["timescale_r2"] >= 0.95, numbers["timescale_r2"]
    assert numbers["max_relative_deviation"] < 0.05, numbers["relative_deviation"]
    assert numbers["min_learned_mode_alignment"] > 0.98, numbers["learned_mode_alignment"]


def test_linear_network_modes_follow_tau_over_s_and_descrambled_weights_are_t_a_vt(
    linear_network,
):
    _, numbers = linear_network
    check_linear_network_claims(numbers)
    # The descrambled amplitudes time the modes as the network's own input-output map does.
    np.testing.assert_allclose(
        numbers["half_times"], numbers["half_times_from_network_map"], rtol=0.02, atol=2
    )


def test_linear_network_exposure_measure_rejects_wrong_descramblers(linear_network):
    _, numbers = linear_network
    for name, deviation in numbers["controls"].items():
        assert deviation > 0.3, f"the {name} control passes for a descrambler: {deviation}"


def test_hierarchical_properties_are_shared_along_branches():
    module = load("linear_network")
    Y = module.hierarchical_properties(2)  # 4 items; nodes carry 5, 3, 4, 1, 2, 3, 4 properties
    assert Y.shape == (4, 22)
    # Items 0 and 1 share the root's and their parent's properties, not their leaves'.
    assert int(Y[0] @ Y[1]) == 5 + 3
    assert int(Y[0] @ Y[2]) == 5
    assert int(Y[3] @ Y[3]) == 5 + 4 + 4
    s = np.linalg.svd(Y, compute_uv=False)
    assert np.all(-np.diff(s) / s[:-1] > 0.05)  # no tied modes


def test_timescale_fit_recovers_an_exact_law_and_scores_a_wrong_one_low():
    module = load("linear_network")
    s = np.array([2.0, 1.0, 0.5, 0.25])
    tau, r2 = module.timescale_fit(30.0 / s, s)
    assert tau == pytest.approx(30.0) and r2 == pytest.approx(1.0)
    assert module.timescale_fit(30.0 * s, s)[1] < 0.5


def run_with(monkeypatch, tmp_path, name: str, attribute: str, replacement):
    """Run ``examples/<name>.py`` at its quick size with one of its functions replaced."""
    module = load(name)
    monkeypatch.setattr(module, attribute, replacement)
    return module.run(str(tmp_path), quick=True, seed=0, figures=False)


def random_orthogonal(n: int, seed: int) -> np.ndarray:
    """A random orthogonal matrix (a descrambler that knows nothing about the layer)."""
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))[0]


def _linear_network_with(monkeypatch, tmp_path, descrambled_weights):
    return run_with(
        monkeypatch, tmp_path, "linear_network", "descrambled_weights", descrambled_weights
    )


def test_linear_network_claims_fail_for_a_random_orthogonal_descrambler(monkeypatch, tmp_path):
    Q = random_orthogonal(16, 5)
    numbers = _linear_network_with(monkeypatch, tmp_path, lambda W1, smoothness=None: Q @ W1)
    with pytest.raises(AssertionError):
        check_linear_network_claims(numbers)


def test_linear_network_claims_fail_for_a_descrambler_in_the_wrong_order(monkeypatch, tmp_path):
    def reversed_order(W1, smoothness="neumann"):
        result = ds.descramble(W1.T, smoothness=smoothness)
        return result.T @ result.U[:, ::-1].T @ W1  # weakest direction on the smoothest slot

    numbers = _linear_network_with(monkeypatch, tmp_path, reversed_order)
    with pytest.raises(AssertionError):
        check_linear_network_claims(numbers)


def test_linear_network_claims_fail_for_a_descrambler_of_another_smoothness(monkeypatch, tmp_path):
    module = load("linear_network")
    numbers = _linear_network_with(
        monkeypatch,
        tmp_path,
        lambda W1, smoothness=None: module.descrambled_weights(W1, smoothness="fourier"),
    )
    with pytest.raises(AssertionError):
        check_linear_network_claims(numbers)


# --- convolutions at n = 128 and 512: P permutes Fourier modes, up to the sampling error ---


def _conv_cases(numbers):
    return [
        (key, value)
        for key, value in numbers.items()
        if key.startswith("n") and isinstance(value, dict)
    ]


def test_convolution_covers_both_widths_and_four_kernels(convolution):
    _, numbers = convolution
    keys = {key for key, _ in _conv_cases(numbers)}
    assert keys == {
        f"n{n}_{kernel}"
        for n in (128, 512)
        for kernel in ("low_pass", "band_pass", "high_pass", "random")
    }


def test_convolution_exact_descrambler_permutes_whole_fourier_modes(convolution):
    _, numbers = convolution
    for key, case in _conv_cases(numbers):
        assert abs(case["leakage_exact"]) < 1e-10, key


def test_convolution_sampled_descrambler_only_swaps_frequencies_of_nearly_equal_power(
    convolution,
):
    _, numbers = convolution
    N = numbers["n_samples"]
    for key, case in _conv_cases(numbers):
        n = int(key[1:].split("_")[0])
        assert case["power_mismatch_sampled"] < np.sqrt(n / N), key
    # ...although at n = 512 most of a smooth kernel's energy changes slot.
    assert numbers["n512_low_pass"]["leakage_sampled"] > 0.3


def test_convolution_power_mismatch_is_large_for_a_random_descrambler():
    module = load("convolution")
    W = module.circulant(module.kernels(128)["random"])
    exact = ds.descramble(ds.Gram(W @ W.T), module.SMOOTHNESS)
    Q = np.linalg.qr(np.random.default_rng(4).standard_normal((128, 128)))[0]
    wrong = module.fourier_transfer(_with_descrambler(exact, Q), W)
    assert wrong["power_mismatch"] > np.sqrt(128 / 5_000)
    assert wrong["leakage"] > 0.9


def test_convolution_low_pass_descrambler_is_the_identity_up_to_ties(convolution):
    _, numbers = convolution
    for n in (128, 512):
        low = numbers[f"n{n}_low_pass"]
        assert low["keeps_every_frequency"]
        assert abs(low["identity_gap_exact"]) < 1e-10
        # (The highest frequencies have gains below rounding, hence not exactly 0.)
        assert low["identity_deviation_up_to_ties_exact"] < 1e-6
        # The other kernels are genuinely reordered: leaving them alone is far from optimal.
        for kernel in ("band_pass", "high_pass", "random"):
            other = numbers[f"n{n}_{kernel}"]
            assert not other["keeps_every_frequency"]
            assert other["identity_gap_exact"] > 0.5


def test_convolution_permutation_descrambler_recovers_the_order(convolution):
    _, numbers = convolution
    perm = numbers["permutation"]
    if not perm["available"]:
        pytest.skip(f"permutation descrambler not available: {perm['reason']}")
    # The solver's order is at least as smooth as the true one, within the certified bound.
    assert perm["objective"] <= perm["true_order_objective"] * (1 + 1e-9)
    assert perm["lower_bound"] <= perm["objective"]
    assert perm["dihedral"], "the recovered order is not a rotation/reflection"


# --- DEERNet: prediction, band-pass and notch against two controls, output components -----


@pytest.fixture(scope="module")
def deernet(tmp_path_factory):
    return run_quick(tmp_path_factory, "deernet_analysis", "deernet")


def test_deernet_descrambler_is_certified(deernet):
    _, numbers = deernet
    assert numbers["objective"] == pytest.approx(numbers["lower_bound"], rel=1e-9)


def test_deernet_prediction_error_is_below_a_tenth_of_the_batch_mean_baseline(deernet):
    _, numbers = deernet
    ratio = numbers["prediction_mse"] / numbers["baseline_mse"]
    assert numbers["prediction_over_baseline"] == pytest.approx(ratio)
    assert numbers["prediction_target_ratio"] == 0.1
    # The shipped network reaches 0.044 of the baseline (50,000 traces), 0.042 here.
    assert ratio < 0.06


def test_deernet_noisiest_traces_have_the_largest_error_and_every_quartile_meets_the_target(
    deernet,
):
    _, numbers = deernet
    by_snr = np.asarray(numbers["prediction_mse_by_snr_quartile"]) / numbers["baseline_mse"]
    assert np.argmax(by_snr) == 0, by_snr
    assert by_snr[0] > 1.5 * by_snr[-1]
    assert np.all(by_snr < 0.1)


def test_deernet_first_layer_band_pass_beats_both_controls(deernet):
    _, numbers = deernet
    assert numbers["gain_peak_frequency"] >= 1
    low, high = numbers["gain_half_power_band"]
    assert 1 <= low <= numbers["gain_peak_frequency"] <= high < 32
    key = "gain_dc_over_peak"
    assert numbers[key] < 0.2
    for control in controls_of(numbers, key):
        assert numbers[key] < 0.25 * control


def test_deernet_notch_sits_on_the_datas_dominant_frequency_and_beats_both_controls(deernet):
    _, numbers = deernet
    assert numbers["data_peak_frequency"] == 0
    assert numbers["data_dc_share"] > 0.9
    assert numbers["data_top_pc_constant_overlap"] > 0.95
    assert numbers["notch_depth"] < 0.25
    for control in controls_of(numbers, "notch_depth"):
        assert numbers["notch_depth"] < 0.25 * control


def controls_of(numbers, key):
    """The untrained layer's value of ``key`` and that of every draw of the smooth control."""
    return [numbers["control_untrained"][key], *numbers["control_random_smooth_draws"][key]]


def check_deernet_descrambled_concentration(numbers):
    """Descrambling gathers W1's 2-D DFT energy at low neuron frequencies (``|k| <= 4``):
    three times the raw layer's share, twice the descrambled untrained layer's."""
    share = numbers["low_neuron_frequency_share_descrambled"]
    assert share > 3 * numbers["low_neuron_frequency_share_raw"]
    assert share > 2 * numbers["control_untrained"]["low_neuron_frequency_share_descrambled"]


def _deernet_with(monkeypatch, tmp_path, descrambled_layer):
    return run_with(
        monkeypatch, tmp_path, "deernet_analysis", "descrambled_layer", descrambled_layer
    )


def test_deernet_concentration_fails_for_a_random_orthogonal_descrambler(monkeypatch, tmp_path):
    Q = random_orthogonal(80, 6)
    numbers = _deernet_with(monkeypatch, tmp_path, lambda W, b, traces: Q @ W)
    with pytest.raises(AssertionError):
        check_deernet_descrambled_concentration(numbers)


def test_deernet_concentration_fails_for_a_descrambler_in_the_wrong_order(monkeypatch, tmp_path):
    def reversed_order(W, b, traces):
        result = ds.descramble(traces @ W.T + b)
        return result.T @ result.U[:, ::-1].T @ W  # weakest direction on the smoothest slot

    numbers = _deernet_with(monkeypatch, tmp_path, reversed_order)
    with pytest.raises(AssertionError):
        check_deernet_descrambled_concentration(numbers)


def test_deernet_dft_concentration_beats_the_untrained_layer_but_not_a_random_smooth_one(
    deernet,
):
    _, numbers = deernet
    check_deernet_descrambled_concentration(numbers)
    key = "low_neuron_frequency_share_descrambled"
    # Documented negative result: random layers with W1's singular values and W1's
    # smoothness concentrate as much (every draw within 15 %), so the concentration
    # says nothing specific about training.
    for smooth in numbers["control_random_smooth_draws"][key]:
        assert smooth > 0.85 * numbers[key]


def test_deernet_dft_correlation_with_the_data_is_matched_by_a_random_smooth_layer(deernet):
    _, numbers = deernet
    key = "dft_log_correlation_weights_vs_data"
    assert numbers[key] > 0.3
    assert abs(numbers["control_untrained"][key]) < 0.2
    # Documented negative result: smoothness alone gives the same correlation.
    for smooth in numbers["control_random_smooth_draws"][key]:
        assert smooth > 0.9 * numbers[key]


def test_deernet_dft_energy_avoids_the_datas_own_spectral_support(deernet):
    """The cells holding 90 % of the descrambled data's 2-D DFT energy sit at the
    input frequency the notch removes: the trained layer puts under 1 % of its energy
    there, like the untrained layer, and less than any draw of the random smooth
    control puts there (documented negative result for "energy where the data's
    spectrum is")."""
    _, numbers = deernet
    key = "dft_share_on_data_support"
    assert numbers["dft_data_support_area"] < 0.01
    assert numbers[key] < 0.01
    assert numbers["control_untrained"][key] < 0.01
    assert numbers[key] < min(numbers["control_random_smooth_draws"][key])


def test_deernet_best_linear_first_layer_has_the_notch_too(deernet):
    _, numbers = deernet
    assert numbers["linear_estimator_notch_depth"] < 0.25


def test_deernet_dft_energy_on_the_best_linear_layers_support_barely_beats_a_random_smooth_one(
    deernet,
):
    """Share of the 2-D DFT energy of P W1 in the cells holding 90 % of that of the best
    linear first layer of the same width: far above the untrained layer, but within
    1.5x of every draw of the random smooth control, the margin set before measuring
    (documented: not counted as beating that control)."""
    _, numbers = deernet
    key = "dft_share_on_linear_estimator_support"
    share = numbers[key]
    assert numbers["dft_linear_estimator_support_area"] < 0.2
    assert share > 3 * numbers["control_untrained"][key]
    assert share < 1.5 * min(numbers["control_random_smooth_draws"][key])


def test_deernet_output_components_have_j_plus_1_evenly_spaced_zeros_not_chebyshev_nodes(
    deernet,
):
    _, numbers = deernet
    counts = numbers["output_pc_zero_counts"]
    np.testing.assert_array_equal(counts, np.arange(1, counts.size + 1))
    even = numbers["output_pc_zero_deviation_from_even_spacing"][1:]
    chebyshev = numbers["output_pc_zero_deviation_from_chebyshev_nodes"][1:]
    assert np.all(np.asarray(even) < 0.5 * np.asarray(chebyshev))
    # Chebyshev fits of degree j + 1 explain little of the components.
    assert np.all(np.asarray(numbers["output_pc_chebyshev_r2_degree_j+1"]) < 0.8)


def test_random_smooth_control_has_the_layers_singular_values_and_roughness():
    module = load("deernet_analysis")
    rng = np.random.default_rng(0)
    # A layer whose rows are band-limited to frequencies 2..4 of 64 points.
    spectrum = np.zeros((10, 33), dtype=complex)
    spectrum[:, 2:5] = rng.standard_normal((10, 3)) + 1j * rng.standard_normal((10, 3))
    W = np.fft.irfft(spectrum, n=64, axis=1)
    M = module.random_smooth_layer(W, rng)
    np.testing.assert_allclose(
        np.linalg.svd(M, compute_uv=False),
        np.linalg.svd(W, compute_uv=False),
        rtol=1e-10,
        atol=1e-12,
    )
    # As smooth as W by the mean squared step (against numpy's own differences),
    # but low-pass: no notch at frequency 0.
    step = np.sum(np.diff(W, axis=1) ** 2) / np.sum(W**2)
    assert np.sum(np.diff(M, axis=1) ** 2) / np.sum(M**2) == pytest.approx(step, rel=1e-6)
    assert np.argmax(module.frequency_power(M)) <= 1
    # A rougher layer gets a rougher control.
    rough = module.random_smooth_layer(W + 0.05 * rng.standard_normal(W.shape), rng)
    assert np.sum(np.diff(rough, axis=1) ** 2) / np.sum(rough**2) > 2 * step


def test_random_smooth_control_refuses_a_roughness_no_gaussian_spectrum_reaches():
    module = load("deernet_analysis")
    alternating = np.tile([1.0, -1.0], (4, 32))  # rougher than white noise
    with pytest.raises(ValueError, match="roughness"):
        module.random_smooth_layer(alternating, np.random.default_rng(1))


def test_data_support_share_counts_energy_on_the_fewest_cells_holding_the_mass():
    module = load("deernet_analysis")
    # Data: energy 0.7, 0.25, 0.05 on three DFT cells, so 0.9 of it needs the first two.
    spectrum = np.zeros((8, 16), dtype=complex)
    spectrum[0, 1], spectrum[2, 3], spectrum[5, 7] = np.sqrt([0.7, 0.25, 0.05])
    data = np.fft.ifft2(spectrum)
    # A layer with a quarter of its energy on cell (2, 3), the rest on (6, 6).
    other = np.zeros((8, 16), dtype=complex)
    other[2, 3], other[6, 6] = np.sqrt([0.25, 0.75])
    share, area = module.data_support_share(np.fft.ifft2(other), data)
    assert share == pytest.approx(0.25)
    assert area == pytest.approx(2 / 128)
    assert module.data_support_share(data, data)[0] == pytest.approx(0.95)


def test_optimal_linear_first_layer_is_the_reduced_rank_least_squares_solution():
    module = load("deernet_analysis")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3000, 12)) @ rng.standard_normal((12, 12))
    A = rng.standard_normal((9, 3)) @ rng.standard_normal((3, 12))  # rank 3
    y = x @ A.T + 0.01 * rng.standard_normal((3000, 9))
    layer = module.optimal_linear_first_layer(x, y, 3)
    assert layer.shape == (3, 12)
    # Its three outputs carry everything the best linear map of any rank can use:
    # regressing y on them (numpy's least squares) leaves the noise floor alone.
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    hidden = xc @ layer.T
    via_layer = yc - hidden @ np.linalg.lstsq(hidden, yc, rcond=None)[0]
    full = yc - xc @ np.linalg.lstsq(xc, yc, rcond=None)[0]
    assert np.mean(via_layer**2) == pytest.approx(np.mean(full**2), rel=0.01)
    # Two outputs cannot: the rank matters.
    two = xc @ module.optimal_linear_first_layer(x, y, 2).T
    assert np.mean((yc - two @ np.linalg.lstsq(two, yc, rcond=None)[0]) ** 2) > 10 * np.mean(
        full**2
    )


# --- a GPT-style transformer: every MLP descrambled and permuted --------------------------


@pytest.fixture(scope="module")
def transformer(tmp_path_factory):
    pytest.importorskip("torch")
    return run_quick(tmp_path_factory, "transformer_mlp")


def test_transformer_learns_the_sequence_task(transformer):
    train = transformer[1]["train"]
    assert train["loss_last"] < 0.8 * train["loss_first"]
    assert train["held_out_accuracy"] > 1.5 / 16  # above chance among the 16 tokens


def test_transformer_every_mlp_layer_is_descrambled_and_certified(transformer):
    numbers = transformer[1]
    layers = numbers["layers"]
    assert list(layers) == [f"blocks.{i}.fc1" for i in range(numbers["model"]["blocks"])]
    for name, layer in layers.items():
        # Every position of every held-out sequence is a sample: 8 batches of 64 x 24.
        assert layer["samples"] == 8 * 64 * 24, name
        rot, perm = layer["orthogonal"], layer["permutation"]
        assert rot["gap"] < 1e-8, name  # the orthogonal optimum attains the bound
        assert rot["objective"] == pytest.approx(rot["lower_bound"], rel=1e-8)
        # Permutations are orthogonal: bounded below by the same bound, and no worse
        # than the order training left (the identity is one of them).
        assert perm["lower_bound"] == pytest.approx(rot["lower_bound"], rel=1e-12)
        assert perm["objective"] >= rot["objective"] * (1 - 1e-9), name
        assert perm["objective"] <= layer["trained_order_objective"] * (1 + 1e-12), name
        assert perm["gap"] == pytest.approx(
            (perm["objective"] - perm["lower_bound"]) / abs(perm["lower_bound"]), rel=1e-9
        )


def test_transformer_permuted_model_computes_the_same_function(transformer):
    # In float64 only the order of fc2's sums changes: rounding level, far below 1e-5.
    numbers = transformer[1]
    assert numbers["max_output_change_after_permute"] < 1e-12 * numbers["max_output"]


# --- every script runs from the command line -------------------------------------------


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_quick(name, tmp_path):
    if name == "transformer_mlp":
        pytest.importorskip("torch")
    script = EXAMPLES / f"{name}.py"
    if not script.exists():
        pytest.fail(f"missing example {script}")
    proc = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path / "figures"), "--quick"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert isinstance(json.loads(proc.stdout), dict)
    assert list((tmp_path / "figures").glob("*.png"))


def test_deernet_trained_layers_strongest_directions_are_less_excited_than_a_smooth_ones(
    deernet,
):
    """The documented reason the concentration does not beat the smooth control:
    W1's directions of largest preactivation power carry less of its energy than
    a smooth layer's do (the notch removes the data's dominant frequency)."""
    _, numbers = deernet
    key = "variance_alignment"
    assert numbers[key] < min(numbers["control_random_smooth_draws"][key])


def test_variance_alignment_is_one_when_variance_follows_the_singular_values():
    module = load("deernet_analysis")
    rng = np.random.default_rng(4)
    Q = np.linalg.qr(rng.standard_normal((12, 12)))[0]
    s = np.linspace(3.0, 0.5, 12)
    W = (Q * s) @ np.linalg.qr(rng.standard_normal((30, 12)))[0].T
    white = rng.standard_normal((20000, 30))
    assert module.variance_alignment(W, 0.0, white, r=3) == pytest.approx(1.0, abs=0.02)
    # Data that excite only the weakest singular directions: the ratio falls to
    # their energy over the strongest ones'.
    V = np.linalg.svd(W, full_matrices=False)[2]
    weak = white[:, :3] @ V[-3:]
    expected = np.sum(s[-3:] ** 2) / np.sum(s[:3] ** 2)
    assert module.variance_alignment(W, 0.0, weak, r=3) == pytest.approx(expected, rel=1e-6)


def test_deernet_random_layers_with_w1s_exact_gain_concentrate_at_least_as_much(deernet):
    """The documented negative result, strongest form: random layers given W1's power
    gain at every frequency (so its band-pass and notch) gather more of their 2-D DFT
    energy at low neuron frequencies than W1 does."""
    _, numbers = deernet
    draws = numbers["gain_matched_draws"]
    np.testing.assert_allclose(draws["notch_depth"], numbers["notch_depth"], rtol=1e-6)
    key = "low_neuron_frequency_share_descrambled"
    assert min(draws[key]) > numbers[key]


def test_gain_matched_layer_has_the_layers_gain_at_every_frequency():
    module = load("deernet_analysis")
    rng = np.random.default_rng(5)
    spectrum = np.zeros((10, 33), dtype=complex)
    spectrum[:, 1:9] = rng.standard_normal((10, 8)) + 1j * rng.standard_normal((10, 8))
    spectrum[:, 9:] = 0.05 * rng.standard_normal((10, 24))
    W = np.fft.irfft(spectrum, n=64, axis=1)
    M = module.gain_matched_layer(W, rng)
    power = np.sum(np.abs(np.fft.rfft(M, axis=1)) ** 2, axis=0)  # numpy, not the module
    np.testing.assert_allclose(power, module.frequency_power(W), rtol=1e-8, atol=1e-12)
    assert not np.allclose(np.abs(M), np.abs(W))  # a different layer, not W itself

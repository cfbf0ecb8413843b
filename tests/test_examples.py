"""The paper's experiments (PAPER.md section 5) as runnable examples: their claims, checked.

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


# --- 5.1 isotropic input: P W -> T Sigma_W V_W^T at rate N^-1/2 -------------------------


def test_isotropic_limit_is_the_svd(isotropic):
    _, numbers = isotropic
    assert numbers["limit_error"] < 1e-10


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


# --- 5.3 two-layer linear network: P W1 = T A(t) V^T, modes one by one ------------------


def test_linear_network_descrambled_weights_have_the_saxe_form(linear_network):
    _, numbers = linear_network
    assert numbers["svd_alignment"] > 1 - 1e-9  # V really is Syx's right singular basis
    assert np.all(numbers["relative_deviation"] < 0.05)
    # Without descrambling the same weights are nowhere near that form.
    assert np.all(numbers["raw_relative_deviation"] > 0.5)


def test_linear_network_learns_modes_in_order_of_strength(linear_network):
    _, numbers = linear_network
    halves = numbers["half_times"]
    assert np.all(np.diff(halves) > 0)
    # The descrambled diagonal A(t) is the rotation-invariant amplitude ||W1 m_k||.
    assert numbers["amplitude_mismatch"] < 0.05


# --- 5.4 convolutions: P permutes Fourier modes; low-pass P W = W up to ties -------------


def test_convolution_descrambler_keeps_fourier_modes(convolution):
    _, numbers = convolution
    for key in ("low_pass", "band_pass"):
        assert numbers[f"{key}_leakage_exact"] < 1e-10
        assert numbers[f"{key}_leakage_sampled"] < 0.03


def test_convolution_low_pass_descrambler_is_the_identity_up_to_ties(convolution):
    _, numbers = convolution
    assert numbers["low_pass_keeps_every_frequency"]
    assert numbers["low_pass_identity_gap_exact"] < 1e-10
    # (The highest frequencies have gains below rounding, hence not exactly 0.)
    assert numbers["low_pass_identity_deviation_up_to_ties_exact"] < 1e-7
    assert numbers["low_pass_identity_deviation_up_to_ties"] < 0.2
    assert numbers["low_pass_gram_deviation"] < 0.05
    # The band-pass layer is genuinely reordered: leaving it alone is far from optimal.
    assert not numbers["band_pass_keeps_every_frequency"]
    assert numbers["band_pass_identity_gap_exact"] > 0.5


def test_convolution_permutation_descrambler_recovers_the_order(convolution):
    _, numbers = convolution
    perm = numbers["permutation"]
    if not perm["available"]:
        pytest.skip(f"permutation descrambler not available: {perm['reason']}")
    # The solver's order is at least as smooth as the true one, within the certified bound.
    assert perm["objective"] <= perm["true_order_objective"] * (1 + 1e-9)
    assert perm["lower_bound"] <= perm["objective"]
    assert perm["dihedral"], (
        f"recovered order {perm['recovered_order']} is not a rotation/reflection"
    )


# --- 5.5 DEERNet: band-pass and notch in the first layer, output components -------------


@pytest.fixture(scope="module")
def deernet(tmp_path_factory):
    return run_quick(tmp_path_factory, "deernet_analysis", "deernet")


def test_deernet_descrambler_is_certified(deernet):
    _, numbers = deernet
    assert numbers["objective"] == pytest.approx(numbers["lower_bound"], rel=1e-9)


def test_deernet_first_layer_is_a_band_pass(deernet):
    _, numbers = deernet
    assert numbers["gain_peak_frequency"] >= 1
    low, high = numbers["gain_half_power_band"]
    assert 1 <= low <= numbers["gain_peak_frequency"] <= high < 32
    assert numbers["gain_dc_over_peak"] < 0.2
    # Descrambling gathers the 2-D DFT at low neuron frequencies: the filter becomes visible.
    raw = numbers["low_neuron_frequency_share_raw"]
    assert numbers["low_neuron_frequency_share_descrambled"] > max(3 * raw, 0.4)


def test_deernet_notch_sits_where_the_data_concentrate(deernet):
    _, numbers = deernet
    assert numbers["notch_frequency"] == 0 == numbers["data_peak_frequency"]
    assert numbers["notch_depth"] < 0.25
    assert numbers["data_dc_share"] > 0.9
    assert numbers["data_top_pc_constant_overlap"] > 0.95
    assert numbers["w1_gain_on_data_top_pc_over_peak_gain"] < 0.5
    # The 2-D DFTs of Sigma_W V_W^T and (U_K Sigma_K)^T are related; a time-shuffled
    # control is not.
    assert numbers["dft_log_correlation_weights_vs_data"] > 0.3
    assert abs(numbers["dft_log_correlation_weights_vs_shuffled_data"]) < 0.2


def test_deernet_output_components_oscillate_like_chebyshev_polynomials(deernet):
    _, numbers = deernet
    counts = numbers["output_pc_zero_counts"]
    # Component j changes sign j + 1 times on the data's distances, like T_{j+1}...
    np.testing.assert_array_equal(counts, np.arange(1, counts.size + 1))
    # ...but (our finding on the shipped network) its zeros are evenly spaced, not
    # clustered towards the ends like Chebyshev nodes: the resemblance is qualitative.
    even = numbers["output_pc_zero_deviation_from_even_spacing"][1:]
    chebyshev = numbers["output_pc_zero_deviation_from_chebyshev_nodes"][1:]
    assert np.all(even < chebyshev)
    assert np.all(np.asarray(numbers["output_pc_chebyshev_r2_degree_j+3"])[:2] > 0.9)


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
    assert transformer[1]["max_output_change_after_permute"] < 1e-5


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

import numpy as np
import pytest

import descramble as ds
from descramble import deer, deernet


@pytest.fixture(scope="module")
def net():
    return deernet.load()


@pytest.fixture(scope="module")
def fresh(net):
    # A seed the training script never used: these traces are new to the network.
    return net.simulate(2000, 987654321)


def test_shipped_network_shapes_and_axes(net):
    assert net.W1.shape == (80, 256)
    assert net.b1.shape == (80,)
    assert net.W2.shape == (256, 80)
    assert net.b2.shape == (256,)
    assert (net.n_time, net.n_hidden, net.n_distance) == (256, 80, 256)
    for w in (net.W1, net.b1, net.W2, net.b2):
        assert w.dtype == np.float64
        assert np.all(np.isfinite(w))
        assert not w.flags.writeable
    np.testing.assert_allclose(net.time, deer.time_axis(256, net.t_max))
    np.testing.assert_allclose(net.distance, deer.distance_axis(256, net.r_min, net.r_max))
    assert net.info["n_train"] >= 50_000


def test_shipped_network_error_is_below_a_tenth_of_the_mean_distributions(net, fresh):
    prediction = net.predict(fresh.traces)
    assert prediction.shape == (2000, 256)
    assert np.all(prediction >= 0)
    mse = np.mean((prediction - fresh.distributions) ** 2)
    # The baseline is even given the mean of the validation targets themselves.
    baseline = np.mean((fresh.distributions - fresh.distributions.mean(axis=0)) ** 2)
    assert mse < 0.1 * baseline  # the target of the training (0.044 measured)


def test_shipped_network_locates_a_single_narrow_peak(net):
    data = net.simulate(
        200, 5, max_components=1, widths=(0.1, 0.2), noise=(0.0, 0.01), centres=(2.5, 4.5)
    )
    r = net.distance
    true_peak = r[np.argmax(data.distributions, axis=1)]
    found_peak = r[np.argmax(net.predict(data.traces), axis=1)]
    assert np.median(np.abs(found_peak - true_peak)) < 0.3


def test_forward_pass_is_the_documented_network(net, fresh):
    h = fresh.traces[:7]
    s = h @ net.W1.T + net.b1
    np.testing.assert_allclose(net.preactivations(h), s, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(net.hidden(h), np.tanh(s), rtol=1e-12, atol=1e-12)
    out = np.log1p(np.exp(np.tanh(s) @ net.W2.T + net.b2))
    np.testing.assert_allclose(net.predict(h), out, rtol=1e-12)
    # One trace as a 1-D array, and any memory layout.
    np.testing.assert_allclose(net.predict(h[0]), out[0], rtol=1e-12)
    np.testing.assert_allclose(net.predict(np.asfortranarray(h)), out, rtol=1e-12)
    np.testing.assert_allclose(net.predict(h.astype(np.float32)), out, rtol=1e-5, atol=1e-5)
    strided = fresh.traces[:14:2]
    expected = np.log1p(np.exp(np.tanh(strided @ net.W1.T + net.b1) @ net.W2.T + net.b2))
    np.testing.assert_allclose(net.predict(strided), expected, rtol=1e-12)


def test_softplus_is_stable_and_correct():
    x = np.array([-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0])
    y = deernet.softplus(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y[1:-1], np.log1p(np.exp(x[1:-1])), rtol=1e-14)
    assert y[0] == 0.0
    assert y[-1] == 1000.0


def test_save_and_load_round_trip(net, tmp_path):
    path = tmp_path / "copy.npz"
    net.save(path)
    again = deernet.load(path)
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(getattr(again, name), getattr(net, name))
    assert (again.t_max, again.r_min, again.r_max) == (net.t_max, net.r_min, net.r_max)
    assert again.info == net.info


def _write(path, **overrides):
    rng = np.random.default_rng(0)
    contents = {
        "format": np.asarray(deernet.FORMAT),
        "W1": rng.standard_normal((4, 8)),
        "b1": np.zeros(4),
        "W2": rng.standard_normal((6, 4)),
        "b2": np.zeros(6),
        "t_max": np.asarray(3.0),
        "r_min": np.asarray(2.0),
        "r_max": np.asarray(5.0),
    }
    for key, value in overrides.items():
        if value is None:
            del contents[key]
        else:
            contents[key] = value
    np.savez(path, **contents)
    return path


def test_load_small_valid_file(tmp_path):
    net = deernet.load(_write(tmp_path / "ok.npz"))
    assert (net.n_time, net.n_hidden, net.n_distance) == (8, 4, 6)
    assert net.simulate(3, 0).traces.shape == (3, 8)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"format": np.asarray("something/2")}, "expected format"),
        ({"format": None}, "expected format"),
        ({"W2": None}, "lacks W2"),
        ({"b1": np.zeros(5)}, r"b1 must have shape \(4,\)"),
        ({"W2": np.zeros((6, 3))}, r"W2 must have shape \(n_distance, 4\)"),
        ({"b2": np.zeros(2)}, r"b2 must have shape \(6,\)"),
        ({"W1": np.full((4, 8), np.nan)}, "NaN"),
        ({"W1": np.zeros(8)}, "2-D"),
        ({"t_max": np.asarray(-1.0)}, "positive"),
        ({"r_max": np.zeros(2)}, "real scalar"),
    ],
    ids=[
        "wrong-format",
        "no-format",
        "missing-array",
        "b1-shape",
        "W2-shape",
        "b2-shape",
        "nan",
        "W1-1d",
        "negative-tmax",
        "axis-not-scalar",
    ],
)
def test_load_rejects_malformed_files(tmp_path, overrides, match):
    path = _write(tmp_path / "bad.npz", **overrides)
    with pytest.raises(ValueError, match=match):
        deernet.load(path)


def test_load_rejects_a_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.npz"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(ValueError, match="not a DEERNet weights file"):
        deernet.load(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        deernet.load(tmp_path / "nothing.npz")


@pytest.mark.parametrize(
    ("traces", "match"),
    [
        (np.zeros((3, 255)), r"shape \(N, 256\)"),
        (np.zeros((2, 3, 256)), r"shape \(N, 256\)"),
        (np.full((1, 256), np.inf), "NaN or infinity"),
    ],
    ids=["wrong-width", "3d", "inf"],
)
def test_forward_rejects_bad_traces(net, traces, match):
    with pytest.raises(ValueError, match=match):
        net.predict(traces)


def test_deernet_is_exported():
    assert ds.deernet is deernet


def _training_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "train_deernet.py"
    spec = importlib.util.spec_from_file_location("train_deernet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_script_end_to_end_folds_the_input_scaling_into_w1(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    train = _training_script()
    out = tmp_path / "tiny.npz"
    argv = ["train_deernet.py", "--out", str(out), "--train", "600", "--valid", "200"]
    monkeypatch.setattr("sys.argv", [*argv, "--max-epochs", "3", "--hidden", "8", "--batch", "100"])
    train.main()
    net = deernet.load(out)
    assert (net.n_time, net.n_hidden, net.n_distance) == (256, 8, 256)
    assert net.info["n_train"] == 600
    assert 1 <= net.info["best_epoch"] <= net.info["epochs"] <= 3
    # Even three short epochs improve on the mean-distribution starting point, and the
    # saved network (raw traces in, centring folded into W1 and b1) scores the same
    # validation MSE the trainer measured on centred, scaled traces.
    assert net.info["validation_mse"] < net.info["baseline_mse"]
    valid_h, valid_p = train.simulate(200, np.random.default_rng(net.info["seed"]))
    mse = np.mean((net.predict(valid_h.astype(np.float64)) - valid_p) ** 2)
    assert mse == pytest.approx(net.info["validation_mse"], rel=1e-4)
    assert "validation MSE" in capsys.readouterr().out


def test_shipped_network_was_trained_until_validation_stalled(net):
    info = net.info
    assert info["n_train"] >= 500_000
    assert info["best_epoch"] < info["epochs"]  # later epochs did not improve on it
    assert info["validation_mse"] < 0.1 * info["baseline_mse"]

"""``descramble fit``: formats, report, errors, --resume, bounded memory."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import descramble as ds
from descramble import cli
from descramble.fit import checkpoint


def _data(rows=600, n=12, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    # Smooth-ish, correlated columns so the Gram matrix has well separated eigenvalues.
    mix = rng.standard_normal((n, n)) * np.linspace(3, 0.2, n)
    return (rng.standard_normal((rows, n)) @ mix.T).astype(dtype)


def _reference(X, **kw):
    return ds.descramble(ds.Moments(X.shape[1]).update(np.asarray(X, np.float64)), **kw)


def _fit(*args):
    return cli.main(["fit", *map(str, args), "--quiet"])


def _report(out):
    return json.loads((out / "report.json").read_text())


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_same_answer(out, ref):
    P = np.load(out / "descrambler.npy")
    np.testing.assert_allclose(P, np.asarray(ref.P), atol=1e-8)
    rep = _report(out)
    np.testing.assert_allclose(rep["objective"], ref.objective, rtol=1e-9)
    np.testing.assert_allclose(rep["lower_bound"], ref.lower_bound, rtol=1e-9)


def _write_shards(folder, X, sizes):
    folder.mkdir()
    i = 0
    for k, s in enumerate(sizes):
        np.save(folder / f"part-{k:03d}.npy", X[i : i + s])
        i += s


# ---------------------------------------------------------------------------------------
# Input formats


def test_single_npy_file(tmp_path):
    X = _data()
    np.save(tmp_path / "acts.npy", X)
    assert _fit(tmp_path / "acts.npy", "--out", tmp_path / "out", "--batch-rows", 64) == 0
    _assert_same_answer(tmp_path / "out", _reference(X))


def test_folder_of_shards(tmp_path):
    X = _data()
    _write_shards(tmp_path / "shards", X, [100, 0, 250, 250])
    assert _fit(tmp_path / "shards", "--out", tmp_path / "out", "--batch-rows", 77) == 0
    _assert_same_answer(tmp_path / "out", _reference(X))
    rep = _report(tmp_path / "out")
    assert rep["samples"] == 600 and rep["n"] == 12
    assert len(rep["inputs"]) == 4


def test_npz_archive_and_activations_key(tmp_path):
    X = _data(seed=1)
    np.savez_compressed(tmp_path / "acts.npz", a=X[:200], b=X[200:])
    assert _fit(tmp_path / "acts.npz", "--out", tmp_path / "all") == 0
    _assert_same_answer(tmp_path / "all", _reference(X))
    assert _fit(tmp_path / "acts.npz", "--activations-key", "b", "--out", tmp_path / "b") == 0
    _assert_same_answer(tmp_path / "b", _reference(X[200:]))


def test_safetensors(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    X = _data(seed=2)
    st.save_file({"h0": X[:300], "h1": X[300:]}, tmp_path / "acts.safetensors")
    assert _fit(tmp_path / "acts.safetensors", "--out", tmp_path / "out", "--batch-rows", 50) == 0
    _assert_same_answer(tmp_path / "out", _reference(X))


def test_float64_fortran_order_and_center(tmp_path):
    X = np.asfortranarray(_data(seed=3, dtype=np.float64))
    np.save(tmp_path / "acts.npy", X)
    assert _fit(tmp_path / "acts.npy", "--out", tmp_path / "out", "--center") == 0
    _assert_same_answer(tmp_path / "out", _reference(X, center=True))


# ---------------------------------------------------------------------------------------
# Weights and the report


@pytest.mark.parametrize("fmt", ["npy", "npz", "safetensors", "pt"])
@pytest.mark.parametrize("side", ["output", "input"])
def test_weights_formats_and_sides(tmp_path, fmt, side):
    X = _data(rows=200, n=8, seed=4)
    np.save(tmp_path / "acts.npy", X)
    rng = np.random.default_rng(5)
    W = rng.standard_normal((8, 5) if side == "output" else (3, 8)).astype(np.float32)
    key = []
    if fmt == "npy":
        wpath = tmp_path / "w.npy"
        np.save(wpath, W)
    elif fmt == "npz":
        wpath = tmp_path / "w.npz"
        np.savez(wpath, weight=W, bias=np.zeros(8))
        key = ["--key", "weight"]
    elif fmt == "safetensors":
        st = pytest.importorskip("safetensors.numpy")
        wpath = tmp_path / "w.safetensors"
        st.save_file({"fc.weight": W, "fc.bias": np.zeros(8, np.float32)}, wpath)
        key = ["--key", "fc.weight"]
    else:
        torch = pytest.importorskip("torch")
        wpath = tmp_path / "w.pt"
        torch.save({"fc.weight": torch.from_numpy(W), "fc.bias": torch.zeros(8)}, wpath)
        key = ["--key", "fc.weight"]
    out = tmp_path / "out"
    assert _fit(tmp_path / "acts.npy", "--weights", wpath, *key, "--side", side, "--out", out) == 0
    P = np.load(out / "descrambler.npy")
    Wd = np.load(out / "weights_descrambled.npy")
    W64 = W.astype(np.float64)
    np.testing.assert_allclose(Wd, P @ W64 if side == "output" else W64 @ P.T, atol=1e-12)
    rep = _report(out)
    assert rep["weights"]["sha256"] == _sha(wpath)
    assert rep["weights"]["shape"] == list(W.shape)


def test_report_contents(tmp_path):
    X = _data(rows=300, n=10, seed=6)
    _write_shards(tmp_path / "s", X, [120, 180])
    np.save(tmp_path / "w.npy", np.eye(10))
    out = tmp_path / "out"
    assert (
        _fit(
            tmp_path / "s",
            "--weights",
            tmp_path / "w.npy",
            "--out",
            out,
            "--k",
            4,
            "--order",
            2,
            "--smoothness",
            "fourier",
        )
        == 0
    )
    rep = _report(out)
    ref = _reference(X, k=4)
    for key in (
        "objective",
        "lower_bound",
        "gap",
        "ties",
        "method",
        "n",
        "samples",
        "timings",
        "inputs",
        "options",
        "version",
    ):
        assert key in rep, key
    assert rep["n"] == 10 and rep["samples"] == 300 and rep["version"] == ds.__version__
    assert rep["method"] == str(ref.method)
    if np.isfinite(ref.gap):
        np.testing.assert_allclose(rep["gap"], ref.gap, atol=1e-9)
    assert set(rep["timings"]) == {"read", "accumulate", "solve", "total"}
    assert all(v >= 0 for v in rep["timings"].values())
    assert rep["timings"]["total"] >= rep["timings"]["solve"]
    assert {i["path"]: i["sha256"] for i in rep["inputs"]} == {
        str(p): _sha(p) for p in sorted((tmp_path / "s").iterdir())
    }
    assert rep["options"]["k"] == 4 and rep["options"]["group"] == "orthogonal"
    assert np.load(out / "descrambler.npy").shape == (4, 10)
    assert np.load(out / "weights_descrambled.npy").shape == (4, 10)


# ---------------------------------------------------------------------------------------
# Errors


def test_corrupt_shard_is_named(tmp_path, capsys):
    X = _data()
    _write_shards(tmp_path / "s", X, [300, 300])
    bad = tmp_path / "s" / "part-001.npy"
    bad.write_bytes(bad.read_bytes()[:-1000])
    assert _fit(tmp_path / "s", "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "part-001.npy: truncated" in err


def test_nan_is_named_with_row(tmp_path, capsys):
    X = _data()
    X[457, 3] = np.inf
    _write_shards(tmp_path / "s", X, [300, 300])
    assert _fit(tmp_path / "s", "--out", tmp_path / "out", "--batch-rows", 64) == 2
    assert "part-001.npy: NaN or infinity in row 157 (column 3)" in capsys.readouterr().err


def test_mismatched_n_is_named(tmp_path, capsys):
    (tmp_path / "s").mkdir()
    np.save(tmp_path / "s" / "a.npy", _data(n=6))
    np.save(tmp_path / "s" / "b.npy", _data(n=7))
    assert _fit(tmp_path / "s", "--out", tmp_path / "out") == 2
    assert "b.npy: has 7 neurons (columns), but" in capsys.readouterr().err


def test_missing_weights_key_lists_keys(tmp_path, capsys):
    np.save(tmp_path / "a.npy", _data(n=6))
    np.savez(tmp_path / "w.npz", fc1=np.ones((6, 2)), fc2=np.ones((2, 6)))
    assert (
        _fit(
            tmp_path / "a.npy",
            "--weights",
            tmp_path / "w.npz",
            "--key",
            "fc3",
            "--out",
            tmp_path / "out",
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "no array named 'fc3'; available: fc1 (6, 2), fc2 (2, 6)" in err
    assert not (tmp_path / "out" / "checkpoint.npz").exists()  # failed before streaming


def test_weights_shape_must_match_side(tmp_path, capsys):
    np.save(tmp_path / "a.npy", _data(n=6))
    np.save(tmp_path / "w.npy", np.ones((5, 6)))
    assert _fit(tmp_path / "a.npy", "--weights", tmp_path / "w.npy", "--out", tmp_path / "o") == 2
    assert "for --side output the weights need shape (6, ...)" in capsys.readouterr().err


def test_empty_input_is_an_error(tmp_path, capsys):
    np.save(tmp_path / "a.npy", np.zeros((0, 4), np.float32))
    assert _fit(tmp_path / "a.npy", "--out", tmp_path / "o") == 2
    assert "holds no samples" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# --resume


class _Killed(Exception):
    pass


def _kill_after(monkeypatch, k):
    """Stop the job right after its k-th checkpoint is written, as a kill would."""
    real_save = checkpoint.save
    written = []

    def save_then_die(*args):
        real_save(*args)
        written.append(1)
        if len(written) >= k:
            raise _Killed(f"simulated kill after checkpoint {len(written)}")

    monkeypatch.setattr(checkpoint, "save", save_then_die)


@pytest.mark.parametrize(
    "layout, kill_after",
    [("shards", 2), ("shards", 4), ("single", 3)],
    ids=["shards-after-2", "shards-after-4", "single-file-mid"],
)
def test_resume_gives_the_uninterrupted_answer(tmp_path, monkeypatch, layout, kill_after):
    X = _data(rows=900, n=9, seed=7)
    if layout == "shards":
        _write_shards(tmp_path / "in", X, [200, 150, 250, 300])
        src = tmp_path / "in"
    else:
        src = tmp_path / "in.npy"
        np.save(src, X)
    opts = ["--batch-rows", 40, "--checkpoint-blocks", 3]
    assert _fit(src, "--out", tmp_path / "ref", *opts) == 0
    _kill_after(monkeypatch, kill_after)
    with pytest.raises(_Killed):
        _fit(src, "--out", tmp_path / "out", *opts)
    assert (tmp_path / "out" / "checkpoint.npz").exists()
    assert not (tmp_path / "out" / "report.json").exists()
    monkeypatch.undo()
    assert _fit(src, "--out", tmp_path / "out", "--resume", *opts) == 0
    ref, got = _report(tmp_path / "ref"), _report(tmp_path / "out")
    assert got["resumed"] is True and got["samples"] == 900
    np.testing.assert_allclose(
        np.load(tmp_path / "out" / "descrambler.npy"),
        np.load(tmp_path / "ref" / "descrambler.npy"),
        rtol=0,
        atol=1e-12,
    )
    np.testing.assert_allclose(got["objective"], ref["objective"], rtol=1e-13)
    assert got["inputs"] == ref["inputs"]  # checksums survive the interruption


def test_resume_refuses_changed_input(tmp_path, monkeypatch, capsys):
    X = _data(rows=400, n=5, seed=8)
    np.save(tmp_path / "in.npy", X)
    opts = ["--batch-rows", 20, "--checkpoint-blocks", 2]
    _kill_after(monkeypatch, 2)
    with pytest.raises(_Killed):
        _fit(tmp_path / "in.npy", "--out", tmp_path / "out", *opts)
    monkeypatch.undo()
    X[5, 0] += 1.0
    np.save(tmp_path / "in.npy", X)
    assert _fit(tmp_path / "in.npy", "--out", tmp_path / "out", "--resume", *opts) == 2
    assert "checkpoint was made for other input files" in capsys.readouterr().err


def test_resume_after_success_re_solves_with_new_options(tmp_path):
    X = _data(rows=300, n=8, seed=9)
    np.save(tmp_path / "in.npy", X)
    assert _fit(tmp_path / "in.npy", "--out", tmp_path / "out") == 0
    assert _fit(tmp_path / "in.npy", "--out", tmp_path / "out", "--resume", "--center") == 0
    _assert_same_answer(tmp_path / "out", _reference(X, center=True))


# ---------------------------------------------------------------------------------------
# Memory


def test_peak_memory_well_under_data_size(tmp_path):
    n, rows_per_shard, shards = 128, 60_000, 10  # 10 x 30.7 MB float32 = 307 MB
    folder = tmp_path / "big"
    folder.mkdir()
    rng = np.random.default_rng(10)
    base = rng.standard_normal((rows_per_shard, n)).astype(np.float32)
    for k in range(shards):  # cheap distinct shards: scaled copies of one random block
        np.save(folder / f"{k:02d}.npy", base * np.float32(1 + 0.1 * k))
    data_bytes = shards * rows_per_shard * n * 4
    script = textwrap.dedent(
        f"""
        import resource, subprocess, sys
        subprocess.run([sys.executable, "-m", "descramble", "fit", {str(folder)!r},
                        "--out", {str(tmp_path / "out")!r}, "--quiet"], check=True)
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        """
    )
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    peak_bytes = int(res.stdout.split()[-1]) * 1024  # ru_maxrss is in KiB on Linux
    assert _report(tmp_path / "out")["samples"] == shards * rows_per_shard
    assert peak_bytes < 0.5 * data_bytes, (peak_bytes, data_bytes)


def test_permutation_group(tmp_path):
    X = _data(rows=200, n=7, seed=11)
    np.save(tmp_path / "a.npy", X)
    assert _fit(tmp_path / "a.npy", "--out", tmp_path / "o", "--group", "permutation") == 0
    P = np.load(tmp_path / "o" / "descrambler.npy")
    np.testing.assert_array_equal(np.sort(P, axis=None)[-7:], np.ones(7))
    np.testing.assert_array_equal(P.sum(0), np.ones(7))
    rep = _report(tmp_path / "o")
    ref = _reference(X, group="permutation")
    np.testing.assert_allclose(rep["objective"], ref.objective, rtol=1e-9)
    assert rep["objective"] >= rep["lower_bound"] * (1 - 1e-12)


@pytest.mark.parametrize("side", ["output", "input"])
def test_convolution_weights_descrambled_along_the_neuron_axis(tmp_path, side):
    """Weights of more than two axes, (out, in, kernel): P acts on axis 0 or axis 1."""
    X = _data(rows=200, n=6, seed=12)
    np.save(tmp_path / "acts.npy", X)
    rng = np.random.default_rng(13)
    W = rng.standard_normal((6, 4, 3) if side == "output" else (5, 6, 3))
    np.save(tmp_path / "w.npy", W)
    out = tmp_path / "out"
    assert (
        _fit(
            tmp_path / "acts.npy",
            "--weights",
            tmp_path / "w.npy",
            "--side",
            side,
            "--out",
            out,
            "--k",
            4 if side == "output" else 6,
        )
        == 0
    )
    P = np.load(out / "descrambler.npy")
    expected = (
        np.einsum("kn,nij->kij", P, W) if side == "output" else np.einsum("kn,onj->okj", P, W)
    )
    np.testing.assert_allclose(np.load(out / "weights_descrambled.npy"), expected, atol=1e-12)

"""``descramble fit --sketch K``: the sketch path, its checkpoints, and the memory advice."""

from __future__ import annotations

import json

import numpy as np
import pytest

import descramble as ds
from descramble import cli
from descramble.fit import job


def _data(rows=800, n=40, seed=0):
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((n, n)))[0]
    x = (rng.standard_normal((rows, n)) * (1.0 + np.arange(n)) ** -1.0) @ basis.T
    return x.astype(np.float32)


def test_sketch_fit_matches_the_library_and_says_so(tmp_path, capsys):
    x = _data()
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "out"
    rc = cli.main(["fit", str(tmp_path / "x.npy"), "--out", str(out), "--sketch", "6"])
    assert rc == 0
    assert "using a sketch of the second moments (K = 6" in capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert report["eigensolver"]["method"] == "sketch"
    assert report["options"]["sketch"] == 6
    assert report["eigensolver"]["error_bound"] >= report["eigensolver"]["error_estimate"] > 0
    P = np.load(out / "descrambler.npy")
    ref = ds.descramble(ds.Sketch(40, 6).update(x))
    np.testing.assert_allclose(P, ref.P, rtol=1e-6, atol=1e-6)
    # --resume re-solves from the sketch checkpoint without reading the data again.
    rc = cli.main(["fit", str(tmp_path / "x.npy"), "--out", str(out), "--sketch", "6", "--resume"])
    assert rc == 0
    np.testing.assert_allclose(np.load(out / "descrambler.npy"), P, rtol=1e-12, atol=1e-12)
    # ...but not into other statistics.
    rc = cli.main(["fit", str(tmp_path / "x.npy"), "--out", str(out), "--resume", "--quiet"])
    assert rc == 2
    assert "the checkpoint holds Sketch(n=40, k=6" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--sketch", "0"], "1 <= K <= n = 40"),
        (["--sketch", "41"], "1 <= K <= n = 40"),
        (["--sketch", "5", "--group", "permutation"], "--group permutation needs the n x n"),
        (["--sketch", "5", "--k", "6"], "--k 6 exceeds --sketch 5"),
    ],
)
def test_sketch_option_errors(tmp_path, capsys, extra, match):
    np.save(tmp_path / "x.npy", _data(rows=50))
    rc = cli.main(["fit", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o"), "--quiet", *extra])
    assert rc == 2
    assert match in capsys.readouterr().err


def test_too_wide_for_memory_suggests_sketch(tmp_path, capsys, monkeypatch):
    np.save(tmp_path / "x.npy", _data(rows=50))
    monkeypatch.setattr(job, "_available_bytes", lambda: 1000)
    rc = cli.main(["fit", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o"), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "only 0.0 GiB of memory is available; use --sketch K" in err
    rc = cli.main(
        ["fit", str(tmp_path / "x.npy"), "--out", str(tmp_path / "o"), "--quiet", "--sketch", "4"]
    )
    assert rc == 0

"""``descramble fit`` error paths: bad options before streaming, file-system failures,
atomic results, corrupt checkpoints. Each test reproduces a failure that used to end
in a traceback, a stray ``*.tmp`` or a stale result."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

import descramble as ds
from descramble import _io, cli

RESULTS = ("descrambler.npy", "weights_descrambled.npy", "report.json")


def _data(rows=120, n=6, seed=0):
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((n, n)) * np.linspace(3, 0.2, n)
    return rng.standard_normal((rows, n)) @ mix.T


def _fit(*args):
    return cli.main(["fit", *map(str, args), "--quiet"])


def _leftovers(out: Path) -> list[str]:
    """Temporary files or staging folders a run left in ``out``."""
    return sorted(p.name for p in out.rglob("*") if p.name.endswith(".tmp") or p.is_dir())


@pytest.fixture
def acts(tmp_path):
    np.save(tmp_path / "a.npy", _data())
    return tmp_path / "a.npy"


@pytest.fixture
def no_streaming(monkeypatch):
    """Fail the test if any activation block is read."""

    def refuse(*args, **kwargs):
        raise AssertionError("the data was read before the options were checked")

    monkeypatch.setattr(_io, "iter_blocks", refuse)


# ---------------------------------------------------------------------------------------
# Options are checked against the header's n before any data streams


@pytest.mark.parametrize(
    "options, message",
    [
        (["--k", 0], "n = 6 neurons: descramble: k must satisfy 1 <= k <= n = 6, got 0"),
        (["--k", 7], "k must satisfy 1 <= k <= n = 6, got 7"),
        (["--order", 0], "order must be >= 1 for kind 'fourier', got 0"),
        (["--smoothness", "neumann", "--order", 3], "order must be 1 or 2 for kind 'neumann'"),
        (["--group", "permutation", "--k", 3], "group='permutation' needs a square P"),
        (["--group", "special", "--k", 2], "group='special' needs a square P"),
        (["--batch-rows", 0], "--batch-rows must be >= 1, got 0"),
        (["--batch-rows", -5], "--batch-rows must be >= 1, got -5"),
        (["--checkpoint-blocks", 0], "--checkpoint-blocks must be >= 1, got 0"),
        (["--key", "w"], "--key picks an array of the --weights file, but no --weights"),
    ],
)
def test_bad_options_fail_before_streaming(acts, tmp_path, capsys, no_streaming, options, message):
    out = tmp_path / "out"
    assert _fit(acts, "--out", out, *options) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()  # nothing was created either


def test_key_with_npy_weights_is_an_error(acts, tmp_path, capsys, no_streaming):
    np.save(tmp_path / "w.npy", np.ones((6, 3)))
    assert _fit(acts, "--weights", tmp_path / "w.npy", "--key", "fc", "--out", tmp_path / "o") == 2
    assert "w.npy is a .npy file, which holds one array; drop --key" in capsys.readouterr().err


def test_k_equal_n_with_permutation_is_accepted(acts, tmp_path):
    assert _fit(acts, "--out", tmp_path / "o", "--group", "permutation", "--k", 6) == 0


# ---------------------------------------------------------------------------------------
# File-system failures: exit 2, one line, nothing left behind


def test_out_is_a_file(acts, tmp_path, capsys):
    (tmp_path / "out").write_text("not a folder")
    assert _fit(acts, "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "cannot create the output folder" in err and "is not a folder" in err
    assert "Traceback" not in err
    assert (tmp_path / "out").read_text() == "not a folder"


def _count_fsyncs(monkeypatch, acts, out) -> int:
    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    assert _fit(acts, "--out", out, "--batch-rows", 30, "--checkpoint-blocks", 1) == 0
    monkeypatch.undo()
    return len(calls)


def test_disk_full_at_every_write(acts, tmp_path, monkeypatch, capsys):
    """ENOSPC at each fsync of a run in turn: checkpoints and each result file."""
    total = _count_fsyncs(monkeypatch, acts, tmp_path / "probe")
    assert total == 4 + 2  # 4 checkpoints (120 rows / 30), descrambler.npy and report.json
    for fail_at in range(total):
        out = tmp_path / f"out{fail_at}"
        calls = []

        def fsync(fd, fail_at=fail_at, calls=calls):
            calls.append(fd)
            if len(calls) - 1 == fail_at:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return None

        monkeypatch.setattr(os, "fsync", fsync)
        code = _fit(acts, "--out", out, "--batch-rows", 30, "--checkpoint-blocks", 1)
        monkeypatch.undo()
        err = capsys.readouterr().err
        assert code == 2, fail_at
        assert "No space left on device" in err and "Traceback" not in err
        assert _leftovers(out) == [], fail_at
        assert not any((out / name).exists() for name in RESULTS), fail_at


def test_read_only_file_system(acts, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert _fit(acts, "--out", out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_open, real_mkdir, real_unlink = os.open, os.mkdir, os.unlink

    def read_only(real):
        def call(path, *args, **kwargs):
            if str(path).startswith(str(out)):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return real(path, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "open", read_only(real_open))
    monkeypatch.setattr(os, "mkdir", read_only(real_mkdir))
    monkeypatch.setattr(os, "unlink", read_only(real_unlink))
    assert _fit(acts, "--out", out, "--center") == 2
    err = capsys.readouterr().err
    assert "Read-only file system" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _fit(acts, "--out", out / "sub") == 2
    assert "cannot create the output folder" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# A failed rerun leaves no result that could be taken for its own


def test_failed_rerun_removes_the_earlier_results(tmp_path, capsys):
    X = _data()
    (tmp_path / "in").mkdir()
    np.save(tmp_path / "in" / "0.npy", X[:60])
    np.save(tmp_path / "in" / "1.npy", X[60:])
    np.save(tmp_path / "w.npy", np.ones((6, 2)))
    out = tmp_path / "out"
    assert _fit(tmp_path / "in", "--weights", tmp_path / "w.npy", "--out", out) == 0
    assert all((out / name).exists() for name in RESULTS)
    bad = X[60:].copy()
    bad[10, 2] = np.nan
    np.save(tmp_path / "in" / "1.npy", bad)
    assert _fit(tmp_path / "in", "--weights", tmp_path / "w.npy", "--out", out) == 2
    assert "NaN or infinity in row 10" in capsys.readouterr().err
    assert not any((out / name).exists() for name in RESULTS)


def test_failed_option_check_keeps_the_earlier_results(acts, tmp_path):
    out = tmp_path / "out"
    assert _fit(acts, "--out", out) == 0
    P = np.load(out / "descrambler.npy")
    assert _fit(acts, "--out", out, "--k", 0) == 2  # nothing ran: the old answer stays valid
    np.testing.assert_array_equal(np.load(out / "descrambler.npy"), P)


# ---------------------------------------------------------------------------------------
# Corrupt checkpoints


def _damaged(data: bytes, rng: np.random.Generator) -> bytes:
    if rng.random() < 0.4:
        return data[: int(rng.integers(0, len(data)))]
    buf = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        buf[int(rng.integers(0, len(buf)))] ^= int(rng.integers(1, 256))
    return bytes(buf)


def test_corrupt_checkpoint_fuzz(acts, tmp_path, capsys):
    """Truncations and byte flips of a real checkpoint: the right answer or a clear error."""
    out = tmp_path / "out"
    assert _fit(acts, "--out", out) == 0
    expected = np.load(out / "descrambler.npy")
    good = (out / "checkpoint.npz").read_bytes()
    rng = np.random.default_rng(2024)
    errors = 0
    for case in range(200):
        (out / "checkpoint.npz").write_bytes(_damaged(good, rng))
        code = _fit(acts, "--out", out, "--resume")
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if code == 0:  # the damage hit bytes nothing reads (a timestamp, a name)
            np.testing.assert_array_equal(np.load(out / "descrambler.npy"), expected)
            continue
        assert code == 2, case
        assert "checkpoint" in err, (case, err)
        errors += 1
    assert errors > 150  # nearly every damage is detected, not silently used


def test_checkpoint_of_other_n_is_refused(acts, tmp_path, capsys):
    out = tmp_path / "out"
    assert _fit(acts, "--out", out) == 0
    ckpt = out / "checkpoint.npz"
    with np.load(ckpt) as z:
        parts = dict(z)
    m = ds.Moments(5).update(_data(n=5))
    count, mean, scatter = m.state()
    parts.update(count=np.int64(count), mean=mean, scatter=scatter)
    np.savez(ckpt, **parts)
    assert _fit(acts, "--out", out, "--resume") == 2
    assert "unreadable checkpoint (holds statistics of n = 5 neurons" in capsys.readouterr().err


def test_report_written_after_resume_is_complete(acts, tmp_path):
    out = tmp_path / "out"
    assert _fit(acts, "--out", out) == 0
    assert _fit(acts, "--out", out, "--resume", "--k", 2) == 0
    assert json.loads((out / "report.json").read_text())["options"]["k"] == 2
    assert np.load(out / "descrambler.npy").shape == (2, 6)

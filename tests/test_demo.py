import os
import re
import subprocess
import sys

import numpy as np
import pytest

import descramble as ds
from descramble import cli, deer, deernet

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NUMBER = r"([-+0-9.e]+)"


def _numbers(text):
    values = {}
    for key in ("objective", "lower bound", "gap"):
        match = re.search(rf"^{key}\s+{NUMBER}", text, flags=re.MULTILINE)
        assert match, f"no {key!r} line in:\n{text}"
        values[key] = float(match.group(1))
    for key in ("ties", "timing"):
        assert re.search(rf"^{key}\s+\S", text, flags=re.MULTILINE), text
    return values


def _reference_bound(traces, seed, smoothness="fourier"):
    """sum_i lambda_i mu_i from numpy: the same traces, preactivations, Gram and operator."""
    net = deernet.load()
    axes = {
        "n_time": net.n_time,
        "t_max": net.t_max,
        "n_distance": net.n_distance,
        "r_min": net.r_min,
        "r_max": net.r_max,
    }
    rng = np.random.default_rng(seed)
    s = np.concatenate(
        [net.preactivations(b.traces) for b in deer.batches(traces, 5000, rng, **axes)]
    )
    mu = np.linalg.eigvalsh(s.T @ s)[::-1]
    d = np.asarray(ds.smoothness.operator(smoothness, net.n_hidden, order=2))
    lam = np.linalg.eigvalsh(d.T @ d)
    return float(np.dot(lam, mu))


def _is_png(path):
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_MAGIC


def test_demo_via_cli_main(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "figs"
    code = cli.main(["demo", "--out", str(out), "--traces", "2000", "--seed", "3"])
    text = capsys.readouterr().out
    assert code == 0
    values = _numbers(text)
    # Orthogonal group: the closed form attains the von Neumann bound.
    assert values["objective"] == pytest.approx(values["lower bound"], rel=1e-9)
    assert abs(values["gap"]) < 1e-9
    # The streamed statistics are those of the traces the seed generates.
    assert values["lower bound"] == pytest.approx(_reference_bound(2000, 3), rel=1e-6)
    assert re.search(r"^traces\s+2000 fresh DEER traces", text, flags=re.MULTILINE)
    for name in ("weights.png", "dft2.png"):
        assert _is_png(out / name), name
        assert str(out / name) in text


def test_demo_via_python_m_subprocess(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "sub"
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "descramble", "demo", "--out", str(out), "--traces", "2000"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    _numbers(proc.stdout)
    assert _is_png(out / "weights.png")
    assert _is_png(out / "dft2.png")


def test_demo_other_smoothness_and_no_figures(tmp_path, capsys):
    out = tmp_path / "none"
    code = cli.main(
        ["demo", "--out", str(out), "--traces", "500", "--smoothness", "neumann", "--no-figures"]
    )
    text = capsys.readouterr().out
    assert code == 0
    values = _numbers(text)
    assert values["lower bound"] == pytest.approx(_reference_bound(500, 0, "neumann"), rel=1e-6)
    assert not out.exists()


def test_demo_without_matplotlib_still_prints_numbers(tmp_path):
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("no matplotlib here")
sys.meta_path.insert(0, Block())
from descramble import cli
sys.exit(cli.main(["demo", "--out", {str(tmp_path / "x")!r}, "--traces", "300"]))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    _numbers(proc.stdout)
    assert 'pip install "descramble[plot]"' in proc.stdout
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("argv", "match"),
    [(["--traces", "0"], "--traces must be at least 1"), (["--batch", "0"], "--batch must be")],
    ids=["no-traces", "no-batch"],
)
def test_demo_rejects_bad_counts(tmp_path, capsys, argv, match):
    assert cli.main(["demo", "--out", str(tmp_path), *argv]) == 2
    assert match in capsys.readouterr().err


def test_demo_rejects_unknown_smoothness(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--smoothness", "wiggly"])
    assert exc.value.code == 2
    assert "invalid choice: 'wiggly'" in capsys.readouterr().err

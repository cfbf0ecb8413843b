"""The kernel-level loader, the CPU probe and show_config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import descramble as ds
from descramble import _core, _cpu, _dispatch

LEVELS = _dispatch.LEVELS
SELECTION = _dispatch.selection()

# Flags of /proc/cpuinfo (Linux's names) for the probe's feature names.
CPUINFO_NAMES = {
    "sse2": "sse2",
    "sse3": "pni",
    "ssse3": "ssse3",
    "sse4_1": "sse4_1",
    "sse4_2": "sse4_2",
    "popcnt": "popcnt",
    "cx16": "cx16",
    "lahf": "lahf_lm",
    "xsave": "xsave",
    "avx": "avx",
    "avx2": "avx2",
    "fma": "fma",
    "f16c": "f16c",
    "bmi1": "bmi1",
    "bmi2": "bmi2",
    "lzcnt": "abm",
    "movbe": "movbe",
    "avx512f": "avx512f",
    "avx512dq": "avx512dq",
    "avx512cd": "avx512cd",
    "avx512bw": "avx512bw",
    "avx512vl": "avx512vl",
}


# --- choosing a level (pure logic, every combination) ----------------------


def test_choose_picks_the_best_level_built_that_the_cpu_runs():
    assert _dispatch.choose_level(None, LEVELS, LEVELS) == "avx512"
    assert _dispatch.choose_level(None, LEVELS, ("baseline", "avx2")) == "avx2"
    assert _dispatch.choose_level(None, LEVELS, ("baseline",)) == "baseline"
    assert _dispatch.choose_level(None, ("baseline", "avx512"), ("baseline", "avx2")) == "baseline"


def test_choose_a_native_build_takes_its_only_module():
    assert _dispatch.choose_level(None, ("native",), ("baseline",)) == "native"
    assert _dispatch.choose_level("native", ("native",), ("baseline",)) == "native"


@pytest.mark.parametrize("level", LEVELS)
def test_choose_honours_a_request_the_cpu_and_build_meet(level):
    assert _dispatch.choose_level(level, LEVELS, LEVELS) == level


def test_choose_unknown_level_names_the_known_ones():
    with pytest.raises(ImportError, match=r"DESCRAMBLE_ISA='sse9' is not a kernel level: "):
        _dispatch.choose_level("sse9", LEVELS, LEVELS)


def test_choose_level_the_cpu_lacks_names_the_cpus_levels():
    with pytest.raises(
        ImportError,
        match=r"DESCRAMBLE_ISA=avx512: this CPU does not support the avx512 level; "
        r"it supports baseline, avx2$",
    ):
        _dispatch.choose_level("avx512", LEVELS, ("baseline", "avx2"))


def test_choose_level_not_built_names_the_built_ones():
    with pytest.raises(
        ImportError,
        match=r"DESCRAMBLE_ISA=avx2: this build of descramble has no avx2 level; "
        r"it has baseline, avx512",
    ):
        _dispatch.choose_level("avx2", ("baseline", "avx512"), LEVELS)


def test_choose_nothing_runnable_says_what_was_built():
    with pytest.raises(ImportError, match=r"the build has avx512, the CPU supports baseline, avx2"):
        _dispatch.choose_level(None, ("avx512",), ("baseline", "avx2"))


# --- the installed package ---------------------------------------------------


def test_the_core_is_the_chosen_levels_module():
    assert SELECTION.level in SELECTION.built
    assert sys.modules["descramble._core"] is _core
    assert _core.__name__ == f"descramble._core_{SELECTION.level}"
    assert _core.build_info()["level"] == SELECTION.level


def test_default_choice_is_the_best_supported_level():
    if SELECTION.requested:
        pytest.skip(f"{_dispatch.ENV_VAR} is set")
    expected = [lvl for lvl in LEVELS if lvl in SELECTION.built and lvl in SELECTION.cpu]
    assert SELECTION.level == ("native" if "native" in SELECTION.built else expected[-1])


def test_supported_levels_are_nested_and_follow_the_features():
    levels = _cpu.supported_levels()
    assert levels[0] == "baseline"
    assert list(levels) == list(LEVELS[: len(levels)])
    features = _cpu.features()
    if features:  # x86-64
        v3 = ("avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "lzcnt", "movbe", "sse4_2", "popcnt")
        assert ("avx2" in levels) == all(features[f] for f in v3)
        v4 = ("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")
        assert ("avx512" in levels) == ("avx2" in levels and all(features[f] for f in v4))


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="Linux only")
def test_probe_agrees_with_the_kernels_cpuinfo():
    features = _cpu.features()
    if not features:
        pytest.skip("not an x86-64 CPU")
    text = Path("/proc/cpuinfo").read_text()
    flags = set(next(ln for ln in text.splitlines() if ln.startswith("flags")).split()[2:])
    for name, linux_name in CPUINFO_NAMES.items():
        assert features[name] == (linux_name in flags), name


def test_show_config_dicts():
    config = ds.show_config(mode="dicts")
    assert config is not None
    level = config["Kernel level"]
    assert level["in use"] == SELECTION.level
    assert level["built"] == list(SELECTION.built)
    assert level["supported by this CPU"] == list(SELECTION.cpu)
    assert set(config["Build"]["flags per level"]) == set(SELECTION.built)
    threads = config["OpenMP"]["threads"]
    assert threads >= 1 and (config["OpenMP"]["enabled"] or threads == 1)
    lanes = {"baseline": 2, "avx2": 4, "avx512": 8}
    if SELECTION.level in lanes and _cpu.features():  # x86-64
        assert level["float64 lanes per vector"] == lanes[SELECTION.level]
    if SELECTION.level == "avx2":
        assert "AVX2, FMA" in level["vector instruction sets"]


def test_show_config_prints(capsys):
    assert ds.show_config() is None
    out = capsys.readouterr().out
    assert f"in use: {SELECTION.level}" in out
    assert "compiler: " in out and "threads: " in out


def test_show_config_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match=r"mode must be 'stdout' or 'dicts', got 'json'"):
        ds.show_config(mode="json")


# --- DESCRAMBLE_ISA in a fresh interpreter -----------------------------------

# Prints the level and a covariance the parent checks against numpy.
_CHILD = """
import numpy as np, descramble as ds
x = np.random.default_rng(5).standard_normal((700, 37))
m = ds.Moments(37).update(x).update(x[:100].astype(np.float32))
print(ds.show_config(mode="dicts")["Kernel level"]["in use"])
np.save(__import__("sys").argv[1], m.covariance())
"""


def _run_child(level: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DESCRAMBLE_ISA=level)
    out = tmp_path / f"{level}.npy"
    return subprocess.run(
        [sys.executable, "-c", _CHILD, str(out)], env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize("level", LEVELS)
def test_env_var_selects_each_runnable_level(level, tmp_path):
    if level not in SELECTION.built or level not in SELECTION.cpu:
        pytest.skip(f"{level} is not built or not supported by this CPU")
    run = _run_child(level, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[-1] == level
    x = np.random.default_rng(5).standard_normal((700, 37))
    full = np.concatenate([x, x[:100].astype(np.float32).astype(np.float64)])
    np.testing.assert_allclose(
        np.load(tmp_path / f"{level}.npy"), np.cov(full, rowvar=False), rtol=1e-12, atol=1e-14
    )


def test_env_var_level_the_cpu_lacks_is_a_clear_error_not_a_crash(tmp_path):
    lacking = [lvl for lvl in SELECTION.built if lvl in LEVELS and lvl not in SELECTION.cpu]
    if not lacking:
        pytest.skip("every level built runs on this CPU")
    run = _run_child(lacking[0], tmp_path)
    assert run.returncode == 1, run.stderr  # an ImportError, not SIGILL (-4)
    assert f"this CPU does not support the {lacking[0]} level" in run.stderr


def test_env_var_unknown_level_is_a_clear_error(tmp_path):
    run = _run_child("sse9", tmp_path)
    assert run.returncode == 1
    assert "DESCRAMBLE_ISA='sse9' is not a kernel level" in run.stderr

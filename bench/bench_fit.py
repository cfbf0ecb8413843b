"""``descramble fit`` on sharded activations against the in-memory answer.

Ours: ``python -m descramble fit FOLDER --out DIR`` in a subprocess (bounded-memory
streaming). Peer: a subprocess that loads every shard into one array and calls
``ds.descramble(X)`` -- what one does when the data fits in memory. Each process's
peak resident memory is measured with ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` in
a wrapper that has no other child; the issue's target is a peak well under the
data size. Full mode: 2 GB of float32 activations (n = 512, 16 shards); quick
mode: 8 MB. The shards are written outside the timed region (to a temporary
folder, deleted afterwards).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from ._harness import MIN_REPEAT, record, summary

_PEER = """
import sys, numpy as np, descramble as ds
from pathlib import Path
files = sorted(Path(sys.argv[1]).glob("*.npy"))
X = np.concatenate([np.load(f) for f in files])
r = ds.descramble(X)
np.save(sys.argv[2], np.asarray(r.P))
print(repr(float(r.objective)))
"""


def _measured(cmd: list[str]) -> tuple[float, int, str]:
    """Wall time, peak RSS (bytes) and stdout of ``cmd`` run as the only child of a wrapper."""
    wrapper = textwrap.dedent(
        f"""
        import resource, subprocess, sys, time
        t = time.perf_counter()
        res = subprocess.run({cmd!r}, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - t
        print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
        print(res.stdout, end="")
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", wrapper], check=True, capture_output=True, text=True
    )
    head, _, rest = res.stdout.partition("\n")
    wall, rss = head.split()
    return float(wall), int(rss), rest


def _write_shards(folder: Path, n: int, rows_per_shard: int, shards: int) -> int:
    rng = np.random.default_rng(0)
    # Correlated columns with a decaying spectrum, like real hidden data.
    mix = (rng.standard_normal((n, n)) * np.linspace(2.0, 0.05, n)).astype(np.float32)
    for k in range(shards):
        z = rng.standard_normal((rows_per_shard, n), dtype=np.float32)
        np.save(folder / f"part-{k:04d}.npy", z @ mix.T)
    return shards * rows_per_shard * n * 4


def run(quick: bool) -> list[dict]:
    n, rows_per_shard, shards = (64, 4096, 8) if quick else (512, 65536, 16)
    tmp = Path(tempfile.mkdtemp(prefix="descramble-bench-fit-"))
    try:
        data = tmp / "shards"
        data.mkdir()
        data_bytes = _write_shards(data, n, rows_per_shard, shards)
        out = tmp / "out"
        ours_cmd = [
            sys.executable,
            "-m",
            "descramble",
            "fit",
            str(data),
            "--out",
            str(out),
            "--quiet",
        ]
        peer_cmd = [sys.executable, "-c", _PEER, str(data), str(tmp / "P_peer.npy")]
        # Alternated, so that a change of load hits both alike.
        runs = [(_measured(ours_cmd), _measured(peer_cmd)) for _ in range(MIN_REPEAT)]
        ours_runs = [o for o, _ in runs]
        peer_runs = [p for _, p in runs]
        ours = max(ours_runs, key=lambda r: r[1])  # the peak memory reported: the largest
        peer = max(peer_runs, key=lambda r: r[1])
        report = json.loads((out / "report.json").read_text())
        P_ours = np.load(out / "descrambler.npy")
        P_peer = np.load(tmp / "P_peer.npy")
        obj_peer = float(peer[2].split()[-1])
        err = float(np.max(np.abs(P_ours - P_peer)))
        obj_rel = abs(report["objective"] - obj_peer) / abs(obj_peer)
        return [
            record(
                "fit",
                f"fit {data_bytes / 1e9:.2f} GB sharded float32, n={n}",
                ours=summary([r[0] for r in ours_runs]),
                peer="np.load all + ds.descramble(X)",
                peer_time=summary([r[0] for r in peer_runs]),
                agree=err < 1e-6 and obj_rel < 1e-9,
                error=err,
                n=n,
                samples=rows_per_shard * shards,
                shards=shards,
                data_bytes=data_bytes,
                peak_rss_ours=ours[1],
                peak_rss_peer=peer[1],
                peak_over_data_ours=ours[1] / data_bytes,
                peak_over_data_peer=peer[1] / data_bytes,
                objective_rel_diff=obj_rel,
                fit_timings=report["timings"],
                date=time.strftime("%Y-%m-%d %H:%M"),
            )
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

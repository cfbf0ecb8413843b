"""The performance tables of docs/performance.md, generated from bench/results/*.json."""

from __future__ import annotations

import json
from pathlib import Path

START = "<!-- bench-table:start -->"
END = "<!-- bench-table:end -->"


def _numpy_kernels(machine: dict) -> str:
    """Which OpenBLAS kernels numpy ran: the ratios depend on them."""
    arch = next(
        (b.get("architecture") for b in machine.get("blas", []) if b.get("architecture")), None
    )
    forced = machine.get("OPENBLAS_CORETYPE")
    if forced:
        return f"{arch or forced} (OPENBLAS_CORETYPE={forced})"
    return arch or "-"


def _notes(params: dict) -> str:
    """Secondary measurements a case carries: other peers, GFLOP/s, accuracy."""
    notes = []
    for key, value in params.items():
        if key.startswith("speedup_vs_") and isinstance(value, float):
            notes.append(f"{value:.2f}x vs {key[len('speedup_vs_') :]}")
    if "ours_gflops" in params:
        notes.append(f"{params['ours_gflops']:.0f} GFLOP/s")
    if "residual" in params and "residual_peer" in params:
        notes.append(f"residual {params['residual'] / params['residual_peer']:.1f}x LAPACK's")
    return ", ".join(notes)


def render(results_dir: Path) -> str:
    rows = []
    machine = None
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("quick"):
            continue
        machine = machine or data["machine"]
        env = _numpy_kernels(data["machine"])
        for c in data["cases"]:
            rows.append(
                f"| {data['area']} | {c['case']} | {c['peer']} | {env} | "
                f"{c['ours_s'] * 1e3:.3g} | {c['peer_s'] * 1e3:.3g} | **{c['speedup']:.2f}x** | "
                f"{_notes(c['params'])} |"
            )
    head = [
        "| area | case | peer | numpy kernels | ours (ms) | peer (ms) | speedup | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    where = ""
    if machine:
        where = (
            f"Measured {machine['date']} on {machine['cpu']} ({machine['cores']} cores), "
            f"numpy {machine['numpy']}; speedup = peer time / our time, both in the same run.\n\n"
        )
    return where + "\n".join(head + rows)


def update_doc(results_dir: Path, doc: Path) -> str:
    table = render(results_dir)
    text = doc.read_text()
    if START in text and END in text:
        before, rest = text.split(START, 1)
        _, after = rest.split(END, 1)
        doc.write_text(f"{before}{START}\n{table}\n{END}{after}")
    return table

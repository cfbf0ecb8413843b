"""The README performance table, generated from bench/results/*.json."""

from __future__ import annotations

import json
from pathlib import Path

START = "<!-- bench-table:start -->"
END = "<!-- bench-table:end -->"


def render(results_dir: Path) -> str:
    rows = []
    machine = None
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("quick"):
            continue
        machine = machine or data["machine"]
        env = "AVX-512 numpy" if path.stem.endswith("-unset") else "default env"
        for c in data["cases"]:
            rows.append(
                f"| {data['area']} | {c['case']} | {c['peer']} | {env} | "
                f"{c['ours_s'] * 1e3:.3g} | {c['peer_s'] * 1e3:.3g} | **{c['speedup']:.2f}x** |"
            )
    head = [
        "| area | case | peer | numpy kernels | ours (ms) | peer (ms) | speedup |",
        "|---|---|---|---|---|---|---|",
    ]
    where = ""
    if machine:
        where = (
            f"Measured {machine['date']} on {machine['cpu']} ({machine['cores']} cores), "
            f"numpy {machine['numpy']}; speedup = peer time / our time, both in the same run.\n\n"
        )
    return where + "\n".join(head + rows)


def update_readme(results_dir: Path, readme: Path) -> str:
    table = render(results_dir)
    text = readme.read_text()
    if START in text and END in text:
        before, rest = text.split(START, 1)
        _, after = rest.split(END, 1)
        readme.write_text(f"{before}{START}\n{table}\n{END}{after}")
    return table

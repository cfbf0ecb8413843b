"""The performance tables of docs/performance.md, generated from bench/results/*.json.

Two kinds of table, both from the committed JSON only:

* the ratios issue #11 names, one table per kernel level of one machine, each
  with its target and whether it is met (:func:`ratio_tables`);
* every case, one table per run (machine, kernel level, numpy's kernels, date),
  so that one machine's header never sits over another machine's rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

START = "<!-- bench-table:start -->"
END = "<!-- bench-table:end -->"
RATIO_START = "<!-- ratio-table:start -->"
RATIO_END = "<!-- ratio-table:end -->"

# (rows, n) of the Moments.update cases #11 names.
MOMENTS_SIZES = ((50_000, 1024), (8192, 4096))
DTYPES = ("float64", "float32")
# The sample array whose descramble time is compared across levels.
SAMPLE_CASE = "descramble(X) X of shape (2000, 80)"


def _moments_cases():
    """(n, dtype, case name of our update against the streaming loop) of the #11 cases."""
    for rows, n in MOMENTS_SIZES:
        for dtype in DTYPES:
            yield n, dtype, f"update n={n} N={rows} {dtype} vs streaming"


@dataclass(frozen=True)
class Run:
    """One JSON file: an area measured at one kernel level on one machine."""

    area: str
    machine: dict
    cases: dict[str, dict]

    @property
    def level(self) -> str | None:
        return self.machine.get("descramble", {}).get("level")

    @property
    def default_level(self) -> bool:
        return bool(self.machine.get("descramble", {}).get("default_level"))

    @property
    def machine_key(self) -> tuple:
        """What makes two runs comparable: the same CPU, date and numpy."""
        m = self.machine
        cpu_levels = tuple(m.get("descramble", {}).get("cpu_levels", ()))
        return (m["cpu"], m["cores"], cpu_levels, m["date"], m["numpy"])


def load(results_dir: Path) -> list[Run]:
    runs = []
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("quick"):
            continue
        cases = {c["case"] + " | " + c["peer"]: c for c in data["cases"]}
        runs.append(Run(data["area"], data["machine"], cases))
    return runs


def numpy_kernels(machine: dict) -> str:
    """Which OpenBLAS kernels numpy ran: the ratios depend on them."""
    ran = sorted({b["architecture"] for b in machine.get("blas", []) if b.get("architecture")})
    forced = machine.get("OPENBLAS_CORETYPE")
    text = ", ".join(ran) or "-"
    return f"{text} (OPENBLAS_CORETYPE={forced})" if forced else text


def _heading(run: Run) -> str:
    m = run.machine
    if run.level is None:
        level = "kernel level not recorded (an older build of the library)"
    else:
        default = ", the default here" if run.default_level else ""
        levels = ", ".join(m["descramble"]["cpu_levels"])
        level = f"`{run.level}` kernels{default} (CPU levels: {levels})"
    return (
        f"{m['cpu']} ({m['cores']} cores), {m['date']}, {level}; "
        f"numpy {m['numpy']} with OpenBLAS {numpy_kernels(m)}"
    )


def _milliseconds(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.3g}"


def _ms(case: dict, side: str) -> str:
    """Median (min-max) in ms; older records carry the median alone."""
    median = _milliseconds(case[f"{side}_s"])
    if f"{side}_min_s" not in case:
        return median
    low, high = (_milliseconds(case[f"{side}_{end}_s"]) for end in ("min", "max"))
    return f"{median} ({low}-{high})"


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
    # The wide-layer checks: memory, accuracy and throughput beside the time.
    wide = {
        "peak_rss_over_statistics": "peak memory {:.2f}x the n x n statistics",
        "child_energy_rel_error": "energy error {:.1e} of the optimum",
        "captured_fraction": "{:.4f} of the optimal energy",
        "estimate_over_true": "error estimate {:.2f}x the true error",
        "fraction_of_dgemm": "{:.2f} of the dgemm limit",
        "child_peak_rss": "peak memory {:.2e} bytes",
    }
    for key, text in wide.items():
        if isinstance(params.get(key), (int, float)):
            notes.append(text.format(params[key]))
    return ", ".join(notes)


def case_tables(runs: list[Run]) -> str:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(_heading(run), []).append(run)
    out = []
    for heading, members in groups.items():
        out += [
            f"#### {heading}",
            "",
            "| area | case | peer | ours (ms) | peer (ms) | speedup | notes |",
            "|---|---|---|---|---|---|---|",
        ]
        for run in members:
            for c in run.cases.values():
                out.append(
                    f"| {run.area} | {c['case']} | {c['peer']} | {_ms(c, 'ours')} | "
                    f"{_ms(c, 'peer')} | **{c['speedup']:.2f}x** | {_notes(c['params'])} |"
                )
        out.append("")
    return "\n".join(out)


def _find(run: Run | None, case: str, peer: str | None = None) -> dict | None:
    if run is None:
        return None
    for c in run.cases.values():
        if c["case"] == case and (peer is None or c["peer"] == peer):
            return c
    return None


def _row(what: str, ours: str, theirs: str, ratio: float | None, target: float | None) -> str:
    if ratio is None:
        return f"| {what} | {ours} | {theirs} | not measured | {_target(target)} | - |"
    if target is None:
        met = "-"
    elif ratio >= target:
        met = "yes"
    else:
        met = f"**no** ({(1 - ratio / target) * 100:.0f}% short)"
    return f"| {what} | {ours} | {theirs} | {ratio:.2f}x | {_target(target)} | {met} |"


def _target(target: float | None) -> str:
    return f">= {target:g}x" if target is not None else "-"


def _pair_row(what: str, c: dict | None, target: float | None) -> str:
    if c is None:
        return _row(what, "-", "-", None, target)
    return _row(what, _ms(c, "ours"), _ms(c, "peer"), c["speedup"], target)


def _across_levels(what: str, mine: dict | None, other: dict | None, target: float) -> str:
    """Our time at this level against our time at another level (other / mine)."""
    if mine is None or other is None:
        return _row(what, "-", "-", None, target)
    ratio = other["ours_s"] / mine["ours_s"]
    return _row(what, _ms(mine, "ours"), _ms(other, "ours"), ratio, target)


def _level_rows(by_area: dict[str, Run], level: str, others: dict[str, dict[str, Run]]) -> list:
    """The rows of one level; ``others``: the same machine's runs of the other levels."""
    is_avx2 = level == "avx2"
    is_default = any(r.default_level for r in by_area.values())
    rows = []
    moments = by_area.get("moments")
    for n, dtype, streaming in _moments_cases():
        rows.append(
            _pair_row(
                f"Moments.update n={n} {dtype} vs np.cov",
                _find(moments, streaming.replace("vs streaming", "vs one-shot")),
                1.0 if is_avx2 else None,
            )
        )
        target = 1.1 if is_avx2 else None
        if is_default and n == 4096:
            target = max(target or 0.0, 1.15)
        rows.append(
            _pair_row(
                f"Moments.update n={n} {dtype} vs numpy's streaming Chan loop",
                _find(moments, streaming),
                target,
            )
        )
    eigh = by_area.get("eigh")
    for n in (1024, 2048, 4096):
        case = _find(eigh, f"eigh n={n}")
        if n == 4096 and case is None and not is_default:
            continue  # measured at the default level only
        target = 1.0 if (is_avx2 and n <= 2048) or is_default else None
        rows.append(_pair_row(f"ds.eigh n={n} vs numpy.linalg.eigh", case, target))
    for n in (1024, 4096):
        rows.append(
            _pair_row(
                f"ds.linear_sum_assignment {n}x{n} uniform vs scipy",
                _find(by_area.get("assignment"), f"uniform {n}x{n}"),
                3.0 if is_avx2 else None,
            )
        )
    default_runs = next(
        (runs for runs in others.values() if any(r.default_level for r in runs.values())), {}
    )
    if is_default:
        rows.append(
            _pair_row(
                "ds.descramble on a (2000, 80) sample array vs the numpy route "
                "(the default level: the other levels' reference)",
                _find(by_area.get("descramble"), SAMPLE_CASE),
                None,
            )
        )
    else:
        rows.append(
            _across_levels(
                "ds.descramble on a (2000, 80) sample array: default level time / this level's",
                _find(by_area.get("descramble"), SAMPLE_CASE),
                _find(default_runs.get("descramble"), SAMPLE_CASE),
                0.5,
            )
        )
    if level == "baseline":
        avx2 = others.get("avx2", {}).get("moments")
        for n, dtype, case in _moments_cases():
            rows.append(
                _across_levels(
                    f"Moments.update n={n} {dtype}: avx2 time / baseline time",
                    _find(moments, case),
                    _find(avx2, case),
                    0.2,
                )
            )
    return rows


def ratio_tables(runs: list[Run]) -> str:
    """Per machine and kernel level: the ratios #11 names, with targets."""
    machines: dict[tuple, dict[str, dict[str, Run]]] = {}
    for run in runs:
        if run.level is not None:
            machines.setdefault(run.machine_key, {}).setdefault(run.level, {})[run.area] = run
    out = []
    for levels in machines.values():
        for level, by_area in levels.items():
            others = {lv: r for lv, r in levels.items() if lv != level}
            out += [
                f"#### {_heading(next(iter(by_area.values())))}",
                "",
                "| ratio | ours (ms) | peer (ms) | ratio | target | met |",
                "|---|---|---|---|---|---|",
                *_level_rows(by_area, level, others),
                "",
            ]
    if not out:
        return "No per-level run is committed yet (`python bench/run.py --isa LEVEL`)."
    return "\n".join(out)


def _replace(text: str, start: str, end: str, table: str) -> str:
    if start not in text or end not in text:
        raise ValueError(f"the performance page has no {start} ... {end} markers")
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}\n{table}\n{end}{after}"


def update_doc(results_dir: Path, doc: Path) -> str:
    runs = load(results_dir)
    ratios, cases = ratio_tables(runs), case_tables(runs)
    text = _replace(doc.read_text(), RATIO_START, RATIO_END, ratios)
    doc.write_text(_replace(text, START, END, cases))
    return ratios + "\n\n" + cases

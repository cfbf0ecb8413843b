"""Shared helpers of the example scripts: command line, output folder, figures, metrics.

Every example is ``python examples/<name>.py --out DIR [--quick] [--seed S]``:
it writes its figures (PNG) into ``DIR``, prints its numbers, and exposes
``run(out, quick=True, seed=0) -> dict`` for ``tests/test_examples.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line every example shares."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", required=True, help="folder for the figures (created if missing)")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: seconds instead of minutes"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random generator")
    return parser.parse_args(argv)


def main(run: Callable[..., dict], description: str, argv: Sequence[str] | None = None) -> int:
    """Parse the command line, call ``run`` and print its numbers as JSON."""
    args = parse_args(description, argv)
    numbers = run(args.out, quick=args.quick, seed=args.seed)
    print(json.dumps(numbers, indent=2, default=_jsonable))
    return 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def out_dir(out: str) -> str:
    """Create the output folder if needed and return it."""
    os.makedirs(out, exist_ok=True)
    return out


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend (scripts run headless)."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - matplotlib is in the plot and test extras
        raise ImportError(
            'the examples draw figures with matplotlib: pip install "descramble[plot]"'
        ) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure(nrows: int, ncols: int, size: tuple):
    """A grid of axes with room for titles, labels and colour bars.

    Fixed margins instead of matplotlib's constrained layout, which costs a second
    per figure on a busy machine.
    """
    fig, axes = pyplot().subplots(nrows, ncols, figsize=size, squeeze=False)
    # About 0.9 inch on the left for the y label and tick labels, whatever the width.
    left = min(0.9 / size[0], 0.2)
    fig.subplots_adjust(left=left, right=0.97, bottom=0.12, top=0.88, wspace=0.45, hspace=0.5)
    return fig, axes


def save(fig, out: str, name: str) -> str:
    """Write ``fig`` as ``out/name.png``, close it, and return the path."""
    path = os.path.join(out_dir(out), name + ".png")
    fig.savefig(path, dpi=100)
    pyplot().close(fig)
    return path


def image(ax, data: np.ndarray, title: str, xlabel: str, ylabel: str, cmap: str = "RdBu_r"):
    """One labelled image panel with its colour bar (symmetric range for signed data)."""
    data = np.asarray(data)
    if cmap == "RdBu_r":
        lim = float(np.max(np.abs(data))) or 1.0
        im = ax.imshow(data, aspect="auto", cmap=cmap, vmin=-lim, vmax=lim, interpolation="none")
    else:
        im = ax.imshow(data, aspect="auto", cmap=cmap, interpolation="none")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.figure.colorbar(im, ax=ax)
    return im


def tied_blocks(values: np.ndarray, rtol: float = 1e-8) -> list:
    """Index blocks of (numerically) equal consecutive entries of a sorted array.

    The smoothness eigenvalues of the Fourier operator come in cos/sin pairs; the
    descrambler does not determine anything inside such a block, so every
    comparison in the examples is made block by block.
    """
    values = np.asarray(values, dtype=float)
    scale = max(float(np.max(np.abs(values))) if values.size else 0.0, 1.0)
    blocks, start = [], 0
    for i in range(1, values.size + 1):
        if i == values.size or abs(values[i] - values[i - 1]) > rtol * scale:
            blocks.append(np.arange(start, i))
            start = i
    return blocks


def loglog_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``log y`` against ``log x``."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def note(message: str) -> None:
    """A remark for the reader, on stderr so that stdout stays pure JSON."""
    print(f"note: {message}", file=sys.stderr)

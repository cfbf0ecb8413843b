"""``descramble demo``: descramble the first layer of the shipped DEERNet on fresh DEER traces.

Simulates DEER traces (:mod:`descramble.deer`), streams the first-layer
preactivations ``s = W1 h + b1`` of the shipped network (:mod:`descramble.deernet`)
batch by batch into :class:`descramble.Moments`, computes the exact descrambler
with its certificate, prints the numbers and timings, and writes two figures: the
raw against the descrambled weights ``P @ W1``, and the centred 2-D DFT
``|fftshift(fft2(P @ W1))|`` (the band-pass filter with a notch of Amey et al.,
PNAS 118(5) e2016917118 (2021), doi:10.1073/pnas.2016917118, explained by Sule,
Spencer, Czaja, ACHA 79 (2025) 101793, doi:10.1016/j.acha.2025.101793).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import deer, deernet, plot
from .descrambler import descramble
from .moments import Moments

SMOOTHNESS = ("fourier", "periodic", "dirichlet", "neumann")
FIGURES = ("weights.png", "dft2.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``descramble demo``."""
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("descramble-demo"),
        help="folder for the figures (default: descramble-demo)",
    )
    parser.add_argument(
        "--traces", type=int, default=20000, help="number of fresh DEER traces (default: 20000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--smoothness",
        choices=SMOOTHNESS,
        default="fourier",
        help="smoothness operator (default: fourier, second order)",
    )
    parser.add_argument(
        "--batch", type=int, default=5000, help="traces per streamed batch (default: 5000)"
    )
    parser.add_argument("--no-figures", action="store_true", help="print the numbers only")


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns the process exit code."""
    if args.traces < 1:
        print(f"descramble demo: --traces must be at least 1, got {args.traces}", file=sys.stderr)
        return 2
    if args.batch < 1:
        print(f"descramble demo: --batch must be at least 1, got {args.batch}", file=sys.stderr)
        return 2

    net = deernet.load()
    print(
        f"descramble demo: the first layer of the shipped DEERNet "
        f"({net.n_time} -> {net.n_hidden} tanh -> {net.n_distance})"
    )

    moments = Moments(net.n_hidden)
    t_generate = t_stream = 0.0
    squared_error = baseline_error = 0.0
    rng = np.random.default_rng(args.seed)
    # Keep generation and streaming apart in the timings: the descrambler only pays
    # for the second (and the solve), the simulator stands in for a real data loader.
    done = 0
    batches = deer.batches(args.traces, args.batch, rng, **_axes(net))
    while True:
        t0 = time.perf_counter()
        data = next(batches, None)
        t_generate += time.perf_counter() - t0
        if data is None:
            break
        t0 = time.perf_counter()
        moments.update(net.preactivations(data.traces))
        t_stream += time.perf_counter() - t0
        prediction = net.predict(data.traces)
        squared_error += float(np.sum((prediction - data.distributions) ** 2))
        mean_distribution = data.distributions.mean(axis=0)
        baseline_error += float(np.sum((data.distributions - mean_distribution) ** 2))
        done += len(data)

    t0 = time.perf_counter()
    result = descramble(moments, smoothness=args.smoothness)
    t_solve = time.perf_counter() - t0
    descrambled = result.apply(net.W1, side="output")

    size = done * net.n_distance
    print(
        f"traces       {done} fresh DEER traces (seed {args.seed}), 0-{net.t_max:g} us, "
        f"distances {net.r_min:g}-{net.r_max:g} nm"
    )
    print(
        f"network      prediction MSE {squared_error / size:.4f} "
        f"(batch-mean distribution: {baseline_error / size:.4f})"
    )
    print(f"smoothness   {args.smoothness}, second order")
    print(f"objective    {result.objective:.10e}")
    print(f"lower bound  {result.lower_bound:.10e}")
    print(f"gap          {result.gap:.3e}")
    print(f"ties         {_ties_summary(result.ties)}")
    print(
        f"timing       generate {t_generate:.3f} s, stream {t_stream:.3f} s "
        f"({done / max(t_stream, 1e-12):.3g} traces/s), solve {t_solve:.4f} s"
    )

    if args.no_figures:
        return 0
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print('figures      skipped: matplotlib is missing; pip install "descramble[plot]"')
        return 0
    paths = _figures(net.W1, descrambled, args.out, args.smoothness)
    print(f"figures      {', '.join(str(p) for p in paths)}")
    return 0


def _axes(net: Any) -> dict:
    """Simulation options matching the axes the network was trained on."""
    return {
        "n_time": net.n_time,
        "t_max": net.t_max,
        "n_distance": net.n_distance,
        "r_min": net.r_min,
        "r_max": net.r_max,
    }


def _ties_summary(ties: Any) -> str:
    """One line on the tied eigenvalue blocks: what the data does not determine.

    ``ties`` is the result's ``{"smoothness": blocks, "data": blocks}`` (blocks of
    indices of tied eigenvalues of L and of G); a plain list of blocks also works.
    """
    if isinstance(ties, dict):
        parts = [f"{name} {_blocks_summary(blocks)}" for name, blocks in ties.items()]
        return "; ".join(parts) if parts else "none"
    return _blocks_summary(ties)


def _blocks_summary(blocks: Any) -> str:
    sizes = [len(b) for b in (blocks or []) if len(b) > 1]
    if not sizes:
        return "none"
    counts = ", ".join(f"{sizes.count(s)} of size {s}" for s in sorted(set(sizes)))
    return f"{len(sizes)} block(s) ({counts}; {sum(sizes)} eigenvalues)"


def _figures(w1: np.ndarray, descrambled: np.ndarray, out: Path, smoothness: str) -> list:
    # Figure objects without pyplot: no GUI backend is touched and nothing stays
    # registered in pyplot's global state when the demo runs inside a session.
    from matplotlib.figure import Figure

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in FIGURES]
    fig = plot.weights(
        w1,
        descrambled,
        fig=Figure(figsize=(11.0, 4.2), layout="constrained"),
        titles=("raw first-layer weights $W_1$", f"descrambled $P W_1$ ({smoothness})"),
        xlabel="input time point",
        ylabel="hidden neuron",
    )
    fig.savefig(paths[0], dpi=120)
    fig = plot.spectrum2d(
        descrambled,
        fig=Figure(figsize=(6.0, 4.8), layout="constrained"),
        title="centred 2-D DFT of $P W_1$",
    )
    fig.savefig(paths[1], dpi=120)
    return paths

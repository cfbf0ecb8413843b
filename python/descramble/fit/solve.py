"""Solving on the streamed statistics, and writing the descrambler, weights and report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import IO, Any

import numpy as np

from .. import _io
from .._version import __version__
from ..descrambler import Descrambling
from .files import publish, remove_outputs

DESCRAMBLER = "descrambler.npy"
WEIGHTS = "weights_descrambled.npy"
REPORT = "report.json"
# report.json last: its presence means the other results are complete.
OUTPUTS = (DESCRAMBLER, WEIGHTS, REPORT)


def remove_earlier_results(out: Path) -> None:
    remove_outputs(out, OUTPUTS)


def json_ready(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): json_ready(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_ready(v) for v in x]
    if isinstance(x, np.ndarray):
        return json_ready(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None if np.isnan(x) else str(x)
    return x


def descrambled_weights(result: Descrambling, W: np.ndarray, side: str) -> np.ndarray:
    """``P @ W`` along W's first axis (side output) or ``W @ P.T`` along its second (input).

    Weights of more than two axes (convolutions: ``(out, in, *kernel)``) are
    flattened to the 2-D case of :meth:`Descrambling.apply` and reshaped back.
    """
    if W.ndim <= 2:
        return np.asarray(result.apply(W, side=side))
    if side == "output":
        flat = result.apply(W.reshape(W.shape[0], -1), side="output")
        return np.asarray(flat).reshape((result.k, *W.shape[1:]))
    moved = np.moveaxis(W, 1, -1)  # (out, *kernel, in)
    flat = result.apply(moved.reshape(-1, W.shape[1]), side="input")
    return np.moveaxis(np.asarray(flat).reshape((*moved.shape[:-1], result.k)), -1, 1)


def _npy(array: np.ndarray):
    return lambda f: np.save(f, array)


def write_results(
    out: Path, result: Descrambling, inputs: Any, args: argparse.Namespace, report: dict
) -> None:
    files: dict[str, Any] = {DESCRAMBLER: _npy(np.asarray(result.P))}
    if inputs.weights is not None:
        files[WEIGHTS] = _npy(descrambled_weights(result, inputs.weights, args.side))
    text = json.dumps(json_ready(report), indent=2).encode()

    def write_report(f: IO[bytes]) -> None:
        f.write(text)

    files[REPORT] = write_report
    publish(out, files)


def make_report(
    result: Descrambling,
    *,
    args: argparse.Namespace,
    inputs: Any,
    samples: int,
    file_hashes: dict[str, str],
    timings: dict[str, float],
    batch_rows: int,
    resumed: bool,
) -> dict:
    weights = inputs.weights
    return {
        "objective": float(result.objective),
        "lower_bound": float(result.lower_bound),
        "gap": float(result.gap),
        "ties": json_ready(result.ties),
        "method": str(result.method),
        "n": inputs.n,
        "samples": samples,
        "timings": timings,
        "inputs": [
            {"path": str(p), "sha256": h, "bytes": Path(p).stat().st_size}
            for p, h in file_hashes.items()
        ],
        "shards": [
            {"label": s.label, "rows": s.rows, "dtype": _io.dtype_name(s)} for s in inputs.shards
        ],
        "weights": None
        if weights is None
        else {
            "path": str(args.weights),
            "key": inputs.weights_name,
            "sha256": inputs.weights_sha,
            "shape": list(weights.shape),
            "side": args.side,
        },
        "options": {
            "smoothness": args.smoothness,
            "order": args.order,
            "group": args.group,
            "center": args.center,
            "k": args.k,
            "side": args.side,
            "batch_rows": batch_rows,
        },
        "resumed": resumed,
        "version": __version__,
    }

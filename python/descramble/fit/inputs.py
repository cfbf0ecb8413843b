"""Opening the inputs of ``descramble fit``: headers and weights, before any data is read."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _io
from .arguments import check_file_options, check_solver_options


@dataclass
class Inputs:
    shards: list[_io.Shard]
    weights: np.ndarray | None
    weights_name: str | None
    weights_sha: str | None

    @property
    def n(self) -> int:
        return self.shards[0].n


def _check_weights(W: np.ndarray, side: str, n: int, label: str) -> None:
    axis = 0 if side == "output" else 1
    if W.ndim <= axis or W.shape[axis] != n:
        want = f"({n}, ...)" if side == "output" else f"(m, {n}, ...)"
        raise _io.InputError(
            f"{label}: for --side {side} the weights need shape {want} to match the {n} neurons "
            f"of the activations, got shape {W.shape}"
        )


def open_inputs(args: argparse.Namespace) -> Inputs:
    """Every check that can fail before streaming: options, headers, the weights.

    The weights are read first of all data: a wrong ``--key`` should fail before
    hours of streaming, not after.
    """
    check_file_options(args)
    shards = _io.open_activations(args.activations, args.activations_key)
    n = shards[0].n
    check_solver_options(args, n)
    if not args.weights:
        return Inputs(shards, None, None, None)
    weights, name = _io.load_weights(args.weights, args.key)
    _check_weights(weights, args.side, n, f"{args.weights}[{name}]")
    return Inputs(shards, weights, name, _io.sha256_file(Path(args.weights)))

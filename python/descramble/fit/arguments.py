"""The options of ``descramble fit`` and their checks against the opened inputs."""

from __future__ import annotations

import argparse

from .. import descrambler
from .errors import FitError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "activations",
        metavar="ACTIVATIONS",
        help="a .npy file, .npz archive, .safetensors file, or a folder of them (sorted by name); "
        "rows are samples, columns are neurons",
    )
    parser.add_argument("--weights", metavar="FILE", help=".npy/.npz/.safetensors/.pt/.pth weights")
    parser.add_argument(
        "--key",
        metavar="NAME",
        help="which array of the .npz/.safetensors/.pt/.pth weights file to use",
    )
    parser.add_argument(
        "--activations-key",
        metavar="NAME",
        help="read only this array of an .npz/.safetensors activations file (default: every "
        "array is a shard)",
    )
    parser.add_argument("--out", metavar="DIR", required=True, help="output folder")
    parser.add_argument(
        "--smoothness",
        default="fourier",
        choices=["fourier", "periodic", "dirichlet", "neumann"],
        help="smoothness operator (default: fourier)",
    )
    parser.add_argument("--order", type=int, default=2, help="derivative order (default: 2)")
    parser.add_argument(
        "--group",
        default="orthogonal",
        choices=["orthogonal", "special", "permutation"],
        help="descrambler group (default: orthogonal)",
    )
    parser.add_argument("--center", action="store_true", help="use the centred covariance")
    parser.add_argument(
        "--k",
        type=int,
        help="keep only the k leading principal directions (1 <= k <= n; --group orthogonal)",
    )
    parser.add_argument(
        "--side",
        default="output",
        choices=["output", "input"],
        help="output: the activations are this layer's outputs, write P @ W; "
        "input: W consumes them (the next layer), write W @ P.T (default: output)",
    )
    parser.add_argument(
        "--batch-rows",
        type=int,
        help="rows per block, >= 1 (default: about 16 MB of float64 per block)",
    )
    parser.add_argument(
        "--checkpoint-blocks",
        type=int,
        default=64,
        help="write a checkpoint every this many blocks (default: 64)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from DIR/checkpoint.npz if present"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or messages")


def check_file_options(args: argparse.Namespace) -> None:
    """Checks that need no input file: they fail before anything is opened."""
    if args.batch_rows is not None and args.batch_rows < 1:
        raise FitError(f"--batch-rows must be >= 1, got {args.batch_rows}")
    if args.checkpoint_blocks < 1:
        raise FitError(f"--checkpoint-blocks must be >= 1, got {args.checkpoint_blocks}")
    if args.key is not None:
        if args.weights is None:
            raise FitError("--key picks an array of the --weights file, but no --weights was given")
        if args.weights.endswith(".npy"):
            raise FitError(
                f"--key {args.key!r}: {args.weights} is a .npy file, which holds one array; "
                "drop --key"
            )


def check_solver_options(args: argparse.Namespace, n: int) -> None:
    """The solver's own checks, run with the ``n`` read from the inputs' headers."""
    try:
        descrambler.check_options(
            n, smoothness=args.smoothness, order=args.order, group=args.group, k=args.k
        )
    except (TypeError, ValueError) as exc:
        raise FitError(f"the activations have n = {n} neurons: {exc}") from None

"""Train the DEERNet-style network shipped with descramble (pure numpy, one core, minutes).

Regenerates ``python/descramble/data/deernet.npz`` from a fixed seed:

    python examples/train_deernet.py            # the shipped weights
    python examples/train_deernet.py --out my.npz --train 20000 --epochs 5

Network: 256 trace points -> 80 tanh -> 256 softplus outputs (the distance
distribution in 1/nm), as in Amey et al., PNAS 118(5) e2016917118 (2021),
doi:10.1073/pnas.2016917118, but much smaller training set and budget. Loss: mean
squared error over all outputs; optimiser: Adam on mini-batches; training traces
are simulated once by :func:`descramble.deer.simulate` from the seed, a separate
validation set from the next draws of the same generator.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from descramble import deer
from descramble.deernet import DeerNet, softplus

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "python" / "descramble" / "data" / "deernet.npz"


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean((pred - target) ** 2))


def forward(params: dict, h: np.ndarray):
    """Return the cached intermediate values needed by :func:`gradients`."""
    z = np.tanh(h @ params["W1"].T + params["b1"])
    a2 = z @ params["W2"].T + params["b2"]
    return z, a2, softplus(a2)


def gradients(params: dict, h: np.ndarray, target: np.ndarray) -> tuple[float, dict]:
    """Loss and its gradient for one mini-batch (backpropagation by hand)."""
    z, a2, y = forward(params, h)
    diff = y - target
    loss = float(np.mean(diff**2))
    # d mean((y - T)^2) / dy, then softplus' = logistic sigmoid.
    d2 = (2.0 / diff.size) * diff / (1.0 + np.exp(-a2))
    d1 = (d2 @ params["W2"]) * (1.0 - z * z)
    return loss, {
        "W2": d2.T @ z,
        "b2": d2.sum(axis=0),
        "W1": d1.T @ h,
        "b1": d1.sum(axis=0),
    }


def train(args: argparse.Namespace) -> DeerNet:
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    data = deer.simulate(args.train, rng)
    valid = deer.simulate(args.valid, rng)
    print(f"simulated {args.train} + {args.valid} traces in {time.perf_counter() - t0:.1f} s")
    h, target = data.traces, data.distributions
    n_in, n_out = h.shape[1], target.shape[1]

    # Glorot-style initialisation; output bias at the softplus preimage of the mean
    # target so training starts from the trivial "mean distribution" predictor.
    mean_target = target.mean(axis=0)
    params = {
        "W1": rng.standard_normal((args.hidden, n_in)) * np.sqrt(1.0 / n_in),
        "b1": np.zeros(args.hidden),
        "W2": rng.standard_normal((n_out, args.hidden)) * np.sqrt(1.0 / args.hidden) * 0.1,
        "b2": np.log(np.expm1(np.maximum(mean_target, 1e-3))),
    }
    baseline = mse(np.broadcast_to(mean_target, valid.distributions.shape), valid.distributions)
    print(f"baseline (mean distribution) validation MSE {baseline:.5f}")

    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(v) for k, v in params.items()}
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step = 0
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        # Step decay in the last third sharpens the minimum without a schedule search.
        lr = args.lr if epoch < 2 * args.epochs // 3 else args.lr * 0.2
        order = rng.permutation(len(h))
        total = 0.0
        for start in range(0, len(h), args.batch):
            idx = order[start : start + args.batch]
            loss, grad = gradients(params, h[idx], target[idx])
            total += loss * len(idx)
            step += 1
            for k in params:
                m[k] = beta1 * m[k] + (1 - beta1) * grad[k]
                v[k] = beta2 * v[k] + (1 - beta2) * grad[k] ** 2
                m_hat = m[k] / (1 - beta1**step)
                v_hat = v[k] / (1 - beta2**step)
                params[k] -= lr * m_hat / (np.sqrt(v_hat) + eps)
        val = mse(forward(params, valid.traces)[2], valid.distributions)
        print(
            f"epoch {epoch + 1:3d}  train MSE {total / len(h):.5f}  validation MSE {val:.5f}  "
            f"({time.perf_counter() - t0:.0f} s)"
        )
    train_loss = mse(forward(params, h)[2], target)
    return DeerNet(
        params["W1"],
        params["b1"],
        params["W2"],
        params["b2"],
        t_max=float(data.time[-1]),
        r_min=float(data.distance[0]),
        r_max=float(data.distance[-1]),
        info={
            "seed": args.seed,
            "n_train": args.train,
            "epochs": args.epochs,
            "train_mse": train_loss,
            "validation_mse": val,
            "baseline_mse": baseline,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="weights file to write")
    parser.add_argument("--seed", type=int, default=20210201)
    parser.add_argument("--train", type=int, default=100_000, help="training traces")
    parser.add_argument("--valid", type=int, default=10_000, help="validation traces")
    parser.add_argument("--hidden", type=int, default=80, help="hidden neurons")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args()
    net = train(args)
    net.save(args.out)
    info = net.info
    print(
        f"wrote {args.out}: train MSE {info['train_mse']:.5f}, validation MSE "
        f"{info['validation_mse']:.5f} (mean-distribution baseline {info['baseline_mse']:.5f})"
    )


if __name__ == "__main__":
    main()

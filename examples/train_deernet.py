"""Train the DEERNet-style network shipped with descramble (torch on CPU, until validation stalls).

Regenerates ``python/descramble/data/deernet.npz`` from a fixed seed:

    python examples/train_deernet.py                 # the shipped weights
    python examples/train_deernet.py --out my.npz --train 50000 --patience 3

Network: 256 trace points -> 80 tanh -> 256 softplus outputs (the distance
distribution in 1/nm), the architecture Amey et al. descrambled (PNAS 118(5)
e2016917118 (2021), doi:10.1073/pnas.2016917118). Loss: mean squared error over
all outputs; optimiser: Adam on mini-batches. Training and validation traces are
simulated by :func:`descramble.deer.simulate` from the seed (validation first, so
its traces do not depend on the size of the training set).

Stopping rule: after each epoch the validation MSE is measured; when it has not
improved by ``--min-delta`` (relative) for ``--patience`` epochs the learning rate
drops tenfold, and after ``--drops`` such drops training ends. The weights with
the best validation MSE are saved, with the batch-mean baseline (predicting the
mean training distribution for every trace) beside it in ``info``.

Inputs are centred by the mean training trace and scaled by one number while
training (this conditions Adam); the centring and scaling are folded into ``W1``
and ``b1`` before saving, so the saved network reads raw traces and ``W1`` keeps
the shape in time that the descrambling analysis studies.

Requires torch (``pip install torch``); uses one thread so that it can share a
machine. The shipped run took 7.5 minutes at low priority on a shared 2-core
machine (1 minute of simulation, then 34 epochs; validation MSE 0.044 of the
batch-mean baseline).
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import numpy as np

from descramble import deer
from descramble.deernet import DeerNet

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "python" / "descramble" / "data" / "deernet.npz"
# Traces simulated per call: bounds the simulator's temporary memory.
SIMULATION_CHUNK = 20_000


def simulate(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` traces and their distributions as float32 arrays, simulated in chunks."""
    traces = np.empty((n, 256), dtype=np.float32)
    targets = np.empty((n, 256), dtype=np.float32)
    for start in range(0, n, SIMULATION_CHUNK):
        data = deer.simulate(min(SIMULATION_CHUNK, n - start), rng)
        traces[start : start + len(data)] = data.traces
        targets[start : start + len(data)] = data.distributions
    return traces, targets


def train(args: argparse.Namespace) -> DeerNet:
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    valid_h, valid_p = simulate(args.valid, rng)
    train_h, train_p = simulate(args.train, rng)
    print(f"simulated {args.train} + {args.valid} traces in {time.perf_counter() - t0:.0f} s")

    mean_trace = train_h.mean(axis=0)
    scale = float(np.sqrt(np.mean((train_h - mean_trace) ** 2)))
    mean_target = train_p.mean(axis=0, dtype=np.float64)
    baseline = float(np.mean((valid_p - mean_target.astype(np.float32)) ** 2))
    print(f"batch-mean baseline: validation MSE {baseline:.5f}")

    x_train = torch.from_numpy((train_h - mean_trace) / scale)
    y_train = torch.from_numpy(train_p)
    x_valid = torch.from_numpy((valid_h - mean_trace) / scale)
    y_valid = torch.from_numpy(valid_p)
    n_in, n_out = x_train.shape[1], y_train.shape[1]

    hidden = torch.nn.Linear(n_in, args.hidden)
    output = torch.nn.Linear(args.hidden, n_out)
    with torch.no_grad():
        # Output bias at the softplus preimage of the mean target and small output
        # weights: training starts from the batch-mean predictor.
        output.weight.mul_(0.1)
        output.bias.copy_(torch.from_numpy(np.log(np.expm1(np.maximum(mean_target, 1e-3)))))
    model = torch.nn.Sequential(hidden, torch.nn.Tanh(), output, torch.nn.Softplus())
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)

    def validation_mse() -> float:
        with torch.no_grad():
            return float(torch.mean((model(x_valid) - y_valid) ** 2))

    best, best_state, best_epoch = validation_mse(), copy.deepcopy(model.state_dict()), 0
    stale, drops, epoch = 0, 0, 0
    lr = args.lr
    t0 = time.perf_counter()
    while drops <= args.drops and epoch < args.max_epochs:
        epoch += 1
        order = torch.randperm(len(x_train))
        total = 0.0
        for start in range(0, len(order), args.batch):
            idx = order[start : start + args.batch]
            loss = torch.mean((model(x_train[idx]) - y_train[idx]) ** 2)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(idx)
        val = validation_mse()
        print(
            f"epoch {epoch:3d}  lr {lr:.1e}  train MSE {total / len(order):.5f}  "
            f"validation MSE {val:.5f} ({val / baseline:.3f} of baseline)  "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        if val < best * (1.0 - args.min_delta):
            best, best_state, best_epoch, stale = val, copy.deepcopy(model.state_dict()), epoch, 0
            continue
        stale += 1
        if stale >= args.patience:
            drops += 1
            stale = 0
            lr *= 0.1
            model.load_state_dict(best_state)
            for group in optimiser.param_groups:
                group["lr"] = lr
            if drops <= args.drops:
                print(f"validation stalled: learning rate down to {lr:.1e}")
    model.load_state_dict(best_state)
    with torch.no_grad():
        train_mse = float(
            np.mean(
                [
                    float(
                        torch.mean((model(x_train[i : i + 50_000]) - y_train[i : i + 50_000]) ** 2)
                    )
                    for i in range(0, len(x_train), 50_000)
                ]
            )
        )

    # Fold the input centring and scaling into the first layer:
    # W (h - m) / c + b = (W / c) h + (b - W m / c).
    w1 = hidden.weight.detach().double().numpy() / scale
    b1 = hidden.bias.detach().double().numpy() - w1 @ mean_trace.astype(np.float64)
    return DeerNet(
        w1,
        b1,
        output.weight.detach().double().numpy(),
        output.bias.detach().double().numpy(),
        t_max=5.0,
        r_min=1.5,
        r_max=6.0,
        info={
            "seed": args.seed,
            "n_train": args.train,
            "n_valid": args.valid,
            "epochs": epoch,
            "best_epoch": best_epoch,
            "train_mse": train_mse,
            "validation_mse": best,
            "baseline_mse": baseline,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="weights file to write")
    parser.add_argument("--seed", type=int, default=20210201)
    parser.add_argument("--train", type=int, default=1_000_000, help="training traces")
    parser.add_argument("--valid", type=int, default=20_000, help="validation traces")
    parser.add_argument("--hidden", type=int, default=80, help="hidden neurons")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--patience", type=int, default=3, help="stale epochs before a drop")
    parser.add_argument("--drops", type=int, default=2, help="learning-rate drops before stopping")
    parser.add_argument("--min-delta", type=float, default=1e-3, help="relative improvement")
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    net = train(args)
    net.save(args.out)
    info = net.info
    print(
        f"wrote {args.out}: validation MSE {info['validation_mse']:.5f}, batch-mean baseline "
        f"{info['baseline_mse']:.5f} (ratio {info['validation_mse'] / info['baseline_mse']:.3f})"
    )


if __name__ == "__main__":
    main()

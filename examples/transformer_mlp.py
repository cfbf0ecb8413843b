"""A small GPT-style transformer: every block's MLP descrambled, then permuted in place.

Task (generated here, nothing is downloaded): each sequence is a sine wave of random
frequency and phase, quantised to ``VOCAB`` levels; the model reads the tokens so far
and predicts the next one, which needs the frequency and phase inferred from the
context. The model is a GPT-style decoder: token and position embeddings, then blocks
of LayerNorm, causal self-attention and a residual add, LayerNorm, an MLP
(``fc1``, GELU, ``fc2``) and a residual add.

After training, one pass over held-out sequences captures the hidden layer of every
block's MLP (after the GELU, every position of every sequence a sample) into
:class:`descramble.Moments` with :func:`descramble.torch.capture`. Each layer is then
descrambled twice: over the orthogonal group (the exact optimum, whose objective
equals the bound) and over permutations (a reordering of the neurons, which
:func:`descramble.torch.permute` applies to the model without changing what it
computes). The figures show each layer's ``fc1`` and ``fc2`` weights raw, reordered
by the permutation and rotated by the orthogonal descrambler.

Run: ``python examples/transformer_mlp.py --out figures/transformer_mlp [--quick]``.
The full run trains for about a minute on one thread.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch
from torch import nn

import descramble as ds
import descramble.torch as dt
from _common import figure, image, main, save

VOCAB, CONTEXT = 16, 24


def sequences(rng: np.random.Generator, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` quantised sine waves: (inputs, next tokens), each (count, CONTEXT)."""
    freq = rng.uniform(0.2, 0.8, (count, 1))
    phase = rng.uniform(0.0, 2 * np.pi, (count, 1))
    wave = np.sin(freq * np.arange(CONTEXT + 1) + phase)
    tokens = np.rint((wave + 1) / 2 * (VOCAB - 1)).astype(np.int64)
    return torch.from_numpy(tokens[:, :-1]), torch.from_numpy(tokens[:, 1:])


class Block(nn.Module):
    """Pre-norm decoder block: causal attention and an MLP, each inside a residual add."""

    def __init__(self, d: int, heads: int, hidden: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.fc1, self.gelu, self.fc2 = nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d)
        causal = torch.triu(torch.ones(CONTEXT, CONTEXT, dtype=torch.bool), diagonal=1)
        self.register_buffer("causal", causal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=self.causal, need_weights=False)[0]
        return x + self.fc2(self.gelu(self.fc1(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, d: int, heads: int, hidden: int, blocks: int):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(VOCAB, d), nn.Embedding(CONTEXT, d)
        self.blocks = nn.Sequential(*[Block(d, heads, hidden) for _ in range(blocks)])
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, VOCAB)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tokens(idx) + self.positions(torch.arange(CONTEXT, device=idx.device))
        return self.head(self.ln(self.blocks(x)))


def train(model: GPT, rng: np.random.Generator, steps: int, batch: int) -> list[float]:
    """AdamW on the next-token cross-entropy, fresh sequences every step; the losses."""
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    losses = []
    model.train()
    for _ in range(steps):
        x, y = sequences(rng, batch)
        loss = nn.functional.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def run(out: str, quick: bool = True, seed: int = 0, figures: bool = True) -> dict:
    """Train, capture every MLP in one pass, descramble each, permute, check the function.

    Returns the training losses (first and last) and held-out accuracy; per layer the
    orthogonal and permutation descramblers' objective, bound and gap and the
    objective of the trained order; and the largest change of the model's output
    after every MLP was permuted by its permutation descrambler.
    """
    torch.set_num_threads(1)  # the machine's cores are shared; one thread is reproducible
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    d, heads, hidden, blocks = (32, 4, 64, 2) if quick else (48, 4, 128, 3)
    steps, batch, held_out = (60, 32, 8) if quick else (500, 64, 16)

    model = GPT(d, heads, hidden, blocks)
    start = time.perf_counter()
    losses = train(model, rng, steps, batch)
    train_seconds = time.perf_counter() - start
    model.eval()

    batches = [sequences(rng, 64) for _ in range(held_out)]
    with torch.no_grad():
        hits = sum(int((model(x).argmax(-1) == y).sum()) for x, y in batches)
    accuracy = hits / (len(batches) * 64 * CONTEXT)

    layers = [f"blocks.{i}.fc1" for i in range(blocks)]
    stats = dt.capture(model, layers, batches, where="post")  # every block in one pass
    D = ds.smoothness.operator("fourier", hidden)
    permuted = copy.deepcopy(model)
    summary, panels = {}, {}
    for name, m in stats.items():
        rot = ds.descramble(m)
        perm = ds.descramble(m, group="permutation")
        G = m.gram()
        summary[name] = {
            "samples": m.count,
            "orthogonal": _certificate(rot),
            "permutation": _certificate(perm),
            # ||D S||^2 in the order training left: what the permutation improves on.
            "trained_order_objective": float(np.sum(D * (D @ G))),
        }
        dt.permute(permuted, name, perm.P)
        block = model.get_submodule(name.rpartition(".")[0])
        W1 = block.fc1.weight.detach().double().numpy()
        W2 = block.fc2.weight.detach().double().numpy()
        panels[name] = (W1, W2, perm, rot)

    with torch.no_grad():
        change = max(float((permuted(x) - model(x)).abs().max()) for x, _ in batches)

    if figures:
        _figures(out, panels)
    return {
        "model": {"d": d, "heads": heads, "hidden": hidden, "blocks": blocks},
        "train": {
            "steps": steps,
            "seconds": train_seconds,
            "loss_first": losses[0],
            "loss_last": float(np.mean(losses[-10:])),
            "held_out_accuracy": accuracy,
        },
        "layers": summary,
        "max_output_change_after_permute": change,
    }


def _certificate(r) -> dict:
    return {"objective": r.objective, "lower_bound": r.lower_bound, "gap": r.gap}


def _figures(out: str, panels: dict) -> None:
    for name, (W1, W2, perm, rot) in panels.items():
        fig, axes = figure(2, 3, (13, 7.5))
        image(axes[0, 0], W1, f"{name}: raw fc1 weights", "input (d)", "hidden neuron")
        image(
            axes[0, 1], perm.apply(W1), "fc1, neurons permuted", "input (d)", "neuron (reordered)"
        )
        image(axes[0, 2], rot.apply(W1), "fc1, rotated (P W1)", "input (d)", "descrambled mode")
        image(axes[1, 0], W2, "raw fc2 weights", "hidden neuron", "output (d)")
        image(
            axes[1, 1],
            perm.apply(W2, side="input"),
            "fc2, neurons permuted",
            "neuron (reordered)",
            "output (d)",
        )
        image(
            axes[1, 2],
            rot.apply(W2, side="input"),
            "fc2, rotated (W2 P^T)",
            "descrambled mode",
            "output (d)",
        )
        save(fig, out, "transformer_mlp_" + name.replace(".", "_"))


if __name__ == "__main__":
    raise SystemExit(main(run, __doc__.splitlines()[0]))

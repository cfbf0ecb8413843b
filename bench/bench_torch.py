"""``ds.torch.capture`` against collecting activations with plain hooks + ``torch.cov``.

Both run the same forward passes over the same batches of an MLP with a wide
hidden layer; ours streams each batch into a Moments inside the hook (memory
O(n^2)), the peer keeps every batch and calls ``torch.cov`` on the concatenation
(memory O(N n)), in float32 as users call it. Agreement: the two covariance
matrices, relative to the largest entry.
"""

from __future__ import annotations

import numpy as np

from ._harness import MIN_REPEAT, REPEAT, record, side_by_side


def _case(torch, dt, d_in: int, hidden: int, n_batches: int, batch: int, quick: bool) -> dict:
    model = torch.nn.Sequential(
        torch.nn.Linear(d_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10)
    ).eval()
    gen = torch.Generator().manual_seed(1)
    batches = [torch.randn(batch, d_in, generator=gen) for _ in range(n_batches)]

    def ours():
        return dt.capture(model, "0", batches, where="post")["0"].covariance()

    def peer():
        kept = []
        handle = model[1].register_forward_hook(lambda m, i, o: kept.append(o.detach()))
        try:
            with torch.no_grad():
                for b in batches:
                    model(b)
        finally:
            handle.remove()
        return torch.cov(torch.cat(kept).T)  # float32, as users call it

    c_ours, c_peer = np.asarray(ours()), peer().double().numpy()
    err = float(np.max(np.abs(c_ours - c_peer)) / np.max(np.abs(c_peer)))
    t_ours, t_peer = side_by_side(ours, peer, repeat=MIN_REPEAT if quick else REPEAT)
    return record(
        "torch",
        f"capture post-ReLU, {d_in}->{hidden}, {n_batches}x{batch} rows",
        ours=t_ours,
        peer="hooks + torch.cov",
        peer_time=t_peer,
        agree=err < 1e-4,  # float32 peer against our float64 accumulation
        error=err,
        hidden=hidden,
        samples=n_batches * batch,
        torch_threads=torch.get_num_threads(),
    )


def run(quick: bool) -> list[dict]:
    try:
        import torch
    except ImportError:  # the torch extra is optional
        return []
    import descramble.torch as dt

    torch.manual_seed(0)
    cases = [(256, 128, 8, 256)] if quick else [(256, 1024, 32, 1024), (512, 1024, 64, 512)]
    return [_case(torch, dt, *c, quick=quick) for c in cases]

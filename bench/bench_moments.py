"""``Moments.update`` against numpy: a streaming Chan loop and one-shot ``np.cov``.

Both peers work in float64, as we do (``np.cov`` converts float32 input). The
streaming peer sees the same batches as we do and centres each one by its own
mean before merging (the numerically sound way to stream in numpy). A
symmetric rank-k update costs ``N n^2`` flops; records carry GFLOP/s on that
count and its fraction of the dgemm limit, the rate of numpy's own float64 GEMM
timed in the same run (so with the OpenBLAS kernels and threads the peers use).
"""

from __future__ import annotations

import os

import numpy as np

from ._harness import REPEAT, record, side_by_side, timing

BATCH_ROWS = 8192
DGEMM_ORDER = 2048  # square GEMM of the dgemm limit: long enough to run at full speed


def _dgemm_limit_gflops(order: int) -> float:
    """GFLOP/s (``2 order^3`` flops) of numpy's float64 ``a @ b``, median of repeats."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, order, order))
    t = timing(lambda: a @ b, settle=True)
    return 2.0 * order**3 / t["median"] / 1e9


def _chan_stream(x: np.ndarray, batch: int) -> tuple[int, np.ndarray, np.ndarray]:
    """The numpy peer: per-batch centring, centred product, exact Chan merge."""
    n = x.shape[1]
    count, mean, m2 = 0, np.zeros(n), np.zeros((n, n))
    for start in range(0, x.shape[0], batch):
        b = x[start : start + batch].astype(np.float64, copy=False)
        nb = b.shape[0]
        mb = b.mean(axis=0)
        bc = b - mb
        total = count + nb
        d = mb - mean
        m2 += bc.T @ bc
        m2 += (count * nb / total) * np.outer(d, d)
        mean = mean + (nb / total) * d
        count = total
    return count, mean, m2


def _ours(x: np.ndarray, batch: int):
    import descramble as ds

    m = ds.Moments(x.shape[1])
    for start in range(0, x.shape[0], batch):
        m.update(x[start : start + batch])
    return m


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def _one_shot_cov(x: np.ndarray) -> np.ndarray:
    import descramble as ds

    return ds.Moments(x.shape[1]).update(x).covariance()


def _small_one_shot(quick: bool) -> list[dict]:
    """Small arrays in one call, covariance included on both sides (fixed costs)."""
    sizes = [(40, 200)] if quick else [(80, 320), (256, 1500), (300, 300)]
    rng = np.random.default_rng(1)
    out = []
    for n, rows in sizes:
        x = rng.standard_normal((rows, n)) + rng.standard_normal(n)
        t_ours, t_cov = side_by_side(
            lambda x=x: _one_shot_cov(x), lambda x=x: np.cov(x, rowvar=False), min_sample=0.02
        )
        err = _rel(_one_shot_cov(x), np.cov(x, rowvar=False))
        out.append(
            record(
                "moments",
                f"one-shot covariance n={n} N={rows} float64",
                ours=t_ours,
                peer="np.cov",
                peer_time=t_cov,
                agree=err < 1e-10,
                error=err,
                n=n,
                N=rows,
                dtype="float64",
                load_average=os.getloadavg()[0],
            )
        )
    return out


def _moments_gram(x: np.ndarray) -> np.ndarray:
    from descramble import _core

    m = _core.Moments(x.shape[1])
    m.update(x)
    return m.gram()


def _syrk(quick: bool) -> list[dict]:
    """``W W^T`` of a tall-skinny ``W^T`` (the objective's product): the core's syrk
    against numpy's ``w @ w.T`` and against the streaming accumulator it replaced."""
    from descramble import _core

    sizes = [(128, 128)] if quick else [(512, 512), (1024, 1024), (2048, 2048)]
    repeat = 3 if quick else REPEAT
    out = []
    for n, k in sizes:
        w = np.random.default_rng(n).standard_normal((n, k))
        ref = w @ w.T
        err = _rel(_core.syrk(w.T), ref)
        peers = {
            "numpy w @ w.T": lambda w=w: w @ w.T,
            "Moments(n).update(w.T).gram()": lambda w=w: _moments_gram(w.T),
        }
        ours, *theirs = side_by_side(
            lambda w=w: _core.syrk(w.T), *peers.values(), repeat=repeat, settle=True
        )
        for peer, peer_time in zip(peers, theirs, strict=True):
            out.append(
                record(
                    "moments",
                    f"syrk W W^T n={n} k={k} vs {peer}",
                    ours=ours,
                    peer=peer,
                    peer_time=peer_time,
                    agree=err < 1e-12,
                    error=err,
                    n=n,
                    k=k,
                    load_average=os.getloadavg()[0],
                )
            )
    return out


def run(quick: bool) -> list[dict]:
    sizes = [(64, 3000), (200, 2000)] if quick else [(256, 200_000), (1024, 50_000), (4096, 8192)]
    repeat = 3 if quick else REPEAT
    rng = np.random.default_rng(0)
    dgemm_gflops = _dgemm_limit_gflops(256 if quick else DGEMM_ORDER)
    out = []
    for n, rows in sizes:
        base = rng.standard_normal((rows, n)) + rng.standard_normal(n)
        for dtype in (np.float64, np.float32):
            x = base.astype(dtype)
            name = np.dtype(dtype).name
            flops = float(rows) * n * n
            ours_m = _ours(x, BATCH_ROWS)
            scatter = ours_m.scatter()
            t_ours, t_chan, t_cov = side_by_side(
                lambda x=x: _ours(x, BATCH_ROWS),
                lambda x=x: _chan_stream(x, BATCH_ROWS),
                lambda x=x: np.cov(x, rowvar=False),
                repeat=repeat,
                settle=True,
            )
            err_chan = _rel(scatter, _chan_stream(x, BATCH_ROWS)[2])
            err_cov = _rel(ours_m.covariance(), np.cov(x, rowvar=False))
            common = {
                "n": n,
                "N": rows,
                "dtype": name,
                "batch_rows": BATCH_ROWS,
                "ours_gflops": flops / t_ours["median"] / 1e9,
                "dgemm_gflops": dgemm_gflops,
                "fraction_of_dgemm": flops / t_ours["median"] / 1e9 / dgemm_gflops,
                # Shared machines: the 1-minute load average says how much of
                # the 2 cores the timings really had.
                "load_average": os.getloadavg()[0],
            }
            for vs, peer, t_peer, err in (
                ("streaming", "numpy Chan loop", t_chan, err_chan),
                ("one-shot", "np.cov", t_cov, err_cov),
            ):
                out.append(
                    record(
                        "moments",
                        f"update n={n} N={rows} {name} vs {vs}",
                        ours=t_ours,
                        peer=peer,
                        peer_time=t_peer,
                        agree=err < 1e-10,
                        error=err,
                        peer_gflops=flops / t_peer["median"] / 1e9,
                        **common,
                    )
                )
    return out + _small_one_shot(quick) + _syrk(quick)

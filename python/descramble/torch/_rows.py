"""Layer outputs as sample rows, and the per-layer buffer that feeds them to the statistics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._lazy import require_torch


def to_rows(t: Any, axis: str, conv: str) -> np.ndarray:
    """(samples, neurons) float32/float64 numpy rows from a layer output tensor."""
    torch = require_torch()
    t = t.detach()
    if t.dtype not in (torch.float32, torch.float64):
        if not t.is_floating_point():
            raise TypeError(f"expected a floating-point layer output, got {t.dtype}")
        t = t.float()  # float16/bfloat16: upcast per batch
    if t.ndim == 0:
        raise ValueError("a layer output must have at least one dimension, got a scalar")
    if axis == "last" or t.ndim <= 2:
        if t.ndim == 1:
            t = t.reshape(1, -1)
        rows = t.reshape(-1, t.shape[-1])
    elif conv == "channels":
        rows = t.movedim(1, -1).reshape(-1, t.shape[1])
    else:
        rows = t.reshape(t.shape[0], -1)
    return rows.cpu().numpy()


BUFFER_ROWS = 8192
BUFFER_BYTES = 32 << 20


@dataclass
class Tap:
    """One captured layer: its statistics and a bounded buffer of pending rows.

    Small batches are copied into the buffer and handed to the statistics' ``update`` in
    panels of up to ``BUFFER_ROWS`` rows (and ``BUFFER_BYTES``): the blocked
    update runs much faster on large panels, and hands the CPU back to torch far
    less often. Memory stays O(n^2 + buffer).
    """

    name: str
    axis: str
    post: Callable[[Any], Any] | None = None  # the activation applied for where="post"
    stats: Any = None
    calls: int = 0
    buffer: Any = None
    filled: int = 0

    def add(self, rows: np.ndarray, statistics: Callable[[int], Any]) -> None:
        if self.stats is None:
            self.stats = statistics(rows.shape[1])
            row_bytes = max(1, rows.itemsize * rows.shape[1])
            cap = max(1, min(BUFFER_ROWS, BUFFER_BYTES // row_bytes))
            self.buffer = np.empty((cap, rows.shape[1]), rows.dtype)
        if rows.shape[1] != self.buffer.shape[1] or rows.dtype != self.buffer.dtype:
            self.flush()
            self.stats.update(rows)  # the statistics report a width mismatch clearly
            return
        cap = self.buffer.shape[0]
        if rows.shape[0] >= cap:
            self.flush()
            self.stats.update(rows)
            return
        if self.filled + rows.shape[0] > cap:
            self.flush()
        self.buffer[self.filled : self.filled + rows.shape[0]] = rows
        self.filled += rows.shape[0]

    def flush(self) -> None:
        if self.filled:
            self.stats.update(self.buffer[: self.filled])
            self.filled = 0

"""Parameter lists and reference formulas shared by several test modules."""

from __future__ import annotations

import numpy as np

# Every boundary kind of ``ds.smoothness`` at the orders the library is tested at;
# modules that test more orders extend this list.
KIND_ORDERS = [
    ("fourier", 1),
    ("fourier", 2),
    ("fourier", 3),
    ("periodic", 1),
    ("periodic", 2),
    ("dirichlet", 1),
    ("dirichlet", 2),
    ("neumann", 1),
    ("neumann", 2),
]


def kind_order_ids(kind_orders: list[tuple[str, int]]) -> list[str]:
    """Readable pytest ids such as ``fourier-2``."""
    return [f"{k}-{o}" for k, o in kind_orders]


def fourdif2_column(n: int) -> np.ndarray:
    """First column of fourdif's second-derivative matrix, written out from PAPER.md section 3."""
    h = 2 * np.pi / n
    k = np.arange(1, n)
    col = np.empty(n)
    if n % 2 == 0:
        col[0] = -(np.pi**2) / (3 * h**2) - 1 / 6
        col[1:] = -0.5 * (-1.0) ** k / np.sin(k * h / 2) ** 2
    else:
        col[0] = -(np.pi**2) / (3 * h**2) + 1 / 12
        col[1:] = -0.5 * (-1.0) ** k / (np.sin(k * h / 2) * np.tan(k * h / 2))
    return col

"""Parameter lists shared by several test modules."""

from __future__ import annotations

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

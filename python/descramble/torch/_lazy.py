"""The one place that imports PyTorch, on first use, so ``descramble`` imports without it."""

from __future__ import annotations

from typing import Any


def require_torch() -> Any:
    """``torch`` with ``torch.fx`` loaded, or an ImportError that says how to install it."""
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            'descramble.torch needs PyTorch: pip install "descramble[torch]"'
        ) from exc
    return torch

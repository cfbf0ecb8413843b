"""torch's own transformer layers, whose feed-forward path is known without tracing.

``nn.TransformerEncoderLayer`` and ``nn.TransformerDecoderLayer`` cannot be traced
by torch.fx (their forward inspects the input to choose a fused fast path), but
torch fixes what their feed-forward block computes:
``linear2(dropout(activation(linear1(x))))``. The hidden neurons of that block --
the outputs of ``linear1`` -- therefore reach ``activation``, a dropout and the
input columns of ``linear2``, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._lazy import require_torch
from ._tables import elementwise_functions, elementwise_modules


@dataclass(frozen=True)
class FeedForward:
    """The feed-forward block of a torch transformer layer, seen from its ``linear1``."""

    block: str  # the transformer layer's name
    linear1: Any
    linear2: Any
    activation: Any  # a function (F.relu, F.gelu) or a module, as torch stores it

    def elementwise_activation(self) -> Callable[[Any], Any] | None:
        """The activation as a callable if it is known to act entrywise, else None."""
        torch = require_torch()
        act = self.activation
        if isinstance(act, torch.nn.Module):
            return act if isinstance(act, elementwise_modules(torch.nn)) else None
        return act if act in elementwise_functions(torch) else None


def feedforward_of(model: Any, layer: str) -> FeedForward | None:
    """The feed-forward block whose ``linear1`` is ``layer``, if it is one (else None).

    Only the exact torch classes count (a subclass may override ``forward``), and
    only when neither linear layer is also registered elsewhere in the model, where
    it could be called with other inputs.
    """
    nn = require_torch().nn
    parent_name, _, child = layer.rpartition(".")
    if child != "linear1":
        return None
    parent = model.get_submodule(parent_name) if parent_name else model
    if type(parent) not in (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer):
        return None
    uses = [m for _, m in model.named_modules(remove_duplicate=False)]
    if sum(m is parent.linear1 for m in uses) != 1 or sum(m is parent.linear2 for m in uses) != 1:
        return None
    return FeedForward(parent_name, parent.linear1, parent.linear2, parent.activation)

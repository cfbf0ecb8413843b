"""Follow a layer's output neurons through the model to every module that consumes them.

The fx graph is walked from the layer's node; each consumer goes to its handler in
``_handlers``, which refuses or says which parameters to reorder and where the
neurons go next. Nothing is modified here: the caller applies the edits once the
whole graph is proven. torch's own transformer layers, which fx cannot trace, are
handled from their known structure (``_blocks``).
"""

from __future__ import annotations

from typing import Any

from ._blocks import FeedForward, feedforward_of
from ._graph import layer_node, trace
from ._handlers import Edit, Walk, dispatch, function_handlers, module_handlers
from ._lazy import require_torch


def source_axis(module: Any, nn: Any, layer: str) -> str:
    """The neurons' axis in the output of a layer whose outputs can be permuted."""
    if isinstance(module, nn.Linear):
        return "last"
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        if module.groups != 1:
            raise ValueError(
                f"layer {layer!r} is a grouped convolution (groups={module.groups}): permuting "
                "its output channels would move them across groups"
            )
        return "channel"
    raise ValueError(
        f"layer {layer!r} is a {type(module).__name__}; permute supports nn.Linear and "
        "nn.Conv1d/2d/3d layers"
    )


def propagate(model: Any, layer: str, n: int, *, orthogonal: bool) -> list[Edit]:
    """Walk the fx graph from ``layer``'s output to every consumer; return the edits.

    ``orthogonal``: only identity-like modules may sit between the layer and the
    consuming Linear layers (a rotation does not commute with nonlinearities).
    """
    torch = require_torch()
    src_module = model.get_submodule(layer)
    axis0 = source_axis(src_module, torch.nn, layer)
    if orthogonal and axis0 != "last":
        raise ValueError(f"apply_orthogonal supports nn.Linear layers, {layer!r} is not one")
    edits = [Edit(src_module, "weight", 0)]
    if src_module.bias is not None:
        edits.append(Edit(src_module, "bias", 0))
    ff = feedforward_of(model, layer)
    if ff is not None:
        return edits + _feedforward_edits(ff, layer, orthogonal)

    why = "permute needs the graph to prove which modules consume the layer's output"
    gm = trace(model, why)
    walk = Walk(layer, n, orthogonal, dict(model.named_modules()), torch)
    start = layer_node(gm, layer)
    modules = module_handlers(torch.nn)
    functions = function_handlers(torch)
    stack = [(start, axis0)]
    seen: set = set()
    while stack:
        node, state = stack.pop()
        for user in list(node.users):
            if (user, state) in seen:
                continue
            seen.add((user, state))
            step = dispatch(walk, modules, functions, node, user, state)
            edits.extend(step.edits)
            if step.state is not None:
                stack.append((user, step.state))
    return edits


def _feedforward_edits(ff: FeedForward, layer: str, orthogonal: bool) -> list[Edit]:
    """A torch transformer layer's hidden neurons pass its activation and reach linear2."""
    if orthogonal:
        raise ValueError(
            f"cannot rotate the outputs of {layer!r}: they reach the activation of "
            f"{ff.block!r}, a nonlinearity that does not commute with a rotation"
        )
    if ff.elementwise_activation() is None:
        raise ValueError(
            f"cannot permute the outputs of {layer!r}: they reach the activation "
            f"{ff.activation!r} of {ff.block!r}, whose behaviour under a permutation is not known"
        )
    return [Edit(ff.linear2, "weight", 1)]

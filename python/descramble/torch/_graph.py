"""The model as a torch.fx graph: tracing, finding a layer's node, naming nodes in messages."""

from __future__ import annotations

from typing import Any

from ._lazy import require_torch
from ._tables import feature_axis


def trace(model: Any, why: str) -> Any:
    """``torch.fx.symbolic_trace(model)``, or a ValueError that says why the graph was needed."""
    torch = require_torch()
    try:
        return torch.fx.symbolic_trace(model)
    except Exception as exc:  # fx raises many kinds (TraceError, TypeError, ...) on dynamic code
        raise ValueError(
            f"cannot trace the model with torch.fx ({type(exc).__name__}: {exc}); {why}"
        ) from exc


def layer_node(gm: Any, layer: str) -> Any:
    """The single graph node that calls module ``layer``."""
    nodes = [n for n in gm.graph.nodes if n.op == "call_module" and n.target == layer]
    if not nodes:
        raise ValueError(
            f"layer {layer!r} is not called as a module in the traced graph (is it a container, "
            "or used through its .weight in a functional call?)"
        )
    if len(nodes) > 1:
        raise ValueError(
            f"layer {layer!r} is called {len(nodes)} times per forward pass (shared weights): "
            "a permutation of its outputs cannot be pushed through each use separately"
        )
    return nodes[0]


def describe(node: Any) -> str:
    """A node as the error messages name it."""
    if node.op == "call_module":
        return f"module {node.target!r}"
    if node.op == "call_function":
        name = getattr(node.target, "__name__", str(node.target))
        return f"function {name} (node {node.name!r})"
    if node.op == "call_method":
        return f"method .{node.target}() (node {node.name!r})"
    if node.op == "output":
        return "the model's output"
    return f"{node.op} {node.target!r}"


def only_this_tensor(node: Any, src: Any) -> bool:
    """True when ``src`` is the only graph value among ``node``'s arguments."""
    fx = require_torch().fx
    others: list[Any] = []

    def collect(a: Any) -> Any:
        others.append(a)
        return a

    fx.node.map_arg((node.args, node.kwargs), collect)
    return all(a is src for a in others)


def resolve(model: Any, layer: str) -> Any:
    """The module named ``layer``, or a ValueError listing the names there are."""
    modules = dict(model.named_modules())
    if layer not in modules or not layer:
        names = ", ".join(name for name in modules if name)
        raise ValueError(f"unknown layer {layer!r}; the model's modules are: {names}")
    return modules[layer]


def inherit_axis(model: Any, layer: str) -> str | None:
    """Feature axis of an activation/dropout module: that of the layer feeding it (via fx)."""
    torch = require_torch()
    try:
        gm = torch.fx.symbolic_trace(model)
        node = layer_node(gm, layer)
    except Exception:
        return None
    modules = dict(model.named_modules())
    while True:
        srcs = node.all_input_nodes
        if len(srcs) != 1:
            return None
        node = srcs[0]
        if node.op == "call_module":
            axis = feature_axis(modules[node.target], torch.nn)
            if axis is not None:
                return axis
        elif node.op == "placeholder":
            return None

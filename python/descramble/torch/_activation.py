"""For ``capture(where="post")``: the elementwise activation that follows a layer, as a callable."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

from ._blocks import feedforward_of
from ._graph import describe, layer_node, only_this_tensor, trace
from ._lazy import require_torch
from ._tables import elementwise_functions, elementwise_modules, identity_modules


def post_activation(model: Any, layer: str, module: Any) -> tuple[Callable | None, str]:
    """The activation applied to ``layer``'s output, as a callable, and how it was found.

    Returns ``(None, "self")`` when ``layer`` is itself an elementwise activation (its
    own output is the post-activation). Otherwise the unique consumer of the layer's
    output, skipping identity/dropout modules, must be an elementwise activation
    module or function. For the ``linear1`` of a torch transformer layer that is
    the layer's ``activation``. Inside an ``nn.Sequential`` that is the next module (the
    container feeds each output to the next child only, so no tracing is needed);
    the last child of a Sequential, and layers of other models, are looked up in
    the torch.fx graph.
    """
    torch = require_torch()
    nn = torch.nn
    if isinstance(module, elementwise_modules(nn)):
        return None, "self"
    ff = feedforward_of(model, layer)
    if ff is not None:
        act = ff.elementwise_activation()
        if act is None:
            raise ValueError(
                f"where='post': the activation {ff.activation!r} of {ff.block!r} is not a known "
                "elementwise activation; capture where='pre'"
            )
        return act, "block"
    nxt = _next_in_sequential(model, layer)
    if nxt is not None:
        name, mod = nxt
        if isinstance(mod, elementwise_modules(nn)):
            return mod, "sequential"
        raise _not_an_activation(layer, f"module {name!r}", mod)
    why = "pass the activation module's name with where='post' instead"
    gm = trace(model, f"cannot find the activation after {layer!r}; {why}")
    node = layer_node(gm, layer)
    skip = identity_modules(nn)
    funcs = elementwise_functions(torch)
    modules = dict(model.named_modules())
    while True:
        users = list(node.users)
        if len(users) != 1:
            raise ValueError(
                f"where='post': the output of {layer!r} is used {len(users)} times, so there is "
                "no single activation after it; capture where='pre', or name the activation "
                "module itself"
            )
        (user,) = users
        if user.op == "call_module":
            mod = modules[user.target]
            if isinstance(mod, skip):
                node = user
                continue
            if isinstance(mod, elementwise_modules(nn)):
                return mod, "fx"
            raise _not_an_activation(layer, describe(user), mod)
        if user.op == "call_function" and user.target in funcs and user.args[0] is node:
            if not only_this_tensor(user, node):
                break
            kwargs = dict(user.kwargs)
            kwargs.pop("inplace", None)
            return functools.partial(_call_with, user.target, user.args[1:], kwargs), "fx"
        if user.op == "call_method" and user.target in {"relu", "tanh", "sigmoid"}:
            return operator.methodcaller(user.target), "fx"
        break
    raise ValueError(
        f"where='post': the output of {layer!r} goes into {describe(user)}, which is not an "
        "elementwise activation; capture where='pre', or name the activation module itself"
    )


def _not_an_activation(layer: str, target: str, mod: Any) -> ValueError:
    """The error for where='post' when the layer's output feeds a non-elementwise module."""
    return ValueError(
        f"where='post': the output of {layer!r} goes into {target} "
        f"({type(mod).__name__}), not an elementwise activation; capture that module "
        "with where='post' instead, or use where='pre'"
    )


def _call_with(fn: Callable, args: tuple, kwargs: dict, x: Any) -> Any:
    return fn(x, *args, **kwargs)


def _next_in_sequential(model: Any, layer: str) -> tuple[str, Any] | None:
    """The module after ``layer`` in its ``nn.Sequential``, skipping identity/dropout."""
    nn = require_torch().nn
    parent_name, _, child = layer.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    if not isinstance(parent, nn.Sequential):
        return None
    names = [k for k, _ in parent.named_children()]
    for nxt in names[names.index(child) + 1 :]:
        mod = parent.get_submodule(nxt)
        if not isinstance(mod, identity_modules(nn)):
            return (f"{parent_name}.{nxt}" if parent_name else nxt), mod
    return None

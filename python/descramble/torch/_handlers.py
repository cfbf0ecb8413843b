"""One handler per kind of fx graph node: what it does to the neurons that reach it.

A handler either refuses (a ValueError saying why the change would not preserve the
model's function) or returns a :class:`Step`: the parameter edits that node needs and
the state in which the neurons leave it. The state says where the neurons sit in a
tensor: ``"last"`` (the last axis, as after ``nn.Linear``), ``"channel"`` (dim 1, as
after a convolution) or ``"flat"`` (channels flattened into contiguous blocks of a
size that the consuming Linear resolves).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._graph import describe, only_this_tensor
from ._tables import (
    ELEMENTWISE_METHODS,
    NONLINEAR_METHODS,
    RESHAPE_METHODS,
    SCALAR_OPS,
    SHAPE_METHODS,
    channel_dropout_modules,
    combining_functions,
    elementwise_functions,
    elementwise_modules,
    identity_modules,
    pool_modules,
)


@dataclass
class Edit:
    """A deferred in-place change: nothing is modified until the whole graph is proven."""

    module: Any
    attr: str
    dim: int
    block: int = 1  # >1: permute blocks of this many entries (channels flattened by Flatten)


@dataclass(frozen=True)
class Step:
    """What one consumer needs: its edits, and the neurons' state after it (None: they end)."""

    edits: tuple[Edit, ...] = ()
    state: str | None = None


@dataclass
class Walk:
    layer: str
    n: int
    orthogonal: bool
    modules: dict[str, Any]
    torch: Any

    def refuse(self, node: Any, reason: str) -> ValueError:
        verb = "rotate" if self.orthogonal else "permute"
        return ValueError(
            f"cannot {verb} the outputs of {self.layer!r}: they reach {describe(node)}, {reason}"
        )

    def unknown(self, node: Any) -> ValueError:
        return self.refuse(node, "whose behaviour under a permutation is not known")


ModuleHandler = Callable[[Walk, Any, Any, str], Step]  # (walk, node, module, state)
NodeHandler = Callable[[Walk, Any, Any, str], Step]  # (walk, source node, node, state)


def dispatch(
    walk: Walk,
    modules: list[tuple[tuple[type, ...], ModuleHandler, bool]],
    functions: dict[Any, NodeHandler],
    src: Any,
    user: Any,
    state: str,
) -> Step:
    """Dispatch one consumer of ``src`` to its handler."""
    if user.op == "output":
        raise walk.refuse(user, "so permuting them would change what the model returns")
    if user.op == "call_module":
        mod = walk.modules[user.target]
        for types, handler, rotations_too in modules:
            if isinstance(mod, types) and (rotations_too or not walk.orthogonal):
                return handler(walk, user, mod, state)
        raise walk.refuse(
            user,
            f"a {type(mod).__name__} module, whose behaviour under a permutation of its "
            "inputs is not known",
        )
    table: dict[Any, NodeHandler] = {}
    if user.op == "call_function":
        table = functions
    elif user.op == "call_method":
        table = _METHOD_HANDLERS
    node_handler = table.get(user.target)
    if node_handler is None:
        raise walk.unknown(user)
    return node_handler(walk, src, user, state)


# ---------------------------------------------------------------------------------------
# Modules


def _identity(walk: Walk, user: Any, mod: Any, state: str) -> Step:
    nn = walk.torch.nn
    if walk.orthogonal and not isinstance(mod, nn.Identity) and getattr(mod, "training", False):
        raise walk.refuse(user, "dropout in training mode (call model.eval())")
    if isinstance(mod, channel_dropout_modules(nn)) and state != "channel":
        raise walk.refuse(user, "channel dropout on data that are not channels")
    return Step(state=state)


def _prelu(walk: Walk, user: Any, mod: Any, state: str) -> Step:
    if mod.num_parameters == walk.n and state != "flat":
        return Step((Edit(mod, "weight", 0),), state)
    if mod.num_parameters != 1:
        raise walk.refuse(user, f"PReLU with {mod.num_parameters} parameters")
    return Step(state=state)


def _elementwise_module(walk: Walk, user: Any, mod: Any, state: str) -> Step:
    if walk.orthogonal:
        raise walk.refuse(
            user,
            f"a nonlinearity ({type(mod).__name__}) that does not commute with a rotation",
        )
    return Step(state=state)


def _linear(walk: Walk, user: Any, mod: Any, state: str) -> Step:
    """A consumer: its input columns (blocks of columns after a Flatten) follow the neurons."""
    if state == "channel":
        raise walk.refuse(user, "a Linear layer applied to channel-first data")
    if state == "flat":
        if mod.in_features % walk.n:
            raise walk.refuse(
                user,
                f"in_features {mod.in_features} is not a multiple of the {walk.n} "
                "flattened channels",
            )
        return Step((Edit(mod, "weight", 1, mod.in_features // walk.n),))
    if mod.in_features != walk.n:
        raise walk.refuse(user, f"in_features {mod.in_features} != {walk.n}")
    return Step((Edit(mod, "weight", 1),))


def _conv(walk: Walk, user: Any, mod: Any, state: str) -> Step:
    if state != "channel":
        raise walk.refuse(user, "a convolution whose input channels are not the permuted neurons")
    if mod.groups == 1:
        return Step((Edit(mod, "weight", 1),))
    if mod.groups == mod.in_channels == mod.out_channels:
        # Depthwise: each channel is filtered alone, so the permutation passes through
        # to its outputs.
        edits = [Edit(mod, "weight", 0)]
        if mod.bias is not None:
            edits.append(Edit(mod, "bias", 0))
        return Step(tuple(edits), state)
    raise walk.refuse(user, f"a grouped convolution (groups={mod.groups})")


def _per_neuron(mod: Any, attrs: tuple[str, ...], state: str) -> Step:
    """A module with one parameter (or running statistic) per neuron: reorder them all."""
    edits = tuple(Edit(mod, a, 0) for a in attrs if getattr(mod, a, None) is not None)
    return Step(edits, state)


def _batchnorm(walk: Walk, user: Any, mod: Any, state: str) -> Step:
    if state == "flat" or mod.num_features != walk.n:
        raise walk.refuse(
            user,
            f"a BatchNorm over {mod.num_features} features that are not the {walk.n} "
            "permuted neurons",
        )
    return _per_neuron(mod, ("weight", "bias", "running_mean", "running_var"), state)


def _layernorm(walk: Walk, user: Any, mod: Any, state: str) -> Step:
    if state != "last" or tuple(mod.normalized_shape) != (walk.n,):
        raise walk.refuse(
            user,
            f"a LayerNorm over {tuple(mod.normalized_shape)} that does not normalise "
            "exactly the permuted neurons",
        )
    return _per_neuron(mod, ("weight", "bias"), state)


def _pool(walk: Walk, user: Any, mod: Any, state: str) -> Step:
    if state != "channel":
        raise walk.refuse(user, "pooling over data whose channels are not the neurons")
    return Step(state=state)


def _flatten_module(walk: Walk, user: Any, mod: Any, state: str) -> Step:
    return Step(state=_after_flatten(walk, user, state, mod.start_dim, mod.end_dim))


def module_handlers(nn: Any) -> list[tuple[tuple[type, ...], ModuleHandler, bool]]:
    """(module types, handler, valid for rotations too), tried in order."""
    return [
        (identity_modules(nn) + channel_dropout_modules(nn), _identity, True),
        ((nn.PReLU,), _prelu, False),
        (elementwise_modules(nn), _elementwise_module, True),
        ((nn.Linear,), _linear, True),
        ((nn.Conv1d, nn.Conv2d, nn.Conv3d), _conv, False),
        ((nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d), _batchnorm, False),
        ((nn.LayerNorm,), _layernorm, False),
        (pool_modules(nn), _pool, False),
        ((nn.Flatten,), _flatten_module, False),
    ]


# ---------------------------------------------------------------------------------------
# Functions and tensor methods


def _elementwise_function(walk: Walk, src: Any, user: Any, state: str) -> Step:
    if not (user.args and user.args[0] is src and only_this_tensor(user, src)):
        raise walk.unknown(user)
    if walk.orthogonal and user.target is not walk.torch.nn.functional.dropout:
        raise walk.refuse(user, "a nonlinearity that does not commute with a rotation")
    return Step(state=state)


def _combine(walk: Walk, src: Any, user: Any, state: str) -> Step:
    raise walk.refuse(
        user,
        "which combines them with another tensor (a residual connection or "
        "concatenation): the other operand is not permuted",
    )


def _scalar_op(walk: Walk, src: Any, user: Any, state: str) -> Step:
    """``x + c``, ``x * c``, ``-x``: entrywise, so they pass a permutation through."""
    if only_this_tensor(user, src) and (not walk.orthogonal or _linear_scalar_op(user, src)):
        return Step(state=state)
    if user.target in combining_functions(walk.torch):
        return _combine(walk, src, user, state)
    raise walk.unknown(user)


def _linear_scalar_op(user: Any, node: Any) -> bool:
    """x * c, c * x, x / c, -x: linear maps that commute with any rotation."""
    if user.target in (operator.mul, operator.neg):
        return True
    return user.target is operator.truediv and user.args[0] is node


def _attribute(walk: Walk, src: Any, user: Any, state: str) -> Step:
    """``x.shape`` and the like read no neuron values."""
    if len(user.args) > 1 and user.args[1] in ("shape", "dtype", "device"):
        return Step()
    raise walk.unknown(user)


def _flatten_call(walk: Walk, src: Any, user: Any, state: str) -> Step:
    """``torch.flatten(x, ...)`` or ``x.flatten(...)``."""
    if walk.orthogonal or not only_this_tensor(user, src):
        raise walk.unknown(user)
    start_dim = user.args[1] if len(user.args) > 1 else user.kwargs.get("start_dim", 0)
    end_dim = user.args[2] if len(user.args) > 2 else user.kwargs.get("end_dim", -1)
    return Step(state=_after_flatten(walk, user, state, start_dim, end_dim))


def _after_flatten(walk: Walk, node: Any, state: str, start_dim: Any, end_dim: Any) -> str:
    if not (isinstance(start_dim, int) and isinstance(end_dim, int)):
        raise walk.refuse(node, "a flatten with dimensions not known when tracing")
    if start_dim == 1 and end_dim == -1:
        # (B, C, *spatial) -> (B, C * S): each channel becomes a contiguous block.
        return "flat" if state == "channel" else state
    raise walk.refuse(node, f"a flatten over dims {start_dim}..{end_dim}, which moves the neurons")


def function_handlers(torch: Any) -> dict[Any, NodeHandler]:
    table: dict[Any, NodeHandler] = dict.fromkeys(combining_functions(torch), _combine)
    table.update(dict.fromkeys(SCALAR_OPS, _scalar_op))
    table.update(dict.fromkeys(elementwise_functions(torch), _elementwise_function))
    table[torch.flatten] = _flatten_call
    table[getattr] = _attribute
    return table


def _shape_method(walk: Walk, src: Any, user: Any, state: str) -> Step:
    return Step()


def _elementwise_method(walk: Walk, src: Any, user: Any, state: str) -> Step:
    if not only_this_tensor(user, src):
        raise walk.unknown(user)
    if walk.orthogonal and user.target in NONLINEAR_METHODS:
        raise walk.refuse(user, "a nonlinearity that does not commute with a rotation")
    return Step(state=state)


def _reshape_method(walk: Walk, src: Any, user: Any, state: str) -> Step:
    raise walk.refuse(user, "a reshape that may mix the neuron axis with others")


_METHOD_HANDLERS: dict[Any, NodeHandler] = {
    **dict.fromkeys(SHAPE_METHODS, _shape_method),
    **dict.fromkeys(ELEMENTWISE_METHODS, _elementwise_method),
    **dict.fromkeys(RESHAPE_METHODS, _reshape_method),
    "flatten": _flatten_call,
}

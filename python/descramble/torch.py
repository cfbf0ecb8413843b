"""PyTorch integration: capture hidden statistics, descramble, permute neurons in place.

Needs the ``torch`` extra (``pip install "descramble[torch]"``); ``import torch``
happens only when a function here is called.

* :func:`capture` streams a layer's activations into :class:`descramble.Moments`
  through forward hooks: nothing but the n x n statistics is kept.
* :func:`descramble_model` captures several layers in one pass and descrambles each.
* :func:`permute` applies a neuron permutation to a layer and to every module that
  consumes its output (found by tracing the model with :mod:`torch.fx`), so the
  network computes the same function.
* :func:`apply_orthogonal` does the same for an orthogonal matrix between two
  linear layers with no nonlinearity in between.

References: Amey, Keeley, Choudhury, Kuprov, PNAS 118(5) e2016917118 (2021),
doi:10.1073/pnas.2016917118 (descrambler groups; permutations commute with
elementwise activations); Sule, Spencer, Czaja, ACHA 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793 (the exact solution computed from the statistics).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

    from .moments import Moments

__all__ = ["apply_orthogonal", "capture", "descramble_model", "permute"]


def _torch() -> Any:
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            'descramble.torch needs PyTorch: pip install "descramble[torch]"'
        ) from exc
    return torch


# ---------------------------------------------------------------------------------------
# Module and function classification


def _elementwise_modules(nn: Any) -> tuple[type, ...]:
    """Modules that act on each entry alone, with no per-neuron parameters."""
    return (
        nn.ReLU,
        nn.ReLU6,
        nn.LeakyReLU,
        nn.ELU,
        nn.CELU,
        nn.SELU,
        nn.GELU,
        nn.SiLU,
        nn.Mish,
        nn.Tanh,
        nn.Sigmoid,
        nn.Hardtanh,
        nn.Hardswish,
        nn.Hardsigmoid,
        nn.Softplus,
        nn.Softsign,
        nn.Tanhshrink,
        nn.Softshrink,
        nn.Hardshrink,
        nn.LogSigmoid,
        nn.Threshold,
    )


def _identity_modules(nn: Any) -> tuple[type, ...]:
    # Dropout is the identity in eval mode and an entrywise random mask in train mode;
    # either way it commutes with a permutation of neurons.
    return (nn.Identity, nn.Dropout, nn.AlphaDropout, nn.FeatureAlphaDropout)


def _channel_dropout_modules(nn: Any) -> tuple[type, ...]:
    return (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)


def _pool_modules(nn: Any) -> tuple[type, ...]:
    """Pooling acts on each channel separately (over spatial positions)."""
    return (
        nn.MaxPool1d,
        nn.MaxPool2d,
        nn.MaxPool3d,
        nn.AvgPool1d,
        nn.AvgPool2d,
        nn.AvgPool3d,
        nn.AdaptiveAvgPool1d,
        nn.AdaptiveAvgPool2d,
        nn.AdaptiveAvgPool3d,
        nn.AdaptiveMaxPool1d,
        nn.AdaptiveMaxPool2d,
        nn.AdaptiveMaxPool3d,
        nn.LPPool1d,
        nn.LPPool2d,
    )


def _elementwise_functions(torch: Any) -> set:
    F = torch.nn.functional
    return {
        torch.relu,
        F.relu,
        F.relu6,
        F.leaky_relu,
        F.elu,
        F.celu,
        F.selu,
        F.gelu,
        F.silu,
        F.mish,
        torch.tanh,
        F.tanh,
        torch.sigmoid,
        F.sigmoid,
        F.hardtanh,
        F.hardswish,
        F.hardsigmoid,
        F.softplus,
        F.softsign,
        F.logsigmoid,
        torch.abs,
        torch.exp,
        F.dropout,
        F.alpha_dropout,
    }


_ELEMENTWISE_METHODS = {
    "relu",
    "tanh",
    "sigmoid",
    "abs",
    "exp",
    "contiguous",
    "clone",
    "float",
    "double",
    "half",
    "detach",
    "to",
}
_SCALAR_OPS = {operator.add, operator.sub, operator.mul, operator.truediv, operator.neg}
_SHAPE_METHODS = {"size", "dim"}


def _feature_axis(module: Any, nn: Any) -> str | None:
    """Where a module's output keeps its neurons: "last" (Linear), "channel" (dim 1) or None."""
    if isinstance(module, (nn.Linear, nn.Bilinear, nn.LayerNorm, nn.Embedding)):
        return "last"
    if isinstance(
        module,
        (
            nn.Conv1d,
            nn.Conv2d,
            nn.Conv3d,
            nn.ConvTranspose1d,
            nn.ConvTranspose2d,
            nn.ConvTranspose3d,
            nn.BatchNorm2d,
            nn.BatchNorm3d,
            nn.InstanceNorm1d,
            nn.InstanceNorm2d,
            nn.InstanceNorm3d,
            nn.GroupNorm,
        ),
    ):
        return "channel"
    if isinstance(module, nn.BatchNorm1d):
        return "channel"  # (B, C) or (B, C, L): channels at dim 1 either way
    return None


# ---------------------------------------------------------------------------------------
# Graph helpers


def _trace(model: Any, why: str) -> Any:
    torch = _torch()
    try:
        return torch.fx.symbolic_trace(model)
    except Exception as exc:  # fx raises many kinds (TraceError, TypeError, ...) on dynamic code
        raise ValueError(
            f"cannot trace the model with torch.fx ({type(exc).__name__}: {exc}); {why}"
        ) from exc


def _layer_node(gm: Any, layer: str) -> Any:
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


def _describe(node: Any) -> str:
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


def _only_this_tensor(node: Any, src: Any) -> bool:
    """True when ``src`` is the only graph value among ``node``'s arguments."""
    fx = _torch().fx
    others: list[Any] = []

    def collect(a: Any) -> Any:
        others.append(a)
        return a

    fx.node.map_arg((node.args, node.kwargs), collect)
    return all(a is src for a in others)


def _module_names(model: Any) -> list[str]:
    return [name for name, _ in model.named_modules() if name]


def _resolve(model: Any, layer: str) -> Any:
    modules = dict(model.named_modules())
    if layer not in modules or not layer:
        names = ", ".join(_module_names(model))
        raise ValueError(f"unknown layer {layer!r}; the model's modules are: {names}")
    return modules[layer]


# ---------------------------------------------------------------------------------------
# Capture


def _to_rows(t: Any, axis: str, conv: str) -> np.ndarray:
    """(samples, neurons) float32/float64 numpy rows from a layer output tensor."""
    torch = _torch()
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


_BUFFER_ROWS = 8192
_BUFFER_BYTES = 32 << 20


@dataclass
class _Tap:
    """One captured layer: its statistics and a bounded buffer of pending rows.

    Small batches are copied into the buffer and handed to ``Moments.update`` in
    panels of up to ``_BUFFER_ROWS`` rows (and ``_BUFFER_BYTES``): the blocked
    update runs much faster on large panels, and hands the CPU back to torch far
    less often. Memory stays O(n^2 + buffer).
    """

    name: str
    axis: str
    post: Callable[[Any], Any] | None = None  # the activation applied for where="post"
    moments: Any = None
    calls: int = 0
    buffer: Any = None
    filled: int = 0

    def add(self, rows: np.ndarray, moments_cls: Any) -> None:
        if self.moments is None:
            self.moments = moments_cls(rows.shape[1])
            cap = max(1, min(_BUFFER_ROWS, _BUFFER_BYTES // max(1, rows.itemsize * rows.shape[1])))
            self.buffer = np.empty((cap, rows.shape[1]), rows.dtype)
        if rows.shape[1] != self.buffer.shape[1] or rows.dtype != self.buffer.dtype:
            self.flush()
            self.moments.update(rows)  # the Moments reports a width mismatch clearly
            return
        cap = self.buffer.shape[0]
        if rows.shape[0] >= cap:
            self.flush()
            self.moments.update(rows)
            return
        if self.filled + rows.shape[0] > cap:
            self.flush()
        self.buffer[self.filled : self.filled + rows.shape[0]] = rows
        self.filled += rows.shape[0]

    def flush(self) -> None:
        if self.filled:
            self.moments.update(self.buffer[: self.filled])
            self.filled = 0


def _not_an_activation(layer: str, target: str, mod: Any) -> ValueError:
    """The error for where='post' when the layer's output feeds a non-elementwise module."""
    return ValueError(
        f"where='post': the output of {layer!r} goes into {target} "
        f"({type(mod).__name__}), not an elementwise activation; capture that module "
        "with where='post' instead, or use where='pre'"
    )


def _post_activation(model: Any, layer: str, module: Any) -> tuple[Callable | None, str]:
    """The activation applied to ``layer``'s output, as a callable, and how it was found.

    Returns ``(None, ...)`` when ``layer`` is itself an elementwise activation (its own
    output is the post-activation). Otherwise the unique consumer of the layer's
    output, skipping identity/dropout modules, must be an elementwise activation
    module or function. Inside an ``nn.Sequential`` that is the next module (the
    container feeds each output to the next child only, so no tracing is needed);
    the last child of a Sequential, and layers of other models, are looked up in
    the torch.fx graph.
    """
    torch = _torch()
    nn = torch.nn
    if isinstance(module, _elementwise_modules(nn)):
        return None, "self"
    nxt = _next_in_sequential(model, layer)
    if nxt is not None:
        name, mod = nxt
        if isinstance(mod, _elementwise_modules(nn)):
            return _fresh_call(mod), "sequential"
        raise _not_an_activation(layer, f"module {name!r}", mod)
    why = "pass the activation module's name with where='post' instead"
    gm = _trace(model, f"cannot find the activation after {layer!r}; {why}")
    node = _layer_node(gm, layer)
    skip = _identity_modules(nn)
    funcs = _elementwise_functions(torch)
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
            if isinstance(mod, _elementwise_modules(nn)):
                return _fresh_call(mod), "fx"
            raise _not_an_activation(layer, _describe(user), mod)
        if user.op == "call_function" and user.target in funcs and user.args[0] is node:
            if not _only_this_tensor(user, node):
                break
            kwargs = dict(user.kwargs)
            kwargs.pop("inplace", None)
            return functools.partial(_call_with, user.target, user.args[1:], kwargs), "fx"
        if user.op == "call_method" and user.target in {"relu", "tanh", "sigmoid"}:
            return operator.methodcaller(user.target), "fx"
        break
    raise ValueError(
        f"where='post': the output of {layer!r} goes into {_describe(user)}, which is not an "
        "elementwise activation; capture where='pre', or name the activation module itself"
    )


def _call_with(fn: Callable, args: tuple, kwargs: dict, x: Any) -> Any:
    return fn(x, *args, **kwargs)


def _fresh_call(mod: Any) -> Callable[[Any], Any]:
    return lambda x: mod(x)


def _next_in_sequential(model: Any, layer: str) -> tuple[str, Any] | None:
    """The module after ``layer`` in its ``nn.Sequential``, skipping identity/dropout."""
    torch = _torch()
    nn = torch.nn
    parent_name, _, child = layer.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    if not isinstance(parent, nn.Sequential):
        return None
    names = [k for k, _ in parent.named_children()]
    for nxt in names[names.index(child) + 1 :]:
        mod = parent.get_submodule(nxt)
        if not isinstance(mod, _identity_modules(nn)):
            return (f"{parent_name}.{nxt}" if parent_name else nxt), mod
    return None


def _input_of(batch: Any, input_key: Any) -> tuple[tuple, dict]:
    """Positional and keyword arguments for ``model(...)`` from one batch."""
    torch = _torch()
    if isinstance(batch, torch.Tensor):
        return (batch,), {}
    if isinstance(batch, (tuple, list)):
        if not batch:
            raise ValueError("got an empty batch tuple/list")
        return (batch[0 if input_key is None else input_key],), {}
    if isinstance(batch, dict):
        if input_key is None:
            return (), dict(batch)
        if input_key not in batch:
            raise ValueError(f"batch has no key {input_key!r}; keys: {', '.join(map(str, batch))}")
        return (batch[input_key],), {}
    raise TypeError(
        "expected batches that are tensors, (input, target) tuples/lists or dicts, got "
        f"{type(batch).__name__}"
    )


def _move(x: Any, device: Any) -> Any:
    torch = _torch()
    return x.to(device) if isinstance(x, torch.Tensor) and device is not None else x


def capture(
    model: nn.Module,
    layers: str | Sequence[str],
    batches: Iterable[Any],
    where: str = "pre",
    conv: str = "channels",
    input_key: Any = None,
) -> dict[str, Moments]:
    """Stream the hidden data of ``layers`` over ``batches`` into :class:`Moments`.

    Forward hooks turn each batch's activations into rows (samples) of neurons and
    update a :class:`descramble.Moments` on the spot, so memory is O(n^2) per
    layer whatever the number of batches; no activation is kept.

    Parameters
    ----------
    model : torch.nn.Module
        Run as it is (call ``model.eval()`` first for dropout/batch-norm inference
        behaviour). The loop runs under ``torch.no_grad()``.
    layers : str or sequence of str
        Module names as in ``model.named_modules()``.
    batches : iterable
        Tensors, ``(input, target, ...)`` tuples/lists (the first element, or
        element ``input_key``, is the input) or dicts (``model(batch[input_key])``,
        or ``model(**batch)`` when ``input_key`` is None). Tensors are moved to the
        device of the model's first parameter.
    where : {"pre", "post"}
        ``"pre"``: the named module's output (for a Linear/Conv layer, the
        preactivations). ``"post"``: the output of the elementwise activation that
        consumes it. If the named module is itself an activation
        (``nn.ReLU``, ``nn.Tanh``, ...) its own output is captured (a shared
        activation module called more than once per forward pass is refused).
        Otherwise the activation is found in the :mod:`torch.fx` graph as the
        single consumer of the layer's output (skipping Identity/Dropout; a module
        such as ``nn.ReLU`` or a function such as ``F.relu``/``torch.tanh``), or,
        if the model cannot be traced, as the next module in the layer's
        ``nn.Sequential``; it is applied inside the hook to a copy of the layer's
        output. Anything else between the layer and its activation (BatchNorm,
        an addition) is refused with a message naming it.
    conv : {"channels", "flatten"}
        For outputs with spatial dimensions (Conv1d/2d/3d, BatchNorm2d, ...):
        ``"channels"``: channels are the neurons and every spatial position of
        every sample is a row; ``"flatten"``: each flattened feature map
        (channel-major, as ``torch.flatten(x, 1)``) is one row. Outputs of Linear
        layers always have their last dimension as neurons, extra leading
        dimensions being samples.
    input_key : int or str, optional
        Which element of a tuple/dict batch is the input.

    Returns
    -------
    dict
        ``{layer name: Moments}``, float64 statistics; float16/bfloat16 activations
        are upcast to float32 batch by batch, CUDA tensors copied to the CPU.

    Notes
    -----
    A module called several times per forward pass (shared weights) contributes
    the output of every call as samples, for ``where="pre"``.

    Each hook converts the output to numpy and updates the statistics before the
    next module runs, so a later in-place operation (``ReLU(inplace=True)``)
    cannot change what was recorded. Hooks are removed when the loop ends, also
    on error.
    """
    torch = _torch()
    nn = torch.nn
    if where not in ("pre", "post"):
        raise ValueError(f"where must be 'pre' or 'post', got {where!r}")
    if conv not in ("channels", "flatten"):
        raise ValueError(f"conv must be 'channels' or 'flatten', got {conv!r}")
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ValueError("layers: expected at least one layer name, got none")
    if len(set(names)) != len(names):
        raise ValueError(f"layers: duplicate names in {names}")

    from . import Moments

    taps: list[_Tap] = []
    for name in names:
        module = _resolve(model, name)
        axis = _feature_axis(module, nn)
        post = None
        if where == "post":
            post, how = _post_activation(model, name, module)
            if how == "self":
                axis = axis or _inherit_axis(model, name)
        elif axis is None:
            axis = _inherit_axis(model, name)
        taps.append(_Tap(name, axis or "last", post))

    def make_hook(tap: _Tap, shared_check: bool) -> Callable:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            if not isinstance(output, torch.Tensor):
                raise TypeError(
                    f"layer {tap.name!r} returned {type(output).__name__}, expected a tensor"
                )
            tap.calls += 1
            if shared_check and tap.calls > 1:
                raise ValueError(
                    f"where='post': activation module {tap.name!r} is called more than once per "
                    "forward pass (shared between layers); name the layer whose output it "
                    "receives instead"
                )
            # The activation runs on a copy: an in-place one (ReLU(inplace=True),
            # F.relu(x, True)) must not write into the tensor the model still uses.
            out = tap.post(output.detach().clone()) if tap.post is not None else output
            # Copied into the tap's buffer (or consumed) before the next module runs.
            tap.add(_to_rows(out, tap.axis, conv), Moments)

        return hook

    def reset(module: Any, inputs: Any) -> None:
        for tap in taps:
            tap.calls = 0

    device = next((p.device for p in model.parameters()), None)
    handles = [model.register_forward_pre_hook(reset)]
    try:
        for tap in taps:
            module = model.get_submodule(tap.name)
            shared = where == "post" and tap.post is None
            handles.append(module.register_forward_hook(make_hook(tap, shared)))
        with torch.no_grad():
            for batch in batches:
                args, kwargs = _input_of(batch, input_key)
                model(
                    *[_move(a, device) for a in args],
                    **{k: _move(v, device) for k, v in kwargs.items()},
                )
    finally:
        for h in handles:
            h.remove()
    for tap in taps:
        tap.flush()
    missing = [t.name for t in taps if t.moments is None]
    if missing:
        raise ValueError(
            f"no data reached layers {missing}: the batches were empty or the forward pass "
            "never called them"
        )
    return {t.name: t.moments for t in taps}


def _inherit_axis(model: Any, layer: str) -> str | None:
    """Feature axis of an activation/dropout module: that of the layer feeding it (via fx)."""
    torch = _torch()
    try:
        gm = torch.fx.symbolic_trace(model)
        node = _layer_node(gm, layer)
    except Exception:
        return None
    modules = dict(model.named_modules())
    nn = torch.nn
    while True:
        srcs = node.all_input_nodes
        if len(srcs) != 1:
            return None
        node = srcs[0]
        if node.op == "call_module":
            axis = _feature_axis(modules[node.target], nn)
            if axis is not None:
                return axis
        elif node.op == "placeholder":
            return None


def descramble_model(
    model: nn.Module,
    batches: Iterable[Any],
    layers: str | Sequence[str],
    *,
    group: str = "orthogonal",
    smoothness: Any = "fourier",
    order: int = 2,
    center: bool = False,
    k: int | None = None,
    where: str = "pre",
    conv: str = "channels",
    input_key: Any = None,
) -> dict[str, Any]:
    """Capture ``layers`` in one pass over ``batches`` and descramble each.

    Returns ``{layer name: result}`` with the results of
    :func:`descramble.descramble` (``.P``, ``.objective``, ``.lower_bound``, ...).
    See :func:`capture` for ``where``/``conv``/``input_key`` and
    :func:`descramble.descramble` for the solver options (Sule, Spencer, Czaja,
    ACHA 79 (2025) 101793, doi:10.1016/j.acha.2025.101793).
    """
    from . import descramble

    stats = capture(model, layers, batches, where=where, conv=conv, input_key=input_key)
    return {
        name: descramble(m, smoothness=smoothness, order=order, center=center, group=group, k=k)
        for name, m in stats.items()
    }


# ---------------------------------------------------------------------------------------
# Permutations and rotations


def _as_permutation(perm: Any, n: int, layer: str) -> np.ndarray:
    p = np.asarray(perm.detach().cpu().numpy() if hasattr(perm, "detach") else perm)
    if p.ndim == 2:
        # A permutation matrix, as returned by descramble(..., group="permutation").P:
        # (P @ W)[i] = W[j] where P[i, j] = 1.
        if (
            p.shape != (n, n)
            or not np.all((p == 0) | (p == 1))
            or not (np.all(p.sum(0) == 1) and np.all(p.sum(1) == 1))
        ):
            raise ValueError(
                f"perm: expected a permutation of range({n}) or an ({n}, {n}) permutation matrix "
                f"for layer {layer!r}, got a matrix of shape {p.shape} that is not one"
            )
        return np.argmax(p, axis=1).astype(np.int64)
    if (
        p.ndim != 1
        or p.dtype.kind not in "iu"
        and not (p.dtype.kind == "f" and np.all(p == np.round(p)))
    ):
        raise ValueError(
            f"perm: expected a 1-D integer permutation of range({n}) for layer {layer!r}, "
            f"got shape {p.shape} dtype {p.dtype}"
        )
    p = p.astype(np.int64)
    if p.shape[0] != n or not np.array_equal(np.sort(p), np.arange(n)):
        raise ValueError(
            f"perm: expected a permutation of range({n}) (layer {layer!r} has {n} outputs), got "
            f"{p.shape[0]} entries" + ("" if p.shape[0] != n else " that are not all distinct")
        )
    return p


@dataclass
class _Edit:
    """A deferred in-place change: nothing is modified until the whole graph is proven."""

    module: Any
    attr: str
    dim: int
    block: int = 1  # >1: permute blocks of this many entries (channels flattened by Flatten)


def _source_axis(module: Any, nn: Any, layer: str) -> str:
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


def _propagate(model: Any, layer: str, n: int, *, orthogonal: bool) -> list[_Edit]:
    """Walk the fx graph from ``layer``'s output to every consumer; return the edits.

    ``orthogonal``: only identity-like modules may sit between the layer and the
    consuming Linear layers (a rotation does not commute with nonlinearities).
    """
    torch = _torch()
    nn = torch.nn
    F = torch.nn.functional
    why = "permute needs the graph to prove which modules consume the layer's output"
    gm = _trace(model, why)
    modules: dict[str, Any] = dict(model.named_modules())
    src_module = modules[layer]
    start = _layer_node(gm, layer)
    axis0 = _source_axis(src_module, nn, layer)
    if orthogonal and axis0 != "last":
        raise ValueError(f"apply_orthogonal supports nn.Linear layers, {layer!r} is not one")
    edits: list[_Edit] = [_Edit(src_module, "weight", 0)]
    if src_module.bias is not None:
        edits.append(_Edit(src_module, "bias", 0))

    elementwise_mods = _elementwise_modules(nn)
    identity_mods = _identity_modules(nn) + _channel_dropout_modules(nn)
    funcs = _elementwise_functions(torch)
    flatten_funcs = {torch.flatten}

    def refuse(node: Any, reason: str) -> ValueError:
        return ValueError(
            f"cannot {'rotate' if orthogonal else 'permute'} the outputs of {layer!r}: they "
            f"reach {_describe(node)}, {reason}"
        )

    # state: "last" / "channel" (neurons on that axis) or "flat" (channels flattened
    # into blocks of unknown size, resolved at the consuming Linear).
    stack = [(start, axis0)]
    seen: set = set()
    while stack:
        node, state = stack.pop()
        for user in list(node.users):
            if (user, state) in seen:
                continue
            seen.add((user, state))
            if user.op == "output":
                raise refuse(user, "so permuting them would change what the model returns")
            if user.op == "call_module":
                mod: Any = modules[user.target]
                if isinstance(mod, identity_mods):
                    if (
                        orthogonal
                        and not isinstance(mod, (nn.Identity,))
                        and getattr(mod, "training", False)
                    ):
                        raise refuse(user, "dropout in training mode (call model.eval())")
                    if isinstance(mod, _channel_dropout_modules(nn)) and state != "channel":
                        raise refuse(user, "channel dropout on data that are not channels")
                    stack.append((user, state))
                elif isinstance(mod, nn.PReLU) and not orthogonal:
                    if mod.num_parameters == n and state != "flat":
                        edits.append(_Edit(mod, "weight", 0))
                    elif mod.num_parameters != 1:
                        raise refuse(user, f"PReLU with {mod.num_parameters} parameters")
                    stack.append((user, state))
                elif isinstance(mod, elementwise_mods):
                    if orthogonal:
                        raise refuse(
                            user,
                            f"a nonlinearity ({type(mod).__name__}) that does "
                            "not commute with a rotation",
                        )
                    stack.append((user, state))
                elif isinstance(mod, nn.Linear):
                    if state == "channel":
                        raise refuse(user, "a Linear layer applied to channel-first data")
                    if state == "flat":
                        if mod.in_features % n:
                            raise refuse(
                                user,
                                f"in_features {mod.in_features} is not a multiple "
                                f"of the {n} flattened channels",
                            )
                        edits.append(_Edit(mod, "weight", 1, mod.in_features // n))
                    else:
                        if mod.in_features != n:
                            raise refuse(user, f"in_features {mod.in_features} != {n}")
                        edits.append(_Edit(mod, "weight", 1))
                elif isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.Conv3d)) and not orthogonal:
                    if state != "channel":
                        raise refuse(
                            user, "a convolution whose input channels are not the permuted neurons"
                        )
                    if mod.groups == 1:
                        edits.append(_Edit(mod, "weight", 1))
                    elif mod.groups == mod.in_channels == mod.out_channels:
                        # Depthwise: each channel is filtered alone, so the permutation
                        # passes through to its outputs.
                        edits.append(_Edit(mod, "weight", 0))
                        if mod.bias is not None:
                            edits.append(_Edit(mod, "bias", 0))
                        stack.append((user, state))
                    else:
                        raise refuse(user, f"a grouped convolution (groups={mod.groups})")
                elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) and (
                    not orthogonal
                ):
                    if state == "flat" or mod.num_features != n:
                        raise refuse(
                            user,
                            f"a BatchNorm over {mod.num_features} features that "
                            f"are not the {n} permuted neurons",
                        )
                    for attr in ("weight", "bias", "running_mean", "running_var"):
                        if getattr(mod, attr, None) is not None:
                            edits.append(_Edit(mod, attr, 0))
                    stack.append((user, state))
                elif isinstance(mod, nn.LayerNorm) and not orthogonal:
                    if state != "last" or tuple(mod.normalized_shape) != (n,):
                        raise refuse(
                            user,
                            f"a LayerNorm over {tuple(mod.normalized_shape)} that "
                            "does not normalise exactly the permuted neurons",
                        )
                    for attr in ("weight", "bias"):
                        if getattr(mod, attr, None) is not None:
                            edits.append(_Edit(mod, attr, 0))
                    stack.append((user, state))
                elif isinstance(mod, _pool_modules(nn)) and not orthogonal:
                    if state != "channel":
                        raise refuse(user, "pooling over data whose channels are not the neurons")
                    stack.append((user, state))
                elif isinstance(mod, nn.Flatten) and not orthogonal:
                    stack.append(
                        (user, _after_flatten(user, state, mod.start_dim, mod.end_dim, refuse))
                    )
                else:
                    raise refuse(
                        user,
                        f"a {type(mod).__name__} module, whose behaviour under a "
                        "permutation of its inputs is not known",
                    )
            elif user.op == "call_function":
                if (
                    user.target in funcs
                    and user.args
                    and user.args[0] is node
                    and (_only_this_tensor(user, node))
                ):
                    if orthogonal and user.target not in (F.dropout,):
                        raise refuse(user, "a nonlinearity that does not commute with a rotation")
                    stack.append((user, state))
                elif (
                    user.target in _SCALAR_OPS
                    and _only_this_tensor(user, node)
                    and (not orthogonal or _linear_scalar_op(user, node))
                ):
                    stack.append((user, state))
                elif (
                    user.target in flatten_funcs
                    and not orthogonal
                    and _only_this_tensor(user, node)
                ):
                    start_dim = (
                        user.args[1] if len(user.args) > 1 else user.kwargs.get("start_dim", 0)
                    )
                    end_dim = user.args[2] if len(user.args) > 2 else user.kwargs.get("end_dim", -1)
                    stack.append((user, _after_flatten(user, state, start_dim, end_dim, refuse)))
                elif (
                    user.target is getattr
                    and len(user.args) > 1
                    and user.args[1] in ("shape", "dtype", "device")
                ):
                    continue
                elif user.target in (
                    operator.add,
                    operator.sub,
                    operator.mul,
                    torch.add,
                    torch.mul,
                    torch.cat,
                    torch.stack,
                ):
                    raise refuse(
                        user,
                        "which combines them with another tensor (a residual "
                        "connection or concatenation): the other operand is not "
                        "permuted",
                    )
                else:
                    raise refuse(user, "whose behaviour under a permutation is not known")
            elif user.op == "call_method":
                if user.target in _SHAPE_METHODS:
                    continue
                if user.target == "flatten" and not orthogonal and _only_this_tensor(user, node):
                    start_dim = (
                        user.args[1] if len(user.args) > 1 else user.kwargs.get("start_dim", 0)
                    )
                    end_dim = user.args[2] if len(user.args) > 2 else user.kwargs.get("end_dim", -1)
                    stack.append((user, _after_flatten(user, state, start_dim, end_dim, refuse)))
                elif user.target in _ELEMENTWISE_METHODS and _only_this_tensor(user, node):
                    if orthogonal and user.target in ("relu", "tanh", "sigmoid", "abs", "exp"):
                        raise refuse(user, "a nonlinearity that does not commute with a rotation")
                    stack.append((user, state))
                elif user.target in ("view", "reshape", "permute", "transpose"):
                    raise refuse(user, "a reshape that may mix the neuron axis with others")
                else:
                    raise refuse(user, "whose behaviour under a permutation is not known")
            else:
                raise refuse(user, "whose behaviour under a permutation is not known")
    return edits


def _linear_scalar_op(user: Any, node: Any) -> bool:
    """x * c, c * x, x / c, -x: linear maps that commute with any rotation."""
    if user.target in (operator.mul, operator.neg):
        return True
    return user.target is operator.truediv and user.args[0] is node


def _after_flatten(node: Any, state: str, start_dim: Any, end_dim: Any, refuse: Callable) -> str:
    if not (isinstance(start_dim, int) and isinstance(end_dim, int)):
        raise refuse(node, "a flatten with dimensions not known when tracing")
    if start_dim == 1 and end_dim == -1:
        # (B, C, *spatial) -> (B, C * S): each channel becomes a contiguous block.
        return "flat" if state == "channel" else state
    raise refuse(node, f"a flatten over dims {start_dim}..{end_dim}, which moves the neurons")


def _apply_edits(edits: list[_Edit], perm: np.ndarray) -> None:
    torch = _torch()
    with torch.no_grad():
        for e in edits:
            t = getattr(e.module, e.attr)
            if e.block > 1:
                idx = (perm[:, None] * e.block + np.arange(e.block)[None, :]).reshape(-1)
            else:
                idx = perm
            index = torch.as_tensor(idx, device=t.device)
            t.copy_(t.index_select(e.dim, index))


def permute(model: nn.Module, layer: str, perm: Any) -> nn.Module:
    """Reorder the output neurons of ``layer`` in place without changing the model's function.

    New neuron ``i`` is old neuron ``perm[i]``: the layer's weight rows and bias
    entries are reordered, and so is everything downstream that is indexed by those
    neurons -- BatchNorm1d/2d/3d and LayerNorm parameters and running statistics,
    PReLU slopes, depthwise convolutions -- up to the consumers: the input columns
    of the next ``nn.Linear`` (blocks of columns after a ``Flatten`` of a
    convolution's output) or the input channels of the next convolution.
    Elementwise activations, dropout, pooling and multiplication by scalars pass
    the permutation through (Amey et al., PNAS 118(5) e2016917118 (2021),
    doi:10.1073/pnas.2016917118: permutations commute with elementwise
    activations).

    Consumers are found by tracing the model with :func:`torch.fx.symbolic_trace`.
    The change is refused with a ValueError saying why -- and the model left
    untouched -- whenever they cannot be proven: the output feeds an addition
    (residual connection), a concatenation, a reshape, an unknown module or
    function, or is returned by the model.

    Parameters
    ----------
    model : torch.nn.Module
    layer : str
        Name of an ``nn.Linear`` or ``nn.Conv1d/2d/3d`` (groups=1) as in
        ``model.named_modules()``.
    perm : array_like
        A permutation of ``range(n)`` (n = out_features / out_channels), or an
        ``(n, n)`` permutation matrix P (then ``perm = P.argmax(axis=1)``, i.e. the
        layer's weights become ``P @ W``).

    Returns
    -------
    torch.nn.Module
        ``model``, modified in place.
    """
    torch = _torch()
    module = _resolve(model, layer)
    _source_axis(module, torch.nn, layer)
    n = module.weight.shape[0]
    p = _as_permutation(perm, n, layer)
    edits = _propagate(model, layer, n, orthogonal=False)
    _apply_edits(edits, p)
    return model


def apply_orthogonal(model: nn.Module, layer: str, P: Any, *, atol: float = 1e-6) -> nn.Module:
    """Rotate the neurons between two linear layers in place (``W1 <- P W1``, ``W2 <- W2 P^T``).

    The layer's bias becomes ``P b1``.

    Valid (function-preserving) only when nothing but identity/dropout modules
    sits between ``layer`` and the ``nn.Linear`` layers that consume its output;
    a nonlinearity, normalisation, residual connection or the model's output in
    between is refused with a ValueError (Sule, Spencer, Czaja, ACHA 79 (2025)
    101793, doi:10.1016/j.acha.2025.101793: a general orthogonal descrambler
    preserves the function of linear layers only).

    Parameters
    ----------
    model : torch.nn.Module
    layer : str
        Name of an ``nn.Linear`` layer.
    P : array_like, (n, n)
        Orthogonal to ``atol`` (``max |P^T P - I| <= atol``); the products are
        formed in float64 and cast back to each parameter's dtype.

    Returns
    -------
    torch.nn.Module
        ``model``, modified in place.
    """
    torch = _torch()
    module = _resolve(model, layer)
    if not isinstance(module, torch.nn.Linear):
        raise ValueError(
            f"apply_orthogonal supports nn.Linear layers, {layer!r} is a {type(module).__name__}"
        )
    n = module.out_features
    Q = np.asarray(P.detach().cpu().numpy() if hasattr(P, "detach") else P, dtype=np.float64)
    if Q.shape != (n, n):
        raise ValueError(f"P: expected an ({n}, {n}) matrix for layer {layer!r}, got {Q.shape}")
    if not np.isfinite(Q).all():
        raise ValueError("P: contains NaN or infinity")
    err = float(np.max(np.abs(Q.T @ Q - np.eye(n)))) if n else 0.0
    if err > atol:
        raise ValueError(f"P: expected an orthogonal matrix, got max |P^T P - I| = {err:.3g}")
    edits = _propagate(model, layer, n, orthogonal=True)
    with torch.no_grad():
        for e in edits:
            t = getattr(e.module, e.attr)
            Qt = torch.as_tensor(Q, dtype=torch.float64, device=t.device)
            if e.dim == 0:  # rows of the layer's weight, or its bias
                new = Qt @ t.double()
            else:  # columns of a consumer
                new = t.double() @ Qt.T
            t.copy_(new.to(t.dtype))
    return model

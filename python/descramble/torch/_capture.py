"""Capture: stream the hidden data of named layers into statistics through forward hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..descrambler import descramble
from ..moments import Moments
from ._activation import post_activation
from ._graph import inherit_axis, resolve
from ._lazy import require_torch
from ._rows import Tap, to_rows
from ._tables import feature_axis

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


def capture(
    model: nn.Module,
    layers: str | Sequence[str],
    batches: Iterable[Any],
    where: str = "pre",
    conv: str = "channels",
    input_key: Any = None,
    statistics: Callable[[int], Any] = Moments,
) -> dict[str, Any]:
    """Stream the hidden data of ``layers`` over ``batches`` into :class:`Moments`.

    Forward hooks turn each batch's activations into rows (samples) of neurons and
    update a :class:`descramble.Moments` on the spot, so memory is O(n^2) per
    layer whatever the number of batches; no activation is kept. All the layers
    are captured in the same pass, e.g. the MLP hidden layer of every block of a
    transformer.

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
    statistics : callable, default :class:`Moments`
        ``statistics(n)`` makes the accumulator of a layer with ``n`` neurons; any
        object with ``update(rows)`` taking a ``(samples, n)`` float32/float64
        array will do (e.g. ``lambda n: ds.Sketch(n, 64)`` for layers too wide
        for n x n statistics).

    Returns
    -------
    dict
        ``{layer name: statistics}`` (:class:`Moments` by default, float64
        statistics). float16/bfloat16 activations are widened to float32 batch by
        batch (never to float64: the accumulator widens panel by panel), CUDA
        tensors copied to the CPU. Activations of shape (batch, sequence, d), as in
        transformers, give batch x sequence samples of d neurons.

    Notes
    -----
    A module called several times per forward pass (shared weights) contributes
    the output of every call as samples, for ``where="pre"``.

    Each hook converts the output to numpy and updates the statistics before the
    next module runs, so a later in-place operation (``ReLU(inplace=True)``)
    cannot change what was recorded. Hooks are removed when the loop ends, also
    on error.
    """
    torch = require_torch()
    if where not in ("pre", "post"):
        raise ValueError(f"where must be 'pre' or 'post', got {where!r}")
    if conv not in ("channels", "flatten"):
        raise ValueError(f"conv must be 'channels' or 'flatten', got {conv!r}")
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ValueError("layers: expected at least one layer name, got none")
    if len(set(names)) != len(names):
        raise ValueError(f"layers: duplicate names in {names}")

    taps = [_tap(model, name, where) for name in names]

    def make_hook(tap: Tap, shared_check: bool) -> Callable:
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
            tap.add(to_rows(out, tap.axis, conv), statistics)

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
    missing = [t.name for t in taps if t.stats is None]
    if missing:
        raise ValueError(
            f"no data reached layers {missing}: the batches were empty or the forward pass "
            "never called them"
        )
    return {t.name: t.stats for t in taps}


def _tap(model: Any, name: str, where: str) -> Tap:
    """The tap of one layer: where its neurons are, and the activation to apply for 'post'."""
    nn = require_torch().nn
    module = resolve(model, name)
    axis = feature_axis(module, nn)
    post = None
    if where == "post":
        post, how = post_activation(model, name, module)
        if how == "self":
            axis = axis or inherit_axis(model, name)
    elif axis is None:
        axis = inherit_axis(model, name)
    return Tap(name, axis or "last", post)


def _input_of(batch: Any, input_key: Any) -> tuple[tuple, dict]:
    """Positional and keyword arguments for ``model(...)`` from one batch."""
    torch = require_torch()
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
    torch = require_torch()
    return x.to(device) if isinstance(x, torch.Tensor) and device is not None else x


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
    statistics: Callable[[int], Any] = Moments,
) -> dict[str, Any]:
    """Capture ``layers`` in one pass over ``batches`` and descramble each.

    Returns ``{layer name: result}`` with the results of
    :func:`descramble.descramble` (``.P``, ``.objective``, ``.lower_bound``, ...).
    See :func:`capture` for ``where``/``conv``/``input_key``/``statistics`` and
    :func:`descramble.descramble` for the solver options (Sule, Spencer, Czaja,
    ACHA 79 (2025) 101793, doi:10.1016/j.acha.2025.101793).
    """
    stats = capture(
        model, layers, batches, where=where, conv=conv, input_key=input_key, statistics=statistics
    )
    return {
        name: descramble(m, smoothness=smoothness, order=order, center=center, group=group, k=k)
        for name, m in stats.items()
    }

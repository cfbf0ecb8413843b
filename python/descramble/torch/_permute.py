"""Function-preserving reorderings and rotations of a layer's output neurons, in place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._graph import resolve
from ._lazy import require_torch
from ._propagate import Edit, propagate, source_axis

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


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
    torch = require_torch()
    module = resolve(model, layer)
    source_axis(module, torch.nn, layer)
    n = module.weight.shape[0]
    p = _as_permutation(perm, n, layer)
    edits = propagate(model, layer, n, orthogonal=False)
    _apply_permutation(edits, p)
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
    torch = require_torch()
    module = resolve(model, layer)
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
    edits = propagate(model, layer, n, orthogonal=True)
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


def _apply_permutation(edits: list[Edit], perm: np.ndarray) -> None:
    torch = require_torch()
    with torch.no_grad():
        for e in edits:
            t = getattr(e.module, e.attr)
            if e.block > 1:
                idx = (perm[:, None] * e.block + np.arange(e.block)[None, :]).reshape(-1)
            else:
                idx = perm
            index = torch.as_tensor(idx, device=t.device)
            t.copy_(t.index_select(e.dim, index))

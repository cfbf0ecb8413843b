"""What torch's modules and functions do to a neuron axis: the tables the graph walks consult.

Each table is built from the torch module passed in, so nothing here imports torch.
"""

from __future__ import annotations

import operator
from typing import Any


def elementwise_modules(nn: Any) -> tuple[Any, ...]:
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


def identity_modules(nn: Any) -> tuple[Any, ...]:
    # Dropout is the identity in eval mode and an entrywise random mask in train mode;
    # either way it commutes with a permutation of neurons.
    return (nn.Identity, nn.Dropout, nn.AlphaDropout, nn.FeatureAlphaDropout)


def channel_dropout_modules(nn: Any) -> tuple[Any, ...]:
    return (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)


def pool_modules(nn: Any) -> tuple[Any, ...]:
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


def elementwise_functions(torch: Any) -> set:
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


ELEMENTWISE_METHODS = {
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
# The tensor methods among ELEMENTWISE_METHODS that are nonlinear (the rest only copy or cast).
NONLINEAR_METHODS = {"relu", "tanh", "sigmoid", "abs", "exp"}
SCALAR_OPS = {operator.add, operator.sub, operator.mul, operator.truediv, operator.neg}
SHAPE_METHODS = {"size", "dim"}
RESHAPE_METHODS = {"view", "reshape", "permute", "transpose"}


def combining_functions(torch: Any) -> set:
    """Functions that join a tensor with another one (residual additions, concatenation)."""
    return {
        operator.add,
        operator.sub,
        operator.mul,
        torch.add,
        torch.mul,
        torch.cat,
        torch.stack,
    }


def feature_axis(module: Any, nn: Any) -> str | None:
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

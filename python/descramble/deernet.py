"""A small DEERNet-style network (256 -> 80 tanh -> 256 softplus) in pure numpy.

DEERNet maps a DEER trace (the signal ``V(t)`` on 256 time points, see
:mod:`descramble.deer`) to the distance distribution ``p(r)`` on 256 distances.
Amey et al. descrambled the first layer of such a network and found a band-pass
filter with a notch; Sule, Spencer and Czaja explained the notch by the principal
components of the input data. This module ships one such network, trained from a
fixed seed by ``examples/train_deernet.py``, for ``descramble demo`` and the
paper's experiments:

    s = W1 @ h + b1          (80 preactivations, the layer that gets descrambled)
    a = tanh(s)
    p = softplus(W2 @ a + b2)    (256 non-negative distribution values, 1/nm)

The weights are stored in ``descramble/data/deernet.npz`` with a format tag, the
four arrays and the axes of the traces and distributions they were trained on.

References
----------
Amey, Keeley, Choudhury, Kuprov, "Neural network interpretation using
descrambler groups", PNAS 118(5) e2016917118 (2021), doi:10.1073/pnas.2016917118.

Sule, Spencer, Czaja, "On the limits of neural network explainability via
descrambling", Appl. Comput. Harmon. Anal. 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Union

import numpy as np

from . import deer
from ._validation import as_float_array, check_finite

__all__ = ["FORMAT", "DeerNet", "load", "softplus"]

#: Format tag stored in every weights file; bumped if the layout changes.
FORMAT = "descramble.deernet/1"

_ARRAYS = ("W1", "b1", "W2", "b2")
_AXES = ("t_max", "r_min", "r_max")
_SHIPPED = "deernet.npz"

PathLike = Union[str, "os.PathLike[str]"]


def softplus(x: Any) -> np.ndarray:
    """``log(1 + exp(x))``, computed without overflow for large ``|x|``."""
    arr = np.asarray(x, dtype=np.float64)
    return np.maximum(arr, 0.0) + np.log1p(np.exp(-np.abs(arr)))


@dataclass(frozen=True)
class DeerNet:
    """Weights of a two-layer DEERNet-style network and the axes it was trained on.

    Attributes
    ----------
    W1 : (n_hidden, n_time) ndarray
        First-layer weights (rows are hidden neurons).
    b1 : (n_hidden,) ndarray
    W2 : (n_distance, n_hidden) ndarray
        Output-layer weights.
    b2 : (n_distance,) ndarray
    t_max : float
        The traces span ``0..t_max`` microseconds on ``n_time`` points.
    r_min, r_max : float
        The distributions span ``r_min..r_max`` nm on ``n_distance`` points.
    info : dict
        Extra scalars from the weights file (training seed, losses, ...).
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    t_max: float = 5.0
    r_min: float = 1.5
    r_max: float = 6.0
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        arrays = {}
        for name in _ARRAYS:
            ndim = 2 if name.startswith("W") else 1
            arr = as_float_array(getattr(self, name), f"DeerNet: {name}", ndim=ndim)
            check_finite(arr, f"DeerNet: {name}")
            arrays[name] = np.array(arr, dtype=np.float64)  # an owned copy: frozen means frozen
            arrays[name].flags.writeable = False
        w1, b1, w2, b2 = (arrays[k] for k in _ARRAYS)
        hidden, n_time = w1.shape
        if b1.shape != (hidden,):
            raise ValueError(f"DeerNet: b1 must have shape ({hidden},), got {b1.shape}")
        if w2.shape[1] != hidden:
            raise ValueError(
                f"DeerNet: W2 must have shape (n_distance, {hidden}) to follow W1 "
                f"{w1.shape}, got {w2.shape}"
            )
        if b2.shape != (w2.shape[0],):
            raise ValueError(f"DeerNet: b2 must have shape ({w2.shape[0]},), got {b2.shape}")
        if min(hidden, n_time, w2.shape[0]) < 1:
            raise ValueError(f"DeerNet: empty layers, W1 {w1.shape} and W2 {w2.shape}")
        for name, arr in arrays.items():
            object.__setattr__(self, name, arr)
        # Validate the axes the same way the simulator would.
        deer.time_axis(max(n_time, 2), self.t_max)
        deer.distance_axis(max(w2.shape[0], 2), self.r_min, self.r_max)

    @property
    def n_time(self) -> int:
        """Number of input time points."""
        return int(self.W1.shape[1])

    @property
    def n_hidden(self) -> int:
        """Number of hidden neurons."""
        return int(self.W1.shape[0])

    @property
    def n_distance(self) -> int:
        """Number of output distances."""
        return int(self.W2.shape[0])

    @property
    def time(self) -> np.ndarray:
        """Time axis of the inputs in microseconds."""
        return deer.time_axis(self.n_time, self.t_max)

    @property
    def distance(self) -> np.ndarray:
        """Distance axis of the outputs in nm."""
        return deer.distance_axis(self.n_distance, self.r_min, self.r_max)

    def _inputs(self, traces: Any) -> np.ndarray:
        h = as_float_array(traces, "DeerNet: traces", ndim=np.ndim(traces))
        if h.ndim not in (1, 2) or h.shape[-1] != self.n_time:
            raise ValueError(
                f"DeerNet: expected traces of shape (N, {self.n_time}) or ({self.n_time},), "
                f"got {h.shape}"
            )
        check_finite(h, "DeerNet: traces")
        return h

    def preactivations(self, traces: Any) -> np.ndarray:
        """First-layer preactivations ``s = W1 h + b1`` (before tanh), shape ``(N, n_hidden)``.

        This is the hidden data that :func:`descramble.descramble` reads when the
        layer is tapped before its activation (descrambled weights ``P @ W1``).
        """
        return self._inputs(traces) @ self.W1.T + self.b1

    def hidden(self, traces: Any) -> np.ndarray:
        """Hidden activations ``tanh(W1 h + b1)``, shape ``(N, n_hidden)``."""
        return np.tanh(self.preactivations(traces))

    def predict(self, traces: Any) -> np.ndarray:
        """Distance distributions ``softplus(W2 tanh(W1 h + b1) + b2)``, ``(N, n_distance)``."""
        return softplus(self.hidden(traces) @ self.W2.T + self.b2)

    def simulate(self, n: int, rng: deer.Seed = None, **options: Any) -> deer.DeerData:
        """Fresh DEER traces on this network's axes (``options`` go to :func:`deer.simulate`)."""
        return deer.simulate(
            n,
            rng,
            n_time=self.n_time,
            t_max=self.t_max,
            n_distance=self.n_distance,
            r_min=self.r_min,
            r_max=self.r_max,
            **options,
        )

    def save(self, path: PathLike) -> None:
        """Write weights, axes and ``info`` scalars to an ``.npz`` file that :func:`load` reads."""
        contents: dict[str, np.ndarray] = {"format": np.asarray(FORMAT)}
        contents.update({name: getattr(self, name) for name in _ARRAYS})
        contents.update({name: np.asarray(getattr(self, name)) for name in _AXES})
        contents.update({f"info_{k}": np.asarray(v) for k, v in self.info.items()})
        np.savez_compressed(path, **contents)  # type: ignore[arg-type]


def load(path: PathLike | None = None) -> DeerNet:
    """Load DEERNet weights: the network shipped with the package, or one saved in ``path``.

    Parameters
    ----------
    path : str or os.PathLike, optional
        An ``.npz`` file written by :meth:`DeerNet.save`; the shipped weights when omitted.

    Returns
    -------
    DeerNet

    Raises
    ------
    ValueError
        The file is not a DEERNet weights file: not an npz archive, a wrong format
        tag, missing arrays, inconsistent shapes or non-finite weights.
    FileNotFoundError
        ``path`` does not exist.
    """
    if path is None:
        with resources.as_file(resources.files("descramble") / "data" / _SHIPPED) as shipped:
            return _read(Path(shipped))
    return _read(Path(path))


def _read(path: Path) -> DeerNet:
    if not path.exists():
        raise FileNotFoundError(f"DEERNet weights file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            contents = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a DEERNet weights file (.npz): {exc}") from exc
    tag = contents.get("format")
    if tag is None or tag.shape != () or str(tag) != FORMAT:
        found = None if tag is None else str(tag)
        raise ValueError(f"{path}: expected format {FORMAT!r}, got {found!r}")
    missing = [k for k in _ARRAYS + _AXES if k not in contents]
    if missing:
        raise ValueError(f"{path}: DEERNet weights file lacks {', '.join(missing)}")
    axes = {}
    for key in _AXES:
        value = contents[key]
        if value.shape != () or value.dtype.kind not in "fiu":
            raise ValueError(
                f"{path}: {key} must be a real scalar, got {value.dtype} {value.shape}"
            )
        axes[key] = float(value)
    info = {
        key[len("info_") :]: contents[key].item()
        for key in contents
        if key.startswith("info_") and contents[key].shape == ()
    }
    try:
        return DeerNet(
            contents["W1"],
            contents["b1"],
            contents["W2"],
            contents["b2"],
            t_max=axes["t_max"],
            r_min=axes["r_min"],
            r_max=axes["r_max"],
            info=info,
        )
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: invalid DEERNet weights: {exc}") from exc

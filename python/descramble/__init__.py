"""descramble: exact, certified descramblers for the hidden layers of neural networks.

Descrambling finds the orthogonal (or permutation) matrix ``P`` that puts a
layer's hidden neurons into a readable order by minimising the Tikhonov
smoothness ``||D P S||_F^2`` of the hidden data ``S``. Over the orthogonal group
the optimum is known in closed form, ``P = T U^T``, and certified by von
Neumann's trace inequality.

References
----------
Sule, Spencer, Czaja, "On the limits of neural network explainability via
descrambling", Appl. Comput. Harmon. Anal. 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793.

Amey, Keeley, Choudhury, Kuprov, "Neural network interpretation using
descrambler groups", PNAS 118(5) e2016917118 (2021), doi:10.1073/pnas.2016917118.
"""

from __future__ import annotations

from ._version import __version__

try:
    from . import _core  # noqa: F401
except ImportError as exc:  # pragma: no cover - only without a build
    raise ImportError(
        "descramble's compiled core (descramble._core) is missing: the package was not "
        "compiled. Install it with `pip install .` from the source tree."
    ) from exc

# deer, deernet and plot are numpy-only at import; plot imports matplotlib on first use.
# torch and dask import their libraries only when a function is called.
from . import dask, deer, deernet, iterative, plot, smoothness, spectral, torch
from .assignment import linear_sum_assignment, linear_sum_assignment_batch
from .descrambler import Descrambling, Gram, descramble
from .linalg import eigh
from .moments import Moments
from .qap import quadratic_assignment
from .smoothness import Operator

__all__ = [
    "__version__",
    "dask",
    "deer",
    "deernet",
    "descramble",
    "Descrambling",
    "eigh",
    "Gram",
    "iterative",
    "linear_sum_assignment",
    "linear_sum_assignment_batch",
    "Moments",
    "Operator",
    "plot",
    "quadratic_assignment",
    "smoothness",
    "spectral",
    "torch",
]

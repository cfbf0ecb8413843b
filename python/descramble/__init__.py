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

# The compiled core is one extension module per kernel level: importing
# _dispatch picks the best one this CPU runs (or DESCRAMBLE_ISA's) and installs
# it as descramble._core, so it must come before every module that uses _core.
from . import _dispatch  # noqa: F401
from ._version import __version__

# isort: split
# deer, deernet and plot are numpy-only at import; plot imports matplotlib on first use.
# torch and dask import their libraries only when a function is called.
from . import dask, deer, deernet, iterative, plot, smoothness, spectral, torch
from ._config import show_config
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
    "show_config",
    "smoothness",
    "spectral",
    "torch",
]

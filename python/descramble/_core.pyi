"""Type stubs of the compiled core (descramble._core)."""

import numpy as np
import numpy.typing as npt

def eigh(
    a: npt.ArrayLike, k: int = 0, compute_vectors: bool = True
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

"""Type stubs of the compiled core (descramble._core)."""

import numpy as np
import numpy.typing as npt

def eigh(
    a: npt.ArrayLike, k: int = 0, compute_vectors: bool = True
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def linear_sum_assignment_f64(
    cost: npt.NDArray[np.float64], maximize: bool = False
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def linear_sum_assignment_f32(
    cost: npt.NDArray[np.float32], maximize: bool = False
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def linear_sum_assignment_batch_f64(
    costs: list[npt.NDArray[np.float64]], maximize: bool = False
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]: ...
def linear_sum_assignment_batch_f32(
    costs: list[npt.NDArray[np.float32]], maximize: bool = False
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]: ...

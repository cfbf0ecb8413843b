"""A streaming randomized sketch of the second moments of layers too wide for ``n x n`` statistics.

:class:`Sketch` keeps ``Y = G [Omega, Phi]`` instead of ``G``: ``O(n k)``
numbers. ``Omega`` (``n x s``, orthonormal columns) is the range test matrix
and ``Phi`` (``n x q``, Gaussian) an independent test matrix for the error
estimate. The leading eigenpairs come from the stable Nystrom approximation of
Tropp, Yurtsever, Udell and Cevher, "Fixed-rank approximation of a
positive-semidefinite matrix from streaming data" (NeurIPS 2017,
arXiv:1706.05736), and the a-posteriori error estimate from their "Streaming
low-rank matrix approximation with an application to scientific simulation"
(SISC 41 (2019) A2430-A2463, doi:10.1137/18M1201068).

Centring follows :class:`~descramble.Moments`: samples are shifted by a mean of
the first batch, ``z = x - c``; the state is the count ``N``, ``sum z`` and the
sketch of ``sum z z^T``, all linear in the data. The scatter's sketch is
``Y_z - N d (d^T T)`` with ``d = sum z / N`` and the raw Gram matrix's
``Y_z + c (s^T T) + s (c^T T) + N c (c^T T)`` with ``s = sum z`` (``T`` the
test matrices), so merges and both targets are exact.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any, Union

import numpy as np

from . import _core
from ._state_file import open_state_file
from ._validation import as_batch

__all__ = ["Sketch"]

_FORMAT = "descramble.Sketch"
_VERSION = 1

#: Confidence of :attr:`error_bound`: the bound fails with probability at most 1e-3.
FAILURE_PROBABILITY = 1e-3

PathLike = Union[str, "os.PathLike[str]"]


def _int_arg(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Sketch: {name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"Sketch: {name} must be >= {low}, got {value}")
    return int(value)


def _test_matrices(n: int, size: int, test_size: int, seed: int) -> np.ndarray:
    """``[Omega, Phi]``: ``Omega`` with orthonormal columns, ``Phi`` standard Gaussian."""
    rng = np.random.default_rng(seed)
    omega = np.linalg.qr(rng.standard_normal((n, size)))[0]
    phi = rng.standard_normal((n, test_size))
    return np.ascontiguousarray(np.hstack([omega, phi]))


def bound_factor(test_size: int, failure: float = FAILURE_PROBABILITY) -> float:
    """``1 / sqrt(t)`` with ``(t e^(1 - t))^(q / 2) = failure``: error estimate to bound.

    With Gaussian ``Phi`` (``q`` columns), ``q err^2 = sum_i s_i^2 X_i`` with
    ``s_i`` the singular values of ``E = G - G_k`` and ``X_i`` independent
    chi-square variables of ``q`` degrees of freedom. Among weights summing to
    ``||E||_F^2`` the lower tail is heaviest for a single weight, for which
    Chernoff's bound gives ``P(err^2 <= t ||E||_F^2) <= (t e^(1 - t))^(q/2)``.
    """
    target = math.log(failure)

    def f(t: float) -> float:
        return 0.5 * test_size * (math.log(t) + 1.0 - t) - target

    lo, hi = 1e-300, 1.0  # f(lo) < 0 < f(hi)
    for _ in range(200):
        mid = math.sqrt(lo * hi) if hi / lo > 4.0 else 0.5 * (lo + hi)
        if f(mid) < 0.0:
            lo = mid
        else:
            hi = mid
    return 1.0 / math.sqrt(lo)


def nystrom(y: np.ndarray, omega: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable Nystrom approximation ``U diag(lam) U^T`` of a PSD ``G`` from ``Y = G Omega``.

    Tropp et al. (2017), Algorithm 3: shift by ``nu = sqrt(n) eps(||Y||)`` so
    that the core matrix is numerically positive definite, Cholesky, SVD, and
    remove the shift. Returns ``lam`` descending (``rank`` values) and ``U``.
    """
    n = y.shape[0]
    norm = float(np.linalg.norm(y, 2)) if y.size else 0.0
    nu = math.sqrt(n) * np.spacing(norm) if norm > 0.0 else np.finfo(np.float64).tiny
    for _ in range(8):
        y_nu = y + nu * omega
        b = omega.T @ y_nu
        try:
            c = np.linalg.cholesky(0.5 * (b + b.T))  # lower: b = c c^T
            break
        except np.linalg.LinAlgError:
            nu *= 100.0  # rounding left the core matrix indefinite: a larger shift
    else:  # pragma: no cover - needs a non-PSD sketch beyond rounding
        raise RuntimeError("Sketch: the Nystrom core matrix is not positive definite")
    e = np.linalg.solve(c, y_nu.T).T  # Y_nu c^{-T}: E E^T = Y_nu B^{-1} Y_nu^T
    u, sigma, _ = np.linalg.svd(e, full_matrices=False)
    lam = np.maximum(sigma[:rank] ** 2 - nu, 0.0)
    return lam, u[:, :rank]


class Sketch:
    """Streaming randomized sketch of the second moments, ``O(n k)`` memory.

    The :class:`~descramble.Moments` interface (``update``, ``merge``, ``+``,
    ``count``, ``mean``, ``copy``, pickle, ``save``/``load``) for layers whose
    ``n x n`` statistics do not fit in memory; ``ds.descramble(sketch)``
    returns the ``k x n`` descrambler of the leading ``k`` principal
    directions with an estimate of their error (see :meth:`leading`).

    Parameters
    ----------
    n : int
        Number of neurons.
    k : int
        Number of leading directions wanted (``1 <= k <= n``).
    size : int, optional
        Columns ``s`` of the range sketch (``k <= s <= n``); default
        ``min(n, 2 k)``. Larger is more accurate: the Nystrom error tracks the
        best rank-``k`` error more closely as ``s - k`` grows.
    test_size : int
        Columns ``q`` of the independent error-estimation sketch (``>= 2``).
    seed : int
        Seed of the test matrices. Sketches merge only with the same
        ``n``, ``k``, ``size``, ``test_size`` and ``seed``.

    Notes
    -----
    Memory: two ``n x (s + q)`` float64 arrays (the sketch and the test
    matrices). Each update costs ``4 N n (s + q)`` flops, two matrix products.
    """

    def __init__(
        self, n: int, k: int, *, size: int | None = None, test_size: int = 16, seed: int = 0
    ) -> None:
        n = _int_arg(n, "n", 1)
        k = _int_arg(k, "k", 1)
        if k > n:
            raise ValueError(f"Sketch: k must satisfy 1 <= k <= n = {n}, got {k}")
        s = min(n, 2 * k) if size is None else _int_arg(size, "size", 1)
        if not k <= s <= n:
            raise ValueError(f"Sketch: size must satisfy k = {k} <= size <= n = {n}, got {s}")
        q = _int_arg(test_size, "test_size", 2)
        seed = _int_arg(seed, "seed", 0)
        self._init(n, k, s, q, seed, _test_matrices(n, s, q, seed))

    def _init(self, n: int, k: int, s: int, q: int, seed: int, test: np.ndarray) -> None:
        self._n, self._k, self._size, self._test_size, self._seed = n, k, s, q, seed
        self._test = test
        self._count = 0
        self._shift = np.zeros(n)
        self._sum = np.zeros(n)
        self._y = np.zeros((n, s + q))
        self._updates = 0
        self._lock = threading.Lock()

    # -- building -----------------------------------------------------------------

    def update(self, x: Any) -> Sketch:
        """Add a batch of samples ``(batch, n)``; returns ``self``.

        float32 or float64 in any layout are read in place (float32 converted
        to float64 panel by panel in the core, which releases the GIL);
        integers and booleans are converted to float64.

        Raises
        ------
        ValueError
            Wrong shape, or NaN, infinity or a value beyond 1e100 (the message
            names the update call and the row); the sketch is then unchanged.
        TypeError
            Non-numeric data.
        """
        with self._lock:
            index = self._updates
            self._updates += 1
            arr = as_batch(x, self._n, "Sketch.update")
            if arr.shape[0] == 0:
                return self
            shift = self._shift
            if self._count == 0:
                # The first rows' mean keeps later differences of the order of
                # the spread (a non-finite one is caught by the core's check).
                with np.errstate(all="ignore"):
                    shift = arr[:64].mean(axis=0, dtype=np.float64)
            try:
                _core.sketch_update(arr, shift, self._test, self._y, self._sum)
            except ValueError as exc:
                raise ValueError(f"Sketch.update: batch {index}: {exc}") from None
            self._shift = shift
            self._count += int(arr.shape[0])
        return self

    def _check_compatible(self, other: Any, what: str) -> None:
        if not isinstance(other, Sketch):
            raise TypeError(f"Sketch.{what}: expected a Sketch, got {type(other).__name__}")
        mine = (self._n, self._k, self._size, self._test_size, self._seed)
        theirs = (other._n, other._k, other._size, other._test_size, other._seed)
        if mine != theirs or not np.array_equal(self._test, other._test):
            raise ValueError(
                f"Sketch.{what}: the sketches use different test matrices "
                f"(n, k, size, test_size, seed) = {mine} and {theirs}: only sketches "
                "made with the same parameters and seed can be merged"
            )

    def merge(self, other: Sketch) -> Sketch:
        """Add the samples summarised by ``other`` in place (exact); returns ``self``."""
        self._check_compatible(other, "merge")
        with other._lock:
            count, shift, total, y = other._count, other._shift, other._sum.copy(), other._y.copy()
        if count == 0:
            return self
        with self._lock:
            if self._count == 0:
                self._shift = shift.copy()
            else:
                # Re-express other's state about this shift: z' = z + delta.
                delta = shift - self._shift
                t = self._test
                y += np.outer(delta, total @ t) + np.outer(total, delta @ t)
                y += count * np.outer(delta, delta @ t)
                total = total + count * delta
            self._y += y
            self._sum += total
            self._count += count
        return self

    def __add__(self, other: Any) -> Sketch:
        """The merge of two sketches as a new object; both operands are unchanged."""
        if not isinstance(other, Sketch):
            return NotImplemented
        return self.copy().merge(other)

    def empty(self) -> Sketch:
        """A sketch with the same test matrices and no samples (a partial for merging)."""
        obj = type(self).__new__(type(self))
        obj._init(self._n, self._k, self._size, self._test_size, self._seed, self._test)
        return obj

    # -- statistics ---------------------------------------------------------------

    @property
    def n(self) -> int:
        """Number of neurons."""
        return self._n

    @property
    def k(self) -> int:
        """Number of leading directions the sketch is made for."""
        return self._k

    @property
    def size(self) -> int:
        """Columns of the range sketch."""
        return self._size

    @property
    def test_size(self) -> int:
        """Columns of the error-estimation sketch."""
        return self._test_size

    @property
    def seed(self) -> int:
        """Seed of the test matrices."""
        return self._seed

    @property
    def count(self) -> int:
        """Number of samples seen."""
        return self._count

    @property
    def mean(self) -> np.ndarray:
        """``(n,)`` mean of the samples; zeros before any sample."""
        if self._count == 0:
            return np.zeros(self._n)
        return self._shift + self._sum / self._count

    @property
    def nbytes(self) -> int:
        """Bytes held by the state and the test matrices."""
        return int(self._y.nbytes + self._test.nbytes + self._shift.nbytes + self._sum.nbytes)

    def sketch(self, center: bool = False) -> np.ndarray:
        """``G [Omega, Phi]`` (``n x (size + test_size)``) for the raw Gram matrix, or the
        centred scatter with ``center=True``."""
        t, total, count = self._test, self._sum, self._count
        if count == 0:
            return np.zeros_like(self._y)
        if center:
            d = total / count
            return self._y - count * np.outer(d, d @ t)
        c = self._shift
        return (
            self._y + np.outer(c, total @ t) + np.outer(total, c @ t) + count * np.outer(c, c @ t)
        )

    def leading(
        self, k: int | None = None, center: bool = False
    ) -> tuple[np.ndarray, np.ndarray, dict]:
        """``(mu, U, report)``: the ``k`` leading pairs of the sketched ``G``, descending.

        ``G`` is the raw Gram matrix ``sum x x^T`` (``center=False``) or the
        centred scatter. ``U`` columns carry the principal sign convention of
        :func:`descramble.descramble` (largest-magnitude entry positive).

        ``report`` holds the a-posteriori error of ``G_k = U diag(mu) U^T``:
        ``error_estimate = sqrt(||(G - G_k) Phi||_F^2 / q)``, an unbiased
        estimate of ``||G - G_k||_F^2`` (Tropp et al., 2019, section 6), since
        ``E[Phi Phi^T] = q I`` and ``Phi`` is independent of ``Omega`` and
        hence of ``G_k``; ``error_bound = error_estimate * bound_factor(q)``,
        which bounds ``||G - G_k||_F`` with probability at least
        ``1 - failure_probability`` (see :func:`bound_factor`);
        ``norm_estimate``, the same estimate of ``||G||_F``; and the relative
        forms of both.
        """
        kk = self._k if k is None else _int_arg(k, "k", 1)
        if kk > self._k:
            raise ValueError(f"Sketch.leading: k must be <= the sketch's k = {self._k}, got {kk}")
        if self._count == 0:
            raise ValueError("Sketch.leading: the sketch holds no samples yet")
        full = self.sketch(center)
        s = self._size
        omega, phi = self._test[:, :s], self._test[:, s:]
        mu, u = nystrom(full[:, :s], omega, kk)
        # Principal signs: each column's first entry of largest magnitude positive.
        at = np.argmax(np.abs(u), axis=0)
        u *= np.where(u[at, np.arange(kk)] < 0.0, -1.0, 1.0)
        w = full[:, s:]
        q = self._test_size
        residual = w - u @ (mu[:, None] * (u.T @ phi))
        err = math.sqrt(float(np.vdot(residual, residual)) / q)
        norm = math.sqrt(float(np.vdot(w, w)) / q)
        factor = bound_factor(q)
        report = {
            "method": "sketch",
            "size": s,
            "test_size": q,
            "count": self._count,
            "error_estimate": err,
            "error_bound": err * factor,
            "failure_probability": FAILURE_PROBABILITY,
            "norm_estimate": norm,
            "relative_error_estimate": err / norm if norm > 0.0 else 0.0,
            "relative_error_bound": err * factor / norm if norm > 0.0 else 0.0,
        }
        return mu, u, report

    # -- state, copies, pickling, files -------------------------------------------

    def _state(self) -> dict:
        with self._lock:
            return {
                "n": self._n,
                "k": self._k,
                "size": self._size,
                "test_size": self._test_size,
                "seed": self._seed,
                "count": self._count,
                "updates": self._updates,
                "shift": self._shift.copy(),
                "sum": self._sum.copy(),
                "y": self._y.copy(),
                "test": self._test,
            }

    @classmethod
    def _from_state(cls, state: dict, where: str) -> Sketch:
        try:
            n, k = int(state["n"]), int(state["k"])
            s, q, seed = int(state["size"]), int(state["test_size"]), int(state["seed"])
            count = int(state["count"])
            arrays = {
                "shift": (np.asarray(state["shift"], dtype=np.float64), (n,)),
                "sum": (np.asarray(state["sum"], dtype=np.float64), (n,)),
                "y": (np.asarray(state["y"], dtype=np.float64), (n, s + q)),
                "test": (np.asarray(state["test"], dtype=np.float64), (n, s + q)),
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: incomplete Sketch state: {exc}") from None
        if not (1 <= k <= s <= n and q >= 2 and count >= 0 and seed >= 0):
            raise ValueError(
                f"{where}: invalid Sketch parameters n={n}, k={k}, size={s}, "
                f"test_size={q}, seed={seed}, count={count}"
            )
        for name, (arr, shape) in arrays.items():
            if arr.shape != shape:
                raise ValueError(f"{where}: {name} has shape {arr.shape}, expected {shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{where}: {name} contains NaN or infinity")
        obj = cls.__new__(cls)
        obj._init(n, k, s, q, seed, np.ascontiguousarray(arrays["test"][0]))
        obj._count = count
        obj._shift = arrays["shift"][0].copy()
        obj._sum = arrays["sum"][0].copy()
        obj._y = np.ascontiguousarray(arrays["y"][0]).copy()
        obj._updates = int(state.get("updates", 0))
        return obj

    def copy(self) -> Sketch:
        """An independent copy (the read-only test matrices are shared)."""
        return self._from_state(self._state(), "Sketch.copy")

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> Sketch:
        return self.copy()

    def __getstate__(self) -> dict:
        return self._state()

    def __setstate__(self, state: dict) -> None:
        rebuilt = self._from_state(state, "Sketch (unpickling)")
        self.__dict__.update(rebuilt.__dict__)

    def save(self, path: PathLike) -> None:
        """Write the sketch, its test matrices included, to ``path`` (``.npz``)."""
        arrays: dict[str, Any] = {key: np.asarray(v) for key, v in self._state().items()}
        arrays["format"] = np.array(_FORMAT)
        arrays["version"] = np.array(_VERSION)
        with open(path, "wb") as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: PathLike) -> Sketch:
        """Read a sketch written by :meth:`save`.

        Raises
        ------
        ValueError
            Not a Sketch file of a known version, truncated, or an invalid
            state; the message names the file.
        FileNotFoundError
            ``path`` does not exist.
        """
        name = os.fspath(path)
        with open_state_file(name, "Sketch", _FORMAT, _VERSION, {"format"}) as data:
            state = {key: data[key] for key in data.files}
        return cls._from_state(state, repr(name))

    def __repr__(self) -> str:
        return (
            f"Sketch(n={self._n}, k={self._k}, size={self._size}, "
            f"test_size={self._test_size}, count={self._count})"
        )

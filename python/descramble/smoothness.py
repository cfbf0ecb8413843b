"""Smoothness operators for descrambling and their eigenbases in closed form.

The descrambling objective of Sule, Spencer, Czaja, ACHA 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793 (after Amey et al., PNAS 118(5) e2016917118 (2021),
doi:10.1073/pnas.2016917118) is the Tikhonov smoothness ``||D P S||_F^2`` of the
descrambled hidden data, i.e. ``tr(P^T L P G)`` with ``L = D^T D``. Its exact
minimiser needs the eigenbasis of ``L`` with eigenvalues ascending; for the
built-in operators that basis is known in closed form (real Fourier modes, the
DST-I and DCT-II vectors), so no eigensolver runs.

Built-in kinds (``operator(kind, n, order)``):

``"fourier"``
    Weideman-Reddy ``fourdif`` spectral differentiation of order ``m >= 1`` on
    ``n`` periodic points ``x_j = 2 pi j / n`` (Weideman and Reddy, ACM TOMS 26
    (2000), doi:10.1145/365723.365727): ``D = F^-1 diag((i k)^m) F``. ``L`` has
    eigenvalues ``k^(2m)`` for every real Fourier mode of frequency ``k``:
    ``0, 1, 1, 16, 16, 81, 81, ...`` for ``m = 2``. One departure from
    ``fourdif``: for odd ``m`` on even ``n`` the Nyquist mode (the alternating
    vector ``(-1)^j``, frequency ``n/2``) has no real ``(i k)^m`` (its
    derivative vanishes on the grid), and ``fourdif`` gives it 0, which would
    put the roughest grid function in the null space of ``L`` beside the
    constant and send the second principal component to it. Here its symbol
    is the magnitude ``(n/2)^m``, so its penalty is ``(n/2)^(2m)`` as for even
    ``m``: ``D`` is ``fourdif``'s matrix plus ``(n/2)^m a a^T / n`` with
    ``a = (-1)^j``, still real, and it differentiates every trigonometric
    polynomial of frequency below ``n/2`` exactly.
``"periodic"``
    Circulant finite differences on a unit-spaced periodic grid: order 1 is the
    central difference ``(u[j+1] - u[j-1]) / 2``, order 2 the stencil
    ``[1, -2, 1]``. Eigenvectors are the real Fourier modes.
``"dirichlet"``
    Finite differences on a unit-spaced grid with zero ghost values
    ``u[0] = u[n+1] = 0``. Order 1 is the forward difference over all ``n + 1``
    grid edges, so ``D`` is ``(n + 1) x n`` (the only built-in operator that is
    not square: no square first difference has ``D^T D`` equal to the Dirichlet
    Laplacian); ``L = D^T D = tridiag(-1, 2, -1)``. Order 2 is the ``n x n``
    matrix ``tridiag(1, -2, 1)`` and ``L = D^2``. Eigenvectors: DST-I,
    ``sin(pi k j / (n + 1))``; eigenvalues ``4 sin^2(pi k / (2 (n + 1)))`` (order 1)
    and their squares (order 2).
``"neumann"``
    Finite differences on a unit-spaced grid with reflecting ghost values
    ``u[0] = u[1]``, ``u[n+1] = u[n]`` (zero slope at both ends). Order 1 is the
    forward difference ``u[j+1] - u[j]``; its last row is zero because the ghost
    value repeats ``u[n]``. Order 2 is ``tridiag(1, -2, 1)`` with ``-1`` in both
    corners. Eigenvectors: DCT-II, ``cos(pi k (j + 1/2) / n)``; eigenvalues
    ``4 sin^2(pi k / (2 n))`` (order 1) and their squares (order 2).

Conventions of :func:`basis` (so results are reproducible):

* eigenvalues of ``L`` ascending; inside a block of equal eigenvalues the modes
  keep their natural order: for the Fourier kinds the constant, then ``cos`` before
  ``sin`` of the same frequency, frequencies increasing, the alternating (Nyquist)
  mode last; for the sine and cosine kinds increasing ``k``;
* every column has unit norm and its first nonzero entry is positive (cosine
  modes are positive at ``x = 0``, sine modes at ``x = h``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ._validation import as_float_array, check_finite, integer, symmetric_matrix
from .linalg import eigh

KINDS = ("fourier", "periodic", "dirichlet", "neumann")
FINITE_DIFFERENCE_ORDERS = (1, 2)

__all__ = ["KINDS", "Operator", "basis", "cached_basis", "operator"]


# ----------------------------------------------------------------------------- validation


def _check_kind(kind: Any) -> str:
    if not isinstance(kind, str):
        raise TypeError(
            f"smoothness kind must be a string, one of {KINDS}, got {type(kind).__name__}"
        )
    if kind not in KINDS:
        raise ValueError(f"unknown smoothness kind {kind!r}: expected one of {', '.join(KINDS)}")
    return kind


def _check_size(n: Any) -> int:
    n = integer(n, "n")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return int(n)


def _check_order(kind: str, order: Any) -> int:
    integer(order, "order")
    if kind == "fourier":
        if order < 1:
            raise ValueError(f"order must be >= 1 for kind 'fourier', got {order}")
    elif order not in FINITE_DIFFERENCE_ORDERS:
        raise ValueError(f"order must be 1 or 2 for kind {kind!r}, got {order}")
    return int(order)


def check_arguments(kind: Any, n: Any, order: Any) -> tuple[str, int, int]:
    """``(kind, n, order)`` checked (the errors of :func:`operator`), as built-in types."""
    kind = _check_kind(kind)
    return kind, _check_size(n), _check_order(kind, order)


# ----------------------------------------------------------------------------- operators


def _fourier_wavenumbers(n: int) -> np.ndarray:
    """Integer wavenumbers in numpy's FFT order: 0, 1, ..., then negative ones."""
    return np.rint(np.fft.fftfreq(n) * n).astype(np.int64)


def _fourier_symbol(n: int, order: int) -> np.ndarray:
    """``(i k)^m`` per FFT bin; for odd m on even n the Nyquist bin gets ``(n/2)^m``."""
    k = _fourier_wavenumbers(n).astype(np.float64)
    with np.errstate(over="ignore"):
        power = k**order  # real k^m keeps the sign of k for odd m
    if not np.all(np.isfinite(power)):
        raise ValueError(
            f"fourier order {order} on n = {n} points overflows float64 "
            f"((n/2)^{order} is too large); use a lower order"
        )
    # (i k)^m = i^m k^m, with i^m exactly one of 1, i, -1, -i.
    symbol = (1j ** (order % 4)) * power.astype(np.complex128)
    if n % 2 == 0 and order % 2 == 1:
        # An imaginary Nyquist bin has no partner of opposite sign on an even
        # grid, so D would not be real; its magnitude keeps D real and the
        # alternating mode the roughest (module docstring).
        symbol[n // 2] = abs(power[n // 2])
    return symbol


def _circulant(first_column: np.ndarray) -> np.ndarray:
    """Circulant matrix ``C[i, j] = c[(i - j) mod n]``."""
    n = first_column.shape[0]
    idx = (np.arange(n)[:, None] - np.arange(n)[None, :]) % n
    return first_column[idx]


def _fourier_operator(n: int, order: int) -> np.ndarray:
    # D is circulant: D x = ifft(symbol * fft(x)) is a circular convolution with
    # ifft(symbol). The symbol is Hermitian (even m: real and even; odd m:
    # imaginary and odd), so the column is real up to rounding.
    column = np.fft.ifft(_fourier_symbol(n, order)).real
    return _circulant(column)


def _periodic_operator(n: int, order: int) -> np.ndarray:
    d = np.zeros((n, n))
    rows = np.arange(n)
    # np.add.at accumulates, so stencil taps that wrap onto the same column for
    # n <= 2 add up as the circulant definition requires.
    if order == 1:
        np.add.at(d, (rows, (rows + 1) % n), 0.5)
        np.add.at(d, (rows, (rows - 1) % n), -0.5)
    else:
        np.add.at(d, (rows, (rows + 1) % n), 1.0)
        np.add.at(d, (rows, rows), -2.0)
        np.add.at(d, (rows, (rows - 1) % n), 1.0)
    return d


def _second_difference(n: int, corner: float) -> np.ndarray:
    d = -2.0 * np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)
    d[0, 0] += corner
    d[-1, -1] += corner
    return d


def _dirichlet_operator(n: int, order: int) -> np.ndarray:
    if order == 1:
        # Row e is the difference across grid edge e (e = 0..n), ghost values zero.
        return np.eye(n + 1, n) - np.eye(n + 1, n, k=-1)
    return _second_difference(n, 0.0)


def _neumann_operator(n: int, order: int) -> np.ndarray:
    if order == 1:
        d = np.eye(n, k=1) - np.eye(n)
        d[-1, -1] = 0.0  # u[n+1] - u[n] = 0 by the reflecting ghost value
        return d
    # Ghost values u[0] = u[1], u[n+1] = u[n] turn -2 into -1 in the corners.
    return _second_difference(n, 1.0)


_OPERATORS: dict[str, Callable[[int, int], np.ndarray]] = {
    "fourier": _fourier_operator,
    "periodic": _periodic_operator,
    "dirichlet": _dirichlet_operator,
    "neumann": _neumann_operator,
}


def operator(kind: str, n: int, order: int = 2) -> np.ndarray:
    """The differentiation matrix ``D`` of a built-in smoothness kind.

    The descrambling objective is ``||D P S||_F^2 = tr(P^T L P G)`` with
    ``L = D^T D`` (Sule, Spencer, Czaja, ACHA 79 (2025) 101793,
    doi:10.1016/j.acha.2025.101793; Amey et al., PNAS 118(5) e2016917118 (2021),
    doi:10.1073/pnas.2016917118). The module docstring lists each kind's grid and
    boundary convention.

    Parameters
    ----------
    kind : {"fourier", "periodic", "dirichlet", "neumann"}
        ``"fourier"``: spectral (``fourdif``) differentiation on a periodic grid;
        ``"periodic"``: circulant finite differences; ``"dirichlet"`` /
        ``"neumann"``: finite differences with zero / zero-slope boundaries.
    n : int
        Number of grid points (hidden neurons), ``n >= 1``.
    order : int
        Derivative order: any ``order >= 1`` for ``"fourier"``, 1 or 2 for the
        finite-difference kinds.

        Warning: ``"periodic"`` order 1 is the *central* difference, whose ``L``
        has eigenvalues ``sin^2(2 pi k / n)``. They are not monotone in the
        frequency ``k``: the alternating vector ``(-1)^j`` lies in its null space,
        so the operator counts the highest frequency as perfectly smooth and the
        descrambler may place strong components there. Prefer order 2 or
        ``"fourier"`` unless that is what you want.

    Returns
    -------
    D : ndarray of float64
        ``(n, n)``, except ``"dirichlet"`` order 1 which is ``(n + 1, n)`` (one
        difference per grid edge, both boundary edges included).

    Raises
    ------
    ValueError
        Unknown kind, ``n < 1``, order out of range, or a Fourier order so high
        that ``(n/2)^order`` overflows.
    TypeError
        Non-string kind, non-integer ``n`` or ``order``.
    """
    kind, n, order = check_arguments(kind, n, order)
    return _OPERATORS[kind](n, order)


# ----------------------------------------------------------------------------- bases


def _real_fourier_frequencies(n: int) -> np.ndarray:
    """Frequency of each real Fourier mode of :func:`_real_fourier_modes`, in its order."""
    half = (n - 1) // 2
    freqs = np.zeros(n, dtype=np.int64)
    freqs[1 : 2 * half + 1] = np.repeat(np.arange(1, half + 1), 2)
    if n % 2 == 0:
        freqs[-1] = n // 2
    return freqs


def _real_fourier_modes(n: int) -> np.ndarray:
    """Orthonormal real Fourier modes in natural order (columns).

    Columns: constant; cos(k x), sin(k x) for k = 1 .. ceil(n/2) - 1; then the
    alternating mode (-1)^j when n is even (frequencies:
    :func:`_real_fourier_frequencies`). Angles are reduced exactly as
    ``2 pi ((k j) mod n) / n`` so that large ``k j`` lose no accuracy.
    """
    j = np.arange(n)
    half = (n - 1) // 2
    k = np.arange(1, half + 1)
    # Only n distinct angles 2 pi m / n occur: tabulate cos and sin once and
    # gather, which is faster than n^2 evaluations and exactly periodic.
    residue = np.outer(j, k) % n
    table = (2.0 * np.pi / n) * np.arange(n)
    cos_table, sin_table = np.cos(table), np.sin(table)
    t = np.empty((n, n))
    t[:, 0] = 1.0 / np.sqrt(n)
    scale = np.sqrt(2.0 / n)
    t[:, 1 : 2 * half + 1 : 2] = scale * cos_table[residue]
    t[:, 2 : 2 * half + 1 : 2] = scale * sin_table[residue]
    if n % 2 == 0:
        t[:, -1] = np.where(j % 2 == 0, 1.0, -1.0) / np.sqrt(n)
    return t


def _sorted(lam: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # A stable sort keeps the natural order (cos before sin, lower k first) inside
    # blocks of equal eigenvalues; the eigenvalue formulas below give bitwise
    # equal values for tied modes, so the order does not depend on rounding.
    order = np.argsort(lam, kind="stable")
    return lam[order], np.ascontiguousarray(t[:, order])


def _fourier_eigenvalues(n: int, order: int) -> np.ndarray:
    """Eigenvalues of the spectral ``L`` for the real Fourier modes in natural order."""
    with np.errstate(over="ignore"):
        largest = np.float64(n // 2) ** (2 * order)
    if not np.isfinite(largest):  # checked before the O(n^2) modes are built
        raise ValueError(
            f"fourier order {order} on n = {n} points: eigenvalues k^{2 * order} overflow "
            "float64; use a lower order"
        )
    k = _real_fourier_frequencies(n).astype(np.float64)
    return k ** (2 * order)  # the Nyquist mode too, for odd orders (see _fourier_symbol)


def _periodic_eigenvalues(n: int, order: int) -> np.ndarray:
    """Eigenvalues of the periodic finite-difference ``L`` for the natural real Fourier modes."""
    freqs = _real_fourier_frequencies(n)
    if order == 1:
        # sin^2(2 pi k / n) = sin^2(pi a / n) with a = min(2k mod n, n - 2k mod n):
        # frequencies k and n/2 - k then share bitwise-identical eigenvalues.
        a = (2 * freqs) % n
        a = np.minimum(a, n - a)
        return np.sin(np.pi * a / n) ** 2
    return 16.0 * np.sin(np.pi * freqs / n) ** 4


def _fourier_basis(n: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    lam = _fourier_eigenvalues(n, order)
    return _sorted(lam, _real_fourier_modes(n))


def _periodic_basis(n: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    return _sorted(_periodic_eigenvalues(n, order), _real_fourier_modes(n))


#: Kinds whose basis is the real Fourier modes (sorted by eigenvalue).
FOURIER_MODE_KINDS = ("fourier", "periodic")


def synthesize_fourier_modes(kind: str, order: int, coeffs: np.ndarray) -> np.ndarray:
    """``coeffs @ T.T`` for ``T = basis(kind, n, order)[1]``, by an inverse real FFT.

    ``coeffs`` is ``(m, n)``: row ``r`` holds the coefficients of a signal in the
    (sorted) modes, and row ``r`` of the result is that signal, ``T @ coeffs[r]``.
    ``kind`` is one of :data:`FOURIER_MODE_KINDS`. The cost is ``O(m n log n)``
    instead of the ``2 m n^2`` of a matrix product, because a sum of real
    Fourier modes is what an inverse real DFT evaluates; it agrees with the
    explicit ``T`` to ``eps log n`` relative to the row norms.
    """
    m, n = coeffs.shape
    lam = _fourier_eigenvalues(n, order) if kind == "fourier" else _periodic_eigenvalues(n, order)
    perm = np.argsort(lam, kind="stable")  # the same order as _sorted
    if np.array_equal(perm, np.arange(n)):
        natural = coeffs  # every kind but periodic order 1: no gather of columns needed
    else:
        natural = np.empty_like(coeffs)
        natural[:, perm] = coeffs
    # irfft: x_j = (X_0 + 2 Re sum_k X_k e^{2 pi i k j / n} + X_{n/2} (-1)^j) / n, and
    # Re((a - i b) e^{i t}) = a cos t + b sin t: X_k = sqrt(n / 2) (a_k - i b_k) gives
    # the orthonormal modes sqrt(2 / n) cos, sqrt(2 / n) sin; X_0 = sqrt(n) c_0.
    half = (n - 1) // 2
    spectrum = np.zeros((m, n // 2 + 1), dtype=np.complex128)
    interleaved = spectrum.view(np.float64)  # re, im of each frequency side by side
    interleaved[:, 0] = np.sqrt(n) * natural[:, 0]
    interleaved[:, 2 : 2 * half + 2] = natural[:, 1 : 2 * half + 1]
    interleaved[:, 2 : 2 * half + 2] *= np.sqrt(n / 2.0)
    interleaved[:, 3 : 2 * half + 2 : 2] *= -1.0
    if n % 2 == 0:
        interleaved[:, 2 * (n // 2)] = np.sqrt(n) * natural[:, -1]
    return np.fft.irfft(spectrum, n=n, axis=-1)


def _dirichlet_basis(n: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(1, n + 1)
    j = np.arange(1, n + 1)
    # DST-I vectors sin(pi k j / (n + 1)), reduced exactly modulo 2(n + 1).
    period = 2 * (n + 1)
    table = np.sin((2.0 * np.pi / period) * np.arange(period))
    t = np.sqrt(2.0 / (n + 1)) * table[np.outer(j, k) % period]
    lam = 4.0 * np.sin(np.pi * k / (2.0 * (n + 1))) ** 2
    return lam**order, t


def _neumann_basis(n: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(n)
    j = np.arange(n)
    # DCT-II vectors cos(pi k (j + 1/2) / n) = cos(pi k (2j + 1) / (2n)), reduced mod 4n.
    period = 4 * n
    table = np.cos((2.0 * np.pi / period) * np.arange(period))
    t = np.sqrt(2.0 / n) * table[np.outer(2 * j + 1, k) % period]
    t[:, 0] = 1.0 / np.sqrt(n)
    lam = 4.0 * np.sin(np.pi * k / (2.0 * n)) ** 2
    return lam**order, t


_BASES: dict[str, Callable[[int, int], tuple[np.ndarray, np.ndarray]]] = {
    "fourier": _fourier_basis,
    "periodic": _periodic_basis,
    "dirichlet": _dirichlet_basis,
    "neumann": _neumann_basis,
}


def basis(kind: str, n: int, order: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and orthonormal eigenvectors of ``L = D^T D``, in closed form.

    ``D = operator(kind, n, order)``. No eigensolver runs: the eigenvectors are
    the real Fourier modes (``"fourier"``, ``"periodic"``), the DST-I vectors
    (``"dirichlet"``) or the DCT-II vectors (``"neumann"``). This is the ``T`` of
    the exact descrambler ``P = T U^T`` (Sule, Spencer, Czaja, ACHA 79 (2025)
    101793, doi:10.1016/j.acha.2025.101793).

    Parameters
    ----------
    kind, n, order
        As in :func:`operator`.

    Returns
    -------
    lam : (n,) ndarray
        Eigenvalues of ``L``, ascending. ``"fourier"`` order ``m``: ``k^(2m)``
        (``0, 1, 1, 16, 16, 81, ...`` for ``m = 2``).
    T : (n, n) ndarray
        Orthonormal eigenvectors as columns, ``L @ T == T * lam``. Inside a block
        of tied eigenvalues the modes keep their natural order (constant, then
        ``cos`` before ``sin`` of each frequency, frequencies increasing,
        alternating mode last; increasing ``k`` for DST/DCT); each column's first
        nonzero entry is positive.

    Raises
    ------
    ValueError, TypeError
        As in :func:`operator`.
    """
    kind, n, order = check_arguments(kind, n, order)
    return _BASES[kind](n, order)


@functools.lru_cache(maxsize=2)
def _cached_basis_checked(kind: str, n: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    lam, t = _BASES[kind](n, order)
    lam.flags.writeable = False  # shared between calls: nobody may change them
    t.flags.writeable = False
    return lam, t


def cached_basis(kind: Any, n: Any, order: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`basis` as read-only arrays, kept for the last two ``(kind, n, order)``.

    :func:`descramble.descramble` asks for the same basis on every call; building
    it costs ``O(n^2)`` gathers (about as long as a tenth of a matrix product).
    Arguments are validated first so that errors match :func:`basis`.
    """
    return _cached_basis_checked(*check_arguments(kind, n, order))


# ----------------------------------------------------------------------------- user operators


def _largest_entry_positive(v: np.ndarray) -> np.ndarray:
    """Flip columns so that each column's entry of largest magnitude is positive.

    Ties in magnitude go to the first such entry (``argmax``), which makes the
    sign of computed eigenvectors reproducible.
    """
    if v.size == 0:
        return v
    rows = np.argmax(np.abs(v), axis=0)
    signs = np.where(v[rows, np.arange(v.shape[1])] < 0, -1.0, 1.0)
    return v * signs


class Operator:
    """A user-supplied smoothness operator: a differentiation matrix ``D`` or ``L`` itself.

    Give exactly one of ``D`` (any ``(m, n)`` real matrix; ``L = D^T D``) or ``L``
    (symmetric positive semidefinite ``(n, n)``). The eigenbasis is computed once,
    at construction, with :func:`descramble.eigh` (eigenvalues ascending, each
    eigenvector's largest-magnitude entry positive). Inside blocks of tied
    eigenvalues the eigenvectors are whatever the solver returns: the
    descrambler reports such blocks in ``ties``.

    Parameters
    ----------
    D : (m, n) array_like, optional
        Differentiation matrix.
    L : (n, n) array_like, optional
        Smoothness operator, symmetric positive semidefinite (checked to a
        relative tolerance of ``1e-10`` of its largest eigenvalue).

    Attributes
    ----------
    D : ndarray or None
    L : (n, n) ndarray
    n : int
    lam : (n,) ndarray
        Eigenvalues of ``L``, ascending.
    T : (n, n) ndarray
        Orthonormal eigenvectors (columns).

    Examples
    --------
    >>> import numpy as np, descramble as ds
    >>> op = ds.Operator(D=np.diff(np.eye(5), axis=0))   # free-end first difference
    >>> r = ds.descramble(np.random.default_rng(0).standard_normal((50, 5)), smoothness=op)
    """

    PSD_RTOL = 1e-10

    def __init__(self, D: Any = None, L: Any = None) -> None:

        if (D is None) == (L is None):
            raise ValueError("Operator: give exactly one of D (differentiation matrix) or L")
        if D is not None:
            d = as_float_array(D, "Operator D", ndim=2)
            check_finite(d, "Operator D")
            if d.shape[1] < 1:
                raise ValueError(f"Operator D: expected shape (m, n) with n >= 1, got {d.shape}")
            self.D: np.ndarray | None = np.array(d, dtype=np.float64, order="C")
            lmat = d.T @ d
        else:
            lmat = np.array(symmetric_matrix(L, "Operator L"), dtype=np.float64, order="C")
            if lmat.shape[0] < 1:
                raise ValueError("Operator L: expected an (n, n) matrix with n >= 1, got (0, 0)")
            # Only the lower triangle is read by eigh; symmetrise so that L used
            # in objectives is exactly the matrix whose basis we report.
            lmat = (lmat + lmat.T) / 2.0
            self.D = None
        lam, t = eigh(lmat)
        scale = float(np.max(np.abs(lam)))
        if lam[0] < -self.PSD_RTOL * scale:
            raise ValueError(
                f"Operator L: expected a positive semidefinite matrix, got smallest eigenvalue "
                f"{lam[0]:.3g} (largest magnitude {scale:.3g})"
            )
        self.L: np.ndarray = lmat
        self.lam: np.ndarray = lam
        self.T: np.ndarray = _largest_entry_positive(t)

    @property
    def n(self) -> int:
        """Number of grid points (the size of ``L``)."""
        return int(self.L.shape[0])

    def basis(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lam, T)``: eigenvalues ascending and orthonormal eigenvectors of ``L``."""
        return self.lam, self.T

    def __repr__(self) -> str:
        given = "D" if self.D is not None else "L"
        return f"Operator(n={self.n}, from {given}, lam=[{self.lam[0]:.3g} .. {self.lam[-1]:.3g}])"

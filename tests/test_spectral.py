"""descramble.spectral: the analysis behind the figures, importable without matplotlib."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from descramble import plot, spectral


def test_plot_keeps_the_old_names():
    assert plot.centred_dft2 is spectral.centred_dft2
    assert plot.chebyshev_fit is spectral.chebyshev_fit
    assert plot.ChebyshevFit is spectral.ChebyshevFit


def test_centred_dft2_puts_zero_frequency_in_the_middle():
    w = np.random.default_rng(0).standard_normal((6, 5))
    got = spectral.centred_dft2(w)
    # fftshift moves bin (0, 0), the plain sum, to (n // 2, m // 2)
    np.testing.assert_allclose(got[3, 2], abs(w.sum()), rtol=1e-13)
    np.testing.assert_allclose(got, np.abs(np.fft.fftshift(np.fft.fft2(w))), rtol=1e-13)


def test_importing_spectral_does_not_import_matplotlib():
    code = (
        "import sys, descramble.spectral as s; "
        "s.chebyshev_fit([[1.0], [2.0], [3.0]], 1); "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""The peers' own test suites, run on our drop-ins.

The test modules of the installed scipy (``optimize/tests/test_linear_assignment.py``,
``optimize/tests/test_quadratic_assignment.py``) and numpy
(``linalg/tests/test_linalg.py``: ``TestEigh``, ``TestEigvalsh``, ``TestEighCases``,
``TestEigvalshCases``) are imported, not copied; their tests are re-exposed here,
and an autouse fixture substitutes ``ds.linear_sum_assignment``,
``ds.quadratic_assignment``, ``ds.eigh`` and ``ds.eigvalsh`` for the names those
modules call. A regression of ours fails the peer's own assertion. The versions
tested are printed in the pytest header (see conftest.py).

The only tests not run are listed in ``DESELECTED`` with the reason.
"""

from __future__ import annotations

import numpy as np
import pytest

import descramble as ds

peer_lap = pytest.importorskip("scipy.optimize.tests.test_linear_assignment")
peer_qap = pytest.importorskip("scipy.optimize.tests.test_quadratic_assignment")
peer_linalg = pytest.importorskip("numpy.linalg.tests.test_linalg")

_COMPLEX = "complex Hermitian input: ds.eigh/ds.eigvalsh raise TypeError (real symmetric only)"

# Peer tests not run, by the name pytest gives them here, with the reason.
DESELECTED = {
    "test_types[complex64]": _COMPLEX,
    "test_types[complex128]": _COMPLEX,
    # Its first half (an empty integer stack) runs in test_empty_integer_stack below.
    "test_0_size": _COMPLEX + " (its second half is an empty complex64 matrix)",
}


@pytest.fixture(autouse=True)
def _ours_substituted(request, monkeypatch):
    """Every peer name that reaches the peer function is pointed at ours."""
    reason = DESELECTED.get(request.node.name)
    if reason is not None:
        pytest.skip(reason)
    monkeypatch.setattr(peer_lap, "linear_sum_assignment", ds.linear_sum_assignment)
    monkeypatch.setattr(peer_qap, "quadratic_assignment", ds.quadratic_assignment)
    # numpy's tests call np.linalg.eigh and linalg.eigh: the same module attribute.
    monkeypatch.setattr(np.linalg, "eigh", ds.eigh)
    monkeypatch.setattr(np.linalg, "eigvalsh", ds.eigvalsh)


# scipy: test_linear_assignment.py, every test function.
for _name in dir(peer_lap):
    if _name.startswith("test_"):
        globals()[f"test_scipy_lap_{_name[5:]}"] = getattr(peer_lap, _name)


# scipy: test_quadratic_assignment.py, every test class.
class TestScipyFAQ(peer_qap.TestFAQ):
    pass


class TestScipy2opt(peer_qap.Test2opt):
    pass


class TestScipyQAPOnce(peer_qap.TestQAPOnce):
    pass


# numpy: the eigh/eigvalsh classes of test_linalg.py. The case-table classes run
# on the real cases; each complex case is checked below to raise our TypeError.
_REAL_CASES = [c for c in peer_linalg.CASES if not np.iscomplexobj(c.a)]
_COMPLEX_CASES = [c for c in peer_linalg.CASES if np.iscomplexobj(c.a)]


class TestNumpyEigh(peer_linalg.TestEigh):
    pass


class TestNumpyEigvalsh(peer_linalg.TestEigvalsh):
    pass


class TestNumpyEighCases(peer_linalg.TestEighCases):
    TEST_CASES = _REAL_CASES


class TestNumpyEigvalshCases(peer_linalg.TestEigvalshCases):
    TEST_CASES = _REAL_CASES


def test_the_peer_suites_were_found():
    # The re-exposed tests exist (a renamed peer module would otherwise pass vacuously).
    lap_tests = [k for k in globals() if k.startswith("test_scipy_lap_")]
    assert len(lap_tests) >= 10
    assert len(_REAL_CASES) > 50 and {c.name for c in _REAL_CASES} >= {"hdouble", "hempty"}
    hermitian = [c for c in _COMPLEX_CASES if "hermitian" in c.tags]
    assert hermitian, "numpy's complex Hermitian cases moved"


@pytest.mark.parametrize(
    "case",
    [c for c in _COMPLEX_CASES if "hermitian" in c.tags],
    ids=lambda c: c.name,
)
def test_complex_hermitian_cases_are_refused(case):
    # The peer cases skipped above: ours refuses them with a TypeError that says why.
    for fn in (ds.eigh, ds.eigvalsh):
        with pytest.raises(TypeError, match="complex Hermitian input is not supported"):
            fn(case.a)


def test_empty_integer_stack():
    # The real half of numpy's test_0_size: an empty stack of integer 1 x 1 matrices.
    a = np.zeros((0, 1, 1), dtype=np.int_)
    w, v = ds.eigh(a)
    assert w.dtype == np.float64 and w.shape == (0, 1)
    assert v.dtype == np.float64 and v.shape == (0, 1, 1)
    w = ds.eigvalsh(a)
    assert w.dtype == np.float64 and w.shape == (0, 1)

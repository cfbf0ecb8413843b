"""Fixtures shared by several test modules."""

import pytest


def pytest_report_header(config):
    """The peer versions whose own test suites test_peer_suites.py runs on our drop-ins."""
    import numpy

    try:
        import scipy
    except ImportError:
        return f"peer suites: numpy {numpy.__version__}, scipy not installed"
    return f"peer suites: numpy {numpy.__version__}, scipy {scipy.__version__}"


@pytest.fixture(scope="module")
def single_threaded_blas():
    """numpy's BLAS/LAPACK on one thread for a module's tests.

    The references (LAPACK's eigensolvers) are small; OpenBLAS's threads only add
    synchronisation, whose spinning workers also take a core from the solver
    under test on a 2-core machine.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield

"""Fixtures shared by several test modules."""

import pytest


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

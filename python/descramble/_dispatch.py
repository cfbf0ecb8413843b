"""Chooses the kernel level of the compiled core once, at import.

The build compiles the C++ core once per instruction-set level into separate
extension modules (``descramble._core_baseline``, ``_core_avx2``,
``_core_avx512``; a single ``_core_native`` for ``-march=native`` builds). This
loader, run once when the package is imported, asks the flag-free probe
``descramble._cpu`` which levels the CPU (and operating system) supports,
imports the best level that was built, or the one named by the
``DESCRAMBLE_ISA`` environment variable, and installs it as
``descramble._core``, where the rest of the package finds it. A level is never
imported on a CPU that lacks it: that would die with an illegal instruction.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from types import ModuleType

__all__ = ["ENV_VAR", "LEVELS", "Selection", "choose_level", "load_core", "selection"]

ENV_VAR = "DESCRAMBLE_ISA"
# The portable levels, lowest first; "native" is the single module of a
# DESCRAMBLE_NATIVE build (made for, and only known to run on, the build machine).
LEVELS = ("baseline", "avx2", "avx512")
NATIVE = "native"
_PACKAGE = __name__.rpartition(".")[0]


@dataclass(frozen=True)
class Selection:
    """The level in use and the facts it was chosen from."""

    level: str
    built: tuple[str, ...]
    cpu: tuple[str, ...]
    requested: str | None


def _names(levels: tuple[str, ...] | list[str]) -> str:
    return ", ".join(levels) if levels else "none"


def choose_level(requested: str | None, built: tuple[str, ...], cpu: tuple[str, ...]) -> str:
    """The level to import: ``requested`` (the value of DESCRAMBLE_ISA) if set,
    else the best of ``built`` that ``cpu`` supports.

    Raises ImportError, saying which levels exist, are built and run here,
    when the request cannot be met or no built level runs on this CPU.
    """
    if requested:
        if requested not in (*LEVELS, NATIVE):
            raise ImportError(
                f"{ENV_VAR}={requested!r} is not a kernel level: expected one of "
                f"{_names(list(LEVELS))} (or {NATIVE} for a DESCRAMBLE_NATIVE build)"
            )
        if requested not in built:
            raise ImportError(
                f"{ENV_VAR}={requested}: this build of descramble has no {requested} level; "
                f"it has {_names(built)} (rebuild with "
                f"-Ccmake.define.DESCRAMBLE_LEVELS=... to add it)"
            )
        if requested != NATIVE and requested not in cpu:
            raise ImportError(
                f"{ENV_VAR}={requested}: this CPU does not support the {requested} level; "
                f"it supports {_names(cpu)}"
            )
        return requested
    if NATIVE in built:
        return NATIVE
    usable = [level for level in LEVELS if level in built and level in cpu]
    if not usable:
        raise ImportError(
            f"no kernel level of this build of descramble runs on this CPU: the build has "
            f"{_names(built)}, the CPU supports {_names(cpu)}; rebuild with "
            f"-Ccmake.define.DESCRAMBLE_LEVELS=baseline (or leave DESCRAMBLE_LEVELS unset)"
        )
    return usable[-1]


def _built_levels() -> tuple[str, ...]:
    return tuple(
        level
        for level in (*LEVELS, NATIVE)
        if importlib.util.find_spec(f"{_PACKAGE}._core_{level}") is not None
    )


def selection() -> Selection:
    """The level in use, as chosen by :func:`load_core`."""
    if _selection is None:
        raise RuntimeError("descramble's core has not been loaded yet")
    return _selection


_selection: Selection | None = None


def load_core() -> ModuleType:
    """Imports the chosen level and installs it as ``descramble._core``."""
    global _selection
    try:
        probe = importlib.import_module(f"{_PACKAGE}._cpu")
    except ImportError as exc:
        raise ImportError(
            "descramble's compiled core is missing: the package was not compiled. "
            "Install it with `pip install .` from the source tree."
        ) from exc
    built = _built_levels()
    cpu = tuple(probe.supported_levels())
    requested = os.environ.get(ENV_VAR, "").strip().lower() or None
    level = choose_level(requested, built, cpu)
    module = importlib.import_module(f"{_PACKAGE}._core_{level}")
    sys.modules[f"{_PACKAGE}._core"] = module
    _selection = Selection(level, built, cpu, requested)
    return module


# Once, when the package is imported (descramble/__init__.py imports this
# module before anything that uses _core).
load_core()

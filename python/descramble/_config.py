"""``show_config()``: which compiled kernels run, and how they were built."""

from __future__ import annotations

from typing import Any

from . import _core, _cpu, _dispatch

__all__ = ["show_config"]


def _config() -> dict[str, Any]:
    chosen = _dispatch.selection()
    core = _core.build_info()
    build = _cpu.build_info()
    if chosen.requested:
        reason = f"{_dispatch.ENV_VAR}={chosen.requested}"
    elif chosen.level == _dispatch.NATIVE:
        reason = "the only level of a native build"
    else:
        reason = "the best level built that this CPU supports"
    return {
        "Kernel level": {
            "in use": chosen.level,
            "chosen by": reason,
            "built": list(chosen.built),
            "supported by this CPU": list(chosen.cpu),
            "vector instruction sets": core["simd"],
            "float64 lanes per vector": int(core["double_lanes"]),
        },
        "Build": {
            "compiler": build["compiler"],
            "architecture": build["architecture"],
            "build type": build["build_type"],
            "flags per level": dict(build["level_flags"]),
        },
        "OpenMP": {
            "enabled": bool(core["openmp"]),
            "version": core["openmp_version"],
            "threads": int(core["threads"]),
        },
        "CPU features": {
            "present": [name for name, on in _cpu.features().items() if on],
            "absent": [name for name, on in _cpu.features().items() if not on],
        },
    }


def _format(value: Any, indent: int) -> list[str]:
    pad = "  " * indent
    lines: list[str] = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{pad}{key}:")
            lines.extend(_format(item, indent + 1))
        elif isinstance(item, list):
            lines.append(f"{pad}{key}: {', '.join(map(str, item)) or '-'}")
        else:
            lines.append(f"{pad}{key}: {item}")
    return lines


def show_config(mode: str = "stdout") -> dict[str, Any] | None:
    """Show the kernel level in use, the levels built and the CPU's, the
    compiler and flags of each level, and OpenMP, like ``numpy.show_config``.

    Parameters
    ----------
    mode : {"stdout", "dicts"}
        ``"stdout"`` prints the configuration; ``"dicts"`` returns it as a
        nested dict instead.

    The level is chosen once, at import: the best one the CPU supports, or
    the one named by the environment variable ``DESCRAMBLE_ISA``
    (``baseline``, ``avx2``, ``avx512``).
    """
    if mode not in ("stdout", "dicts"):
        raise ValueError(f"show_config: mode must be 'stdout' or 'dicts', got {mode!r}")
    config = _config()
    if mode == "dicts":
        return config
    print("\n".join(_format(config, 0)))
    return None

// descramble._cpu: what the CPU supports and what this build contains, read
// by the loader (python/descramble/_dispatch.py) before it imports a level.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "cpu_features.hpp"
#include "descramble_build_info.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "CPU features and kernel levels for descramble's loader";
  m.def(
      "features",
      [] {
        py::dict out;
        for (const auto& [name, present] : descramble::cpu::features()) out[name.c_str()] = present;
        return out;
      },
      "CPU features the kernel levels rely on (vector ones only with operating-system support).");
  m.def("supported_levels", &descramble::cpu::supported_levels,
        "Kernel levels this CPU runs, lowest first.");
  m.def(
      "build_info",
      [] {
        py::dict flags;
        for (const auto& level : descramble::build::kLevels) flags[level.level] = level.flags;
        py::dict out;
        out["compiler"] = descramble::build::kCompiler;
        out["architecture"] = descramble::build::kArchitecture;
        out["build_type"] = descramble::build::kBuildType;
        out["openmp"] = descramble::build::kOpenMP;
        out["level_flags"] = flags;
        return out;
      },
      "Compiler, target architecture, OpenMP and the flags of every level built.");
}

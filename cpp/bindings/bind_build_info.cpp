// build_info(): what this extension module was compiled for and what it runs
// with, for descramble.show_config().
#include <Eigen/Core>
#include <string>

#include "common.hpp"
#include "descramble_build_info.hpp"

#ifdef DESCRAMBLE_HAVE_OPENMP
#include <omp.h>
#endif

namespace descramble::bindings {

namespace {

// The vector instruction sets Eigen was compiled to use in this module: the
// evidence that the level's flags reached the kernels.
std::string instruction_sets() {
  std::string out;
  const auto add = [&out](const char* name) {
    out += out.empty() ? name : std::string(", ") + name;
  };
#ifdef EIGEN_VECTORIZE_SSE2
  add("SSE2");
#endif
#ifdef EIGEN_VECTORIZE_SSE4_2
  add("SSE4.2");
#endif
#ifdef EIGEN_VECTORIZE_AVX
  add("AVX");
#endif
#ifdef EIGEN_VECTORIZE_AVX2
  add("AVX2");
#endif
#ifdef EIGEN_VECTORIZE_FMA
  add("FMA");
#endif
#ifdef EIGEN_VECTORIZE_AVX512
  add("AVX512F");
#endif
#ifdef EIGEN_VECTORIZE_AVX512DQ
  add("AVX512DQ");
#endif
#ifdef EIGEN_VECTORIZE_NEON
  add("NEON");
#endif
#ifdef EIGEN_VECTORIZE_SVE
  add("SVE");
#endif
  return out.empty() ? "none" : out;
}

std::string level_flags() {
  for (const auto& level : build::kLevels) {
    if (std::string(level.level) == DESCRAMBLE_LEVEL) return level.flags;
  }
  return "";
}

}  // namespace

void bind_build_info(py::module_& m) {
  m.def(
      "build_info",
      [] {
        py::dict out;
        out["level"] = DESCRAMBLE_LEVEL;
        out["flags"] = level_flags();
        out["compiler"] = build::kCompiler;
        out["simd"] = instruction_sets();
        out["double_lanes"] = static_cast<int>(Eigen::internal::packet_traits<double>::size);
#ifdef DESCRAMBLE_HAVE_OPENMP
        out["openmp"] = true;
        out["openmp_version"] = _OPENMP;
        out["threads"] = omp_get_max_threads();
#else
        out["openmp"] = false;
        out["openmp_version"] = py::none();
        out["threads"] = 1;
#endif
        return out;
      },
      "Kernel level, compile flags, compiler, Eigen's instruction sets and OpenMP threads.");
}

}  // namespace descramble::bindings

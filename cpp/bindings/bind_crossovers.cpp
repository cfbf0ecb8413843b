#include "common.hpp"
#include "descramble/crossovers.hpp"

namespace descramble::bindings {

void bind_crossovers(py::module_& m) {
  m.def(
      "crossovers",
      [] {
        py::dict out;
        for (const Crossover& c : crossovers()) out[py::str(c.name)] = c.value;
        return out;
      },
      "The sizes at which the core changes algorithm or starts using threads, "
      "{name: size}; the meaning of each is in cpp/src/crossovers.cpp.");
}

}  // namespace descramble::bindings

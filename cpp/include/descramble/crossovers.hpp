// The sizes at which the core changes algorithm or starts using more than one
// thread, by name. Tests read them to place cases on both sides of each one
// (from Python: descramble._core.crossovers()).
#pragma once

#include <string>
#include <vector>

#include "descramble/types.hpp"

namespace descramble {

struct Crossover {
  std::string name;     // area_what, e.g. "eigh_small"
  Index value;          // the first size on the far side, or the size unit
  std::string meaning;  // one line: what changes at `value`
};

std::vector<Crossover> crossovers();

}  // namespace descramble

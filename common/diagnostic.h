// A user-facing error about an input file: where it is and why it is wrong. Every parser of
// cairn (service files, image recipes, node config) reports through this one type so every
// tool prints errors the same way: "file:line:col: error: message".
#pragma once

#include <string>
#include <vector>

namespace cairn {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 = the whole file (no position known)
  int column = 0;  // 1-based; 0 = the whole line
  std::string message;

  // "file:line:col: error: message" (the position parts that are 0 are left out).
  std::string str() const;
};

// Every diagnostic's str(), one per line (each ends with '\n').
std::string to_string(const std::vector<Diagnostic>& diagnostics);

}  // namespace cairn

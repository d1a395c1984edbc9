#include "common/diagnostic.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(Diagnostic, FormatsFileLineColumn) {
  Diagnostic d{"services/a.toml", 3, 7, "bad value"};
  EXPECT_EQ(d.str(), "services/a.toml:3:7: error: bad value");
}

TEST(Diagnostic, LeavesOutUnknownPositions) {
  EXPECT_EQ((Diagnostic{"a.toml", 0, 0, "cannot read"}).str(), "a.toml: error: cannot read");
  EXPECT_EQ((Diagnostic{"a.toml", 4, 0, "x"}).str(), "a.toml:4: error: x");
  EXPECT_EQ((Diagnostic{"", 1, 1, "x"}).str(), "<input>:1:1: error: x");
}

TEST(Diagnostic, ListOnePerLine) {
  std::vector<Diagnostic> list{{"a", 1, 2, "x"}, {"b", 3, 4, "y"}};
  EXPECT_EQ(to_string(list), "a:1:2: error: x\nb:3:4: error: y\n");
}

}  // namespace
}  // namespace cairn

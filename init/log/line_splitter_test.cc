#include "init/log/line_splitter.h"

#include <gtest/gtest.h>

#include <vector>

namespace cairn::init {
namespace {

struct Collected {
  std::vector<std::string> lines;
  std::vector<bool> cuts;
  void operator()(std::string_view l, bool cut) {
    lines.emplace_back(l);
    cuts.push_back(cut);
  }
};

TEST(LineSplitter, SplitsAndHoldsPartialLines) {
  LineSplitter s(100);
  Collected c;
  auto emit = [&](std::string_view l, bool cut) { c(l, cut); };
  s.feed("a\nbb\nccc", emit);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"a", "bb"}));
  EXPECT_EQ(s.pending(), 3u);
  s.feed("c\n\nd", emit);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"a", "bb", "cccc", ""}));
  s.flush(emit);
  EXPECT_EQ(c.lines.back(), "d");
  EXPECT_EQ(s.pending(), 0u);
  s.flush(emit);  // nothing held: nothing emitted
  EXPECT_EQ(c.lines.size(), 5u);
}

TEST(LineSplitter, CutsLongLinesIntoPiecesOfTheCap) {
  LineSplitter s(4);
  Collected c;
  auto emit = [&](std::string_view l, bool cut) { c(l, cut); };
  s.feed("abcdefghij\nxy", emit);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"abcd", "efgh", "ij"}));
  EXPECT_EQ(c.cuts, (std::vector<bool>{true, true, false}));
  s.feed("zw", emit);  // exactly the cap, no newline yet: held
  EXPECT_EQ(c.lines.size(), 3u);
  s.feed("\n", emit);
  EXPECT_EQ(c.lines.back(), "xyzw");
  EXPECT_FALSE(c.cuts.back());
  // A newline-less stream never holds more than the cap.
  for (int i = 0; i < 1000; ++i) {
    s.feed("0123456789", emit);
    ASSERT_LE(s.pending(), 4u);
  }
}

}  // namespace
}  // namespace cairn::init

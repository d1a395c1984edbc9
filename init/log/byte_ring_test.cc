#include "init/log/byte_ring.h"

#include <gtest/gtest.h>

namespace cairn::init {
namespace {

TEST(ByteRing, GrowsLazilyAndKeepsEverythingUntilFull) {
  ByteRing ring(64);
  EXPECT_EQ(ring.allocated(), 0u);
  ring.append("one\n");
  ring.append("two\n");
  EXPECT_EQ(ring.tail(100), "one\ntwo\n");
  EXPECT_EQ(ring.tail(4), "two\n");
  EXPECT_EQ(ring.tail(5), "two\n");  // never a partial line
  EXPECT_LE(ring.allocated(), 64u);
}

TEST(ByteRing, OverwritesOldestAndTailStartsAtALine) {
  ByteRing ring(16);
  for (int i = 0; i < 10; ++i) ring.append("line" + std::to_string(i) + "\n");
  EXPECT_EQ(ring.size(), 16u);
  // The newest 16 bytes are "e7\nline8\nline9\n" minus its partial first line.
  EXPECT_EQ(ring.tail(16), "line8\nline9\n");
  EXPECT_EQ(ring.tail(6), "line9\n");
}

TEST(ByteRing, HugeAppendKeepsTheNewestBytes) {
  ByteRing ring(8);
  ring.append(std::string(100, 'x') + "\nabc\n");
  EXPECT_EQ(ring.size(), 8u);
  EXPECT_EQ(ring.tail(8), "abc\n");
}

TEST(ByteRing, ChangingCapacityKeepsTheNewest) {
  ByteRing ring(32);
  ring.append("aaaa\nbbbb\ncccc\n");
  ring.set_capacity(10);
  EXPECT_EQ(ring.tail(100), "cccc\n");
  ring.set_capacity(100);
  ring.append("dddd\n");
  EXPECT_EQ(ring.tail(100), "cccc\ndddd\n");
  ByteRing zero(0);
  zero.append("x\n");
  EXPECT_EQ(zero.tail(10), "");
}

}  // namespace
}  // namespace cairn::init

// Snapshot pacing's rule (raft_io_settings.h): the threshold raft gets, from the log written
// since the last snapshot and that snapshot's size.
#include "datastore/dqlite/raft_io_settings.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace cairn::dqlite {
namespace {

TEST(SnapshotPacing, OffKeepsTheEntryThreshold) {
  SnapshotPacing off{0, 128};
  EXPECT_EQ(paced_snapshot_threshold(off, 0, 0), 128u);
  EXPECT_EQ(paced_snapshot_threshold(off, 1, uint64_t{1} << 40), 128u);
}

TEST(SnapshotPacing, WaitsForALogOfAFractionOfTheLastSnapshot) {
  SnapshotPacing p{16, 128};
  // No snapshot yet: the first comes at the entry threshold.
  EXPECT_EQ(paced_snapshot_threshold(p, 0, 0), 128u);
  // 400 MB database: 25 MB of log first; until then only the entry cap (64 x 128).
  uint64_t db = 400'000'000;
  EXPECT_EQ(paced_snapshot_threshold(p, 0, db), 8192u);
  EXPECT_EQ(paced_snapshot_threshold(p, db / 16 - 1, db), 8192u);
  EXPECT_EQ(paced_snapshot_threshold(p, db / 16, db), 128u);
  EXPECT_EQ(paced_snapshot_threshold(p, db, db), 128u);
  // A small database: the log passes 1/16 of it within the entry threshold.
  EXPECT_EQ(paced_snapshot_threshold(p, 70'000, 1'000'000), 128u);
}

TEST(SnapshotPacing, TheEntryCapDoesNotOverflow) {
  SnapshotPacing p{2, UINT32_MAX / 2};
  EXPECT_EQ(paced_snapshot_threshold(p, 0, 1000), UINT32_MAX);
}

}  // namespace
}  // namespace cairn::dqlite

// cairn-datastore's command line: snapshot and raft I/O flags, their bounds and messages.
#include "datastore/main/options.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace cairn::datastore::cli {
namespace {

Options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "cairn-datastore");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Options, SnapshotDefaultsKeepRaftsInMemoryLogSmall) {
  Options o = parse({"--storage-dir", "/tmp/x"});
  EXPECT_EQ(o.snapshot_threshold, 128u);
  EXPECT_EQ(o.snapshot_trailing, 128u);
}

TEST(Options, SnapshotFlagsAreParsed) {
  Options o =
      parse({"--storage-dir", "/tmp/x", "--snapshot-threshold=64", "--snapshot-trailing", "4096"});
  EXPECT_EQ(o.snapshot_threshold, 64u);
  EXPECT_EQ(o.snapshot_trailing, 4096u);
}

TEST(Options, BadSnapshotFlagsAreNamed) {
  EXPECT_NE(error_of({"--storage-dir", "/x", "--snapshot-threshold", "0"})
                .find("--snapshot-threshold: '0' is not a number from 1"),
            std::string::npos);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--snapshot-trailing", "3"})
                .find("--snapshot-trailing: '3' is not a number from 4"),
            std::string::npos);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--snapshot-threshold", "12x"}).find("'12x'"),
            std::string::npos);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--snapshot-threshold", "256"})
                .find("--snapshot-trailing (128) must be >= --snapshot-threshold (256)"),
            std::string::npos);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--snapshot-trailing"}).find("missing value"),
            std::string::npos);
}

TEST(Options, SnapshotPacingDefaultsToAnEighthOfTheLastSnapshot) {
  EXPECT_EQ(parse({"--storage-dir", "/x"}).snapshot_log_ratio, 8u);
  EXPECT_EQ(parse({"--storage-dir", "/x", "--snapshot-log-ratio", "4"}).snapshot_log_ratio, 4u);
  EXPECT_EQ(parse({"--storage-dir", "/x", "--snapshot-log-ratio=0"}).snapshot_log_ratio, 0u);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--snapshot-log-ratio", "-1"})
                .find("--snapshot-log-ratio: '-1'"),
            std::string::npos);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--snapshot-log-ratio"}).find("missing value"),
            std::string::npos);
}

TEST(Options, RaftIoDestroyRunsInTheBackgroundUnlessAskedOtherwise) {
  EXPECT_FALSE(parse({"--storage-dir", "/x"}).inline_io_destroy);
  EXPECT_TRUE(parse({"--storage-dir", "/x", "--raft-io-destroy", "inline"}).inline_io_destroy);
  EXPECT_FALSE(parse({"--storage-dir", "/x", "--raft-io-destroy=background"}).inline_io_destroy);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--raft-io-destroy", "later"})
                .find("--raft-io-destroy: 'later' is not 'background' or 'inline'"),
            std::string::npos);
  EXPECT_TRUE(parse({"--storage-dir", "/x"}).snapshot_compression);
  EXPECT_TRUE(parse({"--storage-dir", "/x", "--snapshot-compression", "on"}).snapshot_compression);
  EXPECT_FALSE(parse({"--storage-dir", "/x", "--snapshot-compression=off"}).snapshot_compression);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--snapshot-compression", "lz4"})
                .find("--snapshot-compression: 'lz4' is not 'on' or 'off'"),
            std::string::npos);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--raft-io-destroy"}).find("missing value"),
            std::string::npos);
}

TEST(Options, GroupCommitLingerIsOffByDefaultAndParsed) {
  Options o = parse({"--storage-dir", "/x"});
  EXPECT_EQ(o.commit_linger_us, 0u);
  EXPECT_EQ(o.commit_linger_gap_us, 4000u);
  EXPECT_EQ(o.commit_linger_min_batch, 16u);
  o = parse({"--storage-dir", "/x", "--commit-linger-us", "10000", "--commit-linger-gap-us=500",
             "--commit-linger-min-batch", "64"});
  EXPECT_EQ(o.commit_linger_us, 10000u);
  EXPECT_EQ(o.commit_linger_gap_us, 500u);
  EXPECT_EQ(o.commit_linger_min_batch, 64u);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--commit-linger-us", "-1"})
                .find("--commit-linger-us: '-1' is not a number from 0"),
            std::string::npos);
  EXPECT_NE(error_of({"--storage-dir", "/x", "--commit-linger-min-batch", "0"})
                .find("--commit-linger-min-batch: '0' is not a number from 1"),
            std::string::npos);
}

}  // namespace
}  // namespace cairn::datastore::cli

// The real cairn-datastore binary (however it is linked: shared or static libraft) routes
// libraft's io_destroy(2) through datastore/dqlite/aio_reaper's syscall() wrapper, and
// --raft-io-destroy inline turns that off. libraft's start-up probe of the storage's AIO
// support destroys one context, which the start-up log line counts.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <regex>
#include <string>

#include "datastore/testing/datastore_process.h"

namespace cairn::dqlite {
namespace {

using datastore::testing::DatastoreProcess;

// libraft uses AIO only where O_DIRECT works (not on tmpfs, for one).
bool direct_io_works(const std::string& dir) {
  std::string path = dir + "/direct-probe";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_DIRECT, 0600);
  if (fd >= 0) ::close(fd);
  ::unlink(path.c_str());
  return fd >= 0;
}

long destroys_at_start(const std::string& log, const std::string& mode) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex("raft io_destroy: " + mode + " \\((\\d+) so far\\)"))) {
    return -1;
  }
  return std::stol(m[1]);
}

TEST(IoDestroy, LibraftsCallsGoThroughTheWrapperInTheRealBinary) {
  DatastoreProcess p;
  if (!direct_io_works(p.dir())) GTEST_SKIP() << "no O_DIRECT in " << p.dir();
  p.start();
  EXPECT_GE(destroys_at_start(p.log(), "background"), 1) << p.log();
  EXPECT_EQ(p.terminate(), 0);
}

TEST(IoDestroy, InlineModeIsReported) {
  DatastoreProcess p;
  p.extra_args = {"--raft-io-destroy", "inline"};
  p.start();
  EXPECT_EQ(destroys_at_start(p.log(), "inline"), 0) << p.log();
  EXPECT_EQ(p.terminate(), 0);
}

}  // namespace
}  // namespace cairn::dqlite

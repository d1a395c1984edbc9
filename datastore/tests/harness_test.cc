// The harness's own promise: a sanitizer report in the server's log fails the test.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "datastore/testing/datastore_process.h"

namespace cairn::datastore::testing {
namespace {

TEST(DatastoreProcessHarness, SanitizerReportInTheServerLogFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      {
        DatastoreProcess p;
        sh("echo 'watch_hub.cc:1:2: runtime error: load of misaligned address' > " + p.log_path());
      },
      "cairn-datastore printed a sanitizer report");
  DatastoreProcess clean;
  sh("echo 'cairn-datastore: serving on unix:///x' > " + clean.log_path());
}

}  // namespace
}  // namespace cairn::datastore::testing

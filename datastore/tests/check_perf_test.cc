// `etcdctl check perf --load=s` (the smallest of etcd's own acceptance loads, ~60 s) passes
// against the real cairn-datastore binary. Slow: run only in the release ctest pass.
#include <gtest/gtest.h>

#include "datastore/testing/datastore_process.h"

namespace cairn::datastore::testing {
namespace {

TEST(CheckPerf, LoadSmallPasses) {
  DatastoreProcess server;
  ASSERT_NO_THROW(server.start());
  CommandResult r =
      sh("etcdctl --dial-timeout=20s --command-timeout=60s --endpoints=" + server.endpoint() +
         " check perf --load=s");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("PASS: Throughput is"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("PASS: Slowest request took"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("PASS: Stddev is"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("FAIL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.rfind("PASS\n"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cairn::datastore::testing

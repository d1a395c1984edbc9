// etcdctl check perf --load=s against the real binary (60 s: labelled slow).
#include <gtest/gtest.h>

#include "datastore/tests/datastore_process.h"

namespace cairn::datastore::tests {
namespace {

TEST(EtcdctlPerf, CheckPerfSmallPasses) {
  DatastoreProcess ds;
  ds.start();
  int st = 1;
  std::string out = run("etcdctl --endpoints " + ds.endpoint() + " check perf --load=s", &st);
  EXPECT_EQ(st, 0) << out;
  EXPECT_NE(out.find("PASS: Throughput"), std::string::npos) << out;
}

}  // namespace
}  // namespace cairn::datastore::tests

#include "datastore/mvcc/key_index.h"

#include <gtest/gtest.h>

namespace cairn::datastore::mvcc {
namespace {

std::vector<std::string> keys(const KeyIndex& idx, const KeyRange& r) {
  std::vector<std::string> out;
  idx.for_each(r, [&](const std::string& k, const KeyMeta&) {
    out.push_back(k);
    return true;
  });
  return out;
}

TEST(KeyIndex, RangesFollowEtcdConventions) {
  KeyIndex idx;
  for (auto k : {"a", "ab", "abc", "b", "c"}) idx.put(k, KeyMeta{1, 1, 1, 0});
  EXPECT_EQ(keys(idx, {"ab", ""}), (std::vector<std::string>{"ab"}));
  EXPECT_EQ(keys(idx, {"ab", "ac"}), (std::vector<std::string>{"ab", "abc"}));
  EXPECT_EQ(keys(idx, {"b", std::string(1, '\0')}), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(keys(idx, {std::string(1, '\0'), std::string(1, '\0')}).size(), 5u);
  EXPECT_TRUE(keys(idx, {"zz", ""}).empty());
}

TEST(KeyIndex, TracksKeysPerLease) {
  KeyIndex idx;
  idx.put("a", KeyMeta{2, 2, 1, 7});
  idx.put("b", KeyMeta{3, 3, 1, 7});
  EXPECT_EQ(idx.keys_of_lease(7), (std::vector<std::string>{"a", "b"}));
  idx.put("a", KeyMeta{2, 4, 2, 0});  // re-put without the lease detaches it
  EXPECT_EQ(idx.keys_of_lease(7), (std::vector<std::string>{"b"}));
  idx.erase("b");
  EXPECT_TRUE(idx.keys_of_lease(7).empty());
  EXPECT_EQ(idx.size(), 1u);
}

}  // namespace
}  // namespace cairn::datastore::mvcc

// The writer's in-memory index of the latest state of every live key (create/mod revision,
// version, lease) and of which keys each lease holds. It lets Txn compares, Put's version
// and DeleteRange's key set be decided without a SQL round trip. It is exact only because
// cairn-datastore is the single writer of its database (see docs/datastore.md); it is
// rebuilt from SQL at start and after a failed commit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "datastore/mvcc/types.h"

namespace cairn::datastore::mvcc {

class KeyIndex {
 public:
  const KeyMeta* find(const std::string& key) const;
  void put(const std::string& key, const KeyMeta& meta);
  void erase(const std::string& key);
  void clear();

  // Calls fn(key, meta) for each live key in `range`, in key order; stops when fn is false.
  void for_each(const KeyRange& range,
                const std::function<bool(const std::string&, const KeyMeta&)>& fn) const;

  // Keys attached to `lease` (sorted).
  std::vector<std::string> keys_of_lease(int64_t lease) const;
  size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, KeyMeta, std::less<>> keys_;
  std::unordered_map<int64_t, std::set<std::string>> lease_keys_;
};

}  // namespace cairn::datastore::mvcc

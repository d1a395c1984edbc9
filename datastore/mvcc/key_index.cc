#include "datastore/mvcc/key_index.h"

namespace cairn::datastore::mvcc {

const KeyMeta* KeyIndex::find(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? nullptr : &it->second;
}

void KeyIndex::put(const std::string& key, const KeyMeta& meta) {
  auto [it, inserted] = keys_.try_emplace(key, meta);
  if (!inserted) {
    if (it->second.lease != meta.lease && it->second.lease != 0) {
      auto l = lease_keys_.find(it->second.lease);
      if (l != lease_keys_.end()) {
        l->second.erase(key);
        if (l->second.empty()) lease_keys_.erase(l);
      }
    }
    it->second = meta;
  }
  if (meta.lease != 0) lease_keys_[meta.lease].insert(key);
}

void KeyIndex::erase(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  if (it->second.lease != 0) {
    auto l = lease_keys_.find(it->second.lease);
    if (l != lease_keys_.end()) {
      l->second.erase(key);
      if (l->second.empty()) lease_keys_.erase(l);
    }
  }
  keys_.erase(it);
}

void KeyIndex::clear() {
  keys_.clear();
  lease_keys_.clear();
}

void KeyIndex::for_each(const KeyRange& range,
                        const std::function<bool(const std::string&, const KeyMeta&)>& fn) const {
  if (range.single()) {
    auto it = keys_.find(range.key);
    if (it != keys_.end()) fn(it->first, it->second);
    return;
  }
  for (auto it = keys_.lower_bound(range.key); it != keys_.end(); ++it) {
    if (!range.unbounded() && it->first >= range.end) break;
    if (!fn(it->first, it->second)) break;
  }
}

std::vector<std::string> KeyIndex::keys_of_lease(int64_t lease) const {
  auto it = lease_keys_.find(lease);
  if (it == lease_keys_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

}  // namespace cairn::datastore::mvcc

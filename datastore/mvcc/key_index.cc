#include "datastore/mvcc/key_index.h"

#include <algorithm>
#include <mutex>

#include "datastore/mvcc/row_id.h"

namespace cairn::datastore::mvcc {
namespace {

constexpr uint64_t kTombstone = 1;

int64_t row_of(uint64_t entry) {
  return int64_t(entry >> 1);
}
bool tombstone(uint64_t entry) {
  return (entry & kTombstone) != 0;
}

}  // namespace

template <typename F>
void KeyIndex::walk(const KeyRange& range, F&& fn) const {
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

uint64_t KeyIndex::entry_at(const History& h, int64_t revision) {
  // The first entry whose row belongs to a revision above `revision`; the one before it.
  uint64_t bound = uint64_t(first_row_of(revision + 1)) << 1;
  auto it = std::lower_bound(h.rows.begin(), h.rows.end(), bound);
  return it == h.rows.begin() ? 0 : *std::prev(it);
}

const KeyMeta* KeyIndex::find(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() || !it->second.live ? nullptr : &it->second.latest;
}

void KeyIndex::for_each(const KeyRange& range,
                        const std::function<bool(const std::string&, const KeyMeta&)>& fn) const {
  walk(range,
       [&](const std::string& key, const History& h) { return !h.live || fn(key, h.latest); });
}

std::vector<std::string> KeyIndex::keys_of_lease(int64_t lease) const {
  auto it = lease_keys_.find(lease);
  std::vector<std::string> out;
  if (it == lease_keys_.end()) return out;
  out.reserve(it->second.size());
  for (auto* k : it->second) out.push_back(*k);
  return out;
}

void KeyIndex::detach_lease(const std::string* key, int64_t lease) {
  if (lease == 0) return;
  auto l = lease_keys_.find(lease);
  if (l == lease_keys_.end()) return;
  l->second.erase(key);
  if (l->second.empty()) lease_keys_.erase(l);
}

void KeyIndex::put(const std::string& key, const KeyMeta& meta) {
  std::unique_lock lock(mu_);
  put_at(keys_.try_emplace(key).first, meta);
}

void KeyIndex::erase(const std::string& key, int64_t row) {
  std::unique_lock lock(mu_);
  auto it = keys_.find(key);
  if (it != keys_.end()) erase_at(it, row);
}

void KeyIndex::put_at(Keys::iterator it, const KeyMeta& meta) {
  History& h = it->second;
  const std::string* k = &it->first;
  if (h.live) {
    if (h.latest.lease != meta.lease) detach_lease(k, h.latest.lease);
  } else {
    ++live_;
  }
  h.latest = meta;
  h.live = true;
  h.rows.push_back(uint64_t(meta.row) << 1);
  if (meta.lease != 0) lease_keys_[meta.lease].insert(k);
}

void KeyIndex::erase_at(Keys::iterator it, int64_t row) {
  History& h = it->second;
  if (!h.live) return;
  detach_lease(&it->first, h.latest.lease);
  h.live = false;
  h.latest = KeyMeta{};
  h.rows.push_back(uint64_t(row) << 1 | kTombstone);
  --live_;
}

KeyIndex::Keys::iterator KeyIndex::Builder::slot(std::string&& key) {
  auto found = slots_.find(std::string_view(key));
  if (found != slots_.end()) return found->second;
  auto it = index_.keys_.try_emplace(std::move(key)).first;
  slots_.emplace(std::string_view(it->first), it);
  return it;
}

std::vector<int64_t> KeyIndex::compactable_rows(int64_t revision) const {
  std::vector<int64_t> out;
  for (auto& [key, h] : keys_) {
    uint64_t bound = uint64_t(first_row_of(revision + 1)) << 1;
    auto keep = std::lower_bound(h.rows.begin(), h.rows.end(), bound);
    if (keep == h.rows.begin()) continue;  // no row at or below the revision
    auto newest = std::prev(keep);         // the key's state at `revision`
    auto end = tombstone(*newest) ? keep : newest;
    for (auto r = h.rows.begin(); r != end; ++r) out.push_back(row_of(*r));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void KeyIndex::compact(int64_t revision) {
  std::unique_lock lock(mu_);
  uint64_t bound = uint64_t(first_row_of(revision + 1)) << 1;
  for (auto it = keys_.begin(); it != keys_.end();) {
    auto& rows = it->second.rows;
    auto keep = std::lower_bound(rows.begin(), rows.end(), bound);
    if (keep != rows.begin()) {
      auto newest = std::prev(keep);
      auto end = tombstone(*newest) ? keep : newest;
      rows.erase(rows.begin(), end);
      if (rows.size() * 2 < rows.capacity()) rows.shrink_to_fit();
    }
    if (rows.empty()) {
      it = keys_.erase(it);  // a tombstone compacted away: the key no longer exists
    } else {
      ++it;
    }
  }
}

void KeyIndex::replace_with(KeyIndex&& other) {
  std::unique_lock lock(mu_);
  keys_.swap(other.keys_);
  lease_keys_.swap(other.lease_keys_);
  std::swap(live_, other.live_);
}

std::vector<int64_t> KeyIndex::rows_at(const KeyRange& range, int64_t revision,
                                       int64_t limit) const {
  std::shared_lock lock(mu_);
  std::vector<int64_t> out;
  walk(range, [&](const std::string&, const History& h) {
    uint64_t e = entry_at(h, revision);
    if (e != 0 && !tombstone(e)) out.push_back(row_of(e));
    return limit <= 0 || int64_t(out.size()) < limit;
  });
  return out;
}

int64_t KeyIndex::count_at(const KeyRange& range, int64_t revision) const {
  std::shared_lock lock(mu_);
  int64_t n = 0;
  walk(range, [&](const std::string&, const History& h) {
    uint64_t e = entry_at(h, revision);
    if (e != 0 && !tombstone(e)) ++n;
    return true;
  });
  return n;
}

int64_t KeyIndex::prev_row(const std::string& key, int64_t row) const {
  std::shared_lock lock(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) return 0;
  auto& rows = it->second.rows;
  auto at = std::lower_bound(rows.begin(), rows.end(), uint64_t(row) << 1);
  if (at == rows.begin()) return 0;
  uint64_t e = *std::prev(at);
  return tombstone(e) ? 0 : row_of(e);
}

size_t KeyIndex::history_rows() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (auto& [_, h] : keys_) n += h.rows.size();
  return n;
}

}  // namespace cairn::datastore::mvcc

// The in-memory key index of the MVCC store (etcd's treeIndex in spirit): for every key, the
// rows of its history since the last compaction (puts and tombstones, by row id, see
// row_id.h) and its latest state when live, plus which live keys each lease holds.
//
// SQL keeps the rows in revision order only (kv has no index on the name): this index is
// what maps a key to its rows. It answers Range and count at any revision (which rows to
// fetch), Txn compares and DeleteRange key sets (latest state), the previous row of a
// watch event, and which rows a compaction removes.
//
// Threads: the store's single writer is the only mutator. Mutations take the exclusive
// lock; the reading methods marked "any thread" take the shared lock, so readers of the pool
// and the watch hub may call them while the writer works. The writer's own reads (find,
// for_each, keys_of_lease) need no lock. Entries the writer appends for a batch that is not
// committed yet have revisions above the store's committed revision: readers never read
// above it, so they never see them. The index is exact only because cairn-datastore is the
// single writer of its database; it is rebuilt from SQL at start and after a failed commit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "datastore/mvcc/types.h"

namespace cairn::datastore::mvcc {

class KeyIndex {
 public:
  // ---- writer thread only ----
  // The latest state of a live key; null when the key does not exist now.
  const KeyMeta* find(const std::string& key) const;
  // Calls fn(key, meta) for each live key in `range`, in key order; stops when fn is false.
  void for_each(const KeyRange& range,
                const std::function<bool(const std::string&, const KeyMeta&)>& fn) const;
  // Live keys attached to `lease` (sorted).
  std::vector<std::string> keys_of_lease(int64_t lease) const;
  // Number of live keys.
  size_t size() const { return live_; }

  // Appends a put of `key` stored in row meta.row (revision_of_row(meta.row) must be
  // meta.mod_revision, above every row of the key).
  void put(const std::string& key, const KeyMeta& meta);
  // Appends a tombstone of live `key` stored in row `row`.
  void erase(const std::string& key, int64_t row);

  // Builder (below) fills a fresh index that no other thread can reach yet (the start-up rebuild,
  // up to millions of rows in id order, before replace_with): no lock, and each row finds its key
  // by hash instead of by the ordered map's string comparisons.
  class Builder;

  // The rows a compaction at `revision` makes unreachable: for each key, every row older
  // than its newest row at or below `revision`, and that row too when it is a tombstone.
  std::vector<int64_t> compactable_rows(int64_t revision) const;
  // Forgets exactly the rows compactable_rows(revision) names (keys left without history
  // are dropped).
  void compact(int64_t revision);
  // Replaces the whole content with `other`'s (a rebuilt index) under the exclusive lock.
  void replace_with(KeyIndex&& other);

  // ---- any thread ----
  // The rows of the keys of `range` that are live at `revision`, in key order, at most
  // `limit` (0 = all).
  std::vector<int64_t> rows_at(const KeyRange& range, int64_t revision, int64_t limit) const;
  int64_t count_at(const KeyRange& range, int64_t revision) const;
  // The row holding `key`'s state just before row `row`: 0 when the key did not exist then
  // (never created, deleted, or that row is compacted away).
  int64_t prev_row(const std::string& key, int64_t row) const;
  // Rows held for all keys (tests, diagnostics).
  size_t history_rows() const;

 private:
  struct History {
    KeyMeta latest;  // valid while live
    bool live = false;
    // row << 1 | 1 for a tombstone, ascending. Ids are below 2^63, so the shift is exact.
    std::vector<uint64_t> rows;
  };
  struct KeyPtrLess {
    bool operator()(const std::string* a, const std::string* b) const { return *a < *b; }
  };
  using Keys = std::map<std::string, History, std::less<>>;

  // Calls fn(key, history) for each key of `range` (live or not) in key order.
  template <typename F>
  void walk(const KeyRange& range, F&& fn) const;
  // The newest entry of h at or below `revision` (0 if none).
  static uint64_t entry_at(const History& h, int64_t revision);
  void detach_lease(const std::string* key, int64_t lease);
  void put_at(Keys::iterator it, const KeyMeta& meta);
  void erase_at(Keys::iterator it, int64_t row);

  mutable std::shared_mutex mu_;
  Keys keys_;
  size_t live_ = 0;
  // Keys point at the map's own (stable) key strings: each key string is held once.
  std::unordered_map<int64_t, std::set<const std::string*, KeyPtrLess>> lease_keys_;
};

class KeyIndex::Builder {
 public:
  explicit Builder(KeyIndex& index) : index_(index) {}
  void put(std::string&& key, const KeyMeta& meta) { index_.put_at(slot(std::move(key)), meta); }
  // A tombstone of a key without a put before it (none in a consistent table) is ignored.
  void erase(const std::string& key, int64_t row) {
    auto found = slots_.find(std::string_view(key));
    if (found != slots_.end()) index_.erase_at(found->second, row);
  }

 private:
  Keys::iterator slot(std::string&& key);
  KeyIndex& index_;
  // Views of the map's own (stable) key strings.
  std::unordered_map<std::string_view, Keys::iterator> slots_;
};

}  // namespace cairn::datastore::mvcc

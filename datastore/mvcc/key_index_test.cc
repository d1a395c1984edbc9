// The key index against a naive model (every row in a list, scanned for each question):
// random puts, deletes, multi-key requests and compactions, then Range, count, prev rows
// and compaction sets at random revisions. Also the id encoding and etcd's range shapes.
#include "datastore/mvcc/key_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "datastore/mvcc/row_id.h"

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

KeyMeta meta(int64_t create, int64_t mod, int64_t version, int64_t lease) {
  return KeyMeta{create, mod, version, lease, row_id(mod, 0)};
}

TEST(RowId, EncodesRevisionAndSubIndexInOrder) {
  EXPECT_EQ(revision_of_row(row_id(5, 0)), 5);
  EXPECT_EQ(revision_of_row(row_id(5, kMaxRowsPerRevision - 1)), 5);
  EXPECT_LT(row_id(5, kMaxRowsPerRevision - 1), row_id(6, 0));
  EXPECT_EQ(first_row_of(6), row_id(6, 0));
  EXPECT_EQ(revision_of_row(row_id(kMaxRevision, kMaxRowsPerRevision - 1)), kMaxRevision);
  EXPECT_GT(row_id(kMaxRevision, kMaxRowsPerRevision - 1), 0);  // no overflow into the sign
}

TEST(KeyIndex, RangesFollowEtcdConventions) {
  KeyIndex idx;
  int64_t rev = 2;
  for (auto k : {"a", "ab", "abc", "b", "c"}) idx.put(k, meta(rev, rev, 1, 0)), ++rev;
  EXPECT_EQ(keys(idx, {"ab", ""}), (std::vector<std::string>{"ab"}));
  EXPECT_EQ(keys(idx, {"ab", "ac"}), (std::vector<std::string>{"ab", "abc"}));
  EXPECT_EQ(keys(idx, {"b", std::string(1, '\0')}), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(keys(idx, {std::string(1, '\0'), std::string(1, '\0')}).size(), 5u);
  EXPECT_TRUE(keys(idx, {"zz", ""}).empty());
}

TEST(KeyIndex, TracksKeysPerLease) {
  KeyIndex idx;
  idx.put("a", meta(2, 2, 1, 7));
  idx.put("b", meta(3, 3, 1, 7));
  EXPECT_EQ(idx.keys_of_lease(7), (std::vector<std::string>{"a", "b"}));
  idx.put("a", meta(2, 4, 2, 0));  // re-put without the lease detaches it
  EXPECT_EQ(idx.keys_of_lease(7), (std::vector<std::string>{"b"}));
  idx.erase("b", row_id(5, 0));
  EXPECT_TRUE(idx.keys_of_lease(7).empty());
  EXPECT_EQ(idx.size(), 1u);
}

// Every row ever written, as SQL would hold it without any index.
struct NaiveRow {
  int64_t row;
  std::string key;
  bool tombstone;
};

struct Naive {
  std::vector<NaiveRow> rows;  // ascending row ids

  // The key's newest row at or below `revision`, or null.
  const NaiveRow* at(const std::string& key, int64_t revision) const {
    const NaiveRow* found = nullptr;
    for (auto& r : rows) {
      if (r.key == key && revision_of_row(r.row) <= revision) found = &r;
    }
    return found;
  }
  std::vector<int64_t> range(const KeyRange& range, int64_t revision) const {
    std::map<std::string, int64_t> live;
    for (auto& r : rows) {
      if (!range.contains(r.key) || revision_of_row(r.row) > revision) continue;
      if (r.tombstone) {
        live.erase(r.key);
      } else {
        live[r.key] = r.row;
      }
    }
    std::vector<int64_t> out;
    for (auto& [_, row] : live) out.push_back(row);
    return out;
  }
  std::vector<int64_t> compactable(int64_t revision) const {
    std::vector<int64_t> out;
    for (auto& r : rows) {
      if (revision_of_row(r.row) > revision) continue;
      const NaiveRow* newest = at(r.key, revision);
      if (newest->row != r.row || r.tombstone) out.push_back(r.row);
    }
    return out;
  }
  int64_t prev(const std::string& key, int64_t row) const {
    const NaiveRow* found = nullptr;
    for (auto& r : rows) {
      if (r.key == key && r.row < row) found = &r;
    }
    return found && !found->tombstone ? found->row : 0;
  }
};

TEST(KeyIndex, AgreesWithANaiveModelAcrossRandomHistories) {
  for (unsigned seed = 1; seed <= 8; ++seed) {
    std::mt19937 rng(seed);
    KeyIndex idx;
    Naive naive;
    std::map<std::string, KeyMeta> latest;  // the model's live keys
    int64_t rev = 1;
    int64_t compacted = 0;
    auto key = [&] { return "k/" + std::to_string(rng() % 30); };
    for (int request = 0; request < 400; ++request) {
      if (rng() % 40 == 0 && rev > compacted + 1) {
        int64_t at = compacted + 1 + int64_t(rng() % uint64_t(rev - compacted));
        auto want = naive.compactable(at);
        ASSERT_EQ(idx.compactable_rows(at), want) << "seed " << seed << " compact " << at;
        idx.compact(at);
        naive.rows.erase(std::remove_if(naive.rows.begin(), naive.rows.end(),
                                        [&](const NaiveRow& r) {
                                          return std::binary_search(want.begin(), want.end(),
                                                                    r.row);
                                        }),
                         naive.rows.end());
        compacted = at;
        continue;
      }
      ++rev;
      int n = 1 + int(rng() % 3);
      std::vector<std::string> done;
      for (int i = 0, sub = 0; i < n; ++i) {
        std::string k = key();
        if (std::find(done.begin(), done.end(), k) != done.end()) continue;
        done.push_back(k);
        int64_t row = row_id(rev, sub++);
        auto it = latest.find(k);
        if (it != latest.end() && rng() % 3 == 0) {
          idx.erase(k, row);
          latest.erase(it);
          naive.rows.push_back({row, k, true});
        } else {
          KeyMeta m{it != latest.end() ? it->second.create_revision : rev, rev,
                    it != latest.end() ? it->second.version + 1 : 1, int64_t(rng() % 3), row};
          idx.put(k, m);
          latest[k] = m;
          naive.rows.push_back({row, k, false});
        }
      }
    }
    ASSERT_EQ(idx.size(), latest.size());
    ASSERT_EQ(idx.history_rows(), naive.rows.size());
    for (auto& [k, m] : latest) {
      const KeyMeta* got = idx.find(k);
      ASSERT_NE(got, nullptr);
      EXPECT_EQ(got->row, m.row);
      EXPECT_EQ(got->version, m.version);
      EXPECT_EQ(got->create_revision, m.create_revision);
    }
    const std::vector<KeyRange> ranges = {{"k/1", ""},
                                          {"k/", "k0"},
                                          {"k/2", std::string(1, '\0')},
                                          {"k/10", "k/15"},
                                          {std::string(1, '\0'), std::string(1, '\0')},
                                          {"x", ""}};
    for (int probe = 0; probe < 200; ++probe) {
      int64_t at = std::max<int64_t>(compacted, 1) + int64_t(rng() % uint64_t(rev + 2));
      for (auto& r : ranges) {
        auto want = naive.range(r, at);
        // The index lists in key order; the model in key order too.
        ASSERT_EQ(idx.rows_at(r, at, 0), want) << "seed " << seed << " rev " << at;
        ASSERT_EQ(idx.count_at(r, at), int64_t(want.size()));
        auto limited = idx.rows_at(r, at, 2);
        ASSERT_EQ(limited.size(), std::min<size_t>(2, want.size()));
        ASSERT_TRUE(std::equal(limited.begin(), limited.end(), want.begin()));
      }
    }
    for (auto& r : naive.rows) {
      ASSERT_EQ(idx.prev_row(r.key, r.row), naive.prev(r.key, r.row)) << r.key << " " << r.row;
    }
  }
}

TEST(KeyIndex, CompactionForgetsDeletedKeysAndKeepsTheStateAtTheRevision) {
  KeyIndex idx;
  idx.put("a", meta(2, 2, 1, 0));
  idx.put("a", meta(2, 3, 2, 0));
  idx.put("d", meta(4, 4, 1, 0));
  idx.erase("d", row_id(5, 0));
  EXPECT_EQ(idx.compactable_rows(5),
            (std::vector<int64_t>{row_id(2, 0), row_id(4, 0), row_id(5, 0)}));
  idx.compact(5);
  EXPECT_EQ(idx.history_rows(), 1u);
  EXPECT_EQ(idx.rows_at({"a", "z"}, 5, 0), (std::vector<int64_t>{row_id(3, 0)}));
  EXPECT_EQ(idx.prev_row("a", row_id(3, 0)), 0);  // its predecessor is compacted away
  idx.put("d", meta(6, 6, 1, 0));                 // a re-creation after the compaction
  EXPECT_EQ(idx.prev_row("d", row_id(6, 0)), 0);
}

}  // namespace
}  // namespace cairn::datastore::mvcc

// The grouped (index-driven) queries of sql_reads against a real dqlite node: load_index and
// count_at must give exactly what the per-row NOT EXISTS form gave (kept here as the
// reference) and what a model of the writes says, across puts, deletes, re-creations and a
// compaction; and load_index's plan must stay on the (name, revision) index.
#include "datastore/mvcc/sql_reads.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "datastore/mvcc/commit_and_wait.h"
#include "datastore/mvcc/store.h"
#include "datastore/testing/temp_node.h"

namespace cairn::datastore::mvcc {
namespace {

// The former load_index query: newest row of each key, live keys only.
const char* const kReferenceLatest =
    "SELECT k.name, k.create_revision, k.revision, k.version, k.lease FROM kv AS k"
    " WHERE k.deleted = 0 AND NOT EXISTS (SELECT 1 FROM kv AS n WHERE n.name = k.name"
    " AND n.revision > k.revision) ORDER BY k.name";

class SqlReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.client = node.client_options();
    store = Store::open(o);
  }
  void write(const std::function<void(WriteTxn&)>& fn) { commit_and_wait(*store, fn); }

  // A reproducible history over 40 keys: puts (some with a lease), deletes, re-creations,
  // several keys per request, and a compaction halfway. Returns the model of live keys.
  std::map<std::string, KeyMeta> random_history() {
    std::mt19937 rng(7);
    std::map<std::string, KeyMeta> model;
    for (int request = 0; request < 300; ++request) {
      if (request == 150) {
        int64_t at = store->revision() - 20;
        write([at](WriteTxn& t) { t.compact(at); });
      }
      int64_t rev = store->revision() + 1;
      std::map<std::string, KeyMeta> next = model;
      int n = 1 + int(rng() % 3);
      std::vector<std::pair<std::string, bool>> ops;  // (key, delete?)
      for (int i = 0; i < n; ++i) {
        std::string key = "k/" + std::to_string(rng() % 40);
        bool del = rng() % 4 == 0 && next.count(key);
        bool dup = false;
        for (auto& [k, _] : ops) dup = dup || k == key;
        if (dup) continue;
        ops.emplace_back(key, del);
        if (del) {
          next.erase(key);
        } else {
          auto it = next.find(key);
          KeyMeta m;
          m.create_revision = it != next.end() ? it->second.create_revision : rev;
          m.mod_revision = rev;
          m.version = it != next.end() ? it->second.version + 1 : 1;
          m.lease = key.back() == '7' ? 77 : 0;
          next[key] = m;
        }
      }
      write([&ops](WriteTxn& t) {
        for (auto& [key, del] : ops) {
          if (del) {
            t.del(key);
          } else {
            t.put(key, "v" + key, key.back() == '7' ? 77 : 0);
          }
        }
      });
      model = std::move(next);
    }
    return model;
  }

  testing::TempNode node;
  std::unique_ptr<Store> store;
};

TEST_F(SqlReadsTest, LoadIndexMatchesTheModelAndTheNotExistsForm) {
  auto model = random_history();
  ASSERT_GT(model.size(), 10u);
  store->readers().with([&](Connection& c) {
    KeyIndex index;
    int64_t rev = load_index(c, index);
    EXPECT_EQ(rev, store->revision());
    EXPECT_EQ(index.size(), model.size());
    for (auto& [key, want] : model) {
      const KeyMeta* got = index.find(key);
      ASSERT_NE(got, nullptr) << key;
      EXPECT_EQ(got->create_revision, want.create_revision) << key;
      EXPECT_EQ(got->mod_revision, want.mod_revision) << key;
      EXPECT_EQ(got->version, want.version) << key;
      EXPECT_EQ(got->lease, want.lease) << key;
    }
    auto reference = c.query(kReferenceLatest);
    ASSERT_EQ(reference.rows.size(), model.size());
    for (auto& r : reference.rows) {
      const KeyMeta* got = index.find(bytes_of(r.at(0)));
      ASSERT_NE(got, nullptr);
      EXPECT_EQ(got->create_revision, int_of(r.at(1)));
      EXPECT_EQ(got->mod_revision, int_of(r.at(2)));
      EXPECT_EQ(got->version, int_of(r.at(3)));
      EXPECT_EQ(got->lease, int_of(r.at(4)));
    }
    EXPECT_EQ(index.keys_of_lease(77).empty(), !model.count("k/7") && !model.count("k/17") &&
                                                   !model.count("k/27") && !model.count("k/37"));
  });
}

TEST_F(SqlReadsTest, CountAtAgreesWithRangeAtAtEveryRevision) {
  random_history();
  const std::vector<KeyRange> ranges = {
      {"k/1", ""},                                   // one key
      {"k/", "k0"},                                  // prefix
      {"k/2", std::string(1, '\0')},                 // from a key to the end
      {std::string(1, '\0'), std::string(1, '\0')},  // everything
      {"k/30", "k/35"},                              // a slice
  };
  store->readers().with([&](Connection& c) {
    for (int64_t rev = store->compact_revision(); rev <= store->revision(); ++rev) {
      for (auto& range : ranges) {
        int64_t listed = int64_t(range_at(c, RangeQuery{range, rev, 0, true}).size());
        ASSERT_EQ(count_at(c, range, rev), listed)
            << "range [" << range.key << ", " << range.end << ") at revision " << rev;
      }
    }
  });
}

TEST_F(SqlReadsTest, LoadIndexPlanWalksTheNameRevisionIndex) {
  store->readers().with([&](Connection& c) {
    auto plan = c.query("EXPLAIN QUERY PLAN " + load_index_sql());
    std::string text;
    for (auto& r : plan.rows) text += bytes_of(r.at(3)) + "\n";
    // The history pass reads only the covering index; rows are fetched by (name, revision).
    EXPECT_NE(text.find("SCAN kv USING COVERING INDEX kv_name_revision"), std::string::npos)
        << text;
    EXPECT_NE(text.find("SEARCH k USING INDEX kv_name_revision (name=? AND revision=?)"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("SCAN k\n"), std::string::npos) << text;  // no full table scan
  });
}

}  // namespace
}  // namespace cairn::datastore::mvcc

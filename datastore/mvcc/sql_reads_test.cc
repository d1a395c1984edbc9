// sql_reads against a real dqlite node: load_index (the start-up rebuild) must give exactly
// the key index the writer built while writing, across puts, deletes, re-creations, leases
// and a compaction; range_at must agree with count_at and with a model of the writes at
// every revision; the queries must stay on the primary key.
#include "datastore/mvcc/sql_reads.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "datastore/mvcc/commit_and_wait.h"
#include "datastore/mvcc/row_id.h"
#include "datastore/mvcc/store.h"
#include "datastore/testing/temp_node.h"

namespace cairn::datastore::mvcc {
namespace {

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

const std::vector<KeyRange>& ranges() {
  static const std::vector<KeyRange> all = {
      {"k/1", ""},                                   // one key
      {"k/", "k0"},                                  // prefix
      {"k/2", std::string(1, '\0')},                 // from a key to the end
      {std::string(1, '\0'), std::string(1, '\0')},  // everything
      {"k/30", "k/35"},                              // a slice
  };
  return all;
}

TEST_F(SqlReadsTest, LoadIndexRebuildsTheWritersIndex) {
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
      EXPECT_EQ(revision_of_row(got->row), want.mod_revision) << key;
    }
    EXPECT_EQ(index.keys_of_lease(77).empty(), !model.count("k/7") && !model.count("k/17") &&
                                                   !model.count("k/27") && !model.count("k/37"));
    // Same history as the writer's index (compacted rows forgotten by both).
    EXPECT_EQ(index.history_rows(), store->index().history_rows());
    auto rows = c.query("SELECT COUNT(*) FROM kv");
    EXPECT_EQ(int64_t(index.history_rows()), int_of(rows.rows.at(0).at(0)));
    for (int64_t r = store->compact_revision(); r <= store->revision(); ++r) {
      for (auto& range : ranges()) {
        ASSERT_EQ(index.rows_at(range, r, 0), store->index().rows_at(range, r, 0)) << r;
      }
    }
  });
}

TEST_F(SqlReadsTest, RangeAtAgreesWithCountAtAndTheModelAtEveryRevision) {
  auto model = random_history();
  store->readers().with([&](Connection& c) {
    for (int64_t rev = store->compact_revision(); rev <= store->revision(); ++rev) {
      for (auto& range : ranges()) {
        auto listed = range_at(c, store->index(), RangeQuery{range, rev, 0, false});
        ASSERT_EQ(store->index().count_at(range, rev), int64_t(listed.size()))
            << "range [" << range.key << ", " << range.end << ") at revision " << rev;
        for (size_t i = 0; i < listed.size(); ++i) {
          EXPECT_EQ(listed[i].value, "v" + listed[i].key);
          EXPECT_LE(listed[i].mod_revision, rev);
          if (i) {
            EXPECT_LT(listed[i - 1].key, listed[i].key);
          }
        }
        auto keys_only = range_at(c, store->index(), RangeQuery{range, rev, 0, true});
        ASSERT_EQ(keys_only.size(), listed.size());
        if (!keys_only.empty()) {
          EXPECT_TRUE(keys_only[0].value.empty());
        }
      }
    }
    auto now = range_at(c, store->index(), RangeQuery{ranges()[3], store->revision(), 0, false});
    ASSERT_EQ(now.size(), model.size());
    for (auto& kv : now) {
      auto& want = model.at(kv.key);
      EXPECT_EQ(kv.create_revision, want.create_revision);
      EXPECT_EQ(kv.mod_revision, want.mod_revision);
      EXPECT_EQ(kv.version, want.version);
      EXPECT_EQ(kv.lease, want.lease);
    }
  });
}

// A row the index names but SQL no longer has (a compaction committed between the index
// lookup and the fetch) fails the read as compacted instead of answering short.
TEST_F(SqlReadsTest, RangeOverARowThatIsGoneFailsAsCompacted) {
  write([](WriteTxn& t) { t.put("gone", "1", 0); });
  KeyIndex stale;
  stale.put("gone", KeyMeta{2, 2, 1, 0, row_id(2, 7)});  // no such row
  store->readers().with([&](Connection& c) {
    EXPECT_EQ(range_at(c, store->index(), RangeQuery{{"gone", ""}, 2, 0, false}).size(), 1u);
    try {
      range_at(c, stale, RangeQuery{{"gone", ""}, 2, 0, false});
      ADD_FAILURE() << "a missing row was not noticed";
    } catch (const StoreError& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kCompacted);
    }
  });
}

TEST_F(SqlReadsTest, QueriesUseThePrimaryKeyOnly) {
  store->readers().with([&](Connection& c) {
    auto plan_of = [&](const std::string& sql) {
      std::string text;
      for (auto& r : c.query("EXPLAIN QUERY PLAN " + sql).rows) text += bytes_of(r.at(3)) + "\n";
      return text;
    };
    auto fetch = plan_of("SELECT value FROM kv WHERE id IN (SELECT value FROM json_each('[1]'))");
    EXPECT_NE(fetch.find("SEARCH kv USING INTEGER PRIMARY KEY (rowid=?)"), std::string::npos)
        << fetch;
    auto replay = plan_of("SELECT value FROM kv WHERE id >= 1 AND id < 9 ORDER BY id LIMIT 3");
    EXPECT_NE(replay.find("SEARCH kv USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
              std::string::npos)
        << replay;
    EXPECT_EQ(replay.find("TEMP B-TREE"), std::string::npos) << replay;
    // No index on the name: every write appends to the right edge of one b-tree.
    auto indexes = c.query("SELECT name FROM sqlite_master WHERE type = 'index'");
    for (auto& r : indexes.rows) EXPECT_EQ(bytes_of(r.at(0)).rfind("sqlite_autoindex_meta", 0), 0u);
  });
}

}  // namespace
}  // namespace cairn::datastore::mvcc

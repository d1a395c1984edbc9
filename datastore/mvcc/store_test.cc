// MVCC rules against a real dqlite node: revisions, versions, tombstones, history,
// compaction, group commit of concurrent writers, recovery from SQL at restart.
#include "datastore/mvcc/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "datastore/mvcc/commit_and_wait.h"
#include "datastore/mvcc/sql_reads.h"
#include "datastore/testing/temp_node.h"

namespace cairn::datastore::mvcc {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    StoreOptions o;
    o.client = node.client_options();
    store = Store::open(o);
    store->set_event_sink([this](int64_t, std::vector<Event>&& evs) {
      std::lock_guard lock(mu);
      for (auto& e : evs) events.push_back(std::move(e));
    });
  }
  // Runs one request on the writer and waits for its commit.
  void write(const std::function<void(WriteTxn&)>& fn) { commit_and_wait(*store, fn); }
  std::vector<KeyValue> range(const KeyRange& r, int64_t rev = 0) {
    return store->readers().with([&](Connection& c) {
      return range_at(c, store->index(), RangeQuery{r, rev ? rev : store->revision(), 0, false});
    });
  }

  testing::TempNode node;
  std::unique_ptr<Store> store;
  std::mutex mu;
  std::vector<Event> events;
};

TEST_F(StoreTest, EmptyStoreStartsAtRevisionOne) {
  EXPECT_EQ(store->revision(), 1);
  EXPECT_EQ(store->compact_revision(), 0);
  EXPECT_NE(store->identity().cluster_id, 0u);
}

TEST_F(StoreTest, PutsBumpRevisionAndVersion) {
  write([](WriteTxn& t) { t.put("a", "1", 0); });
  write([](WriteTxn& t) { t.put("a", "2", 0); });
  EXPECT_EQ(store->revision(), 3);
  auto kvs = range({"a", ""});
  ASSERT_EQ(kvs.size(), 1u);
  EXPECT_EQ(kvs[0].value, "2");
  EXPECT_EQ(kvs[0].create_revision, 2);
  EXPECT_EQ(kvs[0].mod_revision, 3);
  EXPECT_EQ(kvs[0].version, 2);
  auto old = range({"a", ""}, 2);
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].value, "1");
}

TEST_F(StoreTest, OneRequestIsOneRevisionEvenForManyKeys) {
  write([](WriteTxn& t) {
    t.put("x", "1", 0);
    t.put("y", "2", 0);
  });
  EXPECT_EQ(store->revision(), 2);
  auto kvs = range({"x", "z"});
  ASSERT_EQ(kvs.size(), 2u);
  EXPECT_EQ(kvs[0].mod_revision, 2);
  EXPECT_EQ(kvs[1].mod_revision, 2);
}

TEST_F(StoreTest, DeleteWritesTombstoneAndRecreateResetsVersion) {
  write([](WriteTxn& t) { t.put("k", "1", 0); });
  write([](WriteTxn& t) { t.del("k"); });
  EXPECT_TRUE(range({"k", ""}).empty());
  EXPECT_EQ(range({"k", ""}, 2).size(), 1u);
  write([](WriteTxn& t) { t.put("k", "again", 0); });
  auto kvs = range({"k", ""});
  ASSERT_EQ(kvs.size(), 1u);
  EXPECT_EQ(kvs[0].version, 1);
  EXPECT_EQ(kvs[0].create_revision, 4);
  std::lock_guard lock(mu);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].type, Event::Type::kDelete);
  EXPECT_EQ(events[1].kv.mod_revision, 3);
  ASSERT_TRUE(events[1].prev.has_value());
  EXPECT_EQ(events[1].prev->mod_revision, 2);
}

TEST_F(StoreTest, HistoryReplaysEventsWithPrevValues) {
  write([](WriteTxn& t) { t.put("h", "1", 0); });
  write([](WriteTxn& t) { t.put("h", "2", 0); });
  write([](WriteTxn& t) { t.del("h"); });
  auto evs = store->readers().with([&](Connection& c) {
    return history(c, store->index(), {"h", ""}, 1, store->revision(), 100, true);
  });
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_FALSE(evs[0].prev.has_value());
  EXPECT_EQ(evs[1].prev->value, "1");
  EXPECT_EQ(evs[2].type, Event::Type::kDelete);
  EXPECT_EQ(evs[2].prev->value, "2");
}

TEST_F(StoreTest, CompactionRemovesSupersededRowsOnly) {
  write([](WriteTxn& t) { t.put("c", "1", 0); });  // 2
  write([](WriteTxn& t) { t.put("c", "2", 0); });  // 3
  write([](WriteTxn& t) { t.put("d", "1", 0); });  // 4
  write([](WriteTxn& t) { t.del("d"); });          // 5
  write([](WriteTxn& t) { t.put("e", "1", 0); });  // 6
  write([](WriteTxn& t) { t.compact(5); });
  EXPECT_EQ(store->compact_revision(), 5);
  EXPECT_EQ(store->revision(), 6);
  auto rows = store->readers().with(
      [](Connection& c) { return c.query("SELECT name FROM kv ORDER BY id").rows.size(); });
  EXPECT_EQ(rows, 2u);  // c@3 and e@6 remain
  auto kvs = range({"c", "f"}, 5);
  ASSERT_EQ(kvs.size(), 1u);
  EXPECT_EQ(kvs[0].value, "2");
}

// The compaction removes z's tombstone, the newest row: the revision survives through the
// persisted compact revision.
TEST_F(StoreTest, CompactionOfTheNewestRowKeepsTheRevisionAcrossRestart) {
  write([](WriteTxn& t) { t.put("z", "1", 0); });
  write([](WriteTxn& t) { t.del("z"); });
  write([](WriteTxn& t) { t.compact(3); });
  store.reset();
  open();
  EXPECT_EQ(store->revision(), 3);
  EXPECT_EQ(store->compact_revision(), 3);
}

TEST_F(StoreTest, ConcurrentWritersShareCommits) {
  constexpr int kThreads = 8, kPer = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        try {
          std::string key = "g/" + std::to_string(t) + "/" + std::to_string(i);
          write([key](WriteTxn& w) { w.put(key, "v", 0); });
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(store->revision(), 1 + kThreads * kPer);
  EXPECT_EQ(range({"g/", "g0"}).size(), size_t(kThreads * kPer));
  EXPECT_LE(store->commits(), uint64_t(kThreads * kPer));
}

TEST_F(StoreTest, RequestErrorBeforeWritingFailsOnlyThatRequest) {
  std::promise<void> p1, p2;
  store->submit([](WriteTxn&) { throw std::runtime_error("bad request"); },
                [&](std::exception_ptr e) {
                  EXPECT_TRUE(e);
                  p1.set_value();
                });
  store->submit([](WriteTxn& t) { t.put("ok", "1", 0); },
                [&](std::exception_ptr e) {
                  EXPECT_FALSE(e);
                  p2.set_value();
                });
  p1.get_future().get();
  p2.get_future().get();
  EXPECT_EQ(range({"ok", ""}).size(), 1u);
}

TEST_F(StoreTest, IndexIsRebuiltFromSqlAtRestart) {
  write([](WriteTxn& t) { t.put("r", "1", 5); });
  write([](WriteTxn& t) { t.put("r", "2", 5); });
  write([](WriteTxn& t) { t.lease_put(5, 30); });
  store.reset();
  node.restart();
  open();
  std::promise<KeyMeta> meta;
  std::promise<std::vector<std::string>> lease_keys;
  store->submit(
      [&](WriteTxn& t) {
        meta.set_value(*t.find("r"));
        lease_keys.set_value(t.keys_of_lease(5));
      },
      [](std::exception_ptr) {});
  auto m = meta.get_future().get();
  EXPECT_EQ(m.version, 2);
  EXPECT_EQ(m.create_revision, 2);
  EXPECT_EQ(m.mod_revision, 3);
  EXPECT_EQ(lease_keys.get_future().get(), (std::vector<std::string>{"r"}));
  ASSERT_EQ(store->initial_leases().size(), 1u);
  EXPECT_EQ(store->initial_leases()[0], (std::pair<int64_t, int64_t>{5, 30}));
}

// Closes the store, runs `sql` on its database, reopens it and returns the error it refuses
// the database with ("" and a test failure if it opens).
std::string refusal_after(testing::TempNode& node, std::unique_ptr<Store>& store,
                          const std::string& sql) {
  store.reset();
  {
    auto c = dqlite::Client::connect(node.client_options());
    c->open("cairn-datastore");
    c->exec_sql(sql);
  }
  StoreOptions o;
  o.client = node.client_options();
  try {
    Store::open(o);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "the store opened after: " << sql;
  return "";
}

TEST_F(StoreTest, ForeignDatabaseIsRefused) {
  std::string error = refusal_after(node, store, "CREATE TABLE something_else (x INTEGER)");
  EXPECT_NE(error.find("something_else"), std::string::npos) << error;
}

TEST_F(StoreTest, FormatOneStoreIsRefusedWithItsFormatNamed) {
  // As a store written by format 1 (rows clustered by name) would say.
  std::string error = refusal_after(
      node, store, "UPDATE meta SET value = 'cairn-datastore/1' WHERE name = 'format'");
  EXPECT_NE(error.find("cairn-datastore/1"), std::string::npos) << error;
}

TEST_F(StoreTest, FormatTwoStoreIsRefusedWithBothFormatsNamed) {
  // Format 2 had a (name, revision) index and a revision column; its rows are not ours.
  std::string error = refusal_after(
      node, store, "UPDATE meta SET value = 'cairn-datastore/2' WHERE name = 'format'");
  EXPECT_NE(error.find("database format is 'cairn-datastore/2', expected 'cairn-datastore/3'"),
            std::string::npos)
      << error;
}

// One request that writes and then deletes hundreds of keys: rows numbered within one
// revision, spanning several INSERTs; the history survives a restart (rebuilt from SQL in
// id order) and a compaction afterwards forgets exactly the unreachable rows.
TEST_F(StoreTest, ManyRowsAtOneRevisionSurviveRestartAndCompaction) {
  constexpr int kKeys = 300;
  write([&](WriteTxn& t) {
    for (int i = 0; i < kKeys; ++i) t.put("m/" + std::to_string(i), std::to_string(i), 0);
  });
  write([&](WriteTxn& t) {
    for (int i = 0; i < kKeys; i += 2) t.del("m/" + std::to_string(i));
  });
  write([&](WriteTxn& t) { t.put("m/1", "again", 0); });
  store.reset();
  node.restart();
  open();
  EXPECT_EQ(store->revision(), 4);
  EXPECT_EQ(store->index().history_rows(), size_t(kKeys + kKeys / 2 + 1));
  EXPECT_EQ(range({"m/", "m0"}, 2).size(), size_t(kKeys));
  auto now = range({"m/", "m0"});
  ASSERT_EQ(now.size(), size_t(kKeys / 2));
  auto evs = store->readers().with([&](Connection& c) {
    return history(c, store->index(), {"m/1", ""}, 2, store->revision(), 100, true);
  });
  ASSERT_EQ(evs.size(), 2u);
  ASSERT_TRUE(evs[1].prev.has_value());
  EXPECT_EQ(evs[1].prev->value, "1");
  EXPECT_EQ(evs[1].prev->mod_revision, 2);
  write([](WriteTxn& t) { t.compact(4); });
  // Left: the 150 odd keys (m/1 only at revision 4).
  EXPECT_EQ(store->index().history_rows(), size_t(kKeys / 2));
  auto rows = store->readers().with(
      [](Connection& c) { return int_of(c.query("SELECT COUNT(*) FROM kv").rows.at(0).at(0)); });
  EXPECT_EQ(rows, kKeys / 2);
  EXPECT_EQ(range({"m/", "m0"}).size(), size_t(kKeys / 2));
}

// One commit that dirties far more pages than SQLite's default page cache (~500 pages):
// SQLite would spill them into the WAL before COMMIT, which dqlite 1.11 fails with "disk
// I/O error" (SQLITE_IOERR_SHORT_READ) unless the writer's connection disables spilling.
TEST_F(StoreTest, CommitLargerThanThePageCacheSucceeds) {
  constexpr int kKeys = 4000;
  const std::string value(1024, 'v');
  write([&](WriteTxn& t) {
    for (int i = 0; i < kKeys; ++i) {
      // Scattered names, so the name index is dirtied all over, as with random keys.
      t.put("big/" + std::to_string((i * 7919) % kKeys), value, 0);
    }
  });
  EXPECT_EQ(store->revision(), 2);
  EXPECT_EQ(range({"big/", "big0"}).size(), size_t(kKeys));
  write([&](WriteTxn& t) {
    for (int i = 0; i < kKeys; ++i) t.put("big/" + std::to_string(i), value + "2", 0);
  });
  EXPECT_EQ(store->revision(), 3);
}

// A batch's rows go out as prepared INSERTs of at most 28 rows: a request whose rows span
// several statements, with a read in between that must see the rows before it (flush).
TEST_F(StoreTest, RowsSpanningSeveralStatementsAreVisibleToReadsInTheBatch) {
  size_t seen = 0;
  write([&](WriteTxn& t) {
    for (int i = 0; i < 29; ++i) t.put("s/a" + std::to_string(i), "v" + std::to_string(i), 0);
    seen = t.range(RangeQuery{{"s/", "s0"}, t.revision(), 0, false}).size();
    for (int i = 0; i < 30; ++i) t.put("s/b" + std::to_string(i), "w", 0);
  });
  EXPECT_EQ(seen, 29u);
  auto kvs = range({"s/", "s0"});
  ASSERT_EQ(kvs.size(), 59u);
  EXPECT_EQ(kvs[0].key, "s/a0");
  EXPECT_EQ(kvs[0].value, "v0");
  EXPECT_EQ(store->revision(), 2);
}

// A request that fails after writing fails its whole batch: none of the batch's rows
// (already sent in several statements inside the batch's transaction) may be committed.
TEST_F(StoreTest, FailureAfterWritingCommitsNoRowOfTheBatch) {
  write([](WriteTxn& t) { t.put("keep", "1", 0); });
  EXPECT_THROW(write([](WriteTxn& t) {
                 for (int i = 0; i < 60; ++i) t.put("lost/" + std::to_string(i), "v", 0);
                 // The read sends the rows inside the batch's transaction first.
                 if (t.range(RangeQuery{{"lost/", "lost0"}, t.revision(), 0, false}).size() == 60) {
                   throw std::runtime_error("fails after writing");
                 }
               }),
               std::exception);
  EXPECT_TRUE(range({"lost/", "lost0"}).empty());
  EXPECT_EQ(store->revision(), 2);
  write([](WriteTxn& t) { t.put("after", "1", 0); });
  EXPECT_EQ(store->revision(), 3);
  EXPECT_EQ(range({"after", ""}).size(), 1u);
  EXPECT_EQ(range({"keep", ""}).size(), 1u);
}

TEST_F(StoreTest, CompletionsRunOffTheWriterInCommitOrder) {
  constexpr int kRequests = 200;
  std::mutex order_mu;
  std::vector<int64_t> done_revisions;
  std::atomic<int> pending{kRequests};
  std::promise<void> all_done;
  std::atomic<std::thread::id> writer_thread;
  std::atomic<bool> done_on_writer{false};
  for (int i = 0; i < kRequests; ++i) {
    auto rev = std::make_shared<int64_t>(0);
    store->submit(
        [&, rev, i](WriteTxn& t) {
          writer_thread = std::this_thread::get_id();
          t.put("order/" + std::to_string(i), "x", 0);
          *rev = t.revision();
        },
        [&, rev](std::exception_ptr e) {
          EXPECT_FALSE(e);
          if (std::this_thread::get_id() == writer_thread) done_on_writer = true;
          {
            std::lock_guard lock(order_mu);
            done_revisions.push_back(*rev);
          }
          if (--pending == 0) all_done.set_value();
        });
  }
  all_done.get_future().get();
  EXPECT_FALSE(done_on_writer);
  ASSERT_EQ(done_revisions.size(), size_t(kRequests));
  EXPECT_TRUE(std::is_sorted(done_revisions.begin(), done_revisions.end()));
  EXPECT_EQ(done_revisions.back(), 1 + kRequests);
}

TEST(StoreLingerTest, UnderLoadTheWriterWaitsForABiggerBatchAndStopEndsTheWait) {
  testing::TempNode node;
  StoreOptions o;
  o.client = node.client_options();
  o.linger = std::chrono::seconds(30);  // far longer than the test waits for anything
  o.linger_gap = std::chrono::seconds(30);
  o.linger_min_batch = 1;  // every batch counts as "under load"
  auto store = Store::open(o);
  auto submit = [&](const std::string& key) {
    auto done = std::make_shared<std::promise<std::exception_ptr>>();
    store->submit([key](WriteTxn& t) { t.put(key, "v", 0); },
                  [done](std::exception_ptr e) { done->set_value(e); });
    return done->get_future();
  };
  // The first batch follows no batch: it commits at once.
  auto first = submit("linger/0");
  ASSERT_EQ(first.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_FALSE(first.get());
  uint64_t commits = store->commits();
  // After a batch of 1 the writer waits for 2 requests (or 30 s): one alone stays queued.
  auto second = submit("linger/1");
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  auto third = submit("linger/2");
  ASSERT_EQ(second.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  ASSERT_EQ(third.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_FALSE(second.get());
  EXPECT_FALSE(third.get());
  EXPECT_EQ(store->commits(), commits + 1);  // the two shared one commit
  EXPECT_EQ(store->revision(), 4);
  // Now it waits for 4; stop() ends the wait and fails what is queued, uncommitted.
  auto fourth = submit("linger/3");
  EXPECT_EQ(fourth.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  store->stop();
  ASSERT_EQ(fourth.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_TRUE(fourth.get());
  EXPECT_EQ(store->revision(), 4);
}

}  // namespace
}  // namespace cairn::datastore::mvcc

// The MVCC store: etcd's revisioned key space on SQL through dqlite, with one writer thread
// doing group commit.
//
// Writes are closures (`Apply`) queued to the writer. The writer drains the queue, runs each
// closure in order against a WriteTxn (one etcd request = at most one new revision), sends
// the batch's rows to dqlite as one transaction, and only after the commit returns publishes
// the events (EventSink) and completes every request (`Done`). So no write is acknowledged
// before it is durable, and concurrent clients share one raft commit.
//
// Single-writer assumption: this process is the only writer of its database. The writer's
// in-memory KeyIndex is therefore exact, and Txn compares need no SQL round trip.
//
// Reads (`reader()`) run on pooled connections bounded by the committed revision.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "datastore/dqlite/client.h"
#include "datastore/mvcc/connection.h"
#include "datastore/mvcc/key_index.h"
#include "datastore/mvcc/reader_pool.h"
#include "datastore/mvcc/schema.h"
#include "datastore/mvcc/types.h"

namespace cairn::datastore::mvcc {

struct StoreOptions {
  dqlite::ClientOptions client;  // where the dqlite node listens
  std::string database = "cairn-datastore";
  size_t readers = 4;
  size_t max_batch = 2048;  // requests per group commit
  // Group-commit window under load: when the previous batch had at least
  // `linger_min_batch` requests, the writer waits up to `linger` for the queue to reach
  // twice that batch (at most max_batch) before it starts the next commit, and stops
  // waiting early when no request arrived for `linger_gap` (a closed-loop client whose
  // requests are all queued already gains nothing from waiting; the next 16 batches then
  // commit without waiting). Bigger batches mean fewer
  // raft entries, snapshots and commits per write (CPU the request path needs under load);
  // light traffic (batches below the minimum) is never delayed. 0 = off.
  std::chrono::microseconds linger{0};
  std::chrono::microseconds linger_gap{4000};
  size_t linger_min_batch = 16;
};

struct Batch;

// The view of the store one request gets on the writer thread. Reads see every earlier
// request of the batch and this request's own writes. A request must validate before its
// first write: throwing after a write fails the whole batch.
class WriteTxn {
 public:
  // Revision of the store as this request sees it (its own writes included).
  int64_t revision() const;
  int64_t compact_revision() const;

  const KeyMeta* find(const std::string& key) const;
  void for_each(const KeyRange& range,
                const std::function<bool(const std::string&, const KeyMeta&)>& fn) const;
  std::vector<std::string> keys_of_lease(int64_t lease) const;

  // The current value of a live key (SQL lookup of its newest row by id).
  std::string value_of(const std::string& key);
  // A range (rows fetched by id) or count (in memory) at `q.revision` (<= revision()).
  std::vector<KeyValue> range(const RangeQuery& q);
  int64_t count(const KeyRange& range, int64_t revision);

  // Writes; the first one allocates this request's revision (revision()+1). A request may
  // change at most kMaxRowsPerRevision - 1 keys (row_id.h).
  void put(const std::string& key, const std::string& value, int64_t lease);
  void del(const std::string& key);  // key must be live
  void lease_put(int64_t id, int64_t ttl);
  void lease_delete(int64_t id);
  // Compacts history below `revision` (validated by the caller).
  void compact(int64_t revision);

  bool wrote() const { return wrote_; }

 private:
  friend class Store;
  WriteTxn(Batch& batch, KeyIndex& index) : batch_(batch), index_(index) {}
  int64_t write_revision();
  int64_t next_row(int64_t revision);  // the id of this request's next row

  Batch& batch_;
  KeyIndex& index_;
  int64_t next_sub_ = 0;
  bool wrote_ = false;    // allocated a revision
  bool mutated_ = false;  // changed anything (revision, lease table, compaction)
};

class Store {
 public:
  using Apply = std::function<void(WriteTxn&)>;
  // Called once per request: null on success, else the request's error (or a StoreError of
  // kind kUnavailable when the batch could not be committed). Runs on the store's completion
  // thread, batch after batch in commit order, so sending replies (gRPC writes inline)
  // overlaps the next batch's commit instead of delaying it.
  using Done = std::function<void(std::exception_ptr)>;
  // Receives every committed batch's events (revision order) before requests complete.
  using EventSink = std::function<void(int64_t revision, std::vector<Event>&& events)>;

  // Connects, creates or verifies the schema, loads the key index. Throws on failure.
  static std::unique_ptr<Store> open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  void set_event_sink(EventSink sink);  // before the first write
  void submit(Apply apply, Done done);
  // Stops the writer; queued requests fail with kUnavailable. Idempotent.
  void stop();

  int64_t revision() const { return revision_.load(std::memory_order_acquire); }
  int64_t compact_revision() const { return compact_revision_.load(std::memory_order_acquire); }
  const Identity& identity() const { return identity_; }
  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  // Requests in those commits (committed() / commits() = the mean group-commit batch).
  uint64_t committed() const { return committed_.load(std::memory_order_relaxed); }
  // Leases persisted at open: (id, ttl).
  const std::vector<std::pair<int64_t, int64_t>>& initial_leases() const { return leases_; }

  ReaderPool& readers() { return *readers_; }
  // The key index (readers use its "any thread" methods; see key_index.h).
  const KeyIndex& index() const { return index_; }
  // Database size in bytes (page_count * page_size), 0 if unknown.
  int64_t db_size();

 private:
  explicit Store(const StoreOptions& options);
  struct Item {
    Apply apply;
    Done done;
  };
  void writer_loop();
  void completer_loop();
  // Hands a batch's completions to the completion thread.
  void complete(std::vector<Item>& items, std::vector<std::exception_ptr>& errors);
  void run_batch(std::vector<Item>& items);
  void recover_after_failure();
  std::unique_ptr<Connection> connect_writer();

  StoreOptions options_;
  std::unique_ptr<ReaderPool> readers_;
  std::unique_ptr<Connection> writer_conn_;
  KeyIndex index_;
  Identity identity_;
  std::vector<std::pair<int64_t, int64_t>> leases_;
  EventSink sink_;

  std::atomic<int64_t> revision_{1};
  std::atomic<int64_t> compact_revision_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> committed_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  size_t wake_at_ = 1;  // submit() wakes the writer once the queue holds this many
  bool stopping_ = false;
  std::thread writer_;

  struct Completion {
    Done done;
    std::exception_ptr error;
  };
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::deque<std::vector<Completion>> done_queue_;
  bool done_stopping_ = false;
  std::thread completer_;
};

}  // namespace cairn::datastore::mvcc

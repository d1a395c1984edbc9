#include "datastore/mvcc/store.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>

#include "datastore/mvcc/row_id.h"
#include "datastore/mvcc/sql_reads.h"

namespace cairn::datastore::mvcc {

namespace {
// A batch's rows go to dqlite through one prepared multi-row INSERT with bound parameters
// (binary blobs on the wire: no SQL text to build, ship and parse, no statement to compile
// per batch). dqlite's protocol carries at most 255 parameters per request, so one
// statement takes up to kRowsPerInsert rows of kColumns values; a batch's statements are
// pipelined (one write, then the responses) inside one transaction.
constexpr size_t kColumns = 6;
constexpr size_t kRowsPerInsert = 255 / kColumns;

// "INSERT [OR FAIL] INTO kv (...) VALUES (?,...),(?,...)" for `rows` rows; the connection
// caches one prepared statement per distinct form (at most 2 * kRowsPerInsert of them).
// Inside BEGIN/COMMIT the OR FAIL form is used: a failing row stops the statement and
// keeps the transaction open (the batch then rolls back as a whole), so SQLite needs no
// statement journal. With the default ABORT, every multi-row statement inside a
// transaction first copies each page it touches into a statement journal, which spills to
// a temp file past 64 KiB: one more 4 KiB write per row, on dqlite's only thread.
// A statement that is its own transaction (autocommit) must use the plain (ABORT) form:
// in autocommit mode OR FAIL would commit the rows before the failing one.
const std::string& insert_sql(size_t rows, bool or_fail) {
  static const std::vector<std::string> sql = [] {
    std::vector<std::string> all(2 * (kRowsPerInsert + 1));
    for (int fail = 0; fail < 2; ++fail) {
      for (size_t n = 1; n <= kRowsPerInsert; ++n) {
        std::string s = fail ? "INSERT OR FAIL INTO kv" : "INSERT INTO kv";
        s += " (id, name, create_revision, version, lease, value) VALUES ";
        for (size_t i = 0; i < n; ++i) s += i ? ",(?,?,?,?,?,?)" : "(?,?,?,?,?,?)";
        all[size_t(fail) * (kRowsPerInsert + 1) + n] = std::move(s);
      }
    }
    return all;
  }();
  return sql.at(size_t(or_fail) * (kRowsPerInsert + 1) + rows);
}

// A kv row (schema.h); version 0 is a tombstone.
struct PendingRow {
  int64_t id = 0;
  std::string name;
  int64_t create_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
  std::string value;
};

// Rows per compaction DELETE (their ids travel as one JSON parameter).
constexpr size_t kIdsPerDelete = 8192;

dqlite::Value take_blob(std::string& bytes) {
  dqlite::Value v = blob(bytes);
  std::string().swap(bytes);  // the batch keeps one copy of a value, not two
  return v;
}
}  // namespace

// The state of one group commit. Rows accumulate in `rows` and are sealed into prepared
// multi-row INSERTs; statements are sent either as one autocommit statement at the end (a
// small batch: one round trip) or pipelined inside BEGIN/COMMIT when more statements are
// needed or a read inside the batch must see them first (flush).
struct Batch {
  Connection& conn;
  int64_t committed;  // revision committed before this batch
  int64_t base;       // revision before the current request
  int64_t compact;
  std::vector<int64_t> compactions;  // applied to the key index once committed
  std::vector<PendingRow> rows;
  std::vector<Connection::Statement> statements;
  bool began = false;
  std::vector<Event> events;

  // `in_transaction`: the statements will run inside BEGIN/COMMIT (the OR FAIL form).
  void seal_rows(bool in_transaction = true) {
    size_t i = 0;
    while (i < rows.size()) {
      size_t n = std::min(kRowsPerInsert, rows.size() - i);
      Connection::Statement st{insert_sql(n, in_transaction), {}};
      st.params.reserve(n * kColumns);
      for (size_t end = i + n; i < end; ++i) {
        auto& r = rows[i];
        st.params.push_back(r.id);
        st.params.push_back(take_blob(r.name));
        st.params.push_back(r.create_revision);
        st.params.push_back(r.version);
        st.params.push_back(r.lease);
        if (r.version == 0) {
          st.params.push_back(dqlite::Null{});
        } else {
          st.params.push_back(take_blob(r.value));
        }
      }
      statements.push_back(std::move(st));
    }
    rows.clear();
  }

  void add(Connection::Statement st) {
    seal_rows();
    statements.push_back(std::move(st));
  }

  // Inside a transaction: every statement in one pipelined round trip. A failure of any of
  // them throws (after all responses are read) and the caller rolls back; COMMIT is never
  // part of the pipeline, so a failed statement can never be committed.
  void run_statements() {
    if (statements.size() == 1) {
      conn.exec(statements[0].sql, statements[0].params);
    } else if (!statements.empty()) {
      conn.exec_pipelined(statements);
    }
    statements.clear();
  }

  // BEGIN travels alone: were it pipelined and failed, the statements after it would run
  // (and commit) one by one in autocommit mode.
  void begin() {
    conn.exec("BEGIN");
    began = true;
  }

  // Makes everything so far visible to reads on this connection (inside the transaction).
  void flush() {
    seal_rows();
    if (statements.empty()) return;
    if (!began) begin();
    run_statements();
  }

  void commit() {
    // Rows that fit one INSERT, with nothing else pending, are one statement that is its
    // own transaction (autocommit): they take the ABORT form.
    bool rows_alone = !began && statements.empty() && rows.size() <= kRowsPerInsert;
    seal_rows(!rows_alone);
    if (!began) {
      if (statements.empty()) return;
      if (statements.size() == 1) {
        run_statements();  // one statement is its own transaction
        return;
      }
      begin();
    }
    run_statements();
    conn.exec("COMMIT");
    began = false;
  }
};

// ---- WriteTxn ----

int64_t WriteTxn::revision() const {
  return wrote_ ? batch_.base + 1 : batch_.base;
}
int64_t WriteTxn::compact_revision() const {
  return batch_.compact;
}

const KeyMeta* WriteTxn::find(const std::string& key) const {
  return index_.find(key);
}

void WriteTxn::for_each(const KeyRange& range,
                        const std::function<bool(const std::string&, const KeyMeta&)>& fn) const {
  index_.for_each(range, fn);
}

std::vector<std::string> WriteTxn::keys_of_lease(int64_t lease) const {
  return index_.keys_of_lease(lease);
}

int64_t WriteTxn::write_revision() {
  if (next_sub_ + 1 >= kMaxRowsPerRevision) {
    throw StoreError(ErrorKind::kUnavailable,
                     "etcdserver: too many keys changed in one request (limit " +
                         std::to_string(kMaxRowsPerRevision - 1) + ")");
  }
  if (batch_.base + 1 > kMaxRevision) {
    throw StoreError(ErrorKind::kUnavailable, "etcdserver: revision space exhausted");
  }
  wrote_ = true;
  mutated_ = true;
  return batch_.base + 1;
}

int64_t WriteTxn::next_row(int64_t revision) {
  return row_id(revision, next_sub_++);
}

std::string WriteTxn::value_of(const std::string& key) {
  const KeyMeta* meta = index_.find(key);
  if (!meta) return {};
  if (meta->mod_revision > batch_.committed) batch_.flush();
  return value_at(batch_.conn, meta->row).value_or(std::string());
}

std::vector<KeyValue> WriteTxn::range(const RangeQuery& q) {
  if (q.revision > batch_.committed) batch_.flush();
  return range_at(batch_.conn, index_, q);
}

int64_t WriteTxn::count(const KeyRange& range, int64_t revision) {
  return index_.count_at(range, revision);
}

void WriteTxn::put(const std::string& key, const std::string& value, int64_t lease) {
  int64_t rev = write_revision();
  const KeyMeta* found = index_.find(key);
  std::optional<KeyMeta> old;
  if (found) old = *found;
  KeyMeta meta;
  meta.create_revision = old ? old->create_revision : rev;
  meta.mod_revision = rev;
  meta.version = old ? old->version + 1 : 1;
  meta.lease = lease;
  meta.row = next_row(rev);

  batch_.rows.push_back(
      PendingRow{meta.row, key, meta.create_revision, meta.version, lease, value});

  Event ev;
  ev.type = Event::Type::kPut;
  ev.kv = KeyValue{key, value, meta.create_revision, rev, meta.version, lease};
  if (old) {
    ev.prev = KeyValue{key, {}, old->create_revision, old->mod_revision, old->version, old->lease};
    ev.prev_row = old->row;
  }
  batch_.events.push_back(std::move(ev));
  index_.put(key, meta);
}

void WriteTxn::del(const std::string& key) {
  const KeyMeta* found = index_.find(key);
  if (!found) return;
  KeyMeta old = *found;
  int64_t rev = write_revision();
  int64_t row = next_row(rev);
  batch_.rows.push_back(PendingRow{row, key, 0, 0, 0, {}});
  Event ev;
  ev.type = Event::Type::kDelete;
  ev.kv.key = key;
  ev.kv.mod_revision = rev;
  ev.prev = KeyValue{key, {}, old.create_revision, old.mod_revision, old.version, old.lease};
  ev.prev_row = old.row;
  batch_.events.push_back(std::move(ev));
  index_.erase(key, row);
}

void WriteTxn::lease_put(int64_t id, int64_t ttl) {
  mutated_ = true;
  batch_.add({"INSERT OR REPLACE INTO lease (id, ttl) VALUES (?, ?)", {id, ttl}});
}

void WriteTxn::lease_delete(int64_t id) {
  mutated_ = true;
  batch_.add({"DELETE FROM lease WHERE id = ?", {id}});
}

void WriteTxn::compact(int64_t revision) {
  mutated_ = true;
  batch_.add(
      {"INSERT OR REPLACE INTO meta (name, value) VALUES ('compact_revision', ?)", {revision}});
  // The key index knows which rows are unreachable at `revision` (superseded by a newer
  // row at or below it, or tombstones at or below it); it forgets them once committed.
  std::vector<int64_t> rows = index_.compactable_rows(revision);
  for (size_t i = 0; i < rows.size(); i += kIdsPerDelete) {
    auto end = rows.begin() + int64_t(std::min(rows.size(), i + kIdsPerDelete));
    batch_.add({"DELETE FROM kv WHERE id IN (SELECT value FROM json_each(?))",
                {id_list(rows.begin() + int64_t(i), end)}});
  }
  batch_.compactions.push_back(revision);
  batch_.compact = revision;
}

// ---- Store ----

Store::Store(const StoreOptions& options) : options_(options) {}

std::unique_ptr<Store> Store::open(const StoreOptions& options) {
  std::unique_ptr<Store> store(new Store(options));
  store->readers_ = std::make_unique<ReaderPool>(options.client, options.database, options.readers);
  store->writer_conn_ = store->connect_writer();
  store->identity_ = ensure_schema(store->writer_conn_->raw());
  store->revision_ = load_index(*store->writer_conn_, store->index_);
  store->compact_revision_ = read_meta_int(store->writer_conn_->raw(), "compact_revision", 0);
  store->leases_ = load_leases(*store->writer_conn_);
  store->completer_ = std::thread([s = store.get()] { s->completer_loop(); });
  store->writer_ = std::thread([s = store.get()] { s->writer_loop(); });
  return store;
}

Store::~Store() {
  stop();
}

void Store::set_event_sink(EventSink sink) {
  sink_ = std::move(sink);
}

void Store::submit(Apply apply, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Item{std::move(apply), std::move(done)});
      if (queue_.size() >= wake_at_) cv_.notify_one();
      return;
    }
  }
  done(std::make_exception_ptr(StoreError(ErrorKind::kUnavailable, "datastore is stopping")));
}

void Store::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (writer_.joinable() && writer_.get_id() != std::this_thread::get_id()) writer_.join();
  {
    std::lock_guard lock(done_mu_);
    done_stopping_ = true;
    done_cv_.notify_all();
  }
  if (completer_.joinable() && completer_.get_id() != std::this_thread::get_id()) {
    completer_.join();
  }
}

void Store::complete(std::vector<Item>& items, std::vector<std::exception_ptr>& errors) {
  std::vector<Completion> batch;
  batch.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    batch.push_back(Completion{std::move(items[i].done), i < errors.size() ? errors[i] : nullptr});
  }
  std::lock_guard lock(done_mu_);
  done_queue_.push_back(std::move(batch));
  done_cv_.notify_one();
}

void Store::completer_loop() {
  for (;;) {
    std::vector<Completion> batch;
    {
      std::unique_lock lock(done_mu_);
      done_cv_.wait(lock, [&] { return done_stopping_ || !done_queue_.empty(); });
      if (done_queue_.empty()) return;  // stopping and drained
      batch = std::move(done_queue_.front());
      done_queue_.pop_front();
    }
    for (auto& c : batch) c.done(c.error);
  }
}

int64_t Store::db_size() {
  try {
    return readers_->with([](Connection& c) {
      auto pages = c.query("PRAGMA page_count");
      auto size = c.query("PRAGMA page_size");
      if (pages.rows.empty() || size.rows.empty()) return int64_t(0);
      return int_of(pages.rows[0].at(0)) * int_of(size.rows[0].at(0));
    });
  } catch (const std::exception&) {
    return 0;
  }
}

namespace {
// After a futile group-commit wait, this many batches commit at once (a closed-loop client
// then loses one gap per this many batches instead of one per batch).
constexpr size_t kNoWaitAfterIdleGap = 16;
}  // namespace

void Store::writer_loop() {
  std::vector<Item> items;
  size_t last_batch = 0;
  // Batches still to commit without waiting: a wait that ended because nothing arrived for
  // the gap (a closed-loop client with all of its requests queued) is not repeated at once.
  size_t no_wait = 0;
  for (;;) {
    items.clear();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      if (no_wait > 0) {
        --no_wait;
      } else if (options_.linger.count() > 0 && last_batch >= options_.linger_min_batch) {
        // Under load: let the batch fill (submit() wakes us only once it has) or the window
        // pass. The requests already queued lose at most `linger`; the next ones gain a
        // share of a commit that would otherwise have been theirs alone.
        wake_at_ = std::min(options_.max_batch, 2 * last_batch);
        auto full = [&] { return stopping_ || queue_.size() >= wake_at_; };
        auto deadline = std::chrono::steady_clock::now() + options_.linger;
        for (size_t seen = queue_.size(); !full();) {
          auto until = std::min(deadline, std::chrono::steady_clock::now() + options_.linger_gap);
          if (cv_.wait_until(lock, until, full) || until == deadline) break;
          if (queue_.size() == seen) {  // nothing arrived for the gap: waiting did not pay
            no_wait = kNoWaitAfterIdleGap;
            break;
          }
          seen = queue_.size();
        }
        wake_at_ = 1;
        if (stopping_) break;
      }
      while (!queue_.empty() && items.size() < options_.max_batch) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    last_batch = items.size();
    run_batch(items);
  }
  std::deque<Item> rest;
  {
    std::lock_guard lock(mu_);
    rest.swap(queue_);
  }
  std::vector<Item> left(std::make_move_iterator(rest.begin()),
                         std::make_move_iterator(rest.end()));
  std::vector<std::exception_ptr> errors(
      left.size(),
      std::make_exception_ptr(StoreError(ErrorKind::kUnavailable, "datastore is stopping")));
  complete(left, errors);
}

void Store::run_batch(std::vector<Item>& items) {
  std::vector<std::exception_ptr> errors(items.size());
  if (!writer_conn_) {
    try {
      recover_after_failure();
    } catch (const std::exception& e) {
      auto err = std::make_exception_ptr(
          StoreError(ErrorKind::kUnavailable, std::string("database unavailable: ") + e.what()));
      std::fill(errors.begin(), errors.end(), err);
      complete(items, errors);
      return;
    }
  }
  Batch batch{*writer_conn_, revision(), revision(), compact_revision(), {}, {}, {}, false, {}};
  std::string failure;
  int64_t failure_code = 0;
  for (size_t i = 0; i < items.size() && failure.empty(); ++i) {
    WriteTxn txn(batch, index_);
    try {
      items[i].apply(txn);
      if (txn.wrote()) ++batch.base;
    } catch (const dqlite::Error& e) {
      failure = e.what();
      failure_code = e.code();
    } catch (...) {
      if (txn.mutated_) {
        failure = "request failed after it started writing";
      } else {
        errors[i] = std::current_exception();
      }
    }
  }
  if (failure.empty()) {
    // Readers learn of a compaction before its rows go: a read that raced it and missed
    // rows then fails as compacted (it checks after reading) instead of answering short.
    // A failed commit reloads the compact revision from SQL.
    if (batch.compact > compact_revision()) {
      compact_revision_.store(batch.compact, std::memory_order_release);
    }
    try {
      batch.commit();
    } catch (const dqlite::Error& e) {
      failure = e.what();
      failure_code = e.code();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  if (!failure.empty()) {
    std::fprintf(stderr, "cairn-datastore: commit of %zu requests failed (code %lld): %s\n",
                 items.size(), static_cast<long long>(failure_code), failure.c_str());
    if (batch.began) {
      try {
        writer_conn_->exec("ROLLBACK");
      } catch (...) {
      }
    }
    auto err = std::make_exception_ptr(
        StoreError(ErrorKind::kUnavailable, "etcdserver: commit failed: " + failure));
    writer_conn_.reset();
    try {
      recover_after_failure();
    } catch (...) {
    }
    for (auto& e : errors) {
      if (!e) e = err;
    }
    complete(items, errors);
    return;
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  committed_.fetch_add(items.size(), std::memory_order_relaxed);
  for (int64_t rev : batch.compactions) index_.compact(rev);
  revision_.store(batch.base, std::memory_order_release);
  if (sink_ && !batch.events.empty()) sink_(batch.base, std::move(batch.events));
  complete(items, errors);
}

std::unique_ptr<Connection> Store::connect_writer() {
  auto conn = readers_->connect();
  // dqlite 1.11's VFS fails a transaction whose dirty pages SQLite spills into the WAL before
  // COMMIT (SQLITE_IOERR_SHORT_READ, "disk I/O error"; canonical/dqlite#432). A group commit
  // of a few hundred random keys dirties more pages than the default cache holds, so the
  // writer's connection never spills: its dirty pages stay in the page cache until COMMIT.
  conn->exec("PRAGMA cache_spill = OFF");
  // Statement journals and temp b-trees (a compaction's DELETE, large sorts) stay in memory:
  // SQLite's temp files are plain files under /var/tmp written by dqlite's only thread.
  conn->exec("PRAGMA temp_store = MEMORY");
  return conn;
}

void Store::recover_after_failure() {
  // The in-memory index may hold changes of the failed batch: rebuild it from SQL.
  writer_conn_ = connect_writer();
  revision_.store(load_index(*writer_conn_, index_), std::memory_order_release);
  compact_revision_.store(read_meta_int(writer_conn_->raw(), "compact_revision", 0),
                          std::memory_order_release);
}

}  // namespace cairn::datastore::mvcc

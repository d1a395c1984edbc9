#include "datastore/server/watch_hub.h"

#include <algorithm>

#include "datastore/mvcc/sql_reads.h"
#include "datastore/server/range_eval.h"

namespace cairn::datastore::server {

namespace {
constexpr int64_t kReplayChunk = 1000;
using CreateRequest = etcdserverpb::WatchCreateRequest;
}  // namespace

WatchHub::WatchHub(mvcc::Store& store, HeaderFn header, std::chrono::milliseconds progress_interval)
    : store_(store), header_(std::move(header)), progress_interval_(progress_interval) {}

WatchHub::~WatchHub() {
  stop();
}

void WatchHub::start() {
  revision_ = store_.revision();
  thread_ = std::thread([this] { loop(); });
}

void WatchHub::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void WatchHub::publish(int64_t revision, std::vector<mvcc::Event>&& events) {
  std::lock_guard lock(mu_);
  published_.push_back(Published{revision, std::move(events)});
  cv_.notify_all();
}

void WatchHub::create(const std::shared_ptr<WatchSink>& sink, const CreateRequest& r) {
  std::lock_guard lock(mu_);
  ops_.push_back(Op{Op::kCreate, sink, r, 0});
  cv_.notify_all();
}

void WatchHub::cancel(const std::shared_ptr<WatchSink>& sink, int64_t watch_id) {
  std::lock_guard lock(mu_);
  ops_.push_back(Op{Op::kCancel, sink, {}, watch_id});
  cv_.notify_all();
}

void WatchHub::progress(const std::shared_ptr<WatchSink>& sink) {
  std::lock_guard lock(mu_);
  ops_.push_back(Op{Op::kProgress, sink, {}, 0});
  cv_.notify_all();
}

void WatchHub::close(const std::shared_ptr<WatchSink>& sink) {
  std::lock_guard lock(mu_);
  ops_.push_back(Op{Op::kClose, sink, {}, 0});
  cv_.notify_all();
}

size_t WatchHub::watcher_count() const {
  std::lock_guard lock(mu_);
  return watcher_count_;
}

etcdserverpb::WatchResponse WatchHub::response(int64_t watch_id, int64_t revision) {
  etcdserverpb::WatchResponse r;
  header_(r.mutable_header(), revision);
  r.set_watch_id(watch_id);
  return r;
}

void WatchHub::loop() {
  auto next_tick = std::chrono::steady_clock::now() + progress_interval_;
  bool more_sync = false;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (ops_.empty() && published_.empty() && !more_sync) {
      cv_.wait_until(lock, next_tick);
    }
    if (stopping_) break;
    std::deque<Op> ops;
    std::deque<Published> published;
    ops.swap(ops_);
    published.swap(published_);
    lock.unlock();
    // Ops first: a watcher created "now" starts after the revision it was told in `created`.
    for (auto& op : ops) apply(op);
    for (auto& batch : published) deliver(batch);
    more_sync = sync_one_chunk();
    if (std::chrono::steady_clock::now() >= next_tick) {
      tick_progress();
      next_tick = std::chrono::steady_clock::now() + progress_interval_;
    }
    size_t count = 0;
    for (auto& [_, s] : streams_) count += s.watchers.size();
    lock.lock();
    watcher_count_ = count;
  }
}

void WatchHub::apply(Op& op) {
  Stream& s = streams_[op.sink.get()];
  s.sink = op.sink;
  auto sink = op.sink;
  switch (op.kind) {
    case Op::kCreate: {
      const CreateRequest& r = op.create;
      int64_t id = r.watch_id();
      if (id != 0 && s.watchers.count(id)) {
        auto resp = response(id, revision_);
        resp.set_created(true);
        resp.set_canceled(true);
        resp.set_cancel_reason("mvcc: duplicate watch ID provided on the WatchStream");
        sink->send(std::move(resp));
        return;
      }
      if (id == 0) {
        while (s.watchers.count(s.next_id)) ++s.next_id;
        id = s.next_id++;
      }
      Watcher w;
      w.range = mvcc::KeyRange{r.key(), r.range_end()};
      w.prev_kv = r.prev_kv();
      w.progress_notify = r.progress_notify();
      for (int f : r.filters()) {
        if (f == CreateRequest::NOPUT) w.no_put = true;
        if (f == CreateRequest::NODELETE) w.no_delete = true;
      }
      auto created = response(id, revision_);
      created.set_created(true);
      sink->send(std::move(created));
      int64_t start = r.start_revision() > 0 ? r.start_revision() : revision_ + 1;
      int64_t compacted = store_.compact_revision();
      if (start < compacted) {
        auto canceled = response(id, revision_);
        canceled.set_canceled(true);
        canceled.set_compact_revision(compacted);
        sink->send(std::move(canceled));
        return;
      }
      w.next_revision = start;
      w.synced = start > revision_;
      s.watchers.emplace(id, std::move(w));
      return;
    }
    case Op::kCancel: {
      if (s.watchers.erase(op.watch_id)) {
        auto resp = response(op.watch_id, revision_);
        resp.set_canceled(true);
        sink->send(std::move(resp));
        maybe_send_progress(s);
      }
      return;
    }
    case Op::kProgress:
      s.progress_pending = true;
      maybe_send_progress(s);
      return;
    case Op::kClose:
      streams_.erase(op.sink.get());
      return;
  }
}

void WatchHub::maybe_send_progress(Stream& s) {
  if (!s.progress_pending) return;
  for (auto& [_, w] : s.watchers) {
    if (!w.synced) return;
  }
  s.progress_pending = false;
  if (auto sink = s.sink.lock()) sink->send(response(-1, revision_));
}

void WatchHub::send_events(Stream& s, int64_t id, Watcher& w,
                           const std::vector<mvcc::Event*>& events, int64_t revision) {
  auto sink = s.sink.lock();
  if (!sink) return;
  etcdserverpb::WatchResponse resp = response(id, revision);
  for (auto* ev : events) {
    auto* out = resp.add_events();
    out->set_type(ev->type == mvcc::Event::Type::kPut ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
    to_proto(ev->kv, out->mutable_kv());
    if (w.prev_kv && ev->prev) to_proto(*ev->prev, out->mutable_prev_kv());
  }
  w.sent_since_tick = true;
  sink->send(std::move(resp));
}

static bool wants(const mvcc::KeyRange& range, bool no_put, bool no_delete, const mvcc::Event& ev) {
  if (ev.type == mvcc::Event::Type::kPut ? no_put : no_delete) return false;
  return range.contains(ev.kv.key);
}

void WatchHub::load_prev_values(std::vector<mvcc::Event>& events) {
  std::vector<mvcc::Event*> need;
  for (auto& ev : events) {
    if (ev.prev && !ev.prev_value_loaded) need.push_back(&ev);
  }
  if (need.empty()) return;
  try {
    store_.readers().with([&](mvcc::Connection& conn) {
      std::vector<int64_t> rows;
      rows.reserve(need.size());
      for (auto* ev : need) rows.push_back(ev->prev_row);
      auto values = mvcc::values_at(conn, rows);
      for (auto* ev : need) {
        auto it = values.find(ev->prev_row);
        if (it != values.end()) {
          ev->prev->value = it->second;
        } else {
          ev->prev.reset();  // compacted away
        }
        ev->prev_value_loaded = true;
      }
    });
  } catch (const std::exception&) {
    // Leave prev values empty rather than stall every watcher.
  }
}

void WatchHub::deliver(Published& batch) {
  bool need_prev = false;
  for (auto& [_, s] : streams_) {
    for (auto& [id, w] : s.watchers) {
      if (!w.synced || !w.prev_kv) continue;
      for (auto& ev : batch.events) {
        if (ev.prev && wants(w.range, w.no_put, w.no_delete, ev)) need_prev = true;
      }
    }
  }
  if (need_prev) load_prev_values(batch.events);
  for (auto& [_, s] : streams_) {
    for (auto& [id, w] : s.watchers) {
      if (!w.synced) continue;
      std::vector<mvcc::Event*> matched;
      for (auto& ev : batch.events) {
        if (ev.kv.mod_revision >= w.next_revision && wants(w.range, w.no_put, w.no_delete, ev)) {
          matched.push_back(&ev);
        }
      }
      if (!matched.empty()) send_events(s, id, w, matched, batch.revision);
      w.next_revision = std::max(w.next_revision, batch.revision + 1);
    }
  }
  revision_ = batch.revision;
}

bool WatchHub::sync_one_chunk() {
  bool remaining = false;
  for (auto& [_, s] : streams_) {
    for (auto it = s.watchers.begin(); it != s.watchers.end();) {
      int64_t id = it->first;
      Watcher& w = it->second;
      if (w.synced) {
        ++it;
        continue;
      }
      int64_t compacted = store_.compact_revision();
      if (w.next_revision < compacted) {
        if (auto sink = s.sink.lock()) {
          auto resp = response(id, revision_);
          resp.set_canceled(true);
          resp.set_compact_revision(compacted);
          sink->send(std::move(resp));
        }
        it = s.watchers.erase(it);
        continue;
      }
      std::vector<mvcc::Event> events;
      try {
        events = store_.readers().with([&](mvcc::Connection& conn) {
          auto evs = mvcc::history(conn, store_.index(), w.range, w.next_revision, revision_,
                                   kReplayChunk, w.prev_kv);
          if (int64_t(evs.size()) == kReplayChunk &&
              evs.front().kv.mod_revision == evs.back().kv.mod_revision) {
            // One huge revision: take it whole so it is never split across responses.
            int64_t rev = evs.front().kv.mod_revision;
            evs = mvcc::history(conn, store_.index(), w.range, rev, rev, INT64_MAX, w.prev_kv);
          }
          return evs;
        });
      } catch (const std::exception&) {
        remaining = true;  // try again on the next round
        ++it;
        continue;
      }
      int64_t upto = revision_;
      if (int64_t(events.size()) >= kReplayChunk &&
          events.front().kv.mod_revision != events.back().kv.mod_revision) {
        // Cut at a revision boundary; the last revision is replayed with the next chunk.
        int64_t last = events.back().kv.mod_revision;
        while (!events.empty() && events.back().kv.mod_revision == last) events.pop_back();
        upto = last - 1;
        remaining = true;
      } else if (int64_t(events.size()) >= kReplayChunk) {
        upto = events.back().kv.mod_revision;
        remaining = true;
      }
      std::vector<mvcc::Event*> matched;
      for (auto& ev : events) {
        if (wants(w.range, w.no_put, w.no_delete, ev)) matched.push_back(&ev);
      }
      if (!matched.empty()) send_events(s, id, w, matched, revision_);
      w.next_revision = upto + 1;
      if (w.next_revision > revision_) {
        w.synced = true;
        maybe_send_progress(s);
      }
      ++it;
    }
  }
  return remaining;
}

void WatchHub::tick_progress() {
  for (auto& [_, s] : streams_) {
    auto sink = s.sink.lock();
    for (auto& [id, w] : s.watchers) {
      if (w.progress_notify && w.synced && !w.sent_since_tick && sink) {
        sink->send(response(id, revision_));
      }
      w.sent_since_tick = false;
    }
  }
}

}  // namespace cairn::datastore::server

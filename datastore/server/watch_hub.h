// The watch hub: every watcher of every stream, fed by the writer's commit path.
//
// The writer calls publish() after each commit (push, never polled). One hub thread owns all
// watcher state and, in order: applies stream operations (create/cancel/progress/close),
// delivers published batches to synced watchers, and replays history from SQL for watchers
// that start at an old revision (unsynced), a chunk at a time, until they reach the hub's
// revision and join the live path. A watcher whose start revision was compacted gets
// etcd's canceled response with compact_revision. Sinks must not block: send() queues.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "datastore/mvcc/store.h"
#include "datastore/proto/rpc.pb.h"

namespace cairn::datastore::server {

class WatchSink {
 public:
  virtual ~WatchSink() = default;
  virtual void send(etcdserverpb::WatchResponse&& response) = 0;
};

class WatchHub {
 public:
  using HeaderFn = std::function<void(etcdserverpb::ResponseHeader*, int64_t revision)>;
  WatchHub(mvcc::Store& store, HeaderFn header, std::chrono::milliseconds progress_interval);
  ~WatchHub();

  void start();
  void stop();

  // From the writer, after a commit: events of revisions up to `revision`, in order.
  void publish(int64_t revision, std::vector<mvcc::Event>&& events);

  // Stream operations, applied in call order by the hub thread.
  void create(const std::shared_ptr<WatchSink>& sink, const etcdserverpb::WatchCreateRequest& r);
  void cancel(const std::shared_ptr<WatchSink>& sink, int64_t watch_id);
  void progress(const std::shared_ptr<WatchSink>& sink);
  void close(const std::shared_ptr<WatchSink>& sink);

  size_t watcher_count() const;

 private:
  struct Watcher {
    mvcc::KeyRange range;
    int64_t next_revision = 0;  // next revision to deliver (unsynced: replay from here)
    bool synced = false;
    bool prev_kv = false;
    bool no_put = false;
    bool no_delete = false;
    bool progress_notify = false;
    bool sent_since_tick = false;
  };
  struct Stream {
    std::weak_ptr<WatchSink> sink;
    int64_t next_id = 0;
    bool progress_pending = false;
    std::map<int64_t, Watcher> watchers;
  };
  struct Op {
    enum Kind { kCreate, kCancel, kProgress, kClose } kind;
    std::shared_ptr<WatchSink> sink;
    etcdserverpb::WatchCreateRequest create;
    int64_t watch_id = 0;
  };
  struct Published {
    int64_t revision;
    std::vector<mvcc::Event> events;
  };

  void loop();
  void apply(Op& op);
  void deliver(Published& batch);
  bool sync_one_chunk();  // true if work remains
  void tick_progress();
  void send_events(Stream& s, int64_t id, Watcher& w, const std::vector<mvcc::Event*>& events,
                   int64_t revision);
  void maybe_send_progress(Stream& s);
  void load_prev_values(std::vector<mvcc::Event>& events);
  etcdserverpb::WatchResponse response(int64_t watch_id, int64_t revision);

  mvcc::Store& store_;
  HeaderFn header_;
  std::chrono::milliseconds progress_interval_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Op> ops_;
  std::deque<Published> published_;
  bool stopping_ = false;
  size_t watcher_count_ = 0;  // mirrors the hub thread's state, for tests/metrics
  std::thread thread_;

  // Hub-thread state.
  std::map<WatchSink*, Stream> streams_;
  int64_t revision_ = 0;
};

}  // namespace cairn::datastore::server

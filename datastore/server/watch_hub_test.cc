// Watch hub: push delivery from the commit path, fan-out, filters, prev_kv, replay from an
// old revision, compaction cancel, cancellation, progress notifications.
#include "datastore/server/watch_hub.h"

#include <gtest/gtest.h>

#include <condition_variable>

#include "datastore/testing/server_fixture.h"

namespace cairn::datastore::server {
namespace {

using namespace etcdserverpb;
using testing::ServerFixture;

class CollectingSink : public WatchSink {
 public:
  void send(WatchResponse&& r) override {
    std::lock_guard lock(mu_);
    got_.push_back(std::move(r));
    cv_.notify_all();
  }
  // Waits (generously: loaded CI machines) until pred holds over the responses so far.
  bool wait_for(const std::function<bool(const std::vector<WatchResponse>&)>& pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return pred(got_); });
  }
  std::vector<WatchResponse> all() {
    std::lock_guard lock(mu_);
    return got_;
  }
  // Events of watch `id`, flattened.
  std::vector<mvccpb::Event> events(int64_t id) {
    std::vector<mvccpb::Event> out;
    for (auto& r : all()) {
      if (r.watch_id() != id) continue;
      for (auto& e : r.events()) out.push_back(e);
    }
    return out;
  }
  bool wait_events(int64_t id, size_t n) {
    return wait_for([&](const std::vector<WatchResponse>& rs) {
      size_t c = 0;
      for (auto& r : rs) {
        if (r.watch_id() == id) c += size_t(r.events_size());
      }
      return c >= n;
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchResponse> got_;
};

WatchCreateRequest watch(const std::string& key, const std::string& end = "", int64_t start = 0) {
  WatchCreateRequest w;
  w.set_key(key);
  w.set_range_end(end);
  w.set_start_revision(start);
  return w;
}

bool created(CollectingSink& s, size_t n) {
  return s.wait_for([n](const std::vector<WatchResponse>& rs) {
    size_t c = 0;
    for (auto& r : rs) c += r.created();
    return c >= n;
  });
}

TEST(WatchHub, LiveEventsFanOutToMatchingWatchers) {
  ServerFixture f;
  auto a = std::make_shared<CollectingSink>();
  auto b = std::make_shared<CollectingSink>();
  f.server->watch_hub().create(a, watch("x/", "x0"));
  f.server->watch_hub().create(b, watch("x/1"));
  ASSERT_TRUE(created(*a, 1));
  ASSERT_TRUE(created(*b, 1));
  f.put("x/1", "one");
  f.put("x/2", "two");
  f.put("y", "other");
  ASSERT_TRUE(a->wait_events(0, 2));
  ASSERT_TRUE(b->wait_events(0, 1));
  auto ea = a->events(0);
  EXPECT_EQ(ea[0].kv().key(), "x/1");
  EXPECT_EQ(ea[1].kv().value(), "two");
  EXPECT_EQ(ea[1].kv().mod_revision(), 3);
  f.put("x/1", "again");
  ASSERT_TRUE(b->wait_events(0, 2));
  EXPECT_EQ(b->events(0).size(), 2u);
}

TEST(WatchHub, FiltersAndPrevKv) {
  ServerFixture f;
  auto s = std::make_shared<CollectingSink>();
  auto w = watch("f");
  w.set_prev_kv(true);
  w.add_filters(WatchCreateRequest::NOPUT);
  f.put("f", "old");
  f.server->watch_hub().create(s, w);
  ASSERT_TRUE(created(*s, 1));
  f.put("f", "new");
  f.del("f");
  ASSERT_TRUE(s->wait_events(0, 1));
  auto evs = s->events(0);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].type(), mvccpb::Event::DELETE);
  EXPECT_EQ(evs[0].prev_kv().value(), "new");
}

TEST(WatchHub, ReplaysFromOldRevisionThenGoesLive) {
  ServerFixture f;
  for (int i = 0; i < 2500; ++i) f.put("r/" + std::to_string(i % 7), std::to_string(i));
  auto s = std::make_shared<CollectingSink>();
  f.server->watch_hub().create(s, watch("r/", "r0", 2));
  ASSERT_TRUE(s->wait_events(0, 2500));
  f.put("r/live", "x");
  ASSERT_TRUE(s->wait_events(0, 2501));
  auto evs = s->events(0);
  for (size_t i = 0; i < evs.size(); ++i) {
    EXPECT_EQ(evs[i].kv().mod_revision(), int64_t(i) + 2) << i;  // in order, none lost
  }
}

TEST(WatchHub, CompactedStartRevisionIsCanceled) {
  ServerFixture f;
  f.put("c", "1");
  f.put("c", "2");
  f.put("c", "3");
  f.compact(3);
  auto s = std::make_shared<CollectingSink>();
  f.server->watch_hub().create(s, watch("c", "", 2));
  ASSERT_TRUE(s->wait_for(
      [](const std::vector<WatchResponse>& rs) { return rs.size() >= 2 && rs[1].canceled(); }));
  auto rs = s->all();
  EXPECT_TRUE(rs[0].created());
  EXPECT_EQ(rs[1].compact_revision(), 3);
}

TEST(WatchHub, CancelStopsDeliveryAndDuplicateIdsAreRefused) {
  ServerFixture f;
  auto s = std::make_shared<CollectingSink>();
  auto w = watch("k");
  w.set_watch_id(7);
  f.server->watch_hub().create(s, w);
  f.server->watch_hub().create(s, w);
  ASSERT_TRUE(created(*s, 2));
  auto rs = s->all();
  EXPECT_FALSE(rs[0].canceled());
  EXPECT_TRUE(rs[1].canceled());  // duplicate id
  f.server->watch_hub().cancel(s, 7);
  ASSERT_TRUE(s->wait_for(
      [](const std::vector<WatchResponse>& r) { return r.size() >= 3 && r[2].canceled(); }));
  f.put("k", "v");
  f.put("sync", "v");
  // The hub has processed the later put; no event reached the canceled watcher.
  auto probe = std::make_shared<CollectingSink>();
  f.server->watch_hub().create(probe, watch("zzz"));
  ASSERT_TRUE(created(*probe, 1));
  EXPECT_TRUE(s->events(7).empty());
  f.server->watch_hub().close(s);
}

TEST(WatchHub, ProgressNotifyAndProgressRequest) {
  ServerFixture f(std::chrono::milliseconds(200));
  auto s = std::make_shared<CollectingSink>();
  auto w = watch("p");
  w.set_progress_notify(true);
  f.put("other", "1");
  f.server->watch_hub().create(s, w);
  ASSERT_TRUE(created(*s, 1));
  // A periodic progress notification: no events, the watcher's id, the current revision.
  ASSERT_TRUE(s->wait_for([](const std::vector<WatchResponse>& rs) {
    for (auto& r : rs) {
      if (!r.created() && r.events_size() == 0 && r.watch_id() == 0) return true;
    }
    return false;
  }));
  f.server->watch_hub().progress(s);
  ASSERT_TRUE(s->wait_for([](const std::vector<WatchResponse>& rs) {
    for (auto& r : rs) {
      if (r.watch_id() == -1) return r.header().revision() == 2;
    }
    return false;
  }));
}

}  // namespace
}  // namespace cairn::datastore::server

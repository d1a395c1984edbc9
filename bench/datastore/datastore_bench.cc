// Benchmark client for bench/datastore/run.sh (run by hand, not a test), speaking the etcd
// v3 gRPC API to any endpoint (etcd or cairn-datastore):
//   datastore_bench watch-latency ENDPOINT [RATE=1000] [SECONDS=10]
//       puts at RATE/s, each value carrying its send time; a watcher measures put -> event
//       delivery; prints "p50_ms p99_ms events".
//   datastore_bench fill ENDPOINT [KEYS=100000] [VALUE_BYTES=1024]
//       writes KEYS keys of VALUE_BYTES from 16 threads; prints "live_bytes".
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "datastore/proto/rpc.grpc.pb.h"

using namespace etcdserverpb;
using Clock = std::chrono::steady_clock;

static int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

static std::shared_ptr<grpc::Channel> channel(const std::string& ep) {
  return grpc::CreateChannel(ep, grpc::InsecureChannelCredentials());
}

static int watch_latency(const std::string& ep, int rate, int seconds) {
  auto ch = channel(ep);
  auto w = Watch::NewStub(ch);
  grpc::ClientContext ctx;
  auto stream = w->Watch(&ctx);
  WatchRequest req;
  req.mutable_create_request()->set_key("/bench/w/");
  req.mutable_create_request()->set_range_end("/bench/w0");
  stream->Write(req);
  WatchResponse resp;
  stream->Read(&resp);  // created
  std::vector<double> lat;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    WatchResponse r;
    while (!done && stream->Read(&r)) {
      int64_t t = now_ns();
      for (auto& e : r.events()) lat.push_back((t - std::stoll(e.kv().value())) / 1e6);
    }
  });
  auto kv = KV::NewStub(ch);
  int total = rate * seconds;
  auto start = Clock::now();
  std::vector<std::thread> writers;
  std::atomic<int> next{0};
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&] {
      for (int i; (i = next++) < total;) {
        std::this_thread::sleep_until(start +
                                      std::chrono::microseconds(int64_t(i) * 1000000 / rate));
        PutRequest p;
        p.set_key("/bench/w/" + std::to_string(i % 1000));
        p.set_value(std::to_string(now_ns()));
        PutResponse out;
        grpc::ClientContext c;
        kv->Put(&c, p, &out);
      }
    });
  }
  for (auto& t : writers) t.join();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  done = true;
  ctx.TryCancel();
  reader.join();
  std::sort(lat.begin(), lat.end());
  if (lat.empty()) return 1;
  std::printf("%.2f %.2f %zu\n", lat[lat.size() / 2],
              lat[std::min(lat.size() - 1, lat.size() * 99 / 100)], lat.size());
  return 0;
}

static int fill(const std::string& ep, int keys, int bytes) {
  auto ch = channel(ep);
  std::atomic<int> next{0};
  std::atomic<int64_t> live{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      auto kv = KV::NewStub(ch);
      for (int i; (i = next++) < keys;) {
        PutRequest p;
        char key[64];
        std::snprintf(key, sizeof key, "/bench/fill/%08d", i);
        p.set_key(key);
        p.set_value(std::string(size_t(bytes), char('a' + i % 26)));
        PutResponse out;
        grpc::ClientContext c;
        if (kv->Put(&c, p, &out).ok()) live += int64_t(p.key().size() + p.value().size());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::printf("%lld\n", static_cast<long long>(live.load()));
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: datastore_bench watch-latency|fill ENDPOINT [args]\n");
    return 2;
  }
  std::string mode = argv[1], ep = argv[2];
  if (mode == "watch-latency") {
    return watch_latency(ep, argc > 3 ? std::stoi(argv[3]) : 1000,
                         argc > 4 ? std::stoi(argv[4]) : 10);
  }
  if (mode == "fill") {
    return fill(ep, argc > 3 ? std::stoi(argv[3]) : 100000, argc > 4 ? std::stoi(argv[4]) : 1024);
  }
  return 2;
}

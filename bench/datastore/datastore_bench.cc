// bench-datastore: two etcd v3 measurements over gRPC, for cairn-datastore and etcd alike
// (the client of bench/datastore/run.sh).
//
//   bench-datastore latency ENDPOINT [RATE=1000] [SECONDS=10]
//     Opens one watch on a prefix, then writes RATE puts/s for SECONDS, paced over 32 writer
//     threads with blocking puts (enough in flight that a put taking up to ~30 ms still
//     leaves the offered rate reachable: the rate is the client's, not the server's). Each
//     put's value carries its send time (steady clock, same host); latency = event received
//     - put sent. Prints "p50_ms p99_ms max_ms events achieved_rate put_p50_ms put_p99_ms":
//     the last two are the puts' own latency (response received - sent), so the event
//     path's share of a tail shows as the difference. With BENCH_TIMELINE=FILE, also writes
//     "ms since the first put, latency ms" per event to FILE, after a "# first put at
//     CLOCK_MONOTONIC S s" line (to line it up with traces of the server).
//   bench-datastore fill ENDPOINT [KEYS=100000] [VALUE_BYTES=1024] [same|random]
//     Writes KEYS distinct keys of VALUE_BYTES each with 16 concurrent writers, retrying a
//     failed put a few times; prints "keys bytes seconds" (bytes = KEYS * VALUE_BYTES, the
//     live data of the memory ratios). `random` values are pseudo-random bytes
//     (incompressible, like real objects: a compressing snapshot must not flatter the
//     result); `same` (default) repeats one byte.
//
// ENDPOINT is a gRPC target: 127.0.0.1:PORT or unix:///path.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "datastore/proto/rpc.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<grpc::Channel> channel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

bool put(etcdserverpb::KV::Stub& kv, const std::string& key, const std::string& value) {
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  etcdserverpb::PutResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status st = kv.Put(&ctx, req, &resp);
  if (!st.ok()) std::fprintf(stderr, "put %s: %s\n", key.c_str(), st.error_message().c_str());
  return st.ok();
}

int latency(const std::string& endpoint, int rate, int seconds) {
  auto ch = channel(endpoint);
  auto watch_stub = etcdserverpb::Watch::NewStub(ch);
  grpc::ClientContext wctx;
  auto stream = watch_stub->Watch(&wctx);
  const std::string prefix = "/bench/watch/";
  etcdserverpb::WatchRequest wreq;
  wreq.mutable_create_request()->set_key(prefix);
  wreq.mutable_create_request()->set_range_end("/bench/watch0");  // prefix end: '/' + 1
  if (!stream->Write(wreq)) {
    std::fprintf(stderr, "watch: cannot open stream\n");
    return 1;
  }
  etcdserverpb::WatchResponse wresp;
  if (!stream->Read(&wresp) || !wresp.created()) {
    std::fprintf(stderr, "watch: not created\n");
    return 1;
  }

  std::vector<double> lat_ms;
  std::vector<std::pair<int64_t, double>> timeline;  // (put sent ns, latency ms)
  std::mutex mu;
  std::thread reader([&] {
    etcdserverpb::WatchResponse r;
    while (stream->Read(&r)) {
      int64_t t = now_ns();
      std::lock_guard lock(mu);
      for (const auto& ev : r.events()) {
        int64_t sent_ns = std::atoll(ev.kv().value().c_str());
        lat_ms.push_back(static_cast<double>(t - sent_ns) / 1e6);
        timeline.emplace_back(sent_ns, lat_ms.back());
      }
    }
  });

  // Paced writers: writer w sends its puts at start + (i * threads + w) / rate.
  const int threads = 32;
  const int64_t total = static_cast<int64_t>(rate) * seconds;
  std::atomic<int64_t> sent{0};
  std::vector<std::vector<double>> put_ms(threads);
  auto kv = etcdserverpb::KV::NewStub(ch);
  Clock::time_point start = Clock::now() + std::chrono::milliseconds(100);
  std::vector<std::thread> writers;
  for (int w = 0; w < threads; ++w) {
    writers.emplace_back([&, w] {
      for (int64_t n = w; n < total; n += threads) {
        std::this_thread::sleep_until(start + std::chrono::nanoseconds(n * 1000000000LL / rate));
        int64_t t0 = now_ns();
        if (put(*kv, prefix + std::to_string(n % 1000), std::to_string(t0))) {
          ++sent;
          put_ms[w].push_back(static_cast<double>(now_ns() - t0) / 1e6);
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  // Let the last events arrive, then close the stream.
  auto wait_until = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < wait_until) {
    {
      std::lock_guard lock(mu);
      if (static_cast<int64_t>(lat_ms.size()) >= sent.load()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  wctx.TryCancel();
  reader.join();
  if (const char* path = std::getenv("BENCH_TIMELINE")) {
    // Diagnostics: "ms since the first put, latency ms" per event, to see whether a tail is
    // periodic stalls (snapshots, trims) or spread out (CPU contention).
    std::sort(timeline.begin(), timeline.end());
    if (FILE* f = std::fopen(path, "w"); f && !timeline.empty()) {
      // steady_clock is CLOCK_MONOTONIC on Linux: lines up with `perf record -k mono` and
      // the server's own traces.
      std::fprintf(f, "# first put at CLOCK_MONOTONIC %.6f s\n",
                   static_cast<double>(timeline[0].first) / 1e9);
      for (auto& [at, ms] : timeline) {
        std::fprintf(f, "%.3f %.3f\n", static_cast<double>(at - timeline[0].first) / 1e6, ms);
      }
      std::fclose(f);
    }
  }
  std::sort(lat_ms.begin(), lat_ms.end());
  if (lat_ms.empty()) {
    std::fprintf(stderr, "no events received\n");
    return 1;
  }
  std::vector<double> acks;
  for (auto& v : put_ms) acks.insert(acks.end(), v.begin(), v.end());
  std::sort(acks.begin(), acks.end());
  auto pct = [](const std::vector<double>& v, double p) {
    return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
  };
  std::printf("%.2f %.2f %.2f %zu %.0f %.2f %.2f\n", pct(lat_ms, 0.50), pct(lat_ms, 0.99),
              lat_ms.back(), lat_ms.size(), static_cast<double>(sent.load()) / elapsed,
              pct(acks, 0.50), pct(acks, 0.99));
  return static_cast<int64_t>(lat_ms.size()) == sent.load() ? 0 : 1;
}

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t r = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>(r >> (8 * j));
  }
  return s;
}

int fill(const std::string& endpoint, int keys, int value_bytes, bool random_values) {
  auto ch = channel(endpoint);
  const int threads = 16;
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  auto start = Clock::now();
  std::vector<std::thread> writers;
  for (int w = 0; w < threads; ++w) {
    writers.emplace_back([&, w] {
      auto kv = etcdserverpb::KV::NewStub(ch);
      std::mt19937_64 rng(static_cast<uint64_t>(w) * 7919 + 1);
      std::string value(static_cast<size_t>(value_bytes), 'x');
      char key[64];
      for (int n = next++; n < keys && !failed; n = next++) {
        std::snprintf(key, sizeof key, "/bench/fill/%08d", n);
        if (random_values) value = random_bytes(rng, static_cast<size_t>(value_bytes));
        bool ok = false;
        for (int attempt = 0; attempt < 5 && !ok; ++attempt) {
          if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
          ok = put(*kv, key, value);
        }
        if (!ok) failed = true;
      }
    });
  }
  for (auto& t : writers) t.join();
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%d %lld %.1f\n", keys, static_cast<long long>(keys) * value_bytes, s);
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  std::string values = argc > 5 ? argv[5] : "same";
  if (argc < 3 || (mode != "latency" && mode != "fill") ||
      (values != "same" && values != "random")) {
    std::fprintf(stderr,
                 "usage: bench-datastore latency ENDPOINT [RATE] [SECONDS]\n"
                 "       bench-datastore fill ENDPOINT [KEYS] [VALUE_BYTES] [same|random]\n");
    return 2;
  }
  if (mode == "latency") {
    return latency(argv[2], argc > 3 ? std::atoi(argv[3]) : 1000,
                   argc > 4 ? std::atoi(argv[4]) : 10);
  }
  return fill(argv[2], argc > 3 ? std::atoi(argv[3]) : 100000, argc > 4 ? std::atoi(argv[4]) : 1024,
              values == "random");
}

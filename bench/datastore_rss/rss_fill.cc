// bench-datastore-rss-fill ENDPOINT KEYS VALUE_BYTES [THREADS]
// Puts KEYS distinct keys ("/registry/bench/rss/%08d") of VALUE_BYTES pseudo-random bytes
// (incompressible, like real objects: a compressing snapshot must not flatter the result)
// through the etcd v3 KV API from THREADS threads (default 8), retrying a failed put. Prints
// the live bytes (sum of key and value sizes) on stdout; exits 1 if a put keeps failing.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "datastore/proto/rpc.grpc.pb.h"

namespace {

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t r = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>(r >> (8 * j));
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench-datastore-rss-fill ENDPOINT KEYS VALUE_BYTES [THREADS]\n");
    return 2;
  }
  const std::string endpoint = argv[1];
  const int keys = std::atoi(argv[2]);
  const size_t value_bytes = static_cast<size_t>(std::atol(argv[3]));
  const int threads = argc > 4 ? std::atoi(argv[4]) : 8;
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  std::atomic<int> next{0};
  std::atomic<int64_t> live{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto kv = etcdserverpb::KV::NewStub(channel);
      std::mt19937_64 rng(static_cast<uint64_t>(t) * 7919 + 1);
      for (int i; !failed && (i = next++) < keys;) {
        etcdserverpb::PutRequest req;
        char key[64];
        std::snprintf(key, sizeof key, "/registry/bench/rss/%08d", i);
        req.set_key(key);
        req.set_value(random_bytes(rng, value_bytes));
        grpc::Status st;
        for (int attempt = 0; attempt < 20; ++attempt) {
          etcdserverpb::PutResponse resp;
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
          st = kv->Put(&ctx, req, &resp);
          if (st.ok()) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (!st.ok()) {
          std::fprintf(stderr, "put %s failed: %s\n", key, st.error_message().c_str());
          failed = true;
          return;
        }
        live += static_cast<int64_t>(req.key().size() + req.value().size());
      }
    });
  }
  for (auto& th : pool) th.join();
  if (failed) return 1;
  std::printf("%lld\n", static_cast<long long>(live.load()));
  return 0;
}

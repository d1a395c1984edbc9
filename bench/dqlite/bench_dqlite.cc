// bench-dqlite: write and query throughput/latency of an embedded libdqlite node through
// the cairn wire client, printed as a table.
//
//   bench-dqlite [--dir DIR] [--seconds S] [--value-bytes N] [--snapshot-threshold N]
//
// DIR defaults to a fresh directory under $TMPDIR (or /var/tmp, a real disk: raft fsyncs
// every commit, so the disk decides the single-write rate). Each scenario runs for about
// S seconds (default 3).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "datastore/dqlite/client.h"
#include "datastore/dqlite/node.h"

using namespace cairn::dqlite;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  std::string dir;
  double seconds = 3;
  size_t value_bytes = 256;
  unsigned snapshot_threshold = 0;
  unsigned snapshot_trailing = 0;
  uint64_t preload = 0;  // rows written before the scenarios (a realistic database size)
  bool keep_dir = false;
};

struct Result {
  std::string name;
  uint64_t ops = 0;   // operations (requests or transactions)
  uint64_t rows = 0;  // rows written or read
  double seconds = 0;
  std::vector<double> latencies_us;  // per operation
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

void print(Result& r) {
  std::string p50 = "-", p99 = "-";
  if (!r.latencies_us.empty()) {
    p50 = std::to_string(static_cast<long>(percentile(r.latencies_us, 0.50)));
    p99 = std::to_string(static_cast<long>(percentile(r.latencies_us, 0.99)));
  }
  std::printf("| %-46s | %10.0f | %10.0f | %9s | %9s |\n", r.name.c_str(),
              static_cast<double>(r.ops) / r.seconds, static_cast<double>(r.rows) / r.seconds,
              p50.c_str(), p99.c_str());
  std::fflush(stdout);
}

// Runs `op` repeatedly for cfg.seconds; op returns the number of rows it handled.
Result run(const Config& cfg, const std::string& name, const std::function<uint64_t()>& op) {
  Result r;
  r.name = name;
  auto start = Clock::now();
  auto end = start + std::chrono::duration<double>(cfg.seconds);
  Clock::time_point now = start;
  while (now < end) {
    auto t0 = Clock::now();
    r.rows += op();
    now = Clock::now();
    r.ops++;
    r.latencies_us.push_back(std::chrono::duration<double, std::micro>(now - t0).count());
  }
  r.seconds = std::chrono::duration<double>(now - start).count();
  return r;
}

std::unique_ptr<Client> connect(const Node& node) {
  ClientOptions co;
  co.addresses = {node.address()};
  co.connect_timeout_ms = 30000;
  co.request_timeout_ms = 60000;
  auto c = Client::connect(co);
  c->open("bench");
  return c;
}

std::string key(uint64_t n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "/registry/pods/default/pod-%012llu",
                static_cast<unsigned long long>(n));
  return buf;
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench-dqlite: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--dir") {
      c.dir = next();
      c.keep_dir = true;
    } else if (a == "--seconds") {
      c.seconds = std::atof(next().c_str());
    } else if (a == "--value-bytes") {
      c.value_bytes = static_cast<size_t>(std::atol(next().c_str()));
    } else if (a == "--snapshot-trailing") {
      c.snapshot_trailing = static_cast<unsigned>(std::atol(next().c_str()));
    } else if (a == "--preload") {
      c.preload = static_cast<uint64_t>(std::atoll(next().c_str()));
    } else if (a == "--snapshot-threshold") {
      c.snapshot_threshold = static_cast<unsigned>(std::atol(next().c_str()));
    } else {
      std::fprintf(stderr,
                   "usage: bench-dqlite [--dir DIR] [--seconds S] [--value-bytes N] "
                   "[--snapshot-threshold N] [--snapshot-trailing N] [--preload ROWS]\n");
      std::exit(2);
    }
  }
  if (c.dir.empty()) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/var/tmp") + "/bench-dqlite-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    c.dir = tmpl;
  }
  return c;
}

// The disk's synchronous-write rate in the data dir: raft writes its log with O_DSYNC, so
// one-commit-per-write throughput cannot beat this.
double dsync_writes_per_second(const std::string& dir, double seconds) {
  std::string path = dir + "/dsync-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DSYNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  std::vector<char> block(4096, 'x');
  uint64_t n = 0;
  auto start = Clock::now();
  auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>((n % 256) * 4096)) < 0) break;
    ++n;
  }
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  ::unlink(path.c_str());
  return static_cast<double>(n) / s;
}

// Resident set size of this process (node + client) in MiB.
double rss_mib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  double kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::atof(line + 6);
  }
  std::fclose(f);
  return kib / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg = parse(argc, argv);
  NodeOptions no;
  no.data_dir = cfg.dir + "/node";
  no.bind_address = "@bench-dqlite-" + std::to_string(::getpid());
  no.snapshot_threshold = cfg.snapshot_threshold;
  no.snapshot_trailing = cfg.snapshot_trailing;
  if (cfg.snapshot_threshold != 0 && cfg.snapshot_trailing == 0) {
    no.snapshot_trailing = std::max(8192u, cfg.snapshot_threshold);
  }
  try {
    std::filesystem::create_directories(cfg.dir);
    double dsync = dsync_writes_per_second(cfg.dir, 1.0);
    auto t_start = Clock::now();
    auto node = Node::start(no);
    double start_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_start).count();
    auto c = connect(*node);
    c->exec_sql(
        "CREATE TABLE kv (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
        "value BLOB, rev INTEGER)");
    c->exec_sql("CREATE INDEX kv_name ON kv (name, id)");
    const Blob value(cfg.value_bytes, 0x5a);
    uint64_t next = 0;

    auto ins = c->prepare("INSERT INTO kv (name, value, rev) VALUES (?, ?, ?)");
    if (cfg.preload > 0) {
      auto t0 = Clock::now();
      std::vector<Client::Exec> items;
      while (next < cfg.preload) {
        items.clear();
        items.push_back({0, "BEGIN", {}});
        for (int i = 0; i < 1000 && next < cfg.preload; ++i) {
          ++next;
          items.push_back({ins, "", {key(next), value, static_cast<int64_t>(next)}});
        }
        c->exec_pipelined(items);
        c->exec_sql("COMMIT");
      }
      std::printf("preloaded %llu rows in %.1f s\n\n", static_cast<unsigned long long>(next),
                  std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::printf(
        "dqlite %s, data dir %s, value %zu bytes, %.1f s per row\n"
        "disk: %.0f synchronous 4 KiB writes/s; node bootstrap to serving: %.0f ms\n\n",
        library_version().c_str(), cfg.dir.c_str(), cfg.value_bytes, cfg.seconds, dsync, start_ms);
    std::printf("| %-46s | %10s | %10s | %9s | %9s |\n", "scenario", "ops/s", "rows/s", "p50 us",
                "p99 us");
    std::printf("|%s|%s|%s|%s|%s|\n", std::string(48, '-').c_str(), std::string(12, '-').c_str(),
                std::string(12, '-').c_str(), std::string(11, '-').c_str(),
                std::string(11, '-').c_str());

    Result r = run(cfg, "INSERT 1 row, prepared (1 raft commit each)", [&] {
      ++next;
      c->exec(ins, {key(next), value, static_cast<int64_t>(next)});
      return 1;
    });
    print(r);

    r = run(cfg, "INSERT 1 row, EXEC_SQL (parse each time)", [&] {
      ++next;
      c->exec_sql("INSERT INTO kv (name, value, rev) VALUES (?, ?, ?)",
                  {key(next), value, static_cast<int64_t>(next)});
      return 1;
    });
    print(r);

    for (int batch : {10, 100, 1000}) {
      r = run(cfg, "BEGIN + " + std::to_string(batch) + " INSERTs + COMMIT", [&] {
        c->exec_sql("BEGIN");
        for (int i = 0; i < batch; ++i) {
          ++next;
          c->exec(ins, {key(next), value, static_cast<int64_t>(next)});
        }
        c->exec_sql("COMMIT");
        return static_cast<uint64_t>(batch);
      });
      print(r);
    }

    for (int batch : {100, 1000}) {
      std::vector<Client::Exec> items;
      r = run(cfg, "pipelined BEGIN + " + std::to_string(batch) + " INSERTs, COMMIT", [&] {
        items.clear();
        items.push_back({0, "BEGIN", {}});
        for (int i = 0; i < batch; ++i) {
          ++next;
          items.push_back({ins, "", {key(next), value, static_cast<int64_t>(next)}});
        }
        c->exec_pipelined(items);
        c->exec_sql("COMMIT");
        return static_cast<uint64_t>(batch);
      });
      print(r);
    }

    // One statement inserting 85 rows (255 params: the protocol v1 maximum).
    {
      constexpr int kRows = 85;
      std::string sql = "INSERT INTO kv (name, value, rev) VALUES ";
      for (int i = 0; i < kRows; ++i) sql += i ? ",(?,?,?)" : "(?,?,?)";
      auto multi = c->prepare(sql);
      std::vector<Value> params;
      params.reserve(kRows * 3);
      r = run(cfg, "multi-row INSERT, 85 rows in 1 statement", [&] {
        params.clear();
        for (int i = 0; i < kRows; ++i) {
          ++next;
          params.emplace_back(key(next));
          params.emplace_back(value);
          params.emplace_back(static_cast<int64_t>(next));
        }
        c->exec(multi, params);
        return static_cast<uint64_t>(kRows);
      });
      print(r);
      c->finalize(multi);
    }

    // Concurrent single-row writers, each on its own connection (dqlite serializes them).
    for (int writers : {4}) {
      std::vector<std::unique_ptr<Client>> clients;
      for (int i = 0; i < writers; ++i) clients.push_back(connect(*node));
      std::atomic<uint64_t> seq{next + 1000000000};
      std::atomic<uint64_t> done{0};
      std::atomic<uint64_t> busy{0};
      std::atomic<bool> stop{false};
      std::vector<std::thread> threads;
      auto t0 = Clock::now();
      for (auto& cl : clients) {
        threads.emplace_back([&, client = cl.get()] {
          auto st = client->prepare("INSERT INTO kv (name, value, rev) VALUES (?, ?, ?)");
          while (!stop) {
            uint64_t n = seq++;
            try {
              client->exec(st, {key(n), value, static_cast<int64_t>(n)});
              done++;
            } catch (const Error& e) {
              if (!e.retryable()) throw;
              busy++;
            }
          }
        });
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(cfg.seconds));
      stop = true;
      for (auto& t : threads) t.join();
      Result cr;
      cr.name = std::to_string(writers) + " concurrent writers, 1 row each (" +
                std::to_string(busy.load()) + " BUSY)";
      cr.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      cr.ops = cr.rows = done;
      print(cr);
    }

    // Reads.
    Rows total = c->query_sql("SELECT count(*), max(id) FROM kv");
    int64_t max_id = std::get<int64_t>(total.rows[0][1]);
    auto point = c->prepare("SELECT name, value, rev FROM kv WHERE id = ?");
    uint64_t probe = 0;
    r = run(cfg, "SELECT 1 row by primary key (prepared)", [&] {
      probe = (probe * 2654435761u + 1) % static_cast<uint64_t>(max_id);
      return c->query(point, {static_cast<int64_t>(probe + 1)}).rows.size();
    });
    print(r);
    auto range =
        c->prepare("SELECT name, value, rev FROM kv WHERE name >= ? ORDER BY name LIMIT 100");
    r = run(cfg, "SELECT 100 rows by index range", [&] {
      probe = (probe * 2654435761u + 1) % static_cast<uint64_t>(max_id);
      return c->query(range, {key(probe)}).rows.size();
    });
    print(r);
    r = run(cfg, "SELECT 10000 rows (multi-batch ROWS)", [&] {
      return c->query_sql("SELECT name, value, rev FROM kv LIMIT 10000").rows.size();
    });
    print(r);
    Rows pages = c->query_sql("PRAGMA page_count");
    Rows page_size = c->query_sql("PRAGMA page_size");
    double db_mib = static_cast<double>(std::get<int64_t>(pages.rows.at(0).at(0)) *
                                        std::get<int64_t>(page_size.rows.at(0).at(0))) /
                    (1024.0 * 1024.0);
    std::printf("\n%lld rows in the table at the end; database %.1f MiB; process RSS %.1f MiB\n",
                static_cast<long long>(std::get<int64_t>(total.rows[0][0])), db_mib, rss_mib());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-dqlite: %s\n", e.what());
    return 1;
  }
  if (!cfg.keep_dir) {
    std::error_code ec;
    std::filesystem::remove_all(cfg.dir, ec);
  }
  return 0;
}

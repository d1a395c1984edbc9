// Command line of cairn-datastore (in the spirit of k8s-dqlite):
//   --storage-dir DIR      dqlite data and the format marker (alias: --data-dir)
//   --listen URL           unix:///path.sock or tcp://IP:PORT; repeatable
//                          (default unix://DIR/datastore.sock)
//   --tls-cert F --tls-key F [--tls-client-ca F]
//                          TLS for tcp listeners; with a client CA, clients must present a
//                          certificate it signed
//   --progress-interval-ms N   watch progress_notify period (default 600000, as etcd)
//   --snapshot-threshold N --snapshot-trailing N
//                          raft snapshot every N entries, keeping N entries behind it
//                          (defaults below; raft holds those entries in memory)
//   --snapshot-log-ratio R  pace snapshots: past the threshold, also wait until the log
//                          since the last snapshot is >= 1/R of that snapshot (a copy of the
//                          whole database); default 8, 0 = every threshold entries
//                          (datastore/dqlite/raft_io_settings.h)
//   --raft-io-destroy background|inline
//                          where libraft's io_destroy(2) runs: background (default) or
//                          inline on dqlite's loop thread, which then stalls every commit
//                          ~30 ms per segment roll-over and snapshot (for A/B measurements)
//   --commit-linger-us N --commit-linger-gap-us N --commit-linger-min-batch N
//                          group-commit window under load: after a batch of at least the
//                          minimum, wait up to N us for a batch twice its size, less when
//                          no request arrives for the gap (0 = off; mvcc::StoreOptions::linger)
//   --snapshot-compression on|off
//                          LZ4-compress raft snapshots (default on: fewer bytes written
//                          per snapshot; off saves CPU, see datastore/dqlite/raft_io_settings.h)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cairn::datastore::cli {

struct Listen {
  enum class Kind { kUnix, kTcp } kind;
  std::string path_or_host_port;  // "/path.sock" or "127.0.0.1:2379"
  std::string url;                // as given
};

struct Options {
  std::string storage_dir;
  std::vector<Listen> listen;
  std::string tls_cert, tls_key, tls_client_ca;
  int64_t progress_interval_ms = 600000;
  // Raft keeps every entry since the last snapshot plus `trailing` older ones in memory, and
  // each entry carries the 4 KiB pages its transaction wrote. See docs/datastore.md, "Memory".
  unsigned snapshot_threshold = 128;
  unsigned snapshot_trailing = 128;
  // Snapshot pacing (datastore/dqlite/raft_io_settings.h): the log since the last snapshot
  // must reach 1/R of its size too (at most 64 x snapshot_threshold entries). 0 = off (raft
  // then holds less log in memory; docs/benchmarks.md "load l, session 7").
  unsigned snapshot_log_ratio = 8;
  // Group-commit window (docs/datastore.md, "Writes"): off by default (0); 10000 is the
  // measured setting.
  unsigned commit_linger_us = 0;          // --commit-linger-us
  unsigned commit_linger_gap_us = 4000;   // --commit-linger-gap-us
  unsigned commit_linger_min_batch = 16;  // --commit-linger-min-batch
  bool inline_io_destroy = false;         // --raft-io-destroy inline
  bool snapshot_compression = true;       // --snapshot-compression on|off
  bool help = false;
};

// Throws std::invalid_argument with a message naming the flag and the problem.
Options parse_options(int argc, char** argv);
Listen parse_listen(const std::string& url);
const char* usage();

}  // namespace cairn::datastore::cli

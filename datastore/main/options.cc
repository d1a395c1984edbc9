#include "datastore/main/options.h"

#include <stdexcept>

namespace cairn::datastore::cli {
namespace {

unsigned parse_count(const std::string& flag, const std::string& v, unsigned min) {
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used == v.size() && n >= min && n <= 1000000000) return static_cast<unsigned>(n);
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(flag + ": '" + v + "' is not a number from " + std::to_string(min) +
                              " to 1000000000");
}

}  // namespace

const char* usage() {
  return "usage: cairn-datastore --storage-dir DIR [--listen unix:///path.sock|tcp://IP:PORT]...\n"
         "       [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]\n"
         "       [--progress-interval-ms N] [--snapshot-threshold N] [--snapshot-trailing N]\n"
         "       [--snapshot-log-ratio N]\n"
         "       [--raft-io-destroy background|inline] [--snapshot-compression on|off]\n"
         "       [--commit-linger-us N] [--commit-linger-gap-us N] [--commit-linger-min-batch N]\n";
}

Listen parse_listen(const std::string& url) {
  if (url.rfind("unix://", 0) == 0) {
    std::string path = url.substr(7);
    if (path.empty() || path[0] != '/') {
      throw std::invalid_argument("--listen " + url + ": unix socket path must be absolute");
    }
    return {Listen::Kind::kUnix, path, url};
  }
  if (url.rfind("tcp://", 0) == 0) {
    std::string hp = url.substr(6);
    auto colon = hp.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == hp.size()) {
      throw std::invalid_argument("--listen " + url + ": expected tcp://HOST:PORT");
    }
    for (size_t i = colon + 1; i < hp.size(); ++i) {
      if (hp[i] < '0' || hp[i] > '9') {
        throw std::invalid_argument("--listen " + url + ": port is not a number");
      }
    }
    return {Listen::Kind::kTcp, hp, url};
  }
  throw std::invalid_argument("--listen " + url + ": scheme must be unix:// or tcp://");
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    auto eq = arg.find('=');
    bool inline_value = arg.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inline_value) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto need = [&]() -> std::string {
      if (inline_value) return value;
      if (i + 1 >= argc) throw std::invalid_argument(arg + ": missing value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      o.help = true;
    } else if (arg == "--storage-dir" || arg == "--data-dir") {
      o.storage_dir = need();
    } else if (arg == "--listen") {
      o.listen.push_back(parse_listen(need()));
    } else if (arg == "--tls-cert") {
      o.tls_cert = need();
    } else if (arg == "--tls-key") {
      o.tls_key = need();
    } else if (arg == "--tls-client-ca") {
      o.tls_client_ca = need();
    } else if (arg == "--progress-interval-ms") {
      std::string v = need();
      try {
        size_t used = 0;
        o.progress_interval_ms = std::stoll(v, &used);
        if (used != v.size() || o.progress_interval_ms <= 0) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        throw std::invalid_argument("--progress-interval-ms: '" + v + "' is not a positive number");
      }
    } else if (arg == "--snapshot-threshold") {
      o.snapshot_threshold = parse_count(arg, need(), 1);
    } else if (arg == "--snapshot-trailing") {
      o.snapshot_trailing = parse_count(arg, need(), 4);
    } else if (arg == "--snapshot-log-ratio") {
      o.snapshot_log_ratio = parse_count(arg, need(), 0);
    } else if (arg == "--commit-linger-us") {
      o.commit_linger_us = parse_count(arg, need(), 0);
    } else if (arg == "--commit-linger-gap-us") {
      o.commit_linger_gap_us = parse_count(arg, need(), 1);
    } else if (arg == "--commit-linger-min-batch") {
      o.commit_linger_min_batch = parse_count(arg, need(), 1);
    } else if (arg == "--raft-io-destroy") {
      std::string v = need();
      if (v != "background" && v != "inline") {
        throw std::invalid_argument("--raft-io-destroy: '" + v +
                                    "' is not 'background' or 'inline'");
      }
      o.inline_io_destroy = v == "inline";
    } else if (arg == "--snapshot-compression") {
      std::string v = need();
      if (v != "on" && v != "off") {
        throw std::invalid_argument("--snapshot-compression: '" + v + "' is not 'on' or 'off'");
      }
      o.snapshot_compression = v == "on";
    } else {
      throw std::invalid_argument("unknown argument '" + arg + "'");
    }
  }
  if (o.help) return o;
  if (o.storage_dir.empty()) throw std::invalid_argument("--storage-dir is required");
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    throw std::invalid_argument("--tls-cert and --tls-key must be given together");
  }
  if (!o.tls_client_ca.empty() && o.tls_cert.empty()) {
    throw std::invalid_argument("--tls-client-ca needs --tls-cert and --tls-key");
  }
  if (o.snapshot_trailing < o.snapshot_threshold) {
    throw std::invalid_argument("--snapshot-trailing (" + std::to_string(o.snapshot_trailing) +
                                ") must be >= --snapshot-threshold (" +
                                std::to_string(o.snapshot_threshold) + ")");
  }
  if (o.listen.empty())
    o.listen.push_back(parse_listen("unix://" + o.storage_dir + "/datastore.sock"));
  return o;
}

}  // namespace cairn::datastore::cli

// prune_cache and the `cairn-image cache` reports (cache_prune.h: the eviction order).
#include "image/cache/cache_prune.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

std::string days(int64_t seconds) {
  return std::to_string(seconds / 86400) + (seconds / 86400 == 1 ? " day" : " days");
}

std::string utc(int64_t t) {
  if (t <= 0) return "-";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M", &tm);
  return buffer;
}

std::string limits_text(const CacheLimits& limits) {
  std::string size = limits.max_bytes ? format_bytes(limits.max_bytes) : "no size limit";
  std::string age =
      limits.max_age_seconds ? "unused for " + days(limits.max_age_seconds) : "no age limit";
  return size + ", " + age;
}

class Pruner {
 public:
  Pruner(CacheFs& fs, const fs::path& dir, const PruneRequest& request)
      : fs_(fs), dir_(dir), request_(request), entries_(scan_cache(fs, dir)) {
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].state == EntryState::kUnmanaged) continue;
      alive_.insert(i);
      report_.bytes_before += entries_[i].bytes;
      for (const auto& deb : entries_[i].needs) ++needed_[deb];
    }
  }

  PruneReport run() {
    const int64_t now = fs_.now();
    const auto& limits = request_.limits;
    // Never usable again, whatever the limits.
    for (size_t i : snapshot()) {
      const auto& e = entries_[i];
      if (e.state == EntryState::kLeftover) evict(i, e.detail);
      if (e.state == EntryState::kObsolete) evict(i, "obsolete: " + e.detail);
    }
    if (request_.clean) {
      // Package sets first, so the .debs they list are free to go too.
      for (size_t i : snapshot())
        if (entries_[i].kind != "deb") evict(i, "clean");
      for (size_t i : snapshot()) evict(i, "clean");
    }
    if (limits.max_age_seconds > 0) {
      for (bool debs : {false, true})
        for (size_t i : snapshot()) {
          const auto& e = entries_[i];
          if ((e.kind == "deb") != debs || e.kind == "pointer" || !evictable_by_limits(e)) continue;
          if (now - e.last_use > limits.max_age_seconds)
            evict(i, "unused for " + days(now - e.last_use));
        }
    }
    if (limits.max_bytes > 0) {
      std::set<size_t> tried;
      while (total() > limits.max_bytes) {
        auto next = next_for_size(tried);
        if (!next) break;
        tried.insert(*next);
        evict(*next, "least recently used (cache over " + format_bytes(limits.max_bytes) + ")");
      }
    }
    report_.bytes_after = total();
    return report_;
  }

 private:
  std::vector<size_t> snapshot() const { return {alive_.begin(), alive_.end()}; }

  uint64_t total() const {
    uint64_t sum = 0;
    for (size_t i : alive_) sum += entries_[i].bytes;
    return sum;
  }

  // A .deb a kept package set lists stays (as long as that set does).
  bool evictable_by_limits(const CacheEntry& e) const {
    if (e.kind != "deb") return true;
    auto it = needed_.find(e.name);
    return it == needed_.end() || it->second == 0;
  }

  // Tier 0: entries without a .meta; 1: .debs nothing kept needs; 2: current entries.
  // Least recently used first within a tier. .current pointers (a few bytes) stay.
  std::optional<size_t> next_for_size(const std::set<size_t>& tried) const {
    std::optional<size_t> best;
    auto rank = [&](size_t i) {
      const auto& e = entries_[i];
      int tier = e.state == EntryState::kLegacy ? 0 : e.kind == "deb" ? 1 : 2;
      return std::make_tuple(tier, e.last_use, e.name);
    };
    for (size_t i : alive_) {
      const auto& e = entries_[i];
      if (tried.count(i) || e.kind == "pointer" || !evictable_by_limits(e)) continue;
      if (!best || rank(i) < rank(*best)) best = i;
    }
    return best;
  }

  void evict(size_t i, const std::string& reason) {
    if (!alive_.count(i)) return;
    const auto& e = entries_[i];
    std::shared_ptr<void> lock;
    if (!request_.dry_run) {
      if (!e.lock.empty()) {
        lock = fs_.try_lock_exclusive(dir_ / e.lock);
        if (!lock) {
          if (std::find(report_.in_use.begin(), report_.in_use.end(), e.name) ==
              report_.in_use.end())
            report_.in_use.push_back(e.name);
          return;
        }
      }
      for (const auto& f : e.files) {
        std::string error = fs_.remove(dir_ / f);
        if (!error.empty()) report_.errors.push_back(error);
      }
    }
    alive_.erase(i);
    for (const auto& deb : e.needs) --needed_[deb];
    report_.evicted.push_back({e.name, e.bytes, reason});
  }

  CacheFs& fs_;
  fs::path dir_;
  PruneRequest request_;
  std::vector<CacheEntry> entries_;
  std::set<size_t> alive_;
  std::map<std::string, int> needed_;
  PruneReport report_;
};

}  // namespace

PruneReport prune_cache(CacheFs& fs, const fs::path& dir, const PruneRequest& request) {
  return Pruner(fs, dir, request).run();
}

std::string format_cache_info(const fs::path& dir, const std::vector<CacheEntry>& entries,
                              const CacheLimits& limits) {
  std::map<std::string, int> needed;
  for (const auto& e : entries)
    for (const auto& deb : e.needs) ++needed[deb];
  uint64_t managed = 0, unmanaged = 0;
  size_t count = 0;
  std::string rows;
  auto row = [&](const std::string& kind, const std::string& state, uint64_t bytes, int64_t last,
                 const std::string& name, const std::string& detail) {
    char line[512];
    std::snprintf(line, sizeof line, "%-12s %-9s %10s  %-16s  %s%s%s\n", kind.c_str(),
                  state.c_str(), format_bytes(bytes).c_str(), utc(last).c_str(), name.c_str(),
                  detail.empty() ? "" : "  ", detail.c_str());
    rows += line;
  };
  // .debs: one line per directory (there are hundreds).
  struct DebDir {
    size_t count = 0, needed = 0;
    uint64_t bytes = 0, needed_bytes = 0;
    int64_t last = 0;
  };
  std::map<std::string, DebDir> deb_dirs;
  for (const auto& e : entries) {
    (e.state == EntryState::kUnmanaged ? unmanaged : managed) += e.bytes;
    if (e.state != EntryState::kUnmanaged) ++count;
    if (e.kind == "deb") {
      auto& d = deb_dirs[e.name.substr(0, e.name.rfind('/'))];
      ++d.count;
      d.bytes += e.bytes;
      d.last = std::max(d.last, e.last_use);
      if (needed.count(e.name)) ++d.needed, d.needed_bytes += e.bytes;
      continue;
    }
    row(e.kind, entry_state_name(e.state), e.bytes, e.last_use, e.name, e.detail);
  }
  for (const auto& [name, d] : deb_dirs)
    row("debs", "current", d.bytes, d.last, name + "/",
        std::to_string(d.count) + " .debs, " + std::to_string(d.needed) + " (" +
            format_bytes(d.needed_bytes) + ") listed by a cached package set");
  std::string out = "cache " + dir.string() + ": " + format_bytes(managed) + " in " +
                    std::to_string(count) + " entries";
  if (unmanaged) out += " (+ " + format_bytes(unmanaged) + " not managed by cairn-image)";
  out += "\nlimits: " + limits_text(limits) +
         " (CAIRN_IMAGE_CACHE_MAX_SIZE, CAIRN_IMAGE_CACHE_MAX_AGE); enforced after each build\n";
  if (limits.max_bytes && managed > limits.max_bytes)
    out += "over the size limit: `cairn-image cache prune` (or the next build) evicts\n";
  if (!rows.empty()) {
    char header[256];
    std::snprintf(header, sizeof header, "%-12s %-9s %10s  %-16s  %s\n", "KIND", "STATE", "SIZE",
                  "LAST USE (UTC)", "ENTRY");
    out += std::string("\n") + header + rows;
  }
  return out;
}

std::string format_prune_report(const PruneReport& report, bool dry_run) {
  std::string out;
  uint64_t freed = 0;
  for (const auto& e : report.evicted) {
    out += std::string(dry_run ? "would evict " : "evicted ") + e.name + " (" +
           format_bytes(e.bytes) + "): " + e.reason + "\n";
    freed += e.bytes;
  }
  for (const auto& name : report.in_use) out += "kept " + name + ": in use by a running build\n";
  for (const auto& error : report.errors) out += "error: " + error + "\n";
  out += std::string(dry_run ? "would free " : "freed ") + format_bytes(freed) + " in " +
         std::to_string(report.evicted.size()) + " entries; cache " +
         format_bytes(report.bytes_before) + " -> " + format_bytes(report.bytes_after) + "\n";
  return out;
}

}  // namespace cairn::image

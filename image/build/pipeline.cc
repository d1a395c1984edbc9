#include "image/build/pipeline.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "image/build/manifest.h"
#include "image/cache/cache_prune.h"
#include "image/util/process.h"

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_signal(int signal) {
  g_interrupted = signal;
  int child = current_child_pid();
  if (child > 0) kill(child, SIGTERM);
}

struct SignalGuard {
  struct sigaction old_int {
  }, old_term{}, old_hup{};
  SignalGuard() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    sigaction(SIGHUP, &old_hup, nullptr);
  }
};

// --out is replaced wholesale when a build succeeds, so it must be new, empty, or an earlier
// cairn-image output (its manifest.json names the manifest format). Anything else - a home
// directory, a folder of other images - would be deleted: refuse before doing any work.
std::string out_dir_problem(const fs::path& out) {
  std::error_code ec;
  auto status = fs::symlink_status(out, ec);
  if (ec || status.type() == fs::file_type::not_found) return {};
  if (status.type() != fs::file_type::directory) return "it exists and is not a directory";
  if (fs::is_empty(out, ec) && !ec) return {};
  std::ifstream manifest(out / kManifestFile);
  std::string head(256, '\0');
  manifest.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(manifest.gcount()));
  if (is_manifest_head(head)) return {};
  return "it holds files but no cairn-image manifest.json, so it is not an earlier image output "
         "and replacing it would delete them (give a new or empty directory)";
}

void remove_quietly(const fs::path& p) {
  if (p.empty()) return;
  std::error_code ec;
  fs::remove_all(p, ec);
}

// After a successful build (its own cache entries still locked, so they stay): evict down to
// the configured bounds. Never fails the build: a cache that cannot be pruned is a warning.
void enforce_cache_limits(const BuildOptions& options) {
  if (!options.cache_limits || options.cache_dir.empty()) return;
  try {
    auto fs = make_real_cache_fs();
    PruneRequest request;
    request.limits = *options.cache_limits;
    PruneReport report = prune_cache(*fs, options.cache_dir, request);
    if (!report.evicted.empty() || !report.errors.empty())
      std::fprintf(stderr, "cairn-image: cache %s: evicted %zu entries, %s -> %s\n",
                   options.cache_dir.c_str(), report.evicted.size(),
                   format_bytes(report.bytes_before).c_str(),
                   format_bytes(report.bytes_after).c_str());
    for (const auto& error : report.errors)
      std::fprintf(stderr, "cairn-image: warning: cache: %s\n", error.c_str());
    if (request.limits.max_bytes && report.bytes_after > request.limits.max_bytes)
      std::fprintf(stderr,
                   "cairn-image: warning: cache %s is %s, over its %s limit: the rest is in use "
                   "by running builds\n",
                   options.cache_dir.c_str(), format_bytes(report.bytes_after).c_str(),
                   format_bytes(request.limits.max_bytes).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn-image: warning: cache %s not pruned: %s\n",
                 options.cache_dir.c_str(), e.what());
  }
}

// Work directories under `parent` whose build is gone (no flock on them) and that were not
// kept for debugging: a SIGKILLed build cannot clean up after itself, and on a tmpfs its tree
// would hold memory until reboot.
void remove_stale_work(const fs::path& parent) {
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind("cairn-image-", 0) != 0 || name.find(".work-") == std::string::npos) continue;
    if (fs::exists(it->path() / "KEPT")) continue;
    int fd = open(it->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) remove_quietly(it->path());
    close(fd);
  }
}

std::string seconds(std::chrono::steady_clock::duration d) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1fs", std::chrono::duration<double>(d).count());
  return buffer;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> BuildContext::tool_env() const {
  return {{"SOURCE_DATE_EPOCH", std::to_string(epoch)},
          {"E2FSPROGS_FAKE_TIME", std::to_string(epoch)},
          {"LC_ALL", "C.UTF-8"},
          {"TZ", "UTC"}};
}

std::vector<Stage> build_stages() {
  return {{"validate", stage_validate},
          {"rootfs", stage_rootfs},
          {"install", stage_install},
          {"initramfs", stage_initramfs},
          {"root-image", stage_root_image},
          {"boot-partition", stage_boot_partition},
          {"data-partition", stage_data_partition},
          {"disk", stage_disk},
          {"outputs", stage_outputs}};
}

int run_build(const BuildOptions& options, const std::vector<Stage>& stages) {
  SignalGuard guard;
  g_interrupted = 0;
  BuildContext ctx;
  ctx.options = options;
  fs::path out = fs::absolute(options.out_dir).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();
  ctx.options.out_dir = out;
  std::string suffix = std::to_string(getpid());
  ctx.work = out.parent_path() / ("." + out.filename().string() + ".work-" + suffix);
  int work_lock = -1;
  if (!options.work_parent.empty())
    ctx.work = options.work_parent / ("cairn-image-" + out.filename().string() + ".work-" + suffix);
  ctx.staging = out.parent_path() / ("." + out.filename().string() + ".partial-" + suffix);
  ctx.rootfs = ctx.work / "rootfs";
  if (std::string problem = out_dir_problem(out); !problem.empty()) {
    std::fprintf(stderr, "cairn-image: --out %s: %s; nothing was built\n", out.c_str(),
                 problem.c_str());
    return 1;
  }

  auto started = std::chrono::steady_clock::now();
  size_t index = 0;
  const char* current = "setup";
  try {
    fs::create_directories(out.parent_path());
    remove_quietly(ctx.work);
    remove_quietly(ctx.staging);
    if (!options.work_parent.empty()) {
      fs::create_directories(options.work_parent);
      remove_stale_work(options.work_parent);
    }
    fs::create_directories(ctx.work);
    fs::create_directories(ctx.staging);
    if (!options.work_parent.empty()) {
      work_lock = open(ctx.work.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (work_lock < 0 || flock(work_lock, LOCK_EX | LOCK_NB) != 0)
        throw std::runtime_error("cannot lock the work directory " + ctx.work.string());
    }
    for (const auto& stage : stages) {
      ++index;
      current = stage.name;
      std::fprintf(stderr, "[%zu/%zu] %-15s ...\n", index, stages.size(), stage.name);
      auto t0 = std::chrono::steady_clock::now();
      stage.run(ctx);
      if (g_interrupted)
        throw std::runtime_error("interrupted by signal " + std::to_string(g_interrupted));
      std::fprintf(stderr, "[%zu/%zu] %-15s done in %s\n", index, stages.size(), stage.name,
                   seconds(std::chrono::steady_clock::now() - t0).c_str());
    }
    current = "publish";
    // Swap the finished output in: the old one is moved aside first so a crash in between
    // never leaves a mix of old and new files.
    fs::path old = out.parent_path() / ("." + out.filename().string() + ".old-" + suffix);
    bool had_old = fs::exists(out);
    if (had_old) fs::rename(out, old);
    fs::rename(ctx.staging, out);
    if (had_old) remove_quietly(old);
    if (!options.keep_work)
      remove_quietly(ctx.work);
    else
      std::ofstream(ctx.work / "KEPT") << "--keep-work\n";
  } catch (const std::exception& e) {
    std::string reason =
        g_interrupted ? "interrupted (signal " + std::to_string(g_interrupted) + "): " + e.what()
                      : e.what();
    std::fprintf(stderr, "cairn-image: stage '%s' failed: %s\n", current, reason.c_str());
    remove_quietly(ctx.staging);
    if (!options.keep_work)
      remove_quietly(ctx.work);
    else {
      std::ofstream(ctx.work / "KEPT") << "--keep-work\n";
      std::fprintf(stderr, "cairn-image: work directory kept at %s\n", ctx.work.c_str());
    }
    if (work_lock >= 0) close(work_lock);
    std::fprintf(stderr, "cairn-image: no image written; %s is unchanged\n", out.c_str());
    return 1;
  }
  std::fprintf(stderr, "cairn-image: built %s in %s\n", out.c_str(),
               seconds(std::chrono::steady_clock::now() - started).c_str());
  if (work_lock >= 0) close(work_lock);
  enforce_cache_limits(options);
  return 0;
}

}  // namespace cairn::image

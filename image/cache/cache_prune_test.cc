// scan_cache / prune_cache over an in-memory cache (the CacheFs seam): which entries go in
// which order, what is kept (in use, needed .debs, not cairn-image's), and the reports.
#include "image/cache/cache_prune.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "image/cache/cache_meta.h"

namespace cairn::image {
namespace {
namespace fs = std::filesystem;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kDay = 86400;
constexpr uint64_t kMiB = 1 << 20;

class FakeCacheFs final : public CacheFs {
 public:
  struct Node {
    bool dir = false, symlink = false;
    uint64_t bytes = 0;
    int64_t mtime = 0;
    std::string text;
  };

  void file(const std::string& path, uint64_t bytes, int64_t age_days, std::string text = "") {
    add_parents(path);
    nodes["/c/" + path] = {false, false, bytes, kNow - age_days * kDay, std::move(text)};
  }
  void dir(const std::string& path) {
    add_parents(path);
    nodes["/c/" + path] = {true, false, 0, kNow, ""};
  }
  void symlink(const std::string& path) {
    add_parents(path);
    nodes["/c/" + path] = {false, true, 0, kNow, ""};
  }
  bool exists(const std::string& path) const { return nodes.count("/c/" + path) != 0; }

  std::vector<CacheFileInfo> list(const fs::path& dir) override {
    std::vector<CacheFileInfo> out;
    for (const auto& [path, n] : nodes)
      if (fs::path(path).parent_path() == dir)
        out.push_back({fs::path(path).filename().string(), n.dir, n.symlink, n.bytes, n.mtime});
    return out;
  }
  std::pair<uint64_t, int64_t> tree_usage(const fs::path& dir) override {
    uint64_t bytes = 0;
    int64_t newest = 0;
    for (const auto& [path, n] : nodes)
      if (path.rfind(dir.string() + "/", 0) == 0)
        bytes += n.bytes, newest = std::max(newest, n.mtime);
    return {bytes, newest};
  }
  std::optional<std::string> read(const fs::path& file) override {
    auto it = nodes.find(file.string());
    if (it == nodes.end()) return std::nullopt;
    return it->second.text;
  }
  std::string remove(const fs::path& path) override {
    removed.push_back(path.string().substr(3));
    for (auto it = nodes.begin(); it != nodes.end();)
      it = (it->first == path.string() || it->first.rfind(path.string() + "/", 0) == 0)
               ? nodes.erase(it)
               : std::next(it);
    return "";
  }
  std::shared_ptr<void> try_lock_exclusive(const fs::path& path) override {
    if (busy.count(path.string().substr(3)) || !nodes.count(path.string())) return nullptr;
    return std::make_shared<int>(0);
  }
  int64_t now() override { return kNow; }

  std::map<std::string, Node> nodes;
  std::set<std::string> busy;  // relative paths another "build" holds a shared lock on
  std::vector<std::string> removed;

 private:
  void add_parents(const std::string& path) {
    for (fs::path p = fs::path("/c/" + path).parent_path(); p != "/"; p = p.parent_path())
      if (!nodes.count(p.string())) nodes[p.string()] = {true, false, 0, kNow, ""};
  }
};

std::string meta(const std::string& format, const std::string& kind,
                 std::vector<std::string> debs = {}) {
  std::string text = "format = " + format + "\nkind = " + kind + "\nrecipe = qemu-x86_64\n";
  if (!debs.empty()) text += "debs = bookworm-amd64\n";
  for (const auto& d : debs) text += "deb = " + d + "\n";
  return text;
}

// A cache like a real one after a few sessions.
void fill(FakeCacheFs& c) {
  // The current package set: base tar and tree, both listing a.deb and b.deb.
  c.file("rootfs/bookworm-amd64-aaaa.tar", 600 * kMiB, 3);
  c.file("rootfs/bookworm-amd64-aaaa.meta", 4096, 3,
         meta(kRootfsCacheFormat, "rootfs", {"a_1_amd64.deb", "b_1_amd64.deb"}));
  c.file("rootfs/bookworm-amd64-tree-bbbb.tar", 400 * kMiB, 0);
  c.file("rootfs/bookworm-amd64-tree-bbbb.meta", 4096, 0,
         meta(kRootfsCacheFormat, "rootfs-tree", {"a_1_amd64.deb", "b_1_amd64.deb"}));
  c.file("rootfs/bookworm-amd64-cccc.current", 4096, 3);
  // Made before .meta files existed, 5 and 1 days ago.
  c.file("rootfs/bookworm-arm64-dddd.tar", 550 * kMiB, 5);
  c.file("rootfs/bookworm-arm64-tree-eeee.tar", 450 * kMiB, 1);
  // An old format: never read again.
  c.file("rootfs/bookworm-amd64-ffff.tar", 500 * kMiB, 1);
  c.file("rootfs/bookworm-amd64-ffff.meta", 4096, 1, meta("cairn-rootfs-v1", "rootfs"));
  // A partial tar of a build that died two days ago, and one being written now.
  c.file("rootfs/bookworm-amd64-gggg.tar.partial-123", 100 * kMiB, 2);
  c.file("rootfs/bookworm-amd64-hhhh.tar.partial-456", 100 * kMiB, 0);
  // initramfs: current with its module list, and an orphaned module list.
  c.file("initramfs/0123.img", 2 * kMiB, 0);
  c.file("initramfs/0123.img.modules", 4096, 0);
  c.file("initramfs/0123.meta", 4096, 0, meta(kInitramfsCacheFormat, "initramfs"));
  c.file("initramfs/4567.img.modules", 4096, 9);
  // .debs: two listed by the current set, an old kernel nothing lists.
  c.file("debs/bookworm-amd64/a_1_amd64.deb", 10 * kMiB, 40);
  c.file("debs/bookworm-amd64/b_1_amd64.deb", 10 * kMiB, 3);
  c.file("debs/bookworm-amd64/linux-image-old_1_amd64.deb", 60 * kMiB, 10);
  // Not cairn-image's.
  c.file("sysroot/bookworm-arm64-x/usr/lib/libc.so", 70 * kMiB, 2);
  c.symlink("debs/shared");
}

std::vector<std::string> names(const PruneReport& r) {
  std::vector<std::string> out;
  for (const auto& e : r.evicted) out.push_back(e.name);
  return out;
}

const CacheEntry& find(const std::vector<CacheEntry>& entries, const std::string& name) {
  for (const auto& e : entries)
    if (e.name == name) return e;
  throw std::runtime_error("no entry " + name);
}

TEST(CachePrune, ScanClassifiesEveryEntry) {
  FakeCacheFs c;
  fill(c);
  auto entries = scan_cache(c, "/c");
  EXPECT_EQ(find(entries, "rootfs/bookworm-amd64-aaaa.tar").state, EntryState::kCurrent);
  EXPECT_EQ(find(entries, "rootfs/bookworm-amd64-aaaa.tar").needs,
            (std::vector<std::string>{"debs/bookworm-amd64/a_1_amd64.deb",
                                      "debs/bookworm-amd64/b_1_amd64.deb"}));
  EXPECT_EQ(find(entries, "rootfs/bookworm-amd64-tree-bbbb.tar").kind, "rootfs-tree");
  EXPECT_EQ(find(entries, "rootfs/bookworm-amd64-tree-bbbb.tar").files,
            (std::vector<std::string>{"rootfs/bookworm-amd64-tree-bbbb.tar",
                                      "rootfs/bookworm-amd64-tree-bbbb.meta"}));
  EXPECT_EQ(find(entries, "rootfs/bookworm-arm64-dddd.tar").state, EntryState::kLegacy);
  EXPECT_EQ(find(entries, "rootfs/bookworm-arm64-tree-eeee.tar").kind, "rootfs-tree");
  EXPECT_EQ(find(entries, "rootfs/bookworm-amd64-ffff.tar").state, EntryState::kObsolete);
  EXPECT_EQ(find(entries, "rootfs/bookworm-amd64-gggg.tar.partial-123").state,
            EntryState::kLeftover);
  EXPECT_EQ(find(entries, "rootfs/bookworm-amd64-hhhh.tar.partial-456").state,
            EntryState::kUnmanaged);
  EXPECT_EQ(find(entries, "rootfs/bookworm-amd64-cccc.current").kind, "pointer");
  const auto& initramfs = find(entries, "initramfs/0123.img");
  EXPECT_EQ(initramfs.state, EntryState::kCurrent);
  EXPECT_EQ(initramfs.files.size(), 3u);
  EXPECT_EQ(initramfs.bytes, 2 * kMiB + 8192);
  EXPECT_EQ(find(entries, "initramfs/4567.img.modules").state, EntryState::kLeftover);
  EXPECT_EQ(find(entries, "debs/bookworm-amd64/a_1_amd64.deb").lock, "debs/bookworm-amd64");
  EXPECT_EQ(find(entries, "debs/shared").state, EntryState::kUnmanaged);
  EXPECT_EQ(find(entries, "sysroot").state, EntryState::kUnmanaged);
  EXPECT_EQ(find(entries, "sysroot").bytes, 70 * kMiB);
  for (const auto& e : entries) EXPECT_EQ(e.name.find(".meta"), std::string::npos) << e.name;
}

TEST(CachePrune, WithinLimitsOnlyLeftoversAndObsoleteFormatsGo) {
  FakeCacheFs c;
  fill(c);
  PruneRequest request;
  request.limits = {0, 0};
  auto report = prune_cache(c, "/c", request);
  EXPECT_EQ(names(report), (std::vector<std::string>{
                               "initramfs/4567.img.modules", "rootfs/bookworm-amd64-ffff.tar",
                               "rootfs/bookworm-amd64-gggg.tar.partial-123"}));
  EXPECT_FALSE(c.exists("rootfs/bookworm-amd64-ffff.meta"));
  EXPECT_TRUE(c.exists("rootfs/bookworm-amd64-hhhh.tar.partial-456"));  // still being written
  EXPECT_TRUE(c.exists("rootfs/bookworm-arm64-dddd.tar"));
  EXPECT_EQ(report.bytes_before - report.bytes_after, 600 * kMiB + 8192);
}

TEST(CachePrune, SizeBoundEvictsLegacyThenUnneededDebsThenLeastRecentlyUsed) {
  FakeCacheFs c;
  fill(c);
  PruneRequest request;
  request.limits = {900 * kMiB, 0};
  auto report = prune_cache(c, "/c", request);
  EXPECT_EQ(names(report),
            (std::vector<std::string>{
                "initramfs/4567.img.modules", "rootfs/bookworm-amd64-ffff.tar",
                "rootfs/bookworm-amd64-gggg.tar.partial-123",
                // legacy, oldest first
                "rootfs/bookworm-arm64-dddd.tar", "rootfs/bookworm-arm64-tree-eeee.tar",
                // a .deb nothing lists
                "debs/bookworm-amd64/linux-image-old_1_amd64.deb",
                // least recently used current entry: the base tar (the tree is used daily)
                "rootfs/bookworm-amd64-aaaa.tar"}));
  EXPECT_LE(report.bytes_after, 900 * kMiB);
  // The tree still lists both .debs: kept although a.deb is the oldest file in the cache.
  EXPECT_TRUE(c.exists("debs/bookworm-amd64/a_1_amd64.deb"));
  EXPECT_TRUE(c.exists("rootfs/bookworm-amd64-tree-bbbb.tar"));
  EXPECT_TRUE(c.exists("rootfs/bookworm-amd64-cccc.current"));
  EXPECT_TRUE(c.exists("sysroot/bookworm-arm64-x/usr/lib/libc.so"));
}

TEST(CachePrune, DebsGoOnceNoKeptSetListsThem) {
  FakeCacheFs c;
  fill(c);
  PruneRequest request;
  request.limits = {3 * kMiB, 0};
  auto report = prune_cache(c, "/c", request);
  auto n = names(report);
  auto pos = [&](const std::string& s) { return std::find(n.begin(), n.end(), s) - n.begin(); };
  // a.deb (oldest) only after both sets that list it are gone.
  EXPECT_LT(pos("rootfs/bookworm-amd64-tree-bbbb.tar"), pos("debs/bookworm-amd64/a_1_amd64.deb"));
  EXPECT_LT(pos("rootfs/bookworm-amd64-aaaa.tar"), pos("debs/bookworm-amd64/a_1_amd64.deb"));
  EXPECT_LT(pos("debs/bookworm-amd64/a_1_amd64.deb"), static_cast<long>(n.size()));
  EXPECT_LE(report.bytes_after, 3 * kMiB);
}

TEST(CachePrune, EntriesInUseByABuildAreKept) {
  FakeCacheFs c;
  fill(c);
  c.busy = {"rootfs/bookworm-arm64-dddd.tar", "rootfs/bookworm-amd64-tree-bbbb.tar",
            "debs/bookworm-amd64"};
  PruneRequest request;
  request.limits = {100 * kMiB, 0};
  auto report = prune_cache(c, "/c", request);
  EXPECT_TRUE(c.exists("rootfs/bookworm-arm64-dddd.tar"));
  EXPECT_TRUE(c.exists("rootfs/bookworm-amd64-tree-bbbb.tar"));
  EXPECT_TRUE(c.exists("debs/bookworm-amd64/linux-image-old_1_amd64.deb"));
  EXPECT_FALSE(c.exists("rootfs/bookworm-amd64-aaaa.tar"));
  EXPECT_FALSE(c.exists("rootfs/bookworm-arm64-tree-eeee.tar"));
  std::vector<std::string> in_use = report.in_use;
  std::sort(in_use.begin(), in_use.end());
  EXPECT_EQ(in_use, (std::vector<std::string>{"debs/bookworm-amd64/linux-image-old_1_amd64.deb",
                                              "rootfs/bookworm-amd64-tree-bbbb.tar",
                                              "rootfs/bookworm-arm64-dddd.tar"}));
  EXPECT_GT(report.bytes_after, 100 * kMiB);  // could not get under: the rest is in use
  EXPECT_NE(format_prune_report(report, false)
                .find("kept rootfs/bookworm-arm64-dddd.tar: in use by a running build\n"),
            std::string::npos);
}

TEST(CachePrune, AgeBoundEvictsUnusedEntriesButNotDebsAKeptSetNeeds) {
  FakeCacheFs c;
  fill(c);
  PruneRequest request;
  request.limits = {0, 2 * kDay};
  auto report = prune_cache(c, "/c", request);
  EXPECT_FALSE(c.exists("rootfs/bookworm-amd64-aaaa.tar"));      // 3 days
  EXPECT_FALSE(c.exists("rootfs/bookworm-arm64-dddd.tar"));      // 5 days
  EXPECT_TRUE(c.exists("rootfs/bookworm-arm64-tree-eeee.tar"));  // 1 day
  EXPECT_TRUE(c.exists("debs/bookworm-amd64/a_1_amd64.deb"));    // 40 days, the tree lists it
  EXPECT_FALSE(c.exists("debs/bookworm-amd64/linux-image-old_1_amd64.deb"));
  EXPECT_TRUE(c.exists("rootfs/bookworm-amd64-cccc.current"));
  bool found = false;
  for (const auto& e : report.evicted)
    if (e.name == "rootfs/bookworm-arm64-dddd.tar") found = e.reason == "unused for 5 days";
  EXPECT_TRUE(found);
}

TEST(CachePrune, CleanRemovesEverythingManagedThatIsNotInUse) {
  FakeCacheFs c;
  fill(c);
  c.busy = {"initramfs/0123.img"};
  PruneRequest request;
  request.clean = true;
  auto report = prune_cache(c, "/c", request);
  EXPECT_FALSE(c.exists("rootfs/bookworm-amd64-tree-bbbb.tar"));
  EXPECT_FALSE(c.exists("rootfs/bookworm-amd64-cccc.current"));
  EXPECT_FALSE(c.exists("debs/bookworm-amd64/a_1_amd64.deb"));
  EXPECT_TRUE(c.exists("initramfs/0123.img"));
  EXPECT_TRUE(c.exists("initramfs/0123.meta"));
  EXPECT_TRUE(c.exists("rootfs/bookworm-amd64-hhhh.tar.partial-456"));
  EXPECT_TRUE(c.exists("sysroot/bookworm-arm64-x/usr/lib/libc.so"));
  EXPECT_EQ(report.in_use, (std::vector<std::string>{"initramfs/0123.img"}));
}

TEST(CachePrune, DryRunRemovesNothing) {
  FakeCacheFs c;
  fill(c);
  auto before = c.nodes.size();
  PruneRequest request;
  request.clean = true;
  request.dry_run = true;
  auto report = prune_cache(c, "/c", request);
  EXPECT_EQ(c.nodes.size(), before);
  EXPECT_TRUE(c.removed.empty());
  EXPECT_FALSE(report.evicted.empty());
  EXPECT_EQ(format_prune_report(report, true).rfind("would free ", 0), std::string::npos);
  EXPECT_NE(format_prune_report(report, true).find("would evict rootfs/"), std::string::npos);
}

TEST(CachePrune, InfoListsEntriesTotalsAndLimits) {
  FakeCacheFs c;
  fill(c);
  std::string info = format_cache_info("/c", scan_cache(c, "/c"), CacheLimits{});
  EXPECT_NE(info.find("cache /c: "), std::string::npos) << info;
  EXPECT_NE(info.find("limits: 8.0 GiB, unused for 30 days"), std::string::npos) << info;
  EXPECT_NE(info.find("(+ 170.0 MiB not managed by cairn-image)"), std::string::npos) << info;
  EXPECT_NE(info.find("rootfs-tree  current"), std::string::npos) << info;
  EXPECT_NE(info.find("rootfs       legacy"), std::string::npos) << info;
  EXPECT_NE(info.find("debs/bookworm-amd64/  3 .debs, 2 (20.0 MiB) listed by a cached package set"),
            std::string::npos)
      << info;
  EXPECT_EQ(info.find("over the size limit"), std::string::npos);
  info = format_cache_info("/c", scan_cache(c, "/c"), CacheLimits{kMiB, 0});
  EXPECT_NE(info.find("over the size limit"), std::string::npos);
  EXPECT_NE(info.find("limits: 1.0 MiB, no age limit"), std::string::npos);
}

}  // namespace
}  // namespace cairn::image

// Builds the shipped recipes with the real cairn-image into <build>/images/<name>/ (the path
// qemu-tests/ boots: docs/image.md) and inspects the results with standard tools: the
// partition table (sfdisk), the verity hash tree (veritysetup verify, and a flipped byte
// detected), the boot partition (mtools), the data filesystem (dumpe2fs), the manifest.
// Each test is its own ctest entry (image/tests/CMakeLists.txt) with a fixture name, so boot
// tests can require the image they boot.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "image/tests/image_test_util.h"
#include "image/util/sha256.h"

namespace cairn::image::testing {
namespace {
namespace fs = std::filesystem;

struct Part {
  uint64_t offset = 0, size = 0;
};

class ImageBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch_ = fs::temp_directory_path() / ("cairn-image-build-" + std::to_string(getpid()));
    fs::create_directories(scratch_);
  }
  void TearDown() override { fs::remove_all(scratch_); }

  // Builds recipes/<name>.toml into <build>/images/<name> (or `out`); returns the directory.
  fs::path build(const std::string& name, fs::path out = {}) {
    if (out.empty()) out = build_dir() / "images" / name;
    auto r =
        run_tool({(build_dir() / "bin/cairn-image").string(), "build",
                  (source_dir() / "recipes" / (name + ".toml")).string(), "--out", out.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("[9/9] outputs         done"), std::string::npos) << r.err;
    return out;
  }

  // "name" -> offset/size from sfdisk --dump of the image (512-byte sectors).
  std::map<std::string, Part> table(const fs::path& image, std::string* dump_out = nullptr) {
    auto r = run_tool({"sfdisk", "--dump", image.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    if (dump_out) *dump_out = r.out;
    std::map<std::string, Part> parts;
    std::regex line(R"((\S+) : start=\s*(\d+), size=\s*(\d+),)");
    for (std::sregex_iterator it(r.out.begin(), r.out.end(), line), end; it != end; ++it) {
      std::string dev = (*it)[1];
      parts[dev.substr(dev.size() - 1)] = {std::stoull((*it)[2]) * 512,
                                           std::stoull((*it)[3]) * 512};
    }
    return parts;
  }

  void check_verity(const fs::path& image, const Part& root, const std::string& manifest) {
    std::string root_hash = find(manifest, "\"root_hash\": \"([0-9a-f]{64})\"");
    std::string offset = find(manifest, "\"hash_offset\": (\\d+)");
    ASSERT_EQ(root_hash.size(), 64u);
    ASSERT_FALSE(offset.empty());
    fs::path part = scratch_ / "root.img";
    extract(image, root.offset, root.size, part);
    auto ok = run_tool({"veritysetup", "verify", part.string(), part.string(), root_hash,
                        "--hash-offset=" + offset});
    EXPECT_EQ(ok.status, 0) << ok.err;
    // One flipped byte in the filesystem must be caught.
    {
      std::fstream f(part, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(8192 + 17);
      char c = 0;
      f.seekg(8192 + 17);
      f.get(c);
      f.seekp(8192 + 17);
      f.put(static_cast<char>(c ^ 0x40));
    }
    auto bad = run_tool({"veritysetup", "verify", part.string(), part.string(), root_hash,
                         "--hash-offset=" + offset});
    EXPECT_NE(bad.status, 0) << "a corrupted root verified";
    fs::remove(part);
  }

  std::string mtype(const fs::path& fat, const std::string& file) {
    auto r = run_tool({"mtype", "-i", fat.string(), "::" + file});
    EXPECT_EQ(r.status, 0) << file << ": " << r.err;
    return r.out;
  }
  std::string mdir(const fs::path& fat, const std::string& dir) {
    auto r = run_tool({"mdir", "-b", "-i", fat.string(), "::" + dir});
    EXPECT_EQ(r.status, 0) << dir << ": " << r.err;
    return r.out;
  }

  void check_manifest_hashes(const fs::path& out, const std::string& manifest) {
    std::regex entry(R"re(\{"name": "([^"]+)", "size": (\d+), "sha256": "([0-9a-f]{64})"\})re");
    std::set<std::string> listed;
    for (std::sregex_iterator it(manifest.begin(), manifest.end(), entry), end; it != end; ++it) {
      fs::path f = out / (*it)[1].str();
      ASSERT_TRUE(fs::exists(f)) << f;
      EXPECT_EQ(fs::file_size(f), std::stoull((*it)[2])) << f;
      EXPECT_EQ(sha256_file(f), (*it)[3].str()) << f;
      listed.insert((*it)[1].str());
    }
    EXPECT_GE(listed.size(), 5u);
    // Every artifact in the output directory is hashed (the manifest cannot hash itself).
    std::set<std::string> present;
    for (const auto& e : fs::recursive_directory_iterator(out))
      if (e.is_regular_file() && e.path().filename() != "manifest.json")
        present.insert(e.path().lexically_relative(out).string());
    EXPECT_EQ(listed, present) << "manifest.json's files vs the output directory";
  }

  void check_data(const fs::path& image, const Part& data) {
    fs::path part = scratch_ / "data.img";
    extract(image, data.offset, data.size, part);
    auto r = run_tool({"dumpe2fs", "-h", part.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("Filesystem volume name:   cairn-data"), std::string::npos) << r.out;
    fs::remove(part);
  }

  // The root filesystem of the image as the node sees it: the erofs at the start of root-a,
  // unpacked by erofs-utils into the scratch directory.
  fs::path unpack_root(const fs::path& image, const Part& root) {
    fs::path part = scratch_ / "root-unpack.img";
    extract(image, root.offset, root.size, part);
    fs::path tree = scratch_ / "root";
    auto r = run_tool({"fsck.erofs", "--extract=" + tree.string(), part.string()});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    fs::remove(part);
    return tree;
  }

  // The manifest names exactly the packages the image's root holds: its packages equal the
  // root's dpkg status database (read by dpkg-query) and /usr/share/cairn/packages.tsv, and
  // exactly one versioned kernel package, the one whose modules the root has.
  void check_packages(const fs::path& root, const std::string& manifest) {
    std::regex entry(
        R"re(\{"name": "([^"]+)", "version": "([^"]+)", "architecture": "([^"]+)"\})re");
    std::vector<std::string> listed;
    std::vector<std::string> kernels;
    for (std::sregex_iterator it(manifest.begin(), manifest.end(), entry), end; it != end; ++it) {
      listed.push_back((*it)[1].str() + "\t" + (*it)[2].str() + "\t" + (*it)[3].str());
      if (std::regex_match((*it)[1].str(), std::regex("linux-image-[0-9].*")))
        kernels.push_back((*it)[1]);
    }
    ASSERT_GT(listed.size(), 20u) << manifest;
    std::string kernel = find(manifest, "\"kernel\": \"([^\"]+)\"");
    EXPECT_EQ(kernels, std::vector<std::string>{"linux-image-" + kernel})
        << "the manifest must name exactly the image's kernel package";
    std::vector<std::string> dirs;
    for (const auto& e : fs::directory_iterator(root / "lib/modules"))
      dirs.push_back(e.path().filename());
    EXPECT_EQ(dirs, std::vector<std::string>{kernel});

    auto q = run_tool({"dpkg-query", "--admindir=" + (root / "var/lib/dpkg").string(), "-W",
                       "-f=${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n"});
    ASSERT_EQ(q.status, 0) << q.err;
    std::vector<std::string> dpkg;
    std::istringstream lines(q.out);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_EQ(line.substr(line.rfind('\t') + 1), "iU ") << line << ": not unpacked";
      dpkg.push_back(line.substr(0, line.rfind('\t')));
    }
    std::vector<std::string> tsv;
    std::istringstream tsv_lines(read_file(root / "usr/share/cairn/packages.tsv"));
    for (std::string line; std::getline(tsv_lines, line);) tsv.push_back(line);
    std::sort(listed.begin(), listed.end());
    std::sort(dpkg.begin(), dpkg.end());
    std::sort(tsv.begin(), tsv.end());
    EXPECT_EQ(listed, dpkg) << "manifest.json vs the image's dpkg status";
    EXPECT_EQ(listed, tsv) << "manifest.json vs the image's packages.tsv";
  }

  // Every kernel module in the image can load: it is in modules.dep, each dependency
  // modules.dep lists for it is there, and each module its own .modinfo says it depends on
  // (modinfo -F depends, independent of depmod) is in the image or built in. Modules the
  // manifest lists as removed for needing an omitted one are gone.
  void check_modules(const fs::path& root, const std::string& manifest) {
    std::string kernel = find(manifest, "\"kernel\": \"([^\"]+)\"");
    fs::path kdir = root / "lib/modules" / kernel;
    std::set<std::string> files, names, builtin;
    auto name_of = [](std::string p) {
      p = p.substr(p.rfind('/') + 1);
      p = p.substr(0, p.find(".ko"));
      std::replace(p.begin(), p.end(), '-', '_');
      return p;
    };
    for (const auto& e : fs::recursive_directory_iterator(kdir)) {
      std::string rel = e.path().lexically_relative(kdir).string();
      if (e.is_regular_file() && rel.find(".ko") != std::string::npos) {
        files.insert(rel);
        names.insert(name_of(rel));
      }
    }
    ASSERT_GT(files.size(), 100u);
    std::istringstream b(read_file(kdir / "modules.builtin"));
    for (std::string line; std::getline(b, line);) builtin.insert(name_of(line));

    std::set<std::string> in_dep;
    std::istringstream dep(read_file(kdir / "modules.dep"));
    for (std::string line; std::getline(dep, line);) {
      std::istringstream words(line);
      std::string module;
      if (!(words >> module) || module.back() != ':') {
        ADD_FAILURE() << "modules.dep: bad line '" << line << "'";
        continue;
      }
      module.pop_back();
      in_dep.insert(module);
      for (std::string d; words >> d;)
        EXPECT_TRUE(files.count(d)) << module << " needs " << d << ", not in the image";
    }
    for (const auto& f : files) EXPECT_TRUE(in_dep.count(f)) << f << " missing from modules.dep";

    std::vector<std::string> argv = {"modinfo", "-0", "-F", "depends"};
    for (const auto& f : files) argv.push_back((kdir / f).string());
    auto r = run_tool(argv);
    ASSERT_EQ(r.status, 0) << r.err;
    ASSERT_EQ(static_cast<size_t>(std::count(r.out.begin(), r.out.end(), '\0')), files.size());
    std::istringstream out(r.out);
    auto file = files.begin();
    for (std::string deps; std::getline(out, deps, '\0'); ++file) {
      std::istringstream each(deps);
      for (std::string d; std::getline(each, d, ',');) {
        if (d.empty()) continue;
        EXPECT_TRUE(names.count(name_of(d)) || builtin.count(name_of(d)))
            << *file << " depends on " << d << ", which is not in the image";
      }
    }

    std::regex removed(R"re(\{"module": "([^"]+)", "needs": "([^"]+)"\})re");
    for (std::sregex_iterator it(manifest.begin(), manifest.end(), removed), end; it != end; ++it) {
      EXPECT_FALSE(files.count((*it)[1])) << (*it)[1] << " listed as removed but present";
      EXPECT_FALSE(files.count((*it)[2])) << (*it)[2] << " listed as removed but present";
    }
  }

  fs::path scratch_;
};

TEST_F(ImageBuild, QemuX86_64) {
  fs::path out = build("qemu-x86_64");
  ASSERT_FALSE(HasFailure()) << "the build failed: nothing to inspect";
  fs::path image = out / "qemu-x86_64.img";
  for (const char* f :
       {"qemu-x86_64.img", "qemu-x86_64.qcow2", "qemu-x86_64.img.zst", "manifest.json",
        "boot/vmlinuz", "boot/initramfs.img", "boot/cmdline-a.txt"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  std::string manifest = read_file(out / "manifest.json");
  std::string dump;
  auto parts = table(image, &dump);
  EXPECT_NE(dump.find("label: gpt"), std::string::npos) << dump;
  EXPECT_NE(dump.find("name=\"cairn-boot\""), std::string::npos);
  EXPECT_NE(dump.find("name=\"cairn-root-a\""), std::string::npos);
  EXPECT_NE(dump.find("name=\"cairn-root-b\""), std::string::npos);
  EXPECT_NE(dump.find("name=\"cairn-data\""), std::string::npos);
  EXPECT_NE(dump.find("type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"), std::string::npos);
  std::string disk_id = find(manifest, "\"disk_id\": \"([0-9a-f-]+)\"");
  std::string upper = disk_id;
  for (auto& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_NE(dump.find("label-id: " + upper), std::string::npos) << dump;
  ASSERT_EQ(parts.size(), 4u) << dump;
  EXPECT_EQ(parts["2"].size, parts["3"].size);
  EXPECT_EQ(parts["1"].offset, 1u << 20);

  check_verity(image, parts["2"], manifest);
  check_data(image, parts["4"]);
  check_manifest_hashes(out, manifest);
  EXPECT_NE(manifest.find("\"name\": \"linux-image-6."), std::string::npos);
  EXPECT_NE(manifest.find("\"name\": \"util-linux\""), std::string::npos);
  // root-compress-files = "boot": cairn-init and the services' executables are compressed
  // (fewer blocks for dm-verity to hash at boot), the rest is not; stage 1 reads cairn-init
  // ahead first.
  {
    fs::path part = scratch_ / "root-dump.img";
    extract(image, parts["2"].offset, parts["2"].size, part);
    auto init = run_tool({"dump.erofs", "--path=/usr/sbin/cairn-init", part.string()});
    EXPECT_NE(init.out.find("Layout: 3"), std::string::npos) << init.out << init.err;
    auto bash = run_tool({"dump.erofs", "--path=/bin/bash", part.string()});
    EXPECT_EQ(bash.out.find("Layout: 3"), std::string::npos) << bash.out << bash.err;
    EXPECT_NE(bash.out.find("Layout: "), std::string::npos) << bash.out << bash.err;
    fs::remove(part);
  }
  fs::path root = unpack_root(image, parts["2"]);
  EXPECT_EQ(read_file(root / "usr/share/cairn/readahead")
                .rfind("# cairn-init and the enabled services' executables (cairn-image)\n"
                       "/usr/sbin/cairn-init\n",
                       0),
            0u);
  check_packages(root, manifest);
  check_modules(root, manifest);
  // The recipe omits physical-server drivers that other modules need (bnx2fc needs cnic under
  // ethernet/broadcom): those go too, and the manifest says so.
  EXPECT_NE(manifest.find("\"omitted_dependent_modules\": [\n    {\"module\": "),
            std::string::npos);

  fs::path boot = scratch_ / "boot.img";
  extract(image, parts["1"].offset, parts["1"].size, boot);
  EXPECT_NE(mdir(boot, "/EFI/BOOT").find("BOOTX64.EFI"), std::string::npos);
  EXPECT_NE(mtype(boot, "/loader/loader.conf").find("default a.conf"), std::string::npos);
  std::string entry = mtype(boot, "/loader/entries/a.conf");
  std::string hash = find(manifest, "\"root_hash\": \"([0-9a-f]{64})\"");
  EXPECT_NE(entry.find("linux /cairn/vmlinuz"), std::string::npos) << entry;
  EXPECT_NE(entry.find("initrd /cairn/initramfs.img"), std::string::npos) << entry;
  EXPECT_NE(entry.find("cairn.root=PARTLABEL=cairn-root-a"), std::string::npos) << entry;
  EXPECT_NE(entry.find("cairn.verity.roothash=" + hash), std::string::npos) << entry;
  EXPECT_NE(entry.find("console=ttyS0,115200"), std::string::npos) << entry;
  EXPECT_NE(mtype(boot, "/loader/entries/b.conf").find("cairn.root=PARTLABEL=cairn-root-b"),
            std::string::npos);
  EXPECT_NE(mtype(boot, "/node.toml").find("hostname = \"cairn-qemu\""), std::string::npos);
  EXPECT_EQ(sha256_hex(mtype(boot, "/cairn/vmlinuz")), sha256_file(out / "boot/vmlinuz"));
}

// Same recipe, same cached package set: bit-identical outputs.
TEST_F(ImageBuild, Reproducible) {
  fs::path first = build_dir() / "images/qemu-x86_64";
  ASSERT_TRUE(fs::exists(first / "manifest.json")) << "run ImageBuild.QemuX86_64 first";
  fs::path second = build("qemu-x86_64", scratch_ / "again");
  ASSERT_FALSE(HasFailure()) << "the build failed: nothing to compare";
  for (const char* f : {"qemu-x86_64.img", "qemu-x86_64.qcow2", "qemu-x86_64.img.zst",
                        "manifest.json", "boot/initramfs.img"})
    EXPECT_EQ(sha256_file(first / f), sha256_file(second / f)) << f << " differs";
}

TEST_F(ImageBuild, QemuArm64) {
  fs::path out = build("qemu-arm64");
  ASSERT_FALSE(HasFailure()) << "the build failed: nothing to inspect";
  fs::path image = out / "qemu-arm64.img";
  std::string manifest = read_file(out / "manifest.json");
  std::string dump;
  auto parts = table(image, &dump);
  ASSERT_EQ(parts.size(), 4u) << dump;
  EXPECT_NE(dump.find("type=B921B045-1DF0-41C3-AF44-4C6F280D3FAE"), std::string::npos) << dump;
  check_verity(image, parts["2"], manifest);
  fs::path root = unpack_root(image, parts["2"]);
  check_packages(root, manifest);
  check_modules(root, manifest);
  check_manifest_hashes(out, manifest);
  fs::path boot = scratch_ / "boot.img";
  extract(image, parts["1"].offset, parts["1"].size, boot);
  EXPECT_NE(mdir(boot, "/EFI/BOOT").find("BOOTAA64.EFI"), std::string::npos);
  EXPECT_NE(mtype(boot, "/loader/entries/a.conf").find("console=ttyAMA0,115200"),
            std::string::npos);
  // The kernel on the ESP is the uncompressed arm64 Image ("ARMd" magic at 0x38), not gzip.
  std::string kernel = read_file(out / "boot/vmlinuz");
  ASSERT_GT(kernel.size(), 0x40u);
  EXPECT_EQ(kernel.substr(0x38, 4), "ARM\x64");
}

TEST_F(ImageBuild, Rpi4) {
  fs::path out = build("rpi4");
  ASSERT_FALSE(HasFailure()) << "the build failed: nothing to inspect";
  fs::path image = out / "rpi4.img";
  std::string manifest = read_file(out / "manifest.json");
  std::string dump;
  auto parts = table(image, &dump);
  EXPECT_NE(dump.find("label: dos"), std::string::npos) << dump;
  std::string signature = find(manifest, "\"disk_id\": \"0x([0-9a-f]{8})\"");
  ASSERT_EQ(signature.size(), 8u);
  EXPECT_NE(dump.find("label-id: 0x" + signature), std::string::npos) << dump;
  EXPECT_NE(dump.find("type=c, bootable"), std::string::npos) << dump;
  ASSERT_EQ(parts.size(), 4u) << dump;
  check_verity(image, parts["2"], manifest);
  fs::path root = unpack_root(image, parts["2"]);
  check_packages(root, manifest);
  check_modules(root, manifest);
  check_manifest_hashes(out, manifest);

  fs::path boot = scratch_ / "boot.img";
  extract(image, parts["1"].offset, parts["1"].size, boot);
  std::string top = mdir(boot, "/");
  for (const char* f : {"start4.elf", "fixup4.dat", "bcm2711-rpi-4-b.dtb", "vmlinuz",
                        "initramfs.img", "config.txt", "cmdline.txt", "node.toml"})
    EXPECT_NE(top.find(f), std::string::npos) << f << " missing on the boot partition:\n" << top;
  std::string config = mtype(boot, "/config.txt");
  for (const char* line :
       {"arm_64bit=1", "enable_uart=1", "kernel=vmlinuz", "initramfs initramfs.img followkernel"})
    EXPECT_NE(config.find(line), std::string::npos) << line << "\n" << config;
  std::string cmdline = mtype(boot, "/cmdline.txt");
  EXPECT_EQ(std::count(cmdline.begin(), cmdline.end(), '\n'), 1) << "cmdline.txt is one line";
  for (const std::string& key : std::vector<std::string>{
           "cgroup_enable=memory", "cgroup_memory=1", "cgroup_enable=cpuset",
           "cairn.root=PARTUUID=" + signature + "-02", "cairn.data=PARTUUID=" + signature + "-04",
           "cairn.boot=PARTUUID=" + signature + "-01",
           "cairn.verity.roothash=" + find(manifest, "\"root_hash\": \"([0-9a-f]{64})\"")})
    EXPECT_NE(cmdline.find(key), std::string::npos) << key << "\n" << cmdline;
  EXPECT_TRUE(fs::exists(out / "boot/bcm2711-rpi-4-b.dtb"));
}

}  // namespace
}  // namespace cairn::image::testing

#include "image/initramfs/initramfs.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "image/initramfs/cpio_writer.h"
#include "image/initramfs/filter_process.h"
#include "image/initramfs/modinfo.h"
#include "image/initramfs/module_index.h"
#include "image/util/read_text.h"

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The module's bytes as the kernel's finit_module accepts them everywhere: uncompressed
// (a kernel without CONFIG_MODULE_DECOMPRESS cannot load .ko.xz/.ko.zst itself).
std::string module_bytes(const fs::path& file) {
  std::string data = read_text(file);
  const std::string name = file.filename().string();
  if (ends_with(name, ".ko.xz")) return run_filter({"xz", "-dc"}, data);
  if (ends_with(name, ".ko.zst")) return run_filter({"zstd", "-dcq"}, data);
  if (ends_with(name, ".ko.gz")) return run_filter({"gzip", "-dc"}, data);
  return data;
}

std::string uncompressed_path(std::string path) {
  for (std::string_view suffix : {".xz", ".zst", ".gz"}) {
    if (ends_with(path, suffix)) return path.substr(0, path.size() - suffix.size());
  }
  return path;
}

std::string find_kernel_version(const fs::path& modules_root, const std::string& wanted) {
  const fs::path dir = modules_root / "lib/modules";
  if (!wanted.empty()) {
    if (!fs::is_directory(dir / wanted)) {
      throw std::runtime_error((dir / wanted).string() + ": no such kernel module directory");
    }
    return wanted;
  }
  std::vector<std::string> versions;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory()) versions.push_back(entry.path().filename().string());
  }
  if (ec) throw std::runtime_error(dir.string() + ": " + ec.message());
  if (versions.size() != 1) {
    throw std::runtime_error(dir.string() + ": expected exactly one kernel version, found " +
                             std::to_string(versions.size()) + " (set kernel_version)");
  }
  return versions.front();
}

ModuleIndex load_index(const fs::path& dir) {
  ModuleIndex index;
  auto add_if = [&](const char* name, auto method) {
    const fs::path p = dir / name;
    if (fs::exists(p)) (index.*method)(read_text(p), p.string());
  };
  add_if("modules.builtin", &ModuleIndex::add_modules_builtin);
  if (fs::exists(dir / "modules.dep")) {
    add_if("modules.dep", &ModuleIndex::add_modules_dep);
    add_if("modules.softdep", &ModuleIndex::add_modules_softdep);
    add_if("modules.alias", &ModuleIndex::add_modules_alias);
    return index;
  }
  // depmod never ran in this rootfs: read what it would have read, each module's .modinfo.
  std::vector<std::string> paths;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string rel = fs::relative(it->path(), dir).string();
    if (ends_with(rel, ".ko") || ends_with(rel, ".ko.xz") || ends_with(rel, ".ko.zst") ||
        ends_with(rel, ".ko.gz")) {
      paths.push_back(rel);
    }
  }
  if (ec) throw std::runtime_error(dir.string() + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  for (const auto& rel : paths) {
    std::string bytes = ends_with(rel, ".ko") ? read_text(dir / rel) : module_bytes(dir / rel);
    index.add_module_info(rel, read_modinfo(bytes, (dir / rel).string()));
  }
  return index;
}

void write_atomically(const fs::path& output, const std::string& bytes) {
  if (output.has_parent_path()) fs::create_directories(output.parent_path());
  const fs::path tmp = output.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::runtime_error(tmp.string() + ": write failed");
    }
  }
  std::error_code ec;
  fs::rename(tmp, output, ec);
  if (ec) {
    fs::remove(tmp);
    throw std::runtime_error(output.string() + ": " + ec.message());
  }
}

}  // namespace

InitramfsResult build_initramfs(const InitramfsRequest& request) {
  if (request.output.empty()) throw std::runtime_error("initramfs: no output path");
  if (!fs::is_regular_file(request.init_binary)) {
    throw std::runtime_error(request.init_binary.string() + ": init binary not found");
  }
  InitramfsResult result;
  CpioArchive archive;
  archive.add_file("/init", 0755, read_text(request.init_binary));
  archive.add_file("/etc/initrd-release", 0644,
                   "NAME=\"cairn initramfs\"\nID=cairn\nVARIANT_ID=initrd\n");
  for (const char* dir : {"/dev", "/proc", "/sys", "/run", "/sysroot", "/tmp"}) {
    archive.add_directory(dir);
  }
  archive.add_char_device("/dev/console", 0600, 5, 1);

  std::string boot_modules;
  if (!request.modules.empty()) {
    result.kernel_version = find_kernel_version(request.modules_root, request.kernel_version);
    const fs::path dir = request.modules_root / "lib/modules" / result.kernel_version;
    ModuleIndex index = load_index(dir);
    ModuleResolution resolved = index.resolve(request.modules);
    result.builtin = resolved.builtin;
    const std::string base = "/lib/modules/" + result.kernel_version + "/";
    for (size_t i = 0; i < resolved.paths.size(); ++i) {
      const std::string& rel = resolved.paths[i];
      const std::string plain = uncompressed_path(rel);
      archive.add_file(base + plain, 0644, module_bytes(dir / rel));
      result.module_paths.push_back(plain);
      // "path: needs...": stage 1 loads modules whose needs are in side by side.
      boot_modules += plain + ":";
      for (const auto& need : resolved.needs[i]) boot_modules += " " + uncompressed_path(need);
      boot_modules += "\n";
    }
  } else if (!request.kernel_version.empty()) {
    result.kernel_version = request.kernel_version;
  }
  archive.add_file(
      "/etc/cairn/boot-modules", 0644,
      "# kernel modules stage 1 loads (relative to /lib/modules/" + result.kernel_version +
          "/), dependencies first; \"path: needs\" names what must be in first\n" + boot_modules);

  for (const auto& extra : request.extra_files) {
    if (!fs::is_regular_file(extra.source)) {
      throw std::runtime_error(extra.source.string() + ": extra initramfs file not found");
    }
    try {
      archive.add_file(extra.destination, extra.mode, read_text(extra.source));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(extra.source.string() + ": " + e.what());
    }
  }

  std::string cpio = archive.serialize(request.source_date_epoch);
  std::string bytes;
  switch (request.compression) {
    case InitramfsCompression::kZstd:
      bytes = run_filter({"zstd", "-19", "-T1", "-q", "-c", "--no-progress"}, cpio);
      break;
    case InitramfsCompression::kGzip:
      bytes = run_filter({"gzip", "-n", "-9", "-c"}, cpio);
      break;
    case InitramfsCompression::kNone:
      bytes = std::move(cpio);
      break;
  }
  write_atomically(request.output, bytes);
  result.size = bytes.size();
  return result;
}

}  // namespace cairn::image

// Stage "boot-partition": the FAT boot partition, made from a directory without mounting
// (mkfs.vfat -C, mcopy -m; mtools and mkfs.vfat honour SOURCE_DATE_EPOCH; the volume id is
// seeded).
//   UEFI: systemd-boot (from the target rootfs's systemd-boot-efi, so the EFI binary matches
//         the target arch) as EFI/BOOT/BOOT{X64,AA64}.EFI, loader/loader.conf, entries a and b,
//         the kernel and initramfs under cairn/.
//   rpi:  the Pi firmware (raspi-firmware), config.txt, cmdline.txt, device trees, kernel and
//         initramfs at the top level.
// Both carry node.toml (the recipe's [node]) for the user to edit after flashing.
#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "image/build/pipeline.h"
#include "image/util/process.h"

namespace cairn::image {
namespace fs = std::filesystem;
namespace {

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error(file.string() + ": cannot write");
}

void copy_in(const fs::path& from, const fs::path& to) {
  if (!fs::is_regular_file(from)) throw std::runtime_error(from.string() + ": missing");
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

std::string console_arg(const BuildContext& ctx) {
  std::string c = ctx.recipe.console;
  if (c.empty()) c = ctx.recipe.arch == Arch::kX86_64 ? "ttyS0,115200" : "ttyAMA0,115200";
  if (c.find(',') == std::string::npos) c += ",115200";
  return "console=" + c;
}

// The kernel command line for one slot; every key is documented in docs/boot-contract.md.
std::string cmdline(const BuildContext& ctx, char slot) {
  std::string root = std::string("cairn-root-") + slot;
  std::string line = "cairn.root=" + partition_ref(ctx.layout, root) +
                     " cairn.verity.roothash=" + ctx.verity_root_hash +
                     " cairn.verity.hashoffset=" + std::to_string(ctx.verity_hash_offset) +
                     " cairn.data=" + partition_ref(ctx.layout, "cairn-data") +
                     " cairn.boot=" + partition_ref(ctx.layout, "cairn-boot") +
                     " cairn.slot=" + slot + " " + console_arg(ctx);
  if (ctx.recipe.board == Board::kRpi)
    line += " cgroup_enable=memory cgroup_memory=1 cgroup_enable=cpuset";
  if (!ctx.recipe.cmdline.empty()) line += " " + ctx.recipe.cmdline;
  return line;
}

void uefi_tree(BuildContext& ctx, const fs::path& dir) {
  bool x86 = ctx.recipe.arch == Arch::kX86_64;
  fs::path efi =
      ctx.boot_assets / "systemd-boot" / (x86 ? "systemd-bootx64.efi" : "systemd-bootaa64.efi");
  copy_in(efi, dir / "EFI/BOOT" / (x86 ? "BOOTX64.EFI" : "BOOTAA64.EFI"));
  copy_in(ctx.kernel_image, dir / "cairn/vmlinuz");
  copy_in(ctx.initramfs, dir / "cairn/initramfs.img");
  write_text(dir / "loader/loader.conf",
             "default a.conf\ntimeout 0\nconsole-mode keep\neditor no\n");
  for (char slot : {'a', 'b'}) {
    std::string title = ctx.recipe.name + " " + ctx.recipe.version + " (slot " + slot + ")";
    write_text(dir / "loader/entries" / (std::string(1, slot) + ".conf"),
               "title " + title + "\nlinux /cairn/vmlinuz\ninitrd /cairn/initramfs.img\noptions " +
                   (slot == 'a' ? ctx.cmdline_a : ctx.cmdline_b) + "\n");
  }
}

void rpi_tree(BuildContext& ctx, const fs::path& dir) {
  fs::path firmware = ctx.boot_assets / "raspi-firmware";
  if (!fs::is_directory(firmware))
    throw std::runtime_error("raspi-firmware is not in the rootfs (" + firmware.string() + ")");
  for (const auto& e : fs::directory_iterator(firmware)) {
    auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".elf" || ext == ".dat" || ext == ".bin"))
      copy_in(e.path(), dir / e.path().filename());
  }
  fs::path dtbs = ctx.boot_assets / "dtbs/broadcom";
  if (!fs::is_directory(dtbs))
    throw std::runtime_error("kernel " + ctx.kernel_version + " ships no broadcom device trees (" +
                             dtbs.string() + ")");
  bool pi4 = false;
  for (const auto& e : fs::directory_iterator(dtbs)) {
    std::string name = e.path().filename().string();
    if (e.path().extension() == ".dtb" && name.rfind("bcm27", 0) == 0)
      copy_in(e.path(), dir / name);
    if (name.rfind("bcm283", 0) == 0 && e.path().extension() == ".dtb")
      copy_in(e.path(), dir / name);
    pi4 = pi4 || name == "bcm2711-rpi-4-b.dtb";
  }
  if (!pi4) throw std::runtime_error("kernel has no bcm2711-rpi-4-b.dtb");
  fs::path overlays = ctx.boot_assets / "dtbs/overlays";
  if (fs::is_directory(overlays))
    run({"cp", "-a", (overlays / ".").string(), (dir / "overlays").string()});
  else
    fs::create_directories(dir / "overlays");
  copy_in(ctx.kernel_image, dir / "vmlinuz");
  copy_in(ctx.initramfs, dir / "initramfs.img");
  write_text(dir / "config.txt",
             "# cairn " + ctx.recipe.name + " " + ctx.recipe.version +
                 " (generated)\n"
                 "[pi4]\narm_64bit=1\n\n[all]\narm_64bit=1\nenable_uart=1\nupstream_kernel=1\n"
                 "kernel=vmlinuz\ninitramfs initramfs.img followkernel\ndisable_splash=1\n");
  write_text(dir / "cmdline.txt", ctx.cmdline_a + "\n");
}

}  // namespace

void stage_boot_partition(BuildContext& ctx) {
  ctx.cmdline_a = cmdline(ctx, 'a');
  ctx.cmdline_b = cmdline(ctx, 'b');
  fs::path dir = ctx.work / "boot";
  fs::remove_all(dir);
  fs::create_directories(dir);
  if (ctx.recipe.board == Board::kUefi)
    uefi_tree(ctx, dir);
  else
    rpi_tree(ctx, dir);
  write_text(
      dir / "node.toml",
      "# cairn node configuration: edit after flashing (docs: node.toml)\n" + ctx.recipe.node_toml);
  normalize_times(dir, ctx.epoch);

  // The same files, for direct-kernel boots (QEMU tests) and inspection.
  fs::path boot_out = ctx.staging / "boot";
  fs::create_directories(boot_out);
  copy_in(ctx.kernel_image, boot_out / "vmlinuz");
  copy_in(ctx.initramfs, boot_out / "initramfs.img");
  write_text(boot_out / "cmdline-a.txt", ctx.cmdline_a + "\n");
  write_text(boot_out / "cmdline-b.txt", ctx.cmdline_b + "\n");
  if (ctx.recipe.board == Board::kRpi)
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".dtb") copy_in(e.path(), boot_out / e.path().filename());

  ctx.boot_image = ctx.work / "boot.img";
  ctx.boot_volume_id = seeded_hex(ctx.seed, "boot-volume-id", 8);
  fs::remove(ctx.boot_image);
  RunOptions opts;
  opts.env = ctx.tool_env();
  opts.env.push_back({"MTOOLS_SKIP_CHECK", "1"});
  uint64_t size = ctx.layout.by_label("cairn-boot").size;
  run({"mkfs.vfat", "-C", "-F", "32", "-S", "512", "-i", ctx.boot_volume_id, "-n", "CAIRN-BOOT",
       "--invariant", ctx.boot_image.string(), std::to_string(size / 1024)},
      opts);
  // One directory at a time, entries sorted: the FAT's layout then depends only on the tree,
  // never on the host directory's readdir order.
  std::vector<fs::path> dirs{dir};
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it)
    if (it->is_directory()) dirs.push_back(it->path());
  std::sort(dirs.begin() + 1, dirs.end());
  if (dirs.size() > 1) {
    std::vector<std::string> mmd = {"mmd", "-i", ctx.boot_image.string()};
    for (size_t i = 1; i < dirs.size(); ++i)
      mmd.push_back("::/" + dirs[i].lexically_relative(dir).string());
    run(mmd, opts);
  }
  for (const auto& d : dirs) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(d))
      if (e.is_regular_file()) files.push_back(e.path());
    if (files.empty()) continue;
    std::sort(files.begin(), files.end());
    std::vector<std::string> mcopy = {"mcopy", "-m", "-i", ctx.boot_image.string()};
    for (const auto& f : files) mcopy.push_back(f.string());
    std::string rel = d.lexically_relative(dir).string();
    mcopy.push_back(rel == "." ? "::/" : "::/" + rel + "/");
    run(mcopy, opts);
  }
}

}  // namespace cairn::image

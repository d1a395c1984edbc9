// The initramfs stage of `cairn-image build`: a reproducible, compressed newc cpio holding
// cairn-init as /init (stage 1, see init/stage1/stage1.h), the kernel modules boot needs
// (resolved with their dependencies from the rootfs's modules.dep), /etc/cairn/boot-modules
// (load order, each line "path: the modules it needs") and /etc/initrd-release. The archive layout
// is part of docs/boot-contract.md.
//
// Reproducible: entries sorted by path, every mtime = source_date_epoch, uid/gid 0, inode
// numbers assigned in path order, compression without names or timestamps (gzip -n, zstd
// without a dictionary or threads). The same request gives a bit-identical output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cairn::image {

enum class InitramfsCompression { kZstd, kGzip, kNone };

// A file copied from the host into the archive (e.g. a test overlay, a busybox for debugging).
struct InitramfsExtraFile {
  std::filesystem::path source;  // regular file on the build host
  std::string destination;       // absolute path inside the archive, e.g. "/bin/sh"
  uint32_t mode = 0644;          // permission bits only
};

struct InitramfsRequest {
  std::filesystem::path init_binary;   // static cairn-init for the target arch; becomes /init
  std::filesystem::path modules_root;  // a rootfs dir that contains lib/modules/<version>/
  std::string kernel_version;          // "" = the only directory under lib/modules/
  std::vector<std::string> modules;    // module names from the recipe ("virtio_blk",
                                       // "dm-verity"; '-' and '_' are the same); a module
                                       // built into the kernel (modules.builtin) is skipped
  std::filesystem::path output;        // the compressed cpio to write (replaced atomically)
  int64_t source_date_epoch = 0;       // mtime of every entry
  InitramfsCompression compression = InitramfsCompression::kZstd;
  std::vector<InitramfsExtraFile> extra_files;
};

struct InitramfsResult {
  std::string kernel_version;             // the version whose modules went in
  std::vector<std::string> module_paths;  // load order, relative to lib/modules/<version>/
  std::vector<std::string> builtin;       // requested modules that are built into the kernel
  uint64_t size = 0;                      // bytes written to output
};

// Builds the initramfs. Throws std::runtime_error with a message naming the file and reason
// (a missing module, a bad modules.dep line as "file:line: reason", a missing init binary,
// a failing compressor). On failure nothing is left at `output`.
InitramfsResult build_initramfs(const InitramfsRequest& request);

}  // namespace cairn::image

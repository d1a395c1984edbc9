// Stage "disk": the partition table (sfdisk on the image file: no loop devices, no mounts)
// and the partition images written at their offsets. root-b stays zero (reserved for A/B
// updates).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "image/build/pipeline.h"
#include "image/util/process.h"
#include "image/util/sha256.h"

namespace cairn::image {
namespace fs = std::filesystem;

void write_at(const fs::path& disk, uint64_t offset, const fs::path& file, uint64_t limit) {
  uint64_t size = fs::file_size(file);
  if (size > limit)
    throw std::runtime_error(file.string() + " (" + std::to_string(size) +
                             " bytes) does not fit its partition (" + std::to_string(limit) +
                             " bytes)");
  int in = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw std::runtime_error(file.string() + ": " + std::strerror(errno));
  int out = open(disk.c_str(), O_WRONLY | O_CLOEXEC);
  if (out < 0) {
    close(in);
    throw std::runtime_error(disk.string() + ": " + std::strerror(errno));
  }
  std::vector<char> buffer(1 << 20);
  uint64_t done = 0;
  std::string error;
  while (done < size && error.empty()) {
    // Holes of the partition image (most of an empty ext4 or FAT) stay holes in the fresh
    // sparse disk: skip them without reading (SEEK_DATA; without it everything is data).
    off_t data = lseek(in, static_cast<off_t>(done), SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole is left
    if (data > static_cast<off_t>(done)) {
      done = static_cast<uint64_t>(data);
      continue;
    }
    ssize_t got = pread(in, buffer.data(), buffer.size(), static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      error = file.string() + ": short read";
      break;
    }
    size_t n = static_cast<size_t>(got);
    bool zero = buffer[0] == 0 && std::memcmp(buffer.data(), buffer.data() + 1, n - 1) == 0;
    if (!zero) {
      size_t written = 0;
      while (written < n) {
        ssize_t w = pwrite(out, buffer.data() + written, n - written,
                           static_cast<off_t>(offset + done + written));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          error = disk.string() + ": write failed: " + std::strerror(errno);
          break;
        }
        written += static_cast<size_t>(w);
      }
    }
    done += n;
  }
  close(in);
  if (close(out) != 0 && error.empty()) error = disk.string() + ": " + std::strerror(errno);
  if (!error.empty()) throw std::runtime_error(error);
}

void stage_disk(BuildContext& ctx) {
  ctx.raw_image = ctx.staging / (ctx.recipe.name + ".img");
  fs::remove(ctx.raw_image);
  {
    int fd = open(ctx.raw_image.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(ctx.raw_image.string() + ": " + std::strerror(errno));
    int rc = ftruncate(fd, static_cast<off_t>(ctx.layout.disk_size));
    close(fd);
    if (rc != 0) throw std::runtime_error(ctx.raw_image.string() + ": cannot size the disk");
  }
  fs::path script = ctx.work / "sfdisk.script";
  {
    std::ofstream s(script);
    s << sfdisk_script(ctx.layout);
  }
  RunOptions opts;
  opts.env = ctx.tool_env();
  opts.stdin_file = script;
  run({"sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", "--wipe", "always",
       ctx.raw_image.string()},
      opts);
  const auto& boot = ctx.layout.by_label("cairn-boot");
  const auto& root = ctx.layout.by_label("cairn-root-a");
  const auto& data = ctx.layout.by_label("cairn-data");
  struct Part {
    uint64_t offset, size;
    fs::path image;
  };
  std::vector<Part> parts = {{boot.offset, boot.size, ctx.boot_image},
                             {root.offset, root.size, ctx.root_image},
                             {data.offset, data.size, ctx.data_image}};
  std::sort(parts.begin(), parts.end(),
            [](const Part& a, const Part& b) { return a.offset < b.offset; });
  // The raw image's sha256 from its parts, on a second thread while the parts are written
  // (the write is I/O-bound, the hash CPU-bound): the partition table areas from the disk file
  // (sfdisk wrote them above; write_at never touches them), each partition from its image and
  // the rest of the partition as the zeros write_at leaves there. The outputs stage uses it
  // instead of reading the 1+ GB file back; the image build tests check every manifest hash
  // against the file itself.
  std::string hash_error;
  std::thread hasher([&] {
    try {
      Sha256Stream sha;
      uint64_t pos = 0;
      for (const auto& p : parts) {
        sha.update_file(ctx.raw_image, pos, p.offset - pos);
        uint64_t used = std::min<uint64_t>(fs::file_size(p.image), p.size);
        sha.update_file(p.image, 0, used);
        sha.update_zeros(p.size - used);
        pos = p.offset + p.size;
      }
      sha.update_file(ctx.raw_image, pos, ctx.layout.disk_size - pos);
      ctx.raw_sha256 = sha.hex();
    } catch (const std::exception& e) {
      hash_error = e.what();
    }
  });
  try {
    for (const auto& p : parts) write_at(ctx.raw_image, p.offset, p.image, p.size);
  } catch (...) {
    hasher.join();
    throw;
  }
  hasher.join();
  if (!hash_error.empty()) throw std::runtime_error(hash_error);
}

}  // namespace cairn::image

// Stage "outputs": the formats the recipe asks for beside the raw image (qcow2 through
// qemu-img, the SD card image as zstd), the sha256 of every file, and manifest.json.
#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "image/build/manifest.h"
#include "image/build/pipeline.h"
#include "image/util/process.h"
#include "image/util/sha256.h"

namespace cairn::image {
namespace fs = std::filesystem;

void stage_outputs(BuildContext& ctx) {
  const Recipe& r = ctx.recipe;
  RunOptions opts;
  opts.env = ctx.tool_env();
  std::vector<fs::path> files;
  if (r.has_format(OutputFormat::kQcow2)) {
    fs::path qcow2 = ctx.staging / (r.name + ".qcow2");
    run({"qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", ctx.raw_image.string(),
         qcow2.string()},
        opts);
    files.push_back(qcow2);
  }
  if (r.has_format(OutputFormat::kSdZst)) {
    fs::path zst = ctx.staging / (r.name + ".img.zst");
    // Multi-threaded zstd output does not depend on the thread count, so -T0 stays
    // reproducible. Level 9: on this content -15 saves under 2% and takes 6x as long.
    run({"zstd", "-q", "-f", "-9", "-T0", "--no-progress", ctx.raw_image.string(), "-o",
         zst.string()},
        opts);
    files.push_back(zst);
  }
  if (r.has_format(OutputFormat::kRaw))
    files.insert(files.begin(), ctx.raw_image);
  else
    fs::remove(ctx.raw_image);
  for (const char* f :
       {"boot/vmlinuz", "boot/initramfs.img", "boot/cmdline-a.txt", "boot/cmdline-b.txt"})
    files.push_back(ctx.staging / f);
  std::vector<fs::path> dtbs;
  for (const auto& e : fs::directory_iterator(ctx.staging / "boot"))
    if (e.path().extension() == ".dtb") dtbs.push_back(e.path());
  std::sort(dtbs.begin(), dtbs.end());
  files.insert(files.end(), dtbs.begin(), dtbs.end());

  // Hash the big files in parallel: the machine's cores are otherwise idle here.
  ctx.outputs.resize(files.size());
  std::vector<std::thread> workers;
  std::vector<std::string> errors(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    workers.emplace_back([&, i] {
      try {
        // The raw image was hashed by the disk stage while it was written.
        bool raw = files[i] == ctx.raw_image && !ctx.raw_sha256.empty();
        ctx.outputs[i] = {files[i].lexically_relative(ctx.staging).string(),
                          fs::file_size(files[i]), raw ? ctx.raw_sha256 : sha256_file(files[i])};
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& w : workers) w.join();
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error(e);

  std::ofstream manifest(ctx.staging / kManifestFile, std::ios::binary | std::ios::trunc);
  manifest << manifest_json(ctx);
  if (!manifest) throw std::runtime_error("cannot write manifest.json");
}

}  // namespace cairn::image

// `cairn-image build`: the named stages, the progress display ("[3/9] install  2.1s") and the
// all-or-nothing output rule: everything is built in a work directory and a staging directory
// beside --out; only a complete build is renamed into place. A failed or interrupted build
// (SIGINT, SIGTERM, SIGHUP) removes both and leaves any previous output untouched.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "image/build/context.h"

namespace cairn::image {

struct Stage {
  const char* name;
  std::function<void(BuildContext&)> run;
};

// Every stage of a full build, in order.
std::vector<Stage> build_stages();

// Runs `stages` over a fresh context for `options`. With options.work_parent set, the work
// directory is <work_parent>/cairn-image-<name>.work-<pid>, locked (flock) while the build
// runs; work directories there that no running build locks (a build killed with SIGKILL) are
// removed first, except those --keep-work kept (they hold a file named KEPT). Returns 0 on success;
// on failure prints "cairn-image: stage 'NAME' failed: reason" to stderr and returns 1.
int run_build(const BuildOptions& options, const std::vector<Stage>& stages);

// Removes what each pattern (an absolute path inside the image, shell glob; "/usr/share/doc/*"
// includes dot files) matches under `root`. "." and ".." never match.
void prune_paths(const std::filesystem::path& root, const std::vector<std::string>& patterns);

// Sets the mtime and atime of `root` and everything under it (symlinks themselves) to `epoch`.
void normalize_times(const std::filesystem::path& root, int64_t epoch);

// Copies `file` into `disk` at byte `offset`, skipping all-zero blocks so a fresh sparse disk
// file stays sparse. Throws if the file would not fit in `limit` bytes.
void write_at(const std::filesystem::path& disk, uint64_t offset, const std::filesystem::path& file,
              uint64_t limit);

// The stages (each in its own file).
void stage_validate(BuildContext& ctx);
void stage_rootfs(BuildContext& ctx);
void stage_install(BuildContext& ctx);
void stage_initramfs(BuildContext& ctx);
void stage_root_image(BuildContext& ctx);
void stage_boot_partition(BuildContext& ctx);
void stage_data_partition(BuildContext& ctx);
void stage_disk(BuildContext& ctx);
void stage_outputs(BuildContext& ctx);

}  // namespace cairn::image

// An image recipe (recipes/*.toml): the declarative input of `cairn-image build`. This header is
// the in-memory form; parse_recipe() fills it and reports every problem as a Diagnostic
// ("file:line:col: error: reason"). The schema is documented in docs/image.md.
//
// Paths in a recipe (overlay dirs, service dirs, artifacts) are relative to the recipe file's
// directory; the parser resolves them to absolute paths but does not require them to exist
// (validate_recipe_inputs() checks the files, including artifact hashes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostic.h"

namespace cairn::image {

enum class Arch { kX86_64, kArm64 };
enum class Board { kUefi, kRpi };
enum class OutputFormat { kRaw, kQcow2, kSdZst };

const char* arch_name(Arch arch);           // "x86_64" | "arm64"
const char* debian_arch(Arch arch);         // "amd64" | "arm64"
const char* board_name(Board board);        // "uefi" | "rpi"
const char* format_name(OutputFormat fmt);  // "raw" | "qcow2" | "sd-zst"

// A file from outside the Debian archive, pinned by its SHA-256 (e.g. Kubernetes binaries).
struct Artifact {
  std::string name;              // the [artifacts.NAME] table name
  std::filesystem::path source;  // absolute path on the build host
  std::string sha256;            // 64 lower-case hex digits
  std::string destination;       // absolute path inside the image
  uint32_t mode = 0644;
};

struct Recipe {
  std::filesystem::path file;  // the recipe file (absolute)

  // [image]
  std::string name;     // [a-z0-9-]+, names the output directory and seeds every UUID
  std::string version;  // free text without spaces
  Arch arch = Arch::kX86_64;
  Board board = Board::kUefi;
  std::vector<OutputFormat> formats{OutputFormat::kRaw};
  int64_t source_date_epoch = 1704067200;  // 2024-01-01T00:00:00Z unless the recipe pins one
  std::string seed;                        // "" = name + "-" + version
  // erofs compression of the root: "none" (default: fastest to build, and the .img.zst then
  // compresses it best), "lz4" or "lz4hc" (smaller on disk, slower to build).
  std::string root_compression = "none";
  // Which files root_compression applies to: "all" (default) or "boot": only what stage 1
  // reads ahead at boot (cairn-init and the enabled services' executables), in 64 KiB
  // clusters. Under emulation dm-verity's sha256 of every block read is the cost of a cold
  // read, so compressed boot files mean fewer blocks hashed; the rest stays uncompressed, so
  // the .img.zst still compresses it well.
  std::string root_compress_files = "all";

  // [packages]
  std::string suite = "bookworm";
  std::string mirror = "http://deb.debian.org/debian";
  std::vector<std::string> components{"main"};
  // More apt sources, "URL SUITE" each (same components), e.g. the security archive: what
  // they serve overrides the main suite's older versions (apt picks the newest candidate).
  std::vector<std::string> extra_sources;
  std::vector<std::string> packages;  // the rootfs package list (the kernel package is added)
  std::vector<std::string> prune;     // paths (globs allowed) removed from the rootfs

  // [kernel]
  std::string kernel_package;
  std::vector<std::string> boot_modules;  // loaded by stage 1 from the initramfs
  std::vector<std::string> omit_modules;  // dirs under lib/modules/<v>/ dropped from the image
  std::string cmdline;                    // appended to the generated cairn.* keys
  std::string console;                    // "" = ttyS0 (x86_64) / ttyAMA0 (arm64) / none

  // [partitions] (bytes; multiples of 1 MiB)
  uint64_t boot_size = 0;
  uint64_t root_size = 0;
  uint64_t data_size = 0;

  // [overlays] directories copied over the rootfs in order (later wins)
  std::vector<std::filesystem::path> overlays;

  // [services]
  std::vector<std::string> services;                // enabled service names
  std::vector<std::filesystem::path> service_dirs;  // where NAME.toml is looked up

  // [artifacts.*]
  std::vector<Artifact> artifacts;

  // [node]: copied verbatim (re-serialised) to node.toml on the boot partition.
  std::string node_toml;

  // Source positions of values validate_recipe_inputs() may complain about, by key path
  // ("overlays.dirs[1]", "services.enabled[0]", "artifacts.k8s.path"): {line, column}.
  std::map<std::string, std::pair<int, int>> positions;

  std::string effective_seed() const { return seed.empty() ? name + "-" + version : seed; }
  bool has_format(OutputFormat f) const;
};

// Parses and validates a recipe. Returns nullopt if any diagnostic was added.
std::optional<Recipe> parse_recipe_text(std::string_view text, const std::filesystem::path& file,
                                        std::vector<Diagnostic>& out);
std::optional<Recipe> parse_recipe_file(const std::filesystem::path& file,
                                        std::vector<Diagnostic>& out);

// Checks what the recipe points at on this host: overlay and service dirs exist, every enabled
// service file exists, every artifact exists and matches its sha256. Appends diagnostics
// (naming the recipe file) and returns false on any problem.
bool validate_recipe_inputs(const Recipe& recipe, std::vector<Diagnostic>& out);

// Where an enabled service's file is: the first service dir holding NAME.toml, or "" if none.
std::filesystem::path find_service_file(const Recipe& recipe, const std::string& name);

}  // namespace cairn::image

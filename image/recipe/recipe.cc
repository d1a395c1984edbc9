#include "image/recipe/recipe.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "common/toml_reader.h"
#include "common/units.h"
#include "image/util/sha256.h"

namespace cairn::image {
namespace fs = std::filesystem;

const char* arch_name(Arch arch) {
  return arch == Arch::kX86_64 ? "x86_64" : "arm64";
}
const char* debian_arch(Arch arch) {
  return arch == Arch::kX86_64 ? "amd64" : "arm64";
}
const char* board_name(Board board) {
  return board == Board::kUefi ? "uefi" : "rpi";
}
const char* format_name(OutputFormat fmt) {
  switch (fmt) {
    case OutputFormat::kRaw:
      return "raw";
    case OutputFormat::kQcow2:
      return "qcow2";
    case OutputFormat::kSdZst:
      return "sd-zst";
  }
  return "?";
}

bool Recipe::has_format(OutputFormat f) const {
  return std::find(formats.begin(), formats.end(), f) != formats.end();
}

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

std::pair<int, int> pos_of(const toml::node& n) {
  auto b = n.source().begin;
  return {static_cast<int>(b.line), static_cast<int>(b.column)};
}

std::string check_name(const std::string& v) {
  static const std::regex re("[a-z0-9][a-z0-9_-]{0,62}");
  return std::regex_match(v, re)
             ? ""
             : "must be 1-63 of a-z, 0-9, '_' and '-', starting with a letter or digit";
}

std::string check_no_space(const std::string& v) {
  if (v.empty()) return "must not be empty";
  for (char c : v)
    if (c <= ' ' || c == 0x7f) return "must not contain spaces or control characters";
  return "";
}

// A required key: reports "missing required key" at the table when absent.
template <typename T>
std::optional<T> require(const TomlSection& s, std::string_view key, std::optional<T> value) {
  if (!s.has(key)) s.error(key, "missing required key");
  return value;
}

// A byte size from [partitions]: "512M", "1G"; a whole number of MiB, at least `min`.
std::optional<uint64_t> partition_size(const TomlSection& s, std::string_view key, uint64_t min) {
  if (!s.has(key)) {
    s.error(key, "missing required key");
    return std::nullopt;
  }
  auto text = s.string(key);
  if (!text) return std::nullopt;
  std::optional<uint64_t> bytes;
  std::string why = parse_byte_size(*text, bytes, /*allow_max=*/false);
  if (!why.empty()) {
    s.error(key, why);
    return std::nullopt;
  }
  if (*bytes % kMiB != 0) {
    s.error(key, "must be a whole number of MiB (e.g. \"512M\")");
    return std::nullopt;
  }
  if (*bytes < min) {
    s.error(key, "too small: at least " + format_bytes(min));
    return std::nullopt;
  }
  if (*bytes > (uint64_t{1} << 44)) {
    s.error(key, "too large: at most 16T");
    return std::nullopt;
  }
  return bytes;
}

// A string array whose elements each pass `check` and are unique.
std::optional<std::vector<std::string>> checked_list(
    const TomlSection& s, std::string_view key,
    const std::function<std::string(const std::string&)>& check) {
  auto list = s.string_array(key);
  if (!list) return std::nullopt;
  const auto* arr = s.node(key)->as_array();
  std::set<std::string> seen;
  bool ok = true;
  for (size_t i = 0; i < list->size(); ++i) {
    const auto& v = (*list)[i];
    std::string why = check(v);
    if (why.empty() && !seen.insert(v).second) why = "\"" + v + "\" is listed twice";
    if (!why.empty()) {
      s.error_at(*arr->get(i), key, why);
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return list;
}

fs::path resolve(const fs::path& base, const std::string& p) {
  fs::path path(p);
  return (path.is_absolute() ? path : base / path).lexically_normal();
}

void record_list_positions(Recipe& r, const TomlSection& s, std::string_view key) {
  const toml::node* n = s.node(key);
  if (!n || !n->as_array()) return;
  const auto& arr = *n->as_array();
  for (size_t i = 0; i < arr.size(); ++i)
    r.positions[s.key_path(key) + "[" + std::to_string(i) + "]"] = pos_of(*arr.get(i));
}

void parse_image(const TomlSection& s, Recipe& r) {
  s.check_keys({"name", "version", "arch", "board", "formats", "source-date-epoch", "seed",
                "root-compression", "root-compress-files"});
  if (auto v = require(s, "name", s.string_checked("name", check_name))) r.name = *v;
  if (auto v = require(s, "version", s.string_checked("version", check_no_space))) r.version = *v;
  auto arch = require(s, "arch", s.string_checked("arch", [](const std::string& v) {
    return v == "x86_64" || v == "arm64" ? "" : "must be \"x86_64\" or \"arm64\"";
  }));
  if (arch) r.arch = *arch == "x86_64" ? Arch::kX86_64 : Arch::kArm64;
  auto board = require(s, "board", s.string_checked("board", [](const std::string& v) {
    return v == "uefi" || v == "rpi" ? "" : "must be \"uefi\" or \"rpi\"";
  }));
  if (board) r.board = *board == "uefi" ? Board::kUefi : Board::kRpi;
  if (arch && board && r.board == Board::kRpi && r.arch != Arch::kArm64)
    s.error("board", "board \"rpi\" needs arch = \"arm64\"");
  if (s.has("formats")) {
    auto formats = checked_list(s, "formats", [](const std::string& v) {
      return v == "raw" || v == "qcow2" || v == "sd-zst"
                 ? ""
                 : "unknown format \"" + v + "\" (raw, qcow2, sd-zst)";
    });
    if (formats) {
      if (formats->empty()) s.error("formats", "must list at least one format");
      r.formats.clear();
      for (const auto& f : *formats)
        r.formats.push_back(f == "raw"     ? OutputFormat::kRaw
                            : f == "qcow2" ? OutputFormat::kQcow2
                                           : OutputFormat::kSdZst);
    }
  }
  if (auto v = s.integer("source-date-epoch", 0, 253402300799)) r.source_date_epoch = *v;
  if (auto v = s.string_checked("seed", check_no_space)) r.seed = *v;
  if (auto v = s.string_checked("root-compression", [](const std::string& c) {
        return c == "none" || c == "lz4" || c == "lz4hc" ? ""
                                                         : "must be \"none\", \"lz4\" or \"lz4hc\"";
      }))
    r.root_compression = *v;
  if (auto v = s.string_checked("root-compress-files", [](const std::string& c) {
        return c == "all" || c == "boot" ? "" : "must be \"all\" or \"boot\"";
      }))
    r.root_compress_files = *v;
}

void parse_packages(const TomlSection& s, Recipe& r) {
  s.check_keys({"suite", "mirror", "extra-sources", "components", "list", "prune"});
  if (auto v = require(s, "suite", s.string_checked("suite", [](const std::string& text) {
        static const std::regex re("[a-z][a-z0-9-]{0,31}");
        return std::regex_match(text, re) ? "" : "not a Debian suite name";
      })))
    r.suite = *v;
  if (auto v = s.string_checked("mirror", [](const std::string& url) {
        return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0 ||
                       url.rfind("file:/", 0) == 0
                   ? ""
                   : "must be an http://, https:// or file:/ URL";
      }))
    r.mirror = *v;
  if (auto v = checked_list(s, "extra-sources", [](const std::string& src) -> std::string {
        static const std::regex re("(https?://|file:/)[^ \t]+ [a-z][a-z0-9-]{0,31}");
        return std::regex_match(src, re)
                   ? ""
                   : "\"" + src +
                         "\" is not \"URL SUITE\" (an http://, https:// or file:/ URL, "
                         "one space, a Debian suite name)";
      }))
    r.extra_sources = *v;
  auto package_name = [](const std::string& v) -> std::string {
    static const std::regex re("[a-z0-9][a-z0-9+.-]+");
    return std::regex_match(v, re) ? "" : "\"" + v + "\" is not a Debian package name";
  };
  if (s.has("components")) {
    if (auto v = checked_list(s, "components", [](const std::string& c) -> std::string {
          static const std::set<std::string> known{"main", "contrib", "non-free",
                                                   "non-free-firmware"};
          return known.count(c) ? "" : "unknown component \"" + c + "\"";
        })) {
      if (v->empty()) s.error("components", "must list at least one component");
      r.components = *v;
    }
  }
  if (auto v = require(s, "list", checked_list(s, "list", package_name))) {
    if (v->empty()) s.error("list", "must list at least one package");
    r.packages = *v;
  }
  if (auto v = checked_list(s, "prune", [](const std::string& p) -> std::string {
        if (p.empty() || p[0] != '/') return "must be an absolute path in the image";
        if (p.find("..") != std::string::npos) return "must not contain \"..\"";
        return p == "/" ? "cannot prune the whole root" : "";
      }))
    r.prune = *v;
}

void parse_kernel(const TomlSection& s, Recipe& r) {
  s.check_keys({"package", "modules", "omit-modules", "cmdline", "console"});
  if (auto v = require(s, "package", s.string_checked("package", check_no_space)))
    r.kernel_package = *v;
  if (auto v = checked_list(s, "modules", [](const std::string& m) -> std::string {
        static const std::regex re("[A-Za-z0-9_-]+");
        return std::regex_match(m, re) ? "" : "\"" + m + "\" is not a module name";
      }))
    r.boot_modules = *v;
  if (auto v = checked_list(s, "omit-modules", [](const std::string& m) -> std::string {
        if (m.empty() || m[0] == '/' || m.find("..") != std::string::npos)
          return "must be a relative path under lib/modules/<version>/ (e.g. \"kernel/sound\")";
        return "";
      }))
    r.omit_modules = *v;
  if (auto v = s.string_checked("cmdline", [](const std::string& c) -> std::string {
        if (c.find('\n') != std::string::npos) return "must be one line";
        if (c.find("cairn.root=") != std::string::npos ||
            c.find("cairn.verity.") != std::string::npos)
          return "cairn.root and cairn.verity.* are generated by the builder";
        return c.size() > 1024 ? "too long (the builder adds its own keys; keep it under 1 KiB)"
                               : "";
      }))
    r.cmdline = *v;
  if (auto v = s.string_checked("console", [](const std::string& c) -> std::string {
        static const std::regex re("[A-Za-z0-9]+(,[0-9a-z]+)?");
        return c.empty() || std::regex_match(c, re)
                   ? ""
                   : "must look like \"ttyS0\" or \"ttyS0,115200\"";
      }))
    r.console = *v;
}

void parse_partitions(const TomlSection& s, Recipe& r) {
  s.check_keys({"boot", "root", "data"});
  if (auto v = partition_size(s, "boot", 64 * kMiB)) r.boot_size = *v;
  if (auto v = partition_size(s, "root", 16 * kMiB)) r.root_size = *v;
  if (auto v = partition_size(s, "data", 16 * kMiB)) r.data_size = *v;
}

void parse_overlays(const TomlSection& s, Recipe& r, const fs::path& base) {
  s.check_keys({"dirs"});
  if (auto v = checked_list(s, "dirs", check_no_space)) {
    for (const auto& d : *v) r.overlays.push_back(resolve(base, d));
    record_list_positions(r, s, "dirs");
  }
}

void parse_services(const TomlSection& s, Recipe& r, const fs::path& base) {
  s.check_keys({"enabled", "dirs"});
  if (auto v = checked_list(s, "enabled", [](const std::string& n) -> std::string {
        static const std::regex re("[A-Za-z0-9_][A-Za-z0-9_.-]*");
        return std::regex_match(n, re) ? "" : "\"" + n + "\" is not a service name";
      })) {
    r.services = *v;
    record_list_positions(r, s, "enabled");
  }
  r.service_dirs.clear();
  if (s.has("dirs")) {
    if (auto v = checked_list(s, "dirs", check_no_space)) {
      for (const auto& d : *v) r.service_dirs.push_back(resolve(base, d));
      record_list_positions(r, s, "dirs");
    }
  } else {
    r.service_dirs.push_back(resolve(base, "../services"));
  }
}

void parse_artifacts(const TomlSection& s, Recipe& r, const fs::path& base) {
  for (const auto& [key, value] : s.raw()) {
    std::string name(key.str());
    auto table = s.table(name);
    if (!table) continue;
    table->check_keys({"path", "sha256", "destination", "mode"});
    Artifact a;
    a.name = name;
    if (auto v = require(*table, "path", table->string_checked("path", check_no_space))) {
      a.source = resolve(base, *v);
      r.positions[table->key_path("path")] = pos_of(*table->node("path"));
    }
    if (auto v =
            require(*table, "sha256", table->string_checked("sha256", [](const std::string& h) {
              static const std::regex re("[0-9a-f]{64}");
              return std::regex_match(h, re) ? "" : "must be 64 lower-case hex digits";
            }))) {
      a.sha256 = *v;
      r.positions[table->key_path("sha256")] = pos_of(*table->node("sha256"));
    }
    if (auto v = require(*table, "destination",
                         table->string_checked("destination", [](const std::string& d) {
                           if (d.size() < 2 || d[0] != '/') return "must be an absolute path";
                           if (d.find("..") != std::string::npos) return "must not contain \"..\"";
                           return d.back() == '/' ? "must name a file, not a directory" : "";
                         })))
      a.destination = *v;
    if (const toml::node* m = table->node("mode")) {
      std::optional<std::string> text;
      if (const auto* str = m->as_string()) text = str->get();
      static const std::regex re("0?[0-7]{3,4}");
      if (!text || !std::regex_match(*text, re))
        table->error("mode", "must be an octal permission string such as \"0755\"");
      else
        a.mode = static_cast<uint32_t>(std::stoul(*text, nullptr, 8)) & 07777;
    }
    r.artifacts.push_back(std::move(a));
  }
}

void parse_node(const TomlSection& s, Recipe& r) {
  std::ostringstream out;
  out << toml::toml_formatter(s.raw(), toml::format_flags::none);
  r.node_toml = out.str();
  if (!r.node_toml.empty() && r.node_toml.back() != '\n') r.node_toml += '\n';
}

}  // namespace

std::optional<Recipe> parse_recipe_text(std::string_view text, const fs::path& file,
                                        std::vector<Diagnostic>& out) {
  size_t before = out.size();
  auto root = parse_toml(text, file.string(), out);
  if (!root) return std::nullopt;
  TomlReader reader(file.string(), out);
  TomlSection top(reader, *root);
  top.check_keys(
      {"image", "packages", "kernel", "partitions", "overlays", "services", "artifacts", "node"});
  Recipe r;
  r.file = fs::absolute(file).lexically_normal();
  fs::path base = r.file.parent_path();
  r.service_dirs.push_back(resolve(base, "../services"));

  auto section = [&](std::string_view key, bool required, auto&& parse) {
    if (!top.has(key)) {
      if (required) reader.error("missing required table [" + std::string(key) + "]");
      return;
    }
    if (auto t = top.table(key)) parse(*t);
  };
  section("image", true, [&](const TomlSection& s) { parse_image(s, r); });
  section("packages", true, [&](const TomlSection& s) { parse_packages(s, r); });
  section("kernel", true, [&](const TomlSection& s) { parse_kernel(s, r); });
  section("partitions", true, [&](const TomlSection& s) { parse_partitions(s, r); });
  section("overlays", false, [&](const TomlSection& s) { parse_overlays(s, r, base); });
  section("services", false, [&](const TomlSection& s) { parse_services(s, r, base); });
  section("artifacts", false, [&](const TomlSection& s) { parse_artifacts(s, r, base); });
  section("node", false, [&](const TomlSection& s) { parse_node(s, r); });

  if (r.board == Board::kRpi && top.has("packages") && top.has("image") &&
      std::find(r.components.begin(), r.components.end(), "non-free-firmware") ==
          r.components.end()) {
    if (auto p = top.table("packages"))
      p->error("components",
               "board \"rpi\" needs the \"non-free-firmware\" component (raspi-firmware)");
  }
  if (out.size() != before) return std::nullopt;
  return r;
}

std::optional<Recipe> parse_recipe_file(const fs::path& file, std::vector<Diagnostic>& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    out.push_back({file.string(), 0, 0, std::string("cannot read: ") + std::strerror(errno)});
    return std::nullopt;
  }
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxTomlFileBytes) break;  // parse_recipe_text reports the size
  }
  return parse_recipe_text(text, file, out);
}

fs::path find_service_file(const Recipe& recipe, const std::string& name) {
  for (const auto& dir : recipe.service_dirs) {
    fs::path candidate = dir / (name + ".toml");
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return {};
}

bool validate_recipe_inputs(const Recipe& recipe, std::vector<Diagnostic>& out) {
  size_t before = out.size();
  auto error_at = [&](const std::string& key, const std::string& message) {
    auto it = recipe.positions.find(key);
    int line = it == recipe.positions.end() ? 0 : it->second.first;
    int col = it == recipe.positions.end() ? 0 : it->second.second;
    out.push_back({recipe.file.string(), line, col, key + ": " + message});
  };
  std::error_code ec;
  for (size_t i = 0; i < recipe.overlays.size(); ++i)
    if (!fs::is_directory(recipe.overlays[i], ec))
      error_at("overlays.dirs[" + std::to_string(i) + "]",
               "no such directory: " + recipe.overlays[i].string());
  for (size_t i = 0; i < recipe.services.size(); ++i) {
    if (find_service_file(recipe, recipe.services[i]).empty()) {
      std::string dirs;
      for (const auto& d : recipe.service_dirs) dirs += (dirs.empty() ? "" : ", ") + d.string();
      error_at("services.enabled[" + std::to_string(i) + "]",
               "no service file " + recipe.services[i] + ".toml in " + dirs);
    }
  }
  for (const auto& a : recipe.artifacts) {
    std::string key = "artifacts." + a.name;
    if (!fs::is_regular_file(a.source, ec)) {
      error_at(key + ".path", "no such file: " + a.source.string());
      continue;
    }
    std::string actual = sha256_file(a.source);
    if (actual != a.sha256)
      error_at(key + ".sha256",
               "mismatch for " + a.source.string() + ": the file's sha256 is " + actual);
  }
  return out.size() == before;
}

}  // namespace cairn::image

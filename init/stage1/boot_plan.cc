#include "init/stage1/boot_plan.h"

#include <cctype>
#include <cstdlib>

namespace cairn::init::stage1 {
namespace {

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  out = v;
  return true;
}

bool valid_gpt_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool valid_mbr_uuid(std::string_view s) {
  // "<8 hex>-<2 digits>" as the kernel prints it (the number part may be 2 or 3 digits).
  return (s.size() == 11 || s.size() == 12) && s[8] == '-' && is_hex(s.substr(0, 8)) &&
         std::isdigit(static_cast<unsigned char>(s[9])) &&
         std::isdigit(static_cast<unsigned char>(s[10])) &&
         (s.size() == 11 || std::isdigit(static_cast<unsigned char>(s[11])));
}

}  // namespace

std::string DeviceSpec::str() const {
  switch (kind) {
    case Kind::kPartLabel:
      return "PARTLABEL=" + value;
    case Kind::kPartUuid:
      return "PARTUUID=" + value;
    case Kind::kPath:
      return value;
    case Kind::kNone:
      break;
  }
  return "(none)";
}

std::vector<std::string> split_cmdline(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) break;
    std::string word;
    bool quoted = false;
    while (i < s.size() && (quoted || !std::isspace(static_cast<unsigned char>(s[i])))) {
      if (s[i] == '"') {
        quoted = !quoted;
      } else {
        word.push_back(s[i]);
      }
      ++i;
    }
    out.push_back(std::move(word));
  }
  return out;
}

DeviceSpec parse_device_spec(std::string_view text, std::string* error) {
  DeviceSpec d;
  auto bad = [&](const std::string& why) {
    if (error) *error = why;
    return DeviceSpec{};
  };
  if (text.rfind("PARTLABEL=", 0) == 0) {
    std::string_view label = text.substr(10);
    if (label.empty() || label.size() > 36)
      return bad("a GPT partition label has 1 to 36 characters");
    for (char c : label) {
      if (c == '/' || static_cast<unsigned char>(c) < 0x20) return bad("bad character in label");
    }
    d.kind = DeviceSpec::Kind::kPartLabel;
    d.value = std::string(label);
  } else if (text.rfind("PARTUUID=", 0) == 0) {
    std::string uuid = lower(text.substr(9));
    if (!valid_gpt_uuid(uuid) && !valid_mbr_uuid(uuid)) {
      return bad("PARTUUID is neither a GPT GUID nor <8 hex>-<partition number>");
    }
    d.kind = DeviceSpec::Kind::kPartUuid;
    d.value = uuid;
  } else if (text.rfind("/dev/", 0) == 0 && text.size() > 5 &&
             text.find("..") == std::string_view::npos) {
    d.kind = DeviceSpec::Kind::kPath;
    d.value = std::string(text);
  } else {
    return bad("expected PARTLABEL=<label>, PARTUUID=<uuid> or /dev/<name>");
  }
  return d;
}

PlanResult plan_from_cmdline(std::string_view cmdline) {
  PlanResult r;
  BootPlan& p = r.plan;
  bool have_offset = false;
  for (const std::string& word : split_cmdline(cmdline)) {
    if (word.rfind("cairn.", 0) != 0) continue;
    const size_t eq = word.find('=');
    const std::string key = word.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : word.substr(eq + 1);
    auto error = [&](const std::string& why) { r.errors.push_back(word + ": " + why); };
    std::string why;
    if (key == "cairn.root" || key == "cairn.data" || key == "cairn.boot") {
      DeviceSpec d = parse_device_spec(value, &why);
      if (d.empty()) error(why);
      (key == "cairn.root" ? p.root : key == "cairn.data" ? p.data : p.boot) = d;
    } else if (key == "cairn.verity.roothash") {
      // sha256 (64) up to sha512 (128) hex digits.
      if (!is_hex(value) || value.size() % 2 != 0 || value.size() < 32 || value.size() > 128) {
        error("expected the root hash in hex");
      } else {
        p.roothash = lower(value);
      }
    } else if (key == "cairn.verity.hashoffset") {
      if (!parse_u64(value, p.hash_offset) || p.hash_offset % 512 != 0 || p.hash_offset == 0) {
        error("expected a byte offset (a positive multiple of 512)");
      } else {
        have_offset = true;
      }
    } else if (key == "cairn.timeout") {
      uint64_t t = 0;
      if (!parse_u64(value, t) || t == 0 || t > 3600) {
        error("expected seconds between 1 and 3600");
      } else {
        p.timeout_seconds = static_cast<int>(t);
      }
    } else if (key == "cairn.emergency") {
      if (value == "halt") {
        p.emergency = Emergency::kHalt;
      } else if (value == "reboot") {
        p.emergency = Emergency::kReboot;
      } else if (value == "shell") {
        p.emergency = Emergency::kShell;
      } else {
        error("expected halt, reboot or shell");
      }
    } else if (key == "cairn.slot") {
      if (value != "a" && value != "b") error("expected a or b");
      p.slot = value;
    } else if (key == "cairn.rootfstype") {
      if (value != "erofs" && value != "squashfs") error("expected erofs or squashfs");
      p.rootfstype = value;
    } else if (key == "cairn.init") {
      if (value.empty() || value[0] != '/' || value.find("..") != std::string::npos) {
        error("expected an absolute path");
      } else {
        p.init = value;
      }
    } else if (key == "cairn.data.grow") {
      if (value != "0" && value != "1") error("expected 0 or 1");
      p.grow_data = value != "0";
    } else if (key == "cairn.modules.threads") {
      if (value.size() != 1 || value[0] < '1' || value[0] > '4') {
        error("expected 1, 2, 3 or 4");
      } else {
        p.module_threads = value[0] - '0';
      }
    }
    // Other cairn.* keys (cairn.crash, ...) belong to stage 2.
  }
  if (p.root.empty() && r.errors.empty())
    r.errors.push_back("cairn.root: missing (no root device named)");
  if (!p.roothash.empty() && !have_offset) {
    r.errors.push_back("cairn.verity.hashoffset: missing (needed with cairn.verity.roothash)");
  }
  return r;
}

}  // namespace cairn::init::stage1

#include "init/control/message.h"

namespace cairn::init::control {
namespace {

constexpr size_t kMaxKeyBytes = 64;

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxKeyBytes) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void encode_fields(const Fields& fields, std::string& out) {
  for (const auto& [key, value] : fields.items) {
    out += key;
    out += '=';
    out += escape_value(value);
    out += '\n';
  }
}

}  // namespace

const std::string* Fields::get(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::vector<std::string> Fields::all(std::string_view key) const {
  std::vector<std::string> values;
  for (const auto& [k, v] : items) {
    if (k == key) values.push_back(v);
  }
  return values;
}

std::string escape_value(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

bool unescape_value(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;  // raw control bytes are never sent
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= text.size()) return false;
    switch (text[i]) {
      case '\\':
        out += '\\';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'x': {
        if (i + 2 >= text.size()) return false;
        int high = hex_value(text[i + 1]);
        int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) return false;
        out += static_cast<char>(high * 16 + low);
        i += 2;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

std::string encode_message(const Message& message) {
  std::string out = message.kind;
  out += '\n';
  encode_fields(message.head, out);
  for (const auto& record : message.records) {
    out += '[';
    out += record.type;
    out += "]\n";
    encode_fields(record.fields, out);
  }
  return out;
}

std::string decode_message(std::string_view payload, Message& out) {
  out = Message{};
  size_t pos = 0;
  size_t line_number = 0;
  Fields* current = &out.head;
  while (pos < payload.size()) {
    size_t end = payload.find('\n', pos);
    if (end == std::string_view::npos) {
      return "line " + std::to_string(line_number + 1) + ": not terminated by a newline";
    }
    std::string_view line = payload.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    std::string where = "line " + std::to_string(line_number) + ": ";
    if (line_number == 1) {
      if (!valid_name(line)) return where + "invalid message kind";
      out.kind = std::string(line);
      continue;
    }
    if (!line.empty() && line.front() == '[') {
      if (line.size() < 3 || line.back() != ']') return where + "invalid record header";
      std::string_view type = line.substr(1, line.size() - 2);
      if (!valid_name(type)) return where + "invalid record type";
      out.records.push_back({std::string(type), {}});
      current = &out.records.back().fields;
      continue;
    }
    size_t equals = line.find('=');
    if (equals == std::string_view::npos) return where + "expected key=value";
    std::string_view key = line.substr(0, equals);
    if (!valid_name(key)) return where + "invalid key";
    std::string value;
    if (!unescape_value(line.substr(equals + 1), value)) return where + "invalid escape in value";
    current->add(std::string(key), std::move(value));
  }
  if (line_number == 0) return "empty message";
  return "";
}

}  // namespace cairn::init::control

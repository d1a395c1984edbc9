// The text encoding inside a control-protocol frame (docs/control-protocol.md):
//
//   <kind>\n                 first line: the message kind ("status", "services", "error", ..)
//   key=value\n              fields of the message head
//   [record]\n               starts a record (a service, a timeline entry, ..)
//   key=value\n              fields of that record
//
// Keys are 1..64 of [a-z0-9_-]; a key may repeat (lists). Values are escaped: backslash as
// "\\", newline "\n", carriage return "\r", other control bytes and DEL as "\xHH"; every other
// byte (UTF-8 included) is itself. Human-readable on purpose: `socat` is a usable client.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::init::control {

struct Fields {
  std::vector<std::pair<std::string, std::string>> items;

  void add(std::string key, std::string value) {
    items.emplace_back(std::move(key), std::move(value));
  }
  // The first value of `key`, or nullptr.
  const std::string* get(std::string_view key) const;
  // Every value of `key`, in order.
  std::vector<std::string> all(std::string_view key) const;
};

struct Record {
  std::string type;
  Fields fields;
};

struct Message {
  std::string kind;
  Fields head;
  std::vector<Record> records;
};

std::string encode_message(const Message& message);
// "" on success, else why `payload` is malformed (with the line number).
std::string decode_message(std::string_view payload, Message& out);

// Escaping of one value (exposed for tests).
std::string escape_value(std::string_view value);
bool unescape_value(std::string_view text, std::string& out);

}  // namespace cairn::init::control

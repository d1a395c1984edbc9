// Reads the .modinfo section of a kernel module (an ELF relocatable object): NUL-separated
// "key=value" strings such as name=, depends=, softdep=, alias=. Used when the rootfs has no
// modules.dep because depmod never ran in it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::image {

// The key/value pairs of `elf`'s .modinfo section, in file order. Throws std::runtime_error
// ("<what>: reason") if `elf` is not a well-formed 32/64-bit little- or big-endian ELF or has
// no .modinfo section. Never reads outside `elf`.
std::vector<std::pair<std::string, std::string>> read_modinfo(std::string_view elf,
                                                              const std::string& what);

}  // namespace cairn::image

// Reading the small text files of sysfs (uevent, class, vendor, ...): stage 1 is a static
// binary with no library to lean on, and sysfs attributes are read whole with plain read(2).
#pragma once

#include <string>

namespace cairn::init::stage1 {

// The whole file, or "" if it cannot be opened (a device may be vanishing or appearing).
std::string read_small_file(const std::string& path);

}  // namespace cairn::init::stage1

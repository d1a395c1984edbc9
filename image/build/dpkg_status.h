// The dpkg status database (/var/lib/dpkg/status) of an image's root: which Debian packages
// the tree holds, with versions and architectures. The rootfs stage writes it from exactly
// the .debs apt resolved and mmdebstrap unpacked (no maintainer scripts ran, so each entry is
// "install ok unpacked"), and the manifest and /usr/share/cairn/packages.tsv are read back
// from it: one source for the image's package list, also readable by dpkg-query and SBOM
// scanners inside the image.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cairn::image {

// An installed Debian package.
struct PackageInfo {
  std::string name, version, architecture;
  bool operator==(const PackageInfo&) const = default;
};

// Parses a dpkg status file (deb822 paragraphs separated by blank lines, "Field: value" lines,
// continuation lines starting with a space or tab). Returns the packages whose files are on
// disk (Status not "not-installed" or "config-files"), sorted by name then architecture.
// Throws std::runtime_error "FILE:LINE:COL: reason" for malformed input: a line that is not a
// field, a continuation line with no field before it, a repeated field, an entry without
// Package, Version, Architecture or Status, an invalid package name, version, architecture or
// status, or the same package and architecture twice.
std::vector<PackageInfo> parse_dpkg_status(std::string_view text, const std::string& file);

// packages.tsv: "name\tversion\tarchitecture\n" per package, in the given order.
std::string packages_tsv(const std::vector<PackageInfo>& packages);

}  // namespace cairn::image

// A minimal sd_notify: one datagram to $NOTIFY_SOCKET (abstract when it starts with '@').
#pragma once

#include <string>

namespace cairn::datastore::cli {

// Returns false if NOTIFY_SOCKET is unset; throws std::runtime_error if sending fails.
bool sd_notify(const std::string& state);

}  // namespace cairn::datastore::cli

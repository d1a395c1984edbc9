// The TLS files named by --tls-cert/--tls-key/--tls-client-ca, read and checked before
// anything starts. gRPC would only reject them when the server starts, after the storage
// directory is touched, and with a message that names no file ("Invalid private key").
#pragma once

#include <string>

#include "datastore/main/options.h"

namespace cairn::datastore::cli {

struct TlsFiles {
  std::string cert_chain_pem;  // empty when TLS is off
  std::string private_key_pem;
  std::string client_ca_pem;  // empty when client certificates are not required
};

// Reads and parses the files with OpenSSL: the certificate chain holds at least one
// certificate, the key parses and matches the first certificate, the client CA holds at
// least one certificate. Throws std::invalid_argument naming the flag, the file and the
// reason (the caller exits 2, as for any bad flag).
TlsFiles load_tls_files(const Options& options);

}  // namespace cairn::datastore::cli

#include "datastore/main/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace cairn::datastore::cli {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

[[noreturn]] void refuse(const char* flag, const std::string& path, const std::string& why) {
  ERR_clear_error();
  throw std::invalid_argument(std::string(flag) + " " + path + ": " + why);
}

std::string read_all(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(flag, path, "cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) refuse(flag, path, "empty file");
  return ss.str();
}

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate of a PEM bundle; refuses a file with none.
std::unique_ptr<X509, X509Free> first_certificate(const char* flag, const std::string& path,
                                                  const std::string& pem) {
  auto bio = memory_bio(pem);
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) refuse(flag, path, "no PEM certificate in the file");
  return cert;
}

}  // namespace

TlsFiles load_tls_files(const Options& o) {
  TlsFiles files;
  if (o.tls_cert.empty()) return files;
  files.cert_chain_pem = read_all("--tls-cert", o.tls_cert);
  files.private_key_pem = read_all("--tls-key", o.tls_key);
  auto cert = first_certificate("--tls-cert", o.tls_cert, files.cert_chain_pem);

  auto key_bio = memory_bio(files.private_key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) refuse("--tls-key", o.tls_key, "no unencrypted PEM private key in the file");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    refuse("--tls-key", o.tls_key, "does not match the certificate in " + o.tls_cert);
  }

  if (!o.tls_client_ca.empty()) {
    files.client_ca_pem = read_all("--tls-client-ca", o.tls_client_ca);
    first_certificate("--tls-client-ca", o.tls_client_ca, files.client_ca_pem);
  }
  return files;
}

}  // namespace cairn::datastore::cli

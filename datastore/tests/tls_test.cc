// TLS on the tcp:// listener, end to end: the real binary with --tls-cert/--tls-key
// [--tls-client-ca] and the real etcdctl with --cacert/--cert/--key. The PKI (two CAs, a
// server certificate for 127.0.0.1, client certificates) is made with openssl at test time in
// the test's temp dir. A refused client must not only get an error: its write must not land.
#include <gtest/gtest.h>

#include "datastore/testing/datastore_process.h"

namespace cairn::datastore::testing {
namespace {

// Makes, in dir: ca.{crt,key} and other-ca.{crt,key}; server.{crt,key} (SAN IP 127.0.0.1,
// signed by ca); client.{crt,key} signed by ca; stranger.{crt,key} signed by other-ca.
void make_pki(const std::string& dir) {
  std::string script = "set -e; cd " + quote(dir) +
                       "\n"
                       "key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
                       "-out $1.key 2>/dev/null; }\n"
                       "ca() { key $1; openssl req -x509 -new -key $1.key -out $1.crt -days 2 "
                       "-subj /CN=$1; }\n"
                       // leaf NAME CA EXTENSIONS
                       "leaf() { key $1; openssl req -new -key $1.key -out $1.csr -subj /CN=$1; "
                       "printf '%s\\n' \"$3\" > $1.ext; "
                       "openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial "
                       "-days 2 -extfile $1.ext -out $1.crt 2>/dev/null; }\n"
                       "ca ca; ca other-ca\n"
                       "leaf server ca 'subjectAltName=IP:127.0.0.1\n"
                       "extendedKeyUsage=serverAuth'\n"
                       "leaf client ca 'extendedKeyUsage=clientAuth'\n"
                       "leaf stranger other-ca 'extendedKeyUsage=clientAuth'\n";
  CommandResult r = sh(script);
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

class Tls : public ::testing::Test {
 protected:
  Tls() : server(DatastoreProcess::Transport::kTcp) {}
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(make_pki(server.dir())); }
  std::string pki(const std::string& name) const { return server.dir() + "/" + name; }
  void start(bool require_client_cert) {
    server.extra_args = {"--tls-cert", pki("server.crt"), "--tls-key", pki("server.key")};
    if (require_client_cert) {
      server.extra_args.insert(server.extra_args.end(), {"--tls-client-ca", pki("ca.crt")});
    }
    ASSERT_NO_THROW(server.start());
  }
  // etcdctl over https with the server's CA and, when client is not empty, client.{crt,key}.
  // A refused handshake is retried until --command-timeout: callers expecting a refusal pass
  // a short one (a slow success would still show up in the final check that nothing landed).
  CommandResult ctl(const std::string& client, const std::string& args,
                    const std::string& timeout = "20s") {
    std::string flags = " --cacert=" + pki("ca.crt");
    if (!client.empty()) {
      flags += " --cert=" + pki(client + ".crt") + " --key=" + pki(client + ".key");
    }
    return sh("etcdctl --dial-timeout=5s --command-timeout=" + timeout + " --endpoints=https://" +
              server.endpoint() + flags + " " + args);
  }
  // Plain text (no TLS flags, http://) to the TLS port.
  CommandResult plain(const std::string& args) {
    return sh("etcdctl --dial-timeout=5s --command-timeout=6s --endpoints=http://" +
              server.endpoint() + " " + args);
  }
  DatastoreProcess server;
};

TEST_F(Tls, ClientCertificateSignedByTheCaIsServed) {
  start(true);
  CommandResult put = ctl("client", "put secured yes");
  EXPECT_EQ(put.exit_code, 0) << put.output << server.log();
  EXPECT_EQ(put.output, "OK\n");
  CommandResult get = ctl("client", "get secured --print-value-only");
  EXPECT_EQ(get.output, "yes\n");
  CommandResult health = ctl("client", "endpoint health");
  EXPECT_EQ(health.exit_code, 0) << health.output;
}

TEST_F(Tls, ClientsWithoutAGoodCertificateOrWithoutTlsAreRefused) {
  start(true);
  CommandResult none = ctl("", "put no-cert x", "6s");
  EXPECT_NE(none.exit_code, 0) << none.output;
  CommandResult stranger = ctl("stranger", "put other-ca x", "6s");
  EXPECT_NE(stranger.exit_code, 0) << stranger.output;
  CommandResult text = plain("put plain x");
  EXPECT_NE(text.exit_code, 0) << text.output;
  // None of the refused writes landed; the server still serves a good client.
  CommandResult all = ctl("client", "get '' --prefix --keys-only");
  EXPECT_EQ(all.exit_code, 0) << all.output;
  EXPECT_EQ(all.output, "");
}

TEST_F(Tls, WithoutClientCaAClientWithoutCertificateIsServed) {
  start(false);
  CommandResult put = ctl("", "put open yes");
  EXPECT_EQ(put.exit_code, 0) << put.output << server.log();
  EXPECT_EQ(ctl("", "get open --print-value-only").output, "yes\n");
  // Still TLS: plain text is not served.
  CommandResult text = plain("get open");
  EXPECT_NE(text.exit_code, 0) << text.output;
}

// Bad TLS flags: exit status 2 and a message naming the offending file, before anything starts
// (datastore/main/tls_files.cc checks them with OpenSSL; gRPC alone would name no file).
class TlsFlags : public Tls {
 protected:
  CommandResult run_with(const std::string& tls_flags) {
    return sh("timeout 60 " + std::string(datastore_binary()) + " --storage-dir " +
              quote(server.storage_dir()) + " --listen tcp://" + server.endpoint() + " " +
              tls_flags);
  }
};

TEST_F(TlsFlags, MissingKeyFileIsRefusedNamingIt) {
  std::string missing = pki("absent.key");
  CommandResult r = run_with("--tls-cert " + pki("server.crt") + " --tls-key " + missing);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(missing), std::string::npos) << r.output;
}

TEST_F(TlsFlags, KeyNotMatchingTheCertificateIsRefusedNamingIt) {
  CommandResult r = run_with("--tls-cert " + pki("server.crt") + " --tls-key " + pki("client.key"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(pki("client.key")), std::string::npos) << r.output;
}

TEST_F(TlsFlags, CertificateThatIsNotPemIsRefusedNamingIt) {
  sh("echo not a certificate > " + pki("garbage.crt"));
  CommandResult r =
      run_with("--tls-cert " + pki("garbage.crt") + " --tls-key " + pki("server.key"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(pki("garbage.crt")), std::string::npos) << r.output;
}

TEST_F(TlsFlags, MissingClientCaIsRefusedNamingIt) {
  std::string missing = pki("absent-ca.crt");
  CommandResult r = run_with("--tls-cert " + pki("server.crt") + " --tls-key " + pki("server.key") +
                             " --tls-client-ca " + missing);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(missing), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cairn::datastore::testing

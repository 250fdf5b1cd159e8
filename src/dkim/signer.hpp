// dkim::Signer: DKIM-signs outgoing messages with the keys of the sender's
// domain (RFC 6376 5, relaxed/relaxed, rsa-sha256; RFC 8463 ed25519-sha256).
//
// Keys live in files `{key_dir}/<domain>/<selector>.key` (PEM, PKCS#8 or
// traditional; the algorithm is the key's type). Every key of a domain signs:
// an RSA and an Ed25519 key give two DKIM-Signature fields, as RFC 8463 4
// advises while verifiers without Ed25519 remain. `cartero dkim keygen` writes
// such files (docs/dkim.md).
//
// Trust: the message is untrusted; the domain is the caller's (the sender's
// domain, which policy/ has matched to the authenticated login). Malformed
// messages are not signed and the reason is returned as a value; nothing here
// throws on message content. Privileges: reads the key directory once, at load.
//
// Threads: a loaded Signer is immutable; sign() may run on any number of
// delivery threads at once. To pick up new keys, load a new Signer and swap it
// in (e.g. behind a shared_ptr) while old users finish with the old one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "dkim/key.hpp"

namespace cartero::dkim {

enum class Unsigned {
    disabled,    // dkim.enabled = false
    no_key,      // no key for this domain
    no_from,     // the message has no From field, which DKIM must sign (RFC 6376 5.4)
    malformed,   // the message cannot be split into fields safely (message.hpp)
    key_failed,  // OpenSSL could not sign (a broken key or library)
};

std::string_view to_string(Unsigned);

struct SignResult {
    // The DKIM-Signature field(s) to put at the top of the message, each ending
    // in CRLF; empty when not signed.
    std::string headers;
    std::optional<Unsigned> why_not;  // set when not signed
    std::string detail;               // for the log: "no key in /var/dkim/example.org", the bad line, ...

    bool is_signed() const { return !why_not.has_value(); }
};

struct SigningKey {
    std::string domain;    // lower case
    std::string selector;  // from the file name
    std::filesystem::path file;
    PrivateKey key;
};

// A key file that could not be used, phrased for the operator (names the file and the fix).
struct KeyProblem {
    std::filesystem::path file;
    std::string message;
};

struct LoadedSigner;

class Signer {
public:
    // A signer that signs nothing: sign() returns Unsigned::disabled.
    static Signer disabled();

    // Loads every `<domain>/<selector>.key` under `key_dir`. A missing directory
    // means no keys. Files that cannot be used (group/other-accessible, not a
    // key, a name that is no domain or selector) are left out and returned as
    // problems; the server should refuse to start on any, so a typo does not
    // silently send mail unsigned.
    static LoadedSigner load(const std::filesystem::path& key_dir);

    // Signs `message` (CRLF line ends; it may start with cartero's Received field,
    // which is not signed) with every key of `domain`, at `unix_time` (t=).
    SignResult sign(std::string_view message, std::string_view domain, std::int64_t unix_time) const;

    bool has_key(std::string_view domain) const;
    const std::vector<SigningKey>& keys() const { return keys_; }  // sorted by domain, then selector

private:
    Signer(std::vector<SigningKey> keys, bool enabled, std::filesystem::path key_dir);
    std::vector<const SigningKey*> keys_for(std::string_view domain) const;

    std::vector<SigningKey> keys_;
    bool enabled_ = true;
    std::filesystem::path key_dir_;
};

struct LoadedSigner {
    Signer signer;
    std::vector<KeyProblem> problems;
};

// dkim.key_dir with {data_dir} expanded.
std::filesystem::path key_dir(const config::Config& config);

// The signer the server uses: Signer::disabled() when dkim.enabled is false,
// otherwise Signer::load(key_dir(config)).
LoadedSigner load_signer(const config::Config& config);

}  // namespace cartero::dkim

// DKIM signing of whole messages. See signer.hpp.
#include "dkim/signer.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <tuple>

#include "base/idna.hpp"
#include "config/domain_name.hpp"
#include "dkim/canonicalization.hpp"
#include "dkim/header_selection.hpp"
#include "dkim/message.hpp"
#include "dkim/signature.hpp"

namespace cartero::dkim {
namespace {

constexpr std::string_view kKeySuffix = ".key";
constexpr std::string_view kDataDirPlaceholder = "{data_dir}";

SignResult not_signed(Unsigned why, std::string detail) { return SignResult{{}, why, std::move(detail)}; }

// base64 of SHA-256 over the relaxed canonical body (RFC 6376 3.7, bh=).
std::optional<std::string> body_hash(std::string_view body) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return std::nullopt;
    bool ok = true;
    relaxed_body(body, [&](std::string_view piece) { ok = ok && EVP_DigestUpdate(ctx.get(), piece.data(), piece.size()) == 1; });
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (!ok || EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) != 1) return std::nullopt;
    return base64(std::string_view(reinterpret_cast<const char*>(digest.data()), size));
}

// One DKIM-Signature field for one key.
std::optional<std::string> sign_with(const SigningKey& key, const HeaderSelection& selection,
                                     const std::string& bh, std::int64_t unix_time) {
    const SignatureTags tags{key.key.signing_algorithm(), key.domain, key.selector, unix_time, selection.names, bh};
    const auto signature = key.key.sign(signed_header_data(selection.fields, tags));
    if (!signature) return std::nullopt;
    return signature_header(tags, base64(*signature));
}

// Loads one `<selector>.key` file of a domain directory.
void load_key_file(const std::filesystem::path& file, const std::string& domain, std::vector<SigningKey>& keys,
                   std::vector<KeyProblem>& problems) {
    const std::string name = file.filename().string();
    const std::string selector = name.substr(0, name.size() - kKeySuffix.size());
    if (!is_selector(selector)) {
        problems.push_back({file, file.string() + ": \"" + selector +
                                      "\" is not a valid selector (letters, digits, '-' and dots; rename the file)"});
        return;
    }
    auto loaded = read_private_key(file);
    if (auto* error = std::get_if<KeyError>(&loaded)) {
        problems.push_back({file, error->message});
        return;
    }
    keys.push_back({domain, config::lower_ascii(selector), file, std::get<PrivateKey>(std::move(loaded))});
}

// Every *.key file of one domain directory, in name order.
void load_domain(const std::filesystem::path& dir, std::vector<SigningKey>& keys, std::vector<KeyProblem>& problems) {
    const std::string name = dir.filename().string();
    const auto domain = config::ascii_domain_name(name);  // a directory may be named by U-label or A-label
    if (!domain) {
        problems.push_back({dir, dir.string() + ": \"" + name + "\" is not a domain name (rename or remove the directory)"});
        return;
    }
    std::error_code error;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
        if (entry.path().filename().string().ends_with(kKeySuffix)) files.push_back(entry.path());
    }
    if (error) problems.push_back({dir, dir.string() + ": cannot list: " + error.message()});
    std::sort(files.begin(), files.end());
    for (const auto& file : files) load_key_file(file, *domain, keys, problems);
}

}  // namespace

std::string_view to_string(Unsigned why) {
    switch (why) {
        case Unsigned::disabled: return "disabled";
        case Unsigned::no_key: return "no key";
        case Unsigned::no_from: return "no From field";
        case Unsigned::malformed: return "malformed message";
        case Unsigned::key_failed: return "signing failed";
    }
    return "unknown";
}

Signer::Signer(std::vector<SigningKey> keys, bool enabled, std::filesystem::path key_dir)
    : keys_(std::move(keys)), enabled_(enabled), key_dir_(std::move(key_dir)) {}

Signer Signer::disabled() { return Signer({}, false, {}); }

LoadedSigner Signer::load(const std::filesystem::path& key_dir) {
    std::vector<SigningKey> keys;
    std::vector<KeyProblem> problems;
    std::error_code error;
    std::vector<std::filesystem::path> domains;
    if (std::filesystem::exists(key_dir, error)) {
        for (const auto& entry : std::filesystem::directory_iterator(key_dir, error)) {
            if (entry.is_directory()) domains.push_back(entry.path());
        }
    }
    if (error) problems.push_back({key_dir, key_dir.string() + ": cannot list: " + error.message()});
    std::sort(domains.begin(), domains.end());
    for (const auto& dir : domains) load_domain(dir, keys, problems);
    std::stable_sort(keys.begin(), keys.end(), [](const SigningKey& a, const SigningKey& b) {
        return std::tie(a.domain, a.selector) < std::tie(b.domain, b.selector);
    });
    return LoadedSigner{Signer(std::move(keys), true, key_dir), std::move(problems)};
}

std::vector<const SigningKey*> Signer::keys_for(std::string_view domain) const {
    // RFC 5321 2.4: domains are case-insensitive; RFC 8616 3.2: a U-label From
    // domain signs with the key of its A-label. Not valid IDNA: no key.
    const auto wanted = base::ascii_domain(domain);
    std::vector<const SigningKey*> found;
    if (!wanted) return found;
    for (const SigningKey& key : keys_) {
        if (key.domain == *wanted) found.push_back(&key);
    }
    return found;
}

bool Signer::has_key(std::string_view domain) const { return enabled_ && !keys_for(domain).empty(); }

SignResult Signer::sign(std::string_view message, std::string_view domain, std::int64_t unix_time) const {
    if (!enabled_) return not_signed(Unsigned::disabled, "dkim.enabled is false");
    const auto keys = keys_for(domain);
    if (keys.empty()) {
        return not_signed(Unsigned::no_key, "no key for " + std::string(domain) + " in " + key_dir_.string());
    }
    auto parsed = parse_message(message);
    if (auto* malformed = std::get_if<MalformedMessage>(&parsed)) {
        return not_signed(Unsigned::malformed, malformed->reason);
    }
    const ParsedMessage& parts = std::get<ParsedMessage>(parsed);
    if (count_fields(parts.fields, "from") == 0) {
        return not_signed(Unsigned::no_from, "the message has no From field (RFC 6376 5.4: From must be signed)");
    }
    const HeaderSelection selection = select_headers(parts.fields);
    const auto bh = body_hash(parts.body);
    if (!bh) return not_signed(Unsigned::key_failed, "SHA-256 of the body failed");
    SignResult result;
    for (const SigningKey* key : keys) {
        auto field = sign_with(*key, selection, *bh, unix_time);
        if (!field) return not_signed(Unsigned::key_failed, "signing with " + key->file.string() + " failed");
        result.headers += *field;
    }
    return result;
}

std::filesystem::path key_dir(const config::Config& config) {
    const std::string& text = config.dkim.key_dir;
    if (!text.starts_with(kDataDirPlaceholder)) return text;
    return config.data_dir.string() + text.substr(kDataDirPlaceholder.size());
}

LoadedSigner load_signer(const config::Config& config) {
    if (!config.dkim.enabled) return LoadedSigner{Signer::disabled(), {}};
    return Signer::load(key_dir(config));
}

}  // namespace cartero::dkim

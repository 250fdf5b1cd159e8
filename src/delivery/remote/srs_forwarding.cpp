// SrsForwarding; see srs_forwarding.hpp.
#include "delivery/remote/srs_forwarding.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "base/file_io.hpp"

namespace cartero::delivery {
namespace {

constexpr std::string_view secret_file = "srs.secret";
constexpr std::size_t secret_octets = 32;

std::runtime_error secret_error(const std::filesystem::path& path, const std::string& why) {
    return std::runtime_error(path.string() + ": SRS secret: " + why +
                              " (the file holds one secret per line, mode 0600; see docs/delivery.md)");
}

std::vector<std::string> read_secrets(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw secret_error(path, std::strerror(errno));
    std::vector<std::string> secrets;
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) secrets.push_back(line);
    }
    if (secrets.empty()) throw secret_error(path, "the file holds no secret");
    return secrets;
}

// Made once, durably (base::create_durably): when another process made the
// file first, its secret stands and is the one read back.
void create_secret(const std::filesystem::path& path) {
    std::array<unsigned char, secret_octets> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) throw secret_error(path, "no random octets");
    std::array<unsigned char, 4 * (secret_octets + 2) / 3 + 1> text{};
    const int length = EVP_EncodeBlock(text.data(), random.data(), static_cast<int>(random.size()));
    const std::string line = std::string(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(length)) + "\n";
    const auto error = base::create_durably(path, line);
    if (error && error != std::errc::file_exists) throw secret_error(path, error.message());
}

}  // namespace

SrsForwarding SrsForwarding::load_or_create(const std::filesystem::path& data_dir, std::string domain,
                                            std::chrono::seconds max_age) {
    const auto path = data_dir / secret_file;
    if (!std::filesystem::exists(path)) create_secret(path);
    return SrsForwarding(read_secrets(path), std::move(domain), max_age);
}

SrsForwarding::SrsForwarding(std::vector<std::string> secrets, std::string domain, std::chrono::seconds max_age)
    : secrets_(std::move(secrets)), domain_(std::move(domain)),
      max_age_days_(max_age.count() / smtp::srs::seconds_per_day) {}

std::string SrsForwarding::forward_sender(const spool::Envelope& envelope, std::int64_t unix_seconds) const {
    if (envelope.sender.empty() || smtp::is_ours(envelope.origin)) return envelope.sender;
    return smtp::srs::forward(secrets_.front(), envelope.sender, domain_, unix_seconds);
}

std::optional<smtp::srs::Problem> SrsForwarding::check(std::string_view local_part, std::int64_t unix_seconds) const {
    return smtp::srs::reverse(secrets_, local_part, unix_seconds, max_age_days_).problem;
}

std::optional<std::string> SrsForwarding::unwrap(std::string_view address) const {
    const std::size_t at = address.rfind('@');
    if (at == std::string_view::npos) return std::nullopt;
    smtp::srs::Reversed reversed = smtp::srs::reverse(secrets_, address.substr(0, at), 0, std::nullopt);
    if (reversed.problem) return std::nullopt;
    return std::move(reversed.address);
}

}  // namespace cartero::delivery

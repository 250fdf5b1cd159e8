// SrsForwarding: this server's SRS secret and what the queue and the RCPT
// policy need from it (docs/delivery.md, "Forwarding and SRS").
//
// The secret lives in {data_dir}/srs.secret, made on first use (32 random
// octets, base64, one line, mode 0600). The file may hold several lines, one
// secret each, as postsrsd's secret file does: the first one makes new
// addresses, all of them verify, so a secret can be replaced without breaking
// the bounces of mail forwarded under the old one (add the new secret as the
// first line, delete the old one after delivery.srs_max_age).
//
// Which senders are rewritten: those of mail from the internet (smtp/origin.hpp),
// whatever their domain. A sender in one of our own domains is rewritten too
// when it came from the internet: it is unverified, and forwarding it unchanged
// would pass the receiver's SPF (and so DMARC) for our domain. Our users' mail
// (authenticated, local submission, trusted networks) keeps its sender, as
// postsrsd's SRS_EXCLUDE_DOMAINS would; the null sender stays null.
//
// Trust: the secret file is ours (written here, read as given); addresses to
// unwrap are untrusted and checked by smtp::srs. Privileges: reads and creates
// one file in the data directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/srs.hpp"
#include "spool/spool.hpp"

namespace cartero::delivery {

class SrsForwarding {
public:
    // Reads {data_dir}/srs.secret, creating it first when missing. Throws
    // std::runtime_error naming the file when it cannot be read or made.
    static SrsForwarding load_or_create(const std::filesystem::path& data_dir, std::string domain,
                                        std::chrono::seconds max_age);

    SrsForwarding(std::vector<std::string> secrets, std::string domain, std::chrono::seconds max_age);

    // The envelope sender a copy of `envelope` forwarded to another domain leaves with.
    std::string forward_sender(const spool::Envelope& envelope, std::int64_t unix_seconds) const;

    // RCPT: why `local_part` (of an address in a local domain) is not a valid
    // SRS address of ours, or nullopt when it is (hash and age checked).
    std::optional<smtp::srs::Problem> check(std::string_view local_part, std::int64_t unix_seconds) const;

    // Delivery: the original address behind `address`, hash checked, age not
    // (it was at RCPT); nullopt when not an SRS address of ours.
    std::optional<std::string> unwrap(std::string_view address) const;

private:
    std::vector<std::string> secrets_;
    std::string domain_;  // the right-hand side of the addresses made
    std::int64_t max_age_days_;
};

}  // namespace cartero::delivery

// Directory: an immutable in-memory snapshot of accounts, aliases and local
// domains, used on the session path without any I/O. The server reloads it
// from the AccountStore when the store changes and swaps it atomically.
//
// Trust: addresses passed in are untrusted (validated syntax only); lookups are
// exact-match map lookups on normalised keys, never patterns.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cartero::accounts {

// A local mailbox: the account that owns a Maildir.
struct Mailbox {
    std::string localpart;  // lower-case
    std::string domain;     // lower-case
    std::string address() const { return localpart + "@" + domain; }
};

class Directory {
public:
    Directory() = default;
    Directory(std::vector<std::string> local_domains, std::vector<std::string> users,
              std::vector<std::pair<std::string, std::string>> aliases);

    bool is_local_domain(std::string_view domain) const;

    // The local mailboxes mail to `address` goes to, following aliases (bounded
    // depth, loops cut). nullopt when the address is in a local domain but names
    // no user or alias; an alias to a remote address yields no mailbox for it
    // but appears in remote_targets().
    std::optional<std::vector<Mailbox>> resolve(std::string_view address) const;
    std::vector<std::string> remote_targets(std::string_view address) const;

    // RFC 5321 sender login match: `user` may use `address` as MAIL FROM if it is
    // the user's own address or an alias that resolves to that user.
    bool may_send_as(std::string_view user, std::string_view address) const;

private:
    std::unordered_set<std::string> domains_;
    std::unordered_set<std::string> users_;
    std::unordered_map<std::string, std::vector<std::string>> aliases_;
};

// Lower-cases the domain and the local part (cartero treats local parts
// case-insensitively, as most MTAs do for their own users).
std::string normalize_address(std::string_view address);

}  // namespace cartero::accounts

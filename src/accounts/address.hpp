// Account addresses: how cartero spells the keys of its account store.
//
// cartero treats the local part of its OWN users' addresses case-insensitively
// (RFC 5321 2.4 leaves that to the receiving host; almost every MTA and mailbox
// server does the same), so every key is lower-cased once, here, and compared
// byte for byte afterwards. Only ASCII letters are folded: UTF-8 local parts
// (RFC 6531) are kept as given, because Unicode case folding is locale-laden.
// A quoted local part keeps its quotes and so never equals an unquoted key:
// `"alice"@example.com` is refused as unknown rather than guessed at.
//
// Domains are compared as A-labels (base/idna.hpp): "alice@bücher.example" and
// "alice@XN--BCHER-KVA.example" are one key, "alice@xn--bcher-kva.example".
// The local part is kept as given (RFC 6531 allows UTF-8 there), bar ASCII case.
//
// Trust: input may come from the network (RCPT/MAIL addresses) or the operator
// (CLI); nothing here interprets it beyond splitting at the last '@'.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartero::accounts {

// A domain as cartero compares it: base::ascii_domain (A-label, lower case,
// no root dot); a name that is not valid IDNA is only lower-cased.
std::string normalize_domain(std::string_view domain);

// The local part lower-cased (ASCII letters only), the domain normalize_domain'd.
// Without '@' (the bare "Postmaster" of RFC 5321 4.5.1) the whole is lower-cased.
std::string normalize_address(std::string_view address);

// The part after the last '@' (RFC 5321 4.1.2: the local part may contain a
// quoted '@', the domain never does); empty when there is none.
std::string_view domain_of(std::string_view address);

// Why `address` cannot name a cartero account or alias source/target, or nullopt
// if it can: "local@domain" with both parts non-empty, within RFC 5321 4.5.3.1
// lengths, no space, control character, quote or backslash (operators type
// these; refusing exotic forms keeps keys unambiguous), and a domain that is
// valid IDNA.
std::optional<std::string> address_problem(std::string_view address);

// Why `address` cannot be the address of a user or the source of an alias on
// this server: a syntax problem, a local part that cannot name a mailbox
// directory (config::mailbox_name_problem, the Maildir courier's own rule:
// '/', a leading '.'), or a domain that is not in `local_domains` (the message
// names the config key to change).
std::optional<std::string> local_address_problem(std::string_view address,
                                                 const std::vector<std::string>& local_domains);

}  // namespace cartero::accounts

// Origin: where a message entered cartero, decided once when it is accepted
// and kept with it in the spool (spool/record.hpp), because what cartero may
// vouch for later depends on it (docs/security.md, "trust boundary"):
// DKIM signing (docs/dkim.md) and SRS rewriting of forwarded copies
// (docs/delivery.md) ask for it at delivery time, long after the session.
//
// Trust: computed by the session from facts the client cannot forge (the
// listener role, a successful AUTH, the peer address in trusted_networks, the
// kernel's peer credentials on the local socket), never from message content.
#pragma once

#include <cstdint>
#include <string_view>

namespace cartero::smtp {

enum class Origin : std::uint8_t {
    internet = 0,          // anyone: mx role, not authenticated, not a trusted network
    authenticated = 1,     // AUTH succeeded (submission roles)
    local_submission = 2,  // the local submission socket (`cartero sendmail`)
    trusted_network = 3,   // a peer inside trusted_networks, not authenticated
    cartero = 4,           // made by cartero itself (delivery status notifications)
};
inline constexpr std::uint8_t max_origin = 4;

// Our users' mail, which cartero may sign and need not SRS-rewrite: everything
// but mail from the internet.
inline bool is_ours(Origin origin) { return origin != Origin::internet; }

inline std::string_view to_string(Origin origin) {
    switch (origin) {
        case Origin::internet: return "internet";
        case Origin::authenticated: return "authenticated";
        case Origin::local_submission: return "local";
        case Origin::trusted_network: return "trusted-network";
        case Origin::cartero: return "cartero";
    }
    return "internet";
}

}  // namespace cartero::smtp

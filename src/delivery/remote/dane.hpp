// DANE for SMTP (RFC 7672): whether a connection to an MX host must be
// authenticated by TLSA records, decided from DNS answers before connecting.
// The certificate check itself is OpenSSL's DANE support, in SmtpConnection
// (ConnectionOptions::tlsa).
//
// RFC 7672 2.2: TLSA records are looked up only when the MX host name and its
// addresses came from DNSSEC-validated ("secure") answers, and used only when
// the TLSA answer is secure too; so DANE needs a validating resolver
// (dns.trust_anchor). Usable records are DANE-TA(2) and DANE-EE(3), selector
// 0 or 1, matching type 0, 1 or 2 (RFC 7672 3.1: PKIX-TA(0) and PKIX-EE(1) are
// not used for SMTP).
//
// Trust: DNS answers, already parsed by dns/. Privileges: none (lookups only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/resolver.hpp"

namespace cartero::delivery::dane {

enum class Kind {
    none,       // no DANE for this host: the usual TLS policy (MTA-STS, delivery.tls) applies
    verify,     // TLS required, the certificate must match one of `records`
    encrypt,    // RFC 7672 2.2: secure TLSA records, none usable: TLS required, not authenticated
    unusable,   // RFC 7672 2.2: the TLSA lookup failed: this host must not be used now
};

struct Decision {
    Kind kind = Kind::none;
    std::vector<dns::TlsaRecord> records;  // the usable ones, for Kind::verify
    std::string reason;                    // for Kind::unusable, and the log
};

// RFC 7672 3.1 usable records; drops the rest.
std::vector<dns::TlsaRecord> usable(const std::vector<dns::TlsaRecord>& records);

// The TLSA owner name of an SMTP server, RFC 6698 3: "_25._tcp.mx.example.com".
std::string tlsa_name(std::string_view host, std::uint16_t port);

// The decision for `host` (port `port`), given whether its MX and address
// answers were secure. Asks the TLSA question only when they were.
Decision decide(dns::Resolver& resolver, std::string_view host, std::uint16_t port, bool dnssec_host);

}  // namespace cartero::delivery::dane

// MTA-STS (RFC 8461) for delivery to MX hosts: find the policy of a recipient
// domain — the `_mta-sts.<domain>` TXT record (3.1), the policy fetched over
// HTTPS from https://mta-sts.<domain>/.well-known/mta-sts.txt (3.3) — and keep
// it cached in memory and in {data_dir}/mta-sts/<domain> so it survives a
// restart (5.1). The pure rules (parsing, MX patterns, when to refresh) are in
// mta_sts_policy.hpp; the courier applies the policy (smtp_courier.cpp).
//
// The HTTPS fetch (RFC 8461 3.3) is delivery/remote/https_fetch.hpp: the host
// mta-sts.<domain> is resolved with cartero's resolver; TLS 1.2 or newer, the
// certificate must chain to the system store or delivery.ca_file and name
// mta-sts.<domain>; only a 200 answer with Content-Type text/plain is accepted;
// redirects are not followed; the body may be at most 64 KiB; the whole fetch
// (connect, handshake, request, answer) has one deadline,
// delivery.mta_sts_timeout, per address tried.
//
// Trust: the TXT record, the HTTPS answer and the cache files are untrusted
// input (parsed by mta_sts_policy.cpp, bounded). Privileges: outbound sockets,
// reading delivery.ca_file, writing {data_dir}/mta-sts/.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "delivery/remote/mta_sts_policy.hpp"
#include "dns/resolver.hpp"

namespace cartero::delivery::mta_sts {

struct FetchOptions {
    std::uint16_t port = 443;                      // delivery.mta_sts_port (other values: tests only)
    std::optional<std::filesystem::path> ca_file;  // trusted besides the system store
    std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

// GET https://mta-sts.<domain>:<port>/.well-known/mta-sts.txt; the body, or
// why not in plain words ("HTTP status 301 (redirects are not followed)").
struct FetchResult {
    std::optional<std::string> body;
    std::string error;
};
FetchResult fetch(dns::Resolver& resolver, std::string_view domain, const FetchOptions& options);

// Fetches a policy body for a domain (fetch() above, or a test double).
using Fetcher = std::function<FetchResult(std::string_view domain)>;

// The policy in force for a domain, and how it was found, for the log.
struct Found {
    std::optional<Policy> policy;  // nullopt: the domain has no MTA-STS policy cartero can use
    std::string id;
    std::string note;  // "fetched", "cached", "fetch failed (...); cached policy still valid", ...
};

// The policies seen, in memory and (when `directory` is not empty) in one file
// per domain there. Thread-safe; fetching happens outside the lock.
class PolicyCache {
public:
    PolicyCache(std::filesystem::path directory, Fetcher fetcher);

    // `txt_id`: the id of the domain's TXT record (nullopt when there is none
    // or the lookup failed). `now`: the current time.
    Found lookup(std::string_view domain, const std::optional<std::string>& txt_id, Seconds now);

private:
    std::optional<CachedPolicy> cached(const std::string& domain);
    void store(const std::string& domain, const CachedPolicy& policy);

    std::filesystem::path directory_;
    Fetcher fetcher_;
    std::mutex mutex_;
    std::map<std::string, CachedPolicy> memory_;  // guarded by mutex_
};

// The whole lookup for the courier: asks the TXT record, then the cache.
Found policy_for(dns::Resolver& resolver, PolicyCache& cache, std::string_view domain, Seconds now);

}  // namespace cartero::delivery::mta_sts

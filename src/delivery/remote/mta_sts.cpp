// MTA-STS fetching and caching; see mta_sts.hpp.
//
// The HTTPS GET itself is delivery/remote/https_fetch.hpp, shared with
// `cartero discover`'s autoconfig fetch.
#include "delivery/remote/mta_sts.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "base/file_io.hpp"
#include "config/domain_name.hpp"
#include "delivery/remote/https_fetch.hpp"

namespace cartero::delivery::mta_sts {

namespace {

// A file name for a domain's cache entry: checked names only (resolver-checked
// letters, digits, '-', '_', '.'), so no path can be made of one.
bool safe_file_name(std::string_view domain) {
    return !domain.empty() && domain.front() != '.' && domain.size() <= 253 &&
           std::all_of(domain.begin(), domain.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
           });
}

}  // namespace

FetchResult fetch(dns::Resolver& resolver, std::string_view domain, const FetchOptions& options) {
    HttpsRequest request;
    request.host = "mta-sts." + config::lower_ascii(domain);
    request.target = "/.well-known/mta-sts.txt";
    request.port = options.port;
    request.ca_file = options.ca_file;
    request.timeout = options.timeout;
    request.body_limit = max_policy_size;  // RFC 8461 3.3: a size limit
    request.media_types = {"text/plain"};  // RFC 8461 3.3 (parameters such as charset allowed)
    HttpsResult got = https_get(resolver, request);
    return {std::move(got.body), std::move(got.error)};
}

PolicyCache::PolicyCache(std::filesystem::path directory, Fetcher fetcher)
    : directory_(std::move(directory)), fetcher_(std::move(fetcher)) {}

std::optional<CachedPolicy> PolicyCache::cached(const std::string& domain) {
    {
        std::lock_guard lock(mutex_);
        if (const auto found = memory_.find(domain); found != memory_.end()) return found->second;
    }
    if (directory_.empty() || !safe_file_name(domain)) return std::nullopt;
    std::ifstream in(directory_ / domain, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text;
    text.resize(max_policy_size + 256);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    auto parsed = deserialize(text);
    if (auto* error = std::get_if<std::string>(&parsed)) {
        spdlog::warn("MTA-STS cache file {} ignored: {}", (directory_ / domain).string(), *error);
        return std::nullopt;
    }
    auto& policy = std::get<CachedPolicy>(parsed);
    std::lock_guard lock(mutex_);
    return memory_.try_emplace(domain, std::move(policy)).first->second;
}

// Memory first; the file is written to a temporary name, synced and renamed,
// so a crash leaves the old file or the new one, never half of one.
void PolicyCache::store(const std::string& domain, const CachedPolicy& policy) {
    {
        std::lock_guard lock(mutex_);
        memory_.insert_or_assign(domain, policy);
    }
    if (directory_.empty() || !safe_file_name(domain)) return;
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    const auto final_path = directory_ / domain;
    const auto temp_path = directory_ / (domain + ".tmp." + std::to_string(::getpid()) + "." +
                                         std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())));
    base::UniqueFd fd = base::open_file(temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, ec, 0600);
    if (!ec) ec = base::write_all(fd.get(), serialize(policy));
    if (!ec && ::fdatasync(fd.get()) != 0) ec = base::last_error();
    if (!ec) std::filesystem::rename(temp_path, final_path, ec);
    if (ec) {
        std::filesystem::remove(temp_path, ec);
        spdlog::warn("MTA-STS policy of {} not written to {}: {}", domain, final_path.string(), ec.message());
    }
}

Found PolicyCache::lookup(std::string_view domain_in, const std::optional<std::string>& txt_id, Seconds now) {
    const std::string domain = config::lower_ascii(domain_in);
    const std::optional<CachedPolicy> old = cached(domain);
    switch (plan(txt_id, old ? &*old : nullptr, now)) {
        case Refresh::use_cached: return {old->policy, old->id, txt_id ? "cached" : "cached (no valid TXT record now)"};
        case Refresh::no_policy: return {std::nullopt, {}, old ? "no TXT record; cached policy expired" : "no TXT record"};
        case Refresh::fetch: break;
    }
    const FetchResult fetched = fetcher_(domain);
    std::string error = fetched.error;
    if (fetched.body) {
        auto parsed = parse_policy(*fetched.body);
        if (auto* policy = std::get_if<Policy>(&parsed)) {
            store(domain, CachedPolicy{*txt_id, *policy, *fetched.body, now});
            return {*policy, *txt_id, "fetched"};
        }
        error = "invalid policy: " + std::get<std::string>(parsed);
    }
    // RFC 8461 5.1: a failed refresh keeps an unexpired cached policy in force;
    // with none, deliver as if the domain had no MTA-STS (3.3).
    if (old && !expired(*old, now))
        return {old->policy, old->id, "refreshing the policy failed (" + error + "); the cached policy is still valid"};
    return {std::nullopt, {}, "fetching the policy failed: " + error};
}

Found policy_for(dns::Resolver& resolver, PolicyCache& cache, std::string_view domain, Seconds now) {
    const dns::TxtAnswer answer = resolver.txt("_mta-sts." + std::string(domain));
    std::optional<std::string> id;
    std::string why;
    if (answer.status == dns::Status::ok) {
        PolicyId parsed = policy_id(answer.records);
        id = std::move(parsed.id);
        why = std::move(parsed.error);
    }
    Found found = cache.lookup(domain, id, now);
    if (answer.status == dns::Status::temporary) found.note += " (TXT lookup failed: " + answer.error + ")";
    else if (!why.empty() && found.policy) found.note += " (TXT record: " + why + ")";
    return found;
}

}  // namespace cartero::delivery::mta_sts

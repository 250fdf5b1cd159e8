// See mx_order.hpp.
#include "dns/mx_order.hpp"

#include <algorithm>
#include <random>

#include "dns/name.hpp"

namespace cartero::dns {
namespace {

MxHosts fail(MxVerdict verdict, std::string error, bool secure) {
    MxHosts out;
    out.verdict = verdict;
    out.error = std::move(error);
    out.secure = secure;
    return out;
}

// Each host once, at its lowest preference; "." targets removed.
std::vector<MxRecord> usable_records(std::vector<MxRecord> records) {
    std::erase_if(records, [](const MxRecord& r) { return r.host == "."; });
    std::stable_sort(records.begin(), records.end(), [](const MxRecord& a, const MxRecord& b) {
        return a.host != b.host ? a.host < b.host : a.preference < b.preference;
    });
    records.erase(std::unique(records.begin(), records.end(),
                              [](const MxRecord& a, const MxRecord& b) { return a.host == b.host; }),
                  records.end());
    return records;
}

// Sorts by preference, then shuffles each run of equal preference
// (Fisher-Yates with the caller's random source).
void order_by_preference(std::vector<MxRecord>& records, const RandomBelow& random) {
    std::stable_sort(records.begin(), records.end(),
                     [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
    auto group = records.begin();
    while (group != records.end()) {
        const auto end = std::find_if(group, records.end(),
                                      [&](const MxRecord& r) { return r.preference != group->preference; });
        for (auto size = static_cast<std::size_t>(end - group); size > 1; --size) {
            const std::size_t pick = random(size);
            std::swap(group[static_cast<std::ptrdiff_t>(size - 1)], group[static_cast<std::ptrdiff_t>(pick)]);
        }
        group = end;
    }
}

MxHosts from_records(std::string_view domain, const MxAnswer& answer, const RandomBelow& random) {
    if (answer.null_mx || is_null_mx(answer.records)) {
        return fail(MxVerdict::permanent, "domain " + std::string(domain) + " accepts no mail (null MX, RFC 7505)",
                    answer.secure);
    }
    auto records = usable_records(answer.records);
    if (records.empty()) {
        return fail(MxVerdict::permanent, "domain " + std::string(domain) + " has no usable MX host", answer.secure);
    }
    order_by_preference(records, random);
    MxHosts out;
    out.verdict = MxVerdict::ok;
    out.hosts = std::move(records);
    out.secure = answer.secure;
    return out;
}

}  // namespace

std::string_view to_string(MxVerdict verdict) {
    switch (verdict) {
        case MxVerdict::ok: return "ok";
        case MxVerdict::temporary: return "temporary";
        case MxVerdict::permanent: return "permanent";
    }
    return "unknown";
}

RandomBelow default_random() {
    return [](std::size_t bound) {
        thread_local std::mt19937_64 engine{std::random_device{}()};
        return std::uniform_int_distribution<std::size_t>(0, bound - 1)(engine);
    };
}

MxHosts order_mx(std::string_view domain, const MxAnswer& answer, const RandomBelow& random) {
    const std::string name(domain);
    switch (answer.status) {
        case Status::ok: return from_records(name, answer, random);
        case Status::nodata: {
            MxHosts out;
            out.verdict = MxVerdict::ok;
            out.hosts.push_back(MxRecord{0, normalize_name(name)});
            out.implicit = true;
            out.secure = answer.secure;
            return out;
        }
        case Status::nxdomain:
            return fail(MxVerdict::permanent,
                        answer.error.empty() ? "domain " + name + " does not exist" : answer.error, answer.secure);
        case Status::temporary:
            return fail(MxVerdict::temporary,
                        answer.error.empty() ? "MX lookup for " + name + " failed" : answer.error, answer.secure);
    }
    return fail(MxVerdict::temporary, "MX lookup for " + name + " gave an unknown status", false);
}

}  // namespace cartero::dns

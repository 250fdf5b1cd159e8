// See discover.hpp.
#include "discovery/discover.hpp"

#include <algorithm>
#include <future>

#include "dns/mx_order.hpp"
#include "dns/srv_order.hpp"

namespace cartero::discovery {
namespace {

// 587 is the submission port (RFC 6409); 25 is the MX port, where clients
// should not send (RFC 5068).
constexpr std::uint16_t submission_port = 587;
constexpr std::uint16_t mx_port = 25;

Settings settings_of(const Provider& p, Source source, std::string where, const Address& address) {
    Settings s;
    s.source = source;
    s.where = std::move(where);
    s.provider = p.name;
    for (const auto& smtp : p.smtp) s.outgoing.push_back(Outgoing{smtp.host, smtp.port, smtp.security, p.auth, false});
    s.incoming = p.incoming;
    s.username_form = p.username;
    s.username = expand_placeholders(p.username, address);
    s.notes = p.notes;
    return s;
}

// Rank of a probed port for a client: SSL/TLS, then STARTTLS on 587, then the rest.
int rank(const PortProbe& p) {
    if (p.speaks == Speaks::implicit_tls) return 0;
    if (p.speaks == Speaks::starttls && p.port == submission_port) return 1;
    if (p.speaks == Speaks::starttls && p.port != mx_port) return 2;
    return 3;
}

std::string answer_words(dns::Status status, const std::string& error) {
    return status == dns::Status::ok ? std::string("ok") : error;
}

}  // namespace

std::optional<Settings> from_table(const Address& address) {
    const Provider* p = find_by_domain(address.domain);
    if (p == nullptr) return std::nullopt;
    return settings_of(*p, Source::table, p->id, address);
}

std::optional<Settings> from_srv(dns::Resolver& resolver, const Address& address, StepReport& report) {
    report.source = Source::srv;
    struct Service { std::string name; Security security; };
    // RFC 8314 5.1: implicit TLS (submissions) is preferred over STARTTLS (submission).
    const Service services[] = {{"_submissions._tcp." + address.domain, Security::ssl},
                                {"_submission._tcp." + address.domain, Security::starttls}};
    std::vector<std::future<dns::SrvAnswer>> answers;
    for (const auto& service : services)
        answers.push_back(std::async(std::launch::async, [&resolver, name = service.name] { return resolver.srv(name); }));
    Settings s;
    s.source = Source::srv;
    const auto random = dns::default_random();
    for (std::size_t i = 0; i < std::size(services); ++i) {
        const dns::SrvAnswer answer = answers[i].get();
        if (answer.status != dns::Status::ok) {
            report.details.push_back(services[i].name + " SRV: " + answer_words(answer.status, answer.error));
            continue;
        }
        const dns::SrvTargets targets = dns::order_srv(answer.records, random);
        if (targets.not_offered) {
            report.details.push_back(services[i].name + " SRV: target \".\" (service not offered)");
            continue;
        }
        for (const auto& t : targets.targets) {
            if (t.port == 0) continue;
            s.outgoing.push_back(Outgoing{t.target, t.port, services[i].security, {}, false});
            if (s.where.empty()) s.where = services[i].name;
        }
    }
    if (s.outgoing.empty()) return std::nullopt;
    // RFC 6186 6: SRV answers are not authenticated; the certificate must be
    // checked against the target (SmtpConnection does), and a target outside
    // the domain deserves a look (the command shows the host).
    report.found = true;
    return s;
}

std::optional<Settings> from_mx(dns::Resolver& resolver, const Address& address, StepReport& report) {
    report.source = Source::mx;
    const dns::MxAnswer answer = resolver.mx(address.domain);
    if (answer.status != dns::Status::ok) {
        report.details.push_back(address.domain + " MX: " + answer.error);
        return std::nullopt;
    }
    std::vector<dns::MxRecord> records = answer.records;
    std::stable_sort(records.begin(), records.end(), [](auto& a, auto& b) { return a.preference < b.preference; });
    for (const auto& mx : records) {
        if (const Provider* p = find_by_mx(mx.host)) {
            report.found = true;
            return settings_of(*p, Source::mx, mx.host, address);
        }
    }
    std::string hosts;
    for (const auto& mx : records) hosts += (hosts.empty() ? "" : ", ") + mx.host;
    report.details.push_back(address.domain + " MX " + hosts + ": no known provider");
    return std::nullopt;
}

std::optional<Settings> from_probes(const std::vector<PortProbe>& probes) {
    std::vector<const PortProbe*> usable;
    for (const auto& p : probes)
        if (p.security()) usable.push_back(&p);
    if (usable.empty()) return std::nullopt;
    const bool beyond_25 = std::any_of(usable.begin(), usable.end(), [](auto* p) { return p->port != mx_port; });
    if (beyond_25) std::erase_if(usable, [](auto* p) { return p->port == mx_port; });
    std::stable_sort(usable.begin(), usable.end(), [](auto* a, auto* b) { return rank(*a) < rank(*b); });
    Settings s;
    s.source = Source::probe;
    s.where = usable.front()->host;
    for (const auto* p : usable) s.outgoing.push_back(Outgoing{p->host, p->port, *p->security(), p->auth, true});
    if (!beyond_25) s.notes.push_back(Note::port_25_not_for_clients);
    return s;
}

Discovery discover(dns::Resolver& resolver, const Address& address, const DiscoverOptions& options) {
    Discovery out;
    StepReport table{Source::table, false, {}};
    if (auto s = from_table(address)) {
        table.found = true;
        out.steps.push_back(table);
        out.settings = std::move(s);
        return out;
    }
    table.details.push_back(address.domain + " is not in the provider table");
    out.steps.push_back(table);

    // Steps 2-5 at once; each is bounded by its own deadline or the resolver's timeout.
    auto autoconfig = std::async(std::launch::async, [&] { return fetch_autoconfig(resolver, address, options.autoconfig); });
    StepReport srv_report, mx_report;
    auto srv = std::async(std::launch::async, [&] { return from_srv(resolver, address, srv_report); });
    auto mx = std::async(std::launch::async, [&] { return from_mx(resolver, address, mx_report); });
    const std::vector<std::string> hosts = {"smtp." + address.domain, "mail." + address.domain};
    auto probes = std::async(std::launch::async, [&] { return probe_ports(resolver, hosts, options.probe_ports, options.probe); });

    AutoconfigResult fetched = autoconfig.get();
    StepReport autoconfig_report{Source::autoconfig, fetched.settings.has_value(), fetched.tried};
    std::optional<Settings> srv_settings = srv.get();
    std::optional<Settings> mx_settings = mx.get();
    out.probes = probes.get();
    std::optional<Settings> probe_settings = from_probes(out.probes);
    StepReport probe_report{Source::probe, probe_settings.has_value(), {}};

    out.steps.push_back(autoconfig_report);
    out.steps.push_back(srv_report);
    out.steps.push_back(mx_report);
    out.steps.push_back(probe_report);
    for (auto* candidate : {&fetched.settings, &srv_settings, &mx_settings, &probe_settings}) {
        if (*candidate) {
            out.settings = std::move(*candidate);
            break;
        }
    }
    return out;
}

}  // namespace cartero::discovery

// See discover_command.hpp.
#include "cli/discover_command.hpp"

#include <sysexits.h>
#include <unistd.h>

#include <iostream>
#include <map>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "base/translation.hpp"
#include "config/units.hpp"
#include "discovery/discover.hpp"
#include "discovery/formats.hpp"
#include "dns/unbound_resolver.hpp"

namespace cartero::cli {
namespace {

namespace json = boost::json;
using base::tr;
using discovery::Security;
using discovery::Source;

struct DiscoverArgs {
    std::string address;
    bool json = false;
    std::string format;
    std::string resolver;
    std::string dns_timeout = "3s";
    std::string fetch_timeout = "5s";
    std::string probe_timeout = "5s";
    std::string ca_file;
    std::uint16_t autoconfig_port = 443;
    std::string probe_port_map;
    bool verbose = false;
};

[[noreturn]] void fail(int exit_code, const std::string& message) {
    std::cerr << "cartero: " << message << "\n";
    throw CLI::RuntimeError(exit_code);
}

std::chrono::milliseconds duration_flag(const std::string& flag, const std::string& value) {
    const auto parsed = config::parse_duration(value);
    if (!parsed || parsed->count() <= 0)
        fail(EX_USAGE, fmt::format(fmt::runtime(tr("{} must be a duration such as 500ms or 5s, not \"{}\"")), flag, value));
    return *parsed;
}

// "465=2465,587=2587": the port asked about = the port dialled (tests only).
std::map<std::uint16_t, std::uint16_t> port_map_flag(const std::string& value) {
    std::map<std::uint16_t, std::uint16_t> out;
    std::size_t at = 0;
    while (at < value.size()) {
        const auto end = std::min(value.find(',', at), value.size());
        const std::string entry = value.substr(at, end - at);
        const auto equals = entry.find('=');
        try {
            if (equals == std::string::npos) throw std::invalid_argument("no =");
            const unsigned long from = std::stoul(entry.substr(0, equals));
            const unsigned long to = std::stoul(entry.substr(equals + 1));
            if (from < 1 || from > 65535 || to < 1 || to > 65535) throw std::out_of_range("port");
            out[static_cast<std::uint16_t>(from)] = static_cast<std::uint16_t>(to);
        } catch (const std::exception&) {
            fail(EX_USAGE, fmt::format(fmt::runtime(tr("--probe-port-map: \"{}\" is not PORT=PORT")), entry));
        }
        at = end + 1;
    }
    return out;
}

std::string helo_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) == 0 && std::string_view(name).find('.') != std::string_view::npos)
        return name;
    return "localhost";
}

const discovery::Provider* find_provider(const std::string& name) {
    for (const auto& p : discovery::providers())
        if (p.name == name) return &p;
    return nullptr;
}

std::string source_words(const discovery::Settings& s) {
    switch (s.source) {
        case Source::table: return fmt::format(fmt::runtime(tr("from the provider table: {}")), s.provider);
        case Source::autoconfig: return fmt::format(fmt::runtime(tr("from the domain's autoconfig file: {}")), s.where);
        case Source::srv: return fmt::format(fmt::runtime(tr("from the domain's SRV records: {}")), s.where);
        case Source::mx:
            return fmt::format(fmt::runtime(tr("from the domain's MX records: {} belongs to {}")), s.where, s.provider);
        case Source::probe: return tr("from a probe of the domain's mail servers");
    }
    return {};
}

std::string step_name(Source source) {
    switch (source) {
        case Source::table: return tr("provider table");
        case Source::autoconfig: return tr("autoconfig");
        case Source::srv: return tr("SRV records");
        case Source::mx: return tr("MX records");
        case Source::probe: return tr("port probe");
    }
    return {};
}

std::string security_words(Security security) {
    return security == Security::none ? std::string(tr("none (no encryption)")) : std::string(discovery::to_string(security));
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
}

std::string sign_in_words(const discovery::Outgoing& o) {
    if (o.auth_from_server) return o.auth.empty() ? std::string(tr("no AUTH offered")) : "AUTH " + join(o.auth, " ");
    if (o.auth.empty()) return tr("not given by this source");
    std::vector<std::string> words;
    for (const auto& a : o.auth) {
        if (a == "password") words.push_back(tr("password"));
        else if (a == "oauth2") words.push_back("OAuth2");
        else if (a == "none") words.push_back(tr("none"));
        else words.push_back(a);
    }
    return join(words, ", ");
}

std::string username_words(const discovery::Settings& s, const std::string& address) {
    if (s.username.empty())
        return fmt::format(fmt::runtime(tr("{} (not given by this source; usually your full e-mail address)")), address);
    if (s.username_form == "%EMAILADDRESS%")
        return fmt::format(fmt::runtime(tr("{} (your full e-mail address)")), s.username);
    if (s.username_form == "%EMAILLOCALPART%")
        return fmt::format(fmt::runtime(tr("{} (the part of your address before the @)")), s.username);
    return s.username;
}

std::string probe_words(const discovery::PortProbe& p) {
    using discovery::Speaks;
    const std::string auth = p.auth.empty() ? std::string(tr("no AUTH offered")) : "AUTH " + join(p.auth, " ");
    std::string out;
    switch (p.speaks) {
        case Speaks::implicit_tls: out = fmt::format(fmt::runtime(tr("SSL/TLS; {}")), auth); break;
        case Speaks::starttls: out = fmt::format(fmt::runtime(tr("STARTTLS; {}")), auth); break;
        case Speaks::plaintext: out = fmt::format(fmt::runtime(tr("plaintext only, no TLS; {}")), auth); break;
        case Speaks::no_host: return tr("the name does not exist");
        case Speaks::refused: return tr("connection refused");
        case Speaks::timed_out: return tr("no answer in time");
        case Speaks::failed: return fmt::format(fmt::runtime(tr("did not work: {}")), p.detail);
    }
    if (p.tls.active && !p.tls.verified)
        out += "; " + fmt::format(fmt::runtime(tr("certificate not valid: {}")), p.tls.verify_error);
    return out;
}

// RFC 6186 6: SRV answers are not authenticated, so a target outside the
// address's domain is pointed out for the person to confirm (msmtp does the same).
void warn_foreign_targets(std::ostream& out, const discovery::Settings& s, const std::string& address) {
    const std::string domain = address.substr(address.rfind('@') + 1);
    for (const auto& o : s.outgoing) {
        if (o.host == domain || o.host.ends_with("." + domain)) continue;
        out << "\n"
            << fmt::format(fmt::runtime(tr("Check this: {} is not in {}; DNS answers are not signed, so make sure it "
                                           "really is your provider's server before you send a password there.")),
                           o.host, domain)
            << "\n";
        return;
    }
}

void print_text(const discovery::Discovery& d, const std::string& address, bool verbose) {
    std::ostream& out = std::cout;
    if (const auto& s = d.settings) {
        const auto& first = s->outgoing.front();
        out << fmt::format(fmt::runtime(tr("Outgoing server for {} ({})")), address, source_words(*s)) << "\n\n";
        out << "  " << fmt::format(fmt::runtime(tr("Server:      {}")), first.host) << "\n";
        out << "  " << fmt::format(fmt::runtime(tr("Port:        {}")), first.port) << "\n";
        out << "  " << fmt::format(fmt::runtime(tr("Encryption:  {}")), security_words(first.security)) << "\n";
        out << "  " << fmt::format(fmt::runtime(tr("User name:   {}")), username_words(*s, address)) << "\n";
        out << "  " << fmt::format(fmt::runtime(tr("Sign-in:     {}")), sign_in_words(first)) << "\n";
        for (std::size_t i = 1; i < s->outgoing.size(); ++i) {
            const auto& o = s->outgoing[i];
            out << "  " << fmt::format(fmt::runtime(tr("Also:        {} port {}, {}")), o.host, o.port, security_words(o.security))
                << "\n";
        }
        if (!s->incoming.empty()) {
            out << "\n" << tr("Incoming server (for reference):") << "\n";
            for (const auto& in : s->incoming) {
                std::string type = in.type == "imap" ? "IMAP" : "POP3";
                out << "  " << fmt::format(fmt::runtime(tr("{} {} port {}, {}")), type, in.host, in.port, security_words(in.security))
                    << "\n";
            }
        }
        if (!s->notes.empty()) {
            out << "\n" << tr("Notes:") << "\n";
            for (const auto note : s->notes) out << "  - " << discovery::note_text(note) << "\n";
        }
        if (s->source == Source::srv) warn_foreign_targets(out, *s, address);
        if (s->source == Source::table || s->source == Source::mx) {
            if (const auto* p = find_provider(s->provider))
                out << "\n" << fmt::format(fmt::runtime(tr("Facts: {} (checked {})")), p->source, p->checked) << "\n";
        }
    } else {
        out << fmt::format(fmt::runtime(tr("No outgoing server found for {}.")), address) << "\n";
        out << tr("Ask your provider for the outgoing server's name, its port and whether it uses SSL/TLS or STARTTLS.")
            << "\n";
    }
    if (!d.probes.empty() && (verbose || !d.settings || d.settings->source == Source::probe)) {
        out << "\n" << tr("Port probe:") << "\n";
        std::string unresolved;  // a host whose name does not exist is said once, not once per port
        for (const auto& p : d.probes) {
            if (p.speaks == discovery::Speaks::no_host) {
                if (p.host != unresolved) out << "  " << p.host << "  " << probe_words(p) << "\n";
                unresolved = p.host;
                continue;
            }
            out << "  " << p.host << ":" << p.port << "  " << probe_words(p) << "\n";
        }
    }
    if (verbose || !d.settings) {
        out << "\n" << tr("Tried:") << "\n";
        for (const auto& step : d.steps) {
            out << "  " << step_name(step.source) << ": " << (step.found ? tr("found") : tr("nothing found")) << "\n";
            if (verbose)
                for (const auto& detail : step.details) out << "      " << detail << "\n";
        }
    }
}

// The --json spelling, as the --tls flag of check and send spells it.
const char* security_id(Security security) {
    return security == Security::ssl ? "ssl" : security == Security::starttls ? "starttls" : "none";
}

json::object outgoing_json(const discovery::Outgoing& o) {
    json::array auth;
    for (const auto& a : o.auth) auth.emplace_back(a);
    return {{"host", o.host}, {"port", o.port}, {"security", security_id(o.security)}, {"auth", auth},
            {"auth_from_server", o.auth_from_server}};
}

json::object probe_json(const discovery::PortProbe& p) {
    json::array auth;
    for (const auto& a : p.auth) auth.emplace_back(a);
    json::object tls{{"active", p.tls.active}, {"version", p.tls.version}, {"cipher", p.tls.cipher},
                     {"verified", p.tls.verified}, {"verify_error", p.tls.verify_error}};
    return {{"host", p.host}, {"port", p.port}, {"address", p.address}, {"speaks", discovery::speaks_id(p.speaks)},
            {"auth", auth}, {"tls", tls}, {"detail", p.detail}, {"elapsed_ms", p.elapsed.count()}};
}

void print_json(const discovery::Discovery& d, const std::string& address) {
    json::object root{{"address", address}, {"found", d.settings.has_value()}};
    if (const auto& s = d.settings) {
        root["source"] = discovery::source_id(s->source);
        root["where"] = s->where;
        root["provider"] = s->provider;
        json::array outgoing, incoming, notes;
        for (const auto& o : s->outgoing) outgoing.emplace_back(outgoing_json(o));
        for (const auto& in : s->incoming)
            incoming.emplace_back(json::object{{"type", in.type}, {"host", in.host}, {"port", in.port},
                                               {"security", security_id(in.security)}});
        for (const auto n : s->notes) notes.emplace_back(json::object{{"id", discovery::note_id(n)}, {"text", discovery::note_text(n)}});
        root["outgoing"] = outgoing;
        root["incoming"] = incoming;
        root["username"] = s->username;
        root["username_form"] = s->username_form;
        root["notes"] = notes;
    }
    json::array steps, probes;
    for (const auto& step : d.steps) {
        json::array details;
        for (const auto& detail : step.details) details.emplace_back(detail);
        steps.emplace_back(json::object{{"source", discovery::source_id(step.source)}, {"found", step.found}, {"details", details}});
    }
    for (const auto& p : d.probes) probes.emplace_back(probe_json(p));
    root["steps"] = steps;
    root["probes"] = probes;
    std::cout << json::serialize(root) << "\n";
}

void run_discover(const DiscoverArgs& args) {
    const auto address = discovery::split_address(args.address);
    if (!address) fail(EX_USAGE, fmt::format(fmt::runtime(tr("\"{}\" is not an e-mail address (write it like name@example.com)")), args.address));
    std::optional<discovery::Format> format;
    if (!args.format.empty()) format = discovery::parse_format(args.format);  // CLI11 checked the name

    discovery::DiscoverOptions options;
    const auto fetch_timeout = duration_flag("--fetch-timeout", args.fetch_timeout);
    const auto probe_timeout = duration_flag("--probe-timeout", args.probe_timeout);
    dns::ResolverOptions resolver_options;
    resolver_options.resolver = args.resolver;
    resolver_options.timeout = duration_flag("--dns-timeout", args.dns_timeout);
    std::unique_ptr<dns::Resolver> resolver;
    try {
        resolver = dns::make_unbound_resolver(resolver_options);
    } catch (const std::exception& e) {
        fail(EX_USAGE, e.what());
    }
    options.autoconfig.port = args.autoconfig_port;
    options.autoconfig.timeout = fetch_timeout;
    // The DNS answer for the web server comes first, then the fetch.
    options.autoconfig.deadline = std::chrono::steady_clock::now() + resolver_options.timeout + fetch_timeout;
    options.probe.timeout = probe_timeout;
    options.probe.helo_name = helo_name();
    options.probe.port_map = port_map_flag(args.probe_port_map);
    if (!args.ca_file.empty()) {
        options.autoconfig.ca_file = args.ca_file;
        options.probe.ca_file = args.ca_file;
    }
    const std::string whole = address->local + "@" + address->domain;
    const discovery::Discovery found = discovery::discover(*resolver, *address, options);
    if (args.json) {
        print_json(found, whole);
    } else if (format && found.settings) {
        std::cout << discovery::render(*format, *found.settings, *address);
    } else {
        print_text(found, whole, args.verbose);
    }
    if (!found.settings) throw CLI::RuntimeError(EX_UNAVAILABLE);
}

}  // namespace

void add_discover_command(CLI::App& app, GlobalOptions&) {
    auto args = std::make_shared<DiscoverArgs>();
    auto* cmd = app.add_subcommand("discover", "Find the outgoing mail settings of an e-mail address (docs/client.md)");
    cmd->add_option("ADDRESS", args->address, "The e-mail address")->required();
    cmd->add_flag("--json", args->json, "Print everything found as JSON");
    cmd->add_option("--format", args->format, "Print a ready configuration: msmtp, thunderbird, swaks or env")
        ->check(CLI::IsMember({"msmtp", "thunderbird", "swaks", "env"}));
    cmd->add_flag("--verbose,-v", args->verbose, "Also show the port probe and why each step found nothing");
    cmd->add_option("--test-dns-resolver", args->resolver,
                    "Tests only: ask this DNS server (ADDR or ADDR:PORT) instead of those of /etc/resolv.conf");
    cmd->add_option("--dns-timeout", args->dns_timeout, "Bound on each DNS question (default 3s)");
    cmd->add_option("--fetch-timeout", args->fetch_timeout, "Bound on each autoconfig HTTPS fetch (default 5s)");
    cmd->add_option("--probe-timeout", args->probe_timeout, "Bound on the whole port probe (default 5s)");
    cmd->add_option("--ca-file", args->ca_file, "Trust this CA (PEM) for autoconfig and the probe, instead of the system store")
        ->check(CLI::ExistingFile);
    cmd->add_option("--autoconfig-port", args->autoconfig_port, "Tests only: the HTTPS port for autoconfig (default 443)")
        ->check(CLI::Range(1, 65535));
    cmd->add_option("--probe-port-map", args->probe_port_map,
                    "Tests only: dial other ports than 465/587/25, e.g. 465=2465,587=2587,25=2525");
    cmd->callback([args] { run_discover(*args); });
}

}  // namespace cartero::cli

// See probe.hpp.
#include "discovery/probe.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace cartero::discovery {
namespace {

using Clock = std::chrono::steady_clock;

// RFC 8314 7.3: 465 is submissions, TLS from the first byte.
constexpr std::uint16_t submissions_port = 465;

delivery::ConnectionTimeouts every_step(std::chrono::milliseconds limit) {
    delivery::ConnectionTimeouts t;
    t.connect = t.greeting = t.hello = t.starttls = t.tls_handshake = t.auth = t.mail = t.rcpt = t.data_initiation =
        t.data = t.rset = t.quit = limit;
    return t;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

void probe_one(dns::Resolver& resolver, PortProbe& probe, const ProbeOptions& options, const std::atomic<bool>& abandon) {
    const auto start = Clock::now();
    const auto finish = [&] { probe.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start); };
    const dns::AddressAnswer answer = resolver.addresses(probe.host);
    if (answer.status != dns::Status::ok) {
        probe.speaks = answer.status == dns::Status::temporary ? Speaks::timed_out : Speaks::no_host;
        probe.detail = answer.error;
        return finish();
    }
    // IPv4 first: a probe should find what answers, and IPv6 routes that
    // blackhole are still more common than IPv4 ones.
    probe.address = (!answer.ipv4.empty() ? answer.ipv4.front() : answer.ipv6.front()).to_string();

    delivery::Peer peer{probe.host, probe.address, probe.dialled, {}};
    delivery::ConnectionOptions connection;
    connection.helo_name = options.helo_name;
    connection.tls = is_implicit_tls_port(probe.port) ? delivery::TlsMode::implicit : delivery::TlsMode::opportunistic;
    connection.verify_certificate = false;  // checked and reported, not required (see probe.hpp)
    connection.ca_file = options.ca_file;
    connection.timeouts = every_step(options.timeout);
    connection.abandon = &abandon;
    auto opened = delivery::SmtpConnection::open(peer, connection);
    if (!opened.connection) {
        const std::string& why = opened.failure.detail;
        probe.detail = why;
        if (contains(why, "Connection refused")) probe.speaks = Speaks::refused;
        else if (contains(why, "timed out") || contains(why, "abandoned") || abandon.load()) probe.speaks = Speaks::timed_out;
        else probe.speaks = Speaks::failed;
        if (probe.speaks == Speaks::timed_out && abandon.load())
            probe.detail = "no answer within " + std::to_string(options.timeout.count()) + " ms";
        return finish();
    }
    auto& open = *opened.connection;
    probe.tls = open.tls();
    probe.auth = open.extensions().auth;
    if (probe.tls.active) probe.speaks = connection.tls == delivery::TlsMode::implicit ? Speaks::implicit_tls : Speaks::starttls;
    else probe.speaks = Speaks::plaintext;
    open.quit();
    finish();
}

}  // namespace

std::string_view speaks_id(Speaks speaks) {
    switch (speaks) {
        case Speaks::implicit_tls: return "implicit_tls";
        case Speaks::starttls: return "starttls";
        case Speaks::plaintext: return "plaintext";
        case Speaks::no_host: return "no_host";
        case Speaks::refused: return "refused";
        case Speaks::timed_out: return "timed_out";
        case Speaks::failed: return "failed";
    }
    return "failed";
}

std::optional<Security> PortProbe::security() const {
    if (speaks == Speaks::implicit_tls) return Security::ssl;
    if (speaks == Speaks::starttls) return Security::starttls;
    return std::nullopt;
}

bool is_implicit_tls_port(std::uint16_t port) { return port == submissions_port; }

std::vector<PortProbe> probe_ports(dns::Resolver& resolver, const std::vector<std::string>& hosts,
                                   const std::vector<std::uint16_t>& ports, const ProbeOptions& options) {
    std::vector<PortProbe> probes;
    for (const auto& host : hosts) {
        for (const auto port : ports) {
            PortProbe p;
            p.host = host;
            p.port = port;
            const auto mapped = options.port_map.find(port);
            p.dialled = mapped == options.port_map.end() ? port : mapped->second;
            probes.push_back(std::move(p));
        }
    }
    std::atomic<bool> abandon{false};
    std::mutex mutex;
    std::condition_variable all_done;
    std::size_t running = probes.size();
    std::vector<std::thread> threads;
    threads.reserve(probes.size());
    for (auto& probe : probes) {
        threads.emplace_back([&, target = &probe] {
            probe_one(resolver, *target, options, abandon);
            std::scoped_lock lock(mutex);
            if (--running == 0) all_done.notify_all();
        });
    }
    {
        std::unique_lock lock(mutex);
        if (!all_done.wait_until(lock, Clock::now() + options.timeout, [&] { return running == 0; }))
            abandon.store(true);  // every connection still open gives up within a fraction of a second
    }
    for (auto& t : threads) t.join();
    return probes;
}

}  // namespace cartero::discovery

// See unbound_resolver.hpp.
#include "dns/unbound_resolver.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unbound.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "dns/rdata.hpp"

namespace cartero::dns {
namespace {

// RFC 1035 3.2.2, RFC 3596, RFC 6698 7.1, RFC 2782; class IN (RFC 1035 3.2.4).
constexpr int type_a = 1;
constexpr int type_mx = 15;
constexpr int type_txt = 16;
constexpr int type_aaaa = 28;
constexpr int type_srv = 33;
constexpr int type_tlsa = 52;
constexpr int class_in = 1;

using Clock = std::chrono::steady_clock;
// RFC 1035 4.1.1 response codes.
constexpr int rcode_servfail = 2;
constexpr int rcode_nxdomain = 3;
constexpr int rcode_refused = 5;

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// "192.0.2.1" | "192.0.2.1:53" | "2001:db8::1" | "[2001:db8::1]:53" -> "addr[@port]".
std::string unbound_address(std::string_view entry) {
    const auto bad = [&](const char* why) {
        return std::invalid_argument("dns.resolver: \"" + std::string(entry) + "\" " + why +
                                     " (write 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:5353)");
    };
    std::string host;
    std::string port;
    if (entry.starts_with('[')) {
        const auto close = entry.find(']');
        if (close == std::string_view::npos) throw bad("has no closing ']'");
        host = entry.substr(1, close - 1);
        const auto rest = entry.substr(close + 1);
        if (!rest.empty() && (!rest.starts_with(':') || rest.size() == 1)) throw bad("has text after ']'");
        if (!rest.empty()) port = rest.substr(1);
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
        const auto colon = entry.find(':');
        host = entry.substr(0, colon);
        port = entry.substr(colon + 1);
    } else {
        host = entry;
    }
    boost::system::error_code error;
    const auto address = boost::asio::ip::make_address(host, error);
    if (error || (address.is_v6() && address.to_v6().scope_id() != 0)) throw bad("is not an IP address");
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(port) == 0 || std::stoul(port) > 65535) {
            throw bad("has a bad port");
        }
        return address.to_string() + "@" + port;
    }
    return address.to_string();
}

// libunbound logs through one process-wide FILE*. Point every context at one
// /dev/null stream that is never closed, so no context can leave another
// writing to a closed stream.
FILE* null_log() {
    static FILE* const stream = std::fopen("/dev/null", "w");
    return stream;
}

void check(int code, const char* what) {
    if (code != 0) throw std::runtime_error(std::string("libunbound: ") + what + ": " + ub_strerror(code));
}

// What one question came back with, records still in wire form.
struct Raw {
    Status status = Status::temporary;
    std::string error;
    std::vector<std::string> rdata;
    bool secure = false;
};

std::string question(const std::string& name, const char* type) { return name + " " + type; }

Raw classify(const ub_result& result, const std::string& name, const char* type) {
    Raw raw;
    raw.secure = result.secure != 0;
    if (result.bogus) {
        raw.error = "DNSSEC validation failed for " + question(name, type) +
                    (result.why_bogus ? std::string(": ") + result.why_bogus : std::string());
        return raw;
    }
    if (result.rcode == rcode_nxdomain || result.nxdomain) {
        raw.status = Status::nxdomain;
        raw.error = "domain " + name + " does not exist";
        return raw;
    }
    if (result.rcode == rcode_servfail) {
        raw.error = "DNS server failure (SERVFAIL) for " + question(name, type);
        return raw;
    }
    if (result.rcode != 0) {
        raw.error = "DNS error " + std::string(result.rcode == rcode_refused ? "REFUSED" : "rcode " + std::to_string(result.rcode)) +
                    " for " + question(name, type);
        return raw;
    }
    if (!result.havedata) {
        raw.status = Status::nodata;
        raw.error = std::string("no ") + type + " records for " + name;
        return raw;
    }
    raw.status = Status::ok;
    for (int i = 0; result.data[i] != nullptr; ++i) {
        raw.rdata.emplace_back(result.data[i], static_cast<std::size_t>(result.len[i]));
    }
    return raw;
}

// Parses each record; a record that does not parse is left out and counted in
// `error` (the answer stays usable: one bad record must not hide good ones).
template <typename Answer, typename Parse>
Answer convert(Raw raw, const std::string& name, const char* type, Parse parse) {
    Answer answer;
    answer.status = raw.status;
    answer.error = std::move(raw.error);
    answer.secure = raw.secure;
    int malformed = 0;
    for (const auto& rdata : raw.rdata) {
        if (auto record = parse(rdata)) {
            answer.records.push_back(std::move(*record));
        } else {
            ++malformed;
        }
    }
    if (malformed > 0) {
        answer.error = std::to_string(malformed) + " malformed " + type + " record(s) for " + name + " ignored";
    }
    return answer;
}

class UnboundResolver final : public Resolver {
public:
    explicit UnboundResolver(const ResolverOptions& options) : timeout_(options.timeout) {
        context_ = ub_ctx_create();
        if (context_ == nullptr) throw std::runtime_error("libunbound: cannot create a context");
        try {
            configure(options);
            if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        } catch (...) {
            ub_ctx_delete(context_);
            throw;
        }
        pump_ = std::thread([this] { pump(); });
    }

    ~UnboundResolver() override {
        const char stop = 1;
        (void)!::write(wake_[1], &stop, 1);
        pump_.join();
        ub_ctx_delete(context_);  // no callback runs after this
        ::close(wake_[0]);
        ::close(wake_[1]);
    }

    UnboundResolver(const UnboundResolver&) = delete;
    UnboundResolver& operator=(const UnboundResolver&) = delete;

private:
    // One question in flight. The registry owns it until the callback has
    // run or ub_cancel has promised the callback never will, so the callback's
    // pointer is always valid; the asking thread holds its own reference.
    struct Pending {
        UnboundResolver* owner = nullptr;
        bool done = false;
        int error = 0;
        ub_result* result = nullptr;
        ~Pending() {
            if (result != nullptr) ub_resolve_free(result);
        }
    };

    void configure(const ResolverOptions& options) {
        if (options.timeout.count() <= 0) throw std::invalid_argument("dns.timeout must be greater than zero");
        // Threads, not fork(): the server is multi-threaded.
        check(ub_ctx_async(context_, 1), "async");
        check(ub_ctx_debugout(context_, null_log()), "debugout");
        check(ub_ctx_debuglevel(context_, 0), "debuglevel");
        // Forwarders on 127.0.0.1 (a local cache, or a test server) are refused
        // by default.
        check(ub_ctx_set_option(context_, "do-not-query-localhost:", "no"), "do-not-query-localhost");
        // libunbound answers NXDOMAIN itself for the RFC 6761 names it serves
        // locally by default; "test." is one, and test setups (ours, and sites
        // that stage mail on .test zones) need it asked. RFC 6761 6.2 lets a
        // resolver treat .test normally; the real root answers NXDOMAIN anyway.
        check(ub_ctx_set_option(context_, "local-zone:", "test. transparent"), "local-zone");
        if (options.resolver.empty()) {
            if (ub_ctx_resolvconf(context_, nullptr) != 0) {
                throw std::invalid_argument("dns.resolver is empty and /etc/resolv.conf cannot be read");
            }
        } else if (options.resolver != "recursive") {
            for (const auto& forwarder : parse_forwarders(options.resolver)) {
                check(ub_ctx_set_fwd(context_, forwarder.c_str()), "forwarder");
            }
        }
        if (!options.trust_anchor_file.empty()) {
            if (!std::ifstream(options.trust_anchor_file)) {
                throw std::invalid_argument("dns trust anchor file " + options.trust_anchor_file + " cannot be read");
            }
            check(ub_ctx_add_ta_file(context_, options.trust_anchor_file.c_str()), "trust anchor");
        }
    }

    // Hands answers from libunbound's background thread to ub_process, which
    // runs the callbacks here; stops when the destructor writes to wake_.
    void pump() {
        const int answers = ub_fd(context_);
        while (true) {
            pollfd fds[2] = {{answers, POLLIN, 0}, {wake_[0], POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[1].revents != 0) return;
            if (fds[0].revents != 0) (void)ub_process(context_);
        }
    }

    static void on_answer(void* data, int error, ub_result* result) {
        auto* pending = static_cast<Pending*>(data);
        UnboundResolver& self = *pending->owner;
        std::scoped_lock lock(self.mutex_);
        pending->error = error;
        pending->result = result;
        pending->done = true;
        self.registry_.erase(pending);  // the asking thread still holds it
        self.answered_.notify_all();
    }

    // One question on its way; `started` is ub_resolve_async's result.
    struct Question {
        std::shared_ptr<Pending> pending;
        int id = 0;
        int started = 0;
        std::string name;
        const char* type = "";
    };

    Question start(const std::string& name, int type, const char* type_name) {
        Question q{std::make_shared<Pending>(), 0, 0, name, type_name};
        q.pending->owner = this;
        {
            // Registered before it can be answered: the callback may run
            // before ub_resolve_async returns.
            std::scoped_lock lock(mutex_);
            registry_.emplace(q.pending.get(), q.pending);
        }
        q.started = ub_resolve_async(context_, name.c_str(), type, class_in, q.pending.get(), &on_answer, &q.id);
        if (q.started != 0) {
            std::scoped_lock lock(mutex_);
            registry_.erase(q.pending.get());
        }
        return q;
    }

    Raw finish(const Question& q, Clock::time_point deadline) {
        const auto what = question(q.name, q.type);
        if (q.started != 0) return Raw{Status::temporary, "resolver error for " + what + ": " + ub_strerror(q.started), {}, false};
        std::unique_lock lock(mutex_);
        if (!answered_.wait_until(lock, deadline, [&] { return q.pending->done; })) {
            lock.unlock();
            // Cancelled: the callback will never run, so the registry lets go.
            // Not cancellable: the callback is running or about to, and lets go.
            if (ub_cancel(context_, q.id) == 0) {
                lock.lock();
                registry_.erase(q.pending.get());
            }
            return Raw{Status::temporary,
                       "no answer from the DNS resolver within " + std::to_string(timeout_.count()) + " ms for " + what,
                       {}, false};
        }
        if (q.pending->error != 0 || q.pending->result == nullptr) {
            return Raw{Status::temporary, "resolver error for " + what + ": " + ub_strerror(q.pending->error), {}, false};
        }
        return classify(*q.pending->result, q.name, q.type);
    }

    Raw ask(const std::string& name, int type, const char* type_name) {
        return finish(start(name, type, type_name), Clock::now() + timeout_);
    }

    MxAnswer lookup_mx(const std::string& domain) override {
        return convert<MxAnswer>(ask(domain, type_mx, "MX"), domain, "MX", parse_mx);
    }

    AddressAnswer lookup_addresses(const std::string& host) override {
        // AAAA and A asked together and waited for against one deadline, so
        // the whole lookup takes at most `timeout`, like every other one.
        const auto deadline = Clock::now() + timeout_;
        const auto aaaa = start(host, type_aaaa, "AAAA");
        const auto a = start(host, type_a, "A");
        auto ipv6 = convert<FamilyAnswer>(finish(aaaa, deadline), host, "AAAA", parse_aaaa);
        auto ipv4 = convert<FamilyAnswer>(finish(a, deadline), host, "A", parse_a);
        return combine_addresses(host, std::move(ipv6), std::move(ipv4));
    }

    TxtAnswer lookup_txt(const std::string& name) override {
        return convert<TxtAnswer>(ask(name, type_txt, "TXT"), name, "TXT", parse_txt);
    }

    TlsaAnswer lookup_tlsa(const std::string& name) override {
        return convert<TlsaAnswer>(ask(name, type_tlsa, "TLSA"), name, "TLSA", parse_tlsa);
    }

    SrvAnswer lookup_srv(const std::string& name) override {
        return convert<SrvAnswer>(ask(name, type_srv, "SRV"), name, "SRV", parse_srv);
    }

    ub_ctx* context_ = nullptr;
    std::chrono::milliseconds timeout_;
    int wake_[2] = {-1, -1};
    std::thread pump_;
    std::mutex mutex_;
    std::condition_variable answered_;
    std::map<Pending*, std::shared_ptr<Pending>> registry_;
};

}  // namespace

std::vector<std::string> parse_forwarders(std::string_view resolver) {
    std::vector<std::string> out;
    while (!resolver.empty()) {
        const auto end = resolver.find_first_of(", ");
        const auto entry = trim(resolver.substr(0, end));
        if (!entry.empty()) out.push_back(unbound_address(entry));
        if (end == std::string_view::npos) break;
        resolver.remove_prefix(end + 1);
    }
    if (out.empty()) throw std::invalid_argument("dns.resolver names no server");
    return out;
}

std::unique_ptr<Resolver> make_unbound_resolver(const ResolverOptions& options) {
    return std::make_unique<UnboundResolver>(options);
}

}  // namespace cartero::dns

// Fuzz target: the whole ServerSession, driven like the network driver would drive
// it, with random bytes in random pieces and random driver outcomes (TLS handshake,
// AUTH result, spool commit, timeouts, shutdown, EOF).
// Invariants: every write is whole reply lines ("ddd" + SP or '-'); message actions
// come in order (Begin, Data*, End|Abort); nothing follows Close; the session never
// spins without progress; the driver contract is kept, so no logic_error escapes.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "smtp/session.hpp"

using namespace cartero::smtp;

namespace {

class AnyPolicy : public SessionPolicy {
public:
    std::optional<Reply> check_mail(const SessionFacts& facts, const Address&) const override {
        FUZZ_CHECK(facts.peer != nullptr);
        return std::nullopt;
    }
    std::optional<Reply> check_rcpt(const SessionFacts&, const Address&, const Address& rcpt) const override {
        if (rcpt.local == "reject") return make_reply(550, "5.1.1", "User unknown");
        return std::nullopt;
    }
};

void check_write(const Write& write) {
    const std::string& b = write.bytes;
    FUZZ_CHECK(!b.empty() && b.size() >= 6 && b.compare(b.size() - 2, 2, "\r\n") == 0);
    for (std::size_t line = 0; line < b.size(); line = b.find("\r\n", line) + 2) {
        FUZZ_CHECK(b.size() - line >= 6);
        FUZZ_CHECK(b[line] >= '2' && b[line] <= '5');
        for (std::size_t i = 1; i < 3; ++i) FUZZ_CHECK(b[line + i] >= '0' && b[line + i] <= '9');
        FUZZ_CHECK(b[line + 3] == ' ' || b[line + 3] == '-');
        const std::size_t end = b.find("\r\n", line);
        FUZZ_CHECK(b.find('\n', line) == end + 1 && b.find('\r', line) == end);
    }
}

SessionSettings settings_from(FuzzedDataProvider& in) {
    SessionSettings s;
    s.role = static_cast<Role>(in.ConsumeIntegralInRange(0, 2));
    s.hostname = "mx.example";
    s.tls_available = in.ConsumeBool();
    s.message_size = in.ConsumeIntegralInRange<std::size_t>(0, 4096);
    s.recipients_per_message = in.ConsumeIntegralInRange<std::size_t>(1, 4);
    s.command_line_length = in.ConsumeIntegralInRange<std::size_t>(8, 600);
    s.bad_commands = in.ConsumeIntegralInRange<std::size_t>(1, 40);
    s.messages_per_session = in.ConsumeIntegralInRange<std::size_t>(1, 4);
    return s;
}

class Driver {
public:
    Driver(FuzzedDataProvider& in, ServerSession& session) : in_(in), session_(session) {}

    void run() {
        for (std::size_t idle = 0; !closed_; ++idle) {
            FUZZ_CHECK(idle < 100000);  // the session must ask to read or close eventually
            const Action action = session_.next();
            if (std::holds_alternative<Read>(action)) {
                on_read();
                idle = 0;
            } else {
                std::visit([this](const auto& a) { on(a); }, action);
            }
        }
    }

private:
    void on_read() {
        if (in_.remaining_bytes() == 0) return session_.peer_closed();
        switch (in_.ConsumeIntegralInRange(0, 40)) {
            case 0: return session_.timed_out();
            case 1: session_.shutting_down(); return;
            default: break;
        }
        const std::string piece = in_.ConsumeBytesAsString(in_.ConsumeIntegralInRange<std::size_t>(1, 300));
        session_.feed(piece);
    }
    void on(const Read&) {}
    void on(const Write& w) { check_write(w); }
    void on(const StartTls&) {
        if (in_.ConsumeBool()) session_.tls_started(TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", 128});
        else session_.tls_failed();
    }
    void on(const Authenticate& a) {
        FUZZ_CHECK(a.mechanism == "PLAIN" || a.mechanism == "LOGIN");
        const auto status = static_cast<AuthStatus>(in_.ConsumeIntegralInRange(0, 5));
        session_.auth_finished(AuthResult{status, "user@example"});
    }
    void on(const MessageBegin&) {
        FUZZ_CHECK(!message_open_);
        message_open_ = true;
    }
    void on(const MessageData& d) { FUZZ_CHECK(message_open_ && !d.bytes.empty()); }
    void on(const MessageEnd& e) {
        FUZZ_CHECK(message_open_ && !e.envelope.recipients.empty());
        message_open_ = false;
        if (in_.ConsumeBool()) session_.message_committed("QID");
        else session_.message_failed(make_reply(451, "4.3.0", "Error: queue file write error"));
    }
    void on(const MessageAbort&) {
        FUZZ_CHECK(message_open_);
        message_open_ = false;
    }
    void on(const Close&) {
        FUZZ_CHECK(!message_open_);
        closed_ = true;
    }

    FuzzedDataProvider& in_;
    ServerSession& session_;
    bool message_open_ = false;
    bool closed_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const AnyPolicy policy;
    std::optional<TlsInfo> tls;
    SessionSettings settings = settings_from(in);
    if (settings.role == Role::submissions) tls = TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", 128};
    ServerSession session(std::move(settings), PeerInfo{"192.0.2.1", 25, in.ConsumeBool()}, policy, tls);
    Driver(in, session).run();
    return 0;
}

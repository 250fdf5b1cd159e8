// Dialogue: drives a ServerSession like the network driver would, so a test reads
// as a conversation: send client bytes, get back everything the server wrote, and
// look at the actions (message begin/data/end/abort, STARTTLS, AUTH) it asked for.
// The driver's answers (TLS result, AUTH result, commit result) are scripted.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/replies.hpp"
#include "smtp/session.hpp"

namespace cartero::smtp::testing {

inline std::string crlf_lines(std::initializer_list<std::string_view> lines) {
    std::string out;
    for (const auto line : lines) out += std::string(line) + "\r\n";
    return out;
}

// A small stand-in for policy/: local domain example.org with two users; relaying
// only for authenticated or trusted peers; on submission the sender must be the user
// (the null sender included: the real rules are in policy/session_rules.cpp).
class TestPolicy : public SessionPolicy {
public:
    std::optional<Reply> check_mail(const SessionFacts& facts, const Address& sender) const override {
        if (facts.role != Role::mx && sender.null()) {
            return make_reply(553, "5.7.1", "<>: Sender address rejected: null sender not allowed for submission");
        }
        if (facts.role != Role::mx && sender.str() != facts.auth_user) {
            return make_reply(553, "5.7.1",
                              "<" + sender.str() + ">: Sender address rejected: not owned by user " + facts.auth_user);
        }
        return std::nullopt;
    }
    std::optional<Reply> check_rcpt(const SessionFacts& facts, const Address&, const Address& rcpt) const override {
        const bool local = rcpt.domain == "example.org" || rcpt.domain.empty();
        if (!local && facts.auth_user.empty() && !facts.peer->trusted) {
            return make_reply(554, "5.7.1", "<" + rcpt.str() + ">: Relay access denied");
        }
        if (local && !users.count(rcpt.str())) {
            return make_reply(550, "5.1.1",
                              "<" + rcpt.str() + ">: Recipient address rejected: User unknown in local recipient table");
        }
        return std::nullopt;
    }
    // End of message: keeps what it saw, refuses a From: of mallory (the real
    // check, From: ownership, is policy/session_rules.cpp).
    std::optional<Reply> check_message(const SessionFacts&, std::string_view header_block) const override {
        header_blocks.emplace_back(header_block);
        if (header_block.find("From: mallory") != std::string_view::npos)
            return make_reply(553, "5.7.1", "<mallory@example.org>: From: header address not owned by user x");
        return std::nullopt;
    }
    std::set<std::string> users{"alice@example.org", "bob@example.org", "postmaster"};
    mutable std::vector<std::string> header_blocks;
};

class RecordingObserver : public SessionObserver {
public:
    void state_changed(State from, State to) override {
        transitions.push_back(std::string(to_string(from)) + "->" + std::string(to_string(to)));
    }
    void replied(std::string_view verb, const Reply& reply) override {
        replies.push_back(std::string(verb) + " " + std::to_string(reply.code));
    }
    std::vector<std::string> transitions;
    std::vector<std::string> replies;
};

inline SessionSettings test_settings(Role role = Role::mx, bool tls_available = true) {
    SessionSettings settings;
    settings.role = role;
    settings.hostname = "mx.example.org";
    settings.tls_available = tls_available;
    return settings;
}

inline TlsInfo test_tls() { return TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256}; }

class Dialogue {
public:
    explicit Dialogue(SessionSettings settings, std::optional<TlsInfo> already_tls = std::nullopt,
                      PeerInfo peer = PeerInfo{"192.0.2.1", 40000, false})
        : session_(std::move(settings), std::move(peer), policy_, std::move(already_tls), &observer_) {
        greeting_ = run();
    }

    // Feeds `bytes` and runs until the session wants more input or closes; returns what it wrote.
    std::string send(std::string_view bytes) {
        session_.feed(bytes);
        return run();
    }
    std::string run_after(void (ServerSession::*event)()) {
        (session_.*event)();
        return run();
    }

    // Runs the action loop, answering driver actions from the script.
    std::string run() {
        std::string written;
        while (!closed) {
            Action action = session_.next();
            if (std::holds_alternative<Read>(action)) break;
            if (auto* write = std::get_if<Write>(&action)) {
                written += write->bytes;
                close_after_write = close_after_write || write->close_after;
                continue;
            }
            handle(action);
        }
        return written;
    }

    // Scripted driver answers.
    bool tls_handshake_succeeds = true;
    std::deque<AuthResult> auth_results;       // default: ok as alice@example.org
    std::deque<std::optional<Reply>> commits;  // default: committed; a Reply = message_failed

    // What the session asked for, as short strings: "begin", "end", "abort", "starttls",
    // "auth PLAIN <r1> <r2>", "close".
    std::vector<std::string> events;
    std::vector<std::string> messages;         // bodies of committed messages
    std::vector<Envelope> envelopes;           // and their envelopes
    std::vector<Trace> traces;
    std::string body;                          // data of the current message
    bool closed = false;
    bool close_after_write = false;

    const std::string& greeting() const { return greeting_; }
    ServerSession& session() { return session_; }
    RecordingObserver& observer() { return observer_; }
    const TestPolicy& policy() const { return policy_; }

private:
    void handle(const Action& action) {
        std::visit([this](const auto& a) { on(a); }, action);
    }
    void on(const Write&) {}
    void on(const Read&) {}
    void on(const StartTls&) {
        events.emplace_back("starttls");
        if (tls_handshake_succeeds) session_.tls_started(test_tls());
        else session_.tls_failed();
    }
    void on(const Authenticate& a) {
        std::string event = "auth " + a.mechanism;
        for (const auto& response : a.responses) event += " [" + response + "]";
        events.push_back(event);
        AuthResult result{AuthStatus::ok, "alice@example.org"};
        if (!auth_results.empty()) {
            result = auth_results.front();
            auth_results.pop_front();
        }
        session_.auth_finished(result);
    }
    void on(const MessageBegin& m) {
        events.emplace_back("begin");
        traces.push_back(m.trace);
        body.clear();
    }
    void on(const MessageData& d) { body += d.bytes; }
    void on(const MessageEnd& m) {
        events.emplace_back("end");
        messages.push_back(body);
        envelopes.push_back(m.envelope);
        std::optional<Reply> failure;
        if (!commits.empty()) {
            failure = commits.front();
            commits.pop_front();
        }
        if (failure) session_.message_failed(*failure);
        else session_.message_committed("QID" + std::to_string(messages.size()));
    }
    void on(const MessageAbort&) { events.emplace_back("abort"); }
    void on(const Close&) {
        events.emplace_back("close");
        closed = true;
    }

    TestPolicy policy_;
    RecordingObserver observer_;
    ServerSession session_;
    std::string greeting_;
};

// The EHLO reply for mx.example.org with SIZE from the default settings.
inline std::string ehlo_reply(std::initializer_list<std::string_view> extra = {}) {
    std::string out = "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
                      "250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n";
    out += extra.size() == 0 ? "250 DSN\r\n" : "250-DSN\r\n";
    std::size_t i = 0;
    for (const auto line : extra) out += (++i == extra.size() ? "250 " : "250-") + std::string(line) + "\r\n";
    return out;
}

}  // namespace cartero::smtp::testing

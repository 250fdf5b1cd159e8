// ScriptedPeer: drives a ClientSession like the connection driver would, against
// a server that answers with scripted turns: each turn is fed when the client
// reads, optionally cut into pieces (to split replies at every byte). Records all
// the client sent, with "[TLS]" where the handshake ran, and every transaction's
// results, so a test compares one transcript and one result list.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "smtp/client_session.hpp"

namespace cartero::smtp::testing {

inline std::string describe(const RecipientResult& r) {
    std::string out = std::to_string(r.reply.code) + " " + r.reply.enhanced;
    out += r.from_peer ? " (" + r.in_reply_to + ")" : " (local)";
    return out;
}

// Cuts a server turn into the pieces fed one per read.
using Splitter = std::function<std::vector<std::string>(const std::string&)>;

inline std::vector<std::string> whole(const std::string& turn) { return {turn}; }

inline Splitter split_at(std::size_t at) {
    return [at](const std::string& turn) -> std::vector<std::string> {
        if (at == 0 || at >= turn.size()) return {turn};
        return {turn.substr(0, at), turn.substr(at)};
    };
}

inline std::vector<std::string> bytewise(const std::string& turn) {
    std::vector<std::string> out;
    for (const char c : turn) out.emplace_back(1, c);
    return out;
}

struct PeerRun {
    std::string sent;                                  // everything the client wrote
    std::vector<std::vector<std::string>> results;     // per transaction, per recipient
    std::string failure;                               // "kind: reason" or empty
    std::vector<std::string> phases;                   // the phase at each read
    bool closed = false;
};

struct PeerScript {
    std::vector<std::string> turns;          // server bytes, one turn per client read
    std::vector<ClientMessage> messages;     // begun one after another at ClientReady
    bool tls_succeeds = true;
    Splitter split = whole;
};

inline PeerRun run_peer(ClientSession& session, PeerScript script) {
    PeerRun run;
    std::deque<std::string> turns(script.turns.begin(), script.turns.end());
    std::deque<std::string> pieces;
    std::size_t next_message = 0;
    bool began = false;
    for (int step = 0; step < 100000 && !run.closed; ++step) {
        const ClientAction action = session.next();
        if (const auto* send = std::get_if<ClientSend>(&action)) {
            run.sent += send->bytes;
        } else if (std::holds_alternative<ClientReceive>(action)) {
            run.phases.emplace_back(to_string(session.phase()));
            if (pieces.empty() && !turns.empty()) {
                for (auto& p : script.split(turns.front())) pieces.push_back(std::move(p));
                turns.pop_front();
            }
            if (pieces.empty()) {
                session.peer_closed();
            } else {
                session.feed(pieces.front());
                pieces.pop_front();
            }
        } else if (std::holds_alternative<ClientStartTls>(action)) {
            run.sent += "[TLS]";
            if (script.tls_succeeds) session.tls_started();
            else session.tls_failed("certificate verify failed");
        } else if (std::holds_alternative<ClientReady>(action)) {
            if (began) {
                std::vector<std::string> r;
                for (const auto& result : session.results()) r.push_back(describe(result));
                run.results.push_back(std::move(r));
            }
            if (next_message < script.messages.size()) {
                session.begin(script.messages[next_message++]);
                began = true;
            } else {
                session.quit();
                began = false;
            }
        } else {
            run.closed = true;
            if (began && !session.results().empty()) {
                std::vector<std::string> r;
                for (const auto& result : session.results()) r.push_back(describe(result));
                run.results.push_back(std::move(r));
            }
        }
    }
    if (const auto& f = session.failure()) run.failure = std::string(to_string(f->kind)) + ": " + f->reason;
    return run;
}

inline ClientMessage message(std::string data, std::vector<std::string> recipients,
                             std::string sender = "alice@example.org") {
    ClientMessage m;
    m.sender = std::move(sender);
    for (auto& r : recipients) m.recipients.push_back(ClientRecipient{std::move(r), {}, {}});
    m.data = std::make_shared<const std::string>(std::move(data));
    return m;
}

inline ClientSettings settings(ClientTls tls = ClientTls::none, bool lmtp = false) {
    ClientSettings s;
    s.helo_name = "client.example.org";
    s.tls = tls;
    s.lmtp = lmtp;
    return s;
}

}  // namespace cartero::smtp::testing

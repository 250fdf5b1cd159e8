// See formats.hpp.
#include "discovery/formats.hpp"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "base/translation.hpp"

namespace cartero::discovery {
namespace {

// "oauth2" is a word of the table and autoconfig; the probe lists SASL names.
bool oauth2_only(const Outgoing& o) {
    return !o.auth.empty() && std::all_of(o.auth.begin(), o.auth.end(), [](auto& a) { return a == "oauth2"; });
}

bool no_auth(const Outgoing& o) { return !o.auth.empty() && o.auth.front() == "none"; }

std::string user_of(const Settings& s, const Address& a) {
    return s.username.empty() ? a.local + "@" + a.domain : s.username;
}

// POSIX shell single quotes: nothing inside is special but the quote itself.
std::string shell_quote(std::string_view text) {
    const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("@%+=:,./-_").find(c) != std::string_view::npos;
    });
    if (plain) return std::string(text);
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// msmtp reads one argument per line; a newline cannot be in one (split_address
// refuses control characters, and host names are checked).
std::string msmtp(const Settings& s, const Address& a) {
    const Outgoing& o = s.outgoing.front();
    const std::string address = a.local + "@" + a.domain;
    std::ostringstream out;
    out << "# " << fmt::format(fmt::runtime(base::tr("cartero discover {}: {}")), address, s.where) << "\n";
    out << "account " << address << "\n";
    out << "host " << o.host << "\n";
    out << "port " << o.port << "\n";
    out << "tls " << (o.security == Security::none ? "off" : "on") << "\n";
    if (o.security != Security::none) {
        out << "tls_starttls " << (o.security == Security::starttls ? "on" : "off") << "\n";
        out << "tls_trust_file system\n";
    }
    if (no_auth(o)) {
        out << "auth off\n";
    } else if (oauth2_only(o)) {
        out << "auth xoauth2\n";
        out << "# " << base::tr("OAuth2: passwordeval must print an access token") << "\n";
        out << "passwordeval \"COMMAND\"\n";
    } else {
        out << "auth on\n";
        out << "# " << base::tr("password: msmtp asks for it, or add a line: passwordeval \"COMMAND\"") << "\n";
    }
    if (!no_auth(o)) out << "user " << user_of(s, a) << "\n";
    out << "from " << address << "\n";
    out << "account default : " << address << "\n";
    return out.str();
}

std::string socket_type(Security security) {
    switch (security) {
        case Security::ssl: return "SSL";
        case Security::starttls: return "STARTTLS";
        case Security::none: return "plain";
    }
    return "plain";
}

void add_text(pugi::xml_node parent, const char* name, const std::string& text) {
    parent.append_child(name).append_child(pugi::node_pcdata).set_value(text.c_str());
}

std::string thunderbird(const Settings& s, const Address& a) {
    pugi::xml_document doc;
    auto declaration = doc.append_child(pugi::node_declaration);
    declaration.append_attribute("version") = "1.0";
    declaration.append_attribute("encoding") = "UTF-8";
    auto root = doc.append_child("clientConfig");
    root.append_attribute("version") = "1.1";
    auto provider = root.append_child("emailProvider");
    provider.append_attribute("id") = a.domain.c_str();
    add_text(provider, "domain", a.domain);
    add_text(provider, "displayName", s.provider.empty() ? a.domain : s.provider);
    // A username in placeholder form serves every address of the domain.
    const std::string username = s.username_form.empty() ? "%EMAILADDRESS%" : s.username_form;
    for (const auto& in : s.incoming) {
        auto server = provider.append_child("incomingServer");
        server.append_attribute("type") = in.type.c_str();
        add_text(server, "hostname", in.host);
        add_text(server, "port", std::to_string(in.port));
        add_text(server, "socketType", socket_type(in.security));
        add_text(server, "authentication", "password-cleartext");
        add_text(server, "username", username);
    }
    for (const auto& o : s.outgoing) {
        auto server = provider.append_child("outgoingServer");
        server.append_attribute("type") = "smtp";
        add_text(server, "hostname", o.host);
        add_text(server, "port", std::to_string(o.port));
        add_text(server, "socketType", socket_type(o.security));
        if (o.auth_from_server || o.auth.empty()) {
            add_text(server, "authentication", "password-cleartext");
        } else {
            for (const auto& auth : o.auth)
                add_text(server, "authentication", auth == "oauth2" ? "OAuth2" : auth == "password" ? "password-cleartext" : auth);
        }
        add_text(server, "username", username);
    }
    std::ostringstream out;
    doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
    return out.str();
}

std::string swaks(const Settings& s, const Address& a) {
    const Outgoing& o = s.outgoing.front();
    const std::string address = a.local + "@" + a.domain;
    std::ostringstream out;
    if (oauth2_only(o)) out << "# " << base::tr("swaks cannot sign in with OAuth2; use cartero check instead") << "\n";
    out << "swaks --server " << shell_quote(o.host + ":" + std::to_string(o.port));
    if (o.security == Security::ssl) out << " --tls-on-connect";
    if (o.security == Security::starttls) out << " --tls";
    if (!no_auth(o) && !oauth2_only(o)) out << " --auth --auth-user " << shell_quote(user_of(s, a));
    out << " --from " << shell_quote(address) << " --to " << shell_quote(address) << "\n";
    return out.str();
}

std::string env(const Settings& s, const Address& a) {
    const Outgoing& o = s.outgoing.front();
    const char* security = o.security == Security::ssl ? "ssl" : o.security == Security::starttls ? "starttls" : "none";
    std::string auth;
    for (const auto& m : o.auth) auth += (auth.empty() ? "" : ",") + m;
    std::ostringstream out;
    out << "SMTP_HOST=" << shell_quote(o.host) << "\n";
    out << "SMTP_PORT=" << o.port << "\n";
    out << "SMTP_SECURITY=" << security << "\n";
    out << "SMTP_USERNAME=" << shell_quote(user_of(s, a)) << "\n";
    out << "SMTP_AUTH=" << shell_quote(auth) << "\n";
    return out.str();
}

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
    if (name == "msmtp") return Format::msmtp;
    if (name == "thunderbird") return Format::thunderbird;
    if (name == "swaks") return Format::swaks;
    if (name == "env") return Format::env;
    return std::nullopt;
}

std::string render(Format format, const Settings& settings, const Address& address) {
    switch (format) {
        case Format::msmtp: return msmtp(settings, address);
        case Format::thunderbird: return thunderbird(settings, address);
        case Format::swaks: return swaks(settings, address);
        case Format::env: return env(settings, address);
    }
    return {};
}

}  // namespace cartero::discovery

// See autoconfig.hpp.
#include "discovery/autoconfig.hpp"

#include <future>

#include <pugixml.hpp>

#include "delivery/remote/https_fetch.hpp"
#include "dns/name.hpp"

namespace cartero::discovery {
namespace {

std::string trimmed(const pugi::xml_node& node) {
    std::string_view text = node.child_value();
    while (!text.empty() && std::string_view(" \t\r\n").find(text.front()) != std::string_view::npos) text.remove_prefix(1);
    while (!text.empty() && std::string_view(" \t\r\n").find(text.back()) != std::string_view::npos) text.remove_suffix(1);
    return std::string(text);
}

std::optional<Security> socket_type(std::string_view value) {
    if (value == "SSL") return Security::ssl;
    if (value == "STARTTLS") return Security::starttls;
    if (value == "plain") return Security::none;
    return std::nullopt;
}

std::optional<std::uint16_t> port_of(const std::string& text) {
    if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    const unsigned long value = std::stoul(text);
    if (value < 1 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

// Host, port and security of one server element; nullopt when unusable.
struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
    Security security = Security::ssl;
};
std::optional<Endpoint> endpoint_of(const pugi::xml_node& server, const Address& address) {
    Endpoint e;
    e.host = expand_placeholders(trimmed(server.child("hostname")), address);
    if (e.host.empty() || dns::name_problem(e.host)) return std::nullopt;
    e.host = dns::normalize_name(e.host);
    const auto port = port_of(trimmed(server.child("port")));
    if (!port) return std::nullopt;
    e.port = *port;
    // Several <socketType> may be given; the first one we know wins.
    std::optional<Security> security;
    for (auto type : server.children("socketType"))
        if (!security) security = socket_type(trimmed(type));
    if (!security) return std::nullopt;
    e.security = *security;
    return e;
}

std::string auth_word(const std::string& value) {
    // Thunderbird's values; "plain" and "secure" are deprecated aliases.
    if (value == "password-cleartext" || value == "plain" || value == "password-encrypted" || value == "secure")
        return "password";
    if (value == "OAuth2") return "oauth2";
    if (value == "none" || value == "client-IP-address" || value == "smtp-after-pop") return "none";
    return value;
}

std::string percent_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        }
    }
    return out;
}

}  // namespace

std::variant<Settings, std::string> parse_autoconfig(std::string_view xml, const Address& address) {
    if (xml.size() > max_autoconfig_size) return std::string("the file is larger than 128 KiB");
    pugi::xml_document document;
    const pugi::xml_parse_result parsed = document.load_buffer(xml.data(), xml.size(), pugi::parse_default);
    if (!parsed) return "not well-formed XML: " + std::string(parsed.description()) + " at offset " + std::to_string(parsed.offset);
    const pugi::xml_node root = document.child("clientConfig");
    if (!root) return std::string("no <clientConfig> element");
    const pugi::xml_node provider = root.child("emailProvider");
    if (!provider) return std::string("no <emailProvider> element");

    Settings settings;
    settings.source = Source::autoconfig;
    settings.provider = expand_placeholders(trimmed(provider.child("displayName")), address);
    for (auto server : provider.children("outgoingServer")) {
        if (std::string_view(server.attribute("type").value()) != "smtp") continue;
        const auto endpoint = endpoint_of(server, address);
        if (!endpoint) continue;
        Outgoing out{endpoint->host, endpoint->port, endpoint->security, {}, false};
        for (auto auth : server.children("authentication")) {
            const std::string word = auth_word(trimmed(auth));
            if (!word.empty() && std::find(out.auth.begin(), out.auth.end(), word) == out.auth.end()) out.auth.push_back(word);
        }
        if (settings.username_form.empty()) {
            settings.username_form = trimmed(server.child("username"));
            settings.username = expand_placeholders(settings.username_form, address);
        }
        settings.outgoing.push_back(std::move(out));
    }
    if (settings.outgoing.empty()) return std::string("no usable <outgoingServer type=\"smtp\"> (host name, port and socketType)");
    for (auto server : provider.children("incomingServer")) {
        const std::string type = server.attribute("type").value();
        if (type != "imap" && type != "pop3") continue;
        if (const auto endpoint = endpoint_of(server, address))
            settings.incoming.push_back(ServerSetting{type, endpoint->host, endpoint->port, endpoint->security});
    }
    return settings;
}

std::string AutoconfigUrl::url(std::uint16_t port) const {
    return "https://" + host + (port == 443 ? "" : ":" + std::to_string(port)) + target;
}

std::vector<AutoconfigUrl> autoconfig_urls(const Address& address) {
    const std::string query = "?emailaddress=" + percent_encode(address.local + "@" + address.domain);
    return {
        {"autoconfig." + address.domain, "/mail/config-v1.1.xml" + query},
        {address.domain, "/.well-known/autoconfig/mail/config-v1.1.xml" + query},
    };
}

AutoconfigResult fetch_autoconfig(dns::Resolver& resolver, const Address& address, const AutoconfigOptions& options) {
    const auto urls = autoconfig_urls(address);
    std::vector<std::future<delivery::HttpsResult>> fetches;
    for (const auto& u : urls) {
        delivery::HttpsRequest request;
        request.host = u.host;
        request.target = u.target;
        request.port = options.port;
        request.ca_file = options.ca_file;
        request.timeout = options.timeout;
        request.deadline = options.deadline;
        request.body_limit = max_autoconfig_size;
        request.media_types = {"text/xml", "application/xml"};
        fetches.push_back(std::async(std::launch::async, [&resolver, request] { return delivery::https_get(resolver, request); }));
    }
    AutoconfigResult result;
    for (std::size_t i = 0; i < urls.size(); ++i) {
        const auto got = fetches[i].get();  // each bounded by the fetch's own deadline
        if (result.settings) continue;
        const std::string url = urls[i].url(options.port);
        if (!got.body) {
            result.tried.push_back(url + ": " + got.error);
            continue;
        }
        auto parsed = parse_autoconfig(*got.body, address);
        if (auto* why = std::get_if<std::string>(&parsed)) {
            result.tried.push_back(url + ": " + *why);
            continue;
        }
        result.settings = std::move(std::get<Settings>(parsed));
        result.settings->where = url;
    }
    return result;
}

}  // namespace cartero::discovery

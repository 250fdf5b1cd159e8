// diagnose(): one row per failure `cartero check` tells apart (issue 9,
// section 2), with the providers' exact reply texts from client-config.md 4:
// the cause, the exit code, and the words of the paragraph a person acts on.
#include <gtest/gtest.h>

#include "diagnose/diagnosis.hpp"

namespace cartero::diagnose {
namespace {

using Kind = smtp::ClientFailureKind;

smtp::Reply reply(int code, std::string enhanced, std::string text) { return smtp::Reply{code, enhanced, text}; }

Facts base(Layer layer, std::string host = "smtp.example.com", std::uint16_t port = 587) {
    Facts f;
    f.layer = layer;
    f.host = std::move(host);
    f.port = port;
    f.credentials = true;
    return f;
}

Facts refused(Layer layer, smtp::Reply r, std::string host = "smtp.example.com") {
    Facts f = base(layer, std::move(host));
    f.reply = std::move(r);
    if (layer == Layer::auth) f.failure = Kind::auth_refused;
    return f;
}

struct Case {
    std::string name;
    Facts facts;
    Cause want_cause;
    int want_exit;
    std::vector<std::string> want_words;  // each must be in the paragraph
};

std::vector<Case> cases() {
    std::vector<Case> out;
    {
        Facts f = base(Layer::dns, "smtp.gmial.com");
        f.host_not_found = true;
        f.similar_hosts = {"smtp.gmail.com"};  // what discovery::nearest_smtp_hosts finds
        out.push_back({"unknown host, a slip", f, Cause::host_not_found, 68, {"smtp.gmial.com", "Did you mean smtp.gmail.com?"}});
        Facts g = base(Layer::dns, "mail.nowhere.example");
        g.host_not_found = true;
        out.push_back({"unknown host, nothing alike", g, Cause::host_not_found, 68, {"mail.nowhere.example"}});
        Facts h = base(Layer::dns);
        h.error = "SERVFAIL";
        out.push_back({"DNS failure", h, Cause::dns_failed, 68, {"could not be looked up (SERVFAIL)"}});
    }
    {
        Facts f = base(Layer::connect, "smtp.example.com", 25);
        f.connect = ConnectError::timed_out;
        f.other_ports = {{465, PortSpeaks::tls, true}, {587, PortSpeaks::starttls, false}, {25, PortSpeaks::nothing, false}};
        out.push_back({"port 25 blocked", f, Cause::port_blocked, 69,
                       {"Port 25 of smtp.example.com does not answer", "Use port 465 instead: --port 465 --tls ssl"}});
        Facts g = f;
        g.other_ports = {{465, PortSpeaks::nothing, false}, {587, PortSpeaks::starttls, true}};
        out.push_back({"port blocked, 587 answers", g, Cause::port_blocked, 69, {"--port 587 --tls starttls"}});
        Facts h = f;
        h.other_ports.clear();
        out.push_back({"nothing answers", h, Cause::connect_failed, 69, {"nor on ports 465, 587 or 25"}});
        Facts r = base(Layer::connect, "smtp.example.com", 2525);
        r.connect = ConnectError::refused;
        out.push_back({"refused", r, Cause::connection_refused, 69, {"refused the connection on port 2525"}});
    }
    {
        Facts f = base(Layer::tls);
        f.tls = TlsSetting::ssl;
        f.error = "wrong version number (SSL routines)";
        out.push_back({"TLS to a STARTTLS port", f, Cause::tls_to_plaintext_port, 76, {"Use --tls starttls on this port"}});
        Facts g = base(Layer::greeting, "smtp.example.com", 465);
        g.tls = TlsSetting::starttls;
        g.failure = Kind::timed_out;
        g.port_speaks_tls = true;
        out.push_back({"plaintext to an implicit-TLS port", g, Cause::plaintext_to_tls_port, 76, {"Use --tls ssl on this port"}});
    }
    {
        Facts f = base(Layer::tls);
        f.certificate_problems = {CertificateProblem::expired};
        f.certificate_expiry = "2025-01-01 00:00:00 UTC";
        out.push_back({"expired", f, Cause::certificate_expired, 76, {"has expired (valid until 2025-01-01 00:00:00 UTC)"}});
        Facts g = base(Layer::tls, "127.0.0.1");
        g.certificate_problems = {CertificateProblem::wrong_name};
        g.certificate_names = {"mail.example.org", "smtp.example.org"};
        out.push_back({"wrong name", g, Cause::certificate_wrong_name, 76,
                       {"not valid for 127.0.0.1; it is valid for: mail.example.org, smtp.example.org"}});
        Facts h = base(Layer::tls);
        h.certificate_problems = {CertificateProblem::untrusted};
        out.push_back({"unknown CA", h, Cause::certificate_untrusted, 76, {"--ca-file FILE"}});
    }
    {
        Facts f = base(Layer::hello);
        f.failure = Kind::tls_not_offered;
        out.push_back({"no STARTTLS", f, Cause::starttls_not_offered, 78, {"did not send your password"}});
        Facts g = base(Layer::hello, "smtp.example.com", 25);
        g.failure = Kind::auth_unsupported;
        out.push_back({"no AUTH on 25", g, Cause::auth_not_offered, 78, {"Port 25 is for servers"}});
        Facts h = base(Layer::hello);
        h.failure = Kind::auth_unsupported;
        h.auth_mechanisms = {"XOAUTH2", "OAUTHBEARER"};
        out.push_back({"OAuth2 only (mechanisms)", h, Cause::oauth2_only, 77, {"only OAuth2"}});
        Facts p = base(Layer::auth);
        p.failure = Kind::auth_needs_tls;
        p.tls = TlsSetting::none;
        out.push_back({"password in clear", p, Cause::password_in_clear, 78, {"unencrypted"}});
    }
    out.push_back({"Gmail bad credentials",
                   refused(Layer::auth,
                           reply(535, "5.7.8",
                                 "Username and Password not accepted. For more information, go to\n"
                                 "https://support.google.com/mail/?p=BadCredentials a1-20020a170906 - gsmtp"),
                           "smtp.gmail.com"),
                   Cause::gmail_bad_credentials, 77, {"apppasswords"}});
    out.push_back({"Gmail app password",
                   refused(Layer::auth,
                           reply(534, "5.7.9",
                                 "Application-specific password required. For more information, go to\n"
                                 "https://support.google.com/mail/?p=InvalidSecondFactor x - gsmtp"),
                           "smtp.gmail.com"),
                   Cause::gmail_app_password, 77, {"2-Step Verification"}});
    out.push_back({"Microsoft SMTP AUTH disabled",
                   refused(Layer::auth,
                           reply(535, "5.7.139",
                                 "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
                                 "Visit https://aka.ms/smtp_auth_disabled for more information. [AM0PR01CA0001]"),
                           "smtp.office365.com"),
                   Cause::microsoft_auth_disabled, 77, {"Set-CASMailbox"}});
    out.push_back({"Microsoft basic auth disabled",
                   refused(Layer::auth,
                           reply(535, "5.7.139", "Authentication unsuccessful, basic authentication is disabled. [X]"),
                           "smtp-mail.outlook.com"),
                   Cause::oauth2_only, 77, {"only OAuth2"}});
    out.push_back({"Microsoft 5.7.3",
                   refused(Layer::auth, reply(535, "5.7.3", "Authentication unsuccessful [AM0PR01CA0001]"),
                           "smtp.office365.com"),
                   Cause::microsoft_auth_failed, 77, {"Microsoft 365 refused the sign-in"}});
    out.push_back({"Microsoft 5.7.30",
                   refused(Layer::auth, reply(550, "5.7.30", "Basic authentication is not supported for Client Submission."),
                           "smtp.office365.com"),
                   Cause::oauth2_only, 77, {"only OAuth2"}});
    out.push_back({"Yahoo #AUTH005",
                   refused(Layer::auth, reply(535, "5.7.0", "(#AUTH005) Too many bad auth attempts."),
                           "smtp.mail.yahoo.com"),
                   Cause::yahoo_app_password, 77, {"app password"}});
    out.push_back({"iCloud", refused(Layer::auth, reply(535, "5.7.8", "Error: authentication failed"), "smtp.mail.me.com"),
                   Cause::icloud_app_password, 77, {"app-specific password"}});
    out.push_back({"cartero app password required",
                   refused(Layer::auth, reply(534, "5.7.9", "Application-specific password required")),
                   Cause::app_password_required, 77, {"cartero user app-password add"}});
    out.push_back({"generic bad password",
                   refused(Layer::auth, reply(535, "5.7.8", "Error: authentication failed")),
                   Cause::auth_failed, 77, {"535 5.7.8 Error: authentication failed"}});
    out.push_back({"temporary auth failure",
                   refused(Layer::auth, reply(454, "4.7.0", "Temporary authentication failure")),
                   Cause::temporary, 75, {"Try again later"}});
    out.push_back({"Gmail daily limit",
                   refused(Layer::mail,
                           reply(550, "5.4.5",
                                 "Daily user sending limit exceeded. For more information on Gmail\nsending limits go "
                                 "to\nhttps://support.google.com/a/answer/166852 x - gsmtp")),
                   Cause::sending_limit, 67, {"sending limit"}});
    out.push_back({"limit with reset time",
                   refused(Layer::mail,
                           reply(450, "4.7.1", "Sending limit reached: 100 messages per hour; try again after "
                                               "2026-12-05 10:00 UTC [ref K7Q2M9]")),
                   Cause::sending_limit, 75, {"(the server says: 2026-12-05 10:00 UTC)"}});
    out.push_back({"Microsoft recipient limit",
                   refused(Layer::rcpt, reply(550, "5.1.90",
                                              "Your message can't be sent because you've reached your daily limit for "
                                              "message recipients")),
                   Cause::sending_limit, 67, {"sending limit"}});
    {
        Facts f = refused(Layer::rcpt, reply(554, "5.7.1", "<bob@other.example>: Relay access denied"));
        f.credentials = false;
        out.push_back({"relay denied, not logged in", f, Cause::relay_denied, 67, {"--user"}});
        Facts g = f;
        g.authenticated = true;
        out.push_back({"relay denied, logged in", g, Cause::relay_denied, 67, {"although you logged in"}});
        Facts m = refused(Layer::mail, reply(530, "5.7.0", "Authentication required"));
        out.push_back({"login required at MAIL", m, Cause::login_required, 67, {"--user"}});
    }
    {
        Facts f = refused(Layer::mail,
                          reply(553, "5.7.1", "<boss@example.com>: Sender address rejected: not owned by user alice@example.com"));
        f.sender = "boss@example.com";
        out.push_back({"sender not allowed", f, Cause::sender_not_allowed, 67, {"send as boss@example.com"}});
        Facts g = refused(Layer::data, reply(550, "5.7.60", "SMTP; Client does not have permissions to send as this sender"));
        g.sender = "boss@example.com";
        out.push_back({"Microsoft send-as", g, Cause::sender_not_allowed, 65, {"send as boss@example.com"}});
    }
    {
        Facts f = refused(Layer::mail, reply(552, "5.3.4", "Message size exceeds fixed limit"));
        f.reply_from_server = false;
        f.size_limit = 10240;
        f.message_size = 20480;
        out.push_back({"too large, SIZE", f, Cause::message_too_large, 65, {"(20480 octets)", "at most 10240 octets"}});
    }
    {
        Facts f = base(Layer::data);
        f.failure = Kind::connection_lost;
        f.error = "the connection was lost (while sending the message)";
        out.push_back({"dropped", f, Cause::connection_dropped, 74, {"was cut in the middle"}});
    }
    out.push_back({"unknown refusal", refused(Layer::rcpt, reply(550, "5.1.1", "No such user")), Cause::rejected, 67,
                   {"550 5.1.1 No such user"}});
    return out;
}

TEST(Diagnose, EachFailureHasItsCause) {
    for (const auto& c : cases()) {
        const Diagnosis got = diagnose(c.facts);
        EXPECT_EQ(to_string(got.cause), to_string(c.want_cause)) << c.name << ": " << got.paragraph;
        EXPECT_EQ(got.exit_code, c.want_exit) << c.name;
        for (const auto& w : c.want_words)
            EXPECT_NE(got.paragraph.find(w), std::string::npos) << c.name << ": got \"" << got.paragraph << "\", want \"" << w << "\"";
        EXPECT_EQ(got.paragraph.find('{'), std::string::npos) << c.name << ": unfilled placeholder: " << got.paragraph;
    }
}

TEST(Diagnose, ServerReference) {
    const Diagnosis got = diagnose(refused(Layer::auth, reply(535, "5.7.8", "Error: authentication failed [ref K7Q2M9]")));
    EXPECT_EQ(got.reference, "K7Q2M9");
    EXPECT_EQ(diagnose(refused(Layer::auth, reply(535, "5.7.8", "Error: authentication failed"))).reference, "");
}

// The suggestion comes from the facts (check fills them from the provider table).
TEST(Diagnose, SuggestsASimilarHost) {
    Facts f;
    f.layer = Layer::dns;
    f.host = "smtp.gmial.com";
    f.host_not_found = true;
    f.similar_hosts = {"smtp.gmail.com"};
    EXPECT_NE(diagnose(f).paragraph.find("Did you mean smtp.gmail.com?"), std::string::npos) << diagnose(f).paragraph;
    f.similar_hosts.clear();
    EXPECT_EQ(diagnose(f).paragraph.find("Did you mean"), std::string::npos);
}

TEST(Diagnose, ResetTime) {
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"limit reached; try again after 2026-12-05 10:00 UTC", "2026-12-05 10:00 UTC"},
        {"quota resets in 23 minutes", "in 23 minutes"},
        {"Daily user sending limit exceeded", ""}};
    for (const auto& [text, want] : rows) EXPECT_EQ(reset_time(text).value_or(""), want) << text;
}

}  // namespace
}  // namespace cartero::diagnose

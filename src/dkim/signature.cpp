// DKIM-Signature building and folding. See signature.hpp.
#include "dkim/signature.hpp"

#include <openssl/evp.h>

#include "dkim/canonicalization.hpp"

namespace cartero::dkim {
namespace {

constexpr std::string_view kFieldName = "DKIM-Signature";
constexpr std::string_view kFold = "\r\n\t";
constexpr std::size_t kFoldIndent = 1;  // the TAB that starts a folded line: one character (RFC 5322 2.1.1)

// Writes words onto lines of at most kFoldWidth columns.
class Folder {
public:
    explicit Folder(std::string_view start) : out_(start), column_(start.size()) {}

    // A word after a space, or at the start of a new line when it would not fit.
    void word(std::string_view text) {
        if (column_ + 1 + text.size() > kFoldWidth) {
            new_line();
        } else if (column_ > kFoldIndent) {
            out_ += ' ';
            ++column_;
        }
        append(text);
    }

    // Text that continues the previous word, on a new line when it would not
    // fit; callers pass only pieces before which FWS is allowed.
    void glued(std::string_view text) {
        if (column_ + text.size() > kFoldWidth) new_line();
        append(text);
    }

    void new_line() {
        out_ += kFold;
        column_ = kFoldIndent;
    }

    std::string finish() { return std::move(out_) + "\r\n"; }

private:
    void append(std::string_view text) {
        out_ += text;
        column_ += text.size();
    }
    std::string out_;
    std::size_t column_;
};

// h=from:from:to: each name after the first may start a new line (FWS around ":").
void fold_names(Folder& folder, const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        const bool last = i + 1 == names.size();
        const std::string piece = names[i] + (last ? ";" : ":");
        if (i == 0) {
            folder.word("h=" + piece);
        } else {
            folder.glued(piece);
        }
    }
}

// tag=BASE64 with FWS allowed anywhere inside the base64 (RFC 6376 2.4). A
// value that fits on a line of its own (bh=) is kept whole, for people reading it.
void fold_base64(Folder& folder, std::string_view tag, std::string_view value, std::string_view end) {
    const std::string whole = std::string(tag) + "=" + std::string(value) + std::string(end);
    if (whole.size() + kFoldIndent < kFoldWidth) {
        folder.word(whole);
        return;
    }
    constexpr std::size_t kFirstChunk = 4;  // keep "b=" with some of its value
    folder.word(std::string(tag) + "=" + std::string(value.substr(0, kFirstChunk)));
    for (std::size_t at = kFirstChunk; at < value.size(); ++at) folder.glued(value.substr(at, 1));
    folder.glued(end);
}

std::string fixed_tags(const SignatureTags& tags) {
    return "v=1; a=" + std::string(tags.algorithm) + "; c=relaxed/relaxed; d=" + std::string(tags.domain) +
           "; s=" + std::string(tags.selector) + "; t=" + std::to_string(tags.timestamp) + ";";
}

}  // namespace

std::string signature_header(const SignatureTags& tags, std::string_view signature_base64) {
    Folder folder(std::string(kFieldName) + ":");
    std::string fixed = fixed_tags(tags);
    for (std::size_t at = 0; at < fixed.size();) {  // one word per "tag=value;"
        const std::size_t end = fixed.find(' ', at);
        folder.word(std::string_view(fixed).substr(at, end == std::string::npos ? std::string::npos : end - at));
        at = end == std::string::npos ? fixed.size() : end + 1;
    }
    fold_names(folder, tags.signed_names);
    fold_base64(folder, "bh", tags.body_hash, ";");
    folder.new_line();  // b= starts a line: see signature.hpp
    if (signature_base64.empty()) {
        folder.glued("b=");
    } else {
        fold_base64(folder, "b", signature_base64, "");
    }
    return folder.finish();
}

std::string signed_header_data(const std::vector<HeaderField>& selected, const SignatureTags& tags) {
    std::string data;
    for (const HeaderField& field : selected) data += relaxed_header(field.name, field.value);
    const std::string own = signature_header(tags, "");
    const std::size_t colon = own.find(':');
    std::string canonical = relaxed_header(kFieldName, std::string_view(own).substr(colon + 1));
    canonical.resize(canonical.size() - 2);  // RFC 6376 3.7: without its trailing CRLF
    return data + canonical;
}

std::string base64(std::string_view octets) {
    std::string out(4 * ((octets.size() + 2) / 3) + 1, '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(octets.data()),
                                        static_cast<int>(octets.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

}  // namespace cartero::dkim

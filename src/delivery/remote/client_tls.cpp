#include "delivery/remote/client_tls.hpp"

#include <openssl/ssl.h>

namespace cartero::delivery {

std::optional<std::string> prepare_client_tls(boost::asio::ssl::context& context,
                                              const std::optional<std::filesystem::path>& ca_file) {
    SSL_CTX* native = context.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_set_default_verify_paths(native) != 1) return "cannot load the system's trusted certificates";
    if (ca_file && SSL_CTX_load_verify_locations(native, ca_file->c_str(), nullptr) != 1)
        return "cannot load CA file " + ca_file->string();
    return std::nullopt;
}

}  // namespace cartero::delivery

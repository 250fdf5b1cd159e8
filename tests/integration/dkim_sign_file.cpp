// Test-only: signs one message file with dkim::Signer, so tests/integration/
// test_dkim.py can check the result with an independent verifier. Not installed;
// the product CLI has no signing command (the server signs at delivery).
//
// usage: dkim_sign_file KEY_DIR DOMAIN UNIX_TIME MESSAGE_FILE
// stdout: the DKIM-Signature field(s) followed by the message.
// exit: 0 signed; 1 not signed (reason on stderr); 2 usage; 3 unusable key files.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "dkim/signer.hpp"

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: dkim_sign_file KEY_DIR DOMAIN UNIX_TIME MESSAGE_FILE\n";
        return 2;
    }
    const auto loaded = cartero::dkim::Signer::load(argv[1]);
    for (const auto& problem : loaded.problems) std::cerr << problem.message << "\n";
    if (!loaded.problems.empty()) return 3;
    std::ifstream in(argv[4], std::ios::binary);
    std::stringstream message;
    message << in.rdbuf();
    const auto result = loaded.signer.sign(message.str(), argv[2], std::stoll(argv[3]));
    if (!result.is_signed()) {
        std::cerr << "not signed: " << to_string(*result.why_not) << ": " << result.detail << "\n";
        return 1;
    }
    std::cout << result.headers << message.str();
    return 0;
}

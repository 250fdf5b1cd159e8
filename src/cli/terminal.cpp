// Reading secrets from a person: see terminal.hpp.
#include "cli/terminal.hpp"

#include <termios.h>
#include <unistd.h>

#include <memory>

namespace cartero::cli {

std::string read_line(std::FILE* in) {
    std::string line;
    for (int c; (c = std::fgetc(in)) != EOF && c != '\n';) line += static_cast<char>(c);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// Prompts on the controlling terminal (never on stdout, which scripts may
// capture).
std::string prompt_without_echo(std::FILE* tty, const char* prompt) {
    std::fputs(prompt, tty);
    std::fflush(tty);
    termios saved{};
    const int fd = ::fileno(tty);
    const bool is_terminal = ::tcgetattr(fd, &saved) == 0;
    if (is_terminal) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    auto line = read_line(tty);
    if (is_terminal) ::tcsetattr(fd, TCSAFLUSH, &saved);
    std::fputs("\n", tty);
    return line;
}

std::optional<std::string> ask_on_terminal(const char* prompt) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> tty(std::fopen("/dev/tty", "r+"), std::fclose);
    if (!tty) return std::nullopt;
    return prompt_without_echo(tty.get(), prompt);
}

}  // namespace cartero::cli

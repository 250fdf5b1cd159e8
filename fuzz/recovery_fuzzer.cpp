// Fuzz target: the whole start-up recovery of the fs spool (FsSpool::recover in
// spool/fs_recovery.cpp) over a spool directory holding fuzzed segment files:
// a hostile or damaged spool must never crash recovery or lose what it salvaged.
//
// Input: spool_log_builder.hpp (records with correct checksums, damage, torn
// tails, odd sequence numbers). The files go into a fresh directory (on tmpfs
// when /dev/shm exists, so the syncs are cheap).
// Invariants: recover() neither crashes nor throws; every message it returns has
// a recipient not done and a unique ID; recovering a second time (after the first
// recovery cut torn tails, salvaged damaged segments into a new one, moved them to
// corrupt/ and deleted finished ones) returns exactly the same messages.
#include <fuzzer/FuzzedDataProvider.h>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "fuzz_check.hpp"
#include "spool/segment.hpp"
#include "spool/spool.hpp"
#include "spool_log_builder.hpp"

namespace fs = std::filesystem;
using namespace cartero::spool;

namespace {

fs::path spool_directory() {
    const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    return base / ("cartero-recovery-fuzz-" + std::to_string(::getpid()));
}

std::vector<QueuedMessage> recover_once(const fs::path& directory) {
    FsSpoolOptions options;
    options.directory = directory;
    options.segment_size = 1 << 16;  // preallocated on every new segment: keep it small
    options.done_linger = std::chrono::milliseconds(1);
    const auto spool = open_fs_spool(options);
    auto live = spool->recover();
    spool->close();
    return live;
}

bool same(const std::vector<QueuedMessage>& a, const std::vector<QueuedMessage>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].id != b[i].id || a[i].done != b[i].done || *a[i].data != *b[i].data ||
            a[i].envelope.recipients != b[i].envelope.recipients || a[i].envelope.sender != b[i].envelope.sender)
            return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fs::path directory = [] {
        spdlog::set_level(spdlog::level::off);
        return spool_directory();
    }();
    FuzzedDataProvider in(data, size);
    const cartero::fuzz::SpoolLog log = cartero::fuzz::SpoolLogBuilder(in).build(32);

    fs::remove_all(directory);
    fs::create_directories(directory);
    for (const auto& segment : log.segments) {
        std::ofstream(segment_path(directory, segment.sequence), std::ios::binary) << segment.bytes;
    }

    const auto first = recover_once(directory);
    std::set<std::string> ids;
    for (const auto& message : first) {
        FUZZ_CHECK(ids.insert(message.id).second);
        FUZZ_CHECK(message.done.size() == message.envelope.recipients.size());
        FUZZ_CHECK(std::find(message.done.begin(), message.done.end(), false) != message.done.end());
    }
    const auto second = recover_once(directory);
    FUZZ_CHECK(same(first, second));
    fs::remove_all(directory);
    return 0;
}

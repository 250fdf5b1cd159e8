// The delivery.maildir template: "{data_dir}/mail/{domain}/{localpart}".
// check_maildir_template validates it at load (operator input); maildir_for
// (config.hpp) expands it per recipient (network input).
#pragma once

#include <string_view>

namespace cartero::config {

// Throws InvalidValue unless the template uses only {data_dir}, {domain} and
// {localpart}, contains {localpart} (or every user would share one mailbox), and
// is absolute (starts with "/" or "{data_dir}", which is absolute after load).
void check_maildir_template(std::string_view text);

}  // namespace cartero::config

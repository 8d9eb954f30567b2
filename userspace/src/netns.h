// SPDX-License-Identifier: GPL-2.0-only
// A network namespace of the run's own, for settings that must not touch
// the machine's (net.ipv4.tcp_migrate_req).
#pragma once

#include <optional>
#include <string>

namespace lab {

// Moves this process into a new network namespace with loopback up and
// net.ipv4.tcp_migrate_req set to `migrate_req`; workers forked later
// share it.  A one-line reason if it cannot.
std::optional<std::string> enter_private_netns(int migrate_req);

// net.ipv4.tcp_migrate_req of the current namespace, or -1 if the kernel
// has none (before 5.14).
int tcp_migrate_req();

} // namespace lab

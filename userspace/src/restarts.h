// SPDX-License-Identifier: GPL-2.0-only
// Worker restarts under load: the zero-downtime question.
#pragma once

#include <cstdint>

#include "client.h"
#include "server.h"

namespace lab {

// Runs the client in a thread of its own while this thread, which must be
// the one that made `server` (the workers' PDEATHSIG follows it), replaces
// one worker after another, every `every_ms`, until the client is done.
// `restarts` gets how many were replaced.  Throws std::runtime_error when
// a restart fails (after the client is done).
ClientResult load_with_restarts(Server &server, const ClientConfig &cc, unsigned every_ms,
				uint64_t &restarts);

} // namespace lab

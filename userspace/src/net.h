// SPDX-License-Identifier: GPL-2.0-only
// Loopback TCP helpers.  Everything here binds and connects to 127.0.0.1.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fd.h"

namespace lab {

// A listening socket on 127.0.0.1:port (0: any free port, written to
// *bound).  Invalid Fd and errno set on failure.
Fd listen_tcp(uint16_t port, uint16_t *bound, bool reuseport, int backlog,
	      bool nonblock = false);

// A blocking connection to 127.0.0.1:port, from loopback address `source`
// (host order; 0: the kernel's choice); invalid Fd and errno on failure.
Fd connect_tcp(uint16_t port, uint32_t source = 0);

// Writes all n bytes (retrying short writes); false on error or EOF.
bool write_all(int fd, const char *p, size_t n);

} // namespace lab

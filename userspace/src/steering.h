// SPDX-License-Identifier: GPL-2.0-only
// Programs that steer connections among the sockets of a SO_REUSEPORT
// group: the userspace alternatives to one shared accept queue.
#pragma once

#include <optional>
#include <string>

#include "fd.h"

namespace lab {

// Steer a SO_REUSEPORT group by the CPU that handles the SYN, modulo
// `sockets`; 0 or -1 with errno.
int attach_reuseport_cbpf(int fd, unsigned sockets);

// Round-robin over the sockets of a SO_REUSEPORT group: an eBPF program of
// type BPF_PROG_TYPE_SK_REUSEPORT counts SYNs in an array map and picks
// slot (count mod slots) of a REUSEPORT_SOCKARRAY.  An empty slot (a
// listener closed and not yet replaced) falls back to the kernel's hash.
class ReuseportRoundRobin {
public:
	// Maps and program for `slots` sockets; nothing is attached yet.
	// Returns nothing and sets `why` to a one-line reason if the kernel
	// cannot (no bpf(), no REUSEPORT_SOCKARRAY, no CAP_BPF, verifier).
	static std::optional<ReuseportRoundRobin> create(unsigned slots, std::string &why);

	// Put listening socket `fd` (bound, SO_REUSEPORT) in slot `i`,
	// replacing what was there; 0 or -1 with errno.
	int set(unsigned i, int fd);

	// Attach the program to the group of listening socket `fd`; 0 or -1
	// with errno.  Sockets that join the group later use it too.
	int attach(int fd) const;

private:
	ReuseportRoundRobin() = default;
	Fd counter_, sockets_, prog_;
};

} // namespace lab

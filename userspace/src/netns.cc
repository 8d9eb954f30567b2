// SPDX-License-Identifier: GPL-2.0-only
#include "netns.h"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "errno_text.h"
#include "fd.h"

namespace lab {

namespace {

constexpr const char *kMigrateReq = "/proc/sys/net/ipv4/tcp_migrate_req";

} // namespace

int tcp_migrate_req()
{
	std::ifstream in(kMigrateReq);
	int v = -1;
	if (!(in >> v))
		return -1;
	return v;
}

std::optional<std::string> enter_private_netns(int migrate_req)
{
	if (unshare(CLONE_NEWNET))
		return errno == EPERM  ? "a network namespace of its own needs CAP_SYS_ADMIN "
					 "(unshare(CLONE_NEWNET): EPERM); run as root" :
		       errno == EINVAL ? "kernel lacks network namespaces (CONFIG_NET_NS; "
					 "unshare(CLONE_NEWNET): EINVAL)" :
					 errno_text("unshare(CLONE_NEWNET)");
	// A new namespace's loopback is down.
	Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	ifreq ifr{};
	std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (!s || ioctl(s.get(), SIOCGIFFLAGS, &ifr))
		return errno_text("SIOCGIFFLAGS of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s.get(), SIOCSIFFLAGS, &ifr))
		return errno_text("bringing lo up");
	if (tcp_migrate_req() < 0)
		return "kernel lacks net.ipv4.tcp_migrate_req (added in 5.14)";
	std::ofstream out(kMigrateReq);
	out << migrate_req << "\n";
	out.close();
	if (!out || tcp_migrate_req() != migrate_req)
		return "cannot set net.ipv4.tcp_migrate_req to " + std::to_string(migrate_req);
	return std::nullopt;
}

} // namespace lab

// SPDX-License-Identifier: GPL-2.0-only
// shim_check [--plain] [--fork N]: what an epoll_ctl(EPOLL_CTL_ADD) of an
// eventfd with EPOLLIN | EPOLLEXCLUSIVE (--plain: EPOLLIN) became, as the
// kernel stored it (/proc/self/fdinfo of the epoll fd), for
// shim_test.sh to run with and without LD_PRELOAD=libepoll_rr_shim.so.
// --fork N does it in N child processes, as a server's workers would.
// Prints "roundrobin_flag=0xBIT" (EPOLLROUNDROBIN, proposed_uapi.h),
// "kernel_roundrobin=yes|no" (acceptlab's probe, which the shim leaves as
// it is: the pair already carries the flag) and one "events=0xMASK" line
// per process.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "fd.h"
#include "in_children.h"
#include "models.h"
#include "proposed_uapi.h"

namespace {

// The add through epoll_ctl(), then the mask the kernel kept; 1 on failure.
int add_and_show(bool plain)
{
	lab::Fd ep(epoll_create1(EPOLL_CLOEXEC)), ev(eventfd(0, EFD_CLOEXEC));
	epoll_event e{};
	e.events = plain ? EPOLLIN : EPOLLIN | EPOLLEXCLUSIVE;
	if (!ep || !ev || epoll_ctl(ep.get(), EPOLL_CTL_ADD, ev.get(), &e)) {
		std::printf("error=%s\n", std::strerror(errno));
		return 1;
	}
	std::ifstream info("/proc/self/fdinfo/" + std::to_string(ep.get()));
	for (std::string word; info >> word;) {
		if (word == "events:" && info >> word) {
			std::printf("events=0x%s\n", word.c_str());
			return 0;
		}
	}
	std::printf("error=no events: line in fdinfo\n");
	return 1;
}

} // namespace

int main(int argc, char **argv)
{
	const char *usage = "usage: shim_check [--plain] [--fork N]";
	bool plain = false;
	int children = 0;
	for (int i = 1; i < argc; i++) {
		if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
			std::printf("%s\n"
				    "Adds an eventfd to an epoll instance with EPOLLIN | EPOLLEXCLUSIVE\n"
				    "(--plain: EPOLLIN), in N child processes with --fork, and prints\n"
				    "the events the kernel kept; run it with and without\n"
				    "LD_PRELOAD=libepoll_rr_shim.so.\n",
				    usage);
			return 0;
		} else if (!std::strcmp(argv[i], "--plain")) {
			plain = true;
		} else if (!std::strcmp(argv[i], "--fork") && i + 1 < argc) {
			children = std::atoi(argv[++i]);
		} else {
			std::fprintf(stderr, "shim_check: bad argument '%s' (%s)\n", argv[i], usage);
			return 2;
		}
	}
	std::printf("roundrobin_flag=0x%x\n", unsigned(EPOLLROUNDROBIN));
	bool has = !lab::unsupported_reason(lab::Model::epoll_roundrobin);
	std::printf("kernel_roundrobin=%s\n", has ? "yes" : "no");
	std::fflush(stdout);
	if (children <= 0)
		return add_and_show(plain);
	return lab_test::in_children(children, [plain] { return add_and_show(plain); });
}

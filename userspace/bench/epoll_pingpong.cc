// SPDX-License-Identifier: GPL-2.0-only
// epoll_pingpong: the cost of one epoll wakeup, as "perf bench sched pipe"
// gives the cost of one pipe wakeup.  Two threads, each in epoll_wait() on
// its own instance that watches its own eventfd, pass a token back and
// forth LOOPS times: every round trip is two wakeups through
// ep_poll_callback() and the instance's wait queue, and nothing else.
//
// Unlike "perf bench epoll wait", whose writer paces itself with
// nanosleep() and whose figure counts how many writes each wakeup finds,
// each step here waits for the one before: under QEMU's instruction counter
// the result is the same in every boot, so a patched/baseline ratio
// resolves a fraction of a percent (make bench, qemu/guest/bench-guest.sh).
//
// Output, one line:
//   epoll_pingpong: LOOPS round trips in SECONDS s: USECS usecs/op
// Exit status 2 for bad arguments, 1 if a system call fails or a wakeup
// does not come within 10 s (a lost wakeup).
#include <getopt.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "fd.h"

namespace {

constexpr int wake_timeout_ms = 10000;
constexpr long max_loops = 100'000'000;

[[noreturn]] void usage_error(const std::string &msg)
{
	std::fprintf(stderr, "epoll_pingpong: %s (try --help)\n", msg.c_str());
	std::exit(2);
}

[[noreturn]] void fail(const char *what)
{
	std::fprintf(stderr, "epoll_pingpong: %s: %s\n", what, std::strerror(errno));
	std::exit(1);
}

// One side: an eventfd others write to, and an epoll instance watching it.
struct Side {
	lab::Fd event;
	lab::Fd epoll;

	explicit Side(bool exclusive)
		: event(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
		  epoll(epoll_create1(EPOLL_CLOEXEC))
	{
		if (!event || !epoll)
			fail("eventfd/epoll_create1");
		epoll_event ev{};
		ev.events = exclusive ? EPOLLIN | EPOLLEXCLUSIVE : EPOLLIN;
		if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, event.get(), &ev))
			fail("epoll_ctl");
	}

	// Wait for the token and take it.
	void receive() const
	{
		epoll_event ev;
		int n;
		while ((n = epoll_wait(epoll.get(), &ev, 1, wake_timeout_ms)) < 0 && errno == EINTR)
			;
		if (n < 0)
			fail("epoll_wait");
		if (n == 0) {
			std::fprintf(stderr, "epoll_pingpong: no wakeup within %d s (lost wakeup?)\n",
				     wake_timeout_ms / 1000);
			std::exit(1);
		}
		uint64_t v;
		if (read(event.get(), &v, sizeof(v)) != sizeof(v))
			fail("read");
	}

	void send() const
	{
		const uint64_t one = 1;
		if (write(event.get(), &one, sizeof(one)) != sizeof(one))
			fail("write");
	}
};

long parse_loops(std::string_view s)
{
	long v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > max_loops)
		usage_error("--loops wants a number from 1 to " + std::to_string(max_loops) +
			    ", not '" + std::string(s) + "'");
	return v;
}

double now()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char help[] =
	"usage: epoll_pingpong [-l LOOPS] [-x]\n"
	"Two threads pass a token LOOPS times through eventfds, each waiting in\n"
	"epoll_wait() on its own epoll instance: two epoll wakeups per round trip.\n"
	"  -l, --loops N     round trips (default 20000)\n"
	"  -x, --exclusive   watch the eventfds with EPOLLIN | EPOLLEXCLUSIVE\n"
	"  -h, --help        this text\n"
	"Prints: epoll_pingpong: LOOPS round trips in SECONDS s: USECS usecs/op\n";

} // namespace

int main(int argc, char **argv)
{
	long loops = 20000;
	bool exclusive = false;
	static const option longopts[] = {
		{"loops", required_argument, nullptr, 'l'},
		{"exclusive", no_argument, nullptr, 'x'},
		{"help", no_argument, nullptr, 'h'},
		{nullptr, 0, nullptr, 0},
	};
	opterr = 0;
	for (int c; (c = getopt_long(argc, argv, ":l:xh", longopts, nullptr)) != -1;) {
		switch (c) {
		case 'l':
			loops = parse_loops(optarg);
			break;
		case 'x':
			exclusive = true;
			break;
		case 'h':
			std::fputs(help, stdout);
			return 0;
		case ':':
			usage_error(std::string("missing value for ") + argv[optind - 1]);
		default:
			usage_error(optopt ? std::string("unknown option -") + char(optopt)
					   : std::string("unknown option ") + argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error(std::string("unexpected argument '") + argv[optind] + "'");

	const Side ping(exclusive), pong(exclusive);
	const double start = now();
	std::jthread echo([&] {
		for (long i = 0; i < loops; i++) {
			pong.receive();
			ping.send();
		}
	});
	for (long i = 0; i < loops; i++) {
		pong.send();
		ping.receive();
	}
	echo.join();
	const double secs = now() - start;
	std::printf("epoll_pingpong: %ld round trips in %.6f s: %.3f usecs/op\n", loops, secs,
		    secs * 1e6 / loops);
	return 0;
}

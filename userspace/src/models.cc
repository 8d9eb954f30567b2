// SPDX-License-Identifier: GPL-2.0-only
#include "models.h"

#include <liburing.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "errno_text.h"
#include "fd.h"
#include "net.h"
#include "proposed_uapi.h"
#include "steering.h"

namespace lab {

namespace {

constexpr std::array<ModelInfo, 13> kModels{{
	{Model::blocking, "blocking", "blocking accept() on one shared socket (FIFO)"},
	{Model::poll, "poll",
	 "poll() per worker over a shared socket and every connection it holds"},
	{Model::epoll, "epoll", "one epoll per worker on a shared socket, plain"},
	{Model::epoll_exclusive, "epoll_exclusive",
	 "one epoll per worker on a shared socket, EPOLLEXCLUSIVE"},
	{Model::epoll_roundrobin, "epoll_roundrobin",
	 "one epoll per worker on a shared socket, EPOLLEXCLUSIVE|EPOLLROUNDROBIN"},
	{Model::epoll_shared, "epoll_shared",
	 "one epoll shared by all workers, EPOLLEXCLUSIVE|EPOLLET"},
	{Model::epoll_shared_fifo, "epoll_shared_fifo",
	 "one epoll shared by all workers, EPOLL_WAKE_FIFO, EPOLLEXCLUSIVE|EPOLLET"},
	{Model::reuseport, "reuseport", "SO_REUSEPORT, one socket per worker (kernel hash)"},
	{Model::reuseport_cbpf, "reuseport_cbpf",
	 "SO_REUSEPORT steered by classic BPF: socket = CPU of the SYN mod workers"},
	{Model::reuseport_ebpf_rr, "reuseport_ebpf_rr",
	 "SO_REUSEPORT steered round-robin by an eBPF SK_REUSEPORT program"},
	{Model::uring, "uring", "io_uring per worker, single-shot accept re-armed"},
	{Model::uring_multishot, "uring_multishot", "io_uring per worker, multishot accept"},
	{Model::uring_multishot_roundrobin, "uring_multishot_roundrobin",
	 "io_uring per worker, multishot accept, IORING_ACCEPT_ROUNDROBIN"},
}};

std::optional<std::string> probe_roundrobin()
{
	Fd ep(epoll_create1(EPOLL_CLOEXEC)), ev(eventfd(0, EFD_CLOEXEC));
	if (!ep || !ev)
		return errno_text("epoll/eventfd", errno);
	epoll_event e{};
	e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN;
	if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, ev.get(), &e) == 0)
		return std::nullopt;
	if (errno == EINVAL)
		return "kernel lacks EPOLLROUNDROBIN (EPOLL_CTL_ADD of "
		       "EPOLLEXCLUSIVE|EPOLLROUNDROBIN: EINVAL)";
	return errno_text("EPOLL_CTL_ADD", errno);
}

std::optional<std::string> probe_wake_fifo()
{
	Fd ep(epoll_create1(EPOLL_CLOEXEC | EPOLL_WAKE_FIFO));
	if (ep)
		return std::nullopt;
	if (errno == EINVAL)
		return "kernel lacks EPOLL_WAKE_FIFO (epoll_create1: EINVAL)";
	return errno_text("epoll_create1", errno);
}

std::optional<std::string> probe_cbpf()
{
	Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	int one = 1;
	if (!s || setsockopt(s.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		return errno_text("SO_REUSEPORT", errno);
	if (attach_reuseport_cbpf(s.get(), 1))
		return errno_text("SO_ATTACH_REUSEPORT_CBPF", errno);
	return std::nullopt;
}

// The whole setup on one listener: maps, program (through the verifier),
// the socket in its slot, the attach.
std::optional<std::string> probe_ebpf_rr()
{
	std::string why;
	auto rr = ReuseportRoundRobin::create(1, why);
	if (!rr)
		return why;
	Fd l = listen_tcp(0, nullptr, true, 1);
	if (!l)
		return errno_text("listen", errno);
	if (rr->set(0, l.get()))
		return errno_text("BPF_MAP_UPDATE_ELEM of the REUSEPORT_SOCKARRAY", errno);
	if (rr->attach(l.get()))
		return errno_text("SO_ATTACH_REUSEPORT_EBPF", errno);
	return std::nullopt;
}

// Multishot accept cannot be told from single-shot by opcode probing:
// post one on a listener, connect, and look at the first completion.
// IORING_ACCEPT_ROUNDROBIN is EINVAL on kernels without it.
std::optional<std::string> probe_uring(bool multishot, bool roundrobin = false)
{
	io_uring ring;
	int ret = io_uring_queue_init(4, &ring, 0);
	if (ret < 0)
		return errno_text("io_uring_queue_init", -ret);
	std::optional<std::string> reason;
	uint16_t port = 0;
	Fd l = listen_tcp(0, &port, false, 8);
	Fd c;
	io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	io_uring_cqe *cqe = nullptr;
	__kernel_timespec ts{.tv_sec = 2, .tv_nsec = 0};
	if (!l) {
		reason = errno_text("listen", errno);
		goto out;
	}
	if (multishot)
		io_uring_prep_multishot_accept(sqe, l.get(), nullptr, nullptr, 0);
	else
		io_uring_prep_accept(sqe, l.get(), nullptr, nullptr, 0);
	if (roundrobin)
		sqe->ioprio |= IORING_ACCEPT_ROUNDROBIN;
	io_uring_submit(&ring);
	c = connect_tcp(port);
	ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	if (ret < 0) {
		reason = errno_text("io_uring accept did not complete", -ret);
	} else {
		if (roundrobin && cqe->res == -EINVAL)
			reason = "kernel lacks IORING_ACCEPT_ROUNDROBIN (multishot accept: EINVAL)";
		else if (cqe->res < 0)
			reason = errno_text(multishot ? "multishot accept" : "io_uring accept",
					    -cqe->res);
		else
			close(cqe->res);
		io_uring_cqe_seen(&ring, cqe);
	}
out:
	io_uring_queue_exit(&ring);
	return reason;
}

} // namespace

std::span<const ModelInfo> all_models() { return kModels; }

std::optional<Model> model_from_name(std::string_view name)
{
	for (const auto &m : kModels)
		if (m.name == name)
			return m.model;
	return std::nullopt;
}

std::string_view model_name(Model m)
{
	for (const auto &i : kModels)
		if (i.model == m)
			return i.name;
	return "?";
}

bool is_uring(Model m)
{
	return m == Model::uring || m == Model::uring_multishot ||
	       m == Model::uring_multishot_roundrobin;
}

bool can_hold(Model m)
{
	return m == Model::poll || m == Model::epoll || m == Model::epoll_exclusive ||
	       m == Model::epoll_roundrobin;
}

bool holds(Model m, bool asked, unsigned request_bytes)
{
	return m == Model::poll ? request_bytes > 0 : asked;
}

std::optional<std::string> unsupported_reason(Model m)
{
	switch (m) {
	case Model::epoll_roundrobin:
		return probe_roundrobin();
	case Model::epoll_shared_fifo:
		return probe_wake_fifo();
	case Model::reuseport_cbpf:
		return probe_cbpf();
	case Model::reuseport_ebpf_rr:
		return probe_ebpf_rr();
	case Model::uring:
		return probe_uring(false);
	case Model::uring_multishot:
		return probe_uring(true);
	case Model::uring_multishot_roundrobin:
		return probe_uring(true, true);
	default:
		return std::nullopt;
	}
}

} // namespace lab

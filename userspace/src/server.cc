// SPDX-License-Identifier: GPL-2.0-only
// The server's lifecycle: setting up the listeners and epoll instances,
// starting, restarting and stopping the workers, and reading their
// counts.  What a worker does once it runs is in accept_*.cc (its accept
// loop) and protocol.cc (what it speaks on a connection).
#include "server.h"

#include <dirent.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "errno_text.h"
#include "net.h"
#include "proposed_uapi.h"
#include "server_internal.h"
#include "steering.h"

namespace lab {

constexpr int kBacklog = 4096;
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kRetireResignal = std::chrono::milliseconds(10);

void SharedStateUnmap::operator()(SharedState *s) const
{
	munmap(s, sizeof(*s));
}

namespace {

[[noreturn]] void fail(const std::string &what, int err = errno)
{
	throw std::runtime_error(err ? errno_text(what, err) : what);
}

bool is_epoll_per_worker(Model m)
{
	return m == Model::epoll || m == Model::epoll_exclusive || m == Model::epoll_roundrobin;
}

bool is_reuseport(Model m)
{
	return m == Model::reuseport || m == Model::reuseport_cbpf ||
	       m == Model::reuseport_ebpf_rr;
}

} // namespace

Server::Server(const ServerConfig &cfg) : cfg_(cfg)
{
	if (cfg.workers == 0 || cfg.workers > kMaxWorkers)
		fail("workers must be 1.." + std::to_string(kMaxWorkers), 0);
	if (auto why = unsupported_reason(cfg.model))
		fail("model " + std::string(model_name(cfg.model)) + " unsupported: " + *why, 0);
	cfg_.hold = holds(cfg.model, cfg.hold, cfg.request_bytes);
	if (cfg_.hold && !can_hold(cfg.model))
		fail("holding connections needs the poll model or one epoll per worker", 0);
	if (cfg_.hold && (cfg.request_bytes == 0 || cfg.http))
		fail("holding connections needs raw requests (request_bytes, no http)", 0);
	if (cfg.model == Model::poll && cfg.http)
		fail("model poll answers raw requests, not http", 0);

	void *mem = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap");
	shared_.reset(static_cast<SharedState *>(mem));

	// Listeners: one shared, or one per worker in a SO_REUSEPORT group;
	// the first picks the port when none is given.
	port_ = cfg.port;
	for (unsigned i = 0, n = is_reuseport(cfg.model) ? cfg.workers : 1; i < n; i++)
		listeners_.push_back(new_listener());
	if (cfg.model == Model::reuseport_cbpf &&
	    attach_reuseport_cbpf(listeners_[0].get(), cfg.workers))
		fail("SO_ATTACH_REUSEPORT_CBPF");
	if (cfg.model == Model::reuseport_ebpf_rr) {
		std::string why;
		steering_ = ReuseportRoundRobin::create(cfg.workers, why);
		if (!steering_)
			fail("reuseport_ebpf_rr: " + why, 0);
		for (unsigned i = 0; i < cfg.workers; i++)
			if (steering_->set(i, listeners_[i].get()))
				fail("BPF_MAP_UPDATE_ELEM of listener " + std::to_string(i));
		if (steering_->attach(listeners_[0].get()))
			fail("SO_ATTACH_REUSEPORT_EBPF");
	}

	stop_fd_ = Fd(eventfd(0, EFD_CLOEXEC));
	if (!stop_fd_)
		fail("eventfd");

	// Epoll instances, registered in worker order before any worker runs,
	// so registration order is worker order.
	unsigned nep = is_epoll_per_worker(cfg.model) ? cfg.workers :
		       is_epoll_shared(cfg.model) ? 1 : 0;
	for (unsigned i = 0; i < nep; i++)
		epolls_.push_back(new_epoll());

	for (unsigned i = 0; i < cfg.workers; i++) {
		if (cfg.threads) {
			threads_.emplace_back([this, i] { worker_main(i); });
			continue;
		}
		pid_t pid = spawn(i, 0);
		if (pid < 0) {
			stop();
			fail("fork");
		}
		pids_.push_back(pid);
	}
	if (!wait_ready(cfg.workers)) {
		stop();
		fail("workers did not start", 0);
	}
}

Fd Server::new_listener(const char *step)
{
	bool nonblock = is_epoll_per_worker(cfg_.model) || is_epoll_shared(cfg_.model) ||
			cfg_.model == Model::poll;
	Fd l = listen_tcp(port_, &port_, is_reuseport(cfg_.model), kBacklog, nonblock);
	if (!l)
		fail(step + std::string("listen on 127.0.0.1:") + std::to_string(port_));
	return l;
}

Fd Server::new_epoll() const
{
	Fd ep(epoll_create1(EPOLL_CLOEXEC |
			    (cfg_.model == Model::epoll_shared_fifo ? EPOLL_WAKE_FIFO : 0)));
	epoll_event le{}, se{};
	le.events = listen_events(cfg_.model);
	le.data.fd = listeners_[0].get();
	se.events = EPOLLIN;
	se.data.fd = stop_fd_.get();
	if (!ep || epoll_ctl(ep.get(), EPOLL_CTL_ADD, listeners_[0].get(), &le) ||
	    epoll_ctl(ep.get(), EPOLL_CTL_ADD, stop_fd_.get(), &se))
		fail("epoll setup");
	return ep;
}

bool Server::wait_ready(unsigned count) const
{
	auto deadline = std::chrono::steady_clock::now() + kStopGrace;
	while (std::atomic_ref(shared_->ready).load() < count) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		usleep(1000);
	}
	return true;
}

namespace {

void on_retire_signal(int) {}

// Closes every descriptor of this process but stdio and `keep`: a worker
// forked by restart() while the client runs would otherwise hold the
// client's connections open, and any worker the other workers' listeners
// (a reuseport listener must close when its worker exits).
void close_all_but(std::initializer_list<int> keep)
{
	std::vector<int> fds;
	if (DIR *d = opendir("/proc/self/fd")) {
		while (dirent *e = readdir(d)) {
			int fd = atoi(e->d_name);
			if (fd > 2 && fd != dirfd(d) &&
			    std::find(keep.begin(), keep.end(), fd) == keep.end())
				fds.push_back(fd);
		}
		closedir(d);
	}
	for (int fd : fds)
		close(fd);
}

} // namespace

pid_t Server::spawn(unsigned idx, unsigned generation)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	// The thread that forks is the parent PDEATHSIG watches: only the
	// main thread forks (constructor, restart()).
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	generation_ = generation;
	int ep = epolls_.empty() ? -1 : epolls_[is_epoll_shared(cfg_.model) ? 0 : idx].get();
	close_all_but({listeners_[is_reuseport(cfg_.model) ? idx : 0].get(), ep, stop_fd_.get()});
	struct sigaction sa{};
	sa.sa_handler = on_retire_signal; // no SA_RESTART: waits return EINTR
	sigaction(SIGUSR1, &sa, nullptr);
	worker_main(idx);
	_exit(0);
}

void Server::restart(unsigned idx)
{
	if (cfg_.threads || idx >= cfg_.workers)
		fail("restart needs worker processes", 0);
	// A retiring ring would first have to cancel its accept and reap it.
	if (is_uring(cfg_.model))
		fail("restart: not for the io_uring models", 0);
	// The replacement first, as a zero-downtime restart does: a listener
	// of its own in a reuseport group (which takes the old one's slot of
	// reuseport_ebpf_rr), and an epoll instance of its own.
	// The assignments close this process's copies of the old ones: only
	// the old worker holds them now (each worker closed what was not its
	// own), and they go when it exits.
	if (is_reuseport(cfg_.model)) {
		Fd l = new_listener("restart: ");
		if (steering_ && steering_->set(idx, l.get()))
			fail("restart: BPF_MAP_UPDATE_ELEM");
		listeners_[idx] = std::move(l);
	}
	if (is_epoll_per_worker(cfg_.model))
		epolls_[idx] = new_epoll();

	unsigned ready = std::atomic_ref(shared_->ready).load();
	pid_t pid = spawn(idx, std::atomic_ref(shared_->generation[idx]).load() + 1);
	if (pid < 0)
		fail("restart: fork");
	pid_t old = std::exchange(pids_[idx], pid);
	if (!wait_ready(ready + 1))
		fail("restart: the new worker " + std::to_string(idx) + " did not start", 0);

	// Then the old one stops accepting, finishes what it serves and
	// exits.  The signal only makes its wait return; sent again until it
	// is gone, since it may arrive just before the wait.
	std::atomic_ref(shared_->generation[idx]).fetch_add(1);
	auto deadline = std::chrono::steady_clock::now() + kStopGrace;
	int status;
	while (waitpid(old, &status, WNOHANG) == 0) {
		if (std::chrono::steady_clock::now() > deadline) {
			kill(old, SIGKILL);
			waitpid(old, &status, 0);
			fail("restart: the old worker " + std::to_string(idx) +
				     " did not exit within 5 s",
			     0);
		}
		kill(old, SIGUSR1);
		std::this_thread::sleep_for(kRetireResignal);
	}
	restarts_++;
}

Server::~Server()
{
	stop();
}

bool Server::done(unsigned idx) const
{
	return std::atomic_ref(shared_->stopping).load() ||
	       std::atomic_ref(shared_->generation[idx]).load() > generation_;
}

void Server::worker_main(unsigned idx)
{
	shared_->tid[idx] = syscall(SYS_gettid);
	std::atomic_ref(shared_->ready).fetch_add(1);
	int listen_fd = listeners_[is_reuseport(cfg_.model) ? idx : 0].get();
	int err;
	if (is_epoll_per_worker(cfg_.model) || is_epoll_shared(cfg_.model))
		err = epoll_loop(idx, listen_fd);
	else if (is_uring(cfg_.model))
		err = uring_loop(idx, listen_fd);
	else if (cfg_.model == Model::poll)
		err = poll_loop(idx, listen_fd);
	else
		err = blocking_loop(idx, listen_fd);
	WorkerStats &st = shared_->stats[idx];
	// A replacement adds to the slot of the worker it replaced.
	std::atomic_ref(st.cpu_ns).fetch_add(thread_cpu_ns());
	if (err && !done(idx))
		st.error = err;
}

std::vector<WorkerStats> Server::stats() const
{
	std::vector<WorkerStats> s(cfg_.workers);
	for (unsigned i = 0; i < cfg_.workers; i++) {
		WorkerStats &w = shared_->stats[i];
		s[i].accepts = std::atomic_ref(w.accepts).load();
		s[i].wakeups = std::atomic_ref(w.wakeups).load();
		s[i].empty_accepts = std::atomic_ref(w.empty_accepts).load();
	}
	return s;
}

uint64_t Server::accepted() const
{
	uint64_t n = 0;
	for (const auto &w : stats())
		n += w.accepts;
	return n;
}

bool Server::wait_accepted(uint64_t n, std::chrono::steady_clock::time_point deadline) const
{
	while (accepted() < n) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	return true;
}

bool Server::wait_idle(std::chrono::milliseconds timeout) const
{
	return wait_in_accept(std::vector<pid_t>(shared_->tid, shared_->tid + cfg_.workers),
			      timeout);
}

std::vector<WorkerStats> Server::stop()
{
	std::vector<WorkerStats> out;
	if (!shared_)
		return out;
	if (!stopped_) {
		stopped_ = true;
		std::atomic_ref(shared_->stopping).store(1);
		uint64_t one = 1;
		if (write(stop_fd_.get(), &one, sizeof(one)) != sizeof(one))
			perror("acceptlab: eventfd write");
		for (auto &l : listeners_)
			shutdown(l.get(), SHUT_RDWR);

		auto deadline = std::chrono::steady_clock::now() + kStopGrace;
		for (pid_t pid : pids_) {
			int status;
			while (waitpid(pid, &status, WNOHANG) == 0) {
				if (std::chrono::steady_clock::now() > deadline) {
					kill(pid, SIGKILL);
					waitpid(pid, &status, 0);
					break;
				}
				usleep(1000);
			}
		}
		// Threads wake to stop_fd_ (epoll), within kPollMs (io_uring) or
		// fail out of accept() on the shut-down listener.
		for (auto &t : threads_)
			t.join();
	}
	out.assign(shared_->stats, shared_->stats + cfg_.workers);
	return out;
}

} // namespace lab

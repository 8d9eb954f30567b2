#include "server.h"

#include <liburing.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "net.h"

namespace lab {

constexpr unsigned kMaxWorkers = 64;
constexpr int kBacklog = 4096;
constexpr int kPollMs = 200;       // io_uring workers re-check `stopping` this often
constexpr auto kStopGrace = std::chrono::seconds(5);

// Plain data in a MAP_SHARED mapping; accessed through std::atomic_ref.
struct SharedState {
	pid_t tid[kMaxWorkers];
	unsigned ready;
	unsigned stopping;
	WorkerStats stats[kMaxWorkers];
};

void SharedStateUnmap::operator()(SharedState *s) const
{
	munmap(s, sizeof(*s));
}

namespace {

[[noreturn]] void fail(const std::string &what, int err = errno)
{
	throw std::runtime_error(what + (err ? std::string(": ") + std::strerror(err) : ""));
}

uint64_t thread_cpu_ns()
{
	timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void burn_cpu_us(unsigned us)
{
	uint64_t end = thread_cpu_ns() + us * 1000ull;
	while (thread_cpu_ns() < end)
		;
}

bool read_full(int fd, unsigned n)
{
	char buf[4096];
	while (n) {
		ssize_t r = read(fd, buf, std::min<size_t>(n, sizeof(buf)));
		if (r <= 0)
			return false;
		n -= r;
	}
	return true;
}

// n zero bytes.
bool write_full(int fd, unsigned n)
{
	static const char buf[4096] = {};
	while (n) {
		unsigned chunk = std::min<size_t>(n, sizeof(buf));
		if (!write_all(fd, buf, chunk))
			return false;
		n -= chunk;
	}
	return true;
}

bool is_epoll_per_worker(Model m)
{
	return m == Model::epoll || m == Model::epoll_exclusive || m == Model::epoll_roundrobin;
}

bool is_epoll_shared(Model m)
{
	return m == Model::epoll_shared || m == Model::epoll_shared_fifo;
}

bool is_reuseport(Model m)
{
	return m == Model::reuseport || m == Model::reuseport_cbpf;
}

bool is_uring(Model m)
{
	return m == Model::uring || m == Model::uring_multishot ||
	       m == Model::uring_multishot_roundrobin;
}

uint32_t listen_events(Model m)
{
	switch (m) {
	case Model::epoll_exclusive:
		return EPOLLIN | EPOLLEXCLUSIVE;
	case Model::epoll_roundrobin:
		return EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN;
	case Model::epoll_shared:
	case Model::epoll_shared_fifo:
		return EPOLLIN | EPOLLET | EPOLLEXCLUSIVE;
	default:
		return EPOLLIN;
	}
}

// Asleep ('S') in one of the syscalls a worker waits for connections in.
bool sleeping_in_accept_wait(pid_t tid)
{
	std::ifstream stat("/proc/" + std::to_string(tid) + "/stat");
	std::string line;
	if (!std::getline(stat, line))
		return false;
	auto paren = line.rfind(')');
	if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'S')
		return false;
	std::ifstream sc("/proc/" + std::to_string(tid) + "/syscall");
	long nr = -1;
	if (!(sc >> nr)) // "running"
		return false;
	return nr == SYS_accept || nr == SYS_accept4 || nr == SYS_epoll_wait ||
	       nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2 || nr == SYS_io_uring_enter;
}

} // namespace

bool wait_in_accept(const std::vector<pid_t> &tids, std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	for (pid_t tid : tids) {
		while (!sleeping_in_accept_wait(tid)) {
			// Gone (a crashed worker): it will never wait again.
			if (std::chrono::steady_clock::now() > deadline ||
			    (kill(tid, 0) && errno == ESRCH))
				return false;
			usleep(200);
		}
	}
	return true;
}

Server::Server(const ServerConfig &cfg) : cfg_(cfg)
{
	if (cfg.workers == 0 || cfg.workers > kMaxWorkers)
		fail("workers must be 1.." + std::to_string(kMaxWorkers), 0);
	if (auto why = unsupported_reason(cfg.model))
		fail("model " + std::string(model_name(cfg.model)) + " unsupported: " + *why, 0);

	void *mem = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap");
	shared_.reset(static_cast<SharedState *>(mem));

	// Listeners: one shared, or one per worker in a SO_REUSEPORT group.
	bool nonblock = is_epoll_per_worker(cfg.model) || is_epoll_shared(cfg.model);
	unsigned n = is_reuseport(cfg.model) ? cfg.workers : 1;
	uint16_t port = cfg.port;
	for (unsigned i = 0; i < n; i++) {
		Fd l = listen_tcp(port, &port, is_reuseport(cfg.model), kBacklog, nonblock);
		if (!l)
			fail("listen on 127.0.0.1:" + std::to_string(port));
		listeners_.push_back(std::move(l));
	}
	port_ = port;
	if (cfg.model == Model::reuseport_cbpf &&
	    attach_reuseport_cbpf(listeners_[0].get(), cfg.workers))
		fail("SO_ATTACH_REUSEPORT_CBPF");

	stop_fd_ = Fd(eventfd(0, EFD_CLOEXEC));
	if (!stop_fd_)
		fail("eventfd");

	// Epoll instances, registered in worker order before any worker runs,
	// so registration order is worker order.
	unsigned nep = is_epoll_per_worker(cfg.model) ? cfg.workers :
		       is_epoll_shared(cfg.model) ? 1 : 0;
	for (unsigned i = 0; i < nep; i++) {
		Fd ep(epoll_create1(EPOLL_CLOEXEC |
				    (cfg.model == Model::epoll_shared_fifo ? EPOLL_WAKE_FIFO : 0)));
		epoll_event le{}, se{};
		le.events = listen_events(cfg.model);
		le.data.fd = listeners_[0].get();
		se.events = EPOLLIN;
		se.data.fd = stop_fd_.get();
		if (!ep || epoll_ctl(ep.get(), EPOLL_CTL_ADD, listeners_[0].get(), &le) ||
		    epoll_ctl(ep.get(), EPOLL_CTL_ADD, stop_fd_.get(), &se))
			fail("epoll setup");
		epolls_.push_back(std::move(ep));
	}

	fflush(stdout);
	fflush(stderr);
	for (unsigned i = 0; i < cfg.workers; i++) {
		if (cfg.threads) {
			threads_.emplace_back([this, i] { worker_main(i); });
			continue;
		}
		pid_t pid = fork();
		if (pid < 0) {
			stop();
			fail("fork");
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			worker_main(i);
			_exit(0);
		}
		pids_.push_back(pid);
	}

	auto deadline = std::chrono::steady_clock::now() + kStopGrace;
	while (std::atomic_ref(shared_->ready).load() < cfg.workers) {
		if (std::chrono::steady_clock::now() > deadline) {
			stop();
			fail("workers did not start", 0);
		}
		usleep(1000);
	}
}

Server::~Server()
{
	stop();
}

// Count a request, spend its CPU time, and stall if this is the clogged
// worker's turn.
void Server::handle_request(unsigned idx)
{
	uint64_t req = std::atomic_ref(shared_->stats[idx].requests).fetch_add(1) + 1;
	burn_cpu_us(cfg_.work_us);
	if (idx == 0 && cfg_.clog_every && req % cfg_.clog_every == 0)
		usleep(cfg_.clog_ms * 1000);
}

// Without a request size, one response per connection; with one, answer
// each request until the client closes (keepalive).
void Server::serve(unsigned idx, int conn)
{
	std::atomic_ref(shared_->stats[idx].accepts).fetch_add(1);
	if (cfg_.http) {
		serve_http(idx, conn);
		return;
	}
	do {
		if (cfg_.request_bytes && !read_full(conn, cfg_.request_bytes))
			break;
		handle_request(idx);
		if (!write_full(conn, cfg_.response_bytes))
			break;
	} while (cfg_.request_bytes);
	close(conn);
}

// Just enough HTTP/1.1 for wrk and our client: read a request head (no
// body), answer 200 with response_bytes of body, close when asked to.
void Server::serve_http(unsigned idx, int conn)
{
	std::string in;
	char buf[4096];
	for (;;) {
		size_t end;
		while ((end = in.find("\r\n\r\n")) == std::string::npos) {
			ssize_t r = read(conn, buf, sizeof(buf));
			if (r <= 0 || in.size() > 65536) {
				close(conn);
				return;
			}
			in.append(buf, r);
		}
		std::string head = in.substr(0, end);
		in.erase(0, end + 4);
		std::transform(head.begin(), head.end(), head.begin(), ::tolower);
		bool close_after = head.find("connection: close") != std::string::npos;
		handle_request(idx);
		// Head and body in one write: two small writes would wait for
		// the peer's delayed ACK (Nagle) on every kept-alive request.
		std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: " +
				   std::to_string(cfg_.response_bytes) + "\r\n" +
				   (close_after ? "Connection: close\r\n" : "") + "\r\n";
		resp.append(cfg_.response_bytes, '\0');
		if (!write_all(conn, resp.data(), resp.size()) || close_after)
			break;
	}
	close(conn);
}

// Each accept loop runs until the server stops and returns 0, or the errno
// that ended it early.

int Server::epoll_loop(unsigned idx, int listen_fd)
{
	int ep = epolls_[is_epoll_shared(cfg_.model) ? 0 : idx].get();
	bool drain = listen_events(cfg_.model) & EPOLLET;
	std::atomic_ref stopping(shared_->stopping);
	while (!stopping.load()) {
		epoll_event ev;
		// No timeout: a wait that times out starts again at the back of
		// a FIFO instance's queue (EPOLL_WAKE_FIFO orders the threads by
		// when they last began to wait), and the front of a LIFO one,
		// and so would reorder what is measured.  stop() wakes every
		// worker through stop_fd_ (level-triggered: each wakeup of a
		// shared instance passes it on) and the listener's shutdown.
		int n = epoll_wait(ep, &ev, 1, -1);
		if (n < 0 && errno != EINTR)
			return errno;
		if (n <= 0)
			continue;
		if (ev.data.fd == stop_fd_.get() || (ev.events & (EPOLLHUP | EPOLLERR)))
			return 0;
		std::atomic_ref(shared_->stats[idx].wakeups).fetch_add(1);
		// One accept per wakeup, as nginx without multi_accept; all
		// pending ones when edge-triggered.
		do {
			int c = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
			if (c < 0) {
				// EAGAIN: another worker took it.  EINVAL while
				// stopping: the listener was shut down under a
				// worker woken for a connection another took, late
				// (a busy host): it found nothing as well.
				bool shut = errno == EINVAL && stopping.load();
				if (errno == EAGAIN || shut)
					std::atomic_ref(shared_->stats[idx].empty_accepts).fetch_add(1);
				if (shut)
					return 0;
				if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
					return errno;
				break;
			}
			serve(idx, c);
		} while (drain);
	}
	return 0;
}

int Server::uring_loop(unsigned idx, int listen_fd)
{
	io_uring ring;
	int ret = io_uring_queue_init(8, &ring, 0);
	if (ret < 0)
		return -ret;
	bool roundrobin = cfg_.model == Model::uring_multishot_roundrobin;
	bool multishot = roundrobin || cfg_.model == Model::uring_multishot;
	bool armed = false;
	int err = 0;
	std::atomic_ref stopping(shared_->stopping);
	while (!stopping.load() && !err) {
		if (!armed) {
			io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			if (multishot)
				io_uring_prep_multishot_accept(sqe, listen_fd, nullptr, nullptr, 0);
			else
				io_uring_prep_accept(sqe, listen_fd, nullptr, nullptr, 0);
			if (roundrobin)
				sqe->ioprio |= IORING_ACCEPT_ROUNDROBIN;
			io_uring_submit(&ring);
			armed = true;
		}
		io_uring_cqe *cqe;
		__kernel_timespec ts{.tv_sec = 0, .tv_nsec = kPollMs * 1000000ll};
		ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (ret == -ETIME || ret == -EINTR)
			continue;
		if (ret < 0) {
			err = -ret;
			break;
		}
		int res = cqe->res;
		armed = multishot && (cqe->flags & IORING_CQE_F_MORE);
		io_uring_cqe_seen(&ring, cqe);
		std::atomic_ref(shared_->stats[idx].wakeups).fetch_add(1);
		if (res >= 0)
			serve(idx, res);
		else if (stopping.load() || res == -EINVAL)
			break; // the listener was shut down
		else if (res != -EINTR && res != -ECONNABORTED)
			err = -res;
	}
	io_uring_queue_exit(&ring);
	return err;
}

// blocking, reuseport, reuseport_cbpf: accept() blocks; shutdown() of the
// listener makes it fail with EINVAL.
int Server::blocking_loop(unsigned idx, int listen_fd)
{
	std::atomic_ref stopping(shared_->stopping);
	while (!stopping.load()) {
		int c = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
		if (c >= 0 || errno == ECONNABORTED)
			std::atomic_ref(shared_->stats[idx].wakeups).fetch_add(1);
		if (c >= 0)
			serve(idx, c);
		else if (errno == EINVAL)
			return 0;
		else if (errno != EINTR && errno != ECONNABORTED)
			return errno;
	}
	return 0;
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
	else
		err = blocking_loop(idx, listen_fd);
	WorkerStats &st = shared_->stats[idx];
	st.cpu_ns = thread_cpu_ns();
	if (err && !std::atomic_ref(shared_->stopping).load())
		st.error = err;
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

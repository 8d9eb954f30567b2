#include "server.h"

#include <dirent.h>
#include <liburing.h>
#include <poll.h>
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
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "errno_text.h"
#include "net.h"
#include "steering.h"

namespace lab {

constexpr unsigned kMaxWorkers = 64;
constexpr int kBacklog = 4096;
constexpr int kPollMs = 200;       // io_uring workers re-check `stopping` this often
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kRetireResignal = std::chrono::milliseconds(10);

// Plain data in a MAP_SHARED mapping; accessed through std::atomic_ref.
struct SharedState {
	pid_t tid[kMaxWorkers];
	unsigned ready;
	unsigned stopping;
	// A worker process serves until generation[idx] passes the one it
	// was started with: restart() starts the new process with the next
	// one, then bumps it to retire the old process.
	unsigned generation[kMaxWorkers];
	WorkerStats stats[kMaxWorkers];
};

void SharedStateUnmap::operator()(SharedState *s) const
{
	munmap(s, sizeof(*s));
}

namespace {

[[noreturn]] void fail(const std::string &what, int err = errno)
{
	throw std::runtime_error(err ? errno_text(what, err) : what);
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

// SIGUSR1 tells a retiring worker to look at its generation; a request
// it is serving then goes on.
ssize_t read_retry(int fd, void *buf, size_t n)
{
	ssize_t r;
	while ((r = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	return r;
}

bool read_full(int fd, unsigned n)
{
	char buf[4096];
	while (n) {
		ssize_t r = read_retry(fd, buf, std::min<size_t>(n, sizeof(buf)));
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
	return m == Model::reuseport || m == Model::reuseport_cbpf ||
	       m == Model::reuseport_ebpf_rr;
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
	       nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2 || nr == SYS_poll ||
	       nr == SYS_ppoll || nr == SYS_io_uring_enter;
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
			ssize_t r = read_retry(conn, buf, sizeof(buf));
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

// One accept() on the nonblocking listener, counted.  Returns the
// connection, or -1 with *err 0 when there was none (another worker took
// it) or the listener was shut down (*shut), or the errno that ends the
// worker.
int Server::accept_one(unsigned idx, int listen_fd, bool *shut, int *err)
{
	*shut = false;
	*err = 0;
	int c = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
	if (c >= 0)
		return c;
	// EAGAIN: another worker took it.  EINVAL while stopping: the
	// listener was shut down under a worker woken for a connection
	// another took, late (a busy host): it found nothing as well.
	*shut = errno == EINVAL && std::atomic_ref(shared_->stopping).load();
	if (errno == EAGAIN || *shut)
		std::atomic_ref(shared_->stats[idx].empty_accepts).fetch_add(1);
	else if (errno != EINTR && errno != ECONNABORTED)
		*err = errno;
	return -1;
}

// A held connection is readable: read what there is of its requests
// (`got`: bytes of the current one so far) and answer each complete one.
// False when it is to be closed (EOF, an error).
bool Server::serve_ready(unsigned idx, int conn, unsigned &got)
{
	char buf[4096];
	for (;;) {
		ssize_t r = recv(conn, buf, std::min<size_t>(sizeof(buf), cfg_.request_bytes - got),
				 MSG_DONTWAIT);
		if (r == 0)
			return false;
		if (r < 0)
			return errno == EAGAIN || errno == EINTR;
		got += r;
		if (got < cfg_.request_bytes)
			continue;
		got = 0;
		handle_request(idx);
		if (!write_full(conn, cfg_.response_bytes))
			return false;
	}
}

// Each accept loop runs until the server stops and returns 0, or the errno
// that ended it early.

int Server::epoll_loop(unsigned idx, int listen_fd)
{
	int ep = epolls_[is_epoll_shared(cfg_.model) ? 0 : idx].get();
	bool drain = listen_events(cfg_.model) & EPOLLET;
	std::unordered_map<int, unsigned> held; // connection: request bytes read
	int err = 0;
	bool stop = false;
	while (!done(idx) && !stop && !err) {
		epoll_event evs[64];
		// No timeout: a wait that times out starts again at the back of
		// a FIFO instance's queue (EPOLL_WAKE_FIFO orders the threads by
		// when they last began to wait), and the front of a LIFO one,
		// and so would reorder what is measured.  stop() wakes every
		// worker through stop_fd_ (level-triggered: each wakeup of a
		// shared instance passes it on) and the listener's shutdown.
		int n = epoll_wait(ep, evs, 64, -1);
		if (n < 0 && errno != EINTR)
			err = errno;
		for (int i = 0; i < n && !stop && !err; i++) {
			int fd = evs[i].data.fd;
			if (fd != listen_fd && fd != stop_fd_.get()) {
				if (!serve_ready(idx, fd, held[fd])) {
					held.erase(fd);
					close(fd);
				}
				continue;
			}
			if (fd == stop_fd_.get() || (evs[i].events & (EPOLLHUP | EPOLLERR))) {
				stop = true;
				break;
			}
			std::atomic_ref(shared_->stats[idx].wakeups).fetch_add(1);
			// One accept per wakeup, as nginx without multi_accept; all
			// pending ones when edge-triggered.
			do {
				int c = accept_one(idx, listen_fd, &stop, &err);
				if (c < 0)
					break;
				if (!cfg_.hold) {
					serve(idx, c);
					continue;
				}
				std::atomic_ref(shared_->stats[idx].accepts).fetch_add(1);
				epoll_event ce{};
				ce.events = EPOLLIN;
				ce.data.fd = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce)) {
					err = errno;
					close(c);
					break;
				}
				held[c] = 0;
			} while (drain);
		}
	}
	for (const auto &h : held)
		close(h.first);
	return err;
}

// One poll() over the listener, stop_fd_ and every connection the worker
// holds: the kernel looks at each of them on every call.
int Server::poll_loop(unsigned idx, int listen_fd)
{
	std::vector<pollfd> fds = {{listen_fd, POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
	std::vector<unsigned> got(2); // per entry of fds: request bytes read
	int err = 0;
	bool stop = false;
	while (!done(idx) && !stop && !err) {
		int n = poll(fds.data(), fds.size(), -1);
		if (n < 0) {
			if (errno != EINTR)
				err = errno;
			continue;
		}
		if (fds[1].revents || (fds[0].revents & (POLLHUP | POLLERR)))
			break;
		if (fds[0].revents & POLLIN) {
			std::atomic_ref(shared_->stats[idx].wakeups).fetch_add(1);
			int c = accept_one(idx, listen_fd, &stop, &err);
			if (c >= 0 && !cfg_.hold) {
				serve(idx, c);
			} else if (c >= 0) {
				std::atomic_ref(shared_->stats[idx].accepts).fetch_add(1);
				fds.push_back({c, POLLIN, 0});
				got.push_back(0);
			}
		}
		for (size_t i = 2; i < fds.size();) {
			if (!fds[i].revents || serve_ready(idx, fds[i].fd, got[i])) {
				i++;
				continue;
			}
			close(fds[i].fd);
			fds[i] = fds.back();
			got[i] = got.back();
			fds.pop_back();
			got.pop_back();
		}
	}
	for (size_t i = 2; i < fds.size(); i++)
		close(fds[i].fd);
	return err;
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
	while (!done(idx) && !err) {
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

// blocking and the reuseport models: accept() blocks; shutdown() of the
// listener makes it fail with EINVAL.
int Server::blocking_loop(unsigned idx, int listen_fd)
{
	while (!done(idx)) {
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

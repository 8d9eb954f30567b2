/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What epoll_roundrobin_test.c and uring_accept_roundrobin_test.c share:
 * a listening socket and its clients, the feature probe of
 * EPOLLROUNDROBIN, the detection of a task asleep in epoll_wait() or
 * io_uring_enter() through /proc, a minimal io_uring (raw system calls, no
 * liburing), a pool of four workers on one target, and the checks and
 * reports of how the events were spread among them.
 *
 * Whether a worker sleeps in epoll_wait() (or io_uring_enter()) is read
 * from /proc/<tid>/stat and /proc/<tid>/syscall, so the ordering tests do
 * not depend on timing; they SKIP where that file cannot be read.  Tests
 * of a flag SKIP on kernels that reject it with EINVAL ("kernel lacks
 * ...").
 *
 * Lines "# distribution VARIANT TEST: N N N N jain=J" report the events
 * per worker and Jain's fairness index, for tools that compare kernels;
 * no test checks the index, which depends on timing.
 */

#ifndef EPOLL_ROUNDROBIN_H
#define EPOLL_ROUNDROBIN_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "../../kselftest_harness.h"

#ifndef EPOLLROUNDROBIN
#define EPOLLROUNDROBIN	0x04000000U	/* bit 26 */
#endif

#define NR_WORKERS	4
#define ALL_WORKERS	((1U << NR_WORKERS) - 1)
#define ROUNDS		10	/* sequential events per worker */
#define NR_EVENTS	(NR_WORKERS * ROUNDS)
#define NR_CLIENTS	2
#define CONNS_PER_CLIENT 200
#define WAIT_MS		10000	/* bound on any single wait */

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline int listen_socket(unsigned short *port)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(addr);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&addr, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(addr.sin_port);
	return fd;
}

/* Returns 0, or -errno of EPOLL_CTL_ADD. */
static inline int ep_add(int epfd, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/*
 * Feature probes: 1 if the kernel has the flag, 0 if it rejects it with
 * EINVAL (a kernel without it), -errno if the probe failed otherwise.
 */
static inline int have_roundrobin(void)
{
	int epfd, efd, ret;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0) {
		ret = -errno;
		close(epfd);
		return ret;
	}
	ret = ep_add(epfd, efd, EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN);
	close(efd);
	close(epfd);
	if (ret == -EINVAL)
		return 0;
	return ret ? ret : 1;
}

/* false: the test was skipped.  A probe that fails otherwise fails it. */
static inline bool need_roundrobin(struct __test_metadata *_metadata)
{
	int ret = have_roundrobin();

	ASSERT_LE(0, ret) TH_LOG("probing EPOLLROUNDROBIN: %s", strerror(-ret));
	if (!ret)
		SKIP(return false, "kernel lacks EPOLLROUNDROBIN");
	return true;
}

/*
 * Read the number of the system call task @tid is blocked in from
 * /proc/<tid>/syscall into @nr, -1 if it is running.  Returns 0 or -errno.
 */
static inline int proc_syscall(pid_t tid, long *nr)
{
	char path[64], buf[32], *end;
	int fd, len, err;

	snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	err = errno;
	close(fd);
	if (len < 0)
		return -err;
	buf[len] = '\0';
	*nr = strtol(buf, &end, 10);
	if (end == buf)
		*nr = -1;	/* "running" */
	return 0;
}

/* epoll_wait() and its variants, or io_uring_enter() for ring workers */
static inline bool is_wait_call(long nr)
{
	if (nr == __NR_io_uring_enter)
		return true;
#ifdef __NR_epoll_wait		/* not in the generic syscall table */
	if (nr == __NR_epoll_wait)
		return true;
#endif
#ifdef __NR_epoll_pwait2
	if (nr == __NR_epoll_pwait2)
		return true;
#endif
	return nr == __NR_epoll_pwait;
}

/*
 * Is this task asleep in epoll_wait() or io_uring_enter() (not running,
 * not in a mutex)?  /proc/<tid>/syscall names a system call only once the
 * task is off the CPU and off the run queue, so ep_poll() has queued it on
 * the instance; a ring worker submits its accept before it waits.
 */
static inline bool sleeping_in_wait(pid_t tid)
{
	char path[64], buf[512], *state;
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	state = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!state || state[1] != ' ' || state[2] != 'S')
		return false;
	return !proc_syscall(tid, &nr) && is_wait_call(nr);
}

struct blocked {
	int pipe[2];
	pid_t tid;
};

static inline void *block_in_read(void *arg)
{
	struct blocked *b = arg;
	char c;

	__atomic_store_n(&b->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	return (void *)(long)read(b->pipe[0], &c, 1);
}

/*
 * Can this process see that a thread of its own, or a child process, is
 * blocked in a system call?  /proc/<tid>/syscall needs
 * CONFIG_HAVE_ARCH_TRACEHOOK, and ptrace access to the task: always
 * granted for a thread of the same process, but for a child process an LSM
 * can deny it (Yama's ptrace_scope 3, or 2 without CAP_SYS_PTRACE).
 * Returns 0 if it can, 1 if not (and why in @why), -errno if the probe
 * could not be made.
 */
static inline int proc_syscall_unusable(bool thread, char *why, size_t len)
{
	long long deadline = now_ms() + WAIT_MS;
	const char *what = thread ? "thread" : "child process";
	struct blocked b = { .tid = 0 };
	pthread_t th;
	int ret = 0;
	long nr = -1;
	pid_t tid = 0;

	if (pipe2(b.pipe, O_CLOEXEC))
		return -errno;
	if (thread) {
		ret = -pthread_create(&th, NULL, block_in_read, &b);
	} else {
		fflush(stdout);
		fflush(stderr);
		tid = fork();
		if (!tid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(b.pipe[1]);
			block_in_read(&b);
			_exit(0);
		}
		if (tid < 0)
			ret = -errno;
	}
	if (ret) {
		close(b.pipe[0]);
		close(b.pipe[1]);
		return ret;
	}

	while (now_ms() < deadline) {
		tid = thread ? __atomic_load_n(&b.tid, __ATOMIC_ACQUIRE) : tid;
		if (tid) {
			ret = proc_syscall(tid, &nr);
			if (ret || nr == __NR_read)
				break;
		}
		usleep(1000);
	}
	if (ret)
		snprintf(why, len, "cannot read /proc/<pid>/syscall of a %s: %s%s",
			 what, strerror(-ret),
			 ret == -ENOENT ? " (no CONFIG_HAVE_ARCH_TRACEHOOK?)" :
			 ret == -EACCES || ret == -EPERM ?
			 " (Yama ptrace_scope?)" : "");
	else if (nr != __NR_read)
		snprintf(why, len,
			 "/proc/<pid>/syscall does not show a %s blocked in read()",
			 what);

	close(b.pipe[1]);	/* EOF ends the read() */
	if (thread)
		pthread_join(th, NULL);
	else
		waitpid(tid, NULL, 0);
	close(b.pipe[0]);
	return ret || nr != __NR_read;
}

static inline bool need_proc_syscall(struct __test_metadata *_metadata,
				     bool thread)
{
	char why[256];
	int ret;

	ret = proc_syscall_unusable(thread, why, sizeof(why));
	ASSERT_LE(0, ret) TH_LOG("probing /proc/<pid>/syscall: %s",
				 strerror(-ret));
	if (ret)
		SKIP(return false, "%s", why);
	return true;
}

/*
 * A minimal io_uring (no liburing): IORING_OP_EPOLL_CTL, and the multishot
 * accepts of uring_accept_roundrobin_test.c.
 */
struct ring {
	int fd;
	void *sq_map, *cq_map;
	struct io_uring_sqe *sqes;
	size_t sq_len, cq_len, sqes_len;
	unsigned int *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	unsigned int prepared;		/* SQEs not yet submitted */
};

#define RING_ENTRIES	64	/* CQ: 128, more than one test keeps */

static inline void ring_exit(struct ring *r)
{
	if (r->sqes && r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_len);
	if (r->cq_map && r->cq_map != MAP_FAILED)
		munmap(r->cq_map, r->cq_len);
	if (r->sq_map && r->sq_map != MAP_FAILED)
		munmap(r->sq_map, r->sq_len);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* With IORING_SETUP_* @setup: 0, or -errno of io_uring_setup() or mmap(). */
static inline int ring_init_flags(struct ring *r, unsigned int setup)
{
	struct io_uring_params par;
	char *sq, *cq;
	int ret;

	memset(r, 0, sizeof(*r));
	memset(&par, 0, sizeof(par));
	par.flags = setup;
	r->fd = syscall(__NR_io_uring_setup, RING_ENTRIES, &par);
	if (r->fd < 0)
		return -errno;
	r->sq_len = par.sq_off.array + par.sq_entries * sizeof(unsigned int);
	r->cq_len = par.cq_off.cqes +
		    par.cq_entries * sizeof(struct io_uring_cqe);
	r->sqes_len = par.sq_entries * sizeof(struct io_uring_sqe);
	r->sq_map = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 r->fd, IORING_OFF_SQ_RING);
	r->cq_map = mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 r->fd, IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       r->fd, IORING_OFF_SQES);
	if (r->sq_map == MAP_FAILED || r->cq_map == MAP_FAILED ||
	    r->sqes == MAP_FAILED) {
		ret = -errno;
		ring_exit(r);
		return ret;
	}
	sq = r->sq_map;
	cq = r->cq_map;
	r->sq_tail = (unsigned int *)(sq + par.sq_off.tail);
	r->sq_mask = (unsigned int *)(sq + par.sq_off.ring_mask);
	r->sq_array = (unsigned int *)(sq + par.sq_off.array);
	r->cq_head = (unsigned int *)(cq + par.cq_off.head);
	r->cq_tail = (unsigned int *)(cq + par.cq_off.tail);
	r->cq_mask = (unsigned int *)(cq + par.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + par.cq_off.cqes);
	return 0;
}

static inline int ring_init(struct ring *r)
{
	return ring_init_flags(r, 0);
}

/* A zeroed SQE for @op on @fd, submitted by the next ring_submit(). */
static inline struct io_uring_sqe *ring_sqe(struct ring *r, int op, int fd,
					    uint64_t user_data)
{
	unsigned int idx = (*r->sq_tail + r->prepared++) & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[idx];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op;
	sqe->fd = fd;
	sqe->user_data = user_data;
	r->sq_array[idx] = idx;
	return sqe;
}

/* Submit the prepared SQEs: 0, or -errno. */
static inline int ring_submit(struct ring *r)
{
	unsigned int n = r->prepared;
	int ret;

	__atomic_store_n(r->sq_tail, *r->sq_tail + n, __ATOMIC_RELEASE);
	r->prepared = 0;
	ret = syscall(__NR_io_uring_enter, r->fd, n, 0, 0, NULL, 0);
	if (ret < 0)
		return -errno;
	return ret == (int)n ? 0 : -EIO;
}

/* Take the oldest CQE into @cqe: false if there is none. */
static inline bool ring_reap(struct ring *r, struct io_uring_cqe *cqe)
{
	unsigned int head = *r->cq_head;

	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return false;
	*cqe = r->cqes[head & *r->cq_mask];
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return true;
}

/* Sleep in io_uring_enter() until a CQE comes, then take it: 0 or -errno. */
static inline int ring_wait(struct ring *r, struct io_uring_cqe *cqe)
{
	while (!ring_reap(r, cqe))
		if (syscall(__NR_io_uring_enter, r->fd, 0, 1,
			    IORING_ENTER_GETEVENTS, NULL, 0) < 0 &&
		    errno != EINTR)	/* EINTR: SIGSTOP and SIGCONT */
			return -errno;
	return 0;
}

/* Submit one SQE and wait for its CQE: its result, or RING_FAILED. */
#define RING_FAILED	INT_MIN		/* not a result of the operation */

static inline int ring_run(struct ring *r)
{
	struct io_uring_cqe cqe;

	if (ring_submit(r) || ring_wait(r, &cqe))
		return RING_FAILED;
	return cqe.res;
}

/*
 * Four workers, processes with an epoll instance each or threads sharing
 * one, wait on one target: a listening socket (a worker accepts and
 * answers with its index) or an eventfd (a worker reads it to reset it,
 * then writes its index to a pipe).  Or processes with a ring each, with
 * a multishot accept on a listening socket, instead of some or all of the
 * epoll ones: uring_accept_roundrobin_test.c's ring_loop.
 */
struct pool;

struct pool_opts {
	bool threads;		/* threads sharing one instance, else processes */
	bool eventfd;		/* target: an eventfd, else a listening socket */
	int create_flags;	/* for epoll_create1(), besides EPOLL_CLOEXEC */
	uint32_t events;	/* of the target's item */
	uint32_t events0;	/* of worker 0's item instead, if set */
	unsigned int rings;	/* workers (bits) that run ring_loop, not epoll */
	int (*ring_loop)(struct pool *p, int idx);
	unsigned int uring;	/* IORING_ACCEPT_* of their accepts */
	unsigned int setup;	/* IORING_SETUP_* of their rings */
};

/* Shared with worker processes through a MAP_SHARED mapping. */
struct worker_state {
	pid_t tid[NR_WORKERS];
	int served[NR_WORKERS];		/* connections, or eventfd reads */
	int hup[NR_WORKERS];
	int busy[NR_WORKERS];		/* ring: stop reaping after a serve */
	int resting[NR_WORKERS];	/* ring: does so now */
};

struct worker_arg {
	struct pool *pool;
	int idx;
};

struct pool {
	struct pool_opts o;
	int nr;				/* workers started */
	int target_fd;
	unsigned short port;
	int report[2];			/* pipe, with an eventfd target */
	int stop_fd;			/* eventfd: readable means "exit" */
	int epfd[NR_WORKERS];		/* threads share epfd[0] */
	pid_t pid[NR_WORKERS];		/* 0: none, or reaped */
	pthread_t thread[NR_WORKERS];
	struct worker_arg arg[NR_WORKERS];
	struct worker_state *st;
};

static inline void pool_init(struct pool *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->target_fd = -1;
	p->stop_fd = -1;
	p->report[0] = -1;
	p->report[1] = -1;
	for (i = 0; i < NR_WORKERS; i++)
		p->epfd[i] = -1;
	p->st = MAP_FAILED;
}

static inline int served(struct pool *p, int idx)
{
	return __atomic_load_n(&p->st->served[idx], __ATOMIC_RELAXED);
}

/*
 * Take one event per wakeup (a level-triggered socket item: one
 * connection), or all that are ready (edge-triggered), and report it.
 */
static inline int worker_loop(struct pool *p, int idx)
{
	int epfd = p->o.threads ? p->epfd[0] : p->epfd[idx];
	struct epoll_event ev;
	uint8_t id = idx;
	uint64_t val;
	int n, c;

	if (p->o.rings & (1U << idx))
		return p->o.ring_loop(p, idx);
	__atomic_store_n(&p->st->tid[idx], syscall(SYS_gettid),
			 __ATOMIC_RELEASE);
	for (;;) {
		n = epoll_wait(epfd, &ev, 1, 6 * WAIT_MS);
		if (n < 0 && errno == EINTR)
			continue;	/* SIGSTOP and SIGCONT */
		if (n <= 0)
			return 1;
		if (ev.data.fd == p->stop_fd)
			return 0;
		if (ev.events & (EPOLLHUP | EPOLLERR)) {
			p->st->hup[idx] = 1;
			return 0;
		}
		if (p->o.eventfd) {
			if (read(p->target_fd, &val, sizeof(val)) < 0) {
				if (errno == EAGAIN)
					continue;
				return 1;
			}
			__atomic_add_fetch(&p->st->served[idx], 1,
					   __ATOMIC_RELAXED);
			if (write(p->report[1], &id, 1) != 1)
				return 1;
			continue;
		}
		do {
			c = accept4(p->target_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0 && errno == EAGAIN)
				break;
			if (c < 0)
				return 1;
			__atomic_add_fetch(&p->st->served[idx], 1,
					   __ATOMIC_RELAXED);
			if (write(c, &id, 1) != 1)
				return 1;
			close(c);
		} while (p->o.events & EPOLLET);
	}
}

static inline void *worker_thread(void *data)
{
	struct worker_arg *arg = data;

	return (void *)(long)worker_loop(arg->pool, arg->idx);
}

static inline void worker_process(struct pool *p, int idx, pid_t parent)
{
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* Hold only its own instance, so that closing that frees it. */
	for (i = 0; i < NR_WORKERS; i++)
		if (i != idx)
			close(p->epfd[i]);
	_exit(worker_loop(p, idx));
}

/* Wait until all workers started, but those in @skip, sleep in epoll_wait(). */
static inline bool wait_idle(struct pool *p, unsigned int skip)
{
	long long deadline = now_ms() + WAIT_MS;
	pid_t tid;
	int i;

	for (i = 0; i < p->nr; i++) {
		if (skip & (1U << i))
			continue;
		for (;;) {
			tid = __atomic_load_n(&p->st->tid[i], __ATOMIC_ACQUIRE);
			if (tid && sleeping_in_wait(tid))
				break;
			if (now_ms() > deadline)
				return false;
			usleep(500);
		}
	}
	return true;
}

/*
 * Start NR_WORKERS workers on a new target.  The parent adds the target to
 * every instance before any worker runs, so registration order is worker
 * order, and each worker is started only once the previous one sleeps in
 * epoll_wait(), so that is the order in which they went to sleep too.  A
 * ring worker arms its accept as it starts: after every epoll instance.
 * Returns 0, or -errno of the first failing step.
 */
static inline int pool_start(struct pool *p, const struct pool_opts *o)
{
	pid_t parent = getpid();
	uint32_t events;
	int i, ret;

	pool_init(p);
	p->o = *o;
	p->st = mmap(NULL, sizeof(*p->st), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p->st == MAP_FAILED)
		return -errno;
	if (o->eventfd) {
		p->target_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (p->target_fd < 0 || pipe2(p->report, O_CLOEXEC))
			return -errno;
	} else {
		p->target_fd = listen_socket(&p->port);
		if (p->target_fd < 0)
			return -errno;
	}
	p->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (p->stop_fd < 0)
		return -errno;

	for (i = 0; i < (o->threads ? 1 : NR_WORKERS); i++) {
		if (o->rings & (1U << i))
			continue;
		events = i == 0 && o->events0 ? o->events0 : o->events;
		p->epfd[i] = epoll_create1(o->create_flags | EPOLL_CLOEXEC);
		if (p->epfd[i] < 0)
			return -errno;
		ret = ep_add(p->epfd[i], p->target_fd, events);
		if (!ret)
			ret = ep_add(p->epfd[i], p->stop_fd, EPOLLIN);
		if (ret)
			return ret;
	}

	for (i = 0; i < NR_WORKERS; i++) {
		if (o->threads) {
			p->arg[i] = (struct worker_arg){ .pool = p, .idx = i };
			ret = pthread_create(&p->thread[i], NULL,
					     worker_thread, &p->arg[i]);
			if (ret)
				return -ret;
		} else {
			fflush(stdout);
			fflush(stderr);
			p->pid[i] = fork();
			if (p->pid[i] < 0) {
				p->pid[i] = 0;
				return -errno;
			}
			if (!p->pid[i])
				worker_process(p, i, parent);
		}
		p->nr = i + 1;
		if (!wait_idle(p, 0))
			return -ETIMEDOUT;
	}
	return 0;
}

/* Wait for every worker to exit; false if one failed or hangs. */
static inline bool pool_join(struct pool *p)
{
	long long deadline = now_ms() + WAIT_MS;
	struct timespec ts;
	bool ok = true;
	int i, status;
	void *ret;
	pid_t pid;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	for (i = 0; i < p->nr; i++) {
		if (p->o.threads) {
			if (pthread_timedjoin_np(p->thread[i], &ret, &ts))
				return false;	/* the test process exits */
			ok &= !ret;
			continue;
		}
		if (!p->pid[i])
			continue;
		while ((pid = waitpid(p->pid[i], &status, WNOHANG)) == 0 &&
		       now_ms() < deadline)
			usleep(1000);
		if (pid != p->pid[i]) {
			kill(p->pid[i], SIGKILL);
			waitpid(p->pid[i], NULL, 0);
			ok = false;
		} else {
			ok &= WIFEXITED(status) && !WEXITSTATUS(status);
		}
		p->pid[i] = 0;
	}
	p->nr = 0;
	return ok;
}

static inline bool pool_stop(struct pool *p)
{
	uint64_t one = 1;
	int i;

	if (!p->nr)
		return true;
	if (write(p->stop_fd, &one, sizeof(one)) != sizeof(one))
		return false;
	for (i = 0; i < p->nr; i++)
		if (!p->o.threads && p->pid[i])
			kill(p->pid[i], SIGCONT);
	return pool_join(p);
}

static inline void pool_destroy(struct pool *p)
{
	int i;

	for (i = 0; i < NR_WORKERS; i++) {
		if (p->pid[i] > 0) {
			kill(p->pid[i], SIGKILL);
			waitpid(p->pid[i], NULL, 0);
			p->pid[i] = 0;
		}
		if (p->epfd[i] >= 0)
			close(p->epfd[i]);
	}
	if (p->target_fd >= 0)
		close(p->target_fd);
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	if (p->report[0] >= 0)
		close(p->report[0]);
	if (p->report[1] >= 0)
		close(p->report[1]);
	if (p->st != MAP_FAILED)
		munmap(p->st, sizeof(*p->st));
	pool_init(p);
}

/* Bounded waitpid(WUNTRACED): has child @pid stopped? */
static inline bool wait_stopped(pid_t pid)
{
	long long deadline = now_ms() + WAIT_MS;
	int status;
	pid_t ret;

	while ((ret = waitpid(pid, &status, WUNTRACED | WNOHANG)) == 0 &&
	       now_ms() < deadline)
		usleep(1000);
	return ret == pid && WIFSTOPPED(status);
}

/*
 * A connection to @port, with WAIT_MS bounds on its reads and writes, or
 * -1.  It is in the listener's queue once connect() returns (loopback).
 */
static inline int connect_client(unsigned short port)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };
	struct pollfd pfd = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		goto fail;
	/*
	 * EINTR: this task's own io_uring task work, queued by the wakeup
	 * the connection caused, interrupted the wait; it goes on.
	 */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		pfd.fd = fd;
		if (errno != EINTR || poll(&pfd, 1, WAIT_MS) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Read the index of the worker that accepted @fd and close it; or -1. */
static inline int read_worker(int fd)
{
	uint8_t id;
	int n = -1;

	if (fd >= 0 && read(fd, &id, 1) == 1 && id < NR_WORKERS)
		n = id;
	if (fd >= 0)
		close(fd);
	return n;
}

/* Connect, read the index of the worker that accepted; -1 on failure. */
static inline int connect_once(unsigned short port)
{
	return read_worker(connect_client(port));
}

/* Signal the eventfd, read the index of the worker that took it, or -1. */
static inline int signal_once(struct pool *p)
{
	struct pollfd pfd = { .fd = p->report[0], .events = POLLIN };
	uint64_t one = 1;
	uint8_t id;

	if (write(p->target_fd, &one, sizeof(one)) != sizeof(one) ||
	    poll(&pfd, 1, WAIT_MS) != 1 || read(p->report[0], &id, 1) != 1 ||
	    id >= NR_WORKERS)
		return -1;
	return id;
}

/*
 * Make @n events one at a time, each once every worker not in @skip sleeps
 * in epoll_wait().  order[i] is the worker that took event i; count[] is
 * added to.  Returns the number of events served: fewer than @n if a
 * worker did not get back to epoll_wait() or an event was not served.
 */
static inline int sequential(struct pool *p, int n, unsigned int skip,
			     int *order, int *count)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!wait_idle(p, skip)) {
			ksft_print_msg("event %d: workers not in epoll_wait()\n",
				       i);
			break;
		}
		order[i] = p->o.eventfd ? signal_once(p) : connect_once(p->port);
		if (order[i] < 0) {
			char so_far[NR_WORKERS * 12 + 1] = "";
			int k, len = 0;

			for (k = 0; k < NR_WORKERS; k++)
				len += snprintf(so_far + len, sizeof(so_far) - len,
						" %d", served(p, k));
			ksft_print_msg("event %d: not served (served so far:%s)\n",
				       i, so_far);
			break;
		}
		count[order[i]]++;
	}
	return i;
}

/*
 * Strict rotation among the workers in @set: the first k = |set| events go
 * to each of them once, in some order, and that order then repeats
 * exactly.  Returns the index of the first event that breaks it, or -1.
 */
static inline int rotation_break(const int *order, int n, unsigned int set)
{
	int k = __builtin_popcount(set), i;
	unsigned int seen = 0;

	for (i = 0; i < n; i++) {
		if (order[i] < 0 || !(set & (1U << order[i])))
			return i;
		if (i >= k && order[i] != order[i - k])
			return i;
		if (i < k && (seen & (1U << order[i])))
			return i;
		seen |= 1U << order[i];
	}
	return -1;
}

/* The workers that took the events, as digits, for the logs. */
static inline const char *fmt_order(const int *order, int n)
{
	static char buf[NR_EVENTS + 1];
	int i;

	for (i = 0; i < n && i < NR_EVENTS; i++)
		buf[i] = order[i] < 0 ? '?' : '0' + order[i];
	buf[i] = '\0';
	return buf;
}

static inline double jain_index(const int *x, int n)
{
	double sum = 0, sq = 0;
	int i;

	for (i = 0; i < n; i++) {
		sum += x[i];
		sq += (double)x[i] * x[i];
	}
	return sq ? sum * sum / (n * sq) : 0;
}

static inline void report(const char *variant, const char *test, const int *x)
{
	char buf[128];
	int i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < NR_WORKERS && len < (int)sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %d", x[i]);
	ksft_print_msg("distribution %s %s:%s jain=%.3f\n",
		       variant, test, buf, jain_index(x, NR_WORKERS));
}

/*
 * The tests of the accept fixtures of both programs: four workers, of
 * one kind, on one listening socket, named @name in the reports.
 *
 * One connection at a time, each made while every worker sleeps in
 * epoll_wait() or io_uring_enter().  With @rotate (round-robin, or the
 * threads of an EPOLL_WAKE_FIFO instance), the workers take them in strict
 * rotation; otherwise no order is promised, only that none is lost.
 */
static inline void pool_sequential_test(struct __test_metadata *_metadata,
					struct pool *p, const char *name,
					bool rotate)
{
	int count[NR_WORKERS] = { 0 }, order[NR_EVENTS];
	int i, n, bad;

	n = sequential(p, NR_EVENTS, 0, order, count);
	ASSERT_EQ(NR_EVENTS, n) TH_LOG("so far: %s", fmt_order(order, n));
	report(name, "sequential", count);
	for (i = 0; i < NR_WORKERS; i++)
		EXPECT_EQ(count[i], served(p, i));
	if (!rotate)
		return;
	bad = rotation_break(order, n, ALL_WORKERS);
	EXPECT_EQ(-1, bad) TH_LOG("not in rotation from connection %d: %s",
				  bad, fmt_order(order, n));
}

struct client_arg {
	unsigned short port;
	int count[NR_WORKERS];
	int failed;
};

static inline void *client_thread(void *data)
{
	struct client_arg *arg = data;
	int i, id;

	for (i = 0; i < CONNS_PER_CLIENT; i++) {
		id = connect_once(arg->port);
		if (id < 0)
			arg->failed++;
		else
			arg->count[id]++;
	}
	return NULL;
}

/*
 * NR_CLIENTS clients connect as fast as they can.  Every connection must
 * be accepted exactly once; with @spread (round-robin or FIFO) every
 * worker takes some.  How evenly depends on timing (a level-triggered
 * worker that gets back to epoll_wait() with connections pending takes
 * one at once; a ring takes all that are queued when its task work runs),
 * so Jain's index is reported, not checked.
 */
static inline void pool_concurrent_test(struct __test_metadata *_metadata,
					struct pool *p, const char *name,
					bool spread)
{
	struct client_arg args[NR_CLIENTS] = { 0 };
	int count[NR_WORKERS] = { 0 }, failed = 0, total = 0;
	pthread_t tid[NR_CLIENTS];
	int i, j;

	for (i = 0; i < NR_CLIENTS; i++) {
		args[i].port = p->port;
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, client_thread,
					    &args[i]));
	}
	for (i = 0; i < NR_CLIENTS; i++) {
		pthread_join(tid[i], NULL);
		failed += args[i].failed;
		for (j = 0; j < NR_WORKERS; j++)
			count[j] += args[i].count[j];
	}
	report(name, "concurrent", count);

	EXPECT_EQ(0, failed);
	for (j = 0; j < NR_WORKERS; j++) {
		EXPECT_EQ(count[j], served(p, j));
		total += count[j];
	}
	EXPECT_EQ(NR_CLIENTS * CONNS_PER_CLIENT, total);
	if (!spread)
		return;
	for (j = 0; j < NR_WORKERS; j++)
		EXPECT_LT(0, count[j]) TH_LOG("worker %d took none", j);
}

/*
 * shutdown() of the listening socket is a wake-all: every instance or
 * ring must see it (EPOLLHUP, or its accept ends), none may hang.
 * Threads share one instance, whose edge-triggered EPOLLHUP wakes one of
 * them; the rest are stopped.
 */
static inline void pool_shutdown_test(struct __test_metadata *_metadata,
				      struct pool *p)
{
	long long deadline = now_ms() + WAIT_MS;
	int i, hup = 0;

	ASSERT_EQ(0, shutdown(p->target_fd, SHUT_RDWR));
	if (!p->o.threads) {
		ASSERT_TRUE(pool_join(p));
		for (i = 0; i < NR_WORKERS; i++)
			EXPECT_EQ(1, p->st->hup[i]) TH_LOG("worker %d", i);
		return;
	}
	while (!hup && now_ms() < deadline) {
		usleep(1000);
		for (i = 0; i < NR_WORKERS; i++)
			hup += __atomic_load_n(&p->st->hup[i],
					       __ATOMIC_RELAXED);
	}
	EXPECT_GE(hup, 1) TH_LOG("no thread saw EPOLLHUP");
}

/* Tests that start their own workers: the workers fixture's teardown. */
static inline void pool_teardown(struct __test_metadata *_metadata,
				 struct pool *p)
{
	EXPECT_TRUE(pool_stop(p));
	pool_destroy(p);
}

#endif /* EPOLL_ROUNDROBIN_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * EPOLLROUNDROBIN and EPOLL_WAKE_FIFO.
 *
 * With EPOLLEXCLUSIVE | EPOLLROUNDROBIN, the epoll instances that wait on
 * one file take turns: the instance that takes an exclusive wakeup goes
 * behind the other round-robin instances on the file's wait queue.  With
 * EPOLL_WAKE_FIFO, an epoll_create1() flag, the threads that sleep on one
 * instance are woken longest waiter first.  Covered here:
 *
 *  - flags: EPOLLROUNDROBIN is accepted with EPOLLEXCLUSIVE on
 *    EPOLL_CTL_ADD, and is EINVAL alone, on EPOLL_CTL_MOD, on an epoll
 *    target and with EPOLLONESHOT; an item with it cannot be modified.
 *    Once through epoll_ctl() and once through io_uring's
 *    IORING_OP_EPOLL_CTL.  epoll_create1() takes EPOLL_WAKE_FIFO, with
 *    and without EPOLL_CLOEXEC, and still rejects unknown flags;
 *  - accept: four workers on one listening socket, processes with an
 *    instance each or threads sharing one.  Connections made one at a
 *    time, each while every worker sleeps in epoll_wait(), go round in
 *    strict rotation with EPOLLROUNDROBIN (processes) or EPOLL_WAKE_FIFO
 *    (threads); concurrent connections are each accepted exactly once and
 *    reach every worker; shutdown() of the socket wakes every instance.
 *    The same runs with plain EPOLLEXCLUSIVE check only that nothing is
 *    lost: how it spreads the load is not promised;
 *  - workers: a round-robin worker that is not in epoll_wait() is skipped
 *    and keeps its place; one whose item is deleted, or whose instance is
 *    closed, leaves the rotation to the others; a plain EPOLLEXCLUSIVE
 *    waiter on the same socket does not rotate, the round-robin ones do
 *    while it does not wait; round-robin on an eventfd; EPOLL_WAKE_FIFO
 *    with a plain item; closing the socket under round-robin waiters;
 *  - io_uring: IORING_ACCEPT_ROUNDROBIN, multishot accepts of a ring per
 *    worker process, take turns the same way, and a ring that cannot run
 *    its task work (stopped) is passed over after the one wakeup it took;
 *    rings in one process keep rotating when one's accept is cancelled or
 *    the ring closed; shutdown() ends every accept; the flag is EINVAL
 *    without IORING_ACCEPT_MULTISHOT.
 *
 * Whether a worker sleeps in epoll_wait() (or io_uring_enter()) is read
 * from /proc/<tid>/stat and /proc/<tid>/syscall, so the ordering tests do
 * not depend on timing; they SKIP where that file cannot be read.  Tests of a flag SKIP on kernels
 * that reject it with EINVAL ("kernel lacks ...").
 *
 * Lines "# distribution VARIANT TEST: N N N N jain=J" report the accepts
 * per worker and Jain's fairness index, for tools that compare kernels.
 */

#define _GNU_SOURCE
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
#ifndef EPOLL_WAKE_FIFO
#define EPOLL_WAKE_FIFO	0x1
#endif
#ifndef IORING_ACCEPT_ROUNDROBIN
#define IORING_ACCEPT_ROUNDROBIN	8U	/* bit 3 */
#endif
#define ACCEPT_RR	(IORING_ACCEPT_MULTISHOT | IORING_ACCEPT_ROUNDROBIN)

#define NR_WORKERS	4
#define ALL_WORKERS	((1U << NR_WORKERS) - 1)
#define ROUNDS		10	/* sequential events per worker */
#define NR_EVENTS	(NR_WORKERS * ROUNDS)
#define NR_CLIENTS	2
#define CONNS_PER_CLIENT 200
#define WAIT_MS		10000	/* bound on any single wait */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int listen_socket(unsigned short *port)
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
static int ep_add(int epfd, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/*
 * Feature probes: 1 if the kernel has the flag, 0 if it rejects it with
 * EINVAL (a kernel without it), -errno if the probe failed otherwise.
 */
static int have_roundrobin(void)
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

static int have_wake_fifo(void)
{
	int epfd = epoll_create1(EPOLL_WAKE_FIFO | EPOLL_CLOEXEC);

	if (epfd >= 0) {
		close(epfd);
		return 1;
	}
	return errno == EINVAL ? 0 : -errno;
}

/* false: the test was skipped.  A probe that fails otherwise fails it. */
static bool need_roundrobin(struct __test_metadata *_metadata)
{
	int ret = have_roundrobin();

	ASSERT_LE(0, ret) TH_LOG("probing EPOLLROUNDROBIN: %s", strerror(-ret));
	if (!ret)
		SKIP(return false, "kernel lacks EPOLLROUNDROBIN");
	return true;
}

static bool need_wake_fifo(struct __test_metadata *_metadata)
{
	int ret = have_wake_fifo();

	ASSERT_LE(0, ret) TH_LOG("probing EPOLL_WAKE_FIFO: %s", strerror(-ret));
	if (!ret)
		SKIP(return false, "kernel lacks EPOLL_WAKE_FIFO");
	return true;
}

/*
 * Read the number of the system call task @tid is blocked in from
 * /proc/<tid>/syscall into @nr, -1 if it is running.  Returns 0 or -errno.
 */
static int proc_syscall(pid_t tid, long *nr)
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
static bool is_wait_call(long nr)
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
static bool sleeping_in_wait(pid_t tid)
{
	char path[64], buf[512], *state;
	long nr;
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

static void *block_in_read(void *arg)
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
static int proc_syscall_unusable(bool thread, char *why, size_t len)
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

static bool need_proc_syscall(struct __test_metadata *_metadata, bool thread)
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
 * A minimal io_uring (no liburing): IORING_OP_EPOLL_CTL, and multishot
 * accepts for the IORING_ACCEPT_ROUNDROBIN tests.
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

static void ring_exit(struct ring *r)
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
static int ring_init_flags(struct ring *r, unsigned int setup)
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

static int ring_init(struct ring *r)
{
	return ring_init_flags(r, 0);
}

/* A zeroed SQE for @op on @fd, submitted by the next ring_submit(). */
static struct io_uring_sqe *ring_sqe(struct ring *r, int op, int fd,
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
static int ring_submit(struct ring *r)
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
static bool ring_reap(struct ring *r, struct io_uring_cqe *cqe)
{
	unsigned int head = *r->cq_head;

	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return false;
	*cqe = r->cqes[head & *r->cq_mask];
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return true;
}

/* Sleep in io_uring_enter() until a CQE comes, then take it: 0 or -errno. */
static int ring_wait(struct ring *r, struct io_uring_cqe *cqe)
{
	while (!ring_reap(r, cqe))
		if (syscall(__NR_io_uring_enter, r->fd, 0, 1,
			    IORING_ENTER_GETEVENTS, NULL, 0) < 0 &&
		    errno != EINTR)	/* EINTR: SIGSTOP and SIGCONT */
			return -errno;
	return 0;
}

/* 1 if the kernel supports io_uring operation @op, 0 if not, or -errno. */
static int ring_supports(struct ring *r, int op)
{
	struct io_uring_probe *probe;
	int ret;

	probe = calloc(1, sizeof(*probe) +
			  256 * sizeof(struct io_uring_probe_op));
	if (!probe)
		return -ENOMEM;
	if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_PROBE,
		    probe, 256))
		ret = errno == EINVAL ? 0 : -errno;	/* before 5.6 */
	else
		ret = probe->last_op >= op &&
		      (probe->ops[op].flags & IO_URING_OP_SUPPORTED);
	free(probe);
	return ret;
}

/* Submit one SQE and wait for its CQE: its result, or RING_FAILED. */
#define RING_FAILED	INT_MIN		/* not a result of the operation */

static int ring_run(struct ring *r)
{
	struct io_uring_cqe cqe;

	if (ring_submit(r) || ring_wait(r, &cqe))
		return RING_FAILED;
	return cqe.res;
}

/* IORING_OP_EPOLL_CTL: its result (0 or -errno), or RING_FAILED. */
static int ring_epoll_ctl(struct ring *r, int epfd, int op, int fd,
			  struct epoll_event *ev)
{
	struct io_uring_sqe *sqe = ring_sqe(r, IORING_OP_EPOLL_CTL, epfd, 0);

	sqe->len = op;
	sqe->off = fd;
	sqe->addr = (uintptr_t)ev;
	return ring_run(r);
}

/* An accept of @fd with IORING_ACCEPT_* @flags, submitted by ring_submit(). */
static void ring_accept(struct ring *r, int fd, unsigned int flags,
			uint64_t user_data)
{
	struct io_uring_sqe *sqe = ring_sqe(r, IORING_OP_ACCEPT, fd,
					    user_data);

	sqe->ioprio = flags;
	sqe->accept_flags = SOCK_CLOEXEC;
}

/*
 * Feature probe of accept flags: 1 if the kernel takes @flags, 0 if it
 * rejects them (EINVAL, checked before the file, -1, which is EBADF),
 * -errno if io_uring is unavailable, -EIO if the probe failed otherwise.
 */
static int have_uring_accept(unsigned int flags)
{
	struct ring r;
	int ret;

	ret = ring_init(&r);
	if (ret)
		return ret == -EINVAL || ret == -EFAULT ? -EIO : ret;
	ring_accept(&r, -1, flags, 0);
	ret = ring_run(&r);
	ring_exit(&r);
	if (ret == -EINVAL)
		return 0;
	return ret == -EBADF ? 1 : -EIO;
}

/*
 * false: the test was skipped, io_uring being unavailable (not built in,
 * io_uring_disabled, seccomp, an LSM) or lacking @flags.
 */
static bool need_uring_accept(struct __test_metadata *_metadata,
			      unsigned int flags)
{
	int ret = have_uring_accept(flags);

	if (ret < 0 && ret != -EIO)
		SKIP(return false, "io_uring unavailable: %s", strerror(-ret));
	ASSERT_LE(0, ret) TH_LOG("probing io_uring accept flags 0x%x", flags);
	if (!ret)
		SKIP(return false, "kernel lacks IORING_ACCEPT_%s",
		     flags & IORING_ACCEPT_ROUNDROBIN ? "ROUNDROBIN" :
		     "MULTISHOT");
	return true;
}

/*
 * Four workers, processes with an epoll instance each or threads sharing
 * one, wait on one target: a listening socket (a worker accepts and
 * answers with its index) or an eventfd (a worker reads it to reset it,
 * then writes its index to a pipe).  Or four processes with a ring each,
 * with a multishot accept on a listening socket.
 */
struct pool_opts {
	bool threads;		/* threads sharing one instance, else processes */
	bool eventfd;		/* target: an eventfd, else a listening socket */
	int create_flags;	/* for epoll_create1(), besides EPOLL_CLOEXEC */
	uint32_t events;	/* of the target's item */
	uint32_t events0;	/* of worker 0's item instead, if set */
	unsigned int uring;	/* IORING_ACCEPT_* of a ring each, not epoll */
	unsigned int setup;	/* IORING_SETUP_* of those rings */
};

/* Shared with worker processes through a MAP_SHARED mapping. */
struct worker_state {
	pid_t tid[NR_WORKERS];
	int served[NR_WORKERS];		/* connections, or eventfd reads */
	int hup[NR_WORKERS];
	int busy[NR_WORKERS];		/* ring: stop reaping after a serve */
	int resting[NR_WORKERS];	/* ring: does so now */
};

struct pool;

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

static void pool_init(struct pool *p)
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

static int served(struct pool *p, int idx)
{
	return __atomic_load_n(&p->st->served[idx], __ATOMIC_RELAXED);
}

enum { UD_ACCEPT = 1, UD_STOP };

/*
 * A ring worker: one multishot accept of the socket, one poll of the stop
 * eventfd.  A CQE of the accept without IORING_CQE_F_MORE ends it: an
 * error after shutdown() is the ring's EPOLLHUP.
 */
static int uring_worker_loop(struct pool *p, int idx)
{
	struct io_uring_cqe cqe;
	struct ring r;
	uint8_t id = idx;

	if (ring_init_flags(&r, p->o.setup))
		return 1;
	ring_accept(&r, p->target_fd, p->o.uring, UD_ACCEPT);
	ring_sqe(&r, IORING_OP_POLL_ADD, p->stop_fd, UD_STOP)->poll32_events =
		POLLIN;
	if (ring_submit(&r))
		return 1;
	/* Published once the accept is queued on the socket. */
	__atomic_store_n(&p->st->tid[idx], syscall(SYS_gettid),
			 __ATOMIC_RELEASE);
	for (;;) {
		if (ring_wait(&r, &cqe))
			return 1;
		if (cqe.user_data == UD_STOP)
			return 0;
		if (cqe.res < 0) {
			p->st->hup[idx] = 1;
			return 0;
		}
		__atomic_add_fetch(&p->st->served[idx], 1, __ATOMIC_RELAXED);
		if (write(cqe.res, &id, 1) != 1)
			return 1;
		close(cqe.res);
		if (!(cqe.flags & IORING_CQE_F_MORE))
			return 1;
		/* Busy elsewhere: no io_uring_enter(), so no CQE reaped. */
		while (__atomic_load_n(&p->st->busy[idx], __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&p->st->resting[idx], 1,
					 __ATOMIC_RELEASE);
			usleep(1000);
		}
		__atomic_store_n(&p->st->resting[idx], 0, __ATOMIC_RELEASE);
	}
}

/*
 * Take one event per wakeup (a level-triggered socket item: one
 * connection), or all that are ready (edge-triggered), and report it.
 */
static int worker_loop(struct pool *p, int idx)
{
	int epfd = p->o.threads ? p->epfd[0] : p->epfd[idx];
	struct epoll_event ev;
	uint8_t id = idx;
	uint64_t val;
	int n, c;

	if (p->o.uring)
		return uring_worker_loop(p, idx);
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

static void *worker_thread(void *data)
{
	struct worker_arg *arg = data;

	return (void *)(long)worker_loop(arg->pool, arg->idx);
}

static void worker_process(struct pool *p, int idx, pid_t parent)
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
static bool wait_idle(struct pool *p, unsigned int skip)
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
 * epoll_wait(), so that is the order in which they went to sleep too.
 * Returns 0, or -errno of the first failing step.
 */
static int pool_start(struct pool *p, const struct pool_opts *o)
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

	for (i = 0; !o->uring && i < (o->threads ? 1 : NR_WORKERS); i++) {
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
static bool pool_join(struct pool *p)
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

static bool pool_stop(struct pool *p)
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

static void pool_destroy(struct pool *p)
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
static bool wait_stopped(pid_t pid)
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
static int connect_client(unsigned short port)
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
static int read_worker(int fd)
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
static int connect_once(unsigned short port)
{
	return read_worker(connect_client(port));
}

/* Signal the eventfd, read the index of the worker that took it, or -1. */
static int signal_once(struct pool *p)
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
static int sequential(struct pool *p, int n, unsigned int skip, int *order,
		      int *count)
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
			ksft_print_msg("event %d: not served\n", i);
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
static int rotation_break(const int *order, int n, unsigned int set)
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
static const char *fmt_order(const int *order, int n)
{
	static char buf[NR_EVENTS + 1];
	int i;

	for (i = 0; i < n && i < NR_EVENTS; i++)
		buf[i] = order[i] < 0 ? '?' : '0' + order[i];
	buf[i] = '\0';
	return buf;
}

static double jain_index(const int *x, int n)
{
	double sum = 0, sq = 0;
	int i;

	for (i = 0; i < n; i++) {
		sum += x[i];
		sq += (double)x[i] * x[i];
	}
	return sq ? sum * sum / (n * sq) : 0;
}

static void report(const char *variant, const char *test, const int *x)
{
	char buf[128];
	int i, len = 0;

	for (i = 0; i < NR_WORKERS; i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %d", x[i]);
	ksft_print_msg("distribution %s %s:%s jain=%.3f\n",
		       variant, test, buf, jain_index(x, NR_WORKERS));
}

/*
 * Flag validation: EPOLLROUNDROBIN follows EPOLLEXCLUSIVE's rules, checked
 * in the one function that epoll_ctl() and IORING_OP_EPOLL_CTL share.
 */

/* An epoll instance, and how to add items to it. */
struct ctl_path {
	int epfd;
	struct ring ring;	/* fd < 0: use epoll_ctl() */
};

FIXTURE(flags) {
	struct ctl_path ep;
	int fd;
};

FIXTURE_VARIANT(flags) {
	bool io_uring;
};

FIXTURE_VARIANT_ADD(flags, epoll_ctl) {
	.io_uring = false,
};

FIXTURE_VARIANT_ADD(flags, io_uring) {
	.io_uring = true,
};

/* EPOLL_CTL_@op of @fd in @ep: 0 or -errno. */
static int ctl(struct __test_metadata *_metadata, struct ctl_path *ep,
	       int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int ret;

	if (ep->ring.fd < 0)
		return epoll_ctl(ep->epfd, op, fd, &ev) ? -errno : 0;
	ret = ring_epoll_ctl(&ep->ring, ep->epfd, op, fd, &ev);
	ASSERT_NE(RING_FAILED, ret) TH_LOG("io_uring_enter: %s",
					   strerror(errno));
	return ret;
}

FIXTURE_SETUP(flags)
{
	int ret;

	self->ep.ring.fd = -1;
	self->ep.epfd = epoll_create1(EPOLL_CLOEXEC);
	self->fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(self->ep.epfd, 0);
	ASSERT_GE(self->fd, 0);
	if (variant->io_uring) {
		/*
		 * Not built in, disabled (io_uring_disabled, seccomp, an LSM)
		 * or out of locked memory: nothing to test.  EINVAL or EFAULT
		 * would be a bug here.
		 */
		ret = ring_init(&self->ep.ring);
		if (ret && ret != -EINVAL && ret != -EFAULT)
			SKIP(return, "io_uring unavailable: %s", strerror(-ret));
		ASSERT_EQ(0, ret) TH_LOG("io_uring_setup: %s", strerror(-ret));
		ret = ring_supports(&self->ep.ring, IORING_OP_EPOLL_CTL);
		ASSERT_LE(0, ret) TH_LOG("IORING_REGISTER_PROBE: %s",
					 strerror(-ret));
		if (!ret)
			SKIP(return, "io_uring lacks IORING_OP_EPOLL_CTL");
	}
	/* The path works, so an EINVAL below comes from the flags. */
	ASSERT_EQ(0, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, self->fd,
			 EPOLLIN));
	ASSERT_EQ(0, ctl(_metadata, &self->ep, EPOLL_CTL_DEL, self->fd, 0));
}

FIXTURE_TEARDOWN(flags)
{
	if (self->ep.ring.fd >= 0)
		ring_exit(&self->ep.ring);
	close(self->fd);
	close(self->ep.epfd);
}

TEST_F(flags, accepted_with_exclusive)
{
	unsigned short port;
	int sfd;

	if (!need_roundrobin(_metadata))
		return;
	EXPECT_EQ(0, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, self->fd,
			 EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	sfd = listen_socket(&port);
	ASSERT_GE(sfd, 0);
	EXPECT_EQ(0, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, sfd, EPOLLIN |
			 EPOLLET | EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	EXPECT_EQ(0, ctl(_metadata, &self->ep, EPOLL_CTL_DEL, sfd, 0));
	EXPECT_EQ(0, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, sfd, EPOLLIN |
			 EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	close(sfd);
}

TEST_F(flags, rejected_without_exclusive)
{
	if (!need_roundrobin(_metadata))
		return;
	EXPECT_EQ(-EINVAL, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, self->fd,
			       EPOLLROUNDROBIN));
	EXPECT_EQ(-EINVAL, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, self->fd,
			       EPOLLIN | EPOLLROUNDROBIN));
	EXPECT_EQ(-EINVAL, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, self->fd,
			       EPOLLIN | EPOLLET | EPOLLROUNDROBIN));
}

TEST_F(flags, rejected_on_mod)
{
	if (!need_roundrobin(_metadata))
		return;
	ASSERT_EQ(0, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, self->fd,
			 EPOLLIN));
	EXPECT_EQ(-EINVAL, ctl(_metadata, &self->ep, EPOLL_CTL_MOD, self->fd,
			       EPOLLIN | EPOLLROUNDROBIN));
	EXPECT_EQ(-EINVAL, ctl(_metadata, &self->ep, EPOLL_CTL_MOD, self->fd,
			       EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	ASSERT_EQ(0, ctl(_metadata, &self->ep, EPOLL_CTL_DEL, self->fd, 0));

	/* A round-robin item cannot be modified, like an exclusive one. */
	ASSERT_EQ(0, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, self->fd,
			 EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	EXPECT_EQ(-EINVAL, ctl(_metadata, &self->ep, EPOLL_CTL_MOD, self->fd,
			       EPOLLIN));
}

/* These two hold on kernels without the flag as well. */
TEST_F(flags, rejected_on_epoll_target)
{
	int inner = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_GE(inner, 0);
	EXPECT_EQ(-EINVAL, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, inner,
			       EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	close(inner);
}

TEST_F(flags, rejected_with_oneshot)
{
	EXPECT_EQ(-EINVAL, ctl(_metadata, &self->ep, EPOLL_CTL_ADD, self->fd,
			       EPOLLIN | EPOLLONESHOT | EPOLLEXCLUSIVE |
			       EPOLLROUNDROBIN));
}

/*
 * Every bit but EPOLL_CLOEXEC and EPOLL_WAKE_FIFO stays invalid, alone and
 * next to EPOLL_CLOEXEC.  Holds on kernels without EPOLL_WAKE_FIFO too.
 */
TEST(create1_rejects_unknown_flags)
{
	unsigned int known = EPOLL_CLOEXEC | EPOLL_WAKE_FIFO, flags;
	int fd, i, j;

	for (i = 0; i < 32; i++) {
		if (known & (1U << i))
			continue;
		for (j = 0; j < 2; j++) {
			flags = (1U << i) | (j ? EPOLL_CLOEXEC : 0);
			errno = 0;
			fd = epoll_create1((int)flags);
			EXPECT_EQ(-1, fd) TH_LOG("flags %#x", flags);
			EXPECT_EQ(EINVAL, errno) TH_LOG("flags %#x", flags);
			if (fd >= 0)
				close(fd);
		}
	}
}

TEST(wake_fifo_create_flags)
{
	int fd;

	if (!need_wake_fifo(_metadata))
		return;
	fd = epoll_create1(EPOLL_WAKE_FIFO | EPOLL_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = epoll_create1(EPOLL_WAKE_FIFO);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

/*
 * Accepts among four workers on one listening socket: processes with an
 * epoll instance each (level-triggered, as nginx does), or threads sharing
 * one instance.  Those use EPOLLET, as threads sharing an instance should:
 * a level-triggered event is passed on to one more waiter after it is
 * reported (ep_done_scan()), so two threads would race for every
 * connection, whatever order they were woken in.
 *
 * threads_fifo registers the socket as threads_exclusive does, with
 * EPOLLEXCLUSIVE, on an instance created with EPOLL_WAKE_FIFO: the two
 * differ only in that flag.  EPOLLEXCLUSIVE changes nothing for them, the
 * instance being the socket's only waiter; EPOLL_WAKE_FIFO with a plain
 * item is wake_fifo_order below.
 */

FIXTURE(accept) {
	struct pool pool;
};

FIXTURE_VARIANT(accept) {
	const char *name;	/* for the "# distribution" lines */
	bool threads;
	bool roundrobin;	/* EPOLLROUNDROBIN, IORING_ACCEPT_ROUNDROBIN */
	bool fifo;		/* the instance has EPOLL_WAKE_FIFO */
	unsigned int uring;	/* a ring per process: its accept's flags */
};

FIXTURE_VARIANT_ADD(accept, procs_exclusive) {
	.name = "procs_exclusive",
	.threads = false,
};

FIXTURE_VARIANT_ADD(accept, procs_roundrobin) {
	.name = "procs_roundrobin",
	.threads = false,
	.roundrobin = true,
};

FIXTURE_VARIANT_ADD(accept, threads_exclusive) {
	.name = "threads_exclusive",
	.threads = true,
};

FIXTURE_VARIANT_ADD(accept, threads_fifo) {
	.name = "threads_fifo",
	.threads = true,
	.fifo = true,
};

FIXTURE_VARIANT_ADD(accept, uring_multishot) {
	.name = "uring_multishot",
	.uring = IORING_ACCEPT_MULTISHOT,
};

FIXTURE_VARIANT_ADD(accept, uring_multishot_roundrobin) {
	.name = "uring_multishot_roundrobin",
	.roundrobin = true,
	.uring = ACCEPT_RR,
};

FIXTURE_SETUP(accept)
{
	struct pool_opts o = {
		.threads = variant->threads,
		.events = EPOLLIN | EPOLLEXCLUSIVE,
	};
	int ret;

	pool_init(&self->pool);
	if (variant->uring) {
		if (!need_uring_accept(_metadata, variant->uring))
			return;
		o.uring = variant->uring;
	} else if (variant->roundrobin) {
		if (!need_roundrobin(_metadata))
			return;
		o.events |= EPOLLROUNDROBIN;
	}
	if (variant->fifo) {
		if (!need_wake_fifo(_metadata))
			return;
		o.create_flags = EPOLL_WAKE_FIFO;
	}
	if (!need_proc_syscall(_metadata, variant->threads))
		return;
	if (variant->threads)
		o.events |= EPOLLET;
	ret = pool_start(&self->pool, &o);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(accept)
{
	EXPECT_TRUE(pool_stop(&self->pool));
	pool_destroy(&self->pool);
}

/*
 * One connection at a time, each made while every worker sleeps in
 * epoll_wait().  Round-robin instances, and the threads of an
 * EPOLL_WAKE_FIFO instance, take them in strict rotation.  Plain
 * EPOLLEXCLUSIVE promises no order: only that none is lost.
 */
TEST_F_TIMEOUT(accept, sequential, 120)
{
	int count[NR_WORKERS] = { 0 }, order[NR_EVENTS];
	int i, n, bad;

	n = sequential(&self->pool, NR_EVENTS, 0, order, count);
	ASSERT_EQ(NR_EVENTS, n) TH_LOG("so far: %s", fmt_order(order, n));
	report(variant->name, "sequential", count);
	for (i = 0; i < NR_WORKERS; i++)
		EXPECT_EQ(count[i], served(&self->pool, i));
	if (!variant->roundrobin && !variant->fifo)
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

static void *client_thread(void *data)
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
 * NR_CLIENTS clients connect as fast as they can.  Every connection must be
 * accepted exactly once; with round-robin or FIFO every worker takes some.
 * How evenly depends on timing (a level-triggered worker that gets back to
 * epoll_wait() with connections pending takes one at once), so Jain's
 * index is reported, not checked; but for round-robin rings, where it must
 * be at least 0.95: a ring takes a wakeup only once it handled its last,
 * so the wakeups spread even though each may accept several connections.
 */
TEST_F_TIMEOUT(accept, concurrent, 120)
{
	struct client_arg args[NR_CLIENTS] = { 0 };
	int count[NR_WORKERS] = { 0 }, failed = 0, total = 0;
	pthread_t tid[NR_CLIENTS];
	int i, j;

	for (i = 0; i < NR_CLIENTS; i++) {
		args[i].port = self->pool.port;
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, client_thread,
					    &args[i]));
	}
	for (i = 0; i < NR_CLIENTS; i++) {
		pthread_join(tid[i], NULL);
		failed += args[i].failed;
		for (j = 0; j < NR_WORKERS; j++)
			count[j] += args[i].count[j];
	}
	report(variant->name, "concurrent", count);

	EXPECT_EQ(0, failed);
	for (j = 0; j < NR_WORKERS; j++) {
		EXPECT_EQ(count[j], served(&self->pool, j));
		total += count[j];
	}
	EXPECT_EQ(NR_CLIENTS * CONNS_PER_CLIENT, total);
	if (!variant->roundrobin && !variant->fifo)
		return;
	for (j = 0; j < NR_WORKERS; j++)
		EXPECT_LT(0, count[j]) TH_LOG("worker %d took none", j);
	if (variant->uring)
		EXPECT_LE(0.95, jain_index(count, NR_WORKERS));
}

/*
 * shutdown() of the listening socket is a wake-all: every instance must
 * see EPOLLHUP, none may hang.  Threads share one instance, whose
 * edge-triggered EPOLLHUP wakes one of them; the rest are stopped.
 */
TEST_F_TIMEOUT(accept, shutdown_wakes_all, 60)
{
	long long deadline = now_ms() + WAIT_MS;
	int i, hup = 0;

	ASSERT_EQ(0, shutdown(self->pool.target_fd, SHUT_RDWR));
	if (!variant->threads) {
		ASSERT_TRUE(pool_join(&self->pool));
		for (i = 0; i < NR_WORKERS; i++)
			EXPECT_EQ(1, self->pool.st->hup[i]) TH_LOG("worker %d", i);
		return;
	}
	while (!hup && now_ms() < deadline) {
		usleep(1000);
		for (i = 0; i < NR_WORKERS; i++)
			hup += __atomic_load_n(&self->pool.st->hup[i],
					       __ATOMIC_RELAXED);
	}
	EXPECT_GE(hup, 1) TH_LOG("no thread saw EPOLLHUP");
}

/* Tests that start their own workers; the teardown stops them. */

FIXTURE(workers) {
	struct pool pool;
};

FIXTURE_SETUP(workers)
{
	pool_init(&self->pool);
}

FIXTURE_TEARDOWN(workers)
{
	EXPECT_TRUE(pool_stop(&self->pool));
	pool_destroy(&self->pool);
}

static const struct pool_opts procs_roundrobin = {
	.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN,
};

/*
 * A worker that is not in epoll_wait() (stopped here) is skipped without
 * losing a connection, keeps its place, and is first again once it waits.
 */
TEST_F_TIMEOUT(workers, busy_worker_skipped, 60)
{
	int count[NR_WORKERS] = { 0 }, order[NR_EVENTS];
	struct pool *p = &self->pool;
	int n, ret;

	if (!need_roundrobin(_metadata) || !need_proc_syscall(_metadata, false))
		return;
	ret = pool_start(p, &procs_roundrobin);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));

	ASSERT_EQ(0, kill(p->pid[0], SIGSTOP));
	ASSERT_TRUE(wait_stopped(p->pid[0]));
	n = sequential(p, (NR_WORKERS - 1) * ROUNDS, 1U << 0, order, count);
	ASSERT_EQ((NR_WORKERS - 1) * ROUNDS, n);
	report("procs_roundrobin", "worker0_stopped", count);
	EXPECT_EQ(0, count[0]);
	EXPECT_EQ(-1, rotation_break(order, n, ALL_WORKERS & ~1U))
		TH_LOG("%s", fmt_order(order, n));

	ASSERT_EQ(0, kill(p->pid[0], SIGCONT));
	n = sequential(p, NR_WORKERS, 0, order, count);
	ASSERT_EQ(NR_WORKERS, n);
	EXPECT_EQ(0, order[0]) TH_LOG("worker 0 lost its place");
	EXPECT_EQ(-1, rotation_break(order, n, ALL_WORKERS))
		TH_LOG("%s", fmt_order(order, n));
}

/*
 * A round-robin worker leaves while the others sleep: the one whose turn
 * is next, by EPOLL_CTL_DEL of its item (it goes on sleeping on its
 * instance), or by exiting, which closes the last reference of its
 * instance.  The others rotate strictly among themselves, in the order
 * they had, and nothing is lost.
 */
static void leave_rotation(struct __test_metadata *_metadata, struct pool *p,
			   bool close_instance)
{
	int count[NR_WORKERS] = { 0 }, order[NR_EVENTS];
	int n, ret, victim, next, before;

	if (!need_roundrobin(_metadata) || !need_proc_syscall(_metadata, false))
		return;
	ret = pool_start(p, &procs_roundrobin);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));

	n = sequential(p, NR_WORKERS + 2, 0, order, count);
	ASSERT_EQ(NR_WORKERS + 2, n);
	ASSERT_EQ(-1, rotation_break(order, n, ALL_WORKERS))
		TH_LOG("%s", fmt_order(order, n));
	victim = order[2];
	next = order[3];
	before = served(p, victim);

	if (close_instance) {
		ASSERT_EQ(0, close(p->epfd[victim]));
		p->epfd[victim] = -1;
		ASSERT_EQ(0, kill(p->pid[victim], SIGKILL));
		ASSERT_EQ(p->pid[victim], waitpid(p->pid[victim], NULL, 0));
		p->pid[victim] = 0;
	} else {
		ASSERT_EQ(0, epoll_ctl(p->epfd[victim], EPOLL_CTL_DEL,
				       p->target_fd, NULL));
	}

	memset(count, 0, sizeof(count));
	n = sequential(p, (NR_WORKERS - 1) * ROUNDS, 1U << victim, order,
		       count);
	ASSERT_EQ((NR_WORKERS - 1) * ROUNDS, n);
	report("procs_roundrobin",
	       close_instance ? "instance_closed" : "item_deleted", count);
	EXPECT_EQ(0, count[victim]);
	EXPECT_EQ(before, served(p, victim));
	EXPECT_EQ(next, order[0]) TH_LOG("%s", fmt_order(order, n));
	EXPECT_EQ(-1, rotation_break(order, n, ALL_WORKERS & ~(1U << victim)))
		TH_LOG("%s", fmt_order(order, n));
}

TEST_F_TIMEOUT(workers, ctl_del_leaves_rotation, 60)
{
	leave_rotation(_metadata, &self->pool, false);
}

TEST_F_TIMEOUT(workers, close_leaves_rotation, 60)
{
	leave_rotation(_metadata, &self->pool, true);
}

/*
 * The caveat: a plain EPOLLEXCLUSIVE waiter on the same socket (worker 0,
 * registered first) is not rotated and may take every connection while it
 * waits.  While it does not wait (stopped), the round-robin waiters rotate
 * strictly.  While it waits, only that nothing is lost is checked.
 */
TEST_F_TIMEOUT(workers, mixed_with_plain_exclusive, 60)
{
	int count[NR_WORKERS] = { 0 }, total[NR_WORKERS] = { 0 };
	struct pool_opts o = procs_roundrobin;
	struct pool *p = &self->pool;
	int order[NR_EVENTS];
	int i, n, ret;

	if (!need_roundrobin(_metadata) || !need_proc_syscall(_metadata, false))
		return;
	o.events0 = EPOLLIN | EPOLLEXCLUSIVE;
	ret = pool_start(p, &o);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));

	ASSERT_EQ(0, kill(p->pid[0], SIGSTOP));
	ASSERT_TRUE(wait_stopped(p->pid[0]));
	n = sequential(p, (NR_WORKERS - 1) * ROUNDS, 1U << 0, order, count);
	ASSERT_EQ((NR_WORKERS - 1) * ROUNDS, n);
	report("procs_mixed", "plain_stopped", count);
	EXPECT_EQ(0, count[0]);
	EXPECT_EQ(-1, rotation_break(order, n, ALL_WORKERS & ~1U))
		TH_LOG("%s", fmt_order(order, n));

	for (i = 0; i < NR_WORKERS; i++) {
		total[i] = count[i];
		count[i] = 0;
	}
	ASSERT_EQ(0, kill(p->pid[0], SIGCONT));
	n = sequential(p, NR_EVENTS, 0, order, count);
	ASSERT_EQ(NR_EVENTS, n);
	report("procs_mixed", "plain_waiting", count);
	for (i = 0; i < NR_WORKERS; i++)
		EXPECT_EQ(total[i] + count[i], served(p, i));
}

/*
 * Round-robin on a file other than a socket: an eventfd that each worker
 * process's instance holds.  Each signal, made while all sleep, goes to the
 * next worker.
 */
TEST_F_TIMEOUT(workers, eventfd_rotates, 60)
{
	int count[NR_WORKERS] = { 0 }, order[NR_EVENTS];
	struct pool_opts o = procs_roundrobin;
	struct pool *p = &self->pool;
	int i, n, ret;

	if (!need_roundrobin(_metadata) || !need_proc_syscall(_metadata, false))
		return;
	o.eventfd = true;
	ret = pool_start(p, &o);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));

	n = sequential(p, NR_EVENTS, 0, order, count);
	ASSERT_EQ(NR_EVENTS, n) TH_LOG("so far: %s", fmt_order(order, n));
	for (i = 0; i < NR_WORKERS; i++)
		EXPECT_EQ(count[i], served(p, i));
	EXPECT_EQ(-1, rotation_break(order, n, ALL_WORKERS))
		TH_LOG("%s", fmt_order(order, n));
}

/*
 * EPOLL_WAKE_FIFO with a plain item (an eventfd, edge-triggered, neither
 * exclusive nor round-robin): the threads sleeping on the instance are
 * woken in the order they went to sleep, 0 to 3, and each goes to the back
 * of the line when it sleeps again.
 */
TEST_F_TIMEOUT(workers, wake_fifo_order, 60)
{
	struct pool_opts o = {
		.threads = true,
		.eventfd = true,
		.create_flags = EPOLL_WAKE_FIFO,
		.events = EPOLLIN | EPOLLET,
	};
	int count[NR_WORKERS] = { 0 }, order[NR_EVENTS];
	struct pool *p = &self->pool;
	int i, n, ret;

	if (!need_wake_fifo(_metadata) || !need_proc_syscall(_metadata, true))
		return;
	ret = pool_start(p, &o);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));

	n = sequential(p, NR_EVENTS, 0, order, count);
	ASSERT_EQ(NR_EVENTS, n) TH_LOG("so far: %s", fmt_order(order, n));
	for (i = 0; i < n; i++)
		if (order[i] != i % NR_WORKERS)
			break;
	EXPECT_EQ(n, i) TH_LOG("not 0123... from signal %d: %s", i,
			       fmt_order(order, n));
}

/*
 * Closing the last reference of a listening socket while round-robin
 * waiters sleep must unlink their entries and return; the waiters stay
 * usable and the port is gone.  Threads: then the workers hold no other
 * reference to the socket.
 */
TEST_F_TIMEOUT(workers, close_with_waiters, 60)
{
	struct pool_opts o = {
		.threads = true,
		.events = EPOLLIN | EPOLLET | EPOLLEXCLUSIVE | EPOLLROUNDROBIN,
	};
	struct pool *p = &self->pool;
	long long start;
	int ret;

	if (!need_roundrobin(_metadata) || !need_proc_syscall(_metadata, true))
		return;
	ret = pool_start(p, &o);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));

	start = now_ms();
	ASSERT_EQ(0, close(p->target_fd));
	p->target_fd = -1;
	EXPECT_LT(now_ms() - start, 1000);
	EXPECT_EQ(-1, connect_once(p->port));
	EXPECT_TRUE(wait_idle(p, 0));
}

/*
 * Start ring workers with @o; false if the test was skipped (no io_uring,
 * no accept flags @o->uring, no setup flags @o->setup, no
 * /proc/<pid>/syscall).
 */
static bool uring_pool_start(struct __test_metadata *_metadata,
			     struct pool *p, const struct pool_opts *o)
{
	struct ring r;
	int ret;

	if (!need_uring_accept(_metadata, o->uring) ||
	    !need_proc_syscall(_metadata, false))
		return false;
	if (o->setup) {
		ret = ring_init_flags(&r, o->setup);
		if (ret == -EINVAL)
			SKIP(return false, "io_uring lacks IORING_SETUP_* 0x%x",
			     o->setup);
		ASSERT_EQ(0, ret);
		ring_exit(&r);
	}
	ret = pool_start(p, o);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));
	return true;
}

/*
 * Start ring workers whose accepts have @flags, stop worker 0, whose ring
 * is first on the socket's queue, and make the connection that its ring
 * takes: returns it, or -1 if the test was skipped.
 */
static int uring_stop_first_ring(struct __test_metadata *_metadata,
				 struct pool *p, unsigned int flags)
{
	const struct pool_opts o = { .uring = flags };
	int held;

	if (!uring_pool_start(_metadata, p, &o))
		return -1;
	ASSERT_EQ(0, kill(p->pid[0], SIGSTOP));
	ASSERT_TRUE(wait_stopped(p->pid[0]));
	held = connect_client(p->port);
	ASSERT_LE(0, held);
	return held;
}

/*
 * Ring 0 took the wakeup of connection @held and cannot handle it: the
 * other rings take the next sequential connections in strict rotation
 * (reported as test @test), one of them @held too, and ring 0 has served
 * @served0 connections in all.
 */
static void others_take_over(struct __test_metadata *_metadata,
			     struct pool *p, int held, const char *test,
			     int served0)
{
	int count[NR_WORKERS] = { 0 }, order[NR_EVENTS];
	int n, id;

	n = sequential(p, (NR_WORKERS - 1) * ROUNDS, 1U << 0, order, count);
	ASSERT_EQ((NR_WORKERS - 1) * ROUNDS, n)
		TH_LOG("so far: %s", fmt_order(order, n));
	report("uring_multishot_roundrobin", test, count);
	EXPECT_EQ(0, count[0]);
	EXPECT_EQ(-1, rotation_break(order, n, ALL_WORKERS & ~1U))
		TH_LOG("%s", fmt_order(order, n));
	id = read_worker(held);
	EXPECT_LT(0, id) TH_LOG("the held connection: %d", id);
	EXPECT_EQ(served0, served(p, 0));
}

/* Ring 0 runs again: it kept its place, first, and all rotate. */
static void first_again(struct __test_metadata *_metadata, struct pool *p)
{
	int count[NR_WORKERS] = { 0 }, order[NR_WORKERS];
	int n;

	n = sequential(p, NR_WORKERS, 0, order, count);
	ASSERT_EQ(NR_WORKERS, n);
	EXPECT_EQ(0, order[0]) TH_LOG("worker 0 lost its place");
	EXPECT_EQ(-1, rotation_break(order, n, ALL_WORKERS))
		TH_LOG("%s", fmt_order(order, n));
}

/*
 * IORING_ACCEPT_ROUNDROBIN: a ring whose process is stopped still takes
 * the first wakeup that reaches it (its task work cannot run, and the
 * connection waits in the queue), then goes behind the others and is
 * passed over while that wakeup is pending: the others rotate strictly,
 * the held connection is accepted by the next ring woken, nothing is
 * lost, and the stopped ring, never rotated since, is first once it runs.
 */
TEST_F_TIMEOUT(workers, uring_stopped_ring_skipped, 60)
{
	struct pool *p = &self->pool;
	int held;

	held = uring_stop_first_ring(_metadata, p, ACCEPT_RR);
	if (held < 0)
		return;
	others_take_over(_metadata, p, held, "worker0_stopped", 0);
	ASSERT_EQ(0, kill(p->pid[0], SIGCONT));
	first_again(_metadata, p);
}

/*
 * The same with a ring that stops reaping its CQEs: with
 * IORING_SETUP_DEFER_TASKRUN its task work runs only when its task waits
 * in io_uring_enter(), so a worker busy elsewhere takes the one wakeup of
 * its next turn, which it cannot handle, and is passed over after that.
 */
TEST_F_TIMEOUT(workers, uring_busy_ring_skipped, 60)
{
	const struct pool_opts o = {
		.uring = ACCEPT_RR,
		.setup = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	};
	int count[NR_WORKERS] = { 0 }, order[NR_EVENTS];
	long long deadline = now_ms() + WAIT_MS;
	struct pool *p = &self->pool;
	int n, held;

	if (!uring_pool_start(_metadata, p, &o))
		return;
	/* Worker 0 serves one connection, then stops reaping. */
	__atomic_store_n(&p->st->busy[0], 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, connect_once(p->port));
	while (!__atomic_load_n(&p->st->resting[0], __ATOMIC_ACQUIRE))
		ASSERT_GT(deadline, now_ms()) TH_LOG("worker 0 not resting");
	/* Rings 1 to 3 take their turns; ring 0's turn is this one. */
	n = sequential(p, NR_WORKERS - 1, 1U << 0, order, count);
	ASSERT_EQ(NR_WORKERS - 1, n);
	held = connect_client(p->port);
	ASSERT_LE(0, held);
	others_take_over(_metadata, p, held, "worker0_busy", 1);
	__atomic_store_n(&p->st->busy[0], 0, __ATOMIC_RELEASE);
	first_again(_metadata, p);
}

/*
 * The same without IORING_ACCEPT_ROUNDROBIN: how long a connection made
 * after the one the stopped ring took waits is reported, not checked (it
 * waits for that ring: every wakeup still ends at its entry); only that
 * nothing is lost once the ring runs again.
 */
TEST_F_TIMEOUT(workers, uring_plain_stopped_ring, 60)
{
	struct pollfd pfd = { .events = POLLIN };
	struct pool *p = &self->pool;
	int ret, held;

	held = uring_stop_first_ring(_metadata, p, IORING_ACCEPT_MULTISHOT);
	if (held < 0)
		return;
	ASSERT_TRUE(wait_idle(p, 1U << 0));
	pfd.fd = connect_client(p->port);
	ASSERT_LE(0, pfd.fd);
	ret = poll(&pfd, 1, 1000);
	ksft_print_msg("uring_multishot worker0_stopped: the next connection %s\n",
		       ret == 1 ? "was served at once" :
		       "was not served within 1 s, until worker 0 ran again");
	ASSERT_EQ(0, kill(p->pid[0], SIGCONT));
	EXPECT_LE(0, read_worker(pfd.fd));
	EXPECT_LE(0, read_worker(held));
}

/*
 * Multishot accepts of NR_WORKERS rings in this process on one listening
 * socket, with or without IORING_ACCEPT_ROUNDROBIN.  No process waits:
 * a ring's accept runs in this task's task work, which runs while it
 * polls the rings, so the ring that takes a wakeup is the one whose CQE
 * comes.  Removing one ring's accept (cancelled, the ring closed) leaves
 * the others rotating, and shutdown() of the socket ends every accept.
 */
FIXTURE(rings) {
	struct ring ring[NR_WORKERS];
	int fd;
	unsigned short port;
};

FIXTURE_VARIANT(rings) {
	unsigned int flags;
};

FIXTURE_VARIANT_ADD(rings, multishot) {
	.flags = IORING_ACCEPT_MULTISHOT,
};

FIXTURE_VARIANT_ADD(rings, roundrobin) {
	.flags = ACCEPT_RR,
};

FIXTURE_SETUP(rings)
{
	int i;

	self->fd = -1;
	for (i = 0; i < NR_WORKERS; i++)
		self->ring[i].fd = -1;
	if (!need_uring_accept(_metadata, variant->flags))
		return;
	self->fd = listen_socket(&self->port);
	ASSERT_LE(0, self->fd);
	for (i = 0; i < NR_WORKERS; i++) {
		ASSERT_EQ(0, ring_init(&self->ring[i]));
		ring_accept(&self->ring[i], self->fd, variant->flags, UD_ACCEPT);
		ASSERT_EQ(0, ring_submit(&self->ring[i]));
	}
}

FIXTURE_TEARDOWN(rings)
{
	int i;

	for (i = 0; i < NR_WORKERS; i++)
		if (self->ring[i].fd >= 0)
			ring_exit(&self->ring[i]);
	if (self->fd >= 0)
		close(self->fd);
}

/* The next CQE of any open ring, within WAIT_MS: the ring's index, or -1. */
static int rings_wait(struct ring *ring, struct io_uring_cqe *cqe)
{
	long long deadline = now_ms() + WAIT_MS;
	struct pollfd pfd[NR_WORKERS];
	int i;

	for (;;) {
		for (i = 0; i < NR_WORKERS; i++) {
			if (ring[i].fd >= 0 && ring_reap(&ring[i], cqe))
				return i;
			pfd[i] = (struct pollfd){ .fd = ring[i].fd,
						  .events = POLLIN };
		}
		if (now_ms() > deadline)
			return -1;
		poll(pfd, NR_WORKERS, 100);
	}
}

/*
 * @n connections, one at a time: order[i] is the ring that accepted the
 * i-th.  Returns the number accepted, each with IORING_CQE_F_MORE.
 */
static int ring_connections(struct __test_metadata *_metadata,
			    struct ring *ring, unsigned short port, int n,
			    int *order)
{
	struct io_uring_cqe cqe;
	int i, c, r;

	for (i = 0; i < n; i++) {
		c = connect_client(port);
		ASSERT_LE(0, c) TH_LOG("connection %d: %s", i, strerror(errno));
		r = rings_wait(ring, &cqe);
		close(c);
		order[i] = r;
		if (r < 0 || cqe.res < 0 || !(cqe.flags & IORING_CQE_F_MORE)) {
			ksft_print_msg("connection %d: ring %d, res %d, flags 0x%x\n",
				       i, r, r < 0 ? 0 : cqe.res,
				       r < 0 ? 0 : cqe.flags);
			break;
		}
		close(cqe.res);
	}
	return i;
}

TEST_F_TIMEOUT(rings, sequential, 60)
{
	int order[NR_EVENTS], n;

	n = ring_connections(_metadata, self->ring, self->port, NR_EVENTS,
			     order);
	ASSERT_EQ(NR_EVENTS, n) TH_LOG("so far: %s", fmt_order(order, n));
	if (variant->flags & IORING_ACCEPT_ROUNDROBIN)
		EXPECT_EQ(-1, rotation_break(order, n, ALL_WORKERS))
			TH_LOG("%s", fmt_order(order, n));
}

/*
 * A ring leaves, its accept queued: cancelled through
 * IORING_OP_ASYNC_CANCEL, or the ring closed.  Nothing hangs, and the
 * others take every connection, in rotation with round-robin.
 */
static void ring_leaves(struct __test_metadata *_metadata, struct ring *ring,
			unsigned short port, bool cancel, bool roundrobin)
{
	const int victim = 1, n = (NR_WORKERS - 1) * ROUNDS;
	struct ring *r = &ring[victim];
	struct io_uring_cqe cqe;
	int order[NR_EVENTS], i, got;

	if (cancel) {
		ring_sqe(r, IORING_OP_ASYNC_CANCEL, -1, UD_STOP)->addr =
			UD_ACCEPT;
		ASSERT_EQ(0, ring_submit(r));
		for (i = 0, got = 0; i < 2; i++) {
			ASSERT_EQ(victim, rings_wait(ring, &cqe));
			if (cqe.user_data == UD_ACCEPT) {
				EXPECT_EQ(-ECANCELED, cqe.res);
				EXPECT_FALSE(cqe.flags & IORING_CQE_F_MORE);
			} else {
				EXPECT_EQ(0, cqe.res) TH_LOG("the cancel");
			}
			got |= 1 << (cqe.user_data == UD_ACCEPT);
		}
		EXPECT_EQ(3, got);
	} else {
		ring_exit(r);
	}

	got = ring_connections(_metadata, ring, port, n, order);
	ASSERT_EQ(n, got) TH_LOG("so far: %s", fmt_order(order, got));
	for (i = 0; i < n; i++)
		ASSERT_NE(victim, order[i]) TH_LOG("%s", fmt_order(order, n));
	if (roundrobin)
		EXPECT_EQ(-1, rotation_break(order, n,
					     ALL_WORKERS & ~(1U << victim)))
			TH_LOG("%s", fmt_order(order, n));
}

TEST_F_TIMEOUT(rings, cancel_leaves_rotation, 60)
{
	ring_leaves(_metadata, self->ring, self->port, true,
		    variant->flags & IORING_ACCEPT_ROUNDROBIN);
}

TEST_F_TIMEOUT(rings, exit_leaves_rotation, 60)
{
	ring_leaves(_metadata, self->ring, self->port, false,
		    variant->flags & IORING_ACCEPT_ROUNDROBIN);
}

/* shutdown() is a wake-all: every ring's accept ends, with an error. */
TEST_F_TIMEOUT(rings, shutdown_ends_all, 60)
{
	struct io_uring_cqe cqe;
	unsigned int ended = 0;
	int i, r;

	ASSERT_EQ(0, shutdown(self->fd, SHUT_RDWR));
	for (i = 0; i < NR_WORKERS; i++) {
		r = rings_wait(self->ring, &cqe);
		ASSERT_LE(0, r) TH_LOG("rings ended: 0x%x", ended);
		EXPECT_GT(0, cqe.res);
		EXPECT_FALSE(cqe.flags & IORING_CQE_F_MORE);
		EXPECT_FALSE(ended & (1U << r)) TH_LOG("ring %d twice", r);
		ended |= 1U << r;
	}
	EXPECT_EQ(ALL_WORKERS, ended);
}

/*
 * IORING_ACCEPT_ROUNDROBIN asks for an entry that stays queued: it is
 * refused with a single-shot accept, whose entry leaves the queue when it
 * is woken and already takes turns.
 */
TEST(uring_roundrobin_needs_multishot)
{
	struct ring r;

	if (!need_uring_accept(_metadata, ACCEPT_RR))
		return;
	ASSERT_EQ(0, ring_init(&r));
	ring_accept(&r, -1, IORING_ACCEPT_ROUNDROBIN, 0);
	EXPECT_EQ(-EINVAL, ring_run(&r));
	ring_accept(&r, -1, ACCEPT_RR, 0);
	EXPECT_EQ(-EBADF, ring_run(&r));
	ring_exit(&r);
}

TEST_HARNESS_MAIN

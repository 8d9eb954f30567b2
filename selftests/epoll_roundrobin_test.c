// SPDX-License-Identifier: GPL-2.0
/*
 * EPOLLROUNDROBIN: exclusive wakeups that rotate among the waiters of one
 * listening socket, for worker processes with one epoll instance each and
 * for threads that share one instance.
 *
 * Tests that need the flag SKIP on kernels that lack it (they reject
 * EPOLLEXCLUSIVE | EPOLLROUNDROBIN with EINVAL).  The "exclusive" variants
 * run everywhere and check that plain EPOLLEXCLUSIVE keeps its skew.
 *
 * Lines starting with "# distribution" report the accepts per worker, for
 * tools that compare kernels.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
#define EPOLLROUNDROBIN 0x04000000U	/* bit 26, linux/eventpoll.h */
#endif

#define NR_WORKERS	4
#define ROUNDS		10		/* sequential connections per worker */
#define NR_CLIENTS	2
#define CONNS_PER_CLIENT 200
#define MIN_JAIN	0.95
#define WAIT_MS		10000		/* bound on any single wait */

/* Shared with worker processes through a MAP_SHARED mapping. */
struct worker_state {
	pid_t tid[NR_WORKERS];
	int accepted[NR_WORKERS];
	int hup[NR_WORKERS];
};

struct pool {
	bool threads;
	int nr;
	uint32_t events;		/* of the listening socket's item */
	int listen_fd;
	unsigned short port;
	int stop_fd;			/* eventfd: readable means "exit" */
	int epfd[NR_WORKERS];		/* threads share epfd[0] */
	pid_t pid[NR_WORKERS];
	pthread_t thread[NR_WORKERS];
	struct worker_state *st;
};

struct worker_arg {
	struct pool *pool;
	int idx;
};

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

static int ep_mod(int epfd, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

/* Kernels without EPOLLROUNDROBIN reject it next to EPOLLEXCLUSIVE. */
static bool have_roundrobin(void)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int efd = eventfd(0, EFD_CLOEXEC);
	bool ok = epfd >= 0 && efd >= 0 &&
		  !ep_add(epfd, efd, EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN);

	close(efd);
	close(epfd);
	return ok;
}

/*
 * Accept one connection per wakeup, or all pending ones when the item is
 * edge-triggered, and answer each with the worker's index.
 */
static int worker_loop(struct pool *p, int idx)
{
	int epfd = p->threads ? p->epfd[0] : p->epfd[idx];
	struct epoll_event ev;
	uint8_t id = idx;
	int n, c;

	p->st->tid[idx] = syscall(SYS_gettid);
	for (;;) {
		n = epoll_wait(epfd, &ev, 1, 6 * WAIT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 1;
		if (ev.data.fd == p->stop_fd)
			return 0;
		if (ev.events & (EPOLLHUP | EPOLLERR)) {
			p->st->hup[idx] = 1;
			return 0;
		}
		do {
			c = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0 && errno == EAGAIN)
				break;
			if (c < 0)
				return 1;
			__atomic_add_fetch(&p->st->accepted[idx], 1,
					   __ATOMIC_RELAXED);
			if (write(c, &id, 1) != 1)
				return 1;
			close(c);
		} while (p->events & EPOLLET);
	}
}

static void *worker_thread(void *data)
{
	struct worker_arg *arg = data;

	return (void *)(long)worker_loop(arg->pool, arg->idx);
}

/*
 * Start nr workers on a new listening socket, registered with @events.
 * Registration order is worker order: the parent adds the socket to every
 * instance before any worker runs.  Returns 0, or -errno of the first
 * failing step (-EINVAL from EPOLL_CTL_ADD means unsupported flags).
 */
static int pool_start(struct pool *p, bool threads, int nr, uint32_t events)
{
	static struct worker_arg args[NR_WORKERS];
	int i, ret;

	memset(p, 0, sizeof(*p));
	p->threads = threads;
	p->nr = nr;
	p->events = events;
	p->st = mmap(NULL, sizeof(*p->st), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p->st == MAP_FAILED)
		return -errno;
	p->listen_fd = listen_socket(&p->port);
	p->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (p->listen_fd < 0 || p->stop_fd < 0)
		return -errno;

	for (i = 0; i < (threads ? 1 : nr); i++) {
		p->epfd[i] = epoll_create1(EPOLL_CLOEXEC);
		if (p->epfd[i] < 0)
			return -errno;
		ret = ep_add(p->epfd[i], p->listen_fd, events);
		if (!ret)
			ret = ep_add(p->epfd[i], p->stop_fd, EPOLLIN);
		if (ret)
			return ret;
	}

	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < nr; i++) {
		if (threads) {
			args[i] = (struct worker_arg){ .pool = p, .idx = i };
			ret = pthread_create(&p->thread[i], NULL,
					     worker_thread, &args[i]);
			if (ret)
				return -ret;
			continue;
		}
		p->pid[i] = fork();
		if (p->pid[i] < 0)
			return -errno;
		if (!p->pid[i]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(worker_loop(p, i));
		}
	}
	return 0;
}

/* Wait for every worker to exit; false if one failed or hangs. */
static bool pool_join(struct pool *p)
{
	long long deadline = now_ms() + WAIT_MS;
	bool ok = true;
	int i, status;
	pid_t pid;
	void *ret;

	for (i = 0; i < p->nr; i++) {
		if (p->threads) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += WAIT_MS / 1000;
			if (pthread_timedjoin_np(p->thread[i], &ret, &ts))
				return false;	/* the test process exits */
			ok &= !ret;
			continue;
		}
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

	if (p->nr && write(p->stop_fd, &one, sizeof(one)) != sizeof(one))
		return false;
	return pool_join(p);
}

static void pool_destroy(struct pool *p)
{
	int i;

	for (i = 0; i < NR_WORKERS; i++) {
		if (p->pid[i] > 0) {
			kill(p->pid[i], SIGKILL);
			waitpid(p->pid[i], NULL, 0);
		}
		if (p->epfd[i] > 0)
			close(p->epfd[i]);
	}
	if (p->listen_fd > 0)
		close(p->listen_fd);
	if (p->stop_fd > 0)
		close(p->stop_fd);
	if (p->st && p->st != MAP_FAILED)
		munmap(p->st, sizeof(*p->st));
}

/* Is this task asleep in epoll_wait() (not running, not in a mutex)? */
static bool sleeping_in_epoll_wait(pid_t tid)
{
	char path[64], buf[512], *state;
	long nr;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	state = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!state || state[1] != ' ' || state[2] != 'S')
		return false;

	snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1;	/* "running" */
	fclose(f);
	return nr == SYS_epoll_wait || nr == SYS_epoll_pwait;
}

/* Wait until all workers but @skip (-1: none) sleep in epoll_wait(). */
static bool wait_idle(struct pool *p, int skip)
{
	long long deadline = now_ms() + WAIT_MS;
	int i;

	for (i = 0; i < p->nr; i++) {
		while (i != skip && (!p->st->tid[i] ||
				     !sleeping_in_epoll_wait(p->st->tid[i]))) {
			if (now_ms() > deadline)
				return false;
			usleep(500);
		}
	}
	return true;
}

/* Connect, read the index of the worker that accepted; -1 on failure. */
static int connect_once(unsigned short port)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };
	uint8_t id;
	int fd, n = -1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (!setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) &&
	    !connect(fd, (struct sockaddr *)&addr, sizeof(addr)) &&
	    read(fd, &id, 1) == 1 && id < NR_WORKERS)
		n = id;
	close(fd);
	return n;
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

static void report(const char *variant, const char *test, const int *x, int n)
{
	char buf[128];
	int i, len = 0;

	for (i = 0; i < n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %d", x[i]);
	ksft_print_msg("distribution %s %s:%s jain=%.3f\n",
		       variant, test, buf, jain_index(x, n));
}

/* Flag validation: EPOLLROUNDROBIN follows EPOLLEXCLUSIVE's rules. */

FIXTURE(flags) {
	int epfd;
	int fd;
};

FIXTURE_SETUP(flags)
{
	if (!have_roundrobin())
		SKIP(return, "kernel lacks EPOLLROUNDROBIN");
	self->epfd = epoll_create1(EPOLL_CLOEXEC);
	self->fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(self->epfd, 0);
	ASSERT_GE(self->fd, 0);
}

FIXTURE_TEARDOWN(flags)
{
	close(self->fd);
	close(self->epfd);
}

TEST_F(flags, accepted_with_exclusive)
{
	int sfd;
	unsigned short port;

	EXPECT_EQ(0, ep_add(self->epfd, self->fd,
			    EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	sfd = listen_socket(&port);
	ASSERT_GE(sfd, 0);
	EXPECT_EQ(0, ep_add(self->epfd, sfd, EPOLLIN | EPOLLET |
			    EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	EXPECT_EQ(0, epoll_ctl(self->epfd, EPOLL_CTL_DEL, sfd, NULL));
	EXPECT_EQ(0, ep_add(self->epfd, sfd, EPOLLIN | EPOLLEXCLUSIVE |
			    EPOLLROUNDROBIN));
	close(sfd);
}

TEST_F(flags, rejected_without_exclusive)
{
	EXPECT_EQ(-EINVAL, ep_add(self->epfd, self->fd, EPOLLROUNDROBIN));
	EXPECT_EQ(-EINVAL, ep_add(self->epfd, self->fd,
				  EPOLLIN | EPOLLROUNDROBIN));
	EXPECT_EQ(-EINVAL, ep_add(self->epfd, self->fd,
				  EPOLLIN | EPOLLET | EPOLLROUNDROBIN));
}

TEST_F(flags, rejected_on_mod)
{
	ASSERT_EQ(0, ep_add(self->epfd, self->fd, EPOLLIN));
	EXPECT_EQ(-EINVAL, ep_mod(self->epfd, self->fd,
				  EPOLLIN | EPOLLROUNDROBIN));
	EXPECT_EQ(-EINVAL, ep_mod(self->epfd, self->fd, EPOLLIN |
				  EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	ASSERT_EQ(0, epoll_ctl(self->epfd, EPOLL_CTL_DEL, self->fd, NULL));

	/* A round-robin item cannot be modified, like an exclusive one. */
	ASSERT_EQ(0, ep_add(self->epfd, self->fd,
			    EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	EXPECT_EQ(-EINVAL, ep_mod(self->epfd, self->fd, EPOLLIN));
}

TEST_F(flags, rejected_on_epoll_target)
{
	int inner = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_GE(inner, 0);
	EXPECT_EQ(-EINVAL, ep_add(self->epfd, inner, EPOLLIN |
				  EPOLLEXCLUSIVE | EPOLLROUNDROBIN));
	close(inner);
}

TEST_F(flags, rejected_with_oneshot)
{
	EXPECT_EQ(-EINVAL, ep_add(self->epfd, self->fd, EPOLLIN |
				  EPOLLONESHOT | EPOLLEXCLUSIVE |
				  EPOLLROUNDROBIN));
}

/*
 * Distribution of accepts among NR_WORKERS workers on one listening socket:
 * processes with an epoll instance each (level-triggered, as nginx does),
 * or threads sharing one instance.  Those use EPOLLET, as threads sharing
 * an instance should: a level-triggered event is passed on to one more
 * waiter after it is reported (ep_done_scan()), so two threads would race
 * for every connection, whatever order they were woken in.
 */

FIXTURE(accept) {
	struct pool pool;
};

FIXTURE_VARIANT(accept) {
	const char *name;	/* for the "# distribution" lines */
	bool threads;
	bool roundrobin;
};

FIXTURE_VARIANT_ADD(accept, procs_exclusive) {
	.name = "procs_exclusive",
	.threads = false,
	.roundrobin = false,
};

FIXTURE_VARIANT_ADD(accept, procs_roundrobin) {
	.name = "procs_roundrobin",
	.threads = false,
	.roundrobin = true,
};

FIXTURE_VARIANT_ADD(accept, threads_exclusive) {
	.name = "threads_exclusive",
	.threads = true,
	.roundrobin = false,
};

FIXTURE_VARIANT_ADD(accept, threads_roundrobin) {
	.name = "threads_roundrobin",
	.threads = true,
	.roundrobin = true,
};

FIXTURE_SETUP(accept)
{
	uint32_t events = EPOLLIN | EPOLLEXCLUSIVE;
	int ret;

	if (variant->threads)
		events |= EPOLLET;
	if (variant->roundrobin) {
		if (!have_roundrobin())
			SKIP(return, "kernel lacks EPOLLROUNDROBIN");
		events |= EPOLLROUNDROBIN;
	}
	ret = pool_start(&self->pool, variant->threads, NR_WORKERS, events);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));
	ASSERT_TRUE(wait_idle(&self->pool, -1))
		TH_LOG("workers did not reach epoll_wait()");
}

FIXTURE_TEARDOWN(accept)
{
	pool_stop(&self->pool);
	pool_destroy(&self->pool);
}

/*
 * One connection at a time, each made while every worker sleeps in
 * epoll_wait().  Round-robin must serve them in strict rotation.  Plain
 * EPOLLEXCLUSIVE gives them all to one worker: the first registered
 * process, or the thread that went to sleep last (LIFO), which is the one
 * that served the connection before.
 */
TEST_F_TIMEOUT(accept, sequential, 120)
{
	int count[NR_WORKERS] = { 0 }, order[NR_WORKERS * ROUNDS];
	int i, j, max = 0;

	for (i = 0; i < NR_WORKERS * ROUNDS; i++) {
		ASSERT_TRUE(wait_idle(&self->pool, -1));
		order[i] = connect_once(self->pool.port);
		ASSERT_GE(order[i], 0) TH_LOG("connection %d not served", i);
		count[order[i]]++;
	}
	report(variant->name, "sequential", count, NR_WORKERS);

	for (i = 0; i < NR_WORKERS; i++) {
		EXPECT_EQ(count[i], self->pool.st->accepted[i]);
		max = count[i] > max ? count[i] : max;
	}
	if (!variant->roundrobin) {
		EXPECT_EQ(NR_WORKERS * ROUNDS, variant->threads ? max : count[0])
			TH_LOG("plain EPOLLEXCLUSIVE no longer skews");
		return;
	}
	/* Every run of NR_WORKERS consecutive connections hits each worker. */
	for (i = 0; i + NR_WORKERS <= NR_WORKERS * ROUNDS; i++) {
		int seen = 0;

		for (j = i; j < i + NR_WORKERS; j++)
			seen |= 1 << order[j];
		EXPECT_EQ((1 << NR_WORKERS) - 1, seen)
			TH_LOG("connections %d..%d not in rotation", i,
			       i + NR_WORKERS - 1);
	}
	for (i = 0; i < NR_WORKERS; i++)
		EXPECT_EQ(ROUNDS, count[i]);
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
 * accepted exactly once; with round-robin the spread must be even too.
 */
TEST_F_TIMEOUT(accept, concurrent, 180)
{
	struct client_arg args[NR_CLIENTS] = { 0 };
	pthread_t tid[NR_CLIENTS];
	int count[NR_WORKERS] = { 0 }, failed = 0, total = 0;
	double jain;
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
	report(variant->name, "concurrent", count, NR_WORKERS);

	EXPECT_EQ(0, failed);
	for (j = 0; j < NR_WORKERS; j++) {
		EXPECT_EQ(count[j], self->pool.st->accepted[j]);
		total += count[j];
	}
	EXPECT_EQ(NR_CLIENTS * CONNS_PER_CLIENT, total);
	jain = jain_index(count, NR_WORKERS);
	if (variant->roundrobin)
		EXPECT_GE(jain, MIN_JAIN) TH_LOG("Jain index %.3f", jain);
}

/*
 * shutdown() of the listening socket is a wake-all: every round-robin
 * instance must see EPOLLHUP, none may hang.  Threads share one instance,
 * whose edge-triggered EPOLLHUP wakes one of them; the rest are stopped.
 */
TEST_F_TIMEOUT(accept, shutdown_wakes_all, 60)
{
	long long deadline = now_ms() + WAIT_MS;
	int i, hup = 0;

	ASSERT_EQ(0, shutdown(self->pool.listen_fd, SHUT_RDWR));
	if (!variant->threads) {
		ASSERT_TRUE(pool_join(&self->pool));
		for (i = 0; i < NR_WORKERS; i++)
			EXPECT_EQ(1, self->pool.st->hup[i]) TH_LOG("worker %d", i);
		return;
	}
	while (!hup && now_ms() < deadline) {
		usleep(1000);
		for (i = 0; i < NR_WORKERS; i++)
			hup += self->pool.st->hup[i];
	}
	EXPECT_GE(hup, 1) TH_LOG("no thread saw EPOLLHUP");
	ASSERT_TRUE(pool_stop(&self->pool));
}

/*
 * A worker that is not in epoll_wait() (stopped here) is skipped without
 * losing a connection, keeps its place, and is first again once it waits.
 */
TEST(busy_worker_skipped)
{
	int count[NR_WORKERS] = { 0 };
	struct pool pool;
	int i, id, ret;

	if (!have_roundrobin())
		SKIP(return, "kernel lacks EPOLLROUNDROBIN");
	ret = pool_start(&pool, false, NR_WORKERS,
			 EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));
	ASSERT_TRUE(wait_idle(&pool, -1));

	ASSERT_EQ(0, kill(pool.pid[0], SIGSTOP));
	for (i = 0; i < (NR_WORKERS - 1) * ROUNDS; i++) {
		ASSERT_TRUE(wait_idle(&pool, 0));
		id = connect_once(pool.port);
		ASSERT_GE(id, 0) TH_LOG("connection %d not served", i);
		count[id]++;
	}
	report("procs_roundrobin", "worker0_stopped", count, NR_WORKERS);
	EXPECT_EQ(0, count[0]);
	for (i = 1; i < NR_WORKERS; i++)
		EXPECT_EQ(ROUNDS, count[i]);

	ASSERT_EQ(0, kill(pool.pid[0], SIGCONT));
	ASSERT_TRUE(wait_idle(&pool, -1));
	memset(count, 0, sizeof(count));
	id = connect_once(pool.port);
	EXPECT_EQ(0, id);
	for (i = 1; i < NR_WORKERS; i++) {
		ASSERT_TRUE(wait_idle(&pool, -1));
		id = connect_once(pool.port);
		ASSERT_GE(id, 0);
		count[id]++;
	}
	for (i = 1; i < NR_WORKERS; i++)
		EXPECT_EQ(1, count[i]);

	EXPECT_TRUE(pool_stop(&pool));
	pool_destroy(&pool);
}

/*
 * Closing the last reference of a listening socket while round-robin
 * waiters sleep must unlink their entries and return; the waiters stay
 * usable and the port is gone.
 */
TEST(close_with_waiters)
{
	struct pool pool;
	long long start;
	int ret;

	if (!have_roundrobin())
		SKIP(return, "kernel lacks EPOLLROUNDROBIN");
	/* Threads: the listening socket has no other reference. */
	ret = pool_start(&pool, true, NR_WORKERS,
			 EPOLLIN | EPOLLET | EPOLLEXCLUSIVE | EPOLLROUNDROBIN);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));
	ASSERT_TRUE(wait_idle(&pool, -1));

	start = now_ms();
	ASSERT_EQ(0, close(pool.listen_fd));
	pool.listen_fd = -1;
	EXPECT_LT(now_ms() - start, 1000);
	EXPECT_EQ(-1, connect_once(pool.port));
	EXPECT_TRUE(pool_stop(&pool));
	pool_destroy(&pool);
}

TEST_HARNESS_MAIN

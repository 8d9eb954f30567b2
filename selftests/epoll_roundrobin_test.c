// SPDX-License-Identifier: GPL-2.0
/*
 * EPOLLROUNDROBIN.
 *
 * With EPOLLEXCLUSIVE | EPOLLROUNDROBIN, the epoll instances that wait on
 * one file take turns: the instance that takes an exclusive wakeup goes
 * behind the other round-robin instances on the file's wait queue.
 * Covered here:
 *
 *  - flags: EPOLLROUNDROBIN is accepted with EPOLLEXCLUSIVE on
 *    EPOLL_CTL_ADD, and is EINVAL alone, on EPOLL_CTL_MOD, on an epoll
 *    target and with EPOLLONESHOT; an item with it cannot be modified.
 *    Once through epoll_ctl() and once through io_uring's
 *    IORING_OP_EPOLL_CTL, which shares the check;
 *  - accept: four worker processes on one listening socket, with an
 *    instance each.  Connections made one at a time, each while every
 *    worker sleeps in epoll_wait(), go round in strict rotation with
 *    EPOLLROUNDROBIN; concurrent connections are each accepted exactly
 *    once and reach every worker; shutdown() of the socket wakes every
 *    instance.  The same runs with plain EPOLLEXCLUSIVE check only that
 *    nothing is lost: how it spreads the load is not promised;
 *  - workers: a round-robin worker that is not in epoll_wait() is skipped
 *    and keeps its place; one whose item is deleted, or whose instance is
 *    closed, leaves the rotation to the others; a plain EPOLLEXCLUSIVE
 *    waiter on the same socket does not rotate, the round-robin ones do
 *    while it does not wait; an instance waited on only through poll()
 *    takes no turn and holds up nobody; round-robin on an eventfd;
 *    closing the socket under round-robin waiters;
 *  - POLLFREE: round-robin items on a signalfd whose queue is freed under
 *    them;
 *  - handoff: an instance that took an exclusive wakeup and leaves
 *    without handling it (EPOLL_CTL_DEL of its item, or closing the
 *    instance) passes the event on to the other instance's sleeper.
 *
 * IORING_ACCEPT_ROUNDROBIN is tested in uring_accept_roundrobin_test.c;
 * what both tests use is in roundrobin.h.
 */

#define _GNU_SOURCE
#include <sys/signalfd.h>
#include "roundrobin.h"

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
 * Accepts among four worker processes on one listening socket, with an
 * epoll instance each, level-triggered, as nginx does.  The two variants
 * differ only in EPOLLROUNDROBIN.
 */

FIXTURE(accept) {
	struct pool pool;
};

FIXTURE_VARIANT(accept) {
	const char *name;	/* for the "# distribution" lines */
	bool roundrobin;	/* EPOLLROUNDROBIN */
};

FIXTURE_VARIANT_ADD(accept, procs_exclusive) {
	.name = "procs_exclusive",
};

FIXTURE_VARIANT_ADD(accept, procs_roundrobin) {
	.name = "procs_roundrobin",
	.roundrobin = true,
};

FIXTURE_SETUP(accept)
{
	struct pool_opts o = {
		.events = EPOLLIN | EPOLLEXCLUSIVE,
	};
	int ret;

	pool_init(&self->pool);
	if (variant->roundrobin) {
		if (!need_roundrobin(_metadata))
			return;
		o.events |= EPOLLROUNDROBIN;
	}
	if (!need_proc_syscall(_metadata, false))
		return;
	ret = pool_start(&self->pool, &o);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(accept)
{
	pool_teardown(_metadata, &self->pool);
}

TEST_F(accept, sequential)
{
	pool_sequential_test(_metadata, &self->pool, variant->name,
			     variant->roundrobin);
}

TEST_F(accept, concurrent)
{
	pool_concurrent_test(_metadata, &self->pool, variant->name,
			     variant->roundrobin);
}

TEST_F(accept, shutdown_wakes_all)
{
	pool_shutdown_test(_metadata, &self->pool);
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
	pool_teardown(_metadata, &self->pool);
}

static const struct pool_opts procs_roundrobin = {
	.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN,
};

/*
 * A worker that is not in epoll_wait() (stopped here) is skipped without
 * losing a connection, keeps its place, and is first again once it waits.
 */
TEST_F(workers, busy_worker_skipped)
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

TEST_F(workers, ctl_del_leaves_rotation)
{
	leave_rotation(_metadata, &self->pool, false);
}

TEST_F(workers, close_leaves_rotation)
{
	leave_rotation(_metadata, &self->pool, true);
}

/*
 * The caveat: a plain EPOLLEXCLUSIVE waiter on the same socket (worker 0,
 * registered first) is not rotated and may take every connection while it
 * waits.  While it does not wait (stopped), the round-robin waiters rotate
 * strictly.  While it waits, only that nothing is lost is checked.
 */
TEST_F(workers, mixed_with_plain_exclusive)
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
TEST_F(workers, eventfd_rotates)
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
 * Closing the last reference of a listening socket while round-robin
 * waiters sleep must unlink their entries and return; the waiters stay
 * usable and the port is gone.  Threads: then the workers hold no other
 * reference to the socket.
 */
TEST_F(workers, close_with_waiters)
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
 * An instance waited on only through poll() on its epoll fd, not
 * epoll_wait(), has no sleeper on its own queue: its round-robin item
 * passes every wakeup on, never takes a turn, and its fd still becomes
 * readable.  Added after the workers' instances, it is at the head of the
 * socket's queue from the second round on, where a waiter that took the
 * wakeup and then did not accept would hold every connection.  The
 * workers still take every sequential connection, in strict rotation.
 */
struct poller {
	int epfd;
	int stop_fd;		/* eventfd: readable means "exit" */
	int wakeups;		/* poll() found the instance readable */
};

static void *poll_thread(void *data)
{
	struct poller *pl = data;
	struct pollfd pfd[2] = {
		{ .fd = pl->epfd, .events = POLLIN },
		{ .fd = pl->stop_fd, .events = POLLIN },
	};
	int n;

	for (;;) {
		n = poll(pfd, 2, WAIT_MS);
		if (n < 0 && errno != EINTR)
			return (void *)1L;
		if (n <= 0)
			continue;
		if (pfd[1].revents)
			return NULL;
		__atomic_add_fetch(&pl->wakeups, 1, __ATOMIC_RELAXED);
		/* Readable until a worker accepts: do not spin meanwhile. */
		usleep(1000);
	}
}

TEST_F(workers, poll_waiter_takes_no_turn)
{
	int count[NR_WORKERS] = { 0 }, order[NR_EVENTS];
	struct poller pl = { .epfd = -1, .stop_fd = -1 };
	struct pool *p = &self->pool;
	uint64_t one = 1;
	void *failed;
	pthread_t th;
	int n, ret;

	if (!need_roundrobin(_metadata) || !need_proc_syscall(_metadata, false))
		return;
	ret = pool_start(p, &procs_roundrobin);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));
	pl.epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, pl.epfd);
	pl.stop_fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, pl.stop_fd);
	ASSERT_EQ(0, ep_add(pl.epfd, p->target_fd, procs_roundrobin.events));
	ASSERT_EQ(0, pthread_create(&th, NULL, poll_thread, &pl));

	n = sequential(p, NR_EVENTS, 0, order, count);

	ASSERT_EQ((ssize_t)sizeof(one), write(pl.stop_fd, &one, sizeof(one)));
	ASSERT_EQ(0, pthread_join(th, &failed));
	close(pl.stop_fd);
	close(pl.epfd);
	EXPECT_EQ(0, (long)failed) TH_LOG("poll() failed");
	ASSERT_EQ(NR_EVENTS, n) TH_LOG("so far: %s", fmt_order(order, n));
	report("procs_roundrobin", "poll_waiter", count);
	ksft_print_msg("the poll() waiter saw its instance readable %d times\n",
		       pl.wakeups);
	EXPECT_EQ(-1, rotation_break(order, n, ALL_WORKERS))
		TH_LOG("%s", fmt_order(order, n));
}

/* A thread asleep in epoll_wait() on @epfd: which fd woke it, or -1. */
struct ep_waiter {
	int epfd;
	pid_t tid;
	int fd;
};

static void *ep_waiter_thread(void *data)
{
	struct ep_waiter *w = data;
	struct epoll_event ev;
	int n;

	__atomic_store_n(&w->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	do
		n = epoll_wait(w->epfd, &ev, 1, WAIT_MS);
	while (n < 0 && errno == EINTR);
	w->fd = n == 1 ? ev.data.fd : -1;
	return NULL;
}

/* Wait until both @w sleep in epoll_wait(). */
static bool waiters_asleep(struct ep_waiter *w)
{
	long long deadline = now_ms() + WAIT_MS;
	int i;

	for (i = 0; i < 2; i++) {
		while (!__atomic_load_n(&w[i].tid, __ATOMIC_ACQUIRE) ||
		       !sleeping_in_wait(w[i].tid)) {
			if (now_ms() > deadline)
				return false;
			usleep(500);
		}
	}
	return true;
}

/*
 * A signalfd's wait queue belongs to the sighand of the task that polls
 * it: here a child, which adds the signalfd to two instances with
 * EPOLLEXCLUSIVE | EPOLLROUNDROBIN, queues itself a signal, which is one
 * exclusive wakeup on that queue, and exits.  Reaping it frees the queue
 * under the items (POLLFREE, a wake-all that unhooks them) while a thread
 * sleeps on each instance.  Nothing crashes or hangs: the instances answer
 * epoll_wait(), the items can be deleted, and the sleepers are woken by
 * the next event.
 */
TEST(roundrobin_signalfd_pollfree)
{
	struct ep_waiter w[2] = { { .epfd = -1 }, { .epfd = -1 } };
	struct epoll_event ev;
	uint64_t one = 1;
	pthread_t th[2];
	sigset_t mask;
	int sfd, efd, i, status;
	siginfo_t info;
	pid_t pid;

	if (!need_roundrobin(_metadata) || !need_proc_syscall(_metadata, true))
		return;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	ASSERT_LE(0, sfd);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	for (i = 0; i < 2; i++) {
		w[i].epfd = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, w[i].epfd);
		ASSERT_EQ(0, ep_add(w[i].epfd, efd, EPOLLIN));
		ASSERT_EQ(0, pthread_create(&th[i], NULL, ep_waiter_thread,
					    &w[i]));
	}
	ASSERT_TRUE(waiters_asleep(w));

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (sigprocmask(SIG_BLOCK, &mask, NULL))
			_exit(1);
		for (i = 0; i < 2; i++)
			if (ep_add(w[i].epfd, sfd, EPOLLIN | EPOLLEXCLUSIVE |
				   EPOLLROUNDROBIN))
				_exit(2);
		_exit(kill(getpid(), SIGUSR1) ? 3 : 0);
	}
	/* Exited, not reaped yet: its sighand, and the queue, still exist. */
	ASSERT_EQ(0, waitid(P_PID, pid, &info, WEXITED | WNOWAIT));
	EXPECT_EQ(CLD_EXITED, info.si_code);
	EXPECT_EQ(0, info.si_status);
	ASSERT_TRUE(waiters_asleep(w));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, epoll_wait(w[i].epfd, &ev, 1, 0));
		EXPECT_EQ(0, epoll_ctl(w[i].epfd, EPOLL_CTL_DEL, sfd, NULL));
	}
	ASSERT_EQ((ssize_t)sizeof(one), write(efd, &one, sizeof(one)));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(efd, w[i].fd) TH_LOG("waiter %d", i);
		close(w[i].epfd);
	}
	close(efd);
	close(sfd);
}

/*
 * An instance takes an exclusive wakeup and then leaves without handling
 * it: its worker harvests the event but does not accept, and deletes the
 * item or closes the instance (a worker that shuts down).  The level-
 * triggered item is back on the ready list, and the connection must reach
 * the other instance's sleeping worker, without a further connect.
 */
struct handoff_worker {
	int epfd;
	pid_t tid;
	int events;		/* epoll_wait()'s result */
};

static void *handoff_wait(void *arg)
{
	struct handoff_worker *w = arg;
	struct epoll_event ev;

	__atomic_store_n(&w->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	w->events = epoll_wait(w->epfd, &ev, 1, WAIT_MS);
	return NULL;
}

FIXTURE(handoff) {
	int fd;
	unsigned short port;
};

FIXTURE_VARIANT(handoff) {
	uint32_t events;
	bool close;
};

FIXTURE_VARIANT_ADD(handoff, exclusive_del) {
	.events = EPOLLIN | EPOLLEXCLUSIVE,
};

FIXTURE_VARIANT_ADD(handoff, exclusive_close) {
	.events = EPOLLIN | EPOLLEXCLUSIVE,
	.close = true,
};

FIXTURE_VARIANT_ADD(handoff, roundrobin_del) {
	.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN,
};

FIXTURE_VARIANT_ADD(handoff, roundrobin_close) {
	.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN,
	.close = true,
};

FIXTURE_SETUP(handoff)
{
	self->fd = -1;
	if ((variant->events & EPOLLROUNDROBIN) && !need_roundrobin(_metadata))
		return;
	if (!need_proc_syscall(_metadata, true))
		return;
	self->fd = listen_socket(&self->port);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(handoff)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(handoff, passed_on, 30)
{
	struct handoff_worker w[2] = { { .tid = 0 }, { .tid = 0 } };
	pthread_t t[2];
	long long deadline;
	int i, c, conn;

	for (i = 0; i < 2; i++) {
		w[i].epfd = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, w[i].epfd);
		ASSERT_EQ(0, ep_add(w[i].epfd, self->fd, variant->events));
	}
	/* both asleep: the first instance's entry is first in the queue */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_create(&t[i], NULL, handoff_wait, &w[i]));
		deadline = now_ms() + WAIT_MS;
		while (!(__atomic_load_n(&w[i].tid, __ATOMIC_ACQUIRE) &&
			 sleeping_in_wait(w[i].tid))) {
			ASSERT_GT(deadline, now_ms());
			usleep(1000);
		}
	}
	c = connect_client(self->port);
	ASSERT_LE(0, c);
	pthread_join(t[0], NULL);
	ASSERT_EQ(1, w[0].events);
	/* it leaves without accepting */
	if (variant->close)
		close(w[0].epfd);
	else
		ASSERT_EQ(0, epoll_ctl(w[0].epfd, EPOLL_CTL_DEL, self->fd,
				       NULL));
	pthread_join(t[1], NULL);
	EXPECT_EQ(1, w[1].events) TH_LOG("the event was not passed on");
	conn = accept4(self->fd, NULL, NULL, SOCK_NONBLOCK);
	EXPECT_LE(0, conn);
	if (conn >= 0)
		close(conn);
	close(c);
	if (!variant->close)
		close(w[0].epfd);
	close(w[1].epfd);
}

TEST_HARNESS_MAIN

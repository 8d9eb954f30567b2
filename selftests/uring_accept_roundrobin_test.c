// SPDX-License-Identifier: GPL-2.0
/*
 * IORING_ACCEPT_ROUNDROBIN.
 *
 * With IORING_ACCEPT_MULTISHOT | IORING_ACCEPT_ROUNDROBIN, the multishot
 * accepts of several rings on one listening socket take turns: the ring
 * that takes an exclusive wakeup goes behind the other round-robin
 * entries on the socket's wait queue, as an EPOLLROUNDROBIN instance does.
 * Covered here, with raw io_uring system calls (no liburing):
 *
 *  - accept: four worker processes with a ring each and one multishot
 *    accept on one listening socket.  Connections made one at a time,
 *    each while every worker sleeps in io_uring_enter(), go round in
 *    strict rotation with IORING_ACCEPT_ROUNDROBIN; concurrent
 *    connections are each accepted exactly once and reach every ring;
 *    shutdown() of the socket ends every accept.  The same runs without
 *    the flag check only that nothing is lost;
 *  - workers: a ring that cannot run its task work (its process stopped,
 *    or busy with IORING_SETUP_DEFER_TASKRUN) still takes the one wakeup
 *    of its turn, is passed over after it, and the connection behind that
 *    wakeup is accepted by the next ring; round-robin rings and
 *    EPOLLROUNDROBIN instances on one socket share one rotation;
 *  - rings: four rings in one process keep rotating when one's accept is
 *    cancelled or the ring closed; shutdown() ends every accept;
 *  - the flag is EINVAL without IORING_ACCEPT_MULTISHOT.
 *
 * What this test shares with epoll_roundrobin_test.c is in roundrobin.h.
 */

#define _GNU_SOURCE
#include "roundrobin.h"

#ifndef IORING_ACCEPT_ROUNDROBIN
#define IORING_ACCEPT_ROUNDROBIN	8U	/* bit 3 */
#endif
#ifndef IORING_ACCEPT_DONTWAIT		/* since 6.10 */
#define IORING_ACCEPT_DONTWAIT	2U	/* bit 1 */
#endif
#define ACCEPT_RR	(IORING_ACCEPT_MULTISHOT | IORING_ACCEPT_ROUNDROBIN)

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
 * Start ring workers with @o, all four or those in @o->rings (the others
 * epoll workers); false if the test was skipped (no io_uring, no accept
 * flags @o->uring, no setup flags @o->setup, no /proc/<pid>/syscall).
 */
static bool uring_pool_start(struct __test_metadata *_metadata,
			     struct pool *p, const struct pool_opts *o)
{
	struct pool_opts ro = *o;
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
	if (!ro.rings)
		ro.rings = ALL_WORKERS;
	ro.ring_loop = uring_worker_loop;
	ret = pool_start(p, &ro);
	ASSERT_EQ(0, ret) TH_LOG("starting workers: %s", strerror(-ret));
	return true;
}

/*
 * Accepts among four worker processes with a ring each on one listening
 * socket: the tests of epoll_roundrobin_test.c's accept fixture, with
 * multishot accepts.  A ring takes a wakeup only once it handled its last,
 * so under concurrent load each wakeup may bring it several connections.
 */
FIXTURE(accept) {
	struct pool pool;
};

FIXTURE_VARIANT(accept) {
	const char *name;	/* for the "# distribution" lines */
	unsigned int flags;	/* IORING_ACCEPT_* */
};

FIXTURE_VARIANT_ADD(accept, uring_multishot) {
	.name = "uring_multishot",
	.flags = IORING_ACCEPT_MULTISHOT,
};

FIXTURE_VARIANT_ADD(accept, uring_multishot_roundrobin) {
	.name = "uring_multishot_roundrobin",
	.flags = ACCEPT_RR,
};

FIXTURE_SETUP(accept)
{
	const struct pool_opts o = { .uring = variant->flags };

	pool_init(&self->pool);
	uring_pool_start(_metadata, &self->pool, &o);
}

FIXTURE_TEARDOWN(accept)
{
	pool_teardown(_metadata, &self->pool);
}

TEST_F(accept, sequential)
{
	pool_sequential_test(_metadata, &self->pool, variant->name,
			     variant->flags & IORING_ACCEPT_ROUNDROBIN);
}

/*
 * Nothing is lost, and every round-robin ring takes some; how evenly is
 * reported, not checked: it depends on how many connections each wakeup
 * brings to a ring, which depends on the CPUs, the load and HZ.
 */
TEST_F(accept, concurrent)
{
	pool_concurrent_test(_metadata, &self->pool, variant->name,
			     variant->flags & IORING_ACCEPT_ROUNDROBIN);
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
TEST_F(workers, uring_stopped_ring_skipped)
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
TEST_F(workers, uring_busy_ring_skipped)
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
	while (!__atomic_load_n(&p->st->resting[0], __ATOMIC_ACQUIRE)) {
		ASSERT_GT(deadline, now_ms()) TH_LOG("worker 0 not resting");
		usleep(1000);
	}
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
TEST_F(workers, uring_plain_stopped_ring)
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
 * Round-robin epoll instances and round-robin multishot accepts on one
 * listening socket share one rotation: workers 0 and 1 sleep in
 * epoll_wait() on an instance each (EPOLLEXCLUSIVE | EPOLLROUNDROBIN),
 * workers 2 and 3 in io_uring_enter() on a ring each
 * (IORING_ACCEPT_ROUNDROBIN).  Of the connections made one at a time
 * while all four wait, each is accepted once, and every worker, of either
 * kind, takes some.
 */
TEST_F(workers, uring_with_epoll_roundrobin)
{
	const struct pool_opts o = {
		.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN,
		.rings = (1U << 2) | (1U << 3),
		.uring = ACCEPT_RR,
	};
	int count[NR_WORKERS] = { 0 }, order[NR_EVENTS];
	struct pool *p = &self->pool;
	int i, n;

	if (!need_roundrobin(_metadata) || !uring_pool_start(_metadata, p, &o))
		return;
	n = sequential(p, NR_EVENTS, 0, order, count);
	ASSERT_EQ(NR_EVENTS, n) TH_LOG("so far: %s", fmt_order(order, n));
	report("epoll_uring_roundrobin", "sequential", count);
	for (i = 0; i < NR_WORKERS; i++) {
		EXPECT_EQ(count[i], served(p, i));
		EXPECT_LT(0, count[i]) TH_LOG("worker %d took none: %s", i,
					      fmt_order(order, n));
	}
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

/*
 * NR_WORKERS rings made with IORING_SETUP_* @setup, each with a multishot
 * accept (@flags) of a new listening socket: @fd, on @port.
 */
static void rings_open(struct __test_metadata *_metadata, struct ring *ring,
		       int *fd, unsigned short *port, unsigned int flags,
		       unsigned int setup)
{
	int i;

	*fd = listen_socket(port);
	ASSERT_LE(0, *fd);
	for (i = 0; i < NR_WORKERS; i++) {
		ASSERT_EQ(0, ring_init_flags(&ring[i], setup));
		ring_accept(&ring[i], *fd, flags, UD_ACCEPT);
		ASSERT_EQ(0, ring_submit(&ring[i]));
	}
}

static void rings_close(struct ring *ring, int fd)
{
	int i;

	for (i = 0; i < NR_WORKERS; i++)
		if (ring[i].fd >= 0)
			ring_exit(&ring[i]);
	if (fd >= 0)
		close(fd);
}

FIXTURE_SETUP(rings)
{
	int i;

	self->fd = -1;
	for (i = 0; i < NR_WORKERS; i++)
		self->ring[i].fd = -1;
	if (!need_uring_accept(_metadata, variant->flags))
		return;
	rings_open(_metadata, self->ring, &self->fd, &self->port,
		   variant->flags, 0);
}

FIXTURE_TEARDOWN(rings)
{
	rings_close(self->ring, self->fd);
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

TEST_F(rings, sequential)
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
 *
 * The cancel is done when its CQE arrives, but a closed ring is torn down
 * later, by io_ring_exit_work(), and userspace cannot tell when.  If that
 * happens while a connection waits, the connection wakes the next ring,
 * and the closed ring's teardown also passes it on to one more: that ring
 * finds nothing and goes to the back once.  So after a close the order
 * may break once, and from there on it must rotate again.
 */
static void ring_leaves(struct __test_metadata *_metadata, struct ring *ring,
			unsigned short port, bool cancel, bool roundrobin)
{
	const int victim = 1, n = (NR_WORKERS - 1) * ROUNDS;
	struct ring *r = &ring[victim];
	struct io_uring_cqe cqe;
	const unsigned int others = ALL_WORKERS & ~(1U << victim);
	int order[NR_EVENTS], i, got, from;

	if (cancel) {
		ring_sqe(r, IORING_OP_ASYNC_CANCEL, -1, UD_STOP)->addr =
			UD_ACCEPT;
		ASSERT_EQ(0, ring_submit(r));
		for (i = 0, got = 0; i < 2; i++) {
			ASSERT_EQ(victim, rings_wait(ring, &cqe));
			if (cqe.user_data == UD_ACCEPT) {
				EXPECT_EQ(-ECANCELED, cqe.res);
				EXPECT_FALSE((bool)(cqe.flags &
						    IORING_CQE_F_MORE));
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
	if (!roundrobin)
		return;
	from = cancel ? 0 : rotation_break(order, n, others);
	if (from < 0)
		return;
	EXPECT_EQ(-1, rotation_break(order + from, n - from, others))
		TH_LOG("%s", fmt_order(order, n));
}

TEST_F(rings, cancel_leaves_rotation)
{
	ring_leaves(_metadata, self->ring, self->port, true,
		    variant->flags & IORING_ACCEPT_ROUNDROBIN);
}

TEST_F(rings, exit_leaves_rotation)
{
	ring_leaves(_metadata, self->ring, self->port, false,
		    variant->flags & IORING_ACCEPT_ROUNDROBIN);
}

/* shutdown() is a wake-all: every ring's accept ends, with an error. */
TEST_F(rings, shutdown_ends_all)
{
	struct io_uring_cqe cqe;
	unsigned int ended = 0;
	int i, r;

	ASSERT_EQ(0, shutdown(self->fd, SHUT_RDWR));
	for (i = 0; i < NR_WORKERS; i++) {
		r = rings_wait(self->ring, &cqe);
		ASSERT_LE(0, r) TH_LOG("rings ended: 0x%x", ended);
		EXPECT_GT(0, cqe.res);
		EXPECT_FALSE((bool)(cqe.flags & IORING_CQE_F_MORE));
		EXPECT_FALSE((bool)(ended & (1U << r)))
			TH_LOG("ring %d twice", r);
		ended |= 1U << r;
	}
	EXPECT_EQ(ALL_WORKERS, ended);
}

/*
 * IORING_ACCEPT_ROUNDROBIN asks for an entry that stays queued: it is
 * refused with a single-shot accept, whose entry leaves the queue when it
 * is woken and already takes turns, and with IORING_ACCEPT_DONTWAIT,
 * which never queues one.
 */
TEST(uring_roundrobin_needs_multishot)
{
	struct ring r;

	if (!need_uring_accept(_metadata, ACCEPT_RR))
		return;
	ASSERT_EQ(0, ring_init(&r));
	ring_accept(&r, -1, IORING_ACCEPT_ROUNDROBIN, 0);
	EXPECT_EQ(-EINVAL, ring_run(&r));
	ring_accept(&r, -1, ACCEPT_RR | IORING_ACCEPT_DONTWAIT, 0);
	EXPECT_EQ(-EINVAL, ring_run(&r));
	ring_accept(&r, -1, ACCEPT_RR, 0);
	EXPECT_EQ(-EBADF, ring_run(&r));
	ring_exit(&r);
}

/*
 * A ring takes the wakeup of a connection and is torn down before it has
 * handled it: its rings are DEFER_TASKRUN, so the task work that would
 * accept stays pending while nobody waits on that ring; then its accept
 * is cancelled, or the ring is closed.  The connection must go to one of
 * the other rings, without a further connect.
 */
FIXTURE(held) {
	struct ring ring[NR_WORKERS];
	int fd;
	unsigned short port;
};

FIXTURE_VARIANT(held) {
	unsigned int flags;
	bool cancel;
};

FIXTURE_VARIANT_ADD(held, multishot_cancel) {
	.flags = IORING_ACCEPT_MULTISHOT,
	.cancel = true,
};

FIXTURE_VARIANT_ADD(held, multishot_close) {
	.flags = IORING_ACCEPT_MULTISHOT,
};

FIXTURE_VARIANT_ADD(held, roundrobin_cancel) {
	.flags = ACCEPT_RR,
	.cancel = true,
};

FIXTURE_VARIANT_ADD(held, roundrobin_close) {
	.flags = ACCEPT_RR,
};

FIXTURE_SETUP(held)
{
	const unsigned int setup = IORING_SETUP_SINGLE_ISSUER |
				   IORING_SETUP_DEFER_TASKRUN;
	int i, ret;

	self->fd = -1;
	for (i = 0; i < NR_WORKERS; i++)
		self->ring[i].fd = -1;
	if (!need_uring_accept(_metadata, variant->flags))
		return;
	ret = ring_init_flags(&self->ring[0], setup);
	if (ret == -EINVAL)
		SKIP(return, "no IORING_SETUP_DEFER_TASKRUN (before 6.1)");
	ring_exit(&self->ring[0]);
	rings_open(_metadata, self->ring, &self->fd, &self->port,
		   variant->flags, setup);
}

FIXTURE_TEARDOWN(held)
{
	rings_close(self->ring, self->fd);
}

/* Run the pending task work of a DEFER_TASKRUN ring, and take a CQE. */
static bool ring_run_reap(struct ring *r, struct io_uring_cqe *cqe)
{
	syscall(__NR_io_uring_enter, r->fd, 0, 0, IORING_ENTER_GETEVENTS,
		NULL, 0);
	return ring_reap(r, cqe);
}

/* Wait until @fd has a connection queued: it has been woken for it. */
static bool queued(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, WAIT_MS) == 1;
}

TEST_F_TIMEOUT(held, passed_on, 30)
{
	struct io_uring_cqe cqe;
	long long deadline;
	int c, i, got = -1;

	c = connect_client(self->port);
	ASSERT_LE(0, c);
	ASSERT_TRUE(queued(self->fd));
	/* ring 0, first in the queue, took the wakeup: no other ring has it */
	for (i = 1; i < NR_WORKERS; i++)
		ASSERT_FALSE(ring_run_reap(&self->ring[i], &cqe))
			TH_LOG("ring %d: res %d", i, cqe.res);

	if (variant->cancel) {
		ring_sqe(&self->ring[0], IORING_OP_ASYNC_CANCEL, -1,
			 UD_STOP)->addr = UD_ACCEPT;
		ASSERT_EQ(0, ring_submit(&self->ring[0]));
		/* the task work runs, and finds the accept cancelled */
		for (i = 0; i < 2; i++) {
			ASSERT_EQ(0, ring_wait(&self->ring[0], &cqe));
			if (cqe.user_data == UD_ACCEPT)
				EXPECT_EQ(-ECANCELED, cqe.res);
		}
	} else {
		ring_exit(&self->ring[0]);
	}

	deadline = now_ms() + WAIT_MS;
	while (got < 0 && now_ms() < deadline) {
		for (i = 1; i < NR_WORKERS && got < 0; i++)
			if (ring_run_reap(&self->ring[i], &cqe))
				got = i;
		if (got < 0)
			usleep(10000);
	}
	close(c);
	ASSERT_LE(0, got) TH_LOG("the held connection was not accepted");
	EXPECT_LE(0, cqe.res);
	if (cqe.res >= 0)
		close(cqe.res);
}

TEST_HARNESS_MAIN

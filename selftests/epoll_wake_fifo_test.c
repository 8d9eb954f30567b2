// SPDX-License-Identifier: GPL-2.0
/*
 * EPOLL_WAKE_FIFO.
 *
 * With EPOLL_WAKE_FIFO, an epoll_create1() flag, the threads that sleep on
 * one instance are woken longest waiter first, instead of the thread that
 * went to sleep last.  Covered here:
 *
 *  - flags: epoll_create1() takes EPOLL_WAKE_FIFO, with and without
 *    EPOLL_CLOEXEC, and still rejects unknown flags;
 *  - accept: four threads sharing one instance on one listening socket,
 *    edge-triggered.  Connections made one at a time, each while every
 *    thread sleeps in epoll_wait(), go round in strict rotation with
 *    EPOLL_WAKE_FIFO; concurrent connections are each accepted exactly
 *    once and reach every thread.  The same runs without the flag check
 *    only that nothing is lost: the order is not promised;
 *  - a plain item (an eventfd, neither exclusive nor round-robin) wakes
 *    the threads in the order they went to sleep;
 *  - fdinfo shows the flag on a line of its own.
 *
 * What the tests share with epoll_roundrobin_test.c is in roundrobin.h.
 */

#define _GNU_SOURCE
#include "roundrobin.h"

#ifndef EPOLL_WAKE_FIFO
#define EPOLL_WAKE_FIFO	0x1
#endif

static int have_wake_fifo(void)
{
	int epfd = epoll_create1(EPOLL_WAKE_FIFO | EPOLL_CLOEXEC);

	if (epfd >= 0) {
		close(epfd);
		return 1;
	}
	return errno == EINVAL ? 0 : -errno;
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
 * Every bit but EPOLL_CLOEXEC and EPOLL_WAKE_FIFO stays invalid, alone and
 * next to EPOLL_CLOEXEC.  Holds on kernels without EPOLL_WAKE_FIFO too.
 * A new epoll_create1() flag must be added to @known here.
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
 * Threads sharing one instance use EPOLLET, as they should: a level-
 * triggered event is passed on to one more waiter after it is reported
 * (ep_done_scan()), so two threads would race for every connection,
 * whatever order they were woken in.  The item is EPOLLEXCLUSIVE in both
 * variants, which differ only in EPOLL_WAKE_FIFO; EPOLLEXCLUSIVE changes
 * nothing for them, the instance being the socket's only waiter.
 */

FIXTURE(accept) {
	struct pool pool;
};

FIXTURE_VARIANT(accept) {
	const char *name;	/* for the "# distribution" lines */
	bool fifo;		/* the instance has EPOLL_WAKE_FIFO */
};

FIXTURE_VARIANT_ADD(accept, threads_exclusive) {
	.name = "threads_exclusive",
};

FIXTURE_VARIANT_ADD(accept, threads_fifo) {
	.name = "threads_fifo",
	.fifo = true,
};

FIXTURE_SETUP(accept)
{
	struct pool_opts o = {
		.threads = true,
		.events = EPOLLIN | EPOLLET | EPOLLEXCLUSIVE,
	};
	int ret;

	pool_init(&self->pool);
	if (variant->fifo) {
		if (!need_wake_fifo(_metadata))
			return;
		o.create_flags = EPOLL_WAKE_FIFO;
	}
	if (!need_proc_syscall(_metadata, true))
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
			     variant->fifo);
}

TEST_F(accept, concurrent)
{
	pool_concurrent_test(_metadata, &self->pool, variant->name,
			     variant->fifo);
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
 * EPOLL_WAKE_FIFO with a plain item (an eventfd, edge-triggered, neither
 * exclusive nor round-robin): the threads sleeping on the instance are
 * woken in the order they went to sleep, 0 to 3, and each goes to the back
 * of the line when it sleeps again.
 */
TEST_F(workers, wake_fifo_order)
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
 * The value of the "epoll_flags:" line of @epfd's fdinfo: 0 if there is
 * none, -1 if fdinfo cannot be read.
 */
static long epoll_fdinfo_flags(int epfd)
{
	char path[64], line[256];
	long flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "epoll_flags: %lx", &flags) == 1)
			break;
	fclose(f);
	return flags;
}

/*
 * Checkpoint/restore tools recreate an epoll instance from its fdinfo: it
 * shows EPOLL_WAKE_FIFO on a line of its own, next to the file's "flags:".
 */
TEST(wake_fifo_fdinfo)
{
	int fifo, plain;

	if (!need_wake_fifo(_metadata))
		return;
	fifo = epoll_create1(EPOLL_WAKE_FIFO);
	ASSERT_LE(0, fifo);
	plain = epoll_create1(0);
	ASSERT_LE(0, plain);
	if (epoll_fdinfo_flags(plain) < 0)
		SKIP(goto out, "no /proc/self/fdinfo");
	EXPECT_EQ(EPOLL_WAKE_FIFO, epoll_fdinfo_flags(fifo));
	EXPECT_EQ(0, epoll_fdinfo_flags(plain));
out:
	close(plain);
	close(fifo);
}

TEST_HARNESS_MAIN

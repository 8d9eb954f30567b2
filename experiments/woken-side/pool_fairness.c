// SPDX-License-Identifier: GPL-2.0
/*
 * pool_fairness: round-robin among epoll instances that each have several
 * threads in epoll_wait(), under concurrent connections: the row where the
 * woken-side design is expected to lose fairness (README.md, "Where
 * fairness is lost").  Not a kselftest: it prints figures and asserts
 * nothing but that every connection was accepted once.
 *
 * INSTANCES instances, THREADS threads on each, all on one listening
 * socket with EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN | EPOLLET; each
 * thread accepts until EAGAIN.  CLIENTS client threads make CONNECTIONS
 * connections in all.  Prints, per run, the accepts of each instance,
 * Jain's index over the instances, and the longest run of consecutive
 * accepts by one instance.
 *
 * Run it in the VM as a test program (README.md, "Measured"):
 *   cp experiments/woken-side/pool_fairness.c selftests/
 *   VMTEST_ONLY=pool_fairness KERNELS=patched make vm   # and with EXPERIMENT=woken-side
 *   rm selftests/pool_fairness.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef EPOLLROUNDROBIN
#define EPOLLROUNDROBIN	((uint32_t)(1U << 26))
#endif

#define INSTANCES	4
#define THREADS		4
#define CLIENTS		4
#define CONNECTIONS	4000
#define RUNS		3

static int listen_fd;
static int epfd[INSTANCES];
static atomic_int accepted[INSTANCES];
static atomic_int total;
static int order[CONNECTIONS];	/* instance of the i-th accept */
static atomic_int stopping;

static void die(const char *what)
{
	printf("pool_fairness: error: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *server(void *arg)
{
	int inst = (int)(long)arg;
	struct epoll_event ev;

	while (!atomic_load(&stopping)) {
		if (epoll_wait(epfd[inst], &ev, 1, 100) <= 0)
			continue;
		for (;;) {
			int c = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK);
			int n;

			if (c < 0)
				break;
			n = atomic_fetch_add(&total, 1);
			if (n < CONNECTIONS)
				order[n] = inst;
			atomic_fetch_add(&accepted[inst], 1);
			close(c);
		}
	}
	return NULL;
}

static struct sockaddr_in addr;

static void *client(void *arg)
{
	long i, n = (long)arg;

	for (i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof(addr)))
			die("connect");
		close(c);
	}
	return NULL;
}

static void run(int r)
{
	pthread_t srv[INSTANCES * THREADS], cli[CLIENTS];
	double sum = 0, sq = 0;
	int i, longest = 0, cur = 0;

	atomic_store(&total, 0);
	atomic_store(&stopping, 0);
	for (i = 0; i < INSTANCES; i++)
		atomic_store(&accepted[i], 0);
	for (i = 0; i < INSTANCES * THREADS; i++)
		pthread_create(&srv[i], NULL, server, (void *)(long)(i / THREADS));
	usleep(200000);	/* every thread in epoll_wait() */
	for (i = 0; i < CLIENTS; i++)
		pthread_create(&cli[i], NULL, client, (void *)(long)(CONNECTIONS / CLIENTS));
	for (i = 0; i < CLIENTS; i++)
		pthread_join(cli[i], NULL);
	for (i = 0; i < 100 && atomic_load(&total) < CONNECTIONS; i++)
		usleep(100000);
	atomic_store(&stopping, 1);
	for (i = 0; i < INSTANCES * THREADS; i++)
		pthread_join(srv[i], NULL);
	if (atomic_load(&total) != CONNECTIONS) {
		printf("not ok %d pool_fairness.run # %d of %d accepted\n", r,
		       atomic_load(&total), CONNECTIONS);
		return;
	}
	for (i = 0; i < CONNECTIONS; i++) {
		cur = i && order[i] == order[i - 1] ? cur + 1 : 1;
		if (cur > longest)
			longest = cur;
	}
	printf("# pool %dx%d run %d: accepts", INSTANCES, THREADS, r);
	for (i = 0; i < INSTANCES; i++) {
		int a = atomic_load(&accepted[i]);

		printf(" %d", a);
		sum += a;
		sq += (double)a * a;
	}
	printf(" jain=%.3f longest_run=%d\n", sum * sum / (INSTANCES * sq), longest);
	printf("ok %d pool_fairness.run\n", r);
}

int main(void)
{
	socklen_t len = sizeof(addr);
	int i, r;

	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(listen_fd, 4096) || getsockname(listen_fd, (struct sockaddr *)&addr, &len))
		die("listen");
	for (i = 0; i < INSTANCES; i++) {
		struct epoll_event ev = {
			.events = EPOLLIN | EPOLLET | EPOLLEXCLUSIVE | EPOLLROUNDROBIN,
		};

		epfd[i] = epoll_create1(0);
		if (epfd[i] < 0 || epoll_ctl(epfd[i], EPOLL_CTL_ADD, listen_fd, &ev))
			die("EPOLLROUNDROBIN");
	}
	printf("1..%d\n", RUNS);
	for (r = 1; r <= RUNS; r++)
		run(r);
	return 0;
}

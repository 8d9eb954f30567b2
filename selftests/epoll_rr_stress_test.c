// SPDX-License-Identifier: GPL-2.0
/*
 * Stress for EPOLLROUNDROBIN: is the rotating wait queue safe under churn?
 *
 * Worker processes and threads accept from one listening socket through
 * round-robin registrations on EPOLL_WAKE_FIFO instances (or, in the
 * control variant, plain exclusive ones on plain instances) while client
 * threads connect as fast as they can.  At the same time:
 *   - workers EPOLL_CTL_DEL/ADD their item, close and re-create their epoll
 *     instance, and swap their listening fd for a dup() (sometimes without
 *     deleting the old item first);
 *   - some workers wait on an outer epoll that holds their inner one;
 *   - threads share one instance while another thread DELs and ADDs its item
 *     and churns a scratch instance;
 *   - the supervisor kill -9s a random worker process and forks a new one;
 *   - a helper registers a signalfd in several instances from a child that
 *     signals itself and exits, so its sighand is freed (POLLFREE) while
 *     other threads wait on, and close, those instances;
 *   - io_uring workers (where the kernel has io_uring) accept from the
 *     same socket: one re-arms a single-shot accept, one runs a multishot
 *     accept, with IORING_ACCEPT_ROUNDROBIN in the round-robin variant;
 * and finally the listening socket is shut down (a wake-all) while every
 * worker sleeps.
 *
 * Accounting: every connection a client established was accepted exactly
 * once, and answered unless the worker holding it was killed; no client
 * waited longer than STALL_MS for its answer (so no connection sat in the
 * backlog while workers slept); every worker exits within EXIT_MS of the
 * shutdown.  Run time: EPOLL_RR_STRESS_SECS seconds per variant (default
 * 10); the load is also bounded by MAX_CONNS connections.
 *
 * The kernel side is checked by the kernel: run it on a kernel with
 * lockdep, KASAN, DEBUG_LIST and the lockup detectors, and fail on any
 * report in the kernel log.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "../../kselftest_harness.h"

#ifndef EPOLLROUNDROBIN
#define EPOLLROUNDROBIN 0x04000000U	/* bit 26, linux/eventpoll.h */
#endif
#ifndef EPOLL_WAKE_FIFO
#define EPOLL_WAKE_FIFO 0x1		/* epoll_create1(), linux/eventpoll.h */
#endif
#ifndef IORING_ACCEPT_ROUNDROBIN
#define IORING_ACCEPT_ROUNDROBIN 8U	/* bit 3, linux/io_uring.h */
#endif

#define DEFAULT_SECS	10
#define MAX_SECS	1500		/* the test's timeout is 1800 s */
#define MAX_CONNS	(1 << 22)	/* bound on connections per run */
#define STALL_MS	5000		/* bound on connect-to-answer time */
#define EXIT_MS		10000		/* bound on exiting after shutdown */
#define KILL_EVERY_MS	100		/* supervisor: kill -9 and re-fork */
#define QUIET_EVERY	3		/* a quiet window every 3 kills */
#define QUIET_MS	2000		/* bound on answering in a quiet window */
#define NR_CLIENTS	4
#define NR_SIGNALFD_EPS	3

/* Worker kinds; each has its own accept count in the report. */
enum kind { PROC, NESTED, URING, URING_MULTI, THREAD, SHARED, NR_KINDS };
static const char * const kind_name[NR_KINDS] = {
	"procs", "nested", "uring", "uring_multishot", "threads", "shared"
};
/* Process slots that the supervisor kills and re-forks. */
static const enum kind proc_slots[] = {
	PROC, PROC, PROC, NESTED, URING, URING_MULTI
};
#define NR_PROC_SLOTS	(sizeof(proc_slots) / sizeof(proc_slots[0]))
#define NR_OWN_THREADS	2		/* threads with their own instance */
#define NR_SHARED_THREADS 2		/* threads on one shared instance */

/*
 * QUIET: clients start no connection and the churn thread pauses, so only
 * the wakeups of the connections in flight can get them answered.  Under
 * load a lost wakeup is healed by the next arrival (level-triggered items
 * drain the backlog); in a quiet window it shows as a connection that is
 * not answered within QUIET_MS.
 */
enum phase { RUN, QUIET, DRAIN, PARKED };

/* Counters shared by every process of a run (MAP_SHARED). */
struct shared {
	int phase;
	unsigned int next_id;		/* connection ids handed to clients */
	/* clients */
	long long connected, acked, reset, stalled, connect_errors;
	long long in_flight;
	long long max_wait_us;
	/* workers */
	long long accepted, answered, peer_gone, duplicates, errors;
	long long by_kind[NR_KINDS];
	long long ctl_ops, recreated, dup_swaps, spurious;
	/* supervisor and helpers */
	long long kills, pollfree_rounds, signals, ring_leaves;
	long long quiet_windows, quiet_stalls, quiet_max_us;
	int pool_parked;
	unsigned char seen[MAX_CONNS];
};

#define ADD(field, n)	__atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)
#define GET(field)	__atomic_load_n(&(field), __ATOMIC_ACQUIRE)
#define SET(field, v)	__atomic_store_n(&(field), (v), __ATOMIC_RELEASE)

struct ctx {
	struct shared *sh;
	int listen_fd;
	struct sockaddr_in addr;
	uint32_t events;		/* of every listening-socket item */
	int create_flags;		/* of every epoll instance */
	bool uring;			/* io_uring accept works here */
	unsigned int multishot;		/* IORING_ACCEPT_* of URING_MULTI */
};

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, us % 1000000 * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* An unexpected error in a worker or helper: counted, and failed on. */
static void report_error(struct ctx *c, const char *what)
{
	ADD(c->sh->errors, 1);
	fprintf(stderr, "# %d: %s: %s\n", getpid(), what, strerror(errno));
}

static bool have_roundrobin(void)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN,
	};
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = epfd >= 0 && fd >= 0 &&
		  !epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);

	close(fd);
	close(epfd);
	return ok;
}

static bool have_io_uring(void)
{
	struct io_uring ring;

	if (io_uring_queue_init(2, &ring, 0))
		return false;
	io_uring_queue_exit(&ring);
	return true;
}

/*
 * Does io_uring take accept flags @flags?  EINVAL on a kernel without
 * them, checked before the file (-1, so EBADF where they are known).
 */
static bool have_uring_accept(unsigned int flags)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	bool ok = false;

	if (io_uring_queue_init(2, &ring, 0))
		return false;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_accept(sqe, -1, NULL, NULL, 0);
	sqe->ioprio = flags;
	if (io_uring_submit(&ring) == 1 && !io_uring_wait_cqe(&ring, &cqe)) {
		ok = cqe->res == -EBADF;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return ok;
}

/* ---- serving one connection ---- */

/* Read the client's id, mark it seen, answer with it. */
static void serve(struct ctx *c, int conn, enum kind kind)
{
	struct timeval tv = { STALL_MS / 1000, 0 };
	uint32_t id;
	ssize_t n;

	ADD(c->sh->accepted, 1);
	ADD(c->sh->by_kind[kind], 1);
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/*
	 * EINTR: io_uring task work of this worker's multishot accept
	 * (TWA_SIGNAL) interrupts a read that has a timeout.
	 */
	do
		n = read(conn, &id, sizeof(id));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(id) || id >= MAX_CONNS) {
		ADD(c->sh->peer_gone, 1);
	} else {
		if (__atomic_fetch_add(&c->sh->seen[id], 1, __ATOMIC_RELAXED))
			ADD(c->sh->duplicates, 1);
		ADD(c->sh->answered, 1);
		do
			n = write(conn, &id, sizeof(id));
		while (n < 0 && errno == EINTR);
		if (n != sizeof(id))
			ADD(c->sh->peer_gone, 1);
	}
	close(conn);
}

/* ---- epoll workers: processes, nested, threads with their own instance ---- */

struct waiter {
	struct ctx *c;
	int lfd;		/* this worker's dup of the listening socket */
	int ep;			/* holds lfd */
	int outer;		/* -1, or the instance waited on, holding ep */
	unsigned int seed;
};

static int ep_ctl(struct waiter *w, int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int ret = epoll_ctl(w->ep, op, fd, &ev);

	ADD(w->c->sh->ctl_ops, 1);
	/* A stale item (see shake()) may hold the number dup() reused. */
	if (ret && !(op == EPOLL_CTL_ADD && errno == EEXIST))
		report_error(w->c, op == EPOLL_CTL_ADD ? "EPOLL_CTL_ADD" : "EPOLL_CTL_DEL");
	return ret;
}

static bool have_wake_fifo(void)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC | EPOLL_WAKE_FIFO);

	close(epfd);
	return epfd >= 0;
}

static void waiter_open_ep(struct waiter *w, bool nested)
{
	struct epoll_event ev = { .events = EPOLLIN };

	w->ep = epoll_create1(w->c->create_flags);
	if (w->ep < 0)
		report_error(w->c, "epoll_create1");
	ep_ctl(w, EPOLL_CTL_ADD, w->lfd, w->c->events);
	w->outer = -1;
	if (!nested)
		return;
	/* Epoll targets take neither EPOLLEXCLUSIVE nor EPOLLROUNDROBIN. */
	w->outer = epoll_create1(w->c->create_flags);
	if (w->outer < 0 || epoll_ctl(w->outer, EPOLL_CTL_ADD, w->ep, &ev))
		report_error(w->c, "nested epoll");
}

static void waiter_close_ep(struct waiter *w)
{
	if (w->outer >= 0)
		close(w->outer);
	close(w->ep);
}

/* Churn this worker's registration; called between connections. */
static void shake(struct waiter *w)
{
	int fd;

	switch (rand_r(&w->seed) % 16) {
	case 0:
	case 1:
		ep_ctl(w, EPOLL_CTL_DEL, w->lfd, 0);
		ep_ctl(w, EPOLL_CTL_ADD, w->lfd, w->c->events);
		break;
	case 2:
		waiter_close_ep(w);
		waiter_open_ep(w, w->outer >= 0);
		ADD(w->c->sh->recreated, 1);
		break;
	case 3:
	case 4:
		/*
		 * Move to a dup of the socket.  In case 4 the old item stays:
		 * epoll keys items by file and fd, so it lives on, keyed by a
		 * closed fd, until the instance is closed.
		 */
		fd = dup(w->lfd);
		if (fd < 0) {
			report_error(w->c, "dup");
			break;
		}
		ep_ctl(w, EPOLL_CTL_ADD, fd, w->c->events);
		if (rand_r(&w->seed) % 2)
			ep_ctl(w, EPOLL_CTL_DEL, w->lfd, 0);
		close(w->lfd);
		w->lfd = fd;
		ADD(w->c->sh->dup_swaps, 1);
		break;
	}
}

/*
 * Accept until the listening socket is shut down.  Waits have no timeout:
 * a lost wakeup leaves a connection in the backlog, which the client
 * reports as a stall.
 */
static void waiter_run(struct ctx *c, enum kind kind, unsigned int seed)
{
	struct waiter w = { .c = c, .seed = seed };
	struct epoll_event ev;
	int conn, n;

	w.lfd = dup(c->listen_fd);
	if (w.lfd < 0) {
		report_error(c, "dup");
		return;
	}
	waiter_open_ep(&w, kind == NESTED);
	for (;;) {
		n = epoll_wait(w.outer >= 0 ? w.outer : w.ep, &ev, 1, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			report_error(c, "epoll_wait");
			break;
		}
		conn = accept4(w.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EAGAIN) {
				ADD(c->sh->spurious, 1);
				continue;
			}
			if (errno != EINVAL)	/* EINVAL: shut down */
				report_error(c, "accept4");
			break;
		}
		serve(c, conn, kind);
		shake(&w);
	}
	waiter_close_ep(&w);
	close(w.lfd);
}

/* ---- io_uring workers: single-shot accepts, or one multishot accept ---- */

enum { UD_ACCEPT = 1, UD_CANCEL };
#define LEAVE_EVERY_MS	50	/* a multishot worker leaves the queue */
#define LEAVE_PAUSE_US	5000	/* ... after not reaping for this long */

/*
 * The multishot ring is DEFER_TASKRUN: a wakeup it takes is handled only
 * when its task waits, so leaving can catch a wakeup taken and not yet
 * handled, which the kernel must pass on to another waiter.
 */
#define MULTI_RING_FLAGS (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN)

/*
 * Leave the queue while connections arrive: cancel the multishot accept
 * and serve what it still took; or, every other time, close the ring
 * with the accept queued, after serving the connections whose CQEs are
 * posted (a connection accepted behind a CQE that the close discards
 * would stay open in this process, unanswered).  Either way, a wakeup the
 * ring took but had not handled must reach another worker, or the
 * connection sits in the backlog, which a quiet window catches.  Never
 * killed by the supervisor, since a kill -9 drops the connections its ring
 * accepted.  Returns false if the ring could not be re-created.
 */
static bool uring_leave(struct ctx *c, struct io_uring *ring, bool close_ring)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	bool ended = false, cancelled = false;
	int ret;

	/*
	 * Busy elsewhere for a moment, as a worker finishing a request: a
	 * wakeup taken now waits, unhandled, in the ring's task work.
	 */
	sleep_us(LEAVE_PAUSE_US);
	if (close_ring) {
		/* CQEs already posted; no io_uring_enter(), no task work */
		while (!io_uring_peek_cqe(ring, &cqe)) {
			if (cqe->res >= 0)
				serve(c, cqe->res, URING_MULTI);
			io_uring_cqe_seen(ring, cqe);
		}
		io_uring_queue_exit(ring);
		ADD(c->sh->ring_leaves, 1);
		if (!io_uring_queue_init(8, ring, MULTI_RING_FLAGS))
			return true;
		report_error(c, "io_uring_queue_init");
		return false;
	}
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_cancel64(sqe, UD_ACCEPT, 0);
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
	io_uring_submit(ring);
	while (!ended || !cancelled) {
		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret) {
			errno = -ret;
			report_error(c, "io_uring_wait_cqe (cancel)");
			return false;
		}
		if (cqe->user_data == UD_CANCEL) {
			cancelled = true;
		} else if (cqe->res >= 0) {
			serve(c, cqe->res, URING_MULTI);
			ended = !(cqe->flags & IORING_CQE_F_MORE);
		} else {
			ended = true;	/* ECANCELED, or EINVAL: shut down */
		}
		io_uring_cqe_seen(ring, cqe);
	}
	ADD(c->sh->ring_leaves, 1);
	return true;
}

static void uring_run(struct ctx *c, enum kind kind)
{
	struct __kernel_timespec ts = { .tv_nsec = LEAVE_EVERY_MS * 1000000LL };
	long long next_leave = now_us() + LEAVE_EVERY_MS * 1000;
	unsigned int leaves = 0;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	bool armed = false;
	int ret, res;

	if (io_uring_queue_init(8, &ring,
				kind == URING_MULTI ? MULTI_RING_FLAGS : 0)) {
		report_error(c, "io_uring_queue_init");
		return;
	}
	for (;;) {
		if (kind == URING_MULTI && armed && now_us() >= next_leave &&
		    GET(c->sh->phase) != PARKED) {
			if (!uring_leave(c, &ring, leaves++ % 2))
				return;
			armed = false;
			next_leave = now_us() + LEAVE_EVERY_MS * 1000;
		}
		if (!armed) {
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_accept(sqe, c->listen_fd, NULL, NULL,
					     SOCK_CLOEXEC);
			io_uring_sqe_set_data64(sqe, UD_ACCEPT);
			if (kind == URING_MULTI)
				sqe->ioprio = c->multishot;
			io_uring_submit(&ring);
			armed = true;
		}
		do
			ret = kind == URING_MULTI ?
			      io_uring_wait_cqe_timeout(&ring, &cqe, &ts) :
			      io_uring_wait_cqe(&ring, &cqe);
		while (ret == -EINTR);
		if (ret == -ETIME)
			continue;
		if (ret) {
			errno = -ret;
			report_error(c, "io_uring_wait_cqe");
			break;
		}
		res = cqe->res;
		armed = kind == URING_MULTI && (cqe->flags & IORING_CQE_F_MORE);
		io_uring_cqe_seen(&ring, cqe);
		if (res >= 0) {
			serve(c, res, kind);
		} else if (res != -EAGAIN && res != -EINTR) {
			if (res != -EINVAL) {	/* EINVAL: shut down */
				errno = -res;
				report_error(c, "io_uring accept");
			}
			break;
		}
	}
	io_uring_queue_exit(&ring);
}

/* fork() for the supervisor: the child dies with it. */
static pid_t fork_child(struct ctx *c)
{
	pid_t pid = fork();

	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	else if (pid < 0)
		report_error(c, "fork");
	return pid;
}

static pid_t fork_worker(struct ctx *c, enum kind kind, unsigned int seed)
{
	pid_t pid = fork_child(c);

	if (pid)
		return pid;
	if ((kind == URING || kind == URING_MULTI) && c->uring)
		uring_run(c, kind);
	else if (kind == URING || kind == URING_MULTI)
		waiter_run(c, PROC, seed);
	else
		waiter_run(c, kind, seed);
	_exit(0);
}

/* ---- thread pool: own instances, one shared instance, a churn thread ---- */

struct pool {
	struct ctx *c;
	int shared_ep;
	int shared_lfd;
};

struct pool_arg {
	struct pool *pool;
	unsigned int seed;
};

static void *own_thread(void *arg)
{
	struct pool_arg *a = arg;

	waiter_run(a->pool->c, THREAD, a->seed);
	return NULL;
}

/* Level-triggered: a ready item wakes the next thread, so a shutdown
 * reaches every thread on the shared instance.
 */
static void *shared_thread(void *arg)
{
	struct pool *p = ((struct pool_arg *)arg)->pool;
	struct ctx *c = p->c;
	struct epoll_event ev;
	int conn;

	for (;;) {
		if (epoll_wait(p->shared_ep, &ev, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			report_error(c, "epoll_wait (shared)");
			break;
		}
		conn = accept4(p->shared_lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn >= 0) {
			serve(c, conn, SHARED);
		} else if (errno == EAGAIN) {
			ADD(c->sh->spurious, 1);
		} else {
			if (errno != EINVAL)
				report_error(c, "accept4 (shared)");
			break;
		}
	}
	return NULL;
}

/* DEL/ADD the shared item while threads sleep on it, and churn a scratch
 * instance's item on the same socket.
 */
static void *churn_thread(void *arg)
{
	struct pool *p = ((struct pool_arg *)arg)->pool;
	struct waiter shared = { .c = p->c, .lfd = p->shared_lfd,
				 .ep = p->shared_ep };
	struct waiter scratch = { .c = p->c, .lfd = p->shared_lfd };
	unsigned int i;

	waiter_open_ep(&scratch, false);
	for (i = 0; GET(p->c->sh->phase) < DRAIN; i++) {
		/* A re-added ready item wakes a thread: no help in quiet windows. */
		if (GET(p->c->sh->phase) == QUIET) {
			sleep_us(1000);
			continue;
		}
		ep_ctl(&shared, EPOLL_CTL_DEL, shared.lfd, 0);
		ep_ctl(&shared, EPOLL_CTL_ADD, shared.lfd, p->c->events);
		ep_ctl(&scratch, EPOLL_CTL_DEL, scratch.lfd, 0);
		ep_ctl(&scratch, EPOLL_CTL_ADD, scratch.lfd, p->c->events);
		if (i % 64 == 63) {
			waiter_close_ep(&scratch);
			waiter_open_ep(&scratch, false);
			ADD(p->c->sh->recreated, 1);
		}
		sleep_us(200);
	}
	waiter_close_ep(&scratch);
	return NULL;
}

/* The pool process: exits 0 once every thread has returned. */
static int pool_run(struct ctx *c)
{
	enum { NR = NR_OWN_THREADS + NR_SHARED_THREADS };
	struct pool p = { .c = c };
	struct pool_arg args[NR + 1];
	pthread_t tid[NR + 1];
	struct epoll_event ev = { .events = c->events };
	struct timespec deadline;
	int i, bad = 0;

	p.shared_lfd = dup(c->listen_fd);
	p.shared_ep = epoll_create1(c->create_flags);
	if (p.shared_lfd < 0 || p.shared_ep < 0 ||
	    epoll_ctl(p.shared_ep, EPOLL_CTL_ADD, p.shared_lfd, &ev)) {
		report_error(c, "shared epoll");
		return 1;
	}
	for (i = 0; i <= NR; i++) {
		args[i] = (struct pool_arg){ &p, 1000 + i };
		if (pthread_create(&tid[i], NULL,
				   i == NR ? churn_thread :
				   i < NR_OWN_THREADS ? own_thread : shared_thread,
				   &args[i]))
			return 1;
	}
	/* The churn thread ends with the run; then the pool is parked. */
	pthread_join(tid[NR], NULL);
	SET(c->sh->pool_parked, 1);
	/* The supervisor shuts the socket down about 1 s after parking. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2 + EXIT_MS / 1000;
	for (i = 0; i < NR; i++) {
		if (pthread_timedjoin_np(tid[i], NULL, &deadline)) {
			fprintf(stderr, "# pool thread %d did not exit\n", i);
			bad = 1;
		}
	}
	return bad;
}

/* ---- POLLFREE: a signalfd whose sighand is freed under the instances ---- */

struct pollfree {
	struct ctx *c;
	int ep[NR_SIGNALFD_EPS];
};

/* Wait on whichever instances exist, while the helper closes them. */
static void *pollfree_waiter(void *arg)
{
	struct pollfree *pf = arg;
	struct epoll_event ev;
	unsigned int i = 0;

	while (GET(pf->c->sh->phase) < DRAIN) {
		int ep = __atomic_load_n(&pf->ep[i++ % NR_SIGNALFD_EPS], __ATOMIC_RELAXED);

		if (ep >= 0)
			epoll_wait(ep, &ev, 1, 5);	/* EBADF is fine here */
		else
			sleep_us(1000);
	}
	return NULL;
}

/*
 * Each round: a child registers an inherited signalfd (so the wait queue is
 * the child's sighand->signalfd_wqh) in every instance with the test's
 * flags, queues real-time signals to itself (each one an exclusive wakeup
 * of that queue), and exits.  Reaping it frees the sighand: POLLFREE
 * unhooks the items that are still there, while a waiter thread sleeps on
 * the instances and this thread closes one of them.
 */
static int pollfree_run(struct ctx *c)
{
	struct pollfree pf = { .c = c };
	pthread_t waiter[2];
	unsigned int seed = 7;
	sigset_t set;
	int i, sfd;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		report_error(c, "signalfd");
		return 1;
	}
	for (i = 0; i < NR_SIGNALFD_EPS; i++)
		pf.ep[i] = -1;
	for (i = 0; i < 2; i++)
		if (pthread_create(&waiter[i], NULL, pollfree_waiter, &pf))
			return 1;

	while (GET(c->sh->phase) < DRAIN) {
		struct epoll_event ev = { .events = c->events };
		pid_t pid;

		for (i = 0; i < NR_SIGNALFD_EPS; i++)
			__atomic_store_n(&pf.ep[i], epoll_create1(c->create_flags),
					 __ATOMIC_RELAXED);
		pid = fork();
		if (pid == 0) {
			struct signalfd_siginfo si;
			int n = 0, k;

			for (i = 0; i < NR_SIGNALFD_EPS; i++)
				if (epoll_ctl(pf.ep[i], EPOLL_CTL_ADD, sfd, &ev))
					_exit(2);
			for (k = 0; k < 32; k++) {
				if (kill(getpid(), SIGRTMIN) == 0)
					n++;
				if (k % 8 == 7)	/* drain, or the queue fills */
					while (read(sfd, &si, sizeof(si)) > 0)
						;
			}
			_exit(n == 32 ? 0 : 3);
		}
		if (pid < 0) {
			report_error(c, "fork");
			break;
		}
		sleep_us(rand_r(&seed) % 500);
		i = rand_r(&seed) % NR_SIGNALFD_EPS;
		close(__atomic_exchange_n(&pf.ep[i], -1, __ATOMIC_RELAXED));
		if (waitpid(pid, &i, 0) != pid || !WIFEXITED(i) || WEXITSTATUS(i)) {
			errno = EPROTO;
			report_error(c, "signalfd child");
		}
		ADD(c->sh->signals, 32);
		ADD(c->sh->pollfree_rounds, 1);
		for (i = 0; i < NR_SIGNALFD_EPS; i++) {
			int ep = __atomic_exchange_n(&pf.ep[i], -1, __ATOMIC_RELAXED);

			if (ep >= 0)
				close(ep);
		}
	}
	for (i = 0; i < 2; i++)
		pthread_join(waiter[i], NULL);
	return 0;
}

/* ---- clients ---- */

/* One connection: send the id, expect it back.  False: stop the client. */
static bool client_connection(struct ctx *c, unsigned int id)
{
	struct timeval tv = { STALL_MS / 1000, 0 };
	struct shared *sh = c->sh;
	long long t0, wait;
	uint32_t answer;
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ADD(sh->connect_errors, 1);
		return false;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&c->addr, sizeof(c->addr))) {
		fprintf(stderr, "# connect: %s\n", strerror(errno));
		ADD(sh->connect_errors, 1);
		close(fd);
		return true;
	}
	ADD(sh->connected, 1);
	t0 = now_us();
	n = write(fd, &id, sizeof(id)) == sizeof(id) ?
	    read(fd, &answer, sizeof(answer)) : -1;
	wait = now_us() - t0;
	if (n == sizeof(answer) && answer == id) {
		ADD(sh->acked, 1);
		/* Wait for the server's FIN: it closes first, so the client
		 * port leaves no TIME_WAIT behind.
		 */
		while (read(fd, &answer, sizeof(answer)) > 0)
			;
	} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		fprintf(stderr, "# connection %u: no answer in %d ms\n",
			id, STALL_MS);
		ADD(sh->stalled, 1);
	} else {
		ADD(sh->reset, 1);	/* its worker was killed */
	}
	if (wait > GET(sh->max_wait_us))
		SET(sh->max_wait_us, wait);	/* racy max: a report */
	close(fd);
	return true;
}

static void *client_thread(void *arg)
{
	struct ctx *c = arg;
	struct shared *sh = c->sh;
	bool more = true;

	while (more && GET(sh->phase) < DRAIN) {
		unsigned int id;

		/* Count in first: the supervisor sets QUIET, then waits
		 * for in_flight to drop to 0.
		 */
		ADD(sh->in_flight, 1);
		if (GET(sh->phase) != RUN) {
			ADD(sh->in_flight, -1);
			sleep_us(1000);
			continue;
		}
		id = ADD(sh->next_id, 1) - 1;
		more = id < MAX_CONNS && client_connection(c, id);
		ADD(sh->in_flight, -1);
	}
	return NULL;
}

static int clients_run(struct ctx *c)
{
	pthread_t tid[NR_CLIENTS];
	int i;

	for (i = 0; i < NR_CLIENTS; i++)
		if (pthread_create(&tid[i], NULL, client_thread, c))
			return 1;
	for (i = 0; i < NR_CLIENTS; i++)
		pthread_join(tid[i], NULL);
	return 0;
}

/* ---- supervisor ---- */

static pid_t fork_fn(struct ctx *c, int (*fn)(struct ctx *))
{
	pid_t pid = fork_child(c);

	if (pid == 0)
		_exit(fn(c));
	return pid;
}

/* Reap PID within the deadline; returns its exit status or -1. */
static int reap_by(pid_t pid, long long deadline_us)
{
	int status;

	if (pid <= 0)
		return -1;	/* never forked: reported then */
	while (now_us() < deadline_us) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (r < 0)
			return -1;
		sleep_us(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Hold new connections until those in flight are answered. */
static void quiet_window(struct shared *sh)
{
	long long t0 = now_us(), t;

	SET(sh->phase, QUIET);
	while (GET(sh->in_flight) && now_us() - t0 < QUIET_MS * 1000LL)
		sleep_us(200);
	t = now_us() - t0;
	if (GET(sh->in_flight)) {
		ksft_print_msg("quiet window: %lld connections unanswered after %d ms\n",
			       GET(sh->in_flight), QUIET_MS);
		sh->quiet_stalls++;
		/* Let the clients' own STALL_MS bound report them. */
		while (GET(sh->in_flight) && now_us() - t0 < 2LL * STALL_MS * 1000)
			sleep_us(1000);
	}
	if (t > sh->quiet_max_us)
		sh->quiet_max_us = t;
	sh->quiet_windows++;
	SET(sh->phase, RUN);
}

static int stress_secs(void)
{
	const char *s = getenv("EPOLL_RR_STRESS_SECS");
	char *end;
	long v;

	if (!s)
		return DEFAULT_SECS;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > MAX_SECS)
		return -1;
	return v;
}

FIXTURE(stress) {
	struct ctx c;
};

FIXTURE_VARIANT(stress) {
	bool roundrobin;
};

FIXTURE_VARIANT_ADD(stress, exclusive) { .roundrobin = false };
FIXTURE_VARIANT_ADD(stress, roundrobin) { .roundrobin = true };

FIXTURE_SETUP(stress)
{
	socklen_t len = sizeof(self->c.addr);

	if (variant->roundrobin && !have_roundrobin())
		SKIP(return, "kernel lacks EPOLLROUNDROBIN");
	if (variant->roundrobin && !have_wake_fifo())
		SKIP(return, "kernel lacks EPOLL_WAKE_FIFO");
	self->c.events = EPOLLIN | EPOLLEXCLUSIVE |
			 (variant->roundrobin ? EPOLLROUNDROBIN : 0);
	/* Round-robin runs with every instance FIFO, so both paths churn. */
	self->c.create_flags = EPOLL_CLOEXEC |
			       (variant->roundrobin ? EPOLL_WAKE_FIFO : 0);
	self->c.uring = have_io_uring();
	self->c.multishot = IORING_ACCEPT_MULTISHOT |
			    (variant->roundrobin ? IORING_ACCEPT_ROUNDROBIN : 0);
	if (self->c.uring && !have_uring_accept(self->c.multishot))
		SKIP(return, "kernel lacks IORING_ACCEPT_%s",
		     variant->roundrobin ? "ROUNDROBIN" : "MULTISHOT");
	self->c.sh = mmap(NULL, sizeof(*self->c.sh), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->c.sh);
	memset(&self->c.addr, 0, sizeof(self->c.addr));
	self->c.addr.sin_family = AF_INET;
	self->c.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	self->c.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->c.listen_fd);
	ASSERT_EQ(0, bind(self->c.listen_fd, (struct sockaddr *)&self->c.addr,
			  sizeof(self->c.addr)));
	ASSERT_EQ(0, listen(self->c.listen_fd, 1024));
	ASSERT_EQ(0, getsockname(self->c.listen_fd, (struct sockaddr *)&self->c.addr, &len));
}

FIXTURE_TEARDOWN(stress)
{
	if (self->c.sh) {
		close(self->c.listen_fd);
		munmap(self->c.sh, sizeof(*self->c.sh));
	}
}

TEST_F_TIMEOUT(stress, run, 1800)
{
	struct ctx *c = &self->c;
	struct shared *sh = c->sh;
	const char *name = variant->roundrobin ? "roundrobin" : "exclusive";
	pid_t slot[NR_PROC_SLOTS], pool, helper, clients;
	int secs = stress_secs(), k, status, exits_late = 0;
	long long start, end, deadline, dropped;
	unsigned int seed = 1, gen = 0, tick;
	size_t i;

	ASSERT_LT(0, secs) TH_LOG("EPOLL_RR_STRESS_SECS must be 1..%d", MAX_SECS);
	if (!c->uring)
		ksft_print_msg("stress %s: io_uring unavailable, io_uring slots run epoll\n",
			       name);
	for (i = 0; i < NR_PROC_SLOTS; i++)
		slot[i] = fork_worker(c, proc_slots[i], gen++);
	pool = fork_fn(c, pool_run);
	helper = fork_fn(c, pollfree_run);
	clients = fork_fn(c, clients_run);

	/*
	 * Run: kill -9 a random worker process and fork its successor; every
	 * few kills, a quiet window.
	 */
	start = now_us();
	end = start + secs * 1000000LL;
	for (tick = 1; now_us() < end; tick++) {
		sleep_us(KILL_EVERY_MS * 1000);
		if (tick % QUIET_EVERY == 0)
			quiet_window(sh);
		i = rand_r(&seed) % NR_PROC_SLOTS;
		if (proc_slots[i] == URING_MULTI)
			continue;	/* see uring_leave() */
		if (slot[i] > 0) {	/* never kill(-1, ...) */
			kill(slot[i], SIGKILL);
			waitpid(slot[i], &status, 0);
			ADD(sh->kills, 1);
		}
		slot[i] = fork_worker(c, proc_slots[i], gen++);
	}

	/* Drain: clients finish their connections, each within STALL_MS. */
	SET(sh->phase, DRAIN);
	deadline = now_us() + 3LL * STALL_MS * 1000;
	EXPECT_EQ(0, reap_by(clients, deadline)) TH_LOG("clients did not finish");
	EXPECT_EQ(0, reap_by(helper, deadline)) TH_LOG("POLLFREE helper failed");
	end = now_us();
	while (!GET(sh->pool_parked) && now_us() < deadline)
		sleep_us(10000);

	/* Shutdown while every worker sleeps: all of them must wake and exit. */
	sleep_us(1000000);
	SET(sh->phase, PARKED);
	ASSERT_EQ(0, shutdown(c->listen_fd, SHUT_RDWR));
	deadline = now_us() + EXIT_MS * 1000LL;
	for (i = 0; i < NR_PROC_SLOTS; i++) {
		k = reap_by(slot[i], deadline);
		if (k) {
			ksft_print_msg("worker %s (slot %zu) exit: %d\n",
				       kind_name[proc_slots[i]], i, k);
			exits_late++;
		}
	}
	k = reap_by(pool, deadline + 3000000LL);
	if (k) {
		ksft_print_msg("thread pool exit: %d\n", k);
		exits_late++;
	}

	/*
	 * A worker killed between accept() and its answer takes the
	 * connection with it (before or after counting the accept; for
	 * io_uring, possibly with the completion still in its ring).
	 */
	dropped = sh->connected - sh->answered;
	ksft_print_msg("stress %s: %d s, %lld connections (%lld/s), %lld ctl ops, %lld epoll re-creations, %lld dup swaps, %lld kills, %lld POLLFREE rounds, %lld signals, %lld multishot accepts cancelled\n",
		       name, secs, sh->acked,
		       sh->acked * 1000000 / (end - start), sh->ctl_ops,
		       sh->recreated, sh->dup_swaps, sh->kills,
		       sh->pollfree_rounds, sh->signals, sh->ring_leaves);
	ksft_print_msg("stress %s: connected %lld, accepted %lld, answered %lld, acked %lld, dropped by kill -9 %lld, duplicates %lld, stalled %lld (bound %d ms), longest wait %lld ms, spurious wakeups %lld\n",
		       name, sh->connected, sh->accepted, sh->answered,
		       sh->acked, dropped, sh->duplicates, sh->stalled,
		       STALL_MS, sh->max_wait_us / 1000, sh->spurious);
	ksft_print_msg("stress %s: %lld quiet windows, longest %lld ms (bound %d ms), %lld unanswered\n",
		       name, sh->quiet_windows, sh->quiet_max_us / 1000, QUIET_MS,
		       sh->quiet_stalls);
	ksft_print_msg("stress %s: accepts by kind: %s=%lld %s=%lld %s=%lld %s=%lld %s=%lld %s=%lld\n",
		       name, kind_name[0], sh->by_kind[0], kind_name[1], sh->by_kind[1],
		       kind_name[2], sh->by_kind[2], kind_name[3], sh->by_kind[3],
		       kind_name[4], sh->by_kind[4], kind_name[5], sh->by_kind[5]);

	EXPECT_EQ(0, sh->errors) TH_LOG("unexpected errors in workers (see above)");
	EXPECT_EQ(0, sh->connect_errors);
	EXPECT_EQ(0, sh->stalled) TH_LOG("connections waited > %d ms: lost wakeup?", STALL_MS);
	EXPECT_EQ(0, sh->quiet_stalls) TH_LOG("unanswered in a quiet window: lost wakeup?");
	EXPECT_LT(0, sh->quiet_windows);
	EXPECT_EQ(0, sh->duplicates);
	EXPECT_EQ(0, sh->peer_gone);
	/* Each connection ends answered, stalled (failed above) or dropped
	 * by a killed worker, which holds one at most.
	 */
	EXPECT_EQ(sh->connected, sh->acked + sh->reset + sh->stalled);
	EXPECT_GE(sh->connected, sh->accepted);
	EXPECT_GE(sh->answered, sh->acked);
	EXPECT_GE(sh->kills, dropped) TH_LOG("connections lost");
	EXPECT_GE(sh->kills, sh->reset);
	EXPECT_EQ(0, exits_late) TH_LOG("workers still running %d ms after shutdown", EXIT_MS);
	EXPECT_LT(100, sh->acked) TH_LOG("too little load to mean anything");
	EXPECT_LT(0, sh->pollfree_rounds);
	if (c->uring)
		EXPECT_LT(0, sh->ring_leaves);
	/* Round-robin reaches every kind of waiter. */
	if (variant->roundrobin)
		for (k = 0; k < NR_KINDS; k++)
			if ((k != URING && k != URING_MULTI) || c->uring)
				EXPECT_LT(0, sh->by_kind[k]);
}

TEST_HARNESS_MAIN

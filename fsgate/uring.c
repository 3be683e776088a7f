/* uring.c: FUSE over io_uring (Linux 6.14, FUSE 7.42).
 *
 * Through /dev/fuse, a request made on one CPU wakes whichever worker
 * waits first, most often on the other CPU, and the reply wakes the caller
 * back across: two cross-CPU wake-ups, each an IPI and often a halted vCPU
 * to wake, per request. Measured here, that doubles the time of a stat or
 * an open (everything pinned to one CPU: 0.09-0.12 s vs 0.19-0.22 s for
 * 10,000 stats). With io_uring the kernel queues a request on the ring of
 * the caller's own CPU, served by a thread pinned there: the request and
 * its reply stay on one CPU.
 *
 * libfuse 3.14 predates it, so it is done here, around it, as pass.c does
 * for passthrough:
 *   - INIT: when the kernel offers FUSE_OVER_IO_URING (it does when the
 *     fuse module's enable_uring parameter is set), one thread per
 *     CPU we may run on sets up its ring and buffers first (struct
 *     ur_queue); only when all did is the flag taken in libfuse's reply. Once taken, the kernel holds
 *     every request until each CPU's queue has an entry registered (or a
 *     registration fails, which sends it back to /dev/fuse).
 *   - A ring entry is a header buffer (the request's fuse_in_header, its
 *     fixed argument struct, and the entry's sizes) and a payload buffer.
 *     The header and struct are moved to just before the payload, which
 *     makes the request contiguous, as read(2) of /dev/fuse gives it, and
 *     libfuse's fuse_session_process_buf() decodes it.
 *   - The reply libfuse writes (our writev, pass.c) goes into the entry
 *     instead: the out header into the header buffer, the rest into the
 *     payload; then COMMIT_AND_FETCH sends it and waits for the next one.
 *     A reply sent later by another thread (a blocking lock's waiter,
 *     ops_file.c) is stored the same way and handed to the ring's thread
 *     (eventfd): only that thread submits to its ring.
 * FORGET, INTERRUPT and our notifications still go through /dev/fuse,
 * served by loop.c's workers. A ring thread never pushes file content
 * into the page cache (ops_file.c): that may wait for a page that a read
 * queued behind it on the same ring holds locked.
 * FSGATE_NO_URING=1 turns it off (for measurements).
 */
#include <errno.h>
#include <linux/fuse.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sysfile.h"
#include "fsg.h"

/* Linux 6.14's uapi, newer than Debian 12's headers */
#define UR_CMD_REGISTER 1u        /* FUSE_IO_URING_CMD_REGISTER */
#define UR_CMD_COMMIT 2u          /* FUSE_IO_URING_CMD_COMMIT_AND_FETCH */
struct ur_ent_io {                /* struct fuse_uring_ent_in_out */
	uint64_t flags;
	uint64_t commit_id;
	uint32_t payload_sz;
	uint32_t padding;
	uint64_t reserved;
};
struct ur_hdr {                   /* struct fuse_uring_req_header */
	char in_out[128];
	char op_in[128];
	struct ur_ent_io io;
};
struct ur_cmd {                   /* struct fuse_uring_cmd_req, in the SQE */
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

#define UR_NENT 4     /* entries per queue of a CPU we run on */
#define UR_MAX_OTHER 64 /* per ring: queues of CPUs we may not run on */
#define UR_MAX_Q 1024 /* CPUs */
#define UR_MAX_ENT 448 /* entries per ring: see spare() */
#define UR_SQ 64
#define UR_CQ 1024     /* every entry has a command outstanding */
#define UR_PAGE 4096

enum { E_IDLE, E_BUSY, E_PARKED };

struct ur_queue;
struct ur_ent {
	struct ur_queue *q;
	unsigned qid;       /* the kernel's queue (a CPU) it serves */
	void *map;          /* the mapping: header at its end of page 0, then payload */
	struct ur_hdr *h;
	char *payload;
	struct iovec iov[2];
	/* under q->mu while the request is out of this thread's hands */
	uint64_t unique;
	int state;
	bool replied;
	uint32_t reply_len; /* payload bytes of the stored reply */
	struct ur_ent *next_done;
};

/* A ring and its thread, pinned to CPU `cpu`: UR_NENT entries for that
 * CPU's queue, and one for each possible CPU we may not run on (offline,
 * or outside our affinity), whose queues must have one for the kernel to
 * use the rings at all (a CPU that comes online later is served from
 * here, not locally). */
struct ur_queue {
	unsigned cpu;
	int ring, efd;
	uint64_t ebuf;
	unsigned *sq_tail, sq_mask, *sq_array, sq_local, to_submit;
	unsigned *cq_head, *cq_tail, cq_mask;
	char *sqes;
	struct io_uring_cqe *cqes;
	void *map_ring, *map_cq, *map_sqes;
	size_t len_ring, len_cq, len_sqes;
	pthread_t th;
	bool started, ok;
	pthread_mutex_t mu;
	struct ur_ent *done; /* replied by other threads, to commit */
	unsigned nent;       /* grows (spare()), under mu */
	unsigned live;       /* entries the kernel holds (this thread's) */
	struct ur_ent *ents[UR_MAX_ENT];
};

/* One FUSE session per process: its ring state. */
static struct {
	struct fsg *fs;
	unsigned nq;        /* rings (threads); 0: not in use */
	size_t payload;
	sem_t ready, go;
	int go_ok, stop;    /* atomic */
	struct ur_queue *q;
} ur;

/* The entry this thread is answering (a ring thread in its handler). */
static __thread struct ur_ent *cur;
static __thread bool ring_thread;

bool fsg_uring_thread(void)
{
	return ring_thread;
}

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned submit, unsigned wait, unsigned flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, submit, wait, flags, NULL, 0);
}

/* How many queues the kernel makes: one per possible CPU. */
static unsigned possible_cpus(void)
{
	char text[256];
	if (read_small_file("/sys/devices/system/cpu/possible", text, sizeof text) < 0)
		return 0;
	/* "0-1", "0", "0-3,8-11": the highest + 1 */
	const char *p = text + strlen(text);
	while (p > text && (p[-1] < '0' || p[-1] > '9'))
		p--;
	while (p > text && p[-1] >= '0' && p[-1] <= '9')
		p--;
	unsigned long n = strtoul(p, NULL, 10) + 1;
	return n > UR_MAX_Q ? 0 : (unsigned)n;
}

static int ring_map(struct ur_queue *q)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	/* completions run only when this thread waits for them: the wake-up
	 * of a request is one of its own task's */
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	p.flags |= IORING_SETUP_CQSIZE;
	p.cq_entries = UR_CQ;
	int fd = sys_setup(UR_SQ, &p);
	if (fd < 0 && errno == EINVAL) {
		memset(&p, 0, sizeof p);
		p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE;
		p.cq_entries = UR_CQ;
		fd = sys_setup(UR_SQ, &p);
	}
	if (fd < 0)
		return -errno;
	q->ring = fd;
	q->len_ring = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	q->len_cq = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (q->len_cq > q->len_ring)
			q->len_ring = q->len_cq;
		q->len_cq = 0;
	}
	q->map_ring = mmap(NULL, q->len_ring, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			   fd, IORING_OFF_SQ_RING);
	if (q->map_ring == MAP_FAILED)
		return -errno;
	q->map_cq = q->map_ring;
	if (q->len_cq) {
		q->map_cq = mmap(NULL, q->len_cq, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
				 fd, IORING_OFF_CQ_RING);
		if (q->map_cq == MAP_FAILED)
			return -errno;
	}
	q->len_sqes = p.sq_entries * 128;
	q->map_sqes = mmap(NULL, q->len_sqes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			   fd, IORING_OFF_SQES);
	if (q->map_sqes == MAP_FAILED)
		return -errno;
	char *r = q->map_ring, *c = q->map_cq;
	q->sq_tail = (unsigned *)(r + p.sq_off.tail);
	q->sq_mask = *(unsigned *)(r + p.sq_off.ring_mask);
	q->sq_array = (unsigned *)(r + p.sq_off.array);
	q->cq_head = (unsigned *)(c + p.cq_off.head);
	q->cq_tail = (unsigned *)(c + p.cq_off.tail);
	q->cq_mask = *(unsigned *)(c + p.cq_off.ring_mask);
	q->cqes = (struct io_uring_cqe *)(c + p.cq_off.cqes);
	q->sqes = q->map_sqes;
	q->sq_local = *q->sq_tail;
	return 0;
}

static struct io_uring_sqe *get_sqe(struct ur_queue *q)
{
	if (q->to_submit >= UR_SQ) { /* full: hand them over first */
		int n = sys_enter(q->ring, q->to_submit, 0, 0);
		q->to_submit -= n > 0 ? (unsigned)n : 0;
	}
	unsigned idx = q->sq_local & q->sq_mask;
	struct io_uring_sqe *s = (void *)(q->sqes + (size_t)idx * 128);
	memset(s, 0, 128);
	q->sq_array[idx] = idx;
	q->sq_local++;
	__atomic_store_n(q->sq_tail, q->sq_local, __ATOMIC_RELEASE);
	q->to_submit++;
	return s;
}

static void sqe_cmd(struct ur_queue *q, struct ur_ent *e, unsigned op)
{
	struct io_uring_sqe *s = get_sqe(q);
	s->opcode = IORING_OP_URING_CMD;
	s->fd = ur.fs->fuse_fd;
	s->cmd_op = op;
	s->user_data = (uint64_t)(uintptr_t)e;
	if (op == UR_CMD_REGISTER) {
		s->addr = (uint64_t)(uintptr_t)e->iov;
		s->len = 2;
	}
	struct ur_cmd *c = (void *)s->cmd;
	c->commit_id = e->unique;
	c->qid = (uint16_t)e->qid;
}

/* Wait on the eventfd: other threads' replies (user_data 0). */
static void arm_efd(struct ur_queue *q)
{
	struct io_uring_sqe *s = get_sqe(q);
	s->opcode = IORING_OP_READ;
	s->fd = q->efd;
	s->addr = (uint64_t)(uintptr_t)&q->ebuf;
	s->len = sizeof q->ebuf;
	s->user_data = 0;
}

static void commit(struct ur_queue *q, struct ur_ent *e)
{
	e->h->io.flags = 0;
	e->h->io.payload_sz = e->reply_len;
	sqe_cmd(q, e, UR_CMD_COMMIT);
}

/* Store a reply (out header first) in e. The payload may hold the request
 * still being read: nothing the handler reads comes after its reply. */
static ssize_t store(struct ur_ent *e, const struct iovec *iov, int count)
{
	struct fuse_out_header oh;
	size_t total = 0, off = 0;
	for (int i = 0; i < count; i++)
		total += iov[i].iov_len;
	if (iov[0].iov_len < sizeof oh)
		return -EINVAL;
	memcpy(&oh, iov[0].iov_base, sizeof oh);
	if (total - sizeof oh > ur.payload) { /* cannot happen: max_write bounds replies */
		oh.error = -EIO;
		oh.len = sizeof oh;
		total = sizeof oh;
		count = 1;
	}
	for (int i = 0; i < count; i++) {
		const char *src = iov[i].iov_base;
		size_t len = iov[i].iov_len;
		if (i == 0) {
			src += sizeof oh;
			len -= sizeof oh;
		}
		if (len)
			memmove(e->payload + off, src, len);
		off += len;
	}
	memcpy(e->h->in_out, &oh, sizeof oh);
	e->reply_len = (uint32_t)off;
	e->replied = true;
	return (ssize_t)total;
}

bool fsg_uring_reply(const struct iovec *iov, int count, ssize_t *ret)
{
	const struct fuse_out_header *oh = iov[0].iov_base;
	if (iov[0].iov_len < sizeof *oh || oh->unique == 0)
		return false; /* a notification */
	struct ur_ent *e = cur;
	if (e && e->unique == oh->unique) {
		*ret = store(e, iov, count);
		return true;
	}
	unsigned nq = __atomic_load_n(&ur.nq, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < nq; i++) {
		struct ur_queue *q = &ur.q[i];
		pthread_mutex_lock(&q->mu);
		for (unsigned k = 0; q->ok && k < q->nent; k++) {
			e = q->ents[k];
			if (e->state == E_IDLE || e->replied || e->unique != oh->unique)
				continue;
			*ret = store(e, iov, count);
			bool wake = e->state == E_PARKED;
			if (wake) {
				e->next_done = q->done;
				q->done = e;
			}
			pthread_mutex_unlock(&q->mu);
			uint64_t one = 1;
			if (wake && write(q->efd, &one, sizeof one) < 0) {}
			return true;
		}
		pthread_mutex_unlock(&q->mu);
	}
	return false; /* a request read from /dev/fuse */
}

static struct ur_ent *ent_new(unsigned qid)
{
	struct ur_ent *e = calloc(1, sizeof *e);
	if (e)
		e->qid = qid;
	return e;
}

static int ent_map(struct ur_queue *q, struct ur_ent *e)
{
	e->q = q;
	e->map = mmap(NULL, UR_PAGE + ur.payload, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e->map == MAP_FAILED) {
		e->map = NULL;
		return -errno;
	}
	e->payload = (char *)e->map + UR_PAGE;
	e->h = (struct ur_hdr *)(e->payload - sizeof *e->h);
	e->iov[0] = (struct iovec){ e->h, sizeof *e->h };
	e->iov[1] = (struct iovec){ e->payload, ur.payload };
	return 0;
}

/* A request parked (its reply comes later from another thread: a lock
 * wait) keeps its entry; the kernel queues that CPU's next requests only
 * on the others. So a parked request gets a new entry for its queue,
 * else as many lock waits as a queue has entries would stop every
 * request of that CPU, the unlock that frees them too. Entries are
 * never taken back (the kernel has no command for it): a queue keeps
 * as many as it ever had in use, bounded by the lock waiters' own bound
 * (ops_file.c); past UR_MAX_ENT, none is added. */
static void spare(struct ur_queue *q, unsigned qid)
{
	struct ur_ent *e;
	if (q->nent >= UR_MAX_ENT || !(e = ent_new(qid)))
		return;
	if (ent_map(q, e) < 0) {
		free(e);
		return;
	}
	pthread_mutex_lock(&q->mu);
	q->ents[q->nent++] = e;
	pthread_mutex_unlock(&q->mu);
	q->live++;
	sqe_cmd(q, e, UR_CMD_REGISTER);
}

/* One request, arrived in e. */
static void serve(struct ur_queue *q, struct ur_ent *e)
{
	struct fuse_in_header ih;
	memcpy(&ih, e->h->in_out, sizeof ih);
	uint32_t psz = e->h->io.payload_sz;
	size_t opsz = ih.len >= sizeof ih + psz ? ih.len - sizeof ih - psz : SIZE_MAX;
	pthread_mutex_lock(&q->mu);
	e->unique = ih.unique;
	e->state = E_BUSY;
	e->replied = false;
	pthread_mutex_unlock(&q->mu);
	if (opsz > sizeof e->h->op_in || psz > ur.payload) {
		struct fuse_out_header oh = { .len = sizeof oh, .error = -EIO, .unique = ih.unique };
		struct iovec iov = { &oh, sizeof oh };
		store(e, &iov, 1);
	} else {
		/* in header and argument struct right before the payload */
		char *start = e->payload - opsz - sizeof ih;
		memmove(e->payload - opsz, e->h->op_in, opsz);
		memcpy(start, &ih, sizeof ih);
		fsg_count_op(ih.opcode);
		fsg_count_op(FSG_OP_RING);
		cur = e;
		if (ih.opcode == FUSE_TMPFILE) {
			fsg_tmpfile(ur.fs, start, ih.len);
		} else {
			struct fuse_buf b = { .size = ih.len, .mem = start };
			fuse_session_process_buf(ur.fs->se, &b);
		}
		cur = NULL;
		fsg_pass_done();
	}
	pthread_mutex_lock(&q->mu);
	bool replied = e->replied;
	e->state = replied ? E_IDLE : E_PARKED; /* parked: another thread replies */
	pthread_mutex_unlock(&q->mu);
	if (replied)
		commit(q, e);
	else
		spare(q, e->qid);
}

static void commit_done(struct ur_queue *q)
{
	pthread_mutex_lock(&q->mu);
	struct ur_ent *d = q->done;
	q->done = NULL;
	for (struct ur_ent *e = d; e; e = e->next_done)
		e->state = E_IDLE;
	pthread_mutex_unlock(&q->mu);
	for (; d; d = d->next_done)
		commit(q, d);
}

/* Until the connection ends (the kernel gives up every entry) or
 * fsg_uring_stop(). */
static void run(struct ur_queue *q)
{
	for (unsigned k = 0; k < q->nent; k++)
		sqe_cmd(q, q->ents[k], UR_CMD_REGISTER);
	arm_efd(q);
	q->live = q->nent;
	while (q->live > 0 && !__atomic_load_n(&ur.stop, __ATOMIC_RELAXED)) {
		int n = sys_enter(q->ring, q->to_submit, 1, IORING_ENTER_GETEVENTS);
		if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
			return;
		q->to_submit -= n > 0 ? (unsigned)n : 0;
		unsigned head = *q->cq_head;
		unsigned tail = __atomic_load_n(q->cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			struct io_uring_cqe *c = &q->cqes[head & q->cq_mask];
			struct ur_ent *e = (void *)(uintptr_t)c->user_data;
			if (!e) {
				commit_done(q);
				arm_efd(q);
			} else if (c->res < 0) {
				/* the kernel gave the entry up: all of them when
				 * unmounted or aborted (ENOTCONN) */
				q->live--;
			} else {
				serve(q, e);
			}
		}
		__atomic_store_n(q->cq_head, head, __ATOMIC_RELEASE);
	}
}

static int queue_setup(struct ur_queue *q)
{
	/* the umask of creates is per thread (fsg_umask) */
	if (unshare(CLONE_FS) < 0)
		return -errno;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(q->cpu, &set);
	sched_setaffinity(0, sizeof set, &set); /* a CPU not ours: served from another */
	q->efd = eventfd(0, EFD_CLOEXEC);
	if (q->efd < 0)
		return -errno;
	int r = ring_map(q);
	if (r < 0)
		return r;
	for (unsigned k = 0; k < q->nent; k++)
		if ((r = ent_map(q, q->ents[k])) < 0)
			return r;
	return 0;
}

static void queue_free(struct ur_queue *q)
{
	if (q->ring >= 0)
		close(q->ring); /* cancels what the kernel still holds */
	q->ring = -1;
	if (q->map_sqes && q->map_sqes != MAP_FAILED)
		munmap(q->map_sqes, q->len_sqes);
	if (q->len_cq && q->map_cq && q->map_cq != MAP_FAILED)
		munmap(q->map_cq, q->len_cq);
	if (q->map_ring && q->map_ring != MAP_FAILED)
		munmap(q->map_ring, q->len_ring);
	q->map_sqes = q->map_cq = q->map_ring = NULL;
	for (unsigned k = 0; k < q->nent; k++) {
		if (q->ents[k] && q->ents[k]->map) /* NULL: plan_rings() ran out */
			munmap(q->ents[k]->map, UR_PAGE + ur.payload);
		free(q->ents[k]);
		q->ents[k] = NULL;
	}
	q->nent = 0;
}

static void *queue_main(void *arg)
{
	struct ur_queue *q = arg;
	ring_thread = true;
	prctl(PR_SET_NAME, "fsgate-ring");
	q->ok = queue_setup(q) == 0;
	sem_post(&ur.ready);
	sem_wait(&ur.go);
	if (q->ok && __atomic_load_n(&ur.go_ok, __ATOMIC_ACQUIRE))
		run(q);
	pthread_mutex_lock(&q->mu);
	q->ok = false; /* late replies find nothing here: /dev/fuse refuses them */
	pthread_mutex_unlock(&q->mu);
	queue_free(q);
	return NULL;
}

/* Which rings serve which queues (see struct ur_queue): 0, or -errno. */
static int plan_rings(unsigned nqid)
{
	cpu_set_t mine;
	if (sched_getaffinity(0, sizeof mine, &mine) < 0)
		return -errno;
	unsigned home[UR_MAX_Q], nhome = 0;
	for (unsigned c = 0; c < nqid && c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &mine))
			home[nhome++] = c;
	if (nhome == 0)
		return -EINVAL;
	ur.q = calloc(nhome, sizeof *ur.q);
	if (!ur.q)
		return -ENOMEM;
	for (unsigned i = 0; i < nhome; i++) {
		struct ur_queue *q = &ur.q[i];
		q->cpu = home[i];
		q->ring = q->efd = -1;
		pthread_mutex_init(&q->mu, NULL);
		for (unsigned k = 0; k < UR_NENT; k++)
			if (!(q->ents[q->nent++] = ent_new(home[i])))
				return -ENOMEM;
	}
	/* the other queues, one entry each, spread over the rings */
	unsigned next = 0;
	for (unsigned c = 0; c < nqid; c++) {
		if (c < CPU_SETSIZE && CPU_ISSET(c, &mine))
			continue;
		struct ur_queue *q = &ur.q[next++ % nhome];
		if (q->nent >= UR_NENT + UR_MAX_OTHER)
			return -E2BIG;
		if (!(q->ents[q->nent++] = ent_new(c)))
			return -ENOMEM;
	}
	return (int)nhome;
}

bool fsg_uring_prepare(struct fsg *fs, uint64_t offered, size_t max_write, unsigned max_pages)
{
	unsigned nqid = possible_cpus();
	if (!(offered & FSG_URING_INIT_FLAG) || getenv("FSGATE_NO_URING") || nqid == 0 || ur.q)
		return false;
	ur.fs = fs;
	ur.payload = max_write;
	if ((size_t)max_pages * UR_PAGE > ur.payload)
		ur.payload = (size_t)max_pages * UR_PAGE;
	if (ur.payload < 8192) /* FUSE_MIN_READ_BUFFER */
		ur.payload = 8192;
	ur.payload = (ur.payload + UR_PAGE - 1) & ~(size_t)(UR_PAGE - 1);
	int nq = plan_rings(nqid);
	if (nq <= 0)
		return false;
	sem_init(&ur.ready, 0, 0);
	sem_init(&ur.go, 0, 0);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	bool ok = true;
	unsigned started = 0;
	for (unsigned i = 0; i < (unsigned)nq; i++) {
		struct ur_queue *q = &ur.q[i];
		q->started = pthread_create(&q->th, &attr, queue_main, q) == 0;
		if (!q->started) {
			ok = false;
			break;
		}
		started++;
	}
	pthread_attr_destroy(&attr);
	for (unsigned i = 0; i < started; i++)
		sem_wait(&ur.ready);
	for (unsigned i = 0; i < started; i++)
		ok = ok && ur.q[i].ok;
	__atomic_store_n(&ur.nq, started, __ATOMIC_RELEASE);
	if (!ok)
		fsg_uring_start(false);
	return ok;
}

void fsg_uring_start(bool sent)
{
	if (!ur.q || ur.nq == 0)
		return;
	__atomic_store_n(&ur.go_ok, sent, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < ur.nq; i++)
		sem_post(&ur.go);
	if (!sent)
		fsg_uring_stop();
}

void fsg_uring_stop(void)
{
	unsigned nq = ur.nq;
	if (!ur.q || nq == 0)
		return;
	__atomic_store_n(&ur.stop, 1, __ATOMIC_RELEASE);
	uint64_t one = 1;
	for (unsigned i = 0; i < nq; i++)
		if (ur.q[i].efd >= 0 && write(ur.q[i].efd, &one, sizeof one) < 0) {}
	if (!__atomic_load_n(&ur.go_ok, __ATOMIC_ACQUIRE))
		for (unsigned i = 0; i < nq; i++)
			sem_post(&ur.go); /* threads still waiting for the go */
	for (unsigned i = 0; i < nq; i++)
		if (ur.q[i].started)
			pthread_join(ur.q[i].th, NULL);
	for (unsigned i = 0; i < nq; i++)
		if (ur.q[i].efd >= 0)
			close(ur.q[i].efd);
	__atomic_store_n(&ur.nq, 0, __ATOMIC_RELEASE);
}

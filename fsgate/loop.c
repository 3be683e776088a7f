/* loop.c: fsgate's request loop, and O_TMPFILE.
 *
 * A fixed pool of workers, each with its own reused receive buffer, reads
 * /dev/fuse and hands requests to libfuse. fsgate runs its own loop for one
 * reason: libfuse 3.14 answers the kernel's FUSE_TMPFILE (opcode 51) with
 * ENOSYS, and then O_TMPFILE fails on the mount although it works on the
 * source. So FUSE_TMPFILE is answered here, in the kernel's wire format
 * (the same reply as CREATE: fuse_entry_out + fuse_open_out). Nothing in
 * fsgate blocks a worker for long: blocking lock waits have their own
 * threads, and FIFO/device opens never reach a FUSE daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fsg.h"

static void timeout_split(double t, uint64_t *sec, uint32_t *nsec)
{
	*sec = (uint64_t)t;
	*nsec = (uint32_t)((t - (double)*sec) * 1e9);
}

static void stat_to_attr(const struct fsg *fs, const struct stat *st,
			 struct fuse_attr *a)
{
	memset(a, 0, sizeof *a);
	a->ino = fsg_ino(fs, st->st_dev, st->st_ino);
	a->size = (uint64_t)st->st_size;
	a->blocks = (uint64_t)st->st_blocks;
	a->atime = (uint64_t)st->st_atim.tv_sec;
	a->mtime = (uint64_t)st->st_mtim.tv_sec;
	a->ctime = (uint64_t)st->st_ctim.tv_sec;
	a->atimensec = (uint32_t)st->st_atim.tv_nsec;
	a->mtimensec = (uint32_t)st->st_mtim.tv_nsec;
	a->ctimensec = (uint32_t)st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = (uint32_t)st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->rdev = (uint32_t)st->st_rdev;
	a->blksize = (uint32_t)st->st_blksize;
}

/* Writes one reply; returns 0 or -errno (ENOENT: the request was
 * interrupted and the kernel no longer waits for it). */
static int reply_raw(struct fsg *fs, uint64_t unique, int err,
		     const void *a, size_t alen, const void *b, size_t blen)
{
	struct fuse_out_header oh = { .unique = unique, .error = -err };
	struct iovec iov[3] = {
		{ &oh, sizeof oh }, { (void *)a, alen }, { (void *)b, blen },
	};
	int n = err ? 1 : 3;
	oh.len = (uint32_t)(sizeof oh + (err ? 0 : alen + blen));
	ssize_t w;
	if (!fsg_uring_reply(iov, n, &w))
		w = writev(fuse_session_fd(fs->se), iov, n);
	return w < 0 ? -errno : 0;
}

/* O_TMPFILE: w on the directory ("dir/"), like creating in it; the file
 * belongs to the caller. Its node is never hashed (it has no name) and is
 * decided as "dir/#INO", the way AppArmor names a disconnected file. */
static int do_tmpfile(struct fsg *fs, const struct fuse_in_header *ih,
		      const struct fuse_create_in *ci, struct fsg_node **out,
		      struct stat *st, int *fdout)
{
	struct fsg_node *p = fsg_node(fs, ih->nodeid);
	struct fsg_caller c;
	char path[FSG_PATH_MAX + 1];
	int pfd = fsg_get_fd(fs, p), r, fd = -1;
	if (pfd < 0) {
		r = pfd;
		goto out;
	}
	r = fsg_path(fs, p, NULL, true, path, sizeof path);
	if (r < 0)
		goto out;
	fsg_caller_init_raw(&c, (pid_t)ih->pid, ih->uid, ih->gid);
	struct fsg_req_check rc = {
		.op = "tmpfile", .path = path, .want = PERM_WRITE, .ouid = c.uid,
		.owner = true, .style = MS_CREATE,
	};
	r = fsg_check(fs, &c, &rc);
	if (r < 0)
		goto out;
	int keep = O_ACCMODE | O_EXCL | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC |
		   O_DIRECT | O_NOATIME | O_LARGEFILE;
	fsg_umask(fs, ci->umask);
	fd = openat(pfd, ".", ((int)ci->flags & keep) | O_TMPFILE | O_CLOEXEC,
		    ci->mode & 07777);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if ((r = fsg_give_owner(fs, pfd, fd, &c)) < 0)
		goto out;
	if (fstat(fd, st) < 0) {
		r = -errno;
		goto out;
	}
	r = fsg_node_adopt(fs, p, fd, st, out);
	if (r < 0)
		goto out;
	*fdout = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	fsg_put(fs, p);
	return r;
}

void fsg_tmpfile(struct fsg *fs, const char *mem, size_t len)
{
	const struct fuse_in_header *ih = (const void *)mem;
	const struct fuse_create_in *ci = (const void *)(mem + sizeof *ih);
	struct fuse_entry_out eo;
	struct fuse_open_out oo;
	struct fsg_node *n = NULL;
	struct stat st;
	int fd = -1;
	if (len < sizeof *ih + sizeof *ci) {
		reply_raw(fs, ih->unique, EINVAL, NULL, 0, NULL, 0);
		return;
	}
	int r = do_tmpfile(fs, ih, ci, &n, &st, &fd);
	if (r < 0) {
		reply_raw(fs, ih->unique, -r, NULL, 0, NULL, 0);
		return;
	}
	memset(&eo, 0, sizeof eo);
	memset(&oo, 0, sizeof oo);
	eo.nodeid = (uint64_t)(uintptr_t)n;
	eo.generation = 1;
	timeout_split(fs->o.entry_timeout, &eo.entry_valid, &eo.entry_valid_nsec);
	timeout_split(fs->o.attr_timeout, &eo.attr_valid, &eo.attr_valid_nsec);
	stat_to_attr(fs, &st, &eo.attr);
	/* passed through like any open of the node (pass.c): a reopen of
	 * the file (/proc/self/fd/N) must find the inode in that mode */
	struct fuse_file_info fi = { .fh = (uint64_t)fd, .flags = (int)ci->flags };
	if (fsg_pass_open(fs, n, &fi, -1))
		fsg_pass_amend(&oo);
	fsg_pass_done();
	oo.fh = fi.fh;
	fsg_note_open(fs, n, (int)ci->flags, 1);
	if (reply_raw(fs, ih->unique, 0, &eo, sizeof eo, &oo, sizeof oo) < 0) {
		fsg_note_open(fs, n, (int)ci->flags, -1);
		fsg_pass_release(fs, n, fi.fh);
		close(fd);
		fsg_forget(fs, n, 1);
	}
}

/* FSGATE_STATS=1: requests per opcode, for measurements (off: no shared
 * counter touched on the request path). */
static bool count_ops;
static unsigned long op_count[64];
void fsg_count_op(unsigned opcode)
{
	if (count_ops && opcode <= FSG_OP_RING)
		__atomic_add_fetch(&op_count[opcode], 1, __ATOMIC_RELAXED);
}

void fsg_dump_counts(void)
{
	if (!count_ops)
		return;
	for (int i = 0; i < FSG_OP_RING; i++)
		if (op_count[i])
			fprintf(stderr, "op %d: %lu\n", i, op_count[i]);
	fprintf(stderr, "ring: %lu\n", op_count[FSG_OP_RING]);
}

/* Workers start on demand: one, and another whenever a request finds
 * every worker busy, up to max. Each costs a stack, a malloc arena and
 * a receive buffer, whose first touches are page faults: eight of them
 * at start were a visible part of a sandbox's start-up. */
struct pool {
	struct fsg *fs;
	sem_t done;
	pthread_mutex_t mu;
	pthread_attr_t attr;
	pthread_t *tids;
	unsigned n, max; /* n under mu */
	unsigned idle;   /* workers waiting for a request; atomic */
};

static void *worker(void *arg);

/* 0, or -errno when no worker could be started. */
static int add_worker(struct pool *pl)
{
	int r = EAGAIN;
	pthread_mutex_lock(&pl->mu);
	if (pl->n < pl->max) {
		__atomic_add_fetch(&pl->idle, 1, __ATOMIC_RELAXED);
		r = pthread_create(&pl->tids[pl->n], &pl->attr, worker, pl);
		if (r == 0)
			pl->n++;
		else
			__atomic_sub_fetch(&pl->idle, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&pl->mu);
	return -r;
}

void fsg_umask(struct fsg *fs, mode_t caller_umask)
{
	/* this worker's umask (its own fs_struct), so that most creates
	 * make no syscall for it; workers start with the process's, 0 */
	static __thread mode_t cur = 0;
	mode_t want = fs->acl ? caller_umask & 0777 : 0;
	if (want != cur) {
		umask(want);
		cur = want;
	}
}

int fsg_give_owner(struct fsg *fs, int pfd, int fd, const struct fsg_caller *c)
{
	struct stat pst;
	if (c->uid == fs->uid && c->gid == fs->gid)
		return 0;
	if (fstat(pfd, &pst) < 0 ||
	    fchownat(fd, "", c->uid, (pst.st_mode & S_ISGID) ? (gid_t)-1 : c->gid,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 1;
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	struct fsg *fs = pl->fs;
	struct fuse_buf buf = { .mem = NULL };
	/* A umask of this thread's own (fsg_umask). Without it, creating on
	 * behalf of callers with different umasks would race; fail closed. */
	if (unshare(CLONE_FS) < 0) {
		fuse_session_exit(fs->se);
		sem_post(&pl->done);
		return NULL;
	}
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	while (!fuse_session_exited(fs->se)) {
		/* Cancellable only while waiting for a request. */
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		int r = fuse_session_receive_buf(fs->se, &buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			fuse_session_exit(fs->se); /* unmounted (ENODEV) or broken */
			break;
		}
		if (__atomic_sub_fetch(&pl->idle, 1, __ATOMIC_RELAXED) == 0)
			add_worker(pl); /* the next request will find one */
		const struct fuse_in_header *ih = buf.mem;
		if (count_ops && !(buf.flags & FUSE_BUF_IS_FD) && ih->opcode < FSG_OP_RING)
			__atomic_add_fetch(&op_count[ih->opcode], 1, __ATOMIC_RELAXED);
		if (!(buf.flags & FUSE_BUF_IS_FD) && (size_t)r >= sizeof *ih &&
		    ih->opcode == FUSE_INIT)
			fsg_pass_init_seen(fs, buf.mem, (size_t)r);
		if (!(buf.flags & FUSE_BUF_IS_FD) && (size_t)r >= sizeof *ih &&
		    ih->opcode == FUSE_TMPFILE)
			fsg_tmpfile(fs, buf.mem, (size_t)r);
		else
			fuse_session_process_buf(fs->se, &buf);
		__atomic_add_fetch(&pl->idle, 1, __ATOMIC_RELAXED);
	}
	free(buf.mem);
	sem_post(&pl->done);
	return NULL;
}

int fsg_loop(struct fsg *fs, unsigned nthreads)
{
	struct pool pl = { .fs = fs, .n = 0, .max = nthreads };
	count_ops = getenv("FSGATE_STATS") != NULL;
	sem_init(&pl.done, 0, 0);
	pthread_mutex_init(&pl.mu, NULL);
	pl.tids = calloc(nthreads, sizeof *pl.tids);
	if (!pl.tids)
		return -ENOMEM;
	pthread_attr_init(&pl.attr);
	pthread_attr_setstacksize(&pl.attr, 256 * 1024);
	if (add_worker(&pl) < 0) {
		free(pl.tids);
		return -EAGAIN;
	}
	/* Until a signal handler or a worker ends the session. */
	while (!fuse_session_exited(fs->se))
		sem_wait(&pl.done);
	pthread_mutex_lock(&pl.mu);
	pl.max = 0; /* no more workers */
	unsigned n = pl.n;
	pthread_mutex_unlock(&pl.mu);
	for (unsigned i = 0; i < n; i++)
		pthread_cancel(pl.tids[i]);
	for (unsigned i = 0; i < n; i++)
		pthread_join(pl.tids[i], NULL);
	pthread_attr_destroy(&pl.attr);
	free(pl.tids);
	fsg_uring_stop();
	fsg_dump_counts();
	sem_destroy(&pl.done);
	return 0;
}

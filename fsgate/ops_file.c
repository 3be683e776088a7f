/* ops_file.c: FUSE operations on open files.
 *
 * The decision is bound at open: the kernel may later write back or read
 * ahead without the caller (pid 0), so read/write never re-decide, and
 * fsgate never negotiates FUSE's no-open mode (opens would stop reaching
 * it). An append-only open is enforced by the source itself: the daemon's
 * fd carries O_APPEND, and Linux pwrite() on an O_APPEND fd appends, so
 * clearing O_APPEND on the caller's side cannot overwrite.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/capability.h>

#include "sysfile.h"
#include "fsg.h"

#define O_FMODE_EXEC 0x20 /* __FMODE_EXEC: the kernel's exec open */

/* What an open with these flags asks for (AppArmor's aa_map_file_to_perms:
 * an O_APPEND write asks for a instead of w, O_TRUNC asks for w). An exec
 * open asks only for x: reading the image is part of exec. */
static uint32_t open_want(int flags)
{
	if (flags & O_FMODE_EXEC)
		return PERM_EXEC;
	uint32_t want = 0;
	int acc = flags & O_ACCMODE;
	if (acc == O_RDONLY || acc == O_RDWR)
		want |= PERM_READ;
	if (acc == O_WRONLY || acc == O_RDWR)
		want |= (flags & O_APPEND) ? PERM_APPEND : PERM_WRITE;
	if (flags & O_TRUNC)
		want |= PERM_WRITE;
	return want;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* keep_cache only when the file did not change since the last open or
 * release we saw; else the kernel drops its pages (external writers). */
static void set_cache_flags(struct fsg *fs, struct fsg_node *n, const struct stat *st,
			    struct fuse_file_info *fi)
{
	fi->keep_cache = fsg_note_version(fs, n, st);
	if (fi->flags & O_DIRECT)
		fi->direct_io = 1;
}

/* FLUSH, one round trip on every close(2), does two jobs here: it drops
 * the closing owner's POSIX locks, and it records early what our writes
 * left (for keep_cache; RELEASE records it too, a moment later). An open
 * of a path without k needs neither: no lock can be taken through it, and
 * writes are synchronous (no writeback cache), so close has nothing to
 * report. The one difference it makes: closing it does not drop POSIX
 * locks the process took on the same file through another descriptor
 * (they go when that one is closed). Nodes that hold locks keep FLUSH. */
static bool skip_flush(struct fsg *fs, struct fsg_node *n, uint32_t granted)
{
	if (granted & PERM_LOCK)
		return false;
	pthread_mutex_lock(&fs->mu);
	bool locked = n && n->locks != NULL;
	pthread_mutex_unlock(&fs->mu);
	return !locked;
}

/* A small file opened for reading: its content goes into the kernel's
 * page cache with the open (spliced, no copy) and is kept, so the caller's
 * reads cost no round trip (a partly written page would otherwise be read
 * again). One push at a time: a push may wait for pages another reader
 * holds locked while its READ is served by the other workers. */
#define PUSH_MAX (256 * 1024)
static bool push_small(struct fsg *fs, struct fsg_node *n, int fd, const struct stat *st)
{
	static pthread_mutex_t one = PTHREAD_MUTEX_INITIALIZER;
	if (!S_ISREG(st->st_mode) || st->st_size <= 0 || st->st_size > PUSH_MAX ||
	    pthread_mutex_trylock(&one) != 0)
		return false;
	/* Never while the file is being written or truncated through us: a
	 * write could land in the page cache between our read of the source
	 * and our store (a new writer waits for us, fsg_writer()). */
	int r = -EBUSY;
	struct stat now;
	if (fsg_push_mark(fs, n, 1)) {
		/* the size as it is now that no writer of ours can change it;
		 * a file changing beside us is left alone */
		if (fstat(fd, &now) < 0 || now.st_size != st->st_size ||
		    !same_time(&now.st_mtim, &st->st_mtim)) {
			fsg_push_mark(fs, n, -1);
			pthread_mutex_unlock(&one);
			return false;
		}
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT((size_t)st->st_size);
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = fd;
		bv.buf[0].pos = 0;
		r = fuse_lowlevel_notify_store(fs->se, (fuse_ino_t)(uintptr_t)n, 0, &bv,
					       FUSE_BUF_SPLICE_MOVE);
		if (r == 0) {
			pthread_mutex_lock(&fs->mu);
			n->push_mtime = st->st_mtim;
			n->push_size = st->st_size;
			pthread_mutex_unlock(&fs->mu);
		}
		fsg_push_mark(fs, n, -1);
	}
	pthread_mutex_unlock(&one);
	return r == 0;
}

/* Does the caller hold CAP_FSETID (/proc/<pid>/status)? No when unknown. */
static bool caller_fsetid(pid_t pid)
{
	char p[64], text[4096];
	snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
	if (pid <= 0 || read_small_file(p, text, sizeof text) < 0)
		return false;
	const char *e = strstr(text, "\nCapEff:\t");
	unsigned long long caps = 0;
	return e && sscanf(e + 9, "%llx", &caps) == 1 && (caps & (1ull << CAP_FSETID));
}

/* open(O_TRUNC) clears setuid, and setgid with group exec, unless the
 * caller holds CAP_FSETID, as truncate does natively (the kernel's own
 * check is skipped for an atomic O_TRUNC; our root open would keep them). */
static void kill_suid_on_trunc(int fd, const struct stat *st, pid_t pid)
{
	mode_t kill = st->st_mode & S_ISUID;
	if ((st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		kill |= S_ISGID;
	if (S_ISREG(st->st_mode) && kill && !caller_fsetid(pid))
		if (fchmod(fd, st->st_mode & 07777 & ~kill) < 0) {}
}

/* Was this version of n (st) pushed already? */
static bool pushed(struct fsg *fs, struct fsg_node *n, const struct stat *st)
{
	pthread_mutex_lock(&fs->mu);
	bool same = same_time(&n->push_mtime, &st->st_mtim) && n->push_size == st->st_size;
	pthread_mutex_unlock(&fs->mu);
	return same;
}

/* A read-only open of a regular file whose O_PATH fd is not cached is
 * opened by its handle straight away, and decided on what that fd shows.
 * Such an open has nothing to undo when it is refused; what it leaves is
 * an open event for inotify and fanotify watchers and the break of a write
 * lease, which a refused open(2) of the kernel's own does not. The fd
 * cache is left alone (reading more files than it holds would otherwise
 * open an O_PATH fd, check it and evict another per open). Else (writes,
 * O_TRUNC, devices and FIFOs, whose opens act) the decision comes first. */
static bool open_first(struct fsg *fs, struct fsg_node *n, int flags)
{
	if (n->type != S_IFREG || (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
		return false;
	pthread_mutex_lock(&fs->mu);
	bool cached = n->fd >= 0;
	pthread_mutex_unlock(&fs->mu);
	return !cached;
}

static int do_open(fuse_req_t req, struct fsg *fs, struct fsg_node *n,
		   struct fuse_file_info *fi)
{
	struct fsg_caller c;
	struct stat st;
	char path[FSG_PATH_MAX + 1];
	int pfd = -1, r, fd = -1;
	bool pinned = false; /* by fsg_get_fd() */
	if (open_first(fs, n, fi->flags)) {
		fd = fsg_open_handle(fs, n, fi->flags, &st);
		if (fd < 0 && fd != -EOPNOTSUPP)
			return fd;
	}
	if (fd < 0) {
		pfd = fsg_get_fd(fs, n);
		pinned = true;
		if (pfd < 0) {
			r = pfd;
			goto out;
		}
		if (fstat(pfd, &st) < 0) {
			r = -errno;
			goto out;
		}
	}
	r = fsg_path(fs, n, NULL, S_ISDIR(st.st_mode), path, sizeof path);
	if (r < 0)
		goto out;
	fsg_caller_init(fs, req, &c);
	uint32_t granted = 0;
	struct fsg_req_check rc = {
		.op = (fi->flags & O_FMODE_EXEC) ? "exec" : "open", .path = path,
		.want = open_want(fi->flags), .ouid = st.st_uid,
		.owner = st.st_uid == c.uid, .style = MS_PLAIN, .granted = &granted,
	};
	r = fsg_check(fs, &c, &rc);
	if (r < 0)
		goto out;
	bool opened = fd >= 0;
	if (!opened)
		fd = fsg_reopen(fs, n, pfd, fi->flags);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	fi->fh = (uint64_t)fd;
	if (fi->flags & O_TRUNC)
		kill_suid_on_trunc(fd, &st, c.pid);
	set_cache_flags(fs, n, &st, fi);
	fsg_note_open(fs, n, fi->flags, 1);
	fi->noflush = skip_flush(fs, n, granted);
	/* Passed through (pass.c), the kernel reads our file itself: nothing
	 * to push; O_DIRECT too (the kernel's file has the caller's flags),
	 * and it must: an inode with passed-through opens takes no other
	 * kind. Last: nothing after it may fail. */
	if (S_ISREG(st.st_mode) && fsg_pass_open(fs, n, fi, opened ? fd : -1)) {
		fi->direct_io = 0;
		r = 0;
		goto out;
	}
	/* Else the content is pushed, but not again when this very version
	 * was pushed and the kernel keeps its pages (keep_cache): a warm cache
	 * (a shared fsgate's next program, the next compile's headers) needs
	 * no copy. A file just written through us is pushed: written pages of
	 * a partial page are not readable from the cache. */
	if (!fi->direct_io && !fsg_open_writes(fi->flags) && !(fi->flags & O_TRUNC) &&
	    !fs->o.no_push && !fsg_uring_thread() && !(fi->keep_cache && pushed(fs, n, &st))) {
		if (push_small(fs, n, fd, &st))
			fi->keep_cache = 1;
	}
	r = 0;
out:
	if (r < 0 && fd >= 0)
		close(fd);
	if (pinned)
		fsg_put(fs, n); /* also when fsg_get_fd() failed */
	return r;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsg *fs = fsg_of(req);
	int r = do_open(req, fs, fsg_node(fs, ino), fi);
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (fuse_reply_open(req, fi) != 0) {
		fsg_note_open(fs, fsg_node(fs, ino), fi->flags, -1);
		fsg_pass_release(fs, fsg_node(fs, ino), fi->fh);
		close((int)fi->fh); /* interrupted: the kernel never saw it */
	}
	fsg_pass_done();
}

/* create: w (or a, for an O_APPEND write open: an append-only log may be
 * started) on the new name, plus what the open itself asks for. */
static int do_create(fuse_req_t req, struct fsg *fs, struct fsg_node *p,
		     const char *name, mode_t mode, struct fuse_file_info *fi,
		     struct stat *st, bool *existed)
{
	struct fsg_caller c;
	char path[FSG_PATH_MAX + 1];
	int pfd = fsg_get_fd(fs, p), r, fd = -1;
	int flags = fi->flags & ~(O_FMODE_EXEC | O_NOCTTY);
	if (fsg_bad_name(name)) {
		fsg_put(fs, p);
		return -EINVAL;
	}
	if (pfd < 0) {
		r = pfd;
		goto out;
	}
	r = fsg_path(fs, p, name, false, path, sizeof path);
	if (r < 0)
		goto out;
	fsg_caller_init(fs, req, &c);
	uint32_t want = open_want(flags), granted = 0;
	want |= (want & PERM_APPEND) && !(want & PERM_WRITE) ? PERM_APPEND : PERM_WRITE;
	struct fsg_req_check rc = {
		.op = "open", .path = path, .want = want, .ouid = c.uid,
		.owner = true, .style = MS_PLAIN, .granted = &granted, .dry = true,
	};
	/* The kernel thought the name absent. If it is there after all (made
	 * beside fsgate, behind a cached negative entry), this is a plain
	 * open, decided as one: asked of the source only when the create
	 * would be refused (or logged), or when it fails with EEXIST. */
	struct stat est;
	if ((r = fsg_check(fs, &c, &rc)) > 0) {
		if (fstatat(pfd, name, &est, AT_SYMLINK_NOFOLLOW) == 0) {
			r = flags & O_EXCL ? -EEXIST : 0;
			*existed = !(flags & O_EXCL);
			goto out;
		}
		rc.dry = false;
		r = fsg_check(fs, &c, &rc);
	}
	if (r < 0)
		goto out;
	fsg_umask(fs, fuse_req_ctx(req)->umask);
	fd = openat(pfd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 && errno == EEXIST && !(fi->flags & O_EXCL)) {
		*existed = true; /* created elsewhere meanwhile: a plain open */
		r = 0;
		goto out;
	}
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = fsg_give_owner(fs, pfd, fd, &c);
	if (r >= 0)
		r = fstat(fd, st) < 0 ? -errno : 0;
	if (r < 0) {
		unlinkat(pfd, name, 0);
		goto out;
	}
	fi->fh = (uint64_t)fd;
	fd = -1;
	if (flags & O_DIRECT)
		fi->direct_io = 1;
	fi->noflush = skip_flush(fs, NULL, granted); /* a new file: no locks */
out:
	if (fd >= 0)
		close(fd);
	fsg_put(fs, p);
	return r;
}

/* The reply to a CREATE whose file do_create() made (or found: existed).
 * 0, or -errno for an error reply. */
static int create_reply(fuse_req_t req, struct fsg *fs, struct fsg_node *p,
			const char *name, struct fuse_file_info *fi, struct stat *st,
			bool existed)
{
	struct fsg_node *n;
	struct fuse_entry_param e;
	/* made: its node from the open file */
	int r = existed ? fsg_lookup(fs, p, name, st, &n) :
			  fsg_node_made(fs, p, name, (int)fi->fh, false, st, &n);
	if (r == 0 && existed) {
		r = do_open(req, fs, n, fi);
		if (r < 0)
			fsg_forget(fs, n, 1);
	}
	if (r < 0) {
		if (!existed)
			close((int)fi->fh);
		return r;
	}
	if (!existed) {
		set_cache_flags(fs, n, st, fi);
		fsg_note_open(fs, n, fi->flags, 1);
		if (fsg_pass_open(fs, n, fi, -1)) /* last before the reply */
			fi->direct_io = 0;        /* see do_open() */
	}
	fsg_fill_entry(fs, n, st, &e);
	if (fuse_reply_create(req, &e, fi) != 0) {
		fsg_note_open(fs, n, fi->flags, -1);
		fsg_pass_release(fs, n, fi->fh);
		close((int)fi->fh);
		fsg_forget(fs, n, 1);
	}
	return 0;
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *p = fsg_node(fs, parent);
	struct stat st;
	bool existed = false;
	int r = do_create(req, fs, p, name, mode, fi, &st, &existed);
	if (r >= 0)
		r = create_reply(req, fs, p, name, fi, &st, existed);
	if (r < 0)
		fuse_reply_err(req, -r);
	fsg_pass_done(); /* whatever was sent */
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = (int)fi->fh;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
			 off_t off, struct fuse_file_info *fi)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = (int)fi->fh;
	out.buf[0].pos = off;
	ssize_t r = fuse_buf_copy(&out, in, 0);
	if (r < 0) {
		fuse_reply_err(req, (int)-r);
		return;
	}
	/* The file's other names (hard links) learn its new size and mtime
	 * now, not at their attribute timeout. */
	struct fsg *fs = fsg_of(req);
	fsg_inval_siblings(fs, fsg_node(fs, ino));
	fuse_reply_write(req, (size_t)r);
}

/* Does closing a descriptor of file system `dev` (fd one on it) do
 * nothing but drop it? So on the local disk and memory file systems,
 * which have no flush operation; not on NFS, FUSE, CIFS or overlays. One
 * answer kept per worker: a thread's flushes mostly go to one place. */
static bool quiet_close(int fd, dev_t dev)
{
	static __thread dev_t last_dev;
	static __thread int last = -1;
	if (last < 0 || dev != last_dev) {
		struct statfs sf;
		if (fstatfs(fd, &sf) < 0)
			return false;
		switch ((unsigned long)sf.f_type) {
		case EXT4_SUPER_MAGIC: case TMPFS_MAGIC: case XFS_SUPER_MAGIC:
		case BTRFS_SUPER_MAGIC: case F2FS_SUPER_MAGIC: case RAMFS_MAGIC:
			last = 1;
			break;
		default:
			last = 0;
		}
		last_dev = dev;
	}
	return last == 1;
}

/* After writes through open fh of n: the file's other names (hard
 * links) are told, when the writes were passed through (pass.c: neither we
 * nor the kernel saw them, as op_write_buf does); else the mtime and size
 * our own writes left are remembered, so that the next open keeps the
 * pages they left in the cache. Passed-through writes left none there:
 * a later open that is not passed through compares size and mtime and
 * drops the cache. */
static void note_written(struct fsg *fs, struct fsg_node *n, uint64_t fh)
{
	struct stat st;
	if (fh >> 32) {
		fsg_inval_siblings(fs, n);
	} else if (fstat((int)fh, &st) == 0) {
		pthread_mutex_lock(&fs->mu);
		n->open_mtime = st.st_mtim;
		n->open_size = st.st_size;
		pthread_mutex_unlock(&fs->mu);
	}
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino);
	/* A close by this lock owner drops its POSIX locks (fcntl(2)). */
	fsg_lockfd_drop(fs, n, fi->lock_owner);
	/* FLUSH does not say how the file was opened; but a writable open
	 * of this node counts among its writers until its release, which
	 * comes after this flush. None: this descriptor only read, there is
	 * nothing to note or flush, and close(2) waits for no syscalls. */
	pthread_mutex_lock(&fs->mu);
	bool writers = n->writers > 0;
	pthread_mutex_unlock(&fs->mu);
	if (!writers) {
		fuse_reply_err(req, 0);
		return;
	}
	/* flush is synchronous with close(2), release is not */
	note_written(fs, n, fi->fh);
	/* close(dup()) so the source sees a close (NFS-style flush), where
	 * a close can do anything. */
	int r = 0;
	if (!quiet_close((int)fi->fh, n->dev)) {
		int fd = dup((int)fi->fh);
		r = fd < 0 ? -errno : close(fd) < 0 ? -errno : 0;
	}
	fuse_reply_err(req, -r);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino);
	if (fsg_open_writes(fi->flags)) /* a read-only open wrote nothing */
		note_written(fs, n, fi->fh);
	fsg_note_open(fs, n, fi->flags, -1);
	fsg_pass_release(fs, n, fi->fh);
	close((int)fi->fh);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	int fd = (int)fi->fh;
	int r = (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? errno : 0;
	fuse_reply_err(req, r);
}

/* ---- Locks (k) ----
 * AppArmor asks for k on every lock, and w as well for a write lock
 * (apparmor_file_lock). Unlocking asks for nothing. */

static int check_lock(fuse_req_t req, struct fsg *fs, struct fsg_node *n,
		      int fhfd, bool wr)
{
	struct fsg_caller c;
	struct stat st;
	char path[FSG_PATH_MAX + 1];
	if (fstat(fhfd, &st) < 0)
		return -errno;
	int r = fsg_path(fs, n, NULL, S_ISDIR(st.st_mode), path, sizeof path);
	if (r < 0)
		return r;
	fsg_caller_init(fs, req, &c);
	struct fsg_req_check rc = {
		.op = "file_lock", .path = path,
		.want = PERM_LOCK | (wr ? PERM_WRITE : 0), .ouid = st.st_uid,
		.owner = st.st_uid == c.uid, .style = MS_PLAIN,
	};
	return fsg_check(fs, &c, &rc);
}

static void op_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		     struct flock *lock)
{
	struct fsg *fs = fsg_of(req);
	int fd = fsg_lockfd_get(fs, fsg_node(fs, ino), fi->lock_owner, (int)fi->fh);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	lock->l_pid = 0;
	if (fcntl(fd, F_OFD_GETLK, lock) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lock(req, lock);
}

/* A blocking lock waits in its own thread, never in a worker: workers
 * blocked on locks could leave none to read the unlock that frees them.
 * The waiter polls with a non-blocking OFD lock and a growing sleep, and
 * gives up with EINTR once the kernel interrupts the request (the caller
 * got a signal), so a lock deadlock (OFD locks have no EDEADLK detection)
 * ends like a POSIX one interrupted by a timer. */
struct lock_wait {
	struct fsg *fs;
	fuse_req_t req;
	int fd;
	struct flock lk;
};

/* A bound on waiting threads, so a confined program cannot make the daemon
 * spawn threads without limit; past it a blocking lock fails with ENOLCK
 * (fcntl(2): "the lock table is full"). */
#define MAX_LOCK_WAITERS 256

static void *lock_waiter(void *arg)
{
	struct lock_wait *w = arg;
	useconds_t nap = 1000;
	int r;
	for (;;) {
		struct flock lk = w->lk;
		if (fcntl(w->fd, F_OFD_SETLK, &lk) == 0) {
			r = 0;
			break;
		}
		if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
			r = errno;
			break;
		}
		if (fuse_req_interrupted(w->req)) {
			r = EINTR;
			break;
		}
		usleep(nap);
		if (nap < 32000)
			nap *= 2;
	}
	close(w->fd);
	fuse_reply_err(w->req, r);
	__atomic_sub_fetch(&w->fs->lock_waiters, 1, __ATOMIC_RELAXED);
	free(w);
	return NULL;
}

static int start_lock_wait(struct fsg *fs, fuse_req_t req, int fd,
			   const struct flock *lk)
{
	unsigned *waiters = &fs->lock_waiters;
	if (__atomic_add_fetch(waiters, 1, __ATOMIC_RELAXED) > MAX_LOCK_WAITERS) {
		__atomic_sub_fetch(waiters, 1, __ATOMIC_RELAXED);
		return -ENOLCK;
	}
	struct lock_wait *w = malloc(sizeof *w);
	pthread_attr_t attr;
	pthread_t t;
	if (!w) {
		__atomic_sub_fetch(waiters, 1, __ATOMIC_RELAXED);
		return -ENOMEM;
	}
	/* Our own reference to the owner's open file description: its fd
	 * may be closed (flush) while we wait; the locks live on. */
	w->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (w->fd < 0) {
		int e = errno;
		free(w);
		__atomic_sub_fetch(waiters, 1, __ATOMIC_RELAXED);
		return -e;
	}
	w->fs = fs;
	w->req = req;
	w->lk = *lk;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	int e = pthread_create(&t, &attr, lock_waiter, w);
	pthread_attr_destroy(&attr);
	if (e) {
		close(w->fd);
		free(w);
		__atomic_sub_fetch(waiters, 1, __ATOMIC_RELAXED);
		return -e;
	}
	return 0;
}

static void op_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		     struct flock *lock, int sleep)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino);
	int r = 0, fd = -1;
	if (lock->l_type != F_UNLCK)
		r = check_lock(req, fs, n, (int)fi->fh, lock->l_type == F_WRLCK);
	if (r == 0) {
		fd = fsg_lockfd_get(fs, n, fi->lock_owner, (int)fi->fh);
		r = fd < 0 ? fd : 0;
	}
	if (r == 0) {
		lock->l_pid = 0;
		if (fcntl(fd, F_OFD_SETLK, lock) < 0) {
			r = -errno;
			if (sleep && (r == -EAGAIN || r == -EACCES)) {
				r = start_lock_wait(fs, req, fd, lock);
				if (r == 0)
					return; /* the waiter replies */
			}
		}
	}
	fuse_reply_err(req, -r);
}

static void op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		     int op)
{
	struct fsg *fs = fsg_of(req);
	int r = 0;
	if (!(op & LOCK_UN))
		r = check_lock(req, fs, fsg_node(fs, ino), (int)fi->fh, op & LOCK_EX);
	if (r == 0 && flock((int)fi->fh, op) < 0)
		r = -errno;
	fuse_reply_err(req, -r);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
			 off_t len, struct fuse_file_info *fi)
{
	int r = fallocate((int)fi->fh, mode, off, len) < 0 ? errno : 0;
	if (r == 0) {
		struct fsg *fs = fsg_of(req);
		fsg_inval_siblings(fs, fsg_node(fs, ino));
	}
	fuse_reply_err(req, r);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			       off_t off_out, struct fuse_file_info *fi_out,
			       size_t len, int flags)
{
	ssize_t r = copy_file_range((int)fi_in->fh, &off_in, (int)fi_out->fh,
				    &off_out, len, (unsigned)flags);
	if (r < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	struct fsg *fs = fsg_of(req);
	fsg_inval_siblings(fs, fsg_node(fs, ino_out));
	fuse_reply_write(req, (size_t)r);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	off_t r = lseek((int)fi->fh, off, whence);
	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, r);
}

void fsg_ops_file(struct fuse_lowlevel_ops *ops)
{
	ops->open = op_open;
	ops->create = op_create;
	ops->read = op_read;
	ops->write_buf = op_write_buf;
	ops->flush = op_flush;
	ops->release = op_release;
	ops->fsync = op_fsync;
	ops->getlk = op_getlk;
	ops->setlk = op_setlk;
	ops->flock = op_flock;
	ops->fallocate = op_fallocate;
	ops->copy_file_range = op_copy_file_range;
	ops->lseek = op_lseek;
}

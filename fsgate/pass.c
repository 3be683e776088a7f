/* pass.c: FUSE passthrough for opened files (Linux 6.9, FUSE 7.40).
 *
 * After fsgate decided an open and opened the file itself, the kernel can
 * do that open's reads, writes and mmaps on our file directly ("backing
 * file"): no READ or WRITE request, no copy, the source's own page cache.
 * Every decision stays at open, where fsgate makes it anyway (writes never
 * carried a decision: a caller's file is bound at open). The kernel opens
 * its backing file from ours, with the caller's open flags and our
 * credentials: append-only opens stay O_APPEND underneath.
 *
 * libfuse 3.14 predates passthrough, so the three pieces it needs are
 * done here, around it:
 *   - INIT: when the kernel offers FUSE_PASSTHROUGH, our reply (libfuse's)
 *     is amended to take it, with a stacking depth of 2 (a source on
 *     overlayfs can back files; nothing can be stacked on our mount);
 *   - an open's file is registered (FUSE_DEV_IOC_BACKING_OPEN) and its id
 *     written into the open or create reply (FOPEN_PASSTHROUGH), which
 *     libfuse sends through our writev (fuse_session_custom_io) in the same
 *     thread;
 *   - one id per node, shared by its passed-through opens (the kernel
 *     refuses a second backing file for an inode that has one), made from
 *     the node's O_PATH fd (a registered file stays open in the kernel:
 *     a writable one would make exec of the file fail, ETXTBSY). The
 *     caller's side of an open looks the id up after our reply, in its
 *     own time, so it lives on after the open's RELEASE: as long as the
 *     node keeps its fd in the LRU of cached fds (node.c), which bounds
 *     how many files the kernel holds for us, and never while an open
 *     uses it (a new id for an inode that still has the old one: EIO).
 * FSGATE_NO_PASSTHROUGH=1 turns it off (for measurements), as does a
 * kernel without it. An open that cannot be registered is served as
 * before (page cache and READ/WRITE requests).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fsg.h"

/* Linux 6.9's uapi, newer than Debian 12's headers */
#define PASS_INIT_FLAG (1ull << 37)   /* FUSE_PASSTHROUGH */
#define PASS_OPEN_FLAG (1u << 7)      /* FOPEN_PASSTHROUGH */
#define PASS_STACK_DEPTH 2            /* FILESYSTEM_MAX_STACK_DEPTH */
struct pass_map {                     /* struct fuse_backing_map */
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};
#define PASS_IOC_OPEN _IOW(229, 1, struct pass_map)
#define PASS_IOC_CLOSE _IOW(229, 2, uint32_t)

/* The backing id for the open or create reply this thread sends next. */
static __thread int pending;

void fsg_pass_init_seen(struct fsg *fs, const void *msg, size_t len)
{
	const struct fuse_in_header *ih = msg;
	const struct fuse_init_in *in = (const void *)(ih + 1);
	/* major, minor, max_readahead, flags, flags2: what we read */
	if (len < sizeof *ih + 5 * sizeof(uint32_t))
		return;
	uint64_t flags = in->flags;
	if (flags & FUSE_INIT_EXT)
		flags |= (uint64_t)in->flags2 << 32;
	if (getenv("FSGATE_NO_PASSTHROUGH"))
		flags &= ~PASS_INIT_FLAG;
	fs->init_offered = flags;
	fs->init_unique = ih->unique;
}

/* libfuse's INIT reply, before it goes: take passthrough, and io_uring
 * when its rings are ready (uring.c). */
static void amend_init(struct fsg *fs, struct iovec *iov, int count)
{
	struct fuse_init_out *out = count == 2 ? iov[1].iov_base : NULL;
	/* flags2 at 32, max_stack_depth (7.40) at 36, in a 64-byte reply */
	if (!out || iov[1].iov_len < 40)
		return;
	if (fs->init_offered & PASS_INIT_FLAG) {
		out->flags |= FUSE_INIT_EXT;
		out->flags2 |= (uint32_t)(PASS_INIT_FLAG >> 32);
		uint32_t depth = PASS_STACK_DEPTH;
		memcpy((char *)out + 36, &depth, sizeof depth);
		fs->passthrough = true;
	}
	if (fsg_uring_prepare(fs, fs->init_offered, out->max_write, out->max_pages)) {
		out->flags |= FUSE_INIT_EXT;
		out->flags2 |= (uint32_t)(FSG_URING_INIT_FLAG >> 32);
		fs->uring = true;
	}
}

void fsg_pass_amend(struct fuse_open_out *oo)
{
	if (pending <= 0)
		return;
	/* keep_cache is for the page cache of the FUSE file, which a
	 * passed-through open does not use; the kernel fails an open that
	 * asks for both (EIO) */
	oo->open_flags = (oo->open_flags & ~(uint32_t)(FOPEN_KEEP_CACHE | FOPEN_DIRECT_IO)) |
			 PASS_OPEN_FLAG;
	oo->padding = (uint32_t)pending; /* backing_id */
}

/* An open (fuse_open_out) or create (fuse_entry_out + fuse_open_out)
 * reply: take the pending backing id. */
static void amend_open(struct iovec *iov, int count)
{
	struct fuse_open_out *oo = NULL;
	if (count == 2 && iov[1].iov_len == sizeof *oo)
		oo = iov[1].iov_base;
	else if (count == 2 && iov[1].iov_len == sizeof(struct fuse_entry_out) + sizeof *oo)
		oo = (void *)((char *)iov[1].iov_base + sizeof(struct fuse_entry_out));
	if (oo)
		fsg_pass_amend(oo);
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct fsg *fs = userdata;
	struct fuse_out_header *oh = iov[0].iov_base;
	bool init = false;
	if (oh->error == 0 && oh->unique != 0) {
		if (pending > 0)
			amend_open(iov, count);
		else if (fs->init_unique && oh->unique == fs->init_unique)
			amend_init(fs, iov, count), init = true;
	}
	ssize_t r;
	if (fsg_uring_reply(iov, count, &r)) /* a request from a ring */
		return r;
	r = writev(fd, iov, count);
	if (init && fs->uring) /* the kernel took it: register the rings */
		fsg_uring_start(r >= 0);
	return r;
}

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)userdata;
	return read(fd, buf, len);
}

static ssize_t io_splice(int fdin, off_t *offin, int fdout, off_t *offout, size_t len,
			 unsigned int flags, void *userdata)
{
	/* A ring thread's reply (libfuse's pipe: out header, then data) goes
	 * into its ring entry, through our writev. */
	static __thread char *buf;
	static __thread size_t cap;
	if (fsg_uring_thread() && !offin) {
		if (len > cap) {
			char *nb = realloc(buf, len);
			if (!nb)
				return -1;
			buf = nb;
			cap = len;
		}
		size_t got = 0;
		while (got < len) {
			ssize_t n = read(fdin, buf + got, len - got);
			if (n <= 0)
				return -1;
			got += (size_t)n;
		}
		struct iovec iov = { buf, len };
		return io_writev(fdout, &iov, 1, userdata);
	}
	return splice(fdin, offin, fdout, offout, len, flags);
}

int fsg_pass_setup(struct fsg *fs)
{
	/* the same fd: only our writev (and read, splice) come in between.
	 * No splice_receive: requests are read() (libfuse's pipe could not
	 * hold a whole request here anyway). */
	static const struct fuse_custom_io io = {
		.writev = io_writev, .read = io_read, .splice_send = io_splice,
	};
	fs->fuse_fd = fuse_session_fd(fs->se);
	return fuse_session_custom_io(fs->se, &io, fs->fuse_fd);
}

void fsg_pass_close_id(struct fsg *fs, int id)
{
	uint32_t u = (uint32_t)id;
	ioctl(fs->fuse_fd, PASS_IOC_CLOSE, &u);
}

bool fsg_pass_open(struct fsg *fs, struct fsg_node *n, struct fuse_file_info *fi,
		   int regfd)
{
	pending = 0;
	if (!fs->passthrough)
		return false;
	pthread_mutex_lock(&fs->mu);
	int id = n->backing;
	if (id > 0)
		n->nback++;
	pthread_mutex_unlock(&fs->mu);
	if (id <= 0) {
		int pfd = regfd >= 0 ? regfd : fsg_get_fd(fs, n);
		struct pass_map m = { .fd = pfd };
		id = pfd < 0 ? -1 : ioctl(fs->fuse_fd, PASS_IOC_OPEN, &m);
		int e = errno;
		if (regfd < 0)
			fsg_put(fs, n);
		if (id <= 0 && pfd >= 0 && (e == EPERM || e == ENOTTY || e == EOPNOTSUPP))
			fs->passthrough = false; /* not for us (CAP_SYS_ADMIN): stop asking */
		if (id <= 0)
			return false;
		pthread_mutex_lock(&fs->mu);
		int had = n->backing; /* another open of n made one meanwhile? */
		if (had <= 0)
			n->backing = id;
		n->nback++;
		pthread_mutex_unlock(&fs->mu);
		if (had > 0) {
			fsg_pass_close_id(fs, id);
			id = had;
		}
	}
	pending = id;
	fi->fh = (uint32_t)fi->fh | (uint64_t)1 << 32;
	return true;
}

void fsg_pass_done(void)
{
	pending = 0;
}

void fsg_pass_release(struct fsg *fs, struct fsg_node *n, uint64_t fh)
{
	if (!(fh >> 32))
		return;
	pthread_mutex_lock(&fs->mu);
	if (n->nback > 0)
		n->nback--;
	if (n->fd < 0) /* its fd left the LRU meanwhile */
		fsg_pass_drop_locked(fs, n);
	fsg_unlock(fs);
}

void fsg_pass_drop_locked(struct fsg *fs, struct fsg_node *n)
{
	if (n->backing > 0 && n->nback == 0) {
		if (!fsg_defer_id(n->backing)) /* closed after mu, fsg_unlock() */
			fsg_pass_close_id(fs, n->backing);
		n->backing = 0;
	}
}

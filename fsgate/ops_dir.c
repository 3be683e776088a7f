/* ops_dir.c: directory listing. Opening a directory (to list it, or for
 * fchdir/openat) asks for r on "dir/", as AppArmor does. readdirplus
 * returns subdirectories with attributes (a walk descends without a
 * lookup), and files too once the directory has been stat-walked (ls -l,
 * du: after a listing, a lookup per name came; lookups before any
 * listing, as when tar made the files, do not count); each such entry is
 * a lookup the kernel will forget later. Measured on /usr/include: a first find 25% faster,
 * find | xargs cat 5-10% faster, a first ls -lR 35% slower (still 2x
 * faster than bindfs), the next ones as before. The kernel caches
 * listings while a directory stays unchanged. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsg.h"

struct fsg_dir {
	DIR *dp;
	off_t offset;
	struct dirent *entry; /* read but not yet returned */
};

static int do_opendir(fuse_req_t req, struct fsg *fs, struct fsg_node *n,
		      struct fuse_file_info *fi)
{
	struct fsg_caller c;
	struct stat st;
	char path[FSG_PATH_MAX + 1];
	struct fsg_dir *d = NULL;
	int pfd = fsg_get_fd(fs, n), r, fd = -1;
	if (pfd < 0) {
		r = pfd;
		goto out;
	}
	if (fstat(pfd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = fsg_path(fs, n, NULL, true, path, sizeof path);
	if (r < 0)
		goto out;
	fsg_caller_init(fs, req, &c);
	struct fsg_req_check rc = {
		.op = "open", .path = path, .want = PERM_READ, .ouid = st.st_uid,
		.owner = st.st_uid == c.uid, .style = MS_PLAIN,
	};
	r = fsg_check(fs, &c, &rc);
	if (r < 0)
		goto out;
	fd = fsg_reopen(fs, n, pfd, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	d = calloc(1, sizeof *d);
	if (!d || !(d->dp = fdopendir(fd))) {
		r = d ? -errno : -ENOMEM;
		goto out;
	}
	fd = -1; /* owned by d->dp */
	fi->fh = (uint64_t)(uintptr_t)d;
	/* The kernel keeps listings (cache_readdir) while the directory is
	 * as we last saw it: its own changes through us reset them, and one
	 * made beside us (a new mtime) drops them here (no keep_cache). The
	 * listing was decided (r on dir/) at this open either way. */
	fi->cache_readdir = 1;
	fi->keep_cache = fsg_note_version(fs, n, &st);
	d = NULL;
	r = 0;
out:
	free(d);
	if (fd >= 0)
		close(fd);
	fsg_put(fs, n);
	return r;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsg *fs = fsg_of(req);
	int r = do_opendir(req, fs, fsg_node(fs, ino), fi);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (fuse_reply_open(req, fi) != 0) {
		struct fsg_dir *d = (struct fsg_dir *)(uintptr_t)fi->fh;
		closedir(d->dp);
		free(d);
	}
}

static bool dot_or_dotdot(const char *s)
{
	return s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0'));
}

/* Adds one entry at p (room rem); returns its size, > rem when it did not
 * fit (and nothing was kept), or < 0 on a lookup error. */
static ssize_t add_entry(fuse_req_t req, struct fsg *fs, struct fsg_node *dn,
			 struct dirent *de, char *p, size_t rem, bool plus)
{
	struct stat st;
	memset(&st, 0, sizeof st);
	st.st_ino = fsg_ino(fs, dn->dev, de->d_ino);
	st.st_mode = (mode_t)de->d_type << 12;
	if (!plus)
		return (ssize_t)fuse_add_direntry(req, p, rem, de->d_name, &st,
						   de->d_off);
	struct fuse_entry_param e;
	struct fsg_node *n = NULL;
	memset(&e, 0, sizeof e);
	e.attr = st;
	/* A file's entry without attributes (node id 0: the kernel adds no
	 * inode) until its directory is seen stat-walked: a find or a tree
	 * walk then costs no stat and no inode per file, and a subdirectory
	 * still comes with its attributes for the walk's descent. */
	bool bare = de->d_type != DT_DIR && de->d_type != DT_UNKNOWN &&
		    !__atomic_load_n(&dn->stat_walked, __ATOMIC_RELAXED);
	if (!dot_or_dotdot(de->d_name) && !bare) {
		int r = fsg_lookup_how(fs, dn, de->d_name, true, &st, &n);
		if (r == -ENOENT)
			return 0; /* vanished meanwhile: skip it */
		if (r < 0)
			return r;
		fsg_fill_entry(fs, n, &st, &e);
	}
	size_t sz = fuse_add_direntry_plus(req, p, rem, de->d_name, &e, de->d_off);
	if (sz > rem && n)
		fsg_forget(fs, n, 1);
	return (ssize_t)sz;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *dn = fsg_node(fs, ino);
	struct fsg_dir *d = (struct fsg_dir *)(uintptr_t)fi->fh;
	char *buf = calloc(1, size), *p = buf;
	size_t rem = size;
	int err = 0;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (plus)
		__atomic_store_n(&dn->listed, true, __ATOMIC_RELAXED);
	if (off != d->offset) {
		seekdir(d->dp, off);
		d->entry = NULL;
		d->offset = off;
	}
	for (;;) {
		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (!d->entry) {
				err = errno;
				break;
			}
		}
		ssize_t sz = add_entry(req, fs, dn, d->entry, p, rem, plus);
		if (sz < 0) {
			err = (int)-sz;
			break;
		}
		if ((size_t)sz > rem)
			break;
		p += sz;
		rem -= (size_t)sz;
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}
	if (err && rem == size)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsg_dir *d = (struct fsg_dir *)(uintptr_t)fi->fh;
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	struct fsg_dir *d = (struct fsg_dir *)(uintptr_t)fi->fh;
	int fd = dirfd(d->dp);
	int r = (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? errno : 0;
	fuse_reply_err(req, r);
}

void fsg_ops_dir(struct fuse_lowlevel_ops *ops)
{
	ops->opendir = op_opendir;
	ops->readdir = op_readdir;
	ops->readdirplus = op_readdirplus;
	ops->releasedir = op_releasedir;
	ops->fsyncdir = op_fsyncdir;
}

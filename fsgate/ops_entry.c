/* ops_entry.c: FUSE operations on names and attributes.
 *
 * Each operation computes one errno in a do_*() worker and the thin wrapper
 * replies exactly once (libfuse's passthrough_ll does the same). The daemon
 * acts as root on fds it resolved itself: names are single components
 * (the kernel walks paths, one lookup per component, and follows symlinks
 * itself), every *at() call uses O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, and the
 * kernel has already checked DAC with the caller's own credentials and
 * capabilities (the mount uses default_permissions). New objects are then
 * handed to the caller (uid, and gid unless the directory is setgid).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fsg.h"

void fsg_fill_entry(struct fsg *fs, struct fsg_node *n, const struct stat *st,
		    struct fuse_entry_param *e)
{
	memset(e, 0, sizeof *e);
	e->ino = (fuse_ino_t)(uintptr_t)n;
	e->generation = 1;
	e->attr = *st;
	e->attr.st_ino = fsg_ino(fs, st->st_dev, st->st_ino);
	e->attr_timeout = fs->o.attr_timeout;
	e->entry_timeout = fs->o.entry_timeout;
}

static void fsg_reply_attr(fuse_req_t req, struct fsg *fs, struct stat *st)
{
	st->st_ino = fsg_ino(fs, st->st_dev, st->st_ino);
	fuse_reply_attr(req, st, fs->o.attr_timeout);
}

static void reply_lookup(fuse_req_t req, struct fsg *fs, struct fsg_node *parent,
			 const char *name)
{
	struct fuse_entry_param e;
	struct stat st;
	struct fsg_node *n;
	int r = fsg_lookup_how(fs, parent, name, true, &st, &n);
	if (r == -ENOENT && fs->o.negative_timeout > 0) {
		memset(&e, 0, sizeof e); /* ino 0: a cached negative entry */
		e.entry_timeout = fs->o.negative_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fsg_fill_entry(fs, n, &st, &e);
	if (fuse_reply_entry(req, &e) != 0)
		fsg_forget(fs, n, 1); /* the kernel never got it */
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *p = fsg_node(fs, parent);
	if (__atomic_load_n(&p->listed, __ATOMIC_RELAXED)) /* see ops_dir.c */
		__atomic_store_n(&p->stat_walked, true, __ATOMIC_RELAXED);
	reply_lookup(req, fs, p, name);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fsg *fs = fsg_of(req);
	fsg_forget(fs, fsg_node(fs, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct fsg *fs = fsg_of(req);
	for (size_t i = 0; i < count; i++)
		fsg_forget(fs, fsg_node(fs, forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino);
	struct stat st;
	int r;
	if (fi && n->type == S_IFREG) {
		r = fstat((int)fi->fh, &st) < 0 ? -errno : 0;
	} else {
		r = fsg_node_stat(fs, n, &st);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fsg_reply_attr(req, fs, &st);
}

/* The caller's check on node n (whose O_PATH fd is pfd) for `want`. */
static int check_node(struct fsg *fs, struct fsg_caller *c, struct fsg_node *n,
		      int fd, const char *op, uint32_t want, enum fsg_maskstyle style)
{
	char path[FSG_PATH_MAX + 1];
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	int r = fsg_path(fs, n, NULL, S_ISDIR(st.st_mode), path, sizeof path);
	if (r < 0)
		return r;
	struct fsg_req_check rc = {
		.op = op, .path = path, .want = want, .ouid = st.st_uid,
		.owner = st.st_uid == c->uid, .style = style,
	};
	return fsg_check(fs, c, &rc);
}

static const char *setattr_op(int valid)
{
	if (valid & FUSE_SET_ATTR_SIZE)
		return "truncate";
	if (valid & FUSE_SET_ATTR_MODE)
		return "chmod";
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		return "chown";
	return "setattr";
}

static int do_setattr(fuse_req_t req, struct fsg *fs, struct fsg_node *n, int fd,
		      struct stat *attr, int valid, struct fuse_file_info *fi)
{
	struct fsg_caller c;
	char p[64];
	int r;
	fsg_caller_init(fs, req, &c);
	r = check_node(fs, &c, n, fd, setattr_op(valid), PERM_WRITE, MS_PLAIN);
	if (r < 0)
		return r;
	fsg_proc_path(fd, p, sizeof p);
	if (valid & FUSE_SET_ATTR_MODE) {
		r = fi ? fchmod((int)fi->fh, attr->st_mode) : chmod(p, attr->st_mode);
		if (r < 0)
			return -errno;
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t u = valid & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
		gid_t g = valid & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;
		if (fchownat(fd, "", u, g, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		fsg_writer(fs, n, 1); /* not during a push of its content */
		r = fi ? ftruncate((int)fi->fh, attr->st_size) : truncate(p, attr->st_size);
		int e = errno;
		fsg_writer(fs, n, -1);
		if (r < 0)
			return -e;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec tv[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			tv[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			tv[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			tv[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			tv[1] = attr->st_mtim;
		r = fi ? futimens((int)fi->fh, tv)
		       : utimensat(fd, "", tv, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
		if (r < 0)
			return -errno;
	}
	return 0;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int valid, struct fuse_file_info *fi)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino);
	struct stat st;
	int fd = fsg_get_fd(fs, n);
	int r = fd < 0 ? fd : do_setattr(req, fs, n, fd, attr, valid, fi);
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r == 0 && st.st_nlink > 1 && !S_ISDIR(st.st_mode))
		fsg_inval_siblings(fs, n);
	fsg_put(fs, n);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fsg_reply_attr(req, fs, &st);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino);
	char buf[PATH_MAX + 1];
	int fd = fsg_get_fd(fs, n);
	ssize_t len = fd < 0 ? fd : readlinkat(fd, "", buf, sizeof buf);
	if (fd >= 0 && len < 0)
		len = -errno;
	fsg_put(fs, n);
	if (len < 0)
		fuse_reply_err(req, (int)-len);
	else if ((size_t)len >= sizeof buf)
		fuse_reply_err(req, ENAMETOOLONG);
	else {
		buf[len] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

/* ---- Creating names ---- */

enum mk_kind { MK_NOD, MK_DIR, MK_SYMLINK };

/* The object we just made at pfd/name, given to the caller: an O_PATH fd
 * on it, st its stat. It is checked to be the one we made (ours, the
 * daemon's), so a swap in between can never hand the caller somebody
 * else's file. Returns the fd or -errno. */
static int give_to_caller(struct fsg *fs, int pfd, const char *name,
			  const struct fsg_caller *c, struct stat *st)
{
	int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (fstat(fd, st) < 0)
		r = -errno;
	else if (st->st_uid != fs->uid)
		r = -EIO;
	else if ((r = fsg_give_owner(fs, pfd, fd, c)) > 0)
		r = fstat(fd, st) < 0 ? -errno : 0;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Make the object; its node is entered (*out, nlookup+1, st its stat). */
static int do_make(fuse_req_t req, struct fsg *fs, struct fsg_node *parent,
		   const char *name, enum mk_kind kind, mode_t mode, dev_t rdev,
		   const char *link, struct stat *st, struct fsg_node **out)
{
	static const char *const ops[] = { "mknod", "mkdir", "symlink" };
	struct fsg_caller c;
	char path[FSG_PATH_MAX + 1];
	if (fsg_bad_name(name))
		return -EINVAL;
	int pfd = fsg_get_fd(fs, parent), r;
	if (pfd < 0)
		return pfd;
	fsg_caller_init(fs, req, &c);
	r = fsg_path(fs, parent, name, kind == MK_DIR, path, sizeof path);
	if (r < 0)
		goto out;
	struct fsg_req_check rc = {
		.op = ops[kind], .path = path, .want = PERM_WRITE, .ouid = c.uid,
		.owner = true, .style = MS_CREATE,
	};
	r = fsg_check(fs, &c, &rc);
	if (r < 0)
		goto out;
	fsg_umask(fs, fuse_req_ctx(req)->umask);
	if (kind == MK_DIR)
		r = mkdirat(pfd, name, mode);
	else if (kind == MK_SYMLINK)
		r = symlinkat(link, pfd, name);
	else
		r = mknodat(pfd, name, mode, rdev);
	if (r < 0) {
		r = -errno;
		goto out;
	}
	int fd = give_to_caller(fs, pfd, name, &c, st);
	if (fd < 0) {
		r = fd;
		unlinkat(pfd, name, kind == MK_DIR ? AT_REMOVEDIR : 0);
		goto out;
	}
	/* its node from that fd */
	r = fsg_node_made(fs, parent, name, fd, true, st, out);
out:
	fsg_put(fs, parent);
	return r;
}

static void make_reply(fuse_req_t req, fuse_ino_t parent, const char *name,
		       enum mk_kind kind, mode_t mode, dev_t rdev, const char *link)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *p = fsg_node(fs, parent);
	struct fuse_entry_param e;
	struct stat st;
	struct fsg_node *n;
	int r = do_make(req, fs, p, name, kind, mode, rdev, link, &st, &n);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fsg_fill_entry(fs, n, &st, &e);
	if (fuse_reply_entry(req, &e) != 0)
		fsg_forget(fs, n, 1);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	make_reply(req, parent, name, MK_NOD, mode, rdev, NULL);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	make_reply(req, parent, name, MK_DIR, mode, 0, NULL);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	make_reply(req, parent, name, MK_SYMLINK, 0, 0, link);
}

/* ---- Removing and moving names ---- */

static int check_name(struct fsg *fs, struct fsg_caller *c, struct fsg_node *p,
		      int pfd, const char *name, const char *op,
		      enum fsg_maskstyle style, const struct stat *st,
		      bool as_dir, const char *target)
{
	char path[FSG_PATH_MAX + 1];
	int r = fsg_path(fs, p, name, as_dir, path, sizeof path);
	if (r < 0)
		return r;
	struct fsg_req_check rc = {
		.op = op, .path = path, .want = PERM_WRITE,
		.ouid = st ? (long)st->st_uid : c->uid,
		.owner = st ? st->st_uid == c->uid : true,
		.target = target, .style = style,
	};
	return fsg_check(fs, c, &rc);
}

/* The other names of a file that lost one (nlink changed). */
static void inval_by_id(struct fsg *fs, dev_t dev, ino_t ino)
{
	struct fsg_node probe;
	memset(&probe, 0, sizeof probe);
	probe.dev = dev;
	probe.ino = ino;
	fsg_inval_siblings(fs, &probe);
}

static int do_remove(fuse_req_t req, struct fsg *fs, struct fsg_node *p,
		     const char *name, bool dir)
{
	struct fsg_caller c;
	struct stat st;
	if (fsg_bad_name(name))
		return -EINVAL;
	int pfd = fsg_get_fd(fs, p), r;
	if (pfd < 0)
		return pfd;
	fsg_caller_init(fs, req, &c);
	r = fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	if (r == 0)
		r = check_name(fs, &c, p, pfd, name, dir ? "rmdir" : "unlink",
			       MS_DELETE, &st, dir, NULL);
	if (r == 0 && unlinkat(pfd, name, dir ? AT_REMOVEDIR : 0) < 0)
		r = -errno;
	if (r == 0 && !dir && st.st_nlink > 1)
		inval_by_id(fs, st.st_dev, st.st_ino);
	if (r == 0)
		fsg_unhash_child(fs, p, name);
	fsg_put(fs, p);
	return r;
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fsg *fs = fsg_of(req);
	fuse_reply_err(req, -do_remove(req, fs, fsg_node(fs, parent), name, false));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fsg *fs = fsg_of(req);
	fuse_reply_err(req, -do_remove(req, fs, fsg_node(fs, parent), name, true));
}

static int rename_checks(struct fsg *fs, struct fsg_caller *c, struct fsg_node *p,
			 int pfd, const char *name, struct fsg_node *np,
			 int npfd, const char *nname, unsigned flags)
{
	struct stat st, nst;
	char npath[FSG_PATH_MAX + 1];
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	bool have_dst = fstatat(npfd, nname, &nst, AT_SYMLINK_NOFOLLOW) == 0;
	bool sdir = S_ISDIR(st.st_mode);
	int r = fsg_path(fs, np, nname, sdir, npath, sizeof npath);
	if (r < 0)
		return r;
	r = check_name(fs, c, p, pfd, name, "rename_src", MS_DELETE, &st, sdir, npath);
	if (r == 0)
		r = check_name(fs, c, np, npfd, nname, "rename_dest", MS_CREATE,
			       &st, sdir, NULL);
	if (r == 0 && (flags & RENAME_EXCHANGE) && have_dst) {
		/* The target moves too: it leaves nname and lands at name. */
		bool ddir = S_ISDIR(nst.st_mode);
		r = check_name(fs, c, np, npfd, nname, "rename_src", MS_DELETE,
			       &nst, ddir, NULL);
		if (r == 0)
			r = check_name(fs, c, p, pfd, name, "rename_dest",
				       MS_CREATE, &nst, ddir, NULL);
	}
	return r;
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned flags)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *p = fsg_node(fs, parent), *np = fsg_node(fs, newparent);
	struct fsg_caller c;
	int r, pfd = fsg_get_fd(fs, p), npfd = fsg_get_fd(fs, np);
	fsg_caller_init(fs, req, &c);
	r = pfd < 0 ? pfd : npfd < 0 ? npfd : 0;
	if (r == 0 && (fsg_bad_name(name) || fsg_bad_name(newname)))
		r = -EINVAL;
	if (r == 0)
		r = rename_checks(fs, &c, p, pfd, name, np, npfd, newname, flags);
	if (r == 0 && renameat2(pfd, name, npfd, newname, flags) < 0)
		r = -errno;
	if (r == 0)
		fsg_rename_child(fs, p, name, np, newname, flags & RENAME_EXCHANGE);
	fsg_put(fs, np);
	fsg_put(fs, p);
	fuse_reply_err(req, -r);
}

static int do_link(fuse_req_t req, struct fsg *fs, struct fsg_node *n, int fd,
		   struct fsg_node *np, int npfd, const char *newname)
{
	struct fsg_caller c;
	struct stat st;
	char npath[FSG_PATH_MAX + 1], tpath[FSG_PATH_MAX + 1];
	if (fstat(fd, &st) < 0)
		return -errno;
	int r = fsg_path(fs, np, newname, false, npath, sizeof npath);
	if (r >= 0)
		r = fsg_path(fs, n, NULL, false, tpath, sizeof tpath);
	if (r < 0)
		return r;
	fsg_caller_init(fs, req, &c);
	r = fsg_check_link(fs, &c, npath, tpath, st.st_uid, st.st_uid == c.uid);
	if (r < 0)
		return r;
	if (linkat(fd, "", npfd, newname, AT_EMPTY_PATH) < 0)
		return -errno;
	/* The new name is a new FUSE inode (nodes are per path): tell the
	 * kernel the old one's nlink and ctime changed. Attributes only
	 * (offset < 0), which takes no inode lock. */
	if (fs->se)
		fuse_lowlevel_notify_inval_inode(fs->se, n == &fs->root ? FUSE_ROOT_ID
						 : (fuse_ino_t)(uintptr_t)n, -1, 0);
	fsg_inval_siblings(fs, n);
	return 0;
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino), *np = fsg_node(fs, newparent);
	int fd = fsg_get_fd(fs, n), npfd = fsg_get_fd(fs, np);
	int r = fd < 0 ? fd : npfd < 0 ? npfd : 0;
	if (r == 0 && fsg_bad_name(newname))
		r = -EINVAL;
	if (r == 0)
		r = do_link(req, fs, n, fd, np, npfd, newname);
	fsg_put(fs, np);
	fsg_put(fs, n);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	reply_lookup(req, fs, np, newname);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino);
	struct statvfs sv;
	int fd = fsg_get_fd(fs, n);
	int r = fd < 0 ? fd : fstatvfs(fd, &sv) < 0 ? -errno : 0;
	fsg_put(fs, n);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_statfs(req, &sv);
}

/* ---- Extended attributes ----
 * Through /proc/self/fd/N: the f*xattr calls refuse O_PATH fds. A symlink's
 * own xattrs cannot be reached that way (the magic link is followed), so
 * they are reported as unsupported, as passthrough_ll does. */

static int xattr_fd(struct fsg *fs, struct fsg_node *n, char *p, size_t len)
{
	if (n->type == S_IFLNK)
		return -ENOTSUP;
	int fd = fsg_get_fd(fs, n);
	if (fd >= 0)
		fsg_proc_path(fd, p, len);
	return fd;
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino);
	struct fsg_caller c;
	char p[64];
	int fd = xattr_fd(fs, n, p, sizeof p), r = fd < 0 ? fd : 0;
	fsg_caller_init(fs, req, &c);
	if (r == 0)
		r = check_node(fs, &c, n, fd, "setxattr", PERM_WRITE, MS_PLAIN);
	if (r == 0 && setxattr(p, name, value, size, flags) < 0)
		r = -errno;
	if (n->type != S_IFLNK)
		fsg_put(fs, n);
	fuse_reply_err(req, -r);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino);
	struct fsg_caller c;
	char p[64];
	int fd = xattr_fd(fs, n, p, sizeof p), r = fd < 0 ? fd : 0;
	fsg_caller_init(fs, req, &c);
	if (r == 0)
		r = check_node(fs, &c, n, fd, "removexattr", PERM_WRITE, MS_PLAIN);
	if (r == 0 && removexattr(p, name) < 0)
		r = -errno;
	if (n->type != S_IFLNK)
		fsg_put(fs, n);
	fuse_reply_err(req, -r);
}

/* getxattr and listxattr share one shape: size 0 asks for the length. */
static void reply_xattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct fsg *fs = fsg_of(req);
	struct fsg_node *n = fsg_node(fs, ino);
	char p[64], *buf = NULL;
	ssize_t len;
	int fd = xattr_fd(fs, n, p, sizeof p);
	if (fd < 0) {
		len = fd;
		goto out;
	}
	if (size && !(buf = malloc(size))) {
		len = -ENOMEM;
		goto out;
	}
	len = name ? getxattr(p, name, buf, size) : listxattr(p, buf, size);
	if (len < 0)
		len = -errno;
out:
	if (n->type != S_IFLNK)
		fsg_put(fs, n);
	if (len < 0)
		fuse_reply_err(req, (int)-len);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)len);
	else
		fuse_reply_buf(req, buf, (size_t)len);
	free(buf);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	reply_xattr(req, ino, name, size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	reply_xattr(req, ino, NULL, size);
}

void fsg_ops_entry(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = op_lookup;
	ops->forget = op_forget;
	ops->forget_multi = op_forget_multi;
	ops->getattr = op_getattr;
	ops->setattr = op_setattr;
	ops->readlink = op_readlink;
	ops->mknod = op_mknod;
	ops->mkdir = op_mkdir;
	ops->symlink = op_symlink;
	ops->unlink = op_unlink;
	ops->rmdir = op_rmdir;
	ops->rename = op_rename;
	ops->link = op_link;
	ops->statfs = op_statfs;
	ops->setxattr = op_setxattr;
	ops->getxattr = op_getxattr;
	ops->listxattr = op_listxattr;
	ops->removexattr = op_removexattr;
}

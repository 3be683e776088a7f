/* cg_apply.c: mounts, pivot_root and rlimits of a plan (cg_apply.h).
 *
 * Runs as the sandbox's pid 1 in the sandbox's mount namespace, where the
 * launcher already mounted fsgate's FUSE file system at `newroot`. Paths
 * below newroot are served by fsgate; our process is outside every
 * instance cgroup, so fsgate lets its lookups through.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#include "capgate/cg_apply.h"

static int fail(struct cg_err *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct cg_err *e, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->what, sizeof e->what, fmt, ap);
	va_end(ap);
	return -err;
}

static int at(char *buf, size_t len, const char *root, const char *dst)
{
	if ((size_t)snprintf(buf, len, "%s%s", root, dst) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* mount_setattr(2) (Linux 5.12): read-only for a whole tree at once; a
 * recursive bind with MS_RDONLY would only cover its top mount. */
static int set_ro_tree(const char *path)
{
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					    MOUNT_ATTR_NODEV };
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &a, sizeof a) < 0)
		return -errno;
	return 0;
}

/* A direct subtree's attributes, for its whole tree: nosuid and nodev
 * always, read-only and noexec as its verdict says (cg_plan.h). */
static int set_direct_tree(const char *path, unsigned attrs)
{
	struct mount_attr a = {
		.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			    (attrs & CG_DIRECT_RW ? 0 : MOUNT_ATTR_RDONLY) |
			    (attrs & CG_DIRECT_NOEXEC ? MOUNT_ATTR_NOEXEC : 0),
	};
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &a, sizeof a) < 0)
		return -errno;
	return 0;
}

static int ensure_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int cg_apply_mounts(const struct cg_plan *p, const char *newroot,
		    struct cg_err *e)
{
	char path[4096];
	int kept = -1, r = 0;
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct cg_mount *m = &p->mounts[i];
		if (at(path, sizeof path, newroot, m->dst) < 0) {
			r = fail(e, ENAMETOOLONG, "path too long: %s", m->dst);
			goto out;
		}
		switch (m->op) {
		case MOP_KEEP:
			/* A detached copy of the fsgate view of dst. */
			kept = (int)syscall(SYS_open_tree, AT_FDCWD, path,
					    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
			break; /* missing: nothing to keep */
		case MOP_RESTORE:
			if (kept < 0)
				break;
			if (mkdir(path, 01777) < 0 && errno != EEXIST) {
				r = fail(e, errno, "mkdir %s", m->dst);
				goto out;
			}
			if (syscall(SYS_move_mount, kept, "", AT_FDCWD, path,
				    MOVE_MOUNT_F_EMPTY_PATH) < 0) {
				r = fail(e, errno, "move_mount %s", m->dst);
				goto out;
			}
			break;
		case MOP_PROC:
			if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
				r = fail(e, errno, "mount proc on %s", m->dst);
				goto out;
			}
			break;
		case MOP_RO_SELF:
			if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
				if (errno == ENOENT)
					break;
				r = fail(e, errno, "bind %s", m->dst);
				goto out;
			}
			if ((r = set_ro_tree(path)) < 0) {
				r = fail(e, -r, "read-only %s", m->dst);
				goto out;
			}
			break;
		case MOP_RO_BIND:
			if (mount(m->src, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
				r = fail(e, errno, "bind %s on %s", m->src, m->dst);
				goto out;
			}
			if ((r = set_ro_tree(path)) < 0) {
				r = fail(e, -r, "read-only %s", m->dst);
				goto out;
			}
			break;
		case MOP_TMPFS:
			if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NOEXEC,
				  "mode=0755,size=64k,nr_inodes=64") < 0) {
				r = fail(e, errno, "tmpfs on %s", m->dst);
				goto out;
			}
			break;
		case MOP_DEV: {
			struct stat st;
			if (stat(m->src, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
				break; /* not on this host */
			if ((r = ensure_file(path)) < 0) {
				r = fail(e, -r, "create %s", m->dst);
				goto out;
			}
			if (mount(m->src, path, NULL, MS_BIND, NULL) < 0) {
				r = fail(e, errno, "bind %s", m->src);
				goto out;
			}
			break;
		}
		case MOP_DEVPTS:
			if (mkdir(path, 0755) < 0 && errno != EEXIST) {
				r = fail(e, errno, "mkdir %s", m->dst);
				goto out;
			}
			if (mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC,
				  "newinstance,ptmxmode=0666,mode=620") < 0) {
				r = fail(e, errno, "devpts on %s", m->dst);
				goto out;
			}
			break;
		case MOP_SYMLINK:
			if (symlink(m->src, path) < 0 && errno != EEXIST) {
				r = fail(e, errno, "symlink %s", m->dst);
				goto out;
			}
			break;
		case MOP_REMOUNT_RO:
			if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
				  MS_NOSUID | MS_NOEXEC, NULL) < 0) {
				r = fail(e, errno, "remount %s read-only", m->dst);
				goto out;
			}
			break;
		case MOP_SOCKET: {
			struct stat st;
			if (stat(m->src, &st) < 0 || !S_ISSOCK(st.st_mode))
				break;
			if (mount(m->src, path, NULL, MS_BIND, NULL) < 0) {
				r = fail(e, errno, "bind socket %s", m->src);
				goto out;
			}
			break;
		}
		case MOP_DIRECT: {
			/* both sides real directories (merged-/usr symlinks are
			 * skipped: their targets have their own entries) */
			struct stat hs, vs;
			if (lstat(m->src, &hs) < 0 || !S_ISDIR(hs.st_mode) ||
			    lstat(path, &vs) < 0 || !S_ISDIR(vs.st_mode))
				break;
			if (mount(m->src, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
				r = fail(e, errno, "bind %s", m->src);
				goto out;
			}
			if ((r = set_direct_tree(path, m->attrs)) < 0) {
				r = fail(e, -r, "mount attributes of %s", m->dst);
				goto out;
			}
			break;
		}
		case MOP_MAX:
			break;
		}
	}
out:
	if (kept >= 0)
		close(kept);
	return r;
}

int cg_apply_pivot(const char *newroot, const char *cwd, struct cg_err *e)
{
	/* pivot_root(".", ".") stacks the old root on top of the new one;
	 * detaching "." then drops it (as runc and bubblewrap do). */
	if (chdir(newroot) < 0)
		return fail(e, errno, "chdir %s", newroot);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(e, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return fail(e, errno, "detach the old root");
	if (chdir("/") < 0)
		return fail(e, errno, "chdir /");
	if (cwd && chdir(cwd) < 0)
		(void)chdir("/"); /* like bwrap: the old cwd may be out of view */
	return 0;
}

int cg_apply_rlimits(const struct rlimit_rule *rl, size_t n, pid_t pid,
		     struct cg_err *e)
{
	for (size_t i = 0; i < n; i++) {
		struct rlimit cur, nw;
		if (prlimit(pid, (enum __rlimit_resource)rl[i].resource, NULL, &cur) < 0)
			return fail(e, errno, "get rlimit %d", rl[i].resource);
		nw = cur;
		rlim_t v = rl[i].value;
		if (nw.rlim_max == RLIM_INFINITY || (v != RLIM_INFINITY && v < nw.rlim_max))
			nw.rlim_max = v;
		if (nw.rlim_cur == RLIM_INFINITY ||
		    (nw.rlim_max != RLIM_INFINITY && nw.rlim_cur > nw.rlim_max))
			nw.rlim_cur = nw.rlim_max;
		if (nw.rlim_cur == cur.rlim_cur && nw.rlim_max == cur.rlim_max)
			continue;
		if (prlimit(pid, (enum __rlimit_resource)rl[i].resource, &nw, NULL) < 0)
			return fail(e, errno, "set rlimit %d", rl[i].resource);
	}
	return 0;
}

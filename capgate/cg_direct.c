/* cg_direct.c: the supervisor's part in direct subtrees (cg_plan.h).
 *
 * A direct subtree is the host's directory bound read-only: no fsgate sees
 * what happens in it. The kernel refuses every write there (EROFS), which
 * keeps the sandbox exactly as strict; this file makes the refusal look as
 * AppArmor's does, EACCES and one log line, and decides what the mount
 * cannot: locks (k). Both see the call before the kernel does (seccomp
 * notifications, cg_seccomp.c) and resolve its paths as the caller would.
 * A caller racing us (renaming a directory, swapping an fd between our
 * look and the kernel's) can only reach the kernel's own refusal (EROFS,
 * without a line), never a write.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capgate/cg_direct.h"
#include "capgate/cg_super_int.h"

/* The direct subtree (cg_plan.h) holding `path`, or NULL. */
static const struct cg_mount *direct_mount(const struct cg_plan *p, const char *path)
{
	for (size_t i = 0; p && i < p->nmounts; i++) {
		const struct cg_mount *m = &p->mounts[i];
		size_t l = strlen(m->dst);
		if (m->op == MOP_DIRECT &&
		    strncmp(path, m->dst, l) == 0 && (path[l] == '/' || path[l] == '\0'))
			return m;
	}
	return NULL;
}

static const char *direct_dir(const struct cg_plan *p, const char *path)
{
	const struct cg_mount *m = direct_mount(p, path);
	return m ? m->dst : NULL;
}

bool cg_direct_maps_exec(const struct cg_plan *p, const char *path)
{
	const struct cg_mount *m = direct_mount(p, path);
	return m && !(m->attrs & CG_DIRECT_NOEXEC);
}

/* w includes append, as upstream (and fsgate) have it. */
static uint32_t with_append(uint32_t granted)
{
	return granted & PERM_WRITE ? granted | PERM_APPEND : granted;
}

/* Decide `want` on `path` for the caller; log and refuse when not granted. */
static void decide(struct cg_super *s, const struct seccomp_notif *n,
		   const struct profile *cur, const char *label, const char *op,
		   const char *path, uint32_t want, const char *mask, long ouid)
{
	pid_t tid = (pid_t)n->pid;
	if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &n->id) < 0)
		return;
	struct file_perms fp;
	decide_file(cur, path, &fp);
	if ((with_append(fp.allow) & want) == want) {
		cg_respond(s, n->id, 0, true); /* the fsuid (a /proc read) unneeded */
		return;
	}
	long fsuid = cg_status_field(tid, "Uid", 3, 10);
	if ((with_append(file_perms_granted(&fp, fsuid >= 0 && fsuid == ouid)) & want) == want) {
		cg_respond(s, n->id, 0, true);
		return;
	}
	if (!(fp.quiet & want))
		cg_log_file(s, AUDIT_DENIED, op, label, path, NULL, NULL, tid, mask, fsuid,
			    ouid);
	cg_respond(s, n->id, EACCES, false);
}

/* ---- k ---- */

/* flock(2) and fcntl(2)'s lock requests, when a direct subtree lacks k.
 * Unlocking asks for nothing; a write lock needs a writable fd, which a
 * read-only mount never gives. Elsewhere fsgate decides. */
void cg_direct_lock(struct cg_super *s, const struct seccomp_notif *n)
{
	pid_t tid = (pid_t)n->pid;
	if (n->data.nr == SYS_fcntl) {
		short type = 0;
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/mem", (int)tid);
		int mfd = open(p, O_RDONLY | O_CLOEXEC);
		ssize_t k = mfd < 0 ? -1 : pread(mfd, &type, sizeof type, (off_t)n->data.args[2]);
		if (mfd >= 0)
			close(mfd);
		if (k != sizeof type || type == F_UNLCK) {
			cg_respond(s, n->id, 0, true); /* EFAULT: the kernel says so */
			return;
		}
	}
	const struct profile *cur = NULL;
	char label[256], path[PATH_MAX];
	struct stat st;
	if (cg_who_is(s, tid, &cur, label, sizeof label) != WHO_CONFINED ||
	    cg_fd_file(tid, (int)n->data.args[0], path, sizeof path, &st) <= 0 ||
	    !direct_dir(s->plan, path)) {
		cg_respond(s, n->id, 0, true);
		return;
	}
	if (S_ISDIR(st.st_mode) && strlen(path) + 1 < sizeof path)
		strcat(path, "/");
	decide(s, n, cur, label, "file_lock", path, PERM_LOCK, "k", st.st_uid);
}

/* ---- writes ---- */

/* How a call names what it changes. The object kinds: OPEN (an open for
 * writing, or a new file), ATTR (chmod, chown, truncate, times, xattrs on
 * an existing object), NEW (a name made: mkdir, mknod, symlink, link,
 * rename's target), DEL (a name removed: unlink, rmdir, rename's source). */
enum wkind { W_NONE, W_OPEN, W_ATTR, W_NEW, W_DEL };

struct wname {
	int8_t dfd;  /* argument holding the dirfd, -1: AT_FDCWD */
	int8_t path; /* argument holding the path, -1: none */
	uint8_t kind;
	const char *op;
};

struct wcall {
	int nr;
	struct wname name[2];
	int8_t flags;  /* open's flags, or the *at call's AT_ flags; -1: none */
	bool nofollow; /* the last component is not followed (l* calls) */
};

#define N1(d, p, k, o) { { d, p, k, o }, { -1, -1, W_NONE, NULL } }
static const struct wcall wcalls[] = {
	{ SYS_open, N1(-1, 0, W_OPEN, "open"), 1, false },
	{ SYS_openat, N1(0, 1, W_OPEN, "open"), 2, false },
	{ SYS_creat, N1(-1, 0, W_OPEN, "open"), -1, false },
	{ SYS_mkdir, N1(-1, 0, W_NEW, "mkdir"), -1, true },
	{ SYS_mkdirat, N1(0, 1, W_NEW, "mkdir"), -1, true },
	{ SYS_mknod, N1(-1, 0, W_NEW, "mknod"), -1, true },
	{ SYS_mknodat, N1(0, 1, W_NEW, "mknod"), -1, true },
	{ SYS_symlink, N1(-1, 1, W_NEW, "symlink"), -1, true },
	{ SYS_symlinkat, N1(1, 2, W_NEW, "symlink"), -1, true },
	{ SYS_link, N1(-1, 1, W_NEW, "link"), -1, true },
	{ SYS_linkat, N1(2, 3, W_NEW, "link"), -1, true },
	{ SYS_unlink, N1(-1, 0, W_DEL, "unlink"), -1, true },
	{ SYS_unlinkat, N1(0, 1, W_DEL, "unlink"), -1, true },
	{ SYS_rmdir, N1(-1, 0, W_DEL, "rmdir"), -1, true },
	{ SYS_rename, { { -1, 0, W_DEL, "rename_src" }, { -1, 1, W_NEW, "rename_dest" } }, -1, true },
	{ SYS_renameat, { { 0, 1, W_DEL, "rename_src" }, { 2, 3, W_NEW, "rename_dest" } }, -1, true },
	{ SYS_renameat2, { { 0, 1, W_DEL, "rename_src" }, { 2, 3, W_NEW, "rename_dest" } }, -1, true },
	{ SYS_chmod, N1(-1, 0, W_ATTR, "chmod"), -1, false },
	{ SYS_fchmodat, N1(0, 1, W_ATTR, "chmod"), -1, false },
	{ SYS_chown, N1(-1, 0, W_ATTR, "chown"), -1, false },
	{ SYS_lchown, N1(-1, 0, W_ATTR, "chown"), -1, true },
	{ SYS_fchownat, N1(0, 1, W_ATTR, "chown"), 4, false },
	{ SYS_truncate, N1(-1, 0, W_ATTR, "truncate"), -1, false },
	{ SYS_utime, N1(-1, 0, W_ATTR, "setattr"), -1, false },
	{ SYS_utimes, N1(-1, 0, W_ATTR, "setattr"), -1, false },
	{ SYS_futimesat, N1(0, 1, W_ATTR, "setattr"), -1, false },
	{ SYS_utimensat, N1(0, 1, W_ATTR, "setattr"), 3, false },
	{ SYS_setxattr, N1(-1, 0, W_ATTR, "setxattr"), -1, false },
	{ SYS_lsetxattr, N1(-1, 0, W_ATTR, "setxattr"), -1, true },
	{ SYS_removexattr, N1(-1, 0, W_ATTR, "removexattr"), -1, false },
	{ SYS_lremovexattr, N1(-1, 0, W_ATTR, "removexattr"), -1, true },
};

const int *cg_direct_write_calls(size_t *n)
{
	static int nrs[sizeof wcalls / sizeof wcalls[0]];
	for (size_t i = 0; i < sizeof wcalls / sizeof wcalls[0]; i++)
		nrs[i] = wcalls[i].nr;
	*n = sizeof wcalls / sizeof wcalls[0];
	return nrs;
}

/* Where the last component of `raw` lives: its directory resolved as the
 * caller would (symlinks followed), then the name. *exists says whether
 * the name is there (not followed). 0 or -errno. */
static int name_location(pid_t tid, int dfd, const char *raw, char *out, size_t len,
			 bool *exists, struct stat *st)
{
	char dir[PATH_MAX], canon[PATH_MAX];
	size_t l = strlen(raw);
	while (l > 1 && raw[l - 1] == '/')
		l--; /* "d/" names d */
	const char *slash = memrchr(raw, '/', l);
	const char *name = slash ? slash + 1 : raw;
	size_t nl = l - (size_t)(name - raw);
	if (nl == 0 || (nl == 1 && name[0] == '.') || (nl == 2 && !strncmp(name, "..", 2)))
		return -EINVAL; /* "/", ".", "..": no name to make or remove */
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == raw)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - raw), raw);
	int fd = cg_resolve(tid, dfd, dir, false, false, canon, sizeof canon);
	if (fd < 0)
		return fd;
	char nm[NAME_MAX + 1];
	snprintf(nm, sizeof nm, "%.*s", (int)nl, name);
	*exists = fstatat(fd, nm, st, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	if ((size_t)snprintf(out, len, "%s%s%s", canon, strcmp(canon, "/") ? "/" : "", nm) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* One name of a write-type call: NULL when it is not in a direct
 * subtree (or the kernel will refuse it anyway), else its path, with the
 * permission and mask string it asks for. */
static const char *check_name(pid_t tid, const struct cg_super *s, const struct wcall *w,
			      const struct wname *wn, const struct seccomp_notif *n,
			      char *path, size_t len, uint32_t *want, const char **mask,
			      long *ouid)
{
	char raw[PATH_MAX];
	uint64_t addr = n->data.args[wn->path];
	if (!addr || cg_read_string(tid, addr, raw, sizeof raw) < 0)
		return NULL; /* utimensat(fd, NULL): the fd's file; EFAULT */
	int dfd = wn->dfd < 0 ? AT_FDCWD : (int)n->data.args[wn->dfd];
	int fl = w->flags < 0 ? 0 : (int)n->data.args[w->flags];
	struct stat st;
	bool exists = false;
	*want = PERM_WRITE;
	*mask = wn->kind == W_NEW ? "c" : wn->kind == W_DEL ? "d" : "w";
	if (w->nr == SYS_link || w->nr == SYS_linkat) {
		*want = PERM_LINK;
		*mask = "l";
	}
	if (wn->kind == W_OPEN || wn->kind == W_ATTR) {
		if (w->nr == SYS_creat)
			fl = O_CREAT | O_WRONLY | O_TRUNC;
		if (wn->kind == W_OPEN && (fl & O_PATH))
			return NULL; /* the kernel ignores the access mode */
		bool nofollow = w->nofollow;
		bool empty = false;
		if (wn->kind == W_OPEN)
			nofollow = fl & O_NOFOLLOW;
		else if (w->flags >= 0)
			nofollow = fl & AT_SYMLINK_NOFOLLOW, empty = fl & AT_EMPTY_PATH;
		int fd = cg_resolve(tid, dfd, raw, nofollow, empty, path, len);
		if (fd >= 0) {
			exists = fstat(fd, &st) == 0;
			close(fd);
			if (wn->kind == W_OPEN && (fl & O_CREAT) && (fl & O_EXCL))
				return NULL; /* EEXIST */
			if (wn->kind == W_OPEN && (fl & O_ACCMODE) == O_RDONLY && !(fl & O_TRUNC))
				return NULL; /* O_CREAT of a file that is there: a read */
		} else if (fd != -ENOENT || wn->kind != W_OPEN || !(fl & O_CREAT) ||
			   name_location(tid, dfd, raw, path, len, &exists, &st) < 0 || exists) {
			return NULL; /* the kernel fails it the same way */
		}
		if (wn->kind == W_OPEN) {
			if ((fl & O_APPEND) && !(fl & O_TRUNC))
				*want = PERM_APPEND, *mask = "a";
			if ((fl & O_ACCMODE) == O_RDWR)
				*want |= PERM_READ, *mask = *want & PERM_APPEND ? "ra" : "wr";
		}
	} else {
		if (name_location(tid, dfd, raw, path, len, &exists, &st) < 0)
			return NULL;
		if (wn->kind == W_NEW && exists && w->name[1].kind == W_NONE)
			return NULL; /* EEXIST */
		if (wn->kind == W_DEL && !exists)
			return NULL; /* ENOENT */
	}
	if (!direct_dir(s->plan, path))
		return NULL;
	*ouid = exists ? (long)st.st_uid : -1;
	bool dir = exists ? S_ISDIR(st.st_mode) : w->nr == SYS_mkdir || w->nr == SYS_mkdirat;
	if (w->nr == SYS_unlinkat && (n->data.args[2] & AT_REMOVEDIR))
		dir = true;
	if (dir && path[strlen(path) - 1] != '/' && strlen(path) + 1 < len)
		strcat(path, "/");
	return path;
}

void cg_direct_write(struct cg_super *s, const struct seccomp_notif *n)
{
	pid_t tid = (pid_t)n->pid;
	const struct wcall *w = NULL;
	for (size_t i = 0; i < sizeof wcalls / sizeof wcalls[0] && !w; i++)
		if (wcalls[i].nr == n->data.nr)
			w = &wcalls[i];
	const struct profile *cur = NULL;
	char label[256];
	if (!w || cg_who_is(s, tid, &cur, label, sizeof label) != WHO_CONFINED) {
		cg_respond(s, n->id, 0, true);
		return;
	}
	for (int i = 0; i < 2 && w->name[i].kind != W_NONE; i++) {
		char path[PATH_MAX];
		uint32_t want;
		const char *mask, *op = w->name[i].op;
		long ouid;
		if (w->nr == SYS_unlinkat && (n->data.args[2] & AT_REMOVEDIR))
			op = "rmdir";
		if (check_name(tid, s, w, &w->name[i], n, path, sizeof path, &want, &mask,
			       &ouid)) {
			decide(s, n, cur, label, op, path, want, mask, ouid);
			return;
		}
	}
	cg_respond(s, n->id, 0, true);
}

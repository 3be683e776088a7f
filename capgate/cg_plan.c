/* cg_plan.c: the pure plan of a sandbox (see cg_plan.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capgate/cg_plan.h"

const char *const cg_dev_nodes[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
	"/dev/tty", NULL,
};

/* The list upstream documents for "safe" exec (apparmor.d(5)), which is
 * glibc's UNSECURE_ENVVARS: ld.so unsets them when AT_SECURE is 1. */
const char *const cg_env_scrub[] = {
	"GCONV_PATH", "GETCONF_DIR", "HOSTALIASES", "LD_AUDIT", "LD_DEBUG",
	"LD_DEBUG_OUTPUT", "LD_DYNAMIC_WEAK", "LD_LIBRARY_PATH", "LD_ORIGIN_PATH",
	"LD_PRELOAD", "LD_PROFILE", "LD_SHOW_AUXV", "LD_USE_LOAD_BIAS",
	"LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NLSPATH", "RESOLV_HOST_CONF",
	"RES_OPTIONS", "TMPDIR", "TZDIR", NULL,
};

bool cg_env_is_unsafe(const char *entry)
{
	size_t n = strcspn(entry, "=");
	for (const char *const *p = cg_env_scrub; *p; p++)
		if (strlen(*p) == n && strncmp(*p, entry, n) == 0)
			return true;
	return false;
}

static const char *const mop_names[MOP_MAX] = {
	[MOP_KEEP] = "keep", [MOP_PROC] = "proc", [MOP_RO_SELF] = "ro-self",
	[MOP_RO_BIND] = "ro-bind", [MOP_TMPFS] = "tmpfs", [MOP_DEV] = "dev",
	[MOP_DEVPTS] = "devpts", [MOP_SYMLINK] = "symlink",
	[MOP_RESTORE] = "restore", [MOP_REMOUNT_RO] = "remount-ro",
	[MOP_SOCKET] = "socket", [MOP_DIRECT] = "direct",
};

const char *cg_mop_name(enum cg_mop op)
{
	return op < MOP_MAX ? mop_names[op] : "?";
}

static int add(struct cg_plan *p, enum cg_mop op, const char *src,
	       const char *dst)
{
	if (p->nmounts >= CG_PLAN_MAX_MOUNTS)
		return -E2BIG;
	p->mounts[p->nmounts++] = (struct cg_mount){ op, src, dst, 0 };
	return 0;
}

/* Does the profile give the program read or write on a device node? Device
 * nodes are root's, so owner rules count when the program runs as root. */
static bool dev_allowed(const struct profile *pr, const char *path, uid_t uid)
{
	struct file_perms fp;
	decide_file(pr, path, &fp);
	return (file_perms_granted(&fp, uid == 0) &
		(PERM_READ | PERM_WRITE | PERM_APPEND)) != 0;
}

/* Where a program's opens mostly go: the system's trees, parents before
 * their children (a child is tried when its parent is not uniform, as
 * under a rule `/usr/lib/` + `** mr`, which does not cover /usr/lib/
 * itself). */
static const char *const direct_dirs[] = {
	"/usr", "/usr/bin", "/usr/sbin", "/usr/libexec",
	"/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/gcc", "/usr/lib/locale",
	"/usr/lib/python3", "/usr/lib/python3.11", "/usr/lib/git-core",
	"/usr/lib64", "/usr/include", "/usr/include/x86_64-linux-gnu",
	"/usr/include/linux", "/usr/include/asm-generic", "/usr/include/c++",
	"/usr/share", "/usr/share/locale", "/usr/share/zoneinfo", "/usr/share/i18n",
	"/usr/local", "/bin", "/sbin", "/lib", "/lib64", "/opt", "/etc/ssl", NULL,
};

/* (Each bound directory costs a cold start one lookup through fsgate per
 * path component, ~60-100 us on a fresh fsgate: the list holds where
 * programs' opens go most, not everything that could qualify.) */

/* The verdict a direct subtree needs (cg_plan.h): its CG_DIRECT_* attrs,
 * or -1. *checks: what the supervisor must see (lock or write calls). */
static int direct_attrs(const struct file_perms *fp, bool *nolock, bool *writes)
{
	uint32_t a = fp->allow;
	unsigned attrs = 0;
	if (!(a & PERM_READ) || (fp->owner_allow & ~a) || fp->audit)
		return -1;
	if (a & PERM_WRITE)
		attrs |= CG_DIRECT_RW;
	else if (a & (PERM_APPEND | PERM_LINK))
		return -1; /* append-only, or links made where nothing else is */
	if (a & PERM_EXEC) {
		if (fp->x.type != XT_INHERIT || fp->x.flags)
			return -1;
	} else if (a & PERM_MMAP) {
		return -1;
	} else {
		attrs |= CG_DIRECT_NOEXEC;
	}
	*nolock = !(a & PERM_LOCK);
	/* refusals to answer as AppArmor would: writes, or links */
	*writes = !(attrs & CG_DIRECT_RW) || !(a & PERM_LINK);
	return (int)attrs;
}

static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static int add_direct(struct cg_plan *out, const struct profile *pr, const char *d)
{
	char dir[4097];
	struct file_perms fp;
	bool nolock = false, writes = false;
	if ((size_t)snprintf(dir, sizeof dir, "%s/", d) >= sizeof dir ||
	    decide_file_subtree(pr, dir, &fp) != 1)
		return 0;
	int attrs = direct_attrs(&fp, &nolock, &writes);
	if (attrs < 0)
		return 0;
	if (add(out, MOP_DIRECT, d, d) < 0)
		return -E2BIG;
	out->mounts[out->nmounts - 1].attrs = (unsigned)attrs;
	out->lock_check |= nolock;
	out->direct |= writes;
	return 1;
}

/* No direct mount over the kernel's file systems, our /dev, or /run:
 * through fsgate no unix socket there can be reached by path (the shared
 * fsgate's control socket is in /run/capgate), and it stays so. */
static bool cwd_candidate(const char *d)
{
	return strcmp(d, "/") && strcmp(d, "/dev") && strcmp(d, "/dev/shm") && strcmp(d, "/proc") &&
	       strcmp(d, "/sys") && strcmp(d, "/run") && strncmp(d, "/proc/", 6) &&
	       strncmp(d, "/sys/", 5) && strncmp(d, "/run/", 5) &&
	       (strncmp(d, "/dev/", 5) || !strncmp(d, "/dev/shm/", 9));
}

int cg_plan_direct(const struct profile *pr, const char *cwd, struct cg_plan *out)
{
	uint32_t flags = profile_flags(pr);
	if (out->complain || (flags & (PF_COMPLAIN | PF_KILL | PF_UNCONFINED | PF_AUDIT |
				       PF_PROMPT | PF_DEFAULT_ALLOW)) ||
	    (profile_extra(pr) & (PX_TRANSITIONS | PX_ALL)))
		return 0;
	const char *chosen[sizeof direct_dirs / sizeof direct_dirs[0]];
	int n = 0;
	for (const char *const *d = direct_dirs; *d; d++) {
		bool covered = false;
		for (int i = 0; i < n && !covered; i++)
			covered = below(*d, chosen[i]);
		if (covered)
			continue;
		int r = add_direct(out, pr, *d);
		if (r < 0)
			return r;
		if (r)
			chosen[n++] = *d;
	}
	/* the working directory: its shallowest ancestor (or itself) with
	 * one verdict below, unless a system candidate covers it or lies
	 * within it */
	if (!cwd || cwd[0] != '/' || strlen(cwd) >= sizeof out->cwd_dir)
		return n;
	for (size_t l = 1; cwd[l - 1]; l++) {
		if (cwd[l] != '/' && cwd[l] != '\0')
			continue;
		snprintf(out->cwd_dir, sizeof out->cwd_dir, "%.*s", (int)l, cwd);
		bool clash = !cwd_candidate(out->cwd_dir);
		for (int i = 0; i < n && !clash; i++)
			clash = below(out->cwd_dir, chosen[i]) || !strcmp(out->cwd_dir, chosen[i]) ||
				below(chosen[i], out->cwd_dir);
		if (clash)
			continue;
		int r = add_direct(out, pr, out->cwd_dir);
		if (r)
			return r < 0 ? r : n + 1;
		if (!cwd[l])
			break;
	}
	out->cwd_dir[0] = '\0';
	return n;
}

int cg_plan_build(const struct profile *pr, const struct cg_plan_in *in,
		  struct cg_plan *out)
{
	int r = 0;
	memset(out, 0, sizeof *out);
	uint32_t flags = profile_flags(pr);
	out->complain = in->complain || (flags & PF_COMPLAIN);

	/* /dev/shm is the host's, through fsgate; a tmpfs goes over /dev. */
	r |= add(out, MOP_KEEP, NULL, "/dev/shm");
	/* A fresh /proc: the host's /proc/<pid>/root is out of reach. The
	 * kernel knobs under it stay read-only, as bubblewrap does. */
	r |= add(out, MOP_PROC, NULL, "/proc");
	r |= add(out, MOP_RO_SELF, NULL, "/proc/sys");
	r |= add(out, MOP_RO_SELF, NULL, "/proc/sysrq-trigger");
	r |= add(out, MOP_RO_SELF, NULL, "/proc/irq");
	r |= add(out, MOP_RO_SELF, NULL, "/proc/bus");
	/* /sys read-only, with everything mounted below it (the cgroup tree). */
	r |= add(out, MOP_RO_BIND, "/sys", "/sys");
	r |= add(out, MOP_TMPFS, NULL, "/dev");
	for (const char *const *d = cg_dev_nodes; *d; d++)
		if (dev_allowed(pr, *d, in->uid))
			r |= add(out, MOP_DEV, *d, *d);
	if (dev_allowed(pr, "/dev/ptmx", in->uid)) {
		r |= add(out, MOP_DEVPTS, NULL, "/dev/pts");
		r |= add(out, MOP_SYMLINK, "pts/ptmx", "/dev/ptmx");
	}
	r |= add(out, MOP_SYMLINK, "/proc/self/fd", "/dev/fd");
	r |= add(out, MOP_SYMLINK, "/proc/self/fd/0", "/dev/stdin");
	r |= add(out, MOP_SYMLINK, "/proc/self/fd/1", "/dev/stdout");
	r |= add(out, MOP_SYMLINK, "/proc/self/fd/2", "/dev/stderr");
	r |= add(out, MOP_RESTORE, NULL, "/dev/shm");
	/* Nothing may be created in our /dev behind fsgate's back. */
	r |= add(out, MOP_REMOUNT_RO, NULL, "/dev");
	/* systemd's notify socket: a unix socket cannot be reached through
	 * FUSE (connect() finds fsgate's inode, not the socket), so bind it. */
	if (in->notify_socket && in->notify_socket[0] == '/')
		r |= add(out, MOP_SOCKET, in->notify_socket, in->notify_socket);
	if (r)
		return -E2BIG;
	/* last: below /dev/shm's restored view too */
	if (in->direct && cg_plan_direct(pr, in->cwd, out) < 0)
		return -E2BIG;

	const struct cap_set *cs = profile_caps(pr);
	out->caps = cs->allow & ~cs->deny;
	out->drop_caps = !out->complain && !(flags & PF_UNCONFINED);

	const struct rlimit_rule *rl;
	size_t n = profile_rlimits(pr, &rl);
	for (size_t i = 0; i < n; i++) {
		if (out->nrlimits >= CG_PLAN_MAX_RLIMITS)
			return -E2BIG;
		out->rlimits[out->nrlimits++] = rl[i];
	}

	uint32_t extra = profile_extra(pr);
	out->userns = out->complain || (extra & (PX_USERNS_CREATE | PX_ALL));
	out->io_uring = out->complain || (extra & (PX_IO_URING | PX_ALL));
	return 0;
}

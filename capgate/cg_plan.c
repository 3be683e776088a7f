/* cg_plan.c: the pure plan of a sandbox (see cg_plan.h). */
#include <errno.h>
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
	[MOP_SOCKET] = "socket",
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
	p->mounts[p->nmounts++] = (struct cg_mount){ op, src, dst };
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

/* cg_plan.h: what `capgate exec` will mount, drop and apply, as plain data.
 *
 * Plan, then act (bubblewrap's SetupOp list walked by setup_newroot()):
 * cg_plan_build() is pure (it asks the compiled policy and nothing else), so
 * tests/unit/test_plan.c checks it; cg_apply.c walks it in the sandbox.
 */
#ifndef CAPGATE_CG_PLAN_H
#define CAPGATE_CG_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

enum cg_mop {
	MOP_KEEP,      /* keep the fsgate view of dst across a later tmpfs on its parent */
	MOP_PROC,      /* a fresh proc (the new pid namespace's) at dst */
	MOP_RO_SELF,   /* bind dst onto itself read-only (optional: may be missing) */
	MOP_RO_BIND,   /* bind host src at dst, read-only, recursively */
	MOP_TMPFS,     /* a small tmpfs at dst (mode 0755) */
	MOP_DEV,       /* bind the host device node src at dst (skipped if missing) */
	MOP_DEVPTS,    /* a new devpts instance at dst */
	MOP_SYMLINK,   /* symlink dst -> src */
	MOP_RESTORE,   /* put back what MOP_KEEP kept, at dst */
	MOP_REMOUNT_RO,/* make the mount at dst read-only */
	MOP_SOCKET,    /* bind the host socket file src at dst */
	MOP_DIRECT,    /* bind host dir src at dst (a direct subtree; attrs) */
	MOP_MAX
};

enum { CG_DIRECT_NOEXEC = 1, CG_DIRECT_RW = 2 };

struct cg_mount {
	enum cg_mop op;
	const char *src; /* host path, link target, or NULL */
	const char *dst; /* path in the new root, absolute */
	unsigned attrs;  /* MOP_DIRECT: CG_DIRECT_* */
};

#define CG_PLAN_MAX_MOUNTS 80
#define CG_PLAN_MAX_RLIMITS 16

struct cg_plan_in {
	bool complain;           /* --complain: log would-be denials, drop nothing */
	uid_t uid;               /* the program's uid (owner of /dev nodes is root) */
	const char *notify_socket; /* $NOTIFY_SOCKET, or NULL */
	bool direct;             /* direct subtrees may be planned (cg_plan_direct) */
	const char *cwd;         /* the program's working directory, or NULL */
};

struct cg_plan {
	struct cg_mount mounts[CG_PLAN_MAX_MOUNTS];
	size_t nmounts;
	bool drop_caps;          /* false in complain mode or for flags=(unconfined) */
	uint64_t caps;           /* capabilities kept (bit N = CAP_N) */
	struct rlimit_rule rlimits[CG_PLAN_MAX_RLIMITS]; /* lowered to these */
	size_t nrlimits;
	bool userns;             /* user namespaces may be created */
	bool io_uring;           /* io_uring may be used */
	bool complain;
	bool direct;             /* direct subtrees planned: write-type calls go
				  * to the supervisor (cg_direct.h) */
	bool lock_check;         /* a direct subtree lacks k: so do lock calls */
	char cwd_dir[4096];      /* the direct subtree found from the cwd (a
				  * mount points into it: never copy a plan) */
};

/* Build the plan for profile `pr`. Returns 0 or -E2BIG (too many entries). */
int cg_plan_build(const struct profile *pr, const struct cg_plan_in *in,
		  struct cg_plan *out);

/* Direct subtrees. A system directory (from a fixed list: /usr, /usr/lib,
 * /etc/ssl...), or the program's working directory or its shallowest
 * ancestor, where the profile gives every path below the same verdict is
 * bound from the host instead of served by fsgate, so its opens cost no
 * round trip. Only when that is indistinguishable for what the profile
 * allows and exactly as strict for what it does not:
 *   - r granted; w with it (a read-write mount: creating, removing,
 *     renaming within, attributes), or neither w nor a (read-only; the
 *     supervisor answers writes EACCES with a line, cg_direct.h, before
 *     the kernel's EROFS); append-only, or l without w, keeps the
 *     directory in fsgate (a read-only mount could not make the link);
 *   - l: when absent, link(2) there is refused by the supervisor (within
 *     one verdict, upstream's subset rule always holds);
 *   - no owner-only grants, no audit bits (no line would be written);
 *   - x either absent together with m (the mount is noexec), or ix: an
 *     exec the supervisor let run without ptrace (ix, cg_super.h) may
 *     then only land on files it would have allowed anyway; m without x
 *     keeps the directory in fsgate;
 *   - k: when absent, lock calls are checked by the supervisor;
 *   - the working directory's candidate is not /, not in /proc, /sys or
 *     /dev (but may be below /dev/shm), and holds no system candidate;
 *   - the profile cannot be left by an exec (no px/cx/ux rules: every
 *     process in the namespace has this profile), and is not in complain,
 *     audit, kill or unconfined mode.
 * Paths a candidate's parent already covers are skipped. Direct mounts
 * come last in the plan (below /dev/shm too). Returns the number of
 * directories planned, or -E2BIG. */
int cg_plan_direct(const struct profile *pr, const char *cwd, struct cg_plan *out);

/* The device nodes a profile may get in /dev, in plan order. */
extern const char *const cg_dev_nodes[];

/* The environment Px, Cx and Ux scrub (upstream's list: glibc drops exactly
 * these when AT_SECURE is set), NULL-terminated. */
extern const char *const cg_env_scrub[];
bool cg_env_is_unsafe(const char *entry); /* "NAME=value" or "NAME" */

const char *cg_mop_name(enum cg_mop op);

#endif

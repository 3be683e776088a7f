/* cg_super.h: the launcher's supervisor of the sandbox's seccomp
 * user notifications: exec transitions and the `m` permission.
 *
 * Who a process is: its cgroup (cg_cgroup.h). A notification from a
 * process outside the instance is the launcher's own child before its first
 * exec; from <id>.ux, an unconfined one; else the profile of its label.
 *
 * execve/execveat: the supervisor resolves the path as the caller would (in
 * the caller's root and cwd), decides with decide_file(), and either fails
 * the call (no x: EACCES and a log line), lets it run (ix, or the same
 * profile), or carries out a transition: it PTRACE_SEIZEs the caller,
 * interrupts it, lets the exec proceed and, at the PTRACE_EVENT_EXEC stop
 * (the new program has not run one instruction), moves the process to the
 * target's cgroup, lowers its rlimits and capabilities to the target's,
 * sets AT_SECURE in its auxiliary vector for Px/Cx/Ux (glibc's ld.so then
 * drops exactly upstream's list of variables, as under AppArmor), checks
 * that the program that ran is the one decided on, and detaches. An ix exec
 * of an ELF program whose loader has x too skips all that (ix_direct()):
 * fsgate's checks of the kernel's exec opens decide, without races.
 *
 * flock/fcntl locks (only when a direct subtree lacks k, cg_plan.h): k
 * decided here for files in direct subtrees, which fsgate never sees.
 *
 * mmap/mprotect with PROT_EXEC of a file: allowed when the profile gives m
 * or an x mode on its path, else EACCES. Caveat (TOCTOU): the decision uses
 * the fd (or mapping) as it is at notification time; another thread of the
 * caller could swap the fd between our check and the kernel's use. fsgate's
 * own open-time checks are not affected by this race.
 */
#ifndef CAPGATE_CG_SUPER_H
#define CAPGATE_CG_SUPER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "audit.h"
#include "policy.h"
#include "capgate/cg_plan.h"

typedef int (*cg_attach_fn)(void *arg, const char *cgrel, const struct profile *pr);

#define CG_SUPER_MAX_LABELS 64

struct cg_super {
	int listener;                 /* seccomp notification fd, -1: none yet */
	const struct policy *pol;
	const struct profile *base;   /* the instance's profile */
	const char *cgroot;           /* cgroup2 mount point */
	char inst[256];               /* "capgate/<id>", relative to cgroot */
	struct audit_sink *audit;
	bool complain;                /* --complain */
	bool drop_caps;               /* lower capabilities at transitions */
	bool fsgate;                  /* fsgate checks the sandbox's exec opens */
	const struct cg_plan *plan;   /* its direct subtrees (on_lock) */
	cg_attach_fn attach;          /* netgate for a new label cgroup, or NULL */
	void *attach_arg;             /* attach's first argument */
	/* label cgroups made so far (attached once) */
	const struct profile *labels[CG_SUPER_MAX_LABELS];
	unsigned nlabels;
	bool ux_made;
	unsigned notif_size, resp_size;
	struct seccomp_notif *nbuf;      /* reused for every notification */
	struct seccomp_notif_resp *rbuf; /* and answer (the launcher's life) */
	uint64_t nexec, nmmap, ntrans, nsock; /* counters, for CAPGATE_DEBUG */
	struct cg_head_cache *heads;  /* programs' heads, by version (cg_super.c) */
};

/* Query the kernel's notification sizes. 0 or -errno. */
int cg_super_init(struct cg_super *s);

/* Take the listener received from the sandbox. The notifying thread and
 * the supervisor then hand the CPU to each other (synchronous wake-ups,
 * Linux 6.6) instead of waking each other across CPUs: on this 2-vCPU VM
 * an mmap notification's round trip fell from ~85 to ~17 us. Returns fd. */
int cg_super_listener(int fd);

/* Receive and answer one notification (the listener polled readable).
 * Returns 0, or -errno when the listener is gone (every process that
 * held the filter exited). */
int cg_super_handle(struct cg_super *s);

#endif

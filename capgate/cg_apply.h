/* cg_apply.h: carry out a plan (cg_plan.h). The one module of capgate that
 * mounts, pivots, drops capabilities and lowers rlimits. Functions return 0
 * or -errno and describe the failing step in `what` for the caller's
 * message; they run in the sandbox's processes before exec. */
#ifndef CAPGATE_CG_APPLY_H
#define CAPGATE_CG_APPLY_H

#include <stddef.h>
#include <sys/types.h>

#include "capgate/cg_plan.h"

struct cg_err {
	char what[256];
};

/* In the sandbox's mount namespace, before pivot: walk the plan's mounts
 * below `newroot` (the fsgate mount). */
int cg_apply_mounts(const struct cg_plan *p, const char *newroot,
		    struct cg_err *e);

/* pivot_root into newroot, drop the old root, chdir to cwd (or /). */
int cg_apply_pivot(const char *newroot, const char *cwd, struct cg_err *e);

/* Lower rlimits (never raise; upstream's rule: the hard limit becomes
 * min(hard, value), the soft one min(soft, new hard)). pid 0: self. */
int cg_apply_rlimits(const struct rlimit_rule *rl, size_t n, pid_t pid,
		     struct cg_err *e);

/* Drop capabilities to plan->caps in every set (see cg_caps.c). */
int cg_apply_caps(const struct cg_plan *p, struct cg_err *e);

#endif

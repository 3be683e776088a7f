/* cg_direct.h: the supervisor's part in direct subtrees (cg_plan.h), which
 * fsgate never sees: lock requests (k) and write-type calls, answered as
 * AppArmor would (EACCES and a line) before the read-only mount refuses
 * them itself (EROFS). See cg_direct.c. */
#ifndef CAPGATE_CG_DIRECT_H
#define CAPGATE_CG_DIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/seccomp.h>

#include "capgate/cg_super.h"

void cg_direct_lock(struct cg_super *s, const struct seccomp_notif *n);

/* Is `path` in a direct subtree mounted exec-capable? Its verdict then
 * has ix, unaudited, for every process of the sandbox (direct subtrees
 * exist only where no exec leaves the profile): an executable mapping
 * there is allowed without asking who maps it. */
bool cg_direct_maps_exec(const struct cg_plan *p, const char *path);
void cg_direct_write(struct cg_super *s, const struct seccomp_notif *n);

/* The system calls cg_direct_write() takes, for the filter (cg_seccomp.c):
 * open and openat only with a write flag, the others always. */
const int *cg_direct_write_calls(size_t *n);

#endif

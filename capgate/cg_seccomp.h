/* cg_seccomp.h: the launcher's seccomp filter (netgate adds its own for
 * socket creation). Installed last before exec, inherited by everything the
 * program starts; the returned listener goes to the launcher's supervisor
 * (cg_super.c), which decides execve/execveat (exec transitions) and
 * PROT_EXEC file mappings (the `m` permission). */
#ifndef CAPGATE_CG_SECCOMP_H
#define CAPGATE_CG_SECCOMP_H

#include "capgate/cg_plan.h"

/* Load the filter; returns the user-notification listener fd or -errno. */
int cg_seccomp_load(const struct cg_plan *p);

#endif

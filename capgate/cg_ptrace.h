/* cg_ptrace.h: changes to a process stopped (ptrace) right after its
 * exec, at a syscall-exit stop: see cg_super.h for when and why. All
 * return 0 or -errno; -ENOSYS on architectures without support (the
 * caller then kills the process rather than let it run unchanged). */
#ifndef CAPGATE_CG_PTRACE_H
#define CAPGATE_CG_PTRACE_H

#include <stdint.h>
#include <sys/types.h>

/* The stack pointer: argc, argv[], NULL, envp[], NULL, auxv pairs. */
int cg_tracee_sp(pid_t pid, uint64_t *sp);

/* Set AT_SECURE to 1 in the auxiliary vector: glibc's ld.so then runs in
 * secure mode and drops upstream's list of unsafe variables. */
int cg_set_at_secure(pid_t pid, uint64_t sp);

/* Lower the permitted, effective and inheritable sets to `keep` with a
 * capset(2) run in the tracee (ambient follows permitted). */
int cg_lower_caps(pid_t pid, uint64_t keep);

#endif

/* cg_vfork.h: start a child that borrows our memory until it execs.
 *
 * clone3(CLONE_VM | CLONE_VFORK | flags) running fn(arg) on a stack of
 * its own: no page tables are copied and no page is copied on write, and
 * we (the caller) sleep until the child execs or exits. fn must end in
 * an exec or _exit. Forking instead costs the child a page fault (~10 us
 * on our VMs) for every page it writes before its exec.
 *
 * The child runs in our memory, with our thread's TLS, while we sleep:
 * what it writes we see afterwards (as with vfork(2)). Its fd table and
 * signal handlers are its own copies. x86-64 only: elsewhere it returns
 * -ENOSYS and callers fork.
 */
#ifndef CAPGATE_CG_VFORK_H
#define CAPGATE_CG_VFORK_H

#include <stdint.h>
#include <sys/types.h>

/* flags: extra clone3 flags (CLONE_INTO_CGROUP with cgroup_fd >= 0).
 * Returns the child's pid, or -errno. */
pid_t cg_vfork(uint64_t flags, int cgroup_fd, void (*fn)(void *), void *arg);

#endif

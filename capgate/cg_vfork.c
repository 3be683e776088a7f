/* cg_vfork.c: clone3 with CLONE_VM | CLONE_VFORK (cg_vfork.h). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sched.h>

#include "capgate/cg_vfork.h"

#define STACK_SIZE (256 * 1024)

#if defined(__x86_64__)
/* The child starts after the syscall instruction with its stack pointer
 * at the new stack's top, so it cannot return through the C wrapper that
 * made the call (its frame is on our stack, which we still need): it
 * calls fn from here, in registers the syscall keeps (r12, r13). */
static long clone3_call(struct clone_args *ca, void (*fn)(void *), void *arg)
{
	register long rax __asm__("rax") = SYS_clone3;
	register struct clone_args *rdi __asm__("rdi") = ca;
	register long rsi __asm__("rsi") = (long)sizeof *ca;
	register void (*r12)(void *) __asm__("r12") = fn;
	register void *r13 __asm__("r13") = arg;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "and $-16, %%rsp\n\t"
			 "mov %%r13, %%rdi\n\t"
			 "call *%%r12\n\t"
			 "mov %[nr_exit], %%eax\n\t"
			 "mov $127, %%edi\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:\n\t"
			 : "+r"(rax)
			 : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13), [nr_exit] "i"(SYS_exit)
			 : "rcx", "r11", "memory", "cc");
	return rax;
}
#endif

pid_t cg_vfork(uint64_t flags, int cgroup_fd, void (*fn)(void *), void *arg)
{
#if defined(__x86_64__)
	/* one child at a time (we sleep until it execs), so one stack */
	static char stack[STACK_SIZE] __attribute__((aligned(16)));
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_VM | CLONE_VFORK | flags;
	ca.exit_signal = SIGCHLD;
	ca.stack = (uint64_t)(uintptr_t)stack;
	ca.stack_size = sizeof stack;
	if (flags & CLONE_INTO_CGROUP)
		ca.cgroup = (uint64_t)cgroup_fd;
	return (pid_t)clone3_call(&ca, fn, arg); /* the pid, or -errno */
#else
	(void)flags;
	(void)cgroup_fd;
	(void)fn;
	(void)arg;
	return -ENOSYS;
#endif
}

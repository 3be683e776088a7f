/* cg_ptrace.c: what the supervisor does to a process stopped at its exec
 * (cg_ptrace.h): the new program has not run an instruction yet, it is
 * single-threaded, and its stack holds argv, envp and the auxiliary
 * vector the kernel just wrote. x86-64 only. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <elf.h>

#include "sysfile.h"
#include "capgate/cg_ptrace.h"

#if defined(__x86_64__)

static uint64_t status_caps(pid_t pid, const char *key)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (read_small_file(path, buf, sizeof buf) < 0)
		return 0;
	char *p = strstr(buf, key);
	return p ? strtoull(p + strlen(key) + 1, NULL, 16) : 0;
}

/* Set AT_SECURE in the new program's auxiliary vector: rsp points at argc,
 * then argv[], NULL, envp[], NULL, then (type, value) pairs. */
int cg_set_at_secure(pid_t pid, uint64_t sp)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = -ENOENT;
	uint64_t v, addr = sp;
	if (pread(fd, &v, 8, (off_t)addr) != 8)
		goto out;
	addr += 8 * (v + 2); /* argc, argv[argc], NULL */
	for (int i = 0; i < 100000; i++, addr += 8) { /* envp */
		if (pread(fd, &v, 8, (off_t)addr) != 8)
			goto out;
		if (!v)
			break;
	}
	addr += 8;
	for (int i = 0; i < 128; i++, addr += 16) {
		uint64_t kv[2];
		if (pread(fd, kv, 16, (off_t)addr) != 16 || kv[0] == AT_NULL)
			break;
		if (kv[0] == AT_SECURE) {
			uint64_t one = 1;
			r = pwrite(fd, &one, 8, (off_t)addr + 8) == 8 ? 0 : -EIO;
			break;
		}
	}
out:
	close(fd);
	return r;
}

/* Run one system call in the stopped tracee (at a syscall-exit stop, so
 * the kernel will not overwrite rax): put "syscall" at rip, single-step,
 * put everything back. */
static long inject(pid_t pid, long nr, long a0, long a1, long a2)
{
	struct user_regs_struct saved, r;
	int st;
	if (ptrace(PTRACE_GETREGS, pid, 0, &saved) < 0)
		return -errno;
	errno = 0;
	long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)saved.rip, 0);
	if (errno)
		return -errno;
	long patched = (long)(((unsigned long)word & ~0xffffUL) | 0x050fUL);
	if (ptrace(PTRACE_POKETEXT, pid, (void *)saved.rip, (void *)patched) < 0)
		return -errno;
	r = saved;
	r.rax = (unsigned long)nr;
	r.orig_rax = (unsigned long)-1;
	r.rdi = (unsigned long)a0;
	r.rsi = (unsigned long)a1;
	r.rdx = (unsigned long)a2;
	long ret = -EIO;
	if (ptrace(PTRACE_SETREGS, pid, 0, &r) == 0 &&
	    ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0 &&
	    waitpid(pid, &st, __WALL) == pid && WIFSTOPPED(st) &&
	    ptrace(PTRACE_GETREGS, pid, 0, &r) == 0)
		ret = (long)r.rax;
	ptrace(PTRACE_POKETEXT, pid, (void *)saved.rip, (void *)word);
	ptrace(PTRACE_SETREGS, pid, 0, &saved);
	return ret;
}

/* Lower the tracee's capabilities to `keep` (capset lowers ambient too). */
int cg_lower_caps(pid_t pid, uint64_t keep)
{
	uint64_t prm = status_caps(pid, "CapPrm:");
	uint64_t eff = status_caps(pid, "CapEff:");
	uint64_t inh = status_caps(pid, "CapInh:");
	if (!((prm | eff | inh) & ~keep))
		return 0;
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
		return -errno;
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint64_t e = eff & keep, p = prm & keep, i = inh & keep;
	data[0] = (struct __user_cap_data_struct){ (uint32_t)e, (uint32_t)p, (uint32_t)i };
	data[1] = (struct __user_cap_data_struct){ (uint32_t)(e >> 32), (uint32_t)(p >> 32),
						   (uint32_t)(i >> 32) };
	/* Scratch space well below the stack pointer (unused at entry). */
	uint64_t at = (regs.rsp - 4096) & ~15ULL;
	struct iovec local[2] = { { &hdr, sizeof hdr }, { data, sizeof data } };
	struct iovec remote = { (void *)at, sizeof hdr + sizeof data };
	if (process_vm_writev(pid, local, 2, &remote, 1, 0) != (ssize_t)(sizeof hdr + sizeof data))
		return -errno;
	long r = inject(pid, SYS_capset, (long)at, (long)(at + sizeof hdr), 0);
	if (r < 0)
		return (int)r;
	return (status_caps(pid, "CapPrm:") & ~keep) ? -EPERM : 0;
}

int cg_tracee_sp(pid_t pid, uint64_t *sp)
{
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
		return -errno;
	*sp = regs.rsp;
	return 0;
}

#else /* no register layout here: transitions that need one fail closed */

int cg_tracee_sp(pid_t pid, uint64_t *sp) { (void)pid; (void)sp; return -ENOSYS; }
int cg_set_at_secure(pid_t pid, uint64_t sp) { (void)pid; (void)sp; return -ENOSYS; }
int cg_lower_caps(pid_t pid, uint64_t keep) { (void)pid; (void)keep; return -ENOSYS; }

#endif

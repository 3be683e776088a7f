/* cg_seccomp.c: the sandbox's seccomp filter (cg_seccomp.h).
 *
 * - clone3 fails with ENOSYS: a filter cannot read clone3's flags (they sit
 *   in a struct in memory), so libc falls back to clone, whose flags it can.
 * - clone/unshare with CLONE_NEWUSER: EPERM unless the profile allows userns
 *   (a new user namespace would hand back every capability inside it).
 * - mount, umount, pivot_root, setns and the new mount API: EPERM, always;
 *   the program cannot undo the sandbox even when its profile grants
 *   sys_admin.
 * - io_uring and socket(2)/socketpair(2): netgate's rules (ng_seccomp_add),
 *   in this same filter; refused sockets go to the supervisor, which logs
 *   and answers EACCES.
 * - TIOCSTI/TIOCLINUX: EPERM, so a program sharing our terminal cannot push
 *   keystrokes into the shell that started it (bubblewrap's --new-session
 *   reason), while job control keeps working.
 * - execve/execveat and mmap/mprotect with PROT_EXEC of a file go to the
 *   supervisor (user notification); so do lock requests (flock, fcntl
 *   F_SETLK...) when a direct subtree lacks k (cg_plan.h).
 * Other architectures' system calls (int 0x80) kill the process: libseccomp's
 * default bad-arch action.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "capgate/cg_direct.h"
#include "capgate/cg_seccomp.h"
#include "netgate/ng_seccomp.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static int deny(scmp_filter_ctx ctx, int nr, int err)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO((unsigned)err), nr, 0);
}

static int build(scmp_filter_ctx ctx, const struct cg_plan *p)
{
	int r = 0;
	r |= deny(ctx, SCMP_SYS(clone3), ENOSYS);
	if (!p->userns) {
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
		r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	}
	static const int mnt[] = {
		SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
		SCMP_SYS(setns), SCMP_SYS(move_mount), SCMP_SYS(open_tree),
		SCMP_SYS(fsopen), SCMP_SYS(fsmount), SCMP_SYS(fsconfig),
		SCMP_SYS(fspick), SCMP_SYS(mount_setattr),
	};
	for (size_t i = 0; i < sizeof mnt / sizeof mnt[0]; i++)
		r |= deny(ctx, mnt[i], EPERM);
	/* ioctl's request is an int: compare the low 32 bits only. */
	r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
	r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
	r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execve), 0);
	r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execveat), 0);
	{
		r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mmap), 2,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC),
				      SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0));
		r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
		r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(pkey_mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	}
	if (p->direct) {
		size_t nw;
		const int *w = cg_direct_write_calls(&nw);
		static const int wflags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC };
		for (size_t i = 0; i < nw; i++) {
			int fl = w[i] == SCMP_SYS(open) ? 1 : w[i] == SCMP_SYS(openat) ? 2 : -1;
			if (fl < 0) {
				r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, w[i], 0);
				continue;
			}
			for (size_t j = 0; j < sizeof wflags / sizeof wflags[0]; j++) {
				struct scmp_arg_cmp c = {
					(unsigned)fl, SCMP_CMP_MASKED_EQ,
					(unsigned)wflags[j], (unsigned)wflags[j],
				};
				r |= seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, w[i], 1, &c);
			}
		}
	}
	if (p->lock_check) {
		/* lock requests (not unlocks) for the supervisor's k check */
		r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(flock), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, LOCK_UN, 0));
		static const int setlk[] = { F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW };
		for (size_t i = 0; i < sizeof setlk / sizeof setlk[0]; i++)
			r |= seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(fcntl), 1,
					      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu,
						      (unsigned)setlk[i]));
	}
	return r ? -EINVAL : 0;
}

static int bpf_from_memfd(int mfd, struct cg_bpf *out)
{
	off_t len = lseek(mfd, 0, SEEK_END);
	if (len <= 0 || len % sizeof(struct sock_filter) || len > 65536)
		return -EINVAL;
	out->buf = malloc((size_t)len);
	if (!out->buf)
		return -ENOMEM;
	if (pread(mfd, out->buf, (size_t)len, 0) != len) {
		free(out->buf);
		out->buf = NULL;
		return -EIO;
	}
	out->len = (size_t)len;
	return 0;
}

int cg_bpf_from_fd(int fd, struct cg_bpf *out)
{
	return bpf_from_memfd(fd, out);
}

int cg_seccomp_export(const struct cg_plan *p, const struct profile *net,
		      struct cg_bpf *out)
{
	int r, mfd = -1;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	/* other ABIs (i386's socketcall cannot be filtered) kill the process */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = build(ctx, p)) < 0 || (net && (r = ng_seccomp_add(ctx, net, 1)) < 0))
		goto out;
	mfd = memfd_create("capgate-bpf", MFD_CLOEXEC);
	if (mfd < 0) {
		r = -errno;
		goto out;
	}
	if ((r = seccomp_export_bpf(ctx, mfd)) < 0)
		goto out;
	r = bpf_from_memfd(mfd, out);
out:
	if (mfd >= 0)
		close(mfd);
	seccomp_release(ctx);
	return r;
}

int cg_seccomp_install(const struct cg_bpf *b, bool listener)
{
	/* libseccomp 2.5 cannot ask for WAIT_KILLABLE_RECV, which the exec
	 * supervisor needs (a ptrace interrupt must not cancel a notification
	 * it already holds), so we load the exported program ourselves. */
	struct sock_fprog prog = {
		.len = (unsigned short)(b->len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)b->buf,
	};
	unsigned long flags = listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER |
					 SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0;
	int r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0)
		return -errno;
	if (listener)
		fcntl(r, F_SETFD, FD_CLOEXEC);
	return r;
}

void cg_bpf_free(struct cg_bpf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = 0;
}

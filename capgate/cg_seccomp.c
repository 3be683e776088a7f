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
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

/* ---- exported filters kept between runs ---- */

#define FCACHE_MAGIC "CGSECF01"

/* Everything the exported program depends on: the policy (its digest),
 * the profile, the plan's switches that build() reads, and this binary
 * (a rebuilt capgate builds its own). */
struct fkey {
	uint8_t digest[32];
	char profile[256];
	uint8_t userns, direct, lock_check, net;
	uint64_t exe_dev, exe_ino, exe_size, exe_mtime_ns;
};

static int fkey_make(const struct cg_plan *p, bool net, const uint8_t digest[32],
		     const char *profile, struct fkey *k)
{
	struct stat st;
	static const uint8_t zero[32];
	memset(k, 0, sizeof *k);
	if (!digest || memcmp(digest, zero, 32) == 0 || strlen(profile) >= sizeof k->profile ||
	    stat("/proc/self/exe", &st) < 0)
		return -ENOENT;
	memcpy(k->digest, digest, 32);
	strcpy(k->profile, profile);
	k->userns = p->userns;
	k->direct = p->direct;
	k->lock_check = p->lock_check;
	k->net = net;
	k->exe_dev = st.st_dev;
	k->exe_ino = st.st_ino;
	k->exe_size = (uint64_t)st.st_size;
	k->exe_mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	return 0;
}

static void fkey_path(const struct fkey *k, const char *dir, char *out, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a; the file holds the key */
	const uint8_t *b = (const uint8_t *)k;
	for (size_t i = 0; i < sizeof *k; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	snprintf(out, len, "%s/filter-%016llx", dir, (unsigned long long)h);
}

static int fcache_get(const char *path, const struct fkey *k, struct cg_bpf *out)
{
	struct {
		char magic[8];
		struct fkey key;
		uint32_t len;
	} h;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int r = -EINVAL;
	if (read(fd, &h, sizeof h) != (ssize_t)sizeof h || memcmp(h.magic, FCACHE_MAGIC, 8) ||
	    memcmp(&h.key, k, sizeof *k) || !h.len || h.len > 65536 ||
	    h.len % sizeof(struct sock_filter))
		goto out;
	out->buf = malloc(h.len);
	if (!out->buf) {
		r = -ENOMEM;
		goto out;
	}
	if (read(fd, out->buf, h.len) != (ssize_t)h.len) {
		free(out->buf);
		out->buf = NULL;
		goto out;
	}
	out->len = h.len;
	r = 0;
out:
	close(fd);
	return r;
}

/* Best effort: a whole file or none (rename). */
static void fcache_put(const char *path, const struct fkey *k, const struct cg_bpf *b)
{
	struct {
		char magic[8];
		struct fkey key;
		uint32_t len;
	} h;
	memcpy(h.magic, FCACHE_MAGIC, 8);
	h.key = *k;
	h.len = (uint32_t)b->len;
	char tmp[PATH_MAX + 32];
	snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	bool ok = write(fd, &h, sizeof h) == (ssize_t)sizeof h &&
		  write(fd, b->buf, b->len) == (ssize_t)b->len;
	close(fd);
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

int cg_seccomp_export_cached(const struct cg_plan *p, const struct profile *net,
			     const uint8_t digest[32], const char *profile,
			     const char *cache_dir, struct cg_bpf *out)
{
	struct fkey k;
	char path[PATH_MAX];
	if (!cache_dir || fkey_make(p, net != NULL, digest, profile, &k) < 0)
		return cg_seccomp_export(p, net, out);
	fkey_path(&k, cache_dir, path, sizeof path);
	if (fcache_get(path, &k, out) == 0)
		return 0;
	int r = cg_seccomp_export(p, net, out);
	if (r == 0)
		fcache_put(path, &k, out);
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

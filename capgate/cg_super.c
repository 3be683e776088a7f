/* cg_super.c: exec transitions and the m permission (see cg_super.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sysfile.h"
#include "capgate/cg_apply.h"
#include "capgate/cg_cgroup.h"
#include "capgate/cg_elf.h"
#include "capgate/cg_ptrace.h"
#include "capgate/cg_super.h"
#include "capgate/cg_direct.h"
#include "capgate/cg_super_int.h"
#include "netgate/ng_seccomp.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

/* ---- small helpers ---- */

static void get_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	if (read_small_file(path, buf, len) <= 0)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* "Key:\tv1\tv2..." field `idx` (0-based) of /proc/<pid>/status. */
long cg_status_field(pid_t pid, const char *key, int idx, int base)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (read_small_file(path, buf, sizeof buf) < 0)
		return -1;
	size_t kl = strlen(key);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) == 0 && l[kl] == ':') {
			char *p = l + kl + 1;
			for (int i = 0; i <= idx; i++) {
				char *end;
				long v = strtol(p, &end, base);
				if (end == p)
					return -1;
				if (i == idx)
					return v;
				p = end;
			}
		}
	}
	return -1;
}


/* Label of a process from its cgroup. */
enum who cg_who_is(struct cg_super *s, pid_t pid, const struct profile **pr,
		       char *label, size_t llen)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	label[0] = '\0';
	if (read_small_file(path, buf, sizeof buf) < 0)
		return WHO_UNKNOWN;
	char *l = strstr(buf, "0::/");
	if (!l || (l != buf && l[-1] != '\n'))
		return WHO_UNKNOWN;
	char *cg = l + 4;
	cg[strcspn(cg, "\n")] = '\0';
	size_t n = strlen(s->inst);
	if (strncmp(cg, s->inst, n) != 0)
		return WHO_INITIAL;
	const char *rest = cg + n;
	if (*rest == '\0') {
		*pr = s->base;
		snprintf(label, llen, "%s", profile_name(s->base));
		return WHO_CONFINED;
	}
	if (strcmp(rest, CG_UX_SUFFIX) == 0)
		return WHO_UNCONFINED;
	if (*rest != '/')
		return WHO_INITIAL;
	rest++;
	/* unescape %2f and %25 */
	size_t o = 0;
	for (const char *p = rest; *p && *p != '/' && o + 1 < llen; p++) {
		if (p[0] == '%' && p[1] == '2' && (p[2] == 'f' || p[2] == 'F')) {
			label[o++] = '/';
			p += 2;
		} else if (p[0] == '%' && p[1] == '2' && p[2] == '5') {
			label[o++] = '%';
			p += 2;
		} else {
			label[o++] = *p;
		}
	}
	label[o] = '\0';
	*pr = policy_find(s->pol, label);
	return *pr ? WHO_CONFINED : WHO_UNKNOWN;
}

/* A NUL-terminated string from the caller's memory: read a page at a
 * time (a read may not cross into an unmapped page), with one
 * process_vm_readv() each; /proc/<pid>/mem where that is refused. */
int cg_read_string(pid_t pid, uint64_t addr, char *buf, size_t len)
{
	int fd = -1, r = -ENAMETOOLONG;
	size_t got = 0;
	while (got < len) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		if (chunk > len - got)
			chunk = len - got;
		ssize_t k = -1;
		if (fd < 0) {
			struct iovec l = { buf + got, chunk };
			struct iovec rm = { (void *)(uintptr_t)(addr + got), chunk };
			k = process_vm_readv(pid, &l, 1, &rm, 1, 0);
			if (k < 0 && (errno == EPERM || errno == ENOSYS)) {
				char path[64];
				snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
				if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
					return -errno;
			}
		}
		if (fd >= 0)
			k = pread(fd, buf + got, chunk, (off_t)(addr + got));
		if (k <= 0) {
			r = -EFAULT;
			break;
		}
		void *z = memchr(buf + got, '\0', (size_t)k);
		got += (size_t)k;
		if (z) {
			r = 0;
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	return r;
}

/* Open `path` as process `pid` would resolve it: in its root, relative to
 * dirfd `dfd` (AT_FDCWD: its cwd). The result is an O_PATH fd and the
 * canonical path as the sandbox sees it. */
int cg_resolve(pid_t pid, int dfd, const char *path, bool nofollow,
		   bool empty, char *canon, size_t clen)
{
	char buf[PATH_MAX * 2], link[128];
	int fd = -1;
	if (empty && !*path) {
		snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, dfd);
		fd = open(link, O_PATH | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		goto canon;
	}
	if (!*path)
		return -ENOENT;
	if (strncmp(path, "/proc/self/", 11) == 0 || strncmp(path, "/proc/thread-self/", 18) == 0) {
		/* The caller's /proc/self is not ours: go through the host's
		 * /proc entry for the caller itself. */
		const char *rest = strchr(path + 6, '/');
		snprintf(buf, sizeof buf, "/proc/%d%s", (int)pid, rest);
		fd = open(buf, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
		if (fd < 0)
			return -errno;
		goto canon;
	}
	if (path[0] == '/') {
		snprintf(buf, sizeof buf, "%s", path);
	} else {
		char base[PATH_MAX];
		if (dfd == AT_FDCWD)
			snprintf(link, sizeof link, "/proc/%d/cwd", (int)pid);
		else
			snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, dfd);
		ssize_t n = readlink(link, base, sizeof base - 1);
		if (n <= 0)
			return n < 0 ? -errno : -ENOENT;
		base[n] = '\0';
		if (base[0] != '/')
			return -ENOENT;
		if ((size_t)snprintf(buf, sizeof buf, "%s/%s", base, path) >= PATH_MAX)
			return -ENAMETOOLONG;
	}
	snprintf(link, sizeof link, "/proc/%d/root", (int)pid);
	int root = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
		.resolve = RESOLVE_IN_ROOT,
	};
	fd = (int)syscall(SYS_openat2, root, buf, &how, sizeof how);
	int e = errno;
	close(root);
	if (fd < 0)
		return -e;
canon:
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, canon, clen - 1);
	if (n <= 0 || canon[0] != '/') {
		close(fd);
		return -ENOENT;
	}
	canon[n] = '\0';
	return fd;
}

void cg_log_file(struct cg_super *s, enum audit_kind kind, const char *op,
		     const char *prof, const char *name, const char *target,
		     const char *info, pid_t pid, const char *mask, long fsuid,
		     long ouid)
{
	struct audit_event ev;
	char comm[32];
	audit_event_init(&ev);
	ev.kind = kind;
	ev.operation = op;
	ev.klass = "file";
	ev.profile = prof;
	ev.name = name;
	ev.target = target;
	ev.info = info;
	ev.pid = pid;
	get_comm(pid, comm, sizeof comm);
	ev.comm = comm[0] ? comm : NULL;
	ev.requested = mask;
	if (kind != AUDIT_AUDIT)
		ev.denied = mask;
	ev.fsuid = fsuid;
	ev.ouid = ouid;
	if (kind == AUDIT_DENIED)
		ev.error = -EACCES;
	audit_emit(s->audit, &ev);
}

int cg_respond(struct cg_super *s, uint64_t id, int error, bool cont)
{
	struct seccomp_notif_resp *resp = s->rbuf;
	if (!resp)
		return -ENOMEM; /* cg_super_init() failed */
	memset(resp, 0, s->resp_size);
	resp->id = id;
	resp->error = cont ? 0 : -error;
	resp->flags = cont ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
	return ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 ? -errno : 0;
}

/* ---- transitions ---- */

struct trans {
	const struct profile *from; /* the caller's profile; NULL: the launcher's child */
	const struct profile *to;   /* NULL: unconfined */
	bool scrub;
	bool window;                /* moved out of its cgroup while the kernel execs */
	char path[PATH_MAX];      /* the program decided on */
	bool script;              /* "#!": the kernel runs an interpreter */
};

static int cgroup_for(struct cg_super *s, const struct profile *to, char *rel,
		      size_t len)
{
	if (!to) {
		snprintf(rel, len, "%s%s", s->inst, CG_UX_SUFFIX);
		if (!s->ux_made && cg_mkdir(s->cgroot, rel) == 0)
			s->ux_made = true;
		return 0;
	}
	if (to == s->base) {
		snprintf(rel, len, "%s", s->inst);
		return 0;
	}
	char esc[256];
	int r = cg_label_escape(profile_name(to), esc, sizeof esc);
	if (r < 0)
		return r;
	snprintf(rel, len, "%s/%s", s->inst, esc);
	for (unsigned i = 0; i < s->nlabels; i++)
		if (s->labels[i] == to)
			return 0;
	if (s->nlabels >= CG_SUPER_MAX_LABELS)
		return -E2BIG;
	if ((r = cg_mkdir(s->cgroot, rel)) < 0)
		return r;
	if (s->attach && (r = s->attach(s->attach_arg, rel, to)) < 0)
		return r;
	s->labels[s->nlabels++] = to;
	return 0;
}


/* At the exec stop: check and apply. Returns 0 or -errno (then the
 * caller kills the process: it must not run with the wrong profile). */
static int apply_transition(struct cg_super *s, pid_t pid, const struct trans *t)
{
	char rel[512], exe[PATH_MAX], link[64];
	int r;
	snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (strcmp(exe, t->path) != 0 && !t->script)
			return -ESTALE; /* renamed under us: not what we decided on */
	}
	if ((r = cgroup_for(s, t->to, rel, sizeof rel)) < 0)
		return r;
	if ((r = cg_move(s->cgroot, rel, pid)) < 0)
		return r;
	if (!t->to || (t->to == t->from && !t->scrub))
		return 0; /* ix: back where it was, nothing else changes */
	if (!t->from && !t->scrub)
		return 0; /* the first exec: the launcher's child lowered the
			   * profile's rlimits and capabilities itself */
	const struct rlimit_rule *rl;
	size_t nrl = profile_rlimits(t->to, &rl);
	struct cg_err e;
	if (!s->complain && (r = cg_apply_rlimits(rl, nrl, pid, &e)) < 0)
		return r;
	/* Get past the exec's own return so the registers are ours. */
	int st;
	uint64_t sp;
	if (ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0 || waitpid(pid, &st, __WALL) != pid ||
	    !WIFSTOPPED(st))
		return -ECHILD;
	if ((r = cg_tracee_sp(pid, &sp)) < 0)
		return r;
	if (t->scrub && (r = cg_set_at_secure(pid, sp)) < 0)
		return r;
	if (s->drop_caps && !(profile_flags(t->to) & (PF_COMPLAIN | PF_UNCONFINED))) {
		const struct cap_set *cs = profile_caps(t->to);
		if ((r = cg_lower_caps(pid, cs->allow & ~cs->deny)) < 0)
			return r;
	}
	return 0;
}

/* Let the exec run under our eye; see cg_super.h. */
static int transition(struct cg_super *s, const struct seccomp_notif *n,
		      struct trans *t)
{
	pid_t tid = (pid_t)n->pid;
	long opts = PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SEIZE, tid, 0, (void *)opts) < 0) {
		int e = errno;
		cg_respond(s, n->id, EPERM, false); /* traced by someone: refuse */
		return -e;
	}
	/* From here on the tracee is ours until it stops or exits: a tracee
	 * left attached would keep its exit from its real parent. If the
	 * answer fails, the caller is being killed: the loop reaps it. */
	ptrace(PTRACE_INTERRUPT, tid, 0, 0);
	pid_t tgid = (pid_t)cg_status_field(tid, "Tgid", 0, 10), w = tid;
	/* The kernel opens the program and its ELF interpreter (ld.so) as
	 * the caller, with FMODE_EXEC. AppArmor does not check those opens
	 * (apparmor_file_open leaves exec opens to its bprm hook, which
	 * decided above, like us); fsgate would ask x of ld.so. So for the
	 * exec itself a single-threaded caller (blocked in execve: no code of
	 * its own runs) waits outside its cgroup; the exec stop puts it in the
	 * target's, a failed exec back in its own. */
	char from[512];
	t->window = false;
	if (t->from && cg_status_field(tid, "Threads", 0, 10) == 1 &&
	    cgroup_for(s, t->from, from, sizeof from) == 0) {
		char ux[512];
		cgroup_for(s, NULL, ux, sizeof ux);
		t->window = cg_move(s->cgroot, ux, tgid) == 0;
	}
	cg_respond(s, n->id, 0, true);
	for (;;) {
		int st;
		pid_t got = waitpid(w, &st, __WALL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD && w != tgid && tgid > 0) {
				w = tgid; /* a non-leader's exec takes the leader's pid */
				continue;
			}
			return 0;
		}
		if (!WIFSTOPPED(st))
			return 0; /* gone */
		int ev = st >> 16;
		if (ev == PTRACE_EVENT_EXEC) {
			int r = apply_transition(s, got, t);
			if (r < 0) {
				/* It must not run with the wrong profile. */
				if (getenv("CAPGATE_DEBUG"))
					fprintf(stderr, "capgate: transition of %d failed: %s\n",
						(int)got, strerror(-r));
				kill(got, SIGKILL);
				w = got;
				ptrace(PTRACE_CONT, got, 0, 0);
				continue; /* until waitpid reaps it */
			}
			ptrace(PTRACE_DETACH, got, 0, 0);
			s->ntrans++;
			return 0;
		}
		if (ev == PTRACE_EVENT_STOP) {
			/* The exec failed (or a group stop): back to its own
			 * cgroup, or it must not run at all. */
			if (t->window && cg_move(s->cgroot, from, got) < 0) {
				kill(got, SIGKILL);
				w = got;
				ptrace(PTRACE_CONT, got, 0, 0);
				continue;
			}
			ptrace(PTRACE_DETACH, got, 0, 0);
			return 0;
		}
		/* A signal on the way: deliver it and keep waiting. */
		ptrace(PTRACE_CONT, got, 0, (void *)(long)WSTOPSIG(st));
	}
}

/* The head of the program behind O_PATH fd `pathfd`, read once: a "#!"
 * script, or else its ELF interpreter (interp_r: cg_elf_interp()'s
 * answer). One open serves both questions: through fsgate each open is
 * an OPEN, its READs and a RELEASE, on every exec's path. */
struct exec_head {
	bool script;
	int interp_r;
	char interp[PATH_MAX];
};

/* What read_head() found, per file version (device, inode, size, mtime,
 * ctime: a change of the content changes mtime, and a reset mtime ctime),
 * so that a program exec'd again (a build's cc, cc1 and as, hundreds of
 * times) is not opened again: through fsgate that open is three round
 * trips. Interpreter names longer than the slot are not kept. */
#define HEAD_SLOTS 32
struct cg_head_cache {
	struct head_slot {
		dev_t dev;
		ino_t ino;
		off_t size;
		struct timespec mtime, ctime;
		bool used, script;
		int interp_r;
		char interp[256];
	} slot[HEAD_SLOTS];
	unsigned next; /* round robin */
};

static bool same_version(const struct head_slot *e, const struct stat *st)
{
	return e->used && e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->size == st->st_size && e->mtime.tv_sec == st->st_mtim.tv_sec &&
	       e->mtime.tv_nsec == st->st_mtim.tv_nsec && e->ctime.tv_sec == st->st_ctim.tv_sec &&
	       e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static void read_head_uncached(int pathfd, struct exec_head *h);

static void read_head(struct cg_super *s, int pathfd, const struct stat *st,
		      struct exec_head *h)
{
	struct cg_head_cache *c = s->heads;
	for (unsigned i = 0; c && i < HEAD_SLOTS; i++) {
		const struct head_slot *e = &c->slot[i];
		if (same_version(e, st)) {
			h->script = e->script;
			h->interp_r = e->interp_r;
			snprintf(h->interp, sizeof h->interp, "%s", e->interp);
			return;
		}
	}
	read_head_uncached(pathfd, h);
	if (!c || h->interp_r < 0 || strlen(h->interp) >= sizeof c->slot[0].interp)
		return; /* failures are not kept: the next exec tries again */
	struct head_slot *e = &c->slot[c->next++ % HEAD_SLOTS];
	*e = (struct head_slot){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
				 .mtime = st->st_mtim, .ctime = st->st_ctim, .used = true,
				 .script = h->script, .interp_r = h->interp_r };
	snprintf(e->interp, sizeof e->interp, "%s", h->interp);
}

static void read_head_uncached(int pathfd, struct exec_head *h)
{
	char link[64], b[CG_ELF_HEAD];
	h->script = false;
	h->interp[0] = '\0';
	snprintf(link, sizeof link, "/proc/self/fd/%d", pathfd);
	int fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		h->interp_r = -errno;
		return;
	}
	ssize_t n = pread(fd, b, sizeof b, 0);
	h->script = n >= 2 && b[0] == '#' && b[1] == '!';
	h->interp_r = h->script ? -ENOEXEC :
				  cg_elf_interp_head(fd, b, n > 0 ? (size_t)n : 0, h->interp,
						     sizeof h->interp);
	close(fd);
}

/* May an ix exec of the program whose head is `h` run without the exec
 * window (see transition())? Only when fsgate will grant the kernel's
 * exec opens as the caller: x on the program (decided) and on its ELF
 * interpreter, if any. Scripts and other formats take the slow path. */
static bool ix_direct(pid_t tid, const struct exec_head *h, const struct profile *cur,
		      long fsuid)
{
	char canon[PATH_MAX];
	if (h->interp_r <= 0)
		return h->interp_r == 0;
	int fd = cg_resolve(tid, AT_FDCWD, h->interp, false, false, canon, sizeof canon);
	if (fd < 0)
		return false;
	struct stat st;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	close(fd);
	if (!ok)
		return false;
	struct file_perms fp;
	decide_file(cur, canon, &fp);
	return (file_perms_granted(&fp, fsuid >= 0 && (uid_t)fsuid == st.st_uid) &
		PERM_EXEC) && !(fp.audit & PERM_EXEC);
}

static const struct profile *find_target(struct cg_super *s, const struct profile *cur,
					 const struct xtrans *x, const char *path)
{
	if (x->type == XT_CHILD) {
		const struct profile *c = x->target ? profile_child(cur, x->target) : NULL;
		if (!c && x->target) {
			/* "-> a//b" or a top-level name */
			c = policy_find(s->pol, x->target);
		}
		if (!c)
			c = profile_child(cur, path);
		if (!c) /* a child whose attachment matches, like upstream's cx */
			c = profile_child_attach(cur, path);
		return c;
	}
	if (x->target)
		return policy_find(s->pol, x->target);
	return policy_find_attach(s->pol, path);
}

static void on_exec(struct cg_super *s, const struct seccomp_notif *n)
{
	pid_t tid = (pid_t)n->pid;
	const struct profile *cur = NULL;
	char label[256], raw[PATH_MAX];
	static struct trans t; /* one at a time; keeps the stack small */
	enum who who = cg_who_is(s, tid, &cur, label, sizeof label);
	if (who == WHO_UNCONFINED) {
		cg_respond(s, n->id, 0, true);
		return;
	}
	bool at = n->data.nr == SYS_execveat;
	uint64_t addr = at ? n->data.args[1] : n->data.args[0];
	int dfd = at ? (int)n->data.args[0] : AT_FDCWD;
	int flags = at ? (int)n->data.args[4] : 0;
	int r = cg_read_string(tid, addr, raw, sizeof raw);
	if (r < 0 || ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &n->id) < 0) {
		cg_respond(s, n->id, r == -ENAMETOOLONG ? ENAMETOOLONG : EFAULT, false);
		return;
	}
	int fd = cg_resolve(tid, dfd, raw, flags & AT_SYMLINK_NOFOLLOW,
			 flags & AT_EMPTY_PATH, t.path, sizeof t.path);
	if (fd < 0) {
		/* The kernel would fail the same way (ENOENT lets execvp go on
		 * along $PATH). */
		cg_respond(s, n->id, -fd, false);
		return;
	}
	struct stat st;
	if (getenv("CAPGATE_DEBUG"))
		fprintf(stderr, "capgate: exec pid %d %s -> %s (%s)\n", (int)tid, raw,
			t.path, label);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		cg_respond(s, n->id, 0, true); /* the kernel refuses it itself */
		return;
	}
	struct exec_head head;
	read_head(s, fd, &st, &head);
	t.script = head.script;
	s->nexec++;
	if (who == WHO_INITIAL) {
		/* The launcher's own child: its first exec enters the profile. */
		t.from = NULL;
		t.to = s->base;
		t.scrub = false;
		close(fd);
		transition(s, n, &t);
		return;
	}
	if (who == WHO_UNKNOWN) {
		close(fd);
		cg_log_file(s, AUDIT_DENIED, "exec", label[0] ? label : "?", t.path, NULL,
			 "unknown label", tid, "x", -1, st.st_uid);
		cg_respond(s, n->id, EACCES, false);
		return;
	}
	bool complain = s->complain || (profile_flags(cur) & PF_COMPLAIN);
	struct file_perms fp;
	decide_file(cur, t.path, &fp);
	bool in_allow = fp.allow & PERM_EXEC;
	/* the fsuid (a /proc read) only for an owner rule or a line */
	long fsuid = in_allow && !(fp.audit & PERM_EXEC) ? -1 :
		     cg_status_field(tid, "Uid", 3, 10);
	bool owner = fsuid >= 0 && (uid_t)fsuid == st.st_uid;
	bool granted = file_perms_granted(&fp, owner) & PERM_EXEC;
	if (!granted) {
		close(fd);
		cg_log_file(s, complain ? AUDIT_ALLOWED : AUDIT_DENIED, "exec", label,
			 t.path, NULL, NULL, tid, "x", fsuid, st.st_uid);
		cg_respond(s, n->id, EACCES, complain);
		return;
	}
	const struct xtrans *x = in_allow ? &fp.x : &fp.owner_x;
	if (fp.audit & PERM_EXEC)
		cg_log_file(s, AUDIT_AUDIT, "exec", label, t.path, x->target, NULL, tid,
			 "x", fsuid, st.st_uid);
	t.scrub = x->flags & XF_SCRUB;
	t.from = cur;
	switch (x->type) {
	case XT_PROFILE:
	case XT_CHILD:
		t.to = find_target(s, cur, x, t.path);
		if (!t.to) {
			if (x->flags & XF_FALLBACK_IX) {
				t.to = cur;
				t.scrub = false;
				break;
			}
			if (!(x->flags & XF_FALLBACK_UX)) {
				close(fd);
				cg_log_file(s, complain ? AUDIT_ALLOWED : AUDIT_DENIED, "exec",
					 label, t.path, x->target, "profile not found", tid,
					 "x", fsuid, st.st_uid);
				cg_respond(s, n->id, EACCES, complain);
				return;
			}
			t.to = NULL; /* pux/cux: unconfined */
		}
		break;
	case XT_UNCONFINED:
		t.to = NULL;
		break;
	default: /* ix, or an x mode without a transition */
		t.to = cur;
		t.scrub = false;
		break;
	}
	/* ix with nothing to change: fsgate's own check of the exec opens
	 * (x on the program and its loader, race-free at open) is the
	 * decision; no ptrace, no cgroup moves. A program swapped in after
	 * our look still needs x there, and runs in this same profile. */
	bool direct = t.to == cur && !t.script && s->fsgate && !complain &&
		      !(fp.audit & PERM_EXEC) && ix_direct(tid, &head, cur, fsuid);
	close(fd);
	if (direct) {
		cg_respond(s, n->id, 0, true);
		return;
	}
	transition(s, n, &t);
}

/* ---- m ---- */

/* The file mapped at `addr` in pid, from /proc/<pid>/maps: its path, or
 * "" for anonymous memory. */
static int mapping_path(pid_t pid, uint64_t addr, char *path, size_t len)
{
	char p[64], line[PATH_MAX + 256];
	snprintf(p, sizeof p, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	path[0] = '\0';
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi, ino;
		int off = 0;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu %n", &lo, &hi, &ino, &off) < 3)
			continue;
		if (addr < lo || addr >= hi)
			continue;
		if (ino && off > 0 && line[off] == '/') {
			snprintf(path, len, "%s", line + off);
			path[strcspn(path, "\n")] = '\0';
		}
		break;
	}
	fclose(f);
	return 0;
}

/* The file behind the caller's fd `num`: its path as the caller sees it
 * and its stat. 1 for a file with an absolute path, 0 for anything else
 * (memfd, pipes, sockets: not files), -errno when the fd is bad. */
int cg_fd_file(pid_t tid, int num, char *path, size_t len, struct stat *st)
{
	char link[64];
	snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)tid, num);
	int fd = open(link, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t k = readlink(link, path, len - 1);
	bool ok = fstat(fd, st) == 0;
	close(fd);
	if (k <= 0 || !ok || path[0] != '/')
		return 0;
	path[k] = '\0';
	return 1;
}

static void on_mmap(struct cg_super *s, const struct seccomp_notif *n)
{
	pid_t tid = (pid_t)n->pid;
	const struct profile *cur = NULL;
	char label[256], path[PATH_MAX];
	struct stat st;
	long ouid = -1;
	if (n->data.nr == SYS_mmap) {
		/* A library in an exec-capable direct subtree, allowed for
		 * all, the most common case: told by its path alone (the same
		 * string cg_fd_file() reads), in one syscall. */
		char link[64];
		snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)tid, (int)n->data.args[4]);
		ssize_t k = readlink(link, path, sizeof path - 1);
		if (k > 0 && path[0] == '/') {
			path[k] = '\0';
			if (cg_direct_maps_exec(s->plan, path)) {
				cg_respond(s, n->id, 0, true);
				return;
			}
		}
		/* EBADF: the kernel says so; memfd, devices: not files */
		if (cg_fd_file(tid, (int)n->data.args[4], path, sizeof path, &st) <= 0 ||
		    !S_ISREG(st.st_mode) || cg_direct_maps_exec(s->plan, path)) {
			cg_respond(s, n->id, 0, true);
			return;
		}
		ouid = st.st_uid;
	}
	if (cg_who_is(s, tid, &cur, label, sizeof label) != WHO_CONFINED) {
		cg_respond(s, n->id, 0, true);
		return;
	}
	if (n->data.nr != SYS_mmap) {
		if (mapping_path(tid, n->data.args[0], path, sizeof path) < 0 || !path[0]) {
			cg_respond(s, n->id, 0, true); /* anonymous memory (JITs) */
			return;
		}
		if (stat(path, &st) == 0)
			ouid = st.st_uid;
	}
	if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &n->id) < 0)
		return;
	s->nmmap++;
	struct file_perms fp;
	decide_file(cur, path, &fp);
	/* the caller's fsuid (a /proc read) only when an owner rule or a
	 * line needs it: the common allowed mapping goes without */
	long fsuid = -1;
	uint32_t g = fp.allow;
	if (!(g & (PERM_MMAP | PERM_EXEC)) || (fp.audit & PERM_MMAP)) {
		fsuid = cg_status_field(tid, "Uid", 3, 10);
		g = file_perms_granted(&fp, ouid >= 0 && fsuid == ouid);
	}
	if (g & (PERM_MMAP | PERM_EXEC)) {
		if (fp.audit & PERM_MMAP)
			cg_log_file(s, AUDIT_AUDIT, "file_mmap", label, path, NULL, NULL, tid,
				 "m", fsuid, ouid);
		cg_respond(s, n->id, 0, true);
		return;
	}
	bool complain = s->complain || (profile_flags(cur) & PF_COMPLAIN);
	if (!(fp.quiet & PERM_MMAP) || complain)
		cg_log_file(s, complain ? AUDIT_ALLOWED : AUDIT_DENIED, "file_mmap", label,
			 path, NULL, NULL, tid, "m", fsuid, ouid);
	cg_respond(s, n->id, EACCES, complain);
}

/* ---- socket creation ---- */

/* What reaches us: the calls the starting profile's rules refuse, or,
 * when its execs can change the profile, every call (ng_seccomp_add).
 * Decided by the caller's label now; denials (and audited or complain-mode
 * uses) logged as AppArmor does. */
static void on_socket(struct cg_super *s, const struct seccomp_notif *n)
{
	pid_t tid = (pid_t)n->pid;
	int fam = (int)n->data.args[0], type = (int)n->data.args[1] & 0xf;
	int protocol = (int)n->data.args[2];
	const struct profile *cur = s->base;
	char label[256];
	enum who who = cg_who_is(s, tid, &cur, label, sizeof label);
	if (who == WHO_UNCONFINED) {
		cg_respond(s, n->id, 0, true);
		return;
	}
	if (who == WHO_INITIAL)
		cur = s->base;
	bool audit = false;
	bool ok = who != WHO_UNKNOWN && ng_socket_allowed(cur, fam, type, protocol, &audit);
	bool complain = !ok && who != WHO_UNKNOWN &&
			(s->complain || (profile_flags(cur) & PF_COMPLAIN));
	if (ok && !audit) {
		cg_respond(s, n->id, 0, true);
		return;
	}
	char comm[64], famnum[16], typenum[16], proto[16];
	get_comm(tid, comm, sizeof comm);
	const char *f = net_domain_name(fam), *t = net_type_name(type);
	snprintf(famnum, sizeof famnum, "%d", fam);
	snprintf(typenum, sizeof typenum, "%d", type);
	snprintf(proto, sizeof proto, "%d", protocol);
	struct audit_event ev;
	audit_event_init(&ev);
	ev.kind = ok ? AUDIT_AUDIT : complain ? AUDIT_ALLOWED : AUDIT_DENIED;
	ev.operation = "create";
	ev.klass = "net";
	ev.profile = who == WHO_UNKNOWN ? (label[0] ? label : "?") : profile_name(cur);
	ev.pid = tid;
	ev.comm = comm;
	ev.family = f ? f : famnum;
	ev.sock_type = t ? t : typenum;
	ev.protocol = proto;
	ev.requested = "create";
	if (!ok) {
		ev.denied = "create";
		ev.error = -EACCES;
		s->nsock++;
	}
	audit_emit(s->audit, &ev);
	cg_respond(s, n->id, EACCES, ok || complain);
}

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

int cg_super_listener(int fd)
{
	/* older kernels: EINVAL, and the ordinary wake-ups */
	(void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	return fd;
}

int cg_super_init(struct cg_super *s)
{
	struct seccomp_notif_sizes sz;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		return -errno;
	s->notif_size = sz.seccomp_notif > sizeof(struct seccomp_notif) ?
				sz.seccomp_notif : sizeof(struct seccomp_notif);
	s->resp_size = sz.seccomp_notif_resp > sizeof(struct seccomp_notif_resp) ?
			       sz.seccomp_notif_resp : sizeof(struct seccomp_notif_resp);
	s->nbuf = calloc(1, s->notif_size);
	s->rbuf = calloc(1, s->resp_size);
	s->heads = calloc(1, sizeof *s->heads); /* NULL: no cache, no harm */
	if (!s->nbuf || !s->rbuf) {
		free(s->nbuf);
		free(s->rbuf);
		s->nbuf = NULL;
		s->rbuf = NULL;
		return -ENOMEM;
	}
	return 0;
}

int cg_super_handle(struct cg_super *s)
{
	struct seccomp_notif *n = s->nbuf;
	if (!n)
		return -ENOMEM; /* cg_super_init() failed: nothing is answered */
	memset(n, 0, s->notif_size); /* the kernel wants it zeroed */
	if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, n) < 0)
		return errno == EINTR || errno == ENOENT ? 0 : -errno;
	switch (n->data.nr) {
	case SYS_execve:
	case SYS_execveat:
		on_exec(s, n);
		break;
	case SYS_mmap:
	case SYS_mprotect:
	case SYS_pkey_mprotect:
		on_mmap(s, n);
		break;
	case SYS_socket:
	case SYS_socketpair:
		on_socket(s, n);
		break;
	case SYS_flock:
	case SYS_fcntl:
		cg_direct_lock(s, n);
		break;
	default: /* the write-type calls of direct subtrees */
		cg_direct_write(s, n);
	}
	return 0;
}

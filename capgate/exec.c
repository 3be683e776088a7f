/* exec.c: `capgate exec`, the launcher (capgate(1)).
 *
 * Processes (pid namespaces in brackets):
 *   capgate exec (launcher) [host]   supervisor, signal forwarding, cleanup
 *     fsgate [host]                  serves the sandbox's root over FUSE
 *     init [sandbox pid 1]           builds the root, reaps, forwards signals
 *       PROGRAM [sandbox pid 2]      caps, rlimits, seccomp dropped, exec'd
 * fsgate runs outside the sandbox's pid namespace and cgroup, so the
 * program can neither signal nor ptrace it. The FUSE file system is mounted
 * by the launcher (so FUSE reports callers' pids in the host's namespace,
 * which fsgate maps to cgroups), in a mount namespace it makes for the
 * sandbox and then leaves. Order:
 *   plan -> cgroup + netgate -> mount ns + FUSE mount -> fsgate -> init
 *   (mounts, pivot_root) -> PROGRAM (rlimits, caps, seccomp, exec) ->
 *   supervise -> cleanup.
 * init and fsgate die with the launcher (PR_SET_PDEATHSIG), and the pid
 * namespace with init, so a SIGKILLed launcher leaves only its cgroups and
 * nft bindings, which the next launcher collects.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>

#include "audit.h"
#include "fdpass.h"
#include "policy.h"
#include "capgate/cg_apply.h"
#include "capgate/cg_capaudit.h"
#include "capgate/cg_cgroup.h"
#include "capgate/cg_elf.h"
#include "capgate/cg_fsgate.h"
#include "capgate/cg_nflog.h"
#include "capgate/cg_plan.h"
#include "capgate/cg_prefetch.h"
#include "capgate/cg_seccomp.h"
#include "capgate/cg_super.h"
#include "capgate/cg_vfork.h"
#include "capgate/exec.h"
#include "netgate/netgate.h"
#include "netgate/ng_seccomp.h"
#include <libmnl/libmnl.h>

#define EXIT_LAUNCH 125
#define STAGE "/tmp"
#define NEWROOT STAGE "/capgate-root"

struct opts {
	const char *policy_dir;
	const char *profile;
	const char *log;
	bool complain;
	bool no_fsgate; /* CAPGATE_NO_FSGATE=1: bind / instead (development) */
	bool own_fsgate; /* CAPGATE_FSGATE_SHARED=0: one fsgate per instance */
	double linger;   /* CAPGATE_FSGATE_LINGER: the shared fsgate's idle life */
	char **argv;    /* PROGRAM [ARGS...] */
};

/* Everything the launcher owns, released by cleanup(). */
struct launch {
	struct opts o;
	sigset_t mask;          /* the signal mask we were started with */
	struct policy *pol;
	const struct profile *pr;
	struct cg_plan plan;
	char cgroot[PATH_MAX];
	char id[64];
	char inst[128];  /* capgate/<id> */
	bool cg_made;
	bool bound;      /* a cgroup of ours has netgate rules: detach them */
	struct audit_sink *audit;
	struct cg_nflog *nflog; /* netgate's denials, or NULL */
	struct cg_capaudit *capaudit; /* capability lines, or NULL */
	struct mnl_socket *nl;  /* netgate's socket for the instance's life */
	pid_t self;
	pid_t fsgate, init;
	pid_t warm;      /* warm_migration()'s child, reaped in cleanup */
	pid_t att_pid;   /* start_netgate()'s child, and its answer */
	int att_fd;
	bool attaching;  /* the base profile gets netgate rules */
	bool stale_left; /* stale instances not collected yet (no child) */
	int go[2];       /* launcher -> program: netgate is in place, exec */
	int fsgate_pidfd, init_pidfd;
	int sock[2];     /* program -> launcher: the seccomp listener */
	int alive[2];    /* held by the launcher; init sees HUP when it dies */
	char cwd[PATH_MAX];
	struct cg_bpf bpf_own; /* the seccomp filter, compiled beforehand */
	int bpf_fd;            /* memfd: the filter, for the program (after go) */
	struct cg_fsgate shared; /* the shared fsgate (cg_fsgate.h) */
	bool sharing;            /* cg_fsgate_begin() succeeded */
	bool shared_died;        /* the shared fsgate ended under us */
	int mntfd;               /* the shared fsgate's mount for us, or -1 */
	int cgfd;                /* the instance cgroup, when the program is
				  * born in it (first_exec_ix()), else -1 */
};

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;
	fputs("capgate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* CAPGATE_DEBUG=1: milestones with milliseconds since start, on stderr. */
static void mark(const char *what)
{
	static struct timespec t0;
	static int on = -1;
	if (on < 0) {
		on = getenv("CAPGATE_DEBUG") != NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
	}
	if (!on)
		return;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "capgate: %7.2f ms %s\n",
		(double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6, what);
}

static const char usage[] =
"usage: capgate exec [--policy DIR] [--profile NAME] [--log FILE] [--complain]\n"
"                    -- PROGRAM [ARGS...]\n";

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "policy", required_argument, NULL, 'P' },
		{ "profile", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },
		{ "complain", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'P': o->policy_dir = optarg; break;
		case 'p': o->profile = optarg; break;
		case 'l': o->log = optarg; break;
		case 'c': o->complain = true; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: fputs(usage, stderr); return -EINVAL;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return -EINVAL;
	}
	o->argv = argv + optind;
	const char *nf = getenv("CAPGATE_NO_FSGATE");
	o->no_fsgate = nf && strcmp(nf, "1") == 0;
	const char *sh = getenv("CAPGATE_FSGATE_SHARED");
	o->own_fsgate = sh && strcmp(sh, "0") == 0;
	const char *lg = getenv("CAPGATE_FSGATE_LINGER");
	char *end = NULL;
	o->linger = lg ? strtod(lg, &end) : 0;
	if (lg && (end == lg || *end || !(o->linger >= 0 && o->linger <= 1e6))) {
		msg("CAPGATE_FSGATE_LINGER=%s: not a number of seconds", lg);
		return -EINVAL;
	}
	if (o->no_fsgate)
		msg("warning: CAPGATE_NO_FSGATE=1: the host's / is bound as it is, "
		    "file rules are NOT enforced (for measurements only)");
	return 0;
}

/* The installed policy, or the source tree's when run from build/bin. */
static const char *default_policy_dir(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *s = strstr(exe, "/build/bin/");
		if (s) {
			*s = '\0';
			struct stat st;
			if ((size_t)snprintf(buf, len, "%.4000s/policies", exe) < len &&
			    stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
				return buf;
		}
	}
	return "/etc/capgate";
}

/* PROGRAM's absolute path as execvp would find it (for attachment). */
static int find_program(const char *prog, char *out, size_t len)
{
	char cand[PATH_MAX];
	if (strchr(prog, '/'))
		return realpath(prog, out) ? 0 : -errno;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && snprintf(cand, sizeof cand, "%.*s/%s", (int)n, path, prog) < (int)sizeof cand &&
		    access(cand, X_OK) == 0 && realpath(cand, out))
			return 0;
		path += n + (path[n] == ':');
	}
	(void)len;
	return -ENOENT;
}

static int load_policy(struct launch *L)
{
	char buf[PATH_MAX];
	const char *dir = L->o.policy_dir ? L->o.policy_dir : default_policy_dir(buf, sizeof buf);
	struct diags d = { 0 };
	/* A compiled-policy cache private to root: a profile set is compiled
	 * once, and any edit rebuilds it (policy_load_dir checks a digest). */
	mkdir("/run/capgate", 0700);
	int r = policy_load_dir(dir, "/run/capgate/cache", &d, &L->pol);
	for (size_t i = 0; i < d.n; i++)
		if (!d.v[i].warning)
			fprintf(stderr, "%s:%d:%d: error: %s\n", d.v[i].file ? d.v[i].file : dir,
				d.v[i].line, d.v[i].col, d.v[i].msg);
	diags_free(&d);
	if (r < 0 || !L->pol) {
		msg("cannot load the policy in %s: %s", dir, strerror(-r));
		return -1;
	}
	if (L->o.profile) {
		L->pr = policy_find(L->pol, L->o.profile);
		if (!L->pr) {
			msg("no profile named '%s' in %s", L->o.profile, dir);
			return -1;
		}
		return 0;
	}
	char path[PATH_MAX];
	if (find_program(L->o.argv[0], path, sizeof path) < 0) {
		msg("%s: not found (needed to find its profile; or use --profile)", L->o.argv[0]);
		return -1;
	}
	L->pr = policy_find_attach(L->pol, path);
	if (!L->pr) {
		/* AppArmor would run it unconfined; a launcher that silently
		 * does not confine is worse than one that refuses. */
		msg("no profile in %s attaches to %s; name one with --profile", dir, path);
		return -1;
	}
	return 0;
}

/* netgate's calls are idempotent atomic transactions that retry when
 * another writer raced them, so launchers need no lock of their own. They
 * go over one socket (L->nl), released by release_netlink(). */
static void detach_cb(void *arg, const char *rel)
{
	struct launch *L = arg;
	if (!L->nl && ng_open(&L->nl) < 0)
		return;
	ng_detach_on(L->nl, rel); /* idempotent; fine for cgroups never attached */
}

/* Does a cgroup of pr need packet rules? Not when unconfined, and not
 * when socket(2) already refuses it every inet and inet6 socket (the
 * seccomp filter's socket rules, ng_inet_refused()): no packet can then
 * carry its cgroup. That spares most profiles the nftables transactions
 * and netfilter hooks, at start and at exit. */
static bool needs_packets(const struct launch *L, const struct profile *pr)
{
	uint32_t fl = profile_flags(pr);
	if (fl & PF_UNCONFINED)
		return false;
	return L->plan.complain || (fl & PF_COMPLAIN) || !ng_inet_refused(pr);
}

static int attach_cb(void *arg, const char *rel, const struct profile *pr)
{
	struct launch *L = arg;
	int r;
	if (!needs_packets(L, pr))
		return 0;
	L->bound = true; /* in the launcher, or its netgate child */
	if (!L->nl && (r = ng_open(&L->nl)) < 0)
		return r;
	/* a label's rules, attached at its exec: their lines too (best
	 * effort, as below) */
	if (getpid() == L->self && !L->nflog && cg_nflog_open(&L->nflog) < 0)
		L->nflog = NULL;
	/* complain: nothing refused, would-be denials logged ALLOWED */
	if (L->plan.complain || (profile_flags(pr) & PF_COMPLAIN))
		return ng_attach_complain_on(L->nl, rel, pr);
	return ng_attach_on(L->nl, rel, pr);
}

/* The last reference to a NETLINK_NETFILTER socket that sent a commit
 * waits, in its release, for an RCU grace period (nf_tables' URELEASE
 * handler flushes the work that frees committed transactions after
 * synchronize_rcu(): ~10 ms). Everything the launcher asked for is done
 * when the kernel acks it, so only that wait is left: a child takes over
 * the last references and pays it, after the launcher has closed its
 * copies (the child waits for the pipe to close). It holds nothing else
 * (no stdio: a reader of our output sees EOF when we exit) and ends
 * within the grace period. */
static void release_netlink(struct launch *L)
{
	/* the nflog group goes now: a launcher started right after ours
	 * must find it free, not held by the child below */
	if (L->nflog)
		cg_nflog_unbind(L->nflog);
	int fds[2] = { L->nl ? mnl_socket_get_fd(L->nl) : -1,
		       L->nflog ? cg_nflog_fd(L->nflog) : -1 };
	int p[2] = { -1, -1 };
	if ((fds[0] >= 0 || fds[1] >= 0) && pipe2(p, O_CLOEXEC) == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			/* close everything but keep[], which is sorted */
			int keep[3] = { fds[0], fds[1], p[0] }, from = 0;
			for (int i = 0; i < 3; i++)
				for (int j = i + 1; j < 3; j++)
					if (keep[j] < keep[i]) {
						int t = keep[i];
						keep[i] = keep[j];
						keep[j] = t;
					}
			for (int i = 0; i < 3; i++) {
				if (keep[i] < from)
					continue;
				if (keep[i] > from)
					syscall(SYS_close_range, (unsigned)from, (unsigned)keep[i] - 1, 0);
				from = keep[i] + 1;
			}
			syscall(SYS_close_range, (unsigned)from, ~0U, 0);
			char c;
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		close(p[0]);
	}
	ng_close(L->nl);
	L->nl = NULL;
	if (L->nflog) {
		cg_nflog_close(L->nflog);
		L->nflog = NULL;
	}
	if (p[1] >= 0)
		close(p[1]); /* the child may go */
}

/* The first cgroup migration after a quiet spell waits for an RCU grace
 * period (cgroup_threadgroup_rwsem's rcu_sync: ~10 ms, with cgroup_mutex
 * held, so mkdir and BPF attaches wait too); later ones while it is warm
 * (up to a grace period after the last) cost microseconds. When the
 * program's first exec is a transition, its move at that exec stop is on
 * the start-up path, so a throwaway child pays that wait early, in
 * parallel with everything else, by moving itself to the instance's .ux
 * cgroup. A program born in its cgroup (CLONE_INTO_CGROUP) moves nothing:
 * no child, whose fork and exit cost ~1 ms of CPU here. */
static void warm_migration(struct launch *L)
{
	char rel[200];
	snprintf(rel, sizeof rel, "%s%s", L->inst, CG_UX_SUFFIX);
	if (L->cgfd >= 0 || cg_mkdir(L->cgroot, rel) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		cg_move(L->cgroot, rel, 0);
		_exit(0);
	}
	L->warm = pid > 0 ? pid : 0;
}

/* The instance's cgroups, before anything that takes cgroup_mutex waits
 * behind the warm-up. */
static int make_cgroups(struct launch *L)
{
	int r;
	/* the parent goes with the last instance (see cleanup): another
	 * launcher may remove it between our two mkdirs, so retry */
	for (int tries = 0;; tries++) {
		if ((r = cg_mkdir(L->cgroot, CG_DIR)) < 0) {
			msg("cannot create %s/%s: %s", L->cgroot, CG_DIR, strerror(-r));
			return -1;
		}
		if ((r = cg_mkdir(L->cgroot, L->inst)) == 0)
			break;
		if (r != -ENOENT || tries == 5) {
			msg("cannot create the instance cgroup: %s", strerror(-r));
			return -1;
		}
	}
	L->cg_made = true;
	return 0;
}

/* netgate's part (collecting stale instances, then the nft rules and the
 * BPF bind hooks, which wait for cgroup_mutex) runs in a child, on the
 * launcher's socket, while the launcher goes on; netgate_done() takes its
 * answer, and only then may the program exec (it waits for a byte on
 * L->go): fail closed, never a moment without the network rules. */
static int start_netgate(struct launch *L)
{
	int r, p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		msg("pipe: %m");
		return -1;
	}
	if (!L->attaching) {
		/* nothing to wait for: the answer is ready, and stale instances
		 * are collected once the program runs */
		r = 0;
		if (write(p[1], &r, sizeof r) != sizeof r)
			r = -1;
		close(p[1]);
		L->att_fd = p[0];
		L->stale_left = true;
		return r;
	}
	if ((r = ng_open(&L->nl)) < 0) {
		msg("netgate: cannot open netlink: %s", strerror(-r));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		msg("fork: %m");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != L->self)
			_exit(1);
		close(p[0]);
		cg_collect_stale(L->cgroot, detach_cb, L);
		mark("stale instances collected (child)");
		r = attach_cb(L, L->inst, L->pr);
		mark("netgate attached (child)");
		if (write(p[1], &r, sizeof r) != sizeof r)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	L->att_pid = pid;
	L->att_fd = p[0];
	/* Best effort: another launcher may hold the nflog group. */
	L->bound = true;
	if (cg_nflog_open(&L->nflog) < 0)
		L->nflog = NULL;
	return 0;
}

/* The netgate child's answer: 0 (the program may exec now) or -1. */
static int netgate_done(struct launch *L)
{
	int r = -EIO;
	ssize_t n = read(L->att_fd, &r, sizeof r);
	close(L->att_fd);
	L->att_fd = -1;
	if (L->att_pid > 0)
		waitpid(L->att_pid, NULL, 0); /* it exits right after answering */
	L->att_pid = 0;
	if (n != (ssize_t)sizeof r)
		r = -EIO;
	if (r < 0) {
		msg("netgate: cannot confine the network: %s", strerror(-r));
		return -1;
	}
	char err[300];
	if (cg_fsgate_confirm(&L->shared, err, sizeof err) < 0) {
		msg("%s", err);
		return -1;
	}
	if (write(L->go[1], "g", 1) != 1)
		return -1;
	mark("go");
	close(L->go[1]);
	L->go[1] = -1;
	if (L->stale_left) /* while the program starts */
		cg_collect_stale(L->cgroot, detach_cb, L);
	L->stale_left = false;
	return 0;
}

/* In a mount namespace of its own, the launcher mounts the FUSE file
 * system that will be the sandbox's root, keeps a handle on that
 * namespace and returns to its own. Returns the /dev/fuse fd (or -2 with
 * no_fsgate) and *nsfd. */
static int mount_root(struct launch *L, int *nsfd)
{
	int host = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	int cwd = open(".", O_PATH | O_CLOEXEC);
	int fuse = -2;
	if (host < 0 || cwd < 0 || unshare(CLONE_NEWNS) < 0) {
		msg("cannot make a mount namespace: %m");
		goto fail;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("capgate", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=16k") < 0 ||
	    mkdir(NEWROOT, 0755) < 0) {
		msg("cannot prepare the staging mount on %s: %m", STAGE);
		goto fail;
	}
	if (L->o.no_fsgate) {
		if (mount("/", NEWROOT, NULL, MS_BIND | MS_REC, NULL) < 0) {
			msg("bind /: %m");
			goto fail;
		}
	} else if (L->mntfd >= 0) {
		/* the shared fsgate's mount, cloned for us */
		int r = (int)syscall(SYS_move_mount, L->mntfd, "", AT_FDCWD, NEWROOT,
				     MOVE_MOUNT_F_EMPTY_PATH);
		close(L->mntfd);
		L->mntfd = -1;
		if (r < 0) {
			msg("cannot mount the FUSE root: %m");
			goto fail;
		}
	} else {
		fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC);
		if (fuse < 0) {
			msg("cannot open /dev/fuse: %m");
			goto fail;
		}
		char o[256];
		/* fsgate's own mount options: the kernel checks permissions
		 * with the caller's credentials (default_permissions), for
		 * every user (allow_other). */
		snprintf(o, sizeof o, "fd=%d,rootmode=40000,user_id=0,group_id=0,"
			 "default_permissions,allow_other", fuse);
		if (mount("fsgate", NEWROOT, "fuse.fsgate", MS_NOSUID | MS_NODEV, o) < 0) {
			msg("cannot mount the FUSE root: %m");
			goto fail;
		}
	}
	*nsfd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (*nsfd < 0 || setns(host, CLONE_NEWNS) < 0 || fchdir(cwd) < 0) {
		msg("cannot return to the host mount namespace: %m");
		exit(EXIT_LAUNCH); /* we are stuck in the wrong namespace */
	}
	close(host);
	close(cwd);
	return fuse;
fail:
	if (fuse >= 0)
		close(fuse);
	if (host >= 0) {
		if (setns(host, CLONE_NEWNS) < 0)
			exit(EXIT_LAUNCH);
		close(host);
	}
	if (cwd >= 0) {
		if (fchdir(cwd) < 0) {}
		close(cwd);
	}
	return -1;
}

/* The program gets the signal state we were started with, as an exec
 * from our caller would have: its mask, and its dispositions (we install
 * no handler, so ours are still those: ignored signals stay ignored, as
 * `nohup capgate exec ...` and a shell's background job need). */
static void restore_signals(const struct launch *L)
{
	sigprocmask(SIG_SETMASK, &L->mask, NULL);
}

/* A daemon of ours (an exec'd fsgate) starts from defaults instead. */
static void default_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
}

static char *fsgate_path(char *buf, size_t len)
{
	const char *e = getenv("CAPGATE_FSGATE");
	if (e)
		return strncpy(buf, e, len - 1);
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	if (n > 0) {
		buf[n] = '\0';
		char *s = strrchr(buf, '/');
		if (s && (size_t)(s - buf) + 8 < len) {
			strcpy(s + 1, "fsgate");
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return strncpy(buf, "fsgate", len - 1);
}

static int start_fsgate(struct launch *L, int fuse)
{
	char path[PATH_MAX] = { 0 }, fdarg[32], cg[160], dir[PATH_MAX];
	fsgate_path(path, sizeof path);
	const char *pdir = L->o.policy_dir ? L->o.policy_dir : default_policy_dir(dir, sizeof dir);
	snprintf(fdarg, sizeof fdarg, "/dev/fd/%d", fuse);
	snprintf(cg, sizeof cg, "/%s", L->inst);
	const char *av[20];
	int n = 0;
	av[n++] = path;
	av[n++] = "--policy"; av[n++] = pdir;
	av[n++] = "--profile"; av[n++] = L->o.profile ? L->o.profile : profile_name(L->pr);
	av[n++] = "--cgroup"; av[n++] = cg;
	av[n++] = "--prefix"; av[n++] = "/";
	av[n++] = "--cache"; av[n++] = "/run/capgate/cache"; /* compiled once, above */
	if (L->o.log) {
		av[n++] = "--log";
		av[n++] = L->o.log;
	}
	if (L->o.complain)
		av[n++] = "--complain";
	av[n++] = "-f";
	av[n++] = "/";
	av[n++] = fdarg;
	av[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != L->self)
			_exit(1);
		default_signals();
		fcntl(fuse, F_SETFD, 0);
		execv(path, (char **)av);
		msg("cannot run %s: %m", path);
		_exit(EXIT_LAUNCH);
	}
	L->fsgate = pid;
	L->fsgate_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

/* ---- the program (sandbox pid 2) ---- */

/* The seccomp listener, from the program to the launcher. */
static int send_fd(int sock, int fd)
{
	return fdpass_send(sock, "L", 1, fd, 0);
}

static int recv_fd(int sock)
{
	char c;
	int fd;
	return fdpass_recv(sock, &c, 1, &fd, 0) == 1 ? fd : -1;
}

static void program_main(struct launch *L) __attribute__((noreturn));
static void program_main(struct launch *L)
{
	struct cg_err e = { "" };
	int r;
	mark("program: born");
	restore_signals(L);
	if ((r = cg_apply_rlimits(L->plan.rlimits, L->plan.nrlimits, 0, &e)) < 0)
		goto fail;
	if ((r = cg_apply_caps(&L->plan, &e)) < 0)
		goto fail;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		snprintf(e.what, sizeof e.what, "no_new_privs");
		goto fail;
	}
	/* The launcher compiled the filter while init built the root; it is
	 * in the memfd by the time netgate is in place. */
	char go = 0;
	if (read(L->go[0], &go, 1) != 1 || go != 'g')
		_exit(EXIT_LAUNCH); /* netgate failed (the launcher says why), or it died */
	mark("program: go");
	close(L->go[0]);
	if ((r = cg_bpf_from_fd(L->bpf_fd, &L->bpf_own)) < 0) {
		snprintf(e.what, sizeof e.what, "seccomp filter");
		goto fail;
	}
	close(L->bpf_fd);
	int lfd = cg_seccomp_install(&L->bpf_own, true);
	if (lfd < 0) {
		r = lfd;
		snprintf(e.what, sizeof e.what, "seccomp filter");
		goto fail;
	}
	if ((r = send_fd(L->sock[1], lfd)) < 0) {
		snprintf(e.what, sizeof e.what, "hand over the seccomp listener");
		goto fail;
	}
	close(lfd);
	close(L->sock[1]);
	mark("program: exec");
	execvp(L->o.argv[0], L->o.argv);
	r = errno;
	msg("%s: %s", L->o.argv[0], strerror(r));
	_exit(r == ENOENT || r == ENOTDIR ? 127 : 126);
fail:
	msg("setting up the sandbox: %s: %s", e.what, strerror(-r));
	_exit(EXIT_LAUNCH);
}

/* ---- init (sandbox pid 1) ---- */

static bool ix_in(const struct profile *pr, const char *path)
{
	struct file_perms fp;
	decide_file(pr, path, &fp);
	return (fp.allow & PERM_EXEC) && fp.x.type == XT_INHERIT && !fp.x.flags &&
	       !(fp.audit & PERM_EXEC);
}

/* May the program be born in the instance cgroup, so that its first exec
 * needs no ptrace? When that exec is one the profile allows anyway as a
 * plain ix of an ELF program whose interpreter it also allows: then the
 * supervisor answers it at once and fsgate (or a direct subtree) checks
 * the kernel's exec opens, as for any ix exec (cg_super.h). Otherwise
 * (a script, a program the profile does not let run, complain mode) the
 * first exec stays the launcher's own, entering the profile at its exec
 * stop, as AppArmor's aa-exec does. */
static bool first_exec_ix(const struct launch *L)
{
	char path[PATH_MAX], interp[PATH_MAX], real[PATH_MAX];
	if (L->o.no_fsgate || L->plan.complain ||
	    (profile_flags(L->pr) & (PF_COMPLAIN | PF_UNCONFINED | PF_AUDIT | PF_KILL)) ||
	    find_program(L->o.argv[0], path, sizeof path) < 0 || !ix_in(L->pr, path))
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	struct stat st;
	int r = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ?
			cg_elf_interp(fd, interp, sizeof interp) : -ENOEXEC;
	close(fd);
	if (r < 0)
		return false; /* not ELF: a script's interpreter is the kernel's */
	return r == 0 || (realpath(interp, real) && ix_in(L->pr, real));
}

static void program_entry(void *arg)
{
	program_main(arg);
}

static void init_main(struct launch *L, int nsfd) __attribute__((noreturn));
static void init_main(struct launch *L, int nsfd)
{
	struct cg_err e = { "" };
	int r;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The launcher is outside our pid namespace (getppid() says 0): its
	 * end of the `alive` pipe tells whether it died before the prctl. */
	close(L->alive[1]);
	close(L->go[1]);
	struct pollfd pa = { .fd = L->alive[0], .events = POLLIN };
	if (poll(&pa, 1, 0) != 0)
		_exit(EXIT_LAUNCH);
	close(L->alive[0]);
	if (setns(nsfd, CLONE_NEWNS) < 0) {
		msg("cannot enter the sandbox's mount namespace: %m");
		_exit(EXIT_LAUNCH);
	}
	close(nsfd);
	if ((r = cg_apply_mounts(&L->plan, NEWROOT, &e)) < 0 ||
	    (r = cg_apply_pivot(NEWROOT, L->cwd, &e)) < 0) {
		msg("building the sandbox: %s: %s", e.what, strerror(-r));
		_exit(EXIT_LAUNCH);
	}
	mark("init: root built");
	/* Nothing in the sandbox may ptrace or read pid 1 (it has no
	 * capabilities to spare, but it is root's and shares our secrets). */
	prctl(PR_SET_DUMPABLE, 0);
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	/* netgate's rules take a while: meanwhile, warm what the exec reads */
	if (L->attaching && !L->o.no_fsgate) {
		cg_prefetch_exec(L->o.argv[0]);
		mark("init: prefetched");
	}
	/* Born in the instance cgroup when its first exec is an ix of the
	 * profile's own; else it enters at that exec (a transition). It
	 * borrows our memory until its exec (cg_vfork.h): we sleep till then. */
	pid_t prog = cg_vfork(L->cgfd >= 0 ? CLONE_INTO_CGROUP : 0, L->cgfd, program_entry, L);
	if (prog == -ENOSYS) { /* not on x86-64: a copy of us */
		struct clone_args ca = { .flags = L->cgfd >= 0 ? CLONE_INTO_CGROUP : 0,
					 .exit_signal = SIGCHLD,
					 .cgroup = L->cgfd >= 0 ? (uint64_t)L->cgfd : 0 };
		prog = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
		if (prog == 0)
			program_main(L);
		if (prog < 0)
			prog = -errno;
	}
	if (prog < 0) {
		msg("cannot start the program: %s", strerror(-prog));
		_exit(EXIT_LAUNCH);
	}
	close(L->sock[1]);
	/* As pid 1 we only receive signals we block and wait for: forward
	 * those sent to us (by the launcher, or from inside), not the ones
	 * the terminal sent the whole process group (si_code SI_KERNEL). */
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig == SIGCHLD) {
			int st;
			pid_t p;
			while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
				if (p != prog)
					continue;
				mark("init: program reaped");
				if (WIFEXITED(st))
					_exit(WEXITSTATUS(st));
				_exit(128 + WTERMSIG(st));
			}
			continue;
		}
		if (si.si_code == SI_KERNEL)
			continue;
		kill(prog, sig);
	}
}

/* ---- the launcher's loop ---- */

static bool ours_base(const char *profile, void *arg)
{
	return strcmp(profile, profile_name(arg)) == 0;
}

/* Is a packet line's profile one of this instance's? */
static bool ours(const char *profile, void *arg)
{
	const struct cg_super *S = arg;
	if (strcmp(profile, profile_name(S->base)) == 0)
		return true;
	for (unsigned i = 0; i < S->nlabels; i++)
		if (strcmp(profile, profile_name(S->labels[i])) == 0)
			return true;
	return false;
}

static int supervise(struct launch *L, int sigfd)
{
	struct cg_super S = { .listener = -1 };
	S.pol = L->pol;
	S.base = L->pr;
	S.cgroot = L->cgroot;
	snprintf(S.inst, sizeof S.inst, "/%s", L->inst);
	S.audit = L->audit;
	S.complain = L->o.complain;
	S.drop_caps = L->plan.drop_caps;
	S.fsgate = !L->o.no_fsgate;
	S.plan = &L->plan;
	S.attach = attach_cb;
	S.attach_arg = L;
	if (cg_super_init(&S) < 0)
		msg("warning: seccomp notifications unavailable");
	/* before the program may exec (netgate_done() below lets it) */
	struct cg_capaudit_how ch = { .cgroot = L->cgroot, .inst = L->inst, .base = L->pr,
				      .complain = L->o.complain, .audit = L->audit };
	int cr = cg_capaudit_open(&L->capaudit, &ch);
	if (cr < 0 && getenv("CAPGATE_DEBUG"))
		fprintf(stderr, "capgate: no capability lines: %s\n", strerror(-cr));
	cg_capaudit_chain(L->capaudit, &S.attach, &S.attach_arg);
	mark("capability lines set up");
	/* who_is() compares with /proc/<pid>/cgroup's "0::/capgate/<id>". */
	memmove(S.inst, S.inst + 1, strlen(S.inst));
	int status = EXIT_LAUNCH;
	for (;;) {
		struct pollfd p[8] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = L->init_pidfd, .events = POLLIN },
			{ .fd = L->sock[0], .events = POLLIN },
			{ .fd = S.listener, .events = POLLIN },
			{ .fd = L->fsgate_pidfd, .events = POLLIN },
			{ .fd = L->nflog ? cg_nflog_fd(L->nflog) : -1, .events = POLLIN },
			{ .fd = L->att_fd, .events = POLLIN },
			{ .fd = cg_capaudit_fd(L->capaudit), .events = POLLIN },
		};
		if (poll(p, 8, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((p[6].revents & (POLLIN | POLLHUP | POLLERR)) && netgate_done(L) < 0) {
			status = EXIT_LAUNCH; /* cleanup() kills the sandbox */
			break;
		}
		if (p[3].revents & POLLIN)
			cg_super_handle(&S);
		if (p[5].revents & POLLIN)
			cg_nflog_read(L->nflog, L->audit, ours, &S);
		if (p[7].revents & POLLIN)
			cg_capaudit_drain(L->capaudit);
		if (p[3].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			close(S.listener);
			S.listener = -1;
		}
		if (p[2].revents & POLLIN) {
			int fd = recv_fd(L->sock[0]);
			if (fd >= 0) {
				if (S.listener >= 0)
					close(fd); /* only one, from our own child */
				else
					S.listener = cg_super_listener(fd);
			}
		}
		if (p[2].revents & (POLLHUP | POLLERR)) {
			close(L->sock[0]);
			L->sock[0] = -1;
		}
		if (p[4].revents & POLLIN) {
			siginfo_t si = { 0 };
			if (L->fsgate > 0) /* else the shared one, not our child */
				waitid(P_PID, (id_t)L->fsgate, &si, WEXITED);
			else
				L->shared_died = true;
			if (getenv("CAPGATE_DEBUG"))
				fprintf(stderr, "capgate: fsgate ended: code %d status %d\n",
					si.si_code, si.si_status);
			close(L->fsgate_pidfd);
			L->fsgate_pidfd = -1;
			L->fsgate = 0;
			/* It also ends, normally, when the sandbox is gone. */
			struct pollfd ip = { .fd = L->init_pidfd, .events = POLLIN };
			if (poll(&ip, 1, 200) == 0)
				msg("fsgate exited; the sandbox's files fail closed (ENOTCONN)");
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof si) == sizeof si &&
			    si.ssi_code != SI_KERNEL && L->init > 0)
				kill(L->init, (int)si.ssi_signo);
		}
		if (p[1].revents & POLLIN) {
			siginfo_t si = { 0 };
			if (waitid(P_PID, (id_t)L->init, &si, WEXITED) == 0) {
				mark("init exited");
				status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
				L->init = 0;
				break;
			}
		}
	}
	if (S.listener >= 0)
		close(S.listener);
	if (getenv("CAPGATE_DEBUG"))
		fprintf(stderr, "capgate: supervised %llu execs (%llu transitions), %llu mmaps, "
			"%llu refused sockets\n", (unsigned long long)S.nexec,
			(unsigned long long)S.ntrans, (unsigned long long)S.nmmap,
			(unsigned long long)S.nsock);
	return status;
}

static void cleanup(struct launch *L)
{
	if (L->att_pid > 0) {
		kill(L->att_pid, SIGKILL);
		waitpid(L->att_pid, NULL, 0);
	}
	if (L->att_fd >= 0)
		close(L->att_fd);
	if (L->go[1] >= 0)
		close(L->go[1]);
	if (L->init > 0) {
		kill(L->init, SIGKILL);
		waitpid(L->init, NULL, 0);
	}
	if (L->fsgate > 0) {
		/* The sandbox (and with it the FUSE mount) is gone: fsgate has
		 * nothing left to serve. */
		kill(L->fsgate, SIGKILL);
		waitpid(L->fsgate, NULL, 0);
	}
	if (L->fsgate_pidfd >= 0)
		close(L->fsgate_pidfd);
	L->fsgate_pidfd = -1;
	/* the sandbox is gone: the shared fsgate may forget the instance (and
	 * shut down, while we take down the rest; waited for at the end) */
	cg_fsgate_leave(&L->shared);
	if (L->mntfd >= 0)
		close(L->mntfd);
	cg_bpf_free(&L->bpf_own);
	if (L->bpf_fd >= 0)
		close(L->bpf_fd);
	if (L->cgfd >= 0)
		close(L->cgfd);
	if (L->warm > 0)
		waitpid(L->warm, NULL, 0);
	if (L->cg_made) {
		char ux[200];
		snprintf(ux, sizeof ux, "%s%s", L->inst, CG_UX_SUFFIX);
		cg_destroy(L->cgroot, ux, NULL, NULL);
		cg_destroy(L->cgroot, L->inst, L->bound ? detach_cb : NULL, L);
		/* the last instance takes the parent with it (fails, harmlessly,
		 * while other instances live) */
		char parent[PATH_MAX + 16];
		if ((size_t)snprintf(parent, sizeof parent, "%s/%s", L->cgroot, CG_DIR) <
		    sizeof parent)
			rmdir(parent);
	}
	if (L->nflog) /* last lines; the socket goes in release_netlink() */
		cg_nflog_read(L->nflog, L->audit, ours_base, (void *)L->pr);
	cg_capaudit_close(L->capaudit); /* with its last lines */
	cg_fsgate_end(&L->shared);
	if (L->shared_died) /* killed: its socket and cgroup are ours to remove */
		cg_fsgate_collect(L->cgroot);
	mark("fsgate gone");
	if (L->audit)
		audit_sink_close(L->audit);
	policy_free(L->pol);
}

/* The shared fsgate (cg_fsgate.h): connect to it, or start it, early;
 * register after the policy is loaded. Any failure falls back to a
 * fsgate of the instance's own. */
static void shared_begin(struct launch *L)
{
	char path[PATH_MAX] = { 0 }, dir[PATH_MAX];
	if (L->o.no_fsgate || L->o.own_fsgate || L->sharing)
		return;
	struct cg_fsgate_how h = {
		.fsgate = fsgate_path(path, sizeof path),
		.policy = L->o.policy_dir ? L->o.policy_dir : default_policy_dir(dir, sizeof dir),
		.cache = "/run/capgate/cache", .cgroot = L->cgroot, .linger = L->o.linger,
		/* our own copy of its code, unless another binary is named */
		.fork = getenv("CAPGATE_FSGATE") == NULL,
		.pol = L->pol,
	};
	fflush(NULL); /* a forked fsgate must not write our buffers again */
	int r = cg_fsgate_begin(&L->shared, &h);
	L->sharing = r == 0;
	if (r < 0 && getenv("CAPGATE_DEBUG"))
		fprintf(stderr, "capgate: no shared fsgate: %s\n", strerror(-r));
}

static void shared_register(struct launch *L)
{
	char err[256], cg[200];
	if (!L->sharing)
		return;
	int logfd = -1;
	if (L->o.log)
		logfd = open(L->o.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	snprintf(cg, sizeof cg, "/%s", L->inst);
	for (int again = 1; again >= 0; again--) {
		L->mntfd = cg_fsgate_register(&L->shared, cg, profile_name(L->pr),
					      L->o.complain, logfd, policy_digest(L->pol), err,
					      sizeof err);
		if (L->mntfd >= 0 || !again || !strstr(err, "older version of the policy"))
			break;
		/* it stopped taking instances: start one with today's policy */
		cg_fsgate_end(&L->shared);
		L->sharing = false;
		shared_begin(L);
		if (!L->sharing)
			break;
	}
	if (logfd >= 0)
		close(logfd);
	if (L->mntfd < 0) {
		if (getenv("CAPGATE_DEBUG"))
			fprintf(stderr, "capgate: %s; starting a fsgate of our own\n", err);
		cg_fsgate_end(&L->shared);
		L->sharing = false;
		return;
	}
	if (L->shared.pid > 0)
		L->fsgate_pidfd = (int)syscall(SYS_pidfd_open, L->shared.pid, 0);
}

/* The sandbox's root: FUSE mount and fsgate. Returns -1 on error. */
static int start_root(struct launch *L, int *nsfd)
{
	if (L->mntfd >= 0)
		return mount_root(L, nsfd) == -1 ? -1 : -2;
	int fuse = mount_root(L, nsfd);
	if (fuse < 0)
		return fuse; /* -1 error, -2 no fsgate */
	int r = start_fsgate(L, fuse);
	close(fuse); /* fsgate holds the only copy: if it dies, ENOTCONN */
	if (r < 0) {
		msg("cannot start fsgate: %s", strerror(-r));
		return -1;
	}
	return -2;
}

/* One seccomp filter: ours, with netgate's socket rules unless nothing
 * is refused (complain mode, flags=(unconfined)). Written to L->bpf_fd,
 * which the program reads after "go". */
static int compile_filters(struct launch *L)
{
	bool net = !L->plan.complain && !(profile_flags(L->pr) & PF_UNCONFINED);
	int r = cg_seccomp_export_cached(&L->plan, net ? L->pr : NULL, policy_digest(L->pol),
					 profile_name(L->pr), "/run/capgate/cache", &L->bpf_own);
	if (r >= 0 && pwrite(L->bpf_fd, L->bpf_own.buf, L->bpf_own.len, 0) !=
			      (ssize_t)L->bpf_own.len)
		r = -EIO;
	if (r < 0) {
		msg("cannot build the seccomp filter: %s", strerror(-r));
		return -1;
	}
	return 0;
}

int cmd_exec(int argc, char **argv)
{
	/* large, one per process, and zero already: no memset, which would
	 * touch (fault in) every page of it */
	static struct launch L;
	int status = EXIT_LAUNCH, nsfd = -1, sigfd = -1;
	L.fsgate_pidfd = L.init_pidfd = L.sock[0] = L.sock[1] = -1;
	L.alive[0] = L.alive[1] = -1;
	L.att_fd = L.go[0] = L.go[1] = -1;
	L.mntfd = L.bpf_fd = L.cgfd = -1;
	L.shared.conn = L.shared.lock = L.shared.mnt = -1;
	L.self = getpid();
	mark("start");
	if (parse(argc, argv, &L.o) < 0)
		return EXIT_LAUNCH;
	if (geteuid() != 0) {
		msg("exec needs root (it makes namespaces, cgroups and nftables rules)");
		return EXIT_LAUNCH;
	}
	if (!getcwd(L.cwd, sizeof L.cwd))
		strcpy(L.cwd, "/");
	if (cg_root(L.cgroot, sizeof L.cgroot) < 0) {
		msg("no cgroup2 file system mounted (see /proc/self/mounts)");
		goto out;
	}
	if (cg_instance_id(L.self, L.id, sizeof L.id) < 0)
		goto out;
	snprintf(L.inst, sizeof L.inst, "%s/%s", CG_DIR, L.id);
	if (make_cgroups(&L) < 0)
		goto out;
	mark("cgroups made");
	/* Signals the launcher forwards; blocked before any child exists so
	 * none is lost (children restore the mask). */
	sigset_t fw;
	sigemptyset(&fw);
	int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
		      SIGWINCH, SIGCHLD, SIGPIPE };
	for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
		sigaddset(&fw, fwd[i]);
	sigprocmask(SIG_BLOCK, &fw, &L.mask);
	sigdelset(&fw, SIGCHLD);
	sigdelset(&fw, SIGPIPE);
	sigfd = signalfd(-1, &fw, SFD_CLOEXEC);
	/* The policy first: a shared fsgate we start is a forked copy of us
	 * and takes it as it is, with no second load. */
	if (load_policy(&L) < 0)
		goto out;
	mark("policy loaded");
	shared_begin(&L);
	mark("shared fsgate started");
	const char *dv = getenv("CAPGATE_DIRECT");
	struct cg_plan_in in = { .complain = L.o.complain, .uid = getuid(),
				 .notify_socket = getenv("NOTIFY_SOCKET"),
				 .direct = !L.o.no_fsgate && !(dv && strcmp(dv, "0") == 0),
				 .cwd = L.cwd };
	if (cg_plan_build(L.pr, &in, &L.plan) < 0) {
		msg("the plan for profile %s is too large", profile_name(L.pr));
		goto out;
	}
	L.audit = audit_sink_open(L.o.log, 100);
	if (!L.audit) {
		msg("cannot open the log %s: %m", L.o.log ? L.o.log : "(syslog)");
		goto out;
	}
	shared_register(&L);
	if (start_root(&L, &nsfd) == -1)
		goto out;
	if (first_exec_ix(&L)) {
		char cg[PATH_MAX + 300];
		snprintf(cg, sizeof cg, "%s/%s", L.cgroot, L.inst);
		L.cgfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	warm_migration(&L);
	L.attaching = needs_packets(&L, L.pr);
	/* init first: it builds the root while we attach netgate and
	 * compile the seccomp filter */
	L.bpf_fd = memfd_create("capgate-filter", MFD_CLOEXEC);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, L.sock) < 0 ||
	    pipe2(L.alive, O_CLOEXEC) < 0 || pipe2(L.go, O_CLOEXEC) < 0 || L.bpf_fd < 0) {
		msg("socketpair: %m");
		goto out;
	}
	struct clone_args ca = { .flags = CLONE_NEWPID | CLONE_PIDFD,
				 .pidfd = (uint64_t)(uintptr_t)&L.init_pidfd,
				 .exit_signal = SIGCHLD };
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
	if (pid < 0) {
		msg("cannot make the sandbox's pid namespace: %m");
		goto out;
	}
	if (pid == 0)
		init_main(&L, nsfd);
	L.init = pid;
	close(L.alive[0]);
	close(L.go[0]);
	L.go[0] = -1;
	close(nsfd);
	nsfd = -1;
	close(L.sock[1]);
	L.sock[1] = -1;
	if (start_netgate(&L) < 0)
		goto out;
	mark("netgate started");
	if (compile_filters(&L) < 0)
		goto out;
	mark("filters compiled");
	status = supervise(&L, sigfd);
	mark("sandbox ended");
out:
	if (nsfd >= 0)
		close(nsfd);
	if (sigfd >= 0)
		close(sigfd);
	cleanup(&L);
	release_netlink(&L);
	mark("cleaned up");
	return status;
}

/* cg_fsgate.c: find or start the shared fsgate, and register with it
 * (cg_fsgate.h; the daemon's side is fsgate/serve.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "fdpass.h"
#include "capgate/cg_cgroup.h"
#include "capgate/cg_fsgate.h"
#include "fsgate/fsg_main.h"
#include "fsgate/fsg_mount.h"

#define RUN_DIR "/run/capgate"
#define LOCK RUN_DIR "/fsgate.lock" /* one for all: lock files are never removed */

/* One daemon per policy directory, fsgate binary (a rebuilt one is not
 * the one running) and linger. */
static uint64_t key(const struct cg_fsgate_how *h)
{
	char real[PATH_MAX], buf[PATH_MAX + 128];
	struct stat st = { 0 };
	stat(h->fsgate, &st);
	snprintf(buf, sizeof buf, "%s|%s|%llu:%llu:%lld.%09ld|%g",
		 realpath(h->policy, real) ? real : h->policy, h->fsgate,
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, h->linger);
	uint64_t k = 0xcbf29ce484222325ull;
	for (const char *c = buf; *c; c++)
		k = (k ^ (uint8_t)*c) * 0x100000001b3ull;
	return k;
}

/* A SOCK_SEQPACKET socket at path: connected to it, or (listen: the lock
 * is held, so a file there is a dead daemon's) listening on it, root only. */
static int seqpacket(const char *path, bool listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (listening)
		unlink(path);
	int r = listening ? bind(fd, (struct sockaddr *)&sa, sizeof sa) :
			    connect(fd, (struct sockaddr *)&sa, sizeof sa);
	if (r == 0 && listening && (chmod(path, 0600) < 0 || listen(fd, 64) < 0))
		r = -1;
	if (r < 0) {
		int e = errno;
		close(fd);
		if (listening)
			unlink(path);
		return -e;
	}
	return fd;
}

/* What killed daemons left (with the lock held): sockets nobody listens
 * on, and their empty cgroups. */
static void collect(const char *cgroot)
{
	char p[PATH_MAX + 300];
	DIR *d = opendir(RUN_DIR);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (strncmp(e->d_name, "fsgate-", 7) != 0 || n < 5 ||
		    strcmp(e->d_name + n - 5, ".sock") != 0)
			continue;
		snprintf(p, sizeof p, RUN_DIR "/%s", e->d_name);
		int fd = seqpacket(p, false);
		if (fd == -ECONNREFUSED)
			unlink(p);
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
	snprintf(p, sizeof p, "%s/%s", cgroot, CG_DIR);
	d = opendir(p);
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "fsgate-", 7) != 0)
			continue;
		snprintf(p, sizeof p, "%s/%s/%s", cgroot, CG_DIR, e->d_name);
		rmdir(p); /* EBUSY while its daemon runs */
	}
	if (d)
		closedir(d);
	snprintf(p, sizeof p, "%s/%s", cgroot, CG_DIR);
	rmdir(p); /* EBUSY while anything lives there */
}

void cg_fsgate_collect(const char *cgroot)
{
	int lk = open(LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lk < 0 || flock(lk, LOCK_EX) < 0) {
		if (lk >= 0)
			close(lk);
		return;
	}
	collect(cgroot);
	close(lk);
}

/* Close every descriptor above 2 but the four fsgate is handed. */
static void keep_only(const int fds[4])
{
	int v[4];
	memcpy(v, fds, sizeof v);
	for (int i = 1; i < 4; i++) /* sort */
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			int t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	unsigned lo = 3;
	for (int i = 0; i < 4; i++) {
		if (v[i] < 0)
			continue;
		if ((unsigned)v[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)v[i] - 1, 0);
		lo = (unsigned)v[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0u, 0);
}

/* The fallback of set_title(): the title written over our own argument
 * and environment strings (the environment copied first): when the last
 * byte of the arguments is no longer NUL, the kernel shows the one
 * string found there. Best effort. */
static void set_title_in_place(char *const argv[])
{
	extern char **environ;
	char buf[1024];
	unsigned long a[4];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* fields 48-51: arg_start .. env_end */
	for (int f = 2; p && f < 48; f++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%lu %lu %lu %lu", &a[0], &a[1], &a[2], &a[3]) != 4 ||
	    !(a[0] < a[1] && a[1] <= a[2] && a[2] <= a[3]))
		return;
	for (char **e = environ; e && *e; e++) {
		char *d = strdup(*e);
		if (!d)
			return;
		*e = d;
	}
	char *title = (char *)a[0];
	size_t room = a[3] - a[0], need = a[1] - a[0], o = 0;
	for (int i = 0; argv[i] && o + 1 < room; i++)
		o += (size_t)snprintf(title + o, room - o, "%s%s", i ? " " : "", argv[i]);
	if (o >= room)
		o = room - 1;
	while (o < need && o + 1 < room)
		title[o++] = ' '; /* past the old arguments' last NUL */
	title[o] = '\0';
	prctl(PR_SET_NAME, "fsgate", 0, 0, 0);
}

/* What ps and pgrep -f show: the command line it would have been exec'd
 * with. The kernel is pointed at a buffer of ours (PR_SET_MM, root's
 * CAP_SYS_RESOURCE): one page touched, where rewriting our argument and
 * environment strings, the way setproctitle(3) does it (the fallback),
 * costs a copy-on-write fault for each page the copies touch. */
static void set_title(char *const argv[])
{
	static char title[2048];
	size_t o = 0;
	for (int i = 0; argv[i]; i++) {
		size_t l = strlen(argv[i]) + 1;
		if (o + l > sizeof title)
			break;
		memcpy(title + o, argv[i], l); /* NUL-separated, as execve's */
		o += l;
	}
	/* the new range lies below the old one (.bss under the stack): the
	 * start first keeps start <= end at each step */
	if (o && prctl(PR_SET_MM, PR_SET_MM_ARG_START, (unsigned long)title, 0, 0) == 0 &&
	    prctl(PR_SET_MM, PR_SET_MM_ARG_END, (unsigned long)(title + o), 0, 0) == 0) {
		prctl(PR_SET_NAME, "fsgate", 0, 0, 0);
		return;
	}
	set_title_in_place(argv);
}

/* fsgate --serve, detached from us: a new session, its own cgroup, no
 * death signal. It is our child (one clone, not a double fork: each
 * fork of the launcher costs ~1 ms here), reaped by remove_cgroup() or,
 * when it outlives us, by whoever inherits it. It gets the mount, the
 * listening socket and our connection: we never wait for it to start.
 * fds: fuse, mnt, listen, first. Returns its pid or -errno. */
static pid_t spawn(const struct cg_fsgate *g, const struct cg_fsgate_how *h, uint64_t k,
		   const int fds[4])
{
	/* it runs in / : relative names (capgate exec --policy policies) are ours */
	char pol[PATH_MAX], bin[PATH_MAX];
	if (!realpath(h->policy, pol) || !realpath(h->fsgate, bin))
		return -errno;
	char cg[64];
	snprintf(cg, sizeof cg, "%s/fsgate-%016llx", CG_DIR, (unsigned long long)k);
	cg_mkdir(h->cgroot, CG_DIR);
	cg_mkdir(h->cgroot, cg);
	char cgpath[PATH_MAX + 64];
	snprintf(cgpath, sizeof cgpath, "%s/%s", h->cgroot, cg);
	int cgfd = open(cgpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* born in its cgroup (no migration), else moved there */
	struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .cgroup = (uint64_t)cgfd,
				 .exit_signal = SIGCHLD };
	pid_t pid = cgfd >= 0 ? (pid_t)syscall(SYS_clone3, &ca, sizeof ca) : -1;
	bool placed = pid >= 0;
	if (pid < 0)
		pid = fork();
	if (pid < 0) {
		int e = errno;
		if (cgfd >= 0)
			close(cgfd);
		return -e;
	}
	if (pid == 0) {
		if (!placed)
			cg_move(h->cgroot, cg, getpid());
		setsid();
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		char num[4][16], linger[32], inst[PATH_MAX + 16];
		if (chdir("/") < 0)
			_exit(1);
		for (int i = 0; i < 4; i++) {
			fcntl(fds[i], F_SETFD, 0);
			snprintf(num[i], sizeof num[i], "%d", fds[i]);
		}
		snprintf(linger, sizeof linger, "%g", h->linger);
		snprintf(inst, sizeof inst, "%s/%s", h->cgroot, CG_DIR);
		/* It outlives us: it must not hold our caller's output open
		 * (a $(capgate exec ...) would wait for it). Its errors go to
		 * our stderr only with CAPGATE_DEBUG; else its end shows as
		 * "fsgate exited" in the launcher. */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			if (!getenv("CAPGATE_DEBUG"))
				dup2(null, 2);
		}
		char *av[] = { bin, "--serve", (char *)g->sock, "--policy", pol, "--cache",
			       (char *)h->cache, "--instances", inst, "--linger", linger,
			       "--fuse-fd", num[0], "--mount-fd", num[1], "--listen-fd", num[2],
			       "--first-fd", num[3], NULL };
		if (h->fork) {
			/* our own copy of fsgate's code: no exec, no dynamic
			 * loading, ~1-2 ms sooner at its first request */
			keep_only(fds);
			set_title(av);
			_exit(fsg_main_with((int)(sizeof av / sizeof av[0]) - 1, av, h->pol));
		}
		execv(bin, av);
		_exit(127);
	}
	if (cgfd >= 0)
		close(cgfd);
	return pid;
}

/* No daemon yet: make its mount, socket and our connection, and start it. */
static int start(struct cg_fsgate *g, const struct cg_fsgate_how *h, uint64_t k)
{
	int fds[4] = { -1, -1, -1, -1 }, pair[2] = { -1, -1 }, r;
	collect(h->cgroot);
	if ((fds[0] = open("/dev/fuse", O_RDWR | O_CLOEXEC)) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = fds[1] = fsg_mount_detached(fds[0])) < 0 || (r = fds[2] = seqpacket(g->sock, true)) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		r = -errno;
		goto out;
	}
	fds[3] = pair[1];
	g->mnt = (int)syscall(SYS_open_tree, fds[1], "",
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (g->mnt < 0) {
		r = -errno;
		goto out;
	}
	pid_t pid = spawn(g, h, k, fds);
	if (pid < 0) {
		r = pid;
		goto out;
	}
	g->pid = pid;
	g->ours = true;
	g->conn = pair[0];
	pair[0] = -1;
	r = 0;
out:
	if (r < 0 && fds[2] >= 0)
		unlink(g->sock);
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (pair[0] >= 0)
		close(pair[0]);
	if (r < 0 && g->mnt >= 0) {
		close(g->mnt);
		g->mnt = -1;
	}
	return r;
}

int cg_fsgate_begin(struct cg_fsgate *g, const struct cg_fsgate_how *h)
{
	uint64_t k = key(h);
	g->conn = g->mnt = -1;
	g->pid = 0;
	g->ours = false;
	g->unconfirmed = false;
	mkdir(RUN_DIR, 0700);
	snprintf(g->sock, sizeof g->sock, RUN_DIR "/fsgate-%016llx.sock", (unsigned long long)k);
	snprintf(g->key, sizeof g->key, "%016llx", (unsigned long long)k);
	snprintf(g->cgroot, sizeof g->cgroot, "%s", h->cgroot);
	g->lock = open(LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (g->lock < 0 || flock(g->lock, LOCK_EX) < 0) {
		int e = errno;
		if (g->lock >= 0)
			close(g->lock);
		g->lock = -1;
		return -e;
	}
	g->conn = seqpacket(g->sock, false);
	int r = g->conn >= 0 ? 0 : start(g, h, k); /* none, or a dead one's socket */
	/* connected (or listening for the one we started): a daemon that
	 * ends from now on sees us waiting */
	close(g->lock);
	g->lock = -1;
	return r;
}

int cg_fsgate_register(struct cg_fsgate *g, const char *cgrel, const char *profile,
		       bool complain, int logfd, const uint8_t digest[32], char *err,
		       size_t errlen)
{
	char text[1024], hex[65], ans[256];
	int r;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	snprintf(text, sizeof text, "cgroup=%s\nprofile=%s\ncomplain=%d\npolicy=%s\n", cgrel,
		 profile, complain ? 1 : 0, hex);
	if ((r = fdpass_send(g->conn, text, strlen(text), logfd, 0)) < 0) {
		snprintf(err, errlen, "fsgate registration: %s", strerror(-r));
		return -1;
	}
	if (g->mnt >= 0) {
		/* the fsgate we started reads this before it serves a request
		 * (and refuses everything to the instance if it refuses it);
		 * its answer is read by cg_fsgate_confirm() */
		int m = g->mnt;
		g->mnt = -1;
		g->unconfirmed = true;
		return m;
	}
	int mnt;
	ssize_t n = fdpass_recv(g->conn, ans, sizeof ans - 1, &mnt, 0);
	ans[n > 0 ? n : 0] = '\0';
	int pid = 0;
	if (n <= 0 || sscanf(ans, "ok %d", &pid) != 1 || pid <= 0 || mnt < 0) {
		snprintf(err, errlen, "fsgate refused the instance: %s",
			 n > 0 ? ans : "no answer");
		if (mnt >= 0)
			close(mnt);
		return -1;
	}
	g->pid = pid; /* not SO_PEERCRED: that names whoever listened */
	return mnt;
}

int cg_fsgate_confirm(struct cg_fsgate *g, char *err, size_t errlen)
{
	char ans[256];
	if (!g->unconfirmed)
		return 0;
	g->unconfirmed = false;
	struct pollfd p = { .fd = g->conn, .events = POLLIN };
	ssize_t n = poll(&p, 1, 10000) == 1 ? recv(g->conn, ans, sizeof ans - 1, 0) : -1;
	ans[n > 0 ? n : 0] = '\0';
	int pid;
	if (n > 0 && sscanf(ans, "ok %d", &pid) == 1)
		return 0;
	snprintf(err, errlen, "fsgate refused the instance: %s", n > 0 ? ans : "no answer");
	return -1;
}

/* The daemon said "bye": once it is gone, its cgroup goes too. */
static void remove_cgroup(struct cg_fsgate *g)
{
	char p[PATH_MAX + 96];
	int pfd = (int)syscall(SYS_pidfd_open, g->pid, 0);
	struct pollfd q = { .fd = pfd, .events = POLLIN };
	if (pfd >= 0) {
		poll(&q, 1, 2000);
		close(pfd);
	}
	if (g->ours) /* it exited: reap it */
		waitpid(g->pid, NULL, WNOHANG);
	snprintf(p, sizeof p, "%s/%s/fsgate-%s", g->cgroot, CG_DIR, g->key);
	rmdir(p);
	snprintf(p, sizeof p, "%s/%s", g->cgroot, CG_DIR);
	rmdir(p); /* EBUSY while instances live */
}

void cg_fsgate_leave(struct cg_fsgate *g)
{
	if (g->mnt >= 0)
		close(g->mnt);
	if (g->lock >= 0)
		close(g->lock);
	g->mnt = g->lock = -1;
	if (g->conn >= 0 && g->pid > 0 && !g->left)
		shutdown(g->conn, SHUT_WR);
	g->left = true;
}

void cg_fsgate_end(struct cg_fsgate *g)
{
	cg_fsgate_leave(g);
	if (g->conn >= 0 && g->pid > 0) {
		/* The daemon forgets us, and when we were its last instance
		 * (and it does not linger) it ends before it lets go: wait for
		 * that, briefly, so that nothing of ours outlives us. */
		char bye[8] = "";
		struct pollfd p = { .fd = g->conn, .events = POLLIN };
		if (poll(&p, 1, 2000) > 0 && recv(g->conn, bye, sizeof bye - 1, MSG_DONTWAIT) > 0 &&
		    strcmp(bye, "bye") == 0)
			remove_cgroup(g);
	}
	if (g->conn >= 0)
		close(g->conn);
	g->mnt = g->lock = g->conn = -1;
}

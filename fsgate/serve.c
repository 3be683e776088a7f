/* serve.c: the shared fsgate (--serve), one daemon for many launchers.
 *
 * One FUSE mount of /, made detached (fsopen/fsmount: it is in no mount
 * table), serves every `capgate exec` instance of one policy, so the
 * kernel's dentry, attribute and page caches of the mount outlive each
 * program. The launcher that starts fsgate makes the mount, the listening
 * socket and a first connection, and hands them over (--fuse-fd,
 * --mount-fd, --listen-fd, --first-fd): it never waits for fsgate to
 * start, and fsgate knows that launcher's instance before it serves a
 * request. Later launchers connect to SOCKET (SOCK_SEQPACKET, root only)
 * and send one registration:
 *   "cgroup=/capgate/<id>\nprofile=NAME\ncomplain=0|1\n" [+ log fd]
 * and gets "ok PID" with a clone of the mount (open_tree OPEN_TREE_CLONE),
 * which it moves into the sandbox's mount namespace; or "error: why".
 * The instance lives as long as that connection: when the launcher closes
 * it, or dies, the instance's cgroup gets nothing more from fsgate
 * (caller.c), and once no launcher is left, fsgate waits --linger seconds
 * and ends, removing SOCKET and its own cgroup. Ending takes fsgate.lock
 * in SOCKET's directory, the lock a launcher holds while it connects or
 * starts a daemon, so a launcher never registers with a daemon that is
 * going away.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/mount.h>

#include "fdpass.h"
#include "sysfile.h"
#include "fsg.h"

/* Seconds a dead instance's slot stays readable (a request resolved to it
 * logs within microseconds), and how often slots are freed: the table (256)
 * holds the instances of the last ~12 s. */
#define DEAD_GRACE 10.0
#define SWEEP_EVERY 2.0

int fsg_mount_detached(int fusefd)
{
	char fd[16];
	snprintf(fd, sizeof fd, "%d", fusefd);
	int c = (int)syscall(SYS_fsopen, "fuse", FSOPEN_CLOEXEC);
	if (c < 0)
		return -errno;
	const char *kv[][2] = {
		{ "source", "fsgate" }, { "subtype", "fsgate" }, { "fd", fd },
		{ "rootmode", "40000" }, { "user_id", "0" }, { "group_id", "0" },
	};
	int r = 0;
	for (size_t i = 0; r == 0 && i < sizeof kv / sizeof kv[0]; i++)
		r = (int)syscall(SYS_fsconfig, c, FSCONFIG_SET_STRING, kv[i][0], kv[i][1], 0);
	/* the kernel checks permissions with each caller's credentials */
	if (r == 0)
		r = (int)syscall(SYS_fsconfig, c, FSCONFIG_SET_FLAG, "default_permissions", NULL, 0);
	if (r == 0)
		r = (int)syscall(SYS_fsconfig, c, FSCONFIG_SET_FLAG, "allow_other", NULL, 0);
	if (r == 0)
		r = (int)syscall(SYS_fsconfig, c, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
	int m = r == 0 ? (int)syscall(SYS_fsmount, c, FSMOUNT_CLOEXEC,
				     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) : -1;
	int e = errno;
	close(c);
	return m >= 0 ? m : -e;
}

struct conn {
	int fd;
	struct fsg_inst *in; /* NULL until registered */
	bool handed;         /* --first-fd: its launcher made the mount */
};

struct ctl {
	struct fsg *fs;
	int lfd, mntfd;
	struct conn c[FSG_MAX_INST];
	unsigned nlive;
	double idle_since; /* when nlive became 0 */
	bool draining;     /* the policy changed: no new instances */
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void reply(int fd, const char *text, int passfd)
{
	fdpass_send(fd, text, strlen(text), passfd, MSG_DONTWAIT);
}

/* The value of "key=" in a registration, copied into out. */
static bool field(const char *msg, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);
	for (const char *l = msg; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != '\0')) {
		if (strncmp(l, key, kl) != 0 || l[kl] != '=')
			continue;
		size_t n = strcspn(l + kl + 1, "\n");
		if (n == 0 || n >= len)
			return false;
		memcpy(out, l + kl + 1, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

/* Which profile a registration asks for, or NULL with *err set. */
static const struct profile *check(struct ctl *k, const char *msg, char *cg, size_t cglen,
				   const char **err)
{
	struct fsg *fs = k->fs;
	char prof[256], want[65], have[65];
	size_t rl = strlen(fs->o.inst_root);
	*err = "error: malformed registration";
	if (!field(msg, "cgroup", cg, cglen) || !field(msg, "profile", prof, sizeof prof))
		return NULL;
	*err = "error: cgroup not an instance";
	if (strncmp(cg, fs->o.inst_root, rl) != 0 || cg[rl] != '/' || strchr(cg + rl + 1, '/') ||
	    strstr(cg, "/.") || strlen(cg) + 4 > cglen)
		return NULL;
	const uint8_t *dg = policy_digest(fs->pol);
	for (int i = 0; i < 32; i++)
		snprintf(have + 2 * i, 3, "%02x", dg[i]);
	if (k->draining || !field(msg, "policy", want, sizeof want) || strcmp(want, have) != 0) {
		/* The policy changed since we compiled it: end once our
		 * instances are gone; the next launcher starts a new fsgate. */
		if (!k->draining)
			unlink(fs->o.serve);
		k->draining = true;
		*err = "error: fsgate runs an older version of the policy";
		return NULL;
	}
	*err = "error: no such profile in fsgate's policy";
	return policy_find(fs->pol, prof);
}

/* A registration: a new live instance, or an error text. logfd (or -1:
 * syslog) is ours either way. */
static const char *enroll(struct ctl *k, struct conn *cn, const char *msg, int logfd)
{
	struct fsg *fs = k->fs;
	char cg[256], cmp[8];
	const char *err;
	const struct profile *pr = check(k, msg, cg, sizeof cg, &err);
	struct fsg_inst *in = pr ? calloc(1, sizeof *in) : NULL;
	if (pr && !in)
		err = "error: out of memory";
	if (in && !(in->audit = audit_sink_open_fd(logfd, fs->o.log_burst)))
		err = "error: cannot open the log";
	if (!in || !in->audit) {
		free(in);
		if (logfd >= 0)
			close(logfd);
		return err;
	}
	snprintf(in->cgroup, sizeof in->cgroup, "%s", cg);
	in->prof = pr;
	in->complain = field(msg, "complain", cmp, sizeof cmp) && strcmp(cmp, "1") == 0;
	in->live = true;
	pthread_rwlock_wrlock(&fs->imu);
	unsigned i;
	for (i = 0; i < FSG_MAX_INST && fs->insts[i]; i++)
		if (fs->insts[i]->live && strcmp(fs->insts[i]->cgroup, cg) == 0)
			break;
	bool dup = i < FSG_MAX_INST && fs->insts[i];
	if (!dup && i < FSG_MAX_INST)
		fs->insts[i] = in;
	pthread_rwlock_unlock(&fs->imu);
	if (dup || i == FSG_MAX_INST) {
		audit_sink_close(in->audit); /* closes logfd */
		free(in);
		return dup ? "error: cgroup already registered" : "error: too many instances";
	}
	cn->in = in;
	k->nlive++;
	return NULL;
}

static bool try_end(struct ctl *k, struct conn *waiting);

static void drop(struct ctl *k, struct conn *cn)
{
	if (cn->in) {
		pthread_rwlock_wrlock(&k->fs->imu);
		cn->in->live = false;
		cn->in->dead_at = now();
		pthread_rwlock_unlock(&k->fs->imu);
		if (--k->nlive == 0)
			k->idle_since = now();
		unsigned open = 0;
		for (unsigned i = 0; i < FSG_MAX_INST; i++)
			open += k->c[i].fd >= 0;
		/* Without --linger, end while the last launcher still waits
		 * on its connection: when it returns, nothing of ours is left. */
		if (k->nlive == 0 && open == 1 && k->fs->o.linger <= 0)
			try_end(k, cn);
	}
	close(cn->fd);
	cn->fd = -1;
	cn->in = NULL;
	cn->handed = false;
}

/* Free the slots of instances dead for long: no request can still be
 * between resolving its caller to them and logging. */
static void sweep(struct ctl *k)
{
	struct fsg *fs = k->fs;
	struct fsg_inst *gone[FSG_MAX_INST];
	unsigned n = 0;
	double t = now();
	pthread_rwlock_wrlock(&fs->imu);
	for (unsigned i = 0; i < FSG_MAX_INST; i++) {
		struct fsg_inst *in = fs->insts[i];
		if (in && !in->live && t - in->dead_at > DEAD_GRACE) {
			gone[n++] = in;
			fs->insts[i] = NULL;
		}
	}
	/* keep the table dense: enroll() stops at the first empty slot */
	unsigned j = 0;
	for (unsigned i = 0; i < FSG_MAX_INST; i++)
		if (fs->insts[i])
			fs->insts[j++] = fs->insts[i];
	for (; j < FSG_MAX_INST; j++)
		fs->insts[j] = NULL;
	pthread_rwlock_unlock(&fs->imu);
	for (unsigned i = 0; i < n; i++) {
		audit_sink_close(gone[i]->audit);
		free(gone[i]);
	}
}

static void handle(struct ctl *k, struct conn *cn)
{
	char msg[1024];
	int logfd;
	ssize_t n = fdpass_recv(cn->fd, msg, sizeof msg - 1, &logfd, MSG_DONTWAIT);
	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n <= 0 || cn->in) { /* gone, or talking after registering */
		if (logfd >= 0)
			close(logfd);
		drop(k, cn);
		return;
	}
	msg[n] = '\0';
	const char *err = enroll(k, cn, msg, logfd); /* takes logfd */
	if (err) {
		reply(cn->fd, err, -1);
		drop(k, cn);
		return;
	}
	/* "ok <our pid>": the connection's SO_PEERCRED names whoever listened,
	 * which is the launcher that started us */
	char ok[32];
	snprintf(ok, sizeof ok, "ok %d", (int)getpid());
	if (cn->handed) {
		reply(cn->fd, ok, -1);
		return;
	}
	int clone = (int)syscall(SYS_open_tree, k->mntfd, "",
				 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (clone < 0) {
		char e[128];
		snprintf(e, sizeof e, "error: cannot clone the mount: %s", strerror(errno));
		reply(cn->fd, e, -1);
		drop(k, cn);
		return;
	}
	reply(cn->fd, ok, clone);
	close(clone);
}

/* The launcher that started us: its registration, first. */
static void handle_first(struct ctl *k, struct conn *cn)
{
	struct pollfd p = { .fd = cn->fd, .events = POLLIN };
	if (poll(&p, 1, 10000) <= 0) {
		drop(k, cn);
		return;
	}
	handle(k, cn);
}

/* Is process `pid` in a sandbox (a cgroup under --instances other than
 * an fsgate's own)? A confined root process that could reach our socket
 * must not register instances: only launchers, which stay outside. */
static bool in_sandbox(const struct fsg *fs, pid_t pid)
{
	char path[64], text[1024];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	if (read_small_file(path, text, sizeof text) < 0)
		return true; /* cannot tell: refuse */
	size_t len, rl = strlen(fs->o.inst_root);
	const char *cg = fsg_cgroup_v2_path(text, &len);
	if (!cg)
		return false; /* no cgroup v2 line: not one of our cgroups */
	return len > rl + 1 && strncmp(cg, fs->o.inst_root, rl) == 0 && cg[rl] == '/' &&
	       strncmp(cg + rl + 1, "fsgate-", 7) != 0;
}

static void accept_one(struct ctl *k)
{
	int fd = accept4(k->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct ucred uc;
	socklen_t ul = sizeof uc;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0 || uc.uid != 0 ||
	    in_sandbox(k->fs, uc.pid)) {
		close(fd);
		return;
	}
	for (unsigned i = 0; i < FSG_MAX_INST; i++)
		if (k->c[i].fd < 0) {
			k->c[i].fd = fd;
			return;
		}
	reply(fd, "error: too many instances", -1);
	close(fd);
}

/* Leave our own cgroup (the launcher made it under --instances) and
 * remove it, so that nothing of ours stays behind. */
static void leave_cgroup(struct fsg *fs)
{
	char text[1024], root[PATH_MAX], p[PATH_MAX + 300];
	if (read_small_file("/proc/self/cgroup", text, sizeof text) < 0)
		return;
	const char *cg = strstr(text, "0::");
	size_t rl = strlen(fs->o.inst_root);
	if (!cg || strncmp(cg + 3, fs->o.inst_root, rl) != 0 || cg[3 + rl] != '/')
		return;
	cg += 3;
	char self[300];
	snprintf(self, sizeof self, "%.*s", (int)strcspn(cg, "\n"), cg);
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256], mnt[PATH_MAX], type[64];
	root[0] = '\0';
	while (f && fscanf(f, "%255s %4095s %63s %*[^\n]", dev, mnt, type) == 3)
		if (strcmp(type, "cgroup2") == 0) {
			snprintf(root, sizeof root, "%s", mnt);
			break;
		}
	if (f)
		fclose(f);
	if (!root[0])
		return;
	snprintf(p, sizeof p, "%s/cgroup.procs", root);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	snprintf(p, sizeof p, "%s%s", root, self);
	rmdir(p);
	snprintf(p, sizeof p, "%s%s", root, fs->o.inst_root);
	rmdir(p); /* fails while instances live: theirs to remove */
}

/* No launcher for --linger seconds: end, unless one is connecting. The
 * last launcher, when it waits (`waiting`), is told "bye" and removes our
 * cgroup once we are gone: leaving it ourselves would cost a cgroup
 * migration (an RCU grace period) on its way out. */
static bool try_end(struct ctl *k, struct conn *waiting)
{
	char lock[PATH_MAX];
	const char *slash = strrchr(k->fs->o.serve, '/');
	snprintf(lock, sizeof lock, "%.*s/fsgate.lock",
		 slash ? (int)(slash - k->fs->o.serve) : 1, slash ? k->fs->o.serve : ".");
	int lk = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lk >= 0)
		flock(lk, LOCK_EX);
	struct pollfd p = { .fd = k->lfd, .events = POLLIN };
	if (poll(&p, 1, 0) > 0) {
		if (lk >= 0)
			close(lk);
		return false;
	}
	if (!k->draining) /* else the socket may be a newer fsgate's */
		unlink(k->fs->o.serve);
	close(k->lfd);
	if (waiting)
		reply(waiting->fd, "bye", -1);
	else
		leave_cgroup(k->fs);
	fsg_dump_counts();
	_exit(0); /* the lock goes with us; the mount with its last clone */
}

static void *ctl_main(void *arg)
{
	struct ctl *k = arg;
	/* The FUSE loop starts meanwhile: until the launcher's instance is
	 * in, its cgroup gets nothing (fail closed), and its program starts
	 * only after our answer; the sandbox's builder (outside any instance)
	 * is served at once. */
	if (k->c[0].handed)
		handle_first(k, &k->c[0]);
	double last_sweep = now();
	for (;;) {
		struct pollfd p[FSG_MAX_INST + 1];
		struct conn *who[FSG_MAX_INST + 1];
		unsigned n = 0;
		p[n] = (struct pollfd){ .fd = k->lfd, .events = POLLIN };
		who[n++] = NULL;
		for (unsigned i = 0; i < FSG_MAX_INST; i++)
			if (k->c[i].fd >= 0) {
				p[n] = (struct pollfd){ .fd = k->c[i].fd, .events = POLLIN };
				who[n++] = &k->c[i];
			}
		int timeout = (int)(SWEEP_EVERY * 1000);
		bool idle = k->nlive == 0 && n == 1;
		if (idle) {
			double left = k->idle_since + k->fs->o.linger - now();
			timeout = left <= 0 ? 0 : left < SWEEP_EVERY ? (int)(left * 1000) + 1 : timeout;
		}
		int r = poll(p, n, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0 && idle && now() >= k->idle_since + k->fs->o.linger) {
			if (!try_end(k, NULL))
				continue;
		}
		if (r > 0 && (p[0].revents & POLLIN))
			accept_one(k);
		for (unsigned i = 1; r > 0 && i < n; i++)
			if (p[i].revents && who[i]->fd >= 0)
				handle(k, who[i]);
		if (now() - last_sweep > SWEEP_EVERY) {
			sweep(k);
			last_sweep = now();
		}
	}
	fuse_session_exit(k->fs->se);
	return NULL;
}

int fsg_serve_start(struct fsg *fs, int mntfd)
{
	static struct ctl k;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(fs->o.serve) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, fs->o.serve);
	k.fs = fs;
	k.mntfd = mntfd;
	k.idle_since = now();
	for (unsigned i = 0; i < FSG_MAX_INST; i++)
		k.c[i].fd = -1;
	if (fs->o.listen_fd >= 0) {
		k.lfd = fs->o.listen_fd;
		fcntl(k.lfd, F_SETFL, O_NONBLOCK);
	} else {
		k.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (k.lfd < 0)
			return -errno;
		unlink(fs->o.serve); /* a dead daemon's */
		if (bind(k.lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
		    chmod(fs->o.serve, 0600) < 0 || listen(k.lfd, 64) < 0)
			return -errno;
	}
	if (fs->o.first_fd >= 0) {
		k.c[0].fd = fs->o.first_fd;
		k.c[0].handed = true;
	}
	pthread_t t;
	int r = pthread_create(&t, NULL, ctl_main, &k);
	if (r != 0)
		return -r;
	pthread_detach(t);
	return 0;
}

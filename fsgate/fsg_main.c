/* fsg_main.c: fsgate's command line and start (fsg_main(), fsg.h): the
 * fsgate binary's main, and the shared fsgate a launcher forks (it links
 * this library) without an exec. See fsgate(1) and fsg.h for the design. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsg.h"
#include "fsg_main.h"

static const char usage[] =
"usage: fsgate --policy DIR --profile NAME [options] SOURCE MOUNTPOINT\n"
"       fsgate --policy DIR --serve SOCKET --instances CGPATH [options]\n"
"\n"
"Mirrors SOURCE at MOUNTPOINT through FUSE and enforces the file rules of\n"
"AppArmor profile NAME (from the policy directory DIR) on every caller.\n"
"Denied operations fail with EACCES and log an AppArmor-format line.\n"
"\n"
"  --policy DIR       policy directory laid out like /etc/apparmor.d\n"
"  --profile NAME     the profile confining callers\n"
"  --cgroup CGPATH    confine by cgroup v2 (a directory under the cgroup2\n"
"                     mount, or a path as in /proc/PID/cgroup): callers in\n"
"                     CGPATH get NAME, callers in CGPATH/LABEL get profile\n"
"                     LABEL ('/' written %2f, '%' written %25), others pass\n"
"                     through. Without it every caller except fsgate is\n"
"                     confined by NAME. Unknown callers (pid 0, unreadable\n"
"                     /proc) get NAME: fail closed.\n"
"  --prefix P         prepended to paths for decisions (default: SOURCE;\n"
"                     the launcher passes / when mounting the sandbox root)\n"
"  --cache DIR        keep the compiled policy in DIR (a binary cache,\n"
"                     rebuilt whenever a file of the policy changes)\n"
"  --log FILE         append audit lines to FILE (default: syslog)\n"
"  --log-burst N      at most N audit lines a second, then one\n"
"                     'suppressed N' line (default 100, 0: no limit)\n"
"  --complain         log ALLOWED instead of denying\n"
"  --entry-timeout S  kernel name cache, seconds (default 1)\n"
"  --attr-timeout S   kernel attribute cache, seconds (default 1)\n"
"  --negative-timeout S  cache of absent names, seconds (default 1)\n"
"  --max-fds N        cached O_PATH fds (default 4096)\n"
"  --threads N        worker threads, started on demand (at most; default 8)\n"
"  -o OPTS            extra FUSE mount options (e.g. dev,suid)\n"
"  --serve SOCKET     shared mode (capgate exec): mirror / on a detached\n"
"                     mount; launchers register on the unix socket SOCKET\n"
"                     (their cgroup, profile, log, mode) and each gets a\n"
"                     clone of the mount. Callers are confined by the\n"
"                     instance whose cgroup holds them; other cgroups\n"
"                     under --instances get nothing; the rest pass through\n"
"  --instances CGPATH where the launchers' instance cgroups live\n"
"  --linger S         shared mode: end S seconds after the last launcher\n"
"                     left (default 0)\n"
"  --fuse-fd N --mount-fd N --listen-fd N --first-fd N\n"
"                     shared mode, from the launcher that starts fsgate:\n"
"                     /dev/fuse, its detached mount, SOCKET listening and\n"
"                     that launcher's connection (else fsgate makes them)\n"
"  -f                 stay in the foreground\n"
"  -d                 FUSE debug output (implies -f)\n"
"  -h, --help         this text\n"
"\n"
"MOUNTPOINT may be /dev/fd/N: an open /dev/fuse already mounted by the\n"
"launcher (capgate exec) inside the sandbox's mount namespace.\n"
"Permissions: r open for reading and listing (dir/), w writing, O_TRUNC,\n"
"create, mkdir, unlink, rmdir, rename (both names), setattr, xattr changes,\n"
"mknod, symlink; a O_APPEND writes only; k locks (and w for write locks);\n"
"l link(2) with the subset rule; x exec opens. Linux DAC applies on top,\n"
"checked by the kernel with the caller's own credentials.\n";

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("fsgate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

enum {
	OPT_POLICY = 256, OPT_PROFILE, OPT_CGROUP, OPT_PREFIX, OPT_LOG,
	OPT_BURST, OPT_COMPLAIN, OPT_ENTRY, OPT_ATTR, OPT_NEG, OPT_MAXFDS,
	OPT_THREADS, OPT_CACHE, OPT_SERVE, OPT_INSTANCES, OPT_LINGER, OPT_FUSEFD,
	OPT_MOUNTFD, OPT_LISTENFD, OPT_FIRSTFD,
};

static const struct option longopts[] = {
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "log-burst", required_argument, NULL, OPT_BURST },
	{ "complain", no_argument, NULL, OPT_COMPLAIN },
	{ "entry-timeout", required_argument, NULL, OPT_ENTRY },
	{ "attr-timeout", required_argument, NULL, OPT_ATTR },
	{ "negative-timeout", required_argument, NULL, OPT_NEG },
	{ "max-fds", required_argument, NULL, OPT_MAXFDS },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "serve", required_argument, NULL, OPT_SERVE },
	{ "instances", required_argument, NULL, OPT_INSTANCES },
	{ "linger", required_argument, NULL, OPT_LINGER },
	{ "fuse-fd", required_argument, NULL, OPT_FUSEFD },
	{ "mount-fd", required_argument, NULL, OPT_MOUNTFD },
	{ "listen-fd", required_argument, NULL, OPT_LISTENFD },
	{ "first-fd", required_argument, NULL, OPT_FIRSTFD },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static double num(const char *s, const char *what, double max)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > max)
		die("bad %s: %s", what, s);
	return v;
}

static void parse_opts(int argc, char **argv, struct fsg_opts *o)
{
	int c;
	o->entry_timeout = o->attr_timeout = o->negative_timeout = 1.0;
	o->max_fds = 4096;
	o->log_burst = 100;
	o->max_threads = 8;
	o->fuse_fd = o->mount_fd = o->listen_fd = o->first_fd = -1;
	optind = 0; /* a forked launcher has parsed its own command line */
	while ((c = getopt_long(argc, argv, "fdho:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_POLICY: o->policy_dir = optarg; break;
		case OPT_CACHE: o->cache_dir = optarg; break;
		case OPT_PROFILE: o->profile = optarg; break;
		case OPT_CGROUP: o->cgroup = optarg; break;
		case OPT_PREFIX: o->prefix = optarg; break;
		case OPT_LOG: o->log = optarg; break;
		case OPT_BURST: o->log_burst = (unsigned)num(optarg, "--log-burst", 1e6); break;
		case OPT_COMPLAIN: o->complain = true; break;
		case OPT_ENTRY: o->entry_timeout = num(optarg, "--entry-timeout", 1e6); break;
		case OPT_ATTR: o->attr_timeout = num(optarg, "--attr-timeout", 1e6); break;
		case OPT_NEG: o->negative_timeout = num(optarg, "--negative-timeout", 1e6); break;
		case OPT_MAXFDS: o->max_fds = (unsigned)num(optarg, "--max-fds", 1e6); break;
		case OPT_THREADS: o->max_threads = (unsigned)num(optarg, "--threads", 1024); break;
		case OPT_SERVE: o->serve = optarg; break;
		case OPT_INSTANCES: o->inst_root = optarg; break;
		case OPT_LINGER: o->linger = num(optarg, "--linger", 1e6); break;
		case OPT_FUSEFD: o->fuse_fd = (int)num(optarg, "--fuse-fd", 1 << 20); break;
		case OPT_MOUNTFD: o->mount_fd = (int)num(optarg, "--mount-fd", 1 << 20); break;
		case OPT_LISTENFD: o->listen_fd = (int)num(optarg, "--listen-fd", 1 << 20); break;
		case OPT_FIRSTFD: o->first_fd = (int)num(optarg, "--first-fd", 1 << 20); break;
		case 'o': o->mount_opts = optarg; break;
		case 'f': o->foreground = true; break;
		case 'd': o->debug = o->foreground = true; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: fputs(usage, stderr); exit(2);
		}
	}
	if (o->max_fds < 16)
		o->max_fds = 16;
	if (o->max_threads < 2)
		o->max_threads = 2;
	if (o->serve) {
		if (argc != optind || !o->policy_dir || !o->inst_root)
			die("--serve takes --policy and --instances, and no SOURCE (see --help)");
		o->source = "/";
		o->mountpoint = NULL;
		return;
	}
	if (argc - optind != 2) {
		fputs(usage, stderr);
		exit(2);
	}
	if (!o->policy_dir || !o->profile)
		die("--policy and --profile are required (see --help)");
	o->source = argv[optind];
	o->mountpoint = argv[optind + 1];
}

/* CGPATH as /proc/PID/cgroup writes it: relative to the cgroup2 root. */
static const char *cgroup_rel(const char *cg)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256], mnt[PATH_MAX], type[64];
	static char rel[PATH_MAX];
	const char *out = NULL;
	if (!f)
		die("cannot read /proc/self/mounts: %s", strerror(errno));
	while (!out && fscanf(f, "%255s %4095s %63s %*[^\n]", dev, mnt, type) == 3) {
		size_t l = strlen(mnt);
		if (strcmp(type, "cgroup2") != 0 || strncmp(cg, mnt, l) != 0 ||
		    (cg[l] != '/' && cg[l] != '\0'))
			continue;
		snprintf(rel, sizeof rel, "/%s", cg[l] == '/' ? cg + l + 1 : "");
		out = rel;
	}
	fclose(f);
	if (!out && cg[0] != '/')
		die("--cgroup %s: not a path", cg);
	out = out ? out : cg; /* already relative to the cgroup2 root */
	static char norm[PATH_MAX];
	snprintf(norm, sizeof norm, "%s", out);
	size_t l = strlen(norm);
	while (l > 1 && norm[l - 1] == '/')
		norm[--l] = '\0';
	return norm;
}

static void load_policy(struct fsg *fs, struct policy *given)
{
	struct diags d = { 0 };
	int r = 0;
	if (given)
		fs->pol = given;
	else
		r = policy_load_dir(fs->o.policy_dir, fs->o.cache_dir, &d, &fs->pol);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s:%d:%d: %s: %s\n", d.v[i].file ? d.v[i].file : "?",
			d.v[i].line, d.v[i].col, d.v[i].warning ? "warning" : "error",
			d.v[i].msg ? d.v[i].msg : "");
	diags_free(&d);
	if (r < 0 || !fs->pol)
		die("cannot load policy %s: %s", fs->o.policy_dir, strerror(-r ? -r : EINVAL));
	if (fs->o.serve)
		return; /* each launcher names its profile */
	fs->solo.prof = policy_find(fs->pol, fs->o.profile);
	if (!fs->solo.prof)
		die("no profile '%s' in %s", fs->o.profile, fs->o.policy_dir);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fsg *fs = userdata;
	unsigned want = FUSE_CAP_ASYNC_READ | FUSE_CAP_POSIX_LOCKS |
			FUSE_CAP_FLOCK_LOCKS | FUSE_CAP_ATOMIC_O_TRUNC |
			FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
			FUSE_CAP_SPLICE_READ | FUSE_CAP_READDIRPLUS |
			FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_PARALLEL_DIROPS |
			FUSE_CAP_CACHE_SYMLINKS | FUSE_CAP_ASYNC_DIO;
	conn->want |= want & conn->capable;
	/* Never: opens must keep reaching the daemon (decisions bind there). */
	conn->want &= ~(FUSE_CAP_NO_OPEN_SUPPORT | FUSE_CAP_NO_OPENDIR_SUPPORT);
	/* No writeback cache: written-back pages reach us without their
	 * caller, and the kernel would need O_APPEND dropped from our fds
	 * (it appends itself), which would let an `a` file be overwritten. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* Page cache validity is decided at open (keep_cache when size and
	 * mtime did not change): auto_inval_data would drop the pages our own
	 * writes left, since the kernel stamps its own mtime on them. */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	/* The kernel clears setuid/setgid on write, truncate and chown in
	 * the caller's context, with the caller's CAP_FSETID, exactly as
	 * natively. With HANDLE_KILLPRIV (libfuse's default) that is left
	 * to us, and our own (root) truncate would keep them. */
	conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
	fs->o.no_push = getenv("FSGATE_NO_PUSH") != NULL; /* for measurements */
	if (getenv("FSGATE_NO_READDIRPLUS")) /* for measurements */
		conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
	/* POSIX ACLs of the source take part in the kernel's permission
	 * checks (default_permissions): an ACL can deny what the mode bits
	 * alone would grant. With them the umask is ours to apply (a default
	 * ACL replaces it); without, the kernel applies it before asking. */
	conn->want &= ~FUSE_CAP_DONT_MASK;
	if ((conn->capable & (FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK)) ==
	    (FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK)) {
		conn->want |= FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK;
		fs->acl = true;
	}
	conn->time_gran = 1;
}

static void op_destroy(void *userdata)
{
	(void)userdata;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static struct fuse_session *setup_session(struct fsg *fs, struct fuse_lowlevel_ops *ops)
{
	char fsname[PATH_MAX + 32], opts[PATH_MAX + 256];
	/* fsname may not hold a comma: libfuse would split the option. */
	snprintf(fsname, sizeof fsname, "fsgate:%s", fs->o.source);
	for (char *p = fsname; *p; p++)
		if (*p == ',' || *p == '\\')
			*p = '_';
	snprintf(opts, sizeof opts, "default_permissions,allow_other,fsname=%s,subtype=fsgate%s%s",
		 fsname, fs->o.mount_opts ? "," : "", fs->o.mount_opts ? fs->o.mount_opts : "");
	char *argv[] = { "fsgate", "-o", opts, fs->o.debug ? "-d" : NULL, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(fs->o.debug ? 4 : 3, argv);
	struct fuse_session *se = fuse_session_new(&args, ops, sizeof *ops, fs);
	if (!se)
		die("cannot create the FUSE session");
	if (fuse_set_signal_handlers(se) != 0)
		die("cannot set signal handlers");
	if (fuse_session_mount(se, fs->o.mountpoint) != 0)
		die("cannot mount on %s", fs->o.mountpoint);
	fs->se = se;
	if (fsg_pass_setup(fs) != 0)
		die("cannot set up the FUSE session's io");
	return se;
}

int fsg_main(int argc, char **argv)
{
	return fsg_main_with(argc, argv, NULL);
}

int fsg_main_with(int argc, char **argv, struct policy *given)
{
	static struct fsg fs; /* the FUSE userdata: all state lives here */
	struct fuse_lowlevel_ops ops;
	char src[PATH_MAX];

	parse_opts(argc, argv, &fs.o);
	if (!realpath(fs.o.source, src))
		die("%s: %s", fs.o.source, strerror(errno));
	fs.o.source = src;
	/* A mount point inside SOURCE would mirror fsgate into itself: its
	 * own lookups would come back to it. The launcher mounts in another
	 * mount namespace (/dev/fd/N), where this cannot happen. */
	char mnt[PATH_MAX], fusedev[32];
	size_t sl = strlen(src);
	int mntfd = -1;
	if (fs.o.serve) {
		int fusefd = fs.o.fuse_fd;
		mntfd = fs.o.mount_fd;
		if ((fusefd < 0) != (mntfd < 0))
			die("--fuse-fd and --mount-fd go together");
		if (fusefd < 0 && (fusefd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) < 0)
			die("cannot open /dev/fuse: %s", strerror(errno));
		if (mntfd < 0 && (mntfd = fsg_mount_detached(fusefd)) < 0)
			die("cannot make the FUSE mount: %s", strerror(-mntfd));
		int own[] = { fusefd, mntfd, fs.o.listen_fd, fs.o.first_fd };
		for (int i = 0; i < 4; i++)
			if (own[i] >= 0 && fcntl(own[i], F_SETFD, FD_CLOEXEC) < 0)
				die("fd %d: %s", own[i], strerror(errno));
		snprintf(fusedev, sizeof fusedev, "/dev/fd/%d", fusefd);
		fs.o.mountpoint = fusedev;
		fs.o.prefix = "/";
		fs.o.foreground = true;
		fs.o.inst_root = cgroup_rel(fs.o.inst_root);
	} else if (strncmp(fs.o.mountpoint, "/dev/fd/", 8) != 0 &&
		   realpath(fs.o.mountpoint, mnt)) {
		if (strcmp(src, "/") == 0 ||
		    (strncmp(mnt, src, sl) == 0 && (mnt[sl] == '/' || mnt[sl] == '\0')))
			die("MOUNTPOINT %s is inside SOURCE %s: fsgate would serve itself "
			    "(mount it from another mount namespace, as capgate exec does)",
			    mnt, src);
		/* absolute: libfuse moves us to / (fuse_daemonize), and a
		 * relative name would fail the unmount at the end, leaving a
		 * dead mount behind */
		fs.o.mountpoint = mnt;
	}
	if (!fs.o.prefix)
		fs.o.prefix = src;
	if (fs.o.prefix[0] != '/')
		die("--prefix must be absolute");
	static char prefix[PATH_MAX];
	snprintf(prefix, sizeof prefix, "%s", fs.o.prefix);
	size_t pl = strlen(prefix);
	while (pl > 1 && prefix[pl - 1] == '/')
		prefix[--pl] = '\0';
	fs.o.prefix = prefix;
	fs.prefix_len = pl;
	if (fs.o.cgroup)
		fs.o.cgroup = cgroup_rel(fs.o.cgroup);
	load_policy(&fs, given);
	if (fs.o.cgroup)
		snprintf(fs.solo.cgroup, sizeof fs.solo.cgroup, "%s", fs.o.cgroup);
	fs.solo.complain = fs.o.complain;
	fs.solo.live = true;
	pthread_rwlock_init(&fs.imu, NULL);
	if (!fs.o.serve) {
		fs.solo.audit = audit_sink_open(fs.o.log, fs.o.log_burst);
		if (!fs.solo.audit)
			die("cannot open log %s: %s", fs.o.log ? fs.o.log : "(syslog)",
			    strerror(errno));
	}
	raise_nofile();
	umask(0); /* workers set their own (fsg_umask) */
	fs.self = getpid();
	fs.uid = geteuid();
	fs.gid = getegid();
	int rootfd = open(src, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		die("%s: %s", src, strerror(errno));
	if (fsg_nodes_init(&fs, rootfd) < 0)
		die("out of memory");

	memset(&ops, 0, sizeof ops);
	ops.init = op_init;
	ops.destroy = op_destroy;
	fsg_ops_entry(&ops);
	fsg_ops_file(&ops);
	fsg_ops_dir(&ops);

	struct fuse_session *se = setup_session(&fs, &ops);
	fs.se = se;
	if (fuse_daemonize(fs.o.foreground) != 0)
		die("cannot daemonize");
	fs.self = getpid();
	if (fs.o.serve && (errno = -fsg_serve_start(&fs, mntfd)) != 0)
		die("cannot serve on %s: %m", fs.o.serve);
	if (fs.o.serve && fs.o.linger > 0)
		fsg_watch_start(&fs); /* best effort, see watch.c */
	int r = fsg_loop(&fs, fs.o.max_threads);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	if (fs.solo.audit)
		audit_sink_close(fs.solo.audit);
	policy_free(fs.pol);
	return r < 0 ? 1 : 0;
}

/* fsg.h: fsgate's shared state, node table and decision helpers.
 *
 * fsgate mirrors SOURCE through FUSE's low-level API and decides every
 * operation with the compiled profile of the calling process. Nodes are
 * keyed by (parent node, name), not by (dev, ino): AppArmor decides on the
 * path the kernel resolved, and a hard link's two names are two paths, so
 * each name gets its own FUSE inode (st_ino stays the source's, so programs
 * still see one file with nlink 2).
 */
#ifndef FSGATE_FSG_H
#define FSGATE_FSG_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "audit.h"
#include "policy.h"
#include "fsgate/fsg_mount.h"

#define FSG_PATH_MAX 4096 /* decision paths longer than this are refused */

struct fsg_opts {
	const char *policy_dir;
	const char *cache_dir; /* --cache: compiled policy cache, or NULL */
	const char *profile;
	const char *cgroup;  /* cgroup v2 path relative to the cgroup2 root, or NULL */
	const char *log;     /* audit log file, NULL: syslog */
	const char *prefix;  /* prepended to paths for decisions */
	const char *source;  /* canonical SOURCE */
	const char *mountpoint;
	const char *mount_opts; /* extra -o options for the mount */
	const char *serve;   /* --serve SOCKET: shared daemon (serve.c), or NULL */
	const char *inst_root; /* --instances CGPATH: where instances' cgroups live */
	double linger;       /* --linger S: idle time before a shared daemon ends */
	/* handed over by the launcher that starts a shared fsgate, or -1 */
	int fuse_fd, mount_fd, listen_fd, first_fd;
	bool complain, foreground, debug;
	bool no_push; /* FSGATE_NO_PUSH=1, for measurements (read once) */
	double entry_timeout, attr_timeout, negative_timeout;
	unsigned max_fds;   /* bound on cached O_PATH fds */
	unsigned log_burst; /* audit lines per second */
	unsigned max_threads;
};

/* A lock owner's private open file description: POSIX locks belong to a
 * process (FUSE's lock_owner); OFD locks on one description per owner give
 * the same conflicts and are dropped when the owner closes (flush). */
struct fsg_lockfd {
	uint64_t owner;
	int fd;
	struct fsg_lockfd *next;
};

struct fsg_node {
	struct fsg_node *parent; /* counted in parent->nchild; NULL for root */
	char *name;              /* last component; "" for root */
	struct fsg_node *hnext;  /* (parent, name) hash chain */
	struct fsg_node *inext;  /* (dev, ino) chain: the other names of a file */
	struct fsg_node *lru_prev, *lru_next; /* nodes holding a cached fd */
	struct file_handle *fh;  /* NULL: reopen through parent + name */
	dev_t dev;
	ino_t ino;
	mode_t type;             /* S_IFMT bits */
	bool hashed;
	int mnt;                 /* index in fsg.mounts, -1 without a handle */
	int fd;                  /* cached O_PATH fd or -1; protected by fs->mu */
	uint64_t nlookup;        /* the kernel's references */
	uint64_t nchild;         /* children pointing here */
	unsigned users;          /* operations in flight holding fd */
	struct fsg_lockfd *locks; /* protected by fs->mu */
	/* keep_cache: the size and mtime seen at the last open */
	struct timespec open_mtime;
	off_t open_size;
	/* the version (mtime, size) last pushed into the page cache */
	struct timespec push_mtime;
	off_t push_size;
	/* files open for writing (or being truncated) through this node, and
	 * a push of its content in progress: the two exclude each other */
	unsigned writers;
	bool pushing;
	/* passthrough (pass.c): the backing id its passed-through opens
	 * share (the kernel wants one per inode), and how many hold it;
	 * under mu */
	int backing;
	unsigned nback;
	/* a directory listed, then whose children were looked up one by one
	 * (a stat walk: ls -l, du): its listings carry every entry's
	 * attributes (ops_dir.c) */
	bool listed, stat_walked;
};

/* Who a confined caller is: an instance of the launcher (a cgroup, its
 * default profile, its log and mode). A standalone fsgate has one, from its
 * options; a shared one (serve.c) one per registered launcher. */
struct fsg_inst {
	char cgroup[256];     /* relative to the cgroup2 root; "" in solo: all */
	const struct profile *prof;
	struct audit_sink *audit;
	bool complain;
	bool live;            /* its launcher is connected */
	double dead_at;       /* when it stopped being live (CLOCK_MONOTONIC) */
};

#define FSG_MAX_INST 256
#define FSG_MAX_MOUNTS 256

struct fsg {
	struct fsg_opts o;
	struct policy *pol;
	struct fsg_inst solo;       /* standalone: --profile, --cgroup, --log */
	/* shared (--serve): registered instances; slots of dead ones are
	 * freed only long after (serve.c), so a request that resolved to one
	 * can still log through it */
	pthread_rwlock_t imu;
	struct fsg_inst *insts[FSG_MAX_INST];
	struct fuse_session *se;
	pid_t self;
	size_t prefix_len;
	struct fsg_node root;
	bool handles; /* name_to_handle_at/open_by_handle_at usable */
	bool acl;     /* POSIX ACLs negotiated: the caller's umask is ours to apply */
	int fuse_fd;  /* /dev/fuse */
	uint64_t init_unique;  /* the INIT request */
	uint64_t init_offered; /* its flags (passthrough: when we may take it) */
	bool passthrough; /* negotiated (pass.c) */
	bool uring;       /* FUSE over io_uring negotiated (uring.c) */
	uid_t uid;    /* our own fsuid and fsgid: what we create is theirs */
	gid_t gid;
	unsigned lock_waiters; /* threads waiting for a lock; atomic */

	pthread_mutex_t mu;
	pthread_cond_t pushed; /* a push ended (fsg_push_mark) */
	/* protected by mu */
	struct fsg_node **htab;
	struct fsg_node **itab;  /* by (dev, ino) */
	size_t hsize, hcount;
	size_t isize, icount;
	struct fsg_node lru; /* sentinel: lru.lru_next is the most recent */
	unsigned nfds;
	struct { int mnt_id; int fd; } mounts[FSG_MAX_MOUNTS];
	int nmounts;
};

/* ---- node.c ---- */
int fsg_nodes_init(struct fsg *fs, int rootfd);
struct fsg_node *fsg_node(struct fsg *fs, fuse_ino_t ino);
/* Lookup (parent, name) at the source: the node, with nlookup+1 and st
 * filled. Returns 0 or -errno. */
int fsg_lookup(struct fsg *fs, struct fsg_node *parent, const char *name,
	       struct stat *st, struct fsg_node **out);
/* light (LOOKUP, readdirplus): a new node costs one fstatat(); it gets an
 * fd (by parent + name, identity checked) and a file handle when first
 * used. Most looked-up names are only stat'ed (make, git, find). */
int fsg_lookup_how(struct fsg *fs, struct fsg_node *parent, const char *name,
		   bool light, struct stat *st, struct fsg_node **out);
/* The node for the object we just made at (parent, name), with nlookup+1:
 * fd is open on it (any mode; it gives the node its file handle) and st
 * is its fstat. keep: fd is an O_PATH fd, taken and cached in the node.
 * Saves the lookup's own open and stat. A node the name had is dropped
 * (the object is new, even if its inode number is not). 0 or -errno. */
int fsg_node_made(struct fsg *fs, struct fsg_node *parent, const char *name, int fd,
		  bool keep, const struct stat *st, struct fsg_node **out);
void fsg_forget(struct fsg *fs, struct fsg_node *n, uint64_t nlookup);
/* Release fs->mu, then close the descriptors and backing ids given up
 * under it (a node freed or evicted): no close(2) runs inside the lock.
 * Whatever may free or evict a node releases mu with this. */
void fsg_unlock(struct fsg *fs);
/* Under mu: backing id `id` goes at fsg_unlock(); false: queue full,
 * close it now. */
bool fsg_defer_id(int id);
/* A node for an object without a name (O_TMPFILE) made through fd, child
 * of parent, with nlookup 1; never hashed. */
int fsg_node_adopt(struct fsg *fs, struct fsg_node *parent, int fd,
		   const struct stat *st, struct fsg_node **out);
/* Tell the kernel that the attributes of n's other names (hard links)
 * changed: nodes are per name, so it cannot know. Attributes only. */
void fsg_inval_siblings(struct fsg *fs, struct fsg_node *n);
/* At an open: record n's version (mtime, size) as st says, and whether it
 * is the one the last open saw (the kernel may keep its cache). */
bool fsg_note_version(struct fsg *fs, struct fsg_node *n, const struct stat *st);
/* The FUSE ids of the nodes of source object (dev, ino), at most max. A
 * node forgotten after this is unknown to the kernel: invalidating it is
 * harmless. */
size_t fsg_nodes_by_id(struct fsg *fs, dev_t dev, ino_t ino, fuse_ino_t *out, size_t max);
/* Borrow the node's O_PATH fd for one operation; fsg_put() returns it. */
int fsg_get_fd(struct fsg *fs, struct fsg_node *n);
void fsg_put(struct fsg *fs, struct fsg_node *n);
/* n's attributes (fstat of its object; see node.c for how). */
int fsg_node_stat(struct fsg *fs, struct fsg_node *n, struct stat *st);
/* The decision path of (node) or (node/name): prefix + relative path, a
 * trailing '/' when dir. Returns the length or -ENAMETOOLONG. */
int fsg_path(struct fsg *fs, struct fsg_node *n, const char *name, bool dir,
	     char *buf, size_t len);
/* The hashed child (parent, name), or NULL; no reference taken. */
void fsg_unhash_child(struct fsg *fs, struct fsg_node *parent, const char *name);
void fsg_rename_child(struct fsg *fs, struct fsg_node *parent, const char *name,
		      struct fsg_node *nparent, const char *nname, bool exchange);
/* Reopen the node with real open flags (O_PATH fd -> a file). */
int fsg_reopen(struct fsg *fs, struct fsg_node *n, int pathfd, int flags);
/* Open n by its file handle, with its attributes in st; -EOPNOTSUPP when
 * it has none (then fsg_get_fd() + fsg_reopen()). */
int fsg_open_handle(struct fsg *fs, struct fsg_node *n, int flags, struct stat *st);
void fsg_proc_path(int fd, char *buf, size_t len);
int fsg_lockfd_get(struct fsg *fs, struct fsg_node *n, uint64_t owner, int fhfd);
void fsg_lockfd_drop(struct fsg *fs, struct fsg_node *n, uint64_t owner);

/* ---- caller.c ---- */
enum fsg_maskstyle { MS_PLAIN, MS_CREATE, MS_DELETE };
struct fsg_caller {
	bool resolved;
	bool confined;
	const struct profile *pr; /* NULL and confined: unknown label, deny all */
	struct fsg_inst *in;      /* its instance; NULL: nobody to log to */
	char label[256];          /* label name for logs when pr is NULL */
	pid_t pid;
	uid_t uid;
	gid_t gid;
};
struct fsg_req_check {
	const char *op;     /* "open", "mkdir", ... */
	const char *path;   /* decision path */
	uint32_t want;      /* PERM_* */
	long ouid;          /* owner of the object, -1 unknown */
	bool owner;         /* caller owns the object */
	const char *target; /* for logs */
	enum fsg_maskstyle style;
	uint32_t *granted;  /* out, optional: what the caller holds on path */
	bool dry;           /* a refusal (or complain mode's ALLOWED) returns 1
			     * and logs nothing: the caller looks again */
};
void fsg_caller_init(struct fsg *fs, fuse_req_t req, struct fsg_caller *c);
void fsg_caller_init_raw(struct fsg_caller *c, pid_t pid, uid_t uid, gid_t gid);
/* 0 allowed (possibly in complain mode), -EACCES denied; logs as needed
 * (rc->dry: see there). */
int fsg_check(struct fsg *fs, struct fsg_caller *c, const struct fsg_req_check *rc);
/* link(2): decide_link plus logging. */
int fsg_check_link(struct fsg *fs, struct fsg_caller *c, const char *newpath,
		   const char *target, long ouid, bool owner);
/* For tests and the man page: the mask letters in the kernel's order. */
size_t fsg_mask_str(uint32_t bits, enum fsg_maskstyle style, char *buf, size_t len);
/* The cgroup v2 path in /proc/<pid>/cgroup text ("0::PATH", *len bytes,
 * not NUL-terminated), or NULL. */
const char *fsg_cgroup_v2_path(const char *cgtext, size_t *len);

/* Parse the cgroup line of /proc/<pid>/cgroup text; exported for tests. */
int fsg_label_from_cgroup(const char *cgtext, const char *base, char *label,
			  size_t len);

/* Before creating on the caller's behalf: the worker thread's own umask
 * (each worker has its own fs_struct) becomes the caller's when fsgate
 * applies it (POSIX ACLs: the source file system then lets a default ACL
 * of the directory take its place, as natively), else 0 (the kernel
 * already applied it). */
void fsg_umask(struct fsg *fs, mode_t caller_umask);
/* Make what we just created (fd, in directory pfd) the caller's: its uid,
 * and its gid unless the directory is setgid (then the kernel gave it the
 * directory's, as natively). Nothing to do for a caller with our ids.
 * 1 when the owner changed (a stat taken before is stale), 0, -errno. */
int fsg_give_owner(struct fsg *fs, int pfd, int fd, const struct fsg_caller *c);

/* An open (delta 1) or release (-1) of n with these open flags: counts
 * the writers; a new writer waits for a push in progress (fs->mu taken
 * here). fsg_writer() does the same for one change without an open. */
void fsg_note_open(struct fsg *fs, struct fsg_node *n, int flags, int delta);
void fsg_writer(struct fsg *fs, struct fsg_node *n, int delta);
/* Start (1, 0 when a writer is active or another push runs) or end (-1)
 * a push of n's content into the kernel's page cache. */
int fsg_push_mark(struct fsg *fs, struct fsg_node *n, int delta);
static inline bool fsg_open_writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY; /* the same at release */
}

/* ---- pass.c ---- */
/* FUSE passthrough (pass.c): our own io for the session (call after
 * mounting), INIT seen by the loop, and per open of node n: its backing
 * file goes into the open or create reply this thread sends next (true
 * when it will be passed through; fi->fh then says so in its upper half:
 * use (int)fi->fh for the fd), fsg_pass_done() after that reply whatever
 * was sent, and fsg_pass_release() at RELEASE, or when the reply could
 * not be sent. */
int fsg_pass_setup(struct fsg *fs);
void fsg_pass_init_seen(struct fsg *fs, const void *msg, size_t len);
/* regfd: an fd on the file to register its backing file from when n has
 * none yet, or -1 for n's O_PATH fd. Never a writable one: the backing
 * would hold write access until its release, after the close(2), and an
 * exec of the file would fail with ETXTBSY meanwhile. */
bool fsg_pass_open(struct fsg *fs, struct fsg_node *n, struct fuse_file_info *fi,
		   int regfd);
void fsg_pass_done(void);
/* The same for a reply fsgate writes itself (loop.c's O_TMPFILE). */
struct fuse_open_out;
void fsg_pass_amend(struct fuse_open_out *oo);
void fsg_pass_release(struct fsg *fs, struct fsg_node *n, uint64_t fh);
/* n lost its cached fd or goes (under mu): its backing file goes too,
 * unless an open uses it. */
void fsg_pass_drop_locked(struct fsg *fs, struct fsg_node *n);
/* Give up backing id `id` (FUSE_DEV_IOC_BACKING_CLOSE). */
void fsg_pass_close_id(struct fsg *fs, int id);

/* ---- uring.c ---- */
#define FSG_URING_INIT_FLAG (1ull << 41) /* FUSE_OVER_IO_URING */
/* At INIT (our reply, before it goes): set up one ring per CPU when the
 * kernel offered io_uring; true when all are ready (take the flag). */
bool fsg_uring_prepare(struct fsg *fs, uint64_t offered, size_t max_write,
		       unsigned max_pages);
/* After the INIT reply: sent (the rings register) or not (they go). */
void fsg_uring_start(bool sent);
/* A reply to a request that came through a ring: stored there (true,
 * *ret as writev's); false: it is for /dev/fuse. */
struct iovec;
bool fsg_uring_reply(const struct iovec *iov, int count, ssize_t *ret);
/* Is this thread a ring's? (Its handlers must not wait for other
 * requests of the same CPU.) */
bool fsg_uring_thread(void);
void fsg_uring_stop(void);

/* ---- serve.c ---- */
/* Start the control thread: listens on o.serve, registers launchers and
 * hands each a clone of mntfd. 0 or -errno. */
int fsg_serve_start(struct fsg *fs, int mntfd);

/* ---- watch.c ---- */
/* Shared mode: tell the kernel about changes made beside us (fanotify).
 * 0 or -errno (then the entry and attribute timeouts alone hold). */
int fsg_watch_start(struct fsg *fs);

/* ---- loop.c ---- */
int fsg_loop(struct fsg *fs, unsigned nthreads);
/* FSGATE_STATS=1: requests per opcode, on stderr (at the end). */
void fsg_dump_counts(void);
void fsg_count_op(unsigned opcode);
#define FSG_OP_RING 63 /* no opcode: counts requests that came through a ring */
/* FUSE_TMPFILE (opcode 51), which libfuse 3.14 does not know: the whole
 * request, answered here. */
void fsg_tmpfile(struct fsg *fs, const char *mem, size_t len);

/* ---- ops_*.c ---- */
void fsg_ops_entry(struct fuse_lowlevel_ops *ops);
void fsg_ops_file(struct fuse_lowlevel_ops *ops);
void fsg_ops_dir(struct fuse_lowlevel_ops *ops);
void fsg_fill_entry(struct fsg *fs, struct fsg_node *n, const struct stat *st,
		    struct fuse_entry_param *e);
/* st_ino as shown through the mount: the source's own number on SOURCE's
 * file system; on file systems mounted below it, mixed with the device so
 * that (st_dev, st_ino) stays unique under FUSE's single st_dev (tar and
 * rsync find hard links by it). */
static inline ino_t fsg_ino(const struct fsg *fs, dev_t dev, ino_t ino)
{
	return dev == fs->root.dev ? ino : ino ^ ((ino_t)dev << 40);
}
/* The kernel sends single components, never "." or ".." (those only come
 * with NFS export support, which fsgate does not offer). Refusing them
 * anyway keeps every *at() call inside the directory it was decided in. */
static inline bool fsg_bad_name(const char *name)
{
	return !name[0] || (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]))) ||
	       strchr(name, '/') != NULL;
}
static inline struct fsg *fsg_of(fuse_req_t req)
{
	return (struct fsg *)fuse_req_userdata(req);
}

#endif

/* node.c: fsgate's inode table.
 *
 * A node is one name the kernel looked up: (parent node, name). It records
 * the source object's identity (dev, ino) and a file handle
 * (name_to_handle_at) so that its O_PATH fd can be dropped and reopened:
 * at most opts.max_fds fds are cached (LRU), whatever the number of nodes
 * the kernel keeps, so RLIMIT_NOFILE is never the limit on a big tree.
 * Where the source has no handles (procfs, a user namespace without
 * CAP_DAC_READ_SEARCH), a node reopens through its parent's fd and its name
 * with O_NOFOLLOW and checks (dev, ino): a renamed or replaced object gives
 * ESTALE, never a different file.
 *
 * Locking: fs->mu protects the hash, parent/name links, counts, the LRU
 * and lock-owner lists. System calls run outside it, on fds pinned by
 * `users` so the LRU cannot close them under an operation; the fds a freed
 * or evicted node gives up are closed by fsg_unlock(), after the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsg.h"

#define HANDLE_MAX 128 /* MAX_HANDLE_SZ */

static size_t hash_key(const struct fsg_node *parent, const char *name)
{
	size_t h = (size_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static int htab_grow(struct fsg *fs)
{
	size_t nsize = fs->hsize ? fs->hsize * 2 : 1024;
	struct fsg_node **nt = calloc(nsize, sizeof *nt);
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < fs->hsize; i++) {
		struct fsg_node *n = fs->htab[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			size_t b = hash_key(n->parent, n->name) & (nsize - 1);
			n->hnext = nt[b];
			nt[b] = n;
		}
	}
	free(fs->htab);
	fs->htab = nt;
	fs->hsize = nsize;
	return 0;
}

static struct fsg_node *hfind(struct fsg *fs, const struct fsg_node *parent,
			      const char *name)
{
	struct fsg_node *n = fs->htab[hash_key(parent, name) & (fs->hsize - 1)];
	for (; n; n = n->hnext)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static void hinsert(struct fsg *fs, struct fsg_node *n)
{
	if (fs->hcount * 2 >= fs->hsize)
		htab_grow(fs); /* on failure the chains just get longer */
	size_t b = hash_key(n->parent, n->name) & (fs->hsize - 1);
	n->hnext = fs->htab[b];
	fs->htab[b] = n;
	n->hashed = true;
	fs->hcount++;
}

static void hremove(struct fsg *fs, struct fsg_node *n)
{
	if (!n->hashed)
		return;
	struct fsg_node **pp = &fs->htab[hash_key(n->parent, n->name) & (fs->hsize - 1)];
	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	n->hnext = NULL;
	n->hashed = false;
	fs->hcount--;
}

/* ---- (dev, ino) index (under mu) ---- */

/* Starts small and doubles, as htab does: a fixed large table would cost
 * a fresh page (a fault) for nearly every one of a new daemon's first
 * nodes, which are the sandbox's start-up path. */
static size_t ikey(const struct fsg *fs, dev_t dev, ino_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) ^ dev) & (fs->isize - 1);
}

static int itab_grow(struct fsg *fs)
{
	size_t osize = fs->isize, nsize = osize ? osize * 2 : 1024;
	struct fsg_node **nt = calloc(nsize, sizeof *nt), **ot = fs->itab;
	if (!nt)
		return -ENOMEM;
	fs->itab = nt;
	fs->isize = nsize;
	for (size_t i = 0; i < osize; i++) {
		struct fsg_node *n = ot[i], *next;
		for (; n; n = next) {
			next = n->inext;
			size_t b = ikey(fs, n->dev, n->ino);
			n->inext = nt[b];
			nt[b] = n;
		}
	}
	free(ot);
	return 0;
}

static void iinsert(struct fsg *fs, struct fsg_node *n)
{
	if (fs->icount * 2 >= fs->isize)
		itab_grow(fs); /* on failure the chains just get longer */
	size_t b = ikey(fs, n->dev, n->ino);
	n->inext = fs->itab[b];
	fs->itab[b] = n;
	fs->icount++;
}

static void iremove(struct fsg *fs, struct fsg_node *n)
{
	for (struct fsg_node **pp = &fs->itab[ikey(fs, n->dev, n->ino)]; *pp;
	     pp = &(*pp)->inext)
		if (*pp == n) {
			*pp = n->inext;
			fs->icount--;
			break;
		}
}

void fsg_inval_siblings(struct fsg *fs, struct fsg_node *n)
{
	fuse_ino_t ids[32];
	size_t k = 0;
	if (!fs->se)
		return;
	pthread_mutex_lock(&fs->mu);
	for (struct fsg_node *o = fs->itab[ikey(fs, n->dev, n->ino)]; o && k < 32; o = o->inext)
		if (o != n && o->dev == n->dev && o->ino == n->ino && o != &fs->root)
			ids[k++] = (fuse_ino_t)(uintptr_t)o;
	fsg_unlock(fs);
	/* A node forgotten meanwhile is unknown to the kernel: harmless. */
	for (size_t i = 0; i < k; i++)
		fuse_lowlevel_notify_inval_inode(fs->se, ids[i], -1, 0);
}

size_t fsg_nodes_by_id(struct fsg *fs, dev_t dev, ino_t ino, fuse_ino_t *out, size_t max)
{
	size_t k = 0;
	if (fs->root.dev == dev && fs->root.ino == ino && max) /* not in itab */
		out[k++] = FUSE_ROOT_ID;
	pthread_mutex_lock(&fs->mu);
	for (struct fsg_node *o = fs->itab[ikey(fs, dev, ino)]; o && k < max; o = o->inext)
		if (o->dev == dev && o->ino == ino && o != &fs->root)
			out[k++] = (fuse_ino_t)(uintptr_t)o;
	fsg_unlock(fs);
	return k;
}

bool fsg_note_version(struct fsg *fs, struct fsg_node *n, const struct stat *st)
{
	pthread_mutex_lock(&fs->mu);
	bool same = n->open_mtime.tv_sec == st->st_mtim.tv_sec &&
		    n->open_mtime.tv_nsec == st->st_mtim.tv_nsec && n->open_size == st->st_size;
	n->open_mtime = st->st_mtim;
	n->open_size = st->st_size;
	fsg_unlock(fs);
	return same;
}

/* ---- LRU of cached fds (under mu) ---- */

static void lru_unlink(struct fsg_node *n)
{
	if (!n->lru_next)
		return;
	n->lru_prev->lru_next = n->lru_next;
	n->lru_next->lru_prev = n->lru_prev;
	n->lru_prev = n->lru_next = NULL;
}

static void lru_front(struct fsg *fs, struct fsg_node *n)
{
	lru_unlink(n);
	n->lru_next = fs->lru.lru_next;
	n->lru_prev = &fs->lru;
	fs->lru.lru_next->lru_prev = n;
	fs->lru.lru_next = n;
}

/* A node can lose its fd when it can get it back: it has a handle, or it
 * is still hashed under a parent (reopen by name). */
static bool evictable(const struct fsg_node *n)
{
	return n->users == 0 && n != n->parent && n->parent &&
	       (n->fh || n->hashed);
}

/* Descriptors given up under mu (a node freed or evicted, its backing
 * file) are closed once mu is released (fsg_unlock()): a close(2) inside
 * the lock made the FORGET that the kernel sends beside the next request
 * hold up that request (unlink, then GETATTR of the directory). Per
 * thread; when full, closed at once. */
#define DEFER_MAX 32
static __thread struct {
	int fd[DEFER_MAX], nfd;
	int id[DEFER_MAX], nid;
} defer;

static void close_later(int fd)
{
	if (defer.nfd < DEFER_MAX)
		defer.fd[defer.nfd++] = fd;
	else
		close(fd);
}

bool fsg_defer_id(int id)
{
	if (defer.nid >= DEFER_MAX)
		return false;
	defer.id[defer.nid++] = id;
	return true;
}

void fsg_unlock(struct fsg *fs)
{
	pthread_mutex_unlock(&fs->mu);
	while (defer.nfd > 0)
		close(defer.fd[--defer.nfd]);
	while (defer.nid > 0)
		fsg_pass_close_id(fs, defer.id[--defer.nid]);
}

static void lru_evict(struct fsg *fs)
{
	struct fsg_node *n = fs->lru.lru_prev;
	while (fs->nfds > fs->o.max_fds && n != &fs->lru) {
		struct fsg_node *prev = n->lru_prev;
		if (evictable(n)) {
			lru_unlink(n);
			close_later(n->fd);
			n->fd = -1;
			fs->nfds--;
			fsg_pass_drop_locked(fs, n); /* its backing file with it */
		}
		n = prev;
	}
}

/* Set a node's fd (under mu); takes ownership of fd. */
static void node_set_fd(struct fsg *fs, struct fsg_node *n, int fd)
{
	n->fd = fd;
	fs->nfds++;
	lru_front(fs, n);
	lru_evict(fs);
}

/* ---- Freeing (under mu) ---- */

static void node_free_locked(struct fsg *fs, struct fsg_node *n)
{
	while (n && n != &fs->root && n->nlookup == 0 && n->nchild == 0 &&
	       n->users == 0) {
		struct fsg_node *parent = n->parent;
		hremove(fs, n);
		iremove(fs, n);
		if (n->fd >= 0) {
			lru_unlink(n);
			close_later(n->fd);
			fs->nfds--;
		}
		fsg_pass_drop_locked(fs, n);
		for (struct fsg_lockfd *l = n->locks, *next; l; l = next) {
			next = l->next;
			close_later(l->fd);
			free(l);
		}
		free(n->fh);
		free(n->name);
		free(n);
		parent->nchild--;
		n = parent;
	}
}

/* ---- Setup ---- */

/* The index of mount mnt_id in fs->mounts (under mu). open_by_handle_at()
 * wants a real (not O_PATH) fd on the mount: a directory's reopened fd.
 * Only directories register a mount; a file whose mount is unknown (a file
 * bind mount) reopens through its parent instead. */
static int mount_index(struct fsg *fs, int mnt_id, int fd, bool isdir)
{
	char p[64];
	for (int i = 0; i < fs->nmounts; i++)
		if (fs->mounts[i].mnt_id == mnt_id)
			return i;
	if (!isdir || fs->nmounts >= FSG_MAX_MOUNTS)
		return -1;
	fsg_proc_path(fd, p, sizeof p);
	int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	fs->mounts[fs->nmounts].mnt_id = mnt_id;
	fs->mounts[fs->nmounts].fd = dfd;
	return fs->nmounts++;
}

/* The handle of the object behind O_PATH fd, or NULL. */
static struct file_handle *make_handle(int fd, int *mnt_id)
{
	struct file_handle *fh = malloc(sizeof *fh + HANDLE_MAX);
	if (!fh)
		return NULL;
	fh->handle_bytes = HANDLE_MAX;
	if (name_to_handle_at(fd, "", fh, mnt_id, AT_EMPTY_PATH) < 0) {
		free(fh);
		return NULL;
	}
	struct file_handle *small = realloc(fh, sizeof *fh + fh->handle_bytes);
	return small ? small : fh;
}

int fsg_nodes_init(struct fsg *fs, int rootfd)
{
	struct stat st;
	int mnt_id;
	if (fstat(rootfd, &st) < 0)
		return -errno;
	pthread_mutex_init(&fs->mu, NULL);
	pthread_cond_init(&fs->pushed, NULL);
	fs->lru.lru_next = fs->lru.lru_prev = &fs->lru;
	if (itab_grow(fs) < 0 || htab_grow(fs) < 0)
		return -ENOMEM;
	struct fsg_node *r = &fs->root;
	r->name = strdup("");
	if (!r->name)
		return -ENOMEM;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->type = st.st_mode & S_IFMT;
	r->fd = rootfd; /* pinned: the root is never on the LRU */
	r->nlookup = 1;
	r->mnt = -1;
	/* Handles need CAP_DAC_READ_SEARCH: probe once on the root. */
	struct file_handle *fh = make_handle(rootfd, &mnt_id);
	int mi = fh ? mount_index(fs, mnt_id, rootfd, true) : -1;
	if (mi >= 0) {
		int fd = open_by_handle_at(fs->mounts[mi].fd, fh, O_PATH | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			fs->handles = true;
		}
	}
	free(fh);
	return 0;
}

struct fsg_node *fsg_node(struct fsg *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &fs->root : (struct fsg_node *)(uintptr_t)ino;
}

/* ---- fds ---- */

/* Is fd on n's object? Its attributes go to *st when st is not NULL. */
static int same_obj(int fd, const struct fsg_node *n, struct stat *st)
{
	struct stat own;
	if (!st)
		st = &own;
	if (fstat(fd, st) < 0)
		return -errno;
	return st->st_dev == n->dev && st->st_ino == n->ino ? 0 : -ESTALE;
}

/* A node made by a light lookup gets its file handle when first opened
 * (by name, identity checked), so later renames elsewhere cannot lose it. */
static void give_handle(struct fsg *fs, struct fsg_node *n, int fd)
{
	if (!fs->handles)
		return;
	pthread_mutex_lock(&fs->mu);
	bool need = !n->fh;
	fsg_unlock(fs);
	if (!need)
		return;
	int mnt_id;
	struct file_handle *fh = make_handle(fd, &mnt_id);
	if (!fh)
		return;
	pthread_mutex_lock(&fs->mu);
	if (!n->fh) {
		n->mnt = mount_index(fs, mnt_id, fd, n->type == S_IFDIR);
		n->fh = fh;
		fh = NULL;
	}
	fsg_unlock(fs);
	free(fh);
}

/* n's handle and its mount's fd, or NULL: read under mu, since a light
 * node gets them later (give_handle()); the handle lives as long as n. */
static struct file_handle *node_handle(struct fsg *fs, struct fsg_node *n, int *mfd)
{
	pthread_mutex_lock(&fs->mu);
	struct file_handle *fh = n->mnt >= 0 ? n->fh : NULL;
	*mfd = fh ? fs->mounts[n->mnt].fd : -1;
	fsg_unlock(fs);
	return fh;
}

/* Open an O_PATH fd for n without holding mu (n is pinned by users). */
static int node_open_path(struct fsg *fs, struct fsg_node *n)
{
	int fd, mfd;
	struct file_handle *fh = node_handle(fs, n, &mfd);
	if (fh) {
		fd = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
		if (fd >= 0) {
			int r = same_obj(fd, n, NULL);
			if (r < 0)
				close(fd);
			return r < 0 ? r : fd;
		}
		if (errno != EPERM && errno != EOPNOTSUPP)
			return -ESTALE;
	}
	/* By parent + name, checked against the identity we recorded. */
	pthread_mutex_lock(&fs->mu);
	struct fsg_node *p = n->parent;
	char *name = n->hashed && p ? strdup(n->name) : NULL;
	if (name)
		p->users++;
	fsg_unlock(fs);
	if (!name)
		return -ESTALE;
	int pfd = fsg_get_fd(fs, p);
	if (pfd < 0) {
		fd = pfd;
	} else {
		fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			fd = errno == ENOENT ? -ESTALE : -errno;
		} else {
			int r = same_obj(fd, n, NULL);
			if (r < 0) {
				close(fd);
				fd = r;
			} else {
				give_handle(fs, n, fd);
			}
		}
	}
	fsg_put(fs, p); /* drops the users++ above and fsg_get_fd's */
	pthread_mutex_lock(&fs->mu);
	p->users--;
	node_free_locked(fs, p);
	fsg_unlock(fs);
	free(name);
	return fd;
}

int fsg_get_fd(struct fsg *fs, struct fsg_node *n)
{
	pthread_mutex_lock(&fs->mu);
	n->users++;
	if (n->fd >= 0) {
		int fd = n->fd;
		if (n != &fs->root)
			lru_front(fs, n);
		fsg_unlock(fs);
		return fd;
	}
	fsg_unlock(fs);
	int fd = node_open_path(fs, n);
	pthread_mutex_lock(&fs->mu);
	if (fd < 0) {
		fsg_unlock(fs);
		return fd; /* caller still calls fsg_put() */
	}
	if (n->fd >= 0) {
		close(fd); /* another thread won */
		fd = n->fd;
	} else {
		node_set_fd(fs, n, fd);
	}
	fsg_unlock(fs);
	return fd;
}

/* The attributes of n's object without opening it when its fd has left
 * the LRU: one fstatat() through its parent's cached fd and its name,
 * good when that name still holds n's object (dev, ino); else (renamed,
 * replaced, parent not cached) through the node's own fd. A stat after a
 * create or a walk over more files than the fd cache holds thus costs one
 * system call, not three (open_by_handle_at, its identity check, fstat). */
int fsg_node_stat(struct fsg *fs, struct fsg_node *n, struct stat *st)
{
	char name[NAME_MAX + 1];
	struct fsg_node *p = NULL;
	int pfd = -1;
	pthread_mutex_lock(&fs->mu);
	if (n->fd < 0 && n->hashed && n->parent && n->parent->fd >= 0 &&
	    strlen(n->name) < sizeof name) {
		p = n->parent;
		pfd = p->fd;
		p->users++; /* pins pfd */
		strcpy(name, n->name);
	}
	fsg_unlock(fs);
	if (p) {
		int r = fstatat(pfd, name, st, AT_SYMLINK_NOFOLLOW);
		fsg_put(fs, p);
		if (r == 0 && st->st_dev == n->dev && st->st_ino == n->ino)
			return 0;
	}
	int fd = fsg_get_fd(fs, n);
	int r = fd < 0 ? fd : fstat(fd, st) < 0 ? -errno : 0;
	fsg_put(fs, n);
	return r;
}

void fsg_put(struct fsg *fs, struct fsg_node *n)
{
	pthread_mutex_lock(&fs->mu);
	n->users--;
	if (n->users == 0 && n->fd >= 0 && fs->nfds > fs->o.max_fds)
		lru_evict(fs);
	node_free_locked(fs, n);
	fsg_unlock(fs);
}

void fsg_proc_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* Open flags for opening n again on the caller's behalf. O_NOFOLLOW: the
 * kernel already applied it to the caller's path; here it would refuse the
 * /proc/self/fd magic link. */
static int reopen_flags(int flags)
{
	return flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_PATH | O_NOFOLLOW |
			 0x20 /* FMODE_EXEC */);
}

int fsg_open_handle(struct fsg *fs, struct fsg_node *n, int flags, struct stat *st)
{
	int mfd;
	struct file_handle *fh = fs->handles ? node_handle(fs, n, &mfd) : NULL;
	if (!fh)
		return -EOPNOTSUPP;
	int fd = open_by_handle_at(mfd, fh, reopen_flags(flags) | O_CLOEXEC);
	if (fd < 0)
		return errno == EPERM || errno == EOPNOTSUPP || errno == ESTALE ?
			       -EOPNOTSUPP : -errno;
	int r = same_obj(fd, n, st); /* never a different object */
	if (r < 0)
		close(fd);
	return r < 0 ? r : fd;
}

int fsg_reopen(struct fsg *fs, struct fsg_node *n, int pathfd, int flags)
{
	char p[64];
	struct stat st;
	int fd = fsg_open_handle(fs, n, flags, &st);
	if (fd != -EOPNOTSUPP)
		return fd;
	flags = reopen_flags(flags);
	fsg_proc_path(pathfd, p, sizeof p);
	fd = open(p, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* ---- Lookup and forget ---- */

static struct fsg_node *node_new(struct fsg *fs, struct fsg_node *parent,
				 const char *name, int fd, const struct stat *st)
{
	struct fsg_node *n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->parent = parent;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->type = st->st_mode & S_IFMT;
	n->fd = -1;
	n->mnt = -1;
	if (fs->handles && fd >= 0) {
		int mnt_id;
		n->fh = make_handle(fd, &mnt_id);
		if (n->fh) {
			pthread_mutex_lock(&fs->mu);
			n->mnt = mount_index(fs, mnt_id, fd, S_ISDIR(st->st_mode));
			fsg_unlock(fs);
		}
	}
	return n;
}

/* Enter object st at (parent, name), with nlookup+1: the node there when
 * it is that object (a node of another object is unhashed), else a new
 * one, whose handle comes from hfd (any fd on the object; -1: later, by
 * name). cfd, an O_PATH fd or -1, is taken: cached in the node or closed. */
static int install(struct fsg *fs, struct fsg_node *parent, const char *name, int hfd,
		   int cfd, const struct stat *st, struct fsg_node **out)
{
	struct fsg_node *fresh = NULL;
	for (;;) {
		pthread_mutex_lock(&fs->mu);
		struct fsg_node *n = hfind(fs, parent, name);
		if (n && (n->dev != st->st_dev || n->ino != st->st_ino)) {
			hremove(fs, n); /* replaced under us */
			n = NULL;
		}
		if (!n && fresh) {
			n = fresh;
			fresh = NULL;
			parent->nchild++;
			hinsert(fs, n);
			iinsert(fs, n);
		}
		if (n) {
			n->nlookup++;
			if (n->fd < 0 && cfd >= 0) {
				node_set_fd(fs, n, cfd);
				cfd = -1;
			}
			fsg_unlock(fs);
			*out = n;
			break;
		}
		fsg_unlock(fs);
		/* outside mu (a syscall for the handle); a racing lookup may
		 * enter the name meanwhile: the loop looks again */
		fresh = node_new(fs, parent, name, hfd, st);
		if (!fresh) {
			if (cfd >= 0)
				close(cfd);
			return -ENOMEM;
		}
	}
	if (fresh) {
		free(fresh->fh);
		free(fresh->name);
		free(fresh);
	}
	if (cfd >= 0)
		close(cfd);
	return 0;
}

int fsg_node_made(struct fsg *fs, struct fsg_node *parent, const char *name, int fd,
		  bool keep, const struct stat *st, struct fsg_node **out)
{
	if (fsg_bad_name(name)) {
		if (keep)
			close(fd);
		return -EINVAL;
	}
	fsg_unhash_child(fs, parent, name);
	return install(fs, parent, name, fd, keep ? fd : -1, st, out);
}

int fsg_lookup(struct fsg *fs, struct fsg_node *parent, const char *name,
	       struct stat *st, struct fsg_node **out)
{
	return fsg_lookup_how(fs, parent, name, false, st, out);
}

int fsg_lookup_how(struct fsg *fs, struct fsg_node *parent, const char *name,
		   bool light, struct stat *st, struct fsg_node **out)
{
	if (fsg_bad_name(name))
		return -EINVAL;
	int pfd = fsg_get_fd(fs, parent);
	int fd = -1, ret = 0;
	if (pfd < 0) {
		ret = pfd;
		goto out;
	}
	/* Fast path: a known name whose object did not change costs one
	 * fstatat(); no fd is opened. */
	pthread_mutex_lock(&fs->mu);
	struct fsg_node *n = hfind(fs, parent, name);
	if (n)
		n->users++;
	fsg_unlock(fs);
	if (n) {
		int r = fstatat(pfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
		bool hit = false;
		pthread_mutex_lock(&fs->mu);
		if (r == 0 && n->dev == st->st_dev && n->ino == st->st_ino &&
		    hfind(fs, parent, name) == n) {
			n->nlookup++;
			hit = true;
		}
		n->users--;
		if (!hit)
			node_free_locked(fs, n); /* n may be gone after this */
		fsg_unlock(fs);
		if (hit || r < 0) {
			if (hit)
				*out = n;
			ret = r;
			goto out;
		}
	}
	if (light) {
		/* One fstatat(), no fd and no handle yet; the node is opened
		 * by parent + name (checked against this identity) when first
		 * used, and gets its handle then (give_handle()). */
		if (fstatat(pfd, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = -errno;
			goto out;
		}
	} else {
		fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, st) < 0) {
			ret = -errno;
			goto out;
		}
	}
	ret = install(fs, parent, name, fd, fd, st, out);
	fd = -1; /* taken */
out:
	if (fd >= 0)
		close(fd);
	fsg_put(fs, parent);
	return ret;
}

void fsg_writer(struct fsg *fs, struct fsg_node *n, int delta)
{
	pthread_mutex_lock(&fs->mu);
	if (delta > 0) {
		while (n->pushing)
			pthread_cond_wait(&fs->pushed, &fs->mu);
		n->writers++;
	} else if (n->writers > 0) {
		n->writers--;
	}
	fsg_unlock(fs);
}

void fsg_note_open(struct fsg *fs, struct fsg_node *n, int flags, int delta)
{
	if (fsg_open_writes(flags))
		fsg_writer(fs, n, delta);
}

int fsg_push_mark(struct fsg *fs, struct fsg_node *n, int delta)
{
	int r = 1;
	pthread_mutex_lock(&fs->mu);
	if (delta > 0) {
		r = n->writers == 0 && !n->pushing;
		if (r)
			n->pushing = true;
	} else {
		n->pushing = false;
		pthread_cond_broadcast(&fs->pushed);
	}
	fsg_unlock(fs);
	return r;
}

int fsg_node_adopt(struct fsg *fs, struct fsg_node *parent, int fd,
		   const struct stat *st, struct fsg_node **out)
{
	char p[64], name[32];
	fsg_proc_path(fd, p, sizeof p);
	int pfd = open(p, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	snprintf(name, sizeof name, "#%llu", (unsigned long long)st->st_ino);
	struct fsg_node *n = node_new(fs, parent, name, pfd, st);
	if (!n) {
		close(pfd);
		return -ENOMEM;
	}
	pthread_mutex_lock(&fs->mu);
	n->nlookup = 1;
	parent->nchild++;
	iinsert(fs, n);
	node_set_fd(fs, n, pfd); /* not evictable without a handle: unhashed */
	fsg_unlock(fs);
	*out = n;
	return 0;
}

void fsg_forget(struct fsg *fs, struct fsg_node *n, uint64_t nlookup)
{
	if (n == &fs->root)
		return;
	pthread_mutex_lock(&fs->mu);
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	node_free_locked(fs, n);
	fsg_unlock(fs);
}

/* ---- Paths ---- */

int fsg_path(struct fsg *fs, struct fsg_node *n, const char *name, bool dir,
	     char *buf, size_t len)
{
	/* Build right to left in a scratch buffer, then copy after the prefix. */
	char tmp[FSG_PATH_MAX + 2];
	size_t pos = sizeof tmp;
	int ret = 0;
	tmp[--pos] = '\0';
	if (dir)
		tmp[--pos] = '/';
	pthread_mutex_lock(&fs->mu);
	const char *comp = name;
	for (struct fsg_node *c = n;; c = c->parent) {
		if (comp && *comp) {
			size_t l = strlen(comp);
			if (l + 1 > pos) {
				ret = -ENAMETOOLONG;
				break;
			}
			pos -= l;
			memcpy(tmp + pos, comp, l);
			tmp[--pos] = '/';
		}
		if (!c || c == &fs->root || !c->parent)
			break;
		comp = c->name;
	}
	fsg_unlock(fs);
	if (ret)
		return ret;
	/* tmp+pos is "/a/b[/]" or "/" or "" (root without dir). */
	const char *rel = tmp + pos;
	size_t plen = fs->prefix_len;
	/* prefix "/" + "/a" -> "/a"; prefix "/x" + "/a" -> "/x/a" */
	if (plen == 1 && *rel)
		plen = 0;
	size_t need = plen + strlen(rel);
	if (need + 1 > len || need > FSG_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, fs->o.prefix, plen);
	strcpy(buf + plen, rel);
	return (int)need;
}

/* ---- Directory changes ---- */

void fsg_unhash_child(struct fsg *fs, struct fsg_node *parent, const char *name)
{
	pthread_mutex_lock(&fs->mu);
	struct fsg_node *n = hfind(fs, parent, name);
	if (n)
		hremove(fs, n);
	fsg_unlock(fs);
}

static int set_parent(struct fsg_node *n, struct fsg_node *np, const char *nname)
{
	char *s = strdup(nname);
	if (!s)
		return -ENOMEM;
	free(n->name);
	n->name = s;
	np->nchild++;
	n->parent->nchild--; /* np != old parent or counts cancel */
	n->parent = np;
	return 0;
}

void fsg_rename_child(struct fsg *fs, struct fsg_node *parent, const char *name,
		      struct fsg_node *nparent, const char *nname, bool exchange)
{
	pthread_mutex_lock(&fs->mu);
	struct fsg_node *src = hfind(fs, parent, name);
	struct fsg_node *dst = hfind(fs, nparent, nname);
	struct fsg_node *oldp = src ? src->parent : NULL;
	if (src)
		hremove(fs, src);
	if (dst)
		hremove(fs, dst);
	if (src && set_parent(src, nparent, nname) == 0)
		hinsert(fs, src);
	if (exchange && dst && set_parent(dst, parent, name) == 0)
		hinsert(fs, dst);
	/* The old parent may have lost its last child. */
	if (oldp)
		node_free_locked(fs, oldp);
	fsg_unlock(fs);
}

/* ---- Lock owners ---- */

int fsg_lockfd_get(struct fsg *fs, struct fsg_node *n, uint64_t owner, int fhfd)
{
	pthread_mutex_lock(&fs->mu);
	for (struct fsg_lockfd *l = n->locks; l; l = l->next)
		if (l->owner == owner) {
			int fd = l->fd;
			fsg_unlock(fs);
			return fd;
		}
	fsg_unlock(fs);
	/* A fresh open file description of the same file: O_RDWR so both
	 * lock types work, else the mode of the caller's open. */
	char p[64];
	fsg_proc_path(fhfd, p, sizeof p);
	int fd = open(p, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int fl = fcntl(fhfd, F_GETFL);
		fd = open(p, (fl & O_ACCMODE) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (fd < 0)
		return -errno;
	struct fsg_lockfd *l = malloc(sizeof *l);
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	l->owner = owner;
	l->fd = fd;
	pthread_mutex_lock(&fs->mu);
	l->next = n->locks;
	n->locks = l;
	fsg_unlock(fs);
	return fd;
}

void fsg_lockfd_drop(struct fsg *fs, struct fsg_node *n, uint64_t owner)
{
	struct fsg_lockfd *found = NULL;
	pthread_mutex_lock(&fs->mu);
	for (struct fsg_lockfd **pp = &n->locks; *pp; pp = &(*pp)->next)
		if ((*pp)->owner == owner) {
			found = *pp;
			*pp = found->next;
			break;
		}
	fsg_unlock(fs);
	if (found) {
		close(found->fd); /* releases that owner's locks */
		free(found);
	}
}

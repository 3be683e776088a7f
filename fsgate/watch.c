/* watch.c: changes made beside a shared fsgate, told to the kernel.
 *
 * A shared fsgate's mount outlives each program (serve.c), so the kernel's
 * names and attributes of it would otherwise let the next program see,
 * for up to --entry-timeout, a file the host has just removed, replaced
 * or changed. fanotify (FAN_MARK_FILESYSTEM on each file system under /)
 * reports every such change with the directory's file handle and the
 * name, or the object's handle; the nodes holding them get the kernel's
 * entry or inode invalidated. Our own changes (the event's pid is ours)
 * are the kernel's already and are skipped. Without fanotify (no
 * permission, an old kernel) nothing changes but that: the timeouts hold.
 * Events lost to a full queue fall back to the timeouts as well. Only a
 * lingering fsgate watches (--linger > 0): making and tearing down the
 * marks costs milliseconds (SRCU), too much for an fsgate that lives as
 * long as one program, whose caches do not outlive it by much.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fsg.h"

#define MAX_FS 64

struct watch {
	struct fsg *fs;
	int fan;
	struct { fsid_t fsid; int fd; } fss[MAX_FS];
	int nfs;
};

/* Mark every file system mounted under / once (the host's view). */
static void mark_all(struct watch *w)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256], mnt[PATH_MAX], type[64];
	static const char *const skip[] = { "proc", "sysfs", "cgroup", "cgroup2", "devpts",
					    "mqueue", "bpf", "tracefs", "debugfs", "securityfs",
					    "pstore", "configfs", "fusectl", "binfmt_misc",
					    "autofs", "nsfs", "efivarfs", "hugetlbfs" };
	while (f && w->nfs < MAX_FS &&
	       fscanf(f, "%255s %4095s %63s %*[^\n]", dev, mnt, type) == 3) {
		bool pseudo = strncmp(type, "fuse", 4) == 0;
		for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
			pseudo = pseudo || strcmp(type, skip[i]) == 0;
		if (pseudo)
			continue;
		int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* fanotify_mark wants no O_PATH */
		struct statfs sf;
		if (fd < 0 || fstatfs(fd, &sf) < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		bool seen = false;
		for (int i = 0; i < w->nfs && !seen; i++)
			seen = memcmp(&w->fss[i].fsid, &sf.f_fsid, sizeof sf.f_fsid) == 0;
		/* names and attributes; not FAN_MODIFY: an event per write(2)
		 * anywhere on the host (ours too) costs more than it saves, and
		 * content is checked at each open (keep_cache only when mtime
		 * and size did not change), a read past the size the kernel
		 * knows refreshes it */
		unsigned mask = FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO |
				FAN_ATTRIB | FAN_ONDIR;
		if (seen || fanotify_mark(w->fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, fd,
					  NULL) < 0) {
			close(fd);
			continue;
		}
		w->fss[w->nfs].fsid = sf.f_fsid;
		w->fss[w->nfs++].fd = fd;
	}
	if (f)
		fclose(f);
}

/* The nodes of the object a handle names (names of one file: hard links). */
static size_t nodes_of(struct watch *w, const fsid_t *fsid, struct file_handle *fh,
		       fuse_ino_t *out, size_t max)
{
	int mfd = -1;
	for (int i = 0; i < w->nfs && mfd < 0; i++)
		if (memcmp(&w->fss[i].fsid, fsid, sizeof *fsid) == 0)
			mfd = w->fss[i].fd;
	if (mfd < 0)
		return 0;
	int fd = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return 0; /* gone: the kernel holds nothing fresh of it anyway */
	}
	close(fd);
	return fsg_nodes_by_id(w->fs, st.st_dev, st.st_ino, out, max);
}

static void event(struct watch *w, const struct fanotify_event_metadata *m)
{
	fuse_ino_t ids[32];
	const char *p = (const char *)m + m->metadata_len, *end = (const char *)m + m->event_len;
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_header *h = (const void *)p;
		if (h->len == 0 || p + h->len > end)
			break;
		const struct fanotify_event_info_fid *fid = (const void *)p;
		struct file_handle *fh = (struct file_handle *)fid->handle;
		size_t n;
		if (h->len < sizeof *fid + sizeof *fh ||
		    fh->handle_bytes > h->len - sizeof *fid - sizeof *fh) {
			p += h->len;
			continue;
		}
		switch (h->info_type) {
		case FAN_EVENT_INFO_TYPE_DFID_NAME: {
			const char *name = (const char *)(fh->f_handle + fh->handle_bytes);
			const char *rec_end = p + h->len;
			if ((const char *)fh->f_handle > rec_end || name >= rec_end)
				break; /* not the layout fanotify(7) gives */
			size_t nl = strnlen(name, (size_t)(rec_end - name));
			if (nl == 0 || nl == (size_t)(rec_end - name))
				break;
			n = nodes_of(w, (const fsid_t *)&fid->fsid, fh, ids, 32);
			for (size_t i = 0; i < n; i++)
				fuse_lowlevel_notify_inval_entry(w->fs->se, ids[i], name, nl);
			break;
		}
		case FAN_EVENT_INFO_TYPE_FID:
			if (!(m->mask & FAN_ATTRIB))
				break;
			n = nodes_of(w, (const fsid_t *)&fid->fsid, fh, ids, 32);
			for (size_t i = 0; i < n; i++) /* attributes only */
				fuse_lowlevel_notify_inval_inode(w->fs->se, ids[i], -1, 0);
			break;
		default:
			break;
		}
		p += h->len;
	}
}

static void *watch_main(void *arg)
{
	struct watch *w = arg;
	pid_t self = getpid();
	static char buf[16384] __attribute__((aligned(8)));
	/* marking every file system takes a while: not before we serve */
	w->fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_REPORT_DFID_NAME |
			       FAN_REPORT_FID, O_RDONLY | O_CLOEXEC);
	if (w->fan < 0)
		return NULL;
	mark_all(w);
	for (;;) {
		ssize_t n = read(w->fan, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		const struct fanotify_event_metadata *m = (const void *)buf;
		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n))
			if (m->vers == FANOTIFY_METADATA_VERSION && m->pid != self &&
			    !(m->mask & FAN_Q_OVERFLOW))
				event(w, m);
	}
	return NULL;
}

int fsg_watch_start(struct fsg *fs)
{
	static struct watch w;
	w.fs = fs;
	w.fan = -1;
	pthread_t t;
	int r = pthread_create(&t, NULL, watch_main, &w);
	if (r != 0)
		return -r;
	pthread_detach(t);
	return 0;
}

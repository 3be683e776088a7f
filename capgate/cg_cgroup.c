/* cg_cgroup.c: instance cgroups (see cg_cgroup.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sysfile.h"
#include "capgate/cg_cgroup.h"
#include "netgate/ng_cgroup.h"

int cg_label_escape(const char *name, char *out, size_t len)
{
	size_t o = 0;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	for (const char *p = name; *p; p++) {
		const char *rep = NULL;
		if (*p == '/')
			rep = "%2f";
		else if (*p == '%')
			rep = "%25";
		size_t n = rep ? 3 : 1;
		if (o + n + 1 > len || o + n > 255)
			return -ENAMETOOLONG;
		if (rep)
			memcpy(out + o, rep, 3);
		else
			out[o] = *p;
		o += n;
	}
	out[o] = '\0';
	return (int)o;
}

/* Field 22 of /proc/<pid>/stat: the start time in clock ticks. comm (field
 * 2) may hold spaces and parentheses, so parse after the last ')'. */
static int start_time(pid_t pid, unsigned long long *out)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int r = read_small_file(path, buf, sizeof buf);
	if (r < 0)
		return r;
	char *p = strrchr(buf, ')'); /* the end of field 2 */
	if (!p)
		return -EINVAL;
	for (int field = 2; field < 22; field++) { /* to the space before 22 */
		p = strchr(p + 1, ' ');
		if (!p)
			return -EINVAL;
	}
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

int cg_instance_id(pid_t pid, char *out, size_t len)
{
	unsigned long long st;
	int r = start_time(pid, &st);
	if (r < 0)
		return r;
	if ((size_t)snprintf(out, len, "%d-%llu", (int)pid, st) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int cg_parse_id(const char *name, pid_t *pid, unsigned long long *start)
{
	char *end;
	errno = 0;
	long p = strtol(name, &end, 10);
	if (errno || p <= 0 || *end != '-' || end == name)
		return -EINVAL;
	const char *s = end + 1;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	unsigned long long st = strtoull(s, &end, 10);
	if (errno || (*end && strcmp(end, CG_UX_SUFFIX) != 0))
		return -EINVAL;
	*pid = (pid_t)p;
	*start = st;
	return 0;
}

int cg_root(char *out, size_t len)
{
	return ng_cgroup_root(out, len);
}

int cg_mkdir(const char *root, const char *rel)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", root, rel) >= sizeof path)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	return n < 0 ? -e : 0;
}

int cg_move(const char *root, const char *rel, pid_t pid)
{
	char path[4096], num[32];
	if ((size_t)snprintf(path, sizeof path, "%s/%s/cgroup.procs", root, rel) >= sizeof path)
		return -ENAMETOOLONG;
	snprintf(num, sizeof num, "%d\n", (int)pid);
	return write_text(path, num);
}

static int populated(const char *dir)
{
	char path[4200], buf[256];
	snprintf(path, sizeof path, "%s/cgroup.events", dir);
	if (read_small_file(path, buf, sizeof buf) < 0)
		return 0;
	return strstr(buf, "populated 1") != NULL;
}

/* rmdir children first; `rel` is relative to root, for detach. */
static void remove_tree(const char *root, const char *rel, cg_detach_fn detach,
			void *arg, int depth)
{
	char dir[4096];
	if ((size_t)snprintf(dir, sizeof dir, "%s/%s", root, rel) >= sizeof dir)
		return;
	DIR *d = depth < 8 ? opendir(dir) : NULL;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			char sub[4096];
			if ((size_t)snprintf(sub, sizeof sub, "%s/%s", rel, e->d_name) < sizeof sub)
				remove_tree(root, sub, detach, arg, depth + 1);
		}
		closedir(d);
	}
	if (detach)
		detach(arg, rel);
	/* A cgroup whose last process just died can stay busy for a moment. */
	for (int i = 0; i < 200 && rmdir(dir) < 0 && errno == EBUSY; i++) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

int cg_destroy(const char *root, const char *rel, cg_detach_fn detach, void *arg)
{
	char dir[4096], path[4200];
	if ((size_t)snprintf(dir, sizeof dir, "%s/%s", root, rel) >= sizeof dir)
		return -ENAMETOOLONG;
	struct stat st;
	if (stat(dir, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (populated(dir)) {
		snprintf(path, sizeof path, "%s/cgroup.kill", dir);
		write_text(path, "1");
		for (int i = 0; i < 400 && populated(dir); i++) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	remove_tree(root, rel, detach, arg, 0);
	return 0;
}

int cg_collect_stale(const char *root, cg_detach_fn detach, void *arg)
{
	char base[4096];
	snprintf(base, sizeof base, "%s/%s", root, CG_DIR);
	DIR *d = opendir(base);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		pid_t pid;
		unsigned long long st, now;
		if (e->d_type != DT_DIR || cg_parse_id(e->d_name, &pid, &st) < 0)
			continue;
		if (start_time(pid, &now) == 0 && now == st)
			continue; /* its launcher still runs */
		char rel[512];
		snprintf(rel, sizeof rel, "%s/%s", CG_DIR, e->d_name);
		cg_destroy(root, rel, detach, arg);
		n++;
	}
	closedir(d);
	return n;
}

/* ng_cgroup.c: find the cgroup2 mount and name cgroups below it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ng_cgroup.h"

/* /proc/self/mounts escapes space, tab, newline and backslash as \ooo. */
static void unescape_mount(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
		    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int ng_cgroup_root_from_mounts(const char *mounts, char *root, size_t len)
{
	const char *line = mounts;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char buf[4096], dev[4096], dir[4096], type[64];
		if (n < sizeof buf) {
			memcpy(buf, line, n);
			buf[n] = '\0';
			if (sscanf(buf, "%4095s %4095s %63s", dev, dir, type) == 3 &&
			    strcmp(type, "cgroup2") == 0) {
				unescape_mount(dir);
				if (strlen(dir) >= len)
					return -ENAMETOOLONG;
				strcpy(root, dir);
				return 0;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int ng_cgroup_root(char *root, size_t len)
{
	int fd = open("/proc/self/mounts", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int r = 0;
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (n + 1 >= cap) {
			if (cap >= (1u << 24)) { /* 16 MiB of mounts: enough */
				r = -EFBIG;
				goto out;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + n, cap - n - 1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	r = ng_cgroup_root_from_mounts(buf, root, len);
out:
	free(buf);
	close(fd);
	return r;
}

int ng_cgroup_rel(const char *root, const char *path, struct ng_cgroup *out)
{
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	const char *p = path;
	if (path[0] == '/' && strncmp(path, root, rl) == 0 &&
	    (path[rl] == '/' || path[rl] == '\0'))
		p = path + rl;
	memset(out, 0, sizeof *out);
	size_t w = 0;
	int level = 0;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (w + 1 + n > NG_CGROUP_PATH_MAX)
			return -ENAMETOOLONG;
		out->rel[w++] = '/';
		memcpy(out->rel + w, p, n);
		w += n;
		p += n;
		if (++level > NG_CGROUP_LEVEL_MAX)
			return -ENAMETOOLONG;
	}
	if (level == 0)
		return -EINVAL; /* the root itself cannot be confined */
	out->rel[w] = '\0';
	out->level = level;
	return 0;
}

int ng_cgroup_resolve(const char *root, const char *path, struct ng_cgroup *out)
{
	int r = ng_cgroup_rel(root, path, out);
	if (r < 0)
		return r;
	char full[4096];
	if ((size_t)snprintf(full, sizeof full, "%s%s", root, out->rel) >= sizeof full)
		return -ENAMETOOLONG;
	struct stat st;
	if (stat(full, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	out->id = (uint64_t)st.st_ino;
	return 0;
}

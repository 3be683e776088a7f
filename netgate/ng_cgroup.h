/* ng_cgroup.h: where cgroup v2 lives, and a cgroup's id and level.
 *
 * The id of a cgroup v2 is the inode number of its directory (kernfs ids
 * are the inode numbers on 64-bit kernels), which is what nftables'
 * `socket cgroupv2 level N` puts in a register: the id of the socket's
 * cgroup ancestor at depth N below the root (the root is level 0).
 */
#ifndef NETGATE_NG_CGROUP_H
#define NETGATE_NG_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#define NG_CGROUP_PATH_MAX 127 /* relative path; fits an nft comment */
#define NG_CGROUP_LEVEL_MAX 32

/* The cgroup2 mount point from `mounts` (a /proc/self/mounts text), the
 * first cgroup2 line. Returns 0, or -ENOENT. Pure. */
int ng_cgroup_root_from_mounts(const char *mounts, char *root, size_t len);

/* The same, reading /proc/self/mounts. */
int ng_cgroup_root(char *root, size_t len);

struct ng_cgroup {
	char rel[NG_CGROUP_PATH_MAX + 1]; /* "/a/b": below the root */
	uint64_t id;                     /* inode number of the directory */
	int level;                       /* number of components of rel */
};

/* Canonical relative path and level for `path`, which is either absolute
 * under `root` or relative to it (with or without a leading '/'). Pure:
 * no file system access. "." and ".." components and empty paths are
 * refused (-EINVAL), too long ones -ENAMETOOLONG. */
int ng_cgroup_rel(const char *root, const char *path, struct ng_cgroup *out);

/* ng_cgroup_rel() plus the id, from stat(2) on the directory. */
int ng_cgroup_resolve(const char *root, const char *path, struct ng_cgroup *out);

#endif

/* cg_super_int.h: the supervisor's helpers shared by cg_super.c (exec,
 * m, sockets) and cg_direct.c (direct subtrees). Each works on a process
 * blocked in a notification, identified by its tid. */
#ifndef CAPGATE_CG_SUPER_INT_H
#define CAPGATE_CG_SUPER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/seccomp.h>

#include "audit.h"
#include "capgate/cg_super.h"

enum who { WHO_INITIAL, WHO_CONFINED, WHO_UNCONFINED, WHO_UNKNOWN };

/* Label of a process from its cgroup: the instance's profile or a label
 * cgroup's (WHO_CONFINED, *pr set), <id>.ux, the launcher's own child
 * before its first exec, or a label no profile has. */
enum who cg_who_is(struct cg_super *s, pid_t pid, const struct profile **pr,
		   char *label, size_t llen);

/* "Key:\tv1\tv2..." field `idx` (0-based) of /proc/<pid>/status, or -1. */
long cg_status_field(pid_t pid, const char *key, int idx, int base);

/* A NUL-terminated string from the caller's memory. 0 or -errno. */
int cg_read_string(pid_t pid, uint64_t addr, char *buf, size_t len);

/* Open `path` as process `pid` would resolve it (its root, dirfd `dfd` or
 * its cwd): an O_PATH fd, and the canonical path as the sandbox sees it. */
int cg_resolve(pid_t pid, int dfd, const char *path, bool nofollow,
	       bool empty, char *canon, size_t clen);

/* The file behind the caller's fd `num`: 1 (path and stat set) for a
 * file with an absolute path, 0 for anything else, -errno for a bad fd. */
int cg_fd_file(pid_t tid, int num, char *path, size_t len, struct stat *st);

/* One AppArmor-format file line. */
void cg_log_file(struct cg_super *s, enum audit_kind kind, const char *op,
		 const char *prof, const char *name, const char *target,
		 const char *info, pid_t pid, const char *mask, long fsuid,
		 long ouid);

/* Answer a notification: let the call run (cont) or fail it with error. */
int cg_respond(struct cg_super *s, uint64_t id, int error, bool cont);

#endif

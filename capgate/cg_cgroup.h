/* cg_cgroup.h: the instance cgroups of `capgate exec`.
 *
 * Layout (agreed with fsgate and netgate): <cgroup2 root>/capgate/<id> is one
 * instance; a process there has the instance's profile; a process in
 * <id>/<label> has the profile named by <label> ('/' escaped as %2f, '%' as
 * %25): moving a process there is how an exec transition changes its
 * profile. Processes that a ux transition made unconfined go to the sibling
 * <id>.ux, outside the instance, which fsgate and netgate leave alone.
 *
 * <id> is "<launcher pid>-<launcher start time>": a later launcher collects
 * an instance whose launcher is gone (killed with SIGKILL) by comparing the
 * start time in /proc/<pid>/stat, so pid reuse cannot keep a stale one.
 */
#ifndef CAPGATE_CG_CGROUP_H
#define CAPGATE_CG_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#define CG_DIR "capgate"
#define CG_UX_SUFFIX ".ux"

/* Escape a profile name into one cgroup directory name. Pure. Returns the
 * length or -ENAMETOOLONG. */
int cg_label_escape(const char *name, char *out, size_t len);

/* "<pid>-<starttime>" of a process, from /proc/<pid>/stat. */
int cg_instance_id(pid_t pid, char *out, size_t len);

/* Parse an instance directory name: 0 and the pid and start time, or
 * -EINVAL (not ours). Pure. */
int cg_parse_id(const char *name, pid_t *pid, unsigned long long *start);

/* The cgroup2 mount point (e.g. /sys/fs/cgroup/unified). */
int cg_root(char *out, size_t len);

/* Remove instances whose launcher is gone: kill what runs there, let
 * `detach` (may be NULL) undo per-cgroup state, rmdir. Returns how many. */
typedef void (*cg_detach_fn)(void *arg, const char *cgpath_rel);
int cg_collect_stale(const char *root, cg_detach_fn detach, void *arg);

/* Create a directory below root (mode 0755); EEXIST is fine. */
int cg_mkdir(const char *root, const char *rel);

/* Move process `pid` (all its threads) into root/rel. */
int cg_move(const char *root, const char *rel, pid_t pid);

/* Kill everything in root/rel and below (cgroup.kill), wait until empty
 * (bounded), then remove the directories bottom-up, calling detach on each
 * (relative path, and arg) before its rmdir. */
int cg_destroy(const char *root, const char *rel, cg_detach_fn detach, void *arg);

#endif

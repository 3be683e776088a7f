/* sysfile.h: reading the small kernel files the enforcement points ask
 * (/proc/PID/cgroup, /proc/PID/status, cgroup.events, ...). */
#ifndef CAPGATE_SYSFILE_H
#define CAPGATE_SYSFILE_H

#include <stddef.h>

/* One read(2) of at most len-1 bytes, NUL-terminated: the length, or
 * -errno. Enough for procfs/cgroupfs files, which answer in one read. */
int read_small_file(const char *path, char *buf, size_t len);

#endif

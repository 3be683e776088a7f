/* cg_prefetch.h: warm the sandbox's FUSE root for the program's exec.
 *
 * The sandbox's root is a FUSE mount made for this instance, so its page
 * cache and fsgate's lookups start cold, and the program's exec (its image,
 * its ELF interpreter, ld.so.cache) pays for each first access in round
 * trips to fsgate. When netgate's rules are still on their way (the
 * program may not exec before they are in place), init, which is outside
 * the instance's cgroup, looks those files up and starts their readahead
 * before it starts the program. Only regular files are opened (never a
 * device or FIFO); nothing read reaches the program: its own opens still
 * go to fsgate, which decides them as always. Best effort: errors are
 * ignored.
 */
#ifndef CAPGATE_CG_PREFETCH_H
#define CAPGATE_CG_PREFETCH_H

/* prog: as given to execvp (a name looked up along $PATH, or a path). */
void cg_prefetch_exec(const char *prog);

#endif

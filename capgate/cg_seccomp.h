/* cg_seccomp.h: the launcher's seccomp filter, with netgate's rules for
 * socket creation in it. Installed last before exec, inherited by
 * everything the program starts; the returned listener goes to the
 * launcher's supervisor (cg_super.c), which decides execve/execveat (exec
 * transitions) and PROT_EXEC file mappings (the `m` permission), and logs
 * the socket(2)/socketpair(2) calls netgate's rules refuse. */
#ifndef CAPGATE_CG_SECCOMP_H
#define CAPGATE_CG_SECCOMP_H

#include "capgate/cg_plan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A compiled filter (classic BPF), built in the launcher before the
 * sandbox exists so the program's start does not wait for libseccomp. */
struct cg_bpf {
	void *buf;
	size_t len;
};

/* Our filter, for the plan, with netgate's socket rules of profile `net`
 * (NULL: none) as notifications. 0 or -errno. */
struct profile;
int cg_seccomp_export(const struct cg_plan *p, const struct profile *net,
		      struct cg_bpf *out);
/* The same, kept in cache_dir between runs: libseccomp takes 1-2 ms to
 * build and export it. The key is everything the program depends on: the
 * policy's digest (all zero: not cached), the profile's name, the plan's
 * switches and this binary's identity; the file holds the whole key. */
int cg_seccomp_export_cached(const struct cg_plan *p, const struct profile *net,
			     const uint8_t digest[32], const char *profile,
			     const char *cache_dir, struct cg_bpf *out);
/* Install (no_new_privs must be set); with `listener`, returns the
 * user-notification listener fd. 0/fd or -errno. */
int cg_seccomp_install(const struct cg_bpf *b, bool listener);
/* A filter written to fd (a memfd) by another process. 0 or -errno. */
int cg_bpf_from_fd(int fd, struct cg_bpf *out);
void cg_bpf_free(struct cg_bpf *b);

#endif

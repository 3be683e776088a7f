/* policy.h: the compiled policy and the decisions the enforcement points ask.
 *
 * This is the only header fsgate, netgate and capgate need from common/
 * (plus audit.h to format log lines). A compiled policy is immutable once
 * built or loaded: FUSE threads share it without locks, and a reload builds a
 * new one and swaps one pointer.
 *
 * Data flow: profile text -> parse (parse.h) -> compile (this file's
 * policy_compile) -> struct policy -> decide_*() -> errno / nft rule / caps.
 */
#ifndef CAPGATE_POLICY_H
#define CAPGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy;  /* a set of compiled profiles (a policy directory) */
struct profile; /* one compiled profile (top level, child or hat) */

/* File permission bits, our own numbering (not the kernel's). */
enum {
	PERM_EXEC = 1u << 0,   /* x: any exec mode; the transition is in struct xtrans */
	PERM_WRITE = 1u << 1,  /* w */
	PERM_READ = 1u << 2,   /* r */
	PERM_APPEND = 1u << 3, /* a */
	PERM_LINK = 1u << 4,   /* l */
	PERM_LOCK = 1u << 5,   /* k */
	PERM_MMAP = 1u << 6,   /* m */
	PERM_ALL = (1u << 7) - 1,
};

/* Exec transitions. px and Px differ only in XF_SCRUB (upper case: scrub
 * the environment, like upstream's "safe" exec). */
enum xtype {
	XT_NONE = 0,
	XT_INHERIT,    /* ix */
	XT_PROFILE,    /* px/Px: the target's profile, by name or attachment */
	XT_CHILD,      /* cx/Cx: a child profile of the current one */
	XT_UNCONFINED, /* ux/Ux */
	XT_MAX
};
enum {
	XF_SCRUB = 1u << 0,        /* upper case: scrub the environment */
	XF_FALLBACK_IX = 1u << 1,  /* pix/cix: inherit when no target profile */
	XF_FALLBACK_UX = 1u << 2,  /* pux/cux: unconfined when no target profile */
};
struct xtrans {
	uint8_t type;       /* enum xtype */
	uint8_t flags;      /* XF_* */
	const char *target; /* "-> name" target, or NULL: find by attachment */
};

/* The file verdict for one path. `allow` holds what every caller gets,
 * `owner_allow` what a caller gets when its fsuid owns the file. Deny is
 * already subtracted from both (deny wins, like upstream). */
struct file_perms {
	uint32_t allow;
	uint32_t owner_allow;
	uint32_t deny;  /* explicitly denied bits */
	uint32_t audit; /* log these when allowed (audit rules) */
	uint32_t quiet; /* do not log these when denied (plain deny rules) */
	struct xtrans x;       /* transition for x in `allow` */
	struct xtrans owner_x; /* transition for x in `owner_allow` */
};

/* Capabilities: bit N is CAP_N (linux/capability.h numbering). */
struct cap_set {
	uint64_t allow, deny, audit;
};

/* Network. family/type/protocol 0 mean "any". */
enum {
	NET_CREATE = 1u << 0,
	NET_BIND = 1u << 1,
	NET_LISTEN = 1u << 2,
	NET_ACCEPT = 1u << 3,
	NET_CONNECT = 1u << 4,
	NET_SEND = 1u << 5,
	NET_RECEIVE = 1u << 6,
	NET_SHUTDOWN = 1u << 7,
	NET_GETATTR = 1u << 8,
	NET_SETATTR = 1u << 9,
	NET_GETOPT = 1u << 10,
	NET_SETOPT = 1u << 11,
	NET_ALL = (1u << 12) - 1,
};
struct net_addr {
	uint8_t has_ip;     /* 0: any address */
	uint8_t ip_family;  /* AF_INET or AF_INET6 when has_ip */
	uint8_t ip[16];     /* network byte order; "none" is has_ip=2 */
	uint16_t port_lo;   /* 0..65535; lo=0,hi=65535 when unspecified */
	uint16_t port_hi;
};
struct net_rule {
	uint8_t deny;  /* 1 for deny rules */
	uint8_t audit; /* 1 for audit rules */
	uint16_t family;   /* AF_* or 0 */
	uint16_t type;     /* SOCK_* or 0 */
	uint16_t protocol; /* IPPROTO_* or 0 */
	uint32_t access;   /* NET_*; NET_ALL when unspecified */
	struct net_addr local; /* ip= port= */
	struct net_addr peer;  /* peer=(ip= port=) */
};

/* rlimits: resource numbers are RLIMIT_* from sys/resource.h. */
struct rlimit_rule {
	int resource;
	uint64_t value; /* RLIM_INFINITY for "infinity" */
};

/* Profile flags. */
enum {
	PF_COMPLAIN = 1u << 0,
	PF_KILL = 1u << 1,
	PF_UNCONFINED = 1u << 2,
	PF_ATTACH_DISCONNECTED = 1u << 3,
	PF_CHROOT_RELATIVE = 1u << 4,
	PF_MEDIATE_DELETED = 1u << 5,
	PF_HAT = 1u << 6,      /* this profile is a hat (^name) */
	PF_PROMPT = 1u << 7,
	PF_AUDIT = 1u << 8,    /* flags=(audit) */
	PF_DEFAULT_ALLOW = 1u << 9,
};

/* Other rule classes the launcher enforces with seccomp or namespaces. */
enum {
	PX_USERNS_CREATE = 1u << 0, /* userns, / userns create, */
	PX_IO_URING = 1u << 1,      /* any io_uring rule */
	PX_MQUEUE = 1u << 2,
	PX_PTRACE = 1u << 3,
	PX_SIGNAL = 1u << 4,
	PX_MOUNT = 1u << 5,
	PX_PIVOT_ROOT = 1u << 6,
	PX_UNIX = 1u << 7,   /* any unix rule */
	PX_DBUS = 1u << 8,
	PX_CHANGE_PROFILE = 1u << 9,
	PX_ALL = 1u << 10,   /* `all,` */
	/* an allow rule with px/Px/cx/Cx/ux/Ux (or a fallback): an exec can
	 * leave this profile (not one of the classes `all` implies) */
	PX_TRANSITIONS = 1u << 11,
};

/* ---- Loading ---- */

/* Errors while loading or compiling carry a location. */
struct diag {
	char *file;
	int line, col;
	int warning; /* 1 for warnings */
	char *msg;
};
struct diags {
	struct diag *v;
	size_t n, cap;
	size_t nerrors;
};
void diags_free(struct diags *d);

/* Compile every profile file in `files` (search path `incdirs`, NULL
 * terminated; an empty list means the policy directory itself). Returns 0
 * and *out, or -EINVAL with the errors in *d. Nothing is half-applied: on any
 * error *out is NULL. */
int policy_compile_files(const char *const *files, size_t nfiles,
			 const char *const *incdirs, struct diags *d,
			 struct policy **out);

/* The same from memory (tests, fuzzing); `name` names it in errors. */
int policy_compile_mem(const char *name, const char *buf, size_t len,
		       const char *const *incdirs, struct diags *d,
		       struct policy **out);

/* Load a policy directory laid out like /etc/apparmor.d (top-level files;
 * tunables/ abstractions/ local/ are include-only), using the binary cache
 * in `cache_dir` (NULL: no cache) when it matches the sources. */
int policy_load_dir(const char *dir, const char *cache_dir, struct diags *d,
		    struct policy **out);

/* Binary cache: versioned, checksummed, bound to a digest of the sources.
 * policy_read_cache() returns -ESTALE for a cache from other sources or
 * another version, -EBADMSG for a corrupt one. */
int policy_write_cache(const struct policy *p, const char *path);
int policy_read_cache(const char *path, const uint8_t src_digest[32],
		      struct policy **out);

void policy_free(struct policy *p);
/* A digest of the policy's sources (set when loaded with a cache dir,
 * else zero): two processes with the same digest hold the same policy. */
const uint8_t *policy_digest(const struct policy *p);

/* ---- Lookup ---- */

size_t policy_count(const struct policy *p); /* top-level profiles */
const struct profile *policy_at(const struct policy *p, size_t i);
/* By full name ("foo", or "foo//bar" for a child or hat). */
const struct profile *policy_find(const struct policy *p, const char *name);
/* The profile whose attachment matches an executable's path, longest
 * (most specific) match first, like upstream; NULL when none. */
const struct profile *policy_find_attach(const struct policy *p,
					 const char *exec_path);
/* A child profile or hat of `parent` by its short name. */
const struct profile *profile_child(const struct profile *parent,
				    const char *name);

/* The child profile of `parent` whose attachment matches an executable's
 * path, most specific first (cx/Cx without "-> name"); NULL when none. */
const struct profile *profile_child_attach(const struct profile *parent,
					   const char *exec_path);

const char *profile_name(const struct profile *pr); /* full name, "a//b" */
uint32_t profile_flags(const struct profile *pr);   /* PF_* */
uint32_t profile_extra(const struct profile *pr);   /* PX_* allowed classes */
const struct cap_set *profile_caps(const struct profile *pr);
size_t profile_net_rules(const struct profile *pr, const struct net_rule **out);
size_t profile_rlimits(const struct profile *pr, const struct rlimit_rule **out);

/* ---- Decisions ---- */

/* The file verdict for an absolute, canonical path (no "//", ".", ".."; a
 * directory is asked with a trailing '/'). O(strlen(path)). */
void decide_file(const struct profile *pr, const char *path,
		 struct file_perms *out);
/* Does every path below directory `dir` (absolute, canonical, with its
 * trailing '/'; the directory itself included) get the same verdict? 1
 * and that verdict in *out, 0 when not, -ENOMEM. */
int decide_file_subtree(const struct profile *pr, const char *dir,
			struct file_perms *out);
/* The bits granted to a caller (owner: its fsuid owns the file). */
uint32_t file_perms_granted(const struct file_perms *fp, bool owner);

/* link(2): may `newpath` be made a hard link to `target`? Upstream's rule:
 * l on newpath, and unless a `link` rule without `subset` says otherwise,
 * newpath's permissions must be a subset of target's. Returns 0 or -EACCES. */
int decide_link(const struct profile *pr, const char *newpath,
		const char *target, bool owner_new, bool owner_target);

/* socket(2): 0 allowed, -EACCES denied. *audit set when an audit rule
 * matched (log the allowed use). */
int decide_socket(const struct profile *pr, int family, int type,
		  int protocol, bool *audit);
/* AppArmor's name of a socket family ("inet6") or type ("stream"), or
 * NULL for one it has no name for; and back (-1: no such name). */
const char *net_domain_name(int family);
const char *net_type_name(int type);
int net_domain_from_name(const char *name);
int net_type_from_name(const char *name);

/* The top-level profile files of a policy directory, sorted: regular
 * files only (not the include directories), no dot files, README, backups
 * (~) or dpkg leftovers. *out: n malloc'ed paths (free each and the
 * array). 0 or -errno. */
int policy_list_dir(const char *dir, char ***out, size_t *n);

/* Capability N: 0 allowed, -EPERM denied. */
int decide_cap(const struct profile *pr, int cap, bool *audit);

/* ---- Mode strings ---- */

/* "mrwalk" order then the exec mode ("ix", "Px", "pux", ...); "-" for none.
 * Returns the length written (buf of at least 32 bytes). */
size_t perms_to_string(uint32_t perms, const struct xtrans *x, char *buf,
		       size_t len);

#endif

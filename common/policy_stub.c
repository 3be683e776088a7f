/* TEMPORARY stub of policy.h so every component links while the compiler
 * is written: one allow-all profile answers every name. Replaced by the
 * real compiler (common/compile.c and friends). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"

struct profile { const char *name; struct cap_set caps; };
struct policy { int dummy; };
static struct profile stub_profile = { "stub", { ~0ull, 0, 0 } };
static struct policy stub_policy;

void diags_free(struct diags *d) { (void)d; }
int policy_compile_files(const char *const *files, size_t nfiles, const char *const *incdirs, struct diags *d, struct policy **out) { *out = &stub_policy; return 0; }
int policy_load_dir(const char *dir, const char *cache_dir, struct diags *d, struct policy **out) { *out = &stub_policy; return 0; }
int policy_write_cache(const struct policy *p, const char *path) { return -ENOSYS; }
int policy_read_cache(const char *path, const uint8_t src_digest[32], struct policy **out) { return -ENOSYS; }
void policy_free(struct policy *p) { (void)p; }
size_t policy_count(const struct policy *p) { return 1; }
const struct profile *policy_at(const struct policy *p, size_t i) { return &stub_profile; }
const struct profile *policy_find(const struct policy *p, const char *name) { return &stub_profile; }
const struct profile *policy_find_attach(const struct policy *p, const char *exec_path) { return NULL; }
const struct profile *profile_child(const struct profile *parent, const char *name) { return NULL; }
const char *profile_name(const struct profile *pr) { return pr->name; }
uint32_t profile_flags(const struct profile *pr) { return 0; }
uint32_t profile_extra(const struct profile *pr) { return ~0u; }
const struct cap_set *profile_caps(const struct profile *pr) { return &pr->caps; }
size_t profile_net_rules(const struct profile *pr, const struct net_rule **out) { *out = NULL; return 0; }
size_t profile_rlimits(const struct profile *pr, const struct rlimit_rule **out) { *out = NULL; return 0; }
void decide_file(const struct profile *pr, const char *path, struct file_perms *out) { memset(out, 0, sizeof *out); out->allow = PERM_ALL & ~PERM_APPEND; out->x.type = XT_INHERIT; }
uint32_t file_perms_granted(const struct file_perms *fp, bool owner) { return fp->allow | (owner ? fp->owner_allow : 0); }
int decide_link(const struct profile *pr, const char *newpath, const char *target, bool on, bool ot) { return 0; }
int decide_socket(const struct profile *pr, int family, int type, int protocol, bool *audit) { *audit = false; return 0; }
int decide_cap(const struct profile *pr, int cap, bool *audit) { *audit = false; return 0; }
size_t perms_to_string(uint32_t perms, const struct xtrans *x, char *buf, size_t len) { strncpy(buf, "stub", len); return 4; }

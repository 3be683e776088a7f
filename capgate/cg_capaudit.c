/* cg_capaudit.c: capability lines from a BPF program on cap_capable()'s
 * exit (see cg_capaudit.h).
 *
 * The program is written as raw instructions (as netgate's bind programs
 * are) and loaded with libbpf's low-level calls: no compiler for BPF, no
 * object files. Its maps:
 *   cgroup  CGROUP_ARRAY[1]: the instance's cgroup, for
 *           bpf_current_task_under_cgroup() (true in label cgroups too,
 *           which are its children, false in the <id>.ux sibling);
 *   masks   HASH cgroup id -> u64: capabilities whose successful checks
 *           need a line, per cgroup (cg_capaudit_success_mask());
 *   events  RINGBUF of struct cap_event.
 * A cgroup id is the inode number of the cgroup's directory on cgroup2
 * (kernfs_ino(), what bpf_get_current_cgroup_id() returns), so the
 * launcher maps an event's cgroup to its profile with stat().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "capgate/cg_bpfsys.h"
#include "capgate/cg_capaudit.h"

#define STACK_DEPTH 8

/* What the program writes for one check. */
struct cap_event {
	uint32_t tgid, uid;
	uint64_t cgid;
	int32_t cap, ret;
	char comm[16];
	int32_t nstack; /* bytes of stack[], or -errno (tracepoint only) */
	uint32_t pad;
	uint64_t stack[STACK_DEPTH]; /* return addresses, innermost first */
};

/* fexit sends no stack */
static uint32_t event_size(bool fexit)
{
	return fexit ? offsetof(struct cap_event, nstack) : sizeof(struct cap_event);
}

#define CAP_OPT_NOAUDIT (1 << 1) /* include/linux/security.h */
#define RINGBUF_SIZE (64 * 1024)
#define MAX_CGROUPS (CG_SUPER_MAX_LABELS + 1)
#define DEDUP_NS 1000000000ull /* AppArmor's AUDIT_CACHE_TIMEOUT_NS */

struct cg_entry {
	uint64_t cgid;
	const struct profile *pr;
	uint64_t last[64]; /* CLOCK_MONOTONIC ns of the last line, per capability */
};

/* Kernel functions that only make silent (CAP_OPT_NOAUDIT) checks: the
 * tracepoint does not say, its callers do (kernel/capability.c;
 * security/commoncap.c's cap_vm_enough_memory, often inlined into
 * security_vm_enough_memory_mm). */
static const char *const noaudit_fns[] = {
	"ns_capable_noaudit", "has_ns_capability_noaudit", "has_capability_noaudit",
	"cap_vm_enough_memory", "security_vm_enough_memory_mm",
};
#define NNOAUDIT (sizeof noaudit_fns / sizeof noaudit_fns[0])

/* What the kernel's files say, cached per boot (cache_path()): reading
 * vmlinux BTF costs ~6 ms, /proc/kallsyms ~25 ms. */
#define KINFO_MAGIC 0x63617061756431ull /* "capaud1" */
struct kinfo {
	uint64_t magic;
	int32_t btf_id;                /* cap_capable's, or -errno */
	uint32_t nsyms;                /* noaudit_fns found */
	uint64_t noaudit[NNOAUDIT][2]; /* their [start, end), 0 when missing */
};

struct cg_capaudit {
	int cg_map, mask_map, rb_map, prog, link;
	bool fexit;         /* else the tracepoint: NOAUDIT known from the stack */
	struct kinfo ki;
	struct cg_ringbuf rb;
	struct audit_sink *audit;
	bool complain;
	cg_attach_fn next;  /* the supervisor's attach callback (chained) */
	void *next_arg;
	const char *cgroot;
	struct cg_entry cgs[MAX_CGROUPS]; /* [0]: the instance's own cgroup */
	unsigned ncgs;
};

/* ---- the decision (pure) ---- */

/* A plain `deny capability X,` quiets X; `audit deny` does not; and
 * flags=(audit) logs everything (AppArmor's AUDIT_ALL). */
static bool quiet(const struct cap_set *cs, uint64_t bit, uint32_t flags)
{
	return (cs->deny & bit) && !(cs->audit & bit) && !(flags & PF_AUDIT);
}

uint64_t cg_capaudit_success_mask(const struct profile *pr, bool complain)
{
	uint32_t flags = profile_flags(pr);
	const struct cap_set *cs = profile_caps(pr);
	if (flags & PF_UNCONFINED)
		return 0;
	bool all = flags & PF_AUDIT;
	uint64_t m = all ? cs->allow : cs->allow & cs->audit;
	if (complain || (flags & PF_COMPLAIN))
		m |= ~cs->allow & ~(all ? 0 : cs->deny & ~cs->audit);
	return m;
}

int cg_capaudit_kind(const struct profile *pr, bool complain, int cap, int ret,
		     uint32_t uid)
{
	if (cap < 0 || cap > 63)
		return -1;
	uint64_t bit = 1ull << cap;
	uint32_t flags = profile_flags(pr);
	const struct cap_set *cs = profile_caps(pr);
	if (flags & PF_UNCONFINED)
		return -1;
	complain = complain || (flags & PF_COMPLAIN);
	if (ret == 0) {
		if (cs->allow & bit)
			return (cs->audit & bit) || (flags & PF_AUDIT) ? AUDIT_AUDIT : -1;
		return complain && !quiet(cs, bit, flags) ? AUDIT_ALLOWED : -1;
	}
	/* Refused by the kernel. In complain mode nothing was dropped, so it
	 * is the kernel's own refusal, as is any for a non-root caller or a
	 * capability the profile allows. */
	if (complain || uid != 0 || (cs->allow & bit) || quiet(cs, bit, flags))
		return -1;
	return AUDIT_DENIED;
}

/* ---- the program ---- */

enum { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };
enum { L_OUT, L_OK, L_RECORD, L_DISCARD, L_MAX };

struct prog {
	struct bpf_insn v[512];
	size_t n;
	size_t fix[128]; /* jumps to patch: index of insn */
	int fix_to[128]; /* their label */
	size_t nfix;
	size_t label[L_MAX];
	int err;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
		 int32_t imm)
{
	if (p->n >= sizeof p->v / sizeof p->v[0]) {
		p->err = -E2BIG;
		return;
	}
	p->v[p->n++] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src,
					  .off = off, .imm = imm };
}

/* A jump to a label, patched by resolve(). */
static void jump(struct prog *p, uint8_t code, uint8_t dst, int32_t imm, int to)
{
	if (p->nfix >= sizeof p->fix / sizeof p->fix[0]) {
		p->err = -E2BIG;
		return;
	}
	p->fix[p->nfix] = p->n;
	p->fix_to[p->nfix++] = to;
	emit(p, code, dst, 0, 0, imm);
}

static void here(struct prog *p, int label)
{
	p->label[label] = p->n;
}

static void resolve(struct prog *p)
{
	for (size_t i = 0; i < p->nfix && !p->err && p->fix[i] < p->n; i++)
		p->v[p->fix[i]].off = (int16_t)(p->label[p->fix_to[i]] - p->fix[i] - 1);
}

static void ld_map(struct prog *p, uint8_t dst, int fd)
{
	emit(p, BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd);
	emit(p, 0, 0, 0, 0, 0);
}

static void call(struct prog *p, int fn)
{
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, fn);
}

/* fexit's context is the arguments as u64s, then the return value:
 * cap_capable(cred, ns, cap, opts) -> ret. The tracepoint's (raw) is its
 * arguments: (cred, target_ns, capable_ns, cap, ret). int values are read
 * as the low 32 bits (the upper half of a saved register is not defined). */
enum { FEXIT_CAP = 2 * 8, FEXIT_OPTS = 3 * 8, FEXIT_RET = 4 * 8 };
enum { TP_CAP = 3 * 8, TP_RET = 4 * 8 };

static void ld_imm64(struct prog *p, uint8_t dst, uint64_t v)
{
	emit(p, BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, (int32_t)(uint32_t)v);
	emit(p, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

/* Tracepoint only: drop the event, without waking the reader, when the
 * innermost frames show the silent check every private writable mmap
 * makes (cap_vm_enough_memory's sys_admin probe; otherwise each cost a
 * ring-buffer wake-up, an IPI). The rarer silent checks are left to
 * silent() in user space: a short program verifies in ~0.04 ms, one that
 * tried them all in ~0.5 ms of every start. */
#define HOT_FRAMES 4
static void drop_silent(struct prog *p, const struct kinfo *ki)
{
	jump(p, BPF_JMP32 | BPF_JSLE | BPF_K, R0, 0, L_DISCARD); /* cannot tell */
	for (size_t i = 0; i < HOT_FRAMES; i++) {
		emit(p, BPF_LDX | BPF_MEM | BPF_DW, R1, R9,
		     (int16_t)(offsetof(struct cap_event, stack) + 8 * i), 0);
		for (size_t j = 0; j < NNOAUDIT; j++) {
			if (!ki->noaudit[j][0] || !strstr(noaudit_fns[j], "vm_enough_memory"))
				continue;
			/* (start, end]: return addresses follow their call */
			ld_imm64(p, R2, ki->noaudit[j][0]);
			emit(p, BPF_JMP | BPF_JLE | BPF_X, R1, R2, 3, 0);
			ld_imm64(p, R2, ki->noaudit[j][1]);
			jump(p, BPF_JMP | BPF_JLE | BPF_X, R1, 0, L_DISCARD);
			p->v[p->n - 1].src_reg = R2;
		}
	}
}

static int build(struct prog *p, bool fexit, const struct kinfo *ki, int cg_map,
		 int mask_map, int rb_map)
{
	memset(p, 0, sizeof *p);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R6, R1, 0, 0);
	if (fexit) {
		/* the kernel's silent probes (cap_vm_enough_memory's sys_admin
		 * on every private writable mapping...) never get a line, as
		 * under AppArmor */
		emit(p, BPF_LDX | BPF_MEM | BPF_DW, R2, R6, FEXIT_OPTS, 0);
		jump(p, BPF_JMP32 | BPF_JSET | BPF_K, R2, CAP_OPT_NOAUDIT, L_OUT);
	}
	emit(p, BPF_LDX | BPF_MEM | BPF_DW, R7, R6, fexit ? FEXIT_CAP : TP_CAP, 0);
	emit(p, BPF_ALU | BPF_MOV | BPF_X, R7, R7, 0, 0); /* zero-extends */
	jump(p, BPF_JMP32 | BPF_JGT | BPF_K, R7, 63, L_OUT);
	emit(p, BPF_LDX | BPF_MEM | BPF_DW, R8, R6, fexit ? FEXIT_RET : TP_RET, 0);
	emit(p, BPF_ALU | BPF_MOV | BPF_X, R8, R8, 0, 0);
	/* only the instance's tasks (labels included, <id>.ux not) */
	ld_map(p, R1, cg_map);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R2, 0, 0, 0);
	call(p, BPF_FUNC_current_task_under_cgroup);
	jump(p, BPF_JMP | BPF_JNE | BPF_K, R0, 1, L_OUT);
	jump(p, BPF_JMP32 | BPF_JEQ | BPF_K, R8, 0, L_OK);
	/* refused: only root's refusals can be the profile's (cg_capaudit.h) */
	call(p, BPF_FUNC_get_current_uid_gid);
	jump(p, BPF_JMP32 | BPF_JNE | BPF_K, R0, 0, L_OUT);
	jump(p, BPF_JMP | BPF_JA, 0, 0, L_RECORD);
	/* allowed: only if the cgroup's mask has the capability */
	here(p, L_OK);
	call(p, BPF_FUNC_get_current_cgroup_id);
	emit(p, BPF_STX | BPF_MEM | BPF_DW, R10, R0, -8, 0);
	ld_map(p, R1, mask_map);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R2, R10, 0, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, -8);
	call(p, BPF_FUNC_map_lookup_elem);
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, R0, 0, L_OUT);
	emit(p, BPF_LDX | BPF_MEM | BPF_DW, R1, R0, 0, 0);
	emit(p, BPF_ALU64 | BPF_RSH | BPF_X, R1, R7, 0, 0);
	emit(p, BPF_ALU64 | BPF_AND | BPF_K, R1, 0, 0, 1);
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, R1, 0, L_OUT);
	/* the event (dropped when the buffer is full) */
	here(p, L_RECORD);
	ld_map(p, R1, rb_map);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R2, 0, 0, event_size(fexit));
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R3, 0, 0, 0);
	call(p, BPF_FUNC_ringbuf_reserve);
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, R0, 0, L_OUT);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R9, R0, 0, 0);
	emit(p, BPF_STX | BPF_MEM | BPF_W, R9, R7, offsetof(struct cap_event, cap), 0);
	emit(p, BPF_STX | BPF_MEM | BPF_W, R9, R8, offsetof(struct cap_event, ret), 0);
	call(p, BPF_FUNC_get_current_pid_tgid);
	emit(p, BPF_ALU64 | BPF_RSH | BPF_K, R0, 0, 0, 32);
	emit(p, BPF_STX | BPF_MEM | BPF_W, R9, R0, offsetof(struct cap_event, tgid), 0);
	call(p, BPF_FUNC_get_current_uid_gid);
	emit(p, BPF_STX | BPF_MEM | BPF_W, R9, R0, offsetof(struct cap_event, uid), 0);
	call(p, BPF_FUNC_get_current_cgroup_id);
	emit(p, BPF_STX | BPF_MEM | BPF_DW, R9, R0, offsetof(struct cap_event, cgid), 0);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R1, R9, 0, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, R1, 0, 0, offsetof(struct cap_event, comm));
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R2, 0, 0, sizeof(((struct cap_event *)0)->comm));
	call(p, BPF_FUNC_get_current_comm);
	if (!fexit) {
		/* the callers, for the NOAUDIT test in userspace */
		emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R1, R6, 0, 0);
		emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R2, R9, 0, 0);
		emit(p, BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, offsetof(struct cap_event, stack));
		emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R3, 0, 0, sizeof(((struct cap_event *)0)->stack));
		emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R4, 0, 0, 0);
		call(p, BPF_FUNC_get_stack);
		emit(p, BPF_STX | BPF_MEM | BPF_W, R9, R0, offsetof(struct cap_event, nstack), 0);
		drop_silent(p, ki);
	}
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R1, R9, 0, 0);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R2, 0, 0, 0);
	call(p, BPF_FUNC_ringbuf_submit);
	if (!fexit) {
		jump(p, BPF_JMP | BPF_JA, 0, 0, L_OUT);
		here(p, L_DISCARD);
		emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R1, R9, 0, 0);
		emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R2, 0, 0, BPF_RB_NO_WAKEUP);
		call(p, BPF_FUNC_ringbuf_discard);
	}
	here(p, L_OUT);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	resolve(p);
	return p->err;
}

/* ---- loading ---- */

static int cap_capable_btf_id(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	if (!btf)
		return errno ? -errno : -ENOENT;
	int id = btf__find_by_name_kind(btf, "cap_capable", BTF_KIND_FUNC);
	btf__free(btf);
	return id < 0 ? -ENOENT : id;
}

/* The noaudit functions' address ranges: a symbol ends where the next
 * address in /proc/kallsyms (sorted, for the kernel's own text) begins.
 * Zeros (kptr_restrict) count as missing. */
static void read_syms(struct kinfo *ki)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	char line[512], type, name[256];
	unsigned long long a;
	int open_at = -1;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3)
			continue;
		if (open_at >= 0 && a > ki->noaudit[open_at][0]) {
			ki->noaudit[open_at][1] = a;
			open_at = -1;
			ki->nsyms++;
		}
		for (size_t i = 0; i < NNOAUDIT && open_at < 0; i++)
			if (a && !ki->noaudit[i][0] && strcmp(name, noaudit_fns[i]) == 0) {
				ki->noaudit[i][0] = a;
				open_at = (int)i;
			}
	}
	fclose(f);
	for (size_t i = 0; i < NNOAUDIT; i++)
		if (!ki->noaudit[i][1])
			ki->noaudit[i][0] = 0;
}

/* Root's cache directory (also the compiled policy's); /run is emptied at
 * boot, the boot id keeps a stale file from being read anyway. */
static int cache_path(char *out, size_t len)
{
	char id[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (!f)
		return -errno;
	bool ok = fgets(id, sizeof id, f) != NULL;
	fclose(f);
	id[strcspn(id, "\n")] = '\0';
	if (!ok || !id[0] || strchr(id, '/'))
		return -EINVAL;
	snprintf(out, len, "/run/capgate/capaudit-%s", id);
	return 0;
}

static void save_kinfo(const struct kinfo *ki)
{
	char path[128], tmp[160];
	if (cache_path(path, sizeof path) < 0)
		return;
	/* best effort; a whole file or none (rename) */
	snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
	mkdir("/run/capgate", 0700);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	bool ok = write(fd, ki, sizeof *ki) == (ssize_t)sizeof *ki;
	close(fd);
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

static void load_kinfo(struct kinfo *ki)
{
	char path[128];
	if (cache_path(path, sizeof path) == 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			ssize_t n = read(fd, ki, sizeof *ki);
			close(fd);
			if (n == (ssize_t)sizeof *ki && ki->magic == KINFO_MAGIC)
				return;
		}
	}
	memset(ki, 0, sizeof *ki);
	ki->magic = KINFO_MAGIC;
	ki->btf_id = cap_capable_btf_id();
	read_syms(ki);
	save_kinfo(ki);
}

static void sample(void *ctx, const void *data, size_t size);

static int make_maps(struct cg_capaudit *ca)
{
	ca->cg_map = cg_bpf_map_create(BPF_MAP_TYPE_CGROUP_ARRAY, "capgate_cg", 4, 4, 1);
	if (ca->cg_map < 0)
		return ca->cg_map;
	ca->mask_map = cg_bpf_map_create(BPF_MAP_TYPE_HASH, "capgate_masks", 8, 8, MAX_CGROUPS);
	if (ca->mask_map < 0)
		return ca->mask_map;
	ca->rb_map = cg_bpf_map_create(BPF_MAP_TYPE_RINGBUF, "capgate_caps", 0, 0, RINGBUF_SIZE);
	if (ca->rb_map < 0)
		return ca->rb_map;
	return cg_ringbuf_open(&ca->rb, ca->rb_map, RINGBUF_SIZE, sample, ca);
}

/* "GPL": the kernel offers tracing programs some helpers only so. */
static int attach_fexit(struct cg_capaudit *ca)
{
	struct prog p;
	int id = ca->ki.btf_id;
	if (id < 0)
		return id;
	int r = build(&p, true, &ca->ki, ca->cg_map, ca->mask_map, ca->rb_map);
	if (r < 0)
		return r;
	ca->prog = cg_bpf_prog_load(BPF_PROG_TYPE_TRACING, "capgate_cap", p.v, p.n,
				    BPF_TRACE_FEXIT, (uint32_t)id);
	if (ca->prog == -EPERM) {
		/* tracing programs refused (a BPF LSM policy): not again
		 * this boot, the tracepoint it is (kinfo's cache) */
		ca->ki.btf_id = -EPERM;
		save_kinfo(&ca->ki);
	}
	if (ca->prog < 0)
		return ca->prog;
	ca->link = cg_bpf_link_create(ca->prog, BPF_TRACE_FEXIT);
	if (ca->link < 0)
		return ca->link;
	ca->fexit = true;
	return 0;
}

/* The fallback: the capability:cap_capable tracepoint (Linux 6.14), for
 * kernels that refuse tracing programs but not raw tracepoints. */
static int attach_tracepoint(struct cg_capaudit *ca)
{
	struct prog p;
	if (ca->ki.nsyms == 0)
		return -EOPNOTSUPP; /* silent checks could not be told apart */
	int r = build(&p, false, &ca->ki, ca->cg_map, ca->mask_map, ca->rb_map);
	if (r < 0)
		return r;
	ca->prog = cg_bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "capgate_cap", p.v, p.n, 0, 0);
	if (ca->prog < 0)
		return ca->prog;
	ca->link = cg_bpf_raw_tp_open("cap_capable", ca->prog);
	return ca->link < 0 ? ca->link : 0;
}

/* The instance's own cgroup: the program's anchor, and entry 0. */
static int add_instance(struct cg_capaudit *ca, const char *inst,
			const struct profile *base)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", ca->cgroot, inst) >= sizeof path)
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint32_t key = 0, val = (uint32_t)fd;
	int r = cg_bpf_map_update(ca->cg_map, &key, &val);
	close(fd); /* the map holds the cgroup */
	if (r < 0)
		return r;
	return cg_capaudit_label(ca, inst, base);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int cg_capaudit_open(struct cg_capaudit **out, const struct cg_capaudit_how *h)
{
	*out = NULL;
	libbpf_set_print(NULL); /* (BTF only) errors are returned, not printed */
	struct cg_capaudit *ca = calloc(1, sizeof *ca);
	if (!ca)
		return -ENOMEM;
	ca->cg_map = ca->mask_map = ca->rb_map = ca->prog = ca->link = -1;
	ca->audit = h->audit;
	ca->complain = h->complain;
	ca->cgroot = h->cgroot;
	load_kinfo(&ca->ki);
	int r = make_maps(ca);
	if (r == 0)
		r = add_instance(ca, h->inst, h->base);
	if (r == 0 && attach_fexit(ca) < 0) {
		close_fd(&ca->link);
		close_fd(&ca->prog);
		r = attach_tracepoint(ca);
		if (r == -ENOENT || r == -EINVAL)
			r = -EOPNOTSUPP; /* no such tracepoint either */
	}
	if (r < 0) {
		cg_capaudit_close(ca);
		return r;
	}
	*out = ca;
	return 0;
}

int cg_capaudit_label(struct cg_capaudit *ca, const char *cgrel,
		      const struct profile *pr)
{
	char path[PATH_MAX];
	struct stat st;
	if (ca->ncgs >= MAX_CGROUPS)
		return -E2BIG;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", ca->cgroot, cgrel) >= sizeof path)
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0)
		return -errno;
	uint64_t cgid = (uint64_t)st.st_ino;
	uint64_t mask = cg_capaudit_success_mask(pr, ca->complain);
	int r = cg_bpf_map_update(ca->mask_map, &cgid, &mask);
	if (r < 0)
		return r;
	ca->cgs[ca->ncgs++] = (struct cg_entry){ .cgid = cgid, .pr = pr };
	return 0;
}

static int chained_attach(void *arg, const char *cgrel, const struct profile *pr)
{
	struct cg_capaudit *ca = arg;
	int r = cg_capaudit_label(ca, cgrel, pr);
	if (r < 0)
		return r;
	return ca->next ? ca->next(ca->next_arg, cgrel, pr) : 0;
}

void cg_capaudit_chain(struct cg_capaudit *ca, cg_attach_fn *fn, void **arg)
{
	if (!ca)
		return;
	ca->next = *fn;
	ca->next_arg = *arg;
	*fn = chained_attach;
	*arg = ca;
}

int cg_capaudit_fd(const struct cg_capaudit *ca)
{
	return ca ? ca->rb.fd : -1;
}

/* ---- events to lines ---- */

static struct cg_entry *entry_of(struct cg_capaudit *ca, uint64_t cgid)
{
	for (unsigned i = 0; i < ca->ncgs; i++)
		if (ca->cgs[i].cgid == cgid)
			return &ca->cgs[i];
	return &ca->cgs[0]; /* not a label we made: the instance's profile */
}

/* Tracepoint only: was the check a silent one? Its maker is among the
 * innermost callers (cap_capable <- security_capable <- maker). */
static bool silent(const struct cg_capaudit *ca, const struct cap_event *e)
{
	if (e->nstack <= 0)
		return true; /* cannot tell: say nothing rather than lie */
	size_t n = (size_t)e->nstack / sizeof e->stack[0];
	for (size_t i = 0; i < n && i < STACK_DEPTH; i++)
		for (size_t j = 0; j < NNOAUDIT; j++)
			if (e->stack[i] > ca->ki.noaudit[j][0] &&
			    e->stack[i] <= ca->ki.noaudit[j][1])
				return true;
	return false;
}

static void sample(void *ctx, const void *data, size_t size)
{
	struct cg_capaudit *ca = ctx;
	struct cap_event e;
	if (size < event_size(ca->fexit) || ca->ncgs == 0)
		return;
	memset(&e, 0, sizeof e);
	memcpy(&e, data, event_size(ca->fexit));
	e.comm[sizeof e.comm - 1] = '\0';
	struct cg_entry *ent = entry_of(ca, e.cgid);
	int kind = cg_capaudit_kind(ent->pr, ca->complain, e.cap, e.ret, e.uid);
	if (kind < 0 || (!ca->fexit && silent(ca, &e)))
		return;
	/* AppArmor's duplicate elimination: one line per profile and
	 * capability per second (audit_caps(), AUDIT_CACHE_TIMEOUT_NS). */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 1;
	if (ent->last[e.cap] && now - ent->last[e.cap] < DEDUP_NS)
		return;
	ent->last[e.cap] = now;
	struct audit_event ev;
	audit_event_init(&ev);
	ev.kind = (enum audit_kind)kind;
	ev.operation = "capable";
	ev.klass = "cap";
	ev.profile = profile_name(ent->pr);
	ev.pid = (pid_t)e.tgid;
	ev.comm = e.comm;
	ev.capability = e.cap;
	audit_emit(ca->audit, &ev);
}

void cg_capaudit_drain(struct cg_capaudit *ca)
{
	if (ca)
		cg_ringbuf_consume(&ca->rb);
}

void cg_capaudit_close(struct cg_capaudit *ca)
{
	if (!ca)
		return;
	close_fd(&ca->link); /* detached: no more events */
	cg_ringbuf_consume(&ca->rb);
	cg_ringbuf_close(&ca->rb);
	close_fd(&ca->prog);
	close_fd(&ca->rb_map);
	close_fd(&ca->mask_map);
	close_fd(&ca->cg_map);
	free(ca);
}

/* caller.c: who is asking, and what may it do.
 *
 * Identity is the caller's cgroup v2 (when --cgroup is given): the kernel
 * keeps a process's cgroup across fork, only the trusted side can move it,
 * and netgate matches packets by the same id. A process in CGPATH runs
 * under the default profile; one in CGPATH/<label> under the profile named
 * by <label> (unescaped: %2f is '/', %25 is '%'); anyone else passes
 * through. The cgroup is read from /proc/<pid>/cgroup on every decision,
 * never cached, so a reused pid can never inherit another process's label.
 * A request without a pid (0: writeback, async paths) or whose /proc entry
 * cannot be read is treated as the default profile: fail closed.
 * Without --cgroup every caller but fsgate itself is confined.
 * A shared fsgate (--serve, serve.c) serves several launchers' instances,
 * each with its own cgroup, profile, log and mode (resolve_shared()).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sysfile.h"
#include "fsg.h"

/* The kernel's file mask letters, in its order (aa_file_perm_chrs):
 * x w r a c d ... k m l. c and d stand for w on creating and deleting
 * operations, as AppArmor logs them. */
size_t fsg_mask_str(uint32_t bits, enum fsg_maskstyle style, char *buf, size_t len)
{
	char tmp[16];
	size_t n = 0;
	if (bits & PERM_EXEC)
		tmp[n++] = 'x';
	if (bits & PERM_WRITE)
		tmp[n++] = style == MS_CREATE ? 'c' : style == MS_DELETE ? 'd' : 'w';
	if (bits & PERM_READ)
		tmp[n++] = 'r';
	if (bits & PERM_APPEND)
		tmp[n++] = 'a';
	if (bits & PERM_LOCK)
		tmp[n++] = 'k';
	if (bits & PERM_MMAP)
		tmp[n++] = 'm';
	if (bits & PERM_LINK)
		tmp[n++] = 'l';
	tmp[n] = '\0';
	if (len) {
		size_t c = n < len ? n : len - 1;
		memcpy(buf, tmp, c);
		buf[c] = '\0';
	}
	return n;
}

static int unescape_label(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 3 <= n && strncasecmp(s + i, "%2f", 3) == 0)
				c = '/';
			else if (i + 3 <= n && strncmp(s + i, "%25", 3) == 0)
				c = '%';
			else
				return -EINVAL;
			i += 2;
		}
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return o ? 0 : -EINVAL;
}

const char *fsg_cgroup_v2_path(const char *cgtext, size_t *len)
{
	const char *line = cgtext;
	while (line && *line) {
		if (strncmp(line, "0::", 3) == 0) {
			*len = strcspn(line + 3, "\n");
			return line + 3;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

/* From /proc/<pid>/cgroup text, the caller's place relative to `base`:
 * 0 in base itself (label ""), 1 in base/<label>, -ENOENT elsewhere,
 * -EINVAL when the text has no cgroup v2 line or a malformed label. */
int fsg_label_from_cgroup(const char *cgtext, const char *base, char *label,
			  size_t len)
{
	size_t plen;
	const char *p = fsg_cgroup_v2_path(cgtext, &plen);
	if (!p)
		return -EINVAL;
	size_t blen = strlen(base);
	while (blen > 1 && base[blen - 1] == '/')
		blen--;
	if (plen < blen || strncmp(p, base, blen) != 0)
		return -ENOENT;
	if (plen == blen) {
		if (len)
			label[0] = '\0';
		return 0;
	}
	/* base "/" is the whole tree: every cgroup is a descendant. */
	const char *rest = p + blen;
	size_t rlen = plen - blen;
	if (blen == 1 && base[0] == '/') {
		rest = p + 1;
		rlen = plen - 1;
	} else if (*rest != '/') {
		return -ENOENT; /* /a/bc is not under /a/b */
	} else {
		rest++;
		rlen--;
	}
	size_t first = strcspn(rest, "/\n");
	if (first > rlen)
		first = rlen;
	return unescape_label(rest, first, label, len) < 0 ? -EINVAL : 1;
}

/* The caller's label within instance `in` (whose cgroup matched): its
 * default profile, or the profile its label cgroup names. */
static void label_in(struct fsg *fs, struct fsg_caller *c, struct fsg_inst *in, int r,
		     const char *label)
{
	c->in = in;
	c->pr = in->prof;
	if (r <= 0)
		return; /* in the instance's cgroup itself, or malformed */
	c->pr = policy_find(fs->pol, label);
	if (!c->pr)
		snprintf(c->label, sizeof c->label, "%s", label); /* deny all */
}

/* A shared fsgate (serve.c): the instance whose cgroup holds the caller.
 * Its "<cgroup>.ux" sibling runs unconfined (ux); any other cgroup under
 * --instances belongs to no live launcher (one killed a moment ago: its
 * sandbox is dying) and gets nothing; callers elsewhere pass through. */
static void resolve_shared(struct fsg *fs, struct fsg_caller *c, const char *text)
{
	char label[256];
	size_t plen;
	const char *p = fsg_cgroup_v2_path(text, &plen);
	if (!p)
		return; /* no cgroup v2 line: deny all */
	size_t rl = strlen(fs->o.inst_root);
	if (plen <= rl || strncmp(p, fs->o.inst_root, rl) != 0 || p[rl] != '/') {
		c->confined = false;
		return;
	}
	pthread_rwlock_rdlock(&fs->imu);
	for (unsigned i = 0; i < FSG_MAX_INST; i++) {
		struct fsg_inst *in = fs->insts[i];
		if (!in || !in->live)
			continue;
		size_t cl = strlen(in->cgroup);
		int r = fsg_label_from_cgroup(text, in->cgroup, label, sizeof label);
		if (r != -ENOENT) {
			label_in(fs, c, in, r, label);
			break;
		}
		if (plen >= cl + 3 && strncmp(p, in->cgroup, cl) == 0 &&
		    strncmp(p + cl, ".ux", 3) == 0 && (plen == cl + 3 || p[cl + 3] == '/')) {
			c->confined = false;
			break;
		}
	}
	pthread_rwlock_unlock(&fs->imu);
}

static void resolve(struct fsg *fs, struct fsg_caller *c)
{
	c->resolved = true;
	c->confined = true;
	c->pr = NULL;
	c->in = NULL;
	if (c->pid == fs->self) {
		c->confined = false;
		return;
	}
	if (!fs->o.serve) {
		c->in = &fs->solo;
		c->pr = fs->solo.prof;
	}
	if (!(fs->o.serve || fs->o.cgroup) || c->pid <= 0)
		return; /* no pid: the default profile, or nothing (shared) */
	char path[64], text[1024], label[256];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)c->pid);
	if (read_small_file(path, text, sizeof text) < 0)
		return; /* gone or unreadable: fail closed */
	if (fs->o.serve) {
		resolve_shared(fs, c, text);
		return;
	}
	int r = fsg_label_from_cgroup(text, fs->o.cgroup, label, sizeof label);
	if (r == -ENOENT) {
		c->confined = false;
		c->pr = NULL;
		return;
	}
	label_in(fs, c, &fs->solo, r, label);
}

void fsg_caller_init_raw(struct fsg_caller *c, pid_t pid, uid_t uid, gid_t gid)
{
	memset(c, 0, sizeof *c);
	c->pid = pid;
	c->uid = uid;
	c->gid = gid;
}

void fsg_caller_init(struct fsg *fs, fuse_req_t req, struct fsg_caller *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	fsg_caller_init_raw(c, ctx->pid, ctx->uid, ctx->gid);
}

static void get_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	if (pid <= 0 || read_small_file(path, buf, len) <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[strcspn(buf, "\n")] = '\0';
}

static void emit(struct fsg *fs, struct fsg_caller *c, enum audit_kind kind,
		 const struct fsg_req_check *rc, uint32_t want, uint32_t denied,
		 const char *info)
{
	struct audit_event ev;
	char req[16], den[16], comm[32];
	audit_event_init(&ev);
	ev.kind = kind;
	ev.operation = rc->op;
	ev.klass = "file";
	ev.profile = c->pr ? profile_name(c->pr) : c->label;
	ev.name = rc->path;
	ev.target = rc->target;
	ev.info = info;
	ev.pid = c->pid;
	get_comm(c->pid, comm, sizeof comm);
	ev.comm = comm[0] ? comm : NULL;
	fsg_mask_str(want, rc->style, req, sizeof req);
	ev.requested = req;
	if (kind != AUDIT_AUDIT) {
		fsg_mask_str(denied, rc->style, den, sizeof den);
		ev.denied = den;
	}
	ev.fsuid = c->uid;
	ev.ouid = rc->ouid;
	if (c->in)
		audit_emit(c->in->audit, &ev);
}

/* flags=(kill): a denial kills the caller, as AppArmor's kill mode does.
 * The pid is safe to signal: its thread is blocked in this very request. */
static void kill_mode(const struct fsg_caller *c, uint32_t pflags)
{
	if ((pflags & PF_KILL) && c->pid > 0)
		kill(c->pid, SIGKILL);
}

static bool complain(struct fsg *fs, const struct fsg_caller *c)
{
	return (c->in && c->in->complain) || (c->pr && (profile_flags(c->pr) & PF_COMPLAIN));
}

int fsg_check(struct fsg *fs, struct fsg_caller *c, const struct fsg_req_check *rc)
{
	if (!c->resolved)
		resolve(fs, c);
	if (rc->granted)
		*rc->granted = PERM_ALL;
	if (!c->confined)
		return 0;
	struct file_perms fp;
	memset(&fp, 0, sizeof fp);
	uint32_t granted = 0;
	uint32_t pflags = c->pr ? profile_flags(c->pr) : 0;
	if (pflags & PF_UNCONFINED)
		return 0; /* flags=(unconfined): the profile does not confine */
	if (c->pr && rc->path) {
		decide_file(c->pr, rc->path, &fp);
		granted = file_perms_granted(&fp, rc->owner);
		if (pflags & PF_DEFAULT_ALLOW) /* everything not denied */
			granted = PERM_ALL & ~fp.deny;
	}
	if (granted & PERM_WRITE)
		granted |= PERM_APPEND; /* w includes append, as upstream */
	if (rc->granted)
		*rc->granted = complain(fs, c) ? PERM_ALL : granted;
	uint32_t denied = rc->want & ~granted;
	if (denied && rc->dry)
		return 1;
	if (!denied) {
		if ((rc->want & fp.audit) ||
		    (c->pr && (profile_flags(c->pr) & PF_AUDIT)))
			emit(fs, c, AUDIT_AUDIT, rc, rc->want, 0, NULL);
		return 0;
	}
	if (complain(fs, c)) {
		emit(fs, c, AUDIT_ALLOWED, rc, rc->want, denied, NULL);
		return 0;
	}
	/* Plain deny rules are quiet, like upstream; `audit deny` is not. */
	if ((denied & ~fp.quiet) || (pflags & PF_KILL))
		emit(fs, c, AUDIT_DENIED, rc, rc->want, denied,
		     !c->pr ? "profile not found" : (pflags & PF_KILL) ? "killed" : NULL);
	kill_mode(c, pflags);
	return -EACCES;
}

int fsg_check_link(struct fsg *fs, struct fsg_caller *c, const char *newpath,
		   const char *target, long ouid, bool owner)
{
	struct fsg_req_check rc = {
		.op = "link", .path = newpath, .want = PERM_LINK, .ouid = ouid,
		.owner = owner, .target = target, .style = MS_PLAIN,
	};
	if (!c->resolved)
		resolve(fs, c);
	if (!c->confined)
		return 0;
	uint32_t pflags = c->pr ? profile_flags(c->pr) : 0;
	if (pflags & PF_UNCONFINED)
		return 0;
	int r = c->pr ? decide_link(c->pr, newpath, target, owner, owner) : -EACCES;
	if (r == 0) {
		/* decide_link covers l and the subset rule; audit via fsg_check */
		struct file_perms fp;
		decide_file(c->pr, newpath, &fp);
		if ((fp.audit & PERM_LINK) || (profile_flags(c->pr) & PF_AUDIT))
			emit(fs, c, AUDIT_AUDIT, &rc, PERM_LINK, 0, NULL);
		return 0;
	}
	if (complain(fs, c)) {
		emit(fs, c, AUDIT_ALLOWED, &rc, PERM_LINK, PERM_LINK, NULL);
		return 0;
	}
	struct file_perms fp;
	memset(&fp, 0, sizeof fp);
	if (c->pr)
		decide_file(c->pr, newpath, &fp);
	if (!(fp.quiet & PERM_LINK) || (pflags & PF_KILL))
		emit(fs, c, AUDIT_DENIED, &rc, PERM_LINK, PERM_LINK,
		     !c->pr ? "profile not found" : (pflags & PF_KILL) ? "killed" : NULL);
	kill_mode(c, pflags);
	return -EACCES;
}

/* decide.c: the questions enforcement points ask a compiled policy. Pure
 * and lock-free: a policy is immutable once built. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy_int.h"

size_t policy_count(const struct policy *p)
{
	return p ? p->nprofiles : 0;
}

const struct profile *policy_at(const struct policy *p, size_t i)
{
	return p && i < p->nprofiles ? p->profiles[i] : NULL;
}

const struct profile *profile_child(const struct profile *parent,
				    const char *name)
{
	size_t pl = strlen(parent->name);
	for (size_t i = 0; i < parent->nkids; i++) {
		const char *kn = parent->kids[i]->name + pl + 2;
		if (!strcmp(kn, name))
			return parent->kids[i];
	}
	return NULL;
}

const struct profile *policy_find(const struct policy *p, const char *name)
{
	if (!p || !name)
		return NULL;
	const char *sep = strstr(name, "//");
	size_t n = sep ? (size_t)(sep - name) : strlen(name);
	const struct profile *pr = NULL;
	for (size_t i = 0; i < p->nprofiles; i++)
		if (strlen(p->profiles[i]->name) == n &&
		    !strncmp(p->profiles[i]->name, name, n)) {
			pr = p->profiles[i];
			break;
		}
	while (pr && sep) {
		const char *rest = sep + 2;
		sep = strstr(rest, "//");
		char part[4096];
		size_t m = sep ? (size_t)(sep - rest) : strlen(rest);
		if (m >= sizeof(part))
			return NULL;
		memcpy(part, rest, m);
		part[m] = '\0';
		pr = profile_child(pr, part);
	}
	return pr;
}

const struct profile *policy_find_attach(const struct policy *p,
					 const char *exec_path)
{
	if (!p || !p->attach || !exec_path)
		return NULL;
	uint32_t a = dfa_match(p->attach, exec_path, strlen(exec_path));
	return a && a <= p->nprofiles ? p->profiles[a - 1] : NULL;
}

const struct profile *profile_child_attach(const struct profile *parent,
					   const char *exec_path)
{
	if (!parent || !parent->kid_attach || !exec_path)
		return NULL;
	uint32_t a = dfa_match(parent->kid_attach, exec_path, strlen(exec_path));
	return a && a <= parent->nkids ? parent->kids[a - 1] : NULL;
}

const char *profile_name(const struct profile *pr) { return pr->name; }
uint32_t profile_flags(const struct profile *pr) { return pr->flags; }
uint32_t profile_extra(const struct profile *pr) { return pr->extra; }
const struct cap_set *profile_caps(const struct profile *pr) { return &pr->caps; }

size_t profile_net_rules(const struct profile *pr, const struct net_rule **out)
{
	*out = pr->net;
	return pr->nnet;
}

size_t profile_rlimits(const struct profile *pr, const struct rlimit_rule **out)
{
	*out = pr->rl;
	return pr->nrl;
}

/* ---- files ---- */

void decide_file(const struct profile *pr, const char *path,
		 struct file_perms *out)
{
	uint32_t a = pr->file ? dfa_match(pr->file, path, strlen(path)) : 0;
	if (a && a < pr->nperms)
		*out = pr->perms[a];
	else
		memset(out, 0, sizeof(*out));
}

int decide_file_subtree(const struct profile *pr, const char *dir,
			struct file_perms *out)
{
	memset(out, 0, sizeof(*out));
	size_t len = strlen(dir);
	if (!pr->file || len == 0 || dir[len - 1] != '/')
		return pr->file ? 0 : 1;
	uint32_t st = dfa_step(pr->file, dfa_start(pr->file), dir, len);
	if (st == DFA_DEAD)
		return 1; /* nothing below can match: nothing granted */
	int r = dfa_uniform(pr->file, st, 1);
	if (r <= 0)
		return r;
	uint32_t a = dfa_accept(pr->file, st);
	if (a && a < pr->nperms)
		*out = pr->perms[a];
	return 1;
}

uint32_t file_perms_granted(const struct file_perms *fp, bool owner)
{
	return fp->allow | (owner ? fp->owner_allow : 0);
}

int decide_link(const struct profile *pr, const char *newpath,
		const char *target, bool owner_new, bool owner_target)
{
	struct file_perms fn, ft;
	bool allowed = false, subset = true;

	decide_file(pr, newpath, &fn);
	if (fn.deny & PERM_LINK)
		return -EACCES;
	if (file_perms_granted(&fn, owner_new) & PERM_LINK)
		allowed = true;
	if (pr->link) {
		uint32_t s = dfa_start(pr->link);
		s = dfa_step(pr->link, s, newpath, strlen(newpath));
		if (s != DFA_DEAD)
			s = dfa_step(pr->link, s, "", 1);
		if (s != DFA_DEAD)
			s = dfa_step(pr->link, s, target, strlen(target));
		uint32_t a = s != DFA_DEAD ? dfa_accept(pr->link, s) : 0;
		if (a && a < pr->nlperms) {
			if (pr->lperms[a].deny)
				return -EACCES;
			allowed = true;
			subset = pr->lperms[a].subset || !(file_perms_granted(&fn, owner_new) & PERM_LINK);
			if (!pr->lperms[a].subset)
				subset = false;
		}
	}
	if (!allowed)
		return -EACCES;
	if (subset) {
		/* upstream: the new name may not grant more than the target */
		decide_file(pr, target, &ft);
		uint32_t pn = file_perms_granted(&fn, owner_new) & ~PERM_LINK;
		uint32_t pt = file_perms_granted(&ft, owner_target) & ~PERM_LINK;
		if (pn & ~pt)
			return -EACCES;
		if ((pn & PERM_EXEC) && fn.x.type != ft.x.type)
			return -EACCES;
	}
	return 0;
}

/* ---- network and capabilities ---- */

static bool net_rule_matches(const struct net_rule *r, int family, int type,
			     int protocol)
{
	if (r->family && r->family != family)
		return false;
	if (r->type && r->type != type)
		return false;
	if (r->protocol) {
		int want = r->protocol;
		bool ok = protocol == want;
		if (!ok && protocol == 0) {
			/* socket(AF_INET, SOCK_STREAM, 0) is tcp, and so on */
			ok = (want == IPPROTO_TCP && type == SOCK_STREAM) ||
			     (want == IPPROTO_UDP && type == SOCK_DGRAM);
		}
		if (!ok && want == IPPROTO_ICMP)
			ok = protocol == IPPROTO_ICMPV6;
		if (!ok)
			return false;
		if (family != AF_INET && family != AF_INET6 && !r->family)
			return false;
	}
	/* addresses only exist for inet sockets */
	if ((r->local.has_ip == 1 || r->peer.has_ip == 1 || r->local.port_lo ||
	     r->local.port_hi != 65535 || r->peer.port_lo || r->peer.port_hi != 65535) &&
	    family != AF_INET && family != AF_INET6)
		return false;
	return true;
}

int decide_socket(const struct profile *pr, int family, int type, int protocol,
		  bool *audit)
{
	bool allow = false, aud = false;
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	/* unix sockets are mediated by unix rules (AppArmor 4), `all,` and
	 * unconfined profiles allow every socket; explicit deny rules still win */
	if ((pr->extra & PX_ALL) || (pr->flags & PF_UNCONFINED) ||
	    (family == AF_UNIX && (pr->extra & PX_UNIX)))
		allow = true;
	for (size_t i = 0; i < pr->nnet; i++) {
		const struct net_rule *r = &pr->net[i];
		if (!(r->access & NET_CREATE) || !net_rule_matches(r, family, type, protocol))
			continue;
		if (r->deny) {
			/* a deny of a narrower address set does not deny socket() */
			if (r->local.has_ip || r->peer.has_ip || r->local.port_lo ||
			    r->local.port_hi != 65535 || r->peer.port_lo ||
			    r->peer.port_hi != 65535)
				continue;
			if (audit)
				*audit = r->audit;
			return -EACCES;
		}
		allow = true;
		aud |= r->audit;
	}
	if (audit)
		*audit = allow && aud;
	return allow ? 0 : -EACCES;
}

int decide_cap(const struct profile *pr, int cap, bool *audit)
{
	if (cap < 0 || cap > 63)
		return -EPERM;
	uint64_t bit = 1ull << cap;
	if (audit)
		*audit = !!(pr->caps.audit & bit);
	return (pr->caps.allow & bit) ? 0 : -EPERM;
}

/* ---- mode strings ---- */

size_t perms_to_string(uint32_t perms, const struct xtrans *x, char *buf,
		       size_t len)
{
	char tmp[32];
	size_t n = 0;
	if (perms & PERM_MMAP) tmp[n++] = 'm';
	if (perms & PERM_READ) tmp[n++] = 'r';
	if (perms & PERM_WRITE) tmp[n++] = 'w';
	if (perms & PERM_APPEND) tmp[n++] = 'a';
	if (perms & PERM_LINK) tmp[n++] = 'l';
	if (perms & PERM_LOCK) tmp[n++] = 'k';
	if (perms & PERM_EXEC) {
		uint8_t t = x ? x->type : XT_NONE, f = x ? x->flags : 0;
		bool up = f & XF_SCRUB;
		switch (t) {
		case XT_INHERIT: tmp[n++] = 'i'; break;
		case XT_UNCONFINED: tmp[n++] = up ? 'U' : 'u'; break;
		case XT_PROFILE: tmp[n++] = up ? 'P' : 'p'; break;
		case XT_CHILD: tmp[n++] = up ? 'C' : 'c'; break;
		default: break;
		}
		if (f & XF_FALLBACK_IX) tmp[n++] = 'i';
		if (f & XF_FALLBACK_UX) tmp[n++] = 'u';
		tmp[n++] = 'x';
	}
	if (n == 0)
		tmp[n++] = '-';
	tmp[n] = '\0';
	if (x && (perms & PERM_EXEC) && x->target)
		return (size_t)snprintf(buf, len, "%s -> %s", tmp, x->target);
	return (size_t)snprintf(buf, len, "%s", tmp);
}

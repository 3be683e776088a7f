/* test_netgate.c: netgate's pure parts, and the seccomp filter for real.
 *
 * - cgroup mount detection and path naming;
 * - the plan (net rules -> classes of matches) on hand-built rule arrays;
 * - the nftables batch, built and parsed back with libnftnl's parsers
 *   (as libnftnl's own tests do): the right messages, in an order the
 *   kernel accepts (chains exist before anything jumps to them), for
 *   attach, replace, move across levels and the last detach;
 * - the seccomp filter loaded in child processes, against socket(2),
 *   socketpair(2), junk upper register halves and io_uring_setup(2).
 * Exits non-zero and prints each failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "netgate/ng_batch.h"
#include "netgate/ng_bindbpf.h"
#include "netgate/ng_cgroup.h"
#include "netgate/ng_nflog.h"
#include "netgate/ng_plan.h"
#include "netgate/ng_seccomp.h"
#include "netgate/ng_state.h"
#include "policy.h"

#include "check.h"

/* ---- cgroups ---- */

static void test_cgroup(void)
{
	char root[256];
	const char *hybrid =
		"proc /proc proc rw 0 0\n"
		"cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
		"cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n";
	CHECK(ng_cgroup_root_from_mounts(hybrid, root, sizeof root) == 0 &&
		      !strcmp(root, "/sys/fs/cgroup/unified"), "hybrid root %s", root);
	CHECK(ng_cgroup_root_from_mounts("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0", root,
					 sizeof root) == 0 && !strcmp(root, "/sys/fs/cgroup"),
	      "pure v2 root");
	CHECK(ng_cgroup_root_from_mounts("cgroup2 /a\\040b cgroup2 rw 0 0\n", root,
					 sizeof root) == 0 && !strcmp(root, "/a b"),
	      "escaped mount point %s", root);
	CHECK(ng_cgroup_root_from_mounts("proc /proc proc rw 0 0\n", root, sizeof root) ==
		      -ENOENT, "no cgroup2");
	struct ng_cgroup cg;
	CHECK(ng_cgroup_rel("/sys/fs/cgroup", "/sys/fs/cgroup/a/b", &cg) == 0 &&
		      !strcmp(cg.rel, "/a/b") && cg.level == 2, "absolute %s %d", cg.rel, cg.level);
	CHECK(ng_cgroup_rel("/sys/fs/cgroup/", "a//b/c/", &cg) == 0 &&
		      !strcmp(cg.rel, "/a/b/c") && cg.level == 3, "relative %s", cg.rel);
	CHECK(ng_cgroup_rel("/sys/fs/cgroup", "/x/y", &cg) == 0 && !strcmp(cg.rel, "/x/y"),
	      "a path outside the root is taken as relative");
	CHECK(ng_cgroup_rel("/sys/fs/cgroup", "/sys/fs/cgroupX/a", &cg) == 0 &&
		      cg.level == 4, "a prefix that is not a component");
	CHECK(ng_cgroup_rel("/sys/fs/cgroup", "a/../b", &cg) == -EINVAL, "..");
	CHECK(ng_cgroup_rel("/sys/fs/cgroup", "/sys/fs/cgroup", &cg) == -EINVAL, "root");
	char longp[300];
	memset(longp, 'x', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	CHECK(ng_cgroup_rel("/r", longp, &cg) == -ENAMETOOLONG, "long path");
}

/* ---- plans ---- */

static struct net_rule rule(int deny, int family, int type, int proto, uint32_t access)
{
	struct net_rule r;
	memset(&r, 0, sizeof r);
	r.deny = (uint8_t)deny;
	r.family = (uint16_t)family;
	r.type = (uint16_t)type;
	r.protocol = (uint16_t)proto;
	r.access = access;
	r.local.port_hi = r.peer.port_hi = 65535;
	return r;
}

static const struct ng_chain *cls(const struct ng_plan *p, int d, int c)
{
	return &p->chains[p->class_chain[d][c]];
}

static void test_plan(void)
{
	struct ng_plan *p = NULL;
	/* network inet tcp, */
	struct net_rule r1 = rule(0, AF_INET, SOCK_STREAM, 0, NET_ALL);
	CHECK(ng_plan_rules("a", &r1, 1, 0, 0, &p) == 0, "plan a");
	CHECK(p->nchains == 2, "one chain per direction, %zu", p->nchains);
	for (int c = 1; c < NG_CLASS_MAX; c++)
		CHECK(p->class_chain[NG_OUT][c] == p->class_chain[NG_OUT][0], "classes share");
	const struct ng_chain *ch = cls(p, NG_OUT, 0);
	CHECK(ch->n == 2 && ch->m[0].nfproto == NFPROTO_IPV4 &&
		      ch->m[0].l4proto == IPPROTO_TCP && ch->m[0].verdict == NG_V_ACCEPT,
	      "inet tcp accept");
	CHECK(ch->m[1].verdict == NG_V_REJECT && ch->m[1].log == NG_LOG_DENIED &&
		      !ch->m[1].l4proto && !ch->m[1].nfproto, "default deny, logged");
	uint64_t h1 = p->hash;
	ng_plan_free(p);
	CHECK(ng_plan_rules("a", &r1, 1, 0, 0, &p) == 0 && p->hash == h1, "hash is stable");
	ng_plan_free(p);
	CHECK(ng_plan_rules("b", &r1, 1, 0, 0, &p) == 0 && p->hash != h1, "name in hash");
	ng_plan_free(p);

	/* network connect inet tcp peer=(ip=10.1.2.3 port=80), */
	struct net_rule r2 = rule(0, AF_INET, SOCK_STREAM, 0, NET_CONNECT);
	r2.peer.has_ip = 1;
	r2.peer.ip_family = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", r2.peer.ip);
	r2.peer.port_lo = r2.peer.port_hi = 80;
	CHECK(ng_plan_rules("c", &r2, 1, 0, 0, &p) == 0, "plan c");
	ch = cls(p, NG_OUT, NG_C_NEW_TCP);
	CHECK(ch->n == 2 && ch->m[0].has_daddr && !ch->m[0].has_saddr &&
		      ch->m[0].dport_lo == 80 && ch->m[0].dport_hi == 80 &&
		      ch->m[0].sport_lo == 0 && ch->m[0].sport_hi == 65535 &&
		      !memcmp(ch->m[0].daddr, r2.peer.ip, 4), "connect: peer is the destination");
	CHECK(cls(p, NG_OUT, NG_C_REMOTE)->n == 1, "no serving with connect only");
	ch = cls(p, NG_IN, NG_C_LOCAL);
	CHECK(ch->n == 2 && ch->m[0].has_saddr && ch->m[0].sport_lo == 80,
	      "replies: the peer is the source on input");
	CHECK(cls(p, NG_IN, NG_C_NEW_TCP)->n == 1, "no inbound connections");
	CHECK(p->class_chain[NG_OUT][NG_C_NEW_TCP] == p->class_chain[NG_OUT][NG_C_LOCAL],
	      "equal classes share a chain");
	CHECK(p->nchains == 4, "2 + 2 chains, %zu", p->nchains);
	ng_plan_free(p);

	/* network bind,listen,accept inet6 tcp port=8080, */
	struct net_rule r3 = rule(0, AF_INET6, 0, IPPROTO_TCP, NET_BIND | NET_LISTEN | NET_ACCEPT);
	r3.local.port_lo = r3.local.port_hi = 8080;
	CHECK(ng_plan_rules("s", &r3, 1, 0, 0, &p) == 0, "plan s");
	ch = cls(p, NG_IN, NG_C_NEW_TCP);
	CHECK(ch->n == 2 && ch->m[0].nfproto == NFPROTO_IPV6 && ch->m[0].dport_lo == 8080,
	      "inbound to the local port");
	CHECK(cls(p, NG_OUT, NG_C_REMOTE)->m[0].sport_lo == 8080, "our replies from it");
	CHECK(cls(p, NG_OUT, NG_C_NEW_TCP)->n == 1, "no outbound connections");
	ng_plan_free(p);

	/* network inet dgram: UDP and ICMP echo sockets */
	struct net_rule r4 = rule(0, AF_INET, SOCK_DGRAM, 0, NET_ALL);
	CHECK(ng_plan_rules("d", &r4, 1, 0, 0, &p) == 0 && cls(p, 0, 0)->n == 3 &&
		      cls(p, 0, 0)->m[0].l4proto == IPPROTO_UDP &&
		      cls(p, 0, 0)->m[1].l4proto == IPPROTO_ICMP, "dgram");
	ng_plan_free(p);
	/* network dgram (both families): one UDP match, ICMP per family */
	struct net_rule r4b = rule(0, 0, SOCK_DGRAM, 0, NET_ALL);
	CHECK(ng_plan_rules("d2", &r4b, 1, 0, 0, &p) == 0 && cls(p, 0, 0)->n == 4 &&
		      cls(p, 0, 0)->m[0].nfproto == 0 &&
		      cls(p, 0, 0)->m[2].l4proto == IPPROTO_ICMPV6, "dgram, any family");
	ng_plan_free(p);
	/* network port=53 (no protocol): TCP and UDP */
	struct net_rule r5 = rule(0, 0, 0, 0, NET_ALL);
	r5.peer.port_lo = r5.peer.port_hi = 53;
	CHECK(ng_plan_rules("e", &r5, 1, 0, 0, &p) == 0 && cls(p, 0, 0)->n == 3 &&
		      cls(p, 0, 0)->m[0].l4proto == IPPROTO_TCP &&
		      cls(p, 0, 0)->m[1].l4proto == IPPROTO_UDP, "ports imply tcp+udp");
	ng_plan_free(p);
	/* icmp with a port never matches */
	struct net_rule r6 = rule(0, AF_INET, 0, IPPROTO_ICMP, NET_ALL);
	r6.peer.port_lo = 1;
	CHECK(ng_plan_rules("f", &r6, 1, 0, 0, &p) == 0 && cls(p, 0, 0)->n == 1, "icmp+port");
	ng_plan_free(p);
	/* deny raw cannot be told at packet level; allow raw allows all */
	struct net_rule r7[2] = { rule(1, AF_INET, SOCK_RAW, 0, NET_ALL),
				  rule(0, AF_INET, SOCK_RAW, 0, NET_ALL) };
	CHECK(ng_plan_rules("g", r7, 2, 0, 0, &p) == 0 && cls(p, 0, 0)->n == 2 &&
		      cls(p, 0, 0)->m[0].verdict == NG_V_ACCEPT &&
		      cls(p, 0, 0)->m[0].l4proto == 0, "raw");
	ng_plan_free(p);
	/* an inet6 rule with an IPv4 address matches nothing */
	struct net_rule r8 = rule(0, AF_INET6, 0, 0, NET_ALL);
	r8.local.has_ip = 1;
	r8.local.ip_family = AF_INET;
	CHECK(ng_plan_rules("h", &r8, 1, 0, 0, &p) == 0 && cls(p, 0, 0)->n == 1, "family clash");
	ng_plan_free(p);
	/* deny wins: deny first in every chain, quiet unless audit */
	struct net_rule r9[3] = { rule(0, 0, 0, 0, NET_ALL), rule(1, AF_INET, 0, 0, NET_ALL),
				  rule(1, AF_INET6, 0, 0, NET_ALL) };
	r9[2].audit = 1;
	r9[0].audit = 1;
	CHECK(ng_plan_rules("i", r9, 3, 0, 0, &p) == 0, "plan i");
	ch = cls(p, NG_IN, NG_C_REMOTE);
	CHECK(ch->n == 4 && ch->m[0].verdict == NG_V_REJECT && ch->m[0].log == NG_LOG_NONE &&
		      ch->m[1].verdict == NG_V_REJECT && ch->m[1].log == NG_LOG_DENIED &&
		      ch->m[2].verdict == NG_V_ACCEPT && ch->m[2].log == NG_LOG_AUDIT,
	      "deny first, audit logs");
	ng_plan_free(p);
	/* complain: denials become logged accepts */
	CHECK(ng_plan_rules("j", r9, 3, 1, 0, &p) == 0, "plan j");
	ch = cls(p, NG_OUT, 0);
	CHECK(ch->m[0].verdict == NG_V_ACCEPT && ch->m[0].log == NG_LOG_ALLOWED &&
		      ch->m[ch->n - 1].verdict == NG_V_ACCEPT &&
		      ch->m[ch->n - 1].log == NG_LOG_ALLOWED, "complain");
	ng_plan_free(p);
	CHECK(ng_plan_rules("k", NULL, 0, 0, 1, &p) == 0 && cls(p, 0, 0)->n == 1 &&
		      cls(p, 0, 0)->m[0].verdict == NG_V_ACCEPT && !cls(p, 0, 0)->m[0].log,
	      "default allow");
	ng_plan_free(p);
	CHECK(ng_plan_rules("k", NULL, 0, 0, 0, &p) == 0 && cls(p, 0, 0)->n == 1 &&
		      cls(p, 0, 0)->m[0].verdict == NG_V_REJECT, "no rules: all denied");
	ng_plan_free(p);
	/* bad input */
	struct net_rule bad = rule(0, AF_INET, 0, 0, NET_ALL);
	bad.local.port_lo = 9;
	bad.local.port_hi = 8;
	CHECK(ng_plan_rules("x", &bad, 1, 0, 0, &p) == -EINVAL && !p, "port range");
	bad = rule(0, AF_INET, 0, 0, NET_ALL);
	bad.peer.has_ip = 1;
	bad.peer.ip_family = 99;
	CHECK(ng_plan_rules("x", &bad, 1, 0, 0, &p) == -EINVAL, "ip family");
	CHECK(ng_plan_rules("x", &r1, NG_MAX_RULES + 1, 0, 0, &p) == -E2BIG, "too many rules");
	char name[NG_CHAIN_NAME_MAX];
	ng_chain_name(0x0123456789abcdefull, NG_IN, 3, name);
	CHECK(!strcmp(name, "p0123456789abcdefi3"), "chain name %s", name);
	CHECK(ng_pchain_hash(name) == 0x0123456789abcdefull, "hash back from name");
	CHECK(ng_pchain_hash("output") == 0 && ng_pchain_hash("p0123") == 0, "not ours");
}

/* ---- batches, parsed back ---- */

struct parsed {
	int type[4096];      /* NFT_MSG_* of each message */
	char what[4096][160];/* table/chain/set name, or rule text */
	size_t n;
	int begin, end, genid_ok, acked_last;
};

static void parse_batch(struct nftnl_batch *b, uint32_t genid, struct parsed *out)
{
	memset(out, 0, sizeof *out);
	int niov = nftnl_batch_iovec_len(b);
	struct iovec iov[256];
	if (niov > 256)
		niov = 256;
	nftnl_batch_iovec(b, iov, (uint32_t)niov);
	const struct nlmsghdr *lastmsg = NULL;
	for (int i = 0; i < niov; i++) {
		int len = (int)iov[i].iov_len;
		for (const struct nlmsghdr *nlh = iov[i].iov_base; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
				out->begin++;
				const struct nlattr *a = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nfgenmsg));
				uint32_t g = 0;
				if (mnl_nlmsg_get_payload_len(nlh) > sizeof(struct nfgenmsg))
					g = ntohl(mnl_attr_get_u32(a));
				out->genid_ok = g == genid;
				continue;
			}
			if (nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
				out->end++;
				out->acked_last = lastmsg && (lastmsg->nlmsg_flags & NLM_F_ACK);
				continue;
			}
			lastmsg = nlh;
			int t = nlh->nlmsg_type & 0xff;
			size_t k = out->n++;
			out->type[k] = t;
			char *w = out->what[k];
			w[0] = '\0';
			if (t == NFT_MSG_NEWTABLE || t == NFT_MSG_DELTABLE) {
				struct nftnl_table *x = nftnl_table_alloc();
				nftnl_table_nlmsg_parse(nlh, x);
				snprintf(w, 160, "%s", nftnl_table_get_str(x, NFTNL_TABLE_NAME));
				nftnl_table_free(x);
			} else if (t == NFT_MSG_NEWCHAIN || t == NFT_MSG_DELCHAIN) {
				struct nftnl_chain *x = nftnl_chain_alloc();
				nftnl_chain_nlmsg_parse(nlh, x);
				snprintf(w, 160, "%s", nftnl_chain_get_str(x, NFTNL_CHAIN_NAME));
				nftnl_chain_free(x);
			} else if (t == NFT_MSG_NEWRULE || t == NFT_MSG_DELRULE) {
				struct nftnl_rule *x = nftnl_rule_alloc();
				nftnl_rule_nlmsg_parse(nlh, x);
				nftnl_rule_snprintf(w, 160, x, NFTNL_OUTPUT_DEFAULT, 0);
				nftnl_rule_free(x);
			} else if (t == NFT_MSG_NEWSET || t == NFT_MSG_DELSET) {
				struct nftnl_set *x = nftnl_set_alloc();
				nftnl_set_nlmsg_parse(nlh, x);
				snprintf(w, 160, "%s keylen=%u", nftnl_set_get_str(x, NFTNL_SET_NAME),
					 nftnl_set_get_u32(x, NFTNL_SET_KEY_LEN));
				nftnl_set_free(x);
			} else if (t == NFT_MSG_NEWSETELEM || t == NFT_MSG_DELSETELEM) {
				struct nftnl_set *x = nftnl_set_alloc();
				nftnl_set_elems_nlmsg_parse(nlh, x);
				struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(x);
				struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it);
				uint32_t kl = 0;
				uint64_t key = 0;
				const void *kp = e ? nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &kl) : NULL;
				if (kp && kl == 8)
					memcpy(&key, kp, 8);
				const char *ch = e ? nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN) : NULL;
				snprintf(w, 160, "%s key=%llu -> %s", nftnl_set_get_str(x, NFTNL_SET_NAME),
					 (unsigned long long)key, ch ? ch : "-");
				nftnl_set_elems_iter_destroy(it);
				nftnl_set_free(x);
			}
		}
	}
}

static int find(const struct parsed *p, int type, const char *needle)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->type[i] == type && strstr(p->what[i], needle))
			return (int)i;
	return -1;
}

static int count(const struct parsed *p, int type)
{
	int n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += p->type[i] == type;
	return n;
}

/* Every goto/jump target exists earlier in the batch or in cur. */
static int order_ok(const struct parsed *p, const struct ng_state *cur)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *s = p->type[i] == NFT_MSG_NEWRULE ? strstr(p->what[i], "-> ")
			      : p->type[i] == NFT_MSG_NEWSETELEM ? strstr(p->what[i], "-> ") : NULL;
		if (!s)
			continue;
		char target[64];
		if (sscanf(s + 3, "%63[a-z0-9_]", target) != 1)
			continue;
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = p->type[j] == NFT_MSG_NEWCHAIN && !strcmp(p->what[j], target);
		for (size_t j = 0; j < cur->nc && !seen; j++)
			seen = !strcmp(cur->c[j].name, target);
		if (!seen) {
			fprintf(stderr, "message %zu (%s) jumps to %s before it exists\n", i,
				p->what[i], target);
			return 0;
		}
	}
	return 1;
}

static void test_batch(void)
{
	static struct parsed pb;
	struct ng_state empty = { 0 };
	struct net_rule r2 = rule(0, AF_INET, SOCK_STREAM, 0, NET_CONNECT);
	r2.peer.port_lo = r2.peer.port_hi = 80;
	struct net_rule r1 = rule(0, AF_INET, SOCK_STREAM, 0, NET_ALL);
	struct ng_plan *pa = NULL, *pc = NULL;
	ng_plan_rules("alpha", &r1, 1, 0, 0, &pa);
	ng_plan_rules("client", &r2, 1, 0, 0, &pc);
	struct ng_bind b1 = { .id = 4242, .level = 2, .path = "/t/one", .hash = pa->hash };
	struct nftnl_batch *b = NULL;
	size_t nmsg = 0;

	/* attach to an empty ruleset */
	struct ng_plan *plans[2] = { pa, pc };
	CHECK(ng_batch_build(&empty, &b1, 1, plans, 2, 77, 1, &b, &nmsg) == 0 && nmsg > 0,
	      "build attach");
	parse_batch(b, 77, &pb);
	CHECK(pb.begin == 1 && pb.end == 1 && pb.genid_ok && pb.acked_last,
	      "framing: begin with genid, end, last message acked");
	CHECK(pb.n == nmsg, "message count %zu vs %zu", pb.n, nmsg);
	CHECK(pb.type[0] == NFT_MSG_NEWTABLE && !strcmp(pb.what[0], NG_TABLE), "table first");
	CHECK(find(&pb, NFT_MSG_NEWSET, "out2 keylen=8") >= 0 &&
		      find(&pb, NFT_MSG_NEWSET, "in2 keylen=8") >= 0, "maps for level 2");
	CHECK(find(&pb, NFT_MSG_NEWRULE, "socket load cgroupv2") >= 0 &&
		      find(&pb, NFT_MSG_NEWRULE, "lookup reg 1 set out2") >= 0,
	      "dispatch through the map");
	char ename[64];
	snprintf(ename, sizeof ename, "key=4242 -> p%016llxo", (unsigned long long)pa->hash);
	CHECK(find(&pb, NFT_MSG_NEWSETELEM, ename) >= 0, "element %s", ename);
	CHECK(find(&pb, NFT_MSG_NEWCHAIN, "p") >= 0 && count(&pb, NFT_MSG_DELCHAIN) == 0 &&
		      count(&pb, NFT_MSG_DELTABLE) == 0, "no deletions");
	CHECK(find(&pb, NFT_MSG_NEWRULE, "reject type 1") >= 0, "tcp reset reject");
	CHECK(order_ok(&pb, &empty), "order");
	char cn[NG_CHAIN_NAME_MAX];
	ng_chain_name(pc->hash, NG_OUT, -1, cn);
	CHECK(find(&pb, NFT_MSG_NEWCHAIN, cn) < 0, "unused plan not installed");
	nftnl_batch_free(b);

	/* the kernel now holds b1: replace its profile by "client" */
	struct ng_state cur = { .table = 1, .genid = 78, .levels = 1ull << 2 };
	struct ng_bind curb[1] = { b1 };
	struct ng_pchain curc[2];
	memset(curc, 0, sizeof curc);
	ng_chain_name(pa->hash, NG_OUT, -1, curc[0].name);
	ng_chain_name(pa->hash, NG_IN, -1, curc[1].name);
	cur.b = curb;
	cur.nb = 1;
	cur.c = curc;
	cur.nc = 2;
	struct ng_bind b2 = b1;
	b2.hash = pc->hash;
	CHECK(ng_batch_build(&cur, &b2, 1, plans, 2, 78, 100, &b, &nmsg) == 0, "build replace");
	parse_batch(b, 78, &pb);
	int del = find(&pb, NFT_MSG_DELSETELEM, "out2 key=4242");
	snprintf(ename, sizeof ename, "out2 key=4242 -> p%016llxo", (unsigned long long)pc->hash);
	int add = find(&pb, NFT_MSG_NEWSETELEM, ename);
	int delc = find(&pb, NFT_MSG_DELCHAIN, curc[0].name);
	CHECK(del >= 0 && add > del, "element replaced in the same batch (%d, %d)", del, add);
	CHECK(delc > add && find(&pb, NFT_MSG_DELCHAIN, curc[1].name) > add,
	      "old chains deleted after the element moved");
	CHECK(find(&pb, NFT_MSG_NEWCHAIN, cn) >= 0, "client chains added");
	ng_chain_name(pc->hash, NG_OUT, pc->class_chain[NG_OUT][NG_C_NEW_TCP], cn);
	CHECK(find(&pb, NFT_MSG_NEWCHAIN, cn) >= 0, "class chain %s added", cn);
	CHECK(find(&pb, NFT_MSG_NEWRULE, "ct load state") >= 0 &&
		      find(&pb, NFT_MSG_NEWRULE, "ct load direction") >= 0, "class dispatch");
	CHECK(count(&pb, NFT_MSG_NEWSET) == 0 && count(&pb, NFT_MSG_DELSET) == 0, "maps kept");
	CHECK(order_ok(&pb, &cur), "order");
	nftnl_batch_free(b);

	/* move the cgroup to level 3: map out2 goes, out3 comes, deeper first */
	struct ng_bind b3 = b1;
	b3.level = 3;
	struct ng_bind two[2] = { b3, { .id = 5, .level = 1, .path = "/u", .hash = pa->hash } };
	CHECK(ng_batch_build(&cur, two, 2, plans, 2, 0, 200, &b, &nmsg) == 0, "build move");
	parse_batch(b, 0, &pb);
	CHECK(find(&pb, NFT_MSG_DELSET, "out2") >= 0 && find(&pb, NFT_MSG_NEWSET, "out3") >= 0 &&
		      find(&pb, NFT_MSG_NEWSET, "out1") >= 0, "maps follow levels");
	int l3 = find(&pb, NFT_MSG_NEWRULE, "set out3"), l1 = find(&pb, NFT_MSG_NEWRULE, "set out1");
	CHECK(l3 >= 0 && l1 > l3, "deeper level dispatched first");
	CHECK(count(&pb, NFT_MSG_DELCHAIN) == 0, "chains still used");
	CHECK(pb.genid_ok, "no genid when 0");
	nftnl_batch_free(b);

	/* last detach: the table goes, nothing else */
	CHECK(ng_batch_build(&cur, NULL, 0, plans, 2, 78, 300, &b, &nmsg) == 0 && nmsg == 1,
	      "build detach");
	parse_batch(b, 78, &pb);
	CHECK(pb.n == 1 && pb.type[0] == NFT_MSG_DELTABLE && pb.acked_last, "delete the table");
	nftnl_batch_free(b);
	CHECK(ng_batch_build(&empty, NULL, 0, plans, 2, 0, 300, &b, &nmsg) == 0 && nmsg == 0,
	      "nothing to do");
	nftnl_batch_free(b);

	/* a hash without a plan or chains is refused */
	struct ng_bind orphan = b1;
	orphan.hash = 12345;
	CHECK(ng_batch_build(&empty, &orphan, 1, plans, 2, 0, 1, &b, &nmsg) == -EINVAL,
	      "missing plan");
	struct ng_bind badl = b1;
	badl.level = 0;
	CHECK(ng_batch_build(&empty, &badl, 1, plans, 2, 0, 1, &b, &nmsg) == -EINVAL,
	      "level 0");

	/* 1000 bindings fit one batch */
	struct ng_bind *many = calloc(1000, sizeof *many);
	for (int i = 0; i < 1000; i++) {
		many[i] = b1;
		many[i].id = 100000 + (uint64_t)i;
		many[i].hash = i % 2 ? pa->hash : pc->hash;
	}
	CHECK(ng_batch_build(&empty, many, 1000, plans, 2, 0, 1, &b, &nmsg) == 0, "build 1000");
	parse_batch(b, 0, &pb);
	CHECK(count(&pb, NFT_MSG_NEWSETELEM) >= 2 * 1000 / 128, "elements chunked");
	nftnl_batch_free(b);
	free(many);
	ng_plan_free(pa);
	ng_plan_free(pc);
}

/* ---- seccomp, for real, in children ---- */

static struct policy *load_policy(const char *text, const char *dir)
{
	char path[256];
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/prof", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	struct diags d = { 0 };
	struct policy *pol = NULL;
	int r = policy_load_dir(dir, NULL, &d, &pol);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "policy: %d:%d: %s\n", d.v[i].line, d.v[i].col, d.v[i].msg);
	diags_free(&d);
	unlink(path);
	rmdir(dir);
	return r == 0 ? pol : NULL;
}

/* In a child with the filter: socket(dom, type, proto) via syscall(2)
 * with `hi` or'd into the upper register halves. Returns 0 or errno. */
static int try_socket(const struct profile *pr, long call, long dom, long type, long proto)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (ng_seccomp_load(pr) < 0)
			_exit(200);
		long r;
		if (call == SYS_socketpair) {
			int sv[2];
			r = syscall(SYS_socketpair, dom, type, proto, sv);
		} else if (call == SYS_io_uring_setup) {
			struct io_uring_params p;
			memset(&p, 0, sizeof p);
			r = syscall(SYS_io_uring_setup, 1, &p);
		} else {
			r = syscall(call, dom, type, proto);
		}
		_exit(r >= 0 ? 0 : errno > 199 ? 199 : errno);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static void test_seccomp(void)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/dev/shm/test_netgate.%d", (int)getpid());
	struct policy *pol = load_policy("profile sc {\n"
					 "  network inet stream,\n"
					 "  network inet6 udp,\n"
					 "}\n", dir);
	CHECK(pol != NULL, "compile the seccomp profile");
	if (!pol)
		return;
	const struct profile *pr = policy_find(pol, "sc");
	CHECK(pr != NULL, "profile sc");
	if (!pr)
		return;
	const long HI = 0x100000000L;
	CHECK(try_socket(pr, SYS_socket, AF_INET, SOCK_STREAM, 0) == 0, "inet stream ok");
	CHECK(try_socket(pr, SYS_socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) == 0,
	      "flags masked off");
	CHECK(try_socket(pr, SYS_socket, AF_INET, SOCK_STREAM, IPPROTO_TCP) == 0, "inet tcp ok");
	CHECK(try_socket(pr, SYS_socket, AF_INET, SOCK_DGRAM, 0) == EACCES, "inet dgram refused");
	CHECK(try_socket(pr, SYS_socket, AF_INET6, SOCK_DGRAM, 0) == 0, "inet6 udp ok");
	CHECK(try_socket(pr, SYS_socket, AF_INET6, SOCK_DGRAM, IPPROTO_UDP) == 0, "inet6 udp 17");
	CHECK(try_socket(pr, SYS_socket, AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6) == EACCES,
	      "inet6 ping refused (other protocol of an allowed type)");
	CHECK(try_socket(pr, SYS_socket, AF_INET6, SOCK_STREAM, 0) == EACCES, "inet6 tcp refused");
	CHECK(try_socket(pr, SYS_socket, AF_UNIX, SOCK_STREAM, 0) == EACCES, "unix refused");
	CHECK(try_socket(pr, SYS_socket, AF_NETLINK, SOCK_RAW, 0) == EACCES, "netlink refused");
	CHECK(try_socket(pr, SYS_socket, AF_PACKET, SOCK_RAW, 0) == EACCES, "packet refused");
	CHECK(try_socket(pr, SYS_socket, AF_INET, SOCK_RAW, IPPROTO_ICMP) == EACCES, "raw refused");
	CHECK(try_socket(pr, SYS_socketpair, AF_UNIX, SOCK_STREAM, 0) == EACCES,
	      "socketpair refused");
	CHECK(try_socket(pr, SYS_socket, HI | AF_UNIX, SOCK_STREAM, 0) == EACCES,
	      "junk in the upper half of the domain");
	CHECK(try_socket(pr, SYS_socket, AF_INET6, HI | SOCK_STREAM, 0) == EACCES,
	      "junk in the upper half of the type");
	CHECK(try_socket(pr, SYS_socket, AF_INET6, SOCK_DGRAM, HI | IPPROTO_ICMPV6) == EACCES,
	      "junk in the upper half of the protocol");
	CHECK(try_socket(pr, SYS_socket, AF_INET, SOCK_STREAM, HI) == 0,
	      "junk on an allowed call is harmless (the kernel sees protocol 0)");
	CHECK(try_socket(pr, SYS_io_uring_setup, 0, 0, 0) == EACCES, "io_uring refused");
	struct ng_sock_table *t = malloc(sizeof *t);
	CHECK(ng_sock_table(pr, t) == 0 && t->allow[AF_INET][SOCK_STREAM][0] &&
		      !t->allow[AF_UNIX][SOCK_STREAM][0], "table");
	free(t);
	CHECK(!ng_inet_refused(pr), "inet allowed: packet rules needed");
	policy_free(pol);

	/* ng_inet_refused: no inet or inet6 socket of any type or protocol */
	static const struct {
		const char *text;
		bool refused;
	} nets[] = {
		{ "profile n {\n}\n", true },
		{ "profile n {\n  network unix,\n  network netlink raw,\n}\n", true },
		{ "profile n {\n  network inet6 raw,\n}\n", false },
		{ "profile n {\n  network inet dgram,\n}\n", false },
		{ "profile n {\n  network tcp,\n}\n", false },
		{ "profile n {\n  network,\n}\n", false },
		{ "profile n {\n  network inet stream peer=(ip=127.0.0.1),\n}\n", false },
		{ "profile n {\n  network inet,\n  deny network inet,\n}\n", true },
		{ "profile n flags=(complain) {\n}\n", false },
		{ "profile n flags=(default_allow) {\n}\n", false },
		{ "profile n {\n  all,\n}\n", false },
	};
	for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
		pol = load_policy(nets[i].text, dir);
		CHECK(pol != NULL, "compile");
		if (!pol)
			continue;
		CHECK(ng_inet_refused(policy_find(pol, "n")) == nets[i].refused, nets[i].text);
		policy_free(pol);
	}

	pol = load_policy("profile u {\n  network inet stream,\n  unix (send, receive) type=stream,\n}\n", dir);
	CHECK(pol != NULL, "compile the unix profile");
	if (pol) {
		pr = policy_find(pol, "u");
		CHECK(try_socket(pr, SYS_socket, AF_UNIX, SOCK_STREAM, 0) == 0, "unix rules: unix sockets");
		CHECK(try_socket(pr, SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0) == 0, "and socketpair");
		CHECK(try_socket(pr, SYS_socket, AF_NETLINK, SOCK_RAW, 0) == EACCES, "not netlink");
		policy_free(pol);
	}
	pol = load_policy("profile c flags=(complain) {\n}\n", dir);
	CHECK(pol != NULL, "compile the complain profile");
	if (pol) {
		pr = policy_find(pol, "c");
		CHECK(try_socket(pr, SYS_socket, AF_PACKET, SOCK_RAW, 0) == 0, "complain: anything");
		policy_free(pol);
	}
	pol = load_policy("profile ring {\n  network,\n  io_uring,\n}\n", dir);
	CHECK(pol != NULL, "compile the io_uring profile");
	if (pol) {
		pr = policy_find(pol, "ring");
		CHECK(try_socket(pr, SYS_io_uring_setup, 0, 0, 0) != EACCES, "io_uring allowed");
		CHECK(try_socket(pr, SYS_socket, AF_UNIX, SOCK_STREAM, 0) == 0, "network, allows unix");
		policy_free(pol);
	}
}

/* ---- nflog decoding ---- */

static void test_nflog(void)
{
	/* IPv4 TCP SYN 10.0.0.1:40000 -> 10.0.0.2:22 */
	uint8_t p4[40] = { 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, IPPROTO_TCP, 0, 0,
			   10, 0, 0, 1, 10, 0, 0, 2,
			   0x9c, 0x40, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02 };
	struct ng_logged l;
	CHECK(ng_nflog_decode("capgate DENIED web", NF_INET_LOCAL_OUT, p4, sizeof p4, &l) == 0,
	      "decode v4");
	CHECK(l.kind == AUDIT_DENIED && !strcmp(l.profile, "web") &&
		      !strcmp(l.operation, "connect") && !strcmp(l.laddr, "10.0.0.1") &&
		      l.lport == 40000 && !strcmp(l.faddr, "10.0.0.2") && l.fport == 22 &&
		      !strcmp(l.family, "inet") && !strcmp(l.sock_type, "stream") &&
		      !strcmp(l.protocol, "tcp") && l.error == -EACCES, "v4 fields");
	CHECK(ng_nflog_decode("capgate AUDIT web", NF_INET_LOCAL_IN, p4, sizeof p4, &l) == 0 &&
		      !strcmp(l.operation, "accept") && !strcmp(l.laddr, "10.0.0.2") &&
		      l.lport == 22 && l.error == 0 && l.kind == AUDIT_AUDIT, "input side");
	struct audit_event ev;
	ng_logged_event(&l, &ev);
	char line[512];
	audit_format(&ev, 1, 2, 3, line, sizeof line);
	CHECK(strstr(line, "apparmor=\"AUDIT\" operation=\"accept\" class=\"net\" profile=\"web\" "
			   "laddr=10.0.0.2 lport=22 faddr=10.0.0.1 fport=40000 family=\"inet\"") != NULL,
	      "line %s", line);
	/* IPv6 UDP ::1:5000 -> ::1:53 */
	uint8_t p6[48] = { 0x60, 0, 0, 0, 0, 8, IPPROTO_UDP, 64 };
	p6[23] = 1;
	p6[39] = 1;
	p6[40] = 0x13; p6[41] = 0x88; p6[42] = 0; p6[43] = 53;
	CHECK(ng_nflog_decode("capgate ALLOWED x", NF_INET_LOCAL_OUT, p6, sizeof p6, &l) == 0 &&
		      !strcmp(l.family, "inet6") && !strcmp(l.laddr, "::1") && l.fport == 53 &&
		      !strcmp(l.operation, "sendmsg") && !strcmp(l.sock_type, "dgram"), "v6 udp");
	CHECK(ng_nflog_decode("other prefix", NF_INET_LOCAL_OUT, p4, sizeof p4, &l) == -EINVAL,
	      "foreign prefix");
	CHECK(ng_nflog_decode("capgate DENIED a", NF_INET_LOCAL_OUT, p4, 10, &l) == -EINVAL,
	      "short packet");
	uint8_t bad[20] = { 0x4f };
	CHECK(ng_nflog_decode("capgate DENIED a", NF_INET_LOCAL_OUT, bad, sizeof bad, &l) == -EINVAL,
	      "ihl past the end");
	/* fuzz: never crash, never read past len */
	uint64_t st = 42;
	for (int i = 0; i < 20000; i++) {
		uint8_t buf[64];
		size_t n = (size_t)(i % 64);
		for (size_t k = 0; k < n; k++) {
			st = st * 6364136223846793005ull + 1442695040888963407ull;
			buf[k] = (uint8_t)(st >> 56);
		}
		if (n)
			buf[0] = (uint8_t)((i & 1 ? 0x40 : 0x60) | (buf[0] & 15));
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, buf, n);
		ng_nflog_decode("capgate DENIED f", i & 2 ? NF_INET_LOCAL_IN : NF_INET_LOCAL_OUT,
				copy, n, &l);
		free(copy);
	}
	CHECK(1, "fuzz ran");
}

/* ---- bind(2) programs: shape, and the kernel's verifier takes them ---- */

static int verifier_ok(const struct bpf_insn *insns, size_t n, int v6)
{
	union bpf_attr a;
	char log[4096] = "";
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
	a.expected_attach_type = v6 ? BPF_CGROUP_INET6_BIND : BPF_CGROUP_INET4_BIND;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof log;
	a.log_level = 1;
	int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
	if (fd < 0) {
		fprintf(stderr, "verifier: %s\n%s\n", strerror(errno), log);
		return 0;
	}
	close(fd);
	return 1;
}

static void test_bindbpf(void)
{
	struct bpf_insn prog[NG_BIND_MAX_INSNS];
	size_t n;
	int trivial;
	struct net_rule all = rule(0, 0, 0, 0, NET_ALL);
	CHECK(ng_bind_prog(&all, 1, 0, 0, AF_INET, prog, NG_BIND_MAX_INSNS, &n, &trivial) == 0 &&
		      trivial && n == 3, "network, allows every bind");
	CHECK(ng_bind_prog(NULL, 0, 0, 0, AF_INET, prog, NG_BIND_MAX_INSNS, &n, &trivial) == 0 &&
		      !trivial && n == 3 && prog[1].imm == 0, "no rules: every bind refused");
	CHECK(ng_bind_prog(NULL, 0, 0, 1, AF_INET, prog, NG_BIND_MAX_INSNS, &n, &trivial) == 0 &&
		      trivial, "default allow");
	struct net_rule conn = rule(0, 0, SOCK_STREAM, 0, NET_CONNECT);
	CHECK(ng_bind_prog(&conn, 1, 0, 0, AF_INET, prog, NG_BIND_MAX_INSNS, &n, &trivial) == 0 &&
		      !trivial && n == 3, "connect does not bind");
	/* deny 8081, allow tcp 8000-9000 on 10.0.0.1, allow ::1 udp */
	struct net_rule rs[3] = { rule(1, 0, 0, IPPROTO_TCP, NET_BIND),
				  rule(0, AF_INET, SOCK_STREAM, 0, NET_BIND | NET_LISTEN),
				  rule(0, AF_INET6, SOCK_DGRAM, IPPROTO_UDP, NET_ALL) };
	rs[0].local.port_lo = rs[0].local.port_hi = 8081;
	rs[1].local.port_lo = 8000;
	rs[1].local.port_hi = 9000;
	rs[1].local.has_ip = 1;
	rs[1].local.ip_family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", rs[1].local.ip);
	rs[2].local.has_ip = 1;
	rs[2].local.ip_family = AF_INET6;
	inet_pton(AF_INET6, "::1", rs[2].local.ip);
	for (int v6 = 0; v6 < 2; v6++) {
		CHECK(ng_bind_prog(rs, 3, 0, 0, v6 ? AF_INET6 : AF_INET, prog, NG_BIND_MAX_INSNS,
				   &n, &trivial) == 0 && !trivial && n > 8, "rules v6=%d: %zu insns", v6, n);
		CHECK(verifier_ok(prog, n, v6), "the verifier takes it (v6=%d)", v6);
	}
	CHECK(ng_bind_prog(rs, 3, 0, 0, AF_INET, prog, 5, &n, &trivial) == -E2BIG, "limit");
	CHECK(ng_bind_prog(rs, 3, 1, 0, AF_INET, prog, NG_BIND_MAX_INSNS, &n, &trivial) == 0 &&
		      verifier_ok(prog, n, 0), "complain");
}

int main(void)
{
	test_bindbpf();
	test_nflog();
	test_cgroup();
	test_plan();
	test_batch();
	test_seccomp();
	printf("%d checks, %d failures\n", checks, failures);
	return failures != 0;
}

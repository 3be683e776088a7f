/* cg_nflog.c: netgate's packet log as audit lines (cg_nflog.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "capgate/cg_nflog.h"
#include "netgate/ng_plan.h"

int cg_nflog_event(const char *prefix, int hook, const uint8_t *pkt, size_t len,
		   struct audit_event *ev, struct cg_net_text *txt)
{
	enum audit_kind kind;
	const char *p;
	if (strncmp(prefix, "capgate DENIED ", 15) == 0) {
		kind = AUDIT_DENIED;
		p = prefix + 15;
	} else if (strncmp(prefix, "capgate AUDIT ", 14) == 0) {
		kind = AUDIT_AUDIT;
		p = prefix + 14;
	} else {
		return -EINVAL;
	}
	snprintf(txt->profile, sizeof txt->profile, "%s", p);
	if (len < 1)
		return -EINVAL;
	int ver = pkt[0] >> 4, proto;
	size_t hl;
	const void *src, *dst;
	if (ver == 4) {
		if (len < sizeof(struct iphdr))
			return -EINVAL;
		const struct iphdr *ip = (const struct iphdr *)pkt;
		hl = (size_t)ip->ihl * 4;
		proto = ip->protocol;
		src = &ip->saddr;
		dst = &ip->daddr;
	} else if (ver == 6) {
		if (len < sizeof(struct ip6_hdr))
			return -EINVAL;
		const struct ip6_hdr *ip6 = (const struct ip6_hdr *)pkt;
		hl = sizeof *ip6;
		proto = ip6->ip6_nxt; /* extension headers: ports left out */
		src = &ip6->ip6_src;
		dst = &ip6->ip6_dst;
	} else {
		return -EINVAL;
	}
	bool out = hook == 3;
	int af = ver == 4 ? AF_INET : AF_INET6;
	inet_ntop(af, out ? src : dst, txt->laddr, sizeof txt->laddr);
	inet_ntop(af, out ? dst : src, txt->faddr, sizeof txt->faddr);
	audit_event_init(ev);
	ev->kind = kind;
	ev->klass = "net";
	ev->profile = txt->profile;
	ev->family = ver == 4 ? "inet" : "inet6";
	ev->laddr = txt->laddr;
	ev->faddr = txt->faddr;
	ev->error = kind == AUDIT_DENIED ? -ECONNREFUSED : 0;
	int sport = -1, dport = -1;
	bool syn = false;
	if (proto == IPPROTO_TCP && len >= hl + sizeof(struct tcphdr)) {
		const struct tcphdr *t = (const struct tcphdr *)(pkt + hl);
		sport = ntohs(t->source);
		dport = ntohs(t->dest);
		syn = t->syn && !t->ack;
		ev->sock_type = "stream";
		ev->protocol = "tcp";
	} else if (proto == IPPROTO_UDP && len >= hl + sizeof(struct udphdr)) {
		const struct udphdr *u = (const struct udphdr *)(pkt + hl);
		sport = ntohs(u->source);
		dport = ntohs(u->dest);
		ev->sock_type = "dgram";
		ev->protocol = "udp";
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		ev->protocol = proto == IPPROTO_ICMP ? "icmp" : "icmpv6";
	}
	ev->lport = out ? sport : dport;
	ev->fport = out ? dport : sport;
	if (out)
		ev->operation = syn ? "connect" : "sendmsg";
	else
		ev->operation = syn ? "accept" : "recvmsg";
	ev->requested = ev->denied = NULL;
	return 0;
}

struct cg_nflog {
	struct mnl_socket *nl;
	unsigned seq;
	char buf[1 << 16];
};

static int config(struct cg_nflog *l, uint8_t cmd, bool mode)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++l->seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NG_LOG_GROUP);
	if (mode) {
		struct nfulnl_msg_config_mode m = { htonl(256), NFULNL_COPY_PACKET, 0 };
		mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof m, &m);
		mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1)); /* no batching */
	} else {
		struct nfulnl_msg_config_cmd c = { cmd };
		mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof c, &c);
	}
	if (mnl_socket_sendto(l->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	int n = (int)mnl_socket_recvfrom(l->nl, buf, sizeof buf);
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)n, l->seq, mnl_socket_get_portid(l->nl), NULL, NULL) < 0)
		return -errno;
	return 0;
}

int cg_nflog_open(struct cg_nflog **out)
{
	struct cg_nflog *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	l->seq = (unsigned)time(NULL);
	int r;
	l->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!l->nl || mnl_socket_bind(l->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto fail;
	}
	/* Blocking for the ACKs of the configuration only. */
	if ((r = config(l, NFULNL_CFG_CMD_BIND, false)) < 0 ||
	    (r = config(l, 0, true)) < 0)
		goto fail;
	*out = l;
	return 0;
fail:
	cg_nflog_close(l);
	return r;
}

int cg_nflog_fd(const struct cg_nflog *l)
{
	return mnl_socket_get_fd(l->nl);
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int t = mnl_attr_get_type(a);
	if (t <= NFULA_MAX)
		tb[t] = a;
	return MNL_CB_OK;
}

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct audit_sink *sink = data;
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb);
	if (!tb[NFULA_PREFIX] || !tb[NFULA_PAYLOAD] || !tb[NFULA_PACKET_HDR])
		return MNL_CB_OK;
	const struct nfulnl_msg_packet_hdr *ph = mnl_attr_get_payload(tb[NFULA_PACKET_HDR]);
	struct audit_event ev;
	struct cg_net_text txt;
	if (cg_nflog_event(mnl_attr_get_str(tb[NFULA_PREFIX]), ph->hook,
			   mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			   mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), &ev, &txt) == 0)
		audit_emit(sink, &ev);
	return MNL_CB_OK;
}

void cg_nflog_read(struct cg_nflog *l, struct audit_sink *sink)
{
	for (int i = 0; i < 64; i++) {
		ssize_t n = mnl_socket_recvfrom(l->nl, l->buf, sizeof l->buf);
		if (n <= 0)
			return;
		mnl_cb_run(l->buf, (size_t)n, 0, 0, packet_cb, sink);
	}
}

void cg_nflog_close(struct cg_nflog *l)
{
	if (!l)
		return;
	if (l->nl)
		mnl_socket_close(l->nl); /* closing unbinds the group */
	free(l);
}

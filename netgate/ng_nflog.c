/* ng_nflog.c: nflog group -> AppArmor-format lines (see ng_nflog.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "ng_nflog.h"
#include "ng_plan.h"

static const char *proto_name(uint8_t p, char *num, size_t n)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	default:
		snprintf(num, n, "%u", p);
		return num;
	}
}

int ng_nflog_decode(const char *prefix, int hook, const uint8_t *pkt, size_t len,
		    struct ng_logged *out)
{
	memset(out, 0, sizeof *out);
	out->lport = out->fport = -1;
	static const struct { const char *w; enum audit_kind k; } kinds[] = {
		{ "capgate DENIED ", AUDIT_DENIED },
		{ "capgate AUDIT ", AUDIT_AUDIT },
		{ "capgate ALLOWED ", AUDIT_ALLOWED },
	};
	size_t i;
	for (i = 0; i < 3; i++)
		if (!strncmp(prefix, kinds[i].w, strlen(kinds[i].w)))
			break;
	if (i == 3)
		return -EINVAL;
	out->kind = kinds[i].k;
	snprintf(out->profile, sizeof out->profile, "%s", prefix + strlen(kinds[i].w));
	if (out->kind == AUDIT_DENIED)
		out->error = -EACCES; /* what AppArmor reports for a denial */
	if (hook != NF_INET_LOCAL_OUT && hook != NF_INET_LOCAL_IN)
		return -EINVAL;
	const int output = hook == NF_INET_LOCAL_OUT;
	if (len < 1)
		return -EINVAL;
	uint8_t proto;
	size_t l4;
	char src[46], dst[46];
	if ((pkt[0] >> 4) == 4) {
		size_t ihl = (size_t)(pkt[0] & 15) * 4;
		if (len < 20 || ihl < 20 || len < ihl)
			return -EINVAL;
		proto = pkt[9];
		l4 = ihl;
		inet_ntop(AF_INET, pkt + 12, src, sizeof src);
		inet_ntop(AF_INET, pkt + 16, dst, sizeof dst);
		out->family = "inet";
		/* a later fragment has no transport header */
		if ((pkt[6] & 0x1f) || pkt[7])
			l4 = len + 1;
	} else if ((pkt[0] >> 4) == 6) {
		if (len < 40)
			return -EINVAL;
		proto = pkt[6];
		l4 = 40;
		inet_ntop(AF_INET6, pkt + 8, src, sizeof src);
		inet_ntop(AF_INET6, pkt + 24, dst, sizeof dst);
		out->family = "inet6";
		/* skip hop-by-hop, routing and destination options headers */
		for (int k = 0; k < 8 && (proto == 0 || proto == 43 || proto == 60); k++) {
			if (len < l4 + 8)
				return -EINVAL;
			proto = pkt[l4];
			l4 += ((size_t)pkt[l4 + 1] + 1) * 8;
		}
	} else {
		return -EINVAL;
	}
	snprintf(out->laddr, sizeof out->laddr, "%s", output ? src : dst);
	snprintf(out->faddr, sizeof out->faddr, "%s", output ? dst : src);
	out->protocol = proto_name(proto, out->protonum, sizeof out->protonum);
	out->sock_type = proto == IPPROTO_TCP ? "stream" : proto == IPPROTO_UDP ? "dgram" : "raw";
	out->operation = output ? "sendmsg" : "recvmsg";
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && len >= l4 + 4) {
		int sport = pkt[l4] << 8 | pkt[l4 + 1], dport = pkt[l4 + 2] << 8 | pkt[l4 + 3];
		out->lport = output ? sport : dport;
		out->fport = output ? dport : sport;
		if (proto == IPPROTO_TCP && len >= l4 + 14) {
			uint8_t fl = pkt[l4 + 13];
			if ((fl & 0x02) && !(fl & 0x10)) /* SYN without ACK */
				out->operation = output ? "connect" : "accept";
		}
	}
	return 0;
}

void ng_logged_event(const struct ng_logged *l, struct audit_event *ev)
{
	audit_event_init(ev);
	ev->kind = l->kind;
	ev->operation = l->operation;
	ev->klass = "net";
	ev->profile = l->profile;
	ev->family = l->family;
	ev->sock_type = l->sock_type;
	ev->protocol = l->protocol;
	ev->laddr = l->laddr[0] ? l->laddr : NULL;
	ev->faddr = l->faddr[0] ? l->faddr : NULL;
	ev->lport = l->lport;
	ev->fport = l->fport;
	ev->error = l->error;
}

/* ---- the listener ---- */

static int config(struct mnl_socket *nl, uint8_t cmd, int mode)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NG_LOG_GROUP);
	if (cmd) {
		struct nfulnl_msg_config_cmd c = { .command = cmd };
		mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof c, &c);
	}
	if (mode) {
		struct nfulnl_msg_config_mode m = { .copy_range = htonl(256),
						    .copy_mode = NFULNL_COPY_PACKET };
		mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof m, &m);
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)n, 1, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		return -errno;
	return 0;
}

struct pkt_ctx {
	struct audit_sink *sink;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);
	if (type <= NFULA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pkt_ctx *pc = data;
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (!tb[NFULA_PACKET_HDR] || !tb[NFULA_PREFIX] || !tb[NFULA_PAYLOAD])
		return MNL_CB_OK;
	if (mnl_attr_get_payload_len(tb[NFULA_PACKET_HDR]) < sizeof(struct nfulnl_msg_packet_hdr))
		return MNL_CB_OK;
	const struct nfulnl_msg_packet_hdr *ph = mnl_attr_get_payload(tb[NFULA_PACKET_HDR]);
	char prefix[NG_PREFIX_MAX + 2];
	snprintf(prefix, sizeof prefix, "%.*s", (int)mnl_attr_get_payload_len(tb[NFULA_PREFIX]),
		 (const char *)mnl_attr_get_payload(tb[NFULA_PREFIX]));
	struct ng_logged l;
	if (ng_nflog_decode(prefix, ph->hook, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			    mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), &l) < 0)
		return MNL_CB_OK;
	struct audit_event ev;
	ng_logged_event(&l, &ev);
	audit_emit(pc->sink, &ev);
	return MNL_CB_OK;
}

int ng_nflog_run(struct audit_sink *sink)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	int r = 0;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = config(nl, NFULNL_CFG_CMD_BIND, 0)) < 0 || (r = config(nl, 0, 1)) < 0)
		goto out;
	int rcv = 1 << 20;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
	struct pkt_ctx pc = { sink };
	static char buf[1 << 16];
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS) /* lines lost to a flood */
				continue;
			r = -errno;
			break;
		}
		mnl_cb_run(buf, (size_t)n, 0, 0, packet_cb, &pc);
	}
out:
	mnl_socket_close(nl);
	return r;
}

/* cg_nflog.c: netgate's packet log as audit lines (cg_nflog.h); the
 * decoding is netgate's (ng_nflog_decode), this is the launcher's
 * non-blocking listener for its poll loop. */
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
#include "netgate/ng_nflog.h"
#include "netgate/ng_plan.h"

struct cg_nflog {
	struct mnl_socket *nl;
	unsigned seq;
	struct audit_sink *sink; /* for packet_cb, during cg_nflog_read */
	cg_nflog_want want;
	void *arg;
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
	struct cg_nflog *l = data;
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb);
	if (!tb[NFULA_PREFIX] || !tb[NFULA_PAYLOAD] || !tb[NFULA_PACKET_HDR])
		return MNL_CB_OK;
	const struct nfulnl_msg_packet_hdr *ph = mnl_attr_get_payload(tb[NFULA_PACKET_HDR]);
	struct audit_event ev;
	struct ng_logged lg;
	if (ng_nflog_decode(mnl_attr_get_str(tb[NFULA_PREFIX]), ph->hook,
			    mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			    mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), &lg) == 0 &&
	    (!l->want || l->want(lg.profile, l->arg))) {
		ng_logged_event(&lg, &ev);
		audit_emit(l->sink, &ev);
	}
	return MNL_CB_OK;
}

void cg_nflog_read(struct cg_nflog *l, struct audit_sink *sink,
		   cg_nflog_want want, void *arg)
{
	l->sink = sink;
	l->want = want;
	l->arg = arg;
	for (int i = 0; i < 64; i++) {
		ssize_t n = mnl_socket_recvfrom(l->nl, l->buf, sizeof l->buf);
		if (n <= 0)
			return;
		mnl_cb_run(l->buf, (size_t)n, 0, 0, packet_cb, l);
	}
}

void cg_nflog_unbind(struct cg_nflog *l)
{
	/* no ACK wanted: a packet queued before it would stand in its way;
	 * the kernel has unbound the group when sendto() returns */
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++l->seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NG_LOG_GROUP);
	struct nfulnl_msg_config_cmd c = { NFULNL_CFG_CMD_UNBIND };
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof c, &c);
	if (mnl_socket_sendto(l->nl, nlh, nlh->nlmsg_len) < 0) {}
}

void cg_nflog_close(struct cg_nflog *l)
{
	if (!l)
		return;
	if (l->nl)
		mnl_socket_close(l->nl); /* closing unbinds the group */
	free(l);
}

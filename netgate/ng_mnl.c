/* ng_mnl.c: netlink I/O with nf_tables (libmnl + libnftnl parsers). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "ng_mnl.h"

int ng_mnl_open(struct mnl_socket **out)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;
		mnl_socket_close(nl);
		return e;
	}
	/* Answers to a large batch (errors, the final ack) must not be lost. */
	int rcv = 4 << 20;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
	/* nf_tables answers at once; a silent kernel is an error, not a hang. */
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	*out = nl;
	return 0;
}

void ng_mnl_close(struct mnl_socket *nl)
{
	if (nl)
		mnl_socket_close(nl);
}

static uint32_t next_seq(void)
{
	static uint32_t seq; /* only orders our own requests */
	if (!seq)
		seq = (uint32_t)time(NULL);
	return ++seq;
}

int ng_mnl_send(struct mnl_socket *nl, struct nftnl_batch *b)
{
	int fd = mnl_socket_get_fd(nl);
	int niov = nftnl_batch_iovec_len(b);
	struct iovec *iov = calloc((size_t)niov, sizeof *iov);
	if (!iov)
		return -ENOMEM;
	nftnl_batch_iovec(b, iov, (uint32_t)niov);
	size_t total = 0;
	for (int i = 0; i < niov; i++)
		total += iov[i].iov_len;
	/* netlink_sendmsg() refuses a message larger than the send buffer. */
	int snd = (int)(total + 65536);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd);
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct msghdr msg = {
		.msg_name = &snl,
		.msg_namelen = sizeof snl,
		.msg_iov = iov,
		.msg_iovlen = (size_t)niov,
	};
	ssize_t k = sendmsg(fd, &msg, 0);
	free(iov);
	if (k < 0)
		return -errno;
	/* nfnetlink runs the whole batch inside sendmsg(), so every answer is
	 * queued by now: read until the queue is empty. Errors are sent for
	 * failing messages whatever their flags; the last message asks for an
	 * ack so success is seen too. */
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int err = 0, acked = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, acked ? MSG_DONTWAIT : 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && acked)
				break;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;
			return err ? err : -errno;
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		size_t len = (size_t)n;
		for (; mnl_nlmsg_ok(nlh, (int)len); nlh = mnl_nlmsg_next(nlh, (int *)&len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			acked = 1;
			if (e->error && !err)
				err = e->error;
		}
		if (err)
			acked = 1;
	}
	return err;
}

/* ---- dumps ---- */

typedef int (*dump_cb)(const struct nlmsghdr *nlh, void *data);

static int talk(struct mnl_socket *nl, struct nlmsghdr *req, dump_cb cb, void *data)
{
	uint32_t portid = mnl_socket_get_portid(nl);
	uint32_t seq = req->nlmsg_seq;
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, (mnl_cb_t)cb, data);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

struct gen_ctx { uint32_t id; };
static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *g = nftnl_gen_alloc();
	if (!g)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, g) == 0)
		((struct gen_ctx *)data)->id = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return MNL_CB_OK;
}

static int get_genid(struct mnl_socket *nl, uint32_t *id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC,
						     NLM_F_ACK, next_seq());
	struct gen_ctx g = { 0 };
	int r = talk(nl, nlh, gen_cb, &g);
	*id = g.id;
	return r;
}

static int table_exists(struct mnl_socket *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NG_TABLE);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
						     NLM_F_ACK, next_seq());
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	int r = talk(nl, nlh, NULL, NULL);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == 0) { /* *_COMMENT is type 0 everywhere */
		const char **out = data;
		*out = nftnl_udata_get(attr);
	}
	return 0;
}

/* The comment in user data, copied (NUL-terminated) into buf. */
static void udata_comment(const void *ud, uint32_t len, char *buf, size_t n)
{
	const char *c = NULL;
	buf[0] = '\0';
	if (!ud || !len)
		return;
	nftnl_udata_parse(ud, len, comment_cb, &c);
	if (c) {
		size_t l = strnlen(c, n - 1);
		memcpy(buf, c, l);
		buf[l] = '\0';
	}
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ng_state *st = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	if (!c)
		return MNL_CB_ERROR;
	int ret = MNL_CB_OK;
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0)
		goto out;
	const char *tbl = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	if (!tbl || !name || strcmp(tbl, NG_TABLE) != 0 || !ng_pchain_hash(name))
		goto out;
	if (st->nc % 64 == 0) {
		struct ng_pchain *nc = realloc(st->c, (st->nc + 64) * sizeof *nc);
		if (!nc) {
			ret = MNL_CB_ERROR;
			goto out;
		}
		st->c = nc;
	}
	struct ng_pchain *pc = &st->c[st->nc++];
	snprintf(pc->name, sizeof pc->name, "%s", name);
	uint32_t len = 0;
	const void *ud = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len);
	udata_comment(ud, len, pc->comment, sizeof pc->comment);
out:
	nftnl_chain_free(c);
	return ret;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ng_state *st = data;
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) == 0) {
		const char *tbl = nftnl_set_get_str(s, NFTNL_SET_TABLE);
		const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
		int lvl;
		char tail;
		if (tbl && name && strcmp(tbl, NG_TABLE) == 0 &&
		    sscanf(name, "out%d%c", &lvl, &tail) == 1 && lvl > 0 &&
		    lvl <= NG_CGROUP_LEVEL_MAX)
			st->levels |= 1ull << lvl;
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

struct elem_ctx {
	struct ng_state *st;
	int level;
	int err;
};

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elem_ctx *ec = data;
	struct ng_state *st = ec->st;
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0)
		goto out;
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	if (!it)
		goto out;
	for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e;
	     e = nftnl_set_elems_iter_next(it)) {
		uint32_t klen = 0, ulen = 0;
		const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		const char *chain = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN);
		const void *ud = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &ulen);
		if (!key || klen != 8 || !chain)
			continue;
		if (st->nb >= NG_MAX_BINDINGS) {
			ec->err = -E2BIG;
			break;
		}
		if (st->nb % 64 == 0) {
			struct ng_bind *nb = realloc(st->b, (st->nb + 64) * sizeof *nb);
			if (!nb) {
				ec->err = -ENOMEM;
				break;
			}
			st->b = nb;
		}
		struct ng_bind *b = &st->b[st->nb++];
		memset(b, 0, sizeof *b);
		memcpy(&b->id, key, 8);
		b->level = ec->level;
		b->hash = ng_pchain_hash(chain);
		udata_comment(ud, ulen, b->path, sizeof b->path);
	}
	nftnl_set_elems_iter_destroy(it);
out:
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int read_elems(struct mnl_socket *nl, struct ng_state *st, int level)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	char name[16];
	snprintf(name, sizeof name, "out%d", level);
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NG_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
						     NLM_F_DUMP, next_seq());
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	struct elem_ctx ec = { st, level, 0 };
	int r = talk(nl, nlh, elem_cb, &ec);
	return r < 0 ? r : ec.err;
}

static int dump(struct mnl_socket *nl, int type, dump_cb cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, (uint16_t)type, NFPROTO_INET,
						     NLM_F_DUMP, next_seq());
	return talk(nl, nlh, cb, data);
}

static int read_once(struct mnl_socket *nl, struct ng_state *st)
{
	int r = get_genid(nl, &st->genid);
	if (r < 0)
		return r;
	r = table_exists(nl);
	if (r <= 0)
		return r;
	st->table = 1;
	if ((r = dump(nl, NFT_MSG_GETCHAIN, chain_cb, st)) < 0)
		return r;
	if ((r = dump(nl, NFT_MSG_GETSET, set_cb, st)) < 0)
		return r;
	for (int l = 1; l <= NG_CGROUP_LEVEL_MAX; l++)
		if ((st->levels >> l) & 1)
			if ((r = read_elems(nl, st, l)) < 0)
				return r;
	uint32_t after;
	if ((r = get_genid(nl, &after)) < 0)
		return r;
	return after == st->genid ? 0 : -EAGAIN;
}

int ng_mnl_read_state(struct mnl_socket *nl, struct ng_state *st)
{
	int r = -EAGAIN;
	/* A dump that raced with a change is retried (the batch's genid
	 * catches a change after the read). */
	for (int tries = 0; tries < 20 && r == -EAGAIN; tries++) {
		ng_state_clear(st);
		r = read_once(nl, st);
		if (r == -EINTR)
			r = -EAGAIN;
	}
	return r;
}

/* netgate.c: attach / detach / list: read the table, decide, send one batch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libnftnl/batch.h>

#include "netgate.h"
#include "ng_batch.h"
#include "ng_bindbpf.h"
#include "ng_mnl.h"

#define MAX_TRIES 16 /* other writers racing us (the batch's genid says so) */

static long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* Is the binding's cgroup still there, and the same one? */
static int alive(const char *root, const struct ng_bind *b)
{
	struct ng_cgroup cg;
	return b->path[0] && ng_cgroup_resolve(root, b->path, &cg) == 0 && cg.id == b->id;
}

/* One read-decide-send round. `add` replaces bindings of the same cgroup
 * ids; `drop_id`/`drop_path` remove a binding (by id, or by path when the
 * cgroup is gone); `drop_all` removes every one. */
struct change {
	const struct ng_bind *add;
	size_t nadd;
	struct ng_plan *const *plans;
	size_t nplans;
	uint64_t drop_id;
	const char *drop_path;
	int drop_all;
	uint8_t *was_bound; /* out, per add[]: its cgroup had a binding */
};

/* nl: the caller's socket, or NULL for one of our own. */
static int apply(const char *root, const struct change *ch, struct ng_stats *stats,
		 struct mnl_socket *caller_nl)
{
	struct mnl_socket *nl = caller_nl;
	struct ng_state st = { 0 };
	struct ng_bind *want = NULL;
	int r = nl ? 0 : ng_mnl_open(&nl);
	if (r < 0)
		return r;
	for (size_t tries = 1; tries <= MAX_TRIES; tries++) {
		long t0 = now_us();
		if ((r = ng_mnl_read_state(nl, &st)) < 0)
			break;
		long t1 = now_us();
		free(want);
		want = calloc(st.nb + ch->nadd + 1, sizeof *want);
		if (!want) {
			r = -ENOMEM;
			break;
		}
		size_t nw = 0;
		for (size_t j = 0; j < ch->nadd && ch->was_bound; j++)
			ch->was_bound[j] = 0;
		for (size_t i = 0; i < st.nb && !ch->drop_all; i++) {
			const struct ng_bind *b = &st.b[i];
			int replaced = 0;
			for (size_t j = 0; j < ch->nadd && !replaced; j++) {
				replaced = ch->add[j].id == b->id;
				if (replaced && ch->was_bound)
					ch->was_bound[j] = 1;
			}
			if (replaced || (ch->drop_id && b->id == ch->drop_id) ||
			    (ch->drop_path && strcmp(b->path, ch->drop_path) == 0) ||
			    !alive(root, b))
				continue;
			want[nw++] = *b;
		}
		for (size_t j = 0; j < ch->nadd; j++) {
			size_t k;
			for (k = 0; k < nw && want[k].id != ch->add[j].id; k++)
				;
			want[k] = ch->add[j]; /* the last one for an id wins */
			if (k == nw)
				nw++;
		}
		if (nw > NG_MAX_BINDINGS) {
			r = -E2BIG;
			break;
		}
		struct nftnl_batch *b = NULL;
		size_t nmsg = 0;
		r = ng_batch_build(&st, want, nw, ch->plans, ch->nplans, st.genid,
				   (uint32_t)time(NULL), &b, &nmsg);
		long t2 = now_us();
		if (r == 0 && nmsg)
			r = ng_mnl_send(nl, b);
		long t3 = now_us();
		if (b)
			nftnl_batch_free(b);
		if (stats) {
			stats->read_us = t1 - t0;
			stats->build_us = t2 - t1;
			stats->commit_us = t3 - t2;
			stats->messages = nmsg;
			stats->tries = tries;
		}
		if (r != -ERESTART)
			break;
	}
	free(want);
	ng_state_clear(&st);
	if (!caller_nl)
		ng_mnl_close(nl);
	return r;
}

static int attach_many(struct mnl_socket *nl, const struct ng_target *t, size_t n,
		       struct ng_stats *stats)
{
	char root[4096];
	int r = ng_cgroup_root(root, sizeof root);
	if (r < 0)
		return r;
	if (n > NG_MAX_BINDINGS)
		return -E2BIG;
	struct ng_bind *add = calloc(n + 1, sizeof *add);
	struct ng_plan **plans = calloc(n + 1, sizeof *plans);
	uint8_t *was = calloc(n + 1, 1);
	size_t np = 0;
	long t0 = now_us();
	if (!add || !plans || !was) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct ng_cgroup cg;
		if ((r = ng_cgroup_resolve(root, t[i].cgroup, &cg)) < 0)
			goto out;
		struct ng_plan *p;
		if ((r = ng_plan_profile(t[i].pr, t[i].complain, &p)) < 0)
			goto out;
		const uint64_t hash = p->hash;
		size_t k;
		for (k = 0; k < np && plans[k]->hash != hash; k++)
			;
		if (k < np)
			ng_plan_free(p); /* the same rules: one set of chains */
		else
			plans[np++] = p;
		add[i].id = cg.id;
		add[i].level = cg.level;
		add[i].hash = hash;
		memcpy(add[i].path, cg.rel, sizeof add[i].path);
	}
	long t1 = now_us();
	struct change ch = { .add = add, .nadd = n, .plans = plans, .nplans = np,
			     .was_bound = was };
	r = apply(root, &ch, stats, nl);
	if (stats)
		stats->build_us += t1 - t0;
	/* bind(2) itself: the cgroup's sock_addr programs (ng_bindbpf.h). */
	struct ng_bind_progs progs = { 0 };
	for (size_t i = 0; i < n && r == 0; i++) {
		char dir[4096 + NG_CGROUP_PATH_MAX + 1];
		snprintf(dir, sizeof dir, "%s%s", root, add[i].path);
		r = ng_bind_attach(dir, t[i].pr, t[i].complain, !was[i], &progs);
	}
	ng_bind_progs_free(&progs);
out:
	for (size_t i = 0; i < np; i++)
		ng_plan_free(plans[i]);
	free(plans);
	free(add);
	free(was);
	return r;
}

int ng_attach_many(const struct ng_target *t, size_t n, struct ng_stats *stats)
{
	return attach_many(NULL, t, n, stats);
}

int ng_attach(const char *cgroup_path, const struct profile *pr)
{
	struct ng_target t = { cgroup_path, pr, 0 };
	return attach_many(NULL, &t, 1, NULL);
}

int ng_attach_on(struct mnl_socket *nl, const char *cgroup_path, const struct profile *pr)
{
	struct ng_target t = { cgroup_path, pr, 0 };
	return attach_many(nl, &t, 1, NULL);
}

int ng_attach_complain_on(struct mnl_socket *nl, const char *cgroup_path,
			  const struct profile *pr)
{
	struct ng_target t = { cgroup_path, pr, 1 };
	return attach_many(nl, &t, 1, NULL);
}

int ng_open(struct mnl_socket **nl)
{
	return ng_mnl_open(nl);
}

void ng_close(struct mnl_socket *nl)
{
	ng_mnl_close(nl);
}

int ng_detach(const char *cgroup_path)
{
	return ng_detach_on(NULL, cgroup_path);
}

int ng_detach_on(struct mnl_socket *nl, const char *cgroup_path)
{
	char root[4096];
	int r = ng_cgroup_root(root, sizeof root);
	if (r < 0)
		return r;
	struct ng_cgroup cg;
	r = ng_cgroup_resolve(root, cgroup_path, &cg);
	if (r == -ENOENT)
		r = ng_cgroup_rel(root, cgroup_path, &cg); /* gone: match by path */
	if (r < 0)
		return r;
	struct change ch = { .drop_id = cg.id, .drop_path = cg.rel };
	r = apply(root, &ch, NULL, nl);
	char dir[4096 + NG_CGROUP_PATH_MAX + 1];
	snprintf(dir, sizeof dir, "%s%s", root, cg.rel);
	int rb = ng_bind_detach(dir);
	return r < 0 ? r : rb;
}

int ng_detach_all(void)
{
	char root[4096];
	int r = ng_cgroup_root(root, sizeof root);
	if (r < 0)
		return r;
	struct ng_state st = { 0 };
	if ((r = ng_list(&st)) < 0)
		return r;
	for (size_t i = 0; i < st.nb; i++) {
		char dir[4096 + NG_CGROUP_PATH_MAX + 1];
		snprintf(dir, sizeof dir, "%s%s", root, st.b[i].path);
		ng_bind_detach(dir); /* best effort: the table goes anyway */
	}
	ng_state_clear(&st);
	struct change ch = { .drop_all = 1 };
	return apply(root, &ch, NULL, NULL);
}

int ng_list(struct ng_state *st)
{
	struct mnl_socket *nl = NULL;
	int r = ng_mnl_open(&nl);
	if (r < 0)
		return r;
	r = ng_mnl_read_state(nl, st);
	ng_mnl_close(nl);
	return r;
}

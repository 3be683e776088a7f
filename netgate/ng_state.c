/* ng_state.c: small helpers over struct ng_state. */
#include <stdlib.h>
#include <string.h>

#include "ng_state.h"

void ng_state_clear(struct ng_state *st)
{
	free(st->b);
	free(st->c);
	memset(st, 0, sizeof *st);
}

uint64_t ng_pchain_hash(const char *name)
{
	if (name[0] != 'p')
		return 0;
	uint64_t h = 0;
	for (int i = 1; i <= 16; i++) {
		char c = name[i];
		int v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return 0;
		h = h << 4 | (uint64_t)v;
	}
	if (name[17] != 'o' && name[17] != 'i')
		return 0;
	return h;
}

const char *ng_state_profile(const struct ng_state *st, uint64_t hash)
{
	for (size_t i = 0; i < st->nc; i++)
		if (ng_pchain_hash(st->c[i].name) == hash && st->c[i].name[18] == '\0')
			return st->c[i].comment;
	return NULL;
}

/* policy_dir.c: a policy directory laid out like /etc/apparmor.d, loaded
 * through the binary cache when it matches the sources. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy_int.h"
#include "scan.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Top-level profile files of a policy directory: regular files, not the
 * include-only directories, not package leftovers or dotfiles. */
int policy_list_dir(const char *dir, char ***out, size_t *n)
{
	DIR *dh = opendir(dir);
	*out = NULL;
	*n = 0;
	if (!dh)
		return -errno;
	struct dirent *de;
	while ((de = readdir(dh))) {
		const char *nm = de->d_name;
		size_t l = strlen(nm);
		if (nm[0] == '.' || !strcmp(nm, "README") ||
		    (l > 9 && !strcmp(nm + l - 9, ".dpkg-new")) ||
		    (l > 9 && !strcmp(nm + l - 9, ".dpkg-old")) ||
		    (l > 1 && nm[l - 1] == '~'))
			continue;
		char *path;
		if (asprintf(&path, "%s/%s", dir, nm) < 0)
			break;
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		char **nv = realloc(*out, (*n + 1) * sizeof(*nv));
		if (!nv) {
			free(path);
			break;
		}
		*out = nv;
		(*out)[(*n)++] = path;
	}
	closedir(dh);
	qsort(*out, *n, sizeof(**out), cmp_str);
	return 0;
}


const uint8_t *policy_digest(const struct policy *p)
{
	return p->digest;
}

int policy_load_dir(const char *dir, const char *cache_dir, struct diags *d,
		    struct policy **out)
{
	char **files;
	size_t n;
	*out = NULL;
	int r = policy_list_dir(dir, &files, &n);
	if (r < 0) {
		struct loc l = { dir, 0, 0 };
		diag_add(d, &l, 0, "cannot read policy directory: %s", strerror(-r));
		return r;
	}
	/* The cache is keyed by a digest of every file under the directory:
	 * any edit, addition or removal rebuilds it. */
	uint8_t dg[32];
	char *cpath = NULL;
	if (cache_dir) {
		policy_dir_digest(dir, dg);
		uint64_t h = 0xcbf29ce484222325ull;
		char *real = realpath(dir, NULL);
		for (const char *c = real ? real : dir; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
		free(real);
		if (asprintf(&cpath, "%s/policy-%016llx.cache", cache_dir,
			     (unsigned long long)h) < 0)
			cpath = NULL;
		if (cpath && policy_read_cache(cpath, dg, out) == 0) {
			for (size_t i = 0; i < n; i++)
				free(files[i]);
			free(files);
			free(cpath);
			return 0;
		}
	}
	const char *inc[] = { dir, NULL };
	r = policy_compile_files((const char *const *)files, n, inc, d, out);
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	if (r == 0 && cpath) {
		memcpy((*out)->digest, dg, 32);
		mkdir(cache_dir, 0755);
		policy_write_cache(*out, cpath); /* best effort: a cache is optional */
	}
	free(cpath);
	return r;
}

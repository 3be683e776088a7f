/* capgate: the front end. Dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "exec.h"
#include "policy_cmds.h"


static void usage(FILE *f)
{
	fprintf(f,
		"usage: capgate check [-I DIR]... FILE|DIR...\n"
		"       capgate query --policy DIR --profile NAME PATH\n"
		"       capgate query --policy DIR --profile NAME --network DOMAIN [TYPE]\n"
		"       capgate show --policy DIR --profile NAME\n"
		"       capgate exec --policy DIR --profile NAME [--log FILE] [--complain] -- PROGRAM [ARGS...]\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 125;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "query"))
		return cmd_query(argc - 1, argv + 1);
	if (!strcmp(cmd, "show"))
		return cmd_show(argc - 1, argv + 1);
	if (!strcmp(cmd, "exec"))
		return cmd_exec(argc - 1, argv + 1);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "capgate: unknown command '%s'\n", cmd);
	usage(stderr);
	return 125;
}

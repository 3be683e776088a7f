/* fsg_main.h: fsgate's whole life from its command line (fsg_main.c):
 * the fsgate binary's main(), and the shared fsgate a launcher forks
 * (capgate links libfsgate). Returns the exit status. */
#ifndef FSGATE_FSG_MAIN_H
#define FSGATE_FSG_MAIN_H

struct policy;

int fsg_main(int argc, char **argv);
/* The same, for a forked copy whose parent already loaded the policy of
 * --policy and --cache (it is served as it is, and freed at the end);
 * NULL: load it. */
int fsg_main_with(int argc, char **argv, struct policy *pol);

#endif

/* fsg_main.h: fsgate's whole life from its command line (fsg_main.c):
 * the fsgate binary's main(), and the shared fsgate a launcher forks
 * (capgate links libfsgate). Returns the exit status. */
#ifndef FSGATE_FSG_MAIN_H
#define FSGATE_FSG_MAIN_H

int fsg_main(int argc, char **argv);

#endif

/* fsgate: the FUSE daemon that enforces a profile's file rules.
 * See fsgate(1), fsg.h and fsg_main.c. */
#include "fsg_main.h"

int main(int argc, char **argv)
{
	return fsg_main(argc, argv);
}

/* check.h: the unit tests' one assertion. CHECK(cond, fmt, ...) counts,
 * and on failure prints file:line and the message; main() returns
 * failures != 0. */
#ifndef CAPGATE_TEST_CHECK_H
#define CAPGATE_TEST_CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		checks++;                                                    \
		if (!(cond)) {                                               \
			failures++;                                          \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

#endif

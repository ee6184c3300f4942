/*
 * What the libFuzzer targets share: a check that survives NDEBUG (the
 * default build type is RelWithDebInfo, which compiles assert() away) and
 * makes libFuzzer save the input, and the one entry point's prototype
 * (-Wmissing-prototypes).
 */
#ifndef XLICEN_FUZZ_CHECK_H
#define XLICEN_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: property violated: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

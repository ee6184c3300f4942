/* The scratch directory of a unit test program (unit_tmp.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit_tmp.h"

int
unit_tmp_init(const char *tag, char *dir, size_t dirlen, int *made)
{
	const char *env = getenv("XLICEN_TEST_TMP");

	*made = 0;
	if (env != NULL && env[0] != '\0') {
		if ((size_t)snprintf(dir, dirlen, "%s", env) >= dirlen)
			return -1;
		return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0;
	}
	if ((size_t)snprintf(dir, dirlen, "/tmp/xlicen-%s-XXXXXX", tag) >=
	    dirlen || mkdtemp(dir) == NULL)
		return -1;
	*made = 1;
	return 0;
}

void
unit_tmp_done(const char *dir, int made)
{
	if (made)
		(void)rmdir(dir);
}

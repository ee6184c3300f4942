/*
 * Whole-file reads (fileio.h).  One open-fstat-read sequence for every
 * file the programs load whole, so that each refuses FIFOs and oversized
 * files the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "xlicen_errors.h"

int
fileio_read(const char *path, size_t max, char **buf, size_t *len,
    mode_t *mode, int *errnum)
{
	struct stat st;
	char *p = NULL;
	size_t have = 0;
	ssize_t r;
	int fd = -1, ret = XLICEN_E_IO;

	*buf = NULL;
	*len = 0;
	*mode = 0;
	*errnum = 0;
	/* O_NONBLOCK: a FIFO put where a file should be must not hang the
	 * server; it is refused by the S_ISREG check below. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		*errnum = errno;
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		*errnum = errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			*errnum = EISDIR;
		ret = FILEIO_NOT_REGULAR;
		goto out;
	}
	*mode = st.st_mode & 07777;
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		ret = FILEIO_TOO_LARGE;
		goto out;
	}
	ret = XLICEN_E_NOMEM;
	if ((p = malloc(max + 1)) == NULL)
		goto out;
	/* Read one byte past max to notice a file that grew. */
	for (;;) {
		if (max + 1 - have < 1)
			break;
		r = read(fd, p + have, max + 1 - have);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			*errnum = errno;
			ret = XLICEN_E_IO;
			goto out;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	if (have > max) {
		ret = FILEIO_TOO_LARGE;
		goto out;
	}
	p[have] = '\0';
	*buf = p;
	*len = have;
	p = NULL;
	ret = 0;
 out:
	if (p != NULL) {
		explicit_bzero(p, max + 1);
		free(p);
	}
	if (fd != -1)
		close(fd);
	return ret;
}

/*
 * Reading a whole small file into memory: the one reader of license
 * files, keys, the server's configuration and its policy file.  Bounded
 * (a file larger than the caller's maximum is refused, not cut) and never
 * blocking on a FIFO put where a file should be.
 */
#ifndef XLICEN_FILEIO_H
#define XLICEN_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* fileio_read's positive answers: the caller words the message. */
#define FILEIO_TOO_LARGE	1	/* more than max bytes */
#define FILEIO_NOT_REGULAR	2	/* a directory, FIFO, device, ... */

/*
 * Read a whole regular file of at most max bytes.  *buf is malloc'd (one
 * spare byte, NUL-terminated; the file may itself contain NUL bytes, *len
 * counts them) and owned by the caller, who must wipe it if secret.
 * *mode gets the file's permission bits.  Returns 0, XLICEN_E_IO (errno
 * kept in *errnum; ENOENT if the file does not exist), XLICEN_E_NOMEM,
 * FILEIO_TOO_LARGE or FILEIO_NOT_REGULAR (*errnum EISDIR for a
 * directory, else 0).  On any error *buf is NULL and nothing is leaked.
 */
int fileio_read(const char *path, size_t max, char **buf, size_t *len,
    mode_t *mode, int *errnum);

#endif

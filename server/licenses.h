/*
 * The server's license set: every file of the license directory, parsed
 * and verified against the vendor keys; files that fail are logged with
 * file, line and reason and create no pool.
 */
#ifndef XLICEN_LICENSES_H
#define XLICEN_LICENSES_H

#include <stddef.h>

#include "license.h"

/*
 * Load every regular file named *.lic in licdir (sorted by name), verify
 * each against <keydir>/<vendor>.pub and return the good ones in *out
 * (malloc'd array, caller frees) and their count in *n.  Each refused file
 * is logged at LOG_ERR as "license FILE:LINE: REASON".  *nbad (may be NULL)
 * gets the number refused.  Returns 0, or XLICEN_E_IO if licdir cannot be
 * read.
 */
int licenses_load_dir(const char *licdir, const char *keydir,
    struct license **out, size_t *n, size_t *nbad);

#endif

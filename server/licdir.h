/*
 * The server's license set: every file of the license directory, parsed
 * and verified against the vendor keys; files that fail are logged with
 * file, line and reason and create no pool.
 */
#ifndef XLICEN_LICDIR_H
#define XLICEN_LICDIR_H

#include <stddef.h>

#include "license.h"

/*
 * Load every regular file named *.lic in licdir (sorted by name), verify
 * each against <keydir>/<vendor>.pub and return the good ones in *out
 * (malloc'd array, caller frees; NULL when there are none) and their count
 * in *n.  Each refused file is logged at LOG_ERR as "license FILE:LINE:
 * REASON" (":LINE" omitted when the reason is not tied to a line).  A file
 * with the same vendor and serial as one loaded before it is refused as a
 * copy.  Names starting with '.' are skipped; a *.lic that is not a
 * regular file is logged at LOG_WARNING and not counted.  *nbad (may be
 * NULL) gets the number refused.  Returns 0, XLICEN_E_IO if licdir cannot
 * be read (logged), or XLICEN_E_NOMEM.
 */
int licdir_load_dir(const char *licdir, const char *keydir,
    struct license **out, size_t *n, size_t *nbad);

/* How many of lics[0..n) have ended by now (UTC s): *expired.  The
 * loader logs each of them at LOG_WARNING with its last valid day
 * ("license FILE: expired: its last valid day was YYYY-MM-DD; ..."). */
void licdir_count_expired(const struct license *lics, size_t n, int64_t now,
    size_t *expired);

/*
 * Judge the vendor-key directory, the same way at start and at every
 * reread (both call this before licdir_load_dir): a vendor's private
 * key (*.key) there that group or others can read is XLICEN_E_CONFIG,
 * with "vendor private key PATH is accessible by group or others (mode
 * 0644); fix with: chmod 600 PATH" logged at LOG_ERR and in err; private
 * keys only their owner can read are logged at LOG_WARNING (the server
 * needs only the public keys).  A keydir that cannot be read is 0: the
 * license loader reports what it cannot verify.
 */
int licdir_check_keydir(const char *keydir, char *err, size_t errlen);

#endif

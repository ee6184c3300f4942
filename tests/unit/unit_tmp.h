/*
 * The scratch directory of a unit test program (its databases, policy
 * and license files).
 */
#ifndef XLICEN_UNIT_TMP_H
#define XLICEN_UNIT_TMP_H

#include <stddef.h>

/*
 * $XLICEN_TEST_TMP (tests/unit/CMakeLists.txt sets it to a directory of
 * the build tree; made if missing), or else a new
 * /tmp/xlicen-TAG-XXXXXX, into dir (dirlen bytes); *made says which, for
 * unit_tmp_done.  0, or -1 if the directory cannot be had.
 */
int unit_tmp_init(const char *tag, char *dir, size_t dirlen, int *made);
/* Remove the directory unit_tmp_init made (if it is empty by then). */
void unit_tmp_done(const char *dir, int made);

#endif

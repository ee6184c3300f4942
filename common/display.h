/*
 * X display names and host names in the canonical form used to group
 * seats (dup grouping) and to match node locks.  Both sides use it: the
 * server on what clients report, a client to show what the server will
 * see.  Host names and displays are client claims, never identity.
 */
#ifndef XLICEN_DISPLAY_H
#define XLICEN_DISPLAY_H

#include <stddef.h>

/*
 * Canonical host name: blanks (space, tab) before it removed, blanks and
 * dots after it removed, ASCII letters lowered.  This is the form a
 * claimed host is recorded in.  Writes at most outlen - 1 bytes and a NUL;
 * a longer name is cut (the protocol bounds both to 255 bytes).  host NULL
 * is "".  Canonical names (not cut) are their own canonical form.
 * Returns 0, or XLICEN_E_BAD_VALUE if what is left (before any cut) has a
 * control character (below 0x20, or 0x7f) or a blank: no host name has
 * one.  out gets the
 * canonical form either way, so a caller that only compares may ignore
 * the result; one that takes a claim refuses it.
 */
int display_canon_host(const char *host, char *out, size_t outlen);

/*
 * The key by which two host names are the same host, for everything that
 * compares hosts: policy host: targets, host: node locks, dup grouping by
 * host, [server] verify_host.  It is the canonical name's first label (its
 * short name): kiosk1, " KIOSK1. " and kiosk1.example.org (or
 * kiosk1.other.net) all have the key "kiosk1".  An address literal (a name
 * with a ':' or whose last label is all digits) and a name that starts
 * with a dot are kept whole.  Writes as display_canon_host; returns what it
 * returns.
 */
int display_host_key(const char *host, char *out, size_t outlen);

/*
 * Whether host names a and b have the same non-empty key (display_host_key).
 * NULL or "" is no host and matches nothing, nor does a name longer than
 * LIMIT_STRING bytes.
 */
int display_host_same(const char *a, const char *b);

/*
 * Canonical display "HOST:D" of the X display name display, as reported
 * by a client on host (itself canonicalised):
 *   [PROTO/]HOST:D[.S]  ->  host:D   (protocol prefix and screen dropped)
 *   :D  unix:D  localhost:D  127.0.0.1:D  ::1:D  [::1]:D  -> HOST-OF-CLIENT:D
 *   [v6addr]:D  ->  v6addr:D        DECnet HOST::D  ->  host:D
 * D is decimal (1 to 9 digits, leading zeros dropped).  localhost:D is the
 * same display as :D: both name display D of the client's own machine
 * (an ssh-forwarded localhost:10 is display 10 of that machine); the
 * local names are compared in canonical form (LOCALHOST.:D is local).
 * A HOST that would read differently in "HOST:D" (it ends in ':' or has a
 * '/' or starts with '[') is put in brackets: "[HOST]:D".  So the result,
 * canonicalised again with the same client host, is itself (if it is not
 * over 255 bytes, which a long client host can make it).
 * Returns 0, or XLICEN_E_BAD_VALUE (out = "") if display is NULL, empty
 * or not a display name; XLICEN_E_INVALID if out is too small for the
 * result (out = "").
 */
int display_canon(const char *display, const char *host, char *out,
    size_t outlen);

#endif

/*
 * The line scanner of the server's krb5 profile-syntax files (its
 * configuration, config.c, and its policy, policy.c).  The profile library
 * gives values but no line numbers, and is lenient where a server must
 * not be; this scanner classifies each line the way the library of MIT
 * krb5 1.20 reads it, only to say where a section, key or syntax error is
 * and to find the structural problems the library lets pass.  It never
 * gives values to act on: those come from the library.
 */
#ifndef XLICEN_PROFSCAN_H
#define XLICEN_PROFSCAN_H

#include <stddef.h>

/* How much of a value or line a message quotes. */
#define PROFSCAN_SHOW_MAX	100

enum profscan_kind {
	PROFSCAN_BLANK,		/* empty or comment */
	PROFSCAN_SECTION,	/* [name] */
	PROFSCAN_RELATION,	/* key = value */
	PROFSCAN_GROUP,		/* key = {  (opens a group) */
	PROFSCAN_CLOSE,		/* } */
	PROFSCAN_DIRECTIVE,	/* include / includedir / module */
	PROFSCAN_BAD,		/* the profile library refuses it */
};

/* One classified line; the strings live until the callback returns. */
struct profscan_line {
	int lineno;
	enum profscan_kind kind;
	int level;		/* group depth before the line */
	const char *section;	/* current top-level section, "" none */
	const char *key;	/* relation or group name, else "" */
	const char *value;	/* relation's value, blanks around it
				 * skipped, else "" */
	int empty_value;	/* "key =" with nothing after it */
	const char *why;	/* PROFSCAN_BAD: what is wrong, else "" */
	const char *text;	/* the line, leading blanks skipped */
};

/* Called for each line: 0 to go on; a positive return stops the scan and
 * is passed back. */
typedef int (*profscan_fn)(const struct profscan_line *l, void *arg);

/*
 * Run fn over every line of the NUL-terminated text.  A line longer than
 * line_max bytes (0: no limit) is a PROFSCAN_BAD "line too long".  At the
 * end, an unclosed group is reported as a PROFSCAN_BAD pseudo-line at the
 * line that opened it.  Returns 0, fn's positive return, or
 * XLICEN_E_NOMEM.
 */
int profscan_text(const char *text, size_t line_max, profscan_fn fn,
    void *arg);

/* The first problem profscan_problem found. */
struct profscan_problem {
	int line;			/* 0: none found */
	char why[160];			/* what is wrong, for a message */
	char text[PROFSCAN_SHOW_MAX + 4];	/* the line, as profscan_show */
};

/*
 * Find the first problem of text into *pr: with hard_only, only a line the
 * profile library itself refuses (or an include, includedir or module
 * directive); otherwise also a relation before any [section] and a
 * "key =" with no value, which the library silently drops or misreads.
 * Returns 1 if one was found, 0 if not (pr->line 0), or XLICEN_E_NOMEM.
 */
int profscan_problem(const char *text, size_t line_max, int hard_only,
    struct profscan_problem *pr);

/*
 * After the profile library refused text: find the line it most likely
 * choked on (a hard problem, or failing that any problem).  Returns the
 * same as profscan_problem.
 */
int profscan_syntax_error(const char *text, size_t line_max,
    struct profscan_problem *pr);

/* What profscan_find looks for. */
struct profscan_query {
	const char *section;	/* in [section] */
	const char *sub;	/* NULL: at the section's top level; else
				 * anywhere inside its "sub = {" group */
	const char *key;	/* NULL: the line of "[section]" (sub NULL)
				 * or of "sub = {" */
	const char *value;	/* NULL: any value */
	int groups;		/* at the top level, "key = {" lines count
				 * as occurrences of key too */
	int nth;		/* 0: the first occurrence */
};

/*
 * The line number of what q describes in text, or 0 if it is not there
 * (e.g. it came from an included file) or memory ran out.  Only for
 * messages.
 */
int profscan_find(const char *text, size_t line_max,
    const struct profscan_query *q);

/* A value as quoted in a message: at most PROFSCAN_SHOW_MAX bytes of v
 * (cut ones end in "..."), control bytes as '?', into out of outlen. */
void profscan_show(const char *v, char *out, size_t outlen);

#endif

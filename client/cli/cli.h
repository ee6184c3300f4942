/*
 * cli.h: what the files of the `xlicen` command share.  xlicen.c holds
 * main and the verb table; options.c the usage text and the option
 * scanner every verb uses (so the global options -s, --service, -t, -h
 * and -V work before and after the verb); common.c the error, session
 * and output helpers; one file per verb group carries the verbs:
 * status.c (status, leases, holders, release, reclaim), checkout.c
 * (checkout, its child and signals), admin.c (remove, reread, shutdown),
 * report.c (report, report verify).  Calls go one way: xlicen.c -> the
 * verbs -> options.c, common.c.
 *
 * Every verb entry point takes the verb's argv (argv[0] is the verb) and
 * returns xlicen's exit status; it prints its own messages.
 */
#ifndef XLICEN_CLI_H
#define XLICEN_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xlicen.h"

#define EXIT_USAGE	1
#define EXIT_REFUSED	2
#define EXIT_NOSERVER	3
#define EXIT_AUDIT	4
#define EXIT_SERVER	5	/* the server failed: database, internal */
/* checkout: the seat was lost for good and the command was ended (as
 * timeout(1) says 124 when the time ran out). */
#define EXIT_SEAT_LOST	124

/* What `checkout` asks for when no VERSION is given. */
#define DEFAULT_VERSION	"1.0"

/* The global options, wherever on the command line they were given. */
struct cli_global {
	const char *servers;	/* -s; NULL: library default */
	const char *service;	/* --service */
	int timeout_ms;		/* --timeout; 0: library default */
};

/* ---- the option scanner and the usage text (options.c) ---- */

/* The usage text of xlicen (every verb and the global options) on f. */
void cli_usage(FILE *f);

/* Codes cli_getopt_next returns besides a verb's own option codes. */
enum {
	CLI_END = -1,		/* no more arguments */
	CLI_EXIT = -2,		/* stop and exit with p->ex (help, version,
				 * or a global option's error, already said) */
	CLI_ARG = 1,		/* an operand, in p->val */
	CLI_UNKNOWN = '?',	/* p->arg is no option of this verb */
	CLI_NOVALUE = ':',	/* p->arg, an option of this verb, lacks its
				 * value */
};
/* Long-option codes: --service, and the first one free for a verb's own
 * long-only options (a verb may also use a letter for a short option). */
#define CLI_OPT_SERVICE	0x100
#define CLI_OPT_VERB	0x200
/* A verb's own long options at most. */
#define CLI_MAX_VERB_OPTS	8

/* One scan of argv with getopt_long: a verb's options plus the global
 * ones, in the order given. */
struct cli_getopt {
	int argc;
	char **argv;
	int verb;		/* scanning a verb's arguments (else the ones
				 * before the verb: stop at the first operand) */
	char shortopts[32];
	struct option longopts[CLI_MAX_VERB_OPTS + 6];
	const char *arg;	/* the argument as typed, for messages */
	const char *val;	/* the option's value, or the operand */
	int next;		/* index of the first argument not scanned */
	int opt;		/* with CLI_NOVALUE: the option's code */
	int ex;			/* with CLI_EXIT: the exit status */
};

/*
 * Start scanning argv[1..argc).  verb: argv[0] is a verb, and every
 * argument is scanned in order (operands come back as CLI_ARG); else
 * argv[0] is the program and the scan stops at the first operand (the
 * verb) or after "--".  shortopts (getopt letters, "n:"; may be NULL)
 * and longopts (terminated by a zeroed entry, at most CLI_MAX_VERB_OPTS;
 * may be NULL) are the verb's own options; the global ones are added.
 */
void cli_getopt_init(struct cli_getopt *p, int argc, char **argv, int verb,
    const char *shortopts, const struct option *longopts);

/*
 * The next thing on the command line: a verb option's code (its value in
 * p->val), CLI_ARG, CLI_UNKNOWN, CLI_NOVALUE, CLI_EXIT or CLI_END.  The
 * global options are applied to *g here and not returned; -h and -V
 * print and give CLI_EXIT with p->ex 0, a global option's bad or missing
 * value its message and CLI_EXIT with p->ex EXIT_USAGE.  An option must be
 * spelled whole, one per argument ("--js" or "-hV" are CLI_UNKNOWN), and
 * within a verb "--" is CLI_UNKNOWN (only checkout has a "--", and it
 * cuts argv there itself).
 */
int cli_getopt_next(struct cli_getopt *p, struct cli_global *g);

/*
 * The one operand of a verb like `remove LEASE`, global options allowed
 * around it.  True with *operand set; false when the verb is to end with
 * *ex: after usage_text on a missing, extra or dash-led operand or an
 * unknown option, or after help/version/a global option's error.
 */
bool cli_one_operand(struct cli_global *g, int argc, char **argv,
    const char *usage_text, const char **operand, int *ex);

/* ---- common.c ---- */

/* "xlicen: " fmt (one %s, arg) and a hint at --help on stderr; returns
 * EXIT_USAGE. */
int cli_usage_error(const char *fmt, const char *arg);

/* The exit status for a library error code. */
int cli_exit_for(int rc);

/* One line "xlicen: WHAT: summary: details" on stderr for the library
 * error rc of session s, without saying a thing twice. */
void cli_error(const xlicen_session *s, const char *what, int rc);

/* A session configured from the global options; NULL after an error
 * message, with *ex set to the exit status.  The caller frees it with
 * xlicen_session_free. */
xlicen_session *cli_open_session(const struct cli_global *g, int *ex);

/* "YYYY-MM-DD" of a UTC time into out (the number if it cannot be
 * formatted). */
void cli_fmt_date(int64_t t, char *out, size_t outlen);

/* The last day a pool is valid, "YYYY-MM-DD", from the first second it
 * no longer is (what the server sends). */
void cli_fmt_expiry(int64_t expires, char *out, size_t outlen);

/* "YYYY-MM-DDTHH:MM:SSZ" of a UTC time into out. */
void cli_fmt_time(int64_t t, char *out, size_t outlen);

/* s to f as a JSON string, quotes included.  s is valid UTF-8 (the
 * library's decoder checks what the server sends). */
void cli_json_str(FILE *f, const char *s);
/* The same, but null for an absent value (NULL or ""): the rule of every
 * --json output. */
void cli_json_str_or_null(FILE *f, const char *s);

/* ---- the verbs ---- */

/* status.c: status [PRODUCT] [--json]. */
int cli_cmd_status(struct cli_global *g, int argc, char **argv);
/* status.c: leases [PRODUCT] [--json], one's own leases. */
int cli_cmd_leases(struct cli_global *g, int argc, char **argv);
/* status.c: holders [PRODUCT] [--json] (admin), every lease. */
int cli_cmd_holders(struct cli_global *g, int argc, char **argv);
/* status.c: release LEASE | release --mine [--all] [PRODUCT]. */
int cli_cmd_release(struct cli_global *g, int argc, char **argv);
/* status.c: reclaim LEASE. */
int cli_cmd_reclaim(struct cli_global *g, int argc, char **argv);
/* status.c: info [--json], the server's own facts. */
int cli_cmd_info(struct cli_global *g, int argc, char **argv);
/* checkout.c: checkout [options] PRODUCT [VERSION] -- COMMAND...; the
 * command's exit status once it ran. */
int cli_cmd_checkout(struct cli_global *g, int argc, char **argv);
/* admin.c: remove LEASE. */
int cli_cmd_remove(struct cli_global *g, int argc, char **argv);
/* admin.c: reread or shutdown (argv[0] says which). */
int cli_cmd_simple_admin(struct cli_global *g, int argc, char **argv);
/* report.c: report [...] | report verify [--database FILE]. */
int cli_cmd_report(struct cli_global *g, int argc, char **argv);
/* borrow.c: borrow a seat for offline use, or return one. */
int cli_cmd_borrow(struct cli_global *g, int argc, char **argv);

#endif

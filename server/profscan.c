/*
 * The profile-syntax line scanner (profscan.h), one for the server's
 * configuration and its policy file.  It classifies lines only to say
 * where things are; values come from the profile library.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profscan.h"
#include "xlicen_errors.h"

/* Work space of one scan: the current line (modified in place), the
 * current section's name and the current key, each up to one line. */
struct profscan_buf {
	char *line;
	char *section;
	char *key;
};

/* A value as quoted in a message: bounded, control bytes as '?'. */
void
profscan_show(const char *v, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; v[i] != '\0' && i + 1 < outlen && i < PROFSCAN_SHOW_MAX; i++)
		out[i] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?' : v[i];
	out[i] = '\0';
	if (v[i] != '\0' && i >= 3)
		memcpy(out + i - 3, "...", 3);
}

static char *
profscan_skip_blanks(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static void
profscan_trim_end(char *p)
{
	size_t n = strlen(p);

	while (n > 0 && isspace((unsigned char)p[n - 1]))
		p[--n] = '\0';
}

static bool
profscan_is_directive(const char *line)
{
	static const char *const words[] = { "include", "includedir", "module" };
	size_t i, n;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		n = strlen(words[i]);
		if (strncmp(line, words[i], n) == 0 &&
		    (line[n] == ' ' || line[n] == '\t'))
			return true;
	}
	return false;
}

/* Classify one line (b->line, modified in place) the way the profile
 * parser of MIT krb5 1.20 reads it. */
static void
profscan_classify(struct profscan_buf *b, struct profscan_line *l,
    int *level)
{
	char *cp, *p, *eq, *val;

	l->kind = PROFSCAN_BLANK;
	l->level = *level;
	l->key = "";
	l->value = "";
	l->empty_value = 0;
	l->why = "";
	if (profscan_is_directive(b->line)) {
		l->kind = PROFSCAN_DIRECTIVE;
		l->text = b->line;
		return;
	}
	profscan_trim_end(b->line);
	cp = profscan_skip_blanks(b->line);
	l->text = cp;
	if (*cp == '\0' || *cp == '#' || *cp == ';')
		return;
	if (*cp == '[') {
		l->kind = PROFSCAN_BAD;
		if (*level > 0) {
			l->why = "a [section] header inside a { } group";
			return;
		}
		if ((p = strchr(cp, ']')) == NULL) {
			l->why = "no closing ] in the section header";
			return;
		}
		val = p + 1;
		if (*val == '*')
			val++;
		if (*profscan_skip_blanks(val) != '\0') {
			l->why = "text after the section header";
			return;
		}
		/* The library keeps blanks inside the brackets as part of
		 * the name ("[ server ]" is section " server "): so do we,
		 * or the line of such a section is not found. */
		cp++;
		if (p == cp) {
			l->why = "an empty section name";
			return;
		}
		memcpy(b->section, cp, (size_t)(p - cp));
		b->section[p - cp] = '\0';
		l->kind = PROFSCAN_SECTION;
		return;
	}
	if (*cp == '}') {
		if (*level == 0) {
			l->kind = PROFSCAN_BAD;
			l->why = "a } without a {";
			return;
		}
		(*level)--;
		l->kind = PROFSCAN_CLOSE;
		return;
	}
	l->kind = PROFSCAN_BAD;
	if ((eq = strchr(cp, '=')) == NULL || eq == cp) {
		l->why = "expected KEY = VALUE";
		return;
	}
	/* The key is one word; the library refuses blanks inside it. */
	p = cp;
	while (p < eq && *p != ' ' && *p != '\t')
		p++;
	memcpy(b->key, cp, (size_t)(p - cp));
	b->key[p - cp] = '\0';
	l->key = b->key;
	while (p < eq && (*p == ' ' || *p == '\t'))
		p++;
	if (p != eq) {
		l->why = "a blank inside the key";
		return;
	}
	val = profscan_skip_blanks(eq + 1);
	if (*val == '\0') {
		l->empty_value = 1;
		l->kind = PROFSCAN_RELATION;
		return;
	}
	if (*val == '{') {
		if (*profscan_skip_blanks(val + 1) != '\0') {
			l->why = "text after {";
			return;
		}
		(*level)++;
		l->kind = PROFSCAN_GROUP;
		return;
	}
	l->value = val;
	l->kind = PROFSCAN_RELATION;
}

int
profscan_text(const char *text, size_t line_max, profscan_fn fn, void *arg)
{
	struct profscan_buf b;
	const char *p = text, *nl;
	struct profscan_line l;
	size_t n, cap = strlen(text);
	char *space;
	int level = 0, lineno = 0, open_line = 0, rc = 0;

	/* No line is longer than the text, nor than line_max when there is
	 * one; a section or key is part of a line. */
	if (line_max > 0 && line_max < cap)
		cap = line_max;
	if ((space = malloc(3 * (cap + 1))) == NULL)
		return XLICEN_E_NOMEM;
	b.line = space;
	b.section = space + cap + 1;
	b.key = space + 2 * (cap + 1);
	b.section[0] = '\0';
	while (*p != '\0') {
		lineno++;
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		memset(&l, 0, sizeof(l));
		l.lineno = lineno;
		if (n > cap) {
			l.kind = PROFSCAN_BAD;
			l.level = level;
			l.why = "line too long";
			l.section = b.section;
			l.key = "";
			l.value = "";
			l.text = "";
		} else {
			memcpy(b.line, p, n);
			b.line[n] = '\0';
			profscan_classify(&b, &l, &level);
			l.section = b.section;
			if (l.kind == PROFSCAN_GROUP && l.level == 0)
				open_line = lineno;
		}
		if ((rc = fn(&l, arg)) != 0)
			goto out;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (level > 0) {
		memset(&l, 0, sizeof(l));
		l.lineno = open_line;
		l.kind = PROFSCAN_BAD;
		l.section = b.section;
		l.key = "";
		l.value = "";
		l.text = "";
		l.why = "a { that is never closed";
		rc = fn(&l, arg);
	}
out:
	free(space);
	return rc;
}

/* profscan_problem's state. */
struct profscan_problem_arg {
	int hard_only;		/* only what the library itself refuses */
	struct profscan_problem *pr;
};

static int
profscan_problem_fn(const struct profscan_line *l, void *arg)
{
	struct profscan_problem_arg *a = arg;
	struct profscan_problem *pr = a->pr;

	switch (l->kind) {
	case PROFSCAN_BAD:
		snprintf(pr->why, sizeof(pr->why), "%s", l->why);
		break;
	case PROFSCAN_DIRECTIVE:
		snprintf(pr->why, sizeof(pr->why), "include, includedir and "
		    "module are not supported here");
		break;
	case PROFSCAN_RELATION:
	case PROFSCAN_GROUP:
		if (!a->hard_only && l->level == 0 && l->section[0] == '\0') {
			snprintf(pr->why, sizeof(pr->why), "\"%s\" comes "
			    "before any [section] header", l->key);
			break;
		}
		if (l->empty_value) {
			snprintf(pr->why, sizeof(pr->why), "[%s] %s: no value "
			    "after \"=\" (the value must be on the same line)",
			    l->section, l->key);
			break;
		}
		return 0;
	default:
		return 0;
	}
	pr->line = l->lineno;
	profscan_show(l->text, pr->text, sizeof(pr->text));
	return 1;
}

int
profscan_problem(const char *text, size_t line_max, int hard_only,
    struct profscan_problem *pr)
{
	struct profscan_problem_arg a;

	memset(pr, 0, sizeof(*pr));
	a.hard_only = hard_only;
	a.pr = pr;
	return profscan_text(text, line_max, profscan_problem_fn, &a);
}

int
profscan_syntax_error(const char *text, size_t line_max,
    struct profscan_problem *pr)
{
	int rc;

	if ((rc = profscan_problem(text, line_max, 1, pr)) != 0)
		return rc;
	return profscan_problem(text, line_max, 0, pr);
}

/* profscan_find's state. */
struct profscan_find_arg {
	const struct profscan_query *q;
	int nth;		/* occurrences still to skip */
	int in_sub;		/* inside the group q->sub of q->section */
	int line;
};

static int
profscan_find_fn(const struct profscan_line *l, void *arg)
{
	struct profscan_find_arg *f = arg;
	const struct profscan_query *q = f->q;
	int in_sec = strcmp(l->section, q->section) == 0;

	switch (l->kind) {
	case PROFSCAN_SECTION:
		f->in_sub = 0;
		if (q->key == NULL && q->sub == NULL && in_sec)
			break;
		return 0;
	case PROFSCAN_CLOSE:
		if (l->level == 1)
			f->in_sub = 0;
		return 0;
	case PROFSCAN_GROUP:
		if (l->level != 0 || !in_sec)
			return 0;
		if (q->sub != NULL && strcmp(l->key, q->sub) == 0) {
			f->in_sub = 1;
			if (q->key == NULL)
				break;
		}
		if (q->sub == NULL && q->key != NULL && q->groups &&
		    strcmp(l->key, q->key) == 0 && f->nth-- == 0)
			break;
		return 0;
	case PROFSCAN_RELATION:
		if (!in_sec || q->key == NULL || strcmp(l->key, q->key) != 0 ||
		    (q->value != NULL && strcmp(l->value, q->value) != 0))
			return 0;
		if (q->sub == NULL ? l->level != 0 : !f->in_sub)
			return 0;
		if (f->nth-- == 0)
			break;
		return 0;
	default:
		return 0;
	}
	f->line = l->lineno;
	return 1;
}

int
profscan_find(const char *text, size_t line_max,
    const struct profscan_query *q)
{
	struct profscan_find_arg f;

	memset(&f, 0, sizeof(f));
	f.q = q;
	f.nth = q->nth;
	if (profscan_text(text, line_max, profscan_find_fn, &f) < 0)
		return 0;
	return f.line;
}

/*
 * What the two halves of the policy module share (server/policy.h is
 * its contract): the loaded policy's structures.  policy_load.c reads the
 * options file into them; policy.c makes the decisions from them.  Not
 * for use outside server/policy*.c.
 */
#ifndef XLICEN_POLICY_INT_H
#define XLICEN_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "license.h"
#include "policy.h"

#define POLICY_NAME		256	/* principal, realm, host, group */
#define POLICY_RULE_TEXT	200

enum target_kind { T_PRINCIPAL, T_REALM, T_GROUP, T_HOST };
enum rule_kind { R_INCLUDE, R_EXCLUDE, R_RESERVE, R_MAX };


struct target {
	enum target_kind kind;
	char name[POLICY_NAME];	/* principal, "@REALM", group or host */
	size_t group;		/* T_GROUP: index into policy.groups */
};

struct rule {
	enum rule_kind kind;
	uint32_t n;		/* RESERVE / MAX count */
	struct target t;
	char text[POLICY_RULE_TEXT];	/* "max = 1 group:cad (FILE:12)" */
};

struct product {
	char name[LICENSE_NAME_MAX + 1];
	struct rule *rules;
	size_t nrules;
	struct policy_settings set;
	/* "borrow = TARGET": who may borrow (kept apart from rules, so
	 * that they do not replace [default]'s checkout rules). */
	struct target *borrowers;
	size_t nborrowers;
};

struct group {
	char name[POLICY_NAME];
	char (*members)[POLICY_NAME];
	size_t n;
};

struct policy {
	char path[4096];
	struct group *groups;
	size_t ngroups;
	char (*admins)[POLICY_NAME];
	size_t nadmins;
	size_t *admin_groups;
	size_t nadmin_groups;
	struct product def;	/* [default] */
	struct product *prods;
	size_t nprods;
	int public_holders;	/* [admin] public_holders: HOLDERS for all */
};

#endif

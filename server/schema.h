/*
 * The schema migrations embedded from schema/NNNN_name.sql (SQLite) and
 * schema/postgresql/NNNN_name.sql at build time (schema/embed.cmake).  Terminated by an entry with version 0.
 */
#ifndef XLICEN_SCHEMA_H
#define XLICEN_SCHEMA_H

struct schema_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct schema_migration schema_migrations[];
/* The same versions in PostgreSQL's dialect (schema/postgresql/). */
extern const struct schema_migration schema_pg_migrations[];

#endif

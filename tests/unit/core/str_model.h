/*
 * str_model.h - the reference model of the randomized list and listpack
 * tests: an array of owned byte strings, inserted and deleted by
 * position. Header-only (each test executable is one translation unit).
 */
#ifndef AP_TESTS_STR_MODEL_H
#define AP_TESTS_STR_MODEL_H

#include <stdlib.h>
#include <string.h>

struct str_model {
	char **s;
	size_t *len;
	size_t n;
};

/* Inserts a copy of s[0..len) before position at (at == n appends). */
static inline void str_model_insert(struct str_model *m, size_t at,
				    const char *s, size_t len)
{
	m->s = realloc(m->s, (m->n + 1) * sizeof(*m->s));
	m->len = realloc(m->len, (m->n + 1) * sizeof(*m->len));
	memmove(m->s + at + 1, m->s + at, (m->n - at) * sizeof(*m->s));
	memmove(m->len + at + 1, m->len + at, (m->n - at) * sizeof(*m->len));
	m->s[at] = malloc(len + 1);
	memcpy(m->s[at], s, len);
	m->len[at] = len;
	m->n++;
}

/* Deletes count strings from position at. */
static inline void str_model_delete(struct str_model *m, size_t at,
				    size_t count)
{
	for (size_t i = at; i < at + count; i++)
		free(m->s[i]);
	memmove(m->s + at, m->s + at + count,
		(m->n - at - count) * sizeof(*m->s));
	memmove(m->len + at, m->len + at + count,
		(m->n - at - count) * sizeof(*m->len));
	m->n -= count;
}

#endif

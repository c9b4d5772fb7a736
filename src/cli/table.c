/**
 * @file table.c  Aligned tables for relaisctl's human output: columns as
 *                wide as their widest cell, the last one left ragged
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"

enum {
	COLS_MAX = 10,
	CELL_MAX = 512,
};

struct table {
	unsigned ncols;
	size_t nrows;
	size_t size;
	char **cells; /* nrows * ncols, row 0 is the heading */
	size_t width[COLS_MAX];
};


/* width on screen of UTF-8 text: its code points, not its bytes */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			++w;
	}

	return w;
}


static int row_add(struct table *t, va_list ap)
{
	if (t->nrows == t->size) {
		const size_t size = t->size ? t->size * 2 : 16;
		char **nc = realloc(t->cells, size * t->ncols * sizeof(*nc));

		if (!nc)
			return ENOMEM;
		t->cells = nc;
		t->size = size;
	}

	for (unsigned c = 0; c < t->ncols; c++) {
		const char *v = va_arg(ap, const char *);
		char *cell = strndup(v ? v : "", CELL_MAX);
		size_t w;

		if (!cell) {
			while (c--)
				free(t->cells[t->nrows * t->ncols + c]);
			return ENOMEM;
		}

		/* a control character would break the layout (and the
		   terminal): names and user agents come from others */
		for (char *p = cell; *p; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		}

		t->cells[t->nrows * t->ncols + c] = cell;
		w = text_width(cell);
		if (w > t->width[c])
			t->width[c] = w;
	}

	++t->nrows;
	return 0;
}


/**
 * Start a table with its heading
 *
 * @param tp    Returned table
 * @param ncols Number of columns (at most 10)
 * @param ...   ncols heading strings
 *
 * @return 0 if success, otherwise errorcode
 */
int table_alloc(struct table **tp, unsigned ncols, ...)
{
	struct table *t;
	va_list ap;
	int err;

	if (!tp || !ncols || ncols > COLS_MAX)
		return EINVAL;

	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->ncols = ncols;

	va_start(ap, ncols);
	err = row_add(t, ap);
	va_end(ap);

	if (err)
		table_free(t);
	else
		*tp = t;

	return err;
}


/**
 * Add a row
 *
 * @param t   Table
 * @param ... As many strings as the table has columns (NULL is empty)
 *
 * @return 0 if success, otherwise errorcode
 */
int table_row(struct table *t, ...)
{
	va_list ap;
	int err;

	if (!t)
		return EINVAL;

	va_start(ap, t);
	err = row_add(t, ap);
	va_end(ap);

	return err;
}


/**
 * Print the table on standard output
 *
 * @param t Table
 */
void table_print(const struct table *t)
{
	if (!t)
		return;

	for (size_t r = 0; r < t->nrows; r++) {
		for (unsigned c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			const bool last = c + 1 == t->ncols;

			fputs(cell, stdout);
			if (last)
				break;
			for (size_t w = text_width(cell); w < t->width[c] + 2;
			     w++)
				putchar(' ');
		}
		putchar('\n');
	}
}


/**
 * Free a table
 *
 * @param t Table (may be NULL)
 */
void table_free(struct table *t)
{
	if (!t)
		return;

	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

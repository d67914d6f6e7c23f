/*
 * csv.h - CSV in and out of a ledger (docs/formats.md §9, "CSV").
 *
 * Three parts:
 * - a strict RFC 4180 parser (vl_csv_parse) for files as Excel and WPS save
 *   them: UTF-8 with or without a byte-order mark, CRLF or LF line ends,
 *   quoted fields with embedded commas, doubled quotes and line breaks
 *   (a CRLF inside a quoted cell is read as LF: records hold no CR).
 *   Anything else (a quote inside an unquoted field, text after a closing
 *   quote, an unterminated quote, a NUL byte, invalid UTF-8, a lone CR) is
 *   refused with its line and column. Caps (store/limits.h VL_CSV_*) on
 *   bytes, rows, columns and cell size are checked as the text is read.
 * - vl_csv_records: the rows of a parsed file as record data of a ledger,
 *   every row checked with the rules of add/import, every bad row listed
 *   (row, column header as written, rule, cell position; never the value).
 *   vl_import (agent/ops/record.h) calls it for a CSV file and commits the
 *   result through its one batch/commit path.
 * - vl_csv_render: records as an Excel-ready CSV (BOM, CRLF, Chinese
 *   headers, enum values as Chinese labels, formula-looking cells
 *   neutralised), the text `vledger export LEDGER --format csv` writes.
 *
 * Cell syntax (both ways): empty cell = field absent; enum by value or
 * label (export writes the Chinese label); set/list of scalars as items
 * separated by "、" (also "," or "，"; export writes "、"), or a YAML flow
 * sequence "[a, b]"; map / list of maps as YAML flow text (export writes
 * JSON); bool as 是/否 (also true/false). A cell starting with = + - @ TAB
 * CR or ' is written with a leading ' (so a spreadsheet shows it as text
 * and never runs it as a formula); import removes one leading ' when the
 * next character is one of those, so an export imports back unchanged.
 *
 * Not thread safe per object; distinct objects may be used concurrently.
 */
#ifndef VL_OPS_CSV_H
#define VL_OPS_CSV_H

#include <stddef.h>

#include "agent/ops/record.h"
#include "schemas/schema.h"
#include "store/buf.h"
#include "store/value.h"

/* One cell: text (NUL-terminated, unescaped) at off in vl_csv.text. */
typedef struct {
	size_t off, len;
	int line, col;   /* where the cell starts in the file, 1-based (col in bytes) */
} vl_csv_cell;

/* One row: cells[first .. first + n) of vl_csv.cells. */
typedef struct {
	size_t first, n;
	int line;        /* line the row starts on */
} vl_csv_row;

/* A parsed file. Invariants: every cell's text is valid UTF-8 without NUL;
 * nrows <= VL_CSV_MAX_ROWS + 1; every row has 1..VL_CSV_MAX_COLUMNS cells. */
typedef struct {
	char *text;
	vl_csv_cell *cells;
	size_t ncells;
	vl_csv_row *rows;
	size_t nrows;
	int had_bom;
} vl_csv;

/* Caps for one parse; vl_csv_import_limits is the import's. */
typedef struct {
	size_t max_bytes, max_rows, max_columns, max_cell;
} vl_csv_limits;
extern const vl_csv_limits vl_csv_import_limits;

/*
 * Parse buf[0..len) (the whole file). src names it in messages.
 * Errors: VL_EINVALID (not strict CSV: the message gives line and column,
 * never cell text), VL_ETOOBIG (a cap), VL_ENOMEM.
 * out: caller frees with vl_csv_free; NULL on failure.
 */
int vl_csv_parse(vl_csv **out, const char *buf, size_t len, const vl_csv_limits *lim,
		const char *src) VL_MUST_CHECK;
void vl_csv_free(vl_csv *c);
/* Text of cell i of row r (borrowed from c). */
const char *vl_csv_text(const vl_csv *c, const vl_csv_row *r, size_t i);

/* 1 when an import file is to be read as CSV: its name ends in ".csv" (any
 * case), or it starts with a UTF-8 byte-order mark; 0: YAML. */
int vl_csv_is_csv(const char *path, const char *buf, size_t len);

/*
 * The data rows of csv file buf (header row first) as record data of
 * ledger s: out is a LIST of data MAPs, normalised and with the schema's
 * defaults, each valid by vl_schema_validate; rows with no text in any cell
 * are skipped. Headers: a field's name, Chinese label or English label
 * (ASCII case-insensitive), each field once; a column with an empty header
 * is ignored when all its cells are empty. A first row naming no field is
 * refused without echoing it (a file without its header row).
 * Errors: VL_EINVALID: bad rows, each problem appended to bad (when not
 * NULL) as one line
 *   "row R, column C '<header>' (cell B7, line L): RULE\n"
 * (R the spreadsheet row, the header being row 1; no cell value), the
 * message counting them; or an unknown or repeated header, or the parser's
 * errors. VL_ETOOBIG, VL_ENOMEM.
 * out: caller frees with vl_value_free; NULL on failure.
 */
int vl_csv_records(vl_value **out, vl_buf *bad, const vl_schema *s, const char *buf, size_t len,
		const char *src) VL_MUST_CHECK;

/*
 * Append records' data as CSV to out: UTF-8 BOM, CRLF, a header row of the
 * fields' Chinese labels (name when a field has none), one row per record
 * (each record's data as given: mask it first to hide personal fields),
 * cells quoted when they hold , " CR or LF, and formula-looking cells
 * neutralised (above). data[i] are MAPs; fields they lack are empty cells.
 */
int vl_csv_render(vl_buf *out, const vl_schema *s, const vl_value *const *data, size_t n) VL_MUST_CHECK;

#endif

"""Order files in, validated rows into the base: CSV/TSV, Excel, Parquet and the CDNOW text log.

Reading (`read`: bytes -> a staged table of text cells with the row numbers the user sees), checking
(`validate`: every row -> canonical fields, or problems naming file, row, column and a stable code) and
loading (`load`: one transaction) are separate steps, so a page can show the report before anything is
written and a rejected import leaves the base exactly as it was. Platform header maps and order-status
classes are data (`platforms.toml`).

Public API (what ui/importer.py, views/data.py, __main__.py and the tests use):

- `read_file(source, file_name=None, fmt=None, sheet=None, header_row=None) -> RawTable`: never raises on
  bad content; `raw.problems` holds whole-file problems. `raw.columns`, `raw.n_rows`, `raw.head(20)` for
  the preview (`raw.frame` reads every row: small files only), `raw.fmt`, `raw.encoding`, `raw.delimiter`,
  `raw.sheets` / `raw.sheet` (Excel), `raw.header_row` (title rows above it are skipped), `raw.file_hash`.
  A RawTable is picklable (its cells wait in a scratch DuckDB file); `raw.discard()` removes that file.
- `auto_mapping(columns, platform=None) -> {field: column}`; `detect_platform(columns)`; `FIELDS`, `REQUIRED`.
- `validate(raw, mapping=None, today=None, options=None) -> Validated`: `.report` (a `ValidationReport`:
  `.problems`, `.facts`, `.values`, `.notes`, `.render(lang)`, `.to_frame(lang)`), `.rows_valid`,
  `.rows` (all loadable rows as a DataFrame: small files only), and what the mapping step shows and lets
  the user change through `ImportOptions`: `.platform`, `.mapping`, `.date_order` (None = ambiguous: ask),
  `.decimal`, `.currency`, `.statuses` (value, class, rows, amount), `.duplicates` (row, first_row, order_id).
- `ImportOptions(date_order, decimal, currency, status_classes, refunds, duplicates, guests, platform,
  sheet, header_row)`: the user's choices, defaults documented on the class.
- `import_files(store, sources, mapping=None, fmt=None, skip_invalid=False, replace=False, progress=None,
  today=None, options=None) -> ImportResult`, raising `ImportRejected` (`.report`) with the base unchanged;
  `load_checked(store, checked, skip_invalid=False, replace=False, progress=None)`: the same for files already
  checked by `validate` (the page loads the check it showed: nothing is read or checked twice).
- `load_cdnow(store, which="sample")`, `imports_log(store)`; `MAX_UPLOAD_MB`, `FORMATS`.
"""
from crm_logic.ingest.load import CDNOW_FILES, ImportResult, import_files, imports_log, load_checked, load_cdnow
from crm_logic.ingest.platforms import FIELDS, STATUS_CLASSES, auto_mapping, default_status_classes, detect_platform
from crm_logic.ingest.read import FORMATS, RawTable, read_file
from crm_logic.ingest.report import FACTS, MAX_LISTED, ImportRejected, Problem, ValidationReport
from crm_logic.ingest.validate import FILE_LEVEL, REQUIRED, TEXT_FIELDS, ImportOptions, Validated, validate

MAX_UPLOAD_MB = 200

__all__ = ["CDNOW_FILES", "FACTS", "FIELDS", "FILE_LEVEL", "FORMATS", "MAX_LISTED", "MAX_UPLOAD_MB", "REQUIRED",
           "STATUS_CLASSES", "TEXT_FIELDS", "ImportOptions", "ImportRejected", "ImportResult", "Problem", "RawTable",
           "Validated", "ValidationReport", "auto_mapping", "default_status_classes", "detect_platform",
           "import_files", "imports_log", "load_cdnow", "load_checked", "read_file", "validate"]

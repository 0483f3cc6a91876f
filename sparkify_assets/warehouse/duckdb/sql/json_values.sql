-- Typed values of JSON fields, as Redshift's COPY converts them into numeric columns: SPEC.md, "a value is
-- stored as the source wrote it or not at all". COPY does not round or coerce: a value that does not fit
-- its column is a load error for the whole line, which COPY skips and logs (AWS, "Load error reference",
-- https://docs.aws.amazon.com/redshift/latest/dg/r_Load_Error_Reference.html: 1207 "Data contained a
-- value outside of the expected range of 0-9" for 5.7 or true in an INTEGER column, 1222 "Integer value
-- overflow", 1208 "FLOAT data type format error"; and "COPY from JSON format",
-- https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-json.html). So the record is
-- rejected, on both engines. DuckDB's own conversion would round 5.7 to 6, read true as 1 and "NaN" as
-- NaN; these macros give NULL instead, and the staging rules (parse_*.sql) reject a record whose present
-- field gives NULL.
--
-- An integer column takes a JSON integer, or a string holding one, within the column's range (a fraction,
-- a boolean or an out-of-range number is rejected). A DOUBLE column takes a JSON number, or a string
-- holding one in JSON's number syntax, if it is finite ("NaN", "Infinity", "1e999" are rejected).
--
-- The macros read a field's JSON text as json_transform wrote it (type JSON: DuckDB writes each value back
-- in canonical form, a string with its quotes and minimal escapes), so a number is told from a string
-- by its text, without parsing the value again: a regular expression over a short text costs a fraction
-- of a json_type() call, and these macros run for every field of every record.
CREATE OR REPLACE TEMP MACRO json_present(v) AS v IS NOT NULL AND CAST(v AS VARCHAR) <> 'null';

-- A JSON integer, or a string holding one: its digits (the quotes of a string taken off), else NULL. The text
-- of a JSON number is canonical (no sign but '-', no spaces, no leading zeros), and that of a number with a
-- fraction or an exponent holds '.' or 'e' (5.0 is written '5.0', 1e2 '100.0'), so an unquoted text without
-- either is an integer when it casts (true, an object or an array does not): no regular expression for
-- the usual case, a number. A string's content must be digits alone (DuckDB's own cast would also take
-- ' 5', '+5', '5.7', '1_000' or '0x10').
CREATE OR REPLACE TEMP MACRO json_integer_text(v) AS
CASE
    WHEN NOT starts_with(CAST(v AS VARCHAR), '"') THEN
        CASE WHEN NOT contains(CAST(v AS VARCHAR), '.') AND NOT contains(CAST(v AS VARCHAR), 'e')
            AND NOT contains(CAST(v AS VARCHAR), 'E') THEN CAST(v AS VARCHAR) END
    WHEN regexp_full_match(CAST(v AS VARCHAR), '"-?[0-9]{1,19}"') THEN trim(CAST(v AS VARCHAR), '"')
END;

CREATE OR REPLACE TEMP MACRO json_int32(v) AS TRY_CAST(json_integer_text(v) AS INTEGER);

CREATE OR REPLACE TEMP MACRO json_int64(v) AS TRY_CAST(json_integer_text(v) AS BIGINT);

CREATE OR REPLACE TEMP MACRO json_finite(x) AS CASE WHEN isfinite(x) THEN x END;

-- A JSON number (its canonical text casts; true, an object or an array does not), or a string holding one
-- in JSON's number syntax, if finite.
CREATE OR REPLACE TEMP MACRO json_double(v) AS
json_finite(TRY_CAST(
    CASE
        WHEN NOT starts_with(CAST(v AS VARCHAR), '"') THEN CAST(v AS VARCHAR)
        WHEN regexp_full_match(
            CAST(v AS VARCHAR), '"(-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?)"'
        ) THEN trim(CAST(v AS VARCHAR), '"')
    END AS DOUBLE
));

-- The reason a present field is rejected when its typed value is NULL, else NULL.
CREATE OR REPLACE TEMP MACRO json_wrong_type(field, v, typed, kind) AS
CASE WHEN json_present(v) AND typed IS NULL THEN field || ' must be ' || kind || ', got ' || CAST(v AS VARCHAR) END;

-- The reason a text value is rejected when it is longer than its column, else NULL. Widths count UTF-8 bytes,
-- as Redshift does ("Character types": a VARCHAR(n) holds n bytes, and a longer value is an error,
-- https://docs.aws.amazon.com/redshift/latest/dg/r_Character_types.html); strlen counts bytes. DuckDB would
-- store any length: the rule makes both engines reject the same records, with the same reason
-- (redshift/sql/stage_events.sql, stage_songs.sql).
CREATE OR REPLACE TEMP MACRO text_too_long(field, value, column_name, width) AS
CASE
    WHEN strlen(value) > width
        THEN field || ' is ' || CAST(strlen(value) AS VARCHAR) || ' bytes long, longer than ' || column_name
            || ' VARCHAR(' || CAST(width AS VARCHAR) || ')'
END;

-- The temp tables of one COPY source, dropped before the next source of the same transaction.
DROP TABLE :copy_table;

DROP TABLE load_errors;

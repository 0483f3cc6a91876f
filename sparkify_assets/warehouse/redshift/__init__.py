"""The production warehouse engine: Amazon Redshift, loaded by COPY from S3 (docs/redshift.md)."""

//! S3 backend (in progress).

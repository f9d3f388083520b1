//! The S3 storage client: [`ObjectStore`] over one bucket, with S3's conditional writes
//! (`If-None-Match: *`, `If-Match: <etag>`; both supported by AWS since 2024 and by moto),
//! conditional deletes (`If-Match: <etag>`; AWS since 2025-09, and moto) and optional
//! server-side encryption. The S3 backend (`state::s3`) keeps its state, journal
//! segments, lock object and queue tickets through it.

use super::backend::StateError;
use super::store::{ObjectStore, Precondition, Stored};
use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;

/// One bucket.
#[derive(Clone, Debug)]
pub struct S3Objects {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// `encrypt = true`: every object is written with SSE AES256.
    encrypt: bool,
}

impl S3Objects {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, encrypt: bool) -> S3Objects {
        S3Objects {
            client,
            bucket: bucket.into(),
            encrypt,
        }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The error for a failed request on `key`.
    pub fn failure(&self, what: &str, key: &str, error: impl std::error::Error) -> StateError {
        StateError::Other(format!(
            "s3://{}/{key}: {what} failed: {}",
            self.bucket,
            aws_sdk_s3::error::DisplayErrorContext(error)
        ))
    }
}

/// The HTTP status of a failed request, if a response arrived.
pub(crate) fn http_status<E>(
    error: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<u16> {
    error
        .raw_response()
        .map(|response| response.status().as_u16())
}

#[async_trait]
impl ObjectStore for S3Objects {
    fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    async fn get(&self, key: &str) -> Result<Option<Stored>, StateError> {
        let request = self.client.get_object().bucket(&self.bucket).key(key);
        match request.send().await {
            Ok(output) => {
                let etag = output.e_tag().unwrap_or_default().to_string();
                let bytes = output
                    .body
                    .collect()
                    .await
                    .map_err(|e| self.failure("reading", key, e))?
                    .into_bytes()
                    .to_vec();
                Ok(Some(Stored { bytes, etag }))
            }
            Err(error) if http_status(&error) == Some(404) => Ok(None),
            Err(error) => Err(self.failure("GetObject", key, error)),
        }
    }

    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        condition: Precondition,
    ) -> Result<Option<String>, StateError> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(bytes.to_vec()));
        request = match condition {
            Precondition::None => request,
            Precondition::IfAbsent => request.if_none_match("*"),
            Precondition::IfMatch(etag) => request.if_match(etag),
        };
        if self.encrypt {
            request =
                request.server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256);
        }
        match request.send().await {
            Ok(output) => Ok(Some(output.e_tag().unwrap_or_default().to_string())),
            // 412: the condition failed; 409: a concurrent conditional write won; 404: the
            // object an If-Match named is gone.
            Err(error) if matches!(http_status(&error), Some(412) | Some(409) | Some(404)) => {
                Ok(None)
            }
            Err(error) => Err(self.failure("PutObject", key, error)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StateError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.failure("DeleteObject", key, e))?;
        Ok(())
    }

    /// `DeleteObject` with `If-Match` (AWS since 2025-09, and moto): 412 when the object is
    /// another version, 404 when it is gone. A store that answers anything else to the header
    /// (an S3-compatible server without conditional deletes) is asked no further: `None`.
    async fn delete_if_match(&self, key: &str, etag: &str) -> Result<Option<bool>, StateError> {
        let request = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .if_match(etag);
        match request.send().await {
            Ok(_) => Ok(Some(true)),
            Err(error) if matches!(http_status(&error), Some(412) | Some(404)) => Ok(Some(false)),
            Err(_) => Ok(None),
        }
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StateError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StateError::Other(format!("DeleteObjects: {e}")))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| StateError::Other(format!("DeleteObjects: {e}")))?;
            let first = chunk.first().map(String::as_str).unwrap_or_default();
            self.client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| self.failure("DeleteObjects", first, e))?;
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.failure("ListObjectsV2", prefix, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key().map(str::to_string)),
            );
        }
        keys.sort();
        Ok(keys)
    }
}

//! JSON answers, written straight into one buffer.
//!
//! axum's `Json` starts from 128 bytes and writes through `BufMut`, growing and copying as a
//! page of bookings is written (its `put_slice` and `memmove` were 2% and 5% of a read in the
//! profile); a `Vec` with room for a page takes each piece with one copy.

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::error::ApiError;
use crate::app::AppError;

/// Room for a page of the API's lists without growing.
const PAGE_BYTES: usize = 4096;

/// An answer serialised as JSON (`application/json`).
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(PAGE_BYTES);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(err) => ApiError::from(AppError::internal(err)).into_response(),
        }
    }
}

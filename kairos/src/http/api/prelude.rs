//! What every JSON handler module uses: axum's extractors and answers, the OpenAPI router and
//! the documented error responses, our extractors and error.

pub use axum::{
    extract::{OriginalUri, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
pub use serde::{Deserialize, Serialize};
pub use utoipa::{IntoParams, ToSchema};
pub use utoipa_axum::{router::OpenApiRouter, routes};

pub use super::{
    PageQuery,
    docs::{
        AuthErrors, BodyErrors, InputErrors, NotFound, RateLimited, ReadErrors, Unavailable,
        WriteErrors,
    },
    paged,
};
pub use crate::{
    app::{Caller, PageRequest},
    domain::id::PathId,
    http::{
        HttpState,
        error::ApiError,
        extract::{Admin, AppJson, AppPath, AppQuery, Bearer},
        json::Json,
    },
};

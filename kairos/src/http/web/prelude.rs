//! What every page module uses: askama, axum's routing and answers, who is looking, forms and
//! the error page.

pub use askama::Template;
pub use askama_web::WebTemplate;
pub use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
pub use serde::Deserialize;
pub use uuid::Uuid;

pub use super::{
    OrPage, WebError,
    cookies::{MaybeViewer, Nav, Viewer, WebForm},
    forms::{EmptyForm, FormErrors, ReasonForm},
    see,
};
pub use crate::{
    app::PageRequest,
    domain::id::PathId,
    http::{HttpState, error::ApiError, extract::AppPath},
};

//! Who is calling: passwords, tokens, the extractors that check them, and the login procedures
//! the API and the web pages share.

pub mod accounts;
pub mod client_ip;
pub mod extract;
pub mod login;
pub mod password;
pub mod throttle;
pub mod tokens;

pub use client_ip::ClientIp;
pub use extract::{Admin, AuthUser};

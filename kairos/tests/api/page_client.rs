//! Pages as a browser sees them, without a browser: cookies kept, forms posted with the last
//! page's CSRF token.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode, header};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Login, PASSWORD, TestApp};

/// A browser without a browser: keeps cookies, remembers the last page's CSRF token.
pub struct Browser<'a> {
    app: &'a TestApp,
    pub cookies: BTreeMap<String, String>,
    pub csrf: String,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request.header(header::COOKIE, cookie).send().await.unwrap();
        for set in response.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        if let Some(start) = body.find("name=\"csrf\" value=\"") {
            let rest = &body[start + 19..];
            self.csrf = rest[..rest.find('"').unwrap()].to_owned();
        }
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.app.request(Method::GET, path);
        self.send(request).await
    }

    /// Posts a form with the CSRF token of the last page.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        let csrf = self.csrf.clone();
        form.push(("csrf", &csrf));
        let request = self.app.request(Method::POST, path).form(&form);
        self.send(request).await
    }

    pub async fn log_in(&mut self, email: &str, password: &str) -> Page {
        self.get("/login").await;
        self.post(
            "/login",
            &[("email", email), ("password", password), ("next", "")],
        )
        .await
    }
}

pub async fn signed_in_as<'a>(app: &'a TestApp, login: &Login) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let password = if login.email == ADMIN_EMAIL {
        ADMIN_PASSWORD
    } else {
        PASSWORD
    };
    let page = browser.log_in(&login.email, password).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    browser
}

//! Where the data lives: which backend a `DATABASE_URL` (or its absence) names.

use std::path::Path;

use anyhow::bail;

/// Which database a URL names. An unknown scheme is an error, never a silent fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Location {
    pub fn from_settings(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        match database_url {
            None => Ok(Location::Sqlite(data_dir.join("kairos.db"))),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Location::Postgres(url.to_owned()))
            }
            Some(url) if url.starts_with("sqlite://") => Ok(Location::Sqlite(
                url.trim_start_matches("sqlite://")
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .into(),
            )),
            Some(url) => {
                let scheme = url.split_once(':').map_or(url, |(s, _)| s);
                bail!(
                    "DATABASE_URL has the scheme `{scheme}`; Kairos speaks `postgres://` and `sqlite://`"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_choose_a_backend_or_fail() {
        let dir = Path::new("/var/lib/kairos");
        assert_eq!(
            Location::from_settings(None, dir).expect("default"),
            Location::Sqlite(dir.join("kairos.db"))
        );
        assert!(matches!(
            Location::from_settings(Some("postgres://u@h/db"), dir),
            Ok(Location::Postgres(_))
        ));
        assert_eq!(
            Location::from_settings(Some("sqlite:///tmp/k.db?mode=rwc"), dir).expect("sqlite"),
            Location::Sqlite("/tmp/k.db".into())
        );
        assert!(Location::from_settings(Some("mysql://u@h/db"), dir).is_err());
        assert!(Location::from_settings(Some("kairos.db"), dir).is_err());
    }
}

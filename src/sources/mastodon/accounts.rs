//! The names a Mastodon account goes by, for `own_accounts`.

use crate::domain::Mention;

/// An account's own instance shows it without its domain (`acme_support`) and others with it
/// (`acme_support@mastodon.social`): a short handle is completed with the host of the author's
/// profile, which is on their own instance, and with the source's `home` (the account domain,
/// which may differ from the web host that profile links use).
pub fn aliases(mention: &Mention, handle: &str, home: Option<&str>) -> Vec<String> {
    let mut names = Vec::new();
    if handle.contains('@') {
        return names;
    }
    let host = mention
        .author
        .profile
        .as_deref()
        .and_then(|profile| url::Url::parse(profile).ok())
        .and_then(|url| url.host_str().map(str::to_lowercase));
    if let Some(host) = host {
        names.push(format!("{handle}@{host}"));
    }
    if let Some(home) = home {
        names.push(format!("{handle}@{home}"));
    }
    names
}

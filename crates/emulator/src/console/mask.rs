//! What of a request may be shown: secrets masked, long values shortened. Everything the
//! ring keeps passes through here first.

use baidu_imageprocess_protocol::optable::{self, ParamKind};
use baidu_imageprocess_protocol::{InputKind, parse_pairs};

/// Shown in place of a secret.
pub(crate) const MASK: &str = "<masked>";
/// Longest value kept for a parameter.
const MAX_VALUE: usize = 120;

/// Query and form fields whose values are secrets.
const SECRET_FIELDS: &[&str] = &[
    "access_token",
    "client_secret",
    "refresh_token",
    "session_secret",
    "session_key",
];

/// Whether a body field holds an image or a document (an input other than a URL, or a
/// parameter of kind image, by the table): never shown, previewed as thumbnails.
fn is_image_field(name: &str) -> bool {
    optable::table().any(|row| {
        row.inputs
            .iter()
            .any(|input| *input != InputKind::Url && input.field() == name)
            || row
                .param(name)
                .is_some_and(|p| matches!(p.kind, ParamKind::Image(_)))
    })
}

/// `text` cut to `max` bytes on a character boundary, saying how long it was.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

/// A URL without its query and fragment (signed URLs carry signatures there) or its
/// user information.
fn url_without_secrets(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let (base, rest) = url.split_at(cut);
    let base = match base.split_once("://") {
        Some((scheme, after)) => {
            let (authority, path) = after.split_at(after.find('/').unwrap_or(after.len()));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let userinfo = if host.len() == authority.len() {
                ""
            } else {
                "<masked>@"
            };
            format!("{scheme}://{userinfo}{host}{path}")
        }
        None => base.to_owned(),
    };
    let tail = if rest.is_empty() { "" } else { "?<masked>" };
    shorten(&format!("{base}{tail}"), MAX_VALUE * 2)
}

/// One field's value as shown: masked if secret, URLs scrubbed, shortened otherwise.
fn shown_value(name: &str, value: &str) -> String {
    if SECRET_FIELDS.contains(&name) {
        MASK.to_owned()
    } else if name == "url" {
        url_without_secrets(value)
    } else if name == "client_id" {
        // The API key is not a secret on its own, but there is no need to show it whole.
        format!("{}{MASK}", value.chars().take(4).collect::<String>())
    } else {
        shorten(value, MAX_VALUE)
    }
}

/// The query string with secret values masked, e.g. `access_token=<masked>`.
pub(crate) fn query(raw: &str) -> String {
    let shown: Vec<String> = parse_pairs(raw.as_bytes())
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(&value);
            format!("{}={}", shorten(&name, 64), shown_value(&name, &value))
        })
        .collect();
    shorten(&shown.join("&"), 1024)
}

/// How a request authenticated, without the secret part.
pub(crate) fn authorization(header: Option<&str>, query: &str) -> String {
    if let Some(value) = header {
        if let Some(rest) = value.strip_prefix("bce-auth-v1/") {
            // bce-auth-v1/{ak}/{timestamp}/{expire}/{signed headers}/{signature}
            let access_key = rest.split('/').next().unwrap_or("");
            return format!(
                "bce-auth-v1/{}/…/{MASK}",
                shown_value("client_id", access_key)
            );
        }
        return format!("Authorization: {MASK}");
    }
    if parse_pairs(query.as_bytes()).any(|(name, _)| name == "access_token") {
        "access_token".to_owned()
    } else {
        "none".to_owned()
    }
}

/// The parameters of a form body, images left out, values masked and shortened.
pub(crate) fn form_params(body: &[u8]) -> Vec<(String, String)> {
    parse_pairs(body)
        .filter(|(name, _)| !is_image_field(name))
        .take(16)
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(&value);
            let shown = shown_value(&name, &value);
            (shorten(&name, 64), shown)
        })
        .collect()
}

/// The parameters of a JSON body (inpainting), images left out.
pub(crate) fn json_params(
    body: &serde_json::Map<String, serde_json::Value>,
) -> Vec<(String, String)> {
    body.iter()
        .filter(|(name, _)| !is_image_field(name))
        .take(16)
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (shorten(name, 64), shown_value(name, &text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_survive() {
        let token = "24.0123456789abcdef0123456789abcdef.2592000.emulator";
        let shown = query(&format!("access_token={token}&x=1"));
        assert_eq!(shown, "access_token=<masked>&x=1");
        let shown = query("grant_type=client_credentials&client_id=abcdefgh&client_secret=s3cr3t");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("abcdefgh"),
            "{shown}"
        );
        let auth = authorization(
            Some("bce-auth-v1/myaccesskey/2026-01-01T00:00:00Z/1800/host/deadbeefcafe"),
            "",
        );
        assert!(
            !auth.contains("deadbeefcafe") && !auth.contains("myaccesskey"),
            "{auth}"
        );
        assert_eq!(
            authorization(None, &format!("access_token={token}")),
            "access_token"
        );
    }

    #[test]
    fn images_are_left_out_and_urls_scrubbed() {
        let params = form_params(
            b"image=QUJD&option=cartoon&url=http%3A%2F%2Fu%3Apw%40h.test%2Fa.jpg%3Fsig%3Dabc",
        );
        assert_eq!(params[0], ("option".to_owned(), "cartoon".to_owned()));
        assert_eq!(params[1].0, "url");
        assert_eq!(params[1].1, "http://<masked>@h.test/a.jpg?<masked>");
        assert_eq!(params.len(), 2);
        let long = "é".repeat(200);
        let cut = shorten(&long, 9);
        assert!(cut.starts_with("éééé…"), "{cut}");
    }
}

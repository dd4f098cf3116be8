//! One reading of HTTP statuses for every network and chat.

use reqwest::StatusCode;

/// What a status means for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Success,
    /// The server is busy, down or rate limiting: the same request may work later.
    RetryLater,
    /// Retrying cannot help (gone, forbidden, malformed, a redirect to somewhere unexpected):
    /// a person must look.
    NeedsPerson,
    /// The credentials were refused: renew the token once, then it needs a person.
    TokenExpired,
}

/// 2xx succeed; 401 is an expired or revoked token; 408, 425, 429 and 5xx are worth another
/// try; every other status (3xx included: the client follows redirects, so one that reaches us
/// is a misconfigured URL) needs a person.
pub fn classify(status: StatusCode) -> Class {
    match status.as_u16() {
        200..=299 => Class::Success,
        401 => Class::TokenExpired,
        408 | 425 | 429 | 500..=599 => Class::RetryLater,
        _ => Class::NeedsPerson,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_into_one_class_each() {
        let table = [
            (200, Class::Success),
            (204, Class::Success),
            (301, Class::NeedsPerson),
            (400, Class::NeedsPerson),
            (401, Class::TokenExpired),
            (403, Class::NeedsPerson),
            (404, Class::NeedsPerson),
            (408, Class::RetryLater),
            (409, Class::NeedsPerson),
            (422, Class::NeedsPerson),
            (429, Class::RetryLater),
            (500, Class::RetryLater),
            (502, Class::RetryLater),
            (503, Class::RetryLater),
            (504, Class::RetryLater),
        ];
        for (code, class) in table {
            assert_eq!(
                classify(StatusCode::from_u16(code).unwrap()),
                class,
                "{code}"
            );
        }
    }
}

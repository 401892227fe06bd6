//! Helpers shared by the end-to-end tests.

use std::time::Duration;

/// `now + ahead` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), for `Retry-After`.
pub(crate) fn http_date_in(ahead: Duration) -> String {
    let t = crumbtrail_core::protocol::timestamp::now() + ahead;
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        &t.weekday().to_string()[..3],
        t.day(),
        &t.month().to_string()[..3],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

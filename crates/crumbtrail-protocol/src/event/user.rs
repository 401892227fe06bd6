//! The user interface (PROTOCOL.md §4.8).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Approximate location of a user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Geo {
    /// The city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Two-letter country code (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// The region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// The user affected by an event. PII: send only what the user set, or with consent (§12.3).
///
/// `id` is read leniently: a number becomes its decimal string.
///
/// ```
/// use crumbtrail_protocol::User;
/// let u = User { id: Some("42".into()), email: Some("ann@shop".into()), ..User::default() };
/// assert_eq!(serde_json::to_string(&u).unwrap(), r#"{"id":"42","email":"ann@shop"}"#);
/// let u: User = serde_json::from_str(r#"{"id":42}"#).unwrap();
/// assert_eq!(u.id.as_deref(), Some("42"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct User {
    /// The application's id for the user.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// The email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A literal IP address, or `{{auto}}` to let the server use the connection's (needs PII
    /// consent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The user name (login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The human name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Approximate location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
    /// Other user data.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn full_user_round_trips() {
        let json = json!({
            "id": "u1", "email": "a@b.c", "ip_address": "{{auto}}", "username": "ann",
            "name": "Ann", "geo": {"city": "Oslo", "country_code": "NO", "region": "Oslo"},
            "data": {"plan": "pro"}
        });
        let u: User = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(u.geo.as_ref().unwrap().country_code.as_deref(), Some("NO"));
        assert_eq!(u.data["plan"], "pro");
        assert_eq!(serde_json::to_value(&u).unwrap(), json);
    }

    #[test]
    fn unknown_user_keys_are_ignored() {
        let u: User = serde_json::from_str(r#"{"segment":"paid","id":null}"#).unwrap();
        assert_eq!(u, User::default());
        assert_eq!(serde_json::to_string(&u).unwrap(), "{}");
    }
}

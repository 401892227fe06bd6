//! The `sdk` interface (PROTOCOL.md §4.2).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A package the SDK is made of: `{name, version}`, name conventionally `<registry>:<package>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSdkPackage {
    /// E.g. `cargo:crumbtrail`.
    pub name: String,
    /// The package version.
    pub version: String,
}

/// Which SDK sent the data.
///
/// ```
/// use crumbtrail_protocol::ClientSdkInfo;
/// let sdk = ClientSdkInfo::crumbtrail().with_integration("panic");
/// assert_eq!(sdk.name, "crumbtrail");
/// assert_eq!(sdk.packages[0].name, "cargo:crumbtrail");
/// assert_eq!(sdk.integrations, ["panic"]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientSdkInfo {
    /// The SDK name.
    pub name: String,
    /// The SDK version.
    pub version: String,
    /// Names of the enabled integrations.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::string_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub integrations: Vec<String>,
    /// The packages the SDK is made of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<ClientSdkPackage>,
    /// SDK settings the server honours, e.g. `{"infer_ip":"never"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Value>,
}

impl ClientSdkInfo {
    /// An SDK with just a name and version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        ClientSdkInfo {
            name: name.into(),
            version: version.into(),
            integrations: Vec::new(),
            packages: Vec::new(),
            settings: None,
        }
    }

    /// crumbtrail itself: [`crate::SDK_NAME`] at [`crate::SDK_VERSION`], with the package
    /// `cargo:crumbtrail`.
    pub fn crumbtrail() -> Self {
        let mut sdk = ClientSdkInfo::new(crate::SDK_NAME, crate::SDK_VERSION);
        sdk.packages.push(ClientSdkPackage {
            name: format!("cargo:{}", crate::SDK_NAME),
            version: crate::SDK_VERSION.to_owned(),
        });
        sdk
    }

    /// Adds an integration name (builder style).
    pub fn with_integration(mut self, name: impl Into<String>) -> Self {
        self.integrations.push(name.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::testutil::assert_golden;

    #[test]
    fn golden_sdk_interface() {
        let sdk: ClientSdkInfo = assert_golden(
            r#"{"name":"crumbtrail","version":"0.1.0",
 "integrations":["panic","tracing","reqwest"],
 "packages":[{"name":"cargo:crumbtrail","version":"0.1.0"}]}"#,
        );
        assert_eq!(sdk.integrations, ["panic", "tracing", "reqwest"]);
        assert_eq!(sdk.packages[0].version, "0.1.0");
        assert_eq!(sdk.settings, None);
    }

    #[test]
    fn crumbtrail_reports_its_own_name_and_version() {
        let sdk = ClientSdkInfo::crumbtrail();
        assert_eq!(sdk.name, crate::SDK_NAME);
        assert_eq!(sdk.version, crate::SDK_VERSION);
        let json = serde_json::to_value(&sdk).unwrap();
        assert_eq!(json["packages"][0]["version"], crate::SDK_VERSION);
        assert!(json.get("integrations").is_none());
    }

    #[test]
    fn settings_round_trip() {
        let json = r#"{"name":"x","version":"1","settings":{"infer_ip":"never"}}"#;
        let sdk: ClientSdkInfo = serde_json::from_str(json).unwrap();
        assert_eq!(sdk.settings.as_ref().unwrap()["infer_ip"], "never");
        assert_eq!(serde_json::to_string(&sdk).unwrap(), json);
        assert!(serde_json::from_str::<ClientSdkInfo>(r#"{"name":"x"}"#).is_err());
    }
}

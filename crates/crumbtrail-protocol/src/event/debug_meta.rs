//! Debug information for server-side symbolication: the `debug_meta` attribute (PROTOCOL.md §4.1).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::Addr;

/// One loaded binary image. Keys crumbtrail does not know are kept in `other`.
///
/// ```
/// use crumbtrail_protocol::{Addr, DebugImage};
/// let img = DebugImage { image_addr: Some(Addr(0x5555_0000)), ..DebugImage::new("elf") };
/// assert_eq!(
///     serde_json::to_string(&img).unwrap(),
///     r#"{"type":"elf","image_addr":"0x55550000"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DebugImage {
    /// The image kind: `elf`, `macho`, `pe`, `wasm`, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// Path of the binary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_file: Option<String>,
    /// Identifier of the binary (e.g. the ELF build id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_id: Option<String>,
    /// Path of the debug file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_file: Option<String>,
    /// Identifier of the debug file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_id: Option<String>,
    /// The load address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_addr: Option<Addr>,
    /// The size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<u64>,
    /// The preferred load address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_vmaddr: Option<Addr>,
    /// The CPU architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Keys crumbtrail does not know (don't put known keys here: they would be written twice).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl DebugImage {
    /// An image of the given type with every other key unset.
    pub fn new(ty: impl Into<String>) -> Self {
        DebugImage {
            ty: Some(ty.into()),
            ..DebugImage::default()
        }
    }
}

/// The `debug_meta` attribute: the images loaded in the process.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DebugMeta {
    /// The loaded images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<DebugImage>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn images_keep_unknown_keys() {
        let json = json!({"images": [{
            "type": "elf", "code_file": "/usr/bin/shop", "code_id": "abcd",
            "debug_file": "/usr/lib/debug/shop.debug",
            "debug_id": "5d1b2e8c-4a0f-4f6e-9b7c-3a2d1e0f9a8b", "image_addr": "0x555500000000",
            "image_size": 4096, "image_vmaddr": "0x0", "arch": "x86_64", "uuid": "kept"
        }]});
        let dm: DebugMeta = serde_json::from_value(json.clone()).unwrap();
        let img = &dm.images[0];
        assert_eq!(img.image_addr, Some(Addr(0x5555_0000_0000)));
        assert_eq!(img.image_size, Some(4096));
        assert_eq!(img.other["uuid"], "kept");
        assert_eq!(serde_json::to_value(&dm).unwrap(), json);
    }

    #[test]
    fn numeric_addresses_are_rewritten_as_hex() {
        let img: DebugImage = serde_json::from_str(r#"{"type":"pe","image_addr":65536}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&img).unwrap(),
            r#"{"type":"pe","image_addr":"0x10000"}"#
        );
    }
}

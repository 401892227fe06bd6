//! Stack traces and frames (PROTOCOL.md §4.4), and the hex [`Addr`] they use.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// A memory address, written as a `"0x…"` hex string.
///
/// Reading accepts a `0x`/`0X` hex string, a decimal string, or a non-negative JSON number.
///
/// ```
/// use crumbtrail_protocol::Addr;
/// let a: Addr = serde_json::from_str("\"0x7FF6A000\"").unwrap();
/// assert_eq!(a, Addr(0x7ff6_a000));
/// assert_eq!(serde_json::to_string(&Addr(4096)).unwrap(), "\"0x1000\"");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Addr(pub u64);

/// Why a string is not a valid address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address {0:?}: expected a \"0x\"-prefixed hex number or a decimal number")]
pub struct InvalidAddr(pub String);

impl FromStr for Addr {
    type Err = InvalidAddr;

    fn from_str(s: &str) -> Result<Self, InvalidAddr> {
        let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => s.parse(),
        };
        parsed.map(Addr).map_err(|_| InvalidAddr(s.to_owned()))
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Addr({self})")
    }
}

impl From<u64> for Addr {
    fn from(v: u64) -> Self {
        Addr(v)
    }
}

impl From<Addr> for u64 {
    fn from(a: Addr) -> Self {
        a.0
    }
}

impl Serialize for Addr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Addr;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an address: a \"0x…\" hex string or a non-negative number")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Addr, E> {
                Ok(Addr(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Addr, E> {
                u64::try_from(v)
                    .map(Addr)
                    .map_err(|_| E::custom(format!("address {v} is negative")))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Addr, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// One stack frame. Every key is optional; set at least `function` or `instruction_addr`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Frame {
    /// The demangled function name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The original (mangled) function name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_function: Option<String>,
    /// The module path (Rust: `crate::module`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The binary or library containing the frame (native).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// A relative path, used for display and grouping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The absolute path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abs_path: Option<String>,
    /// The 1-based line number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineno: Option<u64>,
    /// The 1-based column number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colno: Option<u64>,
    /// Whether this is the user's own code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_app: Option<bool>,
    /// The instruction address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_addr: Option<Addr>,
    /// The address of the function's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol_addr: Option<Addr>,
    /// The load address of the image containing the frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_addr: Option<Addr>,
    /// `abs` (the default) or `rel:<image index>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr_mode: Option<String>,
    /// Source lines before `lineno`.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::string_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub pre_context: Vec<String>,
    /// The source line at `lineno`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_line: Option<String>,
    /// Source lines after `lineno`.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::string_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub post_context: Vec<String>,
    /// Local variables (scrubbed, §12).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub vars: Map<String, Value>,
    /// A per-frame platform override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

impl Frame {
    /// A frame for a named function.
    pub fn from_function(function: impl Into<String>) -> Self {
        Frame {
            function: Some(function.into()),
            ..Frame::default()
        }
    }
}

/// A stack trace: frames ordered **outermost caller first, crashing frame last**.
///
/// ```
/// use crumbtrail_protocol::{Frame, Stacktrace};
/// let st = Stacktrace::from_frames(vec![Frame::from_function("main"), Frame::from_function("run")]);
/// let json = serde_json::to_string(&st).unwrap();
/// assert_eq!(json, r#"{"frames":[{"function":"main"},{"function":"run"}]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Stacktrace {
    /// The frames, outermost first.
    #[serde(default)]
    pub frames: Vec<Frame>,
    /// Register values at the crashing frame, by register name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub registers: BTreeMap<String, Addr>,
    /// Whether this is a snapshot of a thread that did not crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<bool>,
}

impl Stacktrace {
    /// A stack trace with just frames.
    pub fn from_frames(frames: Vec<Frame>) -> Self {
        Stacktrace {
            frames,
            ..Stacktrace::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn addr_reads_hex_decimal_and_numbers() {
        assert_eq!("0x1f".parse::<Addr>().unwrap(), Addr(31));
        assert_eq!("0X1F".parse::<Addr>().unwrap(), Addr(31));
        assert_eq!("31".parse::<Addr>().unwrap(), Addr(31));
        assert_eq!(serde_json::from_str::<Addr>("31").unwrap(), Addr(31));
        assert_eq!(
            serde_json::from_str::<Addr>("\"0xffffffffffffffff\"").unwrap(),
            Addr(u64::MAX)
        );
        let err = "0xzz".parse::<Addr>().unwrap_err();
        assert!(err.to_string().contains("\"0xzz\""), "{err}");
        assert!(serde_json::from_str::<Addr>("-1").is_err());
        assert!(serde_json::from_str::<Addr>("1.5").is_err());
        assert!(serde_json::from_str::<Addr>("\"0x10000000000000000\"").is_err());
    }

    #[test]
    fn addr_writes_lowercase_hex() {
        assert_eq!(Addr(0xDEAD_BEEF).to_string(), "0xdeadbeef");
        assert_eq!(Addr(0).to_string(), "0x0");
        assert_eq!(format!("{:?}", Addr(16)), "Addr(0x10)");
    }

    #[test]
    fn full_frame_round_trips() {
        let json = json!({
            "function": "shop::cart::add", "raw_function": "_ZN4shop4cart3add17h0E",
            "module": "shop::cart", "package": "/usr/bin/shop", "filename": "src/cart.rs",
            "abs_path": "/src/shop/src/cart.rs", "lineno": 42, "colno": 9, "in_app": true,
            "instruction_addr": "0x7ff6a0001234", "symbol_addr": "0x7ff6a0001200",
            "image_addr": "0x7ff6a0000000", "addr_mode": "rel:0",
            "pre_context": ["fn add() {"], "context_line": "    panic!()",
            "post_context": ["}"], "vars": {"n": 3}, "platform": "native"
        });
        let frame: Frame = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(frame.lineno, Some(42));
        assert_eq!(frame.image_addr, Some(Addr(0x7ff6_a000_0000)));
        assert_eq!(serde_json::to_value(&frame).unwrap(), json);
    }

    #[test]
    fn stacktrace_keeps_registers_and_snapshot() {
        let json = json!({"frames": [{"function": "main"}],
                          "registers": {"rip": "0x1000", "rsp": "0x7ffe0000"},
                          "snapshot": true});
        let st: Stacktrace = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(st.registers["rip"], Addr(0x1000));
        assert_eq!(st.snapshot, Some(true));
        assert_eq!(serde_json::to_value(&st).unwrap(), json);
        // Numeric addresses are rewritten as hex.
        let st: Stacktrace = serde_json::from_str(r#"{"registers":{"pc":4096}}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&st).unwrap(),
            r#"{"frames":[],"registers":{"pc":"0x1000"}}"#
        );
    }
}

//! Macros for types written on the wire as a name: an `as_str()` method and a `FromStr` impl
//! give `Display`, `Serialize` and `Deserialize` through [`serde_via_str!`]; [`open_wire_enum!`]
//! defines a whole enum of names that keeps names it does not know.

/// Implements `Display`, `Serialize` and `Deserialize` for a type that has
/// `fn as_str(&self) -> &str` and a `FromStr` impl whose error is `Display`.
macro_rules! serde_via_str {
    ($ty:ty) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

/// Defines an enum of wire names plus an `Unknown(String)` variant that keeps any other name,
/// so a reader loses nothing. Generates `KNOWN`, `as_str`, `is_known`, an infallible `FromStr`,
/// and (through [`serde_via_str!`]) `Display`, `Serialize` and `Deserialize`.
macro_rules! open_wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$doc:meta])* $variant:ident => $wire:literal,)*
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $($(#[$doc])* $variant,)*
            /// A name crumbtrail does not know, kept as it was.
            Unknown(String),
        }

        impl $name {
            /// Every name crumbtrail knows.
            pub const KNOWN: &'static [$name] = &[$($name::$variant,)*];

            /// The wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Unknown(s) => s,
                }
            }

            /// Whether this is a name crumbtrail knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            /// Never fails: names crumbtrail does not know become `Unknown`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $($wire => $name::$variant,)*
                    other => $name::Unknown(other.to_owned()),
                })
            }
        }

        serde_via_str!($name);
    };
}

//! Per-session levels. Anything outside the allowed values is an error that lists them.

use crate::error::Error;
use serde::{Deserialize, Serialize};

macro_rules! level_enum {
    ($name:ident, $field:literal, [$($variant:ident => $text:literal),+ $(,)?]) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            #[default]
            $($variant),+
        }

        impl $name {
            pub const ALLOWED: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a level (case-insensitive, trimmed).
            pub fn parse(s: &str) -> Result<Self, Error> {
                let t = s.trim().to_ascii_lowercase();
                match t.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::invalid(format!(
                        "invalid {} '{}': expected one of {}",
                        $field, s, Self::ALLOWED.join(", ")
                    ))),
                }
            }
        }
    };
}

level_enum!(ThinkingLevel, "thinkingLevel", [Off => "off", Minimal => "minimal", Low => "low", Medium => "medium", High => "high"]);
level_enum!(VerboseLevel, "verboseLevel", [Off => "off", On => "on", Full => "full"]);
level_enum!(ReasoningLevel, "reasoningLevel", [Off => "off", On => "on", Stream => "stream"]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_case_insensitively_and_reject_others_listing_allowed() {
        assert_eq!(ThinkingLevel::parse(" High ").unwrap(), ThinkingLevel::High);
        assert_eq!(
            ReasoningLevel::parse("stream").unwrap(),
            ReasoningLevel::Stream
        );
        let err = VerboseLevel::parse("loud").unwrap_err();
        assert!(err.message.contains("off, on, full"), "{}", err.message);
    }
}

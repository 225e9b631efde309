//! What a price tier sells, shared by `events` (which defines tiers) and
//! `booking` (which sells them from its copy of the inventory).

use serde::{Deserialize, Serialize};

/// Seated or general admission; on the wire and in storage `seated` /
/// `general_admission`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierKind {
    /// Reserved seats from the venue's seat map.
    Seated,
    /// A capacity, no seats.
    GeneralAdmission,
}

impl TierKind {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TierKind::Seated => "seated",
            TierKind::GeneralAdmission => "general_admission",
        }
    }

    /// Parses a wire name.
    ///
    /// Errors: the message for the field (`must be seated or general_admission`).
    pub fn parse(s: &str) -> Result<TierKind, String> {
        match s {
            "seated" => Ok(TierKind::Seated),
            "general_admission" => Ok(TierKind::GeneralAdmission),
            _ => Err("must be seated or general_admission".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TierKind;

    #[test]
    fn the_wire_name_and_serde_agree() {
        for k in [TierKind::Seated, TierKind::GeneralAdmission] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
            assert_eq!(TierKind::parse(k.as_str()), Ok(k));
        }
        assert!(TierKind::parse("standing").is_err());
    }
}

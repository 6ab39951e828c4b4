//! The closed set of roles a token can carry.

use std::str::FromStr;

/// A caller's role. Nothing in the gateway compares role strings; they are parsed here once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// An external customer: sees its own records and the public surface.
    Client,
    /// An internal customer: sees the internal view of the company.
    Employee,
    /// An employee who also sees individual-level sensitive data.
    Manager,
}

impl Role {
    /// Every role, in order of increasing clearance.
    pub const ALL: [Role; 3] = [Role::Client, Role::Employee, Role::Manager];

    /// The claim value naming this role.
    pub fn as_claim(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Employee => "employee",
            Role::Manager => "manager",
        }
    }
}

/// The claim value is not a known role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_claim() == s)
            .ok_or(UnknownRole)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_claim())
    }
}

//! GraphQL enums, mirrored from the stored enums so each side can change its spelling alone.

use entity::enums as stored;

macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident = $src:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl From<stored::$src> for $name {
            fn from(v: stored::$src) -> Self {
                match v { $(stored::$src::$variant => Self::$variant),+ }
            }
        }

        impl From<$name> for stored::$src {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => stored::$src::$variant),+ }
            }
        }
    };
}

mirror_enum! {
    /// Whether a customer is part of the company or outside it.
    CustomerKind = CustomerKind {
        /// Employees, owners, shareholders, partners.
        Internal,
        /// Individuals, businesses, government and volunteer organisations, press.
        External,
    }
}

mirror_enum! {
    /// The segment a customer belongs to.
    Segment = Segment {
        /// An employee.
        Employee,
        /// An employee who manages others.
        Manager,
        /// An owner of the company.
        Owner,
        /// A shareholder or investor.
        Shareholder,
        /// A partner delivering the product to end users.
        Partner,
        /// A private person.
        Individual,
        /// A company.
        Business,
        /// A government organisation.
        Government,
        /// A volunteer or non-profit organisation.
        VolunteerOrganization,
        /// A reporter or other outside contact.
        Press,
    }
}

mirror_enum! {
    /// Lifecycle state of a customer relationship.
    CustomerStatus = CustomerStatus {
        /// Not yet a customer.
        Prospect,
        /// A current customer.
        Active,
        /// Dormant.
        Inactive,
        /// Lost.
        Churned,
    }
}

mirror_enum! {
    /// How an interaction reached the company.
    Channel = Channel {
        /// A phone call.
        Phone,
        /// An e-mail.
        Email,
        /// A chat conversation.
        Chat,
        /// Face to face.
        InPerson,
        /// The self-service portal.
        Portal,
        /// Social media.
        Social,
    }
}

mirror_enum! {
    /// What an interaction is about.
    InteractionKind = InteractionKind {
        /// A request for a service.
        Request,
        /// Something is broken.
        Incident,
        /// The customer is unhappy.
        Complaint,
        /// A sale.
        Purchase,
        /// Unsolicited feedback.
        Feedback,
        /// A question.
        Inquiry,
    }
}

mirror_enum! {
    /// Where an interaction stands.
    InteractionStatus = InteractionStatus {
        /// Received, nobody on it yet.
        Open,
        /// Being worked on.
        InProgress,
        /// Done; may still be rated.
        Resolved,
        /// Archived.
        Closed,
    }
}

mirror_enum! {
    /// Who a knowledge article is written for.
    Audience = Audience {
        /// Anyone.
        Public,
        /// Employees only.
        Internal,
    }
}

/// How likely a customer is to leave, from its health score.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChurnRisk {
    /// Health 70 and above.
    Low,
    /// Health 40 to 69.
    Medium,
    /// Health below 40.
    High,
}

impl ChurnRisk {
    /// The risk band of a 0–100 health score.
    pub fn from_health(score: i32) -> Self {
        match score {
            70.. => ChurnRisk::Low,
            40..=69 => ChurnRisk::Medium,
            _ => ChurnRisk::High,
        }
    }
}

/// A caller's role, as the token states it.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An external customer.
    Client,
    /// An internal customer.
    Employee,
    /// An employee with individual-level clearance.
    Manager,
}

impl From<crate::auth::Role> for Role {
    fn from(role: crate::auth::Role) -> Self {
        match role {
            crate::auth::Role::Client => Role::Client,
            crate::auth::Role::Employee => Role::Employee,
            crate::auth::Role::Manager => Role::Manager,
        }
    }
}

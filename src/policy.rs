//! What each caller may see — the only place role rules live.
//!
//! Two kinds of rule:
//! - **Field tiers** ([`Tier`]): which fields and types exist for the caller. The `visible`
//!   functions below are attached to fields with `#[graphql(visible = ...)]`; the same functions
//!   drive introspection and the guard that refuses hidden fields (see `graphql::guard`),
//!   so hiding and blocking cannot drift apart.
//! - **Row scopes**: which rows the service layer may return, applied in SQL.

use async_graphql::Context;

use entity::enums::CustomerKind;
use serde::{Deserialize, Serialize};

use crate::{
    Error, Result,
    auth::{Caller, Role, Viewer},
    config::Introspection,
};

/// How much of the company's internals a caller may see; ordered by clearance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// What the company publishes: anonymous callers and external clients.
    Public,
    /// The internal view: employees.
    Internal,
    /// Individual-level sensitive data: managers.
    Manager,
}

impl Tier {
    /// Every tier, lowest first.
    pub const ALL: [Tier; 3] = [Tier::Public, Tier::Internal, Tier::Manager];
}

/// The field tier of a caller.
pub fn tier(caller: &Caller) -> Tier {
    match caller.role() {
        None | Some(Role::Client) => Tier::Public,
        Some(Role::Employee) => Tier::Internal,
        Some(Role::Manager) => Tier::Manager,
    }
}

/// Whether callers of `tier` may introspect the schema under the configured setting; for the
/// others `__schema` and `__type` do not exist.
pub fn may_introspect(tier: Tier, setting: Introspection) -> bool {
    match setting {
        Introspection::All => true,
        Introspection::Employees => tier >= Tier::Internal,
        Introspection::None => false,
    }
}

/// Whether a token's role fits the kind of customer its subject names: clients are external
/// customers, employees and managers internal ones. A token for anyone else names nobody.
pub fn role_fits(role: Role, kind: CustomerKind) -> bool {
    match role {
        Role::Client => kind == CustomerKind::External,
        Role::Employee | Role::Manager => kind == CustomerKind::Internal,
    }
}

/// The request data that lets schema-level code (introspection) know the tier without a token.
#[derive(Debug, Clone, Copy)]
pub struct TierOverride(pub Tier);

fn tier_of(ctx: &Context<'_>) -> Tier {
    if let Some(TierOverride(tier)) = ctx.data_opt::<TierOverride>() {
        return *tier;
    }
    ctx.data_opt::<Caller>().map_or(Tier::Public, tier)
}

/// `visible` functions for `#[graphql(visible = "...")]`.
pub mod visible {
    use super::*;

    /// Employees and managers.
    pub fn internal(ctx: &Context<'_>) -> bool {
        tier_of(ctx) >= Tier::Internal
    }

    /// Managers only.
    pub fn manager(ctx: &Context<'_>) -> bool {
        tier_of(ctx) >= Tier::Manager
    }
}

/// Rows of customer-owned data (customers, interactions, purchases) a caller may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OwnerScope {
    /// Every row.
    All,
    /// Only rows belonging to this customer id.
    Customer(i32),
}

/// Departments a caller may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DepartmentScope {
    /// The whole org chart.
    All,
    /// Only departments that serve external customers (the public surface).
    ExternalFacing,
}

/// Knowledge articles a caller may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArticleScope {
    /// Public and internal articles.
    All,
    /// Public articles only.
    PublicOnly,
}

/// Products a caller may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProductScope {
    /// The whole catalogue, retired products included.
    All,
    /// Products on sale.
    ActiveOnly,
}

fn is_internal(viewer: &Viewer) -> bool {
    matches!(viewer.role, Role::Employee | Role::Manager)
}

/// Customer-owned rows; `None` for anonymous callers, who see none.
pub fn owner_scope(caller: &Caller) -> Option<OwnerScope> {
    caller.viewer().map(|viewer| {
        if is_internal(viewer) {
            OwnerScope::All
        } else {
            OwnerScope::Customer(viewer.customer_id)
        }
    })
}

/// Departments; `None` for anonymous callers.
pub fn department_scope(caller: &Caller) -> Option<DepartmentScope> {
    caller.viewer().map(|viewer| {
        if is_internal(viewer) {
            DepartmentScope::All
        } else {
            DepartmentScope::ExternalFacing
        }
    })
}

/// Knowledge articles: everyone sees public ones.
pub fn article_scope(caller: &Caller) -> ArticleScope {
    match caller.viewer() {
        Some(viewer) if is_internal(viewer) => ArticleScope::All,
        _ => ArticleScope::PublicOnly,
    }
}

/// Products: everyone sees what is on sale; employees see retired products too.
pub fn product_scope(caller: &Caller) -> ProductScope {
    match caller.viewer() {
        Some(viewer) if is_internal(viewer) => ProductScope::All,
        _ => ProductScope::ActiveOnly,
    }
}

/// The policy's yes to a whole kind of record, for records that have no row scope: every row
/// or none. Only this module makes one, so holding it proves the policy was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit(());

/// Service agreements are internal knowledge: a permit when the caller may read them.
pub fn agreement_scope(caller: &Caller) -> Option<Permit> {
    caller
        .viewer()
        .filter(|v| is_internal(v))
        .map(|_| Permit(()))
}

/// The access audit is individual-level data about employees: a permit for managers.
pub fn audit_scope(caller: &Caller) -> Option<Permit> {
    caller
        .viewer()
        .filter(|v| v.role == Role::Manager)
        .map(|_| Permit(()))
}

/// Which agreements and departments a caller's operational figures cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelScope {
    /// Every department (managers).
    All,
    /// Only agreements and departments involving the department of this employee.
    DepartmentOf(i32),
}

/// Whether internal notes appear in an interaction's conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notes {
    /// Public messages and internal notes, in one list (employees).
    Shown,
    /// Public messages only (clients).
    Hidden,
}

/// Whether the caller sees internal notes on interactions.
pub fn notes(caller: &Caller) -> Notes {
    if caller.viewer().is_some_and(is_internal) {
        Notes::Shown
    } else {
        Notes::Hidden
    }
}

/// Who can see that something changed; ordered, so a change is visible to a caller whose
/// audience is at least the change's.
///
/// Clients see versions, change times, orderings by change time and live events. If internal
/// writes (notes, assignment, links…) moved any of those, a client would learn that something
/// internal happened. So every row that clients see keeps a public version and change time
/// beside the internal ones, and each caller is shown the pair of its audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Audience {
    /// Customers and anonymous callers: only changes to what they can see.
    Public,
    /// Employees and managers: every change.
    Internal,
}

/// The caller's audience: which version and change time it is shown.
pub fn audience(caller: &Caller) -> Audience {
    if caller.viewer().is_some_and(is_internal) {
        Audience::Internal
    } else {
        Audience::Public
    }
}

/// Whether a live event about a change visible to `visible_to` reaches the caller at all:
/// clients never hear of internal notes, re-assignments or links.
pub fn event_visible(caller: &Caller, visible_to: Audience) -> bool {
    visible_to <= audience(caller)
}

/// What a caller's export of its own data may hold: its own rows, each field as the caller's
/// audience may read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportScope {
    /// Whose data: always the caller's own customer record.
    pub customer_id: i32,
    /// Which fields and versions: public ones for clients, internal ones too for employees.
    pub audience: Audience,
    /// Whether notes appear in the conversations.
    pub notes: Notes,
    /// Which departments may be named (an interaction's department).
    pub departments: DepartmentScope,
    /// Which products may be named (a purchase's product).
    pub products: ProductScope,
}

/// Whether `Type.field`, though public, answers callers of `tier` with values only their tier
/// may read: the access audit records such a read as it records an internal-only field.
/// `exportMyData` is the one: an employee's export holds its internal record (health score,
/// notes, pulses).
pub fn answers_with_internal_values(tier: Tier, type_name: &str, field: &str) -> bool {
    tier != Tier::Public && (type_name, field) == ("Query", "exportMyData")
}

/// Any signed-in caller may export what it may see about itself; anonymous callers have no
/// data to export.
pub fn export_scope(caller: &Caller) -> Result<ExportScope> {
    let viewer = require_signed_in(caller)?;
    let departments = department_scope(caller).ok_or_else(|| {
        Error::Unauthenticated("sign in: this operation needs a bearer token".into())
    })?;
    Ok(ExportScope {
        customer_id: viewer.customer_id,
        audience: audience(caller),
        notes: notes(caller),
        departments,
        products: product_scope(caller),
    })
}

/// Any signed-in caller may write on its own behalf.
pub fn require_signed_in(caller: &Caller) -> Result<&Viewer> {
    caller.viewer().ok_or_else(|| {
        Error::Unauthenticated("sign in: this operation needs a bearer token".into())
    })
}

/// Employees' and managers' writes.
pub fn require_internal(caller: &Caller) -> Result<&Viewer> {
    let viewer = require_signed_in(caller)?;
    if is_internal(viewer) {
        Ok(viewer)
    } else {
        Err(Error::Forbidden("this operation is for employees".into()))
    }
}

/// Managers' writes (the org chart and service agreements).
pub fn require_manager(caller: &Caller) -> Result<&Viewer> {
    let viewer = require_signed_in(caller)?;
    if viewer.role == Role::Manager {
        Ok(viewer)
    } else {
        Err(Error::Forbidden("this operation is for managers".into()))
    }
}

/// What the policy allows a caller opening an interaction for itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnOpening {
    /// Whom the interaction belongs to: always the caller.
    pub customer_id: i32,
    /// Outsiders may only reach customer-facing departments: internal ones do not exist for them.
    pub outsider: bool,
}

/// Whom an interaction opened by the caller belongs to, and which departments it may reach.
pub fn open_interaction_rule(caller: &Caller) -> Result<OwnOpening> {
    let viewer = require_signed_in(caller)?;
    Ok(OwnOpening {
        customer_id: viewer.customer_id,
        outsider: !is_internal(viewer),
    })
}

/// Rows a caller may rate: only interactions it opened itself.
pub fn rating_scope(caller: &Caller) -> Result<OwnerScope> {
    Ok(OwnerScope::Customer(require_signed_in(caller)?.customer_id))
}

/// Whose operational figures (service levels) a caller sees: managers all departments,
/// employees those involving their own department, outsiders none.
pub fn service_level_scope(caller: &Caller) -> Option<LevelScope> {
    caller.viewer().and_then(|v| match v.role {
        Role::Manager => Some(LevelScope::All),
        Role::Employee => Some(LevelScope::DepartmentOf(v.customer_id)),
        Role::Client => None,
    })
}

/// A human description of a caller's row scopes, for the `access` explainer.
pub fn describe_row_scopes(caller: &Caller) -> Vec<(&'static str, &'static str)> {
    let owned = match owner_scope(caller) {
        None => "none (sign in)",
        Some(OwnerScope::Customer(_)) => "only your own",
        Some(OwnerScope::All) => "all",
    };
    let departments = match department_scope(caller) {
        None => "none (sign in)",
        Some(DepartmentScope::ExternalFacing) => "customer-facing departments",
        Some(DepartmentScope::All) => "all",
    };
    let articles = match article_scope(caller) {
        ArticleScope::PublicOnly => "public articles",
        ArticleScope::All => "public and internal articles",
    };
    let products = match product_scope(caller) {
        ProductScope::ActiveOnly => "products on sale",
        ProductScope::All => "all products, retired included",
    };
    let mut scopes = vec![
        ("customers", owned),
        ("interactions", owned),
        ("purchases", owned),
        ("departments", departments),
        ("knowledgeArticles", articles),
        ("products", products),
    ];
    if agreement_scope(caller).is_some() {
        scopes.push(("serviceAgreements", "all"));
    }
    if audit_scope(caller).is_some() {
        scopes.push(("accessAudit", "all"));
    }
    scopes
}

//! The root `Mutation`. Each resolver asks `policy` who may do it and under which scope, then
//! calls one service function; rules and SQL live in the service layer.

use async_graphql::{Context, ID, Object};

use super::{context::caller, types::*};
use crate::{
    Error, Result, policy,
    service::{
        customer_write, email_change,
        interaction_write::{self, MessageKind, NewInteraction, Opener, Transition},
        org_write, privacy, pulse,
        versioned::Expected,
        write::Writer,
    },
};

/// Root of every write.
pub struct Mutation;

/// The one write path (see [`Writer`]); no resolver here touches the connection directly.
fn writer<'a>(ctx: &Context<'a>) -> Result<&'a Writer> {
    ctx.data::<Writer>()
        .map_err(|_| Error::internal("schema data", "writer missing"))
}

#[Object]
impl Mutation {
    /// Opens an interaction for yourself with a department you can see.
    // Outsiders can only reach customer-facing departments; employees any (policy decides).
    async fn open_interaction(
        &self,
        ctx: &Context<'_>,
        input: OpenInteractionInput,
    ) -> Result<Interaction> {
        let rule = policy::open_interaction_rule(caller(ctx))?;
        let department_id = parse_id(
            NodeKind::Department,
            "input.departmentId",
            &input.department_id,
        )?;
        let row = interaction_write::log_or_open(
            writer(ctx)?,
            NewInteraction {
                customer_id: rule.customer_id,
                department_id,
                handler_id: None,
                channel: input.channel.into(),
                kind: input.kind.into(),
                subject: input.subject,
                summary: input.summary,
                internal_note: None,
                sla_due_at: None,
                related_to_id: None,
            },
            Opener::Itself {
                outsider: rule.outsider,
            },
        )
        .await?;
        Ok(Interaction(row))
    }

    /// Adds a public reply to an interaction you may see.
    async fn add_reply(
        &self,
        ctx: &Context<'_>,
        interaction_id: ID,
        body: String,
    ) -> Result<InteractionMessage> {
        let viewer = policy::require_signed_in(caller(ctx))?;
        let scope = policy::owner_scope(caller(ctx)).ok_or(Error::NotFound {
            what: "interaction",
        })?;
        let id = parse_id(NodeKind::Interaction, "interactionId", &interaction_id)?;
        let (row, customer_id) = interaction_write::add_message(
            writer(ctx)?,
            scope,
            viewer.customer_id,
            id,
            &body,
            MessageKind::Reply,
        )
        .await?;
        Ok(InteractionMessage { row, customer_id })
    }

    /// Rates one of your own resolved interactions (CSAT 1–5, optionally NPS 0–10), once.
    async fn rate_interaction(
        &self,
        ctx: &Context<'_>,
        id: ID,
        satisfaction: i32,
        nps: Option<i32>,
    ) -> Result<Interaction> {
        let scope = policy::rating_scope(caller(ctx))?;
        let id = parse_id(NodeKind::Interaction, "id", &id)?;
        let row = interaction_write::rate(writer(ctx)?, scope, id, satisfaction, nps).await?;
        Ok(Interaction(row))
    }

    /// Updates your own contact details.
    async fn update_my_contact(
        &self,
        ctx: &Context<'_>,
        input: UpdateMyContactInput,
    ) -> Result<Customer> {
        let viewer = policy::require_signed_in(caller(ctx))?;
        let expected = Expected {
            audience: policy::audience(caller(ctx)),
            version: input.expected_version,
        };
        let row = customer_write::update_contact(
            writer(ctx)?,
            viewer.customer_id,
            expected,
            input.email,
            input.phone,
            input.organization,
        )
        .await?;
        Ok(Customer(row))
    }

    /// Applies the e-mail change asked for with `updateMyContact`, with the token the message
    /// to the new address carried (valid for 24 hours, once).
    async fn confirm_my_email(&self, ctx: &Context<'_>, token: String) -> Result<Customer> {
        let viewer = policy::require_signed_in(caller(ctx))?;
        let row = email_change::confirm(writer(ctx)?, viewer.customer_id, &token).await?;
        Ok(Customer(row))
    }

    /// Creates a customer.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomerInput,
    ) -> Result<Customer> {
        policy::require_internal(caller(ctx))?;
        Ok(Customer(
            customer_write::create(writer(ctx)?, input.into_new()?).await?,
        ))
    }

    /// Updates a customer that is still at `expectedVersion`.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateCustomerInput,
    ) -> Result<Customer> {
        policy::require_internal(caller(ctx))?;
        let id = parse_id(NodeKind::Customer, "id", &id)?;
        let row =
            customer_write::update(writer(ctx)?, id, expected_version, input.into_patch()?).await?;
        Ok(Customer(row))
    }

    /// Logs an interaction for any customer.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn log_interaction(
        &self,
        ctx: &Context<'_>,
        input: LogInteractionInput,
    ) -> Result<Interaction> {
        let viewer = policy::require_internal(caller(ctx))?;
        let id = |kind: NodeKind, field: &str, id: Option<ID>| {
            id.map(|id| parse_id(kind, field, &id)).transpose()
        };
        let new = NewInteraction {
            customer_id: parse_id(NodeKind::Customer, "input.customerId", &input.customer_id)?,
            department_id: parse_id(
                NodeKind::Department,
                "input.departmentId",
                &input.department_id,
            )?,
            handler_id: id(NodeKind::Customer, "input.handlerId", input.handler_id)?,
            channel: input.channel.into(),
            kind: input.kind.into(),
            subject: input.subject,
            summary: input.summary,
            internal_note: input.internal_note,
            sla_due_at: input.sla_due_at,
            related_to_id: id(
                NodeKind::Interaction,
                "input.relatedToId",
                input.related_to_id,
            )?,
        };
        Ok(Interaction(
            interaction_write::log_or_open(writer(ctx)?, new, Opener::Employee(viewer.customer_id))
                .await?,
        ))
    }

    /// Adds an internal note (employees only ever see it).
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn add_internal_note(
        &self,
        ctx: &Context<'_>,
        interaction_id: ID,
        body: String,
    ) -> Result<InteractionMessage> {
        let viewer = policy::require_internal(caller(ctx))?;
        let id = parse_id(NodeKind::Interaction, "interactionId", &interaction_id)?;
        let scope = policy::owner_scope(caller(ctx)).ok_or(Error::NotFound {
            what: "interaction",
        })?;
        let (row, customer_id) = interaction_write::add_message(
            writer(ctx)?,
            scope,
            viewer.customer_id,
            id,
            &body,
            MessageKind::InternalNote,
        )
        .await?;
        Ok(InteractionMessage { row, customer_id })
    }

    /// Hands an interaction to an employee.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn assign_interaction(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        handler_id: ID,
    ) -> Result<Interaction> {
        policy::require_internal(caller(ctx))?;
        let handler = parse_id(NodeKind::Customer, "handlerId", &handler_id)?;
        transition(ctx, id, expected_version, Transition::Assign(handler)).await
    }

    /// Marks an interaction resolved.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn resolve_interaction(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<Interaction> {
        policy::require_internal(caller(ctx))?;
        transition(ctx, id, expected_version, Transition::Resolve).await
    }

    /// Opens a resolved or closed interaction again.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn reopen_interaction(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<Interaction> {
        policy::require_internal(caller(ctx))?;
        transition(ctx, id, expected_version, Transition::Reopen).await
    }

    /// Archives a resolved interaction.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn close_interaction(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<Interaction> {
        policy::require_internal(caller(ctx))?;
        transition(ctx, id, expected_version, Transition::Close).await
    }

    /// Creates a department.
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn create_department(
        &self,
        ctx: &Context<'_>,
        input: DepartmentFields,
    ) -> Result<Department> {
        policy::require_manager(caller(ctx))?;
        Ok(Department::from(
            org_write::create_department(writer(ctx)?, input.into_input()?).await?,
        ))
    }

    /// Erases a customer's personal data if it is still at `expectedVersion`: name, contact
    /// details, notes and message texts become a tombstone; the rows stay, so counts, ratings
    /// and purchase figures do not change. Final: erasing again answers `CONFLICT` (`ERASED`).
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn erase_customer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<Customer> {
        let manager = policy::require_manager(caller(ctx))?;
        let id = parse_id(NodeKind::Customer, "id", &id)?;
        let erased =
            privacy::erase(writer(ctx)?, manager.customer_id, id, expected_version).await?;
        Ok(Customer(erased.customer))
    }

    /// Updates a department that is still at `expectedVersion`.
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn update_department(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: DepartmentFields,
    ) -> Result<Department> {
        policy::require_manager(caller(ctx))?;
        let id = parse_id(NodeKind::Department, "id", &id)?;
        Ok(Department::from(
            org_write::update_department(writer(ctx)?, id, expected_version, input.into_input()?)
                .await?,
        ))
    }

    /// Creates a service agreement between two departments.
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn create_service_agreement(
        &self,
        ctx: &Context<'_>,
        input: ServiceAgreementInput,
    ) -> Result<ServiceAgreement> {
        policy::require_manager(caller(ctx))?;
        Ok(ServiceAgreement(
            org_write::create_agreement(writer(ctx)?, input.into_input()?).await?,
        ))
    }

    /// Updates a service agreement that is still at `expectedVersion`.
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn update_service_agreement(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: ServiceAgreementInput,
    ) -> Result<ServiceAgreement> {
        policy::require_manager(caller(ctx))?;
        let id = parse_id(NodeKind::ServiceAgreement, "id", &id)?;
        Ok(ServiceAgreement(
            org_write::update_agreement(writer(ctx)?, id, expected_version, input.into_input()?)
                .await?,
        ))
    }

    /// Deletes a service agreement that is still at `expectedVersion`; true when deleted.
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn delete_service_agreement(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> Result<bool> {
        policy::require_manager(caller(ctx))?;
        let id = parse_id(NodeKind::ServiceAgreement, "id", &id)?;
        org_write::delete_agreement(writer(ctx)?, id, expected_version).await?;
        Ok(true)
    }

    /// Records how your week went (1–5), once per week; individual answers are for managers.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn submit_morale_pulse(
        &self,
        ctx: &Context<'_>,
        score: i32,
        comment: Option<String>,
    ) -> Result<bool> {
        let viewer = policy::require_internal(caller(ctx))?;
        pulse::submit_pulse(writer(ctx)?, viewer.customer_id, score, comment.as_deref()).await?;
        Ok(true)
    }

    /// Rates (1–5) the service your department received from another department.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn give_department_feedback(
        &self,
        ctx: &Context<'_>,
        to_department_id: ID,
        score: i32,
        comment: Option<String>,
    ) -> Result<bool> {
        let viewer = policy::require_internal(caller(ctx))?;
        let to = parse_id(NodeKind::Department, "toDepartmentId", &to_department_id)?;
        pulse::give_feedback(
            writer(ctx)?,
            viewer.customer_id,
            to,
            score,
            comment.as_deref(),
        )
        .await?;
        Ok(true)
    }

    /// Links an interaction to the one that caused it (say, complaints to an IT incident).
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn link_interaction(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        related_to_id: ID,
    ) -> Result<Interaction> {
        policy::require_internal(caller(ctx))?;
        let id = parse_id(NodeKind::Interaction, "id", &id)?;
        let related = parse_id(NodeKind::Interaction, "relatedToId", &related_to_id)?;
        let row = interaction_write::link(writer(ctx)?, id, expected_version, related).await?;
        Ok(Interaction(row))
    }
}

async fn transition(
    ctx: &Context<'_>,
    id: ID,
    expected_version: i32,
    change: Transition,
) -> Result<Interaction> {
    let id = parse_id(NodeKind::Interaction, "id", &id)?;
    let row = interaction_write::transition(writer(ctx)?, id, expected_version, change).await?;
    Ok(Interaction(row))
}

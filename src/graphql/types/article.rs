//! `KnowledgeArticle`: public help pages and internal know-how.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::knowledge_article as article;

use super::{Audience, Department};
use crate::{Result, graphql::context::loaders};

/// A knowledge-base article.
pub struct KnowledgeArticle(pub article::Model);

#[Object]
impl KnowledgeArticle {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Body text (Markdown).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Who it is written for.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn audience(&self) -> Audience {
        self.0.audience.into()
    }
    /// The department that owns it, when the caller may see that department.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(loaders(ctx)?
            .department
            .load_one(self.0.department_id)
            .await?
            .map(Department))
    }
    /// When it was first published.
    async fn published_at(&self) -> DateTime<Utc> {
        self.0.published_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

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
    /// Stable global id (Relay's `Node`): opaque, unique across types. Arguments that take
    /// this type's id accept it or the plain row number.
    pub async fn id(&self) -> ID {
        super::global_id(super::NodeKind::KnowledgeArticle, self.0.id)
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

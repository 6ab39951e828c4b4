//! Which operation a request ran, as async-graphql chose it after parsing and validation: a
//! tiny schema extension writes the name into a slot the transport placed in the request data,
//! so metrics and logs name the operation that ran without parsing the document twice.

use std::sync::{Arc, Mutex};

use async_graphql::{
    Response,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute},
};

/// Per-request slot for the executed operation's name (`Some(None)`: an unnamed operation).
#[derive(Clone, Default)]
pub struct OperationSlot(Arc<Mutex<Option<Option<String>>>>);

impl OperationSlot {
    /// The operation that ran: `None` if none did, `Some(None)` if it had no name.
    pub fn get(&self) -> Option<Option<String>> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// The extension factory to register on the schema.
pub struct RecordOperation;

impl ExtensionFactory for RecordOperation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RecordOperation)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RecordOperation {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(slot) = ctx.data_opt::<OperationSlot>()
            && let Ok(mut slot) = slot.0.lock()
        {
            *slot = Some(operation_name.map(str::to_owned));
        }
        next.run(ctx, operation_name).await
    }
}

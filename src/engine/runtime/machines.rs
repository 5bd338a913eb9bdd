//! The state machine registry: machines from configuration (files, JSON or YAML) and
//! from CreateStateMachine/DeleteStateMachine, kept in memory (compiled) and in the
//! store; DescribeStateMachine and ListStateMachines.

use std::sync::Arc;

use serde_json::Value;

use super::config::{DefinitionSource, StateMachineSource};
use super::{
    Engine, Error, Machine, OpenError, Page, arn, decode_token, encode_token, interpreter,
    page_size,
};
use crate::engine::store::{self, StateMachineRecord, StateMachineType};

/// The role reported for machines from configuration that name none.
const DEFAULT_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/stepgate-local";

/// CreateStateMachine's input.
#[derive(Debug, Clone, Default)]
pub struct CreateStateMachineInput {
    pub name: String,
    /// ASL as JSON text.
    pub definition: String,
    pub role_arn: String,
    /// `STANDARD` (default) or `EXPRESS`.
    pub r#type: Option<String>,
}

impl Engine {
    /// CreateStateMachine. Idempotent for an identical request.
    pub async fn create_state_machine(
        &self,
        input: CreateStateMachineInput,
    ) -> Result<StateMachineRecord, Error> {
        if !arn::is_valid_name(&input.name) {
            return Err(Error::InvalidName { name: input.name });
        }
        let r#type = match input.r#type.as_deref() {
            None => StateMachineType::Standard,
            Some(t) => StateMachineType::parse(t)
                .ok_or_else(|| Error::not_in_enum(t, "type", "STANDARD, EXPRESS"))?,
        };
        if !input.role_arn.starts_with("arn:") {
            return Err(Error::InvalidArn {
                reason: format!("Invalid ARN prefix: {}", input.role_arn),
            });
        }
        let definition: Value =
            serde_json::from_str(&input.definition).map_err(|e| Error::InvalidDefinition {
                reason: format!("INVALID_JSON_DESCRIPTION: {e}"),
            })?;
        let arn = self.inner.scope.state_machine(&input.name);
        if let Some(existing) = self.machine(&arn) {
            let same_definition = serde_json::from_str::<Value>(&existing.record.definition)
                .ok()
                .as_ref()
                == Some(&definition);
            if same_definition
                && existing.record.role_arn == input.role_arn
                && existing.record.r#type == r#type
            {
                return Ok(existing.record.clone());
            }
            return Err(Error::StateMachineAlreadyExists { arn });
        }
        let record = StateMachineRecord {
            arn,
            name: input.name,
            r#type,
            definition: input.definition,
            role_arn: input.role_arn,
            creation_date: self.inner.clock.now(),
        };
        self.register(record).await
    }

    /// DeleteStateMachine. Running executions finish; new ones cannot start.
    pub async fn delete_state_machine(&self, state_machine_arn: &str) -> Result<(), Error> {
        arn::parse_state_machine(state_machine_arn)?;
        let removed = self
            .inner
            .machines
            .write()
            .expect("invariant: machines lock")
            .remove(state_machine_arn);
        if removed.is_some() {
            let arn = state_machine_arn.to_string();
            self.inner
                .store
                .durable(move |c| store::delete_state_machine(c, &arn))
                .await?;
        }
        Ok(())
    }

    /// DescribeStateMachine.
    pub fn describe_state_machine(
        &self,
        state_machine_arn: &str,
    ) -> Result<StateMachineRecord, Error> {
        Ok(self.existing_machine(state_machine_arn)?.record.clone())
    }

    /// ListStateMachines, by name.
    pub fn list_state_machines(
        &self,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> Result<Page<StateMachineRecord>, Error> {
        let size = page_size(max_results)?;
        let after = next_token.map(|t| decode_token("sm", t)).transpose()?;
        let mut all: Vec<StateMachineRecord> = self
            .inner
            .machines
            .read()
            .expect("invariant: machines lock")
            .values()
            .map(|m| m.record.clone())
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let items: Vec<_> = all
            .into_iter()
            .filter(|m| after.as_ref().is_none_or(|a| m.name.as_str() > a.as_str()))
            .take(size + 1)
            .collect();
        Ok(page(items, size, |m| encode_token("sm", &m.name)))
    }

    pub(crate) fn machine(&self, state_machine_arn: &str) -> Option<Arc<Machine>> {
        self.inner
            .machines
            .read()
            .expect("invariant: machines lock")
            .get(state_machine_arn)
            .cloned()
    }

    /// The machine behind an ARN, or AWS's error for it.
    pub(crate) fn existing_machine(&self, state_machine_arn: &str) -> Result<Arc<Machine>, Error> {
        arn::parse_state_machine(state_machine_arn)?;
        self.machine(state_machine_arn)
            .ok_or_else(|| Error::StateMachineDoesNotExist {
                arn: state_machine_arn.to_string(),
            })
    }

    /// Compiles, stores (durably) and registers a machine.
    async fn register(&self, record: StateMachineRecord) -> Result<StateMachineRecord, Error> {
        let program = interpreter::compile(&record.definition, record.r#type)
            .map_err(|reason| Error::InvalidDefinition { reason })?;
        let stored = record.clone();
        self.inner
            .store
            .durable(move |c| store::put_state_machine(c, &stored))
            .await?;
        let machine = Arc::new(Machine {
            record: record.clone(),
            program,
        });
        self.inner
            .machines
            .write()
            .expect("invariant: machines lock")
            .insert(record.arn.clone(), machine);
        Ok(record)
    }

    /// Registers a machine named in configuration (replacing an older version).
    pub(crate) async fn register_source(
        &self,
        source: &StateMachineSource,
    ) -> Result<(), OpenError> {
        let fail = |message: String| OpenError::StateMachine {
            name: source.name.clone(),
            message,
        };
        if !arn::is_valid_name(&source.name) {
            return Err(fail(
                "not a valid state machine name (1-80 characters, no spaces or :/#?*\"<>{}[]...)"
                    .into(),
            ));
        }
        let text = match &source.definition {
            DefinitionSource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?,
            DefinitionSource::Inline(text) => text.clone(),
        };
        let definition = parse_json_or_yaml(&text).map_err(fail)?;
        let arn = self.inner.scope.state_machine(&source.name);
        let creation_date = self
            .machine(&arn)
            .map_or_else(|| self.inner.clock.now(), |m| m.record.creation_date);
        let record = StateMachineRecord {
            arn,
            name: source.name.clone(),
            r#type: source.r#type,
            definition: definition.to_string(),
            role_arn: source
                .role_arn
                .clone()
                .unwrap_or_else(|| DEFAULT_ROLE_ARN.into()),
            creation_date,
        };
        self.register(record)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(())
    }

    /// Loads the machines created through the API by earlier processes.
    pub(crate) async fn load_stored_machines(&self) -> Result<(), store::Error> {
        let records = self.inner.store.read(store::load_state_machines).await?;
        let mut machines = self
            .inner
            .machines
            .write()
            .expect("invariant: machines lock");
        for record in records {
            match interpreter::compile(&record.definition, record.r#type) {
                Ok(program) => {
                    machines.insert(record.arn.clone(), Arc::new(Machine { record, program }));
                }
                Err(e) => {
                    tracing::warn!(arn = %record.arn, error = %e, "stored state machine no longer compiles")
                }
            }
        }
        Ok(())
    }
}

/// Splits `size + 1` fetched items into a page and the next token.
pub(crate) fn page<T>(mut items: Vec<T>, size: usize, token: impl Fn(&T) -> String) -> Page<T> {
    let next_token = if items.len() > size {
        items.truncate(size);
        items.last().map(token)
    } else {
        None
    };
    Page { items, next_token }
}

/// Definitions are JSON; files may also be YAML.
fn parse_json_or_yaml(text: &str) -> Result<Value, String> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(json_error) => serde_saphyr::from_str::<Value>(text)
            .map_err(|yaml_error| format!("neither JSON ({json_error}) nor YAML ({yaml_error})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_definitions_are_accepted() {
        let v = parse_json_or_yaml("StartAt: A\nStates:\n  A:\n    Type: Succeed\n").unwrap();
        assert_eq!(
            v,
            json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
        );
    }
}

//! From a loaded `stepgate.yaml` to a running gateway: opens the backend the configuration
//! names (`backend::open`) and builds the [`App`] over it. Used by `serve`, `invoke`, the
//! end-to-end tests and the benches, so they all start the gateway the same way.

use std::sync::Arc;

pub use crate::backend::open::Storage;
use crate::backend::{self, StepFunctions};
use crate::config::Config;
use crate::engine::runtime::{self as engine, Engine};
use crate::pipeline::{App, Identity};
use crate::routing;

/// Why the gateway could not start.
#[derive(Debug)]
pub enum Error {
    /// The local engine did not open (store, state machine definitions).
    Engine(engine::OpenError),
    /// The API's routes are malformed.
    Routes(routing::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Engine(e) => write!(f, "cannot open the local engine: {e}"),
            Error::Routes(e) => write!(f, "the API's routes: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// The gateway and the backend it calls.
#[derive(Clone)]
pub struct Gateway {
    pub app: Arc<App>,
    pub backend: Arc<dyn StepFunctions>,
    /// The engine, when the backend is the local one.
    pub engine: Option<Engine>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Opens the backend `config` names and builds the gateway over it.
    pub async fn open(config: Config, storage: Storage) -> Result<Gateway, Error> {
        let opened = backend::open::open(&config, storage)
            .await
            .map_err(Error::Engine)?;
        let defaults = Identity::default();
        let identity = Identity {
            account_id: opened.account_id.unwrap_or(defaults.account_id),
            region: opened.region.unwrap_or(defaults.region),
            ..Identity::default()
        };
        let app = App::new(config.api, opened.backend.clone())
            .map_err(Error::Routes)?
            .with_limits(config.limits)
            .with_identity(identity)
            .with_lambda(opened.lambda)
            .with_trust(&config.tls);
        Ok(Gateway {
            app: Arc::new(app),
            backend: opened.backend,
            engine: opened.engine,
        })
    }
}

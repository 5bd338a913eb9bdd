//! Request routing the way API Gateway does it, as a pure library: resource paths with
//! `{param}` and greedy `{proxy+}` segments, the `ANY` method, an optional stage prefix
//! (`/prod/orders/1`), and precedence of literal over `{param}` over `{proxy+}` (compared
//! segment by segment from the left), an exact method over `ANY`.
//!
//! It is generic over the payload (`Router<T>`) and knows nothing of HTTP types, config or
//! I/O; `pipeline` builds a `Router<RouteId>` from the API model. No match is `None`; the
//! caller turns it into API Gateway's 403 `Missing Authentication Token`.
//!
//! ```
//! use stepgate::routing::Router;
//! let mut r = Router::new();
//! r.insert("GET", "/orders/{id}", 1).unwrap();
//! r.insert("ANY", "/{proxy+}", 2).unwrap();
//! let m = r.find("GET", "/orders/42").unwrap();
//! assert_eq!((*m.value, m.path_params[0].1.as_str()), (1, "42"));
//! assert_eq!(*r.find("POST", "/orders/42").unwrap().value, 2);
//! ```

mod template;
#[cfg(test)]
mod tests;

pub use template::{PathTemplate, TemplateError};

use std::fmt;

use smallvec::SmallVec;

/// The method a route answers: one HTTP method, or API Gateway's `ANY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodKey {
    /// `GET`, `POST`, ... (upper case).
    Exact(String),
    /// `ANY`: every method the resource does not define itself.
    Any,
}

impl MethodKey {
    /// Parses `get`, `POST`, `any`, `x-amazon-apigateway-any-method`.
    pub fn parse(method: &str) -> MethodKey {
        let upper = method.to_ascii_uppercase();
        if upper == "ANY" || upper == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
            MethodKey::Any
        } else {
            MethodKey::Exact(upper)
        }
    }
}

impl fmt::Display for MethodKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MethodKey::Exact(m) => f.write_str(m),
            MethodKey::Any => f.write_str("ANY"),
        }
    }
}

/// Why a route could not be added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The resource path is malformed.
    Template { path: String, error: TemplateError },
    /// The same method on the same resource twice.
    Duplicate { method: String, path: String },
    /// `/a/{id}` and `/a/{name}`: two resources the same request would match equally.
    Ambiguous { path: String, other: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Template { path, error } => write!(f, "resource `{path}`: {error}"),
            Error::Duplicate { method, path } => write!(f, "{method} {path} is defined twice"),
            Error::Ambiguous { path, other } => {
                write!(f, "resource `{path}` is ambiguous with `{other}`")
            }
        }
    }
}

impl std::error::Error for Error {}

/// A routing table: resources, each with its methods and their payloads.
#[derive(Clone, Debug)]
pub struct Router<T> {
    stage: Option<String>,
    resources: Vec<Resource<T>>,
}

#[derive(Clone, Debug)]
struct Resource<T> {
    template: PathTemplate,
    methods: Vec<(MethodKey, T)>,
}

/// A successful lookup.
#[derive(Debug)]
pub struct Match<'r, T> {
    /// The route's payload.
    pub value: &'r T,
    /// The resource path as configured (`/orders/{id}`): `$context.resourcePath`.
    pub resource_path: &'r str,
    /// The method as configured (`GET` or `ANY`).
    pub method: &'r MethodKey,
    /// Path parameters in template order, percent-decoded.
    pub path_params: Vec<(String, String)>,
}

impl<T> Default for Router<T> {
    fn default() -> Router<T> {
        Router { stage: None, resources: Vec::new() }
    }
}

impl<T> Router<T> {
    /// An empty router without a stage prefix.
    pub fn new() -> Router<T> {
        Router::default()
    }

    /// Requires request paths to start with `/{stage}` (as on an `execute-api` host) and
    /// strips it before matching.
    pub fn with_stage(mut self, stage: Option<String>) -> Router<T> {
        self.stage = stage.filter(|s| !s.is_empty());
        self
    }

    /// The stage prefix, if any.
    pub fn stage(&self) -> Option<&str> {
        self.stage.as_deref()
    }

    /// Adds `method` on `path` (`GET`, `ANY`, ...).
    pub fn insert(&mut self, method: &str, path: &str, value: T) -> Result<(), Error> {
        let template = PathTemplate::parse(path)
            .map_err(|error| Error::Template { path: path.to_string(), error })?;
        let method = MethodKey::parse(method);
        let index = match self.resources.iter().position(|r| r.template == template) {
            Some(i) => i,
            None => {
                if let Some(other) = self.resources.iter().find(|r| same_shape(&r.template, &template)) {
                    return Err(Error::Ambiguous {
                        path: path.to_string(),
                        other: other.template.as_str().to_string(),
                    });
                }
                self.resources.push(Resource { template, methods: Vec::new() });
                self.resources.len() - 1
            }
        };
        let resource = &mut self.resources[index];
        if resource.methods.iter().any(|(m, _)| *m == method) {
            return Err(Error::Duplicate { method: method.to_string(), path: path.to_string() });
        }
        resource.methods.push((method, value));
        Ok(())
    }

    /// Finds the route for a request. `path` is the request path without query string,
    /// including the stage prefix when the router has one.
    pub fn find(&self, method: &str, path: &str) -> Option<Match<'_, T>> {
        let path = self.strip_stage(path)?;
        let trimmed = path.trim_start_matches('/');
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let segments: SmallVec<[&str; 16]> =
            if trimmed.is_empty() { SmallVec::new() } else { trimmed.split('/').collect() };
        let mut best: Option<(template::Rank, Match<'_, T>)> = None;
        for resource in &self.resources {
            // The method first: it is cheaper to check than the path.
            let Some((key, value)) = resource
                .methods
                .iter()
                .find(|(m, _)| matches!(m, MethodKey::Exact(x) if x == method))
                .or_else(|| resource.methods.iter().find(|(m, _)| *m == MethodKey::Any))
            else {
                continue;
            };
            let Some((path_params, rank)) = resource.template.matches(&segments) else {
                continue;
            };
            if best.as_ref().is_some_and(|(b, _)| *b >= rank) {
                continue;
            }
            let found = Match {
                value,
                resource_path: resource.template.as_str(),
                method: key,
                path_params,
            };
            best = Some((rank, found));
        }
        best.map(|(_, m)| m)
    }

    /// Every route, in insertion order: `(method, resource path, payload)`.
    pub fn routes(&self) -> impl Iterator<Item = (&MethodKey, &str, &T)> {
        self.resources
            .iter()
            .flat_map(|r| r.methods.iter().map(move |(m, v)| (m, r.template.as_str(), v)))
    }

    fn strip_stage<'p>(&self, path: &'p str) -> Option<&'p str> {
        let Some(stage) = &self.stage else {
            return Some(path);
        };
        let rest = path.strip_prefix('/')?.strip_prefix(stage.as_str())?;
        if rest.is_empty() || rest.starts_with('/') { Some(rest) } else { None }
    }
}

/// Two templates with the same shape (literals equal, parameters in the same places) would
/// match the same requests with the same rank.
fn same_shape(a: &PathTemplate, b: &PathTemplate) -> bool {
    a.shape() == b.shape()
}

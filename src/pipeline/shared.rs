//! The per-API `$context` strings — stage, API and account ids, each route's resource path
//! and id, method and protocol names — as shared strings, and the prepared
//! `responseParameters` headers, one copy per worker thread.
//!
//! Every request's `$context` holds these as `Arc<str>`, so a request clones a dozen of
//! them and drops them again. With one copy for the whole process, every worker thread
//! would write the same reference counts on every request and the cache lines holding
//! them would bounce between cores (at two workers that cost more than a third of the
//! gateway's user CPU). A copy per thread keeps those writes local; a request that moves
//! to another thread mid-way still works, it only touches the other thread's counts.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::Method;

use super::App;
use super::response::{ResponseHeader, prepare};

/// Which app a thread's copy belongs to: unique per app (and per change of its identity),
/// so a thread never mistakes another app's copy for this one's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CopyKey(u64);

impl CopyKey {
    pub(crate) fn new() -> CopyKey {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        CopyKey(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }
}

/// One thread's copy of an app's strings.
#[derive(Debug)]
pub(crate) struct SharedContext {
    pub stage: Arc<str>,
    pub api_id: Arc<str>,
    pub account_id: Arc<str>,
    /// `$context.resourcePath` and `resourceId` of each route.
    pub resources: Vec<Resource>,
    /// The prepared `responseParameters` headers of each route's integration responses
    /// (`[route][response]`); header names and values share their bytes when cloned.
    pub response_headers: Vec<Vec<Vec<ResponseHeader>>>,
    /// `GET`, `POST`, ... in [`SharedContext::METHODS`] order.
    methods: [Arc<str>; 9],
    /// `HTTP/1.1`, `HTTP/2.0`, `HTTP/1.0`.
    protocols: [Arc<str>; 3],
    pub empty: Arc<str>,
    pub localhost: Arc<str>,
    pub loopback: Arc<str>,
}

/// `$context.resourcePath` and `$context.resourceId` of one route.
#[derive(Clone, Debug)]
pub(crate) struct Resource {
    pub path: Arc<str>,
    pub id: Arc<str>,
}

/// How many apps' copies a thread keeps (tests run many apps on one thread; a server has one).
const KEPT: usize = 4;

thread_local! {
    static COPIES: RefCell<Vec<(u64, Rc<SharedContext>)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's copy of `app`'s strings, making it on first use.
pub(crate) fn with<R>(app: &App, f: impl FnOnce(&SharedContext) -> R) -> R {
    let key = app.shared;
    let copy = COPIES.with(|copies| {
        if let Some((_, c)) = copies.borrow().iter().find(|(id, _)| *id == key.0) {
            return c.clone();
        }
        let made = Rc::new(SharedContext::new(app));
        let mut copies = copies.borrow_mut();
        if copies.len() == KEPT {
            copies.remove(0);
        }
        copies.push((key.0, made.clone()));
        made
    });
    f(&copy)
}

impl SharedContext {
    const METHODS: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    const PROTOCOLS: [&'static str; 3] = ["HTTP/1.1", "HTTP/2.0", "HTTP/1.0"];

    fn new(app: &App) -> SharedContext {
        let api = app.api();
        let identity = &app.identity;
        SharedContext {
            stage: Arc::from(api.stage.as_str()),
            api_id: Arc::from(identity.api_id.as_str()),
            account_id: Arc::from(identity.account_id.as_str()),
            resources: api
                .routes
                .iter()
                .map(|r| Resource {
                    path: Arc::from(r.path_template.as_str()),
                    id: super::context::resource_id(&r.path_template),
                })
                .collect(),
            response_headers: api
                .routes
                .iter()
                .map(|r| r.method.integration.responses.iter().map(prepare).collect())
                .collect(),
            methods: SharedContext::METHODS.map(|m| Arc::from(m.as_str())),
            protocols: SharedContext::PROTOCOLS.map(Arc::from),
            empty: Arc::from(""),
            localhost: Arc::from("localhost"),
            loopback: Arc::from("127.0.0.1"),
        }
    }

    /// `$context.httpMethod` of `method`.
    pub fn method(&self, method: &Method) -> Arc<str> {
        match SharedContext::METHODS.iter().position(|m| m == method) {
            Some(i) => self.methods[i].clone(),
            None => Arc::from(method.as_str()),
        }
    }

    /// `$context.protocol` of `protocol`.
    pub fn protocol(&self, protocol: &str) -> Arc<str> {
        match SharedContext::PROTOCOLS.iter().position(|p| *p == protocol) {
            Some(i) => self.protocols[i].clone(),
            None => Arc::from(protocol),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thread_and_each_app_has_its_own_copy() {
        let app = |stage: &str| {
            let api = crate::config::Api { stage: stage.into(), ..crate::pipeline::tests::api(vec![]) };
            App::new(api, Arc::new(crate::pipeline::tests::Fake)).unwrap()
        };
        let (a, b) = (app("prod"), app("dev"));
        let here = with(&a, |s| s.stage.clone());
        assert!(Arc::ptr_eq(&here, &with(&a, |s| s.stage.clone())), "one copy per thread");
        assert_eq!(&*with(&b, |s| s.stage.clone()), "dev");
        let there = std::thread::scope(|t| t.spawn(|| with(&a, |s| s.stage.clone())).join().unwrap());
        let renamed = a.with_identity(crate::pipeline::Identity { api_id: "other".into(), ..Default::default() });
        assert_eq!(&*with(&renamed, |s| s.api_id.clone()), "other", "a new identity is a new copy");
        assert_eq!(&*there, "prod");
        assert!(!Arc::ptr_eq(&here, &there), "another thread makes its own");
        assert_eq!(&*with(&b, |s| s.method(&Method::PATCH)), "PATCH");
        assert_eq!(&*with(&b, |s| s.protocol("HTTP/2.0")), "HTTP/2.0");
    }
}

//! Map states: items (`ItemsPath` / JSONata `Items`), `ItemSelector`, `ItemBatcher`,
//! iterations run one at a time or concurrently up to `MaxConcurrency` (the first failure
//! beyond the tolerated threshold aborts the rest), `ToleratedFailureCount/Percentage`.

use super::history;
use super::program::{BoxFut, Step};
use super::{Env, Fault, Run, Vars};
use crate::engine::asl::{MapState, QueryLanguage, State, Template};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};

impl Run<'_> {
    pub(super) async fn map(
        &self,
        state: &State,
        m: &MapState,
        raw: &Value,
        env: &Env<'_>,
    ) -> Result<Step, Fault> {
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        let eff = self.io_path(&state.input_path, raw.clone(), env)?;
        let items = match (&m.items_path, &m.items) {
            (_, Some(t)) if jsonata => {
                let states = self.states_value(raw, None, None, env);
                let v = self.jeval(t, &states, env)?;
                if !v.is_array() {
                    let text = match t {
                        Template::Expr(e) => e.text.to_string(),
                        _ => history::to_text(&v),
                    };
                    return Err(self.query_error(
                        env,
                        "Items",
                        format_args!(
                            "The JSONata expression '{text}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {}",
                            super::jsonata_flow::type_name(&v),
                            history::to_text(&v)
                        ),
                    ));
                }
                v
            }
            (Some(p), _) if !jsonata => self.select(p, &eff, env)?,
            _ => eff.clone(),
        };
        let Value::Array(items) = items else {
            let msg = format!(
                "Map state input must be an array but was: {}",
                history::to_text(&items)
            );
            return Err(if jsonata {
                self.query_error(env, "Items", msg)
            } else {
                env.runtime(msg)
            });
        };
        if let Some(field) = m.unsupported {
            return Err(env.runtime(format!(
                "The Map field '{field}' (Distributed Map reading or writing S3) is not supported by the local engine"
            )));
        }
        let items = match &m.batcher {
            Some(b) => self.batches(b, items, raw, &eff, env, jsonata)?,
            None => items,
        };
        let limit = match &m.max_concurrency {
            Some(n) => self.number(n, "MaxConcurrency", &eff, env)?,
            None => 0,
        };
        let tolerated_count = m
            .tolerated_failure_count
            .as_ref()
            .map(|n| self.number(n, "ToleratedFailureCount", &eff, env))
            .transpose()?;
        let tolerated_pct = m
            .tolerated_failure_percentage
            .as_ref()
            .map(|n| self.number(n, "ToleratedFailurePercentage", &eff, env))
            .transpose()?;
        let total = items.len();
        let mut tolerance = Tolerance {
            count: tolerated_count.unwrap_or(0),
            pct: tolerated_pct.unwrap_or(0),
            total,
            failures: 0,
        };
        self.record(
            "MapStateStarted",
            Some("mapStateStartedEventDetails"),
            || json!({"length": total}),
        );
        let mut out = Vec::with_capacity(total);
        if limit == 1 || total <= 1 {
            for (i, item) in items.iter().enumerate() {
                let input = self.item_input(state, m, raw, &eff, i, item, env)?;
                match self
                    .iteration(state, m, i, input, env.vars.clone(), None)
                    .await
                {
                    Ok(v) => out.push(v),
                    Err(f) => out.push(tolerance.absorb(f)?),
                }
            }
        } else {
            let mut inputs = Vec::with_capacity(total);
            for (i, item) in items.iter().enumerate() {
                inputs.push(self.item_input(state, m, raw, &eff, i, item, env)?);
            }
            let permits = if limit == 0 {
                total
            } else {
                (limit as usize).min(total)
            };
            let sem = tokio::sync::Semaphore::new(permits.min(tokio::sync::Semaphore::MAX_PERMITS));
            let started: Vec<AtomicBool> = (0..total).map(|_| AtomicBool::new(false)).collect();
            let futs: Vec<BoxFut<'_, Result<Value, Fault>>> = inputs
                .into_iter()
                .enumerate()
                .map(|(i, input)| {
                    let (sem, started, vars) = (&sem, &started, env.vars.clone());
                    let f: BoxFut<'_, Result<Value, Fault>> = Box::pin(async move {
                        // The semaphore is never closed, so acquiring cannot fail.
                        let _permit = sem.acquire().await.ok();
                        self.iteration(state, m, i, input, vars, Some(&started[i]))
                            .await
                    });
                    f
                })
                .collect();
            let mut stop: Option<Fault> = None;
            let results = join_until(futs, |r| match r {
                Ok(_) => false,
                Err(f) => match tolerance.absorb(f.clone()) {
                    Ok(_) => false,
                    Err(f) => {
                        stop = Some(f);
                        true
                    }
                },
            })
            .await;
            if let Some(f) = stop {
                for (i, r) in results.iter().enumerate() {
                    if r.is_none() && started[i].load(Ordering::Relaxed) {
                        self.record(
                            "MapIterationAborted",
                            Some("mapIterationAbortedEventDetails"),
                            || json!({"name": state.name, "index": i}),
                        );
                    }
                }
                return Err(f);
            }
            for r in results.into_iter().flatten() {
                out.push(match r {
                    Ok(v) => v,
                    Err(f) => {
                        json!({"Error": f.error.error, "Cause": f.error.cause.unwrap_or_default()})
                    }
                });
            }
        }
        self.record("MapStateSucceeded", None, || Value::Null);
        if jsonata {
            return self.jfinish(state, raw, Some(&Value::Array(out)), env);
        }
        let result = self.select_result(state, Value::Array(out), env)?;
        self.finish(state, raw.clone(), result, env)
    }
}

impl Run<'_> {
    /// `ItemBatcher`: groups items into `{"Items": [...], "BatchInput": ...}` inputs.
    fn batches(
        &self,
        b: &crate::engine::asl::ItemBatcher,
        items: Vec<Value>,
        raw: &Value,
        eff: &Value,
        env: &Env<'_>,
        jsonata: bool,
    ) -> Result<Vec<Value>, Fault> {
        let size = match &b.max_items_per_batch {
            Some(n) => self.number(n, "MaxItemsPerBatch", eff, env)?.max(1) as usize,
            None => items.len().max(1),
        };
        let batch_input = match &b.batch_input {
            Some(t) if jsonata => {
                Some(self.jeval(t, &self.states_value(raw, None, None, env), env)?)
            }
            Some(t) => Some(self.template(t, eff, env)?),
            None => None,
        };
        Ok(items
            .chunks(size)
            .map(|c| {
                let mut o = serde_json::Map::new();
                o.insert("Items".into(), Value::Array(c.to_vec()));
                if let Some(bi) = &batch_input {
                    o.insert("BatchInput".into(), bi.clone());
                }
                Value::Object(o)
            })
            .collect())
    }

    /// One Map iteration's input: `ItemSelector` (with `$$.Map.Item`) or the item itself.
    #[allow(clippy::too_many_arguments)]
    fn item_input(
        &self,
        state: &State,
        m: &MapState,
        raw: &Value,
        eff: &Value,
        i: usize,
        item: &Value,
        env: &Env<'_>,
    ) -> Result<Value, Fault> {
        let ienv = Env {
            map_item: Some((i, item)),
            ..*env
        };
        match &m.item_selector {
            Some(t) if state.query_language == QueryLanguage::Jsonata => {
                let states = self.states_value(raw, None, None, &ienv);
                self.jeval(t, &states, &ienv)
            }
            Some(t) => self.template(t, eff, &ienv),
            None => Ok(item.clone()),
        }
    }

    /// Runs one Map iteration with its own copy of the variables.
    async fn iteration(
        &self,
        state: &State,
        m: &MapState,
        i: usize,
        input: Value,
        vars: Vars,
        started: Option<&AtomicBool>,
    ) -> Result<Value, Fault> {
        if let Some(s) = started {
            s.store(true, Ordering::Relaxed);
        }
        let details = json!({"name": state.name, "index": i});
        self.record(
            "MapIterationStarted",
            Some("mapIterationStartedEventDetails"),
            || details.clone(),
        );
        let mut vars = vars;
        let r = self
            .run_program(
                &m.processor,
                m.processor.start_at,
                input,
                &mut vars,
                false,
                false,
            )
            .await;
        match &r {
            Ok(_) => self.record(
                "MapIterationSucceeded",
                Some("mapIterationSucceededEventDetails"),
                || details,
            ),
            Err(_) => self.record(
                "MapIterationFailed",
                Some("mapIterationFailedEventDetails"),
                || details,
            ),
        };
        r
    }
}

/// `ToleratedFailureCount` / `ToleratedFailurePercentage` bookkeeping (0 = none tolerated).
struct Tolerance {
    count: u64,
    pct: u64,
    total: usize,
    failures: usize,
}

impl Tolerance {
    /// Accepts a failed iteration (its error output takes its place in the results) or
    /// returns the Map state's failure.
    fn absorb(&mut self, f: Fault) -> Result<Value, Fault> {
        if f.terminal || (self.count == 0 && self.pct == 0) {
            return Err(f);
        }
        self.failures += 1;
        let over_count = self.count > 0 && self.failures as u64 > self.count;
        let over_pct =
            self.pct > 0 && (self.failures as f64) * 100.0 / (self.total as f64) > self.pct as f64;
        if over_count || over_pct {
            return Err(Fault::new(
                "States.ExceedToleratedFailureThreshold",
                Some(
                    "The specified tolerated failure threshold for the Map run has been exceeded"
                        .into(),
                ),
            ));
        }
        Ok(json!({"Error": f.error.error, "Cause": f.error.cause.unwrap_or_default()}))
    }
}

/// Polls the futures together until all finish or `stop` says so for one output. Outputs
/// keep their positions; `None` marks a future that had not finished.
pub(super) async fn join_until<'f, T>(
    futs: Vec<BoxFut<'f, T>>,
    mut stop: impl FnMut(&T) -> bool,
) -> Vec<Option<T>> {
    let mut futs: Vec<Option<BoxFut<'f, T>>> = futs.into_iter().map(Some).collect();
    let mut out: Vec<Option<T>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futs.iter_mut().zip(out.iter_mut()) {
            if let Some(fut) = f {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        let halt = stop(&v);
                        *o = Some(v);
                        *f = None;
                        if halt {
                            return std::task::Poll::Ready(());
                        }
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out
}

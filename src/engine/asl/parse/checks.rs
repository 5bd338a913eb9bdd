//! Whole-machine checks: unique state names, reachable states.

use super::pointer_escape;
use crate::engine::asl::model::*;

/// State names must be unique in the whole machine, nested branches included.
pub(super) fn duplicate_names<'p>(
    p: &'p Program,
    at: &str,
    seen: &mut std::collections::HashSet<&'p str>,
    errors: &mut Vec<String>,
) {
    for s in &p.states {
        let sat = format!("{at}/States/{}", pointer_escape(&s.name));
        if !seen.insert(s.name.as_str()) {
            errors.push(format!(
                "DUPLICATE_STATE_NAME: Duplicate State name: {} at {sat}",
                s.name
            ));
        }
        match &s.kind {
            StateKind::Parallel { branches } => {
                for (i, b) in branches.iter().enumerate() {
                    duplicate_names(b, &format!("{sat}/Branches/{i}"), seen, errors);
                }
            }
            StateKind::Map(m) => {
                duplicate_names(&m.processor, &format!("{sat}/ItemProcessor"), seen, errors)
            }
            _ => {}
        }
    }
}

/// States no transition leads to (from `StartAt` through Next, Default, Choices and Catch).
pub(super) fn unreachable(p: &Program) -> Vec<&str> {
    let mut seen = vec![false; p.states.len()];
    let mut todo = vec![p.start_at];
    while let Some(i) = todo.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let s = &p.states[i];
        if let Transition::Next(n) = s.transition {
            todo.push(n);
        }
        todo.extend(s.catch.iter().map(|c| c.next));
        if let StateKind::Choice { choices, default } = &s.kind {
            todo.extend(choices.iter().map(|c| c.next));
            todo.extend(*default);
        }
    }
    p.states
        .iter()
        .zip(seen)
        .filter(|(_, r)| !r)
        .map(|(s, _)| s.name.as_str())
        .collect()
}

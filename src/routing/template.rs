//! API Gateway resource paths (`/orders/{id}`, `/files/{proxy+}`) parsed into segments, and
//! the match of one request path against one of them, with the [`Rank`] that orders
//! competing matches the way API Gateway does: a literal segment beats a `{param}`, which
//! beats a greedy `{proxy+}`.

use std::cmp::Ordering;
use std::fmt;

use smallvec::SmallVec;

/// One segment of a resource path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    /// `orders`: matches itself only.
    Literal(String),
    /// `{id}`: matches any one non-empty segment.
    Param(String),
    /// `{proxy+}`: matches one or more segments; only allowed last.
    Greedy(String),
}

/// A parsed resource path such as `/orders/{id}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathTemplate {
    source: String,
    segments: Vec<Segment>,
}

/// Why a resource path could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// `orders/{id}`: resource paths start with `/`.
    NoLeadingSlash,
    /// `/a//b`: an empty segment.
    EmptySegment,
    /// `/a{id}` or `/{id`: braces must enclose a whole segment.
    BadBraces(String),
    /// `/{proxy+}/more`: a greedy parameter must be the last segment.
    GreedyNotLast(String),
    /// `/{id}/{id}`: a parameter name used twice.
    DuplicateParam(String),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::NoLeadingSlash => f.write_str("resource path must start with `/`"),
            TemplateError::EmptySegment => f.write_str("resource path has an empty segment (`//`)"),
            TemplateError::BadBraces(s) => {
                write!(f, "segment `{s}`: a path parameter must be a whole segment like `{{id}}`")
            }
            TemplateError::GreedyNotLast(s) => {
                write!(f, "greedy parameter `{s}` must be the last segment")
            }
            TemplateError::DuplicateParam(s) => write!(f, "path parameter `{s}` appears twice"),
        }
    }
}

impl std::error::Error for TemplateError {}

impl PathTemplate {
    /// Parses a resource path. `/` is the root resource.
    pub fn parse(source: &str) -> Result<PathTemplate, TemplateError> {
        let rest = source.strip_prefix('/').ok_or(TemplateError::NoLeadingSlash)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let mut segments = Vec::new();
        if !rest.is_empty() {
            let parts: Vec<&str> = rest.split('/').collect();
            let last = parts.len() - 1;
            for (i, part) in parts.into_iter().enumerate() {
                let segment = parse_segment(part)?;
                if let Segment::Greedy(name) = &segment
                    && i != last {
                        return Err(TemplateError::GreedyNotLast(name.clone()));
                    }
                if let Segment::Param(name) | Segment::Greedy(name) = &segment {
                    let dup = segments.iter().any(|s| {
                        matches!(s, Segment::Param(n) | Segment::Greedy(n) if n == name)
                    });
                    if dup {
                        return Err(TemplateError::DuplicateParam(name.clone()));
                    }
                }
                segments.push(segment);
            }
        }
        Ok(PathTemplate { source: source.to_string(), segments })
    }

    /// The segments with parameter names erased, for ambiguity checks.
    pub(crate) fn shape(&self) -> Vec<Option<&str>> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => Some(l.as_str()),
                Segment::Param(_) => None,
                Segment::Greedy(_) => Some("{+}"),
            })
            .collect()
    }

    /// The resource path as written (`$context.resourcePath`).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Matches a request path (already split into raw segments, no stage prefix). Returns
    /// the path parameters (percent-decoded) and the match's rank.
    pub(crate) fn matches(&self, request: &[&str]) -> Option<(Vec<(String, String)>, Rank)> {
        // Cheap rejections first: a greedy tail needs at least as many segments, anything
        // else exactly as many.
        let greedy = matches!(self.segments.last(), Some(Segment::Greedy(_)));
        if request.len() < self.segments.len() || (!greedy && request.len() != self.segments.len()) {
            return None;
        }
        let mut params = Vec::new();
        let mut rank = SmallVec::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(lit) => {
                    let got = request.get(i)?;
                    let same = match got.contains('%') {
                        false => *got == lit.as_str(),
                        true => percent_encoding::percent_decode_str(got).decode_utf8_lossy() == lit.as_str(),
                    };
                    if !same {
                        return None;
                    }
                    rank.push(Specificity::Literal);
                }
                Segment::Param(name) => {
                    let got = request.get(i)?;
                    if got.is_empty() {
                        return None;
                    }
                    params.push((name.clone(), decode(got)));
                    rank.push(Specificity::Param);
                }
                Segment::Greedy(name) => {
                    let rest = request.get(i..)?;
                    if rest.is_empty() || rest.iter().all(|s| s.is_empty()) {
                        return None;
                    }
                    params.push((name.clone(), decode(&rest.join("/"))));
                    rank.push(Specificity::Greedy);
                    return Some((params, Rank(rank)));
                }
            }
        }
        if request.len() != self.segments.len() {
            return None;
        }
        Some((params, Rank(rank)))
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn parse_segment(part: &str) -> Result<Segment, TemplateError> {
    if part.is_empty() {
        return Err(TemplateError::EmptySegment);
    }
    let opens = part.matches('{').count();
    let closes = part.matches('}').count();
    if opens == 0 && closes == 0 {
        return Ok(Segment::Literal(part.to_string()));
    }
    let inner = part
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .filter(|inner| opens == 1 && closes == 1 && !inner.is_empty())
        .ok_or_else(|| TemplateError::BadBraces(part.to_string()))?;
    match inner.strip_suffix('+') {
        Some(name) if !name.is_empty() => Ok(Segment::Greedy(name.to_string())),
        Some(_) => Err(TemplateError::BadBraces(part.to_string())),
        None => Ok(Segment::Param(inner.to_string())),
    }
}

fn decode(raw: &str) -> String {
    match raw.contains('%') {
        false => raw.to_string(),
        true => percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned(),
    }
}

/// How specific one matched segment was. Higher is more specific.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Specificity {
    Greedy,
    Param,
    Literal,
}

/// The rank of a match: compared segment by segment from the left, so `/a/{b}` beats
/// `/{a}/b` and `/a/{b}` beats `/a/{proxy+}`. Greater is better.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rank(SmallVec<[Specificity; 16]>);

impl Ord for Rank {
    fn cmp(&self, other: &Rank) -> Ordering {
        for (a, b) in self.0.iter().zip(other.0.iter()) {
            match a.cmp(b) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        // Same prefix: a longer non-greedy template is more specific than a greedy tail.
        self.0.len().cmp(&other.0.len())
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Rank) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

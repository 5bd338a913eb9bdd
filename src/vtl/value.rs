//! Values a template works with: Java's `null`, `Boolean`, `Integer`/`Long`, `Double`,
//! `String`, `ArrayList`/json-smart `JSONArray`, `LinkedHashMap`, and host objects
//! (`$input`, `$util`) that implement [`Object`].
//!
//! Lists and maps are shared and mutable, as Java collections are: `#set($b = $a)` then
//! `$b.put('k', 1)` changes `$a` too. A list remembers where it came from ([`ListKind`]),
//! because API Gateway renders a JSON array from `$input.path` as compact JSON
//! (`["x",1]`) and a VTL list literal as `ArrayList.toString()` (`[x, 1]`).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use indexmap::IndexMap;

/// A map with insertion order, like `java.util.LinkedHashMap`.
///
/// Hashed with [`MapHasher`]; make one with `Map::default()` or [`map_with_capacity`].
pub type Map = IndexMap<Arc<str>, Value, MapHasher>;

/// The hasher of template maps and variables: foldhash, seeded per process and per map.
///
/// A request hashes every `$context` key, `$input.params()` name and variable it touches,
/// and SipHash (std's default) was about 8% of the gateway's instructions per request.
/// foldhash is several times faster on short keys and still randomly seeded, so keys taken
/// from a client's JSON body cannot be chosen offline to collide.
pub type MapHasher = foldhash::fast::RandomState;

/// An empty [`Map`] with room for `n` entries.
pub fn map_with_capacity(n: usize) -> Map {
    Map::with_capacity_and_hasher(n, MapHasher::default())
}

/// Where a list came from; decides how it renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// A VTL literal (`[1, 'a']`, `[1..3]`) or the result of a Java method: renders `[1, a]`.
    Java,
    /// A JSON array from `$input.path` / `$util.parseJson`: renders as compact JSON `[1,"a"]`.
    Json,
}

/// A shared, mutable list.
#[derive(Clone, Debug)]
pub struct List(Arc<Mutex<ListData>>);

/// The contents of a [`List`].
#[derive(Clone, Debug)]
pub struct ListData {
    pub kind: ListKind,
    pub items: Vec<Value>,
}

/// A shared, mutable, insertion-ordered map.
#[derive(Clone, Debug)]
pub struct MapRef(Arc<Mutex<MapData>>);

/// The contents of a [`MapRef`]. `json` is true when the map came from a JSON document.
#[derive(Clone, Debug, Default)]
pub struct MapData {
    pub json: bool,
    pub entries: Map,
}

/// A value during rendering.
#[derive(Clone, Debug)]
pub enum Value {
    /// Java `null`; also what a missing reference evaluates to.
    Null,
    Bool(bool),
    /// Java `Integer`.
    Int(i32),
    /// Java `Long` (integer literals and arithmetic promote to it on overflow).
    Long(i64),
    /// Java `Double`.
    Double(f64),
    String(Arc<str>),
    List(List),
    Map(MapRef),
    /// A host object such as `$input` or `$util`.
    Object(Arc<dyn Object>),
}

/// A host object exposed to templates (`$input`, `$util`, ...).
///
/// Velocity resolves `$obj.name` through [`Object::get`] and `$obj.name(args)` through
/// [`Object::call`]. Objects are shared between threads, so they must be `Send + Sync`.
pub trait Object: Send + Sync + fmt::Debug {
    /// Property access `$obj.name`. `None` means "no such property" (renders as null).
    fn get(&self, _name: &str) -> Option<Value> {
        None
    }
    /// Method call `$obj.name(args)`. `None` means "no such method"; `Some(Err(msg))` is a
    /// runtime error raised by the method (for example a JSONPath syntax error).
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>>;
    /// What `$obj` renders as (Java `toString()`).
    fn render(&self) -> String {
        String::new()
    }
    /// For an object that stands for a map built on first need (API Gateway's `$context`):
    /// the map (built now). The evaluator answers a plain property read `$obj.name` through
    /// [`Object::get`] and uses this map for everything else (methods, `#foreach`, `#set`,
    /// rendering, passing the value on), so the object behaves exactly like the map.
    fn as_map(&self) -> Option<MapRef> {
        None
    }
}

impl List {
    pub fn new(kind: ListKind, items: Vec<Value>) -> List {
        List(Arc::new(Mutex::new(ListData { kind, items })))
    }
    /// Locks the list for reading or writing.
    pub fn lock(&self) -> MutexGuard<'_, ListData> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Whether both handles point at the same Java object.
    pub fn ptr_eq(&self, other: &List) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    /// The identity of the list (for cycle checks).
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }
    /// A copy of the items (cheap: values are reference-counted).
    pub fn items(&self) -> Vec<Value> {
        self.lock().items.clone()
    }
    pub fn kind(&self) -> ListKind {
        self.lock().kind
    }
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.lock().items.is_empty()
    }
}

impl MapRef {
    pub fn new(json: bool, entries: Map) -> MapRef {
        MapRef(Arc::new(Mutex::new(MapData { json, entries })))
    }
    /// Locks the map for reading or writing.
    pub fn lock(&self) -> MutexGuard<'_, MapData> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Whether both handles point at the same Java object.
    pub fn ptr_eq(&self, other: &MapRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    /// The identity of the map (for cycle checks).
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }
    /// A copy of the value under `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.lock().entries.get(key).cloned()
    }
    /// Inserts (or replaces, keeping the position) `key`.
    pub fn insert(&self, key: impl Into<Arc<str>>, value: Value) {
        self.lock().entries.insert(key.into(), value);
    }
}

// === iterative drop ===
//
// A template can nest collections very deeply (`#set($l = [$l])` in nested loops);
// dropping such a chain recursively would overflow the stack. These `Drop`s move the
// children of a collection they own last into one work list instead of recursing.

impl Drop for ListData {
    fn drop(&mut self) {
        if self.items.iter().any(is_collection) {
            drain_iteratively(std::mem::take(&mut self.items));
        }
    }
}

impl Drop for MapData {
    fn drop(&mut self) {
        if self.entries.values().any(is_collection) {
            drain_iteratively(std::mem::take(&mut self.entries).into_values().collect());
        }
    }
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::List(_) | Value::Map(_))
}

fn drain_iteratively(mut stack: Vec<Value>) {
    while let Some(v) = stack.pop() {
        match v {
            Value::List(List(arc)) => {
                if let Some(m) = Arc::into_inner(arc) {
                    let mut data = m.into_inner().unwrap_or_else(|e| e.into_inner());
                    stack.append(&mut data.items);
                }
            }
            Value::Map(MapRef(arc)) => {
                if let Some(m) = Arc::into_inner(arc) {
                    let mut data = m.into_inner().unwrap_or_else(|e| e.into_inner());
                    stack.extend(std::mem::take(&mut data.entries).into_values());
                }
            }
            other => drop(other),
        }
    }
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }
    /// A Java list (VTL literal semantics).
    pub fn java_list(items: Vec<Value>) -> Value {
        Value::List(List::new(ListKind::Java, items))
    }
    /// An empty `LinkedHashMap`.
    pub fn new_map() -> Value {
        Value::Map(MapRef::new(false, Map::default()))
    }
    /// A map value from entries.
    pub fn map(entries: Map) -> Value {
        Value::Map(MapRef::new(false, entries))
    }
    /// A host object.
    pub fn object(o: impl Object + 'static) -> Value {
        Value::Object(Arc::new(o))
    }

    /// Converts a JSON document the way Jayway JsonPath + json-smart hand it to Velocity:
    /// objects become maps, arrays become [`ListKind::Json`] lists, integers that fit an
    /// `int` become `Int`, larger ones `Long`, other numbers `Double`.
    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    match i32::try_from(i) {
                        Ok(i) => Value::Int(i),
                        Err(_) => Value::Long(i),
                    }
                } else {
                    Value::Double(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::string(s.as_str()),
            serde_json::Value::Array(a) => Value::List(List::new(
                ListKind::Json,
                a.iter().map(Value::from_json).collect(),
            )),
            serde_json::Value::Object(o) => Value::Map(MapRef::new(
                true,
                o.iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), Value::from_json(v)))
                    .collect(),
            )),
        }
    }

    /// Whether this is Java `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::string(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::string(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        match i32::try_from(i) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Long(i),
        }
    }
}

//! The Java methods templates may call on values: `String`, `List` (`ArrayList` and
//! json-smart `JSONArray`), `Map` (`LinkedHashMap`), numbers and booleans. One table
//! per receiver type; each entry is one function with its Java signature in the doc and
//! a unit test at the bottom of the file.
//!
//! String indexes count UTF-16 code units, as Java's do. A method that does not exist
//! (or whose arguments do not fit any overload) is [`MethodError::NoSuchMethod`], which
//! Velocity renders like a null; a Java exception is [`MethodError::Raised`].

use std::sync::Arc;

use super::ops::java_equals;
use super::regex;
use super::value::{Map, Object, Value};

/// Why a call produced no value.
#[derive(Debug)]
pub enum MethodError {
    /// No method of that name takes these arguments.
    NoSuchMethod,
    /// The method threw (the text reads like the Java exception).
    Raised(String),
}

type MethodResult = Result<Value, MethodError>;

/// One entry of the registry.
struct Method {
    name: &'static str,
    /// Accepted argument counts (inclusive).
    arity: (usize, usize),
    run: fn(&Value, &[Value]) -> MethodResult,
}

const fn m(name: &'static str, min: usize, max: usize, run: fn(&Value, &[Value]) -> MethodResult) -> Method {
    Method { name, arity: (min, max), run }
}

/// Calls `target.name(args)`.
pub fn call(target: &Value, name: &str, args: &[Value]) -> MethodResult {
    let table: &[Method] = match target {
        Value::String(_) => STRING,
        Value::List(_) => LIST,
        Value::Map(_) => MAP,
        Value::Int(_) | Value::Long(_) | Value::Double(_) => NUMBER,
        Value::Bool(_) => BOOLEAN,
        Value::Null | Value::Object(_) => return Err(MethodError::NoSuchMethod),
    };
    for method in table.iter().chain(ANY) {
        if method.name == name && (method.arity.0..=method.arity.1).contains(&args.len()) {
            return (method.run)(target, args);
        }
    }
    Err(MethodError::NoSuchMethod)
}

/// Property access `$x.name` on a plain value, the way Velocity's introspection
/// resolves it: maps look the key up; `empty` means `isEmpty()` for strings and lists.
pub fn property(target: &Value, name: &str) -> Value {
    match target {
        Value::Map(m) => m.get(name).unwrap_or(Value::Null),
        Value::Object(o) => o.get(name).unwrap_or(Value::Null),
        Value::String(_) | Value::List(_) if name == "empty" => {
            call(target, "isEmpty", &[]).unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

// === argument helpers ===

fn no_method<T>() -> Result<T, MethodError> {
    Err(MethodError::NoSuchMethod)
}

fn raised<T>(msg: impl Into<String>) -> Result<T, MethodError> {
    Err(MethodError::Raised(msg.into()))
}

/// A `String`/`CharSequence` argument; null throws as Java would.
fn str_arg(args: &[Value], i: usize) -> Result<&str, MethodError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Null) => raised("NullPointerException"),
        _ => no_method(),
    }
}

/// An `int` argument.
fn int_arg(args: &[Value], i: usize) -> Result<i64, MethodError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(i64::from(*n)),
        Some(Value::Long(n)) if i32::try_from(*n).is_ok() => Ok(*n),
        _ => no_method(),
    }
}

fn this_str(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn string(s: impl Into<Arc<str>>) -> MethodResult {
    Ok(Value::String(s.into()))
}

fn java_list(items: Vec<Value>) -> MethodResult {
    Ok(Value::java_list(items))
}

// === UTF-16 indexing ===

fn utf16_len(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.encode_utf16().count() }
}

/// The byte offset of UTF-16 index `idx` (which must be `<= len`).
fn byte_at(s: &str, idx: usize) -> usize {
    if s.is_ascii() {
        return idx.min(s.len());
    }
    let mut units = 0;
    for (b, c) in s.char_indices() {
        if units >= idx {
            return b;
        }
        units += c.len_utf16();
    }
    s.len()
}

fn utf16_index_of(s: &str, byte: usize) -> i64 {
    if s.is_ascii() { byte as i64 } else { s[..byte].encode_utf16().count() as i64 }
}

fn out_of_bounds(begin: i64, end: i64, len: usize) -> MethodError {
    MethodError::Raised(format!(
        "StringIndexOutOfBoundsException: begin {begin}, end {end}, length {len}"
    ))
}

// === String ===

static STRING: &[Method] = &[
    m("length", 0, 0, string_length),
    m("isEmpty", 0, 0, string_is_empty),
    m("contains", 1, 1, string_contains),
    m("startsWith", 1, 2, string_starts_with),
    m("endsWith", 1, 1, string_ends_with),
    m("indexOf", 1, 2, string_index_of),
    m("lastIndexOf", 1, 2, string_last_index_of),
    m("substring", 1, 2, string_substring),
    m("replace", 2, 2, string_replace),
    m("replaceAll", 2, 2, string_replace_all),
    m("replaceFirst", 2, 2, string_replace_first),
    m("split", 1, 2, string_split),
    m("toLowerCase", 0, 0, string_to_lower_case),
    m("toUpperCase", 0, 0, string_to_upper_case),
    m("trim", 0, 0, string_trim),
    m("equalsIgnoreCase", 1, 1, string_equals_ignore_case),
    m("charAt", 1, 1, string_char_at),
    m("matches", 1, 1, string_matches),
    m("concat", 1, 1, string_concat),
    m("compareTo", 1, 1, string_compare_to),
    m("hashCode", 0, 0, string_hash_code),
];

/// `int length()`: UTF-16 code units.
fn string_length(v: &Value, _: &[Value]) -> MethodResult {
    Ok(Value::from(utf16_len(this_str(v)) as i64))
}

/// `boolean isEmpty()`.
fn string_is_empty(v: &Value, _: &[Value]) -> MethodResult {
    Ok(Value::Bool(this_str(v).is_empty()))
}

/// `boolean contains(CharSequence s)`.
fn string_contains(v: &Value, a: &[Value]) -> MethodResult {
    Ok(Value::Bool(this_str(v).contains(str_arg(a, 0)?)))
}

/// `boolean startsWith(String prefix)`, `startsWith(String prefix, int offset)`.
fn string_starts_with(v: &Value, a: &[Value]) -> MethodResult {
    let s = this_str(v);
    let prefix = str_arg(a, 0)?;
    if a.len() == 2 {
        let off = int_arg(a, 1)?;
        if off < 0 || off as usize > utf16_len(s) {
            return Ok(Value::Bool(false));
        }
        return Ok(Value::Bool(s[byte_at(s, off as usize)..].starts_with(prefix)));
    }
    Ok(Value::Bool(s.starts_with(prefix)))
}

/// `boolean endsWith(String suffix)`.
fn string_ends_with(v: &Value, a: &[Value]) -> MethodResult {
    Ok(Value::Bool(this_str(v).ends_with(str_arg(a, 0)?)))
}

/// The needle of `indexOf`/`lastIndexOf`: a string, or an `int` character code.
fn needle(a: &[Value]) -> Result<String, MethodError> {
    match a.first() {
        Some(Value::Int(c)) => Ok(char::from_u32(*c as u32).map(String::from).unwrap_or_default()),
        _ => str_arg(a, 0).map(str::to_string),
    }
}

/// `int indexOf(String str)`, `indexOf(String str, int fromIndex)` (also `int ch`).
fn string_index_of(v: &Value, a: &[Value]) -> MethodResult {
    let s = this_str(v);
    let n = needle(a)?;
    let from = if a.len() == 2 { int_arg(a, 1)?.max(0) as usize } else { 0 };
    if from > utf16_len(s) {
        return Ok(Value::Int(if n.is_empty() { utf16_len(s) as i32 } else { -1 }));
    }
    let start = byte_at(s, from);
    Ok(Value::from(s[start..].find(&n).map_or(-1, |i| utf16_index_of(s, start + i))))
}

/// `int lastIndexOf(String str)`, `lastIndexOf(String str, int fromIndex)`.
fn string_last_index_of(v: &Value, a: &[Value]) -> MethodResult {
    let s = this_str(v);
    let n = needle(a)?;
    let found = if a.len() == 2 {
        let from = int_arg(a, 1)?;
        if from < 0 {
            return Ok(Value::Int(-1));
        }
        let limit = byte_at(s, (from as usize).min(utf16_len(s)));
        // The match may start at `from` at the latest.
        let end = (limit + n.len()).min(s.len());
        let end = (end..=s.len()).find(|&e| s.is_char_boundary(e)).unwrap_or(s.len());
        s[..end].rfind(&n)
    } else {
        s.rfind(&n)
    };
    Ok(Value::from(found.map_or(-1, |i| utf16_index_of(s, i))))
}

/// `String substring(int beginIndex)`, `substring(int beginIndex, int endIndex)`.
fn string_substring(v: &Value, a: &[Value]) -> MethodResult {
    let s = this_str(v);
    let len = utf16_len(s);
    let begin = int_arg(a, 0)?;
    let end = if a.len() == 2 { int_arg(a, 1)? } else { len as i64 };
    if begin < 0 || end > len as i64 || begin > end {
        return Err(out_of_bounds(begin, end, len));
    }
    if s.is_ascii() {
        return string(&s[begin as usize..end as usize]);
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    string(String::from_utf16_lossy(&units[begin as usize..end as usize]))
}

/// `String replace(CharSequence target, CharSequence replacement)`: every literal occurrence.
fn string_replace(v: &Value, a: &[Value]) -> MethodResult {
    string(this_str(v).replace(str_arg(a, 0)?, str_arg(a, 1)?))
}

fn regex_of(p: &str) -> Result<Arc<regex::JavaRegex>, MethodError> {
    regex::compile(p).map_err(MethodError::Raised)
}

/// `String replaceAll(String regex, String replacement)` (Java regex, `$1` groups).
fn string_replace_all(v: &Value, a: &[Value]) -> MethodResult {
    let r = regex_of(str_arg(a, 0)?)?;
    string(r.replace(this_str(v), str_arg(a, 1)?, false).map_err(MethodError::Raised)?)
}

/// `String replaceFirst(String regex, String replacement)`.
fn string_replace_first(v: &Value, a: &[Value]) -> MethodResult {
    let r = regex_of(str_arg(a, 0)?)?;
    string(r.replace(this_str(v), str_arg(a, 1)?, true).map_err(MethodError::Raised)?)
}

/// `String[] split(String regex)`, `split(String regex, int limit)`.
fn string_split(v: &Value, a: &[Value]) -> MethodResult {
    let r = regex_of(str_arg(a, 0)?)?;
    let limit = if a.len() == 2 { int_arg(a, 1)? as i32 } else { 0 };
    let parts = r.split(this_str(v), limit).map_err(MethodError::Raised)?;
    java_list(parts.into_iter().map(Value::from).collect())
}

/// `String toLowerCase()`.
fn string_to_lower_case(v: &Value, _: &[Value]) -> MethodResult {
    string(this_str(v).to_lowercase())
}

/// `String toUpperCase()`.
fn string_to_upper_case(v: &Value, _: &[Value]) -> MethodResult {
    string(this_str(v).to_uppercase())
}

/// `String trim()`: strips characters `<= ' '` from both ends (not Unicode spaces).
fn string_trim(v: &Value, _: &[Value]) -> MethodResult {
    let s = this_str(v);
    let t = s.trim_matches(|c: char| c <= ' ');
    if t.len() == s.len() { Ok(v.clone()) } else { string(t) }
}

/// `boolean equalsIgnoreCase(String other)`.
fn string_equals_ignore_case(v: &Value, a: &[Value]) -> MethodResult {
    let Some(Value::String(o)) = a.first() else {
        return Ok(Value::Bool(false));
    };
    let s = this_str(v);
    let same = s.chars().count() == o.chars().count()
        && s.chars().zip(o.chars()).all(|(x, y)| {
            x == y
                || x.to_uppercase().eq(y.to_uppercase())
                || x.to_lowercase().eq(y.to_lowercase())
        });
    Ok(Value::Bool(same))
}

/// `char charAt(int index)` (rendered as a one-character string).
fn string_char_at(v: &Value, a: &[Value]) -> MethodResult {
    let s = this_str(v);
    let i = int_arg(a, 0)?;
    let len = utf16_len(s);
    if i < 0 || i as usize >= len {
        return raised(format!("StringIndexOutOfBoundsException: index {i}, length {len}"));
    }
    let unit = s.encode_utf16().nth(i as usize).unwrap_or(0);
    string(String::from_utf16_lossy(&[unit]))
}

/// `boolean matches(String regex)`: the whole string must match.
fn string_matches(v: &Value, a: &[Value]) -> MethodResult {
    let r = regex_of(str_arg(a, 0)?)?;
    Ok(Value::Bool(r.matches_whole(this_str(v)).map_err(MethodError::Raised)?))
}

/// `String concat(String str)`.
fn string_concat(v: &Value, a: &[Value]) -> MethodResult {
    let mut s = this_str(v).to_string();
    s.push_str(str_arg(a, 0)?);
    string(s)
}

/// `int compareTo(String other)`: UTF-16 lexicographic difference, as Java.
fn string_compare_to(v: &Value, a: &[Value]) -> MethodResult {
    let (x, y) = (this_str(v), str_arg(a, 0)?);
    for (p, q) in x.encode_utf16().zip(y.encode_utf16()) {
        if p != q {
            return Ok(Value::Int(i32::from(p) - i32::from(q)));
        }
    }
    Ok(Value::Int(utf16_len(x) as i32 - utf16_len(y) as i32))
}

/// `int hashCode()`: Java's `s[0]*31^(n-1) + ... + s[n-1]`.
fn string_hash_code(v: &Value, _: &[Value]) -> MethodResult {
    let h = this_str(v).encode_utf16().fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)));
    Ok(Value::Int(h))
}

// === List ===

static LIST: &[Method] = &[
    m("size", 0, 0, list_size),
    m("get", 1, 1, list_get),
    m("isEmpty", 0, 0, list_is_empty),
    m("contains", 1, 1, list_contains),
    m("add", 1, 2, list_add),
    m("addAll", 1, 1, list_add_all),
    m("set", 2, 2, list_set),
    m("remove", 1, 1, list_remove),
    m("indexOf", 1, 1, list_index_of),
    m("lastIndexOf", 1, 1, list_last_index_of),
    m("subList", 2, 2, list_sub_list),
    m("clear", 0, 0, list_clear),
];

fn this_list(v: &Value) -> &super::value::List {
    match v {
        Value::List(l) => l,
        _ => unreachable!("invariant: list methods are only called on lists"),
    }
}

fn index_error(i: i64, len: usize) -> MethodError {
    MethodError::Raised(format!("IndexOutOfBoundsException: Index {i} out of bounds for length {len}"))
}

/// `int size()`.
fn list_size(v: &Value, _: &[Value]) -> MethodResult {
    Ok(Value::from(this_list(v).len() as i64))
}

/// `E get(int index)`.
fn list_get(v: &Value, a: &[Value]) -> MethodResult {
    let i = int_arg(a, 0)?;
    let l = this_list(v).lock();
    match usize::try_from(i).ok().and_then(|i| l.items.get(i)) {
        Some(x) => Ok(x.clone()),
        None => Err(index_error(i, l.items.len())),
    }
}

/// `boolean isEmpty()`.
fn list_is_empty(v: &Value, _: &[Value]) -> MethodResult {
    Ok(Value::Bool(this_list(v).is_empty()))
}

/// `boolean contains(Object o)`.
fn list_contains(v: &Value, a: &[Value]) -> MethodResult {
    Ok(Value::Bool(this_list(v).items().iter().any(|x| java_equals(x, &a[0]))))
}

/// `boolean add(E e)` (returns true), `void add(int index, E e)`.
fn list_add(v: &Value, a: &[Value]) -> MethodResult {
    let list = this_list(v);
    if a.len() == 2 {
        let i = int_arg(a, 0)?;
        let mut l = list.lock();
        let len = l.items.len();
        if i < 0 || i as usize > len {
            return Err(index_error(i, len));
        }
        l.items.insert(i as usize, a[1].clone());
        return Ok(Value::Null);
    }
    list.lock().items.push(a[0].clone());
    Ok(Value::Bool(true))
}

/// `boolean addAll(Collection c)`.
fn list_add_all(v: &Value, a: &[Value]) -> MethodResult {
    let Value::List(other) = &a[0] else { return no_method() };
    let items = other.items();
    let changed = !items.is_empty();
    this_list(v).lock().items.extend(items);
    Ok(Value::Bool(changed))
}

/// `E set(int index, E element)`: returns the previous element.
fn list_set(v: &Value, a: &[Value]) -> MethodResult {
    let i = int_arg(a, 0)?;
    let mut l = this_list(v).lock();
    let len = l.items.len();
    match usize::try_from(i).ok().and_then(|i| l.items.get_mut(i)) {
        Some(slot) => Ok(std::mem::replace(slot, a[1].clone())),
        None => Err(index_error(i, len)),
    }
}

/// `E remove(int index)`, `boolean remove(Object o)`.
fn list_remove(v: &Value, a: &[Value]) -> MethodResult {
    let list = this_list(v);
    if let Value::Int(i) = a[0] {
        let mut l = list.lock();
        let len = l.items.len();
        if i < 0 || i as usize >= len {
            return Err(index_error(i64::from(i), len));
        }
        return Ok(l.items.remove(i as usize));
    }
    let pos = list.items().iter().position(|x| java_equals(x, &a[0]));
    if let Some(p) = pos {
        list.lock().items.remove(p);
    }
    Ok(Value::Bool(pos.is_some()))
}

/// `int indexOf(Object o)`.
fn list_index_of(v: &Value, a: &[Value]) -> MethodResult {
    let pos = this_list(v).items().iter().position(|x| java_equals(x, &a[0]));
    Ok(Value::from(pos.map_or(-1, |p| p as i64)))
}

/// `int lastIndexOf(Object o)`.
fn list_last_index_of(v: &Value, a: &[Value]) -> MethodResult {
    let pos = this_list(v).items().iter().rposition(|x| java_equals(x, &a[0]));
    Ok(Value::from(pos.map_or(-1, |p| p as i64)))
}

/// `List subList(int fromIndex, int toIndex)` (a copy; renders as a Java list).
fn list_sub_list(v: &Value, a: &[Value]) -> MethodResult {
    let (from, to) = (int_arg(a, 0)?, int_arg(a, 1)?);
    let l = this_list(v).lock();
    let len = l.items.len() as i64;
    if from < 0 || to > len || from > to {
        return raised(format!("IndexOutOfBoundsException: fromIndex {from}, toIndex {to}, size {len}"));
    }
    java_list(l.items[from as usize..to as usize].to_vec())
}

/// `void clear()`.
fn list_clear(v: &Value, _: &[Value]) -> MethodResult {
    this_list(v).lock().items.clear();
    Ok(Value::Null)
}

// === Map ===

static MAP: &[Method] = &[
    m("get", 1, 1, map_get),
    m("put", 2, 2, map_put),
    m("putAll", 1, 1, map_put_all),
    m("containsKey", 1, 1, map_contains_key),
    m("containsValue", 1, 1, map_contains_value),
    m("keySet", 0, 0, map_key_set),
    m("values", 0, 0, map_values),
    m("entrySet", 0, 0, map_entry_set),
    m("size", 0, 0, map_size),
    m("isEmpty", 0, 0, map_is_empty),
    m("remove", 1, 1, map_remove),
];

fn this_map(v: &Value) -> &super::value::MapRef {
    match v {
        Value::Map(m) => m,
        _ => unreachable!("invariant: map methods are only called on maps"),
    }
}

/// Map keys are strings here; any other key finds nothing (as in Java, where
/// `Integer 1` never equals `"1"`).
fn key_of(v: &Value) -> Option<&str> {
    v.as_str()
}

/// `V get(Object key)`.
fn map_get(v: &Value, a: &[Value]) -> MethodResult {
    Ok(key_of(&a[0]).and_then(|k| this_map(v).get(k)).unwrap_or(Value::Null))
}

/// `V put(K key, V value)`: returns the previous value. Non-string keys are stored by
/// their `toString()`.
fn map_put(v: &Value, a: &[Value]) -> MethodResult {
    let key: Arc<str> = match &a[0] {
        Value::String(s) => s.clone(),
        other => other.to_java_string().into(),
    };
    Ok(this_map(v).lock().entries.insert(key, a[1].clone()).unwrap_or(Value::Null))
}

/// `void putAll(Map m)`.
fn map_put_all(v: &Value, a: &[Value]) -> MethodResult {
    let Value::Map(other) = &a[0] else { return no_method() };
    let entries: Map = other.lock().entries.clone();
    this_map(v).lock().entries.extend(entries);
    Ok(Value::Null)
}

/// `boolean containsKey(Object key)`.
fn map_contains_key(v: &Value, a: &[Value]) -> MethodResult {
    Ok(Value::Bool(key_of(&a[0]).is_some_and(|k| this_map(v).lock().entries.contains_key(k))))
}

/// `boolean containsValue(Object value)`.
fn map_contains_value(v: &Value, a: &[Value]) -> MethodResult {
    let values: Vec<Value> = this_map(v).lock().entries.values().cloned().collect();
    Ok(Value::Bool(values.iter().any(|x| java_equals(x, &a[0]))))
}

/// `Set<K> keySet()` (in insertion order; renders `[a, b]`).
fn map_key_set(v: &Value, _: &[Value]) -> MethodResult {
    java_list(this_map(v).lock().entries.keys().map(|k| Value::String(k.clone())).collect())
}

/// `Collection<V> values()`.
fn map_values(v: &Value, _: &[Value]) -> MethodResult {
    java_list(this_map(v).lock().entries.values().cloned().collect())
}

/// `Set<Map.Entry<K, V>> entrySet()`: entries render `k=v` and have `key`/`value`.
fn map_entry_set(v: &Value, _: &[Value]) -> MethodResult {
    let entries = this_map(v)
        .lock()
        .entries
        .iter()
        .map(|(k, v)| Value::object(MapEntry { key: k.clone(), value: v.clone() }))
        .collect();
    java_list(entries)
}

/// `int size()`.
fn map_size(v: &Value, _: &[Value]) -> MethodResult {
    Ok(Value::from(this_map(v).lock().entries.len() as i64))
}

/// `boolean isEmpty()`.
fn map_is_empty(v: &Value, _: &[Value]) -> MethodResult {
    Ok(Value::Bool(this_map(v).lock().entries.is_empty()))
}

/// `V remove(Object key)`: returns the removed value.
fn map_remove(v: &Value, a: &[Value]) -> MethodResult {
    Ok(key_of(&a[0])
        .and_then(|k| this_map(v).lock().entries.shift_remove(k))
        .unwrap_or(Value::Null))
}

/// A `Map.Entry` from `entrySet()`.
#[derive(Debug)]
pub struct MapEntry {
    pub key: Arc<str>,
    pub value: Value,
}

impl Object for MapEntry {
    fn get(&self, name: &str) -> Option<Value> {
        match name {
            "key" => Some(Value::String(self.key.clone())),
            "value" => Some(self.value.clone()),
            _ => None,
        }
    }
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match (name, args.len()) {
            ("getKey", 0) => Some(Ok(Value::String(self.key.clone()))),
            ("getValue", 0) => Some(Ok(self.value.clone())),
            ("toString", 0) => Some(Ok(Value::string(self.render()))),
            _ => None,
        }
    }
    fn render(&self) -> String {
        format!("{}={}", self.key, self.value.to_java_string())
    }
}

// === Number and Boolean ===

static NUMBER: &[Method] = &[
    m("intValue", 0, 0, number_int_value),
    m("longValue", 0, 0, number_long_value),
    m("doubleValue", 0, 0, number_double_value),
    m("compareTo", 1, 1, number_compare_to),
];

/// `int intValue()` (truncates like a Java cast).
fn number_int_value(v: &Value, _: &[Value]) -> MethodResult {
    Ok(match v {
        Value::Int(i) => Value::Int(*i),
        Value::Long(l) => Value::Int(*l as i32),
        Value::Double(d) => Value::Int(*d as i32),
        _ => Value::Null,
    })
}

/// `long longValue()`.
fn number_long_value(v: &Value, _: &[Value]) -> MethodResult {
    Ok(match v {
        Value::Int(i) => Value::Long(i64::from(*i)),
        Value::Long(l) => Value::Long(*l),
        Value::Double(d) => Value::Long(*d as i64),
        _ => Value::Null,
    })
}

/// `double doubleValue()`.
fn number_double_value(v: &Value, _: &[Value]) -> MethodResult {
    Ok(super::ops::as_f64(v).map_or(Value::Null, Value::Double))
}

/// `int compareTo(Number other)` (same class only, as Java).
fn number_compare_to(v: &Value, a: &[Value]) -> MethodResult {
    if std::mem::discriminant(v) != std::mem::discriminant(&a[0]) {
        return no_method();
    }
    match super::ops::compare_numbers(v, &a[0]) {
        Some(o) => Ok(Value::Int(o as i32)),
        None => no_method(),
    }
}

static BOOLEAN: &[Method] = &[m("booleanValue", 0, 0, boolean_value)];

/// `boolean booleanValue()`.
fn boolean_value(v: &Value, _: &[Value]) -> MethodResult {
    Ok(v.clone())
}

// === every object ===

static ANY: &[Method] = &[m("toString", 0, 0, any_to_string), m("equals", 1, 1, any_equals)];

/// `String toString()`.
fn any_to_string(v: &Value, _: &[Value]) -> MethodResult {
    match v {
        Value::String(_) => Ok(v.clone()),
        _ => string(v.to_java_string()),
    }
}

/// `boolean equals(Object o)`.
fn any_equals(v: &Value, a: &[Value]) -> MethodResult {
    Ok(Value::Bool(java_equals(v, &a[0])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vtl::value::ListKind;

    fn s(x: &str) -> Value {
        Value::string(x)
    }
    fn i(x: i32) -> Value {
        Value::Int(x)
    }
    /// Calls and renders the result with Java's `toString`.
    fn run(target: &Value, name: &str, args: &[Value]) -> String {
        call(target, name, args).expect("call succeeds").to_java_string()
    }
    fn list(items: &[Value]) -> Value {
        Value::java_list(items.to_vec())
    }
    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::map(pairs.iter().map(|(k, v)| (Arc::from(*k), v.clone())).collect())
    }

    #[test]
    fn string_length_counts_utf16_units() {
        assert_eq!(run(&s("héllo"), "length", &[]), "5");
        assert_eq!(run(&s("😀"), "length", &[]), "2");
    }
    #[test]
    fn string_is_empty_works() {
        assert_eq!(run(&s(""), "isEmpty", &[]), "true");
        assert_eq!(run(&s(" "), "isEmpty", &[]), "false");
    }
    #[test]
    fn string_contains_needs_a_string() {
        assert_eq!(run(&s("banana"), "contains", &[s("nan")]), "true");
        assert!(matches!(call(&s("banana"), "contains", &[i(1)]), Err(MethodError::NoSuchMethod)));
    }
    #[test]
    fn string_starts_with_optional_offset() {
        assert_eq!(run(&s(" hello"), "startsWith", &[s(" he")]), "true");
        assert_eq!(run(&s("hello"), "startsWith", &[s("ll"), i(2)]), "true");
    }
    #[test]
    fn string_ends_with_works() {
        assert_eq!(run(&s("hello"), "endsWith", &[s("lo")]), "true");
    }
    #[test]
    fn string_index_of_from_and_char_code() {
        assert_eq!(run(&s(" hello "), "indexOf", &[s("l")]), "3");
        assert_eq!(run(&s("hello"), "indexOf", &[s("l"), i(3)]), "3");
        assert_eq!(run(&s("héllo"), "indexOf", &[s("l")]), "2");
        assert_eq!(run(&s("hello"), "indexOf", &[i(111)]), "4");
        assert_eq!(run(&s("hello"), "indexOf", &[s("z")]), "-1");
    }
    #[test]
    fn string_last_index_of_works() {
        assert_eq!(run(&s("hello"), "lastIndexOf", &[s("l")]), "3");
        assert_eq!(run(&s("hello"), "lastIndexOf", &[s("l"), i(2)]), "2");
    }
    #[test]
    fn string_substring_and_bounds() {
        assert_eq!(run(&s(" hello "), "substring", &[i(1), i(4)]), "hel");
        assert_eq!(run(&s("hello"), "substring", &[i(2)]), "llo");
        assert_eq!(run(&s("héllo"), "substring", &[i(1), i(3)]), "él");
        assert!(matches!(call(&s("abc"), "substring", &[i(4)]), Err(MethodError::Raised(_))));
    }
    #[test]
    fn string_replace_is_literal() {
        assert_eq!(run(&s("a.b.c"), "replace", &[s("."), s("-")]), "a-b-c");
    }
    #[test]
    fn string_replace_all_uses_java_regex() {
        assert_eq!(run(&s("banana"), "replaceAll", &[s("(a+)"), s("<$1>")]), "b<a>n<a>n<a>");
        assert_eq!(run(&s("it\\'s"), "replaceAll", &[s("\\\\'"), s("'")]), "it's");
    }
    #[test]
    fn string_replace_first_replaces_once() {
        assert_eq!(run(&s("aaa"), "replaceFirst", &[s("a"), s("b")]), "baa");
    }
    #[test]
    fn string_split_returns_a_list() {
        assert_eq!(run(&s("a=1&b=2&c"), "split", &[s("&")]), "[a=1, b=2, c]");
        assert_eq!(run(&s("a,b,c"), "split", &[s(","), i(2)]), "[a, b,c]");
    }
    #[test]
    fn string_to_lower_case_works() {
        assert_eq!(run(&s("HeLLo"), "toLowerCase", &[]), "hello");
    }
    #[test]
    fn string_to_upper_case_works() {
        assert_eq!(run(&s(" hello "), "toUpperCase", &[]), " HELLO ");
    }
    #[test]
    fn string_trim_strips_control_and_space_only() {
        assert_eq!(run(&s(" \t hi\n"), "trim", &[]), "hi");
        assert_eq!(run(&s("\u{a0}x"), "trim", &[]), "\u{a0}x");
    }
    #[test]
    fn string_equals_compares_strings() {
        assert_eq!(run(&s("banana"), "equals", &[s("banana")]), "true");
        assert_eq!(run(&s("1"), "equals", &[i(1)]), "false");
    }
    #[test]
    fn string_equals_ignore_case_works() {
        assert_eq!(run(&s("banana"), "equalsIgnoreCase", &[s("BANANA")]), "true");
        assert_eq!(run(&s("banana"), "equalsIgnoreCase", &[Value::Null]), "false");
    }
    #[test]
    fn string_char_at_returns_one_char() {
        assert_eq!(run(&s("hello"), "charAt", &[i(1)]), "e");
        assert!(matches!(call(&s("hello"), "charAt", &[i(9)]), Err(MethodError::Raised(_))));
    }
    #[test]
    fn string_matches_whole_string() {
        assert_eq!(run(&s("banana"), "matches", &[s("b.*")]), "true");
        assert_eq!(run(&s("banana"), "matches", &[s("nan")]), "false");
    }
    #[test]
    fn string_concat_appends() {
        assert_eq!(run(&s("ab"), "concat", &[s("cd")]), "abcd");
    }
    #[test]
    fn string_to_string_is_itself() {
        assert_eq!(run(&s("x"), "toString", &[]), "x");
        assert_eq!(run(&Value::Double(2.0), "toString", &[]), "2.0");
    }
    #[test]
    fn string_compare_to_is_lexicographic() {
        assert_eq!(run(&s("a"), "compareTo", &[s("c")]), "-2");
        assert_eq!(run(&s("ab"), "compareTo", &[s("a")]), "1");
    }
    #[test]
    fn string_hash_code_is_javas() {
        assert_eq!(run(&s("hello"), "hashCode", &[]), "99162322");
    }

    #[test]
    fn list_size_counts() {
        assert_eq!(run(&list(&[i(1), i(2)]), "size", &[]), "2");
    }
    #[test]
    fn list_get_and_bounds() {
        assert_eq!(run(&list(&[s("x"), s("y")]), "get", &[i(1)]), "y");
        assert!(matches!(call(&list(&[]), "get", &[i(0)]), Err(MethodError::Raised(_))));
    }
    #[test]
    fn list_is_empty_works() {
        assert_eq!(run(&list(&[]), "isEmpty", &[]), "true");
    }
    #[test]
    fn list_contains_uses_equals() {
        assert_eq!(run(&list(&[s("a"), i(1)]), "contains", &[i(1)]), "true");
        assert_eq!(run(&list(&[s("a"), i(1)]), "contains", &[s("1")]), "false");
    }
    #[test]
    fn list_add_appends_and_inserts() {
        let l = list(&[i(1)]);
        assert_eq!(run(&l, "add", &[i(2)]), "true");
        call(&l, "add", &[i(0), i(0)]).unwrap();
        assert_eq!(l.to_java_string(), "[0, 1, 2]");
    }
    #[test]
    fn list_add_all_extends() {
        let l = list(&[i(1)]);
        call(&l, "addAll", &[list(&[i(2), i(3)])]).unwrap();
        assert_eq!(l.to_java_string(), "[1, 2, 3]");
    }
    #[test]
    fn list_set_replaces() {
        let l = list(&[i(1), i(2)]);
        assert_eq!(run(&l, "set", &[i(0), s("a")]), "1");
        assert_eq!(l.to_java_string(), "[a, 2]");
    }
    #[test]
    fn list_remove_by_index_or_value() {
        let l = list(&[s("a"), s("b"), s("c")]);
        assert_eq!(run(&l, "remove", &[i(0)]), "a");
        assert_eq!(run(&l, "remove", &[s("c")]), "true");
        assert_eq!(l.to_java_string(), "[b]");
    }
    #[test]
    fn list_index_of_finds_first() {
        assert_eq!(run(&list(&[s("a"), s("b"), s("a")]), "indexOf", &[s("a")]), "0");
        assert_eq!(run(&list(&[s("a")]), "indexOf", &[s("z")]), "-1");
    }
    #[test]
    fn list_last_index_of_finds_last() {
        assert_eq!(run(&list(&[s("a"), s("b"), s("a")]), "lastIndexOf", &[s("a")]), "2");
    }
    #[test]
    fn list_sub_list_copies_a_range() {
        assert_eq!(run(&list(&[i(1), i(2), i(3)]), "subList", &[i(1), i(3)]), "[2, 3]");
        assert!(matches!(call(&list(&[i(1)]), "subList", &[i(0), i(2)]), Err(MethodError::Raised(_))));
    }
    #[test]
    fn list_clear_empties() {
        let l = list(&[i(1)]);
        call(&l, "clear", &[]).unwrap();
        assert_eq!(l.to_java_string(), "[]");
    }
    #[test]
    fn list_to_string_java_and_json() {
        assert_eq!(run(&list(&[s("a"), i(1)]), "toString", &[]), "[a, 1]");
        let json = Value::List(super::super::value::List::new(ListKind::Json, vec![s("a"), i(1)]));
        assert_eq!(run(&json, "toString", &[]), "[\"a\",1]");
    }

    #[test]
    fn map_get_by_string_key() {
        let mp = map(&[("a", s("A")), ("1", s("one"))]);
        assert_eq!(run(&mp, "get", &[s("a")]), "A");
        assert!(call(&mp, "get", &[i(1)]).unwrap().is_null());
    }
    #[test]
    fn map_put_returns_previous() {
        let mp = map(&[]);
        assert!(call(&mp, "put", &[s("k"), s("x")]).unwrap().is_null());
        assert_eq!(run(&mp, "put", &[s("k"), s("y")]), "x");
        assert_eq!(mp.to_java_string(), "{k=y}");
    }
    #[test]
    fn map_put_all_merges() {
        let mp = map(&[("a", i(1))]);
        call(&mp, "putAll", &[map(&[("b", i(2))])]).unwrap();
        assert_eq!(mp.to_java_string(), "{a=1, b=2}");
    }
    #[test]
    fn map_contains_key_works() {
        assert_eq!(run(&map(&[("a", i(1))]), "containsKey", &[s("a")]), "true");
        assert_eq!(run(&map(&[("a", i(1))]), "containsKey", &[s("b")]), "false");
    }
    #[test]
    fn map_contains_value_works() {
        assert_eq!(run(&map(&[("a", i(1))]), "containsValue", &[i(1)]), "true");
    }
    #[test]
    fn map_key_set_keeps_order() {
        assert_eq!(run(&map(&[("z", i(1)), ("a", i(2))]), "keySet", &[]), "[z, a]");
    }
    #[test]
    fn map_values_keeps_order() {
        assert_eq!(run(&map(&[("z", i(1)), ("a", i(2))]), "values", &[]), "[1, 2]");
    }
    #[test]
    fn map_entry_set_entries() {
        let entries = call(&map(&[("k", s("v"))]), "entrySet", &[]).unwrap();
        assert_eq!(entries.to_java_string(), "[k=v]");
        let Value::List(l) = entries else { panic!("a list") };
        let Value::Object(e) = &l.items()[0] else { panic!("an entry") };
        assert_eq!(e.get("key").unwrap().to_java_string(), "k");
        assert_eq!(e.call("getValue", &[]).unwrap().unwrap().to_java_string(), "v");
    }
    #[test]
    fn map_size_counts() {
        assert_eq!(run(&map(&[("a", i(1))]), "size", &[]), "1");
    }
    #[test]
    fn map_is_empty_works() {
        assert_eq!(run(&map(&[]), "isEmpty", &[]), "true");
    }
    #[test]
    fn map_remove_returns_value() {
        let mp = map(&[("a", i(1)), ("b", i(2))]);
        assert_eq!(run(&mp, "remove", &[s("a")]), "1");
        assert_eq!(mp.to_java_string(), "{b=2}");
    }
    #[test]
    fn map_to_string_is_java() {
        assert_eq!(run(&map(&[("k", s("v")), ("n", i(2))]), "toString", &[]), "{k=v, n=2}");
    }

    #[test]
    fn number_conversions() {
        assert_eq!(run(&Value::Double(2.7), "intValue", &[]), "2");
        assert_eq!(run(&Value::Int(2), "doubleValue", &[]), "2.0");
        assert_eq!(run(&Value::Int(2), "longValue", &[]), "2");
        assert_eq!(run(&Value::Int(2), "compareTo", &[i(3)]), "-1");
    }
    #[test]
    fn boolean_value_is_itself() {
        assert_eq!(run(&Value::Bool(true), "booleanValue", &[]), "true");
    }
    #[test]
    fn unknown_methods_are_reported() {
        assert!(matches!(call(&s("x"), "nope", &[]), Err(MethodError::NoSuchMethod)));
        assert!(matches!(call(&Value::Null, "toString", &[]), Err(MethodError::NoSuchMethod)));
    }
    #[test]
    fn empty_property_means_is_empty() {
        assert_eq!(property(&s(""), "empty").to_java_string(), "true");
        assert!(property(&map(&[]), "empty").is_null());
    }
}

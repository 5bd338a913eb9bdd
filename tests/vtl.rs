//! Integration tests of the Velocity engine through its public API: the language as API
//! Gateway runs it, host objects, the writable `$context`, limits, error messages with
//! carets, and a property test that no input makes `parse` or `render` panic.

use std::sync::Arc;

use proptest::prelude::*;
use stepgate::vtl::{
    Context, ErrorKind, Limits, List, ListKind, Map, MapRef, Object, Template, Value,
};

fn render_with(src: &str, vars: &[(&str, Value)]) -> String {
    let t = Template::parse("t.vtl", src).unwrap_or_else(|e| panic!("parse failed: {e:#}"));
    let mut ctx = Context::new();
    for (k, v) in vars {
        ctx.insert(*k, v.clone());
    }
    t.render(&mut ctx)
        .unwrap_or_else(|e| panic!("render failed: {e:#}"))
}

fn render(src: &str) -> String {
    render_with(src, &[])
}

fn json(text: &str) -> Value {
    Value::from_json(&serde_json::from_str(text).expect("valid JSON"))
}

fn error(src: &str, vars: &[(&str, Value)]) -> stepgate::vtl::Error {
    let mut ctx = Context::new();
    for (k, v) in vars {
        ctx.insert(*k, v.clone());
    }
    match Template::parse("templates/t.vtl", src).and_then(|t| t.render(&mut ctx)) {
        Ok(out) => panic!("expected an error, rendered {out:?}"),
        Err(e) => e,
    }
}

// === references ===

#[test]
fn references_plain_braced_quiet_and_properties() {
    let m = json(r#"{"a": {"b": "deep"}, "x-y": 1}"#);
    assert_eq!(
        render_with("$m.a.b|${m.a.b}|$!m.a.b|$!{m.a.b}|$m.a.b.c|", &[("m", m)]),
        "deep|deep|deep|deep||"
    );
}

#[test]
fn hyphenated_names_are_one_reference() {
    let ctx = json(r#"{"header": {"X-Amz-Target": "T"}}"#);
    assert_eq!(render_with("$c.header.X-Amz-Target", &[("c", ctx)]), "T");
    assert_eq!(
        render_with(
            "$a-b",
            &[("a-b", Value::string("H")), ("a", Value::string("A"))]
        ),
        "H"
    );
}

#[test]
fn index_access_on_lists_and_maps() {
    let v = json(r#"{"l": [10, 20, 30], "m": {"k": "v", "a b": 1}}"#);
    assert_eq!(
        render_with(
            "$v.l[0] $v.l[-1] $v.m['k'] $v.m[\"a b\"] $v.l[$i]",
            &[("v", v), ("i", Value::Int(1))]
        ),
        "10 30 v 1 20"
    );
}

#[test]
fn index_out_of_bounds_is_a_render_error() {
    let e = error("$l[5]", &[("l", Value::java_list(vec![Value::Int(1)]))]);
    assert_eq!(e.kind(), ErrorKind::Render);
    assert_eq!(
        e.to_string(),
        "templates/t.vtl:1:3: index 5 is out of bounds for a list of 1 items"
    );
}

#[test]
fn escapes_of_references_and_directives() {
    let d = [("d", Value::string("D"))];
    assert_eq!(
        render_with(r"\$d \\$d \\\$d \$u \#if(true) \\#if(true)x#end", &d),
        r"$d \D \$d \$u #if(true) \x"
    );
}

// === null rule (API Gateway) ===

#[test]
fn null_and_missing_render_empty() {
    let m = json(r#"{"n": null}"#);
    assert_eq!(
        render_with(
            "[$missing][$m.n][$m.nope.deeper][$m.nope.length()]",
            &[("m", m)]
        ),
        "[][][][]"
    );
}

#[test]
fn null_equals_empty_string() {
    assert_eq!(
        render(
            r#"#if($nope == "")eq#end #if($nope != '')ne#{else}not-ne#end #if($nope == $other)nn#end"#
        ),
        "eq not-ne nn"
    );
    assert_eq!(render("#if($nope)t#{else}f#end"), "f");
}

#[test]
fn set_with_null_keeps_the_old_value() {
    assert_eq!(render("#set($x = 'a')#set($x = $nope)$x"), "a");
}

// === directives ===

#[test]
fn if_elseif_else_chain() {
    assert_eq!(
        render("#set($n = 5)#if($n < 3)small#elseif($n < 10)medium#{else}large#end"),
        "medium"
    );
}

#[test]
fn foreach_loop_variables() {
    assert_eq!(
        render(
            r#"#foreach($i in ["a","b","c"])$foreach.index/$foreach.count/$velocityCount/$foreach.hasNext/$foreach.first/$foreach.last;#end"#
        ),
        "0/1/1/true/true/false;1/2/2/true/false/false;2/3/3/false/false/true;"
    );
}

#[test]
fn foreach_over_map_iterates_values_and_restores_the_variable() {
    let m = json(r#"{"a": 1, "b": 2}"#);
    assert_eq!(
        render_with("#set($v = 'keep')#foreach($v in $m)$v,#end$v", &[("m", m)]),
        "1,2,keep"
    );
}

#[test]
fn ranges_ascending_descending_and_from_variables() {
    assert_eq!(
        render(
            "#foreach($i in [1..3])$i#end|#foreach($i in [3..1])$i#end|#set($a=2)#set($b=4)#foreach($i in [$a..$b])$i#end"
        ),
        "123|321|234"
    );
}

#[test]
fn break_and_stop() {
    assert_eq!(
        render("#foreach($i in [1..5])#if($i == 3)#break#end$i#end|after#stop|unreached"),
        "12|after"
    );
}

#[test]
fn macros_with_arguments_and_forward_calls() {
    assert_eq!(
        render("#m(1)|#macro(m $x)[$x]#end#m('two') #nomacro(3)"),
        "[1]|[two] #nomacro(3)"
    );
}

#[test]
fn define_renders_lazily() {
    assert_eq!(
        render("#define($blk)[$v]#end#set($v = 1)$blk#set($v = 2)$blk"),
        "[1][2]"
    );
}

#[test]
fn comments_and_unparsed_blocks() {
    assert_eq!(
        render("a## line comment\nb#* block\ncomment *#c#[[ $not #parsed ]]#d"),
        "abc $not #parsed d"
    );
}

// === literals and operators ===

#[test]
fn string_literals_single_and_double_quoted() {
    assert_eq!(
        render(
            r#"#set($n = "w")#set($a = 'x$n')#set($b = "x$n")#set($c = "say ""hi""")#set($d = 'it''s')$a|$b|$c|$d"#
        ),
        r#"x$n|xw|say "hi"|it's"#
    );
}

#[test]
fn double_quoted_strings_take_unicode_escapes_only() {
    assert_eq!(
        render(
            r#"#set($a = "a\u0041\n")#set($b = 'a\u0041')#set($s = 'café')$a|$b|$s.replaceAll("\u00e9", "e")"#
        ),
        r"aA\n|a\u0041|cafe"
    );
}

#[test]
fn list_and_map_literals_render_like_java() {
    assert_eq!(
        render(r#"#set($l = ["a", 1, true, 2.5])#set($m = {"k": "v", "n": [1, 2]})$l $m"#),
        "[a, 1, true, 2.5] {k=v, n=[1, 2]}"
    );
}

#[test]
fn integer_math_is_java() {
    // (Blanks between a reference and `#set` are dropped, as in Velocity 1.7.)
    assert_eq!(
        render(
            "#set($a = 7 / 2)$a|#set($a = -7 / 2)$a|#set($a = 7 % 2)$a|#set($a = 2147483647 + 1)$a|#set($a = 7.0 / 2)$a"
        ),
        "3|-3|1|2147483648|3.5"
    );
}

#[test]
fn division_by_zero_is_null() {
    assert_eq!(render("#set($a = 'kept')#set($a = 1 / 0)$a"), "kept");
}

#[test]
fn comparisons_and_word_operators() {
    assert_eq!(
        render(
            r#"#if("1" == 1)a#end#if(1 == 1.0)b#end#if(2 gt 1 and 1 le 1)c#end#if(not false)d#end#if("b" > "a")x#end#if(1 ne 2 || false)e#end"#
        ),
        "abcde"
    );
}

#[test]
fn string_concatenation_with_plus() {
    assert_eq!(
        render(r#"#set($s = "a" + 1)$s|#set($t = [1, 2] + "x")$t|#set($u = "a" + $nope)$u"#),
        "a1|[1, 2]x|a$nope"
    );
}

#[test]
fn doubles_render_like_java() {
    let d = json("[1.0, 1.5e10, 0.0001, 12345678.9, 100]");
    assert_eq!(
        render_with("#foreach($x in $d)$x #end", &[("d", d)]),
        "1.0 1.5E10 1.0E-4 1.23456789E7 100 "
    );
}

// === values from JSON ===

#[test]
fn json_arrays_render_as_compact_json() {
    let v = json(r#"{"a": ["x/y", 1, {"k": null}], "m": {"l": [1, "s"]}}"#);
    assert_eq!(
        render_with("$v.a|$v.m|$v", &[("v", v)]),
        r#"["x\/y",1,{"k":null}]|{l=[1,"s"]}|{a=["x\/y",1,{"k":null}], m={l=[1,"s"]}}"#
    );
}

#[test]
fn methods_on_json_values() {
    let v = json(r#"{"s": "banana", "l": [1, 2, 3], "m": {"z": 1, "a": 2}}"#);
    assert_eq!(
        render_with(
            r#"$v.s.replaceAll("(a+)", "<$1>") $v.l.size() $v.l.contains(2) $v.m.keySet() $v.s.split("n").size()"#,
            &[("v", v)]
        ),
        "b<a>n<a>n<a> 3 true [z, a] 3"
    );
}

// === whitespace (Velocity 1.7) ===

#[test]
fn directive_lines_lose_their_newline_keep_indentation() {
    assert_eq!(render("#set($a = 1)\nX\n#set($b = 2)\nY$a$b"), "X\nY12");
    assert_eq!(render("A\n    #set($b = 2)\nB"), "A\n    B");
    assert_eq!(render("#if(true)\na\n#else\nb\n#end\nc"), "a\nc");
    assert_eq!(
        render("#foreach($i in [1,2])\n  - $i\n#end\nz"),
        "  - 1\n  - 2\nz"
    );
}

#[test]
fn blanks_before_set_after_a_reference_are_dropped() {
    assert_eq!(
        render_with(
            "$a  #set($x = 1)b|a  #set($x = 1)b",
            &[("a", Value::string("A"))]
        ),
        "Ab|a  b"
    );
}

#[test]
fn crlf_line_ends_are_swallowed_too() {
    assert_eq!(render("a\r\n#set($x = 1)\r\nb$x\r\n"), "a\r\nb1\r\n");
}

// === the context API ===

#[test]
fn context_map_is_writable_through_set() {
    let mut root = Map::default();
    let mut response = Map::default();
    response.insert(Arc::from("header"), Value::new_map());
    root.insert(Arc::from("responseOverride"), Value::map(response));
    let mut request = Map::default();
    request.insert(Arc::from("header"), Value::new_map());
    root.insert(Arc::from("requestOverride"), Value::map(request));
    let context = MapRef::new(false, root);

    let t = Template::parse(
        "t.vtl",
        "#set($context.responseOverride.status = 500)\n#set($context.requestOverride.header.X-Amz-Target = 'x')\n#set($answer = 42)ok",
    )
    .unwrap();
    let mut ctx = Context::new();
    ctx.insert("context", Value::Map(context.clone()));
    assert_eq!(t.render(&mut ctx).unwrap(), "ok");

    let status = context.get("responseOverride").and_then(|r| match r {
        Value::Map(m) => m.get("status"),
        _ => None,
    });
    assert!(matches!(status, Some(Value::Int(500))), "{status:?}");
    assert_eq!(
        Value::Map(context).to_java_string(),
        "{responseOverride={header={}, status=500}, requestOverride={header={X-Amz-Target=x}}}"
    );
    assert!(matches!(ctx.get("answer"), Some(Value::Int(42))));
}

#[test]
fn set_into_maps_and_lists_by_index() {
    assert_eq!(
        render(
            r#"#set($m = {})#set($k = "b")#set($m.a = 1)#set($m[$k] = 2)#set($l = [0, 0])#set($l[1] = 9)$m $l"#
        ),
        "{a=1, b=2} [0, 9]"
    );
}

#[test]
fn collections_are_shared_like_java_references() {
    assert_eq!(
        render("#set($a = [])#set($b = $a)#set($ignored = $b.add(1))$a"),
        "[1]"
    );
}

/// A host object like `$util`.
#[derive(Debug)]
struct Util;

impl Object for Util {
    fn get(&self, name: &str) -> Option<Value> {
        (name == "version").then(|| Value::string("1"))
    }
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match (name, args) {
            ("shout", [Value::String(s)]) => Some(Ok(Value::string(s.to_uppercase()))),
            ("fail", _) => Some(Err("InvalidJsonPath: bad path".into())),
            _ => None,
        }
    }
    fn render(&self) -> String {
        "Util".into()
    }
}

#[test]
fn host_objects_get_call_and_render() {
    let u = [("util", Value::object(Util))];
    assert_eq!(
        render_with("$util.version $util.shout('hi') [$util.nope()] $util", &u),
        "1 HI [] Util"
    );
    let e = error("x\n  $util.fail('$')", &u);
    assert_eq!(e.kind(), ErrorKind::Render);
    assert_eq!(
        e.to_string(),
        "templates/t.vtl:2:9: `fail` failed: InvalidJsonPath: bad path"
    );
}

/// A map-like host object, like the nested maps of `$context`.
#[derive(Debug)]
struct Bag(MapRef);

impl Object for Bag {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match (name, args) {
            ("put", [Value::String(k), v]) => Some(Ok(self
                .0
                .lock()
                .entries
                .insert(k.clone(), v.clone())
                .unwrap_or(Value::Null))),
            ("values", []) => Some(Ok(Value::java_list(
                self.0.lock().entries.values().cloned().collect(),
            ))),
            _ => None,
        }
    }
}

#[test]
fn map_like_host_objects_take_set_and_foreach() {
    let bag = MapRef::new(false, Map::default());
    let out = render_with(
        "#set($b.X-One = 1)#set($k = 'two')#set($b[$k] = 2)#foreach($v in $b)$v;#end",
        &[("b", Value::object(Bag(bag.clone())))],
    );
    assert_eq!(out, "1;2;");
    assert_eq!(Value::Map(bag).to_java_string(), "{X-One=1, two=2}");
}

#[test]
fn templates_render_from_many_threads() {
    let t = Arc::new(
        Template::parse(
            "t.vtl",
            "#foreach($i in [1..3])#set($x = \"${n}-$i\")$x,#end",
        )
        .unwrap(),
    );
    let handles: Vec<_> = (0..4)
        .map(|n| {
            let t = t.clone();
            std::thread::spawn(move || {
                let mut ctx = Context::new();
                ctx.insert("n", Value::Int(n));
                t.render(&mut ctx).unwrap()
            })
        })
        .collect();
    for (n, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), format!("{n}-1,{n}-2,{n}-3,"));
    }
}

#[test]
fn list_literals_are_fresh_on_every_render() {
    let t = Template::parse("t.vtl", "#set($l = [])#set($ignored = $l.add(1))$l").unwrap();
    assert_eq!(t.render(&mut Context::new()).unwrap(), "[1]");
    assert_eq!(t.render(&mut Context::new()).unwrap(), "[1]");
}

// === limits ===

#[test]
fn foreach_over_1000_items_is_a_limit_error() {
    assert_eq!(
        render("#set($n = 0)#foreach($i in [1..1000])#set($n = $n + 1)#end$n"),
        "1000"
    );
    let e = error("#foreach($i in [1..1001])#end", &[]);
    assert_eq!(e.kind(), ErrorKind::Limit);
    assert_eq!(
        e.to_string(),
        "templates/t.vtl:1:1: #foreach would run 1001 iterations; the limit is 1000"
    );
}

#[test]
fn recursion_depth_is_limited() {
    let e = error("#macro(r)x#r()#end#r()", &[]);
    assert_eq!(e.kind(), ErrorKind::Limit);
    assert!(e.to_string().contains("nest deeper than 64 levels"), "{e}");
    // Even a caller asking for more cannot overflow a 2 MiB thread stack.
    let worker = std::thread::Builder::new().stack_size(2 << 20).spawn(|| {
        let t = Template::parse(
            "t.vtl",
            "#macro(r $n)#if($n > 0)#set($m = $n - 1)#r($m)#end#end#r(100000)",
        )
        .unwrap();
        let mut ctx = Context::with_limits(Limits {
            max_depth: usize::MAX,
            ..Limits::default()
        });
        t.render(&mut ctx).map_err(|e| e.kind())
    });
    assert_eq!(
        worker.unwrap().join().expect("no stack overflow"),
        Err(ErrorKind::Limit)
    );
}

#[test]
fn output_size_is_limited() {
    let t = Template::parse("t.vtl", "#foreach($i in [1..100])0123456789#end").unwrap();
    let mut ctx = Context::with_limits(Limits {
        max_output: 500,
        ..Limits::default()
    });
    let e = t.render(&mut ctx).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit);
    let e = Template::parse(
        "t.vtl",
        "#set($s = 'ab')#foreach($i in [1..40])#set($s = \"$s$s\")#end",
    )
    .unwrap()
    .render(&mut Context::with_limits(Limits {
        max_output: 1 << 16,
        ..Limits::default()
    }))
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
}

#[test]
fn very_deep_values_render_compare_and_drop_without_overflow() {
    let worker = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| {
            let mut v = Value::Int(1);
            for i in 0..200_000 {
                v = if i % 2 == 0 {
                    Value::java_list(vec![v])
                } else {
                    let mut m = Map::default();
                    m.insert(Arc::from("k"), v);
                    Value::map(m)
                };
            }
            let shown = v.to_java_string();
            let same = stepgate::vtl::Value::clone(&v);
            let t = Template::parse("t.vtl", "#if($v == $w)eq#end").unwrap();
            let mut ctx = Context::new();
            ctx.insert("v", v);
            ctx.insert("w", same);
            let out = t.render(&mut ctx).unwrap();
            drop(ctx);
            (shown.len(), out)
        });
    let (len, out) = worker.unwrap().join().expect("no stack overflow");
    assert!(
        len > 0 && len < 10_000,
        "rendering stops at a nesting cap ({len} bytes)"
    );
    assert_eq!(out, "eq");
}

#[test]
fn nested_loops_have_a_total_budget() {
    let t = Template::parse(
        "t.vtl",
        &format!(
            "{}x{}",
            "#foreach($a in [1..10])".repeat(5),
            "#end".repeat(5)
        ),
    )
    .unwrap();
    let mut ctx = Context::with_limits(Limits {
        max_foreach: 10,
        ..Limits::default()
    });
    assert_eq!(t.render(&mut ctx).unwrap_err().kind(), ErrorKind::Limit);
}

// === errors with carets ===

#[test]
fn error_unexpected_end_snapshot() {
    let e = error(
        "#set($body = $input.json('$'))\n{\n  \"input\": #end\n}",
        &[],
    );
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!(
        format!("{e}"),
        "templates/t.vtl:3:12: unexpected `#end` with no open `#if`, `#foreach`, `#macro` or `#define`"
    );
    assert_eq!(
        format!("{e:#}"),
        "error: syntax error: unexpected `#end` with no open `#if`, `#foreach`, `#macro` or `#define`
  --> templates/t.vtl:3:12
   |
 1 | #set($body = $input.json('$'))
 2 | {
 3 |   \"input\": #end
   |            ^^^^ unexpected `#end`
 4 | }
   |"
    );
}

#[test]
fn error_unclosed_if_snapshot() {
    let e = error("a\n#if($x)\nb\n", &[]);
    assert_eq!(
        format!("{e:#}"),
        "error: syntax error: `#if` is never closed with `#end`
  --> templates/t.vtl:2:1
   |
 1 | a
 2 | #if($x)
   | ^^^ `#if` opened here is never closed (end of template at 4:1)
 3 | b
 4 |
   |"
    );
}

#[test]
fn error_bad_expression_snapshot() {
    let e = error("#set($x = 1 + )", &[]);
    assert_eq!(
        format!("{e:#}"),
        "error: syntax error: unexpected `)`, expected an expression
  --> templates/t.vtl:1:15
   |
 1 | #set($x = 1 + )
   |               ^ unexpected `)`
   |"
    );
}

#[test]
fn error_string_escape_is_not_velocity() {
    let e = error(r#"#set($s = "a\"b")$s"#, &[]);
    assert_eq!(
        e.to_string(),
        "templates/t.vtl:1:15: unexpected `b`, expected `)`"
    );
}

#[test]
fn error_method_exception_snapshot() {
    let e = error("$s.substring(5)", &[("s", Value::string("abc"))]);
    assert_eq!(
        format!("{e:#}"),
        "error: render error: `substring` failed: StringIndexOutOfBoundsException: begin 5, end 3, length 3
  --> templates/t.vtl:1:4
   |
 1 | $s.substring(5)
   |    ^^^^^^^^^^^^ `substring` failed here
   |"
    );
}

#[test]
fn unsupported_directives_are_errors() {
    assert_eq!(error("#include('x')", &[]).kind(), ErrorKind::Syntax);
    assert_eq!(
        error("#if x", &[]).to_string(),
        "templates/t.vtl:1:1: `#if` must be followed by `(`"
    );
}

// === no panics, whatever the input ===

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("#set($a = ".to_string()),
        Just("#if(".to_string()),
        Just("#elseif(".to_string()),
        Just("#else".to_string()),
        Just("#end".to_string()),
        Just("#foreach($i in ".to_string()),
        Just("#macro(m $p)".to_string()),
        Just("#m(".to_string()),
        Just("#define($d)".to_string()),
        Just("#break".to_string()),
        Just("#stop".to_string()),
        Just("$a".to_string()),
        Just("$!{a.b".to_string()),
        Just("$a.b(".to_string()),
        Just("$l[".to_string()),
        Just("[1..".to_string()),
        Just("{'k': ".to_string()),
        Just("\"$a".to_string()),
        Just("'x".to_string()),
        Just(")".to_string()),
        Just("]".to_string()),
        Just("}".to_string()),
        Just(",".to_string()),
        Just(" + ".to_string()),
        Just(" / 0".to_string()),
        Just(" == ".to_string()),
        Just("\\".to_string()),
        Just("##".to_string()),
        Just("#*".to_string()),
        Just("*#".to_string()),
        Just("#[[".to_string()),
        Just("]]#".to_string()),
        Just("\n".to_string()),
        Just("2147483647".to_string()),
        Just("-1".to_string()),
        Just("1.5E3".to_string()),
        Just(".split('(')".to_string()),
        Just(".replaceAll('[', '$9')".to_string()),
        Just(".substring(-1)".to_string()),
        "[a-z$#(){}\\[\\]\"'.!, 0-9]{0,6}",
    ]
}

fn small_limits() -> Limits {
    Limits {
        max_foreach: 50,
        max_depth: 16,
        max_output: 1 << 16,
    }
}

fn try_render(src: &str) {
    if let Ok(t) = Template::parse("fuzz.vtl", src) {
        let mut ctx = Context::with_limits(small_limits());
        ctx.insert("a", Value::string("A"));
        ctx.insert(
            "l",
            Value::List(List::new(ListKind::Json, vec![Value::Int(1)])),
        );
        let _ = t.render(&mut ctx);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_and_render_never_panic_on_fragments(parts in proptest::collection::vec(fragment(), 0..24)) {
        let src: String = parts.concat();
        try_render(&src);
    }

    #[test]
    fn parse_and_render_never_panic_on_any_text(src in "\\PC{0,80}") {
        try_render(&src);
    }

    #[test]
    fn parse_and_render_never_panic_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        try_render(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn errors_always_display(parts in proptest::collection::vec(fragment(), 1..12)) {
        let src: String = parts.concat();
        if let Err(e) = Template::parse("fuzz.vtl", &src) {
            let one = e.to_string();
            prop_assert!(one.starts_with("fuzz.vtl:"), "{}", one);
            prop_assert!(!one.contains('\n'), "{}", one);
            let block = format!("{e:#}");
            prop_assert!(block.contains("--> fuzz.vtl:"), "{}", block);
        }
    }
}

#[test]
fn deep_nesting_is_a_syntax_error_not_a_stack_overflow() {
    let src = "#if(true)".repeat(5000);
    assert_eq!(
        Template::parse("t", &src).unwrap_err().kind(),
        ErrorKind::Syntax
    );
    let src = format!("#set($x = {}1{})", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        Template::parse("t", &src).unwrap_err().kind(),
        ErrorKind::Syntax
    );
    let src = format!("#set($x = {}1)", "!".repeat(5000));
    assert_eq!(
        Template::parse("t", &src).unwrap_err().kind(),
        ErrorKind::Syntax
    );
    let src = format!("#set($x = {}1{})", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(
        Template::parse("t", &src).unwrap_err().kind(),
        ErrorKind::Syntax
    );
    let src = format!("#set($x = \"{}\")", "$a.b(\"".repeat(3000));
    assert!(Template::parse("t", &src).is_err());
}

/// Velocity 1.7 (checked with the oracle in ../shared/tools/velocity-oracle): `$a.b(` as the
/// last characters of a template is text, but any unclosed argument list is a syntax error.
#[test]
fn unclosed_method_call_is_text_only_at_the_very_end() {
    assert_eq!(render("x $a.b("), "x (");
    for src in ["x $a.b( y", "x $a.b(1", "x $a.b(1 y", "{\"a\": $util.escapeJavaScript(\n"] {
        let e = Template::parse("t.vtl", src).expect_err(src);
        assert_eq!(e.kind(), ErrorKind::Syntax, "{src}: {e:#}");
    }
}
